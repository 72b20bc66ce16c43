"""Write the 18-patient German isatuximab CUP sample export into sample_data/.

    python tools/make_sample_data.py [--out sample_data]

The export is designed by hand so that it reproduces every figure of Leitner et al. 2024
(`shared/paper/targets.json`) under the definitions below, which the ADaM code uses. The only
random part (seeded) is what no figure depends on: birth years and edit timestamps. No
current date is used, so every run writes the same bytes.

Definitions (repeated in sample_data/README.md):
- Years since diagnosis = floor((REGDAT - DIAGDAT) / 365.25), a partial DIAGDAT imputed to its
  earliest possible date (UN.07.2013 -> 01.07.2013, UN.UN.2013 -> 01.01.2013).
- Reference start = earliest STARTDAT of any drug (all three start on cycle 1 day 1).
  Reference end (RFXENDTC) = latest ENDDAT, or STARTDAT when ENDDAT is empty, of any drug.
- Treatment-emergent: FORMAT.md "Conventions" (onset on/after the first dose and at most 30
  days after RFXENDTC; a partial onset is imputed to its earliest date, or to the first dose
  date when the first dose lies in the period the partial date allows).
- Number of cycles = distinct CYCLE with an isatuximab row. Cycles are exactly 28 days apart.
- Cycle of onset = latest isatuximab cycle whose day-1 infusion is on or before the imputed
  onset. "First visit or within 4 days" = 0 <= onset - first dose <= 4 days.
- Table 2 counts patients per preferred term (each term at most once per patient); the
  "Any AE" row counts TEAE events.
- Patient outcome over the patient's TEAEs: died if any OUTCOME=FATAL, else not recovered if
  any NOT RECOVERED, else recovered.
- A pomalidomide cycle of a patient still on treatment at the regular end of the CUP ends on
  31.01.2021 (ENDDAT clipped): the CUP supply ended there, so no date lies after it.

The paper's conflicting facts (six patients with isatuximab withdrawn for an AE, but six
premature discontinuations for progression 3, death 2, other 1) are resolved in the README.
"""

# The design tables below are kept one record per line so they read as tables.
# ruff: noqa: E501

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
from cup_csv import (
    ADVERSE_EVENT_COLUMNS,
    END_OF_TREATMENT_COLUMNS,
    PATIENT_COLUMNS,
    SERIOUSNESS_COLUMNS,
    build_administrations,
    format_administrations,
    format_dates,
    format_decimals,
    format_partial_dates,
    seriousness_criteria,
    write_export_csv,
    yes_no,
)

SEED = 20210131
CUP_END = np.datetime64("2021-01-31")
DEX_REDUCED_FROM_AGE = 75  # 20 mg instead of 40 mg from this age on (paper, Methods)
IV_PREMEDICATION_CENTRES = ("05",)  # this site gives dexamethasone IV with the infusion

