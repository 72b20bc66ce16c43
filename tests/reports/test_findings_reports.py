"""The four findings reports, read back from disk: complete JSON/CSV, capped workbook and HTML details,
and the run, dataset and rule information a reviewer needs to file them."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import lxml.html
import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from cdisc_cup.findings import EXPLANATION_COLUMNS, FINDING_COLUMNS, RULE_COLUMNS, RULE_RUN_COLUMNS, explanations_of
from cdisc_cup.reports.findings import (
    DETAILS_PER_RULE,
    NO_DATASET_LABEL,
    NOT_RECORDED,
    FindingsReport,
    terminal_summary,
    write_findings_reports,
)
from cdisc_cup.reports.spreadsheet_safe import workbook_text_frame
from tests.reports.validation_data import (
    CAP,
    DATASETS,
    MANY,
    RULES,
    RUN,
    SCRIPT,
    empty_validation,
    many_findings,
    validation_of,
)

RULE_KEYS = [
    "rule_id",
    "title",
    "severity",
    "standard",
    "status",
    "findings",
    "datasets",
    "reason",
    "rationale",
    "references",
    "p21",
    "core",
]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> FindingsReport:
    folder = tmp_path_factory.mktemp("findings")
    return write_findings_reports(validation_of(many_findings()), folder, details_per_rule=CAP)


@pytest.fixture(scope="module")
def document(report: FindingsReport) -> dict:
    return json.loads(report.json.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def page(report: FindingsReport) -> lxml.html.HtmlElement:
    return lxml.html.document_fromstring(report.html.read_text(encoding="utf-8"))


def test_json_holds_every_finding_with_the_contract_keys(report: FindingsReport, document: dict) -> None:
    records = document["findings"]
    findings = many_findings()
    assert len(records) == MANY + 3
    assert all(list(record) == FINDING_COLUMNS for record in records)
    expected = findings.where(findings.notna(), None).to_dict("records")
    assert records == expected
    assert all(type(record["row"]) is int for record in records[:-1]) and records[-1]["row"] is None
    text = report.json.read_text(encoding="utf-8")
    assert '"value":"17/17"' in text and "é" in text  # slashes and accents stay readable


def test_json_keeps_text_that_looks_like_the_array_s_own_punctuation(tmp_path: Path) -> None:
    """One finding object per line, and values holding braces, quotes, line breaks, a first
    key or slashes come back as they were."""
    tricky = ['},{"rule_id":"X"}', 'a "quoted" \\ back\\slash', "two\nlines\ttab\x01", "S-1/2 \\/", "", None]
    findings = pd.DataFrame(
        [["SD5006", "Error", "EX", "EXSEQ", n + 1, "S-1", text, f"m{n}"] for n, text in enumerate(tricky)],
        columns=FINDING_COLUMNS,
    ).astype(object)
    text = write_findings_reports(validation_of(findings), tmp_path).json.read_text(encoding="utf-8")
    assert json.loads(text)["findings"] == findings.where(findings.notna(), None).to_dict("records")
    listed = text[text.rindex('"findings": [') :].splitlines()
    assert listed[len(tricky) + 1 :] == ["  ]", "}"]
    assert all(line.startswith('    {"rule_id":') for line in listed[1 : len(tricky) + 1])


def test_json_is_one_object_with_run_summary_rules_and_findings(document: dict) -> None:
    assert list(document) == ["run", "summary", "rules", "findings"]
    assert document["run"] == RUN.to_dict()
    assert list(document["summary"]) == ["by_severity", "by_dataset", "by_rule"]
    total = len(document["findings"])
    by_severity = document["summary"]["by_severity"]
    assert by_severity == {"Error": MANY, "Warning": 3, "Notice": 0} and sum(by_severity.values()) == total
    by_dataset = document["summary"]["by_dataset"]
    assert all(list(row) == ["dataset", "label", "records", "Error", "Warning", "Notice"] for row in by_dataset)
    assert [row["dataset"] for row in by_dataset] == ["DM", "EX", "AE"]  # every dataset checked, clean ones too
    dm = {"dataset": "DM", "label": "Demographics", "records": 3, "Error": 0, "Warning": 3, "Notice": 0}
    assert by_dataset[0] == dm
    assert by_dataset[2]["Error"] + by_dataset[2]["Warning"] + by_dataset[2]["Notice"] == 0
    assert sum(row[s] for row in by_dataset for s in ("Error", "Warning", "Notice")) == total
    by_rule = document["summary"]["by_rule"]
    assert [(r["rule_id"], r["dataset"], r["count"]) for r in by_rule] == [("SD5006", "EX", MANY), ("CT5001", "DM", 3)]
    keys = ["rule_id", "severity", "dataset", "title", "count", "explained", "explanation"]
    assert all(list(r) == keys for r in by_rule)
    assert all((r["explained"], r["explanation"]) == (0, "") for r in by_rule)  # no explanations given
    assert by_rule[0]["title"] == "Duplicate sequence number"
    assert sum(r["count"] for r in by_rule) == total


def test_json_rules_carry_their_status_reason_and_references(document: dict) -> None:
    rules = {rule["rule_id"]: rule for rule in document["rules"]}
    assert sorted(rules) == sorted(RULES["rule_id"]) and all(list(r) == RULE_KEYS for r in rules.values())
    assert rules["SD5006"] == {
        "rule_id": "SD5006",
        "title": "Duplicate sequence number",
        "severity": "Error",
        "standard": "SDTMIG",
        "status": "ran",
        "findings": MANY,
        "datasets": "EX, DM",
        "reason": "",
        "rationale": "--SEQ identifies a record",
        "references": "SDTMIG 4.1.9",
        "p21": "",
        "core": "C123",
    }
    # Failed anywhere is failed; the error is the reason; it is no finding.
    assert rules["SD5099"]["status"] == "failed" and rules["SD5099"]["findings"] == 0
    assert rules["SD5099"]["reason"] == "AE: KeyError: 'AESTDTC'" and rules["SD5099"]["p21"] == "SD1002"
    assert (rules["AD5001"]["status"], rules["AD5001"]["reason"]) == ("not applicable", "no ADSL dataset")
    assert sum(rule["findings"] for rule in rules.values()) == len(document["findings"])
    assert not [f for f in document["findings"] if f["rule_id"] == "SD5099"]


def test_csv_holds_every_finding(report: FindingsReport) -> None:
    table = pd.read_csv(report.csv, dtype=str, keep_default_na=False)
    assert list(table.columns) == FINDING_COLUMNS
    assert (table["rule_id"] == "SD5006").sum() == MANY and len(table) == MANY + 3
    assert '\'=HYPERLINK("x")' in table["value"].tolist()


def test_workbook_details_are_capped_per_rule_and_the_summary_keeps_the_counts(report: FindingsReport) -> None:
    workbook = load_workbook(report.xlsx)
    assert workbook.sheetnames == ["Run", "Dataset Summary", "Rules", "Summary", "Details"]
    summary = list(workbook["Summary"].values)
    assert summary[0] == (
        "Rule Id",
        "Severity",
        "Dataset",
        "Title",
        "Count",
        "In Details",
        "Note",
        "Explained",
        "Explanation",
    )
    by_rule = {row[0]: row for row in summary[1:]}
    assert len(summary) == 1 + 2
    assert by_rule["SD5006"][4:] == (MANY, CAP, f"{CAP} of {MANY} shown; all in findings.csv", 0, None)
    assert by_rule["CT5001"][4:6] == (3, 3) and by_rule["CT5001"][6] is None
    details = list(workbook["Details"].values)
    assert details[0][:5] == ("Rule Id", "Severity", "Dataset", "Variable", "Row")
    shown = [row for row in details[1:] if row[0] == "SD5006"]
    assert len(shown) == CAP and len(details) == 1 + CAP + 3
    assert [row[4] for row in shown] == list(range(1, CAP + 1))  # the first records of the dataset


def test_workbook_run_dataset_and_rule_sheets(report: FindingsReport) -> None:
    workbook = load_workbook(report.xlsx)
    run = list(workbook["Run"].values)
    assert run[0] == ("Label", "Value")
    values = dict(run[1:])
    assert len(run) == 1 + 8 + 4 + 4
    assert values["Tool"] == "cdisc-cup 0.1.0" and values["Standards"] == "SDTMIG 3.4, ADaMIG 1.3"
    assert (values["Rule set"], values["Input"], values["Study"]) == (RUN.rule_set, RUN.input, "CUP1")
    assert [values[label] for label in ("Created", "Command", "Terminology")] == [
        RUN.created,
        RUN.command,
        RUN.terminology[0],
    ]
    findings = [values[f"{severity} findings"] for severity in ("Error", "Warning", "Notice")]
    assert values["Findings"] == MANY + 3 and findings == [MANY, 3, 0]
    rules = [values[f"Rules {status}"] for status in ("ran", "not applicable", "failed")]
    assert values["Rules"] == 4 and rules == [2, 1, 1]
    datasets = list(workbook["Dataset Summary"].values)
    assert datasets[0] == ("Dataset", "Label", "Standard", "Records", "Variables", "Error", "Warning", "Notice")
    assert len(datasets) == 1 + len(DATASETS)
    assert datasets[1] == ("DM", "Demographics", "SDTMIG 3.4", 3, 20, 0, 3, 0)
    assert datasets[2][5:] == (MANY, 0, 0) and datasets[3][5:] == (0, 0, 0)
    rules = list(workbook["Rules"].values)
    assert rules[0] == (
        "Rule Id",
        "Title",
        "Severity",
        "Status",
        "Findings",
        "Datasets",
        "Reason",
        "Rationale",
        "References",
        "P21 ID",
        "CORE ID",
    )
    assert len(rules) == 1 + len(RULES)
    by_id = {row[0]: row for row in rules[1:]}
    assert by_id["SD5099"][3:7] == ("failed", 0, "EX", "AE: KeyError: 'AESTDTC'")
    assert by_id["SD5006"][9:] == (None, "C123") and by_id["CT5001"][7] == SCRIPT
    for name in workbook.sheetnames:
        sheet = workbook[name]
        assert sheet["A1"].font.bold and sheet.freeze_panes == "A2" and sheet.auto_filter.ref
    status_fills = {row[3].value: row[3].fill.fgColor.rgb for row in workbook["Rules"].iter_rows(min_row=2)}
    assert status_fills["failed"] == "00F8D7DA" and status_fills["ran"] == "00000000"


def test_workbook_is_spreadsheet_safe_and_styled(report: FindingsReport) -> None:
    workbook = load_workbook(report.xlsx)
    details = workbook["Details"]
    cells = [cell for name in workbook.sheetnames for row in workbook[name].iter_rows() for cell in row]
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


def test_html_has_the_run_header_and_dataset_summary(page: lxml.html.HtmlElement) -> None:
    labels, values = page.xpath("//table[@class='run']//th"), page.xpath("//table[@class='run']//td")
    run = {th.text_content(): td.text_content() for th, td in zip(labels, values, strict=True)}
    assert run["Tool"] == "cdisc-cup 0.1.0" and run["Input"] == RUN.input and run["Rules failed"] == "1"
    rows = [[td.text_content() for td in tr.xpath("td")] for tr in page.xpath("//table[@class='datasets']/tbody/tr")]
    assert rows == [
        ["DM", "Demographics", "SDTMIG 3.4", "3", "20", "0", "3", "0"],
        ["EX", "Exposure", "SDTMIG 3.4", str(MANY), "12", str(MANY), "0", "0"],
        ["AE", "Adverse Events", "SDTMIG 3.4", "10", "30", "0", "0", "0"],
    ]
    assert not page.xpath("//script")  # the <script> in the data and the input path stays text
    assert SCRIPT in page.text_content()


def test_html_anchors_every_rule_and_every_link_resolves(page: lxml.html.HtmlElement) -> None:
    anchors = set(page.xpath("//@id"))
    assert {f"rule-{rule_id}" for rule_id in RULES["rule_id"]} <= anchors
    detail_links = page.xpath("//section[@id='details']//table//a/@href")
    assert len(detail_links) == CAP + 3 and set(detail_links) == {"#rule-SD5006", "#rule-CT5001"}
    links = page.xpath("//a/@href")
    assert all(href.startswith("#") for href in links)  # standalone: nothing outside the page
    assert {href[1:] for href in links} <= anchors
    first = page.xpath("//section[@id='details']//tbody/tr")[0]
    assert first.xpath("td[2]/a")[0].text == "SD5006" and first.xpath("td[2]/a/@href") == ["#rule-SD5006"]


def test_html_failed_rule_shows_its_reason_and_is_no_finding(page: lxml.html.HtmlElement) -> None:
    (failed,) = page.xpath("//section[@id='rule-SD5099']")
    terms, definitions = failed.xpath(".//dt"), failed.xpath(".//dd")
    entry = {dt.text_content(): dd.text_content() for dt, dd in zip(terms, definitions, strict=True)}
    assert failed.xpath("h3")[0].text_content() == "SD5099: AE starts before it ends"
    assert entry["Status"] == "failed" and entry["Reason"] == "AE: KeyError: 'AESTDTC'" and entry["Findings"] == "0"
    assert entry["P21 ID"] == "SD1002" and "CORE ID" not in entry and "status-failed" in failed.get("class")
    (ran,) = page.xpath("//section[@id='rule-SD5006']")
    ran_entry = [dd.text_content() for dd in ran.xpath(".//dd")]
    assert "--SEQ identifies a record" in ran_entry and "SDTMIG 4.1.9" in ran_entry and "C123" in ran_entry
    (not_applicable,) = page.xpath("//section[@id='rule-AD5001']")
    assert "no ADSL dataset" in not_applicable.text_content()
    summary_rules = page.xpath("//table[@class='summary']/tbody/tr/td[2]")
    assert [td.text_content() for td in summary_rules] == ["SD5006", "CT5001"]
    assert not page.xpath("//section[@id='details']//a[@href='#rule-SD5099']")


def test_terminal_summary_counts_findings_and_says_what_was_not_checked() -> None:
    text = terminal_summary(validation_of(many_findings()))
    lines = text.splitlines()
    assert "SD5006" in lines[1] and "Duplicate sequence number" in lines[1] and str(MANY) in lines[1]
    totals = f"{MANY + 3} findings ({MANY} Error, 3 Warning, 0 Notice) from 4 rules: 2 ran, 1 not applicable, 1 failed"
    assert totals in lines
    assert "failed SD5099: AE: KeyError: 'AESTDTC'" in lines
    assert lines[-1].startswith("1 rule was not applicable") and "the reports list why" in lines[-1]
    assert "SD5099" not in "\n".join(lines[: lines.index("")])  # a failed rule is not in the findings table


CORE_FINDINGS = pd.DataFrame(
    [
        ["CORE-000024", "Error", "AE", "AEBODSYS, AEBDSYCD", 1, "S-1", "AEBODSYS=Cardiac disorders; AEBDSYCD=", "m"],
        ["CORE-000024", "Error", "AE", "AEBODSYS, AEBDSYCD", 2, "S-2", "AEBODSYS=Eye disorders; AEBDSYCD=", "m"],
        ["CORE-000024", "Error", "MH", "MHBODSYS, MHBDSYCD", 1, "S-1", "MHBODSYS=Eye disorders; MHBDSYCD=", "m"],
        ["CORE-000892", "Error", "CM", "CMSTRTPT, CMENRTPT", 4, "S-1", "CMSTRTPT=; CMENRTPT=ONGOING", "m"],
        ["SD5006", "Error", "EX", "EXSEQ", 1, "S-1", "1", "m"],
    ],
    columns=FINDING_COLUMNS,
).astype(object)
EXPLANATIONS = pd.DataFrame(
    [
        ["CORE-000024", "AE", "AEBDSYCD", "No MedDRA codes in the export."],
        ["CORE-000892", None, None, "Start not collected."],
        ["CORE-000892", "CM", None, "Never used: the entry before it explains these."],
    ],
    columns=EXPLANATION_COLUMNS,
)


def test_an_explanation_names_one_of_the_variables_of_a_core_finding() -> None:
    """An entry's variable matches any variable a CORE finding names; its dataset limits it; the
    first entry that applies wins; a finding nothing explains gets ""."""
    assert explanations_of(CORE_FINDINGS, EXPLANATIONS).tolist() == [
        "No MedDRA codes in the export.",
        "No MedDRA codes in the export.",
        "",  # MH: the entry is about AE
        "Start not collected.",
        "",
    ]
    assert explanations_of(CORE_FINDINGS, EXPLANATIONS.head(0)).eq("").all()


def test_explanations_follow_each_finding_in_a_large_shuffled_table() -> None:
    """Worked out per distinct rule, dataset and variable, each finding still gets its own
    explanation, on the table's own index and order."""
    many = CORE_FINDINGS.sample(n=5_000, replace=True, random_state=7)
    many.index = np.random.default_rng(3).permutation(len(many)) + 10
    one_by_one = [explanations_of(many.loc[[label]], EXPLANATIONS).iloc[0] for label in many.index[:200]]
    found = explanations_of(many, EXPLANATIONS)
    assert found.index.equals(many.index)
    assert found.iloc[:200].tolist() == one_by_one
    assert set(found) == {"No MedDRA codes in the export.", "Start not collected.", ""}


