"""Define-XML 2.1 schema validation, offline, of a document just built or of a file.

The schemas are the CDISC originals vendored in `schemas/` (see PROVENANCE.md), compiled once
per process. `convert` validates the tree it has just built, before writing it: an invalid
define.xml is the tool's own bug and stops the run. A file from elsewhere is parsed safely
first (no network, no entities; a DOCTYPE is refused, since Define-XML has none and it only
serves entities).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from lxml import etree

from cdisc_cup.define.document import ARM_NS, parse_define, safe_parser
from cdisc_cup.errors import Problem, display_path

SCHEMA_DIR = Path(__file__).parent / "schemas"
MAIN_XSD = SCHEMA_DIR / "cdisc-define-2.1" / "define2-1-0.xsd"
# Analysis Results Metadata 1.0: Define-XML 2.1 with arm:AnalysisResultDisplays after the leaves.
ARM_XSD = SCHEMA_DIR / "cdisc-arm-1.0" / "arm1-0-0.xsd"


@cache
def define_schema(arm: bool = False) -> etree.XMLSchema:
    """The Define-XML 2.1 schema set (with the ARM 1.0 extension when `arm`), compiled from the
    vendored files (about 0.1 s, once each)."""
    return etree.XMLSchema(etree.parse(str(ARM_XSD if arm else MAIN_XSD), safe_parser()))


def has_arm(document: etree._ElementTree) -> bool:
    """Whether the document carries Analysis Results Metadata (an element in the ARM namespace)."""
    return next(document.getroot().iter(f"{{{ARM_NS}}}*"), None) is not None


def schema_problems(document: etree._ElementTree, where: str) -> list[Problem]:
    """The schema's messages on a define.xml document as problems located in `where`, each
    with its line when it was read from a file, else with the element's path (a tree built in
    memory has no lines). A document with Analysis Results Metadata is checked against
    Define-XML 2.1 with the ARM 1.0 extension."""
    schema = define_schema(has_arm(document))
    try:
        if schema.validate(document):
            return []
    except etree.XMLSchemaValidateError as error:
        return [Problem(where, f"define.xml cannot be validated: {error}")]
    return [
        Problem(
            where,
            f"not valid Define-XML 2.1: {entry.message}" + ("" if entry.line else f" (at {entry.path})"),
            line=entry.line or None,
        )
        for entry in schema.error_log
    ]


def validate_define(path: Path) -> list[Problem]:
    """Schema problems of a define.xml file (Define-XML 2.1 XSD, offline), each with its line."""
    where = display_path(path)
    try:
        document = parse_define(path)
    except (OSError, etree.XMLSyntaxError) as error:
        return [Problem(where, f"define.xml cannot be read as XML: {error}")]
    if document.docinfo.internalDTD is not None or document.docinfo.externalDTD is not None:
        # Define-XML has no DTD; a DOCTYPE only serves entities, which are never expanded here.
        return [Problem(where, "define.xml declares a DOCTYPE (entities are not allowed)", line=1)]
    return schema_problems(document, where)
