"""The CUP's derivation rules on minimal hand-built frames, through the verbs with the options
the ADSL/ADAE call sites pass (the verbs themselves: test_verbs.py)."""

from __future__ import annotations

import pandas as pd
import pytest

from cdisc_cup.adam import derivations as d
from cdisc_cup.adam.dates import complete_date, impute_date, relative_day

D = pd.Timestamp


def listed(values: pd.Series) -> list[object]:
    """Plain values with None for any missing marker, so lists compare without NA ambiguity."""
    return values.astype(object).where(values.notna(), None).tolist()


def dates(*values: str | None) -> pd.Series:
    return pd.Series(pd.to_datetime(list(values)), dtype="datetime64[s]")


def test_partial_onset_goes_to_first_dose_only_when_the_dose_is_in_its_period() -> None:
    onset = pd.Series(["2020-07", "2020-07", "2020", "2019", "2020-07-05", "", None])
    first_dose = dates("2020-07-20", "2020-08-03", "2020-07-20", "2020-07-20", "2020-07-20", "2020-07-20", "2020-07-20")
    imputed, flag = impute_date(onset, to="first", min_dates=[first_dose])
    assert imputed.tolist()[:5] == [D("2020-07-20"), D("2020-07-01"), D("2020-07-20"), D("2019-01-01"), D("2020-07-05")]
    assert imputed[5:].isna().all()
    assert flag.tolist()[:4] == ["D", "D", "M", "M"]
    assert flag[4:].isna().all()


def test_partial_end_is_the_last_day_capped_at_a_death_inside_the_period() -> None:
    end = pd.Series(["2020-10", "2020-10", "2020", "2020-02"])
    death = dates("2020-10-16", None, "2020-11-30", "2020-03-05")
    imputed, flag = impute_date(end, to="last", max_dates=[death])
    assert imputed.tolist() == [D("2020-10-16"), D("2020-10-31"), D("2020-11-30"), D("2020-02-29")]
    assert flag.tolist() == ["D", "D", "M", "D"]


def test_complete_date_ignores_partial_and_invalid_dates() -> None:
    result = complete_date(pd.Series(["2020-07-15", "2020-07", "2020-02-30", ""]))
    assert result[0] == D("2020-07-15") and result[1:].isna().all()


def test_relative_day_has_no_day_zero() -> None:
    reference = dates(*["2020-07-20"] * 3)
    assert relative_day(dates("2020-07-20", "2020-07-19", "2020-07-21"), reference).tolist() == [1, -1, 2]


def adverse_events() -> pd.DataFrame:
    """Patient A: first dose 20 Jul, last exposure 10 Aug 2020; patient B was never dosed."""
    return pd.DataFrame(
        {
            "USUBJID": ["A", "A", "A", "A", "A", "A", "B"],
            "AESEQ": [1, 2, 3, 4, 5, 6, 1],
            "ASTDT": dates("2020-07-19", "2020-07-20", "2020-09-09", "2020-09-10", None, None, "2020-07-25"),
            "AENDT": dates(None, None, None, None, None, "2020-07-10", None),
            "TRTSDT": dates(*["2020-07-20"] * 6, None),
            "TRTEDT": dates(*["2020-08-10"] * 6, None),
        }
    )


def test_trtemfl_window_of_30_days_after_the_last_dose() -> None:
    flagged = d.derive_var_trtemfl(adverse_events(), window_days=30)
    # before first dose; first dose day; +30 days; +31 days; unknown start; unknown start
    # but ended before the first dose; never dosed
    assert listed(flagged["TRTEMFL"]) == [None, "Y", "Y", None, "Y", None, None]


def test_prefl_marks_events_before_the_first_dose_and_of_undosed_patients() -> None:
    flagged = d.derive_var_prefl(adverse_events())
    assert listed(flagged["PREFL"]) == ["Y", None, None, None, None, None, "Y"]


