"""Instrument definitions survive to_dict -> file -> load_instrument, every derived-score kind."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import yaml

from engagestats import instruments
from engagestats.errors import InstrumentError
from engagestats.instruments import (
    Bands,
    GasTScore,
    Instrument,
    Linear,
    instrument_from_dict,
    load_instrument,
)
from engagestats.scoring import score

# Every built-in in every band set, the unregistered example, and instruments that use
# the non-default fields of each derived-score kind (a rho other than 0.3, a weight stem,
# a Linear constant), so that dropping any of them changes the scores.
BUILT_INS = [
    (name, band_set)
    for name in instruments.available()
    for band_set in (list(instruments.get(name).bands) or [None])
]


def _custom() -> dict[str, Instrument]:
    return {
        "example_srq": instruments.example_srq(),
        "gas_rho_stem": instruments.gas(4, rho=0.55, weight_stem="goal_weight"),
        "linear_constant": Instrument(
            "mood",
            items=6,
            response_range=(1, 5),
            subscales={"up": [1, 2, 3], "down": [4, 5, 6]},
            reverse=[5],
            min_answered={"up": 2, "down": 1.0},
            derived={
                "balance": Linear({"up": 1.0, "down": -1.0}, constant=10.0),
                "plain": {"up": 0.5},
                "goals": GasTScore(rho=0.1),
            },
            bands={"mine": Bands((0, 5, 9), ("low", "mid", "high"), score="up", source="me")},
            flags={"item2_flag": (2, 4)},
            primary="balance",
            reliable_change=3.5,
            cutoff=8,
            source="made up",
        ),
    }


def _items(inst: Instrument, rng: np.random.Generator, n: int = 40) -> pd.DataFrame:
    """Random valid answers with ~4% skipped, plus goal-weight columns (1..3)."""
    lo, hi = inst.response_range
    shape = (n, inst.n_items)
    x = rng.integers(int(lo), int(hi) + 1, shape) if inst.integer else rng.uniform(lo, hi, shape)
    x = x.astype(float)
    x[rng.random(shape) < 0.04] = np.nan
    frame = pd.DataFrame(x, columns=list(inst.items))
    for i in range(1, inst.n_items + 1):
        for stem in (f"{inst.name}_weight", "goal_weight"):
            frame[f"{stem}_{i}"] = rng.integers(1, 4, n).astype(float)
    return frame


def _dump(inst: Instrument, path, fmt: str):
    spec = inst.to_dict()
    file = path / f"{inst.name}.{fmt}"
    if fmt == "json":
        file.write_text(json.dumps(spec, indent=2), encoding="utf-8")
    else:
        file.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return file


def _assert_round_trip(inst: Instrument, tmp_path, fmt: str, rng: np.random.Generator) -> None:
    loaded = load_instrument(_dump(inst, tmp_path, fmt))
    assert loaded.to_dict() == inst.to_dict()
    assert loaded.derived == inst.derived
    assert loaded.bands == inst.bands
    data = _items(inst, rng)
    expected = score(data, inst)
    got = score(data, loaded)
    for name in inst.score_names:  # every score is computed, for some rows
        assert expected[f"{inst.name}_{name}"].notna().sum() >= 5, name
    pd.testing.assert_frame_equal(got, expected)


@pytest.mark.parametrize("fmt", ["json", "yaml"])
@pytest.mark.parametrize(("name", "band_set"), BUILT_INS)
def test_built_in_round_trip_scores_identically(name, band_set, fmt, tmp_path, rng):
    inst = instruments.get(name) if band_set is None else instruments.get(name, band_set=band_set)
    _assert_round_trip(inst, tmp_path, fmt, rng)


@pytest.mark.parametrize("fmt", ["json", "yaml"])
@pytest.mark.parametrize("key", sorted(_custom()))
def test_custom_round_trip_scores_identically(key, fmt, tmp_path, rng):
    _assert_round_trip(_custom()[key], tmp_path, fmt, rng)


def test_non_default_derived_fields_matter(rng):
    """The round trip test can fail: the fields it carries change the scores."""
    base = instruments.gas(4)
    data = _items(base, rng)
    t = score(data, base)["gas_t_score"]
    other_rho = score(data, instruments.gas(4, rho=0.55))["gas_t_score"]
    other_stem = score(data, instruments.gas(4, weight_stem="goal_weight"))["gas_t_score"]
    assert not np.allclose(t, other_rho, equal_nan=True)
    assert not np.allclose(t, other_stem, equal_nan=True)
    spec = _custom()["linear_constant"].to_dict()
    assert spec["derived"]["balance"] == {
        "type": "linear",
        "weights": {"up": 1.0, "down": -1.0},
        "constant": 10.0,
    }


def test_derived_file_forms(tmp_path):
    text = """name: goals
items: 3
response_range: [-2, 2]
subscales: {total: [1, 2, 3]}
derived:
  shorthand: {total: 2}
  linear: {type: linear, weights: {total: 1}, constant: -1.5}
  t_score: {type: gas_t_score, rho: 0.4, weight_stem: w}
  t_default: {type: gas_t_score}
"""
    (tmp_path / "goals.yaml").write_text(text)
    inst = load_instrument(tmp_path / "goals.yaml")
    assert inst.derived == {
        "shorthand": Linear({"total": 2.0}),
        "linear": Linear({"total": 1.0}, constant=-1.5),
        "t_score": GasTScore(rho=0.4, weight_stem="w"),
        "t_default": GasTScore(),
    }
    toml = """name = "goals"
items = 3
response_range = [-2, 2]
subscales = {}
[derived.t_score]
type = "gas_t_score"
rho = 0.2
"""
    (tmp_path / "goals.toml").write_text(toml)
    assert load_instrument(tmp_path / "goals.toml").derived == {"t_score": GasTScore(rho=0.2)}


@pytest.mark.parametrize(
    ("derived", "match"),
    [
        ({"t": {"type": "z_score"}}, "unknown type 'z_score'"),
        ({"t": {"type": "gas_t_score", "alpha": 1}}, r"unknown field\(s\) \['alpha'\]"),
        ({"t": {"type": "gas_t_score", "rho": "high"}}, "rho must be a number"),
        ({"t": {"type": "gas_t_score", "rho": 1.0}}, r"rho must be in \[0, 1\)"),
        ({"t": {"type": "gas_t_score", "weight_stem": "Goal W"}}, "snake_case column stem"),
        ({"t": {"type": "linear"}}, "weights must map subscales to numbers"),
        ({"t": {"type": "linear", "weights": [1, 2]}}, "weights must map subscales"),
        ({"t": {"total": "one"}}, "weight of 'total' must be a number"),
        ({"t": {"total": True}}, "weight of 'total' must be a number"),
        ({"t": 3}, "must be a mapping, got int"),
        ({"t": {"type": "linear", "weights": {"nope": 1}}}, "uses unknown"),
    ],
)
def test_bad_derived_definitions(derived, match):
    spec = {"name": "goals", "items": 3, "response_range": [-2, 2], "derived": derived}
    with pytest.raises(InstrumentError, match=match):
        instrument_from_dict(spec)


def test_bad_derived_in_file_names_the_file(tmp_path):
    p = tmp_path / "g.json"
    spec = {"name": "g", "items": 2, "response_range": [0, 1]}
    p.write_text(json.dumps(spec | {"derived": {"t": {"type": "gas"}}}))
    with pytest.raises(InstrumentError, match=r"g\.json: g: derived 't' has unknown type 'gas'"):
        load_instrument(p)
