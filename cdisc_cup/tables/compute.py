"""The numbers of the paper's Tables 1-3 and safety text, counted from ADSL and ADAE only.

The result mirrors the layout of `shared/paper/targets.json` (plain dicts, lists and
numbers) so a test can compare it cell for cell and the renderers need no counting of
their own. Denominators are the safety population of ADSL (SAFFL = Y).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from cdisc_cup.spec.model import StudySpec

Y = "Y"
# Table 2 columns: (key, condition on TEAE records).
TABLE2_COLUMNS = ("any_grade", "grade_ge3", "serious", "related_isa_any", "related_isa_ge3")
# Table 1 Y/N baseline flags: (key of targets.json, ADSL variable, display label).
TABLE1_FLAGS = (
    ("prior_pi", "PRPIFL", "Prior proteasome inhibitor*"),
    ("prior_lenalidomide", "PRLENFL", "Prior lenalidomide"),
    ("prior_pomalidomide", "PRPOMFL", "Prior pomalidomide"),
    ("prior_anti_cd38", "PRCD38FL", "Prior anti-CD38"),
    ("concomitant_medication", "CMBLFL", "Concomitant medication"),
    ("concomitant_disease", "CDBLFL", "Concomitant disease"),
)
# Table 1 continuous rows: (key, ADSL variable, display label).
TABLE1_MEASURES = (
    ("age_years", "AGE", "Age at registration (years)"),
    ("weight_kg", "WEIGHTBL", "Weight at baseline (kg)"),
    ("height_cm", "HEIGHTBL", "Height at baseline (cm)"),
)
TABLE1_HISTORY = (
    ("years_since_diagnosis", "DIAGYRS", "Time from initial diagnosis (years)"),
    ("prior_lines", "PRLINES", "Prior lines of therapy"),
)
# The ADAE variables Table 2 and the safety text read: selecting them first keeps every
# subset below from copying all of ADAE (a third of the time of the tables at 100,000 patients).
TABLE2_VARIABLES = [
    "USUBJID",
    "SAFFL",
    "TRTEMFL",
    "PREFL",
    "AEBODSYS",
    "AEDECOD",
    "ASTDT",
    "ASTDY",
    "ACYCLEN",
    "ATOXGRN",
    "AESER",
    "AREL",
    "AERELDEX",
    "AERELPOM",
    "AEACN",
    "AEOUT",
    "AESIFL",
    "AEDISFL",
]
# End-of-treatment reasons (ADSL.DCTREAS = DS.DSDECOD) in the paper's order and words.
REASON_LABELS = {"PROGRESSIVE DISEASE": "Disease progression", "DEATH": "Death", "OTHER": "Other"}


@dataclass(frozen=True)
class PaperTables:
    """Tables 1-3 and the safety text facts in the shape of targets.json."""

    table1: dict[str, Any]
    table2: dict[str, Any]
    table3: dict[str, Any]
    denominator: int
    treatment: str


def _number(value: float) -> int | float:
    """Whole numbers as int (67, not 67.0), as the paper prints them."""
    return int(value) if float(value).is_integer() else float(value)


def _summary(values: pd.Series) -> dict[str, int | float]:
    numbers = pd.to_numeric(values, errors="coerce").dropna()
    return {"median": _number(numbers.median()), "min": _number(numbers.min()), "max": _number(numbers.max())}


def _is_y(values: pd.Series) -> pd.Series:
    return (values.astype("string") == Y).fillna(False).astype(bool)


def compute_table1(adsl: pd.DataFrame) -> dict[str, Any]:
    """Baseline characteristics of the safety population."""
    table: dict[str, Any] = {"sex": {s: int((adsl["SEX"] == s).sum()) for s in ("F", "M")}}
    for key, variable, _ in (*TABLE1_MEASURES, *TABLE1_HISTORY):
        table[key] = _summary(adsl[variable])
    ecog = pd.to_numeric(adsl["ECOGBL"], errors="coerce").dropna().astype(int)
    table["ecog"] = {str(grade): int(n) for grade, n in ecog.value_counts().sort_index().items()}
    for key, variable, _ in TABLE1_FLAGS:
        table[key] = int(_is_y(adsl[variable]).sum())
    table["percent_denominator"] = len(adsl)
    table["percent_decimals"] = 1
    return table


def _table2_subsets(teae: pd.DataFrame) -> dict[str, pd.DataFrame]:
    grade3 = teae["ATOXGRN"] >= 3
    related = teae["AREL"] == "RELATED"
    return {
        "any_grade": teae,
        "grade_ge3": teae[grade3],
        "serious": teae[_is_y(teae["AESER"])],
        "related_isa_any": teae[related],
        "related_isa_ge3": teae[related & grade3],
    }


def _outcomes(teae: pd.DataFrame) -> dict[str, int]:
    """Patient-level outcome over a patient's TEAEs: died > not recovered > recovered."""
    outcome = teae["AEOUT"].astype("string")
    died = (outcome == "FATAL").groupby(teae["USUBJID"]).any()
    not_recovered = (outcome == "NOT RECOVERED/NOT RESOLVED").groupby(teae["USUBJID"]).any() & ~died
    return {
        "patients_recovered": int((~died & ~not_recovered).sum()),
        "patients_not_recovered": int(not_recovered.sum()),
        "patients_died": int(died.sum()),
    }