def test_astdt_partial_onset_in_the_first_dose_month_is_treatment_emergent() -> None:
    events = pd.DataFrame(
        {
            "USUBJID": ["A", "A", "A"],
            "AESTDTC": ["2020-09", "2020-12", "2020-09-01"],
            "TRTSDT": dates(*["2020-09-21"] * 3),
            "TRTEDT": dates(*["2021-01-31"] * 3),
            "AEENDTC": [None, None, None],
            "AENDT": dates(None, None, None),
        }
    )
    onset = d.derive_vars_dt(
        events, dtc="AESTDTC", new_var="ASTDT", flag_var="ASTDTF", date_imputation="first", min_dates=["TRTSDT"]
    )
    derived = d.derive_var_trtemfl(onset, window_days=30)
    assert derived["ASTDT"].tolist() == [D("2020-09-21"), D("2020-12-01"), D("2020-09-01")]
    assert derived["ASTDTF"].tolist()[:2] == ["D", "D"] and pd.isna(derived["ASTDTF"][2])
    assert listed(derived["TRTEMFL"]) == ["Y", "Y", None]


def test_cycle_of_onset_is_the_latest_cycle_of_the_regimen_started_on_or_before_onset() -> None:
    """As the ADAE spec: cycle starts over the administrations of any study drug, then an as-of
    join; A's cycle 2 starts with pomalidomide on 16.08., a day before its infusion."""
    ex = d.derive_vars_cycle_day(
        d.derive_vars_dt(
            pd.DataFrame(
                {
                    "USUBJID": ["A"] * 4 + ["B"],
                    "EXTRT": ["ISATUXIMAB", "ISATUXIMAB", "ISATUXIMAB", "POMALIDOMIDE", "ISATUXIMAB"],
                    "EXDOSE": [10, 10, 10, 4, 0],
                    "EXSTDTC": ["2020-07-20", "2020-08-03", "2020-08-17", "2020-08-16", "2020-07-20"],
                    "VISITNUM": [101, 115, 201, 201, 101],
                }
            ),
            dtc="EXSTDTC",
            new_var="EXSTDT",
        ),
        divisor=100,
        new_var="EXCYCLE",
        new_var_day="EXCYCDAY",
    )
    cycles = d.summarise(
        ex, by_vars=["USUBJID", "EXCYCLE"], new_vars={"CYSTDT": ("EXSTDT", "min")}, filter=ex["EXDOSE"] > 0
    )
    events = pd.DataFrame(
        {
            "USUBJID": ["A", "A", "A", "A", "A", "B"],
            "ASTDT": dates("2020-07-19", "2020-07-20", "2020-08-15", "2020-08-16", "2020-08-17", "2020-07-25"),
        }
    ).set_axis([10, 11, 12, 13, 14, 15])
    derived = d.derive_vars_joined(
        events, cycles, by_vars=["USUBJID"], new_vars={"ACYCLEN": "EXCYCLE"}, join_var="ASTDT", join_var_add="CYSTDT"
    )
    derived = d.derive_var_formatted(derived, source="ACYCLEN", new_var="ACYCLE", template="CYCLE {}")
    assert listed(derived["ACYCLEN"]) == [None, 1, 1, 2, 2, None]  # B's only record has no dose
    assert listed(derived["ACYCLE"]) == [None, "CYCLE 1", "CYCLE 1", "CYCLE 2", "CYCLE 2", None]
    assert list(derived.index) == [10, 11, 12, 13, 14, 15]
    assert listed(ex["EXCYCDAY"]) == [1, 15, 1, 1, 1]


def test_first_occurrence_flags_follow_onset_then_sequence_among_teaes() -> None:
    events = pd.DataFrame(
        {
            "USUBJID": ["A", "A", "A", "A"],
            "AESEQ": [1, 2, 3, 4],
            "AEBODSYS": ["SOC1", "SOC1", "SOC1", "SOC2"],
            "AEDECOD": ["PT1", "PT1", "PT2", "PT3"],
            "ASTDT": dates("2020-07-01", "2020-07-25", "2020-07-25", "2020-07-24"),
            "TRTEMFL": [None, "Y", "Y", "Y"],
        }
    )

    def first_teae(by_vars: list[str], new_var: str) -> pd.DataFrame:
        return d.derive_var_extreme_flag(
            events, by_vars=["USUBJID", *by_vars], order=["ASTDT", "AESEQ"], new_var=new_var, filter={"TRTEMFL": "Y"}
        )

    subject = first_teae([], "AOCCFL")
    term = first_teae(["AEBODSYS", "AEDECOD"], "AOCCPFL")
    soc = first_teae(["AEBODSYS"], "AOCCSFL")
    assert listed(subject["AOCCFL"]) == [None, None, None, "Y"]
    assert listed(term["AOCCPFL"]) == [None, "Y", "Y", "Y"]
    assert listed(soc["AOCCSFL"]) == [None, "Y", None, "Y"]


