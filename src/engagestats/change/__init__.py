"""Client-level change: reliable and clinical change, NHS Talking Therapies outcomes, rates.

- :mod:`~engagestats.change.jacobson_truax`: the reliable change index, clinical cut-offs and
  Jacobson-Truax categories;
- :mod:`~engagestats.change.talking_therapies`: per-instrument criteria and the NHS Talking
  Therapies (IAPT) recovery outcomes;
- :mod:`~engagestats.change.rates`: shares with Wilson intervals, overall and by group.
"""

from __future__ import annotations

from .jacobson_truax import (
    CLINICAL_CATEGORIES,
    RELIABLE_CATEGORIES,
    clinical_cutoffs,
    clinical_significance,
    reliable_change,
    reliable_change_threshold,
)
from .rates import rates, wilson_interval
from .talking_therapies import instrument_change, talking_therapies_outcomes

__all__ = [
    "CLINICAL_CATEGORIES",
    "RELIABLE_CATEGORIES",
    "clinical_cutoffs",
    "clinical_significance",
    "instrument_change",
    "rates",
    "reliable_change",
    "reliable_change_threshold",
    "talking_therapies_outcomes",
    "wilson_interval",
]
