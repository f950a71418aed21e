"""Reading, validating, writing and reshaping study data.

Public functions: :func:`load_study`, :func:`write_study`,
:func:`wide_to_long` and :func:`codebook` (the built-in schema as a table).
"""

from __future__ import annotations

from .load import load_study
from .reshape import wide_to_long
from .schema import codebook, table_schema
from .write import write_study

__all__ = ["codebook", "load_study", "table_schema", "wide_to_long", "write_study"]
