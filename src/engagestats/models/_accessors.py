"""Accessors shared by fitted mixed models that keep their engine output in ``self._fit``."""

from __future__ import annotations

from typing import Any


class FitAccessors:
    """Formula, convergence and sample sizes, read off ``self._fit`` (an engine fit)."""

    _fit: Any

    @property
    def formula(self) -> str:
        """The model formula."""
        return self._fit.design.formula

    @property
    def converged(self) -> bool:
        """Whether the optimiser converged (lme4's scaled-gradient check passed)."""
        return bool(self._fit.converged)

    @property
    def nobs(self) -> int:
        """Number of observations used."""
        return self._fit.design.n

    @property
    def n_dropped(self) -> int:
        """Rows dropped because a column the model uses was missing."""
        return int(self._fit.design.n_dropped)

    @property
    def ngroups(self) -> dict[str, int]:
        """Number of levels of each grouping factor (``ngrps(fit)``)."""
        return {t.group: t.n_levels for t in self._fit.design.terms}
