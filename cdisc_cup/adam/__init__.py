"""ADaM stage: the analysis datasets derived from the SDTM datasets (never from raw files).

`derive_adam` is the pipeline's entry point: it runs each ADaM spec's `derivations:` chain
(`engine.py`) of the named verbs of `derivations.CATALOGUE`, so the CUP and any other study
share every line of code and differ only in their specs.
"""

from __future__ import annotations

from cdisc_cup.adam.derivations import CATALOGUE
from cdisc_cup.adam.engine import AdamInputError, check_steps, derive_adam

__all__ = ["CATALOGUE", "AdamInputError", "check_steps", "derive_adam"]
