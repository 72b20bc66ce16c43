"""Define-XML 2.1 (ODM 1.3.2) for the SDTM or the ADaM datasets, from the specs and the data.

The specs say what each variable means (label, origin, method, comment, codelist); the data
say what was written (which variables, their lengths, the codelist terms used, the tests and
QNAMs present). Both go into one document so that it cannot drift from the datasets. The
document is returned as an lxml tree: the caller validates it, writes it, renders define.html
from it and reads the define model from it (`cdisc_cup.define.read.define_of`) without
parsing the file again.

References: CDISC Define-XML 2.1 specification (ItemGroupDef, ItemDef, def:Origin,
def:ValueListDef, def:WhereClauseDef sections) and the CDISC 2.1 examples shipped beside the
schemas; FDA Study Data Technical Conformance Guide section 4.1.4.5 (define.xml v2.1, the
stylesheet, value-level metadata for SUPP-- and Findings domains).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

import pandas as pd
from lxml import etree

from cdisc_cup.conditions import is_null
from cdisc_cup.ct import Codelist
from cdisc_cup.define.document import ARM_NS, NSMAP, XLINK_NS, XML_NS, arm, dfn, odm, qualified
from cdisc_cup.define.documents import CrfPageIndex, Document, GuidePageIndex, SubmissionDocuments
from cdisc_cup.define.html import STYLESHEET
from cdisc_cup.define.identifiers import (
    Standard,
    creation_timestamp,
    item_group_oid,
    item_oid,
    metadata_version_oid,
    source_system,
    study_oid,
)
from cdisc_cup.define.shapes import ItemShape, ValueLevel, item_shape, value_levels
from cdisc_cup.derivations.text import number_text
from cdisc_cup.errors import ConformanceErrors, Problem
from cdisc_cup.provenance import is_trace_column
from cdisc_cup.spec.model import DatasetSpec, ResultDisplaySpec, StudySpec, VariableSpec

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

# A code of at most 8 characters (SAS name length: --TESTCD, QNAM, M/F, Y/N) is listed with
# its NCI preferred term as Decode; longer submission values are their own decode.
MAX_CODE_LENGTH = 8
# The DataTypes an ItemDef gives a Length for (Define-XML 2.1, ItemDef Length).
TEXT_LENGTH_TYPES = frozenset({"text", "integer", "float"})


@dataclass
class _Registry:
    """Methods, comments and codelist terms collected while the datasets are described."""

    methods: dict[str, tuple[str, str]] = field(default_factory=dict)  # text -> (oid, name)
    comments: dict[str, str] = field(default_factory=dict)  # text -> oid
    codelist_values: dict[str, list[pd.Series]] = field(default_factory=dict)
    codelist_types: dict[str, str] = field(default_factory=dict)
    uses_meddra: bool = False
    dictionaries: dict[str, None] = field(default_factory=dict)  # external dictionaries named, in order

    def method(self, oid: str, name: str, text: str) -> str:
        return self.methods.setdefault(text, (oid, name))[0]

    def comment(self, oid: str, text: str) -> str:
        return self.comments.setdefault(text, oid)

    def codelist(self, codelist_id: str, values: pd.Series, data_type: str) -> str:
        # The terms used, in order of first use: the distinct values are enough (a codelist of
        # 1.7 million administrations has three).
        distinct = pd.Series(values.unique(), dtype=values.dtype).dropna()  # unique in C, in order of use
        self.codelist_values.setdefault(codelist_id, []).append(distinct)
        self.codelist_types.setdefault(codelist_id, "text" if data_type not in ("integer", "float") else data_type)
        return f"CL.{codelist_id}"


def _text(parent: etree._Element, tag: str, text: str) -> etree._Element:
    element = etree.SubElement(parent, tag)
    translated = etree.SubElement(element, odm("TranslatedText"))
    translated.set(qualified(XML_NS, "lang"), "en")
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


def _origin(parent: etree._Element, variable: VariableSpec, crf: CrfPageIndex | None, pages: tuple[int, ...]) -> None:
    """def:Origin: Collected defaults to Source Investigator; Derived/Assigned/Protocol to
    Sponsor; Predecessor carries the predecessor variable as text (Define-XML 2.1, def:Origin).
    A collected variable the aCRF shows points at its pages there (def:DocumentRef with
    def:PDFPageRef, physical page numbers as the stylesheet links them: acrf.pdf#page=n)."""
    origin = etree.SubElement(parent, dfn("Origin"))
    origin.set("Type", variable.origin)
    if variable.origin == "Predecessor":
        _text(origin, odm("Description"), _predecessor(variable))
        return
    defaults = {"Collected": "Investigator", "Derived": "Sponsor", "Assigned": "Sponsor", "Protocol": "Sponsor"}
    source = variable.origin_source or defaults.get(variable.origin)
    if source is not None:
        origin.set("Source", source)
    if crf is not None and variable.origin == "Collected" and pages:
        reference = etree.SubElement(origin, dfn("DocumentRef"))
        reference.set("leafID", crf.document.leaf_id)
        _set(
            etree.SubElement(reference, dfn("PDFPageRef")),
            [("PageRefs", " ".join(map(str, pages))), ("Type", "PhysicalRef")],
        )


def _mandatory(variable: VariableSpec, values: pd.Series) -> str:
    """Define-XML 2.1 Mandatory: Yes when the variable must have a value in every record. A
    required variable that is null somewhere (ADSL.RACE, not collected in the CUP) is declared
    No, so define.xml agrees with the data; its comment says why."""
    required = variable.core == "Req" and not bool(is_null(values).any())
    return "Yes" if required else "No"


def _is_meddra(spec: DatasetSpec, variable: VariableSpec) -> bool:
    prefix = variable.name[:2]
    domain = spec.parent or spec.name
    return (
        variable.codelist is None
        and prefix in MEDDRA_DOMAINS
        and (domain == prefix or domain.startswith("AD"))
        and variable.name[2:] in MEDDRA_SUFFIXES
    )


def dataset_comment(spec: DatasetSpec, note: str | None = None) -> str:
    """A dataset's define.xml comment: its spec's description (with why variables are not
    submitted, when an export lacked them) and `note` (a split over 5 GB). The reviewer's guides
    print the same text, so the guide and define.xml give a reviewer the same reasons."""
    return " ".join(text for text in (spec.description, note) if text)


@dataclass(frozen=True)
class _Described:
    """What one dataset contributes to MetaDataVersion, in its section order."""

    item_group: etree._Element
    item_defs: list[etree._Element]
    value_lists: list[etree._Element]
    where_clauses: list[etree._Element]


class _DefineBuilder:
    def __init__(
        self, study: StudySpec, specs: Sequence[DatasetSpec], standard: Standard, documents: SubmissionDocuments
    ) -> None:
        self.study = study
        self.standard = standard
        self.crf = documents.annotated_crf
        self.labels = {spec.name: spec.label for spec in (*study.sdtm, *study.adam, *specs)}
        self.registry = _Registry()
        self.ig_standards: dict[str, tuple[str, str]] = {}  # oid -> (name, version)

    # dataset level ---------------------------------------------------------------------------

    def dataset(
        self, spec: DatasetSpec, frame: pd.DataFrame, lengths: Mapping[str, int], note: str | None = None
    ) -> _Described:
        """`note`: a sentence added to the dataset's comment (a split over 5 GB, TCG 3.3.2)."""
        group = etree.Element(odm("ItemGroupDef"))
        comment = dataset_comment(spec, note)
        comment_oid = self.registry.comment(f"COM.{spec.name}", comment) if comment else None
        _set(
            group,
            [
                ("OID", item_group_oid(spec.name)),
                ("Domain", (spec.parent or spec.name) if self.standard == "SDTM" else None),
                ("Name", spec.name),
                # Yes: several records per subject. A dataset of no subject (the trial design) is
                # reference data and does not repeat (the CDISC Define-XML 2.1 SDTM example's TS).
                ("Repeating", "Yes" if "USUBJID" in spec.keys and set(spec.keys) - {"STUDYID", "USUBJID"} else "No"),
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
        levels = value_levels(self.study, spec, frame)
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
                    ("Mandatory", _mandatory(variable, frame[name])),
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
        _set(leaf, [("ID", f"LF.{spec.name}"), (qualified(XLINK_NS, "href"), f"{spec.name.lower()}.xpt")])
        etree.SubElement(leaf, dfn("title")).text = f"{spec.name.lower()}.xpt"
        return _Described(group, item_defs, value_lists, list(where_clauses.values()))

    def _pages(self, dataset: str, variable: str, where: tuple[str, str] | None = None) -> tuple[int, ...]:
        """The aCRF pages that show a variable (of the records `where` selects)."""
        return self.crf.pages(dataset, variable, where) if self.crf is not None else ()

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
        _origin(item, variable, self.crf, self._pages(spec.name, variable.name))
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
        if variable.dictionary is not None and codelist_id is None:
            self.registry.dictionaries.setdefault(variable.dictionary)
            oid = f"CL.{variable.dictionary}"
        elif codelist_id is not None:
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
        discriminators = {name: frame[name].astype(str) for name in {level.where_variable for level in levels}}
        for order, level in enumerate(levels, start=1):
            oid = f"{item_oid(spec.name, variable.name)}.{level.key}"
            where_oid = f"WC.{spec.name}.{level.where_variable}.{level.key}"
            rows = discriminators[level.where_variable].eq(level.where_value)
            subset = frame.loc[rows, variable.name]
            ref = etree.SubElement(value_list, odm("ItemRef"))
            method_oid = self._method(spec, variable) if variable.origin == "Derived" else None
            _set(
                ref,
                [
                    ("ItemOID", oid),
                    ("OrderNumber", order),
                    ("Mandatory", _mandatory(variable, subset)),
                    ("MethodOID", method_oid),
                ],
            )
            etree.SubElement(ref, dfn("WhereClauseRef")).set("WhereClauseOID", where_oid)
            if level.data_type is not None:
                shape = item_shape(replace(variable, data_type=level.data_type), subset, None)
            else:
                shape = item_shape(variable, subset, None, infer=variable.type == "Char")
            comment_oid = (
                self.registry.comment(f"COM.{spec.name}.{variable.name}.{level.key}", level.comment)
                if level.comment
                else None
            )
            name = level.where_value if spec.is_supplemental else variable.name
            item = self._item_element(oid, name, shape, comment_oid)
            _text(item, odm("Description"), level.description)
            self._codelist_ref(item, spec, variable, level.codelist, subset, shape)
            shown = level.crf or (spec.name, variable.name, (level.where_variable, level.where_value))
            _origin(item, variable, self.crf, self._pages(*shown))
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
        known = self.study.terminology.codelists
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
            values = pd.concat(series).dropna()
            # A numeric code (TRT01PN 1) is the term "1" as written, not Python's "1.0".
            used = number_text(values) if pd.api.types.is_numeric_dtype(values) else values.astype(str)
            used = used[used != ""].drop_duplicates().tolist()
            standard_oid = self._ct_standard(found, ct_standards)
            elements.append(_codelist_element(found, used, self.registry.codelist_types[codelist_id], standard_oid))
        if self.registry.uses_meddra:
            elements.append(self._meddra())
        elements += [self._external(key) for key in self.registry.dictionaries]
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

    def _external(self, key: str) -> etree._Element:
        """A codelist that is an external dictionary (ISO 3166 for COUNTRY since CDISC retired
        its copy): def:ExternalCodeList with the dictionary's name, version and address."""
        dictionary = self.study.dictionaries[key]
        element = etree.Element(odm("CodeList"))
        _set(element, [("OID", f"CL.{key}"), ("Name", dictionary.name), ("DataType", "text")])
        _set(
            etree.SubElement(element, odm("ExternalCodeList")),
            [("Dictionary", dictionary.name), ("Version", dictionary.version), ("href", dictionary.href)],
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
    documents: SubmissionDocuments | None = None,
) -> etree._ElementTree:
    """The define.xml document for the datasets written (those in `datasets`, in spec order).

    `lengths` holds the written Char lengths by dataset and variable (the XPT writer's); when
    missing they are measured from the frames, which gives the same numbers. `notes` adds a
    sentence to a dataset's comment (a dataset also submitted split, TCG section 3.3.2).
    `documents` are the files beside the datasets define.xml links to: the aCRF with the page
    of each collected variable (def:AnnotatedCRF), the reviewer's guide (def:SupplementalDoc).
    """
    problems = _undescribed(specs, datasets)
    if problems:
        raise ConformanceErrors(problems)
    documents = documents or SubmissionDocuments()
    builder = _DefineBuilder(study, specs, standard, documents)
    described = [
        builder.dataset(spec, datasets[spec.name], (lengths or {}).get(spec.name, {}), (notes or {}).get(spec.name))
        for spec in specs
        if spec.name in datasets
    ]
    codelists, ct_standards = builder.codelists()
    displays = [d for d in study.result_displays if analyses_written(d, datasets)] if standard == "ADaM" else []

    root = etree.Element(odm("ODM"), nsmap={**NSMAP, "arm": ARM_NS} if displays else NSMAP)
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
    if documents.annotated_crf is not None:
        _document_refs(mdv, "AnnotatedCRF", [documents.annotated_crf.document])
    if documents.supplemental:
        _document_refs(mdv, "SupplementalDoc", documents.supplemental)
    for section in ("value_lists", "where_clauses"):
        for item in described:
            mdv.extend(getattr(item, section))
    mdv.extend(_analysis_where_clauses(displays))
    mdv.extend(item.item_group for item in described)
    for item in described:
        mdv.extend(item.item_defs)
    mdv.extend(codelists)
    mdv.extend(builder.methods())
    mdv.extend(builder.comments())
    mdv.extend(_leaf(document) for document in documents.leaves)
    if displays:
        mdv.append(_result_displays(displays, documents.analysis_guide))
    tree = etree.ElementTree(root)
    root.addprevious(etree.ProcessingInstruction("xml-stylesheet", f'type="text/xsl" href="{STYLESHEET.name}"'))
    return tree


# --- Analysis Results Metadata (ARM 1.0) --------------------------------------------------------


def analyses_written(display: ResultDisplaySpec, datasets: Mapping[str, pd.DataFrame]) -> bool:
    """A display is described when every dataset and variable its analyses read was written."""
    return all(
        analysis.dataset in datasets
        and all(name in datasets[analysis.dataset].columns for name in analysis.variables)
        and all(name in datasets[analysis.dataset].columns for name, _, _ in analysis.checks)
        for result in display.results
        for analysis in result.datasets
    )


def _analysis_where_oid(result_id: str, dataset: str) -> str:
    return f"WC.{result_id}.{dataset}"


def _analysis_where_clauses(displays: Sequence[ResultDisplaySpec]) -> list[etree._Element]:
    """A def:WhereClauseDef per analysis dataset with a where clause: its range checks, all of
    which the records meet (Define-XML 2.1 WhereClauseDef; ARM 1.0 arm:AnalysisDataset)."""
    clauses = []
    for display in displays:
        for result in display.results:
            for analysis in result.datasets:
                if not analysis.checks:
                    continue
                clause = etree.Element(dfn("WhereClauseDef"))
                clause.set("OID", _analysis_where_oid(result.id, analysis.dataset))
                for variable, comparator, values in analysis.checks:
                    check = etree.SubElement(clause, odm("RangeCheck"))
                    _set(
                        check,
                        [
                            ("Comparator", comparator),
                            ("SoftHard", "Soft"),
                            (dfn("ItemOID"), item_oid(analysis.dataset, variable)),
                        ],
                    )
                    for value in values:
                        etree.SubElement(check, odm("CheckValue")).text = value
                clauses.append(clause)
    return clauses


def _guide_reference(parent: etree._Element, guide: GuidePageIndex | None, key: str) -> None:
    """def:DocumentRef to the page of the guide's section about `key` (a display's or an
    analysis's OID), titled with the section, when the guide has one."""
    if guide is None or key not in guide.sections:
        return
    section = guide.sections[key]
    reference = etree.SubElement(parent, dfn("DocumentRef"))
    reference.set("leafID", guide.document.leaf_id)
    _set(
        etree.SubElement(reference, dfn("PDFPageRef")),
        [
            ("PageRefs", str(section.page)),
            ("Type", "PhysicalRef"),
            ("Title", f"{guide.document.title}, section {section.number}"),
        ],
    )


def _result_displays(displays: Sequence[ResultDisplaySpec], guide: GuidePageIndex | None) -> etree._Element:
    """arm:AnalysisResultDisplays: per display its analyses, each with the datasets, where
    clauses and variables it reads, what it computes and the function of the tool that does.
    The display and each analysis point at the page of the ADRG that describes them (ARM 1.0
    allows a def:DocumentRef in arm:ResultDisplay and in arm:Documentation)."""
    container = etree.Element(arm("AnalysisResultDisplays"))
    for display in displays:
        element = etree.SubElement(container, arm("ResultDisplay"))
        _set(element, [("OID", display.id), ("Name", display.name)])
        _text(element, odm("Description"), display.title)
        _guide_reference(element, guide, display.id)
        for result in display.results:
            analysis = etree.SubElement(element, arm("AnalysisResult"))
            _set(
                analysis,
                [("OID", result.id), ("AnalysisReason", result.reason), ("AnalysisPurpose", result.purpose)],
            )
            _text(analysis, odm("Description"), result.description)
            datasets = etree.SubElement(analysis, arm("AnalysisDatasets"))
            for used in result.datasets:
                dataset = etree.SubElement(datasets, arm("AnalysisDataset"))
                dataset.set("ItemGroupOID", item_group_oid(used.dataset))
                if used.checks:
                    reference = etree.SubElement(dataset, dfn("WhereClauseRef"))
                    reference.set("WhereClauseOID", _analysis_where_oid(result.id, used.dataset))
                for name in used.variables:
                    etree.SubElement(dataset, arm("AnalysisVariable")).set("ItemOID", item_oid(used.dataset, name))
            documented = guide is not None and result.id in guide.sections
            if result.documentation or documented:
                documentation = etree.SubElement(analysis, arm("Documentation"))
                _text(documentation, odm("Description"), result.documentation or result.description)
                _guide_reference(documentation, guide, result.id)
            if result.code:
                code = etree.SubElement(analysis, arm("ProgrammingCode"))
                _set(code, [("Context", result.context or None)])
                etree.SubElement(code, arm("Code")).text = f"{result.code}()"
    return container


def _document_refs(parent: etree._Element, tag: str, documents: Sequence[Document]) -> None:
    """def:AnnotatedCRF or def:SupplementalDoc: one def:DocumentRef per document."""
    container = etree.SubElement(parent, dfn(tag))
    for document in documents:
        etree.SubElement(container, dfn("DocumentRef")).set("leafID", document.leaf_id)


def _leaf(document: Document) -> etree._Element:
    """The def:leaf of a document: its file relative to define.xml, and its title."""
    leaf = etree.Element(dfn("leaf"))
    _set(leaf, [("ID", document.leaf_id), (qualified(XLINK_NS, "href"), document.href)])
    etree.SubElement(leaf, dfn("title")).text = document.title
    return leaf


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
