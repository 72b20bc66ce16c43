"""Reader options of the spec language that another EDC needs (the CDISC pilot's raw data):
a column named differently in the file, date layouts per file and per column, a year alone as
a partial date, and a form without a record key."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from cdisc_cup.readers.raw import _check_keys, read_raw_file
from cdisc_cup.spec.model import RawColumnSpec, RawFileSpec, ReaderOptions

OPTIONS = ReaderOptions(delimiter=",", decimal=".", date_format="DD-MON-YYYY")


def _read(tmp_path: Path, text: str, columns: tuple[RawColumnSpec, ...], key: tuple[str, ...] = ("PATNUM",)):
    (tmp_path / "form.csv").write_text(text, encoding="utf-8")
    spec = RawFileSpec(name="form", file="form.csv", key=key, columns=columns)
    return read_raw_file(tmp_path, spec, OPTIONS)


def test_header_names_the_file_column_and_layouts_are_read_per_file_and_column(tmp_path: Path) -> None:
    columns = (
        RawColumnSpec("PATNUM", "text"),
        RawColumnSpec("STDAT", "date", header="IT.STDAT"),
        RawColumnSpec("DEATHDT", "date", date_format="MM-DD-YYYY"),
        RawColumnSpec("ONSET", "partial_date", date_format="MM/DD/YYYY"),
    )
    text = "PATNUM,IT.STDAT,DEATHDT,ONSET\n701-1015,02-Jan-2014,07-02-2014,2003\n701-1023,17-JUN-2014,,01/09/2014\n"
    table, problems = _read(tmp_path, text, columns)
    assert problems == []
    assert table.frame["STDAT"].tolist() == ["2014-01-02", "2014-06-17"]
    assert table.frame["DEATHDT"].iloc[0] == "2014-07-02"
    assert table.frame["ONSET"].tolist() == ["2003", "2014-01-09"]


def test_an_unknown_month_name_is_located(tmp_path: Path) -> None:
    columns = (RawColumnSpec("PATNUM", "text"), RawColumnSpec("STDAT", "date"))
    _, problems = _read(tmp_path, "PATNUM,STDAT\n701-1015,02-Foo-2014\n", columns)
    assert [(p.line, p.column, p.value) for p in problems] == [(2, "STDAT", "02-Foo-2014")]


def test_a_form_without_a_key_may_repeat_rows(tmp_path: Path) -> None:
    columns = (RawColumnSpec("PATNUM", "text"), RawColumnSpec("WEIGHT", "decimal"))
    table, problems = _read(tmp_path, "PATNUM,WEIGHT\n701-1015,\n701-1015,\n", columns, key=())
    assert problems == [] and len(table.frame) == 2
    assert _check_keys(table, frozenset()) == []
    keyed = replace(table, spec=replace(table.spec, key=("PATNUM",)))
    assert [p.message for p in _check_keys(keyed, frozenset())] == ["duplicated record key"]
