"""Rule files are validated on load (file + key path), and our own conversion passes the rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from cdisc_cup.define.read import read_define
from cdisc_cup.errors import SpecErrors
from cdisc_cup.rules.engine import DatasetFolder, validate_datasets, validate_folders
from cdisc_cup.rules.loader import load_rules, shipped_rules
from cdisc_cup.xpt.read import read_dataset_folder

BROKEN = """
rules:
  - id: SD5011
    title: AE ends before it starts
    standard: SDTMIG 3.4
    datasets: [AE]
    severity: Fatal
    check: {operator: date_before, earlier: AESTDTC}
    message: "x"
    rationale: "y"
  - id: SD9999
    title: t
    standard: SDTMIG 3.4
    datasets: [DM]
    severity: Error
    check: {operator: conditional, then: {variable: DTHFL, null: true}}
    message: "x"
    rationale: "y"
"""


def test_rule_file_errors_name_file_and_key_path(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(BROKEN, encoding="utf-8")
    with pytest.raises(SpecErrors) as raised:
        load_rules([path])
    where = {(p.file, p.column) for p in raised.value.problems}
    assert (str(path), "rules[0].severity") in where
    assert (str(path), "rules[0].check.operator") in where
    assert (str(path), "rules[1].check.then.None") in where  # YAML reads `null:` as a null key


def test_rule_ids_unique_and_at_least_sixty() -> None:
    ids = [r.rule_id for r in shipped_rules()]
    assert len(ids) == len(set(ids)) >= 60


def test_a_failing_rule_is_recorded_as_failed_not_as_a_finding(tmp_path: Path) -> None:
    path = tmp_path / "odd.yaml"
    path.write_text(
        "rules:\n  - {id: CU0999, title: t, standard: CUP, datasets: [DM], severity: Error, message: m,\n"
        "     rationale: r, check: {operator: char_length, max_length: abc}}\n",
        encoding="utf-8",
    )
    import pandas as pd

    frame = pd.DataFrame({"USUBJID": ["A"]})
    results = validate_datasets({"DM": (frame, "Demographics", ())}, rules=load_rules([path]))
    assert results.findings.to_dict("records") == []
    [status] = results.rule_runs.to_dict("records")
    assert status["rule_id"] == "CU0999" and status["dataset"] == "DM" and status["status"] == "failed"
    assert "TypeError" in status["reason"] and status["findings"] == 0


def test_converted_sample_has_no_error(converted_sample) -> None:
    """The written files read back, each folder with its define.xml, as `validate` checks them."""
    folders = [
        DatasetFolder(folder, standard, read_dataset_folder(folder), read_define(converted_sample.defines[kind]))
        for folder, standard, kind in (
            (converted_sample.sdtm_dir, "sdtm", "SDTM"),
            (converted_sample.adam_dir, "adam", "ADaM"),
        )
    ]
    results = validate_folders(folders)
    errors = results.findings[results.findings["severity"] == "Error"]
    assert errors.to_dict("records") == []
    # and no rule broke on the data (DX0011 once did, on a column pandas held in chunks)
    runs = results.rule_runs
    assert runs[runs["status"] == "failed"].to_dict("records") == []


def test_the_conversion_runs_every_rule_without_failing(converted_sample) -> None:
    """What convert validates: the values as written, with its own define.xml."""
    runs = converted_sample.validation.rule_runs
    assert runs[runs["status"] == "failed"].to_dict("records") == []


def test_the_shipped_ig_metadata_is_what_the_build_makes(shared_dir: Path) -> None:
    """Regenerate with: python -m cdisc_cup.rules.igmeta ../shared/reference/cdisc-metadata"""
    import pandas as pd

    from cdisc_cup.rules.igmeta import build, ig_variables

    built = build(shared_dir / "reference" / "cdisc-metadata")
    pd.testing.assert_frame_equal(ig_variables(), built.astype(str), check_dtype=False)
    counts = built.groupby(["standard", "version"]).size().to_dict()
    assert counts[("sdtm", "3.2")] == 1142 and counts[("sdtm", "3.3")] == 1723 and counts[("sdtm", "3.4")] == 1917


def test_ig_versions_differ_where_the_guides_do() -> None:
    from cdisc_cup.rules.igmeta import chosen_version, ig_dataset_variables

    def core(version: str, variable: str) -> str | None:
        table = ig_dataset_variables("sdtm", "DM", version).set_index("variable")["core"]
        return table.get(variable)

    assert (core("3.2", "ARMCD"), core("3.3", "ARMCD"), core("3.4", "ARMCD")) == ("Req", "Exp", "Exp")
    assert core("3.2", "ARMNRS") is None and core("3.3", "ARMNRS") == "Exp"
    assert chosen_version("sdtm", [("CDISC SDTM", "3.1.2")])[0] == "3.2"
    assert chosen_version("sdtm", [("SDTMIG", "3.3")]) == ("3.3", "")
    assert chosen_version("adam", [("CDISC ADaM", "2.1")])[0] == "1.1"
    assert chosen_version("sdtm", [], forced="3.2") == ("3.2", "")
    assert chosen_version("sdtm", [])[0] == "3.4"


def test_a_retired_rule_id_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "old.yaml"
    path.write_text(
        "rules:\n  - {id: SD0001, title: t, standard: SDTMIG 3.4, datasets: [DM], severity: Error, message: m,\n"
        "     rationale: r, check: {operator: has_records}}\n",
        encoding="utf-8",
    )
    with pytest.raises(SpecErrors) as raised:
        load_rules([path])
    assert "rule ID was retired" in str(raised.value) and "SD0001" in str(raised.value)
