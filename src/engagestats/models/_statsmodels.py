"""``engine="statsmodels"``: fit the same design with statsmodels' MixedLM.

This is an independent cross-check of the engagestats engine. The design
(``X``, ``Z``, grouping) is built by :func:`engagestats.models.design.build_design`;
only the estimation differs. statsmodels MixedLM has a single top-level
grouping factor, so only these random structures can be expressed:

* terms that all share one grouping factor: one correlated term
  ``(1 + x | g)`` (``re_formula``), or independent single-column terms
  ``(1 | g) + (0 + x | g)`` as from ``(1 + x || g)``;
* an outer random intercept with single-column terms nested in it, e.g.
  ``(1 | therapist/client)`` (``groups = therapist`` and one variance
  component for the client intercepts, ``vc_formula``).

Anything else (crossed factors, correlated client slopes plus a therapist
level) raises :class:`~engagestats.errors.ModelSpecError`. Inference uses
df = inf (Wald z tests); statsmodels has no Satterthwaite df.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ..errors import ConvergenceWarning, ModelSpecError
from ._types import Design, EngineFit, PLSState, RandomTerm

_LOG2PI = float(np.log(2.0 * np.pi))


def _structure(design: Design) -> tuple[RandomTerm, list[RandomTerm]]:
    """Split the terms into the top-level one (``exog_re``) and variance components."""
    terms = list(design.terms)
    if not terms:
        raise ModelSpecError("engine='statsmodels' needs at least one random term")
    groups = {t.group for t in terms}
    if len(groups) == 1:
        corr = [t for t in terms if t.k > 1]
        if len(terms) == 1 or all(t.k == 1 for t in terms):
            return terms[0], terms[1:]
        raise ModelSpecError(
            f"statsmodels MixedLM cannot combine the correlated term with columns "
            f"{corr[0].columns} and further terms for the same factor {corr[0].group!r}"
        )
    outer = [t for t in terms if t.n_levels == min(x.n_levels for x in terms)]
    top = outer[0]
    if top.k != 1 or top.columns != ("(Intercept)",):
        raise ModelSpecError(
            "statsmodels MixedLM can only nest variance components inside a top-level "
            f"random intercept; the term for {top.group!r} has columns {top.columns}"
        )
    inner = [t for t in terms if t is not top]
    for t in inner:
        if t.group == top.group:
            continue
        if t.k != 1:
            raise ModelSpecError(
                f"statsmodels MixedLM cannot express the correlated term with columns "
                f"{t.columns} for {t.group!r} together with the {top.group!r} level; "
                "use engine='engagestats', or uncorrelated terms (||)"
            )
        outer_per_level = pd.Series(top.codes).groupby(t.codes).nunique()
        if (outer_per_level > 1).any():
            raise ModelSpecError(
                f"statsmodels MixedLM cannot fit crossed factors: levels of {t.group!r} "
                f"occur in several levels of {top.group!r}"
            )
    return top, inner


def _no_pls(theta: np.ndarray) -> PLSState:
    raise ModelSpecError("engine='statsmodels' has no penalised least squares evaluator")


def _vcov_beta(
    design: Design, top: RandomTerm, blocks: dict[int, np.ndarray], sigma: float
) -> np.ndarray:
    """``sigma^2 (X' V^{-1} X)^{-1}`` with ``V / sigma^2 = I + Z Lambda Lambda' Z'``.

    This is lme4's ``vcov(fit)``; statsmodels' ``cov_params()`` instead inverts
    the joint observed information, which differs slightly in finite samples.
    ``V`` is block diagonal over the levels of the top-level factor.
    """
    p = design.p
    info = np.zeros((p, p))
    for g in range(top.n_levels):
        rows = np.flatnonzero(top.codes == g)
        cols = []
        for i, t in enumerate(design.terms):
            codes = t.codes[rows]
            for u in np.unique(codes):
                sel = (codes == u)[:, None]
                cols.append(np.where(sel, t.Z[rows], 0.0) @ blocks[i])
        zl = np.hstack(cols)
        v = np.eye(rows.size) + zl @ zl.T
        x = design.X[rows]
        info += x.T @ np.linalg.solve(v, x)
    return sigma**2 * np.linalg.inv(info)


def fit_statsmodels(design: Design, *, reml: bool = True) -> EngineFit:
    """Fit ``design`` with :class:`statsmodels.regression.mixed_linear_model.MixedLM`.

    Returns an :class:`EngineFit` with ``theta`` in lme4's parametrisation,
    ``deviance = -2 llf`` (statsmodels' REML or ML log-likelihood, which uses
    the same constants as lme4), and conditional modes ``b``.
    """
    from statsmodels.regression.mixed_linear_model import MixedLM, VCSpec

    top, inner = _structure(design)
    exog_vc = None
    if inner:
        group_rows = [np.flatnonzero(top.codes == g) for g in range(top.n_levels)]
        names, colnames, mats = [], [], []
        for j, t in enumerate(inner):
            comp_mats, comp_cols = [], []
            for rows in group_rows:
                codes = t.codes[rows]
                used = np.unique(codes)
                mat = np.zeros((rows.size, used.size))
                mat[np.arange(codes.size), np.searchsorted(used, codes)] = t.Z[rows, 0]
                comp_mats.append(mat)
                comp_cols.append([f"{t.group}[{u}]" for u in used])
            names.append(f"vc{j}")
            colnames.append(comp_cols)
            mats.append(comp_mats)
        exog_vc = VCSpec(names, colnames, mats)
    model = MixedLM(
        design.y, design.X, groups=top.codes, exog_re=top.Z, exog_vc=exog_vc, use_sqrt=True
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = model.fit(reml=reml, method=["lbfgs", "bfgs", "nm"])
    converged = bool(res.converged)
    for w in caught:
        if "converge" in str(w.message).lower() or "boundary" in str(w.message).lower():
            converged = False
    if not converged:
        warnings.warn(
            "statsmodels MixedLM did not report convergence", ConvergenceWarning, stacklevel=3
        )
    scale = float(res.scale)
    sigma = np.sqrt(scale)
    # theta: Cholesky factor of the relative covariance, lower triangle column-major.
    rel_top = np.asarray(res.cov_re, dtype=float) / scale
    vc_rel = np.atleast_1d(np.asarray(res.vcomp, dtype=float)) / scale
    blocks: dict[int, np.ndarray] = {}
    for i, t in enumerate(design.terms):
        if t is top:
            try:
                lam = np.linalg.cholesky(rel_top)
            except np.linalg.LinAlgError:  # singular fit: semi-definite factor
                vals, vecs = np.linalg.eigh(rel_top)
                lam = np.linalg.qr((vecs * np.sqrt(np.clip(vals, 0.0, None))).T)[1].T
                lam = lam * np.sign(np.where(np.diag(lam) == 0, 1.0, np.diag(lam)))
        else:
            lam = np.array([[np.sqrt(max(vc_rel[inner.index(t)], 0.0))]])
        blocks[i] = lam
    theta = np.concatenate(
        [
            np.array([blocks[i][r, c] for c in range(t.k) for r in range(c, t.k)])
            for i, t in enumerate(design.terms)
        ]
    )
    lower = np.concatenate(
        [
            np.array([0.0 if r == c else -np.inf for c in range(t.k) for r in range(c, t.k)])
            for t in design.terms
        ]
    )
    b = [np.zeros((t.n_levels, t.k)) for t in design.terms]
    top_i = design.terms.index(top)
    re = res.random_effects
    for g in range(top.n_levels):
        vals = np.asarray(re[g], dtype=float)
        b[top_i][g] = vals[: top.k]
        off = top.k
        rows = top.codes == g
        for t in inner:
            used = np.unique(t.codes[rows])
            b[design.terms.index(t)][used, 0] = vals[off : off + used.size]
            off += used.size
    return EngineFit(
        design=design,
        reml=reml,
        theta=theta,
        lower=lower,
        beta=np.asarray(res.fe_params, dtype=float),
        sigma=float(sigma),
        deviance=float(-2.0 * res.llf),
        vcov_beta=_vcov_beta(design, top, blocks, float(sigma)),
        b=b,
        converged=converged,
        n_evals=int(getattr(res, "n_evals", 0) or 0),
        message="statsmodels MixedLM",
        pls=_no_pls,
        optimizer_info={"statsmodels_result": res},
    )
