"""The CDISC pilot study (pharmaverse) converted with its own specs and no code of its own.

One conversion of ../shared/pharmaverse/raw per module; its XPT files are read back and
compared with pharmaverse's SDTM by natural keys (examples/cdiscpilot01/make_comparison.py,
agreement.py). A second conversion of a copy with the rows shuffled and only some subjects
must give the same records for those subjects, and the same agreement, value for value.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest
from lxml import etree

from cdisc_cup.findings import explanation_table, explanations_of
from cdisc_cup.pipeline import ConversionResult, convert
from cdisc_cup.xpt.read import read_xpt_dataset

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "cdiscpilot01"
RAW = REPO.parent / "shared" / "pharmaverse" / "raw"
# Issue #18: at least 99% of the compared values that can agree agree, for DM, AE, DS, EX and
# VS and for ADSL and ADAE (from pharmaverse's SDTM and from ours).
ISSUE_TARGET = 0.99
TARGET_DATASETS = {"DM", "AE", "DS", "EX", "VS", "ADSL", "ADAE"}
# The least share of compared values that agree with pharmaverse's SDTM (just below the values
# COMPARISON.md reports): over the values that can agree, issue #18's measure, and over all
# compared values.
CAN_AGREE = {"DM": 0.998, "AE": 0.998, "DS": 0.999, "EX": 1.0, "VS": 0.999, "SUPPAE": 0.997, "SV": 0.79}
ALL_VALUES = {"DM": 0.958, "AE": 0.926, "DS": 0.999, "EX": 1.0, "VS": 0.999, "SUPPAE": 0.997, "SV": 0.79}
# The variables with values set apart as unable to agree (comparison.yaml): a change here is a
# decision.
CANNOT_AGREE = {"DM": {"RFICDTC", "RFPENDTC"}, "AE": {"AELLTCD", "AESOCCD", "AESEQ"}}
# The share of pharmaverse's records we make: SV lacks the visits of forms the raw data lacks.
RECORDS = {"SV": 0.79}

sys.path.insert(0, str(EXAMPLE))  # make_comparison.py imports agreement.py beside it
import agreement  # noqa: E402
import make_comparison as comparison  # noqa: E402


@pytest.fixture(scope="module")
def pilot(tmp_path_factory: pytest.TempPathFactory) -> ConversionResult:
    return convert(RAW, tmp_path_factory.mktemp("pilot") / "out", EXAMPLE / "specs")


@pytest.fixture(scope="module")
def agreements(pilot: ConversionResult) -> dict[str, agreement.Agreement]:
    return {found.dataset: found for found in comparison.agreements(pilot.layout.sdtm)}


def test_the_pilot_datasets_are_written_with_define_and_validation(pilot: ConversionResult) -> None:
    sdtm = pilot.layout.sdtm
    assert {p.stem for p in sdtm.glob("*.xpt")} >= {"dm", "ae", "suppae", "ds", "ex", "vs", "sv", "tv", "ts"}
    assert (sdtm / "define.xml").is_file()
    assert (pilot.layout.reports / "validation" / "findings.html").is_file()
    assert {p.stem for p in pilot.layout.adam.glob("*.xpt")} == {"adsl", "adae"}  # the pilot's ADaM specs
    dm = read_xpt_dataset(sdtm / "dm.xpt").frame
    assert len(dm) == 306 and dm["USUBJID"].is_unique


def test_every_finding_left_in_the_pilot_is_explained(pilot: ConversionResult) -> None:
    """The pilot's own findings (screen failures coded Scrnfail, AESER against its criteria as
    collected) have the sponsor's explanation; CT5002 and SD5002 are gone, not explained away."""
    assert pilot.validation is not None
    findings = pilot.validation.findings
    assert set(findings["rule_id"]) == {"SD5031", "SD5054", "SD5056"}
    explained = explanations_of(findings, explanation_table(pilot.study.explanations))
    assert (explained != "").all(), findings.loc[explained == "", ["rule_id", "dataset", "variable"]]


