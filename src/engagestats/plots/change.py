"""Figures for clinical change: the Jacobson-Truax plot and stacked outcome bars."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes

from .._validate import require_columns
from ..change import (
    CLINICAL_CATEGORIES,
    RELIABLE_CATEGORIES,
    clinical_significance,
    reliable_change,
    reliable_change_threshold,
)
from ..change.rates import rates
from ..errors import DataWarning

__all__ = ["CATEGORY_COLOURS", "jacobson_truax_plot", "outcome_bars"]

#: Colours of the change categories (colour-blind safe "colorblind" palette).
CATEGORY_COLOURS: dict[str, Any] = {
    "harmed": sns.color_palette("colorblind")[4],
    "deteriorated": sns.color_palette("colorblind")[1],
    "reliably_deteriorated": sns.color_palette("colorblind")[1],
    "unchanged": "0.6",
    "no_reliable_change": "0.6",
    "improved": sns.color_palette("colorblind")[0],
    "reliably_improved": sns.color_palette("colorblind")[0],
    "recovered": sns.color_palette("colorblind")[2],
}


def jacobson_truax_plot(
    data: pd.DataFrame,
    *,
    pre: str,
    post: str,
    sd: float,
    reliability: float,
    cutoff: float | None = None,
    higher_is_better: bool = False,
    level: float = 0.95,
    palette: Mapping[str, Any] | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Pre-post scatter with the no-change line, reliable-change band and cutoff.

    Parameters
    ----------
    data : DataFrame
        One row per client with the ``pre`` and ``post`` columns.
    pre, post : str
        Column names of the scores before and after treatment.
    sd, reliability, level, higher_is_better
        As in :func:`engagestats.change.reliable_change` (``level`` is the
        confidence level of the reliable-change criterion).
    cutoff : float, optional
        Clinical cutoff, drawn on both axes; points are then coloured by the
        Jacobson-Truax category of :func:`engagestats.change.clinical_significance`,
        otherwise by the reliable-change category.
    palette : mapping, optional
        Category to colour; default :data:`CATEGORY_COLOURS`.
    ax : matplotlib Axes, optional
        Axes to draw on; default the current Axes.

    Returns
    -------
    matplotlib Axes
        The scatter is ``ax.collections[0]`` (points in input order, rows
        with a missing score left out with a :class:`~engagestats.DataWarning`).
        Lines carry the gids ``"no_change"``, ``"rc_upper"``, ``"rc_lower"``
        (``post = pre ± threshold``), ``"cutoff_pre"`` and ``"cutoff_post"``.

    Notes
    -----
    The band between ``post = pre - t`` and ``post = pre + t``, with
    :math:`t = z\\sqrt{2}\\,s_1\\sqrt{1 - r_{xx}}` (:math:`z` the critical value of
    ``level``), holds the clients without a
    reliable change (Jacobson & Truax, 1991, Figure 1).

    References
    ----------
    Jacobson, N. S., & Truax, P. (1991). *J Consult Clin Psychol, 59*(1), 12-19.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"pre": [15, 20, 12, 5], "post": [4, 12, 13, 12]})
    >>> ax = jacobson_truax_plot(df, pre="pre", post="post", sd=5, reliability=0.8,
    ...                          cutoff=10)
    >>> ax.collections[0].get_offsets().shape
    (4, 2)
    """
    require_columns(data, [pre, post], role="plot")
    if ax is None:
        ax = plt.gca()
    if cutoff is None:
        res = reliable_change(
            data[pre], data[post], sd=sd, reliability=reliability,
            higher_is_better=higher_is_better, level=level,
        )  # fmt: skip
        levels = list(RELIABLE_CATEGORIES)
    else:
        res = clinical_significance(
            data[pre], data[post], sd=sd, reliability=reliability, cutoff=cutoff,
            higher_is_better=higher_is_better, level=level,
        )  # fmt: skip
        levels = list(CLINICAL_CATEGORIES)
    res = res.reset_index(drop=True)
    keep = res["pre"].notna() & res["post"].notna()
    if not keep.all():
        warnings.warn(
            f"{int((~keep).sum())} clients with a missing pre or post score are not plotted",
            DataWarning,
            stacklevel=2,
        )
    shown = res.loc[keep]
    colours = dict(CATEGORY_COLOURS if palette is None else palette)
    sns.scatterplot(
        data=shown.assign(category=shown["category"].astype(str)),
        x="pre",
        y="post",
        hue="category",
        hue_order=[lv for lv in levels if lv in set(shown["category"].astype(str))],
        palette=colours,
        ax=ax,
        zorder=3,
    )
    threshold = reliable_change_threshold(sd, reliability, level=level)
    values = np.concatenate([shown["pre"].to_numpy(), shown["post"].to_numpy()])
    extra = [cutoff] if cutoff is not None else []
    lo = float(np.min(np.concatenate([values, extra]))) if values.size else 0.0
    hi = float(np.max(np.concatenate([values, extra]))) if values.size else 1.0
    pad = 0.05 * (hi - lo) + threshold * 0.25
    lims = np.array([lo - pad, hi + pad])
    ax.plot(lims, lims, color="0.2", lw=1, gid="no_change", label="_no change")
    ax.plot(lims, lims + threshold, color="0.5", lw=0.8, ls="--", gid="rc_upper")
    ax.plot(lims, lims - threshold, color="0.5", lw=0.8, ls="--", gid="rc_lower")
    ax.fill_between(lims, lims - threshold, lims + threshold, color="0.9", zorder=0)
    if cutoff is not None:
        ax.axvline(cutoff, color="0.3", lw=0.8, ls=":", gid="cutoff_pre")
        ax.axhline(cutoff, color="0.3", lw=0.8, ls=":", gid="cutoff_post")
    ax.set_xlim(*lims)
    ax.set_ylim(*lims)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xlabel(pre)
    ax.set_ylabel(post)
    return ax


