"""Tests of the fixed effects of a fitted LMM: Satterthwaite and Kenward-Roger t and F tests.

A mixin of :class:`engagestats.models.LmmResult` (``fixed``, ``fixed_effects``,
``vcov``, ``contrast``, ``anova``); it reads the engine output in ``self._fit``
and the engine name in ``self.engine``.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ModelSpecError
from . import _anova, _kenward_roger, inference
from .inference import check_ddf

__all__ = ["FixedEffectTests"]


class FixedEffectTests:
    """t and F tests of the fixed effects (Satterthwaite or Kenward-Roger df)."""

    _fit: Any
    engine: str

    # ------------------------------------------------------------- inference
    @cached_property
    def _sat(self) -> inference.Satterthwaite:
        fit = self._fit
        if self.engine != "engagestats":
            m = len(fit.theta) + 1
            p = fit.design.p
            return inference.Satterthwaite(
                beta=np.asarray(fit.beta, dtype=float),
                vcov_beta=np.asarray(fit.vcov_beta, dtype=float),
                varpar=np.append(fit.theta, fit.sigma),
                vcov_varpar=np.zeros((m, m)),
                jac=np.zeros((m, p, p)),
                sigma=float(fit.sigma),
            )
        return inference.satterthwaite(fit)

    @property
    def _df_inf(self) -> bool:
        return self.engine != "engagestats"

    @property
    def fixed(self) -> pd.DataFrame:
        """Fixed effects with Satterthwaite t tests.

        Indexed by ``term``; columns ``estimate, se, df, t, p, ci_low, ci_high``
        (95% CI from the t distribution with the Satterthwaite df; df = inf
        for ``engine="statsmodels"``).
        """
        return self._fixed_table.copy()

    @cached_property
    def _fixed_table(self) -> pd.DataFrame:
        names = list(self._fit.design.fixed_names)
        table = inference.contrast_table(
            self._sat, np.eye(len(names)), names=names, df_inf=self._df_inf
        )
        table.index.name = "term"
        return table

    @cached_property
    def _kr(self) -> _kenward_roger.KenwardRoger:
        if self.engine != "engagestats":
            raise ModelSpecError(
                "Kenward-Roger df need engine='engagestats'; the statsmodels engine is a "
                "cross-check that reports Wald z tests only"
            )
        return _kenward_roger.kenward_roger(self._fit)

    def _use_kr(self, ddf: str) -> bool:
        return check_ddf(ddf) == "kenward-roger"

    def fixed_effects(self, *, ddf: str = "satterthwaite", level: float = 0.95) -> pd.DataFrame:
        """Fixed effects with t tests under the chosen degrees of freedom.

        Parameters
        ----------
        ddf : {"satterthwaite", "kenward-roger"}, default "satterthwaite"
            ``"satterthwaite"`` gives :attr:`fixed` (lmerTest's default).
            ``"kenward-roger"``: standard errors from the adjusted covariance
            ``Phi_A`` and Kenward-Roger df, as lmerTest's
            ``summary(fit, ddf = "Kenward-Roger")`` (pbkrtest).
        level : float, default 0.95
            Confidence level of ``ci_low, ci_high``.

        Returns
        -------
        DataFrame
            Indexed by ``term``: ``estimate, se, df, t, p, ci_low, ci_high``.

        Raises
        ------
        ModelSpecError
            For Kenward-Roger: if the model was fitted by ML (the method is
            derived for REML; refit with ``reml=True``, nothing is refitted
            silently), uses ``engine="statsmodels"``, or has more than 3000
            random effects in total (dense ``q x q`` matrices; use Satterthwaite).

        Notes
        -----
        Kenward & Roger (1997): ``Phi_A = Phi + 2 Phi [sum_rs W_rs (Q_rs -
        P_r Phi P_s)] Phi``, ``Phi = (X'V^-1X)^-1``, ``P_r = -X'V^-1 G_r V^-1 X``,
        ``Q_rs = X'V^-1 G_r V^-1 G_s V^-1 X``, ``V = sum_r s_r G_r + sigma^2 I`` (one
        ``s_r`` per variance and covariance of each random term), ``W`` the inverse
        expected REML information of the ``s_r``. ``se = sqrt(l' Phi_A l)``; df as in
        :meth:`contrast` with ``q = 1``.

        References
        ----------
        Kenward, M. G. & Roger, J. H. (1997). Small sample inference for fixed
        effects from restricted maximum likelihood. Biometrics, 53(3), 983-997.

        Halekoh, U. & Hojsgaard, S. (2014). A Kenward-Roger approximation and
        parametric bootstrap methods for tests in linear mixed models - the R
        package pbkrtest. J Stat Softw, 59(9), 1-32. doi:10.18637/jss.v059.i09

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> from engagestats.models import lmm
        >>> rng = np.random.default_rng(1)
        >>> d = pd.DataFrame({"g": np.repeat(np.arange(12), 5), "x": np.tile(np.arange(5.0), 12)})
        >>> d["y"] = 1 + 0.5 * d["x"] + rng.normal(size=12)[d["g"]] + rng.normal(size=60)
        >>> fit = lmm("y ~ x + (1 | g)", d.iloc[7:])  # unbalanced: 12 groups of 3 to 5
        >>> kr = fit.fixed_effects(ddf="kenward-roger")
        >>> kr.columns.tolist()
        ['estimate', 'se', 'df', 't', 'p', 'ci_low', 'ci_high']
        >>> kr["df"].round(1).tolist(), fit.fixed["df"].round(1).tolist()
        ([27.3, 41.9], [27.6, 42.1])
        """
        inf = self._kr if self._use_kr(ddf) else self._sat
        names = list(self._fit.design.fixed_names)
        table = inference.contrast_table(
            inf, np.eye(len(names)), names=names, level=level, df_inf=self._df_inf
        )
        table.index.name = "term"
        return table

    @property
    def vcov(self) -> pd.DataFrame:
        """Covariance matrix of the fixed effects (``vcov(fit)``)."""
        names = list(self._fit.design.fixed_names)
        return pd.DataFrame(np.asarray(self._fit.vcov_beta), index=names, columns=names)

    def contrast(
        self,
        L: np.ndarray | list | pd.DataFrame,
        *,
        rhs: np.ndarray | float = 0.0,
        joint: bool = False,
        level: float = 0.95,
        ddf: str = "satterthwaite",
    ) -> pd.DataFrame:
        """Test linear combinations ``L beta = rhs`` of the fixed effects.

        Parameters
        ----------
        L : array_like or DataFrame, shape (k, p) or (p,)
            One row per contrast, one column per fixed effect (in the order of
            :attr:`fixed`). A DataFrame is aligned on its column names.
        rhs : float or array_like, default 0
        joint : bool, default False
            ``False``: one t test per row (``lmerTest::contest(joint = FALSE)``).
            ``True``: one F test of all rows (``contest(joint = TRUE)``).
        level : float, default 0.95
            Confidence level of the row-wise intervals.
        ddf : {"satterthwaite", "kenward-roger"}, default "satterthwaite"
            Degrees-of-freedom method, as lmerTest's ``contest(ddf = ...)``.
            Kenward-Roger needs a REML fit (see :meth:`fixed_effects`).

        Returns
        -------
        DataFrame
            Row-wise: ``estimate, se, df, t, p, ci_low, ci_high`` per contrast.
            Joint: one row with ``sum_sq, mean_sq, num_df, den_df, f, p``.
            Under Kenward-Roger ``se`` comes from the adjusted covariance
            ``Phi_A`` and ``f`` is the scaled statistic ``lambda F`` (referred
            to ``F(q, den_df)``), while ``mean_sq = F sigma^2`` uses the
            unscaled ``F``, as lmerTest reports them.

        Raises
        ------
        ModelSpecError
            If ``L`` does not have one column per fixed effect, or for
            Kenward-Roger if the fit is ML or ``L`` (joint) is rank deficient.

        Notes
        -----
        Kenward-Roger joint test (Kenward & Roger, 1997; pbkrtest's ``KRmodcomp``):
        ``F = d' (L Phi_A L')^-1 d / q``, ``d = L beta - rhs``, ``q = rank(L)``;
        ``lambda F ~ F(q, m)`` where ``m = 4 + (q + 2) / (q rho - 1)`` and
        ``lambda = m / (E* (m - 2))`` come from matching the first two moments
        of ``F`` (``E*``, ``rho`` from ``A1, A2``: see
        ``engagestats.models._kenward_roger.KenwardRoger.adjust``). One row
        (``q = 1``) gives the t test with ``se = sqrt(l' Phi_A l)``, ``df = m``.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> from engagestats.models import lmm
        >>> rng = np.random.default_rng(1)
        >>> d = pd.DataFrame({"g": np.repeat(np.arange(30), 5), "x": np.tile(np.arange(5.0), 30)})
        >>> d["y"] = 1 + 0.5 * d["x"] + rng.normal(size=30)[d["g"]] + rng.normal(size=150)
        >>> fit = lmm("y ~ x + (1 | g)", d)
        >>> fit.contrast([[0, 1], [1, 2]]).columns.tolist()
        ['estimate', 'se', 'df', 't', 'p', 'ci_low', 'ci_high']
        >>> fit.contrast([[0, 1], [1, 2]], joint=True)["num_df"].item()
        2
        >>> fit.contrast([[0, 1], [1, 2]], joint=True, ddf="kenward-roger")["num_df"].item()
        2
        """
        names = None
        if isinstance(L, pd.DataFrame):
            unknown = sorted(set(L.columns) - set(self._fit.design.fixed_names))
            if unknown:
                raise ModelSpecError(f"contrast columns are not fixed effects: {unknown}")
            names = [str(i) for i in L.index]
            L = L.reindex(columns=list(self._fit.design.fixed_names), fill_value=0.0).to_numpy(
                dtype=float
            )
        if self._use_kr(ddf):
            if joint:
                return _kenward_roger.f_test_kr(self._kr, L, rhs=rhs)
            return inference.contrast_table(self._kr, L, rhs=rhs, names=names, level=level)
        if joint:
            return inference.f_test(self._sat, L, rhs=rhs, df_inf=self._df_inf)
        return inference.contrast_table(
            self._sat, L, rhs=rhs, names=names, level=level, df_inf=self._df_inf
        )

    def anova(self, *, type: int | str = 3, ddf: str = "satterthwaite") -> pd.DataFrame:
        """Per-term F tests as lmerTest's ``anova(fit, type, ddf)`` (intercept not tested).

        Parameters
        ----------
        type : {3, 2, 1} or {"III", "II", "I"}, default 3
        ddf : {"satterthwaite", "kenward-roger"}, default "satterthwaite"

        Returns
        -------
        DataFrame
            Indexed by ``term``: ``sum_sq, mean_sq, num_df, den_df, f, p``.

        Notes
        -----
        Each row is ``contrast(L, joint=True, ddf=ddf)`` of the term's hypothesis ``L``. Type
        III (SAS, lmerTest): the term adjusted for all others, by Goodnight's estimable
        functions (invariant to the coding); II: adjusted for the terms not containing it
        (marginality); I: sequential. ``L`` as lmerTest 3.1-3 (``engagestats.models._anova``).

        References
        ----------
        Kuznetsova, Brockhoff & Christensen (2017), J Stat Softw 82(13); Goodnight (1980),
        Am Stat 34, 216-221; Fox & Weisberg (2019), An R Companion to Applied Regression.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> from engagestats.models import lmm
        >>> d = pd.DataFrame({"g": np.repeat(np.arange(10), 4), "f": np.tile(list("abcc"), 10),
        ...                   "y": np.random.default_rng(2).normal(size=40)})
        >>> lmm("y ~ f + (1 | g)", d).anova(type="III").index.tolist()
        ['f']
        """
        return _anova.anova_table(self, type=type, ddf=ddf)  # type: ignore[arg-type]  # mixin of LmmResult
