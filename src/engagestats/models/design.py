"""Fixed and random design matrices of a linear mixed model, with lme4 names.

:func:`build_design` turns an lme4 formula and a DataFrame into a
:class:`~engagestats.models._types.Design`: the response, the fixed-effects
matrix ``X`` (the R terms translated by :mod:`.formula`, evaluated by patsy,
columns named and ordered as R names and orders them) and one
:class:`~engagestats.models._types.RandomTerm` per random-effects term (raw
model matrix, grouping codes and levels). :mod:`.newdata` rebuilds ``X``, ``Z`` and the
offset for new data from :attr:`Design.spec`; :func:`eval_r` evaluates one R
expression (``"size - incidence"``) on a frame.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import cast

import numpy as np
import pandas as pd
import patsy
import patsy.builtins
import scipy.linalg

from ..errors import ModelSpecError
from ._colnames import as_categories, lme4_name, r_column_names
from ._rexpr import Translation, leaf, parse_r
from ._rfuns import ENV
from ._types import Design, RandomTerm
from .formula import ParsedFormula, parse_formula

__all__ = [
    "DesignSpec",
    "build_design",
    "eval_r",
    "lme4_name",
    "r_column_names",
]

#: Relative tolerance on the pivoted-QR diagonal for rank deficiency (lme4's default 1e-7).
RANK_TOL = 1e-7


@dataclass(frozen=True)
class _TermSpec:
    lhs: str
    lhs_info: patsy.DesignInfo | None  # None for an intercept-only term
    factors: tuple[str, ...]
    keys: pd.Index | pd.MultiIndex  # factor values of each level, in code order


@dataclass(frozen=True)
class DesignSpec:
    """What is needed to rebuild ``X`` and ``Z`` for new data (``Design.spec``).

    Attributes
    ----------
    parsed : ParsedFormula
    fixed_info : patsy.DesignInfo
        patsy's description of the fixed part (contrasts and levels included).
    fixed_order : ndarray of int
        Permutation from patsy's column order to R's.
    terms : tuple
        Per random term (aligned with ``Design.terms``): the left-side design
        info, the grouping columns and the level keys.
    frame : DataFrame or None
        The complete rows of the columns the formula uses (read-only; the
        per-term ANOVA builds lmerTest's type III hypotheses from it).
    offset : ndarray or None
        Sum of the formula's ``offset()`` terms on the fitted rows (None: none).
    offset_info : patsy.DesignInfo or None
        Rebuilds the offset for new data (:func:`new_offset`).
    categories : dict
        Text columns handed to patsy as categoricals: column -> levels (sorted by
        code point, as R sorts strings in the C locale); new data are coded alike.
    """

    parsed: ParsedFormula
    fixed_info: patsy.DesignInfo
    fixed_order: np.ndarray
    terms: tuple[_TermSpec, ...]
    frame: pd.DataFrame | None = None
    offset: np.ndarray | None = None
    offset_info: patsy.DesignInfo | None = None
    categories: dict[str, list] | None = None


def _check_names(names: set[str], data: pd.DataFrame, formula: str) -> None:
    known = {str(c) for c in data.columns}
    for name in sorted(names):
        if name in known:
            continue
        close = difflib.get_close_matches(name, sorted(known), n=3)
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise ModelSpecError(f"column {name!r} used in {formula!r} is not in the data{hint}")


def _translate_expr(expr: str, formula: str) -> tuple[str, Translation]:
    out = Translation("")
    code = leaf(parse_r(expr, formula), formula, out)
    return code, out


def eval_r(expr: str, data: pd.DataFrame, *, formula: str | None = None) -> np.ndarray:
    """Evaluate one numeric R expression on ``data`` (``"size - incidence"``, ``"log(t)"``).

    Parameters
    ----------
    expr : str
        R code using the columns of ``data`` and the functions of model formulas.
    data : DataFrame
    formula : str, optional
        The formula ``expr`` comes from, for error messages.

    Returns
    -------
    ndarray of float, shape (len(data),)

    Raises
    ------
    ModelSpecError
        Unknown column or function, a non-numeric or multi-column result.

    Examples
    --------
    >>> import pandas as pd
    >>> eval_r("n - k", pd.DataFrame({"k": [1, 2], "n": [5, 5]}))
    array([4., 3.])
    """
    full = formula or expr
    code, tr = _translate_expr(expr, full)
    _check_names(tr.columns, data, full)
    return _numeric_column(code, data, expr, full)


def _numeric_column(code: str, data: pd.DataFrame, expr: str, full: str) -> np.ndarray:
    mat = _patsy(f"0 + {code}", data, repr(expr), full)
    if mat.design_info.factor_infos and any(
        fi.type != "numerical" for fi in mat.design_info.factor_infos.values()
    ):
        raise ModelSpecError(f"{expr!r} in {full!r} must be numeric, not a factor")
    if mat.shape[1] != 1:
        raise ModelSpecError(f"{expr!r} in {full!r} must be one numeric column")
    return np.asarray(mat, dtype=float)[:, 0]


def _codes(
    frame: pd.DataFrame, factors: tuple[str, ...]
) -> tuple[np.ndarray, pd.Index | pd.MultiIndex]:
    """Integer codes of the (interaction) grouping factor, levels in R's order."""
    if len(factors) == 1:
        codes, uniques = pd.factorize(frame[factors[0]], sort=True)
        return codes.astype(np.intp), pd.Index(uniques, name=factors[0])
    parts = [pd.factorize(frame[f], sort=True) for f in factors]
    combined = np.zeros(len(frame), dtype=np.int64)
    for codes, uniques in parts:  # the first factor varies slowest, as in R's a:b
        combined = combined * len(uniques) + codes
    used, inverse = np.unique(combined, return_inverse=True)
    arrays = []
    for _, uniques in reversed(parts):
        arrays.append(np.asarray(uniques)[used % len(uniques)])
        used = used // len(uniques)
    keys = pd.MultiIndex.from_arrays(arrays[::-1], names=list(factors))
    return inverse.astype(np.intp), keys


def _labels(keys: pd.Index | pd.MultiIndex) -> pd.Index:
    if isinstance(keys, pd.MultiIndex):
        return pd.Index([":".join(str(v) for v in tup) for tup in keys], name=":".join(keys.names))
    return keys


def _r_order(info: patsy.DesignInfo, desc: patsy.ModelDesc) -> np.ndarray:
    """Column permutation putting patsy's terms in R's order (by degree, then formula order)."""
    rank = {term: i for i, term in enumerate(desc.rhs_termlist)}
    terms = sorted(info.terms, key=lambda t: (len(t.factors), rank.get(t, len(rank))))
    cols = [np.arange(info.slice(t).start, info.slice(t).stop) for t in terms]
    return np.concatenate(cols) if cols else np.arange(0)


def _patsy(formula: str, data: pd.DataFrame, what: str, full: str) -> patsy.DesignMatrix:
    env = patsy.EvalEnvironment([ENV])
    try:
        return patsy.dmatrix(formula, data, eval_env=env, NA_action="raise", return_type="matrix")
    except patsy.PatsyError as exc:
        raise ModelSpecError(f"cannot build the {what} of {full!r}: {exc}") from None


def _response_columns(parsed: ParsedFormula, data: pd.DataFrame) -> tuple[str | None, set[str]]:
    """Python code of the response (None: a column) and the columns it uses."""
    name = parsed.response
    if name in data.columns:
        return None, {name}
    try:
        code, tr = _translate_expr(name, parsed.formula)
    except ModelSpecError as exc:
        raise ModelSpecError(
            f"the response {name!r} must be a numeric column or expression ({exc}); "
            "binomial responses with trials (cbind) are for glmm(family='binomial')"
        ) from None
    return code, tr.columns


def _response(parsed: ParsedFormula, data: pd.DataFrame, code: str | None) -> np.ndarray:
    name = parsed.response
    if code is None:
        col = data[name]
        if not pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
            raise ModelSpecError(
                f"the response {name!r} must be numeric, got dtype {col.dtype} "
                f"(convert it, e.g. with pd.to_numeric)"
            )
        return col.to_numpy(dtype=float)
    return _numeric_column(code, data, name, parsed.formula)


def _r_factor(X: np.ndarray) -> np.ndarray:
    """R of a QR of tall X, by QR updates over row blocks (``R'R = X'X``).

    Pivoted QR depends on X only through R, so the rank check can run on this
    p x p factor. The small blocks keep each LAPACK call single-threaded: a
    multi-threaded BLAS call leaves OpenBLAS threads spinning, which on a
    2-core machine slows the rest of the fit several-fold.
    """
    n, p = X.shape
    rows = max(4 * p, 4096 // max(p, 1) - p)
    if n <= rows + p:
        return _qr_r(X)
    R = _qr_r(X[:rows])
    for start in range(rows, n, rows):
        R = _qr_r(np.vstack([R, X[start : start + rows]]))
    return R


def _qr_r(a: np.ndarray) -> np.ndarray:
    # numpy's stubs type every mode of qr as QRResult; mode="r" returns the array R.
    return cast(np.ndarray, np.linalg.qr(a, mode="r"))


def _check_rank(X: np.ndarray, names: tuple[str, ...]) -> None:
    if X.shape[1] == 0:
        return
    if X.shape[0] < X.shape[1]:
        raise ModelSpecError(f"{X.shape[0]} observations for {X.shape[1]} fixed effects")
    scale = np.sqrt((X**2).sum(axis=0))
    scale[scale == 0] = 1.0
    r, piv = scipy.linalg.qr(_r_factor(X / scale), mode="r", pivoting=True)
    diag = np.abs(np.diag(r))
    rank = int(np.sum(diag > RANK_TOL * diag[0])) if diag.size and diag[0] > 0 else 0
    if rank < X.shape[1]:
        aliased = [names[i] for i in sorted(piv[rank:])]
        raise ModelSpecError(
            f"the fixed-effects matrix is rank deficient (rank {rank} of {X.shape[1]}): "
            f"{', '.join(repr(a) for a in aliased)} aliased with other columns; drop or recode them"
        )


def build_design(
    formula: str, data: pd.DataFrame, *, allow_offset: bool = False, residual: bool = True
) -> Design:
    """Build the response, fixed and random design of an lme4 formula.

    Parameters
    ----------
    formula : str
        lme4 syntax, e.g. ``"y ~ time * group + (1 + time | client) + (1 | therapist)"``.
    data : DataFrame
        One row per observation.
    allow_offset : bool, default False
        Whether ``offset()`` terms are allowed (the caller must then use
        ``design.spec.offset``; a linear mixed model refuses them).
    residual : bool, default True
        Whether the model has a residual variance (a linear mixed model). lmer then
        refuses as many levels or random effects as observations; glmer does not
        (``glmerControl``'s ``check.nobs.vs.nlev`` and ``check.nobs.vs.nRE`` are
        ``"ignore"``), which allows an observation-level random effect.

    Returns
    -------
    Design
        ``y``, ``X`` with lme4 column names (``fixed_names``), the random terms in
        lme4's order, ``row_index`` (labels of the rows used), ``n_dropped`` and
        ``spec`` for :func:`new_fixed`/:func:`new_random`.

    Raises
    ------
    FormulaError
        The formula cannot be parsed.
    ModelSpecError
        Unknown column, non-numeric response, grouping factor with one level,
        too few observations for the random effects, rank-deficient ``X``.

    Notes
    -----
    Rows with a missing value in any column the formula uses are dropped and
    counted in ``n_dropped``. The right-hand side is R code (``I(x^2)`` is a
    power; ``scale``, ``poly``, ``factor``, ``relevel``, ``log`` ... as R; see
    the methods page on formulas). Character and categorical predictors get
    treatment contrasts with the first level as reference: a pandas
    Categorical keeps its order, text is sorted by code point (R's ``factor()``
    in the C locale), ``factor()`` of numbers sorts numerically. Random terms
    are ordered by decreasing number of levels of their grouping factor
    (stable), as lme4 orders them.

    References
    ----------
    Bates, D., Maechler, M., Bolker, B. & Walker, S. (2015). Fitting linear
    mixed-effects models using lme4. *Journal of Statistical Software*, 67(1), 1-48.

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"y": [1.0, 2.1, 2.9, 4.2, 5.1, 5.8, None],
    ...                   "stage": ["a", "b", "a", "b", "a", "b", "a"],
    ...                   "g": ["x", "x", "y", "y", "z", "z", "z"]})
    >>> des = build_design("y ~ stage + (1 | g)", d)
    >>> des.fixed_names, des.n, des.n_dropped
    (('(Intercept)', 'stageb'), 6, 1)
    >>> des.terms[0].group, list(des.terms[0].levels)
    ('g', ['x', 'y', 'z'])
    """
    parsed = parse_formula(formula)
    if not isinstance(data, pd.DataFrame):
        raise ModelSpecError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    if parsed.offsets and not allow_offset:
        raise ModelSpecError(
            f"offset({parsed.offsets[0]}) in {formula!r}: this model takes no offset; offsets "
            "belong to count models (Poisson counts per exposure); in a linear mixed model "
            "subtract the offset from the response instead"
        )
    fixed_desc = patsy.ModelDesc.from_formula(parsed.fixed)
    response_code, names = _response_columns(parsed, data)
    offset_codes = []
    for expr in parsed.offsets:
        code, tr = _translate_expr(expr, formula)
        offset_codes.append(code)
        names = names | tr.columns
    names = names | set(parsed.columns)
    _check_names(names, data, formula)
    used = [c for c in data.columns if c in names]
    missing = data[used].isna().any(axis=1).to_numpy()
    n_dropped = int(missing.sum())
    frame = data.loc[~missing, used] if n_dropped else data[used]
    groups = {f for r in parsed.random for f in r.factors}
    frame, categories = as_categories(frame, exclude=groups | {parsed.response})
    n = len(frame)
    if n == 0:
        raise ModelSpecError(f"no complete rows for {formula!r} ({n_dropped} dropped as missing)")

    y = _response(parsed, frame, response_code)
    fixed = _patsy(parsed.fixed, frame, "fixed-effects matrix", formula)
    order = _r_order(fixed.design_info, fixed_desc)
    X = np.ascontiguousarray(np.asarray(fixed, dtype=float)[:, order])
    r_names = parsed.r_names
    all_names = r_column_names(fixed.design_info, r_names)
    fixed_names = tuple(all_names[i] for i in order)
    offset, offset_info = None, None
    if offset_codes:
        omat = _patsy("0 + " + " + ".join(offset_codes), frame, "offset", formula)
        offset, offset_info = np.asarray(omat, dtype=float).sum(axis=1), omat.design_info
        if not np.all(np.isfinite(offset)):
            raise ModelSpecError(f"infinite or missing values in the offset of {formula!r}")
    if not np.all(np.isfinite(y)) or not np.all(np.isfinite(X)):
        raise ModelSpecError(f"infinite values in the response or fixed effects of {formula!r}")
    _check_rank(X, fixed_names)

    built: list[tuple[RandomTerm, _TermSpec]] = []
    cols: tuple[str, ...]
    for part in parsed.random:
        if part.lhs == "1":
            Z, info, cols = np.ones((n, 1)), None, ("(Intercept)",)
        else:
            mat = _patsy(part.lhs, frame, f"random term ({part.lhs} | {part.group})", formula)
            info = mat.design_info
            Z = np.ascontiguousarray(np.asarray(mat, dtype=float))
            cols = tuple(r_column_names(info, r_names))
        codes, keys = _codes(frame, part.factors)
        n_levels = len(keys)
        term_txt = f"({part.lhs} | {part.group})"
        if n_levels < 2:
            raise ModelSpecError(
                f"grouping factor {part.group!r} has {n_levels} level in the data used; "
                "a random effect needs at least 2"
            )
        if residual and n_levels >= n:
            raise ModelSpecError(
                f"the number of levels of {part.group!r} ({n_levels}) must be smaller than "
                f"the number of observations ({n})"
            )
        if residual and n_levels * Z.shape[1] >= n:
            raise ModelSpecError(
                f"number of observations ({n}) <= number of random effects "
                f"({n_levels * Z.shape[1]}) for term {term_txt}; the model is unidentifiable"
            )
        term = RandomTerm(group=part.group, columns=cols, Z=Z, codes=codes, levels=_labels(keys))
        built.append((term, _TermSpec(part.lhs, info, part.factors, keys)))
    built.sort(key=lambda tb: -tb[0].n_levels)  # stable, like lme4's order(nl, decreasing=TRUE)
    spec = DesignSpec(
        parsed,
        fixed.design_info,
        order,
        tuple(s for _, s in built),
        frame,
        offset=offset,
        offset_info=offset_info,
        categories=categories,
    )
    return Design(
        formula=formula,
        response=parsed.response,
        y=y,
        X=X,
        fixed_names=fixed_names,
        terms=tuple(t for t, _ in built),
        row_index=data.index[~missing],
        n_dropped=n_dropped,
        spec=spec,
    )
