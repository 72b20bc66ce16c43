"""How far our datasets agree with pharmaverse's, for COMPARISON.md and COMPARISON_ADAM.md.

Records are paired by natural keys, in stages: the records the first key set pairs, then those
left over by the next one (AE: without the start date, which the raw form leaves empty for 15
events pharmaverse gives one), so each record is compared with its own counterpart and only
the values that truly differ count. Records that share a key value are paired in the order of
their values (--SEQ aside), the same on both sides whatever order the files list them in. A
record that no key set pairs counts as differing in every variable compared.

Values are compared with `cdisc_cup.compare` (as SAS reads them). Values that cannot agree
(`CannotAgree`: pharmaverse leaves a variable empty while the raw data holds it, its values come
from data this raw data does not hold, it spells a CT value in another case, or it breaks ties of
an order by a variable the raw data lacks) are set apart with their reason: each report gives
the agreement over all compared values and over the values that can agree. Every such reason is
checked on the data (`CHECKS`), and the check decides which values it covers (all of the
variable's, or those of some paired records); a reason the data contradict stops the report
instead of hiding a difference.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
from pandas.api.types import is_numeric_dtype

from cdisc_cup.compare.datasets import align, compare_datasets, values_differ
from cdisc_cup.comparison import BASE, COMPARE, KeyChoice, KeySource, Tolerance
from cdisc_cup.ct.terminology import Terminology, terminology
from cdisc_cup.xpt.model import Dataset
from cdisc_cup.xpt.read import read_dataset_folder

# Numbers equal within this relative difference (the unit conversions round to 2 decimals).
TOLERANCE = Tolerance.of(None, 1e-9)
KeySets = tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class CannotAgree:
    """Why a variable's values cannot agree, decided from the raw data, and the name of the
    check (`CHECKS`) that verifies it on the data."""

    reason: str
    check: str
    # The check's own settings, as comparison.yaml gives them: theirs_after_our_dates `dates`
    # (DATASET.VARIABLE, default every --DTC), case_of_ct_value `codelist`, ties_broken_by_theirs_only
    # `by`, `order` and `theirs_breaks_ties_by`.
    options: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Agreement:
    """How many of our values agree with pharmaverse's, overall and per variable."""

    dataset: str
    key_sets: KeySets
    records: tuple[int, int, int]  # ours, theirs, paired
    compared: dict[str, int]  # variable -> values compared (records only one side has count)
    differing: dict[str, int]  # variable -> values of paired records that differ
    unpaired: tuple[int, int]  # records only ours, only theirs have: they differ in `unpaired_in`
    unpaired_in: tuple[str, ...]  # the variables the unpaired records count in (the last key set's)
    examples: dict[str, str]
    only_ours: tuple[str, ...]
    only_theirs: tuple[str, ...]
    # The paired records, ours and theirs in the same order (frame index: the record's row in
    # the dataset compared), for the checks that look at the values of each pair.
    paired: tuple[Dataset, Dataset] = field(repr=False, compare=False)
    cannot: dict[str, CannotAgree] = field(default_factory=dict)  # compared variables with values that cannot agree
    set_apart: dict[str, tuple[int, int]] = field(default_factory=dict)  # of those: (values set apart, agreeing)

    def values(self, names: Sequence[str] | None = None) -> tuple[int, int]:
        """(values compared, values agreeing) of the named variables (default: all compared)."""
        chosen = [n for n in (self.compared if names is None else names) if n in self.compared]
        total = sum(self.compared[n] for n in chosen)
        return total, total - sum(self.differing_in(n) for n in chosen)

    def differing_in(self, name: str) -> int:
        """Values of one variable that differ: its paired records' and every unpaired record."""
        return self.differing.get(name, 0) + (sum(self.unpaired) if name in self.unpaired_in else 0)

    def differing_records(self, name: str) -> np.ndarray:
        """Per paired record, whether its value of `name` differs, as the counts compare it."""
        ours, theirs = self.paired
        mine, other = (d.frame[name].reset_index(drop=True) for d in (ours, theirs))
        differ, _ = values_differ(theirs.variable(name).type, other, mine, TOLERANCE)
        return differ

    def can_agree_values(self) -> tuple[int, int]:
        """(values compared, values agreeing) without the values set apart as unable to agree."""
        total, agree = self.values()
        return total - sum(v for v, _ in self.set_apart.values()), agree - sum(a for _, a in self.set_apart.values())

    def not_set_apart(self, name: str) -> int:
        """The differing values of the paired records of a variable that no reason why they
        cannot agree covers (the unpaired records have their own explanation)."""
        values, agreeing = self.set_apart.get(name, (0, 0))
        unpaired = sum(self.unpaired) if name in self.unpaired_in else 0
        return max(self.differing_in(name) - (values - agreeing) - unpaired, 0)

    def unexplained(self, explanations: Mapping[str, object]) -> dict[str, int]:
        """Differing values of the paired records that neither an explanation nor a reason why
        they cannot agree accounts for, by variable."""
        left = {n: self.not_set_apart(n) for n in self.differing if n not in explanations}
        return {n: count for n, count in left.items() if count}

    def why(self, name: str, explanations: Mapping[str, object]) -> str:
        """The reports' reason for a variable's differing values: they cannot agree (the reason
        is given apart), or its explanation, or both where the reason covers only some."""
        explained = str(explanations.get(name, "NOT EXPLAINED")).strip()
        if name not in self.cannot:
            return explained
        left = self.not_set_apart(name)
        if not left:
            return "cannot agree (above)"
        return f"{self.differing[name] - left} cannot agree (above); the other {left}: {explained}"

    @property
    def share(self) -> float:
        """Agreement over all compared values."""
        return _share(*self.values())

    @property
    def share_can_agree(self) -> float:
        """Agreement over the values that can agree (the 99% of issue #18)."""
        return _share(*self.can_agree_values())


