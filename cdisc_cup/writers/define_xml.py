"""Define-XML 2.1 (ODM 1.3.2) for the SDTM and the ADaM datasets, from the specs and the data.

The specs say what each variable means (label, origin, method, comment, codelist); the data
say what was written (which variables, their lengths, the codelist terms used, the tests and
QNAMs present). Both go into one define.xml so that it cannot drift from the datasets.

References: CDISC Define-XML 2.1 specification (ItemGroupDef, ItemDef, def:Origin,
def:ValueListDef, def:WhereClauseDef sections) and the CDISC 2.1 examples shipped beside the
schemas; FDA Study Data Technical Conformance Guide section 4.1.4.5 (define.xml v2.1, the
stylesheet, value-level metadata for SUPP-- and Findings domains).

Validation uses the vendored CDISC schemas in `schemas/` (see PROVENANCE.md), offline: the
parser neither touches the network nor expands entities, so a hostile define.xml cannot read
local files (XXE).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from lxml import etree

from cdisc_cup.constants import SAS_EPOCH_DAY, file_timestamp
from cdisc_cup.ct import Codelist, load_codelists
from cdisc_cup.errors import ConformanceErrors, Problem, display_path
from cdisc_cup.provenance import is_trace_column
from cdisc_cup.rules.define import read_define
from cdisc_cup.spec.model import DatasetSpec, StudySpec, VariableSpec
from cdisc_cup.writers.define_html import STYLESHEET, render_define_html
from cdisc_cup.xpt.model import Dataset, XptVariable
from cdisc_cup.xpt.read import read_dataset_folder

Standard = Literal["SDTM", "ADaM"]

ODM_NS = "http://www.cdisc.org/ns/odm/v1.3"
DEF_NS = "http://www.cdisc.org/ns/def/v2.1"
XLINK_NS = "http://www.w3.org/1999/xlink"
XML_NS = "http://www.w3.org/XML/1998/namespace"
NSMAP = {None: ODM_NS, "def": DEF_NS, "xlink": XLINK_NS}
NS = {"odm": ODM_NS, "def": DEF_NS, "xlink": XLINK_NS}

SCHEMA_DIR = Path(__file__).parent / "schemas"
MAIN_XSD = SCHEMA_DIR / "cdisc-define-2.1" / "define2-1-0.xsd"
DEFINE_FILE = "define.xml"

PURPOSE: dict[Standard, str] = {"SDTM": "Tabulation", "ADaM": "Analysis"}
# def:Standard for the CT package of each standard, keyed in study.yaml `standards`.
CT_KEYS: dict[Standard, str] = {"SDTM": "sdtm_ct", "ADaM": "adam_ct"}
# cdisc_cup.ct `source` prefixes -> def:Standard/@PublishingSet (define-enumerations.xsd).
CT_PUBLISHING_SETS = {"SDTM": "SDTM", "ADaM": "ADaM", "Define-XML": "DEFINE-XML"}
_CT_SOURCE = re.compile(r"^(SDTM|ADaM|Define-XML) CT (\d{4}-\d{2}-\d{2})$")

# Variables coded with MedDRA by the CRO (SDTMIG 3.4 section 6.2, Events: --DECOD, --BODSYS,
# --SOC ... of AE/MH; ADaM OCCDS copies them under the same names).
MEDDRA_DOMAINS = ("AE", "MH", "CE")
MEDDRA_SUFFIXES = ("DECOD", "BODSYS", "SOC", "LLT", "HLT", "HLGT", "PTCD", "LLTCD", "SOCCD")
MEDDRA_OID = "CL.MEDDRA"

# Findings/BDS results whose meaning depends on the test or parameter (value-level metadata).
RESULT_SUFFIXES = ("ORRES", "ORRESU", "STRESC", "STRESN", "STRESU")
ADAM_RESULTS = ("AVAL", "AVALC")

# A code of at most 8 characters (SAS name length: --TESTCD, QNAM, M/F, Y/N) is listed with
# its NCI preferred term as Decode; longer submission values are their own decode.
MAX_CODE_LENGTH = 8
NUMERIC_DATE_TYPES = frozenset({"date", "datetime", "time"})
TEXT_LENGTH_TYPES = frozenset({"text", "integer", "float"})


def _tag(ns: str, name: str) -> str:
    return f"{{{ns}}}{name}"


def odm(name: str) -> str:
    return _tag(ODM_NS, name)


def dfn(name: str) -> str:
    return _tag(DEF_NS, name)


# --- OIDs shared with the Dataset-JSON writer ----------------------------------------------


def item_group_oid(dataset: str) -> str:
    return f"IG.{dataset}"


def item_oid(dataset: str, variable: str) -> str:
    return f"IT.{dataset}.{variable}"


def study_oid(study: StudySpec) -> str:
    return f"STDY.{study.studyid}"


def metadata_version_oid(study: StudySpec, standard: Standard) -> str:
    return f"MDV.{study.studyid}.{standard}"


def source_system() -> tuple[str, str]:
    """The name and version written as ODM SourceSystem (and Dataset-JSON sourceSystem)."""
    try:
        version = metadata.version("cdisc-cup")
    except metadata.PackageNotFoundError:
        version = "unknown"
    return "cdisc-cup", version


def standard_of(spec: DatasetSpec) -> Standard:
    return "ADaM" if spec.standard.upper().startswith("ADAM") else "SDTM"


def creation_timestamp(created: datetime | None) -> str:
    """ISO 8601 without fractions; the caller fixes it (or SOURCE_DATE_EPOCH) for byte-identical runs."""
    moment = created if created is not None else file_timestamp()
    return moment.replace(microsecond=0, tzinfo=None).isoformat()


# --- what the data say -----------------------------------------------------------------------


def char_length(values: pd.Series) -> int:
    """Written length of a Char variable: the longest value in bytes, at least 1 (XPT needs 1)."""
    text = values.dropna().astype(str)
    if text.empty:
        return 1
    return max(1, int(text.str.encode("utf-8").str.len().max()))


def numbers_of(values: pd.Series) -> np.ndarray:
    """Non-missing values as floats; dates become SAS date numbers (days since 1960-01-01)."""
    if pd.api.types.is_datetime64_any_dtype(values):
        days = values.dropna().to_numpy().astype("datetime64[D]") - SAS_EPOCH_DAY
        return days.astype("int64").astype(float)
    numbers = pd.to_numeric(values, errors="coerce").dropna().to_numpy(dtype=float)
    return numbers[np.isfinite(numbers)]


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
    """integer/float/text as the values look: used for value-level items (SCORRES of NPRLINES)."""
    present = values.dropna()
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
        length = written_length if written_length is not None else char_length(values)
        return ItemShape("text", length, None, variable.format)
    if data_type in ("integer", "float"):
        numbers = numbers_of(values)
        decimals = 0 if data_type == "integer" else decimals_of(numbers)
        significant = decimals if data_type == "float" else None
        # Numbers held as text (VSORRES "72.5") occupy their text length in the dataset.
        length = char_length(values) if is_char else numeric_length(numbers, decimals)
        return ItemShape(data_type, length, significant, variable.format)
    return ItemShape(data_type, None, None, variable.format)


def is_numeric_date(variable: VariableSpec) -> bool:
    """A SAS date, datetime or time number (ADaM --DT/--DTM): by its data type or its format."""
    return variable.type == "Num" and (variable.data_type in NUMERIC_DATE_TYPES or _is_date_format(variable.format))


def _is_date_format(sas_format: str | None) -> bool:
    if not sas_format:
        return False
    name = re.sub(r"[\d.]+$", "", sas_format.upper())
    return name in {
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


# --- value-level metadata from the spec's record blocks ----------------------------------------


@dataclass(frozen=True)
class ValueLevel:
    """One value-level item: `variable` where `where_variable` equals `where_value`."""

    variable: str
    where_variable: str
    where_value: str
    codelist: str | None
    description: str

    @property
    def key(self) -> str:
        return re.sub(r"[^A-Za-z0-9_]+", "_", self.where_value).strip("_") or "NULL"


def _effective_values(spec: DatasetSpec) -> list[dict[str, Mapping]]:
    """Per record block, the value source of each variable: block values over the defaults."""
    defaults = {v.name: v.value for v in spec.variables if v.value is not None}
    return [{**defaults, **block.values} for block in spec.records]


def _constant(source: Mapping | None) -> str | None:
    if source is None or "constant" not in source or "when" in source:
        return None
    value = source["constant"]
    return None if value is None else str(value)


def discriminator(spec: DatasetSpec) -> str | None:
    """The variable whose value changes the meaning of others: QNAM, PARAMCD, --TESTCD, --CAT.

    It must be a constant in every record block, so each block describes one of its values.
    """
    prefix = spec.name[:2]
    blocks = _effective_values(spec)
    if not blocks:
        return None
    for candidate in ("QNAM", "PARAMCD", f"{prefix}TESTCD", f"{prefix}CAT"):
        if candidate in spec.variable_names and all(_constant(b.get(candidate)) for b in blocks):
            return candidate
    return None


def _value_level_targets(spec: DatasetSpec, where_variable: str) -> list[str]:
    """Variables described per value: QVAL of SUPP--, results of tests/parameters, and any
    variable whose codelist is set per record block (DS.DSDECOD: PROTMLST or NCOMPLT)."""
    prefix = spec.name[:2]
    targets = set()
    if spec.is_supplemental:
        targets.add("QVAL")
    if where_variable.endswith("TESTCD"):
        targets.update(prefix + suffix for suffix in RESULT_SUFFIXES)
    if where_variable == "PARAMCD":
        targets.update(ADAM_RESULTS)
    for block in spec.records:
        targets.update(name for name, source in block.values.items() if "codelist" in source)
    return [name for name in spec.variable_names if name in targets and name != where_variable]


def value_levels(spec: DatasetSpec, frame: pd.DataFrame) -> dict[str, list[ValueLevel]]:
    """Value-level items by variable, one per discriminator value present in the data."""
    where_variable = discriminator(spec)
    if where_variable is None or where_variable not in frame.columns:
        return {}
    present = set(frame[where_variable].dropna().astype(str))
    prefix = spec.name[:2]
    label_source = "QLABEL" if spec.is_supplemental else f"{prefix}TEST"
    levels: dict[str, list[ValueLevel]] = {}
    for target in _value_level_targets(spec, where_variable):
        if target not in frame.columns:
            continue
        variable = spec.variable(target)
        found: dict[str, ValueLevel] = {}
        for block in _effective_values(spec):
            value = _constant(block.get(where_variable))
            if value is None or value not in present or value in found:
                continue
            source = block.get(target) or {}
            label = _constant(block.get(label_source)) or value
            description = label if spec.is_supplemental else f"{variable.label}, {label}"
            codelist_id = source.get("codelist", variable.codelist)
            found[value] = ValueLevel(target, where_variable, value, codelist_id, description)
        if found:
            levels[target] = list(found.values())
    return levels


# --- the document ----------------------------------------------------------------------------


@dataclass
class _Registry:
    """Methods, comments and codelist terms collected while the datasets are described."""

    methods: dict[str, tuple[str, str]] = field(default_factory=dict)  # text -> (oid, name)
    comments: dict[str, str] = field(default_factory=dict)  # text -> oid
    codelist_values: dict[str, list[pd.Series]] = field(default_factory=dict)
    codelist_types: dict[str, str] = field(default_factory=dict)
    uses_meddra: bool = False

    def method(self, oid: str, name: str, text: str) -> str:
        return self.methods.setdefault(text, (oid, name))[0]

    def comment(self, oid: str, text: str) -> str:
        return self.comments.setdefault(text, oid)

    def codelist(self, codelist_id: str, values: pd.Series, data_type: str) -> str:
        self.codelist_values.setdefault(codelist_id, []).append(values)
        self.codelist_types.setdefault(codelist_id, "text" if data_type not in ("integer", "float") else data_type)
        return f"CL.{codelist_id}"


def _text(parent: etree._Element, tag: str, text: str) -> etree._Element:
    element = etree.SubElement(parent, tag)
    translated = etree.SubElement(element, odm("TranslatedText"))
    translated.set(_tag(XML_NS, "lang"), "en")
    translated.text = text
    return element


def _set(element: etree._Element, attributes: Iterable[tuple[str, object | None]]) -> None:
    """Attributes in the given order, skipping None: a fixed order keeps output byte-stable."""
    for name, value in attributes:
        if value is not None:
            element.set(name, str(value))


def _method_text(variable: VariableSpec) -> str:
    """The spec's method text; a derived variable without one is described by its value source."""
    if variable.method:
        return variable.method
    source = dict(variable.value or {})
    kind = source.pop("derivation", None) or next(iter(source), "value")
    details = "; ".join(f"{key}: {value}" for key, value in source.items() if key != kind)
    return f"Derived ({kind}{', ' + details if details else ''})."


