"""impute() with column names that are not R-syntactic ("my var", "x-1").

The imputation model's formula uses internal names only (``y``, ``tt``, ``p0``, ``g``,
``h``), so any column name works; renaming must not change a single imputed value, in
either the two-level or the three-level model.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engagestats.analyses import impute

RENAME = {"y": "x-1", "x": "my var", "session": "session no.", "therapist_id": "ther id"}


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    rng = np.random.default_rng(12)
    n_c, n_s = 60, 6
    client = np.repeat(np.arange(n_c), n_s)
    t = np.tile(np.arange(n_s, dtype=float), n_c)
    x = rng.normal(size=n_c)[client]
    ther = client % 10
    y = (
        12
        + rng.normal(scale=2.0, size=n_c)[client]
        + rng.normal(scale=0.8, size=10)[ther]
        + (-0.5 + 0.2 * x + rng.normal(scale=0.2, size=10)[ther]) * t
        + rng.normal(scale=1.5, size=client.size)
    )
    y[rng.random(client.size) < 0.25] = np.nan
    return pd.DataFrame({"client_id": client, "therapist_id": ther, "session": t, "x": x, "y": y})


@pytest.mark.parametrize("therapist_slope", [False, True])
def test_unsyntactic_names_give_the_same_imputations(data, therapist_slope):
    a = impute(data, m=3, seed=8, outcome="y", predictors=["x"], therapist_slope=therapist_slope)
    b = impute(
        data.rename(columns=RENAME),
        m=3,
        seed=8,
        outcome="x-1",
        predictors=["my var"],
        time="session no.",
        therapist="ther id",
        therapist_slope=therapist_slope,
    )
    for da, db in zip(a.datasets, b.datasets, strict=True):
        np.testing.assert_array_equal(da["y"].to_numpy(), db["x-1"].to_numpy())
        np.testing.assert_array_equal(da["y_imputed"], db["x-1_imputed"])
    assert "my var" in b.method
