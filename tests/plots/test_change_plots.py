"""Tests for engagestats.plots.change: check the plotted data, not pixels."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from engagestats.change import clinical_significance, rates, reliable_change_threshold
from engagestats.errors import DataValidationError, DataWarning
from engagestats.plots import jacobson_truax_plot, outcome_bars


def _line(ax, gid):
    (line,) = [ln for ln in ax.lines if ln.get_gid() == gid]
    return line


@pytest.fixture
def scores() -> pd.DataFrame:
    return pd.DataFrame({"pre": [15.0, 20, 15, 5, 14, 9, 18], "post": [4.0, 12, 15, 12, 21, 2, 17]})


def test_jt_plot_scatter_lines_and_colours(scores):
    _fig, ax = plt.subplots()
    out = jacobson_truax_plot(
        scores, pre="pre", post="post", sd=5, reliability=0.8, cutoff=10, ax=ax
    )
    assert out is ax
    offsets = np.asarray(ax.collections[0].get_offsets())
    np.testing.assert_array_equal(offsets, scores[["pre", "post"]].to_numpy())
    thr = reliable_change_threshold(5, 0.8)
    diag = _line(ax, "no_change")
    x, y = (np.asarray(v, dtype=float) for v in diag.get_data())
    np.testing.assert_allclose(y, x, rtol=1e-12)
    for gid, sign in (("rc_upper", 1), ("rc_lower", -1)):
        x, y = (np.asarray(v, dtype=float) for v in _line(ax, gid).get_data())
        np.testing.assert_allclose(y, x + sign * thr, rtol=1e-12)
    np.testing.assert_allclose(_line(ax, "cutoff_pre").get_xdata(), [10, 10])
    np.testing.assert_allclose(_line(ax, "cutoff_post").get_ydata(), [10, 10])
    # same category -> same colour; different categories -> different colours
    cats = clinical_significance(scores["pre"], scores["post"], sd=5, reliability=0.8, cutoff=10)[
        "category"
    ].astype(str)
    colours = ax.collections[0].get_facecolors()
    for cat in cats.unique():
        idx = np.flatnonzero(cats == cat)
        assert np.allclose(colours[idx], colours[idx[0]])
    assert not np.allclose(colours[0], colours[1])  # recovered vs improved
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert set(legend) == set(cats)


def test_jt_plot_without_cutoff_and_missing_rows(scores):
    df = scores.copy()
    df.loc[2, "post"] = np.nan
    with pytest.warns(DataWarning, match="1 clients"):
        ax = jacobson_truax_plot(df, pre="pre", post="post", sd=5, reliability=0.8)
    offsets = np.asarray(ax.collections[0].get_offsets())
    np.testing.assert_array_equal(offsets, df.dropna()[["pre", "post"]].to_numpy())
    assert not [ln for ln in ax.lines if ln.get_gid() in ("cutoff_pre", "cutoff_post")]


def test_jt_plot_bad_columns(scores):
    with pytest.raises(DataValidationError):
        jacobson_truax_plot(scores, pre="x", post="post", sd=5, reliability=0.8)


def test_outcome_bars_heights_are_proportions():
    cats = ["recovered", "improved", "unchanged", "recovered", "deteriorated", "recovered", None]
    df = pd.DataFrame(
        {
            "category": pd.Categorical(
                cats, ["harmed", "deteriorated", "unchanged", "improved", "recovered"], True
            ),
            "arm": ["a", "a", "a", "b", "b", "b", "b"],
        }
    )
    _fig, ax = plt.subplots()
    assert outcome_bars(df, outcome="category", by="arm", ax=ax) is ax
    table = rates(df, outcome="category", by="arm", overall=False)
    assert [c.get_label() for c in ax.containers] == list(df["category"].cat.categories)
    bottoms = np.zeros(2)
    for container in ax.containers:
        level = container.get_label()
        expected = table.loc[table["level"] == level, "rate"].to_numpy()
        heights = np.array([p.get_height() for p in container])
        np.testing.assert_allclose(heights, expected, rtol=1e-12)
        np.testing.assert_allclose([p.get_y() for p in container], bottoms, atol=1e-12)
        bottoms += heights
    np.testing.assert_allclose(bottoms, [1.0, 1.0], rtol=1e-12)
    # arm b: 2 recovered of 2 non-missing (+1 deteriorated) -> 2/3
    rec = ax.containers[-1]
    np.testing.assert_allclose([p.get_height() for p in rec], [1 / 3, 2 / 3], rtol=1e-12)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b"]


def test_outcome_bars_boolean():
    df = pd.DataFrame({"y": [True, False, False, True], "g": [1, 1, 2, 2]})
    ax = outcome_bars(df, outcome="y", by="g")
    assert [c.get_label() for c in ax.containers] == ["False", "True"]
    np.testing.assert_allclose([p.get_height() for p in ax.containers[1]], [0.5, 0.5])