def _predecessor(variable: VariableSpec) -> str:
    if variable.origin_source:
        return variable.origin_source
    source = variable.value or {}
    return str(source.get("predecessor") or source.get("variable") or source.get("column") or "")


def _origin(parent: etree._Element, variable: VariableSpec) -> None:
    """def:Origin: Collected defaults to Source Investigator; Derived/Assigned/Protocol to
    Sponsor; Predecessor carries the predecessor variable as text (Define-XML 2.1, def:Origin)."""
    origin = etree.SubElement(parent, dfn("Origin"))
    origin.set("Type", variable.origin)
    if variable.origin == "Predecessor":
        _text(origin, odm("Description"), _predecessor(variable))
        return
    defaults = {"Collected": "Investigator", "Derived": "Sponsor", "Assigned": "Sponsor", "Protocol": "Sponsor"}
    source = variable.origin_source or defaults.get(variable.origin)
    if source is not None:
        origin.set("Source", source)


def _is_meddra(spec: DatasetSpec, variable: VariableSpec) -> bool:
    prefix = variable.name[:2]
    domain = spec.parent or spec.name
    return (
        variable.codelist is None
        and prefix in MEDDRA_DOMAINS
        and (domain == prefix or domain.startswith("AD"))
        and variable.name[2:] in MEDDRA_SUFFIXES
    )


