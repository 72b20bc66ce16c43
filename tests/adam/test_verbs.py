"""The generic ADaM verbs on small real frames: filter, order, first/last, several by
variables, missing values, and the error naming the option whose column is missing."""

from __future__ import annotations

import inspect

import pandas as pd
import pytest

from cdisc_cup.adam import derivations as d

D = pd.Timestamp


def listed(values: pd.Series) -> list[object]:
    """Plain values with None for any missing marker, so lists compare without NA ambiguity."""
    return values.astype(object).where(values.notna(), None).tolist()


def dates(*values: str | None) -> pd.DatetimeIndex:
    """Day dates as an array (no index of its own, so frames with any index take it as is)."""
    return pd.DatetimeIndex(pd.to_datetime(list(values))).astype("datetime64[s]")


def subjects() -> pd.DataFrame:
    """Three subjects of two studies; the index is not 0..n-1 and must survive."""
    return pd.DataFrame(
        {"STUDYID": ["S1", "S1", "S2"], "USUBJID": ["A", "B", "A"], "AGE": [60, 70, 80]}, index=[10, 20, 30]
    )


def exposures() -> pd.DataFrame:
    """EX-like records: subject S1/A dosed twice with drug X and once with Y, S1/B only a zero
    dose, S2/A (the same USUBJID in another study) once; S1/A has one record without a date."""
    return pd.DataFrame(
        {
            "STUDYID": ["S1", "S1", "S1", "S1", "S1", "S2"],
            "USUBJID": ["A", "A", "A", "A", "B", "A"],
            "EXTRT": ["X", "X", "Y", "X", "X", "X"],
            "EXDOSE": [10.0, 10.0, 4.0, 10.0, 0.0, 10.0],
            "EXSTDT": dates("2020-07-27", "2020-07-20", "2020-07-01", None, "2020-07-21", "2020-08-01"),
            "EXCYCLE": pd.array([1, 1, 1, 2, 1, 1], dtype="Int64"),
        }
    )


BY = ["STUDYID", "USUBJID"]


# --- derive_vars_merged -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("first", [D("2020-07-20"), D("2020-07-21"), D("2020-08-01")]),
        ("last", [None, D("2020-07-21"), D("2020-08-01")]),  # S1/A's undated X record sorts last
    ],
)
def test_merged_first_or_last_in_order_among_the_filtered(mode: str, expected: list[object]) -> None:
    merged = d.derive_vars_merged(
        subjects(),
        exposures(),
        by_vars=BY,
        new_vars={"TRTSDT": "EXSTDT"},
        filter_add={"EXTRT": "X"},
        order=["EXSTDT"],
        mode=mode,  # type: ignore[arg-type]
    )
    assert listed(merged["TRTSDT"]) == expected


def test_merged_order_descending_with_desc() -> None:
    """desc(): the highest dose first, ties by date; an undated record still sorts last."""
    merged = d.derive_vars_merged(
        subjects(),
        exposures(),
        by_vars=BY,
        new_vars={"TOPDT": "EXSTDT", "TOPDOSE": "EXDOSE"},
        order=[d.desc("EXDOSE"), "EXSTDT"],
        mode="first",
    )
    assert listed(merged["TOPDOSE"]) == [10.0, 0.0, 10.0]
    assert listed(merged["TOPDT"]) == [D("2020-07-20"), D("2020-07-21"), D("2020-08-01")]


def test_merged_filter_as_a_mask_and_as_a_function() -> None:
    ex = exposures()
    dosed = ex["EXDOSE"] > 0
    as_mask = d.derive_vars_merged(
        subjects(), ex, by_vars=BY, new_vars={"TRTSDT": "EXSTDT"}, filter_add=dosed, order=["EXSTDT"], mode="first"
    )
    as_function = d.derive_vars_merged(
        subjects(),
        ex,
        by_vars=BY,
        new_vars={"TRTSDT": "EXSTDT"},
        filter_add=lambda frame: frame["EXDOSE"] > 0,
        order=["EXSTDT"],
        mode="first",
    )
    assert listed(as_mask["TRTSDT"]) == [D("2020-07-01"), None, D("2020-08-01")]
    pd.testing.assert_frame_equal(as_mask, as_function)


