"""Loading valid studies from every supported format, the column map and SPSS labels."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from engagestats.errors import DataValidationError, DataWarning
from engagestats.io import load_study, write_study

from .iotest_builders import (
    CLIENTS,
    SESSIONS,
    TEXTS,
    assert_study_equal,
    expected_study,
    write_tables,
)


def _frames() -> dict[str, pd.DataFrame]:
    return {t: pd.read_csv(io.StringIO(text), dtype=object) for t, text in TEXTS.items()}


def test_csv_loads_with_dtype_contract(tmp_path):
    study = load_study(write_tables(tmp_path))
    assert_study_equal(study, expected_study())
    assert study.excluded.empty
    assert list(study.excluded.columns) == ["table", "file", "row", "column", "value", "problem"]
    assert isinstance(study.clients["client_id"].iloc[0], str)


def test_bom_is_stripped_silently(tmp_path):
    folder = write_tables(tmp_path)
    (folder / "clients.csv").write_bytes(b"\xef\xbb\xbf" + TEXTS["clients"].encode())
    study = load_study(folder)
    assert "client_id" in study.clients.columns
    assert_study_equal(study, expected_study())


def test_crlf_line_endings(tmp_path):
    folder = write_tables(tmp_path)
    (folder / "sessions.csv").write_bytes(TEXTS["sessions"].replace("\n", "\r\n").encode())
    assert_study_equal(load_study(folder), expected_study())


def test_tsv_loads(tmp_path):
    tsv = {t: text.replace(",", "\t") for t, text in TEXTS.items()}
    folder = write_tables(tmp_path, ".tsv", **tsv)
    assert_study_equal(load_study(folder), expected_study())


def test_txt_sniffs_semicolon(tmp_path):
    txt = {t: text.replace(",", ";") for t, text in TEXTS.items()}
    folder = write_tables(tmp_path, ".txt", **txt)
    assert_study_equal(load_study(folder), expected_study())


def test_xlsx_loads(tmp_path):
    for table, df in _frames().items():
        df.to_excel(tmp_path / f"{table}.xlsx", index=False)
    assert_study_equal(load_study(tmp_path), expected_study())


def test_xlsx_typed_cells_load(tmp_path):
    """Numbers and dates stored as Excel numbers and dates, not text."""
    want = expected_study()
    for table in ("therapists", "clients", "sessions"):
        getattr(want, table).to_excel(tmp_path / f"{table}.xlsx", index=False)
    assert_study_equal(load_study(tmp_path), want)


def test_xlsx_rows_are_sheet_rows(tmp_path):
    frames = _frames()
    frames["sessions"].loc[3, "phq9_1"] = 9
    for table, df in frames.items():
        df.to_excel(tmp_path / f"{table}.xlsx", index=False)
    with pytest.raises(DataValidationError, match=r"sessions\.xlsx") as info:
        load_study(tmp_path)
    p = info.value.problems
    assert p[["file", "row", "column"]].to_dict("records") == [
        {"file": "sessions.xlsx", "row": 5, "column": "phq9_1"}
    ]


def test_parquet_loads(tmp_path):
    want = expected_study()
    for table in ("therapists", "clients", "sessions"):
        getattr(want, table).to_parquet(tmp_path / f"{table}.parquet", index=False)
    assert_study_equal(load_study(tmp_path), want)


def test_mixed_formats_and_explicit_paths(tmp_path):
    folder = write_tables(tmp_path / "a")
    other = tmp_path / "b"
    other.mkdir()
    (folder / "sessions.csv").rename(other / "visits.csv")
    study = load_study(folder, sessions=other / "visits.csv")
    assert_study_equal(study, expected_study())
    study = load_study(
        None,
        therapists=folder / "therapists.csv",
        clients=folder / "clients.csv",
        sessions=other / "visits.csv",
    )
    assert_study_equal(study, expected_study())


def test_sav_with_value_labels_reads_codes(tmp_path):
    pyreadstat = pytest.importorskip("pyreadstat")
    folder = write_tables(tmp_path)
    (folder / "sessions.csv").unlink()
    sessions = _frames()["sessions"]
    numeric = ["session", "attended", "homework", "phq9_1", "phq9_2"]
    sav = sessions.drop(columns="date").copy()
    sav[numeric] = sav[numeric].astype(float)
    sav["client_id"] = sav["client_id"].astype(str)
    labels = {
        0: "not at all",
        1: "several days",
        2: "more than half the days",
        3: "nearly every day",
    }
    pyreadstat.write_sav(
        sav,
        str(folder / "sessions.sav"),
        column_labels=["Client", "Session", "Attended", "Homework", "PHQ-9 item 1", "PHQ-9 item 2"],
        variable_value_labels={"phq9_1": labels, "phq9_2": labels, "attended": {0: "no", 1: "yes"}},
    )
    study = load_study(folder)
    want = expected_study().sessions.drop(columns="date")
    pd.testing.assert_frame_equal(study.sessions, want, check_exact=True)
    assert study.sessions.attrs == {}
    labels = study.labels.set_index(["table", "column"])
    values = labels.loc[("sessions", "phq9_1")].dropna(subset=["value"])
    assert dict(zip(values["value"], values["label"], strict=True))[3] == "nearly every day"
    variable = labels.loc[("sessions", "phq9_2")]
    assert variable.loc[variable["value"].isna(), "label"].tolist() == ["PHQ-9 item 2"]
    assert study.labels.columns.tolist() == ["table", "column", "value", "label"]
    assert load_study(write_tables(tmp_path / "csv")).labels.empty  # CSV files carry none


def test_sav_with_labels_out_of_range_code_is_reported(tmp_path):
    pyreadstat = pytest.importorskip("pyreadstat")
    folder = write_tables(tmp_path)
    (folder / "clients.csv").unlink()
    clients = _frames()["clients"].drop(columns="intake_date")
    clients["age"] = clients["age"].astype(float)
    clients["urica_1"] = [4.0, 9.0, 2.0]  # 9 = a "refused" code, outside 1-5
    pyreadstat.write_sav(
        clients,
        str(folder / "clients.sav"),
        variable_value_labels={
            "urica_1": {1: "strongly disagree", 5: "strongly agree", 9: "refused"}
        },
    )
    with pytest.raises(DataValidationError, match=r"clients\.sav") as info:
        load_study(folder)
    p = info.value.problems
    assert p[["row", "column", "value"]].to_dict("records") == [
        {"row": 3, "column": "urica_1", "value": "9"}
    ]
    assert "expected an integer from 1 to 5" in p["problem"].iloc[0]


def test_columns_map_shared(tmp_path):
    renamed = {t: text.replace("client_id", "ClientID") for t, text in TEXTS.items()}
    renamed["sessions"] = renamed["sessions"].replace("session,", "Visit,", 1)
    folder = write_tables(tmp_path, **renamed)
    study = load_study(folder, columns={"ClientID": "client_id", "Visit": "session"})
    assert_study_equal(study, expected_study())


def test_columns_map_per_table_and_problem_names_file_column(tmp_path):
    sessions = (
        TEXTS["sessions"]
        .replace("phq9_1", "PHQ_a")
        .replace("C3,1,2024-03-17,1,1,0,0", "C3,1,2024-03-17,1,1,7,0")
    )
    folder = write_tables(tmp_path, sessions=sessions)
    with pytest.raises(DataValidationError) as info:
        load_study(folder, columns={"sessions": {"PHQ_a": "phq9_1"}})
    p = info.value.problems
    assert p[["file", "row", "column"]].to_dict("records") == [
        {"file": "sessions.csv", "row": 6, "column": "PHQ_a"}
    ]


def test_columns_map_unknown_name_raises(tmp_path):
    folder = write_tables(tmp_path)
    with pytest.raises(DataValidationError, match="not found in any table") as info:
        load_study(folder, columns={"ClientNr": "client_id"})
    assert info.value.problems["column"].tolist() == ["ClientNr"]


def test_columns_map_bad_shape(tmp_path):
    folder = write_tables(tmp_path)
    with pytest.raises(DataValidationError, match="per-table map") as info:
        load_study(folder, columns={"visits": {"a": "b"}})
    assert isinstance(info.value, ValueError)  # backwards compatible
    assert info.value.problems.loc[0, ["file", "column", "value"]].tolist() == [
        "argument",
        "columns",
        "visits",
    ]
    with pytest.raises(DataValidationError, match="not a mix") as info:
        load_study(folder, columns={"ClientID": "client_id", "clients": {"a": "b"}})
    assert info.value.problems.loc[0, "column"] == "columns"


def test_table_file_needed_without_folder(tmp_path):
    folder = write_tables(tmp_path)
    with pytest.raises(
        DataValidationError, match="a file path or a DataFrame when no folder"
    ) as info:
        load_study(therapists=folder / "therapists.csv", clients=folder / "clients.csv")
    assert info.value.problems.loc[0, ["file", "column"]].tolist() == ["argument", "sessions"]


def test_schema_argument_of_wrong_type(tmp_path):
    with pytest.raises(DataValidationError, match="schema must be a path") as info:
        load_study(write_tables(tmp_path), schema=["clients"])
    assert info.value.problems.loc[0, ["file", "column", "value"]].tolist() == [
        "argument",
        "schema",
        "list",
    ]


def test_schema_argument_adds_constraints(tmp_path):
    folder = write_tables(tmp_path)
    schema = {
        "clients": {
            "fields": [{"name": "site", "type": "string", "constraints": {"enum": ["north"]}}]
        }
    }
    with pytest.raises(DataValidationError) as info:
        load_study(folder, schema=schema)
    p = info.value.problems
    assert p[["file", "row", "column", "value"]].to_dict("records") == [
        {"file": "clients.csv", "row": 3, "column": "site", "value": "south"}
    ]


def test_header_only_tables_are_valid_and_empty(tmp_path):
    header = TEXTS["sessions"].splitlines()[0] + "\n"
    study = load_study(write_tables(tmp_path, sessions=header))
    assert len(study.sessions) == 0
    assert study.sessions["session"].dtype == np.int64
    assert study.sessions["phq9_1"].dtype == np.float64
    assert study.sessions["date"].dtype == "datetime64[ns]"
    assert study.sessions["client_id"].dtype == object


def test_missing_table_file(tmp_path):
    folder = write_tables(tmp_path)
    (folder / "therapists.csv").unlink()
    with pytest.raises(DataValidationError, match=r"therapists\.\*") as info:
        load_study(folder)
    assert "no file for the therapists table" in info.value.problems["problem"].iloc[0]


def test_two_files_for_one_table(tmp_path):
    folder = write_tables(tmp_path)
    (folder / "clients.tsv").write_text(TEXTS["clients"].replace(",", "\t"))
    with pytest.raises(DataValidationError, match="several files for the clients table"):
        load_study(folder)


def test_unsupported_extension(tmp_path):
    folder = write_tables(tmp_path)
    (folder / "visits.json").write_text("{}")
    with pytest.raises(DataValidationError, match=r"visits\.json.*unsupported file type"):
        load_study(folder, sessions="visits.json")


def test_unreadable_excel(tmp_path):
    folder = write_tables(tmp_path)
    (folder / "fake.xlsx").write_bytes(b"this is not a zip file")
    with pytest.raises(DataValidationError, match=r"fake\.xlsx.*unreadable Excel"):
        load_study(folder, clients="fake.xlsx")


def test_missing_optional_dependency(tmp_path, monkeypatch):
    import builtins

    folder = write_tables(tmp_path)
    pd.read_csv(io.StringIO(TEXTS["clients"])).to_parquet(folder / "c.parquet")
    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == "pyarrow":
            raise ImportError("No module named 'pyarrow'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(DataValidationError, match=r"pip install \"engagestats\[io\]\"") as info:
        load_study(folder, clients="c.parquet")
    assert info.value.problems["file"].tolist() == ["c.parquet"]


def test_not_a_folder(tmp_path):
    with pytest.raises(DataValidationError, match="not a folder"):
        load_study(tmp_path / "nowhere")


def test_on_invalid_must_be_known(tmp_path):
    with pytest.raises(DataValidationError, match="on_invalid must be 'raise' or 'drop'") as info:
        load_study(write_tables(tmp_path), on_invalid="ignore")
    assert info.value.problems.loc[0, ["column", "value"]].tolist() == ["on_invalid", "ignore"]


def test_sav_value_labels_applied_on_request(tmp_path):
    """Issue 16: SPSS category codes become their labels when asked, items keep codes."""
    pyreadstat = pytest.importorskip("pyreadstat")
    folder = write_tables(tmp_path)
    (folder / "clients.csv").unlink()
    clients = _frames()["clients"].drop(columns="intake_date")
    clients["gender"] = [1.0, 2.0, 3.0]
    clients["age"] = clients["age"].astype(float)
    clients["urica_1"] = clients["urica_1"].astype(float)
    pyreadstat.write_sav(
        clients,
        str(folder / "clients.sav"),
        variable_value_labels={
            "gender": {1: "woman", 2: "man", 3: "nonbinary"},
            "urica_1": {1: "strongly disagree", 5: "strongly agree"},
        },
    )
    with pytest.raises(DataValidationError, match="not an allowed category"):
        load_study(folder)
    study = load_study(folder, value_labels=True)
    assert study.clients["gender"].tolist() == ["woman", "man", "nonbinary"]
    assert study.clients["urica_1"].iloc[0] == 4.0  # items keep their codes
    row = study.column_map.query("column == 'gender'").iloc[0]
    assert (row["how"], row["cells"]) == ("SPSS value labels applied", 3)
    with pytest.raises(DataValidationError, match="no SPSS value labels"):
        load_study(folder, value_labels=["site"])


def test_load_study_accepts_a_study_and_revalidates_it(tmp_path):
    study = load_study(write_tables(tmp_path))
    again = load_study(study)
    assert_study_equal(again, expected_study())
    assert again.source == study.source
    bad = study.sessions.copy()
    bad.loc[2, "phq9_1"] = 7
    with pytest.raises(DataValidationError) as info:
        load_study(study, sessions=bad)
    assert info.value.problems[["file", "row", "column"]].values.tolist() == [
        ["sessions (DataFrame)", 2, "phq9_1"]
    ]
    with pytest.raises(DataValidationError, match="a dict of tables takes the keys"):
        load_study({"visits": bad})
    with pytest.raises(DataValidationError, match="path must be a folder"):
        load_study(42)


def test_case_insensitive_matching_warns_and_reports(tmp_path):
    sessions = SESSIONS.replace("client_id,session", "Client ID,Session").replace(
        "phq9_2", "phq9_10"
    )
    folder = write_tables(tmp_path, sessions=sessions)
    with pytest.warns(DataWarning) as record:
        study = load_study(folder)
    text = str(record[0].message)
    assert "'Client ID' -> 'client_id'" in text
    assert "'phq9_10' ignored: phq9 has items 1 to 9" in text
    assert study.column_map[["source", "column"]].values.tolist() == [
        ["Client ID", "client_id"],
        ["Session", "session"],
    ]
    assert "phq9_10" in study.sessions.columns


def test_recode_by_prefix_and_errors(tmp_path):
    folder = write_tables(tmp_path, sessions=SESSIONS.replace(",2,3\n", ",3,4\n"))
    study = load_study(folder, recode={"phq9_2": {4: 3}, "phq9_1": {"3": 2}})
    assert study.sessions.loc[0, ["phq9_1", "phq9_2"]].tolist() == [2.0, 3.0]
    cells = study.column_map.set_index("column")["cells"]
    assert cells.to_dict() == {"phq9_2": 1, "phq9_1": 2}
    with pytest.raises(DataValidationError, match="no column of that name"):
        load_study(folder, recode={"bdi": {1: 0}})
    with pytest.raises(DataValidationError, match="recode must map"):
        load_study(folder, recode={"phq9": [1, 2]})


def test_write_study_neutralises_formula_cells_and_round_trips(tmp_path):
    """Issue 18: cells starting with = + - @ are escaped in the CSV, restored on load."""
    clients = CLIENTS.replace("north\n", '"=HYPERLINK(""http://x"")"\n', 1).replace(
        "south", "@SUM(A1)"
    )
    study = load_study(write_tables(tmp_path / "in", clients=clients))
    write_study(study, tmp_path / "out")
    text = (tmp_path / "out" / "clients.csv").read_text()
    assert "'=HYPERLINK" in text
    assert "'@SUM(A1)" in text
    for unsafe in ("\n=", ",=", ",@"):
        assert unsafe not in text
    back = load_study(tmp_path / "out")
    assert back.equals(study)
    assert back.clients["site"].tolist()[:2] == ['=HYPERLINK("http://x")', "@SUM(A1)"]
    # a CSV without the package is read verbatim: the apostrophe stays
    (tmp_path / "out" / "datapackage.json").unlink()
    assert load_study(tmp_path / "out").clients["site"].iloc[0] == '\'=HYPERLINK("http://x")'


def test_write_study_refuses_a_folder_with_another_format(tmp_path):
    study = load_study(write_tables(tmp_path / "in"))
    write_study(study, tmp_path / "out", format="parquet")
    with pytest.raises(DataValidationError, match="already holds") as info:
        write_study(study, tmp_path / "out")
    assert "sessions.parquet" in info.value.problems["problem"].iloc[0]
    assert sorted(p.name for p in (tmp_path / "out").iterdir())[0] == "clients.parquet"
