"""Data-derived names in model formulas are quoted, never parsed as expressions nor run (#18).

Every entry point that builds a model from column names is fitted twice on the same data:
once with a column under a clean name and once with the same column renamed to a hostile
string (``x-1``, ``my var``, ``2nd``, ``if``, a Python call). The two fits must agree to the
last digit (the coefficient of the hostile column is named as R names it, in backticks), or
the hostile one must raise a typed :class:`~engagestats.errors.EngageStatsError`; nothing is
ever evaluated (a name that would create a file when run as Python creates none).

Decoy columns ``x``, ``my`` and ``var`` are present, so that a name read as an expression
(``x-1``: ``x`` without an intercept) would fit a *different* model, not fail.
"""

from __future__ import annotations

import dataclasses
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import engagestats as es
from engagestats.analyses import (
    binary_model,
    client_table,
    cross_lagged,
    dropout_hazard,
    expected_recovery,
    growth_model,
)
from engagestats.analyses._panel import scored_study
from engagestats.errors import EngageStatsError, FormulaError
from engagestats.models import lmm
from engagestats.models.formula import quote_name
from engagestats.plots import residual_diagnostics

CANARY = Path(__file__).parent / "_formula_names_canary_must_not_exist"
HOSTILE = [
    "x-1",
    "my var",
    "2nd",
    "if",
    "__import__('os')",
    f"open({str(CANARY)!r}, 'w')",
    "a:b",
    "y ~ x + (1 | g)",
    "I(x^2)",
    "=cmd|' /C calc'!A0",
]
IDS = ["minus", "space", "digit", "reserved", "import", "open", "colon", "formula", "I", "dde"]
CLEAN = "clean_name"


@pytest.fixture(autouse=True)
def _no_canary():
    yield
    assert not CANARY.exists(), "a column name was run as Python code"


@pytest.fixture(scope="module")
def study():
    base = es.simulate_study(n_therapists=8, clients_per_therapist=8, max_sessions=12, seed=6)
    scored = scored_study(base, ["srq_autonomous", "urica_readiness", "wai_sr_total", "phq9_total"])
    rng = np.random.default_rng(18)
    clients = scored.clients.copy()
    sessions = scored.sessions.copy()
    for frame in (clients, sessions):
        for decoy in ("x", "my", "var", "a", "b"):
            frame[decoy] = rng.normal(size=len(frame))
    return dataclasses.replace(scored, clients=clients, sessions=sessions)


def _renamed(study, table: str, column: str, name: str):
    frame = getattr(study, table).rename(columns={column: name})
    return dataclasses.replace(study, **{table: frame})


def _same_table(hostile: pd.DataFrame, clean: pd.DataFrame, key: str, name: str) -> None:
    """Same numbers; the hostile table names the column ``name`` (quoted or not) for CLEAN."""
    quoted = quote_name(name)

    def back(v: object) -> object:
        return v.replace(quoted, CLEAN).replace(name, CLEAN) if isinstance(v, str) else v

    renamed = hostile.copy()
    renamed[key] = renamed[key].map(back)
    pd.testing.assert_frame_equal(
        renamed.reset_index(drop=True), clean.reset_index(drop=True), check_exact=False, rtol=1e-12
    )


# --------------------------------------------------------------------------- binary_model
@pytest.mark.parametrize("method", ["gee", "glmm"])
@pytest.mark.parametrize("name", HOSTILE, ids=IDS)
def test_binary_model_predictor(study, name, method):
    table = client_table(study)
    clean = binary_model(
        table.rename(columns={"srq_autonomous": CLEAN}),
        predictors=[CLEAN, "urica_readiness"],
        method=method,
    )
    hostile = binary_model(
        table.rename(columns={"srq_autonomous": name}),
        predictors=[name, "urica_readiness"],
        method=method,
    )
    assert hostile.formula == f"dropout ~ {quote_name(name)} + urica_readiness"
    _same_table(hostile.odds_ratios, clean.odds_ratios, "term", name)


@pytest.mark.parametrize("name", HOSTILE, ids=IDS)
def test_binary_model_term_name_outcome_and_therapist(study, name):
    """A hostile term name (mapping key), outcome column and cluster column (GLMM group)."""
    table = client_table(study)
    clean_t = table.rename(columns={"dropout": "clean_y", "therapist_id": "clean_g"})
    hostile_t = table.rename(columns={"dropout": name + "_y", "therapist_id": name + "_g"})
    for method in ("gee", "glmm"):
        clean = binary_model(
            clean_t,
            outcome="clean_y",
            therapist="clean_g",
            predictors={CLEAN: "srq_autonomous"},
            method=method,
        )
        hostile = binary_model(
            hostile_t,
            outcome=name + "_y",
            therapist=name + "_g",
            predictors={name: "srq_autonomous"},
            method=method,
        )
        _same_table(hostile.odds_ratios, clean.odds_ratios, "term", name)


