"""Tables 1-3 as the paper prints them: a display grid, then HTML pages and CSV files.

A table is first laid out as a `Display` (title, column headers, rows of text with a row
kind for styling, footnotes); HTML and CSV are two renderings of the same grid, so they
cannot disagree. Percentages have one decimal of the ADSL safety population.
"""

from __future__ import annotations

import csv
import html
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

import pandas as pd

from cdisc_cup.spec.model import StudySpec
from cdisc_cup.tables.compute import (
    REASON_LABELS,
    TABLE1_FLAGS,
    TABLE1_HISTORY,
    TABLE1_MEASURES,
    PaperTables,
    compute_tables,
)
from cdisc_cup.tables.figure import figure_title, write_swimmer_plot

RowKind = Literal["section", "data", "total", "any"]


@dataclass(frozen=True)
class Row:
    label: str
    cells: tuple[str, ...] = ()
    kind: RowKind = "data"


@dataclass(frozen=True)
class Display:
    name: str  # file stem: table1
    title: str
    header: tuple[tuple[str, int], ...]  # (column heading, column span) under a group row
    groups: tuple[tuple[str, int], ...]  # group headings over the columns, with spans
    rows: tuple[Row, ...]
    footnotes: tuple[str, ...] = field(default=())


def n_pct(count: int, denominator: int) -> str:
    """`10 (55.6)`: count and percent of the denominator, one decimal."""
    percent = 100.0 * count / denominator if denominator else 0.0
    return f"{count} ({percent:.1f})"


def _number(value: float) -> str:
    return f"{value:g}"


def _median_range(summary: dict[str, float]) -> str:
    return f"{_number(summary['median'])} ({_number(summary['min'])}, {_number(summary['max'])})"


def table1_display(tables: PaperTables) -> Display:
    t, n = tables.table1, tables.denominator
    rows = [
        Row("Sex", ("N (%)",), "section"),
        Row("Female", (n_pct(t["sex"]["F"], n),)),
        Row("Male", (n_pct(t["sex"]["M"], n),)),
        Row("Measurements", ("Median (Min, Max)",), "section"),
        *(Row(label, (_median_range(t[key]),)) for key, _, label in TABLE1_MEASURES),
        Row("ECOG", ("N (%)",), "section"),
        *(Row(grade, (n_pct(count, n),)) for grade, count in t["ecog"].items()),
        Row("Disease history", ("Median (Min, Max)",), "section"),
        *(Row(label, (_median_range(t[key]),)) for key, _, label in TABLE1_HISTORY),
        Row("Pretreatments", ("N (%)",), "section"),
        *(Row(label, (n_pct(t[key], n),)) for key, _, label in TABLE1_FLAGS[:4]),
        Row("Concomitant medication/disease", ("N (%)",), "section"),
        *(Row(label, (n_pct(t[key], n),)) for key, _, label in TABLE1_FLAGS[4:]),
        Row("Total number of patients", (n_pct(n, n),), "total"),
    ]
    return Display(
        name="table1",
        title="Table 1. Baseline characteristics of the compassionate use program (CUP) for "
        f"{tables.treatment.lower()}.",
        groups=(("", 1), ("", 1)),
        header=(("Characteristic", 1), ("", 1)),
        rows=tuple(rows),
        footnotes=(
            "*bortezomib, carfilzomib, or ixazomib.",
            f"Safety population (ADSL.SAFFL = Y), N = {n}; percentages of N with one decimal.",
        ),
    )


def table2_display(tables: PaperTables) -> Display:
    t, n = tables.table2, tables.denominator
    rows = [Row("Any AE", tuple(str(t["any_row_events"][c]) for c in t["columns"]), "any")]
    current_soc = None
    for soc, pt, *counts in t["rows"]:
        if soc != current_soc:
            rows.append(Row(soc, (), "section"))
            current_soc = soc
        rows.append(Row(pt, tuple(n_pct(count, n) for count in counts)))
    return Display(
        name="table2",
        title=f"Table 2. Adverse reaction drug profile for {tables.treatment.lower()} in the CUP.",
        groups=(
            ("", 1),
            (f"AEs during {tables.treatment.lower()} treatment, n (%)", 2),
            ("Serious AEs, n (%)", 1),
            (f"AEs with a causal relationship to {tables.treatment.lower()}, n (%)", 2),
        ),
        header=(
            ("Treatment-emergent adverse events", 1),
            ("Any grade", 1),
            ("Grade ≥ 3", 1),
            ("All grades", 1),
            ("Any grade", 1),
            ("Grade ≥ 3", 1),
        ),
        rows=tuple(rows),
        footnotes=(
            f"{tables.treatment} (n = {n} patients, ADSL.SAFFL = Y). Treatment-emergent: ADAE.TRTEMFL = Y "
            "(onset from the first dose to 30 days after the last dose).",
            "Any AE: number of events. Rows by MedDRA system organ class and preferred term: "
            "patients with at least one event, n (% of N, one decimal).",
            f"{t['all_aes']} AEs in total; {t['pretreatment_serious_aes']} serious AE before the first dose "
            "is not treatment-emergent.",
        ),
    )


