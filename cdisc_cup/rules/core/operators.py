"""CORE's check operators as column operations on a frame.

Semantics follow cdisc-rules-engine's `DataframeType` (check_operators/dataframe_operators.py)
so a rule gives the findings CORE gives:
- null is missing or the empty string (CORE's NULL_FLAVORS); text of blanks is *not* null;
- equal_to / not_equal_to are False when both sides are null; a null target is not equal to a
  populated comparator (not_equal_to True);
- a string comparator that names a column of the frame is that column unless
  `value_is_literal` (operation results are columns named `$id`);
- date comparisons compare at the precision both dates share ("2020-01" vs "2020-01-15" at
  month), and are False when either date is invalid or null.
Per-value work that has no column kernel (ISO 8601 parsing, Python regexes) is done once per
distinct value and mapped back, never once per record.
"""

from __future__ import annotations

import ctypes
import operator as op
import re
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from dateutil.parser import isoparse, parse
from pandas.arrays import ArrowStringArray

from cdisc_cup.rules.model import NotApplicable


@dataclass(frozen=True)
class Operand:
    """One leaf of a Check tree, resolved against a frame (`--` already replaced)."""

    frame: pd.DataFrame
    target: str
    comparator: Any = None  # a literal (str, number, list) or a Series (a column / operation result)
    params: Mapping[str, Any] = field(default_factory=dict)
    domain: str = ""

    @property
    def values(self) -> pd.Series:
        return self.frame[self.target]


Operator = Callable[[Operand], pd.Series]
FLOAT_TYPES = (float, np.float64)
_NULL = "\x00null"  # a null value as an element of a set (None and NaN are one null)


def with_domain(value: Any, domain: str) -> Any:
    """CORE's replace_prefix: a leading `--` is the domain (once); lists item by item."""
    if isinstance(value, str) and value.startswith("--") and domain:
        return domain + value[2:]
    if isinstance(value, list):
        return [with_domain(item, domain) for item in value]
    return value


def is_null(values: pd.Series) -> pd.Series:
    """CORE's null: missing or "" (NULL_FLAVORS); empty lists of operation results too."""
    missing = values.isna()
    if values.dtype.kind in "biufcmM":
        return missing
    if holds_lists(values):  # an operation's result: a list (of names, of values) per row
        empty = values.map(
            lambda v: v == "" or (isinstance(v, (list, set, tuple, dict)) and len(v) == 0), na_action="ignore"
        )
        return missing | empty.fillna(False).astype(bool)
    return missing | values.eq("").fillna(False).astype(bool)


def holds_lists(values: pd.Series) -> bool:
    """Whether a column holds lists: operation results are lists on every row or on none, so
    the first value says."""
    if values.dtype != object or values.empty:
        return False
    first = values.iloc[0]
    if is_listy(first) or isinstance(first, dict):
        return True
    if not pd.isna(first):  # the first row has a value, not a list: no need to look further
        return False
    present = values.notna().to_numpy()
    first = values.iloc[int(present.argmax())] if present.any() else None
    return is_listy(first) or isinstance(first, dict)


def _null_literal(value: Any) -> bool:
    if isinstance(value, pd.Series):
        return False
    return value is None or value == "" or (isinstance(value, float) and np.isnan(value))


def _mask(result: Any, index: pd.Index) -> pd.Series:
    if isinstance(result, pd.Series):
        return pd.Series(result.to_numpy(dtype=bool, na_value=False), index=index)
    if np.ndim(result) == 0:
        return pd.Series(bool(result), index=index)
    return pd.Series(np.asarray(result, dtype=bool), index=index)


def distinct_values(values: pd.Series) -> tuple[np.ndarray, list[Any]]:
    """Each record's code (-1: missing) into the column's distinct values (text columns are
    factorized by Arrow, without a Python object per record)."""
    codes, distinct = pd.factorize(values if pd.api.types.is_string_dtype(values.dtype) else values.astype(object))
    return codes, np.asarray(distinct, dtype=object).tolist()  # 8x faster than iterating the Index


def per_value(values: pd.Series, function: Callable[[Any], bool]) -> pd.Series:
    """`function` on each distinct value, mapped back to the records (the per-value kernels)."""
    if holds_lists(values):  # an operation's lists (one per row or none): not values to test
        return pd.Series(False, index=values.index)
    codes, distinct = distinct_values(values)
    answers = np.array([bool(function(value)) for value in distinct] + [False], dtype=bool)
    return pd.Series(answers[codes], index=values.index)  # code -1 (missing) takes the last, False


def per_distinct(values: pd.Series, function: Callable[[Any], Any]) -> pd.Series:
    """`function` of each distinct value (missing ones stay missing), mapped back to the records."""
    codes, distinct = distinct_values(values)
    answers = np.empty(len(distinct) + 1, dtype=object)  # the last, None, for code -1 (missing)
    answers[: len(distinct)] = [function(value) for value in distinct]
    return pd.Series(answers[codes], index=values.index, dtype=object)


# -- existence and emptiness ------------------------------------------------------------------


def exists(operand: Operand) -> pd.Series:
    return _mask(operand.target in operand.frame.columns, operand.frame.index)


def not_exists(operand: Operand) -> pd.Series:
    return ~exists(operand)


def empty(operand: Operand) -> pd.Series:
    return is_null(operand.values)


def non_empty(operand: Operand) -> pd.Series:
    return ~empty(operand)


# -- equality ---------------------------------------------------------------------------------


def _comparable(values: Any, operand: Operand, *, lower: bool = False) -> Any:
    if operand.params.get("type_insensitive"):
        values = _as_text(values)
    if lower:
        values = values.astype("string").str.lower() if isinstance(values, pd.Series) else str(values).lower()
    return values


def _as_text(values: Any) -> Any:
    """CORE's custom_str_conversion: numbers, and text that reads as one, in one spelling
    ("200.00", 200.0 and 200 are all "200"), so type-insensitive comparisons match them."""

    def text(value: Any) -> Any:
        if isinstance(value, str):
            try:
                number = float(value)
            except ValueError:
                return value.strip()
            return str(int(number)) if number.is_integer() else str(number)
        if isinstance(value, float):
            return str(int(value)) if value.is_integer() else str(value)
        return value if value is None else str(value)

    if isinstance(values, pd.Series):
        return values.astype(object).map(text, na_action="ignore")
    return text(values)


