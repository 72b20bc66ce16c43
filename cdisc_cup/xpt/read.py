"""SAS XPORT datasets read back with their metadata, in the writer's terms.

A dataset read here can be written again with `cdisc_cup.xpt.write.write_xpt` unchanged:
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

import multiprocessing
import os
import sys
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyreadstat

# read_xport has no user_missing switch, but the parser it wraps has one and reads SAS
# special missing values from XPORT files; without it .A-.Z would come back as plain NaN.
from pyreadstat._readstat_parser import parser_entry_point

from cdisc_cup.errors import InputErrors, Problem, display_path
from cdisc_cup.xpt.model import Dataset, SpecialMissing, XptVariable
from cdisc_cup.xpt.write import record_length, sas_numbers, xpt_size

UNREADABLE = "cannot be read as a SAS transport (XPORT) file"


def read_xpt_dataset(path: Path) -> Dataset:
    """Read one XPORT file (v5, as FDA requires); an unreadable file is an InputErrors."""
    return _loaded(path, [_read_piece(_Piece(path))])


@dataclass(frozen=True)
class _Piece:
    """A run of records of one file, read on its own (by a worker process for large files)."""

    path: Path
    first: int = 0
    count: int = 0  # 0: to the end of the file


def _read_piece(piece: _Piece) -> tuple[pd.DataFrame, pyreadstat.metadata_container] | str:
    """The records and header of a piece, or why the file cannot be read (returned, not
    raised, so it crosses process boundaries as plain text)."""
    try:
        frame, meta = _parse(piece.path, row_offset=piece.first, row_limit=piece.count)
    except Exception as error:  # pyreadstat raises bare Exception subclasses of many kinds
        return f"{UNREADABLE}: {error}"
    return frame, meta


def _loaded(path: Path, parts: list[tuple[pd.DataFrame, pyreadstat.metadata_container] | str]) -> Dataset:
    """One dataset from its pieces, read in order."""
    failed = next((p for p in parts if isinstance(p, str)), None)
    if failed is not None:
        raise InputErrors(
            [Problem(display_path(path), failed, expected="a SAS XPORT version 5 file")], source="dataset folder"
        )
    meta = parts[0][1]
    frame = parts[0][0] if len(parts) == 1 else pd.concat([p[0] for p in parts], ignore_index=True)
    variables = tuple(_variable(meta, name) for name in meta.column_names)
    for variable in variables:
        if variable.type == "Char":
            frame[variable.name] = frame[variable.name].fillna("")
        elif not pd.api.types.is_numeric_dtype(frame[variable.name].dtype):
            frame[variable.name] = _special_missing(frame[variable.name])
    return Dataset(
        name=(meta.table_name or path.stem).upper(),
        label=meta.file_label or "",
        frame=frame,
        variables=variables,
        path=path,
    )


# Below this many bytes a folder is read in this process: starting workers costs more.
PARALLEL_READ_BYTES = 64 * 2**20
RECORDS_PER_PIECE = 300_000


def read_xpt_files(paths: Sequence[Path]) -> dict[Path, Dataset | InputErrors]:
    """Each file read, or the InputErrors saying why it cannot be; large folders in parallel.

    pyreadstat makes a Python object of every value, about 1 µs each, so a 100,000-patient
    SDTM folder takes 20 s on one core. Files are cut into runs of records that worker
    processes read at their offsets (XPT records have a fixed length), one per core.
    """
    sizes = {path: path.stat().st_size for path in paths}
    workers = min(os.cpu_count() or 1, 8)
    # Workers are forked (Linux): no re-import of the caller's script, as spawn would need.
    if workers < 2 or sys.platform != "linux" or sum(sizes.values()) < PARALLEL_READ_BYTES:
        pieces = {path: [_read_piece(_Piece(path))] for path in paths}
    else:
        plan = {path: _pieces(path, sizes[path]) for path in paths}
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            read = iter(pool.map(_read_piece, [piece for parts in plan.values() for piece in parts]))
            pieces = {path: [next(read) for _ in parts] for path, parts in plan.items()}
    result: dict[Path, Dataset | InputErrors] = {}
    for path, parts in pieces.items():
        try:
            result[path] = _loaded(path, parts)
        except InputErrors as error:
            result[path] = error
    return result


def _pieces(path: Path, size: int) -> list[_Piece]:
    """Runs of RECORDS_PER_PIECE records; the record count follows from the header and the
    file size (the last run reads to the end, so blank padding never matters)."""
    try:
        _, variables = read_xpt_header(path)
    except InputErrors:
        return [_Piece(path)]
    records = (size - xpt_size(variables, 0)) // max(record_length(variables), 1)
    starts = range(0, max(records, 1), RECORDS_PER_PIECE)
    return [_Piece(path, first, RECORDS_PER_PIECE if first != starts[-1] else 0) for first in starts]


def read_xpt_header(path: Path) -> tuple[str, tuple[XptVariable, ...]]:
    """The dataset label and variables of an XPORT file, from its header only (fast at any size)."""
    try:
        _, meta = parser_entry_point(str(path), "xport", metadataonly=True)
    except Exception as error:  # pyreadstat raises bare Exception subclasses of many kinds
        raise InputErrors([Problem(display_path(path), f"{UNREADABLE}: {error}")], source="dataset folder") from error
    return meta.file_label or "", tuple(_variable(meta, name) for name in meta.column_names)


def as_read_back(
    frame: pd.DataFrame, variables: tuple[XptVariable, ...], *, name: str, label: str, path: Path
) -> Dataset:
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
    return Dataset(name=name, label=label, frame=pd.DataFrame(columns), variables=variables, path=path)


def _as_read_text(values: pd.Series) -> pd.Series:
    """Text as a reader returns it; the column itself (no copy) when it already is that."""
    text = values if values.dtype == "str" else values.astype("str")
    if text.isna().any() or text.str.endswith(" ").any():
        text = text.fillna("").str.rstrip(" ")
    return text


def _parse(path: Path, row_offset: int = 0, row_limit: int = 0) -> tuple[pd.DataFrame, pyreadstat.metadata_container]:
    """UTF-8 (so ASCII) first; XPORT records no encoding, and SAS on Windows writes WLATIN1
    (e.g. the curly quote 0x92 in the CDISC pilot's TS), so other text is read as Windows-1252.
    """
    options = {
        "user_missing": True,
        "disable_datetime_conversion": True,
        "row_offset": row_offset,
        "row_limit": row_limit,
        "output_format": "dict",
    }
    try:
        columns, meta = parser_entry_point(str(path), "xport", **options)
    except UnicodeDecodeError:
        columns, meta = parser_entry_point(str(path), "xport", encoding="WINDOWS-1252", **options)
    return pd.DataFrame(
        {name: _column(values, meta.readstat_variable_types[name]) for name, values in columns.items()}
    ), meta


def _column(values: list, readstat_type: str) -> pd.Series:
    """A column from pyreadstat's plain lists: text straight into Arrow (pandas would first
    infer the type of every value), numbers as float64, or objects where special missing
    letters stand among the numbers."""
    if readstat_type == "string":
        return pd.Series(pa.array(values, type=pa.large_string()), dtype="str")
    try:
        return pd.Series(np.array(values, dtype=np.float64))
    except (TypeError, ValueError):
        return pd.Series(values, dtype=object)


@dataclass(frozen=True)
class FolderRead:
    """A folder read for validation: the datasets that could be read, the files that could
    not (each a finding, not the end of the run), and its define.xml if it has one."""

    path: Path
    datasets: dict[str, Dataset]
    unreadable: dict[str, str]  # file name -> why it cannot be read
    define_path: Path | None


def xpt_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() == ".xpt" and p.is_file())


def read_dataset_folder_leniently(folder: Path) -> FolderRead:
    """Every readable *.xpt of a folder; one that cannot be read is listed, not raised."""
    files = xpt_files(folder)
    if not files:
        raise InputErrors(
            [
                Problem(
                    display_path(folder),
                    "the folder has no SAS XPORT (*.xpt) datasets",
                    expected="a folder of SDTM or ADaM .xpt files",
                )
            ],
            source="dataset folder",
        )
    datasets: dict[str, Dataset] = {}
    unreadable: dict[str, str] = {}
    for path, loaded in read_xpt_files(files).items():
        if isinstance(loaded, InputErrors):
            unreadable[path.name] = "; ".join(p.message for p in loaded.problems)
            continue
        datasets[loaded.name] = loaded
    define_path = next((p for p in sorted(folder.iterdir()) if p.name.lower() == "define.xml"), None)
    return FolderRead(folder, datasets, unreadable, define_path)


# Sub-folders that hold copies of datasets rather than datasets of their own: FDA's split
# files of a dataset over 5 GB (TCG section 3.3.2) repeat the records of the whole file.
COPY_FOLDERS = frozenset({"split"})


def find_dataset_folders(root: Path) -> list[Path]:
    """Every folder at or below `root` that holds XPT datasets (a conversion's output, an
    eCTD m5 tree, a study folder or one dataset folder), in path order; split copies skipped."""
    root = Path(root)
    candidates = [root, *(p for p in sorted(root.rglob("*")) if p.is_dir())]
    found = []
    for folder in candidates:
        parts = folder.relative_to(root).parts
        if any(part.lower() in COPY_FOLDERS or part.startswith(".") for part in parts):
            continue
        if any(p.suffix.lower() == ".xpt" and p.is_file() for p in folder.iterdir()):
            found.append(folder)
    return found


def read_dataset_folder(folder: Path) -> dict[str, Dataset]:
    """Every *.xpt of a folder keyed by upper-case dataset name; all bad files reported."""
    datasets: dict[str, Dataset] = {}
    problems: list[Problem] = []
    for path, loaded in read_xpt_files(xpt_files(folder)).items():
        if isinstance(loaded, InputErrors):
            problems.extend(loaded.problems)
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
        raise InputErrors(problems, source="dataset folder")
    return datasets


def _variable(meta: pyreadstat.metadata_container, name: str) -> XptVariable:
    is_char = meta.readstat_variable_types[name] == "string"
    return XptVariable(
        name=name,
        label=meta.column_names_to_labels.get(name) or "",
        type="Char" if is_char else "Num",
        length=int(meta.variable_storage_width[name]),
        format=sas_format(meta.original_variable_types.get(name)),
    )


def sas_format(text: str | None) -> str | None:
    """A display format in SAS's own spelling (DATE9.): pyreadstat up to 1.3.7 drops the
    period of names like DATE9, 1.3.8 keeps it; both spellings give the same answer here."""
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
