"""CSV files of text and integer columns written by Arrow in C, byte for byte what pandas'
`to_csv(index=False)` writes: pandas hands every value to Python's csv writer, which for the
1.7 million administration rows of a 100,000-patient export (the audit trail's extra
columns) or the 230,000 findings of CORE's rules there takes a second or more.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

# Python's csv writer (pandas' `to_csv`) quotes a field holding the delimiter, the quote or a line end.
_NEEDS_QUOTES = r'[",\r\n]'
_QUOTE, _COMMA, _LINE_END, _NOTHING = (pa.scalar(text, pa.large_string()) for text in ('"', ",", "\n", ""))


def _csv_field(values: pd.Series) -> pa.Array:
    """One column as CSV fields the way `to_csv` writes them: missing empty, the quote doubled
    inside a quoted field."""
    text = pc.fill_null(pa.array(values.astype("string"), type=pa.large_string()), "")
    needs_quotes = pc.match_substring_regex(text, _NEEDS_QUOTES)
    if not pc.any(needs_quotes).as_py():
        return text
    quoted = pc.binary_join_element_wise(_QUOTE, pc.replace_substring(text, '"', '""'), _QUOTE, _NOTHING)
    return pc.if_else(needs_quotes, quoted, text)


def write_text_csv(frame: pd.DataFrame, path: Path) -> None:
    """The bytes `frame.to_csv(path, index=False)` writes for text and integer columns, each
    line joined by Arrow in C: pandas hands every value to Python's csv writer, which at the
    1.7 million administration rows of a 100,000-patient export takes seconds."""
    assert len(frame.columns) > 1, "a one-column CSV quotes an empty line; not needed here"
    header = pd.DataFrame({column: [str(column)] for column in frame.columns})
    with path.open("wb") as out:
        for part in (header, frame):
            fields = [_csv_field(part[column]) for column in part.columns]
            lines = pc.binary_join_element_wise(*fields, _COMMA)
            lines = pc.binary_join_element_wise(lines, _LINE_END, _NOTHING)
            for chunk in lines.chunks if isinstance(lines, pa.ChunkedArray) else [lines]:
                if len(chunk):  # the lines are back to back in the chunk's value buffer
                    _, offsets, data = chunk.buffers()
                    bounds = np.frombuffer(offsets, dtype=np.int64, count=len(chunk) + 1, offset=8 * chunk.offset)
                    out.write(memoryview(data)[bounds[0] : bounds[-1]])