def numbers_as_text(values: pd.Series) -> pd.Series:
    """CORE's _regex_str_conversion, so a regex or a result row sees the text CORE's does: a
    whole float as its digits (f"{x:.0f}": 75.0 is "75" and 1e20 is "100000000000000000000",
    the value as written in the dataset, never "1e+20"), another float as str() gives it
    (1.5, 1e-07), text as it is, anything else (an int, a bool) as str() gives it."""
    plain = values.astype(object).where(values.notna(), None)
    if pd.api.types.is_string_dtype(values.dtype) and values.dtype != object:
        return plain
    types = plain.map(type)
    numbers = pd.to_numeric(plain.where(types.isin(FLOAT_TYPES)), errors="coerce").astype(float)
    other = plain.notna() & ~types.eq(str) & numbers.isna()
    if not numbers.notna().any() and not other.any():
        return plain
    whole = numbers.notna() & (numbers % 1 == 0)
    # int64 prints the digits 4x faster than "%.0f"; the whole numbers it cannot hold, or would
    # print otherwise (-0.0 is "-0"), are formatted as CORE formats them.
    negative_zero = numbers.eq(0) & np.signbit(numbers)
    as_int = whole & (numbers.abs() < 2**62) & ~negative_zero
    text = numbers.astype(object).astype(str).astype(object)
    text = text.where(~as_int, numbers.where(as_int, 0).astype("int64").astype(str).astype(object))
    formatted = whole & ~as_int
    if formatted.any():
        text[formatted] = np.char.mod("%.0f", numbers[formatted].to_numpy())
    shown = plain.where(numbers.isna(), text)
    return shown.where(~other, plain[other].astype(str).astype(object))


def _comparator_values(operand: Operand) -> Any:
    if operand.params.get("value_is_reference") and isinstance(operand.comparator, pd.Series):
        names = operand.comparator.astype(object)
        picked = pd.Series(None, index=operand.frame.index, dtype=object)
        for name in names.dropna().unique():
            if name in operand.frame.columns:
                rows = names == name
                picked[rows] = operand.frame.loc[rows, name].astype(object)
        return picked
    return operand.comparator


def _plain(values: pd.Series) -> pd.Series:
    """Python objects with None for missing (pd.NA has no truth value to compare with)."""
    plain = values.astype(object)
    return plain.where(plain.notna(), None)


def _natively_comparable(left: pd.Series, right: pd.Series) -> bool:
    """Whether two columns compare as their Python values do without being made Python objects:
    text with text (Arrow), or floats with floats (NaN, like None, equals nothing)."""
    if left.dtype != right.dtype:
        return False
    return (pd.api.types.is_string_dtype(left.dtype) and left.dtype != object) or left.dtype.kind == "f"


def _equality(operand: Operand, *, lower: bool = False) -> tuple[pd.Series, pd.Series]:
    """(equal, both null) of target and comparator, as CORE's _check_equality sees them."""
    comparator = _comparator_values(operand)
    target = operand.values
    both_null = is_null(target) & (
        is_null(comparator) if isinstance(comparator, pd.Series) else _null_literal(comparator)
    )
    left = _comparable(target, operand, lower=lower)
    right = _comparable(comparator, operand, lower=lower)
    if isinstance(right, pd.Series) and _natively_comparable(left, right):
        equal = left.eq(right)  # missing on either side is not equal, as None is in Python
    elif isinstance(right, pd.Series):
        equal = _plain(left).eq(_plain(right))
    elif isinstance(right, (list, tuple, set, dict)):
        equal = pd.Series(False, index=target.index)
    else:
        try:
            equal = left.eq(right)  # text columns compare natively (Arrow), objects one by one
        except TypeError:
            equal = pd.Series(False, index=target.index)
    return _mask(equal, target.index), _mask(both_null, target.index)


def equal_to(operand: Operand) -> pd.Series:
    equal, both_null = _equality(operand)
    return equal & ~both_null


def not_equal_to(operand: Operand) -> pd.Series:
    equal, both_null = _equality(operand)
    return ~equal & ~both_null


def equal_to_case_insensitive(operand: Operand) -> pd.Series:
    equal, both_null = _equality(operand, lower=True)
    return equal & ~both_null


def not_equal_to_case_insensitive(operand: Operand) -> pd.Series:
    equal, both_null = _equality(operand, lower=True)
    return ~equal & ~both_null


# -- numbers and lengths ----------------------------------------------------------------------


def _numeric_comparison(compare: Callable[[Any, Any], Any]) -> Operator:
    def run(operand: Operand) -> pd.Series:
        target = pd.to_numeric(operand.values.astype(object), errors="coerce").astype(float)
        comparator = operand.comparator
        if isinstance(comparator, pd.Series):
            comparator = pd.to_numeric(comparator.astype(object), errors="coerce").astype(float)
        else:
            comparator = float(comparator)
        return _mask(compare(target, comparator), operand.frame.index)

    return run


def _lengths(values: pd.Series) -> pd.Series:
    return numbers_as_text(values).astype("string").str.len()


def longer_than(operand: Operand) -> pd.Series:
    comparator = operand.comparator
    if isinstance(comparator, pd.Series):
        comparator = comparator if comparator.dtype.kind in "iu" else _lengths(comparator)
    return _mask(_lengths(operand.values).gt(comparator), operand.frame.index)


def shorter_than(operand: Operand) -> pd.Series:
    comparator = operand.comparator
    if isinstance(comparator, pd.Series):
        comparator = comparator if comparator.dtype.kind in "iu" else _lengths(comparator)
    return ~_mask(_lengths(operand.values).ge(comparator), operand.frame.index)


# -- containment ------------------------------------------------------------------------------


def is_listy(value: Any) -> bool:
    return isinstance(value, (list, set, tuple, np.ndarray))


def _contained(values: pd.Series, comparator: Any, *, lower: bool = False) -> pd.Series:
    """Each value in the comparator: a literal list, a column's values, or a list per record."""
    if lower:
        values = values.astype("string").str.lower()
    if isinstance(comparator, pd.Series) and holds_lists(comparator):
        return _in_own_list(values, comparator, lower=lower)
    if isinstance(comparator, pd.Series):
        pool = comparator.astype("string").str.lower() if lower else comparator
        return among(values, pool.dropna().tolist())
    pool = list(comparator) if is_listy(comparator) else [comparator]
    if lower:
        pool = [str(p).lower() for p in pool]
    return among(values, pool).fillna(False).astype(bool)


