"""ADaM stage: ADSL and ADAE derived from the SDTM datasets (never from raw files).

`derive_adam` is the pipeline's entry point; `adsl.py` and `adae.py` read as the chain of
named derivations (`derivations.CATALOGUE`) that the ADaM specs describe.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from cdisc_cup.adam.adae import build_adae
from cdisc_cup.adam.adsl import build_adsl, exposure
from cdisc_cup.adam.derivations import CATALOGUE
from cdisc_cup.spec.model import StudySpec

__all__ = ["CATALOGUE", "build_adae", "build_adsl", "derive_adam"]


def derive_adam(study: StudySpec, sdtm: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """{"ADSL": ..., "ADAE": ...}, each with the spec's variables in spec order."""
    # EX with cycle, day and start date, derived once: both datasets select on it.
    ex = exposure(sdtm["EX"], visitnum_cycle_divisor=int(study.parameters["visitnum_cycle_divisor"]))
    adsl = build_adsl(study, sdtm, ex)
    return {"ADSL": adsl, "ADAE": build_adae(study, sdtm, adsl, ex)}
