"""Whole-column text kernels run by pyarrow in C, shared by every pipeline stage.

pandas 3 keeps text in Arrow arrays, but several of its string methods (`str.extract`,
`str.encode`, `isin` with a large candidate list) still visit every value in Python, and
`pd.to_numeric` converts Arrow text to Python objects first. At a few million records
these dominate a conversion (issue #9), so the handful the pipeline needs are here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

# What `pd.to_numeric` accepts as a decimal number (no thousands marks, "." as decimal).
_NUMBER = r"^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$"


def arrow_text(values: pd.Series) -> pa.Array:
    """The column as one contiguous Arrow string array (zero-copy when pandas already holds
    it in one piece). pandas may hold a column in several chunks, and some kernels then
    answer per chunk: `dictionary_encode` gives each chunk its own codes."""
    text = pa.array(values.astype("string"), type=pa.large_string())
    if isinstance(text, pa.ChunkedArray):
        return text.chunk(0) if text.num_chunks == 1 else text.combine_chunks()
    return text


def text_series(array: pa.Array, index: pd.Index) -> pd.Series:
    return pd.Series(array, dtype="str", index=index)


def empty_for_missing(values: pd.Series) -> pa.Array:
    """The text with "" for a missing value. Arrow gives a missing value no characters, so
    dropping the validity bitmap is that, without copying the characters; only a column
    whose missing slots hold characters (possible in Arrow, not made by this program) is
    filled value by value."""
    text = arrow_text(values)
    if text.null_count == 0:
        return text
    _, offsets, data = text.buffers()
    bounds = np.frombuffer(offsets, dtype=np.int64, count=len(text) + 1, offset=8 * text.offset)
    missing = pc.is_null(text).to_numpy(zero_copy_only=False)
    if np.diff(bounds)[missing].any():
        return pc.fill_null(text, "")
    return pa.Array.from_buffers(pa.large_string(), len(text), [None, offsets, data], null_count=0, offset=text.offset)


def constant_text(value: str | None, index: pd.Index) -> pd.Series:
    """One text value (or missing) for every record, repeated by Arrow: pandas would broadcast
    the scalar through an object array of the column's length first."""
    text = pa.scalar(value, type=pa.large_string())
    return pd.Series(pa.repeat(text, len(index)), index=index, dtype=pd.StringDtype("pyarrow"))


def extract_parts(values: pd.Series, pattern: str) -> pd.DataFrame:
    """`str.extract` with named groups. A value that does not match, or an optional group
    that did not take part, gives a missing part (RE2 reports the latter as "", so groups
    must not match the empty string)."""
    parts = pc.extract_regex(arrow_text(values), pattern)
    columns = {}
    for position in range(parts.type.num_fields):
        name = parts.type.field(position).name
        part = pc.struct_field(parts, name)
        columns[name] = text_series(pc.if_else(pc.equal(part, ""), None, part), values.index)
    return pd.DataFrame(columns, index=values.index)


def byte_lengths(values: pd.Series, *, trailing_blanks: bool = True) -> np.ndarray:
    """UTF-8 byte length of each value (0 for missing): XPT measures text in bytes."""
    text = pc.fill_null(arrow_text(values), "")
    # trimming copies every value; text read from XPT has no trailing blanks left to trim
    if not trailing_blanks and pc.any(pc.ends_with(text, pattern=" ")).as_py():
        text = pc.utf8_rtrim(text, characters=" ")
    return pc.binary_length(text).to_numpy(zero_copy_only=False)


def is_blank(values: pd.Series) -> np.ndarray:
    """Missing, or text that is empty or only blanks (a CDISC null in XPT). Classifying
    reads a value up to its first other character; trimming would copy every value."""
    text = arrow_text(values)
    blank = pc.or_(pc.equal(pc.binary_length(text), 0), pc.utf8_is_space(text))
    return pc.fill_null(blank, True).to_numpy(zero_copy_only=False)


def not_ascii(values: pd.Series) -> np.ndarray:
    """Whether text holds a character beyond ASCII (SAS XPORT v5 holds ASCII only); missing
    is fine. Arrow's kernel, where pandas' `str.isascii` asks Python value by value."""
    found = pc.invert(pc.string_is_ascii(arrow_text(values)))
    return pc.fill_null(found, False).to_numpy(zero_copy_only=False)


