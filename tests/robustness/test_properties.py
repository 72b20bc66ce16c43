"""Property-based tests: the date parser, study days and the reader on arbitrary input."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from cdisc_cup.derivations.dates import study_day
from cdisc_cup.provenance import LINE
from cdisc_cup.readers.raw import _parse_dates, read_raw_file
from cdisc_cup.spec.loader import load_study
from cdisc_cup.spec.model import RawColumnSpec

STUDY = load_study()
OPTIONS = STUDY.reader
PARTIAL = RawColumnSpec(name="D", type="partial_date")
dates = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 12, 31))


def parse(values: list[str]) -> tuple[list[object], list[object]]:
    frame = pd.DataFrame({"D": pd.Series(values, dtype="string"), LINE: range(2, len(values) + 2)})
    iso, problems = _parse_dates(Path("x.csv"), frame, PARTIAL, OPTIONS, sas_source=False)
    return iso.tolist(), problems


@given(dates)
def test_complete_dates_round_trip_to_iso(day: dt.date) -> None:
    assert parse([day.strftime("%d.%m.%Y")]) == ([day.isoformat()], [])


@given(dates)
def test_partial_dates_keep_what_is_known(day: dt.date) -> None:
    iso, problems = parse([f"UN.{day:%m.%Y}", f"UN.UN.{day:%Y}"])
    assert (iso, problems) == ([f"{day:%Y-%m}", f"{day:%Y}"], [])


@given(st.integers(1, 31), st.integers(1, 12), st.integers(1900, 2100))
def test_impossible_dates_are_located_problems_never_values(day: int, month: int, year: int) -> None:
    text = f"{day:02d}.{month:02d}.{year}"
    try:
        dt.date(year, month, day)
        exists = True
    except ValueError:
        exists = False
    iso, problems = parse([text])
    if exists:
        assert iso == [f"{year}-{month:02d}-{day:02d}"] and problems == []
    else:
        assert pd.isna(iso[0]) and len(problems) == 1
        assert (problems[0].line, problems[0].value) == (2, text)


@given(dates, dates)
def test_study_day_has_no_day_zero_and_counts_days(day: dt.date, reference: dt.date) -> None:
    value = study_day(pd.Series([day.isoformat()], dtype="string"), pd.Series([reference.isoformat()], dtype="string"))
    delta = (day - reference).days
    assert value.iloc[0] == (delta + 1 if delta >= 0 else delta)
    assert value.iloc[0] != 0


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_give_problems_not_tracebacks(content: bytes) -> None:
    spec = STUDY.raw_file("patients")
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / spec.file).write_bytes(content)
        table, problems = read_raw_file(Path(folder), spec, OPTIONS)
    assert table is not None or problems
    assert all(p.file.endswith("patients.csv") for p in problems)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=12), min_size=18, max_size=18))
def test_arbitrary_text_records_give_problems_not_tracebacks(fields: list[str]) -> None:
    spec = STUDY.raw_file("patients")
    header = ";".join(c.name for c in spec.columns)
    line = ";".join(f.replace(";", ",").replace('"', "'").replace("\n", " ").replace("\r", " ") for f in fields)
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / spec.file).write_text(f"{header}\n{line}\n", encoding="utf-8")
        table, problems = read_raw_file(Path(folder), spec, OPTIONS)
    assert table is not None or problems  # e.g. a NUL byte: "binary data", located
    assert all(p.line in (1, 2, None) for p in problems)
