"""Readers for survey-platform exports: :func:`read_qualtrics` and :func:`read_redcap`.

Both read the export as the platform writes it, build the three study tables
from it and validate them with :func:`load_study`, so every problem names the
export file and its line. Each returns a :class:`~engagestats.Study` whose
:attr:`~engagestats.Study.column_map` says which export column became which
study column, and whose :attr:`~engagestats.Study.accounting` counts every
response row.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from ..errors import DataValidationError
from ..study import CLIENT, COLUMN_MAP_COLUMNS, SESSION, THERAPIST, Study
from ._diagnose import hints_name
from ._readers import RawTable, read_raw
from .load import load_study

__all__ = ["example_export", "read_qualtrics", "read_redcap"]

_EXAMPLES = Path(__file__).parent / "_examples"


def example_export(name: str) -> Path:
    """Path of a bundled example export, laid out as the platform writes it.

    Parameters
    ----------
    name : str
        ``"qualtrics_numeric.csv"`` (current Qualtrics export, numeric codes
        1-4, three header rows), ``"qualtrics_choice_text.csv"`` (choice texts,
        UTF-8 BOM, every field quoted, CRLF), ``"redcap_export.csv"`` (raw
        longitudinal export with a repeating instrument and a checkbox) or
        ``"redcap_dictionary.csv"`` (its data dictionary); sample-sized, for
        fitting a model (the attended sessions of five therapists of the
        sample study, 55 clients, PHQ-9): ``"qualtrics_sample.csv"``,
        ``"redcap_sample_export.csv"`` and ``"redcap_sample_dictionary.csv"``
        (written by ``scripts/make_example_exports.py``).

    Examples
    --------
    >>> example_export("redcap_export.csv").name
    'redcap_export.csv'
    """
    path = _EXAMPLES / name
    if not path.is_file():
        options = ", ".join(sorted(p.name for p in _EXAMPLES.glob("*.csv")))
        raise DataValidationError.for_argument("name", name, f"expected one of {options}")
    return path


_IMPORT_ID = re.compile(r'^\{"ImportId":".*"\}$')


def _frame(raw: RawTable, keep: np.ndarray | None = None) -> pd.DataFrame:
    """The raw cells as an object frame indexed by file line, labelled with the file."""
    frame = raw.frame if keep is None else raw.frame.loc[keep]
    rows = raw.rows if keep is None else raw.rows[keep]
    out = pd.DataFrame(frame.to_numpy(dtype=object), columns=list(frame.columns), index=rows)
    out.attrs["source_file"] = raw.file
    return out


def _client_tables(
    sessions: pd.DataFrame, client_columns: Sequence[str], file: str
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Split client-level columns off one long table; conflicting values are problems."""
    cols = [CLIENT, THERAPIST, *[c for c in client_columns if c not in (CLIENT, THERAPIST)]]
    missing = [c for c in cols if c not in sessions.columns]
    if missing:
        raise DataValidationError.for_columns({file: missing})
    problems = []
    for c in cols[1:]:
        per = sessions.groupby(CLIENT, sort=False)[c].agg(lambda s: s.dropna().unique().tolist())
        for cid, vals in per.items():
            if len(vals) > 1:
                line = sessions.index[(sessions[CLIENT] == cid) & (sessions[c] == vals[1])][0]
                problems.append(
                    {
                        "file": file,
                        "row": int(line),
                        "column": c,
                        "value": str(vals[1]),
                        "problem": f"client {cid} has {c} {vals[0]!r} in an earlier row; "
                        f"expected one {c} per client",
                    }
                )
    if problems:
        raise DataValidationError(problems, f"Cannot build the clients table from {file}")
    first = sessions.dropna(subset=[CLIENT]).groupby(CLIENT, sort=False)[cols[1:]].first()
    clients = first.reset_index()
    clients.index = sessions.dropna(subset=[CLIENT]).drop_duplicates(CLIENT).index
    therapists = pd.DataFrame({THERAPIST: pd.unique(clients[THERAPIST].dropna())}, dtype=object)
    therapists.attrs["source_file"] = f"{file} (therapists)"
    clients.attrs["source_file"] = f"{file} (clients)"
    rest = sessions.drop(columns=list(cols[1:]))
    rest.attrs["source_file"] = file
    return therapists, clients.astype(object), rest


