"""Reports a reviewer can file: JSON, CSV, an Excel workbook and a standalone HTML page of one validation run.

Every report says what was checked before what was found: the run header (tool, rule set,
standards, terminology, input, when, which command), the datasets with their finding counts,
and the rule catalogue as run with each rule's execution status. A rule that failed could
not be evaluated, so its data are unchecked: it is listed with its reason, never counted as
a finding; a rule that was not applicable says why. Without this a reviewer cannot tell "no
findings" from "not checked".

`findings.json` is the contract::

    {"run": {RunInfo.to_dict()},
     "summary": {"by_severity": {"Error": n, "Warning": n, "Notice": n},
                 "by_dataset": [{"dataset", "label", "records", "Error", "Warning", "Notice"}, ...],
                 "by_rule": [{"rule_id", "severity", "dataset", "title", "count", "explained",
                              "explanation"}, ...]},
     "rules": [{"rule_id", "title", "severity", "standard", "status", "findings", "datasets",
                "reason", "rationale", "references", "p21", "core"}, ...],
     "findings": [{exactly the keys of FINDING_COLUMNS}, ...]}

It and `findings.csv` (the flat list) always hold every finding. The workbook has the sheets
Run, Dataset Summary, Rules, Summary (one row per rule and dataset with its count) and
Details (one row per finding), the layout reviewers know from conformance tools. Like the
"message limit" of Pinnacle 21 Community's Excel report, the Details of the workbook and the
HTML page list at most `DETAILS_PER_RULE` findings of each Summary row, and the Summary says
how many are shown: a messy study of 100,000 patients can produce hundreds of thousands of
findings of one rule, which no one reads one by one but which would take minutes to lay out
and make files that Excel and browsers struggle to open. Spreadsheet cells that start with
= + - @ are prefixed with an apostrophe so a value taken from the data can never run as a
formula (CSV/formula injection, OWASP).

Each Summary row says how many of its findings the sponsor explains (the study's
explanations.yaml, when the specs are the checked study's) and with what words, the reasons
the reviewer's guides repeat; a finding no entry explains is unexplained.

The reports only read the `Validation` they are given; rule titles and all else come from it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import reduce
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from cdisc_cup.findings import (
    DATASET_COLUMNS,
    FINDING_COLUMNS,
    RULE_COLUMNS,
    RULE_RUN_COLUMNS,
    RuleStatus,
    RunInfo,
    Severity,
    Validation,
    explanations_of,
    rule_statuses,
)
from cdisc_cup.reports.page import escaped, html_table, label_value_table, run_rows, standalone_page
from cdisc_cup.reports.spreadsheet_safe import neutralise_frame, workbook_text_frame
from cdisc_cup.reports.text_csv import write_text_csv

if TYPE_CHECKING:
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

SEVERITIES = [str(s) for s in Severity]
SEVERITY_ORDER = {str(s): -s.rank for s in Severity}
# A rule in the catalogue, or with findings, that has no execution record: shown, not hidden,
# so an engine that forgot to record a rule does not pass for one that ran cleanly.
NOT_RECORDED = "not recorded"
STATUSES = [str(RuleStatus.RAN), str(RuleStatus.NOT_APPLICABLE), str(RuleStatus.FAILED)]
# Styles are made once and shared by every cell that carries them.
SEVERITY_FILL = {
    name: PatternFill("solid", fgColor=colour)
    for name, colour in {"Error": "F8D7DA", "Warning": "FFF3CD", "Notice": "D1ECF1"}.items()
}
STATUS_FILL = {str(RuleStatus.FAILED): PatternFill("solid", fgColor="F8D7DA")}
HEADER_FONT = Font(bold=True)
# Workbook headers are the column names in title case, except where that mangles an acronym.
HEADER_NAMES = {"p21": "P21 ID", "core": "CORE ID"}
# Findings of one rule and dataset (one Summary row) listed in the workbook's Details sheet and
# the HTML page; all of them are always in findings.csv and findings.json.
DETAILS_PER_RULE = 1000
SUMMARY_KEYS = ["rule_id", "severity", "dataset"]
# The rule catalogue as the reports show it: RULE_COLUMNS with the execution status merged in.
RULE_REPORT_COLUMNS = [
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
DATASET_SUMMARY_COLUMNS = ["dataset", "label", "standard", "records", "variables", *SEVERITIES]
# Findings about no one dataset (dataset empty) still count, in a row of their own.
NO_DATASET_LABEL = "(no dataset)"
# Column widths are measured on the first rows only: enough to size them, cheap for any count.
WIDTH_SAMPLE = 2000


@dataclass(frozen=True)
class FindingsReport:
    json: Path
    csv: Path
    xlsx: Path
    html: Path
    tables: ReportTables  # what they show, for the terminal's summary


@dataclass(frozen=True)
class ReportTables:
    """The tables every report shows, computed once: sorting 300,000 findings twice is waste."""

    validation: Validation
    rules: pd.DataFrame  # RULE_REPORT_COLUMNS
    datasets: pd.DataFrame  # DATASET_SUMMARY_COLUMNS
    summary: pd.DataFrame  # shown_summary
    details: pd.DataFrame  # FINDING_COLUMNS, capped
    details_per_rule: int


def ordered(findings: pd.DataFrame) -> pd.DataFrame:
    """Errors first, then by rule, dataset and record number."""
    rank = findings["severity"].map(SEVERITY_ORDER)
    row = pd.to_numeric(findings["row"], errors="coerce").fillna(0)
    order = pd.DataFrame({"rank": rank, "rule_id": findings["rule_id"], "dataset": findings["dataset"], "row": row})
    return findings.loc[order.sort_values(["rank", "rule_id", "dataset", "row"], kind="stable").index]


def summary(findings: pd.DataFrame, titles: Mapping[str, str] | None = None) -> pd.DataFrame:
    """One row per rule and dataset: severity, title and the number of findings."""
    counts = findings.groupby(SUMMARY_KEYS, dropna=False).size().reset_index(name="count")
    counts.insert(3, "title", counts["rule_id"].map(dict(titles or {})).astype("string").fillna(""))
    rank = counts["severity"].map(SEVERITY_ORDER)
    return (
        counts.assign(_rank=rank)
        .sort_values(["_rank", "rule_id", "dataset"])
        .drop(columns="_rank")
        .reset_index(drop=True)
    )


def shown_summary(findings: pd.DataFrame, titles: Mapping[str, str] | None, details_per_rule: int) -> pd.DataFrame:
    """`summary` plus how many findings of each row the Details list, and a note where that is not all."""
    table = summary(findings, titles)
    shown = table["count"].clip(upper=details_per_rule)
    capped = shown < table["count"]
    note = shown.astype("string") + " of " + table["count"].astype("string") + " shown; all in findings.csv"
    return table.assign(in_details=shown, note=note.where(capped, ""))


def with_explanations(table: pd.DataFrame, findings: pd.DataFrame, explanations: pd.DataFrame) -> pd.DataFrame:
    """`table` (one row per rule, severity and dataset) with how many of the row's findings the
    sponsor's explanations explain and their words (each distinct one once)."""
    explained = explanations_of(findings, explanations).to_numpy()
    # as Python objects: made Arrow text, 240,000 of them took 0.4 s
    keyed = findings[SUMMARY_KEYS].assign(text=pd.Series(explained, index=findings.index, dtype=object))
    grouped = keyed.assign(explained=keyed["text"].ne("")).groupby(SUMMARY_KEYS, dropna=False)
    distinct = keyed[keyed["text"].ne("")].drop_duplicates()
    words = distinct.groupby(SUMMARY_KEYS, dropna=False)["text"].agg(" ".join).rename("explanation")
    counts = grouped["explained"].sum().astype(int)
    merged = table.merge(pd.concat([counts, words], axis=1).reset_index(), on=SUMMARY_KEYS, how="left")
    return merged.assign(
        explained=merged["explained"].fillna(0).astype(int), explanation=merged["explanation"].fillna("")
    )


