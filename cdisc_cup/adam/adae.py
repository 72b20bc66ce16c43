"""ADAE (ADaM OCCDS, subclass ADVERSE EVENT) from SDTM AE, SUPPAE, EX and ADSL.

One record per AE record, events before the first dose included (flagged PREFL, not
TRTEMFL). Read top to bottom as the derivation chain named in `specs/adam/adae.yaml`.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from cdisc_cup.adam import derivations as d
from cdisc_cup.adam.dates import complete_date
from cdisc_cup.adam.spec import conform, predecessors
from cdisc_cup.spec.model import StudySpec

# Working columns (not in the spec, dropped by `conform`): the first dose of any study drug
# and the end of participation as dates, from ADSL's copies of DM.RFXSTDTC / DM.RFPENDTC.
FIRST_DOSE = "RFXSTDT"
END_OF_PARTICIPATION = "RFPENDT"


def build_adae(study: StudySpec, sdtm: Mapping[str, pd.DataFrame], adsl: pd.DataFrame) -> pd.DataFrame:
    """ADAE in spec order; ADSL must be the frame `build_adsl` returned."""
    spec = study.dataset("ADAE")
    parameters = study.parameters
    ae = sdtm["AE"]
    subject_dates = pd.DataFrame(
        {
            "USUBJID": adsl["USUBJID"],
            FIRST_DOSE: complete_date(adsl["RFXSTDTC"]),
            END_OF_PARTICIPATION: complete_date(adsl["RFPENDTC"]),
            "DTHDT": adsl["DTHDT"],
        }
    )

    qnams = [ref.split(".", 1)[1] for ref in predecessors(spec).values() if ref.startswith("SUPPAE.")]
    adae = d.derive_vars_suppqual(ae, sdtm.get("SUPPAE", _empty_supp()), qnams=[*qnams, "AESI"])
    adae = d.derive_vars_predecessor(
        adae, predecessors=predecessors(spec), sources={"AE": adae, "SUPPAE": adae, "ADSL": adsl}
    )
    adae = adae.merge(subject_dates, on="USUBJID", how="left", validate="m:1")
    adae = d.derive_vars_astdt(adae, first_dose=FIRST_DOSE)
    adae = d.derive_vars_aendt(adae, caps=("DTHDT", END_OF_PARTICIPATION))
    adae = d.derive_var_relative_day(adae, date="ASTDT", new_var="ASTDY")
    adae = d.derive_var_relative_day(adae, date="AENDT", new_var="AENDY")
    adae = d.derive_var_trtemfl(adae, first_dose=FIRST_DOSE, window_days=int(parameters["teae_window_days"]))
    adae = d.derive_var_prefl(adae, first_dose=FIRST_DOSE)
    adae = d.derive_vars_cycle(adae, sdtm["EX"], treatment=str(parameters["reference_drug"]))
    adae = d.derive_vars_atoxgr(adae)
    adae = d.derive_var_arel(adae)
    adae = d.derive_var_suppae_flag(adae, qnam="AESI", new_var="AESIFL")
    adae = d.derive_var_discontinuation_flag(adae)
    adae = d.derive_var_occurrence_flag(adae, by_vars=[], new_var="AOCCFL")
    adae = d.derive_var_occurrence_flag(adae, by_vars=["AEBODSYS"], new_var="AOCCSFL")
    adae = d.derive_var_occurrence_flag(adae, by_vars=["AEBODSYS", "AEDECOD"], new_var="AOCCPFL")
    adae = adae.sort_values(["USUBJID", "AESEQ"], kind="stable")
    return conform(adae, spec)


def _empty_supp() -> pd.DataFrame:
    """A study without SUPPAE still gets its QNAM columns (all null)."""
    return pd.DataFrame(columns=["USUBJID", "IDVAR", "IDVARVAL", "QNAM", "QVAL"])
