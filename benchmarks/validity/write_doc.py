"""Paste the committed result tables of the validity benchmark into docs/validity.md.

``python benchmarks/validity/write_doc.py`` replaces the text between the
``<!-- table:NAME -->`` and ``<!-- /table -->`` markers with ``results/NAME.md``.
"""

from __future__ import annotations

import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
DOC = HERE.parents[1] / "docs" / "validity.md"


def main() -> int:
    text = DOC.read_text()
    for name in (
        "alliance",
        "growth",
        "therapist_share",
        "dropout",
        "total_effects",
        "time_codings",
        "therapist_effects",
        "therapist_share_ci",
        "therapist_share_diagnostics",
        "mi_coverage",
        "mi_coverage_tslope",
        "monitoring",
        "mediation",
    ):
        table = (HERE / "results" / f"{name}.md").read_text()
        text = re.sub(
            rf"(<!-- table:{name} -->\n).*?(<!-- /table -->)",
            lambda m, t=table: m.group(1) + t + m.group(2),
            text,
            flags=re.S,
        )
    DOC.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
