"""The define model from a define.xml: a tree just built, or a file (Define-XML 1.0, 2.0, 2.1).

Reads Define-XML 2.0/2.1 and also Define-XML 1.0 (ODM 1.2, as in the CDISC pilot
submission): 1.0 keeps labels in a `def:Label` attribute where 2.x uses
`Description/TranslatedText`, and a dataset's keys in its `def:DomainKeys` list where 2.x
numbers them in each ItemRef's KeySequence. Elements and def: attributes are matched by
local name so either namespace set works. A file is parsed once per version of it (a define.xml rewritten
at the same path is parsed again), without network access or entity expansion, since a
define.xml from elsewhere is untrusted input; `convert` reads the tree it built instead.
"""

from __future__ import annotations

from dataclasses import replace
from functools import cache
from pathlib import Path

from lxml import etree

from cdisc_cup.define.document import ARM_NS, parse_define
from cdisc_cup.define.model import (
    DefinedCodelist,
    DefinedDataset,
    DefinedVariable,
    DefineModel,
    DocumentLeaf,
    ItemLocation,
    OidReference,
    PageReference,
)

DEF_NAMESPACES = (
    "http://www.cdisc.org/ns/def/v1.0",
    "http://www.cdisc.org/ns/def/v2.0",
    "http://www.cdisc.org/ns/def/v2.1",
)


def read_define(path: Path) -> DefineModel:
    """The model of a define.xml file, parsed once per version of the file.

    Raises OSError or etree.XMLSyntaxError when the file cannot be read as XML."""
    status = Path(path).stat()
    return _read_define(Path(path), status.st_mtime_ns, status.st_size)


@cache
def _read_define(path: Path, modified_ns: int, size: int) -> DefineModel:
    return define_of(parse_define(path), path)


def define_of(document: etree._ElementTree, path: Path | None = None) -> DefineModel:
    """The model of a define.xml document, parsed or just built; `path` is where its file is."""
    root = document.getroot()
    versions = _elements(root, "MetaDataVersion")
    studies = _elements(root, "Study")
    version = ""
    standards: list[tuple[str, str]] = []
    if versions:
        version = _attribute(versions[0], "DefineVersion") or ""
        named = (_attribute(versions[0], "StandardName"), _attribute(versions[0], "StandardVersion"))
        if named[0] and named[1]:
            standards.append((named[0], named[1]))
    standards += [
        (element.get("Name", ""), element.get("Version", ""))
        for element in _elements(root, "Standard")
        if element.get("Type") == "IG"
    ]
    terminology = tuple(
        (element.get("PublishingSet", ""), element.get("Version", ""))
        for element in _elements(root, "Standard")
        if element.get("Type") == "CT"
    )
    codelists = {c.oid: c for c in map(_codelist, _elements(root, "CodeList"))}
    # Value-level items as Define-XML 2.x has them: each with the where clause of the records it
    # describes. A Define-XML 1.0 list has none: its items are named by the test code or QNAM
    # they stand for, and it hangs on the test code (the SDTM pilot: QNAM, VSTESTCD) or on the
    # result (the ADaM pilot: ANRIND), so what its codelists constrain cannot be told; they are
    # not taken as the codelists of the variable it hangs on.
    value_lists = {
        v.get("OID"): [ref.get("ItemOID", "") for ref in refs]
        for v in _elements(root, "ValueListDef")
        if (refs := _children(v, "ItemRef")) and all(_children(ref, "WhereClauseRef") for ref in refs)
    }
    item_defs = {item.get("OID"): item for item in _elements(root, "ItemDef")}

    def codelists_of(item: etree._Element) -> list[DefinedCodelist]:
        """Empty when some value-level item has no codelist (SUPPAE.QVAL: AESI is NY, the
        relationship text is free): the variable as a whole is then not controlled."""
        own = [codelists[oid] for oid in _child_attributes(item, "CodeListRef", "CodeListOID") if oid in codelists]
        for value_list in _child_attributes(item, "ValueListRef", "ValueListOID"):
            for oid in value_lists.get(value_list, []):
                value_level = codelists_of(item_defs[oid]) if oid in item_defs else []
                if not value_level:
                    return []
                own += value_level
        return own

    described = {oid: (item, tuple(dict.fromkeys(codelists_of(item)))) for oid, item in item_defs.items()}
    datasets = {}
    for group in _elements(root, "ItemGroupDef"):
        refs = [ref for ref in _children(group, "ItemRef") if ref.get("ItemOID") in described]
        variables = [_variable(ref, *described[ref.get("ItemOID")], position) for position, ref in enumerate(refs, 1)]
        variables = _with_domain_keys(variables, _attribute(group, "DomainKeys"))
        leaves = _children(group, "leaf")
        name = (group.get("Name") or "").upper()
        datasets[name] = DefinedDataset(
            name=name,
            label=_label(group),
            oid=group.get("OID", ""),
            href=_attribute(leaves[0], "href") if leaves else None,
            variables={v.name: v for v in variables},
        )
    return DefineModel(
        version=version,
        datasets=datasets,
        standards=tuple(standards),
        terminology=terminology,
        study_oid=studies[0].get("OID", "") if studies else "",
        metadata_version_oid=versions[0].get("OID", "") if versions else "",
        created=root.get("CreationDateTime"),
        path=path,
        **_links(root),
    )


