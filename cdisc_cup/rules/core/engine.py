"""Run CORE rules on a study: scope, frames, operations, the check, and findings as CORE
reports them (one per record, or one per dataset where the rule's Sensitivity is Dataset).

Besides our findings table (FINDING_COLUMNS, one row per record) the run keeps CORE's own
result rows (`Dataset, Record, Variable, Value`, one per output variable), which is what
CORE's test cases (results/results.csv) list and what the parity harness compares.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from cdisc_cup.findings import FINDING_COLUMNS, RULE_COLUMNS, RULE_RUN_COLUMNS, RuleStatus, empty_table
from cdisc_cup.rules.core.check import PartScreen, evaluate, row_local, screen_part, with_domain
from cdisc_cup.rules.core.frames import (
    DISTINCT_VALUES,
    VALUE_BUILDERS,
    FrameNotBuilt,
    RuleFrame,
    ValuePart,
    WholeValues,
    join_key,
    release,
    rule_frames,
)
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


def _dataset_hits(rule: CoreRule, rule_frame: RuleFrame, study: Study) -> Iterator[tuple[pd.DataFrame, pd.DataFrame]]:
    """Result rows and findings of each part of a dataset's frame that has hits (a rule of
    Sensitivity Dataset reports the first hit only)."""
    for part in _checked_parts(rule, rule_frame, study):
        frame = apply_operations(rule, rule_frame, study, part)
        mask = evaluate(rule.check, frame, rule_frame.domain)
        if mask.any():
            yield _hits(rule, rule_frame, frame, mask)
            if rule.sensitivity == "Dataset":
                return


def _checked_parts(rule: CoreRule, rule_frame: RuleFrame, study: Study) -> Iterator[pd.DataFrame]:
    """The parts of the frame the check runs on. Of a value frame, when the check reads each
    row on its own, only the records whose value it holds for: worked out on the distinct
    values first (EX of 100,000 patients has 29 million values, a few thousand distinct)."""
    if rule_frame.variable_parts is None:
        yield from rule_frame.parts()
        return
    screened = row_local(rule.check, rule.operations)
    for part in rule_frame.variable_parts():
        if not screened or isinstance(part, WholeValues):
            yield part.rows()
            continue
        screen = _screen(rule, rule_frame, study, part)
        if screen.nowhere:
            continue
        if screen.on_values is not None:
            values, codes = part.distinct_values()
            mask = evaluate(screen.on_values, pd.DataFrame({"variable_value": values}), rule_frame.domain)
        else:
            distinct, codes = part.distinct()
            mask = evaluate(rule.check, apply_operations(rule, rule_frame, study, distinct), rule_frame.domain)
        held = mask.to_numpy(dtype=bool)[codes]
        if held.any():
            yield part.rows(np.flatnonzero(held))


def _screen(rule: CoreRule, rule_frame: RuleFrame, study: Study, part: ValuePart) -> PartScreen:
    """The check seen on the part's first record (`check.screen_part`); nothing said when the
    probe cannot say (the check then runs on the part and reports what stops it there)."""
    if not len(part.dataset.frame):
        return PartScreen()
    try:
        probe = apply_operations(rule, rule_frame, study, part.rows(np.zeros(1, dtype=np.int64)))
        return screen_part(rule.check, rule.operations, probe, rule_frame.domain)
    except Exception:  # whatever it is, the part's own run raises it again and reports it
        return PartScreen()


def _status(rule_id: str, dataset: str, status: RuleStatus, findings: int = 0, reason: str = "") -> dict[str, object]:
    return {"rule_id": rule_id, "dataset": dataset, "status": str(status), "findings": findings, "reason": reason}


class RuleRun:
    """One rule run a dataset at a time (`step`): its result rows, findings and statuses.

    Rules that share joined frames (`join_key`) run side by side, each on a dataset before any
    moves on, so a dataset's joined frame is made once and let go before the next is made: DM
    joined onto every dataset of 100,000 patients at once would be 2 GB."""

    def __init__(self, rule: CoreRule, study: Study) -> None:
        self.rule = rule
        self.study = study
        self.results: list[pd.DataFrame] = []
        self.findings: list[pd.DataFrame] = []
        self.runs: list[dict[str, object]] = []
        self._frames = rule_frames(rule, study)
        self.done = False

    def step(self) -> None:
        """The rule on its next dataset; a rule that cannot go on says why and is done."""
        if self.done:
            return
        rule = self.rule
        try:
            rule_frame = next(self._frames)
        except StopIteration:
            self._finish()
            return
        except NotRunnableError as error:
            self.runs.append(_status(rule.rule_id, "", RuleStatus.NOT_APPLICABLE, reason=f"{NOT_RUN}{error.reason}"))
            self._finish()
            return
        except Exception as error:  # one broken rule must not hide the findings of the others
            self.runs.append(_status(rule.rule_id, "", RuleStatus.FAILED, reason=f"{type(error).__name__}: {error}"))
            self._finish()
            return
        self._check(rule_frame)

    def _check(self, rule_frame: RuleFrame | FrameNotBuilt) -> None:
        rule = self.rule
        name = rule_frame.dataset.name
        if isinstance(rule_frame, FrameNotBuilt):
            reason = f"{NOT_CHECKED}{rule_frame.reason}"
            self.runs.append(_status(rule.rule_id, name, RuleStatus.NOT_APPLICABLE, reason=reason))
            return
        try:
            hits = list(_dataset_hits(rule, rule_frame, self.study))
        except NotRunnableError as error:  # this dataset needs what is not shipped (an IG version ...)
            self.runs.append(_status(rule.rule_id, name, RuleStatus.NOT_APPLICABLE, reason=f"{NOT_RUN}{error.reason}"))
            return
        except NotApplicable as reason:
            self.runs.append(_status(rule.rule_id, name, RuleStatus.NOT_APPLICABLE, reason=str(reason)))
            return
        except Exception as error:  # one broken rule must not hide the findings of the others
            self.runs.append(_status(rule.rule_id, "", RuleStatus.FAILED, reason=f"{type(error).__name__}: {error}"))
            self._finish()
            return
        self.results += [rows for rows, _ in hits]
        self.findings += [found for _, found in hits]
        self.runs.append(_status(rule.rule_id, name, RuleStatus.RAN, sum(len(found) for _, found in hits)))

    def _finish(self) -> None:
        self.done = True
        if not self.runs:
            reason = "no dataset in the rule's scope"
            self.runs.append(_status(self.rule.rule_id, "", RuleStatus.NOT_APPLICABLE, reason=reason))

    def run_out(self) -> None:
        while not self.done:
            self.step()


def run_core_rule(
    rule: CoreRule, study: Study
) -> tuple[list[pd.DataFrame], list[pd.DataFrame], list[dict[str, object]]]:
    """One rule on every dataset in its scope: result rows, findings and statuses."""
    run = RuleRun(rule, study)
    run.run_out()
    return run.results, run.findings, run.runs


def _shared_frames(rule: CoreRule) -> Hashable | None:
    """What a rule shares with others run side by side: joined frames (`join_key`), or a
    value frame's distinct values; None: nothing."""
    if rule.rule_type in VALUE_BUILDERS:
        return DISTINCT_VALUES
    return join_key(rule)


