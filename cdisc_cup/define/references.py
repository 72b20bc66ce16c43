"""The links of a define.xml, checked against the files beside it: one set of checks for all.

A reviewer follows define.xml's links: a def:leaf to a document, a def:PDFPageRef to a page of
the aCRF or a reviewer's guide, an arm:AnalysisVariable to the ItemDef it names. The schema
checks only that the links are well formed (an IDREF names some ID), not that the file exists,
the page is inside the PDF, or an OID of the ARM names an ItemDef (odm:oidref is plain text to
the schema). This module checks what the schema cannot, on the define model (`read`) and what
is known of the documents it links to (`LinkedDocument`):

- every document's def:leaf xlink:href resolves to a file relative to define.xml's folder;
- every page of a def:PDFPageRef lies inside the PDF its def:DocumentRef names (a
  NamedDestination is one the PDF defines);
- every collected variable whose source is the investigator points at its aCRF page;
- every ItemGroupOID, ItemOID and WhereClauseOID of the Analysis Results Metadata, and every
  ItemOID of a where clause, names a definition of the document.

The same functions serve two callers. The DX link rules of `cdisc-cup validate` (operators
`define_leaf_files`, `define_pdf_pages`, `define_collected_pages`, `define_arm_references`)
report them as findings on any folder; the folder reading records the documents beside
define.xml, since the rule engine reads no files. `convert` and `cdisc-cup define` run
`package_problems` on their own output after every file is written, with the schema check: a
problem there is the tool's bug, and stops the run before the output is swapped in.

Each check gives one problem per root cause: a missing file once however many leaves and
page references name it, a page beyond the end once however many references point at it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from urllib.parse import unquote, urlparse

from lxml import etree
from pypdf import PdfReader
from pypdf.errors import PdfReadError

from cdisc_cup.define.document import parse_define
from cdisc_cup.define.documents import SubmissionDocuments
from cdisc_cup.define.model import DefineModel
from cdisc_cup.define.read import define_of
from cdisc_cup.define.validate import schema_problems
from cdisc_cup.errors import Problem, display_path


@dataclass(frozen=True)
class LinkedDocument:
    """What is known of the file a document's def:leaf names: whether it is there, and for a
    PDF its page count and named destinations (None: not known, its pages are not checked)."""

    href: str
    exists: bool
    pages: int | None = None
    names: frozenset[str] = frozenset()
    unreadable: str | None = None  # why the PDF cannot be read


@dataclass(frozen=True)
class LinkProblem:
    """One broken link of define.xml, worded for the user, with the value at fault."""

    message: str
    value: str
    line: int | None = None
    expected: str | None = None


@cache
def _pdf_pages_and_names(path: Path, modified_ns: int, size: int) -> tuple[int, frozenset[str]]:
    reader = PdfReader(str(path))
    return len(reader.pages), frozenset(reader.named_destinations)


def pdf_pages(path: Path) -> tuple[int, frozenset[str]]:
    """The page count and named destinations of a PDF (read once per version of the file)."""
    status = path.stat()
    return _pdf_pages_and_names(path, status.st_mtime_ns, status.st_size)


def leaf_target(folder: Path, href: str) -> Path | None:
    """The local file an href names, relative to define.xml's folder (a #page=n fragment is
    not part of the file); None for a URL of another scheme (http: cannot be checked offline)."""
    parsed = urlparse(href)
    if parsed.scheme not in ("", "file"):
        return None
    return folder / unquote(parsed.path)


def linked_documents(define: DefineModel) -> dict[str, LinkedDocument]:
    """The documents a define.xml file links to, as they are on disk beside it, by href.

    Read when the folder is read (the rule engine reads no files); a PDF is opened once per
    version of the file, whatever the number of references into it."""
    if define.path is None:
        return {}
    found: dict[str, LinkedDocument] = {}
    for leaf in define.documents:
        target = leaf_target(define.path.parent, leaf.href)
        if target is None or leaf.href in found:
            continue
        if not target.is_file():
            found[leaf.href] = LinkedDocument(leaf.href, exists=False)
        elif target.suffix.lower() != ".pdf":
            found[leaf.href] = LinkedDocument(leaf.href, exists=True)
        else:
            try:
                count, names = pdf_pages(target)
            except (OSError, PdfReadError) as error:
                found[leaf.href] = LinkedDocument(leaf.href, exists=True, unreadable=str(error))
            else:
                found[leaf.href] = LinkedDocument(leaf.href, exists=True, pages=count, names=names)
    return found


def planned_documents(documents: SubmissionDocuments) -> dict[str, LinkedDocument]:
    """The documents of a conversion as laid out, by href: `convert` validates before the
    reviewer's guides are written (they report the validation), so its rules check define.xml
    against the documents' layout; `package_problems` checks the written files at the end."""
    found = {document.href: LinkedDocument(document.href, exists=True) for document in documents.supplemental}
    for index in (documents.annotated_crf, documents.analysis_guide):
        if index is not None:
            found[index.document.href] = LinkedDocument(index.document.href, exists=True, pages=index.page_count)
    return found


def _file_key(define: DefineModel, href: str) -> str:
    """One key per file: hrefs that differ only in a fragment (#page=43) name the same file."""
    base = define.path.parent if define.path is not None else Path()
    target = leaf_target(base, href)
    return str(target) if target is not None else href


