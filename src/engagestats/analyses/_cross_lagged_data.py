"""Private: long session data -> the wide occasion-indexed panel of :func:`cross_lagged`."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._validate import as_table, require_columns
from ..errors import DataValidationError, ModelSpecError
from ..study import Study
from ._panel import Exclusions, scored_study, with_sum_scales

__all__ = ["MIN_CLIENTS_PER_WAVE", "wide_panel"]

#: With ``waves=None`` the panel runs to the last occasion before the first one at which
#: fewer than this many clients have a value of either variable.
MIN_CLIENTS_PER_WAVE = 10


def wide_panel(
    data: Study | pd.DataFrame,
    *,
    x: str,
    y: str,
    session: str,
    client: str,
    occasion: str,
    waves: int | None,
) -> tuple[np.ndarray, list[str], int, pd.DataFrame, pd.DataFrame]:
    """Wide panel ``z`` (clients x (x_1, y_1, ..., x_T, y_T)), client ids, T, exclusions, coverage.

    Every input row that contributes no value is counted in the exclusions table (reason,
    n_rows, n_clients); the coverage table gives, per occasion, the clients observed on
    each variable.
    """
    counts: list[tuple[str, int, int]] = []
    if isinstance(data, Study):
        panel = with_sum_scales(scored_study(data, [x, y]).panel())
        if "attended" in panel.columns:
            missed = (panel["attended"] != 1).to_numpy()
            if missed.any():
                counts.append(
                    (
                        "missed session (no questionnaires; missing at its occasion)",
                        int(missed.sum()),
                        int(panel.loc[missed, client].nunique()),
                    )
                )
            panel = panel.loc[~missed]
    else:
        panel = as_table(data, "sessions")
    require_columns(panel, [client, session, x, y], table="panel", role="model")
    panel = panel.reset_index(drop=True)
    for col in (x, y):
        if not pd.api.types.is_numeric_dtype(panel[col]):
            raise DataValidationError.for_argument(
                col, str(panel[col].dtype), f"column {col!r} must be numeric scores"
            )
    ex = Exclusions(panel, client, counts)
    ex.drop(panel[client].isna().to_numpy(), f"missing {client!r}")
    ex.drop(panel[session].isna().to_numpy(), f"missing session number {session!r}")
    ex.drop(
        (panel[x].isna() & panel[y].isna()).to_numpy(),
        f"both {x!r} and {y!r} missing (missing at its occasion)",
    )
    kept = panel.loc[ex.keep]
    if kept.empty:
        raise ModelSpecError("no rows left to fit after the exclusions:\n" + ex.table().to_string())
    if occasion == "session":
        s = kept[session].astype(float)
        bad = (s != np.round(s)) | (s < 1)
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise DataValidationError(
                [
                    {
                        "file": "panel",
                        "row": int(kept.index[i]),
                        "column": session,
                        "value": repr(kept[session].iloc[i]),
                        "problem": "occasion='session' needs session numbers 1, 2, 3, ...",
                    }
                ],
                f"{int(bad.sum())} session number(s) are not positive integers",
            )
        wave = s.astype(int)
    else:  # the k-th session with a value of either variable
        order = kept.sort_values([client, session], kind="stable")
        wave = order.groupby(client, sort=False).cumcount().add(1).reindex(kept.index)
    dup = pd.Series(list(zip(kept[client], wave, strict=True))).duplicated(keep=False)
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise DataValidationError(
            [
                {
                    "file": "panel",
                    "row": int(kept.index[i]),
                    "column": session,
                    "value": repr(kept[session].iloc[i]),
                    "problem": f"client {kept[client].iloc[i]!r} has two rows at this occasion",
                }
            ],
            f"{int(dup.sum())} rows share a client and occasion",
        )
    n_clients = kept.groupby(wave.to_numpy())[client].nunique()
    if waves is None:
        few = [
            w for w in range(1, int(wave.max()) + 1) if n_clients.get(w, 0) < MIN_CLIENTS_PER_WAVE
        ]
        waves = (few[0] - 1) if few else int(wave.max())
    if waves < 2:
        raise ModelSpecError(
            f"the cross-lagged model needs at least 2 occasions; waves={waves} (fewer than "
            f"{MIN_CLIENTS_PER_WAVE} clients at occasion {waves + 1})"
        )
    late = np.zeros(len(panel), dtype=bool)
    late[kept.index[(wave > waves).to_numpy()]] = True
    ex.drop(late, f"occasion after the last one analysed (waves={waves})")
    kept = panel.loc[ex.keep]
    wave = wave.loc[kept.index]
    ids = list(pd.unique(kept[client]))
    pos = pd.Series(np.arange(len(ids)), index=ids)
    z = np.full((len(ids), 2 * waves), np.nan)
    rows = pos.loc[kept[client]].to_numpy()
    cols = 2 * (wave.to_numpy() - 1)
    z[rows, cols] = kept[x].astype(float).to_numpy()
    z[rows, cols + 1] = kept[y].astype(float).to_numpy()
    coverage = pd.DataFrame(
        {
            "occasion": np.arange(1, waves + 1),
            f"n_{x}": (~np.isnan(z[:, 0::2])).sum(0),
            f"n_{y}": (~np.isnan(z[:, 1::2])).sum(0),
        }
    )
    return z, [str(i) for i in ids], waves, ex.table(), coverage
