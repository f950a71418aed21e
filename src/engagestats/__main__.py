"""Command line: ``engagestats report [DATA] --out DIR`` (or ``python -m engagestats``)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="engagestats", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    rep = sub.add_parser("report", help="run the main job and write the report")
    rep.add_argument(
        "data",
        nargs="?",
        default=None,
        help="a study folder (default: the bundled sample)",
    )
    rep.add_argument("--out", default="report", help="output folder (default: report)")
    rep.add_argument(
        "--check",
        action="store_true",
        help="compare the regenerated tables with docs/report/tables; exit 1 on a difference",
    )
    smp = sub.add_parser("sample", help="regenerate the bundled sample study (make sample)")
    smp.add_argument("folder", help="where to write it (data/sample in the repository)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    args = _build_parser().parse_args(argv)
    from .errors import EngageStatsError

    try:
        if args.command == "report":
            from .report import run_report

            return run_report(args.data, out=args.out, check=args.check)
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
