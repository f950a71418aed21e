"""Load user-defined instruments from JSON, YAML or TOML files."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

from ..errors import InstrumentError
from .spec import Instrument, instrument_from_dict

__all__ = ["YAML_MISSING", "load_instrument"]

#: The message when a YAML instrument file is read without pyyaml installed (the
#: ``yaml`` extra); JSON and TOML files need no optional package.
YAML_MISSING = (
    "reading YAML instrument files needs pyyaml, which is not installed: "
    'pip install "engagestats[yaml]" (or pip install pyyaml); '
    "JSON and TOML instrument files need no extra package"
)


def load_instrument(path: str | Path) -> Instrument:
    """Read an :class:`Instrument` definition from a JSON, YAML or TOML file.

    Parameters
    ----------
    path : str or Path
        The file (``.json``, ``.yaml``/``.yml`` or ``.toml``; YAML needs the
        ``yaml`` extra, ``pip install "engagestats[yaml]"``). Its fields are
        those of :class:`Instrument`; items in subscales and ``reverse`` may be
        names or 1-based numbers; ``bands`` is ``{"cuts": [...], "labels":
        [...], "score": ..., "source": ...}`` or a mapping of such band sets;
        ``derived`` maps a score name to one of the derived-score forms below.

    Returns
    -------
    Instrument

    Raises
    ------
    InstrumentError
        When the file cannot be parsed or the definition is invalid (unknown
        fields or items, repeated reverse items, a bad range, bands not
        increasing), or when a YAML file is given and pyyaml is not installed.

    Notes
    -----
    Derived scores (column ``<name>_<score>``) take one of three forms:

    ``{subscale: weight, ...}``
        Shorthand for a :class:`Linear` score with constant 0.
    ``{"type": "linear", "weights": {subscale: weight, ...}, "constant": c}``
        A :class:`Linear` score :math:`c + \\sum_j w_j s_j` over subscale
        scores :math:`s_j`; ``constant`` defaults to 0.
    ``{"type": "gas_t_score", "rho": r, "weight_stem": stem}``
        A :class:`GasTScore`, the Goal Attainment Scaling T-score
        :math:`50 + 10 \\sum w_i x_i / \\sqrt{(1 - r)\\sum w_i^2 + r(\\sum w_i)^2}`
        from the items, with ``rho`` 0.3 and ``weight_stem`` ``"<name>_weight"``
        by default.

    In YAML::

        derived:
          readiness: {contemplation: 1, action: 1, maintenance: 1, precontemplation: -1}
          t_score: {type: gas_t_score, rho: 0.3}

    :meth:`Instrument.to_dict` writes these forms, so
    ``load_instrument`` of a ``json.dump`` (or ``yaml.safe_dump``) of
    ``inst.to_dict()`` scores identically to ``inst``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "mood.json"
    >>> _ = p.write_text('{"name": "mood", "items": 4, "response_range": [1, 5], "reverse": [2]}')
    >>> load_instrument(p).reverse
    ('mood_2',)
    >>> g = p.with_name("goals.yaml")
    >>> _ = g.write_text("name: goals\\nitems: 3\\nresponse_range: [-2, 2]\\nsubscales: {}\\n"
    ...                  "derived:\\n  t_score: {type: gas_t_score, rho: 0.5}\\n")
    >>> load_instrument(g).derived
    {'t_score': GasTScore(rho=0.5, weight_stem=None)}
    """
    p = Path(path)
    if not p.is_file():
        raise InstrumentError(f"no instrument file at {p}")
    text = p.read_text(encoding="utf-8")
    suffix = p.suffix.lower()
    try:
        if suffix == ".json":
            spec: Any = json.loads(text)
        elif suffix == ".toml":
            spec = tomllib.loads(text)
        elif suffix in (".yaml", ".yml"):
            try:
                import yaml
            except ImportError as exc:
                err = InstrumentError(f"{p.name}: {YAML_MISSING}")
                raise err from exc
            spec = yaml.safe_load(text)
        else:
            raise InstrumentError(f"unknown instrument file type {suffix!r} (json, yaml, toml)")
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InstrumentError(f"cannot parse {p.name}: {exc}") from None
    except InstrumentError:
        raise
    except Exception as exc:  # yaml.YAMLError without importing yaml at module level
        raise InstrumentError(f"cannot parse {p.name}: {exc}") from None
    try:
        return instrument_from_dict(spec)
    except InstrumentError as exc:
        raise InstrumentError(f"{p.name}: {exc}") from None
    except TypeError as exc:
        raise InstrumentError(f"{p.name}: {exc}") from None
