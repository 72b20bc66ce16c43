"""The benchmark runner works end to end on a tiny export (issue #9: CI runs the smallest size once).

Only the shape and sanity of the report are checked; no timing assertions.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[1]
RUNNER = REPO / "benchmarks" / "run.py"
PATIENTS = 30


def table_rows(report: str, heading: str) -> dict[str, list[str]]:
    """The Markdown table rows of one section, keyed by their first cell."""
    section = report.split(heading, 1)[1].split("\n## ", 1)[0]
    rows = [line.strip("|").split("|") for line in section.splitlines() if line.startswith("| ")]
    return {cells[0].strip(): [cell.strip() for cell in cells[1:]] for cells in rows}


def number(cell: str) -> float:
    return float(re.sub(r"[^\d.]", "", cell))


def test_runner_reports_stages_and_totals(tmp_path: Path) -> None:
    results = tmp_path / "RESULTS.md"
    work = tmp_path / "work"
    command = [sys.executable, str(RUNNER), "--patients", str(PATIENTS), "--work", str(work), "--results", str(results)]
    subprocess.run(command, check=True, capture_output=True)

    report = results.read_text(encoding="utf-8")
    assert "Command: `python benchmarks/run.py --patients 30" in report
    assert re.search(r"- Machine: \d+ cores", report) and "pandas " in report and "- Date: " in report
    assert "The 100,000-patient size was not measured" in report
    rows = table_rows(report, f"## {PATIENTS} patients")
    stages = ("read raw export", "map SDTM", "derive ADaM", "write SDTM XPT", "validate", "write tables and figure")
    for stage in stages:
        assert stage in rows, stage
    assert sum(number(rows[stage][0]) for stage in ("map SDTM", "derive ADaM", "validate")) > 0
    for measure in (
        "convert wall (s)",
        "convert peak RSS (GiB)",
        "records written (SDTM + ADaM)",
        "rows/s (records / convert wall)",
        "pyreadstat.write_xport anchor (s)",
        "convert / anchor",
        "validate wall (s)",
        "validate with CORE rules wall (s)",  # CORE's rules beside ours, issue #17
        "validate with CORE rules peak RSS (GiB)",
    ):
        assert number(rows[measure][0]) > 0, measure
    core_report = work / f"validate-core-{PATIENTS}p" / "findings.csv"
    assert "CORE-" in core_report.read_text(encoding="utf-8")  # the CORE rules ran and reported
    assert (work / f"export-{PATIENTS}p" / "patients.csv").is_file()
    dm_records = re.search(r"DM ([\d,]+)", report)
    assert dm_records is not None and number(dm_records.group(1)) == PATIENTS


def _runner(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """benchmarks/run.py as a module."""
    spec = importlib.util.spec_from_file_location("benchmark_runner", RUNNER)
    assert spec is not None and spec.loader is not None
    runner = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, runner)  # its dataclasses look their module up
    spec.loader.exec_module(runner)
    return runner


def test_the_targets_table_has_the_core_validate_row(monkeypatch: pytest.MonkeyPatch) -> None:
    runner = _runner(monkeypatch)

    def measured(wall: float) -> object:
        return runner.Measurement(wall=wall, peak_kib=2**20, returncode=0, stderr="", stdout="")

    result = runner.SizeResult(
        runner.TARGET_PATIENTS,
        convert=measured(40.0),
        validate=measured(12.0),
        validate_core=measured(31.0),
        stages={"map SDTM": 1.0},
        anchor=[{"name": "DM", "records": 1, "columns": 1, "seconds": 40.0}],
    )
    rows = table_rows("\n".join(runner.targets_section({runner.TARGET_PATIENTS: result})), "## Targets")
    assert rows["validate with CORE rules wall (issue #17)"][:2] == ["≤ 30 s", "31.0 s"]
    assert "not met" in rows["validate with CORE rules wall (issue #17)"][2]
    assert "not met" not in rows["validate wall"][2]


def test_an_export_cached_by_another_generator_version_is_made_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = _runner(monkeypatch)
    folder = runner.export_folder(tmp_path, 5)
    stamp = folder / runner.GENERATOR_STAMP
    assert stamp.read_text() == runner.generator_stamp()
    patients = (folder / "patients.csv").read_bytes()
    assert runner.export_folder(tmp_path, 5) == folder and (folder / "patients.csv").read_bytes() == patients
    (folder / "patients.csv").write_text("left by an older generator")
    assert runner.export_folder(tmp_path, 5) == folder  # same stamp: the cache is used
    assert (folder / "patients.csv").read_text() == "left by an older generator"
    stamp.unlink()  # exports of the runner before the stamp have none
    runner.export_folder(tmp_path, 5)
    assert (folder / "patients.csv").read_bytes() == patients


def test_a_step_beside_others_adds_only_the_time_waited_for_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """The steps' seconds add up to the wall: a step on a thread beside the others counts the
    time they waited for it, and its name keeps its own time."""
    runner = _runner(monkeypatch)
    stderr = (
        "  ✓ map SDTM (9.26 s)\n"
        "  ✓ write SDTM XPT 18 datasets (3.27 s)\n"
        "  ✓ write reconciliation and audit trail (3.46 s beside the steps above, 0.10 s more)\n"
        "    a note (1.00 s)\n"
    )
    assert runner.parse_stages(stderr) == {
        "map SDTM": 9.26,
        "write SDTM XPT": 3.27,
        "write reconciliation and audit trail (beside the steps before it: 3.46 s)": 0.10,
    }