def outcome_bars(
    data: pd.DataFrame,
    *,
    outcome: str,
    by: str,
    palette: Mapping[str, Any] | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Stacked bars of the share of each outcome category, one bar per group.

    Parameters
    ----------
    data : DataFrame
        One row per client.
    outcome : str
        Category column (a categorical keeps its level order; booleans give
        ``False`` and ``True`` segments).
    by : str
        Grouping column, one bar per group (sorted).
    palette : mapping, optional
        Level to colour; default :data:`CATEGORY_COLOURS` for change
        categories, otherwise the seaborn ``"colorblind"`` palette.
    ax : matplotlib Axes, optional
        Axes to draw on; default the current Axes.

    Returns
    -------
    matplotlib Axes
        ``ax.containers`` holds one bar container per level (labelled with the
        level), whose heights are the proportions from
        :func:`engagestats.change.rates` (missing outcomes left out).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"recovered": [True, False, True, True],
    ...                    "site": ["x", "x", "y", "y"]})
    >>> ax = outcome_bars(df, outcome="recovered", by="site")
    >>> [float(p.get_height()) for p in ax.containers[1]]
    [0.5, 1.0]
    """
    require_columns(data, [outcome, by], role="plot")
    if ax is None:
        ax = plt.gca()
    values = data[outcome]
    if not isinstance(values.dtype, pd.CategoricalDtype):
        values = pd.Categorical(values, categories=sorted(values.dropna().unique(), key=str))
    table = rates(data.assign(**{outcome: values}), outcome=outcome, by=by, overall=False)
    groups = list(pd.unique(table["group"]))
    levels = list(pd.unique(table["level"]))
    default = sns.color_palette("colorblind", max(len(levels), 1))
    x = np.arange(len(groups))
    bottom = np.zeros(len(groups))
    for i, level in enumerate(levels):
        part = table.loc[table["level"] == level].set_index("group")["rate"]
        heights = part.reindex(groups).fillna(0.0).to_numpy(dtype=float)
        if palette is not None and level in palette:
            colour = palette[level]
        elif palette is None and str(level) in CATEGORY_COLOURS:
            colour = CATEGORY_COLOURS[str(level)]
        else:
            colour = default[i % len(default)]
        ax.bar(x, heights, bottom=bottom, label=str(level), color=colour, width=0.7)
        bottom += heights
    ax.set_xticks(x, [str(g) for g in groups])
    ax.set_xlabel(by)
    ax.set_ylabel("proportion")
    ax.set_ylim(0, 1)
    ax.legend(title=outcome, frameon=False)
    return ax
