"""The catalogue of named derivations a spec may call (`value: {derivation: NAME, ...}`).

Only these functions run; no code from spec files is executed. Each entry says whether it
works on the raw records of one record block (`record`: it may read raw columns) or on the
finished dataset (`dataset`: it reads SDTM variables and datasets built before this one,
such as DM.RFSTDTC for study days).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import pandas as pd

from cdisc_cup.columns import lookup
from cdisc_cup.derivations.dates import complete_dates, study_day
from cdisc_cup.derivations.text import ascii_text
from cdisc_cup.provenance import LINE, SOURCE_FILE, RawTable
from cdisc_cup.spec.model import DatasetSpec, StudySpec


@dataclass
class DerivationInput:
    """What a derivation may read: never files, never anything outside the run."""

    study: StudySpec
    spec: DatasetSpec
    raw: Mapping[str, RawTable]
    built: Mapping[str, pd.DataFrame]
    frame: pd.DataFrame  # the records built so far (one block, or the whole dataset)
    rows: pd.DataFrame | None = None  # raw records of the block (record-level only)

    def raw_column(self, name: str) -> pd.Series:
        """A raw column of the block, or `file.COLUMN` of another raw file joined by subject."""
        assert self.rows is not None, "raw columns are only available to record-level derivations"
        if "." not in name:
            return self.rows[name]
        file_name, column = name.split(".", 1)
        other = self.raw[file_name].frame
        key = self.study.subject_key
        return lookup(self.rows[key], other[key], other[column])

    def subject_lookup(self, dataset: str, variable: str) -> pd.Series:
        """DM-style lookup of another dataset's subject-level variable by USUBJID."""
        source = self.frame if dataset == self.spec.name else self.built[dataset]
        return lookup(self.frame["USUBJID"], source["USUBJID"], source[variable])


DerivationFunction = Callable[..., pd.Series]


@dataclass(frozen=True)
class Derivation:
    name: str
    level: Literal["record", "dataset"]
    function: DerivationFunction
    parameters: tuple[str, ...]


CATALOGUE: dict[str, Derivation] = {}


def derivation(
    name: str, level: Literal["record", "dataset"], *parameters: str
) -> Callable[[DerivationFunction], DerivationFunction]:
    def register(function: DerivationFunction) -> DerivationFunction:
        CATALOGUE[name] = Derivation(name, level, function, parameters)
        return function

    return register


@derivation("usubjid", "record", "column")
def derive_usubjid(data: DerivationInput, column: str) -> pd.Series:
    """FORMAT.md conventions: USUBJID = STUDYID-PATNO, unique across the submission."""
    return data.study.studyid + "-" + data.raw_column(column).astype("string")


def _per_subject(data: DerivationInput, source: str, dates: pd.Series, how: Literal["min", "max"]) -> pd.Series:
    subjects = data.raw[source].frame[data.study.subject_key]
    complete = dates.where(dates.str.len() == 10)
    by_subject = complete.groupby(subjects).agg(how)
    return data.rows[data.study.subject_key].map(by_subject).astype("string")


@derivation("reference_start", "record", "from", "date")
def derive_reference_start(data: DerivationInput, date: str, **options: str) -> pd.Series:
    """Earliest complete date of a raw file per subject (RFSTDTC/RFXSTDTC: first dose)."""
    source = options["from"]
    return _per_subject(data, source, data.raw[source].frame[date], "min")


@derivation("reference_end", "record", "from", "date", "fallback")
def derive_reference_end(data: DerivationInput, date: str, fallback: str | None = None, **options: str) -> pd.Series:
    """Latest end per subject; an empty end falls back (a one-day administration ends on its start)."""
    source = options["from"]
    frame = data.raw[source].frame
    dates = frame[date] if fallback is None else frame[date].fillna(frame[fallback])
    return _per_subject(data, source, dates, "max")


@derivation("last_contact", "record", "dates")
def derive_last_contact(data: DerivationInput, dates: Sequence[str]) -> pd.Series:
    """Date of last contact (SDTMIG 3.4 DM RFPENDTC): the latest date of the patient's record
    in any of the raw files named (`file.COLUMN`, or COLUMN of the block's own file). A partial
    date counts as the first day it allows (an AE onset `2021-02` proves contact on or after
    1 February), so the end of participation is on or after every date of the patient."""
    key = data.study.subject_key
    parts = []
    for reference in dates:
        file_name, _, column = reference.rpartition(".")
        frame = data.raw[file_name].frame if file_name else data.rows
        values = frame[column].astype("string")
        length = values.str.len()
        earliest_day = values.where(length != 7, values + "-01").where(length != 4, values + "-01-01")
        parts.append(pd.DataFrame({"subject": frame[key], "date": earliest_day.where(earliest_day.str.len() == 10)}))
    stacked = pd.concat(parts, ignore_index=True).dropna()
    latest = stacked.groupby("subject")["date"].max()
    return lookup(data.rows[key], pd.Series(latest.index), pd.Series(latest.to_numpy())).astype("string")


