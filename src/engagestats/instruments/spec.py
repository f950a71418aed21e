"""The :class:`Instrument`: a declarative, validated description of a questionnaire."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal, cast

import numpy as np
import pandas as pd

from ..errors import InstrumentError
from ._derived import SNAKE_CASE, GasTScore, Linear, derived_from_spec

__all__ = ["Bands", "GasTScore", "Instrument", "Linear"]

_DIRECTIONS = ("higher_is_worse", "higher_is_better")
_AGGREGATES = ("sum", "mean")

ItemRef = str | int


@dataclass(frozen=True)
class Bands:
    """Labelled score bands (severity categories).

    Parameters
    ----------
    cuts : sequence of float
        Lower edges of the bands, strictly increasing. A score ``s`` gets
        band ``i`` when ``cuts[i] <= s < cuts[i + 1]``: every lower edge is
        inclusive, so a score equal to a cut point falls in the higher band.
        Scores below ``cuts[0]`` get no band.
    labels : sequence of str
        One label per band, in increasing score order.
    score : str, default "total"
        The subscale or derived score the bands apply to.
    source : str, optional
        Where the bands come from.

    Examples
    --------
    >>> b = Bands(cuts=(0, 5, 10), labels=("low", "mid", "high"))
    >>> list(b.assign(np.array([0, 4, 4.5, 5, 27, np.nan])))
    ['low', 'low', 'low', 'mid', 'high', nan]
    """

    cuts: tuple[float, ...]
    labels: tuple[str, ...]
    score: str = "total"
    source: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "cuts", tuple(float(c) for c in self.cuts))
        object.__setattr__(self, "labels", tuple(str(x) for x in self.labels))
        if len(self.cuts) != len(self.labels) or not self.cuts:
            raise InstrumentError(
                f"bands need one label per cut point, got {len(self.cuts)} cut points "
                f"and {len(self.labels)} labels"
            )
        if any(b <= a for a, b in zip(self.cuts, self.cuts[1:], strict=False)):
            raise InstrumentError(f"band cut points must be strictly increasing: {self.cuts}")
        if len(set(self.labels)) != len(self.labels):
            raise InstrumentError(f"band labels must be unique: {self.labels}")

    def assign(self, values: np.ndarray) -> pd.Categorical:
        """Band labels for ``values`` as an ordered Categorical (NaN stays missing)."""
        values = np.asarray(values, dtype=float)
        codes = np.searchsorted(np.asarray(self.cuts), values, side="right") - 1
        codes[np.isnan(values)] = -1
        return pd.Categorical.from_codes(codes, categories=list(self.labels), ordered=True)


def _as_tuple(x: Any) -> tuple:
    if isinstance(x, str | int):
        return (x,)
    return tuple(x)


@dataclass(frozen=True)
class Instrument:
    """A questionnaire: items, response range, subscales, reversal and scoring rules.

    Parameters
    ----------
    name : str
        Short snake_case name; the stem of item columns (``<name>_1``) and of
        score columns (``<name>_total``).
    items : int or sequence of str, optional
        Item column names in order, or their number ``k`` for
        ``<name>_1 .. <name>_k``.
    response_range : (float, float)
        Lowest and highest possible answer.
    integer : bool, default True
        Whether answers must be whole numbers (False for visual analogue items).
    subscales : mapping of str to sequence, optional
        Subscale name to its items, given as names or 1-based item numbers.
        Default: one subscale ``"total"`` of all items.
    reverse : sequence, optional
        Reverse-keyed items (names or numbers), scored ``min + max - x``.
    aggregate : {"sum", "mean"} or mapping, default "sum"
        How items combine, for all subscales or per subscale.
    min_answered : int, float or mapping, optional
        Answered items a subscale needs to be scored: a count (int) or a share
        of its items (float in (0, 1]); per subscale via a mapping. Default:
        all items (no proration).
    round_prorated : bool, default False
        Round prorated sums half up to a whole number (as in the K10 rule).
    direction : {"higher_is_worse", "higher_is_better"}
        What a higher primary score means.
    bands : Bands or mapping of str to Bands, optional
        Band sets; the one named by ``band_set`` (default the first) is used.
    band_set : str, optional
        Name of the band set in use.
    derived : mapping of str to Linear, GasTScore or mapping, optional
        Scores computed from subscale scores (or, for GAS, from the items); a
        mapping is read as in a definition file (see :func:`load_instrument`):
        a bare ``{subscale: weight}`` map is a :class:`Linear` score, and
        ``{"type": "linear" | "gas_t_score", ...}`` names the kind.
    flags : mapping of str to (item, threshold), optional
        Boolean columns ``<name>_<flag>``, True when the raw answer to the item
        is at least the threshold.
    primary : str, optional
        The score that ``cutoff`` and ``reliable_change`` refer to; default
        ``"total"`` when defined, else the first score.
    reliable_change : float, optional
        Raw-point change on the primary score counted as reliable.
    cutoff : float, optional
        Caseness cut-off on the primary score: a case when the score is
        ``>= cutoff`` (higher_is_worse) or ``<= cutoff`` (higher_is_better).
    labels : mapping of str to str, optional
        Plain-word labels of scores (score name -> label, e.g. ``{"total":
        "depression (PHQ-9 total)"}``), used for axis labels by
        :mod:`engagestats.plots`; scores without one are labelled by their
        column name.
    source : str
        Citation for the key, rules and cut-offs.
    notes : str
        Anything a user should know (conventions, conflicts between sources).

    Notes
    -----
    A subscale score from the ``n`` answered of its ``k`` items is the mean of
    the answered items for ``aggregate="mean"``; for ``"sum"`` it is the sum
    when ``n = k`` and the prorated sum ``k * mean`` when ``min_answered <= n
    < k``. Below ``min_answered`` it is missing.

    Examples
    --------
    >>> inst = Instrument("mood", items=4, response_range=(1, 5), reverse=[2],
    ...                   min_answered=3, cutoff=14)
    >>> inst.items
    ('mood_1', 'mood_2', 'mood_3', 'mood_4')
    >>> inst.min_required
    {'total': 3}
    >>> inst.is_case(np.array([13.0, 14.0, np.nan]))
    array([False,  True, False])
    """

    name: str
    items: Any = None
    response_range: tuple[float, float] = (0, 1)
    integer: bool = True
    subscales: Mapping[str, Sequence[ItemRef]] | None = None
    reverse: Sequence[ItemRef] = ()
    aggregate: Literal["sum", "mean"] | Mapping[str, str] = "sum"
    min_answered: int | float | Mapping[str, int | float] | None = None
    round_prorated: bool = False
    direction: Literal["higher_is_worse", "higher_is_better"] = "higher_is_worse"
    bands: Bands | Mapping[str, Bands] | None = None
    band_set: str | None = None
    derived: Mapping[str, Any] | None = None
    flags: Mapping[str, tuple[ItemRef, float]] | None = None
    primary: str | None = None
    reliable_change: float | None = None
    cutoff: float | None = None
    labels: Mapping[str, str] | None = None
    source: str = ""
    notes: str = ""
    min_required: dict[str, int] = field(init=False, repr=False, compare=False)

    # ----------------------------------------------------------- validation
    def __post_init__(self) -> None:
        s = object.__setattr__
        if not isinstance(self.name, str) or not SNAKE_CASE.match(self.name):
            raise InstrumentError(f"instrument name must be snake_case, got {self.name!r}")
        items = self.items
        if items is None:
            raise InstrumentError(f"{self.name}: give the items (a count or column names)")
        if isinstance(items, int | np.integer):
            if items < 1:
                raise InstrumentError(f"{self.name}: needs at least one item")
            items = tuple(f"{self.name}_{i}" for i in range(1, int(items) + 1))
        else:
            items = tuple(str(i) for i in _as_tuple(items))
        dup = sorted({i for i in items if items.count(i) > 1})
        if dup or not items:
            raise InstrumentError(f"{self.name}: duplicate or no items: {dup}")
        s(self, "items", items)
        lo, hi = (float(v) for v in self.response_range)
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
            raise InstrumentError(
                f"{self.name}: response_range must be (min, max) with min < max, "
                f"got {self.response_range}"
            )
        s(self, "response_range", (lo, hi))
        if self.direction not in _DIRECTIONS:
            raise InstrumentError(f"{self.name}: direction must be one of {_DIRECTIONS}")

        resolve = self._resolver(items)
        subs = self.subscales if self.subscales is not None else {"total": items}
        if not subs and not self.derived:
            raise InstrumentError(f"{self.name}: defines no scores")
        subscales = {}
        for sub, refs in subs.items():
            names = tuple(resolve(r, f"subscale {sub!r}") for r in _as_tuple(refs))
            if not names or len(set(names)) != len(names):
                raise InstrumentError(f"{self.name}: subscale {sub!r} is empty or repeats items")
            subscales[str(sub)] = names
        s(self, "subscales", subscales)

        rev = tuple(resolve(r, "reverse") for r in _as_tuple(self.reverse))
        if len(set(rev)) != len(rev):
            raise InstrumentError(
                f"{self.name}: reverse list names an item more than once: "
                f"{sorted({r for r in rev if rev.count(r) > 1})}"
            )
        s(self, "reverse", rev)

        agg = self.aggregate
        agg = dict(agg) if isinstance(agg, Mapping) else dict.fromkeys(subscales, agg)
        for sub in subscales:
            agg.setdefault(sub, "sum")
        if set(agg) - set(subscales) or any(a not in _AGGREGATES for a in agg.values()):
            raise InstrumentError(f"{self.name}: bad aggregate {self.aggregate!r}")
        s(self, "aggregate", agg)

        given = self.min_answered
        ma: dict[str, Any] = (
            dict(given) if isinstance(given, Mapping) else dict.fromkeys(subscales, given)
        )
        if set(ma) - set(subscales):
            raise InstrumentError(f"{self.name}: min_answered names unknown subscales")
        required = {}
        for sub, names in subscales.items():
            required[sub] = self._required(sub, ma.get(sub), len(names))
        s(self, "min_answered", ma)
        s(self, "min_required", required)

        derived = {}
        for dname, spec in (self.derived or {}).items():
            try:
                d = derived_from_spec(str(dname), spec)
            except InstrumentError as exc:
                raise InstrumentError(f"{self.name}: {exc}") from None
            unknown = [r for r in d.requires() if r not in subscales]
            if unknown:
                raise InstrumentError(f"{self.name}: derived {dname!r} uses unknown {unknown}")
            if dname in subscales:
                raise InstrumentError(f"{self.name}: derived {dname!r} clashes with a subscale")
            derived[str(dname)] = d
        s(self, "derived", derived)

        bands = self.bands
        if isinstance(bands, Bands):
            bands = {"default": bands}
        bands = dict(bands or {})
        for bname, b in bands.items():
            if not isinstance(b, Bands):
                raise InstrumentError(f"{self.name}: band set {bname!r} is not a Bands")
            if b.score not in self.score_names:
                raise InstrumentError(f"{self.name}: bands {bname!r} refer to unknown {b.score!r}")
        s(self, "bands", bands)
        if self.band_set is None and bands:
            s(self, "band_set", next(iter(bands)))
        if self.band_set is not None and self.band_set not in bands:
            raise InstrumentError(
                f"{self.name}: unknown band set {self.band_set!r}; available: {list(bands)}"
            )

        flags = {}
        for fname, (ref, thr) in (self.flags or {}).items():
            flags[str(fname)] = (resolve(ref, f"flag {fname!r}"), float(thr))
        s(self, "flags", flags)
        if self.primary is None:
            names = self.score_names
            s(self, "primary", "total" if "total" in names else names[0])
        if self.primary not in self.score_names:
            raise InstrumentError(f"{self.name}: primary score {self.primary!r} is not defined")
        labels = {str(k): str(v) for k, v in (self.labels or {}).items()}
        unknown = sorted(set(labels) - set(self.score_names))
        if unknown:
            raise InstrumentError(f"{self.name}: labels name unknown scores {unknown}")
        s(self, "labels", labels)

    def _resolver(self, items: tuple[str, ...]):
        def resolve(ref: ItemRef, where: str) -> str:
            if isinstance(ref, int | np.integer) and not isinstance(ref, bool):
                if 1 <= ref <= len(items):
                    return items[int(ref) - 1]
                raise InstrumentError(f"{self.name}: {where} names unknown item number {ref}")
            if str(ref) in items:
                return str(ref)
            raise InstrumentError(f"{self.name}: {where} names unknown item {ref!r}")

        return resolve

    def _required(self, sub: str, rule: Any, k: int) -> int:
        if rule is None:
            return k
        if isinstance(rule, bool) or not isinstance(rule, int | float | np.number):
            raise InstrumentError(f"{self.name}: min_answered for {sub!r} must be a number")
        if isinstance(rule, int | np.integer):
            n = int(rule)
        elif 0 < rule <= 1:
            n = math.ceil(rule * k - 1e-9)
        else:
            raise InstrumentError(
                f"{self.name}: min_answered share for {sub!r} must be in (0, 1], got {rule}"
            )
        if not 1 <= n <= k:
            raise InstrumentError(f"{self.name}: min_answered for {sub!r} must be 1..{k}, got {n}")
        return n

    # ---------------------------------------------------------------- views
    # Typed views of fields that __post_init__ normalises (their annotations are the
    # accepted input types).
    @property
    def _subscales(self) -> Mapping[str, tuple[str, ...]]:
        return cast(Mapping[str, tuple[str, ...]], self.subscales)

    @property
    def _aggregates(self) -> Mapping[str, str]:
        return cast(Mapping[str, str], self.aggregate)

    @property
    def _band_sets(self) -> Mapping[str, Bands]:
        return cast(Mapping[str, Bands], self.bands or {})

    @property
    def n_items(self) -> int:
        """Number of items."""
        return len(self.items)

    @property
    def score_names(self) -> tuple[str, ...]:
        """Subscale then derived score names (column suffixes)."""
        return tuple(self._subscales) + tuple(self.derived or {})

    @property
    def active_bands(self) -> Bands | None:
        """The band set in use, or None."""
        return self._band_sets[self.band_set] if self.band_set else None

    def with_bands(self, band_set: str) -> Instrument:
        """A copy using another of the instrument's band sets."""
        return replace(self, band_set=band_set)

    def is_case(self, values: np.ndarray) -> np.ndarray:
        """True where a primary score is at or beyond the caseness cut-off.

        ``score >= cutoff`` when higher is worse, ``score <= cutoff`` when higher
        is better; missing scores are never cases.
        """
        if self.cutoff is None:
            raise InstrumentError(f"{self.name} has no caseness cut-off")
        v = np.asarray(values, dtype=float)
        with np.errstate(invalid="ignore"):
            hit = v >= self.cutoff if self.direction == "higher_is_worse" else v <= self.cutoff
        return hit & ~np.isnan(v)

    def to_dict(self) -> dict[str, Any]:
        """A plain mapping that :func:`instrument_from_dict` turns back into this instrument.

        Only lists, dicts, strings, numbers, booleans and None appear, so
        ``json.dump`` or ``yaml.safe_dump`` writes a file that
        :func:`load_instrument` reads back into an instrument that scores
        identically. Derived scores are written as in the file format of
        :func:`load_instrument`; ``min_answered`` is written as item counts.

        Examples
        --------
        >>> from engagestats.instruments import gas
        >>> gas(rho=0.5).to_dict()["derived"]
        {'t_score': {'type': 'gas_t_score', 'rho': 0.5}}
        >>> instrument_from_dict(gas(rho=0.5).to_dict()).derived["t_score"]
        GasTScore(rho=0.5, weight_stem=None)
        """
        out: dict[str, Any] = {
            "name": self.name,
            "items": list(self.items),
            "response_range": list(self.response_range),
            "integer": self.integer,
            "subscales": {k: list(v) for k, v in self._subscales.items()},
            "reverse": list(self.reverse),
            "aggregate": dict(self._aggregates),
            "min_answered": dict(self.min_required),
            "round_prorated": self.round_prorated,
            "direction": self.direction,
            "primary": self.primary,
            "reliable_change": self.reliable_change,
            "cutoff": self.cutoff,
            "source": self.source,
            "notes": self.notes,
        }
        if self.bands:
            out["bands"] = {
                k: {"cuts": list(b.cuts), "labels": list(b.labels), "score": b.score}
                | ({"source": b.source} if b.source else {})
                for k, b in self._band_sets.items()
            }
            out["band_set"] = self.band_set
        if self.derived:
            out["derived"] = {k: d.to_spec() for k, d in self.derived.items()}
        if self.flags:
            out["flags"] = {k: [i, t] for k, (i, t) in self.flags.items()}
        if self.labels:
            out["labels"] = dict(self.labels)
        return out


