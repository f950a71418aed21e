"""``engagestats report --check``: compare regenerated tables with the committed copy."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["compare_tables"]

#: Tolerances for numeric cells. Mixed-model estimates are reproducible only to
#: the optimiser's convergence tolerance (about 1e-6 relative; a different
#: optimiser path or BLAS build moves them by that much), so differences below
#: 1e-4 relative are noise, not drift. A changed effect size or data set moves
#: the numbers by orders of magnitude more. ATOL covers tiny p-values.
RTOL, ATOL = 1e-4, 1e-9


def _compare_one(new: pd.DataFrame, ref: pd.DataFrame) -> str | None:
    if list(new.columns) != list(ref.columns):
        return f"columns differ: {list(ref.columns)} -> {list(new.columns)}"
    if len(new) != len(ref):
        return f"row count differs: {len(ref)} -> {len(new)}"
    for col in ref.columns:
        a, b = ref[col], new[col]
        if pd.api.types.is_numeric_dtype(a) and pd.api.types.is_numeric_dtype(b):
            x, y = a.to_numpy(float), b.to_numpy(float)
            bad = ~np.isclose(x, y, rtol=RTOL, atol=ATOL, equal_nan=True)
        else:
            bad = (a.astype(str) != b.astype(str)).to_numpy()
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            return f"column {col!r}, row {i + 1}: {a.iloc[i]!r} -> {b.iloc[i]!r}"
    return None


def compare_tables(new_dir: Path, ref_dir: Path) -> list[str]:
    """Differences between two folders of CSV tables; empty when they agree.

    Numbers are compared with ``rtol=1e-4, atol=1e-9`` (see :data:`RTOL`); text
    exactly. A table
    present in only one folder is a difference.
    """
    new = {p.name: p for p in sorted(Path(new_dir).glob("*.csv"))}
    ref = {p.name: p for p in sorted(Path(ref_dir).glob("*.csv"))}
    problems = [f"{n}: missing from the regenerated report" for n in ref.keys() - new.keys()]
    problems += [f"{n}: new table, not in {ref_dir}" for n in new.keys() - ref.keys()]
    for name in sorted(new.keys() & ref.keys()):
        diff = _compare_one(pd.read_csv(new[name]), pd.read_csv(ref[name]))
        if diff:
            problems.append(f"{name}: {diff}")
    return sorted(problems)
