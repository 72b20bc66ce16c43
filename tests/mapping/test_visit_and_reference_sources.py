"""Value sources for visits named by the site and reference dates of another form: a map
with `otherwise`, and reference_start/reference_end with `where` and `time`."""

from __future__ import annotations

import shutil
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from cdisc_cup.errors import InputErrors, SpecErrors
from cdisc_cup.mapping.catalogue import CATALOGUE, DerivationInput
from cdisc_cup.mapping.engine import build_dataset, check_sources
from cdisc_cup.provenance import LINE, RawTable
from cdisc_cup.spec.loader import load_study
from cdisc_cup.spec.model import DatasetSpec, RawColumnSpec, RawFileSpec, RecordBlock, VariableSpec

VISITNUM = {
    "map": {"Baseline": "3", "Week 2": "4"},
    "column": "INSTANCE",
    "otherwise": {"derivation": "extract", "column": "INSTANCE", "pattern": "Unscheduled ([0-9.]+)"},
}


def _table(name: str, frame: pd.DataFrame) -> RawTable:
    frame = frame.astype("string").assign(**{LINE: range(2, len(frame) + 2)})
    spec = RawFileSpec(name=name, file=f"{name}.csv", key=(), columns=tuple(RawColumnSpec(c, "text") for c in frame))
    return RawTable(spec=spec, path=Path(f"{name}.csv"), frame=frame)


def _visits(instances: list[str]) -> list[object]:
    raw = {"visits": _table("visits", pd.DataFrame({"INSTANCE": instances}))}
    variable = VariableSpec("VISITNUM", "Visit Number", "Num", 8, "Derived", "Exp", value=VISITNUM)
    spec = DatasetSpec("XX", "Test", "SDTMIG 3.4", "FINDINGS", "", ("VISITNUM",), (variable,), (RecordBlock("visits"),))
    frame = build_dataset(spec, SimpleNamespace(subject_key="PATNUM"), raw, {})
    return sorted(frame["VISITNUM"].tolist())


def test_a_map_takes_unlisted_codes_from_otherwise() -> None:
    assert _visits(["Week 2", "Unscheduled 4.1", "Baseline"]) == [3, 4, 4.1]


def test_a_code_neither_the_map_nor_otherwise_gives_a_value_is_an_input_error() -> None:
    with pytest.raises(InputErrors) as raised:
        _visits(["Baseline", "Week 3"])
    problem = raised.value.problems[0]
    assert (problem.line, problem.column, problem.value) == (3, "INSTANCE", "Week 3")


def test_reference_end_of_selected_records_with_their_time() -> None:
    disposition = pd.DataFrame(
        {
            "PATNUM": ["1", "1", "1", "2"],
            "DECOD": ["Randomized", "Completed", None, "Death"],
            "DATE": ["2014-01-02", "2014-07-02", "2014-07-09", "2013-08-02"],
            "TIME": [None, "11:45", None, "08:00"],
        }
    )
    raw = {"disposition": _table("disposition", disposition)}
    rows = pd.DataFrame({"PATNUM": ["1", "2"]}, dtype="string")
    data = DerivationInput(SimpleNamespace(subject_key="PATNUM"), None, raw, {}, pd.DataFrame(index=rows.index), rows)
    event = {"all": [{"column": "DECOD", "present": True}, {"column": "DECOD", "not_equals": "Randomized"}]}
    reference_end = CATALOGUE["reference_end"].function
    reference_start = CATALOGUE["reference_start"].function
    assert reference_end(data, date="DATE", where=event, **{"from": "disposition"}).tolist() == [
        "2014-07-02",
        "2013-08-02",
    ]
    with_time = reference_end(data, date="DATE", time="TIME", where=event, **{"from": "disposition"})
    assert with_time.tolist() == ["2014-07-02T11:45", "2013-08-02T08:00"]
    assert reference_end(data, date="DATE", **{"from": "disposition"}).tolist() == ["2014-07-09", "2013-08-02"]
    assert reference_start(data, date="DATE", where=event, **{"from": "disposition"}).tolist() == [
        "2014-07-02",
        "2013-08-02",
    ]


def test_a_codelist_the_study_ct_lacks_is_a_spec_error_before_building(tmp_path: Path) -> None:
    specs = tmp_path / "specs"
    shutil.copytree(Path(__file__).resolve().parents[2] / "examples" / "cdiscpilot01" / "specs", specs)
    ts = specs / "sdtm" / "ts.yaml"
    unknown = '      - {TSPARMCD: AGESPAN, TSVAL: {constant: "ADULT (18-65)", codelist: AGESPAN}}\n'
    ts.write_text(ts.read_text().replace("      - {TSPARMCD: RANDOM,", unknown + "      - {TSPARMCD: RANDOM,"))
    with pytest.raises(SpecErrors) as raised:
        check_sources(load_study(specs))
    assert [(p.value, p.column.endswith(".TSVAL.codelist")) for p in raised.value.problems] == [("AGESPAN", True)]


