"""Nothing lost: every raw record is accounted for, and every SDTM record traced back.

For each raw file: records read, records mapped (used by at least one SDTM dataset, and
by which), records not mapped with the reason, and the columns the contract does not know.
`raw rows = mapped + not mapped` holds by construction and is asserted by the tests. The
trace (dataset, record number, USUBJID, --SEQ, raw file, line) goes to the audit folder,
not into the submission datasets.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
from pyarrow import csv as pa_csv

from cdisc_cup.provenance import LINE, SOURCE_FILE, RawTable
from cdisc_cup.reports.spreadsheet_safe import neutralise_frame
from cdisc_cup.reports.text_csv import write_text_csv

RECONCILIATION_COLUMNS = [
    "file",
    "rows_read",
    "rows_mapped",
    "rows_not_mapped",
    "datasets",
    "extra_columns",
    "not_mapped_lines",
]


def _lines_used(sdtm: Mapping[str, pd.DataFrame], file_name: str) -> dict[str, pd.Series]:
    """Per dataset, the raw lines of `file_name` its records came from (one per record)."""
    used = {}
    for name, frame in sdtm.items():
        # Records made from SDTM datasets or from the spec (SE, TS) have no raw file.
        lines = frame.loc[frame[SOURCE_FILE].eq(file_name).fillna(False).astype(bool), LINE]
        if len(lines):
            used[name] = lines
    return used


def _records_text(name: str, lines: pd.Series) -> str:
    """ "VS 36 records (from 18 lines)": a raw line can give several records (one per test)."""
    distinct = lines.nunique()
    text = f"{name} {len(lines)} record{'s' if len(lines) != 1 else ''}"
    return text if distinct == len(lines) else f"{text} (from {distinct} lines)"


@dataclass(frozen=True)
class Reconciliation:
    """The account of the raw records, made right after mapping so the raw export can be let go."""

    summary: pd.DataFrame  # RECONCILIATION_COLUMNS, one row per raw file
    datasets: pd.DataFrame  # DATASET_ACCOUNT_COLUMNS, one row per SDTM dataset: its records by raw file
    # The SDTM datasets with their trace columns (the conversion holds them anyway): the audit
    # trail is written from them dataset by dataset, never held as one frame of every record.
    records: Mapping[str, pd.DataFrame]
    extra_columns: dict[str, pd.DataFrame]  # raw file -> its lines and the columns no spec reads


def reconcile(raw: Mapping[str, RawTable], sdtm: Mapping[str, pd.DataFrame]) -> Reconciliation:
    extra = {
        table.spec.file: table.frame[[LINE, *table.extra_columns]].rename(columns={LINE: "line"})
        for table in raw.values()
        if table.extra_columns
    }
    return Reconciliation(summary(raw, sdtm), dataset_accounts(sdtm), sdtm, extra)


def summary(raw: Mapping[str, RawTable], sdtm: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    rows = []
    for table in raw.values():
        used = _lines_used(sdtm, table.spec.file)
        all_used = pd.Index(pd.concat(list(used.values())).unique()) if used else pd.Index([])
        lines = table.frame[LINE]
        mapped = lines.isin(all_used)
        rows.append(
            {
                "file": table.spec.file,
                "rows_read": len(lines),
                "rows_mapped": int(mapped.sum()),
                "rows_not_mapped": int((~mapped).sum()),
                "datasets": ", ".join(_records_text(name, lines_of) for name, lines_of in used.items()),
                "extra_columns": ", ".join(table.extra_columns),
                "not_mapped_lines": ", ".join(lines[~mapped].astype(str)),
            }
        )
    return pd.DataFrame(rows, columns=RECONCILIATION_COLUMNS)


DATASET_ACCOUNT_COLUMNS = ["dataset", "records", "sources"]
NO_RAW_FILE = "(no raw file)"


def dataset_accounts(sdtm: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Each SDTM dataset's records by the raw file they came from; the counts add up to the
    dataset's records (DS: consent from patients.csv, end of treatment and deaths from
    end_of_treatment.csv). Records made from other SDTM datasets (SE, SV) or defined in the
    spec (TS, TA, TE, TV, TI) have no raw file."""
    rows = []
    for name, frame in sdtm.items():
        # Counted on the column's codes (a byte per record), in order of first appearance.
        files, names = pd.factorize(frame[SOURCE_FILE], use_na_sentinel=False)
        counts = np.bincount(files, minlength=len(names))
        sources = ", ".join(
            f"{NO_RAW_FILE if pd.isna(file) else file} {count}" for file, count in zip(names, counts, strict=True)
        )
        rows.append({"dataset": name, "records": len(frame), "sources": sources})
    return pd.DataFrame(rows, columns=DATASET_ACCOUNT_COLUMNS)