def test_merged_keeps_record_order_index_and_input() -> None:
    dataset, ex = subjects(), exposures()
    before = dataset.copy()
    merged = d.derive_vars_merged(
        dataset, ex, by_vars=BY, new_vars={"FIRSTDRUG": "EXTRT"}, order=["EXSTDT"], mode="first"
    )
    assert list(merged.index) == [10, 20, 30]
    assert listed(merged["FIRSTDRUG"]) == ["Y", "X", "X"]
    pd.testing.assert_frame_equal(dataset, before)


def test_merged_several_by_variables_do_not_mix_studies() -> None:
    merged = d.derive_vars_merged(
        subjects(), exposures(), by_vars=["USUBJID"], new_vars={"FIRST": "EXSTDT"}, order=["EXSTDT"], mode="first"
    )
    by_study = d.derive_vars_merged(
        subjects(), exposures(), by_vars=BY, new_vars={"FIRST": "EXSTDT"}, order=["EXSTDT"], mode="first"
    )
    assert listed(merged["FIRST"]) == [D("2020-07-01"), D("2020-07-21"), D("2020-07-01")]
    assert listed(by_study["FIRST"]) == [D("2020-07-01"), D("2020-07-21"), D("2020-08-01")]


def test_merged_without_order_takes_the_records_own_order() -> None:
    findings = pd.DataFrame({"USUBJID": ["A", "A", "B"], "TESTCD": ["W", "W", "W"], "STRESN": [70.0, 71.0, 80.0]})
    frame = pd.DataFrame({"USUBJID": ["A", "B"]})
    first = d.derive_vars_merged(frame, findings, by_vars=["USUBJID"], new_vars={"W": "STRESN"}, mode="first")
    last = d.derive_vars_merged(frame, findings, by_vars=["USUBJID"], new_vars={"W": "STRESN"}, mode="last")
    assert listed(first["W"]) == [70.0, 80.0]
    assert listed(last["W"]) == [71.0, 80.0]


def test_merged_missing_values_only_for_records_without_a_match() -> None:
    ds = pd.DataFrame({"USUBJID": ["A", "B"], "STATUS": ["COMPLETED", None], "DSCAT": ["EOT", "EOT"]})
    frame = pd.DataFrame({"USUBJID": ["A", "B", "C"]})
    merged = d.derive_vars_merged(
        frame,
        ds,
        by_vars=["USUBJID"],
        new_vars={"EOTSTT": "STATUS", "EOSSTT": "STATUS"},
        filter_add={"DSCAT": "EOT"},
        missing_values={"EOTSTT": "ONGOING"},
    )
    assert listed(merged["EOTSTT"]) == ["COMPLETED", None, "ONGOING"]  # B matched, its status is null
    assert listed(merged["EOSSTT"]) == ["COMPLETED", None, None]


def test_merged_condition_mapping_text_values_and_lists() -> None:
    sc = pd.DataFrame(
        {"USUBJID": ["A", "A", "B"], "SCTESTCD": ["PRIORPI ", "NPRLINES", ""], "SCSTRESC": ["Y", "3", "N"]}
    )
    frame = pd.DataFrame({"USUBJID": ["A", "B"]})
    trimmed = d.derive_vars_merged(
        frame, sc, by_vars=["USUBJID"], new_vars={"PRPIFL": "SCSTRESC"}, filter_add={"SCTESTCD": "PRIORPI"}
    )
    either = d.derive_vars_merged(
        frame,
        sc,
        by_vars=["USUBJID"],
        new_vars={"ANY": "SCSTRESC"},
        filter_add={"SCTESTCD": ["PRIORPI", "NPRLINES"]},
        mode="last",
    )
    assert listed(trimmed["PRPIFL"]) == ["Y", None]  # padding ignored, a blank is missing
    assert listed(either["ANY"]) == ["3", None]


def test_merged_several_records_without_mode_is_an_error() -> None:
    with pytest.raises(d.DerivationInputError, match="several records per by_vars"):
        d.derive_vars_merged(subjects(), exposures(), by_vars=BY, new_vars={"TRTSDT": "EXSTDT"})


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"by_vars": ["STUDYID", "SUBJID"], "new_vars": {"T": "EXSTDT"}}, "by_vars='SUBJID'"),
        ({"by_vars": BY, "new_vars": {"T": "EXENDT"}}, "new_vars='EXENDT'"),
        ({"by_vars": BY, "new_vars": {"T": "EXSTDT"}, "order": ["EXSEQ"], "mode": "first"}, "order='EXSEQ'"),
        (
            {"by_vars": BY, "new_vars": {"T": "EXSTDT"}, "filter_add": {"EXCAT": "X"}, "mode": "first"},
            "filter_add='EXCAT'",
        ),
    ],
)
def test_merged_missing_column_is_named_with_its_option(options: dict[str, object], message: str) -> None:
    with pytest.raises(d.DerivationInputError, match=message):
        d.derive_vars_merged(subjects(), exposures(), **options)  # type: ignore[arg-type]