@dataclass(frozen=True)
class _Described:
    """What one dataset contributes to MetaDataVersion, in its section order."""

    item_group: etree._Element
    item_defs: list[etree._Element]
    value_lists: list[etree._Element]
    where_clauses: list[etree._Element]


class _DefineBuilder:
    def __init__(self, study: StudySpec, specs: Sequence[DatasetSpec], standard: Standard) -> None:
        self.study = study
        self.standard = standard
        self.labels = {spec.name: spec.label for spec in (*study.sdtm, *study.adam, *specs)}
        self.registry = _Registry()
        self.ig_standards: dict[str, tuple[str, str]] = {}  # oid -> (name, version)

    # dataset level ---------------------------------------------------------------------------

    def dataset(
        self, spec: DatasetSpec, frame: pd.DataFrame, lengths: Mapping[str, int], note: str | None = None
    ) -> _Described:
        """`note`: a sentence added to the dataset's comment (a split over 5 GB, TCG 3.3.2)."""
        group = etree.Element(odm("ItemGroupDef"))
        comment = " ".join(text for text in (spec.description, note) if text)
        comment_oid = self.registry.comment(f"COM.{spec.name}", comment) if comment else None
        _set(
            group,
            [
                ("OID", item_group_oid(spec.name)),
                ("Domain", (spec.parent or spec.name) if self.standard == "SDTM" else None),
                ("Name", spec.name),
                ("Repeating", "No" if set(spec.keys) <= {"STUDYID", "USUBJID"} else "Yes"),
                ("IsReferenceData", "Yes" if spec.dataset_class in ("TRIAL DESIGN", "STUDY REFERENCE") else "No"),
                ("SASDatasetName", spec.name),
                ("Purpose", PURPOSE[self.standard]),
                (dfn("Structure"), spec.structure),
                (dfn("StandardOID"), self._ig_standard(spec)),
                (dfn("ArchiveLocationID"), f"LF.{spec.name}"),
                (dfn("CommentOID"), comment_oid),
            ],
        )
        _text(group, odm("Description"), spec.label)
        levels = value_levels(spec, frame)
        item_defs: list[etree._Element] = []
        value_lists: list[etree._Element] = []
        where_clauses: dict[str, etree._Element] = {}  # shared by the variables of one test
        for order, name in enumerate(_described_columns(spec, frame), start=1):
            variable = spec.variable(name)
            ref = etree.SubElement(group, odm("ItemRef"))
            method_oid = self._method(spec, variable) if variable.origin == "Derived" else None
            key_sequence = spec.keys.index(name) + 1 if name in spec.keys else None
            _set(
                ref,
                [
                    ("ItemOID", item_oid(spec.name, name)),
                    ("OrderNumber", order),
                    ("Mandatory", "Yes" if variable.core == "Req" else "No"),
                    ("KeySequence", key_sequence),
                    ("MethodOID", method_oid),
                    ("Role", variable.role if self.standard == "SDTM" else None),
                ],
            )
            own_levels = levels.get(name, [])
            covered = self._vlm_mask(frame, own_levels, variable.codelist)
            item_defs.append(
                self._item_def(spec, variable, frame[name][~covered], frame[name], lengths.get(name), bool(own_levels))
            )
            if own_levels:
                value_list, defs, clauses = self._value_list(spec, variable, frame, own_levels)
                value_lists.append(value_list)
                item_defs.extend(defs)
                where_clauses.update((clause.get("OID"), clause) for clause in clauses)
        if spec.parent:
            alias = etree.SubElement(group, odm("Alias"))
            _set(alias, [("Context", "DomainDescription"), ("Name", self.labels.get(spec.parent, spec.parent))])
        klass = etree.SubElement(group, dfn("Class"))
        klass.set("Name", spec.dataset_class)
        if spec.subclass:
            etree.SubElement(klass, dfn("SubClass")).set("Name", spec.subclass)
        leaf = etree.SubElement(group, dfn("leaf"))
        _set(leaf, [("ID", f"LF.{spec.name}"), (_tag(XLINK_NS, "href"), f"{spec.name.lower()}.xpt")])
        etree.SubElement(leaf, dfn("title")).text = f"{spec.name.lower()}.xpt"
        return _Described(group, item_defs, value_lists, list(where_clauses.values()))

    def _ig_standard(self, spec: DatasetSpec) -> str:
        name, _, version = spec.standard.rpartition(" ")
        oid = f"STD.{name}.{version}"
        self.ig_standards.setdefault(oid, (name, version))
        return oid

    def _method(self, spec: DatasetSpec, variable: VariableSpec, suffix: str = "") -> str:
        oid = f"MT.{spec.name}.{variable.name}{suffix}"
        return self.registry.method(oid, f"Algorithm for {spec.name}.{variable.name}", _method_text(variable))

    @staticmethod
    def _vlm_mask(frame: pd.DataFrame, levels: list[ValueLevel], codelist_id: str | None) -> pd.Series:
        """Rows whose values belong to a value-level codelist other than the variable's own."""
        mask = pd.Series(False, index=frame.index)
        for level in levels:
            if level.codelist != codelist_id:
                mask |= frame[level.where_variable].astype(str).eq(level.where_value)
        return mask

    # variable level --------------------------------------------------------------------------

    def _item_def(
        self,
        spec: DatasetSpec,
        variable: VariableSpec,
        codelist_values: pd.Series,
        values: pd.Series,
        written_length: int | None,
        has_value_list: bool,
    ) -> etree._Element:
        shape = item_shape(variable, values, written_length)
        comment_oid = (
            self.registry.comment(f"COM.{spec.name}.{variable.name}", variable.comment) if variable.comment else None
        )
        item = self._item_element(item_oid(spec.name, variable.name), variable.name, shape, comment_oid)
        _text(item, odm("Description"), variable.label)
        self._codelist_ref(item, spec, variable, variable.codelist, codelist_values, shape)
        _origin(item, variable)
        if has_value_list:
            etree.SubElement(item, dfn("ValueListRef")).set("ValueListOID", f"VL.{spec.name}.{variable.name}")
        return item

    @staticmethod
    def _item_element(oid: str, name: str, shape: ItemShape, comment_oid: str | None) -> etree._Element:
        item = etree.Element(odm("ItemDef"))
        _set(
            item,
            [
                ("OID", oid),
                ("Name", name),
                ("DataType", shape.data_type),
                ("Length", shape.length if shape.data_type in TEXT_LENGTH_TYPES else None),
                ("SignificantDigits", shape.significant_digits),
                ("SASFieldName", name),
                (dfn("DisplayFormat"), shape.display_format),
                (dfn("CommentOID"), comment_oid),
            ],
        )
        return item

    def _codelist_ref(
        self,
        item: etree._Element,
        spec: DatasetSpec,
        variable: VariableSpec,
        codelist_id: str | None,
        values: pd.Series,
        shape: ItemShape,
    ) -> None:
        if codelist_id is not None:
            oid = self.registry.codelist(codelist_id, values, shape.data_type)
        elif _is_meddra(spec, variable):
            self.registry.uses_meddra = True
            oid = MEDDRA_OID
        else:
            return
        etree.SubElement(item, odm("CodeListRef")).set("CodeListOID", oid)

    def _value_list(
        self, spec: DatasetSpec, variable: VariableSpec, frame: pd.DataFrame, levels: list[ValueLevel]
    ) -> tuple[etree._Element, list[etree._Element], list[etree._Element]]:
        value_list = etree.Element(dfn("ValueListDef"))
        value_list.set("OID", f"VL.{spec.name}.{variable.name}")
        defs, clauses = [], []
        for order, level in enumerate(levels, start=1):
            oid = f"{item_oid(spec.name, variable.name)}.{level.key}"
            where_oid = f"WC.{spec.name}.{level.where_variable}.{level.key}"
            rows = frame[level.where_variable].astype(str).eq(level.where_value)
            subset = frame.loc[rows, variable.name]
            ref = etree.SubElement(value_list, odm("ItemRef"))
            method_oid = self._method(spec, variable) if variable.origin == "Derived" else None
            _set(
                ref,
                [
                    ("ItemOID", oid),
                    ("OrderNumber", order),
                    ("Mandatory", "Yes" if variable.core == "Req" else "No"),
                    ("MethodOID", method_oid),
                ],
            )
            etree.SubElement(ref, dfn("WhereClauseRef")).set("WhereClauseOID", where_oid)
            shape = item_shape(variable, subset, None, infer=variable.type == "Char")
            item = self._item_element(oid, level.where_value if spec.is_supplemental else variable.name, shape, None)
            _text(item, odm("Description"), level.description)
            self._codelist_ref(item, spec, variable, level.codelist, subset, shape)
            _origin(item, variable)
            defs.append(item)
            clauses.append(self._where_clause(spec, level, where_oid))
        return value_list, defs, clauses

    @staticmethod
    def _where_clause(spec: DatasetSpec, level: ValueLevel, oid: str) -> etree._Element:
        clause = etree.Element(dfn("WhereClauseDef"))
        clause.set("OID", oid)
        check = etree.SubElement(clause, odm("RangeCheck"))
        _set(
            check,
            [("Comparator", "EQ"), ("SoftHard", "Soft"), (dfn("ItemOID"), item_oid(spec.name, level.where_variable))],
        )
        etree.SubElement(check, odm("CheckValue")).text = level.where_value
        return clause

    # study level -----------------------------------------------------------------------------

    def codelists(self) -> tuple[list[etree._Element], dict[str, tuple[str, str]]]:
        """CodeList elements with the terms used, and the CT def:Standards they cite."""
        known = load_codelists()
        elements, ct_standards = [], {}
        for codelist_id, series in self.registry.codelist_values.items():
            found = known.get(codelist_id)
            if found is None:
                raise ConformanceErrors(
                    [
                        Problem(
                            "define.xml",
                            "a variable names a codelist that is not known",
                            value=codelist_id,
                            expected="a codelist id of cdisc_cup.ct",
                        )
                    ]
                )
            used = pd.concat(series).dropna().astype(str)
            used = used[used != ""].drop_duplicates().tolist()
            standard_oid = self._ct_standard(found, ct_standards)
            elements.append(_codelist_element(found, used, self.registry.codelist_types[codelist_id], standard_oid))
        if self.registry.uses_meddra:
            elements.append(self._meddra())
        return elements, ct_standards

    def _ct_standard(self, found: Codelist, ct_standards: dict[str, tuple[str, str]]) -> str | None:
        match = _CT_SOURCE.match(found.source)
        if match is None:
            return None
        publishing_set = CT_PUBLISHING_SETS[match[1]]
        oid = f"STD.CT.{publishing_set}.{match[2]}"
        ct_standards[oid] = (publishing_set, match[2])
        return oid

    def _meddra(self) -> etree._Element:
        element = etree.Element(odm("CodeList"))
        _set(element, [("OID", MEDDRA_OID), ("Name", "MedDRA"), ("DataType", "text")])
        external = etree.SubElement(element, odm("ExternalCodeList"))
        _set(
            external,
            [
                ("Dictionary", "MedDRA"),
                ("Version", self.study.standards.get("meddra", "unknown")),
                ("href", "https://www.meddra.org/"),
            ],
        )
        return element

    def standards(self, ct_standards: dict[str, tuple[str, str]]) -> etree._Element:
        standards = etree.Element(dfn("Standards"))
        for oid, (name, version) in sorted(self.ig_standards.items()):
            _set(
                etree.SubElement(standards, dfn("Standard")),
                [("OID", oid), ("Name", name), ("Type", "IG"), ("Version", version), ("Status", "Final")],
            )
        base_ct = self.study.standards.get(CT_KEYS[self.standard])
        if base_ct:
            ct_standards.setdefault(f"STD.CT.{self.standard}.{base_ct}", (self.standard, str(base_ct)))
        for oid, (publishing_set, version) in sorted(ct_standards.items()):
            _set(
                etree.SubElement(standards, dfn("Standard")),
                [
                    ("OID", oid),
                    ("Name", "CDISC/NCI"),
                    ("Type", "CT"),
                    ("PublishingSet", publishing_set),
                    ("Version", version),
                    ("Status", "Final"),
                ],
            )
        return standards

    def methods(self) -> list[etree._Element]:
        elements = []
        for text, (oid, name) in self.registry.methods.items():
            method = etree.Element(odm("MethodDef"))
            _set(method, [("OID", oid), ("Name", name), ("Type", "Computation")])
            _text(method, odm("Description"), text)
            elements.append(method)
        return elements

    def comments(self) -> list[etree._Element]:
        elements = []
        for text, oid in self.registry.comments.items():
            comment = etree.Element(dfn("CommentDef"))
            comment.set("OID", oid)
            _text(comment, odm("Description"), text)
            elements.append(comment)
        return elements


