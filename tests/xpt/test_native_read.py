"""The reader decodes XPORT records itself (numpy for IBM doubles, Arrow for text); it must
give exactly what pyreadstat (readstat, the reader R's haven uses too) gives, on files other
tools wrote as well as ours."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest
from pyreadstat._readstat_parser import parser_entry_point

from cdisc_cup.errors import InputErrors
from cdisc_cup.xpt.model import SpecialMissing, XptVariable
from cdisc_cup.xpt.read import read_xpt_dataset, read_xpt_files
from cdisc_cup.xpt.write import write_xpt

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
OTHER_TOOLS = sorted((SHARED / "reference" / "cdiscpilot01").rglob("*.xpt")) + sorted(
    (SHARED / "pharmaverse").rglob("*.xpt")
)


def readstat_values(path: Path) -> dict[str, list]:
    """What pyreadstat reads, with the options that keep special missing values and dates raw."""
    options = {"user_missing": True, "disable_datetime_conversion": True, "output_format": "dict"}
    try:
        return parser_entry_point(str(path), "xport", **options)[0]
    except UnicodeDecodeError:
        return parser_entry_point(str(path), "xport", encoding="WINDOWS-1252", **options)[0]


def as_plain(values: pd.Series) -> list:
    """Our column in readstat's terms: text as is, numbers as floats (NaN for missing), a
    special missing value as its letter."""
    return [value.code if isinstance(value, SpecialMissing) else value for value in values.tolist()]


def same(ours: list, theirs: list) -> bool:
    """Equal value by value; numbers bit for bit, NaN equal to NaN (readstat's None)."""
    if len(ours) != len(theirs):
        return False
    for mine, other in zip(ours, theirs, strict=True):
        other = "" if other is None and isinstance(mine, str) else other
        if isinstance(mine, float) and (other is None or isinstance(other, float)):
            other = np.nan if other is None else other
            if np.float64(mine).tobytes() != np.float64(other).tobytes() and not (np.isnan(mine) and np.isnan(other)):
                return False
        elif mine != other:
            return False
    return True


def test_the_reference_files_are_there() -> None:
    # the SAS-written CDISC pilot and pharmaverse's xportr files: both kinds must be read
    assert {"cdiscpilot01", "pharmaverse"} <= {part for path in OTHER_TOOLS for part in path.parts}
    assert len(OTHER_TOOLS) >= 30


@pytest.mark.parametrize("path", OTHER_TOOLS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_files_other_tools_wrote_read_as_readstat_reads_them(path: Path) -> None:
    dataset = read_xpt_dataset(path)
    theirs = readstat_values(path)

    assert list(dataset.frame.columns) == list(theirs)
    differing = [name for name, values in theirs.items() if not same(as_plain(dataset.frame[name]), values)]
    assert differing == []


VARIABLES = (
    XptVariable("USUBJID", "Unique Subject Identifier", "Char", 12),
    XptVariable("LBORRES", "Result or Finding in Original Units", "Char", 3),
    XptVariable("LBSTRESN", "Numeric Result/Finding in Standard Units", "Num", 8),
)


def lab_frame(records: int) -> pd.DataFrame:
    generator = np.random.default_rng(7)
    rows = np.arange(records)
    magnitudes = generator.normal(5, 2, records) * 10.0 ** generator.integers(-70, 70, records)
    numbers = pd.Series(np.where(rows % 4 == 1, -magnitudes, magnitudes), dtype=object)
    numbers[rows % 11 == 7] = np.nan
    numbers[rows % 13 == 3] = 0.0
    numbers[rows % 97 == 0] = SpecialMissing("N")
    numbers[rows % 97 == 5] = SpecialMissing("_")
    return pd.DataFrame(
        {
            "USUBJID": [f"  CUP-{i:05d}" for i in rows],
            "LBORRES": np.where(generator.random(records) < 0.2, "", "a1"),
            "LBSTRESN": numbers,
        }
    )


@pytest.mark.parametrize("records", [0, 1, 2, 5, 1000])
def test_our_files_read_as_readstat_reads_them(tmp_path: Path, records: int) -> None:
    # records of 23 bytes, shorter than the 80-byte card: the blanks that pad the last card are
    # no record; tiny and huge magnitudes, both signs, zero, missing and special missing
    path = tmp_path / "lb.xpt"
    write_xpt(path, lab_frame(records), dataset="LB", label="Lab", variables=VARIABLES, created=datetime(2020, 1, 1))

    dataset = read_xpt_dataset(path)
    theirs = readstat_values(path)

    assert len(dataset.frame) == records
    assert {name: same(as_plain(dataset.frame[name]), values) for name, values in theirs.items()} == dict.fromkeys(
        theirs, True
    )
    assert dataset.frame["USUBJID"].str.startswith("  CUP-").all()  # leading blanks are kept


def test_an_unreadable_file_is_a_located_problem_not_a_crash(tmp_path: Path) -> None:
    good = tmp_path / "lb.xpt"
    write_xpt(
        good,
        lab_frame(200).assign(LBORRES="1"),
        dataset="LB",
        label="LB",
        variables=VARIABLES,
        created=datetime(2020, 1, 1),
    )
    broken = tmp_path / "xx.xpt"
    broken.write_bytes(b"not a transport file" * 10)
    cut = tmp_path / "cut.xpt"
    cut.write_bytes(good.read_bytes()[:700])  # the header ends inside the NAMESTR records

    read = read_xpt_files([good, broken, cut])

    assert len(read[good].frame) == 200
    for bad in (broken, cut):
        assert isinstance(read[bad], InputErrors)
        assert bad.name in read[bad].problems[0].file


def test_version_8_files_as_pyreadstat_writes_them_by_default(tmp_path: Path) -> None:
    # users hand us such files (pyreadstat.write_xport, SAS %LOC2XPT); names up to 8 here
    path = tmp_path / "lb.xpt"
    frame = pd.DataFrame({"USUBJID": ["A-1", "B-22", ""], "LBSTRESN": [1.5, np.nan, -3.0]})
    pyreadstat.write_xport(frame, str(path), table_name="LB")
    assert path.read_bytes().startswith(b"HEADER RECORD*******LIBV8")

    dataset = read_xpt_dataset(path)

    assert dataset.name == "LB"
    assert {name: same(as_plain(dataset.frame[name]), values) for name, values in readstat_values(path).items()} == {
        "USUBJID": True,
        "LBSTRESN": True,
    }
