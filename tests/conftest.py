"""Shared fixtures: one conversion of sample_data/ per test session, and the shared/ folder."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cdisc_cup.ct import codelist
from cdisc_cup.define.shapes import is_numeric_date
from cdisc_cup.pipeline import ConversionResult, convert
from cdisc_cup.spec.loader import load_study
from cdisc_cup.spec.model import DatasetSpec, StudySpec, VariableSpec

REPO = Path(__file__).resolve().parents[1]
SAMPLE_DATA = REPO / "sample_data"
SHARED = REPO.parent / "shared"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """../shared beside the repository (CI clones the repo with shared/ next to it)."""
    assert SHARED.is_dir(), f"expected the shared folder at {SHARED}"
    return SHARED


@pytest.fixture(scope="session")
def converted_sample(tmp_path_factory: pytest.TempPathFactory) -> ConversionResult:
    """`cdisc-cup convert sample_data` as the README runs it, done once for all tests."""
    out = tmp_path_factory.mktemp("sample") / "out"
    return convert(SAMPLE_DATA, out)


# Shared by the define.xml and Dataset-JSON tests: the shipped study and synthetic ADaM frames.
CREATED = datetime(2024, 5, 6, 7, 8, 9)
RECORDS = 4


@pytest.fixture(scope="session")
def study() -> StudySpec:
    return load_study()


def _values(variable: VariableSpec) -> pd.Series:
    """RECORDS plausible values for one variable, the last one missing unless required."""
    if is_numeric_date(variable):
        values = pd.Series(pd.to_datetime(["2020-07-01", "2020-07-15", "2020-08-01", "2020-09-30"]))
    elif variable.type == "Num":
        numbers = np.arange(1, RECORDS + 1, dtype=float)
        values = pd.Series(numbers if variable.data_type == "integer" else numbers + 0.25, dtype="Float64")
    elif variable.codelist is not None:
        terms = [t.value for t in codelist(variable.codelist).terms]
        values = pd.Series([terms[i % len(terms)] for i in range(RECORDS)], dtype="string")
    elif variable.data_type in ("date", "partialDate"):
        values = pd.Series(["2020-07-01", "2020-07", "2020-08-03", "2021-01-31"], dtype="string")
    else:
        text = (variable.name * 3)[: min(variable.length or 8, 12)]
        values = pd.Series([text, text[:1], text, text], dtype="string")
    if variable.core != "Req":
        values.iloc[-1] = pd.NA
    return values


def synthetic_frame(spec: DatasetSpec) -> pd.DataFrame:
    return pd.DataFrame({v.name: _values(v) for v in spec.variables})


@pytest.fixture(scope="session")
def adam_frames(study: StudySpec) -> dict[str, pd.DataFrame]:
    assert study.adam, "the ADaM specs (specs/adam/*.yaml) are listed in study.yaml"
    return {spec.name: synthetic_frame(spec) for spec in study.adam}
