"""Validators of the arguments and tables that the public functions check, in one place.

Modelled on arviz-stats ``validate.py`` (validators for common arguments) and pingouin's
``_check_dataframe`` (one data check behind every public function). Every check raises a
:class:`~engagestats.DataValidationError` built by :meth:`~DataValidationError.for_argument`
(an unusable argument: ``file="argument"``, the argument in ``column``) or
:meth:`~DataValidationError.for_columns` (missing columns: the table in ``file``), except
:func:`as_table`, which raises a :class:`TypeError` for data that is neither a
:class:`~engagestats.Study` nor a DataFrame.

One name per concept across the public API: ``data`` is the first argument (a Study or a
DataFrame); ``level`` is a confidence level (``0 < level < 1``); ``client``, ``therapist`` and
``session`` name the key columns (:data:`~engagestats.study.CLIENT` ...). Old names that the
documentation or a notebook once used are accepted by :func:`renamed_arguments`, with a
:class:`DeprecationWarning`.
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Literal, TypeVar

import numpy as np
import pandas as pd

from .errors import DataValidationError
from .study import Study

__all__ = [
    "as_table",
    "check_choice",
    "check_level",
    "check_positive_int",
    "check_prob",
    "renamed_arguments",
    "require_columns",
]

TableKind = Literal["therapists", "clients", "sessions"]
F = TypeVar("F", bound=Callable[..., Any])


def require_columns(
    frame: pd.DataFrame,
    columns: Iterable[str | None],
    *,
    table: str = "data",
    role: str = "required",
) -> None:
    """Raise one :class:`DataValidationError` naming every column missing from ``frame``.

    Parameters
    ----------
    frame : DataFrame
    columns : iterable of str
        The columns needed (``None`` entries are skipped, for optional ones).
    table : str, default "data"
        The table's name in the problems (``file``): ``"sessions"``, ``"clients"``, ``"panel"``.
    role : str, default "required"
        What the columns are for (``"key"``, ``"model"``, ``"score"``), in the problem text.

    Raises
    ------
    TypeError
        When ``frame`` is not a DataFrame.
    DataValidationError
        Listing the missing columns.

    Examples
    --------
    >>> import pandas as pd
    >>> require_columns(pd.DataFrame({"a": [1]}), ["a", "b"], table="sessions")
    Traceback (most recent call last):
    ...
    engagestats.errors.DataValidationError: 1 required column missing from sessions:
      - sessions, column 'b': required column 'b' is missing
    """
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"{table} must be a DataFrame, got {type(frame).__name__}")
    missing = [c for c in dict.fromkeys(columns) if c is not None and c not in frame.columns]
    if missing:
        raise DataValidationError.for_columns({table: missing}, role=role)


def as_table(data: Any, kind: TableKind, *, attended_only: bool = False) -> pd.DataFrame:
    """The ``kind`` table of a :class:`~engagestats.Study`, or the DataFrame itself.

    The one place that interprets a "Study or DataFrame" argument.

    Parameters
    ----------
    data : Study or DataFrame
    kind : {"therapists", "clients", "sessions"}
        The table wanted from a Study (and what a DataFrame is taken to be).
    attended_only : bool, default False
        For the sessions of a Study: keep the attended ones (``attended == 1``), when the
        table records attendance. A DataFrame is returned as it is.

    Returns
    -------
    DataFrame

    Raises
    ------
    TypeError
        When ``data`` is neither a Study nor a DataFrame (the message names both).

    Examples
    --------
    >>> import pandas as pd
    >>> as_table(pd.DataFrame({"client_id": ["C1"]}), "clients").shape
    (1, 1)
    >>> as_table([1, 2], "sessions")
    Traceback (most recent call last):
    ...
    TypeError: data must be a Study or a sessions DataFrame, got list
    """
    if kind not in ("therapists", "clients", "sessions"):
        check_choice(kind, ("therapists", "clients", "sessions"), name="kind")
    if isinstance(data, Study):
        table = getattr(data, kind)
        if attended_only and kind == "sessions" and "attended" in table.columns:
            table = table.loc[table["attended"] == 1]
        return table
    if isinstance(data, pd.DataFrame):
        return data
    raise TypeError(f"data must be a Study or a {kind} DataFrame, got {type(data).__name__}")


def check_choice(value: Any, choices: Sequence[Any], *, name: str) -> Any:
    """``value`` when it is one of ``choices``; else a :class:`DataValidationError`.

    Examples
    --------
    >>> check_choice("row", ("row", "value"), name="method")
    'row'
    >>> check_choice("rows", ("row", "value"), name="method")
    Traceback (most recent call last):
    ...
    engagestats.errors.DataValidationError: Invalid argument 'method':
      - argument, column 'method': method must be 'row' or 'value' (value 'rows')
    """
    try:
        ok = value in choices
    except TypeError:  # an unhashable value checked against a set or mapping
        ok = False
    if not ok:
        names = [repr(c) for c in choices]
        alternatives = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"
        raise DataValidationError.for_argument(name, value, f"{name} must be {alternatives}")
    return value


def _real(value: Any) -> float | None:
    """``value`` as a finite float, or None when it is not a finite real number."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        return None
    x = float(value)
    return x if math.isfinite(x) else None