def details(findings: pd.DataFrame, details_per_rule: int) -> pd.DataFrame:
    """The findings in report order, at most `details_per_rule` of each rule and dataset."""
    listed = ordered(findings)
    first = listed.groupby(SUMMARY_KEYS, dropna=False, sort=False).cumcount() < details_per_rule
    table = listed.loc[first, FINDING_COLUMNS].copy()
    table["row"] = pd.to_numeric(table["row"], errors="coerce").astype("Int64")
    return table


def titles_of(validation: Validation) -> dict[str, str]:
    rules = validation.rules.reindex(columns=RULE_COLUMNS)
    return dict(zip(rules["rule_id"], rules["title"].astype("string").fillna(""), strict=True))


def _text(values: pd.Series) -> pd.Series:
    return values.astype("string").fillna("")


def rule_table(validation: Validation) -> pd.DataFrame:
    """The catalogue as run, one row per rule: its metadata, status, findings and the reason it did not run.

    Rules come from the catalogue, the execution records and the findings together, so every
    finding's rule has a row (and the HTML page an anchor) even if the catalogue lacks it.
    `findings` is counted from the findings listed, so the Rules sheet agrees with the Details.
    """
    findings = validation.findings
    catalogue = validation.rules.reindex(columns=RULE_COLUMNS).drop_duplicates("rule_id")
    statuses = rule_statuses(validation.rule_runs.reindex(columns=RULE_RUN_COLUMNS)).drop(columns="findings")
    counts = findings["rule_id"].value_counts()
    known = pd.Index(catalogue["rule_id"], dtype="object")
    ids = known.append(pd.Index(statuses["rule_id"], dtype="object")).append(counts.index.astype("object")).unique()
    table = (
        pd.DataFrame({"rule_id": ids})
        .merge(catalogue, on="rule_id", how="left")
        .merge(statuses, on="rule_id", how="left")
    )
    found_severity = findings.groupby("rule_id")["severity"].first()
    table["severity"] = table["severity"].where(table["severity"].notna(), table["rule_id"].map(found_severity))
    table["findings"] = table["rule_id"].map(counts).fillna(0).astype(int)
    table["status"] = table["status"].where(table["status"].notna(), NOT_RECORDED)
    for column in RULE_REPORT_COLUMNS:
        if column != "findings":
            table[column] = _text(table[column])
    return table[RULE_REPORT_COLUMNS].sort_values("rule_id", kind="stable").reset_index(drop=True)


