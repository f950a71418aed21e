"""Built-in questionnaires: :func:`get` one by name, list them with :func:`available`.

Each built-in lives in its own module with its source. Keys enter the registry
only when confirmed by public sources; item wording is never included.
``example_srq`` is an example of a user-defined instrument, not a registered one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from ..errors import InstrumentError
from ..scoring.instrument import Instrument
from .core10 import core10
from .gad7 import gad7
from .gas import gas
from .k10 import k10
from .ors import ors
from .phq9 import phq9
from .srq_example import example_srq
from .srs import srs
from .urica import urica
from .wai_sr import wai_sr

__all__ = [
    "available",
    "core10",
    "example_srq",
    "gad7",
    "gas",
    "get",
    "k10",
    "ors",
    "phq9",
    "srs",
    "urica",
    "wai_sr",
]

_REGISTRY: dict[str, Callable[[], Instrument]] = {
    "phq9": phq9,
    "gad7": gad7,
    "wai_sr": wai_sr,
    "urica": urica,
    "core10": core10,
    "k10": k10,
    "ors": ors,
    "srs": srs,
    "gas": gas,
}
_ALIASES = {re.sub(r"[^a-z0-9]", "", k): k for k in _REGISTRY} | {"urica32": "urica"}


def available() -> list[str]:
    """Names of the built-in instruments.

    Examples
    --------
    >>> available()
    ['core10', 'gad7', 'gas', 'k10', 'ors', 'phq9', 'srs', 'urica', 'wai_sr']
    """
    return sorted(_REGISTRY)


def get(name: str, **changes: Any) -> Instrument:
    """A built-in instrument by name, optionally with fields changed.

    Parameters
    ----------
    name : str
        ``"phq9"``, ``"PHQ-9"``, ``"wai_sr"``, ``"WAI-SR"`` ... (case, hyphens
        and underscores are ignored).
    **changes
        Fields to replace, e.g. ``min_answered=8`` or ``band_set="crufad"``.

    Returns
    -------
    Instrument

    Raises
    ------
    InstrumentError
        For an unknown name (the message lists the available ones).

    Examples
    --------
    >>> get("PHQ-9").name
    'phq9'
    >>> get("phq9", min_answered=8).min_required
    {'total': 8}
    """
    key = _ALIASES.get(re.sub(r"[^a-z0-9]", "", str(name).lower()))
    if key is None:
        raise InstrumentError(f"unknown instrument {name!r}; available: {available()}")
    inst = _REGISTRY[key]()
    return replace(inst, **changes) if changes else inst


def for_block(name: str, n_items: int) -> Instrument:
    """The built-in for an item block found in a table (GAS adapts to the number of goals)."""
    if name == "gas":
        return gas(n_items)
    return get(name)