def test_merged_refuses_to_overwrite_and_unknown_missing_values() -> None:
    with pytest.raises(d.DerivationInputError, match="already has new_vars"):
        d.derive_vars_merged(subjects(), exposures(), by_vars=BY, new_vars={"AGE": "EXDOSE"}, mode="first")
    with pytest.raises(d.DerivationInputError, match="missing_values"):
        d.derive_vars_merged(
            subjects(), exposures(), by_vars=BY, new_vars={"T": "EXSTDT"}, mode="first", missing_values={"U": 0}
        )


def test_filter_mask_on_another_index_is_an_error() -> None:
    with pytest.raises(d.DerivationInputError, match="filter_add must be a boolean Series"):
        d.derive_vars_merged(
            subjects(), exposures(), by_vars=BY, new_vars={"T": "EXSTDT"}, filter_add=pd.Series([True]), mode="first"
        )


# --- derive_var_merged_exist_flag ----------------------------------------------------------------


def test_exist_flag_true_false_and_missing_values() -> None:
    frame = pd.concat([subjects(), pd.DataFrame({"STUDYID": ["S1"], "USUBJID": ["C"], "AGE": [50]}, index=[40])])
    default = d.derive_var_merged_exist_flag(
        frame, exposures(), by_vars=BY, new_var="SAFFL", condition=lambda ex: ex["EXDOSE"] > 0
    )
    yes_no = d.derive_var_merged_exist_flag(
        frame,
        exposures(),
        by_vars=BY,
        new_var="SAFFL",
        condition=lambda ex: ex["EXDOSE"] > 0,
        false_value="N",
        missing_value="U",
    )
    assert listed(default["SAFFL"]) == ["Y", None, "Y", None]
    assert listed(yes_no["SAFFL"]) == ["Y", "N", "Y", "U"]  # B: only a zero dose; C: no EX record
    assert list(yes_no.index) == [10, 20, 30, 40]


def test_exist_flag_filter_add_limits_the_records_looked_at() -> None:
    flagged = d.derive_var_merged_exist_flag(
        subjects(),
        exposures(),
        by_vars=BY,
        new_var="YFL",
        condition={"EXTRT": "Y"},
        filter_add=lambda ex: ex["EXDOSE"] > 0,
        false_value="N",
        missing_value="-",
    )
    assert listed(flagged["YFL"]) == ["Y", "-", "N"]


def test_exist_flag_names_its_missing_option() -> None:
    with pytest.raises(d.DerivationInputError, match="condition='EXROUTE'"):
        d.derive_var_merged_exist_flag(subjects(), exposures(), by_vars=BY, new_var="F", condition={"EXROUTE": "IV"})


# --- summaries ------------------------------------------------------------------------------------


def test_merged_summary_count_min_max_nunique_with_missing_values() -> None:
    merged = d.derive_vars_merged_summary(
        subjects(),
        exposures(),
        by_vars=BY,
        new_vars={
            "NREC": ("EXSTDT", "count"),
            "FIRST": ("EXSTDT", "min"),
            "LAST": ("EXSTDT", "max"),
            "NCYC": ("EXCYCLE", "nunique"),
        },
        filter_add=lambda ex: ex["EXDOSE"] > 0,
        missing_values={"NCYC": 0, "NREC": 0},
    )
    assert listed(merged["NREC"]) == [3, 0, 1]  # the record without a date is not counted
    assert listed(merged["FIRST"]) == [D("2020-07-01"), None, D("2020-08-01")]
    assert listed(merged["LAST"]) == [D("2020-07-27"), None, D("2020-08-01")]
    assert listed(merged["NCYC"]) == [2, 0, 1]


