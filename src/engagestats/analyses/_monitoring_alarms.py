"""Private: session-by-session progress alarms and their accuracy for the final outcome."""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .._validate import check_choice, check_level, check_prob
from ..change import reliable_change
from ..change.rates import wilson_interval
from ..errors import DataValidationError
from ..scoring import state_policy
from ..study import Study
from ._monitoring_curve import ExpectedRecovery, same_policy

__all__ = ["MonitoringAccuracy", "first_alarms", "monitoring_accuracy", "progress_alarms"]

STATUS_LEVELS = ("on track", "at risk", "not on track")
OUTCOMES = ("no_reliable_improvement", "reliable_deterioration")


def progress_alarms(
    curve: ExpectedRecovery,
    data: Study | pd.DataFrame,
    *,
    tail: float = 0.10,
    at_risk_tail: float = 0.25,
) -> pd.DataFrame:
    """Traffic-light status of every session of new clients against their expected curve.

    Parameters
    ----------
    curve : ExpectedRecovery
        Curve fitted on past clients (:func:`expected_recovery`).
    data : Study or DataFrame
        The clients to monitor (new clients, not those the curve was fitted on).
    tail : float, default 0.10
        One-sided alarm tail: a session is ``"not on track"`` when its score is
        worse than all but the worst ``tail`` of past clients' scores with the
        same intake values at the same session.
    at_risk_tail : float, default 0.25
        Wider tail for ``"at risk"``; must be larger than ``tail``.

    Returns
    -------
    DataFrame
        The columns of :meth:`ExpectedRecovery.predict` plus ``at_risk_bound``,
        ``alarm_bound`` (scores beyond which a session is at risk / not on
        track), ``status`` (``"on track"``, ``"at risk"``, ``"not on track"``, or
        the row's ``role`` when it has no curve: ``"intake"``, ``"no score"``,
        ``"no intake"``, ``"beyond curve"``), ``alarm`` (status is
        ``"not on track"``) and ``alarm_so_far`` (an alarm at this or an
        earlier session of the client). ``attrs`` hold the settings.

    Raises
    ------
    DataValidationError
        When ``data`` is a Study scored under another scoring policy than the
        past clients the curve was fitted on (``curve.scoring_policy``): one
        policy, stated in every table. Monitor ``data.with_policy(...)`` under
        the curve's policy, or fit the curve on past clients under the new
        clients' policy. A DataFrame on either side (scores as given) is not
        checked.

    Notes
    -----
    Each session is judged on the intake values and that session's score only,
    so the status is what a clinician would have seen when the session
    arrived; later sessions never change it. With deviation :math:`d` (see
    :func:`expected_recovery`) and :math:`q_p` the :math:`p` quantile of the
    past clients' deviations, the status is "not on track" when
    :math:`d > q_{1 - tail}` and "at risk" when
    :math:`q_{1 - at\\_risk\\_tail} < d \\le q_{1 - tail}`. The levels follow the
    traffic-light idea of feedback systems (Lambert et al. 2002) but not
    their published cut-offs. With many sessions per client the share of
    clients with *some* alarm is larger than ``tail``.

    References
    ----------
    Lambert, M. J., Whipple, J. L., Bishop, M. J., Vermeersch, D. A., Gray,
    G. M., & Finch, A. E. (2002). Comparison of empirically-derived and
    rationally-derived methods for identifying patients at risk for treatment
    failure. *Clinical Psychology & Psychotherapy, 9*(3), 149-164.

    Examples
    --------
    >>> import engagestats as es
    >>> past = es.simulate_study(n_therapists=10, clients_per_therapist=8, seed=3)
    >>> new = es.simulate_study(n_therapists=2, clients_per_therapist=4, seed=4)
    >>> alarms = es.progress_alarms(es.expected_recovery(past), new, tail=0.10)
    >>> alarms.columns[-5:].tolist()
    ['at_risk_bound', 'alarm_bound', 'status', 'alarm', 'alarm_so_far']
    """
    if not isinstance(curve, ExpectedRecovery):
        raise TypeError(f"curve must be an ExpectedRecovery, got {type(curve).__name__}")
    tail = check_prob(tail, name="tail", closed="neither")
    at_risk_tail = check_prob(at_risk_tail, name="at_risk_tail", closed="neither")
    if at_risk_tail <= tail:
        raise DataValidationError.for_argument(
            "at_risk_tail", at_risk_tail, f"at_risk_tail must be larger than tail ({tail})"
        )
    same_policy(curve.scoring_policy, data, what="curve", function="progress_alarms")
    out = curve.predict(data)
    sign = -1.0 if curve.higher_is_better else 1.0
    q_alarm, q_risk = curve.cut(tail), curve.cut(at_risk_tail)
    out["at_risk_bound"] = out["expected"] + sign * q_risk * out["sd_expected"]
    out["alarm_bound"] = out["expected"] + sign * q_alarm * out["sd_expected"]
    d = out["deviation"].to_numpy()
    follow = (out["role"] == "follow_up").to_numpy()
    status = np.where(d > q_alarm, "not on track", np.where(d > q_risk, "at risk", "on track"))
    out["status"] = np.where(follow, status, out["role"].to_numpy())
    out["alarm"] = (out["status"] == "not on track").to_numpy()
    out["alarm_so_far"] = out.groupby(curve.client, sort=False)["alarm"].cummax().astype(bool)
    out.attrs.update(
        tail=tail,
        at_risk_tail=at_risk_tail,
        client=curve.client,
        session=curve.session,
        higher_is_better=curve.higher_is_better,
    )
    return out


