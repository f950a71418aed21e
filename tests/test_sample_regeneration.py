"""``make sample`` regenerates data/sample/ byte for byte."""

from __future__ import annotations

from pathlib import Path

from engagestats.__main__ import main

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"


def test_make_sample_regenerates_every_file_byte_for_byte(tmp_path, capsys):
    """Run the ``make sample`` entry point into tmp_path and compare every file."""
    assert main(["sample", str(tmp_path)]) == 0
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == ["clients.csv", "datapackage.json", "sessions.csv", "therapists.csv"]
    printed = capsys.readouterr().out.split()
    assert sorted(Path(p).name for p in printed) == written
    for name in written:
        assert (tmp_path / name).read_bytes() == (SAMPLE / name).read_bytes(), name
    # the committed folder holds nothing else except its hand-written README
    committed = sorted(p.name for p in SAMPLE.iterdir())
    assert committed == sorted([*written, "README.md"])


def test_sample_files_are_small():
    total = sum(p.stat().st_size for p in SAMPLE.iterdir())
    assert total < 2_000_000
