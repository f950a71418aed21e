"""Qualtrics and REDCap exports (issue 16): every row and value accounted for."""

from __future__ import annotations

import csv
import io
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import engagestats as es
from engagestats.errors import DataValidationError, DataWarning
from engagestats.io import example_export, read_qualtrics, read_redcap

PHQ_1_4 = {"phq9": {1: 0, 2: 1, 3: 2, 4: 3}}
CHOICES = {
    "phq9": {
        "Not at all": 0,
        "Several days": 1,
        "More than half the days": 2,
        "Nearly every day": 3,
    }
}
UPPER = {"PHQ9_1": "phq9_1", "PHQ9_2": "phq9_2"}


def _lines(path: Path) -> list[list[str]]:
    text = path.read_bytes().decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text, newline="")))


def test_fixtures_are_laid_out_as_the_platforms_write_them():
    numeric = example_export("qualtrics_numeric.csv").read_bytes()
    assert not numeric.startswith(b"\xef\xbb\xbf")
    assert b"\r\n" not in numeric
    assert numeric.splitlines()[2].startswith(b'"{""ImportId"":""startDate""}"')
    text = example_export("qualtrics_choice_text.csv").read_bytes()
    assert text.startswith(b'\xef\xbb\xbf"StartDate","EndDate"')
    assert text.count(b"\r\n") == 9
    dictionary = example_export("redcap_dictionary.csv").read_bytes()
    assert dictionary.startswith(b"\xef\xbb\xbfVariable / Field Name,Form Name,Section Header,")
    assert b',"Choices, Calculations, OR Slider Labels",' in dictionary.splitlines()[0]
    with pytest.raises(DataValidationError, match="expected one of"):
        example_export("nope.csv")


def test_qualtrics_numeric_every_row_and_value_accounted():
    path = example_export("qualtrics_numeric.csv")
    study = read_qualtrics(path, client_columns=["age"], columns=UPPER, recode=PHQ_1_4)
    rows = _lines(path)[3:]  # three header rows
    assert len(study.sessions) == len(rows) == 6
    acc = study.accounting.set_index("table")
    assert acc.loc["sessions", "rows_read"] == acc.loc["sessions", "rows_kept"] == 6
    header = _lines(path)[0]
    raw = pd.DataFrame(rows, columns=header)
    assert study.sessions["phq9_1"].tolist() == [int(v) - 1 for v in raw["PHQ9_1"]]
    assert study.sessions["phq9_2"].tolist() == [int(v) - 1 for v in raw["PHQ9_2"]]
    assert study.sessions["ResponseId"].tolist() == raw["ResponseId"].tolist()
    assert study.sessions["client_id"].tolist() == raw["ExternalReference"].tolist()
    assert study.clients["age"].tolist() == [34, 51, 22]
    cm = study.column_map
    assert "Qualtrics header rows" in cm["how"].iloc[0]
    recoded = cm[cm["how"].str.startswith("recoded")]
    assert recoded[["column", "cells"]].values.tolist() == [["phq9_1", 6], ["phq9_2", 6]]
    # metadata columns are kept, as text exactly as written
    assert study.sessions["Duration (in seconds)"].iloc[0] == "600"


def test_qualtrics_choice_text_export_gives_the_same_numbers():
    numeric = read_qualtrics(
        example_export("qualtrics_numeric.csv"), client_columns=["age"], columns=UPPER,
        recode=PHQ_1_4,
    )  # fmt: skip
    with pytest.warns(DataWarning, match="'PHQ9_1' -> 'phq9_1'"):
        text = read_qualtrics(
            example_export("qualtrics_choice_text.csv"), client_columns=["age"], recode=CHOICES
        )
    cols = ["client_id", "session", "phq9_1", "phq9_2"]
    pd.testing.assert_frame_equal(text.sessions[cols], numeric.sessions[cols])
    assert text.sessions["Status"].iloc[0] == "IP Address"
    matched = text.column_map[text.column_map["how"] == "matched ignoring case"]
    assert matched["source"].tolist() == ["PHQ9_1", "PHQ9_2"]


