"""csdrg and adrg: the PHUSE sections, the findings left in the data with their explanations."""

from __future__ import annotations

from dataclasses import replace

from pypdf import PdfReader

from cdisc_cup.define.document import NS, parse_define
from cdisc_cup.writers.reviewer_guides import UNEXPLAINED, adrg


def _outline_titles(path) -> list[str]:
    return [entry.title for entry in PdfReader(str(path)).outline if not isinstance(entry, list)]


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
    assert "3 Analysis Populations" in _outline_titles(converted_sample.adam_dir / "adrg.pdf")


def test_the_adrg_lists_each_finding_with_its_explanation_or_as_unexplained(converted_sample) -> None:
    page = (converted_sample.adam_dir / "adrg.html").read_text(encoding="utf-8")
    findings = converted_sample.validation.findings
    for rule in findings.loc[findings["dataset"].isin(["ADSL", "ADAE"]), "rule_id"].unique():
        assert rule in page
    explained = converted_sample.study.explanations[0]
    assert explained.explanation.split(";")[0] in page
    assert "SAFFL" in page and "[RD.TABLE2]" in page
    unexplained = adrg(
        replace(converted_sample.study, explanations=()), converted_sample.adam, converted_sample.validation
    )
    (conformance,) = [s for s in unexplained.sections if s.title == "Data Conformance Summary"]
    table = conformance.blocks[-1]
    assert all(row[-1] == UNEXPLAINED for row in table.rows)
