"""Each defect class of a broken export, through the CLI: exit code 2, located message, no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from cdisc_cup.cli import main
from tests.conftest import SAMPLE_DATA
from tests.exports import (
    ADMINISTRATIONS,
    ADVERSE_EVENTS,
    FILES,
    PATIENTS,
    with_delimiter,
    without_columns,
    write_export,
)


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
        {"adverse_events": replaced(ADVERSE_EVENTS, 3, ";2;N;;", ";6;N;;")},
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


def _points(lines: list[str]) -> list[str]:
    return [lines[0], *(line.replace("75,5", "75.5").replace("58,2", "58.2") for line in lines[1:])]


def _comma_export(folder: Path) -> None:
    write_export(folder, **{name.removesuffix(".csv"): with_delimiter(lines, ",") for name, lines in FILES.items()})


def _cp1252_events(folder: Path) -> None:
    write_export(folder)
    (folder / "adverse_events.csv").write_bytes("\n".join(ADVERSE_EVENTS).encode("cp1252"))


def _utf16_patients(folder: Path) -> None:
    write_export(folder)
    (folder / "patients.csv").write_bytes("\n".join(PATIENTS).encode("utf-16"))


WHOLESALE = {  # mistake -> (export writer, the one message per file, number of problems of the run)
    "comma-delimited export": (
        _comma_export,
        [
            f"{name}, line 1: the file is separated by ',' but the spec expects ';'"
            f" (value '{lines[0][:40].replace(';', ',')}"
            for name, lines in FILES.items()
        ],
        4,
    ),
    "Windows-1252 file with umlauts": (
        _cp1252_events,
        [
            "adverse_events.csv, line 3: the file looks like Windows-1252 (Latin-1) text; the spec expects UTF-8"
            " (value 'Übelkeit'); expected UTF-8 text (save the export as UTF-8, or set encoding: cp1252"
        ],
        1,
    ),
    "UTF-16 file": (
        _utf16_patients,
        ["patients.csv, line 1: the file is UTF-16 text; the spec expects UTF-8 (value 'FF FE 43 00 45 00 4E 00')"],
        1,
    ),
    "decimal points in a German export": (
        lambda folder: write_export(folder, patients=_points(PATIENTS)),
        [
            "patients.csv, line 2, column WEIGHT: decimal numbers are written with '.' but the spec expects ','"
            " (2 records) (value '75.5'); expected numbers with ',' as decimal mark (reader option decimal"
        ],
        1,
    ),
    "missing header row": (
        lambda folder: write_export(folder, patients=PATIENTS[1:]),
        [
            "patients.csv, line 1: line 1 is not the header of patients.csv: none of the expected columns found"
            f" (value '{PATIENTS[1]}'); expected a header line with the columns CENTRE, PATNO, REGDAT"
        ],
        1,
    ),
    "two missing columns": (
        lambda folder: write_export(folder, patients=without_columns(PATIENTS, "HEIGHT", "ECOG")),
        [
            "patients.csv, line 1, column HEIGHT, ECOG: required columns missing;"
            " expected the columns " + PATIENTS[0].replace(";", ", ") + "\n"
        ],
        1,
    ),
}


@pytest.mark.parametrize("mistake", list(WHOLESALE))
def test_wholesale_mistake_is_one_message_per_file(tmp_path: Path, mistake: str) -> None:
    write, messages, count = WHOLESALE[mistake]
    write(tmp_path / "export")
    result = CliRunner().invoke(main, ["convert", str(tmp_path / "export"), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    for message in messages:
        assert result.output.count(message) == 1, result.output
    assert f"The raw export has {count} problem{'s' if count > 1 else ''}:" in result.output
    assert result.output.count("\n  - ") == count, result.output
    assert "Traceback" not in result.output and not (tmp_path / "out").exists()


def test_sample_export_saved_with_commas_is_four_messages_not_hundreds(tmp_path: Path) -> None:
    export = tmp_path / "export"
    export.mkdir()
    for path in SAMPLE_DATA.glob("*.csv"):
        lines = path.read_text(encoding="utf-8-sig").splitlines()
        (export / path.name).write_text("\n".join(with_delimiter(lines, ",")) + "\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["convert", str(export), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert "The raw export has 4 problems:" in result.output
    assert result.output.count("line 1: the file is separated by ',' but the spec expects ';'") == 4
    assert "Traceback" not in result.output


def test_missing_file_and_non_utf8(tmp_path: Path) -> None:
    export = write_export(tmp_path / "export")
    (export / "end_of_treatment.csv").unlink()
    (export / "patients.csv").write_bytes(
        "\n".join(PATIENTS).replace("Leichtketten", "Leichtk\xe4tten").encode("latin-1")
    )
    result = CliRunner().invoke(main, ["convert", str(export), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "end_of_treatment.csv: raw file missing" in result.output
    assert (
        "patients.csv, line 3: the file looks like Windows-1252 (Latin-1) text; the spec expects UTF-8"
        " (value 'Leichtkätten')"
    ) in result.output
    assert "Traceback" not in result.output


def test_spec_error_exit_code(tmp_path: Path) -> None:
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "study.yaml").write_text("study: {studyid: X}\n")
    result = CliRunner().invoke(main, ["convert", str(write_export(tmp_path / "e")), "--specs", str(specs)])
    assert result.exit_code == 3 and "study.yaml" in result.output and "Traceback" not in result.output
