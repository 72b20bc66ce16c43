"""ADSL, one record per subject, from SDTM only: read it top to bottom as the derivation chain.

Source datasets: DM (the base, one record per registered patient), EX, AE, DS, VS, RS, MH,
SC, CM. Every step is a generic verb of `cdisc_cup.adam.derivations` that the spec
(`specs/adam/adsl.yaml`) names in its `derivation:` entries; what is particular to this study
(the reference drug and its schedule, how a cycle is read off VISITNUM, test codes, age
groups, the Figure 1 cut-off) is chosen here or in the `parameters:` of `specs/study.yaml`, as
admiral's template `ad_adsl.R` keeps its filters at the call site.

One treatment definition: TRTSDT and TRTEDT are the regimen's, the first and last exposure to
any study drug (DM.RFXSTDTC, DM.RFXENDTC), and so are everything ADAE counts from them (ASTDY,
the cycle of onset, TRTEMFL) and TRTDURD. What concerns isatuximab alone (its first dose for
Figure 1, its cycles, cumulative dose and dose intensity) has variables of its own: ISASDT,
ISACYCN, CUMDOSE, PCUMDOSE, RDI.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from cdisc_cup.adam import derivations as d
from cdisc_cup.adam.dates import text_or_null
from cdisc_cup.adam.spec import predecessors, shape_to_spec
from cdisc_cup.spec.model import StudySpec

BY = ["USUBJID"]

# The paper's age groups: the dexamethasone dose halves from 75 years.

BASELINES = (  # (findings domain, --TESTCD, ADSL variable): --STRESN of the --LOBXFL = Y record
    ("VS", "WEIGHT", "WEIGHTBL"),
    ("VS", "HEIGHT", "HEIGHTBL"),
    ("RS", "ECOG101", "ECOGBL"),
)

SC_RESULTS = (  # (SCTESTCD, ADSL variable, SC result variable)
    ("NPRLINES", "PRLINES", "SCSTRESN"),
    ("CONDISBL", "CDBLFL", "SCSTRESC"),
)
# The pre-specified medications of the baseline form (CM, CMPRESP = Y): (CMCAT, CMTRT, ADSL flag).
PRESPECIFIED_MEDICATIONS = (
    ("PRIOR ANTI-MYELOMA THERAPY", "PROTEASOME INHIBITOR", "PRPIFL"),
    ("PRIOR ANTI-MYELOMA THERAPY", "LENALIDOMIDE", "PRLENFL"),
    ("PRIOR ANTI-MYELOMA THERAPY", "POMALIDOMIDE", "PRPOMFL"),
    ("PRIOR ANTI-MYELOMA THERAPY", "ANTI-CD38 MONOCLONAL ANTIBODY", "PRCD38FL"),
    ("CONCOMITANT MEDICATION", "ANY CONCOMITANT MEDICATION", "CMBLFL"),
)

END_OF_TREATMENT = {"DSCAT": "DISPOSITION EVENT", "DSSCAT": "STUDY TREATMENT"}
END_OF_STUDY = {"DSCAT": "DISPOSITION EVENT", "DSSCAT": "STUDY PARTICIPATION"}
DEATH = "DEATH"  # DS.DSDECOD of a death
FATAL = "FATAL"  # AE.AEOUT of an event that ended in death

# Collected dates on which the patient was alive (admiral's LSTALVDT events): (domain, --DTC).
# DS records of a death are left out; a partial date counts as its first day (admiral
# `convert_dtc_to_dt(highest_imputation = "M")`).
ALIVE_DATES = (
    ("AE", "AESTDTC"),
    ("AE", "AEENDTC"),
    ("EX", "EXSTDTC"),
    ("EX", "EXENDTC"),
    ("DS", "DSSTDTC"),
    ("VS", "VSDTC"),
    ("RS", "RSDTC"),
)
ALIVE_DATE = "ALIVEDT"  # working column of the LSTALVDT events
# Working columns of PCUMDOSE: cycle and day within it of the last isatuximab administration.
LAST_CYCLE, LAST_CYCLE_DAY = "ISALCYC", "ISALDAY"


def exposure(ex: pd.DataFrame, *, visitnum_cycle_divisor: int) -> pd.DataFrame:
    """EX with the values ADSL and ADAE select on: EXSTDT (the complete start date), EXCYCLE,
    the treatment cycle, and EXCYCDAY, the day within it: VISITNUM integer-divided by the
    study's divisor and its remainder (the SDTM spec numbers visits 100 x cycle + day)."""
    ex = d.derive_vars_dt(ex, dtc="EXSTDTC", new_var="EXSTDT")
    visitnum = pd.to_numeric(ex["VISITNUM"], errors="coerce")
    return ex.assign(
        EXCYCLE=(visitnum // visitnum_cycle_divisor).astype("Int64"),
        EXCYCDAY=(visitnum % visitnum_cycle_divisor).astype("Int64"),
    )


def administered(ex: pd.DataFrame, drug: str | None = None) -> pd.Series:
    """EX records of an administration that happened (EXDOSE > 0), of `drug` (EXTRT, any
    case) or of any study drug: admiral's `filter_add = EXDOSE > 0 & ...` of `ad_adsl.R`."""
    given = pd.to_numeric(ex["EXDOSE"], errors="coerce") > 0
    if drug is not None:
        given &= text_or_null(ex["EXTRT"]).str.upper() == drug.upper()
    return given.fillna(False).astype(bool)


def format_eosstt(decod: pd.Series) -> pd.Series:
    """End-of-treatment or end-of-study status from DSDECOD, as admiral's template derives
    EOSSTT with its `format_eosstt`: COMPLETED, else DISCONTINUED (a missing DSDECOD too);
    ONGOING, for a patient without the DS record, is the merge's missing value."""
    completed = (text_or_null(decod) == "COMPLETED").fillna(False).astype(bool)
    return pd.Series(np.where(completed, "COMPLETED", "DISCONTINUED"), index=decod.index, dtype="string")


def alive_events(sdtm: Mapping[str, pd.DataFrame]) -> list[d.Event]:
    """One LSTALVDT event per collected date of ALIVE_DATES: its date as ALIVE_DATE."""
    events = []
    for domain, dtc in ALIVE_DATES:
        dated = d.derive_vars_dt(sdtm[domain], dtc=dtc, new_var=ALIVE_DATE, date_imputation="first")
        alive = dated[ALIVE_DATE].notna()
        if domain == "DS":
            alive &= (text_or_null(dated["DSDECOD"]) != DEATH).fillna(True).astype(bool)
        events.append(d.Event(dataset=dated, condition=alive, set_values_to={"LSTALVDT": ALIVE_DATE}))
    return events


def death_cause_events(sdtm: Mapping[str, pd.DataFrame]) -> list[d.Event]:
    """admiral's DTHCAUS events, in priority order: the fatal AE (AEOUT = FATAL; the first by
    AESEQ when there are several) gives its AEDECOD, else the DS end-of-participation death
    record its DSTERM; DTHDOM names the domain. Only a patient who died (DM.DTHFL = Y) has a
    cause of death: a fatal AE of a patient not recorded as dead is a data error SDTM rule
    SD5026 reports, not a death."""
    dm, ae = sdtm["DM"], sdtm["AE"]
    died = dm.loc[(text_or_null(dm["DTHFL"]) == "Y").fillna(False).astype(bool), "USUBJID"]
    fatal = (text_or_null(ae["AEOUT"]) == FATAL).fillna(False).astype(bool) & ae["USUBJID"].isin(died)
    return [
        d.Event(
            dataset=ae,
            condition=fatal,
            set_values_to={"DTHCAUS": "AEDECOD", "DTHSEQ": "AESEQ"},
            constants={"DTHDOM": "AE"},
        ),
        d.Event(
            dataset=sdtm["DS"],
            condition={**END_OF_STUDY, "DSDECOD": DEATH},
            set_values_to={"DTHCAUS": "DSTERM", "DTHSEQ": "DSSEQ"},
            constants={"DTHDOM": "DS"},
        ),
    ]


def build_adsl(study: StudySpec, sdtm: Mapping[str, pd.DataFrame], ex: pd.DataFrame) -> pd.DataFrame:
    """ADSL in spec order; dates as datetime64 (written as SAS dates with DATE9.). `ex` is
    `exposure` of SDTM EX, derived once for ADSL and ADAE."""
    spec = study.dataset("ADSL")
    parameters = study.parameters
    drug = str(parameters["reference_drug"])
    age_groups = spec.variable("AGEGR1").value
    treatment_codes = {  # the sponsor codelist of TRT01PN: decode = the arm, value = its code
        term.decode: int(term.value) for term in study.terminology.codelist(spec.variable("TRT01PN").codelist).terms
    }
    dm = sdtm["DM"]
    dosed, dosed_with_drug = administered(ex), administered(ex, drug)
    in_planned_unit = (text_or_null(ex["EXDOSU"]) == str(parameters["reference_drug_dose_unit"])).fillna(False)
    mh = d.derive_vars_dt(sdtm["MH"], dtc="MHSTDTC", new_var="MHSTDT", flag_var="MHSTDTF", date_imputation="first")
    ds = d.derive_vars_dt(sdtm["DS"], dtc="DSSTDTC", new_var="DSSTDT")
    decod = text_or_null(ds["DSDECOD"])
    ds = ds.assign(DSSTAT=format_eosstt(decod), DSREAS=decod.where(decod != "COMPLETED"))

    adsl = d.derive_vars_predecessor(dm, predecessors=predecessors(spec), sources={"DM": dm})
    adsl = d.derive_vars_group(
        adsl,
        source="AGE",
        breaks=tuple(age_groups["breaks"]),  # the paper's groups, as the spec gives them
        labels=tuple(age_groups["labels"]),
        new_var="AGEGR1",
        new_var_n="AGEGR1N",
    )
    adsl = d.derive_var_code(adsl, source="TRT01P", codes=treatment_codes, new_var="TRT01PN")
    adsl = d.derive_var_code(adsl, source="TRT01A", codes=treatment_codes, new_var="TRT01AN")
    # The regimen: first and last exposure to any study drug, as DM's reference dates.
    adsl = d.derive_vars_dt(adsl, dtc="RFXSTDTC", new_var="TRTSDT")
    adsl = d.derive_vars_dt(adsl, dtc="RFXENDTC", new_var="TRTEDT")
    adsl = d.derive_var_trtdurd(adsl)
    adsl = d.derive_vars_merged(
        adsl,
        ex,
        by_vars=BY,
        new_vars={"ISASDT": "EXSTDT"},
        filter_add=dosed_with_drug,
        order=["EXSTDT"],
        mode="first",
    )
    adsl = d.derive_var_merged_exist_flag(
        adsl, ex, by_vars=BY, new_var="SAFFL", condition=dosed, false_value="N", missing_value="N"
    )
    for domain, testcd, new_var in BASELINES:
        adsl = d.derive_vars_merged(
            adsl,
            sdtm[domain],
            by_vars=BY,
            new_vars={new_var: f"{domain}STRESN"},
            filter_add={f"{domain}TESTCD": testcd, f"{domain}LOBXFL": "Y"},
            mode="last",
        )
    adsl = d.derive_vars_merged(
        adsl,
        mh,
        by_vars=BY,
        new_vars={"DIAGDT": "MHSTDT", "DIAGDTF": "MHSTDTF"},
        filter_add=dict(spec.variable("DIAGDT").value["filter_add"]),  # which MH record is the diagnosis
        order=["MHSTDT"],
        mode="first",
    )
    adsl = d.derive_vars_dt(adsl, dtc="RFICDTC", new_var="RFICDT")
    adsl = d.derive_vars_duration(
        adsl, new_var="DIAGYRS", start_date="DIAGDT", end_date="RFICDT", out_unit="years", add_one=False
    )
    for testcd, new_var, result in SC_RESULTS:
        adsl = d.derive_vars_merged(
            adsl, sdtm["SC"], by_vars=BY, new_vars={new_var: result}, filter_add={"SCTESTCD": testcd}, mode="last"
        )
    for category, treatment, new_var in PRESPECIFIED_MEDICATIONS:
        adsl = d.derive_vars_merged(
            adsl,
            sdtm["CM"],
            by_vars=BY,
            new_vars={new_var: "CMOCCUR"},
            filter_add={"CMCAT": category, "CMTRT": treatment},
            mode="last",
        )
    # Exposure to isatuximab: cycles, cumulative dose, planned dose to its last administration.
    adsl = d.derive_vars_merged_summary(
        adsl,
        ex,
        by_vars=BY,
        new_vars={"ISACYCN": ("EXCYCLE", "nunique")},
        filter_add=dosed_with_drug,
        missing_values={"ISACYCN": 0},
    )
    adsl = d.derive_vars_merged_summary(
        adsl,
        ex,
        by_vars=BY,
        new_vars={"CUMDOSE": ("EXDOSE", "sum")},
        filter_add=dosed_with_drug & in_planned_unit,
        missing_values={"CUMDOSE": 0},
    )
    adsl = d.derive_vars_merged(
        adsl,
        ex,
        by_vars=BY,
        new_vars={LAST_CYCLE: "EXCYCLE", LAST_CYCLE_DAY: "EXCYCDAY"},
        filter_add=dosed_with_drug,
        order=["EXCYCLE", "EXCYCDAY", "EXSTDT"],
        mode="last",
    )
    adsl = d.derive_var_planned_dose(
        adsl,
        cycle=LAST_CYCLE,
        day=LAST_CYCLE_DAY,
        dose=float(parameters["reference_drug_dose"]),
        first_cycle_days=parameters["reference_drug_days_cycle1"],
        later_cycle_days=parameters["reference_drug_days_later"],
        new_var="PCUMDOSE",
    )
    adsl = d.derive_var_percent(adsl, numerator="CUMDOSE", denominator="PCUMDOSE", new_var="RDI")
    adsl = d.derive_vars_merged(
        adsl,
        ds,
        by_vars=BY,
        new_vars={"EOTSTT": "DSSTAT", "EOTDT": "DSSTDT", "DCTREAS": "DSREAS"},
        filter_add=END_OF_TREATMENT,
        order=["DSSTDT"],
        mode="last",
        missing_values={"EOTSTT": "ONGOING"},
    )
    adsl = d.derive_vars_merged(
        adsl,
        ds,
        by_vars=BY,
        new_vars={"EOSSTT": "DSSTAT", "EOSDT": "DSSTDT", "DCSREAS": "DSREAS"},
        filter_add=END_OF_STUDY,
        order=["DSSTDT"],
        mode="last",
        missing_values={"EOSSTT": "ONGOING"},
    )
    adsl = d.derive_vars_dt(adsl, dtc="DTHDTC", new_var="DTHDT")
    adsl = d.derive_vars_extreme_event(
        adsl,
        by_vars=BY,
        events=death_cause_events(sdtm),
        new_vars=["DTHCAUS", "DTHDOM"],
        order=["EVENTNR", "DTHSEQ"],
        mode="first",
    )
    adsl = d.derive_vars_extreme_event(
        adsl, by_vars=BY, events=alive_events(sdtm), new_vars=["LSTALVDT"], order=["LSTALVDT"], mode="last"
    )
    # The data cut-off of Figure 1 (admiral's DCUTDT), a working column for EOPDT.
    adsl = d.derive_vars_dt(adsl.assign(DCUTDTC=str(parameters["figure_cutoff"])), dtc="DCUTDTC", new_var="DCUTDT")
    adsl = d.derive_var_conditional(
        adsl,
        new_var="EOPDT",
        condition={"EOTSTT": "DISCONTINUED"},
        true_var="EOTDT",
        false_var="DCUTDT",
        filter=lambda frame: frame["TRTSDT"].notna(),
    )
    return shape_to_spec(adsl, spec)