# Registration and baseline forms. SEX 1 = male, 2 = female. DIAGDAT as the site wrote it.
BASELINE_COLUMNS = (
    "PATNO", "REGDAT", "SEX", "AGE", "WEIGHT", "HEIGHT", "ECOG", "DIAGDAT", "MMTYPE",
    "PRIORLIN", "PRIPOM", "PRICD38", "CONMED", "CONDIS",
)  # fmt: skip
BASELINE = [
    ("01-001", "2020-07-27", 1, 74, 68.0, 176, 2, "14.03.2008", "IgG kappa", 6, "Y", "Y", "Y", "Y"),
    ("01-002", "2020-09-01", 2, 69, 61.0, 162, 1, "UN.05.2012", "IgA lambda", 4, "Y", "N", "N", "Y"),
    ("01-003", "2020-12-21", 2, 56, 84.0, 168, 0, "03.06.2017", "IgG kappa", 2, "N", "N", "N", "N"),
    ("02-001", "2020-07-09", 1, 63, 88.0, 187, 1, "UN.UN.2010", "Leichtketten kappa", 5, "Y", "Y", "Y", "N"),
    ("02-002", "2020-12-01", 2, 77, 58.5, 155, 1, "22.10.2005", "IgG lambda", 4, "Y", "N", "Y", "Y"),
    ("04-001", "2020-07-14", 2, 61, 72.0, 166, 0, "UN.11.2014", "IgG kappa", 3, "N", "Y", "N", "N"),
    ("05-001", "2020-08-04", 1, 72, 79.5, 178, 1, "17.02.2011", "IgA kappa, extramedullärer Befall", 4, "Y", "N", "Y", "Y"),
    ("05-002", "2020-11-20", 2, 52, 64.0, 160, 0, "09.09.2018", "IgG kappa", 2, "N", "N", "N", "N"),
    ("07-001", "2020-09-15", 2, 67, 76.0, 164, 1, "UN.07.2013", "Leichtketten lambda", 3, "N", "Y", "N", "Y"),
    ("08-001", "2020-09-24", 1, 59, 86.0, 182, 0, "30.01.2014", "IgG lambda", 3, "N", "N", "N", "N"),
    ("08-002", "2021-01-08", 2, 66, 70.0, 158, 1, "UN.UN.2015", "IgG kappa", 3, "Y", "Y", "Y", "N"),
    ("11-001", "2020-09-28", 1, 78, 74.0, 172, 2, "05.04.2003", "IgA lambda", 11, "Y", "Y", "Y", "Y"),
    ("12-001", "2020-10-13", 2, 76, 81.0, 150, 2, "UN.08.2007", "IgG kappa", 5, "Y", "N", "N", "Y"),
    ("12-002", "2021-01-19", 2, 47, 46.0, 169, 1, "11.11.2019", "Leichtkettenmyelom kappa", 2, "N", "N", "N", "N"),
    ("14-001", "2020-11-10", 1, 70, 85.0, 180, 1, "UN.UN.2009", "IgG kappa", 3, "N", "Y", "Y", "Y"),
    ("17-001", "2020-12-07", 2, 64, 75.0, 170, 0, "18.05.2015", "IgA kappa", 3, "N", "N", "N", "N"),
    ("21-001", "2020-12-11", 1, 67, 82.0, 174, 1, "02.10.2016", "IgG lambda", 2, "N", "N", "N", "Y"),
    ("23-001", "2020-12-29", 1, 73, 78.0, 185, 1, "UN.04.2013", "IgD lambda", 8, "Y", "Y", "Y", "N"),
]  # fmt: skip

# Treatment course. None = the regular end of the CUP (31.01.2021). LAST_TREATMENT is the last
# day any study drug may be given; ISATUXIMAB_LAST is earlier when isatuximab was withdrawn
# and pomalidomide/dexamethasone went on. REASON empty = regular end (DISCONT N).
COURSE_COLUMNS = (
    "PATNO", "FIRST_DOSE", "LAST_TREATMENT", "ISATUXIMAB_LAST", "EOTDAT", "REASON", "DEATHDAT",
)  # fmt: skip
COURSE = [
    ("01-001", "2020-08-03", "2020-10-08", None, "2020-10-16", "DEATH", "2020-10-16"),
    ("01-002", "2020-09-07", "2020-10-07", None, "2020-10-12", "PROGRESSION", None),
    ("01-003", "2020-12-28", None, None, None, "", None),
    ("02-001", "2020-07-15", "2020-09-02", None, "2020-09-09", "PROGRESSION", None),
    ("02-002", "2020-12-10", None, None, None, "", None),
    ("04-001", "2020-07-20", "2020-08-10", "2020-07-20", "2020-08-16", "OTHER", None),
    ("05-001", "2020-08-10", "2020-09-17", None, "2020-09-21", "PROGRESSION", None),
    ("05-002", "2020-11-26", None, None, None, "", None),
    ("07-001", "2020-09-21", None, None, None, "", None),
    ("08-001", "2020-10-01", None, None, None, "", None),
    ("08-002", "2021-01-13", None, None, None, "", None),
    ("11-001", "2020-10-05", "2020-10-26", None, "2020-11-08", "DEATH", "2020-11-08"),
    ("12-001", "2020-10-19", None, None, None, "", None),
    ("12-002", "2021-01-25", None, "2021-01-25", None, "", None),
    ("14-001", "2020-11-16", None, "2021-01-19", None, "", None),
    ("17-001", "2020-12-14", None, None, None, "", None),
    ("21-001", "2020-12-17", None, None, None, "", None),
    ("23-001", "2021-01-04", None, "2021-01-20", None, "", None),
]  # fmt: skip

# Infusions withheld for an adverse event (ACNISA = INTERRUPTED): a planned dose not given.
SKIPPED_INFUSIONS = pd.DataFrame([("05-001", 1, 15), ("12-001", 2, 15)], columns=["PATNO", "CYCLE", "DAY"])

