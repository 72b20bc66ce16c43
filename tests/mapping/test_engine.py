"""The spec engine on a small export: each kind of value source and derivation."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from cdisc_cup.errors import InputErrors, SpecErrors
from cdisc_cup.mapping import engine
from cdisc_cup.mapping.engine import build_sdtm
from cdisc_cup.readers.raw import read_raw_export
from cdisc_cup.spec.loader import default_spec_dir, load_study
from tests.exports import PATIENTS, write_export


@pytest.fixture(scope="module")
def sdtm(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pd.DataFrame]:
    study = load_study()
    export = write_export(tmp_path_factory.mktemp("export"))
    return build_sdtm(study, read_raw_export(export, study))


def by_subject(frame: pd.DataFrame, subject: str) -> pd.DataFrame:
    return frame[frame["USUBJID"] == f"ISA-CUP-DE-{subject}"]


def test_constants_columns_and_usubjid(sdtm: dict[str, pd.DataFrame]) -> None:
    dm = sdtm["DM"]
    assert list(dm["USUBJID"]) == ["ISA-CUP-DE-01-001", "ISA-CUP-DE-02-001", "ISA-CUP-DE-02-002"]
    assert set(dm["STUDYID"]) == {"ISA-CUP-DE"} and set(dm["COUNTRY"]) == {"DEU"}
    assert list(dm["SITEID"]) == ["01", "02", "02"]
    assert list(dm["AGE"]) == [70, 60, 76]


def test_codelist_mapping(sdtm: dict[str, pd.DataFrame]) -> None:
    assert list(sdtm["DM"]["SEX"]) == ["M", "F", "F"]
    assert set(sdtm["EX"]["EXROUTE"]) == {"INTRAVENOUS", "ORAL"}
    ae = sdtm["AE"]
    assert list(ae["AEACN"]) == ["DOSE NOT CHANGED", "NOT APPLICABLE", "DRUG WITHDRAWN"]
    assert list(ae["AEOUT"]) == ["RECOVERED/RESOLVED", "NOT RECOVERED/NOT RESOLVED", "RECOVERED/RESOLVED"]


def test_reference_dates_use_all_drugs(sdtm: dict[str, pd.DataFrame]) -> None:
    dm = sdtm["DM"].set_index("SUBJID")
    assert dm.loc["01-001", "RFSTDTC"] == "2020-07-03"
    # the pomalidomide cycle ends after the last infusion and sets the end of exposure
    assert dm.loc["01-001", "RFXENDTC"] == "2020-07-23"
    assert dm.loc["02-001", "RFPENDTC"] == "2020-09-10" and dm.loc["02-001", "DTHFL"] == "Y"


def test_a_patient_never_dosed_has_no_actual_arm(sdtm: dict[str, pd.DataFrame]) -> None:
    never = sdtm["DM"].set_index("SUBJID").loc["02-002"]
    assert pd.isna(never["RFXSTDTC"]) and pd.isna(never["ACTARMCD"]) and pd.isna(never["ACTARM"])
    assert never["ARMNRS"] == "ASSIGNED, NOT TREATED" and never["ARMCD"] == "ISAPD"


def test_seq_orders_by_start_date_then_crf_number(sdtm: dict[str, pd.DataFrame]) -> None:
    ae = by_subject(sdtm["AE"], "01-001")
    # AE 2 starts 2020-07-01, AE 1 in 2020-07 (partial): ISO text sorts the partial date first
    assert list(zip(ae["AESPID"], ae["AESEQ"], strict=True)) == [("1", 1), ("2", 2)]
    assert sdtm["EX"].groupby("USUBJID")["EXSEQ"].apply(lambda s: list(s) == list(range(1, len(s) + 1))).all()


def test_partial_dates_stay_partial_and_have_no_study_day(sdtm: dict[str, pd.DataFrame]) -> None:
    ae = by_subject(sdtm["AE"], "01-001").set_index("AESPID")
    assert ae.loc["1", "AESTDTC"] == "2020-07" and pd.isna(ae.loc["1", "AESTDY"])
    assert ae.loc["2", "AESTDY"] == -2  # 2 days before the first dose, no day 0
    assert sdtm["MH"].set_index("USUBJID")["MHSTDTC"].tolist() == ["2013-03", "2010", "2015-02-03"]


def test_transliterated_verbatim_term(sdtm: dict[str, pd.DataFrame]) -> None:
    assert "Uebelkeit" in set(sdtm["AE"]["AETERM"])


def test_visits_of_administrations(sdtm: dict[str, pd.DataFrame]) -> None:
    ex = by_subject(sdtm["EX"], "01-001")
    assert set(zip(ex["VISIT"], ex["VISITNUM"], strict=True)) == {("CYCLE 1 DAY 1", 101), ("CYCLE 1 DAY 8", 108)}
    assert ex.set_index("EXTRT").loc["POMALIDOMIDE", "EXENDTC"] == "2020-07-23"
    assert ex.set_index("EXTRT").loc["DEXAMETHASONE", "EXENDTC"] == "2020-07-03"  # empty ENDDAT: same day


def test_supp_records_point_at_their_parent(sdtm: dict[str, pd.DataFrame]) -> None:
    ae, supp = sdtm["AE"], sdtm["SUPPAE"]
    aesi = supp[supp["QNAM"] == "AESI"].merge(ae, on="USUBJID")
    aesi = aesi[aesi["IDVARVAL"] == aesi["AESEQ"].astype(int).astype(str)]
    assert len(aesi) == len(ae)  # one AESI qualifier per AE, each on its own AESEQ
    pruritus = aesi[aesi["AEDECOD"] == "Pruritus"]
    assert list(pruritus["QVAL"]) == ["Y"]
    reldex = supp[(supp["QNAM"] == "AERELDEX") & (supp["USUBJID"] == "ISA-CUP-DE-02-001")]
    assert list(reldex["QVAL"]) == ["RELATED"]


def test_disposition_blocks(sdtm: dict[str, pd.DataFrame]) -> None:
    ds = sdtm["DS"]
    end = ds[ds["DSSCAT"] == "STUDY TREATMENT"].set_index("USUBJID")["DSDECOD"]
    assert end.to_dict() == {
        "ISA-CUP-DE-01-001": "COMPLETED",
        "ISA-CUP-DE-02-001": "DEATH",
        "ISA-CUP-DE-02-002": "OTHER",
    }
    assert (ds["DSCAT"] == "PROTOCOL MILESTONE").sum() == 3
    # One end of participation per subject: the death on its date, else the last contact.
    participation = ds[ds["DSSCAT"] == "STUDY PARTICIPATION"].set_index("USUBJID")
    assert participation["DSDECOD"].to_dict() == {
        "ISA-CUP-DE-01-001": "COMPLETED",
        "ISA-CUP-DE-02-001": "DEATH",
        "ISA-CUP-DE-02-002": "COMPLETED",
    }
    assert participation.loc["ISA-CUP-DE-02-001", "DSSTDTC"] == "2020-09-10"
    assert participation.loc["ISA-CUP-DE-01-001", "DSSTDTC"] == "2021-01-31"  # EOTDAT, the latest date
    assert not ds.duplicated(["USUBJID", "DSSCAT", "DSDECOD", "DSSTDTC"]).any()
    assert ds["EPOCH"].notna().all()


def test_last_observation_before_exposure(sdtm: dict[str, pd.DataFrame]) -> None:
    vs = sdtm["VS"]
    assert set(vs["VSTESTCD"]) == {"WEIGHT", "HEIGHT"}
    flagged = vs[vs["VSLOBXFL"] == "Y"]
    assert len(flagged) == 4  # registration precedes the first dose of the two dosed patients
    assert "ISA-CUP-DE-02-002" not in set(flagged["USUBJID"])  # never dosed: no exposure to be before
    assert vs.set_index(["USUBJID", "VSTESTCD"]).loc[("ISA-CUP-DE-01-001", "WEIGHT"), "VSORRES"] == "75.5"


def _spec_copy(tmp_path: Path) -> Path:
    import shutil

    target = tmp_path / "specs"
    shutil.copytree(default_spec_dir(), target)
    return target


def test_unmapped_raw_code_is_a_located_input_error(tmp_path: Path) -> None:
    specs = _spec_copy(tmp_path)
    study_yaml = specs / "study.yaml"
    document = yaml.safe_load(study_yaml.read_text())
    document["raw"]["files"]["patients"]["columns"]["SEX"]["values"] = ["1", "2", "3"]
    study_yaml.write_text(yaml.safe_dump(document, sort_keys=False))
    patients = list(PATIENTS)
    patients[1] = patients[1].replace("1950;70;1;", "1950;70;3;")
    export = write_export(tmp_path / "export", patients=patients)
    study = load_study(specs)
    with pytest.raises(InputErrors) as error:
        build_sdtm(study, read_raw_export(export, study))
    problem = error.value.problems[0]
    assert (problem.line, problem.column, problem.value) == (2, "SEX", "3")
    assert "DM.SEX" in problem.message


def test_unknown_derivation_is_a_spec_error(tmp_path: Path) -> None:
    specs = _spec_copy(tmp_path)
    dm = specs / "sdtm" / "dm.yaml"
    dm.write_text(dm.read_text().replace("derivation: study_day, date: DMDTC", "derivation: study_dai, date: DMDTC"))
    study = load_study(specs)
    with pytest.raises(SpecErrors) as error:
        build_sdtm(study, {})
    assert error.value.problems[0].value == "study_dai"
    assert "variables.DMDY.value" in str(error.value.problems[0])


# --- records from the spec's rows and from SDTM datasets built before --------------------------


def test_spec_rows_are_records_without_a_raw_line(sdtm: dict[str, pd.DataFrame]) -> None:
    from cdisc_cup.provenance import LINE, SOURCE_FILE

    ta = sdtm["TA"]
    assert list(zip(ta["TAETORD"], ta["ETCD"], ta["EPOCH"], strict=True)) == [
        (1, "SCRN", "SCREENING"),
        (2, "ISAPD", "TREATMENT"),
        (3, "FU", "FOLLOW-UP"),
    ]
    assert set(ta["ARMCD"]) == set(sdtm["DM"]["ARMCD"])  # the same study parameter
    assert list(ta["ELEMENT"]) == list(sdtm["TE"].set_index("ETCD").loc[ta["ETCD"], "ELEMENT"])  # looked up
    assert ta[SOURCE_FILE].isna().all() and ta[LINE].isna().all()
    assert sdtm["SE"][SOURCE_FILE].isna().all()


def test_records_from_a_dataset_and_from_distinct_visits(sdtm: dict[str, pd.DataFrame]) -> None:
    se = sdtm["SE"]
    assert len(se[se["ETCD"] == "SCRN"]) == len(sdtm["DM"])  # one screening per DM record
    visits = pd.concat([sdtm[n][["USUBJID", "VISITNUM"]] for n in ("EX", "VS", "RS")]).drop_duplicates()
    assert len(sdtm["SV"]) == len(visits)


def test_a_spec_row_reading_a_column_is_a_spec_error(tmp_path: Path) -> None:
    specs = _spec_copy(tmp_path)
    ti = specs / "sdtm" / "ti.yaml"
    ti.write_text(ti.read_text().replace("{IECAT: {constant: INCLUSION}}", "{IECAT: {column: AGE}}"))
    with pytest.raises(SpecErrors) as error:
        build_sdtm(load_study(specs), {})
    problem = error.value.problems[0]
    assert "IECAT of a spec-defined row reads a column" in problem.message
    assert problem.column == "records[0].rows[0]" and problem.value == "AGE"


def test_a_column_the_source_datasets_lack_is_a_spec_error(tmp_path: Path) -> None:
    specs = _spec_copy(tmp_path)
    se = specs / "sdtm" / "se.yaml"
    se.write_text(se.read_text().replace("SESTDTC: {column: RFICDTC}", "SESTDTC: {column: RFICDT}"))
    study = load_study(specs)
    with pytest.raises(SpecErrors) as error:
        build_sdtm(study, read_raw_export(write_export(tmp_path / "export"), study))
    problem = error.value.problems[0]
    assert (problem.column, problem.value) == ("records[0]", "RFICDT") and "(DM) do not have" in problem.message


def test_an_ambiguous_lookup_is_a_spec_error(tmp_path: Path) -> None:
    specs = _spec_copy(tmp_path)
    se = specs / "sdtm" / "se.yaml"
    # TA has three records per STUDYID: which element's TAETORD is meant cannot be told.
    se.write_text(se.read_text().replace("variable: TAETORD, by: [ETCD]", "variable: TAETORD, by: [STUDYID]"))
    study = load_study(specs)
    with pytest.raises(SpecErrors) as error:
        build_sdtm(study, read_raw_export(write_export(tmp_path / "export"), study))
    assert "TA has more than one record per STUDYID" in error.value.problems[0].message


def test_datasets_built_side_by_side_are_those_built_one_after_the_other(
    sdtm: dict[str, pd.DataFrame], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """From a large export on, datasets are built on both cores; a dataset that reads an
    earlier one (SV the visits of EX, every study day DM) waits for it, so the datasets are
    the same, in the same order."""
    monkeypatch.setattr(engine, "SIDE_BY_SIDE_FROM_RECORDS", 0)
    study = load_study()
    export = write_export(tmp_path / "export")
    side_by_side = build_sdtm(study, read_raw_export(export, study))
    assert list(side_by_side) == list(sdtm) == [spec.name for spec in study.sdtm]
    for name, frame in sdtm.items():
        pd.testing.assert_frame_equal(side_by_side[name], frame, check_exact=True)


def test_side_by_side_the_first_dataset_with_a_problem_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two datasets with a problem, built on two threads: the problem reported is the one
    of the dataset listed first, as when they are built one after the other, whichever
    thread finds its problem first."""
    monkeypatch.setattr(engine, "SIDE_BY_SIDE_FROM_RECORDS", 0)
    specs = _spec_copy(tmp_path)
    # TA has three records per STUDYID: a lookup by it is ambiguous (AE is listed before CM).
    ambiguous = "{derivation: lookup, dataset: TA, variable: TAETORD, by: [STUDYID]}"
    study_days = {"cm": "{derivation: study_day, date: CMDTC}", "ae": "{derivation: study_day, date: AESTDTC}"}
    for name, study_day in study_days.items():
        path = specs / "sdtm" / f"{name}.yaml"
        text = path.read_text()
        assert study_day in text
        path.write_text(text.replace(study_day, ambiguous, 1))
    study = load_study(specs)
    order = [spec.name for spec in study.sdtm]
    assert order.index("AE") < order.index("CM")
    with pytest.raises(SpecErrors) as error:
        build_sdtm(study, read_raw_export(write_export(tmp_path / "export"), study))
    problem = error.value.problems[0]
    assert problem.file == str(specs / "sdtm" / "ae.yaml") and "TA has more than one record" in problem.message


def test_blocks_stacked_a_column_at_a_time_are_what_concat_gives() -> None:
    """A block without a variable gets missing values of the others' type, as in concat."""
    first = pd.DataFrame(
        {
            "EXTRT": pd.array(["ISATUXIMAB", None], dtype="string"),
            "EXDOSE": pd.array([10.0, None], dtype="Float64"),
            "SOURCE_FILE": pd.Categorical(["administrations.csv"] * 2, categories=["administrations.csv", "x.csv"]),
        }
    )
    second = pd.DataFrame(
        {
            "EXDOSE": pd.array([4.0], dtype="Float64"),
            "SOURCE_FILE": pd.Categorical(["x.csv"], categories=["administrations.csv", "x.csv"]),
            "EXDOSFRM": pd.array(["CAPSULE"], dtype="string"),
        }
    )
    expected = pd.concat([first.copy(), second.copy()], ignore_index=True)
    pd.testing.assert_frame_equal(engine._stacked([first, second]), expected, check_exact=True)
    assert first.columns.empty and second.columns.empty  # each block's columns let go as they are stacked
