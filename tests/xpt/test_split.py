"""Datasets over the FDA per-file limit (TCG section 3.3.2) and the streaming XPT writer.

The limit is a parameter, so a few KB make the real splitting code run on a small dataset; every
file written is read back with pyreadstat.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from cdisc_cup.constants import FDA_FILE_LIMIT
from cdisc_cup.xpt.model import XptVariable
from cdisc_cup.xpt.read import sas_format
from cdisc_cup.xpt.split import (
    XptDatasetFiles,
    max_records_per_file,
    write_xpt_within_limit,
)
from cdisc_cup.xpt.write import XptWriteError, record_length, write_xpt, write_xpt_chunks, xpt_size

VARIABLES = (
    XptVariable("STUDYID", "Study Identifier", "Char", 8),
    XptVariable("DOMAIN", "Domain Abbreviation", "Char", 2),
    XptVariable("USUBJID", "Unique Subject Identifier", "Char", 14, "$CHAR14."),
    XptVariable("LBSEQ", "Sequence Number", "Num", 8),
    XptVariable("LBTESTCD", "Lab Test or Examination Short Name", "Char", 8),
    XptVariable("LBTEST", "Lab Test or Examination Name", "Char", 40),
    XptVariable("LBORRES", "Result or Finding in Original Units", "Char", 12),
    XptVariable("LBSTRESN", "Numeric Result/Finding in Standard Units", "Num", 8, "8.2"),
    XptVariable("LBDT", "Date of Specimen Collection", "Num", 8, "DATE9."),
)
LABEL = "Laboratory Test Results"
LIMIT = 12_000  # bytes: a handful of split files for the frame below
TESTS = {"ALT": "Alanine Aminotransferase", "HGB": "Hemoglobin", "K": "Potassium", "SODIUM": "Sodium"}


def lab_frame(subjects: int = 40, seed: int = 1) -> pd.DataFrame:
    """LB-like records sorted by USUBJID and LBSEQ, 1 to 25 records per subject."""
    rng = np.random.default_rng(seed)
    counts = rng.integers(1, 26, subjects)
    usubjid = np.repeat([f"CUP01-001-{n:04d}" for n in range(1, subjects + 1)], counts)
    rows = len(usubjid)
    testcd = rng.choice(list(TESTS), rows)
    result = rng.normal(50, 20, rows).round(2)
    result[rng.random(rows) < 0.1] = np.nan
    return pd.DataFrame(
        {
            "STUDYID": "CUP01",
            "DOMAIN": "LB",
            "USUBJID": usubjid,
            "LBSEQ": pd.Series(usubjid).groupby(usubjid).cumcount().to_numpy() + 1,
            "LBTESTCD": testcd,
            "LBTEST": pd.Series(testcd).map(TESTS).to_numpy(),
            "LBORRES": pd.Series(result).map("{:.2f}".format).where(~np.isnan(result), ""),
            "LBSTRESN": result,
            "LBDT": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 400, rows), unit="D"),
        }
    )


def chunks_of(frame: pd.DataFrame, sizes: list[int]) -> Iterator[pd.DataFrame]:
    """`frame` in chunks of the given sizes, then of the last size until the end."""
    start = 0
    for size in [*sizes, *[sizes[-1]] * len(frame)]:
        if start >= len(frame):
            return
        yield frame.iloc[start : start + size]
        start += size


def write_split(folder: Path, data, **options) -> XptDatasetFiles:
    options.setdefault("limit", LIMIT)
    return write_xpt_within_limit(folder, data, dataset="LB", label=LABEL, variables=VARIABLES, **options)


def read_back(path: Path) -> tuple[pd.DataFrame, object]:
    return pyreadstat.read_xport(path)


# --- the exact size --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("variables", "rows"),
    [
        (VARIABLES, 0),
        (VARIABLES, 1),
        (VARIABLES, 57),
        (VARIABLES[:4], 10),  # 4 NAMESTRs are exactly 7 records of 80 bytes
        (VARIABLES[:3], 3),
        ((XptVariable("X", "X", "Char", 1),), 79),
        ((XptVariable("X", "X", "Char", 1),), 80),  # records end exactly on an 80-byte record
        ((XptVariable("X", "X", "Char", 1),), 81),
        ((XptVariable("X", "X", "Char", 200),) * 1 + (XptVariable("N", "N", "Num", 8),), 13),
    ],
)
def test_size_is_the_size_of_the_written_file(tmp_path: Path, variables: tuple[XptVariable, ...], rows: int) -> None:
    frame = pd.DataFrame({v.name: ["A"] * rows if v.type == "Char" else [1.5] * rows for v in variables})
    path = tmp_path / "x.xpt"
    write_xpt(path, frame, dataset="X", label="", variables=variables)
    assert xpt_size(variables, rows) == path.stat().st_size


def test_max_records_fill_a_file_up_to_the_limit(tmp_path: Path) -> None:
    per_file = max_records_per_file(VARIABLES, LIMIT)
    assert xpt_size(VARIABLES, per_file) <= LIMIT < xpt_size(VARIABLES, per_file + 1)
    with pytest.raises(ValueError, match="cannot hold one record"):
        max_records_per_file(VARIABLES, xpt_size(VARIABLES, 0))


# --- streaming ------------------------------------------------------------------------------


def test_a_generator_of_chunks_gives_the_bytes_of_write_xpt(tmp_path: Path) -> None:
    frame = lab_frame()
    whole = tmp_path / "whole.xpt"
    write_xpt(whole, frame, dataset="LB", label=LABEL, variables=VARIABLES)
    streamed = tmp_path / "streamed.xpt"
    count = write_xpt_chunks(
        streamed, chunks_of(frame, [1, 50, 0, 7, 100]), dataset="LB", label=LABEL, variables=VARIABLES
    )
    assert count == len(frame)
    assert streamed.read_bytes() == whole.read_bytes()


def test_streamed_problems_carry_record_numbers_of_the_whole_dataset(tmp_path: Path) -> None:
    frame = lab_frame().iloc[:10].copy()
    frame.loc[6, "LBTEST"] = "Hämoglobin"
    with pytest.raises(XptWriteError) as raised:
        write_xpt_chunks(tmp_path / "x.xpt", chunks_of(frame, [4]), dataset="LB", label=LABEL, variables=VARIABLES)
    [problem] = raised.value.problems
    assert "record 7:" in problem.message and problem.column == "LBTEST" and problem.value == "Hämoglobin"


def test_a_chunk_without_a_variable_is_a_located_error(tmp_path: Path) -> None:
    frame = lab_frame().iloc[:10]
    chunks = iter([frame.iloc[:6], frame.iloc[6:].drop(columns="LBDT")])
    with pytest.raises(XptWriteError) as raised:
        write_xpt_chunks(tmp_path / "x.xpt", chunks, dataset="LB", label=LABEL, variables=VARIABLES)
    [problem] = raised.value.problems
    assert "records from 7 on" in problem.message and problem.column == "LBDT"


def test_no_chunks_at_all_is_an_empty_dataset(tmp_path: Path) -> None:
    path = tmp_path / "x.xpt"
    assert write_xpt_chunks(path, iter([]), dataset="LB", label=LABEL, variables=VARIABLES) == 0
    frame, meta = read_back(path)
    assert len(frame) == 0 and meta.column_names == [v.name for v in VARIABLES]


# --- splitting ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def lab() -> pd.DataFrame:
    return lab_frame()


@pytest.fixture(scope="module")
def split_by_subject(tmp_path_factory: pytest.TempPathFactory, lab: pd.DataFrame) -> XptDatasetFiles:
    return write_split(tmp_path_factory.mktemp("split"), lab, by="USUBJID", chunk_rows=64)


def test_the_whole_file_is_written_as_without_a_split(
    tmp_path: Path, lab: pd.DataFrame, split_by_subject: XptDatasetFiles
) -> None:
    plain = tmp_path / "lb.xpt"
    write_xpt(plain, lab, dataset="LB", label=LABEL, variables=VARIABLES)
    whole = split_by_subject.whole
    assert whole.path.read_bytes() == plain.read_bytes()
    assert (whole.href, whole.member, whole.first_record, whole.last_record) == ("lb.xpt", "LB", 1, len(lab))
    assert whole.size == whole.path.stat().st_size > LIMIT


def test_split_files_are_named_placed_and_sized_as_the_guide_asks(split_by_subject: XptDatasetFiles) -> None:
    parts = split_by_subject.parts
    assert split_by_subject.is_split and len(parts) >= 3
    folder = split_by_subject.whole.path.parent
    for number, part in enumerate(parts, start=1):
        assert part.path == folder / "split" / f"lb{number}.xpt"
        assert (part.href, part.member) == (f"split/lb{number}.xpt", f"LB{number}")
        assert part.size == part.path.stat().st_size == xpt_size(VARIABLES, part.records) <= LIMIT
        _, meta = pyreadstat.read_xport(part.path, metadataonly=True)
        assert (meta.table_name, meta.file_label) == (f"LB{number}", LABEL)
    assert sorted(p.name for p in (folder / "split").iterdir()) == [f"lb{n}.xpt" for n in range(1, len(parts) + 1)]


def test_split_files_read_back_concatenated_are_the_dataset(
    lab: pd.DataFrame, split_by_subject: XptDatasetFiles
) -> None:
    read = [read_back(part.path) for part in split_by_subject.parts]
    joined = pd.concat([frame for frame, _ in read], ignore_index=True)
    expected = lab.assign(LBDT=lab["LBDT"].dt.date)
    pd.testing.assert_frame_equal(joined, expected, check_dtype=False)
    for _, meta in read:
        assert meta.column_names == [v.name for v in VARIABLES]
        assert meta.column_labels == [v.label for v in VARIABLES]
        assert meta.variable_storage_width == {v.name: v.length for v in VARIABLES}
        assert sas_format(meta.original_variable_types["LBDT"]) == "DATE9."  # "DATE9" before pyreadstat 1.3.8
    ranges = [(p.first_record, p.last_record) for p in split_by_subject.parts]
    assert ranges[0][0] == 1 and ranges[-1][1] == len(lab)
    assert all(after[0] == before[1] + 1 for before, after in pairwise(ranges))
    assert [p.records for p in split_by_subject.parts] == [len(frame) for frame, _ in read]


def test_no_subject_straddles_two_split_files(lab: pd.DataFrame, split_by_subject: XptDatasetFiles) -> None:
    subjects = [set(read_back(part.path)[0]["USUBJID"]) for part in split_by_subject.parts]
    assert sum(len(s) for s in subjects) == len(set().union(*subjects)) == lab["USUBJID"].nunique()
    # Each file is as full as whole subjects allow: the next subject would not have fitted.
    per_file = max_records_per_file(VARIABLES, LIMIT)
    sizes = lab.groupby("USUBJID", sort=False).size()
    for part, next_subjects in zip(split_by_subject.parts, subjects[1:], strict=False):
        first_next = lab["USUBJID"].iloc[part.last_record]
        assert first_next in next_subjects
        assert part.records + sizes[first_next] > per_file


def test_without_by_every_file_but_the_last_is_full(tmp_path: Path, lab: pd.DataFrame) -> None:
    result = write_split(tmp_path, lab, chunk_rows=50)
    per_file = max_records_per_file(VARIABLES, LIMIT)
    assert [p.records for p in result.parts[:-1]] == [per_file] * (len(result.parts) - 1)
    assert 0 < result.parts[-1].records <= per_file
    assert all(p.size == p.path.stat().st_size <= LIMIT for p in result.parts)
    joined = pd.concat([read_back(p.path)[0] for p in result.parts], ignore_index=True)
    pd.testing.assert_frame_equal(joined, read_back(result.whole.path)[0])


@pytest.mark.parametrize("by", ["USUBJID", None])
def test_chunks_from_a_generator_split_like_the_whole_frame(
    tmp_path: Path, lab: pd.DataFrame, split_by_subject: XptDatasetFiles, by: str | None
) -> None:
    """Chunks of 13 records cut subjects in the middle; the held-back records join the next chunk."""
    (tmp_path / "frame").mkdir()
    (tmp_path / "chunks").mkdir()
    from_frame = split_by_subject if by else write_split(tmp_path / "frame", lab, by=by)
    streamed = write_split(tmp_path / "chunks", chunks_of(lab, [1, 13]), rows=len(lab), by=by)
    assert [(p.href, p.first_record, p.last_record) for p in streamed.parts] == [
        (p.href, p.first_record, p.last_record) for p in from_frame.parts
    ]
    for mine, theirs in zip(streamed.parts, from_frame.parts, strict=True):
        assert mine.path.read_bytes() == theirs.path.read_bytes()
    assert streamed.whole.path.read_bytes() == from_frame.whole.path.read_bytes()


def test_a_dataset_within_the_limit_is_one_file_and_no_split_folder(tmp_path: Path, lab: pd.DataFrame) -> None:
    result = write_split(tmp_path, lab, limit=FDA_FILE_LIMIT, by="USUBJID")
    assert not result.is_split and result.parts == ()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lb.xpt"]
    assert result.whole.size == xpt_size(VARIABLES, len(lab)) == result.whole.path.stat().st_size
    assert FDA_FILE_LIMIT == 5_000_000_000


@pytest.mark.parametrize("chunk_rows", [30, 1000])  # the subject seen growing over chunks, or whole in one
def test_a_subject_with_more_records_than_a_split_file_holds_is_refused(
    tmp_path: Path, lab: pd.DataFrame, chunk_rows: int
) -> None:
    per_file = max_records_per_file(VARIABLES, LIMIT)
    frame = lab.assign(USUBJID=np.where(np.arange(len(lab)) < per_file + 40, "CUP01-001-0001", lab["USUBJID"]))
    with pytest.raises(XptWriteError) as raised:
        write_split(tmp_path, frame, by="USUBJID", chunk_rows=chunk_rows)
    [problem] = raised.value.problems
    assert "record 1:" in problem.message and problem.column == "USUBJID"


def test_a_subject_whose_records_are_not_together_is_refused(tmp_path: Path, lab: pd.DataFrame) -> None:
    first = lab["USUBJID"].iloc[0]
    later = lab.index[lab["USUBJID"].ne(lab["USUBJID"].shift())][5]  # the first record of the 6th subject
    frame = lab.copy()
    frame.loc[later, "USUBJID"] = first
    with pytest.raises(XptWriteError) as raised:
        write_split(tmp_path, frame, by="USUBJID", chunk_rows=25)
    [problem] = raised.value.problems
    assert f"record {later + 1}:" in problem.message
    assert (problem.column, problem.value) == ("USUBJID", first)


def test_a_blank_record_ending_a_split_file_is_refused(tmp_path: Path) -> None:
    """Readers drop trailing blank records as padding, inside a split file as at the end."""
    variables = [XptVariable("X", "X", "Char", 8)]
    per_file = max_records_per_file(variables, 2000)
    frame = pd.DataFrame({"X": ["A"] * (3 * per_file)})
    frame.loc[per_file - 1, "X"] = ""
    with pytest.raises(XptWriteError) as raised:
        write_xpt_within_limit(tmp_path, frame, dataset="X", label="", variables=variables, limit=2000)
    [problem] = raised.value.problems
    assert "split file x1.xpt" in problem.message and f"record {per_file}:" in problem.message


def test_split_file_names_longer_than_v5_allows_are_refused_before_writing(tmp_path: Path, lab: pd.DataFrame) -> None:
    with pytest.raises(XptWriteError) as raised:
        write_xpt_within_limit(tmp_path, lab, dataset="LBHEMATO", label=LABEL, variables=VARIABLES, limit=LIMIT)
    assert "lbhemato" in raised.value.problems[0].message
    assert list(tmp_path.iterdir()) == []


def test_chunks_need_the_record_count_and_it_must_be_right(tmp_path: Path, lab: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="rows"):
        write_split(tmp_path, chunks_of(lab, [100]))
    with pytest.raises(ValueError, match="announced"):
        write_split(tmp_path, chunks_of(lab, [100]), rows=len(lab) + 1)
    with pytest.raises(ValueError, match="not a variable"):
        write_split(tmp_path, lab, by="SUBJID")


def test_record_length_is_the_sum_of_variable_lengths() -> None:
    assert record_length(VARIABLES) == 8 + 2 + 14 + 8 + 8 + 40 + 12 + 8 + 8
