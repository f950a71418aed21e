"""Benchmark the engagestats LMM engine against statsmodels, mixedlm and lme4.

Simulated three-level growth data: sessions in clients in therapists, with a
correlated random intercept and slope per client and a random intercept per
therapist. The model fitted by every engine is

    y ~ time + x + time:x + (1 + time | client) + (1 | therapist)

Run ``python benchmarks/bench_lmm.py`` (``--sizes 2000 60000`` to choose
sizes, ``--timeout`` for the peers' time box in seconds). Our time covers
``build_design`` + ``fit`` (formula to fitted model); lme4's covers the
``lmer`` call inside R (``system.time``), which also builds its model frame.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

FORMULA = "y ~ time * x + (1 + time | client) + (1 | therapist)"
SESSIONS = 12  # per client
CLIENTS_PER_THERAPIST = 25


def simulate(n_rows: int, seed: int = 2026) -> pd.DataFrame:
    """Three-level growth data with about ``n_rows`` rows."""
    rng = np.random.default_rng(seed)
    n_clients = max(n_rows // SESSIONS, 8)
    n_ther = max(n_clients // CLIENTS_PER_THERAPIST, 4)
    ther = rng.integers(0, n_ther, n_clients)
    ther[:n_ther] = np.arange(n_ther)
    cov = np.array([[1.0, -0.1], [-0.1, 0.09]])
    u = rng.multivariate_normal([0, 0], cov, n_clients)
    v = rng.normal(0, 0.5, n_ther)
    x = rng.normal(size=n_clients)
    client = np.repeat(np.arange(n_clients), SESSIONS)
    time_ = np.tile(np.arange(SESSIONS, dtype=float), n_clients)
    y = (
        10
        - 0.4 * time_
        + 0.5 * x[client]
        + 0.05 * time_ * x[client]
        + u[client, 0]
        + u[client, 1] * time_
        + v[ther[client]]
        + rng.normal(0, 1.0, client.size)
    )
    return pd.DataFrame(
        {
            "y": y,
            "time": time_,
            "x": x[client],
            "client": np.char.add("C", client.astype(str)),
            "therapist": np.char.add("T", ther[client].astype(str)),
        }
    )


def run_ours(data: pd.DataFrame, repeat: int = 5) -> dict:
    from engagestats.models.design import build_design
    from engagestats.models.engine import fit

    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = fit(build_design(FORMULA, data))
        best = min(best, time.perf_counter() - t0)
    tracemalloc.start()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit(build_design(FORMULA, data))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {
        "seconds": best,
        "peak_mb": peak / 2**20,
        "deviance": res.deviance,
        "converged": res.converged,
        "path": res.optimizer_info["path"],
        "n_evals": res.n_evals,
        "beta": res.beta.tolist(),
    }


def _statsmodels(data: pd.DataFrame, out: mp.Queue) -> None:
    import statsmodels.formula.api as smf

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        model = smf.mixedlm(
            "y ~ time * x",
            data,
            groups="therapist",
            re_formula="1",
            vc_formula={"client": "0 + C(client)", "client_time": "0 + C(client):time"},
        )
        res = model.fit(reml=True)
        out.put({"seconds": time.perf_counter() - t0, "llf": float(res.llf)})


def _mixedlm(data: pd.DataFrame, out: mp.Queue) -> None:
    import mixedlm

    t0 = time.perf_counter()
    res = mixedlm.lmer(FORMULA, data)
    seconds = time.perf_counter() - t0
    crit = res.REMLcrit() if callable(res.REMLcrit) else res.REMLcrit
    out.put({"seconds": seconds, "deviance": float(crit)})


def timeboxed(target, data: pd.DataFrame, timeout: float) -> dict:
    """Run ``target(data, queue)`` in a child process with a time limit."""
    ctx = mp.get_context("fork")
    queue = ctx.Queue()
    proc = ctx.Process(target=target, args=(data, queue))
    proc.start()
    proc.join(timeout)
    if proc.is_alive():
        proc.terminate()
        proc.join()
        return {"skipped": f"skipped (> {timeout:.0f} s)"}
    if queue.empty():
        return {"skipped": f"failed (exit code {proc.exitcode})"}
    return queue.get()


def run_lme4(data: pd.DataFrame, timeout: float) -> dict:
    rscript = shutil.which("Rscript")
    if rscript is None:
        return {"skipped": "Rscript not found"}
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "d.csv"
        data.to_csv(csv, index=False)
        code = (
            "suppressMessages(library(lme4)); "
            f"d <- read.csv('{csv}'); "
            "st <- system.time(m <- lmer(" + FORMULA + ", d)); "
            "cat(jsonlite::toJSON(list(seconds=st[['elapsed']], deviance=REMLcrit(m)), digits=NA))"
        )
        try:
            proc = subprocess.run(
                [rscript, "-e", code], capture_output=True, text=True, timeout=timeout, check=True
            )
        except subprocess.TimeoutExpired:
            return {"skipped": f"skipped (> {timeout:.0f} s)"}
        except subprocess.CalledProcessError as exc:
            return {"skipped": f"failed: {exc.stderr.strip()[-200:]}"}
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    return {
        "seconds": float(np.ravel(res["seconds"])[0]),
        "deviance": float(np.ravel(res["deviance"])[0]),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2_000, 60_000, 600_000])
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--peers", nargs="+", default=["statsmodels", "mixedlm", "lme4"])
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs per peer up to 60k rows (minimum kept)"
    )
    args = parser.parse_args(argv)
    try:
        import mixedlm  # noqa: F401

        have_mixedlm = True
    except ImportError:
        have_mixedlm = False
    rows = []
    for size in args.sizes:
        data = simulate(size)
        ours = run_ours(data)
        row = {
            "rows": len(data),
            "clients": data["client"].nunique(),
            "therapists": data["therapist"].nunique(),
            "ours_s": ours["seconds"],
            "ours_peak_mb": ours["peak_mb"],
            "ours_deviance": ours["deviance"],
            "ours_converged": ours["converged"],
            "ours_n_evals": ours["n_evals"],
        }
        peers = {}
        runners = {
            "statsmodels": lambda data=data: timeboxed(_statsmodels, data, args.timeout),
            "mixedlm": lambda data=data: (
                timeboxed(_mixedlm, data, args.timeout)
                if have_mixedlm
                else {"skipped": "not installed"}
            ),
            "lme4": lambda data=data: run_lme4(data, args.timeout),
        }
        for name in args.peers:
            runs = [runners[name]() for _ in range(args.repeat if size <= 60_000 else 1)]
            timed = [r for r in runs if "seconds" in r]
            peers[name] = min(timed, key=lambda r: r["seconds"]) if timed else runs[0]
        for name, res in peers.items():
            if "seconds" in res:
                row[f"{name}_s"] = res["seconds"]
                row[f"{name}_ratio"] = res["seconds"] / ours["seconds"]
                if "deviance" in res:
                    row[f"{name}_deviance"] = res["deviance"]
            else:
                row[f"{name}_s"] = res["skipped"]
        rows.append(row)
        print(json.dumps(row, default=str), flush=True)
    table = pd.DataFrame(rows)
    with pd.option_context("display.width", 200, "display.max_columns", 30):
        print(table.to_string(index=False))


if __name__ == "__main__":
    sys.exit(main())
