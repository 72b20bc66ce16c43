"""The benchmark generator writes valid CUP exports with what real exports contain, deterministically."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
GENERATOR = REPO / "benchmarks" / "generate.py"
FILES = ("patients.csv", "administrations.csv", "adverse_events.csv", "end_of_treatment.csv")
PATIENTS = 1000
FORMAT_COLUMNS = {
    "patients.csv": [
        "CENTRE", "PATNO", "REGDAT", "BIRTHYR", "AGE", "SEX", "WEIGHT", "HEIGHT", "ECOG",
        "DIAGDAT", "MMTYPE", "PRIORLIN", "PRIPI", "PRILEN", "PRIPOM", "PRICD38", "CONMED", "CONDIS",
    ],
    "administrations.csv": ["PATNO", "DRUG", "CYCLE", "DAY", "STARTDAT", "ENDDAT", "DOSE", "UNIT", "ROUTE"],
    "adverse_events.csv": [
        "PATNO", "AENO", "AETEXT", "PT", "SOC", "STARTDAT", "STOPDAT", "ONGOING", "GRADE",
        "SERIOUS", "SDTH", "SLIFE", "SHOSP", "SDISAB", "SCONG", "SMIE",  # format v1.1
        "RELISA", "RELPOM", "RELDEX", "ACNISA", "OUTCOME", "AESI",
    ],
    "end_of_treatment.csv": ["PATNO", "EOTDAT", "DISCONT", "REASON", "DEATHDAT"],
}  # fmt: skip
CRITERIA = ["SDTH", "SLIFE", "SHOSP", "SDISAB", "SCONG", "SMIE"]
EXTRA_COLUMNS = {
    "patients.csv": {"SITENAME", "FORMSTAT", "LASTEDIT"},
    "administrations.csv": {"CHARGE", "LASTEDIT"},
    "adverse_events.csv": {"KOMMENTAR", "MEDDRAV", "LASTEDIT"},
    "end_of_treatment.csv": {"KOMMENTAR", "LASTEDIT"},
}
DATE = r"\d{2}\.\d{2}\.\d{4}"
MONTH_ONLY = r"UN\.\d{2}\.\d{4}"
YEAR_ONLY = r"UN\.UN\.\d{4}"
PARTIAL_DATE = rf"{DATE}|{MONTH_ONLY}|{YEAR_ONLY}"
CUP_END = pd.Timestamp("2021-01-31")
WINDOW = pd.Timedelta(days=30)
BOM = b"\xef\xbb\xbf"
# Every non-ASCII character of the default free text has an ASCII transliteration.
TRANSLITERATED = set("äöüÄÖÜßµ°–„“")


def generate(out: Path, patients: int = PATIENTS, seed: int = 1, *options: str) -> Path:
    command = [sys.executable, str(GENERATOR), "--patients", str(patients), "--out", str(out), "--seed", str(seed)]
    subprocess.run([*command, *options], check=True)
    return out


def read(folder: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(folder / name, sep=";", dtype=str, encoding="utf-8-sig", keep_default_na=False)


def as_date(text: pd.Series) -> pd.Series:
    return pd.to_datetime(text.where(text != ""), format="%d.%m.%Y", errors="raise")


def earliest(text: pd.Series) -> pd.Series:
    """The first day a possibly partial date allows (UN.07.2020 -> 01.07.2020, UN.UN.2020 -> 01.01.2020)."""
    return as_date(text.str.replace("UN.UN.", "01.01.", regex=False).str.replace("UN.", "01.", regex=False))


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate(tmp_path_factory.mktemp("bench") / "seed1")


@pytest.fixture(scope="module")
def tables(export: Path) -> dict[str, pd.DataFrame]:
    return {name: read(export, name) for name in FILES}


@pytest.fixture(scope="module")
def exposure(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """First and last dose per dosed patient (the end of an administration, or its start)."""
    administrations = tables["administrations.csv"]
    start = as_date(administrations["STARTDAT"])
    end = as_date(administrations["ENDDAT"]).fillna(start)
    return (
        pd.DataFrame({"FIRST": start, "LAST": end, "PATNO": administrations["PATNO"]})
        .groupby("PATNO")
        .agg(FIRST=("FIRST", "min"), LAST=("LAST", "max"))
    )


def test_same_seed_same_bytes_other_seed_other_data(export: Path, tmp_path: Path) -> None:
    again = generate(tmp_path / "again")
    other = generate(tmp_path / "other", PATIENTS, 2)
    for name in FILES:
        assert (again / name).read_bytes() == (export / name).read_bytes(), name
    assert (other / "patients.csv").read_bytes() != (export / "patients.csv").read_bytes()


def test_files_have_the_contract_columns_and_extra_ones(tables: dict[str, pd.DataFrame]) -> None:
    for name, frame in tables.items():
        assert set(frame.columns) == set(FORMAT_COLUMNS[name]) | EXTRA_COLUMNS[name], name
        assert len(frame.columns) == frame.columns.nunique(), name


def test_column_orders_differ_between_files_and_seeds(tables: dict[str, pd.DataFrame], tmp_path: Path) -> None:
    other = generate(tmp_path / "other", 20, 2)
    shuffled = 0
    for name, frame in tables.items():
        contract_order = [column for column in frame.columns if column in FORMAT_COLUMNS[name]]
        shuffled += contract_order != FORMAT_COLUMNS[name]
        assert list(read(other, name).columns) != list(frame.columns), name
    assert shuffled >= 3


def test_byte_order_marks_and_line_ends_vary_between_files(export: Path, tables: dict[str, pd.DataFrame]) -> None:
    variants = set()
    for name in FILES:
        data = (export / name).read_bytes()
        crlf = b"\r\n" in data
        # CRLF files end every record with CRLF (a line break inside a quoted comment stays LF).
        assert data.count(b"\r\n") == (len(tables[name]) + 1 if crlf else 0), name
        assert data.count(BOM) == data.startswith(BOM), name
        variants.add((data.startswith(BOM), crlf))
    assert variants == {(True, True), (True, False), (False, True), (False, False)}


def test_layout_options(tmp_path: Path) -> None:
    everything = generate(tmp_path / "crlf", 20, 1, "--bom", "all", "--line-ends", "crlf")
    assert all((everything / name).read_bytes().startswith(BOM) for name in FILES)
    assert all((everything / name).read_bytes().count(b"\r\n") > 20 for name in FILES)
    plain = generate(tmp_path / "plain", 200, 1, "--plain")
    for name in FILES:
        data = (plain / name).read_bytes()
        assert not data.startswith(BOM) and b"\r" not in data, name
        assert list(read(plain, name).columns) == FORMAT_COLUMNS[name], name
    administrations = read(plain, "administrations.csv")
    assert set(administrations["PATNO"]) == set(read(plain, "patients.csv")["PATNO"])
    assert (administrations["DAY"] != "2").all()
    version_1 = read(generate(tmp_path / "v1", 20, 1, "--format-version", "1"), "adverse_events.csv")
    assert not set(CRITERIA) & set(version_1.columns)
    assert {"PT", "SERIOUS", "KOMMENTAR"} <= set(version_1.columns)


def test_free_text_is_german_with_umlauts(export: Path, tables: dict[str, pd.DataFrame], tmp_path: Path) -> None:
    events, patients = tables["adverse_events.csv"], tables["patients.csv"]
    for column in (events["AETEXT"], events["KOMMENTAR"], patients["MMTYPE"], patients["SITENAME"]):
        assert (~column.map(str.isascii)).any()
    all_text = "".join(events["AETEXT"]) + "".join(patients["MMTYPE"])
    assert set("äöüßµ°") <= set(all_text)
    assert {char for char in all_text if not char.isascii()} <= TRANSLITERATED
    # `;` and `"` inside fields are quoted; a comment spans two lines.
    raw = (export / "adverse_events.csv").read_text(encoding="utf-8-sig")
    assert '"Engegefühl im Hals; Stridor"' in raw and '"Reizhusten, ""trocken"""' in raw
    assert events["KOMMENTAR"].str.contains("\n").any()
    wide = read(generate(tmp_path / "wide", 1000, 1, "--wide-text"), "patients.csv")
    assert wide["MMTYPE"].str.contains("λ|κ").any()


