"""Simulate a psychotherapy study with known truth: :func:`simulate_study`.

Run ``python -m engagestats.simulate --write-sample data/sample`` (``make sample``)
to regenerate the bundled sample study byte for byte.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal, overload

import numpy as np

from ._simulate_tables import generate
from ._simulate_truth import SimulationTruth, build_truth
from .errors import ModelSpecError
from .study import Study

__all__ = [
    "SAMPLE_SEED",
    "SAMPLE_SEED_BASE",
    "SAMPLE_SETTINGS",
    "SimulationParams",
    "SimulationTruth",
    "simulate_study",
    "write_sample",
]

#: First seed tried for the bundled sample study (fixed before any analysis was run).
SAMPLE_SEED_BASE = 20240917

#: Seed of the bundled sample study in ``data/sample/``: the first seed from
#: ``SAMPLE_SEED_BASE`` upwards whose sample meets the recovery criterion of the
#: end-to-end analyses (every 95% CI of the shared growth model covers its
#: generating value with the right sign; more autonomous clients drop out
#: less). About three samples in five meet it; ``tests/analyses/test_sample_seed.py``
#: checks that this is the first seed that does, and
#: ``tests/analyses/test_pipeline_calibration.py`` shows across replications that
#: the pipeline is unbiased on the latent scale (the PHQ-9 floor flattens observed
#: slopes by up to about 6%) and that its CIs cover at the nominal rate, so the
#: choice only makes the teaching sample show what it was built to show.
SAMPLE_SEED = 20240918

#: The :func:`simulate_study` arguments that produce the bundled sample study.
SAMPLE_SETTINGS: dict[str, int] = {
    "n_therapists": 30,
    "clients_per_therapist": 11,
    "max_sessions": 20,
    "seed": SAMPLE_SEED,
}

_SAMPLE_FILES = ("clients.csv", "datapackage.json", "sessions.csv", "therapists.csv")


@dataclass(frozen=True)
class SimulationParams:
    """Every generating parameter of :func:`simulate_study`, with its default.

    Outcome scale: the latent PHQ-9 total (0-27). ``time`` is ``session - 1``.
    Predictors are centred at their mean over clients (see
    :attr:`SimulationTruth.fixed_effects` for the exact definitions).

    Attributes
    ----------
    intercept : float, default 15.5
        Mean PHQ-9 at session 1, typical of routine care (intake means about
        15-16 with SD about 5, as in NHS Talking Therapies/IAPT services).
    time : float, default -0.35
        Mean change per session: about 5 points over 14 sessions, a pre-post
        d near 1, typical of routine care.
    autonomous, readiness : float, default -0.80 and 0.60
        Level effects per scale point of intake autonomous motivation and
        URICA readiness: more autonomous clients start a little less
        distressed and more distressed clients are a little more ready
        (correlations with the intake PHQ-9 of about -.14 and .16). These
        are small associations, not calibrated to a published value; they
        are set so that at the bundled sample's size their sign is right in
        the great majority of samples (mean |z| about 3).
    time_autonomous, time_readiness : float, default -0.05 and -0.075
        Slope effects per scale point. ``time_readiness`` is calibrated so
        that, together with the level effect, intake readiness correlates
        about .20 with residualised pre-post improvement,
        i.e. d = .41 (stage of change and outcome; Krebs, Norcross, Nicholson
        & Prochaska 2018, J Clin Psychol 74:1964-1979).
    alliance_between, time_alliance_between : float, default -0.12 and -0.016
        Between-client alliance (per WAI-SR total point) on level and slope.
        The slope effect is calibrated so that, together with the level
        effect, the alliance correlates about .28 with residualised
        improvement (Flückiger, Del Re, Wampold & Horvath 2018, Psychotherapy
        55:316-340); the level effect gives a small correlation of the
        client's mean alliance with the intake PHQ-9 (about -.13 to -.15),
        set, like the other level effects, for a mean |z| of about 3 at the
        sample's size.
    alliance_within_lag : float, default -0.08
        Lagged within-client alliance effect per WAI-SR total point: small,
        as in session-by-session studies (Falkenström, Granström & Holmqvist
        2013, J Couns Psychol 60:317-328).
    sd_therapist : float, default 1.1
        Therapist random intercept SD: about 5% of outcome variance (Baldwin &
        Imel 2013, in Lambert (ed.), Bergin and Garfield's Handbook, 6th ed.).
    sd_client_intercept, sd_client_slope, cor_client : float
        Client random intercept SD (4.0), slope SD (0.15) and their
        correlation (-0.3: more distressed clients improve faster). With
        the level effects and the therapist and session variance, the intake
        PHQ-9 has an SD of about 5.0 (latent; 5.3 observed).
    sd_residual : float, default 2.5
        Session-level residual SD of the latent PHQ-9 total.
    gad_intercept, gad_loading, sd_gad_client, sd_gad_residual : float
        Latent GAD-7 total = ``gad_intercept + gad_loading * (PHQ-9 latent -
        intercept)`` + client effect + residual; gives r about .7 between the
        totals, in the range usually reported (e.g. Kroenke et al. 2016,
        Psychosom Med 78:716-727, PHQ-ADS).
    autonomous_mean, autonomous_sd, controlled_mean, controlled_sd,
    amotivation_mean, amotivation_sd : float
        Latent item means (1-7) of the example self-regulation questionnaire.
    motivation_corr : tuple of float
        Correlations of the latent (autonomous, controlled, amotivation,
        readiness) factors, upper triangle row by row.
    urica_means, urica_loadings : tuple of float
        Latent item means (1-5) of precontemplation, contemplation, action
        and maintenance, and their loadings on the readiness factor (readiness
        = C + A + M - PC is about 9.3, SD about 1.8; Project MATCH reported
        means about 9-10).
    urica_unique_sd : float, default 0.3
        Subscale-specific SD of the URICA subscales.
    alliance_mean, alliance_sd_client, alliance_sd_session, alliance_ar : float
        WAI-SR latent item mean (3.9, total about 47), its between-client SD
        (0.55), the SD of the stationary within-client AR(1) process (0.25)
        and its autocorrelation (0.3).
    skip_rate : float, default 0.02
        Probability that an answered questionnaire skips a single item.
    miss_rate, miss_autonomy : float
        Probability of missing an appointment (0.08) and its log-odds change
        per point of autonomous motivation (-0.3). Session 1 and the planned
        last session are always attended.
    dropout_intercept, dropout_improvement, dropout_autonomy : float
        Log-odds of dropping out after an attended session before the planned
        end (-3.8), the change per PHQ-9 point of improvement since session 1
        (-0.12, observed totals: dropout is missing at random given observed
        outcomes) and per point of autonomous motivation (-0.3). About 20% of
        clients drop out (Swift & Greenberg 2012, J Consult Clin Psychol
        80:547-559: 19.7%).
    noshow_after_dropout : float, default 0.5
        Probability that a dropout's last row is a missed appointment.
    gas_missing_dropout : float, default 0.6
        Probability that a dropout has no Goal Attainment Scaling ratings.
    homework_set_cbt, homework_set_other, homework_done : float
        Probabilities that homework is set (CBT 0.8, other 0.4) and completed
        (0.6 at average autonomous motivation, log-odds +0.5 per point).
    modality_probs, gender_probs, group_share : tuple or float
        Mix of therapist modalities (cbt, psychodynamic, integrative,
        art_therapy), client genders (woman, man, nonbinary) and group format.
        Modalities and formats are allocated in these proportions (largest
        remainder, every category present when the study is large enough);
        genders are drawn at random.
    first_intake, intake_span_days : str and int
        First possible intake date and the span of intake dates.

    Examples
    --------
    >>> import dataclasses
    >>> flat = dataclasses.replace(SimulationParams(), time=0.0)
    >>> flat.time, flat.intercept
    (0.0, 15.5)
    """

    intercept: float = 15.5
    time: float = -0.35
    autonomous: float = -0.80
    readiness: float = 0.60
    alliance_between: float = -0.12
    alliance_within_lag: float = -0.08
    time_autonomous: float = -0.05
    time_readiness: float = -0.075
    time_alliance_between: float = -0.016
    sd_therapist: float = 1.1
    sd_client_intercept: float = 4.0
    sd_client_slope: float = 0.15
    cor_client: float = -0.3
    sd_residual: float = 2.5
    gad_intercept: float = 12.0
    gad_loading: float = 0.8
    sd_gad_client: float = 2.5
    sd_gad_residual: float = 2.6
    autonomous_mean: float = 5.3
    autonomous_sd: float = 1.0
    controlled_mean: float = 3.6
    controlled_sd: float = 1.1
    amotivation_mean: float = 2.0
    amotivation_sd: float = 0.9
    motivation_corr: tuple[float, ...] = (0.25, -0.40, 0.20, 0.35, 0.0, -0.30)
    urica_means: tuple[float, ...] = (2.1, 4.0, 3.8, 3.6)
    urica_loadings: tuple[float, ...] = (-0.35, 0.30, 0.35, 0.30)
    urica_unique_sd: float = 0.3
    alliance_mean: float = 3.9
    alliance_sd_client: float = 0.55
    alliance_sd_session: float = 0.25
    alliance_ar: float = 0.3
    skip_rate: float = 0.02
    miss_rate: float = 0.08
    miss_autonomy: float = -0.3
    dropout_intercept: float = -3.8
    dropout_improvement: float = -0.12
    dropout_autonomy: float = -0.3
    noshow_after_dropout: float = 0.5
    gas_missing_dropout: float = 0.6
    homework_set_cbt: float = 0.8
    homework_set_other: float = 0.4
    homework_done: float = 0.6
    modality_probs: tuple[float, ...] = (0.4, 0.2, 0.3, 0.1)
    gender_probs: tuple[float, ...] = (0.63, 0.34, 0.03)
    group_share: float = 0.2
    first_intake: str = "2022-01-03"
    intake_span_days: int = 900


def _check_args(n_therapists: int, clients_per_therapist: int, max_sessions: int) -> None:
    for name, value, low in (
        ("n_therapists", n_therapists, 1),
        ("clients_per_therapist", clients_per_therapist, 1),
        ("max_sessions", max_sessions, 2),
    ):
        if not isinstance(value, int | np.integer) or isinstance(value, bool) or value < low:
            raise ModelSpecError(f"{name} must be an integer >= {low}, got {value!r}")
    if max_sessions > 60:
        raise ModelSpecError(f"max_sessions must be <= 60 (the data format), got {max_sessions}")


@overload
def simulate_study(
    *,
    n_therapists: int = ...,
    clients_per_therapist: int = ...,
    max_sessions: int = ...,
    seed: int = ...,
    params: SimulationParams | None = ...,
    return_truth: Literal[False] = ...,
) -> Study: ...
@overload
def simulate_study(
    *,
    n_therapists: int = ...,
    clients_per_therapist: int = ...,
    max_sessions: int = ...,
    seed: int = ...,
    params: SimulationParams | None = ...,
    return_truth: Literal[True],
) -> tuple[Study, SimulationTruth]: ...
def simulate_study(
    *,
    n_therapists: int = 30,
    clients_per_therapist: int = 11,
    max_sessions: int = 20,
    seed: int = SAMPLE_SEED,
    params: SimulationParams | None = None,
    return_truth: bool = False,
) -> Study | tuple[Study, SimulationTruth]:
    """Simulate a study: sessions in clients in therapists, with known truth.

    Parameters
    ----------
    n_therapists : int, default 30
        Number of therapists.
    clients_per_therapist : int, default 11
        Clients per therapist.
    max_sessions : int, default 20
        Largest planned number of sessions (2-60); planned sessions are drawn
        uniformly from ``round(0.4 * max_sessions)`` to ``max_sessions``.
    seed : int, default SAMPLE_SEED
        Seed of ``numpy.random.default_rng``; equal seeds give equal studies.
    params : SimulationParams, optional
        Generating parameters; the calibrated defaults when omitted.
    return_truth : bool, default False
        Also return the :class:`SimulationTruth`.

    Returns
    -------
    Study or (Study, SimulationTruth)
        Tables and columns as in ``docs/data-format.md``: keys and categories
        as Python ``str`` (object dtype), dates ``datetime64[ns]``, complete
        integer columns ``int64``, item columns, ``homework`` and ``gas_*``
        ``float64``.

    Notes
    -----
    **Outcome.** The latent PHQ-9 total of client *i* (therapist *j*) at
    ``time = session - 1`` is

    .. math::

        y^*_{ti} = \\beta_0 + u_j + b_{0i} + (\\beta_t + b_{1i}) t
                   + \\beta_a a_i + \\beta_r r_i + \\beta_B B_i + \\beta_W W_{ti}
                   + t(\\gamma_a a_i + \\gamma_r r_i + \\gamma_B B_i) + e_{ti}

    with therapist intercepts :math:`u_j`, correlated client intercepts and
    slopes :math:`(b_{0i}, b_{1i})` and residuals :math:`e_{ti}`. The
    predictors are the *observed* intake scale scores centred at their mean
    over clients: :math:`a_i` = ``srq_autonomous`` (mean of the answered
    autonomous items), :math:`r_i` = ``urica_readiness`` (mean C + mean A +
    mean M - mean PC), each computed from the answered items with no minimum.
    The analyses reproduce these scores with their proration rule
    (:data:`engagestats.analyses.PRORATION`: at least 80% of a scale's items
    answered, scored as the mean of the answered items), which at the default
    2% item-skip rate leaves only a handful of scales unscored; the built-in
    instruments' stricter default (every item required) leaves many more
    unscored. Because the outcome depends on the observed scores, regressing
    on them has no errors-in-variables bias. :math:`B_i` is the
    client's true alliance mean (WAI-SR total scale) centred, and
    :math:`W_{ti}` the observed WAI-SR total (prorated over answered items)
    at the previous attended session minus that true mean (0 at session 1).
    An analysis uses the observed client mean of ``wai_sr_total`` for the
    true mean; with ~12 sessions its reliability is about .97, so the
    remaining attenuation is small.

    **Items.** Each questionnaire is generated from latent subscale scores
    with a factor structure (``_simulate_items.items_from_latent``): per
    administration, every item of a subscale has the subscale's latent item
    mean as its common factor, shared out over the items by fixed weights so
    that the item means sum to the latent total; each item then gets
    independent beta noise around its mean and is rounded at random, both
    mean-preserving, so the expected scale sum equals the latent total
    wherever the latent lies inside the response range (bias only beyond the
    floor or ceiling, e.g. very low PHQ-9 late in treatment). The noise
    precision of each questionnaire is calibrated to the published Cronbach's
    alpha at the first administration (WAI-SR subscales about .87 and total
    .91, Hatcher & Gillaspy 2006; URICA .79-.89, McConnaughy et al. 1983,
    1989; PHQ-9 .89; GAD-7 .92); a study of 200 therapists x 20 clients gives
    .88/.88/.88 (goal/task/bond) and .93, .85/.83/.85/.83 (PC/C/A/M), .89 and
    .92. WAI-SR subscale latents are the client's alliance level plus a stable
    client profile and an occasion-specific part, centred over the three
    subscales (observed subscale r about .6); URICA subscale latents share
    the readiness factor (precontemplation loading negatively) plus
    subscale-specific parts. Single items are skipped with probability
    ``skip_rate``; missed sessions have no items.

    **Allocation.** Therapist modalities are allocated in the proportions
    ``modality_probs`` (counts by largest remainder; every modality of
    positive probability appears when ``n_therapists`` allows), and formats
    likewise with ``group_share``; the allocations are shuffled with the
    generator.

    **Missingness.** Appointments are missed at random given autonomous
    motivation; dropout after an attended session depends on the observed
    improvement so far (less improvement, higher hazard), so it is missing
    at random given the observed data. Dropouts get ``end_reason="dropout"``.

    References
    ----------
    Baldwin, S. A., & Imel, Z. E. (2013). Therapist effects. In M. J. Lambert
    (Ed.), *Bergin and Garfield's Handbook of Psychotherapy and Behavior
    Change* (6th ed., pp. 258-297). Wiley.

    Flückiger, C., Del Re, A. C., Wampold, B. E., & Horvath, A. O. (2018). The
    alliance in adult psychotherapy: A meta-analytic synthesis.
    *Psychotherapy, 55*(4), 316-340.

    Krebs, P., Norcross, J. C., Nicholson, J. M., & Prochaska, J. O. (2018).
    Stages of change and psychotherapy outcomes: A review and meta-analysis.
    *Journal of Clinical Psychology, 74*(11), 1964-1979.

    Hatcher, R. L., & Gillaspy, J. A. (2006). Development and validation of a
    revised short version of the Working Alliance Inventory. *Psychotherapy
    Research, 16*(1), 12-25.

    McConnaughy, E. A., Prochaska, J. O., & Velicer, W. F. (1983). Stages of
    change in psychotherapy: Measurement and sample profiles.
    *Psychotherapy: Theory, Research and Practice, 20*(3), 368-375.

    McConnaughy, E. A., DiClemente, C. C., Prochaska, J. O., & Velicer, W. F.
    (1989). Stages of change in psychotherapy: A follow-up report.
    *Psychotherapy, 26*(4), 494-503.

    Swift, J. K., & Greenberg, R. P. (2012). Premature discontinuation in adult
    psychotherapy: A meta-analysis. *Journal of Consulting and Clinical
    Psychology, 80*(4), 547-559.

    Examples
    --------
    >>> study, truth = simulate_study(n_therapists=4, clients_per_therapist=5, seed=1,
    ...                               return_truth=True)
    >>> study
    Study: 4 therapists, 20 clients, ... session rows
    >>> float(truth.fixed_effects.set_index("term").loc["time", "estimate"])
    -0.35
    >>> study.sessions.columns[:5].tolist()
    ['client_id', 'session', 'date', 'attended', 'homework']
    """
    _check_args(n_therapists, clients_per_therapist, max_sessions)
    p = params if params is not None else SimulationParams()
    if not isinstance(p, SimulationParams):
        raise ModelSpecError(f"params must be a SimulationParams, got {type(p).__name__}")
    rng = np.random.default_rng(seed)
    tables, latent = generate(rng, p, n_therapists, clients_per_therapist, max_sessions)
    study = Study(**tables, source=f"simulate_study(seed={seed})")
    if not return_truth:
        return study
    return study, build_truth(p, latent)


# ------------------------------------------------------------------ sample data
def write_sample(folder: str | Path) -> list[Path]:
    """Write the bundled sample study (``SAMPLE_SETTINGS``) to ``folder``.

    Parameters
    ----------
    folder : str or Path
        Output folder; created if needed. Existing files are overwritten.

    Returns
    -------
    list of Path
        The files written (the three CSVs and ``datapackage.json``).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     [p.name for p in write_sample(tmp)]
    ['clients.csv', 'datapackage.json', 'sessions.csv', 'therapists.csv']
    """
    from .io import write_study

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    write_study(simulate_study(**SAMPLE_SETTINGS), folder)
    return [folder / name for name in _SAMPLE_FILES]