def dataset_summary(validation: Validation) -> pd.DataFrame:
    """One row per dataset checked, with its finding counts by severity; findings about a dataset
    that is not among those checked (or about none) get a row too, so the counts add up."""
    findings = validation.findings
    names = _text(findings["dataset"])
    if findings.empty:
        counts = pd.DataFrame(columns=SEVERITIES, dtype="int64")
    else:
        grouped = findings.groupby([names.rename("dataset"), findings["severity"]]).size()
        counts = grouped.unstack(fill_value=0).reindex(columns=SEVERITIES, fill_value=0)
    checked = validation.datasets.reindex(columns=DATASET_COLUMNS)
    checked = checked.assign(dataset=_text(checked["dataset"])).drop_duplicates("dataset")
    others = pd.Index(counts.index.astype("object")).difference(pd.Index(checked["dataset"], dtype="object"))
    table = pd.concat([checked.drop(columns="file"), pd.DataFrame({"dataset": list(others)})], ignore_index=True)
    for column in ("label", "standard"):
        table[column] = _text(table[column])
    table["label"] = table["label"].where((table["dataset"] != "") | (table["label"] != ""), NO_DATASET_LABEL)
    for column in ("records", "variables"):
        table[column] = pd.to_numeric(table[column], errors="coerce").astype("Int64")
    by_dataset = counts.reindex(pd.Index(table["dataset"], dtype="object")).fillna(0).astype(int)
    for severity in SEVERITIES:
        table[severity] = by_dataset[severity].to_numpy()
    return table[DATASET_SUMMARY_COLUMNS]


def report_tables(validation: Validation, details_per_rule: int = DETAILS_PER_RULE) -> ReportTables:
    findings = validation.findings
    return ReportTables(
        validation=validation,
        rules=rule_table(validation),
        datasets=dataset_summary(validation),
        summary=with_explanations(
            shown_summary(findings, titles_of(validation), details_per_rule), findings, validation.explanations
        ),
        details=details(findings, details_per_rule),
        details_per_rule=details_per_rule,
    )


def severity_totals(findings: pd.DataFrame) -> dict[str, int]:
    counts = findings["severity"].value_counts()
    return {severity: int(counts.get(severity, 0)) for severity in SEVERITIES}


def status_totals(rules: pd.DataFrame) -> dict[str, int]:
    """Rules per status; `NOT_RECORDED` only when some rule lacks an execution record."""
    counts = rules["status"].value_counts()
    totals = {status: int(counts.get(status, 0)) for status in STATUSES}
    if counts.get(NOT_RECORDED, 0):
        totals[NOT_RECORDED] = int(counts[NOT_RECORDED])
    return totals


