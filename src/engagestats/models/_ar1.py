"""Residual AR(1) and continuous-time AR(1) within groups (nlme's ``corAR1`` / ``corCAR1``).

Internal. Within each correlation group ``i`` the residuals are
``e_i ~ N(0, sigma^2 R_i(phi))`` with ``R_i[j, k] = phi^|t_j - t_k|``. Both
structures are Markov in time order, so ``R_i = L_i L_i'`` has the closed-form
inverse factor of the Prais-Winsten transform: with ``rho_j = phi^(t_j - t_{j-1})``,

    w_1 = v_1,   w_j = (v_j - rho_j v_{j-1}) / sqrt(1 - rho_j^2),

applied to ``y``, ``X`` and every column of ``Z``; then ``e* = L^{-1} e`` is
independent with variance ``sigma^2`` and the transformed model is an ordinary
LMM. Its (REML) deviance plus ``log |R| = sum_j log(1 - rho_j^2)`` is the
deviance of the original model (the REML term ``log |X'V^{-1}X|`` is invariant).
``_ar1_optim.py`` maximises that likelihood over ``theta`` and ``phi``.

The transform mixes rows only within a correlation group, so it keeps the
``(codes, Z)`` layout of a :class:`~engagestats.models._types.RandomTerm` only
when every grouping factor is constant within each correlation group (the
correlation group is nested in every random-effects factor, nlme's requirement).
"""

from __future__ import annotations

import dataclasses
import itertools
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import DataValidationError, DataWarning, ModelSpecError
from ._types import Design

__all__ = ["CORRELATIONS", "CorrSpec", "containment_df", "residual_structure", "whiten"]

CORRELATIONS = ("ar1", "car1")


@dataclass(frozen=True)
class CorrSpec:
    """Where the residual correlation acts, resolved against the design rows.

    ``cur`` and ``prev`` are row positions of consecutive observations (in time
    order) of one correlation group, ``steps`` the time between them (1 for row
    order); the first row of each group has no predecessor.
    """

    kind: str
    group: str
    time: str | None
    n_groups: int
    cur: np.ndarray
    prev: np.ndarray
    steps: np.ndarray

    def phi(self, z: float) -> float:
        """phi from nlme's unconstrained scale (``log((1+phi)/(1-phi))`` or ``logit(phi)``)."""
        return float(np.tanh(z / 2.0)) if self.kind == "ar1" else float(1.0 / (1.0 + np.exp(-z)))

    def z(self, phi: float) -> float:
        """nlme's unconstrained value of ``phi``."""
        if self.kind == "ar1":
            return float(np.log((1.0 + phi) / (1.0 - phi)))
        return float(np.log(phi / (1.0 - phi)))


def _factor_codes(values: pd.Series) -> np.ndarray:
    return np.asarray(pd.factorize(values, sort=True)[0])


def _innermost(design: Design) -> tuple[str, np.ndarray]:
    big = max(design.terms, key=lambda t: t.n_levels)
    return big.group, np.asarray(big.codes)


def _check_nesting(design: Design, group: str, gcodes: np.ndarray) -> None:
    for term in design.terms:
        per = pd.Series(term.codes).groupby(gcodes).nunique()
        if int(per.max()) > 1:
            raise ModelSpecError(
                f"correlation group {group!r} is not nested in the random-effects factor "
                f"{term.group!r} (a {group!r} group spans several {term.group!r} levels); "
                "the residual correlation acts within groups of the innermost factor, as "
                "nlme requires"
            )
    factors = sorted({t.group: t for t in design.terms}.values(), key=lambda t: t.n_levels)
    for outer, inner in itertools.pairwise(factors):
        if int(pd.Series(outer.codes).groupby(inner.codes).nunique().max()) > 1:
            raise ModelSpecError(
                f"grouping factors {outer.group!r} and {inner.group!r} are crossed; "
                "correlation= supports nested grouping factors only (as nlme::lme)"
            )


def _column(data: pd.DataFrame, name: str, design: Design, role: str) -> pd.Series:
    if not isinstance(name, str) or name not in data.columns:
        raise DataValidationError.for_columns({"data": [str(name)]}, role=role)
    col = data.loc[design.row_index, name]
    bad = col.isna()
    if bad.any():
        raise DataValidationError(
            [
                {"file": "data", "row": idx, "column": name, "value": None, "problem": "missing"}
                for idx in col.index[bad]
            ],
            f"{int(bad.sum())} missing value(s) in the {role} column {name!r} of rows the "
            "model uses (fill them or drop the rows first: rows are not dropped silently)",
        )
    return col


def _time_values(col: pd.Series, kind: str) -> np.ndarray:
    name = str(col.name)
    num = pd.to_numeric(col, errors="coerce")
    bad = num.isna() | ~np.isfinite(num.astype(float))
    if kind == "ar1":
        bad |= (num - num.round()).abs() > 1e-8
    if bad.any():
        expected = "an integer time (occasion number)" if kind == "ar1" else "a finite number"
        if kind == "ar1":
            expected += "; use correlation='car1' for continuous times"
        raise DataValidationError(
            [
                {"file": "data", "row": i, "column": name, "value": str(v), "problem": expected}
                for i, v in col[bad].items()
            ],
            f"time column {name!r} must hold {expected.split(';')[0]}",
        )
    return num.to_numpy(dtype=float)


