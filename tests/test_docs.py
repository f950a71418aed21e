"""The documentation site: it builds with ``mkdocs build --strict`` and cannot drift from the code.

* Every instrument in ``instruments.available()`` (and the SRQ example) has a page whose
  scoring key, reversed items, range, cut-off, reliable change and bands match the definition.
* Every Python block of the Getting started page runs.
* The site works offline: math is MathML rendered at build time (no MathJax, no CDN script),
  code blocks wrap, and the ``lmm`` page is one click from the home page and the nav.
* The whole site, notebooks executed, builds with warnings as errors.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import markdown
import numpy as np
import pytest
import yaml

import engagestats as es
from engagestats import instruments
from engagestats.errors import DataWarning
from engagestats.instruments import Instrument
from engagestats.io import example_export

ROOT = Path(__file__).parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import make_example_exports  # noqa: E402  (scripts/ is not a package)
import mkdocs_hooks  # noqa: E402

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


# ------------------------------------------------------------------------- offline math
def _mkdocs_config() -> dict:
    return yaml.safe_load(MKDOCS_YML.read_text(encoding="utf-8"))


def test_mkdocs_yml_loads_nothing_from_the_network():
    config = _mkdocs_config()
    scripts = config.get("extra_javascript", [])
    assert not [s for s in scripts if re.match(r"(https?:)?//", str(s))], scripts
    assert "mathjax" not in MKDOCS_YML.read_text(encoding="utf-8").lower()
    assert config["theme"]["font"] is False  # no Google Fonts
    assert "scripts/mkdocs_hooks.py" in config["hooks"]
    arithmatex = next(
        e
        for e in config["markdown_extensions"]
        if isinstance(e, dict) and "pymdownx.arithmatex" in e
    )
    assert arithmatex["pymdownx.arithmatex"]["generic"] is True  # the markup the hook converts


def test_hook_renders_math_to_mathml():
    page = (
        '<p>Inline <span class="arithmatex">\\(a &lt; b_{i}\\)</span> and</p>\n'
        '<div class="arithmatex">\\[\n\\hat\\beta = \\frac{1}{n}\\sum_i x_i\n\\]</div>'
    )
    out = mkdocs_hooks.render_math(page)
    assert "arithmatex" not in out
    assert out.count("<math ") == 2
    inline, block = re.findall(r"<math [^>]*>", out)
    assert 'display="inline"' in inline
    assert 'display="block"' in block
    assert '<div class="math-display"><math' in out
    assert "<mo>&#x0003C;</mo>" in out  # the entity was decoded before conversion
    assert "<mfrac>" in out
    assert "<msub>" in out
    assert '<annotation encoding="application/x-tex">a &lt; b_{i}</annotation>' in out
    assert not mkdocs_hooks.raw_tex(out)


def test_hook_renders_sphinx_math_role_on_api_pages():
    class Page:
        class file:
            src_uri = "api/change.md"

    out = mkdocs_hooks.on_page_content("<p>:math:<code>x_{ti} = \\bar x_i</code></p>", Page())
    assert "<math " in out
    assert "<mover>" in out
    assert ":math:" not in out


def test_hook_renders_notebook_markdown_cells_only():
    cell = '<div class="jp-RenderedHTMLCommon jp-RenderedMarkdown jp-MarkdownOutput" x="1">'
    page = (
        f"{cell}<p>Reliable change: $SE = s_1\\sqrt{{1-r_{{xx}}}}$, a line\nbreak $a +\nb$,"
        " <code>echo $HOME $PATH</code>, costs \\$5.</p>\n"
        "<p>$$\ny_{ti} = \\beta_0\n$$</p></div>"
        '<div class="jp-OutputArea"><pre>$x$ stays</pre></div>'
    )
    out = mkdocs_hooks.render_notebook_math(page)
    assert out.count("<math ") == 3
    assert out.count('display="block"') == 1
    assert '<span class="math-display"><math' in out  # inside a <p>: no <div>
    assert "<msqrt>" in out
    assert "<code>echo $HOME $PATH</code>" in out
    assert "\\$5" in out
    assert "<pre>$x$ stays</pre>" in out
    assert not mkdocs_hooks.raw_tex(out, notebook=True)


def test_hook_fails_the_strict_build_on_math_it_cannot_render(caplog):
    with pytest.raises(mkdocs_hooks.MathError, match="foobar"):
        mkdocs_hooks.tex_to_mathml("\\foobar x")
    assert "<mo>arg</mo>" in mkdocs_hooks.tex_to_mathml("\\arg\\min_s x")  # respelled
    with pytest.raises(mkdocs_hooks.MathError, match="& is not supported"):
        mkdocs_hooks.tex_to_mathml("a & b")  # an alignment outside a table: never as text
    aligned = mkdocs_hooks.tex_to_mathml(
        "\\begin{aligned} a &= b && \\text{(one)}\\\\ c &= d \\end{aligned}", display=True
    )
    assert aligned.count("<mtr>") == 2
    assert "<mtext>(one)</mtext>" in aligned

    class Page:
        class file:
            src_uri = "methods/x.md"

    with caplog.at_level("WARNING", logger="mkdocs.hooks.engagestats"):
        # A formula latex2mathml rejects, and display math that arithmatex missed (no blank
        # line between two blocks): both warn, which `mkdocs build --strict` turns into errors.
        mkdocs_hooks.on_page_content(
            '<p><span class="arithmatex">\\(\\foobar\\)</span></p>'
            "<p>[\nV = T_{00} + \\sigma^2,\\qquad\n]</p>",
            Page(),
        )
    messages = [r.getMessage() for r in caplog.records]
    assert any("foobar is not supported" in m for m in messages), messages
    assert any("TeX left unrendered" in m for m in messages), messages


def _page_html(path: Path) -> str:
    """A Markdown page through the site's math extension, as the build sees it (no plugins)."""
    return markdown.markdown(
        path.read_text(encoding="utf-8"),
        extensions=["pymdownx.arithmatex", "pymdownx.superfences", "tables", "footnotes"],
        extension_configs={"pymdownx.arithmatex": {"generic": True}},
    )


