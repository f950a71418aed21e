"""Power by simulation: :func:`power_curve` simulates studies and refits the generating model.

Analytic power formulas for three-level growth models with a lagged
within-client predictor are not available in closed form, so power is
estimated the way ``simr`` does for lme4 models (Green & MacLeod 2016):
simulate many studies with a known effect, fit the model to each and count
how often the effect is detected.
"""

from __future__ import annotations

import dataclasses
import math
import sys
import time
import warnings
from collections.abc import Sequence
from typing import TextIO

import numpy as np
import pandas as pd

from .._validate import check_positive_int, check_prob
from ..change.rates import wilson_interval
from ..errors import ConvergenceWarning, DataValidationError, EngageStatsError, SingularFitWarning
from ..simulate import SimulationParams, simulate_study
from ..simulate._truth import FIXED_TERMS
from ..study import Study
from ._panel import ADJUSTED_PREDICTORS, ADJUSTED_TIME_VARYING

__all__ = ["EFFECTS", "GENERATING_PREDICTORS", "GENERATING_TIME_VARYING", "power_curve"]

#: Effects :func:`power_curve` can vary: lme4 term name -> :class:`SimulationParams` field.
EFFECTS: dict[str, str] = {
    term: param for term, (param, _) in FIXED_TERMS.items() if term != "(Intercept)"
}

#: Intake predictors of the refitted generating model (term name -> column): the adjusted
#: growth model's (:data:`engagestats.analyses.endtoend.ADJUSTED_PREDICTORS`).
GENERATING_PREDICTORS = ADJUSTED_PREDICTORS

#: Time-varying predictor of the refitted generating model (WAI-SR total, 12-60 sum scale).
GENERATING_TIME_VARYING = ADJUSTED_TIME_VARYING

POWER_COLUMNS = (
    "n_clients",
    "n_therapists",
    "effect",
    "true_value",
    "n_reps",
    "n_failed",
    "n_singular",
    "n_significant",
    "power",
    "power_ci_low",
    "power_ci_high",
    "mean_estimate",
)


# ------------------------------------------------------------------ one replication
def _simulate(
    *, n_therapists: int, clients_per_therapist: int, max_sessions: int, seed: int, params
) -> Study:
    """Simulate one study (a seam: tests replace it to check the counting cheaply)."""
    return simulate_study(
        n_therapists=n_therapists,
        clients_per_therapist=clients_per_therapist,
        max_sessions=max_sessions,
        seed=seed,
        params=params,
    )


def _fit_effect(study: Study, effect: str) -> tuple[float, float, bool, bool]:
    """Fit the generating growth model; return (estimate, p, converged, singular).

    Every warning of the fit is swallowed here: singular fits are expected in
    small studies, and convergence is read from the fit itself.
    """
    from .growth import growth_model

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SingularFitWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        model = growth_model(
            study,
            predictors=GENERATING_PREDICTORS,
            time_varying=GENERATING_TIME_VARYING,
            # the generating model as simulate_study generates it (person-mean-centred lagged
            # alliance, 0 at the first session, no prior outcome), not growth_model's defaults
            prior_outcome="none",
            detrend=False,
            first_lag="zero",
        )
        row = model.fit.fixed.loc[effect]
        # private read until LmmResult offers a public ``singular`` (models is not analyses')
        singular = bool(model.fit._fit.optimizer_info.get("singular", False))
        return float(row["estimate"]), float(row["p"]), bool(model.fit.converged), singular


# ------------------------------------------------------------------ progress bar
class _Progress:
    """A tiny text progress bar.

    On a terminal it redraws one line with ``\\r``; elsewhere (a log file, a
    notebook) it writes a new line at every tenth of the work, so captured
    output stays short.
    """

    width = 30

    def __init__(self, total: int, stream: TextIO | None) -> None:
        self.total = max(int(total), 1)
        self.stream = stream
        self.done = 0
        self.start = time.perf_counter()
        isatty = getattr(stream, "isatty", None)
        self.tty = bool(isatty()) if callable(isatty) else False
        self.last_tenth = -1

    def update(self, label: str) -> None:
        self.done += 1
        if self.stream is None:
            return
        tenth = (10 * self.done) // self.total
        if not self.tty and tenth == self.last_tenth and self.done != self.total:
            return
        self.last_tenth = tenth
        filled = (self.width * self.done) // self.total
        bar = "#" * filled + "." * (self.width - filled)
        elapsed = time.perf_counter() - self.start
        text = f"power_curve [{bar}] {self.done}/{self.total} fits, {elapsed:.0f} s  {label}"
        if self.tty:
            self.stream.write("\r" + text)
            if self.done == self.total:
                self.stream.write("\n")
        else:
            self.stream.write(text + "\n")
        self.stream.flush()


