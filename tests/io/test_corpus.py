"""The broken-input corpus (issue 18, 16): every kind with its expected verdict.

Each kind builds a study folder (or DataFrames) from the small valid study of
``iotest_builders`` with one thing broken, and states its verdict:

* ``Err(file, row, column, text)``: a :class:`DataValidationError` whose
  problems include that file, row and column and whose problem names ``text``;
* ``Ok(check)``: an exact load, compared value by value.

The invariant checked on every kind, also with ``on_invalid="drop"``: rows
read = rows kept + rows excluded, per table, and every loaded value equals
the valid study's value unless the kind says what changed. ``CORPUS_TABLE``
is the kind -> verdict table quoted in the closing note of issue 18.
"""

from __future__ import annotations

import codecs
import io
import json
import struct
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engagestats import Study
from engagestats.errors import DataValidationError, DataWarning
from engagestats.io import load_study, write_study

from .iotest_builders import CLIENTS, SESSIONS, TEXTS, THERAPISTS, expected_study, write_tables

openpyxl = pytest.importorskip("openpyxl")
pyreadstat = pytest.importorskip("pyreadstat")


@dataclass(frozen=True)
class Err:
    file: str
    row: int | None
    column: str | None
    text: str


@dataclass(frozen=True)
class Ok:
    check: Callable[[Study], None]
    warns: str | None = None


def _same(study: Study) -> None:
    want = expected_study()
    for t in ("therapists", "clients", "sessions"):
        pd.testing.assert_frame_equal(getattr(study, t), getattr(want, t), check_exact=True)


def _frames() -> dict[str, pd.DataFrame]:
    return {t: pd.read_csv(io.StringIO(text), dtype=object) for t, text in TEXTS.items()}


def _xlsx(folder: Path, frames: dict[str, pd.DataFrame] | None = None) -> None:
    for t, df in (frames or _frames()).items():
        df.to_excel(folder / f"{t}.xlsx", index=False)


def _csv(folder: Path, **texts: str) -> Path:
    return write_tables(folder, **texts)


def _raw_bytes(folder: Path, table: str, data: bytes, ext: str = ".csv") -> Path:
    write_tables(folder)
    (folder / f"{table}.csv").unlink()
    (folder / f"{table}{ext}").write_bytes(data)
    return folder


# ----------------------------------------------------------------------------- builders
def b_empty(f):
    return _csv(f, clients="")


def b_blank_only(f):
    return _csv(f, therapists="\n \n\n")


def b_semicolon_csv(f):
    return _csv(f, therapists=THERAPISTS.replace(",", ";"))


def b_comma_tsv(f):
    write_tables(f, ".tsv", **{t: x.replace(",", "\t") for t, x in TEXTS.items()})
    (f / "therapists.tsv").write_text(THERAPISTS)
    return f


def b_dup_header(f):
    return _csv(f, clients=CLIENTS.replace("site", "age"))


def b_empty_name(f):
    return _csv(f, therapists=THERAPISTS.replace(",modality", ","))


def b_missing_required(f):
    return _csv(f, sessions=SESSIONS.replace("client_id,", "cid,", 1))


def b_few_fields(f):
    return _csv(f, sessions=SESSIONS.replace("C2,1,2024-02-08,1,,3,2", "C2,1,2024-02-08"))


def b_many_fields(f):
    return _csv(f, sessions=SESSIONS.replace("C2,1,2024-02-08,1,,3,2", "C2,1,2024-02-08,1,,3,2,9"))


def b_open_quote(f):
    return _csv(f, sessions=SESSIONS.replace("C2,1,2024-02-08", 'C2,1,"2024-02-08'))


def b_stray_quote(f):
    return _csv(f, sessions=SESSIONS.replace("C2,1,2024-02-08", 'C2,1,"2024-02-08"x'))


def b_utf16_no_bom(f):
    return _raw_bytes(f, "clients", CLIENTS.encode("utf-16-le"))


def b_mixed_encodings(f):
    text = CLIENTS.replace("north\n", "Zoë\n", 1).encode("utf-8")
    text = text.replace(b"south", "Zoë".encode("latin-1"))
    return _raw_bytes(f, "clients", text)


def b_bom_then_latin1(f):
    data = codecs.BOM_UTF8 + CLIENTS.replace("south", "Zoë").encode("latin-1")
    return _raw_bytes(f, "clients", data)