def _codelist_element(found: Codelist, used: list[str], data_type: str, standard_oid: str | None) -> etree._Element:
    """A CodeList with the terms the data use, in codelist order, extensions after them.

    A codelist none of whose values occur (RACE not collected) lists all its terms, since
    ODM requires at least one item and the reviewer still learns the permitted values.
    """
    element = etree.Element(odm("CodeList"))
    _set(
        element,
        [("OID", f"CL.{found.id}"), ("Name", found.name), ("DataType", data_type), (dfn("StandardOID"), standard_oid)],
    )
    used_set = set(used)
    terms = [t for t in found.terms if t.value in used_set] if used_set else list(found.terms)
    extended = sorted(value for value in used if found.term(value) is None)
    coded = max((len(value) for value in [*(t.value for t in terms), *extended]), default=0) <= MAX_CODE_LENGTH
    item_tag = odm("CodeListItem") if coded else odm("EnumeratedItem")
    for term in terms:
        item = etree.SubElement(element, item_tag)
        item.set("CodedValue", term.value)
        if coded:
            _text(item, odm("Decode"), term.decode)
        if term.nci_code:
            _set(etree.SubElement(item, odm("Alias")), [("Context", "nci:ExtCodeID"), ("Name", term.nci_code)])
    for value in extended:
        item = etree.SubElement(element, item_tag)
        _set(item, [("CodedValue", value), (dfn("ExtendedValue"), "Yes" if found.extensible else None)])
        if coded:
            _text(item, odm("Decode"), value)
    if found.nci_code:
        _set(etree.SubElement(element, odm("Alias")), [("Context", "nci:ExtCodeID"), ("Name", found.nci_code)])
    return element


