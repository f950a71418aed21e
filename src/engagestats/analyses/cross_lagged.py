"""Bidirectional alliance-outcome model: cross-lagged panel models with random intercepts."""

from __future__ import annotations

import html
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from .._validate import check_choice, check_level, check_positive_int
from ..errors import ConvergenceWarning, ModelSpecError
from ..scoring import ScoringPolicy, policy_for, state_policy
from ..study import CLIENT, SESSION, Study
from ._cross_lagged_data import wide_panel
from ._cross_lagged_ml import STRUCTURAL, TRENDS, fit_riclpm
from ._panel import named_terms
from ._tables import policy_text

__all__ = ["CrossLaggedResult", "cross_lagged"]

PATH_COLUMNS = ["path", "estimand", "estimate", "se", "z", "p", "ci_low", "ci_high"]

#: Fewest occasions for ``trends=True``. No published minimum was found; at 3 occasions
#: the model has one more observed moment than parameters (27 against 26) and, in the
#: reference panel, the alliance -> outcome SE was 1.0 against 0.13 at 4 occasions.
MIN_WAVES_TRENDS = 4


@dataclass
class CrossLaggedResult:
    """A fitted cross-lagged panel model with random intercepts (:func:`cross_lagged`).

    Attributes
    ----------
    paths : DataFrame
        The four within-person lagged paths: ``path, estimand, estimate, se, z, p,
        ci_low, ci_high``.
    parameters : DataFrame
        Every free parameter (``parameter, lavaan, estimate, se, z, p, ci_low, ci_high``;
        ``lavaan`` is the parameter in lavaan's syntax of the reference model).
    exclusions : DataFrame
        ``reason, n_rows, n_clients``: every input row that contributes no value.
    coverage : DataFrame
        Per occasion, the number of clients observed on each variable.
    data : DataFrame
        The wide panel analysed (one row per client; ``NaN`` = missing at the occasion).
    loglik, n_clients, n_waves, n_params, converged, occasion, level
        Fit information.
    trends : bool
        Whether the model has person-specific linear trends (the latent curve model with
        structured residuals) or random intercepts only (the RI-CLPM); :attr:`model`
        names it.
    scoring_policy : ScoringPolicy or None
        The study's scoring policy (None for a DataFrame, whose scores are used
        as given); :attr:`paths`, :attr:`parameters`, :attr:`exclusions` and
        :attr:`coverage` record it in ``attrs["scoring_policy"]`` and
        :meth:`summary` states it.
    """

    paths: pd.DataFrame
    parameters: pd.DataFrame
    exclusions: pd.DataFrame
    coverage: pd.DataFrame
    data: pd.DataFrame
    predictor: str
    outcome: str
    loglik: float
    n_clients: int
    n_waves: int
    n_params: int
    converged: bool
    occasion: str
    level: float
    scoring_policy: ScoringPolicy | None = None
    trends: bool = False

    @property
    def model(self) -> str:
        """The model's name: LCM-SR (``trends=True``) or RI-CLPM."""
        if self.trends:
            return "Latent curve model with structured residuals (LCM-SR)"
        return "Random-intercept cross-lagged panel model (RI-CLPM)"

    def __post_init__(self) -> None:
        for table in (self.paths, self.parameters, self.exclusions, self.coverage):
            state_policy(table, self.scoring_policy)

    @property
    def aic(self) -> float:
        """Akaike's information criterion, ``-2 logLik + 2 k``."""
        return -2.0 * self.loglik + 2.0 * self.n_params

    @property
    def bic(self) -> float:
        """Bayesian information criterion, ``-2 logLik + log(n clients) k``."""
        return -2.0 * self.loglik + np.log(self.n_clients) * self.n_params

    def interpretation(self) -> list[str]:
        """One plain-language sentence per cross-lagged path (no causal wording)."""
        out = []
        own = "own trend line" if self.trends else "own typical level"
        for r in self.paths.iloc[:2].itertuples(index=False):
            src, dst = r.path.split(" -> ")
            sig = "" if r.p < 1 - self.level else "not "
            out.append(
                f"When a client's {src} is 1 point above the client's {own} at "
                f"one occasion, their {dst} at the next occasion is on average "
                f"{abs(r.estimate):.3f} points {'higher' if r.estimate > 0 else 'lower'} "
                f"relative to their {own}, at the same previous {dst} "
                f"({self.level:.0%} CI {r.ci_low:.3f} to {r.ci_high:.3f}; {sig}statistically "
                f"significant at {1 - self.level:.2g}). This is a within-person association "
                "over time, not proof of cause."
            )
        return out

    def summary(self) -> str:
        """Fit information, the lagged paths, the exclusions and the interpretations."""
        head = (
            f"{self.model}: {self.predictor} <-> {self.outcome}\n"
            f"clients: {self.n_clients}, occasions: {self.n_waves} (indexed by "
            f"{self.occasion}), parameters: {self.n_params}, log-likelihood: "
            f"{self.loglik:.3f}, AIC: {self.aic:.1f}, BIC: {self.bic:.1f}"
            + ("" if self.converged else "\nWARNING: the optimiser did not converge")
        )
        cols = ["path", "estimate", "se", "z", "p", "ci_low", "ci_high"]
        excl = "none" if self.exclusions.empty else self.exclusions.to_string(index=False)
        return "\n\n".join(
            [
                head,
                self.paths[cols].to_string(index=False, float_format=lambda v: f"{v:.4f}"),
                "rows without a value (FIML: missing at random assumed):\n" + excl,
                "\n".join(self.interpretation()),
                policy_text(self.scoring_policy),
            ]
        )

    def _repr_html_(self) -> str:
        excl = self.exclusions.to_html(index=False) if len(self.exclusions) else "<p>none</p>"
        return (
            f"<div><strong>{html.escape(self.model)}: "
            f"{html.escape(self.predictor)} &harr; {html.escape(self.outcome)}</strong>"
            f"<p>{self.n_clients} clients, {self.n_waves} occasions, log-likelihood "
            f"{self.loglik:.3f}</p>"
            f"{self.paths.to_html(index=False, float_format=lambda v: f'{v:.4f}')}"
            f"<p>Rows without a value:</p>{excl}"
            f"<p><small>{html.escape(policy_text(self.scoring_policy))}</small></p></div>"
        )