# ------------------------------------------------------------------ argument checks
def _positive_ints(values: Sequence[int] | int, name: str) -> list[int]:
    seq = [values] if isinstance(values, int | np.integer) else list(values)
    if not seq:
        raise DataValidationError.for_argument(name, seq, f"{name} must not be empty")
    return [check_positive_int(v, name=name) for v in seq]


def _check(
    effect: str, values: Sequence[float] | float | None, params: SimulationParams | None
) -> tuple[SimulationParams, list[float]]:
    if effect not in EFFECTS:
        raise DataValidationError.for_argument(
            "effect", effect, f"unknown effect {effect!r}; choose one of {sorted(EFFECTS)}"
        )
    base = SimulationParams() if params is None else params
    if not isinstance(base, SimulationParams):
        raise DataValidationError.for_argument(
            "params", type(base).__name__, "params must be a SimulationParams"
        )
    if values is None:
        return base, [float(getattr(base, EFFECTS[effect]))]
    raw = [values] if np.isscalar(values) else list(values)  # type: ignore[arg-type]
    if not raw:
        raise DataValidationError.for_argument("values", raw, "values must not be empty")
    try:
        vals = [float(v) for v in raw]  # type: ignore[arg-type]  # checked: TypeError below
    except (TypeError, ValueError):
        raise DataValidationError.for_argument("values", values, "values must be numbers") from None
    if not all(math.isfinite(v) for v in vals):
        raise DataValidationError.for_argument("values", values, "values must be finite")
    return base, vals


