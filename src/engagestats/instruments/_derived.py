"""Derived scores of an :class:`~engagestats.instruments.Instrument` and their file form.

A derived score is computed after the subscales: :class:`Linear` from subscale
scores, :class:`GasTScore` from the item matrix. :func:`derived_from_spec` reads the
forms a definition file may use (documented in
:func:`~engagestats.instruments.load_instrument`); ``to_spec`` writes them back.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from numbers import Number
from typing import Any

import numpy as np

from ..errors import InstrumentError

__all__ = ["SNAKE_CASE", "Derived", "GasTScore", "Linear", "derived_from_spec"]

#: Names of instruments, scores and column stems.
SNAKE_CASE = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Linear:
    """A derived score: a weighted sum of subscale scores plus a constant.

    Examples
    --------
    >>> d = Linear({"contemplation": 1, "action": 1, "maintenance": 1, "precontemplation": -1})
    >>> d.compute({"contemplation": np.array([3.0]), "action": np.array([4.0]),
    ...            "maintenance": np.array([2.0]), "precontemplation": np.array([1.5])}, None)
    array([7.5])
    """

    weights: Mapping[str, float]
    constant: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "weights", {str(k): float(v) for k, v in self.weights.items()})
        if not self.weights:
            raise InstrumentError("a Linear derived score needs at least one weight")

    def requires(self) -> tuple[str, ...]:
        """Names of the subscales this score is computed from."""
        return tuple(self.weights)

    def to_spec(self) -> dict[str, Any]:
        """The file form: the bare weight map, or ``{"type": "linear", ...}`` with a constant."""
        if self.constant == 0:
            return dict(self.weights)
        return {"type": "linear", "weights": dict(self.weights), "constant": self.constant}

    def compute(self, scores: Mapping[str, np.ndarray], context: Any) -> np.ndarray:
        """Weighted sum of the subscale score arrays (NaN when any part is NaN)."""
        out = np.full_like(next(iter(scores.values())), self.constant, dtype=float)
        for name, w in self.weights.items():
            out = out + w * scores[name]
        return out


@dataclass(frozen=True)
class GasTScore:
    """Kiresuk & Sherman (1968) Goal Attainment Scaling T-score.

    ``T = 50 + 10 * sum(w_i x_i) / sqrt((1 - rho) * sum(w_i^2) + rho * (sum w_i)^2)``
    over the goals that were rated, with weights from the columns
    ``<weight_stem>_<i>`` when present (``<stem>_weight_<i>`` by default), else
    equal weights.

    Parameters
    ----------
    rho : float, default 0.3
        The assumed correlation between goal attainment ratings.
    weight_stem : str, optional
        Stem of the weight columns; default ``"<stem>_weight"``.
    """

    rho: float = 0.3
    weight_stem: str | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.rho < 1:
            raise InstrumentError(f"GAS rho must be in [0, 1), got {self.rho}")

    def requires(self) -> tuple[str, ...]:
        """GAS uses the item matrix, not subscales."""
        return ()

    def to_spec(self) -> dict[str, Any]:
        """The file form: ``{"type": "gas_t_score", "rho": ..., "weight_stem": ...}``."""
        out: dict[str, Any] = {"type": "gas_t_score", "rho": self.rho}
        if self.weight_stem is not None:
            out["weight_stem"] = self.weight_stem
        return out

    def compute(self, scores: Mapping[str, np.ndarray], context: Any) -> np.ndarray:
        """T-scores from the context's item matrix and weights."""
        x = context.items
        answered = ~np.isnan(x)
        w = context.gas_weights(self.weight_stem)
        w = np.where(answered, w, 0.0)
        num = np.where(answered, w * np.where(answered, x, 0.0), 0.0).sum(axis=1)
        s1 = w.sum(axis=1)
        s2 = (w * w).sum(axis=1)
        den = np.sqrt((1 - self.rho) * s2 + self.rho * s1 * s1)
        ok = answered.any(axis=1)
        safe = np.where(ok, den, 1.0)
        return np.where(ok, 50 + 10 * num / safe, np.nan)


Derived = Linear | GasTScore

#: ``type`` of a derived score in a definition file, and its fields.
_DERIVED_TYPES: dict[str, tuple[type, tuple[str, ...]]] = {
    "linear": (Linear, ("weights", "constant")),
    "gas_t_score": (GasTScore, ("rho", "weight_stem")),
}


def derived_from_spec(name: str, spec: Any) -> Derived:
    """A derived score from its object, its typed mapping, or a bare weight map."""
    if isinstance(spec, Linear | GasTScore):
        return spec
    if not isinstance(spec, Mapping):
        raise InstrumentError(
            f"derived {name!r} must be a mapping, got {type(spec).__name__}; expected a weight "
            "map or {type: linear | gas_t_score, ...}"
        )
    kind = spec.get("type")
    if not isinstance(kind, str):  # the shorthand: {subscale: weight}
        kind, spec = "linear", {"weights": spec}
    if kind not in _DERIVED_TYPES:
        raise InstrumentError(
            f"derived {name!r} has unknown type {kind!r}; expected one of {list(_DERIVED_TYPES)}"
        )
    cls, fields = _DERIVED_TYPES[kind]
    kw = {k: v for k, v in spec.items() if k != "type"}
    unknown = sorted(set(kw) - set(fields))
    if unknown:
        raise InstrumentError(
            f"derived {name!r} ({kind}) has unknown field(s) {unknown}; expected {list(fields)}"
        )
    weights = kw.get("weights", {})
    if not isinstance(weights, Mapping) or (kind == "linear" and "weights" not in kw):
        raise InstrumentError(f"derived {name!r} ({kind}): weights must map subscales to numbers")
    values = {f"weight of {k!r}": v for k, v in weights.items()}
    values |= {f: kw[f] for f in ("constant", "rho") if f in kw}
    bad = [k for k, v in values.items() if isinstance(v, bool) or not isinstance(v, Number)]
    if bad:
        raise InstrumentError(f"derived {name!r} ({kind}): {', '.join(bad)} must be a number")
    stem = kw.get("weight_stem")
    if stem is not None and not (isinstance(stem, str) and SNAKE_CASE.match(stem)):
        raise InstrumentError(
            f"derived {name!r}: weight_stem must be a snake_case column stem, got {stem!r}"
        )
    return cls(**kw)