def among(values: pd.Series, members: list[Any]) -> pd.Series:
    """`values.isin(members)`, for Arrow text without a pyarrow scalar made per member as
    pandas makes them (DM's 100,000 USUBJIDs: 0.3 s for each dataset a rule checks)."""
    if not isinstance(values.array, ArrowStringArray):
        return values.isin(members)
    # as pandas: text members, and null ones (which a missing value is among); others never match
    text = [member for member in members if isinstance(member, str)]
    nulls = [None] if any(member is None or member is pd.NA or _is_nan(member) for member in members) else []
    if not text and not nulls:
        return pd.Series(False, index=values.index)
    arrow = pa.chunked_array(values.array.__arrow_array__())
    found = pc.is_in(arrow, value_set=pa.array(text + nulls, type=arrow.type))
    return pd.Series(np.array(found, dtype=np.bool_), index=values.index)


def _is_nan(value: Any) -> bool:
    return isinstance(value, float) and np.isnan(value)


def object_ids(values: pd.Series) -> np.ndarray:
    """Which object each row holds (its id). An object array holds the objects' addresses, which
    CPython's id() is: they are read as integers in one go (5.6 million rows of an operation's
    lists: 0.7 s of id() calls before). Elsewhere, id() per row."""
    objects = np.ascontiguousarray(values.to_numpy(dtype=object))
    if sys.implementation.name != "cpython" or not len(objects):
        return np.fromiter(map(id, objects), dtype=np.int64, count=len(objects))
    addresses = (ctypes.c_ssize_t * len(objects)).from_address(objects.ctypes.data)
    return np.ctypeslib.as_array(addresses).astype(np.int64)  # a copy, made while `objects` holds them


