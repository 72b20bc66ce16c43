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


@dataclass(frozen=True)
class Dictionary:
    """An external dictionary a variable's values come from (MedDRA, ISO 3166)."""

    name: str
    version: str
    href: str | None = None


BlockKind = Literal["raw", "datasets", "row"]


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
    """

    source: str | None = None  # raw file name (RawFileSpec.name) of a `raw` block
    where: Condition | None = None
    values: Mapping[str, ValueSource] = field(default_factory=dict)
    datasets: tuple[str, ...] = ()  # the SDTM datasets of a `datasets` block
    distinct: tuple[str, ...] = ()  # their variables whose distinct combinations are the records
    location: str = ""  # the block's key path in its spec file, for messages: records[0].rows[3]

    @property
    def kind(self) -> BlockKind:
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

    def without(self, names: Collection[str], reason: str) -> DatasetSpec:
        """The spec with the named variables left out and the reason added to its description,
        which is the dataset's define.xml comment: a reviewer reads why they are not submitted."""
        return replace(
            self,
            variables=tuple(v for v in self.variables if v.name not in names),
            description=" ".join(text for text in (self.description, reason) if text),
        )


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

    def dataset(self, name: str) -> DatasetSpec:
        for spec in (*self.sdtm, *self.adam):
            if spec.name == name.upper():
                return spec
        raise KeyError(name)