def build_define(
    study: StudySpec,
    specs: Sequence[DatasetSpec],
    datasets: Mapping[str, pd.DataFrame],
    *,
    standard: Standard,
    lengths: Mapping[str, Mapping[str, int]] | None = None,
    created: datetime | None = None,
    notes: Mapping[str, str] | None = None,
) -> etree._ElementTree:
    """The define.xml document for the datasets written (those in `datasets`, in spec order).

    `lengths` holds the written Char lengths by dataset and variable (the XPT writer's); when
    missing they are measured from the frames, which gives the same numbers. `notes` adds a
    sentence to a dataset's comment (a dataset also submitted split, TCG section 3.3.2).
    """
    problems = _undescribed(specs, datasets)
    if problems:
        raise ConformanceErrors(problems)
    builder = _DefineBuilder(study, specs, standard)
    described = [
        builder.dataset(spec, datasets[spec.name], (lengths or {}).get(spec.name, {}), (notes or {}).get(spec.name))
        for spec in specs
        if spec.name in datasets
    ]
    codelists, ct_standards = builder.codelists()

    root = etree.Element(odm("ODM"), nsmap=NSMAP)
    name, version = source_system()
    _set(
        root,
        [
            ("FileType", "Snapshot"),
            ("FileOID", f"{study.studyid}.{standard}.define"),
            ("ODMVersion", "1.3.2"),
            ("CreationDateTime", creation_timestamp(created)),
            ("Originator", name),
            ("SourceSystem", name),
            ("SourceSystemVersion", version),
            (dfn("Context"), "Submission"),
        ],
    )
    study_element = etree.SubElement(root, odm("Study"))
    study_element.set("OID", study_oid(study))
    global_variables = etree.SubElement(study_element, odm("GlobalVariables"))
    etree.SubElement(global_variables, odm("StudyName")).text = study.name
    etree.SubElement(global_variables, odm("StudyDescription")).text = study.description or study.name
    etree.SubElement(global_variables, odm("ProtocolName")).text = study.protocol
    mdv = etree.SubElement(study_element, odm("MetaDataVersion"))
    _set(
        mdv,
        [
            ("OID", metadata_version_oid(study, standard)),
            ("Name", f"{study.studyid} {standard} data definitions"),
            ("Description", f"{PURPOSE[standard]} datasets of {study.name}"),
            (dfn("DefineVersion"), "2.1.0"),
        ],
    )
    mdv.append(builder.standards(ct_standards))
    for section in ("value_lists", "where_clauses"):
        for item in described:
            mdv.extend(getattr(item, section))
    mdv.extend(item.item_group for item in described)
    for item in described:
        mdv.extend(item.item_defs)
    mdv.extend(codelists)
    mdv.extend(builder.methods())
    mdv.extend(builder.comments())
    tree = etree.ElementTree(root)
    root.addprevious(etree.ProcessingInstruction("xml-stylesheet", f'type="text/xsl" href="{STYLESHEET.name}"'))
    return tree