MATH_PAGES = sorted(
    p
    for p in DOCS.rglob("*.md")
    if "$" in p.read_text(encoding="utf-8") or "\\(" in p.read_text(encoding="utf-8")
)


@pytest.mark.parametrize("page", MATH_PAGES, ids=lambda p: str(p.relative_to(DOCS)))
def test_every_formula_of_the_markdown_pages_renders(page):
    out = mkdocs_hooks.render_math(_page_html(page), where=str(page))
    assert "arithmatex" not in out, "a formula latex2mathml could not convert"
    assert not mkdocs_hooks.raw_tex(out), mkdocs_hooks.raw_tex(out)[:3]


def test_math_pages_hold_math():
    names = {str(p.relative_to(DOCS)) for p in MATH_PAGES}
    assert {"methods/models.md", "methods/therapist-effects.md"} <= names
    assert "<math " in mkdocs_hooks.render_math(_page_html(DOCS / "methods" / "models.md"))


# ------------------------------------------------------------------------ code blocks wrap
def test_code_blocks_wrap():
    config = _mkdocs_config()
    assert "stylesheets/extra.css" in config["extra_css"]
    css = (DOCS / "stylesheets" / "extra.css").read_text(encoding="utf-8")
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    rules = dict(re.findall(r"([^{}]+)\{([^}]*)\}", css))
    wrapping = [sel for sel, body in rules.items() if re.search(r"white-space:\s*pre-wrap", body)]
    selectors = {s.strip() for sel in wrapping for s in sel.split(",")}
    assert ".md-typeset pre > code" in selectors  # Markdown code blocks
    assert ".md-typeset .doc-signature pre > code" in selectors  # API signatures
    assert ".jupyter-wrapper .jp-InputArea pre" in selectors  # notebook code cells


