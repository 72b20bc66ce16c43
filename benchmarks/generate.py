"""Generate a synthetic CUP EDC export of any size, for benchmarks.

    python benchmarks/generate.py --patients 100000 --out DIR [--seed 1] [--centres 99] [--plain]

Same contract as the sample export (shared/cup-export/FORMAT.md, German-locale CSV) and the
same formatting and treatment-schedule code (tools/cup_csv.py), but random: distributions
loosely follow the isatuximab CUP (enrolment July 2020 to January 2021, regular end
31.01.2021, a third of patients stopping early), giving about 17 administration rows and 2 AE
rows per patient. Large centres get patient numbers of four or more digits (`01-1234`).

By default the export looks like what real EDC exports contain (benchmarks/README.md lists it):
every file in its own column order with the EDC's audit columns that the contract does not
know, a byte-order mark and CRLF line ends on some files, German free text with umlauts,
partial dates of both kinds wherever the contract allows them, the seriousness criteria of
format v1.1, patients who never received a dose, deaths (with the fatal AE and nothing dated
after them), AEs up to 30 days after the last dose, and patients who started pomalidomide and
dexamethasone a day before isatuximab. `--plain` writes the friendly layout earlier benchmarks
measured (contract column order, no extra columns, no BOM, LF, everyone dosed on one day);
the single options below switch one feature each.

Everything is drawn with seeded numpy generators in whole-column operations, so the same seed
and options give the same bytes and 100,000 patients take seconds, not minutes. The layout
(column orders, BOM and line ends) has its own random stream, so it never changes the data.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

# The shared export helpers live in tools/ (scripts, not an installed package).
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
from cup_csv import (
    ADMINISTRATION_COLUMNS,
    ADVERSE_EVENT_COLUMNS,
    END_OF_TREATMENT_COLUMNS,
    PATIENT_COLUMNS,
    SERIOUSNESS_COLUMNS,
    build_administrations,
    format_administrations,
    format_dates,
    format_partial_dates,
    seriousness_criteria,
    to_export_text,
    write_export_csv,
)
from make_sample_data import SOC_OF_PT  # the CRO's MedDRA coding

ENROLMENT_START = np.datetime64("2020-07-01")
CUP_END = np.datetime64("2021-01-31")
NOT_A_DATE = np.datetime64("NaT", "D")
MEAN_DAYS_BEFORE_END = 70  # enrolment accelerates towards market access: ~2.3 cycles on average
AE_PER_PATIENT = 1.8
AE_PER_UNDOSED_PATIENT = 0.6  # between registration and the end-of-treatment form
TEAE_WINDOW_DAYS = 30  # FORMAT.md: AEs are collected up to 30 days after the last dose
FILES = ("patients.csv", "administrations.csv", "adverse_events.csv", "end_of_treatment.csv")

# The reviewer's 400-patient export: 7 patients never dosed; some started pomalidomide and
# dexamethasone the day before the first isatuximab infusion.
UNDOSED_SHARE = 7 / 400
POM_DEX_FIRST_SHARE = 0.04
PRE_DOSE_AE_SHARE = 0.03  # AEs between registration and the first dose
FOLLOW_UP_AE_SHARE = 0.08  # AEs in the 30 days after the last dose
FOLLOW_UP_DEATH_SHARE = 0.15  # of patients stopped for progression: died within 30 days of the last dose
FATAL_AE_SHARE = 0.9  # of deaths: a fatal AE on the AE form (the others died without one recorded)

MYELOMA_TYPES = np.array(
    ["IgG kappa", "IgG lambda", "IgA kappa", "IgA lambda", "Leichtketten kappa",
     "Leichtketten lambda", "IgD lambda", "IgA kappa, extramedullärer Befall", "asekretorisch",
     "IgG kappa; Bence-Jones-Proteinurie", "Leichtkettenmyelom (Typ kappa)", "IgG kappa – Hochrisiko (del17p)",
     'IgA lambda, "smouldering" bei ED', "Plasmazellmyelom IgG κ", "Leichtketten λ"],
    dtype=object,
)  # fmt: skip
MYELOMA_TYPE_WEIGHTS = np.array([0.3, 0.17, 0.12, 0.08, 0.09, 0.09, 0.02, 0.04, 0.03, 0.02, 0.02, 0.01, 0.01, 0, 0])
# Variants with characters that have no ASCII form (κ, λ, ≥, ↓), only with --wide-text.
MYELOMA_TYPE_WIDE_WEIGHTS = np.array(
    [0.3, 0.17, 0.12, 0.08, 0.09, 0.06, 0.02, 0.04, 0.03, 0.02, 0.02, 0.01, 0.01, 0.015, 0.015]
)

# MedDRA coding of the terms the sample export does not use (preferred term -> primary SOC).
MORE_SOC_OF_PT = {
    "Nausea": "Gastrointestinal disorders",
    "Diarrhoea": "Gastrointestinal disorders",
    "Constipation": "Gastrointestinal disorders",
    "Pyrexia": "General disorders and administration site conditions",
    "Fatigue": "General disorders and administration site conditions",
    "Insomnia": "Psychiatric disorders",
    "Peripheral sensory neuropathy": "Nervous system disorders",
    "Cough": "Respiratory, thoracic and mediastinal disorders",
    "Muscle spasms": "Musculoskeletal and connective tissue disorders",
    "Pneumonia": "Infections and infestations",
    "Sepsis": "Infections and infestations",
    "Upper respiratory tract infection": "Infections and infestations",
    "Herpes zoster": "Infections and infestations",
    "Thrombocytopenia": "Blood and lymphatic system disorders",
    "Hyperglycaemia": "Metabolism and nutrition disorders",
    "Cardiac failure": "Cardiac disorders",
}
SOC = {**SOC_OF_PT, **MORE_SOC_OF_PT}

# Preferred term, verbatim as sites write it (mostly German, a few English), relative
# frequency, and whether the verbatim needs --wide-text (a character with no ASCII form).
AE_CATALOGUE = pd.DataFrame(
    [
        ("Anaemia", "Anämie", 5, False),
        ("Anaemia", "Anämie, transfusionspflichtig", 2, False),
        ("Anaemia", "Hb-Abfall auf 7,9 g/dl", 1, False),
        ("Anaemia", "Hb ↓ 7,9 g/dl", 0.3, True),
        ("Neutropenia", "Neutropenie", 7, False),
        ("Neutropenia", "Neutropenie Grad 3", 2, False),
        ("Neutropenia", "neutropenia", 1, False),
        ("Febrile neutropenia", "Febrile Neutropenie", 2, False),
        ("Febrile neutropenia", "Fieber bei Neutropenie (38,9 °C)", 1, False),
        ("Angina pectoris", "Angina pectoris", 1, False),
        ("Ascites", "Aszites", 1, False),
        ("Disease progression", "Krankheitsprogression", 2, False),
        ("Disease progression", "Progress", 1, False),
        ("Localised oedema", "Fußödeme beidseits", 3, False),
        ("Localised oedema", "Ödem linker Unterschenkel", 1, False),
        ("Pain", "Schmerzen", 3, False),
        ("Pain", "Starke Schmerzen, generalisiert", 1, False),
        ("Bronchitis", "Bronchitis", 3, False),
        ("Bronchitis", "Akute Bronchitis", 2, False),
        ("Urinary tract infection", "Harnwegsinfekt", 4, False),
        ("Urinary tract infection", "Harnwegsinfektion mit Fieber", 1, False),
        ("Fall", "Sturz", 1, False),
        ("Fall", "Sturz zu Hause", 1, False),
        ("Hip fracture", "Schenkelhalsfraktur", 1, False),
        ("Infusion related reaction", "Infusionsreaktion (Schüttelfrost)", 3, False),
        ("Infusion related reaction", "Infusionsreaktion mit Schüttelfrost, Übelkeit", 2, False),
        ("Infusion related reaction", "IRR bei 1. Gabe – „Flush“", 1, False),
        ("Neutrophil count decreased", "Neutrophile vermindert", 4, False),
        ("Neutrophil count decreased", "Neutrophile 0,8 G/l", 2, False),
        ("Platelet count decreased", "Thrombozyten < 50.000/µl", 3, False),
        ("Platelet count decreased", "Thrombozytopenie (18.000/µl)", 2, False),
        ("Platelet count decreased", "Thrombozyten ≥ Grad 3 vermindert", 0.5, True),
        ("Cachexia", "Kachexie", 1, False),
        ("Hypokalaemia", "Hypokaliämie", 1, False),
        ("Hypokalaemia", "Hypokaliämie (K+ 2,8 mmol/l)", 1, False),
        ("Back pain", "Rückenschmerzen", 4, False),
        ("Bone pain", "Knochenschmerzen", 2, False),
        ("Bone pain", "Knochenschmerzen Becken", 1, False),
        ("Plasma cell myeloma", "Progress des Myeloms", 2, False),
        ("Plasma cell myeloma", "Myelomprogress", 1, False),
        ("Dizziness", "Schwindel", 3, False),
        ("Dyspnoea", "Atemnot", 3, False),
        ("Dyspnoea", "Dyspnoe bei Belastung", 1, False),
        ("Laryngeal obstruction", "Engegefühl im Hals; Stridor", 1, False),
        ("Pruritus", "Juckreiz", 2, False),
        ("Hypertension", "Hypertonie", 2, False),
        ("Hypertension", "Hypertensive Entgleisung", 1, False),
        ("Hypercalcaemia", "Hyperkalzämie", 1, False),
        ("Nausea", "Übelkeit", 4, False),
        ("Diarrhoea", "Durchfall", 3, False),
        ("Diarrhoea", "Diarrhö", 1, False),
        ("Constipation", "Obstipation", 2, False),
        ("Constipation", "Verstopfung", 1, False),
        ("Pyrexia", "Fieber 38,5 °C", 3, False),
        ("Pyrexia", "Fieber", 2, False),
        ("Fatigue", "Müdigkeit", 4, False),
        ("Fatigue", "Fatigue", 2, False),
        ("Fatigue", "Abgeschlagenheit", 1, False),
        ("Insomnia", "Schlafstörungen (Dexamethason)", 2, False),
        ("Peripheral sensory neuropathy", "Polyneuropathie Füße", 2, False),
        ("Peripheral sensory neuropathy", "Kribbeln in Händen und Füßen", 1, False),
        ("Cough", "Husten", 3, False),
        ("Cough", 'Reizhusten, "trocken"', 1, False),
        ("Muscle spasms", "Muskelkrämpfe Wade", 2, False),
        ("Pneumonia", "Pneumonie", 2, False),
        ("Pneumonia", "Lungenentzündung", 1, False),
        ("Upper respiratory tract infection", "Infekt der oberen Atemwege", 2, False),
        ("Upper respiratory tract infection", "grippaler Infekt", 1, False),
        ("Herpes zoster", "Herpes zoster (Gürtelrose)", 1, False),
        ("Thrombocytopenia", "Thrombozytopenie", 3, False),
        ("Hyperglycaemia", "Hyperglykämie unter Dexamethason", 1, False),
    ],
    columns=["PT", "AETEXT", "WEIGHT", "WIDE"],
)
# The AE a patient died of (grade 5, OUTCOME FATAL): mostly the myeloma itself.
FATAL_CATALOGUE = pd.DataFrame(
    [
        ("Disease progression", "Krankheitsprogression mit Todesfolge", 4),
        ("Plasma cell myeloma", "Myelomprogress mit Todesfolge", 4),
        ("Sepsis", "Sepsis, letal", 1),
        ("Pneumonia", "Pneumonie, tödlich verlaufen", 1),
        ("Cardiac failure", "Herzversagen", 1),
    ],
    columns=["PT", "AETEXT", "WEIGHT"],
)

# Extra columns of the EDC (FORMAT.md: "extra columns may appear"): audit trail and site data.
CITIES = np.array(
    ["Würzburg", "Köln", "Düsseldorf", "Lübeck", "Göttingen", "Tübingen", "München", "Münster",
     "Gießen", "Fürth", "Saarbrücken", "Osnabrück", "Nürnberg", "Jena", "Essen", "Hamburg",
     "Frankfurt am Main", "Mönchengladbach", "Bad Homburg", "Lüdenscheid", "Zwickau", "Greifswald"],
    dtype=object,
)  # fmt: skip
SITE_KINDS = np.array(
    ["Universitätsklinikum", "Klinikum", "Onkologische Schwerpunktpraxis", "St.-Josefs-Hospital", "MVZ Hämatologie"],
    dtype=object,
)
FORM_STATUS = np.array(["Verifiziert (SDV)", "Vollständig", "Unterschrieben", "In Prüfung"], dtype=object)
FORM_STATUS_WEIGHTS = np.array([0.5, 0.3, 0.15, 0.05])
BATCHES = np.array(["2L0113", "2L0147", "3A0021", "3A0098", "3B0205", "3C0311", "4A0007", "4A0052"], dtype=object)
AE_COMMENTS = np.array(
    ["", "Rücksprache mit Prüfärztin erfolgt", "Dosis unverändert; Kontrolle in 1 Woche",
     'Laut Arztbrief "stationär"', "Begleitmedikation angepasst (Metamizol 500 mg)", "Keine Maßnahme",
     "Nachgetragen nach Monitoring\nDatum korrigiert"],
    dtype=object,
)  # fmt: skip
AE_COMMENT_WEIGHTS = np.array([0.85, 0.04, 0.04, 0.02, 0.02, 0.025, 0.005])
EOT_COMMENTS = {
    "": "Umstellung auf kommerzielle Ware nach Marktzulassung",
    "PROGRESSION": "Progress unter Therapie",
    "DEATH": "Patient verstorben",
    "OTHER": "Wunsch des Patienten – Therapieende",
}
UNDOSED_AT_END_COMMENT = "Keine Gabe mehr vor Ende des CUP möglich"
MEDDRA_VERSION = "23.1"
CLOCK = np.array([f"{minute // 60:02d}:{minute % 60:02d}" for minute in range(24 * 60)], dtype=object)


@dataclass(frozen=True)
class Realism:
    """What of a real export the generator writes; the defaults are what real exports contain."""

    column_order: str = "shuffled"  # "shuffled": each file in its own seeded order; "contract": FORMAT.md order
    extra_columns: bool = True  # EDC columns the contract does not know
    bom: str = "mixed"  # "mixed": some files with a byte-order mark; "all"; "none"
    line_ends: str = "mixed"  # "mixed": some files CRLF, some LF; "crlf"; "lf"
    format_version: str = "1.1"  # "1": no seriousness criteria columns
    undosed_share: float = UNDOSED_SHARE  # patients registered but never dosed
    pom_dex_first_share: float = POM_DEX_FIRST_SHARE  # pomalidomide/dexamethasone a day before isatuximab
    wide_text: bool = False  # free text also with characters that have no ASCII form (λ, κ, ≥, ↓)


PLAIN = Realism(
    column_order="contract", extra_columns=False, bom="none", line_ends="lf", undosed_share=0.0, pom_dex_first_share=0.0
)


def _pick(rng: np.random.Generator, options: np.ndarray, weights: np.ndarray, size: int) -> np.ndarray:
    return options[rng.choice(len(options), size=size, p=np.asarray(weights) / np.sum(weights))]


def _exactly(rng: np.random.Generator, eligible: np.ndarray, share: float, of: int) -> np.ndarray:
    """A mask choosing round(share x of) of the eligible positions (all of them if fewer)."""
    candidates = np.flatnonzero(eligible)
    chosen = rng.permutation(candidates)[: min(round(share * of), len(candidates))]
    mask = np.zeros(len(eligible), dtype=bool)
    mask[chosen] = True
    return mask


def _days(later: np.ndarray, earlier: np.ndarray) -> np.ndarray:
    """Whole days between two date arrays (0 where either is missing)."""
    difference = (later - earlier).astype("timedelta64[D]")
    return np.where(np.isnat(difference), 0, difference.astype(np.int64))


def _two_digits(numbers: np.ndarray) -> pd.Series:
    return pd.Series(numbers).astype(str).str.zfill(2)


def _patient_numbers(centre: np.ndarray) -> np.ndarray:
    """`CC-NNN` with a running number per centre (3+ digits); rows come sorted by centre and
    registration, so the number follows the order of registration."""
    running = pd.Series(centre).groupby(centre).cumcount() + 1
    return (_two_digits(centre) + "-" + running.astype(str).str.zfill(3)).to_numpy(dtype=object)


def make_patients(rng: np.random.Generator, n_patients: int, n_centres: int, realism: Realism) -> pd.DataFrame:
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
    myeloma_weights = MYELOMA_TYPE_WIDE_WEIGHTS if realism.wide_text else MYELOMA_TYPE_WEIGHTS
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
            "MMTYPE": _pick(rng, MYELOMA_TYPES, myeloma_weights, n_patients),
            "PRIORLIN": prior_lines,
            "PRIPI": np.ones(n_patients, dtype=bool),
            "PRILEN": np.ones(n_patients, dtype=bool),
            "PRIPOM": rng.random(n_patients) < 0.2 + 0.08 * (prior_lines - 2),
            "PRICD38": rng.random(n_patients) < 0.15 + 0.08 * (prior_lines - 2),
            "CONMED": rng.random(n_patients) < 0.45,
            "CONDIS": rng.random(n_patients) < 0.5,
        }
    )


def make_courses(rng: np.random.Generator, patients: pd.DataFrame, realism: Realism) -> pd.DataFrame:
    """Treatment course per patient: a third stop early, a few lose isatuximab earlier, a few
    are never dosed; deaths end the course (and nothing is dated after them)."""
    n = len(patients)
    registration = patients["REGDAT"].to_numpy(dtype="datetime64[D]")
    undosed = _exactly(rng, np.ones(n, dtype=bool), realism.undosed_share, n)
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
    reasons = np.array(["PROGRESSION", "DEATH", "OTHER"], dtype=object)
    reason = np.where(early, _pick(rng, reasons, np.array([3, 2, 1]), n), "")
    eot = np.where(early, np.minimum(last_treatment + rng.integers(0, 8, n), CUP_END - 1), CUP_END)
    death = np.where(reason == "DEATH", eot, NOT_A_DATE)  # deaths in follow-up: add_follow_up_deaths

    # Never dosed: the end-of-treatment form follows within a month (consent withdrawn, the
    # disease progressed, died); registered in the last days of the CUP, they ran out of time.
    undosed_reason = _pick(rng, reasons, np.array([3, 2, 5]), n)
    ran_out = undosed & (CUP_END - registration < 12)
    undosed_eot = np.minimum(registration + rng.integers(1, 30, n), CUP_END - 1)
    reason = np.where(undosed, np.where(ran_out, "", undosed_reason), reason)
    eot = np.where(undosed, np.where(ran_out, CUP_END, undosed_eot), eot)
    death = np.where(undosed, np.where(reason == "DEATH", eot, NOT_A_DATE), death)
    first_dose = np.where(undosed, NOT_A_DATE, first_dose)
    last_treatment = np.where(undosed, NOT_A_DATE, last_treatment)
    isatuximab_last = np.where(undosed, NOT_A_DATE, isatuximab_last)

    # Pomalidomide and dexamethasone started a day before the first infusion (which then is
    # on cycle day 2); only where isatuximab went on for at least a week.
    pom_dex_first = _exactly(
        rng, ~undosed & (_days(isatuximab_last, first_dose) >= 7), realism.pom_dex_first_share, int((~undosed).sum())
    )
    return pd.DataFrame(
        {
            "PATNO": patients["PATNO"].to_numpy(dtype=object),
            "REGDAT": registration,
            "UNDOSED": undosed,
            "POM_DEX_FIRST": pom_dex_first,
            "FIRST_DOSE": first_dose,
            "LAST_TREATMENT": last_treatment,
            "ISATUXIMAB_LAST": isatuximab_last,
            "EOTDAT": eot,
            "REASON": reason,
            "DISCONT": reason != "",
            "DEATHDAT": death,
            "DEX_DOSE": np.where(patients["AGE"].to_numpy() >= 75, 20.0, 40.0),
            "DEX_IV_ON_INFUSION_DAYS": patients["CENTRE"].isin(["05", "17", "42"]).to_numpy(),
        }
    )


def make_administrations(rng: np.random.Generator, courses: pd.DataFrame) -> pd.DataFrame:
    """Administrations of the dosed patients; ROW is the position of the course in `courses`."""
    dosed = np.flatnonzero(~courses["UNDOSED"].to_numpy())
    administrations = build_administrations(courses.iloc[dosed].reset_index(drop=True))
    administrations["ROW"] = dosed[administrations["ROW"].to_numpy()]
    # A few infusions withheld (never a day-1 infusion, so the cycle count stays visible).
    isatuximab = (administrations["DRUG"] == "ISATUXIMAB").to_numpy()
    day = administrations["DAY"].to_numpy()
    withheld = isatuximab & (day != 1) & (rng.random(len(administrations)) < 0.03)
    administrations = administrations[~withheld].reset_index(drop=True)

    # The first infusion a day after pomalidomide and dexamethasone started: cycle 1, day 2.
    isatuximab = (administrations["DRUG"] == "ISATUXIMAB").to_numpy()
    first_cycle_day_1 = (administrations["CYCLE"] == 1).to_numpy() & (administrations["DAY"] == 1).to_numpy()
    late = courses["POM_DEX_FIRST"].to_numpy()[administrations["ROW"].to_numpy()] & first_cycle_day_1
    administrations.loc[late & isatuximab, "STARTDAT"] += pd.Timedelta(days=1)
    administrations.loc[late & isatuximab, "DAY"] = 2
    # Dexamethasone of that day was no premedication of an infusion: taken orally.
    administrations.loc[late & (administrations["DRUG"] == "DEXAMETHASONE").to_numpy(), "ROUTE"] = "PO"
    drug_order = administrations["DRUG"].map({"ISATUXIMAB": 0, "POMALIDOMIDE": 1, "DEXAMETHASONE": 2})
    order = np.lexsort((drug_order.to_numpy(), administrations["STARTDAT"].to_numpy(), administrations["ROW"]))
    return administrations.iloc[order].reset_index(drop=True)


def add_follow_up_deaths(rng: np.random.Generator, courses: pd.DataFrame, rfxend: np.ndarray) -> pd.DataFrame:
    """A few who stopped for progression died after the end of treatment, in the 30 days after
    their last dose (`rfxend`, known once the administrations are), while AEs were still collected."""
    eot = courses["EOTDAT"].to_numpy(dtype="datetime64[D]")
    room = _days(rfxend + TEAE_WINDOW_DAYS, eot)
    died = (
        (courses["REASON"] == "PROGRESSION").to_numpy()
        & (room > 0)
        & (rng.random(len(courses)) < FOLLOW_UP_DEATH_SHARE)
    )
    after_eot = 1 + np.floor(rng.random(len(courses)) * room).astype(int)
    death = courses["DEATHDAT"].to_numpy(dtype="datetime64[D]")
    return courses.assign(DEATHDAT=np.where(died, eot + after_eot, death))


def make_adverse_events(
    rng: np.random.Generator, courses: pd.DataFrame, rfxend: np.ndarray, realism: Realism
) -> pd.DataFrame:
    """AE form lines: Poisson counts per patient from registration to 30 days after the last
    dose (to the end-of-treatment form when never dosed), never after death, and the fatal AE
    of most deaths; typed except the partial STARTDAT and STOPDAT text."""
    undosed = courses["UNDOSED"].to_numpy()
    registration_of = courses["REGDAT"].to_numpy(dtype="datetime64[D]")
    first_dose_of = courses["FIRST_DOSE"].to_numpy(dtype="datetime64[D]")
    death_of = courses["DEATHDAT"].to_numpy(dtype="datetime64[D]")
    eot_of = courses["EOTDAT"].to_numpy(dtype="datetime64[D]")
    observed_to = np.where(undosed, eot_of, rfxend + TEAE_WINDOW_DAYS)
    observed_to = np.where(np.isnat(death_of), observed_to, np.minimum(observed_to, death_of))

    # Ordinary events.
    counts = rng.poisson(np.where(undosed, AE_PER_UNDOSED_PATIENT, AE_PER_PATIENT))
    row = np.repeat(np.arange(len(courses)), counts)
    n = len(row)
    registration, first_dose, last_dose = registration_of[row], first_dose_of[row], rfxend[row]
    end = observed_to[row]
    dosed = ~undosed[row]
    period = rng.random(n)
    pre_dose = dosed & (period < PRE_DOSE_AE_SHARE)
    follow_up = dosed & ~pre_dose & (period < PRE_DOSE_AE_SHARE + FOLLOW_UP_AE_SHARE) & (end > last_dose)
    position = rng.random(n)
    on_treatment = first_dose + np.minimum(rng.exponential(25, n).astype(int), _days(last_dose, first_dose))
    onset = np.where(
        pre_dose, registration + np.floor(position * _days(first_dose, registration)).astype(int), on_treatment
    )
    onset = np.where(follow_up, last_dose + 1 + np.floor(position * _days(end, last_dose)).astype(int), onset)
    onset = np.where(dosed, onset, registration + np.floor(position * (_days(end, registration) + 1)).astype(int))

    catalogue = AE_CATALOGUE if realism.wide_text else AE_CATALOGUE[~AE_CATALOGUE["WIDE"]]
    terms = catalogue.iloc[rng.choice(len(catalogue), size=n, p=catalogue["WEIGHT"] / catalogue["WEIGHT"].sum())]
    grade = rng.choice(np.arange(1, 5), size=n, p=[0.31, 0.36, 0.27, 0.06])
    outcome = _pick(
        rng, np.array(["RECOVERED", "RECOVERING", "NOT RECOVERED", "SEQUELAE", "UNKNOWN"], dtype=object),
        np.array([80, 6, 8, 3, 3]), n,
    )  # fmt: skip
    # A stop after the end of observation is not collected: the event is ongoing then.
    stop = onset + rng.integers(0, 30, n)
    unresolved = np.isin(outcome, ["RECOVERING", "NOT RECOVERED", "UNKNOWN"])
    outcome = np.where(~unresolved & (stop > end), "NOT RECOVERED", outcome)
    stop = np.where(np.isin(outcome, ["RECOVERING", "NOT RECOVERED", "UNKNOWN"]), NOT_A_DATE, stop)
    # A drug can only be related to an event after its first dose, and an action taken with
    # isatuximab needs the event while isatuximab is given (its first infusion may come a day
    # after pomalidomide and dexamethasone started).
    exposed = dosed & ~pre_dose
    isatuximab_from = first_dose + courses["POM_DEX_FIRST"].to_numpy()[row].astype(int)
    isatuximab_exposed = exposed & (onset >= isatuximab_from)
    on_isatuximab = isatuximab_exposed & (onset <= courses["ISATUXIMAB_LAST"].to_numpy(dtype="datetime64[D]")[row])
    related = isatuximab_exposed & (rng.random(n) < 0.35)
    ordinary = pd.DataFrame(
        {
            "ROW": row,
            "ONSET": onset,
            "AETEXT": terms["AETEXT"].to_numpy(dtype=object),
            "PT": terms["PT"].to_numpy(dtype=object),
            "STOP": stop,
            "GRADE": grade,
            "SERIOUS": rng.random(n) < np.where(grade >= 3, 0.5, 0.08),
            "RELISA": related,
            "RELPOM": exposed & (rng.random(n) < 0.2),
            "RELDEX": exposed & (rng.random(n) < 0.08),
            "ACNISA": np.where(
                on_isatuximab & ~follow_up,
                _pick(
                    rng,
                    np.array(["NONE", "INTERRUPTED", "WITHDRAWN", "NA", "UNKNOWN"], dtype=object),
                    np.array([75, 12, 5, 6, 2]),
                    n,
                ),
                "NA",
            ),
            "OUTCOME": outcome,
            "AESI": related & (rng.random(n) < 0.3),
        }
    )

    # The fatal AE of most deaths: onset within the last weeks, stop on the day of death.
    died = np.flatnonzero(~np.isnat(death_of) & (rng.random(len(courses)) < FATAL_AE_SHARE))
    death = death_of[died]
    earliest = np.where(undosed[died], registration_of[died], first_dose_of[died])
    fatal_onset = np.maximum(death - rng.exponential(10, len(died)).astype(int), earliest)
    fatal_terms = FATAL_CATALOGUE.iloc[
        rng.choice(len(FATAL_CATALOGUE), size=len(died), p=FATAL_CATALOGUE["WEIGHT"] / FATAL_CATALOGUE["WEIGHT"].sum())
    ]
    fatal = pd.DataFrame(
        {
            "ROW": died,
            "ONSET": fatal_onset,
            "AETEXT": fatal_terms["AETEXT"].to_numpy(dtype=object),
            "PT": fatal_terms["PT"].to_numpy(dtype=object),
            "STOP": death,
            "GRADE": 5,
            "SERIOUS": True,
            "RELISA": False,
            "RELPOM": False,
            "RELDEX": False,
            "ACNISA": "NA",
            "OUTCOME": "FATAL",
            "AESI": False,
        }
    )
    events = pd.concat([ordinary, fatal], ignore_index=True)
    n = len(events)
    is_fatal = (events["OUTCOME"] == "FATAL").to_numpy()
    grade = events["GRADE"].to_numpy()
    # Partial dates where the contract allows them (never for the fatal AE: the day of death is known).
    start_precision, stop_precision = rng.random(n), rng.random(n)
    start_known = is_fatal | (start_precision >= 0.05)
    stop_known = is_fatal | (stop_precision >= 0.03)
    events = events.assign(
        PATNO=courses["PATNO"].to_numpy(dtype=object)[events["ROW"].to_numpy()],
        SOC=events["PT"].map(SOC).to_numpy(dtype=object),
        STARTDAT=format_partial_dates(
            events["ONSET"], unknown_day=~start_known, unknown_month=~start_known & (start_precision < 0.01)
        ),
        STOPDAT=format_partial_dates(
            events["STOP"], unknown_day=~stop_known, unknown_month=~stop_known & (stop_precision < 0.006)
        ),
        ONGOING=events["STOP"].isna().to_numpy(),
    )
    criteria = seriousness_criteria(
        serious=events["SERIOUS"].to_numpy(dtype=bool),
        fatal=is_fatal,
        life_threatening=(grade == 4) & (rng.random(n) < 0.6),
        hospitalised=~is_fatal & (rng.random(n) < 0.75),
        disabling=events["PT"].isin(["Hip fracture", "Peripheral sensory neuropathy"]).to_numpy()
        & (rng.random(n) < 0.3),
    )
    events = events.assign(**criteria)
    # AE numbers run per patient in order of onset, as on the AE form.
    events = events.sort_values(["ROW", "ONSET"], kind="stable", ignore_index=True)
    events["AENO"] = events.groupby("ROW").cumcount() + 1
    return events


# ---------------------------------------------------------------- layout


def _last_edit(rng: np.random.Generator, dates: np.ndarray) -> np.ndarray:
    """`DD.MM.YYYY HH:MM` of the last edit of the form: within two weeks of the record's date."""
    n = len(dates)
    entered = np.asarray(dates, dtype="datetime64[D]") + rng.integers(0, 15, n)
    return format_dates(entered) + " " + CLOCK[rng.integers(7 * 60, 20 * 60, n)]


