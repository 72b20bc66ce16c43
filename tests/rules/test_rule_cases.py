"""Every rule has a failing and a passing minimal study; the failing one gives exactly the expected findings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from cdisc_cup.rules.engine import RuleResults
from cdisc_cup.rules.loader import shipped_rules
from tests.rules.casekit import build, case_files, run

RULE_IDS = [r.rule_id for r in shipped_rules()]
_RUNS: dict[str, RuleResults] = {}


def results_for(scenario: dict, folder: Path) -> RuleResults:
    """Many passing scenarios are the same study; validate each distinct one once."""
    key = json.dumps(scenario, sort_keys=True)
    if key not in _RUNS:
        _RUNS[key] = run(build(scenario, folder))
    return _RUNS[key]


def _case(rule_id: str) -> dict:
    return yaml.safe_load((Path(__file__).parent / "cases" / f"{rule_id}.yaml").read_text(encoding="utf-8"))


def test_every_rule_has_a_case_with_both_scenarios() -> None:
    cased = {p.stem for p in case_files()}
    assert sorted(set(RULE_IDS) - cased) == []
    assert sorted(cased - set(RULE_IDS)) == [], "case files for rules that do not exist"
    for rule_id in RULE_IDS:
        case = _case(rule_id)
        assert case["rule"] == rule_id
        assert "fail" in case and "pass" in case, rule_id
        assert case["fail"].get("expect"), f"{rule_id}: the failing case must say what it expects"


@pytest.mark.parametrize("base", ["sdtm", "adam", "both"])
def test_base_studies_break_no_rule(base: str, tmp_path: Path) -> None:
    results = run(build({"base": base, "define": {}}, tmp_path))
    assert results.findings.to_dict("records") == []
    assert results.rule_runs[results.rule_runs["status"] == "failed"].to_dict("records") == []


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_failing_case_reports_exactly_the_expected_findings(rule_id: str, tmp_path: Path) -> None:
    scenario = build(_case(rule_id)["fail"], tmp_path)
    results = run(scenario)
    failed = results.rule_runs[results.rule_runs["status"] == "failed"]
    assert failed.to_dict("records") == []
    own = results.findings[results.findings["rule_id"] == rule_id]
    got = [
        {key: record[key] for key in expected}
        for record, expected in zip(own.to_dict("records"), scenario.expect, strict=False)
    ]
    assert len(own) == len(scenario.expect), own.to_dict("records")
    assert got == scenario.expect
    assert own["message"].str.len().gt(0).all() and not own["message"].str.contains(r"\{").any()


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_passing_case_reports_nothing_for_the_rule(rule_id: str, tmp_path: Path) -> None:
    results = results_for(_case(rule_id)["pass"], tmp_path)
    assert results.findings[results.findings["rule_id"] == rule_id].to_dict("records") == []
    own = results.rule_runs[results.rule_runs["rule_id"] == rule_id]
    # The passing study really exercises the rule: it ran, it was not merely not applicable.
    assert (own["status"] == "ran").any(), own.to_dict("records")
    assert not (own["status"] == "failed").any(), own.to_dict("records")
