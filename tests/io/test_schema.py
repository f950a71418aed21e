"""The built-in codebook agrees with docs/data-format.md and the Frictionless vocabulary."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engagestats.errors import DataValidationError
from engagestats.io import codebook, table_schema
from engagestats.io.schema import merge_schema

DOC = Path(__file__).resolve().parents[2] / "docs" / "data-format.md"


def test_item_blocks_generated():
    cb = codebook()
    counts = cb["column"].str.extract(r"^([a-z_0-9]+?)_(\d+)$")[0].value_counts().to_dict()
    assert counts == {
        "urica": 32,
        "srq": 15,
        "wai_sr": 12,
        "phq9": 9,
        "gad7": 7,
        "gas": 3,
        "gas_weight": 3,
    }
    row = cb.loc[cb["column"] == "gas_2"].iloc[0]
    assert (row["table"], row["minimum"], row["maximum"]) == ("clients", -2.0, 2.0)


def test_fields_use_frictionless_vocabulary():
    for table in ("therapists", "clients", "sessions"):
        s = table_schema(table)
        json.dumps(s)  # plain JSON
        for f in s["fields"]:
            assert set(f) <= {"name", "type", "description", "constraints"}
            assert f["type"] in {"string", "integer", "number", "date"}
            assert set(f.get("constraints", {})) <= {"required", "minimum", "maximum", "enum"}
    assert table_schema("clients")["foreignKeys"][0]["reference"]["resource"] == "therapists"


def test_every_documented_column_is_in_the_schema():
    """Each `name` in the tables of docs/data-format.md (ranges a … b expanded) is known."""
    text = DOC.read_text(encoding="utf-8")
    cb = codebook()
    known = set(zip(cb["table"], cb["column"], strict=True))
    table = None
    documented = set()
    for line in text.splitlines():
        if line.startswith("## "):
            table = line.split()[1]
        if table and line.startswith("| `"):
            first = line.split("|")[1]
            names = [p.strip(" `") for p in first.split("…")]
            if len(names) == 2:
                stem = names[0].rsplit("_", 1)[0]
                hi = int(names[1].rsplit("_", 1)[1])
                documented |= {(table, f"{stem}_{k}") for k in range(1, hi + 1)}
            else:
                documented.add((table, names[0]))
    assert len(documented) == 97
    assert documented == known


def test_merge_schema_replaces_and_adds():
    merged = merge_schema(
        {
            "resources": [
                {
                    "name": "sessions",
                    "schema": {
                        "fields": [
                            {
                                "name": "phq9_1",
                                "type": "integer",
                                "constraints": {"minimum": 0, "maximum": 4},
                            },
                            {"name": "room", "type": "weird"},
                        ]
                    },
                }
            ]
        }
    )
    fields = {f["name"]: f for f in merged["sessions"]["fields"]}
    assert fields["phq9_1"]["constraints"]["maximum"] == 4
    assert fields["room"]["type"] == "string"
    assert merged["sessions"]["primaryKey"] == ["client_id", "session"]


def test_unknown_table():
    with pytest.raises(DataValidationError, match="table must be one of") as info:
        table_schema("visits")
    assert isinstance(info.value, ValueError)  # backwards compatible
    assert info.value.problems.loc[0, ["column", "value"]].tolist() == ["table", "visits"]


def test_merge_schema_rejects_other_types():
    with pytest.raises(
        DataValidationError, match=r"schema must be a path to a datapackage\.json or a mapping"
    ):
        merge_schema(42)
