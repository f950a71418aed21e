"""Mediation of intake motivation by early alliance: :func:`mediation`.

Three regressions (product-of-coefficients method): the mediator on the exposure, the
outcome on exposure and mediator, and the outcome on the exposure alone, each adjusted for
the same covariates and (by default) with a therapist random intercept. The outcome is a
client-level score (end-of-treatment PHQ-9) or, with ``outcome="slope"``, the client's rate
of change over the sessions after the mediator window (a session-level growth model). The
indirect effect ``a * b`` gets a Monte-Carlo confidence interval.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd

from .._validate import as_table, check_choice, check_level, check_positive_int, require_columns
from ..errors import DataValidationError, ModelSpecError
from ..models.formula import quote_name
from ..scoring import ScoringPolicy, policy_for, state_policy
from ..study import CLIENT, THERAPIST, Study
from ._mediation_data import DERIVED, client_frame
from ._mediation_fit import EFFECT_COLUMNS, Path, Terms, effects, fit_lmm, fit_ols
from ._mediation_slope import N_POST, TIME, single_post, slope_data, slope_formulas
from ._panel import Exclusions
from ._tables import policy_text

__all__ = ["EFFECT_COLUMNS", "MediationResult", "mediation"]

SLOPE = "slope"

CAVEAT = (
    "The decomposition into direct and indirect parts is descriptive unless sequential "
    "ignorability holds (Imai, Keele & Tingley, 2010): no unmeasured confounding of "
    "exposure-outcome, exposure-mediator and mediator-outcome, and no confounder of "
    "mediator and outcome that the exposure affects. Randomisation of the exposure would "
    "not secure the mediator-outcome part. Read the results as associations."
)

PROPORTION_CAUTION = (
    "The proportion mediated is unstable and can fall outside [0, 1] when the total "
    "association is small or its interval includes zero; report it only alongside the "
    "indirect and total estimates."
)


@dataclass(frozen=True)
class MediationResult:
    """The result of :func:`mediation`.

    Attributes
    ----------
    effects : DataFrame
        One row per quantity (``effect``: ``total``, ``direct``, ``indirect``,
        ``a_path``, ``b_path``, ``proportion_mediated``); columns
        :data:`EFFECT_COLUMNS`. ``ci_method`` says how the interval was made.
    paths : dict of str to DataFrame
        The fixed-effect tables of the three regressions (``mediator``,
        ``outcome``, ``total``).
    fits : dict
        The :class:`~engagestats.LmmResult` of each regression (``method="lmm"``)
        or empty (``method="ols"``).
    data : DataFrame
        The clients analysed (complete cases on every variable used).
    sessions : DataFrame or None
        ``outcome="slope"``: the session rows of the growth models (the
        sessions after the early window, with ``time_post``); else None.
    exclusions : DataFrame
        ``reason, n_rows, n_clients``: clients left out and why.
    estimand : str
        What the effects estimate, in words.
    exposure, mediator, outcome : str
        ``outcome`` is ``"slope"`` for the growth-slope design.
    covariates : tuple of str
    method : str
    n_draws : int
    seed : int or None
    level : float
    slope_of : str or None
        The session-level score whose rate of change is the outcome
        (``outcome="slope"``).
    early_sessions : int
    notes : tuple of str
        Fit notes (e.g. a therapist variance estimated as 0).
    caveats : tuple of str
        The sequential-ignorability caveat and the proportion-mediated caution.
    scoring_policy : ScoringPolicy or None
        The study's scoring policy (None for a DataFrame, whose scores are used
        as given); :attr:`effects`, :attr:`paths` and :attr:`exclusions` record
        it in ``attrs["scoring_policy"]`` and :meth:`summary` states it.
    """

    effects: pd.DataFrame
    paths: dict[str, pd.DataFrame]
    fits: dict[str, Any]
    data: pd.DataFrame
    exclusions: pd.DataFrame
    estimand: str
    exposure: str
    mediator: str
    outcome: str
    covariates: tuple[str, ...]
    method: str
    n_draws: int
    seed: int | None
    level: float = 0.95
    notes: tuple[str, ...] = ()
    caveats: tuple[str, ...] = field(default=(CAVEAT, PROPORTION_CAUTION))
    sessions: pd.DataFrame | None = None
    slope_of: str | None = None
    early_sessions: int = 3
    scoring_policy: ScoringPolicy | None = None

    def __post_init__(self) -> None:
        for table in (self.effects, self.exclusions, *self.paths.values()):
            state_policy(table, self.scoring_policy)

    def _row(self, effect: str) -> pd.Series:
        return self.effects.set_index("effect").loc[effect]

    @property
    def outcome_label(self) -> str:
        """The outcome in words (the slope design names the score and the time scale)."""
        if self.slope_of is None:
            return self.outcome
        return f"the change in {self.slope_of} per session after session {self.early_sessions}"

    @property
    def _short_outcome(self) -> str:
        return self.outcome if self.slope_of is None else f"slope of {self.slope_of}"

    def interpretation(self) -> str:
        """One sentence per quantity, in the language of association."""
        pct = f"{100 * self.level:.0f}%"
        ind, tot, dirr = self._row("indirect"), self._row("total"), self._row("direct")
        return (
            f"Indirect association of {self.exposure} with {self.outcome_label} via "
            f"{self.mediator}: "
            f"a*b = {ind.estimate:.3g} per unit of {self.exposure}, {pct} Monte-Carlo CI "
            f"[{ind.ci_low:.3g}, {ind.ci_high:.3g}]. Total association {tot.estimate:.3g} "
            f"[{tot.ci_low:.3g}, {tot.ci_high:.3g}]; association not via {self.mediator} "
            f"(direct) {dirr.estimate:.3g} [{dirr.ci_low:.3g}, {dirr.ci_high:.3g}]."
        )

    def summary(self) -> str:
        """Estimand, sample, effect table, interpretation and caveats as text."""
        excl = "none" if self.exclusions.empty else "\n" + self.exclusions.to_string(index=False)
        lines = [
            f"Mediation ({self.method}): {self.exposure} -> {self.mediator} -> "
            f"{self._short_outcome}",
            f"Covariates: {', '.join(self.covariates) or 'none'}; n = {len(self.data)} clients"
            + ("" if self.sessions is None else f", {len(self.sessions)} sessions"),
            f"Estimand: {self.estimand}",
            f"Clients excluded: {excl}",
            policy_text(self.scoring_policy),
            "",
            self.effects.to_string(index=False, float_format=lambda v: f"{v:.4g}"),
            "",
            self.interpretation(),
            "",
            *(f"Note: {c}" for c in self.notes),
            *(f"Caveat: {c}" for c in self.caveats),
        ]
        return "\n".join(lines)

    def __repr__(self) -> str:
        ind = self._row("indirect")
        return (
            f"<MediationResult {self.exposure} -> {self.mediator} -> {self._short_outcome}: "
            f"indirect {ind.estimate:.3g} [{ind.ci_low:.3g}, {ind.ci_high:.3g}], "
            f"n = {len(self.data)}>"
        )

    def _repr_html_(self) -> str:
        head = html.escape(
            f"Mediation ({self.method}): {self.exposure} → {self.mediator} → "
            f"{self._short_outcome}; "
            f"n = {len(self.data)} clients"
        )
        notes = "".join(f"<p><em>{html.escape(c)}</em></p>" for c in self.notes + self.caveats)
        return (
            f"<div><p><strong>{head}</strong></p><p>{html.escape(self.estimand)}</p>"
            f"<p><small>{html.escape(policy_text(self.scoring_policy))}</small></p>"
            f"{self.effects.to_html(index=False, float_format=lambda v: f'{v:.4g}')}"
            f"<p>{html.escape(self.interpretation())}</p>{notes}</div>"
        )


def _check_names(frame: pd.DataFrame, names: list[str]) -> None:
    for c in names:
        quote_name(c)  # FormulaError for a name no formula can hold (empty, a backtick)
    for c in names:
        if not pd.api.types.is_numeric_dtype(frame[c]):
            raise DataValidationError.for_argument(
                c, str(frame[c].dtype), "a numeric column (dummy-code categorical covariates)"
            )


def mediation(
    data: Study | pd.DataFrame,
    *,
    exposure: str = "srq_autonomous",
    mediator: str = "early_alliance",
    outcome: str = "phq9_last",
    covariates: Sequence[str] = ("phq9_first",),
    therapist: str = THERAPIST,
    method: Literal["lmm", "ols"] = "lmm",
    early_sessions: int = 3,
    slope_of: str = "phq9_total",
    n_draws: int = 20_000,
    seed: int | None = 20261202,
    level: float = 0.95,
) -> MediationResult:
    """Decompose the exposure-outcome association into a part via the mediator and the rest.

    The default asks whether intake autonomous motivation is associated with
    end-of-treatment PHQ-9 (adjusted for intake PHQ-9) through the early
    alliance (mean WAI-SR over sessions 1-3).

    Parameters
    ----------
    data : Study or DataFrame
        A Study (the client table is built as described under Notes) or a
        client-level DataFrame holding every named column.
    exposure : str, default "srq_autonomous"
        Intake exposure column (continuous or 0/1).
    mediator : str, default "early_alliance"
        Mediator column; from a Study, ``"early_alliance"`` is derived.
    outcome : str, default "phq9_last"
        Outcome column; from a Study, ``"phq9_last"`` is derived. ``"slope"``:
        the outcome is the client's rate of change of ``slope_of`` over the
        sessions after the early window (growth-slope design, see Notes);
        ``data`` is then a Study or a session-level DataFrame.
    covariates : sequence of str, default ("phq9_first",)
        Numeric pre-exposure covariates, in all three regressions.
    therapist : str, default "therapist_id"
        Cluster column for ``method="lmm"``.
    method : {"lmm", "ols"}, default "lmm"
        ``"lmm"``: each regression has a therapist random intercept (REML,
        Satterthwaite df), so clients of one therapist are not treated as
        independent. ``"ols"``: single-level least squares (what a path model
        in lavaan fits; use it when there is no clustering). ``outcome="slope"``
        needs ``"lmm"``.
    early_sessions : int, default 3
        The early window ``k`` (Study input; with ``outcome="slope"`` also for
        a DataFrame: the growth models use the sessions after ``k``).
    slope_of : str, default "phq9_total"
        Session-level score whose rate of change is the outcome
        (``outcome="slope"`` only).
    n_draws : int, default 20000
        Monte-Carlo draws for the indirect-effect interval.
    seed : int or None, default 20261202
        Seed of the Monte-Carlo draws (``None``: not reproducible).
    level : float, default 0.95
        Confidence level.

    Returns
    -------
    MediationResult
        ``.effects`` (tidy: ``effect, estimate, se, df, p, ci_low, ci_high,
        ci_method``), ``.paths``, ``.exclusions``, ``.summary()``.

    Raises
    ------
    DataValidationError
        A named column is missing or not numeric, or an argument is out of range.
    ModelSpecError
        Too few clients left to fit the regressions.

    Notes
    -----
    With exposure ``X``, mediator ``M``, outcome ``Y``, covariates ``C`` and a
    therapist intercept ``u_j`` (``method="lmm"``), for client ``i`` of therapist ``j``::

        M_ij = a0 + a X_ij + g'C_ij + u_j + e_ij                (mediator model)
        Y_ij = b0 + c' X_ij + b M_ij + h'C_ij + v_j + e_ij      (outcome model)
        Y_ij = c0 + c X_ij + k'C_ij + w_j + e_ij                (total model)

    ``indirect = a b``, ``direct = c'``, ``total = c`` (Baron & Kenny's
    product-of-coefficients decomposition; with ``method="ols"`` on one sample
    ``c = c' + a b`` exactly, with random intercepts approximately). These are
    the *natural* indirect and direct effects only under sequential
    ignorability and no exposure-mediator interaction (Imai, Keele & Tingley,
    2010); without it they are conditional associations.

    The interval for ``a b`` is a Monte-Carlo interval (Preacher & Selig,
    2012): ``a* ~ N(a, se_a^2)`` from the mediator model and ``(b*, c'*)``
    from the outcome model's covariance (independent of ``a*``, the two
    models' estimates being asymptotically uncorrelated), ``n_draws`` draws of
    ``a* b*``, percentile interval. ``se`` of the indirect effect is the
    first-order delta (Sobel) SE ``sqrt(b^2 se_a^2 + a^2 se_b^2)``, reported
    for comparison only (the product is not normal, so no p-value).
    ``proportion_mediated = a b / (c' + a b)`` with a Monte-Carlo interval from
    the same draws; see the caution in ``.caveats``.

    From a Study: ``early_alliance`` is the mean WAI-SR total (12-60) over
    the scored sessions ``1..k``; ``phq9_first`` is PHQ-9 at the first scored
    session ``<= k``; ``phq9_last`` is PHQ-9 at the last scored session
    ``> k`` (end of treatment for completers, last observation for dropouts;
    the mediator thus precedes the outcome). Clients without one of these are
    excluded and counted in ``.exclusions``.

    Growth-slope outcome (``outcome="slope"``): the outcome is the client's
    rate of change of ``slope_of`` (default PHQ-9) over the sessions after
    the early window, ``time_post = session - (k + 1)`` (0 at the first
    session after the window, so the mediator is measured before the change
    it is related to). The mediator model is the client-level one above; the
    outcome and total models are growth models of session ``t`` of client
    ``i`` of therapist ``j``::

        Y_tij = b0 + b1 T + c0' X + b0m M + h'C + (c' X + b M + k'C) T
                + r0_i + r1_i T + v_j + e_tij                     (outcome model)
        Y_tij = (the same without M and M x T)                    (total model)

    with client random intercepts and slopes ``(r0_i, r1_i)`` and a therapist
    random intercept ``v_j`` (REML, Satterthwaite df). ``b`` is the ``time_post
    x mediator`` coefficient, ``direct = c'`` the ``time_post x exposure``
    coefficient, ``total = c`` that of the total model, and the indirect
    association is ``a b``: the difference in PHQ-9 change per session per
    unit of exposure that runs with the difference in the mediator. Its
    Monte-Carlo interval draws ``a*`` from the mediator model and ``(b*, c'*)``
    from the growth model's covariance. This one-step model is preferred over
    a two-step regression of per-client OLS slopes (which ignores that slopes
    from few sessions are estimated with unequal, large error). Clients with
    no scored ``slope_of`` after session ``k`` are excluded and counted; the
    covariates enter with main effects and time interactions.

    References
    ----------
    Imai, K., Keele, L., & Tingley, D. (2010). A general approach to causal mediation
    analysis. *Psychological Methods, 15*(4), 309-334.

    Preacher, K. J., & Selig, J. P. (2012). Advantages of Monte Carlo confidence intervals
    for indirect effects. *Communication Methods and Measures, 6*(2), 77-98.

    MacKinnon, D. P. (2008). *Introduction to statistical mediation analysis*. Erlbaum.

    Examples
    --------
    >>> import engagestats as es
    >>> res = es.mediation(es.load_sample(), n_draws=2000, seed=1)
    >>> res.effects["effect"].tolist()
    ['total', 'direct', 'indirect', 'a_path', 'b_path', 'proportion_mediated']
    >>> len(res.data)
    303
    >>> print(res.exclusions.to_string(index=False))
                             reason  n_rows  n_clients
    missing outcome 'phq9_last'      27         27

    The same decomposition with the PHQ-9 change per session after session 3
    as the outcome:

    >>> slope = es.mediation(es.load_sample(), outcome="slope", n_draws=2000, seed=1)
    >>> len(slope.data), len(slope.sessions)
    (303, 2814)
    >>> slope.paths["outcome"].index[-3:].tolist()
    ['time_post:srq_autonomous', 'time_post:early_alliance', 'time_post:phq9_first']
    """
    check_choice(method, ("lmm", "ols"), name="method")
    n_draws = check_positive_int(n_draws, name="n_draws", minimum=100, what="Monte-Carlo draws")
    level = check_level(level)
    early_sessions = check_positive_int(early_sessions, name="early_sessions", what="sessions")
    covs = [covariates] if isinstance(covariates, str) else [str(c) for c in covariates]
    slope = outcome == SLOPE
    if slope and method != "lmm":
        raise ModelSpecError(
            "outcome='slope' is a growth model with client random intercepts and slopes: "
            "use method='lmm'"
        )
    variables = [exposure, mediator, slope_of if slope else outcome, *covs]
    if len(set(variables)) < len(variables) or (slope and TIME in variables):
        raise DataValidationError.for_argument(
            "covariates",
            variables,
            "exposure, mediator, outcome and covariates all different"
            + (f" and none named {TIME!r}" if slope else ""),
        )
    post = pd.DataFrame()
    if slope:
        frame, post = slope_data(
            data,
            exposure=exposure,
            client_columns=[exposure, mediator, *covs, therapist],
            slope_of=slope_of,
            early_sessions=early_sessions,
        )
    elif isinstance(data, Study):
        frame = client_frame(data, early_sessions=early_sessions, exposure=exposure)
    else:
        frame = as_table(data, "clients").reset_index(drop=True).copy()
    client_vars = [exposure, mediator, *covs] + ([] if slope else [outcome])
    needed = [*client_vars, therapist] if method == "lmm" else client_vars
    require_columns(frame, needed, table="clients", role="mediation model")
    _check_names(frame, client_vars)
    ex = Exclusions(frame, CLIENT if CLIENT in frame.columns else None)
    if slope:
        ex.drop(
            (frame[N_POST] == 0).to_numpy(),
            f"no scored {slope_of!r} after session {early_sessions}",
        )
    else:
        ex.drop(frame[outcome].isna().to_numpy(), f"missing outcome {outcome!r}")
    for role, col in (("mediator", mediator), ("exposure", exposure)):
        ex.drop(frame[col].isna().to_numpy(), f"missing {role} {col!r}")
    for c in covs:
        ex.drop(frame[c].isna().to_numpy(), f"missing covariate {c!r}")
    if method == "lmm":
        ex.drop(frame[therapist].isna().to_numpy(), f"missing {therapist!r}")
    used = frame.loc[ex.keep].reset_index(drop=True)
    if len(used) < len(covs) + 5:
        raise ModelSpecError(f"only {len(used)} clients left after the exclusions")

    notes: list[str] = []
    sessions: pd.DataFrame | None = None
    if slope:
        sessions = post.merge(used[[CLIENT, exposure, mediator, *covs, therapist]], on=CLIENT)
        f_m, f_o, f_t, terms = slope_formulas(slope_of, exposure, mediator, covs, therapist)
        pm = fit_lmm(used, f_m, notes)
        po = fit_lmm(sessions, f_o, notes)
        pt = fit_lmm(sessions, f_t, notes)
        n_one = single_post(used)
        if n_one:
            notes.append(
                f"{n_one} client(s) have one scored {slope_of} after session "
                f"{early_sessions}: they inform the post-window level; their slope is "
                "shrunk to the model's prediction"
            )
    else:
        qx, qm = quote_name(exposure), quote_name(mediator)
        terms = Terms(a=qx, b=qm, cp=qx, c=qx)

        def fit(y: str, xs: list[str]) -> Path:
            if method == "ols":
                return fit_ols(used, y, xs)
            rhs = " + ".join(quote_name(x) for x in xs)
            return fit_lmm(used, f"{quote_name(y)} ~ {rhs} + (1 | {quote_name(therapist)})", notes)

        pm = fit(mediator, [exposure, *covs])
        po = fit(outcome, [exposure, mediator, *covs])
        pt = fit(outcome, [exposure, *covs])
    table = effects(pm, po, pt, terms, n_draws, seed, level)
    derived = {c: DERIVED[c] for c in (mediator, outcome, *covs) if c in DERIVED}
    derived_text = "".join(f" {c}: {v}." for c, v in derived.items()) if derived else ""
    if slope:
        estimand = _slope_estimand(exposure, mediator, slope_of, covs, early_sessions)
    else:
        estimand = (
            f"differences in {outcome} per unit of {exposure} among clients with equal "
            f"{', '.join(covs) or 'covariates'}"
            + (", within therapist (therapist random intercepts)" if method == "lmm" else "")
            + f": total (not adjusted for {mediator}), direct (adjusted for {mediator}) and "
            f"indirect via {mediator} (a*b)."
        )
    return MediationResult(
        effects=table,
        paths={"mediator": pm.table, "outcome": po.table, "total": pt.table},
        fits={k: p.fit for k, p in (("mediator", pm), ("outcome", po), ("total", pt)) if p.fit},
        data=used,
        exclusions=ex.table(),
        estimand=estimand + derived_text,
        exposure=exposure,
        mediator=mediator,
        outcome=outcome,
        covariates=tuple(covs),
        method=method,
        n_draws=n_draws,
        seed=seed,
        level=level,
        notes=tuple(notes),
        sessions=sessions,
        slope_of=slope_of if slope else None,
        early_sessions=early_sessions,
        scoring_policy=policy_for(data) if isinstance(data, Study) else None,
    )


def _slope_estimand(x: str, m: str, y: str, covs: list[str], k: int) -> str:
    adj = ", ".join(covs) or "no covariates"
    return (
        f"indirect association of {x} with the change in {y} per session over the sessions "
        f"after session {k} ({TIME} = session - {k + 1}), via {m}: a = difference in {m} per "
        f"unit of {x} (client-level, therapist random intercept); b = difference in the "
        f"{y} slope per unit of {m} at equal {x} ({TIME} x {m}); direct = {TIME} x {x} at "
        f"equal {m}; total = {TIME} x {x} without {m}. Growth models of the sessions after "
        f"session {k} with client random intercepts and slopes and a therapist random "
        f"intercept; adjusted for {adj} (main effects and time interactions). The mediator "
        f"window precedes the change it is related to."
    )