def _site_names(centre: pd.Series) -> np.ndarray:
    number = centre.astype(int).to_numpy() - 1
    return SITE_KINDS[(number // len(CITIES)) % len(SITE_KINDS)] + " " + CITIES[number % len(CITIES)]


def _file_variants(rng: np.random.Generator, realism: Realism) -> dict[str, tuple[bool, bool]]:
    """(byte-order mark, CRLF) per file; "mixed" for both gives every combination to one file."""
    if realism.bom == "mixed" and realism.line_ends == "mixed":
        combinations = [(True, True), (True, False), (False, True), (False, False)]
        chosen = [combinations[i] for i in rng.permutation(len(combinations))]
        return dict(zip(FILES, chosen, strict=True))
    half = np.array([True, True, False, False])
    bom = rng.permutation(half) if realism.bom == "mixed" else np.full(4, realism.bom == "all")
    crlf = rng.permutation(half) if realism.line_ends == "mixed" else np.full(4, realism.line_ends == "crlf")
    return {name: (bool(b), bool(c)) for name, b, c in zip(FILES, bom, crlf, strict=True)}


def _ordered(
    rng: np.random.Generator, frame: pd.DataFrame, contract: tuple[str, ...], realism: Realism
) -> pd.DataFrame:
    """The contract's columns and the extra ones, in the contract's order or shuffled."""
    extras = [column for column in frame.columns if column not in contract]
    columns = [*contract, *extras]
    if realism.column_order == "shuffled":
        columns = [columns[i] for i in rng.permutation(len(columns))]
    return frame[columns]


def write_benchmark_export(
    out: Path, n_patients: int, seed: int, n_centres: int | None = None, realism: Realism | None = None
) -> None:
    realism = realism if realism is not None else Realism()
    data_seed, layout_seed, extra_seed = np.random.SeedSequence(seed).spawn(3)
    rng, layout, extra = (np.random.default_rng(s) for s in (data_seed, layout_seed, extra_seed))
    centres = n_centres if n_centres is not None else int(np.clip(n_patients // 10, 1, 99))
    patients = make_patients(rng, n_patients, centres, realism)
    courses = make_courses(rng, patients, realism)
    administrations = make_administrations(rng, courses)
    ends = administrations["ENDDAT"].fillna(administrations["STARTDAT"])
    rfxend = ends.groupby(administrations["ROW"]).max().reindex(range(len(courses))).to_numpy(dtype="datetime64[D]")
    courses = add_follow_up_deaths(rng, courses, rfxend)
    events = make_adverse_events(rng, courses, rfxend, realism)

    ae_columns = ADVERSE_EVENT_COLUMNS
    if realism.format_version == "1":
        ae_columns = tuple(column for column in ADVERSE_EVENT_COLUMNS if column not in SERIOUSNESS_COLUMNS)
    texts = {
        "patients.csv": to_export_text(patients, PATIENT_COLUMNS),
        "administrations.csv": format_administrations(administrations),
        "adverse_events.csv": to_export_text(events, ae_columns),
        "end_of_treatment.csv": to_export_text(courses, END_OF_TREATMENT_COLUMNS),
    }
    if realism.extra_columns:
        is_isatuximab = (administrations["DRUG"] == "ISATUXIMAB").to_numpy()
        texts["patients.csv"] = texts["patients.csv"].assign(
            SITENAME=_site_names(patients["CENTRE"]),
            FORMSTAT=_pick(extra, FORM_STATUS, FORM_STATUS_WEIGHTS, len(patients)),
            LASTEDIT=_last_edit(extra, patients["REGDAT"].to_numpy()),
        )
        texts["administrations.csv"] = texts["administrations.csv"].assign(
            CHARGE=np.where(is_isatuximab, BATCHES[extra.integers(0, len(BATCHES), len(administrations))], ""),
            LASTEDIT=_last_edit(extra, administrations["STARTDAT"].to_numpy()),
        )
        texts["adverse_events.csv"] = texts["adverse_events.csv"].assign(
            KOMMENTAR=_pick(extra, AE_COMMENTS, AE_COMMENT_WEIGHTS, len(events)),
            MEDDRAV=MEDDRA_VERSION,
            LASTEDIT=_last_edit(extra, events["ONSET"].to_numpy()),
        )
        texts["end_of_treatment.csv"] = texts["end_of_treatment.csv"].assign(
            KOMMENTAR=np.where(
                courses["UNDOSED"] & ~courses["DISCONT"],
                UNDOSED_AT_END_COMMENT,
                courses["REASON"].map(EOT_COMMENTS).to_numpy(dtype=object),
            ),
            LASTEDIT=_last_edit(extra, courses["EOTDAT"].to_numpy()),
        )
    contracts = {
        "patients.csv": PATIENT_COLUMNS,
        "administrations.csv": ADMINISTRATION_COLUMNS,
        "adverse_events.csv": ae_columns,
        "end_of_treatment.csv": END_OF_TREATMENT_COLUMNS,
    }
    variants = _file_variants(layout, realism)
    out.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        bom, crlf = variants[name]
        write_export_csv(_ordered(layout, texts[name], contracts[name], realism), out / name, bom=bom, crlf=crlf)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, required=True, help="number of patients")
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--seed", type=int, default=1, help="random seed (same seed and options, same bytes)")
    parser.add_argument("--centres", type=int, default=None, help="number of centres (default N/10, 1..99)")
    parser.add_argument(
        "--plain",
        action="store_true",
        help="the friendly export of earlier benchmarks: contract column order, no extra columns, no BOM, LF, "
        "every patient dosed with all three drugs starting on one day (the options below still apply)",
    )
    parser.add_argument("--column-order", choices=["shuffled", "contract"], help="default: shuffled per file")
    parser.add_argument(
        "--extra-columns",
        action=argparse.BooleanOptionalAction,
        help="EDC columns the contract does not know (default on)",
    )
    parser.add_argument("--bom", choices=["mixed", "all", "none"], help="byte-order mark (default: on some files)")
    parser.add_argument("--line-ends", choices=["mixed", "crlf", "lf"], help="line ends (default: CRLF on some files)")
    parser.add_argument("--format-version", choices=["1.1", "1"], help="1: no seriousness criteria (default 1.1)")
    parser.add_argument(
        "--undosed-share", type=float, help=f"share of patients never dosed (default {UNDOSED_SHARE:.4f})"
    )
    parser.add_argument(
        "--pom-dex-first-share",
        type=float,
        help=f"share of dosed patients starting pomalidomide/dexamethasone a day before isatuximab "
        f"(default {POM_DEX_FIRST_SHARE})",
    )
    parser.add_argument(
        "--wide-text",
        action=argparse.BooleanOptionalAction,
        help="free text also with characters that have no ASCII form (λ, κ, ≥, ↓); default off",
    )
    arguments = parser.parse_args()
    if arguments.centres is not None and not 1 <= arguments.centres <= 99:
        parser.error("--centres must be between 1 and 99 (the centre number has two digits)")
    for share in ("undosed_share", "pom_dex_first_share"):
        value = getattr(arguments, share)
        if value is not None and not 0 <= value <= 1:
            parser.error(f"--{share.replace('_', '-')} must be between 0 and 1")
    realism = PLAIN if arguments.plain else Realism()
    chosen = {field.name: getattr(arguments, field.name) for field in dataclasses.fields(Realism)}
    realism = dataclasses.replace(realism, **{name: value for name, value in chosen.items() if value is not None})
    write_benchmark_export(arguments.out, arguments.patients, arguments.seed, arguments.centres, realism)


if __name__ == "__main__":
    main()
