"""Small valid study files, built as text, that the io tests break one way at a time."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from engagestats import Study

THERAPISTS = """therapist_id,modality,years_experience
T1,cbt,12
T2,psychodynamic,3
"""

CLIENTS = """client_id,therapist_id,age,gender,intake_date,end_reason,urica_1,site
C1,T1,34,woman,2024-01-15,completed,4,north
C2,T1,51,man,2024-02-01,dropout,,south
C3,T2,22,nonbinary,2024-03-10,completed,2,north
"""

SESSIONS = """client_id,session,date,attended,homework,phq9_1,phq9_2
C1,1,2024-01-22,1,1,2,3
C1,2,2024-01-29,0,,,
C1,3,2024-02-05,1,0,1,1
C2,1,2024-02-08,1,,3,2
C3,1,2024-03-17,1,1,0,0
C3,2,2024-03-24,1,1,0,
"""

TEXTS = {"therapists": THERAPISTS, "clients": CLIENTS, "sessions": SESSIONS}


def write_tables(folder: Path, ext: str = ".csv", **overrides: str) -> Path:
    """Write the three tables as CSV text, with any table's text replaced."""
    folder.mkdir(parents=True, exist_ok=True)
    for table, text in {**TEXTS, **overrides}.items():
        (folder / f"{table}{ext}").write_bytes(text.encode("utf-8"))
    return folder


def expected_study() -> Study:
    """The study the valid files describe, in the loader's dtype contract."""
    obj = lambda *v: pd.Series(v, dtype=object)  # noqa: E731
    therapists = pd.DataFrame(
        {
            "therapist_id": obj("T1", "T2"),
            "modality": obj("cbt", "psychodynamic"),
            "years_experience": np.array([12, 3], dtype=np.int64),
        }
    )
    clients = pd.DataFrame(
        {
            "client_id": obj("C1", "C2", "C3"),
            "therapist_id": obj("T1", "T1", "T2"),
            "age": np.array([34, 51, 22], dtype=np.int64),
            "gender": obj("woman", "man", "nonbinary"),
            "intake_date": pd.to_datetime(["2024-01-15", "2024-02-01", "2024-03-10"]).astype(
                "datetime64[ns]"
            ),
            "end_reason": obj("completed", "dropout", "completed"),
            "urica_1": [4.0, np.nan, 2.0],
            "site": obj("north", "south", "north"),
        }
    )
    sessions = pd.DataFrame(
        {
            "client_id": obj("C1", "C1", "C1", "C2", "C3", "C3"),
            "session": np.array([1, 2, 3, 1, 1, 2], dtype=np.int64),
            "date": pd.to_datetime(
                [
                    "2024-01-22",
                    "2024-01-29",
                    "2024-02-05",
                    "2024-02-08",
                    "2024-03-17",
                    "2024-03-24",
                ]
            ).astype("datetime64[ns]"),
            "attended": np.array([1, 0, 1, 1, 1, 1], dtype=np.int64),
            "homework": [1.0, np.nan, 0.0, np.nan, 1.0, 1.0],
            "phq9_1": [2.0, np.nan, 1.0, 3.0, 0.0, 0.0],
            "phq9_2": [3.0, np.nan, 1.0, 2.0, 0.0, np.nan],
        }
    )
    return Study(therapists, clients, sessions)


def assert_study_equal(got: Study, want: Study) -> None:
    """Compare table by table so a failure says where."""
    for name in ("therapists", "clients", "sessions"):
        pd.testing.assert_frame_equal(getattr(got, name), getattr(want, name), check_exact=True)
    assert got.equals(want)
