"""Scoring policies: one stated rule for scoring a study, and scoring only what is missing.

A :class:`ScoringPolicy` says which questionnaires of a study are scored and with which
proration rule (``Instrument.min_answered``); every other rule comes from the instrument
itself (:mod:`engagestats.instruments`). :func:`ensure_scores` scores the score columns a
function needs that are not there yet, under a policy, so a study scored once is never
scored again.

A :class:`~engagestats.Study` carries one policy (:attr:`Study.scoring_policy
<engagestats.Study.scoring_policy>`, :data:`PRORATE_80` unless set): :func:`score` and
every analysis of the study use it, and their tables state it (:func:`policy_for`,
:func:`state_policy`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal, TypeVar, cast

import pandas as pd

from ..errors import DataValidationError
from ..instruments import Instrument, available, example_names, for_block, resolve
from ..io.write import register_builtin_policy
from ..study import Study, _set_default_policy, item_blocks
from .scorer import score

__all__ = [
    "BUILTIN_RULES",
    "PRORATE_80",
    "ScoringPolicy",
    "ensure_scores",
    "policy_for",
    "state_policy",
]

T = TypeVar("T", Study, pd.DataFrame)


@dataclass(frozen=True)
class ScoringPolicy:
    """Which questionnaires are scored, and with which proration rule.

    Parameters
    ----------
    name : str
        A short name, quoted when the policy is described.
    min_answered : mapping of str to int or float, optional
        Instrument name to the rule that replaces its ``min_answered``: a share
        of each (sub)scale's items (0.8) or a count. Instruments not named keep
        their own (built-in) rules.
    examples : sequence of str, optional
        Packaged example instruments (:func:`engagestats.instruments.resolve`
        with ``examples=True``) scored as well when their items are present;
        by default every one (:func:`engagestats.instruments.example_names`).

    Examples
    --------
    >>> PRORATE_80.instrument("phq9").min_required
    {'total': 8}
    >>> BUILTIN_RULES.instrument("phq9").min_required
    {'total': 9}
    """

    name: str
    min_answered: Mapping[str, int | float] = field(default_factory=dict)
    examples: tuple[str, ...] = field(default_factory=lambda: tuple(example_names()))

    def knows(self, name: str) -> bool:
        """Whether the item block ``name`` is a registered or example instrument."""
        return name in available() or name in self.examples

    def instrument(self, name: str, n_items: int | None = None) -> Instrument:
        """The instrument of an item block (``n_items`` for GAS), with this policy's rule."""
        if name in self.examples:
            inst = resolve(name, examples=True)
        elif n_items is not None:
            inst = for_block(name, n_items)
        else:
            inst = resolve(name)
        rule = self.min_answered.get(inst.name)
        return replace(inst, min_answered=rule) if rule is not None else inst

    def apply(self, inst: Instrument) -> Instrument:
        """An :class:`Instrument` object under this policy.

        An instrument the policy names (``min_answered``) gets the policy's rule when
        it comes with its built-in rule or with the policy's own; one with a third rule
        is refused, so that a study's scores never mix rules. Any other instrument is
        returned as it is (its own rule is its built-in rule).

        Raises
        ------
        DataValidationError
            For an instrument the policy names that carries another rule.

        Examples
        --------
        >>> from engagestats import instruments
        >>> PRORATE_80.apply(instruments.get("phq9")).min_required
        {'total': 8}
        >>> PRORATE_80.apply(instruments.get("phq9", min_answered=7))
        Traceback (most recent call last):
        ...
        engagestats.errors.DataValidationError: Invalid argument 'instrument':
        ...
        """
        if inst.name not in self.min_answered:
            return inst
        ruled = self.instrument(inst.name)
        builtin = BUILTIN_RULES.instrument(inst.name)
        if inst.min_required in (ruled.min_required, builtin.min_required):
            return replace(inst, min_answered=self.min_answered[inst.name])
        raise DataValidationError.for_argument(
            "instrument",
            f"{inst.name} (min_answered {inst.min_required})",
            f"the scoring policy {self.name!r} scores {inst.name} with min_answered "
            f"{ruled.min_required}; one rule per study: to use another, define "
            f"ScoringPolicy(..., min_answered={{{inst.name!r}: ...}}) and pass it as policy= "
            "(or study.with_policy(...))",
        )

    def instruments(self, data: Study | pd.DataFrame) -> list[Instrument]:
        """Every instrument this policy scores in ``data``: registered ones, then examples."""
        columns: list[str] = []
        for table in _tables(data).values():
            columns += [str(c) for c in table.columns]
        blocks = item_blocks(columns)
        out = [self.instrument(b, len(c)) for b, c in blocks.items() if b in available()]
        return out + [self.instrument(b) for b in blocks if b in self.examples]

    def score(self, data: Study) -> Study:
        """Score every questionnaire of ``data`` under this policy (one :func:`score` call).

        The Study returned carries this policy (:attr:`Study.scoring_policy
        <engagestats.Study.scoring_policy>`): ``score(data, policy=self)``.
        """
        return cast(Study, score(data, policy=self))

    def rescore(self, data: Study) -> Study:
        """Score again, under this policy, the instruments of ``data`` that were scored.

        Used by :meth:`Study.with_policy <engagestats.Study.with_policy>`: every
        instrument named in :attr:`Study.scoring <engagestats.Study.scoring>` that
        this policy knows is scored again from its items; the Study returned
        carries this policy.
        """
        done = {r.instrument for r in data.scoring}
        insts = [i for i in self.instruments(data) if i.name in done]
        out = score(data, insts, policy=self) if insts else data
        return out if out.scoring_policy is self else _replace_policy(out, self)

    def label(self) -> str:
        """The policy in a few words, for a table note or caption.

        Examples
        --------
        >>> PRORATE_80.label()
        "Scoring policy 'prorate_80' (80% proration of gad7, phq9, srq, urica and wai_sr)"
        >>> BUILTIN_RULES.label()
        "Scoring policy 'builtin' (each instrument's built-in rule)"
        """
        if not self.min_answered:
            return f"Scoring policy {self.name!r} (each instrument's built-in rule)"
        groups = self._grouped("{pct:g}% proration of", "at least {n} items of each (sub)scale of")
        parts = "; ".join(f"{text} {_join(names)}" for text, names in groups.items())
        return f"Scoring policy {self.name!r} ({parts})"

    def describe(self) -> str:
        """The policy in words, for a report.

        Examples
        --------
        >>> print(PRORATE_80.describe())
        Scoring policy 'prorate_80': gad7, phq9, srq, urica and wai_sr are scored when at least 80% of each (sub)scale's items are answered (the mean of the answered items, times the number of items for sum scores); every other instrument by its built-in rule.
        """  # noqa: E501
        if not self.min_answered:
            return (
                f"Scoring policy {self.name!r}: every instrument by its built-in rule "
                "(all items needed unless the instrument's source gives a proration rule)."
            )
        groups = self._grouped(
            "at least {pct:g}% of each (sub)scale's items are answered",
            "at least {n} items of each (sub)scale are answered",
        )
        parts = [
            f"{_join(names)} {'is' if len(names) == 1 else 'are'} scored when {text}"
            for text, names in groups.items()
        ]
        return (
            f"Scoring policy {self.name!r}: {'; '.join(parts)} (the mean of the answered items, "
            "times the number of items for sum scores); every other instrument by its built-in "
            "rule."
        )

    def _grouped(self, share: str, count: str) -> dict[str, list[str]]:
        """Instruments grouped by their rule's wording (``share`` or ``count`` filled in)."""
        groups: dict[str, list[str]] = {}
        for inst, rule in sorted(self.min_answered.items()):
            text = share.format(pct=100 * rule) if isinstance(rule, float) else count.format(n=rule)
            groups.setdefault(text, []).append(inst)
        return groups


