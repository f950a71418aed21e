"""Power by simulation: counting, seeding, progress output and a few real (tiny) simulations."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import engagestats as es
from engagestats.analyses import power
from engagestats.analyses.power import POWER_COLUMNS, power_curve

# ----------------------------------------------------------------------------- stubs
# The counting logic is checked with a stub simulator and fit: each replication's
# estimate and p value are drawn from its own seed, so thousands of replications take
# milliseconds and the expected counts are known exactly.


def _stub_simulate(*, n_therapists, clients_per_therapist, max_sessions, seed, params):
    return {"seed": seed, "params": params, "n": n_therapists * clients_per_therapist}


def _null_fit(study, effect):
    """Under the null, p ~ U(0, 1) and the estimate's sign is a fair coin."""
    rng = np.random.default_rng(study["seed"])
    return float(rng.normal()), float(rng.uniform()), True, False


@pytest.fixture
def null_stub(monkeypatch):
    monkeypatch.setattr(power, "_simulate", _stub_simulate)
    monkeypatch.setattr(power, "_fit_effect", _null_fit)


def test_columns_and_one_row_per_size_and_value(null_stub):
    res = power_curve(
        effect="time:autonomous",
        values=[0.0, -0.05],
        n_clients=[10, 24],
        clients_per_therapist=4,
        n_reps=5,
        seed=1,
        progress=False,
    )
    assert tuple(res.columns) == POWER_COLUMNS
    # 10 clients at 4 per therapist -> 3 therapists, 12 clients
    assert res["n_therapists"].tolist() == [3, 3, 6, 6]
    assert res["n_clients"].tolist() == [12, 12, 24, 24]
    assert res["true_value"].tolist() == [0.0, -0.05, 0.0, -0.05]
    assert (res["n_reps"] == 5).all()
    assert (res["effect"] == "time:autonomous").all()


def test_null_power_is_alpha_with_uniform_p_values(null_stub):
    """4000 replications with U(0,1) p values: the rejection rate is alpha within 3 MC SEs."""
    res = power_curve(
        effect="alliance_within_lag",
        values=[0.0],
        n_clients=[6],
        n_reps=4000,
        alpha=0.05,
        seed=11,
        progress=False,
    )
    row = res.iloc[0]
    mcse = np.sqrt(0.05 * 0.95 / 4000)  # 0.0034
    assert abs(row["power"] - 0.05) < 3 * mcse
    assert row["power_ci_low"] < 0.05 < row["power_ci_high"]


def test_direction_is_required_for_a_nonzero_effect(null_stub):
    """With a nonzero true value only significant estimates of its sign count: alpha / 2."""
    res = power_curve(
        effect="alliance_within_lag",
        values=[-0.08],
        n_clients=[6],
        n_reps=4000,
        seed=11,
        progress=False,
    )
    mcse = np.sqrt(0.025 * 0.975 / 4000)
    assert abs(res["power"].iloc[0] - 0.025) < 3 * mcse


def test_counts_match_a_hand_count(null_stub):
    seed, reps = 3, 50
    res = power_curve(
        effect="time", values=[-0.3], n_clients=[6], n_reps=reps, seed=seed, progress=False
    )
    rep_seeds = np.random.default_rng(seed).integers(0, 2**63 - 1, size=(1, reps))[0]
    draws = [_null_fit({"seed": int(s)}, "time") for s in rep_seeds]
    expected = sum(p < 0.05 and est < 0 for est, p, _, _ in draws)
    assert res["n_significant"].iloc[0] == expected
    assert res["power"].iloc[0] == pytest.approx(expected / reps, rel=1e-12)
    assert res["mean_estimate"].iloc[0] == pytest.approx(np.mean([d[0] for d in draws]), rel=1e-12)
    # the Wilson interval of 95%: compare with the closed form
    k, n, z = expected, reps, stats.norm.ppf(0.975)
    centre = (k + z**2 / 2) / (n + z**2)
    half = z / (n + z**2) * np.sqrt(k * (n - k) / n + z**2 / 4)
    assert res["power_ci_low"].iloc[0] == pytest.approx(max(centre - half, 0.0), rel=1e-12)
    assert res["power_ci_high"].iloc[0] == pytest.approx(centre + half, rel=1e-12)


def test_each_value_is_set_in_the_params(monkeypatch):
    seen = []

    def fit(study, effect):
        seen.append(study["params"])
        return -1.0, 0.001, True, False

    monkeypatch.setattr(power, "_simulate", _stub_simulate)
    monkeypatch.setattr(power, "_fit_effect", fit)
    base = es.SimulationParams(sd_therapist=0.5)
    power_curve(
        effect="time:readiness",
        values=[0.0, -0.2],
        n_clients=[6],
        n_reps=2,
        params=base,
        seed=0,
        progress=False,
    )
    assert [p.time_readiness for p in seen] == [0.0, 0.0, -0.2, -0.2]
    assert all(p.sd_therapist == 0.5 for p in seen)
    assert base.time_readiness == es.SimulationParams().time_readiness  # caller's params untouched


def test_default_value_is_the_calibrated_one(null_stub):
    res = power_curve(effect="time:readiness", n_clients=6, n_reps=1, seed=0, progress=False)
    assert res["true_value"].tolist() == [es.SimulationParams().time_readiness]