def test_summarise_one_record_per_group_and_unknown_function() -> None:
    cycles = d.summarise(
        exposures(), by_vars=[*BY, "EXCYCLE"], new_vars={"CYSTDT": ("EXSTDT", "min")}, filter={"EXTRT": "X"}
    )
    assert cycles[["STUDYID", "USUBJID", "EXCYCLE"]].values.tolist() == [
        ["S1", "A", 1],
        ["S1", "A", 2],
        ["S1", "B", 1],
        ["S2", "A", 1],
    ]
    assert listed(cycles["CYSTDT"]) == [D("2020-07-20"), None, D("2020-07-21"), D("2020-08-01")]
    with pytest.raises(d.DerivationInputError, match="median"):
        d.summarise(exposures(), by_vars=BY, new_vars={"M": ("EXDOSE", "median")})
    with pytest.raises(d.DerivationInputError, match="new_vars='EXENDT'"):
        d.summarise(exposures(), by_vars=BY, new_vars={"M": ("EXENDT", "max")})


# --- derive_vars_extreme_event -------------------------------------------------------------------


def test_extreme_event_ranks_events_then_records() -> None:
    """A cause-of-death pattern: event 1 (a fatal AE) wins over event 2 (a DS record); within
    an event the order variable decides; a subject without any candidate gets missing_values."""
    ae = pd.DataFrame(
        {"STUDYID": ["S1", "S1", "S1"], "USUBJID": ["A", "A", "B"], "AESEQ": [2, 1, 1], "AEOUT": ["FATAL"] * 2 + [""]}
    ).assign(AEDECOD=["Sepsis", "Myeloma", "Fall"])
    ds = pd.DataFrame({"STUDYID": ["S1", "S1"], "USUBJID": ["A", "B"], "DSSEQ": [3, 3], "DSTERM": ["DEATH", "DEATH"]})
    events = [
        d.Event(ae, {"CAUSE": "AEDECOD", "SEQ": "AESEQ"}, condition={"AEOUT": "FATAL"}, constants={"DOM": "AE"}),
        d.Event(ds, {"CAUSE": "DSTERM", "SEQ": "DSSEQ"}, constants={"DOM": "DS"}),
    ]
    derived = d.derive_vars_extreme_event(
        subjects(),
        by_vars=BY,
        events=events,
        new_vars=["CAUSE", "DOM"],
        order=["EVENTNR", "SEQ"],
        mode="first",
        missing_values={"DOM": "NONE"},
    )
    assert listed(derived["CAUSE"]) == ["Myeloma", "DEATH", None]  # A: lowest AESEQ; B: no fatal AE
    assert listed(derived["DOM"]) == ["AE", "DS", "NONE"]
    assert "SEQ" not in derived.columns and "EVENTNR" not in derived.columns
    assert list(derived.index) == [10, 20, 30]


def test_extreme_event_latest_date_over_sources_and_its_errors() -> None:
    """A last-known-alive pattern: the latest date of any event, mode last."""
    starts = exposures().rename(columns={"EXSTDT": "DT"})
    later = pd.DataFrame({"STUDYID": ["S1"], "USUBJID": ["B"], "DT": dates("2020-09-30")})
    # the undated EX record is no candidate
    events = [
        d.Event(starts, {"LAST": "DT"}, condition=lambda frame: frame["DT"].notna()),
        d.Event(later, {"LAST": "DT"}),
    ]
    derived = d.derive_vars_extreme_event(
        subjects(), by_vars=BY, events=events, new_vars=["LAST"], order=["LAST"], mode="last"
    )
    assert listed(derived["LAST"]) == [D("2020-07-27"), D("2020-09-30"), D("2020-08-01")]
    with pytest.raises(d.DerivationInputError, match=r"events\[1\] sets no value for new_vars \['OTHER'\]"):
        d.derive_vars_extreme_event(
            subjects(),
            by_vars=BY,
            events=[d.Event(starts, {"LAST": "DT", "OTHER": "DT"}), d.Event(later, {"LAST": "DT"})],
            new_vars=["LAST", "OTHER"],
            order=["LAST"],
            mode="last",
        )
    with pytest.raises(d.DerivationInputError, match="events is empty"):
        d.derive_vars_extreme_event(subjects(), by_vars=BY, events=[], new_vars=["LAST"], order=["LAST"], mode="last")
    with pytest.raises(d.DerivationInputError, match="set_values_to='EXENDT'"):
        d.derive_vars_extreme_event(
            subjects(),
            by_vars=BY,
            events=[d.Event(starts, {"LAST": "EXENDT"})],
            new_vars=["LAST"],
            order=[],
            mode="last",
        )


