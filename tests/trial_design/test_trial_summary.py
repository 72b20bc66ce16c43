"""TS holds the parameters FDA asks for, SSTDTC first among them, with values, null flavors and
codes as SDTMIG 3.4 section 7.4.2 says; TA, TE, TI and TV are the protocol's, within the limits
of XPT and CT."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from cdisc_cup.provenance import submission_frame
from cdisc_cup.spec.loader import load_study

# The FDA Study Data Technical Conformance Guide's TS parameters for a clinical study (its TS
# appendix, with the Data Standards Catalog's terminologies) that apply to an open, single-arm
# expanded-access program, and the SDTMIG 3.4 TS examples' design parameters.
FDA_PARAMETERS = {
    "SSTDTC", "SENDTC", "ACTSUB", "PLANSUB", "DCUTDTC", "DCUTDESC", "TITLE", "SPONSOR", "REGID",
    "STYPE", "TPHASE", "TTYPE", "TINDTP", "TBLIND", "TCNTRL", "COMPTRT", "RANDOM", "INTMODEL",
    "INTTYPE", "NARMS", "NCOHORT", "ADDON", "CURTRT", "TRT", "PCLAS", "INDIC", "TDIGRP", "THERAREA",
    "HLTSUBJI", "SEXPOP", "AGEMIN", "AGEMAX", "LENGTH", "STOPRULE", "OBJPRIM", "OUTMSPRI", "DOSE",
    "DOSU", "DOSFRQ", "ROUTE", "FCNTRY", "ADAPT", "EXTTIND", "PDSTIND", "RDIND", "SDTIGVER", "SDTMVER",
}  # fmt: skip
ISO_DATE = r"\d{4}-\d{2}-\d{2}"
ISO_DURATION = r"P(\d+Y)?(\d+M)?(\d+W)?(\d+D)?"
NULL_FLAVORS = {
    "NI",
    "INV",
    "OTH",
    "PINF",
    "NINF",
    "UNC",
    "DER",
    "UNK",
    "ASKU",
    "NAV",
    "NASK",
    "QS",
    "TRC",
    "MSK",
    "NA",
}


@pytest.fixture(scope="module")
def sdtm(converted_sample) -> dict[str, pd.DataFrame]:
    return {name: submission_frame(frame) for name, frame in converted_sample.sdtm.items()}


@pytest.fixture(scope="module")
def ts(sdtm: dict[str, pd.DataFrame]) -> pd.DataFrame:
    return sdtm["TS"]


def parameter(ts: pd.DataFrame, code: str) -> pd.Series:
    [row] = ts[ts["TSPARMCD"] == code].to_dict("records")
    return pd.Series(row)


def test_every_fda_parameter_is_there(ts: pd.DataFrame) -> None:
    assert not FDA_PARAMETERS - set(ts["TSPARMCD"]), sorted(FDA_PARAMETERS - set(ts["TSPARMCD"]))


def test_study_start_is_the_first_informed_consent(ts: pd.DataFrame, sdtm: dict[str, pd.DataFrame]) -> None:
    """FDA Technical Rejection Criterion 1734: ts.xpt with a valid SSTDTC; CDISC CT C69208: the
    earliest informed consent of an enrolled subject."""
    start = parameter(ts, "SSTDTC")
    assert re.fullmatch(ISO_DATE, start["TSVAL"]) and pd.isna(start["TSVALNF"]) and start["TSVCDREF"] == "ISO 8601"
    assert start["TSVAL"] == sdtm["DM"]["RFICDTC"].min() == "2020-07-09"
    assert parameter(ts, "SENDTC")["TSVAL"] == sdtm["DM"]["RFPENDTC"].max()
    assert parameter(ts, "ACTSUB")["TSVAL"] == str(sdtm["DM"]["USUBJID"].nunique()) == "18"


def test_a_value_or_its_null_flavor(ts: pd.DataFrame) -> None:
    """SDTMIG 3.4 TS: TSVAL is null only when TSVALNF is populated, and only then."""
    assert (ts["TSVAL"].isna() == ts["TSVALNF"].notna()).all()
    assert set(ts["TSVALNF"].dropna()) <= NULL_FLAVORS
    assert parameter(ts, "AGEMAX")["TSVALNF"] == "PINF" and parameter(ts, "AGEMIN")["TSVAL"] == "P18Y"
    durations = ts[ts["TSPARMCD"].isin(["AGEMIN", "AGEMAX", "LENGTH"])]["TSVAL"].dropna()
    assert durations.str.fullmatch(ISO_DURATION).all()


def test_parameters_and_coded_values_are_those_of_cdisc_ct(ts: pd.DataFrame) -> None:
    """TSPARM is the CT pair of TSPARMCD (CORE-000179); a CDISC CT value has its term's code
    and the study's CT package (SDTMIG 3.4 TS assumption 9), one code per value (CORE-000152)."""
    study = load_study()
    terminology = study.terminology
    codes = {t.value: t.nci_code for t in terminology.codelist("TSPARMCD").terms}
    names = {t.nci_code: t.value for t in terminology.codelist("TSPARM").terms}
    assert (ts["TSPARM"] == ts["TSPARMCD"].map(codes).map(names)).all()
    coded = ts[ts["TSVCDREF"] == "CDISC CT"]
    assert len(coded) >= 20 and (coded["TSVCDVER"] == study.standards["sdtm_ct"]).all()
    every_term = {t.value: t.nci_code for cl in terminology.codelists.values() for t in cl.terms}
    assert all(every_term.get(value) == code for value, code in zip(coded["TSVAL"], coded["TSVALCD"], strict=True))
    assert ts.dropna(subset=["TSVALCD"]).groupby("TSVAL")["TSVALCD"].nunique().max() == 1
    assert ts["TSVALCD"].notna().sum() == len(coded) + 1  # and the country, ISO 3166
    assert tuple(parameter(ts, "FCNTRY")[["TSVAL", "TSVALCD", "TSVCDREF"]]) == ("DEU", "DEU", "ISO 3166")


