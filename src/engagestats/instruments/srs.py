"""SRS: Session Rating Scale."""

from __future__ import annotations

from .spec import Instrument

__all__ = ["srs"]


def srs() -> Instrument:
    """The Session Rating Scale (Duncan, Miller et al., 2003).

    Four visual analogue items, each 0-10 (fractional answers allowed); total
    = sum, 0-40, higher is better (stronger alliance). Alliance-concern cut-off
    36, applied as ``<= 36`` by the library convention for higher-is-better
    scales; some guides flag only totals below 36
    (``dataclasses.replace(srs(), cutoff=35.9)`` for that reading with 0.1
    resolution). All four items are needed.

    Returns
    -------
    Instrument

    References
    ----------
    Duncan, B. L., Miller, S. D., Sparks, J. A., Claud, D. A., Reynolds, L. R.,
    Brown, J., & Johnson, L. D. (2003). The Session Rating Scale: preliminary
    psychometric properties of a "working" alliance measure. *Journal of Brief
    Therapy*, 3(1), 3-12.

    Examples
    --------
    >>> srs().cutoff
    36
    """
    return Instrument(
        name="srs",
        items=4,
        response_range=(0, 10),
        integer=False,
        direction="higher_is_better",
        cutoff=36,
        source="Duncan, Miller, Sparks, Claud, Reynolds, Brown & Johnson (2003), "
        "J Brief Ther 3:3-12",
        notes="Sources differ on whether 36 itself flags a concern (<= 36 vs < 36).",
    )
