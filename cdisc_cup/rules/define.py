"""What define.xml says about datasets and variables, for the DX rules.

Reads Define-XML 2.0/2.1 and also Define-XML 1.0 (ODM 1.2, as in the CDISC pilot
submission): 1.0 keeps labels in a `def:Label` attribute where 2.x uses
`Description/TranslatedText`. Elements are matched by local name so either namespace set works.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from lxml import etree

DEF_NAMESPACES = (
    "http://www.cdisc.org/ns/def/v1.0",
    "http://www.cdisc.org/ns/def/v2.0",
    "http://www.cdisc.org/ns/def/v2.1",
)


@dataclass(frozen=True)
class DefinedVariable:
    name: str
    label: str
    length: int | None


@dataclass(frozen=True)
class DefinedDataset:
    name: str
    label: str
    variables: dict[str, DefinedVariable] = field(default_factory=dict)


@dataclass(frozen=True)
class DefineMetadata:
    version: str
    datasets: dict[str, DefinedDataset]


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


@cache
def read_define(path: Path) -> DefineMetadata:
    """Parse once per file; no network and no entity expansion (define.xml is untrusted input)."""
    parser = etree.XMLParser(no_network=True, resolve_entities=False, huge_tree=False)
    root = etree.parse(str(path), parser).getroot()
    versions = _children(root, "MetaDataVersion")
    version = ""
    if versions:
        version = next((v for k, v in versions[0].attrib.items() if etree.QName(k).localname == "DefineVersion"), "")
    items = {}
    for item in _children(root, "ItemDef"):
        length = item.get("Length")
        items[item.get("OID")] = DefinedVariable(
            item.get("Name", ""), _label(item), int(length) if length and length.isdigit() else None
        )
    datasets = {}
    for group in _children(root, "ItemGroupDef"):
        refs = [
            items[r.get("ItemOID")]
            for r in group
            if isinstance(r.tag, str) and _local(r) == "ItemRef" and r.get("ItemOID") in items
        ]
        name = (group.get("Name") or "").upper()
        datasets[name] = DefinedDataset(name, _label(group), {v.name: v for v in refs})
    return DefineMetadata(version, datasets)
