"""Read the raw EDC export into typed tables, checking it against the raw-file contract.

Reading options (delimiter, decimal mark, encoding, date layout) come from the study spec.
Each table keeps the physical line every record came from (`LINE`), so a problem or an SDTM
record can be traced back to the file as the user sees it in an editor (header = line 1).
All problems in all files are collected and raised together as `InputErrors`.

A wholesale mistake (the file saved with another delimiter, encoding or decimal mark, a
header row that is missing or belongs to another form, required columns missing) is one
root cause: it is reported once per file, and its per-record consequences are not, so the
user reads the one thing to fix instead of hundreds of lines that all say the same.

Typed values: text/code/flag stay text (missing = NA); integer -> Int64; decimal -> Float64;
date and partial_date -> ISO 8601 text (`2020-07-15`, `2020-07`, `2020`), the natural
typed form of a possibly partial date and exactly what SDTM --DTC variables hold.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyreadstat

from cdisc_cup.columns import extract_parts, is_in, parse_numbers
from cdisc_cup.constants import WORKER_THREADS
from cdisc_cup.errors import MAX_LOCATED, InputErrors, Problem
from cdisc_cup.provenance import LINE, RawTable
from cdisc_cup.spec.model import RawColumnSpec, RawFileSpec, ReaderOptions, StudySpec

COMMON_DELIMITERS = (",", ";", "\t", "|")  # what spreadsheet programs and EDC systems save with
SHOWN_CHARACTERS = 80  # of a line quoted in a problem
NEARLY_ALL = 0.95  # share of a file's decimal values with the other mark that makes the mark a wholesale mistake
ENCODING_GUESSES = {"utf-8": "UTF-8", "cp1252": "Windows-1252 (Latin-1)"}  # what exports are saved as instead

DATE_LAYOUTS = {
    # layout -> (regex with day, month, year groups)
    "DD.MM.YYYY": r"^(?P<day>\w{2})\.(?P<month>\w{2})\.(?P<year>\d{4})$",
    "DD/MM/YYYY": r"^(?P<day>\w{2})/(?P<month>\w{2})/(?P<year>\d{4})$",
    "MM/DD/YYYY": r"^(?P<month>\w{2})/(?P<day>\w{2})/(?P<year>\d{4})$",
    "YYYY-MM-DD": r"^(?P<year>\d{4})-(?P<month>\w{2})-(?P<day>\w{2})$",
    "MM-DD-YYYY": r"^(?P<month>\w{2})-(?P<day>\w{2})-(?P<year>\d{4})$",
    "DD-MON-YYYY": r"^(?P<day>\w{2})-(?P<month>[A-Za-z]{3})-(?P<year>\d{4})$",
}
# DD-MON-YYYY (SAS DATE11., 02-Jan-2014): English month abbreviations, in any case.
MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
MONTH_ABBREVIATIONS = {name: f"{number:02d}" for number, name in enumerate(MONTHS, 1)}


def _located(
    path: Path,
    frame: pd.DataFrame,
    mask: pd.Series | np.ndarray,
    column: str,
    raw: pd.Series,
    message: str,
    expected: str | None,
) -> list[Problem]:
    """One problem per flagged record, at most MAX_LOCATED and then a count."""
    flagged = np.flatnonzero(np.asarray(mask, dtype=bool))
    if not len(flagged):
        return []
    shown = flagged[:MAX_LOCATED]
    lines = frame[LINE].to_numpy()[shown]
    values = raw.iloc[shown].tolist()
    problems = [
        Problem(str(path), message, line=int(line), column=column, value=str(value), expected=expected)
        for line, value in zip(lines, values, strict=True)
    ]
    if len(flagged) > MAX_LOCATED:
        more = len(flagged) - MAX_LOCATED
        problems.append(Problem(str(path), f"… and {more} more records with the same problem", column=column))
    return problems


def _encoding_name(encoding: str) -> str:
    """How a user knows the codec: `utf-8-sig` is UTF-8 with or without a byte-order mark."""
    return encoding.lower().removesuffix("-sig").upper()


def _shortened(text: str) -> str:
    return text if len(text) <= SHOWN_CHARACTERS else text[: SHOWN_CHARACTERS - 1] + "…"


def _is_utf16(data: bytes) -> bool:
    """A UTF-16 byte-order mark, or every other byte NUL (mostly-ASCII UTF-16 without one)."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return True
    sample = data[:4096]
    half = len(sample) // 2
    if half < 2:
        return False
    nuls = sorted((sample[0::2].count(0), sample[1::2].count(0)))
    return nuls[1] >= 0.6 * half and nuls[0] <= 0.05 * half


