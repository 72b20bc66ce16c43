"""SAS XPORT version 5 writer, vectorised with numpy.

FDA accepts study data only as SAS transport files version 5 (FDA Study Data Technical
Conformance Guide, section 3.3.1), whose layout is SAS Technical Support document TS-140
"The record layout of a data set in SAS transport (XPORT) format". pyreadstat can write it
but encodes cell by cell; here every column is encoded as one numpy array and whole chunks
of records are written at once.

Values the format cannot hold are never truncated or re-encoded: they are reported as
located problems (dataset, variable, record number, value) in one `XptWriteError`.

`write_xpt_chunks` writes from an iterable of chunks, holding one chunk at a time, for datasets
near the FDA per-file limit of 5 GB (TCG section 3.3.2, "Dataset Size"); `xpt_size` gives the
exact file size beforehand, and `cdisc_cup.xpt.split` splits a dataset over the limit.

Conventions of this writer (the contract with the rest of the package):

- Char values are `str` or missing (None, NaN, pd.NA); missing is written as blanks, which is
  also how SAS stores a blank string (CDISC null). Only ASCII is accepted: the FDA guide asks
  for ASCII in v5 files and readers disagree about any other encoding. Trailing blanks are
  not kept by any reader, since the field is padded with blanks.
- Num values are numbers, booleans (1/0) or missing (None, NaN, pd.NA, NaT) -> SAS `.`.
  Dates (datetime64, `datetime.date`, `pd.Timestamp`) are written as SAS date numbers (days
  since 1960-01-01) unless the variable's format is a datetime format (DATETIME., E8601DT.,
  ...), which gets SAS datetime numbers (seconds since 1960-01-01T00:00:00). A date value with
  a time of day under a date format is an error rather than a silent truncation.
- Special missing values `.A`-`.Z` and `._` are written from `SpecialMissing` objects placed
  in a Num column (the column is then of object dtype): `SpecialMissing("A")`.
- The last records must not be blank in every variable: readers (SAS, readstat, hence haven
  and pyreadstat) take trailing blank records for the blank padding of the last 80-byte
  record and drop them, so such a dataset is refused (a CDISC record always has STUDYID).
- Numbers are stored as IBM System/370 double precision (TS-140, "numeric data fields"),
  which holds every IEEE double of its range exactly: the 56-bit hex fraction has room for
  the 53-bit mantissa after hex normalisation shifts it by up to 3 bits. Magnitudes below
  16**-65 (about 5.4e-79) become 0; magnitudes from 16**63 (about 7.2e75) and infinities are
  errors.
"""

from __future__ import annotations

import itertools
import re
import struct
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from cdisc_cup.constants import MAX_CHAR_LENGTH, MAX_LABEL_LENGTH, SAS_EPOCH_MICROSECOND, file_timestamp
from cdisc_cup.errors import MAX_LOCATED, ConformanceErrors, Problem, display_path
from cdisc_cup.xpt.model import SPECIAL_MISSING_CODES, SpecialMissing, XptVariable

RECORD_LENGTH = 80
NAMESTR_LENGTH = 140
NUM_LENGTH = 8

_SAS_NAME = re.compile(r"[A-Z_][A-Z0-9_]{0,7}")
# A SAS format: optional $, a name ending in a letter or underscore, width, ".", decimals.
_SAS_FORMAT = re.compile(r"(\$?(?:[A-Z_](?:[A-Z0-9_]*[A-Z_])?)?)(\d*)\.(\d*)")
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DATETIME_FORMATS = frozenset(
    {"DATETIME", "E8601DT", "IS8601DT", "B8601DT", "E8601DZ", "IS8601DZ", "B8601DZ", "DATEAMPM"}
)
_MISSING_BYTE = ord(".")
_SMALLEST_IBM = 16.0**-65


class XptWriteError(ConformanceErrors):
    """The dataset cannot be written as XPORT v5 without losing or changing data."""


