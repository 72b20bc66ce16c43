"""Typed, immutable views of the validated spec documents.

The YAML format is documented in `specs/README.md`. Value sources stay plain mappings
(`{"column": "AGE"}`, `{"derivation": "seq", "by": [...]}`) because the mapping engine
dispatches on their single key; everything else is a field.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from cdisc_cup import ct
from cdisc_cup.constants import MAX_CHAR_LENGTH

ValueSource = Mapping[str, Any]
Condition = Mapping[str, Any]


@dataclass(frozen=True)
class ReaderOptions:
    """How raw files are read; lives in the study spec so a new EDC needs no code change."""

    format: Literal["csv", "sas7bdat", "xpt"] = "csv"
    encoding: str = "utf-8-sig"
    delimiter: str = ";"
    quote: str = '"'
    decimal: str = ","
    thousands: str | None = None
    date_format: str = "DD.MM.YYYY"
    unknown_date_part: str = "UN"


@dataclass(frozen=True)
class RawColumnSpec:
    name: str
    type: Literal["text", "integer", "decimal", "date", "partial_date", "code", "flag"]
    required: bool = False  # the column must exist in the file
    mandatory: bool = False  # every row must have a value
    values: tuple[str, ...] = ()  # allowed raw codes for type code/flag
    pattern: str | None = None
    min: float | None = None
    max: float | None = None
    description: str = ""
    # The column's name in the file when it is not a spec name (`IT.AETERM`: a dot would read
    # as `file.COLUMN`); the spec and the messages after reading use `name`.
    header: str | None = None
    date_format: str | None = None  # a date column in another layout than its file's

    @property
    def file_header(self) -> str:
        return self.header or self.name


@dataclass(frozen=True)
class DateOrder:
    """`earlier` must not be after `later` on the same row (both complete dates)."""

    earlier: str
    later: str


@dataclass(frozen=True)
class RawFileSpec:
    name: str  # the logical name used in dataset specs (`from: adverse_events`)
    file: str  # file name inside the raw folder
    key: tuple[str, ...]
    columns: tuple[RawColumnSpec, ...]
    references: Mapping[str, str] = field(default_factory=dict)  # column -> "file.COLUMN"
    date_order: tuple[DateOrder, ...] = ()
    reader: ReaderOptions | None = None  # overrides the study-wide reader options
    description: str = ""
    form: str = ""  # the title of the eCRF form the file exports (the aCRF section)

    def column(self, name: str) -> RawColumnSpec | None:
        return next((c for c in self.columns if c.name == name), None)


@dataclass(frozen=True)
class VariableSpec:
    name: str
    label: str
    type: Literal["Char", "Num"]
    length: int | None  # the maximum; the written length is sized to the data
    origin: str  # Collected | Derived | Assigned | Predecessor | Protocol
    core: str  # Req | Exp | Perm (ADaM: Req | Cond | Perm)
    value: ValueSource | None = None
    codelist: str | None = None  # a codelist id from cdisc_cup.ct (e.g. "SEX", "NY")
    role: str | None = None
    format: str | None = None  # SAS display format, e.g. DATE9. for numeric dates
    origin_source: str | None = None  # Define-XML 2.1 def:Origin/@Source
    method: str | None = None  # derivation text for define.xml MethodDef
    comment: str | None = None
    data_type: str | None = None  # Define-XML DataType override (date, datetime, integer, float)
    optional: bool = False  # left out when the export lacks every raw column it reads
    dictionary: str | None = None  # an external dictionary of study.yaml `dictionaries` (ISO 3166)
    # The SUPP-- dataset that holds the text beyond the variable's length (AE.AETERM: SUPPAE,
    # whose block `continues: AETERM` makes its records; SDTMIG 3.4 section 4.5.3.2).
    continued_in: str | None = None

    @property
    def max_text_length(self) -> int:
        """The characters a value may have: the spec's length, never more than XPT v5's 200."""
        return min(self.length or MAX_CHAR_LENGTH, MAX_CHAR_LENGTH)


@dataclass(frozen=True)
class Dictionary:
    """An external dictionary a variable's values come from (MedDRA, ISO 3166)."""

    name: str
    version: str
    href: str | None = None


BlockKind = Literal["raw", "datasets", "row", "continuation"]