def test_partial_dates_of_both_kinds_only_where_the_contract_allows_them(tables: dict[str, pd.DataFrame]) -> None:
    partial = {("patients.csv", "DIAGDAT"), ("adverse_events.csv", "STARTDAT"), ("adverse_events.csv", "STOPDAT")}
    for name, column in partial:
        dates = tables[name][column]
        assert dates.str.fullmatch(f"({PARTIAL_DATE})?").all(), column
        assert dates.str.fullmatch(MONTH_ONLY).any() and dates.str.fullmatch(YEAR_ONLY).any(), column
    complete = [
        ("patients.csv", "REGDAT"), ("administrations.csv", "STARTDAT"), ("administrations.csv", "ENDDAT"),
        ("end_of_treatment.csv", "EOTDAT"), ("end_of_treatment.csv", "DEATHDAT"),
    ]  # fmt: skip
    for name, column in complete:
        assert tables[name][column].str.fullmatch(f"({DATE})?").all(), column


def test_seriousness_criteria_follow_serious(tables: dict[str, pd.DataFrame]) -> None:
    events = tables["adverse_events.csv"]
    serious = events["SERIOUS"] == "Y"
    criteria = events[CRITERIA]
    assert criteria[serious].isin(["Y", "N"]).all().all()
    assert (criteria[serious] == "Y").any(axis=1).all()
    assert (criteria[~serious] == "").all().all()
    assert ((events["SDTH"] == "Y") == (events["OUTCOME"] == "FATAL")).all()
    assert ((events["GRADE"] == "5") == (events["OUTCOME"] == "FATAL")).all()
    for column in ("SLIFE", "SHOSP", "SDISAB", "SMIE"):
        assert (criteria[column] == "Y").any(), column