def residual_structure(
    design: Design,
    data: pd.DataFrame,
    *,
    correlation: str,
    time: str | None = None,
    group: str | None = None,
) -> CorrSpec:
    """Resolve ``correlation``, ``time`` and ``group`` against the rows of ``design``.

    ``group=None`` takes the innermost random-effects grouping factor;
    ``time=None`` uses the row order within each group (one step between
    consecutive rows, as nlme's ``corAR1(form = ~ 1 | g)``; not allowed for
    ``"car1"``). With ``time`` the rows are ordered by it within each group and
    ``rho = phi^(t_j - t_{j-1})``: a missed session (a gap of 2) counts twice.
    """
    if correlation not in CORRELATIONS:
        raise ModelSpecError(
            f"correlation must be one of {CORRELATIONS} or None, got {correlation!r}"
        )
    if not design.terms:
        raise ModelSpecError("correlation= needs a random-effects term to say the groups")
    if not data.index.is_unique:
        raise DataValidationError.for_argument(
            "data", "(index)", "correlation= needs a DataFrame with unique row labels"
        )
    if group is None:
        gname, gcodes = _innermost(design)
    else:
        gname, gcodes = group, _factor_codes(_column(data, group, design, "correlation group"))
    _check_nesting(design, gname, gcodes)
    if time is None:
        if correlation == "car1":
            raise ModelSpecError("correlation='car1' needs time= (a column of observation times)")
        if design.n_dropped:
            warnings.warn(
                f"{design.n_dropped} rows with missing values were dropped and no time= was "
                "given: the remaining rows of a group are taken as consecutive occasions; "
                "pass time= (occasion numbers) to keep the gaps",
                DataWarning,
                stacklevel=4,
            )
        # position within the group, in row order
        t = pd.Series(gcodes).groupby(gcodes).cumcount().to_numpy(dtype=float)
    else:
        t = _time_values(_column(data, time, design, "time"), correlation)
    order = np.lexsort((t, gcodes))
    same = gcodes[order][1:] == gcodes[order][:-1]
    dt = np.diff(t[order])
    if np.any(same & (dt <= 0)):
        i = np.flatnonzero(same & (dt <= 0))[0]
        label = design.row_index[order[i + 1]]
        raise DataValidationError(
            [
                {
                    "file": "data",
                    "row": label,
                    "column": time,
                    "value": str(t[order[i + 1]]),
                    "problem": f"time repeats within {gname!r} group; times must be distinct",
                }
            ],
            f"repeated time values within {gname!r} groups",
        )
    return CorrSpec(
        kind=correlation,
        group=gname,
        time=time,
        n_groups=int(np.unique(gcodes).size),
        cur=order[1:][same],
        prev=order[:-1][same],
        steps=dt[same],
    )


def whiten(design: Design, spec: CorrSpec, phi: float) -> tuple[Design, float]:
    """The Prais-Winsten transformed design and ``log |R(phi)|``."""
    rho = np.power(phi, spec.steps)
    s = np.sqrt(1.0 - rho * rho)
    blocks = [design.y[:, None], design.X] + [t.Z for t in design.terms]
    M = np.column_stack(blocks)
    W = M.copy()
    W[spec.cur] = (M[spec.cur] - rho[:, None] * M[spec.prev]) / s[:, None]
    cuts = np.cumsum([b.shape[1] for b in blocks])[:-1]
    parts = np.split(W, cuts, axis=1)
    terms = tuple(dataclasses.replace(t, Z=z) for t, z in zip(design.terms, parts[2:], strict=True))
    out = dataclasses.replace(design, y=parts[0][:, 0], X=parts[1], terms=terms)
    return out, float(2.0 * np.sum(np.log(s)))


def _varies(x: np.ndarray, codes: np.ndarray) -> bool:
    s = pd.Series(x).groupby(codes)
    spread = (s.max() - s.min()).to_numpy()
    return bool(np.any(spread > 1e-10 * max(1.0, float(np.mean(np.abs(x))))))


def containment_df(design: Design) -> np.ndarray:
    """nlme's denominator df per fixed-effect column (``getFixDF``, the "inner-outer" rule).

    With nested grouping levels ``1..Q`` (outermost first, ``N_j`` groups) and
    ``N`` rows, stratum ``j`` has ``N_j - N_{j-1}`` df (``N_0 = 0``, stratum
    ``Q + 1`` = residual, ``N_{Q+1} = N``). A column is estimated in the
    stratum just inside the innermost level within whose groups it varies
    (stratum 1 if it varies within none); each stratum loses one df per column
    it estimates and stratum 1 one more for the intercept. A column gets its
    stratum's df; the intercept gets the largest.
    """
    X = design.X
    n, p = X.shape
    levels = sorted({t.group: t for t in design.terms}.values(), key=lambda t: t.n_levels)
    ngrps = [t.n_levels for t in levels]
    df = np.array([*ngrps, n], dtype=float) - np.array([0, *ngrps], dtype=float)
    const = np.array(
        [np.all(np.abs(X[:, j] - X[0, j]) <= 1e-10 * max(1.0, abs(X[0, j]))) for j in range(p)]
    )
    strat = np.zeros(p, dtype=int)
    for j in np.flatnonzero(~const):
        strat[j] = max([0] + [q + 1 for q, t in enumerate(levels) if _varies(X[:, j], t.codes)])
        df[strat[j]] -= 1
    if const.any():
        df[0] -= 1
    else:
        df[1:] += 1
    out = np.where(const, df.max(), df[strat])
    return out.astype(float)
