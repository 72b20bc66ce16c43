"""One treatment definition end to end (issue #15): an export whose patient 01-001 starts
pomalidomide and dexamethasone on 02.07.2020, a day before isatuximab, and has an AE that day.
Converted as a user converts it, the AE is treatment-emergent on day 1 of cycle 1 and our own
rules (AD5017 ASTDY, AD5018 TEAE before TRTSDT, CU0001 TEAE window) report no Error."""

from __future__ import annotations

import pandas as pd
import pytest

from cdisc_cup.pipeline import ConversionResult, convert
from tests.exports import ADMINISTRATIONS, ADVERSE_EVENTS, write_export

# 01-001: pomalidomide and dexamethasone on cycle 1 day 1 = 02.07.2020, isatuximab a day late
PD_FIRST = [
    ADMINISTRATIONS[0],
    "01-001;ISATUXIMAB;1;1;03.07.2020;;10;mg/kg;IV",
    "01-001;POMALIDOMIDE;1;1;02.07.2020;22.07.2020;4;mg;PO",
    "01-001;DEXAMETHASONE;1;1;02.07.2020;;40;mg;PO",
    *ADMINISTRATIONS[4:],
]
DAY_ONE_AE = (
    "01-001;3;Schwindel;Dizziness;Nervous system disorders;02.07.2020;03.07.2020;N;1;N;;;;;;;N;Y;N;NONE;RECOVERED;N"
)


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> ConversionResult:
    folder = tmp_path_factory.mktemp("pd-first")
    export = write_export(folder / "export", administrations=PD_FIRST, adverse_events=[*ADVERSE_EVENTS, DAY_ONE_AE])
    return convert(export, folder / "out")


def test_trtsdt_is_the_regimen_start_and_isasdt_the_first_infusion(converted: ConversionResult) -> None:
    dm = converted.sdtm["DM"].set_index("USUBJID")
    adsl = converted.adam["ADSL"].set_index("USUBJID")
    patient = "ISA-CUP-DE-01-001"
    assert dm.loc[patient, "RFXSTDTC"] == "2020-07-02"
    assert adsl.loc[patient, "TRTSDT"] == pd.Timestamp("2020-07-02")
    assert adsl.loc[patient, "ISASDT"] == pd.Timestamp("2020-07-03")
    assert adsl.loc[patient, "TRTEDT"] == pd.Timestamp("2020-07-22")  # pomalidomide's end
    assert adsl.loc[patient, "TRTDURD"] == 21  # 02.07. to 22.07.2020, both days counted


def test_the_ae_on_day_one_of_the_regimen_is_a_teae_of_cycle_one(converted: ConversionResult) -> None:
    adae = converted.adam["ADAE"]
    dizziness = adae[adae["AEDECOD"] == "Dizziness"].iloc[0]
    assert dizziness["TRTEMFL"] == "Y"
    assert dizziness["ASTDY"] == 1
    assert dizziness["ACYCLEN"] == 1 and dizziness["ACYCLE"] == "CYCLE 1"
    assert pd.isna(dizziness["LDOSEDT"])  # isatuximab only from the next day
    # the partial onset UN.07.2020 is imputed to the regimen's first day, not the infusion's
    nausea = adae[adae["AEDECOD"] == "Nausea"].iloc[0]
    assert nausea["ASTDT"] == pd.Timestamp("2020-07-02") and nausea["ASTDY"] == 1


def test_our_validator_reports_no_error(converted: ConversionResult) -> None:
    findings = converted.findings
    assert findings is not None
    errors = findings[findings["severity"] == "Error"]
    assert errors.to_dict("records") == []
    checked = {"AD5017", "AD5018", "CU0001"} & set(findings["rule_id"])
    assert not checked, findings[findings["rule_id"].isin(checked)].to_dict("records")