# MedDRA coding of the CRO: preferred term -> primary system organ class.
SOC_OF_PT = {
    "Anaemia": "Blood and lymphatic system disorders",
    "Febrile neutropenia": "Blood and lymphatic system disorders",
    "Neutropenia": "Blood and lymphatic system disorders",
    "Angina pectoris": "Cardiac disorders",
    "Ascites": "Gastrointestinal disorders",
    "Disease progression": "General disorders and administration site conditions",
    "Localised oedema": "General disorders and administration site conditions",
    "Pain": "General disorders and administration site conditions",
    "Bronchitis": "Infections and infestations",
    "Urinary tract infection": "Infections and infestations",
    "Fall": "Injury, poisoning and procedural complications",
    "Hip fracture": "Injury, poisoning and procedural complications",
    "Infusion related reaction": "Injury, poisoning and procedural complications",
    "Neutrophil count decreased": "Investigations",
    "Platelet count decreased": "Investigations",
    "Cachexia": "Metabolism and nutrition disorders",
    "Hypercalcaemia": "Metabolism and nutrition disorders",
    "Hypokalaemia": "Metabolism and nutrition disorders",
    "Back pain": "Musculoskeletal and connective tissue disorders",
    "Bone pain": "Musculoskeletal and connective tissue disorders",
    "Plasma cell myeloma": "Neoplasms benign, malignant and unspecified (incl cysts and polyps)",
    "Dizziness": "Nervous system disorders",
    "Dyspnoea": "Respiratory, thoracic and mediastinal disorders",
    "Laryngeal obstruction": "Respiratory, thoracic and mediastinal disorders",
    "Pruritus": "Skin and subcutaneous tissue disorders",
    "Hypertension": "Vascular disorders",
}