def run_header(tables: ReportTables) -> pd.DataFrame:
    """The run header and the totals, as label and value rows (the Run sheet, the top of the page)."""
    statuses = status_totals(tables.rules)
    rows: list[tuple[str, object]] = [
        *run_rows(tables.validation.run),
        ("Findings", len(tables.validation.findings)),
        *((f"{severity} findings", count) for severity, count in severity_totals(tables.validation.findings).items()),
        ("Rules", len(tables.rules)),
        *((f"Rules {status}", count) for status, count in statuses.items()),
    ]
    return pd.DataFrame(rows, columns=["label", "value"], dtype="object")


def _records(frame: pd.DataFrame) -> list[dict[str, object]]:
    """A small table as JSON-ready dicts: plain ints, nulls for missing numbers."""
    return json.loads(frame.to_json(orient="records", force_ascii=False))


def findings_array_text(findings: pd.DataFrame) -> str:
    """The findings array as text: one finding object per line, row numbers as integers, nulls as null.

    pandas encodes the whole table in C (json.dumps with an indent runs in pure Python, ten
    times slower; its own `lines=True` splits the array in Python, a character at a time).
    The objects are flat and each starts with its first key, `{"rule_id":`, which no string
    can hold (a quote in a string is escaped), so a line break goes before each but the first.
    pandas escapes "/" as "\\/"; outside the escape of a backslash ("\\\\") that pair only
    arises from a slash, so it is undone.
    """
    table = findings[FINDING_COLUMNS].assign(row=pd.to_numeric(findings["row"], errors="coerce").astype("Int64"))
    if table.empty:
        return "[]"
    objects = (
        table.to_json(orient="records", force_ascii=False, double_precision=15).removeprefix("[").removesuffix("]")
    )
    first_key = "{" + json.dumps(FINDING_COLUMNS[0]) + ":"
    return "[\n    " + objects.replace("}," + first_key, "},\n    " + first_key).replace("\\/", "/") + "\n  ]"


def json_text(tables: ReportTables) -> str:
    """findings.json: the small blocks through json.dumps, the findings array spliced in as text."""
    validation = tables.validation
    head = {
        "run": validation.run.to_dict(),
        "summary": {
            "by_severity": severity_totals(validation.findings),
            "by_dataset": _records(tables.datasets[["dataset", "label", "records", *SEVERITIES]]),
            "by_rule": _records(
                tables.summary[["rule_id", "severity", "dataset", "title", "count", "explained", "explanation"]]
            ),
        },
        "rules": _records(tables.rules),
    }
    text = json.dumps(head, indent=2, ensure_ascii=False)
    return text.removesuffix("\n}") + ',\n  "findings": ' + findings_array_text(validation.findings) + "\n}\n"


def read_findings_json(path: Path) -> tuple[RunInfo, pd.DataFrame]:
    """The run and the findings of a findings.json (the contract above): what `cdisc-cup define`
    needs to rewrite the reviewer's guides of a conversion with the findings they reported."""
    document = json.loads(path.read_text(encoding="utf-8"))
    run = document["run"]
    info = RunInfo(**{**run, **{key: tuple(run.get(key) or ()) for key in ("standards", "terminology", "notes")}})
    return info, pd.DataFrame(document["findings"], columns=FINDING_COLUMNS)


def write_json(tables: ReportTables, path: Path) -> Path:
    path.write_text(json_text(tables), encoding="utf-8")
    return path


def write_csv(findings: pd.DataFrame, path: Path) -> Path:
    safe = neutralise_frame(findings[FINDING_COLUMNS])
    safe["row"] = pd.to_numeric(findings["row"], errors="coerce").astype("Int64")
    write_text_csv(safe, path)
    return path


def _width(name: str, values: pd.Series) -> float:
    longest = values.head(WIDTH_SAMPLE).astype("string").fillna("").str.len().max()
    return min(max(10, max(len(name), 0 if pd.isna(longest) else int(longest)) + 2), 80)


def _styled(sheet: WriteOnlyWorksheet, value: object, **style: object) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=value)
    for name, setting in style.items():
        setattr(cell, name, setting)
    return cell


def _header(column: str) -> str:
    return HEADER_NAMES.get(column, column.replace("_", " ").title())


