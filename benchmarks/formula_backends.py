"""Which formula backend speaks R? patsy vs formulaic vs engagestats' own translation.

Correctness: the fixed-effect right-hand side of each of the 26 idioms in
``tests/reference/formula_idioms/idioms.json`` (R's ``model.matrix``: column
names and the first five rows) built by

* ``engagestats``: :func:`engagestats.models.design.build_design` (R grammar
  translated for patsy, R's functions in ``models/_rfuns.py``);
* ``patsy``: ``patsy.dmatrix`` of the R text, with numpy's math functions,
  ``pi``, ``TRUE``/``FALSE`` in the environment (what engagestats did before);
* ``formulaic``: ``formulaic.model_matrix`` of the R text, same environment.

A backend "matches" when the values agree with R (1e-10) whatever the names; names
are counted separately. Speed: median time to build the fixed-effect matrix of
``x + I(x^2) + scale(z) + poly(x, 2) + f`` on 180 and 100 000 rows.

Run: ``.venv/bin/python benchmarks/formula_backends.py``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import patsy

from engagestats.models._colnames import as_categories
from engagestats.models._rfuns import ENV as RENV
from engagestats.models.design import _r_order, lme4_name, r_column_names
from engagestats.models.formula import parse_formula, split_formula

REF = Path(__file__).parents[1] / "tests" / "reference" / "formula_idioms"
FIXTURE = json.loads((REF / "idioms.json").read_text())
ENV = {
    "log": np.log,
    "exp": np.exp,
    "sqrt": np.sqrt,
    "sin": np.sin,
    "cos": np.cos,
    "pi": np.pi,
    "TRUE": True,
    "FALSE": False,
}


def _fixed_rhs(call: str) -> str:
    inner = call[call.index("(") + 1 :]
    depth = 0
    for i, ch in enumerate(inner):
        depth += ch == "("
        depth -= ch == ")"
        if ch == "," and depth == 0:
            inner = inner[:i]
            break
    _, rhs = split_formula(inner)
    terms, depth, start = [], 0, 0
    for i, ch in enumerate(rhs + "+"):
        depth += ch == "("
        depth -= ch == ")"
        if ch == "+" and depth == 0:
            terms.append(rhs[start:i].strip())
            start = i + 1
    keep = [t for t in terms if "|" not in t and not t.startswith("offset(")]
    return " + ".join(keep) or "1"


def _engagestats(rhs: str, data: pd.DataFrame) -> tuple[list[str], np.ndarray]:
    """The fixed part as build_design makes it (R grammar -> patsy; R names and order)."""
    parsed = parse_formula(f"response_ ~ {rhs} + (1 | g_)")
    data, _ = as_categories(data, exclude=set())
    m = patsy.dmatrix(parsed.fixed, data, eval_env=patsy.EvalEnvironment([RENV]))
    order = _r_order(m.design_info, patsy.ModelDesc.from_formula(parsed.fixed))
    names = r_column_names(m.design_info, parsed.r_names)
    return [names[i] for i in order], np.asarray(m)[:, order]


def _patsy(rhs: str, data: pd.DataFrame) -> tuple[list[str], np.ndarray]:
    m = patsy.dmatrix(rhs, data, eval_env=patsy.EvalEnvironment([ENV]))
    order = _r_order(m.design_info, patsy.ModelDesc.from_formula(rhs))  # R's term order
    return [lme4_name(m.design_info.column_names[i]) for i in order], np.asarray(m)[:, order]


def _formulaic(rhs: str, data: pd.DataFrame) -> tuple[list[str], np.ndarray]:
    import formulaic

    m = formulaic.model_matrix(rhs, data, context=ENV)
    return [str(c) for c in m.columns], np.asarray(m, dtype=float)


BACKENDS = {"engagestats": _engagestats, "patsy": _patsy, "formulaic": _formulaic}


def correctness() -> pd.DataFrame:
    rows = []
    for it in FIXTURE["idioms"]:
        block = FIXTURE["data"][it["data_file"]]
        data = pd.read_csv(REF / it["data_file"], dtype=dict.fromkeys(block["factors"], str))
        rhs = _fixed_rhs(it["call"])
        ref = it["result"]["model.matrix(fit)[1:5, ]"]
        row = {"idiom": it["id"], "rhs": rhs}
        for name, fn in BACKENDS.items():
            try:
                cols, X = fn(rhs, data)
            except Exception as exc:  # a backend failing is a result here
                row[name] = f"error: {type(exc).__name__}"
                continue
            values = X.shape[1] == len(ref["columns"]) and np.allclose(
                X[:5], np.asarray(ref["rows"]), rtol=1e-10, atol=1e-10
            )
            named = cols == ref["columns"]
            row[name] = "match" if values and named else ("values only" if values else "WRONG")
        rows.append(row)
    return pd.DataFrame(rows)


def speed(n: int, repeat: int = 7) -> dict[str, float]:
    rng = np.random.default_rng(1)
    data = pd.DataFrame(
        {
            "x": rng.integers(0, 10, n).astype(float),
            "z": rng.normal(size=n),
            "f": rng.choice(["a", "b", "c"], n),
            "g": rng.integers(0, max(n // 10, 3), n).astype(str),
        }
    )
    forms = {
        "engagestats": "x + I(x^2) + scale(z) + poly(x, 2) + f",
        "patsy": "x + I(x**2) + standardize(z, ddof=1) + f",  # no poly() in patsy
        "formulaic": "x + I(x**2) + scale(z) + poly(x, 2) + f",
    }
    out = {}
    for name, fn in BACKENDS.items():
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            fn(forms[name], data)
            times.append(time.perf_counter() - t0)
        out[name] = float(np.median(times))
    return out


def main() -> None:
    table = correctness()
    pd.set_option("display.width", 160)
    print(table.to_string(index=False))
    for name in BACKENDS:
        col = table[name]
        right = int(col.isin(["match", "values only"]).sum())
        print(f"{name:12s} match {int((col == 'match').sum())}/26, values right {right}/26")
    for n in (180, 100_000):
        t = speed(n)
        print(f"n = {n}: " + ", ".join(f"{k} {v * 1e3:.1f} ms" for k, v in t.items()))


if __name__ == "__main__":
    main()