def b_undefined_cp1252(f):
    return _raw_bytes(f, "clients", CLIENTS.encode().replace(b"south", b"so\x81th"))


def b_binary(f):
    return _raw_bytes(f, "therapists", b"therapist_id\nT1\x00\x01\x02\nT2\n")


def b_not_number(f):
    return _csv(f, clients=CLIENTS.replace("C2,T1,51", "C2,T1,fifty"))


def b_fraction(f):
    return _csv(f, clients=CLIENTS.replace("C2,T1,51", "C2,T1,51.5"))


def b_range(f):
    return _csv(f, sessions=SESSIONS.replace("C2,1,2024-02-08,1,,3,2", "C2,1,2024-02-08,1,,4,2"))


def b_category(f):
    return _csv(f, therapists=THERAPISTS.replace("cbt", "CBT-ish"))


def b_bad_date(f):
    return _csv(f, clients=CLIENTS.replace("2024-02-01", "2024-02-30"))


def b_non_iso_date(f):
    return _csv(f, clients=CLIENTS.replace("2024-02-01", "01/02/2024"))


def b_dup_therapist(f):
    return _csv(f, therapists=THERAPISTS + "T1,cbt,4\n")


def b_dup_session(f):
    return _csv(f, sessions=SESSIONS + "C3,2,2024-03-31,1,1,0,0\n")


def b_session_order(f):
    return _csv(f, sessions=SESSIONS.replace("C1,3,2024-02-05", "C1,0,2024-02-05"))


def b_unknown_therapist(f):
    return _csv(f, clients=CLIENTS.replace("C3,T2", "C3,T9"))


def b_unknown_client(f):
    return _csv(f, sessions=SESSIONS.replace("C3,1,", "C4,1,"))


def b_missing_key(f):
    return _csv(f, clients=CLIENTS.replace("C2,T1", ",T1"))


def b_too_big(f):
    return _csv(f)


def b_too_wide(f):
    header = "therapist_id," + ",".join(f"x{i}" for i in range(20_001))
    return _csv(f, therapists=header + "\nT1" + "," * 20_001 + "\n")


def b_readme_sheet(f):
    _xlsx(f)
    wb = openpyxl.load_workbook(f / "sessions.xlsx")
    wb.create_sheet("README", 0)["A1"] = "Exported by the clinic system"
    wb.save(f / "sessions.xlsx")
    return f


def b_formula_no_value(f):
    _xlsx(f)
    wb = openpyxl.load_workbook(f / "sessions.xlsx")
    wb.active["F4"] = "=F2+1"
    wb.save(f / "sessions.xlsx")
    return f


def b_value_right_of_header(f):
    _xlsx(f)
    wb = openpyxl.load_workbook(f / "clients.xlsx")
    wb.active["J3"] = "stray note"
    wb.save(f / "clients.xlsx")
    return f


def b_empty_sheet(f):
    _xlsx(f)
    openpyxl.Workbook().save(f / "therapists.xlsx")
    return f