def _sheet(workbook: Workbook, title: str, frame: pd.DataFrame) -> None:
    """One table as a sheet: bold header, frozen and filterable, severity (and failed status) cells filled.

    The workbook is write-only (rows stream to the file, no cell objects kept), so widths,
    panes and the filter are set before the rows; only header and filled cells carry a style.
    """
    sheet = workbook.create_sheet(title)
    headers = [_header(str(c)) for c in frame.columns]
    for index, (name, column) in enumerate(zip(headers, frame.columns, strict=True), start=1):
        sheet.column_dimensions[get_column_letter(index)].width = _width(name, frame[column])
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(frame.columns))}{len(frame) + 1}"
    sheet.append([_styled(sheet, name, font=HEADER_FONT) for name in headers])
    safe = workbook_text_frame(frame)
    records = safe.astype(object).where(safe.notna(), None).to_numpy().tolist()
    fills = [
        (list(frame.columns).index(column), by_value)
        for column, by_value in (("severity", SEVERITY_FILL), ("status", STATUS_FILL))
        if column in frame.columns
    ]
    # openpyxl takes a workbook row by row; there is no column-wise API to hand the table to.
    for record in records:
        for position, by_value in fills:
            if record[position] in by_value:
                record[position] = _styled(sheet, record[position], fill=by_value[record[position]])
        sheet.append(record)


def write_xlsx(tables: ReportTables, path: Path) -> Path:
    workbook = Workbook(write_only=True)
    _sheet(workbook, "Run", run_header(tables))
    _sheet(workbook, "Dataset Summary", tables.datasets)
    _sheet(workbook, "Rules", tables.rules.drop(columns="standard"))
    _sheet(workbook, "Summary", tables.summary)
    _sheet(workbook, "Details", tables.details)
    workbook.save(path)
    return path


def _rule_links(rule_ids: pd.Series) -> pd.Series:
    """Each rule ID as a link to its entry in the Rules section."""
    ids = escaped(rule_ids)
    return '<a href="#rule-' + ids + '">' + ids + "</a>"


def _rules_section(rules: pd.DataFrame) -> str:
    """One entry per rule, anchored `rule-<ID>` so every finding links to what its rule checks and why."""
    if rules.empty:
        return "<p>No rules.</p>"
    ids = escaped(rules["rule_id"])
    status = escaped(rules["status"])
    status_class = "status-" + status.str.replace(" ", "-", regex=False)

    def field(label: str, values: pd.Series, *, always: bool = False) -> pd.Series:
        entry = "<dt>" + label + "</dt><dd>" + values + "</dd>"
        return entry if always else entry.where(values != "", "")

    title = escaped(rules["title"])
    fields = [
        field("Severity", escaped(rules["severity"])),
        field("Standard", escaped(rules["standard"])),
        field("Status", '<span class="' + status_class + '">' + status + "</span>", always=True),
        field("Findings", escaped(rules["findings"]), always=True),
        field("Ran on", escaped(rules["datasets"])),
        field("Reason", escaped(rules["reason"])),
        field("Rationale", escaped(rules["rationale"])),
        field("References", escaped(rules["references"])),
        field("P21 ID", escaped(rules["p21"])),
        field("CORE ID", escaped(rules["core"])),
    ]
    opening = (
        '<section class="rule '
        + escaped(rules["severity"]).str.lower()
        + " "
        + status_class
        + '" id="rule-'
        + ids
        + '"><h3>'
        + ids
        + title.where(title == "", ": " + title)
        + "</h3><dl>"
    )
    entries = reduce(lambda left, right: left + right, fields, opening) + "</dl></section>"
    return entries.str.cat()


def _details_notice(table: pd.DataFrame, details_per_rule: int) -> str:
    capped = table[table["note"] != ""]
    if capped.empty:
        return ""
    return (
        f"<p>At most {details_per_rule} findings of each rule and dataset are listed: "
        f"{int(capped['in_details'].sum())} of the {int(capped['count'].sum())} findings of "
        f"{len(capped)} rule/dataset rows are shown (see the summary). All findings are in "
        "findings.csv and findings.json.</p>"
    )


def _status_sentence(rules: pd.DataFrame) -> str:
    counts = status_totals(rules)
    return f"{len(rules)} rules: " + ", ".join(f"{count} {status}" for status, count in counts.items())