def _word_at(data: bytes, start: int, encoding: str, options: ReaderOptions) -> str:
    """The word holding the first undecodable byte, as the export's real encoding shows it."""
    line_start = data.rfind(b"\n", 0, start) + 1
    line_end = data.find(b"\n", start)
    line = data[line_start : line_end if line_end >= 0 else len(data)].decode(encoding, errors="replace")
    at = len(data[line_start:start].decode(encoding, errors="replace"))
    separators = "\\s" + re.escape(options.delimiter) + re.escape(options.quote)
    left = re.search(f"[^{separators}]*$", line[:at])
    right = re.match(f"[^{separators}]*", line[at:])
    word = (left.group() if left else "") + (right.group() if right else "")
    return _shortened(word or line[at : at + 1])


def _wrong_encoding(path: Path, data: bytes, start: int, options: ReaderOptions) -> Problem:
    """One problem per file naming what the bytes probably are, located at the first bad byte."""
    expected_name = _encoding_name(options.encoding)
    if _is_utf16(data):
        return Problem(
            str(path),
            f"the file is UTF-16 text; the spec expects {expected_name}",
            line=1,
            value=data[:8].hex(" ").upper(),  # the byte-order mark or the NUL after every ASCII letter
            expected=f"{expected_name} text (save the export as {expected_name}, "
            "or set encoding: utf-16 in the reader options of study.yaml)",
        )
    line = data[:start].count(b"\n") + 1
    for encoding, name in ENCODING_GUESSES.items():
        try:
            data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return Problem(
            str(path),
            f"the file looks like {name} text; the spec expects {expected_name}",
            line=line,
            value=_word_at(data, start, encoding, options),
            expected=f"{expected_name} text (save the export as {expected_name}, "
            f"or set encoding: {encoding} in the reader options of study.yaml)",
        )
    return Problem(
        str(path),
        f"the file is not {expected_name.lower()} text",
        line=line,
        value=data[start : start + 4].decode("latin-1"),
        expected=f"{expected_name} text (save the export as {expected_name})",
    )


def _decode(path: Path, data: bytes, options: ReaderOptions) -> str | Problem:
    try:
        text = data.decode(options.encoding)
    except UnicodeDecodeError as exc:
        return _wrong_encoding(path, data, exc.start, options)
    if "\x00" in text:
        if _is_utf16(data):
            return _wrong_encoding(path, data, 0, options)
        return Problem(
            str(path),
            "the file holds binary data (NUL bytes)",
            line=text[: text.index("\x00")].count("\n") + 1,
            expected="a text export",
        )
    return text.lstrip("\ufeff")


def _header_fields(line: str, delimiter: str, options: ReaderOptions) -> set[str]:
    try:
        fields = next(csv.reader([line], delimiter=delimiter, quotechar=options.quote), [])
    except csv.Error:
        return set()
    return {f.strip() for f in fields}


def _is_header(found: set[str], declared: list[str]) -> bool:
    """At least a quarter of the declared columns: fewer is another form's file or no header."""
    return bool(found) and 4 * len(found) >= len(declared)


def _header_problem(path: Path, text: str, spec: RawFileSpec, options: ReaderOptions) -> Problem | None:
    """A first line that is not this file's header makes every later check report noise.

    The header is the first line that is not blank, as the CSV parser takes it.
    """
    header = re.search(r"^[^\n]*\S[^\n]*$", text, flags=re.MULTILINE)
    number = text.count("\n", 0, header.start()) + 1 if header else 1
    first_line = header.group().rstrip("\r") if header else ""
    declared = [c.file_header for c in spec.columns]
    found = _header_fields(first_line, options.delimiter, options) & set(declared)
    if _is_header(found, declared):
        return None
    others = {
        d: _header_fields(first_line, d, options) & set(declared) for d in COMMON_DELIMITERS if d != options.delimiter
    }
    delimiter = max(others, key=lambda d: len(others[d]))
    if _is_header(others[delimiter], declared) and len(others[delimiter]) > len(found):
        return Problem(
            str(path),
            f"the file is separated by {delimiter!r} but the spec expects {options.delimiter!r}",
            line=number,
            value=_shortened(first_line),
            expected=f"fields separated by {options.delimiter!r} (reader option delimiter in study.yaml)",
        )
    seen = (
        f"only {len(found)} of the {len(declared)} expected columns found ({', '.join(sorted(found))})"
        if found
        else "none of the expected columns found"
    )
    return Problem(
        str(path),
        f"line {number} is not the header of {spec.file}: {seen}",
        line=number,
        value=_shortened(first_line),
        expected="a header line with the columns " + ", ".join(declared),
    )


