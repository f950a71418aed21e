"""The design of a binary-response model: a 0/1 (or boolean) response, checked."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import DataValidationError, ModelSpecError
from . import design as _design
from ._types import Design
from .formula import parse_formula

__all__ = ["binary_design"]


def binary_design(formula: str, data: pd.DataFrame, family: str) -> Design:
    """Build the design; the response must be 0/1 or boolean."""
    if family != "binomial":
        raise ModelSpecError(f"family must be 'binomial' (logit link), got {family!r}")
    if not isinstance(data, pd.DataFrame):
        raise ModelSpecError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    response = parse_formula(formula).response
    if response in data.columns and pd.api.types.is_bool_dtype(data[response]):
        data = data.assign(**{response: data[response].astype(float)})
    des = _design.build_design(formula, data)
    bad = ~np.isin(des.y, (0.0, 1.0))
    if bad.any():
        raise DataValidationError(
            [
                {
                    "file": "data",
                    "row": label,
                    "column": des.response,
                    "value": f"{value:g}",
                    "problem": "a binomial response must be 0 or 1 (or True/False)",
                }
                for label, value in zip(des.row_index[bad], des.y[bad], strict=True)
            ],
            f"{int(bad.sum())} response value(s) of {des.response!r} are not 0 or 1",
        )
    if np.all(des.y == des.y[0]):
        raise ModelSpecError(
            f"the response {des.response!r} is {des.y[0]:g} in all {des.n} rows used; "
            "a logistic model needs both outcomes"
        )
    return des
