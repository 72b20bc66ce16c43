"""The ADaM engine runs a spec's `derivations:` as the verbs' calls, and the verbs it added
(derive_var_case, derive_var_constant, derive_vars_cycle_day) do one job each."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest

from cdisc_cup.adam import derivations as d
from cdisc_cup.adam.engine import AdamInputError, check_steps, derive_adam
from cdisc_cup.errors import SpecErrors
from cdisc_cup.spec.loader import load_study
from cdisc_cup.spec.model import DatasetSpec, StudySpec, VariableSpec
from tests.conftest import REPO

PILOT_SPECS = REPO / "examples" / "cdiscpilot01" / "specs"


def test_case_takes_the_first_case_that_holds_else_the_default() -> None:
    ds = pd.DataFrame({"DSDECOD": ["COMPLETED", "SCREEN FAILURE", "ADVERSE EVENT", None]})
    derived = d.derive_var_case(
        ds,
        new_var="EOSSTT",
        default="ONGOING",
        cases=[
            {"condition": {"DSDECOD": "COMPLETED"}, "value": "COMPLETED"},
            {"condition": {"DSDECOD": "SCREEN FAILURE"}, "value": None},
            {"condition": lambda frame: frame["DSDECOD"].notna(), "value": "DISCONTINUED"},
        ],
    )
    assert derived["EOSSTT"].tolist() == ["COMPLETED", pd.NA, "DISCONTINUED", "ONGOING"]


def test_case_value_may_be_the_records_own_variable() -> None:
    ds = pd.DataFrame({"DSDECOD": ["COMPLETED", "DEATH"]})
    derived = d.derive_var_case(
        ds, new_var="DCSREAS", cases=[{"condition": {"DSDECOD": ["DEATH"]}, "value": {"variable": "DSDECOD"}}]
    )
    assert derived["DCSREAS"].tolist() == [pd.NA, "DEATH"]


def test_case_without_a_condition_is_refused() -> None:
    with pytest.raises(d.DerivationInputError, match=r"cases\[0\] has no condition"):
        d.derive_var_case(pd.DataFrame({"A": [1]}), new_var="B", cases=[{"value": 1}])


def test_constant_and_cycle_day() -> None:
    ex = pd.DataFrame({"VISITNUM": [101.0, 215.0, None]})
    derived = d.derive_var_constant(
        d.derive_vars_cycle_day(ex, divisor=100, new_var="EXCYCLE", new_var_day="EXCYCDAY"),
        new_var="DCUTDTC",
        value="2021-03-01",
    )
    assert derived["EXCYCLE"].tolist() == [1, 2, pd.NA]
    assert derived["EXCYCDAY"].tolist() == [1, 15, pd.NA]
    assert set(derived["DCUTDTC"]) == {"2021-03-01"}


def _study(*steps: dict, parameters: dict | None = None) -> StudySpec:
    """A one-dataset study: ADSL from DM, with the given steps."""
    variables = (
        VariableSpec(
            "USUBJID", "Unique Subject Identifier", "Char", 20, "Predecessor", "Req", {"predecessor": "DM.USUBJID"}
        ),
        VariableSpec(
            "SAFFL",
            "Safety Population Flag",
            "Char",
            1,
            "Derived",
            "Cond",
            {"derivation": "derive_var_merged_exist_flag"},
        ),
        VariableSpec("LSTALVDT", "Date Last Known Alive", "Num", 8, "Derived", "Perm", format="DATE9."),
    )
    spec = DatasetSpec(
        "ADSL", "Subject-Level Analysis Dataset", "ADaMIG 1.3", "SUBJECT LEVEL ANALYSIS DATASET",
        "One record per subject", ("USUBJID",), variables, base="DM", derivations=tuple(steps),
    )  # fmt: skip
    return replace(load_study(PILOT_SPECS), adam=(spec,), parameters=parameters or {})


SDTM = {
    "DM": pd.DataFrame({"USUBJID": ["A", "B", "C"]}),
    "EX": pd.DataFrame(
        {"USUBJID": ["A", "A", "B"], "EXDOSE": [0.0, 54.0, 0.0], "EXSTDTC": ["2014-01", "2014-02-03", ""]}
    ),
    "AE": pd.DataFrame({"USUBJID": ["B"], "AESTDTC": ["2014-03-04"]}),
}
STEPS = (
    {"derivation": "derive_vars_predecessor"},
    {
        "derivation": "derive_var_merged_exist_flag",
        "dataset_add": "EX",
        "by_vars": ["USUBJID"],
        "new_var": "SAFFL",
        "condition": {"variable": "EXDOSE", "greater_than": {"parameter": "minimum_dose"}},
        "false_value": "N",
        "missing_value": "N",
    },
    {
        "derivation": "derive_vars_extreme_event",
        "by_vars": ["USUBJID"],
        "new_vars": ["LSTALVDT"],
        "order": [{"desc": "LSTALVDT"}],
        "mode": "first",
        "events": [
            {"dataset": "EX", "set_values_to": {"LSTALVDT": {"dtc": "EXSTDTC", "date_imputation": "last"}}},
            {"dataset": "AE", "set_values_to": {"LSTALVDT": {"dtc": "AESTDTC"}}},
        ],
    },
)


def test_steps_run_with_parameters_conditions_order_and_events() -> None:
    adsl = derive_adam(_study(*STEPS, parameters={"minimum_dose": 0}), SDTM)["ADSL"]
    assert adsl["USUBJID"].tolist() == ["A", "B", "C"]
    assert adsl["SAFFL"].tolist() == ["Y", "N", "N"]  # B has EX records, none a dose; C none
    # A: the latest of 2014-01 (imputed to its last day) and 2014-02-03; B: its AE (EX undated)
    assert adsl["LSTALVDT"].tolist() == [pd.Timestamp("2014-02-03"), pd.Timestamp("2014-03-04"), pd.NaT]


def test_a_dataset_a_step_reads_that_is_not_there_is_named() -> None:
    sdtm = {name: frame for name, frame in SDTM.items() if name != "EX"}
    with pytest.raises(AdamInputError) as raised:
        derive_adam(_study(*STEPS, parameters={"minimum_dose": 0}), sdtm)
    assert raised.value.problems[0].file == "ex.xpt"
    assert "dataset EX is needed to derive ADSL" in raised.value.problems[0].message


def test_a_parameter_the_study_does_not_have_is_a_spec_error() -> None:
    with pytest.raises(SpecErrors) as raised:
        derive_adam(_study(*STEPS), SDTM)
    problem = raised.value.problems[0]
    assert (problem.column, problem.value) == ("derivations[1].condition", "minimum_dose")


def test_unknown_verbs_and_options_are_spec_errors() -> None:
    study = _study({"derivation": "derive_vars_mergd"}, {"derivation": "derive_var_flag", "conditon": {}})
    with pytest.raises(SpecErrors) as raised:
        check_steps(study)
    found = {(p.column, p.message) for p in raised.value.problems}
    assert ("derivations[0].derivation", "unknown derivation") in found
    assert ("derivations[1].conditon", "derive_var_flag has no option conditon") in found


@pytest.mark.parametrize(
    ("imputation", "highest", "dates", "flags"),
    [
        ("first", "M", ["2020-03-04", "2020-03-01", "2020-01-01", None], [None, "D", "M", None]),
        ("mid", "M", ["2020-03-04", "2020-03-15", "2020-06-30", None], [None, "D", "M", None]),
        ("last", "M", ["2020-03-04", "2020-03-31", "2020-12-31", None], [None, "D", "M", None]),
        ("mid", "D", ["2020-03-04", "2020-03-15", None, None], [None, "D", None, None]),
    ],
)
def test_date_imputation_levels_as_admiral(imputation: str, highest: str, dates: list, flags: list) -> None:
    """admiral derive_vars_dt: date_imputation first/mid/last, highest_imputation M or D."""
    frame = pd.DataFrame({"DTHDTC": ["2020-03-04", "2020-03", "2020", ""]})
    derived = d.derive_vars_dt(
        frame,
        dtc="DTHDTC",
        new_var="DTHDT",
        flag_var="DTHDTF",
        date_imputation=imputation,  # type: ignore[arg-type]
        highest_imputation=highest,  # type: ignore[arg-type]
    )
    assert derived["DTHDT"].tolist() == [pd.Timestamp(x) if x else pd.NaT for x in dates]
    assert [None if pd.isna(f) else f for f in derived["DTHDTF"]] == flags
