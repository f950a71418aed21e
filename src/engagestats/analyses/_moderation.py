"""Private: simple slopes and interaction tests of a moderated growth model."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .._validate import check_choice, check_level
from ..errors import ModelSpecError

if TYPE_CHECKING:
    from .outcome_model import OutcomeModel


def _level_weights(model: OutcomeModel, moderator: str, weights: str) -> dict[str, float]:
    """Weights of a moderator's levels: shares of analysed clients (``spec.shares``), or equal."""
    levels = model.spec.levels[moderator]
    if weights == "equal":
        return {lv: 1.0 / len(levels) for lv in levels}
    return {lv: model.spec.shares[moderator][lv] for lv in levels}


def moderation(model: OutcomeModel, *, level: float, weights: str) -> dict[str, pd.DataFrame]:
    """Implementation of :meth:`OutcomeModel.moderation` (see its docstring)."""
    if not model.spec.moderators:
        raise ModelSpecError("the model has no moderators; use growth_model(moderators=...)")
    check_choice(weights, ("proportional", "equal"), name="weights")
    level = check_level(level)
    names, cols = model._names(), list(model.fit.fixed.index)
    # a moderator left with one analysed level has no interaction terms (growth_model warns)
    mods = [m for m in model.spec.moderators if len(model.spec.levels[m]) > 1]
    if not mods:
        single = {m: model.spec.levels[m] for m in model.spec.moderators}
        raise ModelSpecError(f"every moderator has a single analysed level {single}: no test")
    if not model.slope_terms:
        raise ModelSpecError("the model has no intake or time-varying predictors to moderate")
    w = {m: _level_weights(model, m, weights) for m in mods}

    times = model.time_scale.terms
    phased = len(times) > 1  # piecewise: one slope (and test) per phase

    def unit(tt: str, *parts: str) -> np.ndarray:  # indicator of the <tt>:<parts> coefficient
        return np.eye(len(cols))[cols.index(names[frozenset((tt, *parts))])]

    tests, slopes = [], []
    for m in mods:
        mlev, others = model.spec.levels[m], [k for k in mods if k != m]
        for term in model.slope_terms:
            for tt in times:
                rows = []
                for piece, _ in model._coded(term):
                    avg = unit(tt, piece)
                    for k in others:
                        for lv in model.spec.levels[k][1:]:
                            avg = avg + w[k][lv] * unit(tt, piece, f"{k}{lv}")
                    rows += [unit(tt, piece, f"{m}{lv}") for lv in mlev[1:]]
                    L = np.vstack([avg] + [avg + unit(tt, piece, f"{m}{lv}") for lv in mlev[1:]])
                    res = model.fit.contrast(L, level=level, ddf=model.ddf).reset_index(drop=True)
                    res.insert(0, "weights", weights if others else "none")
                    res.insert(0, "averaged_over", ", ".join(others) or "none")
                    res.insert(0, "level", mlev)
                    if phased:
                        res.insert(0, "time_term", tt)
                    res.insert(0, "predictor", piece)
                    res.insert(0, "moderator", m)
                    slopes.append(res)
                f = model.fit.contrast(np.vstack(rows), joint=True, ddf=model.ddf).iloc[0]
                phase = {"time_term": tt} if phased else {}
                tests.append(
                    {"moderator": m, "predictor": term, **phase, "num_df": int(f["num_df"])}
                    | {k: float(f[k]) for k in ("den_df", "f", "p")}
                )
    simple = pd.concat(slopes, ignore_index=True)
    used = [(m, lv, wt) for m in mods if len(mods) > 1 for lv, wt in w[m].items()]
    level_weights = pd.DataFrame(used, columns=["moderator", "level", "weight"])
    return {
        "tests": pd.DataFrame(tests),
        "simple_slopes": simple,
        "level_weights": level_weights.astype({"weight": float}),
    }
