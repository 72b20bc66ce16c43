"""TV, SE and SV agree with the visits and epochs of the other domains, on the sample, on the
small test export (with a patient never dosed) and on a generated export.

The checks are written here again, from the SDTMIG 3.4 rules, not taken from the derivations
that build the datasets: a change to the EPOCH derivation, the SE element dates, the visit
numbering or TV that makes them disagree fails here.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from cdisc_cup.mapping.catalogue import DerivationInput, derive_epoch
from cdisc_cup.mapping.engine import build_sdtm
from cdisc_cup.provenance import submission_frame
from cdisc_cup.readers.raw import read_raw_export
from cdisc_cup.spec.loader import load_study
from tests.exports import write_export

REPO = Path(__file__).resolve().parents[2]
GENERATED_PATIENTS = 150
TRIAL_DESIGN = {"TA", "TE", "TV", "TI", "TS"}


def _build(export: Path) -> dict[str, pd.DataFrame]:
    study = load_study()
    return {name: submission_frame(frame) for name, frame in build_sdtm(study, read_raw_export(export, study)).items()}


@pytest.fixture(scope="module", params=["sample", "small export", "generated export"])
def sdtm(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, pd.DataFrame]:
    if request.param == "sample":
        return {
            name: submission_frame(frame) for name, frame in request.getfixturevalue("converted_sample").sdtm.items()
        }
    if request.param == "small export":
        return _build(write_export(tmp_path_factory.mktemp("small")))
    out = tmp_path_factory.mktemp("generated")
    generator = [sys.executable, str(REPO / "benchmarks" / "generate.py"), "--out", str(out)]
    subprocess.run([*generator, "--patients", str(GENERATED_PATIENTS), "--seed", "7"], check=True)
    return _build(out)


def subject_level(sdtm: dict[str, pd.DataFrame]) -> list[str]:
    return [name for name, frame in sdtm.items() if "USUBJID" in frame.columns and name not in ("SE", "SV")]


def date_variable(name: str, frame: pd.DataFrame) -> str | None:
    """The date a record's EPOCH and visit are those of: --STDTC, else --DTC."""
    return next((v for v in (f"{name}STDTC", f"{name}DTC") if v in frame.columns), None)


def complete(dates: pd.Series) -> pd.Series:
    return pd.to_datetime(dates.where(dates.astype("string").str.len() == 10), format="%Y-%m-%d")


# --- visits: TV plans them, SV holds each subject's, the domains use the same numbers and names ---


