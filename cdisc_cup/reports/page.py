"""What the HTML reports share: one look, one run header, escaping done column-wise.

A reviewer files these pages with a submission and opens them years later, offline, maybe
from a zip: so every page is one standalone file (inline CSS, no script, no external
resource) and every piece of text from the data or the command line is escaped, since a
value in a dataset can hold `<script>`.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from functools import reduce

import pandas as pd

from cdisc_cup.findings import RunInfo

HTML_ESCAPES = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&quot;"), ("'", "&#x27;"))

PAGE_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; line-height: 1.4; }
h1 { margin-bottom: 0.2em; }
nav { margin-bottom: 1.5em; color: #555; }
nav a { margin-right: 1em; }
a { color: #0b5cad; }
table { border-collapse: collapse; margin-bottom: 2em; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: left; vertical-align: top; }
th { background: #eee; position: sticky; top: 0; }
table.run th { position: static; width: 12em; }
tr.error td:nth-child(2), tr.error td:first-child { background: #f8d7da; }
tr.warning td:nth-child(2), tr.warning td:first-child { background: #fff3cd; }
tr.notice td:nth-child(2), tr.notice td:first-child { background: #d1ecf1; }
section.rule { border: 1px solid #ccc; border-left: 0.4em solid #ccc; padding: 0.2em 1em; margin-bottom: 0.8em; }
section.rule h3 { margin: 0.4em 0; font-size: 1em; }
section.rule dl { display: grid; grid-template-columns: 9em 1fr; gap: 0.15em 1em; margin: 0.4em 0; }
section.rule dt { color: #555; }
section.rule dd { margin: 0; }
section.rule.error { border-left-color: #e0a0a7; }
section.rule.warning { border-left-color: #e6cf7d; }
section.rule.notice { border-left-color: #8cc7d3; }
section.rule.status-failed { background: #fbeaea; }
section.rule.status-not-applicable { color: #555; }
section.rule:target { outline: 2px solid #0b5cad; }
span.status-failed { color: #a31515; font-weight: bold; }
ul.links { padding-left: 1.2em; }
ul.links li { margin-bottom: 0.3em; }
.muted { color: #666; }
"""


def escaped(values: pd.Series) -> pd.Series:
    """html.escape of a whole column (missing values as empty text)."""
    text = values.astype("string").fillna("")
    return reduce(lambda column, pair: column.str.replace(*pair, regex=False), HTML_ESCAPES, text)


def run_rows(run: RunInfo) -> list[tuple[str, str]]:
    """The run header as label and value, in the order a reviewer reads it, for every report."""
    return [
        ("Tool", f"{run.tool} {run.version}".strip()),
        ("Rule set", run.rule_set),
        ("Standards", ", ".join(run.standards)),
        ("Terminology", ", ".join(run.terminology)),
        ("Input", run.input),
        ("Study", run.study),
        ("Created", run.created),
        ("Command", run.command),
        *(("Note", note) for note in run.notes),
    ]


def label_value_table(rows: Sequence[tuple[str, object]]) -> str:
    """A two-column table of a few labelled values (the run header); small, so built row by row."""
    body = "".join(f"<tr><th>{html.escape(label)}</th><td>{html.escape(str(value))}</td></tr>" for label, value in rows)
    return f'<table class="run"><tbody>{body}</tbody></table>'


def html_table(frame: pd.DataFrame, css_class: str, markup: Mapping[str, pd.Series] | None = None) -> str:
    """A table built column-wise: every cell escaped, except the `markup` columns (already HTML).

    A `severity` column, when present, names each row's class so the page can colour it.
    """
    head = "".join(f"<th>{c.replace('_', ' ')}</th>" for c in escaped(pd.Series(frame.columns, dtype="object")))
    if "severity" in frame.columns:
        opening = '<tr class="' + escaped(frame["severity"]).str.lower() + '">'
    else:
        opening = pd.Series("<tr>", index=frame.index, dtype="string")
    prepared = dict(markup or {})
    cells = []
    for column in frame.columns:
        content = prepared[column] if column in prepared else escaped(frame[column])
        cells.append("<td>" + content + "</td>")
    rows = reduce(lambda left, right: left + right, cells, opening) + "</tr>"
    return f'<table class="{css_class}"><thead><tr>{head}</tr></thead><tbody>{rows.str.cat()}</tbody></table>'


def standalone_page(title: str, body: str) -> str:
    """The whole file: `title` is plain text, `body` is HTML already escaped by its builder."""
    heading = html.escape(title)
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{heading}</title>'
        f"<style>{PAGE_STYLE}</style></head><body><h1>{heading}</h1>{body}</body></html>\n"
    )