def _physical_lines(frame: pd.DataFrame, text: str) -> np.ndarray:
    """Line of each record: header is line 1; quoted fields may span several lines."""
    if text.count("\n") - text.endswith("\n") == len(frame):  # no field spans lines
        return np.arange(2, len(frame) + 2, dtype=np.int64)
    newlines = np.zeros(len(frame), dtype=np.int64)
    for column in frame.columns:
        values = frame[column]
        newlines += values.str.count("\n").fillna(0).to_numpy(dtype=np.int64)
    spans = 1 + newlines
    return 2 + np.concatenate([[0], np.cumsum(spans)[:-1]]) if len(frame) else np.array([], dtype=np.int64)


def _fast_table(text: str, options: ReaderOptions) -> pd.DataFrame | None:
    """Every field as text by Arrow's CSV reader (on every core, no Python string per value);
    None when Arrow cannot read the file as a clean table (a record with too many or too few
    fields, a repeated column name): the pandas reader then says where."""
    names = next(csv.reader(io.StringIO(text), delimiter=options.delimiter, quotechar=options.quote), [])
    if len(set(names)) < len(names):
        return None
    try:
        table = pa_csv.read_csv(
            pa.BufferReader(text.encode("utf-8")),
            read_options=pa_csv.ReadOptions(autogenerate_column_names=False),
            parse_options=pa_csv.ParseOptions(
                delimiter=options.delimiter, quote_char=options.quote, newlines_in_values=True
            ),
            convert_options=pa_csv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid:
        return None
    return table.to_pandas(types_mapper={pa.string(): pd.StringDtype("pyarrow", na_value=np.nan)}.get)


def _located_table(path: Path, text: str, options: ReaderOptions) -> pd.DataFrame | Problem:
    """pandas' C reader, which reads short records (their missing fields empty) and names
    the line of a record it cannot read."""
    try:
        return pd.read_csv(
            io.StringIO(text),
            sep=options.delimiter,
            quotechar=options.quote,
            dtype=str,
            keep_default_na=False,
            na_values=[],
            engine="c",
            skipinitialspace=False,
        )
    except (pd.errors.ParserError, csv.Error, ValueError) as exc:
        match = re.search(r"line (\d+)", str(exc))
        return Problem(
            str(path),
            f"the file is not a readable {options.delimiter!r}-separated table: {exc}",
            line=int(match.group(1)) if match else None,
        )


def _read_csv(path: Path, spec: RawFileSpec, options: ReaderOptions) -> pd.DataFrame | Problem:
    """All columns as text, exactly as exported; typing happens per declared column."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        return Problem(str(path), f"the file cannot be read ({exc.strerror})")
    if not data.strip():
        return Problem(str(path), "the file is empty", expected="a header line and one line per record")
    text = _decode(path, data, options)
    if isinstance(text, Problem):
        return text
    if not text.strip():  # a byte-order mark and nothing else
        return Problem(str(path), "the file is empty", expected="a header line and one line per record")
    header = _header_problem(path, text, spec, options)
    if header is not None:
        return header
    frame = _fast_table(text, options)
    if frame is None:
        frame = _located_table(path, text, options)
        if isinstance(frame, Problem):
            return frame
    frame.columns = [str(c).strip() for c in frame.columns]
    frame = frame.replace({"": pd.NA})
    frame[LINE] = _physical_lines(frame, text)  # a missing value counts no line break
    return frame


def _read_sas(path: Path, options: ReaderOptions) -> pd.DataFrame | Problem:
    """SAS7BDAT/XPT exports (some EDC systems deliver these) via pyreadstat."""
    reader = pyreadstat.read_sas7bdat if options.format == "sas7bdat" else pyreadstat.read_xport
    try:
        frame, _ = reader(str(path))
    except Exception as exc:  # pyreadstat raises its own untyped errors for broken files
        return Problem(str(path), f"the {options.format.upper()} file cannot be read: {exc}")
    typed = pd.DataFrame(index=frame.index)
    for column in frame.columns:
        values = frame[column]
        if pd.api.types.is_datetime64_any_dtype(values):
            text = pd.Series(np.datetime_as_string(values.to_numpy(dtype="datetime64[D]")), index=values.index)
            text = text.where(values.notna())
        elif pd.api.types.is_numeric_dtype(values):
            whole = (values % 1 == 0).fillna(False)
            text = values.astype("string").where(
                ~whole, values.astype("Float64").round().astype("Int64").astype("string")
            )
        else:
            text = values.astype("string")
        typed[str(column).upper()] = text.replace({"": pd.NA})
    typed[LINE] = np.arange(1, len(frame) + 1)
    return typed


def _parse_dates(
    path: Path, frame: pd.DataFrame, column: RawColumnSpec, options: ReaderOptions, sas_source: bool
) -> tuple[pd.Series, list[Problem]]:
    """ISO 8601 text of each date, and the located problems. Dates repeat (1.7 million
    administrations on a few thousand days), so each distinct text is parsed once."""
    raw = frame[column.name]
    codes, distinct = pd.factorize(raw)
    iso, malformed, impossible = _distinct_dates(pd.Series(distinct, dtype=raw.dtype), column, options, sas_source)
    present = codes >= 0
    at = np.where(present, codes, 0)
    layout = column.date_format or options.date_format
    unknown = options.unknown_date_part
    expected = f"a date {layout}" + (
        f", unknown parts as {unknown} ({unknown}.07.2020, {unknown}.{unknown}.2020)"
        if column.type == "partial_date"
        else ""
    )

    def per_record(flags: pd.Series) -> np.ndarray:
        return present & flags.to_numpy(dtype=bool)[at] if len(distinct) else present

    problems = _located(
        path, frame, per_record(malformed), column.name, raw, "not a date in the export's layout", expected
    )
    problems += _located(
        path, frame, per_record(impossible), column.name, raw, "impossible date", "a date that exists in the calendar"
    )
    values = iso.array.take(codes, allow_fill=True)
    return pd.Series(values, index=raw.index, dtype="string"), problems


def _distinct_dates(
    raw: pd.Series, column: RawColumnSpec, options: ReaderOptions, sas_source: bool
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """ISO text of each date value, whether it is not in the export's layout, and whether
    it names a day or month that does not exist."""
    layout = column.date_format or options.date_format
    parts = extract_parts(raw, DATE_LAYOUTS[layout])
    if "MON" in layout:  # a month name becomes its number; an unknown word fails the shape check
        parts["month"] = parts["month"].str.upper().map(MONTH_ABBREVIATIONS).fillna(parts["month"])
    if sas_source:  # numeric SAS dates arrive as ISO text; text dates keep the export's layout
        parts = parts.combine_first(extract_parts(raw, DATE_LAYOUTS["YYYY-MM-DD"]))
    unknown = options.unknown_date_part
    if column.type == "partial_date":  # a year alone (`2003`) is a date with unknown day and month
        year_only = raw.str.strip().str.fullmatch(r"\d{4}").fillna(False).astype(bool) & parts["year"].isna()
        parts.loc[year_only, ["day", "month"]] = unknown
        parts.loc[year_only, "year"] = raw[year_only].str.strip()
    day_unknown = parts["day"] == unknown
    month_unknown = parts["month"] == unknown
    allowed_partial = column.type == "partial_date"
    shape_ok = (
        parts["year"].notna()
        & (parts["day"].str.fullmatch(r"\d{2}") | (allowed_partial & day_unknown))
        & (parts["month"].str.fullmatch(r"\d{2}") | (allowed_partial & month_unknown & day_unknown))
    )
    shape_ok = shape_ok.fillna(False).astype(bool)
    complete = shape_ok & ~day_unknown.fillna(False) & ~month_unknown.fillna(False)
    iso_complete = parts["year"] + "-" + parts["month"] + "-" + parts["day"]
    real = pd.to_datetime(iso_complete.where(complete), format="%Y-%m-%d", errors="coerce")
    impossible = complete & real.isna()
    iso = pd.Series(pd.NA, index=raw.index, dtype="string")
    iso = iso.mask(complete & ~impossible, iso_complete)
    month_only = shape_ok & day_unknown.fillna(False) & ~month_unknown.fillna(False)
    month_number = pd.to_numeric(parts["month"].where(month_only), errors="coerce")
    bad_month = month_only & ~month_number.between(1, 12)
    iso = iso.mask(month_only & ~bad_month, parts["year"] + "-" + parts["month"])
    iso = iso.mask(shape_ok & day_unknown.fillna(False) & month_unknown.fillna(False), parts["year"])
    return iso, ~shape_ok, impossible | bad_month


def _numbers_with_mark(raw: pd.Series, decimal: str, thousands: str | None) -> pd.Series:
    """The values read with `decimal` as decimal mark; a `.` is never a decimal point then.
    Doses and cycle numbers repeat, so each distinct text is converted once."""
    codes, distinct = pd.factorize(raw)
    numbers = _distinct_numbers(pd.Series(distinct, dtype=raw.dtype), decimal, thousands)
    return pd.Series(numbers.array.take(codes, allow_fill=True), index=raw.index)


def _distinct_numbers(raw: pd.Series, decimal: str, thousands: str | None) -> pd.Series:
    text = raw.str.strip()
    if thousands:
        text = text.str.replace(thousands, "", regex=False)
    if decimal != ".":
        bad_mark = text.str.contains(".", regex=False).fillna(False).astype(bool)
        text = text.where(~bad_mark, "not a number").str.replace(decimal, ".", regex=False)
    return parse_numbers(text)


def _wrong_decimal_mark(
    path: Path, frame: pd.DataFrame, spec: RawFileSpec, options: ReaderOptions, absent: frozenset[str]
) -> tuple[Problem | None, dict[str, pd.Series]]:
    """A file saved with the other decimal mark: one problem, and per column the values it explains.

    It is wholesale only when (nearly) every decimal value that fails would parse with the other
    mark and (nearly) none uses the spec's mark; a stray `75.5` among `58,2` is a record defect.
    """
    other = {",": ".", ".": ","}.get(options.decimal)
    if other is None or options.thousands == other:  # `1.234` would be a thousand, not a wrong mark
        return None, {}
    columns = [c.name for c in spec.columns if c.type == "decimal" and c.name not in absent]
    explained: dict[str, pd.Series] = {}
    wrong_mark = junk = spec_mark = 0
    for name in columns:
        raw = frame[name]
        with_spec = _numbers_with_mark(raw, options.decimal, options.thousands)
        spec_mark += int((with_spec.notna() & raw.str.contains(options.decimal, regex=False).fillna(False)).sum())
        failing = raw.notna() & with_spec.isna()
        if not failing.any():
            continue
        with_other = _numbers_with_mark(raw, other, options.thousands)
        explained[name] = (failing & with_other.notna()).astype(bool)
        wrong_mark += int(explained[name].sum())
        junk += int((failing & with_other.isna()).sum())
    wholesale = (
        wrong_mark >= 2
        and wrong_mark >= NEARLY_ALL * (wrong_mark + junk)
        and spec_mark <= (1 - NEARLY_ALL) * wrong_mark
    )
    if not wholesale:
        return None, {}
    affected = [name for name, wrong in explained.items() if wrong.any()]
    by_record = np.logical_or.reduce([explained[name].to_numpy() for name in affected])
    first = int(np.flatnonzero(by_record)[0])
    first_column = next(name for name in affected if explained[name].iloc[first])
    records = int(by_record.sum())
    problem = Problem(
        str(path),
        f"decimal numbers are written with {other!r} but the spec expects {options.decimal!r} "
        f"({records} record{'s' if records != 1 else ''})",
        line=int(frame[LINE].iloc[first]),
        column=", ".join(affected),
        value=str(frame[first_column].iloc[first]),
        expected=f"numbers with {options.decimal!r} as decimal mark (reader option decimal in study.yaml)",
    )
    return problem, explained


def _parse_numbers(
    path: Path,
    frame: pd.DataFrame,
    column: RawColumnSpec,
    options: ReaderOptions,
    sas_source: bool,
    explained: pd.Series | None = None,
) -> tuple[pd.Series, list[Problem]]:
    """`explained`: values already reported as a wholesale wrong decimal mark, not again per record."""
    raw = frame[column.name]
    if sas_source:
        numbers = parse_numbers(raw.str.strip())
    else:
        numbers = _numbers_with_mark(raw, options.decimal, options.thousands)
    present = raw.notna()
    problems = []
    if column.type == "integer":
        not_number = present & (numbers.isna() | (numbers % 1 != 0).fillna(False))
        problems += _located(path, frame, not_number, column.name, raw, "not a whole number", "a whole number")
        values = numbers.where(~not_number).astype("Float64").round().astype("Int64")
    else:
        not_number = present & numbers.isna()
        if explained is not None:
            not_number = not_number & ~explained
        mark = options.decimal if not sas_source else "."
        problems += _located(
            path, frame, not_number, column.name, raw, "not a number", f"a number with {mark!r} as decimal mark"
        )
        values = numbers.where(~not_number).astype("Float64")
    if column.min is not None or column.max is not None:
        low = column.min if column.min is not None else -np.inf
        high = column.max if column.max is not None else np.inf
        outside = values.notna() & ~values.between(low, high)
        bounds = [f"at least {column.min:g}"] if column.min is not None else []
        bounds += [f"at most {column.max:g}"] if column.max is not None else []
        problems += _located(
            path,
            frame,
            outside.fillna(False).astype(bool),
            column.name,
            raw,
            "value out of range",
            "a value " + " and ".join(bounds),
        )
    return values, problems


def _parse_text(path: Path, frame: pd.DataFrame, column: RawColumnSpec) -> tuple[pd.Series, list[Problem]]:
    raw = frame[column.name]
    values = raw.astype("string").str.strip()
    values = values.mask(values == "", pd.NA)
    problems: list[Problem] = []
    if column.values:
        outside = values.notna() & ~is_in(values, pd.Series(column.values))
        problems += _located(
            path,
            frame,
            outside,
            column.name,
            raw,
            "value not in the export's code list",
            "one of " + ", ".join(column.values),
        )
    if column.pattern:
        mismatch = values.notna() & ~values.str.fullmatch(column.pattern).fillna(False).astype(bool)
        problems += _located(
            path,
            frame,
            mismatch,
            column.name,
            raw,
            "value does not have the expected form",
            f"text matching {column.pattern}",
        )
    return values, problems


def _type_columns(
    path: Path,
    frame: pd.DataFrame,
    spec: RawFileSpec,
    options: ReaderOptions,
    sas_source: bool,
    absent: frozenset[str],
) -> tuple[pd.DataFrame, list[Problem]]:
    """`absent` columns were added empty: reported once as missing, not as a missing value per record."""
    typed = frame.copy()
    problems: list[Problem] = []
    explained: dict[str, pd.Series] = {}
    if not sas_source:
        decimal_mark, explained = _wrong_decimal_mark(path, frame, spec, options, absent)
        problems += [decimal_mark] if decimal_mark is not None else []
    for column in spec.columns:
        if column.name not in frame.columns:
            continue
        if column.type in ("date", "partial_date"):
            values, found = _parse_dates(path, frame, column, options, sas_source)
        elif column.type in ("integer", "decimal"):
            values, found = _parse_numbers(path, frame, column, options, sas_source, explained.get(column.name))
        else:
            values, found = _parse_text(path, frame, column)
        if column.mandatory and column.name not in absent:
            missing = frame[column.name].isna()
            found += _located(
                path,
                frame,
                missing,
                column.name,
                frame[column.name].fillna(""),
                "value missing",
                "a value in every record",
            )
        typed[column.name] = values
        problems += found
    return typed, problems


def _check_keys(table: RawTable, absent: frozenset[str]) -> list[Problem]:
    key = list(table.spec.key)
    if not key or not set(key) <= set(table.frame.columns) or set(key) & absent:
        return []
    duplicated = table.frame.duplicated(subset=key, keep="first")
    if not duplicated.any():
        return []
    first_line = table.frame.groupby(key, dropna=False)[LINE].transform("min").astype("string")
    parts = [table.frame[k].astype("string").fillna("") for k in key]
    key_text = parts[0]
    for part in parts[1:]:
        key_text = key_text + "/" + part
    shown = key_text + " (first on line " + first_line + ")"
    return _located(table.path, table.frame, duplicated, "/".join(key), shown, "duplicated record key", "each key once")


def _check_references(
    table: RawTable, tables: Mapping[str, RawTable], absent: Mapping[str, frozenset[str]]
) -> list[Problem]:
    problems: list[Problem] = []
    for column, target in table.spec.references.items():
        other_name, other_column = target.split(".")
        other = tables.get(other_name)
        if other is None or column not in table.frame.columns or other_column not in other.frame.columns:
            continue
        if column in absent[table.spec.name] or other_column in absent[other_name]:
            continue  # an empty column added for a missing one: every record would "refer to nothing"
        unknown = table.frame[column].notna() & ~is_in(table.frame[column], other.frame[other_column])
        problems += _located(
            table.path,
            table.frame,
            unknown,
            column,
            table.frame[column],
            f"refers to a record that is not in {other.spec.file}",
            f"a {other_column} listed in {other.spec.file}",
        )
    return problems


def _check_date_order(table: RawTable, absent: frozenset[str]) -> list[Problem]:
    problems: list[Problem] = []
    for order in table.spec.date_order:
        if not {order.earlier, order.later} <= set(table.frame.columns) or {order.earlier, order.later} & absent:
            continue
        earlier = table.frame[order.earlier]
        later = table.frame[order.later]
        both_complete = earlier.str.len().eq(10).fillna(False) & later.str.len().eq(10).fillna(False)
        wrong = both_complete & (later < earlier).fillna(False)
        shown = earlier.fillna("") + " > " + later.fillna("")
        problems += _located(
            table.path,
            table.frame,
            wrong.astype(bool),
            order.later,
            shown,
            f"{order.later} is before {order.earlier}",
            f"{order.later} on or after {order.earlier}",
        )
    return problems


def read_raw_file(folder: Path, spec: RawFileSpec, options: ReaderOptions) -> tuple[RawTable | None, list[Problem]]:
    """Read and type one raw file; problems are returned, not raised. The declared columns the
    file lacks are added empty and named in `RawTable.absent_columns`."""
    path = folder / spec.file
    options = spec.reader or options
    if not path.is_file():
        return None, [Problem(str(path), "raw file missing", expected=f"{spec.file} in {folder}")]
    sas_source = options.format in ("sas7bdat", "xpt")
    frame = _read_sas(path, options) if sas_source else _read_csv(path, spec, options)
    if isinstance(frame, Problem):
        return None, [frame]
    frame = frame.rename(columns={c.header: c.name for c in spec.columns if c.header})
    declared = [c.name for c in spec.columns]
    absent = frozenset(name for name in declared if name not in frame.columns)
    missing = [c.name for c in spec.columns if c.required and c.name in absent]
    problems = []
    if missing:
        problems.append(
            Problem(
                str(path),
                "required column missing" if len(missing) == 1 else "required columns missing",
                line=1,
                column=", ".join(missing),
                expected="the columns " + ", ".join(declared),
            )
        )
    for name in declared:
        if name in absent:
            frame[name] = pd.NA
    typed, found = _type_columns(path, frame, spec, options, sas_source, absent)
    problems += found
    extras = [c for c in frame.columns if c not in declared and c != LINE]
    return RawTable(spec=spec, path=path, frame=typed, extra_columns=extras, absent_columns=absent), problems


def read_raw_export(folder: Path, study: StudySpec) -> dict[str, RawTable]:
    """Read every raw file of the study; raise InputErrors listing every problem found."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputErrors(
            [Problem(str(folder), "raw export folder not found", expected="a folder with the export files")]
        )
    tables: dict[str, RawTable] = {}
    problems: list[Problem] = []
    # The files side by side, one per core: Arrow parses a file on several threads, but its
    # typing and checks are pandas work on one (1.7 million administrations beside the rest).
    with ThreadPoolExecutor(WORKER_THREADS, thread_name_prefix="read") as pool:
        read = list(pool.map(lambda spec: read_raw_file(folder, spec, study.reader), study.raw_files))
    for spec, (table, found) in zip(study.raw_files, read, strict=True):
        problems += found
        if table is not None:
            tables[spec.name] = table
    absent = {name: table.absent_columns for name, table in tables.items()}
    for name, table in tables.items():
        problems += _check_keys(table, absent[name])
        problems += _check_references(table, tables, absent)
        problems += _check_date_order(table, absent[name])
    if problems:
        raise InputErrors(problems)
    return tables


def unknown_files(folder: Path, study: StudySpec) -> list[str]:
    """Files in the export folder that no raw-file spec reads (reported, never silently ignored)."""
    known = {spec.file for spec in study.raw_files}
    return sorted(
        p.name for p in Path(folder).iterdir() if p.is_file() and p.name not in known and not p.name.startswith(".")
    )
