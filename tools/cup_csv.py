"""Helpers shared by the two generators of CUP EDC exports (sample data and benchmarks).

Both generators must write exactly the German-locale CSV of the export contract
(`shared/cup-export/FORMAT.md`): `;` delimiter, decimal comma, `DD.MM.YYYY` dates with `UN`
for an unknown day or month, empty field = missing. Keeping the formatting and the treatment
schedule here means the 18-patient sample and a 100,000-patient benchmark cannot drift apart.

Formatting works on the distinct values only (a benchmark has millions of dates but only a
few hundred distinct ones), so nothing loops over records.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

PATIENT_COLUMNS: tuple[str, ...] = (
    "CENTRE", "PATNO", "REGDAT", "BIRTHYR", "AGE", "SEX", "WEIGHT", "HEIGHT", "ECOG",
    "DIAGDAT", "MMTYPE", "PRIORLIN", "PRIPI", "PRILEN", "PRIPOM", "PRICD38", "CONMED", "CONDIS",
)  # fmt: skip
ADMINISTRATION_COLUMNS: tuple[str, ...] = (
    "PATNO", "DRUG", "CYCLE", "DAY", "STARTDAT", "ENDDAT", "DOSE", "UNIT", "ROUTE",
)  # fmt: skip
# Format v1.1 added the seriousness criteria of the AE form (ICH E2A): FORMAT.md.
SERIOUSNESS_COLUMNS: tuple[str, ...] = ("SDTH", "SLIFE", "SHOSP", "SDISAB", "SCONG", "SMIE")
ADVERSE_EVENT_COLUMNS: tuple[str, ...] = (
    "PATNO", "AENO", "AETEXT", "PT", "SOC", "STARTDAT", "STOPDAT", "ONGOING", "GRADE",
    "SERIOUS", *SERIOUSNESS_COLUMNS, "RELISA", "RELPOM", "RELDEX", "ACNISA", "OUTCOME", "AESI",
)  # fmt: skip
END_OF_TREATMENT_COLUMNS: tuple[str, ...] = ("PATNO", "EOTDAT", "DISCONT", "REASON", "DEATHDAT")

CYCLE_DAYS = 28
# FORMAT.md "administrations.csv": the days of a cycle on which each drug starts.
ISATUXIMAB_DAYS_CYCLE1: tuple[int, ...] = (1, 8, 15, 22)
ISATUXIMAB_DAYS_LATER: tuple[int, ...] = (1, 15)
DEXAMETHASONE_DAYS: tuple[int, ...] = (1, 8, 15, 22)
POMALIDOMIDE_LAST_DAY = 21


def _format_distinct(values: np.ndarray, formatter: Callable[[object], str]) -> np.ndarray:
    """Apply a scalar formatter to each distinct value once and spread the results back."""
    if len(values) == 0:
        return np.array([], dtype=object)
    distinct, inverse = np.unique(values, return_inverse=True)
    formatted = np.array([formatter(value) for value in distinct], dtype=object)
    return formatted[inverse.reshape(-1)]


def _german_date(iso_date: object) -> str:
    text = str(iso_date)
    return f"{text[8:10]}.{text[5:7]}.{text[0:4]}"


def format_dates(dates: Sequence[object] | np.ndarray | pd.Series) -> np.ndarray:
    """`DD.MM.YYYY` for each date; missing dates (NaT) become the empty field."""
    days = np.asarray(dates, dtype="datetime64[D]")
    missing = np.isnat(days)
    out = np.full(days.shape, "", dtype=object)
    out[~missing] = _format_distinct(days[~missing], _german_date)
    return out


def format_partial_dates(
    dates: Sequence[object] | np.ndarray | pd.Series,
    *,
    unknown_day: np.ndarray,
    unknown_month: np.ndarray,
) -> np.ndarray:
    """Dates with an unknown day (`UN.07.2020`) or unknown day and month (`UN.UN.2020`).

    An unknown month implies an unknown day: the EDC cannot store a day without its month.
    """
    text = pd.Series(format_dates(dates), dtype=object)
    present = text != ""
    month_only = present & np.asarray(unknown_day, dtype=bool)
    year_only = present & np.asarray(unknown_month, dtype=bool)
    text[month_only] = "UN" + text[month_only].str[2:]
    text[year_only] = "UN.UN." + text[year_only].str[6:]
    return text.to_numpy(dtype=object)


def _german_decimal(value: object, decimals: int) -> str:
    text = f"{float(value):.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace(".", ",")


def format_decimals(values: Sequence[float] | np.ndarray | pd.Series, decimals: int = 1) -> np.ndarray:
    """Decimal comma, no trailing zeros (`75,5`, `46`); NaN becomes the empty field."""
    numbers = np.asarray(values, dtype=float)
    missing = np.isnan(numbers)
    out = np.full(numbers.shape, "", dtype=object)
    out[~missing] = _format_distinct(
        np.round(numbers[~missing], decimals), lambda value: _german_decimal(value, decimals)
    )
    return out


def yes_no(flags: Sequence[bool] | np.ndarray | pd.Series) -> np.ndarray:
    """`Y`/`N` codes of the export for a boolean column."""
    return np.where(np.asarray(flags, dtype=bool), "Y", "N").astype(object)


def seriousness_criteria(
    serious: np.ndarray,
    fatal: np.ndarray,
    life_threatening: np.ndarray,
    hospitalised: np.ndarray,
    disabling: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """The v1.1 criteria columns of the AE form: `Y`/`N` when the event is serious (at least one
    `Y`; a serious event none of whose criteria the generator chose is "other medically
    important"), empty when it is not (FORMAT.md "adverse_events.csv"). `disabling` (default:
    none) marks persistent disability; no generator makes a congenital anomaly."""
    serious = np.asarray(serious, dtype=bool)
    chosen = {
        "SDTH": np.asarray(fatal, dtype=bool),
        "SLIFE": np.asarray(life_threatening, dtype=bool),
        "SHOSP": np.asarray(hospitalised, dtype=bool),
        "SDISAB": np.zeros(len(serious), dtype=bool) if disabling is None else np.asarray(disabling, dtype=bool),
        "SCONG": np.zeros(len(serious), dtype=bool),
    }
    chosen["SMIE"] = ~np.logical_or.reduce(list(chosen.values()))
    return {name: np.where(serious, yes_no(flag & serious), "").astype(object) for name, flag in chosen.items()}


def to_export_text(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """The given columns as export text, by dtype: dates `DD.MM.YYYY`, floats with a decimal
    comma, integers as digits, booleans `Y`/`N`; text (including pre-formatted partial
    dates) passes through with missing values as the empty field."""
    out = {}
    for column in columns:
        values = frame[column]
        if pd.api.types.is_datetime64_any_dtype(values):
            out[column] = format_dates(values)
        elif pd.api.types.is_bool_dtype(values):
            out[column] = yes_no(values)
        elif pd.api.types.is_float_dtype(values):
            out[column] = format_decimals(values)
        elif pd.api.types.is_integer_dtype(values):
            out[column] = values.astype(str).to_numpy(dtype=object)
        else:
            out[column] = values.fillna("").to_numpy(dtype=object)
    return pd.DataFrame(out)


def write_export_csv(frame: pd.DataFrame, path: Path, *, bom: bool = False, crlf: bool = False) -> None:
    """Write one export file the way the EDC does: `;`, `"` quoting only where needed.

    Every column must already be text (formatted by the helpers above), so pandas adds no
    locale-dependent formatting of its own and the bytes are reproducible.
    """
    frame.to_csv(
        path,
        sep=";",
        index=False,
        na_rep="",
        quoting=csv.QUOTE_MINIMAL,
        quotechar='"',
        lineterminator="\r\n" if crlf else "\n",
        encoding="utf-8-sig" if bom else "utf-8",
    )


def _cycle_grid(courses: pd.DataFrame) -> pd.DataFrame:
    """One row per patient and cycle that starts on or before the patient's last treatment day."""
    first_dose = courses["FIRST_DOSE"].to_numpy(dtype="datetime64[D]")
    last_day = courses["LAST_TREATMENT"].to_numpy(dtype="datetime64[D]")
    n_cycles = (last_day - first_dose).astype(int) // CYCLE_DAYS + 1
    patient_index = np.repeat(np.arange(len(courses)), n_cycles)
    # Cycle number within each patient: position minus the offset where the patient starts.
    starts = np.repeat(np.cumsum(n_cycles) - n_cycles, n_cycles)
    cycle = np.arange(len(patient_index)) - starts + 1
    return pd.DataFrame(
        {
            "ROW": patient_index,
            "CYCLE": cycle,
            "CYCLE_START": first_dose[patient_index] + (cycle - 1) * CYCLE_DAYS,
        }
    )


