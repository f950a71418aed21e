"""Data contracts between the model layers (design -> engine -> inference/result).

These types are internal. ``formula.py``/``design.py`` build a :class:`Design`;
``engine.py`` fits it and returns an :class:`EngineFit`; ``inference.py`` and
``result.py`` turn that into the public :class:`LmmResult`.

Notation follows Bates, Maechler, Bolker & Walker (2015), "Fitting linear
mixed-effects models using lme4", J Stat Softw 67(1):
``y = X beta + Z b + e``, ``b = Lambda(theta) u``, ``u ~ N(0, sigma^2 I)``,
``e ~ N(0, sigma^2 I)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class RandomTerm:
    """One random-effects term ``(expr | group)`` after expansion.

    ``(1 | a/b)`` expands to two terms, ``group="b:a"`` and ``group="a"``
    (lme4 names the nested factor ``b:a``). ``(1 + x || g)`` expands to
    one term per column, each with ``correlated=True`` on a single column
    (lme4 does the same), so ``correlated=False`` never reaches the engine.

    Attributes
    ----------
    group : str
        lme4 name of the grouping factor (``"client_id"``, ``"client_id:therapist_id"``).
    columns : tuple of str
        Names of the columns of ``Z`` in lme4 style (``"(Intercept)"``, ``"session"``).
    Z : ndarray, shape (n, k)
        The term's raw model matrix (rows aligned with ``Design.y``).
    codes : ndarray of int, shape (n,)
        Group code ``0..n_levels-1`` of each row.
    levels : Index
        Level labels in code order.
    """

    group: str
    columns: tuple[str, ...]
    Z: np.ndarray
    codes: np.ndarray
    levels: pd.Index

    @property
    def k(self) -> int:
        """Number of random effects per level."""
        return len(self.columns)

    @property
    def n_levels(self) -> int:
        """Number of levels of the grouping factor."""
        return len(self.levels)

    @property
    def n_theta(self) -> int:
        """Number of covariance parameters: the lower triangle of a k x k factor."""
        return self.k * (self.k + 1) // 2


@dataclass(frozen=True)
class Design:
    """Everything the engine needs, plus what is needed to rebuild for new data.

    Attributes
    ----------
    formula : str
        The formula as given.
    response : str
        Name of the response.
    y : ndarray, shape (n,)
    X : ndarray, shape (n, p)
    fixed_names : tuple of str
        lme4-style names of the columns of X (``"(Intercept)"``, ``"stageaction"``).
    terms : tuple of RandomTerm
        In lme4 order (terms sorted by decreasing number of levels... see
        ``design.py``; the order must match lme4's ``getME(fit, "theta")``).
    row_index : Index
        Index labels of the data rows used (after dropping missing values).
    n_dropped : int
        Rows dropped because a used column was missing.
    spec : Any
        Opaque object ``design.py`` uses to build X and Z for new data.
    """

    formula: str
    response: str
    y: np.ndarray
    X: np.ndarray
    fixed_names: tuple[str, ...]
    terms: tuple[RandomTerm, ...]
    row_index: pd.Index
    n_dropped: int = 0
    spec: Any = None

    @property
    def n(self) -> int:
        return int(self.y.shape[0])

    @property
    def p(self) -> int:
        return int(self.X.shape[1])


@dataclass(frozen=True)
class PLSState:
    """The penalised least-squares solution at one value of theta.

    ``ldL2`` = log det(L_theta)^2 where L L' = Lambda' Z' Z Lambda + I;
    ``ldRX2`` = log det(R_X)^2 where R_X' R_X = X'V^{-1}X * sigma^2 (the Schur
    complement); ``pwrss`` = ||y - X beta - Z b||^2 + ||u||^2 at the optimum;
    ``beta`` the fixed effects; ``RXinv_RXinvT`` = (R_X' R_X)^{-1}, so
    ``vcov(beta) = sigma^2 * RXinv_RXinvT``.
    """

    theta: np.ndarray
    ldL2: float
    ldRX2: float
    pwrss: float
    beta: np.ndarray
    RXinv_RXinvT: np.ndarray


@dataclass
class EngineFit:
    """Output of the engine.

    ``theta`` is in lme4's order and parametrisation (per term, the lower
    triangle of the relative covariance factor Lambda_k, column-major).
    ``lower`` gives the bounds (0 on diagonal elements, -inf elsewhere).
    ``pls(theta)`` re-evaluates the penalised least squares at any theta;
    inference (Satterthwaite) uses it. ``b`` holds the conditional modes,
    one array of shape (n_levels, k) per term.
    """

    design: Design
    reml: bool
    theta: np.ndarray
    lower: np.ndarray
    beta: np.ndarray
    sigma: float
    deviance: float
    vcov_beta: np.ndarray
    b: list[np.ndarray]
    converged: bool
    n_evals: int
    message: str
    pls: Callable[[np.ndarray], PLSState]
    optimizer_info: dict[str, Any] = field(default_factory=dict)
