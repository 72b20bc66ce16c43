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

import struct
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyreadstat

# read_xport has no user_missing switch, but the parser it wraps has one and reads SAS
# special missing values from XPORT files; without it .A-.Z would come back as plain NaN.
from pyreadstat._readstat_parser import parser_entry_point

from cdisc_cup.columns import empty_for_missing, text_series
from cdisc_cup.constants import WORKER_THREADS
from cdisc_cup.errors import InputErrors, Problem, display_path
from cdisc_cup.xpt.model import SPECIAL_MISSING_CODES, Dataset, SpecialMissing, XptVariable
from cdisc_cup.xpt.write import sas_numbers

UNREADABLE = "cannot be read as a SAS transport (XPORT) file"


def read_xpt_dataset(path: Path) -> Dataset:
    """Read one XPORT file (v5, as FDA requires); an unreadable file is an InputErrors."""
    meta = _header(path)
    try:
        frame = _records(path.read_bytes(), meta)
    except (ValueError, struct.error) as error:  # a header or record that TS-140 does not allow
        raise _unreadable(path, error) from error
    return Dataset(
        name=(meta.table_name or path.stem).upper(),
        label=meta.file_label or "",
        frame=frame,
        variables=tuple(_variable(meta, name) for name in meta.column_names),
        path=path,
    )


def _header(path: Path) -> pyreadstat.metadata_container:
    """The member's names, labels, lengths and formats, as pyreadstat reads them."""
    try:
        return parser_entry_point(str(path), "xport", metadataonly=True)[1]
    except Exception as error:  # pyreadstat raises bare Exception subclasses of many kinds
        raise _unreadable(path, error) from error


def _unreadable(path: Path, error: Exception) -> InputErrors:
    return InputErrors(
        [Problem(display_path(path), f"{UNREADABLE}: {error}", expected="a SAS XPORT version 5 file")],
        source="dataset folder",
    )


def read_xpt_files(paths: Sequence[Path]) -> dict[Path, Dataset | InputErrors]:
    """Each file read, or the InputErrors saying why it cannot be (a finding, not the end)."""
    result: dict[Path, Dataset | InputErrors] = {}
    for path in paths:
        try:
            result[path] = read_xpt_dataset(path)
        except InputErrors as error:
            result[path] = error
    return result


# The header records of TS-140 that frame a member (its start, its NAMESTRs, its records),
# by their names in version 5 and in the version 8 that pyreadstat and SAS's %LOC2XPT write
# by default (same NAMESTR layout, so the same positions).
_HEADER = b"HEADER RECORD*******"
_MEMBER, _NAMESTR, _OBS = ("MEMBER", "MEMBV8"), ("NAMESTR", "NAMSTV8"), ("OBS", "OBSV8")
_NEXT_MEMBER = _HEADER + b"MEMB"  # both versions' member headers
_CARD = 80


@dataclass(frozen=True)
class _Field:
    """Where a variable's bytes sit in a record (NAMESTR ntype, nlng, npos)."""

    is_char: bool
    length: int
    position: int


def _records(content: bytes, meta: pyreadstat.metadata_container) -> pd.DataFrame:
    """The records of the file's first member as columns, straight from the bytes.

    XPORT records have a fixed length, so the data is one byte matrix: each variable is a
    column slice of it, decoded by numpy (IBM doubles) and Arrow (text) without a Python
    object per value (pyreadstat makes one, about 1 µs each: 20 s for a 100,000-patient
    SDTM folder).
    """
    fields, start, end = _layout(content)
    if [f.length for f in fields] != [int(meta.variable_storage_width[n]) for n in meta.column_names]:
        raise ValueError("the NAMESTR records do not describe the variables of the member header")
    width = max((f.position + f.length for f in fields), default=0)
    rows = _record_count(content, start, end, width)
    matrix = np.frombuffer(content, dtype=np.uint8, count=rows * width, offset=start).reshape(rows, width)
    blocks = {
        name: (field.is_char, matrix[:, field.position : field.position + field.length])
        for name, field in zip(meta.column_names, fields, strict=True)
    }
    # numpy and Arrow release the GIL while they copy and decode: columns run on every core.
    with ThreadPoolExecutor(WORKER_THREADS) as pool:
        numbers = {name: pool.submit(_numbers, block) for name, (is_char, block) in blocks.items() if not is_char}
        columns = _texts({name: block for name, (is_char, block) in blocks.items() if is_char}, pool)
        columns.update({name: future.result() for name, future in numbers.items()})
    return pd.DataFrame({name: columns[name] for name in meta.column_names})


