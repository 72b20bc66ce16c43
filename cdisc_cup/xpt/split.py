"""Datasets over the FDA per-file limit, written as split XPT files beside the whole one.

FDA Study Data Technical Conformance Guide (TCG), section 3.3.2 "Dataset Size": one dataset
file should be at most 5 GB; a dataset over 5 GB is split into smaller datasets of no more than
5 GB each, which are submitted in addition to the larger non-split file; the split files go
into a sub-folder named ``split`` of the folder that holds the non-split file, are named after
the dataset with a number appended (``lb1.xpt``, ``lb2.xpt``, ...), and the split is described in
define.xml and in the reviewer's guide (SDRG, ADRG). FDA business rule FDAB024 ("Large datasets
should be split into smaller datasets no larger than 5 GB in size") checks the limit.

So `write_xpt_within_limit` always writes the whole dataset as ``<folder>/<name>.xpt`` and, when
that file is over the limit, also ``<folder>/split/<name>1.xpt``, ``<name>2.xpt``, ... in the
same pass over the records (each chunk is encoded once and written to both), returning what
was written so the define.xml writer and the reviewer's guide can list it. Inside each split
file the dataset is named like the file (LB1, LB2): FDA asks for the dataset in a transport file
to be named as the file.

Files are filled in record order, each as full as the limit allows (one sentence in the
reviewer's guide describes every split). The guide wants a split along a variable rather than
at arbitrary records (xportr reads section 3.3.2 as e.g. LB by LBCAT); here, with
``by="USUBJID"``, files are cut only where the value changes, so a reviewer finds all records of
a subject in one file. The records must then be grouped by that variable, as SDTM and ADaM
datasets sorted by their keys are; a subject whose records are not together, or who alone does
not fit in one split file, is reported rather than split across files.

The limit is 5 * 10**9 bytes: the guide writes "5 gigabytes (GB)" with no binary prefix, and
the decimal gigabyte is also the stricter reading, so a file within it is within the limit
however a reviewer's tool counts (5 * 2**30 would pass files of 5.00-5.37e9 bytes that a decimal
check flags). The xportr package (pharmaverse) splits at the same 1000**3 bytes per GB.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

import numpy as np
import pandas as pd

from cdisc_cup.constants import FDA_FILE_LIMIT, MAX_NAME_LENGTH
from cdisc_cup.errors import Problem, display_path
from cdisc_cup.xpt.model import XptVariable
from cdisc_cup.xpt.write import (
    RECORD_LENGTH,
    XptEncoder,
    XptOutput,
    XptWriteError,
    frame_chunks,
    peek_columns,
    record_length,
    write_xpt_chunks,
    xpt_size,
)

SPLIT_FOLDER = "split"  # TCG section 3.3.2: split files in a sub-folder named "split"


@dataclass(frozen=True)
class WrittenXpt:
    """One XPT file written for a dataset: the whole dataset, or one of its split files."""

    path: Path
    href: str  # relative to the dataset folder, as define.xml's def:leaf xlink:href: "lb.xpt", "split/lb1.xpt"
    member: str  # the dataset name inside the file: LB, or LB1 for the first split file
    first_record: int  # 1-based record number in the whole dataset
    last_record: int  # first_record - 1 when the file has no records
    size: int  # bytes

    @property
    def records(self) -> int:
        return self.last_record - self.first_record + 1


@dataclass(frozen=True)
class XptDatasetFiles:
    """The files of one dataset: always the whole one, and split files when it is over the limit."""

    dataset: str
    whole: WrittenXpt
    parts: tuple[WrittenXpt, ...]  # empty when the whole file is within the limit
    limit: int
    by: str | None  # the variable whose records the split keeps together (e.g. USUBJID)

    @property
    def is_split(self) -> bool:
        return bool(self.parts)


def split_note(files: XptDatasetFiles) -> str:
    """The sentence define.xml's dataset comment carries for a split dataset (TCG 3.3.2)."""
    parts = ", ".join(f"{part.href} (records {part.first_record:,}-{part.last_record:,})" for part in files.parts)
    kept = f", records of one {files.by} kept in one file" if files.by else ""
    return (
        f"Larger than {files.limit / 10**9:g} GB as XPT: also submitted split into {parts}{kept} "
        "(FDA Study Data Technical Conformance Guide, section 3.3.2)."
    )


def max_records_per_file(variables: Sequence[XptVariable], limit: int = FDA_FILE_LIMIT) -> int:
    """The most records of `variables` one file of at most `limit` bytes holds."""
    room = (limit - xpt_size(variables, 0)) // RECORD_LENGTH * RECORD_LENGTH
    records = max(room, 0) // record_length(variables)
    if records < 1:
        raise ValueError(f"a file of at most {limit} bytes cannot hold one record of these variables")
    return records


