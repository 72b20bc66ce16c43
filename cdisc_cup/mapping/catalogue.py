"""The catalogue of named derivations a spec may call (`value: {derivation: NAME, ...}`).

Only these functions run; no code from spec files is executed. Each entry says whether it
works on the records of one record block (`record`: it may read the block's columns, those
of its raw file or of the SDTM datasets it comes from) or on the finished dataset
(`dataset`: it reads SDTM variables and datasets built before this one, such as DM.RFSTDTC
for study days; a spec-defined row can use only these).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Literal

import numpy as np
import pandas as pd

from cdisc_cup import conditions
from cdisc_cup.columns import (
    extreme_of_ranks,
    extreme_per_key,
    first_of_each,
    key_codes,
    lookup,
    parse_numbers,
    sorted_codes,
    stable_order,
)
from cdisc_cup.conditions import Condition
from cdisc_cup.derivations.dates import complete_dates, day_after, study_day, with_time
from cdisc_cup.derivations.text import ascii_text
from cdisc_cup.errors import Problem, SpecErrors
from cdisc_cup.provenance import BLOCK, LINE, SOURCE_FILE, RawTable
from cdisc_cup.spec.model import DatasetSpec, StudySpec


@dataclass
class DerivationInput:
    """What a derivation may read: never files, never anything outside the run."""

    study: StudySpec
    spec: DatasetSpec
    raw: Mapping[str, RawTable]
    built: Mapping[str, pd.DataFrame]
    frame: pd.DataFrame  # the records built so far (one block, or the whole dataset)
    # What the block's records are made from (record-level only): its raw records, or the
    # records of the SDTM datasets it comes from (their variables are its columns).
    rows: pd.DataFrame | None = None
    # What several derivations work out alike, by (what, the records' variables it reads):
    # where each record's key is in an earlier dataset (a dataset's study days and epochs all
    # look up DM by USUBJID), the keys the records share with a raw file (DM's reference
    # dates all group the administrations by patient), the dates of a visit (SV's first and
    # last). Kept while those variables are unchanged.
    memo: dict[tuple[str, tuple[str, ...]], Any] = field(default_factory=dict, repr=False)

    def forget(self, variable: str) -> None:
        """The records' `variable` has new values: what was worked out from it must be again."""
        self.memo = {key: found for key, found in self.memo.items() if variable not in key[1]}

    def remembered(self, what: str, by: Sequence[str], work: Callable[[], Any]) -> Any:
        """`work()`, once while the records' `by` variables keep their values."""
        key = (what, tuple(by))
        if key not in self.memo:
            self.memo[key] = work()
        return self.memo[key]

    def keys_with_raw(self, file_name: str) -> tuple[np.ndarray, np.ndarray]:
        """Subject keys of a raw file's records and of the block's records, equal for the same
        subject (`shared_keys` by the study's subject key), worked out once per block."""
        assert self.rows is not None, "raw files are joined by subject only in record-level derivations"
        key = self.study.subject_key
        rows = self.rows
        if file_name == "":  # the block's own records
            return self.remembered("own records", (), lambda: (shared_keys([key], rows)[0],) * 2)
        other = self.raw[file_name].frame
        return self.remembered(f"raw file {file_name}", (), lambda: tuple(shared_keys([key], other, rows)))

    def raw_column(self, name: str) -> pd.Series:
        """A column of the block's records, or `file.COLUMN` of another raw file joined by subject."""
        assert self.rows is not None, "raw columns are only available to record-level derivations"
        if "." not in name:
            return self.rows[name]
        file_name, column = name.split(".", 1)
        other = self.raw[file_name].frame
        key = self.study.subject_key
        return lookup(self.rows[key], other[key], other[column])

    def dataset(self, name: str) -> pd.DataFrame:
        """An SDTM dataset built before this one (or this one, as built so far)."""
        if name == self.spec.name:
            return self.frame
        if name not in self.built:
            raise SpecErrors(
                [
                    Problem(
                        str(self.spec.path),
                        f"{self.spec.name} reads {name}, which is not built before it",
                        expected="a dataset listed before it in study.yaml (sdtm)",
                    )
                ]
            )
        return self.built[name]

    def subject_lookup(self, dataset: str, variable: str) -> pd.Series:
        """DM-style lookup of another dataset's subject-level variable by USUBJID."""
        return self.lookup(dataset, variable, ("USUBJID",))

    def lookup(self, dataset: str, variable: str, by: Sequence[str]) -> pd.Series:
        """The value of `variable` in the record of `dataset` with this record's `by` values;
        a key that names two records there is a spec error (the lookup needs more `by`)."""
        source = self.dataset(dataset)
        if dataset == self.spec.name:  # this dataset's records change as it is built
            present, positions = self._match(dataset, source, variable, by)
        else:
            present, positions = self.remembered(
                f"lookup in {dataset}", by, lambda: self._match(dataset, source, variable, by)
            )
        values = source[variable].array[present].take(positions, allow_fill=True)
        return pd.Series(values, index=self.frame.index, name=variable)

    def _match(
        self, dataset: str, source: pd.DataFrame, variable: str, by: Sequence[str]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Which records of `source` have a key, and the position among them of each record's."""
        own_keys, source_keys = shared_keys(by, self.frame, source)
        present = source_keys >= 0
        repeated = pd.Series(source_keys[present]).duplicated().to_numpy()
        if repeated.any():
            example = source.loc[present, list(by)].iloc[int(repeated.argmax())]
            raise SpecErrors(
                [
                    Problem(
                        str(self.spec.path),
                        f"{dataset} has more than one record per {', '.join(by)}: a lookup of {variable} is ambiguous",
                        value=", ".join(map(str, example)),
                        expected="by variables that identify one record",
                    )
                ]
            )
        positions = pd.Index(source_keys[present]).get_indexer(own_keys)
        positions[own_keys < 0] = -1
        return present, positions


def shared_keys(by: Sequence[str], *frames: pd.DataFrame) -> list[np.ndarray]:
    """One integer key per record of each frame for its `by` values, equal for equal values
    across the frames and -1 where one of them is missing (so that it matches nothing); with no
    `by`, one key for all records. Numbers are compared as numbers (VISITNUM 101 and 101.0)."""
    if not by:
        return [np.zeros(len(frame), dtype=np.int64) for frame in frames]
    return key_codes(frames, by, missing_matches=False)


def _extreme_per_record(
    own_keys: np.ndarray, keys: np.ndarray, values: pd.Series, how: Literal["min", "max"], index: pd.Index
) -> pd.Series:
    """For each record (its key in `own_keys`), the min or max of the `values` whose key is
    the same: the first dose of a subject, the last date of a visit."""
    extremes = extreme_per_key(keys, values, how)
    positions = extremes.index.get_indexer(own_keys)
    return pd.Series(extremes.array.take(positions, allow_fill=True), index=index, dtype="string")


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


def _per_subject(
    data: DerivationInput,
    source: str,
    dates: pd.Series,
    how: Literal["min", "max"],
    where: Condition | None = None,
    time: str | None = None,
) -> pd.Series:
    """The min or max complete date per subject of the raw file's records that `where` selects;
    with `time`, a date with its time (ISO 8601 `2014-07-02T11:45`) where the record has one,
    so the latest of a day is the one with a time (RFPENDTC)."""
    frame = data.raw[source].frame
    complete = dates.where(dates.str.len() == 10)
    if time is not None:
        complete = with_time(complete, frame[time])
    if where is not None:
        chosen = conditions.evaluate(where, conditions.Subjects(read=lambda _, name: frame[name], index=frame.index))
        complete = complete.where(chosen)
    keys, own_keys = data.keys_with_raw(source)
    return _extreme_per_record(own_keys, keys, complete.astype("string"), how, data.rows.index)


@derivation("reference_start", "record", "from", "date", "where")
def derive_reference_start(
    data: DerivationInput, date: str, where: Condition | None = None, **options: str
) -> pd.Series:
    """Earliest complete date of a raw file per subject (RFSTDTC/RFXSTDTC: first dose), of the
    records `where` selects (all without it)."""
    source = options["from"]
    return _per_subject(data, source, data.raw[source].frame[date], "min", where)


@derivation("reference_end", "record", "from", "date", "fallback", "where", "time")
def derive_reference_end(
    data: DerivationInput,
    date: str,
    fallback: str | None = None,
    where: Condition | None = None,
    time: str | None = None,
    **options: str,
) -> pd.Series:
    """Latest end per subject; an empty end falls back (a one-day administration ends on its
    start). `where` selects the records (RFENDTC: the disposition event), `time` adds the time
    of day a record has (RFPENDTC: the last contact, with its time)."""
    source = options["from"]
    frame = data.raw[source].frame
    dates = frame[date] if fallback is None else frame[date].fillna(frame[fallback])
    return _per_subject(data, source, dates, "max", where, time)


@derivation("last_contact", "record", "dates", "times")
def derive_last_contact(
    data: DerivationInput, dates: Sequence[str], times: Mapping[str, str] | None = None
) -> pd.Series:
    """Date of last contact (SDTMIG 3.4 DM RFPENDTC): the latest date of the patient's record
    in any of the raw files named (`file.COLUMN`, or COLUMN of the block's own file). A partial
    date counts as the first day it allows (an AE onset `2021-02` proves contact on or after
    1 February), so the end of participation is on or after every date of the patient.
    `times` names the time-of-day column of a date's file (`{disposition.DSDTCOL: DSTMCOL}`):
    that date counts with its time (`2014-07-02T11:45`), so the last contact of a day is the
    record with a time."""
    index = data.rows.index
    latest_per_file = []
    for reference in dates:
        file_name, _, column = reference.rpartition(".")
        frame = data.raw[file_name].frame if file_name else data.rows
        complete = _earliest_day(frame[column])
        if times and reference in times:
            complete = with_time(complete, frame[times[reference]])
        # Each file's latest date per record first: the files hold millions of dates, the
        # records are a hundred thousand.
        keys, own_keys = data.keys_with_raw(file_name)
        latest_per_file.append(_extreme_per_record(own_keys, keys, complete, "max", index))
    records = np.tile(np.arange(len(index)), len(dates))
    stacked = pd.concat(latest_per_file, ignore_index=True)
    return _extreme_per_record(np.arange(len(index)), records, stacked, "max", index)


def _earliest_day(dates: pd.Series) -> pd.Series:
    """A date as the first day it allows (2021-02 as 2021-02-01, 2021 as 2021-01-01), a
    complete date as it is, anything else missing; worked out once per distinct date."""
    codes, distinct = pd.factorize(dates.astype("string"))
    text = pd.Series(distinct, dtype="string")
    length = text.str.len()
    earliest = text.where(length != 7, text + "-01").where(length != 4, text + "-01-01")
    earliest = earliest.where(earliest.str.len() == 10)
    return pd.Series(earliest.array.take(codes, allow_fill=True), index=dates.index, dtype="string")


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
    """VISIT = `CYCLE n DAY d`, the protocol's name of an administration visit: named once per
    distinct cycle and day (1.7 million administrations have a few hundred)."""
    visits = pd.DataFrame({"cycle": data.raw_column(cycle), "day": data.raw_column(day)})
    (codes,) = key_codes([visits], ["cycle", "day"])
    named = visits.take(first_of_each(codes)).astype("string")
    names = "CYCLE " + named["cycle"] + " DAY " + named["day"]
    return pd.Series(names.array.take(codes), index=visits.index, dtype="string")


@derivation("ascii_text", "record", "column")
def derive_ascii_text(data: DerivationInput, column: str) -> pd.Series:
    """SAS XPORT v5 holds ASCII only: German letters are transliterated (ä -> ae), never dropped."""
    return ascii_text(data.raw_column(column))


@derivation("uppercase", "record", "column")
def derive_uppercase(data: DerivationInput, column: str) -> pd.Series:
    """Collected text in capitals, as SDTM submits verbatim terms and CT terms (`Protocol
    Completed` -> PROTOCOL COMPLETED, `Week 2` -> WEEK 2)."""
    return data.raw_column(column).astype("string").str.upper()


@derivation("template", "record", "template")
def derive_template(data: DerivationInput, template: str) -> pd.Series:
    """Text from a pattern naming raw columns in braces (`01-{PATNUM}`): an identifier the EDC
    holds in parts. A record missing one of the columns gets no value."""
    pieces = re.split(r"\{([^{}]+)\}", template)
    text = pd.Series(pieces[0], index=data.frame.index, dtype="string")
    for position in range(1, len(pieces), 2):
        text = text + data.raw_column(pieces[position]).astype("string") + pieces[position + 1]
    return text


@derivation("extract", "record", "column", "pattern")
def derive_extract(data: DerivationInput, column: str, pattern: str) -> pd.Series:
    """The part of a raw value that the regular expression's one group matches (SITEID `701`
    and SUBJID `1015` of `701-1015`; the number of `Unscheduled 4.1`); no match, no value."""
    compiled = re.compile(pattern)
    if compiled.groups != 1:
        raise SpecErrors(
            [
                Problem(
                    str(data.spec.path),
                    f"the pattern of extract has {compiled.groups} groups",
                    value=pattern,
                    expected="a regular expression with one group in parentheses, the part to keep",
                )
            ]
        )
    values = data.raw_column(column).astype("string")
    return values.str.extract(f"^(?:{pattern})$", expand=False).astype("string")


@derivation("date_time", "record", "date", "time")
def derive_date_time(data: DerivationInput, date: str, time: str) -> pd.Series:
    """ISO 8601 date and time (`2014-07-02T11:45`) from a date and a time-of-day column (HH:MM);
    the date alone where no time was collected (SDTMIG 3.4 section 4.4.1)."""
    return with_time(data.raw_column(date).astype("string"), data.raw_column(time))


@derivation("scaled", "record", "column", "factor", "offset", "decimals")
def derive_scaled(
    data: DerivationInput, column: str, factor: float = 1, offset: float = 0, decimals: int | None = None
) -> pd.Series:
    """A number in another unit, value x factor + offset, rounded to `decimals`: the standard
    unit of a findings result (in to cm: factor 2.54; F to C: factor 5/9, offset -160/9)."""
    values = parse_numbers(data.raw_column(column).astype("string")).astype("Float64") * factor + offset
    return values.round(decimals) if decimals is not None else values


SEQ_TIES = ("rows", "values")


@derivation("seq", "dataset", "order", "within", "ties")
def derive_seq(
    data: DerivationInput, order: Sequence[str] = (), within: Sequence[str] = ("USUBJID",), ties: str = "rows"
) -> pd.Series:
    """--SEQ: 1, 2, ... within USUBJID (TS: within TSPARMCD, SDTMIG 3.4 TSSEQ), in the order of
    `order` (stable, missing last), then of the spec's record blocks. Records still tied keep
    the order of the raw rows (`ties: rows`), or with `ties: values` are ordered by the values
    of the dataset's other variables, in spec order: the same records get the same numbers
    whatever order the export lists them in."""
    if ties not in SEQ_TIES:
        raise SpecErrors(
            [
                Problem(
                    str(data.spec.path),
                    f"{data.spec.name}: seq's ties is {ties!r}",
                    value=str(ties),
                    expected=" or ".join(SEQ_TIES),
                )
            ]
        )
    frame = data.frame
    by = [*within, *order, BLOCK]
    if ties == "values":
        by += [name for name in data.spec.variable_names if name not in by and name in frame.columns]
    ranked = stable_order(frame, list(dict.fromkeys(by)))
    (groups,) = shared_keys(within, frame)
    # Sorted by `within` first, the records of a group are adjacent: each one's number is its
    # distance from where its group starts, plus one.
    in_order = groups[ranked]
    positions = np.arange(len(ranked))
    starts = np.r_[True, in_order[1:] != in_order[:-1]] if len(ranked) else np.zeros(0, dtype=bool)
    sequence = np.empty(len(ranked))
    sequence[ranked] = positions - np.maximum.accumulate(np.where(starts, positions, 0)) + 1
    sequence[groups < 0] = np.nan
    return pd.Series(sequence, index=frame.index).astype("Float64")


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
    # A missing `by` value is a group of its own (a test with no planned time point), not left out.
    ordered = candidates.sort_values([*keys, "_when"], kind="stable")
    latest = ordered.groupby(keys, sort=False, dropna=False).tail(1).index
    flag = pd.Series(pd.NA, index=frame.index, dtype="string")
    return flag.mask(frame.index.isin(latest), "Y")


@derivation("parent_seq", "dataset")
def derive_parent_seq(data: DerivationInput) -> pd.Series:
    """SUPP-- IDVARVAL: the --SEQ of the parent record built from the same raw record."""
    parent_name = data.spec.parent
    parent = data.built[parent_name]
    seq_variable = f"{parent_name}SEQ"
    own_keys, parent_keys = shared_keys([SOURCE_FILE, LINE], data.frame, parent)
    positions = pd.Index(parent_keys).get_indexer(own_keys)  # a raw record gives one parent record
    positions[own_keys < 0] = -1
    seq = parent[seq_variable].array.take(positions, allow_fill=True)
    return pd.Series(seq, index=data.frame.index).astype("Int64").astype("string")


@derivation("lookup", "dataset", "dataset", "variable", "by")
def derive_lookup(data: DerivationInput, dataset: str, variable: str, by: Sequence[str] = ("USUBJID",)) -> pd.Series:
    """A variable of a dataset built earlier, from its record with this record's `by` values:
    a subject-level variable by USUBJID (DM.RFSTDTC), an element's EPOCH in TA by ETCD, a
    visit's planned day in TV by VISITNUM."""
    return data.lookup(dataset, variable, by)


@derivation("day_after", "record", "column", "not_after")
def derive_day_after(data: DerivationInput, column: str, not_after: str | None = None) -> pd.Series:
    """The day after a complete date, no later than `not_after`: where an element that ends with
    a day (the last dose) hands over to the next one (SE.SEENDTC of TREATMENT, SESTDTC of
    FOLLOW-UP), so that an element runs from its start up to, not including, its end."""
    following = day_after(data.raw_column(column))
    if not_after is None:
        return following
    limit = data.raw_column(not_after).astype("string")
    return following.where(~(following > limit).fillna(False).astype(bool), limit)


def _extreme_date(
    data: DerivationInput, dates: Sequence[str], by: Sequence[str], how: Literal["min", "max"]
) -> pd.Series:
    """Per record, the min or max of the complete dates of the named `DATASET.VARIABLE`s among
    the records with its `by` values (ISO text sorts as dates do); a datetime counts by its
    date (a DSDTC collected at 10:45 is a complete date with a time)."""
    references = [reference.split(".", 1) for reference in dates]
    if any(dataset == data.spec.name for dataset, _ in references):  # its dates change as it is built
        own_keys, keys, codes, distinct = _ranked_dates(data, references, by)
    else:
        work = partial(_ranked_dates, data, references, by)
        own_keys, keys, codes, distinct = data.remembered("dates " + ", ".join(dates), by, work)
    extremes = extreme_of_ranks(keys, codes, distinct, how)
    positions = extremes.index.get_indexer(own_keys)
    return pd.Series(extremes.array.take(positions, allow_fill=True), index=data.frame.index, dtype="string")


def _ranked_dates(
    data: DerivationInput, references: Sequence[Sequence[str]], by: Sequence[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, pd.Index]:
    """The records' keys, the keys of the dated records of the datasets referenced, and
    their days ranked (`sorted_codes`; -1 for a partial date): what the earliest and the
    latest of the same dates share (SV's SVSTDTC and SVENDTC)."""
    sources = [data.dataset(dataset) for dataset, _ in references]
    own_keys, *source_keys = shared_keys(by, data.frame, *sources)
    values = pd.concat(
        [source[variable].astype("string") for (_, variable), source in zip(references, sources, strict=True)],
        ignore_index=True,
    )
    complete = values.str.fullmatch(r"\d{4}-\d{2}-\d{2}(T.*)?").fillna(False).astype(bool)
    codes, distinct = sorted_codes(values.str[:10].where(complete))
    return own_keys, np.concatenate(source_keys), codes, distinct


@derivation("earliest_date", "dataset", "dates", "by")
def derive_earliest_date(data: DerivationInput, dates: Sequence[str], by: Sequence[str] = ()) -> pd.Series:
    """The earliest complete date among the records of earlier datasets (`DATASET.VARIABLE`) that
    share this record's `by` values; with no `by`, of the whole study (TS SSTDTC: the first
    informed consent). Partial dates cannot say which day came first and do not count."""
    return _extreme_date(data, dates, by, "min")


@derivation("latest_date", "dataset", "dates", "by")
def derive_latest_date(data: DerivationInput, dates: Sequence[str], by: Sequence[str] = ()) -> pd.Series:
    """The latest complete date among the records of earlier datasets sharing this record's `by`
    values (SV.SVENDTC of a visit; TS SENDTC, with no `by`: the last contact of the study)."""
    return _extreme_date(data, dates, by, "max")


@derivation("subject_count", "dataset", "dataset")
def derive_subject_count(data: DerivationInput, dataset: str) -> pd.Series:
    """The number of subjects (distinct USUBJID) of an earlier dataset: TS ACTSUB from DM."""
    count = data.dataset(dataset)["USUBJID"].nunique()
    return pd.Series(float(count), index=data.frame.index, dtype="Float64")


@derivation("exists_flag", "dataset", "dataset", "by")
def derive_exists_flag(data: DerivationInput, dataset: str, by: Sequence[str]) -> pd.Series:
    """Y where an earlier dataset has a record with this record's `by` values, else null
    (SV.SVPRESP: the visit is a planned visit of TV, SDTMIG 3.4 SV assumption 4)."""
    own_keys, source_keys = shared_keys(by, data.frame, data.dataset(dataset))
    found = (own_keys >= 0) & np.isin(own_keys, source_keys[source_keys >= 0])
    return pd.Series(pd.NA, index=data.frame.index, dtype="string").mask(found, "Y")


@derivation("term_code", "dataset", "variable")
def derive_term_code(data: DerivationInput, variable: str) -> pd.Series:
    """The NCI code of the value of `variable` in the codelist of its record block (TS.TSVALCD
    of a TSVAL from CDISC CT, SDTMIG 3.4 TS assumption 9); null where the block names none."""
    frame = data.frame
    codelist_ids = frame[BLOCK].map(dict(enumerate(data.spec.codelists_by_block(variable))))
    terms = pd.DataFrame(
        [
            (codelist_id, term.value, term.nci_code)
            for codelist_id in codelist_ids.dropna().unique()
            for term in data.study.terminology.codelist(str(codelist_id)).terms
        ],
        columns=["codelist", "value", "code"],
    )
    records = pd.DataFrame({"codelist": codelist_ids.astype("string"), "value": frame[variable].astype("string")})
    coded = records.merge(terms.astype("string"), on=["codelist", "value"], how="left")
    return pd.Series(coded["code"].to_numpy(), index=frame.index, dtype="string")


@derivation("paired_term", "dataset", "variable", "paired")
def derive_paired_term(data: DerivationInput, variable: str, paired: str) -> pd.Series:
    """The term of the codelist `paired` with the NCI code that the value of `variable` has in
    its own codelist: TSPARM of TSPARMCD (CDISC CT pairs C67152 with C66738 term by term), so
    the two never disagree (CORE-000179); null for a value without a pair."""
    terminology = data.study.terminology
    own = terminology.codelist(str(data.spec.variable(variable).codelist))
    by_code = {term.nci_code: term.value for term in terminology.codelist(paired).terms if term.nci_code}
    decode = {term.value: by_code[term.nci_code] for term in own.terms if term.nci_code in by_code}
    return data.frame[variable].astype("string").map(decode).astype("string")