def _share(total: int, agree: int) -> float:
    return agree / total if total else 1.0


def subset(dataset: Dataset, subjects: set[str] | None) -> Dataset:
    if subjects is None:
        return dataset
    frame = dataset.frame[dataset.frame["USUBJID"].isin(subjects)].reset_index(drop=True)
    return Dataset(**{**vars(dataset), "frame": frame})


def _in_value_order(frame: pd.DataFrame, keys: tuple[str, ...], common: list[str]) -> pd.DataFrame:
    """The records by key, then by the values of the other common variables but --SEQ, so
    that records sharing a key value pair with their look-alikes, not by file order."""
    others = [n for n in common if n not in keys and not n.endswith("SEQ")]
    order = pd.DataFrame({n: frame[n].astype("string") for n in (*keys, *others)})
    return frame.loc[order.sort_values([*keys, *others], kind="stable", na_position="last").index]


def _stages(ours: Dataset, theirs: Dataset, key_sets: KeySets) -> list[tuple[tuple[str, ...], Dataset, Dataset]]:
    """(keys, our records, their records) per key set: what it pairs of the records the key
    sets before it left; the last one also gets the records nothing pairs. Each record keeps
    its row of the dataset as its index."""
    common = [v.name for v in theirs.variables if ours.variable(v.name) is not None]
    mine, other = ours.frame, theirs.frame
    stages = []
    for number, keys in enumerate(key_sets):
        mine, other = _in_value_order(mine, keys, common), _in_value_order(other, keys, common)
        if number < len(key_sets) - 1:
            aligned = align(other, mine, list(keys))
            stages.append((keys, mine.iloc[aligned.compare_rows], other.iloc[aligned.base_rows]))
            mine, other = mine.iloc[aligned.only_in_compare], other.iloc[aligned.only_in_base]
        else:
            stages.append((keys, mine, other))
    return [
        (keys, _with_frame(ours, mine_part), _with_frame(theirs, other_part)) for keys, mine_part, other_part in stages
    ]


def _with_frame(dataset: Dataset, frame: pd.DataFrame) -> Dataset:
    return Dataset(**{**vars(dataset), "frame": frame})


