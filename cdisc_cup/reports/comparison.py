"""The report of `cdisc-cup compare`: a terminal summary, compare.html to read, compare.json to process.

Laid out as PROC COMPARE and diffdf report, so a programmer finds things where they look for
them: the run (what was compared, how numbers and text were judged), one row per dataset,
then for each dataset that differs its attributes, the variables in one only, the attribute
differences, the records in one only (by key), and per variable the values that differ,
with the first `max_examples` examples (keys, base value, compare value). Counts are always
complete; only the examples are cut.

`compare.json` is the contract::

    {"run": {"tool", "base", "compare", "numbers", "text", "max_examples", "created", "command"},
     "summary": {"equal", "datasets_compared", "datasets_different",
                 "datasets_only_in_base", "datasets_only_in_compare"},
     "datasets_only_in_base": [{"name", "label", "records", "variables", "file", "folder"}, ...],
     "datasets_only_in_compare": [...],
     "datasets": [{"folder", "name", "equal", "differences": [text, ...], "base": {...}, "compare": {...},
                   "keys": {"variables", "source", "note"},
                   "dataset_attribute_differences": [{"attribute", "base", "compare"}, ...],
                   "variables_only_in_base": [...], "variables_only_in_compare": [...],
                   "variable_attribute_differences": [{"variable", "attribute", "base", "compare"}, ...],
                   "variables_not_compared": [{"variable", "reason"}, ...],
                   "duplicate_keys": [{"side", "records", "examples": [...]}, ...],
                   "records_only_in_base": {"count", "examples": [{key: value, ...}, ...]},
                   "records_only_in_compare": {...},
                   "records_compared", "variables_compared", "refused",
                   "value_differences": [{"variable", "type", "count", "max_difference",
                                          "examples": [{key..., "base", "compare", "difference"}]}]}]}
"""

from __future__ import annotations

import html
import json
from dataclasses import asdict
from pathlib import Path

import pandas as pd

from cdisc_cup.comparison import BASE, COMPARE, Comparison, DatasetComparison, DatasetSide, RecordsInOne
from cdisc_cup.reports.page import escaped, html_table, label_value_table, standalone_page

HTML_NAME = "compare.html"
JSON_NAME = "compare.json"
REPORT_FILES = (HTML_NAME, JSON_NAME)
TEXT_RULE = "compared without trailing blanks, as SAS compares text; a missing Char value is blank in XPT"
# Differences listed per dataset on the terminal; the reports hold them all.
TERMINAL_LINES = 10


def numbers_rule(comparison: Comparison) -> str:
    tolerance = comparison.tolerance
    shown = {
        "exact": "equal only when identical (PROC COMPARE METHOD=EXACT)",
        "absolute": f"equal when |compare - base| <= {tolerance.value:g} (METHOD=ABSOLUTE)",
        "relative": f"equal when |compare - base| / mean(|base|, |compare|) <= {tolerance.value:g} (METHOD=RELATIVE)",
    }[str(tolerance.method)]
    return f"{shown}; missing equals only missing, .A only .A"


def _frame_records(frame: pd.DataFrame) -> list[dict[str, object]]:
    """A small table as JSON-ready dicts (numpy integers as plain ints)."""
    return json.loads(frame.to_json(orient="records", force_ascii=False))


def _only_records(dataset: DatasetComparison, side_name: str) -> RecordsInOne | None:
    return next((r for r in dataset.records_only if r.side == side_name), None)


def _only_document(found: RecordsInOne | None) -> dict[str, object]:
    if found is None:
        return {"count": 0, "examples": []}
    return {"count": found.count, "examples": _frame_records(found.examples)}


def dataset_document(dataset: DatasetComparison) -> dict[str, object]:
    return {
        "folder": dataset.base.folder,
        "name": dataset.name,
        "equal": dataset.equal,
        "differences": dataset.differences(),
        "base": asdict(dataset.base),
        "compare": asdict(dataset.compare),
        "keys": {
            "variables": list(dataset.keys.variables),
            "source": str(dataset.keys.source),
            "note": dataset.keys.note,
        },
        "dataset_attribute_differences": [
            {"attribute": d.attribute, "base": d.base, "compare": d.compare} for d in dataset.dataset_differences
        ],
        "variables_only_in_base": list(dataset.variables_only_in_base),
        "variables_only_in_compare": list(dataset.variables_only_in_compare),
        "variable_attribute_differences": [asdict(d) for d in dataset.attribute_differences],
        "variables_not_compared": [{"variable": name, "reason": why} for name, why in dataset.not_compared],
        "duplicate_keys": [
            {"side": d.side, "records": d.records, "examples": _frame_records(d.examples)} for d in dataset.duplicates
        ],
        "records_only_in_base": _only_document(_only_records(dataset, BASE)),
        "records_only_in_compare": _only_document(_only_records(dataset, COMPARE)),
        "records_compared": dataset.records_compared,
        "variables_compared": dataset.variables_compared,
        "refused": dataset.refused,
        "value_differences": [
            {
                "variable": d.variable,
                "type": d.type,
                "count": d.count,
                "max_difference": d.max_difference,
                "examples": _frame_records(d.examples),
            }
            for d in dataset.value_differences
        ],
    }


