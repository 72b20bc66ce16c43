"""An export written by benchmarks/independent_export.py, built from FORMAT.md and the paper
only (not from the project's generator or readers), converts with no Error finding, and CDISC
CORE's published rules find nothing in it that the study's explanations.yaml does not explain."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

import pytest

from cdisc_cup.findings import explanations_of
from cdisc_cup.pipeline import ConversionResult, convert

REPO = Path(__file__).resolve().parents[1]
WRITER = REPO / "benchmarks" / "independent_export.py"
FILES = ("patients.csv", "administrations.csv", "adverse_events.csv", "end_of_treatment.csv")
PATIENTS = 200
# Issue #17's done-when: a 400-patient export the project has never seen leaves no CORE finding
# unexplained. Seed 4242 is the one docs/core-rules.md counts the findings of.
CORE_PATIENTS, CORE_SEED = 400, 4242
BOM = b"\xef\xbb\xbf"


def write(out: Path, seed: int, *options: str, patients: int = PATIENTS) -> Path:
    command = [sys.executable, str(WRITER), "--patients", str(patients), "--out", str(out), "--seed", str(seed)]
    subprocess.run([*command, *options], check=True, capture_output=True)
    return out


@pytest.fixture(scope="module")
def stranger(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ConversionResult]:
    folder = tmp_path_factory.mktemp("stranger")
    export = write(folder / "export", 3, "--no-long-verbatim")
    return export, convert(export, folder / "out")


@pytest.fixture(scope="module")
def with_core(tmp_path_factory: pytest.TempPathFactory, shared_dir: Path) -> ConversionResult:
    """`convert --core-rules` on an export with its long verbatim: one conversion serves the
    CORE test and the long-text test, so CORE's rules also see SUPPAE's continuation records."""
    folder = tmp_path_factory.mktemp("with_core")
    export = write(folder / "export", CORE_SEED, patients=CORE_PATIENTS)
    return convert(export, folder / "out", core_rule_paths=[shared_dir / "core-rules" / "Published"])


def test_the_export_has_what_a_friendly_generator_leaves_out(stranger: tuple[Path, ConversionResult]) -> None:
    export, _ = stranger
    data = {name: (export / name).read_bytes() for name in FILES}
    assert {content.startswith(BOM) for content in data.values()} == {True, False}
    assert {b"\r\n" in content for content in data.values()} == {True, False}
    assert any(not content.endswith(b"\n") for content in data.values())
    assert not data["patients.csv"].lstrip(BOM).startswith(b"CENTRE;PATNO")  # not the contract's order
    aes = data["adverse_events.csv"].decode("utf-8-sig")
    assert "UN.UN.20" in aes and "UN.0" in aes and "ü" in aes
    # Line breaks inside quoted fields: more physical lines than records (header included).
    records = list(csv.reader(io.StringIO(aes, newline=""), delimiter=";"))
    assert len(aes.splitlines()) > len(records)


def test_it_converts_with_no_error_finding(stranger: tuple[Path, ConversionResult]) -> None:
    _, result = stranger
    findings = result.findings
    assert findings is not None and len(result.sdtm["DM"]) == PATIENTS
    assert (result.reconciliation["rows_not_mapped"] == 0).all()
    errors = findings[findings["severity"] == "Error"]
    assert errors[["rule_id", "dataset", "variable", "value"]].to_dict("records") == []
    # The verbatims typed on two lines reach AETERM as one line of printable ASCII.
    aeterm = result.sdtm["AE"]["AETERM"]
    assert aeterm.str.contains("Nachtrag").any() and not aeterm.str.contains("\n").any()


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    first, again, other = (write(tmp_path / name, seed) for name, seed in (("a", 5), ("b", 5), ("c", 6)))
    for name in FILES:
        assert (first / name).read_bytes() == (again / name).read_bytes(), name
        assert (first / name).read_bytes() != (other / name).read_bytes(), name


def test_a_verbatim_over_200_characters_converts(with_core: ConversionResult) -> None:
    """SDTMIG 3.4 section 4.5.3.2: AETERM keeps the first 200 characters, SUPPAE AETERM1 the rest."""
    findings = with_core.findings
    assert findings is not None
    ours = findings[~findings["rule_id"].str.startswith("CORE-")]  # CORE's: the next test
    assert ours[ours["severity"] == "Error"].to_dict("records") == []
    assert (with_core.reconciliation["rows_not_mapped"] == 0).all()
    suppae = with_core.sdtm["SUPPAE"]
    continued = suppae[suppae["QNAM"] == "AETERM1"]
    assert len(continued) == 1 and with_core.sdtm["AE"]["AETERM"].str.len().max() <= 200


def test_every_core_finding_is_explained(with_core: ConversionResult) -> None:
    """Each finding of CORE's rules was decided on (mapping fixed, rule translation fixed, or
    the data is as collected and explanations.yaml says why); a new one fails here until it is."""
    validation = with_core.validation
    assert validation is not None and "CDISC CORE rules (330 rules)" in validation.run.rule_set
    assert len(with_core.sdtm["DM"]) == CORE_PATIENTS
    findings = validation.findings
    core = findings[findings["rule_id"].str.startswith("CORE-")]
    assert len(core)  # the explained ones (AEBDSYCD without MedDRA codes, ...) are still found
    unexplained = core[explanations_of(core, validation.explanations).eq("")]
    assert unexplained[["rule_id", "dataset", "variable", "value"]].to_dict("records") == []
