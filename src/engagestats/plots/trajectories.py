"""Figures of change over sessions: client spaghetti lines and model-implied trajectories."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection

from .._validate import require_columns
from ..errors import DataValidationError, DataWarning
from ..study import CLIENT, SESSION
from ._model_common import colours, label, new_axes, numeric

__all__ = ["spaghetti", "trajectories"]


def spaghetti(
    panel: pd.DataFrame,
    *,
    outcome: str = "phq9_total",
    time: str = SESSION,
    client: str = CLIENT,
    n_clients: int | None = None,
    seed: int = 0,
    mean: pd.DataFrame | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Each client's trajectory as a thin line, with the model mean on top.

    Parameters
    ----------
    panel : DataFrame
        Long data, one row per client and session (e.g. ``Study.panel()``).
    outcome, time, client : str
        Columns of the outcome, the (numeric) time and the client identifier.
    n_clients : int, optional
        Draw a random sample of this many clients (all when None or when the
        data hold fewer). The sample is drawn with
        ``numpy.random.default_rng(seed)`` from the clients sorted by their
        identifier, so the same data and seed give the same figure.
    seed : int, default 0
        Seed of the client sample.
    mean : DataFrame, optional
        The model mean to overlay: columns ``<time>`` and ``estimate``, and
        optionally ``ci_low`` and ``ci_high`` (drawn as a band), e.g. the
        frame of :meth:`OutcomeModel.trajectories` without a grouping.
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure when None.

    Returns
    -------
    matplotlib Axes
        The client lines are one :class:`~matplotlib.collections.LineCollection`
        with gid ``"clients"``: one segment per shown client (in sorted client
        order; ``get_segments()`` gives each client's ``(time, outcome)``
        points sorted by time). The mean is the line with gid ``"mean"`` and
        its confidence band the collection with gid ``"mean_ci"``.

    Raises
    ------
    DataValidationError
        If a column is missing or ``time``/``outcome`` is not numeric.
    ValueError
        If ``n_clients`` is not a positive integer.

    Notes
    -----
    Rows with a missing outcome or time (missed sessions, unscorable
    questionnaires) are not drawn, so a line joins a client's observed
    scores; the legend entry of the client lines gives the number of clients
    and of plotted scores.

    ``mean`` must use the panel's time scale. For a growth model ``m``
    (:func:`engagestats.analyses.growth_model`), whose ``time`` column is
    sessions since the first whatever its ``time_method`` (a log or piecewise
    model's trajectories are reported on that scale too), draw the model frame
    on that scale: ``spaghetti(m.data, time="time", mean=m.trajectories())``.

    Examples
    --------
    >>> import pandas as pd
    >>> import matplotlib.pyplot as plt
    >>> panel = pd.DataFrame({"client_id": ["a"] * 3 + ["b"] * 3,
    ...                       "session": [1, 2, 3] * 2,
    ...                       "phq9_total": [20, 15, 11, 14, None, 9]})
    >>> mean = pd.DataFrame({"session": [1, 2, 3], "estimate": [17.0, 14.0, 10.0]})
    >>> ax = spaghetti(panel, mean=mean)
    >>> [seg.tolist() for seg in ax.collections[0].get_segments()]
    [[[1.0, 20.0], [2.0, 15.0], [3.0, 11.0]], [[1.0, 14.0], [3.0, 9.0]]]
    >>> plt.close("all")
    """
    require_columns(panel, [client, time, outcome], table="panel", role="plot")
    numeric(panel, [time, outcome], what="panel")
    if n_clients is not None and (
        isinstance(n_clients, bool) or not isinstance(n_clients, int | np.integer) or n_clients < 1
    ):
        raise ValueError(f"n_clients must be a positive integer, got {n_clients!r}")
    ax = new_axes(ax)
    data = panel.loc[panel[client].notna(), [client, time, outcome]]
    ids = np.array(sorted(pd.unique(data[client]), key=str), dtype=object)
    if n_clients is not None and n_clients < len(ids):
        rng = np.random.default_rng(seed)
        picked = set(rng.choice(len(ids), size=n_clients, replace=False).tolist())
        ids = ids[[i for i in range(len(ids)) if i in picked]]
    shown = data.loc[data[client].isin(set(ids)) & data[time].notna() & data[outcome].notna()]
    groups = {
        key: part.sort_values(time, kind="stable")
        for key, part in shown.groupby(client, sort=False)
    }
    segments = [
        groups[key][[time, outcome]].to_numpy(dtype=float)
        if key in groups
        else np.empty((0, 2), dtype=float)
        for key in ids
    ]
    lines = LineCollection(
        segments,
        colors="0.55",
        linewidths=0.7,
        alpha=0.6,
        gid="clients",
        label=f"clients (n = {len(ids)}; {len(shown)} scores)",
        zorder=1,
    )
    ax.add_collection(lines)
    ax.autoscale_view()
    if mean is not None:
        require_columns(mean, [time, "estimate"], table="mean", role="plot")
        m = mean.sort_values(time, kind="stable")
        colour = colours(1)[0]
        if {"ci_low", "ci_high"} <= set(m.columns):
            ax.fill_between(
                m[time].to_numpy(dtype=float),
                m["ci_low"].to_numpy(dtype=float),
                m["ci_high"].to_numpy(dtype=float),
                color=colour,
                alpha=0.25,
                linewidth=0,
                gid="mean_ci",
                label="95% confidence band",
                zorder=2,
            )
        ax.plot(
            m[time].to_numpy(dtype=float),
            m["estimate"].to_numpy(dtype=float),
            color=colour,
            linewidth=2.5,
            gid="mean",
            label="model mean",
            zorder=3,
        )
    ax.set_xlabel(label(time))
    ax.set_ylabel(label(outcome))
    ax.legend(frameon=False)
    return ax


