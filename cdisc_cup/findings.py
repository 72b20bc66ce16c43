"""Conformance findings are data, not exceptions.

A validation run gives a `Validation`: what was checked (`RunInfo`), the rule catalogue as
run (`RULE_COLUMNS`), the execution status of every rule on every dataset (`RULE_RUN_COLUMNS`,
as CDISC CORE reports its execution status), the datasets checked (`DATASET_COLUMNS`) and the
findings themselves (`FINDING_COLUMNS`). Tables are DataFrames so that rules can emit
hundreds of thousands of findings column-wise; the reports (`cdisc_cup.reports.findings`)
only read this value, they never load rules or data themselves.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

import pandas as pd


class Severity(StrEnum):
    ERROR = "Error"
    WARNING = "Warning"
    NOTICE = "Notice"

    @property
    def rank(self) -> int:
        return {"Error": 3, "Warning": 2, "Notice": 1}[self.value]


class RuleStatus(StrEnum):
    """What happened when a rule met a dataset (CORE: execution status)."""

    RAN = "ran"  # the rule was evaluated; it may have found nothing
    NOT_APPLICABLE = "not applicable"  # the data lack what the rule is about (the reason says what)
    FAILED = "failed"  # the rule could not be evaluated (the reason holds the error); not a finding


# One row per finding: `row` is the 1-based record number in the dataset (None for findings
# about a dataset or its metadata).
FINDING_COLUMNS = ["rule_id", "severity", "dataset", "variable", "row", "usubjid", "value", "message"]
# One row per rule and dataset it was tried on (dataset "" for a rule run once per study, or
# for a rule that met no dataset at all).
RULE_RUN_COLUMNS = ["rule_id", "dataset", "status", "findings", "reason"]
# The catalogue as run: what a reviewer needs to read a finding (refs joined by "; ").
RULE_COLUMNS = ["rule_id", "title", "severity", "standard", "rationale", "references", "p21", "core"]
# One row per dataset checked.
DATASET_COLUMNS = ["dataset", "label", "standard", "records", "variables", "file"]
# The sponsor's explanations of findings left in the data (the spec's explanations.yaml): an
# entry explains the findings of its rule, in its dataset and about its variable when it names
# them (null: any).
EXPLANATION_COLUMNS = ["rule_id", "dataset", "variable", "explanation"]
# The dataset of a finding about the whole study as CDISC CORE reports it (a Domain Presence
# Check: "TT dataset is present"); CORE's rules are SDTMIG rules, so it is an SDTM finding.
STUDY = "STUDY"


@dataclass(frozen=True)
class RunInfo:
    """What a reviewer files with a report: which tool and rules checked what, when."""

    tool: str
    version: str
    rule_set: str  # e.g. "cdisc-cup 0.1.0 rules (89 rules)"
    standards: tuple[str, ...]  # e.g. ("SDTMIG 3.4", "ADaMIG 1.3")
    terminology: tuple[str, ...]  # e.g. ("SDTM CT 2015-12-18",)
    input: str  # the folder as the user named it
    created: str  # ISO 8601 date and time of the run
    command: str = ""
    study: str = ""
    notes: tuple[str, ...] = ()  # how a standard version or CT package was chosen, when not as declared

    def to_dict(self) -> dict[str, object]:
        return {
            "tool": self.tool,
            "version": self.version,
            "rule_set": self.rule_set,
            "standards": list(self.standards),
            "terminology": list(self.terminology),
            "input": self.input,
            "created": self.created,
            "command": self.command,
            "study": self.study,
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class Validation:
    """The whole result of one validation run, as the reports show it."""

    run: RunInfo
    findings: pd.DataFrame  # FINDING_COLUMNS
    rule_runs: pd.DataFrame  # RULE_RUN_COLUMNS
    rules: pd.DataFrame  # RULE_COLUMNS
    datasets: pd.DataFrame  # DATASET_COLUMNS
    # The sponsor's explanations of the checked study (EXPLANATION_COLUMNS); none when the
    # specs are not the study's.
    explanations: pd.DataFrame = field(default_factory=lambda: empty_table(EXPLANATION_COLUMNS))


class Explanation(Protocol):
    """An entry of the spec's explanations.yaml (spec.model.FindingExplanation)."""

    rule: str
    dataset: str | None
    variable: str | None
    explanation: str