_SPECIAL_MISSING_BYTES = {SpecialMissing(code): ord(code) for code in SPECIAL_MISSING_CODES}


@dataclass(frozen=True)
class _Format:
    name: str
    width: int
    decimals: int


def write_xpt(
    path: Path,
    frame: pd.DataFrame,
    *,
    dataset: str,
    label: str,
    variables: Sequence[XptVariable],
    created: datetime | None = None,
    chunk_rows: int = 100_000,
) -> None:
    """Write `frame` as a one-dataset XPORT v5 file, columns in `variables` order.

    Metadata problems are raised before the file is opened; value problems are collected over
    all records (so the user sees the whole list) and raised after the last chunk, leaving a
    partial file that the caller's atomic write discards.
    """
    write_xpt_chunks(
        path, frame_chunks(frame, chunk_rows), dataset=dataset, label=label, variables=variables, created=created
    )


def write_xpt_chunks(
    path: Path,
    chunks: Iterable[pd.DataFrame],
    *,
    dataset: str,
    label: str,
    variables: Sequence[XptVariable],
    created: datetime | None = None,
) -> int:
    """Write the records of `chunks`, in order, as one XPORT v5 file; return the record count.

    Only one chunk is held at a time, so a dataset larger than memory (FDA's 5 GB files) can be
    written from a generator. The bytes are those `write_xpt` writes for the concatenated
    chunks, and problems are reported the same way, with record numbers counted over all
    chunks. Metadata is checked against the columns of the first chunk before the file is opened.
    """
    columns, chunks = peek_columns(chunks)
    encoder = XptEncoder(
        display_path(path), dataset=dataset, label=label, variables=variables, created=created, columns=columns
    )
    with open(path, "wb") as out:
        output = XptOutput(out, encoder)
        for chunk in chunks:
            output.write(encoder.encode(chunk))
        output.finish()
    encoder.raise_problems()
    return encoder.rows


def sas_numbers(column: pd.Series, variable: XptVariable) -> tuple[np.ndarray, np.ndarray]:
    """What a Num column is stored as: float64 SAS numbers (NaN = missing; dates as SAS days,
    or seconds under a datetime format) and special-missing letter codes (0 = none).

    The values a reader gets back from the file, without writing it; values the writer
    would refuse raise XptWriteError as writing them would.
    """
    log = _ProblemLog(variable.name, variable.name)
    fmt = _parse_format(variable.format) if variable.format else None
    values, special = _numbers(column, fmt, log.at(0).variable(variable.name, column))
    if log.count:
        raise XptWriteError(log.problems())
    # IBM doubles keep no -0.0 and nothing below 16**-65: both are stored as 0.
    return np.where(np.abs(values) < _SMALLEST_IBM, 0.0, values), special


def frame_chunks(frame: pd.DataFrame, chunk_rows: int = 100_000) -> Iterator[pd.DataFrame]:
    """`frame` as consecutive slices of `chunk_rows` records (one, empty, for an empty frame,
    so the writer still sees the columns)."""
    if chunk_rows < 1:
        raise ValueError("chunk_rows must be at least 1")
    return (frame.iloc[start : start + chunk_rows] for start in range(0, max(len(frame), 1), chunk_rows))


def xpt_size(variables: Sequence[XptVariable], rows: int) -> int:
    """The exact size in bytes of the file written for `rows` records of `variables`.

    TS-140 fixes every part: 9 header records of 80 bytes (3 library, 5 member, the OBS
    header), the 140-byte NAMESTRs padded with blanks to whole 80-byte records, then the
    records back to back, padded with blanks to a whole 80-byte record. A caller can so decide
    whether a dataset goes over the FDA limit (TCG section 3.3.2) before writing a byte.
    """
    return (
        _HEADER_RECORDS * RECORD_LENGTH
        + _padded(len(variables) * NAMESTR_LENGTH)
        + _padded(rows * record_length(variables))
    )


def record_length(variables: Sequence[XptVariable]) -> int:
    """Bytes of one record: the variables' lengths back to back, no separators (TS-140)."""
    return sum(variable.length for variable in variables)


