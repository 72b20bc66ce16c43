"""define.xml: schema-valid (vendored XSD, offline), true to the written XPTs, rendered to HTML."""

from __future__ import annotations

import hashlib
import re
import shutil
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
from lxml import etree, html

from cdisc_cup.define.build import build_define
from cdisc_cup.define.document import NS, parse_define, serialize
from cdisc_cup.define.read import define_of, read_define
from cdisc_cup.define.validate import SCHEMA_DIR, schema_problems, validate_define
from cdisc_cup.pipeline import OutputLayout, write_documents, write_submission_define
from cdisc_cup.rules.engine import validate_datasets
from cdisc_cup.rules.loader import shipped_rules
from cdisc_cup.spec.model import StudySpec
from cdisc_cup.writers.define_xml import define_of_folder, write_define
from cdisc_cup.xpt.model import XptVariable
from cdisc_cup.xpt.read import read_dataset_folder
from cdisc_cup.xpt.write import write_xpt
from tests.conftest import CREATED

# The one define-vs-data check: the DX rules (and the CT rules for CDISC codelists).
DX_RULES = [r for r in shipped_rules() if r.family == "DX"]
CT_RULES = [r for r in shipped_rules() if r.family == "CT"]


def _ns(tag: str) -> str:
    prefix, name = tag.split(":")
    return f"{{{NS[prefix]}}}{name}"


def regenerated_define(study: StudySpec, specs: tuple, folder: Path, standard: str) -> Path:
    """define.xml made again from the XPT files of a folder, as `cdisc-cup define` does."""
    document = define_of_folder(study, specs, read_dataset_folder(folder), folder, standard=standard, created=CREATED)
    return write_define(document, folder).path