def explanation_table(entries: Iterable[Explanation]) -> pd.DataFrame:
    """The explanations as a table (EXPLANATION_COLUMNS), in the order given."""
    rows = [(e.rule, e.dataset, e.variable, e.explanation) for e in entries]
    return pd.DataFrame(rows, columns=EXPLANATION_COLUMNS, dtype="object")


def explanations_of(findings: pd.DataFrame, explanations: pd.DataFrame) -> pd.Series:
    """Each finding's explanation, "" where none applies; the first entry that applies wins.

    An entry naming a variable explains a finding about it, also one of CORE's findings that
    name several ("AEBODSYS, AEBDSYCD"). Worked out once per distinct rule, dataset and
    variable (a few hundred, where a 100,000-patient study has 240,000 findings), then
    spread back to the findings."""
    where = findings[["rule_id", "dataset", "variable"]].astype("string").fillna("").reset_index(drop=True)
    if where.empty or explanations.empty:
        return pd.Series("", index=findings.index, dtype="object")
    codes = where.groupby(list(where.columns), sort=False).ngroup().to_numpy()
    distinct = where.drop_duplicates().reset_index(drop=True)
    return pd.Series(_explained(distinct, explanations).to_numpy()[codes], index=findings.index, dtype="object")


def _explained(where: pd.DataFrame, explanations: pd.DataFrame) -> pd.Series:
    """The explanation of each row of (rule_id, dataset, variable): one vectorised pass per
    entry of explanations.yaml (the entries are few)."""
    result = pd.Series("", index=where.index, dtype="object")
    named = where["variable"].str.split(r"\s*,\s*", regex=True).explode()
    entries = explanations.reindex(columns=EXPLANATION_COLUMNS)
    for rule_id, dataset, variable, text in zip(*(entries[c] for c in EXPLANATION_COLUMNS), strict=True):
        applies = where["rule_id"].eq(rule_id) & result.eq("")
        if isinstance(dataset, str) and dataset:
            applies &= where["dataset"].eq(dataset)
        if isinstance(variable, str) and variable:
            applies &= named.eq(variable).groupby(level=0).any()
        result = result.mask(applies, text)
    return result


def empty_findings() -> pd.DataFrame:
    """A findings table with no rows and the contract's columns."""
    return empty_table(FINDING_COLUMNS)


def empty_table(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({column: pd.Series(dtype="object") for column in columns})


def rule_statuses(rule_runs: pd.DataFrame) -> pd.DataFrame:
    """One row per rule: `status` (failed if it failed anywhere, else ran if it ran anywhere,
    else not applicable), `findings` (total), `datasets` (where it ran) and `reason` (why it
    did not run or failed, per dataset)."""
    if rule_runs.empty:
        return pd.DataFrame(columns=["rule_id", "status", "findings", "datasets", "reason"])
    runs = rule_runs.assign(findings=pd.to_numeric(rule_runs["findings"]).fillna(0).astype(int))
    ran = runs[runs["status"] == str(RuleStatus.RAN)]
    other = runs[runs["status"] != str(RuleStatus.RAN)]
    explained = other["reason"].astype("string").fillna("")
    labelled = other["dataset"].astype("string").fillna("")
    reasons = (labelled.where(labelled == "", labelled + ": ") + explained).groupby(other["rule_id"]).agg("; ".join)
    grouped = runs.groupby("rule_id", sort=True)
    status = grouped["status"].agg(
        lambda values: (
            str(RuleStatus.FAILED)
            if (values == str(RuleStatus.FAILED)).any()
            else str(RuleStatus.RAN)
            if (values == str(RuleStatus.RAN)).any()
            else str(RuleStatus.NOT_APPLICABLE)
        )
    )
    where = ran.groupby("rule_id")["dataset"].agg(lambda names: ", ".join(n for n in names if n))
    table = pd.DataFrame({"status": status, "findings": grouped["findings"].sum()})
    table["datasets"] = where.reindex(table.index).fillna("")
    table["reason"] = reasons.reindex(table.index).fillna("")
    return table.reset_index()