def _numbered(rows: pd.DataFrame, ties: str) -> pd.DataFrame:
    """AE-like records numbered by date: XXSEQ with `ties`, the records as built (no trace)."""
    raw = {"events": _table("events", rows)}
    column = {name: {"column": name} for name in ("PATNUM", "TERM", "DATE", "SEV")}
    variables = (
        VariableSpec("USUBJID", "Subject", "Char", 8, "Collected", "Req", value=column["PATNUM"]),
        VariableSpec("XXSEQ", "Sequence", "Num", 8, "Derived", "Req",
                     value={"derivation": "seq", "order": ["DATE"], "ties": ties}),
        *(VariableSpec(n, n, "Char", 20, "Collected", "Perm", value=column[n]) for n in ("TERM", "DATE", "SEV")),
    )  # fmt: skip
    spec = DatasetSpec(
        "XX", "Test", "SDTMIG 3.4", "EVENTS", "", ("USUBJID", "XXSEQ"), variables, (RecordBlock("events"),)
    )
    return build_dataset(spec, SimpleNamespace(subject_key="PATNUM"), raw, {})[[v.name for v in variables]]


def test_seq_ties_by_values_number_the_same_records_alike_in_any_row_order() -> None:
    """Two events of a day: `ties: values` numbers them by their other values, so a shuffled
    export gives each record the same --SEQ; `ties: rows` (the default) keeps the row order."""
    rows = pd.DataFrame(
        {
            "PATNUM": ["1", "1", "1", "2"],
            "TERM": ["RASH", "HEADACHE", "HEADACHE", "COUGH"],
            "DATE": ["2014-01-02", "2014-01-02", "2014-01-02", "2014-01-05"],
            "SEV": ["MILD", "SEVERE", "MILD", "MILD"],
        }
    )
    reversed_rows = rows.iloc[::-1].reset_index(drop=True)
    by_values = _numbered(rows, "values")
    assert by_values[["TERM", "SEV", "XXSEQ"]].values.tolist()[:3] == [
        ["HEADACHE", "MILD", 1], ["HEADACHE", "SEVERE", 2], ["RASH", "MILD", 3]
    ]  # fmt: skip
    pd.testing.assert_frame_equal(_numbered(reversed_rows, "values"), by_values)
    by_rows = _numbered(rows, "rows")
    assert by_rows["TERM"].tolist()[:3] == ["RASH", "HEADACHE", "HEADACHE"]
    assert _numbered(reversed_rows, "rows")["TERM"].tolist()[:3] == ["HEADACHE", "HEADACHE", "RASH"]


def test_seq_ties_other_than_rows_or_values_is_a_spec_error() -> None:
    rows = pd.DataFrame({"PATNUM": ["1"], "TERM": ["RASH"], "DATE": ["2014-01-02"], "SEV": ["MILD"]})
    with pytest.raises(SpecErrors) as raised:
        _numbered(rows, "value")
    assert raised.value.problems[0].expected == "rows or values" and raised.value.problems[0].value == "value"


def test_last_contact_counts_a_date_with_its_time_and_every_form() -> None:
    """RFPENDTC: the latest date of the patient on the forms named; a disposition date with its
    time beats the same day without one, and a later AE collection date beats both."""
    disposition = pd.DataFrame(
        {"PATNUM": ["1", "2"], "DSDTCOL": ["2014-07-02", "2013-08-02"], "DSTMCOL": ["11:45", None]}
    )
    events = pd.DataFrame({"PATNUM": ["1", "2", "2"], "AEDTCOL": ["2014-07-02", "2013-09-01", "2013"]})
    raw = {"disposition": _table("disposition", disposition), "adverse_events": _table("adverse_events", events)}
    rows = pd.DataFrame({"PATNUM": ["1", "2", "3"]}, dtype="string")
    data = DerivationInput(SimpleNamespace(subject_key="PATNUM"), None, raw, {}, pd.DataFrame(index=rows.index), rows)
    last_contact = CATALOGUE["last_contact"].function
    dates = ["disposition.DSDTCOL", "adverse_events.AEDTCOL"]
    found = last_contact(data, dates=dates, times={"disposition.DSDTCOL": "DSTMCOL"})
    assert found.tolist() == ["2014-07-02T11:45", "2013-09-01", pd.NA]
    assert last_contact(data, dates=dates).tolist() == ["2014-07-02", "2013-09-01", pd.NA]


def test_earliest_and_latest_date_count_a_datetime_by_its_date() -> None:
    """SV's span of a visit and TS's study end: a collection datetime is a complete date (its
    time left out of a date variable), a partial date does not count, other visits are not read."""
    ds = pd.DataFrame(
        {
            "USUBJID": ["1", "1", "1", "2"],
            "VISITNUM": [5.0, 5.0, 6.0, 5.0],
            "DSDTC": ["2013-11-01T10:45", "2013-11", "2013-12-01", "2014-01-02T08:00"],
        }
    )
    vs = pd.DataFrame({"USUBJID": ["1", "2"], "VISITNUM": [5.0, 5.0], "VSDTC": ["2013-11-09", "2013-12-30"]})
    visits = pd.DataFrame({"USUBJID": ["1", "2", "3"], "VISITNUM": [5.0, 5.0, 5.0]})
    spec = SimpleNamespace(name="SV", path=Path("sv.yaml"))
    data = DerivationInput(None, spec, {}, {"DS": ds, "VS": vs}, visits)
    dates, by = ["DS.DSDTC", "VS.VSDTC"], ["USUBJID", "VISITNUM"]
    earliest, latest = CATALOGUE["earliest_date"].function, CATALOGUE["latest_date"].function
    assert earliest(data, dates=dates, by=by).tolist() == ["2013-11-01", "2013-12-30", pd.NA]
    assert latest(data, dates=dates, by=by).tolist() == ["2013-11-09", "2014-01-02", pd.NA]
    assert latest(data, dates=["DS.DSDTC"]).tolist() == ["2014-01-02"] * 3