@pytest.fixture(scope="module")
def sdtm_define(converted_sample, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("define_sdtm")
    document = build_define(
        converted_sample.study,
        converted_sample.study.sdtm,
        converted_sample.sdtm,
        standard="SDTM",
        lengths=converted_sample.lengths,
        created=CREATED,
    )
    return write_define(document, out).path


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
    return regenerated_define(study, study.adam, adam_folder, "ADaM")


def _mdv(path: Path) -> etree._Element:
    return parse_define(path).getroot().find("odm:Study/odm:MetaDataVersion", NS)


def _findings(folder: Path, define: Path, rules=DX_RULES) -> list[tuple[str, str, str, str]]:
    """(rule, dataset, variable, value) of the rules on a folder's XPT files and a define.xml."""
    findings = validate_datasets(read_dataset_folder(folder), define=read_define(define), rules=rules).findings
    return list(zip(findings["rule_id"], findings["dataset"], findings["variable"], findings["value"], strict=True))


# --- the package carries what it needs --------------------------------------------------------


def test_vendored_schema_files_are_the_cdisc_originals() -> None:
    """Hashes in PROVENANCE.md; an edited or missing schema file fails here, not in a submission."""
    text = (SCHEMA_DIR / "PROVENANCE.md").read_text(encoding="utf-8")
    listed = re.findall(r"^([0-9a-f]{64})  (\S+)$", text, flags=re.MULTILINE)
    assert len(listed) == 15
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


# --- define against the written datasets: the DX rules ------------------------------------------


def test_sdtm_define_describes_exactly_the_written_xpts(converted_sample) -> None:
    define = converted_sample.defines["SDTM"]
    assert _findings(converted_sample.sdtm_dir, define) == []
    groups = {g.get("Name") for g in _mdv(define).iterfind("odm:ItemGroupDef", NS)}
    assert groups == {p.stem.upper() for p in converted_sample.sdtm_dir.glob("*.xpt")}


def test_adam_define_describes_exactly_the_written_xpts(adam_define: Path, adam_folder: Path) -> None:
    # The synthetic frames repeat one value per variable, so their records share every key:
    # DX0011 (duplicated keys) is about the records, not about define.xml describing the files.
    describing = [r for r in DX_RULES if r.rule_id != "DX0011"]
    assert _findings(adam_folder, adam_define, describing) == []


def test_define_from_the_folder_equals_define_from_the_frames(
    converted_sample, sdtm_define: Path, tmp_path: Path
) -> None:
    """XPTs read back give the same define, byte for byte: lengths and values agree."""
    for xpt in converted_sample.sdtm_dir.glob("*.xpt"):
        (tmp_path / xpt.name).write_bytes(xpt.read_bytes())
    regenerated = regenerated_define(converted_sample.study, converted_sample.study.sdtm, tmp_path, "SDTM")
    assert regenerated.read_bytes() == sdtm_define.read_bytes()


def test_the_dx_rules_report_length_variable_dataset_order_type_and_file_mismatches(
    converted_sample, tmp_path: Path
) -> None:
    for xpt in converted_sample.sdtm_dir.glob("*.xpt"):
        shutil.copyfile(xpt, tmp_path / xpt.name)
    tree = parse_define(converted_sample.defines["SDTM"])
    mdv = tree.getroot().find("odm:Study/odm:MetaDataVersion", NS)
    mdv.find('odm:ItemDef[@OID="IT.AE.AETERM"]', NS).set("Length", "199")
    mdv.find('odm:ItemDef[@OID="IT.DM.SEX"]', NS).set("Name", "GENDER")
    mdv.remove(mdv.find('odm:ItemGroupDef[@OID="IG.MH"]', NS))
    mdv.find('odm:ItemGroupDef[@OID="IG.VS"]/odm:ItemRef[@ItemOID="IT.VS.USUBJID"]', NS).set("OrderNumber", "99")
    mdv.find('odm:ItemDef[@OID="IT.EX.EXDOSE"]', NS).set("DataType", "text")
    mdv.find('odm:ItemGroupDef[@OID="IG.DS"]/def:leaf', NS).set(_ns("xlink:href"), "DS.XPT")
    edited = tmp_path / "define.xml"
    edited.write_bytes(serialize(tree))
    found = {(rule, dataset, variable) for rule, dataset, variable, _ in _findings(tmp_path, edited)}
    assert found == {
        ("DX0006", "AE", "AETERM"),  # Length
        ("DX0003", "DM", "SEX"),  # written, not described
        ("DX0004", "DM", "GENDER"),  # described, not written
        ("DX0002", "MH", ""),  # dataset not described
        ("DX0007", "VS", "USUBJID"),  # order
        ("DX0008", "EX", "EXDOSE"),  # DataType of a Num variable
        ("DX0009", "DS", ""),  # def:leaf names another file
    }


def test_a_value_outside_a_define_codelist_is_a_finding_of_one_rule(converted_sample) -> None:
    """A CDISC codelist's values are the CT rules' question (CT5001), a sponsor codelist's
    (ECOGGR, no C-code) DX0010's: each value is checked by one rule, never by both."""
    datasets = read_dataset_folder(converted_sample.sdtm_dir)
    for name, variable, value in (("DM", "SEX", "X"), ("RS", "RSORRES", "7")):
        frame = datasets[name].frame.copy()
        frame.loc[0, variable] = value
        datasets[name] = replace(datasets[name], frame=frame)
    define = read_define(converted_sample.defines["SDTM"])
    findings = validate_datasets(datasets, define=define, rules=DX_RULES + CT_RULES).findings
    found = set(zip(findings["rule_id"], findings["dataset"], findings["variable"], findings["value"], strict=True))
    assert found == {("CT5001", "DM", "SEX", "X"), ("DX0010", "RS", "RSORRES", "7")}


def test_the_model_of_the_built_tree_is_the_model_of_the_file(converted_sample, sdtm_define: Path) -> None:
    """convert reads the model from the tree it built; validate from the file: the same model."""
    tree = build_define(
        converted_sample.study,
        converted_sample.study.sdtm,
        converted_sample.sdtm,
        standard="SDTM",
        lengths=converted_sample.lengths,
        created=CREATED,
    )
    assert define_of(tree, sdtm_define) == read_define(sdtm_define)
    model = read_define(sdtm_define)
    assert (model.version, model.study_oid) == ("2.1.0", "STDY.ISA-CUP-DE")
    assert model.metadata_version_oid == "MDV.ISA-CUP-DE.SDTM"
    usubjid = model.datasets["DM"].variables["USUBJID"]
    assert (usubjid.oid, usubjid.order, usubjid.key_sequence, usubjid.mandatory) == ("IT.DM.USUBJID", 3, 2, True)
    assert model.datasets["DM"].href == "dm.xpt"


def test_a_built_tree_is_validated_without_writing_it(converted_sample) -> None:
    tree = build_define(
        converted_sample.study, converted_sample.study.sdtm, converted_sample.sdtm, standard="SDTM", created=CREATED
    )
    assert schema_problems(tree, "define.xml") == []
    del tree.getroot().find(".//odm:ItemGroupDef", NS).attrib[_ns("def:Structure")]
    problems = schema_problems(tree, "define.xml")
    assert problems and all("Structure" in p.message and "/" in p.message for p in problems)


# --- content ------------------------------------------------------------------------------------


def test_header_standards_and_stylesheet(sdtm_define: Path, study: StudySpec) -> None:
    text = sdtm_define.read_text(encoding="utf-8")
    assert '<?xml-stylesheet type="text/xsl" href="define2-1.xsl"?>' in text
    assert (sdtm_define.parent / "define2-1.xsl").is_file()
    root = parse_define(sdtm_define).getroot()
    assert root.get(_ns("def:Context")) == "Submission"
    assert root.get("CreationDateTime") == "2024-05-06T07:08:09"
    standards = {(s.get("PublishingSet"), s.get("Version")) for s in root.iterfind(".//def:Standard", NS)}
    # TS.TSVCDREF uses DICTNAM, whose newest terms are in the Define-XML CT package (cdisc_cup.ct).
    assert standards == {(None, "3.4"), ("SDTM", study.standards["sdtm_ct"]), ("DEFINE-XML", "2025-09-26")}


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
    ts = mdv.find('odm:ItemGroupDef[@OID="IG.TS"]', NS)  # reference data, no subject: not repeating
    assert (ts.get("Repeating"), ts.get("IsReferenceData"), ts.get("Domain")) == ("No", "Yes", "TS")
    assert ts.find("def:Class", NS).get("Name") == "TRIAL DESIGN"
    se = mdv.find('odm:ItemGroupDef[@OID="IG.SE"]', NS)
    assert (se.get("Repeating"), se.get("IsReferenceData")) == ("Yes", "No")


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
    # TS.TSVAL by TSPARMCD: each parameter's codelist and data type, labelled with its TSPARM.
    assert where("IT.TS.TSVAL.TBLIND") == ("IT.TS.TSPARMCD", "TBLIND")
    tblind = mdv.find('odm:ItemDef[@OID="IT.TS.TSVAL.TBLIND"]', NS)
    assert tblind.find("odm:CodeListRef", NS).get("CodeListOID") == "CL.TBLIND"
    sstdtc = mdv.find('odm:ItemDef[@OID="IT.TS.TSVAL.SSTDTC"]', NS)
    assert sstdtc.get("DataType") == "date" and "Study Start Date" in sstdtc.findtext(
        ".//odm:TranslatedText", namespaces=NS
    )
    assert mdv.find('odm:ItemDef[@OID="IT.TS.TSVAL.AGEMIN"]', NS).get("DataType") == "durationDatetime"


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


# --- convert: build once, never parse define.xml again ---------------------------------------------


def test_convert_writes_define_and_its_model_without_parsing_a_define_file(
    converted_sample, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The model the rules and Dataset-JSON get is read from the tree just built; the bytes
    written are those convert wrote (same document)."""
    stamp = read_define(converted_sample.defines["SDTM"]).created  # read before the spy watches
    parsed: list[str] = []
    real_parse = etree.parse

    def spy(source, *args, **kwargs):
        parsed.append(str(source))
        return real_parse(source, *args, **kwargs)

    monkeypatch.setattr(etree, "parse", spy)
    monkeypatch.setattr(etree, "fromstring", lambda *a, **k: pytest.fail("define.xml parsed from bytes"))
    layout = OutputLayout(tmp_path, converted_sample.study.studyid)
    layout.sdtm.mkdir(parents=True)
    layout.adam.mkdir(parents=True)
    created = datetime.fromisoformat(stamp)
    study = converted_sample.study
    defines = {
        part.standard: write_submission_define(
            study,
            part.in_folder(layout.folder(part.standard)),
            created,
            {},
            write_documents(study, part.standard, layout.folder(part.standard), part.submitted, {}),
        )
        for part in converted_sample.submissions
    }
    assert [p for p in parsed if p.endswith("define.xml")] == []
    monkeypatch.undo()
    for standard, folder in (("SDTM", layout.sdtm), ("ADaM", layout.adam)):
        assert defines[standard].path == folder / "define.xml"
        assert defines[standard] == read_define(folder / "define.xml")
        assert (folder / "define.xml").read_bytes() == converted_sample.defines[standard].read_bytes()
