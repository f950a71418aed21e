"""Figures by topic (seaborn/matplotlib): pass ``ax=`` in, get the Axes back.

- :func:`jacobson_truax_plot`, :func:`outcome_bars`: clinical change
  (:mod:`engagestats.plots.change`);
- :func:`spaghetti`, :func:`trajectories`: change over sessions
  (:mod:`engagestats.plots.trajectories`);
- :func:`alliance_scatter`: between- and within-client association of a
  time-varying predictor with outcome (:mod:`engagestats.plots.alliance`);
- :func:`forest`, :func:`caterpillar`: fixed and random effects
  (:mod:`engagestats.plots.effects`);
- :func:`therapist_caterpillar`: therapist effects, labelled by estimand
  (:mod:`engagestats.plots.therapists`);
- :func:`progress_plot`, :func:`alarm_accuracy_plot`: routine outcome
  monitoring (:mod:`engagestats.plots.monitoring`);
- :func:`residual_diagnostics`, :func:`qq_plot`: model checks
  (:mod:`engagestats.plots.diagnostics`).

Every function takes an ``ax=`` (or ``axes=`` for several panels), creates a
figure when it is None, and returns what it drew on; none calls ``plt.show()``.
Colours come from seaborn's colour-blind-safe ``"colorblind"`` palette, and
drawn artists carry gids (documented per function) so tests and users can find
the plotted data.
"""

from __future__ import annotations

from .alliance import alliance_scatter, within_between_parts
from .change import jacobson_truax_plot, outcome_bars
from .diagnostics import qq_plot, residual_diagnostics
from .effects import caterpillar, forest
from .monitoring import alarm_accuracy_plot, progress_plot
from .therapists import therapist_caterpillar
from .trajectories import spaghetti, trajectories

__all__ = [
    "alarm_accuracy_plot",
    "alliance_scatter",
    "caterpillar",
    "forest",
    "jacobson_truax_plot",
    "outcome_bars",
    "progress_plot",
    "qq_plot",
    "residual_diagnostics",
    "spaghetti",
    "therapist_caterpillar",
    "trajectories",
    "within_between_parts",
]
