"""Therapy-outcome analyses: growth models, moderation, progress monitoring, binary outcomes.

``growth_model(study, predictors=..., time_varying=...)`` builds and fits the
lme4-style growth model (sessions in clients in therapists) and returns an
:class:`OutcomeModel`; ``expected_recovery``, ``progress_alarms`` and
``monitoring_accuracy`` give routine outcome monitoring (``expected_change``
and ``off_track``, the older growth-model bands, are superseded);
``binary_model`` fits client-level binary outcomes; ``analyse_*`` run the end-to-end analyses.
"""

from __future__ import annotations

from ._panel import PRORATION
from .client_outcomes import BinaryModel, binary_model, client_table
from .cross_lagged import CrossLaggedResult, cross_lagged
from .dropout_hazard import DropoutHazard, dropout_hazard, person_period
from .effect_sizes import EffectSizes, effect_sizes
from .endtoend import (
    AnalysisResult,
    analyse_alliance,
    analyse_dropout,
    analyse_motivation,
    analyse_readiness,
)
from .growth import growth_formula, growth_model
from .impute import Imputations, impute
from .mediation import MediationResult, mediation
from .monitoring import (
    ExpectedRecovery,
    MonitoringAccuracy,
    expected_change,
    expected_recovery,
    first_alarms,
    monitoring_accuracy,
    off_track,
    progress_alarms,
)
from .outcome_model import OutcomeModel
from .therapist_effects import TherapistEffects, therapist_effects

__all__ = [
    "PRORATION",
    "AnalysisResult",
    "BinaryModel",
    "CrossLaggedResult",
    "DropoutHazard",
    "EffectSizes",
    "ExpectedRecovery",
    "Imputations",
    "MediationResult",
    "MonitoringAccuracy",
    "OutcomeModel",
    "TherapistEffects",
    "analyse_alliance",
    "analyse_dropout",
    "analyse_motivation",
    "analyse_readiness",
    "binary_model",
    "client_table",
    "cross_lagged",
    "dropout_hazard",
    "effect_sizes",
    "expected_change",
    "expected_recovery",
    "first_alarms",
    "growth_formula",
    "growth_model",
    "impute",
    "mediation",
    "monitoring_accuracy",
    "off_track",
    "person_period",
    "progress_alarms",
    "therapist_effects",
]
