"""Seeded random designs for the differential test of ``lmm`` against lme4 (issue 19).

Every design is a small dict (family, seed, formula, sizes, variances, outcome
scale) in ``designs.json``; :func:`make_data` regenerates its data frame
deterministically from the seed, so no data file is committed. ``fit_lme4.R``
reads the CSV files that ``python make_designs.py --csv DIR`` writes and stores
lme4's fits in ``results.json``.

Run from this directory::

    python make_designs.py            # designs.json (320 designs)
    python make_designs.py --csv /tmp/lme4_diff_csv
    Rscript fit_lme4.R /tmp/lme4_diff_csv   # results.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).parent
N_DESIGNS = 320

FAMILIES = {
    "intercept": "y ~ x + (1 | g)",
    "slope": "y ~ t + (1 + t | g)",
    "slope_uncorrelated": "y ~ t + (1 + t || g)",
    "nested": "y ~ x + (1 | a) + (1 | b)",
    "growth": "y ~ t + (1 | therapist) + (1 + t | client)",
    "crossed": "y ~ x + (1 | a) + (1 | b)",
    "crossed_slope": "y ~ t + (1 + t | a) + (1 | b)",
}


def _spec(i: int) -> dict:
    rng = np.random.default_rng(19_000 + i)
    fam = list(FAMILIES)[i % len(FAMILIES)]
    near_singular = bool(rng.random() < 0.3)
    sd = lambda lo, hi: float(np.exp(rng.uniform(np.log(lo), np.log(hi))))  # noqa: E731
    spec = {
        "id": f"d{i:03d}",
        "family": fam,
        "formula": FAMILIES[fam],
        "seed": 19_000 + i,
        "scale": float(10.0 ** rng.integers(-6, 7)),
        "unbalanced": bool(rng.random() < 0.5),
        "near_singular": near_singular,
        "sd_e": 1.0,
        "sd_1": 0.0 if near_singular and rng.random() < 0.5 else sd(0.02, 2.0),
        "sd_2": sd(0.005, 0.5) * (0.02 if near_singular else 1.0),
        "rho": float(rng.uniform(-0.9, 0.9)),
        "sd_3": sd(0.02, 1.5) * (0.01 if near_singular and rng.random() < 0.5 else 1.0),
        "n_outer": int(rng.integers(3, 12)),
        "n_inner": int(rng.integers(2, 9)),
        "n_obs": int(rng.integers(2, 9)),
    }
    return spec


def designs() -> list[dict]:
    """The specifications of all designs, in id order."""
    return [_spec(i) for i in range(N_DESIGNS)]


def make_data(spec: dict) -> pd.DataFrame:
    """The data frame of one design, regenerated from its seed."""
    rng = np.random.default_rng(spec["seed"] + 1_000_000)
    fam = spec["family"]
    n_outer, n_inner, n_obs = spec["n_outer"], spec["n_inner"], spec["n_obs"]
    if fam in ("intercept", "slope", "slope_uncorrelated"):
        n_groups = n_outer * n_inner
        sizes = np.full(n_groups, n_obs)
        if spec["unbalanced"]:
            sizes = rng.integers(1, 2 * n_obs + 1, n_groups)
            sizes[:2] = np.maximum(sizes[:2], 2)
        g = np.repeat(np.arange(n_groups), sizes)
        t = np.concatenate([np.arange(s, dtype=float) for s in sizes])
        x = rng.normal(size=g.size)
        cov = _cov2(spec)
        u = rng.multivariate_normal([0, 0], cov, n_groups)
        y = 1.0 + 0.5 * x - 0.3 * t + u[g, 0] + (u[g, 1] * t if fam != "intercept" else 0)
        d = pd.DataFrame({"g": np.char.add("g", g.astype(str)), "x": x, "t": t})
    elif fam in ("nested", "growth"):
        sizes_in = np.full(n_outer, n_inner)
        if spec["unbalanced"]:
            sizes_in = rng.integers(1, 2 * n_inner + 1, n_outer)
        outer_of = np.repeat(np.arange(n_outer), sizes_in)
        n_cl = outer_of.size
        sizes = np.full(n_cl, n_obs)
        if spec["unbalanced"]:
            sizes = rng.integers(1, 2 * n_obs + 1, n_cl)
        cl = np.repeat(np.arange(n_cl), sizes)
        t = np.concatenate([np.arange(s, dtype=float) for s in sizes])
        x = rng.normal(size=cl.size)
        u = rng.multivariate_normal([0, 0], _cov2(spec), n_cl)
        v = rng.normal(0, spec["sd_3"], n_outer)
        y = 2.0 + 0.5 * x - 0.2 * t + u[cl, 0] + v[outer_of[cl]]
        if fam == "growth":
            y = y + u[cl, 1] * t
            a, b = "therapist", "client"
        else:
            a, b = "a", "b"
        d = pd.DataFrame(
            {
                a: np.char.add("A", outer_of[cl].astype(str)),
                b: np.char.add("B", cl.astype(str)),
                "x": x,
                "t": t,
            }
        )
    else:  # crossed
        na, nb = n_outer + 2, n_inner + 2
        n = na * nb * max(1, n_obs // 2)
        ia = rng.integers(0, na, n)
        ib = rng.integers(0, nb, n)
        ia[:na] = np.arange(na)
        ib[:nb] = np.arange(nb)
        t = rng.integers(0, 6, n).astype(float)
        x = rng.normal(size=n)
        u = rng.multivariate_normal([0, 0], _cov2(spec), na)
        v = rng.normal(0, spec["sd_3"], nb)
        y = 1.0 + 0.5 * x - 0.3 * t + u[ia, 0] + v[ib]
        if fam == "crossed_slope":
            y = y + u[ia, 1] * t
        d = pd.DataFrame(
            {
                "a": np.char.add("A", ia.astype(str)),
                "b": np.char.add("B", ib.astype(str)),
                "x": x,
                "t": t,
            }
        )
    y = y + rng.normal(0, spec["sd_e"], y.size)
    d.insert(0, "y", spec["scale"] * (y + 10.0))
    return d


def _cov2(spec: dict) -> np.ndarray:
    s1, s2, r = spec["sd_1"], spec["sd_2"], spec["rho"]
    return np.array([[s1**2, r * s1 * s2], [r * s1 * s2, s2**2]])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, help="also write one CSV per design here")
    args = parser.parse_args()
    specs = designs()
    (HERE / "designs.json").write_text(json.dumps(specs, indent=0) + "\n")
    if args.csv:
        args.csv.mkdir(parents=True, exist_ok=True)
        for s in specs:
            make_data(s).to_csv(args.csv / f"{s['id']}.csv", index=False, float_format="%.17g")
    print(f"{len(specs)} designs")


if __name__ == "__main__":
    main()
