"""Private: growth-model prediction bands (:func:`expected_change`, :func:`off_track`).

Superseded for progress monitoring by :func:`~engagestats.expected_recovery` and
:func:`~engagestats.progress_alarms`; kept for existing code. Their bands are unchanged; since
issue 15 they refuse a study scored under another policy than the model's (as the superseding
functions do).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .._validate import as_table, check_level
from ..errors import ModelSpecError
from ..scoring import policy_for, state_policy
from ..study import Study
from ._monitoring_curve import same_policy
from ._panel import apply_spec, fixed_rows, scored_study, with_sum_scales
from .outcome_model import OutcomeModel

__all__ = ["expected_change", "off_track"]


def _random_variance(model: OutcomeModel, times: np.ndarray) -> np.ndarray:
    """``Var(Z b)`` of a new client (and a new therapist) at each time (sessions since the first).

    The random slopes are on the model's time terms, coded from ``times`` like the data.
    """
    coded = model.time_scale.code(times)
    total = np.zeros(len(times))
    vc = model.fit.varcorr
    for group in vc["group"].unique():
        if group == "Residual":
            continue
        rows = vc[vc["group"] == group]
        cols = rows.loc[rows["var2"].isna(), "var1"].tolist()
        G = np.zeros((len(cols), len(cols)))
        for r in rows.itertuples(index=False):
            i = cols.index(r.var1)
            j = i if pd.isna(r.var2) else cols.index(r.var2)
            G[i, j] = G[j, i] = r.vcov
        Z = np.empty((len(times), len(cols)))
        for k, c in enumerate(cols):
            if c == "(Intercept)":
                Z[:, k] = 1.0
            elif c in coded:
                Z[:, k] = coded[c]
            else:
                raise ModelSpecError(
                    f"expected_change supports random intercepts and time slopes, not {c!r}"
                )
        total += np.einsum("ij,jk,ik->i", Z, G, Z)
    return total


def _bands(model: OutcomeModel, X: np.ndarray, times: np.ndarray, level: float) -> pd.DataFrame:
    beta = model.fit.fixed["estimate"].to_numpy()
    V = model.fit.vcov.to_numpy()
    est = X @ beta
    var_fixed = np.einsum("ij,jk,ik->i", X, V, X)
    sd = np.sqrt(var_fixed + _random_variance(model, times) + model.fit.sigma**2)
    z = stats.norm.ppf(0.5 + level / 2.0)
    return pd.DataFrame(
        {
            "estimate": est,
            "se_mean": np.sqrt(var_fixed),
            "sd_prediction": sd,
            "pi_low": est - z * sd,
            "pi_high": est + z * sd,
        }
    )


def expected_change(
    model: OutcomeModel,
    *,
    intake: Mapping[str, Any] | None = None,
    times: Any = None,
    level: float = 0.95,
) -> pd.DataFrame:
    """Growth-model prediction band of a new client (not an expected recovery curve).

    For progress monitoring use :func:`~engagestats.expected_recovery`, whose
    curve is conditional on the client's intake score; this band conditions on
    the growth model's intake predictors only, uses its (linear) time and is
    two-sided. Kept for existing code; superseded.

    Parameters
    ----------
    model : OutcomeModel
        A fitted growth model.
    intake : mapping, optional
        Intake values of the new client on the data scale, by model term
        (``{"autonomous": 6.0, "stage": "action"}``). Terms not given are held
        at their mean (continuous) or averaged over levels (categorical);
        time-varying parts are at 0 (client mean equal to the sample mean, no
        deviation), since they are not known at intake.
    times : array_like, optional
        Values of ``time`` (sessions since the first, whatever the model's
        ``time_method``: they are coded like the model data); 0 to the largest
        observed by default.
    level : float, default 0.95
        Coverage of the prediction band.

    Returns
    -------
    DataFrame
        ``time, estimate, se_mean, sd_prediction, pi_low, pi_high``.

    Notes
    -----
    For a new client of a new therapist with fixed-effects row :math:`x_t`
    and random-effects row :math:`z_t = (1, t)` (:math:`t` coded as the model's time
    terms: :math:`\\log(1 + t)` or the piecewise phases with another ``time_method``):

    .. math::

        \\hat y_t = x_t'\\hat\\beta, \\quad
        \\mathrm{Var}(y_t - \\hat y_t) = x_t' V x_t + z_t' G z_t
            + \\sigma^2_{therapist} + \\sigma^2

    with :math:`V` the covariance of :math:`\\hat\\beta`, :math:`G` the
    client covariance matrix and :math:`\\sigma^2` the residual variance. The
    band is :math:`\\hat y_t \\pm z_{(1+level)/2}` SD (normal quantiles: the
    variance components are treated as known). It describes where a single
    session score of a new client with these predictor values is expected to
    lie. It does not condition on the client's own intake score, so it is wide
    and mainly separates severe from mild clients; it reproduces no feedback
    system (contrast Finch, Lambert & Schaalje 2001, whose curves use intake
    severity and log session).

    References
    ----------
    Finch, A. E., Lambert, M. J., & Schaalje, B. G. (2001). Psychotherapy
    quality control: the statistical generation of expected recovery curves
    for integration into an early warning system. *Clinical Psychology &
    Psychotherapy, 8*(4), 231-242.

    Lambert, M. J., Whipple, J. L., Bishop, M. J., Vermeersch, D. A., Gray,
    G. M., & Finch, A. E. (2002). Comparison of empirically-derived and
    rationally-derived methods for identifying patients at risk for treatment
    failure. *Clinical Psychology & Psychotherapy, 9*(3), 149-164.

    Examples
    --------
    >>> import engagestats as es
    >>> from engagestats.analyses import expected_change, growth_model
    >>> study = es.simulate_study(n_therapists=8, clients_per_therapist=8, seed=2)
    >>> m = growth_model(study, predictors={"autonomous": "srq_autonomous"})
    >>> band = expected_change(m, intake={"autonomous": 6.0}, times=[0, 4, 8])
    >>> band.columns.tolist()
    ['time', 'estimate', 'se_mean', 'sd_prediction', 'pi_low', 'pi_high']
    >>> bool((band["pi_low"] < band["estimate"]).all())
    True
    """
    level = check_level(level)
    t = model._times(times)
    X = model._design_rows(model._at(intake), t)
    out = _bands(model, X, t, level)
    out.insert(0, "time", t)
    return state_policy(out, model.scoring_policy)


def off_track(
    model: OutcomeModel,
    data: Study | pd.DataFrame,
    *,
    level: float = 0.95,
) -> pd.DataFrame:
    """Flag sessions outside the growth-model band of :func:`expected_change` (superseded).

    For progress monitoring use :func:`~engagestats.progress_alarms` (one-sided,
    intake-conditional, traffic-light levels). Kept for existing code.

    Parameters
    ----------
    model : OutcomeModel
        A fitted growth model.
    data : Study or DataFrame
        Clients to monitor: a Study (its attended sessions; score columns the
        model needs that it lacks are scored as in :func:`growth_model`) or a
        long panel with the model's columns.
    level : float, default 0.95
        Coverage of the two-sided prediction band of :func:`expected_change`.

    Returns
    -------
    DataFrame
        One row per session row: ``client_id`` (the model's client column),
        the model's session column (``session``), ``time``, ``observed``,
        ``expected``, ``pi_low``, ``pi_high``, ``off_track`` (True when the
        observed score lies outside the band on the worse side: above
        ``pi_high`` when higher is worse) and ``status`` (``"off track"``,
        ``"on track"``, ``"better than expected"``, or ``"no score"`` when the
        outcome or an intake predictor is missing).

    Raises
    ------
    DataValidationError
        When ``data`` is a Study scored under another scoring policy than the
        study the model was fitted on (as :func:`progress_alarms`).

    Notes
    -----
    Each session is compared with the two-sided band of a new client with the
    same intake predictor values (:func:`expected_change`). Time-varying
    predictors are set to 0, since the band uses intake information only. The
    band ignores the client's own intake score, so flags mark severe clients
    more than poorly progressing ones (issue 13); it does not reproduce the
    OQ-45 signal alarms of Lambert et al. (2002).

    References
    ----------
    Lambert, M. J., Whipple, J. L., Bishop, M. J., Vermeersch, D. A., Gray,
    G. M., & Finch, A. E. (2002). Comparison of empirically-derived and
    rationally-derived methods for identifying patients at risk for treatment
    failure. *Clinical Psychology & Psychotherapy, 9*(3), 149-164.

    Examples
    --------
    >>> import engagestats as es
    >>> from engagestats.analyses import growth_model, off_track
    >>> study = es.simulate_study(n_therapists=8, clients_per_therapist=8, seed=2)
    >>> m = growth_model(study, predictors={"autonomous": "srq_autonomous"})
    >>> flags = off_track(m, es.simulate_study(n_therapists=2, clients_per_therapist=3, seed=9))
    >>> flags.columns.tolist()[-4:]
    ['pi_low', 'pi_high', 'off_track', 'status']
    """
    level = check_level(level)
    same_policy(model.scoring_policy, data, what="growth model", function="off_track")
    spec = copy.deepcopy(model.spec)
    if isinstance(data, Study):
        needed = [spec.outcome, *spec.predictors.values(), *spec.moderators.values()]
        needed += list(spec.time_varying.values())
        panel = with_sum_scales(scored_study(data, needed).panel(attended_only=True))
    else:
        panel = as_table(data, "sessions").reset_index(drop=True)
    frame, _ = apply_spec(panel, spec, fit=False)
    for v in spec.time_varying:
        frame[f"{v}_between"] = 0.0
        frame[spec.within_name(v)] = 0.0
    predictors = [*spec.predictors, *spec.moderators]
    known = (
        frame[predictors].notna().all(axis=1).to_numpy()
        if predictors
        else np.ones(len(frame), dtype=bool)
    )
    times = frame["time"].to_numpy(dtype=float)
    bands = pd.DataFrame(np.nan, index=frame.index, columns=["estimate", "pi_low", "pi_high"])
    if known.any():
        X = fixed_rows(model.fit, frame.loc[known])
        b = _bands(model, X, times[known], level)
        bands.loc[known, ["estimate", "pi_low", "pi_high"]] = b[
            ["estimate", "pi_low", "pi_high"]
        ].to_numpy()
    obs = frame[spec.outcome].astype(float)
    worse_high = model.higher_is_worse
    above, below = obs > bands["pi_high"], obs < bands["pi_low"]
    off = above if worse_high else below
    better = below if worse_high else above
    status = np.where(off, "off track", np.where(better, "better than expected", "on track"))
    status = np.where(obs.isna() | bands["estimate"].isna(), "no score", status)
    table = pd.DataFrame(
        {
            spec.client: frame[spec.client].to_numpy(),
            spec.session: frame[spec.session].to_numpy(),
            "time": times,
            "observed": obs.to_numpy(),
            "expected": bands["estimate"].to_numpy(),
            "pi_low": bands["pi_low"].to_numpy(),
            "pi_high": bands["pi_high"].to_numpy(),
            "off_track": off.to_numpy(dtype=bool),
            "status": status,
        }
    )
    return state_policy(table, policy_for(data) if isinstance(data, Study) else None)
