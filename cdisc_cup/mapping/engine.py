"""The spec engine: raw tables + dataset specs -> SDTM DataFrames.

A dataset is built block by block (`records:` in the spec). A block's records come from a
raw file, from SDTM datasets built before it (SE from DM, SV from the visits of EX, VS and
RS) or from the spec itself (one record per row: the trial design datasets). For every
record of a block, each variable gets its value from the block's own source or, if the block
has none, the variable's default source: a column of the block's records, a constant, a
codelist mapping or a named derivation from `cdisc_cup.mapping.catalogue`. Record-level
sources are evaluated per block; dataset-level derivations (--SEQ, --DY, EPOCH, SUPP--
IDVARVAL) run once the blocks are stacked. Each record made from a raw record keeps its raw
file and line (SOURCE_FILE, LINE) for the audit trail; `submission_frame` drops them before
writing. Records made from SDTM datasets or from the spec have none.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from cdisc_cup import conditions
from cdisc_cup.columns import constant_text, distinct_map, first_of_each, is_blank, key_codes, stable_order
from cdisc_cup.constants import WORKER_THREADS
from cdisc_cup.derivations.text import number_text, split_between_words
from cdisc_cup.errors import MAX_LOCATED, InputErrors, Problem, SpecErrors
from cdisc_cup.mapping.catalogue import CATALOGUE, DerivationInput
from cdisc_cup.provenance import BLOCK, LINE, SOURCE_FILE, TRACE_COLUMNS, RawTable, source_files, submission_frame
from cdisc_cup.spec.model import (
    CONTINUATION_VARIABLES,
    MAX_CONTINUATIONS,
    Condition,
    ContinuedText,
    DatasetSpec,
    RecordBlock,
    StudySpec,
    ValueSource,
    VariableSpec,
)
from cdisc_cup.spec.schema import source_kind

# Keys of a value source that are not parameters of its derivation (value-level metadata).
SOURCE_PARAMETERS_NOT_PASSED = ("derivation", "when", "codelist", "data_type", "otherwise")


def _row_problems(spec: DatasetSpec, block: RecordBlock) -> list[Problem]:
    """A spec-defined row has no columns to read: its values are constants or dataset-level
    derivations (which read SDTM datasets), whether its own or the variables' defaults."""
    problems = []
    for variable in spec.variables:
        source = _source_for(block, variable)
        if source is None:
            continue
        kind = source_kind(dict(source))
        entry = CATALOGUE.get(source.get("derivation", ""))
        if kind in ("column", "map") or (entry is not None and entry.level == "record"):
            problems.append(
                Problem(
                    str(spec.path),
                    f"{variable.name} of a spec-defined row reads a column, and a row has none",
                    column=block.location,
                    value=source.get("derivation") or source.get("column"),
                    expected="a constant or a derivation of the dataset level ("
                    + ", ".join(sorted(n for n, d in CATALOGUE.items() if d.level == "dataset"))
                    + ")",
                )
            )
    return problems


