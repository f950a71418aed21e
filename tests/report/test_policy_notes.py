"""Every report table states the report's one scoring policy (#15), in html, md and docx."""

from __future__ import annotations

import html
import re

import pandas as pd
import pytest

import engagestats as es
from engagestats.report._render import write_report
from engagestats.report._sections import SECTIONS, Context, policy_note, state_policy_in_notes
from engagestats.scoring import BUILTIN_RULES, PRORATE_80


def _md_blocks(text: str) -> list[str]:
    """The text of each table in report.md, from its "**Table N**" label to the next block."""
    starts = [m.start() for m in re.finditer(r"^\*\*Table \d+\*\*", text, flags=re.M)]
    ends = [*starts[1:], len(text)]
    return [
        re.split(r"^\*\*Figure |^## ", text[a:b], flags=re.M)[0]
        for a, b in zip(starts, ends, strict=False)
    ]


def test_every_table_note_names_the_policy(report_dir):
    note = policy_note(PRORATE_80)
    assert "'prorate_80'" in note
    md = (report_dir / "report.md").read_text(encoding="utf-8")
    n_tables = len(list((report_dir / "tables").glob("*.csv")))
    blocks = _md_blocks(md)
    assert len(blocks) == n_tables > 20
    for block in blocks:
        assert note in block, block[:80]
    page = (report_dir / "report.html").read_text(encoding="utf-8")
    tables = page.split('<table class="apa">')[1:]
    assert len(tables) == n_tables
    for part in tables:  # the note follows its own table, before the next one
        assert f'<p class="table-note">{html.escape(note)}</p>' in part
    docx = pytest.importorskip("docx")
    document = docx.Document(str(report_dir / "report.docx"))
    assert len(document.tables) == n_tables
    assert sum(p.text == note for p in document.paragraphs) == n_tables


def test_report_tables_are_unchanged_by_the_note(report_dir):
    """The note is text under the table, not a column: the --check CSVs stay as they were."""
    rates = pd.read_csv(report_dir / "tables" / "change_rates.csv")
    assert "scoring_policy" not in rates.columns


def test_a_non_default_policy_is_the_one_stated(tmp_path):
    strict = es.load_study(es.datasets.sample_folder(), scoring_policy=BUILTIN_RULES)
    ctx = Context.build(strict)
    assert ctx.policy is BUILTIN_RULES
    assert ctx.scored.scoring_policy is BUILTIN_RULES
    sections = [build(ctx) for build in SECTIONS]
    state_policy_in_notes(sections, ctx.policy)
    scoring = next(s for s in sections if s.key == "scoring")
    assert BUILTIN_RULES.describe() in " ".join(scoring.text)
    summary = scoring.tables["summary"]
    assert summary.loc[summary["instrument"] == "phq9", "n_prorated"].iloc[0] == 0
    write_report(sections, tmp_path, title="t")
    md = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert md.count(policy_note(BUILTIN_RULES)) == sum(len(s.tables) for s in sections)
    assert "'prorate_80'" not in md
    # fewer PHQ-9 totals without proration: n changes, and the report says under which rule
    default = Context.build(es.load_sample()).scored
    assert ctx.scored.sessions["phq9_total"].count() < default.sessions["phq9_total"].count()
