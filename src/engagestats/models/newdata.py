"""Design matrices of new data: ``X``, ``Z`` and the offset rebuilt from ``Design.spec``.

:func:`new_fixed`, :func:`new_random` and :func:`new_offset` apply what
:func:`~engagestats.models.design.build_design` learnt on the fitted data (factor
levels, ``scale``/``poly`` constants, R's column order) to new rows, for prediction.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import patsy

from ..errors import ModelSpecError
from ._colnames import coded
from ._types import Design
from .design import DesignSpec

__all__ = ["new_fixed", "new_offset", "new_random"]


def _rebuild(info: patsy.DesignInfo, data: pd.DataFrame, what: str) -> np.ndarray:
    """``info``'s matrix on ``data``; a patsy failure becomes a ModelSpecError on ``what``."""
    try:
        (mat,) = patsy.build_design_matrices([info], data, NA_action="raise", return_type="matrix")
    except patsy.PatsyError as exc:
        raise ModelSpecError(f"cannot build {what} for new data: {exc}") from None
    return np.asarray(mat, dtype=float)


def _spec(design: Design) -> DesignSpec:
    if not isinstance(design.spec, DesignSpec):
        raise ModelSpecError("this design was not made by build_design; cannot rebuild it")
    return design.spec


def new_fixed(design: Design, newdata: pd.DataFrame) -> np.ndarray:
    """Fixed-effects matrix of ``newdata`` with the columns of ``design.X``.

    Parameters
    ----------
    design : Design
        From :func:`build_design`.
    newdata : DataFrame
        Must hold the predictors (not the response); no missing values.

    Returns
    -------
    ndarray, shape (len(newdata), p)

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"y": [1.0, 2.0, 3.0, 4.5, 5.0, 6.5], "x": [0, 1, 2, 3, 4, 5],
    ...                   "g": ["a", "a", "b", "b", "c", "c"]})
    >>> from engagestats.models.design import build_design
    >>> des = build_design("y ~ x + (1 | g)", d)
    >>> new_fixed(des, pd.DataFrame({"x": [10.0]}))
    array([[ 1., 10.]])
    """
    spec = _spec(design)
    mat = _rebuild(spec.fixed_info, coded(spec.categories, newdata), "the fixed effects")
    return mat[:, spec.fixed_order]


def new_offset(design: Design, newdata: pd.DataFrame) -> np.ndarray | None:
    """The formula's ``offset()`` terms evaluated on ``newdata`` (None if it has none).

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"y": [1, 2, 3, 4, 5, 6], "t": [1.0, 2, 1, 2, 1, 2],
    ...                   "g": ["a", "a", "b", "b", "c", "c"]})
    >>> from engagestats.models.design import build_design
    >>> des = build_design("y ~ 1 + offset(log(t)) + (1 | g)", d, allow_offset=True)
    >>> new_offset(des, pd.DataFrame({"t": [1.0]}))
    array([0.])
    """
    spec = _spec(design)
    if spec.offset_info is None:
        return None
    return _rebuild(spec.offset_info, coded(spec.categories, newdata), "the offset").sum(axis=1)


def new_random(design: Design, newdata: pd.DataFrame) -> list[tuple[np.ndarray, np.ndarray]]:
    """Random-effects model matrices and group codes of ``newdata``.

    Parameters
    ----------
    design : Design
        From :func:`build_design`.
    newdata : DataFrame
        Must hold the columns of the random terms and the grouping columns.

    Returns
    -------
    list of (Z, codes)
        One pair per term of ``design.terms``: ``Z`` of shape (m, k) and the
        level code of each row, ``-1`` for a level not seen in the fit.

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"y": [1.0, 2.0, 3.0, 4.5, 5.0, 6.5], "x": [0, 1, 2, 3, 4, 5],
    ...                   "g": ["a", "a", "b", "b", "c", "c"]})
    >>> from engagestats.models.design import build_design
    >>> des = build_design("y ~ x + (1 | g)", d)
    >>> [codes for _, codes in new_random(des, pd.DataFrame({"x": [1, 2], "g": ["c", "new"]}))]
    [array([ 2, -1])]
    """
    spec = _spec(design)
    coded_data = coded(spec.categories, newdata)
    out = []
    for ts in spec.terms:
        m = len(newdata)
        missing = [f for f in ts.factors if f not in newdata.columns]
        if missing:
            raise ModelSpecError(f"newdata lacks the grouping column(s) {missing}")
        if ts.lhs_info is None:
            Z = np.ones((m, 1))
        else:
            Z = _rebuild(ts.lhs_info, coded_data, f"random term ({ts.lhs}|...)")
        if isinstance(ts.keys, pd.MultiIndex):
            probe = pd.MultiIndex.from_arrays([newdata[f].to_numpy() for f in ts.factors])
        else:
            probe = pd.Index(newdata[ts.factors[0]].to_numpy())
        out.append((Z, ts.keys.get_indexer(probe).astype(np.intp)))
    return out
