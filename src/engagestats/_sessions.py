"""Internal helper of the change, Talking Therapies and engagement modules.

:func:`_first_last` finds each client's first and last scored session in a long sessions
table. The tables themselves come from :func:`engagestats._validate.as_table`, missing scores
from :func:`engagestats.scoring.ensure_scores` and instruments from
:func:`engagestats.instruments.resolve`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from ._validate import require_columns
from .errors import DataValidationError


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
    require_columns(table, [client, session, *columns], table="sessions")
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