def test_undosed_patients_have_no_administrations(tables: dict[str, pd.DataFrame], exposure: pd.DataFrame) -> None:
    patients = tables["patients.csv"]
    undosed = sorted(set(patients["PATNO"]) - set(exposure.index))
    assert len(undosed) == round(PATIENTS * 7 / 400)  # the reviewer's 7 of 400
    end_of_treatment = tables["end_of_treatment.csv"].set_index("PATNO")
    assert set(undosed) <= set(end_of_treatment.index)
    events = tables["adverse_events.csv"]
    theirs = events[events["PATNO"].isin(undosed)]
    assert len(theirs) > 0
    registration = as_date(patients.set_index("PATNO")["REGDAT"])
    assert (earliest(theirs["STARTDAT"]) >= theirs["PATNO"].map(registration).dt.to_period("Y").dt.start_time).all()
    assert (earliest(theirs["STARTDAT"]) <= theirs["PATNO"].map(as_date(end_of_treatment["EOTDAT"]))).all()
    assert (theirs[["RELISA", "RELPOM", "RELDEX"]] == "N").all().all() and (theirs["ACNISA"] == "NA").all()


def test_deaths_have_a_date_and_nothing_after_it(tables: dict[str, pd.DataFrame], exposure: pd.DataFrame) -> None:
    end_of_treatment = tables["end_of_treatment.csv"].set_index("PATNO")
    death = as_date(end_of_treatment["DEATHDAT"]).dropna()
    eot = as_date(end_of_treatment["EOTDAT"])
    reason = end_of_treatment["REASON"]
    assert ((reason == "DEATH") <= end_of_treatment["DEATHDAT"].ne("")).all()
    assert (death[reason[death.index] == "DEATH"] == eot[death.index][reason[death.index] == "DEATH"]).all()
    # Died in the 30 days after the last dose, after stopping for progression.
    later = death.index[reason[death.index] != "DEATH"]
    assert len(later) > 0 and (reason[later] == "PROGRESSION").all()
    assert (death[later] > eot[later]).all() and (death[later] <= exposure["LAST"][later] + WINDOW).all()

    administrations = tables["administrations.csv"]
    after = administrations["PATNO"].map(death)
    assert not (as_date(administrations["STARTDAT"]) > after).any()
    assert not (as_date(administrations["ENDDAT"]) > after).any()
    events = tables["adverse_events.csv"]
    died_on = events["PATNO"].map(death)
    assert not (earliest(events["STARTDAT"]) > died_on).any()
    assert not (earliest(events["STOPDAT"]) > died_on).any()
    fatal = events[events["OUTCOME"] == "FATAL"]
    assert len(fatal) > 0 and fatal["PATNO"].is_unique and fatal["PATNO"].isin(death.index).all()
    assert (as_date(fatal["STOPDAT"]) == fatal["PATNO"].map(death)).all()
    assert (events.loc[died_on.isna(), "OUTCOME"] != "FATAL").all()


def test_adverse_events_are_followed_30_days_after_the_last_dose(
    tables: dict[str, pd.DataFrame], exposure: pd.DataFrame
) -> None:
    events = tables["adverse_events.csv"]
    dosed = events[events["PATNO"].isin(exposure.index)]
    onset = earliest(dosed["STARTDAT"])
    last = dosed["PATNO"].map(exposure["LAST"])
    assert (onset <= last + WINDOW).all()
    complete = dosed["STARTDAT"].str.fullmatch(DATE)
    follow_up = complete & (onset > last) & (onset <= last + WINDOW)
    assert follow_up.sum() >= 0.05 * len(dosed)
    before_first = complete & (onset < dosed["PATNO"].map(exposure["FIRST"]))
    assert before_first.any()


