"""ADSL/ADAE as a whole: spec shape, catalogue of named derivations, and a small other study
with a patient never dosed, AEs 30 and 31 days after the last dose, and (S-3) a patient who
started pomalidomide and dexamethasone a day before isatuximab."""

from __future__ import annotations

import inspect

import pandas as pd
import pytest

from cdisc_cup.adam import CATALOGUE, derive_adam
from cdisc_cup.pipeline import ConversionResult
from cdisc_cup.spec.loader import load_study
from cdisc_cup.spec.model import DatasetSpec

STUDY = load_study()
SUBJECTS = ["S-1", "S-2"]  # S-1 dosed 20.07.-10.08.2020 (2 cycles), S-2 registered, never dosed
ARM = str(STUDY.parameters["arm"])


def _frame(columns: dict[str, list[object]]) -> pd.DataFrame:
    return pd.DataFrame(columns)


def tiny_sdtm() -> dict[str, pd.DataFrame]:
    dm = _frame(
        {
            "STUDYID": ["X"] * 2,
            "USUBJID": SUBJECTS,
            "SUBJID": ["1", "2"],
            "SITEID": ["01", "01"],
            "AGE": [74, 75],
            "AGEU": ["YEARS"] * 2,
            "SEX": ["F", "M"],
            "RACE": [pd.NA, pd.NA],
            "ARM": [ARM] * 2,
            "ACTARM": [ARM, ""],
            "RFSTDTC": ["2020-07-20", ""],
            "RFENDTC": ["2020-08-20", "2020-07-30"],
            "RFXSTDTC": ["2020-07-20", ""],
            "RFXENDTC": ["2020-08-10", ""],
            "RFICDTC": ["2020-07-14", "2020-07-15"],
            "RFPENDTC": ["2020-08-20", "2020-07-30"],
            "DTHDTC": ["", ""],
            "DTHFL": ["", ""],
        }
    )
    ex = _frame(
        {
            "USUBJID": ["S-1"] * 4,
            "EXTRT": ["ISATUXIMAB", "POMALIDOMIDE", "ISATUXIMAB", "ISATUXIMAB"],
            "EXDOSE": [10.0, 4.0, 10.0, 10.0],
            "EXDOSU": ["mg/kg", "mg", "mg/kg", "mg/kg"],
            "EXSTDTC": ["2020-07-20", "2020-07-20", "2020-07-27", "2020-08-17"],
            "EXENDTC": ["2020-07-20", "2020-08-09", "2020-07-27", "2020-08-17"],
            "VISITNUM": [101.0, 101.0, 108.0, 201.0],
        }
    )
    ae = _frame(
        {
            "STUDYID": ["X"] * 6,
            "USUBJID": ["S-1"] * 5 + ["S-2"],
            "AESEQ": [1.0, 2.0, 3.0, 4.0, 5.0, 1.0],
            "AESPID": ["1", "2", "3", "4", "5", "1"],
            "AETERM": ["t"] * 6,
            "AEDECOD": ["Nausea", "Rash", "Fatigue", "Anaemia", "Pain", "Fall"],
            "AEBODSYS": ["GI", "Skin", "General", "Blood", "General", "Injury"],
            "AESOC": ["GI", "Skin", "General", "Blood", "General", "Injury"],
            # before first dose; partial in the first-dose month; +30 days; +31 days; missing onset
            "AESTDTC": ["2020-07-18", "2020-07", "2020-09-09", "2020-09-10", "", "2020-07-20"],
            "AEENDTC": ["2020-07-19", "2020-08", "", "2020-09", "", "2020-07-21"],
            "AESER": ["Y", "N", "N", "N", "N", "N"],
            "AESDTH": ["N", "", "", "", "", ""],
            "AESLIFE": ["N", "", "", "", "", ""],
            "AESHOSP": ["Y", "", "", "", "", ""],  # the serious one: hospitalised
            "AESDISAB": ["N", "", "", "", "", ""],
            "AESCONG": ["N", "", "", "", "", ""],
            "AESMIE": ["N", "", "", "", "", ""],
            "AEOUT": ["RECOVERED/RESOLVED"] * 6,
            "AETOXGR": ["3", "1", "2", "3", "1", "2"],
            "AEREL": ["NOT RELATED", "RELATED", "", "NOT RELATED", "NOT RELATED", "NOT RELATED"],
            "AEACN": [
                "NOT APPLICABLE",
                "DRUG WITHDRAWN",
                "DOSE NOT CHANGED",
                "DOSE NOT CHANGED",
                "DOSE NOT CHANGED",
                "NOT APPLICABLE",
            ],
        }
    )
    supp = _frame(
        {
            "USUBJID": ["S-1", "S-1"],
            "IDVAR": ["AESEQ", "AESEQ"],
            "IDVARVAL": ["2", "2"],
            "QNAM": ["AESI", "AERELPOM"],
            "QVAL": ["Y", "RELATED"],
        }
    )
    ds = _frame(  # end of treatment, then end of participation (at the last contact)
        {
            "USUBJID": ["S-1", "S-2", "S-1", "S-2"],
            "DSSEQ": [2.0, 2.0, 3.0, 3.0],
            "DSTERM": ["DISEASE PROGRESSION", "OTHER REASON", "COMPLETED", "COMPLETED"],
            "DSCAT": ["DISPOSITION EVENT"] * 4,
            "DSSCAT": ["STUDY TREATMENT"] * 2 + ["STUDY PARTICIPATION"] * 2,
            "DSDECOD": ["PROGRESSIVE DISEASE", "OTHER", "COMPLETED", "COMPLETED"],
            "DSSTDTC": ["2020-08-20", "2020-07-30", "2020-09-30", "2020-07-30"],
        }
    )
    vs = _frame(
        {
            "USUBJID": ["S-1", "S-1"],
            "VSTESTCD": ["WEIGHT", "HEIGHT"],
            "VSSTRESN": [70.5, 170.0],
            "VSLOBXFL": ["Y", "Y"],
            "VSDTC": ["2020-07-14", "2020-07-14"],
        }
    )
    rs = _frame(
        {
            "USUBJID": ["S-1", "S-2"],
            "RSTESTCD": ["ECOG101"] * 2,
            "RSSTRESN": [1.0, 2.0],
            "RSLOBXFL": ["Y", ""],
            "RSDTC": ["2020-07-14", "2020-07-15"],
        }
    )
    mh = _frame({"USUBJID": SUBJECTS, "MHTERM": ["MULTIPLE MYELOMA"] * 2, "MHSTDTC": ["2013-07", "2019"]})
    sc = _frame({"USUBJID": ["S-1"], "SCTESTCD": ["NPRLINES"], "SCSTRESC": ["3"], "SCSTRESN": [3.0]})
    cm = _frame(
        {
            "USUBJID": ["S-1"],
            "CMCAT": ["PRIOR ANTI-MYELOMA THERAPY"],
            "CMTRT": ["PROTEASOME INHIBITOR"],
            "CMOCCUR": ["Y"],
        }
    )
    return {"DM": dm, "EX": ex, "AE": ae, "SUPPAE": supp, "DS": ds, "VS": vs, "RS": rs, "MH": mh, "SC": sc, "CM": cm}


