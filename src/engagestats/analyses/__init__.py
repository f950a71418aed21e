"""Therapy-outcome analyses: growth models, moderation, progress monitoring, binary outcomes.

``growth_model(study, predictors=..., time_varying=...)`` builds and fits the
lme4-style growth model (sessions in clients in therapists) and returns an
:class:`OutcomeModel`; ``expected_change`` and ``off_track`` give
routine-outcome-monitoring bands; ``binary_model`` fits client-level binary
outcomes; ``analyse_*`` run the end-to-end analyses.
"""

from __future__ import annotations

from ._panel import PRORATION
from .growth import growth_formula, growth_model
from .outcome_model import OutcomeModel

__all__ = ["PRORATION", "OutcomeModel", "growth_formula", "growth_model"]
