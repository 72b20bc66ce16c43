"""Findings written for people and machines: JSON, CSV, an Excel workbook, a standalone HTML page.

The JSON is the contract (`findings.json`: a list of objects with exactly the keys of
`FINDING_COLUMNS`); it and the CSV always hold every finding. The workbook follows the layout
reviewers know from conformance tools: a Summary sheet (one row per rule and dataset with its
count) and a Details sheet (one row per finding). Like the "message limit" of Pinnacle 21
Community's Excel report, the Details of the workbook and the HTML page list at most
`DETAILS_PER_RULE` findings of each Summary row, and the Summary says how many are shown: a
messy study of 100,000 patients can produce hundreds of thousands of findings of one rule,
which no one reads one by one but which would take minutes to lay out and make files that
Excel and browsers struggle to open. Spreadsheet cells that start with = + - @ are prefixed
with an apostrophe so a value taken from the data can never run as a formula (CSV/formula
injection, OWASP).
"""

from __future__ import annotations

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

from cdisc_cup.findings import FINDING_COLUMNS, Severity
from cdisc_cup.reports.spreadsheet_safe import neutralise_frame, workbook_text_frame

if TYPE_CHECKING:
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

SEVERITY_ORDER = {str(s): -s.rank for s in Severity}
# Styles are made once and shared by every cell that carries them.
SEVERITY_FILL = {
    name: PatternFill("solid", fgColor=colour)
    for name, colour in {"Error": "F8D7DA", "Warning": "FFF3CD", "Notice": "D1ECF1"}.items()
}
HEADER_FONT = Font(bold=True)
# Findings of one rule and dataset (one Summary row) listed in the workbook's Details sheet and
# the HTML page; all of them are always in findings.csv and findings.json.
DETAILS_PER_RULE = 1000
SUMMARY_KEYS = ["rule_id", "severity", "dataset"]
# Column widths are measured on the first rows only: enough to size them, cheap for any count.
WIDTH_SAMPLE = 2000
HTML_ESCAPES = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&quot;"), ("'", "&#x27;"))


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
    counts = findings.groupby(SUMMARY_KEYS, dropna=False).size().reset_index(name="count")
    counts.insert(3, "title", counts["rule_id"].map(dict(titles or {})).fillna(""))
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


def details(findings: pd.DataFrame, details_per_rule: int) -> pd.DataFrame:
    """The findings in report order, at most `details_per_rule` of each rule and dataset."""
    listed = ordered(findings)
    first = listed.groupby(SUMMARY_KEYS, dropna=False, sort=False).cumcount() < details_per_rule
    table = listed.loc[first, FINDING_COLUMNS].copy()
    table["row"] = pd.to_numeric(table["row"], errors="coerce").astype("Int64")
    return table


def json_text(findings: pd.DataFrame) -> str:
    """The contract as text: one finding object per line, row numbers as integers, nulls as null.

    pandas encodes the whole table in C (json.dumps with an indent runs in pure Python, ten
    times slower). It writes one object per line, and a JSON string never holds a raw line
    break, so joining the lines with commas gives the list. It escapes "/" as "\\/"; outside
    the escape of a backslash ("\\\\") that pair only arises from a slash, so it is undone.
    """
    table = findings[FINDING_COLUMNS].assign(row=pd.to_numeric(findings["row"], errors="coerce").astype("Int64"))
    if table.empty:
        return "[]\n"
    lines = table.to_json(orient="records", lines=True, force_ascii=False, double_precision=15)
    return "[\n" + lines.rstrip("\n").replace("\n", ",\n").replace("\\/", "/") + "\n]\n"


def write_json(findings: pd.DataFrame, path: Path) -> Path:
    path.write_text(json_text(findings), encoding="utf-8")
    return path


def write_csv(findings: pd.DataFrame, path: Path) -> Path:
    safe = neutralise_frame(findings[FINDING_COLUMNS])
    safe["row"] = pd.to_numeric(findings["row"], errors="coerce").astype("Int64")
    safe.to_csv(path, index=False, encoding="utf-8")
    return path


def _width(name: str, values: pd.Series) -> float:
    longest = values.head(WIDTH_SAMPLE).astype("string").fillna("").str.len().max()
    return min(max(10, max(len(name), 0 if pd.isna(longest) else int(longest)) + 2), 80)


def _styled(sheet: WriteOnlyWorksheet, value: object, **style: object) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=value)
    for name, setting in style.items():
        setattr(cell, name, setting)
    return cell


