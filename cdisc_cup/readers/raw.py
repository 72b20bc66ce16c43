"""Read the raw EDC export into typed tables, checking it against the raw-file contract.

Reading options (delimiter, decimal mark, encoding, date layout) come from the study spec.
Each table keeps the physical line every record came from (`LINE`), so a problem or an SDTM
record can be traced back to the file as the user sees it in an editor (header = line 1).
All problems in all files are collected and raised together as `InputErrors`.

Typed values: text/code/flag stay text (missing = NA); integer -> Int64; decimal -> Float64;
date and partial_date -> ISO 8601 text (`2020-07-15`, `2020-07`, `2020`), the natural
typed form of a possibly partial date and exactly what SDTM --DTC variables hold.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat

from cdisc_cup.columns import extract_parts, is_in, parse_numbers
from cdisc_cup.errors import InputErrors, Problem
from cdisc_cup.spec.model import RawColumnSpec, RawFileSpec, ReaderOptions, StudySpec

LINE = "__line__"  # the physical line (CSV) or record number (SAS files) of each raw record
MAX_PROBLEMS_PER_CHECK = 50  # per file and check: enough to act on, not a flood

DATE_LAYOUTS = {
    # layout -> (regex with day, month, year groups)
    "DD.MM.YYYY": r"^(?P<day>\w{2})\.(?P<month>\w{2})\.(?P<year>\d{4})$",
    "DD/MM/YYYY": r"^(?P<day>\w{2})/(?P<month>\w{2})/(?P<year>\d{4})$",
    "MM/DD/YYYY": r"^(?P<month>\w{2})/(?P<day>\w{2})/(?P<year>\d{4})$",
    "YYYY-MM-DD": r"^(?P<year>\d{4})-(?P<month>\w{2})-(?P<day>\w{2})$",
}


@dataclass
class RawTable:
    """One raw file, typed; `frame` has the declared columns (plus extras) and LINE."""

    spec: RawFileSpec
    path: Path
    frame: pd.DataFrame
    extra_columns: list[str] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return len(self.frame)


def _located(
    path: Path, frame: pd.DataFrame, mask: pd.Series, column: str, raw: pd.Series, message: str, expected: str | None
) -> list[Problem]:
    """One problem per flagged record, at most MAX_PROBLEMS_PER_CHECK and then a count."""
    flagged = np.flatnonzero(np.asarray(mask, dtype=bool))
    if not len(flagged):
        return []
    shown = flagged[:MAX_PROBLEMS_PER_CHECK]
    lines = frame[LINE].to_numpy()[shown]
    values = raw.iloc[shown].tolist()
    problems = [
        Problem(str(path), message, line=int(line), column=column, value=str(value), expected=expected)
        for line, value in zip(lines, values, strict=True)
    ]
    if len(flagged) > MAX_PROBLEMS_PER_CHECK:
        more = len(flagged) - MAX_PROBLEMS_PER_CHECK
        problems.append(Problem(str(path), f"… and {more} more records with the same problem", column=column))
    return problems


def _decode(path: Path, data: bytes, encoding: str) -> str | Problem:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        bad = data[exc.start : exc.end + 3]
        return Problem(
            str(path),
            f"the file is not {encoding.replace('-sig', '')} text",
            line=line,
            value=bad.decode("latin-1"),
            expected="UTF-8 text (save the export as UTF-8)",
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


def _read_csv(path: Path, options: ReaderOptions) -> pd.DataFrame | Problem:
    """All columns as text, exactly as exported; typing happens per declared column."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        return Problem(str(path), f"the file cannot be read ({exc.strerror})")
    if not data.strip():
        return Problem(str(path), "the file is empty", expected="a header line and one line per record")
    text = _decode(path, data, options.encoding)
    if isinstance(text, Problem):
        return text
    if "\x00" in text:
        return Problem(
            str(path),
            "the file holds binary data (NUL bytes)",
            line=text[: text.index("\x00")].count("\n") + 1,
            expected="a text export",
        )
    text = text.lstrip("\ufeff")
    try:
        frame = pd.read_csv(
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
    frame.columns = [str(c).strip() for c in frame.columns]
    frame = frame.replace({"": pd.NA})
    frame[LINE] = _physical_lines(frame.fillna(""), text)
    return frame


def _read_sas(path: Path, options: ReaderOptions) -> pd.DataFrame | Problem:
    """SAS7BDAT/XPT exports (some EDC systems deliver these) via pyreadstat."""
    reader = pyreadstat.read_sas7bdat if options.format == "sas7bdat" else pyreadstat.read_xport
    try:
        frame, _ = reader(str(path))
    except Exception as exc:  # pyreadstat raises its own untyped errors for broken files
        return Problem(str(path), f"the {options.format.upper()} file cannot be read: {exc}")
    as_text = pd.DataFrame(index=frame.index)
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
        as_text[str(column).upper()] = text.replace({"": pd.NA})
    as_text[LINE] = np.arange(1, len(frame) + 1)
    return as_text


def _parse_dates(
    path: Path, frame: pd.DataFrame, column: RawColumnSpec, options: ReaderOptions, sas_source: bool
) -> tuple[pd.Series, list[Problem]]:
    raw = frame[column.name]
    present = raw.notna()
    layout = options.date_format
    parts = extract_parts(raw, DATE_LAYOUTS[layout])
    if sas_source:  # numeric SAS dates arrive as ISO text; text dates keep the export's layout
        parts = parts.combine_first(extract_parts(raw, DATE_LAYOUTS["YYYY-MM-DD"]))
    unknown = options.unknown_date_part
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
    expected = f"a date {layout}" + (
        f", unknown parts as {unknown} ({unknown}.07.2020, {unknown}.{unknown}.2020)" if allowed_partial else ""
    )
    problems = _located(
        path, frame, present & ~shape_ok, column.name, raw, "not a date in the export's layout", expected
    )
    problems += _located(
        path, frame, impossible | bad_month, column.name, raw, "impossible date", "a date that exists in the calendar"
    )
    return iso, problems


def _parse_numbers(
    path: Path, frame: pd.DataFrame, column: RawColumnSpec, options: ReaderOptions, sas_source: bool
) -> tuple[pd.Series, list[Problem]]:
    raw = frame[column.name]
    text = raw.str.strip()
    if not sas_source:
        if options.thousands:
            text = text.str.replace(options.thousands, "", regex=False)
        if options.decimal != ".":
            bad_mark = text.str.contains(".", regex=False).fillna(False).astype(bool)
            text = text.where(~bad_mark, "not a number").str.replace(options.decimal, ".", regex=False)
    numbers = parse_numbers(text)
    present = raw.notna()
    problems = []
    if column.type == "integer":
        not_number = present & (numbers.isna() | (numbers % 1 != 0).fillna(False))
        problems += _located(path, frame, not_number, column.name, raw, "not a whole number", "a whole number")
        values = numbers.where(~not_number).astype("Float64").round().astype("Int64")
    else:
        not_number = present & numbers.isna()
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
    path: Path, frame: pd.DataFrame, spec: RawFileSpec, options: ReaderOptions, sas_source: bool
) -> tuple[pd.DataFrame, list[Problem]]:
    typed = frame.copy()
    problems: list[Problem] = []
    for column in spec.columns:
        if column.name not in frame.columns:
            continue
        if column.type in ("date", "partial_date"):
            values, found = _parse_dates(path, frame, column, options, sas_source)
        elif column.type in ("integer", "decimal"):
            values, found = _parse_numbers(path, frame, column, options, sas_source)
        else:
            values, found = _parse_text(path, frame, column)
        if column.mandatory:
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