def check_sources(study: StudySpec) -> None:
    """Every derivation named in the SDTM specs exists, with parameters it accepts, and a
    spec-defined row reads no column."""
    problems = []
    for spec in study.sdtm:
        sources = [(f"variables.{v.name}.value", v.value) for v in spec.variables if v.value]
        sources += [
            (f"{block.location}.{name}" if block.kind == "row" else f"{block.location}.values.{name}", source)
            for block in spec.records
            for name, source in block.values.items()
        ]
        problems += [problem for block in spec.records if block.kind == "row" for problem in _row_problems(spec, block)]
        problems += [
            Problem(
                str(spec.path),
                "a value that reads raw columns has a when on variables: it is evaluated either per "
                "record block (columns) or once the blocks are stacked (variables), not both",
                column=key_path,
                expected="a when on raw columns, or a constant with a when on variables",
            )
            for key_path, source in sources
            if source_kind(dict(source)) != "derivation"
            and conditions.names_read(source.get("when"), "variable")
            and _raw_columns(dict(source))
        ]
        problems += _unknown_codelists(study, spec, sources)
        problems += [
            problem
            for block in spec.records
            if block.kind == "continuation"
            for problem in _continuation_source_problems(study, spec, block)
        ]
        for key_path, source in sources:
            if source_kind(dict(source)) != "derivation":
                continue
            entry = CATALOGUE.get(source["derivation"])
            if entry is None:
                problems.append(
                    Problem(
                        str(spec.path),
                        "unknown derivation",
                        column=key_path,
                        value=source["derivation"],
                        expected="one of " + ", ".join(sorted(CATALOGUE)),
                    )
                )
                continue
            unknown = set(source) - set(SOURCE_PARAMETERS_NOT_PASSED) - set(entry.parameters)
            problems += [
                Problem(
                    str(spec.path),
                    f"derivation {entry.name} has no parameter {name}",
                    column=key_path,
                    expected=", ".join(entry.parameters) or "no parameters",
                )
                for name in sorted(unknown)
            ]
    if problems:
        raise SpecErrors(problems)


def _continuation_source_problems(study: StudySpec, spec: DatasetSpec, block: RecordBlock) -> list[Problem]:
    """A continued text comes from the records of one raw block, by a record-level source:
    its continuation records are made from those raw records, and its own block keeps the
    first part while the records are built (before the dataset-level derivations)."""
    text = study.continued_text(spec, block)
    where = f"{text.spec.name}.{text.name}" if text.spec is not spec else f"QVAL of QNAM {text.name}"
    origins = [origin for origin in text.blocks if origin.kind == "raw"]
    source = dict(_source_for(origins[0], text.variable) or {}) if origins else {}
    known = source_kind(source) != "derivation" or source["derivation"] in CATALOGUE
    if len(origins) != 1 or len(text.blocks) != 1:
        message = f"the text of {where} comes from {len(text.blocks)} record blocks, {len(origins)} of a raw file"
        expected = "a text made by one record block of a raw file (from:)"
    elif known and not _is_record_level(source):
        message = f"the text of {where} is derived once the dataset is built, too late to keep its first part"
        expected = "a text read from raw columns: a column, a map or a record-level derivation (ascii_text)"
    else:
        return []
    return [Problem(str(spec.path), message, column=f"{block.location}.continues", value=text.name, expected=expected)]


def _unknown_codelists(study: StudySpec, spec: DatasetSpec, sources: list[tuple[str, ValueSource]]) -> list[Problem]:
    """A codelist a variable or a block's value names must be in the study's CT: the values are
    checked against it and derivations read it (TSVALCD), so a misspelt or missing one is a
    spec error before anything is built."""
    known = study.terminology.codelists
    named = [(f"variables.{v.name}.codelist", v.codelist) for v in spec.variables if v.codelist]
    named += [(f"{key_path}.codelist", source["codelist"]) for key_path, source in sources if "codelist" in source]
    return [
        Problem(
            str(spec.path),
            "the codelist is not in the study's controlled terminology",
            column=key_path,
            value=codelist,
            expected="a codelist of the CT packages of study.yaml standards (or of ct/sponsor.yaml)",
        )
        for key_path, codelist in named
        if codelist not in known
    ]


def _placeholders(study: StudySpec) -> dict[str, Any]:
    """What a constant may name: `{studyid}`, a study parameter, `{standards[sdtm_ct]}`."""
    return {
        "studyid": study.studyid,
        "country": study.country,
        "protocol": study.protocol,
        "standards": dict(study.standards),
        **study.parameters,
    }


def _condition_mask(condition: Condition | None, frame: pd.DataFrame, data: DerivationInput) -> pd.Series:
    """Which records a `where`/`when` condition selects; `column` reads raw, `variable` SDTM."""
    if condition is None:
        return pd.Series(True, index=frame.index)
    subjects = conditions.Subjects(
        read=lambda key, name: data.raw_column(name) if key == "column" else frame[name],
        index=frame.index,
    )
    return conditions.evaluate(condition, subjects)


