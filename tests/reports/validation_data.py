"""A validation run built by hand (plain DataFrames), as the engine would hand it to the reports."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cdisc_cup.findings import (
    DATASET_COLUMNS,
    FINDING_COLUMNS,
    RULE_COLUMNS,
    RULE_RUN_COLUMNS,
    RunInfo,
    Validation,
    empty_findings,
    empty_table,
)

MANY = 2_500
CAP = 1_000
SCRIPT = "<script>alert(1)</script>"

RUN = RunInfo(
    tool="cdisc-cup",
    version="0.1.0",
    rule_set="cdisc-cup 0.1.0 rules (4 rules)",
    standards=("SDTMIG 3.4", "ADaMIG 1.3"),
    terminology=("SDTM CT 2015-12-18",),
    input=f"out/sdtm {SCRIPT}",
    created="2026-12-01T10:00:00",
    command="cdisc-cup validate out/sdtm",
    study="CUP1",
)

# SD5006 and CT5001 ran and found something, SD5099 failed on AE (and found nothing where it
# ran), AD5001 met no dataset it applies to.
RULES = pd.DataFrame(
    [
        [
            "SD5006",
            "Duplicate sequence number",
            "Error",
            "SDTMIG",
            "--SEQ identifies a record",
            "SDTMIG 4.1.9",
            "",
            "C123",
        ],
        ["CT5001", "Value outside its codelist", "Warning", "SDTMIG", SCRIPT, "SDTM CT; define.xml", "SD5008", ""],
        ["SD5099", "AE starts before it ends", "Error", "SDTMIG", "Dates must be ordered", "", "SD1002", ""],
        ["AD5001", "One ADSL record per subject", "Error", "ADaMIG", "One record per subject", "ADaMIG 3.1", "", ""],
    ],
    columns=RULE_COLUMNS,
)
RULE_RUNS = pd.DataFrame(
    [
        ["SD5006", "EX", "ran", MANY, ""],
        ["SD5006", "DM", "ran", 0, ""],
        ["CT5001", "DM", "ran", 3, ""],
        ["SD5099", "AE", "failed", 0, "KeyError: 'AESTDTC'"],
        ["SD5099", "EX", "ran", 0, ""],
        ["AD5001", "", "not applicable", 0, "no ADSL dataset"],
    ],
    columns=RULE_RUN_COLUMNS,
)
DATASETS = pd.DataFrame(
    [
        ["DM", "Demographics", "SDTMIG 3.4", 3, 20, "/out/sdtm/dm.xpt"],
        ["EX", "Exposure", "SDTMIG 3.4", MANY, 12, "/out/sdtm/ex.xpt"],
        ["AE", "Adverse Events", "SDTMIG 3.4", 10, 30, "/out/sdtm/ae.xpt"],
    ],
    columns=DATASET_COLUMNS,
)


def many_findings() -> pd.DataFrame:
    """2,500 Errors of one rule in EX (in shuffled record order) and three of another rule in DM."""
    rows = np.random.default_rng(7).permutation(np.arange(1, MANY + 1))
    ex = pd.DataFrame(
        {
            "rule_id": "SD5006",
            "severity": "Error",
            "dataset": "EX",
            "variable": "EXSEQ",
            "row": pd.Series(rows, dtype=object),
            "usubjid": [f"CUP1-{r:05d}" for r in rows],
            "value": [f"{r}/{r}" for r in rows],
            "message": "EXSEQ is not unique within the subject <EX>",
        },
        columns=FINDING_COLUMNS,
    )
    dm = pd.DataFrame(
        [
            ["CT5001", "Warning", "DM", "SEX", 2, "CUP1-00002", '=HYPERLINK("x")', "SEX not in codelist"],
            ["CT5001", "Warning", "DM", "SEX", 3, "CUP1-00003", "bad\x0bvalue", "SEX not in codelist"],
            ["CT5001", "Warning", "DM", None, None, None, "back\\/slash é", "dataset-level"],
        ],
        columns=FINDING_COLUMNS,
    )
    return pd.concat([ex, dm], ignore_index=True).astype(object)


def validation_of(
    findings: pd.DataFrame,
    *,
    rules: pd.DataFrame = RULES,
    rule_runs: pd.DataFrame = RULE_RUNS,
    datasets: pd.DataFrame = DATASETS,
) -> Validation:
    return Validation(run=RUN, findings=findings, rule_runs=rule_runs, rules=rules, datasets=datasets)


def empty_validation() -> Validation:
    return Validation(
        run=RUN,
        findings=empty_findings(),
        rule_runs=empty_table(RULE_RUN_COLUMNS),
        rules=empty_table(RULE_COLUMNS),
        datasets=empty_table(DATASET_COLUMNS),
    )