def _settings(alarms: pd.DataFrame) -> tuple[str, str]:
    if not isinstance(alarms, pd.DataFrame):
        raise TypeError(f"alarms must be a DataFrame, got {type(alarms).__name__}")
    client = alarms.attrs.get("client", "client_id")
    session = alarms.attrs.get("session", "session")
    need = [client, session, "session_index", "status", "alarm", "intake", "observed", "role"]
    missing = [c for c in need if c not in alarms.columns]
    if missing:
        raise DataValidationError.for_columns({"alarms": missing}, role="progress_alarms")
    return client, session


def first_alarms(alarms: pd.DataFrame) -> pd.DataFrame:
    """One row per client: when the first alarm (and first at-risk signal) came.

    Parameters
    ----------
    alarms : DataFrame
        Output of :func:`progress_alarms`.

    Returns
    -------
    DataFrame
        Client column, ``intake``, ``n_monitored`` (follow-up sessions with a
        status), ``first_at_risk_session`` and ``first_alarm_session`` (session
        numbers, missing when none; at risk counts a not-on-track session
        too), ``first_alarm_index`` (session index, 1 at intake),
        ``alarmed``, ``final_session`` and ``final_score`` (last scored
        follow-up session; missing when the client has none).

    Examples
    --------
    >>> import engagestats as es
    >>> past = es.simulate_study(n_therapists=10, clients_per_therapist=8, seed=3)
    >>> new = es.simulate_study(n_therapists=2, clients_per_therapist=4, seed=4)
    >>> alarms = es.progress_alarms(es.expected_recovery(past), new)
    >>> es.first_alarms(alarms).shape
    (8, 9)
    """
    client, session = _settings(alarms)
    g = alarms.groupby(client, sort=False)
    out = pd.DataFrame(index=pd.Index(g.size().index, name=client))
    out["intake"] = g["intake"].first()
    monitored = alarms["status"].isin(STATUS_LEVELS)
    out["n_monitored"] = monitored.groupby(alarms[client], sort=False).sum().astype("int64")

    def first(mask: pd.Series, col: str) -> pd.Series:
        return alarms.loc[mask].groupby(client, sort=False)[col].min()

    risky = alarms["status"].isin(STATUS_LEVELS[1:])
    out["first_at_risk_session"] = first(risky, session)
    out["first_alarm_session"] = first(alarms["alarm"].astype(bool), session)
    out["first_alarm_index"] = first(alarms["alarm"].astype(bool), "session_index")
    out["alarmed"] = out["first_alarm_session"].notna()
    scored = alarms.loc[(alarms["session_index"] > 1) & alarms["observed"].notna()]
    last = scored.groupby(client, sort=False).tail(1).set_index(client)
    out["final_session"] = last[session]
    out["final_score"] = last["observed"].astype(float)
    return state_policy(out.reset_index(), alarms.attrs.get("scoring_policy"))


