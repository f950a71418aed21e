"""The built-in codebook: every known column of the three study tables.

The schema uses the vocabulary of the Frictionless Table Schema: each field
has a ``name``, a ``type`` (``string``, ``integer``, ``number``, ``date``), a
``description`` and ``constraints`` (``required``, ``minimum``, ``maximum``,
``enum``); each table has a ``primaryKey`` and ``foreignKeys``. Item blocks
(``phq9_1`` ... ``phq9_9`` and so on) are generated from the compact
:data:`ITEM_BLOCKS` specification, whose item counts and ranges come from the
instruments themselves (:mod:`engagestats.instruments`). Columns that the schema
does not know are allowed and passed through.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd

from .. import instruments
from .._validate import check_choice
from ..errors import DataValidationError
from ..study import CLIENT, SESSION, THERAPIST

__all__ = [
    "FIELD_TYPES",
    "ITEM_BLOCKS",
    "TABLES",
    "ItemBlock",
    "codebook",
    "float_columns",
    "merge_schema",
    "study_schema",
    "table_schema",
]

#: The three tables of a study, in load order.
TABLES = ("therapists", "clients", "sessions")

#: Field types understood by the loader. ``datetime`` is read like ``date`` (ISO 8601,
#: with an optional time), ``year`` like ``integer`` and ``any`` as text kept as written.
FIELD_TYPES = ("string", "integer", "number", "date", "boolean", "datetime", "year", "any")

#: Frictionless types refused with an error (no tabular meaning in a study table).
_REFUSED_TYPES = ("object", "array", "time", "yearmonth", "duration", "geopoint", "geojson")


def _field(
    name: str,
    type_: str,
    description: str,
    *,
    required: bool = False,
    minimum: float | None = None,
    maximum: float | None = None,
    enum: list[str] | None = None,
) -> dict[str, Any]:
    constraints: dict[str, Any] = {}
    if required:
        constraints["required"] = True
    if minimum is not None:
        constraints["minimum"] = minimum
    if maximum is not None:
        constraints["maximum"] = maximum
    if enum is not None:
        constraints["enum"] = list(enum)
    out: dict[str, Any] = {"name": name, "type": type_, "description": description}
    if constraints:
        out["constraints"] = constraints
    return out


class ItemBlock(NamedTuple):
    """One questionnaire's item columns ``<prefix>_1`` ... ``<prefix>_<n_items>`` in a table."""

    table: str
    prefix: str
    n_items: int
    minimum: float
    maximum: float
    integer: bool
    description: str


#: Where each built-in questionnaire's items are recorded: (table, instrument, description).
_ITEM_TABLES = (
    ("clients", "srq", "intake motivation, self-regulation questionnaire item"),
    ("clients", "urica", "intake readiness, URICA (32-item form) item"),
    ("clients", "gas", "Goal Attainment Scaling rating at the end of treatment, goal"),
    ("sessions", "phq9", "PHQ-9 depression item"),
    ("sessions", "gad7", "GAD-7 anxiety item"),
    ("sessions", "wai_sr", "alliance, WAI-SR client form item"),
    ("sessions", "k10", "K10 psychological distress item"),
    ("sessions", "core10", "CORE-10 psychological distress item"),
    ("sessions", "ors", "Outcome Rating Scale item (visual analogue, 0-10)"),
    ("sessions", "srs", "Session Rating Scale item (visual analogue, 0-10)"),
)


def _number(x: float) -> int | float:
    return int(x) if float(x).is_integer() else float(x)


def _block(table: str, name: str, description: str) -> ItemBlock:
    inst = instruments.resolve(name, examples=True)
    lo, hi = inst.response_range
    return ItemBlock(table, name, inst.n_items, _number(lo), _number(hi), inst.integer, description)


#: The questionnaire item blocks of the codebook. The number of items, their range and
#: whether answers are whole numbers come from each instrument's spec
#: (:func:`engagestats.instruments.resolve`), so every built-in is range-checked on load.
#: GAS goal weights (rated 1-3 with the goals) are the one block that is not an instrument.
ITEM_BLOCKS: tuple[ItemBlock, ...] = (
    *(_block(t, name, desc) for t, name, desc in _ITEM_TABLES),
    ItemBlock("clients", "gas_weight", 3, 1, 3, True, "Goal Attainment Scaling weight of goal"),
)

