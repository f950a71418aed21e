"""Internal helpers for the change, Talking Therapies and engagement modules.

Long sessions tables: pick the sessions table of a Study, score missing
score columns, find each client's first and last scored session; and the
instrument registry look-up.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from .errors import DataValidationError, InstrumentError


def _instrument_defaults(instrument: str) -> Any:
    """The registered instrument; :class:`InstrumentError` for unknown names."""
    from . import instruments

    try:
        return instruments.get(instrument)
    except InstrumentError:
        raise
    except (KeyError, ValueError) as exc:
        raise InstrumentError(f"unknown instrument {instrument!r}") from exc


def _sessions_table(data: Any, *, attended_only: bool = True) -> pd.DataFrame:
    """The sessions DataFrame of a Study (attended rows), or the DataFrame itself."""
    from .study import Study

    if isinstance(data, Study):
        sessions = data.sessions
        if attended_only and "attended" in sessions.columns:
            sessions = sessions.loc[sessions["attended"] == 1]
        return sessions
    if isinstance(data, pd.DataFrame):
        return data
    raise TypeError(f"expected a Study or a DataFrame, got {type(data).__name__}")


def _resolve_instrument(name: str) -> Any:
    """A registered instrument, or the packaged example of that name (``srq``)."""
    from . import instruments

    try:
        return instruments.get(name)
    except InstrumentError:
        example = getattr(instruments, f"example_{name}", None)
        if example is None:
            raise
        return example()


def _ensure_scores(
    data: Any, table: pd.DataFrame, columns: Sequence[str], *, name: str = "sessions"
) -> pd.DataFrame:
    """Add missing score columns ``<instrument>_<subscale>`` by scoring the items.

    Uses :func:`engagestats.scoring.score` on the item columns
    ``<instrument>_<number>``; raises :class:`DataValidationError` naming the
    columns that are neither present nor scorable.
    """
    missing = [c for c in columns if c not in table.columns]
    if not missing:
        return table
    from .scoring import score

    problems = []
    for col in missing:
        inst = col.rsplit("_", 1)[0]
        has_items = any(
            str(c).startswith(inst + "_") and str(c)[len(inst) + 1 :].isdigit()
            for c in table.columns
        )
        if not has_items:
            problems.append(
                {
                    "file": name,
                    "column": col,
                    "value": None,
                    "problem": "score column missing and no item columns to score it from",
                }
            )
            continue
        scored = score(table, _resolve_instrument(inst))
        if col not in scored.columns:
            problems.append(
                {
                    "file": name,
                    "column": col,
                    "value": None,
                    "problem": f"instrument {inst!r} does not produce this score",
                }
            )
            continue
        table = table.assign(**{col: scored[col].to_numpy(dtype=float)})
    if problems:
        raise DataValidationError(problems, "Score columns are missing")
    return table


def _check_columns(table: pd.DataFrame, columns: Sequence[str], name: str) -> None:
    problems = [
        {"file": name, "column": c, "value": None, "problem": "required column is missing"}
        for c in columns
        if c not in table.columns
    ]
    if problems:
        raise DataValidationError(problems, f"The {name} table lacks required columns")


def _first_last(
    table: pd.DataFrame,
    columns: Sequence[str],
    *,
    client: str,
    session: str,
    clients: Sequence[Any] | None = None,
) -> pd.DataFrame:
    """First and last session where all ``columns`` are present, per client.

    Internal helper shared by the change, Talking Therapies and engagement
    functions. Returns one row per client (every client in ``clients`` or in
    ``table``) with ``n_scored``, ``first_session``, ``last_session`` and
    ``<col>_first`` / ``<col>_last`` for each column.
    """
    _check_columns(table, [client, session, *columns], "sessions")
    keyless = table[client].isna() | table[session].isna()
    if keyless.any():
        raise DataValidationError(
            [
                {
                    "file": "sessions",
                    "row": idx,
                    "column": client if pd.isna(table.at[idx, client]) else session,
                    "value": None,
                    "problem": "missing key: every session row needs a client and a session "
                    "number to be ordered",
                }
                for idx in table.index[keyless]
            ],
            "Session rows without a client or session number",
        )
    ok = table[list(columns)].notna().all(axis=1)
    scored = table.loc[ok, [client, session, *columns]].sort_values(
        [client, session], kind="stable"
    )
    g = scored.groupby(client, sort=False)
    first = g.head(1).set_index(client)
    last = g.tail(1).set_index(client)
    if clients is None:
        clients = pd.unique(table[client])
    idx = pd.Index(list(clients), name=client)
    out = pd.DataFrame(index=idx)
    out["n_scored"] = g.size().reindex(idx).fillna(0).astype(int)
    out["first_session"] = first[session].reindex(idx)
    out["last_session"] = last[session].reindex(idx)
    for c in columns:
        out[f"{c}_first"] = first[c].reindex(idx).astype(float)
        out[f"{c}_last"] = last[c].reindex(idx).astype(float)
    return out
