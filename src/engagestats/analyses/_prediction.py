"""Private: the fixed-effects design rows behind an outcome model's trajectories and bands.

:meth:`OutcomeModel.trajectories` and :func:`expected_change` evaluate the model at chosen
times (sessions since the first, coded like the model data by its :class:`TimeScale`) and
intake values (given on the data scale, centred as in the model).
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..errors import ModelSpecError
from ._panel import fixed_rows

if TYPE_CHECKING:
    from collections.abc import Mapping

    from ._panel import PanelSpec
    from .outcome_model import OutcomeModel

__all__ = ["design_rows", "model_terms", "model_values", "time_grid"]


def design_rows(model: OutcomeModel, values: dict[str, Any], times: np.ndarray) -> np.ndarray:
    """Fixed-effects rows at ``times``, averaging over unset categorical terms.

    Each unset categorical predictor or moderator is averaged over its levels with
    weights equal to their shares of the analysed clients (``spec.shares``); other unset
    terms are held at 0 (their centre).
    """
    spec = model.spec
    cats = [
        t
        for t in [*spec.predictors, *spec.moderators]
        if spec.kinds.get(t) == "categorical" and t not in values
    ]
    combos = list(itertools.product(*[spec.levels[c] for c in cats])) or [()]
    X: Any = 0.0  # a float, then the weighted sum of design rows
    for combo in combos:
        w = float(np.prod([spec.shares[c][lv] for c, lv in zip(cats, combo, strict=True)]))
        frame = pd.DataFrame({"time": times, **model.time_scale.code(times)})
        for term in model_terms(spec):
            if term in values:
                frame[term] = values[term]
            elif term in cats:
                frame[term] = combo[cats.index(term)]
            else:
                frame[term] = 0.0
            if spec.kinds.get(term) == "categorical":
                frame[term] = pd.Categorical(frame[term], categories=spec.levels[term])
        X = X + w * fixed_rows(model.fit, frame)
    return np.asarray(X)


def model_terms(spec: PanelSpec) -> list[str]:
    """The model's predictor columns: intake predictors, moderators, time-varying parts."""
    out = [*spec.predictors, *spec.moderators]
    for v in spec.time_varying:
        out += [f"{v}_between", spec.within_name(v)]
    return out + list(getattr(spec, "extra_terms", []))


def time_grid(model: OutcomeModel, times: Any) -> np.ndarray:
    """``times`` as a float array; by default every session from 0 to the last observed."""
    if times is None:
        return np.arange(0.0, float(np.floor(model.data["time"].max())) + 1.0)
    return np.asarray(times, dtype=float).ravel()


def model_values(spec: PanelSpec, at: Mapping[str, Any] | None) -> dict[str, Any]:
    """``at`` values on the data scale -> model scale (centred; levels checked)."""
    terms = model_terms(spec)
    out: dict[str, Any] = {}
    for term, value in (at or {}).items():
        if term not in terms:
            raise ModelSpecError(f"at: {term!r} is not a model term; use {terms}")
        if spec.kinds.get(term) == "categorical":
            levels = spec.levels[term]
            if str(value) not in levels:
                raise ModelSpecError(
                    f"at: {value!r} is not a level of {term!r} in the model; its levels are "
                    f"{levels} (a level whose rows were all excluded is not in the model)"
                )
            out[term] = str(value)
        else:
            out[term] = float(value) - spec.centres.get(term, 0.0)
    return out
