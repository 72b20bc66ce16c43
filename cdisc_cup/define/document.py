"""The XML side of define.xml: namespaces, qualified names, the safe parser, serialisation.

A define.xml from elsewhere is untrusted input: it is parsed without network access, without
entity expansion and without loading a DTD, so a hostile file cannot read local files (XXE)
or make the tool fetch anything.
"""

from __future__ import annotations

from pathlib import Path

from lxml import etree

ODM_NS = "http://www.cdisc.org/ns/odm/v1.3"
DEF_NS = "http://www.cdisc.org/ns/def/v2.1"
XLINK_NS = "http://www.w3.org/1999/xlink"
XML_NS = "http://www.w3.org/XML/1998/namespace"
ARM_NS = "http://www.cdisc.org/ns/arm/v1.0"  # Analysis Results Metadata 1.0
NSMAP = {None: ODM_NS, "def": DEF_NS, "xlink": XLINK_NS}
NS = {"odm": ODM_NS, "def": DEF_NS, "xlink": XLINK_NS, "arm": ARM_NS}


def qualified(namespace: str, name: str) -> str:
    """The Clark notation lxml uses for a name in a namespace: {namespace}name."""
    return f"{{{namespace}}}{name}"


def odm(name: str) -> str:
    return qualified(ODM_NS, name)


def dfn(name: str) -> str:
    return qualified(DEF_NS, name)


def arm(name: str) -> str:
    return qualified(ARM_NS, name)


def safe_parser() -> etree.XMLParser:
    """No network, no entity expansion, no DTD loading: a define.xml can't read local files."""
    return etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False, huge_tree=False)


def parse_define(path: Path) -> etree._ElementTree:
    """A define.xml file as a tree, parsed safely (raises OSError or etree.XMLSyntaxError)."""
    return etree.parse(str(path), safe_parser())


def serialize(tree: etree._ElementTree) -> bytes:
    """The bytes of define.xml: UTF-8 with declaration, indented; the same tree gives the same bytes."""
    return etree.tostring(tree, xml_declaration=True, encoding="UTF-8", pretty_print=True)
