"""A CDISC CORE rule as data: what `rule.yml` says, parsed once at load time.

A CORE rule is never run as code: its `Check` tree names CORE's check operators, which
`cdisc_cup.rules.core.operators` implements as column operations; its `Operations` block is
evaluated by `cdisc_cup.rules.core.operations`. A rule that needs something not available
offline (CDISC Library metadata, MedDRA, WHODrug, JSONata, an operator we do not have) is a
`NotRunnable` with the reason, so the report lists it instead of the run crashing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# The `--rules` value that stands for our own catalogue (the spec folder's rules, else the
# shipped ones), so `--rules cdisc-cup --rules core-rules/Published` runs both.
OUR_RULES = "cdisc-cup"


class NotRunnableError(Exception):
    """Raised where a rule turns out to need something we cannot do offline; `reason` says what."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Scope:
    """CORE's `Scope`: which datasets a rule applies to (empty include = all)."""

    classes_include: tuple[str, ...] = ()
    classes_exclude: tuple[str, ...] = ()
    domains_include: tuple[str, ...] = ()
    domains_exclude: tuple[str, ...] = ()


@dataclass(frozen=True)
class Citation:
    """One authority reference: e.g. CDISC SDTMIG 3.4 CG0530, section 5.2."""

    organization: str
    standard: str
    version: str
    rule_identifier: str
    section: str = ""
    document: str = ""

    def __str__(self) -> str:
        text = f"{self.organization} {self.standard} {self.version} {self.rule_identifier}".strip()
        return f"{text}, section {self.section}" if self.section else text


@dataclass(frozen=True)
class MatchDataset:
    """One `Match Datasets` entry: a dataset merged into the frame by its keys (a name, or a
    Left/Right mapping); `child`: the checked dataset is a relationship dataset (SUPP--, CO,
    RELREC) whose records each get the parent record they point at; `join_type` inner or left."""

    name: str
    keys: tuple[Any, ...]
    is_relationship: bool = False
    wildcard: str | None = None
    child: bool = False
    join_type: str = "inner"


@dataclass(frozen=True)
class CoreRule:
    """One CORE rule, as published in `rule.yml`."""

    rule_id: str  # CORE-000192
    description: str
    message: str
    output_variables: tuple[str, ...]
    rule_type: str  # "Record Data", "Dataset Metadata Check", ...
    sensitivity: str  # "Record" | "Dataset"
    scope: Scope
    check: Mapping[str, Any]  # the Check tree as published (all/any/not of operator leaves)
    operations: tuple[Mapping[str, Any], ...] = ()
    match_datasets: tuple[MatchDataset, ...] = ()
    citations: tuple[Citation, ...] = ()
    executability: str = ""
    severity: str = "Error"
    source: Path | None = None

    @property
    def authority(self) -> str:
        """The citations as one line for the report ("CDISC SDTMIG 3.4 CG0530, section 5.2")."""
        return "; ".join(dict.fromkeys(str(c) for c in self.citations))


@dataclass(frozen=True)
class NotRunnable:
    """A CORE rule we load but cannot run offline, with why (listed in the report)."""

    rule_id: str
    reason: str
    rule_type: str = ""
    message: str = ""
    source: Path | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
