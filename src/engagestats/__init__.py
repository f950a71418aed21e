"""engagestats: motivation, readiness, alliance and outcome analyses for psychotherapy research.

The public API is flat::

    import engagestats as es

    study = es.load_sample()                    # or es.load_study("my_export/")
    scored = es.score(study)                    # every known questionnaire
    outcomes = es.talking_therapies_outcomes(scored)
    fit = es.lmm("phq9_total ~ session + (1 + session | client_id)", scored.panel())

Topic modules (``es.instruments``, ``es.reliability``, ``es.plots``, ``es.models``,
``es.prep``, ``es.simulate``) hold the rest.
"""

from __future__ import annotations

from . import analyses, change, instruments, models, plots, prep, reliability, simulate
from .analyses import (
    AnalysisResult,
    ExpectedRecovery,
    MonitoringAccuracy,
    OutcomeModel,
    analyse_alliance,
    analyse_dropout,
    analyse_motivation,
    analyse_readiness,
    binary_model,
    cross_lagged,
    effect_sizes,
    expected_change,
    expected_recovery,
    first_alarms,
    growth_model,
    impute,
    mediation,
    monitoring_accuracy,
    off_track,
    power,
    progress_alarms,
    therapist_effects,
)
from .analyses.power import power_curve
from .change import (
    clinical_cutoffs,
    clinical_significance,
    instrument_change,
    rates,
    reliable_change,
    reliable_change_threshold,
    talking_therapies_outcomes,
)
from .classify import motivation_type, readiness_profiles, readiness_stage
from .datasets import load_sample
from .engagement import end_reason_counts, engagement
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
from .instruments import Instrument, load_instrument
from .io import codebook, load_study, read_qualtrics, read_redcap, wide_to_long, write_study
from .models import GeeResult, GlmmResult, LmmResult, compare, gee, glmm, lmm, pool
from .prep import lag, time_code, within_between
from .scoring import score, scoring_summary
from .simulate import SimulationParams, SimulationTruth, simulate_study
from .study import Study

__version__ = "0.1.0"

__all__ = [
    "AnalysisResult",
    "ConvergenceWarning",
    "DataValidationError",
    "DataWarning",
    "EngageStatsError",
    "EngageStatsWarning",
    "ExpectedRecovery",
    "FormulaError",
    "GeeResult",
    "GlmmResult",
    "Instrument",
    "InstrumentError",
    "LmmResult",
    "ModelSpecError",
    "MonitoringAccuracy",
    "OutcomeModel",
    "SimulationParams",
    "SimulationTruth",
    "SingularFitWarning",
    "Study",
    "__version__",
    "analyse_alliance",
    "analyse_dropout",
    "analyse_motivation",
    "analyse_readiness",
    "analyses",
    "binary_model",
    "change",
    "clinical_cutoffs",
    "clinical_significance",
    "codebook",
    "compare",
    "cross_lagged",
    "effect_sizes",
    "end_reason_counts",
    "engagement",
    "expected_change",
    "expected_recovery",
    "first_alarms",
    "gee",
    "glmm",
    "growth_model",
    "impute",
    "instrument_change",
    "instruments",
    "lag",
    "lmm",
    "load_instrument",
    "load_sample",
    "load_study",
    "mediation",
    "models",
    "monitoring_accuracy",
    "motivation_type",
    "off_track",
    "plots",
    "pool",
    "power",
    "power_curve",
    "prep",
    "progress_alarms",
    "rates",
    "read_qualtrics",
    "read_redcap",
    "readiness_profiles",
    "readiness_stage",
    "reliability",
    "reliable_change",
    "reliable_change_threshold",
    "score",
    "scoring_summary",
    "simulate",
    "simulate_study",
    "talking_therapies_outcomes",
    "therapist_effects",
    "time_code",
    "wide_to_long",
    "within_between",
    "write_study",
]
