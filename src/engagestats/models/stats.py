"""Variance decomposition of a linear mixed model: ICC, Nakagawa's R2, conditional SDs, VarCorr.

These follow ``performance::icc`` and ``performance::r2_nakagawa`` (through
``insight::get_variance``) for linear mixed models, including their choices
for random slopes, so numbers can be compared with R line by line.

References
----------
Nakagawa, S., Johnson, P. C. D. & Schielzeth, H. (2017). The coefficient of
determination R2 and intra-class correlation coefficient from generalized
linear mixed-effects models revisited and expanded. J R Soc Interface, 14,
20170213. doi:10.1098/rsif.2017.0213

Johnson, P. C. D. (2014). Extension of Nakagawa & Schielzeth's R2GLMM to
random slopes models. Methods Ecol Evol, 5, 944-946.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

from ._types import EngineFit, RandomTerm

__all__ = [
    "VarianceParts",
    "conditional_sds",
    "covariance_blocks",
    "icc_table",
    "r2_table",
    "ranef_table",
    "varcorr_table",
    "variance_parts",
]


def lambda_blocks(fit: EngineFit) -> list[np.ndarray]:
    """The relative covariance factor ``Lambda_k`` of each term, from ``theta``."""
    out, i = [], 0
    for term in fit.design.terms:
        k = term.k
        lam = np.zeros((k, k))
        for c in range(k):
            for r in range(c, k):
                lam[r, c] = fit.theta[i]
                i += 1
        out.append(lam)
    return out


def covariance_blocks(fit: EngineFit) -> list[np.ndarray]:
    """``Sigma_k = sigma^2 Lambda_k Lambda_k'`` for each random term."""
    return [fit.sigma**2 * lam @ lam.T for lam in lambda_blocks(fit)]


def term_labels(fit: EngineFit) -> list[str]:
    """lme4's names of the random terms in ``VarCorr``: repeats get ``.1``, ``.2``."""
    seen: dict[str, int] = {}
    labels = []
    for term in fit.design.terms:
        n = seen.get(term.group, 0)
        labels.append(term.group if n == 0 else f"{term.group}.{n}")
        seen[term.group] = n + 1
    return labels


@dataclass(frozen=True)
class VarianceParts:
    """``insight::get_variance`` for a linear mixed model."""

    fixed: float
    random: float
    residual: float
    intercept: dict[str, float]


def variance_parts(fit: EngineFit) -> VarianceParts:
    """Fixed, random and residual variance as ``insight::get_variance`` computes them.

    Notes
    -----
    ``fixed = var(X beta)`` (denominator n - 1). ``random`` sums, over the
    ``VarCorr`` blocks named exactly like a grouping factor (so the extra
    ``g.1`` blocks of ``(x || g)`` are left out, as insight does), the mean over
    observations of ``z_i' Sigma_k z_i``, with ``z_i`` the row of the fixed-effect
    model matrix restricted to the block's columns (columns that are not fixed
    effects are dropped, as insight does). ``residual = sigma^2``.
    """
    design = fit.design
    xb = design.X @ fit.beta
    fixed = float(np.var(xb, ddof=1))
    names = list(design.fixed_names)
    random = 0.0
    intercept: dict[str, float] = {}
    for term, label, cov in zip(
        design.terms, term_labels(fit), covariance_blocks(fit), strict=True
    ):
        if term.columns[0] == "(Intercept)" and label == term.group:
            intercept[label] = float(cov[0, 0])
        if label != term.group:
            continue
        keep = [j for j, c in enumerate(term.columns) if c in names or c == "(Intercept)"]
        if not keep:
            continue
        cols = [names.index(term.columns[j]) if term.columns[j] in names else None for j in keep]
        z = np.column_stack([np.ones(design.n) if c is None else design.X[:, c] for c in cols])
        sub = cov[np.ix_(keep, keep)]
        random += float(np.einsum("ij,jk,ik->", z, sub, z) / design.n)
    return VarianceParts(fixed, random, float(fit.sigma**2), intercept)


def icc_table(fit: EngineFit) -> pd.DataFrame:
    """Adjusted ICC overall and per grouping factor, as ``performance::icc``.

    Returns
    -------
    DataFrame
        Indexed by ``group`` (``"overall"`` first, then each grouping factor
        with a random intercept) with columns ``icc_adjusted`` and
        ``icc_unadjusted``.
    """
    vp = variance_parts(fit)
    total_adj = vp.random + vp.residual
    total = vp.fixed + total_adj
    rows = [("overall", vp.random / total_adj, vp.random / total)]
    rows += [(g, v / total_adj, v / total) for g, v in vp.intercept.items()]
    frame = pd.DataFrame(rows, columns=["group", "icc_adjusted", "icc_unadjusted"])
    return frame.set_index("group")


def r2_table(fit: EngineFit) -> pd.DataFrame:
    """Nakagawa's marginal and conditional R2, as ``performance::r2_nakagawa``."""
    vp = variance_parts(fit)
    total = vp.fixed + vp.random + vp.residual
    return pd.DataFrame(
        {
            "r2_marginal": [vp.fixed / total],
            "r2_conditional": [(vp.fixed + vp.random) / total],
            "var_fixed": [vp.fixed],
            "var_random": [vp.random],
            "var_residual": [vp.residual],
        }
    )


