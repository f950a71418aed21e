import numpy as np
import pandas as pd
import pytest

import engagestats as es
from engagestats.prep import lag, time_code, within_between


@pytest.fixture
def panel(rng):
    n_clients, n_sessions = 7, 6
    df = pd.DataFrame(
        {
            "client_id": np.repeat([f"C{i}" for i in range(n_clients)], n_sessions),
            "session": np.tile(np.arange(1, n_sessions + 1), n_clients),
            "wai": rng.normal(3.5, 0.6, n_clients * n_sessions),
        }
    )
    df.loc[[3, 10, 20], "wai"] = np.nan
    # shuffle so functions must not rely on row order
    return df.sample(frac=1.0, random_state=3)


def test_within_between_matches_hand_computation(panel):
    out = within_between(panel, "wai")
    for _cid, grp in panel.groupby("client_id"):
        m = np.nanmean(grp["wai"].to_numpy())
        got = out.loc[grp.index]
        np.testing.assert_allclose(got["wai_between"], m, rtol=1e-12)
        np.testing.assert_allclose(got["wai_within"], grp["wai"] - m, rtol=1e-12)
    assert out.index.equals(panel.index)
    # within parts average to zero within each person
    sums = out.groupby("client_id")["wai_within"].sum()
    np.testing.assert_allclose(sums, 0.0, atol=1e-12)


def test_within_between_grand_mean_centering(panel):
    out = within_between(panel, ["wai"], grand_mean_center=True)
    person = out.groupby("client_id")["wai_between"].first()
    np.testing.assert_allclose(person.mean(), 0.0, atol=1e-12)
    raw = within_between(panel, ["wai"])
    np.testing.assert_allclose(out["wai_within"], raw["wai_within"], equal_nan=True)


def test_lag_never_crosses_clients(panel):
    out = lag(panel, "wai")
    first = out.sort_values(["client_id", "session"]).groupby("client_id").head(1)
    assert first["wai_lag1"].isna().all()
    for _, grp in out.groupby("client_id"):
        grp = grp.sort_values("session")
        np.testing.assert_array_equal(grp["wai_lag1"].to_numpy()[1:], grp["wai"].to_numpy()[:-1])


def test_lag_k2_and_value_method():
    df = pd.DataFrame(
        {
            "client_id": ["a"] * 4 + ["b"] * 2,
            "session": [1, 2, 3, 5, 1, 3],
            "x": [1.0, 2, 3, 5, 7, 9],
        }
    )
    assert lag(df, "x", k=2)["x_lag2"].tolist()[2:4] == [1.0, 2.0]
    by_value = lag(df, "x", method="value")["x_lag1"]
    assert by_value.isna().tolist() == [True, False, False, True, True, True]
    assert by_value.iloc[1:3].tolist() == [1.0, 2.0]


def test_lag_errors():
    df = pd.DataFrame({"client_id": ["a", "a"], "session": [1, 1], "x": [1.0, 2.0]})
    with pytest.raises(es.DataValidationError, match="not unique"):
        lag(df, "x")
    with pytest.raises(es.DataValidationError, match="'y'"):
        lag(df, "y")
    with pytest.raises(es.DataValidationError, match="positive integer"):
        lag(df.assign(session=[1, 2]), "x", k=0)


@pytest.mark.parametrize(
    ("kwargs", "argument", "match"),
    [
        ({"k": 0}, "k", "k must be a positive integer"),
        ({"k": 1.0}, "k", "k must be a positive integer"),
        ({"k": True}, "k", "k must be a positive integer"),
        ({"method": "nearest"}, "method", "method must be 'row' or 'value'"),
    ],
)
def test_lag_bad_arguments_are_typed(kwargs, argument, match):
    df = pd.DataFrame({"client_id": ["a", "a"], "session": [1, 2], "x": [1.0, 2.0]})
    with pytest.raises(es.DataValidationError, match=match) as info:
        lag(df, "x", **kwargs)
    assert isinstance(info.value, ValueError)  # still caught by `except ValueError`
    assert info.value.problems[["file", "column"]].values.tolist() == [["argument", argument]]


