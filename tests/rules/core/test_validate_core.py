"""`cdisc-cup validate CASE/data --rules ... --select ID` on CORE's own test cases reports what
CORE's results.csv says; a rule that cannot run offline is listed with its reason."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from click.testing import CliRunner

from cdisc_cup.cli import main
from cdisc_cup.readers.csv_datasets import read_csv_folder

from .casedata import CORE_RULES, case_dir, expected


def validate(tmp_path: Path, data: Path, *options: str) -> tuple[int, dict]:
    reports = tmp_path / "reports"
    result = CliRunner().invoke(main, ["validate", str(data), "--report-dir", str(reports), *options])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, json.loads((reports / "findings.json").read_text(encoding="utf-8"))


def test_a_negative_case_gives_the_records_core_reports(tmp_path: Path) -> None:
    case = case_dir("CORE-000192", "negative")
    code, report = validate(tmp_path, case / "data", "--rules", str(CORE_RULES), "--select", "CORE-000192")
    findings = pd.DataFrame(report["findings"])
    wanted = expected(case)
    assert code == 1  # findings of severity Error
    assert set(findings["dataset"]) == set(wanted["Dataset"])
    assert sorted(findings["row"].astype(int)) == sorted(set(wanted["Record"].astype(int)))
    assert set(findings["variable"]) == {"ARMNRS, RFENDTC"}
    assert findings["message"].eq("RFENDTC is not blank when ARMNRS is provided.").all()
    rule = next(r for r in report["rules"] if r["rule_id"] == "CORE-000192")
    assert "CDISC SDTMIG 3.4 CG0530, section 5.2" in rule["references"]


def test_a_positive_case_gives_nothing(tmp_path: Path) -> None:
    case = case_dir("CORE-000192", "positive")
    code, report = validate(tmp_path, case / "data", "--rules", str(CORE_RULES / "CORE-000192" / "rule.yml"))
    assert code == 0
    assert report["findings"] == []


def test_a_rule_that_cannot_run_offline_is_listed_with_the_reason(tmp_path: Path) -> None:
    case = case_dir("CORE-000192", "positive")
    _, report = validate(tmp_path, case / "data", "--rules", str(CORE_RULES / "CORE-000929"))
    (rule,) = [r for r in report["rules"] if r["rule_id"] == "CORE-000929"]
    assert "not run" in json.dumps(rule)
    assert "CDISC Library" in json.dumps(rule)


def test_the_csv_reader_types_and_labels_as_the_variables_file_says() -> None:
    read = read_csv_folder(case_dir("CORE-000192", "negative") / "data")
    dm = read.datasets["DM"]
    assert (read.standard, read.version) == ("sdtm", "3.4")
    assert dm.label == "Demographics"
    assert dm.variable("STUDYID").label == "Study Identifier"
    assert dm.variable("STUDYID").length == 12
    assert dm.frame["ARMNRS"].iloc[0] == "SCREEN FAILURE"


def test_our_rules_and_cores_together_in_one_report(tmp_path: Path) -> None:
    case = case_dir("CORE-000192", "negative")
    rule = str(CORE_RULES / "CORE-000192")
    _, core_only = validate(tmp_path / "core", case / "data", "--rules", rule)
    _, both = validate(tmp_path / "both", case / "data", "--rules", "cdisc-cup", "--rules", rule)
    core_ids = {f["rule_id"] for f in core_only["findings"]}
    both_ids = {f["rule_id"] for f in both["findings"]}
    assert core_ids == {"CORE-000192"}
    assert "CORE-000192" in both_ids
    assert {"SD5001", "SD5029"} <= both_ids  # our required-variable and ARM/ARMCD rules fire on DM too
    listed = {r["rule_id"] for r in both["rules"]}
    assert "CORE-000192" in listed and "SD5001" in listed