_HEADER_RECORDS = 9  # LIBRARY, 2 library records, MEMBER, DSCRPTR, 2 member records, NAMESTR, OBS


def _padded(size: int) -> int:
    return size + (-size % RECORD_LENGTH)


def peek_columns(chunks: Iterable[pd.DataFrame]) -> tuple[pd.Index | None, Iterator[pd.DataFrame]]:
    """The columns of the first chunk (None when there is none) and all chunks, first included."""
    iterator = iter(chunks)
    first = next(iterator, None)
    if first is None:
        return None, iterator
    return first.columns, itertools.chain((first,), iterator)


class XptEncoder:
    """One dataset's records encoded chunk by chunk; its problems collected over all chunks.

    The metadata is checked once, when the encoder is made, so nothing is opened for a dataset
    v5 cannot hold. Value problems go to one log whichever files the records are written to
    (the dataset's file, and its split files beside it), and are raised once after the last
    chunk, so the user sees the whole list with record numbers of the whole dataset.
    """

    def __init__(
        self,
        where: str,
        *,
        dataset: str,
        label: str,
        variables: Sequence[XptVariable],
        created: datetime | None,
        columns: Collection[str] | None,
    ) -> None:
        self.where = where
        self.dataset = dataset
        self.label = label
        self.variables = tuple(variables)
        self.formats = _check_metadata(where, columns, dataset, label, self.variables)
        self.record_length = record_length(self.variables)
        self.log = _ProblemLog(where, dataset)
        self.rows = 0
        self._stamp = _sas_timestamp(created if created is not None else file_timestamp())

    @property
    def ok(self) -> bool:
        return not self.log.count

    def header(self, member: str | None = None) -> bytes:
        """The file header up to the OBS record; `member` names the dataset inside the file
        (a split file's own name, e.g. LB1) and defaults to the dataset's."""
        return _file_header(member or self.dataset, self.label, self.variables, self.formats, self._stamp)

    def encode(self, chunk: pd.DataFrame) -> np.ndarray:
        """The next records as a (records, record length) byte matrix."""
        missing = [v.name for v in self.variables if v.name not in chunk.columns]
        if missing:
            raise XptWriteError(
                self.log.problems()
                + [
                    Problem(
                        self.where,
                        f"dataset {self.dataset}, records from {self.rows + 1} on: the variable is not in the data",
                        column=name,
                    )
                    for name in missing
                ]
            )
        records = _encode_records(chunk, self.variables, self.formats, self.log.at(self.rows))
        self.rows += len(chunk)
        return records

    def raise_problems(self) -> None:
        if self.log.count:
            raise XptWriteError(self.log.problems())


class XptOutput:
    """One XPT file being written: the header, the records given to it, blank padding at the end.

    Bytes are written only while the encoder has no problems: from the first one on the file
    is discarded by the caller anyway, and skipping the writes keeps a failing run fast.
    """

    def __init__(self, out: BinaryIO, encoder: XptEncoder, member: str | None = None, records_before: int = 0) -> None:
        self._out = out
        self._encoder = encoder
        self.records_before = records_before  # records of the dataset written to earlier files
        self.rows = 0
        self._blank_run = 0
        out.write(encoder.header(member))

    def write(self, records: np.ndarray) -> None:
        self._blank_run = _trailing_blank_run(records, self._blank_run)
        self.rows += len(records)
        if self._encoder.ok:
            self._out.write(memoryview(records))

    def finish(self, check_tail: str | None = "the last records") -> None:
        """Pad the last 80-byte record; `check_tail` names the records whose blank tail is
        refused (None when another file with the same last records already checks it)."""
        if check_tail is not None:
            _report_blank_tail(self.records_before + self.rows, self._blank_run, self._encoder.log, check_tail)
        if self._encoder.ok:
            _pad(self._out, self.rows * self._encoder.record_length)


# --- metadata ---------------------------------------------------------------------------