# --- derive_vars_joined ---------------------------------------------------------------------------


def cycle_starts() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "STUDYID": ["S1", "S1", "S1", "S2"],
            "USUBJID": ["A", "A", "A", "A"],
            "CYCLE": pd.array([1, 2, 3, 1], dtype="Int64"),
            "CYSTDT": dates("2020-07-20", "2020-08-17", None, "2020-07-01"),
        }
    )


def events() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "STUDYID": ["S1", "S1", "S1", "S1", "S2", "S1"],
            "USUBJID": ["A", "A", "A", "A", "A", "B"],
            "ASTDT": dates("2020-07-19", "2020-07-20", "2020-08-16", None, "2020-07-25", "2020-07-25"),
        },
        index=[5, 4, 3, 2, 1, 0],
    )


def test_joined_last_record_on_or_before_and_first_on_or_after() -> None:
    last = d.derive_vars_joined(
        events(), cycle_starts(), by_vars=BY, new_vars={"ACYCLEN": "CYCLE"}, join_var="ASTDT", join_var_add="CYSTDT"
    )
    first = d.derive_vars_joined(
        events(),
        cycle_starts(),
        by_vars=BY,
        new_vars={"NEXTCYC": "CYCLE"},
        join_var="ASTDT",
        join_var_add="CYSTDT",
        mode="first",
    )
    assert listed(last["ACYCLEN"]) == [None, 1, 1, None, 1, None]
    assert listed(first["NEXTCYC"]) == [1, 1, 2, None, None, None]
    assert list(last.index) == [5, 4, 3, 2, 1, 0]
    assert str(last["ACYCLEN"].dtype) == "Int64"


def test_joined_filter_add_and_missing_column() -> None:
    joined = d.derive_vars_joined(
        events(),
        cycle_starts(),
        by_vars=BY,
        new_vars={"ACYCLEN": "CYCLE"},
        join_var="ASTDT",
        join_var_add="CYSTDT",
        filter_add=lambda cycles: cycles["CYCLE"] > 1,
    )
    assert listed(joined["ACYCLEN"]) == [None, None, None, None, None, None]
    with pytest.raises(d.DerivationInputError, match="join_var_add='CYENDT'"):
        d.derive_vars_joined(
            events(), cycle_starts(), by_vars=BY, new_vars=["CYCLE"], join_var="ASTDT", join_var_add="CYENDT"
        )


# --- derive_var_extreme_flag ----------------------------------------------------------------------


def adverse_events() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "USUBJID": ["A", "A", "A", "A", "A", "B"],
            "AESEQ": [1, 2, 3, 4, 5, 1],
            "AEBODSYS": ["SOC1", "SOC1", "SOC1", "SOC2", "SOC2", "SOC1"],
            "AEDECOD": ["PT1", "PT1", "PT2", "PT3", "PT3", "PT1"],
            "ASTDT": dates("2020-07-01", "2020-07-25", "2020-07-25", None, "2020-07-24", "2020-07-02"),
            "TRTEMFL": [None, "Y", "Y", "Y", "Y", "Y"],
        },
        index=[9, 8, 7, 6, 5, 4],
    )


@pytest.mark.parametrize(
    ("by_vars", "mode", "expected"),
    [
        (["USUBJID"], "first", [None, None, None, None, "Y", "Y"]),
        (["USUBJID"], "last", [None, None, None, "Y", None, "Y"]),  # a missing ASTDT sorts last
        (["USUBJID", "AEBODSYS"], "first", [None, "Y", None, None, "Y", "Y"]),
        (["USUBJID", "AEBODSYS", "AEDECOD"], "first", [None, "Y", "Y", None, "Y", "Y"]),
        (["USUBJID", "AEBODSYS"], "last", [None, None, "Y", "Y", None, "Y"]),  # tie on ASTDT: AESEQ decides
    ],
)
def test_extreme_flag_first_or_last_per_by_group_among_the_filtered(
    by_vars: list[str], mode: str, expected: list[object]
) -> None:
    flagged = d.derive_var_extreme_flag(
        adverse_events(),
        by_vars=by_vars,
        order=["ASTDT", "AESEQ"],
        new_var="FL",
        mode=mode,  # type: ignore[arg-type]
        filter={"TRTEMFL": "Y"},
    )
    assert listed(flagged["FL"]) == expected
    assert list(flagged.index) == [9, 8, 7, 6, 5, 4]