def test_agegr1_boundaries() -> None:
    derived = d.derive_vars_group(
        pd.DataFrame({"AGE": [64, 65, 74, 75, None]}),
        source="AGE",
        breaks=(65, 75),
        labels=("<65", "65-74", ">=75"),
        new_var="AGEGR1",
        new_var_n="AGEGR1N",
    )
    assert listed(derived["AGEGR1"]) == ["<65", "65-74", "65-74", ">=75", None]
    assert listed(derived["AGEGR1N"]) == [1, 2, 2, 3, None]


def test_diagnosis_years_use_the_earliest_date_of_a_partial_diagnosis() -> None:
    subjects = pd.DataFrame({"USUBJID": ["A", "B", "C"], "RFICDTC": ["2020-07-14", "2020-07-14", "2020-07-14"]})
    mh = pd.DataFrame(
        {
            "USUBJID": ["A", "B", "C"],
            "MHCAT": ["PRIMARY DIAGNOSIS"] * 3,
            "MHSTDTC": ["2013-07", "2013", "2013-07-15"],
        }
    )
    mh = d.derive_vars_dt(mh, dtc="MHSTDTC", new_var="MHSTDT", flag_var="MHSTDTF", date_imputation="first")
    derived = d.derive_vars_merged(
        subjects,
        mh,
        by_vars=["USUBJID"],
        new_vars={"DIAGDT": "MHSTDT", "DIAGDTF": "MHSTDTF"},
        filter_add={"MHCAT": "PRIMARY DIAGNOSIS"},
        order=["MHSTDT"],
        mode="first",
    )
    derived = d.derive_vars_dt(derived, dtc="RFICDTC", new_var="RFICDT")
    derived = d.derive_vars_duration(
        derived, new_var="DIAGYRS", start_date="DIAGDT", end_date="RFICDT", out_unit="years", add_one=False
    )
    assert derived["DIAGDT"].tolist() == [D("2013-07-01"), D("2013-01-01"), D("2013-07-15")]
    assert derived["DIAGDTF"].tolist()[:2] == ["D", "M"]
    assert derived["DIAGYRS"].tolist() == [7, 7, 6]


def test_a_missing_column_is_named_with_its_option() -> None:
    with pytest.raises(d.DerivationInputError, match="start_date='ONSET'"):
        d.derive_var_trtemfl(adverse_events(), start_date="ONSET")


def test_suppqual_qualifiers_become_columns_on_their_parent_record() -> None:
    ae = pd.DataFrame({"USUBJID": ["A", "A", "B"], "AESEQ": [1.0, 2.0, 1.0]})
    supp = pd.DataFrame(
        {
            "USUBJID": ["A", "A", "B"],
            "IDVAR": ["AESEQ"] * 3,
            "IDVARVAL": ["2", "1", "1"],
            "QNAM": ["AERELPOM", "AESI", "AERELPOM"],
            "QVAL": ["RELATED", "Y", "NOT RELATED"],
        }
    )
    merged = d.derive_vars_suppqual(ae, supp, qnams=["AERELPOM", "AERELDEX", "AESI"])
    assert listed(merged["AERELPOM"]) == [None, "RELATED", "NOT RELATED"]
    assert listed(merged["AESI"]) == ["Y", None, None]
    assert merged["AERELDEX"].isna().all()


def test_imputed_onset_never_after_a_complete_end() -> None:
    """UN.01.2021 ending 05.01.2021 with the first dose on 08.01.2021 is pre-treatment."""
    frame = pd.DataFrame(
        {
            "AESTDTC": pd.Series(["2021-01", "2021-01"], dtype="string"),
            "AEENDTC": pd.Series(["2021-01-05", "2021-01-20"], dtype="string"),
            "TRTSDT": pd.to_datetime(["2021-01-08", "2021-01-08"]),
        }
    )
    frame = d.derive_vars_dt(frame, dtc="AEENDTC", new_var="AEENDTCD")
    result = d.derive_vars_dt(
        frame,
        dtc="AESTDTC",
        new_var="ASTDT",
        flag_var="ASTDTF",
        date_imputation="first",
        min_dates=["TRTSDT"],
        not_after=["AEENDTCD"],
    )
    assert result["ASTDT"].dt.strftime("%Y-%m-%d").tolist() == ["2021-01-05", "2021-01-08"]
    assert result["ASTDTF"].tolist() == ["D", "D"]
