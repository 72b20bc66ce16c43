"""Write a raw CUP eCRF export (format v1.1) that the project's own generator never made.

Why a second writer: every test and benchmark so far fed cdisc-cup exports from
``benchmarks/generate.py``, written by the same people who wrote the readers, so a shared
misreading of the contract would pass unnoticed. This writer was written only from the export
contract (``../shared/cup-export/FORMAT.md``, v1.1) and the published paper
(``../shared/paper/``: Leitner et al. 2024, 18 patients, isatuximab + pomalidomide +
dexamethasone), without looking at the project's generator, fixtures or readers.

It makes what a real German EDC export contains and the contract permits: ``;`` separated,
``"`` quoted UTF-8 with decimal commas and ``DD.MM.YYYY`` dates; a byte-order mark and CRLF
line ends on some files, LF on others; columns in an order other than the contract's, with
extra EDC columns (form status, last change, comments); German free text with umlauts, ``ß``,
``µ``, typographic quotes, separators, quotes and line breaks inside quoted fields; partial
dates (``UN.MM.YYYY``, ``UN.UN.YYYY``) where the contract allows them; the v1.1 seriousness
criteria; patients never dosed, deaths on and after treatment, AEs before the first dose and up
to exactly 30 days after the last one, missing optional values, four-digit running patient
numbers, centres 01 and 99, and rows in entry order rather than key order.

Everything is clinically consistent (no dose or AE after death, no drug-related AE before the
first dose, fatal AEs are grade 5 and serious with "results in death", ...), so a correct
converter must accept the export without an Error finding. The same seed gives the same bytes.

Run: ``python benchmarks/independent_export.py --patients 400 --out /tmp/export --seed 7``.
``--no-long-verbatim`` leaves out the one AE verbatim over 200 characters (allowed by the
contract; cdisc-cup splits it into SUPPAE as SDTMIG 3.4 section 4.5.3.2 says).
Everything is vectorised with numpy/pandas: 100,000 patients take seconds, not minutes.
"""

from __future__ import annotations

import argparse
import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

ENROLMENT_START = "2020-07-01"
CUP_END = "2021-01-31"  # regular end of the CUP (FORMAT.md, "Conventions")
FIGURE_CUTOFF = "2021-03-01"  # data cut-off; no death is recorded after it
CYCLE_DAYS = 28
AE_WINDOW_DAYS = 30  # AEs are collected up to 30 days after the last dose
MAX_CYCLES = 10  # more than fit between July 2020 and January 2021
NO_DATE = np.iinfo(np.int64).min // 4  # "no such date", far below any real day number


def _day(iso: str) -> int:
    """Day number (days since 1970-01-01) of an ISO date: the writer computes in day numbers."""
    return int(np.datetime64(iso, "D").astype(np.int64))


@dataclass(frozen=True)
class _DateText:
    """Lookup tables from day number to the export's date texts (strftime per row is slow)."""

    first_day: int
    complete: np.ndarray  # DD.MM.YYYY
    month_year: np.ndarray  # UN.MM.YYYY
    year_only: np.ndarray  # UN.UN.YYYY

    @classmethod
    def build(cls, first: str = "1975-01-01", last: str = "2022-12-31") -> _DateText:
        days = pd.date_range(first, last, freq="D")
        return cls(
            first_day=_day(first),
            complete=np.asarray(days.strftime("%d.%m.%Y"), dtype=object),
            month_year=np.asarray("UN." + days.strftime("%m.%Y"), dtype=object),
            year_only=np.asarray("UN.UN." + days.strftime("%Y"), dtype=object),
        )

    def text(self, days: np.ndarray, form: np.ndarray | None = None) -> np.ndarray:
        """Date texts of ``days``; ``form`` 0 = complete, 1 = day unknown, 2 = day and month
        unknown; a day of ``NO_DATE`` gives an empty field (missing)."""
        days = np.asarray(days, dtype=np.int64)
        known = days > NO_DATE // 2
        index = np.where(known, days - self.first_day, 0)
        form = np.zeros(len(days), dtype=np.int8) if form is None else form
        out = np.where(
            form == 2,
            self.year_only[index],
            np.where(form == 1, self.month_year[index], self.complete[index]),
        )
        return np.where(known, out, "").astype(object)


