"""Shared helpers of the model figures: column checks, labels, palette, new Axes."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes

from ..errors import DataValidationError

__all__ = ["LABELS", "axes_list", "colours", "label", "new_axes", "numeric", "require_columns"]

#: Plain-word axis labels of the columns engagestats produces.
LABELS: dict[str, str] = {
    "phq9_total": "depression (PHQ-9 total)",
    "gad7_total": "anxiety (GAD-7 total)",
    "wai_sr_total": "alliance (WAI-SR total)",
    "wai_sr_goal": "alliance: goals (WAI-SR)",
    "wai_sr_task": "alliance: tasks (WAI-SR)",
    "wai_sr_bond": "alliance: bond (WAI-SR)",
    "session": "session",
    "time": "sessions since the first",
    "client_id": "client",
    "therapist_id": "therapist",
    "estimate": "estimate",
    "odds_ratio": "odds ratio",
}


def label(name: str) -> str:
    """Plain-word label of a column name (``LABELS`` or underscores as spaces)."""
    return LABELS.get(name, str(name).replace("_", " "))


def colours(n: int) -> list[tuple[float, float, float]]:
    """``n`` colours of seaborn's colour-blind-safe ``"colorblind"`` palette."""
    return list(sns.color_palette("colorblind", max(n, 1)))


def require_columns(data: pd.DataFrame, columns: Sequence[str], *, what: str) -> None:
    """Raise :class:`DataValidationError` listing every column missing from ``data``."""
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"{what} must be a DataFrame, got {type(data).__name__}")
    missing = [c for c in columns if c not in data.columns]
    if missing:
        raise DataValidationError(
            [
                {
                    "file": what,
                    "row": None,
                    "column": c,
                    "value": None,
                    "problem": f"column {c!r} is missing (the plot needs it)",
                }
                for c in missing
            ],
            f"{len(missing)} column{'s' if len(missing) != 1 else ''} missing for the plot",
        )


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
