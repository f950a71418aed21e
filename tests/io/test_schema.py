"""The built-in codebook agrees with docs/data-format.md and the Frictionless vocabulary."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engagestats import instruments
from engagestats.errors import DataValidationError
from engagestats.io import codebook, table_schema
from engagestats.io.schema import ITEM_BLOCKS, merge_schema

DOC = Path(__file__).resolve().parents[2] / "docs" / "data-format.md"


def test_item_blocks_generated():
    cb = codebook()
    counts = cb["column"].str.extract(r"^([a-z_0-9]+?)_(\d+)$")[0].value_counts().to_dict()
    assert counts == {
        "urica": 32,
        "srq": 15,
        "wai_sr": 12,
        "k10": 10,
        "core10": 10,
        "phq9": 9,
        "gad7": 7,
        "ors": 4,
        "srs": 4,
        "gas": 3,
        "gas_weight": 3,
    }
    row = cb.loc[cb["column"] == "gas_2"].iloc[0]
    assert (row["table"], row["minimum"], row["maximum"]) == ("clients", -2.0, 2.0)


@pytest.mark.parametrize("name", [b.prefix for b in ITEM_BLOCKS if b.prefix != "gas_weight"])
def test_item_blocks_come_from_the_instruments(name):
    """Every block's count, range and number type is its instrument's (the single source)."""
    inst = instruments.resolve(name, examples=True)
    block = next(b for b in ITEM_BLOCKS if b.prefix == name)
    assert (block.n_items, (block.minimum, block.maximum)) == (inst.n_items, inst.response_range)
    assert block.integer == inst.integer
    cb = codebook().set_index("column")
    last = cb.loc[inst.items[-1]]
    assert (last["minimum"], last["maximum"]) == inst.response_range
    assert last["type"] == ("integer" if inst.integer else "number")


def test_new_instrument_items_are_range_checked_on_load(tmp_path):
    """K10 items (not in the sample) are validated on load like the sample's instruments."""
    from engagestats.io import load_study

    (tmp_path / "therapists.csv").write_text("therapist_id\nT1\n")
    (tmp_path / "clients.csv").write_text("client_id,therapist_id\nC1,T1\n")
    items = ",".join(f"k10_{i}" for i in range(1, 11))
    answers = ",".join(["3"] * 9 + ["6"])
    (tmp_path / "sessions.csv").write_text(f"client_id,session,{items}\nC1,1,{answers}\n")
    with pytest.raises(DataValidationError) as info:
        load_study(tmp_path)
    p = info.value.problems.iloc[0]
    assert (p["file"], p["row"], p["column"], p["value"]) == ("sessions.csv", 2, "k10_10", "6")
    assert "from 1 to 5" in p["problem"]


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
    assert len(documented) == 125
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
                            {"name": "room", "type": "any"},
                        ]
                    },
                }
            ]
        }
    )
    fields = {f["name"]: f for f in merged["sessions"]["fields"]}
    assert fields["phq9_1"]["constraints"]["maximum"] == 4
    assert fields["room"]["type"] == "any"
    assert merged["sessions"]["primaryKey"] == ["client_id", "session"]


def test_unknown_table():
    with pytest.raises(DataValidationError, match="table must be 'therapists'") as info:
        table_schema("visits")
    assert isinstance(info.value, ValueError)  # backwards compatible
    assert info.value.problems.loc[0, ["column", "value"]].tolist() == ["table", "visits"]


def test_merge_schema_rejects_other_types():
    with pytest.raises(
        DataValidationError, match=r"schema must be a path to a datapackage\.json or a mapping"
    ):
        merge_schema(42)


@pytest.mark.parametrize("kind", ["weird", "geojson", "duration", "object"])
def test_merge_schema_refuses_types_it_cannot_honour(kind):
    """Issue 18: an unknown codebook type used to be read silently as text."""
    schema = {"sessions": {"fields": [{"name": "room", "type": kind}]}}
    with pytest.raises(DataValidationError, match="Cannot use the codebook") as info:
        merge_schema(schema)
    p = info.value.problems
    assert p[["file", "column", "value"]].iloc[0].tolist() == ["schema=", "sessions.room", kind]