def _with_map(study: Study, rows: list[dict[str, Any]]) -> Study:
    extra = pd.DataFrame(rows, columns=list(COLUMN_MAP_COLUMNS), dtype=object)
    both = (
        pd.concat([extra, study.column_map], ignore_index=True) if len(study.column_map) else extra
    )
    return dataclasses.replace(study, column_map=both.astype(object))


def read_qualtrics(
    path: str | Path,
    *,
    client: str = "ExternalReference",
    therapist: str = THERAPIST,
    session: str | None = SESSION,
    client_columns: Sequence[str] = (),
    columns: Mapping[str, str] | None = None,
    recode: Mapping[str, Mapping[Any, Any]] | None = None,
    on_invalid: Literal["raise", "drop"] = "raise",
) -> Study:
    """Read a Qualtrics CSV export (one response per session) into a study.

    Parameters
    ----------
    path : str or Path
        The export as downloaded: row 1 the column names, row 2 the question
        texts, row 3 the ``{"ImportId": ...}`` row (current exports; legacy
        exports have only rows 1 and 2, with ``V1 ... V10`` metadata names).
        UTF-8 with or without BOM, quoted or not.
    client : str, default "ExternalReference"
        The column identifying the client (an embedded data field, or the
        external reference of a contact list); renamed ``client_id``.
    therapist : str, default "therapist_id"
        The column naming the client's therapist; renamed ``therapist_id``.
    session : str or None, default "session"
        The column holding the session number. None numbers each client's
        responses 1, 2, ... in the order of ``StartDate`` (a
        :attr:`Study.column_map` row records it).
    client_columns : sequence of str
        Columns (after renaming) that describe the client rather than the
        session (``age``, ``gender``, intake questionnaires): moved to the
        clients table. A client whose rows disagree on one is a problem.
    columns : dict, optional
        Further renames, export name to study name, e.g. ``{"Q5_1": "phq9_1"}``.
        Item columns named like the codebook in another case (``PHQ9_1``) are
        matched without it.
    recode : dict, optional
        Passed to :func:`load_study`: e.g. ``{"phq9": {1: 0, 2: 1, 3: 2, 4: 3}}``
        for Qualtrics' default codes 1-4, or choice texts to codes
        (``{"phq9": {"Not at all": 0, "Several days": 1, ...}}``) for an
        export of choice texts.
    on_invalid : {"raise", "drop"}, default "raise"
        As in :func:`load_study`.

    Returns
    -------
    Study
        Sessions keep every export column (``StartDate``, ``ResponseId``,
        ``Status`` ... as text); problems and exclusions name the export
        file and its line (the first response is line 4 in a current export).

    Examples
    --------
    >>> from engagestats.io import example_export, read_qualtrics
    >>> path = example_export("qualtrics_numeric.csv")
    >>> study = read_qualtrics(path, client_columns=["age"],
    ...                        columns={"PHQ9_1": "phq9_1", "PHQ9_2": "phq9_2"},
    ...                        recode={"phq9": {1: 0, 2: 1, 3: 2, 4: 3}})
    >>> study
    Study: 2 therapists, 3 clients, 6 session rows
    >>> study.sessions[["client_id", "session", "phq9_1"]].head(3)
      client_id  session  phq9_1
    0      C001        1     2.0
    1      C001        2     1.0
    2      C002        1     3.0
    """
    raw = read_raw(path, table="sessions")
    name = raw.file
    frame = raw.frame
    header_rows = 0
    if len(frame) and all(
        v is None or _IMPORT_ID.match(str(v)) for v in frame.iloc[min(1, len(frame) - 1)]
    ):
        header_rows = 2 if len(frame) >= 2 else 1
    legacy = bool(len(frame.columns)) and str(frame.columns[0]) == "V1"
    if header_rows == 0 and len(frame) and not legacy:
        header_rows = 1  # question-text row of an export without the ImportId row
    if legacy:
        header_rows = 1
        renamed = [
            str(text) if re.fullmatch(r"V\d+", str(col)) and text else str(col)
            for col, text in zip(frame.columns, frame.iloc[0], strict=True)
        ]
        frame.columns = renamed
    keep = np.arange(len(frame)) >= header_rows
    data = _frame(raw, keep)
    mapping = {client: CLIENT, therapist: THERAPIST}
    user_map = {str(k): str(v) for k, v in (columns or {}).items()}
    back = {v: k for k, v in user_map.items()}
    client_columns = [back.get(c, c) for c in client_columns]
    if session is not None:
        mapping[session] = SESSION
    absent = [k for k in (client, therapist, session) if k is not None and k not in data.columns]
    if absent:
        raise DataValidationError(
            [
                {
                    "file": name,
                    "row": 1,
                    "column": c,
                    "value": None,
                    "problem": f"column {c!r} not in the export; expected the "
                    + ("client" if c == client else "therapist" if c == therapist else "session")
                    + " column (pass client=, therapist= or session=)",
                }
                for c in absent
            ],
            f"Cannot read {name} as a Qualtrics export",
        )
    data = data.rename(columns=mapping)
    data.attrs["source_file"] = name
    notes: list[dict[str, Any]] = [
        {
            "table": "sessions",
            "source": f"rows 2-{header_rows + 1}",
            "column": None,
            "how": "Qualtrics header rows (question texts, ImportIds) read as metadata",
            "cells": None,
        }
    ] + [
        {"table": "sessions", "source": k, "column": v, "how": "renamed by read_qualtrics",
         "cells": None}
        for k, v in mapping.items()
    ]  # fmt: skip
    if session is None:
        order = data.get("StartDate", pd.Series(range(len(data)), index=data.index))
        data = data.assign(_order=order.astype(str)).sort_values([CLIENT, "_order"], kind="stable")
        data[SESSION] = data.groupby(CLIENT, sort=False).cumcount() + 1
        data = data.drop(columns="_order")  # in client and StartDate order
        data.attrs["source_file"] = name
        notes.append(
            {
                "table": "sessions",
                "source": "StartDate",
                "column": SESSION,
                "how": "numbered 1, 2, ... per client in StartDate order",
                "cells": len(data),
            }
        )
    therapists, clients, sessions = _client_tables(data, client_columns, name)
    with hints_name("read_qualtrics"):  # the user passes recode= to read_qualtrics
        study = load_study(
            {"therapists": therapists, "clients": clients, "sessions": sessions},
            columns=user_map or None,
            recode=recode,
            on_invalid=on_invalid,
        )
    return _with_map(dataclasses.replace(study, source=str(path)), notes)