def test_vslobxfl_flags_the_last_measurement_before_the_first_dose(pilot: ConversionResult) -> None:
    """One flag per subject, test and time point, a test without time points included (HEIGHT,
    measured at screening only, is flagged there: its last value before exposure)."""
    vs = read_xpt_dataset(pilot.layout.sdtm / "vs.xpt").frame
    dm = read_xpt_dataset(pilot.layout.sdtm / "dm.xpt").frame.set_index("USUBJID")
    flagged = vs[vs["VSLOBXFL"] == "Y"]
    keys = ["USUBJID", "VSTESTCD", "VSTPTNUM"]
    assert not flagged.duplicated(keys).any()
    assert (flagged["VSDTC"] <= flagged["USUBJID"].map(dm["RFXSTDTC"])).all()
    assert {"HEIGHT", "WEIGHT", "TEMP", "SYSBP"} <= set(flagged["VSTESTCD"])
    dosed = vs[vs["USUBJID"].map(dm["RFXSTDTC"]).fillna("") != ""]
    before = dosed[dosed["VSDTC"] <= dosed["USUBJID"].map(dm["RFXSTDTC"])]
    assert len(flagged) == len(before.drop_duplicates(keys))


def test_other_disposition_events_are_sponsor_terms_of_othevent(pilot: ConversionResult) -> None:
    define = etree.parse(str(pilot.layout.sdtm / "define.xml"))
    namespaces = {"odm": "http://www.cdisc.org/ns/odm/v1.3", "def": "http://www.cdisc.org/ns/def/v2.1"}
    items = define.xpath('//odm:CodeList[@OID="CL.OTHEVENT"]/odm:EnumeratedItem', namespaces=namespaces)
    extended = {item.get("CodedValue") for item in items if item.get(f"{{{namespaces['def']}}}ExtendedValue") == "Yes"}
    assert extended == {"FINAL LAB VISIT", "FINAL RETRIEVAL VISIT"} == {item.get("CodedValue") for item in items}


@pytest.mark.parametrize("dataset", sorted(CAN_AGREE))
def test_the_pilot_agrees_with_pharmaverse(agreements: dict[str, agreement.Agreement], dataset: str) -> None:
    found = agreements[dataset]
    if dataset in TARGET_DATASETS:
        assert found.share_can_agree >= ISSUE_TARGET, found.differing
    _, theirs, paired = found.records
    assert paired >= RECORDS.get(dataset, 1.0) * theirs
    assert set(found.cannot) == CANNOT_AGREE.get(dataset, set())
    assert found.share_can_agree >= CAN_AGREE[dataset], found.differing
    assert found.share >= ALL_VALUES[dataset], found.differing


def test_every_difference_is_explained(agreements: dict[str, agreement.Agreement]) -> None:
    """Each differing variable has its reason in comparison.yaml (or cannot agree), and so do
    the records only one side has; the 15 AE events without a start date in the raw form are
    paired with pharmaverse's (by subject, term and collection date), not left over."""
    notes = comparison.notes()["datasets"]
    for name, found in agreements.items():
        assert not found.unexplained(notes[name].get("explanations", {})), name
        assert not any(found.unpaired) or "unpaired" in notes[name], name
    ae = agreements["AE"]
    assert ae.records == (1191, 1191, 1191) and ae.differing["AESTDTC"] == 15
    assert "| DM |" in comparison.markdown(list(agreements.values()))


def test_aeseq_sets_apart_the_ties_only(pilot: ConversionResult, agreements: dict[str, agreement.Agreement]) -> None:
    """Of AESEQ only the records that tie in collection and start date on both sides are set
    apart (pharmaverse orders them by AESPID, which the raw data lacks): about half of them
    agree by chance, and every other difference is in a subject with an event whose start date
    the raw form leaves empty (the explanation left in comparison.yaml)."""
    ae = agreements["AE"]
    apart, apart_agree = ae.set_apart["AESEQ"]
    assert 0 < apart < ae.compared["AESEQ"] and 0 < apart_agree < apart
    ours, _ = ae.paired
    frame = ours.frame.reset_index(drop=True)
    undated = set(frame.loc[frame["AESTDTC"].astype("string").str.strip().isin(["", pd.NA]), "USUBJID"])
    tied = agreement.CHECKS["ties_broken_by_theirs_only"](
        ae, "AESEQ", *_datasets("ae", pilot.layout.sdtm), agreement.CheckContext()
    )
    assert tied is not None and int(tied.sum()) == apart
    left = ae.differing_records("AESEQ") & ~tied
    assert left.sum() == ae.not_set_apart("AESEQ") > 0
    assert set(frame.loc[left, "USUBJID"]) <= undated


