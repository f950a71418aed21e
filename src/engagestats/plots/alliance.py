"""The within/between decomposition of a time-varying predictor (alliance) against outcome."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from .._validate import require_columns
from ..errors import DataWarning
from ..study import CLIENT
from ._model_common import axes_list, colours, label, numeric

__all__ = ["alliance_scatter", "within_between_parts"]


def within_between_parts(
    panel: pd.DataFrame,
    *,
    alliance: str = "wai_sr_total",
    outcome: str = "phq9_total",
    client: str = CLIENT,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The client means and person-centred deviations that :func:`alliance_scatter` draws.

    Parameters
    ----------
    panel : DataFrame
        Long data, one row per client and session.
    alliance, outcome, client : str
        The predictor, the outcome and the client identifier.

    Returns
    -------
    between : DataFrame
        One row per client (sorted): ``<client>``, ``alliance_mean``,
        ``outcome_mean`` over the sessions where both are observed.
    within : DataFrame
        One row per such session, in input order: ``<client>``,
        ``alliance_within``, ``outcome_within`` (deviations from the client
        means).
    """
    require_columns(panel, [client, alliance, outcome], table="panel", role="plot")
    numeric(panel, [alliance, outcome], what="panel")
    complete = panel.loc[
        panel[client].notna() & panel[alliance].notna() & panel[outcome].notna(),
        [client, alliance, outcome],
    ]
    means = complete.groupby(client, sort=True)[[alliance, outcome]].mean()
    between = pd.DataFrame(
        {
            client: means.index.to_numpy(),
            "alliance_mean": means[alliance].to_numpy(dtype=float),
            "outcome_mean": means[outcome].to_numpy(dtype=float),
        }
    )
    row_means = complete.groupby(client, sort=False)[[alliance, outcome]].transform("mean")
    within = pd.DataFrame(
        {
            client: complete[client].to_numpy(),
            "alliance_within": (complete[alliance] - row_means[alliance]).to_numpy(dtype=float),
            "outcome_within": (complete[outcome] - row_means[outcome]).to_numpy(dtype=float),
        }
    )
    return between, within


def _slope(x: np.ndarray, y: np.ndarray, *, through_origin: bool) -> tuple[float, float] | None:
    """OLS intercept and slope of ``y`` on ``x``; None when ``x`` does not vary."""
    if through_origin:
        sxx = float(np.sum(x * x))
        return None if sxx <= 1e-12 * max(len(x), 1) else (0.0, float(np.sum(x * y)) / sxx)
    if len(x) < 2:
        return None
    xc = x - x.mean()
    sxx = float(np.sum(xc * xc))
    if sxx <= 1e-12 * len(x) * max(1.0, float(np.mean(x * x))):
        return None
    b = float(np.sum(xc * (y - y.mean()))) / sxx
    return float(y.mean() - b * x.mean()), b


