"""The audit folder's CSV files are written by Arrow; a reader must get what pandas wrote."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

from cdisc_cup.reports.spreadsheet_safe import neutralise_frame
from cdisc_cup.reports.text_csv import write_text_csv


def test_text_csv_is_what_to_csv_writes_for_quotes_delimiters_line_breaks_and_missing(tmp_path: Path) -> None:
    frame = neutralise_frame(
        pd.DataFrame(
            {
                "line": [2, 3, 4, 5, 6, 7],
                "KOMMENTAR": pd.Series(["Gabe; verschoben", 'Patient "stabil"', "zwei\nZeilen", "", None, "=1+2"]),
                "SITENAME": pd.Series(["Universitätsklinikum Würzburg", " Köln", None, "a,b", "x\r\ny", "-3"]),
            }
        )
    )
    written = tmp_path / "extra.csv"
    write_text_csv(frame, written)
    expected = io.StringIO()
    frame.to_csv(expected, index=False)
    assert written.read_bytes() == expected.getvalue().encode("utf-8")
    back = pd.read_csv(written, dtype=str, keep_default_na=False)
    assert back["KOMMENTAR"].tolist() == ["Gabe; verschoben", 'Patient "stabil"', "zwei\nZeilen", "", "", "'=1+2"]


def test_text_csv_of_no_records_is_the_header(tmp_path: Path) -> None:
    written = tmp_path / "extra.csv"
    empty = pd.DataFrame({"line": pd.Series([], dtype="int64"), "LASTEDIT": pd.Series([], dtype="str")})
    write_text_csv(empty, written)
    assert written.read_bytes() == b"line,LASTEDIT\n"