def _check_metadata(
    where: str,
    columns: Collection[str] | None,
    dataset: str,
    label: str,
    variables: Sequence[XptVariable],
) -> list[_Format | None]:
    """All problems with names, labels, lengths and formats, before a byte is written."""
    problems: list[Problem] = []

    def problem(
        message: str,
        column: str | None = None,
        value: str | None = None,
        expected: str | None = None,
    ) -> None:
        problems.append(
            Problem(
                where,
                f"dataset {dataset}: {message}",
                column=column,
                value=value,
                expected=expected,
            )
        )

    if not _SAS_NAME.fullmatch(dataset):
        problem(
            "the dataset name cannot be used in XPORT v5",
            value=dataset,
            expected="1-8 upper-case letters, digits or _, not starting with a digit",
        )
    problems.extend(_label_problems(where, dataset, None, label))
    if not variables:
        problem("the dataset has no variables")
    if len(variables) > 9999:
        problem("too many variables for XPORT v5", value=str(len(variables)), expected="at most 9999")
    formats: list[_Format | None] = []
    seen: set[str] = set()
    for variable in variables:
        name = variable.name
        if not _SAS_NAME.fullmatch(name):
            problem(
                "the variable name cannot be used in XPORT v5",
                column=name,
                value=name,
                expected="1-8 upper-case letters, digits or _, not starting with a digit",
            )
        if name in seen:
            problem("the variable is listed twice", column=name)
        seen.add(name)
        if columns is not None and name not in columns:
            problem("the variable is not in the data", column=name)
        problems.extend(_label_problems(where, dataset, name, variable.label))
        if variable.type == "Char" and not 1 <= variable.length <= MAX_CHAR_LENGTH:
            problem(
                "the length of a Char variable is out of range",
                column=name,
                value=str(variable.length),
                expected=f"1 to {MAX_CHAR_LENGTH}",
            )
        elif variable.type == "Num" and variable.length != NUM_LENGTH:
            problem(
                "Num variables are written with length 8",
                column=name,
                value=str(variable.length),
                expected=str(NUM_LENGTH),
            )
        elif variable.type not in ("Char", "Num"):
            problem(
                "unknown variable type",
                column=name,
                value=str(variable.type),
                expected="Char or Num",
            )
        parsed = _parse_format(variable.format) if variable.format else None
        if variable.format and (parsed is None or parsed.name.startswith("$") != (variable.type == "Char")):
            kind = "a $ format" if variable.type == "Char" else "a numeric format"
            problem(
                "the display format cannot be used",
                column=name,
                value=variable.format,
                expected=f"{kind} such as $CHAR20., DATE9. or 8.2 (name of at most 8)",
            )
            parsed = None
        formats.append(parsed)
    if problems:
        raise XptWriteError(problems)
    return formats


def _label_problems(where: str, dataset: str, variable: str | None, label: str) -> list[Problem]:
    owner = f"the label of variable {variable}" if variable else "the dataset label"
    if len(label) > MAX_LABEL_LENGTH or not label.isascii():
        return [
            Problem(
                where,
                f"dataset {dataset}: {owner} cannot be used in XPORT v5",
                column=variable,
                value=label,
                expected=f"at most {MAX_LABEL_LENGTH} ASCII characters",
            )
        ]
    return []


def _parse_format(text: str) -> _Format | None:
    """Split e.g. "DATE9." or "8.2" into the NAMESTR fields nform, nfl and nfd."""
    match = _SAS_FORMAT.fullmatch(text.strip().upper())
    if match is None or len(match[1]) > 8 or match[1] == "$":
        return None
    width, decimals = int(match[2] or 0), int(match[3] or 0)
    if width > 32767 or decimals > 32767:
        return None
    return _Format(match[1], width, decimals)


# --- headers (TS-140) ---------------------------------------------------------------------


