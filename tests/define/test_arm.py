"""Analysis Results Metadata (ARM 1.0) of the paper's displays in the ADaM define.xml."""

from __future__ import annotations

import importlib
import shutil
from pathlib import Path

import pytest
import yaml
from lxml import etree

from cdisc_cup.define.document import NS, parse_define
from cdisc_cup.define.references import package_problems
from cdisc_cup.define.validate import define_schema, validate_define
from cdisc_cup.errors import SpecErrors
from cdisc_cup.spec.loader import default_spec_dir, load_study


@pytest.fixture(scope="module")
def adam_root(converted_sample) -> etree._Element:
    return parse_define(converted_sample.defines["ADaM"]).getroot()


def test_one_result_display_per_table_and_figure(converted_sample, adam_root: etree._Element) -> None:
    displays = adam_root.findall(".//arm:AnalysisResultDisplays/arm:ResultDisplay", NS)
    assert [d.get("Name") for d in displays] == ["Table 1", "Table 2", "Table 3", "Figure 1"]
    declared = {d.id: len(d.results) for d in converted_sample.study.result_displays}
    assert {d.get("OID"): len(d.findall("arm:AnalysisResult", NS)) for d in displays} == declared


def test_every_arm_reference_resolves_and_the_arm_schema_passes(converted_sample, adam_root) -> None:
    oids = {e.get("OID") for e in adam_root.iter() if e.get("OID")}
    references = [
        *(e.get("ItemGroupOID") for e in adam_root.iterfind(".//arm:AnalysisDataset", NS)),
        *(e.get("ItemOID") for e in adam_root.iterfind(".//arm:AnalysisVariable", NS)),
        *(e.get("WhereClauseOID") for e in adam_root.iterfind(".//arm:AnalysisDataset/def:WhereClauseRef", NS)),
    ]
    assert references and set(references) <= oids
    assert validate_define(converted_sample.defines["ADaM"]) == []
    assert not define_schema(arm=False).validate(etree.ElementTree(adam_root))  # ARM needs its extension
    assert package_problems(converted_sample.defines["ADaM"]) == []


def test_the_teae_analyses_select_safety_and_treatment_emergent_records(adam_root) -> None:
    (result,) = adam_root.iterfind(".//arm:AnalysisResult[@OID='AR.TABLE2.ANY']", NS)
    oid = result.find("arm:AnalysisDatasets/arm:AnalysisDataset/def:WhereClauseRef", NS).get("WhereClauseOID")
    (clause,) = adam_root.iterfind(f".//def:WhereClauseDef[@OID='{oid}']", NS)
    checks = [
        (c.get(f"{{{NS['def']}}}ItemOID"), c.get("Comparator"), [v.text for v in c.findall("odm:CheckValue", NS)])
        for c in clause.findall("odm:RangeCheck", NS)
    ]
    assert checks == [("IT.ADAE.SAFFL", "EQ", ["Y"]), ("IT.ADAE.TRTEMFL", "EQ", ["Y"])]


def test_the_programming_code_names_functions_of_the_tool(converted_sample, adam_root) -> None:
    codes = [c.text for c in adam_root.iterfind(".//arm:ProgrammingCode/arm:Code", NS)]
    assert len(codes) == sum(len(d.results) for d in converted_sample.study.result_displays)
    for code in codes:
        module, _, function = code.removesuffix("()").rpartition(".")
        assert callable(getattr(importlib.import_module(module), function)), code


def test_tables_and_figure_carry_their_display_ids_and_define_html_shows_arm(converted_sample) -> None:
    tables = converted_sample.layout.tables
    for display in converted_sample.study.result_displays:
        if display.output.startswith("table"):
            assert f"[{display.id}]" in (tables / f"{display.output}.html").read_text(encoding="utf-8")
    assert "[RD.FIGURE1]" in (tables / "index.html").read_text(encoding="utf-8")
    page = (converted_sample.adam_dir / "define.html").read_text(encoding="utf-8")
    assert "Analysis Results Metadata" in page
    assert all(f'id="ARD.{d.id}"' in page for d in converted_sample.study.result_displays)


def test_an_arm_reference_to_no_variable_is_a_problem(converted_sample, tmp_path: Path) -> None:
    folder = tmp_path / "adam"
    shutil.copytree(converted_sample.adam_dir, folder)
    document = parse_define(folder / "define.xml")
    next(document.iterfind(".//arm:AnalysisVariable", NS)).set("ItemOID", "IT.ADSL.NOSUCH")
    (folder / "define.xml").write_bytes(etree.tostring(document, xml_declaration=True, encoding="UTF-8"))
    assert any("IT.ADSL.NOSUCH" in p.message for p in package_problems(folder / "define.xml"))


def test_a_results_spec_naming_an_unknown_variable_is_a_spec_error(tmp_path: Path) -> None:
    specs = tmp_path / "specs"
    shutil.copytree(default_spec_dir(), specs)
    path = specs / "analysis" / "results.yaml"
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    document["displays"][0]["results"][0]["datasets"][0]["variables"] = ["NOSUCH"]
    document["displays"][0]["results"][0]["datasets"][0]["where"] = {"variable": "SAFFL", "matches": "Y"}
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    with pytest.raises(SpecErrors) as raised:
        load_study(specs)
    messages = " ".join(str(p) for p in raised.value.problems)
    assert "NOSUCH" in messages and "where clause" in messages


def test_an_arm_page_past_the_end_of_the_adrg_is_a_problem(converted_sample, tmp_path: Path) -> None:
    folder = tmp_path / "adam"
    shutil.copytree(converted_sample.adam_dir, folder)
    document = parse_define(folder / "define.xml")
    next(document.iterfind(".//arm:Documentation/def:DocumentRef/def:PDFPageRef", NS)).set("PageRefs", "999")
    (folder / "define.xml").write_bytes(etree.tostring(document, xml_declaration=True, encoding="UTF-8"))
    assert any("page 999 of adrg.pdf does not exist" in p.message for p in package_problems(folder / "define.xml"))
