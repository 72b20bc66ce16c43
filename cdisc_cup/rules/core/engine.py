"""Run CORE rules on a study: scope, frames, operations, the check, and findings as CORE
reports them (one per record, or one per dataset where the rule's Sensitivity is Dataset).

Besides our findings table (FINDING_COLUMNS, one row per record) the run keeps CORE's own
result rows (`Dataset, Record, Variable, Value`, one per output variable), which is what
CORE's test cases (results/results.csv) list and what the parity harness compares.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from cdisc_cup.findings import FINDING_COLUMNS, RULE_COLUMNS, RULE_RUN_COLUMNS, RuleStatus, empty_table
from cdisc_cup.rules.core.check import evaluate, with_domain
from cdisc_cup.rules.core.frames import FrameNotBuilt, RuleFrame, rule_frames
from cdisc_cup.rules.core.identity import derived
from cdisc_cup.rules.core.model import CoreRule, NotRunnable, NotRunnableError
from cdisc_cup.rules.core.operations import apply_operations
from cdisc_cup.rules.core.operators import holds_lists, is_listy, numbers_as_text, object_ids
from cdisc_cup.rules.engine import dataset_class
from cdisc_cup.rules.model import NotApplicable, Study
from cdisc_cup.xpt.model import Dataset

# CORE's result rows, as results/results.csv lists them (Record: 1-based, "" per dataset).
RESULT_COLUMNS = ["rule_id", "dataset", "record", "variable", "value"]
NOT_IN_DATASET = "Not in dataset"
# How a rule-run's reason starts when the rule needs what is not available offline (the rule
# is not run), and when a dataset's frame could not be built (CORE skips the dataset).
NOT_RUN = "not run: "
NOT_CHECKED = "not run on this dataset: "
# FA holds findings about events or interventions: CORE's FINDINGS ABOUT class, within FINDINGS.
FINDINGS_ABOUT = frozenset({"FA", "SR"})
# Datasets CORE's test cases use that the SDTMIG 3.4 metadata we ship does not list: TX
# (Trial Sets, SENDIG 3.1 section 7.3) is a trial design dataset.
EXTRA_CLASSES = {"TX": "TRIAL DESIGN"}


@dataclass(frozen=True)
class CoreResults:
    """Findings, execution status per rule and dataset, and CORE's result rows."""

    findings: pd.DataFrame  # FINDING_COLUMNS
    rule_runs: pd.DataFrame  # RULE_RUN_COLUMNS
    results: pd.DataFrame  # RESULT_COLUMNS
    rules: pd.DataFrame  # RULE_COLUMNS: the CORE rules as run, with their citations


def dataset_classes(study: Study, dataset: Dataset) -> frozenset[str]:
    """The classes a dataset counts as in a CORE Scope (SDTMIG classes; FA also FINDINGS ABOUT)."""
    return derived(study, ("classes", dataset.name), lambda: _classes(study, dataset))


def _classes(study: Study, dataset: Dataset) -> frozenset[str]:
    found = EXTRA_CLASSES.get(dataset.name) or dataset_class(study, dataset)
    if found is None and dataset.name.startswith("AP") and len(dataset.name) == 4:
        # an associated-persons dataset (SDTMIG-AP 1.0 section 3) has the class of its domain
        found = dataset_class(study, replace(dataset, name=dataset.name[2:]))
    classes = {found.upper().replace("-", " ")} if found else set()
    if dataset.name[:2] in FINDINGS_ABOUT:
        classes |= {"FINDINGS ABOUT", "FINDINGS"}
    return frozenset(classes)


def _named(name: str, patterns: Sequence[str]) -> bool:
    return any(fnmatch.fnmatchcase(name, pattern.replace("--", "*")) for pattern in patterns)


def datasets_in_scope(rule: CoreRule, study: Study) -> list[Dataset]:
    """The study's datasets the rule's Scope (Classes, Domains include/exclude) applies to."""
    scope = rule.scope
    chosen = []
    for dataset in study.datasets.values():
        if scope.domains_include and not _named(dataset.name, scope.domains_include):
            continue
        if _named(dataset.name, scope.domains_exclude):
            continue
        classes = dataset_classes(study, dataset)
        if scope.classes_include and not classes & set(scope.classes_include):
            continue
        if classes & set(scope.classes_exclude):
            continue
        chosen.append(dataset)
    return chosen


