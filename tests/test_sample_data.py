"""The sample export reproduces the paper's figures at the raw level.

Independent of the conversion pipeline on purpose: the CSVs are read with plain pandas and the
paper's definitions (sample_data/README.md) are re-implemented here in a few lines, so a bug in
the ADaM code cannot hide a bug in the data or the other way round. Expected values come from
targets.json, never retyped.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "sample_data"
GENERATOR = REPO / "tools" / "make_sample_data.py"
TARGETS_PATH = Path(__file__).resolve().parents[2] / "shared" / "paper" / "targets.json"
FILES = ("patients.csv", "administrations.csv", "adverse_events.csv", "end_of_treatment.csv")
FORMAT_COLUMNS = {
    "patients.csv": {
        "CENTRE", "PATNO", "REGDAT", "BIRTHYR", "AGE", "SEX", "WEIGHT", "HEIGHT", "ECOG",
        "DIAGDAT", "MMTYPE", "PRIORLIN", "PRIPI", "PRILEN", "PRIPOM", "PRICD38", "CONMED", "CONDIS",
    },
    "administrations.csv": {
        "PATNO", "DRUG", "CYCLE", "DAY", "STARTDAT", "ENDDAT", "DOSE", "UNIT", "ROUTE",
    },
    "adverse_events.csv": {
        "PATNO", "AENO", "AETEXT", "PT", "SOC", "STARTDAT", "STOPDAT", "ONGOING", "GRADE",
        "SERIOUS", "RELISA", "RELPOM", "RELDEX", "ACNISA", "OUTCOME", "AESI",
    },
    "end_of_treatment.csv": {"PATNO", "EOTDAT", "DISCONT", "REASON", "DEATHDAT"},
}  # fmt: skip
CUP_END = pd.Timestamp("2021-01-31")
WITHDRAWN = "WITHDRAWN"


@pytest.fixture(scope="module")
def targets() -> dict:
    return json.loads(TARGETS_PATH.read_text(encoding="utf-8"))


def read(name: str) -> pd.DataFrame:
    return pd.read_csv(SAMPLE / name, sep=";", decimal=",", dtype=str, encoding="utf-8-sig", keep_default_na=False)


def full_date(text: pd.Series) -> pd.Series:
    return pd.to_datetime(text.where(text != ""), format="%d.%m.%Y")


def earliest_date(text: pd.Series) -> pd.Series:
    """Partial dates imputed to the earliest day they allow (UN -> 01)."""
    return full_date(text.str.replace("UN.UN.", "01.01.", regex=False).str.replace("UN.", "01."))


@pytest.fixture(scope="module")
def patients() -> pd.DataFrame:
    return read("patients.csv")


@pytest.fixture(scope="module")
def administrations() -> pd.DataFrame:
    frame = read("administrations.csv")
    frame["START"] = full_date(frame["STARTDAT"])
    frame["END"] = full_date(frame["ENDDAT"]).fillna(frame["START"])
    return frame


@pytest.fixture(scope="module")
def end_of_treatment() -> pd.DataFrame:
    return read("end_of_treatment.csv")


@pytest.fixture(scope="module")
def adverse_events(administrations: pd.DataFrame) -> pd.DataFrame:
    """AEs with the first dose, RFXENDTC, imputed onset, TEAE flag and cycle of onset."""
    events = read("adverse_events.csv")
    exposure = administrations.groupby("PATNO").agg(FIRST=("START", "min"), LAST=("END", "max"))
    events = events.join(exposure, on="PATNO")
    onset = earliest_date(events["STARTDAT"])
    partial = events["STARTDAT"].str.startswith("UN")
    month_only = partial & ~events["STARTDAT"].str.startswith("UN.UN")
    first_in_period = (month_only & (onset.dt.to_period("M") == events["FIRST"].dt.to_period("M"))) | (
        partial & ~month_only & (onset.dt.year == events["FIRST"].dt.year)
    )
    events["ONSET"] = onset.mask(first_in_period, events["FIRST"])
    events["TEAE"] = (events["ONSET"] >= events["FIRST"]) & (events["ONSET"] <= events["LAST"] + pd.Timedelta(days=30))
    day1 = administrations[(administrations["DRUG"] == "ISATUXIMAB") & (administrations["DAY"] == "1")]
    day1 = day1[["PATNO", "CYCLE", "START"]].sort_values("START")
    with_cycle = pd.merge_asof(
        events.reset_index().sort_values("ONSET"),
        day1.rename(columns={"START": "ONSET"}),
        on="ONSET",
        by="PATNO",
    ).set_index("index")
    # Cycle 0 = before the first infusion.
    events["ONSET_CYCLE"] = with_cycle["CYCLE"].reindex(events.index).fillna("0").astype(int)
    return events


@pytest.fixture(scope="module")
def teae(adverse_events: pd.DataFrame) -> pd.DataFrame:
    return adverse_events[adverse_events["TEAE"]]


def test_files_have_the_format_columns_and_the_planned_quirks() -> None:
    for name in FILES:
        header = set(read(name).columns)
        assert FORMAT_COLUMNS[name] <= header, name
    raw = (SAMPLE / "patients.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    assert set(read("administrations.csv").columns) - FORMAT_COLUMNS["administrations.csv"] == {"LASTEDIT"}
    format_order = ["PATNO", "AENO", "AETEXT", "PT", "SOC", "STARTDAT"]  # FORMAT.md table order
    assert list(read("adverse_events.csv").columns)[:6] != format_order
    text = (SAMPLE / "adverse_events.csv").read_text(encoding="utf-8")
    assert all(char in text for char in "äöüßµ")
    assert '"Engegefühl im Hals; Stridor"' in text
    assert "Leichtketten lambda" in read("patients.csv")["MMTYPE"].tolist()


def test_generator_is_byte_identical(tmp_path: Path) -> None:
    subprocess.run([sys.executable, str(GENERATOR), "--out", str(tmp_path)], check=True)
    for name in FILES:
        assert (tmp_path / name).read_bytes() == (SAMPLE / name).read_bytes(), name


def test_population(patients: pd.DataFrame, targets: dict) -> None:
    population = targets["population"]
    assert len(patients) == population["patients"]
    assert patients["PATNO"].is_unique
    assert patients["CENTRE"].nunique() == population["sites"]
    assert (patients["PATNO"].str[:2] == patients["CENTRE"]).all()
    assert patients["PATNO"].str.fullmatch(r"\d{2}-\d{3,}").all()
    registration = full_date(patients["REGDAT"]).dt.strftime("%Y-%m")
    first, last = population["enrolment"]
    assert registration.min() == first and registration.max() == last


def test_table1(patients: pd.DataFrame, targets: dict) -> None:
    table1 = targets["table1_baseline"]
    sex = patients["SEX"].map({"1": "M", "2": "F"}).value_counts().to_dict()
    assert sex == table1["sex"]
    ecog = patients["ECOG"].value_counts().to_dict()
    assert ecog == {key: value for key, value in table1["ecog"].items()}
    registration = full_date(patients["REGDAT"])
    diagnosis = earliest_date(patients["DIAGDAT"])
    measured = {
        "age_years": patients["AGE"].astype(int),
        "weight_kg": patients["WEIGHT"].str.replace(",", ".").astype(float),
        "height_cm": patients["HEIGHT"].str.replace(",", ".").astype(float),
        "years_since_diagnosis": np.floor((registration - diagnosis).dt.days / 365.25),
        "prior_lines": patients["PRIORLIN"].astype(int),
    }
    for name, values in measured.items():
        expected = table1[name]
        assert (values.median(), values.min(), values.max()) == (
            expected["median"], expected["min"], expected["max"],
        ), name  # fmt: skip
    assert patients["DIAGDAT"].str.startswith("UN.UN.").any()
    assert (patients["DIAGDAT"].str.startswith("UN.") & ~patients["DIAGDAT"].str.startswith("UN.UN")).any()
    flags = {
        "prior_pi": "PRIPI", "prior_lenalidomide": "PRILEN", "prior_pomalidomide": "PRIPOM",
        "prior_anti_cd38": "PRICD38", "concomitant_medication": "CONMED",
        "concomitant_disease": "CONDIS",
    }  # fmt: skip
    for name, column in flags.items():
        assert (patients[column] == "Y").sum() == table1[name], name
    birth_year = patients["BIRTHYR"].astype(int)
    age_by_year = registration.dt.year - birth_year
    assert ((age_by_year - patients["AGE"].astype(int)).isin([0, 1])).all()


def test_administrations_follow_the_schedule(
    administrations: pd.DataFrame, patients: pd.DataFrame, end_of_treatment: pd.DataFrame, targets: dict
) -> None:
    treatment = targets["treatment"]
    isatuximab = administrations[administrations["DRUG"] == "ISATUXIMAB"]
    pomalidomide = administrations[administrations["DRUG"] == "POMALIDOMIDE"]
    dexamethasone = administrations[administrations["DRUG"] == "DEXAMETHASONE"]
    assert not administrations.duplicated(["PATNO", "DRUG", "CYCLE", "DAY"]).any()
    first_cycle = isatuximab["CYCLE"] == "1"
    assert set(isatuximab.loc[first_cycle, "DAY"].astype(int)) == set(treatment["isatuximab"]["cycle1_days"])
    assert set(isatuximab.loc[~first_cycle, "DAY"].astype(int)) == set(treatment["isatuximab"]["later_cycle_days"])
    assert (isatuximab[["DOSE", "UNIT", "ROUTE"]] == ["10", "mg/kg", "IV"]).all().all()
    assert (pomalidomide["DAY"] == "1").all()
    assert (pomalidomide[["DOSE", "UNIT", "ROUTE"]] == ["4", "mg", "PO"]).all().all()
    pomalidomide_days = (pomalidomide["END"] - pomalidomide["START"]).dt.days + 1
    assert pomalidomide_days.max() == treatment["pomalidomide"]["days"][1]
    assert set(dexamethasone["DAY"].astype(int)) <= set(treatment["dexamethasone"]["days"])
    assert set(dexamethasone["ROUTE"]) == {"PO", "IV"}
    age = dexamethasone["PATNO"].map(patients.set_index("PATNO")["AGE"].astype(int))
    dex = treatment["dexamethasone"]
    expected_dose = np.where(age >= 75, dex["dose_age_75_or_more"], dex["dose"])
    assert (dexamethasone["DOSE"].astype(int) == expected_dose).all()

    # Cycles exactly 28 days apart: every start date follows from the first dose.
    first = administrations.groupby("PATNO")["START"].transform("min")
    planned = first + pd.to_timedelta(
        (administrations["CYCLE"].astype(int) - 1) * treatment["cycle_days"] + administrations["DAY"].astype(int) - 1,
        unit="D",
    )
    assert (planned == administrations["START"]).all()
    per_drug_first = administrations.groupby(["PATNO", "DRUG"])["START"].min().unstack()
    assert per_drug_first.nunique(axis=1).eq(1).all()

    registration = administrations["PATNO"].map(full_date(patients.set_index("PATNO")["REGDAT"]))
    eot = administrations["PATNO"].map(full_date(end_of_treatment.set_index("PATNO")["EOTDAT"]))
    assert (administrations["START"] >= registration).all()
    assert (administrations["END"] <= CUP_END).all()
    assert (administrations["END"] <= eot).all()


def test_cycles_received(administrations: pd.DataFrame, targets: dict) -> None:
    isatuximab = administrations[administrations["DRUG"] == "ISATUXIMAB"]
    cycles = isatuximab.groupby("PATNO")["CYCLE"].nunique()
    expected = targets["table3_exposure"]["patients_with_at_least_n_cycles"]
    assert {str(n): int((cycles >= int(n)).sum()) for n in expected} == expected


def test_end_of_treatment(end_of_treatment: pd.DataFrame, adverse_events: pd.DataFrame, targets: dict) -> None:
    table3 = targets["table3_exposure"]
    assert end_of_treatment["DISCONT"].value_counts().to_dict() == table3["premature_discontinuation"]
    reason_names = {"PROGRESSION": "Disease progression", "DEATH": "Death", "OTHER": "Other"}
    discontinued = end_of_treatment[end_of_treatment["DISCONT"] == "Y"]
    assert discontinued["REASON"].map(reason_names).value_counts().to_dict() == table3["reason"]
    regular = end_of_treatment[end_of_treatment["DISCONT"] == "N"]
    assert (regular["REASON"] == "").all() and (regular["EOTDAT"] == "31.01.2021").all()
    died = end_of_treatment[end_of_treatment["DEATHDAT"] != ""]
    assert set(died["PATNO"]) == set(discontinued.loc[discontinued["REASON"] == "DEATH", "PATNO"])
    fatal = adverse_events[adverse_events["OUTCOME"] == "FATAL"]
    assert set(fatal["PATNO"]) == set(died["PATNO"])
    assert (full_date(discontinued["EOTDAT"]) < CUP_END).all()


def test_adverse_event_counts(adverse_events: pd.DataFrame, teae: pd.DataFrame, targets: dict) -> None:
    table2 = targets["table2_teae"]
    assert len(adverse_events) == table2["all_aes"]
    assert not adverse_events.duplicated(["PATNO", "AENO"]).any()
    assert len(teae) == table2["any_row_events"]["any_grade"]
    before = adverse_events[~adverse_events["TEAE"]]
    assert len(before) == table2["pretreatment_serious_aes"]
    assert (before["SERIOUS"] == "Y").all() and (before["ONSET"] < before["FIRST"]).all()
    assert adverse_events["PATNO"].nunique() == teae["PATNO"].nunique() == table2["patients_with_teae"]
    grade = teae["GRADE"].astype(int)
    related = teae["RELISA"] == "Y"
    any_row = {
        "any_grade": len(teae),
        "grade_ge3": int((grade >= 3).sum()),
        "serious": int((teae["SERIOUS"] == "Y").sum()),
        "related_isa_any": int(related.sum()),
        "related_isa_ge3": int((related & (grade >= 3)).sum()),
    }
    assert any_row == table2["any_row_events"]


def test_adverse_event_dates(adverse_events: pd.DataFrame, patients: pd.DataFrame) -> None:
    partial = adverse_events["STARTDAT"].str.startswith("UN")
    assert partial.sum() >= 2
    imputed_to_first_dose = partial & (adverse_events["ONSET"] == adverse_events["FIRST"])
    assert imputed_to_first_dose.any() and (partial & ~imputed_to_first_dose).any()
    assert (adverse_events["ONSET"] == adverse_events["FIRST"]).sum() >= 2
    stop = full_date(adverse_events["STOPDAT"])
    ongoing = adverse_events["ONGOING"] == "Y"
    assert (stop.isna() == ongoing).all()
    assert (stop[~ongoing] >= adverse_events.loc[~ongoing, "ONSET"]).all()
    registration = adverse_events["PATNO"].map(full_date(patients.set_index("PATNO")["REGDAT"]))
    assert (adverse_events["ONSET"] >= registration).all()
    assert (adverse_events["ONSET"] <= adverse_events["LAST"] + pd.Timedelta(days=30)).all()


def test_table2_rows(teae: pd.DataFrame, targets: dict) -> None:
    table2 = targets["table2_teae"]
    assert not teae.duplicated(["PATNO", "PT"]).any()
    grade = teae["GRADE"].astype(int)
    columns = {
        "any_grade": teae,
        "grade_ge3": teae[grade >= 3],
        "serious": teae[teae["SERIOUS"] == "Y"],
        "related_isa_any": teae[teae["RELISA"] == "Y"],
        "related_isa_ge3": teae[(teae["RELISA"] == "Y") & (grade >= 3)],
    }
    counted = {name: subset.groupby(["SOC", "PT"])["PATNO"].nunique() for name, subset in columns.items()}
    terms = teae[["SOC", "PT"]].drop_duplicates()
    actual = [
        [soc, pt, *(int(counted[name].get((soc, pt), 0)) for name in table2["columns"])]
        for soc, pt in zip(terms["SOC"], terms["PT"], strict=True)
    ]
    assert sorted(actual) == sorted(table2["rows"])


def test_text_facts(teae: pd.DataFrame, targets: dict) -> None:
    facts = targets["table2_teae"]["text_facts"]
    assert int((teae["ONSET_CYCLE"] == 1).sum()) == facts["teae_in_cycle1"]
    days_after_first = (teae["ONSET"] - teae["FIRST"]).dt.days
    assert int(days_after_first.between(0, 4).sum()) == facts["teae_first_visit_or_within_4_days"]

    died = (teae["OUTCOME"] == "FATAL").groupby(teae["PATNO"]).any()
    not_recovered = (teae["OUTCOME"] == "NOT RECOVERED").groupby(teae["PATNO"]).any() & ~died
    assert int(died.sum()) == facts["patients_died"]
    assert int(not_recovered.sum()) == facts["patients_not_recovered"]
    assert int((~died & ~not_recovered).sum()) == facts["patients_recovered"]
    assert sorted(teae.loc[teae["OUTCOME"] == "FATAL", "PT"]) == sorted(facts["fatal"])
    assert sorted(teae.loc[teae["OUTCOME"] == "NOT RECOVERED", "PT"]) == sorted(facts["not_recovered"])
    assert set(teae["OUTCOME"]) == {"RECOVERED", "FATAL", "NOT RECOVERED"}

    grade = teae["GRADE"].astype(int)
    for column, fact in (
        ("RELISA", "patients_related_isatuximab"),
        ("RELDEX", "patients_related_dexamethasone"),
        ("RELPOM", "patients_related_pomalidomide"),
    ):
        assert teae.loc[teae[column] == "Y", "PATNO"].nunique() == facts[fact], fact
    related_severe = teae[(teae["RELISA"] == "Y") & (grade >= 3)]
    assert related_severe["PATNO"].nunique() == facts["patients_related_isatuximab_ge3"]

    action_names = {"NONE": "DOSE NOT CHANGED", "WITHDRAWN": "DRUG WITHDRAWN"}
    serious_related = teae[(teae["SERIOUS"] == "Y") & (teae["RELISA"] == "Y")]
    actions = serious_related["ACNISA"].map(action_names)
    actual = sorted(zip(serious_related["PT"], grade[serious_related.index], actions, strict=True))
    assert actual == sorted(tuple(row) for row in facts["serious_related_isatuximab"])

    assert sorted(teae.loc[teae["AESI"] == "Y", "PT"]) == sorted(facts["aesi_terms"])
    withdrawn = teae[teae["ACNISA"] == WITHDRAWN]
    expected = facts["teae_leading_to_isatuximab_discontinuation"]
    assert sorted(zip(withdrawn["PT"], grade[withdrawn.index], strict=True)) == sorted(
        tuple(event) for event in expected["events"]
    )
    assert withdrawn["PATNO"].nunique() == expected["patients"]


def test_no_isatuximab_after_withdrawal(teae: pd.DataFrame, administrations: pd.DataFrame) -> None:
    withdrawn = teae[teae["ACNISA"] == WITHDRAWN].groupby("PATNO")["ONSET"].min()
    isatuximab = administrations[administrations["DRUG"] == "ISATUXIMAB"]
    after = isatuximab["START"] > isatuximab["PATNO"].map(withdrawn)
    assert not after.any()


def test_codes_are_from_the_contract(adverse_events: pd.DataFrame, targets: dict) -> None:
    assert set(adverse_events["ACNISA"]) <= {"NONE", "INTERRUPTED", "WITHDRAWN", "NA", "UNKNOWN"}
    assert set(adverse_events["OUTCOME"]) <= {
        "RECOVERED", "RECOVERING", "NOT RECOVERED", "SEQUELAE", "FATAL", "UNKNOWN",
    }  # fmt: skip
    for column in ("SERIOUS", "RELISA", "RELPOM", "RELDEX", "ONGOING", "AESI"):
        assert set(adverse_events[column]) <= {"Y", "N"}, column
    known = {(row[0], row[1]) for row in targets["table2_teae"]["rows"]}
    teae = adverse_events[adverse_events["TEAE"]]
    teae_terms = set(zip(teae["SOC"], teae["PT"], strict=True))
    assert teae_terms <= known
