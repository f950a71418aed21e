"""Shared test configuration: Agg backend, seeded RNG, figures closed after each test."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest


@pytest.fixture
def rng() -> np.random.Generator:
    """A seeded random generator; every test that needs randomness uses it."""
    return np.random.default_rng(20261121)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# Scripts that generate reference fixtures are not tests (and --doctest-modules
# would import them).
collect_ignore_glob = ["reference/*"]
