"""Shared helpers of the model figures: numeric-column check, labels, palette, new Axes."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes

from .. import instruments
from ..errors import DataValidationError
from ..study import CLIENT, SESSION, THERAPIST

__all__ = ["LABELS", "axes_list", "colours", "label", "new_axes", "numeric"]

#: Plain-word axis labels of the columns engagestats produces that are not instrument
#: scores; scores are labelled by their instrument (:attr:`Instrument.labels`).
LABELS: dict[str, str] = {
    SESSION: "session",
    "time": "sessions since the first",
    CLIENT: "client",
    THERAPIST: "therapist",
    "estimate": "estimate",
    "odds_ratio": "odds ratio",
}


def label(name: str) -> str:
    """Plain-word label of a column name.

    :data:`LABELS`, else the label the column's instrument gives the score
    (:func:`engagestats.instruments.score_label`), else underscores as spaces.
    """
    if name in LABELS:
        return LABELS[name]
    return instruments.score_label(name) or str(name).replace("_", " ")


def colours(n: int) -> list[tuple[float, float, float]]:
    """``n`` colours of seaborn's colour-blind-safe ``"colorblind"`` palette."""
    return list(sns.color_palette("colorblind", max(n, 1)))


def numeric(data: pd.DataFrame, columns: Sequence[str], *, what: str) -> None:
    """Raise :class:`DataValidationError` if a column is not numeric."""
    bad = [c for c in columns if not pd.api.types.is_numeric_dtype(data[c])]
    if bad:
        raise DataValidationError(
            [
                {
                    "file": what,
                    "row": None,
                    "column": c,
                    "value": str(data[c].dtype),
                    "problem": "expected a numeric column",
                }
                for c in bad
            ],
            "Plot columns must be numeric",
        )


def new_axes(ax: Axes | None) -> Axes:
    """``ax`` itself, or the Axes of a new figure when ``ax`` is None."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6.4, 4.4))
    return ax


def axes_list(axes: object, n: int, *, what: str) -> list[Axes]:
    """Flatten user-supplied Axes and check that there are exactly ``n``."""
    flat = list(np.asarray(axes, dtype=object).ravel())
    if len(flat) != n or not all(isinstance(a, Axes) for a in flat):
        raise ValueError(f"{what} needs exactly {n} matplotlib Axes, got {len(flat)} objects")
    return flat


#: Above this many rows a caterpillar plot drops its tick labels (they would overlap).
MAX_TICK_LABELS = 50


def draw_caterpillar(
    ax: Axes | None, est: np.ndarray, half: np.ndarray, labels: Sequence[str]
) -> Axes:
    """Points ``est`` with intervals ``est ± half``, one row each, and a reference line at 0.

    Rows are drawn at y = 0, 1, ... in the given order; the tick labels are ``labels``
    when there are at most :data:`MAX_TICK_LABELS` rows.
    """
    y = np.arange(len(est), dtype=float)
    ax = new_axes(ax)
    colour = colours(1)[0]
    ax.axvline(0.0, color="0.5", linewidth=0.9, linestyle="--", gid="reference")
    ax.hlines(y, est - half, est + half, color=colour, linewidth=1.2, gid="intervals")
    ax.plot(est, y, "o", color=colour, markersize=4, gid="estimates")
    if len(est) <= MAX_TICK_LABELS:
        ax.set_yticks(y, list(labels))
    else:
        ax.set_yticks([])
    ax.set_ylim(-0.7, len(est) - 0.3)
    return ax
