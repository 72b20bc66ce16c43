"""Two datasets compared as PROC COMPARE does: attributes, variables, records, then values.

Records are aligned once (an outer merge of the key columns and the occurrence of each key
value, or the record numbers), then each common variable is compared as one vector over the
matched records; nothing loops over records.

Values are compared as SAS and R (haven) see them in the XPT files, which is how the reader
returns them (`cdisc_cup.xpt.read`):

- Char: the text without its trailing blanks (XPT pads fields with blanks, and SAS ignores
  trailing blanks when it compares text); leading blanks and case count. A missing Char value
  is blank in XPT, so "missing" and "" are the same value.
- Num: missing (.) equals only missing, a special missing value (.A-.Z, ._) only itself, as
  PROC COMPARE judges them without NOMISSING. Numbers are equal exactly, or within the
  tolerance: absolute |compare - base| <= t (METHOD=ABSOLUTE), or relative
  |compare - base| / ((|base| + |compare|) / 2) <= c (METHOD=RELATIVE, δ = 0; two zeros are
  equal).
- A variable that is Char in one dataset and Num in the other is reported as a type
  difference and its values are not compared (PROC COMPARE lists it as "conflicting type").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from cdisc_cup.comparison import (
    BASE,
    COMPARE,
    OCCURRENCE,
    RECORD,
    AttributeDifference,
    DatasetComparison,
    DatasetSide,
    DuplicateKeys,
    KeyChoice,
    Method,
    RecordsInOne,
    Tolerance,
    ValueDifference,
)
from cdisc_cup.xpt.model import Dataset, XptVariable

_BASE_ROW = "__base_row"
_COMPARE_ROW = "__compare_row"
_OCCURRENCE = "__occurrence"
VARIABLE_ATTRIBUTES = ("type", "length", "label", "format")


def side(dataset: Dataset, folder: str = "") -> DatasetSide:
    return DatasetSide(
        folder=folder,
        name=dataset.name,
        label=dataset.label,
        records=len(dataset.frame),
        variables=len(dataset.variables),
        file=str(dataset.path or ""),
    )


def _attribute(variable: XptVariable, attribute: str) -> str:
    value = getattr(variable, attribute)
    return "" if value is None else str(value)


def attribute_differences(base: Dataset, compare: Dataset) -> tuple[AttributeDifference, ...]:
    """Type, length, label and format of each variable in both, in the base's order."""
    found = []
    for variable in base.variables:
        other = compare.variable(variable.name)
        if other is None:
            continue
        for attribute in VARIABLE_ATTRIBUTES:
            mine, theirs = _attribute(variable, attribute), _attribute(other, attribute)
            if mine != theirs:
                found.append(AttributeDifference(variable.name, attribute, mine, theirs))
    return tuple(found)


def dataset_differences(base: Dataset, compare: Dataset) -> tuple[AttributeDifference, ...]:
    found = []
    for attribute in ("name", "label"):
        mine, theirs = getattr(base, attribute), getattr(compare, attribute)
        if mine != theirs:
            found.append(AttributeDifference("", attribute, mine, theirs))
    return tuple(found)


def as_text(values: pd.Series) -> pd.Series:
    """Values as a person reads them in a report: text as is, numbers in at most 15
    significant digits, "." for missing and ".A" for a special missing value (as SAS prints)."""
    if not (pd.api.types.is_numeric_dtype(values.dtype) or values.dtype == object):
        return values.astype("str")
    numbers = pd.to_numeric(values, errors="coerce")
    shown = numbers.map("{:.15g}".format).astype("str")
    special = values.astype("str").where(numbers.isna() & values.notna(), ".")
    return shown.where(numbers.notna(), special.where(special != "nan", "."))


def _occurrences(frame: pd.DataFrame, keys: list[str]) -> pd.Series:
    """0 for the first record of each key value, 1 for the next one, ... in file order."""
    return frame.groupby(keys, sort=False, dropna=False).cumcount()


def _duplicates(frame: pd.DataFrame, keys: list[str], side_name: str, max_examples: int) -> DuplicateKeys | None:
    repeated = frame.duplicated(keys, keep=False)
    if not repeated.any():
        return None
    counts = frame.loc[repeated, keys].value_counts(sort=False, dropna=False).reset_index(name="records")
    examples = counts.head(max_examples)
    shown = pd.DataFrame({key: as_text(examples[key]) for key in keys}).assign(records=examples["records"].to_numpy())
    return DuplicateKeys(side_name, int(repeated.sum()), shown)


