"""Routine outcome monitoring: expected recovery curves, progress alarms and their accuracy.

- :func:`expected_recovery` fits curves on past clients, conditional on the intake
  score (and optional intake covariates) with log session time;
- :func:`progress_alarms` gives new clients a one-sided, traffic-light status at
  every session (on track / at risk / not on track); :func:`first_alarms` the
  first alarm per client;
- :func:`monitoring_accuracy` the sensitivity, specificity, PPV and NPV of the
  alarms for the final outcome, with Wilson CIs.

:func:`expected_change` and :func:`off_track` (two-sided growth-model bands that
ignore the intake score) are superseded by these and kept for existing code.
"""

from __future__ import annotations

from ._monitoring_alarms import (
    MonitoringAccuracy,
    first_alarms,
    monitoring_accuracy,
    progress_alarms,
)
from ._monitoring_curve import ExpectedRecovery, expected_recovery
from ._monitoring_growth import expected_change, off_track

__all__ = [
    "ExpectedRecovery",
    "MonitoringAccuracy",
    "expected_change",
    "expected_recovery",
    "first_alarms",
    "monitoring_accuracy",
    "off_track",
    "progress_alarms",
]
