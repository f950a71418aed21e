"""Benchmark ``lmm(..., correlation="ar1" | "car1")`` against ``nlme::lme``.

The datasets and models of ``tests/reference/nlme_ar1`` (Ovary corAR1, BodyWeight corCAR1,
sleepstudy corAR1, the sample's PHQ-9 with clients in therapists). Ours: ``lmm(...)`` from
formula to fitted model; nlme: ``system.time(lme(...))`` in one R session, with nlme's
default control (``lmeControl(returnObject = TRUE)`` so that a non-converging default
still returns). Best of ``--repeat`` runs each; the ratio is ours / nlme (below 1: faster).

Run ``python benchmarks/bench_ar1.py`` (``--repeat 3``). Set ``OPENBLAS_NUM_THREADS=1`` on a
loaded machine: scipy's L-BFGS-B calls BLAS, whose idle threads then cost several ms a call.
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

REF = Path(__file__).resolve().parents[1] / "tests" / "reference" / "nlme_ar1"
DTYPES = {"Mare": str, "Rat": str, "Diet": str, "Subject": str}
OV = "sin(2*pi*Time) + cos(2*pi*Time)"
# id: (csv, lmm formula, lmm keywords, nlme call on data frame `d`)
CASES = {
    "ovary_ar1": (
        "ovary.csv",
        f"follicles ~ {OV} + (1 | Mare)",
        {"correlation": "ar1"},
        f"lme(follicles ~ {OV}, d, random = ~ 1 | Mare, correlation = corAR1(form = ~ 1 | Mare))",
    ),
    "bodyweight_slope_car1": (
        "bodyweight.csv",
        "weight ~ Time * Diet + (Time | Rat)",
        {"correlation": "car1", "time": "Time"},
        "lme(weight ~ Time * Diet, d, random = ~ Time | Rat, "
        "correlation = corCAR1(form = ~ Time | Rat))",
    ),
    "bodyweight_int_car1": (
        "bodyweight.csv",
        "weight ~ Time * Diet + (1 | Rat)",
        {"correlation": "car1", "time": "Time"},
        "lme(weight ~ Time * Diet, d, random = ~ 1 | Rat, "
        "correlation = corCAR1(form = ~ Time | Rat))",
    ),
    "sleepstudy_ar1": (
        "sleepstudy.csv",
        "Reaction ~ Days + (Days | Subject)",
        {"correlation": "ar1"},
        "lme(Reaction ~ Days, d, random = ~ Days | Subject, "
        "correlation = corAR1(form = ~ 1 | Subject))",
    ),
    "sample_nested_ar1": (
        "sample_phq9.csv",
        "phq9 ~ session + (1 | therapist_id/client_id)",
        {"correlation": "ar1", "time": "session"},
        "lme(phq9 ~ session, d, random = ~ 1 | therapist_id/client_id, "
        "correlation = corAR1(form = ~ session | therapist_id/client_id))",
    ),
}


def run_ours(csv: str, formula: str, kw: dict, repeat: int) -> dict:
    from engagestats.models import lmm

    d = pd.read_csv(REF / csv, dtype=DTYPES)
    best, fit = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = lmm(formula, d, **kw)
        best = min(best, time.perf_counter() - t0)
    assert fit is not None
    return {"seconds": best, "loglik": fit.loglik, "phi": fit.phi, "n_evals": fit._fit.n_evals}


def run_nlme(csv: str, call: str, repeat: int) -> dict:
    rscript = shutil.which("Rscript")
    if rscript is None:
        return {"skipped": "Rscript not found"}
    code = f"""
suppressPackageStartupMessages(library(nlme))
d <- read.csv("{REF / csv}", stringsAsFactors = TRUE)
for (v in intersect(names(d), c("Mare", "Rat", "Diet", "Subject"))) d[[v]] <- factor(d[[v]])
best <- Inf
for (i in seq_len({repeat})) {{
  st <- system.time(m <- suppressWarnings({call}))
  best <- min(best, st[["elapsed"]])
}}
cs <- m$modelStruct$corStruct
cat(jsonlite::toJSON(list(seconds = best, loglik = as.numeric(logLik(m)),
    phi = unname(coef(cs, unconstrained = FALSE))), digits = NA, auto_unbox = TRUE))
"""
    code = code.replace(", d, random", ", d, control = lmeControl(returnObject = TRUE), random")
    out = subprocess.run([rscript, "-e", code], capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        return {"skipped": out.stderr.strip()[-300:]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args()
    rows = []
    for name, (csv, formula, kw, call) in CASES.items():
        ours = run_ours(csv, formula, kw, args.repeat)
        nlme = run_nlme(csv, call, args.repeat)
        ratio = ours["seconds"] / nlme["seconds"] if "seconds" in nlme else float("nan")
        rows.append(
            {
                "case": name,
                "ours_s": ours["seconds"],
                "nlme_s": nlme.get("seconds"),
                "ratio": ratio,
                "loglik_ours_minus_nlme": ours["loglik"] - nlme["loglik"]
                if "loglik" in nlme
                else None,
                "phi_ours": ours["phi"],
                "phi_nlme": nlme.get("phi"),
            }
        )
        print(
            f"{name:24s} ours {ours['seconds']:7.3f}s  "
            f"nlme {nlme.get('seconds', float('nan')):7.3f}s"
            f"  ratio {ratio:5.2f}  dlogLik {rows[-1]['loglik_ours_minus_nlme']}",
            flush=True,
        )
    table = pd.DataFrame(rows)
    print(table.to_string(index=False))
    print("OPENBLAS_NUM_THREADS =", os.environ.get("OPENBLAS_NUM_THREADS", "(unset)"))
    if args.json:
        args.json.write_text(table.to_json(orient="records", indent=2))


if __name__ == "__main__":
    main()
