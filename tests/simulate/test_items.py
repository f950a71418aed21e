"""The simulator generates items with the built-in keys and scores them with the public scoring.

The observed predictors that drive the generating model (SRQ autonomous
motivation, URICA readiness, the WAI-SR total of the within-client alliance)
must equal :func:`engagestats.score` of the simulated items under the
simulator's rule "mean of the answered items" (``min_answered=1``), and the
items must load on the subscales of the built-in keys.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from engagestats.errors import ModelSpecError
from engagestats.instruments import Instrument, example_srq, phq9, urica, wai_sr
from engagestats.scoring import score
from engagestats.simulate import SimulationParams, simulate_study
from engagestats.simulate import _items as items_mod

RTOL = 1e-12


@pytest.fixture(scope="module")
def simulated():
    """A study with many skipped items, so that proration matters (fixed parameters)."""
    params = SimulationParams(skip_rate=0.15)
    return simulate_study(
        n_therapists=30, clients_per_therapist=20, max_sessions=8, seed=11, params=params,
        return_truth=True,
    )  # fmt: skip


def _answered_mean(inst: Instrument) -> Instrument:
    return dataclasses.replace(inst, min_answered=1)


def test_srq_autonomous_is_the_public_score_of_the_answered_items(simulated):
    study, truth = simulated
    scored = score(study.clients, _answered_mean(example_srq()))
    assert scored["srq_prorated"].sum() > 50  # skipped items: the rule is exercised
    np.testing.assert_allclose(
        truth.clients["srq_autonomous"], scored["srq_autonomous"], rtol=RTOL, atol=0
    )
    # with the instrument's default rule (every item needed) some clients would be unscored
    strict = score(study.clients, example_srq())
    assert strict["srq_autonomous"].isna().sum() > 10


def test_urica_readiness_is_the_public_derived_score(simulated):
    study, truth = simulated
    scored = score(study.clients, _answered_mean(urica()))
    assert scored["urica_prorated"].sum() > 100
    np.testing.assert_allclose(
        truth.clients["urica_readiness"], scored["urica_readiness"], rtol=RTOL, atol=0
    )
    assert truth.clients["urica_readiness"].notna().all()


def test_within_alliance_lags_the_public_wai_sr_total(simulated):
    """``alliance_within_lag`` = last attended WAI-SR item-sum total before the session - mean."""
    study, truth = simulated
    sessions = study.sessions.sort_values(["client_id", "session"])
    total = 12.0 * score(sessions, _answered_mean(wai_sr()))["wai_sr_total"]
    total = total.where(sessions["attended"].eq(1))
    previous = total.groupby(sessions["client_id"]).shift()
    previous = previous.groupby(sessions["client_id"]).ffill()
    mean = sessions["client_id"].map(truth.clients.set_index("client_id")["alliance_mean"])
    expected = (previous - mean).fillna(0.0)
    got = truth.sessions.set_index(["client_id", "session"])["alliance_within_lag"]
    got = got.loc[list(zip(sessions["client_id"], sessions["session"], strict=True))]
    assert (expected != 0).mean() > 0.5
    np.testing.assert_allclose(got.to_numpy(), expected.to_numpy(), rtol=RTOL, atol=1e-12)


def test_the_simulator_rule_is_min_answered_one_on_the_built_in_keys():
    insts = items_mod.simulator_instruments()
    built_in = {"srq": example_srq(), "urica": urica(), "wai_sr": wai_sr(), "phq9": phq9()}
    for name, inst in built_in.items():
        assert insts[name].subscales == inst.subscales
        assert insts[name].derived == inst.derived
        assert set(insts[name].min_required.values()) == {1}
    x = np.array([[3.0, 3, 3, 3, 3, 3, 3, 3, 3], [2, 2, 2, 2, 2, 2, 2, 2, np.nan]])
    got = items_mod.observed_scores(insts["phq9"], x)["phq9_total"]
    np.testing.assert_allclose(got, [27.0, 18.0], rtol=RTOL)


def test_generating_key_follows_the_instrument():
    key = items_mod.generating_key(urica())
    assert key == {
        "precontemplation": (1, 5, 11, 13, 23, 26, 29),
        "contemplation": (2, 8, 12, 15, 19, 21, 24),
        "action": (3, 7, 10, 14, 17, 25, 30),
        "maintenance": (6, 16, 18, 22, 27, 28, 32),
        "unscored": (4, 9, 20, 31),
    }
    wai = items_mod.generating_key(wai_sr(), items_mod.WAI_SR_GENERATION_ORDER)
    assert list(wai) == ["task", "bond", "goal"]
    assert sorted(j for items in wai.values() for j in items) == list(range(1, 13))
    with pytest.raises(ModelSpecError, match="share items"):
        items_mod.generating_key(wai_sr())  # "total" repeats every item


def _nearest_subscale(items: pd.DataFrame, inst: Instrument, subscales: tuple[str, ...]):
    """Each item's subscale by data: the one whose other items it correlates with most."""
    corr = items.corr().to_numpy()
    cols = list(items.columns)
    out = {}
    for j, col in enumerate(cols):
        mean_r = {
            sub: np.mean([corr[j, cols.index(c)] for c in inst.subscales[sub] if c != col])
            for sub in subscales
        }
        out[col] = max(mean_r, key=mean_r.get)
    return out


@pytest.mark.parametrize(
    ("inst", "table", "subscales"),
    [
        (example_srq(), "clients", ("autonomous", "controlled", "amotivation")),
        (urica(), "clients", ("precontemplation", "contemplation", "action", "maintenance")),
        (wai_sr(), "sessions", ("task", "bond", "goal")),
    ],
    ids=["srq", "urica", "wai_sr"],
)
def test_simulated_items_load_on_the_built_in_subscales(simulated, inst, table, subscales):
    study, _ = simulated
    data = getattr(study, table)
    keyed = [c for sub in subscales for c in inst.subscales[sub]]
    found = _nearest_subscale(data[keyed], inst, subscales)
    expected = {c: sub for sub in subscales for c in inst.subscales[sub]}
    assert found == expected