def test_reports_say_how_many_findings_of_a_rule_are_explained_and_why(tmp_path: Path) -> None:
    validation = replace(validation_of(CORE_FINDINGS), explanations=EXPLANATIONS)
    report = write_findings_reports(validation, tmp_path)
    by_rule = json.loads(report.json.read_text(encoding="utf-8"))["summary"]["by_rule"]
    explained = {(r["rule_id"], r["dataset"]): (r["count"], r["explained"], r["explanation"]) for r in by_rule}
    assert explained == {
        ("CORE-000024", "AE"): (2, 2, "No MedDRA codes in the export."),
        ("CORE-000024", "MH"): (1, 0, ""),
        ("CORE-000892", "CM"): (1, 1, "Start not collected."),
        ("SD5006", "EX"): (1, 0, ""),
    }
    summary = list(load_workbook(report.xlsx)["Summary"].values)
    assert ("CORE-000892", "Error", "CM", None, 1, 1, None, 1, "Start not collected.") in summary
    page = lxml.html.document_fromstring(report.html.read_text(encoding="utf-8"))
    assert "No MedDRA codes in the export." in page.xpath("string(//section[@id='summary'])")
    assert "5 findings (5 Error, 0 Warning, 0 Notice, 3 explained)" in terminal_summary(validation)
    assert terminal_summary(validation, report.tables) == terminal_summary(validation)