def agreement(
    ours: Dataset,
    theirs: Dataset,
    key_sets: KeySets,
    cannot: Mapping[str, CannotAgree] | None = None,
    context: CheckContext | None = None,
    max_examples: int = 3,
) -> Agreement:
    """Our dataset against pharmaverse's (module docstring); the reasons in `cannot` are
    checked on the data (`context`: what the checks read), a reason the data contradict is an
    error."""
    compared: dict[str, int] = {}
    differing: dict[str, int] = {}
    examples: dict[str, list[str]] = {}
    pairs: list[tuple[pd.DataFrame, pd.DataFrame]] = []
    paired = 0
    last = None
    for keys, mine, other in _stages(ours, theirs, key_sets):
        result = compare_datasets(other, mine, KeyChoice(keys, KeySource.OPTION), TOLERANCE, max_examples)
        last = result
        aligned = align(other.frame, mine.frame, list(keys))  # the pairs compare_datasets compared
        pairs.append((mine.frame.iloc[aligned.compare_rows], other.frame.iloc[aligned.base_rows]))
        paired += result.records_compared
        unmatched = sum(r.count for r in result.records_only)
        names = [v.name for v in theirs.variables if mine.variable(v.name) is not None and v.name not in keys]
        for name in names:
            compared[name] = compared.get(name, 0) + result.records_compared + unmatched
        for difference in result.value_differences:
            differing[difference.variable] = differing.get(difference.variable, 0) + difference.count
            rows = difference.examples.astype("string").fillna("")
            shown = [
                f"{' '.join(row[k] for k in keys)}: ours {row[COMPARE] or 'missing'}, theirs {row[BASE] or 'missing'}"
                for _, row in rows.iterrows()
            ]
            examples.setdefault(difference.variable, []).extend(shown)
    assert last is not None, "at least one key set"
    uncompared = sorted(set(cannot or {}) - set(compared))
    if uncompared:
        raise SystemExit(f"{ours.name}: {', '.join(uncompared)} set apart as unable to agree, but not compared")
    found = Agreement(
        dataset=ours.name,
        key_sets=key_sets,
        records=(len(ours.frame), len(theirs.frame), paired),
        compared=compared,
        differing={n: c for n, c in differing.items() if c},
        unpaired=(len(ours.frame) - paired, len(theirs.frame) - paired),
        unpaired_in=tuple(names),
        examples={n: "; ".join(e[:max_examples]) for n, e in examples.items()},
        only_ours=last.variables_only_in_compare,
        only_theirs=last.variables_only_in_base,
        paired=(
            _with_frame(ours, pd.concat([mine for mine, _ in pairs])),
            _with_frame(theirs, pd.concat([other for _, other in pairs])),
        ),
        cannot=dict(cannot or {}),
    )
    set_apart = {}
    for name, reason in found.cannot.items():
        covered = CHECKS[reason.check](found, name, ours, theirs, context or CheckContext())
        if covered is None:  # every value of the variable
            set_apart[name] = (found.compared[name], found.compared[name] - found.differing_in(name))
        else:
            differ = found.differing_records(name)
            set_apart[name] = (int(covered.sum()), int((covered & ~differ).sum()))
    return replace(found, set_apart=set_apart)


# --- the checks of the reasons values cannot agree ---------------------------------------
#
# A check gets the agreement, the variable, both datasets compared and the context; it stops
# the report when the data contradict the reason, and returns which values the reason covers:
# None for every value of the variable, else a mask over the paired records (`Agreement.paired`).


@dataclass(frozen=True)
class CheckContext:
    """What the checks read besides the two datasets: our SDTM folder (made from every raw
    file) and the controlled terminology of the study (its define.xml's)."""

    sdtm: Path | None = None
    terminology: Terminology = field(default_factory=terminology)

    def latest_dates(self, chosen: Sequence[str] = ()) -> pd.Series:
        """Per subject, the latest complete date (YYYY-MM-DD) of our SDTM: of the `chosen`
        DATASET.VARIABLE dates, or of every --DTC variable."""
        assert self.sdtm is not None, "this check needs our SDTM folder"
        parts = [
            pd.DataFrame({"USUBJID": dataset.frame["USUBJID"], "value": dataset.frame[name].astype("string").str[:10]})
            for dataset in read_dataset_folder(self.sdtm).values()
            if "USUBJID" in dataset.frame.columns
            for name in dataset.frame.columns
            if (f"{dataset.name}.{name}" in chosen if chosen else name.endswith("DTC"))
        ]
        stacked = pd.concat(parts, ignore_index=True)
        stacked = stacked[stacked["value"].str.len() == 10]
        return stacked.groupby("USUBJID")["value"].max()