def test_some_start_pomalidomide_and_dexamethasone_a_day_before_isatuximab(
    tables: dict[str, pd.DataFrame], exposure: pd.DataFrame
) -> None:
    administrations = tables["administrations.csv"].assign(START=lambda f: as_date(f["STARTDAT"]))
    first = administrations.pivot_table(index="PATNO", columns="DRUG", values="START", aggfunc="min")
    lead = (first["ISATUXIMAB"] - first[["POMALIDOMIDE", "DEXAMETHASONE"]].max(axis=1)).dt.days
    assert set(lead) == {0, 1}
    assert (lead == 1).sum() == round(0.04 * len(exposure))
    assert (first["POMALIDOMIDE"] == first["DEXAMETHASONE"]).all()
    first_infusion = administrations[(administrations["DRUG"] == "ISATUXIMAB") & (administrations["CYCLE"] == "1")]
    first_infusion = first_infusion.sort_values("START").groupby("PATNO").first()
    assert (first_infusion["DAY"] == lead.reindex(first_infusion.index).add(1).astype(str)).all()


def test_no_drug_is_related_to_or_acted_on_before_its_first_dose(tables: dict[str, pd.DataFrame]) -> None:
    administrations = tables["administrations.csv"].assign(START=lambda f: as_date(f["STARTDAT"]))
    first = administrations.pivot_table(index="PATNO", columns="DRUG", values="START", aggfunc="min")
    events = tables["adverse_events.csv"]
    events = events[events["STARTDAT"].str.fullmatch(DATE)]  # a partial onset may start before the dose
    onset = as_date(events["STARTDAT"])
    for flag, drug in (("RELISA", "ISATUXIMAB"), ("RELPOM", "POMALIDOMIDE"), ("RELDEX", "DEXAMETHASONE")):
        related = events[flag] == "Y"
        assert related.any() and (onset[related] >= events.loc[related, "PATNO"].map(first[drug])).all(), flag
    acted = events["ACNISA"].isin(["NONE", "INTERRUPTED", "WITHDRAWN", "UNKNOWN"])
    assert (onset[acted] >= events.loc[acted, "PATNO"].map(first["ISATUXIMAB"])).all()


def test_dates_are_valid_and_in_order(tables: dict[str, pd.DataFrame], exposure: pd.DataFrame) -> None:
    patients = tables["patients.csv"].set_index("PATNO")
    assert len(patients) == PATIENTS and patients.index.is_unique
    assert patients.index.str.fullmatch(r"\d{2}-\d{3,}").all()
    assert (patients.index.str[:2] == patients["CENTRE"]).all()
    registration = as_date(patients["REGDAT"])

    administrations = tables["administrations.csv"]
    start = as_date(administrations["STARTDAT"])
    end = as_date(administrations["ENDDAT"]).fillna(start)
    assert (start >= administrations["PATNO"].map(registration)).all()
    assert (end >= start).all() and (end <= CUP_END).all()
    assert not administrations.duplicated(["PATNO", "DRUG", "CYCLE", "DAY"]).any()
    assert set(administrations["PATNO"]) <= set(patients.index)

    events = tables["adverse_events.csv"]
    assert ((events["STOPDAT"] == "") == (events["ONGOING"] == "Y")).all()
    both = events["STARTDAT"].str.fullmatch(DATE) & events["STOPDAT"].str.fullmatch(DATE)
    assert (as_date(events.loc[both, "STOPDAT"]) >= as_date(events.loc[both, "STARTDAT"])).all()
    assert (earliest(events["STARTDAT"]) >= events["PATNO"].map(registration).dt.to_period("Y").dt.start_time).all()
    assert not events.duplicated(["PATNO", "AENO"]).any()
    assert set(events["PATNO"]) <= set(patients.index)

    end_of_treatment = tables["end_of_treatment.csv"]
    assert set(end_of_treatment["PATNO"]) == set(patients.index)
    eot = as_date(end_of_treatment["EOTDAT"])
    assert (eot <= CUP_END).all()
    discontinued = end_of_treatment["DISCONT"] == "Y"
    assert (end_of_treatment.loc[~discontinued, "REASON"] == "").all()
    assert end_of_treatment.loc[discontinued, "REASON"].isin(["PROGRESSION", "DEATH", "OTHER"]).all()
    last_dose = exposure["LAST"].reindex(end_of_treatment["PATNO"]).to_numpy()
    assert (pd.isna(last_dose) | (last_dose <= eot.to_numpy())).all()


def test_large_centres_get_four_digit_patient_numbers(tmp_path: Path) -> None:
    patients = read(generate(tmp_path, 2500, 1, "--centres", "2"), "patients.csv")
    assert patients["CENTRE"].nunique() == 2
    assert patients["PATNO"].str.fullmatch(r"\d{2}-\d{4}").any()
    assert patients["PATNO"].is_unique