def _line(element: etree._Element) -> int | None:
    return element.sourceline or None


# The OIDs of the Analysis Results Metadata and of where clauses that must name a definition:
# (element, the attribute holding the OID, the parent it must sit in or None, kind). The ARM
# elements are those of ARM 1.0's namespace: the CDISC pilot's draft "adamref" extension
# (before ARM) nests its references differently and is not checked.
_OID_REFERENCES = (
    ("AnalysisDataset", "ItemGroupOID", None, "ItemGroupOID"),
    ("AnalysisVariable", "ItemOID", None, "ItemOID"),
    ("WhereClauseRef", "WhereClauseOID", "AnalysisDataset", "WhereClauseOID"),
    ("RangeCheck", "ItemOID", "WhereClauseDef", "ItemOID"),
)
_ARM_ELEMENTS = frozenset({"AnalysisDataset", "AnalysisVariable"})


def _in_arm(element: etree._Element) -> bool:
    """Whether an ARM element (or the parent of a WhereClauseRef) is in ARM 1.0's namespace."""
    return etree.QName(element).namespace == ARM_NS


def _links(root: etree._Element) -> dict[str, object]:
    """What the link checks read (`define.references`): the documents' leaves, the page
    references, collected variables without a page, the OIDs of ARM and where clauses, and the
    OIDs defined. Read by local name, so Define-XML 1.0 gives its leaves too."""
    documents = tuple(
        DocumentLeaf(leaf.get("ID", ""), _attribute(leaf, "href") or "", _line(leaf))
        for leaf in _elements(root, "leaf")
        if not _is_element(leaf.getparent(), "ItemGroupDef")
    )
    pages = []
    for reference in _elements(root, "PDFPageRef"):
        numbers = (reference.get("PageRefs") or "").split()
        numbers += [reference.get(bound, "") for bound in ("FirstPage", "LastPage") if reference.get(bound)]
        leaf_id = reference.getparent().get("leafID", "")
        pages.append(PageReference(leaf_id, reference.get("Type", ""), tuple(numbers), _line(reference)))
    unpaged = tuple(
        ItemLocation(item.get("OID", ""), _line(origin))
        for item in _elements(root, "ItemDef")
        for origin in _children(item, "Origin")
        if origin.get("Type") == "Collected"
        and origin.get("Source") == "Investigator"
        and not any(_children(ref, "PDFPageRef") for ref in _children(origin, "DocumentRef"))
    )
    references = tuple(
        OidReference(kind, _attribute(element, attribute) or "", _line(element))
        for name, attribute, parent, kind in _OID_REFERENCES
        for element in _elements(root, name)
        if (parent is None or _is_element(element.getparent(), parent))
        and (name not in _ARM_ELEMENTS or _in_arm(element))
        and (parent != "AnalysisDataset" or _in_arm(element.getparent()))
    )
    defined = {
        kind: frozenset(e.get("OID", "") for e in _elements(root, name))
        for kind, name in (
            ("ItemGroupOID", "ItemGroupDef"),
            ("ItemOID", "ItemDef"),
            ("WhereClauseOID", "WhereClauseDef"),
        )
    }
    return {
        "documents": documents,
        "page_references": tuple(pages),
        "collected_without_page": unpaged,
        "oid_references": references,
        "defined_oids": defined,
    }


