"""The crossed Schur-complement PLS path (models/_crossed.py) against a dense computation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engagestats.models.design import build_design
from engagestats.models.engine import fit, make_pls, profiled_deviance


def _crossed(seed: int, n: int = 600) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    s = rng.integers(0, 80, n)
    r = rng.integers(0, 15, n)
    x = rng.normal(size=n)
    u_s = rng.multivariate_normal([0, 0], [[1.0, 0.2], [0.2, 0.3]], 80)
    y = 1 + 0.5 * x + u_s[s, 0] + u_s[s, 1] * x + rng.normal(0, 0.7, 15)[r] + rng.normal(size=n)
    return pd.DataFrame(
        {
            "y": y,
            "x": x,
            "s": np.char.add("s", s.astype(str)),
            "r": np.char.add("r", r.astype(str)),
            "site": (r % 3).astype(str),
        }
    )


def _dense(design, theta, reml):
    """Profiled deviance from V = Z Lambda Lambda' Z' + I (sigma profiled out)."""
    n, p = design.X.shape
    blocks, lams = [], []
    off = 0
    for t in design.terms:
        k = t.k
        Z = np.zeros((n, t.n_levels * k))
        for j in range(k):
            Z[np.arange(n), t.codes * k + j] = t.Z[:, j]
        tk = theta[off : off + k * (k + 1) // 2]
        off += k * (k + 1) // 2
        lam = np.zeros((k, k))
        rows, cols = np.triu_indices(k)  # column-major lower triangle
        lam[cols, rows] = tk
        blocks.append(Z)
        lams.append(np.kron(np.eye(t.n_levels), lam))
    Z = np.hstack(blocks)
    L = np.zeros((Z.shape[1],) * 2)
    o = 0
    for lam in lams:
        L[o : o + lam.shape[0], o : o + lam.shape[0]] = lam
        o += lam.shape[0]
    V = Z @ L @ L.T @ Z.T + np.eye(n)
    Vi = np.linalg.inv(V)
    A = design.X.T @ Vi @ design.X
    beta = np.linalg.solve(A, design.X.T @ Vi @ design.y)
    r = design.y - design.X @ beta
    q = r @ Vi @ r
    m = n - p if reml else n
    dev = np.linalg.slogdet(V)[1] + m * (1 + np.log(2 * np.pi * q / m))
    if reml:
        dev += np.linalg.slogdet(A)[1]
    return dev, beta


@pytest.mark.parametrize("reml", [True, False])
@pytest.mark.parametrize(
    "formula",
    ["y ~ x + (1 | s) + (1 | r)", "y ~ x + (1 + x | s) + (1 | r) + (1 | site)"],
)
def test_schur_path_equals_dense_and_general(formula, reml):
    des = build_design(formula, _crossed(4))
    pls = make_pls(des, method="crossed")
    gen = make_pls(des, method="general")
    assert pls.solver.path == "crossed-schur"
    theta = np.linspace(0.4, 0.9, sum(t.n_theta for t in des.terms))
    st, sg = pls(theta), gen(theta)
    dev0, beta0 = _dense(des, theta, reml)
    np.testing.assert_allclose(profiled_deviance(st, des.n, des.p, reml=reml), dev0, rtol=1e-10)
    np.testing.assert_allclose(st.beta, beta0, rtol=1e-8)
    np.testing.assert_allclose(st.ldL2, sg.ldL2, rtol=1e-10)
    np.testing.assert_allclose(st.RXinv_RXinvT, sg.RXinv_RXinvT, rtol=1e-8)
    for a, b in zip(pls.solver.modes(theta), gen.solver.modes(theta), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-10)


def test_schur_fit_equals_general_fit():
    des = build_design("y ~ x + (1 | s) + (1 | r)", _crossed(5))
    a, b = fit(des, method="crossed"), fit(des, method="general")
    assert a.optimizer_info["path"] == "crossed-schur"
    np.testing.assert_allclose(a.deviance, b.deviance, rtol=1e-10)
    np.testing.assert_allclose(a.theta, b.theta, atol=1e-5)


def test_auto_uses_the_schur_path_for_large_crossed_designs():
    rng = np.random.default_rng(9)
    n = 4000
    d = pd.DataFrame(
        {
            "s": np.char.add("s", rng.integers(0, 1000, n).astype(str)),
            "r": np.char.add("r", rng.integers(0, 40, n).astype(str)),
            "y": rng.normal(size=n),
        }
    )
    des = build_design("y ~ 1 + (1 | s) + (1 | r)", d)
    assert sum(t.n_levels for t in des.terms) >= 1000
    auto, gen = make_pls(des), make_pls(des, method="general")
    assert auto.solver.path == "crossed-schur"
    small = build_design("y ~ 1 + (1 | s) + (1 | r)", d.iloc[:300])
    assert make_pls(small).solver.path == "general"
    theta = np.array([0.7, 0.4])
    a, g = auto(theta), gen(theta)
    np.testing.assert_allclose([a.ldL2, a.pwrss], [g.ldL2, g.pwrss], rtol=1e-10)