@dataclass(eq=False)
class MonitoringAccuracy:
    """Accuracy of progress alarms for the final outcome; see :func:`monitoring_accuracy`.

    Attributes
    ----------
    table : DataFrame
        ``[session_index,] measure, k, n, estimate, ci_low, ci_high``.
    counts : DataFrame
        ``[session_index,] true_positive, false_positive, false_negative, true_negative``.
    clients : DataFrame
        One row per evaluated client: first-alarm columns, ``category`` (reliable
        change from intake to the final score) and ``poor_outcome``.
    excluded : DataFrame
        Clients not evaluated: ``reason, n_clients``.
    """

    table: pd.DataFrame
    counts: pd.DataFrame
    clients: pd.DataFrame = field(repr=False)
    excluded: pd.DataFrame
    outcome: str
    level: float

    def summary(self) -> str:
        """The accuracy table and exclusions as text."""
        excl = "none" if self.excluded.empty else "\n" + self.excluded.to_string(index=False)
        return (
            f"Alarm accuracy for {self.outcome.replace('_', ' ')} "
            f"({self.level:.0%} Wilson CIs), {len(self.clients)} clients\n"
            f"clients not evaluated: {excl}\n\n{self.table.to_string(index=False)}"
        )

    def __repr__(self) -> str:
        return f"MonitoringAccuracy({self.outcome!r}, {len(self.clients)} clients)"

    def _repr_html_(self) -> str:
        return f"<pre>{html.escape(self.summary())}</pre>"


def _accuracy_rows(flag: np.ndarray, poor: np.ndarray, level: float) -> tuple[list, dict]:
    tp = int((flag & poor).sum())
    fp = int((flag & ~poor).sum())
    fn = int((~flag & poor).sum())
    tn = int((~flag & ~poor).sum())
    n_all = tp + fp + fn + tn
    parts = [
        ("sensitivity", tp, tp + fn),
        ("specificity", tn, tn + fp),
        ("ppv", tp, tp + fp),
        ("npv", tn, tn + fn),
        ("alarm_rate", tp + fp, n_all),
        ("outcome_rate", tp + fn, n_all),
    ]
    k = np.array([p[1] for p in parts], dtype=float)
    n = np.array([p[2] for p in parts], dtype=float)
    low, high = wilson_interval(k, n, level=level)
    with np.errstate(invalid="ignore", divide="ignore"):
        est = np.where(n > 0, k / np.where(n > 0, n, 1), np.nan)
    rows = [
        {"measure": m, "k": int(a), "n": int(b), "estimate": e, "ci_low": lo, "ci_high": hi}
        for (m, a, b), e, lo, hi in zip(parts, est, low, high, strict=True)
    ]
    counts = {"true_positive": tp, "false_positive": fp, "false_negative": fn, "true_negative": tn}
    return rows, counts


