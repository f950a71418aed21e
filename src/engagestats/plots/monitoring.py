"""Figures of routine outcome monitoring: one client's progress, alarm accuracy by session."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from ..analyses.monitoring import MonitoringAccuracy
from ..errors import DataValidationError
from ._model_common import colours, label, new_axes

__all__ = ["alarm_accuracy_plot", "progress_plot"]

STATUS_COLOURS = {"on track": 2, "at risk": 1, "not on track": 3}


def progress_plot(alarms: pd.DataFrame, client: str, *, ax: Axes | None = None) -> Axes:
    """One client's scores against their expected recovery curve and alarm bounds.

    Parameters
    ----------
    alarms : DataFrame
        Output of :func:`engagestats.progress_alarms`.
    client : str
        The client to draw.
    ax : Axes, optional

    Returns
    -------
    Axes
        Lines with gids ``"expected"``, ``"at_risk_bound"`` and ``"alarm_bound"``
        (x = session, at the client's follow-up sessions), ``"observed"`` (every
        scored session, intake included) and one scatter per status with gid
        ``"status:<status>"`` (``on track``, ``at risk``, ``not on track``).
        The region above the alarm bound (worse than expected, for a score
        where higher is worse) is shaded, gid ``"alarm_region"``.

    Examples
    --------
    >>> import engagestats as es
    >>> past = es.simulate_study(n_therapists=10, clients_per_therapist=8, seed=3)
    >>> new = es.simulate_study(n_therapists=1, clients_per_therapist=3, seed=4)
    >>> alarms = es.progress_alarms(es.expected_recovery(past), new)
    >>> ax = es.plots.progress_plot(alarms, "C0001")
    >>> sorted(line.get_gid() for line in ax.get_lines())
    ['alarm_bound', 'at_risk_bound', 'expected', 'observed']
    """
    cid_col = alarms.attrs.get("client", "client_id")
    session = alarms.attrs.get("session", "session")
    need = [cid_col, session, "observed", "expected", "alarm_bound", "at_risk_bound", "status"]
    missing = [c for c in need if c not in alarms.columns]
    if missing:
        raise DataValidationError.for_columns({"alarms": missing}, role="progress_alarms")
    mine = alarms.loc[alarms[cid_col] == client].sort_values(session)
    if mine.empty:
        raise DataValidationError.for_argument("client", client, "client not in alarms")
    follow = mine.loc[mine["expected"].notna()]
    pal = colours(4)
    ax = new_axes(ax)
    x = follow[session].to_numpy(dtype=float)
    hib = bool(alarms.attrs.get("higher_is_better", False))
    scored = mine.loc[mine["observed"].notna()]
    lims = np.concatenate([scored["observed"], follow["alarm_bound"], follow["expected"]])
    edge = np.nanmin(lims) - 2 if hib else np.nanmax(lims) + 2
    ax.fill_between(
        x, follow["alarm_bound"], edge, color=pal[3], alpha=0.12, lw=0, gid="alarm_region"
    )
    ax.plot(x, follow["expected"], color="0.3", lw=2, gid="expected", label="expected")
    ax.plot(x, follow["at_risk_bound"], color=pal[1], ls="--", gid="at_risk_bound", label="at risk")
    ax.plot(x, follow["alarm_bound"], color=pal[3], ls="-", gid="alarm_bound", label="not on track")
    ax.plot(
        scored[session].to_numpy(dtype=float),
        scored["observed"].to_numpy(dtype=float),
        color="0.1",
        lw=1,
        marker="",
        gid="observed",
    )
    for status, i in STATUS_COLOURS.items():
        part = follow.loc[follow["status"] == status]
        ax.scatter(
            part[session].to_numpy(dtype=float),
            part["observed"].to_numpy(dtype=float),
            color=pal[i],
            s=30,
            zorder=3,
            gid=f"status:{status}",
            label=status if len(part) else None,
        )
    ax.set_xlabel(label(session))
    ax.set_ylabel("score")
    ax.set_title(f"client {client}")
    ax.legend(frameon=False, fontsize="small")
    return ax


def alarm_accuracy_plot(
    accuracy: MonitoringAccuracy,
    *,
    measures: Sequence[str] = ("sensitivity", "specificity", "ppv"),
    ax: Axes | None = None,
) -> Axes:
    """Accuracy of "an alarm by session c" for the final outcome, by session index.

    Parameters
    ----------
    accuracy : MonitoringAccuracy
        From :func:`engagestats.monitoring_accuracy` with ``by_session=True``.
    measures : sequence of str
        Rows of ``accuracy.table`` to draw.
    ax : Axes, optional

    Returns
    -------
    Axes
        Per measure a line with gid ``"accuracy:<measure>"`` (x = session
        index, y = estimate) and its Wilson CI band, gid ``"ci:<measure>"``.

    Examples
    --------
    >>> import engagestats as es
    >>> past = es.simulate_study(n_therapists=10, clients_per_therapist=8, seed=3)
    >>> new = es.simulate_study(n_therapists=6, clients_per_therapist=8, seed=4)
    >>> alarms = es.progress_alarms(es.expected_recovery(past), new)
    >>> acc = es.monitoring_accuracy(alarms, reliability=0.84, by_session=True)
    >>> ax = es.plots.alarm_accuracy_plot(acc)
    >>> [line.get_gid() for line in ax.get_lines()]
    ['accuracy:sensitivity', 'accuracy:specificity', 'accuracy:ppv']
    """
    if not isinstance(accuracy, MonitoringAccuracy):
        raise TypeError(f"accuracy must be a MonitoringAccuracy, got {type(accuracy).__name__}")
    table = accuracy.table
    if "session_index" not in table.columns:
        raise DataValidationError.for_argument(
            "accuracy", "by_session=False", "use monitoring_accuracy(..., by_session=True)"
        )
    unknown = sorted(set(measures) - set(table["measure"]))
    if unknown:
        raise DataValidationError.for_argument("measures", unknown, "unknown accuracy measures")
    pal = colours(len(measures))
    ax = new_axes(ax)
    for i, m in enumerate(measures):
        part = table.loc[table["measure"] == m].sort_values("session_index")
        x = part["session_index"].to_numpy(dtype=float)
        ax.fill_between(
            x, part["ci_low"], part["ci_high"], color=pal[i], alpha=0.2, lw=0, gid=f"ci:{m}"
        )
        ax.plot(x, part["estimate"], color=pal[i], marker="o", ms=3, gid=f"accuracy:{m}", label=m)
    ax.set_ylim(0, 1)
    ax.set_xlabel("alarm by session index (1 = intake)")
    ax.set_ylabel(f"accuracy for {accuracy.outcome.replace('_', ' ')}")
    ax.legend(frameon=False)
    return ax
