"""End to end: category labels declared by a study's own codebook are user text (issue 18).

A ``datapackage.json`` may widen a column's allowed categories; the report prints the levels
in its composition table. Hostile labels are escaped in report.html and report.md and
neutralised in the CSV tables.
"""

from __future__ import annotations

import json
import re

import pandas as pd

import engagestats as es
from engagestats.__main__ import main

LABELS = {
    "cbt": "<img src=x onerror=alert(1)>",
    "integrative": '=HYPERLINK("http://x","y")',
    "art_therapy": "[x](javascript:alert(1)) | *",
}


def test_codebook_category_labels_are_escaped(tmp_path, capsys):
    study = tmp_path / "study"
    es.write_study(es.load_sample(), study)
    package = json.loads((study / "datapackage.json").read_text(encoding="utf-8"))
    for resource in package["resources"]:
        for field in resource["schema"]["fields"]:
            if field["name"] == "modality":
                enum = field["constraints"]["enum"]
                field["constraints"]["enum"] = [LABELS.get(v, v) for v in enum]
    (study / "datapackage.json").write_text(json.dumps(package), encoding="utf-8")
    th = pd.read_csv(study / "therapists.csv", dtype=str, keep_default_na=False)
    th["modality"] = th["modality"].replace(LABELS)
    th.to_csv(study / "therapists.csv", index=False)
    out = tmp_path / "out"
    assert main(["report", str(study), "--out", str(out), "--no-docx"]) == 0
    assert "Traceback" not in capsys.readouterr().err
    page = (out / "report.html").read_text(encoding="utf-8")
    page = re.sub(r"base64,[A-Za-z0-9+/=]+", "", page)
    assert "<img src=x" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "<img" not in re.sub(r"`[^`]*`", "", md)
    assert not re.search(r"(?<!\\)\]\(javascript:", md)
    composition = pd.read_csv(out / "tables" / "sample_composition.csv", keep_default_na=False)
    levels = composition.loc[composition["variable"] == "modality", "level"].tolist()
    assert "'" + LABELS["integrative"] in levels  # a spreadsheet shows it, never runs it
    assert LABELS["cbt"] in levels