def write_html(tables: ReportTables, path: Path, title: str = "Conformance findings") -> Path:
    findings = tables.validation.findings
    counts = severity_totals(findings)
    totals = ", ".join(f"{n} {severity}{'s' if n != 1 else ''}" for severity, n in counts.items())
    header = run_header(tables)
    run_table = label_value_table(list(zip(header["label"], header["value"], strict=True)))
    summary_table = tables.summary[
        ["severity", "rule_id", "title", "dataset", "count", "in_details", "note", "explained", "explanation"]
    ]
    listed = tables.details[["severity", *[c for c in FINDING_COLUMNS if c != "severity"]]]
    body = (
        '<nav><a href="#run">Run</a><a href="#datasets">Datasets</a><a href="#summary">Summary</a>'
        '<a href="#rules">Rules</a><a href="#details">Details</a></nav>'
        f"<p>{len(findings)} findings: {totals}. {_status_sentence(tables.rules)}.</p>"
        f'<section id="run"><h2>Run</h2>{run_table}</section>'
        f'<section id="datasets"><h2>Dataset summary</h2>{html_table(tables.datasets, "datasets")}</section>'
        '<section id="summary"><h2>Summary by rule and dataset</h2>'
        f"{html_table(summary_table, 'summary', {'rule_id': _rule_links(summary_table['rule_id'])})}</section>"
        '<section id="rules"><h2>Rules</h2><p>Every rule of the run with its execution status. A failed rule '
        "could not be evaluated (the reason holds the error): its data are unchecked and it is not a finding. "
        "A rule that is not applicable found nothing in these data to check; the reason says why.</p>"
        f"{_rules_section(tables.rules)}</section>"
        f'<section id="details"><h2>Details</h2>{_details_notice(tables.summary, tables.details_per_rule)}'
        f"{html_table(listed, 'details', {'rule_id': _rule_links(listed['rule_id'])})}</section>"
    )
    path.write_text(standalone_page(title, body), encoding="utf-8")
    return path


def _failed_reasons(rule_runs: pd.DataFrame) -> pd.Series:
    """Per failed rule, the errors of the datasets it failed on (not the reasons it was not applicable elsewhere)."""
    runs = rule_runs.reindex(columns=RULE_RUN_COLUMNS)
    failed = runs[runs["status"] == str(RuleStatus.FAILED)]
    where = _text(failed["dataset"])
    reason = where.where(where == "", where + ": ") + _text(failed["reason"])
    return reason.groupby(failed["rule_id"]).agg("; ".join)


def terminal_summary(validation: Validation, tables: ReportTables | None = None) -> str:
    """What the CLI prints: the findings per rule and dataset, the totals, and what was not
    checked; from the reports' `tables` when they are written (300,000 findings are counted once)."""
    findings = validation.findings
    rules = tables.rules if tables is not None else rule_table(validation)
    severities = severity_totals(findings)
    statuses = status_totals(rules)
    lines = []
    if tables is not None:
        table = tables.summary.drop(columns=["in_details", "note"])
    else:
        table = with_explanations(summary(findings, titles_of(validation)), findings, validation.explanations)
    # the explained count only where the specs are the study's, which explain its findings
    table = table.drop(columns=["explanation"] if not validation.explanations.empty else ["explanation", "explained"])
    if len(findings):
        lines += [table.to_string(index=False, max_colwidth=60), ""]
    counted = ", ".join(f"{n} {severity}" for severity, n in severities.items())
    ran = ", ".join(f"{n} {status}" for status, n in statuses.items())
    explained = f", {int(table['explained'].sum())} explained" if "explained" in table else ""
    lines.append(f"{len(findings)} findings ({counted}{explained}) from {len(rules)} rules: {ran}")
    failed = rules[rules["status"] == str(RuleStatus.FAILED)]
    reasons = _failed_reasons(validation.rule_runs)
    lines += [
        f"failed {rule_id}: {reasons.get(rule_id, '') or 'no reason given'}" for rule_id in failed["rule_id"].tolist()
    ]
    not_applicable = statuses[str(RuleStatus.NOT_APPLICABLE)]
    if not_applicable:
        lines.append(
            f"{not_applicable} {'rule was' if not_applicable == 1 else 'rules were'} not applicable to these data; "
            "the reports list why (Rules sheet of findings.xlsx, Rules in findings.html)."
        )
    return "\n".join(lines)


def write_findings_reports(
    validation: Validation,
    folder: Path,
    *,
    title: str = "Conformance findings",
    details_per_rule: int = DETAILS_PER_RULE,
) -> FindingsReport:
    """Write findings.json, findings.csv, findings.xlsx and findings.html into `folder`.

    The workbook and the HTML page list at most `details_per_rule` findings of each rule and
    dataset; the JSON and CSV hold them all.
    """
    folder.mkdir(parents=True, exist_ok=True)
    tables = report_tables(validation, details_per_rule)
    return FindingsReport(
        json=write_json(tables, folder / "findings.json"),
        csv=write_csv(validation.findings, folder / "findings.csv"),
        xlsx=write_xlsx(tables, folder / "findings.xlsx"),
        html=write_html(tables, folder / "findings.html", title),
        tables=tables,
    )
