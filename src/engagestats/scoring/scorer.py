"""The vectorised scoring engine: :func:`score`."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, cast

import numpy as np
import pandas as pd

from ..errors import DataValidationError, InstrumentError
from ..instruments import Instrument, available, for_block, resolve
from ..study import Study, item_blocks
from ._items import item_columns_for, read_items

if TYPE_CHECKING:
    from .policy import ScoringPolicy

__all__ = [
    "UNSCORABLE_COLUMNS",
    "Scored",
    "ScoringReport",
    "score",
    "score_with_report",
    "scoring_summary",
]

#: Columns of :attr:`ScoringReport.unscorable`.
UNSCORABLE_COLUMNS = ("score", "n_rows", "n_scored", "n_prorated", "n_empty", "n_too_few")


@dataclass(frozen=True, eq=False)
class ScoringReport:
    """What happened when one instrument was scored in one table.

    A scored :class:`~engagestats.Study` holds one per instrument and table in
    :attr:`Study.scoring <engagestats.Study.scoring>`; :func:`score_with_report`
    returns the report of a DataFrame. :func:`scoring_summary` tabulates them.

    Attributes
    ----------
    instrument : str
        The stem of the score columns.
    n_rows : int
        Rows scored.
    invalid : DataFrame
        Answers set missing because they were invalid (``invalid="nan"``), one
        per row with ``file, row, column, value, problem``.
    unscorable : DataFrame
        One row per score: ``score, n_rows, n_scored, n_prorated, n_empty``
        (no item answered) and ``n_too_few`` (fewer answered than required).
    table : str
        The table scored: ``"clients"`` or ``"sessions"`` of a Study, ``"data"``
        for a DataFrame.
    """

    instrument: str
    n_rows: int
    invalid: pd.DataFrame
    unscorable: pd.DataFrame
    table: str = "data"


class Scored(NamedTuple):
    """The scores of a DataFrame and their :class:`ScoringReport` (:func:`score_with_report`)."""

    scores: pd.DataFrame
    report: ScoringReport


class _Context:
    """What derived scores may look at: the (reversed) item matrix and the data."""

    def __init__(
        self, items: np.ndarray, data: pd.DataFrame, stem: str, inst: Instrument, table: str
    ) -> None:
        self.items, self.data, self.stem, self.inst = items, data, stem, inst
        self.table = table

    def gas_weights(self, weight_stem: str | None) -> np.ndarray:
        ws = weight_stem or f"{self.stem}_weight"
        cols = [f"{ws}_{i}" for i in range(1, self.items.shape[1] + 1)]
        present = [c for c in cols if c in self.data.columns]
        if not present:
            return np.ones_like(self.items)  # no weight columns: equal weights (documented)
        if len(present) < len(cols):
            raise DataValidationError(
                [
                    {
                        "file": self.table,
                        "row": None,
                        "column": c,
                        "value": None,
                        "problem": "some goal weight columns are present but this one is "
                        "missing; give a weight for every goal or none",
                    }
                    for c in cols
                    if c not in present
                ]
            )
        w = self.data[cols].apply(pd.to_numeric, errors="coerce").to_numpy(float, na_value=np.nan)
        bad = ~np.isnan(self.items) & ~(w > 0)
        if bad.any():
            r, c = np.nonzero(bad)
            raise DataValidationError(
                [
                    {
                        "file": self.table,
                        "row": self.data.index[i],
                        "column": cols[j],
                        "value": str(self.data[cols[j]].iloc[i]),
                        "problem": "goal is rated but its weight is missing or not positive",
                    }
                    for i, j in zip(r, c, strict=True)
                ]
            )
        return w


def _score_frame(
    data: pd.DataFrame,
    inst: Instrument,
    *,
    prefix: str | None,
    item_columns: Sequence[str] | Mapping[str, str] | None,
    keep_items: bool,
    invalid: str,
    table: str = "data",
) -> Scored:
    stem = prefix or inst.name
    cols = item_columns_for(inst, prefix=prefix, item_columns=item_columns)
    m = read_items(data, inst, cols, invalid=invalid, table=table)
    raw = m.values
    x = raw
    pos = {item: j for j, item in enumerate(inst.items)}
    if inst.reverse:
        x = raw.copy()
        rev = [pos[i] for i in inst.reverse]
        lo, hi = inst.response_range
        x[:, rev] = lo + hi - x[:, rev]
    answered = ~np.isnan(x)
    filled = np.where(answered, x, 0.0)
    n = len(x)
    out: dict[str, Any] = {}
    scores: dict[str, np.ndarray] = {}
    prorated = np.zeros(n, dtype=bool)
    summary = []
    for sub, items in inst._subscales.items():
        idx = [pos[i] for i in items]
        k = len(idx)
        n_ans = np.zeros(n, dtype=np.int64)
        total = np.zeros(n)
        for j in idx:  # add contiguous columns: faster than fancy indexing rows
            n_ans += answered[:, j]
            total += filled[:, j]
        ok = n_ans >= inst.min_required[sub]
        part = ok & (n_ans < k)
        if inst._aggregates[sub] == "mean":
            val = total / np.where(ok, n_ans, 1)
        elif part.any():
            val = np.where(part, total / np.where(ok, n_ans, 1) * k, total)
            if inst.round_prorated:
                val = np.where(part, np.floor(val + 0.5), val)
        else:
            val = total
        val = np.where(ok, val, np.nan)
        scores[sub] = val
        prorated |= part
        summary.append(
            (sub, n, int(ok.sum()), int(part.sum()), int((n_ans == 0).sum()),
             int((~ok & (n_ans > 0)).sum()))
        )  # fmt: skip
    ctx = _Context(x, data, stem, inst, table)
    for dname, d in (inst.derived or {}).items():
        val = d.compute(scores, ctx)
        scores[dname] = val
        ok = ~np.isnan(val)
        empty = int((~answered.any(axis=1)).sum()) if n else 0
        summary.append((dname, n, int(ok.sum()), 0, empty, int((~ok).sum()) - empty))
    for name, val in scores.items():
        out[f"{stem}_{name}"] = val
    n_answered = np.zeros(n, dtype=np.int64)
    for j in range(answered.shape[1]):
        n_answered += answered[:, j]
    out[f"{stem}_n_answered"] = n_answered
    out[f"{stem}_prorated"] = prorated
    bands = inst.active_bands
    if bands is not None:
        out[f"{stem}_band"] = bands.assign(scores[bands.score])
    for fname, (item, thr) in (inst.flags or {}).items():
        v = raw[:, pos[item]]
        out[f"{stem}_{fname}"] = pd.arrays.BooleanArray(v >= thr, np.isnan(v))
    result = pd.DataFrame(out, index=data.index)
    if keep_items:
        result = pd.concat([data.loc[:, cols], result], axis=1)
    report = ScoringReport(
        instrument=stem,
        n_rows=n,
        invalid=m.invalid,
        unscorable=pd.DataFrame(summary, columns=list(UNSCORABLE_COLUMNS)),
        table=table,
    )
    return Scored(result, report)


def _by_policy(policy: Any, ref: str | Instrument) -> Instrument:
    """The instrument ``ref`` (a name or an Instrument) under ``policy``'s rule.

    Without a policy: as :func:`resolve` gives it. An Instrument object is passed through
    :meth:`ScoringPolicy.apply <engagestats.scoring.ScoringPolicy.apply>`.
    """
    if policy is None:
        return resolve(ref)
    if isinstance(ref, Instrument):
        return cast(Instrument, policy.apply(ref))
    return cast(Instrument, policy.instrument(ref))


def _score_study(
    study: Study, instrument: Any, *, invalid: str, keep_items: bool, policy: Any
) -> Study:
    if policy is not None and policy != study.scoring_policy:
        study = study.with_policy(policy)  # one policy per study: what was scored, again
    policy = study.scoring_policy
    if instrument is None:
        wanted: list[Instrument] | None = policy.instruments(study) if policy is not None else None
    elif isinstance(instrument, str | Instrument):
        wanted = [_by_policy(policy, instrument)]
    else:
        wanted = [_by_policy(policy, i) for i in instrument]
    known = set(available())
    tables = {}
    reports = {(r.table, r.instrument): r for r in study.scoring}
    scored_now: set[str] = set()
    for tname in ("clients", "sessions"):
        table = getattr(study, tname)
        blocks = item_blocks(table.columns)
        if wanted is None:
            todo = [for_block(b, len(cols)) for b, cols in blocks.items() if b in known]
        else:
            todo = [i for i in wanted if i.name in blocks]
        for inst in todo:
            res, report = _score_frame(
                table, inst, prefix=None, item_columns=None, keep_items=False,
                invalid=invalid, table=tname,
            )  # fmt: skip
            reports.pop((tname, inst.name), None)  # a re-scored instrument reports anew, last
            reports[(tname, inst.name)] = report
            scored_now.add(inst.name)
            table = table.drop(columns=[c for c in res.columns if c in table.columns])
            last = max(table.columns.get_loc(c) for c in inst.items)
            cols = list(table.columns)
            order = [*cols[: last + 1], *res.columns, *cols[last + 1 :]]
            table = pd.concat([table, res], axis=1)[order]
        tables[tname] = table
    if wanted is not None:
        lost = [i.name for i in wanted if i.name not in scored_now]
        if lost:
            raise InstrumentError(f"no item columns of {lost} in the clients or sessions table")
    ordered = sorted(reports.values(), key=lambda r: ("clients", "sessions").index(r.table))
    return dataclasses.replace(study, **tables, scoring=tuple(ordered), scoring_policy=policy)


def score(
    data: pd.DataFrame | Study,
    instrument: str | Instrument | Sequence[str | Instrument] | None = None,
    *,
    prefix: str | None = None,
    item_columns: Sequence[str] | Mapping[str, str] | None = None,
    keep_items: bool = False,
    invalid: Literal["raise", "nan"] = "raise",
    policy: ScoringPolicy | None = None,
) -> pd.DataFrame | Study:
    """Score a questionnaire, vectorised over rows.

    Parameters
    ----------
    data : DataFrame or Study
        Item answers, one row per administration. A :class:`~engagestats.Study`
        is scored table by table (see Returns).
    instrument : str, Instrument, list of them, or None
        The instrument (or its registry name, e.g. ``"phq9"``). For a Study, a
        list, or None for every questionnaire that the study's policy scores
        (registered instruments and the packaged examples) whose item columns
        (``<name>_<number>``) appear in a table. An instrument given by name
        is scored under the policy's rule, and so is an
        :class:`~engagestats.instruments.Instrument` object that the policy
        names and that comes with its built-in rule; one with yet another rule
        raises (define a :class:`~engagestats.scoring.ScoringPolicy` with it).
        Instruments the policy does not name keep their own rule.
    prefix : str, optional
        Stem of the item and score columns when it differs from the
        instrument name (``prefix="pre_phq9"`` reads ``pre_phq9_1`` ... and
        writes ``pre_phq9_total``).
    item_columns : sequence or mapping of str, optional
        The data columns holding the items, in item order (or item -> column).
    keep_items : bool, default False
        Return the item columns before the scores.
    invalid : {"raise", "nan"}, default "raise"
        What to do with text, out-of-range or fractional answers: raise a
        :class:`~engagestats.DataValidationError` listing every one (row =
        index label), or set them missing and list them in the report.
    policy : ScoringPolicy, optional
        The proration rule (:class:`~engagestats.scoring.ScoringPolicy`). For a
        Study, by default its own :attr:`~engagestats.Study.scoring_policy`
        (:data:`~engagestats.scoring.PRORATE_80` unless set), the rule every
        analysis of the study uses; another policy gives a Study under that
        policy (as :meth:`Study.with_policy <engagestats.Study.with_policy>`
        does), its scored instruments scored again. For a DataFrame, by
        default the instrument's own rule (for a built-in, all items needed
        unless its source gives a proration rule).

    Returns
    -------
    DataFrame or Study
        For a DataFrame: the same index, with ``<stem>_<score>`` for each
        subscale and derived score (float, NaN when unscorable),
        ``<stem>_n_answered`` (int), ``<stem>_prorated`` (bool), ``<stem>_band``
        (ordered Categorical) when the instrument has bands and a nullable
        boolean column per flag (``phq9_item9_flag``).
        :func:`score_with_report` also returns the :class:`ScoringReport` (the
        invalid answers and the unscorable counts per score).
        For a Study: a new Study whose tables carry the score columns after
        each instrument's last item, and whose :attr:`~engagestats.Study.scoring`
        holds a :class:`ScoringReport` per table and instrument (see
        :func:`scoring_summary`), scored under its policy.

    Raises
    ------
    InstrumentError
        When item columns are missing (they are named).
    DataValidationError
        For invalid answers when ``invalid="raise"``.

    Notes
    -----
    Reverse-keyed items are rescored ``min + max - x`` first. A subscale with
    ``n`` of its ``k`` items answered scores the mean of the answered items
    (``aggregate="mean"``), or their sum when ``n = k`` and ``k`` times their
    mean (proration) when ``min_answered <= n < k`` (``"sum"``); below
    ``min_answered`` it is NaN. Bands are assigned with inclusive lower edges.

    One policy per study: ``score(study)`` and the analyses of ``study``
    (:func:`engagestats.growth_model`, the ``analyse_*`` functions, the report)
    score under the same :attr:`Study.scoring_policy
    <engagestats.Study.scoring_policy>`, so that they analyse the same clients.
    (Until this rule, ``score(study)`` used the strict built-in rules while the
    analyses prorated; see the changelog, ``docs/changelog.md``.)

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({f"gad7_{i}": [3, 0] for i in range(1, 8)})
    >>> d.loc[1, "gad7_7"] = None
    >>> out = score(d, "gad7")
    >>> out[["gad7_total", "gad7_n_answered", "gad7_band"]]
       gad7_total  gad7_n_answered gad7_band
    0        21.0                7    severe
    1         NaN                6       NaN
    >>> import engagestats as es
    >>> score(d, "gad7", policy=es.scoring.PRORATE_80)["gad7_total"].tolist()
    [21.0, 0.0]

    A study is scored under its own policy (80% proration by default), as its
    analyses are:

    >>> study = es.load_sample()
    >>> es.score(study).scoring_policy.name
    'prorate_80'
    >>> strict = es.score(study, policy=es.scoring.BUILTIN_RULES)
    >>> int(strict.sessions["phq9_total"].count()) < int(
    ...     es.score(study).sessions["phq9_total"].count())
    True
    """
    if isinstance(data, Study):
        if prefix is not None or item_columns is not None:
            raise InstrumentError("prefix and item_columns apply to a DataFrame, not a Study")
        return _score_study(data, instrument, invalid=invalid, keep_items=keep_items, policy=policy)
    return score_with_report(
        data,
        instrument,  # type: ignore[arg-type]
        prefix=prefix,
        item_columns=item_columns,
        keep_items=keep_items,
        invalid=invalid,
        policy=policy,
    ).scores


def score_with_report(
    data: pd.DataFrame,
    instrument: str | Instrument,
    *,
    prefix: str | None = None,
    item_columns: Sequence[str] | Mapping[str, str] | None = None,
    keep_items: bool = False,
    invalid: Literal["raise", "nan"] = "raise",
    policy: ScoringPolicy | None = None,
) -> Scored:
    """Score one instrument in a DataFrame and report what happened.

    Parameters
    ----------
    data, instrument, prefix, item_columns, keep_items, invalid, policy
        As in :func:`score` (a DataFrame and one instrument).

    Returns
    -------
    Scored
        A named pair: ``scores``, the DataFrame that :func:`score` returns, and
        ``report``, its :class:`ScoringReport` (``invalid`` answers set missing
        and ``unscorable`` counts per score).

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({f"gad7_{i}": [1, 9] for i in range(1, 8)})
    >>> scores, report = score_with_report(d, "gad7", invalid="nan")
    >>> scores["gad7_total"].tolist()
    [7.0, nan]
    >>> report.invalid[["row", "column", "value"]].head(2)
       row  column value
    0    1  gad7_1     9
    1    1  gad7_2     9
    """
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a DataFrame or a Study, got {type(data).__name__}")
    if instrument is None or not isinstance(instrument, str | Instrument):
        raise TypeError("score a DataFrame with one instrument (a name or an Instrument)")
    return _score_frame(
        data,
        _by_policy(policy, instrument),
        prefix=prefix,
        item_columns=item_columns,
        keep_items=keep_items,
        invalid=invalid,
    )


def scoring_summary(data: Study | ScoringReport | Iterable[ScoringReport]) -> pd.DataFrame:
    """Scored, prorated, unscorable and invalid counts as one tidy table.

    Parameters
    ----------
    data : Study, ScoringReport or iterable of them
        A Study returned by :func:`score` (its :attr:`~engagestats.Study.scoring`),
        or the report(s) of :func:`score_with_report`.

    Returns
    -------
    DataFrame
        One row per table and score: ``table, instrument, score, n_rows,
        n_scored, n_prorated, n_empty, n_too_few, n_invalid`` (invalid answers
        set missing for the instrument).

    Examples
    --------
    >>> d = pd.DataFrame({f"gad7_{i}": [1, 9] for i in range(1, 8)})
    >>> report = score_with_report(d, "gad7", invalid="nan").report
    >>> scoring_summary(report)[["score", "n_scored", "n_invalid"]]
      score  n_scored  n_invalid
    0 total         1          7
    """
    if isinstance(data, Study):
        reports: list[ScoringReport] = list(data.scoring)
    elif isinstance(data, ScoringReport):
        reports = [data]
    elif isinstance(data, Iterable) and not isinstance(data, str | pd.DataFrame):
        reports = list(data)
    else:
        raise TypeError(
            "data must be a scored Study or ScoringReport(s) (see score_with_report), "
            f"got {type(data).__name__}"
        )
    frames = []
    for rep in reports:
        f = rep.unscorable.copy()
        f.insert(0, "instrument", rep.instrument)
        f.insert(0, "table", rep.table)
        f["n_invalid"] = len(rep.invalid)
        frames.append(f)
    cols = ["table", "instrument", *UNSCORABLE_COLUMNS, "n_invalid"]
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    return pd.concat(frames, ignore_index=True)[cols]
