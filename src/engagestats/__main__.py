"""Command line: ``engagestats report [DATA] --out DIR`` (or ``python -m engagestats``)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

DESCRIPTION = """\
engagestats: motivation, readiness, alliance and outcome analyses for psychotherapy research.

commands:
  report   load and validate a study, run every analysis, write the report
  sample   regenerate the bundled sample study
"""

EPILOG = """\
examples:
  engagestats report --out report             the bundled sample, into ./report
  engagestats report path/to/study --out out  your own study folder
  engagestats report --check                  compare with docs/report/tables

Run "engagestats COMMAND --help" for the options of a command.
Exit codes: 0 success, 1 --check found differences, 2 invalid input or an unsafe --out folder.
"""

REPORT_DESCRIPTION = """\
Load and validate a study, run every analysis and write the report.

Output (in --out): report.html (one self-contained, styled page: figures embedded, no
network needed), report.md, report.docx (when python-docx is installed), tables/ (full
precision CSV and APA-formatted Markdown) and figures/ (PNG and SVG).

The --out folder must be new, empty, or written by an earlier report. Only files that an
earlier report wrote (listed in its .engagestats-report.json) are replaced or removed;
any other file is left alone, and a run that would overwrite one stops before writing.
"""

SAMPLE_DESCRIPTION = """\
Regenerate the bundled sample study (CSV files, byte for byte) into FOLDER.
In the repository this is data/sample ("make sample").
"""


def _version() -> str:
    # The package (engagestats/__init__.py) is imported before its __main__ module runs.
    return f"engagestats {sys.modules[__package__ or 'engagestats'].__version__}"


def _build_parser() -> argparse.ArgumentParser:
    raw = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(
        prog="engagestats", description=DESCRIPTION, epilog=EPILOG, formatter_class=raw
    )
    parser.add_argument(
        "--version", action="version", version=_version(), help="print the version and exit"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    rep = sub.add_parser(
        "report",
        help="run the main job and write the report",
        description=REPORT_DESCRIPTION,
        formatter_class=raw,
    )
    rep.add_argument(
        "data",
        nargs="?",
        default=None,
        metavar="DATA",
        help="a study folder that load_study reads (default: the bundled sample)",
    )
    rep.add_argument(
        "--out", default="report", metavar="DIR", help="output folder (default: report)"
    )
    rep.add_argument(
        "--check",
        action="store_true",
        help="compare the regenerated CSV tables with the reference tables (numbers with "
        "relative tolerance 1e-4); exit 1 on a difference",
    )
    rep.add_argument(
        "--reference",
        default=None,
        metavar="DIR",
        help="reference tables for --check (default: docs/report/tables of a source "
        "checkout, for the bundled sample only)",
    )
    docx = rep.add_mutually_exclusive_group()
    docx.add_argument(
        "--docx",
        dest="docx",
        action="store_true",
        default=None,
        help='require report.docx (needs python-docx: pip install "engagestats[docx]"); '
        "by default it is written when python-docx is installed",
    )
    docx.add_argument(
        "--no-docx", dest="docx", action="store_false", help="do not write report.docx"
    )
    smp = sub.add_parser(
        "sample",
        help="regenerate the bundled sample study",
        description=SAMPLE_DESCRIPTION,
        formatter_class=raw,
    )
    smp.add_argument("folder", metavar="FOLDER", help="where to write the sample's files")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    args = _build_parser().parse_args(argv)
    from .errors import EngageStatsError

    try:
        if args.command == "report":
            from .report import run_report

            return run_report(
                args.data,
                out=args.out,
                check=args.check,
                reference=args.reference,
                docx=args.docx,
            )
        if args.command == "sample":
            from .simulate import write_sample

            for path in write_sample(args.folder):
                print(path)
            return 0
    except EngageStatsError as err:
        print(f"engagestats: {err}", file=sys.stderr)
        return 2
    return 1  # pragma: no cover - argparse enforces a command


if __name__ == "__main__":
    sys.exit(main())
