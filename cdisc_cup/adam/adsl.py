"""ADSL, one record per subject, from SDTM only: read it top to bottom as the derivation chain.

Source datasets: DM (the base, one record per registered patient), EX, DS, VS, RS, MH, SC, CM.
Every step is a generic verb of `cdisc_cup.adam.derivations` that the spec
(`specs/adam/adsl.yaml`) names in its `derivation:` entries; what is particular to this study
(the reference drug, how a cycle is read off VISITNUM, test codes, age groups, the Figure 1
cut-off) is chosen here or in the `parameters:` of `specs/study.yaml`, as admiral's template
`ad_adsl.R` keeps its filters at the call site.
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
AGE_BREAKS = (65, 75)
AGE_LABELS = ("<65", "65-74", ">=75")

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


def exposure(ex: pd.DataFrame, *, visitnum_cycle_divisor: int) -> pd.DataFrame:
    """EX with the two values ADSL and ADAE select on: EXSTDT (the complete start date) and
    EXCYCLE, the treatment cycle, VISITNUM integer-divided by the study's divisor (the SDTM
    spec numbers visits 100 x cycle + day)."""
    ex = d.derive_vars_dt(ex, dtc="EXSTDTC", new_var="EXSTDT")
    cycle = pd.to_numeric(ex["VISITNUM"], errors="coerce") // visitnum_cycle_divisor
    return ex.assign(EXCYCLE=cycle.astype("Int64"))


def administered(ex: pd.DataFrame, drug: str | None = None) -> pd.Series:
    """EX records of an administration that happened (EXDOSE > 0), of `drug` (EXTRT, any
    case) or of any study drug: admiral's `filter_add = EXDOSE > 0 & ...` of `ad_adsl.R`."""
    given = pd.to_numeric(ex["EXDOSE"], errors="coerce") > 0
    if drug is not None:
        given &= text_or_null(ex["EXTRT"]).str.upper() == drug.upper()
    return given.fillna(False).astype(bool)


def format_eotstt(decod: pd.Series) -> pd.Series:
    """End-of-treatment status from DSDECOD, as admiral's template derives EOSSTT with its
    `format_eosstt`: COMPLETED, else DISCONTINUED (a missing DSDECOD too)."""
    completed = (text_or_null(decod) == "COMPLETED").fillna(False).astype(bool)
    return pd.Series(np.where(completed, "COMPLETED", "DISCONTINUED"), index=decod.index, dtype="string")


def build_adsl(study: StudySpec, sdtm: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """ADSL in spec order; dates as datetime64 (written as SAS dates with DATE9.)."""
    spec = study.dataset("ADSL")
    parameters = study.parameters
    drug = str(parameters["reference_drug"])
    dm = sdtm["DM"]
    ex = exposure(sdtm["EX"], visitnum_cycle_divisor=int(parameters["visitnum_cycle_divisor"]))
    dosed, dosed_with_drug = administered(ex), administered(ex, drug)
    mh = d.derive_vars_dt(sdtm["MH"], dtc="MHSTDTC", new_var="MHSTDT", flag_var="MHSTDTF", date_imputation="first")
    ds = d.derive_vars_dt(sdtm["DS"], dtc="DSSTDTC", new_var="DSSTDT")
    decod = text_or_null(ds["DSDECOD"])
    ds = ds.assign(EOTSTT=format_eotstt(decod), DCTREAS=decod.where(decod != "COMPLETED"))

    adsl = d.derive_vars_predecessor(dm, predecessors=predecessors(spec), sources={"DM": dm})
    adsl = d.derive_vars_group(
        adsl, source="AGE", breaks=AGE_BREAKS, labels=AGE_LABELS, new_var="AGEGR1", new_var_n="AGEGR1N"
    )
    adsl = d.derive_vars_merged(
        adsl,
        ex,
        by_vars=BY,
        new_vars={"TRTSDT": "EXSTDT"},
        filter_add=dosed_with_drug,
        order=["EXSTDT"],
        mode="first",
    )
    adsl = d.derive_vars_dt(adsl, dtc="RFXENDTC", new_var="TRTEDT")  # last exposure to any study drug
    adsl = d.derive_var_trtdurd(adsl)
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
        filter_add={"MHCAT": "PRIMARY DIAGNOSIS"},
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
    adsl = d.derive_vars_merged_summary(
        adsl,
        ex,
        by_vars=BY,
        new_vars={"ISACYCN": ("EXCYCLE", "nunique")},
        filter_add=dosed_with_drug,
        missing_values={"ISACYCN": 0},
    )
    # In the CUP the end of treatment is the end of participation: EOS* repeat EOT*.
    adsl = d.derive_vars_merged(
        adsl,
        ds,
        by_vars=BY,
        new_vars={
            "EOTSTT": "EOTSTT",
            "EOTDT": "DSSTDT",
            "DCTREAS": "DCTREAS",
            "EOSSTT": "EOTSTT",
            "DCSREAS": "DCTREAS",
        },
        filter_add=END_OF_TREATMENT,
        order=["DSSTDT"],
        mode="last",
        missing_values={"EOTSTT": "ONGOING", "EOSSTT": "ONGOING"},
    )
    adsl = d.derive_vars_dt(adsl, dtc="DTHDTC", new_var="DTHDT")
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
