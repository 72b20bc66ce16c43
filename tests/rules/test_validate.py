"""`cdisc-cup validate` and `cdisc-cup rules` as a user runs them, on files read back from disk."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from cdisc_cup.cli import main
from cdisc_cup.findings import FINDING_COLUMNS
from cdisc_cup.reports.findings import write_findings_reports
from cdisc_cup.rules.engine import DatasetFolder, detect_standard, validate_datasets, validate_folders, validation_of
from cdisc_cup.rules.loader import shipped_rules
from cdisc_cup.xpt.read import read_dataset_folder
from tests.rules.casekit import build, write_study

REPO = Path(__file__).resolve().parents[2]


def test_validate_writes_all_reports_and_exits_by_fail_on(tmp_path: Path) -> None:
    data = write_study({"set": [{"dataset": "DM", "row": 1, "variable": "SEX", "value": "MALE"}]}, tmp_path / "sdtm")
    runner = CliRunner()
    result = runner.invoke(main, ["validate", str(data), "--report-dir", str(tmp_path / "r")])
    assert result.exit_code == 1, result.output
    assert "CT5001" in result.output
    document = json.loads((tmp_path / "r" / "findings.json").read_text(encoding="utf-8"))
    records = document["findings"]
    assert records and all(list(r) == FINDING_COLUMNS for r in records)
    assert document["run"]["input"] == str(data) and document["run"]["tool"] == "cdisc-cup"
    sex = [r for r in records if r["rule_id"] == "CT5001"]
    assert sex == [
        {
            "rule_id": "CT5001",
            "severity": "Error",
            "dataset": "DM",
            "variable": "SEX",
            "row": 1,
            "usubjid": "CUP1-01-001",
            "value": "MALE",
            "message": "SEX value 'MALE' is not in codelist SEX",
        }
    ]
    for name in ("findings.csv", "findings.xlsx", "findings.html"):
        assert (tmp_path / "r" / name).stat().st_size > 0
    assert (
        runner.invoke(
            main, ["validate", str(data), "--report-dir", str(tmp_path / "r"), "--fail-on", "never"]
        ).exit_code
        == 0
    )


def test_validate_clean_study_exits_0_and_warning_level_counts(tmp_path: Path) -> None:
    data = write_study({"define": {}}, tmp_path / "sdtm")  # FDA rejects data without define.xml (DX0001)
    runner = CliRunner()
    clean = runner.invoke(main, ["validate", str(data), "--report-dir", str(tmp_path / "r")])
    assert clean.exit_code == 0, clean.output
    late = write_study(
        {
            "set": [
                {"dataset": "AE", "row": 2, "variable": "AESTDTC", "value": "2020-11-01"},
                {"dataset": "DM", "row": 2, "variable": "DTHFL", "value": ""},
            ]
        },
        tmp_path / "w",
    )
    warned = runner.invoke(
        main, ["validate", str(late), "--report-dir", str(tmp_path / "w-report"), "--fail-on", "warning"]
    )
    assert warned.exit_code == 1, warned.output


def test_validate_folder_without_datasets_is_unusable_input(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["validate", str(tmp_path)])
    assert result.exit_code == 2
    assert "no SAS XPORT" in result.output


def test_broken_copy_every_defect_reported_by_its_rule(tmp_path: Path) -> None:
    """Issue #5 'done when': a user breaks a valid study on purpose and checks the report."""
    broken = write_study(
        {
            "add": [{"dataset": "AE", "copy_row": 2, "values": {"AETERM": "Cough", "AEDECOD": "Cough"}}],
            "set": [
                {"dataset": "AE", "row": 1, "variable": "USUBJID", "value": "CUP1-01-404"},
                {"dataset": "AE", "row": 2, "variable": "AEENDTC", "value": "2020-10-01"},
                {"dataset": "DM", "row": 2, "variable": "SEX", "value": "FEMALE"},
            ],
        },
        tmp_path / "broken",
    )
    result = CliRunner().invoke(main, ["validate", str(broken), "--report-dir", str(tmp_path / "r")])
    assert result.exit_code == 1
    records = json.loads((tmp_path / "r" / "findings.json").read_text(encoding="utf-8"))["findings"]
    found = {(r["rule_id"], r["dataset"], r["variable"], r["row"]) for r in records}
    assert ("SD5006", "AE", "AESEQ", 3) in found  # duplicated AESEQ: the second record is reported
    assert ("SD5007", "AE", "USUBJID", 1) in found  # subject missing from DM
    assert ("SD5011", "AE", "AEENDTC", 2) in found  # AE ends before it starts
    assert ("CT5001", "DM", "SEX", 2) in found  # SEX outside its codelist
    # XPORT v5 cannot hold a 41-character label, so that defect is caught before writing,
    # on the frames the pipeline validates in memory.
    datasets = read_dataset_folder(broken)
    view = build({"labels": {"AE.AETERM": "Reported Term for the Adverse Event (text)"}}, tmp_path).datasets
    findings = validate_datasets({**datasets, "AE": view["AE"]}).findings
    label = findings[findings["rule_id"] == "XP0004"]
    assert label[["dataset", "variable"]].to_dict("records") == [{"dataset": "AE", "variable": "AETERM"}]


def test_reports_neutralise_formulas_and_keep_the_layout(tmp_path: Path) -> None:
    data = write_study(
        {"set": [{"dataset": "DM", "row": 1, "variable": "SEX", "value": '=HYPERLINK("x")'}]}, tmp_path / "sdtm"
    )
    folder = DatasetFolder(data, "sdtm", read_dataset_folder(data))
    rules = shipped_rules()
    validation = validation_of(validate_folders([folder], rules), rules, [folder], checked=str(data))
    report = write_findings_reports(validation, tmp_path / "r")
    workbook = load_workbook(report.xlsx)
    assert workbook.sheetnames == ["Run", "Dataset Summary", "Rules", "Summary", "Details"]
    details = list(workbook["Details"].values)
    assert details[0][:3] == ("Rule Id", "Severity", "Dataset")
    values = [row[6] for row in details[1:]]
    assert '\'=HYPERLINK("x")' in values and not any(isinstance(v, str) and v.startswith("=") for v in values)
    assert "'=HYPERLINK" in report.csv.read_text(encoding="utf-8")
    page = report.html.read_text(encoding="utf-8")
    assert "&quot;x&quot;" in page and 'href="#rule-CT5001"' in page and 'id="rule-CT5001"' in page


def test_rules_json_and_table() -> None:
    runner = CliRunner()
    listed = json.loads(runner.invoke(main, ["rules", "--json"]).output)
    assert len(listed) >= 60
    assert {"rule_id", "severity", "standard", "datasets", "message"} <= set(listed[0])
    assert len({r["rule_id"] for r in listed}) == len(listed)
    table = runner.invoke(main, ["rules"]).output
    assert "SD5011" in table and f"{len(listed)} rules" in table


def test_docs_rules_md_is_current() -> None:
    """Regenerate with: cdisc-cup rules --markdown > docs/rules.md"""
    generated = CliRunner().invoke(main, ["rules", "--markdown"]).output
    assert (REPO / "docs" / "rules.md").read_text(encoding="utf-8") == generated


@pytest.mark.parametrize("command", ["validate", "rules"])
def test_help_has_an_example(command: str) -> None:
    output = CliRunner().invoke(main, [command, "--help"]).output
    assert "Example:" in output and f"cdisc-cup {command}" in output


def test_standard_detection() -> None:
    assert detect_standard(["ADSL", "ADAE"]) == "adam"
    assert detect_standard(["DM", "AE", "SUPPAE"]) == "sdtm"
