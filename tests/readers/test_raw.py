"""The raw reader: every option of the German-locale contract, and every defect located."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pandas as pd
import pyreadstat
import pytest

from cdisc_cup.errors import InputErrors, Problem
from cdisc_cup.provenance import LINE
from cdisc_cup.readers.raw import read_raw_export, read_raw_file, unknown_files
from cdisc_cup.spec.loader import load_study
from cdisc_cup.spec.model import ReaderOptions
from tests.exports import (
    ADMINISTRATIONS,
    ADVERSE_EVENTS,
    END_OF_TREATMENT,
    FILES,
    PATIENTS,
    with_delimiter,
    without_columns,
    write_export,
)

STUDY = load_study()


def problems_of(export: Path) -> list[Problem]:
    with pytest.raises(InputErrors) as error:
        read_raw_export(export, STUDY)
    return error.value.problems


def only(problems: list[Problem], column: str) -> Problem:
    matching = [p for p in problems if p.column == column]
    assert len(matching) == 1, problems
    return matching[0]


def test_bom_crlf_decimal_comma_and_partial_dates(tmp_path: Path) -> None:
    raw = read_raw_export(write_export(tmp_path, newline="\r\n", bom=True), STUDY)
    patients = raw["patients"].frame
    assert list(patients["CENTRE"]) == ["01", "02", "02"]  # BOM not glued to the first column name
    assert list(patients["WEIGHT"]) == [75.5, 60.0, 58.2]
    assert list(patients["DIAGDAT"]) == ["2013-03", "2010", "2015-02-03"]
    assert list(patients["REGDAT"]) == ["2020-07-01", "2020-08-15", "2020-08-20"]
    assert list(patients[LINE]) == [2, 3, 4]
    assert not patients["MMTYPE"].str.endswith("\r").any()


def test_shuffled_and_extra_columns(tmp_path: Path) -> None:
    header, *rows = ADMINISTRATIONS
    columns = header.split(";")
    order = list(reversed(range(len(columns))))
    shuffled = [";".join([line.split(";")[i] for i in order] + ["x"]) for line in rows]
    export = write_export(tmp_path, administrations=[";".join([columns[i] for i in order] + ["LASTEDIT"]), *shuffled])
    table = read_raw_export(export, STUDY)["administrations"]
    assert table.extra_columns == ["LASTEDIT"]
    assert list(table.frame["DRUG"])[:2] == ["ISATUXIMAB", "POMALIDOMIDE"]
    assert list(table.frame["DOSE"])[:2] == [10.0, 4.0]


def test_quoted_field_with_a_line_break_keeps_line_numbers(tmp_path: Path) -> None:
    events = list(ADVERSE_EVENTS)
    events[1] = events[1].replace(";Sturz;", ';"Sturz\nim Bad";')
    table = read_raw_export(write_export(tmp_path, adverse_events=events), STUDY)["adverse_events"]
    assert list(table.frame[LINE]) == [2, 4, 5]


def test_impossible_date(tmp_path: Path) -> None:
    administrations = [
        *ADMINISTRATIONS[:2],
        ADMINISTRATIONS[2].replace("23.07.2020", "31.02.2021"),
        *ADMINISTRATIONS[3:],
    ]
    problem = only(problems_of(write_export(tmp_path, administrations=administrations)), "ENDDAT")
    assert (problem.file.endswith("administrations.csv"), problem.line, problem.value) == (True, 3, "31.02.2021")
    assert "impossible date" in problem.message


@pytest.mark.parametrize(
    ("file", "line", "old", "new", "column", "message"),
    [
        ("administrations", 3, "POMALIDOMIDE", "CARFILZOMIB", "DRUG", "code list"),
        ("patients", 2, ";75,5;", ";schwer;", "WEIGHT", "not a number"),
        ("patients", 2, ";75,5;", ";75.5;", "WEIGHT", "not a number"),  # a decimal point in a German export
        ("adverse_events", 3, ";2;N;;", ";6;N;;", "GRADE", "code list"),
        ("patients", 3, ";UN.UN.2010;", ";15.UN.2010;", "DIAGDAT", "layout"),
        ("adverse_events", 2, "01-001;2;", "09-999;2;", "PATNO", "not in patients.csv"),
        ("patients", 2, ";70;", ";;", "AGE", "missing"),
    ],
)
def test_defect_is_located(tmp_path: Path, file: str, line: int, old: str, new: str, column: str, message: str) -> None:
    lines = list({"patients": PATIENTS, "administrations": ADMINISTRATIONS, "adverse_events": ADVERSE_EVENTS}[file])
    assert old in lines[line - 1]
    lines[line - 1] = lines[line - 1].replace(old, new)
    problem = only(problems_of(write_export(tmp_path, **{file: lines})), column)
    assert problem.line == line and message in f"{problem.message} {problem.expected}"
    assert problem.file.endswith(f"{file}.csv")


def test_duplicated_key_names_both_lines(tmp_path: Path) -> None:
    problem = only(problems_of(write_export(tmp_path, patients=[*PATIENTS, PATIENTS[1]])), "PATNO")
    assert problem.line == 5 and "first on line 2" in str(problem.value)


def test_stop_before_start(tmp_path: Path) -> None:
    events = list(ADVERSE_EVENTS)
    events[3] = events[3].replace("21.08.2020;25.08.2020", "21.08.2020;20.08.2020")
    problem = only(problems_of(write_export(tmp_path, adverse_events=events)), "STOPDAT")
    assert problem.line == 4 and "before STARTDAT" in problem.message


def test_all_problems_of_a_run_are_reported_together(tmp_path: Path) -> None:
    patients = [PATIENTS[0].replace(";ECOG", ";ECOGX"), *PATIENTS[1:]]
    end = [*END_OF_TREATMENT[:1], END_OF_TREATMENT[1].replace("31.01.2021", "32.01.2021"), *END_OF_TREATMENT[2:]]
    problems = problems_of(write_export(tmp_path, patients=patients, end_of_treatment=end))
    assert {"ECOG", "EOTDAT"} <= {p.column for p in problems}
    missing = only(problems, "ECOG")
    assert missing.line == 1 and "required column missing" in missing.message


def test_missing_empty_and_non_utf8_files(tmp_path: Path) -> None:
    export = write_export(tmp_path)
    (export / "end_of_treatment.csv").unlink()
    (export / "adverse_events.csv").write_bytes(b"")
    (export / "patients.csv").write_bytes(
        "\n".join(PATIENTS).replace("Leichtketten", "Leichtk\xe4tten").encode("latin-1")
    )
    messages = {Path(p.file).name: p for p in problems_of(export)}
    assert "missing" in messages["end_of_treatment.csv"].message
    assert "empty" in messages["adverse_events.csv"].message
    assert "UTF-8" in str(messages["patients.csv"]) and messages["patients.csv"].line == 3


def test_comma_delimited_export_is_one_problem_per_file(tmp_path: Path) -> None:
    resaved = {name.removesuffix(".csv"): with_delimiter(lines, ",") for name, lines in FILES.items()}
    assert '"75,5"' in resaved["patients"][1]  # quoted as a spreadsheet program writes it
    problems = problems_of(write_export(tmp_path, **resaved))
    assert sorted(Path(p.file).name for p in problems) == sorted(FILES)
    for problem in problems:
        assert problem.message == "the file is separated by ',' but the spec expects ';'"
        assert problem.line == 1 and problem.column is None
        header = FILES[Path(problem.file).name][0].replace(";", ",")
        assert problem.value == (header if len(header) <= 80 else header[:79] + "…")
        assert problem.expected == "fields separated by ';' (reader option delimiter in study.yaml)"


def test_tab_delimited_file_names_the_tab(tmp_path: Path) -> None:
    export = write_export(tmp_path, end_of_treatment=with_delimiter(END_OF_TREATMENT, "\t"))
    [problem] = problems_of(export)
    assert problem.message == "the file is separated by '\\t' but the spec expects ';'"
    assert (Path(problem.file).name, problem.line, problem.value) == (
        "end_of_treatment.csv",
        1,
        "PATNO\tEOTDAT\tDISCONT\tREASON\tDEATHDAT",
    )


def test_windows_1252_file_with_umlauts_is_one_problem(tmp_path: Path) -> None:
    export = write_export(tmp_path)
    (export / "adverse_events.csv").write_bytes(
        "\n".join(ADVERSE_EVENTS).replace("Juckreiz", "Hautrötung").encode("cp1252")
    )
    [problem] = problems_of(export)
    assert Path(problem.file).name == "adverse_events.csv"
    assert problem.message == "the file looks like Windows-1252 (Latin-1) text; the spec expects UTF-8"
    assert (problem.line, problem.value) == (3, "Übelkeit")  # the first umlaut, not the later ones
    assert problem.expected == (
        "UTF-8 text (save the export as UTF-8, or set encoding: cp1252 in the reader options of study.yaml)"
    )


@pytest.mark.parametrize(("encoding", "first_bytes"), [("utf-16", "FF FE 43 00"), ("utf-16-le", "43 00 45 00")])
def test_utf16_file_is_one_problem(tmp_path: Path, encoding: str, first_bytes: str) -> None:
    export = write_export(tmp_path)
    (export / "patients.csv").write_bytes("\n".join(PATIENTS).encode(encoding))
    [problem] = problems_of(export)  # nor a reference problem for every record pointing at patients.csv
    assert Path(problem.file).name == "patients.csv"
    assert problem.message == "the file is UTF-16 text; the spec expects UTF-8"
    assert problem.line == 1 and problem.value is not None and problem.value.startswith(first_bytes)
    assert "save the export as UTF-8" in str(problem.expected)


def test_decimal_points_in_a_german_export_are_one_problem(tmp_path: Path) -> None:
    patients = [PATIENTS[0], *(line.replace("75,5", "75.5").replace("58,2", "58.2") for line in PATIENTS[1:])]
    patients[2] = patients[2].replace(";160;", ";160.5;")
    [problem] = problems_of(write_export(tmp_path, patients=patients))
    assert problem.message == "decimal numbers are written with '.' but the spec expects ',' (3 records)"
    assert (Path(problem.file).name, problem.line, problem.column, problem.value) == (
        "patients.csv",
        2,
        "WEIGHT, HEIGHT",
        "75.5",
    )
    assert problem.expected == "numbers with ',' as decimal mark (reader option decimal in study.yaml)"


def test_a_bad_value_among_wrong_decimal_marks_is_still_located(tmp_path: Path) -> None:
    rows = [PATIENTS[1].replace("01-001", f"01-{n:03d}").replace("75,5", f"{50 + n}.5") for n in range(1, 41)]
    rows[19] = rows[19].replace(";70.5;", ";schwer;")
    problems = problems_of(write_export(tmp_path, patients=[PATIENTS[0], *rows, *PATIENTS[2:]]))  # 58,2 is right
    assert [(p.line, p.column, p.value) for p in problems] == [(2, "WEIGHT", "51.5"), (21, "WEIGHT", "schwer")]
    assert problems[0].message.endswith("(39 records)") and problems[1].message == "not a number"


def test_missing_header_row_is_one_problem(tmp_path: Path) -> None:
    [problem] = problems_of(write_export(tmp_path, patients=PATIENTS[1:]))
    assert Path(problem.file).name == "patients.csv"
    assert problem.message == "line 1 is not the header of patients.csv: none of the expected columns found"
    assert (problem.line, problem.value) == (1, PATIENTS[1])
    assert problem.expected == "a header line with the columns " + PATIENTS[0].replace(";", ", ")


def test_another_forms_file_is_one_problem(tmp_path: Path) -> None:
    [problem] = problems_of(write_export(tmp_path, end_of_treatment=ADMINISTRATIONS))
    assert problem.message == (
        "line 1 is not the header of end_of_treatment.csv: only 1 of the 5 expected columns found (PATNO)"
    )
    assert (problem.line, problem.value) == (1, ADMINISTRATIONS[0])


def test_two_missing_columns_are_one_problem(tmp_path: Path) -> None:
    [problem] = problems_of(write_export(tmp_path, patients=without_columns(PATIENTS, "ECOG", "HEIGHT")))
    assert (Path(problem.file).name, problem.line, problem.column) == ("patients.csv", 1, "HEIGHT, ECOG")
    assert problem.message == "required columns missing" and problem.value is None
    assert problem.expected == "the columns " + PATIENTS[0].replace(";", ", ")


def test_a_missing_key_column_is_not_also_a_duplicate_or_unknown_patient_per_record(tmp_path: Path) -> None:
    """Without PATNO every patient would be a duplicate and every AE refer to an unknown patient."""
    [problem] = problems_of(write_export(tmp_path, patients=without_columns(PATIENTS, "PATNO")))
    assert (problem.message, problem.column) == ("required column missing", "PATNO")


def test_unknown_files_are_listed(tmp_path: Path) -> None:
    export = write_export(tmp_path)
    (export / "notes.txt").write_text("x")
    assert unknown_files(export, STUDY) == ["notes.txt"]


def test_sas_transport_raw_files(tmp_path: Path) -> None:
    """EDC systems also deliver XPT: SAS dates and numbers, partial dates as text."""
    export = write_export(tmp_path / "csv")
    frame = pd.read_csv(export / "patients.csv", sep=";", dtype=str, keep_default_na=False)
    frame["REGDAT"] = pd.to_datetime(frame["REGDAT"], format="%d.%m.%Y").dt.date
    for column in ("WEIGHT", "HEIGHT"):
        frame[column] = pd.to_numeric(frame[column].str.replace(",", "."))
    for column in ("AGE", "BIRTHYR", "PRIORLIN"):
        frame[column] = pd.to_numeric(frame[column])
    path = tmp_path / "patients.xpt"
    pyreadstat.write_xport(frame, str(path), table_name="PATIENTS")
    spec = replace(STUDY.raw_file("patients"), file="patients.xpt")
    table, problems = read_raw_file(tmp_path, spec, ReaderOptions(format="xpt"))
    assert problems == [] and table is not None
    assert table.frame["REGDAT"].tolist() == ["2020-07-01", "2020-08-15", "2020-08-20"]
    assert table.frame["DIAGDAT"].tolist() == ["2013-03", "2010", "2015-02-03"]
    assert table.frame["WEIGHT"].tolist() == [75.5, 60.0, 58.2]
    assert table.frame["AGE"].tolist() == [70, 60, 76]
    assert table.frame[LINE].tolist() == [1, 2, 3]  # record numbers for SAS files
