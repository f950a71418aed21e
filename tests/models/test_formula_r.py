"""R's formula language on the right-hand side: grammar, functions, names, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engagestats.errors import FormulaError, ModelSpecError
from engagestats.models import lmm
from engagestats.models.design import build_design, eval_r
from engagestats.models.formula import parse_formula, split_formula
from engagestats.models.newdata import new_fixed, new_offset


@pytest.fixture
def data():
    rng = np.random.default_rng(7)
    n = 120
    return pd.DataFrame(
        {
            "y": rng.normal(size=n),
            "t": np.tile(np.arange(1.0, 7.0), n // 6),
            "k": np.tile([1, 2, 10], n // 3),
            "f": rng.choice(["b", "a", "c"], n),
            "g": np.repeat([f"g{i}" for i in range(20)], 6),
            "my col": rng.normal(size=n),
            "log": rng.normal(size=n),
        }
    )


def test_power_is_not_xor(data):
    """``^`` (and R's alias ``**``) inside I() is a power; Python would XOR integers."""
    d = data.assign(t=data["t"].astype(int))
    for f in ["y ~ I(t^2) + (1 | g)", "y ~ I(t**2) + (1 | g)"]:
        des = build_design(f, d)
        assert des.fixed_names == ("(Intercept)", "I(t^2)")
        np.testing.assert_array_equal(des.X[:, 1], d["t"] ** 2)
    assert not np.array_equal(d["t"] ** 2, d["t"] ^ 2)  # the old, silently wrong result


def test_r_precedence_of_logical_operators(data):
    des = build_design("y ~ I(t > 1 & t < 4) + I(-t^2) + (1 | g)", data)
    assert des.fixed_names == ("(Intercept)", "I(t > 1 & t < 4)TRUE", "I(-t^2)")
    np.testing.assert_array_equal(des.X[:, 1], (data["t"] > 1) & (data["t"] < 4))
    np.testing.assert_array_equal(des.X[:, 2], -(data["t"] ** 2))  # -t^2 = -(t^2) in R


def test_unknown_function_names_the_function(data):
    with pytest.raises(ModelSpecError, match=r"function ns\(\) .* not supported"):
        build_design("y ~ ns(t, 3) + (1 | g)", data)
    with pytest.raises(ModelSpecError, match=r"ordered\(\) .*contr.poly"):
        build_design("y ~ ordered(f) + (1 | g)", data)
    with pytest.raises(ModelSpecError, match=r"column .tt. .* not in the data; did you mean .t."):
        build_design("y ~ log(tt) + (1 | g)", data)


def test_backtick_names_and_column_named_like_a_function(data):
    d = data.assign(**{"client id": data["g"]})
    des = build_design("y ~ `my col` + log + log(t) + (1 | `client id`)", d)
    assert des.fixed_names == ("(Intercept)", "`my col`", "log", "log(t)")
    np.testing.assert_array_equal(des.X[:, 1], d["my col"])
    np.testing.assert_array_equal(des.X[:, 2], d["log"])
    assert des.terms[0].group == "client id"


def test_factor_sorts_numbers_numerically_and_checks_new_levels(data):
    des = build_design("y ~ factor(k) + (1 | g)", data)
    assert des.fixed_names == ("(Intercept)", "factor(k)2", "factor(k)10")  # not "10" < "2"
    np.testing.assert_array_equal(
        new_fixed(des, pd.DataFrame({"k": [10, 1]}))[:, 1:], [[0, 1], [0, 0]]
    )
    with pytest.raises(ModelSpecError, match="not levels seen in the fitted data"):
        new_fixed(des, pd.DataFrame({"k": [3]}))


def test_string_levels_sorted_categorical_order_kept_relevel(data):
    assert build_design("y ~ f + (1 | g)", data).fixed_names == ("(Intercept)", "fb", "fc")
    d = data.assign(f=pd.Categorical(data["f"], categories=["c", "b", "a"]))
    assert build_design("y ~ f + (1 | g)", d).fixed_names == ("(Intercept)", "fb", "fa")
    des = build_design('y ~ relevel(f, ref = "c") + (1 | g)', data)
    assert des.fixed_names == ("(Intercept)", 'relevel(f, ref = "c")a', 'relevel(f, ref = "c")b')
    np.testing.assert_array_equal(des.X[:, 1], data["f"] == "a")
    with pytest.raises(ModelSpecError, match="ref = 'z' is not a level"):
        build_design('y ~ relevel(f, ref = "z") + (1 | g)', data)


def test_scale_variants_and_new_data(data):
    x = data["t"]
    rms = np.sqrt((x**2).sum() / (len(x) - 1))  # R: scale without centring divides by this
    des = build_design("y ~ scale(t, center = FALSE) + (1 | g)", data)
    np.testing.assert_allclose(des.X[:, 1], x / rms, rtol=1e-14)
    des = build_design("y ~ scale(t) + (1 | g)", data)
    np.testing.assert_allclose(des.X[:, 1], (x - x.mean()) / x.std(ddof=1), rtol=1e-14)
    new = new_fixed(des, pd.DataFrame({"t": [x.mean()]}))
    np.testing.assert_allclose(new[0, 1], 0.0, atol=1e-14)


def test_poly_errors_and_trig_with_pi(data):
    with pytest.raises(ModelSpecError, match="must be less than the number of unique points"):
        build_design("y ~ poly(k, 3) + (1 | g)", data)
    des = build_design("y ~ sin(2*pi*t/6) + (1 | g)", data)
    assert des.fixed_names == ("(Intercept)", "sin(2 * pi * t/6)")
    np.testing.assert_allclose(des.X[:, 1], np.sin(2 * np.pi * data["t"] / 6), rtol=1e-14)


def test_offset_parsed_refused_by_lmm_evaluated_for_glmm(data):
    p = parse_formula("y ~ t + offset(log(t)) + (1 | g)")
    assert p.offsets == ("log(t)",)
    assert p.fixed == "t"
    with pytest.raises(ModelSpecError, match="this model takes no offset"):
        lmm("y ~ t + offset(log(t)) + (1 | g)", data)
    des = build_design("y ~ t + offset(log(t)) + (1 | g)", data, allow_offset=True)
    np.testing.assert_allclose(des.spec.offset, np.log(data["t"]))
    np.testing.assert_allclose(new_offset(des, pd.DataFrame({"t": [np.e]})), [1.0])


def test_split_formula_for_the_response_parsers():
    assert split_formula("cbind(k, n - k) ~ x + (1 | g)") == ("cbind(k, n - k)", "x + (1 | g)")
    assert split_formula('y ~ relevel(f, ref = "~") + (1|g)')[1] == 'relevel(f, ref = "~") + (1|g)'
    with pytest.raises(FormulaError, match="missing right-hand side"):
        split_formula("y ~ ")
    np.testing.assert_array_equal(eval_r("n - k", pd.DataFrame({"k": [1, 2], "n": [5, 5]})), [4, 3])


def test_response_expression_and_cbind_message(data):
    des = build_design("log(t) ~ 1 + (1 | g)", data)
    np.testing.assert_allclose(des.y, np.log(data["t"]))
    with pytest.raises(ModelSpecError, match=r"cbind\(\).*glmm\(family='binomial'\)"):
        build_design("cbind(t, k) ~ 1 + (1 | g)", data)
