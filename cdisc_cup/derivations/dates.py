"""ISO 8601 dates and study days, vectorised.

SDTM keeps dates as ISO 8601 text because they may be partial (`2020-07`, `2020`);
arithmetic needs complete dates, so `complete_dates` turns only full `YYYY-MM-DD` values
into datetime64 and leaves partial ones missing (FORMAT.md: study days are computed only
from complete dates).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cdisc_cup.columns import iso_dates_to_datetime

ISO_DATE = r"^\d{4}(-\d{2}(-\d{2})?)?$"


def complete_dates(iso: pd.Series) -> pd.Series:
    """datetime64 for complete ISO dates (first 10 characters of a date-time), NaT otherwise."""
    return iso_dates_to_datetime(iso)


def iso_dates(dates: pd.Series) -> pd.Series:
    """ISO 8601 text of datetime64 values (numpy formats them without a Python loop)."""
    values = dates.to_numpy(dtype="datetime64[D]")
    text = pd.Series(np.datetime_as_string(values, unit="D"), index=dates.index, dtype="string")
    return text.where(dates.notna())


def study_day(dates: pd.Series, reference: pd.Series) -> pd.Series:
    """SDTMIG 3.4 section 4.4.4: day 1 is the reference date, the day before is -1, no day 0.

    Both arguments are ISO 8601 text; a partial or missing date gives a missing study day.
    """
    delta = (complete_dates(dates) - complete_dates(reference)).dt.days
    day = delta + (delta >= 0).astype("float64")
    return pd.Series(day, index=dates.index, dtype="Float64")


def earliest_possible(iso: pd.Series) -> pd.Series:
    """Impute a partial ISO date to the first day it allows (`2020-07` -> 2020-07-01)."""
    text = iso.astype("string")
    padded = text.where(text.str.len() != 7, text + "-01")
    padded = padded.where(padded.str.len() != 4, padded + "-01-01")
    return complete_dates(padded)


def latest_possible(iso: pd.Series) -> pd.Series:
    """Impute a partial ISO date to the last day it allows (`2020-02` -> 2020-02-29)."""
    text = iso.astype("string")
    first = earliest_possible(text)
    month_end = first + pd.offsets.MonthEnd(0)
    year_end = first + pd.offsets.YearEnd(0)
    length = text.str.len()
    return first.where(length == 10, month_end.where(length == 7, year_end.where(length == 4)))