@derivation("first_present", "record", "columns")
def derive_first_present(data: DerivationInput, columns: Sequence[str]) -> pd.Series:
    """The first non-missing of several raw columns (EXENDTC: ENDDAT, else STARTDAT)."""
    result = data.raw_column(columns[0])
    for column in columns[1:]:
        result = result.fillna(data.raw_column(column))
    return result


@derivation("cycle_visitnum", "record", "cycle", "day")
def derive_cycle_visitnum(data: DerivationInput, cycle: str, day: str) -> pd.Series:
    """VISITNUM = divisor x cycle + day, so visits sort in time order (cycle 2 day 15 = 215 with
    the study parameter `visitnum_cycle_divisor` 100, which ADaM reads to get the cycle back)."""
    divisor = int(data.study.parameters["visitnum_cycle_divisor"])
    return (data.raw_column(cycle) * divisor + data.raw_column(day)).astype("Float64")


@derivation("cycle_visit", "record", "cycle", "day")
def derive_cycle_visit(data: DerivationInput, cycle: str, day: str) -> pd.Series:
    """VISIT = `CYCLE n DAY d`, the protocol's name of an administration visit."""
    return "CYCLE " + data.raw_column(cycle).astype("string") + " DAY " + data.raw_column(day).astype("string")


@derivation("ascii_text", "record", "column")
def derive_ascii_text(data: DerivationInput, column: str) -> pd.Series:
    """SAS XPORT v5 holds ASCII only: German letters are transliterated (ä -> ae), never dropped."""
    return ascii_text(data.raw_column(column))


@derivation("seq", "dataset", "order")
def derive_seq(data: DerivationInput, order: Sequence[str]) -> pd.Series:
    """--SEQ: 1, 2, ... within USUBJID, in the order of `order` (stable, missing last)."""
    frame = data.frame
    ranked = frame.sort_values(["USUBJID", *order], kind="stable", na_position="last")
    sequence = ranked.groupby("USUBJID", sort=False).cumcount() + 1
    return sequence.reindex(frame.index).astype("Float64")


@derivation("study_day", "dataset", "date")
def derive_study_day(data: DerivationInput, date: str) -> pd.Series:
    """--DY of a complete --DTC relative to DM.RFSTDTC (SDTMIG 3.4 section 4.4.4; no day 0)."""
    return study_day(data.frame[date], data.subject_lookup("DM", "RFSTDTC"))


@derivation("epoch", "dataset", "date")
def derive_epoch(data: DerivationInput, date: str) -> pd.Series:
    """EPOCH from a complete date: SCREENING before first dose (every date of a patient never
    dosed), TREATMENT to last dose, then FOLLOW-UP."""
    when = complete_dates(data.frame[date])
    first = complete_dates(data.subject_lookup("DM", "RFXSTDTC"))
    last = complete_dates(data.subject_lookup("DM", "RFXENDTC"))
    epoch = pd.Series(pd.NA, index=data.frame.index, dtype="string")
    # A patient never dosed never left screening: no TREATMENT or FOLLOW-UP epoch for them.
    epoch = epoch.mask((when < first) | (first.isna() & when.notna()), "SCREENING")
    epoch = epoch.mask((when >= first) & (when <= last), "TREATMENT")
    return epoch.mask(when > last, "FOLLOW-UP")


@derivation("last_before_exposure_flag", "dataset", "date", "by")
def derive_last_before_exposure_flag(data: DerivationInput, date: str, by: Sequence[str] = ()) -> pd.Series:
    """--LOBXFL (SDTMIG 3.4): Y on the latest record per subject and test on or before first dose."""
    frame = data.frame
    when = complete_dates(frame[date])
    first_dose = complete_dates(data.subject_lookup("DM", "RFXSTDTC"))
    # A patient never dosed has no exposure to be last before: no flag (SDTMIG 3.4 --LOBXFL).
    eligible = when.notna() & first_dose.notna() & (when <= first_dose)
    keys = ["USUBJID", *by]
    candidates = frame.loc[eligible, keys].assign(_when=when[eligible])
    latest = candidates.sort_values([*keys, "_when"], kind="stable").groupby(keys, sort=False).tail(1).index
    flag = pd.Series(pd.NA, index=frame.index, dtype="string")
    return flag.mask(frame.index.isin(latest), "Y")


@derivation("parent_seq", "dataset")
def derive_parent_seq(data: DerivationInput) -> pd.Series:
    """SUPP-- IDVARVAL: the --SEQ of the parent record built from the same raw record."""
    parent_name = data.spec.parent
    parent = data.built[parent_name]
    seq_variable = f"{parent_name}SEQ"
    key = parent[SOURCE_FILE].astype("string") + ":" + parent[LINE].astype("string")
    by_source = pd.Series(parent[seq_variable].to_numpy(), index=key.to_numpy())
    own_key = data.frame[SOURCE_FILE].astype("string") + ":" + data.frame[LINE].astype("string")
    return own_key.map(by_source).astype("Int64").astype("string")


@derivation("lookup", "dataset", "dataset", "variable")
def derive_lookup(data: DerivationInput, dataset: str, variable: str) -> pd.Series:
    """A subject-level variable of a dataset built earlier (e.g. DM.RFSTDTC), by USUBJID."""
    return data.subject_lookup(dataset, variable)