def has_unprintable(values: pd.Series) -> np.ndarray:
    """Whether text holds anything but printable ASCII (0x20-0x7E); missing is fine.

    All value bytes are checked at once in numpy; only a column with such a byte is
    searched value by value (by RE2) for the records that hold it.
    """
    text = arrow_text(values)
    if len(text):
        _, offsets, data = text.buffers()
        bounds = np.frombuffer(offsets, dtype=np.int64, count=len(text) + 1, offset=8 * text.offset)
        content = np.frombuffer(data, dtype=np.uint8)[bounds[0] : bounds[-1]] if data is not None else np.empty(0)
        if not ((content < 0x20) | (content > 0x7E)).any():
            return np.zeros(len(text), dtype=bool)
    found = pc.match_substring_regex(text, r"[^\x20-\x7E]")
    return pc.fill_null(found, False).to_numpy(zero_copy_only=False)


def is_in(values: pd.Series, candidates: pd.Series | pd.Index | np.ndarray) -> np.ndarray:
    """Whether each text value is one of `candidates` (missing values never are)."""
    value_set = pa.array(pd.Series(candidates).dropna().astype("string").unique(), type=pa.large_string())
    found = pc.is_in(arrow_text(values), value_set=value_set, skip_nulls=True)
    return pc.fill_null(found, False).to_numpy(zero_copy_only=False)


def parse_numbers(text: pd.Series) -> pd.Series:
    """Decimal text as float64, NaN where missing or not a number (like `pd.to_numeric`
    with errors="coerce" for plain decimals, without a Python object per value)."""
    array = arrow_text(text)
    valid = pc.fill_null(pc.match_substring_regex(array, _NUMBER), False)
    numbers = pc.cast(pc.utf8_trim_whitespace(pc.if_else(valid, array, None)), pa.float64())
    return pd.Series(numbers.to_numpy(zero_copy_only=False), index=text.index, dtype="float64")


def text_codes(values: pd.Series) -> np.ndarray:
    """Integer codes of text as XPT compares it (surrounding blanks trimmed, missing = empty):
    equal codes for equal values, to find records sharing keys in one hash pass."""
    trimmed = pc.fill_null(pc.utf8_trim_whitespace(arrow_text(values)), "")
    return pc.dictionary_encode(trimmed).indices.to_numpy(zero_copy_only=False)


def key_codes(frames: Sequence[pd.DataFrame], by: Sequence[str], *, missing_matches: bool = True) -> list[np.ndarray]:
    """One integer per record of each frame for its `by` values, equal across the frames
    exactly when the values are: joins, groups and lookups then hash integers, not text.
    Numbers compare as numbers (VISITNUM 101 and 101.0). A missing value equals a missing
    one (as in a pandas merge or `drop_duplicates`), or with `missing_matches=False` gets
    -1 and matches nothing (a lookup by a missing key finds no record)."""
    lengths = [len(frame) for frame in frames]
    combined = np.zeros(sum(lengths), dtype=np.int64)
    absent = np.zeros(sum(lengths), dtype=bool)
    for column in by:
        codes, distinct = pd.factorize(
            pd.concat([frame[column] for frame in frames], ignore_index=True), use_na_sentinel=not missing_matches
        )
        absent |= codes < 0
        combined = pd.factorize(combined * (len(distinct) + 1) + codes)[0] if len(by) > 1 else codes.astype(np.int64)
    if not missing_matches and len(by) > 1:
        combined[absent] = -1
    return np.split(combined, np.cumsum(lengths)[:-1])


def first_of_each(codes: np.ndarray) -> np.ndarray:
    """The position of the first record of each distinct code, in record order
    (`drop_duplicates`): hashing integers, where `np.unique` would sort them."""
    return pd.Series(codes).drop_duplicates().index.to_numpy()


