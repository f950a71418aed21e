"""engagestats._validate: every check names the file, row, column and what was expected."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import engagestats as es
from engagestats._validate import (
    as_table,
    check_choice,
    check_level,
    check_positive_int,
    check_prob,
    renamed_arguments,
    require_columns,
)
from engagestats.errors import PROBLEM_COLUMNS, DataValidationError
from engagestats.study import Study


def _study() -> Study:
    return Study(
        therapists=pd.DataFrame({"therapist_id": ["T1"]}),
        clients=pd.DataFrame({"client_id": ["C1", "C2"], "therapist_id": ["T1", "T1"]}),
        sessions=pd.DataFrame(
            {"client_id": ["C1", "C1", "C2"], "session": [1, 2, 1], "attended": [1, 0, 1]}
        ),
    )


def _only_problem(err: pytest.ExceptionInfo) -> dict:
    problems = err.value.problems
    assert problems.columns.tolist() == list(PROBLEM_COLUMNS)
    assert len(problems) == 1
    return problems.iloc[0].to_dict()


# ------------------------------------------------------------------ missing columns
def test_require_columns_names_every_missing_column_and_its_table():
    frame = pd.DataFrame({"client_id": ["C1"], "phq9_total": [3.0]})
    require_columns(frame, ["client_id", None, "phq9_total"], table="sessions")  # all there
    with pytest.raises(DataValidationError) as err:
        require_columns(frame, ["session", "client_id", "date", "session"], table="sessions")
    p = err.value.problems
    assert p["file"].tolist() == ["sessions", "sessions"]
    assert p["column"].tolist() == ["session", "date"]  # each once, in the order asked
    assert p["row"].isna().all()
    assert p["problem"].tolist() == [
        "required column 'session' is missing",
        "required column 'date' is missing",
    ]
    assert str(err.value).startswith("2 required columns missing from sessions:")


def test_require_columns_role_and_type():
    with pytest.raises(DataValidationError, match="model column 'x' is missing") as err:
        require_columns(pd.DataFrame({"a": [1]}), ["x"], table="panel", role="model")
    assert _only_problem(err)["file"] == "panel"
    with pytest.raises(TypeError, match="panel must be a DataFrame, got dict"):
        require_columns({"a": [1]}, ["a"], table="panel")


def test_for_columns_collects_several_tables():
    err = DataValidationError.for_columns({"clients": ["therapist_id"], "sessions": []})
    assert err.problems[["file", "column"]].values.tolist() == [["clients", "therapist_id"]]
    assert str(err).startswith("1 required column missing from clients:")


def test_study_key_columns_use_the_same_builder():
    with pytest.raises(DataValidationError, match="key column 'session' is missing") as err:
        Study(
            therapists=pd.DataFrame({"therapist_id": ["T1"]}),
            clients=pd.DataFrame({"client_id": ["C1"], "therapist_id": ["T1"]}),
            sessions=pd.DataFrame({"client_id": ["C1"]}),
        )
    assert _only_problem(err)["file"] == "sessions"


@pytest.mark.parametrize(
    ("call", "file", "column"),
    [
        (lambda: es.lag(pd.DataFrame({"client_id": [1]}), "wai"), "data", "wai"),
        (lambda: es.rates(pd.DataFrame({"y": [1]}), outcome="y", by="site"), "data", "site"),
        (
            lambda: es.engagement(pd.DataFrame({"client_id": ["a"]})),
            "sessions",
            "session",
        ),
        (
            lambda: es.binary_model(pd.DataFrame({"dropout": [1.0]}), predictors=["age"]),
            "clients",
            "therapist_id",
        ),
        (
            lambda: es.plots.outcome_bars(pd.DataFrame({"y": [1]}), outcome="y", by="g"),
            "data",
            "g",
        ),
    ],
)
def test_public_functions_share_the_column_check(call, file, column):
    with pytest.raises(DataValidationError) as err:
        call()
    p = err.value.problems
    assert file in p["file"].tolist()
    assert column in p["column"].tolist()
    assert p["problem"].str.contains(f"column {column!r} is missing").any()


# ------------------------------------------------------------------ Study or DataFrame
def test_as_table_picks_the_table_of_a_study_or_returns_the_frame():
    study = _study()
    assert as_table(study, "clients") is study.clients
    assert len(as_table(study, "sessions")) == 3
    assert as_table(study, "sessions", attended_only=True)["session"].tolist() == [1, 1]
    frame = pd.DataFrame({"a": [1]})
    assert as_table(frame, "sessions", attended_only=True) is frame  # a frame is taken as is


@pytest.mark.parametrize("kind", ["therapists", "clients", "sessions"])
def test_as_table_error_names_what_was_expected(kind):
    with pytest.raises(TypeError, match=f"data must be a Study or a {kind} DataFrame, got list"):
        as_table([1, 2], kind)


def test_as_table_unknown_kind():
    with pytest.raises(DataValidationError) as err:
        as_table(_study(), "visits")
    p = _only_problem(err)
    assert (p["file"], p["column"], p["value"]) == ("argument", "kind", "visits")
    assert p["problem"] == "kind must be 'therapists', 'clients' or 'sessions'"


@pytest.mark.parametrize(
    "call",
    [
        lambda d: es.engagement(d),
        lambda d: es.talking_therapies_outcomes(d),
        lambda d: es.instrument_change(d, score="phq9_total", threshold=6),
        lambda d: es.growth_model(d),
        lambda d: es.binary_model(d),
    ],
)
def test_every_study_or_frame_function_refuses_other_types_alike(call):
    with pytest.raises(TypeError, match=r"data must be a Study or a \w+ DataFrame, got dict"):
        call({"client_id": ["C1"]})


# ------------------------------------------------------------------ arguments
def test_check_choice():
    assert check_choice("gee", ("gee", "glmm"), name="method") == "gee"
    with pytest.raises(DataValidationError) as err:
        check_choice("lm", ("gee", "glmm"), name="method")
    p = _only_problem(err)
    assert (p["file"], p["row"], p["column"], p["value"]) == ("argument", None, "method", "lm")
    assert p["problem"] == "method must be 'gee' or 'glmm'"
    with pytest.raises(DataValidationError, match="must be 'a', 'b' or 'c'"):
        check_choice(["a"], ("a", "b", "c"), name="cutoff_type")  # unhashable: refused too


@pytest.mark.parametrize("good", [0.5, 0.95, np.float64(0.99), 1e-9])
def test_check_level_accepts_levels(good):
    assert check_level(good) == pytest.approx(float(good))
    assert isinstance(check_level(good), float)


@pytest.mark.parametrize("bad", [0, 1, 95, -0.5, np.nan, np.inf, True, "0.95", None])
def test_check_level_rejects_percentages_and_non_numbers(bad):
    with pytest.raises(DataValidationError) as err:
        check_level(bad)
    p = _only_problem(err)
    assert (p["file"], p["column"]) == ("argument", "level")
    assert "confidence level between 0 and 1 (e.g. 0.95)" in p["problem"]


@pytest.mark.parametrize(
    ("closed", "inside", "outside"),
    [
        ("both", [0.0, 0.5, 1.0], [-0.1, 1.1]),
        ("right", [0.1, 1.0], [0.0, 1.5]),
        ("left", [0.0, 0.9], [1.0]),
        ("neither", [0.05], [0.0, 1.0]),
    ],
)
def test_check_prob_intervals(closed, inside, outside):
    for x in inside:
        assert check_prob(x, name="p", closed=closed) == x
    for x in outside:
        with pytest.raises(DataValidationError, match=r"p must be a share in [\[(]0, 1[\])]"):
            check_prob(x, name="p", closed=closed)


@pytest.mark.parametrize("bad", [0, -3, 2.0, True, "3", None])
def test_check_positive_int(bad):
    assert check_positive_int(np.int64(3), name="k") == 3
    assert check_positive_int(0, name="n_boot", minimum=0) == 0
    with pytest.raises(DataValidationError) as err:
        check_positive_int(bad, name="k", what="the lag")
    p = _only_problem(err)
    assert (p["file"], p["column"]) == ("argument", "k")
    assert p["problem"] == "k must be a positive integer (the lag)"


def test_argument_problems_keep_the_value_as_text():
    err = DataValidationError.for_argument("level", 95, "level must be ...")
    assert err.problems.loc[0, "value"] == "95"
    assert isinstance(err, ValueError)


def test_for_file_names_the_file_and_row():
    err = DataValidationError.for_file("sessions.csv", "malformed delimited text", row=4)
    assert err.problems[["file", "row", "problem"]].values.tolist() == [
        ["sessions.csv", 4, "malformed delimited text"]
    ]
    assert str(err).startswith("Cannot read sessions.csv")


# ------------------------------------------------------------------ deprecation shims
def test_renamed_arguments_warn_and_forward():
    @renamed_arguments(by="client", z=("level", lambda z: z / 10))
    def f(data, *, client="client_id", level=0.95):
        return client, level

    assert f(None) == ("client_id", 0.95)
    with pytest.deprecated_call(match=r"f\(\): the keyword by= is deprecated; use client="):
        assert f(None, by="id") == ("id", 0.95)
    with pytest.deprecated_call(match="z= is deprecated; use level="):
        assert f(None, z=9.0) == ("client_id", 0.9)
    with pytest.raises(TypeError, match="got both by= and client="):
        f(None, by="a", client="b")


@pytest.mark.parametrize(
    ("call", "old", "new"),
    [
        (lambda **k: es.within_between(_PANEL, "x", **k), {"by": "id"}, {"client": "id"}),
        (
            lambda **k: es.lag(_PANEL, "x", **k),
            {"by": "id", "order": "t"},
            {"client": "id", "session": "t"},
        ),
        (lambda **k: es.reliability.cronbach_alpha(_ITEMS, **k), {"ci": 0.9}, {"level": 0.9}),
        (
            lambda **k: es.wide_to_long(_WIDE, **k),
            {"time_name": "wave"},
            {"session": "wave"},
        ),
    ],
)
def test_shims_for_names_the_docs_once_showed(call, old, new):
    with pytest.deprecated_call():
        before = call(**old)
    after = call(**new)
    if isinstance(after, pd.DataFrame):
        pd.testing.assert_frame_equal(before, after)
    else:
        assert before == after


_PANEL = pd.DataFrame({"id": [1, 1, 2], "t": [1, 2, 1], "x": [1.0, 2.0, 3.0]})
_ITEMS = pd.DataFrame(
    {"a": [1, 2, 3, 4, 5], "b": [2, 2, 4, 4, 5], "c": [2, 3, 3, 5, 4]}, dtype=float
)
_WIDE = pd.DataFrame({"client_id": ["C1"], "phq9_total_t1": [10], "phq9_total_t2": [8]})
