"""Writing report sections to disk: tables (CSV, Markdown), figures (PNG, SVG), report.md/html.

Output is deterministic: fixed float formatting, no dates, a fixed SVG hash salt
and no software metadata in the image files.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path

import matplotlib as mpl
import matplotlib.pyplot as plt
import pandas as pd

from ._sections import Section

__all__ = ["markdown_table", "write_report"]


def _cell(value: object) -> str:
    if isinstance(value, float):
        return "" if pd.isna(value) else f"{value:.4g}"
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    return str(value).replace("|", "\\|")


def markdown_table(frame: pd.DataFrame) -> str:
    """A DataFrame as a GitHub-flavoured Markdown table (4 significant digits)."""
    cols = [str(c) for c in frame.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += [
        "| " + " | ".join(_cell(v) for v in row) + " |" for row in frame.itertuples(index=False)
    ]
    return "\n".join(lines) + "\n"


def _save_figure(fig: plt.Figure, stem: Path) -> None:
    with mpl.rc_context({"svg.hashsalt": "engagestats", "svg.fonttype": "path"}):
        fig.savefig(stem.with_suffix(".svg"), metadata={"Date": None, "Creator": None})
        fig.savefig(stem.with_suffix(".png"), dpi=100, metadata={"Software": None})
    plt.close(fig)


def write_report(sections: Sequence[Section], out: Path, *, title: str) -> None:
    """Write every table, figure and the report.md/report.html pages into ``out``."""
    (out / "tables").mkdir(parents=True, exist_ok=True)
    (out / "figures").mkdir(parents=True, exist_ok=True)
    md = [f"# {title}\n"]
    body = [f"<h1>{html.escape(title)}</h1>"]
    for sec in sections:
        md.append(f"\n## {sec.title}\n")
        body.append(f"<h2>{html.escape(sec.title)}</h2>")
        for para in sec.text:
            md.append(para + "\n")
            body.append(f"<p>{html.escape(para)}</p>")
        for name, table in sec.tables.items():
            stem = out / "tables" / f"{sec.key}_{name}"
            table.to_csv(stem.with_suffix(".csv"), index=False, lineterminator="\n")
            stem.with_suffix(".md").write_text(markdown_table(table), encoding="utf-8")
            caption = sec.captions.get(name, name.replace("_", " "))
            md.append(f"\n**{caption}** ([csv](tables/{stem.name}.csv))\n\n{markdown_table(table)}")
            body.append(f"<h3>{html.escape(caption)}</h3>")
            body.append(table.to_html(index=False, na_rep="", float_format=lambda v: f"{v:.4g}"))
        for name, fig in sec.figures.items():
            stem = out / "figures" / f"{sec.key}_{name}"
            _save_figure(fig, stem)
            caption = sec.captions.get(name, name.replace("_", " "))
            md.append(f"\n![{caption}](figures/{stem.name}.png)\n")
            body.append(
                f'<figure><img src="figures/{stem.name}.svg" alt="{html.escape(caption)}">'
                f"<figcaption>{html.escape(caption)}</figcaption></figure>"
            )
    (out / "report.md").write_text("\n".join(md), encoding="utf-8")
    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title>"
        "<style>body{font-family:sans-serif;max-width:60em;margin:auto}"
        "table{border-collapse:collapse}td,th{padding:2px 8px;border-bottom:1px solid #ddd}"
        "img{max-width:100%}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n"
    )
    (out / "report.html").write_text(page, encoding="utf-8")