# AE form lines. START/STOP are days after the first dose (0 = first-dose day; STOP None =
# ongoing). PARTIAL "month" = only month and year of onset known. Flags: SERIOUS, RELISA,
# RELPOM, RELDEX, AESI.
AE_COLUMNS = (
    "PATNO", "START", "STOP", "PARTIAL", "AETEXT", "PT", "GRADE",
    "SERIOUS", "RELISA", "RELPOM", "RELDEX", "ACNISA", "OUTCOME", "AESI",
)  # fmt: skip
ADVERSE_EVENTS = [
    # 05-001: neutropenia during cycle 1, febrile neutropenia in cycle 2 -> isatuximab withdrawn; myeloma progressed.
    ("05-001", 14, 24, "", "Neutrophile vermindert (0,8 G/l)", "Neutrophil count decreased", 3, "N", "Y", "Y", "N", "INTERRUPTED", "RECOVERED", "N"),
    ("05-001", 38, 45, "", "Febrile Neutropenie", "Febrile neutropenia", 3, "N", "Y", "Y", "N", "WITHDRAWN", "RECOVERED", "N"),
    ("05-001", 40, 50, "", "Progress des Myeloms", "Plasma cell myeloma", 3, "N", "N", "N", "N", "NA", "RECOVERED", "N"),
    # 01-002: grade 4 thrombocytopenia (dose not changed), angina pectoris in cycle 2 -> withdrawn.
    ("01-002", 9, 20, "", "Thrombozytopenie (18.000/µl)", "Platelet count decreased", 4, "Y", "Y", "Y", "N", "NONE", "RECOVERED", "N"),
    ("01-002", 30, 33, "", "Angina pectoris", "Angina pectoris", 2, "Y", "Y", "N", "N", "WITHDRAWN", "RECOVERED", "Y"),
    # 23-001: urinary tract infection late in January 2021 -> withdrawn; CUP ended 11 days later.
    ("23-001", 6, 8, "", "Schwindel", "Dizziness", 1, "N", "N", "N", "N", "NONE", "RECOVERED", "N"),
    ("23-001", 16, 27, "", "Harnwegsinfekt mit Fieber", "Urinary tract infection", 3, "Y", "Y", "N", "N", "WITHDRAWN", "RECOVERED", "N"),
    # 04-001: infusion reaction at the first infusion -> withdrawn; left the CUP after cycle 1.
    ("04-001", 0, 1, "", "Infusionsreaktion (Schüttelfrost, Übelkeit)", "Infusion related reaction", 2, "N", "Y", "N", "N", "WITHDRAWN", "RECOVERED", "Y"),
    # 12-002: infusion reaction at the first infusion on 25.01.2021 -> withdrawn a week before the CUP ended.
    ("12-002", 0, 0, "", "Atemnot während der Infusion", "Dyspnoea", 1, "N", "Y", "N", "N", "WITHDRAWN", "RECOVERED", "Y"),
    ("12-002", 0, 1, "", "Engegefühl im Hals; Stridor", "Laryngeal obstruction", 2, "N", "Y", "N", "N", "WITHDRAWN", "RECOVERED", "Y"),
    # 14-001: pruritus in cycle 1; hypertensive crisis in cycle 3 (January 2021) -> withdrawn.
    ("14-001", 2, 9, "", "Juckreiz am Stamm", "Pruritus", 1, "N", "Y", "N", "N", "NONE", "RECOVERED", "N"),
    ("14-001", 64, 71, "", "Hypertensive Entgleisung", "Hypertension", 3, "N", "Y", "N", "Y", "WITHDRAWN", "RECOVERED", "Y"),
    # 11-001: died of myeloma progression after cycle 1.
    ("11-001", 1, 12, "", "Anämie, transfusionspflichtig", "Anaemia", 3, "Y", "N", "N", "N", "NONE", "RECOVERED", "N"),
    ("11-001", 3, 17, "", "Knochenschmerzen Becken", "Bone pain", 3, "Y", "N", "N", "N", "NONE", "RECOVERED", "N"),
    ("11-001", 8, 15, "", "Neutropenie", "Neutropenia", 2, "N", "N", "N", "N", "NONE", "RECOVERED", "N"),
    ("11-001", 25, 34, "", "Myelomprogress mit Todesfolge", "Plasma cell myeloma", 5, "Y", "N", "N", "N", "NA", "FATAL", "N"),
    # 01-001: died of disease progression in cycle 3.
    ("01-001", 2, 10, "", "Starke Schmerzen, generalisiert", "Pain", 3, "Y", "N", "N", "N", "NONE", "RECOVERED", "N"),
    ("01-001", 20, 30, "", "Aszites", "Ascites", 2, "N", "N", "N", "N", "NONE", "RECOVERED", "N"),
    ("01-001", 35, 56, "", "Kachexie (Gewichtsverlust 8 kg)", "Cachexia", 3, "Y", "N", "N", "N", "NONE", "RECOVERED", "N"),
    ("01-001", 66, 74, "", "Krankheitsprogression", "Disease progression", 5, "Y", "N", "N", "N", "NA", "FATAL", "N"),
    # 12-001: fall with hip fracture in cycle 2, not recovered at the end of the CUP.
    ("12-001", 4, 18, "", "Ödem linker Unterschenkel", "Localised oedema", 1, "N", "N", "N", "N", "NONE", "RECOVERED", "N"),
    ("12-001", 40, 40, "", "Sturz zu Hause", "Fall", 3, "Y", "N", "N", "N", "NONE", "RECOVERED", "N"),
    ("12-001", 40, None, "", "Schenkelhalsfraktur rechts", "Hip fracture", 3, "Y", "N", "N", "N", "INTERRUPTED", "NOT RECOVERED", "N"),
    # 07-001: two onsets known only to the month (September = first-dose month, December).
    ("07-001", 0, 24, "month", "Rückenschmerzen", "Back pain", 2, "N", "N", "N", "N", "NONE", "RECOVERED", "N"),
    ("07-001", 15, 30, "", "Fußödeme beidseits", "Localised oedema", 2, "N", "N", "N", "N", "NONE", "RECOVERED", "N"),
    ("07-001", 73, 84, "month", "Harnwegsinfektion", "Urinary tract infection", 2, "N", "N", "N", "N", "NONE", "RECOVERED", "N"),
    # 02-002: the one serious AE before the first dose (not treatment-emergent), then two TEAEs.
    ("02-002", -7, -2, "", "Hyperkalzämie", "Hypercalcaemia", 3, "Y", "N", "N", "N", "NA", "RECOVERED", "N"),
    ("02-002", 3, 10, "", "Hypokaliämie (K+ 2,8 mmol/l)", "Hypokalaemia", 3, "N", "N", "N", "N", "NONE", "RECOVERED", "N"),
    ("02-002", 20, 34, "", "Akute Bronchitis", "Bronchitis", 3, "N", "N", "N", "N", "NONE", "RECOVERED", "N"),
]  # fmt: skip

