"""Text from the data must never run as a formula when a report is opened in a spreadsheet.

A cell starting with = + - @ (or a tab/carriage return) is prefixed with an apostrophe
(OWASP "CSV injection"); applied column-wise to every text column of a report table.
"""

from __future__ import annotations

import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy in which no text cell can start a formula; numbers are left alone."""
    safe = frame.copy()
    for column in safe.columns:
        values = safe[column]
        if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_datetime64_any_dtype(values):
            continue
        text = values.astype("string")
        dangerous = text.str.startswith(FORMULA_STARTS).fillna(False).astype(bool)
        if dangerous.any():
            safe[column] = values.astype("object").where(~dangerous, "'" + text[dangerous])
    return safe
