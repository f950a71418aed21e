"""Progress-monitoring figures: the plotted data are the alarms' numbers."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest

import engagestats as es


@pytest.fixture(scope="module")
def alarms():
    past = es.simulate_study(n_therapists=12, clients_per_therapist=10, seed=41)
    new = es.simulate_study(n_therapists=6, clients_per_therapist=10, seed=42)
    return es.progress_alarms(es.expected_recovery(past), new)


def _by_gid(ax, gid):
    items = [a for a in [*ax.get_lines(), *ax.collections] if a.get_gid() == gid]
    assert len(items) == 1, gid
    return items[0]


def test_progress_plot_draws_the_clients_numbers(alarms):
    cid = alarms.loc[alarms["alarm"], "client_id"].iloc[0]
    fig, ax = plt.subplots()
    assert es.plots.progress_plot(alarms, cid, ax=ax) is ax
    mine = alarms[alarms["client_id"] == cid].sort_values("session")
    follow = mine[mine["expected"].notna()]
    for gid in ("expected", "alarm_bound", "at_risk_bound"):
        x, y = _by_gid(ax, gid).get_data()
        np.testing.assert_allclose(x, follow["session"])
        np.testing.assert_allclose(y, follow[gid])
    x, y = _by_gid(ax, "observed").get_data()
    scored = mine[mine["observed"].notna()]
    np.testing.assert_allclose(y, scored["observed"])
    red = _by_gid(ax, "status:not on track").get_offsets()
    hit = follow[follow["status"] == "not on track"]
    np.testing.assert_allclose(np.asarray(red), hit[["session", "observed"]].to_numpy())
    # every red point lies above its alarm bound
    assert (hit["observed"] > hit["alarm_bound"]).all()
    plt.close(fig)


def test_alarm_accuracy_plot_draws_the_table(alarms):
    acc = es.monitoring_accuracy(alarms, reliability=0.84, by_session=True)
    fig, ax = plt.subplots()
    assert es.plots.alarm_accuracy_plot(acc, measures=["sensitivity", "npv"], ax=ax) is ax
    for m in ("sensitivity", "npv"):
        part = acc.table[acc.table["measure"] == m].sort_values("session_index")
        x, y = _by_gid(ax, f"accuracy:{m}").get_data()
        np.testing.assert_allclose(x, part["session_index"])
        np.testing.assert_allclose(y, part["estimate"])
        band = _by_gid(ax, f"ci:{m}").get_paths()[0].vertices
        assert band[:, 1].min() == pytest.approx(part["ci_low"].min())
        assert band[:, 1].max() == pytest.approx(part["ci_high"].max())
    plt.close(fig)


def test_plot_errors(alarms):
    with pytest.raises(es.DataValidationError, match="client"):
        es.plots.progress_plot(alarms, "nobody")
    overall = es.monitoring_accuracy(alarms, reliability=0.84)
    with pytest.raises(es.DataValidationError, match="by_session"):
        es.plots.alarm_accuracy_plot(overall)
    by = es.monitoring_accuracy(alarms, reliability=0.84, by_session=True)
    with pytest.raises(es.DataValidationError, match="measures"):
        es.plots.alarm_accuracy_plot(by, measures=["auc"])
