"""What a reviewer checks first (issue #15, item 9): FDA's technical rejection criteria,
declared keys, seriousness, the end of participation and subjects never dosed.

On files written to disk, on real conversions of our exports, and on CDISC CORE's own test
data for the rules CORE has too (where the two differ, the test says how).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from cdisc_cup.cli import main
from cdisc_cup.findings import Severity
from cdisc_cup.pipeline import ConversionResult, convert
from cdisc_cup.rules.engine import DatasetFolder, RuleResults, validate_datasets, validate_folders
from cdisc_cup.rules.loader import load_rules, shipped_rules
from tests.exports import ADVERSE_EVENTS, SERIOUSNESS_CRITERIA, without_columns, write_export
from tests.rules.casekit import build, run, write_study
from tests.rules.corekit import core_cases, our_findings

NEVER_DOSED_RULES = ("SD5056", "SD5057", "SD5058", "SD5059")


def statuses(runs: pd.DataFrame, rule_id: str) -> list[dict]:
    return runs.loc[runs["rule_id"] == rule_id, ["dataset", "status", "findings", "reason"]].to_dict("records")


# --- FDA Technical Rejection Criteria -------------------------------------------------------


def test_a_folder_without_ts_gets_one_finding_and_the_ts_rules_do_not_apply(tmp_path: Path) -> None:
    data = write_study({"drop": ["TS"], "define": {}}, tmp_path / "sdtm")
    report = tmp_path / "r"
    result = CliRunner().invoke(main, ["validate", str(data), "--report-dir", str(report)])
    assert result.exit_code == 1, result.output  # an Error: FDA rejects the study
    document = json.loads((report / "findings.json").read_text(encoding="utf-8"))
    errors = [f for f in document["findings"] if f["severity"] == "Error"]
    assert [(f["rule_id"], f["dataset"], f["row"], f["value"]) for f in errors] == [("SD5049", "TS", None, "ts.xpt")]
    rules = {r["rule_id"]: r for r in document["rules"]}
    for rule_id in ("SD5050", "SD5051"):
        assert (rules[rule_id]["status"], rules[rule_id]["reason"]) == (
            "not applicable",
            "no dataset it applies to (TS)",
        )


def test_rejection_criteria_are_errors_and_name_the_fda_criterion() -> None:
    criteria = {
        "SD5049": "1734",
        "SD5050": "1734",
        "SD5051": "1734",
        "SD5053": "1736",
        "AD5021": "1736",
        "DX0001": "1736",
    }
    for rule in shipped_rules():
        if rule.rule_id in criteria:
            assert rule.severity is Severity.ERROR, rule.rule_id
            assert f"FDA Technical Rejection Criteria for Study Data ({criteria[rule.rule_id]})" in rule.refs


def test_study_start_date_against_cores_test_data() -> None:
    """CORE-000505 accepts a partial SSTDTC; FDA's criterion needs the day, so ours also flags
    the partial dates, and every record CORE flags (2003-20, 2003-02-31, ...) is ours too."""
    for case in core_cases("CORE-000505"):
        ours = our_findings("SD5051", case)
        flagged = set(zip(ours["dataset"], ours["row"], strict=True))
        assert case.reported() <= flagged, case.folder
        extra = ours[~ours["row"].isin([row for _, row in case.reported()])]
        assert not extra["value"].str.fullmatch(r"\d{4}-\d{2}-\d{2}.*").any(), extra.to_dict("records")
    [partial] = [case for case in core_cases("CORE-000505") if case.folder.match("positive/02")]
    assert sorted(our_findings("SD5051", partial)["value"]) == sorted(
        ["2003-12", "2003", "2003---15", "--12-15", "-----T07:15"]
    )


def test_dm_presence_against_cores_test_data() -> None:
    """CORE-000581: the same check (a study without DM, here one with only AE or only TS)."""
    cases = core_cases("CORE-000581")
    assert {case.kind for case in cases} == {"positive", "negative"}
    for case in cases:
        ours = our_findings("SD5053", case)
        expected = [{"dataset": "DM", "row": None}] if case.kind == "negative" else []
        assert ours[["dataset", "row"]].to_dict("records") == expected, case.folder


def test_studyid_against_cores_test_data() -> None:
    """CORE-000172 also flags a null STUDYID, which is SD5003's finding (Req variable null)."""
    for case in core_cases("CORE-000172"):
        ours = our_findings("SD5052", case)
        null = {
            (name, row + 1)
            for name, view in case.datasets().items()
            for row in view.frame.index[view.frame["STUDYID"].str.strip() == ""]
        }
        assert set(zip(ours["dataset"], ours["row"], strict=True)) == case.reported() - null, case.folder


# --- seriousness ----------------------------------------------------------------------------


def test_criterion_without_aeser_against_cores_test_data() -> None:
    """CORE-000022 is the same check: a criterion Y (AESOD and AESCAN included), AESER not Y."""
    for case in core_cases("CORE-000022"):
        ours = our_findings("SD5054", case)
        assert set(zip(ours["dataset"], ours["row"], strict=True)) == case.reported(), case.folder


@pytest.fixture(scope="module")
def conversions(tmp_path_factory: pytest.TempPathFactory) -> dict[str, ConversionResult]:
    """Our tests' export (one patient registered but never dosed) in format v1.1 and v1."""
    folder = tmp_path_factory.mktemp("reviewer")
    v1_ae = without_columns(ADVERSE_EVENTS, *SERIOUSNESS_CRITERIA)
    return {
        "v1.1": convert(write_export(folder / "v1.1"), folder / "out-v1.1"),
        "v1": convert(write_export(folder / "v1", adverse_events=v1_ae), folder / "out-v1"),
    }


