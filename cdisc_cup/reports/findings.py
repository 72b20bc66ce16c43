"""Findings written for people and machines: JSON, CSV, an Excel workbook, a standalone HTML page.

The JSON is the contract (`findings.json`: a list of objects with exactly the keys of
`FINDING_COLUMNS`). The workbook follows the layout reviewers know from conformance tools:
a Summary sheet (one row per rule and dataset with its count) and a Details sheet (one row
per finding). Spreadsheet cells that start with = + - @ are prefixed with an apostrophe so
a value taken from the data can never run as a formula (CSV/formula injection, OWASP).
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from cdisc_cup.findings import FINDING_COLUMNS, Severity
from cdisc_cup.reports.spreadsheet_safe import FORMULA_STARTS, neutralise_frame

SEVERITY_ORDER = {str(s): -s.rank for s in Severity}
SEVERITY_FILL = {"Error": "F8D7DA", "Warning": "FFF3CD", "Notice": "D1ECF1"}


@dataclass(frozen=True)
class FindingsReport:
    json: Path
    csv: Path
    xlsx: Path
    html: Path


def ordered(findings: pd.DataFrame) -> pd.DataFrame:
    """Errors first, then by rule, dataset and record number."""
    rank = findings["severity"].map(SEVERITY_ORDER)
    row = pd.to_numeric(findings["row"], errors="coerce").fillna(0)
    order = pd.DataFrame({"rank": rank, "rule_id": findings["rule_id"], "dataset": findings["dataset"], "row": row})
    return findings.loc[order.sort_values(["rank", "rule_id", "dataset", "row"], kind="stable").index]


def summary(findings: pd.DataFrame, titles: Mapping[str, str] | None = None) -> pd.DataFrame:
    """One row per rule and dataset: severity, title and the number of findings."""
    counts = findings.groupby(["rule_id", "severity", "dataset"], dropna=False).size().reset_index(name="count")
    counts.insert(3, "title", counts["rule_id"].map(dict(titles or {})).fillna(""))
    rank = counts["severity"].map(SEVERITY_ORDER)
    return (
        counts.assign(_rank=rank)
        .sort_values(["_rank", "rule_id", "dataset"])
        .drop(columns="_rank")
        .reset_index(drop=True)
    )


def json_records(findings: pd.DataFrame) -> list[dict[str, object]]:
    frame = findings[FINDING_COLUMNS].astype(object).where(findings[FINDING_COLUMNS].notna(), None)
    records = frame.to_dict("records")
    for record in records:  # row numbers are ints in JSON, not floats
        if record["row"] is not None:
            record["row"] = int(record["row"])
    return records


def neutralise(value: object) -> object:
    """Make text that a spreadsheet would evaluate (=HYPERLINK(...)) plain text."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def write_json(findings: pd.DataFrame, path: Path) -> Path:
    path.write_text(json.dumps(json_records(findings), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def write_csv(findings: pd.DataFrame, path: Path) -> Path:
    safe = neutralise_frame(findings[FINDING_COLUMNS])
    safe["row"] = pd.to_numeric(findings["row"], errors="coerce").astype("Int64")
    safe.to_csv(path, index=False, encoding="utf-8")
    return path


def _sheet(workbook: Workbook, title: str, frame: pd.DataFrame) -> None:
    sheet = workbook.create_sheet(title)
    sheet.append([c.replace("_", " ").title() for c in frame.columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    # openpyxl writes cell by cell; there is no column-wise API to hand the table to.
    for record in frame.astype(object).where(frame.notna(), None).to_numpy().tolist():
        sheet.append([neutralise(v) for v in record])
    severity_column = list(frame.columns).index("severity") + 1 if "severity" in frame.columns else None
    if severity_column:
        for (cell,) in sheet.iter_rows(min_row=2, min_col=severity_column, max_col=severity_column):
            if cell.value in SEVERITY_FILL:
                cell.fill = PatternFill("solid", fgColor=SEVERITY_FILL[cell.value])
    for index, name in enumerate(frame.columns, start=1):
        longest = max([len(str(name)), *frame[name].astype("string").fillna("").str.len().tolist()[:2000]])
        sheet.column_dimensions[get_column_letter(index)].width = min(max(10, longest + 2), 80)
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions


def write_xlsx(findings: pd.DataFrame, path: Path, titles: Mapping[str, str] | None = None) -> Path:
    workbook = Workbook()
    workbook.remove(workbook.active)
    _sheet(workbook, "Summary", summary(findings, titles))
    details = ordered(findings)[FINDING_COLUMNS].copy()
    details["row"] = pd.to_numeric(details["row"], errors="coerce").astype("Int64")
    _sheet(workbook, "Details", details)
    workbook.save(path)
    return path


def _table(frame: pd.DataFrame, css_class: str) -> str:
    head = "".join(f"<th>{html.escape(c.replace('_', ' '))}</th>" for c in frame.columns)
    text = frame.astype(object).where(frame.notna(), "").astype(str).map(html.escape)
    severity = frame["severity"].astype(str) if "severity" in frame.columns else pd.Series("", index=frame.index)
    cells = text.apply(lambda column: "<td>" + column + "</td>")
    rows = '<tr class="' + severity.str.lower().to_numpy() + '">' + cells.sum(axis=1).to_numpy() + "</tr>"
    return f'<table class="{css_class}"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


PAGE_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin-bottom: 2em; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: left; vertical-align: top; }
th { background: #eee; position: sticky; top: 0; }
tr.error td:nth-child(2), tr.error td:first-child { background: #f8d7da; }
tr.warning td:nth-child(2), tr.warning td:first-child { background: #fff3cd; }
tr.notice td:nth-child(2), tr.notice td:first-child { background: #d1ecf1; }
"""


def write_html(
    findings: pd.DataFrame, path: Path, title: str = "Conformance findings", titles: Mapping[str, str] | None = None
) -> Path:
    counts = findings["severity"].value_counts()
    totals = ", ".join(f"{counts.get(str(s), 0)} {s}{'s' if counts.get(str(s), 0) != 1 else ''}" for s in Severity)
    summary_frame = summary(findings, titles)[["severity", "rule_id", "title", "dataset", "count"]]
    details = ordered(findings)[FINDING_COLUMNS].copy()
    details["row"] = pd.to_numeric(details["row"], errors="coerce").astype("Int64")
    page = (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{PAGE_STYLE}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><p>{len(findings)} findings: {totals}.</p>"
        f"<h2>Summary by rule and dataset</h2>{_table(summary_frame, 'summary')}"
        f"<h2>Details</h2>{_table(details[['severity', *[c for c in FINDING_COLUMNS if c != 'severity']]], 'details')}"
        "</body></html>\n"
    )
    path.write_text(page, encoding="utf-8")
    return path


def write_findings_reports(
    findings: pd.DataFrame,
    folder: Path,
    *,
    title: str = "Conformance findings",
    titles: Mapping[str, str] | None = None,
) -> FindingsReport:
    """Write findings.json, findings.csv, findings.xlsx and findings.html into `folder`.

    `titles` maps rule IDs to rule titles for the summaries (default: the shipped rules).
    """
    if titles is None:
        from cdisc_cup.rules.loader import shipped_rules

        titles = {r.rule_id: r.title for r in shipped_rules()}
    folder.mkdir(parents=True, exist_ok=True)
    return FindingsReport(
        json=write_json(findings, folder / "findings.json"),
        csv=write_csv(findings, folder / "findings.csv"),
        xlsx=write_xlsx(findings, folder / "findings.xlsx", titles),
        html=write_html(findings, folder / "findings.html", title, titles),
    )