def _list_members(lists: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """A list column as (each row's list number, the members indexed by list number). An
    operation's result is one list object for all rows or one per group, so each distinct
    object is exploded once, not once per row."""
    codes, _ = pd.factorize(object_ids(lists))
    _, first_rows = np.unique(codes, return_index=True)
    members = pd.Series(lists.to_numpy()[first_rows], dtype=object).explode()
    return codes, members


def _in_own_list(values: pd.Series, lists: pd.Series, *, lower: bool) -> pd.Series:
    """Each record's value among the members of its own row's list (an operation's result)."""
    codes, members = _list_members(lists)
    members = members[members.notna()]
    if lower:
        members = members.astype(str).str.lower()
    if len(codes) and (codes == codes[0]).all():  # one list for every row (an ungrouped result)
        return among(values, members.tolist()).fillna(False).astype(bool) & values.notna()
    pairs = pd.MultiIndex.from_arrays([members.index.to_numpy(), members.to_numpy(dtype=object)])
    asked = pd.MultiIndex.from_arrays([codes, values.to_numpy(dtype=object)])
    return pd.Series(asked.isin(pairs) & values.notna().to_numpy(), index=values.index)


def is_contained_by(operand: Operand) -> pd.Series:
    return _contained(operand.values, operand.comparator)


def is_not_contained_by(operand: Operand) -> pd.Series:
    return ~is_contained_by(operand)


def is_contained_by_case_insensitive(operand: Operand) -> pd.Series:
    return _contained(operand.values, operand.comparator, lower=True)


def is_not_contained_by_case_insensitive(operand: Operand) -> pd.Series:
    return ~is_contained_by_case_insensitive(operand)


def contains(operand: Operand) -> pd.Series:
    target = operand.values
    comparator = operand.comparator
    if holds_lists(target):  # an operation's list per record: is the comparator among its members
        if isinstance(comparator, pd.Series):
            return _in_own_list(comparator, target, lower=False)
        codes, members = _list_members(target)
        found = members[members.eq(comparator).fillna(False).astype(bool)].index.unique()
        return pd.Series(np.isin(codes, found), index=target.index)
    if isinstance(comparator, pd.Series):
        return _mask(comparator.isin(target.dropna().tolist()), target.index)
    if isinstance(comparator, str):
        return _mask(target.astype("string").str.contains(comparator, regex=False), target.index)
    return _mask(target == comparator, target.index)


def does_not_contain(operand: Operand) -> pd.Series:
    return ~contains(operand)


def contains_all(operand: Operand) -> pd.Series:
    """Whether the target column holds every value of the comparator (one answer per dataset).
    A list comparator is CORE's flatten_list: an item naming an operation's list result stands
    for its members ($expected_variables), any other item for itself."""
    comparator = operand.comparator
    if isinstance(comparator, pd.Series):
        first = comparator.iloc[0] if len(comparator) else None
        wanted = list(first) if is_listy(first) else list(comparator.dropna().unique())
    else:
        wanted = list(_flattened(operand.frame, comparator if is_listy(comparator) else [comparator]))
    present = set(operand.values.dropna().unique())
    return _mask(set(wanted).issubset(present), operand.frame.index)


def _flattened(frame: pd.DataFrame, items: Any) -> Iterator[Any]:
    for item in items:
        if is_listy(item):
            yield from _flattened(frame, item)
        elif isinstance(item, str) and item in frame.columns and len(frame) and is_listy(frame[item].iloc[0]):
            yield from frame[item].iloc[0]
        else:
            yield item


def not_contains_all(operand: Operand) -> pd.Series:
    return ~contains_all(operand)


def _elements(values: pd.Series) -> pd.MultiIndex:
    """(row position, element) pairs: a list's members, or the value itself (a null one too)."""
    rows = pd.Series(values.to_numpy(), dtype=object)
    if not holds_lists(rows):
        return pd.MultiIndex.from_arrays([np.arange(len(rows)), rows.fillna(_NULL).to_numpy(dtype=object)])
    codes, members = _list_members(rows)
    null_list = pd.Series(rows.isna().to_numpy(), index=codes).groupby(level=0).first()
    members = members[members.notna().to_numpy() | null_list.reindex(members.index).to_numpy()].fillna(_NULL)
    per_row = pd.DataFrame({"code": codes, "row": np.arange(len(rows))}).merge(
        pd.DataFrame({"code": members.index.to_numpy(), "element": members.to_numpy(dtype=object)}), on="code"
    )  # an empty list has no elements
    return pd.MultiIndex.from_arrays([per_row["row"].to_numpy(), per_row["element"].to_numpy(dtype=object)])


def shares_no_elements_with(operand: Operand) -> pd.Series:
    comparator = operand.comparator
    if not isinstance(comparator, pd.Series):
        comparator = pd.Series([comparator] * len(operand.frame), index=operand.frame.index, dtype=object)
    target = _elements(operand.values)
    shared = target[target.isin(_elements(comparator))].get_level_values(0)
    return pd.Series(~np.isin(np.arange(len(operand.frame)), shared), index=operand.frame.index)


# -- prefixes, suffixes, string parts ---------------------------------------------------------


def _part(operand: Operand) -> pd.Series:
    text = operand.values.astype("string")
    if "prefix" in operand.params:
        return text.str.slice(stop=int(operand.params["prefix"]))
    return text.str.slice(-int(operand.params["suffix"]))


def _part_equal_to(operand: Operand) -> pd.Series:
    comparator = operand.comparator
    if operand.params.get("comparator_name") == "DOMAIN" and "prefix" in operand.params:
        comparator = operand.domain
    return _mask(_part(operand).eq(comparator), operand.frame.index)


def _part_contained(operand: Operand) -> pd.Series:
    part = _part(operand)
    return _contained(part, operand.comparator) & part.notna().to_numpy()


def _regex(search: bool, part: bool) -> Callable[[Operand], pd.Series]:
    def matched(operand: Operand) -> tuple[pd.Series, pd.Series]:
        """(present, matches) per record, worked out on the distinct values (a value frame
        holds every value of a dataset, most of them repeated)."""
        values = operand.values
        if holds_lists(values):  # an operation's lists: no text to match
            values = pd.Series(None, index=values.index, dtype=object)
        codes, distinct = distinct_values(values)
        text = numbers_as_text(pd.Series(distinct, dtype=object))
        present = ~is_null(text)
        pattern = re.compile(str(operand.comparator))
        prefix, suffix = operand.params.get("prefix"), operand.params.get("suffix")

        def hit(value: Any) -> bool:
            value = str(value)
            if part:
                value = value[: int(prefix)] if prefix is not None else value[-int(suffix) :]
            return (pattern.search(value) if search else pattern.match(value)) is not None

        # the values are distinct already: each tested once, without factorizing them again
        hits = pd.Series([hit(value) for value in text.where(present, "").tolist()], index=text.index, dtype=bool)
        hits &= present
        on_records = [np.append(answer.to_numpy(dtype=bool), False)[codes] for answer in (present, hits)]
        return tuple(pd.Series(answer, index=operand.values.index) for answer in on_records)

    return matched


def _matching(search: bool, part: bool, negate: bool) -> Operator:
    matched = _regex(search, part)

    def run(operand: Operand) -> pd.Series:
        present, hits = matched(operand)
        return (present & ~hits) if negate else hits

    return run


def starts_with(operand: Operand) -> pd.Series:
    return _mask(operand.values.astype("string").str.startswith(str(operand.comparator)), operand.frame.index)


def ends_with(operand: Operand) -> pd.Series:
    return _mask(operand.values.astype("string").str.endswith(str(operand.comparator)), operand.frame.index)


def equals_string_part(operand: Operand) -> pd.Series:
    """The target equals what `regex` takes from the comparator (first match)."""
    regex = operand.params.get("regex", "")
    comparator = operand.comparator
    if isinstance(comparator, pd.Series):
        parsed = per_distinct(comparator, lambda v: _first_match(regex, v))
    else:
        parsed = _first_match(regex, comparator)
    return equal_to(Operand(operand.frame, operand.target, parsed, operand.params, operand.domain))


def _first_match(regex: str, value: Any) -> Any:
    found = re.findall(regex, str(value))
    return found[0] if found else None


def does_not_equal_string_part(operand: Operand) -> pd.Series:
    return ~equals_string_part(operand)


# -- uniqueness and consistency ---------------------------------------------------------------


def _columns(operand: Operand) -> list[str]:
    """The target and comparator columns the frame has; a comparator that is an operation
    result listing variable names (e.g. $TIMING_VARIABLES) stands for those (CORE's flatten_list)."""
    names = [operand.target]
    for item in operand.params.get("comparator_names") or ():
        first = operand.frame[item].iloc[0] if item in operand.frame.columns and len(operand.frame) else None
        names.extend(str(n) for n in first) if is_listy(first) else names.append(item)
    return [n for n in dict.fromkeys(names) if n in operand.frame.columns]


def is_unique_set(operand: Operand) -> pd.Series:
    columns = _columns(operand)
    group = operand.frame[columns].astype(object).fillna("_NaN_")
    regex = operand.params.get("regex")
    if regex:
        # as CORE: only the columns whose first value matches take the regex's first match
        for column in group.columns:
            sample = next(iter(v for v in group[column] if v != "_NaN_"), None)
            if isinstance(sample, str) and re.match(regex, sample):
                group[column] = per_distinct(
                    group[column], lambda v: _first_match(regex, v) if isinstance(v, str) and v else v
                )
    return ~group.duplicated(keep=False)


def is_not_unique_set(operand: Operand) -> pd.Series:
    return ~is_unique_set(operand)


def _key(frame: pd.DataFrame, columns: list[str]) -> tuple[pd.Series, pd.Series]:
    """Rows as one hashable key per record, and whether any part of it is null."""
    parts = frame[columns].astype(object)
    nulls = pd.concat([is_null(parts[c]) for c in columns], axis=1).any(axis=1)
    # several columns: one group number per distinct combination of their values
    key = parts.groupby(columns, dropna=False, sort=False).ngroup() if len(columns) > 1 else parts[columns[0]]
    return key, nulls


def _violations(key: pd.Series, key_null: pd.Series, value: pd.Series, value_null: pd.Series) -> pd.Series:
    """Records whose key maps to several values (or to a value and a null)."""
    pairs = pd.DataFrame({"key": key, "value": value.where(~value_null, None), "null": value_null})[~key_null]
    pairs = pairs.drop_duplicates(subset=["key", "value"])
    grouped = pairs.groupby("key", dropna=True, sort=False)
    distinct = grouped["value"].nunique(dropna=True)
    has_null = grouped["null"].any()
    bad = distinct[(distinct > 1) | ((distinct >= 1) & has_null)].index
    return key.isin(list(bad)) & ~key_null


def is_not_unique_relationship(operand: Operand) -> pd.Series:
    comparators = [c for c in operand.params.get("comparator_names") or () if c in operand.frame.columns]
    if not comparators:
        return pd.Series(False, index=operand.frame.index)
    target, target_null = _key(operand.frame, [operand.target])
    other, other_null = _key(operand.frame, comparators)
    return _violations(target, target_null, other, other_null) | _violations(other, other_null, target, target_null)


def is_unique_relationship(operand: Operand) -> pd.Series:
    return ~is_not_unique_relationship(operand)


def is_inconsistent_across_dataset(operand: Operand) -> pd.Series:
    """Within each group of the comparator columns, the records off the most common value
    (all of them when two values tie)."""
    groups = [c for c in operand.params.get("comparator_names") or () if c in operand.frame.columns]
    frame = operand.frame[[*groups, operand.target]].astype(object).fillna("_NaN_")
    regex = operand.params.get("regex")
    if regex:
        pattern = regex if re.compile(regex).groups else f"({regex})"
        extracted = frame[operand.target].astype(str).str.extract(pattern, expand=True)[0]
        frame[operand.target] = extracted.fillna(frame[operand.target])
    if not groups:
        frame["_all_"] = 0
        groups = ["_all_"]
    counts = frame.groupby([*groups, operand.target], dropna=False)[operand.target].transform("size")
    top = counts.groupby([frame[g] for g in groups], dropna=False).transform("max")
    # a tie: two or more values of the group reach the top count
    top_values = frame[operand.target].where(counts == top)
    tied = top_values.groupby([frame[g] for g in groups], dropna=False).transform("nunique") > 1
    several = frame.groupby(groups, dropna=False)[operand.target].transform("nunique") > 1
    return _mask(several & ((counts < top) | tied), operand.frame.index)


def present_on_multiple_rows_within(operand: Operand) -> pd.Series:
    within = operand.params.get("within")
    minimum = int(operand.comparator or 1) if not isinstance(operand.comparator, pd.Series) else 1
    sizes = operand.frame.groupby([within, operand.target], dropna=False)[operand.target].transform("size")
    return _mask(sizes > minimum, operand.frame.index)


def not_present_on_multiple_rows_within(operand: Operand) -> pd.Series:
    return ~present_on_multiple_rows_within(operand)


def empty_within_except_last_row(operand: Operand) -> pd.Series:
    """Per comparator group, sorted by `ordering`: the target is null on every record but the last."""
    by = [operand.params["comparator_names"][0]]
    ordering = operand.params.get("ordering")
    ordered = operand.frame.sort_values(by=[*by, ordering] if ordering else by, kind="stable")
    last = ~ordered.duplicated(subset=by, keep="last")
    result = is_null(ordered[operand.target]) | last
    return _mask(result.reindex(operand.frame.index), operand.frame.index) & ~last.reindex(operand.frame.index)


def _within(operand: Operand) -> list[str]:
    within = operand.params.get("within")
    return list(within) if isinstance(within, (list, tuple)) else [within]


def has_next_corresponding_record(operand: Operand) -> pd.Series:
    """CORE's has_next_corresponding_record: within each group (`within`) ordered by `ordering`,
    the target equals the comparator of the next record; the last record of a group has none
    to compare and passes. (CORE sets its answers on the records in that order; SDTM datasets
    are sorted so, and here each answer stays on its own record.)"""
    within = _within(operand)
    comparator = operand.params["comparator_names"][0]
    frame = operand.frame.reset_index(drop=True)
    ordered = frame[[*within, operand.target, comparator, operand.params["ordering"]]].sort_values(
        operand.params["ordering"], kind="stable"
    )
    following = ordered.groupby(within, sort=False)[comparator].shift(-1)
    last = ~ordered.duplicated(subset=within, keep="last")
    same = _plain(ordered[operand.target]).eq(_plain(following)).fillna(False).astype(bool)
    grouped = ordered[within].notna().all(axis=1)
    answer = (same | last | ~grouped).sort_index()
    return pd.Series(answer.to_numpy(dtype=bool), index=operand.frame.index)


def does_not_have_next_corresponding_record(operand: Operand) -> pd.Series:
    return ~has_next_corresponding_record(operand)


def _date_text(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """CORE's parse_date: the date up to its first "--", and its precision (the number of
    parts between -, T and :); 0 for what is not a date."""
    valid = per_value(values, is_valid_date)
    text = values.astype("string").str.split("--", n=1).str[0].where(valid)
    precision = text.str.count(r"[^-T:]+").fillna(0).astype(int)
    return text, precision


def _overlapping_dates(data: pd.DataFrame, group: str, comparator: str) -> pd.Series:
    """CORE's check_date_overlaps: two dates of a group at different precisions where the
    finer one starts with the coarser (2005-10 and 2005-10-08) cannot be ordered; both are
    marked. One join per (precision, length) of the coarser dates, never per pair of records."""
    text, precision = _date_text(data[comparator])
    dates = pd.DataFrame({"group": data[group], "text": text, "precision": precision})[text.notna()]
    marked = pd.Series(False, index=data.index)
    lengths = dates["text"].str.len()
    for (level, length), coarse in dates.groupby([dates["precision"], lengths]):
        finer = dates[dates["precision"] > level]
        keyed = finer.assign(text=finer["text"].str.slice(stop=int(length)))
        pairs = coarse.reset_index(names="coarse").merge(keyed.reset_index(names="finer"), on=["group", "text"])
        marked[pd.unique(np.concatenate([pairs["coarse"].to_numpy(), pairs["finer"].to_numpy()]))] = True
    return marked


def _sorted_by(operand: Operand, within: list[str], comparator: str, ascending: bool, nulls_last: bool) -> pd.Series:
    """One `value` entry of CORE's target_is_sorted_by on positions 0..n-1: per group, in
    target order, whether each record's comparator keeps the order (False: a finding)."""
    frame = operand.frame.reset_index(drop=True)
    target = operand.target
    data = frame[[*dict.fromkeys([*within, target, comparator])]].copy()
    data["__group"] = data.groupby(within, sort=False, dropna=True).ngroup()
    data = data[data["__group"] >= 0].sort_values(["__group", target], kind="stable")
    valid = pd.Series(True, index=frame.index)
    if data.empty:
        return valid
    compared = data[comparator]
    numeric = pd.api.types.is_numeric_dtype(compared)
    null = compared.isna() | compared.astype("string").str.strip().eq("").fillna(True).astype(bool)
    position = data.groupby("__group").cumcount()
    # nulls where `null_position` says: else every null of the group is out of place
    by_group = pd.DataFrame({"g": data["__group"], "pos": position, "null": null})
    first_null = by_group[by_group["null"]].groupby("g")["pos"].min()
    last_value = by_group[~by_group["null"]].groupby("g")["pos"].max()
    if nulls_last:
        misplaced = (first_null < last_value.reindex(first_null.index)).fillna(False)
    else:
        last_null = by_group[by_group["null"]].groupby("g")["pos"].max()
        first_value = by_group[~by_group["null"]].groupby("g")["pos"].min()
        misplaced = (last_null > first_value.reindex(last_null.index)).fillna(False)
    valid[data.index[null & data["__group"].isin(misplaced[misplaced].index).to_numpy()]] = False
    overlap = pd.Series(False, index=data.index) if numeric else _overlapping_dates(data, "__group", comparator)
    valid[overlap[overlap].index] = False
    # the target sequence against the targets sorted by the comparator, place by place
    ordered = data[~null & ~overlap]
    actual = ordered.assign(__rank=ordered.groupby("__group").cumcount())
    by_value = ordered.sort_values(["__group", comparator], ascending=[True, ascending], kind="stable")
    expected = by_value.assign(__rank=by_value.groupby("__group").cumcount())[["__group", "__rank", target]]
    placed = actual.reset_index(names="__row").merge(expected, on=["__group", "__rank"], suffixes=("", "__expected"))
    left, right = placed[target], placed[f"{target}__expected"]
    if not pd.api.types.is_numeric_dtype(left):
        left, right = (_date_text(side)[0].fillna(side.astype("string")) for side in (left, right))
    differs = ~(left.eq(right).fillna(False).astype(bool) | (left.isna() & right.isna()))
    valid[placed.loc[differs.to_numpy(), "__row"].to_numpy()] = False
    # each comparator against its neighbours in target order
    present = data[~null]
    values = present[comparator]
    before = values.groupby(present["__group"]).shift(1)
    after = values.groupby(present["__group"]).shift(-1)
    checkable = pd.Series(True, index=present.index) if numeric else per_value(values.astype(str), is_valid_date)
    if ascending:
        out = before.notna() & (values < before) | after.notna() & (values > after)
    else:
        out = before.notna() & (values > before) | after.notna() & (values < after)
    valid[present.index[(out.fillna(False).astype(bool) & checkable).to_numpy()]] = False
    return valid


def target_is_sorted_by(operand: Operand) -> pd.Series:
    """CORE's target_is_sorted_by: within `within`, records in target order (--SEQ) have their
    comparators (--STDTC) in `sort_order`, nulls at `null_position`, and no two dates of
    different precision that overlap."""
    within = [with_domain(w, operand.domain) for w in _within(operand)]
    valid = pd.Series(True, index=pd.RangeIndex(len(operand.frame)))
    for entry in operand.comparator if is_listy(operand.comparator) else [operand.comparator]:
        comparator = with_domain(str(entry["name"]), operand.domain)
        if comparator not in operand.frame.columns:
            raise NotApplicable(f"{comparator} not in dataset")
        ascending = str(entry.get("sort_order", "asc")).lower() != "desc"
        nulls_last = str(entry.get("null_position", "last")).lower() == "last"
        valid &= _sorted_by(operand, within, comparator, ascending, nulls_last)
    return pd.Series(valid.to_numpy(), index=operand.frame.index)


def target_is_not_sorted_by(operand: Operand) -> pd.Series:
    return ~target_is_sorted_by(operand)


def is_ordered_subset_of(operand: Operand) -> pd.Series:
    """CORE's is_ordered_subset_of: every name in the target list is in the comparator list,
    in the comparator's order. Worked out once per distinct pair of lists (an operation's
    results are one list for all rows)."""
    target_codes, _ = pd.factorize(object_ids(operand.values))
    comparator = operand.comparator
    if not isinstance(comparator, pd.Series):
        comparator = pd.Series([comparator] * len(operand.frame), index=operand.frame.index, dtype=object)
    comparator_codes, _ = pd.factorize(object_ids(comparator))
    _, first_rows, pair_of_row = np.unique(
        np.stack([target_codes, comparator_codes], axis=1), axis=0, return_index=True, return_inverse=True
    )
    answers = np.zeros(len(first_rows), dtype=bool)
    for pair, row in enumerate(first_rows):
        names, order = operand.values.iloc[row], comparator.iloc[row]
        places = {name: place for place, name in enumerate(order if is_listy(order) else [])}
        positions = [places.get(name) for name in (names if is_listy(names) else [])]
        answers[pair] = None not in positions and positions == sorted(positions)
    return pd.Series(answers[pair_of_row.ravel()], index=operand.frame.index)


def is_not_ordered_subset_of(operand: Operand) -> pd.Series:
    return ~is_ordered_subset_of(operand)


# -- dates and durations ----------------------------------------------------------------------

_DATE = re.compile(
    r"^((?P<year>-?[0-9]{4}|-)(-{1,2}(?P<month>1[0-2]|0[1-9]|-))?"
    r"(-{1,2}(?P<day>3[01]|0[1-9]|[12][0-9]|-))?"
    r"(T(?P<hour>2[0-3]|[01][0-9]|-)(:((?P<minute>[0-5][0-9]|-))"
    r"(:((?P<second>[0-5][0-9]|-))?(\.(?P<microsecond>[0-9]+))?)?)?"
    r"(?P<timezone>Z|[+-](2[0-3]|[01][0-9]):[0-5][0-9])?)?"
    r"(\/(?P<interval_year>-?[0-9]{4}|-)(-{1,2}(?P<interval_month>1[0-2]|0[1-9]|-))?"
    r"(-{1,2}(?P<interval_day>3[01]|0[1-9]|[12][0-9]|-))?"
    r"(T(?P<interval_hour>2[0-3]|[01][0-9]|-)(:((?P<interval_minute>[0-5][0-9]|-))"
    r"(:((?P<interval_second>[0-5][0-9]|-))?(\.(?P<interval_microsecond>[0-9]+))?)?)?"
    r"(?P<interval_timezone>Z|[+-](2[0-3]|[01][0-9]):[0-5][0-9])?)?)?"
    r"|-{4,8}T(?P<timeonly_hour>2[0-3]|[01][0-9]|-)(:((?P<timeonly_minute>[0-5][0-9]|-))"
    r"(:((?P<timeonly_second>[0-5][0-9]|-))?(\.(?P<timeonly_microsecond>[0-9]+))?)?)?"
    r"(?P<timeonly_timezone>Z|[+-](2[0-3]|[01][0-9]):[0-5][0-9])?)$"
)
_PRECISIONS = ("year", "month", "day", "hour", "minute", "second", "microsecond")
_DEFAULTS = (1970, 1, 1, 0, 0, 0, 0)
_UNCERTAIN = ("/", "--", "-:")


def is_valid_date(text: Any) -> bool:
    """ISO 8601 as SDTMIG 4.4 allows it (partial dates with "-" for unknown parts)."""
    if not isinstance(text, str):
        return False
    try:
        isoparse(text)
    except (ValueError, OverflowError):
        if not any(mark in text for mark in _UNCERTAIN):
            return False
    return _DATE.match(text) is not None


def _components(text: str) -> list[str | None]:
    match = _DATE.match(text)
    if match is None:
        return [None] * len(_PRECISIONS)
    found = []
    for name in _PRECISIONS:
        part = match.group(name) or match.group(f"interval_{name}")
        if part is None and name not in ("year", "month", "day"):
            part = match.group(f"timeonly_{name}")
        found.append(None if part in (None, "", "-") else part)
    return found


@lru_cache(maxsize=4096)
def _precision(text: str) -> int | None:
    """Index of the last known component before the first unknown one (CORE's precision)."""
    if not text or _DATE.match(text) is None:
        return None
    parts = _components(text)
    if all(p is None for p in parts):
        return None
    for position, part in enumerate(parts):
        if part is None:
            return position - 1 if position else None
    return len(_PRECISIONS) - 1


def _moment(text: str) -> datetime | None:
    if any(mark in text for mark in _UNCERTAIN):
        parts = _components(text)
        try:
            return datetime(*(int(p or d) for p, d in zip(parts, _DEFAULTS, strict=True)), tzinfo=UTC)
        except ValueError:
            pass
    try:  # a complete ISO 8601 date/time: Python reads it as dateutil does, ~20x faster
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = parse(text, default=datetime(1970, 1, 1))
    return (
        moment.astimezone(UTC)
        if moment.tzinfo is not None and moment.utcoffset() is not None
        else moment.replace(tzinfo=UTC)
    )


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _microseconds(moment: datetime) -> int:
    """A moment as microseconds since 1970 (int64 holds years 1 to 9999, unlike datetime64[ns])."""
    return (moment - _EPOCH) // _MICROSECOND


@lru_cache(maxsize=65536)
def _date_facts(value: str | None) -> tuple[Any, ...]:
    """What CORE's compare_dates needs of one date, worked out once per distinct value: its
    precision (-1: invalid or null), the moment, the moment cut at each precision, and its
    components (all None when it cannot be read)."""
    unreadable = (-1, None, *[None] * len(_PRECISIONS), *[None] * len(_PRECISIONS))
    if not value or not is_valid_date(value):
        return unreadable
    precision = _precision(value)
    try:
        moment = _moment(value)
        cuts = [
            moment.replace(**dict(zip(_PRECISIONS[level + 1 :], _DEFAULTS[level + 1 :], strict=True)))
            for level in range(len(_PRECISIONS))
        ]
    except (ValueError, TypeError, OverflowError):
        return unreadable
    return (
        -1 if precision is None else precision,
        _microseconds(moment),
        *[_microseconds(cut) for cut in cuts],
        *[getattr(moment, name) for name in _PRECISIONS],
    )


@dataclass(frozen=True)
class _DateFacts:
    """`_date_facts` of each record's value, as arrays taken from one row per distinct text."""

    precision: np.ndarray  # -1: not a date (or null)
    readable: np.ndarray  # the moment could be worked out
    cuts: np.ndarray  # (records, precisions) microseconds of the moment cut to each precision
    has_cut: np.ndarray  # (records, precisions)
    facts: pd.DataFrame  # the distinct values' facts, a null row last
    codes: np.ndarray  # each record's row of `facts`

    def component(self, name: str) -> pd.Series:
        return pd.Series(self.facts[name].to_numpy()[self.codes])


def _date_table(values: pd.Series) -> _DateFacts:
    """The facts of each value's date, worked out once per distinct text value: text columns
    factorized by Arrow, other values (numbers, an operation's lists) are not dates."""
    if pd.api.types.is_string_dtype(values.dtype) and values.dtype != object:
        codes, distinct = pd.factorize(values)
    else:
        text = values.astype(object)
        codes, distinct = pd.factorize(text.where(text.map(type).eq(str), None))
    columns = ["precision", "moment", *[f"cut_{n}" for n in _PRECISIONS], *_PRECISIONS]
    facts = pd.DataFrame([_date_facts(v) for v in distinct], columns=columns, dtype=object)
    facts = pd.concat([facts, pd.DataFrame([[-1] + [None] * (len(columns) - 1)], columns=columns)], ignore_index=True)
    codes = np.where(codes < 0, len(facts) - 1, codes)  # -1: null text
    cuts = facts[[f"cut_{n}" for n in _PRECISIONS]]
    has_cut = cuts.notna().to_numpy()
    return _DateFacts(
        precision=facts["precision"].astype(int).to_numpy()[codes],
        readable=facts["moment"].notna().to_numpy()[codes],
        cuts=cuts.where(cuts.notna(), 0).astype("int64").to_numpy()[codes],
        has_cut=has_cut[codes],
        facts=facts,
        codes=codes,
    )


def _date_comparison(compare: Callable[[Any, Any], Any]) -> Operator:
    """CORE's compare_dates (cdisc-rules-engine 0.15 on, PR #1544) on whole columns: invalid
    or null dates never compare; both are cut to the precision they share, for ordering too
    (2021-02-09 is not after 2021-02: the end may be later that month); eq/ne also need (eq)
    or count as different (ne) at a different precision, unless date_component says what."""

    def run(operand: Operand) -> pd.Series:
        target = operand.values
        comparator = operand.comparator
        right = comparator if isinstance(comparator, pd.Series) else pd.Series(comparator, index=target.index)
        left, other = _date_table(target), _date_table(right)
        first, second = left.precision, other.precision
        readable = (first >= 0) & (second >= 0) & left.readable & other.readable
        component = operand.params.get("date_component")
        if component not in (None, "auto"):
            answer = _compared(left.component(component), other.component(component), compare).to_numpy()
        else:
            shared = np.minimum(first, second).clip(min=0)
            rows = np.arange(len(target))
            present = left.has_cut[rows, shared] & other.has_cut[rows, shared]
            answer = np.asarray(compare(left.cuts[rows, shared], other.cuts[rows, shared]), dtype=bool) & present
            if component is None and compare in (op.eq, op.ne):
                answer = np.where(first == second, answer, compare is op.ne)
        return _mask(answer & readable, target.index)

    return run


def _compared(left: pd.Series, right: pd.Series, compare: Callable[[Any, Any], Any]) -> pd.Series:
    """`compare` of two object columns of numbers, False where either is missing."""
    present = left.notna() & right.notna()
    numbers = compare(left.where(present, 0).astype("int64"), right.where(present, 0).astype("int64"))
    return pd.Series(numbers, dtype=bool) & present


def _complete(text: Any) -> bool:
    if not isinstance(text, str):
        return False
    try:
        datetime.fromisoformat(text)
    except ValueError:
        try:
            datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return False
    return True


def is_complete_date(operand: Operand) -> pd.Series:
    return per_value(operand.values, _complete)


def is_incomplete_date(operand: Operand) -> pd.Series:
    return ~is_complete_date(operand)


def invalid_date(operand: Operand) -> pd.Series:
    return ~per_value(operand.values, is_valid_date)


_DURATION = (
    r"^{sign}P(?!$)(?:(?:(\d+(?:[.,]\d*)?Y)?[,]?(\d+(?:[.,]\d*)?M)?[,]?"
    r"(\d+(?:[.,]\d*)?D)?[,]?(T(?=\d)(?:(\d+(?:[.,]\d*)?H)?[,]?"
    r"(\d+(?:[.,]\d*)?M)?[,]?(\d+(?:[.,]\d*)?S)?)?)?)|(\d+(?:[.,]\d*)?W))$"
)


def is_valid_duration(text: Any, negative: bool) -> bool:
    """ISO 8601 durations (SDTMIG 4.4.3); a decimal only in the smallest unit given."""
    match = re.match(_DURATION.format(sign="[-]?" if negative else ""), str(text))
    if not match:
        return False
    years, months, days, time, hours, minutes, seconds, weeks = match.groups()
    if time and not any([hours, minutes, seconds]):
        return False
    parts = [c for c in (years, months, weeks, days, hours, minutes, seconds) if c is not None]
    decimals = [i for i, c in enumerate(parts) if "." in c or "," in c]
    return not decimals or decimals == [len(parts) - 1]


def invalid_duration(operand: Operand) -> pd.Series:
    negative = operand.params.get("negative") is not False
    return ~per_value(operand.values, lambda v: is_valid_duration(v, negative))


OPERATORS: dict[str, Operator] = {
    "exists": exists,
    "not_exists": not_exists,
    "empty": empty,
    "non_empty": non_empty,
    "equal_to": equal_to,
    "not_equal_to": not_equal_to,
    "equal_to_case_insensitive": equal_to_case_insensitive,
    "not_equal_to_case_insensitive": not_equal_to_case_insensitive,
    "less_than": _numeric_comparison(op.lt),
    "less_than_or_equal_to": _numeric_comparison(op.le),
    "greater_than": _numeric_comparison(op.gt),
    "greater_than_or_equal_to": _numeric_comparison(op.ge),
    "longer_than": longer_than,
    "shorter_than": shorter_than,
    "is_contained_by": is_contained_by,
    "is_not_contained_by": is_not_contained_by,
    "is_contained_by_case_insensitive": is_contained_by_case_insensitive,
    "is_not_contained_by_case_insensitive": is_not_contained_by_case_insensitive,
    "contains": contains,
    "does_not_contain": does_not_contain,
    "contains_all": contains_all,
    "not_contains_all": not_contains_all,
    "shares_no_elements_with": shares_no_elements_with,
    "prefix_equal_to": _part_equal_to,
    "suffix_equal_to": _part_equal_to,
    "prefix_not_equal_to": lambda operand: ~_part_equal_to(operand),
    "suffix_not_equal_to": lambda operand: ~_part_equal_to(operand),
    "prefix_is_contained_by": _part_contained,
    "suffix_is_contained_by": _part_contained,
    "prefix_is_not_contained_by": lambda operand: ~_part_contained(operand),
    "suffix_is_not_contained_by": lambda operand: ~_part_contained(operand),
    "matches_regex": _matching(search=False, part=False, negate=False),
    "not_matches_regex": _matching(search=False, part=False, negate=True),
    "prefix_matches_regex": _matching(search=True, part=True, negate=False),
    "not_prefix_matches_regex": _matching(search=True, part=True, negate=True),
    "suffix_matches_regex": _matching(search=True, part=True, negate=False),
    "not_suffix_matches_regex": _matching(search=True, part=True, negate=True),
    "starts_with": starts_with,
    "ends_with": ends_with,
    "equals_string_part": equals_string_part,
    "does_not_equal_string_part": does_not_equal_string_part,
    "is_unique_set": is_unique_set,
    "is_not_unique_set": is_not_unique_set,
    "is_unique_relationship": is_unique_relationship,
    "is_not_unique_relationship": is_not_unique_relationship,
    "is_inconsistent_across_dataset": is_inconsistent_across_dataset,
    "present_on_multiple_rows_within": present_on_multiple_rows_within,
    "not_present_on_multiple_rows_within": not_present_on_multiple_rows_within,
    "empty_within_except_last_row": empty_within_except_last_row,
    "has_next_corresponding_record": has_next_corresponding_record,
    "does_not_have_next_corresponding_record": does_not_have_next_corresponding_record,
    "target_is_sorted_by": target_is_sorted_by,
    "target_is_not_sorted_by": target_is_not_sorted_by,
    "is_ordered_subset_of": is_ordered_subset_of,
    "is_not_ordered_subset_of": is_not_ordered_subset_of,
    "date_equal_to": _date_comparison(op.eq),
    "date_not_equal_to": _date_comparison(op.ne),
    "date_less_than": _date_comparison(op.lt),
    "date_less_than_or_equal_to": _date_comparison(op.le),
    "date_greater_than": _date_comparison(op.gt),
    "date_greater_than_or_equal_to": _date_comparison(op.ge),
    "is_complete_date": is_complete_date,
    "is_incomplete_date": is_incomplete_date,
    "invalid_date": invalid_date,
    "invalid_duration": invalid_duration,
}
# Operators that take a target the dataset lacks: (not_)exists look at the columns, the
# unique-set operators at those of their variables the dataset has (as in CORE).
COLUMN_OPERATORS = frozenset({"exists", "not_exists", "is_unique_set", "is_not_unique_set"})
