"""Text from the data must never run as a formula when a report is opened in a spreadsheet.

A cell starting with = + - @ (or a tab/carriage return) is prefixed with an apostrophe
(OWASP "CSV injection"); applied column-wise to every text column of a report table.
A workbook additionally cannot store most C0 control characters (XML 1.0 forbids them), so
`workbook_text_frame` shows them as U+FFFD instead of letting the whole report fail.
"""

from __future__ import annotations

import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# XML 1.0 section 2.2 Char: of the C0 controls only tab, line feed and carriage return are allowed
# (the same set openpyxl rejects with IllegalCharacterError).
UNSTORABLE_IN_WORKBOOK = r"[\x00-\x08\x0b\x0c\x0e-\x1f]"
REPLACEMENT_CHARACTER = "\ufffd"


def _text_columns(frame: pd.DataFrame) -> list[str]:
    return [
        column
        for column in frame.columns
        if not (pd.api.types.is_numeric_dtype(frame[column]) or pd.api.types.is_datetime64_any_dtype(frame[column]))
    ]


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy in which no text cell can start a formula; numbers are left alone."""
    safe = frame.copy(deep=False)  # columns are replaced, never changed in place (copy on write)
    for column in _text_columns(safe):
        values = safe[column]
        text = values.astype("string")
        dangerous = text.str.startswith(FORMULA_STARTS).fillna(False).astype(bool)
        if dangerous.any():
            safe[column] = values.astype("object").where(~dangerous, "'" + text[dangerous])
    return safe


def workbook_text_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy that an .xlsx file can hold: formulas neutralised, control characters shown as U+FFFD.

    A reviewer still sees that the value held an unprintable character; the exact value stays
    in the CSV/JSON reports.
    """
    safe = neutralise_frame(frame)
    for column in _text_columns(safe):
        values = safe[column]
        text = values.astype("string")
        unstorable = text.str.contains(UNSTORABLE_IN_WORKBOOK, regex=True).fillna(False).astype(bool)
        if unstorable.any():
            cleaned = text[unstorable].str.replace(UNSTORABLE_IN_WORKBOOK, REPLACEMENT_CHARACTER, regex=True)
            safe[column] = values.astype("object").where(~unstorable, cleaned)
    return safe
