"""Private engine of :func:`engagestats.simulate.simulate_study`: builds the three tables.

Every step is vectorised over clients; the only loops run over session numbers.
The order of random draws is fixed, so a seed determines the study exactly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..errors import ModelSpecError
from . import _items as _it
from ._process import session_process

if TYPE_CHECKING:
    from ..instruments import Instrument
    from .params import SimulationParams


def _expit(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _logit(p: float) -> float:
    return float(np.log(p / (1.0 - p)))


def _ids(prefix: str, n: int, width: int) -> list[str]:
    width = max(width, len(str(n)))
    return [f"{prefix}{i:0{width}d}" for i in range(1, n + 1)]


def _corr_matrix(upper: tuple[float, ...], k: int) -> np.ndarray:
    corr = np.eye(k)
    corr[np.triu_indices(k, 1)] = upper
    return corr + np.triu(corr, 1).T


def _scale_items(
    rng: np.random.Generator,
    latent: dict[str, np.ndarray],
    inst: Instrument,
    *,
    precision: float,
) -> np.ndarray:
    """Items of a multi-scale questionnaire, each subscale of its key from its latent item mean."""
    n = len(next(iter(latent.values())))
    out = np.empty((n, inst.n_items))
    for name, items in _it.generating_key(inst).items():
        weights = np.linspace(0.8, 1.2, len(items))
        out[:, [i - 1 for i in items]] = _it.items_from_latent(
            rng, latent[name], weights, **_it.response_range(inst), precision=precision
        )
    return out


def _allocate(
    rng: np.random.Generator, probs: tuple[float, ...], n: int, *, what: str
) -> np.ndarray:
    """Category codes for ``n`` units in proportions ``probs``, in random order.

    Counts are ``n * probs`` rounded by largest remainder (ties to the first
    category); when ``n`` allows, every category of positive probability gets
    at least one unit (taken from the category furthest above its quota).
    """
    prob = np.asarray(probs, dtype=float)
    if prob.ndim != 1 or prob.size == 0 or (prob < 0).any() or abs(prob.sum() - 1.0) > 1e-9:
        raise ModelSpecError(f"{what} must be non-negative and sum to 1, got {probs!r}")
    quota = n * prob
    counts = np.floor(quota).astype(np.int64)
    order = np.argsort(-(quota - counts), kind="stable")
    counts[order[: n - counts.sum()]] += 1
    positive = prob > 0
    if n >= positive.sum():
        for j in np.flatnonzero(positive & (counts == 0)):
            excess = np.where(counts > 1, counts - quota, -np.inf)
            counts[int(np.argmax(excess))] -= 1
            counts[j] = 1
    return rng.permutation(np.repeat(np.arange(prob.size), counts))


def generate(
    rng: np.random.Generator,
    p: SimulationParams,
    n_therapists: int,
    clients_per_therapist: int,
    max_sessions: int,
) -> tuple[dict[str, pd.DataFrame], dict[str, pd.DataFrame]]:
    """Generate the tables and the latent values (see ``simulate_study``)."""
    n_t, S = n_therapists, max_sessions
    n = n_t * clients_per_therapist
    therapist_ids = _ids("T", n_t, 2)
    client_ids = _ids("C", n, 4)
    th = np.repeat(np.arange(n_t), clients_per_therapist)

    # --- therapists and client background
    modality = _allocate(rng, p.modality_probs, n_t, what="modality_probs")
    years = np.clip(np.rint(rng.gamma(2.2, 5.5, size=n_t)), 0, 45).astype(np.int64)
    age = np.clip(np.rint(rng.normal(36.0, 12.0, size=n)), 18, 80).astype(np.int64)
    gender = rng.choice(len(p.gender_probs), size=n, p=p.gender_probs)
    share = (1.0 - p.group_share, p.group_share)
    group = _allocate(rng, share, n, what="(1 - group_share, group_share)") == 1
    start = np.datetime64(p.first_intake, "D")
    intake = start + rng.integers(0, p.intake_span_days, size=n).astype("timedelta64[D]")
    planned = rng.integers(max(2, round(0.4 * S)), S + 1, size=n)

    # --- intake motivation and readiness (latent, then items, then observed scores)
    z = _it.correlated_normals(rng, n, _corr_matrix(p.motivation_corr, 4))
    srq_latent = {
        "autonomous": np.clip(p.autonomous_mean + p.autonomous_sd * z[:, 0], 1.0, 7.0),
        "controlled": np.clip(p.controlled_mean + p.controlled_sd * z[:, 1], 1.0, 7.0),
        "amotivation": np.clip(p.amotivation_mean + p.amotivation_sd * z[:, 2], 1.0, 7.0),
    }
    uri_names = ("precontemplation", "contemplation", "action", "maintenance")
    uri_unique = rng.normal(0.0, p.urica_unique_sd, size=(n, 4))
    uri_latent = {
        name: np.clip(mu + load * z[:, 3] + uri_unique[:, k], 1.0, 5.0)
        for k, (name, mu, load) in enumerate(
            zip(uri_names, p.urica_means, p.urica_loadings, strict=True)
        )
    }
    uri_latent["unscored"] = np.clip(3.0 + rng.normal(0.0, 0.5, size=n), 1.0, 5.0)
    prec = _it.ITEM_PRECISION
    inst = _it.simulator_instruments()
    srq = _scale_items(rng, srq_latent, inst["srq"], precision=prec["srq"])
    urica = _scale_items(rng, uri_latent, inst["urica"], precision=prec["urica"])
    srq = _it.skip_items(rng, srq, p.skip_rate)
    urica = _it.skip_items(rng, urica, p.skip_rate)
    srq_aut = _it.observed_scores(inst["srq"], srq)["srq_autonomous"].to_numpy()
    readiness_obs = _it.observed_scores(inst["urica"], urica)["urica_readiness"].to_numpy()
    aut_c = srq_aut - srq_aut.mean()
    ready_c = readiness_obs - readiness_obs.mean()

    # --- attendance: session 1 and the planned last session are always attended
    col = np.arange(S)
    miss_p = _expit(_logit(p.miss_rate) + p.miss_autonomy * aut_c)
    attended = rng.random((n, S)) >= miss_p[:, None]
    attended[:, 0] = True
    attended[np.arange(n), planned - 1] = True

    # --- client and therapist effects on the PHQ-9 (level, and slope on the time metric)
    m = np.clip(p.alliance_mean + p.alliance_sd_client * rng.normal(size=n), 1.3, 4.7)
    n_wai = inst["wai_sr"].n_items
    alliance_true = n_wai * m
    between = alliance_true - alliance_true.mean()
    u_t = rng.normal(0.0, p.sd_therapist, size=n_t)
    v_t = rng.normal(0.0, p.sd_therapist_slope, size=n_t)
    cov = np.array(
        [
            [p.sd_client_intercept**2, p.cor_client * p.sd_client_intercept * p.sd_client_slope],
            [p.cor_client * p.sd_client_intercept * p.sd_client_slope, p.sd_client_slope**2],
        ]
    )
    b = _it.correlated_normals(rng, n, np.eye(2)) @ np.linalg.cholesky(cov).T
    level = (
        p.intercept
        + u_t[th]
        + b[:, 0]
        + p.autonomous * aut_c
        + p.readiness * ready_c
        + p.alliance_between * between
    )
    slope = (
        p.time
        + v_t[th]
        + b[:, 1]
        + p.time_autonomous * aut_c
        + p.time_readiness * ready_c
        + p.time_alliance_between * between
    )

    # --- alliance and latent PHQ-9, session by session (reciprocal paths)
    proc = session_process(
        rng, p, level=level, slope=slope, alliance_level=m, attended=attended, wai=inst["wai_sr"]
    )
    phq_latent, wai, within = proc["phq_latent"], proc["wai_items"], proc["within"]
    gad_client = rng.normal(0.0, p.sd_gad_client, size=n)
    gad_latent = p.gad_intercept + p.gad_loading * (phq_latent - p.intercept) + gad_client[:, None]
    gad_latent += rng.normal(0.0, p.sd_gad_residual, size=(n, S))
    phq = _it.items_from_latent(
        rng,
        phq_latent / inst["phq9"].n_items,
        _it.PHQ9_WEIGHTS,
        **_it.response_range(inst["phq9"]),
        precision=prec["phq9"],
    )
    gad = _it.items_from_latent(
        rng,
        gad_latent / inst["gad7"].n_items,
        _it.GAD7_WEIGHTS,
        **_it.response_range(inst["gad7"]),
        precision=prec["gad7"],
    )
    phq = _it.skip_items(rng, phq, p.skip_rate)
    gad = _it.skip_items(rng, gad, p.skip_rate)
    phq_total = _it.observed_scores(inst["phq9"], phq)["phq9_total"].to_numpy().reshape(n, S)

    # --- dropout after attended sessions before the planned end: observed improvement,
    # observed alliance, intake autonomy and readiness (MAR) and, optionally, the latent
    # PHQ-9 change at the next session, which is never observed for a dropout (MNAR)
    last = planned.copy()
    active = np.ones(n, dtype=bool)
    wai_obs = np.where(attended, proc["wai_total"], np.nan)
    wai_centre = np.nanmean(wai_obs[:, 0])
    nxt = np.concatenate([phq_latent[:, 1:], phq_latent[:, -1:]], axis=1)
    for t in range(S):
        draw = rng.random(n)
        alliance_now = np.nan_to_num(wai_obs[:, t] - wai_centre)
        hazard = _expit(
            p.dropout_intercept
            + p.dropout_improvement * (phq_total[:, 0] - phq_total[:, t])
            + p.dropout_autonomy * aut_c
            + p.dropout_readiness * ready_c
            + p.dropout_alliance * alliance_now
            + p.dropout_mnar * (nxt[:, t] - phq_latent[:, 0])
        )
        drop = active & attended[:, t] & (t + 1 < planned) & (draw < hazard)
        last[drop] = t + 1
        active &= ~drop
    dropout = ~active
    noshow = dropout & (rng.random(n) < p.noshow_after_dropout) & (last < planned)
    n_rows = last + noshow
    attended[np.arange(n)[noshow], last[noshow]] = False

    # --- homework, dates, goal attainment
    set_p = np.where(modality[th] == 0, p.homework_set_cbt, p.homework_set_other)
    hw_set = rng.random((n, S)) < set_p[:, None]
    hw_done = rng.random((n, S)) < _expit(_logit(p.homework_done) + 0.5 * aut_c)[:, None]
    homework = np.where(hw_set & attended, hw_done.astype(float), np.nan)
    gaps = 7 * (1 + (rng.random((n, S)) < 0.05))
    gaps[:, 0] = rng.integers(7, 22, size=n)
    days = np.cumsum(gaps, axis=1) + rng.integers(-1, 2, size=(n, S))
    dates = intake[:, None] + days.astype("timedelta64[D]")
    improvement = phq_latent[:, 0] - phq_latent[np.arange(n), last - 1]
    gas_latent = (improvement[:, None] - 4.0) / 3.5 + rng.normal(0.0, 0.7, size=(n, 3))
    gas = np.clip(np.rint(gas_latent), -2, 2)
    gas[dropout & (rng.random(n) < p.gas_missing_dropout)] = np.nan
    gas_weight = rng.integers(1, 4, size=(n, 3)).astype(float)

    # --- assemble
    therapists = pd.DataFrame(
        {
            "therapist_id": pd.Series(therapist_ids, dtype=object),
            "modality": pd.Series([_MODALITIES[k] for k in modality], dtype=object),
            "years_experience": years,
        }
    )
    clients = pd.DataFrame(
        {
            "client_id": pd.Series(client_ids, dtype=object),
            "therapist_id": pd.Series([therapist_ids[j] for j in th], dtype=object),
            "age": age,
            "gender": pd.Series([_GENDERS[g] for g in gender], dtype=object),
            "format": pd.Series(np.where(group, "group", "individual").tolist(), dtype=object),
            "intake_date": pd.to_datetime(intake).astype("datetime64[ns]"),
            "planned_sessions": planned.astype(np.int64),
            "end_reason": pd.Series(
                np.where(dropout, "dropout", "completed").tolist(), dtype=object
            ),
        }
    )
    item_frames = [
        pd.DataFrame(srq, columns=list(inst["srq"].items)),
        pd.DataFrame(urica, columns=list(inst["urica"].items)),
        pd.DataFrame(gas, columns=[f"gas_{i}" for i in range(1, 4)]),
        pd.DataFrame(gas_weight, columns=[f"gas_weight_{i}" for i in range(1, 4)]),
    ]
    clients = pd.concat([clients, *item_frames], axis=1)

    rows = col[None, :] < n_rows[:, None]
    ci, ti = np.nonzero(rows)
    att = attended[ci, ti]
    sessions = pd.DataFrame(
        {
            "client_id": pd.Series([client_ids[i] for i in ci], dtype=object),
            "session": (ti + 1).astype(np.int64),
            "date": pd.to_datetime(dates[ci, ti]).astype("datetime64[ns]"),
            "attended": att.astype(np.int64),
            "homework": homework[ci, ti],
        }
    )
    blocks = []
    for name, arr in (("phq9", phq), ("gad7", gad), ("wai_sr", wai)):
        vals = arr[ci, ti].copy()
        vals[~att] = np.nan
        blocks.append(pd.DataFrame(vals, columns=list(inst[name].items)))
    sessions = pd.concat([sessions, *blocks], axis=1)

    latent_clients = pd.DataFrame(
        {
            "client_id": clients["client_id"],
            "therapist_id": clients["therapist_id"],
            "autonomous_latent": srq_latent["autonomous"],
            "controlled_latent": srq_latent["controlled"],
            "amotivation_latent": srq_latent["amotivation"],
            "readiness_latent": uri_latent["contemplation"]
            + uri_latent["action"]
            + uri_latent["maintenance"]
            - uri_latent["precontemplation"],
            "srq_autonomous": srq_aut,
            "urica_readiness": readiness_obs,
            "autonomous": aut_c,
            "readiness": ready_c,
            "alliance_mean": alliance_true,
            "alliance_between": between,
            "therapist_intercept": u_t[th],
            "therapist_slope": v_t[th],
            "client_intercept": b[:, 0],
            "client_slope": b[:, 1],
            "last_session": last.astype(np.int64),
            "dropout": dropout,
        }
    )
    latent_sessions = pd.DataFrame(
        {
            "client_id": sessions["client_id"],
            "session": sessions["session"],
            "phq9_latent": phq_latent[ci, ti],
            "gad7_latent": gad_latent[ci, ti],
            "alliance_latent": n_wai * proc["alliance_item_mean"][ci, ti],
            "residual": proc["residual"][ci, ti],
            "rupture": proc["rupture"][ci, ti],
            "alliance_within_lag": within[ci, ti],
        }
    )
    tables = {"therapists": therapists, "clients": clients, "sessions": sessions}
    # the full latent and observed PHQ-9 (every planned session, also after a dropout) for
    # population truths
    full = {
        "phq_latent": phq_latent,
        "phq_observed": phq_total,
        "residual": proc["residual"],
        "planned": planned,
        "therapist": th,
    }
    return tables, {"clients": latent_clients, "sessions": latent_sessions, "full": full}


_MODALITIES = ("cbt", "psychodynamic", "integrative", "art_therapy")
_GENDERS = ("woman", "man", "nonbinary")
