"""Likelihood-ratio comparison of nested linear mixed models (lme4's ``anova``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import ModelSpecError
from ._glmm_result import GlmmResult
from .result import LmmResult

__all__ = ["compare"]


def _same_rows(a: LmmResult, b: LmmResult) -> bool:
    da, db = a._fit.design, b._fit.design
    return (
        da.n == db.n
        and da.response == db.response
        and da.row_index.equals(db.row_index)
        and np.array_equal(da.y, db.y)
    )


def _same_fixed(fits: list[LmmResult]) -> bool:
    first = fits[0]._fit.design
    return all(
        f._fit.design.fixed_names == first.fixed_names and np.array_equal(f._fit.design.X, first.X)
        for f in fits[1:]
    )


def compare(*fits: LmmResult, names: list[str] | None = None, refit: bool = True) -> pd.DataFrame:
    """Likelihood-ratio tests between nested models, as lme4's ``anova(m0, m1, ...)``.

    Parameters
    ----------
    *fits : LmmResult
        Two or more models fitted to the same rows and response.
    names : list of str, optional
        Row labels; the formulas by default.
    refit : bool, default True
        Refit REML fits by maximum likelihood first (lme4's default). With
        ``False`` REML fits are compared on the REML criterion, which is only
        valid when all of them share the fixed effects; otherwise
        :class:`~engagestats.errors.ModelSpecError` is raised.

    Returns
    -------
    DataFrame
        One row per model, ordered by the number of parameters, indexed by
        ``model`` with columns ``npar, aic, bic, loglik, deviance, chisq, df, p``.
        ``chisq``, ``df`` and ``p`` compare each model with the row above it
        (missing in the first row and when ``df`` is 0).

    Raises
    ------
    ModelSpecError
        If fewer than two models are given, or the models were fitted to
        different rows or responses.

    Notes
    -----
    ``chisq = 2 max(0, loglik_k - loglik_{k-1})``, referred to a chi-square with
    ``df = npar_k - npar_{k-1}``. Tests of variance components on the boundary
    (e.g. a random slope variance of 0) are conservative (Self & Liang, 1987).

    References
    ----------
    Bates, D., Maechler, M., Bolker, B. & Walker, S. (2015). Fitting linear
    mixed-effects models using lme4. J Stat Softw, 67(1), 1-48.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from engagestats.models import compare, lmm
    >>> rng = np.random.default_rng(2)
    >>> d = pd.DataFrame({"g": np.repeat(np.arange(30), 5), "x": np.tile(np.arange(5.0), 30)})
    >>> d["y"] = 1 + 0.5 * d["x"] + rng.normal(size=30)[d["g"]] + rng.normal(size=150)
    >>> m0 = lmm("y ~ 1 + (1 | g)", d)
    >>> m1 = lmm("y ~ x + (1 | g)", d)
    >>> compare(m0, m1).columns.tolist()
    ['npar', 'aic', 'bic', 'loglik', 'deviance', 'chisq', 'df', 'p']
    """
    fits_list = list(fits)
    if len(fits_list) < 2:
        raise ModelSpecError("compare() needs at least two fitted models")
    for f in fits_list:
        if not isinstance(f, LmmResult | GlmmResult):
            raise TypeError(
                f"compare() takes LmmResult or GlmmResult objects, got {type(f).__name__}"
            )
    # lmm(..., correlation=) returns a subclass of LmmResult: still one kind (lmm)
    kind = {(LmmResult if isinstance(f, LmmResult) else type(f)) for f in fits_list}
    if len(kind) > 1 or len({getattr(f, "family", None) for f in fits_list}) > 1:
        raise ModelSpecError(
            "compare() needs models of one kind and family (lmm, or one glmm family)"
        )
    for f in fits_list[1:]:
        if not _same_rows(fits_list[0], f):
            raise ModelSpecError(
                "models were not fitted to the same rows and response "
                f"({fits_list[0].formula!r}: n = {fits_list[0].nobs}; "
                f"{f.formula!r}: n = {f.nobs}); refit them on the same data"
            )
    default = [getattr(f, "model_label", f.formula) for f in fits_list]
    labels = list(names) if names is not None else default
    if len(labels) != len(fits_list) or len(set(labels)) != len(labels):
        raise ModelSpecError("names must give one distinct label per model")
    if refit:
        fits_list = [f.refit_ml() if f.reml else f for f in fits_list]
    elif any(f.reml for f in fits_list):
        if not all(f.reml for f in fits_list):
            raise ModelSpecError("some models were fitted by REML and some by ML")
        if not _same_fixed(fits_list):
            raise ModelSpecError(
                "REML criteria of models with different fixed effects are not comparable; "
                "use refit=True"
            )
    npar = np.array([f.n_params for f in fits_list])
    order = np.argsort(npar, kind="stable")
    ordered = [fits_list[i] for i in order]
    loglik = np.array([f.loglik for f in ordered])
    df = np.concatenate([[np.nan], np.diff(npar[order])]).astype(float)
    chisq = np.concatenate([[np.nan], 2.0 * np.maximum(0.0, np.diff(loglik))])
    with np.errstate(invalid="ignore"):
        p = np.where(df == 0, np.nan, stats.chi2.sf(chisq, np.where(df > 0, df, np.nan)))
    table = pd.DataFrame(
        {
            "npar": npar[order],
            "aic": [f.aic for f in ordered],
            "bic": [f.bic for f in ordered],
            "loglik": loglik,
            "deviance": -2.0 * loglik,
            "chisq": chisq,
            "df": df,
            "p": p,
        },
        index=pd.Index([labels[i] for i in order], name="model"),
    )
    return table
