"""The verbs join, order and parse dates without pandas' merge, sort_values or a parse per
record (issue #19: each of those cost seconds at 100,000 patients). These tests hold them to
what those would give, on seeded frames with everything that makes joins and sorts subtle:
missing by values and order values, ties, descending columns, text and numeric columns,
repeated and partial dates, and an index that is not 0..n-1."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal, assert_series_equal

from cdisc_cup.adam import derivations as d
from cdisc_cup.adam.dates import complete_date, date_period, impute_date

SEEDS = (1, 2, 3)


def records(seed: int, size: int = 400) -> pd.DataFrame:
    """Records of 30 subjects in 2 studies: few distinct values so that ties are common,
    and missing values in every column."""
    rng = np.random.default_rng(seed)

    def some_missing(values: pd.Series) -> pd.Series:
        return values.mask(rng.random(size) < 0.1)

    days = pd.Series(pd.Timestamp("2020-07-01") + pd.to_timedelta(rng.integers(0, 20, size), unit="D"))
    return pd.DataFrame(
        {
            "STUDYID": rng.choice(["S1", "S2"], size),
            "USUBJID": some_missing(pd.Series(rng.integers(0, 30, size)).map("P{:02d}".format).astype("string")),
            "TERM": some_missing(pd.Series(rng.choice(["Fall", "Anemia", "anemia", "Zoster"], size), dtype="string")),
            "GRADE": some_missing(pd.Series(rng.integers(1, 5, size), dtype="Float64")),
            "DT": some_missing(days.astype("datetime64[s]")),
            "SEQ": np.arange(size, dtype=float),
        },
        index=np.arange(size) * 3 + 7,
    )


ORDERS = (
    ["DT"],
    [d.desc("GRADE"), "DT"],
    ["TERM", d.desc("DT")],
    [d.desc("TERM"), "GRADE", "SEQ"],
)


def sorted_reference(rows: pd.DataFrame, order: list[str | d.Desc]) -> pd.DataFrame:
    columns = [i.column if isinstance(i, d.Desc) else i for i in order]
    ascending = [not isinstance(i, d.Desc) for i in order]
    return rows.sort_values(columns, ascending=ascending, na_position="last", kind="stable")


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("mode", ["first", "last"])
def test_merged_takes_the_record_a_stable_sort_and_drop_duplicates_take(seed: int, order: list, mode: str) -> None:
    add = records(seed)
    subjects = add[["STUDYID", "USUBJID"]].drop_duplicates().iloc[::-1]  # missing USUBJID too
    by = ["STUDYID", "USUBJID"]
    derived = d.derive_vars_merged(subjects, add, by_vars=by, new_vars={"PICK": "SEQ"}, order=order, mode=mode)
    chosen = sorted_reference(add, order).drop_duplicates(by, keep=mode)[[*by, "SEQ"]]
    expected = subjects.merge(chosen.rename(columns={"SEQ": "PICK"}), on=by, how="left", validate="m:1")
    assert_frame_equal(derived, expected.set_axis(subjects.index))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("mode", ["first", "last"])
def test_extreme_flag_flags_the_record_a_sort_by_group_then_order_flags(seed: int, order: list, mode: str) -> None:
    events = records(seed)
    by = ["USUBJID", "TERM"]
    flagged = d.derive_var_extreme_flag(events, by_vars=by, order=order, new_var="FL", mode=mode)  # type: ignore[arg-type]
    first = ~sorted_reference(events, order).duplicated(by, keep=mode)
    expected = ["Y" if flag else None for flag in first.reindex(events.index)]
    assert flagged["FL"].astype(object).where(flagged["FL"].notna(), None).tolist() == expected


@pytest.mark.parametrize("seed", SEEDS)
def test_merged_join_gives_what_a_left_merge_gives(seed: int) -> None:
    """Unmatched records, a missing by value matching a missing one (as in a pandas merge),
    integer and boolean columns widened to hold the missing values of unmatched records."""
    add = records(seed).drop_duplicates(["STUDYID", "USUBJID"])
    add = add.assign(COUNT=np.arange(len(add)), FLAG=np.arange(len(add)) % 2 == 0)
    subjects = records(seed + 10)[["STUDYID", "USUBJID"]]
    by = ["STUDYID", "USUBJID"]
    new = ["COUNT", "FLAG", "TERM", "GRADE", "DT"]
    derived = d.derive_vars_merged(subjects, add, by_vars=by, new_vars=new)
    expected = subjects.merge(add[[*by, *new]], on=by, how="left", validate="m:1").set_axis(subjects.index)
    assert derived["COUNT"].isna().any()  # the widening is exercised
    assert_frame_equal(derived, expected)


def texts(seed: int, size: int = 40) -> pd.Series:
    """ISO 8601 dates as collected: repeated, partial, with a time, blank, missing, impossible."""
    rng = np.random.default_rng(seed)
    kinds = ["2020-07-06", "2020-07", "2021", "2020-02-30", " 2020-12-31 ", "", None, "2020-07-06T10:30", "2019-02"]
    return pd.Series(rng.choice(np.array(kinds, dtype=object), size), dtype="string", index=np.arange(size) + 100)


@pytest.mark.parametrize("seed", SEEDS[:1])
def test_dates_parsed_once_per_text_equal_dates_parsed_record_by_record(seed: int) -> None:
    dtc = texts(seed)
    reference = pd.Series(
        pd.to_datetime(pd.date_range("2020-01-15", periods=len(dtc), freq="3D")).astype("datetime64[s]"),
        index=dtc.index,
    ).mask(np.arange(len(dtc)) % 7 == 0)

    def one_by_one(function, *args: pd.Series) -> list[pd.Series]:
        parts = [function(*(a.iloc[[i]] for a in args)) for i in range(len(dtc))]
        results = parts if isinstance(parts[0], tuple) else [(p,) for p in parts]
        return [pd.concat(column) for column in zip(*results, strict=True)]

    period = date_period(dtc)
    for name, single in zip(
        ("first", "last", "precision"), one_by_one(lambda t: tuple(vars(date_period(t)).values()), dtc), strict=True
    ):
        assert_series_equal(getattr(period, name), single, check_names=False)
    assert_series_equal(complete_date(dtc), one_by_one(complete_date, dtc)[0], check_names=False)
    for to in ("first", "mid", "last"):
        whole = impute_date(dtc, to=to, min_dates=[reference], not_after=[reference.shift(3)])
        single = one_by_one(
            lambda t, r, s, to=to: impute_date(t, to=to, min_dates=[r], not_after=[s]),
            dtc,
            reference,
            reference.shift(3),
        )
        for got, expected in zip(whole, single, strict=True):
            assert_series_equal(got, expected, check_names=False)
