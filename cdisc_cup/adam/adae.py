"""ADAE (ADaM OCCDS, subclass ADVERSE EVENT) from SDTM AE, SUPPAE, EX and ADSL.

One record per AE record, events before the first dose included (flagged PREFL, not
TRTEMFL). Read top to bottom as the derivation chain named in `specs/adam/adae.yaml`; the
study's choices (reference drug, cycle numbering, TEAE window) come from the `parameters:` of
`specs/study.yaml`, as in admiral's template `ad_adae.R`.

The treatment ADAE counts from is ADSL's one definition, the regimen: ASTDY is relative to
TRTSDT (first dose of any study drug), TRTEMFL runs from TRTSDT to 30 days after TRTEDT, and
the cycle of onset is the regimen's cycle. Only the last dose before onset (LDOSEDT, LDOSE) is
isatuximab's, the drug whose infusion reactions and relatedness the paper reports.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from cdisc_cup.adam import derivations as d
from cdisc_cup.adam.adsl import BY, administered
from cdisc_cup.adam.spec import predecessors, shape_to_spec
from cdisc_cup.spec.model import StudySpec

# Working columns (not in the spec, dropped by `conform`): the end of participation as a
# date, from ADSL's copy of DM.RFPENDTC; the complete end date as collected; the first
# administration of each cycle.
END_OF_PARTICIPATION = "RFPENDT"
COLLECTED_END = "AEENDTCD"
CYCLE_START = "CYCSTDT"

# ADaM OCCDS occurrence flags among the TEAEs, per subject, SOC and PT: the first in onset
# order (AOCC*FL) and the first of the worst grade (AOCC*IFL, OCCDS "1st Max Sev./Int."
# flags; admiral's occds vignette derives AOCCIFL from the toxicity grade the same way).
FIRST_IN_ONSET = ("ASTDT", "AESEQ")
WORST_GRADE_FIRST = (d.desc("ATOXGRN"), "ASTDT", "AESEQ")
OCCURRENCE_FLAGS = (  # (by variables besides USUBJID, order, flag)
    ((), FIRST_IN_ONSET, "AOCCFL"),
    (("AEBODSYS",), FIRST_IN_ONSET, "AOCCSFL"),
    (("AEBODSYS", "AEDECOD"), FIRST_IN_ONSET, "AOCCPFL"),
    ((), WORST_GRADE_FIRST, "AOCCIFL"),
    (("AEBODSYS",), WORST_GRADE_FIRST, "AOCCSIFL"),
    (("AEBODSYS", "AEDECOD"), WORST_GRADE_FIRST, "AOCCPIFL"),
)


def build_adae(
    study: StudySpec, sdtm: Mapping[str, pd.DataFrame], adsl: pd.DataFrame, ex: pd.DataFrame
) -> pd.DataFrame:
    """ADAE in spec order; ADSL must be the frame `build_adsl` returned, `ex` the `exposure`
    of SDTM EX it was built with."""
    spec = study.dataset("ADAE")
    parameters = study.parameters
    drug = str(parameters["reference_drug"])
    cycles = d.summarise(
        ex, by_vars=[*BY, "EXCYCLE"], new_vars={CYCLE_START: ("EXSTDT", "min")}, filter=administered(ex)
    )
    subject = d.derive_vars_dt(adsl, dtc="RFPENDTC", new_var=END_OF_PARTICIPATION)

    qnams = [ref.split(".", 1)[1] for ref in predecessors(spec).values() if ref.startswith("SUPPAE.")]
    adae = d.derive_vars_suppqual(sdtm["AE"], sdtm.get("SUPPAE", _empty_supp()), qnams=[*qnams, "AESI"])
    adae = d.derive_vars_predecessor(
        adae, predecessors=predecessors(spec), sources={"AE": adae, "SUPPAE": adae, "ADSL": adsl}
    )
    adae = d.derive_vars_merged(adae, subject, by_vars=BY, new_vars=[END_OF_PARTICIPATION, "DTHDT"])
    adae = d.derive_vars_dt(adae, dtc="AEENDTC", new_var=COLLECTED_END)
    adae = d.derive_vars_dt(
        adae,
        dtc="AESTDTC",
        new_var="ASTDT",
        flag_var="ASTDTF",
        date_imputation="first",
        min_dates=["TRTSDT"],
        not_after=[COLLECTED_END],
    )
    adae = d.derive_vars_dt(
        adae,
        dtc="AEENDTC",
        new_var="AENDT",
        flag_var="AENDTF",
        date_imputation="last",
        max_dates=["DTHDT", END_OF_PARTICIPATION],
    )
    adae = d.derive_var_relative_day(adae, date="ASTDT", new_var="ASTDY")
    adae = d.derive_var_relative_day(adae, date="AENDT", new_var="AENDY")
    adae = d.derive_vars_duration(adae, new_var="ADURN", new_var_unit="ADURU", start_date="ASTDT", end_date="AENDT")
    adae = d.derive_var_trtemfl(adae, window_days=int(parameters["teae_window_days"]))
    adae = d.derive_var_prefl(adae)
    adae = d.derive_vars_joined(
        adae,
        cycles,
        by_vars=BY,
        new_vars={"ACYCLEN": "EXCYCLE"},
        join_var="ASTDT",
        join_var_add=CYCLE_START,
        mode="last",
    )
    adae = d.derive_var_formatted(adae, source="ACYCLEN", new_var="ACYCLE", template="CYCLE {}")
    adae = d.derive_vars_joined(
        adae,
        ex,
        by_vars=BY,
        new_vars={"LDOSEDT": "EXSTDT", "LDOSE": "EXDOSE"},
        join_var="ASTDT",
        join_var_add="EXSTDT",
        filter_add=administered(ex, drug),
        mode="last",
    )
    adae = d.derive_vars_atoxgr(adae)
    adae = d.derive_var_copy(adae, source="AEREL", new_var="AREL", missing_value="RELATED")
    adae = d.derive_var_copy(adae, source="AESI", new_var="AESIFL")
    adae = d.derive_var_flag(adae, condition={"AEACN": "DRUG WITHDRAWN"}, new_var="AEDISFL")
    for by_vars, order, new_var in OCCURRENCE_FLAGS:
        adae = d.derive_var_extreme_flag(
            adae,
            by_vars=[*BY, *by_vars],
            order=order,
            new_var=new_var,
            mode="first",
            filter={"TRTEMFL": "Y"},
        )
    adae = adae.sort_values(["USUBJID", "AESEQ"], kind="stable")
    return shape_to_spec(adae, spec)


def _empty_supp() -> pd.DataFrame:
    """A study without SUPPAE still gets its QNAM columns (all null)."""
    return pd.DataFrame(columns=["USUBJID", "IDVAR", "IDVARVAL", "QNAM", "QVAL"])
