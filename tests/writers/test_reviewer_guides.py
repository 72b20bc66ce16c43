"""csdrg and adrg: the PHUSE sections, the protocol from guides.yaml, the decisions of the specs,
the findings left in the data with their explanations, and the ADRG pages define.xml points at."""

from __future__ import annotations

import html
import re
import shutil
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
from pypdf import PdfReader

from cdisc_cup.define.document import NS, parse_define
from cdisc_cup.define.documents import ADRG
from cdisc_cup.define.references import package_problems
from cdisc_cup.errors import InputErrors
from cdisc_cup.pipeline import regenerate_defines
from cdisc_cup.spec.loader import default_spec_dir
from cdisc_cup.spec.model import GuideText
from cdisc_cup.writers.reviewer_guides import (
    UNEXPLAINED,
    Conformance,
    Guide,
    TableBlock,
    _column_widths,
    adrg,
    csdrg,
    guide_pages,
)


def _outline_titles(path: Path) -> list[str]:
    return [entry.title for entry in PdfReader(str(path)).outline if not isinstance(entry, list)]


def _page_text(path: Path, page: int) -> str:
    """The text of a 1-based physical page, its line breaks as spaces."""
    return " ".join(PdfReader(str(path)).pages[page - 1].extract_text().split())


def _html_text(path: Path) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", path.read_text(encoding="utf-8"))).split())


@pytest.fixture(scope="module")
def conformance(converted_sample) -> Conformance:
    return Conformance.of(converted_sample.validation)


def test_both_guides_are_written_as_pdf_and_html_and_linked_from_define(converted_sample) -> None:
    for folder, name, standard in (
        (converted_sample.sdtm_dir, "csdrg", "SDTM"),
        (converted_sample.adam_dir, "adrg", "ADaM"),
    ):
        assert (folder / f"{name}.pdf").is_file() and (folder / f"{name}.html").is_file()
        root = parse_define(converted_sample.defines[standard]).getroot()
        (reference,) = root.iterfind(".//def:SupplementalDoc/def:DocumentRef", NS)
        (leaf,) = [leaf for leaf in root.iterfind(".//def:leaf", NS) if leaf.get("ID") == reference.get("leafID")]
        assert leaf.get(f"{{{NS['xlink']}}}href") == f"{name}.pdf"
    assert _outline_titles(converted_sample.sdtm_dir / "csdrg.pdf") == [
        "1 Introduction",
        "2 Protocol Description",
        "3 Subject Data Description",
        "4 Data Conformance Summary",
    ]
    assert _outline_titles(converted_sample.adam_dir / "adrg.pdf") == [
        "1 Introduction",
        "2 Protocol Description",
        "3 Analysis Considerations",
        "4 Analysis Data Description",
        "5 Analysis Results of the Publication",
        "6 Data Conformance Summary",
    ]


def test_the_protocol_description_is_the_publications_with_its_sources(converted_sample) -> None:
    text = converted_sample.study.guide_text
    for folder, name in ((converted_sample.sdtm_dir, "csdrg"), (converted_sample.adam_dir, "adrg")):
        page = _html_text(folder / f"{name}.html")
        assert text.title in page and text.reference in page
        for topic in text.design:
            assert topic.text in page and f"{text.cite}, {topic.source}" in page


def test_a_guide_lists_the_acronyms_it_uses_and_only_those(converted_sample, conformance) -> None:
    study = converted_sample.study
    study = replace(
        study, guide_text=replace(study.guide_text, acronyms={**study.guide_text.acronyms, "ZQX": "Unused"})
    )
    guide = csdrg(study, {"DM": 18, "AE": 29}, conformance, 7)
    (acronyms,) = [s for s in guide.sections if s.title == "Acronyms"]
    listed = {row[0] for row in acronyms.blocks[0].rows}
    assert {"CUP", "SDTM", "AE", "MedDRA"} <= listed and "ZQX" not in listed
    assert "ADSL" not in listed and "OCCDS" not in listed  # ADaM words, not in the cSDRG's text
    bare = replace(study, guide_text=GuideText())
    (protocol,) = [s for s in csdrg(bare, {"DM": 18}, conformance, 7).sections if s.number == "2.2"]
    assert protocol.blocks == (study.description,)  # without guides.yaml: study.yaml's description


def test_every_dataset_section_gives_its_define_comment_and_variable_comments(converted_sample) -> None:
    page = _html_text(converted_sample.sdtm_dir / "csdrg.html")
    for spec in converted_sample.study.sdtm:
        assert f"{spec.name} - {spec.label}" in page
        if spec.description:
            assert " ".join(spec.description.split()) in page
        for variable in spec.variables:
            if variable.comment:
                assert " ".join(variable.comment.split()) in page


def test_the_adrg_lists_each_finding_with_its_explanation_or_as_unexplained(converted_sample, conformance) -> None:
    page = (converted_sample.adam_dir / "adrg.html").read_text(encoding="utf-8")
    findings = converted_sample.validation.findings
    for rule in findings.loc[findings["dataset"].isin(["ADSL", "ADAE"]), "rule_id"].unique():
        assert rule in page
    explained = converted_sample.study.explanations[0]
    assert explained.explanation.split(";")[0] in page
    assert "SAFFL" in page and "[RD.TABLE2]" in page
    assert not re.search(r"\bnan\b", _html_text(converted_sample.adam_dir / "adrg.html"))
    unexplained = adrg(replace(converted_sample.study, explanations=()), converted_sample.adam, conformance)
    (issues,) = [s for s in unexplained.sections if s.title == "Issues Summary"]
    table = issues.blocks[-1]
    assert isinstance(table, TableBlock) and table.rows
    assert all(row[-1] == UNEXPLAINED for row in table.rows)