# MedDRA PT -> SOC, with the paper's Table 2 counts (patients with the event, grade >= 3,
# serious, related to isatuximab) that set each term's frequency and character.
_TABLE2 = [
    ("Anaemia", "Blood and lymphatic system disorders", 1, 1, 1, 0),
    ("Febrile neutropenia", "Blood and lymphatic system disorders", 1, 1, 0, 1),
    ("Neutropenia", "Blood and lymphatic system disorders", 1, 0, 0, 0),
    ("Angina pectoris", "Cardiac disorders", 1, 0, 1, 1),
    ("Ascites", "Gastrointestinal disorders", 1, 0, 0, 0),
    ("Disease progression", "General disorders and administration site conditions", 1, 1, 1, 0),
    ("Localised oedema", "General disorders and administration site conditions", 2, 0, 0, 0),
    ("Pain", "General disorders and administration site conditions", 1, 1, 1, 0),
    ("Bronchitis", "Infections and infestations", 1, 1, 0, 0),
    ("Urinary tract infection", "Infections and infestations", 2, 1, 1, 1),
    ("Fall", "Injury, poisoning and procedural complications", 1, 1, 1, 0),
    ("Hip fracture", "Injury, poisoning and procedural complications", 1, 1, 1, 0),
    ("Infusion related reaction", "Injury, poisoning and procedural complications", 1, 0, 0, 1),
    ("Neutrophil count decreased", "Investigations", 1, 1, 0, 1),
    ("Platelet count decreased", "Investigations", 1, 1, 1, 1),
    ("Cachexia", "Metabolism and nutrition disorders", 1, 1, 1, 0),
    ("Hypokalaemia", "Metabolism and nutrition disorders", 1, 1, 0, 0),
    ("Back pain", "Musculoskeletal and connective tissue disorders", 1, 0, 0, 0),
    ("Bone pain", "Musculoskeletal and connective tissue disorders", 1, 1, 1, 0),
    (
        "Plasma cell myeloma",
        "Neoplasms benign, malignant and unspecified (incl cysts and polyps)",
        2,
        2,
        1,
        0,
    ),
    ("Dizziness", "Nervous system disorders", 1, 0, 0, 0),
    ("Dyspnoea", "Respiratory, thoracic and mediastinal disorders", 1, 0, 0, 1),
    ("Laryngeal obstruction", "Respiratory, thoracic and mediastinal disorders", 1, 0, 0, 1),
    ("Pruritus", "Skin and subcutaneous tissue disorders", 1, 0, 0, 1),
    ("Hypertension", "Vascular disorders", 1, 1, 0, 1),
]
_PT = np.array([row[0] for row in _TABLE2], dtype=object)
_SOC = np.array([row[1] for row in _TABLE2], dtype=object)
_PT_COUNT = np.array([row[2] for row in _TABLE2], dtype=float)
# Smoothed shares, so that a term seen once is neither always nor never severe at scale.
_P_GE3 = (np.array([row[3] for row in _TABLE2]) + 0.2) / (_PT_COUNT + 0.4)
_P_SERIOUS = (np.array([row[4] for row in _TABLE2]) + 0.15) / (_PT_COUNT + 0.3)
_P_REL_ISA = (np.array([row[5] for row in _TABLE2]) + 0.1) / (_PT_COUNT + 0.2)
_PT_INDEX = {pt: i for i, pt in enumerate(_PT)}
_AESI_TERMS = [
    "Angina pectoris",
    "Infusion related reaction",
    "Dyspnoea",
    "Laryngeal obstruction",
    "Hypertension",
]
# Terms that led to isatuximab withdrawal in the paper, with the grade reported there.
_WITHDRAWAL_TERMS = {
    "Febrile neutropenia": 3,
    "Angina pectoris": 2,
    "Urinary tract infection": 3,
    "Infusion related reaction": 2,
    "Dyspnoea": 1,
    "Laryngeal obstruction": 2,
    "Hypertension": 3,
}
# Verbatim terms as German investigators write them.
_VERBATIM = {
    "Anaemia": ["Anämie", "Anämie Grad 3", "Hb-Abfall auf 7,9 g/dl", "anemia"],
    "Febrile neutropenia": ["Febrile Neutropenie", "Fieber bei Neutropenie", "neutropenes Fieber"],
    "Neutropenia": ["Neutropenie", "Neutropenie (ANC 0,8 G/l)"],
    "Angina pectoris": ["Angina pectoris", "AP-Beschwerden", "Brustenge / Druckgefühl"],
    "Ascites": ["Aszites", "Bauchwasser"],
    "Disease progression": ["Progress", "Krankheitsprogression", "PD"],
    "Localised oedema": ["Ödem re. Unterschenkel", "Beinödeme bds.", "lokalisiertes Ödem"],
    "Pain": ["Schmerzen", "Schmerzen, generalisiert", "Schmerzexazerbation"],
    "Bronchitis": ["Bronchitis", "akute Bronchitis"],
    "Urinary tract infection": ["Harnwegsinfekt", "HWI", "Harnwegsinfektion (E. coli)"],
    "Fall": ["Sturz", "Sturz häuslich", "Sturz auf Glatteis (Straße)"],
    "Hip fracture": ["Hüftfraktur", "Schenkelhalsfraktur li.", "pertrochantäre Femurfraktur"],
    "Infusion related reaction": [
        "Infusionsreaktion",
        "IRR",
        "Infusionsbedingte Reaktion (Schüttelfrost)",
    ],
    "Neutrophil count decreased": ["Neutrophile erniedrigt", "Neutrophile 0,4 x10³/µl"],
    "Platelet count decreased": ["Thrombozytopenie", "Thrombozyten 18 G/l", "Thrombopenie"],
    "Cachexia": ["Kachexie", "Gewichtsverlust/Kachexie"],
    "Hypokalaemia": ["Hypokaliämie", "Kalium 2,9 mmol/l"],
    "Back pain": ["Rückenschmerzen", "LWS-Schmerzen"],
    "Bone pain": ["Knochenschmerzen", "ossäre Schmerzen"],
    "Plasma cell myeloma": [
        "Progress des Multiplen Myeloms",
        "Plasmazellmyelom progredient",
        "MM-Progress",
    ],
    "Dizziness": ["Schwindel", "Schwindelgefühl"],
    "Dyspnoea": ["Dyspnoe", "Atemnot"],
    "Laryngeal obstruction": ["Larynxobstruktion", "Kehlkopfschwellung"],
    "Pruritus": ["Juckreiz", "Pruritus"],
    "Hypertension": ["Hypertonie", "RR-Entgleisung 190/100 mmHg", "Bluthochdruck"],
}
_LONG_REMARK = (
    " – Pat. berichtet über zunehmende Beschwerden seit ca. 2 Wochen, ambulant vorgestellt; "
    "Labor: CRP 48 mg/l, Leukozyten 2,1 G/l; Rücksprache mit Oberärztin Dr. Weiß, Therapie "
    "„nach Maßgabe“ fortgeführt, Kontrolle in 1 Woche geplant"
)
_MMTYPES = [
    ("IgG kappa", 0.34),
    ("IgG lambda", 0.17),
    ("IgA kappa", 0.12),
    ("IgA lambda", 0.08),
    ("Leichtketten kappa", 0.10),
    ("Leichtketten lambda", 0.08),
    ("IgG κ", 0.02),
    ("IgD lambda", 0.01),
    ("asekretorisch", 0.01),
    ("IgM kappa", 0.005),
    ('IgA "lambda" – extramedullär', 0.005),
    ("Bence-Jones-Myelom; λ", 0.005),
    ("IgG kappa\nsekundäre Plasmazellleukämie", 0.005),
    ("", 0.02),
]
_FORM_STATUS = np.array(["Eingegeben", "Geprüft", "SDV erfolgt", "Gesperrt"], dtype=object)
_COMMENTS = np.array(
    [
        "Rücksprache mit Prüfärztin; Wert bestätigt",
        'laut Arztbrief "unauffällig"',
        "Befund s. Arztbrief\nvom Hausarzt",
        "Größe/Gewicht aus Vorbefund übernommen",
        "Daten nachgetragen – Originalquelle: Ambulanzakte",
    ],
    dtype=object,
)


