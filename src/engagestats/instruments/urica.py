"""URICA: University of Rhode Island Change Assessment, 32-item form."""

from __future__ import annotations

from .spec import Instrument, Linear

__all__ = ["urica"]


def urica() -> Instrument:
    """The 32-item URICA (McConnaughy, Prochaska & Velicer, 1983).

    Items on a 1-5 agreement scale, none reverse-keyed. Four subscales of
    seven items, each scored as the item mean (1-5): precontemplation = items
    1, 5, 11, 13, 23, 26, 29; contemplation = 2, 8, 12, 15, 19, 21, 24;
    action = 3, 7, 10, 14, 17, 25, 30; maintenance = 6, 16, 18, 22, 27, 28, 32.
    Items 4, 9, 20 and 31 are not scored. The second-order readiness score is
    ``contemplation + action + maintenance - precontemplation`` on the means
    (range -2 to 14). Stage assignment is left to ``engagestats.classify``:
    published cut points are conventions, not norms. All items of a subscale
    are needed by default.

    Returns
    -------
    Instrument

    References
    ----------
    McConnaughy, E. A., Prochaska, J. O., & Velicer, W. F. (1983). Stages of
    change in psychotherapy: measurement and sample profiles. *Psychotherapy:
    Theory, Research & Practice*, 20(3), 368-375. Scoring grid: Mid-Atlantic
    ATTC; HABITS Lab (UMBC) "URICA scoring" page.

    Examples
    --------
    >>> sorted(urica().score_names)
    ['action', 'contemplation', 'maintenance', 'precontemplation', 'readiness']
    """
    return Instrument(
        name="urica",
        items=32,
        response_range=(1, 5),
        subscales={
            "precontemplation": (1, 5, 11, 13, 23, 26, 29),
            "contemplation": (2, 8, 12, 15, 19, 21, 24),
            "action": (3, 7, 10, 14, 17, 25, 30),
            "maintenance": (6, 16, 18, 22, 27, 28, 32),
        },
        aggregate="mean",
        derived={
            "readiness": Linear(
                {"contemplation": 1, "action": 1, "maintenance": 1, "precontemplation": -1}
            )
        },
        primary="readiness",
        direction="higher_is_better",
        source="McConnaughy, Prochaska & Velicer (1983), Psychotherapy 20:368-375; "
        "readiness = C + A + M - PC on subscale means (Mid-Atlantic ATTC; HABITS Lab)",
    )
