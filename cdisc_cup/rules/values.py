"""Column helpers shared by the operators: nulls, text, dates, and lookups across datasets.

XPT files store a missing character value as blanks and a missing number as a SAS missing
value; pandas shows them as "" and NaN. Dates come as ISO 8601 text (--DTC), as SAS date
numbers, or already as datetimes, depending on who read the file.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cdisc_cup.columns import is_blank, iso_dates_to_datetime, lookup
from cdisc_cup.constants import SAS_EPOCH
from cdisc_cup.derivations.dates import iso_dates
from cdisc_cup.rules.model import NotApplicable, Study
from cdisc_cup.xpt.model import Dataset


def is_null(values: pd.Series) -> pd.Series:
    """Missing in the XPT sense: NaN/None, or text that is empty after trimming blanks."""
    if values.dtype == object or pd.api.types.is_string_dtype(values):
        return pd.Series(is_blank(values), index=values.index)
    return values.isna().astype(bool)


def report_text(values: pd.Series) -> pd.Series:
    """Values as the user reads them in a report: numbers without a trailing .0, NaN empty."""
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        whole = values.notna() & (values == np.floor(values.fillna(0)))
        text = values.astype("string")
        text = text.where(~whole, values.where(whole).astype("Int64").astype("string"))
        return text.fillna("").astype(object)
    if pd.api.types.is_datetime64_any_dtype(values):
        return iso_dates(values).fillna("").astype(object)
    return values.astype("string").fillna("").astype(object)


def column(dataset: Dataset, name: str) -> pd.Series:
    if name not in dataset.frame.columns:
        raise NotApplicable(f"{dataset.name} has no variable {name}")
    return dataset.frame[name]


def resolve(
    study: Study, dataset: Dataset, reference: str, *, by: str = "USUBJID", absent_as_null: bool = False
) -> pd.Series:
    """A variable of this dataset (AESTDTC), or of another one matched on `by` (DM.RFSTDTC).

    The result is aligned with `dataset.frame`; a record whose subject is not in the other
    dataset gets a missing value (the reference rule reports that subject separately). An
    absent variable is NotApplicable, or with `absent_as_null` a column of nulls (as SAS
    and CDISC CORE read a variable a dataset does not have); an absent dataset always is.
    """
    other_name, _, variable = reference.rpartition(".")
    other = dataset if other_name in ("", dataset.name) else study.datasets.get(other_name)
    if other is None:
        raise NotApplicable(f"no {other_name} dataset")
    if absent_as_null and variable not in other.frame.columns:
        return pd.Series(pd.NA, index=dataset.frame.index, dtype="string", name=variable)
    if other is dataset:
        return column(dataset, variable)
    return lookup(column(dataset, by), column(other, by), column(other, variable)).rename(variable)


def is_present(study: Study, dataset: Dataset, reference: str) -> bool:
    """Whether the variable (of this dataset, or `DM.DTHFL` of another) exists."""
    other_name, _, variable = reference.rpartition(".")
    other = dataset if other_name in ("", dataset.name) else study.datasets.get(other_name)
    return other is not None and variable in other.frame.columns


def as_dates(values: pd.Series) -> pd.Series:
    """Full dates (day precision) from ISO text, SAS date numbers or datetimes; others NaT."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.dt.normalize()
    if pd.api.types.is_numeric_dtype(values):
        return SAS_EPOCH + pd.to_timedelta(values, unit="D")
    present = values.dropna()
    if pd.api.types.is_string_dtype(values) or (len(present) and isinstance(present.iloc[0], str)):
        return iso_dates_to_datetime(values.astype("string").str.strip())
    converted = pd.to_datetime(values, errors="coerce")
    return converted.dt.normalize() if pd.api.types.is_datetime64_any_dtype(converted) else converted


def iso_text(values: pd.Series) -> pd.Series:
    """ISO 8601 text of a date/time column, whatever form it was read in."""
    if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_datetime64_any_dtype(values):
        return iso_dates(as_dates(values)).fillna("")
    return values.astype("string").str.strip().fillna("")
