"""The benchmark generator writes valid CUP exports, deterministically, at any size."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
GENERATOR = REPO / "benchmarks" / "generate.py"
FILES = ("patients.csv", "administrations.csv", "adverse_events.csv", "end_of_treatment.csv")
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
DATE = r"\d{2}\.\d{2}\.\d{4}"
PARTIAL_DATE = r"(\d{2}|UN)\.\d{2}\.\d{4}|UN\.UN\.\d{4}"
CUP_END = pd.Timestamp("2021-01-31")


def generate(out: Path, patients: int, seed: int = 1, centres: int | None = None) -> Path:
    command = [sys.executable, str(GENERATOR), "--patients", str(patients), "--out", str(out), "--seed", str(seed)]
    if centres is not None:
        command += ["--centres", str(centres)]
    subprocess.run(command, check=True)
    return out


def read(folder: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(folder / name, sep=";", dtype=str, encoding="utf-8-sig", keep_default_na=False)


def as_date(text: pd.Series) -> pd.Series:
    return pd.to_datetime(text.where(text != ""), format="%d.%m.%Y", errors="raise")


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate(tmp_path_factory.mktemp("bench50"), 50)


def test_same_seed_same_bytes_other_seed_other_data(export: Path, tmp_path: Path) -> None:
    again = generate(tmp_path / "again", 50)
    other = generate(tmp_path / "other", 50, seed=2)
    for name in FILES:
        assert (again / name).read_bytes() == (export / name).read_bytes(), name
    assert (other / "patients.csv").read_bytes() != (export / "patients.csv").read_bytes()


def test_files_have_the_format_columns(export: Path) -> None:
    for name in FILES:
        assert list(read(export, name).columns) == FORMAT_COLUMNS[name], name


def test_dates_are_valid_and_in_order(export: Path) -> None:
    patients = read(export, "patients.csv").set_index("PATNO")
    assert len(patients) == 50 and patients.index.is_unique
    assert patients.index.str.fullmatch(r"\d{2}-\d{3,}").all()
    assert patients["DIAGDAT"].str.fullmatch(PARTIAL_DATE).all()
    registration = as_date(patients["REGDAT"])

    administrations = read(export, "administrations.csv")
    start = as_date(administrations["STARTDAT"])
    end = as_date(administrations["ENDDAT"]).fillna(start)
    assert (start >= administrations["PATNO"].map(registration)).all()
    assert (end >= start).all() and (end <= CUP_END).all()
    assert not administrations.duplicated(["PATNO", "DRUG", "CYCLE", "DAY"]).any()
    assert set(administrations["PATNO"]) == set(patients.index)

    events = read(export, "adverse_events.csv")
    assert events["STARTDAT"].str.fullmatch(PARTIAL_DATE).all()
    assert events["STOPDAT"].str.fullmatch(f"({DATE})?").all()
    assert ((events["STOPDAT"] == "") == (events["ONGOING"] == "Y")).all()
    assert not events.duplicated(["PATNO", "AENO"]).any()
    assert set(events["PATNO"]) <= set(patients.index)

    end_of_treatment = read(export, "end_of_treatment.csv")
    eot = as_date(end_of_treatment["EOTDAT"])
    assert (eot <= CUP_END).all()
    died = end_of_treatment["REASON"] == "DEATH"
    assert ((end_of_treatment["DEATHDAT"] != "") == died).all()
    assert (as_date(end_of_treatment.loc[died, "DEATHDAT"]) >= eot[died]).all()
    discontinued = end_of_treatment["DISCONT"] == "Y"
    assert (end_of_treatment.loc[~discontinued, "REASON"] == "").all()
    assert end_of_treatment.loc[discontinued, "REASON"].isin(["PROGRESSION", "DEATH", "OTHER"]).all()
    last_dose = end.groupby(administrations["PATNO"]).max()
    assert (last_dose.reindex(end_of_treatment["PATNO"]).to_numpy() <= eot.to_numpy()).all()


def test_large_centres_get_four_digit_patient_numbers(tmp_path: Path) -> None:
    patients = read(generate(tmp_path, 2500, centres=2), "patients.csv")
    assert patients["CENTRE"].nunique() == 2
    assert patients["PATNO"].str.fullmatch(r"\d{2}-\d{4}").any()
    assert patients["PATNO"].is_unique