def _terms(events: pd.DataFrame, *columns: str) -> list[list[Any]]:
    """Event rows as plain lists (in table order: SOC, PT, onset), grades as int."""
    ordered = events.sort_values(["AEBODSYS", "AEDECOD", "ASTDT"])
    values = [
        ordered[c].astype("Int64").tolist() if c == "ATOXGRN" else ordered[c].astype(object).tolist() for c in columns
    ]
    return [list(row) for row in zip(*values, strict=True)]


def _patients_with(teae: pd.DataFrame, condition: pd.Series) -> int:
    return int(condition.fillna(False).astype(bool).groupby(teae["USUBJID"]).any().sum())


def compute_text_facts(teae: pd.DataFrame) -> dict[str, Any]:
    """The safety paragraph's numbers, from TEAE records of ADAE."""
    related = teae["AREL"] == "RELATED"
    grade3 = teae["ATOXGRN"] >= 3
    withdrawn = teae[_is_y(teae["AEDISFL"])]
    facts: dict[str, Any] = {
        "teae_in_cycle1": int((teae["ACYCLEN"] == 1).sum()),
        # "during the first visit of the first cycle or maximum 4 days afterward": days 1 to 5
        "teae_first_visit_or_within_4_days": int(teae["ASTDY"].between(1, 5).sum()),
        **_outcomes(teae),
        "patients_related_isatuximab": _patients_with(teae, related),
        "patients_related_dexamethasone": _patients_with(teae, teae["AERELDEX"] == "RELATED"),
        "patients_related_pomalidomide": _patients_with(teae, teae["AERELPOM"] == "RELATED"),
        "patients_related_isatuximab_ge3": _patients_with(teae, related & grade3),
        "serious_related_isatuximab": _terms(teae[related & _is_y(teae["AESER"])], "AEDECOD", "ATOXGRN", "AEACN"),
        "aesi_terms": [row[0] for row in _terms(teae[_is_y(teae["AESIFL"])], "AEDECOD")],
        "teae_leading_to_isatuximab_discontinuation": {
            "patients": int(withdrawn["USUBJID"].nunique()),
            "events": _terms(withdrawn, "AEDECOD", "ATOXGRN"),
        },
        "fatal": [row[0] for row in _terms(teae[teae["AEOUT"] == "FATAL"], "AEDECOD")],
        "not_recovered": [row[0] for row in _terms(teae[teae["AEOUT"] == "NOT RECOVERED/NOT RESOLVED"], "AEDECOD")],
    }
    return facts


def compute_table2(adae: pd.DataFrame) -> dict[str, Any]:
    """TEAEs by SOC and PT: patients per term and column; the "Any AE" row counts events."""
    adae = adae[TABLE2_VARIABLES]
    safety = adae[_is_y(adae["SAFFL"])]
    teae = safety[_is_y(safety["TRTEMFL"])].astype({"ATOXGRN": "float64"})
    subsets = _table2_subsets(teae)
    counts = (
        pd.DataFrame(
            {key: subset.groupby(["AEBODSYS", "AEDECOD"])["USUBJID"].nunique() for key, subset in subsets.items()}
        )
        .fillna(0)
        .astype(int)
        .sort_index()
    )
    rows = [[soc, pt, *map(int, values)] for (soc, pt), values in zip(counts.index, counts.to_numpy(), strict=True)]
    pretreatment = safety[_is_y(safety["PREFL"])]
    return {
        "all_aes": len(safety),
        "pretreatment_serious_aes": int(_is_y(pretreatment["AESER"]).sum()),
        "any_row_events": {key: len(subset) for key, subset in subsets.items()},
        "patients_with_teae": int(teae["USUBJID"].nunique()),
        "columns": list(TABLE2_COLUMNS),
        "rows": rows,
        "text_facts": compute_text_facts(teae),
    }


def compute_table3(adsl: pd.DataFrame) -> dict[str, Any]:
    """Premature discontinuation, its reason, and patients with at least n isatuximab cycles."""
    discontinued = adsl["EOTSTT"] == "DISCONTINUED"
    reasons = adsl.loc[discontinued, "DCTREAS"].astype("string").fillna("UNKNOWN")
    order = [*REASON_LABELS, *sorted(set(reasons) - set(REASON_LABELS))]
    cycles = pd.to_numeric(adsl["ISACYCN"], errors="coerce").fillna(0).astype(int)
    return {
        "premature_discontinuation": {"Y": int(discontinued.sum()), "N": int((~discontinued).sum())},
        "reason": {
            REASON_LABELS.get(reason, reason.capitalize()): int((reasons == reason).sum())
            for reason in order
            if (reasons == reason).any() or reason in REASON_LABELS
        },
        "patients_with_at_least_n_cycles": {
            str(n): int((cycles >= n).sum()) for n in range(1, int(cycles.max()) + 1 if len(cycles) else 1)
        },
    }


def compute_tables(study: StudySpec, adsl: pd.DataFrame, adae: pd.DataFrame) -> PaperTables:
    """All numbers of the paper's tables, from the safety population of ADSL/ADAE."""
    safety = adsl[_is_y(adsl["SAFFL"])]
    arm: Mapping[str, Any] = study.parameters
    return PaperTables(
        table1=compute_table1(safety),
        table2=compute_table2(adae),
        table3=compute_table3(safety),
        denominator=len(safety),
        treatment=str(arm.get("reference_drug", "study drug")).capitalize(),
    )
