"""Issue #8: our XPT files as R's haven::read_xpt sees them (reviewers open them in R and SAS).

R comes from Debian packages (r-base-core, r-cran-haven, r-cran-jsonlite); `.ci/install-r.sh`
installs them. Without R these tests fail rather than skip: a skipped check would let a file
that R cannot read reach a submission unnoticed.

tests/r/dump_xpt.R writes what haven sees as JSON, numbers as hex floats so that they compare
exactly. haven 2.5 does not report character lengths on reading ("width" is only used when
writing), so lengths are checked against the longest value haven reads and, exactly, through
pyreadstat in tests/test_xpt_writer.py.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from cdisc_cup.xpt.model import Dataset, SpecialMissing, XptVariable
from cdisc_cup.xpt.read import read_xpt_dataset
from cdisc_cup.xpt.write import XptWriteError, write_xpt

R_SCRIPT = Path(__file__).parents[1] / "r" / "dump_xpt.R"
REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "reference" / "cdiscpilot01"
REFERENCE_FILES = sorted(REFERENCE.glob("*/*.xpt"))
NOT_ASCII = {"ts.xpt"}  # TSVAL has a Windows-1252 curly quote: refused by the writer
INSTALL_HINT = "run `bash .ci/install-r.sh` (installs r-base-core, r-cran-haven, r-cran-jsonlite)"


def haven_dumps(paths: list[Path], out_dir: Path) -> dict[Path, dict]:
    """Run haven once over all `paths`; one JSON dump per file."""
    rscript = shutil.which("Rscript")
    if rscript is None:
        pytest.fail(f"Rscript is not installed, so haven cannot check the XPT files: {INSTALL_HINT}")
    out_dir.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [rscript, "--vanilla", str(R_SCRIPT), str(out_dir), *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(f"haven::read_xpt failed (if haven or jsonlite is missing, {INSTALL_HINT}):\n{result.stderr}")
    return {path: json.loads((out_dir / f"{path.name}.json").read_text(encoding="utf-8")) for path in paths}


def haven_number(text: str | None) -> float | SpecialMissing:
    if text is None:
        return math.nan
    if text.startswith("."):
        return SpecialMissing(text[1:])
    return float.fromhex(text)


def haven_values(dump: dict, name: str) -> list:
    variable = next(v for v in dump["variables"] if v["name"] == name)
    values = dump["values"][name]
    return values if variable["type"] == "Char" else [haven_number(v) for v in values]


def same(left: list, right: list) -> bool:
    """Exact equality with NaN equal to NaN (numbers must survive IBM <-> IEEE unchanged)."""

    def key(value: object) -> object:
        return "NaN" if isinstance(value, float) and math.isnan(value) else value

    return [key(v) for v in left] == [key(v) for v in right]


def assert_haven_sees_metadata(dump: dict, label: str, variables: tuple[XptVariable, ...] | list) -> None:
    assert (dump["label"] or "") == label
    assert [v["name"] for v in dump["variables"]] == [v.name for v in variables]
    assert [v["label"] or "" for v in dump["variables"]] == [v.label for v in variables]
    assert [v["type"] for v in dump["variables"]] == [v.type for v in variables]
    # haven drops the period of a format name ("DATE9"), as SAS shows it in PROC CONTENTS.
    assert [v["format"] for v in dump["variables"]] == [
        v.format.removesuffix(".") if v.format else None for v in variables
    ]
    for seen, variable in zip(dump["variables"], variables, strict=True):
        if seen["width"] is not None:
            assert seen["width"] == variable.length, variable.name
        if variable.type == "Char":
            assert max(map(len, dump["values"][variable.name]), default=0) <= variable.length


def assert_haven_sees_values(dump: dict, loaded: Dataset) -> None:
    """haven and pyreadstat (through our reader) read the same values from one file."""
    assert dump["rows"] == len(loaded.frame)
    for variable in loaded.variables:
        ours = loaded.frame[variable.name].tolist()
        assert same(haven_values(dump, variable.name), ours), variable.name


# --- files we write ------------------------------------------------------------------------

VARIABLES = (
    XptVariable("STUDYID", "Study Identifier", "Char", 12),
    XptVariable("USUBJID", "Unique Subject Identifier", "Char", 11, "$CHAR11."),
    XptVariable("AESEQ", "Sequence Number", "Num", 8),
    XptVariable("AETERM", "Reported Term for the Adverse Event", "Char", 200),
    XptVariable("ASTDT", "Analysis Start Date", "Num", 8, "DATE9."),
    XptVariable("AENDT", "Analysis End Date", "Num", 8, "E8601DA."),
    XptVariable("ADTM", "Analysis Datetime", "Num", 8, "DATETIME20."),
    XptVariable("AVAL", "Analysis Value", "Num", 8, "8.2"),
)


def written_sample(folder: Path) -> Path:
    frame = pd.DataFrame(
        {
            "STUDYID": ["CUP-01"] * 6,
            "USUBJID": ["CUP-01-001", None, "", "CUP-01-002", "CUP-01-003", "CUP-01-004"],
            "AESEQ": pd.array([1, 2, None, 1, 1, 1], dtype="Int64"),
            "AETERM": ["HEADACHE", "", "  LEADING BLANKS", "X" * 200, None, "NAUSEA"],
            "ASTDT": pd.to_datetime(["2024-01-31", None, "1960-01-01", "1959-12-31", "2024-02-29", "1900-03-01"]),
            "AENDT": [19000.0, SpecialMissing("U"), SpecialMissing("_"), math.nan, 0.0, -36500.0],
            "ADTM": pd.to_datetime(["2024-01-31 23:59:59", None, None, "1960-01-01 00:00:01", None, None]),
            "AVAL": [0.0, -1.5, 1e-80, 1e75, 1 / 3, 2.0**53],
        }
    )
    path = folder / "adae.xpt"
    write_xpt(path, frame, dataset="ADAE", label="Adverse Events Analysis Dataset", variables=VARIABLES)
    return path


def test_haven_reads_names_labels_formats_and_values_we_wrote(tmp_path: Path) -> None:
    path = written_sample(tmp_path)
    dump = haven_dumps([path], tmp_path / "haven")[path]
    assert_haven_sees_metadata(dump, "Adverse Events Analysis Dataset", VARIABLES)
    assert_haven_sees_values(dump, read_xpt_dataset(path))
    assert dump["values"]["USUBJID"][:3] == ["CUP-01-001", "", ""]
    assert dump["values"]["AETERM"][2:4] == ["  LEADING BLANKS", "X" * 200]
    assert same(haven_values(dump, "AVAL"), [0.0, -1.5, 0.0, 1e75, 1 / 3, 2.0**53])
    assert same(haven_values(dump, "ASTDT"), [23406.0, math.nan, 0.0, -1.0, 23435.0, -21855.0])
    assert same(haven_values(dump, "ADTM"), [23406 * 86400 + 86399.0, math.nan, math.nan, 1.0, math.nan, math.nan])


def test_haven_gives_dates_and_datetimes_their_r_classes(tmp_path: Path) -> None:
    path = written_sample(tmp_path)
    classes = {v["name"]: v["r_class"] for v in haven_dumps([path], tmp_path / "haven")[path]["variables"]}
    assert classes["ASTDT"] == ["Date"] and classes["AENDT"] == ["Date"]
    assert "POSIXct" in classes["ADTM"]
    assert classes["AVAL"] == ["numeric"] and classes["AETERM"] == ["character"]


def test_haven_reads_special_missing_as_tagged_na(tmp_path: Path) -> None:
    path = written_sample(tmp_path)
    values = haven_values(haven_dumps([path], tmp_path / "haven")[path], "AENDT")
    assert values[1:3] == [SpecialMissing("U"), SpecialMissing("_")]
    assert math.isnan(values[3])


def test_haven_keeps_blank_records_inside_the_data(tmp_path: Path) -> None:
    """Regression: haven drops trailing all-blank records as padding; the writer refuses them,
    and blank records followed by data are read as written."""
    variables = [XptVariable("QNAM", "Qualifier Variable Name", "Char", 8)]
    inside = tmp_path / "inside.xpt"
    write_xpt(inside, pd.DataFrame({"QNAM": ["A", "", "", "B"]}), dataset="X", label="", variables=variables)
    assert haven_dumps([inside], tmp_path / "haven")[inside]["values"]["QNAM"] == ["A", "", "", "B"]
    with pytest.raises(XptWriteError):
        write_xpt(tmp_path / "tail.xpt", pd.DataFrame({"QNAM": ["A", ""]}), dataset="X", label="", variables=variables)


# --- SAS-written files through our writer --------------------------------------------------


@pytest.fixture(scope="module")
def reference_round_trip(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[dict, dict, Dataset]]:
    """Each cdiscpilot01 file read by us, written by us; haven's view of the original and copy."""
    folder = tmp_path_factory.mktemp("reference_copies")
    copies = {}
    for original in REFERENCE_FILES:
        if original.name in NOT_ASCII:
            continue
        loaded = read_xpt_dataset(original)
        copy = folder / original.parent.name / original.name
        copy.parent.mkdir(exist_ok=True)
        write_xpt(copy, loaded.frame, dataset=loaded.name, label=loaded.label, variables=loaded.variables)
        copies[original] = (copy, loaded)
    dumps = haven_dumps([*copies, *(copy for copy, _ in copies.values())], folder / "haven")
    return {
        f"{original.parent.name}/{original.name}": (dumps[original], dumps[copy], read_xpt_dataset(copy))
        for original, (copy, _) in copies.items()
    }


