"""GAD-7: Generalized Anxiety Disorder scale."""

from __future__ import annotations

from .spec import Bands, Instrument

__all__ = ["gad7"]


def gad7() -> Instrument:
    """The GAD-7 (Spitzer, Kroenke, Williams & Löwe, 2006).

    Seven items scored 0-3; total = sum, 0-21, higher is worse. Bands
    (inclusive lower edges): 0-4 minimal, 5-9 mild, 10-14 moderate, 15-21
    severe. Caseness ``>= 8`` (NHS Talking Therapies, "above 7"); the
    screening cut-off for generalized anxiety disorder in Spitzer et al.
    (2006) is ``>= 10`` (use ``dataclasses.replace(gad7(), cutoff=10)``).
    Reliable change 4 points (NHS Talking Therapies). All items are needed by
    default.

    Returns
    -------
    Instrument

    References
    ----------
    Spitzer, R. L., Kroenke, K., Williams, J. B. W., & Löwe, B. (2006). A brief
    measure for assessing generalized anxiety disorder: the GAD-7. *Arch Intern
    Med*, 166(10), 1092-1097. NHS England (2024). *NHS Talking Therapies Manual*.

    Examples
    --------
    >>> gad7().cutoff, gad7().reliable_change
    (8, 4)
    """
    return Instrument(
        name="gad7",
        items=7,
        response_range=(0, 3),
        direction="higher_is_worse",
        bands=Bands(
            cuts=(0, 5, 10, 15),
            labels=("minimal", "mild", "moderate", "severe"),
            source="Spitzer et al. (2006)",
        ),
        reliable_change=4,
        cutoff=8,
        labels={"total": "anxiety (GAD-7 total)"},
        source="Spitzer, Kroenke, Williams & Löwe (2006), Arch Intern Med 166:1092-1097; "
        "caseness >= 8 and reliable change 4: NHS Talking Therapies",
        notes="Screening cut-off for GAD is >= 10 (Spitzer 2006); Talking Therapies uses >= 8.",
    )
