"""Tests of engagestats.datasets: the bundled sample study."""

from __future__ import annotations

import pytest

from engagestats import datasets
from engagestats.errors import EngageStatsError
from engagestats.simulate import SAMPLE_SETTINGS, simulate_study


@pytest.fixture(scope="module")
def sample():
    return datasets.load_sample()


def test_load_sample_round_trips_the_simulator(sample):
    """The committed files read back to exactly the simulated study (values and dtypes)."""
    assert sample.equals(simulate_study(**SAMPLE_SETTINGS))
    assert len(sample.excluded) == 0


def test_sample_sizes(sample):
    assert sample.n_therapists == 30
    assert sample.n_clients == 330
    assert 3000 <= len(sample.sessions) <= 6000
    dropout = sample.clients["end_reason"].eq("dropout").mean()
    assert 0.12 <= dropout <= 0.28


def test_sample_folder_holds_the_files():
    folder = datasets.sample_folder()
    names = {p.name for p in folder.iterdir()}
    assert {"therapists.csv", "clients.csv", "sessions.csv", "datapackage.json"} <= names


def test_missing_sample_raises_a_clear_error(monkeypatch):
    monkeypatch.setattr(datasets, "_complete", lambda folder: False)
    with pytest.raises(datasets.SampleDataMissingError, match="make sample") as info:
        datasets.load_sample()
    assert isinstance(info.value, FileNotFoundError)
    assert isinstance(info.value, EngageStatsError)