def _map_codes(
    source: ValueSource,
    data: DerivationInput,
    variable: VariableSpec,
    table: RawTable | None,
    otherwise: pd.Series | None,
) -> pd.Series:
    """Codelist mapping: an unmapped raw code is an input problem, never a silent null, unless
    the source says what such a code becomes (`otherwise`: the visit number in the name of an
    unscheduled visit); then only a code that gets no value from it either is a problem."""
    spec = data.spec
    raw = data.raw_column(source["column"]) if "column" in source else data.frame[source["variable"]]
    raw = raw.astype("string")
    mapping = {str(k): v for k, v in source["map"].items()}
    mapped = distinct_map(raw, mapping)
    if otherwise is not None:
        mapped = mapped.fillna(otherwise.astype("string"))
    unmapped = raw.notna() & mapped.isna()
    if unmapped.any() and table is not None and data.rows is not None:
        lines = data.rows.loc[unmapped, LINE].to_numpy()
        values = raw[unmapped].to_numpy()
        raise InputErrors(
            [
                Problem(
                    str(table.path),
                    f"value has no mapping to {spec.name}.{variable.name}",
                    line=int(line),
                    column=source.get("column"),
                    value=str(value),
                    expected="one of " + ", ".join(mapping),
                )
                for line, value in zip(lines[:MAX_LOCATED], values[:MAX_LOCATED], strict=True)
            ]
        )
    return mapped


def _evaluate(
    source: ValueSource, variable: VariableSpec, data: DerivationInput, study: StudySpec, table: RawTable | None
) -> pd.Series:
    kind = source_kind(dict(source))
    index = data.frame.index
    if kind == "constant":
        constant = source["constant"]
        if constant is None:
            values = constant_text(None, index)
        elif isinstance(constant, str):
            values = constant_text(constant.format(**_placeholders(study)), index)
        else:
            values = pd.Series(float(constant), index=index, dtype="Float64")
    elif kind == "column":
        values = data.raw_column(source["column"])
    elif kind == "map":
        otherwise = source.get("otherwise")
        fallback = _evaluate(otherwise, variable, data, study, table) if otherwise is not None else None
        values = _map_codes(source, data, variable, table, fallback)
    else:
        entry = CATALOGUE[source["derivation"]]
        parameters = {k: v for k, v in source.items() if k not in SOURCE_PARAMETERS_NOT_PASSED}
        values = entry.function(data, **parameters)
    values = values.reindex(index) if not values.index.equals(index) else values
    if "when" in source:
        chosen = _condition_mask(source["when"], data.frame, data)
        values = values.where(chosen)
    return values


def _is_record_level(source: ValueSource) -> bool:
    """Record-level sources are evaluated per block, the others once the blocks are stacked: a
    dataset-level derivation, and a source whose `when` reads variables (SV.SVOCCUR reads
    SVPRESP, itself derived from TV), so that the variables it reads are in place."""
    if source_kind(dict(source)) == "derivation":
        return CATALOGUE[source["derivation"]].level == "record"
    return not conditions.names_read(source.get("when"), "variable")


def _typed(values: pd.Series, variable: VariableSpec) -> pd.Series:
    """Char -> string (numbers as SDTM text, 80 not 80.0); Num -> Float64."""
    if variable.type == "Num":
        if values.dtype == "Float64":  # typed already (a block's values, then the stacked dataset)
            return values
        return pd.to_numeric(values, errors="coerce").astype("Float64")
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return number_text(values)
    text = values.astype("string")
    blank = is_blank(text)  # one Arrow pass; masking copies the column, so only when needed
    return text.mask(blank, pd.NA) if blank.any() else text


def _source_for(block: RecordBlock, variable: VariableSpec) -> ValueSource | None:
    """The block's own source of the variable, else the variable's. A continuation block's
    QNAM, QLABEL and QVAL have none: they come from the text it continues."""
    if block.kind == "continuation" and variable.name in CONTINUATION_VARIABLES:
        return None
    return block.values.get(variable.name, variable.value)


