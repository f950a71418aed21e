"""Per-term F tests of a linear mixed model: lmerTest's ``anova(fit, type, ddf)``.

Each fixed-effect term (not the intercept) gets a hypothesis matrix ``L`` whose
rows span what the term tests; the row of the table is the joint F test of
``L beta = 0`` (:func:`engagestats.models.inference.f_test`, or the
Kenward-Roger version). The matrices are ports of lmerTest 3.1-3:
``get_contrasts_type1`` (sequential), ``get_contrasts_type2_unfolded`` (type II)
and ``get_contrasts_type3`` / ``extract_contrasts_type3`` (type III), with
their helpers ``doolittle``, ``containment`` and ``get_rdX``.

References
----------
Kuznetsova, A., Brockhoff, P. B. & Christensen, R. H. B. (2017). lmerTest
package: tests in linear mixed effects models. J Stat Softw, 82(13), 1-26.
doi:10.18637/jss.v082.i13

Goodnight, J. H. (1980). Tests of hypotheses in fixed effects linear models.
The American Statistician, 34(4), 216-221.

Fox, J. & Weisberg, S. (2019). An R Companion to Applied Regression (3rd ed.).
Sage. (Type II tests and the principle of marginality.)
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import patsy

from ..errors import ModelSpecError

if TYPE_CHECKING:
    from .result import LmmResult

__all__ = ["anova_table", "hypotheses"]

TYPES = {"1": 1, "2": 2, "3": 3, "i": 1, "ii": 2, "iii": 3}
COLUMNS = ["sum_sq", "mean_sq", "num_df", "den_df", "f", "p"]


@dataclass(frozen=True)
class _Term:
    """One fixed-effect term: its label, columns of ``X`` and its variables."""

    label: str
    cols: np.ndarray
    variables: frozenset[patsy.EvalFactor]
    numerics: frozenset[patsy.EvalFactor]
    factors: tuple[patsy.EvalFactor, ...]

    @property
    def order(self) -> int:
        return len(self.factors)


def _terms(fit: LmmResult) -> tuple[list[_Term], bool]:
    """The model's terms in R's order (as ``attr(terms, "term.labels")``) and the intercept flag."""
    spec = fit._fit.design.spec
    info = getattr(spec, "fixed_info", None)
    if info is None:
        raise ModelSpecError("this fit's design was not made by build_design; no terms to test")
    position = np.empty(len(spec.fixed_order), dtype=np.intp)
    position[spec.fixed_order] = np.arange(len(spec.fixed_order))
    terms, intercept = [], False
    for term in info.terms:
        if not term.factors:
            intercept = True
            continue
        sl = info.slice(term)
        cols = np.sort(position[np.arange(sl.start, sl.stop)])
        factors = tuple(term.factors)
        numerics = frozenset(f for f in factors if info.factor_infos[f].type == "numerical")
        terms.append(_Term(term.name(), cols, frozenset(factors), numerics, factors))
    terms.sort(key=lambda t: int(t.cols[0]))
    return terms, intercept


def _containment(terms: list[_Term]) -> dict[str, list[_Term]]:
    """lmerTest's ``containment``: the terms that contain each term.

    As lmerTest's ``term_contain``, a term's variables are those coded *with
    contrasts*, the entries equal to 1 of R's ``attr(terms, "factors")``: a variable
    ``v`` of term ``T`` counts when ``T`` without ``v`` is a term of the model (or
    ``T`` is a main effect). ``U`` contains ``T`` when ``T``'s variables are a proper
    subset of ``U``'s and both have the same numeric variables (so ``x`` is contained
    in ``format:x`` of ``format * x``, but ``format`` is not; and in ``x + format:x``,
    where ``format:x`` codes ``x`` without contrasts, ``x`` is not contained at all).
    """
    present = {t.variables for t in terms}

    def coded(t: _Term) -> frozenset[str]:
        if len(t.variables) == 1:
            return t.variables
        return frozenset(v for v in t.variables if t.variables - {v} in present)

    var = {t.label: coded(t) for t in terms}
    num = {t.label: t.numerics & var[t.label] for t in terms}
    return {
        t.label: [u for u in terms if var[t.label] < var[u.label] and num[t.label] == num[u.label]]
        for t in terms
    }


def doolittle(x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Unit lower-triangular factor ``L`` of Doolittle's ``x = L U`` (lmerTest's ``doolittle``).

    Entries of ``L`` below ``eps`` in absolute value are set to zero, and a pivot
    ``|U_ii| < eps`` zeroes its column, exactly as lmerTest does.

    Examples
    --------
    >>> doolittle(np.array([[4.0, 2.0], [2.0, 3.0]]))
    array([[1. , 0. ],
           [0.5, 1. ]])
    """
    n = x.shape[0]
    L = np.eye(n)
    U = np.zeros((n, n))
    for i in range(n):
        U[i, :] = x[i, :] - L[i, :i] @ U[:i, :]
        if i + 1 < n:
            col = x[i + 1 :, i] - L[i + 1 :, :i] @ U[:i, i]
            L[i + 1 :, i] = 0.0 if abs(U[i, i]) < eps else col / U[i, i]
    L[np.abs(L) < eps] = 0.0
    return L