_BASE_FIELDS: dict[str, list[dict[str, Any]]] = {
    "therapists": [
        _field(THERAPIST, "string", "therapist identifier (key)", required=True),
        _field(
            "modality",
            "string",
            "therapeutic modality",
            enum=["cbt", "psychodynamic", "integrative", "art_therapy"],
        ),
        _field(
            "years_experience", "integer", "years of clinical experience", minimum=0, maximum=45
        ),
    ],
    "clients": [
        _field(CLIENT, "string", "client identifier (key)", required=True),
        _field(THERAPIST, "string", "the client's therapist", required=True),
        _field("age", "integer", "age in years at intake", minimum=16, maximum=99),
        _field("gender", "string", "gender", enum=["woman", "man", "nonbinary"]),
        _field("format", "string", "treatment format", enum=["individual", "group"]),
        _field("intake_date", "date", "date of the intake interview"),
        _field(
            "planned_sessions",
            "integer",
            "number of sessions agreed at intake",
            minimum=1,
            maximum=60,
        ),
        _field(
            "end_reason",
            "string",
            "how treatment ended: completed (reached the planned end) or dropout "
            "(unilateral ending before it)",
            enum=["completed", "dropout"],
        ),
    ],
    "sessions": [
        _field(CLIENT, "string", "client identifier (key)", required=True),
        _field(
            SESSION,
            "integer",
            "offered appointment number, counted from 1 at the first attended session "
            "(0 may mark intake); strictly increasing within client",
            required=True,
            minimum=0,
        ),
        _field("date", "date", "date of the appointment"),
        _field("attended", "integer", "1 attended, 0 missed", minimum=0, maximum=1),
        _field(
            "homework",
            "integer",
            "1 completed, 0 not completed, empty when none was set or the session was missed",
            minimum=0,
            maximum=1,
        ),
    ],
}

_KEYS: dict[str, dict[str, Any]] = {
    "therapists": {"primaryKey": [THERAPIST], "foreignKeys": []},
    "clients": {
        "primaryKey": [CLIENT],
        "foreignKeys": [
            {
                "fields": [THERAPIST],
                "reference": {"resource": "therapists", "fields": [THERAPIST]},
            }
        ],
    },
    "sessions": {
        "primaryKey": [CLIENT, SESSION],
        "foreignKeys": [
            {
                "fields": [CLIENT],
                "reference": {"resource": "clients", "fields": [CLIENT]},
            }
        ],
    },
}

#: Non-item integer columns that are always stored as float64 (they allow missing values).
_ALWAYS_FLOAT = {"sessions": {"homework"}}


def _item_fields(table: str) -> list[dict[str, Any]]:
    out = []
    for b in ITEM_BLOCKS:
        if b.table != table:
            continue
        kind = "integer" if b.integer else "number"
        out += [
            _field(f"{b.prefix}_{k}", kind, f"{b.description} {k}", minimum=b.minimum,
                   maximum=b.maximum)
            for k in range(1, b.n_items + 1)
        ]  # fmt: skip
    return out


def table_schema(table: str) -> dict[str, Any]:
    """The built-in Frictionless Table Schema of one study table.

    Parameters
    ----------
    table : {"therapists", "clients", "sessions"}
        The table.

    Returns
    -------
    dict
        ``{"fields": [...], "primaryKey": [...], "foreignKeys": [...]}``; a
        fresh copy, safe to modify.

    Examples
    --------
    >>> s = table_schema("sessions")
    >>> s["primaryKey"]
    ['client_id', 'session']
    >>> [f for f in s["fields"] if f["name"] == "phq9_9"][0]["constraints"]
    {'minimum': 0, 'maximum': 3}
    """
    check_choice(table, TABLES, name="table")
    fields = copy.deepcopy(_BASE_FIELDS[table]) + _item_fields(table)
    return {"fields": fields, **copy.deepcopy(_KEYS[table])}


def study_schema() -> dict[str, dict[str, Any]]:
    """The built-in schemas of all three tables, keyed by table name."""
    return {t: table_schema(t) for t in TABLES}


def float_columns(table: str) -> set[str]:
    """Integer columns of ``table`` that are always stored as ``float64``.

    These are the questionnaire items and ``homework``: columns in which
    missing answers are routine (visual analogue items are numbers anyway).

    Examples
    --------
    >>> sorted(float_columns("clients"))[:3]
    ['gas_1', 'gas_2', 'gas_3']
    """
    out = set(_ALWAYS_FLOAT.get(table, set()))
    out |= {f["name"] for f in _item_fields(table) if f["type"] == "integer"}
    return out


