"""Per-term ANOVA tables against lmerTest 3.1-3 (tests/reference/anova) and t-test identities."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engagestats.errors import ModelSpecError
from engagestats.models import _anova, lmm

REF_DIR = Path(__file__).resolve().parents[1] / "reference" / "anova"
with (REF_DIR / "anova.json").open() as fh:
    REF = json.load(fh)

GROUP_COLS = {"Subject": str, "client": str, "therapist": str}
TABLES = {
    "anova(fit, type = 1)": (1, "satterthwaite"),
    "anova(fit, type = 2)": (2, "satterthwaite"),
    "anova(fit, type = 3)": (3, "satterthwaite"),
    'anova(fit, type = 3, ddf = "Kenward-Roger")': (3, "kenward-roger"),
}
COLUMNS = ["sum_sq", "mean_sq", "num_df", "den_df", "f", "p"]

# Our REML optimum agrees with lme4's (bobyqa, rhoend = 1e-10) to ~5e-7 in theta; F and
# den_df are smooth in theta and agree to ~1e-7 relative, so rtol 1e-5 keeps a margin. F
# near zero (stage:x in "threeway", F = 9e-5) is a squared estimate near zero, whose
# relative error is larger (3.5e-6): atol 1e-6 covers it without loosening the others.
# p values get rtol 1e-4: a relative error e in F moves p by about F e |d log p / dF|.
RTOL = 1e-5
ATOL_F = 1e-6
RTOL_P = 1e-4


@functools.cache
def fitted(name: str):
    model = REF["models"][name]
    data = pd.read_csv(REF_DIR / model["data"][0], dtype=GROUP_COLS)
    return lmm(model["formula"][0], data)


@pytest.fixture(scope="module", params=sorted(REF["models"]))
def case(request):
    return fitted(request.param), REF["models"][request.param]


def test_versions_recorded():
    assert REF["versions"]["lmerTest"] == ["3.1.3"]


def test_same_fit_as_lme4(case):
    fit, ref = case
    assert fit.fixed.index.tolist() == ref["names(fixef(fit))"]
    np.testing.assert_allclose(fit.theta.to_numpy(), ref['getME(fit, "theta")'], rtol=1e-5)


@pytest.mark.parametrize("key", list(TABLES))
def test_hypotheses_match_lmertest(case, key):
    fit, ref = case
    kind, _ = TABLES[key]
    ours = _anova.hypotheses(fit, type=kind)
    expected = ref[key]["hypotheses"]
    assert list(ours) == list(expected)
    for term, L in ours.items():
        want = np.asarray(expected[term], dtype=float).reshape(-1, fit.vcov.shape[0])
        # Built from X alone (no variance components): agreement to rounding error.
        np.testing.assert_allclose(L, want, rtol=0, atol=1e-10, err_msg=f"{key} {term}")


@pytest.mark.parametrize("key", list(TABLES))
def test_table_matches_lmertest(case, key):
    fit, ref = case
    kind, ddf = TABLES[key]
    table = fit.anova(type=kind, ddf=ddf)
    want = ref[key]
    assert table.columns.tolist() == COLUMNS
    assert table.index.name == "term"
    assert table.index.tolist() == want["term"]
    assert table["num_df"].tolist() == want["num_df"]
    for col in ("sum_sq", "mean_sq", "f"):
        np.testing.assert_allclose(table[col], want[col], rtol=RTOL, atol=ATOL_F, err_msg=col)
    np.testing.assert_allclose(table["den_df"], want["den_df"], rtol=RTOL)
    np.testing.assert_allclose(table["p"], want["p"], rtol=RTOL_P)


def test_roman_and_string_types_are_the_same_test():
    fit = fitted("factorial")
    pd.testing.assert_frame_equal(fit.anova(type="II"), fit.anova(type=2))
    pd.testing.assert_frame_equal(fit.anova(type="iii"), fit.anova())


@functools.cache
def additive():
    data = pd.read_csv(REF_DIR / "factorial.csv", dtype=GROUP_COLS)
    return lmm("y ~ time + stage + x + (1 | client) + (1 | therapist)", data)


@pytest.mark.parametrize("term", ["stagecontemplation", "x"])
def test_single_coefficient_term_is_the_squared_t_test(term):
    fit = additive()
    label = {"stagecontemplation": "stage", "x": "x"}[term]
    row = fit.anova(type=3).loc[label]
    t = fit.fixed.loc[term]
    assert row["num_df"] == 1
    np.testing.assert_allclose(row["f"], t["t"] ** 2, rtol=1e-8)
    np.testing.assert_allclose(row["den_df"], t["df"], rtol=1e-8)
    np.testing.assert_allclose(row["p"], t["p"], rtol=1e-8)


def test_last_term_is_the_same_hypothesis_under_all_types():
    # The highest-order term is adjusted for everything under types I, II and III: same
    # F. The Satterthwaite den_df of a multi-df F depends on the basis of L, which differs
    # under type I (Doolittle rows), so only types II and III (unit rows) share it.
    fit = fitted("threeway")
    rows = [fit.anova(type=k).loc["stage:format:x"] for k in (1, 2, 3)]
    for row in rows[1:]:
        np.testing.assert_allclose(row[["sum_sq", "f"]], rows[0][["sum_sq", "f"]], rtol=1e-10)
    np.testing.assert_allclose(
        rows[2].to_numpy(dtype=float), rows[1].to_numpy(dtype=float), rtol=1e-10
    )


def test_type3_kenward_roger_matches_contrast():
    fit = fitted("factorial")
    L = _anova.hypotheses(fit, type=3)["time"]
    joint = fit.contrast(L, joint=True, ddf="kenward-roger")
    row = fit.anova(ddf="Kenward-Roger").loc["time"]
    np.testing.assert_allclose(
        row.to_numpy(dtype=float), joint.iloc[0].to_numpy(dtype=float), rtol=1e-12
    )


def test_intercept_only_model_has_an_empty_table():
    data = pd.read_csv(REF_DIR / "factorial.csv", dtype=GROUP_COLS)
    table = lmm("y ~ 1 + (1 | client)", data).anova()
    assert table.empty
    assert table.columns.tolist() == COLUMNS


@pytest.mark.parametrize("bad", [4, "IV", "yates", True, None])
def test_unknown_type_is_refused(bad):
    with pytest.raises(ModelSpecError, match="type must be"):
        fitted("sleepstudy").anova(type=bad)


def test_unknown_ddf_is_refused():
    with pytest.raises(ModelSpecError, match="ddf must be one of"):
        fitted("sleepstudy").anova(ddf="lme4")


def test_kenward_roger_needs_reml():
    data = pd.read_csv(REF_DIR / "factorial.csv", dtype=GROUP_COLS)
    fit = lmm("y ~ time + x + (1 | client)", data, reml=False)
    with pytest.raises(ModelSpecError, match="REML"):
        fit.anova(ddf="kenward-roger")
    assert fit.anova().index.tolist() == ["time", "x"]  # Satterthwaite works on ML fits


def test_type3_refuses_non_treatment_coding():
    data = pd.read_csv(REF_DIR / "factorial.csv", dtype=GROUP_COLS)
    fit = lmm("y ~ C(time, Sum) + x + (1 | client)", data)
    with pytest.raises(ModelSpecError, match="treatment-coded"):
        fit.anova(type=3)
    assert fit.anova(type=1)["num_df"].tolist() == [2, 1]