def cross_lagged(
    data: Study | pd.DataFrame,
    *,
    outcome: str = "phq9_total",
    predictor: str | Mapping[str, str] | None = None,
    session: str = SESSION,
    client: str = CLIENT,
    occasion: Literal["session", "attended"] = "session",
    waves: int | None = None,
    trends: bool = True,
    level: float = 0.95,
) -> CrossLaggedResult:
    """Fit a cross-lagged panel model of alliance and outcome with clients' own trends.

    Estimates, together, how a client's alliance at one occasion relates to their
    symptoms at the next, and how their symptoms relate to their next alliance, after
    separating stable differences between clients (random intercepts) and, by default,
    clients' own linear trends (random slopes) from the within-client fluctuations: the
    latent curve model with structured residuals (LCM-SR; Curran et al. 2014).
    ``trends=False`` fits the random-intercept cross-lagged panel model (RI-CLPM;
    Hamaker, Kuiper & Grasman 2015).

    Parameters
    ----------
    data : Study or DataFrame
        A :class:`~engagestats.Study` (scores missing from its panel are scored under
        the analyses' policy, as in :func:`growth_model`), or a long DataFrame with one
        row per client and session.
    outcome : str, default "phq9_total"
        The symptom measure.
    predictor : str or mapping of name to column, default ``{"alliance": "wai_sr_sum"}``
        The process measure; a mapping names it in the tables.
    session, client : str
        Session-number and client columns.
    occasion : {"session", "attended"}, default "session"
        How sessions become the model's occasions (the rule for irregular and missed
        sessions). ``"session"``: occasion ``t`` is session number ``t`` (1, 2, ...); a
        missed session, an absent row or a missing score is a missing value at its
        occasion, and the lag always spans one scheduled session. ``"attended"``:
        occasion ``t`` is the client's ``t``-th session with a score of either measure,
        so gaps are closed and the lag is "the previous measured session", whatever the
        interval.
    waves : int, optional
        Number of occasions analysed. By default, up to the last occasion before the
        first at which fewer than 10 clients have a value; later rows are counted in
        ``exclusions``.
    trends : bool, default True
        Person-specific linear trends in both measures (random slopes, loading
        ``t - 1`` at occasion ``t``, correlated with each other and the random
        intercepts): the LCM-SR, whose lagged paths are on deviations from each
        client's own lines. It needs at least 4 occasions (``ModelSpecError`` below
        that). ``False`` drops the trends (the RI-CLPM), whose lagged paths absorb any
        trends clients have (in long series badly so; see Notes): use it only where
        clients have no trends of their own, or with 2-3 occasions. The default was
        ``False`` before issue 15 (``docs/changelog.md``).
    level : float, default 0.95
        Confidence level of the Wald intervals.

    Returns
    -------
    CrossLaggedResult
        ``paths`` (the four lagged within-person paths), ``parameters`` (all),
        ``exclusions``, ``coverage``, ``summary()``.

    Raises
    ------
    DataValidationError
        When a column is missing or not numeric, a session number is not a positive
        integer (``occasion="session"``), or a client has two rows at one occasion.
    ModelSpecError
        When fewer than 2 occasions are left, or fewer than 4 with ``trends=True``.

    Warns
    -----
    ConvergenceWarning
        When the optimiser stops short of the maximum, or the information matrix is not
        positive definite (the SEs are then ``NaN``).

    Notes
    -----
    With :math:`x` the predictor and :math:`y` the outcome of client :math:`i` at
    occasion :math:`t = 1..T`:

    .. math::

        x_{ti} = \\mu^x_t + \\kappa_i + w^x_{ti}, \\qquad
        y_{ti} = \\mu^y_t + \\omega_i + w^y_{ti},

        w^x_{ti} = \\alpha_x w^x_{t-1,i} + \\beta_{yx} w^y_{t-1,i} + u^x_{ti}, \\qquad
        w^y_{ti} = \\alpha_y w^y_{t-1,i} + \\beta_{xy} w^x_{t-1,i} + u^y_{ti}.

    The occasion means :math:`\\mu_t` are free (any average trajectory), the random
    intercepts :math:`(\\kappa_i, \\omega_i)` hold the stable between-client differences
    (their variances and covariance), and the within-client components :math:`w` follow
    a bivariate first-order autoregression with time-invariant paths and innovation
    (co)variances; the occasion-1 components have their own free covariance matrix and
    are uncorrelated with the random intercepts.

    Estimands. ``predictor -> outcome`` is :math:`\\beta_{xy}`, the within-person
    cross-lagged effect: the expected deviation of the outcome from the client's own
    trend line (the LCM-SR) or typical level (the RI-CLPM) at :math:`t` per unit
    deviation of the predictor at :math:`t-1`, holding the outcome's deviation at
    :math:`t-1` (the prior outcome) constant. ``outcome -> predictor`` is
    :math:`\\beta_{yx}` likewise; the autoregressions :math:`\\alpha` are within-person
    carry-over. Stable differences between clients (and, in the LCM-SR, clients' own
    linear trends) cannot produce these paths (they are in the random intercepts and
    slopes), unlike the paths of a cross-lagged model without random intercepts. They
    are still associations: a third time-varying variable, or effects faster than one
    occasion (in the innovation covariance), are not ruled out.

    Estimation is full-information maximum likelihood (missing values at random given
    the observed ones; every client with at least one value contributes), with SEs from
    the observed information (the Hessian), Wald :math:`z` tests and intervals, as
    lavaan with ``missing = "ml"``, ``information = "observed"``. With ``trends``
    (the default), :math:`x_{ti}` and :math:`y_{ti}` also have
    :math:`(t - 1)\\,\\kappa^s_i` and :math:`(t - 1)\\,\\omega^s_i`; without it,
    person-specific trends are not modelled (only the average trajectory, in
    :math:`\\mu_t`).

    Person-specific trends. Random intercepts do not remove clients' own linear trends:
    in the RI-CLPM a client's slope in either measure stays in the within-client
    components :math:`w` and the lagged paths absorb it. The RI-CLPM and the LCM-SR
    differ only in the common factors that model change (stable intercepts, or
    intercepts and slopes), and the cross-lagged paths mean different things, and can
    disagree, under the two (Usami, Murayama & Hamaker 2019); in session-by-session
    alliance data, estimates depended strongly on whether the series were detrended
    (Falkenström et al. 2017), and Falkenström, Solomonov & Rubel (2020) recommend
    modelling or removing clients' trends. The library's validity benchmark
    (``docs/validity.md``, 100 replications per cell) measured the RI-CLPM's failure,
    which made it the default until issue 15: in series of 100
    clients x 20 fully observed sessions with a true alliance -> outcome path of 0, the
    RI-CLPM estimate was biased by -0.187 (Monte-Carlo SE 0.003), rejecting the null in
    100% of studies, when clients' alliance and symptom slopes were correlated; by
    +0.080 (0.002), rejecting in 92% (MCSE 2.7 points), when only the symptoms had
    person-specific slopes and the alliance responded to the AR(1) symptom residual;
    and by -0.052 (0.002), rejecting in 75% (4.3), with both. The LCM-SR's bias was at
    most 0.005 (2.0 MCSE) in the same studies, with false-positive rates of 4.0-5.7%;
    with both mechanisms, 13 of its 100 fits had no SEs (information matrix not
    positive definite). In the benchmark's 12-session design the two models agreed
    (false-positive rates 1-6% under three nulls); under a true path of -0.08 the
    LCM-SR covered it in 94% of studies (RI-CLPM 89%), with power 0.74 (RI-CLPM 0.85).
    A fit without SEs warns (``ConvergenceWarning``); its paths have no intervals.

    References
    ----------
    Hamaker, E. L., Kuiper, R. M., & Grasman, R. P. P. P. (2015). A critique of the
    cross-lagged panel model. *Psychological Methods, 20*(1), 102-116.

    Curran, P. J., Howard, A. L., Bainter, S. A., Lane, S. T., & McGinley, J. S.
    (2014). The separation of between-person and within-person components of
    individual change over time: A latent curve model with structured residuals.
    *Journal of Consulting and Clinical Psychology, 82*(5), 879-894.

    Mulder, J. D., & Hamaker, E. L. (2021). Three extensions of the random intercept
    cross-lagged panel model. *Structural Equation Modeling, 28*(4), 638-648.

    Usami, S., Murayama, K., & Hamaker, E. L. (2019). A unified framework of
    longitudinal models to examine reciprocal relations. *Psychological Methods,
    24*(5), 637-657.

    Falkenström, F., Finkel, S., Sandell, R., Rubel, J. A., & Holmqvist, R. (2017).
    Dynamic models of individual change in psychotherapy process research. *Journal of
    Consulting and Clinical Psychology, 85*(6), 537-549.

    Falkenström, F., Solomonov, N., & Rubel, J. A. (2020). Using time-lagged panel data
    analysis to study mechanisms of change in psychotherapy research: Methodological
    recommendations. *Counselling and Psychotherapy Research, 20*(3), 435-441.

    Examples
    --------
    >>> import engagestats as es
    >>> m = es.cross_lagged(es.load_sample(), waves=8)
    >>> m.paths["path"].tolist()
    ['alliance -> phq9_total', 'phq9_total -> alliance', 'alliance -> alliance', 'phq9_total -> phq9_total']
    >>> m.n_waves, m.converged
    (8, True)
    """  # noqa: E501
    check_choice(occasion, ("session", "attended"), name="occasion")
    level = check_level(level)
    if waves is not None:
        waves = check_positive_int(waves, name="waves", minimum=2)
    terms = named_terms(predictor) if predictor is not None else {"alliance": "wai_sr_sum"}
    if len(terms) != 1:
        raise ModelSpecError(f"predictor must name one column, got {sorted(terms.values())}")
    ((x_name, x_col),) = terms.items()
    trends = bool(trends)
    z, ids, n_waves, exclusions, coverage = wide_panel(
        data,
        x=x_col,
        y=outcome,
        session=session,
        client=client,
        occasion=occasion,
        waves=waves,
    )
    if trends and n_waves < MIN_WAVES_TRENDS:
        raise ModelSpecError(
            f"cross_lagged(trends=True) needs at least {MIN_WAVES_TRENDS} occasions to "
            f"estimate clients' own trends; {n_waves} are left. Pass trends=False for the "
            "RI-CLPM, which assumes clients have no trends of their own."
        )
    fit = fit_riclpm(z, trends=trends)
    se = np.sqrt(np.diag(fit.cov))
    if not fit.converged or not np.isfinite(se).all():
        warnings.warn(
            f"cross_lagged: {fit.message}"
            + ("" if np.isfinite(se).all() else "; information matrix not positive definite"),
            ConvergenceWarning,
            stacklevel=2,
        )
    crit = stats.norm.ppf(0.5 + level / 2)
    zval = fit.theta / se
    table = pd.DataFrame(
        {
            "parameter": _names(n_waves, x_name, outcome, trends),
            "lavaan": _lavaan_names(n_waves, trends),
            "estimate": fit.theta,
            "se": se,
            "z": zval,
            "p": 2 * stats.norm.sf(np.abs(zval)),
            "ci_low": fit.theta - crit * se,
            "ci_high": fit.theta + crit * se,
        }
    )
    paths = _paths(table, x_name, outcome)
    wide_cols = [f"{v}_{t}" for t in range(1, n_waves + 1) for v in (x_name, outcome)]
    wide = pd.DataFrame(z, columns=wide_cols).assign(**{client: ids})[[client, *wide_cols]]
    return CrossLaggedResult(
        paths=paths,
        parameters=table,
        exclusions=exclusions,
        coverage=coverage,
        data=wide,
        predictor=x_name,
        outcome=outcome,
        loglik=fit.loglik,
        n_clients=len(ids),
        n_waves=n_waves,
        n_params=len(fit.theta),
        converged=fit.converged,
        occasion=occasion,
        level=level,
        scoring_policy=policy_for(data) if isinstance(data, Study) else None,
        trends=trends,
    )


