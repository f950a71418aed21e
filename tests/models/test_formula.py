"""Tests of the lme4 formula parser (expansions checked against lme4's findbars)."""

from __future__ import annotations

import pytest

from engagestats.errors import FormulaError, ModelSpecError
from engagestats.models.formula import parse_formula, quote_name


def _terms(formula: str) -> list[tuple[str, str]]:
    return [(r.lhs, r.group) for r in parse_formula(formula).random]


def test_basic_split():
    p = parse_formula("y ~ x1 * x2 + (1 + time | client) + (1 | therapist)")
    assert p.response == "y"
    assert p.fixed == "x1 * x2"
    assert _terms(p.formula) == [("1 + time", "client"), ("1", "therapist")]


def test_fixed_part_defaults_to_intercept():
    assert parse_formula("y ~ (1 | g)").fixed == "1"
    assert parse_formula("y ~ 0 + x + (1 | g)").fixed == "0 + x"


def test_nested_slash_uses_lme4_names():
    # lme4::findbars(y ~ (1 | therapist/client)) -> client:therapist, therapist
    assert _terms("y ~ (1 | therapist/client)") == [
        ("1", "client:therapist"),
        ("1", "therapist"),
    ]
    # findbars(y ~ (1|site/therapist/client)) -> client:(therapist:site), therapist:site, site
    assert [g for _, g in _terms("y ~ (1 | site/therapist/client)")] == [
        "client:therapist:site",
        "therapist:site",
        "site",
    ]


def test_double_bar_splits_into_uncorrelated_terms():
    assert _terms("y ~ (1 + time || client)") == [("1", "client"), ("0 + time", "client")]
    assert _terms("y ~ (time + x || client)") == [
        ("1", "client"),
        ("0 + time", "client"),
        ("0 + x", "client"),
    ]
    assert _terms("y ~ (0 + time + x || client)") == [("0 + time", "client"), ("0 + x", "client")]


@pytest.mark.parametrize(
    ("lhs", "expected"),
    [("0 + x", "0 + x"), ("-1 + x", "0 + x"), ("x", "1 + x"), ("1", "1"), ("1 + x", "1 + x")],
)
def test_intercept_handling(lhs, expected):
    assert _terms(f"y ~ z + ({lhs} | g)") == [(expected, "g")]


def test_interaction_grouping_factor():
    p = parse_formula("y ~ (1 | client:therapist)")
    assert p.random[0].factors == ("client", "therapist")


@pytest.mark.parametrize(
    ("formula", "pos", "words"),
    [
        ("y x + (1|g)", 0, "missing '~'"),
        ("y ~ x ~ (1|g)", 6, "more than one '~'"),
        ("~ x + (1|g)", 0, "missing response"),
        ("y ~ x", 5, "no random-effects term"),
        ("y ~ x + (1|g", 12, "unbalanced"),
        ("y ~ x + (|g)", 9, "empty left side"),
        ("y ~ x + (1|)", 11, "missing grouping factor"),
        ("y ~ x + 1|g", 8, "must be '(lhs | group)'"),
        ("y ~ x ++ (1|g)", 7, "dangling '+'"),
        ("y ~ x + (1|g-h)", 11, "grouping factor"),
        ("y ~ x + (1|g|h)", 9, "exactly one"),
        ("y ~ x + (1 + |g)", 9, "invalid random-effects expression"),
    ],
)
def test_syntax_errors_name_position(formula, pos, words):
    with pytest.raises(FormulaError, match="at position") as info:
        parse_formula(formula)
    msg = str(info.value)
    assert words in msg
    assert f"at position {pos}:" in msg
    assert formula in msg
    assert isinstance(info.value, ModelSpecError)


def test_invalid_fixed_part():
    with pytest.raises(FormulaError, match="invalid fixed part"):
        parse_formula("y ~ x + * z + (1 | g)")


def test_non_string():
    with pytest.raises(FormulaError, match="must be a string"):
        parse_formula(3)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("name", "quoted"),
    [
        ("phq9_total", "phq9_total"),
        ("a.b_c", "a.b_c"),
        (".a", ".a"),
        ("x-1", "`x-1`"),
        ("my var", "`my var`"),
        (".1a", "`.1a`"),
        ("_x", "`_x`"),
        ("2nd", "`2nd`"),
        ("if", "`if`"),
        ("TRUE", "`TRUE`"),
        ("time:x", "`time:x`"),
    ],
)
def test_quote_name_follows_r_syntactic_names(name, quoted):
    # R: make.names(name) == name (and not a reserved word) decides; the rest need backticks.
    assert quote_name(name) == quoted


@pytest.mark.parametrize("bad", ["", "a`b"])
def test_quote_name_refuses_unquotable_names(bad):
    with pytest.raises(FormulaError, match="cannot be used in a formula"):
        quote_name(bad)
