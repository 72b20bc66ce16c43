"""SAS XPORT datasets read back with their metadata, in the writer's terms.

A dataset read here can be written again with `cdisc_cup.writers.xpt.write_xpt` unchanged:
same names, labels, lengths, formats and values. For that:

- Char values are always `str`; a blank value (CDISC null, which SAS cannot tell from a
  missing one) is the empty string "", never NaN, so `frame[col] == ""` finds nulls.
- Num values stay SAS numbers (float64, NaN = missing), dates included: a DATE9. variable
  holds days since 1960-01-01, a DATETIME20. one seconds since 1960-01-01T00:00:00. Converting
  them to dates is the caller's choice (`pd.to_datetime(x, unit="D", origin="1960-01-01")`),
  because a silent conversion would change what is written back.
- Special missing values (.A-.Z, ._) come back as `SpecialMissing` objects; a column holding
  any is of object dtype, the rest of its values floats.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat

# read_xport has no user_missing switch, but the parser it wraps has one and reads SAS
# special missing values from XPORT files; without it .A-.Z would come back as plain NaN.
from pyreadstat._readstat_parser import parser_entry_point

from cdisc_cup.errors import InputErrors, Problem, display_path
from cdisc_cup.writers.xpt import SpecialMissing, XptVariable, sas_numbers


@dataclass(frozen=True)
class LoadedDataset:
    """One XPT dataset: data plus the metadata needed to write it again or to check it."""

    name: str
    label: str
    frame: pd.DataFrame
    variables: tuple[XptVariable, ...]
    path: Path


def read_xpt_dataset(path: Path) -> LoadedDataset:
    """Read one XPORT file (v5, as FDA requires); an unreadable file is an InputErrors."""
    where = display_path(path)
    try:
        frame, meta = _parse(path)
    except Exception as error:  # pyreadstat raises bare Exception subclasses of many kinds
        raise InputErrors(
            [
                Problem(
                    where,
                    f"cannot be read as a SAS transport (XPORT) file: {error}",
                    expected="a SAS XPORT version 5 file",
                )
            ]
        ) from error
    variables = tuple(_variable(meta, name) for name in meta.column_names)
    for variable in variables:
        if variable.type == "Char":
            frame[variable.name] = frame[variable.name].fillna("")
        elif not pd.api.types.is_numeric_dtype(frame[variable.name].dtype):
            frame[variable.name] = _special_missing(frame[variable.name])
    return LoadedDataset(
        name=(meta.table_name or path.stem).upper(),
        label=meta.file_label or "",
        frame=frame,
        variables=variables,
        path=path,
    )


def read_xpt_header(path: Path) -> tuple[str, tuple[XptVariable, ...]]:
    """The dataset label and variables of an XPORT file, from its header only (fast at any size)."""
    try:
        _, meta = parser_entry_point(str(path), "xport", metadataonly=True)
    except Exception as error:  # pyreadstat raises bare Exception subclasses of many kinds
        raise InputErrors(
            [Problem(display_path(path), f"cannot be read as a SAS transport (XPORT) file: {error}")]
        ) from error
    return meta.file_label or "", tuple(_variable(meta, name) for name in meta.column_names)


def as_read_back(
    frame: pd.DataFrame, variables: tuple[XptVariable, ...], *, name: str, label: str, path: Path
) -> LoadedDataset:
    """The dataset exactly as `read_xpt_dataset` returns it once `frame` is written to `path`.

    Lets `convert` check the values it has just encoded without parsing the files again
    (reading every record back costs more than writing it); tests hold this equal to a
    real read-back. Char: trailing blanks go (the field is blank-padded), missing is "";
    Num: SAS numbers as the writer stores them, special missing values as SpecialMissing.
    """
    columns = {}
    for variable in variables:
        values = frame[variable.name]
        if variable.type == "Char":
            columns[variable.name] = _as_read_text(values)
            continue
        numbers, special = sas_numbers(values, variable)
        if special.any():
            objects = numbers.astype(object)
            objects[special != 0] = [SpecialMissing(chr(code)) for code in special[special != 0]]
            columns[variable.name] = pd.Series(objects, dtype=object)
        else:
            columns[variable.name] = pd.Series(numbers)
    return LoadedDataset(name=name, label=label, frame=pd.DataFrame(columns), variables=variables, path=path)


def _as_read_text(values: pd.Series) -> pd.Series:
    """Text as a reader returns it; the column itself (no copy) when it already is that."""
    text = values if values.dtype == "str" else values.astype("str")
    if text.isna().any() or text.str.endswith(" ").any():
        text = text.fillna("").str.rstrip(" ")
    return text


def _parse(path: Path) -> tuple[pd.DataFrame, pyreadstat.metadata_container]:
    """UTF-8 (so ASCII) first; XPORT records no encoding, and SAS on Windows writes WLATIN1
    (e.g. the curly quote 0x92 in the CDISC pilot's TS), so other text is read as Windows-1252.
    """
    options = {"user_missing": True, "disable_datetime_conversion": True}
    try:
        return parser_entry_point(str(path), "xport", **options)
    except UnicodeDecodeError:
        return parser_entry_point(str(path), "xport", encoding="WINDOWS-1252", **options)


def read_dataset_folder(folder: Path) -> dict[str, LoadedDataset]:
    """Every *.xpt of a folder keyed by upper-case dataset name; all bad files reported."""
    datasets: dict[str, LoadedDataset] = {}
    problems: list[Problem] = []
    for path in sorted(p for p in folder.iterdir() if p.suffix.lower() == ".xpt"):
        try:
            loaded = read_xpt_dataset(path)
        except InputErrors as error:
            problems.extend(error.problems)
            continue
        if loaded.name in datasets:
            problems.append(
                Problem(
                    display_path(path),
                    f"dataset {loaded.name} is also in {datasets[loaded.name].path.name}",
                    expected="one file per dataset",
                )
            )
            continue
        datasets[loaded.name] = loaded
    if problems:
        raise InputErrors(problems)
    return datasets


def _variable(meta: pyreadstat.metadata_container, name: str) -> XptVariable:
    is_char = meta.readstat_variable_types[name] == "string"
    return XptVariable(
        name=name,
        label=meta.column_names_to_labels.get(name) or "",
        type="Char" if is_char else "Num",
        length=int(meta.variable_storage_width[name]),
        format=_format(meta.original_variable_types.get(name)),
    )


def _format(text: str | None) -> str | None:
    """pyreadstat drops the period of names like DATE9; XptVariable keeps SAS's spelling."""
    if not text:
        return None
    return text if "." in text else f"{text}."


def _special_missing(column: pd.Series) -> pd.Series:
    """pyreadstat gives special missing values as their letter ("A"); make them explicit."""
    letters = column.map(type).eq(str).to_numpy()
    values = column.to_numpy(dtype=object, copy=True)
    values[letters] = pd.Series(values[letters]).map(SpecialMissing).to_numpy()
    values[~letters] = values[~letters].astype(np.float64)
    return pd.Series(values, index=column.index, name=column.name, dtype=object)