def _read_schema_arg(schema: Any) -> dict[str, Any]:
    if isinstance(schema, str | Path):
        path = Path(schema)
        try:
            text = path.read_text(encoding="utf-8-sig")
            return json.loads(text)
        except (OSError, ValueError) as exc:
            raise DataValidationError.for_file(
                path.name,
                f"could not read the schema: {exc}",
                message=f"Unreadable schema file {path.name}",
            ) from exc
    if isinstance(schema, Mapping):
        return dict(schema)
    raise DataValidationError.for_argument(
        "schema",
        type(schema).__name__,
        "schema must be a path to a datapackage.json or a mapping of table names to Table Schemas",
    )


def merge_schema(schema: Any = None) -> dict[str, dict[str, Any]]:
    """The built-in schemas updated by a user schema.

    Parameters
    ----------
    schema : path, dict or None
        A Frictionless Data Package (``{"resources": [{"name": "clients",
        "schema": {...}}, ...]}``), its ``datapackage.json`` path, or a dict
        mapping table names to Table Schemas. Fields with a known name
        replace the built-in field; new fields are added. ``primaryKey`` and
        ``foreignKeys`` always come from the built-in schema.

    Returns
    -------
    dict
        Table name to Table Schema.

    Examples
    --------
    >>> extra = {"clients": {"fields": [{"name": "site", "type": "string"}]}}
    >>> merge_schema(extra)["clients"]["fields"][-1]
    {'name': 'site', 'type': 'string'}
    """
    out = study_schema()
    if schema is None:
        return out
    raw = _read_schema_arg(schema)
    per_table: dict[Any, Any]
    if "resources" in raw:
        per_table = {
            r.get("name"): r.get("schema", {}) for r in raw["resources"] if isinstance(r, Mapping)
        }
    else:
        per_table = raw
    where = Path(schema).name if isinstance(schema, str | Path) else "schema="
    problems = []
    for table, tschema in per_table.items():
        if table not in out or not isinstance(tschema, Mapping):
            continue
        fields = out[table]["fields"]
        index = {f["name"]: i for i, f in enumerate(fields)}
        for f in tschema.get("fields", []):
            if not isinstance(f, Mapping) or "name" not in f:
                continue
            f = copy.deepcopy(dict(f))
            if f.get("type", "string") not in FIELD_TYPES:
                kind = f.get("type")
                why = (
                    "a type without a meaning in a study table"
                    if kind in _REFUSED_TYPES
                    else "an unknown type"
                )
                problems.append(
                    {
                        "file": where,
                        "row": None,
                        "column": f"{table}.{f['name']}",
                        "value": str(kind),
                        "problem": f"field type {kind!r} is {why}; expected one of "
                        + ", ".join(FIELD_TYPES),
                    }
                )
                continue
            if f["name"] in index:
                fields[index[f["name"]]] = f
            else:
                index[f["name"]] = len(fields)
                fields.append(f)
    if problems:
        raise DataValidationError(problems, f"Cannot use the codebook {where}")
    return out


def codebook() -> pd.DataFrame:
    """The built-in codebook as a tidy table, one row per known column.

    Returns
    -------
    DataFrame
        Columns ``table``, ``column``, ``type``, ``required`` (bool),
        ``minimum`` and ``maximum`` (float, NaN when unbounded), ``categories``
        (the allowed values joined by ``|``, empty when unrestricted) and
        ``description``.

    Examples
    --------
    >>> cb = codebook()
    >>> cb.loc[cb["column"] == "wai_sr_12", ["table", "type", "minimum", "maximum"]]
    ... # doctest: +NORMALIZE_WHITESPACE
          table     type  minimum  maximum
    96  sessions  integer      1.0      5.0
    """
    rows = []
    for table, tschema in study_schema().items():
        for f in tschema["fields"]:
            c = f.get("constraints", {})
            rows.append(
                {
                    "table": table,
                    "column": f["name"],
                    "type": f["type"],
                    "required": bool(c.get("required", False)),
                    "minimum": float(c["minimum"]) if "minimum" in c else float("nan"),
                    "maximum": float(c["maximum"]) if "maximum" in c else float("nan"),
                    "categories": "|".join(c.get("enum", [])),
                    "description": f["description"],
                }
            )
    return pd.DataFrame(rows)
