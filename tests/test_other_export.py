"""A second export in the same format, other patients, dates and terms: no code change needed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from cdisc_cup.findings import explanations_of
from cdisc_cup.pipeline import ConversionResult, convert, validate_submission

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def other(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ConversionResult]:
    export = tmp_path_factory.mktemp("other") / "export"
    subprocess.run(
        [
            sys.executable,
            str(REPO / "benchmarks" / "generate.py"),
            "--patients",
            "250",
            "--out",
            str(export),
            "--seed",
            "11",
        ],
        check=True,
        capture_output=True,
    )
    return export, convert(export, export.parent / "out")


def raw(export: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(export / name, sep=";", dtype=str, encoding="utf-8-sig", keep_default_na=False)


def test_every_raw_record_becomes_sdtm(other: tuple[Path, ConversionResult]) -> None:
    export, result = other
    assert len(result.sdtm["DM"]) == len(raw(export, "patients.csv"))
    assert len(result.sdtm["EX"]) == len(raw(export, "administrations.csv"))
    assert len(result.sdtm["AE"]) == len(raw(export, "adverse_events.csv")) == len(result.adam["ADAE"])
    assert (result.reconciliation["rows_not_mapped"] == 0).all()


def test_derived_values_follow_the_raw_data(other: tuple[Path, ConversionResult]) -> None:
    export, result = other
    administrations = raw(export, "administrations.csv")
    first_dose = pd.to_datetime(administrations["STARTDAT"], format="%d.%m.%Y").groupby(administrations["PATNO"]).min()
    dm = result.sdtm["DM"].set_index("SUBJID")
    assert (pd.to_datetime(dm.loc[first_dose.index, "RFSTDTC"]) == first_dose).all()
    ae = result.sdtm["AE"]
    assert set(ae["AEDECOD"]) == set(raw(export, "adverse_events.csv")["PT"])
    adae = result.adam["ADAE"]
    dm_by_subject = result.sdtm["DM"].set_index("USUBJID")
    first = pd.to_datetime(adae["USUBJID"].map(dm_by_subject["RFXSTDTC"]))
    last = pd.to_datetime(adae["USUBJID"].map(dm_by_subject["RFXENDTC"]))
    emergent = adae["ASTDT"].notna() & (adae["ASTDT"] >= first) & (adae["ASTDT"] <= last + pd.Timedelta(days=30))
    assert ((adae["TRTEMFL"] == "Y") == emergent).all()
    assert 0 < emergent.sum() < len(adae)


def test_no_conformance_error(other: tuple[Path, ConversionResult]) -> None:
    _, result = other
    findings = result.findings
    errors = findings[findings["severity"] == "Error"]
    # This export has two Neutropenia events of one patient starting on one day: the AE keys
    # (with AESPID) still tell them apart (DX0011).
    assert errors.to_dict("records") == []


def test_every_core_finding_is_explained(
    other: tuple[Path, ConversionResult], shared_dir: Path, tmp_path: Path
) -> None:
    """CDISC CORE's published rules on an export the specs were not written for: what they
    still find is what the study's explanations.yaml explains (issue #17)."""
    _, result = other
    outcome = validate_submission(
        result.sdtm_dir, report_dir=tmp_path / "qc", rule_paths=[shared_dir / "core-rules" / "Published"]
    )
    (checked,) = outcome.studies
    findings = checked.validation.findings
    assert len(findings) and findings["rule_id"].str.startswith("CORE-").all()
    unexplained = findings[explanations_of(findings, checked.validation.explanations).eq("")]
    assert unexplained[["rule_id", "dataset", "variable", "value"]].to_dict("records") == []