def _as_dates(values: pd.Series) -> pd.Series:
    """ISO 8601 dates of a --DTC (its date part) or of SAS dates (days since 1960-01-01)."""
    if pd.api.types.is_numeric_dtype(values):
        days = pd.to_datetime(values, unit="D", origin="1960-01-01")
        return days.dt.date.astype("string")
    return values.astype("string").str[:10]


def _text(values: pd.Series) -> pd.Series:
    """Char values as compared, blanks as missing (XPT has no null text)."""
    text = values.astype("string").str.strip()
    return text.mask(text == "")


def _names(reason: CannotAgree, option: str) -> tuple[str, ...]:
    """A check's option that lists variable names (none when not given)."""
    listed = reason.options.get(option, ())
    return tuple(str(n) for n in listed) if isinstance(listed, list | tuple) else (str(listed),)


def _contradicted(agreement: Agreement, name: str, why: str) -> None:
    raise SystemExit(f"{agreement.dataset}.{name}: the reason given why it cannot agree does not hold: {why}")


Covered = np.ndarray | None


def check_theirs_empty(
    agreement: Agreement, name: str, ours: Dataset, theirs: Dataset, context: CheckContext
) -> Covered:
    """pharmaverse leaves the variable empty in every record (and ours has values): every value."""
    values = theirs.frame[name]
    present = values.notna() & (values.astype("string").str.strip() != "")
    if present.any():
        _contradicted(agreement, name, f"pharmaverse has {int(present.sum())} values of it")
    return None


def check_theirs_after_our_dates(
    agreement: Agreement, name: str, ours: Dataset, theirs: Dataset, context: CheckContext
) -> Covered:
    """Every value of pharmaverse's that differs from ours is later than every date our SDTM
    (made from all of the raw data) has for the subject, or than every one of the dates the
    variable is derived from (where ours has none, any date is later): its source is not in
    this raw data. Every value: where they agree, ours is right by chance of the raw data."""
    chosen = _names(agreement.cannot[name], "dates")
    latest = theirs.frame["USUBJID"].map(context.latest_dates(chosen))
    dates = _as_dates(theirs.frame[name])
    after = int((dates.notna() & (latest.isna() | (dates > latest).fillna(False))).sum())
    differing = agreement.differing_in(name)
    if after != differing:
        _contradicted(
            agreement, name, f"{differing} values differ, {after} of pharmaverse's are after all of our dates"
        )
    return None


def check_case_of_ct_value(
    agreement: Agreement, name: str, ours: Dataset, theirs: Dataset, context: CheckContext
) -> Covered:
    """pharmaverse spells a CDISC CT term in another case: where the two values of a paired
    record are the same word in other letters, ours is a submission value of the codelist
    (`codelist`) and pharmaverse's is none (CT submission values are case-sensitive). The
    values covered are those records'; any other difference is not this reason's."""
    codelist = context.terminology.codelist(str(agreement.cannot[name].options["codelist"]))
    terms = list(codelist.values())
    mine, other = (_text(d.frame[name]).reset_index(drop=True) for d in agreement.paired)
    case_variant = agreement.differing_records(name) & (mine.str.upper() == other.str.upper()).fillna(False).to_numpy()
    not_ct = case_variant & ~(mine.isin(terms) & ~other.isin(terms)).to_numpy()
    if not case_variant.any() or not_ct.any():
        pairs = zip(mine[not_ct].head(3), other[not_ct].head(3), strict=True)
        shown = "; ".join(f"ours {m}, theirs {o}" for m, o in pairs)
        _contradicted(
            agreement,
            name,
            f"of {int(case_variant.sum())} values that differ only in letter case, {int(not_ct.sum())} are not "
            f"ours a {codelist.id} term and theirs none ({shown or 'none differs so'})",
        )
    return case_variant


def _tie_ranges(frame: pd.DataFrame, by: list[str], order: list[str]) -> pd.DataFrame:
    """Per record, the first and last number (`low`, `high`) a --SEQ numbering by `order`
    within `by` (missing last) can give it: the positions of the records that tie with it."""
    keys = pd.DataFrame({n: frame[n] if is_numeric_dtype(frame[n]) else _text(frame[n]) for n in [*by, *order]})
    ranked = keys.sort_values([*by, *order], kind="stable", na_position="last")
    position = ranked.groupby(by, sort=False).cumcount() + 1
    ties = position.groupby([ranked[n] for n in [*by, *order]], dropna=False, sort=False)
    return pd.DataFrame({"low": ties.transform("min"), "high": ties.transform("max")}).reindex(frame.index)