def test_qualtrics_without_recode_diagnoses_the_scale_per_column(tmp_path):
    path = example_export("qualtrics_numeric.csv")
    rows = _lines(path)
    # more responses so that the shifted 1-4 scale is recognisable
    body = [r[:] for r in rows[3:]]
    extra = []
    for k in range(3, 6):
        for r in body:
            r2 = r[:]
            r2[12] = f"{r[12]}x{k}"
            extra.append(r2)
    path2 = tmp_path / "export.csv"
    buf = io.StringIO(newline="")
    csv.writer(buf, lineterminator="\n").writerows(rows[:3] + body + extra)
    path2.write_text(buf.getvalue(), encoding="utf-8")
    with pytest.raises(DataValidationError) as info:
        read_qualtrics(path2, client_columns=["age"], columns=UPPER)
    err = info.value
    assert str(err).splitlines()[1].startswith("  * export.csv, column 'PHQ9_")
    # the next step is an argument of the function the user called, not of load_study
    hint = "recode with read_qualtrics(..., recode={'phq9': {1: 0, 2: 1, 3: 2, 4: 3}})"
    assert hint in str(err)
    assert "load_study" not in str(err)
    assert err.column_summary["hint"].str.endswith(hint).all()
    # following the hint reads the export
    study = read_qualtrics(path2, client_columns=["age"], columns=UPPER, recode=PHQ_1_4)
    assert study.sessions["phq9_1"].max() == 3
    # a direct load_study of the same data still names load_study (the reader's name is
    # scoped to its own call)
    tables = {"therapists": study.therapists, "clients": study.clients,
              "sessions": study.sessions.assign(phq9_1=study.sessions["phq9_1"] + 1,
                                                phq9_2=study.sessions["phq9_2"] + 1)}  # fmt: skip
    with pytest.raises(DataValidationError, match=r"recode with load_study\(\.\.\., recode="):
        es.load_study(tables)
    p = err.problems
    # rows are lines of the export: the first response is line 4
    # PHQ9_1 is 3, 2, 4, 4, 1, 1 in lines 4-9: the first 4 is on line 6
    assert p[(p["column"] == "PHQ9_1")]["row"].min() == 6
    assert set(p["file"]) == {"export.csv"}
    assert err.column_summary["n"].sum() == len(p)


def test_qualtrics_legacy_two_header_rows(tmp_path):
    path = tmp_path / "legacy.csv"
    path.write_bytes(
        "\ufeffV1,V2,V3,V8,V9,V10,Q1_1,Q1_2,client,therapist_id,session\r\n"
        "ResponseID,ResponseSet,Name,StartDate,EndDate,Finished,Interest,Mood,client,"
        "therapist_id,session\r\n"
        "R_1,Default Response Set,Anonymous,2015-03-02 10:00:00,2015-03-02 10:05:00,1,1,2,"
        "C1,T1,1\r\n"
        "R_2,Default Response Set,Anonymous,2015-03-09 10:00:00,2015-03-09 10:04:00,1,0,0,"
        "C1,T1,2\r\n".encode()
    )
    study = read_qualtrics(path, client="client", columns={"Q1_1": "phq9_1", "Q1_2": "phq9_2"})
    assert study.sessions["ResponseID"].tolist() == ["R_1", "R_2"]
    assert study.sessions[["client_id", "session"]].values.tolist() == [["C1", 1], ["C1", 2]]
    assert study.sessions["phq9_2"].tolist() == [2.0, 0.0]
    assert study.accounting.set_index("table").loc["sessions", "rows_read"] == 2


def test_qualtrics_sessions_numbered_by_start_date(tmp_path):
    rows = _lines(example_export("qualtrics_numeric.csv"))
    header = rows[0]
    s = header.index("session")
    body = [r[:s] + r[s + 1 :] for r in rows[3:]][::-1]  # newest first, no session column
    buf = io.StringIO(newline="")
    csv.writer(buf, lineterminator="\n").writerows([r[:s] + r[s + 1 :] for r in rows[:3]] + body)
    path = tmp_path / "nosession.csv"
    path.write_text(buf.getvalue(), encoding="utf-8")
    study = read_qualtrics(path, session=None, client_columns=["age"], columns=UPPER,
                           recode=PHQ_1_4)  # fmt: skip
    want = read_qualtrics(example_export("qualtrics_numeric.csv"), client_columns=["age"],
                          columns=UPPER, recode=PHQ_1_4)  # fmt: skip
    key = ["client_id", "session"]
    got = study.sessions.sort_values(key).reset_index(drop=True)
    assert got[[*key, "phq9_1", "StartDate"]].equals(want.sessions[[*key, "phq9_1", "StartDate"]])
    assert study.column_map["how"].str.contains("StartDate order").sum() == 1


def test_qualtrics_client_column_conflict_names_the_line(tmp_path):
    text = example_export("qualtrics_numeric.csv").read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    lines[4] = lines[4].replace(",T1,2,34", ",T1,2,35")
    path = tmp_path / "conflict.csv"
    path.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(DataValidationError, match="expected one age per client") as info:
        read_qualtrics(path, client_columns=["age"], columns=UPPER, recode=PHQ_1_4)
    assert info.value.problems[["file", "row", "column"]].iloc[0].tolist() == [
        "conflict.csv",
        5,
        "age",
    ]


def test_qualtrics_missing_client_column():
    with pytest.raises(DataValidationError, match="not in the export") as info:
        read_qualtrics(example_export("qualtrics_numeric.csv"), client="Participant")
    assert info.value.problems["column"].tolist() == ["Participant"]


