"""Implementation-guide variable metadata (core, label, type, class) the rules look up, per IG version.

The package ships the variables of SDTMIG 3.2, 3.3 and 3.4 and the ADSL variables of ADaMIG
1.1 and 1.3 as one CSV, so that rules such as "required variable missing" follow the guide the
datasets were made to instead of a hand-typed copy: ARMCD is Req in SDTMIG 3.2 and Exp from
3.3, ARMNRS exists only from 3.3. Regenerate it with
`python -m cdisc_cup.rules.igmeta ../shared/reference/cdisc-metadata` (SDTMIG 3.4 and ADaMIG 1.3
from the shared CDISC metadata; the older versions from `tools/ig-sources/`, see its README).
"""

from __future__ import annotations

import importlib.resources
import sys
from collections.abc import Sequence
from functools import cache
from pathlib import Path

import pandas as pd

DATA_FILE = "ig_variables.csv"
COLUMNS = ["standard", "version", "dataset", "class", "variable", "label", "type", "core"]
# The IG versions the rules can check against, oldest first; the last is the default.
IG_VERSIONS: dict[str, tuple[str, ...]] = {"sdtm": ("3.2", "3.3", "3.4"), "adam": ("1.1", "1.3")}
IG_NAMES = {"sdtm": "SDTMIG", "adam": "ADaMIG"}
OLDER_SOURCES = Path(__file__).resolve().parents[2] / "tools" / "ig-sources" / "cdisc_library_ig_variables.csv"


def latest(standard: str) -> str:
    return IG_VERSIONS[standard][-1]


def ig_label(standard: str, version: str) -> str:
    """ "SDTMIG 3.4", as rules and reports name a guide."""
    return f"{IG_NAMES[standard]} {version}"


# Names a define.xml gives a guide: Define-XML 2.1 def:Standard/@Name, or the model's name in
# Define-XML 1.0/2.0 (MetaDataVersion def:StandardName "CDISC SDTM" with the IG's number, or
# "CDISC ADaM" with the ADaM *model* version: model 2.1 came with ADaMIG 1.0).
_DECLARED = {"SDTMIG": "sdtm", "CDISC SDTM": "sdtm", "SDTM-IG": "sdtm", "ADAMIG": "adam", "CDISC ADAM": "adam"}
_ADAM_MODEL_TO_IG = {"2.1": "1.0"}


def _number(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split(".") if part.isdigit())


def chosen_version(
    standard: str, declared: Sequence[tuple[str, str]] = (), forced: str | None = None
) -> tuple[str, str]:
    """The IG version to check a folder against, and a note for the report when it is not
    simply the one declared: what the user asked for, else what define.xml names (the
    nearest supported version when it names an older or newer one), else the latest."""
    supported = IG_VERSIONS[standard]
    if forced is not None:
        return forced, ""
    named = [
        (name, version) for name, version in declared if _DECLARED.get(name.strip().upper()) == standard and version
    ]
    if not named:
        return latest(standard), f"no {IG_NAMES[standard]} version declared; checked against the latest"
    name, version = named[0]
    ig = _ADAM_MODEL_TO_IG.get(version, version) if name.strip().upper() == "CDISC ADAM" else version
    if ig in supported:
        return ig, ""
    nearest = supported[0] if _number(ig) < _number(supported[0]) else supported[-1]
    return (
        nearest,
        f"define.xml names {name} {version}; checked against {ig_label(standard, nearest)}, the nearest supported",
    )


@cache
def ig_variables() -> pd.DataFrame:
    """One row per IG variable: standard (sdtm/adam), version, dataset, class, variable, label, type, core."""
    path = importlib.resources.files("cdisc_cup.rules") / "data" / DATA_FILE
    with importlib.resources.as_file(path) as file:
        return pd.read_csv(file, dtype=str, keep_default_na=False)


@cache
def ig_dataset_variables(standard: str, dataset: str, version: str | None = None) -> pd.DataFrame:
    """The variables a version of the IG gives a dataset (the latest version by default)."""
    table = ig_variables()
    chosen = version or latest(standard)
    return table[(table["standard"] == standard) & (table["version"] == chosen) & (table["dataset"] == dataset)]


@cache
def sdtm_class(dataset: str) -> str | None:
    """The SDTMIG class of a domain, upper case as in define.xml (EVENTS); SUPP-- is RELATIONSHIP.
    Cached: a run asks it per rule and dataset (the CORE rules ~4000 times), the table is fixed."""
    if dataset.startswith("SUPP") or dataset == "RELREC":
        return "RELATIONSHIP"
    table = ig_variables()
    classes = table.loc[(table["standard"] == "sdtm") & (table["dataset"] == dataset), "class"]
    return classes.iloc[-1] if len(classes) else None


def _first_instance(names: pd.Series) -> pd.Series:
    """Indexed ADaM names as their first instance: TRTxxP -> TRT01P, SITEGRy -> SITEGR1."""
    return names.str.replace("xx", "01").str.replace("y", "1")


def build(metadata_dir: Path, older: Path = OLDER_SOURCES) -> pd.DataFrame:
    """The shipped table: SDTMIG 3.4 and ADaMIG 1.3 from the CDISC metadata CSVs, the older
    versions from the CDISC Library extract in tools/ig-sources."""
    sdtm = pd.read_csv(metadata_dir / "sdtmig-3-4-Variables.csv", dtype=str, keep_default_na=False)
    sdtm = pd.DataFrame(
        {
            "standard": "sdtm",
            "version": "3.4",
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
            "version": "1.3",
            "dataset": "ADSL",
            "class": "SUBJECT LEVEL ANALYSIS DATASET",
            "variable": _first_instance(adsl["Variable Name"]),
            "label": adsl["Variable Label"].str.replace("xx", "01").str.replace(" y", " 1"),
            "type": adsl["Type"],
            "core": adsl["Core"],
        }
    )
    previous = pd.read_csv(older, dtype=str, keep_default_na=False)
    is_adam = previous["standard"] == "adam"
    previous.loc[is_adam, "variable"] = _first_instance(previous.loc[is_adam, "variable"])
    previous.loc[is_adam, "label"] = previous.loc[is_adam, "label"].str.replace("xx", "01").str.replace(" y", " 1")
    previous.loc[is_adam, "class"] = "SUBJECT LEVEL ANALYSIS DATASET"
    combined = pd.concat([previous, sdtm, adsl], ignore_index=True)[COLUMNS]
    return combined.sort_values(["standard", "version"], kind="stable").reset_index(drop=True)


if __name__ == "__main__":
    target = Path(__file__).parent / "data" / DATA_FILE
    build(Path(sys.argv[1])).to_csv(target, index=False)
    print(f"wrote {target}")