def test_extreme_flag_worst_grade_first_with_desc() -> None:
    """AOCCIFL-like: the highest grade per subject, the earliest of equal grades; a missing
    grade sorts last, so it is flagged only when no record has a grade."""
    events = adverse_events().assign(ATOXGRN=[3.0, 2.0, 3.0, None, 3.0, None])
    flagged = d.derive_var_extreme_flag(
        events,
        by_vars=["USUBJID"],
        order=[d.desc("ATOXGRN"), "ASTDT", "AESEQ"],
        new_var="AOCCIFL",
        filter={"TRTEMFL": "Y"},
    )
    # A's TEAEs: grade 2 (25.07.), 3 (25.07.), missing, 3 (24.07.): the grade-3 event of 24.07.
    assert listed(flagged["AOCCIFL"]) == [None, None, None, None, "Y", "Y"]


def test_extreme_flag_false_value_inside_the_filter_only_and_no_filter() -> None:
    flagged = d.derive_var_extreme_flag(
        adverse_events(),
        by_vars=["USUBJID"],
        order=["ASTDT"],
        new_var="FL",
        filter={"TRTEMFL": "Y"},
        false_value="N",
    )
    everything = d.derive_var_extreme_flag(adverse_events(), by_vars=["USUBJID"], order=["ASTDT"], new_var="FL")
    assert listed(flagged["FL"]) == [None, "N", "N", "N", "Y", "Y"]
    assert listed(everything["FL"]) == ["Y", None, None, None, None, "Y"]


def test_extreme_flag_names_its_missing_option() -> None:
    with pytest.raises(d.DerivationInputError, match="order='ASTDTM'"):
        d.derive_var_extreme_flag(adverse_events(), by_vars=["USUBJID"], order=["ASTDTM"], new_var="FL")
    with pytest.raises(d.DerivationInputError, match="filter='AOCCFL'"):
        d.derive_var_extreme_flag(
            adverse_events(), by_vars=["USUBJID"], order=["ASTDT"], new_var="FL", filter={"AOCCFL": "Y"}
        )


# --- dates ----------------------------------------------------------------------------------------


def test_dt_complete_only_without_imputation() -> None:
    frame = pd.DataFrame({"DTHDTC": ["2020-10-16", "2020-10", "", None]})
    derived = d.derive_vars_dt(frame, dtc="DTHDTC", new_var="DTHDT", flag_var="DTHDTF")
    assert listed(derived["DTHDT"]) == [D("2020-10-16"), None, None, None]
    assert derived["DTHDTF"].isna().all()


def test_dt_min_dates_only_inside_the_period() -> None:
    frame = pd.DataFrame(
        {
            "AESTDTC": ["2020-07", "2020-07", "2020", "2020-07-05", None],
            "TRTSDT": dates("2020-07-20", "2020-08-03", "2020-07-20", "2020-07-20", "2020-07-20"),
        }
    )
    derived = d.derive_vars_dt(
        frame, dtc="AESTDTC", new_var="ASTDT", flag_var="ASTDTF", date_imputation="first", min_dates=["TRTSDT"]
    )
    assert listed(derived["ASTDT"]) == [D("2020-07-20"), D("2020-07-01"), D("2020-07-20"), D("2020-07-05"), None]
    assert listed(derived["ASTDTF"]) == ["D", "D", "M", None, None]


def test_dt_max_dates_only_inside_the_period() -> None:
    frame = pd.DataFrame(
        {
            "AEENDTC": ["2020-10", "2020-10", "2020"],
            "DTHDT": dates("2020-10-16", "2020-09-15", None),
            "RFPENDT": dates(None, None, "2020-11-30"),
        }
    )
    derived = d.derive_vars_dt(
        frame, dtc="AEENDTC", new_var="AENDT", date_imputation="last", max_dates=["DTHDT", "RFPENDT"]
    )
    # a death before the period does not move the end (admiral's max_dates)
    assert listed(derived["AENDT"]) == [D("2020-10-16"), D("2020-10-31"), D("2020-11-30")]
    assert "AENDTF" not in derived.columns


