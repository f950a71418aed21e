"""Intake classification: URICA readiness stage and SDT motivation profile.

The continuous scores (the URICA readiness score, the relative autonomy index) are the
predictors for analyses; the stages and profiles here describe a sample, each by a
stated, sourced method.
"""

from __future__ import annotations

from .motivation import MOTIVATION_TYPES, motivation_type
from .readiness import (
    ATTC_CENTROIDS,
    CONVENTIONAL_CUTOFFS,
    PROFILE_STAGES,
    READINESS_STAGES,
    URICA_SUBSCALES,
    readiness_profiles,
    readiness_stage,
)

__all__ = [
    "ATTC_CENTROIDS",
    "CONVENTIONAL_CUTOFFS",
    "MOTIVATION_TYPES",
    "PROFILE_STAGES",
    "READINESS_STAGES",
    "URICA_SUBSCALES",
    "motivation_type",
    "readiness_profiles",
    "readiness_stage",
]