def _described_columns(spec: DatasetSpec, frame: pd.DataFrame) -> list[str]:
    """The variables written, in the XPT order (the spec's); trace columns are never written."""
    return [name for name in spec.variable_names if name in frame.columns]


def _undescribed(specs: Sequence[DatasetSpec], datasets: Mapping[str, pd.DataFrame]) -> list[Problem]:
    """Datasets or variables that were written but have no spec cannot be described."""
    by_name = {spec.name: spec for spec in specs}
    problems = []
    for name, frame in datasets.items():
        spec = by_name.get(name)
        if spec is None:
            problems.append(Problem("define.xml", "dataset has no spec to describe it", value=name))
            continue
        missing = [c for c in frame.columns if c not in spec.variable_names and not is_trace_column(c)]
        problems.extend(
            Problem("define.xml", f"variable of dataset {name} has no spec to describe it", column=column)
            for column in missing
        )
    return problems


def serialize(tree: etree._ElementTree) -> bytes:
    return etree.tostring(tree, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def write_define(
    study: StudySpec,
    specs: Sequence[DatasetSpec],
    datasets: Mapping[str, pd.DataFrame],
    out_dir: Path,
    *,
    standard: Standard,
    lengths: Mapping[str, Mapping[str, int]] | None = None,
    created: datetime | None = None,
    notes: Mapping[str, str] | None = None,
) -> Path:
    """Write define.xml, the stylesheet it references and define.html into `out_dir`."""
    out_dir = Path(out_dir)
    tree = build_define(study, specs, datasets, standard=standard, lengths=lengths, created=created, notes=notes)
    path = out_dir / DEFINE_FILE
    path.write_bytes(serialize(tree))
    shutil.copyfile(STYLESHEET, out_dir / STYLESHEET.name)
    render_define_html(tree, out_dir / "define.html")
    return path


def define_from_folder(
    study: StudySpec,
    specs: Sequence[DatasetSpec],
    dataset_dir: Path,
    *,
    standard: Standard,
    created: datetime | None = None,
) -> Path:
    """Regenerate define.xml (+ stylesheet, define.html) from the XPT files of a folder.

    Without `created`, the CreationDateTime of a define.xml already there is kept, so that
    regenerating an unchanged output gives the same bytes as `convert` wrote.
    """
    loaded = read_dataset_folder(Path(dataset_dir))
    frames = {name: dataset.frame for name, dataset in loaded.items()}
    lengths = {
        name: {v.name: v.length for v in dataset.variables if v.type == "Char"} for name, dataset in loaded.items()
    }
    existing = Path(dataset_dir) / DEFINE_FILE
    if created is None and existing.is_file():
        stamp = parse_define(existing).getroot().get("CreationDateTime")
        created = datetime.fromisoformat(stamp) if stamp else None
    return write_define(study, specs, frames, Path(dataset_dir), standard=standard, lengths=lengths, created=created)


# --- validation ------------------------------------------------------------------------------


def safe_parser() -> etree.XMLParser:
    """No network, no entity expansion, no DTD loading: a define.xml can't read local files."""
    return etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False, huge_tree=False)