@pytest.mark.parametrize(
    "name",
    [f"{p.parent.name}/{p.name}" for p in REFERENCE_FILES if p.name not in NOT_ASCII],
)
def test_haven_sees_sas_files_unchanged_after_our_round_trip(
    reference_round_trip: dict[str, tuple[dict, dict, Dataset]], name: str
) -> None:
    original, copy, loaded = reference_round_trip[name]
    assert copy == original  # names, labels, formats, classes and every value, exactly
    assert_haven_sees_metadata(copy, loaded.label, loaded.variables)
    assert_haven_sees_values(copy, loaded)


# --- the converted sample study ------------------------------------------------------------


def test_haven_reads_every_dataset_of_the_converted_sample(converted_sample, tmp_path: Path) -> None:
    paths = sorted([*converted_sample.sdtm_dir.glob("*.xpt"), *converted_sample.adam_dir.glob("*.xpt")])
    assert paths, "the conversion of sample_data/ wrote no XPT files"
    dumps = haven_dumps(paths, tmp_path / "haven")
    for path in paths:
        loaded = read_xpt_dataset(path)
        assert_haven_sees_metadata(dumps[path], loaded.label, loaded.variables)
        assert_haven_sees_values(dumps[path], loaded)
        assert loaded.label, f"{path.name} has no dataset label"
