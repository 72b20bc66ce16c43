"""`cdisc-cup compare` on real XPT files written by the repo's writer and read back."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from cdisc_cup.cli import main
from cdisc_cup.compare.folders import compare_paths
from cdisc_cup.compare.keys import KeyOption, ig_keys
from cdisc_cup.comparison import KeySource, Method, Tolerance
from cdisc_cup.errors import InputErrors
from cdisc_cup.pipeline import ConversionResult
from cdisc_cup.xpt.model import SpecialMissing, XptVariable
from cdisc_cup.xpt.read import read_xpt_dataset
from cdisc_cup.xpt.write import write_xpt

REPO = Path(__file__).resolve().parents[2]

DM_VARIABLES = (
    XptVariable("STUDYID", "Study Identifier", "Char", 8),
    XptVariable("USUBJID", "Unique Subject Identifier", "Char", 12),
    XptVariable("AGE", "Age", "Num", 8),
    XptVariable("SEX", "Sex", "Char", 1),
)
AE_VARIABLES = (
    XptVariable("STUDYID", "Study Identifier", "Char", 8),
    XptVariable("USUBJID", "Unique Subject Identifier", "Char", 12),
    XptVariable("AESEQ", "Sequence Number", "Num", 8),
    XptVariable("AETERM", "Reported Term for the Adverse Event", "Char", 40),
    XptVariable("AESTDY", "Study Day of Start of Adverse Event", "Num", 8),
)


def dm_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "STUDYID": ["S1"] * 3,
            "USUBJID": ["S1-001", "S1-002", "S1-003"],
            "AGE": [63.0, 71.0, 58.0],
            "SEX": ["F", "M", "F"],
        }
    )


def ae_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "STUDYID": ["S1"] * 4,
            "USUBJID": ["S1-001", "S1-001", "S1-002", "S1-003"],
            "AESEQ": [1.0, 2.0, 1.0, 1.0],
            "AETERM": ["HEADACHE", "NAUSEA", "FATIGUE", "RASH"],
            "AESTDY": [3.0, 10.0, 5.0, np.nan],
        }
    )


def write_dataset(
    folder: Path,
    name: str,
    frame: pd.DataFrame,
    variables: tuple[XptVariable, ...],
    label: str,
    file_name: str | None = None,
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (file_name or f"{name.lower()}.xpt")
    write_xpt(path, frame, dataset=name, label=label, variables=variables)
    return path


def write_study(folder: Path, dm: pd.DataFrame | None = None, ae: pd.DataFrame | None = None, **labels: str) -> Path:
    """A folder with DM and AE; `ae_variables` may replace the AE variables."""
    write_dataset(folder, "DM", dm_frame() if dm is None else dm, DM_VARIABLES, labels.get("dm", "Demographics"))
    write_dataset(folder, "AE", ae_frame() if ae is None else ae, AE_VARIABLES, labels.get("ae", "Adverse Events"))
    return folder


def run(*arguments: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["compare", *arguments])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def report(folder: Path) -> dict:
    return json.loads((folder / "compare.json").read_text(encoding="utf-8"))


def by_name(document: dict) -> dict[str, dict]:
    return {d["name"]: d for d in document["datasets"]}


def test_identical_folders_are_equal_with_exit_0(tmp_path: Path) -> None:
    base, qc = write_study(tmp_path / "base"), write_study(tmp_path / "qc")
    code, output = run(str(base), str(qc), "--out", str(tmp_path / "report"))
    assert code == 0, output
    assert "No differences: 2 datasets compared, all equal." in output
    document = report(tmp_path / "report")
    assert document["summary"]["equal"] is True
    assert all(d["differences"] == [] for d in document["datasets"])
    page = (tmp_path / "report" / "compare.html").read_text(encoding="utf-8")
    assert "No differences" in page and "<script" not in page


def test_a_changed_value_a_dropped_record_and_a_changed_label_are_exactly_what_is_reported(tmp_path: Path) -> None:
    base = write_study(tmp_path / "base")
    dm = dm_frame()
    dm.loc[1, "AGE"] = 72.0
    ae = ae_frame().drop(index=2).reset_index(drop=True)
    qc = tmp_path / "qc"
    write_dataset(qc, "DM", dm, DM_VARIABLES, "Demographics")
    relabelled = tuple(
        XptVariable(v.name, "Reported Term", v.type, v.length) if v.name == "AETERM" else v for v in AE_VARIABLES
    )
    write_dataset(qc, "AE", ae, relabelled, "Adverse Events")

    code, output = run(str(base), str(qc), "--out", str(tmp_path / "report"))

    assert code == 1
    datasets = by_name(report(tmp_path / "report"))
    assert datasets["DM"]["differences"] == ["variable AGE: 1 value differs"]
    assert datasets["AE"]["differences"] == [
        "label of variable AETERM: 'Reported Term for the Adverse Event' vs 'Reported Term'",
        "1 record only in base",
    ]
    age = datasets["DM"]["value_differences"][0]
    assert age["examples"] == [{"STUDYID": "S1", "USUBJID": "S1-002", "base": "71", "compare": "72", "difference": "1"}]
    assert age["max_difference"] == 1.0
    assert datasets["AE"]["records_only_in_base"] == {
        "count": 1,
        "examples": [{"STUDYID": "S1", "USUBJID": "S1-002", "AESEQ": "1"}],
    }
    assert datasets["AE"]["keys"] == {"variables": ["STUDYID", "USUBJID", "AESEQ"], "source": "--SEQ", "note": ""}
    assert "variable AGE: 1 value differs" in output and "Differences found: 2 of 2 datasets differ (AE, DM)." in output


def test_variables_only_in_one_and_type_and_length_differences(tmp_path: Path) -> None:
    base = write_dataset(tmp_path / "base", "AE", ae_frame(), AE_VARIABLES, "Adverse Events")
    ae = ae_frame().drop(columns="AESTDY").assign(AESTDY=["3", "10", "5", ""], AEOUT=["RECOVERED/RESOLVED"] * 4)
    variables = (
        *(XptVariable(v.name, v.label, v.type, 60) if v.name == "AETERM" else v for v in AE_VARIABLES[:4]),
        XptVariable("AESTDY", "Study Day of Start of Adverse Event", "Char", 4),
        XptVariable("AEOUT", "Outcome of Adverse Event", "Char", 40),
    )
    qc = write_dataset(tmp_path / "qc", "AE", ae, variables, "Adverse Events")

    comparison = compare_paths(base, qc)

    (ae_result,) = comparison.datasets
    assert ae_result.variables_only_in_compare == ("AEOUT",) and ae_result.variables_only_in_base == ()
    assert {(d.variable, d.attribute, d.base, d.compare) for d in ae_result.attribute_differences} == {
        ("AETERM", "length", "40", "60"),
        ("AESTDY", "type", "Num", "Char"),
        ("AESTDY", "length", "8", "4"),
    }
    assert ae_result.not_compared == (("AESTDY", "Num in base, Char in compare"),)
    assert ae_result.value_differences == ()  # AETERM's values are the same; AESTDY's not compared
    assert ae_result.variables_compared == 1
    (by_study_day,) = compare_paths(base, qc, keys=KeyOption.parse(["STUDYID,USUBJID,AESTDY"])).datasets
    assert by_study_day.refused == "key variable AESTDY is of a different type in each dataset"
    assert by_study_day.records_compared == 0 and by_study_day.value_differences == ()
    assert "values not compared: key variable AESTDY is of a different type in each dataset" in (
        by_study_day.differences()
    )


def test_numbers_within_the_tolerance_or_criterion_are_equal(tmp_path: Path) -> None:
    base = write_dataset(tmp_path / "base", "AE", ae_frame(), AE_VARIABLES, "Adverse Events")
    ae = ae_frame()
    ae["AESTDY"] = [3.0 + 1e-10, 10.0, 5.0 * (1 + 1e-6), np.nan]
    qc = write_dataset(tmp_path / "qc", "AE", ae, AE_VARIABLES, "Adverse Events")

    def differing(tolerance: Tolerance) -> int:
        (result,) = compare_paths(base, qc, tolerance=tolerance).datasets
        return sum(d.count for d in result.value_differences)

    assert differing(Tolerance()) == 2
    assert differing(Tolerance(Method.ABSOLUTE, 1e-8)) == 1  # 5e-6 apart is beyond 1e-8
    assert differing(Tolerance(Method.ABSOLUTE, 1e-5)) == 0
    assert differing(Tolerance(Method.RELATIVE, 1e-7)) == 1  # relative 1e-6 is beyond 1e-7
    assert differing(Tolerance(Method.RELATIVE, 1e-5)) == 0
    code, output = run(str(base), str(qc), "--tolerance", "1e-5")
    assert code == 0, output
    code, output = run(str(base), str(qc), "--tolerance", "1e-5", "--criterion", "1e-5")
    assert code == 2 and "not both" in output


def test_missing_special_missing_and_trailing_blanks_as_sas_compares_them(tmp_path: Path) -> None:
    ae = ae_frame()
    ae["AESTDY"] = pd.Series([SpecialMissing("A"), 10.0, np.nan, np.nan], dtype=object)
    base = write_dataset(tmp_path / "base", "AE", ae, AE_VARIABLES, "Adverse Events")
    other = ae_frame()
    other["AESTDY"] = pd.Series([np.nan, 10.0, SpecialMissing("B"), np.nan], dtype=object)
    other["AETERM"] = ["HEADACHE   ", " NAUSEA", "FATIGUE", "RASH"]  # trailing blanks go, a leading one counts
    qc = write_dataset(tmp_path / "qc", "AE", other, AE_VARIABLES, "Adverse Events")

    (result,) = compare_paths(base, qc).datasets

    found = {d.variable: d for d in result.value_differences}
    assert found["AETERM"].count == 1
    assert found["AETERM"].examples[["AESEQ", "base", "compare"]].to_dict("records") == [
        {"AESEQ": "2", "base": "NAUSEA", "compare": " NAUSEA"}
    ]
    assert found["AESTDY"].count == 2
    assert found["AESTDY"].examples[["base", "compare"]].to_dict("records") == [
        {"base": ".A", "compare": "."},
        {"base": ".", "compare": ".B"},
    ]
    assert found["AESTDY"].max_difference is None


def test_duplicate_keys_are_reported_and_records_matched_by_occurrence(tmp_path: Path) -> None:
    base = write_dataset(tmp_path / "base", "AE", ae_frame(), AE_VARIABLES, "Adverse Events")
    same = write_dataset(tmp_path / "same", "AE", ae_frame(), AE_VARIABLES, "Adverse Events")
    swapped = ae_frame().iloc[[1, 0, 2, 3]].reset_index(drop=True)
    reordered = write_dataset(tmp_path / "reordered", "AE", swapped, AE_VARIABLES, "Adverse Events")

    code, output = run(str(base), str(same), "--keys", "USUBJID", "--out", str(tmp_path / "report"))
    assert code == 0, output
    assert "2 records of the base share a key value with another" in output
    (ae_result,) = report(tmp_path / "report")["datasets"]
    assert ae_result["duplicate_keys"][0] == {
        "side": "base",
        "records": 2,
        "examples": [{"USUBJID": "S1-001", "records": 2}],
    }

    (result,) = compare_paths(base, reordered, keys=KeyOption.parse(["AE=USUBJID"])).datasets
    assert {d.variable: d.count for d in result.value_differences} == {"AESEQ": 2, "AETERM": 2, "AESTDY": 2}
    first = result.value_differences[1].examples
    assert first[["USUBJID", "occurrence", "base", "compare"]].to_dict("records")[0] == {
        "USUBJID": "S1-001",
        "occurrence": 1,
        "base": "HEADACHE",
        "compare": "NAUSEA",
    }


DEFINE = """<?xml version="1.0" encoding="UTF-8"?>
<ODM xmlns="http://www.cdisc.org/ns/odm/v1.3" xmlns:def="http://www.cdisc.org/ns/def/v2.1">
 <Study OID="S1"><MetaDataVersion OID="MDV.1" Name="S1" def:DefineVersion="2.1.0">
  <ItemGroupDef OID="IG.AE" Name="AE" Repeating="Yes" def:Structure="One record per event">
   <ItemRef ItemOID="IT.AE.STUDYID" Mandatory="Yes" KeySequence="1"/>
   <ItemRef ItemOID="IT.AE.USUBJID" Mandatory="Yes" KeySequence="2"/>
   <ItemRef ItemOID="IT.AE.AETERM" Mandatory="Yes" KeySequence="3"/>
   <ItemRef ItemOID="IT.AE.AESEQ" Mandatory="Yes"/>
  </ItemGroupDef>
  <ItemDef OID="IT.AE.STUDYID" Name="STUDYID" DataType="text" Length="8"/>
  <ItemDef OID="IT.AE.USUBJID" Name="USUBJID" DataType="text" Length="12"/>
  <ItemDef OID="IT.AE.AETERM" Name="AETERM" DataType="text" Length="40"/>
  <ItemDef OID="IT.AE.AESEQ" Name="AESEQ" DataType="integer" Length="8"/>
 </MetaDataVersion></Study>
