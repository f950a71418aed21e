"""engagestats: motivation, readiness, alliance and outcome analyses for psychotherapy research.

The public API is flat: ``import engagestats as es`` and call ``es.load_sample()``,
``es.load_study(...)``, ``es.simulate_study(...)`` and so on.
"""

from __future__ import annotations

from .errors import (
    ConvergenceWarning,
    DataValidationError,
    DataWarning,
    EngageStatsError,
    EngageStatsWarning,
    FormulaError,
    InstrumentError,
    ModelSpecError,
    SingularFitWarning,
)
from .study import Study

__version__ = "0.1.0"

__all__ = [
    "ConvergenceWarning",
    "DataValidationError",
    "DataWarning",
    "EngageStatsError",
    "EngageStatsWarning",
    "FormulaError",
    "InstrumentError",
    "ModelSpecError",
    "SingularFitWarning",
    "Study",
    "__version__",
]