def test_dt_not_after_a_date_even_before_the_period() -> None:
    frame = pd.DataFrame(
        {
            "AESTDTC": ["2021-01", "2021-01", "2021-01", "2021-01-25"],
            "TRTSDT": dates(*["2021-01-08"] * 4),
            "AEENDT": dates("2021-01-05", "2020-12-20", "2021-01-20", "2021-01-20"),
        }
    )
    derived = d.derive_vars_dt(
        frame,
        dtc="AESTDTC",
        new_var="ASTDT",
        date_imputation="first",
        min_dates=["TRTSDT"],
        not_after=["AEENDT"],
    )
    # the end inside the period caps; an end before the period gives its first day; a
    # complete onset is never changed
    assert listed(derived["ASTDT"]) == [D("2021-01-05"), D("2021-01-01"), D("2021-01-08"), D("2021-01-25")]


def test_dt_names_its_missing_option() -> None:
    frame = pd.DataFrame({"AESTDTC": ["2020"]})
    with pytest.raises(d.DerivationInputError, match="min_dates='TRTSDT'"):
        d.derive_vars_dt(frame, dtc="AESTDTC", new_var="ASTDT", date_imputation="first", min_dates=["TRTSDT"])


def test_duration_in_days_and_completed_years() -> None:
    frame = pd.DataFrame(
        {"START": dates("2013-07-01", "2020-07-20", None), "END": dates("2020-07-14", "2020-08-10", "2020-08-10")}
    )
    years = d.derive_vars_duration(
        frame, new_var="YRS", start_date="START", end_date="END", out_unit="years", add_one=False
    )
    days = d.derive_var_trtdurd(frame, start_date="START", end_date="END", new_var="DUR")
    assert listed(years["YRS"]) == [7, 0, None]
    assert listed(days["DUR"]) == [2571, 22, None]
    with pytest.raises(d.DerivationInputError, match="end_date='TRTEDT'"):
        d.derive_var_trtdurd(frame, start_date="START")


def test_duration_unit_only_where_the_duration_is_known() -> None:
    frame = pd.DataFrame({"ASTDT": dates("2020-07-20", "2020-07-20", None), "AENDT": dates("2020-07-20", None, None)})
    derived = d.derive_vars_duration(frame, new_var="ADURN", new_var_unit="ADURU", start_date="ASTDT", end_date="AENDT")
    assert listed(derived["ADURN"]) == [1, None, None]
    assert listed(derived["ADURU"]) == ["DAYS", None, None]


# --- values from the record's own variables -------------------------------------------------------


def test_group_left_closed_intervals_and_codes() -> None:
    frame = pd.DataFrame({"AGE": pd.array([64, 65, 74, 75, None], dtype="Int64")})
    grouped = d.derive_vars_group(
        frame, source="AGE", breaks=(65, 75), labels=("<65", "65-74", ">=75"), new_var="AGEGR1", new_var_n="AGEGR1N"
    )
    assert listed(grouped["AGEGR1"]) == ["<65", "65-74", "65-74", ">=75", None]
    assert listed(grouped["AGEGR1N"]) == [1, 2, 2, 3, None]
    with pytest.raises(d.DerivationInputError, match="2 breaks need 3 labels"):
        d.derive_vars_group(frame, source="AGE", breaks=(65, 75), labels=("young", "old"), new_var="AGEGR2")


def test_conditional_value_within_filter() -> None:
    frame = pd.DataFrame(
        {
            "EOTSTT": ["DISCONTINUED", "COMPLETED", "ONGOING", "DISCONTINUED"],
            "EOTDT": dates("2020-09-01", "2021-01-31", None, "2020-10-01"),
            "DCUTDT": dates(*["2021-03-01"] * 4),
            "TRTSDT": dates("2020-07-20", "2020-07-20", "2020-07-20", None),
        }
    )
    derived = d.derive_var_conditional(
        frame,
        new_var="EOPDT",
        condition={"EOTSTT": "DISCONTINUED"},
        true_var="EOTDT",
        false_var="DCUTDT",
        filter=lambda f: f["TRTSDT"].notna(),
    )
    assert listed(derived["EOPDT"]) == [D("2020-09-01"), D("2021-03-01"), D("2021-03-01"), None]


