"""CORE operations: the values CORE's results.csv shows for them, and edge cases by hand."""

from __future__ import annotations

import ast
from typing import Any

import pandas as pd
import pytest

from cdisc_cup.rules.core import library
from cdisc_cup.rules.core.frames import RuleFrame, records
from cdisc_cup.rules.core.identity import identify
from cdisc_cup.rules.core.model import NotRunnableError
from cdisc_cup.rules.core.operations import DomainNotFoundError, run_operation
from cdisc_cup.rules.model import Study
from cdisc_cup.xpt.model import Dataset, XptVariable
from tests.rules.core.casedata import case_dir, expected, load_case


def _dataset(name: str, frame: pd.DataFrame) -> Dataset:
    variables = tuple(
        XptVariable(c, c, "Num" if pd.api.types.is_numeric_dtype(frame[c]) else "Char", 8) for c in frame.columns
    )
    return Dataset(name, name, frame, variables)


def _study(*datasets: Dataset, version: str = "3.4") -> Study:
    return Study(
        datasets={d.name: d for d in datasets},
        standards={d.name: "sdtm" for d in datasets},
        ig_versions={"sdtm": version},
    )


def _run(study: Study, name: str, *entries: dict[str, Any]) -> pd.DataFrame:
    dataset = study.datasets[name]
    rule_frame = RuleFrame(dataset, records(dataset), identify(dataset).wildcard)
    frame = rule_frame.frame.copy()
    for entry in entries:
        frame = run_operation(entry, frame, rule_frame, study)
    return frame


def _reported(case: Any, dataset: str, variable: str) -> list[str]:
    results = expected(case)
    return results.loc[(results["Dataset"] == dataset) & (results["Variable"] == variable), "Value"].tolist()


def test_grouped_max_date_is_the_subjects_latest_ex_date() -> None:
    case = case_dir("CORE-000238", "negative", "02")
    frame = _run(
        load_case(case),
        "DM",
        {"id": "$max_ex_exstdtc", "operator": "max_date", "domain": "EX", "name": "EXSTDTC", "group": ["USUBJID"]},
        {"id": "$max_ex_exendtc", "operator": "max_date", "domain": "EX", "name": "EXENDTC", "group": ["USUBJID"]},
    )
    assert frame["$max_ex_exstdtc"].tolist() == _reported(case, "DM", "$max_ex_exstdtc")
    assert frame["$max_ex_exendtc"].tolist() == _reported(case, "DM", "$max_ex_exendtc")


def test_grouped_min_and_max_date_compare_partial_dates_as_text() -> None:
    ex = pd.DataFrame(
        {
            "DOMAIN": ["EX"] * 5,
            "USUBJID": ["1", "1", "1", "2", None],
            "EXSTDTC": ["2013-01-05", "2013-01", None, None, "2012-01-01"],
        }
    )
    dm = pd.DataFrame({"DOMAIN": ["DM"] * 3, "USUBJID": ["1", "2", "3"]})
    study = _study(_dataset("EX", ex), _dataset("DM", dm))
    frame = _run(
        study,
        "DM",
        {"id": "$min", "operator": "min_date", "domain": "EX", "name": "EXSTDTC", "group": ["USUBJID"]},
        {"id": "$max", "operator": "max_date", "domain": "EX", "name": "EXSTDTC", "group": ["USUBJID"]},
    )
    assert frame["$min"].tolist() == ["2013-01", None, None]
    assert frame["$max"].tolist() == ["2013-01-05", None, None]


def test_ungrouped_min_date_is_an_iso_date_time() -> None:
    ex = pd.DataFrame({"DOMAIN": ["EX", "EX"], "EXSTDTC": ["2013-01-05", "2012-12-31T10:30"]})
    frame = _run(_study(_dataset("EX", ex)), "EX", {"id": "$first", "operator": "min_date", "name": "EXSTDTC"})
    assert frame["$first"].tolist() == ["2012-12-31T10:30:00"] * 2


