"""The shape of each ItemDef from the data, and the value-level metadata from the specs.

The specs say what a variable means; the data say how it was written. DataType, Length,
SignificantDigits and DisplayFormat are measured here from the values (Define-XML 2.1,
ItemDef: Length is the longest value for text, the digits for numbers), once, when define.xml
is built; Dataset-JSON then reads them from the define model instead of measuring again.
Value-level metadata (def:ValueListDef, def:WhereClauseDef) comes from the record blocks of
a dataset spec: SUPP-- QVAL by QNAM, Findings results by --TESTCD, ADaM AVAL by PARAMCD, and
any variable whose codelist or data type changes from block to block, such as TS.TSVAL by
TSPARMCD (FDA Study Data TCG section 4.1.4.5). The QNAMs of text continued beyond 200
characters (AETERM1, ...; SDTMIG 3.4 section 4.5.3.2) are described where the data have them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cdisc_cup.columns import byte_lengths
from cdisc_cup.constants import SAS_EPOCH_DAY
from cdisc_cup.spec.model import ContinuedText, DatasetSpec, RecordBlock, StudySpec, VariableSpec

# Findings/BDS results whose meaning depends on the test or parameter (value-level metadata).
RESULT_SUFFIXES = ("ORRES", "ORRESU", "STRESC", "STRESN", "STRESU")
ADAM_RESULTS = ("AVAL", "AVALC")

NUMERIC_DATE_TYPES = frozenset({"date", "datetime", "time"})
# The SAS formats of a date, datetime or time number (with or without width: DATE9., E8601DA.).
DATE_FORMATS = frozenset(
    {
        "DATE",
        "E8601DA",
        "IS8601DA",
        "YYMMDD",
        "DDMMYY",
        "MMDDYY",
        "DATETIME",
        "E8601DT",
        "IS8601DT",
        "TIME",
        "E8601TM",
    }
)


# --- what the data say -----------------------------------------------------------------------


def text_length(values: pd.Series) -> int:
    """Length of text values: the longest in bytes, at least 1 (an XPT variable needs 1), as the
    spec check measures the written length (columns.byte_lengths)."""
    lengths = byte_lengths(values.astype("string"))
    return max(1, int(lengths.max())) if len(lengths) else 1


def numbers_of(values: pd.Series) -> np.ndarray:
    """The distinct non-missing values as floats; dates become SAS date numbers (days since
    1960-01-01). Lengths and decimals depend only on which values occur: an EXSEQ of 1.7
    million records has a few hundred."""
    if pd.api.types.is_datetime64_any_dtype(values):
        days = values.dropna().to_numpy().astype("datetime64[D]") - SAS_EPOCH_DAY
        return pd.unique(days.astype("int64")).astype(float)
    if pd.api.types.is_numeric_dtype(values):
        distinct = pd.unique(values.to_numpy(dtype=float, na_value=np.nan))
    else:  # numbers held as text: each distinct text converted once
        text = pd.Series(values.astype("string").unique()).dropna()
        distinct = pd.unique(pd.to_numeric(text, errors="coerce").to_numpy(dtype=float, na_value=np.nan))
    return distinct[np.isfinite(distinct)]


def decimals_of(numbers: np.ndarray, max_decimals: int = 8) -> int:
    """Fewest decimal places that hold every value (one vectorised test per candidate)."""
    for places in range(max_decimals + 1):
        if np.allclose(np.round(numbers, places), numbers, rtol=0, atol=1e-9):
            return places
    return max_decimals


def numeric_length(numbers: np.ndarray, decimals: int) -> int:
    """ODM Length of a number: its digits (integer part plus decimals), at least 1."""
    if numbers.size == 0:
        return 1
    integer_digits = len(str(int(np.floor(np.abs(numbers).max()))))
    return integer_digits + decimals


def inferred_type(values: pd.Series, is_char: bool) -> str:
    """integer/float/text as the values look: used for value-level items (SCORRES of NPRLINES).
    Only which values occur matters, so each distinct one is looked at once."""
    present = pd.Series(values.unique(), dtype=values.dtype).dropna()
    if is_char:
        present = present.astype(str)
        present = present[present != ""]
        if present.empty or not present.str.fullmatch(r"-?\d+(\.\d+)?").all():
            return "text"
    numbers = numbers_of(present)
    if numbers.size == 0:
        return "text" if is_char else "float"
    return "integer" if decimals_of(numbers) == 0 else "float"


@dataclass(frozen=True)
class ItemShape:
    """DataType, Length, SignificantDigits and DisplayFormat of one ItemDef."""

    data_type: str
    length: int | None = None
    significant_digits: int | None = None
    display_format: str | None = None


def item_shape(
    variable: VariableSpec, values: pd.Series, written_length: int | None, *, infer: bool = False
) -> ItemShape:
    """The ItemDef shape of a variable (or of its values in one value-level subset).

    Numeric SAS dates are DataType integer with their display format (Define-XML 2.1,
    ItemDef DataType: the ISO 8601 types are for character values only). Length is given for
    text, integer and float only, as the specification requires.
    """
    is_char = variable.type == "Char"
    if is_numeric_date(variable):
        numbers = numbers_of(values)
        return ItemShape("integer", numeric_length(numbers, 0), None, variable.format or "DATE9.")
    data_type = inferred_type(values, is_char) if infer else variable.data_type
    if data_type is None:
        data_type = "text" if is_char else inferred_type(values, is_char=False)
    if data_type == "text":
        length = written_length if written_length is not None else text_length(values)
        return ItemShape("text", length, None, variable.format)
    if data_type in ("integer", "float"):
        numbers = numbers_of(values)
        decimals = 0 if data_type == "integer" else decimals_of(numbers)
        significant = decimals if data_type == "float" else None
        # Numbers held as text (VSORRES "72.5") occupy their text length in the dataset.
        length = text_length(values) if is_char else numeric_length(numbers, decimals)
        return ItemShape(data_type, length, significant, variable.format)
    return ItemShape(data_type, None, None, variable.format)


def is_numeric_date(variable: VariableSpec) -> bool:
    """A SAS date, datetime or time number (ADaM --DT/--DTM): by its data type or its format."""
    return variable.type == "Num" and (variable.data_type in NUMERIC_DATE_TYPES or is_date_format(variable.format))


def is_date_format(sas_format: str | None) -> bool:
    """Whether a SAS format shows a number as a date, datetime or time (DATE9., E8601DT19.)."""
    if not sas_format:
        return False
    return re.sub(r"[\d.]+$", "", sas_format.upper()) in DATE_FORMATS


# --- value-level metadata from the spec's record blocks ----------------------------------------


@dataclass(frozen=True)
class ValueLevel:
    """One value-level item: `variable` where `where_variable` equals `where_value`."""

    variable: str
    where_variable: str
    where_value: str
    codelist: str | None
    description: str
    data_type: str | None = None  # the block's own DataType (TSVAL of SSTDTC: date), else inferred
    comment: str | None = None  # what the item is, when its block does not say (a text's continuation)
    # The aCRF field that shows it, when that is not the variable's own in its block:
    # (dataset, variable, where) of the text a continuation continues.
    crf: tuple[str, str, tuple[str, str] | None] | None = None

    @property
    def key(self) -> str:
        return re.sub(r"[^A-Za-z0-9_]+", "_", self.where_value).strip("_") or "NULL"


def _blocks(spec: DatasetSpec) -> list[tuple[RecordBlock, dict[str, Mapping]]]:
    """Each record block with the value source of each variable: block values over the defaults."""
    defaults = {v.name: v.value for v in spec.variables if v.value is not None}
    return [(block, {**defaults, **block.values}) for block in spec.records]


def _constant(source: Mapping | None) -> str | None:
    if source is None or "constant" not in source or "when" in source:
        return None
    value = source["constant"]
    return None if value is None else str(value)


def discriminator(spec: DatasetSpec) -> str | None:
    """The variable whose value changes the meaning of others: QNAM, PARAMCD, --TESTCD,
    TSPARMCD, --CAT.

    It must be a constant in every record block, so each block describes one of its values.
    """
    prefix = spec.name[:2]
    # A continuation block's QNAMs (AETERM1, ...) are the engine's, one per part of a text.
    blocks = [values for block, values in _blocks(spec) if block.kind != "continuation"]
    if not blocks:
        return None
    for candidate in ("QNAM", "PARAMCD", f"{prefix}TESTCD", f"{prefix}PARMCD", f"{prefix}CAT"):
        if candidate in spec.variable_names and all(_constant(b.get(candidate)) for b in blocks):
            return candidate
    return None


def _label_variable(spec: DatasetSpec, where_variable: str) -> str:
    """The variable that names a discriminator's value: QLABEL of QNAM, --TEST of --TESTCD,
    TSPARM of TSPARMCD, PARAM of PARAMCD (a --CAT names itself)."""
    return "QLABEL" if spec.is_supplemental else where_variable.removesuffix("CD")


def _value_level_targets(spec: DatasetSpec, where_variable: str) -> list[str]:
    """Variables described per value: QVAL of SUPP--, results of tests/parameters, and any
    variable whose codelist or data type is set per record block (DS.DSDECOD: PROTMLST or
    NCOMPLT; TS.TSVAL: NY for RANDOM, a date for SSTDTC)."""
    prefix = spec.name[:2]
    targets = set()
    if spec.is_supplemental:
        targets.add("QVAL")
    if where_variable.endswith("TESTCD"):
        targets.update(prefix + suffix for suffix in RESULT_SUFFIXES)
    if where_variable == "PARAMCD":
        targets.update(ADAM_RESULTS)
    for block in spec.records:
        targets.update(name for name, source in block.values.items() if {"codelist", "data_type"} & set(source))
    return [name for name in spec.variable_names if name in targets and name != where_variable]


def value_levels(study: StudySpec, spec: DatasetSpec, frame: pd.DataFrame) -> dict[str, list[ValueLevel]]:
    """Value-level items by variable, one per discriminator value present in the data."""
    where_variable = discriminator(spec)
    if where_variable is None or where_variable not in frame.columns:
        return {}
    present = set(frame[where_variable].dropna().astype(str).unique())  # a few names, not every record
    label_source = _label_variable(spec, where_variable)
    # The label as the data have it (TSPARM is derived from TSPARMCD), else the block's constant.
    labels = (
        frame.dropna(subset=[label_source]).groupby(frame[where_variable].astype(str))[label_source].first()
        if label_source in frame.columns and label_source != where_variable
        else pd.Series(dtype="string")
    )
    levels: dict[str, list[ValueLevel]] = {}
    for target in _value_level_targets(spec, where_variable):
        if target not in frame.columns:
            continue
        variable = spec.variable(target)
        found: dict[str, ValueLevel] = {}
        for block, values in _blocks(spec):
            if block.kind == "continuation":
                if target == "QVAL":
                    text = study.continued_text(spec, block)
                    found.update((level.where_value, level) for level in _continuations(text, present, labels))
                continue
            value = _constant(values.get(where_variable))
            if value is None or value not in present or value in found:
                continue
            source = values.get(target) or {}
            label = labels.get(value) or _constant(values.get(label_source)) or value
            description = label if spec.is_supplemental else f"{variable.label}, {label}"
            codelist_id = source.get("codelist", variable.codelist)
            found[value] = ValueLevel(target, where_variable, value, codelist_id, description, source.get("data_type"))
        if found:
            levels[target] = list(found.values())
    return levels


def _continuations(text: ContinuedText, present: set[str], labels: pd.Series) -> list[ValueLevel]:
    """QVAL of each continuation QNAM of a text the data have (AETERM1 where a verbatim is
    over 200 characters, none otherwise), with what SDTMIG 3.4 section 4.5.3.2 makes of it and
    the aCRF field of the text it continues."""
    if text.spec.is_supplemental:  # a qualifier of the SUPP-- dataset itself
        continued, crf = (
            f"{text.spec.name}.QVAL where QNAM = {text.name}",
            (text.spec.name, "QVAL", ("QNAM", text.name)),
        )
    else:
        continued, crf = f"{text.spec.name}.{text.name}", (text.spec.name, text.name, None)
    limit = text.variable.max_text_length
    comment = (
        f"{continued} holds the first {limit} characters or fewer of the text collected, ended between words; "
        f"the rest follows in records of at most {limit} characters, split between words: QNAM {text.qnams[0]} "
        f"the first, {text.qnams[1]} the next and so on. {continued} and its continuations joined with a blank "
        "give the text collected (SDTMIG 3.4 section 4.5.3.2, Text Strings Greater than 200 Characters in "
        "Other Variables)."
    )
    return [
        ValueLevel("QVAL", "QNAM", qnam, None, labels.get(qnam) or text.label, comment=comment, crf=crf)
        for qnam in text.qnams
        if qnam in present
    ]