def _sas_timestamp(moment: datetime) -> bytes:
    """ddMMMyy:hh:mm:ss, the 16-byte header date of TS-140 (UTC for aware datetimes)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    text = (
        f"{moment.day:02d}{_MONTHS[moment.month - 1]}{moment.year % 100:02d}:"
        f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}"
    )
    return text.encode("ascii")


def _text(value: str, size: int) -> bytes:
    return value.encode("ascii").ljust(size, b" ")


def _header_record(kind: str, numbers: str = "0" * 30) -> bytes:
    return f"HEADER RECORD*******{kind:<8}HEADER RECORD!!!!!!!{numbers}  ".encode("ascii")


def _file_header(
    dataset: str,
    label: str,
    variables: Sequence[XptVariable],
    formats: Sequence[_Format | None],
    stamp: bytes,
) -> bytes:
    sas_version, sas_os = _text("9.4", 8), _text("LINUX", 8)
    parts = [
        _header_record("LIBRARY"),
        b"SAS     SAS     SASLIB  " + sas_version + sas_os + b" " * 24 + stamp,
        stamp.ljust(RECORD_LENGTH, b" "),
        _header_record("MEMBER", f"{0:017d}16{0:08d}{NAMESTR_LENGTH}"),
        _header_record("DSCRPTR"),
        b"SAS     " + _text(dataset, 8) + b"SASDATA " + sas_version + sas_os + b" " * 24 + stamp,
        stamp + b" " * 16 + _text(label, MAX_LABEL_LENGTH) + b" " * 8,
        _header_record("NAMESTR", f"{0:06d}{len(variables):04d}{0:020d}"),
    ]
    namestrs = b"".join(_namestrs(variables, formats))
    parts.append(namestrs + b" " * (-len(namestrs) % RECORD_LENGTH))
    parts.append(_header_record("OBS"))
    return b"".join(parts)


def _namestrs(variables: Sequence[XptVariable], formats: Sequence[_Format | None]) -> list[bytes]:
    """One 140-byte NAMESTR per variable; informats are left blank (not used by FDA)."""
    records = []
    position = 0
    for number, (variable, fmt) in enumerate(zip(variables, formats, strict=True), start=1):
        ntype = 2 if variable.type == "Char" else 1
        head = struct.pack(">hhhh", ntype, 0, variable.length, number)
        form = fmt or _Format("", 0, 0)
        record = (
            head
            + _text(variable.name, 8)
            + _text(variable.label, MAX_LABEL_LENGTH)
            + _text(form.name, 8)
            + struct.pack(">hhh", form.width, form.decimals, 0)
            + b"\x00\x00"
            + b" " * 8
            + struct.pack(">hhi", 0, 0, position)
            + b"\x00" * 52
        )
        records.append(record)
        position += variable.length
    return records


def _trailing_blank_run(records: np.ndarray, run_before: int) -> int:
    """How many records at the end of the data so far are blank in every byte."""
    if len(records) and not (records[-1] == ord(" ")).all():
        return 0  # the usual case, decided by one record
    blank = (records == ord(" ")).all(axis=1)
    if blank.all():
        return run_before + len(blank)
    return int(np.argmin(blank[::-1]))


def _report_blank_tail(rows: int, run: int, log: _ProblemLog, which: str = "the last records") -> None:
    """Trailing records that are blank in every byte cannot be told from the blank padding
    of the last 80-byte record: SAS, readstat (haven, pyreadstat) and pandas drop them or
    disagree, so they are refused rather than lost on reading."""
    if run:
        log.add(
            None,
            f"{which} are blank in every variable, and readers take trailing blank "
            "records for end-of-file padding and drop them",
            "at least one non-blank value in the last record (e.g. STUDYID)",
            np.arange(rows - run, rows) + 1,
            pd.Series([""] * min(run, MAX_LOCATED)),
        )


def _pad(out: BinaryIO, written: int) -> None:
    """The last 80-byte record is filled with blanks (TS-140)."""
    out.write(b" " * (-written % RECORD_LENGTH))


# --- observations -------------------------------------------------------------------------


def _encode_records(
    chunk: pd.DataFrame,
    variables: Sequence[XptVariable],
    formats: Sequence[_Format | None],
    log: _ChunkLog,
) -> np.ndarray:
    """The chunk's records as one (rows, record length) byte matrix."""
    records = np.empty((len(chunk), record_length(variables)), dtype=np.uint8)
    position = 0
    for variable, fmt in zip(variables, formats, strict=True):
        column = chunk[variable.name]
        locate = log.variable(variable.name, column)
        if variable.type == "Char":
            block = _char_bytes(column, variable.length, locate)
        else:
            block = _num_bytes(column, fmt, locate)
        records[:, position : position + variable.length] = block
        position += variable.length
    return records