def _visit_span(frame: pd.DataFrame, date: str) -> pd.DataFrame:
    """Per subject and visit, the first and last complete date of `date`."""
    dated = frame.assign(day=frame[date].astype("string").str[:10])
    dated = dated[dated["day"].str.len() == 10]
    return dated.groupby(["USUBJID", "VISITNUM"])["day"].agg(["min", "max"])


def test_the_sv_explanations_hold(pilot: ConversionResult, agreements: dict[str, agreement.Agreement]) -> None:
    """comparison.yaml's SV reasons, on the data: pharmaverse's visits we lack have no DS, EX or
    VS record in its SDTM; it dates each visit we both have by its vital signs, else by its
    DSDTC; and each visit dated otherwise has a FINAL LAB VISIT record outside its vital signs."""
    theirs = {
        name: read_xpt_dataset(comparison.PHARMAVERSE / "sdtm" / f"{name}.xpt").frame
        for name in ("sv", "ds", "ex", "vs")
    }
    ours = read_xpt_dataset(pilot.layout.sdtm / "sv.xpt").frame.set_index(["USUBJID", "VISITNUM"])
    visits = theirs["sv"].set_index(["USUBJID", "VISITNUM"])
    only_theirs = visits.index.difference(ours.index)
    assert len(only_theirs) == agreements["SV"].unpaired[1] > 0
    for name in ("ds", "ex", "vs"):
        assert not only_theirs.isin(theirs[name].set_index(["USUBJID", "VISITNUM"]).index).any(), name
    paired = visits.loc[visits.index.intersection(ours.index)]
    by_vs, by_ds = _visit_span(theirs["vs"], "VSDTC"), _visit_span(theirs["ds"], "DSDTC")
    span = by_vs.reindex(paired.index).fillna(by_ds.reindex(paired.index))
    assert span["min"].eq(paired["SVSTDTC"]).all() and span["max"].eq(paired["SVENDTC"]).all()
    differing = paired[
        (ours.loc[paired.index, "SVSTDTC"] != paired["SVSTDTC"])
        | (ours.loc[paired.index, "SVENDTC"] != paired["SVENDTC"])
    ]
    assert len(differing) == 7
    final_lab = theirs["ds"][theirs["ds"]["DSTERM"] == "FINAL LAB VISIT"]
    lab_day = final_lab.assign(day=final_lab["DSDTC"].str[:10]).set_index(["USUBJID", "VISITNUM"])["day"]
    vs_span = by_vs.reindex(differing.index)
    outside = (lab_day.reindex(differing.index) < vs_span["min"]) | (lab_day.reindex(differing.index) > vs_span["max"])
    assert outside.all()


def test_a_reason_the_data_contradict_stops_the_comparison(pilot: ConversionResult) -> None:
    """Setting a variable apart needs a reason that holds: AESEV is not empty in pharmaverse's
    AE, and RFXENDTC's differences are not dates past the raw data."""
    ae = read_xpt_dataset(pilot.layout.sdtm / "ae.xpt")
    theirs = read_xpt_dataset(comparison.PHARMAVERSE / "sdtm" / "ae.xpt")
    wrong = {"AESEV": agreement.CannotAgree("pharmaverse leaves it empty", "theirs_empty")}
    with pytest.raises(SystemExit, match=r"AE\.AESEV: the reason given why it cannot agree does not hold"):
        agreement.agreement(ae, theirs, (("USUBJID", "AETERM", "AESTDTC", "AEDTC"),), wrong)
    dm = read_xpt_dataset(pilot.layout.sdtm / "dm.xpt")
    later = {"RFXENDTC": agreement.CannotAgree("from data the raw lacks", "theirs_after_our_dates")}
    with pytest.raises(SystemExit, match="6 values differ, 0 of pharmaverse's are after all of our dates"):
        agreement.agreement(
            dm,
            read_xpt_dataset(comparison.PHARMAVERSE / "sdtm" / "dm.xpt"),
            (("USUBJID",),),
            later,
            agreement.CheckContext(pilot.layout.sdtm),
        )