def _on_days(grid: pd.DataFrame, days_cycle1: Sequence[int], days_later: Sequence[int]) -> pd.DataFrame:
    """Cross the cycle grid with the start days of a drug (cycle 1 may differ from later cycles)."""
    days = pd.DataFrame(
        {
            "FIRST_CYCLE": [True] * len(days_cycle1) + [False] * len(days_later),
            "DAY": [*days_cycle1, *days_later],
        }
    )
    crossed = grid.assign(FIRST_CYCLE=grid["CYCLE"] == 1).merge(days, on="FIRST_CYCLE")
    crossed["STARTDAT"] = crossed["CYCLE_START"].to_numpy(dtype="datetime64[D]") + (crossed["DAY"].to_numpy() - 1)
    return crossed.drop(columns="FIRST_CYCLE")


def _without(isatuximab: pd.DataFrame, skipped_infusions: pd.DataFrame, patno: np.ndarray) -> pd.DataFrame:
    """Drop the withheld infusions (an anti-join on patient, cycle and day)."""
    keyed = isatuximab.assign(PATNO=patno[isatuximab["ROW"].to_numpy()])
    skipped = skipped_infusions[["PATNO", "CYCLE", "DAY"]].astype({"CYCLE": int, "DAY": int})
    matched = keyed.merge(skipped, on=["PATNO", "CYCLE", "DAY"], how="left", indicator=True)
    return isatuximab[matched["_merge"].to_numpy() == "left_only"]


