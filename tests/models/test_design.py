"""Tests of build_design: lme4 names and order, missing rows, typed errors, new data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engagestats.errors import FormulaError, ModelSpecError
from engagestats.models._lambda import theta_names
from engagestats.models.design import build_design, lme4_name
from engagestats.models.newdata import new_fixed, new_random

REF = Path(__file__).parents[1] / "reference" / "lme4"


@pytest.fixture
def data(rng) -> pd.DataFrame:
    n_clients, n_sessions = 72, 5
    client = np.repeat(np.arange(n_clients), n_sessions)
    return pd.DataFrame(
        {
            "y": rng.normal(size=client.size),
            "time": np.tile(np.arange(n_sessions, dtype=float), n_clients),
            "f": rng.choice(["a", "b", "c"], client.size),
            "client": np.char.add("C", client.astype(str)),
            "therapist": np.char.add("T", (client % 6).astype(str)),
        }
    )


def test_lme4_names_and_order(data):
    # lme4: names(fixef(lmer(y ~ time*f + (0+f|therapist) + (1+time|client), d)))
    #   "(Intercept)" "time" "fb" "fc" "time:fb" "time:fc"
    # getME(fit, "cnms")$therapist: "fa" "fb" "fc"
    des = build_design("y ~ time*f + (0+f|therapist) + (1 + time | client)", data)
    assert des.fixed_names == ("(Intercept)", "time", "fb", "fc", "time:fb", "time:fc")
    assert [t.group for t in des.terms] == ["client", "therapist"]  # decreasing levels
    assert des.terms[0].columns == ("(Intercept)", "time")
    assert des.terms[1].columns == ("fa", "fb", "fc")
    # R orders terms by degree: f + time + f:time + I(time^2) gives
    #   "(Intercept)" "fb" "fc" "time" "I(time^2)" "fb:time" "fc:time"
    des = build_design("y ~ f + time + f:time + I(time**2) + (1 | therapist)", data)
    assert des.fixed_names == (
        "(Intercept)",
        "fb",
        "fc",
        "time",
        "I(time^2)",  # R deparses ** as ^
        "fb:time",
        "fc:time",
    )
    np.testing.assert_allclose(des.X[:, 4], data["time"] ** 2, rtol=0, atol=0)
    np.testing.assert_allclose(des.X[:, 5], data["time"] * (data["f"] == "b"), rtol=0, atol=0)


def test_nested_group_levels_named_like_lme4(data):
    des = build_design("y ~ time + (1 | therapist/client)", data)
    inner, outer = des.terms
    assert (inner.group, outer.group) == ("client:therapist", "therapist")
    # lme4: head(levels(getME(fit, "flist")[[1]])) "C1:T1" "C1:T2" ... (first factor slowest)
    assert list(inner.levels[:3]) == ["C0:T0", "C1:T1", "C10:T4"]
    assert inner.n_levels == 72
    assert outer.n_levels == 6
    labels = data["client"] + ":" + data["therapist"]
    np.testing.assert_array_equal(inner.levels[inner.codes], labels)


def test_categorical_reference_and_bool(data):
    d = data.assign(f=pd.Categorical(data["f"], categories=["c", "a", "b"]), flag=data["time"] > 2)
    des = build_design("y ~ f + flag + (1 | client)", d)
    assert des.fixed_names == ("(Intercept)", "fa", "fb", "flagTRUE")
    assert lme4_name("C(x)[T.b]:z") == "C(x)b:z"


@pytest.mark.parametrize(
    "theta_key",
    ["sleep_corr", "sleep_uncorr", "threelevel_crossed", "threelevel_nested", "growth", "stages"],
)
def test_theta_order_matches_lme4(theta_key):
    ref = json.loads((REF / "reference.json").read_text())["models"][theta_key]
    fit = ref["lmer(formula, data, REML = TRUE, control = ctl)"]
    data = pd.read_csv(REF / ref["data"])
    if "Subject" in data:
        data["Subject"] = data["Subject"].astype(str)
    des = build_design(ref["formula"], data)
    # lme4 names a duplicated (||) group by the plain group name too
    assert theta_names(des.terms) == fit["getME(fit, 'theta')"]["names"]
    assert [t.n_levels for t in des.terms if t.columns[0] == "(Intercept)"] == list(
        fit["ngrps(fit)"].values()
    )
    assert des.fixed_names == tuple(fit["fixef(fit)"]["names"])


def test_missing_rows_dropped_and_counted(data):
    d = data.copy()
    d.loc[[3, 10], "y"] = np.nan
    d.loc[20, "therapist"] = None
    d.loc[30, "f"] = np.nan  # not used by the formula: kept
    des = build_design("y ~ time + (1 | therapist)", d)
    assert des.n_dropped == 3
    assert des.n == len(d) - 3
    assert list(des.row_index[:4]) == [0, 1, 2, 4]
    np.testing.assert_array_equal(des.y, d["y"].drop([3, 10, 20]).to_numpy())


def test_unknown_column_suggests(data):
    with pytest.raises(ModelSpecError, match=r"'tme'.*did you mean 'time'"):
        build_design("y ~ tme + (1 | client)", data)
    with pytest.raises(ModelSpecError, match="'clinet'"):
        build_design("y ~ time + (1 | clinet)", data)


def test_non_numeric_response(data):
    with pytest.raises(ModelSpecError, match="response 'f' must be numeric"):
        build_design("f ~ time + (1 | client)", data)


def test_group_with_one_level(data):
    with pytest.raises(ModelSpecError, match="'one' has 1 level"):
        build_design("y ~ time + (1 | one)", data.assign(one="x"))


def test_rank_deficient_names_aliased(data):
    d = data.assign(time2=2 * data["time"] + 1)
    with pytest.raises(ModelSpecError, match=r"rank deficient \(rank 2 of 3\).*'time2'"):
        build_design("y ~ time + time2 + (1 | client)", d)


def test_too_few_observations(data):
    d = data.assign(row=np.arange(len(data)))
    with pytest.raises(ModelSpecError, match="must be smaller than the number of observations"):
        build_design("y ~ 1 + (1 | row)", d)
    # 72 clients x 5 random effects = 360 = n
    d = data.assign(t2=data["time"] ** 2, t3=data["time"] ** 3, t4=data["time"] ** 4)
    with pytest.raises(ModelSpecError, match=r"number of random effects \(360\)"):
        build_design("y ~ 1 + (time + t2 + t3 + t4 | client)", d)


def test_patsy_failure_is_model_spec_error(data):
    with pytest.raises(ModelSpecError, match=r"function np.nosuchfunction\(\) in .* not supported"):
        build_design("y ~ np.nosuchfunction(time) + (1 | client)", data)
    with pytest.raises(ModelSpecError, match="cannot build"):
        build_design("y ~ log(f) + (1 | client)", data)  # log of a string column
    with pytest.raises(FormulaError):
        build_design("y ~ time", data)


def test_new_data_rebuilds_matrices(data):
    des = build_design("y ~ time * f + (1 + time | client) + (1 | therapist)", data)
    np.testing.assert_array_equal(new_fixed(des, data), des.X)
    rebuilt = new_random(des, data)
    for term, (Z, codes) in zip(des.terms, rebuilt, strict=True):
        np.testing.assert_array_equal(Z, term.Z)
        np.testing.assert_array_equal(codes, term.codes)
    new = pd.DataFrame(
        {"time": [1.0, 2.0], "f": ["c", "a"], "client": ["C5", "NEW"], "therapist": ["T1", "T1"]}
    )
    (z0, c0), (_, c1) = new_random(des, new)
    assert list(c0) == [list(des.terms[0].levels).index("C5"), -1]
    assert list(c1) == [1, 1]
    np.testing.assert_array_equal(z0, [[1.0, 1.0], [1.0, 2.0]])
    with pytest.raises(ModelSpecError, match=r"level\(s\) .zz. not seen in the fitted data"):
        new_fixed(des, new.assign(f=["zz", "a"]))
    with pytest.raises(ModelSpecError, match="grouping column"):
        new_random(des, new.drop(columns="therapist"))


def test_nested_new_random_codes(data):
    des = build_design("y ~ time + (1 | therapist/client)", data)
    new = pd.DataFrame({"client": ["C7", "C7"], "therapist": ["T1", "T2"], "time": [0.0, 1.0]})
    (_, c_inner), (_, c_outer) = new_random(des, new)
    assert c_inner[0] == list(des.terms[0].levels).index("C7:T1")
    assert c_inner[1] == -1  # C7 never saw T2
    assert list(c_outer) == [1, 2]


def test_blocked_r_factor_matches_qr(rng):
    from engagestats.models.design import _r_factor

    X = rng.normal(size=(5000, 4)) * [1.0, 10.0, 0.1, 3.0]
    R = _r_factor(X)  # several row blocks
    R0 = np.linalg.qr(X, mode="r")
    np.testing.assert_allclose(np.abs(R), np.abs(R0), rtol=1e-10, atol=1e-10)


def test_rank_deficiency_found_in_long_data(rng):
    n = 6000
    d = pd.DataFrame(
        {
            "y": rng.normal(size=n),
            "a": rng.normal(size=n),
            "g": np.repeat(np.arange(600), 10),
        }
    )
    d["b"] = 2.0 * d["a"]
    with pytest.raises(ModelSpecError, match="rank deficient"):
        build_design("y ~ a + b + (1 | g)", d)