def check_targets(node: Any) -> Iterator[str]:
    """The leaf names of a Check tree, in order (CORE's targets when a rule names no Output Variables)."""
    if isinstance(node, Mapping):
        for key in ("all", "any"):
            if key in node:
                for child in node[key]:
                    yield from check_targets(child)
                return
        if "not" in node:
            yield from check_targets(node["not"])
            return
        if node.get("name"):
            yield str(node["name"])


def is_domain_presence(rule: CoreRule) -> bool:
    """CORE reports a Domain Presence Check on the study, not on a record."""
    return "domain presence" in rule.rule_type.lower()


def report_variables(rule: CoreRule, domain: str) -> list[str]:
    names = rule.output_variables or tuple(check_targets(rule.check))
    return list(dict.fromkeys(with_domain(name, domain) for name in names))


def with_listed_variables(variables: list[str], hit: pd.DataFrame) -> list[str]:
    """Output variables, then the variables of the frame an operation result lists (CORE
    reports $TIMING_VARIABLES and each timing variable it names; on a metadata frame, whose
    columns are not the dataset's variables, only the list)."""
    expanded = list(variables)
    for variable in variables:
        if variable in hit.columns and holds_lists(hit[variable]):
            _, first_rows = np.unique(object_ids(hit[variable]), return_index=True)  # each list once
            for listed in hit[variable].iloc[first_rows]:
                if is_listy(listed):
                    expanded += [str(n) for n in listed if n in hit.columns and n not in expanded]
    return expanded


def _text(values: pd.Series) -> pd.Series:
    """Values as CORE's results.csv shows them: null blank, whole numbers without ".0"."""
    return numbers_as_text(values).fillna("").astype(str)