def test_copy_flag_and_formatted() -> None:
    frame = pd.DataFrame(
        {
            "AEREL": ["RELATED", "", None, " NOT RELATED"],
            "AEACN": ["DRUG WITHDRAWN", "DOSE NOT CHANGED", None, "DRUG WITHDRAWN"],
            "ACYCLEN": pd.array([1, 2, None, 10], dtype="Int64"),
        }
    )
    derived = d.derive_var_copy(frame, source="AEREL", new_var="AREL", missing_value="RELATED")
    derived = d.derive_var_flag(derived, condition={"AEACN": "DRUG WITHDRAWN"}, new_var="AEDISFL", false_value="N")
    derived = d.derive_var_formatted(derived, source="ACYCLEN", new_var="ACYCLE", template="CYCLE {}")
    assert listed(derived["AREL"]) == ["RELATED", "RELATED", "RELATED", "NOT RELATED"]
    assert listed(derived["AEDISFL"]) == ["Y", "N", "N", "Y"]
    assert listed(derived["ACYCLE"]) == ["CYCLE 1", "CYCLE 2", None, "CYCLE 10"]
    with pytest.raises(d.DerivationInputError, match="exactly one"):
        d.derive_var_formatted(frame, source="ACYCLEN", new_var="ACYCLE", template="CYCLE")


def test_every_catalogued_verb_takes_its_output_names_as_options() -> None:
    """Every derive_* names its output with an option (new_var, new_vars, flag_var, ...),
    except the two whose outputs are named by their inputs (predecessors, QNAMs)."""
    named_by_input = {"derive_vars_predecessor", "derive_vars_suppqual"}
    for name, function in d.CATALOGUE.items():
        parameters = inspect.signature(function).parameters
        outputs = {"new_var", "new_vars"} & set(parameters)
        assert outputs or name in named_by_input, name
        for option in outputs:
            assert parameters[option].kind is inspect.Parameter.KEYWORD_ONLY, name


def test_code_of_a_character_variable_and_a_value_without_code() -> None:
    frame = pd.DataFrame({"TRT01A": ["Drug X", "", None, "Drug X "]})
    coded = d.derive_var_code(frame, source="TRT01A", codes={"Drug X": 1}, new_var="TRT01AN")
    assert listed(coded["TRT01AN"]) == [1, None, None, 1]
    with pytest.raises(d.DerivationInputError, match=r"values without a code: \['Placebo'\]"):
        d.derive_var_code(
            pd.DataFrame({"TRT01A": ["Placebo", "Drug X"]}), source="TRT01A", codes={"Drug X": 1}, new_var="TRT01AN"
        )


@pytest.mark.parametrize(
    ("cycle", "day", "planned"),
    [
        (1, 1, 10),
        (1, 8, 20),
        (1, 21, 30),  # off-schedule day: the planned days up to it
        (1, 22, 40),
        (2, 1, 50),
        (2, 14, 50),
        (2, 15, 60),
        (3, 1, 70),
        (5, 15, 120),  # 4 + 3 x 2 + 2 planned infusions
        (None, 1, None),
        (2, None, None),
    ],
)
def test_planned_dose_counts_whole_cycles_then_the_planned_days_up_to_the_last_one(
    cycle: int | None, day: int | None, planned: float | None
) -> None:
    frame = pd.DataFrame({"LASTCYC": pd.array([cycle], dtype="Int64"), "LASTDAY": pd.array([day], dtype="Int64")})
    derived = d.derive_var_planned_dose(
        frame,
        cycle="LASTCYC",
        day="LASTDAY",
        dose=10,
        first_cycle_days=[22, 1, 15, 8],  # any order
        later_cycle_days=[1, 15],
        new_var="PCUMDOSE",
    )
    assert listed(derived["PCUMDOSE"]) == [planned]


def test_planned_dose_needs_a_schedule() -> None:
    frame = pd.DataFrame({"C": [1], "D": [1]})
    with pytest.raises(d.DerivationInputError, match="must each name a day"):
        d.derive_var_planned_dose(
            frame, cycle="C", day="D", dose=10, first_cycle_days=[1], later_cycle_days=[], new_var="P"
        )


def test_percent_is_missing_without_a_positive_denominator() -> None:
    frame = pd.DataFrame({"CUMDOSE": [40.0, 0.0, 10.0, None], "PCUMDOSE": [50.0, 0.0, None, 10.0]})
    derived = d.derive_var_percent(frame, numerator="CUMDOSE", denominator="PCUMDOSE", new_var="RDI")
    assert listed(derived["RDI"]) == [80.0, None, None, None]
