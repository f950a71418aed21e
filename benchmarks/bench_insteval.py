"""InstEval (73,421 ratings, crossed students x lecturers): the general (crossed) path vs lme4.

Models (``tests/reference/speed/TIMINGS.md``):

- ``insteval_service``: ``y ~ service + (1 | s) + (1 | d) + (1 | dept:service)``
- ``insteval_service_dept``: ``y ~ service * dept + (1 | s) + (1 | d)``

The data are not committed: ``Rscript tests/reference/speed/export_insteval.R`` writes them
(once, to ``--csv``). Ours: ``build_design`` + engine ``fit`` (formula to fitted model), and
with ``--satterthwaite`` the Satterthwaite df (``fit.fixed``) separately. lme4: the best
elapsed seconds recorded in ``tests/reference/speed/timings.json`` (same machine kind), or
with ``--live`` ``system.time(lmer(...))`` run now, right after ours, on the same CSV.
The ratio is ours / lme4 (below 1: faster). Prints the deviance difference to lme4's.

Run ``OPENBLAS_NUM_THREADS=1 python benchmarks/bench_insteval.py [--live] [--satterthwaite]``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import time
import warnings
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
TIMINGS = ROOT / "tests" / "reference" / "speed" / "timings.json"
MODELS = {
    "insteval_service": "y ~ service + (1 | s) + (1 | d) + (1 | dept:service)",
    "insteval_service_dept": "y ~ service * dept + (1 | s) + (1 | d)",
}


def load(csv: Path) -> pd.DataFrame:
    if not csv.exists():
        rscript = shutil.which("Rscript")
        if rscript is None:
            raise SystemExit("InstEval CSV missing and Rscript not found")
        script = ROOT / "tests" / "reference" / "speed" / "export_insteval.R"
        subprocess.run([rscript, str(script), str(csv)], check=True)
    d = pd.read_csv(csv, dtype=str)
    d["y"] = d["y"].astype(float)
    return d


def run_ours(d: pd.DataFrame, formula: str, satterthwaite: bool) -> dict:
    from engagestats.models import LmmResult
    from engagestats.models.design import build_design
    from engagestats.models.engine import fit

    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = fit(build_design(formula, d))
    out = {
        "seconds": time.perf_counter() - t0,
        "n_evals": res.n_evals,
        "deviance": res.deviance,
        "path": res.optimizer_info["path"],
        "converged": res.converged,
    }
    if satterthwaite:
        t1 = time.perf_counter()
        LmmResult(res).fixed  # noqa: B018 - computes the Satterthwaite df
        out["satterthwaite_seconds"] = time.perf_counter() - t1
    return out


def run_lme4_live(csv: Path, formula: str) -> dict:
    rscript = shutil.which("Rscript")
    if rscript is None:
        return {"skipped": "Rscript not found"}
    code = (
        "suppressMessages(library(lme4)); "
        f"d <- read.csv('{csv}', colClasses = c(rep('factor', 6), 'numeric')); "
        f"st <- system.time(m <- lmer({formula}, d)); "
        "cat(jsonlite::toJSON(list(seconds = st[['elapsed']], deviance = REMLcrit(m), "
        "n_evals = m@optinfo$feval), digits = NA, auto_unbox = TRUE))"
    )
    out = subprocess.run([rscript, "-e", code], capture_output=True, text=True, timeout=1800)
    if out.returncode != 0:
        return {"skipped": out.stderr.strip()[-300:]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--csv", type=Path, default=Path("/tmp/insteval.csv"))
    ap.add_argument("--live", action="store_true", help="time lme4 now instead of the record")
    ap.add_argument("--satterthwaite", action="store_true")
    ap.add_argument("--models", nargs="*", default=list(MODELS))
    args = ap.parse_args()
    d = load(args.csv)
    recorded = json.loads(TIMINGS.read_text())["timings"]
    rows = []
    for name in args.models:
        formula = MODELS[name]
        ours = run_ours(d, formula, args.satterthwaite)
        if args.live:
            lme4 = run_lme4_live(args.csv, formula)
        else:
            rec = recorded[name]
            lme4 = {"seconds": rec["best elapsed seconds"], "deviance": rec["REMLcrit(fit)"]}
        row = {
            "model": name,
            "ours_s": ours["seconds"],
            "lme4_s": lme4.get("seconds"),
            "ratio": ours["seconds"] / lme4["seconds"] if "seconds" in lme4 else float("nan"),
            "ours_evals": ours["n_evals"],
            "lme4_evals": lme4.get("n_evals"),
            "deviance_minus_lme4": ours["deviance"] - lme4["deviance"]
            if "deviance" in lme4
            else None,
            "converged": ours["converged"],
            "satterthwaite_s": ours.get("satterthwaite_seconds"),
        }
        rows.append(row)
        print(row, flush=True)
    print(pd.DataFrame(rows).to_string(index=False))
    print("lme4 timings:", "live" if args.live else f"recorded ({TIMINGS.name})")
    print("OPENBLAS_NUM_THREADS =", os.environ.get("OPENBLAS_NUM_THREADS", "(unset)"))


if __name__ == "__main__":
    main()
