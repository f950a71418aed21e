"""Broken files: every problem is found, located (file, row, column) and explained."""

from __future__ import annotations

import pandas as pd
import pytest

from engagestats.errors import DataValidationError
from engagestats.io import load_study

from .iotest_builders import CLIENTS, SESSIONS, THERAPISTS, expected_study, write_tables


def _problems(folder, file: str) -> pd.DataFrame:
    """Load, expect a DataValidationError whose message names ``file``."""
    with pytest.raises(DataValidationError) as info:
        load_study(folder)
    assert file in str(info.value)
    return info.value.problems


def _where(p: pd.DataFrame) -> list[tuple]:
    return list(p[["file", "row", "column"]].itertuples(index=False, name=None))


def test_empty_file(tmp_path):
    p = _problems(write_tables(tmp_path, clients=""), "clients.csv")
    assert _where(p) == [("clients.csv", None, None)]
    assert "empty" in p["problem"].iloc[0]


def test_blank_lines_only(tmp_path):
    p = _problems(write_tables(tmp_path, therapists="\n \n\n"), "therapists.csv")
    assert "expected a header line" in p["problem"].iloc[0]


def test_wrong_delimiter(tmp_path):
    p = _problems(write_tables(tmp_path, therapists=THERAPISTS.replace(",", ";")), "therapists.csv")
    assert _where(p) == [("therapists.csv", 1, "therapist_id;modality;years_experience")]
    assert "semicolon-delimited" in p["problem"].iloc[0]


def test_duplicated_header(tmp_path):
    clients = CLIENTS.replace("site", "age")
    p = _problems(write_tables(tmp_path, clients=clients), "clients.csv")
    assert _where(p) == [("clients.csv", 1, "age")]
    assert "duplicated column name" in p["problem"].iloc[0]


def test_duplicated_header_after_column_map(tmp_path):
    folder = write_tables(tmp_path, clients=CLIENTS.replace("site", "Age"))
    with pytest.raises(DataValidationError, match=r"clients\.csv") as info:
        load_study(folder, columns={"Age": "age"})
    assert _where(info.value.problems) == [("clients.csv", 1, "Age")]
    assert "mapped from 'Age'" in info.value.problems["problem"].iloc[0]


def test_empty_column_name(tmp_path):
    p = _problems(
        write_tables(tmp_path, therapists=THERAPISTS.replace(",modality", ",")), "therapists.csv"
    )
    assert _where(p) == [("therapists.csv", 1, "(column 2)")]


def test_missing_required_column(tmp_path):
    sessions = (
        "\n".join(
            ",".join(line.split(",")[:1] + line.split(",")[2:]) for line in SESSIONS.splitlines()
        )
        + "\n"
    )
    p = _problems(write_tables(tmp_path, sessions=sessions), "sessions.csv")
    assert _where(p) == [("sessions.csv", 1, "session")]
    assert p["problem"].iloc[0] == "required column 'session' is missing"


def test_missing_required_column_raises_even_when_dropping(tmp_path):
    folder = write_tables(tmp_path, clients=CLIENTS.replace("therapist_id", "therapist"))
    with pytest.raises(DataValidationError, match="required column 'therapist_id'"):
        load_study(folder, on_invalid="drop")


def test_text_in_numeric_column(tmp_path):
    clients = CLIENTS.replace("C2,T1,51", "C2,T1,fifty-one")
    p = _problems(write_tables(tmp_path, clients=clients), "clients.csv")
    assert _where(p) == [("clients.csv", 3, "age")]
    assert p["value"].iloc[0] == "fifty-one"
    assert p["problem"].iloc[0] == "not a number; expected an integer from 16 to 99"


def test_answer_outside_scale(tmp_path):
    sessions = SESSIONS.replace("C1,3,2024-02-05,1,0,1,1", "C1,3,2024-02-05,1,0,4,1")
    p = _problems(write_tables(tmp_path, sessions=sessions), "sessions.csv")
    assert _where(p) == [("sessions.csv", 4, "phq9_1")]
    assert p["problem"].iloc[0] == "outside the allowed range; expected an integer from 0 to 3"