# ------------------------------------------------------------------------------ REDCap
_CHOICE_TYPES = ("radio", "dropdown")
_EVENT_NUMBER = re.compile(r"(?:session|visit|week|sitzung|appointment|s)_?(\d+)", re.I)


def _choices(text: Any) -> dict[str, str]:
    out = {}
    for part in str(text or "").split("|"):
        code, sep, label = part.strip().partition(",")
        if sep:
            out[code.strip()] = label.strip()
    return out


def _dictionary(path: str | Path) -> tuple[str, dict[str, dict[str, Any]]]:
    raw = read_raw(path, table="dictionary")
    cols = {c.lower(): c for c in raw.frame.columns}
    name_col = next((cols[c] for c in cols if c.startswith("variable / field name")), None)
    type_col = cols.get("field type")
    choice_col = next((cols[c] for c in cols if c.startswith("choices, calculations")), None)
    form_col = cols.get("form name")
    if not (name_col and type_col and choice_col and form_col) or not len(raw.frame):
        raise DataValidationError.for_file(
            raw.file,
            "not a REDCap data dictionary; expected the columns 'Variable / Field Name', "
            "'Form Name', 'Field Type' and 'Choices, Calculations, OR Slider Labels'",
            row=1,
        )
    fields = {}
    for _, rec in raw.frame.iterrows():
        fields[str(rec[name_col])] = {
            "type": str(rec[type_col] or "").strip().lower(),
            "choices": _choices(rec[choice_col]),
            "form": str(rec[form_col] or ""),
        }
    return str(raw.frame[name_col].iloc[0]), fields


