"""The growth-slope outcome of :func:`engagestats.analyses.mediation` (``outcome="slope"``).

The outcome is the client's rate of change of a session-level score over the sessions after
the early window that defines the mediator: a growth model of those sessions in which
exposure, mediator and covariates interact with time. This module builds the client table
and the session table from a Study or a session-level DataFrame, and the three formulas.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._validate import as_table, require_columns
from ..errors import DataValidationError
from ..models.formula import quote_name
from ..study import CLIENT, SESSION, THERAPIST, Study
from ._mediation_data import client_frame
from ._mediation_fit import Terms
from ._panel import scored_study, with_sum_scales

__all__ = ["N_POST", "TIME", "slope_data", "slope_formulas"]

#: Time variable of the session-level model: sessions since the first one after the window.
TIME = "time_post"
#: Client column: the number of scored outcomes after the window.
N_POST = "n_post_window"


def _post_sessions(sessions: pd.DataFrame, slope_of: str, k: int) -> pd.DataFrame:
    post = sessions.loc[sessions[SESSION] > k, [CLIENT, SESSION, slope_of]]
    post = post.dropna(subset=[slope_of]).sort_values([CLIENT, SESSION], kind="stable")
    post = post.reset_index(drop=True)
    post[TIME] = post[SESSION].astype(float) - (k + 1)
    return post


def slope_data(
    data: Study | pd.DataFrame,
    *,
    exposure: str,
    client_columns: list[str],
    slope_of: str,
    early_sessions: int,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The client table (one row per client, ``N_POST`` added) and the post-window sessions.

    ``client_columns`` (exposure, mediator, covariates, therapist) must be constant within
    client in a session-level DataFrame. Post-window sessions are the rows with
    ``session > early_sessions`` and a non-missing ``slope_of``; ``TIME`` is
    ``session - (early_sessions + 1)``.
    """
    k = early_sessions
    if isinstance(data, Study):
        clients = client_frame(data, early_sessions=k, exposure=exposure)
        sessions = with_sum_scales(scored_study(data, [slope_of]).sessions.copy())
        require_columns(sessions, [slope_of], table="sessions", role="slope outcome")
    else:
        frame = as_table(data, "sessions").reset_index(drop=True)
        require_columns(
            frame,
            [CLIENT, SESSION, slope_of, *client_columns],
            table="sessions",
            role="mediation model (outcome='slope')",
        )
        varying = [
            c for c in client_columns if (frame.groupby(CLIENT)[c].nunique(dropna=False) > 1).any()
        ]
        if varying:
            raise DataValidationError.for_argument(
                "data",
                varying,
                "exposure, mediator, covariates and therapist constant "
                "within each client (client-level variables of the mediator model)",
            )
        clients = frame.groupby(CLIENT, sort=False, as_index=False)[client_columns].first()
        sessions = frame
    if not pd.api.types.is_numeric_dtype(sessions[slope_of]):
        raise DataValidationError.for_argument(
            slope_of, str(sessions[slope_of].dtype), "a numeric session-level outcome"
        )
    post = _post_sessions(sessions, slope_of, k)
    clients = clients.copy()
    clients[N_POST] = clients[CLIENT].map(post.groupby(CLIENT).size()).fillna(0).astype(int)
    return clients.reset_index(drop=True), post


def slope_formulas(
    slope_of: str,
    exposure: str,
    mediator: str,
    covs: list[str],
    therapist: str = THERAPIST,
) -> tuple[str, str, str, Terms]:
    """Mediator, outcome and total formulas of the slope design and the path terms."""
    qy, qx, qm, qg = (quote_name(n) for n in (slope_of, exposure, mediator, therapist))
    qc = [quote_name(c) for c in covs]
    random = f"(1 + {TIME} | {quote_name(CLIENT)}) + (1 | {qg})"
    mediator_f = f"{qm} ~ {' + '.join([qx, *qc])} + (1 | {qg})"
    outcome_f = f"{qy} ~ {TIME} * ({' + '.join([qx, qm, *qc])}) + {random}"
    total_f = f"{qy} ~ {TIME} * ({' + '.join([qx, *qc])}) + {random}"
    terms = Terms(a=qx, b=f"{TIME}:{qm}", cp=f"{TIME}:{qx}", c=f"{TIME}:{qx}")
    return mediator_f, outcome_f, total_f, terms


def single_post(clients: pd.DataFrame) -> int:
    """Clients analysed with one post-window score (they inform the level, not the slope)."""
    return int(np.sum(clients[N_POST].to_numpy() == 1))
