"""trajectories(): ``by`` inferred from the data it gets, or a typed error (issue 16).

Before, omitting ``by`` on grouped trajectories drew one zigzag line through every row.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from engagestats.errors import DataValidationError
from engagestats.plots import trajectories


@pytest.fixture
def traj():
    return pd.DataFrame(
        {
            "format": ["group"] * 3 + ["individual"] * 3,
            "time": [0, 1, 2] * 2,
            "estimate": [16.0, 14.0, 12.0, 15.0, 12.0, 9.0],
            "se": [0.5] * 6,
            "ci_low": [15.0, 13.0, 11.0, 14.0, 11.0, 8.0],
            "ci_high": [17.0, 15.0, 13.0, 16.0, 13.0, 10.0],
        }
    )


def test_by_is_inferred_from_the_one_grouping_column(traj):
    ax = trajectories(traj)
    assert [line.get_gid() for line in ax.get_lines()] == [
        "trajectory:group",
        "trajectory:individual",
    ]
    np.testing.assert_array_equal(ax.get_lines()[1].get_ydata(), [15.0, 12.0, 9.0])
    assert ax.get_legend().get_title().get_text()
    plt.close("all")


def test_ambiguous_grouping_raises(traj):
    traj["modality"] = ["cbt"] * 3 + ["art"] * 3
    with pytest.raises(DataValidationError, match="by"):
        trajectories(traj)
    with pytest.raises(DataValidationError, match="by"):
        trajectories(traj.drop(columns=["format", "modality"]))  # nothing tells rows apart
    plt.close("all")


def test_one_trajectory_needs_no_by(traj):
    one = traj.loc[traj["format"] == "group"].drop(columns="format")
    ax = trajectories(one)
    assert [line.get_gid() for line in ax.get_lines()] == ["trajectory"]
    plt.close("all")
