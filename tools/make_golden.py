"""Regenerate the golden files of the sample conversion (review the diff before committing).

    python tools/make_golden.py

The golden test (tests/test_golden.py) converts sample_data/ and compares every written XPT,
read back with pyreadstat, to tests/golden/: values as CSV, metadata (labels, lengths) as JSON.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import pandas as pd
import pyreadstat

REPO = Path(__file__).resolve().parents[1]
GOLDEN = REPO / "tests" / "golden"


def snapshot(xpt: Path) -> tuple[pd.DataFrame, dict[str, object]]:
    """What a reviewer compares: values as text, and the dataset's metadata."""
    frame, meta = pyreadstat.read_xport(str(xpt))
    metadata = {
        "label": meta.file_label,
        "variables": [
            {"name": name, "label": meta.column_names_to_labels[name], "length": meta.variable_storage_width[name]}
            for name in meta.column_names
        ],
    }
    return frame.astype("string").fillna(""), metadata


def write_golden(out_dir: Path, golden: Path = GOLDEN) -> list[Path]:
    written = []
    for kind in ("sdtm", "adam"):
        target = golden / kind
        target.mkdir(parents=True, exist_ok=True)
        for xpt in sorted(out_dir.rglob(f"*/{'tabulations/sdtm' if kind == 'sdtm' else 'adam/datasets'}/*.xpt")):
            frame, metadata = snapshot(xpt)
            frame.to_csv(target / f"{xpt.stem}.csv", index=False, lineterminator="\n")
            (target / f"{xpt.stem}.json").write_text(json.dumps(metadata, indent=1) + "\n", encoding="utf-8")
            written += [target / f"{xpt.stem}.csv", target / f"{xpt.stem}.json"]
    return written


def main() -> int:
    from cdisc_cup.pipeline import convert

    with tempfile.TemporaryDirectory() as work:
        result = convert(REPO / "sample_data", Path(work) / "out")
        for path in write_golden(result.out_dir):
            print(path.relative_to(REPO))
    return 0


if __name__ == "__main__":
    sys.exit(main())