def test_binary_model_categorical_hostile_name(study):
    table = client_table(study)
    table["grp"] = np.where(np.arange(len(table)) % 3 == 0, "low dose", "high=dose")
    clean = binary_model(table, predictors={CLEAN: "grp"})
    hostile = binary_model(table, predictors={"my var": "grp"})
    assert hostile.odds_ratios["term"].tolist()[1] == "`my var`low dose"
    _same_table(hostile.odds_ratios, clean.odds_ratios, "term", "my var")


def test_a_backtick_in_a_name_is_a_typed_error(study):
    table = client_table(study).rename(columns={"srq_autonomous": "a`b"})
    with pytest.raises(FormulaError, match="backtick"):
        binary_model(table, predictors=["a`b"])


# --------------------------------------------------------------------------- dropout_hazard
# person_period renames the alliance and score columns, so a hostile one never reaches the
# formula; three kinds of name show it.
@pytest.mark.parametrize("name", HOSTILE[:2] + HOSTILE[5:6], ids=IDS[:2] + IDS[5:6])
def test_dropout_hazard(study, name):
    clean = dropout_hazard(_renamed(study, "sessions", "wai_sr_total", CLEAN), alliance=CLEAN)
    hostile = dropout_hazard(_renamed(study, "sessions", "wai_sr_total", name), alliance=name)
    assert hostile.formula == clean.formula
    pd.testing.assert_frame_equal(hostile.odds_ratios, clean.odds_ratios)


