"""Killing a conversion midway leaves the target folder as it was; CSV reports are formula-safe."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

from cdisc_cup.reports.spreadsheet_safe import neutralise_frame

REPO = Path(__file__).resolve().parents[2]


def test_killed_conversion_leaves_previous_output_untouched(tmp_path: Path) -> None:
    export = tmp_path / "export"
    subprocess.run(
        [
            sys.executable,
            str(REPO / "benchmarks" / "generate.py"),
            "--patients",
            "3000",
            "--out",
            str(export),
            "--seed",
            "3",
        ],
        check=True,
        capture_output=True,
    )
    out = tmp_path / "out"
    command = [sys.executable, "-m", "cdisc_cup.cli", "convert", str(export), "--out", str(out), "--quiet"]
    first = subprocess.run([*command[:4], str(REPO / "sample_data"), *command[5:]], capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    (out / "notes.sas").write_text("the user's own file beside the output")
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    staging: list[Path] = []
    while not staging and process.poll() is None and time.monotonic() < deadline:
        staging = list(out.glob(".cdisc-cup-staging-*"))
        time.sleep(0.01)
    assert staging, "the conversion finished or failed before it started writing"
    time.sleep(0.2)  # midway through writing the staging folder
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    after = {p: p.read_bytes() for p in out.rglob("*") if p.is_file() and ".cdisc-cup-staging-" not in str(p)}
    assert after == before
    # the next run removes the killed run's staging folder and replaces the output
    finished = subprocess.run(command, capture_output=True, text=True)
    assert finished.returncode == 0, finished.stderr
    assert not list(out.glob(".cdisc-cup-staging-*"))
    assert (out / "notes.sas").read_text() == "the user's own file beside the output"
    dm = out / "m5" / "datasets" / "isa-cup-de" / "tabulations" / "sdtm" / "dm.xpt"
    assert dm.read_bytes() != before[dm]  # the 3,000-patient export replaced the sample's output


def test_report_cells_cannot_start_a_formula() -> None:
    frame = pd.DataFrame({"value": ['=HYPERLINK("http://x")', "+1", "-2", "@SUM(A1)", "plain", None], "row": range(6)})
    safe = neutralise_frame(frame)
    assert safe["value"].tolist()[:5] == ['\'=HYPERLINK("http://x")', "'+1", "'-2", "'@SUM(A1)", "plain"]
    assert safe["row"].tolist() == list(range(6))