TRACE_SCHEMA = pa.schema(
    [
        ("dataset", pa.string()),
        ("record", pa.int64()),
        ("usubjid", pa.string()),
        ("seq", pa.float64()),
        ("raw_file", pa.string()),
        ("raw_line", pa.int64()),
    ]
)


def trace(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Each record of one SDTM dataset -> raw file and line (its part of the audit trail)."""
    seq = f"{name}SEQ" if f"{name}SEQ" in frame.columns else None
    return pd.DataFrame(
        {
            "dataset": name,
            "record": range(1, len(frame) + 1),
            "usubjid": frame["USUBJID"] if "USUBJID" in frame.columns else pd.NA,  # TS has none
            "seq": frame[seq] if seq else pd.NA,
            "raw_file": frame[SOURCE_FILE].astype("string"),
            "raw_line": frame[LINE],
        }
    )


def write_trace(records: Mapping[str, pd.DataFrame], path: Path) -> None:
    """The audit trail, one dataset at a time, by pyarrow (C; pandas' `to_csv` formats each
    value in Python): at 100,000 patients it has 5.6 million records, which are never one
    frame. Text fields are quoted, numbers not, missing values empty."""
    with pa_csv.CSVWriter(path, TRACE_SCHEMA) as writer:
        for name, frame in records.items():
            part = pa.Table.from_pandas(neutralise_frame(trace(name, frame)), preserve_index=False)
            writer.write_table(part.cast(TRACE_SCHEMA))


def _html_table(frame: pd.DataFrame) -> str:
    head = "".join(f"<th>{html.escape(c.replace('_', ' '))}</th>" for c in frame.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in record) + "</tr>"
        for record in frame.astype(str).to_numpy().tolist()
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _html_page(reconciliation: Reconciliation) -> str:
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Raw record reconciliation</title>
<style>body{{font-family:system-ui,sans-serif;margin:2em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #bbb;padding:4px 8px;text-align:left;vertical-align:top}}th{{background:#eef}}</style>
</head><body><h1>Raw record reconciliation</h1>
<h2>Raw files</h2>
<p>Every record of the raw export: read = mapped to SDTM + not mapped. A raw line can give
several SDTM records (one per test of a findings domain, one per qualifier of SUPP--).</p>
{_html_table(reconciliation.summary)}
<h2>SDTM datasets</h2>
<p>Each dataset's records by the raw file they came from; the counts add up to its records.</p>
{_html_table(reconciliation.datasets)}</body></html>
"""


def write_reconciliation(reconciliation: Reconciliation, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    audit = folder / "audit"
    audit.mkdir(exist_ok=True)
    paths = [
        folder / "reconciliation.csv",
        folder / "reconciliation.json",
        folder / "reconciliation.html",
        audit / "trace.csv",
    ]
    summary_frame = reconciliation.summary
    neutralise_frame(summary_frame).to_csv(paths[0], index=False)
    document = {
        "raw_files": summary_frame.to_dict(orient="records"),
        "datasets": reconciliation.datasets.to_dict(orient="records"),
    }
    paths[1].write_text(json.dumps(document, indent=2), encoding="utf-8")
    paths[2].write_text(_html_page(reconciliation), encoding="utf-8")
    write_trace(reconciliation.records, paths[3])
    for file_name, extra in reconciliation.extra_columns.items():
        path = audit / f"extra_columns_{Path(file_name).stem}.csv"
        write_text_csv(neutralise_frame(extra), path)
        paths.append(path)
    return paths