# --------------------------------------------------------------------------- growth_model
def _growth_effects(study, name: str):
    s = _renamed(
        _renamed(study, "clients", "srq_autonomous", name), "sessions", "wai_sr_total", name + "A"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", es.EngageStatsWarning)
        m = growth_model(s, predictors=[name], time_varying=[name + "A"])
    return m.effects()[["term", "estimate", "se"]]


@pytest.mark.parametrize("name", [*HOSTILE, "a`b"], ids=[*IDS, "backtick"])
def test_growth_model_names(study, name):
    """Every valid column name fits as the clean name; only a backtick is a typed error.

    growth.py quotes every data-derived name (quote_name), so a name that quote_name
    accepts must give the clean fit to the last digit; one that it refuses (a backtick)
    must raise FormulaError, never fit a different model.
    """
    if "`" in name:
        with pytest.raises(FormulaError, match="backtick"):
            quote_name(name)
        with pytest.raises(FormulaError, match="backtick"):
            _growth_effects(study, name)
        return
    quote_name(name)  # a valid column name: no error allowed from here on
    clean = _growth_effects(study, CLEAN)
    hostile = _growth_effects(study, name)
    back = hostile.copy()
    pairs = [(quote_name(name + "A"), CLEAN + "A"), (name + "A", CLEAN + "A")]
    pairs += [(quote_name(name), CLEAN), (name, CLEAN)]
    for old, new in pairs:
        back["term"] = back["term"].str.replace(old, new, regex=False)
    assert back["term"].tolist() == clean["term"].tolist()
    pd.testing.assert_frame_equal(back, clean, check_exact=False, rtol=1e-10)


def test_growth_model_hostile_term_names_via_mapping(study):
    """A mapping gives the model clean term names for hostile columns: same fit."""
    clean = growth_model(study, predictors={"aut": "srq_autonomous"}).effects()
    s = _renamed(study, "clients", "srq_autonomous", "__import__('os')")
    hostile = growth_model(s, predictors={"aut": "__import__('os')"}).effects()
    pd.testing.assert_frame_equal(hostile, clean)


# --------------------------------------------------------------------------- monitoring, CLPM
@pytest.mark.parametrize("name", HOSTILE, ids=IDS)
def test_expected_recovery_covariate(study, name):
    clean = expected_recovery(
        _renamed(study, "clients", "urica_readiness", CLEAN), covariates=[CLEAN]
    )
    hostile = expected_recovery(
        _renamed(study, "clients", "urica_readiness", name), covariates=[name]
    )
    _same_table(hostile.coefficients, clean.coefficients, "term", name)


@pytest.mark.parametrize("name", ["x-1", "__import__('os')"], ids=["minus", "import"])
def test_cross_lagged_predictor(study, name):
    """The panel model is fitted by its own likelihood code: names are labels only."""
    clean = cross_lagged(_renamed(study, "sessions", "wai_sr_total", CLEAN), predictor=CLEAN)
    hostile = cross_lagged(_renamed(study, "sessions", "wai_sr_total", name), predictor=name)
    for col in ("path", "estimand"):
        assert hostile.paths[col].str.replace(name, CLEAN, regex=False).tolist() == (
            clean.paths[col].tolist()
        )
    np.testing.assert_array_equal(hostile.paths["estimate"], clean.paths["estimate"])


# --------------------------------------------------------------------------- diagnostics plot
@pytest.mark.parametrize("name", ["my var", "2nd", "x-1"])
def test_residual_diagnostics_titles_name_the_column(name):
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(3)
    g = np.repeat(np.arange(15), 8)
    x = np.tile(np.arange(8.0), 15)
    d = pd.DataFrame({"g": g, name: x})
    d["y"] = (
        1 + (0.5 + rng.normal(0, 0.3, 15)[g]) * x + rng.normal(size=15)[g] + rng.normal(size=len(g))
    )
    fit = lmm(f"y ~ {quote_name(name)} + (1 + {quote_name(name)} | g)", d)
    fig = residual_diagnostics(fit)
    titles = [ax.get_title() for ax in fig.axes]
    plt.close(fig)
    assert titles[-1] == f"Normal QQ plot: g, slope of {name.replace('_', ' ')}"
    assert not any("`" in t for t in titles)


# --------------------------------------------------------------------------- the engine
@pytest.fixture(scope="module")
def binary_data():
    rng = np.random.default_rng(5)
    g = np.repeat(np.arange(20), 10)
    d = pd.DataFrame({"g": g, "x": rng.normal(size=200)})
    d["b"] = (rng.random(200) < 1 / (1 + np.exp(-d["x"]))).astype(float)
    d["score"] = rng.normal(10, 3, 200) + rng.normal(0, 3, 20)[g] + d["x"]
    return d


@pytest.mark.parametrize(
    "lhs",
    [
        "[c for c in ().__class__.__base__.__subclasses__()][0] and b",
        "__import__('os').getcwd() and b",
        "b if True else 0",
        "np.log(score) > 2",
    ],
)
def test_binary_response_is_never_run_as_python(binary_data, lhs):
    """glmm/gee read the response with R's grammar; it used to go through Python's eval."""
    from engagestats.models import gee, glmm

    with pytest.raises(EngageStatsError):
        glmm(f"{lhs} ~ x + (1 | g)", binary_data, family="binomial")
    with pytest.raises(EngageStatsError):
        gee(f"{lhs} ~ x", binary_data, groups="g")


def test_binary_response_expressions_in_r(binary_data):
    """R expressions still work as responses; a missing input stays missing and is counted."""
    from engagestats.models import glmm

    d = binary_data.assign(**{"my score": binary_data["score"]})
    d.loc[[3, 7], "my score"] = np.nan
    hi = np.where(d["my score"].isna(), np.nan, (d["my score"] > 10).astype(float))
    via_column = glmm("hi ~ x + (1 | g)", d.assign(hi=hi), family="binomial")
    via_expr = glmm("`my score` > 10 ~ x + (1 | g)", d, family="binomial")
    np.testing.assert_allclose(via_expr.fixed["estimate"], via_column.fixed["estimate"], rtol=1e-10)
    assert via_expr.nobs == len(d) - 2


# --------------------------------------------------------------------------- instrument fields
def test_instrument_subscale_names_reach_the_formula_quoted(study, tmp_path):
    """A user instrument's subscale names become score columns, then model terms."""
    import json

    from engagestats.instruments import load_instrument

    spec = {
        "name": "mood",
        "items": 4,
        "response_range": [1, 5],
        "subscales": {"my var": [1, 2], "x-1": [3, 4]},
        "aggregate": "mean",
    }
    (tmp_path / "mood.json").write_text(json.dumps(spec), encoding="utf-8")
    inst = load_instrument(tmp_path / "mood.json")
    table = client_table(study)
    rng = np.random.default_rng(7)
    for k in range(1, 5):
        table[f"mood_{k}"] = rng.integers(1, 6, len(table)).astype(float)
    scores = es.score(table, inst)
    scored = table.join(scores[["mood_my var", "mood_x-1"]])
    hostile = binary_model(scored, predictors=["mood_my var", "mood_x-1"])
    assert hostile.formula == "dropout ~ `mood_my var` + `mood_x-1`"
    clean = binary_model(
        scored.rename(columns={"mood_my var": "m1", "mood_x-1": "m2"}), predictors=["m1", "m2"]
    )
    np.testing.assert_array_equal(
        hostile.odds_ratios["estimate"].to_numpy(), clean.odds_ratios["estimate"].to_numpy()
    )
    assert hostile.odds_ratios["term"].tolist()[1:] == ["`mood_my var`", "`mood_x-1`"]
