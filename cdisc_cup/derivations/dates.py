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


def day_after(dates: pd.Series) -> pd.Series:
    """The ISO 8601 date one day after each complete date; missing for partial or missing ones."""
    return iso_dates(complete_dates(dates) + pd.Timedelta(days=1))


def study_day(dates: pd.Series, reference: pd.Series) -> pd.Series:
    """SDTMIG 3.4 section 4.4.4: day 1 is the reference date, the day before is -1, no day 0.

    Both arguments are ISO 8601 text; a partial or missing date gives a missing study day.
    """
    delta = (complete_dates(dates) - complete_dates(reference)).dt.days
    day = delta + (delta >= 0).astype("float64")
    return pd.Series(day, index=dates.index, dtype="Float64")


def with_time(dates: pd.Series, times: pd.Series) -> pd.Series:
    """ISO 8601 date and time of day (`2014-07-02T11:45`) where both are there, else the date:
    a time without its date says nothing (SDTMIG 3.4 section 4.4.1)."""
    dates = dates.astype("string")
    times = times.astype("string").str.strip()
    has_time = dates.notna() & times.notna() & (times != "")
    return dates.mask(has_time.fillna(False).astype(bool), dates + "T" + times)
