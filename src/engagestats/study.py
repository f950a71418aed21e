"""The :class:`Study`: the three tidy tables of a psychotherapy study."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from .errors import DataValidationError

__all__ = [
    "ACCOUNTING_COLUMNS",
    "CLIENT",
    "COLUMN_MAP_COLUMNS",
    "EXCLUDED_COLUMNS",
    "LABEL_COLUMNS",
    "SESSION",
    "THERAPIST",
    "Study",
]

#: The key columns: the therapist, client and session identifiers of every table (the
#: defaults of the ``therapist=``, ``client=`` and ``session=`` arguments).
THERAPIST = "therapist_id"
CLIENT = "client_id"
SESSION = "session"

#: Columns of :attr:`Study.excluded`.
EXCLUDED_COLUMNS = ("table", "file", "row", "column", "value", "problem")
#: Columns of :attr:`Study.labels`.
LABEL_COLUMNS = ("table", "column", "value", "label")
#: Columns of :attr:`Study.column_map`.
COLUMN_MAP_COLUMNS = ("table", "source", "column", "how", "cells")
#: Columns of :attr:`Study.accounting`.
ACCOUNTING_COLUMNS = (
    "table",
    "file",
    "encoding",
    "rows_read",
    "rows_kept",
    "rows_excluded",
    "blank_lines",
)

_ITEM = re.compile(r"^(?P<instrument>[a-z][a-z0-9_]*?)_(?P<item>\d+)$")


#: The scoring policy of a Study given none: :data:`engagestats.scoring.PRORATE_80`, the
#: analyses' rule. Policies are defined in :mod:`engagestats.scoring`, a layer above this
#: module, which fills this slot when it is imported (always, by ``import engagestats``).
_DEFAULT_POLICY: list[Any] = [None]


def _set_default_policy(policy: Any) -> None:
    """Set the policy a Study gets when none is given (called by :mod:`engagestats.scoring`)."""
    _DEFAULT_POLICY[0] = policy


def _empty_excluded() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in EXCLUDED_COLUMNS})


def _empty_labels() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in LABEL_COLUMNS})


def _empty_column_map() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in COLUMN_MAP_COLUMNS})


def _empty_accounting() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in ACCOUNTING_COLUMNS})


def item_blocks(columns: pd.Index | list[str]) -> dict[str, list[str]]:
    """Group item columns named ``<instrument>_<number>`` by instrument.

    Examples
    --------
    >>> item_blocks(["client_id", "phq9_1", "phq9_2", "wai_sr_1"])
    {'phq9': ['phq9_1', 'phq9_2'], 'wai_sr': ['wai_sr_1']}
    """
    blocks: dict[str, list[str]] = {}
    for col in columns:
        m = _ITEM.match(str(col))
        if m:
            blocks.setdefault(m["instrument"], []).append(str(col))
    return blocks


@dataclass(frozen=True, eq=False)
class Study:
    """A psychotherapy study as three tidy tables.

    Parameters
    ----------
    therapists : DataFrame
        One row per therapist, keyed by ``therapist_id``.
    clients : DataFrame
        One row per client, keyed by ``client_id``, with ``therapist_id``
        and intake questionnaires as item columns (``urica_1`` ...).
    sessions : DataFrame
        One row per client and session, keyed by ``client_id`` and
        ``session``, with session questionnaires as item columns
        (``phq9_1`` ...).
    excluded : DataFrame, optional
        Rows left out when the study was loaded, one per problem, with the
        columns ``table, file, row, column, value, problem``. Empty when
        nothing was excluded.
    source : str, optional
        Where the data came from (a folder, or ``"simulate_study(seed=...)"``).
    scoring : tuple of ScoringReport, optional
        What :func:`engagestats.score` did: one
        :class:`~engagestats.scoring.ScoringReport` per table and instrument
        scored (invalid answers, unscorable counts), tabulated by
        :func:`engagestats.scoring_summary`. Empty for an unscored study.
    labels : DataFrame, optional
        Labels read with the data (SPSS files), one per row with the columns
        ``table, column, value, label``: a variable label has a missing
        ``value``, a value label the code it labels. Empty when the files
        carry none.
    column_map : DataFrame, optional
        How source columns became study columns, one row per change, with
        the columns ``table, source, column, how, cells``: renamed by
        ``columns=``, matched ignoring case, recoded (``cells`` counts the
        recoded cells), SPSS value labels applied, or read from an export
        (Qualtrics, REDCap). Empty when nothing was renamed or recoded.
    accounting : DataFrame, optional
        What :func:`load_study` read, one row per table: ``table, file,
        encoding, rows_read, rows_kept, rows_excluded, blank_lines``;
        ``rows_read == rows_kept + rows_excluded`` always holds, and
        ``rows_excluded`` counts the distinct rows in :attr:`excluded`.
        Empty for a study not loaded from data.
    scoring_policy : ScoringPolicy, optional
        The one scoring policy of the study
        (:class:`~engagestats.scoring.ScoringPolicy`): the proration rule under
        which :func:`engagestats.score` and every analysis score its
        questionnaires, and which every result table states. By default
        :data:`~engagestats.scoring.PRORATE_80`, the analyses' rule (a
        (sub)scale is scored when at least 80% of its items are answered). Set
        it with ``load_study(..., scoring_policy=...)`` or :meth:`with_policy`.

    Notes
    -----
    A ``Study`` checks only that the key columns exist; :func:`load_study`
    performs the full validation. Build one from files with
    :func:`engagestats.load_study`, from the bundled sample with
    :func:`engagestats.load_sample`, or by simulation with
    :func:`engagestats.simulate_study`.

    Examples
    --------
    >>> import pandas as pd
    >>> s = Study(
    ...     therapists=pd.DataFrame({"therapist_id": ["T1"]}),
    ...     clients=pd.DataFrame({"client_id": ["C1"], "therapist_id": ["T1"]}),
    ...     sessions=pd.DataFrame({"client_id": ["C1", "C1"], "session": [1, 2],
    ...                            "phq9_1": [2, 1]}),
    ... )
    >>> s
    Study: 1 therapists, 1 clients, 2 session rows
    >>> s.scoring_policy.name
    'prorate_80'
    >>> s.panel().columns.tolist()
    ['therapist_id', 'client_id', 'session', 'phq9_1']
    """

    therapists: pd.DataFrame
    clients: pd.DataFrame
    sessions: pd.DataFrame
    excluded: pd.DataFrame = field(default_factory=_empty_excluded)
    source: str | None = None
    scoring: tuple[Any, ...] = ()
    labels: pd.DataFrame = field(default_factory=_empty_labels)
    column_map: pd.DataFrame = field(default_factory=_empty_column_map)
    accounting: pd.DataFrame = field(default_factory=_empty_accounting)
    scoring_policy: Any = None

    def __post_init__(self) -> None:
        if self.scoring_policy is None:
            object.__setattr__(self, "scoring_policy", _DEFAULT_POLICY[0])
        required = {
            "therapists": [THERAPIST],
            "clients": [CLIENT, THERAPIST],
            "sessions": [CLIENT, SESSION],
        }
        missing = {}
        for name, cols in required.items():
            table = getattr(self, name)
            if not isinstance(table, pd.DataFrame):
                raise TypeError(
                    f"Study.{name} must be a pandas DataFrame, got {type(table).__name__}"
                )
            missing[name] = [c for c in cols if c not in table.columns]
        if any(missing.values()):
            raise DataValidationError.for_columns(missing, role="key")

    # ------------------------------------------------------------------ views
    @property
    def n_therapists(self) -> int:
        """Number of therapists."""
        return int(self.therapists[THERAPIST].nunique())

    @property
    def n_clients(self) -> int:
        """Number of clients."""
        return int(self.clients[CLIENT].nunique())

    def panel(self, *, attended_only: bool = False) -> pd.DataFrame:
        """Sessions joined with their client's and therapist's variables.

        Parameters
        ----------
        attended_only : bool, default False
            Keep only attended sessions (rows whose ``attended`` column is
            1). Ignored when the sessions table has no ``attended`` column.

        Returns
        -------
        DataFrame
            One row per session row, ordered by client and session, with
            ``therapist_id, client_id, session`` first, then session, client
            and therapist columns. Client and therapist columns whose names
            clash with session columns get the suffix ``_client`` or
            ``_therapist``.
        """
        sessions = self.sessions
        if attended_only and "attended" in sessions.columns:
            sessions = sessions.loc[sessions["attended"] == 1]
        clients = self.clients
        if THERAPIST in sessions.columns:
            clients = clients.drop(columns=THERAPIST)
        out = sessions.merge(
            clients,
            on=CLIENT,
            how="left",
            validate="many_to_one",
            suffixes=("", "_client"),
        )
        out = out.merge(
            self.therapists,
            on=THERAPIST,
            how="left",
            validate="many_to_one",
            suffixes=("", "_therapist"),
        )
        first = [THERAPIST, CLIENT, SESSION]
        out = out[first + [c for c in out.columns if c not in first]]
        return out.sort_values([CLIENT, SESSION], kind="stable").reset_index(drop=True)

    def summary(self) -> pd.DataFrame:
        """Counts, sessions per client and missingness, as a tidy table.

        Returns
        -------
        DataFrame
            Columns ``section``, ``metric`` and ``value``. ``value`` is a float
            column for every metric, so that it stays numeric; counts are whole
            numbers in it, and the notebook display (``_repr_html_``) shows them
            as integers (``4,066``, not ``4.07e+03``) and shares as percentages.
            Missingness rows give the share of missing answers per
            questionnaire (item columns ``<instrument>_<number>``) in the
            table where it is recorded; for session questionnaires only
            attended sessions count.
        """
        rows: list[tuple[str, str, float]] = [
            ("counts", "therapists", self.n_therapists),
            ("counts", "clients", self.n_clients),
            ("counts", "session_rows", len(self.sessions)),
        ]
        sessions = self.sessions
        if "attended" in sessions.columns:
            attended = sessions["attended"] == 1
            rows.append(("counts", "attended_sessions", int(attended.sum())))
            sessions = sessions.loc[attended]
        per_client = sessions.groupby(CLIENT).size().reindex(self.clients[CLIENT], fill_value=0)
        rows += [
            ("sessions_per_client", "mean", float(per_client.mean())),
            ("sessions_per_client", "median", float(per_client.median())),
            ("sessions_per_client", "min", float(per_client.min())),
            ("sessions_per_client", "max", float(per_client.max())),
        ]
        for table_name, table in (("clients", self.clients), ("sessions", sessions)):
            for inst, cols in item_blocks(table.columns).items():
                share = float(table[cols].isna().to_numpy().mean()) if len(table) else np.nan
                rows.append(("missing_share", f"{table_name}.{inst}", share))
        if len(self.excluded):
            rows.append(("counts", "excluded_rows", float(len(self.excluded))))
        out = pd.DataFrame(rows, columns=["section", "metric", "value"])
        out["value"] = out["value"].astype(float)
        return out

    def with_policy(self, policy: Any) -> Study:
        """The study under another scoring policy, its scored questionnaires scored again.

        Parameters
        ----------
        policy : ScoringPolicy
            The new policy (:class:`~engagestats.scoring.ScoringPolicy`, e.g.
            :data:`~engagestats.scoring.BUILTIN_RULES` for no proration).

        Returns
        -------
        Study
            A new Study whose :attr:`scoring_policy` is ``policy``. The
            instruments scored before (those in :attr:`scoring`) are scored again
            under ``policy``, so that no score column keeps the old rule; an
            unscored study stays unscored. Score columns that came with the data
            (no item columns to score them from) are kept as they are.

        Examples
        --------
        >>> import engagestats as es
        >>> study = es.load_sample()
        >>> strict = study.with_policy(es.scoring.BUILTIN_RULES)
        >>> strict.scoring_policy.name, study.scoring_policy.name
        ('builtin', 'prorate_80')
        """
        if not callable(getattr(policy, "rescore", None)):
            raise DataValidationError.for_argument(
                "policy",
                type(policy).__name__,
                "policy must be an engagestats.scoring.ScoringPolicy (e.g. PRORATE_80)",
            )
        out = replace(self, scoring_policy=policy)
        return policy.rescore(out) if self.scoring else out

    def equals(self, other: object) -> bool:
        """True when both studies hold identical tables (values and dtypes)."""
        if not isinstance(other, Study):
            return False
        return all(
            getattr(self, n).equals(getattr(other, n))
            and list(getattr(self, n).dtypes) == list(getattr(other, n).dtypes)
            for n in ("therapists", "clients", "sessions")
        )

    # ---------------------------------------------------------------- display
    def __repr__(self) -> str:
        return (
            f"Study: {self.n_therapists} therapists, {self.n_clients} clients, "
            f"{len(self.sessions)} session rows"
        )

    def _repr_html_(self) -> str:
        s = self.summary()
        body = "".join(
            f"<tr><td>{html.escape(r.section)}</td><td>{html.escape(r.metric)}</td>"
            f"<td>{_display_value(r.section, r.metric, r.value)}</td></tr>"
            for r in s.itertuples()
        )
        title = html.escape(repr(self))
        src = f"<br><small>source: {html.escape(self.source)}</small>" if self.source else ""
        if self.scoring_policy is not None:
            src += f"<br><small>scoring policy: {html.escape(self.scoring_policy.name)}</small>"
        return (
            f"<div><strong>{title}</strong>{src}<table>"
            "<thead><tr><th>section</th><th>metric</th><th>value</th></tr></thead>"
            f"<tbody>{body}</tbody></table></div>"
        )


def _display_value(section: str, metric: str, value: float) -> str:
    """A summary value as shown to people: counts as integers, shares as percentages."""
    if not np.isfinite(value):
        return "NA"
    if section == "counts" or (section == "sessions_per_client" and metric in ("min", "max")):
        return f"{value:,.0f}"
    if section == "missing_share":
        return f"{value:.1%}"
    return f"{value:.3g}"
