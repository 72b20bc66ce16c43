"""Conformance findings are data, not exceptions.

A `Finding` has exactly the keys of `findings.json` (issue #5 contract). A run's findings are
kept as a DataFrame with the same columns (`FINDING_COLUMNS`) so that rules can emit
thousands of them vectorised; `Finding` is the typed view of one row.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum

import pandas as pd


class Severity(StrEnum):
    ERROR = "Error"
    WARNING = "Warning"
    NOTICE = "Notice"

    @property
    def rank(self) -> int:
        return {"Error": 3, "Warning": 2, "Notice": 1}[self.value]


FINDING_COLUMNS = ["rule_id", "severity", "dataset", "variable", "row", "usubjid", "value", "message"]


@dataclass(frozen=True)
class Finding:
    rule_id: str
    severity: Severity
    dataset: str
    variable: str | None
    row: int | None  # 1-based record number in the dataset; None for dataset-level findings
    usubjid: str | None
    value: str | None
    message: str

    def to_dict(self) -> dict[str, object]:
        record = asdict(self)
        record["severity"] = str(self.severity)
        return record


def empty_findings() -> pd.DataFrame:
    """A findings table with no rows and the contract's columns."""
    return pd.DataFrame({column: pd.Series(dtype="object") for column in FINDING_COLUMNS})


def findings_from_records(records: list[Finding]) -> pd.DataFrame:
    if not records:
        return empty_findings()
    return pd.DataFrame([f.to_dict() for f in records], columns=FINDING_COLUMNS)