def sorted_codes(values: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """`pd.factorize(values, sort=True)`: each value's rank among the distinct values (-1
    missing) and the distinct values in order, the few distinct values sorted by Arrow in
    C rather than compared in Python."""
    codes, distinct = pd.factorize(values)
    if not len(distinct):
        return codes, distinct
    order = pd.Series(distinct).argsort().to_numpy()
    rank = np.empty(len(distinct), dtype=np.int64)
    rank[order] = np.arange(len(distinct))
    return np.where(codes < 0, -1, rank[codes]), distinct.take(order)


def stable_order(frame: pd.DataFrame, columns: Sequence[str], ascending: Sequence[bool] | None = None) -> np.ndarray:
    """The positions of the records sorted by `columns`: `sort_values(kind="stable",
    na_position="last")` (ties keep the records' order, a missing value sorts last whether
    the column ascends or descends), sorting the ranks of each column's distinct values, a
    few hundred dates or 100,000 subjects, rather than the values: small integers sort in
    one radix pass, text compared value by value does not."""
    ascending = [True] * len(columns) if ascending is None else list(ascending)
    key = np.zeros(len(frame), dtype=np.int64)
    span = 1  # the key's values are below this
    for column, up in zip(columns, ascending, strict=True):
        codes, distinct = sorted_codes(frame[column])
        count = len(distinct)
        rank = np.where(codes < 0, count, codes if up else count - 1 - codes)
        if span * (count + 1) >= 2**62:  # the next digit would overflow: renumber densely
            key = pd.factorize(key, sort=True)[0]
            span = int(key.max()) + 1 if len(key) else 1
        key, span = key * (count + 1) + rank, span * (count + 1)
    small = key.astype(np.int16) if span <= np.iinfo(np.int16).max else key
    return np.argsort(small, kind="stable")


def extreme_per_key(keys: np.ndarray, values: pd.Series, how: Literal["min", "max"]) -> pd.Series:
    """The least or greatest value per integer key (ISO dates: the earliest or latest),
    indexed by key; a key with no value is absent, and so are records with key -1. The
    values' ranks are compared, so a group reduces integers, not text."""
    codes, distinct = sorted_codes(values)
    return extreme_of_ranks(keys, codes, distinct, how).astype(values.dtype)


def extreme_of_ranks(keys: np.ndarray, codes: np.ndarray, distinct: pd.Index, how: Literal["min", "max"]) -> pd.Series:
    """`extreme_per_key` of values given as `sorted_codes`: the least or greatest per key, for
    callers that rank the same values for both (the first and last date of a visit)."""
    present = (codes >= 0) & (keys >= 0)
    ranks = pd.Series(codes[present]).groupby(keys[present]).agg(how)
    return pd.Series(distinct.take(ranks.to_numpy()), index=ranks.index)


def distinct_map(values: pd.Series, mapping: Mapping[str, str]) -> pd.Series:
    """`values.map(mapping)` as text, looking up each distinct value once (a codelist
    mapping of 1.7 million administrations has three raw codes)."""
    codes, distinct = pd.factorize(values)
    mapped = pd.Series(distinct, dtype="string").map(mapping).astype("string")
    return pd.Series(mapped.array.take(codes, allow_fill=True), index=values.index, dtype="string")


def lookup(keys: pd.Series, table_keys: pd.Series, table_values: pd.Series) -> pd.Series:
    """For each key, the value of the first table row with that key (missing if none):
    `keys.map(table.drop_duplicates().set_index(...))` as one hash join in Arrow."""
    positions = pc.index_in(arrow_text(keys), value_set=arrow_text(table_keys))
    positions = pc.fill_null(positions, -1).to_numpy(zero_copy_only=False)
    values = pd.api.extensions.take(table_values.array, positions, allow_fill=True)
    return pd.Series(values, index=keys.index, name=table_values.name)


def iso_dates_to_datetime(text: pd.Series) -> pd.Series:
    """datetime64 of `YYYY-MM-DD` text, NaT for anything else (partial, impossible, missing).
    Millions of records fall on a few thousand days: each distinct text is parsed once."""
    codes, distinct = pd.factorize(text)
    moments = _distinct_datetimes(pd.Series(distinct, dtype=text.dtype if len(distinct) else "str"))
    present = codes >= 0
    at = np.where(present, codes, 0)
    values = moments[at] if len(moments) else np.zeros(len(codes), dtype="datetime64[us]")
    return pd.Series(np.where(present, values, np.datetime64("NaT")), index=text.index, dtype="datetime64[us]")


def _distinct_datetimes(text: pd.Series) -> np.ndarray:
    array = pc.utf8_slice_codeunits(arrow_text(text), 0, 10)
    complete = pc.fill_null(pc.match_substring_regex(array, r"^\d{4}-\d{2}-\d{2}$"), False)
    candidates = pc.if_else(complete, array, None)
    try:  # Arrow's ISO parser refuses a day the month does not have (2020-02-30) ...
        dates = pc.cast(candidates, pa.date32())
    except pa.ArrowInvalid:  # ... for the whole array, so then check each value
        parsed = pc.strptime(candidates, format="%Y-%m-%d", unit="s", error_is_null=True)
        # strptime rolls 2020-02-30 over to 2020-03-01: a date must print back as written.
        exists = pc.fill_null(pc.equal(pc.strftime(parsed, format="%Y-%m-%d"), candidates), False)
        dates = pc.cast(pc.if_else(exists, parsed, None), pa.date32())
    return pc.cast(dates, pa.timestamp("us")).to_numpy(zero_copy_only=False)