@dataclass
class _ProblemLog:
    """Value problems over all chunks: the first few records of each kind, then a count.

    A column that is wrong everywhere should give the user a readable list, not a million
    lines, while the count still tells how much is wrong.
    """

    where: str
    dataset: str

    def __post_init__(self) -> None:
        self.count = 0
        self._shown: list[Problem] = []
        self._totals: dict[tuple[str | None, str, str], int] = {}

    def at(self, first_row: int) -> _ChunkLog:
        return _ChunkLog(self, first_row)

    def add(self, variable: str, what: str, expected: str, records: np.ndarray, values: pd.Series) -> None:
        key = (variable, what, expected)
        before = self._totals.get(key, 0)
        self._totals[key] = before + len(records)
        self.count += len(records)
        room = max(MAX_LOCATED - before, 0)
        for record, value in zip(records[:room], values.iloc[:room], strict=True):
            shown = str(value)
            self._shown.append(
                Problem(
                    file=self.where,
                    message=f"dataset {self.dataset}, record {record}: {what}",
                    column=variable,
                    value=shown if len(shown) <= 80 else shown[:77] + "...",
                    expected=expected,
                )
            )

    def problems(self) -> list[Problem]:
        more = [
            Problem(
                self.where,
                f"dataset {self.dataset}: {total - MAX_LOCATED} more records where {what}",
                column=variable,
                expected=expected,
            )
            for (variable, what, expected), total in self._totals.items()
            if total > MAX_LOCATED
        ]
        return self._shown + more


@dataclass
class _ChunkLog:
    log: _ProblemLog
    first_row: int

    def variable(self, name: str, column: pd.Series) -> _Locator:
        return _Locator(self, name, column)


@dataclass
class _Locator:
    """Turns a mask of bad rows of one column in one chunk into located problems."""

    chunk: _ChunkLog
    variable: str
    column: pd.Series

    def report(self, bad: np.ndarray, what: str, expected: str) -> None:
        rows = np.flatnonzero(bad)
        if len(rows):
            records = rows + self.chunk.first_row + 1
            values = self.column.iloc[rows[:MAX_LOCATED]]
            self.chunk.log.add(self.variable, what, expected, records, values)


def _char_bytes(column: pd.Series, length: int, locate: _Locator) -> np.ndarray:
    """Blank-padded ASCII bytes, (rows, length); long, non-ASCII or non-text values reported."""
    clean = _clean_text_bytes(column, length)
    if clean is not None:
        return clean
    missing = column.isna().to_numpy()
    objects = column.to_numpy(dtype=object, copy=True)
    objects[missing] = ""
    kind = pd.api.types.infer_dtype(objects, skipna=False)
    if kind not in ("string", "empty"):
        not_text = ~pd.Series(objects).map(type).map(lambda t: issubclass(t, str)).to_numpy()
        locate.report(not_text, "the value is not text", "text for a Char variable")
        objects[not_text] = ""
    # One spare byte shows whether a value is longer than the variable; numpy pads with NUL.
    raw = _ascii_bytes(objects, length + 1, locate)
    block = raw.view(np.uint8).reshape(len(objects), length + 1)
    too_long = block[:, length] != 0
    locate.report(
        too_long,
        f"the text is longer than {length} characters",
        f"at most {length} characters (the variable length)",
    )
    has_nul = np.count_nonzero(block, axis=1) < np.strings.str_len(raw)
    locate.report(has_nul, "the text has a NUL character", "printable ASCII text")
    block = block[:, :length]
    block[block == 0] = ord(" ")
    return block


