"""A folder of CSV datasets described by `_datasets.csv` and `_variables.csv` (CDISC CORE's
test-case layout, docs/test_data.md), read as the same `Dataset` objects an XPT folder gives.

`_datasets.csv` (Filename, Label) lists the datasets, `_variables.csv` (dataset, variable,
label, type, length) their variables, and `.env` the standard and version (PRODUCT=SDTMIG,
VERSION=3-4). Char values are text with missing as "" and Num values are numbers, as the
XPT reader returns them, so every rule sees a CSV case exactly as it would see the XPT file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from cdisc_cup.errors import InputErrors, Problem, display_path
from cdisc_cup.xpt.model import Dataset, XptVariable

DATASETS_FILE = "_datasets.csv"
VARIABLES_FILE = "_variables.csv"


@dataclass(frozen=True)
class CsvFolder:
    datasets: dict[str, Dataset]  # upper-case name -> dataset
    standard: str  # "sdtm" | "adam"
    version: str | None  # "3.4"


def is_csv_dataset_folder(folder: Path) -> bool:
    return (Path(folder) / DATASETS_FILE).is_file()


def read_env(folder: Path) -> tuple[str, str | None]:
    """The standard and IG version a case names in its .env (SDTMIG, 3-4 -> sdtm, 3.4)."""
    env = Path(folder) / ".env"
    values: dict[str, str] = {}
    if env.is_file():
        for line in env.read_text(encoding="utf-8").splitlines():
            key, sep, value = line.partition("=")
            if sep:
                values[key.strip().upper()] = value.strip().strip('"')
    product = values.get("PRODUCT", "SDTMIG").lower()
    version = values.get("VERSION", "").replace("-", ".") or None
    return ("adam" if product.startswith("adam") else "sdtm"), version


def _table(path: Path, columns: tuple[str, ...]) -> pd.DataFrame:
    if not path.is_file():
        raise InputErrors(
            [Problem(display_path(path), "missing: the folder's datasets are described there")], source="dataset folder"
        )
    table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    table.columns = [c.strip().lower() for c in table.columns]
    lacking = [c for c in columns if c not in table.columns]
    if lacking:
        raise InputErrors(
            [Problem(display_path(path), f"no column {', '.join(lacking)}", line=1, expected=", ".join(columns))],
            source="dataset folder",
        )
    return table


def read_csv_folder(folder: Path) -> CsvFolder:
    """Every dataset `_datasets.csv` lists, typed and labelled as `_variables.csv` says."""
    folder = Path(folder)
    listed = _table(folder / DATASETS_FILE, ("filename", "label"))
    described = _table(folder / VARIABLES_FILE, ("dataset", "variable", "label", "type", "length"))
    problems: list[Problem] = []
    datasets: dict[str, Dataset] = {}
    for line, (filename, label) in enumerate(zip(listed["filename"], listed["label"], strict=True), start=2):
        stem = Path(filename.strip()).stem
        path = folder / f"{stem}.csv"
        if not path.is_file():
            problems.append(
                Problem(
                    display_path(folder / DATASETS_FILE),
                    f"lists {filename}, but there is no {path.name}",
                    line=line,
                    column="Filename",
                    value=filename,
                )
            )
            continue
        metadata = described[described["dataset"].str.strip().str.lower() == stem.lower()]
        datasets[stem.upper()] = _dataset(path, stem.upper(), label, metadata, problems)
    if problems:
        raise InputErrors(problems, source="dataset folder")
    standard, version = read_env(folder)
    return CsvFolder(datasets, standard, version)


def _dataset(path: Path, name: str, label: str, metadata: pd.DataFrame, problems: list[Problem]) -> Dataset:
    raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    names = metadata["variable"].str.strip()
    kinds = dict(zip(names, metadata["type"].str.strip(), strict=True))
    lengths = dict(zip(names, metadata["length"].str.strip(), strict=True))
    labels = dict(zip(names, metadata["label"], strict=True))
    frame = pd.DataFrame(index=raw.index)
    variables = []
    for column in raw.columns:
        kind = "Num" if kinds.get(column, "Char").lower() in ("num", "numeric", "float", "integer") else "Char"
        if kind == "Num":
            text = raw[column].str.strip()
            numbers = pd.to_numeric(text.where(text != "", None), errors="coerce")
            bad = numbers.isna() & (text != "")
            if bad.any():
                first = int(bad.to_numpy().argmax())
                problems.append(
                    Problem(
                        display_path(path),
                        f"{column} is Num, but a value is not a number",
                        line=first + 2,
                        column=column,
                        value=text.iloc[first],
                    )
                )
            frame[column] = numbers.astype(float)
        else:
            frame[column] = raw[column].astype("string")
        length = lengths.get(column, "")
        variables.append(
            XptVariable(
                name=column,
                label=labels.get(column, ""),
                type=kind,
                length=8
                if kind == "Num"
                else int(length)
                if length.isdigit()
                else max(1, int(raw[column].str.len().max() or 1)),
            )
        )
    return Dataset(name=name, label=label, frame=frame, variables=tuple(variables), path=path)
