"""Benchmark: scoring 1,000,000 rows of PHQ-9, GAD-7 and WAI-SR items.

Run: ``.venv/bin/python benchmarks/bench_scoring.py``. Prints rows per second for
engagestats.score and the ratio to a straightforward pandas row-wise ``apply``
implementation, which is timed on a 20,000-row subset and extrapolated.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

import engagestats.scoring as sc

N = 1_000_000
N_APPLY = 20_000


def make_items(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    cols = {}
    for name, k, lo, hi in (("phq9", 9, 0, 3), ("gad7", 7, 0, 3), ("wai_sr", 12, 1, 5)):
        x = rng.integers(lo, hi + 1, size=(n, k)).astype(float)
        x[rng.random((n, k)) < 0.01] = np.nan  # 1% skipped answers
        cols |= {f"{name}_{i + 1}": x[:, i] for i in range(k)}
    return pd.DataFrame(cols)


def score_all(d: pd.DataFrame) -> list[pd.DataFrame]:
    return [sc.score(d, name) for name in ("phq9", "gad7", "wai_sr")]


def _phq9_row(r: pd.Series) -> pd.Series:
    v = [r[f"phq9_{i}"] for i in range(1, 10)]
    if any(pd.isna(x) for x in v):
        return pd.Series({"phq9_total": np.nan, "phq9_band": None})
    t = sum(v)
    band = ["minimal", "mild", "moderate", "moderately_severe", "severe"][min(int(t // 5), 4)]
    return pd.Series({"phq9_total": t, "phq9_band": band})


def _gad7_row(r: pd.Series) -> float:
    v = [r[f"gad7_{i}"] for i in range(1, 8)]
    return np.nan if any(pd.isna(x) for x in v) else sum(v)


def _wai_row(r: pd.Series) -> pd.Series:
    keys = {"goal": (4, 6, 8, 11), "task": (1, 2, 10, 12), "bond": (3, 5, 7, 9)}
    out = {}
    for s, items in keys.items():
        v = [r[f"wai_sr_{i}"] for i in items]
        out[s] = np.nan if any(pd.isna(x) for x in v) else sum(v) / 4
    return pd.Series(out)


def apply_all(d: pd.DataFrame) -> None:
    d.apply(_phq9_row, axis=1)
    d.apply(_gad7_row, axis=1)
    d.apply(_wai_row, axis=1)


def main() -> None:
    d = make_items(N)
    score_all(d.iloc[:1000])  # warm-up
    best = np.inf
    for _ in range(3):
        t0 = time.perf_counter()
        score_all(d)
        best = min(best, time.perf_counter() - t0)
    sub = d.iloc[:N_APPLY]
    t0 = time.perf_counter()
    apply_all(sub)
    t_apply = (time.perf_counter() - t0) * N / N_APPLY
    print(f"engagestats.score, PHQ-9 + GAD-7 + WAI-SR, {N:,} rows: {best:.2f} s (best of 3)")
    print(f"  {N / best:,.0f} rows per second (28 items, 1% missing, validation included)")
    print(
        f"pandas row-wise apply: timed on {N_APPLY:,} rows and extrapolated to {N:,}: "
        f"{t_apply:.1f} s"
    )
    print(f"  speed-up: {t_apply / best:,.0f}x")


if __name__ == "__main__":
    main()