def _hits(
    rule: CoreRule, rule_frame: RuleFrame, frame: pd.DataFrame, mask: pd.Series
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Result rows and findings of one dataset's hits."""
    hit = frame.loc[mask.to_numpy()]
    if rule.sensitivity == "Dataset":
        hit = hit.iloc[:1]
    variables = with_listed_variables(report_variables(rule, rule_frame.domain), hit)
    records = (
        pd.Series(hit.index + 1, index=hit.index)
        if rule.sensitivity != "Dataset" and not is_domain_presence(rule)
        else pd.Series([None] * len(hit), index=hit.index)
    )
    name = rule_frame.dataset.name
    rows = []
    shown = {}
    for variable in variables:
        values = _text(hit[variable]) if variable in hit.columns else pd.Series(NOT_IN_DATASET, index=hit.index)
        shown[variable] = values
        rows.append(
            pd.DataFrame(
                {"rule_id": rule.rule_id, "dataset": name, "record": records, "variable": variable, "value": values}
            )
        )
    results = pd.concat(rows).sort_index(kind="stable") if rows else empty_table(RESULT_COLUMNS)
    usubjid = _text(hit["USUBJID"]) if "USUBJID" in hit.columns else pd.Series("", index=hit.index)
    # "ARMNRS=SCREEN FAILURE; RFENDTC=2013-10-29": values may hold commas themselves
    labelled = {variable: variable + "=" + values for variable, values in shown.items()}
    joined = pd.Series("", index=hit.index, dtype=object)
    for position, values in enumerate(labelled.values()):
        joined = values if position == 0 else joined + "; " + values
    findings = pd.DataFrame(
        {
            "rule_id": rule.rule_id,
            "severity": rule.severity,
            "dataset": name,
            "variable": ", ".join(variables),
            "row": records,
            "usubjid": usubjid,
            "value": joined,
            "message": with_domain(rule.message, rule_frame.domain).replace("--", rule_frame.domain),
        },
        index=hit.index,
    )
    return results[RESULT_COLUMNS], findings[FINDING_COLUMNS]


def _status(rule_id: str, dataset: str, status: RuleStatus, findings: int = 0, reason: str = "") -> dict[str, object]:
    return {"rule_id": rule_id, "dataset": dataset, "status": str(status), "findings": findings, "reason": reason}


def run_core_rule(
    rule: CoreRule, study: Study
) -> tuple[list[pd.DataFrame], list[pd.DataFrame], list[dict[str, object]]]:
    """One rule on every dataset in its scope: result rows, findings and statuses."""
    results: list[pd.DataFrame] = []
    findings: list[pd.DataFrame] = []
    runs: list[dict[str, object]] = []
    try:
        for rule_frame in rule_frames(rule, study):
            name = rule_frame.dataset.name
            if isinstance(rule_frame, FrameNotBuilt):
                reason = f"{NOT_CHECKED}{rule_frame.reason}"
                runs.append(_status(rule.rule_id, name, RuleStatus.NOT_APPLICABLE, reason=reason))
                continue
            try:
                frame = apply_operations(rule, rule_frame, study)
                mask = evaluate(rule.check, frame, rule_frame.domain)
            except NotRunnableError as error:  # this dataset needs what is not shipped (an IG version ...)
                runs.append(_status(rule.rule_id, name, RuleStatus.NOT_APPLICABLE, reason=f"{NOT_RUN}{error.reason}"))
                continue
            except NotApplicable as reason:
                runs.append(_status(rule.rule_id, name, RuleStatus.NOT_APPLICABLE, reason=str(reason)))
                continue
            if mask.any():
                rows, found = _hits(rule, rule_frame, frame, mask)
                results.append(rows)
                findings.append(found)
                runs.append(_status(rule.rule_id, name, RuleStatus.RAN, len(found)))
            else:
                runs.append(_status(rule.rule_id, name, RuleStatus.RAN))
    except NotRunnableError as error:
        runs.append(_status(rule.rule_id, "", RuleStatus.NOT_APPLICABLE, reason=f"{NOT_RUN}{error.reason}"))
    except Exception as error:  # one broken rule must not hide the findings of the others
        runs.append(_status(rule.rule_id, "", RuleStatus.FAILED, reason=f"{type(error).__name__}: {error}"))
    if not runs:
        runs.append(_status(rule.rule_id, "", RuleStatus.NOT_APPLICABLE, reason="no dataset in the rule's scope"))
    return results, findings, runs


def run_core_rules(study: Study, rules: Iterable[CoreRule | NotRunnable]) -> CoreResults:
    """Every rule on the study; a NotRunnable is listed as not run with its reason."""
    results: list[pd.DataFrame] = []
    findings: list[pd.DataFrame] = []
    runs: list[dict[str, object]] = []
    rules = list(rules)
    for rule in rules:
        if isinstance(rule, NotRunnable):
            runs.append(_status(rule.rule_id, "", RuleStatus.NOT_APPLICABLE, reason=f"{NOT_RUN}{rule.reason}"))
            continue
        rows, found, statuses = run_core_rule(rule, study)
        results += rows
        findings += found
        runs += statuses
    return CoreResults(
        findings=pd.concat(findings, ignore_index=True) if findings else empty_table(FINDING_COLUMNS),
        rule_runs=pd.DataFrame(runs, columns=RULE_RUN_COLUMNS),
        results=pd.concat(results, ignore_index=True) if results else empty_table(RESULT_COLUMNS),
        rules=core_catalogue(rules),
    )


def core_catalogue(rules: Iterable[CoreRule | NotRunnable]) -> pd.DataFrame:
    """The CORE rules as the reports list them (RULE_COLUMNS): CORE's id, message and description,
    and the authorities' citations as references (e.g. "CDISC SDTMIG 3.4 CG0530, section 5.2")."""
    rows = []
    for rule in rules:
        runnable = isinstance(rule, CoreRule)
        rows.append(
            {
                "rule_id": rule.rule_id,
                "title": rule.message,
                "severity": rule.severity if runnable else "Error",
                "standard": "SDTMIG 3.4",
                "rationale": rule.description if runnable else f"{NOT_RUN}{rule.reason}",
                "references": rule.authority if runnable else "",
                "p21": "",
                "core": rule.rule_id,
            }
        )
    return pd.DataFrame(rows, columns=RULE_COLUMNS)