def with_pd_started_a_day_before_isatuximab(sdtm: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The tiny study plus S-3: pomalidomide and dexamethasone on 19.07.2020 (cycle 1 day 1),
    isatuximab from 20.07.2020, pomalidomide to 08.08.2020; an AE on 19.07.2020, the
    regimen's day 1, and one on 18.07.2020, before any drug."""
    dm = (
        sdtm["DM"]
        .iloc[[0]]
        .assign(USUBJID="S-3", SUBJID="3", RFSTDTC="2020-07-19", RFXSTDTC="2020-07-19", RFXENDTC="2020-08-08")
    )
    ex = _frame(
        {
            "USUBJID": ["S-3"] * 4,
            "EXTRT": ["POMALIDOMIDE", "DEXAMETHASONE", "ISATUXIMAB", "ISATUXIMAB"],
            "EXDOSE": [4.0, 40.0, 10.0, 10.0],
            "EXDOSU": ["mg", "mg", "mg/kg", "mg/kg"],
            "EXSTDTC": ["2020-07-19", "2020-07-19", "2020-07-20", "2020-07-27"],
            "EXENDTC": ["2020-08-08", "2020-07-19", "2020-07-20", "2020-07-27"],
            "VISITNUM": [101.0, 101.0, 101.0, 108.0],
        }
    )
    ae = (
        sdtm["AE"]
        .iloc[[0, 1]]
        .assign(
            USUBJID="S-3", AESEQ=[1.0, 2.0], AESTDTC=["2020-07-18", "2020-07-19"], AEENDTC=["2020-07-18", "2020-07-21"]
        )
    )
    return {
        **sdtm,
        "DM": pd.concat([sdtm["DM"], dm], ignore_index=True),
        "EX": pd.concat([sdtm["EX"], ex], ignore_index=True),
        "AE": pd.concat([sdtm["AE"], ae], ignore_index=True),
    }


@pytest.fixture(scope="module")
def tiny_adam() -> dict[str, pd.DataFrame]:
    return derive_adam(STUDY, tiny_sdtm())


def _value(frame: pd.DataFrame, column: str) -> list[object]:
    values = frame[column]
    return values.astype(object).where(values.notna(), None).tolist()


def test_adsl_of_a_dosed_and_a_never_dosed_patient(tiny_adam: dict[str, pd.DataFrame]) -> None:
    adsl = tiny_adam["ADSL"].set_index("USUBJID")
    assert adsl.loc["S-1", "TRTSDT"] == pd.Timestamp("2020-07-20")
    assert adsl.loc["S-1", "TRTEDT"] == pd.Timestamp("2020-08-10")  # pomalidomide end, via RFXENDTC
    assert adsl.loc["S-1", "TRTDURD"] == 22
    assert _value(adsl, "SAFFL") == ["Y", "N"]
    assert _value(adsl, "ISACYCN") == [2, 0]
    assert _value(adsl, "AGEGR1") == ["65-74", ">=75"]
    assert _value(adsl, "WEIGHTBL") == [70.5, None]
    assert _value(adsl, "ECOGBL") == [1, None]  # S-2's ECOG is not flagged as baseline
    assert _value(adsl, "DIAGYRS") == [7, 1]
    assert _value(adsl, "PRLINES") == [3, None]
    assert _value(adsl, "EOTSTT") == ["DISCONTINUED", "DISCONTINUED"]
    assert _value(adsl, "DCTREAS") == ["PROGRESSIVE DISEASE", "OTHER"]
    assert _value(adsl, "EOPDT") == [pd.Timestamp("2020-08-20"), None]
    assert pd.isna(adsl.loc["S-2", "TRTSDT"]) and pd.isna(adsl.loc["S-2", "TRT01A"])
    assert _value(adsl, "TRT01PN") == [1, 1] and _value(adsl, "TRT01AN") == [1, None]
    assert _value(adsl, "ISASDT") == [pd.Timestamp("2020-07-20"), None]


def test_adsl_isatuximab_exposure(tiny_adam: dict[str, pd.DataFrame]) -> None:
    """S-1: isatuximab C1D1, C1D8, C2D1 (days 15 and 22 of cycle 1 missed): 30 of the 50 mg/kg
    planned up to C2D1; the 4 mg of pomalidomide is no isatuximab dose."""
    adsl = tiny_adam["ADSL"]
    assert _value(adsl, "CUMDOSE") == [30, 0]
    assert _value(adsl, "PCUMDOSE") == [50, None]
    assert _value(adsl, "RDI") == [60, None]


def test_adsl_end_of_study_and_last_known_alive(tiny_adam: dict[str, pd.DataFrame]) -> None:
    adsl = tiny_adam["ADSL"]
    assert _value(adsl, "EOSSTT") == ["COMPLETED", "COMPLETED"]  # followed to the last contact
    assert _value(adsl, "EOSDT") == [pd.Timestamp("2020-09-30"), pd.Timestamp("2020-07-30")]
    assert _value(adsl, "DCSREAS") == [None, None]
    assert _value(adsl, "EOTSTT") == ["DISCONTINUED", "DISCONTINUED"]  # treatment ended before
    # S-1: the end-of-participation record is the latest date; S-2: likewise, after its AE (21.07.)
    assert _value(adsl, "LSTALVDT") == [pd.Timestamp("2020-09-30"), pd.Timestamp("2020-07-30")]
    assert _value(adsl, "DTHCAUS") == [None, None] and _value(adsl, "DTHDOM") == [None, None]


def _died(sdtm: dict[str, pd.DataFrame], *, fatal_ae: bool) -> dict[str, pd.DataFrame]:
    """S-1 died on 15.09.2020 (DS end-of-participation DEATH), with AE 4 fatal or not."""
    sdtm["DM"].loc[0, ["DTHDTC", "DTHFL"]] = ["2020-09-15", "Y"]
    ds = sdtm["DS"]
    ds.loc[2, ["DSTERM", "DSDECOD", "DSSTDTC"]] = ["DEATH", "DEATH", "2020-09-15"]
    if fatal_ae:
        sdtm["AE"].loc[3, "AEOUT"] = "FATAL"
    return sdtm


def test_a_fatal_ae_of_a_patient_not_recorded_as_dead_is_no_cause_of_death() -> None:
    sdtm = tiny_sdtm()
    sdtm["AE"].loc[3, "AEOUT"] = "FATAL"  # S-1 alive: DM.DTHFL null, no DS death record
    adsl = derive_adam(STUDY, sdtm)["ADSL"]
    assert _value(adsl, "DTHCAUS") == [None, None] and _value(adsl, "DTHDOM") == [None, None]


@pytest.mark.parametrize(("fatal_ae", "cause", "domain"), [(True, "Anaemia", "AE"), (False, "DEATH", "DS")])
def test_cause_of_death_from_a_fatal_ae_else_from_ds(fatal_ae: bool, cause: str, domain: str) -> None:
    adsl = derive_adam(STUDY, _died(tiny_sdtm(), fatal_ae=fatal_ae))["ADSL"]
    assert _value(adsl, "DTHCAUS") == [cause, None]
    assert _value(adsl, "DTHDOM") == [domain, None]
    assert _value(adsl, "EOSSTT") == ["DISCONTINUED", "COMPLETED"]
    assert _value(adsl, "DCSREAS") == ["DEATH", None]
    # the DS death record is no date of being alive; the latest is AE 4's onset, 10.09.2020
    # (its end "2020-09" counts as 1 September)
    assert adsl.loc[0, "LSTALVDT"] == pd.Timestamp("2020-09-10")


def test_one_treatment_when_pomalidomide_and_dexamethasone_start_a_day_before_isatuximab() -> None:
    """The reviewer's case (issue #15): TRTSDT is the regimen's first day (RFXSTDTC), the AE on
    that day is treatment-emergent on day 1 of cycle 1, the AE the day before is not, and
    TRTDURD counts both ends; isatuximab's own first dose is ISASDT."""
    adam = derive_adam(STUDY, with_pd_started_a_day_before_isatuximab(tiny_sdtm()))
    adsl = adam["ADSL"].set_index("USUBJID")
    assert adsl.loc["S-3", "TRTSDT"] == pd.Timestamp("2020-07-19")  # = DM.RFXSTDTC
    assert adsl.loc["S-3", "ISASDT"] == pd.Timestamp("2020-07-20")
    assert adsl.loc["S-3", "TRTEDT"] == pd.Timestamp("2020-08-08")
    assert adsl.loc["S-3", "TRTDURD"] == 21  # 19.07. to 08.08.2020, both days counted
    assert adsl.loc["S-3", "ISACYCN"] == 1 and adsl.loc["S-3", "RDI"] == 100  # C1D1, C1D8 as planned
    adae = adam["ADAE"]
    s3 = adae[adae["USUBJID"] == "S-3"]
    assert _value(s3, "ASTDY") == [-1, 1]
    assert _value(s3, "TRTEMFL") == [None, "Y"]
    assert _value(s3, "PREFL") == ["Y", None]
    assert _value(s3, "ACYCLEN") == [None, 1] and _value(s3, "ACYCLE") == [None, "CYCLE 1"]
    assert _value(s3, "LDOSEDT") == [None, None]  # no isatuximab before the onset
    assert _value(s3, "AOCCFL") == [None, "Y"]
    # every TEAE of every subject starts on or after TRTSDT (rule AD5018) on day >= 1
    teae = adae[adae["TRTEMFL"] == "Y"]
    assert not (teae["ASTDT"] < teae["TRTSDT"]).any()
    assert (teae["ASTDY"].dropna() >= 1).all()


def test_adae_flags_and_dates(tiny_adam: dict[str, pd.DataFrame]) -> None:
    adae = tiny_adam["ADAE"]
    assert _value(adae, "USUBJID") == ["S-1"] * 5 + ["S-2"]
    assert _value(adae, "TRTEMFL") == [None, "Y", "Y", None, "Y", None]
    assert _value(adae, "PREFL") == ["Y", None, None, None, None, "Y"]
    assert adae.loc[1, "ASTDT"] == pd.Timestamp("2020-07-20") and adae.loc[1, "ASTDTF"] == "D"
    # ends 2020-08, the month in which participation ended (20.08.2020): capped there
    assert adae.loc[1, "AENDT"] == pd.Timestamp("2020-08-20") and adae.loc[1, "AENDTF"] == "D"
    assert adae.loc[3, "AENDT"] == pd.Timestamp("2020-09-30")  # no cap inside September
    assert _value(adae, "ASTDY") == [-2, 1, 52, 53, None, None]
    assert _value(adae, "ACYCLEN") == [None, 1, 2, 2, None, None]
    assert _value(adae, "AREL") == ["NOT RELATED", "RELATED", "RELATED", "NOT RELATED", "NOT RELATED", "NOT RELATED"]
    assert _value(adae, "AERELPOM") == [None, "RELATED", None, None, None, None]
    assert _value(adae, "AESIFL") == [None, "Y", None, None, None, None]
    assert _value(adae, "AEDISFL") == [None, "Y", None, None, None, None]
    assert _value(adae, "AOCCFL") == [None, "Y", None, None, None, None]
    assert _value(adae, "ATOXGRN") == [3, 1, 2, 3, 1, 2]
    # worst grade among S-1's TEAEs (grades 1, 2, 1): AE 3, also in its SOC General, where
    # AE 5 (grade 1) is not; per PT each TEAE is alone
    assert _value(adae, "AOCCIFL") == [None, None, "Y", None, None, None]
    assert _value(adae, "AOCCSIFL") == [None, "Y", "Y", None, None, None]
    assert _value(adae, "AOCCPIFL") == [None, "Y", "Y", None, "Y", None]


def test_adae_duration_last_isatuximab_dose_and_subject_variables(tiny_adam: dict[str, pd.DataFrame]) -> None:
    adae = tiny_adam["ADAE"]
    # 18.-19.07.; 20.07.-20.08. (end capped); ongoing; 10.-30.09.; unknown onset; 20.-21.07.
    assert _value(adae, "ADURN") == [2, 32, None, 21, None, 2]
    assert _value(adae, "ADURU") == ["DAYS", "DAYS", None, "DAYS", None, "DAYS"]
    # isatuximab on 20.07., 27.07., 17.08.: on the day of onset it is that day's infusion
    assert _value(adae, "LDOSEDT") == [
        None,
        pd.Timestamp("2020-07-20"),
        pd.Timestamp("2020-08-17"),
        pd.Timestamp("2020-08-17"),
        None,
        None,
    ]
    assert _value(adae, "LDOSE") == [None, 10, 10, 10, None, None]
    assert _value(adae, "TRTAN") == [1] * 5 + [None]
    assert _value(adae, "ECOGBL") == [1] * 5 + [None]


def test_end_date_is_capped_at_a_death_inside_its_month() -> None:
    sdtm = tiny_sdtm()
    sdtm["DM"].loc[0, ["DTHDTC", "DTHFL"]] = ["2020-09-15", "Y"]
    adam = derive_adam(STUDY, sdtm)
    assert adam["ADSL"].loc[0, "DTHDT"] == pd.Timestamp("2020-09-15")
    adae = adam["ADAE"]
    assert adae.loc[3, "AENDT"] == pd.Timestamp("2020-09-15") and adae.loc[3, "AENDTF"] == "D"


def _check_shape(frame: pd.DataFrame, spec: DatasetSpec) -> None:
    assert list(frame.columns) == spec.variable_names
    for variable in spec.variables:
        column = frame[variable.name]
        if variable.type == "Char":
            assert pd.api.types.is_string_dtype(column.dtype), variable.name
            lengths = column.dropna().str.len()
            assert (
                variable.length is None
                or lengths.max(skipna=True) is pd.NA
                or (lengths.empty or lengths.max() <= variable.length)
            ), variable.name
        elif variable.format and variable.format.startswith("DATE"):
            assert pd.api.types.is_datetime64_any_dtype(column.dtype), variable.name
        else:
            assert pd.api.types.is_numeric_dtype(column.dtype), variable.name


def test_tiny_study_matches_the_specs(tiny_adam: dict[str, pd.DataFrame]) -> None:
    for name, frame in tiny_adam.items():
        _check_shape(frame, STUDY.dataset(name))


def test_sample_adam_matches_the_specs(converted_sample: ConversionResult) -> None:
    assert set(converted_sample.adam) == {"ADSL", "ADAE"}
    for name, frame in converted_sample.adam.items():
        _check_shape(frame, STUDY.dataset(name))


def test_every_named_derivation_exists_and_every_variable_says_where_it_comes_from() -> None:
    for spec in STUDY.adam:
        for variable in spec.variables:
            source = variable.value or {}
            if variable.origin == "Derived":
                assert source.get("derivation") in CATALOGUE, f"{spec.name}.{variable.name}"
                assert variable.method, f"{spec.name}.{variable.name} has no method text"
                # the other keys document the options the call site passes: they must exist
                options = set(inspect.signature(CATALOGUE[source["derivation"]]).parameters)
                assert set(source) - {"derivation"} <= options, f"{spec.name}.{variable.name}"
            elif variable.origin == "Predecessor":
                dataset, _, name = source.get("predecessor", "").partition(".")
                assert dataset in {"DM", "AE", "SUPPAE", "ADSL"} and name, f"{spec.name}.{variable.name}"
            else:
                pytest.fail(f"{spec.name}.{variable.name}: origin {variable.origin}")


def test_every_derived_variable_is_made_by_a_step_of_the_derivation_it_names() -> None:
    """The define.xml method of a variable names the verb (`value: {derivation: ...}`); a step
    of the spec's chain with that verb makes the variable, so documentation and code agree."""
    for spec in STUDY.adam:
        made: dict[str, set[str]] = {}
        for step in spec.derivations:
            verb = CATALOGUE[step["derivation"]]
            defaults = {
                k: p.default
                for k, p in inspect.signature(verb).parameters.items()
                if k.startswith(("new_var", "flag_var"))
            }
            outputs = {**defaults, **{k: v for k, v in step.items() if k.startswith(("new_var", "flag_var"))}}
            names = set()
            for key, value in outputs.items():
                if key == "new_vars":
                    names |= set(value)
                elif isinstance(value, str):
                    names.add(value)
            for name in names:
                made.setdefault(name, set()).add(step["derivation"])
        for variable in spec.variables:
            if variable.origin == "Derived":
                assert variable.value["derivation"] in made.get(variable.name, set()), f"{spec.name}.{variable.name}"
