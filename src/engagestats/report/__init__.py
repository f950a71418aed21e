"""The main job: load a study, validate it, analyse it and write the report.

``engagestats report [DATA] --out DIR [--check]`` runs :func:`run_report`.
:func:`apa_table` (:func:`apa_html` for HTML, :func:`add_apa_table` for a python-docx
document) formats any
results table, e.g. ``OutcomeModel.table()``, in APA style.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

import matplotlib

from ..errors import EngageStatsError
from ..study import Study
from ._apa import apa_html, apa_table, format_ci, format_df, format_number, format_p
from ._docx import add_apa_table

__all__ = [
    "REFERENCE_DIR",
    "add_apa_table",
    "apa_html",
    "apa_table",
    "format_ci",
    "format_df",
    "format_number",
    "format_p",
    "load_input",
    "run_report",
]

#: The committed reference tables that ``--check`` compares against.
REFERENCE_DIR = Path(__file__).resolve().parents[3] / "docs" / "report" / "tables"


def load_input(data: str | Path | None) -> Study:
    """Load the bundled sample (``data=None``) or a study folder."""
    if data is None:
        from ..datasets import load_sample

        return load_sample()
    from ..io import load_study

    return load_study(Path(data))


def _is_bundled_sample(data: str | Path) -> bool:
    """Whether ``data`` is the folder of the bundled sample (the reference tables' input)."""
    from ..datasets import sample_folder

    try:
        return Path(data).resolve() == sample_folder().resolve()
    except Exception:  # no bundled sample (e.g. a trimmed install): not the sample
        return False


def _reference(reference: str | Path | None, data: str | Path | None) -> Path:
    """The folder ``--check`` compares with, or a typed error saying why there is none."""
    from ._output import OutputFolderError

    if reference is not None:
        ref = Path(reference)
        if not ref.is_dir():
            raise OutputFolderError(f"--reference {ref}: no such folder of reference tables")
        return ref
    if data is not None and not _is_bundled_sample(data):
        raise OutputFolderError(
            "--check without --reference compares with the bundled sample's tables, which "
            "cannot match your own data; pass --reference DIR (the tables/ folder of an "
            "earlier report)"
        )
    if not REFERENCE_DIR.is_dir():
        raise OutputFolderError(
            "--check needs the reference tables in docs/report/tables, which are part of a "
            f"source checkout, not of the installed package (looked in {REFERENCE_DIR}); "
            "run from a clone of the repository or pass --reference DIR"
        )
    return REFERENCE_DIR


def run_report(
    data: str | Path | None = None,
    *,
    out: str | Path = "report",
    check: bool = False,
    reference: str | Path | None = None,
    docx: bool | None = None,
    stream: TextIO | None = None,
) -> int:
    """Run the main job and write its output to ``out``.

    Parameters
    ----------
    data : str or Path, optional
        A study folder that :func:`engagestats.load_study` reads; the bundled
        sample when omitted.
    out : str or Path, default "report"
        Output folder, created if needed. It receives ``report.html`` (one
        self-contained file: styled, figures embedded, works offline),
        ``report.md``, ``report.docx`` (see ``docx``), ``tables/`` (full
        precision CSV and APA-formatted Markdown) and ``figures/`` (PNG and
        SVG). A non-empty folder that an earlier report did not write is
        refused, and only files that an earlier report wrote (listed in its
        ``.engagestats-report.json``) are replaced or removed.
    check : bool, default False
        Compare the regenerated tables with ``reference`` and return 1 when
        any differs (numbers with ``rtol=1e-4``).
    reference : str or Path, optional
        The reference tables; ``docs/report/tables`` of the repository by
        default (only for the bundled sample; with ``data``, pass the tables
        of an earlier report).
    docx : bool, optional
        Write ``report.docx``: True requires python-docx (the ``docx`` extra),
        False skips it, None (default) writes it when python-docx is installed
        and says so when it is not.
    stream : file-like, optional
        Where progress is printed (standard output by default).

    Returns
    -------
    int
        The exit code: 0 on success, 1 when ``check`` found differences.
        Invalid data raise :class:`engagestats.DataValidationError`, and an
        unsafe output folder or a missing reference an
        :class:`~engagestats.EngageStatsError`; the command line turns them
        into a message and exit code 2.
    """
    matplotlib.use("Agg")
    from ._check import compare_tables
    from ._docx import DOCX_MISSING, docx_available
    from ._model_sections import MODEL_SECTIONS
    from ._output import check_out, clear_previous, write_manifest
    from ._render import planned_files, write_report
    from ._sections import SECTIONS, Context, skipped_section, state_policy_in_notes

    stream = stream or sys.stdout
    out = Path(out)
    check_out(out)  # refuse an unsafe folder before any work
    ref = _reference(reference, data) if check else None
    if docx is None:
        docx = docx_available()
        if not docx:
            print(f"note: {DOCX_MISSING}; writing the other formats", file=stream)
    elif docx and not docx_available():
        raise EngageStatsError(DOCX_MISSING)
    builders = [*SECTIONS, *MODEL_SECTIONS]
    n = len(builders) + 2
    label = "the bundled sample" if data is None else str(data)
    print(f"[1/{n}] loading and validating {label}", file=stream, flush=True)
    study = load_input(data)
    print(f"      {study!r}", file=stream)
    # Data-derived text (IDs, levels) is drawn literally, never parsed as mathtext.
    with matplotlib.rc_context({"text.parse_math": False}):
        ctx = Context.build(study)
        sections = []
        for i, build in enumerate(builders, start=2):
            try:
                sec = build(ctx)
            except EngageStatsError as err:  # e.g. an optional column the section needs
                sec = skipped_section(build, err)
                print(f"[{i}/{n}] {sec.title}: not reported ({err})", file=stream, flush=True)
            else:
                print(f"[{i}/{n}] {sec.title}", file=stream, flush=True)
            sections.append(sec)
        state_policy_in_notes(sections, ctx.policy)  # every table states the one policy
        planned = planned_files(sections, docx=docx)
        previous = check_out(out, planned)
        out.mkdir(parents=True, exist_ok=True)
        clear_previous(out, previous)
        write_manifest(out, planned)  # first, so an interrupted run can be cleaned up
        written = write_report(sections, out, title="engagestats report", docx=docx)
    write_manifest(out, written)
    pages = ", ".join(str(out / p) for p in written if p.startswith("report."))
    print(f"[{n}/{n}] wrote {pages}", file=stream)
    if ref is not None:
        problems = compare_tables(out / "tables", ref)
        if problems:
            print(f"report --check: {len(problems)} table(s) differ from {ref}:", file=stream)
            for p in problems:
                print(f"  - {p}", file=stream)
            return 1
        print(f"report --check: all tables agree with {ref}", file=stream)
    return 0