def _names(n_waves: int, x: str, y: str, trends: bool) -> list[str]:
    means = [f"mean {v} occasion {t}" for t in range(1, n_waves + 1) for v in (x, y)]
    struct = {
        "ri_var_x": f"random intercept variance {x}",
        "ri_var_y": f"random intercept variance {y}",
        "ri_cov": "random intercept covariance",
        "w1_var_x": f"occasion-1 within variance {x}",
        "w1_var_y": f"occasion-1 within variance {y}",
        "w1_cov": "occasion-1 within covariance",
        "innov_var_x": f"innovation variance {x}",
        "innov_var_y": f"innovation variance {y}",
        "innov_cov": "innovation covariance (same occasion)",
        "ar_x": f"{x} -> {x}",
        "cl_y_to_x": f"{y} -> {x}",
        "cl_x_to_y": f"{x} -> {y}",
        "ar_y": f"{y} -> {y}",
        "rs_var_x": f"random slope variance {x}",
        "rs_var_y": f"random slope variance {y}",
        "rs_cov": "random slope covariance",
        "ri_x_rs_x": f"covariance random intercept {x}, random slope {x}",
        "ri_x_rs_y": f"covariance random intercept {x}, random slope {y}",
        "ri_y_rs_x": f"covariance random intercept {y}, random slope {x}",
        "ri_y_rs_y": f"covariance random intercept {y}, random slope {y}",
    }
    return means + [struct[k] for k in (*STRUCTURAL, *(TRENDS if trends else ()))]


