"""Figures by topic (seaborn/matplotlib; pass ``ax=`` in, get the Axes back)."""

from __future__ import annotations

from .change import jacobson_truax_plot, outcome_bars

__all__ = ["jacobson_truax_plot", "outcome_bars"]
