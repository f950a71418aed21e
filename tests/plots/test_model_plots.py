"""Tests for the model figures (engagestats.plots): the plotted data, not pixels."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from scipy import stats

import engagestats as es
from engagestats.errors import DataValidationError, DataWarning
from engagestats.models import lmm
from engagestats.plots import (
    alliance_scatter,
    caterpillar,
    forest,
    qq_plot,
    residual_diagnostics,
    spaghetti,
    trajectories,
    within_between_parts,
)


# ----------------------------------------------------------------- helpers
def by_gid(ax, gid):
    """The one artist of ``ax`` with this gid."""
    found = [a for a in ax.get_children() if a.get_gid() == gid]
    assert len(found) == 1, f"expected one artist with gid {gid!r}, found {len(found)}"
    return found[0]


def assert_band(band, x, low, high):
    """The fill_between polygon spans exactly ``low`` .. ``high`` at every ``x``."""
    vertices = np.vstack([path.vertices for path in band.get_paths()])
    x, low, high = (np.asarray(v, dtype=float) for v in (x, low, high))
    assert set(vertices[:, 0].tolist()) == set(x.tolist())
    for xi, lo, hi in zip(x, low, high, strict=True):
        ys = vertices[vertices[:, 0] == xi, 1]
        np.testing.assert_allclose([ys.min(), ys.max()], [lo, hi], rtol=1e-12, atol=0)


def line_slope(line):
    x, y = np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float)
    return (y[-1] - y[0]) / (x[-1] - x[0])


# ---------------------------------------------------------------- fixtures
@pytest.fixture
def panel(rng) -> pd.DataFrame:
    """Long panel: 12 clients x 6 sessions, alliance and outcome, some missing."""
    n, s = 12, 6
    d = pd.DataFrame(
        {
            "client_id": np.repeat([f"C{i:02d}" for i in range(n)], s),
            "session": np.tile(np.arange(1, s + 1), n),
        }
    )
    person = np.repeat(np.arange(n), s)
    mean_wai = rng.normal(3.5, 0.6, n)
    d["wai_sr_total"] = mean_wai[person] + rng.normal(0, 0.4, len(d))
    d["phq9_total"] = (
        20
        - 0.7 * d["session"]
        - 3 * mean_wai[person]
        - 1.5 * (d["wai_sr_total"] - mean_wai[person])
    ) + rng.normal(0, 1.5, len(d))
    d.loc[[3, 10, 40], "phq9_total"] = np.nan
    d.loc[[5, 41], "wai_sr_total"] = np.nan
    return d.sample(frac=1, random_state=3).reset_index(drop=True)  # rows out of order


@pytest.fixture(scope="module")
def fit():
    """A small crossed-level LMM: random intercepts and slopes for clients, therapists."""
    rng = np.random.default_rng(5)
    nt, nc, ns = 10, 4, 6
    n = nt * nc
    d = pd.DataFrame(
        {
            "client_id": np.repeat([f"C{i:02d}" for i in range(n)], ns),
            "therapist_id": np.repeat([f"T{i:02d}" for i in range(nt)], nc * ns),
            "session": np.tile(np.arange(1.0, ns + 1), n),
        }
    )
    ci, ti = np.repeat(np.arange(n), ns), np.repeat(np.arange(nt), nc * ns)
    d["phq9_total"] = (
        15
        - 0.8 * d["session"]
        + rng.normal(0, 3, n)[ci]
        + rng.normal(0, 0.4, n)[ci] * d["session"]
        + rng.normal(0, 2, nt)[ti]
        + rng.normal(0, 2, len(d))
    )
    return lmm("phq9_total ~ session + (1 + session | client_id) + (1 | therapist_id)", d)


@pytest.fixture
def traj() -> pd.DataFrame:
    sessions = np.arange(1.0, 9.0)
    rows = []
    for level, start, slope in [("individual", 17.0, -0.9), ("group", 16.0, -0.5)]:
        est = start + slope * (sessions - 1)
        se = 0.4 + 0.05 * sessions
        rows.append(
            pd.DataFrame(
                {
                    "format": level,
                    "session": sessions,
                    "estimate": est,
                    "se": se,
                    "ci_low": est - 1.96 * se,
                    "ci_high": est + 1.96 * se,
                }
            )
        )
    return pd.concat(rows, ignore_index=True).sample(frac=1, random_state=1)  # unsorted


# -------------------------------------------------------------- spaghetti
def test_spaghetti_lines_are_each_clients_observed_scores(panel):
    _fig, ax = plt.subplots()
    assert spaghetti(panel, ax=ax) is ax
    segments = by_gid(ax, "clients").get_segments()
    clients = sorted(panel["client_id"].unique())
    assert len(segments) == len(clients)
    for cid, seg in zip(clients, segments, strict=True):
        rows = [
            (float(t), float(y))
            for t, y, c in zip(
                panel["session"], panel["phq9_total"], panel["client_id"], strict=True
            )
            if c == cid and not np.isnan(y)
        ]
        np.testing.assert_array_equal(seg, np.array(sorted(rows)))
    assert ax.get_xlabel() == "session"
    assert "PHQ-9" in ax.get_ylabel()


def test_spaghetti_sample_is_seeded_and_mean_overlaid(panel):
    mean = pd.DataFrame(
        {"session": [3.0, 1, 2], "estimate": [12.0, 14, 13], "ci_low": [11, 13, 12.0]}
        | {"ci_high": [13.0, 15, 14]}
    )

    def shown(seed):
        ax = spaghetti(panel, n_clients=5, seed=seed, mean=mean)
        return [tuple(map(tuple, s)) for s in by_gid(ax, "clients").get_segments()], ax

    first, ax = shown(7)
    again, _ = shown(7)
    other, _ = shown(8)
    assert len(first) == 5
    assert first == again
    assert first != other
    line = by_gid(ax, "mean")
    np.testing.assert_array_equal(line.get_xdata(), [1.0, 2, 3])
    np.testing.assert_array_equal(line.get_ydata(), [14.0, 13, 12])
    assert_band(by_gid(ax, "mean_ci"), [1, 2, 3], [13, 12, 11], [15, 14, 13])
    # more clients asked for than there are: all shown
    ax = spaghetti(panel, n_clients=100)
    assert len(by_gid(ax, "clients").get_segments()) == 12


@pytest.mark.parametrize("bad", [0, -1, 2.5, True])
def test_spaghetti_rejects_bad_sample_size(panel, bad):
    with pytest.raises(ValueError, match="n_clients"):
        spaghetti(panel, n_clients=bad)


def test_spaghetti_missing_or_text_columns(panel):
    with pytest.raises(DataValidationError) as err:
        spaghetti(panel.drop(columns="session"))
    assert err.value.problems["column"].tolist() == ["session"]
    with pytest.raises(DataValidationError, match="numeric"):
        spaghetti(panel.assign(phq9_total="x"))


# ----------------------------------------------------------- trajectories
def test_trajectories_lines_and_bands_equal_input(traj):
    _fig, ax = plt.subplots()
    assert trajectories(traj, by="format", ax=ax) is ax
    for level in ["individual", "group"]:
        part = traj.loc[traj["format"] == level].sort_values("session")
        line = by_gid(ax, f"trajectory:{level}")
        np.testing.assert_array_equal(line.get_xdata(), part["session"])
        np.testing.assert_array_equal(line.get_ydata(), part["estimate"])
        assert line.get_label() == level
        assert_band(by_gid(ax, f"band:{level}"), part["session"], part["ci_low"], part["ci_high"])
    colours = [by_gid(ax, f"trajectory:{lv}").get_color() for lv in ["individual", "group"]]
    assert colours[0] != colours[1]
    # order of appearance in the input: the shuffled frame starts with ...
    assert [t.get_text() for t in ax.get_legend().get_texts()] == list(pd.unique(traj["format"]))


def test_trajectories_categorical_order_no_by_and_no_band(traj):
    cat = traj.assign(format=pd.Categorical(traj["format"], categories=["individual", "group"]))
    ax = trajectories(cat, by="format")
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["individual", "group"]
    one = traj.loc[traj["format"] == "group"]
    ax = trajectories(one, ci_low=None)
    line = by_gid(ax, "trajectory")
    np.testing.assert_array_equal(line.get_ydata(), one.sort_values("session")["estimate"])
    assert not [a for a in ax.get_children() if str(a.get_gid()).startswith("band")]


def test_trajectories_missing_estimate_warns_and_missing_column_raises(traj):
    bad = traj.copy()
    bad.iloc[[0, 3], bad.columns.get_loc("estimate")] = np.nan
    with pytest.warns(DataWarning, match="2 rows"):
        ax = trajectories(bad, by="format")
    n_drawn = sum(len(line.get_xdata()) for line in ax.get_lines())
    assert n_drawn == len(traj) - 2
    with pytest.raises(DataValidationError):
        trajectories(traj.drop(columns="ci_high"), by="format")


# ------------------------------------------------------- alliance_scatter
def _decompose(panel):
    """Independent decomposition with plain loops over complete pairs."""
    ok = panel["wai_sr_total"].notna() & panel["phq9_total"].notna()
    d = panel.loc[ok]
    means = {}
    for cid in sorted(d["client_id"].unique()):
        rows = d.loc[d["client_id"] == cid]
        means[cid] = (
            np.mean(rows["wai_sr_total"].to_numpy()),
            np.mean(rows["phq9_total"].to_numpy()),
        )
    within = np.array(
        [
            (x - means[c][0], y - means[c][1])
            for c, x, y in zip(d["client_id"], d["wai_sr_total"], d["phq9_total"], strict=True)
        ]
    )
    return means, within, d


def test_alliance_scatter_offsets_equal_decomposition(panel):
    means, within, _ = _decompose(panel)
    ax_b, ax_w = alliance_scatter(panel)
    np.testing.assert_allclose(
        by_gid(ax_b, "between_points").get_offsets(),
        np.array(list(means.values())),
        rtol=1e-12,
        atol=1e-12,
    )
    np.testing.assert_allclose(
        by_gid(ax_w, "within_points").get_offsets(), within, rtol=0, atol=1e-12
    )
    assert "12 clients" in ax_b.get_title()
    assert f"{len(within)} sessions" in ax_w.get_title()
    assert len(within) == len(panel) - 5


def test_alliance_scatter_slopes_equal_ols(panel):
    means, _, d = _decompose(panel)
    ax_b, ax_w = alliance_scatter(panel)
    mx, my = np.array(list(means.values())).T
    between_ols = np.polyfit(mx, my, 1)[0]
    # pooled within slope: coefficient of alliance in OLS with one dummy per client
    dummies = pd.get_dummies(d["client_id"]).to_numpy(dtype=float)
    design = np.column_stack([d["wai_sr_total"].to_numpy(), dummies])
    within_ols = np.linalg.lstsq(design, d["phq9_total"].to_numpy(), rcond=None)[0][0]
    b_line, w_line = by_gid(ax_b, "between_fit"), by_gid(ax_w, "within_fit")
    np.testing.assert_allclose(line_slope(b_line), between_ols, rtol=1e-9)
    np.testing.assert_allclose(line_slope(w_line), within_ols, rtol=1e-9)
    assert f"{within_ols:.2f}" in w_line.get_label()
    # the between line passes through the centroid of the client means
    x, y = b_line.get_xdata(), b_line.get_ydata()
    centroid = y[0] + line_slope(b_line) * (mx.mean() - x[0])
    np.testing.assert_allclose(centroid, my.mean(), rtol=1e-12)
    # the two slopes differ in this simulation (-3 between vs -1.5 within)
    assert line_slope(b_line) < line_slope(w_line) < 0


def test_within_between_parts_matches_prep(panel):
    complete = panel.dropna(subset=["wai_sr_total", "phq9_total"])
    split = es.prep.within_between(complete, ["wai_sr_total", "phq9_total"])
    between, within = within_between_parts(panel)
    np.testing.assert_allclose(within["alliance_within"], split["wai_sr_total_within"], atol=1e-12)
    np.testing.assert_allclose(within["outcome_within"], split["phq9_total_within"], atol=1e-12)
    assert list(between.columns) == ["client_id", "alliance_mean", "outcome_mean"]


def test_alliance_scatter_axes_argument_and_constant_predictor(panel):
    _fig, pair = plt.subplots(1, 2)
    out = alliance_scatter(panel, axes=pair)
    assert out[0] is pair[0]
    assert out[1] is pair[1]
    with pytest.raises(ValueError, match="exactly 2"):
        alliance_scatter(panel, axes=[pair[0]])
    flat = panel.assign(wai_sr_total=4.0)
    with pytest.warns(DataWarning, match="do not vary") as record:
        ax_b, _ax_w = alliance_scatter(flat)
    assert len(record) == 2
    assert not [ln for ln in ax_b.get_lines() if ln.get_gid() == "between_fit"]


# ------------------------------------------------------------------ forest
def test_forest_on_lmm_fixed_effects(fit):
    table = fit.fixed
    ax = forest(table)
    est = by_gid(ax, "estimates")
    # the intercept is left out; one term remains, at the top (y = 0 of 1)
    np.testing.assert_array_equal(est.get_xdata(), table.loc[["session"], "estimate"])
    np.testing.assert_array_equal(est.get_ydata(), [0.0])
    (segment,) = by_gid(ax, "intervals").get_segments()
    np.testing.assert_array_equal(
        segment, [[table.loc["session", "ci_low"], 0], [table.loc["session", "ci_high"], 0]]
    )
    assert list(by_gid(ax, "reference").get_xdata()) == [0, 0]
    ax = forest(table, exclude_intercept=False)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["(Intercept)", "session"]
    np.testing.assert_array_equal(by_gid(ax, "estimates").get_ydata(), [1.0, 0.0])


def test_forest_odds_ratio_table_log_axis_and_term_selection():
    table = pd.DataFrame(
        {
            "term": ["(Intercept)", "autonomy", "controlled", "group_format"],
            "odds_ratio": [0.4, 0.7, 1.3, 2.0],
            "or_ci_low": [0.2, 0.5, 0.9, 1.1],
            "or_ci_high": [0.8, 0.98, 1.9, 3.6],
        }
    )
    kw = {"estimate": "odds_ratio", "ci_low": "or_ci_low", "ci_high": "or_ci_high"}
    ax = forest(table, log=True, **kw)
    assert ax.get_xscale() == "log"
    assert list(by_gid(ax, "reference").get_xdata()) == [1, 1]
    np.testing.assert_array_equal(by_gid(ax, "estimates").get_xdata(), [0.7, 1.3, 2.0])
    np.testing.assert_array_equal(by_gid(ax, "estimates").get_ydata(), [2.0, 1.0, 0.0])
    segments = by_gid(ax, "intervals").get_segments()
    np.testing.assert_array_equal(
        [s[:, 0] for s in segments], [[0.5, 0.98], [0.9, 1.9], [1.1, 3.6]]
    )
    assert ax.get_xlabel() == "odds ratio (95% CI)"
    ax = forest(table, terms=["group_format", "autonomy"], **kw)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["group_format", "autonomy"]
    np.testing.assert_array_equal(by_gid(ax, "estimates").get_xdata(), [2.0, 0.7])


def test_forest_errors_and_missing_estimates():
    table = pd.DataFrame(
        {"estimate": [-0.5, np.nan, 0.3], "ci_low": [-1, np.nan, 0.1], "ci_high": [0, np.nan, 0.5]},
        index=["a", "b", "c"],
    )
    with pytest.warns(DataWarning, match="1 terms.*: b"):
        ax = forest(table)
    np.testing.assert_array_equal(by_gid(ax, "estimates").get_xdata(), [-0.5, 0.3])
    with pytest.raises(DataValidationError, match="terms are not in the table") as err:
        forest(table, terms=["a", "zzz"])
    assert err.value.problems["value"].tolist() == ["zzz"]
    with pytest.raises(DataValidationError, match="not positive"):
        forest(table.dropna(), log=True)
    with pytest.raises(DataValidationError):
        forest(table.drop(columns="ci_low"))
    with pytest.raises(DataValidationError, match="Nothing to plot"):
        forest(table.iloc[[1]].assign(estimate=np.nan).iloc[:0])


# ------------------------------------------------------------- caterpillar
def test_caterpillar_sorted_with_conditional_sd_intervals(fit):
    ranef = fit.ranef(cond_sd=True)
    ax = caterpillar(ranef, group="therapist_id")
    rows = ranef.loc[(ranef["group"] == "therapist_id") & (ranef["term"] == "(Intercept)")]
    expected = rows.sort_values("estimate")
    points = by_gid(ax, "estimates")
    x = np.asarray(points.get_xdata())
    assert np.all(np.diff(x) >= 0)
    np.testing.assert_array_equal(x, expected["estimate"])
    np.testing.assert_array_equal(points.get_ydata(), np.arange(len(rows)))
    assert [t.get_text() for t in ax.get_yticklabels()] == expected["level"].tolist()
    segments = np.array(by_gid(ax, "intervals").get_segments())
    z = 1.959963984540054  # qnorm(0.975): the default level=0.95
    np.testing.assert_allclose(
        segments[:, 0, 0], expected["estimate"] - z * expected["cond_sd"], rtol=1e-12
    )
    np.testing.assert_allclose(
        segments[:, 1, 0], expected["estimate"] + z * expected["cond_sd"], rtol=1e-12
    )
    assert "± 1.96 conditional SD" in ax.get_xlabel()
    assert len(rows) == 10


def test_caterpillar_from_fit_slope_term_and_errors(fit):
    ax = caterpillar(fit, group="client_id", term="session", level=0.6826894921370859)
    ranef = fit.ranef(cond_sd=True)
    rows = ranef.loc[(ranef["group"] == "client_id") & (ranef["term"] == "session")]
    np.testing.assert_array_equal(
        by_gid(ax, "estimates").get_xdata(), np.sort(rows["estimate"].to_numpy())
    )
    ordered = rows.sort_values(["estimate", "level"], kind="stable")
    half = np.diff(np.array(by_gid(ax, "intervals").get_segments())[:, :, 0], axis=1)[:, 0] / 2
    np.testing.assert_allclose(half, ordered["cond_sd"], rtol=1e-9)  # level 68.3%: +/- 1 SD
    assert "± 1 conditional SD" in ax.get_xlabel()
    assert "slope of session" in ax.get_xlabel()
    with pytest.raises(DataValidationError, match="No random effects") as err:
        caterpillar(ranef, group="site")
    assert "therapist_id" in err.value.problems["problem"].iloc[0]
    with pytest.raises(DataValidationError) as err:
        caterpillar(fit.ranef())
    assert err.value.problems["column"].tolist() == ["cond_sd"]


def test_caterpillar_many_levels_have_no_tick_labels():
    n = 60
    ranef = pd.DataFrame(
        {
            "group": "client_id",
            "level": [f"C{i}" for i in range(n)],
            "term": "(Intercept)",
            "estimate": np.linspace(1, -1, n),
            "cond_sd": 0.5,
        }
    )
    ax = caterpillar(ranef, group="client_id")
    assert len(ax.get_yticks()) == 0
    np.testing.assert_array_equal(by_gid(ax, "estimates").get_xdata(), np.linspace(1, -1, n)[::-1])


# ---------------------------------------------------------- diagnostics
def test_residual_diagnostics_panels_and_qq_points(fit):
    fig = residual_diagnostics(fit)
    assert isinstance(fig, Figure)
    ranef = fit.ranef()
    assert len(fig.axes) == 2 + 3
    ax = fig.axes[0]
    np.testing.assert_array_equal(
        by_gid(ax, "residuals").get_offsets(),
        np.column_stack([fit.fitted().to_numpy(), fit.residuals().to_numpy()]),
    )
    assert ax.get_xlabel() == "fitted value"
    smooth = by_gid(ax, "smooth")
    assert np.all(np.diff(smooth.get_xdata()) >= 0)
    (osm, osr), (slope, _intercept, _) = stats.probplot(fit.residuals().to_numpy(), dist="norm")
    np.testing.assert_allclose(
        by_gid(fig.axes[1], "qq_points").get_offsets(), np.column_stack([osm, osr]), rtol=1e-12
    )
    np.testing.assert_allclose(line_slope(by_gid(fig.axes[1], "qq_line")), slope, rtol=1e-9)
    pairs = list(ranef[["group", "term"]].drop_duplicates().itertuples(index=False, name=None))
    for (group, term), axis in zip(pairs, fig.axes[2:], strict=True):
        values = ranef.loc[(ranef["group"] == group) & (ranef["term"] == term), "estimate"]
        (osm, osr), _ = stats.probplot(values.to_numpy(), dist="norm")
        np.testing.assert_allclose(
            by_gid(axis, "qq_points").get_offsets(), np.column_stack([osm, osr]), rtol=1e-12
        )
    assert [a.get_title() for a in fig.axes[2:]] == [
        "Normal QQ plot: client, intercept",
        "Normal QQ plot: client, slope of session",
        "Normal QQ plot: therapist, intercept",
    ]


def test_residual_diagnostics_given_axes(fit):
    fig, grid = plt.subplots(1, 5)
    out = residual_diagnostics(fit, axes=grid, smooth=False)
    assert out is fig
    assert not [a for a in grid[0].get_children() if a.get_gid() == "smooth"]
    assert grid[4].get_title().startswith("Normal QQ plot: therapist")
    with pytest.raises(ValueError, match="exactly 5"):
        residual_diagnostics(fit, axes=grid[:4])


def test_qq_plot_drops_missing_values():
    values = np.array([0.5, np.nan, -1.0, 2.0, 0.0])
    ax = qq_plot(values)
    (osm, osr), _ = stats.probplot(values[~np.isnan(values)], dist="norm")
    np.testing.assert_allclose(by_gid(ax, "qq_points").get_offsets(), np.column_stack([osm, osr]))


# --------------------------------------------------------------- pipeline
def test_figures_from_simulated_scored_study():
    """simulate -> score -> lmm -> every figure, without a warning."""
    study = es.score(
        es.simulate_study(n_therapists=8, clients_per_therapist=6, max_sessions=12, seed=3),
        ["phq9", "wai_sr"],
    )
    panel = study.panel(attended_only=True)
    model = lmm("phq9_total ~ session + (1 | client_id)", panel)
    grid = pd.DataFrame({"session": np.arange(1.0, 13.0)})
    predicted = model.predict(grid.assign(client_id="new"), include_random=False)
    mean = grid.assign(estimate=predicted.to_numpy())
    ax = spaghetti(panel, n_clients=20, seed=1, mean=mean)
    assert len(by_gid(ax, "clients").get_segments()) == 20
    np.testing.assert_allclose(
        by_gid(ax, "mean").get_ydata(),
        model.fixed.loc["(Intercept)", "estimate"]
        + model.fixed.loc["session", "estimate"] * grid["session"],
        rtol=1e-10,
    )
    between, _within = alliance_scatter(panel)
    n_clients = panel.dropna(subset=["wai_sr_total", "phq9_total"])["client_id"].nunique()
    assert len(by_gid(between, "between_points").get_offsets()) == n_clients
    forest(model.fixed)
    caterpillar(model, group="client_id")
    fig = residual_diagnostics(model)
    assert len(fig.axes) == 3  # residuals vs fitted, QQ residuals, QQ client intercepts


def test_figures_from_growth_model_output():
    """OutcomeModel.trajectories() and .data plug straight into the figures."""
    from engagestats.analyses import growth_model

    study = es.simulate_study(n_therapists=6, clients_per_therapist=6, seed=2)
    # no therapist level: with 6 therapists its variance is often estimated at 0 (singular)
    model = growth_model(study, predictors={"autonomous": "srq_autonomous"}, therapist=None)
    traj = model.trajectories(by="autonomous")
    ax = trajectories(traj, by="autonomous")  # time defaults to the "time" column
    assert ax.get_xlabel() == "sessions since the first"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["-1 SD", "mean", "+1 SD"]
    for level in ["-1 SD", "mean", "+1 SD"]:
        part = traj.loc[traj["autonomous"] == level]
        np.testing.assert_array_equal(by_gid(ax, f"trajectory:{level}").get_xdata(), part["time"])
        assert_band(by_gid(ax, f"band:{level}"), part["time"], part["ci_low"], part["ci_high"])
    mean = model.trajectories()
    ax = spaghetti(model.data, time="time", mean=mean)
    np.testing.assert_array_equal(by_gid(ax, "mean").get_ydata(), mean["estimate"])
    ax = forest(model.effects(), estimate="estimate")
    assert [t.get_text() for t in ax.get_yticklabels()] == model.effects()["term"].tolist()