# Column order of adverse_events.csv differs from FORMAT.md on purpose: the reader must go by name.
ADVERSE_EVENT_EXPORT_ORDER = (
    "PATNO", "AENO", "STARTDAT", "STOPDAT", "ONGOING", "AETEXT", "PT", "SOC", "GRADE",
    "SERIOUS", "AESI", "RELISA", "RELPOM", "RELDEX", "ACNISA", "OUTCOME", *SERIOUSNESS_COLUMNS,
)  # fmt: skip
# Serious events kept in hospital (ICH E2A "requires or prolongs hospitalization"); the
# others of the paper's serious events are life-threatening (grade 4) or fatal, or else
# "other medically important" (SMIE).
HOSPITALISED_PTS = frozenset(
    {"Platelet count decreased", "Urinary tract infection", "Anaemia", "Bone pain", "Pain", "Cachexia",
     "Fall", "Hip fracture", "Hypercalcaemia", "Plasma cell myeloma", "Disease progression"}
)  # fmt: skip
assert sorted(ADVERSE_EVENT_EXPORT_ORDER) == sorted(ADVERSE_EVENT_COLUMNS)


def _dates(values: pd.Series, default: np.datetime64 | None = None) -> np.ndarray:
    """ISO design dates as datetime64[D]; None becomes `default` (or NaT)."""
    days = pd.to_datetime(values).to_numpy(dtype="datetime64[D]")
    if default is not None:
        days = np.where(np.isnat(days), default, days)
    return days


def baseline_frame() -> pd.DataFrame:
    return pd.DataFrame.from_records(BASELINE, columns=BASELINE_COLUMNS)


def course_frame() -> pd.DataFrame:
    """Treatment courses with the defaults of the regular end filled in."""
    course = pd.DataFrame.from_records(COURSE, columns=COURSE_COLUMNS)
    baseline = baseline_frame()
    course["FIRST_DOSE"] = _dates(course["FIRST_DOSE"])
    course["LAST_TREATMENT"] = _dates(course["LAST_TREATMENT"], CUP_END)
    course["ISATUXIMAB_LAST"] = np.where(
        course["ISATUXIMAB_LAST"].isna(),
        course["LAST_TREATMENT"].to_numpy(dtype="datetime64[D]"),
        _dates(course["ISATUXIMAB_LAST"]),
    )
    course["EOTDAT"] = _dates(course["EOTDAT"], CUP_END)
    course["DEATHDAT"] = _dates(course["DEATHDAT"])
    course["DEX_DOSE"] = np.where(baseline["AGE"].to_numpy() >= DEX_REDUCED_FROM_AGE, 20.0, 40.0)
    course["DEX_IV_ON_INFUSION_DAYS"] = baseline["PATNO"].str[:2].isin(IV_PREMEDICATION_CENTRES)
    return course


def patients_csv(rng: np.random.Generator) -> pd.DataFrame:
    baseline = baseline_frame()
    registration = _dates(baseline["REGDAT"])
    registration_year = registration.astype("datetime64[Y]").astype(int) + 1970
    # Only the year of birth is collected: born before or after the registration day of the year.
    birth_year = registration_year - baseline["AGE"].to_numpy() - rng.integers(0, 2, len(baseline))
    always = np.full(len(baseline), "Y", dtype=object)  # inclusion criterion: prior PI and lenalidomide
    frame = pd.DataFrame(
        {
            "CENTRE": baseline["PATNO"].str[:2],
            "PATNO": baseline["PATNO"],
            "REGDAT": format_dates(registration),
            "BIRTHYR": birth_year.astype(str),
            "AGE": baseline["AGE"].astype(str),
            "SEX": baseline["SEX"].astype(str),
            "WEIGHT": format_decimals(baseline["WEIGHT"]),
            "HEIGHT": format_decimals(baseline["HEIGHT"]),
            "ECOG": baseline["ECOG"].astype(str),
            "DIAGDAT": baseline["DIAGDAT"],
            "MMTYPE": baseline["MMTYPE"],
            "PRIORLIN": baseline["PRIORLIN"].astype(str),
            "PRIPI": always,
            "PRILEN": always,
            "PRIPOM": baseline["PRIPOM"],
            "PRICD38": baseline["PRICD38"],
            "CONMED": baseline["CONMED"],
            "CONDIS": baseline["CONDIS"],
        }
    )
    return frame[list(PATIENT_COLUMNS)]