def instrument_from_dict(spec: Mapping[str, Any]) -> Instrument:
    """Build an :class:`Instrument` from a plain mapping (as read from JSON, YAML or TOML).

    ``bands`` may be a mapping of band-set name to ``{"cuts", "labels", "score",
    "source"}`` (or one such mapping); ``derived`` maps score names to a weight
    map or a typed mapping (the file format is described in
    :func:`~engagestats.instruments.load_instrument`). The inverse is
    :meth:`Instrument.to_dict`.

    Examples
    --------
    >>> inst = instrument_from_dict({"name": "mood", "items": 3, "response_range": [0, 3],
    ...     "bands": {"cuts": [0, 5], "labels": ["low", "high"]}})
    >>> inst.active_bands.labels
    ('low', 'high')
    """
    if not isinstance(spec, Mapping):
        raise InstrumentError("an instrument definition must be a mapping")
    known = {f for f in Instrument.__dataclass_fields__ if f != "min_required"}
    unknown = sorted(set(spec) - known)
    if unknown:
        raise InstrumentError(f"unknown instrument field(s): {unknown}")
    kw = dict(spec)
    if "name" not in kw:
        raise InstrumentError("an instrument definition needs a 'name'")
    if "response_range" in kw:
        rr = kw["response_range"]
        if not isinstance(rr, Sequence) or isinstance(rr, str) or len(rr) != 2:
            raise InstrumentError(f"response_range must be [min, max], got {rr!r}")
        kw["response_range"] = tuple(rr)
    bands = kw.get("bands")
    if isinstance(bands, Mapping) and bands:
        try:
            if "cuts" in bands:
                kw["bands"] = Bands(**bands)
            else:
                kw["bands"] = {k: Bands(**v) for k, v in bands.items()}
        except TypeError as exc:
            raise InstrumentError(f"bad band definition: {exc}") from None
    if kw.get("flags"):
        kw["flags"] = {k: tuple(v) for k, v in kw["flags"].items()}
    return Instrument(**kw)
