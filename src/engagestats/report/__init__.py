"""The main job: load a study, validate it, analyse it and write the report.

``engagestats report [DATA] --out DIR [--check]`` runs :func:`run_report`.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

import matplotlib

from ..study import Study

__all__ = ["REFERENCE_DIR", "load_input", "run_report"]

#: The committed reference tables that ``--check`` compares against.
REFERENCE_DIR = Path(__file__).resolve().parents[3] / "docs" / "report" / "tables"


def load_input(data: str | Path | None) -> Study:
    """Load the bundled sample (``data=None``) or a study folder."""
    if data is None:
        from ..datasets import load_sample

        return load_sample()
    from ..io import load_study

    return load_study(Path(data))


def run_report(
    data: str | Path | None = None,
    *,
    out: str | Path = "report",
    check: bool = False,
    reference: str | Path | None = None,
    stream: TextIO | None = None,
) -> int:
    """Run the main job and write its output to ``out``.

    Parameters
    ----------
    data : str or Path, optional
        A study folder that :func:`engagestats.load_study` reads; the bundled
        sample when omitted.
    out : str or Path, default "report"
        Output folder, created if needed. It receives ``report.md``,
        ``report.html``, ``tables/`` (CSV and Markdown) and ``figures/``
        (PNG and SVG).
    check : bool, default False
        Compare the regenerated tables with ``reference`` and return 1 when
        any differs (numbers with ``rtol=1e-4``).
    reference : str or Path, optional
        The reference tables; ``docs/report/tables`` of the repository by
        default.
    stream : file-like, optional
        Where progress is printed (standard output by default).

    Returns
    -------
    int
        The exit code: 0 on success, 1 when ``check`` found differences.
        Invalid data raise :class:`engagestats.DataValidationError`, which the
        command line turns into a list of problems and exit code 2.
    """
    matplotlib.use("Agg")
    from ._check import compare_tables
    from ._model_sections import MODEL_SECTIONS
    from ._render import write_report
    from ._sections import SECTIONS, Context

    stream = stream or sys.stdout
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    builders = [*SECTIONS, *MODEL_SECTIONS]
    n = len(builders) + 2
    label = "the bundled sample" if data is None else str(data)
    print(f"[1/{n}] loading and validating {label}", file=stream, flush=True)
    study = load_input(data)
    print(f"      {study!r}", file=stream)
    ctx = Context.build(study)
    sections = []
    for i, build in enumerate(builders, start=2):
        sec = build(ctx)
        print(f"[{i}/{n}] {sec.title}", file=stream, flush=True)
        sections.append(sec)
    write_report(sections, out, title="engagestats report")
    print(f"[{n}/{n}] wrote {out / 'report.md'} and {out / 'report.html'}", file=stream)
    if check:
        ref = Path(reference) if reference is not None else REFERENCE_DIR
        problems = compare_tables(out / "tables", ref)
        if problems:
            print(f"report --check: {len(problems)} table(s) differ from {ref}:", file=stream)
            for p in problems:
                print(f"  - {p}", file=stream)
            return 1
        print(f"report --check: all tables agree with {ref}", file=stream)
    return 0