def test_a_reason_that_covers_other_values_stops_the_comparison(pilot: ConversionResult) -> None:
    """The two record-level reasons hold only where the data show them: a CT term in another
    letter case needs such values (RFXENDTC has none), and a tie broken by pharmaverse alone
    needs a variable ours lacks (AETERM is ours too) that pharmaverse's numbers follow."""
    dm = read_xpt_dataset(pilot.layout.sdtm / "dm.xpt")
    case = {"RFXENDTC": agreement.CannotAgree("spelt otherwise", "case_of_ct_value", {"codelist": "UNIT"})}
    with pytest.raises(SystemExit, match="of 0 values that differ only in letter case"):
        agreement.agreement(dm, read_xpt_dataset(comparison.PHARMAVERSE / "sdtm" / "dm.xpt"), (("USUBJID",),), case)
    ours, theirs = _datasets("ae", pilot.layout.sdtm)
    keys = (("USUBJID", "AETERM", "AESTDTC", "AEDTC"), ("USUBJID", "AETERM", "AEDTC"))

    def ties(order: list[str], breaker: str) -> dict[str, agreement.CannotAgree]:
        options = {"by": ["USUBJID"], "order": order, "theirs_breaks_ties_by": breaker}
        return {"AESEQ": agreement.CannotAgree("tied", "ties_broken_by_theirs_only", options)}

    assert agreement.agreement(ours, theirs, keys, ties(["AEDTC", "AESTDTC"], "AESPID")).set_apart["AESEQ"][0] > 0
    with pytest.raises(SystemExit, match="AETERM is not pharmaverse's only"):
        agreement.agreement(ours, theirs, keys, ties(["AEDTC", "AESTDTC"], "AETERM"))
    with pytest.raises(SystemExit, match="is not the rank by USUBJID, AEENDTC, AESPID"):
        agreement.agreement(ours, theirs, keys, ties(["AEENDTC"], "AESPID"))


def _datasets(name: str, ours: Path) -> tuple:
    """(ours, pharmaverse's) of one SDTM dataset."""
    return read_xpt_dataset(ours / f"{name}.xpt"), read_xpt_dataset(comparison.PHARMAVERSE / "sdtm" / f"{name}.xpt")


def _shuffled_subset(tmp_path: Path, keep_every: int) -> tuple[Path, set[str]]:
    """A copy of the raw data with every `keep_every`-th subject only, its rows shuffled."""
    demographics = pd.read_csv(RAW / "dm_raw.csv", dtype=str, keep_default_na=False)
    kept = set(demographics["PATNUM"].iloc[::keep_every])
    folder = tmp_path / "raw"
    folder.mkdir()
    for path in RAW.glob("*.csv"):
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        frame = frame[frame["PATNUM"].isin(kept)].sample(frac=1, random_state=7)
        frame.to_csv(folder / path.name, index=False)
    return folder, {f"01-{patnum}" for patnum in kept}


