"""The XPORT v5 writer and reader, checked by reading files back with pyreadstat and pandas.

Every value check goes through a real reader of the written file; the IBM float checks also
look at the raw bytes, since a reader could hide a wrong pattern behind its own rounding.
"""

from __future__ import annotations

import struct
import warnings
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from cdisc_cup.errors import MAX_LOCATED, InputErrors
from cdisc_cup.xpt.model import SpecialMissing, XptVariable
from cdisc_cup.xpt.read import read_dataset_folder, read_xpt_dataset, sas_format
from cdisc_cup.xpt.write import XptWriteError, write_xpt

REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "reference" / "cdiscpilot01"
REFERENCE_FILES = sorted(REFERENCE.glob("*/*.xpt"))

VARIABLES = (
    XptVariable("STUDYID", "Study Identifier", "Char", 12),
    XptVariable("USUBJID", "Unique Subject Identifier", "Char", 11, "$CHAR11."),
    XptVariable("AESEQ", "Sequence Number", "Num", 8),
    XptVariable("AETERM", "Reported Term for the Adverse Event", "Char", 40),
    XptVariable("ASTDT", "Analysis Start Date", "Num", 8, "DATE9."),
    XptVariable("AVAL", "Analysis Value", "Num", 8, "8.2"),
    XptVariable("ADTM", "Analysis Datetime", "Num", 8, "DATETIME20."),
)


def sample_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "AETERM": ["HEADACHE", None, "", "  LEADING BLANKS", "APPLICATION SITE PRURITUS"],
            "STUDYID": ["CDISCPILOT01"] * 5,
            "USUBJID": ["01-701-1015", "01-701-1015", "01-701-1023", pd.NA, "01-701-1028"],
            "AESEQ": pd.array([1, 2, 1, None, 3], dtype="Int64"),
            "ASTDT": pd.to_datetime(["2014-01-02", None, "1960-01-01", "1959-12-31", "2012-08-05"]),
            "AVAL": [1.5, np.nan, -0.25, 1 / 3, 1e10],
            "ADTM": pd.to_datetime(["2014-01-02 10:30:15", None, None, None, "1960-01-01 00:00:00"]),
            "EXTRA": [0, 1, 2, 3, 4],  # not a variable: left out of the file
        }
    )


def write(path: Path, frame: pd.DataFrame, variables=VARIABLES, **options) -> Path:
    write_xpt(path, frame, dataset="AE", label="Adverse Events", variables=variables, **options)
    return path


def read_user_missing(path: Path) -> tuple[pd.DataFrame, object]:
    """pyreadstat's parser with user_missing=True (read_xport itself does not take it)."""
    from pyreadstat._readstat_parser import parser_entry_point

    return parser_entry_point(str(path), "xport", user_missing=True, disable_datetime_conversion=True)


def observation_bytes(path: Path) -> bytes:
    data = path.read_bytes()
    start = data.index(b"HEADER RECORD*******OBS     HEADER RECORD") + 80
    return data[start:]


def ibm_patterns(path: Path, count: int) -> list[str]:
    """The first `count` 8-byte values of a one-Num-variable file, as hex."""
    data = observation_bytes(path)
    return [data[i * 8 : i * 8 + 8].hex() for i in range(count)]


@pytest.fixture
def sample_file(tmp_path: Path) -> Path:
    return write(tmp_path / "ae.xpt", sample_frame())


def test_pyreadstat_reads_names_order_labels_lengths_and_formats(sample_file: Path) -> None:
    frame, meta = pyreadstat.read_xport(sample_file)
    assert meta.table_name == "AE"
    assert meta.file_label == "Adverse Events"
    assert list(frame.columns) == [v.name for v in VARIABLES]
    assert meta.column_labels == [v.label for v in VARIABLES]
    assert meta.variable_storage_width == {v.name: v.length for v in VARIABLES}
    # pyreadstat 1.3.8 reports "DATE9.", earlier releases "DATE9": the same format.
    assert {name: sas_format(text) for name, text in meta.original_variable_types.items()} == {
        "STUDYID": None,
        "USUBJID": "$CHAR11.",
        "AESEQ": None,
        "AETERM": None,
        "ASTDT": "DATE9.",
        "AVAL": "8.2",
        "ADTM": "DATETIME20.",
    }


