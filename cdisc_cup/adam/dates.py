"""ISO 8601 dates of SDTM as analysis dates of ADaM, with partial-date imputation.

SDTM keeps dates as ISO 8601 text that may be partial (`2020`, `2020-07`); ADaM analysis
dates are numeric. Every function works on whole columns; a partial date is handled as the
*period* it allows (first and last day), which makes imputation a choice of one end of the
period, optionally pulled to a reference date inside it (admiral `impute_dtc_dt` with
`min_dates` / `max_dates`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from cdisc_cup.columns import extract_parts

_ISO_DATE = r"^(?P<year>\d{4})(?:-(?P<month>\d{2})(?:-(?P<day>\d{2}))?)?"


@dataclass(frozen=True)
class DatePeriod:
    """The first and last day a (possibly partial) ISO 8601 date allows, and what was missing.

    `precision` is "day" for a complete date, "month" for YYYY-MM, "year" for YYYY and missing
    (NA) when the text holds no date at all.
    """

    first: pd.Series
    last: pd.Series
    precision: pd.Series


def as_text(values: pd.Series) -> pd.Series:
    """Character values with empty strings as missing (SDTM null is blank in XPT)."""
    text = values.astype("string").str.strip()
    return text.mask(text == "")


def date_period(dtc: pd.Series) -> DatePeriod:
    """The period of days each ISO 8601 date (possibly partial, possibly with a time) allows."""
    parts = extract_parts(as_text(dtc), _ISO_DATE)
    year, month, day = parts["year"], parts["month"], parts["day"]
    first = pd.to_datetime(year + "-" + month.fillna("01") + "-" + day.fillna("01"), format="%Y-%m-%d", errors="coerce")
    year_end = pd.to_datetime(year + "-12-31", format="%Y-%m-%d", errors="coerce")
    month_end = first + pd.offsets.MonthEnd(0)
    last = first.where(day.notna(), month_end.where(month.notna(), year_end))
    precision = pd.Series(
        np.select([day.notna(), month.notna(), year.notna()], ["day", "month", "year"], default=""),
        index=dtc.index,
    ).replace("", pd.NA)
    return DatePeriod(first=first.astype("datetime64[s]"), last=last.astype("datetime64[s]"), precision=precision)


def complete_date(dtc: pd.Series) -> pd.Series:
    """A complete ISO 8601 date as datetime64; partial or missing dates give NaT."""
    period = date_period(dtc)
    return period.first.where(period.precision == "day")


def impute_date(
    dtc: pd.Series,
    *,
    to: Literal["first", "last"],
    within: Sequence[pd.Series] = (),
) -> tuple[pd.Series, pd.Series]:
    """Impute partial dates to one end of their period; return (date, ADaM imputation flag).

    `within`: reference dates (e.g. first dose, death) that replace the imputed date when they
    lie inside the period the partial date allows and are nearer to its other end (the
    earliest-date imputation moves *up* to a first dose in the period; the latest-date
    imputation moves *down* to a death in the period). The flag is "M" when month and day were
    imputed, "D" when only the day was, null for a complete or missing date (ADaMIG 1.3
    section 3.1.3, item 7; admiral `compute_dtf`).
    """
    period = date_period(dtc)
    imputed = period.first if to == "first" else period.last
    for reference in within:
        inside = (reference >= period.first) & (reference <= period.last) & (period.precision != "day")
        nearer = reference > imputed if to == "first" else reference < imputed
        imputed = imputed.mask(inside & nearer, reference)
    flag = period.precision.map({"month": "D", "year": "M"}).astype("string")
    return imputed.astype("datetime64[s]"), flag.where(period.precision.isin(["month", "year"]))


def relative_day(dates: pd.Series, reference: pd.Series) -> pd.Series:
    """Study day of `dates` from `reference` (day 1); the day before is -1, there is no day 0."""
    days = (dates - reference).dt.days
    return days.where(days < 0, days + 1).astype("Int64")
