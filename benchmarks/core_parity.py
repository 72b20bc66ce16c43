"""Parity with CDISC CORE on CORE's own test cases: every positive and negative case of every
rule in a rules folder, run natively, compared with what CORE reports (results/results.csv).

A case passes when we report exactly the (dataset, record, variable) triples CORE lists
(nothing for a positive case). A rule passes when all its cases pass; it is "not run" when it
needs what is not available offline (the loader's reason, or the run's: an IG version whose
Library metadata is not shipped, CT packages by version) and "failed" otherwise, with the
first difference. Writes benchmarks/CORE_PARITY.md.

    python benchmarks/core_parity.py ../shared/core-rules/Published
    python benchmarks/core_parity.py ../shared/core-rules/Published --select CORE-000192,CORE-000012
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from cdisc_cup.pipeline import study_of_csv_folder
from cdisc_cup.rules.core.engine import NOT_CHECKED, NOT_RUN, run_core_rules
from cdisc_cup.rules.core.loader import load_core_rule, rule_files
from cdisc_cup.rules.core.model import CoreRule, NotRunnableError

DEFAULT_REPORT = Path(__file__).with_name("CORE_PARITY.md")
# The rule types the bar is about (the define checks compare with define.xml).
JUDGED_TYPES = ("Record Data", "Dataset Metadata Check", "Variable Metadata Check", "Domain Presence Check")

Triple = tuple[str, str, str]


@dataclass(frozen=True)
class RuleParity:
    rule_id: str
    rule_type: str
    outcome: str  # "pass" | "fail" | "not run"
    detail: str = ""
    cases: int = 0


def expected_triples(case: Path) -> set[Triple]:
    table = pd.read_csv(case / "results" / "results.csv", dtype=str, keep_default_na=False)
    if table.empty:
        return set()
    record = table["Record"].str.strip()
    return set(zip(table["Dataset"].str.strip().str.upper(), record, table["Variable"].str.strip(), strict=True))


@dataclass(frozen=True)
class CaseRun:
    found: set[Triple]  # what we report on the case's data
    failed: str  # errors of the run
    not_run: str  # why the rule could not run on some dataset (needs what is not offline)
    skipped: str  # datasets whose frame could not be built (CORE skips them too), with why


def run_case(rule: CoreRule, case: Path) -> CaseRun:
    study = study_of_csv_folder(case / "data")
    outcome = run_core_rules(study, [rule])
    runs = outcome.rule_runs
    reasons = runs["reason"].astype(str)
    failed = reasons[runs["status"] == "failed"]
    not_run = reasons[reasons.str.startswith(NOT_RUN)].str.removeprefix(NOT_RUN)
    skipped = runs["dataset"] + ": " + reasons.str.removeprefix(NOT_CHECKED)
    records = outcome.results["record"].map(lambda r: "" if pd.isna(r) else str(int(r)))
    found = set(zip(outcome.results["dataset"].str.upper(), records, outcome.results["variable"], strict=True))
    return CaseRun(
        found,
        "; ".join(failed),
        "; ".join(dict.fromkeys(not_run)),
        "; ".join(skipped[reasons.str.startswith(NOT_CHECKED)]),
    )


def _difference(case: Path, expected: set[Triple], run: CaseRun) -> str:
    name = f"{case.parent.name}/{case.name}"
    if run.failed:
        return f"{name}: failed: {run.failed}"
    missing, extra = sorted(expected - run.found), sorted(run.found - expected)
    parts = []
    if missing:
        parts.append(f"missing {len(missing)} (first {missing[0]})")
    if extra:
        parts.append(f"extra {len(extra)} (first {extra[0]})")
    if run.skipped:
        parts.append(f"not run on {run.skipped}")
    return f"{name}: " + ", ".join(parts)


def rule_parity(rule_file: Path) -> RuleParity:
    loaded = load_core_rule(rule_file)
    if not isinstance(loaded, CoreRule):
        return RuleParity(loaded.rule_id, loaded.rule_type, "not run", loaded.reason)
    cases = sorted(
        p
        for kind in ("negative", "positive")
        for p in (rule_file.parent / kind).glob("*")
        if (p / "data").is_dir() and (p / "results" / "results.csv").is_file()
    )
    if not cases:
        return RuleParity(loaded.rule_id, loaded.rule_type, "not run", "no test case with data and results")
    for case in cases:
        try:
            run = run_case(loaded, case)
        except NotRunnableError as error:  # needs what is not available offline, found at run time
            return RuleParity(loaded.rule_id, loaded.rule_type, "not run", error.reason, len(cases))
        except Exception as error:  # a case's data the reader cannot take: the rule fails here, the run goes on
            return RuleParity(
                loaded.rule_id, loaded.rule_type, "fail", f"{case.parent.name}/{case.name}: {error}", len(cases)
            )
        if run.not_run:
            return RuleParity(loaded.rule_id, loaded.rule_type, "not run", run.not_run, len(cases))
        expected = expected_triples(case)
        if run.found != expected or run.failed:
            return RuleParity(loaded.rule_id, loaded.rule_type, "fail", _difference(case, expected, run), len(cases))
    return RuleParity(loaded.rule_id, loaded.rule_type, "pass", "", len(cases))


def run_parity(rules: Path, select: set[str] | None = None) -> list[RuleParity]:
    files = [f for f in rule_files(rules) if select is None or f.parent.name in select]
    return [rule_parity(f) for f in files]


def markdown(outcomes: list[RuleParity], command: str, seconds: float) -> str:
    totals = Counter(o.outcome for o in outcomes)
    lines = [
        "# Parity with CDISC CORE on CORE's own test cases",
        "",
        f"Command: `{command}` ({seconds:.0f} s). A rule passes when every one of its positive and",
        "negative cases gives exactly the (dataset, record, variable) rows of CORE's results.csv.",
        "",
        f"Rules: {len(outcomes)}; pass {totals['pass']}, fail {totals['fail']}, not run {totals['not run']}.",
        "",
        "| rule type | rules | pass | fail | not run | pass rate of those run |",
        "|---|---|---|---|---|---|",
    ]
    for rule_type in sorted({o.rule_type for o in outcomes}):
        group = Counter(o.outcome for o in outcomes if o.rule_type == rule_type)
        ran = group["pass"] + group["fail"]
        rate = f"{100 * group['pass'] / ran:.0f}%" if ran else "-"
        lines.append(
            f"| {rule_type or '?'} | {sum(group.values())} | {group['pass']} | {group['fail']} "
            f"| {group['not run']} | {rate} |"
        )
    judged = [o for o in outcomes if o.rule_type in JUDGED_TYPES and o.outcome != "not run"]
    passed = sum(o.outcome == "pass" for o in judged)
    if judged:
        lines += [
            "",
            f"Judged types ({', '.join(JUDGED_TYPES)}), runnable offline: "
            f"{passed} of {len(judged)} pass ({100 * passed / len(judged):.1f}%).",
        ]
    lines += ["", "| rule | type | outcome | cases | first difference / reason |", "|---|---|---|---|---|"]
    for o in outcomes:
        detail = o.detail.replace("|", "\\|").replace("\n", " ")
        lines.append(f"| {o.rule_id} | {o.rule_type} | {o.outcome} | {o.cases} | {detail} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "rules", type=Path, help="a folder of CORE rule folders (such as ../shared/core-rules/Published)"
    )
    parser.add_argument("--select", help="comma-separated rule ids to run (default: all)")
    parser.add_argument("--report", type=Path, default=DEFAULT_REPORT, help="the Markdown report to write")
    args = parser.parse_args()
    select = {s.strip() for s in args.select.split(",")} if args.select else None
    started = time.perf_counter()
    outcomes = run_parity(args.rules, select)
    command = (
        "python benchmarks/core_parity.py " + str(args.rules) + (f" --select {args.select}" if args.select else "")
    )
    args.report.write_text(markdown(outcomes, command, time.perf_counter() - started), encoding="utf-8")
    totals = Counter(o.outcome for o in outcomes)
    print(
        f"{len(outcomes)} rules: pass {totals['pass']}, fail {totals['fail']}, "
        f"not run {totals['not run']} -> {args.report}"
    )


if __name__ == "__main__":
    main()
