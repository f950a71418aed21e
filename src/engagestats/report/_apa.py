"""APA-style (7th ed.) formatting of numbers and tables for the report's pages.

The full-precision CSVs are written unchanged; this module only decides what a
reader sees in ``report.html``, ``report.md`` and ``report.docx``.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..io.write import FORMULA_START

__all__ = [
    "ApaTable",
    "apa_html",
    "apa_table",
    "format_ci",
    "format_df",
    "format_number",
    "format_p",
    "neutralise_formula",
    "shorten",
]

#: Longest text shown in a table cell (prose columns) and in a header or label cell;
#: longer text is cut with an ellipsis (the CSV keeps it whole).
PROSE_LIMIT, LABEL_LIMIT = 400, 60
PROSE_COLUMNS = frozenset({"interpretation", "effect", "reason", "note", "notes", "description"})

_P = frozenset({"p", "p_value", "pvalue", "p_adj", "p_adjusted"})
_SE = frozenset({"se", "std_error", "std_err", "se_estimate"})
_DF = frozenset({"df", "ddf", "df_num", "df_den", "df_resid"})
_STAT = frozenset({"t", "z", "f", "chi2", "statistic", "wald"})
_BOUNDED = frozenset(
    {"rate", "alpha", "omega", "omega_total", "icc", "r", "r2", "proportion", "share"}
)
_ESTIMATE = frozenset({"estimate", "b", "coef", "coefficient", "odds_ratio"}) | _SE
_COUNT = frozenset({"n", "k", "count", "clients", "sessions", "rows", "n_items"})

#: Readable headers; ``True`` marks a statistical symbol set in italics (APA 7, 6.45).
HEADERS: dict[str, tuple[str, bool]] = {
    "estimate": ("Estimate", False),
    "se": ("SE", True),
    "df": ("df", True),
    "t": ("t", True),
    "z": ("z", True),
    "p": ("p", True),
    "n": ("n", True),
    "k": ("k", True),
    "count": ("n", True),
    "mean": ("M", True),
    "std": ("SD", True),
    "sd": ("SD", True),
    "median": ("Mdn", True),
    "min": ("Min", False),
    "max": ("Max", False),
    "alpha": ("α", False),
    "omega_total": ("ω (total)", False),
    "odds_ratio": ("OR", False),
    "n_items": ("Items", False),
    "n_clients": ("Clients", False),
    "n_rows": ("Rows", False),
}
ITALIC = frozenset(text for text, italic in HEADERS.values() if italic)


def format_p(p: float) -> str:
    """A p value in APA style: three decimals, no leading zero, ``"< .001"`` below .001.

    Examples
    --------
    >>> [format_p(p) for p in (4.855e-35, 0.0218, 0.5, 0.99995, float("nan"))]
    ['< .001', '.022', '.500', '> .999', '']
    """
    if p is None or not np.isfinite(p):
        return ""
    if p < 0.001:
        return "< .001"
    if p >= 0.9995:
        return "> .999"
    return f"{p:.3f}".lstrip("0")


def _decimals(x: float, sig: int) -> int:
    """Decimals that show ``sig`` significant digits of ``x``, between 2 and 6."""
    if x == 0 or not np.isfinite(x):
        return 2
    return int(min(6, max(2, sig - 1 - math.floor(math.log10(abs(x))))))


def _fixed(x: float, decimals: int, *, bounded: bool = False) -> str:
    text = f"{x:,.{decimals}f}"
    if text.lstrip("-").strip("0.,") == "":
        text = text.lstrip("-")  # no "-0.00"
    if bounded:
        text = text.replace("0.", ".", 1) if text.lstrip("-").startswith("0.") else text
    return text


def format_number(
    x: float, *, decimals: int | None = None, bounded: bool = False, integer: bool = False
) -> str:
    """A number for a table cell.

    Parameters
    ----------
    x : float
        The value; missing values give ``""``.
    decimals : int, optional
        Fixed decimals; by default three significant digits with 2 to 6 decimals
        (below 1e-4 or from 1e6 on, scientific notation).
    bounded : bool, default False
        A statistic that cannot exceed 1 in absolute value (proportion, alpha,
        correlation): printed without a leading zero (APA 7, 6.36).
    integer : bool, default False
        A count: no decimals, with a thousands separator.

    Examples
    --------
    >>> format_number(0.8794, bounded=True), format_number(4162.0, integer=True)
    ('.88', '4,162')
    >>> format_number(-0.013632), format_number(15.4332), format_number(2.5e-7)
    ('-0.0136', '15.43', '2.50e-07')
    """
    if x is None or pd.isna(x):
        return ""
    x = float(x)
    if not np.isfinite(x):
        return "∞" if x > 0 else "-∞"
    if integer:
        return f"{x:,.0f}"
    if decimals is None:
        if x != 0 and (abs(x) < 1e-4 or abs(x) >= 1e6):
            return f"{x:.2e}"
        decimals = _decimals(x, 2 if bounded else 3)
    return _fixed(x, decimals, bounded=bounded)


def format_ci(low: float, high: float, **kwargs) -> str:
    """A confidence interval in brackets, ``"[low, high]"`` (APA 7, 6.44).

    Examples
    --------
    >>> format_ci(-1.1634, -0.2217, decimals=2)
    '[-1.16, -0.22]'
    """
    if pd.isna(low) and pd.isna(high):
        return ""
    return f"[{format_number(low, **kwargs)}, {format_number(high, **kwargs)}]"


def format_df(df: float) -> str:
    """Degrees of freedom: whole numbers as integers, others to one decimal.

    Examples
    --------
    >>> format_df(313.0432), format_df(28.0)
    ('313.0', '28')
    """
    if df is None or pd.isna(df):
        return ""
    return f"{df:,.0f}" if float(df).is_integer() else f"{df:,.1f}"


def shorten(text: str, limit: int = LABEL_LIMIT) -> str:
    """``text`` on one line, cut to ``limit`` characters with an ellipsis.

    Examples
    --------
    >>> shorten("a" * 70, 10)
    'aaaaaaaaa…'
    """
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def neutralise_formula(value: object) -> object:
    """Text that a spreadsheet would run as a formula, made inert with a leading ``'``.

    Cells starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return are
    formulas to Excel, LibreOffice and Google Sheets (OWASP "CSV injection").
    Numbers and other text are returned unchanged.

    Examples
    --------
    >>> neutralise_formula("=HYPERLINK(1)"), neutralise_formula("cbt"), neutralise_formula(-1.5)
    ("'=HYPERLINK(1)", 'cbt', -1.5)
    """
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _kind(name: str) -> str:
    low = name.lower()
    if low in _P or low.endswith("_p"):
        return "p"
    if low in _SE:
        return "se"
    if low in _DF:
        return "df"
    if low in _STAT:
        return "stat"
    if low in _BOUNDED or low.endswith(("_rate", "_share", "_proportion")):
        return "bounded"
    if low in _COUNT or low.startswith("n_") or low.endswith("_count"):
        return "count"
    return "number"


def header(name: str) -> str:
    """A readable header for a snake_case column name (shortened, one line)."""
    name = str(name)
    if name in HEADERS:
        return HEADERS[name][0]
    words = shorten(name).replace("_", " ").strip()
    if words.startswith("n "):
        return words
    return words[:1].upper() + words[1:]


@dataclass
class ApaTable:
    """A formatted table: text cells with readable headers, and which headers are symbols."""

    frame: pd.DataFrame
    italic: frozenset[str]
    full_text: dict[tuple[int, int], str]
    numeric: tuple[bool, ...]

    def is_italic(self, column: str) -> bool:
        return column in self.italic


def _ci_pairs(columns: Iterable[str]) -> dict[str, str]:
    cols = list(columns)
    return {c: c[: -len("ci_low")] + "ci_high" for c in cols if c.endswith("ci_low")}


def apa_table(frame: pd.DataFrame) -> pd.DataFrame:
    """A results table formatted for a publication (APA 7): text cells, readable headers.

    Parameters
    ----------
    frame : DataFrame
        A tidy results table, e.g. ``OutcomeModel.table()`` or any table of the
        report (the columns' names give their kind).

    Returns
    -------
    DataFrame
        Strings only. p values as ``"< .001"``/``".022"``; estimates, their SEs and
        CI limits to the decimals that show two significant digits of the SE (at
        least two), so an SE is never shown as ``0.00``; proportions, alphas and
        rates without a leading zero; ``ci_low``/``ci_high`` merged into one
        ``95% CI`` column ``[low, high]``; df as integers or to one decimal;
        counts with thousands separators; text on one line and cut with an
        ellipsis past 60 characters (400 in prose columns such as
        ``interpretation``).

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"term": ["time"], "estimate": [-0.35042], "se": [0.015176],
    ...                   "df": [222.66], "t": [-23.09], "p": [5.2e-61],
    ...                   "ci_low": [-0.38032], "ci_high": [-0.32051]})
    >>> apa_table(t).iloc[0].tolist()
    ['time', '-0.350', '0.015', '222.7', '-23.09', '< .001', '[-0.380, -0.321]']
    >>> list(apa_table(t).columns)
    ['Term', 'Estimate', 'SE', 'df', 't', 'p', '95% CI']
    """
    return _format(frame).frame


def _format(frame: pd.DataFrame) -> ApaTable:
    cols = [str(c) for c in frame.columns]
    data = frame.set_axis(cols, axis=1).reset_index(drop=True)
    pairs = {lo: hi for lo, hi in _ci_pairs(cols).items() if hi in cols}
    highs = set(pairs.values())
    est_for = {lo: lo[: -len("ci_low")].rstrip("_") or "estimate" for lo in pairs}
    bounded_table = any(_kind(c) == "bounded" for c in cols) and "estimate" not in cols
    out: dict[str, list[str]] = {}
    full: dict[tuple[int, int], str] = {}
    italic: set[str] = set()
    numeric: list[bool] = []
    decimals = [_row_decimals(data.iloc[i]) for i in range(len(data))]
    for j, col in enumerate(c for c in cols if c not in highs):
        if col in pairs:
            est = est_for[col]
            est = "odds_ratio" if est == "or" else est
            name = "95% CI" if est == "estimate" else f"{header(est)} 95% CI"
            bounded = bounded_table and est == "estimate"
            values = []
            for i in range(len(data)):
                lo, hi = data.at[i, col], data.at[i, pairs[col]]
                if est == "estimate" and not bounded:
                    values.append(format_ci(lo, hi, decimals=decimals[i]))
                else:
                    small = [abs(v) for v in (_num(lo), _num(hi)) if 0 < abs(v) < 0.01]
                    d = min(4, max(_decimals(v, 2) for v in small)) if small else 2
                    values.append(format_ci(lo, hi, decimals=d, bounded=bounded))
            out[name] = values
            numeric.append(True)
            continue
        name = header(col)
        while name in out:
            name += " "
        if HEADERS.get(col, ("", False))[1]:
            italic.add(name)
        out[name] = _format_column(data, col, decimals, full, j)
        s = data[col]
        numeric.append(pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s))
    frame_out = pd.DataFrame(out, dtype=object, index=range(len(data)))
    return ApaTable(frame_out, frozenset(italic), full, tuple(numeric))


def _num(x: object) -> float:
    try:
        return float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return float("nan")


def _row_decimals(row: pd.Series) -> int | None:
    """Decimals for an estimate row: two significant digits of its SE (None: no SE)."""
    for c in row.index:
        if _kind(str(c)) == "se":
            se = _num(row[c])
            if np.isfinite(se) and se > 0:
                return _decimals(se, 2)
    return None


def _format_column(
    data: pd.DataFrame, col: str, decimals: list, full: dict[tuple[int, int], str], j: int
) -> list[str]:
    s = data[col]
    kind = _kind(col)
    numeric = pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)
    if not numeric:
        limit = PROSE_LIMIT if col.lower() in PROSE_COLUMNS else LABEL_LIMIT
        values = []
        for i, v in enumerate(s):
            text = "" if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v)
            short = shorten(text, limit)
            if short != " ".join(text.split()):
                full[(i, j)] = text
            values.append(short)
        return values
    x = s.to_numpy(dtype=float)
    finite = x[np.isfinite(x)]
    all_integral = finite.size > 0 and bool(np.all(finite == np.round(finite)))
    if kind == "p":
        return [format_p(v) for v in x]
    if kind == "df":
        return [format_df(v) for v in x]
    if kind == "stat":
        return [format_number(v, decimals=2) for v in x]
    if kind == "count" or (all_integral and kind == "number" and col not in HEADERS):
        if all_integral:
            return [format_number(v, integer=True) for v in x]
    if kind == "bounded":
        return [format_number(v, bounded=True) for v in x]
    values = []
    for i, v in enumerate(x):
        if decimals[i] is not None and col.lower() in _ESTIMATE:
            values.append(format_number(v, decimals=decimals[i]))
        elif np.isfinite(v) and v == round(v) and kind in ("number", "count"):
            values.append(format_number(v, integer=True) if abs(v) >= 1 else "0")
        else:
            values.append(format_number(v))
    return values


def apa_html(frame: pd.DataFrame, *, number: int | None = None, caption: str = "") -> str:
    """A results table as an APA-style HTML table (see :func:`apa_table` for the cells).

    The label ``Table N`` and the italic title go in the caption; statistical
    symbols in the header are italic; every text is HTML-escaped, and a cell cut
    for length keeps its whole text as its ``title`` (tooltip). Style it with the
    ``table.apa`` rules of ``report.html``.

    Examples
    --------
    >>> import pandas as pd
    >>> page = apa_html(pd.DataFrame({"term": ["<b>"], "p": [0.0004]}), number=1, caption="T")
    >>> '<td class="text">&lt;b&gt;</td>' in page, '<th scope="col"><i>p</i></th>' in page
    (True, True)
    """
    if frame.shape[1] == 0:
        frame = pd.DataFrame({"": ["No data."]})
    table: ApaTable = _format(frame)
    apa = table.frame
    num = table.numeric
    head = "".join(f'<th scope="col">{_header_html(c, table)}</th>' for c in apa.columns)
    rows = []
    for i, row in enumerate(apa.itertuples(index=False)):
        cells = []
        for j, (value, is_num) in enumerate(zip(row, num, strict=True)):
            full = table.full_text.get((i, j))
            title = f' title="{html.escape(full)}"' if full else ""
            cls = "num" if is_num else "text"
            cells.append(f'<td class="{cls}"{title}>{html.escape(str(value))}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    cap = ""
    if number is not None or caption:
        label = f'<span class="label">Table {number}</span>' if number is not None else ""
        cap = f'<caption>{label}<span class="title">{html.escape(caption)}</span></caption>'
    return (
        f'<table class="apa">{cap}<thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _header_html(name: str, table: ApaTable) -> str:
    text = html.escape(name)
    return f"<i>{text}</i>" if name in table.italic or name in ITALIC else text