def trajectories(
    data: pd.DataFrame,
    *,
    time: str | None = None,
    by: str | None = None,
    estimate: str = "estimate",
    ci_low: str | None = "ci_low",
    ci_high: str | None = "ci_high",
    ylabel: str = "estimated mean outcome",
    ax: Axes | None = None,
) -> Axes:
    """Model-implied mean trajectories with confidence bands, one line per group.

    Parameters
    ----------
    data : DataFrame
        The tidy frame of :meth:`OutcomeModel.trajectories`: ``[by], <time>,
        estimate, se, ci_low, ci_high`` (``se`` is not used).
    time : str, optional
        The numeric time column (x axis); by default ``"time"`` (the column
        of :meth:`OutcomeModel.trajectories`, sessions since the first, also
        for log-time and piecewise models) if
        present, otherwise ``"session"``.
    by : str, optional
        Grouping column, one line and band per level (categorical levels in
        their order, other values in order of appearance). When omitted and
        several rows share a time, the one other column that tells them apart
        is used (e.g. the ``by`` column of :meth:`OutcomeModel.trajectories`);
        if none or several do, a :class:`~engagestats.DataValidationError`
        asks for ``by`` (one line through all rows would zigzag).
    estimate, ci_low, ci_high : str
        Columns of the estimate and its confidence limits; ``ci_low=None``
        or ``ci_high=None`` draws no bands.
    ylabel : str, default "estimated mean outcome"
        Label of the y axis.
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure when None.

    Returns
    -------
    matplotlib Axes
        Per level, the line with gid ``"trajectory:<level>"`` (label
        ``<level>``; ``"trajectory"`` when ``by`` is None), its points sorted
        by time, and the band with gid ``"band:<level>"`` (``"band"``)
        spanning ``ci_low`` to ``ci_high``. Colours come from the colour-blind
        safe ``"colorblind"`` palette; lines also differ in marker.

    Raises
    ------
    DataValidationError
        If a column is missing or not numeric, or ``by`` is omitted and cannot
        be inferred.

    Notes
    -----
    Rows with a missing estimate are not drawn and counted in a
    :class:`~engagestats.DataWarning`.

    Examples
    --------
    >>> import pandas as pd
    >>> import matplotlib.pyplot as plt
    >>> traj = pd.DataFrame({"format": ["group"] * 2 + ["individual"] * 2,
    ...                      "session": [1, 10] * 2, "estimate": [16.0, 11.0, 16.0, 9.0],
    ...                      "ci_low": [15.0, 10.0, 15.0, 8.0],
    ...                      "ci_high": [17.0, 12.0, 17.0, 10.0]})
    >>> ax = trajectories(traj, by="format")
    >>> [line.get_gid() for line in ax.get_lines()]
    ['trajectory:group', 'trajectory:individual']
    >>> plt.close("all")
    """
    if time is None:
        time = "time" if isinstance(data, pd.DataFrame) and "time" in data.columns else "session"
    band_cols = [ci_low, ci_high] if ci_low is not None and ci_high is not None else []
    bands = bool(band_cols)
    if by is None:
        by = _infer_by(data, time, [estimate, *band_cols])
    cols: list[str] = [time, estimate, *band_cols] + ([by] if by else [])
    require_columns(data, cols, table="trajectories", role="plot")
    numeric(data, [c for c in cols if c != by], what="trajectories")
    ok = data[estimate].notna() & data[time].notna()
    if not ok.all():
        warnings.warn(
            f"{int((~ok).sum())} rows with a missing {time} or {estimate} are not drawn",
            DataWarning,
            stacklevel=2,
        )
    data = data.loc[ok]
    if by is None:
        parts: list[tuple[object, pd.DataFrame]] = [(None, data)]
    else:
        values = data[by]
        if isinstance(values.dtype, pd.CategoricalDtype):
            levels = [lv for lv in values.cat.categories if (values == lv).any()]
        else:
            levels = list(pd.unique(values.dropna()))
        parts = [(lv, data.loc[values == lv]) for lv in levels]
    palette = colours(len(parts))
    markers = ["o", "s", "^", "D", "v", "P", "X", "*"]
    ax = new_axes(ax)
    for i, (level, part) in enumerate(parts):
        part = part.sort_values(time, kind="stable")
        x = part[time].to_numpy(dtype=float)
        suffix = "" if level is None else f":{level}"
        if bands:
            ax.fill_between(
                x,
                part[ci_low].to_numpy(dtype=float),
                part[ci_high].to_numpy(dtype=float),
                color=palette[i],
                alpha=0.2,
                linewidth=0,
                gid=f"band{suffix}",
            )
        ax.plot(
            x,
            part[estimate].to_numpy(dtype=float),
            color=palette[i],
            marker=markers[i % len(markers)],
            markersize=4,
            linewidth=2,
            gid=f"trajectory{suffix}",
            label=label(estimate) if level is None else str(level),
        )
    ax.set_xlabel(label(time))
    ax.set_ylabel(ylabel)
    if by is not None:
        ax.legend(title=label(by), frameon=False)
    return ax


def _infer_by(data: pd.DataFrame, time: str, used: list[str | None]) -> str | None:
    """The grouping column when rows share a time value; None when every time is unique."""
    if not isinstance(data, pd.DataFrame) or time not in data.columns:
        return None  # require_columns reports it
    if not data[time].dropna().duplicated().any():
        return None
    skip = {time, "se", *[c for c in used if c is not None]}
    candidates = [
        c for c in data.columns if c not in skip and not data[[c, time]].duplicated().any()
    ]
    if len(candidates) == 1:
        return str(candidates[0])
    found = (
        "none of the other columns does"
        if not candidates
        else (f"several columns do ({', '.join(map(repr, candidates))})")
    )
    raise DataValidationError.for_argument(
        "by",
        None,
        f"several rows share each {time} value, so the trajectories belong to groups, and "
        f"{found}; name the grouping column with by=",
    )