def _run_side_by_side(rules: Sequence[CoreRule], study: Study) -> list[RuleRun]:
    """Rules sharing frames run dataset by dataset (each dataset in study order, as each
    rule's scope lists it); what they share of a dataset goes once they are past it."""
    runs = [RuleRun(rule, study) for rule in rules]
    scopes = [{id(dataset) for dataset in datasets_in_scope(rule, study)} for rule in rules]
    for dataset in study.datasets.values():
        for run, scope in zip(runs, scopes, strict=True):
            if id(dataset) in scope:
                run.step()
        release(study, dataset)
    for run in runs:
        run.run_out()
    return runs


# What a rule run leaves: its result rows, findings and statuses (picklable, so that a forked
# process running some of the rules can send them back).
RuleOutcome = tuple[list[pd.DataFrame], list[pd.DataFrame], list[dict[str, object]]]


def rule_groups(study: Study, rules: Sequence[CoreRule | NotRunnable]) -> list[list[int]]:
    """The runnable rules (by position) in the groups that run side by side, the groups with
    the most records in scope first: processes taking groups in turn end close together."""
    groups: dict[Hashable, list[int]] = {}
    for position, rule in enumerate(rules):
        if isinstance(rule, CoreRule):
            groups.setdefault(_shared_frames(rule) or position, []).append(position)

    def records_in_scope(group: list[int]) -> int:
        chosen = [rule for position in group if isinstance(rule := rules[position], CoreRule)]
        return sum(len(dataset.frame) for rule in chosen for dataset in datasets_in_scope(rule, study))

    return sorted(groups.values(), key=records_in_scope, reverse=True)


def run_rule_groups(
    study: Study, rules: Sequence[CoreRule | NotRunnable], turns: Iterator[int] | None = None
) -> dict[int, RuleOutcome]:
    """The outcome of each rule (by position) of the groups this process takes: every group,
    or those whose number `turns` hands it (turns shared with another process split the work)."""
    groups = rule_groups(study, rules)
    outcomes: dict[int, RuleOutcome] = {}
    for turn in turns if turns is not None else range(len(groups)):
        if turn >= len(groups):
            break
        together = [rule for position in groups[turn] if isinstance(rule := rules[position], CoreRule)]
        for position, run in zip(groups[turn], _run_side_by_side(together, study), strict=True):
            outcomes[position] = (run.results, run.findings, run.runs)
    return outcomes


def core_results(rules: Sequence[CoreRule | NotRunnable], outcomes: Mapping[int, RuleOutcome]) -> CoreResults:
    """The rules' outcomes put together in the rules' order; a NotRunnable listed as not run."""
    results: list[pd.DataFrame] = []
    findings: list[pd.DataFrame] = []
    runs: list[dict[str, object]] = []
    for position, rule in enumerate(rules):
        if isinstance(rule, NotRunnable):
            runs.append(_status(rule.rule_id, "", RuleStatus.NOT_APPLICABLE, reason=f"{NOT_RUN}{rule.reason}"))
            continue
        rows, found, statuses = outcomes[position]
        results += rows
        findings += found
        runs += statuses
    return CoreResults(
        findings=pd.concat(findings, ignore_index=True) if findings else empty_table(FINDING_COLUMNS),
        rule_runs=pd.DataFrame(runs, columns=RULE_RUN_COLUMNS),
        results=pd.concat(results, ignore_index=True) if results else empty_table(RESULT_COLUMNS),
        rules=core_catalogue(rules),
    )


def run_core_rules(study: Study, rules: Iterable[CoreRule | NotRunnable]) -> CoreResults:
    """Every rule on the study; a NotRunnable is listed as not run with its reason. The rules
    sharing frames run side by side (`RuleRun`); the results are in the rules' order."""
    rules = list(rules)
    return core_results(rules, run_rule_groups(study, rules))


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
