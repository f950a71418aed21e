"""compare(): likelihood-ratio tables against lme4's anova() (tests/reference/lme4)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engagestats.errors import ModelSpecError
from engagestats.models import compare, lmm

REF_DIR = Path(__file__).resolve().parents[1] / "reference" / "lme4"
with (REF_DIR / "reference.json").open() as fh:
    ANOVA = json.load(fh)["anova"]

COLUMNS = ["npar", "aic", "bic", "loglik", "deviance", "chisq", "df", "p"]


def load(name: str) -> pd.DataFrame:
    return pd.read_csv(REF_DIR / name, dtype={"client": str, "therapist": str})


@pytest.mark.parametrize("case", list(ANOVA))
def test_lrt_table_matches_lme4(case):
    ref = ANOVA[case]
    data = load(ref["data"])
    fits = [lmm(f, data) for f in reversed(ref["formulas"])]  # given in the wrong order
    table = compare(*fits)
    key = next(k for k in ref if k.startswith("anova("))
    expected = pd.DataFrame(ref[key])
    assert list(table.columns) == COLUMNS
    assert table.index.name == "model"
    assert sorted(table.index) == sorted(ref["formulas"])
    assert table["npar"].is_monotonic_increasing  # ordered by npar, as lme4
    np.testing.assert_array_equal(table["npar"], expected["npar"])
    for col in ("aic", "bic", "loglik", "deviance"):
        np.testing.assert_allclose(table[col], expected[col], rtol=1e-6)
    assert np.isnan(table["chisq"].iloc[0])
    assert np.isnan(table["p"].iloc[0])
    np.testing.assert_allclose(table["chisq"].iloc[1:], expected["chisq"].iloc[1:], rtol=1e-4)
    np.testing.assert_array_equal(table["df"].iloc[1:], expected["df"].iloc[1:])
    np.testing.assert_allclose(table["p"].iloc[1:], expected["p"].iloc[1:], rtol=1e-3)


@pytest.fixture(scope="module")
def growth() -> pd.DataFrame:
    return load("growth.csv")


def test_names_and_refit_false(growth):
    m0 = lmm("phq ~ session * autonomy + (1 | client)", growth)
    m1 = lmm("phq ~ session * autonomy + (1 + session | client)", growth)
    table = compare(m0, m1, names=["intercepts", "slopes"], refit=False)
    assert list(table.index) == ["intercepts", "slopes"]
    # Without refitting, the REML criteria are compared directly.
    np.testing.assert_allclose(table["deviance"], [m0.deviance, m1.deviance], rtol=1e-12)
    assert table["df"].iloc[1] == 2
    refitted = compare(m0, m1)
    assert refitted["deviance"].iloc[1] != pytest.approx(m1.deviance, rel=1e-6)


def test_refit_false_rejects_different_fixed_effects(growth):
    m0 = lmm("phq ~ session + (1 | client)", growth)
    m1 = lmm("phq ~ session * autonomy + (1 | client)", growth)
    with pytest.raises(ModelSpecError, match="not comparable"):
        compare(m0, m1, refit=False)
    ml = lmm("phq ~ session * autonomy + (1 | client)", growth, reml=False)
    with pytest.raises(ModelSpecError, match="REML and some by ML"):
        compare(m0, ml, refit=False)


def test_different_rows_raise(growth):
    m0 = lmm("phq ~ session + (1 | client)", growth)
    m1 = lmm("phq ~ session + (1 | client)", growth.iloc[:-40])
    with pytest.raises(ModelSpecError, match="same rows"):
        compare(m0, m1)
    other = growth.assign(phq2=growth["phq"] + 1.0)
    m2 = lmm("phq2 ~ session + (1 | client)", other)
    with pytest.raises(ModelSpecError, match="same rows"):
        compare(m0, m2)


def test_argument_errors(growth):
    m0 = lmm("phq ~ session + (1 | client)", growth)
    with pytest.raises(ModelSpecError, match="at least two"):
        compare(m0)
    with pytest.raises(TypeError):
        compare(m0, "not a model")
    with pytest.raises(ModelSpecError, match="distinct"):
        compare(m0, m0, names=["a", "a"])