def _sheet(workbook: Workbook, title: str, frame: pd.DataFrame) -> None:
    """One table as a sheet: bold header, frozen and filterable, severity cells filled.

    The workbook is write-only (rows stream to the file, no cell objects kept), so widths,
    panes and the filter are set before the rows; only header and severity cells carry a style.
    """
    sheet = workbook.create_sheet(title)
    for index, name in enumerate(frame.columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = _width(str(name), frame[name])
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(frame.columns))}{len(frame) + 1}"
    sheet.append([_styled(sheet, c.replace("_", " ").title(), font=HEADER_FONT) for c in frame.columns])
    safe = workbook_text_frame(frame)
    records = safe.astype(object).where(safe.notna(), None).to_numpy().tolist()
    severity = list(frame.columns).index("severity") if "severity" in frame.columns else None
    # openpyxl takes a workbook row by row; there is no column-wise API to hand the table to.
    for record in records:
        if severity is not None and record[severity] in SEVERITY_FILL:
            record[severity] = _styled(sheet, record[severity], fill=SEVERITY_FILL[record[severity]])
        sheet.append(record)


def write_xlsx(
    findings: pd.DataFrame,
    path: Path,
    titles: Mapping[str, str] | None = None,
    *,
    details_per_rule: int = DETAILS_PER_RULE,
) -> Path:
    workbook = Workbook(write_only=True)
    _sheet(workbook, "Summary", shown_summary(findings, titles, details_per_rule))
    _sheet(workbook, "Details", details(findings, details_per_rule))
    workbook.save(path)
    return path


def _escaped(values: pd.Series) -> pd.Series:
    """html.escape of a whole column (missing values as empty cells)."""
    text = values.astype("string").fillna("")
    return reduce(lambda column, pair: column.str.replace(*pair, regex=False), HTML_ESCAPES, text)


def _table(frame: pd.DataFrame, css_class: str) -> str:
    head = "".join(f"<th>{c.replace('_', ' ')}</th>" for c in _escaped(pd.Series(frame.columns)))
    severity = frame["severity"] if "severity" in frame.columns else pd.Series("", index=frame.index)
    row_class = '<tr class="' + _escaped(severity).str.lower() + '">'
    cells = [("<td>" + _escaped(frame[column]) + "</td>") for column in frame.columns]
    rows = reduce(lambda left, right: left + right, cells, row_class) + "</tr>"
    return f'<table class="{css_class}"><thead><tr>{head}</tr></thead><tbody>{rows.str.cat()}</tbody></table>'


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
    findings: pd.DataFrame,
    path: Path,
    title: str = "Conformance findings",
    titles: Mapping[str, str] | None = None,
    *,
    details_per_rule: int = DETAILS_PER_RULE,
) -> Path:
    counts = findings["severity"].value_counts()
    totals = ", ".join(f"{counts.get(str(s), 0)} {s}{'s' if counts.get(str(s), 0) != 1 else ''}" for s in Severity)
    table = shown_summary(findings, titles, details_per_rule)
    listed = details(findings, details_per_rule)
    heading = _escaped(pd.Series([title])).iloc[0]
    page = (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{heading}</title>'
        f"<style>{PAGE_STYLE}</style></head><body>"
        f"<h1>{heading}</h1><p>{len(findings)} findings: {totals}.</p>"
        "<h2>Summary by rule and dataset</h2>"
        f"{_table(table[['severity', 'rule_id', 'title', 'dataset', 'count', 'in_details', 'note']], 'summary')}"
        f"<h2>Details</h2>{_details_notice(table, details_per_rule)}"
        f"{_table(listed[['severity', *[c for c in FINDING_COLUMNS if c != 'severity']]], 'details')}"
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
    details_per_rule: int = DETAILS_PER_RULE,
) -> FindingsReport:
    """Write findings.json, findings.csv, findings.xlsx and findings.html into `folder`.

    `titles` maps rule IDs to rule titles for the summaries (default: the shipped rules).
    The workbook and the HTML page list at most `details_per_rule` findings of each rule and
    dataset; the JSON and CSV hold them all.
    """
    if titles is None:
        from cdisc_cup.rules.loader import shipped_rules

        titles = {r.rule_id: r.title for r in shipped_rules()}
    folder.mkdir(parents=True, exist_ok=True)
    return FindingsReport(
        json=write_json(findings, folder / "findings.json"),
        csv=write_csv(findings, folder / "findings.csv"),
        xlsx=write_xlsx(findings, folder / "findings.xlsx", titles, details_per_rule=details_per_rule),
        html=write_html(findings, folder / "findings.html", title, titles, details_per_rule=details_per_rule),
    )
