"""K10: Kessler Psychological Distress Scale."""

from __future__ import annotations

from .spec import Bands, Instrument

__all__ = ["k10"]


def k10() -> Instrument:
    """The K10 (Kessler et al., 2002), Australian 1-5 scoring.

    Ten items scored 1-5; total = sum, 10-50, higher is worse. With one item
    missing the total is prorated (mean of nine times 10) and rounded half
    up; with more missing it is not scored (AMHOCN rule). Two band sets
    (inclusive lower edges): ``"abs"`` (default; Australian Bureau of
    Statistics): 10-15 low, 16-21 moderate, 22-29 high, 30-50 very high;
    ``"crufad"`` (Andrews & Slade, 2001): 10-19 well, 20-24 mild, 25-29
    moderate, 30-50 severe. Select with ``k10().with_bands("crufad")``.

    Returns
    -------
    Instrument

    References
    ----------
    Kessler, R. C., et al. (2002). Short screening scales to monitor population
    prevalences and trends in non-specific psychological distress.
    *Psychological Medicine*, 32(6), 959-976. Australian Bureau of Statistics
    (2003). *Use of the K10 in the 2001 National Health Survey* (4817.0.55.001).
    Andrews, G., & Slade, T. (2001). Interpreting scores on the K10. *Aust N Z J
    Public Health*, 25(6), 494-497.

    Examples
    --------
    >>> k10().with_bands("crufad").active_bands.labels
    ('well', 'mild', 'moderate', 'severe')
    """
    return Instrument(
        name="k10",
        items=10,
        response_range=(1, 5),
        min_answered=9,
        round_prorated=True,
        direction="higher_is_worse",
        bands={
            "abs": Bands(
                (10, 16, 22, 30),
                ("low", "moderate", "high", "very_high"),
                source="ABS 4817.0.55.001",
            ),
            "crufad": Bands(
                (10, 20, 25, 30),
                ("well", "mild", "moderate", "severe"),
                source="Andrews & Slade (2001)",
            ),
        },
        source="Kessler et al. (2002), Psychol Med 32:959-976; bands ABS 4817.0.55.001 "
        "and Andrews & Slade (2001); proration rule AMHOCN",
    )
