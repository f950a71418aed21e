"""Exceptions and warnings raised by engagestats.

Every error that engagestats raises on purpose derives from
:class:`EngageStatsError`, so ``except es.EngageStatsError`` catches all of
them. The concrete classes also derive from the matching built-in
(``ValueError``, ``KeyError``) so generic handlers keep working.

Hierarchy::

    EngageStatsError
    ├── DataValidationError   (ValueError; .problems DataFrame)
    ├── InstrumentError       (ValueError)
    └── ModelSpecError        (ValueError)
        └── FormulaError

    EngageStatsWarning (UserWarning)
    ├── ConvergenceWarning
    ├── SingularFitWarning
    └── DataWarning
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

__all__ = [
    "PROBLEM_COLUMNS",
    "ConvergenceWarning",
    "DataValidationError",
    "DataWarning",
    "EngageStatsError",
    "EngageStatsWarning",
    "FormulaError",
    "InstrumentError",
    "ModelSpecError",
    "SingularFitWarning",
]

#: Columns of :attr:`DataValidationError.problems`.
PROBLEM_COLUMNS = ("file", "row", "column", "value", "problem")


class EngageStatsError(Exception):
    """Base class of every error raised by engagestats."""


class DataValidationError(EngageStatsError, ValueError):
    """Input data failed validation.

    All problems found are collected before raising, so one run shows
    everything that needs fixing.

    Parameters
    ----------
    problems : DataFrame or iterable of mappings
        One row per problem with the columns ``file`` (file name, or the
        table name for in-memory data), ``row`` (the line number in the file,
        the header being line 1; for in-memory data the index label),
        ``column``, ``value`` (the offending value, as text) and ``problem``
        (what was expected).
    message : str, optional
        A headline; by default it counts the problems.

    Attributes
    ----------
    problems : DataFrame
        The problems, one per row, in the columns listed above.
    column_summary : DataFrame
        Set only by ``load_study``: the problems counted per file, column and
        problem (columns ``file``, ``column``, ``problem``, ``n``, ``hint``).
    """

    max_shown = 10
    # Declared, not defined: instances from load_study set it; others have no such attribute.
    column_summary: pd.DataFrame

    @classmethod
    def for_argument(cls, name: str, value: Any, problem: str) -> DataValidationError:
        """An unusable function argument: one problem row naming it (``file="argument"``).

        Examples
        --------
        >>> err = DataValidationError.for_argument("k", 0, "k must be a positive integer")
        >>> err.problems[["file", "column", "value"]].iloc[0].tolist()
        ['argument', 'k', '0']
        """
        text = value if isinstance(value, str) else repr(value)
        row = {"file": "argument", "row": None, "column": name, "value": text, "problem": problem}
        return cls([row], f"Invalid argument {name!r}")

    @classmethod
    def for_file(
        cls,
        file: str,
        problem: str,
        *,
        row: int | None = None,
        column: str | None = None,
        message: str | None = None,
    ) -> DataValidationError:
        """A file (or folder) that cannot be used as a whole: one problem row naming it.

        Examples
        --------
        >>> err = DataValidationError.for_file("clients.csv", "the file is empty")
        >>> err.problems[["file", "problem"]].iloc[0].tolist()
        ['clients.csv', 'the file is empty']
        """
        row_ = {"file": file, "row": row, "column": column, "value": None, "problem": problem}
        return cls([row_], message or f"Cannot read {file}")

    @classmethod
    def for_columns(
        cls, missing: Mapping[str, Iterable[str]], *, role: str = "required"
    ) -> DataValidationError:
        """Columns missing from tables: one problem row per column (``file`` = the table).

        Parameters
        ----------
        missing : mapping of str to iterable of str
            Table name (``"sessions"``, ``"clients"``, ``"data"`` for a user's
            DataFrame ...) to the columns it lacks.
        role : str, default "required"
            What the columns are for, in the problem text (``"key"``, ``"model"``).

        Examples
        --------
        >>> err = DataValidationError.for_columns({"sessions": ["session"]}, role="key")
        >>> err.problems[["file", "column", "problem"]].iloc[0].tolist()
        ['sessions', 'session', "key column 'session' is missing"]
        """
        missing = {str(t): [str(c) for c in cols] for t, cols in missing.items()}
        rows = [
            {
                "file": table,
                "row": None,
                "column": c,
                "value": None,
                "problem": f"{role} column {c!r} is missing",
            }
            for table, columns in missing.items()
            for c in columns
        ]
        tables = ", ".join(t for t, cols in missing.items() if cols)
        plural = "s" if len(rows) != 1 else ""
        return cls(rows, f"{len(rows)} {role} column{plural} missing from {tables}")

    def __init__(
        self,
        problems: pd.DataFrame | Iterable[Mapping[str, Any]],
        message: str | None = None,
    ) -> None:
        frame = pd.DataFrame(list(problems) if not isinstance(problems, pd.DataFrame) else problems)
        for col in PROBLEM_COLUMNS:
            if col not in frame.columns:
                frame[col] = None
        self.problems = frame.loc[:, list(PROBLEM_COLUMNS)].reset_index(drop=True)
        n = len(self.problems)
        head = message or f"{n} problem{'s' if n != 1 else ''} found in the input data"
        super().__init__(self._format(head))

    def _format(self, head: str) -> str:
        lines = [head + ":"]
        for rec in self.problems.head(self.max_shown).itertuples(index=False):
            where = [str(rec.file)] if rec.file is not None else []
            if rec.row is not None and not (isinstance(rec.row, float) and pd.isna(rec.row)):
                where.append(f"row {rec.row}")
            if rec.column is not None:
                where.append(f"column {rec.column!r}")
            value = "" if rec.value is None else f" (value {rec.value!r})"
            lines.append(f"  - {', '.join(where)}: {rec.problem}{value}")
        extra = len(self.problems) - self.max_shown
        if extra > 0:
            lines.append(f"  ... and {extra} more (see the .problems DataFrame)")
        return "\n".join(lines)


class InstrumentError(EngageStatsError, ValueError):
    """An instrument definition is invalid, unknown, or does not fit the data."""


class ModelSpecError(EngageStatsError, ValueError):
    """A model cannot be built from the given formula and data."""


class FormulaError(ModelSpecError):
    """A model formula could not be parsed."""


class EngageStatsWarning(UserWarning):
    """Base class of every warning issued by engagestats."""


class ConvergenceWarning(EngageStatsWarning):
    """An optimiser stopped without meeting its convergence criteria."""


class SingularFitWarning(EngageStatsWarning):
    """A variance component was estimated on its boundary (a singular fit)."""


class DataWarning(EngageStatsWarning):
    """Data were usable but something deserves the user's attention."""