def _variable(
    ref: etree._Element, item: etree._Element, codelists: tuple[DefinedCodelist, ...], position: int
) -> DefinedVariable:
    """A variable from its ItemRef (order, key, mandatory) and its ItemDef (name, shape, codelists)."""
    order = _number(ref.get("OrderNumber"))
    return DefinedVariable(
        name=item.get("Name", ""),
        label=_label(item),
        oid=item.get("OID", ""),
        order=order if order is not None else position,
        data_type=item.get("DataType", ""),
        length=_number(item.get("Length")),
        significant_digits=_number(item.get("SignificantDigits")),
        display_format=_attribute(item, "DisplayFormat"),
        key_sequence=_number(ref.get("KeySequence")),
        mandatory=ref.get("Mandatory") == "Yes",
        codelists=codelists,
    )


def _with_domain_keys(variables: list[DefinedVariable], domain_keys: str | None) -> list[DefinedVariable]:
    """Define-XML 1.0's keys ("STUDYID, USUBJID, AETERM") as key sequences, when no ItemRef
    numbers them itself."""
    if not domain_keys or any(v.key_sequence is not None for v in variables):
        return variables
    order = {name.strip().upper(): place for place, name in enumerate(domain_keys.split(","), 1) if name.strip()}
    return [replace(v, key_sequence=order[v.name.upper()]) if v.name.upper() in order else v for v in variables]


def _number(text: str | None) -> int | None:
    return int(text) if text and text.isdigit() else None


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname


def _is_element(node: etree._Element, name: str) -> bool:
    """An element (not a comment or processing instruction) of this local name."""
    return isinstance(node.tag, str) and _local(node) == name


def _elements(root: etree._Element, name: str) -> list[etree._Element]:
    """Every element of this local name in the document, in document order."""
    return [e for e in root.iter() if _is_element(e, name)]


def _children(element: etree._Element, name: str) -> list[etree._Element]:
    return [c for c in element if _is_element(c, name)]


def _label(element: etree._Element) -> str:
    for namespace in DEF_NAMESPACES:
        value = element.get(f"{{{namespace}}}Label")
        if value is not None:
            return value
    for child in _children(element, "Description"):
        texts = [t.text or "" for t in _children(child, "TranslatedText")]
        return texts[0] if texts else ""
    return ""


def _attribute(element: etree._Element, name: str) -> str | None:
    """An attribute by local name, whatever its namespace (def:ExtendedValue in 2.0 or 2.1)."""
    return next((v for k, v in element.attrib.items() if etree.QName(k).localname == name), None)


def _child_attributes(element: etree._Element, child: str, attribute: str) -> list[str]:
    return [c.get(attribute, "") for c in _children(element, child)]


def _codelist(element: etree._Element) -> DefinedCodelist:
    items = [e for e in element if _is_element(e, "CodeListItem") or _is_element(e, "EnumeratedItem")]
    aliases = [e.get("Name") for e in _children(element, "Alias") if e.get("Context") == "nci:ExtCodeID"]
    return DefinedCodelist(
        oid=element.get("OID", ""),
        name=element.get("Name", ""),
        nci_code=aliases[0] if aliases else None,
        values=frozenset(i.get("CodedValue", "") for i in items),
        extended=frozenset(i.get("CodedValue", "") for i in items if _attribute(i, "ExtendedValue") == "Yes"),
        external=bool(_children(element, "ExternalCodeList")),
    )
