"""Raw files are read by Arrow's CSV reader, and by pandas' where Arrow cannot read them;
both must give the same table, field for field."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from cdisc_cup.readers.raw import _fast_table, _located_table
from cdisc_cup.spec.model import ReaderOptions

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"
OPTIONS = ReaderOptions()

TRICKY = (
    "PATNR;AETEXT;KOMMENTAR;DOSIS\r\n"
    '1;Übelkeit;"mit ; Semikolon";1,5\r\n'
    '2;"Fieber ""hoch""";"zwei\r\nZeilen";\r\n'
    "3;;;0\r\n"
    '4;"";" führende Blanks ";12\r\n'
)


@pytest.mark.parametrize("name", sorted(p.name for p in SAMPLE.glob("*.csv")))
def test_arrow_and_pandas_read_the_sample_files_alike(name: str) -> None:
    text = (SAMPLE / name).read_text(encoding="utf-8-sig")
    assert_same(text)


def test_arrow_and_pandas_read_quotes_line_breaks_and_empty_fields_alike() -> None:
    frame = assert_same(TRICKY)
    assert frame["KOMMENTAR"].tolist()[:2] == ["mit ; Semikolon", "zwei\r\nZeilen"]
    assert frame["AETEXT"].tolist()[1] == 'Fieber "hoch"'


def test_a_record_with_too_many_fields_goes_to_pandas_which_names_its_line() -> None:
    text = "PATNR;AETEXT\n1;a\n2;b;c\n"
    assert _fast_table(text, OPTIONS) is None
    problem = _located_table(Path("adverse_events.csv"), text, OPTIONS)
    assert not isinstance(problem, pd.DataFrame) and problem.line == 3


def test_a_repeated_column_name_goes_to_pandas() -> None:
    assert _fast_table("PATNR;PATNR\n1;2\n", OPTIONS) is None


def assert_same(text: str) -> pd.DataFrame:
    fast = _fast_table(text, OPTIONS)
    slow = _located_table(Path("file.csv"), text, OPTIONS)
    assert fast is not None and isinstance(slow, pd.DataFrame)
    pd.testing.assert_frame_equal(fast, slow, check_exact=True)
    return fast