# -------------------------------------------------------------------- lmm in one click
def _nav_entries(nav, trail=()):
    for item in nav:
        if isinstance(item, str):
            yield (*trail, item), item
            continue
        ((title, value),) = item.items()
        if isinstance(value, list):
            yield from _nav_entries(value, (*trail, title))
        else:
            yield (*trail, title), value


def test_lmm_page_is_one_click_from_the_home_page_and_the_nav():
    nav = dict(_nav_entries(_mkdocs_config()["nav"]))
    # A page in the API section, its title naming lmm (the sections are always expanded).
    (trail,) = [t for t, page in nav.items() if page == "api/models.md"]
    assert trail[0] == "API reference"
    assert "lmm" in trail[-1]
    assert "navigation.sections" in _mkdocs_config()["theme"]["features"]
    # The home page links to lmm's own heading.
    assert "(api/models.md#engagestats.models.lmm)" in (DOCS / "index.md").read_text("utf-8")
    # lmm is the first object on its page, and the page documents every public name.
    page = (DOCS / "api" / "models.md").read_text(encoding="utf-8")
    objects = re.findall(r"^::: engagestats\.models\.(\w+)$", page, flags=re.M)
    assert objects[0] == "lmm"
    assert sorted(objects) == sorted(es.models.__all__)


# ----------------------------------------------------- export to growth model, ≤ 5 lines
EXPORT_PAGE = DOCS / "guide" / "export-to-growth-model.md"
SAMPLE_EXPORTS = [
    "qualtrics_sample.csv",
    "redcap_sample_export.csv",
    "redcap_sample_dictionary.csv",
]


def _titled_block(title: str) -> str:
    text = EXPORT_PAGE.read_text(encoding="utf-8")
    (block,) = re.findall(rf'```python title="{title}"\n(.*?)```', text, flags=re.S)
    return block


def _user_lines(block: str) -> list[str]:
    return [
        line for line in block.splitlines() if line.strip() and not line.lstrip().startswith("#")
    ]


@pytest.fixture(scope="module")
def sample_subset_fit():
    """The growth model on the same sessions, loaded from the sample's own tables."""
    sample = es.load_sample()
    therapists = sample.therapists[
        sample.therapists.therapist_id.isin(make_example_exports.THERAPISTS)
    ]
    clients = sample.clients[sample.clients.therapist_id.isin(therapists.therapist_id)]
    sessions = sample.sessions[sample.sessions.client_id.isin(clients.client_id)]
    study = es.load_study({"therapists": therapists, "clients": clients, "sessions": sessions})
    return es.growth_model(study)


@pytest.mark.parametrize("platform", ["qualtrics", "redcap"])
def test_export_to_growth_model_in_at_most_five_lines(
    platform, tmp_path, monkeypatch, sample_subset_fit
):
    block = _titled_block(platform)
    lines = _user_lines(block)
    assert len(lines) <= 5, lines
    assert len(lines) == {"qualtrics": 4, "redcap": 3}[platform]  # as the page's table says
    for name in SAMPLE_EXPORTS:
        shutil.copy(example_export(name), tmp_path / name)
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        exec(compile(block, f"{EXPORT_PAGE.name}:{platform}", "exec"), namespace)
    messages = [str(w.message) for w in caught]
    if platform == "qualtrics":  # the documented warning, naming the case-insensitive matches
        assert [w.category for w in caught] == [DataWarning], messages
        assert "'PHQ9_1' -> 'phq9_1'" in messages[0]
    else:
        assert not messages, messages
    study, fit = namespace["study"], namespace["fit"]
    assert isinstance(fit, es.OutcomeModel)

    # Every export row accounted for.
    data_rows = len(make_example_exports._sample()[1])
    assert len(study.sessions) == data_rows == 613
    assert len(study.clients) == 55
    assert (study.accounting["rows_read"] == study.accounting["rows_kept"]).all()
    if platform == "qualtrics":
        raw = (tmp_path / "qualtrics_sample.csv").read_bytes()
        assert raw.count(b"\r\n") == data_rows + 3  # three header rows
    else:
        assert study.column_map["source"].str.contains("668 export rows").any()  # 613 + 55

    # The same model as on the sample's own tables: identical estimates and SEs.
    got, want = fit.fit.fixed, sample_subset_fit.fit.fixed
    assert list(got.index) == ["(Intercept)", "time"]
    np.testing.assert_allclose(got[["estimate", "se"]], want[["estimate", "se"]], rtol=1e-8)
    assert got.loc["time", "estimate"] < 0
    assert fit.exclusions["n_rows"].sum() == 11  # sessions whose PHQ-9 could not be scored
    assert "11" in EXPORT_PAGE.read_text(encoding="utf-8")


