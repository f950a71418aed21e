"""Caterpillar plot of therapist effects (:func:`engagestats.therapist_effects`), by estimand."""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes

from .._validate import check_choice
from ..analyses.therapist_effects import TherapistEffects
from ..errors import DataValidationError
from ._model_common import draw_caterpillar, label

__all__ = ["therapist_caterpillar"]

_WHAT = {
    "end_adjusted": (
        "end_adjusted",
        "end_adjusted_sd",
        "end-of-treatment {y}, adjusted for intake",
    ),
    "intake": ("intake", "intake_sd", "intake {y}"),
    "slope": ("slope", "slope_sd", "rate of change in {y} per time unit"),
}


def therapist_caterpillar(
    effects: TherapistEffects,
    *,
    what: str = "end_adjusted",
    ax: Axes | None = None,
) -> Axes:
    """Therapists' shrunken deviations with intervals, sorted, labelled by what they are.

    Parameters
    ----------
    effects : TherapistEffects
        From :func:`engagestats.therapist_effects`.
    what : {"end_adjusted", "intake", "slope"}, default "end_adjusted"
        The therapist deviation in the intake-adjusted end-of-treatment outcome,
        in the intake outcome (random intercept) or in the rate of change
        (random slope).
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure when None.

    Returns
    -------
    matplotlib Axes
        Therapists sorted by their estimate, smallest at the bottom (y = 0, 1,
        ...). The conditional modes are the line with gid ``"estimates"``, the
        intervals (``estimate ± z * sd``, the ``level`` of ``effects``) the
        collection with gid ``"intervals"``, the line at 0 (the average
        therapist) gid ``"reference"``. The x label names the estimand, the title
        the therapist share with its CI (for ``end_adjusted`` and ``slope``) and
        that the plot is not a ranking.

    Raises
    ------
    DataValidationError
        When ``what`` is not one of the choices or the estimates are all missing
        (``slope`` of a model without a therapist slope).

    Notes
    -----
    The intervals are :math:`\\hat u_j \\pm z\\,\\mathrm{sd}(u_j \\mid y)` with the
    conditional SDs of ``lme4::ranef(fit, condVar = TRUE)``; they show how
    precisely each therapist's deviation is estimated, not a test between
    therapists, and ranks read off the plot are far less certain than they look
    (Goldstein & Spiegelhalter 1996).

    References
    ----------
    Goldstein, H., & Spiegelhalter, D. J. (1996). League tables and their
    limitations. *Journal of the Royal Statistical Society A, 159*(3), 385-443.

    Examples
    --------
    >>> import warnings
    >>> import matplotlib.pyplot as plt
    >>> import engagestats as es
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", es.SingularFitWarning)
    ...     m = es.growth_model(es.load_sample(), therapist_slope=True)
    >>> te = es.therapist_effects(m, ci="none")
    >>> ax = es.plots.therapist_caterpillar(te)
    >>> ax.get_xlabel()
    'Therapist deviation in end-of-treatment depression (PHQ-9 total), adjusted for intake (conditional mode ± 95% interval)'
    >>> plt.close("all")
    """  # noqa: E501
    check_choice(what, tuple(_WHAT), name="what")
    est_col, sd_col, text = _WHAT[what]
    t = effects.therapists
    rows = t.loc[t[est_col].notna()].sort_values([est_col, "therapist"], kind="stable")
    if rows.empty:
        raise DataValidationError.for_argument(
            "what", what, "estimates to plot; refit growth_model with therapist_slope=True"
        )
    from scipy import stats

    z = float(stats.norm.ppf((1 + effects.level) / 2))
    est = rows[est_col].to_numpy(dtype=float)
    half = z * rows[sd_col].to_numpy(dtype=float)
    ax = draw_caterpillar(ax, est, half, rows["therapist"].astype(str).tolist())
    pct = f"{effects.level * 100:g}%"
    ax.set_ylabel("Therapist (sorted by estimate)")
    ax.set_xlabel(
        f"Therapist deviation in {text.format(y=label(effects.outcome))} "
        f"(conditional mode ± {pct} interval)"
    )
    share_of = {"end_adjusted": "end_adjusted", "slope": "change"}.get(what)
    title = "Not a ranking: intervals overlap"
    if share_of is not None:
        s = effects.shares.set_index("estimand").loc[share_of]
        ci = (
            f" ({pct} CI {s['ci_low']:.1%} to {s['ci_high']:.1%})"
            if np.isfinite(s["ci_low"]) and np.isfinite(s["ci_high"])
            else ""
        )
        title = f"Between therapists: {s['estimate']:.1%} of the variance{ci}. {title}"
    ax.set_title(title, fontsize="small")
    return ax
