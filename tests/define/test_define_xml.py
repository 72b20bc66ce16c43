"""define.xml: schema-valid (vendored XSD, offline), true to the written XPTs, rendered to HTML."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pandas as pd
import pytest
from lxml import etree, html

from cdisc_cup.spec.model import StudySpec
from cdisc_cup.writers.define_xml import (
    NS,
    SCHEMA_DIR,
    build_define,
    check_define_against_datasets,
    define_from_folder,
    parse_define,
    serialize,
    validate_define,
    write_define,
)
from cdisc_cup.xpt.model import XptVariable
from cdisc_cup.xpt.write import write_xpt
from tests.define.conftest import CREATED


def _ns(tag: str) -> str:
    prefix, name = tag.split(":")
    return f"{{{NS[prefix]}}}{name}"


@pytest.fixture(scope="module")
def sdtm_define(converted_sample, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("define_sdtm")
    return write_define(
        converted_sample.study,
        converted_sample.study.sdtm,
        converted_sample.sdtm,
        out,
        standard="SDTM",
        lengths=converted_sample.lengths,
        created=CREATED,
    )


@pytest.fixture(scope="module")
def adam_folder(study: StudySpec, adam_frames, tmp_path_factory) -> Path:
    """The synthetic ADaM frames written as XPT, as convert writes them."""
    folder = tmp_path_factory.mktemp("adam")
    for spec in study.adam:
        frame = adam_frames[spec.name]
        lengths = {
            v.name: max(1, int(frame[v.name].dropna().str.len().max()))
            for v in spec.variables
            if v.type == "Char" and frame[v.name].notna().any()
        }
        variables = [
            XptVariable(v.name, v.label, v.type, lengths.get(v.name, 1) if v.type == "Char" else 8, v.format)
            for v in spec.variables
        ]
        write_xpt(
            folder / f"{spec.name.lower()}.xpt",
            frame,
            dataset=spec.name,
            label=spec.label,
            variables=variables,
            created=CREATED,
        )
    return folder


@pytest.fixture(scope="module")
def adam_define(study: StudySpec, adam_folder: Path) -> Path:
    return define_from_folder(study, study.adam, adam_folder, standard="ADaM", created=CREATED)


def _mdv(path: Path) -> etree._Element:
    return parse_define(path).getroot().find("odm:Study/odm:MetaDataVersion", NS)


# --- the package carries what it needs --------------------------------------------------------


def test_vendored_schema_files_are_the_cdisc_originals() -> None:
    """Hashes in PROVENANCE.md; an edited or missing schema file fails here, not in a submission."""
    text = (SCHEMA_DIR / "PROVENANCE.md").read_text(encoding="utf-8")
    listed = re.findall(r"^([0-9a-f]{64})  (\S+)$", text, flags=re.MULTILINE)
    assert len(listed) == 12
    for digest, name in listed:
        assert hashlib.sha256((SCHEMA_DIR / name).read_bytes()).hexdigest() == digest, name


# --- schema validity --------------------------------------------------------------------------


def test_sdtm_and_adam_defines_are_valid_define_xml_2_1(sdtm_define: Path, adam_define: Path) -> None:
    assert validate_define(sdtm_define) == []
    assert validate_define(adam_define) == []


def test_the_cdisc_example_is_valid_and_a_mutated_one_is_not(shared_dir: Path, tmp_path: Path) -> None:
    example = shared_dir / "reference/define-xml-2.1/examples/DefineXML-2-1-SDTM/defineV21-SDTM.xml"
    assert validate_define(example) == []
    broken = example.read_text(encoding="utf-8").replace('def:Context="Other"', 'def:Context="Draft"', 1)
    (tmp_path / "define.xml").write_text(broken, encoding="utf-8")
    assert any("Context" in p.message for p in validate_define(tmp_path / "define.xml"))


def test_validation_catches_a_missing_required_attribute_and_a_bad_origin(sdtm_define: Path, tmp_path: Path) -> None:
    tree = parse_define(sdtm_define)
    group = tree.getroot().find(".//odm:ItemGroupDef", NS)
    del group.attrib[_ns("def:Structure")]
    tree.getroot().find(".//def:Origin", NS).set("Type", "Made Up")
    broken = tmp_path / "define.xml"
    broken.write_bytes(serialize(tree))
    messages = [p.message for p in validate_define(broken)]
    assert any("Structure" in m and "required" in m for m in messages)
    assert any("Made Up" in m for m in messages)
    assert all(p.line for p in validate_define(broken))


def test_an_external_entity_is_not_expanded(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-VALUE", encoding="utf-8")
    hostile = tmp_path / "define.xml"
    hostile.write_text(
        f'<?xml version="1.0"?>\n<!DOCTYPE ODM [<!ENTITY xxe SYSTEM "file://{secret}">]>\n'
        '<ODM xmlns="http://www.cdisc.org/ns/odm/v1.3"><Study OID="S"><GlobalVariables>'
        "<StudyName>&xxe;</StudyName></GlobalVariables></Study></ODM>",
        encoding="utf-8",
    )
    text = etree.tostring(parse_define(hostile)).decode()
    assert "TOP-SECRET-VALUE" not in text
    problems = validate_define(hostile)
    assert problems and all("TOP-SECRET-VALUE" not in str(p) for p in problems)


def test_unreadable_xml_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    (tmp_path / "define.xml").write_text("<ODM>", encoding="utf-8")
    problems = validate_define(tmp_path / "define.xml")
    assert len(problems) == 1 and "cannot be read as XML" in problems[0].message


# --- define against the written datasets ----------------------------------------------------


def test_sdtm_define_describes_exactly_the_written_xpts(converted_sample, sdtm_define: Path) -> None:
    assert check_define_against_datasets(sdtm_define, converted_sample.sdtm_dir) == []
    groups = {g.get("Name") for g in _mdv(sdtm_define).iterfind("odm:ItemGroupDef", NS)}
    assert groups == {p.stem.upper() for p in converted_sample.sdtm_dir.glob("*.xpt")}


def test_adam_define_describes_exactly_the_written_xpts(adam_define: Path, adam_folder: Path) -> None:
    assert check_define_against_datasets(adam_define, adam_folder) == []


def test_define_from_the_folder_equals_define_from_the_frames(
    converted_sample, sdtm_define: Path, tmp_path: Path
) -> None:
    """XPTs read back give the same define, byte for byte: lengths and values agree."""
    for xpt in converted_sample.sdtm_dir.glob("*.xpt"):
        (tmp_path / xpt.name).write_bytes(xpt.read_bytes())
    regenerated = define_from_folder(
        converted_sample.study, converted_sample.study.sdtm, tmp_path, standard="SDTM", created=CREATED
    )
    assert regenerated.read_bytes() == sdtm_define.read_bytes()


def test_cross_check_reports_length_variable_and_dataset_mismatches(
    converted_sample, sdtm_define: Path, tmp_path: Path
) -> None:
    tree = parse_define(sdtm_define)
    mdv = tree.getroot().find("odm:Study/odm:MetaDataVersion", NS)
    mdv.find('odm:ItemDef[@OID="IT.AE.AETERM"]', NS).set("Length", "199")
    mdv.find('odm:ItemDef[@OID="IT.DM.SEX"]', NS).set("Name", "GENDER")
    mdv.remove(mdv.find('odm:ItemGroupDef[@OID="IG.MH"]', NS))
    edited = tmp_path / "define.xml"
    edited.write_bytes(serialize(tree))
    problems = check_define_against_datasets(edited, converted_sample.sdtm_dir)
    found = {(p.message, p.column, p.value) for p in problems}
    assert ("Length differs from the written length", "AE.AETERM", "199") in found
    assert ("variable is written but not described in define.xml", "DM.SEX", None) in found
    assert ("variable is described in define.xml but not in the XPT file", "DM.GENDER", None) in found
    assert ("dataset is written but not described in define.xml", None, "MH") in found


def test_a_value_outside_the_codelist_is_reported(study: StudySpec, adam_frames, tmp_path: Path) -> None:
    spec = study.dataset("ADSL")
    frame = adam_frames["ADSL"].copy()
    define = write_define(study, [spec], {"ADSL": frame}, tmp_path, standard="ADaM", created=CREATED)
    frame.loc[0, "SEX"] = "X"
    variables = [XptVariable(v.name, v.label, v.type, 200 if v.type == "Char" else 8, v.format) for v in spec.variables]
    data = tmp_path / "data"
    data.mkdir()
    write_xpt(data / "adsl.xpt", frame, dataset="ADSL", label=spec.label, variables=variables, created=CREATED)
    problems = check_define_against_datasets(define, data)
    assert any(p.column == "ADSL.SEX" and p.value == "X" for p in problems)


# --- content ------------------------------------------------------------------------------------


def test_header_standards_and_stylesheet(sdtm_define: Path) -> None:
    text = sdtm_define.read_text(encoding="utf-8")
    assert '<?xml-stylesheet type="text/xsl" href="define2-1.xsl"?>' in text
    assert (sdtm_define.parent / "define2-1.xsl").is_file()
    root = parse_define(sdtm_define).getroot()
    assert root.get(_ns("def:Context")) == "Submission"
    assert root.get("CreationDateTime") == "2024-05-06T07:08:09"
    standards = {(s.get("Name"), s.get("Version")) for s in root.iterfind(".//def:Standard", NS)}
    assert standards == {("SDTMIG", "3.4"), ("CDISC/NCI", "2015-12-18")}


def test_item_groups_carry_the_dataset_attributes(sdtm_define: Path) -> None:
    mdv = _mdv(sdtm_define)
    dm = mdv.find('odm:ItemGroupDef[@OID="IG.DM"]', NS)
    assert (dm.get("Repeating"), dm.get("Purpose"), dm.get("Domain")) == ("No", "Tabulation", "DM")
    assert dm.find("def:Class", NS).get("Name") == "SPECIAL PURPOSE"
    assert dm.find("def:leaf", NS).get(_ns("xlink:href")) == "dm.xpt"
    assert dm.get(_ns("def:ArchiveLocationID")) == dm.find("def:leaf", NS).get("ID")
    suppae = mdv.find('odm:ItemGroupDef[@OID="IG.SUPPAE"]', NS)
    assert suppae.get("Domain") == "AE"
    assert suppae.find("odm:Alias", NS).attrib == {"Context": "DomainDescription", "Name": "Adverse Events"}
    keys = {r.get("ItemOID"): r.get("KeySequence") for r in suppae.iterfind("odm:ItemRef", NS)}
    assert keys["IT.SUPPAE.QNAM"] == "6" and keys["IT.SUPPAE.QVAL"] is None


def test_every_derivation_has_a_method_and_every_comment_exists(sdtm_define: Path, adam_define: Path) -> None:
    for path in (sdtm_define, adam_define):
        mdv = _mdv(path)
        origins = {i.get("OID"): i.find("def:Origin", NS).get("Type") for i in mdv.iterfind("odm:ItemDef", NS)}
        methods = {m.get("OID") for m in mdv.iterfind("odm:MethodDef", NS)}
        refs = [*mdv.iterfind("odm:ItemGroupDef/odm:ItemRef", NS), *mdv.iterfind("def:ValueListDef/odm:ItemRef", NS)]
        for ref in refs:
            if origins[ref.get("ItemOID")] == "Derived":
                assert ref.get("MethodOID") in methods, ref.get("ItemOID")
        comments = {c.get("OID") for c in mdv.iterfind("def:CommentDef", NS)}
        used = {e.get(_ns("def:CommentOID")) for e in mdv.iter() if e.get(_ns("def:CommentOID"))}
        assert used == comments


def test_origins_follow_the_specs(sdtm_define: Path, adam_define: Path) -> None:
    sdtm = _mdv(sdtm_define)
    assert sdtm.find('odm:ItemDef[@OID="IT.AE.AETERM"]/def:Origin', NS).attrib == {
        "Type": "Collected",
        "Source": "Investigator",
    }
    assert sdtm.find('odm:ItemDef[@OID="IT.DM.SITEID"]/def:Origin', NS).get("Source") == "Sponsor"
    adsl_age = _mdv(adam_define).find('odm:ItemDef[@OID="IT.ADSL.AGE"]/def:Origin', NS)
    assert adsl_age.get("Type") == "Predecessor"
    assert adsl_age.findtext("odm:Description/odm:TranslatedText", namespaces=NS) == "DM.AGE"


def test_codelists_hold_only_the_terms_used_with_nci_codes(converted_sample, sdtm_define: Path) -> None:
    mdv = _mdv(sdtm_define)
    sex = mdv.find('odm:CodeList[@OID="CL.SEX"]', NS)
    coded = {i.get("CodedValue") for i in sex.iterfind("odm:CodeListItem", NS)}
    assert coded == set(converted_sample.sdtm["DM"]["SEX"].dropna())
    assert sex.find("odm:CodeListItem/odm:Alias", NS).get("Context") == "nci:ExtCodeID"
    assert sex.find("odm:Alias", NS).get("Name") == "C66731"
    referenced = {r.get("CodeListOID") for r in mdv.iter(_ns("odm:CodeListRef"))}
    assert referenced == {c.get("OID") for c in mdv.iterfind("odm:CodeList", NS)}
    meddra = mdv.find('odm:CodeList[@OID="CL.MEDDRA"]/odm:ExternalCodeList', NS)
    assert (meddra.get("Dictionary"), meddra.get("Version")) == ("MedDRA", "23.1")
    assert mdv.find('odm:ItemDef[@OID="IT.AE.AEDECOD"]/odm:CodeListRef', NS).get("CodeListOID") == "CL.MEDDRA"


def test_value_level_metadata_from_the_record_blocks(sdtm_define: Path) -> None:
    mdv = _mdv(sdtm_define)

    def where(item_oid: str) -> tuple[str, str]:
        ref = mdv.find(f'def:ValueListDef/odm:ItemRef[@ItemOID="{item_oid}"]/def:WhereClauseRef', NS)
        check = mdv.find(f'def:WhereClauseDef[@OID="{ref.get("WhereClauseOID")}"]/odm:RangeCheck', NS)
        return check.get(_ns("def:ItemOID")), check.findtext("odm:CheckValue", namespaces=NS)

    assert where("IT.SUPPAE.QVAL.AESI") == ("IT.SUPPAE.QNAM", "AESI")
    aesi = mdv.find('odm:ItemDef[@OID="IT.SUPPAE.QVAL.AESI"]', NS)
    assert aesi.find("odm:CodeListRef", NS).get("CodeListOID") == "CL.NY"
    assert where("IT.DS.DSDECOD.PROTOCOL_MILESTONE") == ("IT.DS.DSCAT", "PROTOCOL MILESTONE")
    milestone = mdv.find('odm:ItemDef[@OID="IT.DS.DSDECOD.PROTOCOL_MILESTONE"]/odm:CodeListRef', NS)
    assert milestone.get("CodeListOID") == "CL.PROTMLST"
    assert where("IT.VS.VSORRES.WEIGHT") == ("IT.VS.VSTESTCD", "WEIGHT")
    assert mdv.find('odm:ItemDef[@OID="IT.VS.VSORRES"]/def:ValueListRef', NS) is not None
    assert where("IT.SC.SCORRES.NPRLINES") == ("IT.SC.SCTESTCD", "NPRLINES")
    assert mdv.find('odm:ItemDef[@OID="IT.SC.SCORRES.NPRLINES"]', NS).get("DataType") == "integer"


def test_adam_class_subclass_and_numeric_dates(adam_define: Path) -> None:
    mdv = _mdv(adam_define)
    adae = mdv.find('odm:ItemGroupDef[@OID="IG.ADAE"]', NS)
    assert adae.get("Purpose") == "Analysis" and adae.get("Domain") is None
    assert adae.find("def:Class/def:SubClass", NS).get("Name") == "ADVERSE EVENT"
    trtsdt = mdv.find('odm:ItemDef[@OID="IT.ADSL.TRTSDT"]', NS)
    assert (trtsdt.get("DataType"), trtsdt.get(_ns("def:DisplayFormat"))) == ("integer", "DATE9.")


def test_two_builds_are_byte_identical(study: StudySpec, adam_frames, monkeypatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    first = serialize(build_define(study, study.adam, adam_frames, standard="ADaM"))
    second = serialize(build_define(study, study.adam, {k: v.copy() for k, v in adam_frames.items()}, standard="ADaM"))
    assert first == second
    assert b'CreationDateTime="2023-11-14T22:13:20"' in first


def test_a_written_variable_without_spec_is_refused(study: StudySpec, adam_frames) -> None:
    from cdisc_cup.errors import ConformanceErrors

    frames = {"ADSL": adam_frames["ADSL"].assign(EXTRA=pd.Series(["x"] * len(adam_frames["ADSL"])))}
    with pytest.raises(ConformanceErrors) as raised:
        build_define(study, study.adam, frames, standard="ADaM")
    assert raised.value.problems[0].column == "EXTRA"


# --- define.html --------------------------------------------------------------------------------


def test_define_html_shows_the_dataset_and_variable_tables(sdtm_define: Path, converted_sample) -> None:
    page = html.parse(str(sdtm_define.parent / "define.html"))
    headings = " ".join(page.xpath("//h1//text()"))
    for spec in converted_sample.study.sdtm:
        assert f"{spec.label} ({spec.name})" in headings
    dm_table = page.xpath('//table[@summary="ItemGroup IG.IG.DM"]')
    assert dm_table, "the DM variable table is rendered"
    cells = " ".join(dm_table[0].xpath(".//td//text()"))
    for name in converted_sample.sdtm["DM"].columns:
        if not name.startswith("__"):
            assert name in cells