def b_corrupt_xlsx(f):
    _xlsx(f)
    (f / "clients.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    return f


def b_zip_bomb(f):
    _xlsx(f)
    with zipfile.ZipFile(f / "sessions.xlsx", "a", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/media/padding.bin", b"\0" * 3_000_000)
    return f


def b_sav_label_code_out_of_range(f):
    write_tables(f)
    (f / "therapists.csv").unlink()
    sav = _frames()["therapists"].assign(years_experience=[12.0, 99.0])
    pyreadstat.write_sav(sav, str(f / "therapists.sav"))
    return f


def b_sav_corrupt(f):
    return _raw_bytes(f, "sessions", b"$FL2 this is not SPSS", ".sav")


def b_parquet_corrupt(f):
    return _raw_bytes(f, "sessions", b"PAR1 garbage PAR1", ".parquet")


def b_unsupported(f):
    write_tables(f)
    (f / "sessions.csv").rename(f / "sessions.json")
    return f


def b_two_files(f):
    write_tables(f)
    (f / "sessions.tsv").write_text(SESSIONS.replace(",", "\t"))
    return f


def b_missing_table(f):
    write_tables(f)
    (f / "clients.csv").unlink()
    return f


def _package(f, fields):
    pkg = {"resources": [{"name": "clients", "schema": {"fields": fields}}]}
    (f / "datapackage.json").write_text(json.dumps(pkg))


def b_codebook_unknown_type(f):
    _csv(f)
    _package(f, [{"name": "intake_date", "type": "moment"}])
    return f


def b_codebook_bad_json(f):
    _csv(f)
    (f / "datapackage.json").write_text("{not json")
    return f


def b_frame_out_of_range(f):
    frames = _frames()
    frames["sessions"].index = frames["sessions"].index + 100
    frames["sessions"].loc[103, "phq9_1"] = "7"
    return frames


def b_frame_not_a_frame(f):
    frames = _frames()
    frames["clients"] = [1, 2, 3]
    return frames


def b_many_cells_csv(f):
    """Tiny cells: far more cells than bytes (the cell limit, lowered in the test)."""
    rows = "".join(f"C1,{k},2024-01-22,1,1,2,3\n" for k in range(1, 40))
    return _csv(f, sessions=SESSIONS + rows)


def b_many_cells_xlsx(f):
    frames = _frames()
    extra = pd.concat([frames["sessions"].iloc[[0]]] * 40, ignore_index=True)
    extra["session"] = [str(k) for k in range(10, 50)]
    frames["sessions"] = pd.concat([frames["sessions"], extra], ignore_index=True)
    _xlsx(f, frames)
    return f


def b_parquet_bomb(f):
    """A small Parquet file whose run-length-coded column unpacks to 2 M rows."""
    write_tables(f)
    (f / "sessions.csv").unlink()
    n = 2_000_000
    pd.DataFrame({"client_id": np.full(n, "C1"), "session": np.ones(n, np.int64)}).to_parquet(
        f / "sessions.parquet", index=False
    )
    assert (f / "sessions.parquet").stat().st_size < 100_000
    return f


def b_sav_many_cells(f):
    write_tables(f)
    (f / "sessions.csv").unlink()
    n = 5_000
    frame = pd.DataFrame({"client_id": ["C1"] * n, "session": np.arange(1.0, n + 1)})
    pyreadstat.write_sav(frame, str(f / "sessions.sav"), compress=True)
    return f


def b_zip_size_lies(f):
    """The sheet's declared size is small, its deflated stream is not (a lying zip bomb)."""
    _xlsx(f)
    path = f / "sessions.xlsx"
    with zipfile.ZipFile(path) as zf:
        items = {i.filename: zf.read(i.filename) for i in zf.infolist()}
    sheet = "xl/worksheets/sheet1.xml"
    xml = items[sheet]
    cut = xml.index(b"<sheetData")
    items[sheet] = xml[:cut] + b"<!--" + b" " * 20_000_000 + b"-->" + xml[cut:]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in items.items():
            zf.writestr(name, data)
    raw = bytearray(path.read_bytes())
    at = 0
    while (at := raw.find(sheet.encode(), at + 1)) > 0:  # declare 1,000 bytes instead
        if raw[at - 30 : at - 26] == b"PK\x03\x04":
            struct.pack_into("<I", raw, at - 30 + 22, 1000)
        if raw[at - 46 : at - 42] == b"PK\x01\x02":
            struct.pack_into("<I", raw, at - 46 + 24, 1000)
    path.write_bytes(bytes(raw))
    return f


def b_parquet_tables(f):
    for t, df in _frames().items():
        df.to_parquet(f / f"{t}.parquet", index=False)
    return f


def b_sav_tables(f):
    write_tables(f)
    (f / "therapists.csv").unlink()
    pyreadstat.write_sav(_frames()["therapists"], str(f / "therapists.sav"))
    return f


# --- valid variants
def b_bom(f):
    write_tables(f)
    (f / "clients.csv").write_bytes(codecs.BOM_UTF8 + CLIENTS.encode())
    return f


def b_crlf(f):
    return _csv(f, sessions=SESSIONS.replace("\n", "\r\n"))


def b_cp1252(f):
    return _raw_bytes(f, "clients", CLIENTS.replace("south", "Zoë").encode("cp1252"))


def b_utf16_bom_tabs(f):
    write_tables(f)
    (f / "clients.csv").unlink()
    data = codecs.BOM_UTF16_LE + CLIENTS.replace(",", "\t").replace("\n", "\r\n").encode(
        "utf-16-le"
    )
    (f / "clients.txt").write_bytes(data)
    return f


def b_long_text(f):
    return _csv(f, clients=CLIENTS.replace("south", '"' + "x, " * 70_000 + '"'))


def b_leading_zero_ids(f):
    return _csv(f, clients=CLIENTS.replace("north\n", "00017\n").replace("south", "00002"))


def b_huge_int_ids(f):
    return _csv(f, clients=CLIENTS.replace("north\n", "9007199254740993\n").replace("south", "1"))


def b_blank_lines(f):
    return _csv(f, sessions=SESSIONS.replace("C2,1,", "\n\nC2,1,"))


def b_quoted_newline(f):
    return _csv(f, clients=CLIENTS.replace("south", '"south\nwing"'))


def b_upper_case(f):
    return _csv(f, sessions=SESSIONS.replace("phq9_1,phq9_2", "PHQ9_1,Phq9_2"))


def b_named_sheet(f):
    _xlsx(f)
    wb = openpyxl.load_workbook(f / "sessions.xlsx")
    wb.active.title = "sessions"
    wb.create_sheet("README", 0)["A1"] = "notes"
    wb.save(f / "sessions.xlsx")
    return f


def b_frames(f):
    return _frames()


def b_na_tokens(f):
    return _csv(f, sessions=SESSIONS.replace("C3,2,2024-03-24,1,1,0,", "C3,2,2024-03-24,1,1,0,NA"))


def b_pipe_txt(f):
    write_tables(f, ".txt", **{t: x.replace(",", "|") for t, x in TEXTS.items()})
    return f


def b_header_only(f):
    return _csv(f, sessions=SESSIONS.splitlines()[0] + "\n")


def b_codebook_datetime_format(f):
    _csv(f, clients=CLIENTS.replace("2024-01-15", "15/01/2024").replace("2024-02-01", "01/02/2024")
         .replace("2024-03-10", "10/03/2024"))  # fmt: skip
    _package(f, [{"name": "intake_date", "type": "date", "format": "%d/%m/%Y"}])
    return f


def b_formula_text(f):
    return _csv(f, clients=CLIENTS.replace("south", "=1+1"))


def _check_cp1252(s):
    assert s.clients["site"].tolist() == ["north", "Zoë", "north"]
    assert s.accounting.set_index("table").loc["clients", "encoding"] == "cp1252"


def _check_site(*values):
    def check(s):
        assert s.clients["site"].tolist() == list(values)
        assert s.clients["site"].dtype == object

    return check


def _check_long(s):
    assert len(s.clients["site"].iloc[1]) == 3 * 70_000


def _check_blank(s):
    _same(s)
    assert s.accounting.set_index("table").loc["sessions", "blank_lines"] == 2


def _check_upper(s):
    _same(s)
    cm = s.column_map
    assert cm[["source", "column", "how"]].values.tolist() == [
        ["PHQ9_1", "phq9_1", "matched ignoring case"],
        ["Phq9_2", "phq9_2", "matched ignoring case"],
    ]


def _check_header_only(s):
    assert len(s.sessions) == 0
    assert s.accounting.set_index("table").loc["sessions", "rows_read"] == 0


def _check_dates(s):
    assert s.clients["intake_date"].tolist() == list(expected_study().clients["intake_date"])


CORPUS: dict[str, tuple[Callable, object]] = {
    # file-level problems
    "empty file": (b_empty, Err("clients.csv", None, None, "empty")),
    "blank lines only": (b_blank_only, Err("therapists.csv", None, None, "header line")),
    "semicolons in a .csv": (b_semicolon_csv, Err("therapists.csv", 1, None, "semicolon")),
    "commas in a .tsv": (b_comma_tsv, Err("therapists.tsv", 1, None, "comma-delimited")),
    "duplicated header": (b_dup_header, Err("clients.csv", 1, "age", "duplicated")),
    "empty column name": (b_empty_name, Err("therapists.csv", 1, "(column 2)", "empty column")),
    "required column missing": (
        b_missing_required,
        Err("sessions.csv", 1, "client_id", "required column"),
    ),
    "too few fields": (b_few_fields, Err("sessions.csv", 5, None, "expected 7 fields")),
    "too many fields": (b_many_fields, Err("sessions.csv", 5, None, "expected 7 fields")),
    "unterminated quote": (b_open_quote, Err("sessions.csv", 5, None, "never closed")),
    "text after a closing quote": (b_stray_quote, Err("sessions.csv", 5, None, "malformed")),
    "UTF-16 without BOM": (b_utf16_no_bom, Err("clients.csv", 1, None, "UTF-16")),
    "UTF-8 mixed with Latin-1": (b_mixed_encodings, Err("clients.csv", 3, None, "mixes")),
    "UTF-8 BOM then Latin-1": (b_bom_then_latin1, Err("clients.csv", 3, None, "mixes")),
    "byte undefined in cp1252": (b_undefined_cp1252, Err("clients.csv", 3, None, "0x81")),
    "binary bytes": (b_binary, Err("therapists.csv", 2, None, "NUL byte")),
    "file over the size limit": (b_too_big, Err("therapists.csv", None, None, "limit")),
    "more columns than the limit": (b_too_wide, Err("therapists.csv", 1, None, "limit")),
    # cell-level problems
    "text in an integer column": (b_not_number, Err("clients.csv", 3, "age", "not a number")),
    "fraction in an integer column": (b_fraction, Err("clients.csv", 3, "age", "whole number")),
    "item out of range": (b_range, Err("sessions.csv", 5, "phq9_1", "outside the allowed")),
    "unknown category": (b_category, Err("therapists.csv", 2, "modality", "allowed category")),
    "impossible date": (b_bad_date, Err("clients.csv", 3, "intake_date", "valid date")),
    "non-ISO date": (b_non_iso_date, Err("clients.csv", 3, "intake_date", "YYYY-MM-DD")),
    "duplicate therapist": (b_dup_therapist, Err("therapists.csv", 4, "therapist_id", "dupl")),
    "duplicate session": (b_dup_session, Err("sessions.csv", 8, "session", "duplicate key")),
    "session number goes back": (b_session_order, Err("sessions.csv", 4, "session", "increase")),
    "unknown therapist": (b_unknown_therapist, Err("clients.csv", 4, "therapist_id", "unknown")),
    "unknown client": (b_unknown_client, Err("sessions.csv", 6, "client_id", "unknown")),
    "missing key value": (b_missing_key, Err("clients.csv", 3, "client_id", "missing value")),
    # Excel, SPSS, Parquet
    "xlsx README sheet first": (b_readme_sheet, Err("sessions.xlsx", 1, "client_id", "README")),
    "xlsx formula without result": (
        b_formula_no_value,
        Err("sessions.xlsx", 4, "phq9_1", "formula"),
    ),
    "xlsx value right of header": (b_value_right_of_header, Err("clients.xlsx", 3, None, "right")),
    "xlsx empty sheet": (b_empty_sheet, Err("therapists.xlsx", None, None, "empty")),
    "xlsx not a zip": (b_corrupt_xlsx, Err("clients.xlsx", None, None, "unreadable")),
    "xlsx unpacks past the limit": (b_zip_bomb, Err("sessions.xlsx", None, None, "unpacks")),
    "xlsx declared size lies (zip bomb)": (
        b_zip_size_lies,
        Err("sessions.xlsx", None, None, "unreadable Excel"),
    ),
    "xlsx more cells than the limit": (b_many_cells_xlsx, Err("sessions.xlsx", 8, None, "cells")),
    "csv more cells than the limit": (b_many_cells_csv, Err("sessions.csv", 8, None, "cells")),
    "parquet unpacks past the cell limit": (
        b_parquet_bomb,
        Err("sessions.parquet", None, None, "cells"),
    ),
    "sav more cells than the limit": (b_sav_many_cells, Err("sessions.sav", None, None, "cells")),
    "sav code out of range": (
        b_sav_label_code_out_of_range,
        Err("therapists.sav", 3, "years_experience", "outside"),
    ),
    "sav corrupt": (b_sav_corrupt, Err("sessions.sav", None, None, "unreadable SPSS")),
    "parquet corrupt": (b_parquet_corrupt, Err("sessions.parquet", None, None, "unreadable")),
    # folders and codebooks
    "unsupported extension": (b_unsupported, Err("sessions.*", None, None, "no file")),
    "two files for a table": (b_two_files, Err("sessions.*", None, None, "several files")),
    "table file missing": (b_missing_table, Err("clients.*", None, None, "no file")),
    "codebook unknown type": (
        b_codebook_unknown_type,
        Err("datapackage.json", None, "clients.intake_date", "unknown type"),
    ),
    "codebook not JSON": (b_codebook_bad_json, Err("datapackage.json", None, None, "could not")),
    # DataFrames
    "DataFrame item out of range": (
        b_frame_out_of_range,
        Err("sessions (DataFrame)", 103, "phq9_1", "outside"),
    ),
    "DataFrame argument not a frame": (b_frame_not_a_frame, Err("argument", None, "clients", "")),
    # valid variants: exact loads
    "UTF-8 BOM": (b_bom, Ok(_same)),
    "CRLF line ends": (b_crlf, Ok(_same)),
    "Windows-1252 file": (b_cp1252, Ok(_check_cp1252, warns="Windows-1252")),
    "UTF-16 tab text with BOM": (b_utf16_bom_tabs, Ok(_same)),
    "free text over 131,072 chars": (b_long_text, Ok(_check_long)),
    "IDs with leading zeros": (b_leading_zero_ids, Ok(_check_site("00017", "00002", "00017"))),
    "IDs above 2**53": (
        b_huge_int_ids,
        Ok(_check_site("9007199254740993", "1", "9007199254740993")),
    ),
    "blank lines inside": (b_blank_lines, Ok(_check_blank)),
    "newline inside quotes": (b_quoted_newline, Ok(_check_site("north", "south\nwing", "north"))),
    "upper-case item columns": (b_upper_case, Ok(_check_upper, warns="matched or ignored")),
    "xlsx data sheet named for the table": (b_named_sheet, Ok(_same)),
    "Parquet tables of text": (b_parquet_tables, Ok(_same)),
    "SPSS therapists table": (b_sav_tables, Ok(_same)),
    "DataFrames": (b_frames, Ok(_same)),
    "NA tokens": (b_na_tokens, Ok(_same)),
    "pipe-delimited .txt": (b_pipe_txt, Ok(_same)),
    "header-only table": (b_header_only, Ok(_check_header_only)),
    "codebook date format": (b_codebook_datetime_format, Ok(_check_dates)),
    "formula-like text read verbatim": (b_formula_text, Ok(_check_site("north", "=1+1", "north"))),
}

# kinds whose limit is lowered so that the test file stays small (load_study arguments)
_LIMITED: dict[str, dict[str, int]] = {
    "file over the size limit": {"max_file_bytes": 60},
    "xlsx unpacks past the limit": {"max_file_bytes": 300_000},
    "xlsx more cells than the limit": {"max_cells": 50},
    "csv more cells than the limit": {"max_cells": 50},
    "parquet unpacks past the cell limit": {"max_cells": 1_000_000},
    "sav more cells than the limit": {"max_cells": 9_999},
}


def _load(source, kind: str, **kw):
    kw.update(_LIMITED.get(kind, {}))
    if isinstance(source, dict):
        return load_study(source, **kw)
    return load_study(source, **kw)


def _accounting_adds_up(study: Study) -> None:
    acc = study.accounting
    assert len(acc) == 3
    assert (acc["rows_read"] == acc["rows_kept"] + acc["rows_excluded"]).all()
    for t in ("therapists", "clients", "sessions"):
        row = acc.set_index("table").loc[t]
        assert row["rows_kept"] == len(getattr(study, t))
        assert (
            row["rows_excluded"]
            == study.excluded.loc[study.excluded["table"] == t, "row"].nunique()
        )


CORPUS_TABLE = pd.DataFrame(
    [
        {
            "kind": k,
            "verdict": (
                f"error: {v.file}, row {v.row}, column {v.column}"
                if isinstance(v, Err)
                else "exact load"
            ),
        }
        for k, (_, v) in CORPUS.items()
    ]
)


CORPUS_MD = Path(__file__).with_name("CORPUS.md")
_READERS = {".csv": "CSV", ".tsv": "TSV", ".txt": "text", ".xlsx": "xlsx", ".sav": "SPSS",
            ".parquet": "Parquet", ".json": "codebook"}  # fmt: skip


def _reader(build: Callable, verdict: object, tmp: Path) -> str:
    """Which reader a kind exercises: the file its verdict names, else what it builds."""
    if isinstance(verdict, Err):
        if verdict.file.endswith("(DataFrame)") or verdict.file == "argument":
            return "DataFrame"
        if verdict.file == "datapackage.json":
            return "codebook"
        ext = Path(verdict.file).suffix
        if ext == ".*":
            return "folder (which files)"
        return _READERS.get(ext, ext)
    folder = tmp / "k"
    folder.mkdir()
    try:
        source = build(folder)
        if isinstance(source, dict):
            return "DataFrame"
        exts = sorted({p.suffix for p in folder.iterdir()} - {".csv"})
        return ", ".join(_READERS.get(e, e) for e in exts) or "CSV"
    finally:
        import shutil

        shutil.rmtree(folder)


def corpus_markdown(tmp: Path) -> str:
    """tests/io/CORPUS.md: the kind -> verdict table, written from :data:`CORPUS`."""
    lines = [
        "# Broken-input corpus (issue 18)",
        "",
        "Generated from `CORPUS` in `tests/io/test_corpus.py` by",
        "`python -m tests.io.test_corpus`; `test_corpus_md_is_current` keeps it current.",
        "Each kind is a study folder (or DataFrames) with one thing broken; its verdict is a",
        "typed `DataValidationError` naming file, row and column (and the words its problem",
        'must contain), or an exact load. On every kind, also with `on_invalid="drop"`:',
        "rows read = rows kept + rows excluded, and every loaded value equals the valid",
        "study's unless the kind says what changed.",
        "",
    ]
    n_err = sum(isinstance(v, Err) for _, v in CORPUS.values())
    lines += [
        f"{len(CORPUS)} kinds: {n_err} typed errors, {len(CORPUS) - n_err} exact loads.",
        "",
        "| # | kind | reader | verdict | file | row | column | problem contains |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for i, (kind, (build, v)) in enumerate(CORPUS.items(), start=1):
        reader = _reader(build, v, tmp)
        if isinstance(v, Err):
            cells = ["typed error", v.file, v.row, v.column, v.text]
        else:
            cells = ["exact load", "", "", "", f"warns: {v.warns}" if v.warns else ""]
        cells = ["" if c is None else str(c).replace("|", "\\|") for c in cells]
        row = [str(i), kind.replace("|", "\\|"), reader, *cells]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"


def test_corpus_md_is_current(tmp_path):
    """CORPUS.md is the table of this file's cases (regenerate: python -m tests.io.test_corpus)."""
    assert CORPUS_MD.read_text(encoding="utf-8") == corpus_markdown(tmp_path)


def test_corpus_has_at_least_40_kinds():
    assert len(CORPUS) >= 40
    assert (CORPUS_TABLE["verdict"] != "exact load").sum() >= 40


@pytest.mark.parametrize("kind", list(CORPUS))
def test_corpus_kind(kind, tmp_path):
    build, verdict = CORPUS[kind]
    folder = tmp_path / "study"
    folder.mkdir()
    source = build(folder)
    if isinstance(verdict, Err):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataWarning)
            with pytest.raises(DataValidationError) as info:
                _load(source, kind)
        p = info.value.problems
        assert verdict.file in str(info.value)
        hits = p[(p["file"] == verdict.file)]
        assert len(hits), p
        if verdict.row is not None:
            hits = hits[hits["row"] == verdict.row]
        else:
            hits = hits[hits["row"].isna()]
        if verdict.column is not None:
            hits = hits[hits["column"] == verdict.column]
        assert len(hits), p.to_dict("records")
        assert hits["problem"].str.contains(verdict.text, regex=False).any(), p.to_dict("records")
        # the same input with on_invalid="drop": either a structural error or a load
        # whose accounting adds up
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataWarning)
            try:
                dropped = _load(source, kind, on_invalid="drop")
            except DataValidationError:
                return
        _accounting_adds_up(dropped)
        assert len(dropped.excluded) > 0
    else:
        if verdict.warns:
            with pytest.warns(DataWarning, match=verdict.warns):
                study = _load(source, kind)
        else:
            study = _load(source, kind)
        verdict.check(study)
        _accounting_adds_up(study)
        assert study.excluded.empty


def test_corpus_round_trips_through_write_study(tmp_path):
    """Every valid kind written by write_study and read back is identical."""
    for i, (kind, (build, verdict)) in enumerate(CORPUS.items()):
        if not isinstance(verdict, Ok):
            continue
        folder = tmp_path / f"k{i}"
        folder.mkdir()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataWarning)
            study = _load(build(folder), kind)
        write_study(study, tmp_path / f"w{i}")
        back = load_study(tmp_path / f"w{i}")
        assert back.equals(study), kind