def write_xpt_within_limit(
    folder: Path,
    data: pd.DataFrame | Iterable[pd.DataFrame],
    *,
    dataset: str,
    label: str,
    variables: Sequence[XptVariable],
    rows: int | None = None,
    created: datetime | None = None,
    limit: int = FDA_FILE_LIMIT,
    by: str | None = None,
    chunk_rows: int = 100_000,
) -> XptDatasetFiles:
    """Write `data` as ``folder/<dataset>.xpt`` and, when that file is over `limit` bytes, also as
    split files of at most `limit` bytes in ``folder/split`` (TCG section 3.3.2).

    `data` is a frame or an iterable of chunks (records in order; one chunk is held at a time);
    for an iterable, `rows` (the record count) is required, since whether to split is decided
    from the exact file size (`xpt_size`) before the first record is written. Problems are
    reported as `write_xpt` reports them, after the last chunk; files already written are left
    for the caller's atomic write to discard.
    """
    if isinstance(data, pd.DataFrame):
        rows = len(data) if rows is None else rows
        data = frame_chunks(data, chunk_rows)
    elif rows is None:
        raise ValueError("rows (the number of records) is required when the data comes in chunks")
    if by is not None and by not in [v.name for v in variables]:
        raise ValueError(f"the split variable {by} is not a variable of dataset {dataset}")
    whole_path = folder / f"{dataset.lower()}.xpt"
    if xpt_size(variables, rows) <= limit:
        written = write_xpt_chunks(whole_path, data, dataset=dataset, label=label, variables=variables, created=created)
        _check_count(dataset, rows, written)
        return XptDatasetFiles(dataset, _whole(whole_path, dataset, written), (), limit, by)
    per_file = max_records_per_file(variables, limit)
    _check_split_names(display_path(whole_path), dataset, math.ceil(rows / per_file))
    columns, data = peek_columns(data)
    encoder = XptEncoder(
        display_path(whole_path), dataset=dataset, label=label, variables=variables, created=created, columns=columns
    )
    (folder / SPLIT_FOLDER).mkdir(exist_ok=True)
    with open(whole_path, "wb") as out, _SplitFiles(folder / SPLIT_FOLDER, encoder, per_file, limit, by) as split:
        whole = XptOutput(out, encoder)
        for chunk in data:
            first_record = encoder.rows + 1
            records = encoder.encode(chunk)
            whole.write(records)
            split.add(records, chunk, first_record)
        whole.finish()
        parts = split.finish()
    encoder.raise_problems()
    _check_count(dataset, rows, encoder.rows)
    return XptDatasetFiles(dataset, _whole(whole_path, dataset, encoder.rows), parts, limit, by)


def _whole(path: Path, dataset: str, rows: int) -> WrittenXpt:
    return WrittenXpt(path, path.name, dataset, 1, rows, path.stat().st_size)


def _check_count(dataset: str, announced: int, written: int) -> None:
    """The split decision rests on the announced count, so a wrong one is a caller error."""
    if announced != written:
        raise ValueError(f"dataset {dataset}: {announced} records were announced but {written} were written")


def _check_split_names(where: str, dataset: str, parts: int) -> None:
    name = f"{dataset}{parts}"
    if len(name) > MAX_NAME_LENGTH:
        raise XptWriteError(
            [
                Problem(
                    where,
                    f"dataset {dataset}: it must be split into at least {parts} files, and the split file "
                    f"name {name.lower()}.xpt is longer than XPORT v5 allows",
                    value=name,
                    expected=f"a dataset name of at most {MAX_NAME_LENGTH - len(str(parts))} characters",
                )
            ]
        )


