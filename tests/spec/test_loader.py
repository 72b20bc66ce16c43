"""Spec files are checked on load; every problem names the file, the key path and what was expected."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from cdisc_cup.errors import SpecErrors
from cdisc_cup.spec.loader import default_spec_dir, load_study


@pytest.fixture
def specs(tmp_path: Path) -> Path:
    target = tmp_path / "specs"
    shutil.copytree(default_spec_dir(), target)
    return target


def spec_problems(spec_dir: Path) -> list[str]:
    with pytest.raises(SpecErrors) as error:
        load_study(spec_dir)
    return [str(p) for p in error.value.problems]


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_shipped_specs_load() -> None:
    study = load_study()
    assert study.studyid == "ISA-CUP-DE"
    names = [s.name for s in study.sdtm]
    # The trial design datasets first (from the spec alone), SE, SV and TS after what they read.
    assert names[:7] == ["TE", "TA", "TV", "TI", "DM", "EX", "AE"] and names[-3:] == ["SE", "SV", "TS"]
    assert {"ADSL", "ADAE"} <= {s.name for s in study.adam}


def test_wrong_type_names_file_key_path_and_expectation(specs: Path) -> None:
    edit(
        specs / "sdtm" / "ae.yaml",
        "name: AESER, label: Serious Event, type: Char, length: 1",
        "name: AESER, label: Serious Event, type: Char, length: one",
    )
    problems = spec_problems(specs)
    aeser = [v["name"] for v in yaml.safe_load((specs / "sdtm" / "ae.yaml").read_text())["variables"]].index("AESER")
    assert any("ae.yaml" in p and f"variables[{aeser}].length" in p and "integer" in p for p in problems), problems


def test_all_problems_at_once(specs: Path) -> None:
    edit(
        specs / "sdtm" / "dm.yaml",
        "type: Char, length: 1, origin: Collected",
        "type: Text, length: 1, origin: Collected",
    )
    edit(specs / "sdtm" / "ex.yaml", "label: Exposure", "label: Exposure to isatuximab, pomalidomide and dexamethasone")
    edit(
        specs / "sdtm" / "vs.yaml",
        "origin: Assigned, core: Req, role: Topic",
        "origin: Guessed, core: Req, role: Topic",
    )
    problems = spec_problems(specs)
    assert any("dm.yaml" in p and "type" in p and "unallowed value Text" in p for p in problems)
    assert any("ex.yaml" in p and "column label" in p and "max length is 40" in p for p in problems)
    assert any("vs.yaml" in p and "origin" in p and "Guessed" in p for p in problems)


def test_value_source_with_two_kinds(specs: Path) -> None:
    edit(specs / "sdtm" / "dm.yaml", "value: {constant: DM}", "value: {constant: DM, map: {a: b}, column: X}")
    assert any("variables[1].value" in p and "exactly one kind" in p for p in spec_problems(specs))


def test_yaml_syntax_error_has_a_line(specs: Path) -> None:
    (specs / "sdtm" / "mh.yaml").write_text("dataset: MH\nlabel: [unclosed\n")
    problems = spec_problems(specs)
    assert any("mh.yaml" in p and "line" in p and "not valid YAML" in p for p in problems)


def test_spec_paths_cannot_leave_the_spec_folder(specs: Path) -> None:
    edit(specs / "study.yaml", "  - sdtm/dm.yaml", "  - ../../etc/passwd.yaml")
    problems = spec_problems(specs)
    assert any("regex" in p or "leaves the spec folder" in p for p in problems)


def test_unknown_raw_file_in_records(specs: Path) -> None:
    edit(specs / "sdtm" / "ae.yaml", "  - from: adverse_events", "  - from: adverse_event")
    assert any("records[0].from" in p and "adverse_event" in p for p in spec_problems(specs))


def test_yaml_tags_are_not_executed(specs: Path) -> None:
    (specs / "sdtm" / "rs.yaml").write_text('dataset: !!python/object/apply:os.system ["echo hacked"]\n')
    assert any("rs.yaml" in p and "not valid YAML" in p for p in spec_problems(specs))


def test_a_spec_condition_is_checked_by_the_one_condition_language(tmp_path: Path) -> None:
    """The mapping specs and the rules share one condition language and its checker (issue #14)."""
    from cdisc_cup import conditions

    assert conditions.check({"column": "ONGOING", "equals": "Y"}, "where", "x.yaml") == []
    assert conditions.check({"any": [{"column": "A", "present": True}, {"variable": "B", "in": [1]}]}, "w", "x") == []
    [unknown] = conditions.check({"column": "A", "equal": "Y"}, "where", "x.yaml")
    assert unknown.column == "where.equal" and "unknown condition key" in unknown.message
    [no_test] = conditions.check({"column": "A"}, "where", "x.yaml")
    assert "needs a test" in no_test.message
    [two] = conditions.check({"column": "A", "variable": "B", "equals": 1}, "where", "x.yaml")
    assert "exactly one" in two.message


# --- where records come from: a raw file, SDTM datasets built before, or the spec's own rows -----


def test_a_rows_entry_is_one_block_per_row_sharing_its_values() -> None:
    ts = load_study().dataset("TS")
    coded = [b for b in ts.records if b.values.get("TSPARMCD") == {"constant": "TBLIND"}]
    [block] = coded
    assert block.kind == "row" and block.location.startswith("records[") and ".rows[" in block.location
    assert block.values["TSVCDREF"] == {"constant": "CDISC CT"}  # shared by the entry's rows
    assert block.values["TSVAL"] == {"constant": "OPEN LABEL", "codelist": "TBLIND"}
    se = load_study().dataset("SE")
    assert {b.kind for b in se.records} == {"datasets"} and se.records[0].datasets == ("DM",)
    assert load_study().dataset("SV").records[0].distinct == ("USUBJID", "VISITNUM", "VISIT")


def test_a_block_names_exactly_one_source_of_records(specs: Path) -> None:
    edit(
        specs / "sdtm" / "ti.yaml",
        "  - values: {IECAT: {constant: INCLUSION}}",
        "  - from: patients\n    values: {IECAT: {constant: INCLUSION}}",
    )
    problems = spec_problems(specs)
    assert any(
        "ti.yaml" in p and "records[0]" in p and "exactly one place" in p and "from, rows" in p for p in problems
    )


def test_spec_rows_have_no_where(specs: Path) -> None:
    edit(
        specs / "sdtm" / "ti.yaml",
        "  - values: {IECAT: {constant: INCLUSION}}",
        "  - where: {column: AGE, present: true}\n    values: {IECAT: {constant: INCLUSION}}",
    )
    assert any("records[0].where" in p and "each row is one record" in p for p in spec_problems(specs))


def test_a_row_setting_an_unknown_variable_is_a_spec_error(specs: Path) -> None:
    edit(specs / "sdtm" / "ti.yaml", "{IETESTCD: INCL04,", "{IETESTCD: INCL04, IETESTX: X,")
    assert any("records[0].rows[3].IETESTX" in p and "does not have" in p for p in spec_problems(specs))


def test_a_row_value_is_a_constant_or_a_value_source(specs: Path) -> None:
    edit(specs / "sdtm" / "ti.yaml", "{IETESTCD: INCL04,", "{IETESTCD: [INCL04],")
    assert any("records[0].rows[3].IETESTCD" in p for p in spec_problems(specs))


def test_records_from_a_dataset_not_built_before_are_a_spec_error(specs: Path) -> None:
    edit(specs / "sdtm" / "se.yaml", "  - from_datasets: [DM]", "  - from_datasets: [SV]")
    problems = spec_problems(specs)
    assert any(
        "se.yaml" in p and "records[0].from_datasets" in p and "'SV'" in p and "not built before" in p for p in problems
    )


def test_distinct_needs_records_from_datasets(specs: Path) -> None:
    edit(
        specs / "sdtm" / "ti.yaml",
        "  - values: {IECAT: {constant: INCLUSION}}",
        "  - distinct: [USUBJID]\n    values: {IECAT: {constant: INCLUSION}}",
    )
    assert any("records[0].distinct" in p and "from_datasets" in p for p in spec_problems(specs))


def test_the_guides_text_is_checked_and_optional(specs: Path) -> None:
    edit(specs / "guides.yaml", "    source: Abstract; Methods, Patients and treatment\n", "")
    problems = spec_problems(specs)
    assert any("guides.yaml" in p and "design" in p and "source" in p for p in problems), problems
    (specs / "guides.yaml").unlink()
    assert load_study(specs).guide_text.design == ()


# --- text over 200 characters: continued_in and continues (SDTMIG 3.4 section 4.5.3.2) ---


def test_a_continuation_block_needs_the_variable_to_say_so(specs: Path) -> None:
    edit(specs / "sdtm" / "ae.yaml", "     continued_in: SUPPAE,", "")
    (problem,) = spec_problems(specs)
    assert "suppae.yaml" in problem and "records[3].continues" in problem
    assert "AE.AETERM does not say that its text continues here" in problem and "continued_in: SUPPAE" in problem


def test_continued_in_needs_a_block_that_continues(specs: Path) -> None:
    edit(specs / "sdtm" / "suppae.yaml", "  - continues: AETERM\n", "")
    (problem,) = spec_problems(specs)
    assert "ae.yaml" in problem and ".continued_in" in problem
    assert "SUPPAE has no record block that continues AETERM" in problem


def test_continued_in_names_a_supp_of_the_dataset(specs: Path) -> None:
    edit(specs / "sdtm" / "ae.yaml", "continued_in: SUPPAE", "continued_in: SUPPMH")
    problems = spec_problems(specs)
    assert any("continues in SUPPMH, whose parent is not AE" in p for p in problems), problems
    edit(specs / "sdtm" / "ae.yaml", "continued_in: SUPPMH", "continued_in: AE")
    assert any("continued_in" in p and "SUPP" in p for p in spec_problems(specs))


def test_only_text_continues(specs: Path) -> None:
    edit(
        specs / "sdtm" / "ae.yaml",
        "name: AESEQ, label: Sequence Number, type: Num, length: 8,",
        "name: AESEQ, label: Sequence Number, type: Num, length: 8, continued_in: SUPPAE,",
    )
    assert any("continued_in" in p and "Char" in p for p in spec_problems(specs))


def test_a_continuation_block_names_a_variable_or_qnam_and_selects_nothing(specs: Path) -> None:
    edit(specs / "sdtm" / "suppmh.yaml", "continues: MMSUBTYP", "continues: MMSUBTYX")
    (problem,) = spec_problems(specs)
    assert "names neither a variable of MH nor the QNAM of a block of SUPPMH" in problem
    edit(
        specs / "sdtm" / "suppmh.yaml",
        "continues: MMSUBTYX",
        "continues: MMSUBTYP\n    where: {column: MMTYPE, present: true}",
    )
    assert any("'where', 'distinct' must not be present with 'continues'" in p for p in spec_problems(specs))


def test_the_engine_sets_qnam_qlabel_and_qval(specs: Path) -> None:
    edit(
        specs / "sdtm" / "suppae.yaml",
        "  - continues: AETERM\n",
        "  - continues: AETERM\n    values: {QVAL: {column: AETEXT}}\n",
    )
    (problem,) = spec_problems(specs)
    assert "records[3].values.QVAL" in problem and "the engine sets QNAM, QLABEL and QVAL" in problem