# SDTMIG 3.4 section 4.5.3.2: the QNAMs of text beyond 200 characters append "a 1-digit
# integer, beginning with 1" to the variable's name, so a text has at most 9 continuations.
MAX_CONTINUATIONS = 9
# The variables of a continuation block's records that the engine sets from the text.
CONTINUATION_VARIABLES = ("QNAM", "QLABEL", "QVAL")


def continuation_qnam(name: str, number: int) -> str:
    """The QNAM of the `number`th continuation of a variable's or qualifier's text: AETERM1;
    "in cases where the standard domain variable name is already 8 characters in length,
    sponsors should replace the last character with a digit" (MMSUBTYP: MMSUBTY1)."""
    return f"{name[:7]}{number}" if len(name) == 8 else f"{name}{number}"


@dataclass(frozen=True)
class RecordBlock:
    """One group of records of a dataset; the block's `values` override the variables'
    default `value` sources. Where the records come from is the block's kind:

    - `raw`: one record per record of a raw file (`source`), those `where` selects. Findings
      domains (VS, RS, SC) and SUPP-- datasets have one block per test or QNAM.
    - `datasets`: one record per record of SDTM datasets built before this one (`datasets`,
      stacked), or per distinct combination of the `distinct` variables of their records:
      SE from DM, SV from the visits of EX, VS and RS. Their variables are the block's columns.
    - `row`: one record defined in the spec itself, for the trial design datasets, which have
      no raw source (TS, TA, TE, TV, TI). A `rows:` list in the YAML makes one block per row.
    - `continuation`: in a SUPP-- dataset, one record per 200 characters beyond the first of a
      text (`continues`): a variable of the parent domain that is `continued_in` this dataset
      (AETERM), or the QVAL of this dataset's block with that QNAM (MMSUBTYP). Its records are
      made from the raw records of that text; QNAM, QLABEL and QVAL are the engine's.
    """

    source: str | None = None  # raw file name (RawFileSpec.name) of a `raw` block
    where: Condition | None = None
    values: Mapping[str, ValueSource] = field(default_factory=dict)
    datasets: tuple[str, ...] = ()  # the SDTM datasets of a `datasets` block
    distinct: tuple[str, ...] = ()  # their variables whose distinct combinations are the records
    location: str = ""  # the block's key path in its spec file, for messages: records[0].rows[3]
    continues: str | None = None  # a `continuation` block: the variable or QNAM whose text it continues

    def constant(self, name: str) -> str | None:
        """The text constant the block gives a variable (QNAM: AERELPOM), if it gives one."""
        source = self.values.get(name) or {}
        value = source.get("constant") if "when" not in source else None
        return value if isinstance(value, str) else None

    @property
    def kind(self) -> BlockKind:
        if self.continues is not None:
            return "continuation"
        if self.source is not None:
            return "raw"
        return "datasets" if self.datasets else "row"


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    label: str
    standard: str  # "SDTMIG 3.4" | "ADaMIG 1.3"
    dataset_class: str  # SDTM observation class or ADaM class
    structure: str
    keys: tuple[str, ...]
    variables: tuple[VariableSpec, ...]
    records: tuple[RecordBlock, ...] = ()
    parent: str | None = None  # SUPP--: the parent domain
    subclass: str | None = None  # Define-XML 2.1 def:SubClass (ADaM OCCDS: ADVERSE EVENT)
    description: str = ""
    path: Path | None = None
    base: str | None = None  # ADaM: the dataset its records start from
    derivations: tuple[Mapping[str, Any], ...] = ()  # ADaM: its steps (cdisc_cup.adam.engine)

    @property
    def variable_names(self) -> list[str]:
        return [v.name for v in self.variables]

    def variable(self, name: str) -> VariableSpec:
        for variable in self.variables:
            if variable.name == name:
                return variable
        raise KeyError(name)

    def codelists_by_block(self, name: str) -> list[str | None]:
        """The codelist of a variable in each record block: a block's value source may name its
        own (value-level metadata: DSDECOD is PROTMLST in the consent block, TSVAL is NY where
        TSPARMCD is RANDOM), else the variable's."""
        default = self.variable(name).codelist
        return [(block.values.get(name) or {}).get("codelist", default) for block in self.records]

    @property
    def is_supplemental(self) -> bool:
        return self.parent is not None

    def qnam_block(self, qnam: str) -> RecordBlock | None:
        """The SUPP-- block whose records have this QNAM (a constant of the block)."""
        return next((block for block in self.records if block.constant("QNAM") == qnam), None)

    @property
    def continued_qnams(self) -> frozenset[str]:
        """The QNAMs whose QVAL a continuation block of this SUPP-- dataset continues (MMSUBTYP):
        their own records keep the first part of the text."""
        return frozenset(block.continues for block in self.records if block.continues is not None)

    def without(self, names: Collection[str], reason: str) -> DatasetSpec:
        """The spec with the named variables left out and the reason added to its description,
        which is the dataset's define.xml comment: a reviewer reads why they are not submitted."""
        return replace(
            self,
            variables=tuple(v for v in self.variables if v.name not in names),
            description=" ".join(text for text in (self.description, reason) if text),
        )


