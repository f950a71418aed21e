"""Instrument validation and instrument files."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from engagestats.errors import InstrumentError
from engagestats.instruments import Bands, Instrument, load_instrument


def test_defaults_and_numbers_resolve():
    inst = Instrument("mood", items=4, response_range=(1, 5), reverse=[2, "mood_4"])
    assert inst.reverse == ("mood_2", "mood_4")
    assert inst.subscales == {"total": inst.items}
    assert inst.min_required == {"total": 4}
    assert inst.primary == "total"
    share = Instrument("m", items=10, response_range=(0, 4), min_answered=0.8)
    assert share.min_required == {"total": 8}
    again = dataclasses.replace(share, cutoff=3)
    assert again.min_required == {"total": 8}
    assert again.cutoff == 3


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"subscales": {"a": [1, 9]}}, "unknown item number 9"),
        ({"subscales": {"a": ["m_1", "zz"]}}, "unknown item 'zz'"),
        ({"reverse": [1, "m_1"]}, "more than once"),
        ({"reverse": ["other_1"]}, "unknown item"),
        ({"response_range": (3, 1)}, "min < max"),
        ({"aggregate": "median"}, "aggregate"),
        ({"min_answered": 5}, "1..3"),
        ({"min_answered": 1.5}, r"\(0, 1\]"),
        ({"direction": "up"}, "direction"),
        ({"derived": {"d": {"nope": 1}}}, "unknown"),
        ({"primary": "nope"}, "primary"),
        ({"items": ["a", "a"]}, "duplicate"),
    ],
)
def test_invalid_definitions(kwargs, match):
    base = {"name": "m", "items": 3, "response_range": (0, 4)}
    with pytest.raises(InstrumentError, match=match):
        Instrument(**(base | kwargs))


def test_bands_must_increase_and_match_labels():
    with pytest.raises(InstrumentError, match="increasing"):
        Bands((0, 5, 5), ("a", "b", "c"))
    with pytest.raises(InstrumentError, match="one label"):
        Bands((0, 5), ("a",))
    with pytest.raises(InstrumentError, match="unknown"):
        Instrument("m", items=2, bands=Bands((0, 1), ("a", "b"), score="sub"))
    with pytest.raises(InstrumentError, match="band set"):
        Instrument("m", items=2, bands={"x": Bands((0, 1), ("a", "b"))}, band_set="y")


def test_is_case_directions():
    worse = Instrument("m", items=2, response_range=(0, 5), cutoff=4)
    better = dataclasses.replace(worse, direction="higher_is_better")
    v = np.array([3.0, 4.0, 5.0, np.nan])
    assert worse.is_case(v).tolist() == [False, True, True, False]
    assert better.is_case(v).tolist() == [True, True, False, False]
    with pytest.raises(InstrumentError):
        Instrument("m", items=2).is_case(v)


SPEC = {
    "name": "mood",
    "items": 6,
    "response_range": [1, 5],
    "subscales": {"up": [1, 2, 3], "down": [4, 5, 6]},
    "reverse": [4],
    "aggregate": "mean",
    "min_answered": {"up": 2, "down": 3},
    "derived": {"balance": {"up": 1, "down": -1}},
    "bands": {"cuts": [1, 3], "labels": ["low", "high"], "score": "up"},
    "direction": "higher_is_better",
    "source": "made up",
}


def test_load_json_yaml_toml_agree(tmp_path):
    import yaml

    (tmp_path / "m.json").write_text(json.dumps(SPEC))
    (tmp_path / "m.yaml").write_text(yaml.safe_dump(SPEC, sort_keys=False))
    toml = """name = "mood"
items = 6
response_range = [1, 5]
reverse = [4]
aggregate = "mean"
direction = "higher_is_better"
source = "made up"
[subscales]
up = [1, 2, 3]
down = [4, 5, 6]
[min_answered]
up = 2
down = 3
[derived.balance]
up = 1
down = -1
[bands]
cuts = [1, 3]
labels = ["low", "high"]
score = "up"
"""
    (tmp_path / "m.toml").write_text(toml)
    a, b, c = (load_instrument(tmp_path / f"m.{x}") for x in ("json", "yaml", "toml"))
    assert a == b == c
    assert a.reverse == ("mood_4",)
    assert a.min_required == {"up": 2, "down": 3}
    assert load_instrument(tmp_path / "m.json").to_dict()["derived"] == {
        "balance": {"up": 1.0, "down": -1.0}
    }


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"subscales": {"up": [1, 2, 7]}}, "unknown item number 7"),
        ({"reverse": [4, 4]}, "more than once"),
        ({"colour": "red"}, "unknown instrument field"),
        ({"bands": {"cuts": [3, 1], "labels": ["a", "b"], "score": "up"}}, "increasing"),
    ],
)
def test_bad_instrument_files(tmp_path, change, match):
    p = tmp_path / "bad.json"
    p.write_text(json.dumps(SPEC | change))
    with pytest.raises(InstrumentError, match=match):
        load_instrument(p)


def test_unreadable_files(tmp_path):
    with pytest.raises(InstrumentError, match="no instrument file"):
        load_instrument(tmp_path / "missing.json")
    (tmp_path / "x.json").write_text("{not json")
    with pytest.raises(InstrumentError, match="cannot parse"):
        load_instrument(tmp_path / "x.json")
    (tmp_path / "x.txt").write_text("{}")
    with pytest.raises(InstrumentError, match="file type"):
        load_instrument(tmp_path / "x.txt")