def json_text(comparison: Comparison) -> str:
    document = {
        "run": {
            "tool": comparison.tool,
            "base": comparison.base,
            "compare": comparison.compare,
            "numbers": numbers_rule(comparison),
            "text": TEXT_RULE,
            "max_examples": comparison.max_examples,
            "created": comparison.created,
            "command": comparison.command,
        },
        "summary": {
            "equal": comparison.equal,
            "datasets_compared": len(comparison.datasets),
            "datasets_different": sum(not d.equal for d in comparison.datasets),
            "datasets_only_in_base": len(comparison.datasets_only_in_base),
            "datasets_only_in_compare": len(comparison.datasets_only_in_compare),
        },
        "datasets_only_in_base": [asdict(d) for d in comparison.datasets_only_in_base],
        "datasets_only_in_compare": [asdict(d) for d in comparison.datasets_only_in_compare],
        "datasets": [dataset_document(d) for d in comparison.datasets],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def verdict(comparison: Comparison) -> str:
    """One sentence: equal, or what differs."""
    different = [d.title for d in comparison.datasets if not d.equal]
    only = [
        f"{len(sides)} dataset{'s' if len(sides) != 1 else ''} only in {where}"
        for sides, where in ((comparison.datasets_only_in_base, BASE), (comparison.datasets_only_in_compare, COMPARE))
        if sides
    ]
    if comparison.equal:
        count = len(comparison.datasets)
        return f"No differences: {count} dataset{'s' if count != 1 else ''} compared, all equal."
    parts = (
        [f"{len(different)} of {len(comparison.datasets)} datasets differ ({', '.join(different)})"]
        if different
        else []
    )
    return "Differences found: " + "; ".join(parts + only) + "."


def terminal_summary(comparison: Comparison) -> str:
    """What the CLI prints: one line per dataset, its first differences, and the verdict."""
    lines = [f"base:    {comparison.base}", f"compare: {comparison.compare}", f"numbers: {numbers_rule(comparison)}"]
    width = max([len(d.title) for d in comparison.datasets] + [8])
    for dataset in comparison.datasets:
        found = dataset.differences()
        state = "equal" if not found else f"{len(found)} difference{'s' if len(found) != 1 else ''}"
        lines.append(
            f"  {dataset.title:<{width}} {state:<15} {dataset.records_compared} records compared, keys {dataset.keys}"
        )
        lines += [f"  {'':<{width}}   - {line}" for line in found[:TERMINAL_LINES]]
        if len(found) > TERMINAL_LINES:
            lines.append(f"  {'':<{width}}   … and {len(found) - TERMINAL_LINES} more (see the report)")
        lines += [
            f"  {'':<{width}}   ! {d.records} records of the {d.side} share a key value with another"
            for d in dataset.duplicates
        ]
    for sides, where in ((comparison.datasets_only_in_base, BASE), (comparison.datasets_only_in_compare, COMPARE)):
        lines += [f"  {s.title:<{width}} only in {where} ({s.file})" for s in sides]
    lines.append(verdict(comparison))
    return "\n".join(lines)


def _anchor(name: str) -> str:
    return f"dataset-{html.escape(name)}"


DATASET_TABLE_COLUMNS = [
    "dataset",
    "result",
    "base_label",
    "compare_label",
    "base_records",
    "compare_records",
    "base_variables",
    "compare_variables",
    "records_compared",
    "keys",
]


def _sides_table(comparison: Comparison) -> pd.DataFrame:
    rows = []
    for dataset in comparison.datasets:
        found = dataset.differences()
        rows.append(
            {
                "dataset": dataset.title,
                "result": "equal" if not found else f"{len(found)} difference{'s' if len(found) != 1 else ''}",
                "base_label": dataset.base.label,
                "compare_label": dataset.compare.label,
                "base_records": dataset.base.records,
                "compare_records": dataset.compare.records,
                "base_variables": dataset.base.variables,
                "compare_variables": dataset.compare.variables,
                "records_compared": dataset.records_compared,
                "keys": str(dataset.keys),
            }
        )
    for sides, where in ((comparison.datasets_only_in_base, BASE), (comparison.datasets_only_in_compare, COMPARE)):
        for found in sides:
            rows.append(_only_row(found, where))
    return pd.DataFrame(rows, columns=DATASET_TABLE_COLUMNS).astype("string").fillna("")


def _only_row(found: DatasetSide, where: str) -> dict[str, object]:
    prefix = BASE if where == BASE else COMPARE
    return {
        "dataset": found.title,
        "result": f"only in {where}",
        f"{prefix}_label": found.label,
        f"{prefix}_records": found.records,
        f"{prefix}_variables": found.variables,
    }


def _table(frame: pd.DataFrame, css_class: str) -> str:
    return html_table(frame.astype("string").fillna(""), css_class)


def _shown(count: int, examples: pd.DataFrame, one: str, many: str) -> str:
    """ "5 values differ (the first 3 listed)." """
    listed = len(examples)
    first = f" (the first {listed} listed)" if listed < count else ""
    return f"<p>{count} {one if count == 1 else many}{first}.</p>"


def _dataset_section(dataset: DatasetComparison) -> str:
    heading = f"{html.escape(dataset.title)}: {html.escape(dataset.base.label)}"
    parts = [f'<section id="{_anchor(dataset.title)}"><h2>{heading}</h2>']
    keys = f"<p>Records matched by {html.escape(str(dataset.keys))}"
    keys += f". {html.escape(dataset.keys.note)}" if dataset.keys.note else ""
    parts.append(
        keys + f". {dataset.records_compared} records and {dataset.variables_compared} variables compared.</p>"
    )
    found = dataset.differences()
    if found:
        parts.append("<ul>" + "".join(f"<li>{html.escape(line)}</li>" for line in found) + "</ul>")
    if dataset.dataset_differences:
        table = pd.DataFrame(
            [(d.attribute, d.base, d.compare) for d in dataset.dataset_differences],
            columns=["attribute", BASE, COMPARE],
        )
        parts.append(f"<h3>Dataset attributes</h3>{_table(table, 'attributes')}")
    for names, where in ((dataset.variables_only_in_base, BASE), (dataset.variables_only_in_compare, COMPARE)):
        if names:
            parts.append(f"<h3>Variables only in {where}</h3><p>{html.escape(', '.join(names))}</p>")
    if dataset.attribute_differences:
        table = pd.DataFrame([asdict(d) for d in dataset.attribute_differences])
        parts.append(f"<h3>Variable attributes that differ</h3>{_table(table, 'attributes')}")
    if dataset.not_compared:
        table = pd.DataFrame(list(dataset.not_compared), columns=["variable", "reason"])
        parts.append(f"<h3>Variables whose values were not compared</h3>{_table(table, 'not-compared')}")
    if dataset.refused:
        parts.append(f"<p>No values were compared: {html.escape(dataset.refused)}.</p>")
    for duplicate in dataset.duplicates:
        parts.append(
            f"<h3>Duplicate keys in {duplicate.side}</h3><p>{duplicate.records} records share their key value with "
            "another record; the records of one key value are matched in their order (key + occurrence).</p>"
            f"{_table(duplicate.examples, 'duplicates')}"
        )
    for only in dataset.records_only:
        parts.append(
            f"<h3>Records only in {only.side}</h3>{_shown(only.count, only.examples, 'record', 'records')}"
            f"{_table(only.examples, 'records')}"
        )
    if dataset.value_differences:
        summary = pd.DataFrame(
            {
                "variable": [d.variable for d in dataset.value_differences],
                "type": [d.type for d in dataset.value_differences],
                "values_that_differ": [d.count for d in dataset.value_differences],
                "max_difference": [
                    "" if d.max_difference is None else f"{d.max_difference:.6g}" for d in dataset.value_differences
                ],
            }
        )
        parts.append(f"<h3>Values that differ</h3>{_table(summary, 'values')}")
        for difference in dataset.value_differences:
            parts.append(
                f"<h4>{html.escape(difference.variable)}</h4>"
                f"{_shown(difference.count, difference.examples, 'value differs', 'values differ')}"
                f"{_table(difference.examples, 'examples')}"
            )
    parts.append("</section>")
    return "".join(parts)


def html_text(comparison: Comparison) -> str:
    detailed = [d for d in comparison.datasets if not d.equal or d.duplicates or d.keys.note]
    run = label_value_table(
        [
            ("Tool", comparison.tool),
            ("Base", comparison.base),
            ("Compare", comparison.compare),
            ("Numbers", numbers_rule(comparison)),
            ("Text", TEXT_RULE),
            ("Examples", f"at most {comparison.max_examples} per variable and list; the counts are complete"),
            ("Created", comparison.created),
            ("Command", comparison.command),
        ]
    )
    table = _sides_table(comparison)
    names = escaped(table["dataset"])
    has_section = table["dataset"].isin([d.title for d in detailed])
    links = ('<a href="#dataset-' + names + '">' + names + "</a>").where(has_section, names)
    nav = "".join(f'<a href="#{_anchor(d.title)}">{html.escape(d.title)}</a>' for d in detailed)
    body = (
        f'<nav><a href="#run">Run</a><a href="#datasets">Datasets</a>{nav}</nav>'
        f"<p>{html.escape(verdict(comparison))}</p>"
        f'<section id="run"><h2>Run</h2>{run}</section>'
        f'<section id="datasets"><h2>Datasets</h2>{html_table(table, "datasets", {"dataset": links})}</section>'
        + "".join(_dataset_section(d) for d in detailed)
    )
    return standalone_page("Dataset comparison", body)


def write_comparison_reports(comparison: Comparison, folder: Path) -> list[Path]:
    """compare.html and compare.json in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    written = [folder / HTML_NAME, folder / JSON_NAME]
    written[0].write_text(html_text(comparison), encoding="utf-8")
    written[1].write_text(json_text(comparison), encoding="utf-8")
    return written
