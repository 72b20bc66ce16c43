"""Large folders are read by worker processes in runs of records; the result is the same."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cdisc_cup.errors import InputErrors
from cdisc_cup.xpt import read as datasets
from cdisc_cup.xpt.model import SpecialMissing, XptVariable
from cdisc_cup.xpt.read import read_xpt_dataset, read_xpt_files
from cdisc_cup.xpt.write import write_xpt

VARIABLES = (
    XptVariable("STUDYID", "Study Identifier", "Char", 6),
    XptVariable("USUBJID", "Unique Subject Identifier", "Char", 12),
    XptVariable("LBSEQ", "Sequence Number", "Num", 8),
    XptVariable("LBORRES", "Result or Finding in Original Units", "Char", 3),
    XptVariable("LBSTRESN", "Numeric Result/Finding in Standard Units", "Num", 8),
)


def lab_frame(records: int) -> pd.DataFrame:
    generator = np.random.default_rng(7)
    values = generator.normal(5, 2, records).round(2)
    numbers = pd.Series(values, dtype=object)
    numbers[::97] = SpecialMissing("N")
    return pd.DataFrame(
        {
            "STUDYID": "CUP-01",
            "USUBJID": [f"CUP-01-{i // 10:05d}" for i in range(records)],
            "LBSEQ": np.arange(records) % 10 + 1.0,
            "LBORRES": np.where(generator.random(records) < 0.2, "", values.astype(int).astype(str)),
            "LBSTRESN": numbers,
        }
    )


@pytest.fixture
def in_pieces(monkeypatch: pytest.MonkeyPatch) -> None:
    """Force the parallel path on small files: every folder, runs of 77 records."""
    monkeypatch.setattr(datasets, "PARALLEL_READ_BYTES", 0)
    monkeypatch.setattr(datasets, "RECORDS_PER_PIECE", 77)


def test_pieces_read_in_parallel_equal_one_read(tmp_path: Path, in_pieces: None) -> None:
    paths = []
    for name, records in (("LB", 1000), ("VS", 77), ("EG", 1)):
        path = tmp_path / f"{name.lower()}.xpt"
        write_xpt(path, lab_frame(records), dataset=name, label=name, variables=VARIABLES, created=datetime(2020, 1, 1))
        paths.append(path)

    read = read_xpt_files(paths)

    for path in paths:
        whole = read_xpt_dataset(path)
        loaded = read[path]
        assert not isinstance(loaded, InputErrors)
        assert (loaded.name, loaded.label, loaded.variables) == (whole.name, whole.label, whole.variables)
        pd.testing.assert_frame_equal(loaded.frame, whole.frame, check_exact=True)
    assert len(read[paths[0]].frame) == 1000


def test_an_unreadable_file_is_a_located_problem_not_a_crash(tmp_path: Path, in_pieces: None) -> None:
    good = tmp_path / "lb.xpt"
    write_xpt(good, lab_frame(200), dataset="LB", label="LB", variables=VARIABLES, created=datetime(2020, 1, 1))
    broken = tmp_path / "xx.xpt"
    broken.write_bytes(b"not a transport file" * 10)

    read = read_xpt_files([good, broken])

    assert len(read[good].frame) == 200
    assert isinstance(read[broken], InputErrors)
    assert "xx.xpt" in read[broken].problems[0].file
