"""Simulate a psychotherapy study with known truth: :func:`simulate_study`.

Run ``engagestats sample data/sample`` (``make sample``) to regenerate the bundled
sample study byte for byte.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, overload

import numpy as np

from ..errors import ModelSpecError
from ..study import Study
from ._tables import generate
from ._truth import SimulationTruth, build_truth
from .params import SAMPLE_SEED, SAMPLE_SEED_BASE, SAMPLE_SETTINGS, SCENARIOS, SimulationParams

_SAMPLE_FILES = ("clients.csv", "datapackage.json", "sessions.csv", "therapists.csv")

__all__ = [
    "SAMPLE_SEED",
    "SAMPLE_SEED_BASE",
    "SAMPLE_SETTINGS",
    "SCENARIOS",
    "SimulationParams",
    "SimulationTruth",
    "simulate_study",
    "write_sample",
]


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
    seed: int | None = ...,
    params: SimulationParams | None = ...,
    return_truth: Literal[False] = ...,
) -> Study: ...
@overload
def simulate_study(
    *,
    n_therapists: int = ...,
    clients_per_therapist: int = ...,
    max_sessions: int = ...,
    seed: int | None = ...,
    params: SimulationParams | None = ...,
    return_truth: Literal[True],
) -> tuple[Study, SimulationTruth]: ...
def simulate_study(
    *,
    n_therapists: int = 30,
    clients_per_therapist: int = 11,
    max_sessions: int = 20,
    seed: int | None = None,
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
    seed : int, optional
        Seed of ``numpy.random.default_rng``; equal seeds give equal studies.
        None (default) draws fresh entropy: a new study each call. The bundled
        sample's seed (``SAMPLE_SEED``) was selected by a disclosed rule and is
        used only by ``SAMPLE_SETTINGS``.
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

        y^*_{ti} = \\beta_0 + u_j + b_{0i} + (\\beta_t + v_j + b_{1i}) f(t)
                   + \\beta_a a_i + \\beta_r r_i + \\beta_B B_i + \\beta_W W_{ti}
                   + f(t)(\\gamma_a a_i + \\gamma_r r_i + \\gamma_B B_i) + e_{ti}

    with therapist intercepts and slopes :math:`u_j, v_j` (independent),
    correlated client intercepts and slopes :math:`(b_{0i}, b_{1i})`, the
    time metric :math:`f(t) = t` or :math:`\\log(1 + t)` (``trajectory``) and
    stationary AR(1) residuals, :math:`e_{ti} = \\rho e_{t-1,i} +
    \\sqrt{1-\\rho^2}\\,\\varepsilon_{ti}` (``residual_ar``). The latent
    alliance (WAI-SR item mean) at session *t* is the client's level
    :math:`m_i` plus a client-specific trend, a stationary AR(1) deviation,
    fading rupture dips and ``alliance_symptom / 12`` times
    :math:`y^*_{ti} - \\text{level}_i` (symptom -> alliance at the same
    session), so the alliance and the symptoms are generated session by
    session (``simulate._process``). The
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
    at the previous attended session minus :math:`12 m_i` (0 at session 1).
    An analysis uses the observed client mean of ``wai_sr_total`` for the
    true mean; with ~12 sessions its reliability is about .97, so the
    remaining attenuation is small.

    **Items.** Each questionnaire is generated from latent subscale scores
    with a factor structure (``simulate._items.items_from_latent``): per
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
    improvement so far (less improvement, higher hazard), the alliance
    observed at the session, intake autonomy and readiness, so it is missing
    at random given the observed data, unless ``dropout_mnar`` is non-zero
    (then it also depends on the unobserved latent PHQ-9 at the next
    session). Dropouts get ``end_reason="dropout"``.

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
    -0.62
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
    return study, build_truth(p, latent, max_sessions)


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
    from ..io import write_study

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    write_study(simulate_study(**SAMPLE_SETTINGS), folder)
    return [folder / name for name in _SAMPLE_FILES]