def _lavaan_names(n_waves: int, trends: bool) -> list[str]:
    means = [f"{v}{t} ~1" for t in range(1, n_waves + 1) for v in ("x", "y")]
    struct = ["RIx ~~ RIx", "RIy ~~ RIy", "RIx ~~ RIy", "wx1 ~~ wx1", "wy1 ~~ wy1"]
    struct += ["wx1 ~~ wy1", "vx", "vy", "cxy", "a", "b", "d", "c"]
    if trends:
        struct += ["RSx ~~ RSx", "RSy ~~ RSy", "RSx ~~ RSy", "RIx ~~ RSx", "RIx ~~ RSy"]
        struct += ["RIy ~~ RSx", "RIy ~~ RSy"]
    return means + struct


def _paths(table: pd.DataFrame, x: str, y: str) -> pd.DataFrame:
    rows = table.set_index("parameter")
    spec = [
        (f"{x} -> {y}", f"within-person cross-lagged effect of {x} at t-1 on {y} at t"),
        (f"{y} -> {x}", f"within-person cross-lagged effect of {y} at t-1 on {x} at t"),
        (f"{x} -> {x}", f"within-person autoregression (carry-over) of {x}"),
        (f"{y} -> {y}", f"within-person autoregression (carry-over) of {y}"),
    ]
    out = rows.loc[[p for p, _ in spec]].reset_index().rename(columns={"parameter": "path"})
    out.insert(1, "estimand", [e for _, e in spec])
    return out[PATH_COLUMNS]