def monitoring_accuracy(
    alarms: pd.DataFrame,
    *,
    reliability: float,
    sd: float | None = None,
    outcome: str = "no_reliable_improvement",
    by_session: bool = False,
    level: float = 0.95,
) -> MonitoringAccuracy:
    """Sensitivity, specificity, PPV and NPV of progress alarms for the final outcome.

    Parameters
    ----------
    alarms : DataFrame
        Output of :func:`progress_alarms`.
    reliability : float
        Reliability of the score for the reliable change index.
    sd : float, optional
        SD for the reliable change index; by default the SD of the evaluated
        clients' intake scores (Jacobson & Truax's pre-treatment SD).
    outcome : {"no_reliable_improvement", "reliable_deterioration"}
        The poor final outcome the alarm should predict, from
        :func:`~engagestats.reliable_change` (95% criterion) between the intake
        and the last scored session.
    by_session : bool, default False
        Also the accuracy of "an alarm by session index *c*" for every *c*
        (rows per ``session_index``; the last one equals the overall rows).
    level : float, default 0.95
        Coverage of the Wilson score CIs.

    Returns
    -------
    MonitoringAccuracy
        ``.table`` (measures ``sensitivity, specificity, ppv, npv,
        alarm_rate, outcome_rate`` with ``k`` of ``n``, estimate, Wilson
        ``ci_low, ci_high``), ``.counts``, ``.clients``, ``.excluded``.

    Notes
    -----
    A client is a positive when an alarm ("not on track") came at any
    monitored session (or by session index *c*). Sensitivity =
    TP/(TP+FN), specificity = TN/(TN+FP), PPV = TP/(TP+FP), NPV = TN/(TN+FN),
    as reported for feedback systems (Lambert et al. 2002). The Wilson
    interval is :math:`(\\hat p + z^2/2n \\pm z\\sqrt{\\hat p(1-\\hat p)/n +
    z^2/4n^2}) / (1 + z^2/n)`. An alarm at the final session shares that
    score with the outcome; the by-session rows show the accuracy of earlier
    warnings. Clients without a scored follow-up session are not evaluated
    and are counted in ``.excluded``.

    References
    ----------
    Lambert, M. J., Whipple, J. L., Bishop, M. J., Vermeersch, D. A., Gray,
    G. M., & Finch, A. E. (2002). *Clinical Psychology & Psychotherapy, 9*(3),
    149-164.

    Wilson, E. B. (1927). Probable inference, the law of succession, and
    statistical inference. *JASA, 22*(158), 209-212.

    Examples
    --------
    >>> import engagestats as es
    >>> past = es.simulate_study(n_therapists=10, clients_per_therapist=8, seed=3)
    >>> new = es.simulate_study(n_therapists=6, clients_per_therapist=8, seed=4)
    >>> alarms = es.progress_alarms(es.expected_recovery(past), new)
    >>> acc = es.monitoring_accuracy(alarms, reliability=0.84)
    >>> acc.table["measure"].tolist()[:4]
    ['sensitivity', 'specificity', 'ppv', 'npv']
    """
    _settings(alarms)
    check_choice(outcome, OUTCOMES, name="outcome")
    level = check_level(level)
    fa = first_alarms(alarms)
    no_intake = fa["intake"].isna()
    no_follow = ~no_intake & fa["final_score"].isna()
    excluded = pd.DataFrame(
        {
            "reason": ["no intake score or intake covariate", "no scored follow-up session"],
            "n_clients": [int(no_intake.sum()), int(no_follow.sum())],
        }
    )
    excluded = excluded.loc[excluded["n_clients"] > 0].reset_index(drop=True)
    ev = fa.loc[~no_intake & ~no_follow].reset_index(drop=True)
    if len(ev) < 2:
        raise DataValidationError.for_argument(
            "alarms", f"{len(ev)} clients", "need at least 2 clients with intake and follow-up"
        )
    if sd is None:
        sd = float(ev["intake"].std(ddof=1))
    hib = bool(alarms.attrs.get("higher_is_better", False))
    rc = reliable_change(
        ev["intake"], ev["final_score"], sd=sd, reliability=reliability, higher_is_better=hib
    )
    ev["category"] = rc["category"].to_numpy()
    if outcome == "no_reliable_improvement":
        poor = (rc["category"] != "reliably_improved").to_numpy()
    else:
        poor = (rc["category"] == "reliably_deteriorated").to_numpy()
    ev["poor_outcome"] = poor
    flag = ev["alarmed"].to_numpy(dtype=bool)
    rows, counts = _accuracy_rows(flag, poor, level)
    table, count_table = pd.DataFrame(rows), pd.DataFrame([counts])
    if by_session:
        idx = ev["first_alarm_index"].to_numpy(dtype=float)
        cuts = np.sort(alarms.loc[alarms["role"] == "follow_up", "session_index"].unique())
        tabs, cnts = [], []
        for c in cuts:
            r, n = _accuracy_rows(flag & (idx <= c), poor, level)
            tabs += [{"session_index": float(c), **row} for row in r]
            cnts.append({"session_index": float(c), **n})
        table, count_table = pd.DataFrame(tabs), pd.DataFrame(cnts)
    for t in (table, count_table):
        state_policy(t, alarms.attrs.get("scoring_policy"))
    return MonitoringAccuracy(table, count_table, ev, excluded, outcome, level)