def _zlambda(term: RandomTerm, lam: np.ndarray, n: int) -> sparse.csr_matrix:
    """Sparse ``Z_k Lambda_k`` of one term, columns level-major (k per level)."""
    k = term.k
    rows = np.repeat(np.arange(n), k)
    cols = (term.codes[:, None] * k + np.arange(k)[None, :]).ravel()
    z = sparse.csr_matrix((term.Z.ravel(), (rows, cols)), shape=(n, term.n_levels * k))
    return z @ sparse.kron(sparse.eye(term.n_levels), sparse.csr_matrix(lam))


def conditional_covs(fit: EngineFit) -> list[np.ndarray]:
    """Conditional covariance blocks of each term's random effects, ``(n_levels, k, k)``.

    ``sigma^2 Lambda A^{-1} Lambda'`` restricted to each level's block, with
    ``A = Lambda'Z'Z Lambda + I``: the ``postVar`` arrays of
    ``lme4::ranef(fit, condVar = TRUE)``. The term with most random effects has a
    block-diagonal part of ``A``; the others are handled by their (small) Schur
    complement, so only k x k and q2 x q2 systems are solved.
    """
    design = fit.design
    terms = design.terms
    lams = lambda_blocks(fit)
    s2 = fit.sigma**2
    big = int(np.argmax([t.n_levels * t.k for t in terms]))
    t1, lam1 = terms[big], lams[big]
    zz = np.zeros((t1.n_levels, t1.k, t1.k))
    np.add.at(zz, t1.codes, t1.Z[:, :, None] * t1.Z[:, None, :])
    inv_a1 = np.linalg.inv(np.einsum("ji,ljk,km->lim", lam1, zz, lam1) + np.eye(t1.k))
    others = [i for i in range(len(terms)) if i != big]
    out: list[np.ndarray] = [np.empty(0)] * len(terms)
    cov1 = inv_a1
    if others:
        z1l = _zlambda(terms[big], lam1, design.n)
        z2l = sparse.hstack([_zlambda(terms[i], lams[i], design.n) for i in others]).tocsc()
        q2 = z2l.shape[1]
        a12 = (z1l.T @ z2l).toarray().reshape(t1.n_levels, t1.k, q2)
        w = np.einsum("lij,ljq->liq", inv_a1, a12)
        schur = (z2l.T @ z2l).toarray() + np.eye(q2) - np.einsum("liq,lir->qr", a12, w)
        s_inv = np.linalg.inv(schur)
        cov1 = inv_a1 + np.einsum("liq,qr,ljr->lij", w, s_inv, w, optimize=True)
        off = 0
        for i in others:
            t, lam = terms[i], lams[i]
            size = t.n_levels * t.k
            blk = s_inv[off : off + size, off : off + size]
            per = np.stack(
                [blk[j * t.k : (j + 1) * t.k, j * t.k : (j + 1) * t.k] for j in range(t.n_levels)]
            )
            out[i] = s2 * np.einsum("ij,ljk,mk->lim", lam, per, lam)
            off += size
    out[big] = s2 * np.einsum("ij,ljk,mk->lim", lam1, cov1, lam1)
    return out


def conditional_sds(fit: EngineFit) -> list[np.ndarray]:
    """Conditional SDs: square roots of the diagonals of :func:`conditional_covs`."""
    return [np.sqrt(np.einsum("lii->li", cov)) for cov in conditional_covs(fit)]


def varcorr_rows(
    terms: Sequence[Any], labels: Sequence[str], covs: Sequence[np.ndarray]
) -> list[dict[str, object]]:
    """``as.data.frame(VarCorr(fit))`` rows of the random-effect terms (no residual).

    One row per variance (``sdcor`` the SD), then one per correlation of each term's
    columns (``sdcor`` the correlation; NaN where an SD is 0).
    """
    rows: list[dict[str, object]] = []
    for term, label, cov in zip(terms, labels, covs, strict=True):
        sd = np.sqrt(np.diag(cov))
        for j, col in enumerate(term.columns):
            rows.append(
                {"group": label, "var1": col, "var2": None, "vcov": cov[j, j], "sdcor": sd[j]}
            )
        for c in range(term.k):
            for r in range(c + 1, term.k):
                corr = cov[r, c] / (sd[r] * sd[c]) if sd[r] > 0 and sd[c] > 0 else np.nan
                rows.append(
                    {
                        "group": label,
                        "var1": term.columns[c],
                        "var2": term.columns[r],
                        "vcov": cov[r, c],
                        "sdcor": corr,
                    }
                )
    return rows


def varcorr_table(fit: EngineFit) -> pd.DataFrame:
    """Rows of ``as.data.frame(VarCorr(fit))``: ``group, var1, var2, vcov, sdcor``."""
    rows = varcorr_rows(fit.design.terms, term_labels(fit), covariance_blocks(fit))
    rows.append(
        {
            "group": "Residual",
            "var1": None,
            "var2": None,
            "vcov": float(fit.sigma) ** 2,
            "sdcor": float(fit.sigma),
        }
    )
    return pd.DataFrame(rows, columns=["group", "var1", "var2", "vcov", "sdcor"])


def ranef_table(fit: EngineFit, *, cond_sd: bool) -> pd.DataFrame:
    """Conditional modes per group, level and term (and their conditional SDs)."""
    frames = []
    sds = conditional_sds(fit) if cond_sd else None
    for i, (term, b) in enumerate(zip(fit.design.terms, fit.b, strict=True)):
        for j, col in enumerate(term.columns):
            frame = pd.DataFrame(
                {
                    "group": term.group,
                    "level": term.levels.astype(str),
                    "term": col,
                    "estimate": np.asarray(b)[:, j],
                }
            )
            if sds is not None:
                frame["cond_sd"] = sds[i][:, j]
            frames.append(frame)
    return pd.concat(frames, ignore_index=True)