def alliance_scatter(
    panel: pd.DataFrame,
    *,
    alliance: str = "wai_sr_total",
    outcome: str = "phq9_total",
    client: str = CLIENT,
    axes: Sequence[Axes] | np.ndarray | None = None,
) -> np.ndarray:
    """Between-client and within-client association of alliance with outcome.

    Two panels separate the two questions a session-level alliance measure
    mixes (Curran & Bauer, 2011): *between clients*, do clients with a
    stronger alliance on average have lower scores? *Within clients*, is a
    client's score lower in sessions where their alliance is above their own
    average?

    Parameters
    ----------
    panel : DataFrame
        Long data, one row per client and session (e.g. ``Study.panel()``).
    alliance, outcome, client : str
        Columns of the time-varying predictor, the outcome and the client.
    axes : two matplotlib Axes, optional
        Where to draw the between and the within panel; a new 1 x 2 figure
        when None.

    Returns
    -------
    numpy.ndarray of two Axes
        ``[between, within]``.

        - *between*: one point per client (sorted by client) at (client mean
          alliance, client mean outcome), the scatter with gid
          ``"between_points"``, and the line with gid ``"between_fit"``, the
          OLS regression of the client means on each other.
        - *within*: one point per session (input order) at (alliance minus
          the client's mean, outcome minus the client's mean), the scatter
          with gid ``"within_points"``, and the line with gid
          ``"within_fit"``, the pooled within-client slope (through the
          origin, as both coordinates have mean zero within every client).

        Each line's slope, ``(y1 - y0) / (x1 - x0)`` of its two points, is
        printed in its legend label; the titles give the numbers of clients
        and sessions used.

    Raises
    ------
    DataValidationError
        If a column is missing or not numeric.

    Notes
    -----
    Only sessions where both alliance and outcome are observed are used, and
    client means are taken over those sessions, so that the within parts sum
    to zero in every client. With :math:`\\bar x_i, \\bar y_i` the client
    means and :math:`\\tilde x_{ti} = x_{ti} - \\bar x_i`, the slopes are

    .. math::

        b_B = \\frac{\\sum_i (\\bar x_i - \\bar{\\bar x})(\\bar y_i - \\bar{\\bar y})}
                   {\\sum_i (\\bar x_i - \\bar{\\bar x})^2},
        \\qquad
        b_W = \\frac{\\sum_{i,t} \\tilde x_{ti} \\tilde y_{ti}}{\\sum_{i,t} \\tilde x_{ti}^2},

    the between-client OLS slope (each client weighted once) and the pooled
    within-client (fixed-effects) slope, equal to the coefficient of
    :math:`x` in an OLS regression with one dummy per client. They are
    descriptive; the mixed model with ``<alliance>_between`` and
    ``<alliance>_within`` (:func:`engagestats.prep.within_between`)
    estimates the same two associations with partial pooling. A line is
    left out, with a :class:`~engagestats.DataWarning`, when its x values do
    not vary.

    References
    ----------
    Curran, P. J., & Bauer, D. J. (2011). The disaggregation of within-person
    and between-person effects in longitudinal models of change. *Annual
    Review of Psychology*, 62, 583-619.

    Examples
    --------
    >>> import pandas as pd
    >>> import matplotlib.pyplot as plt
    >>> panel = pd.DataFrame({"client_id": ["a", "a", "b", "b", "c", "c"],
    ...                       "wai_sr_total": [3.0, 4.0, 2.0, 3.0, 4.0, 4.5],
    ...                       "phq9_total": [14, 12, 20, 19, 8, 6]})
    >>> between, within = alliance_scatter(panel)
    >>> line = next(ln for ln in within.get_lines() if ln.get_gid() == "within_fit")
    >>> x, y = line.get_xdata(), line.get_ydata()
    >>> round(float((y[1] - y[0]) / (x[1] - x[0])), 3)
    -1.778
    >>> plt.close("all")
    """
    between, within = within_between_parts(panel, alliance=alliance, outcome=outcome, client=client)
    if axes is None:
        _, pair = plt.subplots(1, 2, figsize=(10, 4.2), layout="constrained")
        flat = list(pair)
    else:
        flat = axes_list(axes, 2, what="alliance_scatter")
    ax_b, ax_w = flat
    point_colour, line_colour = colours(4)[0], colours(4)[3]
    panels = [
        (ax_b, between["alliance_mean"], between["outcome_mean"], "between", False),
        (ax_w, within["alliance_within"], within["outcome_within"], "within", True),
    ]
    for ax, xs, ys, name, origin in panels:
        x = xs.to_numpy(dtype=float)
        y = ys.to_numpy(dtype=float)
        ax.scatter(
            x,
            y,
            s=22 if name == "between" else 12,
            color=point_colour,
            alpha=0.8 if name == "between" else 0.45,
            linewidths=0,
            gid=f"{name}_points",
        )
        fit = _slope(x, y, through_origin=origin)
        if fit is None:
            warnings.warn(
                f"the {name}-client {label(alliance)} values do not vary; "
                f"no {name}-client line is drawn",
                DataWarning,
                stacklevel=2,
            )
        else:
            a, b = fit
            ends = np.array([x.min(), x.max()])
            ax.plot(
                ends,
                a + b * ends,
                color=line_colour,
                linewidth=2,
                gid=f"{name}_fit",
                label=f"{name}-client slope = {b:.2f}",
            )
            ax.legend(frameon=False)
    ax_b.set_title(f"Between clients (n = {len(between)} clients)")
    ax_b.set_xlabel(f"client's mean {label(alliance)}")
    ax_b.set_ylabel(f"client's mean {label(outcome)}")
    ax_w.set_title(f"Within clients (n = {len(within)} sessions)")
    ax_w.set_xlabel(f"{label(alliance)}, minus the client's mean")
    ax_w.set_ylabel(f"{label(outcome)}, minus the client's mean")
    ax_w.axhline(0, color="0.8", linewidth=0.8, zorder=0)
    ax_w.axvline(0, color="0.8", linewidth=0.8, zorder=0)
    return np.array([ax_b, ax_w], dtype=object)
