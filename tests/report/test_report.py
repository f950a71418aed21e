"""The main job: outputs, determinism, --check, invalid input, and the data behind each figure."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PathCollection

import engagestats as es
from engagestats.__main__ import main
from engagestats.report import REFERENCE_DIR, run_report
from engagestats.report._check import compare_tables
from engagestats.report._sections import SECTIONS, Context


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    assert run_report(out=out, stream=io.StringIO()) == 0
    return out


@pytest.fixture(scope="module")
def sections():
    ctx = Context.build(es.load_sample())
    return {s.key: s for s in (build(ctx) for build in SECTIONS)}


def test_report_writes_pages_tables_and_figures(report_dir):
    assert (report_dir / "report.md").is_file()
    html = (report_dir / "report.html").read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    tables = sorted(p.stem for p in (report_dir / "tables").glob("*.csv"))
    assert {"sample_summary", "scoring_reliability", "change_rates", "engagement_summary"} <= set(
        tables
    )
    for stem in tables:
        assert (report_dir / "tables" / f"{stem}.md").is_file()
        assert f"tables/{stem}.csv" in (report_dir / "report.md").read_text(encoding="utf-8")
    figures = sorted(p.stem for p in (report_dir / "figures").glob("*.svg"))
    assert figures
    for stem in figures:
        assert (report_dir / "figures" / f"{stem}.png").is_file()
        assert f'figures/{stem}.svg"' in html


def test_report_is_deterministic(report_dir, tmp_path):
    assert run_report(out=tmp_path, stream=io.StringIO()) == 0
    for sub in ("tables", "figures"):
        for path in sorted((report_dir / sub).iterdir()):
            assert (tmp_path / sub / path.name).read_bytes() == path.read_bytes(), path.name
    for page in ("report.md", "report.html"):
        assert (tmp_path / page).read_bytes() == (report_dir / page).read_bytes()


def test_check_passes_against_committed_reference(report_dir):
    assert compare_tables(report_dir / "tables", REFERENCE_DIR) == []


def test_check_fails_on_a_changed_number(report_dir, tmp_path):
    ref = tmp_path / "ref"
    shutil.copytree(report_dir / "tables", ref)
    rates = pd.read_csv(ref / "change_rates.csv")
    rates.loc[0, "rate"] *= 1.001
    rates.to_csv(ref / "change_rates.csv", index=False)
    (ref / "extra.csv").write_text("a\n1\n")
    problems = compare_tables(report_dir / "tables", ref)
    assert any(p.startswith("change_rates.csv: column 'rate', row 1") for p in problems)
    assert any(p.startswith("extra.csv: missing") for p in problems)
    out = io.StringIO()
    assert run_report(out=tmp_path / "again", check=True, reference=ref, stream=out) == 1
    assert "table(s) differ" in out.getvalue()


def test_cli_turns_invalid_data_into_a_problem_list(tmp_path, capsys):
    es.write_study(es.load_sample(), tmp_path)
    sessions = pd.read_csv(tmp_path / "sessions.csv")
    sessions.loc[3, "phq9_2"] = 9
    sessions.to_csv(tmp_path / "sessions.csv", index=False)
    assert main(["report", str(tmp_path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "sessions.csv" in err
    assert "row 5" in err  # header is line 1, data row index 3 is line 5
    assert "phq9_2" in err
    assert "Traceback" not in err


def test_cli_entry_point_runs_as_module(tmp_path):
    bad = tmp_path / "nothing_here"
    bad.mkdir()
    proc = subprocess.run(
        [sys.executable, "-m", "engagestats", "report", str(bad), "--out", str(tmp_path / "o")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "engagestats:" in proc.stderr


# ---------------------------------------------------------------- figure data
def test_dropout_figure_shows_the_dropout_table(sections):
    sec = sections["engagement"]
    ax = sec.figures["dropout_by_format"].axes[0]
    table = sec.tables["dropout_by_format"].set_index("group")
    labels = [t.get_text() for t in ax.get_xticklabels()]
    heights = {}
    for container in ax.containers:
        if container.get_label() == "dropped out":
            heights = dict(zip(labels, [b.get_height() for b in container], strict=True))
    assert heights
    for group, h in heights.items():
        np.testing.assert_allclose(h, table.loc[group, "rate"], rtol=1e-12)


def test_jacobson_truax_figure_shows_first_and_last_phq9(sections):
    ax = sections["change"].figures["jacobson_truax_phq9"].axes[0]
    scatters = [c for c in ax.collections if isinstance(c, PathCollection)]
    points = np.vstack([c.get_offsets() for c in scatters])
    change = es.instrument_change(es.score(es.load_sample()), instrument="phq9")
    expected = change.dropna(subset=["pre", "post"])[["pre", "post"]].to_numpy(float)
    assert points.shape == expected.shape
    np.testing.assert_allclose(
        np.sort(points, axis=0), np.sort(expected, axis=0), rtol=0, atol=1e-12
    )


def test_recovery_by_stage_figure_matches_outcomes(sections):
    ax = sections["change"].figures["recovery_by_stage"].axes[0]
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert set(labels) <= {"precontemplation", "contemplation", "action"}
    totals = np.zeros(len(labels))
    for container in ax.containers:
        totals += [b.get_height() for b in container]
    np.testing.assert_allclose(totals, 1.0, rtol=1e-12)