@cache
def define_schema() -> etree.XMLSchema:
    """The Define-XML 2.1 schema set, compiled from the vendored files (about 0.1 s, once)."""
    return etree.XMLSchema(etree.parse(str(MAIN_XSD), safe_parser()))


def parse_define(path: Path) -> etree._ElementTree:
    return etree.parse(str(path), safe_parser())


def validate_define(path: Path) -> list[Problem]:
    """Schema problems of a define.xml (Define-XML 2.1 XSD, offline), each with its line."""
    where = display_path(path)
    try:
        document = parse_define(path)
    except (OSError, etree.XMLSyntaxError) as error:
        return [Problem(where, f"define.xml cannot be read as XML: {error}")]
    if document.docinfo.internalDTD is not None or document.docinfo.externalDTD is not None:
        # Define-XML has no DTD; a DOCTYPE only serves entities, which are never expanded here.
        return [Problem(where, "define.xml declares a DOCTYPE (entities are not allowed)", line=1)]
    schema = define_schema()
    try:
        if schema.validate(document):
            return []
    except etree.XMLSchemaValidateError as error:
        return [Problem(where, f"define.xml cannot be validated: {error}")]
    return [Problem(where, f"not valid Define-XML 2.1: {entry.message}", line=entry.line) for entry in schema.error_log]


# --- define against the written datasets -------------------------------------------------------


@dataclass(frozen=True)
class DefinedItem:
    name: str
    label: str
    data_type: str
    length: int | None
    order: int
    codelist_values: frozenset[str] | None  # None: no enumerated codelist