def read_redcap(
    export: str | Path,
    dictionary: str | Path,
    *,
    therapist: str = THERAPIST,
    events: Mapping[str, int | None] | None = None,
    columns: Mapping[str, str] | None = None,
    recode: Mapping[str, Mapping[Any, Any]] | None = None,
    on_invalid: Literal["raise", "drop"] = "raise",
) -> Study:
    """Read a REDCap raw export and its data dictionary into a study.

    Parameters
    ----------
    export : str or Path
        The "CSV / Microsoft Excel (raw data)" export: one row per record,
        event and repeating-instrument instance, with the columns
        ``redcap_event_name``, ``redcap_repeat_instrument`` and
        ``redcap_repeat_instance`` when the project uses them.
    dictionary : str or Path
        The project's data dictionary CSV (its first field is the record ID).
    therapist : str, default "therapist_id"
        The field naming the client's therapist (on a client-level row).
    events : dict, optional
        Event name to session number, or None for a client-level event, e.g.
        ``{"baseline_arm_1": None, "week_1_arm_1": 1}``. By default a row of a
        repeating instrument is session ``redcap_repeat_instance``, an event
        named like ``session_3_arm_1`` (or ``visit_3``, ``week_3``) is
        session 3, and any other event holds client-level fields.
    columns : dict, optional
        Renames, REDCap field name to study name.
    recode, on_invalid
        As in :func:`load_study`.

    Returns
    -------
    Study
        The record ID becomes ``client_id``. Radio and dropdown fields that
        the codebook types as text (or does not know) hold their choice
        labels; item fields keep their codes. A checkbox ``f`` keeps its
        ``f___<code>`` 0/1 columns and gains ``f``, the checked labels joined
        by ``|``. ``<form>_timestamp`` columns are datetimes (``[not
        completed]`` missing, counted in :attr:`Study.column_map`).
        Problems name the export file and its line.

    Examples
    --------
    >>> from engagestats.io import example_export, read_redcap
    >>> study = read_redcap(example_export("redcap_export.csv"),
    ...                     example_export("redcap_dictionary.csv"))
    >>> study
    Study: 2 therapists, 3 clients, 6 session rows
    >>> study.clients[["client_id", "gender", "reasons"]]
      client_id     gender              reasons
    0      R001      woman  low mood|relationships
    1      R002        man                  work
    2      R003  nonbinary                  NaN
    """
    record_id, fields = _dictionary(dictionary)
    raw = read_raw(export, table="sessions")
    name = raw.file
    data = _frame(raw)
    if record_id not in data.columns:
        raise DataValidationError.for_file(
            name,
            f"the record ID field {record_id!r} (first field of the dictionary) is not in "
            "the export; expected the export of the same project",
            row=1,
            column=record_id,
        )
    notes: list[dict[str, Any]] = []
    from .schema import merge_schema

    known = {f["name"]: f.get("type") for t in merge_schema().values() for f in t["fields"]}
    rename = {record_id: CLIENT, therapist: THERAPIST, **dict(columns or {})}
    for col in list(data.columns):
        spec = fields.get(col)
        target = rename.get(col, col)
        if spec and spec["type"] in _CHOICE_TYPES and known.get(target, "string") == "string":
            codes = data[col].map(lambda v: None if pd.isna(v) else str(v).strip())
            labels = codes.map(lambda v, c=spec["choices"]: c.get(v, v))
            notes.append({"table": None, "source": col, "column": target,
                          "how": "REDCap choice codes replaced by their labels",
                          "cells": int((codes.notna() & (codes != labels)).sum())})  # fmt: skip
            data[col] = labels
        if col.endswith("_timestamp"):
            text = data[col].map(lambda v: None if pd.isna(v) else str(v).strip())
            not_done = text == "[not completed]"
            stamps = pd.to_datetime(text.where(~not_done), errors="raise", format="ISO8601")
            data[col] = stamps.astype("datetime64[ns]")
            notes.append({"table": None, "source": col, "column": col,
                          "how": "REDCap survey timestamp; '[not completed]' set missing",
                          "cells": int(not_done.sum())})  # fmt: skip
    for fname, spec in fields.items():
        if spec["type"] != "checkbox":
            continue
        parts = [c for c in data.columns if c.startswith(f"{fname}___")]
        if not parts:
            continue
        chosen = [
            "|".join(
                spec["choices"].get(c.split("___", 1)[1], c.split("___", 1)[1])
                for c in parts
                if str(row[c]).strip() == "1"
            )
            or np.nan
            for _, row in data[parts].iterrows()
        ]
        data[fname] = pd.Series(chosen, index=data.index, dtype=object)
        notes.append({"table": None, "source": ", ".join(parts), "column": fname,
                      "how": "REDCap checkbox: checked labels joined by |",
                      "cells": int(pd.notna(chosen).sum())})  # fmt: skip
    data = data.rename(columns=rename)
    event = data.get("redcap_event_name", pd.Series(None, index=data.index, dtype=object))
    instr = data.get("redcap_repeat_instrument", pd.Series(None, index=data.index, dtype=object))
    inst = data.get("redcap_repeat_instance", pd.Series(None, index=data.index, dtype=object))
    session = pd.Series(np.nan, index=data.index)
    for line in data.index:
        ev = event[line]
        if events is not None and ev in events:
            number = events[ev]
            session[line] = np.nan if number is None else float(number)
        elif pd.notna(instr[line]) and pd.notna(inst[line]):
            session[line] = float(inst[line])
        elif pd.notna(ev) and (m := _EVENT_NUMBER.search(str(ev))):
            session[line] = float(m[1])
    is_session = session.notna()
    client_rows = data.loc[~is_session]
    session_rows = data.loc[is_session].assign(**{SESSION: session[is_session].astype("int64")})
    meta = {"redcap_event_name", "redcap_repeat_instrument", "redcap_repeat_instance"}
    s_cols = [c for c in session_rows.columns if session_rows[c].notna().any() or c in meta]
    c_cols = [c for c in client_rows.columns if client_rows[c].notna().any() or c not in s_cols]
    sessions = session_rows[[CLIENT, SESSION, *[c for c in s_cols if c not in (CLIENT, SESSION)]]]
    sessions = sessions.drop(columns=[THERAPIST], errors="ignore")
    clients = client_rows[[c for c in c_cols if c not in (SESSION,)]]
    clients = clients.drop(columns=[c for c in meta if c in clients.columns])
    dup = clients[CLIENT].duplicated(keep=False)
    if dup.any():
        merged = clients.groupby(CLIENT, sort=False).first()
        first_line = clients.reset_index().groupby(CLIENT, sort=False)["index"].first()
        clients = merged.reset_index()
        clients.index = first_line.to_numpy()
        notes.append({"table": "clients", "source": "client-level events", "column": None,
                      "how": "client-level rows of several events combined per record",
                      "cells": int(dup.sum())})  # fmt: skip
    if THERAPIST not in clients.columns:
        raise DataValidationError.for_file(
            name,
            f"no therapist field {therapist!r} on the client-level rows; expected it "
            "(pass therapist=)",
            column=therapist,
        )
    therapists = pd.DataFrame({THERAPIST: pd.unique(clients[THERAPIST].dropna())}, dtype=object)
    for frame, label in ((therapists, "therapists"), (clients, "clients"), (sessions, "sessions")):
        frame.attrs["source_file"] = name if label == "sessions" else f"{name} ({label})"
    clients.attrs["source_file"] = name
    for n in notes:
        n["table"] = n["table"] or ("sessions" if n["column"] in sessions.columns else "clients")
    with hints_name("read_redcap"):  # the user passes recode= to read_redcap
        study = load_study(
            {"therapists": therapists, "clients": clients, "sessions": sessions},
            recode=recode,
            on_invalid=on_invalid,
        )
    rows: list[dict[str, Any]] = [{"table": "clients", "source": record_id, "column": CLIENT,
             "how": "REDCap record ID", "cells": None},
            {"table": "sessions", "source": f"{len(data)} export rows", "column": None,
             "how": f"{int(is_session.sum())} session rows, {int((~is_session).sum())} "
             "client-level rows", "cells": len(data)}, *notes]  # fmt: skip
    return _with_map(dataclasses.replace(study, source=str(export)), rows)
