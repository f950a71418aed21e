"""Private: the time coding of a growth model, and term names read back from a fit.

:class:`TimeScale` holds ``growth_model``'s ``time_method`` and knots: the model's time
terms, their values at given sessions since the first (so trajectories and prediction
bands are asked for, and reported, in sessions whatever the coding) and the words that
say what unit a slope is per. :func:`split_term` and :func:`plain` read coefficient
names whose pieces may be backticked (``"time:`my var`"``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import prep
from ..errors import ModelSpecError

__all__ = ["DEFAULT_KNOT", "METHODS", "TimeScale", "plain", "split_term"]

#: The time codings of :func:`~engagestats.analyses.growth_model`.
METHODS = ("session", "log", "piecewise")

#: Default knot of ``time_method="piecewise"``: sessions after the client's first. Ours, not a
#: published rule (there is none; docs/methods/models.md, "Time coding").
DEFAULT_KNOT = 4.0


def _num(x: float) -> str:
    return f"{x:g}"


@dataclass(frozen=True)
class TimeScale:
    """The time coding: ``method`` and (piecewise) the knots, in sessions since the first."""

    method: str = "session"
    knots: tuple[float, ...] = ()

    @classmethod
    def build(cls, method: str, knots: Sequence[float] | None) -> TimeScale:
        """Validated scale; ``knots`` only with ``"piecewise"`` (default :data:`DEFAULT_KNOT`)."""
        if method not in METHODS:
            raise ModelSpecError(f"time_method must be one of {METHODS}, got {method!r}")
        if method != "piecewise":
            if knots:
                raise ModelSpecError(f"knots are for time_method='piecewise', not {method!r}")
            return cls(method)
        values = (DEFAULT_KNOT,) if knots is None else tuple(knots)
        try:
            ks = tuple(sorted(float(k) for k in values))
        except (TypeError, ValueError):
            raise ModelSpecError(f"knots must be numbers, got {knots!r}") from None
        if not ks or any(not np.isfinite(k) or k <= 0 for k in ks) or len(set(ks)) < len(ks):
            raise ModelSpecError(
                "knots must be distinct positive numbers of sessions after the first, "
                f"got {knots!r}"
            )
        return cls(method, ks)

    @property
    def terms(self) -> list[str]:
        """The model's time terms (formula names)."""
        if self.method == "log":
            return ["log_time"]
        if self.method == "piecewise":
            return [f"time_p{j}" for j in range(1, len(self.knots) + 2)]
        return ["time"]

    def add(self, frame: pd.DataFrame, *, session: str, client: str) -> pd.DataFrame:
        """``frame`` with ``time`` (sessions since the first) and the model's time terms."""
        out = prep.time_code(frame, session=session, client=client, method="session")
        if self.method == "log":
            out = prep.time_code(out, session=session, client=client, method="log", name="log_time")
        elif self.method == "piecewise":
            out = prep.time_code(
                out, session=session, client=client, method="piecewise", knots=self.knots
            )
        return out

    def code(self, t: np.ndarray) -> dict[str, np.ndarray]:
        """The time terms at ``t`` sessions since the first (as :func:`prep.time_code`)."""
        t = np.asarray(t, dtype=float)
        if self.method == "log":
            return {"log_time": np.log1p(t)}
        if self.method == "piecewise":
            edges = [0.0, *self.knots, np.inf]
            return {
                name: np.clip(t - lo, 0.0, hi - lo)
                for name, lo, hi in zip(self.terms, edges[:-1], edges[1:], strict=True)
            }
        return {"time": t}

    def phase(self, term: str) -> str:
        """The sessions a piecewise term spans, in words (empty for one time term)."""
        if self.method != "piecewise":
            return ""
        j = self.terms.index(term)
        edges = [0.0, *self.knots]
        if j == len(self.knots):
            return f"phase {j + 1} (more than {_num(edges[j])} sessions after the first)"
        return f"phase {j + 1} ({_num(edges[j])} to {_num(edges[j + 1])} sessions after the first)"

    def per(self, term: str) -> str:
        """What a slope on ``term`` is per: ``"per session"``, ``"per unit of log(1 + ...)"``."""
        if self.method == "log":
            return "per unit of log(1 + sessions since the first)"
        if self.method == "piecewise":
            return f"per session in {self.phase(term)}"
        return "per session"

    @property
    def description(self) -> str:
        """The coding in words (for summaries)."""
        if self.method == "log":
            return "log_time = log(1 + sessions since the first)"
        if self.method == "piecewise":
            pieces = ", ".join(f"{t}: {self.phase(t)}" for t in self.terms)
            return f"piecewise linear in sessions since the first: {pieces}"
        return "time = sessions since the first"


def split_term(name: str) -> list[str]:
    """The pieces of a coefficient name, split at ``:`` outside backticks, backticks removed.

    >>> split_term("time:`my var`"), split_term("`x-1`individual:time_p2")
    (['time', 'my var'], ['x-1individual', 'time_p2'])
    """
    pieces: list[str] = []
    cur: list[str] = []
    quoted = False
    for ch in name:
        if ch == "`":
            quoted = not quoted
        elif ch == ":" and not quoted:
            pieces.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    pieces.append("".join(cur))
    return pieces


def plain(name: str) -> str:
    """A coefficient name with its backticks removed (``"time:`my var`"`` -> ``"time:my var"``)."""
    return ":".join(split_term(name))