@dataclass(frozen=True)
class DefinedGroup:
    name: str
    label: str
    href: str | None
    items: tuple[DefinedItem, ...]


def read_defined_groups(define_path: Path) -> dict[str, DefinedGroup]:
    """Datasets and variables as a define.xml describes them; the terms a variable may take
    (its own and its value-level codelists) as the rules read them (`rules.define`)."""
    mdv = parse_define(define_path).getroot().find("odm:Study/odm:MetaDataVersion", NS)
    if mdv is None:
        return {}
    described = read_define(define_path).datasets
    item_defs = {item.get("OID"): item for item in mdv.iterfind("odm:ItemDef", NS)}
    groups = {}
    for group in mdv.iterfind("odm:ItemGroupDef", NS):
        name = group.get("Name", "")
        variables = described[name.upper()].variables if name.upper() in described else {}
        items = []
        for ref in group.iterfind("odm:ItemRef", NS):
            item = item_defs.get(ref.get("ItemOID"))
            if item is None:
                continue
            length = item.get("Length")
            variable = variables.get(item.get("Name", ""))
            items.append(
                DefinedItem(
                    name=item.get("Name", ""),
                    label=item.findtext("odm:Description/odm:TranslatedText", "", NS),
                    data_type=item.get("DataType", ""),
                    length=int(length) if length is not None else None,
                    order=int(ref.get("OrderNumber", "0")),
                    codelist_values=variable.allowed_values if variable is not None else None,
                )
            )
        leaf = group.find("def:leaf", NS)
        groups[name] = DefinedGroup(
            name=name,
            label=group.findtext("odm:Description/odm:TranslatedText", "", NS),
            href=leaf.get(_tag(XLINK_NS, "href")) if leaf is not None else None,
            items=tuple(items),
        )
    return groups


def check_define_against_datasets(define_path: Path, datasets: Path | Mapping[str, Dataset]) -> list[Problem]:
    """Every dataset and variable written is described, nothing described is missing, and
    names, labels, order, types, Char lengths and codelist values agree with the XPT files.

    `datasets` is the folder of XPT files, or those files already read back.
    """
    where = display_path(define_path)
    groups = read_defined_groups(define_path)
    written = read_dataset_folder(Path(datasets)) if isinstance(datasets, str | Path) else datasets
    problems = [
        Problem(where, "dataset is written but not described in define.xml", value=name)
        for name in sorted(set(written) - set(groups))
    ]
    problems += [
        Problem(where, "dataset is described in define.xml but no XPT file was written", value=name)
        for name in sorted(set(groups) - set(written))
    ]
    for name in sorted(set(groups) & set(written)):
        problems += _compare_dataset(where, groups[name], written[name])
    return problems


def _compare_dataset(where: str, group: DefinedGroup, loaded: Dataset) -> list[Problem]:
    problems = []
    expected_href = loaded.path.name.lower()
    if group.href != expected_href:
        problems.append(
            Problem(
                where,
                f"def:leaf of dataset {group.name} does not name its file",
                value=group.href,
                expected=expected_href,
            )
        )
    if group.label != loaded.label:
        problems.append(
            Problem(
                where,
                f"label of dataset {group.name} differs from the XPT file",
                value=group.label,
                expected=loaded.label,
            )
        )
    defined = {item.name: item for item in group.items}
    for position, variable in enumerate(loaded.variables, start=1):
        column = f"{group.name}.{variable.name}"
        item = defined.get(variable.name)
        if item is None:
            problems.append(Problem(where, "variable is written but not described in define.xml", column=column))
            continue
        problems += _compare_variable(where, column, item, variable, position, loaded.frame[variable.name])
    written_names = {v.name for v in loaded.variables}
    problems += [
        Problem(where, "variable is described in define.xml but not in the XPT file", column=f"{group.name}.{name}")
        for name in defined
        if name not in written_names
    ]
    return problems


def _compare_variable(
    where: str, column: str, item: DefinedItem, variable: XptVariable, position: int, values: pd.Series
) -> list[Problem]:
    problems = []
    label, kind, length = variable.label, variable.type, variable.length
    if item.label != label:
        problems.append(
            Problem(where, "variable label differs from the XPT file", column=column, value=item.label, expected=label)
        )
    if item.order != position:
        problems.append(
            Problem(
                where,
                "variable order differs from the XPT file",
                column=column,
                value=str(item.order),
                expected=str(position),
            )
        )
    if (kind == "Num") != (item.data_type in ("integer", "float")):
        problems.append(
            Problem(
                where,
                "DataType does not fit the XPT variable type",
                column=column,
                value=item.data_type,
                expected=f"a {kind} type",
            )
        )
    if kind == "Char" and item.length is not None and item.length != length:
        problems.append(
            Problem(
                where,
                "Length differs from the written length",
                column=column,
                value=str(item.length),
                expected=str(length),
            )
        )
    if item.codelist_values is not None:
        present = values.dropna().astype(str)
        outside = sorted(set(present[(present != "") & ~present.isin(item.codelist_values)]))
        if outside:
            problems.append(
                Problem(
                    where,
                    "values are not in the variable's define.xml codelist",
                    column=column,
                    value=", ".join(outside[:5]),
                )
            )
    return problems
