"""Write COMPARISON.md: the pilot's SDTM as cdisc-cup converts it against pharmaverse's.

    python examples/cdiscpilot01/make_comparison.py [CONVERTED_SDTM_FOLDER]

Without a folder it converts ../shared/pharmaverse/raw with these specs into a temporary
folder first. Records are matched by natural keys (not --SEQ, which depends on the order
the records are numbered in), with `cdisc_cup.compare` (PROC COMPARE semantics); the
agreement of a dataset is the share of compared values (records matched x variables both
sides have) that are equal. Why each difference exists is written in EXPLANATIONS below,
decided from the raw data (see README.md).
"""

from __future__ import annotations

import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from cdisc_cup.compare.datasets import compare_datasets
from cdisc_cup.comparison import KeyChoice, KeySource, Tolerance
from cdisc_cup.pipeline import convert
from cdisc_cup.xpt.model import Dataset
from cdisc_cup.xpt.read import read_xpt_dataset

HERE = Path(__file__).resolve().parent
PHARMAVERSE = HERE.parents[2] / "shared" / "pharmaverse"
# Natural keys: what identifies a record whichever order the raw rows come in.
KEYS = {
    "DM": ("USUBJID",),
    "AE": ("USUBJID", "AETERM", "AESTDTC", "AEDTC"),
    "DS": ("USUBJID", "DSCAT", "DSTERM", "DSSTDTC"),
    "EX": ("USUBJID", "EXSTDTC"),
    "VS": ("USUBJID", "VSTESTCD", "VISITNUM", "VSTPTNUM", "VSDTC"),
    "SV": ("USUBJID", "VISITNUM"),
    # SUPP--: the parent record's natural keys in place of IDVARVAL (its --SEQ).
    "SUPPAE": ("USUBJID", "AETERM", "AESTDTC", "AEDTC", "QNAM"),
}
PARENT_KEYS = {"SUPPAE": ("AE", "AESEQ", ("AETERM", "AESTDTC", "AEDTC"))}
# Why each differing variable differs, decided from the raw data (not from the reference).
EXPLANATIONS = {
    ("DM", "RFICDTC"): "the form collects the date of informed consent (IC_DT); pharmaverse leaves RFICDTC empty",
    ("DM", "RFPENDTC"): "pharmaverse's end of participation includes visits not in this raw data (LB); ours is the "
    "last disposition-form date",
    ("DM", "RFXENDTC"): "a dosing period without an end date counts with its start date here; pharmaverse ignores it",
    ("DM", "RFENDTC"): "one subject (710-1083) whose death is dated a day before its collection date",
    ("AE", "AELLTCD"): "the form holds the MedDRA LLT code; pharmaverse's AE leaves it empty",
    ("AE", "AESOCCD"): "the form holds the MedDRA SOC code; pharmaverse's AE leaves it empty",
    ("AE", "AESEQ"): "numbered by start date, term and collection date (the same whatever the row order); pharmaverse "
    "numbers the raw rows in file order",
    ("AE", "AESTDY"): "one subject (716-1063) whose study day pharmaverse gives as 366 for a start on day 1",
    ("DS", "DSSEQ"): "numbered by start date, then milestone, disposition event, other event; pharmaverse numbers "
    "one subject's same-day records in file order",
    ("SV", "SVSTDTC"): "a visit dated by its disposition and vital signs records; pharmaverse also by laboratory "
    "records this raw data does not hold",
    ("SV", "SVENDTC"): "the same: the latest of the visit's DS and VS dates",
    ("VS", "VSSEQ"): "numbered by test, visit and time point; pharmaverse in another order",
    (
        "VS",
        "VSORRESU",
    ): "17 results whose size shows another unit (heights over 100 in cm, temperatures under 45 in C); "
    "the form has no unit field, so we give the form's unit",
    ("VS", "VSSTRESC"): "the same 17 results, converted from the form's unit",
    ("VS", "VSSTRESN"): "the same 17 results, converted from the form's unit",
}
NOT_BUILT = (
    "AESPID, DSSPID and BRTHDTC are not in the raw data; 15 AE records whose start date pharmaverse has but the raw "
    "form leaves empty are matched by no key (counted as differing); 5 VS records at time points whose results are "
    "empty are ours only (VSSTAT NOT DONE). SV: pharmaverse has visits of forms this raw data does not hold "
    "(laboratory, AE follow-up, the (T) telephone visits), which match no record of ours; SVPRESP, SVOCCUR, SVSTDY, "
    "SVENDY and "
    "SVUPDES (SDTMIG 3.4) are ours only. SUPPAE: the records of the 15 AE records without a start date match none."
)

# Numbers equal within this relative difference (the unit conversions round to 2 decimals).
TOLERANCE = Tolerance.of(None, 1e-9)


@dataclass(frozen=True)
class Agreement:
    dataset: str
    records_ours: int
    records_theirs: int
    records_matched: int
    values_compared: int
    values_differing: int
    by_variable: dict[str, int]  # variable -> differing values
    only_ours: tuple[str, ...]
    only_theirs: tuple[str, ...]

    @property
    def share(self) -> float:
        return 1 - self.values_differing / self.values_compared if self.values_compared else 0.0


