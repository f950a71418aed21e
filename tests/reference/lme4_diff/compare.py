"""Fit the designs of ``make_designs.py`` with ``engagestats`` and compare with lme4.

Internal to the differential test (issue 19): ``tests/models/test_lme4_differential.py``
runs a subset in CI, ``benchmarks/differential/lme4_differential.py`` the full set.
The reference optimum of a design is the best REML log-likelihood lme4 reached
(default ``lmer`` fit or the tight bobyqa refits of ``fit_lme4.R``).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
from make_designs import designs, make_data

HERE = Path(__file__).parent
#: A fit reported converged may not be more than this below lme4's REML log-likelihood.
LOGLIK_TOL = 1e-6


def load_results() -> dict:
    """lme4's fits (``results.json``) by design id."""
    return json.loads((HERE / "results.json").read_text())


def specs_by_id() -> dict:
    return {s["id"]: s for s in designs()}


def fit_ours(spec: dict) -> dict:
    """Our REML fit of one design: logLik, theta, converged, warnings or the error."""
    from engagestats.models.design import build_design
    from engagestats.models.engine import fit

    data = make_data(spec)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            res = fit(build_design(spec["formula"], data))
        except Exception as exc:  # recorded, the caller decides
            return {"error": f"{type(exc).__name__}: {exc}", "converged": False}
    se = np.sqrt(np.diag(res.vcov_beta))
    return {
        "logLik": -0.5 * res.deviance,
        "theta": res.theta.tolist(),
        "beta": res.beta.tolist(),
        "se": se.tolist(),
        "sigma": res.sigma,
        "converged": bool(res.converged),
        "warnings": [f"{w.category.__name__}: {w.message}" for w in caught],
        "n_evals": res.n_evals,
    }


def compare(spec: dict, ref: dict) -> dict:
    """Our fit against lme4's; ``bad`` marks converged=True at a worse optimum."""
    ours = fit_ours(spec)
    ref = {k: (v if isinstance(v, dict) else {}) for k, v in ref.items()}
    lls = [r["logLik"] for r in (ref["default"], ref["tight"]) if r.get("logLik") is not None]
    ll_ref = max(lls) if lls else float("nan")
    ll_def = ref["default"].get("logLik", float("nan"))
    gap = ll_ref - ours.get("logLik", -np.inf)
    return {
        "id": spec["id"],
        "family": spec["family"],
        "scale": spec["scale"],
        "converged": ours["converged"],
        "error": ours.get("error"),
        "loglik_ours": ours.get("logLik"),
        "loglik_lme4": ll_def,
        "loglik_lme4_best": ll_ref,
        "gap": float(gap),
        "lme4_stops_short": bool(ll_ref > ll_def + LOGLIK_TOL),
        "bad": bool(ours["converged"] and gap > LOGLIK_TOL),
        "theta_ours": ours.get("theta"),
        "theta_lme4": np.atleast_1d(ref["default"].get("theta", [])).tolist(),
        "beta_ours": ours.get("beta"),
        "beta_lme4": np.atleast_1d(ref["default"].get("fixef", [])).tolist(),
        "se_ours": ours.get("se"),
        "se_lme4": np.atleast_1d(ref["default"].get("se", [])).tolist(),
        "lme4_singular": bool(ref["default"].get("singular", False)),
        "warnings": ours.get("warnings", []),
    }
