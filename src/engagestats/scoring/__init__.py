"""Questionnaire scoring: the vectorised :func:`score` engine and its :class:`ScoringReport`.

What a questionnaire *is* (:class:`~engagestats.instruments.Instrument`, the built-ins and
user instrument files) lives in :mod:`engagestats.instruments`; this package scores one.
"""

from __future__ import annotations

from .scorer import ScoringReport, score, scoring_summary

__all__ = ["ScoringReport", "score", "scoring_summary"]
