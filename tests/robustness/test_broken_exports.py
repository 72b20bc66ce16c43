"""Each defect class of a broken export, through the CLI: exit code 2, located message, no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from cdisc_cup.cli import main
from tests.exports import ADMINISTRATIONS, ADVERSE_EVENTS, PATIENTS, write_export


def replaced(lines: list[str], line: int, old: str, new: str) -> list[str]:
    changed = list(lines)
    assert old in changed[line - 1]
    changed[line - 1] = changed[line - 1].replace(old, new, 1)
    return changed


DEFECTS = {
    "impossible date": (
        {"administrations": replaced(ADMINISTRATIONS, 3, "23.07.2020", "31.02.2021")},
        "administrations.csv, line 3, column ENDDAT",
        "31.02.2021",
    ),
    "raw code outside the codelist": (
        {"administrations": replaced(ADMINISTRATIONS, 3, "POMALIDOMIDE", "CARFILZOMIB")},
        "administrations.csv, line 3, column DRUG",
        "CARFILZOMIB",
    ),
    "duplicated PATNO": ({"patients": [*PATIENTS, PATIENTS[1]]}, "patients.csv, line 5, column PATNO", "01-001"),
    "AE of an unknown patient": (
        {"adverse_events": replaced(ADVERSE_EVENTS, 2, "01-001;2;", "09-999;2;")},
        "adverse_events.csv, line 2, column PATNO",
        "09-999",
    ),
    "missing required column": (
        {
            "patients": [
                PATIENTS[0].replace(";ECOG", ""),
                *(
                    p.replace(";1;UN.03", ";UN.03").replace(";0;UN.UN", ";UN.UN").replace(";2;03.02", ";03.02")
                    for p in PATIENTS[1:]
                ),
            ]
        },
        "patients.csv, line 1, column ECOG",
        "required column missing",
    ),
    "non-numeric weight": (
        {"patients": replaced(PATIENTS, 2, ";75,5;", ";schwer;")},
        "patients.csv, line 2, column WEIGHT",
        "schwer",
    ),
    "grade outside 1-5": (
        {"adverse_events": replaced(ADVERSE_EVENTS, 3, ";2;N;Y;", ";6;N;Y;")},
        "adverse_events.csv, line 3, column GRADE",
        "'6'",
    ),
    "stop before start": (
        {"adverse_events": replaced(ADVERSE_EVENTS, 4, "25.08.2020", "20.08.2020")},
        "adverse_events.csv, line 4, column STOPDAT",
        "STOPDAT is before STARTDAT",
    ),
    "empty file": ({"end_of_treatment": []}, "end_of_treatment.csv", "the file is empty"),
}


@pytest.mark.parametrize("defect", list(DEFECTS))
def test_defect_is_reported_with_its_location(tmp_path: Path, defect: str) -> None:
    files, location, detail = DEFECTS[defect]
    export = write_export(tmp_path / "export", **files)
    if defect == "empty file":
        (export / "end_of_treatment.csv").write_bytes(b"")
    result = CliRunner().invoke(main, ["convert", str(export), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert location in result.output and detail in result.output
    assert "Traceback" not in result.output and not (tmp_path / "out").exists()


def test_missing_file_and_non_utf8(tmp_path: Path) -> None:
    export = write_export(tmp_path / "export")
    (export / "end_of_treatment.csv").unlink()
    (export / "patients.csv").write_bytes(
        "\n".join(PATIENTS).replace("Leichtketten", "Leichtk\xe4tten").encode("latin-1")
    )
    result = CliRunner().invoke(main, ["convert", str(export), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "end_of_treatment.csv: raw file missing" in result.output
    assert "patients.csv, line 3: the file looks like Windows-1252 (Latin-1) text; the spec expects UTF-8" in result.output
    assert "(value 'Leichtkätten')" in result.output
    assert "Traceback" not in result.output


def test_spec_error_exit_code(tmp_path: Path) -> None:
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "study.yaml").write_text("study: {studyid: X}\n")
    result = CliRunner().invoke(main, ["convert", str(write_export(tmp_path / "e")), "--specs", str(specs)])
    assert result.exit_code == 3 and "study.yaml" in result.output and "Traceback" not in result.output
