"""A newcomer's first hour (issue #13), trap by trap, as a user meets them on the command line:
the exit code, the message, the user's own files untouched, no traceback."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from cdisc_cup.cli import main
from cdisc_cup.outputs import MANIFEST
from cdisc_cup.rules.loader import shipped_rules
from tests.exports import PATIENTS, write_export

REPO = Path(__file__).resolve().parents[1]


def convert(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["convert", *args])
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def files_of(folder: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_export(tmp_path_factory.mktemp("first-hour") / "export")


# --- 1. output is sacred ------------------------------------------------------------------------


def test_a_folder_the_tool_did_not_make_is_refused_and_left_as_it_was(export: Path, tmp_path: Path) -> None:
    project = tmp_path / "myproj"
    project.mkdir()
    (project / "notes.sas").write_text("proc print; run;")
    code, output = convert(str(export), "--out", str(project))
    assert code == 4
    assert "myproj: is not empty and was not made by cdisc-cup (it holds notes.sas)" in output
    assert "--force" in output
    assert "read raw export" not in output  # refused before any work
    assert [p.name for p in project.iterdir()] == ["notes.sas"]
    assert (project / "notes.sas").read_text() == "proc print; run;"


def test_force_writes_beside_the_users_files_and_never_deletes_them(export: Path, tmp_path: Path) -> None:
    project = tmp_path / "myproj"
    project.mkdir()
    (project / "notes.sas").write_text("proc print; run;")
    code, _ = convert(str(export), "--out", str(project), "--force", "--quiet")
    assert code == 0
    assert (project / "notes.sas").read_text() == "proc print; run;"
    assert sorted(p.name for p in project.iterdir()) == sorted(
        [MANIFEST, "index.html", "m5", "notes.sas", "reports", "tables"]
    )


def test_an_existing_file_is_refused_even_with_force(export: Path, tmp_path: Path) -> None:
    existing = tmp_path / "existing.txt"
    existing.write_text("mine")
    for extra in ([], ["--force"]):
        code, output = convert(str(export), "--out", str(existing), *extra)
        assert code == 4
        assert "existing.txt: is a file, and cdisc-cup never replaces a file it did not make" in output
    assert [p.name for p in tmp_path.iterdir()] == ["existing.txt"]
    assert existing.read_text() == "mine"


def test_out_dot_and_relative_paths_work(export: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    code, output = convert(str(export), "--out", ".", "--quiet")
    assert code == 0, output
    assert (here / "m5" / "datasets" / "isa-cup-de" / "tabulations" / "sdtm" / "dm.xpt").is_file()
    assert (here / "index.html").is_file()
    code, output = convert(str(export), "--out", "sub/out", "--quiet")
    assert code == 0, output
    assert (here / "sub" / "out" / "index.html").is_file()


def test_folders_are_created_with_the_users_umask(export: Path, tmp_path: Path) -> None:
    previous = os.umask(0o002)
    try:
        code, _ = convert(str(export), "--out", str(tmp_path / "shared-out"), "--quiet")
    finally:
        os.umask(previous)
    assert code == 0
    for folder in (tmp_path / "shared-out", tmp_path / "shared-out" / "m5", tmp_path / "shared-out" / "reports"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o775, folder


def test_a_rerun_replaces_only_what_the_tool_wrote(export: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert convert(str(export), "--out", str(out), "--quiet")[0] == 0
    (out / "README.txt").write_text("beside the output: mine")
    assert convert(str(export), "--out", str(out), "--quiet")[0] == 0
    assert (out / "README.txt").read_text() == "beside the output: mine"
    (out / "tables" / "my-table.rtf").write_text("inside what the tool replaces")
    before = files_of(out)
    code, output = convert(str(export), "--out", str(out))
    assert code == 4
    assert "tables/my-table.rtf: was not written by cdisc-cup" in output
    assert files_of(out) == before


# --- 2. honest progress and exit codes ---------------------------------------------------------------


def test_a_missing_raw_folder_is_refused_before_the_specs_are_loaded(tmp_path: Path) -> None:
    code, output = convert(str(tmp_path / "nonexistent"), "--out", str(tmp_path / "out"))
    assert code == 2
    assert "does not exist" in output and "load specs" not in output and "✓" not in output


def test_a_failed_step_is_marked_failed_not_done(export: Path, tmp_path: Path) -> None:
    broken = write_export(tmp_path / "broken", patients=[*PATIENTS, PATIENTS[1]])
    code, output = convert(str(broken), "--out", str(tmp_path / "out"))
    assert code == 2
    assert "✗ read raw export" in output and ": failed after" in output
    assert "✓ read raw export" not in output
    assert not (tmp_path / "out").exists()


def test_ctrl_c_says_interrupted_exits_130_and_leaves_the_previous_output(tmp_path: Path) -> None:
    export = tmp_path / "export"
    subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "generate.py"), "--patients", "2000", "--out", str(export)],
        check=True,
        capture_output=True,
    )
    out = tmp_path / "out"
    command = [sys.executable, "-m", "cdisc_cup.cli", "convert", str(REPO / "sample_data"), "--out", str(out)]
    assert subprocess.run(command, capture_output=True).returncode == 0
    before = files_of(out)
    process = subprocess.Popen([*command[:4], str(export), *command[5:]], stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not list(out.glob(".cdisc-cup-staging-*")) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert "interrupted" in stderr and "Traceback" not in stderr
    assert "done in" not in stderr  # no summary of a conversion that did not finish
    assert files_of(out) == before


@pytest.mark.parametrize("command", ["convert", "validate", "rules", "define", "tables"])
def test_every_command_has_quiet_verbose_an_example_and_its_exit_codes(command: str) -> None:
    text = CliRunner().invoke(main, [command, "--help"]).output
    assert "--quiet" in text and "--verbose" in text and "Example:" in text
    assert "Exit codes:" in text and "130" in text and "4 " in text
    assert ("1    findings at or above --fail-on" in text) == (command == "validate")


# --- 3. one root cause, one message ------------------------------------------------------------


def test_many_problems_show_the_first_and_the_whole_list_goes_beside_the_output(tmp_path: Path) -> None:
    patients = [PATIENTS[0], *(PATIENTS[1].replace("01-001", f"01-{n:03d}").replace(";70;", ";7x;") for n in range(60))]
    broken = write_export(tmp_path / "export", patients=patients)
    out = tmp_path / "out"
    code, output = convert(str(broken), "--out", str(out))
    assert code == 2
    listing = tmp_path / "out-problems.txt"
    lines = listing.read_text(encoding="utf-8").splitlines()
    problems = [line for line in lines if not line.startswith("#")]
    assert len([line for line in problems if "column AGE" in line]) == 60
    assert f"The complete list of {len(problems)} problems: {listing}" in output
    shown = [line for line in output.splitlines() if line.startswith("  - ")]
    assert len(shown) == 21 and shown[-1].endswith(f"… and {len(problems) - 20} more problems")
    assert not out.exists()
    good = write_export(tmp_path / "good")
    assert convert(str(good), "--out", str(out), "--quiet")[0] == 0
    assert not listing.exists()  # the list of the failed run goes once the output is good


def test_a_problems_file_the_user_owns_is_never_overwritten(tmp_path: Path) -> None:
    patients = [PATIENTS[0], *(PATIENTS[1].replace("01-001", f"01-{n:03d}").replace(";70;", ";7x;") for n in range(30))]
    broken = write_export(tmp_path / "export", patients=patients)
    mine = tmp_path / "out-problems.txt"
    mine.write_text("my own notes")
    code, output = convert(str(broken), "--out", str(tmp_path / "out"))
    assert code == 2 and "The complete list" not in output
    assert mine.read_text() == "my own notes"


# --- 4. validate, define and tables name what they read ----------------------------------------------


@pytest.fixture(scope="module")
def converted(export: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("converted") / "out"
    assert convert(str(export), "--out", str(out), "--quiet")[0] == 0
    return out


def test_validate_a_conversion_folder_finds_its_datasets_and_reports_outside_it(
    converted: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    before = files_of(converted)
    result = CliRunner().invoke(main, ["validate", str(converted), "--fail-on", "never"])
    assert result.exit_code == 0, result.output
    assert "reports go to validation" in result.output
    assert f"from {len(shipped_rules())} rules" in result.output and "ran" in result.output
    assert (tmp_path / "validation" / "findings.json").is_file()
    assert files_of(converted) == before  # nothing written into the checked folder


def test_validate_refuses_a_default_report_inside_the_checked_folder(
    converted: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(converted)
    result = CliRunner().invoke(main, ["validate", "."])
    assert result.exit_code == 4
    assert "the default report folder lies inside the folder being checked" in result.output


def test_validate_of_a_folder_without_datasets_names_the_dataset_folder(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["validate", str(tmp_path), "--report-dir", str(tmp_path.parent / "r")])
    assert result.exit_code == 2
    assert "The dataset folder has 1 problem" in result.output and "raw export" not in result.output


def test_define_and_tables_rewrite_only_a_conversions_output(tmp_path: Path, converted: Path) -> None:
    for command in ("define", "tables"):
        refused = CliRunner().invoke(main, [command, str(tmp_path)])
        assert refused.exit_code == 4 and "was not written by cdisc-cup convert" in refused.output
    empty = tmp_path / "empty-output"
    empty.mkdir()
    (empty / MANIFEST).write_text('{"tool": "cdisc-cup", "entries": [], "files": []}')
    define = CliRunner().invoke(main, ["define", str(empty)])
    assert define.exit_code == 2 and "output folder" in define.output and "raw export" not in define.output
    tables = CliRunner().invoke(main, ["tables", str(empty)])
    assert tables.exit_code == 2 and "The ADaM folder has 2 problems" in tables.output
    assert CliRunner().invoke(main, ["define", str(converted)]).exit_code == 0
    assert CliRunner().invoke(main, ["tables", str(converted)]).exit_code == 0


def test_fail_on_notice_fails_on_any_finding(converted: Path, tmp_path: Path) -> None:
    import json
    import shutil

    # Without its define.xml the IG's codelists apply, and ECOG101 is no oncology response code.
    sdtm = tmp_path / "sdtm"
    sdtm.mkdir()
    for xpt in (converted / "m5" / "datasets" / "isa-cup-de" / "tabulations" / "sdtm").glob("*.xpt"):
        shutil.copy(xpt, sdtm)
    report = tmp_path / "r"
    result = CliRunner().invoke(main, ["validate", str(sdtm), "--report-dir", str(report), "--fail-on", "notice"])
    counts = json.loads((report / "findings.json").read_text(encoding="utf-8"))["summary"]["by_severity"]
    assert sum(counts.values()) > 0
    assert result.exit_code == 1, result.output


# --- 7. one page for a conversion ----------------------------------------------------------------


def test_the_index_page_links_every_output_and_every_link_resolves(converted: Path) -> None:
    from lxml import html

    page = html.parse(str(converted / "index.html")).getroot()
    hrefs = [a.get("href") for a in page.iter("a")]
    assert "m5/datasets/isa-cup-de/tabulations/sdtm/define.html" in hrefs
    assert "m5/datasets/isa-cup-de/analysis/adam/datasets/define.html" in hrefs
    assert {"reports/validation/findings.html", "reports/reconciliation.html", "tables/index.html"} <= set(hrefs)
    assert "m5/datasets/isa-cup-de/tabulations/sdtm/dm.xpt" in hrefs
    for href in hrefs:
        assert (converted / href.split("#")[0]).is_file(), href
    assert "ISA-CUP-DE" in page.text_content() and "cdisc-cup" in page.text_content()


def test_validate_checks_with_the_ct_define_cites_or_the_one_chosen(converted: Path, tmp_path: Path) -> None:
    import json

    runner = CliRunner()
    cited = runner.invoke(main, ["validate", str(converted), "--report-dir", str(tmp_path / "a"), "--fail-on", "never"])
    assert cited.exit_code == 0, cited.output
    run = json.loads((tmp_path / "a" / "findings.json").read_text(encoding="utf-8"))["run"]
    assert "SDTM CT 2025-03-28" in run["terminology"]  # what our define.xml cites
    assert run["standards"] == ["ADaMIG 1.3", "SDTMIG 3.4"] and run["notes"] == []
    arguments = ["validate", str(converted), "--report-dir", str(tmp_path / "b"), "--fail-on", "never"]
    chosen = runner.invoke(main, [*arguments, "--ct", "sdtm-2015-12-18", "--standard", "sdtmig-3.3"])
    assert chosen.exit_code == 0, chosen.output
    run = json.loads((tmp_path / "b" / "findings.json").read_text(encoding="utf-8"))["run"]
    assert "SDTM CT 2015-12-18" in run["terminology"] and "SDTMIG 3.3" in run["standards"]


def test_validate_the_cdisc_pilot_says_which_guide_it_checked_against(shared_dir: Path, tmp_path: Path) -> None:
    import json

    pilot = shared_dir / "reference" / "cdiscpilot01"
    result = CliRunner().invoke(main, ["validate", str(pilot), "--report-dir", str(tmp_path / "r")])
    assert result.exit_code == 1  # the pilot has Errors (labels missing from its XPT files)
    document = json.loads((tmp_path / "r" / "findings.json").read_text(encoding="utf-8"))
    assert document["run"]["study"] == "CDISCPILOT01"
    assert document["run"]["standards"] == ["ADaMIG 1.1", "SDTMIG 3.2"]
    assert any("CDISC SDTM 3.1.2" in note for note in document["run"]["notes"])
    statuses = {rule["rule_id"]: rule for rule in document["rules"]}
    assert statuses["CU0001"]["status"] == "not applicable" and "ISA-CUP-DE" in statuses["CU0001"]["reason"]
    assert statuses["SD5031"]["reason"] == "DM: a rule of SDTMIG 3.3, 3.4; the datasets follow SDTMIG 3.2"
    assert {d["dataset"] for d in document["summary"]["by_dataset"]} >= {"DM", "AE", "ADSL", "ADAE", "ADTTE"}


def test_a_define_xml_that_is_not_xml_is_unusable_input_with_its_line(converted: Path, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "sdtm"
    shutil.copytree(converted / "m5" / "datasets" / "isa-cup-de" / "tabulations" / "sdtm", copy)
    (copy / "define.xml").write_text("<?xml version='1.0'?>\n<ODM>\n<Study>\n</ODM>\n")
    result = CliRunner().invoke(main, ["validate", str(copy), "--report-dir", str(tmp_path / "r")])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "define.xml, line 4: define.xml cannot be read as XML" in result.output