# ------------------------------------------------------------------ public
def power_curve(
    *,
    effect: str = "alliance_within_lag",
    values: Sequence[float] | float | None = None,
    n_clients: Sequence[int] | int = (60, 120, 240),
    clients_per_therapist: int = 6,
    max_sessions: int = 20,
    n_reps: int = 100,
    alpha: float = 0.05,
    seed: int | None = None,
    params: SimulationParams | None = None,
    progress: bool | TextIO = True,
) -> pd.DataFrame:
    """Power of the growth model to detect one effect, by simulation.

    For every study size and true value, ``n_reps`` studies are simulated
    with :func:`~engagestats.simulate_study`, the generating growth model is
    refitted with :func:`~engagestats.growth_model`, and the share of studies
    in which the effect is significant in the right direction is the power.

    Parameters
    ----------
    effect : str, default "alliance_within_lag"
        The fixed effect (its lme4 name, a key of :data:`EFFECTS`):
        ``"time"``, ``"autonomous"``, ``"readiness"``, ``"alliance_between"``,
        ``"alliance_within_lag"``, ``"time:autonomous"``, ``"time:readiness"``
        or ``"time:alliance_between"``.
    values : float or sequence of float, optional
        True values of the effect (on the PHQ-9 total scale, per unit of the
        predictor as in :class:`~engagestats.SimulationParams`). By default
        the value in ``params`` (the calibrated default when ``params`` is
        None). Each value replaces the matching field of ``params`` with
        :func:`dataclasses.replace`; every other parameter is kept.
    n_clients : int or sequence of int, default (60, 120, 240)
        Study sizes (clients). Each is split into ``ceil(n_clients /
        clients_per_therapist)`` therapists, so the simulated number of
        clients (the ``n_clients`` column) is rounded up to a multiple of
        ``clients_per_therapist``.
    clients_per_therapist : int, default 6
        Clients per therapist.
    max_sessions : int, default 20
        Largest planned number of sessions (as in ``simulate_study``).
    n_reps : int, default 100
        Simulated studies per study size and value. The Monte-Carlo SE of a
        power near 0.8 is about :math:`\\sqrt{0.8 \\cdot 0.2 / n_{reps}}`, 0.04
        for 100 replications; ``power_ci_low``/``power_ci_high`` show it.
    alpha : float, default 0.05
        Significance level of the two-sided Satterthwaite t test (a type I
        error rate, not a confidence level: the one place the library says
        ``alpha``; the Wilson interval of the power is at ``level`` 0.95).
    seed : int, optional
        Seed of ``numpy.random.default_rng``, which draws one seed per
        replication; equal seeds give equal results. The same replication
        seeds are used for every value of the effect at a given study size
        (common random numbers), so the curve over ``values`` is smooth.
        None draws fresh entropy from the operating system.
    params : SimulationParams, optional
        Every other generating parameter; the calibrated defaults when omitted.
    progress : bool or file-like, default True
        Write a text progress bar to ``sys.stderr`` (True), to the given
        stream, or not at all (False). On a terminal the bar redraws one line;
        elsewhere it writes a line per tenth of the work.

    Returns
    -------
    DataFrame
        One row per study size and true value: ``n_clients`` (simulated),
        ``n_therapists``, ``effect``, ``true_value``, ``n_reps``,
        ``n_failed`` (fits that raised an error or whose optimiser did not
        converge; left out of the power), ``n_singular`` (boundary fits, kept),
        ``n_significant``, ``power`` (``n_significant / (n_reps -
        n_failed)``), ``power_ci_low``, ``power_ci_high`` (95% Wilson interval
        of the power, the Monte-Carlo uncertainty) and ``mean_estimate``
        (mean estimate over the successful fits; compare with ``true_value``
        for bias).

    Raises
    ------
    DataValidationError
        For an unknown effect or invalid arguments (the problem names the
        argument).

    Notes
    -----
    The generating model (see :func:`~engagestats.simulate_study`) is refitted
    as

    .. math::

        y_{ti} = \\beta_0 + \\beta_1 t + \\gamma' x_i + \\delta' x_i t
                 + \\beta_B \\bar w_i + \\beta_{Bt} \\bar w_i t
                 + \\beta_W (w_{t-1,i} - \\bar w_i)
                 + u_j + b_{0i} + b_{1i} t + e_{ti}

    with :math:`x_i` = (``srq_autonomous``, ``urica_readiness``) and
    :math:`w` the WAI-SR total (``wai_sr_sum``). A replication counts as a
    detection when :math:`p < \\alpha` and the estimate has the sign of the
    true value; when the true value is 0 any significant estimate counts, so
    ``power`` is then the type I error rate and should be near ``alpha``.
    Warnings raised inside replications (singular fits, convergence) are
    caught and counted, not re-issued.

    References
    ----------
    Green, P., & MacLeod, C. J. (2016). SIMR: an R package for power analysis
    of generalized linear mixed models by simulation. *Methods in Ecology and
    Evolution, 7*(4), 493-498.

    Arend, M. G., & Schäfer, T. (2019). Statistical power in two-level models:
    A tutorial based on Monte Carlo simulation. *Psychological Methods,
    24*(1), 1-19.

    Examples
    --------
    >>> from engagestats.analyses.power import power_curve
    >>> res = power_curve(effect="time", n_clients=[12], clients_per_therapist=4,
    ...                   max_sessions=8, n_reps=2, seed=1, progress=False)
    >>> res[["n_clients", "n_therapists", "effect", "true_value", "n_reps"]]
       n_clients  n_therapists effect  true_value  n_reps
    0         12             3   time       -0.62       2
    >>> int(res["n_failed"].iloc[0]), bool(0 <= res["power"].iloc[0] <= 1)
    (0, True)
    """
    base, vals = _check(effect, values, params)
    sizes = _positive_ints(n_clients, "n_clients")
    (cpt,) = _positive_ints(clients_per_therapist, "clients_per_therapist")
    (reps,) = _positive_ints(n_reps, "n_reps")
    check_positive_int(max_sessions, name="max_sessions")
    alpha = check_prob(alpha, name="alpha", closed="neither")
    if progress is True:
        stream: TextIO | None = sys.stderr
    elif progress is False or progress is None:
        stream = None
    elif callable(getattr(progress, "write", None)):
        stream = progress
    else:
        raise DataValidationError.for_argument(
            "progress", progress, "progress must be True, False or a writable stream"
        )

    rng = np.random.default_rng(seed)
    seeds = rng.integers(0, 2**63 - 1, size=(len(sizes), reps))
    bar = _Progress(len(sizes) * len(vals) * reps, stream)
    rows = []
    for i, n in enumerate(sizes):
        n_th = math.ceil(n / cpt)
        for value in vals:
            p_set = dataclasses.replace(base, **{EFFECTS[effect]: value})  # type: ignore[arg-type]
            estimates, significant, failed, singular = [], 0, 0, 0
            for r in range(reps):
                try:
                    study = _simulate(
                        n_therapists=n_th,
                        clients_per_therapist=cpt,
                        max_sessions=int(max_sessions),
                        seed=int(seeds[i, r]),
                        params=p_set,
                    )
                    est, p, converged, sing = _fit_effect(study, effect)
                except (EngageStatsError, np.linalg.LinAlgError, FloatingPointError):
                    failed += 1
                else:
                    if not converged or not (np.isfinite(est) and np.isfinite(p)):
                        failed += 1
                    else:
                        singular += int(sing)
                        estimates.append(est)
                        right_sign = value == 0 or np.sign(est) == np.sign(value)
                        significant += int(p < alpha and right_sign)
                bar.update(f"n_clients={n_th * cpt} {effect}={value:g}")
            n_ok = reps - failed
            low, high = wilson_interval(significant, n_ok)
            rows.append(
                {
                    "n_clients": n_th * cpt,
                    "n_therapists": n_th,
                    "effect": effect,
                    "true_value": value,
                    "n_reps": reps,
                    "n_failed": failed,
                    "n_singular": singular,
                    "n_significant": significant,
                    "power": significant / n_ok if n_ok else np.nan,
                    "power_ci_low": float(low),
                    "power_ci_high": float(high),
                    "mean_estimate": float(np.mean(estimates)) if estimates else np.nan,
                }
            )
    return pd.DataFrame(rows, columns=list(POWER_COLUMNS))