def _clean_text_bytes(column: pd.Series, length: int) -> np.ndarray | None:
    """The fast path for text Arrow can pad in C: all ASCII, no NUL, none too long; None
    when any value needs the checks (and located problems) of the general path."""
    try:
        text = pa.array(column, type=pa.large_string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None
    if isinstance(text, pa.ChunkedArray):  # pandas may hand over its Arrow chunks as they are
        text = text.cast(pa.large_string()).combine_chunks()
    text = pc.fill_null(text, "")
    if not len(text):
        return np.empty((0, length), dtype=np.uint8)
    longest = pc.max(pc.binary_length(text)).as_py()
    if (
        longest > length
        or not pc.all(pc.string_is_ascii(text)).as_py()
        or pc.any(pc.match_substring(text, "\x00")).as_py()
    ):
        return None
    # Every padded ASCII value is `length` bytes, so Arrow's value buffer is the byte matrix;
    # the values are ASCII (checked above), so the byte-wise pad is the right one, and faster.
    padded = pc.ascii_rpad(text, width=length, padding=" ")
    _, offsets, data = padded.buffers()
    start = int(np.frombuffer(offsets, dtype=np.int64, count=1, offset=8 * padded.offset)[0])
    block = np.frombuffer(data, dtype=np.uint8, count=len(padded) * length, offset=start)
    return block.reshape(len(padded), length)


def _ascii_bytes(objects: np.ndarray, width: int, locate: _Locator) -> np.ndarray:
    """Fixed-width byte strings; numpy's ASCII encoding fails on any other character, and
    only then are the offending rows looked for, reported and blanked."""
    try:
        return np.array(objects, dtype=f"S{width}")
    except UnicodeEncodeError:
        not_ascii = ~pd.Series(objects).str.isascii().to_numpy(dtype=bool)
        locate.report(not_ascii, "the text has a character that is not ASCII", "ASCII text only (XPORT v5)")
        objects[not_ascii] = ""
        return np.array(objects, dtype=f"S{width}")


def _num_bytes(column: pd.Series, fmt: _Format | None, locate: _Locator) -> np.ndarray:
    """8-byte IBM doubles, (rows, 8), with SAS missing and special missing values."""
    values, special = _numbers(column, fmt, locate)
    ibm, overflow = ieee_to_ibm(values)
    locate.report(
        overflow,
        "the number is too large for a SAS transport file",
        "a magnitude below 7.2e75 (IBM double precision)",
    )
    ibm[np.isnan(values)] = np.uint64(_MISSING_BYTE) << np.uint64(56)
    has_special = special != 0
    ibm[has_special] = special[has_special].astype(np.uint64) << np.uint64(56)
    return ibm.astype(">u8").view(np.uint8).reshape(len(values), NUM_LENGTH)


def _numbers(column: pd.Series, fmt: _Format | None, locate: _Locator) -> tuple[np.ndarray, np.ndarray]:
    """float64 values (NaN = missing) and special-missing letter codes (0 = none)."""
    special = np.zeros(len(column), dtype=np.uint8)
    if pd.api.types.is_bool_dtype(column.dtype) or pd.api.types.is_numeric_dtype(column.dtype):
        return column.to_numpy(dtype=np.float64, na_value=np.nan), special
    if pd.api.types.is_datetime64_any_dtype(column.dtype):
        return _sas_dates(column, fmt, locate), special
    objects = column.astype(object)
    kind = pd.api.types.infer_dtype(objects, skipna=True)
    if kind in ("floating", "integer", "mixed-integer-float", "boolean", "empty", "decimal"):
        return _plain_numbers(objects), special
    categories = objects.map(type).map(_category)
    values = np.full(len(column), np.nan)
    is_number = (categories == "number").to_numpy()
    values[is_number] = _plain_numbers(objects[is_number])
    is_date = (categories == "date").to_numpy()
    if is_date.any():
        dates = pd.Series(pd.to_datetime(objects[is_date].tolist()), index=objects.index[is_date])
        values[is_date] = _sas_dates(dates, fmt, locate, rows=np.flatnonzero(is_date))
    is_special = (categories == "special").to_numpy()
    special[is_special] = objects[is_special].map(_SPECIAL_MISSING_BYTES).to_numpy(np.uint8)
    bad = (categories == "other").to_numpy()
    locate.report(
        bad,
        "the value is not a number",
        "a number, a date, a SpecialMissing or missing for a Num variable",
    )
    return values, special


def _category(kind: type) -> str:
    if issubclass(kind, SpecialMissing):
        return "special"
    if issubclass(kind, date):
        return "date"
    if issubclass(kind, bool | int | float | Decimal | np.number | np.bool_):
        return "number"
    if kind is type(None) or kind is type(pd.NA) or kind is type(pd.NaT):
        return "missing"
    return "other"


def _plain_numbers(objects: pd.Series) -> np.ndarray:
    return pd.to_numeric(objects).to_numpy(dtype=np.float64, na_value=np.nan)


def _sas_dates(column: pd.Series, fmt: _Format | None, locate: _Locator, rows: np.ndarray | None = None) -> np.ndarray:
    """SAS date (days) or, under a datetime format, SAS datetime (seconds) since 1960."""
    if getattr(column.dtype, "tz", None) is not None:
        column = column.dt.tz_convert("UTC").dt.tz_localize(None)
    micros = (column.to_numpy(dtype="datetime64[us]") - SAS_EPOCH_MICROSECOND).astype(np.int64)
    missing = column.isna().to_numpy()
    if fmt is not None and fmt.name in _DATETIME_FORMATS:
        seconds = micros / 1e6
        seconds[missing] = np.nan
        return seconds
    per_day = 86_400_000_000
    days, time_of_day = np.divmod(micros, per_day)
    has_time = (time_of_day != 0) & ~missing
    if has_time.any():
        bad = np.zeros(len(locate.column), dtype=bool)
        bad[rows[has_time] if rows is not None else has_time] = True
        locate.report(
            bad,
            "the date has a time of day, which a date variable would drop",
            "a date without time, or a datetime format such as DATETIME20.",
        )
    result = days.astype(np.float64)
    result[missing] = np.nan
    return result


def ieee_to_ibm(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """IEEE doubles -> IBM System/370 doubles as uint64 bit patterns, and an overflow mask.

    value = 1.m * 2**e = 0.1m * 2**(e + 1); writing e + 1 = 4q - r (r in 0..3) gives
    value = (0.1m * 2**-r) * 16**q, so the IBM fraction is the 53-bit mantissa shifted left by
    3 - r bits: exact, no rounding. NaN comes out as an arbitrary pattern: callers overwrite it
    with the missing-value code.
    """
    bits = np.ascontiguousarray(values, dtype=np.float64).view(np.uint64)
    sign = bits & np.uint64(1 << 63)
    biased = ((bits >> np.uint64(52)) & np.uint64(0x7FF)).astype(np.int64)
    mantissa = (bits & np.uint64((1 << 52) - 1)) | np.uint64(1 << 52)
    exponent2 = biased - 1022  # e + 1
    quotient = -(-exponent2 // 4)
    shift = (3 - (4 * quotient - exponent2)).astype(np.uint64)
    ibm_exponent = quotient + 64
    is_finite = biased != 0x7FF
    overflow = (ibm_exponent > 127) & is_finite | (~is_finite & ~np.isnan(values))
    underflow = (ibm_exponent < 0) | (biased == 0)
    ibm = sign | (np.clip(ibm_exponent, 0, 127).astype(np.uint64) << np.uint64(56))
    ibm |= mantissa << shift
    ibm[underflow] = 0
    return ibm, overflow
