"""Generate `cdisc_cup/compare/data/sdtmig_keys.csv`: the key variables SDTMIG 3.4 gives each
dataset in the table of section 3.2.1 (Dataset-level Metadata).

`cdisc-cup compare` matches the records of two datasets by these keys when no define.xml
beside the base datasets declares any. The IG calls them examples ("A sponsor's actual key
structure may be different"), which is why compare only takes them when they identify the
records of both datasets uniquely (`cdisc_cup.compare.keys`).

The table is read from the IG's text as CDISC exports it (`sdtmig-3-4-text.json`): each row
ends "Tabulation <keys> <dataset>.xpt". PDF extraction breaks some names ("FAT PTNUM",
"pp.x pt"); spaces inside a name are dropped and every name is checked against the IG's
variables of that dataset. The IG's FT row says TESTCD where the variable is FTTESTCD: a name
the dataset lacks is taken with the dataset prefix when that is one of its variables. Its SV
row names SVTERM, which is no SDTMIG 3.4 variable (SV has none): SV is keyed by VISITNUM, as
in SDTMIG 3.3's table; its BE row names BESDTC for BESTDTC (`REPLACED`). Other names the
variable table does not list for the dataset are kept and printed: timing variables such as
FATPTNUM may be added to any Findings domain (SDTMIG 3.4 section 2.7), and compare takes a
key set only when both datasets hold all its variables.

Run from the repository root (a test checks the committed file is its output):

    python tools/sdtmig_keys.py ../shared/reference/cdisc-metadata
"""

from __future__ import annotations

import csv
import io
import json
import re
import sys
from pathlib import Path

TARGET = Path(__file__).resolve().parents[1] / "cdisc_cup" / "compare" / "data" / "sdtmig_keys.csv"
SECTION = "3.2.1 Dataset"
# A row's end: the keys after its last "Tabulation", then the file name (letters possibly
# split by a space, "supp -- " for the SUPP-- row), ".xpt" (possibly as ". xpt" or ".x pt").
ROW = re.compile(r"Tabulation\s+((?:(?!Tabulation).)+?)\s+((?:[a-z]\s?){2,8}|supp\s?--\s?)\s?\.\s?x\s?p\s?t")
SUPP = "SUPP--"
# Names in the table that are no variable of the dataset in SDTMIG 3.4, and what stands for them.
REPLACED = {("SV", "SVTERM"): "VISITNUM", ("BE", "BESDTC"): "BESTDTC"}


def ig_variables(metadata: Path) -> dict[str, set[str]]:
    with (metadata / "sdtmig-3-4-Variables.csv").open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    variables: dict[str, set[str]] = {}
    for row in rows:
        variables.setdefault(row["Dataset Name"].upper(), set()).add(row["Variable Name"].upper())
    return variables


def table_text(metadata: Path) -> str:
    """The chunks of section 3.2.1's table (the IG's change log has a chunk of that heading too)."""
    document = json.loads((metadata / "sdtmig-3-4-text.json").read_text(encoding="utf-8"))
    chunks = [c for c in document["chunks"] if c["heading"] == SECTION and "Tabulation" in c["content"]]
    return " ".join(c["content"] for c in chunks)


def dataset_keys(metadata: Path) -> dict[str, list[str]]:
    known = ig_variables(metadata)
    found: dict[str, list[str]] = {}
    unknown: list[str] = []
    for keys_text, file_text in ROW.findall(table_text(metadata)):
        name = file_text.replace(" ", "").upper()
        name = SUPP if name.startswith("SUPP") else name
        allowed = known.get("SUPPQUAL" if name == SUPP else name, set())
        keys = []
        for part in keys_text.split(","):
            variable = re.sub(r"\s+", "", part).upper()
            variable = REPLACED.get((name, variable), variable)
            if allowed and variable not in allowed and f"{name}{variable}" in allowed:
                variable = f"{name}{variable}"
            if allowed and variable not in allowed:
                unknown.append(f"kept {name} key {variable}: not in the IG's variable table of the dataset")
            keys.append(variable)
        found[name] = keys
    print("\n".join(unknown))
    return found


def csv_text(keys: dict[str, list[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["dataset", "keys"])
    for name in sorted(keys):
        writer.writerow([name, " ".join(keys[name])])
    return out.getvalue()


if __name__ == "__main__":
    TARGET.write_text(csv_text(dataset_keys(Path(sys.argv[1]))), encoding="utf-8")
    print(f"wrote {TARGET}")
