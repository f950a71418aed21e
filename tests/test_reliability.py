"""engagestats.reliability against psych (tests/reference/psych/make_psych_fixtures.R)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engagestats import reliability as rel
from engagestats.errors import DataValidationError, InstrumentError

REF = Path(__file__).parent / "reference" / "psych"


@pytest.fixture(scope="module")
def expected() -> pd.DataFrame:
    return pd.read_csv(REF / "reliability.csv")


@pytest.fixture(scope="module")
def scales() -> dict[str, pd.DataFrame]:
    bfi = pd.read_csv(REF / "bfi_items.csv")
    agree = bfi[[f"A{i}" for i in range(1, 6)]].copy()
    agree["A1"] = 7 - agree["A1"]
    consc = bfi[[f"C{i}" for i in range(1, 6)]].copy()
    consc[["C4", "C5"]] = 7 - consc[["C4", "C5"]]
    return {
        "bfi_agree": agree,
        "bfi_neuro": bfi[[f"N{i}" for i in range(1, 6)]],
        "bfi_consc": consc,
        "ability": pd.read_csv(REF / "ability_items.csv"),
    }


def _e(expected: pd.DataFrame, scale: str, stat: str) -> float:
    row = expected[(expected["scale"] == scale) & (expected["statistic"] == stat)]
    assert len(row) == 1
    return float(row["value"].iloc[0])


SCALES = ["bfi_agree", "bfi_neuro", "bfi_consc", "ability"]


@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("missing", ["pairwise", "listwise"])
def test_alpha_matches_psych(scales, expected, scale, missing):
    r = rel.cronbach_alpha(scales[scale], missing=missing)
    np.testing.assert_allclose(r.alpha, _e(expected, scale, f"alpha_{missing}"), rtol=1e-10)
    if missing == "listwise" or scale != "ability":
        # psych counts every row for the Feldt n; we count rows with an answer
        # (the same for all bfi scales; ability has empty rows).
        assert r.n == _e(expected, scale, f"n_{missing}")
        np.testing.assert_allclose(r.ci_low, _e(expected, scale, f"feldt_low_{missing}"), rtol=1e-8)
        np.testing.assert_allclose(
            r.ci_high, _e(expected, scale, f"feldt_high_{missing}"), rtol=1e-8
        )
    else:
        assert r.n < _e(expected, scale, "n_pairwise")
        assert r.n_dropped == _e(expected, scale, "n_pairwise") - r.n


@pytest.mark.parametrize("scale", SCALES)
def test_omega_total_matches_psych(scales, expected, scale):
    r = rel.omega_total(scales[scale])
    np.testing.assert_allclose(r.omega, _e(expected, scale, "omega_total"), rtol=1e-6)
    np.testing.assert_allclose(r.omega, _e(expected, scale, "omega_total_pa_tight"), rtol=1e-8)
    assert r.n_items == scales[scale].shape[1]


@pytest.mark.parametrize("scale", SCALES)
def test_item_total_matches_psych(scales, expected, scale):
    out = rel.item_total(scales[scale])
    for row in out.itertuples():
        np.testing.assert_allclose(row.r_drop, _e(expected, scale, f"r_drop:{row.item}"), rtol=1e-9)
        np.testing.assert_allclose(
            row.alpha_if_deleted, _e(expected, scale, f"alpha_drop:{row.item}"), rtol=1e-9
        )


def test_alpha_hand_computed():
    # Two perfectly parallel items: alpha = 1; k=2 items, var 1 each, cov 0.5 -> 2/3.
    x = np.array([[1.0, 1.0], [2.0, 2.0], [3.0, 3.0], [4.0, 4.0]])
    assert rel.cronbach_alpha(x).alpha == pytest.approx(1.0, abs=1e-12)
    rng = np.random.default_rng(3)
    z = rng.normal(size=(4000, 2))
    x = np.column_stack([z[:, 0], 0.5 * z[:, 0] + np.sqrt(0.75) * z[:, 1]])
    c = np.cov(x.T)
    expected = 2 * (1 - np.trace(c) / c.sum())
    assert rel.cronbach_alpha(x).alpha == pytest.approx(expected, rel=1e-12)
    assert rel.cronbach_alpha(x).alpha == pytest.approx(2 / 3, abs=0.03)


def test_listwise_counts_dropped_rows():
    x = pd.DataFrame({"a": [1, 2, 3, 4, np.nan], "b": [1, 3, 2, 4, 2], "c": [2, 2, 3, 5, 1]})
    r = rel.cronbach_alpha(x)
    assert (r.n, r.n_dropped) == (4, 1)
    f = r.to_frame()
    assert list(f.columns[:5]) == ["alpha", "ci_low", "ci_high", "n", "n_items"]
    assert f["ci_low"].iloc[0] < f["alpha"].iloc[0] < f["ci_high"].iloc[0]


def test_omega_bootstrap_ci_is_seeded(scales):
    x = scales["bfi_neuro"].iloc[:400]
    a = rel.omega_total(x, n_boot=30, seed=1)
    b = rel.omega_total(x, n_boot=30, seed=1)
    assert a == b
    assert a.ci_low < a.omega < a.ci_high
    assert np.isnan(rel.omega_total(x).ci_low)


def test_report_reverses_and_covers_subscales():
    rng = np.random.default_rng(5)
    f = rng.normal(size=400)
    d = pd.DataFrame(
        {f"core10_{i}": np.clip(np.round(2 + f + rng.normal(size=400)), 0, 4) for i in range(1, 11)}
    )
    d[["core10_2", "core10_3"]] = 4 - d[["core10_2", "core10_3"]]  # positively worded
    out = rel.report(d, "core10")
    assert out["scale"].tolist() == ["total"]
    x = d.to_numpy(float)
    x[:, [1, 2]] = 4 - x[:, [1, 2]]
    assert out["alpha"].iloc[0] == pytest.approx(rel.cronbach_alpha(x).alpha, rel=1e-12)
    assert out["alpha"].iloc[0] > 0.8  # would be far lower without reversal
    g = rng.normal(size=200)
    wai = rel.report(
        pd.DataFrame(
            {
                f"wai_sr_{i}": np.clip(np.round(3 + g + rng.normal(size=200)), 1, 5)
                for i in range(1, 13)
            }
        ),
        "wai_sr",
    )
    assert wai["scale"].tolist() == ["goal", "task", "bond", "total"]


def test_bad_inputs():
    with pytest.raises(InstrumentError):
        rel.cronbach_alpha(np.ones((10, 1)))
    with pytest.raises(DataValidationError):
        rel.cronbach_alpha(pd.DataFrame({"a": ["x", "y", "z"], "b": [1, 2, 3]}))
    with pytest.raises(DataValidationError):
        rel.cronbach_alpha(np.array([[1.0, 2.0], [np.nan, 1.0], [2.0, np.nan]]))
    with pytest.raises(ValueError, match="missing"):
        rel.cronbach_alpha(np.ones((5, 2)), missing="everything")
