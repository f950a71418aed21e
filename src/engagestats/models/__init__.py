"""Mixed-effects models with lme4 syntax: a general library that knows nothing about therapy.

``lmm(formula, data)`` fits ``y = X beta + Z b + e`` by REML (or ML) and
returns an :class:`LmmResult` with Satterthwaite t tests, variance components,
random effects, predictions, ICC and R2; ``compare(m0, m1)`` gives
likelihood-ratio tests like lme4's ``anova``;
``lmm(..., correlation="ar1")`` adds AR(1) or continuous-time AR(1) residuals
(nlme's ``corAR1`` / ``corCAR1``). ``glmm`` fits a logistic mixed
model (Laplace or adaptive Gauss-Hermite quadrature, as ``lme4::glmer``) and
``gee`` a population-averaged logistic GEE.
"""

from __future__ import annotations

from ._ar1_result import CorrelatedLmmResult
from ._compare import compare
from ._gee import GeeResult, gee
from ._glmm import GlmmResult, glmm
from ._lmm import lmm
from ._pool import pool, rubin
from .result import LmmResult

__all__ = [
    "CorrelatedLmmResult",
    "GeeResult",
    "GlmmResult",
    "LmmResult",
    "compare",
    "gee",
    "glmm",
    "lmm",
    "pool",
    "rubin",
]