def test_distinct_per_group_leaves_blanks_and_repeats_out() -> None:
    ds = pd.DataFrame(
        {
            "DOMAIN": ["DS"] * 5,
            "USUBJID": ["1", "1", "1", "2", None],
            "DSDECOD": ["DEATH", None, "DEATH", "COMPLETED", "DEATH"],
        }
    )
    dm = pd.DataFrame({"DOMAIN": ["DM"] * 4, "USUBJID": ["1", "2", "3", None]})
    study = _study(_dataset("DS", ds), _dataset("DM", dm))
    frame = _run(
        study, "DM", {"id": "$d", "operator": "distinct", "domain": "DS", "name": "DSDECOD", "group": ["USUBJID"]}
    )
    assert frame["$d"].tolist() == [["DEATH"], ["COMPLETED"], None, None]
    whole = _run(study, "DM", {"id": "$all", "operator": "distinct", "domain": "DS", "name": "DSDECOD"})
    assert whole["$all"].iloc[0] == ["DEATH", "COMPLETED"]


def test_distinct_of_referenced_variables_keeps_those_the_rdomain_dataset_has() -> None:
    case = case_dir("CORE-000712", "negative")
    frame = _run(
        load_case(case),
        "SUPPLB",
        {
            "id": "$rdomain_variables",
            "operator": "distinct",
            "domain": "SUPP--",
            "name": "IDVAR",
            "value_is_reference": True,
        },
    )
    # results.csv: IDVAR LBSEK is reported as not among the LB variables the SUPPLB records name.
    assert "LBSEK" in _reported(case, "SUPPLB", "IDVAR")
    assert "LBSEK" not in frame["$rdomain_variables"].iloc[0]


def test_record_count_with_filter_and_group_counts_per_group_zero_when_none_match() -> None:
    ds = pd.DataFrame(
        {
            "DOMAIN": ["DS"] * 4,
            "USUBJID": ["1", "1", "2", "2"],
            "EPOCH": ["TREATMENT", "TREATMENT", "TREATMENT", None],
            "DSCAT": ["DISPOSITION EVENT", "DISPOSITION EVENT", "PROTOCOL MILESTONE", "DISPOSITION EVENT"],
        }
    )
    entry = {
        "id": "$n",
        "operator": "record_count",
        "domain": "DS",
        "name": "DSCAT",
        "filter": {"DSCAT": "DISPOSITION EVENT"},
        "group": ["USUBJID", "EPOCH"],
    }
    frame = _run(_study(_dataset("DS", ds)), "DS", entry)
    # A blank EPOCH is a group of its own (CORE groups with dropna=False).
    assert frame["$n"].tolist() == [2, 2, 0, 1]


def test_record_count_with_regex_groups_date_times_by_their_date() -> None:
    lb = pd.DataFrame(
        {
            "DOMAIN": ["LB"] * 3,
            "USUBJID": ["1", "1", "1"],
            "LBTESTCD": ["ALB", "ALB", "ALB"],
            "LBDTC": ["2022-01-14T08:00", "2022-01-14T09:00", "2022-01-15"],
        }
    )
    entry = {
        "id": "$n",
        "operator": "record_count",
        "group": ["USUBJID", "--TESTCD", "LBDTC"],
        "regex": r"^\d{4}-\d{2}-\d{2}",
    }
    frame = _run(_study(_dataset("LB", lb)), "LB", entry)
    assert frame["$n"].tolist() == [2, 2, 1]


def test_dy_has_no_day_zero_and_is_blank_for_partial_dates() -> None:
    dm = pd.DataFrame({"DOMAIN": ["DM"], "USUBJID": ["1"], "RFSTDTC": ["2012-11-30"]})
    ae = pd.DataFrame(
        {
            "DOMAIN": ["AE"] * 5,
            "USUBJID": ["1", "1", "1", "1", "2"],
            "AESTDTC": ["2012-11-30", "2012-11-29", "2012-12-01T10:00", "2012-12", "2012-12-01"],
        }
    )
    frame = _run(
        _study(_dataset("DM", dm), _dataset("AE", ae)), "AE", {"id": "$dy", "operator": "dy", "name": "--STDTC"}
    )
    assert frame["$dy"].tolist() == [1, -1, 2, "", ""]


def test_dy_without_dm_is_reported_as_a_missing_domain() -> None:
    ae = pd.DataFrame({"DOMAIN": ["AE"], "USUBJID": ["1"], "AESTDTC": ["2012-11-30"]})
    with pytest.raises(DomainNotFoundError, match="DM"):
        _run(_study(_dataset("AE", ae)), "AE", {"id": "$dy", "operator": "dy", "name": "--STDTC"})


