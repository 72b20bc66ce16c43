"""How far our datasets agree with pharmaverse's, for COMPARISON.md and COMPARISON_ADAM.md.

Records are paired by natural keys, in stages: the records the first key set pairs, then those
left over by the next one (AE: without the start date, which the raw form leaves empty for 15
events pharmaverse gives one), so each record is compared with its own counterpart and only
the values that truly differ count. Records that share a key value are paired in the order of
their values (--SEQ aside), the same on both sides whatever order the files list them in. A
record that no key set pairs counts as differing in every variable compared.

Values are compared with `cdisc_cup.compare` (as SAS reads them). A variable that cannot agree
(`CannotAgree`: pharmaverse leaves it empty while the raw data holds it, or pharmaverse's values
come from data this raw data does not hold) is set apart with its reason: each report gives the
agreement over all compared values and over the values that can agree. Every such reason is
checked on the data (`CHECKS`); one the data contradicts stops the report instead of hiding a
difference.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from cdisc_cup.compare.datasets import align, compare_datasets
from cdisc_cup.comparison import BASE, COMPARE, KeyChoice, KeySource, Tolerance
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
    dates: tuple[str, ...] = ()  # theirs_after_our_dates: the DATASET.VARIABLE dates of ours (default all --DTC)


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
    cannot: dict[str, CannotAgree] = field(default_factory=dict)  # compared variables that cannot agree

    def values(self, names: Sequence[str] | None = None) -> tuple[int, int]:
        """(values compared, values agreeing) of the named variables (default: all compared)."""
        chosen = [n for n in (self.compared if names is None else names) if n in self.compared]
        total = sum(self.compared[n] for n in chosen)
        return total, total - sum(self.differing_in(n) for n in chosen)

    def differing_in(self, name: str) -> int:
        """Values of one variable that differ: its paired records' and every unpaired record."""
        return self.differing.get(name, 0) + (sum(self.unpaired) if name in self.unpaired_in else 0)

    @property
    def can_agree(self) -> list[str]:
        return [n for n in self.compared if n not in self.cannot]

    @property
    def share(self) -> float:
        """Agreement over all compared values."""
        return _share(*self.values())

    @property
    def share_can_agree(self) -> float:
        """Agreement over the values of the variables that can agree (the 99% of issue #18)."""
        return _share(*self.values(self.can_agree))


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
    sets before it left; the last one also gets the records nothing pairs."""
    common = [v.name for v in theirs.variables if ours.variable(v.name) is not None]
    mine, other = ours.frame, theirs.frame
    stages = []
    for number, keys in enumerate(key_sets):
        mine, other = _in_value_order(mine, keys, common), _in_value_order(other, keys, common)
        if number < len(key_sets) - 1:
            aligned = align(other.reset_index(drop=True), mine.reset_index(drop=True), list(keys))
            paired_mine, paired_other = mine.iloc[aligned.compare_rows], other.iloc[aligned.base_rows]
            stages.append((keys, paired_mine, paired_other))
            mine, other = mine.iloc[aligned.only_in_compare], other.iloc[aligned.only_in_base]
        else:
            stages.append((keys, mine, other))
    return [
        (
            keys,
            Dataset(**{**vars(ours), "frame": mine_part.reset_index(drop=True)}),
            Dataset(**{**vars(theirs), "frame": other_part.reset_index(drop=True)}),
        )
        for keys, mine_part, other_part in stages
    ]


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
    paired = 0
    last = None
    for keys, mine, other in _stages(ours, theirs, key_sets):
        result = compare_datasets(other, mine, KeyChoice(keys, KeySource.OPTION), TOLERANCE, max_examples)
        last = result
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
        cannot=dict(cannot or {}),
    )
    for name, reason in found.cannot.items():
        CHECKS[reason.check](found, name, theirs, context or CheckContext())
    return found


# --- the checks of the reasons a variable cannot agree ------------------------------------


@dataclass(frozen=True)
class CheckContext:
    """What the checks read besides the two datasets: our SDTM folder (made from every raw file)."""

    sdtm: Path | None = None

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


def _contradicted(agreement: Agreement, name: str, why: str) -> None:
    raise SystemExit(f"{agreement.dataset}.{name}: the reason given why it cannot agree does not hold: {why}")


def check_theirs_empty(agreement: Agreement, name: str, theirs: Dataset, context: CheckContext) -> None:
    """pharmaverse leaves the variable empty in every record (and ours has values)."""
    values = theirs.frame[name]
    present = values.notna() & (values.astype("string").str.strip() != "")
    if present.any():
        _contradicted(agreement, name, f"pharmaverse has {int(present.sum())} values of it")


def check_theirs_after_our_dates(agreement: Agreement, name: str, theirs: Dataset, context: CheckContext) -> None:
    """Every value of pharmaverse's that differs from ours is later than every date our SDTM
    (made from all of the raw data) has for the subject, or than every one of the dates the
    variable is derived from (where ours has none, any date is later): its source is not in
    this raw data."""
    latest = theirs.frame["USUBJID"].map(context.latest_dates(agreement.cannot[name].dates))
    dates = _as_dates(theirs.frame[name])
    after = int((dates.notna() & (latest.isna() | (dates > latest).fillna(False))).sum())
    differing = agreement.differing_in(name)
    if after != differing:
        _contradicted(
            agreement, name, f"{differing} values differ, {after} of pharmaverse's are after all of our dates"
        )


CHECKS: dict[str, Callable[[Agreement, str, Dataset, CheckContext], None]] = {
    "theirs_empty": check_theirs_empty,
    "theirs_after_our_dates": check_theirs_after_our_dates,
}


def cannot_agree_of(notes: Mapping[str, Mapping[str, str]] | None) -> dict[str, CannotAgree]:
    """The `cannot_agree:` of a comparison YAML: {VARIABLE: {reason, check[, dates]}}."""
    found = {
        name: CannotAgree(str(entry["reason"]).strip(), str(entry["check"]), tuple(entry.get("dates", ())))
        for name, entry in (notes or {}).items()
    }
    unknown = {n: c.check for n, c in found.items() if c.check not in CHECKS}
    if unknown:
        raise SystemExit(f"unknown checks {unknown}; known: {', '.join(CHECKS)}")
    return found
