"""The documentation site: it builds with ``mkdocs build --strict`` and cannot drift from the code.

* Every instrument in ``instruments.available()`` (and the SRQ example) has a page whose
  scoring key, reversed items, range, cut-off, reliable change and bands match the definition.
* Every Python block of the Getting started page runs.
* The whole site, notebooks executed, builds with warnings as errors.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import engagestats as es
from engagestats import instruments
from engagestats.instruments import Instrument

ROOT = Path(__file__).parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import mkdocs_hooks  # noqa: E402  (scripts/ is not a package)

DOCS = ROOT / "docs"
MKDOCS_YML = ROOT / "mkdocs.yml"
INSTRUMENT_DOCS = DOCS / "instruments"

# Page file for each instrument name; the example SRQ is not in the registry.
PAGES = {name: INSTRUMENT_DOCS / f"{name}.md" for name in instruments.available()}
PAGES["srq"] = INSTRUMENT_DOCS / "srq-example.md"
DEFINITIONS = {name: instruments.get(name) for name in instruments.available()}
DEFINITIONS["srq"] = instruments.example_srq()

# Public modules that get an API page (the top level is api/engagestats.md).
API_MODULES = [
    "io",
    "scoring",
    "instruments",
    "reliability",
    "change",
    "engagement",
    "classify",
    "prep",
    "models",
    "analyses",
    "plots",
    "simulate",
    "analyses.power",
    "analyses.monitoring",
    "analyses.cross_lagged",
    "datasets",
]


# --------------------------------------------------------------------------- page parsing
def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def _tables(text: str) -> list[tuple[list[str], list[list[str]]]]:
    """Every Markdown table of ``text`` as (header cells, body rows)."""
    out, lines, i = [], text.splitlines(), 0
    while i < len(lines) - 1:
        if lines[i].lstrip().startswith("|") and re.match(r"^\s*\|[\s:|-]+\|\s*$", lines[i + 1]):
            header, body, i = _cells(lines[i]), [], i + 2
            while i < len(lines) and lines[i].lstrip().startswith("|"):
                body.append(_cells(lines[i]))
                i += 1
            out.append((header, body))
        else:
            i += 1
    return out


def _number(text: str) -> float:
    return float(text.replace("−", "-").replace("+", ""))


def _numbers(text: str) -> list[float]:
    return [_number(m) for m in re.findall(r"[−+-]?\d+(?:\.\d+)?", text)]


def _code_name(cell: str) -> str | None:
    m = re.fullmatch(r"`([a-z0-9_]+)`", cell)
    return m.group(1) if m else None


def _facts(text: str) -> dict[str, str]:
    for header, body in _tables(text):
        if header[0] == "property":
            return {row[0]: row[1] for row in body}
    raise AssertionError("no 'property | value' table")


def _key_table(text: str) -> list[list[str]]:
    for header, body in _tables(text):
        if header[:4] == ["score", "items", "aggregate", "min. answered"]:
            return body
    raise AssertionError("no 'score | items | aggregate | min. answered | range' table")


def _band_tables(text: str) -> dict[str | None, list[list[str]]]:
    out = {}
    for header, body in _tables(text):
        if header[0].startswith("band"):
            m = re.search(r"set `([a-z0-9_]+)`", header[0])
            out[m.group(1) if m else None] = body
    return out


def _item_numbers(inst: Instrument, names) -> list[int]:
    return [inst.items.index(n) + 1 for n in names]


# ------------------------------------------------------------------------ instrument pages
def test_every_instrument_page_exists_and_is_in_the_nav():
    nav = MKDOCS_YML.read_text(encoding="utf-8")
    for name, page in PAGES.items():
        assert page.is_file(), f"instrument {name!r} has no docs page {page.relative_to(ROOT)}"
        assert f"instruments/{page.name}" in nav, f"{page.name} is not in the mkdocs.yml nav"
    extra = {p.name for p in INSTRUMENT_DOCS.glob("*.md")} - {p.name for p in PAGES.values()}
    assert extra == {"index.md"}, f"pages for unknown instruments: {sorted(extra - {'index.md'})}"


@pytest.mark.parametrize("name", sorted(PAGES))
def test_instrument_page_matches_definition(name):
    inst, text = DEFINITIONS[name], PAGES[name].read_text(encoding="utf-8")
    facts = _facts(text)

    lo, hi = inst.response_range
    assert _numbers(facts["Response range"])[:2] == [lo, hi]
    reversed_items = _item_numbers(inst, inst.reverse)
    if reversed_items:
        assert _numbers(facts["Reversed items"]) == reversed_items
    else:
        assert facts["Reversed items"] == "none"
    better = inst.direction == "higher_is_better"
    assert facts["Direction"].startswith("higher is better" if better else "higher is worse")

    cutoff = facts["Cut-off (caseness)"]
    if inst.cutoff is None:
        assert cutoff == "none"
    else:
        assert cutoff.startswith("≤" if better else "≥"), cutoff
        assert _numbers(cutoff) == [inst.cutoff]
    rc = facts["Reliable change"]
    assert rc == "none" if inst.reliable_change is None else _numbers(rc) == [inst.reliable_change]

    rows = {_code_name(r[0]): r for r in _key_table(text)}
    assert set(rows) == set(inst.score_names), "scores in the key table differ from the code"
    for sub, items in inst.subscales.items():
        _, item_cell, aggregate, min_answered, _ = rows[sub]
        assert _numbers(item_cell) == _item_numbers(inst, items), f"items of {sub!r}"
        assert aggregate == inst.aggregate[sub], f"aggregate of {sub!r}"
        assert _numbers(min_answered) == [inst.min_required[sub]], f"min. answered of {sub!r}"

    documented = _band_tables(text)
    expected = inst.bands or {}
    if len(expected) == 1:
        documented = {next(iter(expected)): documented.pop(None, None), **documented}
    assert set(documented) == set(expected), f"band sets {set(documented)} vs {set(expected)}"
    for set_name, bands in expected.items():
        body = documented[set_name]
        assert [_code_name(r[0]) for r in body] == list(bands.labels), f"band labels {set_name}"
        assert [_numbers(r[1])[0] for r in body] == list(bands.cuts), f"band edges {set_name}"


def test_example_srq_page_says_it_is_an_example():
    text = PAGES["srq"].read_text(encoding="utf-8")
    assert '!!! warning "An example, not a published instrument"' in text
    assert "srq" not in instruments.available()


def test_page_parser_catches_a_wrong_item_list():
    """The key-table check can fail: a page with a moved item does not match."""
    inst = DEFINITIONS["wai_sr"]
    text = PAGES["wai_sr"].read_text(encoding="utf-8").replace("| 3, 5, 7, 9 |", "| 3, 5, 7, 8 |")
    rows = {_code_name(r[0]): r for r in _key_table(text)}
    assert _numbers(rows["bond"][1]) != _item_numbers(inst, inst.subscales["bond"])


# ----------------------------------------------------------------------- other fast checks
def test_every_api_module_has_a_page():
    nav = MKDOCS_YML.read_text(encoding="utf-8")
    for module in ["engagestats", *API_MODULES]:
        name = module.replace(".", "_")
        page = DOCS / "api" / f"{name}.md"
        target = module if module == "engagestats" else f"engagestats.{module}"
        assert page.is_file(), f"no API page for {target}"
        assert f"::: {target}\n" in page.read_text(encoding="utf-8")
        assert f"api/{name}.md" in nav


def test_every_notebook_is_in_the_nav():
    nav = MKDOCS_YML.read_text(encoding="utf-8")
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    assert notebooks
    for nb in notebooks:
        assert f"notebooks/{nb.name}" in nav, f"{nb.name} is not in the mkdocs.yml nav"


def test_hook_renders_sphinx_roles():
    page = (
        "<p>:math:<code>x_{ti} = \\bar x_i</code> and :func:<code>load_study</code>, "
        ":class:<code>~engagestats.errors.ModelSpecError</code>.</p>"
    )
    out = mkdocs_hooks.rewrite(page, "engagestats.io")
    assert '<span class="arithmatex">\\(x_{ti} = \\bar x_i\\)</span>' in out
    assert (
        '<autoref optional identifier="engagestats.io.load_study" '
        'slug="engagestats.load_study"><code>load_study</code></autoref>'
    ) in out
    assert 'identifier="engagestats.errors.ModelSpecError"' in out
    assert "<code>ModelSpecError</code></autoref>" in out
    assert ":func:" not in out
    assert ":math:" not in out
    assert mkdocs_hooks.rewrite("<p>plain</p>", "engagestats") == "<p>plain</p>"


def test_getting_started_code_runs(tmp_path, monkeypatch):
    text = (DOCS / "getting-started.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert len(blocks) >= 5
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile("\n".join(blocks), "getting-started.md", "exec"), namespace)
    assert isinstance(namespace["fit"], es.LmmResult)
    assert namespace["fit"].fixed.loc["session", "estimate"] < 0


# ------------------------------------------------------------------------------ the build
def test_mkdocs_build_strict(tmp_path):
    """The site builds with warnings as errors, notebooks executed; ~50 s on 2 cores."""
    site = tmp_path / "site"
    env = {**os.environ, "MPLBACKEND": "Agg", "NO_MKDOCS_2_WARNING": "1"}
    command = [sys.executable, "-m", "mkdocs", "build", "--strict", "--clean"]
    command += ["--config-file", str(MKDOCS_YML), "--site-dir", str(site)]
    proc = subprocess.run(
        command,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    log = proc.stdout + proc.stderr
    warnings = re.findall(r"^(?:WARNING|ERROR)\s+-.*$", log, flags=re.M)
    assert proc.returncode == 0, f"mkdocs build failed:\n{log[-6000:]}"
    assert not warnings, f"mkdocs build warned:\n{log[-6000:]}"

    for name, page in PAGES.items():
        assert (site / "instruments" / page.stem / "index.html").is_file(), name
    lmm_page = (site / "api" / "models" / "index.html").read_text(encoding="utf-8")
    assert 'id="engagestats.models.lmm"' in lmm_page
    for nb in sorted((ROOT / "notebooks").glob("*.ipynb")):
        html = (site / "notebooks" / nb.stem / "index.html").read_text(encoding="utf-8")
        assert "jp-OutputArea-output" in html, f"{nb.name} was not executed"