def _join(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


#: The instruments' own rules (all items needed unless the instrument's source gives a
#: proration rule): the default of :func:`score` and :func:`ensure_scores`.
BUILTIN_RULES = ScoringPolicy("builtin")

#: The rule of the analyses, the report and of the change, engagement and classification
#: functions when they score a missing column: PHQ-9, GAD-7, WAI-SR, URICA and the SRQ
#: example are scored when at least 80% of each (sub)scale's items are answered.
PRORATE_80 = ScoringPolicy(
    "prorate_80", min_answered={"phq9": 0.8, "gad7": 0.8, "wai_sr": 0.8, "urica": 0.8, "srq": 0.8}
)


_set_default_policy(PRORATE_80)
register_builtin_policy(BUILTIN_RULES)  # write_study records these by name, load_study reads
register_builtin_policy(PRORATE_80)


def _replace_policy(study: Study, policy: ScoringPolicy) -> Study:
    """``study`` with ``policy`` as its scoring policy, tables untouched (no re-scoring)."""
    return replace(study, scoring_policy=policy)


def policy_for(
    data: Any, policy: ScoringPolicy | None = None, *, default: ScoringPolicy = PRORATE_80
) -> ScoringPolicy:
    """The scoring policy that applies to ``data``.

    ``policy`` when given; otherwise the policy of a Study
    (:attr:`Study.scoring_policy <engagestats.Study.scoring_policy>`), or ``default``
    for a table (:data:`PRORATE_80`, the analyses' rule).

    Examples
    --------
    >>> import engagestats as es
    >>> policy_for(es.load_sample().with_policy(BUILTIN_RULES)).name
    'builtin'
    >>> policy_for(pd.DataFrame()).name
    'prorate_80'
    """
    if policy is not None:
        if not isinstance(policy, ScoringPolicy):
            raise DataValidationError.for_argument(
                "policy",
                type(policy).__name__,
                "policy must be an engagestats.scoring.ScoringPolicy (e.g. PRORATE_80)",
            )
        return policy
    if isinstance(data, Study) and isinstance(data.scoring_policy, ScoringPolicy):
        return data.scoring_policy
    return default


def state_policy(table: pd.DataFrame, policy: ScoringPolicy | None) -> pd.DataFrame:
    """Record the scoring policy of a result table in ``table.attrs["scoring_policy"]``.

    In place; ``table`` is returned. Columns are untouched (the table stays tidy);
    ``table.attrs["scoring_policy"].describe()`` gives the rule in words. Nothing is
    recorded for ``policy=None`` (scores given as data, not scored here).

    Examples
    --------
    >>> t = state_policy(pd.DataFrame({"x": [1]}), PRORATE_80)
    >>> t.attrs["scoring_policy"].name
    'prorate_80'
    """
    if policy is not None:
        table.attrs["scoring_policy"] = policy
    return table


def _tables(data: Study | pd.DataFrame) -> dict[str, pd.DataFrame]:
    if isinstance(data, Study):
        return {"clients": data.clients, "sessions": data.sessions}
    return {"data": data}


def _stem(column: str, blocks: Iterable[str]) -> str | None:
    """The item block a score column belongs to (the longest ``<block>_`` prefix)."""
    found = [b for b in blocks if column.startswith(b + "_")]
    return max(found, key=len) if found else None


def ensure_scores(
    data: T,
    columns: Iterable[str],
    *,
    policy: ScoringPolicy | None = None,
    table: str = "data",
    errors: Literal["raise", "ignore"] = "raise",
) -> T:
    """Add the score columns of ``columns`` that are missing, scoring only their instruments.

    Parameters
    ----------
    data : Study or DataFrame
        A Study (a column counts as present in any of its tables) or a table.
    columns : iterable of str
        Score columns needed (``phq9_total``, ``srq_autonomous`` ...). Columns
        already present are left as they are, however they were scored.
    policy : ScoringPolicy, optional
        The rule for the instruments that are scored here. By default the
        study's own policy (:attr:`Study.scoring_policy
        <engagestats.Study.scoring_policy>`) for a Study, and
        :data:`BUILTIN_RULES` for a table. A Study is scored under one policy
        only: another ``policy`` raises (use :meth:`Study.with_policy
        <engagestats.Study.with_policy>`).
    table : str, default "data"
        The name of a DataFrame in problems.
    errors : {"raise", "ignore"}, default "raise"
        What to do with a missing column that cannot be scored: raise, or
        leave it missing for the caller's own column check.

    Returns
    -------
    Study or DataFrame
        ``data`` itself when nothing is missing. A Study comes back from one
        :func:`score` call with every score of the instruments scored; a
        DataFrame gets just the missing columns.

    Raises
    ------
    DataValidationError
        Naming every column that is missing and cannot be scored (no item
        columns, or the instrument does not produce it); or, for a Study, a
        ``policy`` other than its own.
    InstrumentError
        When the items belong to no registered or example instrument.

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({f"gad7_{i}": [1, 1] for i in range(1, 8)})
    >>> d.loc[1, "gad7_7"] = None
    >>> ensure_scores(d, ["gad7_total"])["gad7_total"].tolist()
    [7.0, nan]
    >>> ensure_scores(d, ["gad7_total"], policy=PRORATE_80)["gad7_total"].tolist()
    [7.0, 7.0]
    """
    if isinstance(data, Study):
        own = policy_for(data)
        if policy is not None and policy != own:
            raise DataValidationError.for_argument(
                "policy",
                policy.name,
                f"this study is scored under its own policy {own.name!r}; one policy per "
                "study: use study.with_policy(policy) to score it under another",
            )
        policy = own
    elif policy is None:
        policy = BUILTIN_RULES
    tables = _tables(data)
    present = {str(c) for t in tables.values() for c in t.columns}
    if isinstance(data, Study):
        present |= {str(c) for c in data.therapists.columns}
    missing = [c for c in dict.fromkeys(columns) if c not in present]
    if not missing:
        return data
    # item block -> (the table holding it, its item columns)
    blocks = {
        b: (name, cols) for name, t in tables.items() for b, cols in item_blocks(t.columns).items()
    }
    todo: dict[str, Instrument] = {}
    problems = []
    for col in missing:
        stem = _stem(col, blocks)
        if stem is None:
            where = table if not isinstance(data, Study) else "clients/sessions"
            problems.append(
                (where, col, "score column missing and no item columns to score it from")
            )
        elif errors == "ignore" and not policy.knows(stem):
            continue  # an unknown questionnaire: left to the caller's column check
        else:
            inst = todo.get(stem) or policy.instrument(stem, len(blocks[stem][1]))
            if col[len(stem) + 1 :] in inst.score_names:
                todo[stem] = inst
            else:
                where = blocks[stem][0] if isinstance(data, Study) else table
                problems.append((where, col, f"instrument {stem!r} does not produce this score"))
    if problems and errors == "raise":
        raise DataValidationError(
            [
                {"file": f, "row": None, "column": c, "value": None, "problem": p}
                for f, c, p in problems
            ],
            "Score columns are missing",
        )
    if not todo:
        return data
    if isinstance(data, Study):
        return cast(Study, score(data, list(todo.values())))
    out = data
    for stem, inst in todo.items():
        scored = cast(pd.DataFrame, score(data, inst))
        wanted = [c for c in missing if _stem(c, blocks) == stem and c in scored.columns]
        out = out.assign(**{c: scored[c].to_numpy(dtype=float) for c in wanted})
    return out
