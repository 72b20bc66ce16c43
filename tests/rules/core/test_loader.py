"""CORE rule.yml files load as data: the check tree, scope, citations; what cannot run offline
is a NotRunnable with the reason, never an error."""

from __future__ import annotations

from pathlib import Path

import pytest

from cdisc_cup.errors import InputErrors
from cdisc_cup.rules.core.loader import chosen_rules, load_core_rule, load_core_rules
from cdisc_cup.rules.core.model import OUR_RULES, CoreRule, NotRunnable
from cdisc_cup.rules.loader import default_rule_files, rules_for

from .casedata import CORE_RULES


def test_a_published_rule_loads_with_its_check_scope_and_citation() -> None:
    rule = load_core_rule(CORE_RULES / "CORE-000192" / "rule.yml")
    assert isinstance(rule, CoreRule)
    assert rule.rule_id == "CORE-000192"
    assert rule.message == "RFENDTC is not blank when ARMNRS is provided."
    assert rule.output_variables == ("ARMNRS", "RFENDTC")
    assert rule.sensitivity == "Record"
    assert rule.scope.domains_include == ("DM",)
    assert rule.scope.classes_include == ("SPECIAL PURPOSE",)
    assert [leaf["operator"] for leaf in rule.check["all"]] == ["non_empty", "non_empty"]
    assert "CDISC SDTMIG 3.4 CG0530, section 5.2" in rule.authority


def test_a_rule_that_needs_the_cdisc_library_is_not_runnable_with_the_reason() -> None:
    (loaded,) = load_core_rules([CORE_RULES / "CORE-000929"])
    assert isinstance(loaded, NotRunnable)
    assert loaded.rule_type == "Define Item Metadata Check against Library Metadata"
    assert "needs CDISC Library metadata, not available offline" in loaded.reason


def test_an_unknown_operator_is_not_runnable(tmp_path: Path) -> None:
    source = (CORE_RULES / "CORE-000192" / "rule.yml").read_text(encoding="utf-8")
    rule_file = tmp_path / "rule.yml"
    rule_file.write_text(source.replace("operator: non_empty", "operator: is_made_up", 1), encoding="utf-8")
    loaded = load_core_rule(rule_file)
    assert isinstance(loaded, NotRunnable)
    assert loaded.reason == "check operator is_made_up is not implemented"


def test_broken_yaml_names_the_file_and_line(tmp_path: Path) -> None:
    rule_file = tmp_path / "rule.yml"
    rule_file.write_text("Core:\n  Id: CORE-1\nCheck: [unclosed\n", encoding="utf-8")
    with pytest.raises(InputErrors) as raised:
        load_core_rule(rule_file)
    problem = raised.value.problems[0]
    assert problem.file.endswith("rule.yml")
    assert problem.line is not None


def test_select_keeps_the_named_rules_and_rejects_unknown_ids() -> None:
    own, core = chosen_rules(None, [CORE_RULES], ["CORE-000192", "core-000012"])
    assert own == ()
    assert sorted(r.rule_id for r in core) == ["CORE-000012", "CORE-000192"]
    with pytest.raises(InputErrors) as raised:
        chosen_rules(None, [CORE_RULES], ["CORE-999999"])
    assert "no rule CORE-999999" in raised.value.problems[0].message


def test_the_word_cdisc_cup_adds_our_catalogue_to_the_core_rules() -> None:
    core_rule = CORE_RULES / "CORE-000192"
    own_only, core_only = chosen_rules(None, [core_rule])
    assert own_only == ()
    both_own, both_core = chosen_rules(None, [OUR_RULES, core_rule])
    assert [r.rule_id for r in both_core] == [r.rule_id for r in core_only] == ["CORE-000192"]
    assert [r.rule_id for r in both_own] == [r.rule_id for r in rules_for(None)]
    assert len(both_own) > 100


def test_our_catalogue_and_one_of_its_files_run_each_rule_once() -> None:
    own, core = chosen_rules(None, [OUR_RULES, default_rule_files()[0]])
    ids = [r.rule_id for r in own]
    assert core == []
    assert len(ids) == len(set(ids)) == len(rules_for(None))


def test_match_datasets_carry_child_and_join_type() -> None:
    rule = load_core_rule(CORE_RULES / "CORE-000712" / "rule.yml")
    assert isinstance(rule, CoreRule)
    (match,) = rule.match_datasets
    assert (match.name, match.child, match.join_type) == ("SUPP--", True, "inner")
    assert match.keys == ("USUBJID", "IDVAR", "IDVARVAL")


def test_a_library_operation_the_shipped_subset_answers_loads_as_runnable() -> None:
    rule = load_core_rule(CORE_RULES / "CORE-000334" / "rule.yml")
    assert isinstance(rule, CoreRule)
    assert [o["operator"] for o in rule.operations] == ["expected_variables", "get_column_order_from_dataset"]


@pytest.mark.parametrize(
    ("operator", "reason"),
    [
        ("valid_meddra_code_references", "operation valid_meddra_code_references needs MedDRA, not available offline"),
        ("made_up_operation", "operation made_up_operation is not implemented"),
    ],
)
def test_an_operation_we_cannot_run_is_not_runnable_with_the_reason(tmp_path: Path, operator: str, reason: str) -> None:
    source = (CORE_RULES / "CORE-000334" / "rule.yml").read_text(encoding="utf-8")
    rule_file = tmp_path / "rule.yml"
    rule_file.write_text(source.replace("operator: expected_variables", f"operator: {operator}", 1), encoding="utf-8")
    loaded = load_core_rule(rule_file)
    assert isinstance(loaded, NotRunnable)
    assert loaded.reason == reason
