"""Figures of model effects: forest plot of fixed effects, caterpillar plot of random effects."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, cast

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from scipy import stats

from .._validate import check_level, require_columns
from ..errors import DataValidationError, DataWarning
from ..study import THERAPIST
from ._model_common import colours, draw_caterpillar, label, new_axes, numeric

if TYPE_CHECKING:
    from ..models import LmmResult

__all__ = ["caterpillar", "forest"]

_INTERCEPTS = ("(Intercept)", "Intercept", "const")


def _term_labels(table: pd.DataFrame) -> pd.Series:
    """Term names: a ``term`` column if present, otherwise the index."""
    if "term" in table.columns:
        return table["term"].astype(str).reset_index(drop=True)
    return pd.Series(table.index.astype(str), dtype=object)


def forest(
    fixed: pd.DataFrame,
    *,
    terms: Sequence[str] | None = None,
    exclude_intercept: bool = True,
    estimate: str = "estimate",
    ci_low: str = "ci_low",
    ci_high: str = "ci_high",
    log: bool = False,
    xlabel: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Forest plot: one row per model term, its estimate and confidence interval.

    Parameters
    ----------
    fixed : DataFrame
        One row per term, the terms in the index (``LmmResult.fixed``) or in
        a ``term`` column, e.g. a GLMM/GEE odds-ratio table.
    terms : sequence of str, optional
        The terms to show, top to bottom; default every term in table order.
    exclude_intercept : bool, default True
        Leave out ``(Intercept)`` (also ``Intercept``, ``const``) when
        ``terms`` is None.
    estimate, ci_low, ci_high : str
        Columns of the estimate and its confidence limits; for odds ratios
        ``estimate="odds_ratio", ci_low="or_ci_low", ci_high="or_ci_high"``.
    log : bool, default False
        Logarithmic x axis (for ratios); the reference line is then at 1,
        otherwise at 0.
    xlabel : str, optional
        Label of the x axis; default ``"<estimate> (95% CI)"`` in plain words.
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure when None.

    Returns
    -------
    matplotlib Axes
        The estimates are the line with gid ``"estimates"`` (markers only;
        x = estimate, y = position), the intervals the
        :class:`~matplotlib.collections.LineCollection` with gid
        ``"intervals"`` (one segment ``[(ci_low, y), (ci_high, y)]`` per term),
        the reference line has gid ``"reference"``. The first term is at the
        top: term *k* of *n* sits at y = n - 1 - k, labelled on the y axis.

    Raises
    ------
    DataValidationError
        If a column or a requested term is missing, nothing is left to plot,
        or ``log=True`` meets a value that is not positive.

    Notes
    -----
    Terms with a missing estimate are left out with a
    :class:`~engagestats.DataWarning`; a missing limit draws no interval.

    Examples
    --------
    >>> import pandas as pd
    >>> import matplotlib.pyplot as plt
    >>> fixed = pd.DataFrame({"estimate": [14.0, -0.8, -1.5],
    ...                       "ci_low": [12.0, -1.0, -2.6], "ci_high": [16.0, -0.6, -0.4]},
    ...                      index=pd.Index(["(Intercept)", "session", "autonomy"], name="term"))
    >>> ax = forest(fixed)
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['session', 'autonomy']
    >>> points = next(ln for ln in ax.get_lines() if ln.get_gid() == "estimates")
    >>> points.get_xdata().tolist()
    [-0.8, -1.5]
    >>> plt.close("all")
    """
    require_columns(fixed, [estimate, ci_low, ci_high], table="fixed", role="plot")
    numeric(fixed, [estimate, ci_low, ci_high], what="fixed")
    table = fixed.loc[:, [estimate, ci_low, ci_high]].reset_index(drop=True)
    table.insert(0, "term", _term_labels(fixed).to_numpy())
    if terms is None:
        if exclude_intercept:
            table = table.loc[~table["term"].isin(_INTERCEPTS)]
    else:
        wanted = [str(t) for t in terms]
        unknown = [t for t in wanted if t not in set(table["term"])]
        if unknown:
            raise DataValidationError(
                [
                    {"file": "fixed", "column": "term", "value": t, "problem": "term not in table"}
                    for t in unknown
                ],
                "Requested terms are not in the table",
            )
        table = table.set_index("term").loc[wanted].reset_index()
    missing = table[estimate].isna()
    if missing.any():
        warnings.warn(
            f"{int(missing.sum())} terms with a missing {estimate} are not drawn: "
            + ", ".join(table.loc[missing, "term"]),
            DataWarning,
            stacklevel=2,
        )
        table = table.loc[~missing]
    if table.empty:
        raise DataValidationError(
            [{"file": "fixed", "column": estimate, "value": None, "problem": "no term to plot"}],
            "Nothing to plot",
        )
    values = table[[estimate, ci_low, ci_high]].to_numpy(dtype=float)
    if log and np.any(values[~np.isnan(values)] <= 0):
        raise DataValidationError(
            [
                {
                    "file": "fixed",
                    "column": estimate,
                    "value": None,
                    "problem": "log=True needs positive estimates and limits (ratios)",
                }
            ],
            "Values are not positive",
        )
    ax = new_axes(ax)
    n = len(table)
    y = np.arange(n - 1, -1, -1, dtype=float)
    colour = colours(1)[0]
    ax.axvline(1.0 if log else 0.0, color="0.5", linewidth=0.9, linestyle="--", gid="reference")
    ax.hlines(y, values[:, 1], values[:, 2], color=colour, linewidth=1.6, gid="intervals")
    ax.plot(values[:, 0], y, "o", color=colour, markersize=6, gid="estimates")
    if log:
        ax.set_xscale("log")
    ax.set_yticks(y, list(table["term"]))
    ax.set_ylim(-0.7, n - 0.3)
    ax.set_xlabel(xlabel if xlabel is not None else f"{label(estimate)} (95% CI)")
    return ax