def test_non_integer_answer(tmp_path):
    sessions = SESSIONS.replace("C2,1,2024-02-08,1,,3,2", "C2,1,2024-02-08,1,,3,1.5")
    p = _problems(write_tables(tmp_path, sessions=sessions), "sessions.csv")
    assert _where(p) == [("sessions.csv", 5, "phq9_2")]
    assert p["value"].iloc[0] == "1.5"
    assert p["problem"].iloc[0] == "not a whole number; expected an integer from 0 to 3"


def test_category_not_allowed(tmp_path):
    therapists = THERAPISTS.replace("T2,psychodynamic", "T2,Psychodynamic")
    p = _problems(write_tables(tmp_path, therapists=therapists), "therapists.csv")
    assert _where(p) == [("therapists.csv", 3, "modality")]
    assert "expected one of 'cbt', 'psychodynamic'" in p["problem"].iloc[0]


def test_orphan_session(tmp_path):
    sessions = SESSIONS + "C9,1,2024-04-01,1,1,1,1\n"
    p = _problems(write_tables(tmp_path, sessions=sessions), "sessions.csv")
    assert _where(p) == [("sessions.csv", 8, "client_id")]
    assert p["problem"].iloc[0] == (
        "unknown client_id 'C9'; expected an id listed in the clients table"
    )


def test_client_with_unknown_therapist(tmp_path):
    clients = CLIENTS.replace("C3,T2", "C3,T7")
    p = _problems(write_tables(tmp_path, clients=clients), "clients.csv")
    assert _where(p) == [("clients.csv", 4, "therapist_id")]
    assert p["value"].iloc[0] == "T7"


def test_duplicate_keys(tmp_path):
    therapists = THERAPISTS + "T1,integrative,20\n"
    sessions = SESSIONS + "C3,2,2024-03-31,1,1,0,0\n"
    folder = write_tables(tmp_path, therapists=therapists, sessions=sessions)
    p = _problems(folder, "therapists.csv")
    assert "sessions.csv" in p["file"].tolist()
    assert _where(p) == [
        ("therapists.csv", 4, "therapist_id"),
        ("sessions.csv", 8, "session"),
    ]
    assert p["problem"].iloc[0] == (
        "duplicate key (therapist_id=T1) already at row 2; expected each key once"
    )
    assert "(client_id=C3, session=2) already at row 7" in p["problem"].iloc[1]


def test_unparseable_dates(tmp_path):
    clients = CLIENTS.replace("2024-02-01", "01/02/2024").replace("2024-03-10", "2024-02-30")
    p = _problems(write_tables(tmp_path, clients=clients), "clients.csv")
    assert _where(p) == [("clients.csv", 3, "intake_date"), ("clients.csv", 4, "intake_date")]
    assert set(p["problem"]) == {"not a valid date; expected a date as YYYY-MM-DD"}
    assert p["value"].tolist() == ["01/02/2024", "2024-02-30"]


def test_session_numbers_not_increasing(tmp_path):
    sessions = SESSIONS.replace("C1,3,2024-02-05", "C1,0,2024-02-05")
    p = _problems(write_tables(tmp_path, sessions=sessions), "sessions.csv")
    assert _where(p) == [("sessions.csv", 4, "session")]
    assert p["problem"].iloc[0] == (
        "session numbers must increase strictly within client C1; expected a number above 2"
    )


def test_negative_session_number(tmp_path):
    sessions = SESSIONS.replace("C2,1,2024-02-08", "C2,-1,2024-02-08")
    p = _problems(write_tables(tmp_path, sessions=sessions), "sessions.csv")
    assert _where(p) == [("sessions.csv", 5, "session")]
    assert p["problem"].iloc[0] == "outside the allowed range; expected an integer >= 0"


def test_missing_key_value(tmp_path):
    clients = CLIENTS.replace("C2,T1", ",T1")
    p = _problems(write_tables(tmp_path, clients=clients), "clients.csv")
    # C2's sessions now reference a client that no longer exists.
    assert _where(p) == [("clients.csv", 3, "client_id"), ("sessions.csv", 5, "client_id")]
    assert p["problem"].iloc[0] == "missing value; expected a text value"
    assert p["value"].iloc[0] is None


def test_ragged_row(tmp_path):
    sessions = SESSIONS.replace("C3,1,2024-03-17,1,1,0,0", "C3,1,2024-03-17,1,1,0,0,extra")
    p = _problems(write_tables(tmp_path, sessions=sessions), "sessions.csv")
    assert _where(p) == [("sessions.csv", 6, None)]
    assert p["problem"].iloc[0] == "expected 7 fields as in the header, found 8"


