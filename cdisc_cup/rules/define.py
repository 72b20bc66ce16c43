"""What define.xml says about datasets and variables, for the DX rules.

Reads Define-XML 2.0/2.1 and also Define-XML 1.0 (ODM 1.2, as in the CDISC pilot
submission): 1.0 keeps labels in a `def:Label` attribute where 2.x uses
`Description/TranslatedText`. Elements are matched by local name so either namespace set works.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path

from lxml import etree

# The DataTypes of a SAS Num variable (Define-XML 2.1, ItemDef DataType); every other type
# (text and the ISO 8601 types) is held in a Char variable.
NUMERIC_DATA_TYPES = frozenset({"integer", "float"})

DEF_NAMESPACES = (
    "http://www.cdisc.org/ns/def/v1.0",
    "http://www.cdisc.org/ns/def/v2.0",
    "http://www.cdisc.org/ns/def/v2.1",
)


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
    name: str
    label: str
    length: int | None
    # The item's codelist, then those of its value-level items (DSDECOD: NCOMPLT, PROTMLST).
    codelists: tuple[DefinedCodelist, ...] = ()
    data_type: str = ""  # "" when the ItemDef gives none
    # OrderNumber of the ItemRef; its position among the dataset's ItemRefs when define.xml gives none.
    order: int = 0

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
    name: str
    label: str
    variables: dict[str, DefinedVariable] = field(default_factory=dict)
    href: str | None = None  # def:leaf xlink:href, the dataset's file relative to define.xml


@dataclass(frozen=True)
class DefineMetadata:
    version: str
    datasets: dict[str, DefinedDataset]
    # The implementation guides it names, e.g. (("SDTMIG", "3.4"),); Define-XML 1.0/2.0 name
    # the model instead ("CDISC SDTM", "3.1.2"), as the CDISC pilot does.
    standards: tuple[tuple[str, str], ...] = ()
    # The CT packages it cites (Define-XML 2.1 def:Standard Type="CT"): (("SDTM", "2015-12-18"),)
    terminology: tuple[tuple[str, str], ...] = ()


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname


def _label(element: etree._Element) -> str:
    for namespace in DEF_NAMESPACES:
        value = element.get(f"{{{namespace}}}Label")
        if value is not None:
            return value
    for child in element:
        if isinstance(child.tag, str) and _local(child) == "Description":
            texts = [t.text or "" for t in child if isinstance(t.tag, str) and _local(t) == "TranslatedText"]
            return texts[0] if texts else ""
    return ""


def _children(root: etree._Element, name: str) -> list[etree._Element]:
    return [e for e in root.iter() if isinstance(e.tag, str) and _local(e) == name]


def _attribute(element: etree._Element, name: str) -> str | None:
    """An attribute by local name, whatever its namespace (def:ExtendedValue in 2.0 or 2.1)."""
    return next((v for k, v in element.attrib.items() if etree.QName(k).localname == name), None)


def _child_attributes(element: etree._Element, child: str, attribute: str) -> list[str]:
    return [c.get(attribute, "") for c in element if isinstance(c.tag, str) and _local(c) == child]


def _codelist(element: etree._Element) -> DefinedCodelist:
    items = [e for e in element if isinstance(e.tag, str) and _local(e) in {"CodeListItem", "EnumeratedItem"}]
    aliases = [
        e.get("Name")
        for e in element
        if isinstance(e.tag, str) and _local(e) == "Alias" and e.get("Context") == "nci:ExtCodeID"
    ]
    return DefinedCodelist(
        oid=element.get("OID", ""),
        name=element.get("Name", ""),
        nci_code=aliases[0] if aliases else None,
        values=frozenset(i.get("CodedValue", "") for i in items),
        extended=frozenset(i.get("CodedValue", "") for i in items if _attribute(i, "ExtendedValue") == "Yes"),
        external=any(isinstance(e.tag, str) and _local(e) == "ExternalCodeList" for e in element),
    )


def _order(number: str | None, position: int) -> int:
    """OrderNumber, or the position among the ItemRefs when define.xml gives none."""
    return int(number) if number and number.isdigit() else position


def read_define(path: Path) -> DefineMetadata:
    """Parsed once per version of the file (a define.xml rewritten at the same path is
    parsed again); no network and no entity expansion (define.xml is untrusted input)."""
    status = Path(path).stat()
    return _read_define(Path(path), status.st_mtime_ns, status.st_size)


@cache
def _read_define(path: Path, modified_ns: int, size: int) -> DefineMetadata:
    parser = etree.XMLParser(no_network=True, resolve_entities=False, huge_tree=False)
    root = etree.parse(str(path), parser).getroot()
    versions = _children(root, "MetaDataVersion")
    version = ""
    standards: list[tuple[str, str]] = []
    if versions:
        version = _attribute(versions[0], "DefineVersion") or ""
        named = (_attribute(versions[0], "StandardName"), _attribute(versions[0], "StandardVersion"))
        if named[0] and named[1]:
            standards.append((named[0], named[1]))
    standards += [
        (element.get("Name", ""), element.get("Version", ""))
        for element in _children(root, "Standard")
        if element.get("Type") == "IG"
    ]
    codelists = {c.oid: c for c in map(_codelist, _children(root, "CodeList"))}
    # Value-level items as Define-XML 2.x has them: each with the where clause of the records it
    # describes. A Define-XML 1.0 list has none: its items are named by the test code or QNAM
    # they stand for, and it hangs on the test code (the SDTM pilot: QNAM, VSTESTCD) or on the
    # result (the ADaM pilot: ANRIND), so what its codelists constrain cannot be told; they are
    # not taken as the codelists of the variable it hangs on.
    value_lists = {
        v.get("OID"): [r.get("ItemOID") for r in refs]
        for v in _children(root, "ValueListDef")
        if (refs := [r for r in v if isinstance(r.tag, str) and _local(r) == "ItemRef"])
        and all(any(isinstance(c.tag, str) and _local(c) == "WhereClauseRef" for c in r) for r in refs)
    }
    item_elements = {item.get("OID"): item for item in _children(root, "ItemDef")}

    def codelists_of(item: etree._Element) -> list[DefinedCodelist]:
        """Empty when some value-level item has no codelist (SUPPAE.QVAL: AESI is NY, the
        relationship text is free): the variable as a whole is then not controlled."""
        own = [codelists[oid] for oid in _child_attributes(item, "CodeListRef", "CodeListOID") if oid in codelists]
        for value_list in _child_attributes(item, "ValueListRef", "ValueListOID"):
            for oid in value_lists.get(value_list, []):
                value_level = codelists_of(item_elements[oid]) if oid in item_elements else []
                if not value_level:
                    return []
                own += value_level
        return own

    items = {}
    for oid, item in item_elements.items():
        length = item.get("Length")
        items[oid] = DefinedVariable(
            item.get("Name", ""),
            _label(item),
            int(length) if length and length.isdigit() else None,
            tuple(dict.fromkeys(codelists_of(item))),
            item.get("DataType", ""),
        )
    datasets = {}
    for group in _children(root, "ItemGroupDef"):
        refs = [r for r in group if isinstance(r.tag, str) and _local(r) == "ItemRef" and r.get("ItemOID") in items]
        variables = [
            replace(items[ref.get("ItemOID")], order=_order(ref.get("OrderNumber"), position))
            for position, ref in enumerate(refs, start=1)
        ]
        leaves = [e for e in group if isinstance(e.tag, str) and _local(e) == "leaf"]
        name = (group.get("Name") or "").upper()
        href = _attribute(leaves[0], "href") if leaves else None
        datasets[name] = DefinedDataset(name, _label(group), {v.name: v for v in variables}, href)
    terminology = tuple(
        (element.get("PublishingSet", ""), element.get("Version", ""))
        for element in _children(root, "Standard")
        if element.get("Type") == "CT"
    )
    return DefineMetadata(version, datasets, tuple(standards), terminology)
