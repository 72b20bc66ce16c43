"""Run CORE rules on a study (placeholder; filled in below)."""

from __future__ import annotations

from cdisc_cup.rules.core.model import CoreRule
from cdisc_cup.rules.model import Study
from cdisc_cup.xpt.model import Dataset


def datasets_in_scope(rule: CoreRule, study: Study) -> list[Dataset]:
    """The study's datasets the rule's Scope (Classes, Domains include/exclude) applies to."""
    return list(study.datasets.values())
