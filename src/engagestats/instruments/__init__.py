"""Questionnaires: the :class:`Instrument` spec, the built-ins and user instrument files.

:func:`get` returns a built-in by name, :func:`available` lists them, :func:`resolve` turns
a name or an :class:`Instrument` into an :class:`Instrument` (the one look-up the rest of the
package uses) and :func:`load_instrument` reads a user's TOML/YAML/JSON instrument file.

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
from .core10 import core10
from .files import load_instrument
from .gad7 import gad7
from .gas import gas
from .k10 import k10
from .ors import ors
from .phq9 import phq9
from .spec import Bands, GasTScore, Instrument, Linear, instrument_from_dict
from .srq_example import example_srq
from .srs import srs
from .urica import urica
from .wai_sr import wai_sr

__all__ = [
    "Bands",
    "GasTScore",
    "Instrument",
    "Linear",
    "available",
    "core10",
    "example_names",
    "example_srq",
    "gad7",
    "gas",
    "get",
    "instrument_from_dict",
    "k10",
    "load_instrument",
    "ors",
    "phq9",
    "resolve",
    "score_label",
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
#: Packaged example instruments (not registered): name -> factory.
_EXAMPLES: dict[str, Callable[[], Instrument]] = {"srq": example_srq}


def available() -> list[str]:
    """Names of the built-in instruments.

    Examples
    --------
    >>> available()
    ['core10', 'gad7', 'gas', 'k10', 'ors', 'phq9', 'srs', 'urica', 'wai_sr']
    """
    return sorted(_REGISTRY)


def example_names() -> list[str]:
    """Names of the packaged example instruments, which :func:`resolve` finds on request.

    Examples
    --------
    >>> example_names()
    ['srq']
    """
    return sorted(_EXAMPLES)


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


def resolve(instrument: str | Instrument, *, examples: bool = False) -> Instrument:
    """An :class:`Instrument` from an instrument or a name: the package's one look-up.

    Parameters
    ----------
    instrument : str or Instrument
        An :class:`Instrument` (returned as it is) or a name for :func:`get`.
    examples : bool, default False
        Also accept the name of a packaged example instrument (``"srq"`` for
        :func:`example_srq`), which is not in the registry.

    Returns
    -------
    Instrument

    Raises
    ------
    InstrumentError
        For an unknown name.
    TypeError
        If ``instrument`` is neither a name nor an :class:`Instrument`.

    Examples
    --------
    >>> resolve("GAD-7").name
    'gad7'
    >>> resolve("srq", examples=True).name
    'srq'
    """
    if isinstance(instrument, Instrument):
        return instrument
    if not isinstance(instrument, str):
        raise TypeError(
            f"instrument must be a name or an Instrument, got {type(instrument).__name__}"
        )
    if examples and instrument in _EXAMPLES:
        return _EXAMPLES[instrument]()
    return get(instrument)


def score_label(column: str) -> str | None:
    """The plain-word label of a score column from its instrument's ``labels``, or None.

    The instrument is the registered or example one whose name begins ``column``
    (the longest such name).

    Examples
    --------
    >>> score_label("wai_sr_goal")
    'alliance: goals (WAI-SR)'
    >>> score_label("phq9_n_answered") is None
    True
    """
    text = str(column)
    stems = [n for n in [*available(), *example_names()] if text.startswith(n + "_")]
    if not stems:
        return None
    stem = max(stems, key=len)
    return (resolve(stem, examples=True).labels or {}).get(text[len(stem) + 1 :])