def test_terminal_summary_from_the_reports_tables_is_the_one_worked_out_again(report: FindingsReport) -> None:
    validation = report.tables.validation
    text = terminal_summary(validation, report.tables)
    assert text == terminal_summary(validation) and "explained" not in text  # no explanations: not counted


def test_rules_without_execution_record_and_findings_about_no_dataset(tmp_path: Path) -> None:
    """A finding of a rule missing from the catalogue and the runs still gets a rule entry and its link
    resolves; a finding about no dataset gets a dataset summary row so the counts add up."""
    findings = pd.DataFrame(
        [["XX0001", "Notice", "", None, None, None, None, "study-level"]], columns=FINDING_COLUMNS
    ).astype(object)
    validation = validation_of(
        findings, rules=RULES.head(0).reindex(columns=RULE_COLUMNS), rule_runs=pd.DataFrame(columns=RULE_RUN_COLUMNS)
    )
    report = write_findings_reports(validation, tmp_path)
    document = json.loads(report.json.read_text(encoding="utf-8"))
    assert document["rules"][0] | {"status": NOT_RECORDED, "findings": 1, "severity": "Notice"} == document["rules"][0]
    assert document["summary"]["by_dataset"][-1] == {
        "dataset": "",
        "label": NO_DATASET_LABEL,
        "records": None,
        "Error": 0,
        "Warning": 0,
        "Notice": 1,
    }
    page = lxml.html.document_fromstring(report.html.read_text(encoding="utf-8"))
    assert page.xpath("//section[@id='details']//a/@href") == ["#rule-XX0001"] and page.xpath("//*[@id='rule-XX0001']")
    assert "from 1 rules: 0 ran, 0 not applicable, 0 failed, 1 not recorded" in terminal_summary(validation)


