"""Questionnaire scoring: :class:`Instrument` definitions and the :func:`score` engine."""

from __future__ import annotations

from .engine import ScoringReport, score, scoring_summary
from .files import load_instrument
from .instrument import Bands, GasTScore, Instrument, Linear, instrument_from_dict

__all__ = [
    "Bands",
    "GasTScore",
    "Instrument",
    "Linear",
    "ScoringReport",
    "instrument_from_dict",
    "load_instrument",
    "score",
    "scoring_summary",
]