def _layout(content: bytes) -> tuple[list[_Field], int, int]:
    """The variables' places in a record, and where the first member's records start and end."""
    member, namestrs, obs = _header_records(content)
    size = int(content[member + 74 : member + 78])  # 140, or 136 as VAX/VMS wrote them
    count = int(content[namestrs + 54 : namestrs + 58])
    fields = []
    for number in range(count):
        at = namestrs + _CARD + number * size
        ntype, _, length = struct.unpack_from(">hhh", content, at)
        (position,) = struct.unpack_from(">i", content, at + 84)
        fields.append(_Field(ntype == 2, length, position))
    start = obs + _CARD
    return fields, start, _next_member(content, start)


def _next_member(content: bytes, start: int) -> int:
    """Where a second member starts (FDA wants one per file, TS-140 allows more), else the
    end of the file. A member header starts on a card, so only the first 8 bytes of each
    card are compared: one strided pass, not a search through every byte of the records."""
    cards = (len(content) - start) // _CARD
    if cards <= 0:
        return len(content)
    words = np.frombuffer(content, dtype=np.uint64, count=cards * (_CARD // 8), offset=start)[:: _CARD // 8]
    candidates = np.flatnonzero(words == np.frombuffer(_HEADER[:8], dtype=np.uint64)[0])
    for card in candidates.tolist():  # cards of records that begin "HEADER R": almost never any
        at = start + card * _CARD
        if content.startswith(_NEXT_MEMBER, at) and _kind(content, at) in _MEMBER:
            return at
    return len(content)


def _header_records(content: bytes) -> tuple[int, int, int]:
    """Where the first member's header, NAMESTR header and OBS header records are: read card
    by card through the header only, never through the records."""
    found: dict[tuple[str, ...], int] = {}
    at = content.find(_HEADER)
    while at >= 0:
        kind = next((kinds for kinds in (_MEMBER, _NAMESTR, _OBS) if _kind(content, at) in kinds), None)
        if kind is not None and kind not in found:
            found[kind] = at
        if _OBS in found:  # the records follow: searching on would read the whole file (0.15 s for EX)
            break
        at = content.find(_HEADER, at + _CARD)
    if len(found) < 3:
        raise ValueError("no member, NAMESTR or OBS header record")
    return found[_MEMBER], found[_NAMESTR], found[_OBS]


def _kind(content: bytes, at: int) -> str:
    return content[at + len(_HEADER) : at + len(_HEADER) + 8].decode("ascii", "replace").rstrip()


def _record_count(content: bytes, start: int, end: int, width: int) -> int:
    """Records between start and end; the blanks that pad the last 80-byte record are not one
    (TS-140), which only matters when a record is shorter than 80 bytes."""
    if width == 0:
        return 0
    rows = (end - start) // width
    while (
        rows
        and end - (start + (rows - 1) * width) < _CARD
        and not content[start + (rows - 1) * width : start + rows * width].strip(b" ")
    ):
        rows -= 1
    return rows


def _texts(blocks: dict[str, np.ndarray], pool: ThreadPoolExecutor) -> dict[str, pd.Series]:
    """Char columns as text, trailing blanks dropped (a blank value is "", CDISC null).

    UTF-8 (so ASCII) first; XPORT records no encoding, and SAS on Windows writes WLATIN1
    (e.g. the curly quote 0x92 in the CDISC pilot's TS), so a file whose text is not UTF-8 is
    read as Windows-1252 throughout.
    """
    names = list(blocks)
    contiguous = dict(zip(names, pool.map(np.ascontiguousarray, blocks.values()), strict=True))
    try:
        text = dict(zip(names, pool.map(_utf8, contiguous.values()), strict=True))
    except pa.ArrowInvalid:
        text = {name: _windows_1252(block) for name, block in contiguous.items()}
    trimmed = pool.map(_trimmed, text.values(), contiguous.values())
    return {name: pd.Series(values, dtype="str") for name, values in zip(names, trimmed, strict=True)}


def _utf8(block: np.ndarray) -> pa.LargeStringArray:
    """The fixed-width fields as text over the very bytes read (offsets every `length`
    bytes); ArrowInvalid when they are not UTF-8."""
    rows, length = block.shape
    offsets = np.arange(0, (rows + 1) * length, length, dtype=np.int64)[: rows + 1]
    text = pa.LargeStringArray.from_buffers(rows, pa.py_buffer(offsets), pa.py_buffer(block))
    text.validate(full=True)
    return text


def _windows_1252(block: np.ndarray) -> pa.Array:
    """The rare SAS file in WLATIN1: decoded value by value, distinct values only."""
    rows, length = block.shape
    values = pa.FixedSizeBinaryArray.from_buffers(pa.binary(length), rows, [None, pa.py_buffer(block)])
    distinct = pc.unique(values)
    decoded = pa.array([value.decode("cp1252") for value in distinct.to_pylist()], type=pa.large_string())
    return decoded.take(pc.index_in(values, value_set=distinct))


def _trimmed(text: pa.Array, block: np.ndarray) -> pa.Array:
    """As readstat returns text: trailing blanks dropped, nothing after a NUL byte. (Blanks
    are cut byte-wise: no byte of a multi-byte UTF-8 character is an ASCII blank.)"""
    if not block.all():  # a NUL byte somewhere
        text = pc.replace_substring_regex(text, pattern="\x00(?s:.)*", replacement="")
    return pc.ascii_rtrim(text, characters=" ")


_MISSING_CODES = np.frombuffer(b"." + "".join(sorted(SPECIAL_MISSING_CODES)).encode("ascii"), dtype=np.uint8)


def _numbers(block: np.ndarray) -> pd.Series:
    """A Num column: IBM System/370 doubles (3-8 bytes, the rest zero) as IEEE doubles.

    The fraction is cut, not rounded, to IEEE's 53 bits, as SAS's own conversion (TS-140's
    xpt2ieee, which readstat uses) does; the writer's doubles come back exactly. A first byte
    of ".", A-Z or "_" with zeros after it is a missing value: "." NaN, the others
    SpecialMissing, which makes the column one of objects.
    """
    rows, length = block.shape
    padded = np.zeros((rows, 8), dtype=np.uint8)
    padded[:, :length] = block
    bits = padded.view(">u8").ravel().astype(np.uint64)
    first = padded[:, 0]
    fraction = bits & np.uint64((1 << 56) - 1)
    shift = np.select(
        [fraction >> np.uint64(55) != 0, fraction >> np.uint64(54) != 0, fraction >> np.uint64(53) != 0], [3, 2, 1], 0
    ).astype(np.uint64)
    exponent = (first & 0x7F).astype(np.int64)
    values = np.ldexp((fraction >> shift).astype(np.float64), 4 * (exponent - 64) - 56 + shift.astype(np.int64))
    values = np.where(first & 0x80, -values, values)
    missing = (fraction == 0) & np.isin(first, _MISSING_CODES)
    values[missing] = np.nan
    special = missing & (first != ord("."))
    if not special.any():
        return pd.Series(values)
    objects = values.astype(object)
    objects[special] = [SpecialMissing(chr(code)) for code in first[special]]
    return pd.Series(objects, dtype=object)


def read_xpt_header(path: Path) -> tuple[str, tuple[XptVariable, ...]]:
    """The dataset label and variables of an XPORT file, from its header only (fast at any size)."""
    meta = _header(path)
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
    """Text as a reader returns it, sharing the column's memory where it can: at 100,000
    patients the datasets hold 1.3 GB, and validation holds this copy beside them."""
    text = empty_for_missing(values)
    if pc.any(pc.ends_with(text, " ")).as_py():
        text = pc.utf8_rtrim(text, characters=" ")
    return text_series(text, values.index)


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
