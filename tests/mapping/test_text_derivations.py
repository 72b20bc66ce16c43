"""The record-level derivations that map collected text (the CDISC pilot's raw data)."""

from __future__ import annotations

import pandas as pd

from cdisc_cup.mapping.catalogue import CATALOGUE, DerivationInput


def _derive(name: str, rows: dict[str, list[object]], **parameters: object) -> list[object]:
    frame = pd.DataFrame(rows).astype("string")
    data = DerivationInput(study=None, spec=None, raw={}, built={}, frame=pd.DataFrame(index=frame.index), rows=frame)
    values = CATALOGUE[name].function(data, **parameters)
    return [None if pd.isna(v) else v for v in values]


def test_uppercase_template_and_extract() -> None:
    rows = {"PATNUM": ["701-1015", None], "VISIT": ["Unscheduled 4.1", "Week 2"]}
    assert _derive("uppercase", rows, column="VISIT") == ["UNSCHEDULED 4.1", "WEEK 2"]
    assert _derive("template", rows, template="01-{PATNUM}") == ["01-701-1015", None]
    assert _derive("extract", rows, column="PATNUM", pattern="([0-9]+)-[0-9]+") == ["701", None]
    assert _derive("extract", rows, column="VISIT", pattern="Unscheduled ([0-9.]+)") == ["4.1", None]


def test_date_time_keeps_the_date_where_no_time_was_collected() -> None:
    rows = {"DATE": ["2014-07-02", "2014-07-03", None], "TIME": ["11:45", None, "10:00"]}
    assert _derive("date_time", rows, date="DATE", time="TIME") == ["2014-07-02T11:45", "2014-07-03", None]


def test_scaled_converts_units_and_rounds() -> None:
    rows = {"TEMP": ["96.9", None], "HEIGHT": ["58.0", "70"]}
    assert _derive("scaled", rows, column="TEMP", factor=5 / 9, offset=-32 * 5 / 9, decimals=2) == [36.06, None]
    assert _derive("scaled", rows, column="HEIGHT", factor=2.54, decimals=2) == [147.32, 177.8]
