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

from cdisc_cup.pipeline import ConversionResult, convert
from cdisc_cup.xpt.read import read_xpt_dataset

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "cdiscpilot01"
RAW = REPO.parent / "shared" / "pharmaverse" / "raw"
# The least share of compared values that agree with pharmaverse's SDTM (just below the values
# COMPARISON.md reports): over the values that can agree, issue #18's measure (at least 99% for
# DM, AE, DS, EX and VS), and over all compared values.
CAN_AGREE = {"DM": 0.998, "AE": 0.992, "DS": 0.999, "EX": 1.0, "VS": 0.999, "SUPPAE": 0.997, "SV": 0.79}
ALL_VALUES = {"DM": 0.958, "AE": 0.926, "DS": 0.999, "EX": 1.0, "VS": 0.999, "SUPPAE": 0.997, "SV": 0.79}
# The variables set apart as unable to agree (comparison.yaml): a change here is a decision.
CANNOT_AGREE = {"DM": {"RFICDTC", "RFPENDTC"}, "AE": {"AELLTCD", "AESOCCD"}}
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


@pytest.mark.parametrize("dataset", sorted(CAN_AGREE))
def test_the_pilot_agrees_with_pharmaverse(agreements: dict[str, agreement.Agreement], dataset: str) -> None:
    found = agreements[dataset]
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
        explained = {*notes[name].get("explanations", {}), *found.cannot}
        assert set(found.differing) <= explained, name
        assert not any(found.unpaired) or "unpaired" in notes[name], name
    ae = agreements["AE"]
    assert ae.records == (1191, 1191, 1191) and ae.differing["AESTDTC"] == 15
    assert "| DM |" in comparison.markdown(list(agreements.values()))


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
# that can agree, over all values). From pharmaverse's SDTM every difference is ADURU's spelling.
ADAM_FROM_THEIR_SDTM = {"ADSL": (1.0, 1.0), "ADAE": (0.993, 0.993)}
ADAM_FROM_OUR_SDTM = {"ADSL": (0.999, 0.972), "ADAE": (0.989, 0.951)}
ADAM_CANNOT_AGREE = {
    "ADSL": {"RFICDTC", "RFPENDTC", "LSTALVDT"},
    "ADAE": {"RFICDTC", "RFPENDTC", "LSTALVDT", "AELLTCD", "AESOCCD"},
}


def test_the_pilot_adam_agrees_with_admirals(pilot: ConversionResult, tmp_path: Path) -> None:
    import make_comparison_adam as adam_comparison

    notes = adam_comparison.yaml.safe_load(adam_comparison.NOTES.read_text(encoding="utf-8"))
    from_theirs = adam_comparison.derive_from_sdtm(
        comparison.PHARMAVERSE / "sdtm", tmp_path / "adam", EXAMPLE / "specs"
    )
    runs = (
        (adam_comparison.KEYS, notes, from_theirs.adam_dir, agreement.CheckContext(), ADAM_FROM_THEIR_SDTM, {}),
        (
            adam_comparison.NATURAL_KEYS,
            notes["from_raw"],
            pilot.adam_dir,
            agreement.CheckContext(pilot.sdtm_dir),
            ADAM_FROM_OUR_SDTM,
            ADAM_CANNOT_AGREE,
        ),
    )
    for keys, section, adam, context, least, cannot in runs:
        for found in adam_comparison.compared(adam, keys, section, context):
            assert (found.records[2], set(found.cannot)) == (found.records[1], cannot.get(found.dataset, set()))
            can_agree, all_values = least[found.dataset]
            assert found.share_can_agree >= can_agree and found.share >= all_values, found.differing
            explained = {*section[found.dataset].get("explanations", {}), *found.cannot}
            assert set(found.differing) <= explained, found.dataset
