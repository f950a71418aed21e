"""PHQ-9: Patient Health Questionnaire depression scale."""

from __future__ import annotations

from .spec import Bands, Instrument

__all__ = ["phq9"]


def phq9() -> Instrument:
    """The PHQ-9 (Kroenke, Spitzer & Williams, 2001).

    Nine items scored 0-3; total = sum, 0-27, higher is worse. Bands
    (inclusive lower edges): 0-4 minimal, 5-9 mild, 10-14 moderate, 15-19
    moderately severe, 20-27 severe. ``phq9_item9_flag`` is True when item 9
    (thoughts of self-harm) is answered above 0: it calls for a risk
    assessment whatever the total. Caseness ``>= 10`` (NHS Talking Therapies
    caseness, "above 9", which is also the screening cut-off for major
    depression in Kroenke et al. 2001); reliable change 6 points (NHS Talking
    Therapies). No published proration rule was found, so by default all nine
    items are needed; set ``min_answered`` to prorate.

    Returns
    -------
    Instrument

    References
    ----------
    Kroenke, K., Spitzer, R. L., & Williams, J. B. W. (2001). The PHQ-9:
    validity of a brief depression severity measure. *J Gen Intern Med*,
    16(9), 606-613. NHS England (2024). *NHS Talking Therapies Manual*
    (caseness and reliable change).

    Examples
    --------
    >>> phq9().active_bands.cuts
    (0.0, 5.0, 10.0, 15.0, 20.0)
    """
    return Instrument(
        name="phq9",
        items=9,
        response_range=(0, 3),
        direction="higher_is_worse",
        bands=Bands(
            cuts=(0, 5, 10, 15, 20),
            labels=("minimal", "mild", "moderate", "moderately_severe", "severe"),
            source="Kroenke et al. (2001)",
        ),
        flags={"item9_flag": (9, 1)},
        reliable_change=6,
        cutoff=10,
        labels={"total": "depression (PHQ-9 total)"},
        source="Kroenke, Spitzer & Williams (2001), J Gen Intern Med 16:606-613; "
        "caseness >= 10 and reliable change 6: NHS Talking Therapies",
        notes="Screening cut-off (Kroenke 2001) and Talking Therapies caseness agree: >= 10.",
    )