def leaf_problems(define: DefineModel, documents: Mapping[str, LinkedDocument]) -> list[LinkProblem]:
    """Documents define.xml names that are not there: one problem per missing file, at its first leaf."""
    problems: dict[str, LinkProblem] = {}
    leaves: Counter[str] = Counter()
    for leaf in define.documents:
        known = documents.get(leaf.href)
        if known is None or known.exists:
            continue
        key = _file_key(define, leaf.href)
        leaves[key] += 1
        if key not in problems:
            shown = urlparse(leaf.href).path or leaf.href
            problems[key] = LinkProblem(f"def:leaf {leaf.leaf_id} names {shown}, which is not there", shown, leaf.line)
    return [
        problem
        if leaves[key] == 1
        else LinkProblem(f"{problem.message}; {leaves[key]} def:leaf elements name it", problem.value, problem.line)
        for key, problem in problems.items()
    ]


def page_problems(define: DefineModel, documents: Mapping[str, LinkedDocument]) -> list[LinkProblem]:
    """Page references outside their PDF: one problem per missing page or destination of a
    document (however many references point at it), one per PDF that cannot be read. A
    reference into a missing file is that file's problem (`leaf_problems`), not one more."""
    hrefs = {leaf.leaf_id: leaf.href for leaf in define.documents}
    seen: dict[tuple[str, str], tuple[LinkProblem, int]] = {}
    for reference in define.page_references:
        document = documents.get(hrefs.get(reference.leaf_id, ""))
        if document is None or not document.exists:
            continue
        name = Path(urlparse(document.href).path).name
        if document.unreadable is not None:
            problem = LinkProblem(
                f"the PDF {name} cannot be read: {document.unreadable}", document.href, reference.line
            )
            seen.setdefault((_file_key(define, document.href), ""), (problem, 0))
            continue
        if reference.kind == "NamedDestination":
            missing = [
                page for page in reference.pages if page not in document.names and f"/{page}" not in document.names
            ]
            wrong = [(page, f"{name} has no named destination {page}", None) for page in missing]
        elif document.pages is None:
            continue
        else:
            count = document.pages
            wrong = [
                (page, f"page {page} of {name} does not exist: it has {count} pages", f"a page from 1 to {count}")
                for page in reference.pages
                if not page.isdigit() or not 1 <= int(page) <= count
            ]
        for page, message, expected in wrong:
            key = (_file_key(define, document.href), page)  # `x.pdf#page=3` and `x.pdf` are one file
            problem, count_before = seen.get(key, (LinkProblem(message, page, reference.line, expected), 0))
            seen[key] = (problem, count_before + 1)
    return [
        problem
        if times <= 1
        else LinkProblem(
            f"{problem.message}; {times} references point at it", problem.value, problem.line, problem.expected
        )
        for problem, times in seen.values()
    ]


def collected_problems(define: DefineModel) -> list[LinkProblem]:
    """Collected variables whose source is the investigator without a page of the aCRF."""
    return [
        LinkProblem(
            f"collected variable {item.oid} has no page of the annotated CRF",
            item.oid,
            item.line,
            "def:DocumentRef with def:PDFPageRef",
        )
        for item in define.collected_without_page
    ]


def arm_problems(define: DefineModel) -> list[LinkProblem]:
    """OIDs of the Analysis Results Metadata and of where clauses that name no definition:
    one problem per OID, at its first reference."""
    problems: dict[tuple[str, str], LinkProblem] = {}
    for reference in define.oid_references:
        if reference.oid in define.defined_oids.get(reference.kind, frozenset()):
            continue
        problems.setdefault(
            (reference.kind, reference.oid),
            LinkProblem(
                f"{reference.kind} {reference.oid} names no definition in this define.xml",
                reference.oid,
                reference.line,
            ),
        )
    return list(problems.values())


def link_problems(define: DefineModel, documents: Mapping[str, LinkedDocument]) -> list[LinkProblem]:
    """Every broken link of a define model, against what is known of its documents."""
    return [
        *leaf_problems(define, documents),
        *page_problems(define, documents),
        *collected_problems(define),
        *arm_problems(define),
    ]


def dataset_leaf_problems(define: DefineModel) -> list[LinkProblem]:
    """Datasets whose def:leaf names no file beside define.xml (read from disk). Only the
    package check of the tool's own output needs it: in `validate`, DX0009 compares each
    dataset's leaf with the file the dataset was read from."""
    if define.path is None:
        return []
    problems = []
    for dataset in define.datasets.values():
        target = leaf_target(define.path.parent, dataset.href or "")
        if target is not None and not target.is_file():
            message = f"def:leaf of {dataset.name} names {dataset.href}, which is not there"
            problems.append(LinkProblem(message, dataset.href or ""))
    return problems


def package_problems(define_path: Path) -> list[Problem]:
    """Every broken link of a written define.xml (and its schema problems), with its line."""
    where = display_path(define_path)
    try:
        document = parse_define(define_path)
    except (OSError, etree.XMLSyntaxError) as error:
        return [Problem(where, f"define.xml cannot be read as XML: {error}")]
    define = define_of(document, define_path)
    problems = schema_problems(document, where)  # the file as written, with the ARM schema if it has ARM
    problems += [
        Problem(where, problem.message, line=problem.line, expected=problem.expected)
        for problem in [*dataset_leaf_problems(define), *link_problems(define, linked_documents(define))]
    ]
    return problems
