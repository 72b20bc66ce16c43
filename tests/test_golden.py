"""Golden comparison of the sample conversion (regenerate: python tools/make_golden.py).

The XPT files are compared as a reader sees them (values and metadata); define.xml,
define.html and the Dataset-JSON files byte for byte, so a change in how they are made that
changes what they say cannot pass unnoticed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import pytest

from cdisc_cup.pipeline import ConversionResult

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tools"))
from make_golden import GOLDEN, KIND_FOLDERS, byte_files, convert_sample, kind_folder, snapshot  # noqa: E402

GOLDEN_FILES = sorted(GOLDEN.glob("*/*.csv"))
GOLDEN_BYTES = sorted(
    (kind, path.relative_to(GOLDEN / kind).as_posix())
    for kind in KIND_FOLDERS
    for path in (GOLDEN / kind).rglob("*")
    if path.is_file() and (path.suffix in (".xml", ".html") or path.parent.name == "dataset-json")
)


@pytest.fixture(scope="module")
def converted_with_json(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`cdisc-cup convert sample_data --format xpt,json`, as tools/make_golden.py runs it."""
    return convert_sample(tmp_path_factory.mktemp("golden") / "out")


def test_every_dataset_has_a_golden_file(converted_sample: ConversionResult) -> None:
    written = {p.stem for p in converted_sample.sdtm_dir.glob("*.xpt")} | {
        p.stem for p in converted_sample.adam_dir.glob("*.xpt")
    }
    assert written == {p.stem for p in GOLDEN_FILES}


@pytest.mark.parametrize("golden_csv", GOLDEN_FILES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_dataset_matches_golden(converted_sample: ConversionResult, golden_csv: Path) -> None:
    folder = converted_sample.sdtm_dir if golden_csv.parent.name == "sdtm" else converted_sample.adam_dir
    frame, metadata = snapshot(folder / f"{golden_csv.stem}.xpt")
    expected = pd.read_csv(golden_csv, dtype=str, keep_default_na=False)
    pd.testing.assert_frame_equal(frame.astype(str).reset_index(drop=True), expected, check_dtype=False)
    assert metadata == json.loads(golden_csv.with_suffix(".json").read_text(encoding="utf-8"))


def test_every_define_and_dataset_json_file_has_a_golden_file(converted_with_json: Path) -> None:
    written = {(kind, name) for kind in KIND_FOLDERS for name in byte_files(kind_folder(converted_with_json, kind))}
    assert written == set(GOLDEN_BYTES)


@pytest.mark.parametrize(("kind", "name"), GOLDEN_BYTES, ids=lambda value: value)
def test_define_and_dataset_json_match_golden_bytes(converted_with_json: Path, kind: str, name: str) -> None:
    written = byte_files(kind_folder(converted_with_json, kind))[name]
    assert written.read_bytes() == (GOLDEN / kind / name).read_bytes(), f"{kind}/{name}"
