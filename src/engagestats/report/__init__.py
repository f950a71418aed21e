"""The main job: load a study, validate it, and write the report.

``engagestats report [DATA] --out DIR`` runs :func:`run_report`. Until the
analysis sections land, the report holds the validated study description:
the summary table (CSV and Markdown) and the exclusions made while loading.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

from ..study import Study

__all__ = ["load_input", "run_report"]


def load_input(data: str | Path | None) -> Study:
    """Load the bundled sample (``data=None``) or a study folder."""
    if data is None:
        from ..datasets import load_sample

        return load_sample()
    from ..io import load_study

    return load_study(Path(data))


def _markdown_table(frame) -> str:
    cols = list(frame.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in frame.itertuples(index=False):
        cells = [f"{v:.4g}" if isinstance(v, float) else str(v) for v in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def run_report(
    data: str | Path | None = None, *, out: str | Path = "report", stream: TextIO | None = None
) -> int:
    """Run the main job and write its output to ``out``.

    Parameters
    ----------
    data : str or Path, optional
        A study folder that :func:`engagestats.load_study` reads; the bundled
        sample when omitted.
    out : str or Path, default "report"
        Output folder, created if needed.
    stream : file-like, optional
        Where progress is printed (standard output by default).

    Returns
    -------
    int
        The process exit code (0 on success). Invalid data raise
        :class:`engagestats.DataValidationError`, which the command line
        turns into a list of problems and exit code 2.
    """
    stream = stream or sys.stdout
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    label = "the bundled sample" if data is None else str(data)
    print(f"[1/2] loading and validating {label}", file=stream)
    study = load_input(data)
    print(f"      {study!r}", file=stream)
    summary = study.summary()
    summary.to_csv(out / "study_summary.csv", index=False, lineterminator="\n")
    (out / "study_summary.md").write_text(_markdown_table(summary), encoding="utf-8")
    excluded = study.excluded
    excluded.to_csv(out / "excluded_rows.csv", index=False, lineterminator="\n")
    print(f"[2/2] wrote {out / 'study_summary.csv'} ({len(excluded)} rows excluded)", file=stream)
    print(_markdown_table(summary), file=stream)
    return 0
