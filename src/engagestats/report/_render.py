"""Writing report sections to disk: tables (CSV, Markdown), figures (PNG, SVG), report.md/html.

Output is deterministic: fixed float formatting, no dates, a fixed SVG hash salt
and no software metadata in the image files.

Every piece of text that can come from the data (IDs, levels, column names,
labels) is escaped for the page it lands on: HTML entities in ``report.html``,
Markdown escapes in ``report.md`` and the ``tables/*.md`` files; text cells of
the CSV tables that a spreadsheet would run as a formula get a leading ``'``.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Sequence
from pathlib import Path

import matplotlib as mpl
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.text import Text

from ._apa import _format, apa_html, neutralise_formula
from ._sections import Section

__all__ = ["csv_safe", "markdown_escape", "markdown_table", "write_report"]

#: Longest tick label or legend entry drawn in a figure (titles and axis labels: 2.5 times
#: as long); longer text is cut with "…".
FIGURE_TEXT_LIMIT = 40

_MD_SPECIAL = re.compile(r"([\\`*\[\]|#!~])")
_CODE = re.compile(r"`([^`]*)`")
# "<" that could open a tag or autolink, "&" that could start an entity; "< .001" stays.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f]")
_TAG = re.compile(r"<(?=[A-Za-z/!?])")
_AMP = re.compile(r"&(?=[#A-Za-z])")

CSS = """
:root{--ink:#1f2328;--muted:#59636e;--rule:#1f2328;--soft:#d1d9e0;--accent:#0b5cad}
*{box-sizing:border-box}
body{font:16px/1.55 -apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;
color:var(--ink);max-width:62rem;margin:0 auto;padding:2rem 1.25rem 4rem}
h1{font-size:1.9rem;margin:0 0 .25rem}h2{font-size:1.4rem;margin-top:2.5rem;
border-bottom:1px solid var(--soft);padding-bottom:.3rem}
nav.toc{background:#f6f8fa;border:1px solid var(--soft);border-radius:6px;
padding:.75rem 1.25rem;margin:1.5rem 0}
nav.toc ol{margin:.25rem 0;padding-left:1.25rem}a{color:var(--accent)}
code{font:.88em/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;
background:#f6f8fa;padding:.1em .3em;border-radius:4px;white-space:pre-wrap;
overflow-wrap:anywhere}
.table-wrap{overflow-x:auto;margin:1.5rem 0}
table.apa{border-collapse:collapse;font-size:.9rem;font-variant-numeric:tabular-nums}
table.apa caption{caption-side:top;text-align:left;padding-bottom:.4rem}
table.apa caption .label{font-weight:700;display:block}
table.apa caption .title{font-style:italic}
table.apa thead th{border-top:2px solid var(--rule);border-bottom:1px solid var(--rule);
font-weight:600;text-align:center;padding:.35rem .6rem;vertical-align:bottom}
table.apa tbody td{padding:.25rem .6rem;vertical-align:top}
table.apa tbody tr:last-child td{border-bottom:2px solid var(--rule)}
table.apa td.num{text-align:right;white-space:nowrap}
table.apa td.text{text-align:left;max-width:28rem}
.table-note{font-size:.85rem;color:var(--muted);margin-top:.3rem}
figure{margin:2rem 0}figure img{max-width:100%;height:auto;display:block}
figcaption{font-size:.9rem;margin-top:.4rem}figcaption .label{font-weight:700}
footer{margin-top:3rem;font-size:.85rem;color:var(--muted)}
@media print{nav.toc{display:none}.table-wrap{overflow:visible}}
""".strip()


# ------------------------------------------------------------------- escaping
def markdown_escape(text: object) -> str:
    """Text for a Markdown page: HTML and Markdown syntax shown literally, on one line.

    Examples
    --------
    >>> markdown_escape("<script>x</script> [a](b) | c")
    '&lt;script&gt;x&lt;/script&gt; \\\\[a\\\\](b) \\\\| c'
    """
    text = " ".join(str(text).split())
    text = _AMP.sub("&amp;", text)
    text = _TAG.sub("&lt;", text).replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", text)


def _escape_keeping_edges(text: str) -> str:
    """:func:`markdown_escape`, keeping one space at either edge (next to a code span)."""
    lead = " " if text[:1].isspace() else ""
    trail = " " if text[-1:].isspace() and text.strip() else ""
    return lead + markdown_escape(text) + trail


def _markdown_prose(text: str) -> str:
    """A paragraph: backtick code spans kept as code, the rest escaped."""
    parts, last = [], 0
    for m in _CODE.finditer(text):
        parts.append(_escape_keeping_edges(text[last : m.start()]))
        parts.append("`" + m.group(1).replace("\n", " ") + "`")
        last = m.end()
    parts.append(_escape_keeping_edges(text[last:]))
    return "".join(parts).strip()


def _html_prose(text: str) -> str:
    parts, last = [], 0
    for m in _CODE.finditer(text):
        parts.append(html.escape(text[last : m.start()]))
        parts.append(f"<code>{html.escape(m.group(1))}</code>")
        last = m.end()
    parts.append(html.escape(text[last:]))
    return "".join(parts)


def csv_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """The table with text cells that start a spreadsheet formula neutralised.

    Numbers are untouched; a text cell starting with ``=``, ``+``, ``-``, ``@``,
    tab or carriage return gets a leading ``'`` (see :func:`neutralise_formula`);
    so do column names.
    """
    out = frame.copy()
    for col in out.columns:
        s = out[col]
        if s.dtype == object or isinstance(s.dtype, pd.StringDtype):
            out[col] = s.map(neutralise_formula)
    return out.rename(columns={c: neutralise_formula(c) for c in out.columns if isinstance(c, str)})


# ---------------------------------------------------------------------- tables
def markdown_table(frame: pd.DataFrame) -> str:
    """A DataFrame as a GitHub-flavoured Markdown table, formatted in APA style."""
    if frame.shape[1] == 0:
        return "*No data.*\n"
    table = _format(frame)
    apa = table.frame
    cols = [markdown_escape(c) for c in apa.columns]
    num = table.numeric
    lines = [
        "| " + " | ".join(cols) + " |",
        "|" + "".join("---:|" if n else "---|" for n in num),
    ]
    lines += [
        "| " + " | ".join(markdown_escape(v) for v in row) + " |"
        for row in apa.itertuples(index=False)
    ]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------- figures
def _figure_text(text: str, limit: int) -> str:
    """Control characters replaced (no font draws them) and each line cut to ``limit``."""
    lines = _CONTROL.sub("\ufffd", text).split("\n")
    return "\n".join(ln if len(ln) <= limit else ln[: limit - 1] + "…" for ln in lines)


def _shorten_figure_text(fig: plt.Figure, limit: int = FIGURE_TEXT_LIMIT) -> None:
    """Cut over-long tick labels, legend entries and titles (e.g. a 500-character ID)."""
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            labels = [t.get_text() for t in axis.get_ticklabels()]
            fixed = [_figure_text(t, limit) for t in labels]
            if fixed != labels:
                axis.set_ticks(axis.get_ticklocs(), labels=fixed)
    legends = {id(t) for ax in fig.axes if (leg := ax.get_legend()) for t in leg.get_texts()}
    for text in fig.findobj(Text):  # legend entries as ticks; titles, axis labels: 2.5 times
        short = _figure_text(text.get_text(), limit if id(text) in legends else 5 * limit // 2)
        if short != text.get_text():
            text.set_text(short)


def _save_figure(fig: plt.Figure, stem: Path) -> None:
    """Save SVG and PNG, every text drawn literally.

    A label such as ``"$x^$"`` from the data is never parsed as mathtext (which would
    fail, or render as math).
    """
    _shorten_figure_text(fig)
    for text in fig.findobj(Text):
        text.set_parse_math(False)
    with mpl.rc_context(
        {"svg.hashsalt": "engagestats", "svg.fonttype": "path", "text.parse_math": False}
    ):
        fig.savefig(stem.with_suffix(".svg"), metadata={"Date": None, "Creator": None})
        fig.savefig(stem.with_suffix(".png"), dpi=150, metadata={"Software": None})
    plt.close(fig)


def _data_uri(path: Path) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


# ---------------------------------------------------------------------- report
def _caption(sec: Section, name: str) -> str:
    return sec.captions.get(name, name.replace("_", " "))


def planned_files(sections: Sequence[Section], *, docx: bool) -> list[str]:
    """The files :func:`write_report` writes, relative to the output folder."""
    files = ["report.md", "report.html", *(["report.docx"] if docx else [])]
    for sec in sections:
        files += [f"tables/{sec.key}_{n}.{ext}" for n in sec.tables for ext in ("csv", "md")]
        files += [f"figures/{sec.key}_{n}.{ext}" for n in sec.figures for ext in ("svg", "png")]
    return files


def write_report(
    sections: Sequence[Section], out: Path, *, title: str, docx: bool = False
) -> list[str]:
    """Write every table, figure and the report pages into ``out``; return the files written.

    ``report.html`` is one self-contained file (inline CSS, figures embedded as
    SVG, no scripts, no network); ``docx=True`` also writes ``report.docx``.
    """
    (out / "tables").mkdir(parents=True, exist_ok=True)
    (out / "figures").mkdir(parents=True, exist_ok=True)
    md = [f"# {markdown_escape(title)}\n"]
    toc = "".join(f'<li><a href="#{sec.key}">{html.escape(sec.title)}</a></li>' for sec in sections)
    body = [
        f"<header><h1>{html.escape(title)}</h1></header>",
        f'<nav class="toc" aria-label="Contents"><strong>Contents</strong><ol>{toc}</ol></nav>',
    ]
    md.append("Contents:\n")
    md += [f"{i}. [{markdown_escape(s.title)}](#{s.key})" for i, s in enumerate(sections, 1)]
    n_table = n_figure = 0
    for sec in sections:
        md.append(f'\n<a id="{sec.key}"></a>\n\n## {markdown_escape(sec.title)}\n')
        body.append(f'<section id="{sec.key}"><h2>{html.escape(sec.title)}</h2>')
        for para in sec.text:
            md.append(_markdown_prose(para) + "\n")
            body.append(f"<p>{_html_prose(para)}</p>")
        for name, table in sec.tables.items():
            n_table += 1
            stem = out / "tables" / f"{sec.key}_{name}"
            csv_safe(table).to_csv(stem.with_suffix(".csv"), index=False, lineterminator="\n")
            md_table = markdown_table(table)
            stem.with_suffix(".md").write_text(md_table, encoding="utf-8")
            caption = _caption(sec, name)
            note = sec.notes.get(name)
            md.append(
                f"\n**Table {n_table}**  \n*{markdown_escape(caption)}* "
                f"([csv](tables/{stem.name}.csv))\n\n{md_table}"
                + (f"\n\n{markdown_escape(note)}" if note else "")
            )
            body.append(
                '<div class="table-wrap">'
                + apa_html(table, number=n_table, caption=caption)
                + (f'<p class="table-note">{html.escape(note)}</p>' if note else "")
                + f'<p class="table-note">Full precision: <a href="tables/{stem.name}.csv">'
                f"{stem.name}.csv</a></p></div>"
            )
        for name, fig in sec.figures.items():
            n_figure += 1
            stem = out / "figures" / f"{sec.key}_{name}"
            _save_figure(fig, stem)
            caption = _caption(sec, name)
            md.append(
                f"\n**Figure {n_figure}**  \n*{markdown_escape(caption)}*\n\n"
                f"![{markdown_escape(caption)}](figures/{stem.name}.png)\n"
            )
            body.append(
                f'<figure><img src="{_data_uri(stem.with_suffix(".svg"))}" '
                f'alt="{html.escape(caption)}"><figcaption><span class="label">Figure '
                f"{n_figure}.</span> {html.escape(caption)} "
                f'(<a href="figures/{stem.name}.svg">SVG</a>, '
                f'<a href="figures/{stem.name}.png">PNG</a>)</figcaption></figure>'
            )
        body.append("</section>")
    body.append(
        "<footer>Numbers are rounded for reading (APA style); the CSV files in "
        "<code>tables/</code> hold them at full precision.</footer>"
    )
    (out / "report.md").write_text("\n".join(md), encoding="utf-8")
    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{CSS}</style></head><body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )
    (out / "report.html").write_text(page, encoding="utf-8")
    if docx:
        from ._docx import write_docx

        write_docx(sections, out, title=title)
    return planned_files(sections, docx=docx)
