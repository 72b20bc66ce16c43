"""The four findings reports, read back from disk: complete JSON/CSV, capped workbook and HTML details."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from cdisc_cup.findings import FINDING_COLUMNS, empty_findings
from cdisc_cup.reports.findings import DETAILS_PER_RULE, FindingsReport, write_findings_reports
from cdisc_cup.reports.spreadsheet_safe import workbook_text_frame

TITLES = {"SD0006": "Duplicate sequence number", "CT0001": "Value outside its codelist"}
MANY = 2_500
CAP = 1_000


def many_findings() -> pd.DataFrame:
    """2,500 Errors of one rule in EX (in shuffled record order) and three of another rule in DM."""
    rows = np.random.default_rng(7).permutation(np.arange(1, MANY + 1))
    ex = pd.DataFrame(
        {
            "rule_id": "SD0006",
            "severity": "Error",
            "dataset": "EX",
            "variable": "EXSEQ",
            "row": pd.Series(rows, dtype=object),
            "usubjid": [f"CUP1-{r:05d}" for r in rows],
            "value": [f"{r}/{r}" for r in rows],
            "message": "EXSEQ is not unique within the subject <EX>",
        },
        columns=FINDING_COLUMNS,
    )
    dm = pd.DataFrame(
        [
            ["CT0001", "Warning", "DM", "SEX", 2, "CUP1-00002", '=HYPERLINK("x")', "SEX not in codelist"],
            ["CT0001", "Warning", "DM", "SEX", 3, "CUP1-00003", "bad\x0bvalue", "SEX not in codelist"],
            ["CT0001", "Warning", "DM", None, None, None, "back\\/slash é", "dataset-level"],
        ],
        columns=FINDING_COLUMNS,
    )
    return pd.concat([ex, dm], ignore_index=True).astype(object)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> FindingsReport:
    folder = tmp_path_factory.mktemp("findings")
    return write_findings_reports(many_findings(), folder, titles=TITLES, details_per_rule=CAP)


def test_json_holds_every_finding_with_the_contract_keys(report: FindingsReport) -> None:
    records = json.loads(report.json.read_text(encoding="utf-8"))
    findings = many_findings()
    assert len(records) == MANY + 3
    assert all(list(record) == FINDING_COLUMNS for record in records)
    expected = findings.where(findings.notna(), None).to_dict("records")
    assert records == expected
    assert all(type(record["row"]) is int for record in records[:-1]) and records[-1]["row"] is None
    text = report.json.read_text(encoding="utf-8")
    assert '"value":"17/17"' in text and "é" in text  # slashes and accents stay readable


def test_csv_holds_every_finding(report: FindingsReport) -> None:
    table = pd.read_csv(report.csv, dtype=str, keep_default_na=False)
    assert list(table.columns) == FINDING_COLUMNS
    assert (table["rule_id"] == "SD0006").sum() == MANY and len(table) == MANY + 3
    assert '\'=HYPERLINK("x")' in table["value"].tolist()


def test_workbook_details_are_capped_per_rule_and_the_summary_keeps_the_counts(report: FindingsReport) -> None:
    workbook = load_workbook(report.xlsx)
    assert workbook.sheetnames == ["Summary", "Details"]
    summary = list(workbook["Summary"].values)
    assert summary[0] == ("Rule Id", "Severity", "Dataset", "Title", "Count", "In Details", "Note")
    by_rule = {row[0]: row for row in summary[1:]}
    assert by_rule["SD0006"][4:] == (MANY, CAP, f"{CAP} of {MANY} shown; all in findings.csv")
    assert by_rule["CT0001"][4:6] == (3, 3) and by_rule["CT0001"][6] is None
    details = list(workbook["Details"].values)
    assert details[0][:5] == ("Rule Id", "Severity", "Dataset", "Variable", "Row")
    shown = [row for row in details[1:] if row[0] == "SD0006"]
    assert len(shown) == CAP and len(details) == 1 + CAP + 3
    assert [row[4] for row in shown] == list(range(1, CAP + 1))  # the first records of the dataset


def test_workbook_is_spreadsheet_safe_and_styled(report: FindingsReport) -> None:
    workbook = load_workbook(report.xlsx)
    details = workbook["Details"]
    cells = [cell for row in details.iter_rows() for cell in row]
    assert not [cell.coordinate for cell in cells if cell.data_type == "f"]
    values = [row[6] for row in details.iter_rows(min_row=2, values_only=True)]
    assert '\'=HYPERLINK("x")' in values and "bad\ufffdvalue" in values
    assert details["A1"].font.bold and details.freeze_panes == "A2"
    assert details.auto_filter.ref == f"A1:H{1 + CAP + 3}"
    fills = {row[1].value: row[1].fill.fgColor.rgb for row in details.iter_rows(min_row=2)}
    assert fills == {"Error": "00F8D7DA", "Warning": "00FFF3CD"}


def test_html_lists_the_capped_details_and_says_so(report: FindingsReport) -> None:
    page = report.html.read_text(encoding="utf-8")
    summary, details = page.split("<h2>Details</h2>")
    assert f"<td>{MANY}</td><td>{CAP}</td><td>{CAP} of {MANY} shown; all in findings.csv</td>" in summary
    assert f"{CAP} of the {MANY} findings" in details and "findings.csv and findings.json" in details
    assert details.count('<tr class="error">') == CAP and details.count('<tr class="warning">') == 3
    assert "&lt;EX&gt;" in details and "<EX>" not in details
    assert "<td>=HYPERLINK(&quot;x&quot;)</td>" in details  # escaped; a web page runs no formulas


def test_default_cap_and_empty_findings(tmp_path: Path) -> None:
    findings = many_findings().head(DETAILS_PER_RULE + 1)
    report = write_findings_reports(findings, tmp_path / "default", titles=TITLES)
    details = list(load_workbook(report.xlsx)["Details"].values)
    assert len(details) == 1 + DETAILS_PER_RULE
    empty = write_findings_reports(empty_findings(), tmp_path / "empty", titles=TITLES)
    assert json.loads(empty.json.read_text(encoding="utf-8")) == []
    assert [list(sheet.values) for sheet in load_workbook(empty.xlsx)][1] == [
        ("Rule Id", "Severity", "Dataset", "Variable", "Row", "Usubjid", "Value", "Message")
    ]
    assert "0 findings" in empty.html.read_text(encoding="utf-8")


def test_workbook_text_frame_leaves_numbers_and_clean_text_alone() -> None:
    frame = pd.DataFrame({"value": ["tab\there", "nul\x00", "-3", None], "count": [1, 2, 3, 4]})
    safe = workbook_text_frame(frame)
    assert safe["value"].tolist()[:3] == ["tab\there", "nul\ufffd", "'-3"] and pd.isna(safe["value"].iloc[3])
    assert safe["count"].tolist() == [1, 2, 3, 4]
