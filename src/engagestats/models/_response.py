"""The response of a GLMM, with its prior weights and offset.

Responses: ``cbind(successes, failures)``, proportions with weights, two-level
factors and strings, booleans and counts.

Internal. The right-hand side is built by :func:`engagestats.models.design.build_design`;
the left-hand side is evaluated here, written to a private column and the
formula rewritten to use it, so rows with a missing response, weight or offset
are dropped (and counted) together with rows missing a predictor.

Coding of a non-numeric response follows ``glmer``: a factor response is
``0`` for its first level and ``1`` for the other; a pandas Categorical keeps
its category order (the first category is 0), strings are sorted as R's
``factor()`` sorts them in the C locale (so ``"N"`` = 0, ``"Y"`` = 1) and
booleans are ``False`` = 0. R maps every level after the first to 1; here more
than two levels are refused, since silently merging them is rarely intended.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from ..errors import DataValidationError, ModelSpecError
from . import design as _design
from ._glmm_family import Family
from ._rexpr import parse_r
from ._types import Design
from .formula import split_formula

__all__ = ["GlmmInputs", "binary_design", "glmm_inputs"]

_Y = "_glmm_response_"
_CBIND = re.compile(r"^\s*cbind\s*\((.*)\)\s*$", re.S)
_LOGICAL = frozenset({">", "<", ">=", "<=", "==", "!=", "&", "|", "&&", "||"})


@dataclass(frozen=True)
class GlmmInputs:
    """Design plus the GLM parts: response, prior weights, offset (rows of the design)."""

    design: Design
    y: np.ndarray
    pw: np.ndarray
    offset: np.ndarray
    response_coding: str  # e.g. "'N' = 0, 'Y' = 1"


def _split_args(text: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += ch in "(["
        depth -= ch in ")]"
        if ch == "," and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    parts.append(text[start:].strip())
    return parts


def _evaluate(expr: str, data: pd.DataFrame, formula: str) -> pd.Series:
    """A response part: a column (any dtype) or a numeric R expression, never Python code.

    Parsed with R's grammar (:func:`._rexpr.parse_r`) and evaluated as the right-hand
    side's terms are (:func:`.design.eval_r`), so a name in backticks is one column and
    code such as ``__import__('os')`` is refused with a :class:`FormulaError`. A
    comparison or logical expression (``y > 3``) gives 0/1 (``NA`` stays missing).
    """
    expr = expr.strip()
    if expr in data.columns:
        return data[expr]
    node = parse_r(expr, formula)
    if node.kind == "name" and node.value in data.columns:
        return data[node.value]
    if node.kind == "paren":
        return _evaluate(expr[expr.index("(") + 1 : expr.rindex(")")], data, formula)
    logical = (node.kind == "binary" and node.value in _LOGICAL) or (
        node.kind == "unary" and node.value == "!"
    )
    code = f"({expr}) * 1" if logical else expr
    try:
        _, tr = _design._translate_expr(code, formula)
        used = [c for c in tr.columns if c in data.columns]
        ok = data[used].notna().all(axis=1).to_numpy() if used else np.ones(len(data), bool)
        value = np.full(len(data), np.nan)
        if ok.any():  # rows with a missing input stay missing (dropped and counted later)
            value[ok] = _design.eval_r(code, data.loc[ok], formula=formula)
        else:
            _design.eval_r(code, data.iloc[:0], formula=formula)  # unknown names still raise
    except ModelSpecError as exc:
        raise ModelSpecError(
            f"cannot evaluate the response {expr!r} of {formula!r}: {exc}"
        ) from None
    return pd.Series(value, index=data.index)


def _numeric(col: pd.Series, what: str) -> np.ndarray:
    if pd.api.types.is_bool_dtype(col):
        return col.astype(float).to_numpy()
    if not pd.api.types.is_numeric_dtype(col):
        raise ModelSpecError(f"{what} must be numeric, got dtype {col.dtype}")
    return col.to_numpy(dtype=float)


def _binary(col: pd.Series, name: str) -> tuple[np.ndarray, str]:
    """0/1 coding of a boolean, numeric, two-level factor or string response."""
    if pd.api.types.is_bool_dtype(col):
        return col.astype(float).to_numpy(), "False = 0, True = 1"
    if pd.api.types.is_numeric_dtype(col):
        return col.to_numpy(dtype=float), "numeric"
    if isinstance(col.dtype, pd.CategoricalDtype):
        levels = list(col.cat.categories)
        how = "the Categorical's category order"
    else:
        present = col.dropna()
        if not all(isinstance(v, str) for v in present):
            raise ModelSpecError(
                f"the response {name!r} must be 0/1, boolean, a two-level factor or strings; "
                f"got dtype {col.dtype}"
            )
        levels = sorted(set(present))  # Python's sort is R's C-locale order
        how = "sorted"
    if len(levels) > 2:
        raise ModelSpecError(
            f"the response {name!r} has {len(levels)} levels {levels[:6]}; a binomial response "
            "needs two (R would code every level after the first as 1: recode explicitly)"
        )
    if len(levels) < 2:
        raise ModelSpecError(
            f"the response {name!r} has the single level {levels!r}: a binomial model needs "
            "two outcomes"
        )
    values = np.where(col.isna(), np.nan, (col == levels[1]).astype(float))
    return values, f"{levels[0]!r} = 0, {levels[1]!r} = 1 ({how}, as glmer)"


def _aligned(value: object, data: pd.DataFrame, what: str) -> np.ndarray | None:
    if value is None:
        return None
    if isinstance(value, str):
        if value not in data.columns:
            raise ModelSpecError(f"{what} column {value!r} is not in the data")
        return _numeric(data[value], f"{what} column {value!r}")
    arr = np.asarray(value, dtype=float).ravel()
    if arr.size != len(data):
        raise ModelSpecError(f"{what} has {arr.size} values for {len(data)} rows of data")
    return arr


def _bad_rows(des: Design, mask: np.ndarray, column: str, values: np.ndarray, problem: str):
    return DataValidationError(
        [
            {"file": "data", "row": r, "column": column, "value": f"{v:g}", "problem": problem}
            for r, v in zip(des.row_index[mask], values[mask], strict=True)
        ],
        f"{int(mask.sum())} value(s) of {column!r}: {problem}",
    )


def glmm_inputs(
    formula: str,
    data: pd.DataFrame,
    family: Family,
    *,
    weights: object = None,
    offset: object = None,
) -> GlmmInputs:
    """Evaluate the response, weights and offset; build the design on the same rows."""
    if not isinstance(data, pd.DataFrame):
        raise ModelSpecError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    if not isinstance(formula, str) or "~" not in formula:
        raise ModelSpecError(f"formula must be a string 'response ~ terms', got {formula!r}")
    lhs, rhs = split_formula(formula)  # at the "~" outside backticks and parentheses
    if weights is not None and family.name != "binomial":
        raise ModelSpecError(
            f"weights= are binomial trials; they are not supported for family {family.name!r}"
        )
    w = _aligned(weights, data, "weights")
    off = _aligned(offset, data, "offset")
    cb = _CBIND.match(lhs)
    coding = "numeric"
    if cb:
        if family.name != "binomial":
            raise ModelSpecError("cbind(successes, failures) is a binomial response")
        args = _split_args(cb.group(1))
        if len(args) != 2:
            raise ModelSpecError(f"cbind() needs two arguments (successes, failures), got {lhs!r}")
        s = _numeric(_evaluate(args[0], data, formula), f"successes {args[0]!r}")
        f = _numeric(_evaluate(args[1], data, formula), f"failures {args[1]!r}")
        trials = s + f
        with np.errstate(invalid="ignore", divide="ignore"):
            y = np.where(trials > 0, s / np.where(trials > 0, trials, 1.0), 0.0)
        y[np.isnan(s) | np.isnan(f)] = np.nan
        if w is not None:
            raise ModelSpecError("give either cbind(successes, failures) or weights=, not both")
        w = trials
        coding = "cbind(successes, failures): proportion of successes, trials as weights"
    else:
        col = _evaluate(lhs, data, formula)
        if family.name == "binomial":
            y, coding = _binary(col, lhs)
        else:
            y = _numeric(col, f"the response {lhs!r}")
    if w is not None:
        y = np.where(np.isnan(w), np.nan, y)
    if off is not None:
        y = np.where(np.isnan(off), np.nan, y)
    if _Y in data.columns:
        raise ModelSpecError(f"the data may not have a column named {_Y!r}")
    des = _design.build_design(
        f"{_Y} ~ {rhs}", data.assign(**{_Y: y}), allow_offset=True, residual=False
    )
    des = replace(des, formula=formula, response=lhs)
    rows = data.index.get_indexer(des.row_index)
    y = des.y
    pw = np.ones(des.n) if w is None else w[rows]
    offset_arr = np.zeros(des.n) if off is None else off[rows]
    extra = des.spec.offset  # the formula's offset() terms
    if extra is not None:
        offset_arr = offset_arr + np.asarray(extra, dtype=float)
    _check_values(des, family, y, pw, cbind=bool(cb))
    return GlmmInputs(des, y, pw, offset_arr, coding)


def _check_values(des: Design, family: Family, y: np.ndarray, pw: np.ndarray, *, cbind: bool):
    name = des.response
    if not np.all(np.isfinite(pw)) or np.any(pw < 0):
        raise _bad_rows(des, ~(np.isfinite(pw) & (pw >= 0)), "weights", pw, "weights must be >= 0")
    if family.name != "binomial":
        bad = (y < 0) | (np.abs(y - np.round(y)) > 1e-8)
        if bad.any():
            raise _bad_rows(
                des, bad, name, y, f"a {family.name} response must be a count (0, 1, 2, ...)"
            )
        if np.all(y == y[0]):
            raise ModelSpecError(
                f"the response {name!r} is {y[0]:g} in all {des.n} rows used: a constant count "
                "has no variation to model"
            )
        return
    k = y * pw
    bad = (y < 0) | (y > 1) | (np.abs(k - np.round(k)) > 1e-6)
    if bad.any():
        raise _bad_rows(
            des,
            bad,
            name,
            y,
            "a binomial response must be 0 or 1 (or True/False), or a proportion whose "
            "successes (proportion x weights) are whole numbers",
        )
    used = pw > 0
    if not used.any():
        raise ModelSpecError("all weights are 0: no trials to model")
    yu = y[used]
    if np.all(yu == 0) or np.all(yu == 1):
        what = "failures" if np.all(yu == 0) else "successes"
        raise ModelSpecError(
            f"the response {name!r} is all {what} in the {des.n} rows used; a binomial model "
            "needs both outcomes"
        )


def binary_design(formula: str, data: pd.DataFrame, family: str) -> Design:
    """Design of a binomial-logit model with a 0/1 response (used by :func:`gee`)."""
    if family != "binomial":
        raise ModelSpecError(f"family must be 'binomial' (logit link), got {family!r}")
    return glmm_inputs(formula, data, Family("binomial", "logit")).design