def _check_keys(table: RawTable) -> list[Problem]:
    key = list(table.spec.key)
    if not set(key) <= set(table.frame.columns):
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


def _check_references(table: RawTable, tables: Mapping[str, RawTable]) -> list[Problem]:
    problems: list[Problem] = []
    for column, target in table.spec.references.items():
        other_name, other_column = target.split(".")
        other = tables.get(other_name)
        if other is None or column not in table.frame.columns or other_column not in other.frame.columns:
            continue
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


def _check_date_order(table: RawTable) -> list[Problem]:
    problems: list[Problem] = []
    for order in table.spec.date_order:
        if not {order.earlier, order.later} <= set(table.frame.columns):
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
    """Read and type one raw file; problems are returned, not raised."""
    path = folder / spec.file
    options = spec.reader or options
    if not path.is_file():
        return None, [Problem(str(path), "raw file missing", expected=f"{spec.file} in {folder}")]
    sas_source = options.format in ("sas7bdat", "xpt")
    frame = _read_sas(path, options) if sas_source else _read_csv(path, options)
    if isinstance(frame, Problem):
        return None, [frame]
    declared = [c.name for c in spec.columns]
    missing = [c.name for c in spec.columns if c.required and c.name not in frame.columns]
    problems = [
        Problem(
            str(path), "required column missing", line=1, column=name, expected="the columns " + ", ".join(declared)
        )
        for name in missing
    ]
    for name in declared:
        if name not in frame.columns:
            frame[name] = pd.NA
    typed, found = _type_columns(path, frame, spec, options, sas_source)
    problems += found
    extras = [c for c in frame.columns if c not in declared and c != LINE]
    return RawTable(spec=spec, path=path, frame=typed, extra_columns=extras), problems


def read_raw_export(folder: Path, study: StudySpec) -> dict[str, RawTable]:
    """Read every raw file of the study; raise InputErrors listing every problem found."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputErrors(
            [Problem(str(folder), "raw export folder not found", expected="a folder with the export files")]
        )
    tables: dict[str, RawTable] = {}
    problems: list[Problem] = []
    for spec in study.raw_files:
        table, found = read_raw_file(folder, spec, study.reader)
        problems += found
        if table is not None:
            tables[spec.name] = table
    for table in tables.values():
        problems += _check_keys(table)
        problems += _check_references(table, tables)
        problems += _check_date_order(table)
    if problems:
        raise InputErrors(problems)
    return tables


def unknown_files(folder: Path, study: StudySpec) -> list[str]:
    """Files in the export folder that no raw-file spec reads (reported, never silently ignored)."""
    known = {spec.file for spec in study.raw_files}
    return sorted(
        p.name for p in Path(folder).iterdir() if p.is_file() and p.name not in known and not p.name.startswith(".")
    )
