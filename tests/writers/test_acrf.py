"""acrf.pdf: read back with pypdf, as a reviewer's viewer reads it, against define.xml's pages."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from lxml import etree
from pypdf import PdfReader

from cdisc_cup.define.document import NS, parse_define
from cdisc_cup.define.references import package_problems
from cdisc_cup.spec.annotations import NOT_SUBMITTED, annotated_crf
from cdisc_cup.spec.model import RawColumnSpec, StudySpec
from cdisc_cup.writers.acrf import write_acrf


@pytest.fixture(scope="module")
def acrf(converted_sample) -> PdfReader:
    path = converted_sample.sdtm_dir / "acrf.pdf"
    assert path.is_file()
    return PdfReader(str(path))


def _outline(reader: PdfReader, entries: list | None = None, depth: int = 0) -> list[tuple[int, str, int]]:
    """(depth, title, 1-based page) of every bookmark, in order."""
    found = []
    for entry in reader.outline if entries is None else entries:
        if isinstance(entry, list):
            found += _outline(reader, entry, depth + 1)
        else:
            found.append((depth, entry.title, reader.get_destination_page_number(entry) + 1))
    return found


def _page_text(reader: PdfReader, page: int) -> str:
    return " ".join(reader.pages[page - 1].extract_text().split())


def test_one_bookmark_per_form_and_per_domain(converted_sample, acrf: PdfReader) -> None:
    forms = annotated_crf(converted_sample.study)
    outline = _outline(acrf)
    top = [title for depth, title, _ in outline if depth == 0]
    assert top == ["Forms", "Domains"]
    form_titles = [title for depth, title, _ in outline[1 : 1 + len(forms)]]
    assert form_titles == [form.title for form in forms]
    domains = {title for depth, title, _ in outline if depth == 1} - set(form_titles)
    annotated = {dataset for form in forms for dataset in form.datasets}
    assert domains == annotated
    for depth, title, page in outline:
        if depth == 1 and title in form_titles:
            assert title in _page_text(acrf, page)


def test_every_form_and_field_of_the_raw_contract_is_on_its_pages(converted_sample, acrf: PdfReader) -> None:
    text = " ".join(_page_text(acrf, page) for page in range(1, len(acrf.pages) + 1))
    for raw in converted_sample.study.raw_files:
        assert raw.file in text
        for column in raw.columns:
            assert column.description in text or column.name in text, (raw.name, column.name)


def _collected_investigator(define: Path) -> list[tuple[str, list[int]]]:
    """(ItemDef OID, pages) of every Collected Investigator item of a define.xml."""
    items = []
    for item in parse_define(define).iterfind(".//odm:ItemDef", NS):
        origin = item.find("def:Origin", NS)
        if origin is None or origin.get("Type") != "Collected" or origin.get("Source") != "Investigator":
            continue
        reference = origin.find("def:DocumentRef/def:PDFPageRef", NS)
        assert reference is not None, f"{item.get('OID')} has no aCRF page"
        assert origin.find("def:DocumentRef", NS).get("leafID") == "LF.acrf"
        assert reference.get("Type") == "PhysicalRef"
        items.append((item.get("OID"), [int(p) for p in reference.get("PageRefs").split()]))
    return items


def test_every_collected_variable_points_at_a_page_that_shows_it(converted_sample, acrf: PdfReader) -> None:
    items = _collected_investigator(converted_sample.defines["SDTM"])
    assert len(items) > 30
    for oid, pages in items:
        _, dataset, variable, *where = oid.split(".")
        for page in pages:
            assert 1 <= page <= len(acrf.pages)
            shown = _page_text(acrf, page)
            assert variable in shown, (oid, page)
            if where and not dataset.startswith("SUPP"):
                assert f"{variable} when" in shown and where[0] in shown, (oid, page)


def test_the_annotations_follow_the_acrf_style(converted_sample, acrf: PdfReader) -> None:
    pages = dict(_collected_investigator(converted_sample.defines["SDTM"]))
    weight = _page_text(acrf, pages["IT.VS.VSORRES.WEIGHT"][0])
    assert "VSORRES when VSTESTCD = WEIGHT" in weight
    assert "VS = Vital Signs" in " ".join(_page_text(acrf, p) for p in range(1, pages["IT.VS.VSORRES.WEIGHT"][0] + 1))
    assert "QVAL when QNAM = AESI" in _page_text(acrf, pages["IT.SUPPAE.QVAL.AESI"][0])


def test_the_sdtm_define_names_the_acrf_and_its_leaf_resolves(converted_sample) -> None:
    define = converted_sample.defines["SDTM"]
    root = parse_define(define).getroot()
    (reference,) = root.iterfind(".//def:AnnotatedCRF/def:DocumentRef", NS)
    (leaf,) = [leaf for leaf in root.iterfind(".//def:leaf", NS) if leaf.get("ID") == reference.get("leafID")]
    assert (define.parent / leaf.get(f"{{{NS['xlink']}}}href")).is_file()
    assert package_problems(define) == []
    assert package_problems(converted_sample.defines["ADaM"]) == []


def test_a_field_no_variable_reads_is_not_submitted(study: StudySpec, tmp_path: Path) -> None:
    patients = study.raw_file("patients")
    extra = RawColumnSpec("HOBBY", "text", description="Favourite hobby")
    files = tuple(replace(raw, columns=(*raw.columns, extra)) if raw is patients else raw for raw in study.raw_files)
    widened = replace(study, raw_files=files)
    (form,) = [f for f in annotated_crf(widened) if f.name == "patients"]
    (field,) = [f for f in form.fields if f.name == "HOBBY"]
    assert not field.submitted and field.boxes == []
    index = write_acrf(widened, tmp_path / "acrf.pdf")
    reader = PdfReader(str(tmp_path / "acrf.pdf"))
    assert len(reader.pages) == index.page_count
    text = [_page_text(reader, page) for page in range(1, index.page_count + 1)]
    assert any("Favourite hobby" in page and NOT_SUBMITTED in page for page in text)


def test_two_writes_are_byte_identical(study: StudySpec, tmp_path: Path) -> None:
    write_acrf(study, tmp_path / "one.pdf")
    write_acrf(study, tmp_path / "two.pdf")
    assert (tmp_path / "one.pdf").read_bytes() == (tmp_path / "two.pdf").read_bytes()


def _broken_copy(converted_sample, tmp_path: Path, edit) -> Path:
    folder = tmp_path / "sdtm"
    shutil.copytree(converted_sample.sdtm_dir, folder)
    document = parse_define(folder / "define.xml")
    edit(document.getroot())
    (folder / "define.xml").write_bytes(etree.tostring(document, xml_declaration=True, encoding="UTF-8"))
    return folder / "define.xml"


def test_a_page_outside_the_pdf_a_missing_file_and_a_pageless_origin_are_problems(
    converted_sample, tmp_path: Path
) -> None:
    def edit(root: etree._Element) -> None:
        references = list(root.iterfind(".//def:PDFPageRef", NS))
        references[0].set("PageRefs", "999")
        origin = references[1].getparent().getparent()
        origin.remove(references[1].getparent())
        leaf = next(leaf for leaf in root.iterfind(".//def:leaf", NS) if leaf.get("ID") == "LF.DM")
        leaf.set(f"{{{NS['xlink']}}}href", "nowhere.xpt")

    problems = [p.message for p in package_problems(_broken_copy(converted_sample, tmp_path, edit))]
    assert any("page 999 of acrf.pdf does not exist" in m for m in problems)
    assert any("nowhere.xpt" in m for m in problems)
    assert any("has no page of the annotated CRF" in m for m in problems)


@pytest.mark.parametrize("extra_forms", range(10, 16))
def test_the_contents_take_the_pages_the_page_numbers_count_on(
    study: StudySpec, tmp_path: Path, extra_forms: int
) -> None:
    """Unmapped extra forms lengthen the contents across the end of its first page: every page
    number of the index (and so of define.xml) must still be the page that shows the field."""
    patients = study.raw_file("patients")
    copies = tuple(replace(patients, name=f"extra{n}", file=f"extra{n}.csv") for n in range(extra_forms))
    widened = replace(study, raw_files=(*study.raw_files, *copies))
    index = write_acrf(widened, tmp_path / "acrf.pdf")
    reader = PdfReader(str(tmp_path / "acrf.pdf"))
    assert len(reader.pages) == index.page_count
    for annotation, page in index.placed:
        assert annotation.variable in _page_text(reader, page), (annotation, page)
    bookmarks = {title: page for _, title, page in _outline(reader)}
    first_form = annotated_crf(widened)[0]
    assert first_form.title in _page_text(reader, bookmarks[first_form.title])
