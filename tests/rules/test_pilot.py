"""The CDISC pilot study (SDTMIG 3.1.2-era SAS files): real findings, right record numbers, no rule failing."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from cdisc_cup.pipeline import validate_folder
from cdisc_cup.rules import engine
from cdisc_cup.rules.engine import RuleResults

PILOT = Path(__file__).resolve().parents[3] / "shared" / "reference" / "cdiscpilot01"


@pytest.fixture(scope="module")
def sdtm_results() -> RuleResults:
    return validate_folder(PILOT / "sdtm")


@pytest.fixture(scope="module")
def sdtm_findings(sdtm_results: RuleResults) -> pd.DataFrame:
    return sdtm_results.findings


@pytest.fixture(scope="module")
def adam_results() -> RuleResults:
    return validate_folder(PILOT / "adam")


@pytest.fixture(scope="module")
def adam_findings(adam_results: RuleResults) -> pd.DataFrame:
    return adam_results.findings


def test_no_rule_fails_on_the_pilot(sdtm_results: RuleResults, adam_results: RuleResults) -> None:
    for results in (sdtm_results, adam_results):
        runs = results.rule_runs
        assert runs[runs["status"] == "failed"].to_dict("records") == []


def test_pilot_study_day_error_at_the_right_record(sdtm_findings: pd.DataFrame) -> None:
    # ae.xpt record 971: 01-716-1063 starts on RFSTDTC (2013-05-09), so AESTDY is 1, not 366.
    found = sdtm_findings[sdtm_findings["rule_id"] == "SD5013"]
    assert found[["dataset", "variable", "row", "usubjid", "value"]].to_dict("records") == [
        {"dataset": "AE", "variable": "AESTDY", "row": 971, "usubjid": "01-716-1063", "value": "366"}
    ]


def test_pilot_screen_failures_have_an_arm_code_outside_ta(sdtm_results: RuleResults) -> None:
    # SDTMIG 3.1.2 put screen failures in ARMCD = "Scrnfail"; dm.xpt record 7 is 01-701-1057.
    sdtm_findings = sdtm_results.findings
    arms = sdtm_findings[sdtm_findings["rule_id"] == "SD5030"]
    assert len(arms) == 52
    first = arms.iloc[0]
    assert (first["row"], first["usubjid"], first["value"]) == (7, "01-701-1057", "Scrnfail")
    # That was the rule before SDTMIG 3.3 brought ARMNRS: the pilot's define.xml names SDTM
    # 3.1.2, so it is checked as SDTMIG 3.2 and the ARMNRS rules do not apply.
    assert not sdtm_findings["rule_id"].isin(["SD5031", "SD5032"]).any()
    runs = sdtm_results.rule_runs.set_index("rule_id")
    assert runs.loc["SD5031", "reason"] == "a rule of SDTMIG 3.3, 3.4; the datasets follow SDTMIG 3.2"


def test_pilot_datasets_have_no_labels_and_define_1_0_is_read(
    sdtm_findings: pd.DataFrame, adam_findings: pd.DataFrame
) -> None:
    # The pilot XPT files carry no dataset label; their Define-XML 1.0 has one (def:Label). One
    # problem, one finding: the missing label is XP0005's, not also a define.xml mismatch.
    assert sorted(adam_findings.loc[adam_findings["rule_id"] == "XP0005", "dataset"]) == ["ADAE", "ADSL", "ADTTE"]
    assert not adam_findings.loc[adam_findings["rule_id"] == "DX0005", "variable"].eq("").any()
    assert set(sdtm_findings.loc[sdtm_findings["rule_id"] == "XP0005", "dataset"]) >= {"AE", "DM", "EX", "DS"}
    assert not sdtm_findings["rule_id"].isin(["DX0001", "DX0002", "DX0003"]).any()


def test_pilot_define_codelists_and_data_disagree_only_where_the_adam_define_is_wrong(
    sdtm_findings: pd.DataFrame, adam_findings: pd.DataFrame
) -> None:
    # The pilot's Define-XML 1.0 codelists have no C-codes, so they are the sponsor's: DX0010
    # checks the values against them. The ADaM define.xml (ISO-8859-1) writes every coded value
    # of SEX and Y_BLANK with a trailing non-breaking space (CodedValue="F\xa0"), and its BMICAT
    # has ">30" where ADSL.BMIBLGR1 has ">=30"; the SDTM define.xml's codelists fit the data.
    dx0010 = adam_findings[adam_findings["rule_id"] == "DX0010"]
    occurrence_flags = {f"AOCC{suffix}FL" for suffix in ("", "S", "P", "01", "02", "03", "04")}
    assert set(zip(dx0010["dataset"], dx0010["variable"], strict=True)) == {
        *(("ADAE", flag) for flag in occurrence_flags),
        ("ADAE", "SEX"),
        ("ADSL", "SEX"),
        ("ADTTE", "SEX"),
        ("ADSL", "BMIBLGR1"),
        ("ADSL", "DISCONFL"),
        ("ADSL", "DSRAEFL"),
        ("ADSL", "DTHFL"),
    }
    assert "'F\\xa0', 'M\\xa0', 'U\\xa0'" in dx0010.loc[dx0010["variable"] == "SEX", "message"].iloc[0]
    assert set(dx0010.loc[dx0010["variable"] == "BMIBLGR1", "value"]) == {">=30"}
    # Order, DataType and file names agree; Define-XML 1.0 value lists (on QNAM in SUPPAE)
    # are not taken as QNAM's codelists.
    new_rules = ["DX0007", "DX0008", "DX0009", "DX0010"]
    assert not sdtm_findings["rule_id"].isin(new_rules).any()
    assert not adam_findings["rule_id"].isin(new_rules[:3]).any()


def test_pilot_what_a_reviewer_checks_first(sdtm_results: RuleResults) -> None:
    """The 2012 pilot predates FDA's study start date requirement (TS has no SSTDTC); 36
    events meet a seriousness criterion with AESER = N (ae.xpt record 121: a sudden death)."""
    findings = sdtm_results.findings
    [start] = findings[findings["rule_id"] == "SD5050"].to_dict("records")
    assert (start["dataset"], start["row"]) == ("TS", None)
    serious = findings[findings["rule_id"] == "SD5054"]
    assert len(serious) == 36 and set(serious["value"]) == {"N"}
    assert serious.set_index("row").loc[121, "usubjid"] == "01-701-1211"
    assert not findings["rule_id"].isin(["SD5049", "SD5051", "SD5052", "SD5053", "SD5055"]).any()
    runs = sdtm_results.rule_runs.set_index(["rule_id", "dataset"])
    assert runs.loc[("SD5057", "AE"), "reason"] == "AE has no EPOCH"  # EPOCH came with SDTMIG 3.1.3


def test_pilot_keys_from_define_1_0_domain_keys(sdtm_results: RuleResults, adam_results: RuleResults) -> None:
    """Define-XML 1.0 lists a dataset's keys in def:DomainKeys. The pilot's CM repeats each
    medication at every visit under keys without the visit: 912 key groups, 100 listed."""
    findings = sdtm_results.findings
    keys = findings[findings["rule_id"] == "DX0011"]
    assert keys.loc[keys["dataset"] != "CM", ["dataset", "row", "usubjid"]].to_dict("records") == [
        {"dataset": "MH", "row": 289, "usubjid": "01-701-1192"},
        {"dataset": "SV", "row": 2555, "usubjid": "01-711-1143"},
    ]
    cm = keys[keys["dataset"] == "CM"]
    assert len(cm) == 101 and cm["row"].iloc[:100].notna().all() and pd.isna(cm["row"].iloc[100])
    assert cm["message"].iloc[100].startswith("812 more groups of CM records share their keys")
    assert cm["message"].iloc[0] == (
        "13 records of CM (1, 2, 3, 4, 5, ...) have the same key STUDYID=CDISCPILOT01, USUBJID=01-701-1015, "
        "CMTRT=ASPIRIN, CMSTDTC=2003; define.xml declares STUDYID, USUBJID, CMTRT, CMSTDTC as the keys of one record"
    )
    assert not adam_results.findings["rule_id"].eq("DX0011").any()


def test_rules_side_by_side_give_the_same_findings_in_the_same_order(
    sdtm_results: RuleResults, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rule runs on every core (a study this small runs them one at a time, so the threshold is
    lowered here) find what one run after another in catalogue order finds, and report the
    findings and statuses in the same order (the pilot SDTM: some 350 findings of 500-odd runs)."""
    monkeypatch.setattr(engine, "SIDE_BY_SIDE_FROM_RECORDS", 0)
    monkeypatch.setattr(engine, "WORKER_THREADS", 2)
    side_by_side = validate_folder(PILOT / "sdtm")
    assert len(sdtm_results.findings) > 300 and len(sdtm_results.rule_runs) > 500
    pd.testing.assert_frame_equal(side_by_side.findings, sdtm_results.findings)
    pd.testing.assert_frame_equal(side_by_side.rule_runs, sdtm_results.rule_runs)
