"""Where every record comes from: the raw file and line behind each record, kept while a
dataset is built and dropped only when it is written.

The reader gives each raw record its physical line (`LINE`); the mapping engine carries the raw
file (`SOURCE_FILE`) and record block (`BLOCK`) beside every SDTM record it makes, so a problem
found later names the line to fix, the reconciliation accounts for every raw record and the
audit trail maps each SDTM record back. `submission_frame` is the one place they go.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from cdisc_cup.spec.model import RawFileSpec

LINE = "__line__"  # the physical line (CSV, header = line 1) or record number (SAS files) of a raw record
SOURCE_FILE = "__file__"  # the raw file a record was built from
BLOCK = "__block__"  # the record block of the dataset spec that built it (for block-level codelists)
TRACE_COLUMNS = (SOURCE_FILE, LINE, BLOCK)


def source_files(files: Sequence[str], file: str | None, records: int) -> pd.Categorical:
    """The SOURCE_FILE column of records from one raw file (or from none): one byte per
    record instead of its file's name, which at 100,000 patients is 5.6 million names
    (150 MB) held to the end of a conversion. The same categories for every block, so
    the blocks of a dataset stack without turning the column into Python objects."""
    dtype = pd.CategoricalDtype(list(files))
    code = -1 if file is None else dtype.categories.get_loc(file)
    return pd.Categorical.from_codes(np.full(records, code, dtype=np.int8), dtype=dtype)


@dataclass
class RawTable:
    """One raw file, typed; `frame` has the declared columns (plus extras) and LINE."""

    spec: RawFileSpec
    path: Path
    frame: pd.DataFrame
    extra_columns: list[str] = field(default_factory=list)
    # Declared columns the file does not have (added empty): an older export format lacks
    # them, and a variable fed only by them is left out of its dataset (VariableSpec.optional).
    absent_columns: frozenset[str] = frozenset()

    @property
    def rows(self) -> int:
        return len(self.frame)


def is_trace_column(name: object) -> bool:
    return name in TRACE_COLUMNS


def submission_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The dataset as submitted: without the trace columns."""
    return frame.drop(columns=[c for c in TRACE_COLUMNS if c in frame.columns])