def _issues_rows(guide: Guide) -> tuple[tuple[str, ...], ...]:
    (issues,) = [s for s in guide.sections if s.title == "Issues Summary"]
    table = issues.blocks[-1]
    return table.rows if isinstance(table, TableBlock) else ()


def test_a_finding_core_reports_on_the_study_is_in_the_csdrg(converted_sample, conformance) -> None:
    """CORE reports a Domain Presence Check on the study, dataset STUDY (here CORE-000042 as
    `validate` reports it on its negative test case): an SDTMIG finding, so the cSDRG's Issues
    Summary lists it and the ADRG's does not."""
    tt_present = pd.DataFrame(
        [["CORE-000042", "Error", "STUDY", "TT", None, "", "TT=tt.xpt", "TT dataset is present."]],
        columns=conformance.findings.columns,
    )
    with_study = Conformance(conformance.run, pd.concat([conformance.findings, tt_present], ignore_index=True))
    sdtm_rows = _issues_rows(csdrg(converted_sample.study, {"DM": 18, "AE": 29}, with_study, 7))
    assert ("CORE-000042", "Error", "the study (TT)", "1", "TT dataset is present.", UNEXPLAINED) in sdtm_rows
    assert len(sdtm_rows) == len(_issues_rows(csdrg(converted_sample.study, {"DM": 18, "AE": 29}, conformance, 7))) + 1
    adam_rows = _issues_rows(adrg(converted_sample.study, converted_sample.adam, with_study))
    assert adam_rows and not any(row[0] == "CORE-000042" for row in adam_rows)


def test_arm_points_at_the_adrg_page_of_each_display_and_analysis(converted_sample) -> None:
    root = parse_define(converted_sample.defines["ADaM"]).getroot()
    pdf = converted_sample.adam_dir / ADRG.href
    for display in converted_sample.study.result_displays:
        (element,) = root.iterfind(f".//arm:ResultDisplay[@OID='{display.id}']", NS)
        targets = [(display.id, element.find("def:DocumentRef", NS))]
        targets += [
            (result.id, element.find(f"arm:AnalysisResult[@OID='{result.id}']/arm:Documentation/def:DocumentRef", NS))
            for result in display.results
        ]
        for oid, reference in targets:
            assert reference is not None and reference.get("leafID") == ADRG.leaf_id, oid
            (page,) = reference.findall("def:PDFPageRef", NS)
            assert page.get("Type") == "PhysicalRef" and page.get("Title").startswith(ADRG.title)
            assert oid in _page_text(pdf, int(page.get("PageRefs"))), oid  # in its section's heading


def test_the_adrg_laid_out_before_the_validation_has_the_same_pages(converted_sample, conformance) -> None:
    study, frames = converted_sample.study, converted_sample.adam
    before = guide_pages(adrg(study, frames, None))
    after = guide_pages(adrg(study, frames, conformance))
    assert before.sections and before.sections == after.sections
    repeated = conformance.findings.loc[conformance.findings.index.repeat(40)]
    many = repeated.assign(variable=[f"V{n}" for n in range(len(repeated))])  # pages of findings
    assert guide_pages(adrg(study, frames, Conformance(conformance.run, many))).page_count > after.page_count
    assert guide_pages(adrg(study, frames, Conformance(conformance.run, many))).sections == before.sections
    # Findings in words that only the guide's acronyms define, none of them in its earlier text:
    # the acronyms section before the ARM's pages must not grow with them.
    coined = {f"ZQ{n:02d}": f"Coined term {n}" for n in range(40)}
    study = replace(study, guide_text=replace(study.guide_text, acronyms={**study.guide_text.acronyms, **coined}))
    worded = many.assign(message=" ".join(coined) + " " + many["message"].astype(str))
    assert guide_pages(adrg(study, frames, Conformance(conformance.run, worded))).sections == before.sections


def test_table_columns_are_as_wide_as_their_content_needs() -> None:
    short_and_long = TableBlock(
        ("Rule", "Records", "Explanation"),
        (("AD5002", "18", "Race is not collected in the German CUP; the variable is kept, null. " * 4),),
    )
    rule, records, explanation = _column_widths(short_and_long, available=480)
    assert sum((rule, records, explanation)) == pytest.approx(480)
    assert explanation > 4 * rule and explanation > 4 * records
    narrow = TableBlock(("Parameter", "Value"), (("cup_end", "2021-01-31"),))
    assert sum(_column_widths(narrow, available=480)) < 200  # a small table is not stretched


def test_define_rewrites_the_guides_from_the_output_folder(converted_sample, tmp_path: Path) -> None:
    """`cdisc-cup define` rewrites define.xml and the documents it links to from what the folder
    holds (XPT files, findings.json) and the specs, so links and pages stay right."""
    out, specs = tmp_path / "out", tmp_path / "specs"
    shutil.copytree(converted_sample.out_dir, out)
    shutil.copytree(default_spec_dir(), specs)
    (specs / "explanations.yaml").unlink()
    written = regenerate_defines(out, specs)
    adam = written["ADaM"].parent
    assert UNEXPLAINED in _html_text(adam / "adrg.html")
    assert all(package_problems(path) == [] for path in written.values())
    (out / "reports" / "validation" / "findings.json").unlink()
    with pytest.raises(InputErrors) as raised:
        regenerate_defines(out, specs)
    (problem,) = raised.value.problems
    assert "findings report cannot be read" in problem.message and "reviewer's guides" in problem.message