class _SplitFiles:
    """The split files of one dataset, filled in record order, each up to `per_file` records.

    Without `by` a file is cut wherever it is full. With `by`, cuts fall only where the value
    of `by` changes; the records of the last value seen are held back (encoded) until its end
    is seen, since only then is it known whether they still fit in the open file.
    """

    def __init__(self, folder: Path, encoder: XptEncoder, per_file: int, limit: int, by: str | None) -> None:
        self._folder = folder
        self._encoder = encoder
        self._per_file = per_file
        self._limit = limit
        self._by = by
        self._held: list[np.ndarray] = []  # records of the open group, whose end is not yet seen
        self._held_rows = 0
        self._last_key: object = None  # the `by` value of the last record seen
        self._seen: set[object] = set()  # every `by` value met, to find groups that are not together
        self._file: BinaryIO | None = None
        self._output: XptOutput | None = None
        self._placed = 0  # records in closed split files
        self._parts: list[WrittenXpt] = []

    def __enter__(self) -> _SplitFiles:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._file is not None:
            self._file.close()

    def add(self, records: np.ndarray, chunk: pd.DataFrame, first_record: int) -> None:
        if self._by is None:
            self._place(records, None)
            return
        keys = chunk[self._by].astype("string").fillna("").to_numpy(dtype=object)
        starts = self._group_starts(keys, first_record)
        if not len(starts):
            self._hold(records)
            return
        complete = np.concatenate([*self._held, records[: starts[-1]]])
        cuts = np.concatenate(([0], self._held_rows + starts))
        self._held, self._held_rows = [], 0
        self._place(complete, cuts)
        self._hold(records[starts[-1] :])

    def finish(self) -> tuple[WrittenXpt, ...]:
        if self._held_rows:
            self._place(np.concatenate(self._held), np.array([0, self._held_rows]))
        if self._output is not None:
            self._close(last=True)
        return tuple(self._parts)

    def _group_starts(self, keys: np.ndarray, first_record: int) -> np.ndarray:
        """Positions in the chunk where a new value of `by` begins; a value met before in a
        group that has ended is reported, since its records would land in two files."""
        if not len(keys):
            return np.array([], dtype=np.int64)
        changes = np.empty(len(keys), dtype=bool)
        changes[0] = not self._seen or keys[0] != self._last_key
        changes[1:] = keys[1:] != keys[:-1]
        starts = np.flatnonzero(changes)
        new = keys[starts]
        if not self._seen.isdisjoint(new) or len(set(new)) != len(new):
            index = pd.Index(new)
            again = index.isin(list(self._seen)) | index.duplicated()
            self._encoder.log.add(
                self._by,
                f"the records of this {self._by} are not together, so they would be split across files",
                f"the dataset sorted by {self._by}",
                starts[again] + first_record,
                pd.Series(new[again]),
            )
        self._seen.update(new)
        self._last_key = keys[-1]
        return starts

    def _hold(self, records: np.ndarray) -> None:
        self._held.append(records)
        self._held_rows += len(records)
        if self._held_rows > self._per_file:
            self._too_large(self._placed + self._open_rows() + 1)

    def _place(self, block: np.ndarray, cuts: np.ndarray | None) -> None:
        """Fill split files with `block`, cutting only at `cuts` (None: anywhere), each file
        taking as many whole groups as fit (the first-fit a reviewer's guide can describe in a
        sentence: files in record order, each as full as the limit allows)."""
        position, end = 0, len(block)
        while position < end:
            output = self._open()
            bound = min(position + self._per_file - output.rows, end)
            cut = bound if cuts is None else int(cuts[np.searchsorted(cuts, bound, side="right") - 1])
            if cut == position:
                if not output.rows:
                    self._too_large(self._placed + position + 1)
                self._close(last=False)
                continue
            output.write(block[position:cut])
            position = cut
            if position < end:
                self._close(last=False)

    def _open_rows(self) -> int:
        return self._output.rows if self._output is not None else 0

    def _open(self) -> XptOutput:
        if self._output is None:
            number = len(self._parts) + 1
            _check_split_names(self._encoder.where, self._encoder.dataset, number)
            member = f"{self._encoder.dataset}{number}"
            self._file = open(self._folder / f"{member.lower()}.xpt", "wb")  # noqa: SIM115 (closed in _close)
            self._output = XptOutput(self._file, self._encoder, member, records_before=self._placed)
        return self._output

    def _close(self, *, last: bool) -> None:
        """Close the open split file; the last one ends where the whole file ends, whose blank
        tail is checked there."""
        assert self._output is not None and self._file is not None
        output, path = self._output, Path(self._file.name)
        output.finish(None if last else f"the last records of split file {path.name}")
        self._file.close()
        self._file = self._output = None
        member = path.stem.upper()
        first = self._placed + 1
        self._placed += output.rows
        href = f"{SPLIT_FOLDER}/{path.name}"
        self._parts.append(WrittenXpt(path, href, member, first, self._placed, path.stat().st_size))

    def _too_large(self, first_record: int) -> None:
        too_large = Problem(
            self._encoder.where,
            f"dataset {self._encoder.dataset}, record {first_record}: the {self._by} starting here has more "
            f"records than one split file of at most {self._limit} bytes holds ({self._per_file} records), "
            "so its records cannot stay in one file",
            column=self._by,
            expected=f"at most {self._per_file} records per {self._by}",
        )
        raise XptWriteError([*self._encoder.log.problems(), too_large])