def administrations_csv(rng: np.random.Generator) -> pd.DataFrame:
    """FORMAT.md columns plus LASTEDIT, an EDC audit column the contract does not know."""
    administrations = build_administrations(course_frame(), SKIPPED_INFUSIONS)
    entered = administrations["STARTDAT"].to_numpy(dtype="datetime64[D]") + rng.integers(0, 6, len(administrations))
    minute_of_day = rng.integers(7 * 60, 19 * 60, len(administrations))
    clock = (
        pd.Series(minute_of_day // 60).astype(str).str.zfill(2)
        + ":"
        + pd.Series(minute_of_day % 60).astype(str).str.zfill(2)
    )
    frame = format_administrations(administrations)
    frame["LASTEDIT"] = format_dates(entered) + " " + clock.to_numpy(dtype=object)
    return frame


def adverse_events_csv() -> pd.DataFrame:
    events = pd.DataFrame.from_records(ADVERSE_EVENTS, columns=AE_COLUMNS)
    first_dose = events["PATNO"].map(course_frame().set_index("PATNO")["FIRST_DOSE"])
    ongoing = events["STOP"].isna()
    stop_days = pd.to_numeric(events["STOP"]).fillna(0).astype(int)
    events["ONSET"] = first_dose + pd.to_timedelta(events["START"], unit="D")
    events["END"] = (first_dose + pd.to_timedelta(stop_days, unit="D")).mask(ongoing)
    # AE numbers follow the order of onset on each patient's AE form.
    events = events.sort_values(["PATNO", "ONSET"], kind="stable", ignore_index=True)
    frame = pd.DataFrame(
        {
            "PATNO": events["PATNO"],
            "AENO": (events.groupby("PATNO").cumcount() + 1).astype(str),
            "STARTDAT": format_partial_dates(
                events["ONSET"],
                unknown_day=(events["PARTIAL"] == "month").to_numpy(),
                unknown_month=(events["PARTIAL"] == "year").to_numpy(),
            ),
            "STOPDAT": format_dates(events["END"]),
            "ONGOING": yes_no(events["END"].isna()),
            "AETEXT": events["AETEXT"],
            "PT": events["PT"],
            "SOC": events["PT"].map(SOC_OF_PT),
            "GRADE": events["GRADE"].astype(str),
        }
    )
    for flag in ("SERIOUS", "AESI", "RELISA", "RELPOM", "RELDEX", "ACNISA", "OUTCOME"):
        frame[flag] = events[flag]
    criteria = seriousness_criteria(
        serious=(events["SERIOUS"] == "Y").to_numpy(),
        fatal=(events["OUTCOME"] == "FATAL").to_numpy(),
        life_threatening=(events["GRADE"] == 4).to_numpy(),
        hospitalised=events["PT"].isin(HOSPITALISED_PTS).to_numpy(),
    )
    for name, values in criteria.items():
        frame[name] = values
    return frame[list(ADVERSE_EVENT_EXPORT_ORDER)]


def end_of_treatment_csv() -> pd.DataFrame:
    course = course_frame()
    frame = pd.DataFrame(
        {
            "PATNO": course["PATNO"],
            "EOTDAT": format_dates(course["EOTDAT"]),
            "DISCONT": yes_no(course["REASON"] != ""),
            "REASON": course["REASON"],
            "DEATHDAT": format_dates(course["DEATHDAT"]),
        }
    )
    return frame[list(END_OF_TREATMENT_COLUMNS)]


def write_sample_export(out: Path) -> None:
    """Write the four export files; each exercises a different reader path (see README)."""
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(SEED)
    write_export_csv(patients_csv(rng), out / "patients.csv", bom=True, crlf=True)
    write_export_csv(administrations_csv(rng), out / "administrations.csv")
    write_export_csv(adverse_events_csv(), out / "adverse_events.csv")
    write_export_csv(end_of_treatment_csv(), out / "end_of_treatment.csv", crlf=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_out = Path(__file__).resolve().parents[1] / "sample_data"
    parser.add_argument("--out", type=Path, default=default_out, help="output folder")
    write_sample_export(parser.parse_args().out)


if __name__ == "__main__":
    main()