def test_time_code_methods():
    df = pd.DataFrame(
        {
            "client_id": ["a", "a", "a", "b", "b"],
            "session": [1, 2, 6, 3, 4],
            "date": ["2024-01-01", "2024-01-08", "2024-02-05", "2024-03-01", "2024-03-15"],
        }
    )
    assert time_code(df)["time"].tolist() == [0, 1, 5, 0, 1]
    assert time_code(df, center=2)["time"].tolist() == [-2, -1, 3, -2, -1]
    np.testing.assert_allclose(time_code(df, method="weeks")["time"], [0, 1, 5, 0, 2])
    np.testing.assert_allclose(time_code(df, method="log")["time"], np.log1p([0, 1, 5, 0, 1]))
    pw = time_code(df, method="piecewise", knots=[1, 3])
    assert pw[["time_p1", "time_p2", "time_p3"]].to_numpy().tolist() == [
        [0, 0, 0],
        [1, 0, 0],
        [1, 2, 2],
        [0, 0, 0],
        [1, 0, 0],
    ]
    # the segments add back to intake-centred time
    assert pw.filter(like="time_p").sum(axis=1).tolist() == [0, 1, 5, 0, 1]
    with pytest.raises(es.DataValidationError, match="knot"):
        time_code(df, method="piecewise")


@pytest.mark.parametrize(
    ("kwargs", "argument", "match"),
    [
        ({"method": "days"}, "method", "method must be 'session', 'weeks', 'log' or 'piecewise'"),
        ({"method": "piecewise"}, "knots", "at least one knot"),
        ({"method": "piecewise", "knots": []}, "knots", "at least one knot"),
        ({"center": "middle"}, "center", "center must be 'intake', 'final' or a number"),
        ({"center": None}, "center", "center must be 'intake', 'final' or a number"),
    ],
)
def test_time_code_bad_arguments_are_typed(kwargs, argument, match):
    df = pd.DataFrame({"client_id": ["a", "a"], "session": [1, 2]})
    with pytest.raises(es.DataValidationError, match=match) as info:
        time_code(df, **kwargs)
    assert info.value.problems[["file", "column"]].values.tolist() == [["argument", argument]]


def test_time_code_numeric_center_of_any_numeric_type():
    df = pd.DataFrame({"client_id": ["a", "a"], "session": [1, 2]})
    assert time_code(df, center=np.int64(1))["time"].tolist() == [-1, 0]
    assert time_code(df, center=0.5)["time"].tolist() == [-0.5, 0.5]


def test_within_between_detrend_matches_per_client_polyfit():
    rng = np.random.default_rng(4)
    df = pd.DataFrame(
        {
            "client_id": np.repeat(["a", "b", "c"], 6),
            "session": np.tile(np.arange(1, 7), 3),
            "wai": rng.normal(size=18) + np.repeat([0.5, -1.0, 0.0], 6) * np.tile(range(6), 3),
        }
    )
    df.loc[[2, 13, 14, 15, 16], "wai"] = np.nan  # client c keeps 2 values
    out = within_between(df, "wai", detrend="session")
    for cid in ("a", "b"):
        d = df[(df["client_id"] == cid) & df["wai"].notna()]
        fit = np.polyval(np.polyfit(d["session"], d["wai"], 1), d["session"])
        np.testing.assert_allclose(out.loc[d.index, "wai_within"], d["wai"] - fit, atol=1e-12)
    c = out[out["client_id"] == "c"]
    assert (c.loc[c["wai"].notna(), "wai_within"] == 0).all()
    assert out.loc[df["wai"].isna(), "wai_within"].isna().all()
    # the between part is still the person mean
    np.testing.assert_allclose(out["wai_between"], within_between(df, "wai")["wai_between"])
    with pytest.raises(es.DataValidationError):
        within_between(df, "wai", detrend="week")
