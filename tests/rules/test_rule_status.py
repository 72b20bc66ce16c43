"""Every rule accounted for: ran (with its count), not applicable (with the reason) or failed.

A variable a dataset does not have is read as null (as SAS and CDISC CORE read it), so a rule
over several variables still runs when some of them are absent (issue #13, point 5).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from cdisc_cup.findings import rule_statuses
from cdisc_cup.rules.engine import RuleResults
from cdisc_cup.rules.loader import shipped_rules
from tests.rules.casekit import base_document, build, run


def status_of(results: RuleResults, rule_id: str, dataset: str) -> dict:
    runs = results.rule_runs
    [row] = runs[(runs["rule_id"] == rule_id) & (runs["dataset"] == dataset)].to_dict("records")
    return row


def findings_of(results: RuleResults, rule_id: str) -> list[dict]:
    own = results.findings[results.findings["rule_id"] == rule_id]
    return own[["dataset", "variable", "row", "message"]].to_dict("records")


def test_serious_ae_rule_runs_when_some_criteria_are_absent(tmp_path: Path) -> None:
    """SD5028 never ran on an AE without AESLIFE: the absent criterion is simply not Y."""
    results = run(build({"drop": ["AE.AESLIFE", "AE.AESHOSP"], "set": []}, tmp_path))
    assert status_of(results, "SD5028", "AE")["status"] == "ran"
    assert findings_of(results, "SD5028") == []
    failing = run(
        build(
            {
                "drop": ["AE.AESLIFE"],
                "set": [
                    {"dataset": "AE", "row": 2, "variable": "AESHOSP", "value": "N"},
                    {"dataset": "AE", "row": 2, "variable": "AESDTH", "value": "N"},
                ],
            },
            tmp_path / "f",
        )
    )
    assert [(f["dataset"], f["row"]) for f in findings_of(failing, "SD5028")] == [("AE", 2)]


def test_a_rule_whose_checked_variables_are_all_absent_reports_once_for_the_dataset(tmp_path: Path) -> None:
    """SD5022: a death date needs DTHFL = Y; a DM without DTHFL fails for one reason, said once."""
    results = run(build({"drop": ["DM.DTHFL"]}, tmp_path))
    [finding] = findings_of(results, "SD5022")
    assert finding["row"] is None and finding["dataset"] == "DM"
    assert finding["message"] == "DM has no DTHFL, so none of the 1 records in scope meets the rule"


def test_serious_ae_rule_is_not_applicable_to_an_ae_without_any_criterion(tmp_path: Path) -> None:
    """The seriousness criteria are Permissible: a CRF that did not collect them (a format-v1
    export, its define.xml says so) leaves SD5028 and SD5054 with nothing to check."""
    criteria = ["AESDTH", "AESLIFE", "AESHOSP", "AESDISAB", "AESCONG", "AESMIE"]  # the base has no AESCAN, AESOD
    results = run(build({"drop": [f"AE.{name}" for name in criteria]}, tmp_path))
    reason = "AE has none of AESDTH, AESLIFE, AESHOSP, AESDISAB, AESCONG, AESMIE, AESCAN, AESOD"
    for rule_id in ("SD5028", "SD5054"):
        assert status_of(results, rule_id, "AE") == {
            "rule_id": rule_id,
            "dataset": "AE",
            "status": "not applicable",
            "findings": 0,
            "reason": reason,
        }


def test_arm_reason_rule_runs_on_dm_without_armnrs(tmp_path: Path) -> None:
    """SD5032: a null ARMCD needs ARMNRS; a DM without ARMNRS has none to give."""
    scenario = {
        "drop": ["DM.ARMNRS"],
        "set": [
            {"dataset": "DM", "row": 2, "variable": "ARMCD", "value": ""},
            {"dataset": "DM", "row": 2, "variable": "ARM", "value": ""},
        ],
    }
    results = run(build(scenario, tmp_path))
    assert status_of(results, "SD5032", "DM") == {
        "rule_id": "SD5032",
        "dataset": "DM",
        "status": "ran",
        "findings": 1,
        "reason": "",
    }


def test_a_rule_whose_scope_cannot_be_told_is_not_applicable_with_the_reason(tmp_path: Path) -> None:
    results = run(build({"drop": ["AE.AESER"]}, tmp_path))
    assert status_of(results, "SD5028", "AE") == {
        "rule_id": "SD5028",
        "dataset": "AE",
        "status": "not applicable",
        "findings": 0,
        "reason": "AE has no AESER",
    }


def test_a_rule_without_any_dataset_to_check_is_listed_as_not_applicable(tmp_path: Path) -> None:
    results = run(build({"drop": ["TA"]}, tmp_path))
    summary = rule_statuses(results.rule_runs).set_index("rule_id")
    assert summary.loc["SD5030", "status"] == "not applicable"
    assert summary.loc["SD5030", "reason"] == "DM: no TA dataset"


def test_sponsor_rules_run_only_on_their_own_study(tmp_path: Path) -> None:
    own = run(build({}, tmp_path))
    assert status_of(own, "CU0002", "EX")["status"] == "ran"
    other = {
        "set": [
            {"dataset": name, "row": "all", "variable": "STUDYID", "value": "CDISCPILOT01"}
            for name in base_document("sdtm")["datasets"]
        ]
    }
    results = run(build(other, tmp_path / "pilot"))
    assert status_of(results, "CU0002", "") == {
        "rule_id": "CU0002",
        "dataset": "",
        "status": "not applicable",
        "findings": 0,
        "reason": "a rule of study ISA-CUP-DE; the datasets are of study CDISCPILOT01",
    }


def test_every_shipped_rule_has_a_status_on_the_base_study(tmp_path: Path) -> None:
    results = run(build({"base": "both", "define": {}}, tmp_path))
    summary = rule_statuses(results.rule_runs)
    assert sorted(summary["rule_id"]) == sorted(r.rule_id for r in shipped_rules())
    assert set(summary["status"]) <= {"ran", "not applicable"}
    not_applicable = summary[summary["status"] == "not applicable"]
    assert (not_applicable["reason"].str.len() > 0).all(), not_applicable.to_dict("records")
    assert pd.to_numeric(summary["findings"]).sum() == len(results.findings) == 0
