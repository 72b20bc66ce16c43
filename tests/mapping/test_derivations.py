"""Each SDTM derivation on minimal data: dates incl. partial, study day around day 1, --SEQ."""

from __future__ import annotations

import pandas as pd
import pytest

from cdisc_cup.derivations.dates import complete_dates, day_after, study_day
from cdisc_cup.derivations.text import ascii_text, number_text
from cdisc_cup.mapping.catalogue import shared_keys


def series(*values: object) -> pd.Series:
    return pd.Series(list(values), dtype="string")


@pytest.mark.parametrize(
    ("date", "reference", "expected"),
    [
        ("2020-07-01", "2020-07-01", 1),  # the reference day itself is day 1
        ("2020-07-02", "2020-07-01", 2),
        ("2020-06-30", "2020-07-01", -1),  # the day before is -1: there is no day 0
        ("2020-06-01", "2020-07-01", -30),
        ("2021-01-01", "2020-12-31", 2),  # across a year end
        ("2020-03-01", "2020-02-28", 3),  # 2020 is a leap year
    ],
)
def test_study_day_has_no_day_zero(date: str, reference: str, expected: int) -> None:
    assert study_day(series(date), series(reference)).iloc[0] == expected


def test_study_day_is_missing_for_partial_or_missing_dates() -> None:
    days = study_day(
        series("2020-07", "2020", None, "2020-07-05"), series("2020-07-01", "2020-07-01", "2020-07-01", None)
    )
    assert days.isna().all()


def test_complete_dates_reads_only_full_dates() -> None:
    dates = complete_dates(series("2020-07-15", "2020-07", "2020", None, "2020-07-15T10:30"))
    assert list(dates.dt.strftime("%Y-%m-%d").fillna("-")) == ["2020-07-15", "-", "-", "-", "2020-07-15"]


def test_ascii_text_transliterates_german_and_keeps_what_has_no_ascii_form() -> None:
    text = ascii_text(series("Übelkeit", "Fußschmerz", "10 µg", "Café", "IgG κ, Hb ↓ ≥ Grad 3", "Жар", None))
    assert list(text.fillna("<NA>")) == [
        "Uebelkeit",
        "Fussschmerz",
        "10 ug",
        "Cafe",
        "IgG kappa, Hb decreased >= Grad 3",
        "Жар",  # no ASCII form: kept, and the conformance check refuses it with its location
        "<NA>",
    ]


def test_ascii_text_makes_a_line_break_inside_a_quoted_field_one_space() -> None:
    # adverse_events.csv may quote a verbatim typed on two lines ("Aszites<CR><LF>Nachtrag");
    # XPT v5 holds printable ASCII only, so the line break and the blanks around it become a space.
    text = ascii_text(series("Aszites\nNachtrag: s. Arztbrief", "Ödem  \r\n  li.", "IgG\tkappa", "Sturz"))
    assert list(text) == ["Aszites Nachtrag: s. Arztbrief", "Oedem li.", "IgG kappa", "Sturz"]


def test_number_text_drops_a_trailing_zero_but_not_decimals() -> None:
    assert list(number_text(pd.Series([80.0, 75.5, None])).fillna("-")) == ["80", "75.5", "-"]


def test_day_after_crosses_month_and_year_ends_and_skips_partial_dates() -> None:
    after = day_after(series("2020-07-31", "2020-12-31", "2020-02-28", "2020-07", None))
    assert list(after.fillna("-")) == ["2020-08-01", "2021-01-01", "2020-02-29", "-", "-"]


def test_shared_keys_match_equal_values_across_frames_and_never_a_missing_one() -> None:
    visits = pd.DataFrame({"USUBJID": series("A", "A", "B", None), "VISITNUM": pd.Series([101, 0, 101, 101])})
    planned = pd.DataFrame({"USUBJID": series("A", "B"), "VISITNUM": pd.Series([101.0, 101.0], dtype="Float64")})
    own, other = shared_keys(["USUBJID", "VISITNUM"], visits, planned)
    assert own[0] == other[0] and own[2] == other[1] and own[0] != own[2]  # 101 is 101.0
    assert own[1] not in other and own[3] == -1  # no such visit; a missing part matches nothing
    assert list(shared_keys([], visits)[0]) == [0, 0, 0, 0]  # no key: one group, the whole study
