"""A CORE test case's CSV data as a Study, read as CORE's CSV reader reads it.

CORE reads `_variables.csv` for each column's type (Char as text, Num as float), a blank
cell as missing, and `_datasets.csv` for the labels; the dataset is named by its file.
Only for the tests of the frames and operations: the package's own reader is the engine's.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from cdisc_cup.rules.model import Study
from cdisc_cup.xpt.model import Dataset, XptVariable

CORE_RULES = Path(__file__).resolve().parents[4] / "shared" / "core-rules" / "Published"


def case_dir(rule_id: str, kind: str, number: str = "01") -> Path:
    return CORE_RULES / rule_id / kind / number


def load_case(case: Path) -> Study:
    data = case / "data"
    labels = pd.read_csv(data / "_datasets.csv", dtype=str, keep_default_na=False)
    variables = pd.read_csv(data / "_variables.csv", dtype=str, keep_default_na=False)
    datasets: dict[str, Dataset] = {}
    for filename, label in zip(labels["Filename"], labels["Label"], strict=True):
        rows = variables[variables["dataset"].str.lower() == filename.lower()]
        dtypes = {
            v: ("float64" if t == "Num" else "string") for v, t in zip(rows["variable"], rows["type"], strict=True)
        }
        path = data / f"{filename}.csv"
        try:
            frame = pd.read_csv(path, dtype=dtypes, na_values=[""], keep_default_na=False)
        except ValueError:  # a Num column with text in it: CORE cannot read it either
            frame = pd.read_csv(path, dtype="string", na_values=[""], keep_default_na=False)
        described = tuple(
            XptVariable(v, lab, "Num" if t == "Num" else "Char", int(float(n)) if n else 8)
            for v, lab, t, n in zip(rows["variable"], rows["label"], rows["type"], rows["length"], strict=True)
        )
        datasets[filename.upper()] = Dataset(filename.upper(), label, frame, described, path)
    settings = dict(line.split("=", 1) for line in (data / ".env").read_text().splitlines() if "=" in line)
    version = settings.get("VERSION", "3-4").replace("-", ".")
    return Study(datasets=datasets, standards={name: "sdtm" for name in datasets}, ig_versions={"sdtm": version})


def expected(case: Path) -> pd.DataFrame:
    return pd.read_csv(case / "results" / "results.csv", dtype=str, keep_default_na=False)