def agreement(ours: Dataset, theirs: Dataset, keys: tuple[str, ...], subjects: set[str] | None = None) -> Agreement:
    """How many values of `ours` agree with `theirs` by key (restricted to `subjects`)."""
    if subjects is not None:
        theirs = _subset(theirs, subjects)
        ours = _subset(ours, subjects)
    result = compare_datasets(theirs, ours, KeyChoice(keys, KeySource.OPTION), TOLERANCE, 5)
    differing = {d.variable: d.count for d in result.value_differences}
    unmatched = sum(r.count for r in result.records_only)
    return Agreement(
        dataset=ours.name,
        records_ours=len(ours.frame),
        records_theirs=len(theirs.frame),
        records_matched=result.records_compared,
        values_compared=result.records_compared * result.variables_compared + unmatched * result.variables_compared,
        values_differing=sum(differing.values()) + unmatched * result.variables_compared,
        by_variable=differing,
        only_ours=result.variables_only_in_compare,
        only_theirs=result.variables_only_in_base,
    )


def _subset(dataset: Dataset, subjects: set[str]) -> Dataset:
    frame = dataset.frame[dataset.frame["USUBJID"].isin(subjects)].reset_index(drop=True)
    return Dataset(**{**vars(dataset), "frame": frame})


def _with_parent_keys(supplemental: Dataset, folder: Path) -> Dataset:
    """A SUPP-- dataset with its parent record's natural keys instead of IDVARVAL, so that it
    matches by record whichever way each side numbered the parent's --SEQ."""
    parent_name, seq, keys = PARENT_KEYS[supplemental.name]
    parent = read_xpt_dataset(folder / f"{parent_name.lower()}.xpt").frame[["USUBJID", seq, *keys]]
    frame = supplemental.frame.assign(**{seq: pd.to_numeric(supplemental.frame["IDVARVAL"]).astype(float)})
    frame = frame.merge(parent.astype({seq: float}), on=["USUBJID", seq], how="left").drop(columns=[seq, "IDVARVAL"])
    variables = tuple(v for v in supplemental.variables if v.name != "IDVARVAL")
    extra = tuple(
        v for name in keys for v in read_xpt_dataset(folder / f"{parent_name.lower()}.xpt").variables if v.name == name
    )
    return Dataset(**{**vars(supplemental), "frame": frame, "variables": variables + extra})


def _read(folder: Path, name: str) -> Dataset:
    dataset = read_xpt_dataset(folder / f"{name.lower()}.xpt")
    return _with_parent_keys(dataset, folder) if name in PARENT_KEYS else dataset


def agreements(sdtm: Path, subjects: set[str] | None = None) -> list[Agreement]:
    return [
        agreement(_read(sdtm, name), _read(PHARMAVERSE / "sdtm", name), keys, subjects) for name, keys in KEYS.items()
    ]


def markdown(results: list[Agreement]) -> str:
    lines = [
        "# CDISCPILOT01: cdisc-cup's SDTM against pharmaverse's",
        "",
        "Generated by `python examples/cdiscpilot01/make_comparison.py` (do not edit). Records matched",
        "by natural keys; a value agrees when equal as SAS reads it (`cdisc_cup.compare`). A record",
        "only one side has counts as that many differing values. Why each variable differs (last",
        "column) was decided from the raw data.",
        "",
        "| dataset | records (ours / pharmaverse / matched) | values compared | agree | unexplained differences |",
        "| --- | --- | --- | --- | --- |",
    ]
    for r in results:
        unexplained = sum(count for name, count in r.by_variable.items() if (r.dataset, name) not in EXPLANATIONS)
        lines.append(
            f"| {r.dataset} | {r.records_ours} / {r.records_theirs} / {r.records_matched} | {r.values_compared} "
            f"| {100 * r.share:.2f}% | {unexplained} |"
        )
    lines += ["", NOT_BUILT]
    for r in results:
        lines += ["", f"## {r.dataset}", "", f"Keys: {', '.join(KEYS[r.dataset])}.", ""]
        if r.only_theirs:
            lines.append(f"Only in pharmaverse (not built): {', '.join(r.only_theirs)}.")
        if r.only_ours:
            lines.append(f"Only in ours: {', '.join(r.only_ours)}.")
        if r.by_variable:
            lines += ["", "| variable | differing values | why |", "| --- | --- | --- |"]
            lines += [
                f"| {name} | {count} | {EXPLANATIONS.get((r.dataset, name), 'not explained')} |"
                for name, count in sorted(r.by_variable.items())
            ]
        else:
            lines.append("Every compared value agrees.")
    return "\n".join(lines) + "\n"


def main(arguments: list[str]) -> None:
    if arguments:
        results = agreements(Path(arguments[0]))
    else:
        with tempfile.TemporaryDirectory() as folder:
            out = Path(folder) / "out"
            result = convert(PHARMAVERSE / "raw", out, HERE / "specs")
            results = agreements(result.layout.sdtm)
    (HERE / "COMPARISON.md").write_text(markdown(results))
    for r in results:
        print(f"{r.dataset}: {100 * r.share:.2f}% ({r.values_differing} of {r.values_compared})", r.by_variable)


if __name__ == "__main__":
    main(sys.argv[1:])
