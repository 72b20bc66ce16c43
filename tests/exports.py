"""A small, valid CUP export written by tests, to be broken one defect at a time."""

from __future__ import annotations

import csv
import io
from pathlib import Path

PATIENTS = [
    "CENTRE;PATNO;REGDAT;BIRTHYR;AGE;SEX;WEIGHT;HEIGHT;ECOG;DIAGDAT;MMTYPE;PRIORLIN;PRIPI;PRILEN;PRIPOM;PRICD38;CONMED;CONDIS",
    "01;01-001;01.07.2020;1950;70;1;75,5;170;1;UN.03.2013;IgG kappa;3;Y;Y;N;N;Y;N",
    "02;02-001;15.08.2020;1960;60;2;60;160;0;UN.UN.2010;Leichtketten lambda;2;Y;Y;Y;Y;N;Y",
    "02;02-002;20.08.2020;1944;76;2;58,2;158;2;03.02.2015;IgA kappa;4;Y;Y;N;N;N;N",
]
ADMINISTRATIONS = [
    "PATNO;DRUG;CYCLE;DAY;STARTDAT;ENDDAT;DOSE;UNIT;ROUTE",
    "01-001;ISATUXIMAB;1;1;03.07.2020;;10;mg/kg;IV",
    "01-001;POMALIDOMIDE;1;1;03.07.2020;23.07.2020;4;mg;PO",
    "01-001;DEXAMETHASONE;1;1;03.07.2020;;40;mg;PO",
    "01-001;ISATUXIMAB;1;8;10.07.2020;;10;mg/kg;IV",
    "02-001;ISATUXIMAB;1;1;20.08.2020;;10;mg/kg;IV",
    "02-001;DEXAMETHASONE;1;1;20.08.2020;;40;mg;IV",
]
ADVERSE_EVENTS = [  # format v1.1: the seriousness criteria SDTH..SMIE follow SERIOUS
    "PATNO;AENO;AETEXT;PT;SOC;STARTDAT;STOPDAT;ONGOING;GRADE;SERIOUS;SDTH;SLIFE;SHOSP;SDISAB;SCONG;SMIE;"
    "RELISA;RELPOM;RELDEX;ACNISA;OUTCOME;AESI",
    "01-001;2;Sturz;Fall;Injury, poisoning and procedural complications;01.07.2020;;Y;3;Y;N;N;Y;N;N;N;"
    "N;N;N;NA;NOT RECOVERED;N",
    "01-001;1;Übelkeit;Nausea;Gastrointestinal disorders;UN.07.2020;12.07.2020;N;2;N;;;;;;;Y;N;N;NONE;RECOVERED;N",
    "02-001;1;Juckreiz;Pruritus;Skin and subcutaneous tissue disorders;21.08.2020;25.08.2020;N;1;N;;;;;;;Y;N;Y;"
    "WITHDRAWN;RECOVERED;Y",
]
SERIOUSNESS_CRITERIA = ("SDTH", "SLIFE", "SHOSP", "SDISAB", "SCONG", "SMIE")  # absent from format v1
END_OF_TREATMENT = [
    "PATNO;EOTDAT;DISCONT;REASON;DEATHDAT",
    "01-001;31.01.2021;N;;",
    "02-001;10.09.2020;Y;DEATH;10.09.2020",
    "02-002;25.08.2020;Y;OTHER;",
]

FILES = {
    "patients.csv": PATIENTS,
    "administrations.csv": ADMINISTRATIONS,
    "adverse_events.csv": ADVERSE_EVENTS,
    "end_of_treatment.csv": END_OF_TREATMENT,
}


def write_export(folder: Path, *, newline: str = "\n", bom: bool = False, **replacements: list[str]) -> Path:
    """Write the export; `patients=[...]` etc. replace a file's lines (header included)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, lines in FILES.items():
        lines = replacements.get(name.removesuffix(".csv"), lines)
        text = newline.join(lines) + newline
        (folder / name).write_bytes(("\ufeff" if bom else "").encode() + text.encode("utf-8"))
    return folder


def with_delimiter(lines: list[str], delimiter: str) -> list[str]:
    """The lines as a spreadsheet program saves them with another delimiter (quoting where needed)."""
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\n").writerows(csv.reader(lines, delimiter=";"))
    return out.getvalue().splitlines()


def without_columns(lines: list[str], *names: str) -> list[str]:
    """The lines with the named columns (header and values) cut out."""
    drop = {lines[0].split(";").index(name) for name in names}
    return [";".join(f for i, f in enumerate(line.split(";")) if i not in drop) for line in lines]