def test_pandas_reads_the_same_metadata_and_values(sample_file: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pd.read_sas(sample_file, format="xport", iterator=True, encoding="ascii") as reader:
            fields, member = reader.fields, reader.member_info
            frame = reader.read()
    assert member["set_name"] == "AE" and member["label"] == "Adverse Events"
    assert [f["name"].decode() for f in fields] == [v.name for v in VARIABLES]
    assert [f["label"].decode() for f in fields] == [v.label for v in VARIABLES]
    assert [f["field_length"] for f in fields] == [v.length for v in VARIABLES]
    date_field = fields[4]
    assert (date_field["nform"], date_field["nfl"], date_field["num_decimals"]) == (b"DATE", 9, 0)
    assert (fields[5]["nform"], fields[5]["nfl"], fields[5]["num_decimals"]) == (b"", 8, 2)
    assert frame["AETERM"].tolist() == ["HEADACHE", "", "", "  LEADING BLANKS", "APPLICATION SITE PRURITUS"]
    assert frame["AESEQ"].tolist()[:3] == [1.0, 2.0, 1.0] and np.isnan(frame["AESEQ"][3])
    assert frame["AVAL"][4] == 1e10


def test_values_and_missing_read_back(sample_file: Path) -> None:
    frame, _ = pyreadstat.read_xport(sample_file, disable_datetime_conversion=True)
    assert frame["AETERM"].tolist() == ["HEADACHE", "", "", "  LEADING BLANKS", "APPLICATION SITE PRURITUS"]
    assert frame["USUBJID"].tolist() == ["01-701-1015", "01-701-1015", "01-701-1023", "", "01-701-1028"]
    np.testing.assert_array_equal(frame["AESEQ"], [1.0, 2.0, 1.0, np.nan, 3.0])
    np.testing.assert_array_equal(frame["AVAL"], [1.5, np.nan, -0.25, 1 / 3, 1e10])
    # SAS dates are days since 1960-01-01; datetimes under DATETIME20. seconds.
    np.testing.assert_array_equal(frame["ASTDT"], [19725.0, np.nan, 0.0, -1.0, 19210.0])
    np.testing.assert_array_equal(
        frame["ADTM"], [19725 * 86400 + 10 * 3600 + 30 * 60 + 15, np.nan, np.nan, np.nan, 0.0]
    )


def test_date9_reads_back_as_dates_in_pyreadstat(sample_file: Path) -> None:
    frame, _ = pyreadstat.read_xport(sample_file)
    assert frame["ASTDT"][0] == date(2014, 1, 2)
    assert frame["ASTDT"][3] == date(1959, 12, 31)
    assert frame["ADTM"][0] == datetime(2014, 1, 2, 10, 30, 15)


def test_date_objects_and_timestamps_in_object_columns_are_sas_dates(tmp_path: Path) -> None:
    frame = pd.DataFrame({"ASTDT": [date(2014, 1, 2), None, pd.Timestamp("1960-01-02"), 5.0]})
    variables = [XptVariable("ASTDT", "Analysis Start Date", "Num", 8, "E8601DA.")]
    read, meta = pyreadstat.read_xport(write(tmp_path / "d.xpt", frame, variables), disable_datetime_conversion=True)
    np.testing.assert_array_equal(read["ASTDT"], [19725.0, np.nan, 1.0, 5.0])
    assert meta.original_variable_types["ASTDT"] == "E8601DA"


def test_date_with_a_time_of_day_under_a_date_format_is_an_error(tmp_path: Path) -> None:
    frame = pd.DataFrame({"ASTDT": pd.to_datetime(["2014-01-02 00:00", "2014-01-03 12:00"])})
    variables = [XptVariable("ASTDT", "Analysis Start Date", "Num", 8, "DATE9.")]
    with pytest.raises(XptWriteError) as raised:
        write(tmp_path / "d.xpt", frame, variables)
    (problem,) = raised.value.problems
    assert problem.column == "ASTDT" and "record 2" in problem.message


EDGE_VALUES = [
    0.0,
    -0.0,
    1.0,
    -1.5,
    1e-80,
    1e-78,
    5.4e-79,
    1e75,
    7.2e75,
    1 / 3,
    -1 / 3,
    2.0**53,
    -(2.0**53) + 1,
    123456789012345.0,
    0.1,
    2.0**-260,
    np.pi,
    1e-5,
]


def test_ibm_floats_read_back_exactly(tmp_path: Path) -> None:
    frame = pd.DataFrame({"AVAL": [*EDGE_VALUES, np.nan]})
    variables = [XptVariable("AVAL", "Analysis Value", "Num", 8)]
    read, _ = pyreadstat.read_xport(write(tmp_path / "f.xpt", frame, variables))
    # Below 16**-65 (about 5.4e-79) IBM has no normalised value: those become 0.
    expected = [0.0 if abs(v) < 16.0**-65 else v for v in EDGE_VALUES]
    expected.append(np.nan)
    np.testing.assert_array_equal(read["AVAL"].to_numpy(), expected)


def test_ibm_bit_patterns_follow_ts140(tmp_path: Path) -> None:
    frame = pd.DataFrame({"AVAL": [1.0, -1.5, 100.0, 0.0, -0.0, np.nan, 1 / 3, 1e-80]})
    variables = [XptVariable("AVAL", "Analysis Value", "Num", 8)]
    patterns = ibm_patterns(write(tmp_path / "f.xpt", frame, variables), 8)
    assert patterns == [
        "4110000000000000",  # 1 = 1/16 * 16**1
        "c118000000000000",
        "4264000000000000",
        "0000000000000000",
        "0000000000000000",  # -0 is written as 0, as SAS does
        "2e00000000000000",  # "." missing
        "4055555555555554",  # the 53-bit mantissa, shifted: exact
        "0000000000000000",  # underflow
    ]


@pytest.mark.parametrize("value", [1e76, -7.3e75, np.inf, -np.inf])
def test_numbers_beyond_ibm_range_are_located_errors(tmp_path: Path, value: float) -> None:
    frame = pd.DataFrame({"AVAL": [1.0, value]})
    variables = [XptVariable("AVAL", "Analysis Value", "Num", 8)]
    with pytest.raises(XptWriteError) as raised:
        write(tmp_path / "f.xpt", frame, variables)
    (problem,) = raised.value.problems
    assert problem.column == "AVAL"
    assert "dataset AE, record 2" in problem.message and "too large" in problem.message


def test_special_missing_values_read_back_as_special(tmp_path: Path) -> None:
    frame = pd.DataFrame({"AVAL": [SpecialMissing("A"), 2.5, np.nan, SpecialMissing("_"), SpecialMissing("Z")]})
    variables = [XptVariable("AVAL", "Analysis Value", "Num", 8)]
    path = write(tmp_path / "s.xpt", frame, variables)
    assert ibm_patterns(path, 5)[0] == "4100000000000000"  # "A" then zeros (TS-140)
    read, meta = read_user_missing(path)
    assert read["AVAL"].tolist()[:2] == ["A", 2.5] and np.isnan(read["AVAL"][2])
    assert read["AVAL"].tolist()[3:] == ["_", "Z"]
    assert sorted(meta.missing_user_values["AVAL"]) == ["A", "Z", "_"]
    loaded = read_xpt_dataset(path)
    assert loaded.frame["AVAL"][0] == SpecialMissing("A")
    assert loaded.frame["AVAL"][3] == SpecialMissing("_")
    assert loaded.frame["AVAL"][1] == 2.5


def test_reader_turns_a_column_of_only_special_missing_values_into_special_missing(tmp_path: Path) -> None:
    """Regression (found by the property test): pyreadstat gives such a column as text."""
    frame = pd.DataFrame({"AVAL": [SpecialMissing("N"), SpecialMissing("U")]})
    path = write(tmp_path / "s.xpt", frame, [XptVariable("AVAL", "Analysis Value", "Num", 8)])
    assert read_xpt_dataset(path).frame["AVAL"].tolist() == [SpecialMissing("N"), SpecialMissing("U")]


def test_special_missing_code_must_be_a_letter_or_underscore() -> None:
    with pytest.raises(ValueError):
        SpecialMissing("a")


def test_non_ascii_text_is_a_located_error_not_mojibake(tmp_path: Path) -> None:
    frame = sample_frame()
    frame.loc[2, "AETERM"] = "ÉRYTHÈME"
    path = tmp_path / "ae.xpt"
    with pytest.raises(XptWriteError) as raised:
        write(path, frame)
    (problem,) = raised.value.problems
    assert (problem.column, problem.value) == ("AETERM", "ÉRYTHÈME")
    assert "dataset AE, record 3" in problem.message and "not ASCII" in problem.message
    assert "AETERM" in str(raised.value) and "ASCII" in str(raised.value)


def test_too_long_text_is_a_located_error_never_truncated(tmp_path: Path) -> None:
    frame = sample_frame()
    frame.loc[4, "USUBJID"] = "01-701-10150"  # 12 characters in a length-11 variable
    with pytest.raises(XptWriteError) as raised:
        write(tmp_path / "ae.xpt", frame)
    (problem,) = raised.value.problems
    assert (problem.column, problem.value) == ("USUBJID", "01-701-10150")
    assert "record 5" in problem.message and "longer than 11" in problem.message


def test_text_of_exactly_the_length_fits(tmp_path: Path) -> None:
    frame = pd.DataFrame({"X": ["A" * 200, "B"]})
    path = write(tmp_path / "x.xpt", frame, [XptVariable("X", "Long", "Char", 200)])
    read, _ = pyreadstat.read_xport(path)
    assert read["X"].tolist() == ["A" * 200, "B"]


def test_non_text_in_a_char_variable_and_text_in_a_num_variable_are_errors(
    tmp_path: Path,
) -> None:
    frame = pd.DataFrame({"C": ["a", 5], "N": [1.0, "2"]})
    variables = [XptVariable("C", "Char", "Char", 4), XptVariable("N", "Num", "Num", 8)]
    with pytest.raises(XptWriteError) as raised:
        write(tmp_path / "x.xpt", frame, variables)
    assert [(p.column, p.value) for p in raised.value.problems] == [("C", "5"), ("N", "2")]


def test_trailing_all_blank_records_are_refused_because_readers_drop_them(tmp_path: Path) -> None:
    """Regression: haven, pyreadstat (readstat) and SAS read ["TEXT", "", ""] as one record."""
    frame = pd.DataFrame({"X": ["TEXT", "", "   ", None]})
    with pytest.raises(XptWriteError) as raised:
        write(tmp_path / "x.xpt", frame, [XptVariable("X", "X", "Char", 8)], chunk_rows=3)
    assert ["record 2:" in p.message for p in raised.value.problems] == [True, False, False]
    assert "record 4:" in raised.value.problems[-1].message
    frame.loc[3, "X"] = "END"  # blank records inside the data are fine
    read, _ = pyreadstat.read_xport(write(tmp_path / "y.xpt", frame, [XptVariable("X", "X", "Char", 8)]))
    assert read["X"].tolist() == ["TEXT", "", "", "END"]


def test_many_bad_records_are_listed_briefly_with_a_count(tmp_path: Path) -> None:
    frame = pd.DataFrame({"X": ["TOO LONG"] * (MAX_LOCATED + 995)})
    with pytest.raises(XptWriteError) as raised:
        write(tmp_path / "x.xpt", frame, [XptVariable("X", "X", "Char", 3)], chunk_rows=300)
    problems = raised.value.problems
    assert len(problems) == MAX_LOCATED + 1  # across chunks of 300 records
    assert "record 1:" in problems[0].message and f"record {MAX_LOCATED}:" in problems[MAX_LOCATED - 1].message
    assert "995 more records" in problems[MAX_LOCATED].message


@pytest.mark.parametrize(
    ("variables", "dataset", "label", "fragment"),
    [
        ([XptVariable("TOOLONGNAME", "x", "Char", 1)], "AE", "", "variable name"),
        ([XptVariable("aeterm", "x", "Char", 1)], "AE", "", "variable name"),
        ([XptVariable("X", "x" * 41, "Char", 1)], "AE", "", "label of variable X"),
        ([XptVariable("X", "x", "Char", 1)], "ADVERSEEV", "", "dataset name"),
        ([XptVariable("X", "x", "Char", 1)], "AE", "L" * 41, "dataset label"),
        ([XptVariable("X", "x", "Char", 201)], "AE", "", "length of a Char"),
        ([XptVariable("X", "x", "Num", 4)], "AE", "", "length 8"),
        ([XptVariable("X", "x", "Num", 8, "$CHAR8.")], "AE", "", "display format"),
        ([XptVariable("X", "x", "Char", 8, "DATE9.")], "AE", "", "display format"),
        ([XptVariable("X", "x", "Num", 8, "LONGFORMAT9.")], "AE", "", "display format"),
        ([XptVariable("MISSING", "x", "Char", 1)], "AE", "", "not in the data"),
        ([XptVariable("X", "x", "Char", 1)] * 2, "AE", "", "listed twice"),
    ],
)
def test_metadata_that_v5_cannot_hold_is_refused_before_writing(
    tmp_path: Path, variables: list[XptVariable], dataset: str, label: str, fragment: str
) -> None:
    path = tmp_path / "x.xpt"
    with pytest.raises(XptWriteError) as raised:
        write_xpt(path, pd.DataFrame({"X": ["a"]}), dataset=dataset, label=label, variables=variables)
    assert any(fragment in p.message for p in raised.value.problems), raised.value.problems
    assert not path.exists()


def test_two_writes_are_byte_identical(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    first = write(tmp_path / "a.xpt", sample_frame()).read_bytes()
    second = write(tmp_path / "b.xpt", sample_frame()).read_bytes()
    assert first == second
    assert b"01JAN60:00:00:00" in first[:240]


def test_header_dates_come_from_source_date_epoch_or_created(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")  # 2023-11-14 22:13:20 UTC
    data = write(tmp_path / "a.xpt", sample_frame()).read_bytes()
    assert data[80 + 64 : 160] == b"14NOV23:22:13:20"
    data = write(tmp_path / "b.xpt", sample_frame(), created=datetime(2024, 2, 29, 8, 5, 1))
    assert data.read_bytes()[80 + 64 : 160] == b"29FEB24:08:05:01"


def test_records_follow_ts140_layout(sample_file: Path) -> None:
    data = sample_file.read_bytes()
    assert len(data) % 80 == 0
    assert data[:80] == (b"HEADER RECORD*******LIBRARY HEADER RECORD!!!!!!!000000000000000000000000000000  ")
    assert data[240:320] == (b"HEADER RECORD*******MEMBER  HEADER RECORD!!!!!!!000000000000000001600000000140  ")
    assert data[560:640] == (b"HEADER RECORD*******NAMESTR HEADER RECORD!!!!!!!000000000700000000000000000000  ")
    namestr = data[640 : 640 + 140]
    ntype, _, length, number = struct.unpack(">hhhh", namestr[:8])
    assert (ntype, length, number, namestr[8:16]) == (2, 12, 1, b"STUDYID ")
    date_namestr = data[640 + 4 * 140 : 640 + 5 * 140]
    assert date_namestr[56:64] == b"DATE    "
    assert struct.unpack(">hhh", date_namestr[64:70]) == (9, 0, 0)
    assert struct.unpack(">i", date_namestr[84:88]) == (12 + 11 + 8 + 40,)
    record_length = sum(v.length for v in VARIABLES)
    observations = observation_bytes(sample_file)
    assert observations[5 * record_length :].strip(b" ") == b""
    assert observations[:12] == b"CDISCPILOT01"


def test_chunked_writing_gives_the_same_bytes(tmp_path: Path) -> None:
    frame = pd.concat([sample_frame()] * 7, ignore_index=True)
    whole = write(tmp_path / "a.xpt", frame).read_bytes()
    for chunk_rows in (1, 3, 34):
        assert write(tmp_path / f"c{chunk_rows}.xpt", frame, chunk_rows=chunk_rows).read_bytes() == whole


def test_empty_dataset_is_readable(tmp_path: Path) -> None:
    frame = sample_frame().iloc[0:0]
    read, meta = pyreadstat.read_xport(write(tmp_path / "e.xpt", frame))
    assert len(read) == 0 and meta.column_names == [v.name for v in VARIABLES]


def test_reader_keeps_metadata_and_blank_text_as_empty_string(sample_file: Path) -> None:
    loaded = read_xpt_dataset(sample_file)
    assert (loaded.name, loaded.label, loaded.path) == ("AE", "Adverse Events", sample_file)
    assert loaded.variables == VARIABLES
    assert loaded.frame["AETERM"].tolist()[:3] == ["HEADACHE", "", ""]
    assert not loaded.frame["USUBJID"].isna().any()
    assert loaded.frame["ASTDT"].tolist()[2:4] == [0.0, -1.0]  # SAS numbers, not dates


def test_reader_reports_a_corrupt_file_by_name(tmp_path: Path) -> None:
    bad = tmp_path / "broken.xpt"
    bad.write_bytes(b"this is not a transport file" * 10)
    with pytest.raises(InputErrors) as raised:
        read_xpt_dataset(bad)
    (problem,) = raised.value.problems
    assert problem.file == str(bad) and "XPORT" in problem.message


def test_folder_reader_keys_by_dataset_name_and_collects_all_bad_files(tmp_path: Path) -> None:
    write(tmp_path / "ae.xpt", sample_frame())
    (tmp_path / "notes.txt").write_text("ignored")
    assert list(read_dataset_folder(tmp_path)) == ["AE"]
    (tmp_path / "x1.xpt").write_bytes(b"junk" * 40)
    (tmp_path / "x2.xpt").write_bytes(b"")
    with pytest.raises(InputErrors) as raised:
        read_dataset_folder(tmp_path)
    assert [Path(p.file).name for p in raised.value.problems] == ["x1.xpt", "x2.xpt"]


# --- real SAS-written files ----------------------------------------------------------------


@pytest.mark.parametrize("original", REFERENCE_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_sas_written_files_round_trip(tmp_path: Path, original: Path) -> None:
    loaded = read_xpt_dataset(original)
    copy = tmp_path / original.name
    if original.name == "ts.xpt":
        # TSVAL holds a Windows-1252 curly quote ("Alzheimer’s"): not writable as ASCII.
        with pytest.raises(XptWriteError) as raised:
            write_xpt(copy, loaded.frame, dataset=loaded.name, label=loaded.label, variables=loaded.variables)
        assert {p.column for p in raised.value.problems} == {"TSVAL"}
        assert "Alzheimer’s" in raised.value.problems[0].value
        return
    write_xpt(copy, loaded.frame, dataset=loaded.name, label=loaded.label, variables=loaded.variables)
    before, meta_before = pyreadstat.read_xport(original, disable_datetime_conversion=True)
    after, meta_after = pyreadstat.read_xport(copy, disable_datetime_conversion=True)
    assert meta_after.table_name == meta_before.table_name
    assert meta_after.file_label == meta_before.file_label
    assert meta_after.column_names == meta_before.column_names
    assert meta_after.column_labels == meta_before.column_labels
    assert meta_after.variable_storage_width == meta_before.variable_storage_width
    assert meta_after.original_variable_types == meta_before.original_variable_types
    pd.testing.assert_frame_equal(after, before, check_exact=True)
    # IBM -> IEEE -> IBM is lossless, so the observations are SAS's bytes exactly.
    assert observation_bytes(copy) == observation_bytes(original)
