"""Fixtures for the define.xml and Dataset-JSON tests: the shipped specs and small ADaM frames.

ADaM frames are made from the ADaM specs (one value per variable type and codelist), so the
ADaM define is tested whether or not `convert` derives ADaM yet; the SDTM side uses the real
sample conversion (`converted_sample`).
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import pytest

from cdisc_cup.ct import codelist
from cdisc_cup.define.shapes import is_numeric_date
from cdisc_cup.spec.loader import load_study
from cdisc_cup.spec.model import DatasetSpec, StudySpec, VariableSpec

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
