"""Golden comparison of the sample conversion (regenerate: python tools/make_golden.py)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import pytest

from cdisc_cup.pipeline import ConversionResult

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tools"))
from make_golden import GOLDEN, snapshot  # noqa: E402

GOLDEN_FILES = sorted(GOLDEN.glob("*/*.csv"))


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
