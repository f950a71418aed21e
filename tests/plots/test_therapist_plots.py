"""plots.therapist_caterpillar: the plotted data and the labels, not pixels."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import engagestats as es
from engagestats.analyses import growth_model, therapist_effects
from engagestats.plots import therapist_caterpillar

REF = Path(__file__).resolve().parents[1] / "reference" / "therapist_effects"


def by_gid(ax, gid):
    found = [a for a in ax.get_children() if a.get_gid() == gid]
    assert len(found) == 1, f"expected one artist with gid {gid!r}, found {len(found)}"
    return found[0]


@pytest.fixture(scope="module")
def effects():
    data = pd.read_csv(REF / "growth_fixture.csv").drop(columns="time")
    return therapist_effects(growth_model(data, therapist_slope=True), ci="none")


@pytest.mark.parametrize(
    ("what", "sd"),
    [("end_adjusted", "end_adjusted_sd"), ("intake", "intake_sd"), ("slope", "slope_sd")],
)
def test_plotted_data(effects, what, sd):
    ax = therapist_caterpillar(effects, what=what)
    t = effects.therapists.sort_values([what, "therapist"], kind="stable")
    x, y = by_gid(ax, "estimates").get_data()
    np.testing.assert_allclose(x, t[what])
    np.testing.assert_allclose(y, np.arange(len(t)))
    segs = by_gid(ax, "intervals").get_segments()
    lo = np.array([s[0][0] for s in segs])
    hi = np.array([s[1][0] for s in segs])
    np.testing.assert_allclose(lo, t[what] - 1.959963984540054 * t[sd])
    np.testing.assert_allclose(hi, t[what] + 1.959963984540054 * t[sd])
    assert [tk.get_text() for tk in ax.get_yticklabels()] == t["therapist"].tolist()
    assert by_gid(ax, "reference").get_xdata()[0] == 0.0
    plt.close("all")


def test_labelled_by_estimand(effects):
    ax = therapist_caterpillar(effects)
    assert ax.get_xlabel() == (
        "Therapist deviation in end-of-treatment depression (PHQ-9 total), adjusted for intake "
        "(conditional mode ± 95% interval)"
    )
    share = effects.shares["estimate"].iloc[0]
    assert f"{share:.1%} of the variance" in ax.get_title()
    assert "Not a ranking" in ax.get_title()
    assert "rate of change" in therapist_caterpillar(effects, what="slope").get_xlabel()
    plt.close("all")


def test_uses_given_axes_and_rejects_bad_choice(effects):
    _fig, ax = plt.subplots()
    assert therapist_caterpillar(effects, ax=ax) is ax
    with pytest.raises(es.DataValidationError):
        therapist_caterpillar(effects, what="rank")
    plt.close("all")
