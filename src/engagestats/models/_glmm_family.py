"""GLM families of :func:`engagestats.models.glmm`.

Binomial (logit, probit), Poisson and negative binomial (log).

Internal. Each :class:`Family` gives the inverse link, ``d mu / d eta``, the
variance function and ``-2 log f(y | mu)`` *including* its constants (the
log binomial coefficient, ``log y!``), so that the Laplace deviance built on it
equals ``-2 * logLik`` of ``lme4::glmer``. For binomial data ``y`` is the
proportion of successes and the prior weight ``w`` the number of trials (lme4's
convention for ``cbind(successes, failures)``); ``w = 1`` for 0/1 data.

The PIRLS weights are the expected (Fisher) weights ``w (d mu / d eta)^2 / V(mu)``,
as lme4 uses for every link; for the canonical links (logit, log) they equal
the observed ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import numpy as np
from scipy.special import expit, gammaln, log_ndtr, ndtr

from ..errors import ModelSpecError

__all__ = ["Family", "get_family"]

_EPS = np.finfo(float).eps
_LOG_DENSITY = -0.5 * np.log(2.0 * np.pi)


@dataclass(frozen=True)
class Family:
    """A family-link pair (``family(fit)$family`` and ``$link`` in R)."""

    name: str
    link: str
    nb_theta: float | None = None  # negative binomial size (Var = mu + mu^2 / theta)

    @property
    def _theta(self) -> float:
        """``nb_theta`` as a number: the negative binomial branches run only when it is set."""
        return cast(float, self.nb_theta)

    @property
    def canonical(self) -> bool:
        return (self.name, self.link) in {("binomial", "logit"), ("poisson", "log")}

    def mu(self, eta: np.ndarray) -> np.ndarray:
        if self.link == "logit":
            return np.clip(expit(eta), _EPS, 1.0 - _EPS)
        if self.link == "probit":
            return np.clip(ndtr(eta), _EPS, 1.0 - _EPS)
        return np.exp(np.minimum(eta, 700.0))

    def mu_eta(self, eta: np.ndarray, mu: np.ndarray) -> np.ndarray:
        if self.link == "logit":
            return np.maximum(mu * (1.0 - mu), _EPS)
        if self.link == "probit":
            return np.maximum(np.exp(_LOG_DENSITY - 0.5 * eta**2), _EPS)
        return np.maximum(mu, _EPS)

    def variance(self, mu: np.ndarray) -> np.ndarray:
        if self.name == "negative_binomial":
            return mu + mu**2 / self._theta
        return mu * (1.0 - mu) if self.name == "binomial" else mu

    def weights_score(
        self, y: np.ndarray, pw: np.ndarray, eta: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``mu``, Fisher weights ``pw mu_eta^2 / V`` and the score ``pw (y - mu) mu_eta / V``."""
        mu = self.mu(eta)
        if self.canonical:
            var = self.variance(mu)
            return mu, pw * var, pw * (y - mu)
        me = self.mu_eta(eta, mu)
        var = self.variance(mu)
        return mu, pw * me**2 / var, pw * (y - mu) * me / var

    def constant(self, y: np.ndarray, pw: np.ndarray) -> np.ndarray:
        """The part of ``-2 log f`` free of ``eta``: ``2 log y!`` or ``-2 log choose(n, k)``."""
        if self.name == "poisson":
            return 2.0 * gammaln(y + 1.0)
        if self.name == "negative_binomial":
            th = self._theta
            return -2.0 * (gammaln(y + th) - gammaln(th) - gammaln(y + 1.0) + th * np.log(th))
        k = y * pw
        return -2.0 * (gammaln(pw + 1.0) - gammaln(k + 1.0) - gammaln(pw - k + 1.0))

    def kernel(self, y: np.ndarray, pw: np.ndarray, eta: np.ndarray) -> np.ndarray:
        """``-2 log f(y_i | eta_i)`` without :meth:`constant`."""
        if self.name == "poisson":
            return 2.0 * (np.exp(np.minimum(eta, 700.0)) - y * eta)
        if self.name == "negative_binomial":
            th = self._theta
            log_th_mu = np.logaddexp(np.log(th), np.minimum(eta, 700.0))  # log(theta + mu)
            return -2.0 * (y * eta - (th + y) * log_th_mu)
        k = y * pw
        if self.link == "logit":
            # k log mu + (n - k) log(1 - mu) = k eta - n log(1 + e^eta)
            return -2.0 * (k * eta - pw * np.logaddexp(0.0, eta))
        return -2.0 * (k * log_ndtr(eta) + (pw - k) * log_ndtr(-eta))

    def neg2loglik(self, y: np.ndarray, pw: np.ndarray, eta: np.ndarray) -> np.ndarray:
        """``-2 log f(y_i | eta_i)`` per observation, with all constants."""
        return self.kernel(y, pw, eta) + self.constant(y, pw)

    def saturated(self, y: np.ndarray, pw: np.ndarray) -> float:
        """``sum -2 log f(y_i | mu_i = y_i)``: the constant lme4 drops for ``nAGQ > 1``."""
        if self.name == "negative_binomial":
            with np.errstate(divide="ignore"):
                eta = np.where(y > 0, np.log(np.where(y > 0, y, 1.0)), -np.inf)
            ker = np.where(y > 0, self.kernel(y, pw, np.where(y > 0, eta, 0.0)), 0.0)
            ker = np.where(y > 0, ker, 2.0 * self._theta * np.log(self._theta))
            return float(np.sum(ker + self.constant(y, pw)))
        if self.name == "poisson":
            with np.errstate(divide="ignore", invalid="ignore"):
                ylogy = np.where(y > 0, y * np.log(np.where(y > 0, y, 1.0)), 0.0)
            return float(np.sum(2.0 * (y - ylogy + gammaln(y + 1.0))))
        k = y * pw
        lchoose = gammaln(pw + 1.0) - gammaln(k + 1.0) - gammaln(pw - k + 1.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            a = np.where(y > 0, k * np.log(np.where(y > 0, y, 1.0)), 0.0)
            b = np.where(y < 1, (pw - k) * np.log(np.where(y < 1, 1.0 - y, 1.0)), 0.0)
        return float(np.sum(-2.0 * (lchoose + a + b)))

    def effect_ratio(self) -> str | None:
        """Name of ``exp(beta)`` on the response scale, if it has one."""
        if self.link == "logit":
            return "odds_ratio"
        if self.link == "log":
            return "rate_ratio"
        return None


_LINKS = {"binomial": ("logit", "probit"), "poisson": ("log",), "negative_binomial": ("log",)}


def get_family(family: str, link: str | None) -> Family:
    """Validate ``family``/``link`` (``link=None``: the canonical link)."""
    if family not in _LINKS:
        raise ModelSpecError(f"family must be one of {sorted(_LINKS)}, got {family!r}")
    links = _LINKS[family]
    link = links[0] if link is None else link
    if link not in links:
        raise ModelSpecError(
            f"link {link!r} is not available for family {family!r}; choose from {list(links)}"
        )
    return Family(family, link)
