"""`cdisc-cup convert` as a user runs it: exit codes, messages, no traceback, atomic output."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyreadstat
from click.testing import CliRunner

from cdisc_cup.cli import main
from cdisc_cup.pipeline import ConversionResult
from tests.exports import PATIENTS, write_export

REPO = Path(__file__).resolve().parents[1]


def test_help_of_every_command_has_an_example() -> None:
    runner = CliRunner()
    for command in [[], *[[name] for name in main.commands]]:
        result = runner.invoke(main, [*command, "--help"])
        assert result.exit_code == 0 and "Example" in result.output, command


def test_sample_conversion_reads_back_with_labels(converted_sample: ConversionResult) -> None:
    sdtm = converted_sample.sdtm_dir
    assert sdtm.parts[-5:] == ("m5", "datasets", "isa-cup-de", "tabulations", "sdtm")
    dm, meta = pyreadstat.read_xport(str(sdtm / "dm.xpt"))
    assert meta.file_label == "Demographics" and meta.column_names_to_labels["USUBJID"] == "Unique Subject Identifier"
    assert len(dm) == 18 and dm["SEX"].value_counts().to_dict() == {"F": 10, "M": 8} and dm["AGE"].median() == 67
    ae = pd.read_sas(sdtm / "ae.xpt", format="xport", encoding="ascii")
    assert len(ae) == 29
    ex, _ = pyreadstat.read_xport(str(sdtm / "ex.xpt"))
    administrations = pd.read_csv(REPO / "sample_data" / "administrations.csv", sep=";", dtype=str)
    assert len(ex) == len(administrations)
    assert set(ex["VISIT"].str.extract(r"^(CYCLE \d+ DAY \d+)$")[0].dropna()) == set(ex["VISIT"])


def test_reconciliation_accounts_for_every_raw_record(converted_sample: ConversionResult) -> None:
    reconciliation = converted_sample.reconciliation
    assert (reconciliation["rows_read"] == reconciliation["rows_mapped"] + reconciliation["rows_not_mapped"]).all()
    assert (reconciliation["rows_not_mapped"] == 0).all()
    for name in ("patients.csv", "administrations.csv", "adverse_events.csv", "end_of_treatment.csv"):
        raw = pd.read_csv(REPO / "sample_data" / name, sep=";", dtype=str, encoding="utf-8-sig")
        assert reconciliation.set_index("file").loc[name, "rows_read"] == len(raw)
    trace = pd.read_csv(converted_sample.layout.reports / "audit" / "trace.csv")
    assert len(trace) == sum(len(frame) for frame in converted_sample.sdtm.values())


def test_bad_input_exit_code_message_and_no_traceback(tmp_path: Path) -> None:
    patients = list(PATIENTS)
    patients[2] = patients[2].replace("15.08.2020", "31.02.2021")
    export = write_export(tmp_path / "export", patients=patients)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["convert", str(export), "--out", str(out)])
    assert result.exit_code == 2
    assert "patients.csv, line 3, column REGDAT" in result.output and "'31.02.2021'" in result.output
    assert "Traceback" not in result.output
    assert not out.exists()


def test_core_rules_that_are_not_core_rules_stop_the_run_before_any_work(tmp_path: Path) -> None:
    not_rules = tmp_path / "rules"
    not_rules.mkdir()
    out = tmp_path / "out"
    arguments = ["convert", str(REPO / "sample_data"), "--out", str(out), "--core-rules", str(not_rules)]
    result = CliRunner().invoke(main, arguments)
    assert result.exit_code == 2
    assert f"{not_rules}: no CORE rule.yml here or in its subfolders" in result.output
    assert "Traceback" not in result.output and not out.exists()


def test_greek_letters_and_signs_are_written_out_for_xport(tmp_path: Path) -> None:
    patients = [line.replace("Leichtketten lambda", "Leichtketten λ") for line in PATIENTS]
    assert any("λ" in line for line in patients)
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main, ["convert", str(write_export(tmp_path / "export", patients=patients)), "--out", str(out), "--quiet"]
    )
    assert result.exit_code == 0, result.output
    supp, _ = pyreadstat.read_xport(str(next(out.rglob("suppmh.xpt"))))
    assert "Leichtketten lambda" in set(supp["QVAL"])


def test_failed_run_leaves_previous_output_untouched(tmp_path: Path) -> None:
    export = write_export(tmp_path / "export")
    out = tmp_path / "out"
    runner = CliRunner()
    assert runner.invoke(main, ["convert", str(export), "--out", str(out)]).exit_code == 0
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    (export / "adverse_events.csv").write_text("PATNO;AENO\n01-001;x\n")
    assert runner.invoke(main, ["convert", str(export), "--out", str(out)]).exit_code == 2
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert [p.name for p in out.iterdir() if "staging" in p.name] == []


def test_two_runs_give_identical_bytes(tmp_path: Path) -> None:
    export = write_export(tmp_path / "export")
    runner = CliRunner()
    for name in ("a", "b"):
        assert runner.invoke(main, ["convert", str(export), "--out", str(tmp_path / name)]).exit_code == 0
    first = sorted((tmp_path / "a").rglob("*.xpt")) + sorted((tmp_path / "a").rglob("define.xml"))
    assert first
    for path in first:
        assert path.read_bytes() == (tmp_path / "b" / path.relative_to(tmp_path / "a")).read_bytes(), path