def test_export_page_output_matches_the_fit(sample_subset_fit):
    text = EXPORT_PAGE.read_text(encoding="utf-8")
    fixed = sample_subset_fit.fit.fixed
    assert f"{fixed.loc['time', 'estimate']:.4g}" in text
    assert f"{fixed.loc['(Intercept)', 'estimate']:.4g}" in text
    assert str(sample_subset_fit).splitlines()[0] in text
    assert "guide/export-to-growth-model.md" in MKDOCS_YML.read_text(encoding="utf-8")


def test_export_page_claims_about_the_qualtrics_reader():
    """Without recode= the export is refused per column; columns= silences the warning."""
    path = example_export("qualtrics_sample.csv")
    with (
        pytest.warns(DataWarning, match="'PHQ9_1' -> 'phq9_1'"),
        pytest.raises(es.DataValidationError, match="the values run from 1 to 4") as exc,
    ):
        es.read_qualtrics(path, client_columns=["age", "gender"])
    assert "recode=" in str(exc.value)
    renames = {f"PHQ9_{i}": f"phq9_{i}" for i in range(1, 10)}
    recode = {"phq9": {1: 0, 2: 1, 3: 2, 4: 3}}
    study = es.read_qualtrics(
        path, client_columns=["age", "gender"], columns=renames, recode=recode
    )
    assert len(study.sessions) == 613  # and no DataWarning: warnings are errors here


def test_sample_exports_are_current():
    """The committed exports are what scripts/make_example_exports.py writes."""
    for name, build in make_example_exports.FILES.items():
        assert example_export(name).read_bytes() == build(), f"{name} is stale"
    qualtrics = example_export("qualtrics_sample.csv").read_bytes()
    assert qualtrics.startswith(b'\xef\xbb\xbf"StartDate","EndDate"')
    assert qualtrics.splitlines()[2].startswith(b'"{""ImportId"":""startDate""}"')
    assert not example_export("redcap_sample_export.csv").read_bytes().startswith(b"\xef\xbb\xbf")


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
        assert not mkdocs_hooks.raw_tex(html, notebook=True), nb.name

    # Offline: no page loads a script or a font from the network; the math is MathML.
    pages = sorted(site.rglob("*.html"))
    for path in pages:
        html = path.read_text(encoding="utf-8")
        assert not mkdocs_hooks.REMOTE_SCRIPT.search(html), path.relative_to(site)
        assert "fonts.googleapis.com" not in html, path.relative_to(site)
        assert 'class="arithmatex"' not in html, path.relative_to(site)
    for page in ["methods/models", "api/analyses", "notebooks/03_change_and_engagement"]:
        assert "<math " in (site / page / "index.html").read_text(encoding="utf-8"), page
    assert not list(site.rglob("mathjax*.js"))
    home = (site / "index.html").read_text(encoding="utf-8")
    assert 'href="api/models/#engagestats.models.lmm"' in home
    assert "stylesheets/extra.css" in home
