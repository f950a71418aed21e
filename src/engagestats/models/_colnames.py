"""Column names as R gives them, and the coding of text columns handed to patsy."""

from __future__ import annotations

import re

import pandas as pd
import patsy

from ..errors import ModelSpecError

__all__ = ["as_categories", "coded", "lme4_name", "r_column_names"]


def _split_colon(name: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(name):
        depth += ch in "(["
        depth -= ch in ")]"
        if ch == ":" and depth == 0:
            parts.append(name[start:i])
            start = i + 1
    parts.append(name[start:])
    return parts


def _lme4_piece(piece: str) -> str:
    if piece == "Intercept":
        return "(Intercept)"
    m = re.match(r"^(.*)\[(?:T\.)?(.*)\]$", piece)
    if m:
        level = {"True": "TRUE", "False": "FALSE"}.get(m.group(2), m.group(2))
        return m.group(1) + level
    return piece


def lme4_name(patsy_name: str) -> str:
    """Translate a patsy column name to lme4's.

    Examples
    --------
    >>> [lme4_name(n) for n in ["Intercept", "stage[T.action]", "session:stage[T.action]"]]
    ['(Intercept)', 'stageaction', 'session:stageaction']
    """
    return ":".join(_lme4_piece(p) for p in _split_colon(patsy_name))


def _r_piece(piece: str, factors: dict[str, tuple[str, str, int]]) -> str:
    """R's name of one factor's column: ``poly(Days, 2)1``, ``factor(Days)3``, ``urbanY``."""
    if piece == "Intercept":
        return "(Intercept)"
    for pname in sorted(factors, key=len, reverse=True):
        if piece.startswith(pname) and (len(piece) == len(pname) or piece[len(pname)] == "["):
            rname, kind, ncol = factors[pname]
            rest = piece[len(pname) :]
            if not rest:
                return rname
            inner = rest[1:-1]
            if kind == "numerical":
                return rname + (str(int(inner) + 1) if ncol > 1 else "")
            level = re.sub(r"^[A-Z]\.", "", inner)
            return rname + {"True": "TRUE", "False": "FALSE"}.get(level, level)
    return lme4_name(piece)


def r_column_names(info: patsy.DesignInfo, r_names: dict[str, str]) -> list[str]:
    """R's names of the columns of a patsy matrix built from translated R terms."""
    factors = {
        f.name(): (r_names.get(f.name(), f.name()), fi.type, fi.num_columns or 1)
        for f, fi in info.factor_infos.items()
    }
    return [":".join(_r_piece(p, factors) for p in _split_colon(c)) for c in info.column_names]


def as_categories(frame: pd.DataFrame, exclude: set[str]) -> tuple[pd.DataFrame, dict[str, list]]:
    """Text columns as pandas Categoricals with sorted levels (patsy codes those fast).

    patsy's own sniffing of a text column loops in Python (0.6 s per 100 000 rows);
    its levels are the same sorted values, so the design is unchanged.
    """
    cats: dict[str, list] = {}
    out = {}
    for col in frame.columns:
        values = frame[col]
        if (
            col in exclude
            or isinstance(values.dtype, pd.CategoricalDtype)
            or not (pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values))
        ):
            continue
        uniq = pd.unique(values.to_numpy(dtype=object))
        if not all(isinstance(v, str) for v in uniq):
            continue
        cats[col] = sorted(uniq)
        out[col] = pd.Categorical(values.to_numpy(dtype=object), categories=cats[col])
    if not out:
        return frame, cats
    return frame.assign(**out), cats


def coded(categories: dict[str, list] | None, newdata: pd.DataFrame) -> pd.DataFrame:
    """``newdata`` with the text columns coded as in the fit; an unseen level is an error."""
    if not categories or not isinstance(newdata, pd.DataFrame):
        return newdata
    out = {}
    for col, levels in categories.items():
        if col not in newdata.columns:
            continue
        values = newdata[col].to_numpy(dtype=object)
        unseen = sorted({str(v) for v in values if not pd.isna(v)} - set(levels))
        if unseen:
            raise ModelSpecError(
                f"newdata column {col!r} has level(s) {', '.join(map(repr, unseen[:5]))} not "
                f"seen in the fitted data ({', '.join(map(repr, levels))})"
            )
        out[col] = pd.Categorical(values, categories=levels)
    return newdata.assign(**out) if out else newdata