@dataclass(frozen=True)
class ContinuedText:
    """A text that continues in SUPP-- records (SDTMIG 3.4 section 4.5.3.2): the dataset and
    variable that hold its first part, the record blocks that make it, the name its
    continuation QNAMs are formed from (AETERM: AETERM1, ...) and their QLABEL, "the original
    domain variable label"."""

    spec: DatasetSpec  # AE, or the SUPP-- dataset itself for a qualifier (SUPPMH)
    variable: VariableSpec  # AETERM, or QVAL
    blocks: tuple[RecordBlock, ...]  # the parent's blocks that give the variable a value, or the QNAM's block
    name: str  # AETERM, MMSUBTYP
    label: str  # Reported Term for the Adverse Event, Multiple Myeloma Subtype

    @property
    def qnams(self) -> tuple[str, ...]:
        """Every QNAM its continuations may have, in order: AETERM1 ... AETERM9."""
        return tuple(continuation_qnam(self.name, number) for number in range(1, MAX_CONTINUATIONS + 1))


# The comparisons a where clause of an analysis may use: Define-XML RangeCheck comparators.
COMPARATORS = {
    "equals": "EQ",
    "not_equals": "NE",
    "in": "IN",
    "not_in": "NOTIN",
    "greater_than": "GT",
    "less_than": "LT",
}


def where_checks(condition: Mapping[str, Any] | None) -> list[tuple[str, str, tuple[str, ...]]]:
    """A where clause of an analysis as (variable, Define-XML comparator, values): one
    comparison on a variable, or `all:` of several (an ARM where clause is their conjunction)."""
    if condition is None:
        return []
    if "all" in condition:
        return [check for part in condition["all"] for check in where_checks(part)]
    test = next(key for key in COMPARATORS if key in condition)
    values = condition[test] if isinstance(condition[test], list) else [condition[test]]
    return [(condition["variable"], COMPARATORS[test], tuple(str(v) for v in values))]


@dataclass(frozen=True)
class AnalysisDatasetSpec:
    """The records of one dataset an analysis reads (a where clause) and the variables it analyses."""

    dataset: str
    variables: tuple[str, ...]
    where: Condition | None = None

    @property
    def checks(self) -> list[tuple[str, str, tuple[str, ...]]]:
        """The where clause as Define-XML range checks: (variable, comparator, values)."""
        return where_checks(self.where)


@dataclass(frozen=True)
class AnalysisResultSpec:
    """One analysis of a display (ARM 1.0 arm:AnalysisResult)."""

    id: str  # its OID: AR.TABLE2.ANY
    description: str
    datasets: tuple[AnalysisDatasetSpec, ...]
    reason: str  # AnalysisReason: SPECIFIED IN SAP, DATA DRIVEN, ...
    purpose: str  # AnalysisPurpose: PRIMARY OUTCOME MEASURE, EXPLORATORY OUTCOME MEASURE, ...
    documentation: str = ""
    code: str = ""  # the tool's function that computes it (module.function)
    context: str = ""  # the programming context of `code`


@dataclass(frozen=True)
class ResultDisplaySpec:
    """One table or figure and its analyses (`analysis/results.yaml`, ARM 1.0 arm:ResultDisplay)."""

    id: str  # its OID, printed in the display's title: RD.TABLE1
    name: str  # Table 1
    output: str  # the file stem the tables writer gives it: table1
    title: str
    results: tuple[AnalysisResultSpec, ...]


