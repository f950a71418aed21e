"""ORS: Outcome Rating Scale."""

from __future__ import annotations

from .spec import Instrument

__all__ = ["ors"]


def ors() -> Instrument:
    """The Outcome Rating Scale (Miller, Duncan et al., 2003).

    Four visual analogue items, each 0-10 (measured in cm, usually to one
    decimal, so answers need not be whole numbers); total = sum, 0-40, higher
    is better. Adult clinical cut-off 25 (a case when the total is ``<= 25``);
    reliable change 5 points. All four items are needed.

    Returns
    -------
    Instrument

    References
    ----------
    Miller, S. D., Duncan, B. L., Brown, J., Sparks, J. A., & Claud, D. A.
    (2003). The Outcome Rating Scale: a preliminary study of the reliability,
    validity, and feasibility of a brief visual analog measure. *Journal of
    Brief Therapy*, 2(2), 91-100.

    Examples
    --------
    >>> ors().is_case([25.0, 25.1])
    array([ True, False])
    """
    return Instrument(
        name="ors",
        items=4,
        response_range=(0, 10),
        integer=False,
        direction="higher_is_better",
        reliable_change=5,
        cutoff=25,
        source="Miller, Duncan, Brown, Sparks & Claud (2003), J Brief Ther 2:91-100",
    )
