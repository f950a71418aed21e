"""``report.docx``: the report as a Word document, APA-style tables (python-docx).

python-docx is optional (``pip install "engagestats[docx]"``). The file is
deterministic: fixed document properties and fixed ZIP member timestamps.
"""

from __future__ import annotations

import datetime as _dt
import re
import zipfile
from collections.abc import Sequence
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..errors import EngageStatsError
from ._apa import ITALIC, _format

if TYPE_CHECKING:
    from ._sections import Section

__all__ = ["DOCX_MISSING", "add_apa_table", "docx_available", "write_docx"]

DOCX_MISSING = (
    "report.docx needs python-docx, which is not installed: "
    'pip install "engagestats[docx]" (or pip install python-docx)'
)
_CODE = re.compile(r"`([^`]*)`")
_FIXED_TIME = _dt.datetime(2000, 1, 1, tzinfo=_dt.UTC)
# XML 1.0 forbids most control characters; python-docx raises on them.
_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def docx_available() -> bool:
    """Whether python-docx can be imported."""
    try:
        import docx  # noqa: F401
    except ImportError:
        return False
    return True


def _require_docx() -> Any:
    try:
        import docx
    except ImportError:
        raise EngageStatsError(DOCX_MISSING) from None
    return docx


def _clean(text: object) -> str:
    return _XML_BAD.sub("\ufffd", str(text))


def _border(cell: Any, edge: str, size: int) -> None:
    """Set one border of a table cell (APA tables have horizontal rules only)."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    tc_pr = cell._tc.get_or_add_tcPr()
    borders = tc_pr.find(qn("w:tcBorders"))
    if borders is None:
        borders = OxmlElement("w:tcBorders")
        tc_pr.append(borders)
    el = OxmlElement(f"w:{edge}")
    el.set(qn("w:val"), "single")
    el.set(qn("w:sz"), str(size))
    el.set(qn("w:space"), "0")
    el.set(qn("w:color"), "000000")
    borders.append(el)


def add_apa_table(
    document: Any, frame: pd.DataFrame, *, number: int | None = None, caption: str = ""
) -> Any:
    """Add ``frame`` to a python-docx ``Document`` as an APA table; return the table.

    The label (``Table N``, bold) and the title (italic) go above the table;
    headers are centred, numbers right-aligned, statistical symbols italic, and
    the only rules are above and below the header row and below the last row.
    """
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    if frame.shape[1] == 0:
        frame = pd.DataFrame({"": ["No data."]})
    apa = _format(frame)
    if number is not None:
        document.add_paragraph().add_run(f"Table {number}").bold = True
    if caption:
        document.add_paragraph().add_run(_clean(caption)).italic = True
    table = document.add_table(rows=1 + len(apa.frame), cols=len(apa.frame.columns))
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    last = len(apa.frame)
    for j, name in enumerate(apa.frame.columns):
        cell = table.cell(0, j)
        para = cell.paragraphs[0]
        para.alignment = WD_ALIGN_PARAGRAPH.CENTER
        run = para.add_run(_clean(name))
        run.italic = name in apa.italic or name in ITALIC
        _border(cell, "top", 12)
        _border(cell, "bottom", 6)
    for i, row in enumerate(apa.frame.itertuples(index=False), start=1):
        for j, value in enumerate(row):
            cell = table.cell(i, j)
            para = cell.paragraphs[0]
            if apa.numeric[j]:
                para.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            para.add_run(_clean(value))
            if i == last:
                _border(cell, "bottom", 12)
    for row in table.rows:
        for cell in row.cells:
            for para in cell.paragraphs:
                for run in para.runs:
                    run.font.size = Pt(9)
    return table


def _prose(document: Any, text: str) -> None:
    para = document.add_paragraph()
    last = 0
    for m in _CODE.finditer(text):
        para.add_run(_clean(text[last : m.start()]))
        code = para.add_run(_clean(m.group(1)))
        code.font.name = "Consolas"
        last = m.end()
    para.add_run(_clean(text[last:]))


def write_docx(sections: Sequence[Section], out: Path, *, title: str) -> Path:
    """Write ``out/report.docx`` from the sections (figures from ``out/figures/*.png``)."""
    docx = _require_docx()
    from docx.shared import Inches

    document = docx.Document()
    props = document.core_properties
    props.title, props.author, props.last_modified_by = _clean(title), "engagestats", ""
    props.created = props.modified = _FIXED_TIME.replace(tzinfo=None)
    props.revision = 1
    document.add_heading(_clean(title), level=0)
    n_table = n_figure = 0
    for sec in sections:
        document.add_heading(_clean(sec.title), level=1)
        for para in sec.text:
            _prose(document, para)
        for name, frame in sec.tables.items():
            n_table += 1
            caption = sec.captions.get(name, name.replace("_", " "))
            add_apa_table(document, frame, number=n_table, caption=caption)
            note = sec.notes.get(name)
            document.add_paragraph(_clean(note) if note else "")
        for name in sec.figures:
            n_figure += 1
            caption = sec.captions.get(name, name.replace("_", " "))
            document.add_paragraph().add_run(f"Figure {n_figure}").bold = True
            document.add_paragraph().add_run(_clean(caption)).italic = True
            document.add_picture(str(out / "figures" / f"{sec.key}_{name}.png"), width=Inches(6))
    document.add_paragraph(
        "Numbers are rounded for reading (APA style); the CSV files in tables/ hold them at "
        "full precision."
    )
    buffer = BytesIO()
    document.save(buffer)
    path = out / "report.docx"
    path.write_bytes(_fixed_zip(buffer.getvalue()))
    return path


def _fixed_zip(data: bytes) -> bytes:
    """The same ZIP with every member's timestamp fixed, so equal input gives equal bytes."""
    src = zipfile.ZipFile(BytesIO(data))
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(2000, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            dst.writestr(fixed, src.read(info.filename))
    return buffer.getvalue()