def test_expected_variables_follow_the_ig_version_of_the_case() -> None:
    case = case_dir("CORE-000334", "negative")
    study = load_case(case)
    for name in ("AE", "EX", "LB"):
        frame = _run(study, name, {"id": "$expected_variables", "operator": "expected_variables"})
        assert [str(frame["$expected_variables"].iloc[0])] == _reported(case, name, "$expected_variables")


def test_column_order_from_library_is_the_model_order_with_the_ig_laid_over() -> None:
    case = case_dir("CORE-000852", "negative")
    study = load_case(case)
    for name in ("CE", "CM", "FA"):
        frame = _run(study, name, {"id": "$column_order_from_library", "operator": "get_column_order_from_library"})
        assert [str(frame["$column_order_from_library"].iloc[0])] == _reported(case, name, "$column_order_from_library")


def test_model_timing_variables_of_an_events_domain() -> None:
    ae = pd.DataFrame({"DOMAIN": ["AE"], "AETERM": ["HEADACHE"]})
    frame = _run(
        _study(_dataset("AE", ae)),
        "AE",
        {"id": "$t", "operator": "get_model_filtered_variables", "key_name": "role", "key_value": "Timing"},
    )
    timing = frame["$t"].iloc[0]
    assert timing[:5] == ["VISITNUM", "VISIT", "VISITDY", "TAETORD", "EPOCH"]
    assert "AESTDTC" in timing and "AETERM" not in timing


def test_custom_domain_takes_its_class_from_its_topic_variable() -> None:
    case = case_dir("CORE-000376", "negative")
    frame = _run(
        load_case(case),
        "ZB",
        {"id": "$custom", "operator": "domain_is_custom"},
        {"id": "$d", "operator": "distinct", "name": "DOMAIN"},
    )
    assert frame["$custom"].iloc[0] is True
    assert [str(frame["$d"].iloc[0])] == _reported(case, "ZB", "$domain_list")
    assert library.library_domain("ZB", "FINDINGS").class_name == "FINDINGS"


def test_study_domains_name_datasets_without_domain_as_none() -> None:
    case = case_dir("CORE-000502", "negative")
    frame = _run(load_case(case), "CO", {"id": "$study_domains", "operator": "study_domains"})
    assert set(frame["$study_domains"].iloc[0]) == set(ast.literal_eval(_reported(case, "CO", "$study_domains")[0]))


def test_variable_count_counts_domains_with_the_variable() -> None:
    case = case_dir("CORE-000358", "negative")
    study = load_case(case)
    name = expected(case)["Dataset"].iloc[0]
    frame = _run(study, name, {"id": "$VARIABLE_COUNT", "operator": "variable_count", "name": "--LNKGRP"})
    linked = sum(f"{identify(d).wildcard}LNKGRP" in d.frame.columns for d in study.datasets.values())
    assert frame["$VARIABLE_COUNT"].iloc[0] == linked == 1


def test_blank_text_counts_as_missing_as_in_core() -> None:
    """The package keeps a blank Char value as "" (as SAS); CORE reads it as null."""
    ex = pd.DataFrame(
        {
            "DOMAIN": ["EX"] * 4,
            "USUBJID": ["1", "1", "1", ""],
            "EXSTDTC": ["", "2013-01-05", "2013-01-07", "2012-01-01"],
        }
    )
    dm = pd.DataFrame({"DOMAIN": ["DM"] * 2, "USUBJID": ["1", ""]})
    study = _study(_dataset("EX", ex), _dataset("DM", dm))
    frame = _run(
        study,
        "DM",
        {"id": "$first", "operator": "min_date", "domain": "EX", "name": "EXSTDTC", "group": ["USUBJID"]},
        {"id": "$dates", "operator": "distinct", "domain": "EX", "name": "EXSTDTC", "group": ["USUBJID"]},
        {"id": "$all", "operator": "distinct", "domain": "EX", "name": "EXSTDTC"},
    )
    assert frame["$first"].tolist() == ["2013-01-05", None]
    assert frame["$dates"].tolist() == [["2013-01-05", "2013-01-07"], None]
    assert frame["$all"].iloc[0] == ["2013-01-05", "2013-01-07", "2012-01-01"]


def test_library_operations_need_the_ig_version_shipped() -> None:
    ae = pd.DataFrame({"DOMAIN": ["AE"], "AETERM": ["HEADACHE"]})
    with pytest.raises(NotRunnableError, match=r"IG version 3\.1"):
        _run(_study(_dataset("AE", ae), version="3.1"), "AE", {"id": "$r", "operator": "required_variables"})