</ODM>
"""


def test_keys_default_to_the_define_xml_of_the_base_folder(tmp_path: Path) -> None:
    base = write_study(tmp_path / "base")
    (base / "define.xml").write_text(DEFINE, encoding="utf-8")
    ae = ae_frame()
    ae["AESEQ"] = [2.0, 1.0, 1.0, 1.0]  # renumbered: matched by term, AESEQ differs twice
    qc = write_study(tmp_path / "qc", ae=ae)

    comparison = compare_paths(base, qc)

    results = {d.name: d for d in comparison.datasets}
    assert results["AE"].keys.variables == ("STUDYID", "USUBJID", "AETERM")
    assert results["AE"].keys.source == KeySource.DEFINE
    assert [(d.variable, d.count) for d in results["AE"].value_differences] == [("AESEQ", 2)]
    assert results["DM"].keys.source == KeySource.IG  # define.xml has no DM: the IG's keys
    (base / "define.xml").write_text("<ODM><broken", encoding="utf-8")
    code, output = run(str(base), str(qc))
    assert code == 2 and "define.xml cannot be read as XML" in output and "Traceback" not in output
    code, output = run(str(base), str(qc), "--keys", "STUDYID,USUBJID,AESEQ", "--keys", "DM=USUBJID")
    assert code == 1 and "define.xml" not in output  # every dataset keyed: define.xml is not read


def test_two_xpt_files_are_compared_whatever_their_file_names(tmp_path: Path) -> None:
    base = write_dataset(tmp_path, "DM", dm_frame(), DM_VARIABLES, "Demographics")
    qc = write_dataset(tmp_path / "qc", "DM", dm_frame(), DM_VARIABLES, "Demographics", file_name="dm_qc.xpt")
    code, output = run(str(base), str(qc))
    assert code == 0 and "DM" in output and "keys STUDYID, USUBJID (SDTMIG 3.4 section 3.2.1)" in output
    other = write_dataset(tmp_path / "other", "DM", dm_frame(), DM_VARIABLES, "Demography", file_name="x.xpt")
    code, output = run(str(base), str(other))
    assert code == 1 and "dataset label: 'Demographics' vs 'Demography'" in output


def test_a_dataset_in_one_folder_only_is_a_difference(tmp_path: Path) -> None:
    base = write_study(tmp_path / "base")
    qc = write_study(tmp_path / "qc")
    write_dataset(qc, "VS", dm_frame(), DM_VARIABLES, "Vital Signs")
    (base / "ae.xpt").unlink()
    code, output = run(str(base), str(qc), "--out", str(tmp_path / "report"))
    assert code == 1
    document = report(tmp_path / "report")
    assert [d["name"] for d in document["datasets"]] == ["DM"]
    assert [d["name"] for d in document["datasets_only_in_compare"]] == ["AE", "VS"]
    assert document["datasets_only_in_base"] == []
    assert "Differences found: 2 datasets only in compare." in output


def test_records_are_matched_by_position_when_no_keys_are_known(tmp_path: Path) -> None:
    frame = pd.DataFrame({"ITEM": ["A", "B", "C"], "SCORE": [1.0, 2.0, 3.0]})
    variables = (XptVariable("ITEM", "Item", "Char", 1), XptVariable("SCORE", "Score", "Num", 8))
    base = write_dataset(tmp_path / "base", "XX", frame, variables, "Scores")
    qc = write_dataset(tmp_path / "qc", "XX", frame.head(2).assign(SCORE=[1.0, 5.0]), variables, "Scores")
    (result,) = compare_paths(base, qc).datasets
    assert result.keys.variables == () and result.keys.source == KeySource.RECORD_ORDER
    assert "matched by position" in result.keys.note
    assert result.differences() == ["1 record only in base", "variable SCORE: 1 value differs"]
    assert result.records_only[0].examples.to_dict("records") == [{"record": 3}]
    assert result.value_differences[0].examples.to_dict("records") == [
        {"record": 2, "base": "2", "compare": "5", "difference": "3"}
    ]


def test_bad_input_is_a_message_and_exit_2(tmp_path: Path) -> None:
    base = write_study(tmp_path / "base")
    not_xpt = tmp_path / "notes.xpt"
    not_xpt.write_text("not a transport file", encoding="utf-8")
    code, output = run(str(base / "dm.xpt"), str(not_xpt))
    assert code == 2 and "notes.xpt" in output and "cannot be read as a SAS transport" in output
    code, output = run(str(base), str(base / "dm.xpt"))
    assert code == 2 and "both XPT files, or both folders" in output
    code, output = run(str(base), str(base), "--keys", "USUBJID,VISITNUM")
    assert code == 2 and "key variable VISITNUM is not in dataset DM" in output
    code, output = run(str(base), str(base), "--keys", "LB=USUBJID,LBSEQ")
    assert code == 2 and "--keys names dataset LB, which is in neither BASE nor COMPARE" in output
    code, output = run(str(base), str(base), "--keys", "AE=")
    assert code == 2 and "names no key variable" in output
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputErrors, match="no SAS XPORT"):
        compare_paths(base, empty)


def test_compare_reads_no_specs_so_it_offers_no_specs_option(tmp_path: Path) -> None:
    """The keys come from --keys or BASE's define.xml; a --specs that changed nothing would
    mislead, so it is refused as an unknown option (exit 2) and not listed in --help."""
    base = write_study(tmp_path / "base")
    code, output = run(str(base), str(base), "--specs", str(REPO / "specs"))
    assert code == 2 and "No such option '--specs'" in output
    code, output = run("--help")
    assert code == 0 and "--specs" not in output and "--quiet" in output


def test_a_report_never_replaces_files_it_did_not_write(tmp_path: Path) -> None:
    base = write_study(tmp_path / "base")
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.sas").write_text("* mine;", encoding="utf-8")
    code, output = run(str(base), str(base), "--out", str(mine))
    assert code == 4 and "not empty" in output
    assert sorted(p.name for p in mine.iterdir()) == ["notes.sas"]
    assert run(str(base), str(base), "--out", str(tmp_path / "report"))[0] == 0
    assert run(str(base), str(base), "--out", str(tmp_path / "report"))[0] == 0  # its own earlier report: replaced


def test_the_pharmaverse_dm_against_itself_and_a_modified_copy(shared_dir: Path, tmp_path: Path) -> None:
    original = shared_dir / "pharmaverse" / "sdtm" / "dm.xpt"
    code, output = run(str(original), str(original))
    assert code == 0 and "306 records compared" in output
    dm = read_xpt_dataset(original)
    frame = dm.frame.copy()
    subject = frame.loc[10, "USUBJID"]
    frame.loc[10, "AGE"] = frame.loc[10, "AGE"] + 1
    frame.loc[20, "RACE"] = "ASIAN"
    copy = tmp_path / "dm.xpt"
    write_xpt(copy, frame, dataset=dm.name, label=dm.label, variables=dm.variables)

    (result,) = compare_paths(original, copy).datasets

    assert result.differences() == ["variable AGE: 1 value differs", "variable RACE: 1 value differs"]
    assert result.value_differences[0].examples["USUBJID"].tolist() == [subject]


def test_the_pharmaverse_sdtm_and_adam_folders_against_themselves(shared_dir: Path) -> None:
    sdtm = compare_paths(shared_dir / "pharmaverse" / "sdtm", shared_dir / "pharmaverse" / "sdtm")
    assert sdtm.equal and len(sdtm.datasets) == 11
    ae = next(d for d in sdtm.datasets if d.name == "AE")
    # The IG's example keys do not identify the AE records of this study: its AESEQ does.
    assert ae.keys.variables == ("STUDYID", "USUBJID", "AESEQ") and "not unique" in ae.keys.note
    adam = compare_paths(shared_dir / "pharmaverse" / "adam", shared_dir / "pharmaverse" / "adam")
    keys = {d.name: (d.keys.variables, d.keys.source) for d in adam.datasets}
    assert keys["ADSL"] == (("STUDYID", "USUBJID"), KeySource.ADAM)
    assert keys["ADAE"][0] == ("STUDYID", "USUBJID", "AESEQ")
    assert adam.equal


def test_the_conversion_output_against_itself_and_a_copy_with_a_change(
    converted_sample: ConversionResult, tmp_path: Path
) -> None:
    root, sdtm = converted_sample.layout.root, converted_sample.sdtm_dir
    comparison = compare_paths(root, root)  # the whole output: its SDTM and ADaM folders
    assert comparison.equal
    assert len(comparison.datasets) == len(converted_sample.sdtm) + len(converted_sample.adam)
    assert {d.keys.source for d in comparison.datasets} == {KeySource.DEFINE}
    titles = {d.title for d in comparison.datasets}
    assert {"tabulations/sdtm/DM", "analysis/adam/datasets/ADSL"} <= titles
    qc = tmp_path / "qc"
    shutil.copytree(sdtm, qc)
    vs = read_xpt_dataset(qc / "vs.xpt")
    write_xpt(qc / "vs.xpt", vs.frame.iloc[1:], dataset="VS", label=vs.label, variables=vs.variables)
    changed = compare_paths(sdtm, qc)
    assert [(d.name, d.differences()) for d in changed.datasets if not d.equal] == [("VS", ["1 record only in base"])]


def test_the_shipped_ig_keys_are_what_the_script_makes_of_the_ig(shared_dir: Path) -> None:
    spec = importlib.util.spec_from_file_location("sdtmig_keys", REPO / "tools" / "sdtmig_keys.py")
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    made = script.csv_text(script.dataset_keys(shared_dir / "reference" / "cdisc-metadata"))
    assert made == script.TARGET.read_text(encoding="utf-8")
    assert ig_keys()["FT"] == ("STUDYID", "USUBJID", "FTTESTCD", "VISITNUM", "FTTPTREF", "FTTPTNUM")
    assert ig_keys()["SV"] == ("STUDYID", "USUBJID", "VISITNUM")


def test_the_html_report_escapes_values_and_links_each_dataset_that_differs(tmp_path: Path) -> None:
    base = write_study(tmp_path / "base")
    ae = ae_frame()
    ae.loc[0, "AETERM"] = "<script>alert(1)</script>"
    qc = write_study(tmp_path / "qc", ae=ae)
    code, _ = run(str(base), str(qc), "--out", str(tmp_path / "report"), "--tolerance", "0.5")
    assert code == 1
    page = (tmp_path / "report" / "compare.html").read_text(encoding="utf-8")
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert '<a href="#dataset-AE">AE</a>' in page and 'id="dataset-DM"' not in page
    document = report(tmp_path / "report")
    assert document["run"]["command"].endswith("--tolerance 0.5")
    assert "METHOD=ABSOLUTE" in document["run"]["numbers"]


def test_a_bds_dataset_is_keyed_by_subject_parameter_and_visit_then_date_and_dtype(tmp_path: Path) -> None:
    variables = (
        XptVariable("STUDYID", "Study Identifier", "Char", 8),
        XptVariable("USUBJID", "Unique Subject Identifier", "Char", 12),
        XptVariable("PARAMCD", "Parameter Code", "Char", 8),
        XptVariable("AVISITN", "Analysis Visit (N)", "Num", 8),
        XptVariable("ADT", "Analysis Date", "Num", 8, "DATE9."),
        XptVariable("DTYPE", "Derivation Type", "Char", 8),
        XptVariable("AVAL", "Analysis Value", "Num", 8),
    )
    one_per_visit = pd.DataFrame(
        {
            "STUDYID": ["S1"] * 3,
            "USUBJID": ["S1-001"] * 3,
            "PARAMCD": ["SYSBP"] * 3,
            "AVISITN": [1.0, 2.0, 3.0],
            "ADT": [22000.0, 22007.0, 22014.0],
            "DTYPE": ["", "", ""],
            "AVAL": [120.0, 125.0, 130.0],
        }
    )
    base = write_dataset(tmp_path / "a", "ADVS", one_per_visit, variables, "Vital Signs Analysis")
    (result,) = compare_paths(base, base).datasets
    assert result.keys.variables == ("STUDYID", "USUBJID", "PARAMCD", "AVISITN")
    assert result.keys.source == KeySource.ADAM
    averaged = pd.concat([one_per_visit, one_per_visit.tail(1).assign(DTYPE="AVERAGE", AVAL=127.5)])
    repeated = write_dataset(tmp_path / "b", "ADVS", averaged, variables, "Vital Signs Analysis")
    (result,) = compare_paths(repeated, repeated).datasets
    assert result.keys.variables == ("STUDYID", "USUBJID", "PARAMCD", "AVISITN", "ADT", "DTYPE")
    assert result.keys.note == "not unique: STUDYID, USUBJID, PARAMCD, AVISITN (ADaM structure)"