def _zapsmall(x: np.ndarray, digits: int = 7) -> np.ndarray:
    """R's ``zapsmall``: round to ``digits`` significant digits of the largest entry."""
    finite = np.abs(x[np.isfinite(x)])
    mx = float(finite.max()) if finite.size else 0.0
    if mx > 0:
        digits = max(0, digits - int(np.ceil(np.log10(mx))))
    return np.round(x, digits)


def _type1(X: np.ndarray, terms: list[_Term]) -> dict[str, np.ndarray]:
    p = X.shape[1]
    L = np.ones((1, 1)) if p == 1 else doolittle(X.T @ X).T
    return {t.label: L[t.cols, :] for t in terms}


def _type2(X: np.ndarray, terms: list[_Term]) -> dict[str, np.ndarray]:
    if X.shape[1] <= 1 or len(terms) <= 1:
        return _type1(X, terms)
    contained = _containment(terms)
    xtx = X.T @ X
    p = X.shape[1]
    col_term = np.full(p, "", dtype=object)
    for t in terms:
        col_term[t.cols] = t.label
    out = {}
    for t in terms:
        if not contained[t.label]:  # marginal: the term's own coefficients
            out[t.label] = np.eye(p)[t.cols, :]
            continue
        moved = np.concatenate([t.cols] + [u.cols for u in contained[t.label]])
        order = np.concatenate([np.setdiff1d(np.arange(p), moved, assume_unique=True), moved])
        Lc = doolittle(xtx[np.ix_(order, order)]).T
        rows = Lc[col_term[order] == t.label, :]
        back = np.empty(p, dtype=np.intp)
        back[order] = np.arange(p)
        out[t.label] = rows[:, back]
    return out


def _factor_columns(fit: LmmResult, factor: patsy.EvalFactor) -> list[np.ndarray]:
    """Full-rank (indicator) columns of one variable: lmerTest's ``~ 0 + var`` coding."""
    spec = fit._fit.design.spec
    frame = getattr(spec, "frame", None)
    if frame is None:
        raise ModelSpecError("type III tests need the model frame; refit with engagestats.lmm")
    fi = spec.fixed_info.factor_infos[factor]
    value = factor.eval(fi.state, frame)
    if fi.type == "numerical":
        arr = np.asarray(value, dtype=float).reshape(len(frame), -1)
        return [arr[:, j] for j in range(arr.shape[1])]
    codes = patsy.categorical.categorical_to_int(
        value, fi.categories, patsy.NAAction(NA_types=[]), origin=factor
    )
    return [(codes == k).astype(float) for k in range(len(fi.categories))]


def _rdx(fit: LmmResult, terms: list[_Term], intercept: bool) -> tuple[np.ndarray, list[str]]:
    """lmerTest's ``get_rdX``: every term coded without contrasts, side by side.

    Returns the matrix and, per column, the label of its term.
    """
    cache: dict[patsy.EvalFactor, list[np.ndarray]] = {}
    blocks, owner = [], []
    n = fit._fit.design.n
    if intercept:
        blocks.append(np.ones((n, 1)))
        owner.append("(Intercept)")
    for t in terms:
        per = [cache.setdefault(f, _factor_columns(fit, f)) for f in t.factors]
        cols = [np.prod(np.column_stack(c), axis=1) for c in itertools.product(*per)]
        blocks.append(np.column_stack(cols))
        owner += [t.label] * len(cols)
    return np.hstack(blocks), owner