def _datasets_rows(spec: DatasetSpec, block: RecordBlock, built: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """The records of a block from SDTM datasets: theirs stacked (without their trace), or the
    distinct combinations of the `distinct` variables. A column the block reads that they do
    not have is a spec error naming the block."""
    available = set().union(*(built[name].columns for name in block.datasets)) - set(TRACE_COLUMNS)
    readable = set(block.distinct) & available if block.distinct else available
    read = [*_raw_columns(block.where), *(c for source in block.values.values() for c in _raw_columns(source))]
    read += [c for v in spec.variables if v.name not in block.values for c in _raw_columns(v.value)]
    missing = [name for name in dict.fromkeys([*block.distinct, *read]) if name not in readable]
    if missing:
        raise SpecErrors(
            [
                Problem(
                    str(spec.path),
                    f"the block reads {name}, which its records ({', '.join(block.datasets)}) do not have",
                    column=block.location,
                    value=name,
                    expected=("one of " + ", ".join(block.distinct)) if block.distinct else "a variable of theirs",
                )
                for name in missing
            ]
        )
    if not block.distinct:
        return pd.concat([submission_frame(built[name]) for name in block.datasets], ignore_index=True)
    # Only the variables the records are made of are stacked (SV: three of EX's 20).
    distinct = list(block.distinct)
    stacked = pd.concat([built[name].reindex(columns=distinct) for name in block.datasets], ignore_index=True)
    (keys,) = key_codes([stacked], distinct)
    return stacked.take(first_of_each(keys)).reset_index(drop=True)


def _block_records(
    spec: DatasetSpec, block: RecordBlock, raw: Mapping[str, RawTable], built: Mapping[str, pd.DataFrame]
) -> tuple[pd.DataFrame, RawTable | None]:
    """What a block's records are made from, one row each, and the raw table behind them."""
    if block.source is not None:
        table = raw[block.source]
        return _mapped_columns(table), table
    if block.kind == "datasets":
        return _datasets_rows(spec, block, built), None
    return pd.DataFrame(index=pd.RangeIndex(1)), None


def _mapped_columns(table: RawTable) -> pd.DataFrame:
    """A raw file's records without the columns no spec reads (those are reported, never
    mapped): a block's `where` need not copy them."""
    return table.frame.drop(columns=table.extra_columns)


def build_dataset(
    spec: DatasetSpec, study: StudySpec, raw: Mapping[str, RawTable], built: Mapping[str, pd.DataFrame]
) -> pd.DataFrame:
    """One SDTM dataset with its trace columns, in spec variable order, sorted by key."""
    parts = [_block_part(spec, study, raw, built, number) for number in range(len(spec.records))]
    frame = _stacked(parts) if parts else pd.DataFrame(columns=[*spec.variable_names, *TRACE_COLUMNS])
    del parts
    for variable in spec.variables:
        if variable.name not in frame.columns:
            frame[variable.name] = pd.Series(
                pd.NA, index=frame.index, dtype="Float64" if variable.type == "Num" else "string"
            )
    frame = _dataset_level(spec, study, raw, built, frame)[[*spec.variable_names, *TRACE_COLUMNS]]
    return _sorted(spec, frame)  # empties `frame`, column by column


def _stacked(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """`pd.concat(parts, ignore_index=True)` a column at a time, each block's column let go
    once stacked: the blocks and the dataset are never held whole at once (EX of 100,000
    patients: 600 MB twice). A block without the column gets missing values, as in concat."""
    names = list(dict.fromkeys(name for part in parts for name in part.columns))
    stacked = {}
    for name in names:
        pieces = [part[[name]] if name in part.columns else part.iloc[:, :0] for part in parts]
        for part in parts:
            if name in part.columns:
                del part[name]
        stacked[name] = pd.concat(pieces, ignore_index=True)[name]
        del pieces
    return pd.DataFrame(stacked)


def _block_part(
    spec: DatasetSpec, study: StudySpec, raw: Mapping[str, RawTable], built: Mapping[str, pd.DataFrame], number: int
) -> pd.DataFrame:
    """The records of one record block, with their record-level variables and trace."""
    block = spec.records[number]
    given: dict[str, pd.Series] = {}
    if block.kind == "continuation":
        rows, table, given = _continuation_records(spec, study, raw, built, block)
    else:
        source_rows, table = _block_records(spec, block, raw, built)
        data = DerivationInput(study, spec, raw, built, frame=pd.DataFrame(index=source_rows.index), rows=source_rows)
        rows = source_rows[_condition_mask(block.where, data.frame, data)]
    records = pd.DataFrame(index=rows.index)
    data = DerivationInput(study, spec, raw, built, frame=records, rows=rows)
    for variable in spec.variables:
        source = _source_for(block, variable)
        if variable.name in given:
            records[variable.name] = given[variable.name]
        elif source is not None and _is_record_level(source):
            values = _typed(_evaluate(source, variable, data, study, table), variable)
            if _continues_elsewhere(spec, block, variable):
                values = split_between_words(values, variable.max_text_length, 2)[0]
            records[variable.name] = values
            data.forget(variable.name)
    files = [raw_table.spec.file for raw_table in raw.values()]
    # Made from SDTM datasets or from the spec, a record has no raw file or line behind it.
    records[SOURCE_FILE] = source_files(files, table.spec.file if table is not None else None, len(rows))
    records[LINE] = rows[LINE] if table is not None else pd.Series(pd.NA, index=rows.index, dtype="Int64")
    records[BLOCK] = number
    return records


def _continues_elsewhere(spec: DatasetSpec, block: RecordBlock, variable: VariableSpec) -> bool:
    """Whether the block's value of the variable keeps only its first part, the rest going to
    continuation records: a variable `continued_in` a SUPP-- dataset (AE.AETERM), or the QVAL
    of a qualifier a continuation block of its own dataset continues (SUPPMH MMSUBTYP)."""
    if variable.continued_in is not None:
        return True
    return variable.name == "QVAL" and block.constant("QNAM") in spec.continued_qnams


def _continuation_records(
    spec: DatasetSpec,
    study: StudySpec,
    raw: Mapping[str, RawTable],
    built: Mapping[str, pd.DataFrame],
    block: RecordBlock,
) -> tuple[pd.DataFrame, RawTable, dict[str, pd.Series]]:
    """A continuation block's records (SDTMIG 3.4 section 4.5.3.2): one per part after the
    first of the text it continues, QNAM AETERM1, AETERM2, ... with the continued variable's
    label, each made from that text's raw record, so that it keeps its raw file and line (the
    audit trail; IDVARVAL, the parent's --SEQ of the same raw record). The text is evaluated
    as its own block does and split by the same function, so the parts join up."""
    text = study.continued_text(spec, block)
    (origin,) = text.blocks  # one raw block (check_sources)
    table = raw[origin.source or ""]
    records = _mapped_columns(table)
    data = DerivationInput(study, text.spec, raw, built, frame=pd.DataFrame(index=records.index), rows=records)
    rows = records[_condition_mask(origin.where, data.frame, data)]
    data = DerivationInput(study, text.spec, raw, built, frame=pd.DataFrame(index=rows.index), rows=rows)
    source = _source_for(origin, text.variable)
    full = _typed(_evaluate(source or {}, text.variable, data, study, table), text.variable)
    # The first part stays with the text's own record; one more part than QNAMs shows text
    # that does not fit them.
    limit = text.variable.max_text_length
    parts = split_between_words(full, limit, MAX_CONTINUATIONS + 2)
    for beyond in parts[MAX_CONTINUATIONS + 1 :]:
        _refuse_beyond_continuations(spec, text, limit, table, rows, beyond.dropna(), full)
    continuations = [part.dropna() for part in parts[1 : MAX_CONTINUATIONS + 1]]
    none = np.empty(0, dtype=np.intp)
    positions = np.concatenate([none, *(rows.index.get_indexer(part.index) for part in continuations)])
    numbers = np.concatenate([none, *(np.full(len(part), n) for n, part in enumerate(continuations))])
    records = rows.take(positions).reset_index(drop=True)
    index = records.index
    values = [part.array for part in continuations]
    given = {
        "QNAM": pd.Series(np.asarray(text.qnams, dtype=object)[numbers], index=index, dtype="string"),
        "QLABEL": constant_text(text.label, index),
        "QVAL": pd.Series(np.concatenate([np.empty(0, dtype=object), *values]), index=index, dtype="string"),
    }
    return records, table, given


def _refuse_beyond_continuations(
    spec: DatasetSpec,
    text: ContinuedText,
    limit: int,
    table: RawTable,
    rows: pd.DataFrame,
    beyond: pd.Series,
    full: pd.Series,
) -> None:
    """Text that needs more continuations than a QNAM has digits for (one, SDTMIG 3.4 section
    4.5.3.2) is an input problem naming its raw line, never cut off silently."""
    if beyond.empty:
        return
    located, qnams = beyond.index[:MAX_LOCATED], text.qnams
    raise InputErrors(
        [
            Problem(
                str(table.path),
                f"text of {len(full[label])} characters is too long for {spec.name}: its continuations "
                f"would need more QNAMs than {qnams[0]} to {qnams[-1]}",
                line=int(rows.at[label, LINE]),
                value=str(full[label])[:60] + "...",
                expected=f"at most {len(qnams) + 1} parts of {limit} characters (SDTMIG 3.4 section 4.5.3.2)",
            )
            for label in located
        ]
    )


def _dataset_level(
    spec: DatasetSpec,
    study: StudySpec,
    raw: Mapping[str, RawTable],
    built: Mapping[str, pd.DataFrame],
    frame: pd.DataFrame,
) -> pd.DataFrame:
    """Derivations over the stacked dataset. Each distinct source is evaluated once over the
    whole dataset and applied to the blocks that use it (blocks may override the default)."""
    data = DerivationInput(study, spec, raw, built, frame=frame)
    for variable in spec.variables:
        blocks_by_source: dict[str, tuple[ValueSource, list[int]]] = {}
        for number, block in enumerate(spec.records):
            source = _source_for(block, variable)
            if source is not None and not _is_record_level(source):
                entry = blocks_by_source.setdefault(repr(sorted(source.items())), (source, []))
                entry[1].append(number)
        if not blocks_by_source:
            continue
        values = frame[variable.name].copy()
        for source, numbers in blocks_by_source.values():
            derived = _typed(_evaluate(source, variable, data, study, None), variable)
            values = values.where(~frame[BLOCK].isin(numbers), derived)
        frame[variable.name] = _typed(values, variable)
        data.forget(variable.name)
    return frame


def _sorted(spec: DatasetSpec, frame: pd.DataFrame) -> pd.DataFrame:
    """Records in key order: USUBJID, then --SEQ where the dataset has both, else the keys
    (TS: by parameter, then TSSEQ)."""
    seq = f"{spec.name}SEQ"
    by_subject = seq in frame.columns and "USUBJID" in frame.columns
    order = ["USUBJID", seq] if by_subject else [k for k in spec.keys if k in frame.columns]
    positions = stable_order(frame, order)
    if (positions == np.arange(len(positions))).all():  # in order already: moving no column
        return frame.reset_index(drop=True)
    # A column at a time, each let go once moved, so the dataset is never held twice; on one
    # thread: taking the columns on several was faster but left each thread's allocator
    # holding freed memory (350 MB more at 100,000 patients).
    moved = {name: frame.pop(name).array.take(positions) for name in list(frame.columns)}
    return pd.DataFrame(moved)


def _raw_columns(source: Any) -> list[str]:
    """The raw columns a value source (or a block's `where`) reads: `column`, `columns` and
    those of its `when`."""
    if not isinstance(source, Mapping):
        return []
    columns = [c for c in source.get("columns") or [] if isinstance(c, str)]
    return [*conditions.names_read(source, "column"), *columns, *conditions.names_read(source.get("when"), "column")]


def _optional_raw_columns(spec: DatasetSpec) -> dict[str, list[tuple[str, str]]]:
    """`{variable: [(raw file, column), ...]}` for the spec's `optional` variables."""
    found: dict[str, list[tuple[str, str]]] = {}
    for variable in spec.variables:
        if variable.optional:
            for block in spec.records:
                for column in _raw_columns(_source_for(block, variable)):
                    file_name, _, name = column.rpartition(".")
                    found.setdefault(variable.name, []).append((file_name or block.source, name))
    return found


def without_uncollected(study: StudySpec, spec: DatasetSpec, names: Collection[str]) -> DatasetSpec:
    """The SDTM spec without these optional variables; its define.xml comment says which raw
    columns were not collected, so the reviewer reads why (the same words however the
    variables were found missing)."""
    columns = _optional_raw_columns(spec)
    read = sorted({(file, column) for name in names for file, column in columns.get(name, [])})
    files = sorted({study.raw_file(file).file for file, _ in read})
    note = (
        f"{', '.join(names)} not submitted: the export ({', '.join(files)}) has no "
        f"{', '.join(column for _, column in read)} (not collected in its format)."
    )
    return spec.without(names, note)


def study_for_export(study: StudySpec, raw: Mapping[str, RawTable]) -> StudySpec:
    """The study's SDTM specs as this export allows: an `optional` variable all of whose raw
    columns the export lacks (a format v1 export has no seriousness criteria) is left out."""
    specs = []
    for spec in study.sdtm:
        left_out = [
            name
            for name, columns in _optional_raw_columns(spec).items()
            if all(file in raw and column in raw[file].absent_columns for file, column in columns)
        ]
        specs.append(without_uncollected(study, spec, left_out) if left_out else spec)
    return replace(study, sdtm=tuple(specs))


# From this many raw records, datasets are built side by side, one per core: below it their
# Python work contends for the interpreter's lock more than the column work gains.
SIDE_BY_SIDE_FROM_RECORDS = 250_000


class _EarlierDatasets(Mapping[str, pd.DataFrame]):
    """The datasets listed before one in study.yaml, as its derivations read them (SV the
    visits of EX, every study day DM): one still being built on another thread is waited for."""

    def __init__(self, building: Mapping[str, Future[pd.DataFrame]], names: Sequence[str]) -> None:
        self._building, self._names = building, tuple(names)

    def __getitem__(self, name: str) -> pd.DataFrame:
        if name not in self._names:
            raise KeyError(name)
        return self._building[name].result()

    def __contains__(self, name: object) -> bool:
        return name in self._names

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


def build_sdtm(study: StudySpec, raw: Mapping[str, RawTable]) -> dict[str, pd.DataFrame]:
    """Every SDTM dataset of the study, in spec order (later ones may look up earlier ones).

    A large export's datasets are built side by side, in spec order: a dataset waits only for
    the earlier ones it reads, which started before it, so the threads never wait on each
    other in a circle. A problem is raised for the first dataset in spec order that has one,
    as when they are built one after the other."""
    check_sources(study)
    records = sum(len(table.frame) for table in raw.values())
    threads = WORKER_THREADS if records >= SIDE_BY_SIDE_FROM_RECORDS else 1
    building: dict[str, Future[pd.DataFrame]] = {}
    with ThreadPoolExecutor(threads, thread_name_prefix="map") as pool:
        for spec in study.sdtm:
            earlier = _EarlierDatasets(building, list(building))
            building[spec.name] = pool.submit(build_dataset, spec, study, raw, earlier)
        try:
            return {name: dataset.result() for name, dataset in building.items()}
        except BaseException:
            pool.shutdown(cancel_futures=True)
            raise
