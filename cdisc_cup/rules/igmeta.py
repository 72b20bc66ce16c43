"""Implementation-guide variable metadata (core, label, type, class) the rules look up.

The package ships a subset of the CDISC metadata exports (SDTMIG 3.4 variables and the
ADaMIG 1.3 ADSL variables) as one CSV, so that rules such as "required variable missing"
follow the IG instead of a hand-typed copy. Regenerate it with
`python -m cdisc_cup.rules.igmeta ../shared/reference/cdisc-metadata`.
"""

from __future__ import annotations

import importlib.resources
import sys
from functools import cache
from pathlib import Path

import pandas as pd

DATA_FILE = "ig_variables.csv"
COLUMNS = ["standard", "dataset", "class", "variable", "label", "type", "core"]


@cache
def ig_variables() -> pd.DataFrame:
    """One row per IG variable: standard (sdtm/adam), dataset, class, variable, label, type, core."""
    path = importlib.resources.files("cdisc_cup.rules") / "data" / DATA_FILE
    with importlib.resources.as_file(path) as file:
        return pd.read_csv(file, dtype=str, keep_default_na=False)


def ig_dataset_variables(standard: str, dataset: str) -> pd.DataFrame:
    table = ig_variables()
    return table[(table["standard"] == standard) & (table["dataset"] == dataset)]


def sdtm_class(dataset: str) -> str | None:
    """The SDTMIG class of a domain, upper case as in define.xml (EVENTS); SUPP-- is RELATIONSHIP."""
    if dataset.startswith("SUPP") or dataset == "RELREC":
        return "RELATIONSHIP"
    table = ig_variables()
    classes = table.loc[(table["standard"] == "sdtm") & (table["dataset"] == dataset), "class"]
    return classes.iloc[0] if len(classes) else None


def build(metadata_dir: Path) -> pd.DataFrame:
    """The shipped subset, from the CDISC metadata CSVs."""
    sdtm = pd.read_csv(metadata_dir / "sdtmig-3-4-Variables.csv", dtype=str, keep_default_na=False)
    sdtm = pd.DataFrame(
        {
            "standard": "sdtm",
            "dataset": sdtm["Dataset Name"],
            "class": sdtm["Class"].str.upper(),
            "variable": sdtm["Variable Name"],
            "label": sdtm["Variable Label"],
            "type": sdtm["Type"],
            "core": sdtm["Core"],
        }
    )
    adam = pd.read_csv(metadata_dir / "adamig-1-3-Variables.csv", dtype=str, keep_default_na=False)
    adsl = adam[adam["Data Structure Name"] == "Subject-Level Analysis Dataset"]
    adsl = pd.DataFrame(
        {
            "standard": "adam",
            "dataset": "ADSL",
            "class": "SUBJECT LEVEL ANALYSIS DATASET",
            # Indexed names (TRTxxP) stand for their first instance (TRT01P).
            "variable": adsl["Variable Name"].str.replace("xx", "01").str.replace("y", "1"),
            "label": adsl["Variable Label"].str.replace("xx", "01").str.replace(" y", " 1"),
            "type": adsl["Type"],
            "core": adsl["Core"],
        }
    )
    return pd.concat([sdtm, adsl], ignore_index=True)[COLUMNS]


if __name__ == "__main__":
    target = Path(__file__).parent / "data" / DATA_FILE
    build(Path(sys.argv[1])).to_csv(target, index=False)
    print(f"wrote {target}")
