"""APA number and table formatting (APA Publication Manual, 7th ed., sections 6.36-6.46)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from engagestats.report import (
    REFERENCE_DIR,
    apa_table,
    format_ci,
    format_df,
    format_number,
    format_p,
)
from engagestats.report._apa import neutralise_formula, shorten


@pytest.mark.parametrize(
    ("p", "text"),
    [
        (4.854730787501635e-35, "< .001"),  # was printed as 4.855e-35
        (0.000999, "< .001"),
        (0.001, ".001"),
        (0.021832, ".022"),
        (0.0495, ".050"),  # three decimals, never rounded to "< .05"
        (0.5, ".500"),
        (0.9994, ".999"),
        (0.99951, "> .999"),
        (1.0, "> .999"),
        (float("nan"), ""),
    ],
)
def test_p_values_in_apa_style(p, text):
    assert format_p(p) == text


def test_bounded_statistics_have_no_leading_zero():
    assert format_number(0.8794, bounded=True) == ".88"
    assert format_number(-0.2433, bounded=True) == "-.24"
    assert format_number(0.01798, bounded=True) == ".018"  # small: two significant digits
    assert format_number(1.0, bounded=True) == "1.00"
    assert format_number(0.5, decimals=3) == "0.500"  # unbounded keeps its zero


def test_numbers_counts_ci_and_df():
    assert format_number(4162.0, integer=True) == "4,162"
    assert format_number(15.43324) == "15.43"
    assert format_number(-0.0136321) == "-0.0136"
    assert format_number(2.85e-7) == "2.85e-07"
    assert format_number(-0.0001, decimals=2) == "0.00"  # never "-0.00"
    assert format_ci(-1.1634, -0.2217, decimals=2) == "[-1.16, -0.22]"
    assert format_ci(0.86, 0.90, decimals=2, bounded=True) == "[.86, .90]"
    assert format_df(313.0432) == "313.0"
    assert format_df(28.0) == "28"
    assert format_df(3329.2) == "3,329.2"


def test_estimate_decimals_follow_the_standard_error():
    """SEs of per-session effects were shown as "SE 0.00"; two significant digits of the SE
    set the decimals of the estimate, SE and CI of the row."""
    t = pd.DataFrame(
        {
            "term": ["(Intercept)", "time:alliance_between"],
            "estimate": [15.43324, -0.01363209],
            "se": [0.2536, 0.0025774],
            "df": [32.47, 230.79],
            "t": [60.857, -5.289],
            "p": [4.85e-35, 2.85e-07],
            "ci_low": [14.91697, -0.0187104],
            "ci_high": [15.94951, -0.0085538],
        }
    )
    out = apa_table(t)
    assert list(out.columns) == ["Term", "Estimate", "SE", "df", "t", "p", "95% CI"]
    assert out.iloc[0].tolist() == [
        "(Intercept)",
        "15.43",
        "0.25",
        "32.5",
        "60.86",
        "< .001",
        "[14.92, 15.95]",
    ]
    assert out.iloc[1].tolist() == [
        "time:alliance_between",
        "-0.0136",
        "0.0026",
        "230.8",
        "-5.29",
        "< .001",
        "[-0.0187, -0.0086]",
    ]


@pytest.mark.parametrize("name", sorted(p.name for p in REFERENCE_DIR.glob("*.csv")))
def test_every_report_table_is_formatted_by_kind(name):
    raw = pd.read_csv(REFERENCE_DIR / name)
    out = apa_table(raw)
    assert len(out) == len(raw)
    assert all(isinstance(v, str) for v in out.to_numpy().ravel())
    assert not any("_" in c for c in out.columns if c.lower() not in raw.columns), out.columns
    if "p" in raw.columns:
        assert out["p"].map(lambda s: re.fullmatch(r"< \.001|> \.999|\.\d{3}|", s)).all()
    if "se" in raw.columns:
        se = out["SE"].loc[raw["se"].gt(0).to_numpy()]
        assert not se.str.fullmatch(r"0\.0*").any(), se.tolist()  # never "0.00"
        assert (se.str.replace(r"[^0-9]", "", regex=True).str.lstrip("0").str.len() >= 2).all()
    if "ci_low" in raw.columns:
        ci = out["95% CI"][raw["ci_low"].notna().to_numpy()]
        assert ci.str.fullmatch(r"\[-?[0-9.,]+, -?[0-9.,]+\]").all(), ci.tolist()
    bounded = {
        "rate": "Rate",
        "alpha": "α",
        "omega_total": "ω (total)",
        "dropout_rate": "Dropout rate",
    }
    for col, head in bounded.items():
        if col in raw.columns:
            shown = out[head]
            assert not shown.str.match(r"-?0\.").any(), shown.tolist()
    if "estimate" in raw.columns:  # shown values round to the full-precision ones
        shown = pd.to_numeric(out["Estimate"].str.replace(",", ""), errors="coerce")
        ok = raw["estimate"].notna() & shown.notna()
        np.testing.assert_allclose(shown[ok], raw["estimate"][ok], rtol=0.05, atol=0.006)


def test_model_table_rows_keep_their_kind():
    raw = pd.read_csv(REFERENCE_DIR / "motivation_model.csv")
    out = apa_table(raw).set_index("Term")
    assert out.loc["observations", "Estimate"] == f"{int(raw['estimate'].iloc[-1]):,}"
    assert out.loc["time", "p"] == "< .001"
    assert out.loc["residual", "SE"] == ""


def test_text_cells_are_shortened_on_one_line():
    t = pd.DataFrame({"level": ["x" * 500, "a\nb"], "interpretation": ["y " * 150, "ok"]})
    out = apa_table(t)
    assert out["Level"][0] == "x" * 59 + "…"
    assert out["Level"][1] == "a b"
    assert out["Interpretation"][0] == ("y " * 150).strip()  # prose keeps up to 400 characters
    assert shorten("abc", 10) == "abc"
    assert apa_table(pd.DataFrame({"c" * 200: [1]})).columns[0] == "C" + "c" * 58 + "…"


@pytest.mark.parametrize("cell", ["=1+2", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_formula_cells_are_neutralised(cell):
    assert neutralise_formula(cell) == "'" + cell
    assert neutralise_formula(-2.0) == -2.0
