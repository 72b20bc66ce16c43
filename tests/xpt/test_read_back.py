"""`as_read_back` (what convert validates) equals a real pyreadstat read-back of the file."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cdisc_cup.pipeline import ConversionResult
from cdisc_cup.provenance import submission_frame
from cdisc_cup.xpt.model import Dataset, SpecialMissing, XptVariable
from cdisc_cup.xpt.read import as_read_back, read_xpt_dataset, read_xpt_header
from cdisc_cup.xpt.write import XptWriteError, write_xpt


def assert_same(expected: Dataset, actual: Dataset) -> None:
    assert actual.name == expected.name
    assert actual.label == expected.label
    assert actual.variables == expected.variables
    pd.testing.assert_frame_equal(actual.frame, expected.frame, check_exact=True)


def test_every_sample_dataset_reads_back_as_convert_sees_it(converted_sample: ConversionResult) -> None:
    for frames, folder in (
        (converted_sample.sdtm, converted_sample.sdtm_dir),
        (converted_sample.adam, converted_sample.adam_dir),
    ):
        for name, frame in frames.items():
            path = folder / f"{name.lower()}.xpt"
            label, variables = read_xpt_header(path)
            seen = as_read_back(submission_frame(frame), variables, name=name, label=label, path=path)
            assert_same(read_xpt_dataset(path), seen)


def test_edge_values_read_back_identically(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "STUDYID": pd.Series(["S1", "S1 ", "  S1", None], dtype="string"),
            "TEXT": pd.Series(["", "a b  ", pd.NA, "x"], dtype="string"),
            "NUM": pd.Series([1.5, np.nan, -0.0, 1e-80]),
            "INT": pd.Series([1, None, 3, 4], dtype="Int64"),
            "FLAG": pd.Series([True, False, True, False]),
            "ADT": pd.Series(pd.to_datetime(["2020-02-29", None, "1959-12-31", "2021-01-01"])),
            "ADTM": pd.Series(
                pd.to_datetime(["2020-02-29 10:11:12", None, "1960-01-01 00:00:00", "2021-01-01 00:00:01"])
            ),
            "AVAL": pd.Series([SpecialMissing("A"), 2.0, np.nan, SpecialMissing("_")], dtype=object),
        }
    )
    variables = (
        XptVariable("STUDYID", "Study Identifier", "Char", 4),
        XptVariable("TEXT", "Text", "Char", 5),
        XptVariable("NUM", "Number", "Num", 8, "8.2"),
        XptVariable("INT", "Integer", "Num", 8),
        XptVariable("FLAG", "Flag", "Num", 8),
        XptVariable("ADT", "Analysis Date", "Num", 8, "DATE9."),
        XptVariable("ADTM", "Analysis Datetime", "Num", 8, "DATETIME20."),
        XptVariable("AVAL", "Analysis Value", "Num", 8),
    )
    path = tmp_path / "edge.xpt"
    write_xpt(path, frame, dataset="EDGE", label="Edge cases", variables=variables, created=datetime(2020, 1, 1))

    label, read_variables = read_xpt_header(path)
    assert (label, read_variables) == ("Edge cases", variables)
    seen = as_read_back(frame, read_variables, name="EDGE", label=label, path=path)
    assert_same(read_xpt_dataset(path), seen)


def test_a_value_the_writer_refuses_is_refused_here_too(tmp_path: Path) -> None:
    frame = pd.DataFrame({"ADT": pd.Series(pd.to_datetime(["2020-02-29 10:00"]))})
    variables = (XptVariable("ADT", "Analysis Date", "Num", 8, "DATE9."),)
    with pytest.raises(XptWriteError, match="time of day"):
        as_read_back(frame, variables, name="X", label="", path=tmp_path / "x.xpt")