def _within(numbers: pd.Series, ranges: pd.DataFrame) -> pd.Series:
    return numbers.ge(ranges["low"]) & numbers.le(ranges["high"])


def check_ties_broken_by_theirs_only(
    agreement: Agreement, name: str, ours: Dataset, theirs: Dataset, context: CheckContext
) -> Covered:
    """A sequence number of records that tie in the order both sides number by: pharmaverse's
    --SEQ is the rank within `by` by `order` and then `theirs_breaks_ties_by`, a variable ours
    lacks (the raw data does not hold it), and both sides' numbers follow `order` (each value
    within the range of numbers its tie spans). The values covered are those of the paired
    records whose tie spans the same numbers on both sides: which of them gets which number
    only the variable the raw data lacks decides."""
    reason = agreement.cannot[name]
    by, order = list(_names(reason, "by")), list(_names(reason, "order"))
    breaker = str(reason.options["theirs_breaks_ties_by"])
    if ours.variable(breaker) is not None or breaker not in theirs.frame.columns:
        _contradicted(agreement, name, f"{breaker} is not pharmaverse's only (ours has it, or theirs has not)")
    numbers = theirs.frame[name]
    broken = _tie_ranges(theirs.frame, by, [*order, breaker])
    if not _within(numbers, broken).all():
        _contradicted(agreement, name, f"pharmaverse's {name} is not the rank by {', '.join([*by, *order, breaker])}")
    # Nothing of ours stands in for the breaker: no variable both sides have orders the ties
    # as it does, as finely (its ties no wider than the breaker's).
    ordering = {*by, *order, name}
    shared = [v.name for v in theirs.variables if ours.variable(v.name) is not None and v.name not in ordering]
    width = broken["high"] - broken["low"]
    standing_in = []
    for candidate in shared:
        ranked = _tie_ranges(theirs.frame, by, [*order, candidate])
        if _within(numbers, ranked).all() and (ranked["high"] - ranked["low"]).le(width).all():
            standing_in.append(candidate)
    if standing_in:
        _contradicted(agreement, name, f"{', '.join(standing_in)} orders the ties as {breaker} does")
    ranges = {}
    for side, dataset in (("ours", ours), ("pharmaverse's", theirs)):
        ranges[side] = _tie_ranges(dataset.frame, by, order)
        outside = ~_within(dataset.frame[name], ranges[side])
        if outside.any():
            _contradicted(agreement, name, f"{int(outside.sum())} of {side} {name} do not follow {', '.join(order)}")
    mine, other = agreement.paired
    ours_range = ranges["ours"].loc[mine.frame.index].reset_index(drop=True)
    theirs_range = ranges["pharmaverse's"].loc[other.frame.index].reset_index(drop=True)
    tied = ours_range.eq(theirs_range).all(axis=1) & (ours_range["high"] > ours_range["low"])
    if not tied.any():
        _contradicted(agreement, name, f"no paired records tie in {', '.join(order)}")
    return tied.to_numpy(dtype=bool)


CHECKS: dict[str, Callable[[Agreement, str, Dataset, Dataset, CheckContext], Covered]] = {
    "theirs_empty": check_theirs_empty,
    "theirs_after_our_dates": check_theirs_after_our_dates,
    "case_of_ct_value": check_case_of_ct_value,
    "ties_broken_by_theirs_only": check_ties_broken_by_theirs_only,
}


def cannot_agree_of(notes: Mapping[str, Mapping[str, object]] | None) -> dict[str, CannotAgree]:
    """The `cannot_agree:` of a comparison YAML: {VARIABLE: {reason, check[, the check's options]}}."""
    found = {
        name: CannotAgree(
            str(entry["reason"]).strip(),
            str(entry["check"]),
            {key: value for key, value in entry.items() if key not in ("reason", "check")},
        )
        for name, entry in (notes or {}).items()
    }
    unknown = {n: c.check for n, c in found.items() if c.check not in CHECKS}
    if unknown:
        raise SystemExit(f"unknown checks {unknown}; known: {', '.join(CHECKS)}")
    return found
