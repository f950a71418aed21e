"""--out safety: write only into a new, empty or report folder; delete only what a report wrote."""

from __future__ import annotations

import io
import json

import pytest

from engagestats.errors import EngageStatsError
from engagestats.report import run_report
from engagestats.report._output import MANIFEST, check_out, clear_previous, write_manifest


def test_a_non_report_folder_is_refused_before_any_work(tmp_path):
    (tmp_path / "thesis.docx").write_bytes(b"my thesis")
    (tmp_path / "report.html").write_text("mine")
    with pytest.raises(EngageStatsError, match="not written by engagestats report"):
        run_report(out=tmp_path, stream=io.StringIO())
    assert (tmp_path / "thesis.docx").read_bytes() == b"my thesis"
    assert (tmp_path / "report.html").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html", "thesis.docx"]


def test_a_file_is_refused_as_out(tmp_path):
    target = tmp_path / "notes.txt"
    target.write_text("keep")
    with pytest.raises(EngageStatsError, match="not a folder"):
        check_out(target)
    assert target.read_text() == "keep"


def test_new_and_empty_folders_are_accepted(tmp_path):
    assert check_out(tmp_path / "new") == []
    assert check_out(tmp_path) == []


def _report_folder(path, files):
    path.mkdir(parents=True, exist_ok=True)
    for rel in files:
        (path / rel).parent.mkdir(parents=True, exist_ok=True)
        (path / rel).write_text(rel)
    write_manifest(path, files)


def test_rerun_removes_only_the_files_the_report_wrote(tmp_path):
    out = tmp_path / "r"
    _report_folder(out, ["report.html", "tables/old_table.csv"])
    (out / "my_notes.txt").write_text("mine")
    (out / "tables" / "my_extra.csv").write_text("mine")
    previous = check_out(out, ["report.html", "tables/new_table.csv"])
    assert sorted(previous) == ["report.html", "tables/old_table.csv"]
    assert clear_previous(out, previous) == 2
    assert not (out / "tables" / "old_table.csv").exists()  # stale output does not survive
    assert (out / "my_notes.txt").read_text() == "mine"
    assert (out / "tables" / "my_extra.csv").read_text() == "mine"


def test_a_planned_file_the_report_did_not_write_is_refused(tmp_path):
    out = tmp_path / "r"
    _report_folder(out, ["report.html"])
    (out / "report.md").write_text("hand-written")
    with pytest.raises(EngageStatsError, match=r"report\.md exists and was not written"):
        check_out(out, ["report.html", "report.md"])
    assert (out / "report.md").read_text() == "hand-written"


def test_symlinks_are_never_followed(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    out = tmp_path / "r"
    _report_folder(out, ["report.html"])
    (out / "report.html").unlink()
    (out / "report.html").symlink_to(victim)
    with pytest.raises(EngageStatsError, match="symbolic link"):
        check_out(out, ["report.html"])
    assert clear_previous(out, ["report.html"]) == 0
    assert victim.read_text() == "precious"


def test_a_tampered_manifest_cannot_delete_outside_the_folder(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    out = tmp_path / "r"
    out.mkdir()
    entries = ["../victim.txt", str(victim), "tables/../../victim.txt", "report.html"]
    (out / MANIFEST).write_text(json.dumps({"written_by": "engagestats report", "files": entries}))
    previous = check_out(out, ["report.html"])
    assert previous == ["report.html"]
    clear_previous(out, previous)
    assert victim.read_text() == "precious"


def test_a_foreign_or_broken_manifest_is_not_trusted(tmp_path):
    out = tmp_path / "r"
    out.mkdir()
    (out / MANIFEST).write_text(json.dumps({"written_by": "someone", "files": ["a"]}))
    with pytest.raises(EngageStatsError, match="not empty"):
        check_out(out)
    (out / MANIFEST).write_text("{not json")
    with pytest.raises(EngageStatsError, match="unreadable"):
        check_out(out)


def test_the_report_writes_a_manifest_of_exactly_its_files(report_dir):
    listed = json.loads((report_dir / MANIFEST).read_text())["files"]
    on_disk = sorted(str(p.relative_to(report_dir)) for p in report_dir.rglob("*") if p.is_file())
    assert sorted([*listed, MANIFEST]) == on_disk
