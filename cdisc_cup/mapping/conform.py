"""Check a finished dataset against its spec before anything is written.

SAS XPORT v5 and the FDA Technical Conformance Guide set hard limits (names of 8 and labels
of 40 characters, character values of 200 bytes, ASCII); the spec sets types, order,
maximum lengths and codelists. A violation is a located error, never a silently truncated
or non-conformant file. The written length of a character variable is sized to its longest
value (FDA TCG section 4.1.5.2, "Variable lengths"), at least 1.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from cdisc_cup import ct
from cdisc_cup.columns import byte_lengths, is_in, not_ascii
from cdisc_cup.constants import MAX_LABEL_LENGTH, MAX_NAME_LENGTH
from cdisc_cup.errors import MAX_LOCATED, ConformanceErrors, Problem
from cdisc_cup.provenance import BLOCK, LINE, SOURCE_FILE
from cdisc_cup.spec.model import DatasetSpec


def _where(frame: pd.DataFrame, position: int) -> str:
    """Record number, and the raw file and line it came from when the trace is there."""
    where = f"record {position + 1}"
    if SOURCE_FILE in frame.columns:
        where += f" (from {frame[SOURCE_FILE].iloc[position]} line {frame[LINE].iloc[position]})"
    return where


def _value_problems(
    spec: DatasetSpec, frame: pd.DataFrame, variable: str, mask: pd.Series, message: str, expected: str
) -> list[Problem]:
    positions = np.flatnonzero(np.asarray(mask, dtype=bool))
    if not len(positions):
        return []
    values = frame[variable].iloc[positions[:MAX_LOCATED]].tolist()
    problems = [
        Problem(spec.name, f"{_where(frame, p)}: {message}", column=variable, value=str(value), expected=expected)
        for p, value in zip(positions[:MAX_LOCATED], values, strict=True)
    ]
    if len(positions) > MAX_LOCATED:
        problems.append(Problem(spec.name, f"… and {len(positions) - MAX_LOCATED} more records", column=variable))
    return problems


def _codelist_scopes(spec: DatasetSpec, frame: pd.DataFrame, variable: str) -> dict[str, np.ndarray]:
    """The records each codelist of the variable applies to, in order of first record: a
    record block may name its own (value-level metadata). Decided per block, not per record."""
    if BLOCK not in frame.columns:
        codelist = spec.variable(variable).codelist
        return {codelist: np.ones(len(frame), dtype=bool)} if codelist else {}
    blocks_of: dict[str, list[int]] = {}
    for number, codelist in enumerate(spec.codelists_by_block(variable)):
        if codelist is not None:
            blocks_of.setdefault(str(codelist), []).append(number)
    blocks = frame[BLOCK].to_numpy()
    scopes = {codelist: np.isin(blocks, numbers) for codelist, numbers in blocks_of.items()}
    return dict(sorted(((c, s) for c, s in scopes.items() if s.any()), key=lambda item: int(item[1].argmax())))


def _codelist_problems(
    spec: DatasetSpec, frame: pd.DataFrame, variable: str, terminology: ct.Terminology
) -> list[Problem]:
    problems: list[Problem] = []
    present = frame[variable].notna().to_numpy()
    for codelist_id, scope in _codelist_scopes(spec, frame, variable).items():
        codelist = terminology.codelist(codelist_id)
        if codelist.extensible:
            continue  # sponsor terms are allowed; define.xml marks them def:ExtendedValue
        outside = scope & present & ~is_in(frame[variable], pd.Series(sorted(codelist.values())))
        problems += _value_problems(
            spec,
            frame,
            variable,
            outside,
            "value not in codelist",
            f"a term of the non-extensible codelist {codelist.id} ({codelist.nci_code})",
        )
    return problems


def check_dataset(spec: DatasetSpec, frame: pd.DataFrame, terminology: ct.Terminology) -> dict[str, int]:
    """Raise ConformanceErrors listing every violation; return the written character lengths:
    the bytes of the longest value of each character variable, at least 1."""
    problems: list[Problem] = []
    lengths: dict[str, int] = {}
    if len(spec.name) > MAX_NAME_LENGTH:
        problems.append(
            Problem(spec.name, "dataset name longer than 8 characters", value=spec.name, expected="at most 8")
        )
    if len(spec.label) > MAX_LABEL_LENGTH:
        problems.append(
            Problem(spec.name, "dataset label longer than 40 characters", value=spec.label, expected="at most 40")
        )
    present = [c for c in frame.columns if c in spec.variable_names]
    if present != spec.variable_names:
        problems.append(
            Problem(
                spec.name,
                "variables not in spec order",
                value=", ".join(present),
                expected=", ".join(spec.variable_names),
            )
        )
    for variable in spec.variables:
        name = variable.name
        if name not in frame.columns:
            continue
        if len(name) > MAX_NAME_LENGTH or not name.isascii():
            problems.append(
                Problem(
                    spec.name, "variable name not a SAS V5 name", column=name, expected="at most 8 ASCII characters"
                )
            )
        if len(variable.label) > MAX_LABEL_LENGTH or not variable.label.isascii():
            problems.append(
                Problem(
                    spec.name,
                    "variable label too long or not ASCII",
                    column=name,
                    value=variable.label,
                    expected="at most 40 ASCII characters",
                )
            )
        values = frame[name]
        if variable.type == "Num":
            if not pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_datetime64_any_dtype(values):
                problems.append(Problem(spec.name, "numeric variable holds text", column=name, expected="numbers"))
            continue
        text = values.astype("string")
        non_ascii = pd.Series(not_ascii(text), index=text.index)
        problems += _value_problems(
            spec,
            frame,
            name,
            non_ascii,
            "value has characters SAS XPORT v5 cannot hold",
            "ASCII text (German letters are transliterated; this character has no ASCII form)",
        )
        limit = variable.max_text_length
        value_lengths = byte_lengths(text)
        lengths[name] = max(int(value_lengths.max()) if len(value_lengths) else 0, 1)
        too_long = value_lengths > limit
        problems += _value_problems(
            spec,
            frame,
            name,
            too_long,
            "value longer than the variable allows",
            f"at most {limit} characters ({spec.name}.{name} length in the spec)",
        )
        if variable.codelist or any("codelist" in (b.values.get(name) or {}) for b in spec.records):
            problems += _codelist_problems(spec, frame, name, terminology)
    if problems:
        raise ConformanceErrors(problems)
    return lengths


def check_datasets(
    specs: Mapping[str, DatasetSpec], frames: Mapping[str, pd.DataFrame], terminology: ct.Terminology
) -> dict[str, dict[str, int]]:
    """Check every dataset against its spec, collecting all problems of all datasets into one error."""
    lengths: dict[str, dict[str, int]] = {}
    problems: list[Problem] = []
    for name, frame in frames.items():
        try:
            lengths[name] = check_dataset(specs[name], frame, terminology)
        except ConformanceErrors as error:
            problems += error.problems
    if problems:
        raise ConformanceErrors(problems)
    return lengths