def check_level(level: Any, *, name: str = "level") -> float:
    """A confidence level as a float, ``0 < level < 1``; else a :class:`DataValidationError`.

    Examples
    --------
    >>> check_level(0.9)
    0.9
    >>> check_level(95)
    Traceback (most recent call last):
    ...
    engagestats.errors.DataValidationError: Invalid argument 'level':
      - argument, column 'level': level must be a confidence level between 0 and 1 (e.g. 0.95) (value '95')
    """  # noqa: E501
    x = _real(level)
    if x is None or not 0 < x < 1:
        raise DataValidationError.for_argument(
            name, level, f"{name} must be a confidence level between 0 and 1 (e.g. 0.95)"
        )
    return x


def check_prob(
    value: Any,
    *,
    name: str,
    closed: Literal["neither", "left", "right", "both"] = "both",
) -> float:
    """A probability or share as a float, in the interval ``closed`` names.

    Parameters
    ----------
    value : float
    name : str
        The argument's name, for the problem.
    closed : {"neither", "left", "right", "both"}, default "both"
        Which ends belong to the interval: ``"right"`` is (0, 1], ``"neither"`` (0, 1).

    Examples
    --------
    >>> check_prob(1.0, name="min_dose", closed="right")
    1.0
    >>> check_prob(0, name="min_dose", closed="right")
    Traceback (most recent call last):
    ...
    engagestats.errors.DataValidationError: Invalid argument 'min_dose':
      - argument, column 'min_dose': min_dose must be a share in (0, 1] (value '0')
    """
    x = _real(value)
    left = closed in ("left", "both")
    right = closed in ("right", "both")
    ok = x is not None and (x >= 0 if left else x > 0) and (x <= 1 if right else x < 1)
    if not ok:
        interval = f"{'[' if left else '('}0, 1{']' if right else ')'}"
        raise DataValidationError.for_argument(name, value, f"{name} must be a share in {interval}")
    return float(x)  # type: ignore[arg-type]


def check_positive_int(value: Any, *, name: str, minimum: int = 1, what: str = "") -> int:
    """A whole number ``>= minimum`` (1 by default) as an int; else a DataValidationError.

    Booleans and floats are refused, even ``2.0``.

    ``what`` adds a few words on the argument's meaning to the problem text.

    Examples
    --------
    >>> check_positive_int(3, name="k")
    3
    >>> check_positive_int(0, name="k", what="the lag in occasions")
    Traceback (most recent call last):
    ...
    engagestats.errors.DataValidationError: Invalid argument 'k':
      - argument, column 'k': k must be a positive integer (the lag in occasions) (value '0')
    """
    ok = not isinstance(value, bool) and isinstance(value, int | np.integer) and value >= minimum
    if not ok:
        note = f" ({what})" if what else ""
        kind = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise DataValidationError.for_argument(name, value, f"{name} must be {kind}{note}")
    return int(value)


def renamed_arguments(**renames: str | tuple[str, Callable[[Any], Any]]) -> Callable[[F], F]:
    """Accept old keyword names, with a :class:`DeprecationWarning` (a shim).

    Used only where the documentation or a notebook once showed the old name. Each
    keyword maps an old name to the new one, or to ``(new name, converter)`` when the
    value changes meaning too (``z=1.96`` becomes ``level=0.95``).

    Examples
    --------
    >>> import warnings
    >>> @renamed_arguments(by="client")
    ... def f(data, *, client="client_id"):
    ...     return client
    >>> with warnings.catch_warnings(record=True) as w:
    ...     warnings.simplefilter("always")
    ...     f(None, by="id")
    'id'
    >>> str(w[0].message)
    'f(): the keyword by= is deprecated; use client= instead'
    """

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            for old, target in renames.items():
                if old not in kwargs:
                    continue
                new, convert = (target, None) if isinstance(target, str) else target
                if new in kwargs:
                    raise TypeError(f"{func.__name__}() got both {old}= and {new}=; use {new}=")
                warnings.warn(
                    f"{func.__name__}(): the keyword {old}= is deprecated; use {new}= instead",
                    DeprecationWarning,
                    stacklevel=2,
                )
                value = kwargs.pop(old)
                kwargs[new] = convert(value) if convert is not None else value
            return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate
