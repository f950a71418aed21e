"""Questionnaire scoring: the vectorised :func:`score` engine, its reports and scoring policies.

What a questionnaire *is* (:class:`~engagestats.instruments.Instrument`, the built-ins and
user instrument files) lives in :mod:`engagestats.instruments`; this package scores one.
A :class:`ScoringPolicy` states, once, which proration rules a study is scored with
(:data:`PRORATE_80`, the rule of the analyses and the report, or :data:`BUILTIN_RULES`).
Each :class:`~engagestats.Study` carries one (:attr:`~engagestats.Study.scoring_policy`):
:func:`score` and the analyses of the study use it, and their tables state it
(:func:`state_policy`). :func:`ensure_scores` scores only the score columns that are missing.
"""

from __future__ import annotations

from .policy import (
    BUILTIN_RULES,
    PRORATE_80,
    ScoringPolicy,
    ensure_scores,
    policy_for,
    state_policy,
)
from .scorer import Scored, ScoringReport, score, score_with_report, scoring_summary

__all__ = [
    "BUILTIN_RULES",
    "PRORATE_80",
    "Scored",
    "ScoringPolicy",
    "ScoringReport",
    "ensure_scores",
    "policy_for",
    "score",
    "score_with_report",
    "scoring_summary",
    "state_policy",
]
