"""Generate a synthetic CUP EDC export of any size, for benchmarks.

    python benchmarks/generate.py --patients 100000 --out DIR [--seed 1] [--centres 99]

Same contract as the sample export (shared/cup-export/FORMAT.md, German-locale CSV) and the
same formatting and treatment-schedule code (tools/cup_csv.py), but random: distributions
loosely follow the isatuximab CUP (enrolment July 2020 to January 2021, regular end
31.01.2021, a third of patients stopping early), giving about 17 administration rows and 1.8
AE rows per patient. Large centres get patient numbers of four or more digits (`01-1234`).
Everything is drawn with one seeded numpy generator in whole-column operations, so the same
seed gives the same bytes and 100,000 patients take seconds, not minutes.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

# The shared export helpers live in tools/ (scripts, not an installed package).
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
from cup_csv import (
    ADVERSE_EVENT_COLUMNS,
    END_OF_TREATMENT_COLUMNS,
    PATIENT_COLUMNS,
    build_administrations,
    format_administrations,
    format_partial_dates,
    seriousness_criteria,
    to_export_text,
    write_export_csv,
)
from make_sample_data import SOC_OF_PT  # the CRO's MedDRA coding

ENROLMENT_START = np.datetime64("2020-07-01")
CUP_END = np.datetime64("2021-01-31")
MEAN_DAYS_BEFORE_END = 70  # enrolment accelerates towards market access: ~2.3 cycles on average
AE_PER_PATIENT = 1.8
TEAE_WINDOW_DAYS = 30

MYELOMA_TYPES = np.array(
    ["IgG kappa", "IgG lambda", "IgA kappa", "IgA lambda", "Leichtketten kappa",
     "Leichtketten lambda", "IgD lambda", "IgA kappa, extramedullärer Befall", "asekretorisch"],
    dtype=object,
)  # fmt: skip
MYELOMA_TYPE_WEIGHTS = np.array([0.32, 0.18, 0.12, 0.08, 0.1, 0.1, 0.02, 0.04, 0.04])

# Preferred term, German verbatim as sites write it, relative frequency.
AE_CATALOGUE = pd.DataFrame(
    [
        ("Anaemia", "Anämie", 8),
        ("Neutropenia", "Neutropenie", 10),
        ("Febrile neutropenia", "Febrile Neutropenie", 3),
        ("Angina pectoris", "Angina pectoris", 1),
        ("Ascites", "Aszites", 1),
        ("Disease progression", "Krankheitsprogression", 3),
        ("Localised oedema", "Fußödeme beidseits", 4),
        ("Pain", "Schmerzen", 4),
        ("Bronchitis", "Bronchitis", 5),
        ("Urinary tract infection", "Harnwegsinfekt", 5),
        ("Fall", "Sturz", 2),
        ("Hip fracture", "Schenkelhalsfraktur", 1),
        ("Infusion related reaction", "Infusionsreaktion (Schüttelfrost)", 6),
        ("Neutrophil count decreased", "Neutrophile vermindert", 6),
        ("Platelet count decreased", "Thrombozyten < 50.000/µl", 5),
        ("Cachexia", "Kachexie", 1),
        ("Hypokalaemia", "Hypokaliämie", 2),
        ("Back pain", "Rückenschmerzen", 4),
        ("Bone pain", "Knochenschmerzen", 3),
        ("Plasma cell myeloma", "Progress des Myeloms", 3),
        ("Dizziness", "Schwindel", 3),
        ("Dyspnoea", "Atemnot", 4),
        ("Laryngeal obstruction", "Engegefühl im Hals; Stridor", 1),
        ("Pruritus", "Juckreiz", 2),
        ("Hypertension", "Hypertonie", 3),
        ("Hypercalcaemia", "Hyperkalzämie", 1),
    ],
    columns=["PT", "AETEXT", "WEIGHT"],
)


def _pick(rng: np.random.Generator, options: np.ndarray, weights: np.ndarray, size: int) -> np.ndarray:
    return options[rng.choice(len(options), size=size, p=np.asarray(weights) / np.sum(weights))]


def _two_digits(numbers: np.ndarray) -> pd.Series:
    return pd.Series(numbers).astype(str).str.zfill(2)


def _patient_numbers(centre: np.ndarray) -> np.ndarray:
    """`CC-NNN` with a running number per centre (3+ digits); rows come sorted by centre and
    registration, so the number follows the order of registration."""
    running = pd.Series(centre).groupby(centre).cumcount() + 1
    return (_two_digits(centre) + "-" + running.astype(str).str.zfill(3)).to_numpy(dtype=object)


def make_patients(rng: np.random.Generator, n_patients: int, n_centres: int) -> pd.DataFrame:
    """Registration and baseline, typed (dates as datetime64, flags as bool)."""
    centre_weights = rng.dirichlet(np.full(n_centres, 0.8))
    centre = rng.choice(np.arange(1, n_centres + 1), size=n_patients, p=centre_weights)
    latest_registration = (CUP_END - ENROLMENT_START).astype(int) - 10
    days_before_end = np.minimum(
        rng.exponential(MEAN_DAYS_BEFORE_END, n_patients).astype(int) + 10, latest_registration + 10
    )
    registration = CUP_END - days_before_end
    order = np.lexsort((registration, centre))
    centre, registration = centre[order], registration[order]
    female = rng.random(n_patients) < 0.55
    age = np.clip(np.round(rng.normal(67, 9, n_patients)), 40, 90).astype(int)
    height = np.round(np.where(female, rng.normal(164, 7, n_patients), rng.normal(177, 7, n_patients)))
    weight = np.round(np.where(female, rng.normal(68, 12, n_patients), rng.normal(82, 13, n_patients)) * 2) / 2
    years_since_diagnosis = np.clip(rng.gamma(3.0, 2.4, n_patients), 0.3, 30)
    diagnosis = registration - (years_since_diagnosis * 365.25).astype(int)
    precision = rng.random(n_patients)
    prior_lines = 2 + rng.poisson(1.4, n_patients)
    patno = _patient_numbers(centre)
    return pd.DataFrame(
        {
            "CENTRE": _two_digits(centre),
            "PATNO": patno,
            "REGDAT": registration,
            "BIRTHYR": registration.astype("datetime64[Y]").astype(int) + 1970 - age - rng.integers(0, 2, n_patients),
            "AGE": age,
            "SEX": np.where(female, 2, 1),
            "WEIGHT": np.clip(weight, 38, 160),
            "HEIGHT": np.clip(height, 140, 205),
            "ECOG": rng.choice(3, size=n_patients, p=[0.28, 0.56, 0.16]),
            "DIAGDAT": format_partial_dates(diagnosis, unknown_day=precision < 0.25, unknown_month=precision < 0.07),
            "MMTYPE": _pick(rng, MYELOMA_TYPES, MYELOMA_TYPE_WEIGHTS, n_patients),
            "PRIORLIN": prior_lines,
            "PRIPI": np.ones(n_patients, dtype=bool),
            "PRILEN": np.ones(n_patients, dtype=bool),
            "PRIPOM": rng.random(n_patients) < 0.2 + 0.08 * (prior_lines - 2),
            "PRICD38": rng.random(n_patients) < 0.15 + 0.08 * (prior_lines - 2),
            "CONMED": rng.random(n_patients) < 0.45,
            "CONDIS": rng.random(n_patients) < 0.5,
        }
    )


def make_courses(rng: np.random.Generator, patients: pd.DataFrame) -> pd.DataFrame:
    """Treatment course per patient: a third stop early, a few lose isatuximab earlier."""
    n = len(patients)
    registration = patients["REGDAT"].to_numpy(dtype="datetime64[D]")
    first_dose = np.minimum(registration + rng.integers(2, 12, n), CUP_END)
    available = (CUP_END - first_dose).astype(int)
    early = (rng.random(n) < 0.33) & (available > 7)
    stop_day = np.floor(rng.random(n) * available).astype(int)
    last_treatment = np.where(early, first_dose + stop_day, CUP_END)
    withdrawn = rng.random(n) < 0.06
    isatuximab_last = np.where(
        withdrawn,
        first_dose + np.floor(rng.random(n) * (last_treatment - first_dose).astype(int)).astype(int),
        last_treatment,
    )
    reason = _pick(rng, np.array(["PROGRESSION", "DEATH", "OTHER"], dtype=object), np.array([3, 2, 1]), n)
    reason = np.where(early, reason, "")
    eot = np.where(early, np.minimum(last_treatment + rng.integers(0, 8, n), CUP_END - 1), CUP_END)
    death = np.where(reason == "DEATH", eot, np.datetime64("NaT"))
    return pd.DataFrame(
        {
            "PATNO": patients["PATNO"].to_numpy(dtype=object),
            "REGDAT": registration,
            "FIRST_DOSE": first_dose,
            "LAST_TREATMENT": last_treatment,
            "ISATUXIMAB_LAST": isatuximab_last,
            "EOTDAT": eot,
            "REASON": reason,
            "DISCONT": early,
            "DEATHDAT": death,
            "DEX_DOSE": np.where(patients["AGE"].to_numpy() >= 75, 20.0, 40.0),
            "DEX_IV_ON_INFUSION_DAYS": patients["CENTRE"].isin(["05", "17", "42"]).to_numpy(),
        }
    )


def make_adverse_events(rng: np.random.Generator, courses: pd.DataFrame, rfxend: np.ndarray) -> pd.DataFrame:
    """AE form lines: Poisson counts per patient, onsets between registration and 30 days after
    the last dose (a few before the first dose), typed except the partial STARTDAT text."""
    counts = rng.poisson(AE_PER_PATIENT, len(courses))
    row = np.repeat(np.arange(len(courses)), counts)
    n = len(row)
    registration = courses["REGDAT"].to_numpy(dtype="datetime64[D]")[row]
    first_dose = courses["FIRST_DOSE"].to_numpy(dtype="datetime64[D]")[row]
    window = (rfxend[row] - first_dose).astype(int) + TEAE_WINDOW_DAYS
    after_first = first_dose + np.minimum(rng.exponential(25, n).astype(int), window)
    before_first = registration + np.floor(rng.random(n) * (first_dose - registration).astype(int)).astype(int)
    onset = np.where(rng.random(n) < 0.03, before_first, after_first)

    catalogue = AE_CATALOGUE.iloc[
        rng.choice(len(AE_CATALOGUE), size=n, p=AE_CATALOGUE["WEIGHT"] / AE_CATALOGUE["WEIGHT"].sum())
    ].reset_index(drop=True)
    grade = rng.choice(np.arange(1, 6), size=n, p=[0.3, 0.35, 0.26, 0.06, 0.03])
    fatal = grade == 5
    outcome = np.where(
        fatal, "FATAL",
        _pick(rng, np.array(["RECOVERED", "RECOVERING", "NOT RECOVERED", "SEQUELAE", "UNKNOWN"], dtype=object),
              np.array([80, 6, 8, 3, 3]), n),
    )  # fmt: skip
    ongoing = np.isin(outcome, ["RECOVERING", "NOT RECOVERED", "UNKNOWN"])
    stop = np.where(ongoing, np.datetime64("NaT"), onset + rng.integers(0, 30, n))
    precision = rng.random(n)
    related = rng.random(n) < 0.35
    events = pd.DataFrame(
        {
            "ROW": row,
            "PATNO": courses["PATNO"].to_numpy(dtype=object)[row],
            "ONSET": onset,
            "AETEXT": catalogue["AETEXT"],
            "PT": catalogue["PT"],
            "SOC": catalogue["PT"].map(SOC_OF_PT),
            "STARTDAT": format_partial_dates(onset, unknown_day=precision < 0.05, unknown_month=precision < 0.01),
            "STOPDAT": stop,
            "ONGOING": ongoing,
            "GRADE": grade,
            "SERIOUS": fatal | (rng.random(n) < np.where(grade >= 3, 0.5, 0.08)),
            "RELISA": related & ~fatal,
            "RELPOM": (rng.random(n) < 0.2) & ~fatal,
            "RELDEX": (rng.random(n) < 0.08) & ~fatal,
            "ACNISA": np.where(
                fatal,
                "NA",
                _pick(
                    rng,
                    np.array(["NONE", "INTERRUPTED", "WITHDRAWN", "NA", "UNKNOWN"], dtype=object),
                    np.array([75, 12, 5, 6, 2]),
                    n,
                ),
            ),
            "OUTCOME": outcome,
            "AESI": related & (rng.random(n) < 0.3),
        }
    )
    criteria = seriousness_criteria(
        serious=events["SERIOUS"].to_numpy(),
        fatal=fatal,
        life_threatening=(grade == 4) & (rng.random(n) < 0.6),
        hospitalised=rng.random(n) < 0.75,
    )
    events = events.assign(**criteria)
    # AE numbers run per patient in order of onset, as on the AE form.
    events = events.sort_values(["ROW", "ONSET"], kind="stable", ignore_index=True)
    events["AENO"] = events.groupby("ROW").cumcount() + 1
    return events


def write_benchmark_export(out: Path, n_patients: int, seed: int, n_centres: int | None = None) -> None:
    rng = np.random.default_rng(seed)
    centres = n_centres if n_centres is not None else int(np.clip(n_patients // 10, 1, 99))
    patients = make_patients(rng, n_patients, centres)
    courses = make_courses(rng, patients)
    administrations = build_administrations(courses)
    # A few infusions withheld (never a day-1 infusion, so the cycle count stays visible).
    withheld = (
        (administrations["DRUG"] == "ISATUXIMAB").to_numpy()
        & (administrations["DAY"] != 1).to_numpy()
        & (rng.random(len(administrations)) < 0.03)
    )
    administrations = administrations[~withheld]
    ends = administrations["ENDDAT"].fillna(administrations["STARTDAT"])
    rfxend = ends.groupby(administrations["ROW"]).max().reindex(range(len(courses))).to_numpy(dtype="datetime64[D]")
    events = make_adverse_events(rng, courses, rfxend)

    out.mkdir(parents=True, exist_ok=True)
    write_export_csv(to_export_text(patients, PATIENT_COLUMNS), out / "patients.csv", bom=True)
    write_export_csv(format_administrations(administrations), out / "administrations.csv")
    write_export_csv(to_export_text(events, ADVERSE_EVENT_COLUMNS), out / "adverse_events.csv")
    write_export_csv(to_export_text(courses, END_OF_TREATMENT_COLUMNS), out / "end_of_treatment.csv")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, required=True, help="number of patients")
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--seed", type=int, default=1, help="random seed (same seed, same bytes)")
    parser.add_argument("--centres", type=int, default=None, help="number of centres (default N/10, 1..99)")
    arguments = parser.parse_args()
    if arguments.centres is not None and not 1 <= arguments.centres <= 99:
        parser.error("--centres must be between 1 and 99 (the centre number has two digits)")
    write_benchmark_export(arguments.out, arguments.patients, arguments.seed, arguments.centres)


if __name__ == "__main__":
    main()