def test_failed_and_singular_fits_are_counted_not_raised(monkeypatch):
    outcomes = iter(
        [
            (-1.0, 0.01, True, False),  # significant
            (-1.0, 0.01, True, True),  # significant, singular (kept)
            (-1.0, 0.01, False, False),  # did not converge (left out)
            es.ModelSpecError("rank deficient"),  # failed (left out)
            (-1.0, 0.50, True, False),  # not significant
        ]
    )

    def fit(study, effect):
        out = next(outcomes)
        if isinstance(out, Exception):
            raise out
        return out

    monkeypatch.setattr(power, "_simulate", _stub_simulate)
    monkeypatch.setattr(power, "_fit_effect", fit)
    res = power_curve(effect="time", values=-0.3, n_clients=[6], n_reps=5, seed=0, progress=False)
    row = res.iloc[0]
    assert (row["n_failed"], row["n_singular"], row["n_significant"]) == (2, 1, 2)
    assert row["power"] == pytest.approx(2 / 3, rel=1e-12)


def test_same_seed_same_result_and_different_seed_differs(null_stub):
    kw = {"effect": "time", "values": [0.0], "n_clients": [6, 12], "n_reps": 200}
    a = power_curve(**kw, seed=5, progress=False)
    b = power_curve(**kw, seed=5, progress=False)
    c = power_curve(**kw, seed=6, progress=False)
    pd.testing.assert_frame_equal(a, b)
    assert not a["mean_estimate"].equals(c["mean_estimate"])


# ---------------------------------------------------------------------------- progress
def test_progress_goes_to_the_given_stream(null_stub):
    buf = io.StringIO()
    power_curve(effect="time", n_clients=[6, 12], n_reps=10, seed=0, progress=buf)
    lines = buf.getvalue().splitlines()
    # not a terminal: one line per tenth of the 20 fits, the last one complete
    assert 2 <= len(lines) <= 11
    assert lines[-1].startswith("power_curve [" + "#" * 30 + "] 20/20 fits")
    assert "n_clients=12" in lines[-1]


def test_progress_redraws_one_line_on_a_terminal(null_stub):
    class Tty(io.StringIO):
        def isatty(self):
            return True

    buf = Tty()
    power_curve(effect="time", n_clients=[6], n_reps=4, seed=0, progress=buf)
    text = buf.getvalue()
    assert text.count("\r") == 4
    assert text.endswith("4/4 fits, 0 s  n_clients=6 time=-0.62\n")  # the default time effect


def test_progress_false_is_silent_and_true_writes_to_stderr(null_stub, capsys):
    power_curve(effect="time", n_clients=[6], n_reps=3, seed=0, progress=False)
    assert capsys.readouterr().err == ""
    power_curve(effect="time", n_clients=[6], n_reps=3, seed=0)
    captured = capsys.readouterr()
    assert "3/3 fits" in captured.err
    assert captured.out == ""


# ------------------------------------------------------------------------------ errors
@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"effect": "alliance"}, "unknown effect 'alliance'"),
        ({"effect": "(Intercept)"}, "unknown effect"),
        ({"n_clients": []}, "n_clients must not be empty"),
        ({"n_clients": [0]}, "n_clients must be a positive integer"),
        ({"n_reps": 0}, "n_reps must be a positive integer"),
        ({"max_sessions": 2.5}, "max_sessions must be a positive integer"),
        ({"alpha": 1.5}, r"alpha must be a share in \(0, 1\)"),
        ({"values": []}, "values must not be empty"),
        ({"values": ["big"]}, "values must be numbers"),
        ({"params": {"time": 0.0}}, "params must be a SimulationParams"),
        ({"progress": "stderr"}, "progress must be"),
    ],
)
def test_invalid_arguments_raise_typed_errors(kwargs, match):
    with pytest.raises(es.DataValidationError, match=match) as err:
        power_curve(**{"n_reps": 1, "progress": False, **kwargs})
    problem = err.value.problems.iloc[0]
    assert (problem["file"], problem["column"]) == ("argument", next(iter(kwargs)))


def test_every_effect_maps_to_a_simulation_parameter():
    fields = set(es.SimulationParams.__dataclass_fields__)
    assert set(power.EFFECTS.values()) <= fields
    assert "alliance_within_lag" in power.EFFECTS
    assert "(Intercept)" not in power.EFFECTS


# ---------------------------------------------------------------------- real simulations
def test_real_fits_are_deterministic_for_a_seed():
    kw = {
        "effect": "time:autonomous",
        # 4 therapists: with 2 (8 clients) a 16-row fit can stop short of the optimum
        "n_clients": [16],
        "clients_per_therapist": 4,
        "max_sessions": 8,
        "n_reps": 2,
        "progress": False,
    }
    a = power_curve(**kw, seed=42)
    b = power_curve(**kw, seed=42)
    pd.testing.assert_frame_equal(a, b)
    assert a["n_failed"].iloc[0] == 0
    assert np.isfinite(a["mean_estimate"].iloc[0])


@pytest.mark.slow
def test_real_power_increases_with_n():
    """A slope effect of -0.1 (default -0.075): rarely found with 12 clients, nearly always with 96.

    6-12 s. A 40-replication run (seed 99) gave powers of 0.03 and 0.90; with 8 replications
    per size a difference of at least 0.4 (4 of 8 more detections) has probability > 0.95.
    Under ``SimulationParams.classic()``, the model those powers were measured with: the
    routine-care defaults double the client slope SD (0.3), which lowers the power at 96
    clients to about a half (notebook 7), too little for this 8-replication contrast.
    """
    res = power_curve(
        params=es.SimulationParams.classic(),
        effect="time:readiness",
        values=[-0.1],
        n_clients=[12, 96],
        clients_per_therapist=6,
        max_sessions=12,
        n_reps=8,
        seed=5,
        progress=False,
    )
    low, high = res["power"].tolist()
    assert high - low >= 0.4
    assert res["n_failed"].iloc[1] == 0
    # the estimates are near the truth on average
    assert res["mean_estimate"].iloc[1] == pytest.approx(-0.1, abs=0.05)