def test_redcap_every_row_and_value_accounted():
    export = example_export("redcap_export.csv")
    study = read_redcap(export, example_export("redcap_dictionary.csv"))
    rows = _lines(export)
    raw = pd.DataFrame(rows[1:], columns=rows[0])
    n_client = int((raw["redcap_event_name"] == "intake_arm_1").sum())
    assert len(study.clients) + len(study.sessions) == len(raw) == 9
    assert len(study.clients) == n_client == 3
    assert study.sessions[["client_id", "session"]].values.tolist() == [
        ["R001", 1], ["R001", 2], ["R002", 1], ["R003", 1], ["R003", 2], ["R003", 3],
    ]  # fmt: skip
    sess = raw[raw["redcap_event_name"] != "intake_arm_1"]
    want = pd.to_numeric(sess["phq9_1"]).to_numpy(dtype=float)
    np.testing.assert_array_equal(study.sessions["phq9_1"].to_numpy(), want)
    assert study.clients["gender"].tolist() == ["woman", "man", "nonbinary"]
    assert study.clients["reasons"].iloc[:2].tolist() == ["low mood|relationships", "work"]
    assert pd.isna(study.clients["reasons"].iloc[2])
    ts = study.sessions["session_survey_timestamp"]
    assert ts.dtype == "datetime64[ns]"
    assert ts.isna().sum() == 1
    cm = study.column_map.set_index("source")
    assert cm.loc["session_survey_timestamp", "cells"] == 1
    assert cm.loc["gender", "cells"] == 3
    assert cm.loc["9 export rows", "how"] == "6 session rows, 3 client-level rows"


def test_redcap_problem_names_export_line(tmp_path):
    text = example_export("redcap_export.csv").read_text(encoding="utf-8")
    bad = text.replace("2024-02-08 16:02:44,3,2", "2024-02-08 16:02:44,7,2")
    (tmp_path / "export.csv").write_text(bad, encoding="utf-8")
    with pytest.raises(DataValidationError) as info:
        read_redcap(tmp_path / "export.csv", example_export("redcap_dictionary.csv"))
    assert info.value.problems[["file", "row", "column"]].values.tolist() == [
        ["export.csv", 6, "phq9_1"]
    ]


def test_redcap_recode_hint_names_read_redcap(tmp_path):
    export = example_export("redcap_sample_export.csv")
    raw = pd.read_csv(export, dtype=str, keep_default_na=False)
    items = [f"phq9_{i}" for i in range(1, 10)]
    session = raw["redcap_event_name"] != "intake_arm_1"
    for c in items:  # shift to Qualtrics-like 1-4 codes
        vals = pd.to_numeric(raw.loc[session, c], errors="coerce") + 1
        raw.loc[session, c] = vals.map(lambda v: "" if pd.isna(v) else str(int(v)))
    raw.to_csv(tmp_path / "export.csv", index=False)
    with pytest.raises(DataValidationError) as info:
        read_redcap(tmp_path / "export.csv", example_export("redcap_sample_dictionary.csv"))
    assert "recode with read_redcap(..., recode={'phq9': {1: 0, 2: 1, 3: 2, 4: 3}})" in str(
        info.value
    )
    assert "load_study" not in str(info.value)


def test_redcap_explicit_events_and_wrong_dictionary(tmp_path):
    study = read_redcap(
        example_export("redcap_export.csv"),
        example_export("redcap_dictionary.csv"),
        events={"session_1_arm_1": 1, "session_2_arm_1": 5},
    )
    assert study.sessions.loc[study.sessions["client_id"] == "R001", "session"].tolist() == [1, 5]
    with pytest.raises(DataValidationError, match="not a REDCap data dictionary"):
        read_redcap(example_export("redcap_export.csv"), example_export("redcap_export.csv"))


def _qualtrics_from_sample(folder: Path) -> Path:
    """A realistic Qualtrics export of the sample sessions, items coded 1-4."""
    sample = es.load_sample()
    s = sample.panel(attended_only=True)
    items = [f"phq9_{k}" for k in range(1, 10)]
    out = pd.DataFrame(
        {
            "StartDate": s["date"].dt.strftime("%Y-%m-%d 09:00:00"),
            "Status": "0",
            "ResponseId": [f"R_{i:06d}" for i in range(len(s))],
            "ExternalReference": s["client_id"],
            **{
                k.upper(): (s[k] + 1).astype("Int64").astype(str).replace("<NA>", "") for k in items
            },
            "therapist_id": s["therapist_id"],
            "session": s["session"].astype(str),
        }
    )
    texts = [f"question {c}" for c in out.columns]
    ids = [f'{{"ImportId":"{c}"}}' for c in out.columns]
    path = folder / "qualtrics.csv"
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\n")
    w.writerows([list(out.columns), texts, ids, *out.to_numpy().tolist()])
    path.write_bytes(b"\xef\xbb\xbf" + buf.getvalue().encode())
    return path


@pytest.mark.slow
def test_raw_qualtrics_export_to_growth_model_in_two_lines(tmp_path):
    """Issue 16 goal: <= 5 lines of user code from a raw export to a fitted growth model."""
    path = _qualtrics_from_sample(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)  # PHQ9_1 matched to phq9_1: expected
        # --- the user's code: 2 lines
        study = es.read_qualtrics(path, recode={"phq9": {1: 0, 2: 1, 3: 2, 4: 3}})
        fit = es.analyses.growth_model(es.score(study), outcome="phq9_total")
    assert np.isfinite(fit.table()["estimate"]).all()