def test_shuffled_subset_converts_like_the_full_run(pilot: ConversionResult, tmp_path: Path) -> None:
    """A new user's copy: other row order, some subjects. The records are the same for those
    subjects, --SEQ and SUPPAE's IDVARVAL too (AESEQ breaks its ties by values, `ties: values`),
    and so are the agreement counts."""
    raw, subjects = _shuffled_subset(tmp_path, keep_every=5)
    subset = convert(raw, tmp_path / "out", EXAMPLE / "specs")
    for name in ("dm", "ae", "suppae", "ds", "ex", "vs", "sv"):
        full = read_xpt_dataset(pilot.layout.sdtm / f"{name}.xpt").frame
        part = read_xpt_dataset(subset.layout.sdtm / f"{name}.xpt").frame
        full = full[full["USUBJID"].isin(subjects)]
        expected = full.sort_values(list(full.columns)).reset_index(drop=True)
        actual = part.sort_values(list(part.columns)).reset_index(drop=True)
        pd.testing.assert_frame_equal(actual, expected, check_dtype=False)
    full_run = comparison.agreements(pilot.layout.sdtm, subjects)
    for full, part in zip(full_run, comparison.agreements(subset.layout.sdtm, subjects), strict=True):
        counts = (full.records, full.compared, full.differing, full.unpaired, set(full.cannot))
        assert (part.records, part.compared, part.differing, part.unpaired, set(part.cannot)) == counts, full.dataset
        assert (part.share, part.share_can_agree) == (full.share, full.share_can_agree)


# ADaM against admiral's (COMPARISON_ADAM.md), just below the measured shares: (over the values
# that can agree, over all values). From pharmaverse's SDTM every difference is ADURU's letter
# case (days against the CT term DAYS), set apart.
ADAM_FROM_THEIR_SDTM = {"ADSL": (1.0, 1.0), "ADAE": (1.0, 0.993)}
ADAM_FROM_OUR_SDTM = {"ADSL": (0.999, 0.972), "ADAE": (0.998, 0.951)}
ADAM_CANNOT_AGREE_FROM_THEIRS = {"ADAE": {"ADURU"}}
ADAM_CANNOT_AGREE = {
    "ADSL": {"RFICDTC", "RFPENDTC", "LSTALVDT"},
    "ADAE": {"RFICDTC", "RFPENDTC", "LSTALVDT", "AELLTCD", "AESOCCD", "ADURU", "AESEQ"},
}


def test_the_pilot_adam_agrees_with_admirals(pilot: ConversionResult, tmp_path: Path) -> None:
    import make_comparison_adam as adam_comparison

    notes = adam_comparison.yaml.safe_load(adam_comparison.NOTES.read_text(encoding="utf-8"))
    from_theirs = adam_comparison.derive_from_sdtm(
        comparison.PHARMAVERSE / "sdtm", tmp_path / "adam", EXAMPLE / "specs"
    )
    ct = pilot.study.terminology
    runs = (
        (
            adam_comparison.KEYS,
            notes,
            from_theirs.adam_dir,
            agreement.CheckContext(terminology=ct),
            ADAM_FROM_THEIR_SDTM,
            ADAM_CANNOT_AGREE_FROM_THEIRS,
        ),
        (
            adam_comparison.NATURAL_KEYS,
            notes["from_raw"],
            pilot.adam_dir,
            agreement.CheckContext(pilot.sdtm_dir, ct),
            ADAM_FROM_OUR_SDTM,
            ADAM_CANNOT_AGREE,
        ),
    )
    found_in = {}
    for keys, section, adam, context, least, cannot in runs:
        for found in adam_comparison.compared(adam, keys, section, context):
            assert (found.records[2], set(found.cannot)) == (found.records[1], cannot.get(found.dataset, set()))
            can_agree, all_values = least[found.dataset]
            assert found.share_can_agree >= max(can_agree, ISSUE_TARGET), found.differing
            assert found.share >= all_values, found.differing
            assert not found.unexplained(section[found.dataset].get("explanations", {})), found.dataset
            found_in[adam, found.dataset] = found
    # ADURU: only its letter case is set apart; from our SDTM the units of the 4 events ours
    # cannot date (no start date in the raw form) differ otherwise and stay counted.
    for adam, otherwise in ((from_theirs.adam_dir, 0), (pilot.adam_dir, 4)):
        adae = found_in[adam, "ADAE"]
        assert adae.set_apart["ADURU"] == (adae.differing["ADURU"] - otherwise, 0)
        assert adae.not_set_apart("ADURU") == otherwise
