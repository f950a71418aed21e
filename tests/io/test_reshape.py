"""wide_to_long: one row per client and time point, invariants kept, empty rows counted."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engagestats.errors import DataValidationError
from engagestats.io import wide_to_long


def _wide() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "client_id": pd.Series(["C1", "C2", "C3"], dtype=object),
            "age": [30, 41, 25],
            "phq9_1_t1": [2.0, 3.0, np.nan],
            "phq9_1_t2": [1.0, np.nan, np.nan],
            "phq9_1_t10": [0.0, np.nan, np.nan],
            "phq9_2_t1": [3.0, 3.0, np.nan],
            "phq9_2_t2": [2.0, np.nan, np.nan],
            "wai_sr_total_t2": [40.0, 35.0, np.nan],
        }
    )


def test_items_and_scores_gathered():
    long = wide_to_long(_wide())
    want = pd.DataFrame(
        {
            "client_id": pd.Series(["C1", "C1", "C1", "C2", "C2"], dtype=object),
            "session": np.array([1, 2, 10, 1, 2], dtype=np.int64),
            "age": [30, 30, 30, 41, 41],
            "phq9_1": [2.0, 1.0, 0.0, 3.0, np.nan],
            "phq9_2": [3.0, 2.0, np.nan, 3.0, np.nan],
            "wai_sr_total": [np.nan, 40.0, np.nan, np.nan, 35.0],
        }
    )
    pd.testing.assert_frame_equal(long, want, check_exact=True)
    # C2 at t10 and C3 at t1, t2, t10 have no measurement at all: 3 clients x 3 times - 5 rows
    assert 3 * 3 - len(long) == 4
    assert long.attrs == {}


def test_stubs_restrict_and_other_matches_stay_invariant():
    long = wide_to_long(_wide(), stubs=["wai_sr_total"], session="week")
    assert list(long.columns[:3]) == ["client_id", "week", "age"]
    assert "phq9_1_t1" in long.columns
    assert long["wai_sr_total"].tolist() == [40.0, 35.0]  # C3 has none: one row dropped
    with pytest.deprecated_call(match="time_name= is deprecated; use session="):
        old = wide_to_long(_wide(), stubs=["wai_sr_total"], time_name="week")
    pd.testing.assert_frame_equal(old, long)


def test_custom_sep_and_text_times():
    wide = pd.DataFrame({"id": [1, 2], "phq9_total.pre": [20, 15], "phq9_total.post": [8, 16]})
    long = wide_to_long(wide, client="id", sep=".", time_pattern="pre|post", session="wave")
    assert long[["id", "wave", "phq9_total"]].values.tolist() == [
        [1, "post", 8],
        [1, "pre", 20],
        [2, "post", 16],
        [2, "pre", 15],
    ]


@pytest.mark.parametrize(
    ("kwargs", "message", "file", "column"),
    [
        ({"client": "person"}, "key column 'person' is missing", "data", "person"),
        ({"stubs": ["gad7_1"]}, "no column named <stub>_t<time>", "argument", "stubs"),
        ({"sep": "_w"}, "no column matches", "argument", "sep"),
        ({"session": "age"}, "already a column", "argument", "session"),
    ],
)
def test_errors(kwargs, message, file, column):
    with pytest.raises(DataValidationError, match=message) as err:
        wide_to_long(_wide(), **kwargs)
    assert err.value.problems[["file", "column"]].iloc[0].tolist() == [file, column]


def test_duplicate_and_missing_ids():
    wide = _wide()
    wide.loc[2, "client_id"] = "C1"
    with pytest.raises(DataValidationError, match="must be unique") as err:
        wide_to_long(wide)
    assert err.value.problems[["row", "column", "value"]].iloc[0].tolist() == [2, "client_id", "C1"]
    wide.loc[2, "client_id"] = None
    with pytest.raises(DataValidationError, match="missing client_id") as err:
        wide_to_long(wide)
    assert err.value.problems["row"].tolist() == [2]
