"""The define.xml model: what a define.xml says about its datasets, in memory.

One model for every reader of define.xml: `convert` gets it from the document it has just
built, `validate` from the folder's file (Define-XML 1.0, 2.0 or 2.1, see `read`); the DX
rules compare it with the datasets, the CT rules take each variable's codelist from it, and
Dataset-JSON takes its column metadata from it, so that all of them describe the datasets in
the same way as the define.xml beside them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

# The DataTypes of a SAS Num variable (Define-XML 2.1, ItemDef DataType); every other type
# (text and the ISO 8601 types) is held in a Char variable.
NUMERIC_DATA_TYPES = frozenset({"integer", "float"})


@dataclass(frozen=True)
class DefinedCodelist:
    """A CodeList as the sponsor declared it: the terms used, and which are sponsor extensions."""

    oid: str
    name: str
    nci_code: str | None  # the Alias of context nci:ExtCodeID: ties it to a CDISC codelist
    values: frozenset[str]
    extended: frozenset[str]  # terms marked def:ExtendedValue="Yes"
    external: bool  # a dictionary (MedDRA, WHODrug) named by def:ExternalCodeList: no terms listed


@dataclass(frozen=True)
class DefinedVariable:
    """One variable of a dataset: its ItemRef in the dataset's ItemGroupDef and its ItemDef."""

    name: str
    label: str
    oid: str = ""
    # OrderNumber of the ItemRef; its position among the dataset's ItemRefs when define.xml gives none.
    order: int = 0
    data_type: str = ""  # "" when the ItemDef gives none
    length: int | None = None
    significant_digits: int | None = None
    display_format: str | None = None
    key_sequence: int | None = None
    mandatory: bool = False
    # The item's codelist, then those of its value-level items (DSDECOD: NCOMPLT, PROTMLST).
    codelists: tuple[DefinedCodelist, ...] = ()

    @property
    def allowed_values(self) -> frozenset[str] | None:
        """The terms the variable's values must be among; None when define.xml does not list
        them (no codelist, or an external dictionary)."""
        if not self.codelists or any(c.external for c in self.codelists):
            return None
        return frozenset().union(*(c.values for c in self.codelists))

    @property
    def is_numeric(self) -> bool:
        """Whether the DataType is one of a SAS Num variable (integer, float)."""
        return self.data_type in NUMERIC_DATA_TYPES


@dataclass(frozen=True)
class DefinedDataset:
    """One ItemGroupDef: the dataset, its file (def:leaf) and its variables in ItemRef order."""

    name: str  # upper case, as the rules name datasets
    label: str
    oid: str = ""
    href: str | None = None  # def:leaf xlink:href, the dataset's file relative to define.xml
    variables: dict[str, DefinedVariable] = field(default_factory=dict)

    @property
    def keys(self) -> tuple[str, ...]:
        """The variables that identify a record, in key order (ItemRef KeySequence); () when
        define.xml declares none."""
        keyed = [v for v in self.variables.values() if v.key_sequence is not None]
        return tuple(v.name for v in sorted(keyed, key=lambda v: v.key_sequence or 0))


@dataclass(frozen=True)
class DocumentLeaf:
    """A def:leaf outside the datasets (aCRF, reviewer's guide, a report): the file a reviewer
    opens from define.xml. The datasets' own leaves are `DefinedDataset.href` (rule DX0009)."""

    leaf_id: str
    href: str  # xlink:href, relative to define.xml's folder
    # Its line in define.xml; None for a document built in memory. Where, not what: not compared.
    line: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class PageReference:
    """A def:PDFPageRef: pages (or named destinations) of the document its def:DocumentRef names."""

    leaf_id: str
    kind: str  # Type: "PhysicalRef" or "NamedDestination"
    pages: tuple[str, ...]  # PageRefs, then FirstPage and LastPage, as written
    line: int | None = field(default=None, compare=False)  # in define.xml (not compared)


@dataclass(frozen=True)
class OidReference:
    """An OID that must name a definition of the same define.xml but that the schema cannot
    check (ARM's ItemGroupOID, ItemOID and WhereClauseOID, a where clause's def:ItemOID)."""

    kind: str  # "ItemGroupOID" | "ItemOID" | "WhereClauseOID"
    oid: str
    line: int | None = field(default=None, compare=False)  # in define.xml (not compared)


@dataclass(frozen=True)
class ItemLocation:
    """An ItemDef named by its OID, with the line of the element concerned."""

    oid: str
    line: int | None = field(default=None, compare=False)  # in define.xml (not compared)


@dataclass(frozen=True)
class DefineModel:
    """A whole define.xml: the datasets it describes and the standards and CT it cites."""

    version: str  # def:DefineVersion: "2.1.0", "1.0.0"
    datasets: dict[str, DefinedDataset]
    # The implementation guides it names, e.g. (("SDTMIG", "3.4"),); Define-XML 1.0/2.0 name
    # the model instead ("CDISC SDTM", "3.1.2"), as the CDISC pilot does.
    standards: tuple[tuple[str, str], ...] = ()
    # The CT packages it cites (Define-XML 2.1 def:Standard Type="CT"): (("SDTM", "2015-12-18"),)
    terminology: tuple[tuple[str, str], ...] = ()
    study_oid: str = ""
    metadata_version_oid: str = ""
    created: str | None = None  # ODM CreationDateTime
    # The file it was read from or written to; None for a document only in memory. The
    # def:leaf hrefs are relative to its folder.
    path: Path | None = None
    # The links the schema cannot check, for the DX link rules and the package check of convert.
    documents: tuple[DocumentLeaf, ...] = ()
    page_references: tuple[PageReference, ...] = ()
    # Collected variables whose source is the investigator, without a page of the aCRF.
    collected_without_page: tuple[ItemLocation, ...] = ()
    oid_references: tuple[OidReference, ...] = ()
    defined_oids: Mapping[str, frozenset[str]] = field(default_factory=dict)  # kind -> OIDs defined