def build_administrations(courses: pd.DataFrame, skipped_infusions: pd.DataFrame | None = None) -> pd.DataFrame:
    """Administration records (dates unformatted) from one treatment course per patient.

    `courses` has PATNO, FIRST_DOSE, LAST_TREATMENT (last day any study drug may be given),
    ISATUXIMAB_LAST (last day isatuximab may be given, earlier when it was withdrawn),
    DEX_DOSE (mg) and DEX_IV_ON_INFUSION_DAYS (dexamethasone given IV as premedication on
    isatuximab days). Cycles follow each other without delay; a dose after the limit has no
    row, and a pomalidomide cycle that would run past LAST_TREATMENT ends on it.
    `skipped_infusions` (PATNO, CYCLE, DAY) lists infusions withheld for an adverse event.
    Returns PATNO, DRUG, CYCLE, DAY, STARTDAT, ENDDAT (NaT = same day), DOSE, UNIT, ROUTE and
    ROW (the position of the course), sorted by patient, start date and drug.
    """
    grid = _cycle_grid(courses)
    row = grid["ROW"].to_numpy()
    last_treatment = courses["LAST_TREATMENT"].to_numpy(dtype="datetime64[D]")
    isatuximab_last = courses["ISATUXIMAB_LAST"].to_numpy(dtype="datetime64[D]")
    patno = courses["PATNO"].to_numpy(dtype=object)

    isatuximab = _on_days(grid, ISATUXIMAB_DAYS_CYCLE1, ISATUXIMAB_DAYS_LATER)
    isatuximab = isatuximab[
        isatuximab["STARTDAT"].to_numpy(dtype="datetime64[D]") <= isatuximab_last[isatuximab["ROW"].to_numpy()]
    ].assign(DRUG="ISATUXIMAB", DOSE=10.0, UNIT="mg/kg", ROUTE="IV")
    if skipped_infusions is not None:
        isatuximab = _without(isatuximab, skipped_infusions, patno)

    pomalidomide = grid.assign(DAY=1, STARTDAT=grid["CYCLE_START"])
    pomalidomide_end = np.minimum(
        grid["CYCLE_START"].to_numpy(dtype="datetime64[D]") + (POMALIDOMIDE_LAST_DAY - 1),
        last_treatment[row],
    )
    pomalidomide = pomalidomide.assign(ENDDAT=pomalidomide_end, DRUG="POMALIDOMIDE", DOSE=4.0, UNIT="mg", ROUTE="PO")

    dexamethasone = _on_days(grid, DEXAMETHASONE_DAYS, DEXAMETHASONE_DAYS)
    dex_row = dexamethasone["ROW"].to_numpy()
    dexamethasone = dexamethasone[dexamethasone["STARTDAT"].to_numpy(dtype="datetime64[D]") <= last_treatment[dex_row]]
    # Dexamethasone given together with an infusion counts as premedication (IV at some sites).
    with_infusion = (
        dexamethasone.merge(
            isatuximab[["ROW", "CYCLE", "DAY"]], on=["ROW", "CYCLE", "DAY"], how="left", indicator=True
        )["_merge"].to_numpy()
        == "both"
    )
    dex_row = dexamethasone["ROW"].to_numpy()
    premedication_iv = courses["DEX_IV_ON_INFUSION_DAYS"].to_numpy(dtype=bool)[dex_row] & with_infusion
    dexamethasone = dexamethasone.assign(
        DRUG="DEXAMETHASONE",
        DOSE=courses["DEX_DOSE"].to_numpy(dtype=float)[dex_row],
        UNIT="mg",
        ROUTE=np.where(premedication_iv, "IV", "PO"),
    )

    drug_order = {"ISATUXIMAB": 0, "POMALIDOMIDE": 1, "DEXAMETHASONE": 2}
    administrations = pd.concat([isatuximab, pomalidomide, dexamethasone], ignore_index=True)
    administrations["PATNO"] = patno[administrations["ROW"].to_numpy()]
    administrations["DRUG_ORDER"] = administrations["DRUG"].map(drug_order)
    administrations = administrations.sort_values(["ROW", "STARTDAT", "DRUG_ORDER"], kind="stable", ignore_index=True)
    return administrations[["ROW", "PATNO", "DRUG", "CYCLE", "DAY", "STARTDAT", "ENDDAT", "DOSE", "UNIT", "ROUTE"]]


def format_administrations(administrations: pd.DataFrame) -> pd.DataFrame:
    """The administrations.csv columns of FORMAT.md as German-locale text."""
    return pd.DataFrame(
        {
            "PATNO": administrations["PATNO"].to_numpy(dtype=object),
            "DRUG": administrations["DRUG"].to_numpy(dtype=object),
            "CYCLE": administrations["CYCLE"].astype(int).astype(str).to_numpy(dtype=object),
            "DAY": administrations["DAY"].astype(int).astype(str).to_numpy(dtype=object),
            "STARTDAT": format_dates(administrations["STARTDAT"]),
            "ENDDAT": format_dates(administrations["ENDDAT"]),
            "DOSE": format_decimals(administrations["DOSE"]),
            "UNIT": administrations["UNIT"].to_numpy(dtype=object),
            "ROUTE": administrations["ROUTE"].to_numpy(dtype=object),
        }
    )
