"""An EXAMPLE user-defined motivation instrument (not a published key)."""

from __future__ import annotations

from .spec import Instrument, Linear

__all__ = ["example_srq"]


def example_srq() -> Instrument:
    """An example self-regulation questionnaire, as used in the bundled sample data.

    This is an **example of a user-defined instrument**, not a published
    scoring key: the sample data simulate 15 items on a 1-7 scale with
    autonomous = items 1, 3, 6, 9, 11, 13; controlled = 2, 4, 7, 10, 12, 14;
    amotivation = 5, 8, 15 (subscale means) and a relative autonomy index
    ``rai = autonomous - controlled``. Check the key of the Treatment
    Self-Regulation Questionnaire version you use (selfdeterminationtheory.org)
    and define it the same way.

    Returns
    -------
    Instrument

    References
    ----------
    Ryan, R. M., & Connell, J. P. (1989). Perceived locus of causality and
    internalization. *J Pers Soc Psychol*, 57(5), 749-761 (the relative
    autonomy index idea).

    Examples
    --------
    >>> example_srq().derived["rai"].weights
    {'autonomous': 1.0, 'controlled': -1.0}
    """
    return Instrument(
        name="srq",
        items=15,
        response_range=(1, 7),
        subscales={
            "autonomous": (1, 3, 6, 9, 11, 13),
            "controlled": (2, 4, 7, 10, 12, 14),
            "amotivation": (5, 8, 15),
        },
        aggregate="mean",
        derived={"rai": Linear({"autonomous": 1, "controlled": -1})},
        primary="rai",
        direction="higher_is_better",
        source="EXAMPLE key of the engagestats sample data; not a published instrument",
    )
