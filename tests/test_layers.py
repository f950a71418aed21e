"""Imports flow one way through the package's layers, and ``models`` knows nothing of therapy.

The design (``docs/design.md``, "Imports point down this picture only") orders the
package as instruments -> io -> scoring -> change, engagement -> prep -> models -> analyses ->
plots -> report. Every ``import`` and ``from ... import`` in every module under
``src/engagestats`` is parsed with :mod:`ast` (including imports inside functions and under
``if TYPE_CHECKING:``) and resolved to the top-level module or subpackage it names; a module
may import only from its own layer or a lower one.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import engagestats

SRC = Path(engagestats.__file__).resolve().parent

# Layer of every top-level module or subpackage of engagestats (lower number = lower layer).
# A module may import from its own layer or any lower one, never from a higher one. Placing
# the modules the design picture leaves out:
# - errors is the base; study (the Study dataclass) sits under io, which builds Study objects.
# - _validate (the argument and table validators every public function uses, including the
#   one Study-or-DataFrame dispatch) sits on study's layer: it needs only errors and Study.
# - instruments (what a questionnaire is: the Instrument spec, the built-ins, instrument
#   files) needs only errors. It sits under io, whose codebook takes every questionnaire's
#   item count and range from the instruments (the single source), and under scoring (how
#   to score one), which looks instruments up: one direction.
# - datasets (load_sample) reads the packaged sample through io, so it lives on io's layer.
# - simulate generates item answers from Instrument specs and scores them, so it sits above
#   scoring and below the metrics (nothing but analyses.power and the CLI uses it).
# - change (Jacobson-Truax, NHS Talking Therapies, rates), engagement, classify, reliability
#   and _sessions (their shared sessions-table helper) are client-level metrics on scores.
# - analyses.power runs growth_model on simulated studies, inside analyses.
# - __main__ is the command line, on the report layer.
LAYERS: dict[str, int] = {
    "errors": 0,
    "study": 1,
    "_validate": 1,
    "instruments": 2,
    "io": 3,
    "datasets": 3,
    "scoring": 4,
    "simulate": 5,
    "change": 6,
    "engagement": 6,
    "classify": 6,
    "reliability": 6,
    "_sessions": 6,
    "prep": 7,
    "models": 8,
    "analyses": 9,
    "plots": 10,
    "report": 11,
    "__main__": 11,
}

# The package __init__ is the public face: it re-exports from every layer.
EXEMPT = {"__init__"}

# models is a general mixed-model library: besides itself it may import only errors.
MODELS_MAY_IMPORT = {"models", "errors"}

# Known upward imports, as (importing module, imported top-level name) -> reason. Each entry
# is an exception the coordinator has accepted; test_allowed_exceptions_are_still_needed
# removes stale ones. None is needed at present.
ALLOWED: dict[tuple[str, str], str] = {}


def _module_parts(path: Path) -> list[str]:
    """``src/engagestats/io/load.py`` -> ``["io", "load"]``; packages end in ``__init__``."""
    return list(path.relative_to(SRC).with_suffix("").parts)


def imported_modules(source: str, parts: list[str]) -> list[tuple[int, str]]:
    """(line, dotted name inside engagestats) of every engagestats import in ``source``.

    ``parts`` is the module's path inside the package (``["models", "engine"]``), needed to
    resolve relative imports. Names are relative to the package (``"plots.effects"``);
    ``from . import x`` yields ``"<package>.x"``.
    """
    package = parts[:-1]  # a module's package; for __init__ the package itself
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                head, _, rest = alias.name.partition(".")
                if head == "engagestats":
                    found.append((node.lineno, rest or "__init__"))
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                head, _, rest = (node.module or "").partition(".")
                if head != "engagestats":
                    continue
                base = rest.split(".") if rest else []
            else:
                up = node.level - 1
                if up > len(package):
                    raise ValueError(f"relative import above the package in {parts}")
                base = package[: len(package) - up]
                base = base + (node.module.split(".") if node.module else [])
            if node.module is None or not base:  # from . import x, from engagestats import x
                found.extend((node.lineno, ".".join([*base, a.name])) for a in node.names)
            else:
                found.append((node.lineno, ".".join(base)))
    return found


def violations(source: str, parts: list[str]) -> list[str]:
    """Imports in one module that break the layer order or the models rule."""
    own = parts[0]
    if own in EXEMPT:
        return []
    where = "/".join(parts) + ".py"
    out = []
    for line, name in imported_modules(source, parts):
        target = name.split(".")[0]
        if target == own or (own, target) in ALLOWED:
            continue
        if target not in LAYERS:
            out.append(f"{where}:{line} imports {name!r}, which has no layer in LAYERS")
        elif LAYERS[target] > LAYERS[own]:
            out.append(
                f"{where}:{line} (layer {LAYERS[own]}, {own}) imports {name!r} "
                f"(layer {LAYERS[target]}, {target})"
            )
        elif own == "models" and target not in MODELS_MAY_IMPORT:
            out.append(f"{where}:{line}: models may import only errors, not {name!r}")
    return out


def _all_modules() -> list[Path]:
    return sorted(SRC.rglob("*.py"))


def test_every_module_has_a_layer():
    tops = {_module_parts(p)[0] for p in _all_modules()}
    missing = sorted(tops - set(LAYERS) - EXEMPT)
    assert not missing, f"place these modules in LAYERS (tests/test_layers.py): {missing}"
    assert not sorted(set(LAYERS) - tops), "LAYERS names modules that no longer exist"


def test_imports_flow_down_the_layers():
    problems = [
        v for p in _all_modules() for v in violations(p.read_text("utf-8"), _module_parts(p))
    ]
    assert not problems, "imports against the layer order:\n" + "\n".join(problems)


def test_allowed_exceptions_are_still_needed():
    used = set()
    for p in _all_modules():
        parts = _module_parts(p)
        for _, name in imported_modules(p.read_text("utf-8"), parts):
            used.add((parts[0], name.split(".")[0]))
    assert not sorted(set(ALLOWED) - used), "remove stale entries from ALLOWED"


def test_the_checker_sees_relative_absolute_and_nested_imports():
    src = (
        "import numpy\n"
        "from . import design\n"
        "from ..errors import ModelSpecError\n"
        "import engagestats.io.load\n"
        "from engagestats import plots\n"
        "def f():\n"
        "    from ..analyses.growth import growth_model\n"
    )
    assert imported_modules(src, ["models", "engine"]) == [
        (2, "models.design"),
        (3, "errors"),
        (4, "io.load"),
        (5, "plots"),
        (7, "analyses.growth"),
    ]
    assert imported_modules("from . import growth", ["analyses", "__init__"]) == [
        (1, "analyses.growth")
    ]
    assert imported_modules("from .errors import X", ["prep"]) == [(1, "errors")]


@pytest.mark.parametrize(
    ("parts", "source", "expected"),
    [
        # upward imports break the layer order
        (["models", "engine"], "from ..plots import forest\n", "(layer 10, plots)"),
        (["prep"], "from .models import lmm\n", "(layer 8, models)"),
        (["io", "load"], "from ..scoring import score\n", "(layer 4, scoring)"),
        (["instruments", "phq9"], "from ..scoring import score\n", "(layer 4, scoring)"),
        (["scoring", "scorer"], "def f():\n    from ..change import rci\n", "layer 6"),
        # models is general: no therapy layer, even a lower one
        (["models", "design"], "from ..study import Study\n", "models may import only"),
        (["models", "result"], "from ..prep import lag\n", "models may import only"),
        # a module nobody placed
        (["prep"], "from .newthing import x\n", "has no layer"),
    ],
)
def test_the_checker_rejects(parts, source, expected):
    found = violations(source, parts)
    assert len(found) == 1, found
    assert expected in found[0]


@pytest.mark.parametrize(
    ("parts", "source"),
    [
        (["models", "engine"], "from ..errors import ConvergenceWarning\nfrom .design import X\n"),
        (
            ["plots", "effects"],
            "from ..models import LmmResult\nfrom ..change import rates\n",
        ),
        (["instruments", "gas"], "from .spec import GasTScore\n"),
        (["scoring", "scorer"], "from ..instruments import get\n"),
        (["__init__"], "from .report import build_report\n"),
    ],
)
def test_the_checker_accepts(parts, source):
    assert violations(source, parts) == []


def test_design_page_lists_the_same_layers():
    """``docs/design.md``'s layer table names every module on the layer given here."""
    import re

    page = (SRC.parents[1] / "docs" / "design.md").read_text(encoding="utf-8")
    documented: dict[str, int] = {}
    for line in page.splitlines():
        row = re.match(r"\|\s*(\d+)\s*\|([^|]*)\|", line)
        if row:
            for name in re.findall(r"`([A-Za-z_]+)/?`", row.group(2)):
                documented[name] = int(row.group(1))
    assert documented == LAYERS
