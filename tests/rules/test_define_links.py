"""The define.xml link rules (DX0012-DX0015) of `cdisc-cup validate` on a conversion's output:
none on the output as written, exactly one finding per root cause on a broken copy."""

from __future__ import annotations

import shutil
from pathlib import Path

from lxml import etree

from cdisc_cup.define.document import NS, parse_define
from cdisc_cup.pipeline import validate_folder

LINK_RULES = ("DX0012", "DX0013", "DX0014", "DX0015")


def _link_findings(folder: Path) -> list[tuple[str, str]]:
    findings = validate_folder(folder).findings
    own = findings[findings["rule_id"].isin(LINK_RULES)]
    return list(zip(own["rule_id"], own["value"], strict=True))


def _edit_define(folder: Path, edit) -> None:
    document = parse_define(folder / "define.xml")
    edit(document)
    (folder / "define.xml").write_bytes(etree.tostring(document, xml_declaration=True, encoding="UTF-8"))


def test_the_sample_output_has_no_broken_link(converted_sample) -> None:
    assert _link_findings(converted_sample.sdtm_dir) == []
    assert _link_findings(converted_sample.adam_dir) == []


def test_a_missing_acrf_is_one_finding_not_one_per_page_reference(converted_sample, tmp_path: Path) -> None:
    folder = tmp_path / "sdtm"
    shutil.copytree(converted_sample.sdtm_dir, folder)
    references = parse_define(folder / "define.xml").findall(".//def:PDFPageRef", NS)
    assert len(references) > 1  # many variables point into the aCRF
    (folder / "acrf.pdf").unlink()
    assert _link_findings(folder) == [("DX0012", "acrf.pdf")]


def test_a_page_beyond_the_end_and_a_broken_leaf_are_one_finding_each(converted_sample, tmp_path: Path) -> None:
    folder = tmp_path / "sdtm"
    shutil.copytree(converted_sample.sdtm_dir, folder)

    def breaks(document: etree._ElementTree) -> None:
        for reference in document.findall(".//def:PDFPageRef", NS)[:2]:  # two references to one missing page
            reference.set("PageRefs", "999")
        leaf = next(e for e in document.iterfind(".//def:leaf", NS) if e.get("ID") == "LF.csdrg")
        leaf.set(f"{{{NS['xlink']}}}href", "guide.pdf")

    _edit_define(folder, breaks)
    assert _link_findings(folder) == [("DX0012", "guide.pdf"), ("DX0013", "999")]


def test_an_unpaged_origin_and_an_arm_typo_are_found(converted_sample, tmp_path: Path) -> None:
    sdtm, adam = tmp_path / "sdtm", tmp_path / "adam"
    shutil.copytree(converted_sample.sdtm_dir, sdtm)
    shutil.copytree(converted_sample.adam_dir, adam)

    def unpaged(document: etree._ElementTree) -> None:
        reference = document.find(".//odm:ItemDef/def:Origin/def:DocumentRef", NS)
        reference.getparent().remove(reference)

    _edit_define(sdtm, unpaged)
    (finding,) = _link_findings(sdtm)
    assert finding[0] == "DX0014" and finding[1].startswith("IT.")

    def typo(document: etree._ElementTree) -> None:
        next(document.iterfind(".//arm:AnalysisVariable", NS)).set("ItemOID", "IT.ADSL.NOSUCH")

    _edit_define(adam, typo)
    assert _link_findings(adam) == [("DX0015", "IT.ADSL.NOSUCH")]
