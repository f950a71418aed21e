"""The report's pages: self-contained styled HTML, Markdown and Word, read back and checked."""

from __future__ import annotations

import base64
import re
from html.parser import HTMLParser

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from engagestats.report import format_number
from engagestats.report._render import csv_safe, markdown_escape, markdown_table, write_report
from engagestats.report._sections import Section

docx = pytest.importorskip("docx", reason="python-docx (the docx extra) is not installed")


class _Page(HTMLParser):
    """The parts of report.html the tests look at."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.tables: list[dict] = []
        self._cell: list[str] | None = None
        self._where = ""

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if tag == "table":
            self.tables.append({"caption": "", "head": [], "rows": []})
        elif tag == "caption":
            self._where = "caption"
        elif tag == "tr" and self.tables:
            if self._where != "head":
                self.tables[-1]["rows"].append([])
        elif tag == "thead":
            self._where = "head"
        elif tag == "tbody":
            self._where = "body"
        elif tag in ("th", "td"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("th", "td") and self._cell is not None:
            text = "".join(self._cell)
            t = self.tables[-1]
            (t["head"] if self._where == "head" else t["rows"][-1]).append(text)
            self._cell = None
        elif tag == "caption":
            self._where = ""

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        elif self._where == "caption":
            self.tables[-1]["caption"] += data


@pytest.fixture(scope="module")
def page(report_dir):
    p = _Page()
    p.feed((report_dir / "report.html").read_text(encoding="utf-8"))
    return p


def test_html_is_self_contained_and_offline(report_dir, page):
    text = (report_dir / "report.html").read_text(encoding="utf-8")
    assert "<style>" in text
    assert "table.apa" in text
    assert not [t for t, _ in page.tags if t in ("script", "link", "iframe", "object")]
    for tag, attrs in page.tags:
        for key in ("src", "href"):
            value = attrs.get(key, "")
            assert not re.match(r"(https?:)?//", value), (tag, value)  # no network
    images = [a["src"] for t, a in page.tags if t == "img"]
    assert images
    assert all(src.startswith("data:image/svg+xml;base64,") for src in images)
    for src in images:  # the embedded figure is the SVG written next to the page
        svg = base64.b64decode(src.split(",", 1)[1])
        assert svg.lstrip().startswith(b"<?xml")
        assert b"<svg" in svg[:2000]


def test_html_has_a_table_of_contents_with_working_links(page):
    toc = [a["href"] for t, a in page.tags if t == "a" and a.get("href", "").startswith("#")]
    ids = {a["id"] for t, a in page.tags if t == "section"}
    assert toc
    assert set(toc) == {f"#{i}" for i in ids}
    assert len(ids) == 8


def test_html_tables_are_numbered_with_readable_headers(report_dir, page):
    n_csv = len(list((report_dir / "tables").glob("*.csv")))
    assert len(page.tables) == n_csv
    for i, table in enumerate(page.tables, start=1):
        assert table["caption"].startswith(f"Table {i}")
        assert table["head"]
        assert all(len(row) == len(table["head"]) for row in table["rows"])
        assert not [h for h in table["head"] if "_" in h], table["head"]
    model = next(t for t in page.tables if "Total-effect growth model" in t["caption"])
    assert model["head"] == ["Section", "Term", "Estimate", "SE", "df", "t", "p", "95% CI"]
    p = [row[6] for row in model["rows"] if row[0] == "fixed effects"]
    assert "< .001" in p
    assert not [v for v in p if "e-" in v]  # was 4.855e-35
    assert all(re.fullmatch(r"< \.001|\.\d{3}", v) for v in p)


def test_html_numbers_match_the_csv(report_dir, page):
    rates = pd.read_csv(report_dir / "tables" / "change_rates.csv")
    table = next(
        t for t in page.tables if t["caption"].endswith("Outcome rates with Wilson 95% CIs")
    )
    assert table["head"] == ["Outcome", "n", "k", "Rate", "95% CI", "n missing"]
    for row, (_, ref) in zip(table["rows"], rates.iterrows(), strict=True):
        assert row[0] == ref["outcome"]
        assert row[1] == f"{ref['n']:,}"
        # Proportions without a leading zero, to two significant digits (.52, .073).
        assert row[3] == format_number(ref["rate"], bounded=True)
        assert float(row[3]) == pytest.approx(ref["rate"], rel=0.06)
        low, high = (float(v) for v in row[4].strip("[]").split(", "))
        assert row[4].startswith("[.")
        assert low == pytest.approx(ref["ci_low"], abs=0.005)
        assert high == pytest.approx(ref["ci_high"], abs=0.005)


def test_docx_tables_read_back(report_dir, page):
    document = docx.Document(str(report_dir / "report.docx"))
    assert len(document.tables) == len(page.tables)
    for word, html in zip(document.tables, page.tables, strict=True):
        cells = [[c.text for c in row.cells] for row in word.rows]
        assert cells[0] == html["head"]
        assert cells[1:] == html["rows"]
    text = [p.text for p in document.paragraphs]
    assert "Table 1" in text
    assert "Figure 1" in text
    assert len(document.inline_shapes) == len(list((report_dir / "figures").glob("*.png")))
    headings = [p.text for p in document.paragraphs if p.style.name == "Heading 1"]
    assert len(headings) == 8
    header = document.tables[0].rows[0].cells[0].paragraphs[0].runs[0]
    assert header.text == "Section"
    model = next(t for t in document.tables if "SE" in [c.text for c in t.rows[0].cells][3:4])
    se = model.rows[0].cells[3].paragraphs[0].runs[0]
    assert model.rows[1].cells[6].text in ("< .001",) or model.rows[1].cells[6].text.startswith(".")
    assert se.italic  # statistical symbols in italics


# ------------------------------------------------------------- hostile strings
HOSTILE = {
    "script": "<script>alert(1)</script>",
    "formula": '=HYPERLINK("http://x","y")',
    "plus": "+cmd|' /C calc'!A0",
    "at": "@SUM(A1:A2)",
    "minus": "-2+3",
    "md_link": "[click](javascript:alert(1))",
    "pipe": "a | b",
    "math": "$x^$",  # invalid mathtext: crashed matplotlib when the figure was saved
    "long": "L" * 500,
    "newline": "two\nlines",
    "control": "bell\x07",
}


@pytest.fixture(scope="module")
def hostile_dir(tmp_path_factory):
    """A report of one section whose labels, column names and cells are hostile strings."""
    out = tmp_path_factory.mktemp("hostile")
    levels = list(HOSTILE.values())
    table = pd.DataFrame(
        {"level": levels, "clients": range(len(levels)), HOSTILE["script"]: levels}
    )
    fig, ax = plt.subplots()
    ax.bar(levels, range(len(levels)), label=HOSTILE["long"])
    ax.legend()
    ax.set_title(HOSTILE["script"])
    sec = Section(
        "hostile",
        HOSTILE["script"],
        [f"Level {HOSTILE['script']} and `code {HOSTILE['script']}`"],
        tables={"t": table},
        figures={"f": fig},
        captions={"t": HOSTILE["md_link"], "f": HOSTILE["script"]},
    )
    write_report([sec], out, title=HOSTILE["script"], docx=True)
    return out


def test_hostile_strings_are_escaped_in_html(hostile_dir):
    text = (hostile_dir / "report.html").read_text(encoding="utf-8")
    assert "<script" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    p = _Page()
    p.feed(text)
    (table,) = p.tables
    assert table["head"][0] == "Level"
    assert table["head"][2] == HOSTILE["script"]  # shown literally, as text
    shown = [row[0] for row in table["rows"]]
    assert shown[0] == HOSTILE["script"]
    assert shown[list(HOSTILE).index("long")] == "L" * 59 + "…"
    assert shown[list(HOSTILE).index("newline")] == "two lines"
    titles = [a.get("title") for t, a in p.tags if t == "td" and a.get("title")]
    assert titles == ["L" * 500] * 2  # the whole text stays available on hover


def test_hostile_strings_are_escaped_in_markdown(hostile_dir):
    for path in (hostile_dir / "report.md", hostile_dir / "tables" / "hostile_t.md"):
        text = path.read_text(encoding="utf-8")
        # A code span shows its content literally; everything else is escaped.
        assert "`code <script>alert(1)</script>`" in text or path.name != "report.md"
        assert "<script" not in re.sub(r"`[^`]*`", "", text), path.name
        assert not re.search(r"(?<!\\)\]\(javascript:", text)  # escaped: not a link
        assert "\\[click\\](javascript:" in text or path.name != "report.md"
        assert "&lt;script&gt;" in text
        rows = [line for line in text.splitlines() if line.startswith("|")]
        n_cols = {len(re.split(r"(?<!\\)\|", line)) for line in rows}
        assert len(n_cols) == 1, n_cols  # "a | b" and "two\nlines" keep the table intact
    assert markdown_escape("*bold* `x`") == "\\*bold\\* \\`x\\`"


def test_formula_cells_are_neutralised_in_csv(hostile_dir):
    raw = (hostile_dir / "tables" / "hostile_t.csv").read_text(encoding="utf-8")
    back = pd.read_csv(hostile_dir / "tables" / "hostile_t.csv", keep_default_na=False)
    for key in ("formula", "plus", "at", "minus"):
        assert back["level"].tolist()[list(HOSTILE).index(key)] == "'" + HOSTILE[key]
    assert back["clients"].tolist() == list(range(len(HOSTILE)))  # numbers untouched
    assert "\n=" not in raw
    assert ",=" not in raw
    frame = pd.DataFrame({"x": ["=1", "ok"], "=col": [-1.5, 2.0]})
    assert csv_safe(frame).to_dict("list") == {"x": ["'=1", "ok"], "'=col": [-1.5, 2.0]}


def test_hostile_figure_text_is_literal_and_shortened(hostile_dir):
    svg = (hostile_dir / "figures" / "hostile_f.svg").read_text(encoding="utf-8")
    assert "<script" not in svg
    assert "L" * 41 not in svg  # legend entry cut to 40 characters


def test_hostile_strings_in_docx(hostile_dir):
    document = docx.Document(str(hostile_dir / "report.docx"))
    (table,) = document.tables
    first = [row.cells[0].text for row in table.rows]
    assert first[1] == HOSTILE["script"]  # literal text, not markup
    assert first[1 + list(HOSTILE).index("control")] == "bell\ufffd"  # XML-invalid character


def test_markdown_table_aligns_numbers_right():
    md = markdown_table(pd.DataFrame({"term": ["a"], "p": [0.0004], "n": [3]}))
    assert md.splitlines()[1] == "|---|---:|---:|"
    assert "< .001" in md


def test_shortening_leaves_the_sample_figures_alone(sections):
    from matplotlib.text import Text

    from engagestats.report._render import _shorten_figure_text

    for sec in sections.values():
        for name, fig in sec.figures.items():
            fig.canvas.draw()
            before = [t.get_text() for t in fig.findobj(Text)]
            _shorten_figure_text(fig)
            assert [t.get_text() for t in fig.findobj(Text)] == before, (sec.key, name)


def test_an_empty_table_says_no_data(tmp_path):
    """A study without modality, format and gender has an empty composition table."""
    sec = Section("s", "S", tables={"e": pd.DataFrame()})
    write_report([sec], tmp_path, title="t", docx=True)
    assert (tmp_path / "tables" / "s_e.md").read_text(encoding="utf-8") == "*No data.*\n"
    p = _Page()
    p.feed((tmp_path / "report.html").read_text(encoding="utf-8"))
    assert p.tables[0]["rows"] == [["No data."]]
    (table,) = docx.Document(str(tmp_path / "report.docx")).tables
    assert [c.text for c in table.rows[1].cells] == ["No data."]


def test_markdown_prose_keeps_the_spaces_around_code_spans():
    from engagestats.report._render import _markdown_prose

    assert _markdown_prose("Model: `y ~ x` (REML), see `f()` for that.") == (
        "Model: `y ~ x` (REML), see `f()` for that."
    )
    assert _markdown_prose("`a`b`c`") == "`a`b`c`"  # no space invented where none was
    assert _markdown_prose("  padded  `x`  ") == "padded `x`"