def test_default_cap_and_empty_findings(tmp_path: Path) -> None:
    findings = many_findings().head(DETAILS_PER_RULE + 1)
    report = write_findings_reports(validation_of(findings), tmp_path / "default")
    details = list(load_workbook(report.xlsx)["Details"].values)
    assert len(details) == 1 + DETAILS_PER_RULE
    empty = write_findings_reports(empty_validation(), tmp_path / "empty")
    document = json.loads(empty.json.read_text(encoding="utf-8"))
    assert document["findings"] == [] and document["rules"] == [] and document["summary"]["by_rule"] == []
    assert document["summary"]["by_severity"] == {"Error": 0, "Warning": 0, "Notice": 0}
    workbook = load_workbook(empty.xlsx)
    assert list(workbook["Details"].values) == [
        ("Rule Id", "Severity", "Dataset", "Variable", "Row", "Usubjid", "Value", "Message")
    ]
    assert [len(list(workbook[name].values)) for name in workbook.sheetnames] == [1 + 8 + 4 + 4, 1, 1, 1, 1]
    assert "0 findings" in empty.html.read_text(encoding="utf-8")
    assert terminal_summary(empty_validation()).startswith("0 findings (0 Error, 0 Warning, 0 Notice) from 0 rules")


def test_workbook_text_frame_leaves_numbers_and_clean_text_alone() -> None:
    frame = pd.DataFrame({"value": ["tab\there", "nul\x00", "-3", None], "count": [1, 2, 3, 4]})
    safe = workbook_text_frame(frame)
    assert safe["value"].tolist()[:3] == ["tab\there", "nul\ufffd", "'-3"] and pd.isna(safe["value"].iloc[3])
    assert safe["count"].tolist() == [1, 2, 3, 4]
