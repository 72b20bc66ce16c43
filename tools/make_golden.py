"""Regenerate the golden files of the sample conversion (review the diff before committing).

    python tools/make_golden.py

The golden test (tests/test_golden.py) converts sample_data/ and compares every written XPT,
read back with pyreadstat, to tests/golden/: values as CSV, metadata (labels, lengths) as JSON.
define.xml, define.html and the Dataset-JSON files (`--format xpt,json`) are compared byte for
byte: tests/golden/<sdtm|adam>/define.xml, define.html and dataset-json/<name>.json. They hold
the tool version (SourceSystemVersion) and the creation time the export gives (the latest
complete date in it; SOURCE_DATE_EPOCH is ignored here so the files do not depend on the shell).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pandas as pd
import pyreadstat

REPO = Path(__file__).resolve().parents[1]
GOLDEN = REPO / "tests" / "golden"
# Where each kind's files are below a conversion's output folder.
KIND_FOLDERS = {"sdtm": "tabulations/sdtm", "adam": "adam/datasets"}
# The files compared byte for byte, beside the datasets of each kind.
DEFINE_FILES = ("define.xml", "define.html")
DATASET_JSON = "dataset-json"
FORMATS = ("xpt", "json")


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


def kind_folder(out_dir: Path, kind: str) -> Path:
    """The folder of one kind's datasets in a conversion's output (one study)."""
    (folder,) = {path.parent for path in out_dir.rglob(f"*/{KIND_FOLDERS[kind]}/*.xpt")}
    return folder


def byte_files(folder: Path) -> dict[str, Path]:
    """The files of a dataset folder the golden test compares byte for byte, by golden name."""
    files = {name: folder / name for name in DEFINE_FILES}
    files.update({f"{DATASET_JSON}/{path.name}": path for path in sorted(folder.glob("*.json"))})
    return files


def write_golden(out_dir: Path, golden: Path = GOLDEN) -> list[Path]:
    written = []
    for kind in KIND_FOLDERS:
        target = golden / kind
        target.mkdir(parents=True, exist_ok=True)
        folder = kind_folder(out_dir, kind)
        for xpt in sorted(folder.glob("*.xpt")):
            frame, metadata = snapshot(xpt)
            frame.to_csv(target / f"{xpt.stem}.csv", index=False, lineterminator="\n")
            (target / f"{xpt.stem}.json").write_text(json.dumps(metadata, indent=1) + "\n", encoding="utf-8")
            written += [target / f"{xpt.stem}.csv", target / f"{xpt.stem}.json"]
        shutil.rmtree(target / DATASET_JSON, ignore_errors=True)
        (target / DATASET_JSON).mkdir()
        for name, source in byte_files(folder).items():
            shutil.copyfile(source, target / name)
            written.append(target / name)
    return written


def convert_sample(out_dir: Path) -> Path:
    """The sample conversion the golden files hold, with Dataset-JSON, independent of SOURCE_DATE_EPOCH."""
    from cdisc_cup.pipeline import convert

    epoch = os.environ.pop("SOURCE_DATE_EPOCH", None)
    try:
        return convert(REPO / "sample_data", out_dir, formats=FORMATS).out_dir
    finally:
        if epoch is not None:
            os.environ["SOURCE_DATE_EPOCH"] = epoch


def main() -> int:
    with tempfile.TemporaryDirectory() as work:
        for path in write_golden(convert_sample(Path(work) / "out")):
            print(path.relative_to(REPO))
    return 0


if __name__ == "__main__":
    sys.exit(main())