def table3_display(tables: PaperTables) -> Display:
    t, n = tables.table3, tables.denominator
    rows = [
        Row("Premature discontinuation", ("N (%)",), "section"),
        Row("Yes", (n_pct(t["premature_discontinuation"]["Y"], n),)),
        Row("No", (n_pct(t["premature_discontinuation"]["N"], n),)),
        Row("Reason for premature termination", ("N (%)",), "section"),
        *(Row(reason, (n_pct(count, n),)) for reason, count in t["reason"].items()),
        Row("Number of cycles received by patients*", ("N (%)",), "section"),
        *(Row(cycles, (n_pct(count, n),)) for cycles, count in t["patients_with_at_least_n_cycles"].items()),
        Row("Total number of patients", (n_pct(n, n),), "total"),
    ]
    return Display(
        name="table3",
        title="Table 3. Treatment exposure.",
        groups=(("", 1), ("", 1)),
        header=(("", 1), ("", 1)),
        rows=tuple(rows),
        footnotes=(
            "*Patients with at least n isatuximab cycles (ADSL.ISACYCN). The number of administered "
            "cycles was mainly determined by the regular end of the CUP on 31 January 2021.",
            "Reasons: ADSL.DCTREAS (" + ", ".join(f"{k} = {v}" for k, v in REASON_LABELS.items()) + ").",
        ),
    )


CSS = """
body { font-family: "Helvetica Neue", Arial, sans-serif; margin: 2em auto; max-width: 60em; color: #222; }
h1 { font-size: 1.1em; font-weight: 600; }
table { border-collapse: collapse; width: 100%; font-size: 0.92em; }
th, td { padding: 0.3em 0.6em; text-align: left; }
thead th { border-bottom: 1px solid #444; vertical-align: bottom; }
thead tr:first-child th { border-top: 2px solid #222; }
td + td, th + th { text-align: center; }
tr.section td { font-weight: 600; background: #eef3ee; }
tr.data td:first-child { padding-left: 1.6em; }
tr.any td, tr.total td { font-weight: 600; border-top: 1px solid #888; }
tbody tr:last-child td { border-bottom: 2px solid #222; }
p.footnote { font-size: 0.82em; color: #444; margin: 0.3em 0; }
nav a { margin-right: 1em; }
"""


def _html_page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


def display_html(display: Display) -> str:
    """A self-contained HTML page of one table (no external files, UTF-8)."""
    width = len(display.header)
    groups = ""
    if any(text for text, _ in display.groups):
        groups = (
            "<tr>"
            + "".join(f'<th colspan="{span}">{html.escape(text)}</th>' for text, span in display.groups)
            + "</tr>\n"
        )
    header = (
        "<tr>" + "".join(f'<th colspan="{span}">{html.escape(text)}</th>' for text, span in display.header) + "</tr>"
    )
    body = []
    for row in display.rows:
        cells = list(row.cells) + [""] * (width - 1 - len(row.cells))
        body.append(
            f'<tr class="{row.kind}"><td>{html.escape(row.label)}</td>'
            + "".join(f"<td>{html.escape(cell)}</td>" for cell in cells)
            + "</tr>"
        )
    footnotes = "\n".join(f'<p class="footnote">{html.escape(note)}</p>' for note in display.footnotes)
    table = (
        f"<h1>{html.escape(display.title)}</h1>\n<table>\n<thead>\n{groups}{header}\n</thead>\n<tbody>\n"
        + "\n".join(body)
        + f"\n</tbody>\n</table>\n{footnotes}"
    )
    return _html_page(display.title, table)


def write_csv(display: Display, path: Path) -> None:
    """The same grid as the HTML: row kind, label, cells; one header row of column names."""
    width = len(display.header)
    names = ["row_type", *(text or f"column_{i}" for i, (text, _) in enumerate(display.header))]
    if display.name == "table2":
        names = ["row_type", "term", "any_grade", "grade_ge3", "serious", "related_any_grade", "related_grade_ge3"]
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(names)
        for row in display.rows:
            writer.writerow([row.kind, row.label, *row.cells, *[""] * (width - 1 - len(row.cells))])


def _index_page(study: StudySpec, displays: list[Display], figure_stem: str) -> str:
    items = "".join(
        f'<li><a href="{d.name}.html">{html.escape(d.title)}</a> (<a href="{d.name}.csv">CSV</a>)</li>'
        for d in displays
    )
    body = (
        f"<h1>{html.escape(study.name)} ({html.escape(study.studyid)}): analysis output</h1>\n"
        f'<ul>{items}<li><a href="{figure_stem}.svg">{html.escape(figure_title(study))}</a>'
        f' (<a href="{figure_stem}.png">PNG</a>)</li></ul>\n'
        f'<img src="{figure_stem}.png" alt="Figure 1" style="max-width:100%">'
    )
    return _html_page(f"{study.studyid} tables", body)


def write_tables(study: StudySpec, adsl: pd.DataFrame, adae: pd.DataFrame, out_dir: Path) -> list[Path]:
    """Tables 1-3 (HTML + CSV), Figure 1 (PNG + SVG) and an index page, into `out_dir`."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tables = compute_tables(study, adsl, adae)
    displays = [
        replace(display, title=study.display_title(display.name, display.title))
        for display in (table1_display(tables), table2_display(tables), table3_display(tables))
    ]
    written: list[Path] = []
    for display in displays:
        page = out_dir / f"{display.name}.html"
        page.write_text(display_html(display), encoding="utf-8")
        sheet = out_dir / f"{display.name}.csv"
        write_csv(display, sheet)
        written += [page, sheet]
    written += write_swimmer_plot(study, adsl, out_dir / "figure1")
    index = out_dir / "index.html"
    index.write_text(_index_page(study, displays, "figure1"), encoding="utf-8")
    return [*written, index]
