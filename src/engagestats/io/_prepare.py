"""Steps between reading and validating: column names, recodes, value labels, accounting.

Every step records what it did in a *column map* row (``table, source,
column, how, cells``), so a loaded study says which source column became
which study column and which cells were recoded; nothing is changed silently.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataValidationError
from ..study import ACCOUNTING_COLUMNS, COLUMN_MAP_COLUMNS
from ._decode import warn_user
from ._readers import RawTable
from .schema import ITEM_BLOCKS

__all__ = [
    "ACCOUNTING_COLUMNS",
    "COLUMN_MAP_COLUMNS",
    "accounting",
    "apply_recode",
    "apply_value_labels",
    "blank_text",
    "match_case",
]


_ITEM = re.compile(r"^(?P<prefix>[a-z][a-z0-9_]*?)_(?P<k>\d+)$")


def _key(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


def match_case(
    original: list[str], mapping: dict[str, str], tschema: dict[str, Any], file: str
) -> tuple[dict[str, str], list[tuple[str, str, str]]]:
    """Extend ``mapping`` by codebook names matched ignoring case, spaces and hyphens.

    Returns the extended mapping and a warning list of (source, column, how):
    ``how`` is ``"matched ignoring case"`` or ``"ignored: ..."`` for columns
    that look like items of a known questionnaire but are not in its block.
    """
    known = {f["name"] for f in tschema["fields"]}
    by_key: dict[str, str] = {}
    for name in known:
        by_key.setdefault(_key(name), name)
    taken = {mapping.get(c, c) for c in original}
    out = dict(mapping)
    notes: list[tuple[str, str, str]] = []
    blocks = {b.prefix: b.n_items for b in ITEM_BLOCKS if f"{b.prefix}_1" in known}
    for col in original:
        if col in mapping or col in known:
            continue
        target = by_key.get(_key(col))
        if target is not None and target not in taken:
            out[col] = target
            taken.add(target)
            notes.append((col, target, "matched ignoring case"))
            continue
        m = _ITEM.match(_key(col))
        if m and m["prefix"] in blocks and target is None and int(m["k"]) > blocks[m["prefix"]]:
            notes.append(
                (
                    col,
                    col,
                    f"ignored: {m['prefix']} has items 1 to {blocks[m['prefix']]}; "
                    "kept as an unknown column",
                )
            )
    if notes:
        shown = "; ".join(
            f"{s!r} -> {c!r}" if how.startswith("matched") else f"{s!r} {how}"
            for s, c, how in notes
        )
        warn_user(
            f"{file}: column names matched or ignored: {shown}. Rename the columns "
            "(or pass columns=) to silence this warning."
        )
    return out, notes


def _text(v: Any) -> str:
    if isinstance(v, float | np.floating) and float(v).is_integer():
        return str(int(v))
    return str(v).strip()


def _targets(key: str, columns: list[str]) -> list[str]:
    if key in columns:
        return [key]
    return [c for c in columns if (m := _ITEM.match(c)) and m["prefix"] == key]


def apply_recode(
    raws: Mapping[str, RawTable], recode: Mapping[str, Mapping[Any, Any]] | None
) -> list[dict[str, Any]]:
    """Replace cells through ``recode`` (column or instrument prefix -> {old: new}).

    Cells are matched by their text (``1``, ``"1"`` and ``1.0`` are the same
    code; surrounding spaces are ignored). Returns column-map rows counting
    the recoded cells; an unknown key raises.
    """
    if not recode:
        return []
    if not isinstance(recode, Mapping) or not all(isinstance(v, Mapping) for v in recode.values()):
        raise DataValidationError.for_argument(
            "recode",
            repr(recode)[:80],
            "recode must map a column name or instrument prefix to {old: new} pairs",
        )
    rows: list[dict[str, Any]] = []
    for key, pairs in recode.items():
        table_map = {_text(k): v for k, v in pairs.items()}
        hit = False
        for t, raw in raws.items():
            for col in _targets(str(key), list(raw.frame.columns)):
                hit = True
                values = raw.frame[col].to_numpy(dtype=object).copy()
                n = 0
                for i, v in enumerate(values):
                    if v is None:
                        continue
                    new = table_map.get(_text(v))
                    if new is not None or _text(v) in table_map:
                        values[i] = _text(new) if raw.meta.get("text_source") else new
                        n += 1
                raw.frame[col] = values
                rows.append(
                    {
                        "table": t,
                        "source": col,
                        "column": col,
                        "how": f"recoded by recode[{key!r}]",
                        "cells": n,
                    }
                )
        if not hit:
            raise DataValidationError.for_argument(
                "recode", str(key), "no column of that name or instrument prefix in any table"
            )
    return rows


def apply_value_labels(
    raws: Mapping[str, RawTable], which: bool | list[str], field_types: dict[str, dict[str, str]]
) -> list[dict[str, Any]]:
    """Replace SPSS codes by their value labels.

    ``which`` True: every labelled column that the codebook types as text
    (categories such as ``gender``) or does not know; a list: those columns.
    Codes without a label are kept (and then validated as they are).
    """
    if which is False or which is None:
        return []
    rows: list[dict[str, Any]] = []
    wanted = None if which is True else {str(c) for c in which}
    for t, raw in raws.items():
        labels = raw.meta.get("value_labels", {})
        names = raw.meta.get("source_names", {})
        back = {v: k for k, v in names.items()}
        for col in raw.frame.columns:
            src = names.get(col, col)
            vl = labels.get(src)
            if not vl:
                continue
            if wanted is not None and col not in wanted and src not in wanted:
                continue
            numeric = field_types[t].get(col, "string") not in ("string", "any")
            if wanted is None and numeric:
                continue
            by_text = {_text(k): lab for k, lab in vl.items()}
            values = raw.frame[col].to_numpy(dtype=object).copy()
            n = 0
            for i, v in enumerate(values):
                if v is not None and _text(v) in by_text:
                    values[i] = by_text[_text(v)]
                    n += 1
            raw.frame[col] = values
            rows.append(
                {
                    "table": t,
                    "source": back.get(col, src),
                    "column": col,
                    "how": "SPSS value labels applied",
                    "cells": n,
                }
            )
    if wanted is not None:
        done = {r["column"] for r in rows} | {r["source"] for r in rows}
        missing = sorted(wanted - done)
        if missing:
            raise DataValidationError.for_argument(
                "value_labels", ", ".join(missing), "no SPSS value labels for these columns"
            )
    return rows


def blank_text(raws: Mapping[str, RawTable]) -> list[dict[str, Any]]:
    """Column-map rows counting text cells made only of white space (read as missing).

    An empty cell of a delimited file is the ordinary missing value and is not
    counted; ``" "`` in a file, or ``""`` in a DataFrame, is.
    """
    rows = []
    for t, raw in raws.items():
        names = raw.meta.get("source_names", {})
        in_memory = bool(raw.meta.get("in_memory"))
        for col in raw.frame.columns:
            n = sum(
                1
                for v in raw.frame[col].to_numpy(dtype=object)
                if isinstance(v, str) and not v.strip() and (in_memory or v != "")
            )
            if n:
                rows.append({"table": t, "source": names.get(col, col), "column": col,
                             "how": "blank text read as missing", "cells": n})  # fmt: skip
    return rows


def accounting(
    raws: Mapping[str, RawTable], tables: Mapping[str, pd.DataFrame], excluded: pd.DataFrame
) -> pd.DataFrame:
    """Rows read, kept and excluded per table; ``rows_read == rows_kept + rows_excluded``."""
    out = []
    for t, raw in raws.items():
        ex = excluded.loc[excluded["table"] == t, "row"]
        n_ex = int(pd.Series(ex, dtype=object).nunique())
        out.append(
            {
                "table": t,
                "file": raw.file,
                "encoding": raw.meta.get("encoding"),
                "rows_read": len(raw.frame),
                "rows_kept": len(tables[t]),
                "rows_excluded": n_ex,
                "blank_lines": int(raw.meta.get("blank_lines", 0)),
            }
        )
    frame = pd.DataFrame(out, columns=list(ACCOUNTING_COLUMNS))
    bad = frame["rows_read"] != frame["rows_kept"] + frame["rows_excluded"]
    if bad.any():  # an internal invariant, not user input
        raise RuntimeError(f"row accounting does not add up:\n{frame[bad]}")
    return frame
