"""Growth models of therapy outcome: :func:`growth_model` builds the formula and fits it."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Literal

import pandas as pd

from .._validate import check_choice, check_positive_int
from ..errors import DataWarning, ModelSpecError
from ..models import lmm
from ..models.inference import check_ddf
from ..study import CLIENT, SESSION, THERAPIST, Study
from ._growth_formula import growth_formula, outcome_direction
from ._panel import PanelSpec, named_terms, prepare
from ._time_scale import TimeScale
from .outcome_model import OutcomeModel

__all__ = ["growth_formula", "growth_model", "outcome_direction"]

Names = Sequence[str] | Mapping[str, str] | str


def growth_model(
    data: Study | pd.DataFrame,
    *,
    outcome: str = "phq9_total",
    session: str = SESSION,
    predictors: Names = (),
    time_varying: Names = (),
    client: str = CLIENT,
    therapist: str | None = THERAPIST,
    random_slope: bool = True,
    center: bool = True,
    lag: int = 1,
    first_lag: Literal["zero", "drop"] = "drop",
    moderators: Names = (),
    time_method: Literal["session", "log", "piecewise"] = "session",
    knots: Sequence[float] | None = None,
    reml: bool = True,
    higher_is_worse: bool | None = None,
    ddf: Literal["satterthwaite", "kenward-roger"] = "satterthwaite",
    prior_outcome: Literal["auto", "none", "lagged", "within"] = "auto",
    detrend: bool = True,
    between: Literal["mean", "early"] = "mean",
    early_sessions: int = 3,
    therapist_slope: bool = False,
) -> OutcomeModel:
    """Fit a growth model of therapy outcome: sessions in clients in therapists.

    Parameters
    ----------
    data : Study or DataFrame
        A :class:`~engagestats.Study` (its attended sessions joined with the
        client's intake scores and therapist variables; score columns the model
        needs that it lacks are scored under the analyses' policy,
        :data:`engagestats.scoring.PRORATE_80`: a (sub)scale is scored when at
        least 80% of its items are answered, as the mean of the answered items,
        times the number of items for sum scores; scores already present are
        used as they are), or a ready long DataFrame (one row per client and
        occasion).
    outcome : str, default "phq9_total"
        Outcome column.
    session : str, default "session"
        Session-number column, coded by :func:`engagestats.prep.time_code` as
        ``time`` = sessions since the client's first session (so the intercept
        is the intake level).
    predictors : sequence of str, or mapping of term name to column
        Intake predictors, continuous (``{"autonomous": "srq_autonomous"}``)
        or categorical (readiness stage, motivation type); each interacts with
        ``time``. A categorical column's levels are those with analysed rows,
        in sorted order (or the order of a pandas ``Categorical``'s categories);
        the first is the reference.
    time_varying : sequence of str, or mapping of term name to column
        Time-varying predictors (``{"alliance": "wai_sr_total"}``), split into
        ``<name>_between`` (client mean over the client's non-missing values,
        grand-mean centred over the analysed clients, each counted once) and the within part
        (by default the residual from the client's own straight line in time, see
        ``detrend``; the value minus the client mean with ``detrend=False``) lagged by
        ``lag`` rows within client: ``<name>_within_lag`` is the deviation at the previous
        attended session. With time-varying predictors the default model also controls for
        the prior outcome (``prior_outcome``); see Notes for what the within-client
        coefficient estimates.
    client, therapist : str
        Grouping columns. ``(1 | therapist)`` is added when the column is present
        with more than one level.
    random_slope : bool, default True
        ``(1 + time | client)`` or ``(1 | client)``.
    center : bool, default True
        Centre continuous intake predictors at their mean over the analysed
        clients (each client once), so main effects are at the average client.
    lag : int, default 1
        Lag (in rows of attended sessions) of the within-person parts; 0 for none.
    first_lag : {"drop", "zero"}, default "drop"
        The lagged within part at a client's first ``lag`` sessions, where no
        previous session exists: ``"drop"`` excludes these rows (counted in
        ``exclusions`` under "no previous session for lagged ..."); ``"zero"`` sets it
        to 0 (no deviation from the client's own mean, the coding of
        :func:`engagestats.simulate_study`), which treats an unobserved value as
        typical. With a prior outcome the first session has no previous outcome and is
        excluded either way.
    moderators : sequence of str, or mapping of term name to column
        Categorical moderators (``["modality", "format"]``): adds the
        predictor x time x moderator interactions; see
        :meth:`OutcomeModel.moderation`.
    time_method : {"session", "log", "piecewise"}, default "session"
        The shape of the trajectory (:func:`engagestats.prep.time_code`, with ``t``
        the sessions since the client's first). ``"session"``: linear, the term
        ``time`` = ``t``. ``"log"``: the term ``log_time`` = ``log(1 + t)`` (fast
        early change that levels off); its slopes are per unit of ``log(1 + t)``.
        ``"piecewise"``: one linear term per phase, ``time_p1`` = ``min(t, k)`` and
        ``time_p2`` = ``max(t - k, 0)`` for a knot ``k``, each with its own slope
        per session (and its own random slope). Each time term takes the place of
        ``time`` in the interactions with the predictors and in the random part. The
        model frame keeps ``time`` = ``t`` either way, and ``trajectories``,
        :func:`expected_change` and :func:`off_track` take and report time in
        sessions since the first, coding it like the model data.
    knots : sequence of float, optional
        ``time_method="piecewise"``: the knot(s), in sessions since the first;
        default ``[4]`` (a convention of this package, not a published rule: see
        ``docs/methods/models.md``, "Time coding"). An error with another method.
    reml : bool, default True
        REML (default) or ML.
    ddf : {"satterthwaite", "kenward-roger"}, default "satterthwaite"
        Denominator degrees of freedom of every test and CI the model reports
        (``effects``, ``table``, ``trajectories``, ``moderation``).
        ``"kenward-roger"`` (REML only) also uses the Kenward-Roger adjusted
        covariance of the fixed effects, as ``lmerTest`` with
        ``ddf = "Kenward-Roger"``: preferable with few therapists (say under
        20), where Satterthwaite intervals are a little too narrow. The
        progress-monitoring bands (:func:`expected_change`) use the unadjusted
        covariance either way.
    prior_outcome : {"auto", "within", "lagged", "none"}, default "auto"
        Control for the outcome at the previous attended session (autoregression),
        so that the within-client effect is on the next outcome given the previous
        one (Falkenström et al. 2017). ``"within"`` enters ``<outcome>_prior_within``:
        the previous outcome's deviation from the client's own line in time
        (``detrend=True``) or from the client's mean outcome (``detrend=False``).
        ``"lagged"`` enters ``<outcome>_prior``, the previous outcome centred at its
        mean over the analysed rows (with the random intercept this over-corrects:
        dynamic panel bias). ``"auto"`` (the default) is ``"within"`` when the model
        has ``time_varying`` predictors, the only terms it is a control for, and
        ``"none"`` otherwise, so a growth model of intake predictors alone is the
        plain trajectory model. Rows without a previous outcome (each client's first
        session, sessions after a missing outcome) are excluded and counted. The
        prior-outcome coefficient itself is biased towards 0 in series of clinical
        length (Nickell 1981; see Notes): it is a control, not an estimate of
        carry-over (:func:`engagestats.cross_lagged` estimates that). A
        :class:`~engagestats.DataWarning` says so when the series are shorter than
        the benchmark checked (see Warns). ``trajectories`` and :func:`off_track` set
        the prior term to its centre (0: the client on their own line).
    detrend : bool, default True
        Take the within parts of ``time_varying`` predictors (and the ``"within"``
        prior outcome) as residuals from each client's own straight line in time
        (:func:`engagestats.prep.within_between` with ``detrend``), so that clients'
        predictor trends, which may co-vary with their outcome trends, are not
        counted as within-client variation (Wang & Maxwell 2015; Falkenström et al.
        2017). ``False`` takes deviations from the client's mean (Curran & Bauer
        2011). A client with fewer than 3 values has within parts of 0.
    between : {"mean", "early"}, default "mean"
        The between-client part of ``time_varying`` predictors: the client's mean
        over all their sessions, or (``"early"``) over their first
        ``early_sessions`` attended sessions, which precede most of the change
        (the whole-therapy mean is partly a consequence of improvement). The within
        parts stay deviations from the all-session mean (or trend).
    early_sessions : int, default 3
        Sessions averaged by ``between="early"``.
    therapist_slope : bool, default False
        ``(1 + time | therapist)``: therapists differ in their clients' rate of
        change as well as level (correlated), the model
        :func:`~engagestats.analyses.therapist_effects` needs for the therapist
        share of variance in change.
    higher_is_worse : bool, optional
        Direction of the outcome, for the plain-language interpretations;
        when omitted, the ``direction`` of the instrument whose score the
        outcome is (:func:`outcome_direction`: PHQ-9, GAD-7, K10, CORE-10:
        higher is worse; ORS, SRS, WAI-SR, GAS: higher is better), and a
        :class:`~engagestats.ModelSpecError` for any other outcome.

    Returns
    -------
    OutcomeModel
        The fit (``.fit``, an :class:`~engagestats.LmmResult`), ``.formula``,
        ``.data`` (the model frame), ``.exclusions`` (``reason, n_rows,
        n_clients``: every row left out, each counted once under the first
        reason that applies), ``effects()``, ``trajectories()``, ``table()``,
        ``moderation()``.

    Raises
    ------
    DataValidationError
        When a named column is missing.
    ModelSpecError
        When nothing is left to fit or the model cannot be built.

    Warns
    -----
    DataWarning
        When a level declared in a pandas ``Categorical`` column loses all its
        rows to the exclusions (it is left out of the model), or a categorical
        term has a single level in the analysed rows (its terms drop out). When the
        model has a prior outcome and the median number of analysed sessions per
        client is below :data:`SHORT_SERIES` (6). No published rule says how many
        sessions are enough: the Nickell (1981) bias of a person-centred prior
        outcome shrinks like :math:`1/T` and never vanishes at fixed :math:`T`. The
        threshold is ours: the shortest series in which ``docs/validity.md`` shows the
        default's within-client test keeping its error rate (a median of 6 analysed
        sessions, 20 therapists x 8 clients); below it the within-client estimates
        have not been checked.

    Notes
    -----
    With intake predictors :math:`x_i` and a time-varying predictor :math:`w_{ti}`,
    the default model is

    .. math::

        y_{ti} = \\beta_0 + \\beta_1 t + \\gamma' x_i + \\delta' x_i t
                 + \\beta_B \\bar w_i + \\beta_{Bt} \\bar w_i t
                 + \\beta_W \\tilde w_{t-1,i} + \\phi \\tilde y_{t-1,i}
                 + u_j + b_{0i} + b_{1i} t + e_{ti}

    where :math:`\\tilde w_{ti}` and :math:`\\tilde y_{ti}` are the residuals of
    :math:`w` and :math:`y` from the client's own least-squares line in time (with
    ``detrend=False``, deviations from the client's means :math:`\\bar w_i`,
    :math:`\\bar y_i`): the within/between disaggregation of Curran & Bauer (2011),
    with the within part lagged (Falkenström, Granström & Holmqvist 2013), detrended
    (Wang & Maxwell 2015) and adjusted for the prior outcome, the specification of
    Falkenström et al. (2017) and Falkenström, Solomonov & Rubel (2020). Without
    time-varying predictors the last two terms are absent.

    Time coding. With ``time_method="log"`` every :math:`t` above (fixed and random) is
    :math:`\\log(1 + t)`; with ``"piecewise"`` each :math:`t` term is replaced by the
    phase terms :math:`\\min(t, \\kappa)` and :math:`\\max(t - \\kappa, 0)`, each with
    its own slope, interactions and random slope. Estimates of change are read back on the
    session scale (``trajectories``, :func:`expected_change`); ``docs/methods/models.md``
    ("Time coding in growth_model") gives the formulas and why no rule picks the knot.

    Estimand. :math:`\\beta_W` is a within-client, prospective association: how far
    the outcome at a session lies from the client's own line when the alliance at
    the previous attended session was one point above the client's own alliance
    line, at the same previous outcome (relative to its line). Stable differences
    between clients and clients' own trends in either measure cannot produce it.
    It is not a causal effect: a time-varying third variable, or an effect within a
    session, are not ruled out; the lag orders the measures in time but does not
    settle the direction of influence. The reverse path (symptoms -> next
    alliance) and carry-over are estimated together by
    :func:`engagestats.cross_lagged`. With the prior outcome the time and intake
    terms describe the trajectory of clients on their own line (the prior residual
    at 0), which the detrended prior leaves almost unchanged.

    Why the controls. Without them a within-client alliance coefficient arises
    with no alliance-to-outcome effect at all when symptoms shape the alliance and
    residuals are autocorrelated (the previous alliance then carries the previous
    residual, which the prior outcome absorbs), or when clients' alliance trends
    co-vary with their symptom slopes (removed by detrending). ``docs/validity.md``
    shows the false-positive rates with and without them.

    Short series. Deviations from a client's mean or line use all the client's
    sessions, later ones included, so the lagged deviations are correlated with the
    current residual by about :math:`1/T` in series of :math:`T` sessions. The
    prior-outcome coefficient is biased downwards by about :math:`(1 + \\phi)/(T - 1)`
    when person-mean centred (Nickell 1981), more when detrended, and the
    uncentred one, with the random intercept, upwards (dynamic panel bias): treat
    :math:`\\hat\\phi` as a control, not as carry-over. :math:`\\hat\\beta_W` is affected
    less (the benchmark cells of ``docs/validity.md``); for carry-over and both
    directions, :func:`engagestats.cross_lagged` (maximum likelihood, no Nickell
    bias) is the estimator.

    Coding and exclusions. Rows are first excluded (missing outcome, time,
    predictor or moderator, no previous session for the lag, ...; each row
    counted once in ``exclusions``). Every constant of the coding is then
    estimated on the analysed rows only: the centres :math:`\\bar x` and SDs of
    intake predictors and of the between parts (each analysed client counted
    once), the levels of categorical terms and their shares of analysed
    clients (used to average trajectories). A level whose rows are all
    excluded is left out of the model, and the reference is the first level
    that remains; this loses no further rows, so it adds nothing to
    ``exclusions``, and it warns (:class:`~engagestats.DataWarning`) only
    when the level was declared by the user, as a category of a pandas
    ``Categorical`` column. The person mean :math:`\\bar w_i` of a
    time-varying predictor, however, uses every session of the client where
    :math:`w` is observed, including sessions that are excluded because the
    outcome is missing: it is the best estimate of the client's mean. Lags
    are likewise taken on the full session sequence, so the lagged within
    part at a session is the deviation at the previous attended session
    even when that session's outcome is missing. New data (``trajectories``,
    :func:`~engagestats.analyses.off_track`) are coded with these stored
    constants; a level absent from the model is treated as missing.

    References
    ----------
    Curran, P. J., & Bauer, D. J. (2011). The disaggregation of within-person
    and between-person effects in longitudinal models of change. *Annual
    Review of Psychology, 62*, 583-619.

    Falkenström, F., Granström, F., & Holmqvist, R. (2013). Therapeutic
    alliance predicts symptomatic improvement session by session. *Journal of
    Counseling Psychology, 60*(3), 317-328.

    Falkenström, F., Finkel, S., Sandell, R., Rubel, J. A., & Holmqvist, R.
    (2017). Dynamic models of individual change in psychotherapy process
    research. *Journal of Consulting and Clinical Psychology, 85*(6), 537-549.

    Falkenström, F., Solomonov, N., & Rubel, J. A. (2020). Using time-lagged panel
    data analysis to study mechanisms of change in psychotherapy research:
    Methodological recommendations. *Counselling and Psychotherapy Research, 20*(3),
    435-441.

    Nickell, S. (1981). Biases in dynamic models with fixed effects.
    *Econometrica, 49*(6), 1417-1426.

    Wang, L. P., & Maxwell, S. E. (2015). On disaggregating between-person and
    within-person effects with longitudinal data using multilevel models.
    *Psychological Methods, 20*(1), 63-83.

    Examples
    --------
    >>> import engagestats as es
    >>> from engagestats.analyses import growth_model
    >>> study = es.simulate_study(n_therapists=8, clients_per_therapist=8, seed=2)
    >>> m = growth_model(study, predictors={"autonomous": "srq_autonomous"})
    >>> m.formula
    'phq9_total ~ time + autonomous + time:autonomous + (1 | therapist_id) + (1 + time | client_id)'
    >>> m.exclusions["reason"].tolist()[0]
    'missed session (no questionnaires)'
    >>> sample = es.load_sample()
    >>> pw = growth_model(sample, predictors=["format"], time_method="piecewise", knots=[4])
    >>> pw.formula
    'phq9_total ~ time_p1 + time_p2 + format + time_p1:format + time_p2:format + (1 | therapist_id) + (1 + time_p1 + time_p2 | client_id)'
    >>> pw.effects()["effect"].tolist()[:2]
    ['change per session in phase 1 (0 to 4 sessions after the first), average client', 'change per session in phase 2 (more than 4 sessions after the first), average client']
    """  # noqa: E501
    if not isinstance(lag, int) or lag < 0:
        raise ModelSpecError(f"lag must be a non-negative integer, got {lag!r}")
    check_choice(first_lag, ("zero", "drop"), name="first_lag")
    check_choice(prior_outcome, ("auto", "none", "lagged", "within"), name="prior_outcome")
    if prior_outcome == "auto":  # the prior outcome controls the within-client effects
        prior_outcome = "within" if named_terms(time_varying) else "none"
    check_choice(between, ("mean", "early"), name="between")
    early_sessions = check_positive_int(early_sessions, name="early_sessions")
    if higher_is_worse is None:
        higher_is_worse = outcome_direction(outcome)
        if higher_is_worse is None:
            raise ModelSpecError(
                f"cannot tell whether a higher {outcome!r} is worse or better; pass "
                "higher_is_worse=True or False (the interpretations depend on it)"
            )
    scale = TimeScale.build(time_method, knots)
    spec = PanelSpec(
        outcome=outcome,
        session=session,
        client=client,
        therapist=therapist,
        predictors=named_terms(predictors),
        time_varying=named_terms(time_varying),
        moderators=named_terms(moderators),
        center=center,
        lag=lag,
        first_lag=first_lag,
        time_method=scale.method,  # type: ignore[arg-type]
        knots=scale.knots,
        prior_outcome=prior_outcome,
        detrend=bool(detrend),
        between=between,
        early_sessions=early_sessions,
    )
    clash = set(spec.predictors) & set(spec.moderators)
    if clash:
        raise ModelSpecError(f"{sorted(clash)} cannot be both a predictor and a moderator")
    frame, exclusions, spec = prepare(data, spec)
    continuous = [m for m in spec.moderators if spec.kinds.get(m) == "continuous"]
    if continuous:
        raise ModelSpecError(
            f"moderators must be categorical (e.g. modality, format); {continuous} are numeric. "
            "Enter a numeric moderator as a predictor instead."
        )
    th = spec.therapist
    if th is not None and frame[th].nunique() < 2:
        th = None
    formula = growth_formula(
        outcome,
        predictors=list(spec.predictors),
        time_varying=list(spec.time_varying),
        moderators=list(spec.moderators),
        client=client,
        therapist=th,
        random_slope=random_slope,
        lag=lag,
        prior=spec.prior_name,
        therapist_slope=therapist_slope,
        time_method=scale.method,
        knots=scale.knots,
    )
    if spec.prior_name is not None:
        _warn_short_series(frame, spec)
    if check_ddf(ddf) == "kenward-roger" and not reml:
        raise ModelSpecError(
            "ddf='kenward-roger' needs a REML fit (reml=True); the Kenward-Roger adjustment "
            "is derived for REML estimates"
        )
    fit = lmm(formula, frame, reml=reml)
    return OutcomeModel(
        fit=fit,
        spec=spec,
        data=frame,
        exclusions=exclusions,
        higher_is_worse=higher_is_worse,
        ddf=ddf,
    )


#: Below this median number of analysed sessions per client a prior-outcome model warns: the
#: shortest series in which the validity benchmark (docs/validity.md) shows the default
#: within-client test keeping its error rate. Not a published rule (there is none).
SHORT_SERIES = 6


def _warn_short_series(frame: pd.DataFrame, spec: PanelSpec) -> None:
    """DataWarning when the series are shorter than the benchmark checked (Nickell bias)."""
    t = float(frame.groupby(spec.client).size().median())
    if t < SHORT_SERIES:
        warnings.warn(
            f"prior_outcome={spec.prior_outcome!r} with short series (median {t:g} analysed "
            f"sessions per client, under {SHORT_SERIES}): deviations from each client's own "
            "mean or line are correlated with the current residual in series this short "
            "(Nickell 1981), so the prior-outcome coefficient is biased and the within-client "
            "estimates have not been checked at this length (docs/validity.md); "
            "engagestats.cross_lagged estimates both directions by maximum likelihood without "
            "this bias",
            DataWarning,
            stacklevel=3,
        )