@dataclass(frozen=True)
class FindingExplanation:
    """Why a conformance finding is left in the data (`explanations.yaml`), for the reviewer's guides."""

    rule: str
    explanation: str
    dataset: str | None = None  # None: every dataset
    variable: str | None = None  # None: every variable (matching: findings.explanations_of)


@dataclass(frozen=True)
class ProtocolTopic:
    """One paragraph of the guides' protocol design (`guides.yaml`), with the section of the
    document it is taken from, so a reviewer can check it there."""

    topic: str  # Design, Population, Treatment schedule, ...
    text: str
    source: str


@dataclass(frozen=True)
class GuideText:
    """What the reviewer's guides say that neither the data nor the other specs hold
    (`guides.yaml`): the protocol's title and design, taken from `reference`, and the acronyms."""

    title: str = ""
    reference: str = ""  # the document the protocol description comes from (the publication)
    cite: str = ""  # how a paragraph names it: Leitner et al. 2024
    design: tuple[ProtocolTopic, ...] = ()
    acronyms: Mapping[str, str] = field(default_factory=dict)  # acronym -> its words


@dataclass(frozen=True)
class StudySpec:
    studyid: str
    name: str
    description: str
    protocol: str
    country: str
    reader: ReaderOptions
    subject_key: str
    raw_files: tuple[RawFileSpec, ...]
    sdtm: tuple[DatasetSpec, ...]
    adam: tuple[DatasetSpec, ...]
    parameters: Mapping[str, Any] = field(default_factory=dict)  # dates, windows, doses
    standards: Mapping[str, str] = field(default_factory=dict)  # sdtmig, adamig, ct versions
    dictionaries: Mapping[str, Dictionary] = field(default_factory=dict)
    spec_dir: Path | None = None
    result_displays: tuple[ResultDisplaySpec, ...] = ()  # analysis/results.yaml, when there is one
    explanations: tuple[FindingExplanation, ...] = ()  # explanations.yaml, when there is one
    guide_text: GuideText = field(default_factory=GuideText)  # guides.yaml, when there is one

    def result_display(self, output: str) -> ResultDisplaySpec | None:
        """The display metadata of a table or figure by its file stem (table1), if declared."""
        return next((d for d in self.result_displays if d.output == output), None)

    def display_title(self, output: str, title: str) -> str:
        """A table's or figure's title with the id of its result display (`[RD.TABLE1]`), so a
        reviewer goes from the output to its Analysis Results Metadata in define.xml and back."""
        display = self.result_display(output)
        return f"{title} [{display.id}]" if display is not None else title

    def raw_file(self, name: str) -> RawFileSpec:
        for raw in self.raw_files:
            if raw.name == name:
                return raw
        raise KeyError(name)

    @cached_property
    def terminology(self) -> ct.Terminology:
        """The CT packages the study is built with (`standards.sdtm_ct`, `standards.adam_ct`):
        the codelists its specs name, checked before writing and listed in define.xml. A spec
        folder's own `ct/sponsor.yaml` is laid over the shipped sponsor codelists."""
        sponsor = self.spec_dir / "ct" / "sponsor.yaml" if self.spec_dir is not None else None
        return ct.terminology(
            sdtm=self.standards.get("sdtm_ct"),
            adam=self.standards.get("adam_ct"),
            extra=sponsor if sponsor is not None and sponsor.is_file() else None,
        )

    def continued_text(self, spec: DatasetSpec, block: RecordBlock) -> ContinuedText:
        """What a continuation block of a SUPP-- dataset continues: a variable of its parent
        domain (AE.AETERM), else the QVAL of its own block with that QNAM (MMSUBTYP)."""
        name = block.continues or ""
        parent = self.dataset(spec.parent) if spec.parent else None
        if parent is not None and name in parent.variable_names:
            variable = parent.variable(name)
            blocks = tuple(b for b in parent.records if b.values.get(name, variable.value) is not None)
            return ContinuedText(parent, variable, blocks, name, variable.label)
        own = spec.qnam_block(name)
        if own is None:
            raise KeyError(name)
        label = own.constant("QLABEL") or name
        return ContinuedText(spec, spec.variable("QVAL"), (own,), name, label)

    def dataset(self, name: str) -> DatasetSpec:
        for spec in (*self.sdtm, *self.adam):
            if spec.name == name.upper():
                return spec
        raise KeyError(name)
