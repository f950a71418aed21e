"""CORE-10: Clinical Outcomes in Routine Evaluation, 10-item version."""

from __future__ import annotations

from .spec import Bands, Instrument

__all__ = ["core10"]


def core10() -> Instrument:
    """The CORE-10 (Barkham et al., 2013).

    Ten items scored 0-4; items 2 and 3 are positively worded and reverse
    scored (``4 - x``). The clinical score is the sum (0-40); with one item
    missing it is prorated as the mean of the nine answers times 10; with
    more missing it is not scored. Higher is worse. Bands (inclusive lower
    edges): 0-5 healthy, 6-10 low, 11-14 mild, 15-19 moderate, 20-24 moderate
    to severe, 25-40 severe. Clinical cut-off ``>= 11``. No general-population
    reliable change value was verified, so none is set.

    Returns
    -------
    Instrument

    References
    ----------
    Barkham, M., Bewick, B., Mullin, T., Gilbody, S., Connell, J., Cahill, J.,
    Mellor-Clark, J., Richards, D., Unsworth, G., & Evans, C. (2013). The
    CORE-10: A short measure of psychological distress for routine use in the
    psychological therapies. *Counselling and Psychotherapy Research*, 13(1),
    3-13. CORE System Trust, CORE-10 scoring notes (proration with one item
    missing). Licence: CC BY-ND 4.0.

    Examples
    --------
    >>> core10().reverse
    ('core10_2', 'core10_3')
    """
    return Instrument(
        name="core10",
        items=10,
        response_range=(0, 4),
        reverse=(2, 3),
        min_answered=9,
        direction="higher_is_worse",
        bands=Bands(
            cuts=(0, 6, 11, 15, 20, 25),
            labels=("healthy", "low", "mild", "moderate", "moderate_to_severe", "severe"),
            source="Barkham et al. (2013)",
        ),
        cutoff=11,
        source="Barkham et al. (2013), Couns Psychother Res 13:3-13; CORE System Trust",
        notes="Another published band set (11-15 mild, 16-20 moderate, ...) exists; "
        "the Barkham (2013) bands are used.",
    )