def test_serious_ae_rules_run_on_v1_1_and_do_not_apply_to_v1(conversions: dict[str, ConversionResult]) -> None:
    for rule_id in ("SD5028", "SD5054"):
        assert statuses(conversions["v1.1"].validation.rule_runs, rule_id) == [
            {"dataset": "AE", "status": "ran", "findings": 0, "reason": ""}
        ]
        reason = "AE has none of AESDTH, AESLIFE, AESHOSP, AESDISAB, AESCONG, AESMIE, AESCAN, AESOD"
        assert statuses(conversions["v1"].validation.rule_runs, rule_id) == [
            {"dataset": "AE", "status": "not applicable", "findings": 0, "reason": reason}
        ]


# --- subjects never dosed -------------------------------------------------------------------


def test_a_never_dosed_patient_converts_clean_of_the_never_dosed_rules(
    conversions: dict[str, ConversionResult],
) -> None:
    result = conversions["v1.1"]
    dm = result.sdtm["DM"].set_index("SUBJID")
    assert pd.isna(dm.loc["02-002", "RFXSTDTC"])  # the export's patient who was never dosed
    runs = result.validation.rule_runs
    ran = {
        rule_id: {r["dataset"] for r in statuses(runs, rule_id) if r["status"] == "ran"}
        for rule_id in NEVER_DOSED_RULES
    }
    assert ran["SD5056"] == {"DM"}
    assert {"AE", "DS", "VS"} <= ran["SD5057"]
    assert "VS" in ran["SD5058"]
    assert not result.findings["rule_id"].isin(NEVER_DOSED_RULES).any()


def test_never_dosed_rules_follow_the_ig_version(tmp_path: Path) -> None:
    """ARMNRS and --LOBXFL came with SDTMIG 3.3: before it the rules on them do not apply."""
    scenario = build({"set": [{"dataset": "DM", "row": 2, "variable": "RFXSTDTC", "value": ""}]}, tmp_path)
    folder = DatasetFolder(None, "sdtm", scenario.datasets, ig_version="3.2", ct_package="SDTM CT 2025-03-28")
    results = validate_folders([folder])
    found = set(results.findings["rule_id"])
    assert {"SD5057", "SD5059"} <= found and not {"SD5056", "SD5058"} & found


# --- keys declared in define.xml --------------------------------------------------------------


def _duplicated_ae(tmp_path: Path, copies: int, define: dict | None) -> RuleResults:
    """The base study with `copies` AE records repeating each subject's event under a new AESEQ."""
    add = [{"dataset": "AE", "copy_row": row, "values": {"AESEQ": 10 + n}} for n in range(copies) for row in (1, 2)]
    scenario = {"add": add} | ({"define": define} if define is not None else {})
    tmp_path.mkdir(parents=True, exist_ok=True)
    return run(build(scenario, tmp_path))


KEYS = {"keys": {"AE": ["STUDYID", "USUBJID", "AEDECOD", "AESTDTC"]}}


def test_one_finding_per_duplicated_key_group_naming_keys_and_values(tmp_path: Path) -> None:
    results = _duplicated_ae(tmp_path, copies=2, define=KEYS)
    found = results.findings[results.findings["rule_id"] == "DX0011"]
    assert found[["dataset", "variable", "row", "usubjid"]].to_dict("records") == [
        {"dataset": "AE", "variable": "AESTDTC", "row": 1, "usubjid": "CUP1-01-001"},
        {"dataset": "AE", "variable": "AESTDTC", "row": 2, "usubjid": "CUP1-01-002"},
    ]
    assert found["message"].iloc[0] == (
        "3 records of AE (1, 3, 5) have the same key STUDYID=ISA-CUP-DE, USUBJID=CUP1-01-001, "
        "AEDECOD=Neutropenia, AESTDTC=2020-07-10; define.xml declares STUDYID, USUBJID, AEDECOD, AESTDTC "
        "as the keys of one record"
    )


def test_duplicated_key_groups_are_capped_with_a_count_of_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "capped.yaml"
    path.write_text(
        "rules:\n  - {id: DX9011, title: t, standard: Define-XML 2.1, datasets: ['*'], severity: Error,\n"
        "     message: '{count} records: {value}', rationale: r,\n"
        "     check: {operator: define_keys_unique, max_groups: 1}}\n",
        encoding="utf-8",
    )
    scenario = build(
        {"add": [{"dataset": "AE", "copy_row": row, "values": {"AESEQ": 9}} for row in (1, 2)], "define": KEYS},
        tmp_path,
    )
    findings = validate_datasets(scenario.datasets, define=scenario.define, rules=load_rules([path])).findings
    assert findings[["row", "value"]].to_dict("records") == [
        {"row": 1, "value": "STUDYID=ISA-CUP-DE, USUBJID=CUP1-01-001, AEDECOD=Neutropenia, AESTDTC=2020-07-10"},
        {"row": None, "value": "1"},
    ]
    assert findings["message"].iloc[1] == (
        "1 more groups of AE records share their keys (STUDYID, USUBJID, AEDECOD, AESTDTC); only the first 1 are listed"
    )


def test_keys_rule_needs_keys_from_define_xml(tmp_path: Path) -> None:
    without_define = _duplicated_ae(tmp_path / "a", copies=1, define=None)
    assert statuses(without_define.rule_runs, "DX0011") == [
        {"dataset": name, "status": "not applicable", "findings": 0, "reason": "no define.xml"}
        for name in without_define.rule_runs.loc[without_define.rule_runs["rule_id"] == "DX0011", "dataset"]
    ]
    without_keys = _duplicated_ae(tmp_path / "b", copies=1, define={})
    assert {
        "dataset": "AE",
        "status": "not applicable",
        "findings": 0,
        "reason": "define.xml declares no keys for AE",
    } in statuses(without_keys.rule_runs, "DX0011")
