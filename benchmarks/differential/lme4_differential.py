"""Differential test of ``lmm`` against lme4 over all designs of issue 19.

Fits the 320 seeded designs of ``tests/reference/lme4_diff/make_designs.py`` and
compares the REML log-likelihood with lme4's committed fits (``results.json``,
made by ``fit_lme4.R``). Prints the counts the issue asks for and exits with
status 1 when a fit is reported converged more than 1e-6 below lme4's best
log-likelihood, or is worse than lme4's default fit where lme4 stops short.

Run ``python benchmarks/differential/lme4_differential.py`` (``--json FILE`` to
keep the per-design rows); ``make differential`` does the same.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REF = Path(__file__).resolve().parents[2] / "tests" / "reference" / "lme4_diff"
sys.path.insert(0, str(REF))

from compare import LOGLIK_TOL, compare, load_results, specs_by_id  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="write the per-design rows here")
    args = parser.parse_args(argv)
    results, specs = load_results(), specs_by_id()
    t0 = time.perf_counter()
    rows = [compare(spec, results[key]) for key, spec in specs.items()]
    seconds = time.perf_counter() - t0
    bad = [r for r in rows if r["bad"]]
    short = [r for r in rows if r["lme4_stops_short"]]
    worse = [r for r in short if r["loglik_lme4"] - (r["loglik_ours"] or -1e300) > LOGLIK_TOL]
    errors = [r for r in rows if r["error"]]
    print(f"designs: {len(rows)} ({seconds:.0f} s)")
    print(f"converged=True more than {LOGLIK_TOL} below lme4: {len(bad)}")
    print(f"converged=False: {sum(not r['converged'] for r in rows) - len(errors)}")
    print(f"errors (typed, as in lme4): {len(errors)}")
    print(f"lme4 stops short: {len(short)}; ours below lme4's default fit there: {len(worse)}")
    print(f"ours above lme4's best by > {LOGLIK_TOL}: {sum(r['gap'] < -LOGLIK_TOL for r in rows)}")
    for r in bad:
        print(f"  BAD {r['id']} {r['family']} gap {r['gap']:.3g}")
    for r in errors:
        print(f"  error {r['id']}: {r['error']}")
    if args.json:
        args.json.write_text(json.dumps(rows, default=str))
    return 1 if bad or worse else 0


if __name__ == "__main__":
    sys.exit(main())
