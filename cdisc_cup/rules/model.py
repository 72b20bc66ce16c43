"""The rule model and the view of a study the rules run on.

A rule is data (loaded from `specs/rules/*.yaml`); its check names one operator of the
catalogue in `cdisc_cup.rules.operators` with its parameters. Datasets are the shared
`cdisc_cup.xpt.model.Dataset`, so the engine works the same on files read from disk and on
frames the pipeline has just built in memory.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from cdisc_cup import ct
from cdisc_cup.define.model import DefineModel
from cdisc_cup.define.references import LinkedDocument
from cdisc_cup.findings import Severity
from cdisc_cup.rules.igmeta import latest
from cdisc_cup.xpt.model import Dataset

# Standards a rule may name, and which kind of study they apply to.
STANDARD_SCOPES: dict[str, tuple[str, ...]] = {
    "SDTMIG 3.4": ("sdtm",),
    "ADaMIG 1.3": ("adam",),
    "CDISC CT": ("sdtm", "adam"),
    "SAS XPORT v5": ("sdtm", "adam"),
    "Define-XML 2.1": ("sdtm", "adam"),
    "CUP": ("sdtm", "adam"),
}

RULE_FAMILIES = {
    "XP": "SAS XPORT file and technical rules",
    "SD": "SDTM rules",
    "CT": "Controlled terminology rules",
    "AD": "ADaM rules",
    "DX": "Define-XML rules",
    "CU": "Sponsor rules of the compassionate use program",
}


class NotApplicable(Exception):
    """Raised by an operator when the data lack what the rule is about (no AEENDTC, no DM).

    A missing required variable is reported by its own rule; every other rule is then
    simply not applicable instead of failing.
    """


@dataclass(frozen=True)
class Check:
    operator: str
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Rule:
    rule_id: str
    title: str
    standard: str
    severity: Severity
    datasets: tuple[str, ...]
    message: str
    rationale: str
    check: Check
    classes: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    refs: tuple[str, ...] = ()
    p21: tuple[str, ...] = ()  # Pinnacle 21 rule IDs of the same check
    core: tuple[str, ...] = ()  # CDISC CORE rule IDs of the same check
    level: str = "dataset"  # "dataset": runs once per matching dataset; "study": once per run
    study: str | None = None  # a study's own rule (sponsor rule): applies only to data of this STUDYID
    versions: tuple[str, ...] = ()  # the IG versions the rule applies to (e.g. ARMNRS exists from 3.3); () = all
    source: Path | None = None

    @property
    def family(self) -> str:
        return self.rule_id[:2]

    @property
    def scopes(self) -> tuple[str, ...]:
        return STANDARD_SCOPES[self.standard]

    def to_dict(self) -> dict[str, Any]:
        """The rule as `cdisc-cup rules --json` prints it."""
        return {
            "rule_id": self.rule_id,
            "title": self.title,
            "severity": str(self.severity),
            "standard": self.standard,
            "datasets": list(self.datasets),
            "classes": list(self.classes),
            "exclude": list(self.exclude),
            "message": self.message,
            "rationale": self.rationale,
            "refs": list(self.refs),
            "p21": list(self.p21),
            "core": list(self.core),
            "study": self.study,
            "versions": list(self.versions),
            "operator": self.check.operator,
            "params": dict(self.check.params),
        }


@dataclass(frozen=True)
class Study:
    """Everything one validation run sees: the datasets, the standard and define.xml.

    `define` is the model of the folder's define.xml, read once (by `validate`) or taken from
    the document just built (by `convert`); the DX and CT rules read it, never the file."""

    datasets: Mapping[str, Dataset]
    standards: Mapping[str, str]  # dataset name -> "sdtm" | "adam"
    define: DefineModel | None = None
    unreadable: Mapping[str, str] = field(default_factory=dict)  # file name -> why it cannot be read
    ig_versions: Mapping[str, str] = field(default_factory=dict)  # "sdtm" -> "3.3"; missing: the latest
    terminology: ct.Terminology = field(default_factory=ct.terminology)  # the CT packages values are checked with
    # The documents define.xml links to, by href, as the folder reading found them (None: not
    # looked at, so the link rules are not applicable).
    documents: Mapping[str, LinkedDocument] | None = None

    def standard_of(self, dataset: Dataset) -> str:
        return self.standards.get(dataset.name, "sdtm")

    def ig_version_of(self, dataset: Dataset) -> str:
        standard = self.standard_of(dataset)
        return self.ig_versions.get(standard) or latest(standard)

    @cached_property
    def studyids(self) -> frozenset[str]:
        """The STUDYID values of the datasets (a sponsor rule applies only to its own study)."""
        found: set[str] = set()
        for view in self.datasets.values():
            if "STUDYID" in view.frame.columns:
                distinct = pd.Series(view.frame["STUDYID"].unique())  # one per study, of millions of records
                values = distinct.astype("string").str.strip().dropna().unique()
                found.update(str(v) for v in values if v)
        return frozenset(found)
