"""The links of a written define.xml, checked against the package beside it.

A reviewer follows define.xml's links: a def:leaf to a dataset or a document, a def:PDFPageRef
to a page of the aCRF, an arm:AnalysisVariable to the ItemDef it names. The schema checks only
that the links are well formed (an IDREF names some ID), not that the file exists, the page is
inside the PDF, or an OID of the ARM names an ItemDef (odm:oidref is plain text to the
schema). This module checks what the schema cannot, on the files as written:

- every def:leaf xlink:href resolves to a file relative to define.xml's folder;
- every page of a def:PDFPageRef lies inside the PDF its def:DocumentRef names (a
  NamedDestination is one the PDF defines);
- every collected variable whose source is the investigator points at its aCRF page;
- every ItemGroupOID, ItemOID and WhereClauseOID of the Analysis Results Metadata, and every
  ItemOID of a where clause, names a definition of the document;
- the document is valid Define-XML 2.1 (with ARM 1.0 when it has Analysis Results Metadata).

`convert` and `cdisc-cup define` run it on their own output after every file is written: a
problem is the tool's bug, and stops the run before the output is swapped in.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from pathlib import Path
from urllib.parse import unquote, urlparse

from lxml import etree
from pypdf import PdfReader
from pypdf.errors import PdfReadError

from cdisc_cup.define.document import NS, parse_define
from cdisc_cup.define.validate import schema_problems
from cdisc_cup.errors import Problem, display_path


@cache
def _pdf_pages_and_names(path: Path, modified_ns: int, size: int) -> tuple[int, frozenset[str]]:
    reader = PdfReader(str(path))
    return len(reader.pages), frozenset(reader.named_destinations)


def pdf_pages(path: Path) -> tuple[int, frozenset[str]]:
    """The page count and named destinations of a PDF (read once per version of the file)."""
    status = path.stat()
    return _pdf_pages_and_names(path, status.st_mtime_ns, status.st_size)


def _leaf_target(folder: Path, href: str) -> Path | None:
    """The local file an href names, relative to define.xml's folder; None for another scheme."""
    parsed = urlparse(href)
    if parsed.scheme not in ("", "file"):
        return None
    return folder / unquote(parsed.path)


def _line(element: etree._Element) -> int | None:
    return element.sourceline or None


def _page_numbers(reference: etree._Element) -> list[str]:
    pages = (reference.get("PageRefs") or "").split()
    pages += [reference.get(bound) for bound in ("FirstPage", "LastPage") if reference.get(bound)]
    return pages


def _page_problems(document: etree._ElementTree, folder: Path, where: str) -> Iterator[Problem]:
    leaves = {leaf.get("ID"): leaf for leaf in document.iterfind(".//def:leaf", NS)}
    for reference in document.iterfind(".//def:PDFPageRef", NS):
        leaf = leaves.get(reference.getparent().get("leafID"))
        target = _leaf_target(folder, leaf.get(f"{{{NS['xlink']}}}href", "")) if leaf is not None else None
        if target is None or not target.is_file():
            continue  # the leaf's own problem
        try:
            count, names = pdf_pages(target)
        except (OSError, PdfReadError) as error:
            yield Problem(where, f"the PDF {target.name} cannot be read: {error}", line=_line(reference))
            continue
        if reference.get("Type") == "NamedDestination":
            for name in (reference.get("PageRefs") or "").split():
                if name not in names and f"/{name}" not in names:
                    yield Problem(where, f"{target.name} has no named destination {name}", line=_line(reference))
            continue
        for page in _page_numbers(reference):
            if not page.isdigit() or not 1 <= int(page) <= count:
                yield Problem(
                    where,
                    f"page {page} of {target.name} does not exist",
                    line=_line(reference),
                    expected=f"a page from 1 to {count}",
                )


def _origin_problems(document: etree._ElementTree, where: str) -> Iterator[Problem]:
    for item in document.iterfind(".//odm:ItemDef", NS):
        for origin in item.iterfind("def:Origin", NS):
            if origin.get("Type") != "Collected" or origin.get("Source") != "Investigator":
                continue
            if origin.find("def:DocumentRef/def:PDFPageRef", NS) is None:
                yield Problem(
                    where,
                    f"collected variable {item.get('OID')} has no page of the annotated CRF",
                    line=_line(origin),
                    expected="def:DocumentRef with def:PDFPageRef",
                )


def _arm_problems(document: etree._ElementTree, where: str) -> Iterator[Problem]:
    defined = {
        attribute: {element.get("OID") for element in document.iterfind(path, NS)}
        for attribute, path in (
            ("ItemGroupOID", ".//odm:ItemGroupDef"),
            ("ItemOID", ".//odm:ItemDef"),
            ("WhereClauseOID", ".//def:WhereClauseDef"),
        )
    }
    references = [
        *((e, "ItemGroupOID") for e in document.iterfind(".//arm:AnalysisDataset", NS)),
        *((e, "ItemOID") for e in document.iterfind(".//arm:AnalysisVariable", NS)),
        *((e, "WhereClauseOID") for e in document.iterfind(".//arm:AnalysisDataset/def:WhereClauseRef", NS)),
        *((e, f"{{{NS['def']}}}ItemOID") for e in document.iterfind(".//def:WhereClauseDef/odm:RangeCheck", NS)),
    ]
    for element, attribute in references:
        oid = element.get(attribute)
        kind = etree.QName(attribute).localname
        if oid not in defined[kind]:
            yield Problem(where, f"{kind} {oid} names no definition in this define.xml", line=_line(element))


def package_problems(define_path: Path) -> list[Problem]:
    """Every broken link of a written define.xml (and its schema problems), with its line."""
    where = display_path(define_path)
    try:
        document = parse_define(define_path)
    except (OSError, etree.XMLSyntaxError) as error:
        return [Problem(where, f"define.xml cannot be read as XML: {error}")]
    folder = define_path.parent
    problems = schema_problems(document, where)
    for leaf in document.iterfind(".//def:leaf", NS):
        href = leaf.get(f"{{{NS['xlink']}}}href", "")
        target = _leaf_target(folder, href)
        if target is not None and not target.is_file():
            problems.append(
                Problem(where, f"def:leaf {leaf.get('ID')} names {href}, which is not there", line=_line(leaf))
            )
    problems += _page_problems(document, folder, where)
    problems += _origin_problems(document, where)
    problems += _arm_problems(document, where)
    return problems