def test_drop_accounting_after_bad_rows(tmp_path):
    """Rows in = rows out + distinct excluded rows, with cascades (issue 18)."""
    folder = _csv(
        tmp_path,
        therapists=THERAPISTS.replace("T2,psychodynamic", "T2,freudian"),
        sessions=SESSIONS.replace("C1,3,2024-02-05,1,0,1,1", "C1,3,2024-02-05,1,0,9,9"),
    )
    study = load_study(folder, on_invalid="drop")
    _accounting_adds_up(study)
    acc = study.accounting.set_index("table")
    # T2 dropped -> its client C3 -> C3's two sessions; C1 session 3 has two bad items
    assert acc["rows_excluded"].tolist() == [1, 1, 3]
    assert len(study.excluded.query("table == 'sessions'")) == 4
    assert np.array_equal(study.sessions["client_id"].unique(), ["C1", "C2"])


@pytest.mark.parametrize(
    "kind",
    [
        k
        for k, (b, v) in CORPUS.items()
        if isinstance(v, Err)
        and k not in _LIMITED
        and not v.file.endswith("(DataFrame)")
        and v.file != "argument"
    ],
)
def test_cli_reports_corpus_errors_without_traceback(kind, tmp_path, capsys):
    """The command line prints the typed error and exits 2 on every broken folder."""
    from engagestats.__main__ import main

    folder = tmp_path / "study"
    folder.mkdir()
    CORPUS[kind][0](folder)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        code = main(["report", str(folder), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2
    assert "Traceback" not in err
    assert CORPUS[kind][1].file in err


def test_huge_junk_file_is_refused_before_it_is_read(tmp_path):
    """Issue 18: a 200 MB junk CSV gives a clear error within bounded memory."""
    import time
    import tracemalloc

    folder = write_tables(tmp_path)
    with (folder / "sessions.csv").open("wb") as fh:  # sparse: 200 MB of NUL bytes
        fh.write(b"client_id,session\n")
        fh.truncate(200 * 2**20)
    tracemalloc.start()
    start = time.perf_counter()
    with pytest.raises(DataValidationError, match="more than the limit") as info:
        load_study(folder, max_file_bytes=100 * 2**20)
    elapsed = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert info.value.problems["file"].tolist() == ["sessions.csv"]
    assert peak < 20 * 2**20
    assert elapsed < 5
    # under the limit the same junk is refused for its NUL bytes, naming the line
    (folder / "sessions.csv").write_bytes(b"client_id,session\n" + b"\x00" * 1000)
    with pytest.raises(DataValidationError, match="NUL byte") as info:
        load_study(folder)
    assert info.value.problems["row"].tolist() == [2]


def test_tiny_cells_are_refused_at_the_cell_limit_in_bounded_memory(tmp_path):
    """Issue 18: a CSV of tiny cells costs ~40 bytes per cell parsed, whatever its size on
    disk; the cell limit stops the parse (here lowered to 200,000 cells: a 1.6 MB file of
    800,000 cells) before the cells are held."""
    import tracemalloc

    folder = write_tables(tmp_path)
    with (folder / "sessions.csv").open("w") as fh:
        fh.write("client_id,session," + ",".join(f"x{i}" for i in range(98)) + "\n")
        fh.write(("C1,1," + ",".join(["1"] * 98) + "\n") * 8_000)
    tracemalloc.start()
    with pytest.raises(DataValidationError, match="200,000 cells") as info:
        load_study(folder, max_cells=200_000)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert info.value.problems["row"].tolist() == [2_001]  # 100 cells a line
    # the text (a few MB) and 200,000 cells: ~10 MB traced; all 800,000 cells are ~28 MB
    assert peak < 16 * 2**20


def test_parquet_bomb_is_refused_from_its_metadata_at_the_default_limit(tmp_path):
    """A 25 M-row Parquet file of one repeated value is a few kB; it is refused before a row
    is read, under the default limits."""
    import time
    import tracemalloc

    folder = write_tables(tmp_path)
    (folder / "sessions.csv").unlink()
    n = 25_000_000
    pd.DataFrame({"session": np.ones(n, np.uint8)}).to_parquet(folder / "sessions.parquet")
    assert (folder / "sessions.parquet").stat().st_size < 2**20
    tracemalloc.start()
    start = time.perf_counter()
    with pytest.raises(DataValidationError, match="20,000,000 cells"):
        load_study(folder)
    elapsed = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 20 * 2**20
    assert elapsed < 5


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        CORPUS_MD.write_text(corpus_markdown(Path(tmp)), encoding="utf-8")
    print(f"wrote {CORPUS_MD} ({len(CORPUS)} kinds)")
