"""The CDISC pilot study (SDTMIG 3.1.2-era SAS files): real findings, right record numbers, no rule failing."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from cdisc_cup.rules.engine import validate_folder

PILOT = Path(__file__).resolve().parents[3] / "shared" / "reference" / "cdiscpilot01"


@pytest.fixture(scope="module")
def sdtm_findings() -> pd.DataFrame:
    return validate_folder(PILOT / "sdtm").findings


@pytest.fixture(scope="module")
def adam_findings() -> pd.DataFrame:
    return validate_folder(PILOT / "adam").findings


def _crashed(findings: pd.DataFrame) -> list[dict]:
    return findings[findings["message"].str.startswith("rule could not run")].to_dict("records")


def test_no_rule_fails_on_the_pilot(sdtm_findings: pd.DataFrame, adam_findings: pd.DataFrame) -> None:
    assert _crashed(sdtm_findings) == []
    assert _crashed(adam_findings) == []


def test_pilot_study_day_error_at_the_right_record(sdtm_findings: pd.DataFrame) -> None:
    # ae.xpt record 971: 01-716-1063 starts on RFSTDTC (2013-05-09), so AESTDY is 1, not 366.
    found = sdtm_findings[sdtm_findings["rule_id"] == "SD5013"]
    assert found[["dataset", "variable", "row", "usubjid", "value"]].to_dict("records") == [
        {"dataset": "AE", "variable": "AESTDY", "row": 971, "usubjid": "01-716-1063", "value": "366"}
    ]


def test_pilot_screen_failures_have_an_arm_code_outside_ta(sdtm_findings: pd.DataFrame) -> None:
    # SDTMIG 3.1.2 put screen failures in ARMCD = "Scrnfail"; dm.xpt record 7 is 01-701-1057.
    arms = sdtm_findings[sdtm_findings["rule_id"] == "SD5030"]
    assert len(arms) == 52
    first = arms.iloc[0]
    assert (first["row"], first["usubjid"], first["value"]) == (7, "01-701-1057", "Scrnfail")
    assert len(sdtm_findings[sdtm_findings["rule_id"] == "SD5031"]) == 52


def test_pilot_datasets_have_no_labels_and_define_1_0_is_read(
    sdtm_findings: pd.DataFrame, adam_findings: pd.DataFrame
) -> None:
    # The pilot XPT files carry no dataset label; their Define-XML 1.0 has one (def:Label).
    labels = adam_findings[adam_findings["rule_id"] == "DX0005"]
    assert sorted(labels["dataset"]) == ["ADAE", "ADSL", "ADTTE"]
    assert "'Subject-Level Analysis'" in labels[labels["dataset"] == "ADSL"]["message"].iloc[0]
    assert set(sdtm_findings.loc[sdtm_findings["rule_id"] == "XP0005", "dataset"]) >= {"AE", "DM", "EX", "DS"}
    assert not sdtm_findings["rule_id"].isin(["DX0001", "DX0002", "DX0003"]).any()
