"""WAI-SR: Working Alliance Inventory, short revised (client form)."""

from __future__ import annotations

from .spec import Instrument

__all__ = ["wai_sr"]


def wai_sr() -> Instrument:
    """The WAI-SR client form (Hatcher & Gillaspy, 2006).

    Twelve items on a 1-5 frequency scale, none reverse-keyed. Subscales are
    item means (1-5): task = items 1, 2, 10, 12; bond = 3, 5, 7, 9;
    goal = 4, 6, 8, 11; total = mean of all 12. Higher is better. No standard
    cut-off or reliable change. All items are needed by default. Item wording
    is copyrighted (A. Horvath) and is not included.

    Returns
    -------
    Instrument

    References
    ----------
    Hatcher, R. L., & Gillaspy, J. A. (2006). Development and validation of a
    revised short version of the Working Alliance Inventory. *Psychotherapy
    Research*, 16(1), 12-25.

    Examples
    --------
    >>> wai_sr().subscales["bond"]
    ('wai_sr_3', 'wai_sr_5', 'wai_sr_7', 'wai_sr_9')
    """
    return Instrument(
        name="wai_sr",
        items=12,
        response_range=(1, 5),
        subscales={
            "goal": (4, 6, 8, 11),
            "task": (1, 2, 10, 12),
            "bond": (3, 5, 7, 9),
            "total": tuple(range(1, 13)),
        },
        aggregate="mean",
        direction="higher_is_better",
        labels={
            "total": "alliance (WAI-SR total)",
            "goal": "alliance: goals (WAI-SR)",
            "task": "alliance: tasks (WAI-SR)",
            "bond": "alliance: bond (WAI-SR)",
        },
        source="Hatcher & Gillaspy (2006), Psychotherapy Research 16:12-25",
    )