def _records_in_one(
    side_name: str, frame: pd.DataFrame, rows: np.ndarray, keys: list[str], max_examples: int
) -> RecordsInOne:
    """The records at `rows` of one side, which the other side lacks, by key (or number)."""
    shown = rows[:max_examples]
    if keys:
        examples = pd.DataFrame({key: as_text(frame[key].iloc[shown]).to_numpy() for key in keys})
    else:
        examples = pd.DataFrame({RECORD: shown + 1})
    return RecordsInOne(side_name, len(rows), examples)


@dataclass(frozen=True)
class Alignment:
    """Which record of the base matches which of the compare dataset."""

    base_rows: np.ndarray  # positions, in base order
    compare_rows: np.ndarray
    only_in_base: np.ndarray  # positions of the base's records that match none
    only_in_compare: np.ndarray
    by_occurrence: bool  # some key value has several records: they are matched in order


def _comparable_keys(base: pd.DataFrame, compare: pd.DataFrame, keys: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The key columns of both sides with one dtype each: a Num key holding special missing
    values is of object dtype on one side and float on the other, which merge refuses."""
    left, right = base[keys].copy(), compare[keys].copy()
    for key in keys:
        if left[key].dtype != right[key].dtype:
            left[key], right[key] = left[key].astype(object), right[key].astype(object)
    return left, right


def align(base: pd.DataFrame, compare: pd.DataFrame, keys: list[str]) -> Alignment:
    """Records matched by key value and occurrence (the n-th record of a key value in one with
    the n-th in the other), or by position when there are no keys."""
    if not keys:
        common = min(len(base), len(compare))
        return Alignment(
            np.arange(common), np.arange(common), np.arange(common, len(base)), np.arange(common, len(compare)), False
        )
    left, right = _comparable_keys(base, compare, keys)
    by_occurrence = bool(left.duplicated().any() or right.duplicated().any())
    on = list(keys)
    if by_occurrence:
        left[_OCCURRENCE], right[_OCCURRENCE] = _occurrences(left, keys), _occurrences(right, keys)
        on.append(_OCCURRENCE)
    left[_BASE_ROW], right[_COMPARE_ROW] = np.arange(len(left)), np.arange(len(right))
    merged = left.merge(right, on=on, how="outer", indicator=True, sort=False)
    where = merged["_merge"].to_numpy()
    matched = merged.loc[where == "both", [_BASE_ROW, _COMPARE_ROW]].astype("int64").sort_values(_BASE_ROW)
    return Alignment(
        matched[_BASE_ROW].to_numpy(),
        matched[_COMPARE_ROW].to_numpy(),
        np.sort(merged.loc[where == "left_only", _BASE_ROW].astype("int64").to_numpy()),
        np.sort(merged.loc[where == "right_only", _COMPARE_ROW].astype("int64").to_numpy()),
        by_occurrence,
    )


def _numbers(values: pd.Series) -> tuple[np.ndarray, np.ndarray | None]:
    """A Num column as floats (NaN for any missing) and, when it holds special missing
    values, their text (".A"; "" for the rest) so that .A equals only .A."""
    if values.dtype != object:
        return values.to_numpy(dtype=np.float64), None
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64)
    special = np.isnan(numbers) & values.notna().to_numpy()
    return numbers, np.where(special, values.astype("str").to_numpy(), "")


def numbers_differ(base: pd.Series, compare: pd.Series, tolerance: Tolerance) -> tuple[np.ndarray, np.ndarray]:
    """Which pairs of Num values differ, and |compare - base| (NaN where one is missing)."""
    x, x_special = _numbers(base)
    y, y_special = _numbers(compare)
    distance = np.abs(y - x)
    equal = (x == y) | (np.isnan(x) & np.isnan(y))
    if tolerance.method == Method.ABSOLUTE:
        equal |= distance <= tolerance.value
    elif tolerance.method == Method.RELATIVE:
        with np.errstate(divide="ignore", invalid="ignore"):
            equal |= distance / ((np.abs(x) + np.abs(y)) / 2) <= tolerance.value
    if x_special is not None or y_special is not None:
        equal &= (x_special if x_special is not None else "") == (y_special if y_special is not None else "")
    return ~equal, distance


def values_differ(
    variable_type: str, base: pd.Series, compare: pd.Series, tolerance: Tolerance
) -> tuple[np.ndarray, np.ndarray | None]:
    """Per matched record (the two columns aligned by position), whether its values differ as
    SAS reads them: Char exactly, Num beyond the tolerance; and for Num |compare - base|. One
    definition for the report's counts and for whoever needs to know which records differ."""
    if variable_type == "Char":
        return base.ne(compare).to_numpy(dtype=bool), None
    return numbers_differ(base, compare, tolerance)


def _value_difference(
    variable: XptVariable,
    base: pd.Series,
    compare: pd.Series,
    keys: KeyText,
    tolerance: Tolerance,
    max_examples: int,
) -> ValueDifference | None:
    """One variable over the matched records (`base` and `compare` aligned by position)."""
    differ, distance = values_differ(variable.type, base, compare, tolerance)
    count = int(differ.sum())
    if not count:
        return None
    shown = np.flatnonzero(differ)[:max_examples]
    examples = keys.of(shown)
    examples[BASE] = as_text(base.iloc[shown]).to_numpy()
    examples[COMPARE] = as_text(compare.iloc[shown]).to_numpy()
    largest = None
    if distance is not None:
        x, _ = _numbers(base.iloc[shown])
        y, _ = _numbers(compare.iloc[shown])
        examples["difference"] = as_text(pd.Series(y - x)).to_numpy()
        measured = distance[differ]
        largest = float(np.nanmax(measured)) if np.isfinite(measured).any() else None
    return ValueDifference(variable.name, variable.type, count, largest, examples)


@dataclass(frozen=True)
class KeyText:
    """The keys of the matched records as the examples show them, made only for the few
    records an example shows (formatting every key value would cost more than comparing)."""

    frame: pd.DataFrame  # the base dataset's records
    rows: np.ndarray  # the matched base records, in the order compared
    keys: list[str]
    occurrences: np.ndarray | None  # per base record, 0 for the first of its key value

    def of(self, matched: np.ndarray) -> pd.DataFrame:
        """The keys of the matched records at these positions."""
        rows = self.rows[matched]
        if not self.keys:
            return pd.DataFrame({RECORD: rows + 1})
        chosen = self.frame.iloc[rows]
        shown = pd.DataFrame({key: as_text(chosen[key]).to_numpy() for key in self.keys})
        if self.occurrences is not None:
            shown[OCCURRENCE] = self.occurrences[rows] + 1
        return shown


def compare_datasets(
    base: Dataset, compare: Dataset, keys: KeyChoice, tolerance: Tolerance, max_examples: int, folder: str = ""
) -> DatasetComparison:
    """Everything PROC COMPARE reports about two datasets (module docstring)."""
    names = [v.name for v in base.variables]
    others = {v.name for v in compare.variables}
    common = [n for n in names if n in others]
    conflicting = [n for n in common if base.variable(n).type != compare.variable(n).type]
    not_compared = tuple(
        (n, f"{base.variable(n).type} in base, {compare.variable(n).type} in compare") for n in conflicting
    )
    key_list = list(keys.variables)
    refused = ""
    bad_keys = [k for k in key_list if k in conflicting]
    if bad_keys:
        refused = f"key variable {', '.join(bad_keys)} is of a different type in each dataset"
    found_duplicates = (
        [
            _duplicates(frame, key_list, side_name, max_examples)
            for frame, side_name in ((base.frame, BASE), (compare.frame, COMPARE))
        ]
        if key_list and not refused
        else []
    )
    duplicates = tuple(found for found in found_duplicates if found is not None)
    values: list[ValueDifference] = []
    records_only: tuple[RecordsInOne, ...] = ()
    compared = 0
    checked = [n for n in common if n not in conflicting and n not in key_list]
    if not refused:
        aligned = align(base.frame, compare.frame, key_list)
        records_only = tuple(
            _records_in_one(side_name, frame, rows, key_list, max_examples)
            for side_name, frame, rows in (
                (BASE, base.frame, aligned.only_in_base),
                (COMPARE, compare.frame, aligned.only_in_compare),
            )
            if len(rows)
        )
        compared = len(aligned.base_rows)
        occurrences = _occurrences(base.frame[key_list], key_list).to_numpy() if aligned.by_occurrence else None
        shown_keys = KeyText(base.frame, aligned.base_rows, key_list, occurrences)
        for name in checked:
            found = _value_difference(
                base.variable(name),
                base.frame[name].iloc[aligned.base_rows].reset_index(drop=True),
                compare.frame[name].iloc[aligned.compare_rows].reset_index(drop=True),
                shown_keys,
                tolerance,
                max_examples,
            )
            if found is not None:
                values.append(found)
    return DatasetComparison(
        name=base.name,
        base=side(base, folder),
        compare=side(compare, folder),
        keys=keys,
        dataset_differences=dataset_differences(base, compare),
        variables_only_in_base=tuple(n for n in names if n not in others),
        variables_only_in_compare=tuple(v.name for v in compare.variables if v.name not in set(names)),
        attribute_differences=attribute_differences(base, compare),
        not_compared=not_compared,
        duplicates=duplicates,
        records_only=records_only,
        records_compared=compared,
        variables_compared=len(checked) if not refused else 0,
        value_differences=tuple(values),
        refused=refused,
    )