def caterpillar(
    ranef: pd.DataFrame | LmmResult,
    *,
    group: str = THERAPIST,
    term: str = "(Intercept)",
    level: float = 0.95,
    ax: Axes | None = None,
) -> Axes:
    """Caterpillar plot: sorted conditional modes of one random effect with intervals.

    Parameters
    ----------
    ranef : DataFrame or LmmResult
        The tidy frame of ``LmmResult.ranef(cond_sd=True)`` (columns
        ``group, level, term, estimate, cond_sd``), or the fit itself.
    group : str, default "therapist_id"
        The grouping factor (value of the ``group`` column): a key column such
        as ``therapist_id`` or ``client_id``.
    term : str, default "(Intercept)"
        The random-effect term (value of the ``term`` column).
    level : float, default 0.95
        Coverage of the intervals: their half-width is :math:`z` conditional
        SDs, :math:`z = \\Phi^{-1}((1 + level)/2)` (1.96 for 0.95).
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure when None.

    Returns
    -------
    matplotlib Axes
        Levels sorted by their conditional mode, smallest at the bottom
        (y = 0, 1, ...; tick labels when there are at most 50 levels). The
        modes are the line with gid ``"estimates"`` (markers only), the
        intervals ``estimate ± z * cond_sd`` (``z`` as above) the collection with gid
        ``"intervals"``, the line at zero has gid ``"reference"``.

    Raises
    ------
    DataValidationError
        If a column is missing (``cond_sd`` needs ``ranef(cond_sd=True)``)
        or the frame holds no row for ``group`` and ``term``.

    Notes
    -----
    The conditional modes :math:`\\hat b_j` are the BLUPs of the random
    effects and ``cond_sd`` their conditional SDs, as ``lme4::ranef(fit,
    condVar = TRUE)`` returns; the intervals
    :math:`\\hat b_j \\pm z\\,\\mathrm{sd}(b_j \\mid y)` are those of
    ``lattice::dotplot(ranef(fit, condVar = TRUE))``. Overlapping intervals
    are the rule: they describe how precisely each level is estimated, not a
    test between levels.

    References
    ----------
    Bates, D., Maechler, M., Bolker, B. & Walker, S. (2015). Fitting linear
    mixed-effects models using lme4. J Stat Softw, 67(1), 1-48.

    Examples
    --------
    >>> import pandas as pd
    >>> import matplotlib.pyplot as plt
    >>> re = pd.DataFrame({"group": "therapist_id", "level": ["T1", "T2", "T3"],
    ...                    "term": "(Intercept)", "estimate": [0.5, -1.0, 0.2],
    ...                    "cond_sd": [0.3, 0.3, 0.4]})
    >>> ax = caterpillar(re)
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['T2', 'T3', 'T1']
    >>> plt.close("all")
    """
    if not isinstance(ranef, pd.DataFrame) and callable(getattr(ranef, "ranef", None)):
        ranef = ranef.ranef(cond_sd=True)
    ranef = cast(pd.DataFrame, ranef)
    require_columns(
        ranef, ["group", "level", "term", "estimate", "cond_sd"], table="ranef", role="plot"
    )
    numeric(ranef, ["estimate", "cond_sd"], what="ranef")
    rows = ranef.loc[(ranef["group"] == group) & (ranef["term"] == term)]
    if rows.empty:
        have = ", ".join(
            f"{g!r}/{t!r}" for g, t in ranef[["group", "term"]].drop_duplicates().to_numpy()
        )
        raise DataValidationError(
            [
                {
                    "file": "ranef",
                    "column": "group, term",
                    "value": f"{group}/{term}",
                    "problem": f"no rows; the frame holds {have or 'nothing'}",
                }
            ],
            "No random effects to plot",
        )
    rows = rows.assign(level=rows["level"].astype(str)).sort_values(
        ["estimate", "level"], kind="stable"
    )
    est = rows["estimate"].to_numpy(dtype=float)
    z = float(stats.norm.ppf(0.5 + check_level(level) / 2.0))
    half = z * rows["cond_sd"].to_numpy(dtype=float)
    ax = draw_caterpillar(ax, est, half, list(rows["level"]))
    what = "intercept" if term in _INTERCEPTS else f"slope of {label(term)}"
    ax.set_ylabel(f"{label(group)} (sorted)")
    ax.set_xlabel(f"random {what}: conditional mode ± {z:.3g} conditional SD")
    return ax
