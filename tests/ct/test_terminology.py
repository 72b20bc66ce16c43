"""CDISC controlled terminology shipped as package data (cdisc_cup.ct)."""

from __future__ import annotations

import filecmp
import subprocess
import sys
from pathlib import Path

import pytest

from cdisc_cup.ct import (
    codelist,
    codelist_by_code,
    codelist_for_variable,
    codelists_for_variable,
    load_codelists,
)

REPO = Path(__file__).resolve().parents[2]
REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "reference" / "cdisc-metadata"


@pytest.mark.parametrize(
    ("codelist_id", "codelist_code", "value", "term_code"),
    [
        ("SEX", "C66731", "M", "C20197"),
        ("SEX", "C66731", "F", "C16576"),
        ("NY", "C66742", "Y", "C49488"),
        ("ROUTE", "C66729", "ORAL", "C38288"),
        ("ROUTE", "C66729", "INTRAVENOUS", "C38276"),
        ("UNIT", "C71620", "mg", "C28253"),
        ("COUNTRY", "C66786", "DEU", "C16636"),
        ("DATEFL", "C81223", "D", "C81212"),
        ("ECOG1TC", "C101815", "ECOG101", "C102408"),
    ],
)
def test_known_terms_carry_their_nci_codes(codelist_id: str, codelist_code: str, value: str, term_code: str) -> None:
    found = codelist(codelist_id)
    assert found.nci_code == codelist_code
    term = found.term(value)
    assert term is not None and term.nci_code == term_code
    assert value in found.values()


def test_extensibility_follows_the_packages() -> None:
    assert codelist("NY").extensible is False
    assert codelist("SEX").extensible is False
    assert codelist("UNIT").extensible is True
    assert codelist("ROUTE").extensible is True


def test_sources_are_recorded() -> None:
    assert codelist("SEX").source == "SDTM CT 2015-12-18"
    assert codelist("DTYPE").source == "ADaM CT 2025-09-26"
    assert codelist("ORIGINT").source == "Define-XML CT 2025-09-26"
    assert codelist("ARMNULRS").source.startswith("newer CDISC CT")


def test_unknown_codelist_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match=r"Unknown codelist 'NOPE'.*SEX"):
        codelist("NOPE")


def test_term_lookup_of_unknown_value_is_none() -> None:
    assert codelist("SEX").term("X") is None


def test_codelist_by_code() -> None:
    found = codelist_by_code("C66742")
    assert found is not None and found.id == "NY"
    assert codelist_by_code("C0") is None


@pytest.mark.parametrize(
    ("standard", "dataset", "variable", "expected"),
    [
        ("SDTMIG", "AE", "AESER", "NY"),
        ("SDTMIG", "DM", "SEX", "SEX"),
        ("SDTMIG", "DM", "ARMNRS", "ARMNULRS"),  # from specs/ct/sponsor.yaml
        ("SDTMIG", "EX", "EXROUTE", "ROUTE"),
        ("SDTMIG", "VS", "VSORRESU", "VSRESU"),
        ("SDTMIG", "LB", "LBSTAT", "ND"),  # generic --STAT, LB not shipped
        ("SDTMIG", "SUPPAE", "QEVAL", "EVAL"),
        ("SDTMIG", "DS", "DSDECOD", "NCOMPLT|PROTMLST"),
        ("ADaMIG", "ADSL", "TR01SDTF", "DATEFL"),
        ("ADaMIG", "ADAE", "ASTDTF", "DATEFL"),
        ("ADaMIG", "ADAE", "AESEV", "AESEV"),  # copied from SDTM AE
        ("ADaMIG", "ADSL", "EOSSTT", "SBJTSTAT"),
    ],
)
def test_variable_to_codelist(standard: str, dataset: str, variable: str, expected: str) -> None:
    found = codelist_for_variable(standard, dataset, variable)
    assert found is not None and found.id == expected


def test_variables_without_codelist() -> None:
    assert codelist_for_variable("SDTMIG", "AE", "AETERM") is None
    assert codelist_for_variable("SDTMIG", "LB", "LBTESTCD") is None  # differs by domain
    assert codelist_for_variable("ADaMIG", "ADAE", "TRTEMFL") is None


def test_merged_codelist_accepts_values_of_each() -> None:
    merged = codelist_for_variable("SDTMIG", "DS", "DSDECOD")
    parts = codelists_for_variable("SDTMIG", "DS", "DSDECOD")
    assert merged is not None and len(parts) == 2
    assert merged.values() == parts[0].values() | parts[1].values()


def test_extra_file_replaces_a_codelist(tmp_path: Path) -> None:
    extra = tmp_path / "study_ct.yaml"
    extra.write_text(
        "codelists:\n"
        "  - id: SEX\n    name: Sex (study)\n    extensible: false\n"
        "    terms: [{value: M, decode: Male}]\n",
        encoding="utf-8",
    )
    loaded = load_codelists(extra)
    assert loaded["SEX"].values() == {"M"}
    assert "sponsor-defined" in loaded["SEX"].source
    assert codelist("SEX").values() == {"M", "F", "U", "UNDIFFERENTIATED"}


def test_bad_extra_file_is_reported(tmp_path: Path) -> None:
    extra = tmp_path / "bad.yaml"
    extra.write_text("codelists:\n  - id: X\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad.yaml: codelist 1 lacks name, terms"):
        load_codelists(extra)


@pytest.mark.skipif(not REFERENCE.is_dir(), reason="CDISC reference metadata not available")
def test_build_script_regenerates_the_committed_files(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            str(REPO / "tools" / "build_ct.py"),
            "--reference",
            str(REFERENCE),
            "--out",
            str(tmp_path),
        ],
        check=True,
        capture_output=True,
    )
    data = REPO / "cdisc_cup" / "ct" / "data"
    for name in ("codelists.csv", "variable_codelists.csv"):
        assert filecmp.cmp(tmp_path / name, data / name, shallow=False), name
