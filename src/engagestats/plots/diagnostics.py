"""Residual diagnostics of a linear mixed model: residuals vs fitted and normal QQ plots."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, cast

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from scipy import stats

from ._model_common import axes_list, colours, label

if TYPE_CHECKING:
    from ..models import LmmResult

__all__ = ["qq_plot", "residual_diagnostics"]


def qq_plot(values: np.ndarray | Sequence[float], *, ax: Axes | None = None) -> Axes:
    """Normal QQ plot: ordered values against standard normal quantiles.

    Parameters
    ----------
    values : array-like
        The sample; missing values are left out.
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure when None.

    Returns
    -------
    matplotlib Axes
        The points are the scatter with gid ``"qq_points"`` (offsets
        ``(osm, osr)`` of :func:`scipy.stats.probplot`), the least-squares
        line through them the line with gid ``"qq_line"``.

    Notes
    -----
    The theoretical quantiles are Filliben's estimate of the normal order
    statistic medians, as in :func:`scipy.stats.probplot` (R's ``qqnorm``
    uses Blom's ``ppoints`` instead; the shape is the same).

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> ax = qq_plot([0.3, -1.2, 0.8, 0.1, -0.4])
    >>> ax.collections[0].get_offsets()[:, 1].tolist()
    [-1.2, -0.4, 0.1, 0.3, 0.8]
    >>> plt.close("all")
    """
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    if ax is None:
        _, ax = plt.subplots(figsize=(4.4, 4.0))
    (osm, osr), (slope, intercept, _) = stats.probplot(x, dist="norm")
    colour = colours(1)[0]
    ax.scatter(osm, osr, s=12, color=colour, alpha=0.6, linewidths=0, gid="qq_points")
    if len(x) >= 2:
        ends = np.array([osm[0], osm[-1]])
        ax.plot(ends, intercept + slope * ends, color="0.3", linewidth=1, gid="qq_line")
    ax.set_xlabel("theoretical normal quantile")
    ax.set_ylabel("sample quantile")
    return ax


def residual_diagnostics(
    fit: LmmResult,
    *,
    smooth: bool = True,
    axes: Sequence[Axes] | np.ndarray | None = None,
) -> Figure:
    """Residuals against fitted values and normal QQ plots of residuals and random effects.

    Parameters
    ----------
    fit : LmmResult
        A fitted linear mixed model (:func:`engagestats.models.lmm`).
    smooth : bool, default True
        Add a LOWESS smoother (``frac=2/3``) to the residuals-vs-fitted panel.
    axes : matplotlib Axes, optional
        Exactly ``2 + k`` Axes, ``k`` the number of random-effect terms
        (group and term pairs of ``fit.ranef()``); a new figure, three panels
        per row, when None.

    Returns
    -------
    matplotlib Figure
        Its Axes in panel order (``fig.axes`` when the figure is new):

        1. residuals against fitted values (``fit.residuals()`` against
           ``fit.fitted()``, conditional on the random effects): scatter gid
           ``"residuals"``, zero line gid ``"zero"``, smoother gid
           ``"smooth"``;
        2. normal QQ plot of the residuals (:func:`qq_plot`);
        3. one normal QQ plot of the conditional modes per random-effect term,
           in the order of ``fit.ranef()``, titled with the group and term (a
           non-syntactic column name such as ``my var`` without R's backticks).

    Raises
    ------
    ValueError
        If ``axes`` does not hold exactly ``2 + k`` Axes.

    Notes
    -----
    Conditional residuals :math:`y - X\\hat\\beta - Z\\hat b` should scatter
    evenly around zero at every fitted value (a funnel suggests
    heteroscedasticity, a curve a missing term) and fall on the QQ line. The
    conditional modes are shrunk towards zero, so their QQ plots are a rough
    check of the normality assumption of the random effects; with few levels
    (therapists) they say little (Loy & Hofmann, 2013).

    References
    ----------
    Loy, A., & Hofmann, H. (2013). Diagnostic tools for hierarchical linear
    models. *WIREs Computational Statistics*, 5(1), 48-61.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import matplotlib.pyplot as plt
    >>> from engagestats.models import lmm
    >>> rng = np.random.default_rng(1)
    >>> d = pd.DataFrame({"g": np.repeat(np.arange(20), 5), "x": np.tile(np.arange(5.0), 20)})
    >>> d["y"] = 1 + 0.5 * d["x"] + rng.normal(size=20)[d["g"]] + rng.normal(size=100)
    >>> fig = residual_diagnostics(lmm("y ~ x + (1 | g)", d))
    >>> [ax.get_title() for ax in fig.axes]
    ['Residuals vs fitted', 'Normal QQ plot: residuals', 'Normal QQ plot: g, intercept']
    >>> plt.close("all")
    """
    fitted = fit.fitted().to_numpy(dtype=float)
    resid = fit.residuals().to_numpy(dtype=float)
    ranef = fit.ranef()
    pairs = list(ranef[["group", "term"]].drop_duplicates().itertuples(index=False, name=None))
    n = 2 + len(pairs)
    if axes is None:
        ncols = min(n, 3)
        nrows = math.ceil(n / ncols)
        fig, grid = plt.subplots(
            nrows, ncols, figsize=(4.2 * ncols, 3.8 * nrows), squeeze=False, layout="constrained"
        )
        flat = list(grid.ravel())
        for extra in flat[n:]:
            fig.delaxes(extra)
        flat = flat[:n]
    else:
        flat = axes_list(axes, n, what="residual_diagnostics")
        fig = cast(Figure, flat[0].figure)
    ax = flat[0]
    colour = colours(1)[0]
    ax.scatter(fitted, resid, s=10, color=colour, alpha=0.5, linewidths=0, gid="residuals")
    ax.axhline(0.0, color="0.5", linewidth=0.9, linestyle="--", gid="zero")
    if smooth and len(fitted) >= 3 and np.ptp(fitted) > 0:
        from statsmodels.nonparametric.smoothers_lowess import lowess

        curve = lowess(resid, fitted, frac=2 / 3, return_sorted=True)
        ax.plot(curve[:, 0], curve[:, 1], color=colours(4)[3], linewidth=1.5, gid="smooth")
    ax.set_xlabel("fitted value")
    ax.set_ylabel("residual")
    ax.set_title("Residuals vs fitted")
    qq_plot(resid, ax=flat[1])
    flat[1].set_title("Normal QQ plot: residuals")
    for (group, term), axis in zip(pairs, flat[2:], strict=True):
        values = ranef.loc[(ranef["group"] == group) & (ranef["term"] == term), "estimate"]
        qq_plot(values.to_numpy(dtype=float), ax=axis)
        # R's coefficient names carry backticks around non-syntactic column names
        # ("`my var`"); a name cannot contain one, so dropping them names the column.
        plain = str(term).replace("`", "")
        what = "intercept" if term == "(Intercept)" else f"slope of {label(plain)}"
        axis.set_title(f"Normal QQ plot: {label(group)}, {what}")
    return fig
