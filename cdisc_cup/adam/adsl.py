"""ADSL, one record per subject, from SDTM only: read it top to bottom as the derivation chain.

Source datasets: DM (the base, one record per registered patient), EX, DS, VS, RS, MH, SC.
Every step is a named derivation of `cdisc_cup.adam.derivations` that the spec
(`specs/adam/adsl.yaml`) names in its `derivation:` entries.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from cdisc_cup.adam import derivations as d
from cdisc_cup.adam.spec import conform, predecessors
from cdisc_cup.spec.model import StudySpec

SC_RESULTS = (  # (SCTESTCD, ADSL variable, numeric?)
    ("NPRLINES", "PRLINES", True),
    ("PRIORPI", "PRPIFL", False),
    ("PRIORLEN", "PRLENFL", False),
    ("PRIORPOM", "PRPOMFL", False),
    ("PRICD38", "PRCD38FL", False),
    ("CONMEDBL", "CMBLFL", False),
    ("CONDISBL", "CDBLFL", False),
)


def build_adsl(study: StudySpec, sdtm: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """ADSL in spec order; dates as datetime64 (written as SAS dates with DATE9.)."""
    spec = study.dataset("ADSL")
    parameters = study.parameters
    treatment = str(parameters["reference_drug"])
    dm, ex = sdtm["DM"], sdtm["EX"]

    adsl = d.derive_vars_predecessor(dm, predecessors=predecessors(spec), sources={"DM": dm})
    adsl = d.derive_var_agegr1(adsl)
    adsl = d.derive_var_trtsdt(adsl, ex, treatment=treatment)
    adsl = d.derive_var_trtedt(adsl)
    adsl = d.derive_var_trtdurd(adsl)
    adsl = d.derive_var_saffl(adsl, ex)
    adsl = d.derive_var_baseline(adsl, sdtm["VS"], domain="VS", testcd="WEIGHT", new_var="WEIGHTBL")
    adsl = d.derive_var_baseline(adsl, sdtm["VS"], domain="VS", testcd="HEIGHT", new_var="HEIGHTBL")
    adsl = d.derive_var_baseline(adsl, sdtm["RS"], domain="RS", testcd="ECOG101", new_var="ECOGBL")
    adsl = d.derive_var_diagdt(adsl, sdtm["MH"])
    adsl = d.derive_var_diagyrs(adsl)
    for testcd, new_var, numeric in SC_RESULTS:
        adsl = d.derive_var_sc_result(adsl, sdtm["SC"], testcd=testcd, new_var=new_var, numeric=numeric)
    adsl = d.derive_var_cycles_received(adsl, ex, treatment=treatment)
    adsl = d.derive_vars_disposition(adsl, sdtm["DS"])
    adsl = d.derive_var_dthdt(adsl)
    adsl = d.derive_var_eopdt(adsl, cutoff=str(parameters["figure_cutoff"]))
    return conform(adsl, spec)