def _type3(fit: LmmResult, terms: list[_Term], intercept: bool) -> dict[str, np.ndarray]:
    X = fit._fit.design.X
    if X.shape[1] <= 1 or len(terms) <= 1:
        return _type1(X, terms)
    rdx, owner = _rdx(fit, terms, intercept)
    owner_arr = np.asarray(owner, dtype=object)
    # Row of rdX matching each column of X (R selects them by name: L[colnames(X), ]).
    col_label = np.full(X.shape[1], "(Intercept)", dtype=object)
    for t in terms:
        col_label[t.cols] = t.label
    match = np.empty(X.shape[1], dtype=np.intp)
    for j in range(X.shape[1]):
        cand = np.flatnonzero(owner_arr == col_label[j])
        same = [k for k in cand if np.array_equal(rdx[:, k], X[:, j])]
        if len(same) != 1:
            raise ModelSpecError(
                f"type III tests need treatment-coded factors (R's contr.treatment); column "
                f"{fit._fit.design.fixed_names[j]!r} is not an indicator of one level "
                "(use type=1 or type=2, or drop the C(..., <coding>) from the formula)"
            )
        match[j] = same[0]
    cutoff = np.sqrt(np.finfo(float).eps)  # MASS::ginv's tolerance
    L = _zapsmall((np.linalg.pinv(X, rcond=cutoff) @ rdx).T)
    contained = _containment(terms)
    for t in sorted(terms, key=lambda t: -t.order):  # stable, as order(decreasing = TRUE)
        if contained[t.label]:
            A = L[:, np.concatenate([u.cols for u in contained[t.label]])]
            B = L[:, t.cols]
            coef = np.linalg.lstsq(A, B, rcond=None)[0]
            L[:, t.cols] = _zapsmall(B - A @ coef)
    L = L[match, :]
    out = {}
    for t in terms:
        hyp = L[:, t.cols].T
        out[t.label] = hyp[np.abs(hyp).sum(axis=1) > 1e-8, :]
    return out


def _check_type(type: int | str) -> int:
    key = str(type).strip().lower()
    if isinstance(type, bool) or key not in TYPES:
        raise ModelSpecError(f"type must be 1, 2 or 3 (or 'I', 'II', 'III'), got {type!r}")
    return TYPES[key]


def hypotheses(fit: LmmResult, *, type: int | str = 3) -> dict[str, np.ndarray]:
    """Hypothesis matrix of each term (``attr(anova(fit, type), "hypotheses")``).

    Parameters
    ----------
    fit : LmmResult
    type : {3, 2, 1} or {"III", "II", "I"}, default 3

    Returns
    -------
    dict of str to ndarray
        Term label to ``L`` of shape ``(k, p)``, columns in the order of ``fit.fixed``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from engagestats.models import lmm
    >>> rng = np.random.default_rng(2)
    >>> d = pd.DataFrame({"g": np.repeat(np.arange(10), 4), "x": rng.normal(size=40),
    ...                   "f": np.tile(["a", "b", "c", "c"], 10)})
    >>> d["y"] = d["x"] + rng.normal(size=10)[d["g"]] + rng.normal(size=40)
    >>> hyp = hypotheses(lmm("y ~ f + x + (1 | g)", d), type=3)
    >>> {k: v.shape for k, v in hyp.items()}
    {'f': (2, 4), 'x': (1, 4)}
    """
    kind = _check_type(type)
    terms, intercept = _terms(fit)
    if not terms:
        return {}
    X = fit._fit.design.X
    if kind == 1:
        return _type1(X, terms)
    if kind == 2:
        return _type2(X, terms)
    return _type3(fit, terms, intercept)


def anova_table(fit: LmmResult, *, type: int | str = 3, ddf: str = "satterthwaite") -> pd.DataFrame:
    """Per-term F tests (``lmerTest::anova(fit, type, ddf)``); see :meth:`LmmResult.anova`.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from engagestats.models import lmm
    >>> rng = np.random.default_rng(2)
    >>> d = pd.DataFrame({"g": np.repeat(np.arange(10), 4), "x": rng.normal(size=40),
    ...                   "f": np.tile(["a", "b", "c", "c"], 10)})
    >>> d["y"] = d["x"] + rng.normal(size=10)[d["g"]] + rng.normal(size=40)
    >>> anova_table(lmm("y ~ f * x + (1 | g)", d), type=2)["num_df"].tolist()
    [2, 1, 2]
    """
    kind = _check_type(type)
    fit._use_kr(ddf)  # validates ddf before any work
    rows = {}
    for label, L in hypotheses(fit, type=kind).items():
        if L.shape[0] == 0:  # nothing estimable: lmerTest reports NA
            rows[label] = pd.DataFrame({c: [np.nan] for c in COLUMNS})
            continue
        rows[label] = fit.contrast(L, joint=True, ddf=ddf)
    if not rows:
        return pd.DataFrame(columns=COLUMNS, index=pd.Index([], name="term"))
    table = pd.concat(list(rows.values()), ignore_index=True)
    table.index = pd.Index(list(rows), name="term")
    if not table["num_df"].isna().any():
        table["num_df"] = table["num_df"].astype(int)
    return table[COLUMNS]