def _choice(rng: np.random.Generator, values: list | np.ndarray, p: list, size: int) -> np.ndarray:
    """``size`` draws from ``values`` with probabilities ``p`` (normalised)."""
    p = np.asarray(p, dtype=float)
    return np.asarray(values, dtype=object)[rng.choice(len(p), size=size, p=p / p.sum())]


def _below(rng: np.random.Generator, width: np.ndarray) -> np.ndarray:
    """One integer in ``0 .. width-1`` per element (width >= 1), vectorised over widths."""
    return np.floor(rng.random(len(width)) * np.maximum(width, 1)).astype(np.int64)


def _yn(flag: np.ndarray) -> np.ndarray:
    return np.where(flag, "Y", "N").astype(object)


def _decimal(values: np.ndarray, decimals: np.ndarray) -> np.ndarray:
    """German decimal texts: ``decimals`` 0 writes ``80``, 1 writes ``75,5``, 2 ``72,35``."""
    scale = 10 ** decimals.astype(np.int64)
    scaled = np.round(values * scale).astype(np.int64)
    whole = pd.Series(scaled // scale).astype(str)
    fraction = pd.Series(scaled % scale).astype(str)
    padded = np.where(decimals == 2, fraction.str.zfill(2), fraction)
    return np.where(decimals == 0, whole, whole + "," + padded).astype(object)


def _group_max(groups: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    out = np.full(n, NO_DATE, dtype=np.int64)
    np.maximum.at(out, groups, values)
    return out


def _group_min(groups: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    out = np.full(n, -NO_DATE, dtype=np.int64)
    np.minimum.at(out, groups, values)
    return out


def _patients(rng: np.random.Generator, n: int) -> pd.DataFrame:
    """Registration and baseline of ``n`` patients, in registration (entry) order.

    Internal columns are day numbers and flags; ``_write`` turns them into export text.
    """
    enrol_start, cup_end = _day(ENROLMENT_START), _day(CUP_END)
    regdat = np.sort(enrol_start + rng.integers(0, cup_end - enrol_start + 1, n))
    n_centres = int(min(99, max(1, round(12 * np.sqrt(n / 18)))))
    centres = rng.choice(np.arange(2, 99), size=max(n_centres - 2, 0), replace=False)
    # The edges of the contract's 01..99 always appear.
    centres = np.concatenate([[1, 99], centres]) if n_centres >= 2 else np.array([1])
    centre = centres[rng.choice(len(centres), n, p=rng.dirichlet(np.full(len(centres), 0.8)))]
    running = pd.Series(centre).groupby(centre).cumcount().to_numpy() + 1
    patno = (pd.Series(centre).astype(str).str.zfill(2) + "-" + pd.Series(running).astype(str).str.zfill(3)).to_numpy(
        object
    )

    female = rng.random(n) < 10 / 18
    age = np.clip(np.round(rng.normal(67, 8.5, n)), 38, 91).astype(int)
    if n >= 20:
        age[n // 2] = 75  # the dexamethasone dose halves at 75 exactly
    reg_year = (regdat.astype("datetime64[D]").astype("datetime64[Y]").astype(int) + 1970).astype(int)
    birthyr = reg_year - age - (rng.random(n) < 0.5)  # birthday before or after registration
    weight = np.clip(np.where(female, rng.normal(68, 12, n), rng.normal(82, 13, n)), 38, 160)
    height = np.clip(np.where(female, rng.normal(164, 6.5, n), rng.normal(177, 7, n)), 140, 205)
    years_since_diag = np.clip(rng.lognormal(np.log(7), 0.55, n), 0.6, 30)
    diagdat = regdat - np.round(years_since_diag * 365.25).astype(np.int64)
    return pd.DataFrame(
        {
            "patient": np.arange(n),
            "CENTRE": pd.Series(centre).astype(str).str.zfill(2).to_numpy(object),
            "PATNO": patno,
            "regdat": regdat,
            "BIRTHYR": birthyr,
            "AGE": age,
            "SEX": np.where(female, "2", "1"),
            "weight": weight,
            "weight_decimals": _choice(rng, [0, 1, 2], [0.45, 0.5, 0.05], n).astype(int),
            "height": height,
            "height_decimals": _choice(rng, [0, 1], [0.8, 0.2], n).astype(int),
            "ECOG": _choice(rng, ["0", "1", "2", "3", "4", ""], [27, 53, 16, 2.5, 0.5, 1], n),
            "diagdat": diagdat,
            "diag_form": _choice(rng, [0, 1, 2], [0.7, 0.22, 0.08], n).astype(np.int8),
            "MMTYPE": _choice(rng, [m for m, _ in _MMTYPES], [p for _, p in _MMTYPES], n),
            "PRIORLIN": np.minimum(1 + rng.geometric(0.42, n), 15),
            "PRIPI": _yn(rng.random(n) < 0.997),
            "PRILEN": _yn(rng.random(n) < 0.995),
            "PRIPOM": _yn(rng.random(n) < 0.5),
            "PRICD38": _yn(rng.random(n) < 8 / 18),
            "CONMED": np.where(rng.random(n) < 0.01, "", _yn(rng.random(n) < 8 / 18)),
            "CONDIS": np.where(rng.random(n) < 0.01, "", _yn(rng.random(n) < 0.5)),
        }
    )


def _course(rng: np.random.Generator, patients: pd.DataFrame) -> pd.DataFrame:
    """When each patient started, stopped and why: the frame every later form derives from.

    ``admin_limit`` is the last day a dose may start (the day before death for deaths on
    treatment); ``eotdat`` is the end-of-treatment date of the EOT form.
    """
    n = len(patients)
    cup_end = _day(CUP_END)
    regdat = patients["regdat"].to_numpy()
    lag = _choice(rng, np.arange(15), [4, 6, 8, 8, 8, 7, 7, 7, 6, 5, 4, 3, 3, 2, 2], n).astype(int)
    first = regdat + lag
    chance_never = (rng.random(n) < 0.02) & (regdat + 22 < cup_end)
    dosed = (first <= cup_end) & ~chance_never

    reason = _choice(rng, ["PROGRESSION", "DEATH", "OTHER"], [0.5, 0.17, 0.33], n)
    never_reason = _choice(rng, ["OTHER", "DEATH", "PROGRESSION"], [0.7, 0.15, 0.15], n)
    days_on = np.ceil(rng.exponential(150, n)).astype(np.int64)
    days_on = np.where(reason == "OTHER", days_on - 1, np.maximum(days_on, 1))
    stop = first + days_on
    discont = np.where(dosed, stop < cup_end, chance_never)
    eotdat = np.where(
        dosed,
        np.where(discont, stop, cup_end),
        np.where(chance_never, regdat + 1 + _below(rng, np.full(n, 21)), cup_end),
    )
    reason = np.where(dosed, reason, never_reason)
    reason = np.where(discont, reason, "")
    died = reason == "DEATH"
    admin_limit = np.where(died, eotdat - 1, eotdat)
    return pd.DataFrame(
        {
            "patient": np.arange(n),
            "first": first,
            "lag": lag,
            "dosed": dosed,
            "discont": discont,
            "reason": reason,
            "eotdat": eotdat,
            "admin_limit": admin_limit,
            "deathdat": np.where(died, eotdat, NO_DATE),
        }
    )


def _administrations(rng: np.random.Generator, patients: pd.DataFrame, course: pd.DataFrame) -> pd.DataFrame:
    """One row per given dose, on the paper's schedule, with delays, shifts and missed doses.

    Cycle k starts 28 days after cycle k-1 plus a delay; visits on days 8/15/22 move by up
    to two days (``DAY`` is the actual day in the cycle). Nothing starts after ``admin_limit``.
    """
    n = len(patients)
    first = course["first"].to_numpy()
    delay = np.where(rng.random((n, MAX_CYCLES)) < 0.8, 0, rng.integers(1, 8, (n, MAX_CYCLES)))
    delay[:, 0] = 0
    cycle_start = first[:, None] + CYCLE_DAYS * np.arange(MAX_CYCLES) + np.cumsum(delay, axis=1)
    shift = _choice(rng, [-1, 0, 1, 2], [0.05, 0.8, 0.1, 0.05], n * MAX_CYCLES * 3)
    shift = shift.astype(int).reshape(n, MAX_CYCLES, 3)
    shift_of_day = {1: np.zeros((n, MAX_CYCLES), dtype=int)} | {
        day: shift[:, :, i] for i, day in enumerate((8, 15, 22))
    }
    schedule = [  # drug, planned day, only in cycle 1
        ("ISATUXIMAB", 1, False),
        ("ISATUXIMAB", 8, True),
        ("ISATUXIMAB", 15, False),
        ("ISATUXIMAB", 22, True),
        ("POMALIDOMIDE", 1, False),
        ("DEXAMETHASONE", 1, False),
        ("DEXAMETHASONE", 8, False),
        ("DEXAMETHASONE", 15, False),
        ("DEXAMETHASONE", 22, False),
    ]
    cycle = np.broadcast_to(np.arange(1, MAX_CYCLES + 1), (n, MAX_CYCLES))
    patient = np.broadcast_to(np.arange(n)[:, None], (n, MAX_CYCLES))
    parts = []
    for drug, planned, first_cycle_only in schedule:  # nine schedule slots, not records
        day = planned + shift_of_day[planned]
        parts.append(
            pd.DataFrame(
                {
                    "patient": patient.ravel(),
                    "DRUG": drug,
                    "CYCLE": cycle.ravel(),
                    "DAY": day.ravel(),
                    "start": (cycle_start + day - 1).ravel(),
                    "keep": (cycle.ravel() == 1) | (not first_cycle_only),
                }
            )
        )
    rows = pd.concat(parts, ignore_index=True)
    limit = course["admin_limit"].to_numpy()[rows["patient"]]
    keep = rows["keep"].to_numpy() & course["dosed"].to_numpy()[rows["patient"]]
    keep &= rows["start"].to_numpy() <= limit
    c1d1 = (rows["CYCLE"] == 1) & (rows["DAY"] == 1)
    is_isa = rows["DRUG"] == "ISATUXIMAB"
    is_pom = rows["DRUG"] == "POMALIDOMIDE"
    missed = rng.random(len(rows)) < np.where(c1d1, np.where(is_isa, 0.003, 0.0), 0.03)
    rows = rows[keep & ~missed].drop(columns="keep").reset_index(drop=True)

    m = len(rows)
    p = rows["patient"].to_numpy()
    is_isa = (rows["DRUG"] == "ISATUXIMAB").to_numpy()
    is_pom = (rows["DRUG"] == "POMALIDOMIDE").to_numpy()
    is_dex = ~is_isa & ~is_pom
    start = rows["start"].to_numpy()
    eotdat = course["eotdat"].to_numpy()[p]
    pom_days = np.where(rng.random(m) < 0.85, 20, rng.integers(6, 20, m))
    end = np.where(is_pom, np.minimum(start + pom_days, eotdat), NO_DATE)
    explicit_same_day = rng.random(m) < np.where(is_isa, 0.25, 0.1)
    end = np.where(~is_pom & explicit_same_day, start, end)

    age = patients["AGE"].to_numpy()[p]
    reduced_from = np.where(rng.random(n) < 0.15, rng.integers(2, 5, n), 99)[p]
    pom_reduced = np.where(rng.random(n) < 0.7, "3", "2")[p]
    pom_dose = np.where(rows["CYCLE"].to_numpy() >= reduced_from, pom_reduced, "4")
    dex_full = np.where(age >= 75, "20", "40")
    dex_dose = np.where(rng.random(m) < 0.05, np.where(age >= 75, "12", "20"), dex_full)
    isa_dose = np.where(rng.random(m) < 0.05, "10,0", "10")
    rows["DOSE"] = np.where(is_isa, isa_dose, np.where(is_pom, pom_dose, dex_dose))
    rows["UNIT"] = np.where(is_isa, "mg/kg", "mg")
    rows["ROUTE"] = np.where(is_isa | (is_dex & (rng.random(m) < 0.2)), "IV", "PO")
    rows["end"] = end
    rows["exposure_end"] = np.where(end > NO_DATE // 2, end, start)
    # Extra EDC columns: visit label, infusion duration in hours, batch number.
    rows["VISITE"] = ("Zyklus " + rows["CYCLE"].astype(str) + " – Tag " + rows["DAY"].astype(str)).to_numpy(object)
    infusion_hours = np.where((rows["CYCLE"] == 1) & (rows["DAY"] == 1), 3.3, 1.3)
    rows["INFDAUER_H"] = np.where(is_isa, _decimal(infusion_hours + rng.integers(0, 5, m) / 10, np.ones(m, int)), "")
    rows["CHARGE"] = np.where(is_isa, "ISA" + pd.Series(rng.integers(10000, 99999, m)).astype(str).to_numpy(object), "")
    return rows


def _deaths_after_treatment(rng: np.random.Generator, course: pd.DataFrame, last_exposure: np.ndarray) -> np.ndarray:
    """Death dates after the EOT form: some progressing patients and a few still on treatment
    at the regular end die within 30 days of their last dose and before the data cut-off."""
    n = len(course)
    eotdat = course["eotdat"].to_numpy()
    latest = np.minimum(last_exposure + AE_WINDOW_DAYS, _day(FIGURE_CUTOFF))
    width = latest - eotdat
    dosed = course["dosed"].to_numpy()
    share = np.where(course["reason"] == "PROGRESSION", 0.2, np.where(course["discont"], 0, 0.01))
    dies = dosed & (width >= 1) & (rng.random(n) < share)
    later = eotdat + 1 + _below(rng, width)
    return np.where(dies, later, course["deathdat"].to_numpy())


def _adverse_events(
    rng: np.random.Generator,
    patients: pd.DataFrame,
    course: pd.DataFrame,
    dates: _DateText,
    long_verbatim: bool,
) -> pd.DataFrame:
    """The AE form lines: ordinary AEs, one fatal AE per death, one withdrawal AE per
    discontinuation for "other" reasons, and a few AEs on the window's edges."""
    n = len(patients)
    regdat = patients["regdat"].to_numpy()
    first = course["first_dose"].to_numpy()
    dosed = course["dosed"].to_numpy()
    obs_end = course["obs_end"].to_numpy()

    count = np.where(
        dosed,
        np.where(rng.random(n) < 7 / 18, 0, 1 + rng.poisson(1.6, n)),
        np.where(rng.random(n) < 0.6, 0, 1 + rng.poisson(0.3, n)),
    )
    if n >= 50:
        count[np.flatnonzero(dosed)[0]] = 45  # one patient with a long AE form
    p = np.repeat(np.arange(n), count)
    m = len(p)
    pre_width = first[p] - regdat[p]
    kind = _choice(rng, ["pre", "early", "cycle1", "later"], [0.06, 0.3, 0.3, 0.34], m)
    kind = np.where(dosed[p], np.where((kind == "pre") & (pre_width < 1), "early", kind), "pre")
    onset = np.select(
        [kind == "pre", kind == "early", kind == "cycle1"],
        [
            regdat[p] + _below(rng, np.where(dosed[p], pre_width, obs_end[p] - regdat[p] + 1)),
            first[p] + _below(rng, np.full(m, 5)),
            first[p] + _below(rng, np.full(m, CYCLE_DAYS)),
        ],
        first[p] + _below(rng, obs_end[p] - first[p] + 1),
    )
    onset = np.minimum(onset, obs_end[p])
    weights_on = _PT_COUNT.copy()
    weights_pre = np.where(_PT == "Infusion related reaction", 0, _PT_COUNT)
    pt_on = rng.choice(len(_PT), m, p=weights_on / weights_on.sum())
    pt_pre = rng.choice(len(_PT), m, p=weights_pre / weights_pre.sum())
    on_treatment = dosed[p] & (onset >= first[p])
    pt = np.where(on_treatment, pt_on, pt_pre)
    irr = pt == _PT_INDEX["Infusion related reaction"]
    first_isa = course["first_isa"].to_numpy()[p]
    # An infusion reaction starts on an infusion day; without any infusion it is pain.
    onset = np.where(irr & (first_isa > NO_DATE // 2), first_isa, onset)
    pt = np.where(irr & (first_isa < NO_DATE // 2), _PT_INDEX["Pain"], pt)
    ordinary = pd.DataFrame({"patient": p, "onset": onset, "pt": pt, "role": "ordinary"})

    died = course["deathdat"].to_numpy() > NO_DATE // 2
    dead = np.flatnonzero(died)
    fatal_terms = [
        "Disease progression",
        "Plasma cell myeloma",
        "Febrile neutropenia",
        "Cachexia",
        "Urinary tract infection",
    ]
    fatal_pt = _choice(rng, [_PT_INDEX[t] for t in fatal_terms], [45, 43, 5, 4, 3], len(dead))
    deathdat = course["deathdat"].to_numpy()
    fatal = pd.DataFrame(
        {
            "patient": dead,
            "onset": np.maximum(
                deathdat[dead] - _below(rng, np.full(len(dead), 21)),
                np.where(dosed, first, regdat)[dead],  # no fatal AE before a dose given later
            ),
            "pt": fatal_pt.astype(int),
            "role": "fatal",
        }
    )

    last_isa = course["last_isa"].to_numpy()
    withdrawn = np.flatnonzero(
        dosed & (course["reason"] == "OTHER") & (last_isa > NO_DATE // 2) & (rng.random(n) < 0.8)
    )
    terms = list(_WITHDRAWAL_TERMS)
    withdrawal_pt = np.array([_PT_INDEX[t] for t in terms])[rng.integers(0, len(terms), len(withdrawn))]
    gap = np.minimum(course["eotdat"].to_numpy(), obs_end)[withdrawn] - last_isa[withdrawn]
    w_onset = last_isa[withdrawn] + np.where(
        withdrawal_pt == _PT_INDEX["Infusion related reaction"], 0, _below(rng, gap + 1)
    )
    withdrawal = pd.DataFrame({"patient": withdrawn, "onset": w_onset, "pt": withdrawal_pt, "role": "withdrawal"})

    edges = _edge_events(course, patients)
    events = pd.concat([ordinary, fatal, withdrawal, edges], ignore_index=True)
    return _describe_events(rng, events, patients, course, dates, long_verbatim)


def _edge_events(course: pd.DataFrame, patients: pd.DataFrame) -> pd.DataFrame:
    """AEs on the edges of the collection window of one suitable patient: on the registration
    day, the day before and the day of the first dose, a partial date in the first dose's
    month that is really before it, and exactly 30 days after the last dose."""
    first = course["first_dose"].to_numpy()
    regdat = patients["regdat"].to_numpy()
    day_of_month = (
        first - first.astype("datetime64[D]").astype("datetime64[M]").astype("datetime64[D]").astype(np.int64) + 1
    )
    suitable = np.flatnonzero(
        course["dosed"].to_numpy()
        & (course["deathdat"].to_numpy() < NO_DATE // 2)
        & (first - regdat >= 2)
        & (day_of_month >= 3)
    )
    if len(suitable) == 0:
        return pd.DataFrame({"patient": [], "onset": [], "pt": [], "role": []})
    who = int(suitable[0])
    onsets = [regdat[who], first[who] - 1, first[who], first[who] - 1, course["obs_end"][who]]
    roles = ["ordinary", "ordinary", "ordinary", "partial_pre", "ordinary"]
    pts = ["Back pain", "Bone pain", "Dizziness", "Pain", "Pruritus"]
    return pd.DataFrame({"patient": who, "onset": onsets, "pt": [_PT_INDEX[t] for t in pts], "role": roles})


def _describe_events(
    rng: np.random.Generator,
    events: pd.DataFrame,
    patients: pd.DataFrame,
    course: pd.DataFrame,
    dates: _DateText,
    long_verbatim: bool,
) -> pd.DataFrame:
    """Grade, seriousness, causality, action, outcome, stop date and text of every AE."""
    m = len(events)
    p = events["patient"].to_numpy().astype(np.int64)
    onset = events["onset"].to_numpy().astype(np.int64)
    pt = events["pt"].to_numpy().astype(np.int64)
    role = events["role"].to_numpy()
    is_fatal = role == "fatal"
    is_withdrawal = role == "withdrawal"
    first = course["first_dose"].to_numpy()[p]
    dosed = course["dosed"].to_numpy()[p]
    obs_end = course["obs_end"].to_numpy()[p]
    deathdat = course["deathdat"].to_numpy()[p]
    last_isa = course["last_isa"].to_numpy()[p]
    on_treatment = dosed & (onset >= first)

    severe = rng.random(m) < _P_GE3[pt]
    grade = np.where(severe, np.where(rng.random(m) < 0.3, 4, 3), np.where(rng.random(m) < 0.5, 1, 2))
    withdrawal_grade = np.array([_WITHDRAWAL_TERMS.get(t, 2) for t in _PT])[pt]
    grade = np.where(is_fatal, 5, np.where(is_withdrawal, withdrawal_grade, grade))
    serious = (rng.random(m) < _P_SERIOUS[pt]) | (grade == 4) & (rng.random(m) < 0.5) | is_fatal

    rel_isa = on_treatment & ~is_fatal & ((rng.random(m) < _P_REL_ISA[pt]) | is_withdrawal)
    rel_pom = on_treatment & ~is_fatal & (rng.random(m) < 0.12)
    rel_dex = on_treatment & ~is_fatal & (rng.random(m) < 0.06)
    aesi_term = np.isin(_PT[pt], _AESI_TERMS)
    aesi = (aesi_term & rel_isa & (rng.random(m) < 0.9)) | (rng.random(m) < 0.003)

    during_isa = on_treatment & (onset <= last_isa)
    action = _choice(rng, ["NONE", "INTERRUPTED", "UNKNOWN"], [0.8, 0.16, 0.04], m)
    action = np.where(during_isa, action, "NA")
    # Withdrawn only when no infusion followed the onset (a fatal AE within 4 weeks of one).
    after_last_infusion = on_treatment & (onset >= last_isa) & (onset <= last_isa + 28)
    action = np.where(is_withdrawal | (is_fatal & after_last_infusion), "WITHDRAWN", action)

    duration = np.floor(rng.lognormal(np.log(9), 1.0, m)).astype(np.int64)
    stop = np.where(is_fatal, deathdat, onset + duration)
    ongoing = ~is_fatal & (stop > obs_end)
    stop = np.where(ongoing, NO_DATE, stop)
    outcome = np.where(
        ongoing,
        _choice(rng, ["NOT RECOVERED", "RECOVERING", "UNKNOWN"], [0.5, 0.4, 0.1], m),
        np.where(rng.random(m) < np.where(_PT[pt] == "Hip fracture", 0.5, 0.07), "SEQUELAE", "RECOVERED"),
    )
    outcome = np.where(is_fatal, "FATAL", outcome)

    start_form = _choice(rng, [0, 1, 2], [0.94, 0.05, 0.01], m).astype(np.int8)
    start_form = np.where(is_fatal | is_withdrawal, 0, start_form)
    start_form = np.where(role == "partial_pre", 1, start_form).astype(np.int8)
    stop_form = _choice(rng, [0, 1, 2], [0.93, 0.06, 0.01], m).astype(np.int8)
    stop_form = np.where(is_fatal, 0, stop_form).astype(np.int8)

    # Seriousness criteria (v1.1): Y/N when serious, at least one Y; empty otherwise.
    criteria = {
        "SDTH": is_fatal,
        "SLIFE": rng.random(m) < np.where(is_fatal, 0.3, np.where(grade == 4, 0.5, 0.05)),
        "SHOSP": rng.random(m) < 0.8,
        "SDISAB": rng.random(m) < np.where(_PT[pt] == "Hip fracture", 0.3, 0.02),
        "SCONG": np.zeros(m, dtype=bool),
    }
    criteria["SMIE"] = (rng.random(m) < 0.2) | ~np.logical_or.reduce(list(criteria.values()))
    verbatim = _verbatim(rng, pt)
    if m and long_verbatim:
        verbatim[np.argmin(onset)] += _LONG_REMARK  # one verbatim over 200 characters

    frame = pd.DataFrame(
        {
            "patient": p,
            "onset": onset,
            "AETEXT": verbatim,
            "PT": _PT[pt],
            "SOC": _SOC[pt],
            "STARTDAT": dates.text(onset, start_form),
            "STOPDAT": dates.text(stop, stop_form),
            "ONGOING": _yn(ongoing),
            "GRADE": grade.astype(str),
            "SERIOUS": _yn(serious),
            "RELISA": _yn(rel_isa),
            "RELPOM": _yn(rel_pom),
            "RELDEX": _yn(rel_dex),
            "ACNISA": action,
            "OUTCOME": outcome,
            "AESI": _yn(aesi),
        }
        | {name: np.where(serious, _yn(flag), "") for name, flag in criteria.items()}
    )
    frame["FORMSTATUS"] = _FORM_STATUS[rng.integers(0, len(_FORM_STATUS), m)]
    frame["BEMERKUNG"] = np.where(rng.random(m) < 0.03, _COMMENTS[rng.integers(0, len(_COMMENTS), m)], "")
    # AE numbers in onset order per patient; some forms have gaps from deleted lines.
    frame = frame.sort_values(["patient", "onset"], kind="stable").reset_index(drop=True)
    gappy = (rng.random(len(patients)) < 0.03)[frame["patient"]]
    step = np.where(gappy & (rng.random(m) < 0.3), rng.integers(2, 4, m), 1)
    frame["AENO"] = pd.Series(step).groupby(frame["patient"].to_numpy()).cumsum().astype(str).to_numpy()
    return frame


def _verbatim(rng: np.random.Generator, pt: np.ndarray) -> np.ndarray:
    """Investigator's verbatim per AE, sometimes with quotes, separators or a line break."""
    m = len(pt)
    pick = rng.random(m)
    text = np.empty(m, dtype=object)
    for index, term in enumerate(_PT):  # 25 terms, not records
        rows = pt == index
        variants = np.asarray(_VERBATIM[term], dtype=object)
        text[rows] = variants[np.floor(pick[rows] * len(variants)).astype(int)]
    decoration = _choice(rng, [0, 1, 2, 3, 4], [0.965, 0.01, 0.01, 0.01, 0.005], m)
    text = np.select(
        [decoration == 1, decoration == 2, decoration == 3, decoration == 4],
        [
            "V. a. „" + text + "“",
            '"' + text + '" laut Arztbrief',
            text + "; Kontrolle geplant",
            text + "\nNachtrag: s. Arztbrief",
        ],
        text,
    )
    return text.astype(object)


def make_export(n_patients: int, seed: int, long_verbatim: bool = True) -> dict[str, pd.DataFrame]:
    """The four forms of an export of ``n_patients``, as frames of export text (contract
    columns plus extra EDC columns, in the contract's column order; ``write_export`` shuffles).

    ``long_verbatim``: one AE verbatim is longer than 200 characters (the contract sets no
    limit; SDTMIG 3.4 section 4.5.3.2 splits such text into SUPPAE). Without it every other
    byte of the export stays the same.
    """
    rng = np.random.default_rng(seed)
    dates = _DateText.build()
    patients = _patients(rng, n_patients)
    course = _course(rng, patients)
    admin = _administrations(rng, patients, course)
    admin = admin.sort_values(["patient", "CYCLE", "DAY", "DRUG"], kind="stable", ignore_index=True)

    n = n_patients
    p = admin["patient"].to_numpy()
    is_isa = (admin["DRUG"] == "ISATUXIMAB").to_numpy()
    course["first_dose"] = np.where(course["dosed"], _group_min(p, admin["start"].to_numpy(), n), course["first"])
    course["last_exposure"] = _group_max(p, admin["exposure_end"].to_numpy(), n)
    course["first_isa"] = np.where(
        _group_min(p[is_isa], admin["start"].to_numpy()[is_isa], n) < -NO_DATE // 2,
        _group_min(p[is_isa], admin["start"].to_numpy()[is_isa], n),
        NO_DATE,
    )
    course["last_isa"] = _group_max(p[is_isa], admin["start"].to_numpy()[is_isa], n)
    course["deathdat"] = _deaths_after_treatment(rng, course, course["last_exposure"].to_numpy())
    died = course["deathdat"] > NO_DATE // 2
    window_end = np.where(course["dosed"], course["last_exposure"] + AE_WINDOW_DAYS, course["eotdat"])
    course["obs_end"] = np.where(died, np.minimum(window_end, course["deathdat"]), window_end)
    ae = _adverse_events(rng, patients, course, dates, long_verbatim)

    pat_out = pd.DataFrame(
        {
            "CENTRE": patients["CENTRE"],
            "PATNO": patients["PATNO"],
            "REGDAT": dates.text(patients["regdat"].to_numpy()),
            "BIRTHYR": np.where(rng.random(n) < 0.02, "", patients["BIRTHYR"].astype(str)),
            "AGE": patients["AGE"].astype(str),
            "SEX": patients["SEX"],
            "WEIGHT": np.where(
                rng.random(n) < 0.01,
                "",
                _decimal(patients["weight"].to_numpy(), patients["weight_decimals"].to_numpy()),
            ),
            "HEIGHT": np.where(
                rng.random(n) < 0.03,
                "",
                _decimal(patients["height"].to_numpy(), patients["height_decimals"].to_numpy()),
            ),
            "ECOG": patients["ECOG"],
            "DIAGDAT": np.where(
                rng.random(n) < 0.01, "", dates.text(patients["diagdat"].to_numpy(), patients["diag_form"].to_numpy())
            ),
            "MMTYPE": patients["MMTYPE"],
            "PRIORLIN": patients["PRIORLIN"].astype(str),
            "PRIPI": patients["PRIPI"],
            "PRILEN": patients["PRILEN"],
            "PRIPOM": patients["PRIPOM"],
            "PRICD38": patients["PRICD38"],
            "CONMED": patients["CONMED"],
            "CONDIS": patients["CONDIS"],
            "FORMSTATUS": _FORM_STATUS[rng.integers(0, len(_FORM_STATUS), n)],
            "LETZTE_AENDERUNG": dates.text(patients["regdat"].to_numpy() + rng.integers(0, 40, n))
            + " "
            + pd.Series(rng.integers(7, 19, n)).astype(str).str.zfill(2).to_numpy(object)
            + ":"
            + pd.Series(rng.integers(0, 60, n)).astype(str).str.zfill(2).to_numpy(object),
            "KOMMENTAR": np.where(rng.random(n) < 0.05, _COMMENTS[rng.integers(0, len(_COMMENTS), n)], ""),
        }
    )
    patno = patients["PATNO"].to_numpy()
    admin_out = pd.DataFrame(
        {
            "PATNO": patno[p],
            "DRUG": admin["DRUG"],
            "CYCLE": admin["CYCLE"].astype(str),
            "DAY": admin["DAY"].astype(str),
            "STARTDAT": dates.text(admin["start"].to_numpy()),
            "ENDDAT": dates.text(admin["end"].to_numpy()),
            "DOSE": admin["DOSE"],
            "UNIT": admin["UNIT"],
            "ROUTE": admin["ROUTE"],
            "VISITE": admin["VISITE"],
            "INFDAUER_H": admin["INFDAUER_H"],
            "CHARGE": admin["CHARGE"],
        }
    )
    ae_columns = [
        "AENO", "AETEXT", "PT", "SOC", "STARTDAT", "STOPDAT", "ONGOING", "GRADE", "SERIOUS",
        "RELISA", "RELPOM", "RELDEX", "ACNISA", "OUTCOME", "AESI",
        "SDTH", "SLIFE", "SHOSP", "SDISAB", "SCONG", "SMIE", "FORMSTATUS", "BEMERKUNG",
    ]  # fmt: skip
    ae_out = pd.concat([pd.DataFrame({"PATNO": patno[ae["patient"].to_numpy()]}), ae[ae_columns]], axis=1)
    ae_out = ae_out.iloc[rng.permutation(len(ae_out))]  # entry order, not key order
    eot_out = pd.DataFrame(
        {
            "PATNO": patno,
            "EOTDAT": dates.text(course["eotdat"].to_numpy()),
            "DISCONT": _yn(course["discont"].to_numpy()),
            "REASON": course["reason"],
            "DEATHDAT": dates.text(course["deathdat"].to_numpy()),
            "FORMSTATUS": _FORM_STATUS[rng.integers(0, len(_FORM_STATUS), n)],
            "KOMMENTAR": np.where(
                course["discont"],
                np.where(rng.random(n) < 0.2, "Abbruch – Rücksprache mit Prüfarzt; s. Verlauf", ""),
                np.where(rng.random(n) < 0.3, "Weiterbehandlung mit kommerzieller Ware\n(ab 01.02.2021)", ""),
            ),
        }
    )
    return {
        "patients.csv": pat_out,
        "administrations.csv": admin_out,
        "adverse_events.csv": ae_out,
        "end_of_treatment.csv": eot_out,
    }


def write_export(forms: dict[str, pd.DataFrame], out: Path, seed: int) -> None:
    """Write the forms as the EDC would: shuffled columns, BOM and CRLF on some files, all
    fields quoted in one file, no final line break in one small file."""
    rng = np.random.default_rng([seed, 1])
    out.mkdir(parents=True, exist_ok=True)
    names = list(forms)
    bom = dict(zip(names, rng.permutation([True, True, False, False]), strict=True))
    crlf = dict(zip(names, rng.permutation([True, True, False, False]), strict=True))
    quote_all = names[int(rng.integers(0, len(names)))]
    unterminated = ["patients.csv", "end_of_treatment.csv"][int(rng.integers(0, 2))]
    for name, frame in forms.items():
        columns = list(frame.columns)
        frame = frame[[columns[i] for i in rng.permutation(len(columns))]]
        line_end = "\r\n" if crlf[name] else "\n"
        if crlf[name]:  # a Windows EDC writes its own line end inside quoted fields too
            multiline = [c for c in frame.columns if frame[c].str.contains("\n", regex=False).any()]
            frame = frame.assign(**{c: frame[c].str.replace("\n", "\r\n", regex=False) for c in multiline})
        quoting = csv.QUOTE_ALL if name == quote_all else csv.QUOTE_MINIMAL
        encoding = "utf-8-sig" if bom[name] else "utf-8"
        options = {"sep": ";", "index": False, "quotechar": '"', "quoting": quoting}
        if name == unterminated:  # a small file: drop the last line end in memory
            text = frame.to_csv(lineterminator=line_end, **options).removesuffix(line_end)
            (out / name).write_text(text, encoding=encoding, newline="")
        else:
            with (out / name).open("w", encoding=encoding, newline="") as handle:
                frame.to_csv(handle, lineterminator=line_end, **options)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--patients", type=int, default=400, help="number of patients")
    parser.add_argument("--out", type=Path, required=True, help="export folder to write")
    parser.add_argument("--seed", type=int, default=1, help="random seed (same seed, same bytes)")
    parser.add_argument(
        "--no-long-verbatim",
        action="store_true",
        help="leave out the one AE verbatim over 200 characters (cdisc-cup keeps its first 200 in AETERM and the "
        "rest in SUPPAE continuation records, SDTMIG 3.4 section 4.5.3.2)",
    )
    args = parser.parse_args(argv)
    write_export(make_export(args.patients, args.seed, not args.no_long_verbatim), args.out, args.seed)


if __name__ == "__main__":
    main()
