"""Reading, validating, writing and reshaping study data.

Public functions: :func:`load_study`, :func:`write_study`,
:func:`wide_to_long`, :func:`codebook` (the built-in schema as a table), and the
export readers :func:`read_qualtrics` and :func:`read_redcap`.
"""

from __future__ import annotations

from .exports import example_export, read_qualtrics, read_redcap
from .load import load_study
from .reshape import wide_to_long
from .schema import codebook, table_schema
from .write import write_study

__all__ = [
    "codebook",
    "example_export",
    "load_study",
    "read_qualtrics",
    "read_redcap",
    "table_schema",
    "wide_to_long",
    "write_study",
]
