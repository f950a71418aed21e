"""Engagement per client: attendance, homework, time in treatment, early change, dropout."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd

from ._sessions import _first_last
from ._validate import (
    as_table,
    check_choice,
    check_positive_int,
    check_prob,
    renamed_arguments,
    require_columns,
)
from .errors import DataValidationError, DataWarning
from .scoring import ScoringPolicy, ensure_scores, policy_for, state_policy
from .study import CLIENT, SESSION, Study, item_blocks

__all__ = [
    "DROPOUT_CODING",
    "DROPOUT_DEFINITIONS",
    "dropout_definition",
    "end_reason_counts",
    "engagement",
]

#: Dropout definitions accepted by :func:`engagement`.
DROPOUT_DEFINITIONS = ("planned_end", "min_sessions", "min_dose")
#: How ``dropout="planned_end"`` codes each ``end_reason`` value (True: dropout). Values not
#: listed (``"referred_on"``, ``"ongoing"`` ...) give a missing ``dropout`` with a reason,
#: and are counted by :func:`end_reason_counts`; pass ``dropout_coding=`` to code them.
DROPOUT_CODING: Mapping[str, bool] = {"dropout": True, "completed": False}


def _coding(dropout_coding: Mapping[str, bool] | None) -> dict[str, bool]:
    coding = dict(DROPOUT_CODING if dropout_coding is None else dropout_coding)
    bad = {k: v for k, v in coding.items() if not isinstance(v, bool | np.bool_)}
    if bad:
        raise DataValidationError.for_argument(
            "dropout_coding", bad, "map each end_reason value to True (dropout) or False"
        )
    return {str(k): bool(v) for k, v in coding.items()}


def end_reason_counts(
    data: Any,
    *,
    dropout_coding: Mapping[str, bool] | None = None,
    client: str = CLIENT,
) -> pd.DataFrame:
    """Every ``end_reason`` value (missing included), its count and how dropout codes it.

    Parameters
    ----------
    data : Study or DataFrame
        A study (its clients table) or a clients table.
    dropout_coding : mapping of str to bool, optional
        As in :func:`engagement`; default :data:`DROPOUT_CODING`.
    client : str
        Client key column.

    Returns
    -------
    DataFrame
        One row per value, in order of frequency, missing last: ``end_reason``
        (missing as NaN), ``n_clients``, ``dropout`` (nullable bool: the
        coding under ``dropout="planned_end"``; missing for uncoded values and
        for a missing end reason, which falls back on ``planned_sessions``)
        and ``coded_by`` (``"end_reason"``, ``"attended < planned_sessions"``
        or ``"not coded"``). The counts add up to the number of clients.

    Examples
    --------
    >>> import pandas as pd
    >>> clients = pd.DataFrame({"client_id": list("abcde"),
    ...     "end_reason": ["completed", "dropout", "referred_on", "completed", None]})
    >>> end_reason_counts(clients)
        end_reason  n_clients  dropout                     coded_by
    0    completed          2    False                   end_reason
    1      dropout          1     True                   end_reason
    2  referred_on          1     <NA>                    not coded
    3          NaN          1     <NA>  attended < planned_sessions
    """
    table = as_table(data, "clients")
    require_columns(table, [client], table="clients", role="key")
    coding = _coding(dropout_coding)
    if "end_reason" in table.columns:
        values = table["end_reason"].astype(object)
    else:
        values = pd.Series(np.nan, index=table.index, dtype=object)
    counts = values.value_counts(dropna=False, sort=True)
    present = [v for v in counts.index if not pd.isna(v)]
    missing = [v for v in counts.index if pd.isna(v)]
    rows = []
    for v in [*present, *missing[:1]]:
        if pd.isna(v):
            n, code, how = int(values.isna().sum()), None, "attended < planned_sessions"
        else:
            n = int(counts[v])
            code = coding.get(str(v))
            how = "end_reason" if code is not None else "not coded"
        rows.append(
            {
                "end_reason": np.nan if pd.isna(v) else v,
                "n_clients": n,
                "dropout": code,
                "coded_by": how,
            }
        )
    out = pd.DataFrame(rows, columns=["end_reason", "n_clients", "dropout", "coded_by"])
    out["dropout"] = pd.array(out["dropout"].tolist(), dtype="boolean")
    return out


def dropout_definition(
    dropout: Literal["planned_end", "min_sessions", "min_dose"] = "planned_end",
    *,
    min_sessions: int | None = None,
    min_dose: float | None = None,
) -> str:
    """The dropout definition that :func:`engagement` applies, in words.

    Parameters
    ----------
    dropout, min_sessions, min_dose
        As in :func:`engagement` (checked the same way).

    Examples
    --------
    >>> dropout_definition("min_sessions", min_sessions=3)
    'min_sessions: fewer than 3 attended sessions'
    """
    check_choice(dropout, DROPOUT_DEFINITIONS, name="dropout")
    if dropout == "min_sessions":
        n = check_positive_int(min_sessions, name="min_sessions")
        return f"min_sessions: fewer than {n} attended sessions"
    if dropout == "min_dose":
        share = check_prob(min_dose, name="min_dose", closed="right")
        return f"min_dose: attended fewer than {share:g} x planned_sessions"
    return (
        "planned_end: unilateral ending before the planned end: end_reason == 'dropout'; "
        "without end_reason, attended < planned_sessions"
    )


def _ratio(num: pd.Series | np.ndarray, den: pd.Series | np.ndarray) -> np.ndarray:
    """``num / den`` where ``den > 0``, else NaN (no division by zero)."""
    n, d = np.asarray(num, dtype=float), np.asarray(den, dtype=float)
    return np.where(d > 0, n / np.where(d > 0, d, 1.0), np.nan)


@renamed_arguments(study_or_sessions="data")
def engagement(
    data: Any,
    *,
    clients: pd.DataFrame | None = None,
    client: str = CLIENT,
    session: str = SESSION,
    score: str | None = None,
    early_change_session: int = 4,
    dropout: Literal["planned_end", "min_sessions", "min_dose"] = "planned_end",
    min_sessions: int | None = None,
    min_dose: float | None = None,
    dropout_coding: Mapping[str, bool] | None = None,
    policy: ScoringPolicy | None = None,
) -> pd.DataFrame:
    """Engagement metrics, one row per client.

    Parameters
    ----------
    data : Study or DataFrame
        A :class:`~engagestats.Study`, or a sessions table with one row per
        client and offered session (columns as in ``docs/data-format.md``:
        ``attended``, and optionally ``date`` and ``homework``).
        (``study_or_sessions=``, its former name, is deprecated.)
    clients : DataFrame, optional
        The clients table (``client_id``, optionally ``planned_sessions`` and
        ``end_reason``) when a sessions table is given; taken from the study
        otherwise. Every client in it gets a row, with or without sessions.
    client, session : str
        Key column names.
    score : str, optional
        Outcome score for first/last scored session and early change.
        Default ``phq9_total`` when present (or scorable from ``phq9_*`` items
        through :func:`engagestats.score`); without one those columns are
        missing.
    early_change_session : int, default 4
        Early change is measured at the last scored session numbered
        ``<= early_change_session``.
    dropout : {"planned_end", "min_sessions", "min_dose"}, default "planned_end"
        Dropout definition (see Notes; :func:`dropout_definition` gives it in
        words).
    min_sessions : int, optional
        Required for ``dropout="min_sessions"``.
    min_dose : float, optional
        Required for ``dropout="min_dose"``: the share of the planned sessions
        (in (0, 1]) a client must attend.
    dropout_coding : mapping of str to bool, optional
        For ``"planned_end"``: which ``end_reason`` values are a dropout
        (True) or not (False); default :data:`DROPOUT_CODING`
        (``dropout`` True, ``completed`` False). Any other value keeps its
        row with ``dropout`` missing and a ``reason``; a DataWarning counts
        them (:func:`end_reason_counts` lists every value).
    policy : ScoringPolicy, optional
        Rule for scoring a missing ``score`` column: by default the study's own
        (:attr:`Study.scoring_policy <engagestats.Study.scoring_policy>`), or
        :data:`~engagestats.scoring.PRORATE_80` (the analyses' rule) for a
        table. The result records it in ``attrs["scoring_policy"]``.

    Returns
    -------
    DataFrame
        One row per client: ``client_id``, ``sessions_offered``,
        ``sessions_attended``, ``attendance_rate`` (attended / offered),
        ``homework_set`` (attended sessions with homework recorded),
        ``homework_completed``, ``homework_rate`` (completed / set),
        ``first_date``, ``last_date`` (first and last attended), ``weeks_in_treatment``,
        ``first_scored_session``, ``last_scored_session``, ``score_first``,
        ``score_last``, ``early_change``, ``planned_sessions``,
        ``end_reason``, ``dropout`` (nullable bool) and ``reason`` (why
        values are missing: ``"no sessions"``, ``"no attended sessions"``,
        ``"end_reason 'x' is not coded as dropout or not"``).
        The score columns use ``score`` (``phq9_total`` by default, as above);
        they are missing when there is none.

    Notes
    -----
    * ``attendance_rate = attended / offered``; ``homework_rate =
      completed / set``, over sessions whose ``homework`` is not empty
      (homework is only recorded when it was set).
    * ``weeks_in_treatment = (last attended date - first attended date) / 7``.
    * ``early_change = y(s*) - y(first)``, with :math:`s^*` the last scored
      session numbered ``<= early_change_session``; missing when no scored
      session other than the first lies in that window.
    * Dropout:

      - ``"planned_end"`` (default): unilateral ending before the planned
        end, i.e. ``end_reason == "dropout"`` (not a dropout when
        ``"completed"``; other values only as ``dropout_coding`` says, else
        missing); when ``end_reason`` is empty or absent, attending fewer
        than ``planned_sessions``. This follows the
        most common definition in the meta-analysis of Swift & Greenberg
        (2012): the client's unilateral decision to stop before the planned
        end;
      - ``"min_sessions"``: fewer than ``min_sessions`` attended sessions;
      - ``"min_dose"``: attending fewer than ``min_dose * planned_sessions``.

    References
    ----------
    Swift, J. K., & Greenberg, R. P. (2012). Premature discontinuation in
    adult psychotherapy: a meta-analysis. *Journal of Consulting and Clinical
    Psychology, 80*(4), 547-559.

    Examples
    --------
    >>> import pandas as pd
    >>> sessions = pd.DataFrame({
    ...     "client_id": ["a", "a", "a", "b"], "session": [1, 2, 3, 1],
    ...     "date": ["2024-01-01", "2024-01-08", "2024-01-22", "2024-02-01"],
    ...     "attended": [1, 0, 1, 1], "homework": [1, None, 0, None],
    ...     "phq9_total": [15, None, 9, 12]})
    >>> clients = pd.DataFrame({"client_id": ["a", "b"], "planned_sessions": [3, 8],
    ...                         "end_reason": ["completed", "dropout"]})
    >>> out = engagement(sessions, clients=clients)
    >>> out[["client_id", "attendance_rate", "homework_rate", "weeks_in_treatment"]]
      client_id  attendance_rate  homework_rate  weeks_in_treatment
    0         a         0.666667            0.5                 3.0
    1         b         1.000000            NaN                 0.0
    >>> out[["client_id", "early_change", "dropout"]]
      client_id  early_change  dropout
    0         a          -6.0    False
    1         b           NaN     True
    """
    sessions = as_table(data, "sessions")
    if isinstance(data, Study) and clients is None:
        clients = data.clients
    dropout_definition(dropout, min_sessions=min_sessions, min_dose=min_dose)  # checks them
    coding = _coding(dropout_coding)
    check_positive_int(early_change_session, name="early_change_session")
    require_columns(sessions, [client, session], table="sessions", role="key")
    if clients is not None:
        require_columns(clients, [client], table="clients", role="key")
        ids = pd.Index(pd.unique(clients[client]), name=client)
        extra = ~sessions[client].isin(ids)
        if extra.any():
            raise DataValidationError(
                [
                    {
                        "file": "sessions",
                        "row": i,
                        "column": client,
                        "value": str(v),
                        "problem": "client not in the clients table",
                    }
                    for i, v in sessions.loc[extra, client].items()
                ],
                "Sessions of unknown clients",
            )
    else:
        ids = pd.Index(pd.unique(sessions[client]), name=client)

    if "attended" in sessions.columns and sessions["attended"].isna().any():
        unknown = sessions["attended"].isna()
        raise DataValidationError(
            [
                {
                    "file": "sessions",
                    "row": i,
                    "column": "attended",
                    "value": None,
                    "problem": "attendance unknown; expected 1 (attended) or 0 (missed)",
                }
                for i in sessions.index[unknown]
            ],
            "Sessions with unknown attendance",
        )
    att = (
        sessions["attended"].astype(float) == 1
        if "attended" in sessions.columns
        else pd.Series(True, index=sessions.index)
    )
    g_all = sessions.groupby(client, sort=False)
    attended = sessions.loc[att]
    g_att = attended.groupby(client, sort=False)
    out = pd.DataFrame(index=ids)
    out["sessions_offered"] = g_all.size().reindex(ids).fillna(0).astype(int)
    out["sessions_attended"] = g_att.size().reindex(ids).fillna(0).astype(int)
    out["attendance_rate"] = _ratio(out["sessions_attended"], out["sessions_offered"])
    if "homework" in sessions.columns:
        hw = attended["homework"].astype(float)
        set_ = hw.notna().groupby(attended[client]).sum()
        done = (hw == 1).groupby(attended[client]).sum()
        out["homework_set"] = set_.reindex(ids).fillna(0).astype(int)
        out["homework_completed"] = done.reindex(ids).fillna(0).astype(int)
        out["homework_rate"] = _ratio(out["homework_completed"], out["homework_set"])
    else:
        out["homework_set"] = 0
        out["homework_completed"] = 0
        out["homework_rate"] = np.nan
    if "date" in sessions.columns:
        dates = pd.to_datetime(attended["date"])
        first = dates.groupby(attended[client]).min().reindex(ids)
        last = dates.groupby(attended[client]).max().reindex(ids)
        out["first_date"] = first
        out["last_date"] = last
        out["weeks_in_treatment"] = (last - first).dt.days / 7.0
    else:
        out["first_date"] = pd.NaT
        out["last_date"] = pd.NaT
        out["weeks_in_treatment"] = np.nan

    # ------------------------------------------------------ scores
    if score is None and (
        "phq9_total" in sessions.columns or "phq9" in item_blocks(sessions.columns)
    ):
        score = "phq9_total"
    if score is not None:
        scored = ensure_scores(attended, [score], policy=policy_for(data, policy), table="sessions")
        fl = _first_last(scored, [score], client=client, session=session, clients=list(ids))
        out["first_scored_session"] = fl["first_session"].to_numpy()
        out["last_scored_session"] = fl["last_session"].to_numpy()
        out["score_first"] = fl[f"{score}_first"].to_numpy()
        out["score_last"] = fl[f"{score}_last"].to_numpy()
        early = scored.loc[scored[score].notna() & (scored[session] <= early_change_session)]
        early = early.sort_values([client, session], kind="stable").groupby(client).tail(1)
        early = early.set_index(client)
        e_session = early[session].reindex(ids).to_numpy(dtype=float)
        e_score = early[score].reindex(ids).to_numpy(dtype=float)
        later = e_session > out["first_scored_session"].to_numpy(dtype=float)
        out["early_change"] = np.where(later, e_score - out["score_first"].to_numpy(), np.nan)
    else:
        for col in (
            "first_scored_session",
            "last_scored_session",
            "score_first",
            "score_last",
            "early_change",
        ):
            out[col] = np.nan

    # ------------------------------------------------------ dropout
    info = clients.set_index(client) if clients is not None else pd.DataFrame(index=ids)
    planned = (
        info["planned_sessions"].reindex(ids).astype(float)
        if "planned_sessions" in info.columns
        else pd.Series(np.nan, index=ids)
    )
    end_reason = (
        info["end_reason"].reindex(ids).astype(object)
        if "end_reason" in info.columns
        else pd.Series(np.nan, index=ids, dtype=object)
    )
    out["planned_sessions"] = planned.to_numpy()
    out["end_reason"] = end_reason.to_numpy()
    n_att = out["sessions_attended"].to_numpy(dtype=float)
    uncoded = np.zeros(len(ids), dtype=bool)
    if dropout == "planned_end":
        has_reason = end_reason.notna().to_numpy()
        text = end_reason.astype(str)
        coded = text.isin(list(coding)).to_numpy() & has_reason
        uncoded = has_reason & ~coded
        by_reason = text.map(lambda v: coding.get(v, False)).to_numpy(dtype=bool)
        by_count = n_att < planned.to_numpy()
        value = np.where(has_reason, by_reason, by_count)
        known = coded | (~has_reason & planned.notna().to_numpy())
        if uncoded.any():
            counts = end_reason[uncoded].value_counts()
            listed = ", ".join(f"{v!r} ({n})" for v, n in counts.items())
            warnings.warn(
                f"{int(uncoded.sum())} clients have an end_reason that is neither coded as "
                f"dropout nor as not (dropout is missing for them): {listed}; give "
                "dropout_coding= to code them",
                DataWarning,
                stacklevel=3,
            )
    elif dropout == "min_sessions":
        value = n_att < float(min_sessions)  # type: ignore[arg-type]
        known = np.ones(len(ids), dtype=bool)
    else:
        value = n_att < float(min_dose) * planned.to_numpy()  # type: ignore[arg-type]
        known = planned.notna().to_numpy()
    out["dropout"] = pd.array(np.where(known, value, None), dtype="boolean")

    reason = np.full(len(ids), np.nan, dtype=object)
    reason[out["sessions_attended"].to_numpy() == 0] = "no attended sessions"
    reason[out["sessions_offered"].to_numpy() == 0] = "no sessions"
    for i in np.flatnonzero(uncoded):
        text = f"end_reason {end_reason.iloc[i]!r} is not coded as dropout or not"
        reason[i] = text if pd.isna(reason[i]) else f"{reason[i]}; {text}"
    out["reason"] = reason
    return state_policy(out.reset_index(), policy_for(data, policy))