def test_records_are_unique_ascii_and_fit_xpt(sdtm: dict[str, pd.DataFrame]) -> None:
    """CORE-000154 (TSSEQ unique within TSPARMCD), TSPARMCD 8 and TSPARM 40 characters
    (CORE-000147/148), IETEST at most 200 (SDTMIG 3.4 TI), ASCII everywhere (XPT v5)."""
    ts = sdtm["TS"]
    assert not ts.duplicated(["TSPARMCD", "TSSEQ"]).any()
    assert ts["TSPARMCD"].str.len().max() <= 8 and ts["TSPARM"].str.len().max() <= 40
    assert sdtm["TI"]["IETEST"].str.len().max() <= 200 and sdtm["TI"]["IETESTCD"].str.len().max() <= 8
    for name in ("TS", "TA", "TE", "TV", "TI"):
        text = sdtm[name].select_dtypes(exclude="number").stack()
        assert text.dropna().astype(str).str.isascii().all(), name


def test_the_arm_and_its_elements(sdtm: dict[str, pd.DataFrame]) -> None:
    """One arm, its elements in order with their epochs (SDTMIG 3.4 TA), each element with a
    start and an end rule (CORE-000027), the arm of DM (SD5030)."""
    ta, te = sdtm["TA"], sdtm["TE"]
    assert list(ta.sort_values("TAETORD")["EPOCH"]) == ["SCREENING", "TREATMENT", "FOLLOW-UP"]
    assert set(ta["ETCD"]) == set(te["ETCD"]) and te["TESTRL"].notna().all() and te["TEENRL"].notna().all()
    assert set(sdtm["DM"]["ARMCD"]) == set(ta["ARMCD"]) and not ta.duplicated(["ARMCD", "TAETORD"]).any()
    assert parameter(sdtm["TS"], "NARMS")["TSVAL"] == str(ta["ARMCD"].nunique())


def test_the_eligibility_criteria_of_the_report(sdtm: dict[str, pd.DataFrame]) -> None:
    ti = sdtm["TI"]
    assert set(ti["IECAT"]) == {"INCLUSION"} and ti["IETESTCD"].is_unique
    text = " ".join(ti["IETEST"]).lower()
    for criterion in ("18 years", "relapsed and refractory", "lenalidomide", "proteasome inhibitor", "progression"):
        assert criterion in text
