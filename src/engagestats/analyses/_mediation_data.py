"""The client-level table of :func:`engagestats.analyses.mediation`, built from a Study.

One row per client: intake motivation (the exposure), early alliance (mean WAI-SR over the
first sessions, the mediator), PHQ-9 at the first scored early session (intake severity,
the covariate) and at the last scored session after the early window (the outcome).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..study import CLIENT, SESSION, THERAPIST, Study
from ._panel import scored_study, with_sum_scales

__all__ = ["DERIVED", "client_frame"]

#: Columns :func:`client_frame` derives from the sessions table (name -> meaning).
DERIVED = {
    "early_alliance": "mean WAI-SR total (12-60 sum scale) over the scored sessions 1..k",
    "phq9_first": "PHQ-9 at the first scored session among sessions 1..k (intake severity)",
    "phq9_last": "PHQ-9 at the last scored session after session k (end of treatment for "
    "completers, last observation for dropouts)",
    "phq9_last_session": "session number of phq9_last",
}


def client_frame(study: Study, *, early_sessions: int, exposure: str) -> pd.DataFrame:
    """One row per client of ``study`` with the :data:`DERIVED` columns and ``exposure``.

    Missing values are kept (the caller counts and reports exclusions).
    """
    scored = scored_study(study, [exposure, "phq9_total", "wai_sr_sum"])
    clients = scored.clients.merge(
        scored.therapists, on=THERAPIST, how="left", suffixes=("", "_therapist")
    )
    sessions = with_sum_scales(scored.sessions.copy())
    early = sessions[sessions[SESSION] <= early_sessions]
    alliance = early.groupby(CLIENT)["wai_sr_sum"].mean()
    phq_early = early.dropna(subset=["phq9_total"]).sort_values([CLIENT, SESSION])
    first = phq_early.groupby(CLIENT)["phq9_total"].first()
    late = sessions[(sessions[SESSION] > early_sessions)].dropna(subset=["phq9_total"])
    late = late.sort_values([CLIENT, SESSION])
    last = late.groupby(CLIENT)[["phq9_total", SESSION]].last()
    out = clients.copy()
    ids = out[CLIENT]
    out["early_alliance"] = ids.map(alliance).astype(float)
    out["phq9_first"] = ids.map(first).astype(float)
    out["phq9_last"] = ids.map(last["phq9_total"]).astype(float)
    out["phq9_last_session"] = ids.map(last[SESSION]).astype(float)
    out.loc[~np.isfinite(out["early_alliance"]), "early_alliance"] = np.nan
    return out