def visit_records(sdtm: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """USUBJID, VISITNUM, VISIT and the date of every record of a domain with visits."""
    parts = []
    for name in subject_level(sdtm):
        frame = sdtm[name]
        if "VISITNUM" in frame.columns:
            parts.append(
                frame[["USUBJID", "VISITNUM", "VISIT"]].assign(DOMAIN=name, DATE=frame[date_variable(name, frame)])
            )
    return pd.concat(parts, ignore_index=True)


def test_every_visit_of_a_domain_has_one_sv_record(sdtm: dict[str, pd.DataFrame]) -> None:
    """CORE-000168 (VISITNUM among SV.VISITNUM), SDTMIG 3.4 SV assumption 2 (one record per VISITNUM)."""
    sv = sdtm["SV"]
    assert not sv.duplicated(["USUBJID", "VISITNUM"]).any()
    visits = visit_records(sdtm).merge(sv, on=["USUBJID", "VISITNUM"], how="left", indicator=True)
    assert (visits["_merge"] == "both").all(), visits.loc[visits["_merge"] != "both", ["DOMAIN", "USUBJID", "VISITNUM"]]
    assert (visits["VISIT_x"] == visits["VISIT_y"]).all()


def test_visits_are_planned_in_tv_under_its_names_and_days(sdtm: dict[str, pd.DataFrame]) -> None:
    """SDTMIG 3.4 TV assumption 6 (a planned VISITNUM has TV's VISIT), SV assumption 4 and
    CORE-000039/000040 (SVPRESP = Y exactly for the VISITNUM of TV), VISITDY from TV."""
    tv = sdtm["TV"].set_index("VISITNUM")
    visits = visit_records(sdtm)
    sv = sdtm["SV"]
    planned = visits["VISITNUM"].isin(tv.index)
    # A visit outside TV is an unplanned visit of SV (the generated export's first infusions a
    # day after pomalidomide and dexamethasone started: CYCLE 1 DAY 2).
    unplanned = visits.merge(sv.loc[sv["SVUPDES"].notna(), ["USUBJID", "VISITNUM"]], how="left", indicator=True)
    assert (planned | (unplanned["_merge"] == "both")).all(), visits.loc[~planned, ["DOMAIN", "VISITNUM", "VISIT"]]
    assert (
        visits.loc[planned, "VISIT"].to_numpy() == tv.loc[visits.loc[planned, "VISITNUM"], "VISIT"].to_numpy()
    ).all()
    in_tv = sv["VISITNUM"].isin(tv.index)
    assert ((sv["SVPRESP"] == "Y") == in_tv).all() and ((sv["SVOCCUR"] == "Y") == in_tv).all()
    assert sv.loc[~in_tv, "SVUPDES"].notna().all() and sv.loc[in_tv, "SVUPDES"].isna().all()
    planned_days = tv.loc[sv.loc[in_tv, "VISITNUM"], "VISITDY"].to_numpy(dtype=float, na_value=float("nan"))
    pd.testing.assert_series_equal(
        sv.loc[in_tv, "VISITDY"].astype(float).reset_index(drop=True), pd.Series(planned_days, name="VISITDY")
    )


def test_sv_spans_the_dates_of_its_records(sdtm: dict[str, pd.DataFrame]) -> None:
    """SDTMIG 3.4 SV assumption 11: SVSTDTC and SVENDTC are the first and last date of the visit."""
    visits = visit_records(sdtm)
    visits["DATE"] = complete(visits["DATE"])
    span = visits.groupby(["USUBJID", "VISITNUM"])["DATE"].agg(["min", "max"])
    sv = sdtm["SV"].set_index(["USUBJID", "VISITNUM"]).loc[span.index]
    assert (complete(sv["SVSTDTC"]) == span["min"]).all() and (complete(sv["SVENDTC"]) == span["max"]).all()


def test_tv_numbers_visits_as_the_domains_do(sdtm: dict[str, pd.DataFrame]) -> None:
    """100 x cycle + day, the name CYCLE c DAY d (study parameter visitnum_cycle_divisor)."""
    tv = sdtm["TV"]
    divisor = load_study().parameters["visitnum_cycle_divisor"]
    treatment = tv[tv["VISITNUM"] > 0]
    cycle, day = treatment["VISITNUM"] // divisor, treatment["VISITNUM"] % divisor
    names = "CYCLE " + cycle.astype(int).astype(str) + " DAY " + day.astype(int).astype(str)
    assert (names == treatment["VISIT"]).all()
    assert ((cycle - 1) * load_study().parameters["cycle_length_days"] + day == treatment["VISITDY"]).all()


# --- elements: SE follows TA and TE, and every dated record's EPOCH is that of its SE element ----


def elements(sdtm: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """SE with its dates and whether the element is the subject's last, in SESEQ order."""
    se = sdtm["SE"].sort_values(["USUBJID", "SESEQ"]).reset_index(drop=True)
    se["START"], se["END"] = complete(se["SESTDTC"]), complete(se["SEENDTC"])
    se["LAST"] = ~se["USUBJID"].duplicated(keep="last")
    return se


def element_of(se: pd.DataFrame, dated: pd.DataFrame) -> pd.DataFrame:
    """For each record (USUBJID, DATE), the SE elements it falls in: from SESTDTC up to, not
    including, SEENDTC, the subject's last element including its SEENDTC (se.yaml)."""
    candidates = dated.reset_index(names="RECORD").merge(se, on="USUBJID", how="left")
    inside = (candidates["DATE"] >= candidates["START"]) & (
        (candidates["DATE"] < candidates["END"]) | (candidates["LAST"] & (candidates["DATE"] <= candidates["END"]))
    )
    return candidates[inside]


def test_the_epoch_of_every_dated_record_is_that_of_its_element(sdtm: dict[str, pd.DataFrame]) -> None:
    """SDTMIG 3.4 SE overview: a record's --DTC against the element dates gives its element, and
    EPOCH is that element's (TA). Each complete date falls in exactly one element."""
    se = elements(sdtm)
    for name in subject_level(sdtm):
        frame = sdtm[name]
        date = date_variable(name, frame)
        if "EPOCH" not in frame.columns or date is None:
            continue
        dated = pd.DataFrame({"USUBJID": frame["USUBJID"], "DATE": complete(frame[date]), "EPOCH": frame["EPOCH"]})
        dated = dated[dated["DATE"].notna()].reset_index(drop=True)
        found = element_of(se, dated)
        counts = found.groupby("RECORD").size().reindex(dated.index, fill_value=0)
        assert (counts == 1).all(), f"{name}: records in no element or in two: {list(counts[counts != 1].index)}"
        disagree = found[found["EPOCH_x"] != found["EPOCH_y"]]
        assert disagree.empty, f"{name}.EPOCH differs from SE: {disagree[['USUBJID', 'DATE', 'EPOCH_x', 'EPOCH_y']]}"


def test_the_epoch_derivation_gives_each_element_its_epoch_on_its_boundary_days(
    sdtm: dict[str, pd.DataFrame],
) -> None:
    """The first and the last day of every element (and the end of a subject's last one) get
    that element's epoch from the EPOCH derivation of the catalogue: the two agree on the
    transition days, where dates without times make the choice (SDTMIG 3.4 SE example 2)."""
    se = elements(sdtm)
    spans = se[se["START"] < se["END"]]
    days = pd.concat(
        [
            spans[["USUBJID", "EPOCH"]].assign(DATE=spans["START"]),
            spans[["USUBJID", "EPOCH"]].assign(DATE=spans["END"] - pd.Timedelta(days=1)),
            se.loc[se["LAST"], ["USUBJID", "EPOCH"]].assign(DATE=se.loc[se["LAST"], "END"]),
        ],
        ignore_index=True,
    )
    study = load_study()
    frame = pd.DataFrame({"USUBJID": days["USUBJID"], "XXDTC": days["DATE"].dt.strftime("%Y-%m-%d")})
    data = DerivationInput(study, study.dataset("AE"), {}, {"DM": sdtm["DM"]}, frame=frame)
    derived = derive_epoch(data, date="XXDTC")
    assert (derived.to_numpy() == days["EPOCH"].to_numpy()).all(), days[derived.to_numpy() != days["EPOCH"].to_numpy()]


def test_se_follows_the_arm_of_ta_and_the_elements_of_te(sdtm: dict[str, pd.DataFrame]) -> None:
    """SDTMIG 3.4 SE assumptions 6 and 7: ETCD and ELEMENT as TE has them, TAETORD and EPOCH
    as TA has them for the subject's arm; CORE-000132 (ETCD and ELEMENT one to one)."""
    se = sdtm["SE"].merge(sdtm["DM"][["USUBJID", "ARMCD"]], on="USUBJID")
    te = se.merge(sdtm["TE"], on="ETCD", how="left", suffixes=("", "_TE"))
    assert (te["ELEMENT"] == te["ELEMENT_TE"]).all()
    ta = se.merge(sdtm["TA"], on=["ARMCD", "ETCD"], how="left", suffixes=("", "_TA"))
    assert (ta["TAETORD"] == ta["TAETORD_TA"]).all() and (ta["EPOCH"] == ta["EPOCH_TA"]).all()
    ordered = se.sort_values(["USUBJID", "SESEQ"])
    assert (ordered.groupby("USUBJID")["TAETORD"].diff().dropna() > 0).all()


def test_se_elements_follow_each_other_over_the_whole_participation(sdtm: dict[str, pd.DataFrame]) -> None:
    """SDTMIG 3.4 SE assumption 8 and CORE-000352 (SEENDTC = SESTDTC of the next element),
    assumption 5 (SESEQ chronological); the first element starts at informed consent, the last
    ends at the end of participation; a patient never dosed has only screening."""
    se = elements(sdtm)
    following = se.groupby("USUBJID")["START"].shift(-1)
    assert (se.loc[~se["LAST"], "END"] == following[~se["LAST"]]).all()
    assert (se["START"] <= se["END"]).all()
    dm = sdtm["DM"].set_index("USUBJID")
    first, last = se.groupby("USUBJID").first(), se.groupby("USUBJID").last()
    assert (first["SESTDTC"] == dm.loc[first.index, "RFICDTC"]).all()
    assert (last["SEENDTC"] == dm.loc[last.index, "RFPENDTC"]).all()
    assert set(se["USUBJID"]) == set(dm.index)
    etcds = se.groupby("USUBJID")["ETCD"].agg(" ".join)
    dosed = dm["RFXSTDTC"].notna()
    followed = dosed & (dm["RFPENDTC"] > dm["RFXENDTC"])
    expected = pd.Series("SCRN", index=dm.index).mask(dosed, "SCRN ISAPD").mask(followed, "SCRN ISAPD FU")
    assert (etcds.loc[dm.index].astype(str) == expected).all()


def test_the_small_export_has_a_patient_only_screened(tmp_path: Path) -> None:
    se = _build(write_export(tmp_path / "export"))["SE"]
    never = se[se["USUBJID"] == "ISA-CUP-DE-02-002"]
    assert list(zip(never["ETCD"], never["EPOCH"], never["SESTDTC"], never["SEENDTC"], strict=True)) == [
        ("SCRN", "SCREENING", "2020-08-20", "2020-08-25")
    ]
