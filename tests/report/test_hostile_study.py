"""End to end: a study whose therapist IDs are hostile strings reports without harm.

On the code before this test, the ID ``"$x^$"`` crashed the report (matplotlib parsed the
tick label as mathtext), and a 300-character ID was drawn whole.
"""

from __future__ import annotations

import re

import pandas as pd

import engagestats as es
from engagestats.__main__ import main

HOSTILE = ["<script>alert(1)</script>", '=HYPERLINK("x")', "$x^$", "L" * 300, "[a](javascript:x)"]


def test_hostile_therapist_ids(tmp_path, capsys):
    study = tmp_path / "study"
    es.write_study(es.load_sample(), study)
    th = pd.read_csv(study / "therapists.csv", dtype=str, keep_default_na=False)
    cl = pd.read_csv(study / "clients.csv", dtype=str, keep_default_na=False)
    ids = dict(zip(th["therapist_id"][: len(HOSTILE)], HOSTILE, strict=True))
    th["therapist_id"] = th["therapist_id"].replace(ids)
    cl["therapist_id"] = cl["therapist_id"].replace(ids)
    th.to_csv(study / "therapists.csv", index=False)
    cl.to_csv(study / "clients.csv", index=False)
    out = tmp_path / "out"
    assert main(["report", str(study), "--out", str(out), "--no-docx"]) == 0
    assert "Traceback" not in capsys.readouterr().err
    assert not (out / "report.docx").exists()
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "<script" not in re.sub(r"base64,[A-Za-z0-9+/=]+", "", page)
    svg = (out / "figures" / "alliance_therapists.svg").read_text(encoding="utf-8")
    assert "<!-- $x^$ -->" in svg  # drawn literally, not as math
    assert "<!-- " + "L" * 39 + "… -->" in svg  # long ID cut to 40 characters
    assert "<script" not in svg
