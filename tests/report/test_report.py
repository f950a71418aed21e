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
    for page in ("report.md", "report.html", "report.docx"):
        assert (tmp_path / page).read_bytes() == (report_dir / page).read_bytes()


def test_check_passes_against_committed_reference(report_dir):
    assert compare_tables(report_dir / "tables", REFERENCE_DIR) == []


def test_one_report_run_scores_the_study_once(tmp_path, monkeypatch):
    """Counting wrappers on the scorer, as in the code review (which counted 9 whole-Study and
    41 single-instrument scorings per run): now one Study scoring, one pass per instrument."""
    import engagestats.scoring.scorer as scorer

    studies, frames = [], []
    score_study, score_frame = scorer._score_study, scorer._score_frame

    def count_study(*args, **kwargs):
        studies.append(1)
        return score_study(*args, **kwargs)

    def count_frame(data, inst, *args, **kwargs):
        frames.append((kwargs.get("table", "data"), inst.name))
        return score_frame(data, inst, *args, **kwargs)

    monkeypatch.setattr(scorer, "_score_study", count_study)
    monkeypatch.setattr(scorer, "_score_frame", count_frame)
    assert run_report(out=tmp_path, stream=io.StringIO()) == 0
    assert len(studies) == 1
    assert sorted(frames) == sorted(
        [("clients", n) for n in ("urica", "gas", "srq")]
        + [("sessions", n) for n in ("phq9", "gad7", "wai_sr")]
    )


def test_report_states_its_one_scoring_policy(report_dir):
    from engagestats.scoring import PRORATE_80

    text = (report_dir / "report.md").read_text(encoding="utf-8")
    assert PRORATE_80.describe() in text
    assert "stricter built-in rules" not in text
    summary = pd.read_csv(report_dir / "tables" / "scoring_summary.csv")
    phq9 = summary.loc[summary["instrument"] == "phq9"].iloc[0]
    assert phq9["n_prorated"] > 0  # PHQ-9 prorated from 8 of 9 items, as in the models


def test_check_fails_on_a_changed_number(report_dir, tmp_path):
    ref = tmp_path / "ref"
    shutil.copytree(report_dir / "tables", ref)
    rates = pd.read_csv(ref / "change_rates.csv")
    rates.loc[0, "rate"] *= 1.001  # 1e-3: above the 1e-4 tolerance
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
    scored = es.scoring.PRORATE_80.score(es.load_sample())  # the report's one policy
    change = es.instrument_change(scored, instrument="phq9")
    expected = change.dropna(subset=["pre", "post"])[["pre", "post"]].to_numpy(float)
    assert points.shape == expected.shape
    np.testing.assert_allclose(
        np.sort(points, axis=0), np.sort(expected, axis=0), rtol=0, atol=1e-12
    )


def test_recovery_by_stage_figure_matches_outcomes(sections):
    ax = sections["change"].figures["recovery_by_stage"].axes[0]
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert set(labels) <= {"least_ready", "middle_ready", "most_ready"}  # readiness profiles
    totals = np.zeros(len(labels))
    for container in ax.containers:
        totals += [b.get_height() for b in container]
    np.testing.assert_allclose(totals, 1.0, rtol=1e-12)


def _gid(ax, gid):
    for artist in [*ax.get_lines(), *ax.collections]:
        if artist.get_gid() == gid:
            return artist
    raise AssertionError(f"no artist with gid {gid!r}")


@pytest.mark.parametrize(("key", "by"), [("motivation", "motivation_type"), ("readiness", "stage")])
def test_trajectory_figures_show_model_trajectories(sections, key, by):
    sec = sections[key]
    ax = sec.figures[f"trajectories_by_{by}"].axes[0]
    data = es.analyses.analyse_readiness if key == "readiness" else es.analyses.analyse_motivation
    res = data(es.load_sample())
    traj = res.figure_data[f"trajectories_by_{by}"]
    for level, grp in traj.groupby(by, observed=True):
        line = _gid(ax, f"trajectory:{level}")
        np.testing.assert_allclose(line.get_xdata(), grp["time"], rtol=0, atol=1e-12)
        np.testing.assert_allclose(line.get_ydata(), grp["estimate"], rtol=1e-12)


def test_forest_figure_shows_the_fixed_effects(sections):
    ax = sections["motivation"].figures["forest"].axes[0]
    table = sections["motivation"].tables["model"]
    fixed = table.loc[table["section"] == "fixed effects"].set_index("term")
    fixed = fixed.drop(index="(Intercept)")
    points = _gid(ax, "estimates").get_xdata()
    np.testing.assert_allclose(
        np.sort(points), np.sort(fixed["estimate"].astype(float)), rtol=1e-12
    )


def test_dropout_forest_shows_the_odds_ratios(sections):
    sec = sections["dropout"]
    ax = sec.figures["forest"].axes[0]
    odds = sec.tables["odds_ratios_gee"].set_index("term").drop(index="(Intercept)")
    np.testing.assert_allclose(
        np.sort(_gid(ax, "estimates").get_xdata()), np.sort(odds["odds_ratio"]), rtol=1e-12
    )
    assert ax.get_xscale() == "log"


def test_alliance_figure_shows_client_means(sections):
    fig = sections["alliance"].figures["within_between"]
    between = _gid(fig.axes[0], "between_points").get_offsets()
    panel = es.analyses.analyse_alliance(es.load_sample()).figure_data["panel"]
    both = panel.dropna(subset=["wai_sr_total", "phq9_total"])
    means = both.groupby("client_id")[["wai_sr_total", "phq9_total"]].mean().to_numpy()
    np.testing.assert_allclose(
        np.sort(between, axis=0), np.sort(means, axis=0), rtol=1e-12, atol=1e-12
    )


def test_caterpillar_figure_shows_therapist_modes(sections):
    ax = sections["alliance"].figures["therapists"].axes[0]
    modes = _gid(ax, "estimates").get_xdata()
    assert len(modes) == 30
    assert np.all(np.diff(modes) >= 0)  # sorted