def test_row_numbers_count_physical_lines(tmp_path):
    """A quoted field spanning two lines shifts later rows; blank lines count too."""
    therapists = (
        'therapist_id,modality,years_experience,note\nT1,cbt,12,"two\nlines"\n\nT2,cbt,99,\n'
    )
    p = _problems(write_tables(tmp_path, therapists=therapists), "therapists.csv")
    assert _where(p) == [("therapists.csv", 5, "years_experience")]


def test_all_problems_collected_in_one_error(tmp_path):
    therapists = THERAPISTS.replace("T2,psychodynamic,3", "T2,psychodynamic,x")
    clients = CLIENTS.replace("C1,T1,34", "C1,T1,12").replace("C3,T2", "C3,T8")
    sessions = SESSIONS.replace("C1,2,2024-01-29,0,,,", "C1,2,2024-01-29,2,,,")
    folder = write_tables(tmp_path, therapists=therapists, clients=clients, sessions=sessions)
    with pytest.raises(DataValidationError, match="4 problems found in") as info:
        load_study(folder)
    assert _where(info.value.problems) == [
        ("therapists.csv", 3, "years_experience"),
        ("clients.csv", 2, "age"),
        ("clients.csv", 4, "therapist_id"),
        ("sessions.csv", 3, "attended"),
    ]


def test_drop_records_every_dropped_row(tmp_path):
    therapists = THERAPISTS.replace("T2,psychodynamic,3", "T2,psychodynamic,-3")
    clients = CLIENTS.replace("C2,T1,51,man", "C2,T1,51,male")
    sessions = SESSIONS.replace("C1,3,2024-02-05,1,0,1,1", "C1,3,2024-02-05,1,0,1,5")
    folder = write_tables(tmp_path, therapists=therapists, clients=clients, sessions=sessions)
    study = load_study(folder, on_invalid="drop")
    ex = study.excluded
    assert list(ex[["table", "file", "row", "column"]].itertuples(index=False, name=None)) == [
        ("therapists", "therapists.csv", 3, "years_experience"),
        ("clients", "clients.csv", 3, "gender"),
        ("clients", "clients.csv", 4, "therapist_id"),  # its therapist T2 was dropped
        ("sessions", "sessions.csv", 4, "phq9_2"),
        ("sessions", "sessions.csv", 5, "client_id"),  # client C2 was dropped
        ("sessions", "sessions.csv", 6, "client_id"),  # client C3 (therapist T2) was dropped
        ("sessions", "sessions.csv", 7, "client_id"),
    ]
    assert ex["problem"].iloc[2] == (
        "dropped because therapist_id 'T2' was excluded from the therapists table"
    )
    assert ex.groupby("table").size().to_dict() == {"clients": 2, "sessions": 4, "therapists": 1}
    want = expected_study()
    pd.testing.assert_frame_equal(study.therapists, want.therapists.iloc[[0]])
    pd.testing.assert_frame_equal(study.clients, want.clients.iloc[[0]])
    pd.testing.assert_frame_equal(study.sessions, want.sessions.iloc[[0, 1]].reset_index(drop=True))
    summary = study.summary()
    assert summary.loc[summary["metric"] == "excluded_rows", "value"].item() == 7.0


def test_drop_keeps_first_of_duplicate_keys_and_int_dtype(tmp_path):
    sessions = SESSIONS.replace("C1,2,2024-01-29,0,,,", "C1,1,2024-01-29,0,,,")
    sessions = sessions.replace("C2,1,2024-02-08,1,,3,2", "C2,1.5,2024-02-08,1,,3,2")
    study = load_study(write_tables(tmp_path, sessions=sessions), on_invalid="drop")
    assert study.excluded[["row", "column"]].values.tolist() == [[3, "session"], [5, "session"]]
    assert study.sessions["session"].tolist() == [1, 3, 1, 2]
    assert study.sessions["session"].dtype == "int64"


def test_drop_with_nothing_wrong_excludes_nothing(tmp_path):
    study = load_study(write_tables(tmp_path), on_invalid="drop")
    assert study.excluded.empty
    assert study.equals(expected_study())
