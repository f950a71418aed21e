"""write_study: deterministic bytes, a Frictionless codebook, and an exact round trip."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from engagestats import Study
from engagestats.io import load_study, write_study

from .iotest_builders import assert_study_equal, expected_study, write_tables


def _awkward_study() -> Study:
    """Floats that do not print short, text needing quotes, unknown columns of each type."""
    base = expected_study()
    clients = base.clients.assign(
        weight=[0.1 + 0.2, 1e-17, np.nan],  # 0.30000000000000004 must survive
        note=pd.Series(['says "hi", twice', "line\nbreak", "ünïcödé"], dtype=object),
        visits=np.array([3, 0, 12], dtype=np.int64),
        big=[2.0**60, -1.5, 7.0],
    )
    return Study(base.therapists, clients, base.sessions)


def test_round_trip_equals(tmp_path):
    study = _awkward_study()
    write_study(study, tmp_path)
    back = load_study(tmp_path)
    assert_study_equal(back, study)
    assert back.clients["weight"].iloc[0] == 0.1 + 0.2
    assert back.clients["big"].iloc[0] == 2.0**60


def test_writing_twice_gives_identical_bytes(tmp_path):
    study = _awkward_study()
    write_study(study, tmp_path / "a")
    write_study(load_study(tmp_path / "a"), tmp_path / "b")
    names = ["therapists.csv", "clients.csv", "sessions.csv", "datapackage.json"]
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == sorted(names)


def test_file_format(tmp_path):
    write_study(expected_study(), tmp_path)
    raw = (tmp_path / "sessions.csv").read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    assert b"\r" not in raw
    lines = raw.decode().split("\n")
    assert lines[0] == "client_id,session,date,attended,homework,phq9_1,phq9_2"
    assert lines[1] == "C1,1,2024-01-22,1,1,2,3"  # whole floats without ".0"
    assert lines[2] == "C1,2,2024-01-29,0,,,"
    assert lines[-1] == ""


def test_round_trip_of_loaded_files_is_byte_identical(tmp_path):
    """Writing what was loaded reproduces the hand-written CSV files exactly."""
    src = write_tables(tmp_path / "src")
    write_study(load_study(src), tmp_path / "out")
    for name in ("therapists.csv", "clients.csv", "sessions.csv"):
        assert (tmp_path / "out" / name).read_bytes() == (src / name).read_bytes(), name


def test_datapackage_lists_every_column(tmp_path):
    study = _awkward_study()
    write_study(study, tmp_path)
    package = json.loads((tmp_path / "datapackage.json").read_text(encoding="utf-8"))
    assert package["profile"] == "tabular-data-package"
    resources = {r["name"]: r for r in package["resources"]}
    assert list(resources) == ["therapists", "clients", "sessions"]
    for name in resources:
        fields = resources[name]["schema"]["fields"]
        assert [f["name"] for f in fields] == list(getattr(study, name).columns)
        assert resources[name]["path"] == f"{name}.csv"
    clients = {f["name"]: f for f in resources["clients"]["schema"]["fields"]}
    assert clients["age"]["constraints"] == {"minimum": 16, "maximum": 99}
    assert clients["urica_1"]["type"] == "integer"
    assert clients["intake_date"]["type"] == "date"
    assert {k: clients[k]["type"] for k in ("weight", "note", "visits", "big")} == {
        "weight": "number",
        "note": "string",
        "visits": "integer",
        "big": "number",
    }
    sessions = resources["sessions"]["schema"]
    assert sessions["primaryKey"] == ["client_id", "session"]
    assert sessions["foreignKeys"][0]["reference"] == {
        "resource": "clients",
        "fields": ["client_id"],
    }
    assert "time" not in (tmp_path / "datapackage.json").read_text()  # no timestamps


def test_round_trip_with_datetimes_and_empty_sessions(tmp_path):
    base = expected_study()
    sessions = base.sessions.iloc[:0]
    study = Study(base.therapists, base.clients, sessions)
    write_study(study, tmp_path)
    assert (tmp_path / "sessions.csv").read_text() == ",".join(sessions.columns) + "\n"
    assert_study_equal(load_study(tmp_path), study)


def test_scored_study_with_nullable_flags_is_written(tmp_path):
    """A scored study holds nullable booleans (phq9_item9_flag with <NA>); they are written."""
    import engagestats as es

    scored = es.score(es.simulate_study(n_therapists=4, clients_per_therapist=4, seed=1))
    flags = scored.sessions["phq9_item9_flag"]
    assert flags.isna().any()
    assert flags.dropna().any()
    write_study(scored, tmp_path)
    text = pd.read_csv(tmp_path / "sessions.csv", dtype=str, keep_default_na=False)
    assert set(text["phq9_item9_flag"]) <= {"true", "false", ""}
    assert (text["phq9_item9_flag"] == "").sum() == flags.isna().sum()


_INJECTIONS = ['=HYPERLINK("http://x","y")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A2)", "'quoted"]


def _injection_study() -> Study:
    base = expected_study()
    clients = base.clients.assign(
        note=pd.Series(_INJECTIONS[:3], dtype=object),
        **{"=col": pd.Series([*_INJECTIONS[3:], "fine"], dtype=object)},
        score=[-1.5, 2.0, -3.0],  # negative numbers are numbers, never escaped
    )
    return Study(base.therapists, clients, base.sessions)


def test_xlsx_cells_starting_a_formula_are_text_cells(tmp_path):
    """Issue 18: no written cell or header of an xlsx is a formula; all come back exactly.

    Before the fix a column name starting with ``=`` was written as a formula header."""
    import openpyxl

    study = _injection_study()
    write_study(study, tmp_path, format="xlsx")
    ws = openpyxl.load_workbook(tmp_path / "clients.xlsx", data_only=False).active
    cells = [c for row in ws.iter_rows() for c in row if c.value is not None]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    # xlsx cells are typed: text is stored as text (openpyxl's "s"), which a spreadsheet
    # shows and never runs, so the text itself is kept as it is
    texts = {c.value: c.data_type for c in cells if isinstance(c.value, str)}
    for bad in [*_INJECTIONS, "=col"]:
        assert texts.get(bad) == "s", bad
    header = [c.value for c in ws[1]]
    numbers = [ws.cell(row=r, column=header.index("score") + 1).value for r in (2, 3, 4)]
    assert numbers == [-1.5, 2.0, -3.0]
    back = load_study(tmp_path)
    assert back.equals(study)


def test_csv_cells_starting_a_formula_are_escaped_on_disk(tmp_path):
    study = _injection_study()
    write_study(study, tmp_path)
    raw = pd.read_csv(tmp_path / "clients.csv", dtype=str, keep_default_na=False)
    assert raw["note"].tolist() == ["'" + v for v in _INJECTIONS[:3]]
    assert "'=col" in raw.columns
    assert "=col" not in raw.columns
    assert raw["score"].tolist() == ["-1.5", "2", "-3"]
    assert load_study(tmp_path).equals(study)
