"""A comparison of two sets of datasets (double programming QC) is data, like findings are.

`cdisc-cup compare` (`cdisc_cup.compare`) makes a `Comparison`; the reports
(`cdisc_cup.reports.comparison`) only read it. It holds what SAS PROC COMPARE and R's diffdf
report, in their order: the datasets' attributes, the variables found in one only, the
attribute differences of the common variables, the records found in one only (by key), and
per variable the values that differ, counted, with the first examples and their keys.

Every example table has the key variables first (as text, as a reader sees them), or a
`record` column (the 1-based record number) when the records were matched by their order.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import pandas as pd

# Column of an example table that numbers the records when no keys match them.
RECORD = "record"
# Column that tells apart records sharing a key value (1 for the first of them, in file order).
OCCURRENCE = "occurrence"
BASE = "base"
COMPARE = "compare"


class Method(StrEnum):
    """How numbers are judged equal (PROC COMPARE METHOD=; the criterion is `Tolerance.value`)."""

    EXACT = "exact"
    ABSOLUTE = "absolute"  # |compare - base| <= value
    RELATIVE = "relative"  # |compare - base| / ((|base| + |compare|) / 2) <= value


@dataclass(frozen=True)
class Tolerance:
    method: Method = Method.EXACT
    value: float = 0.0

    @staticmethod
    def of(absolute: float | None, relative: float | None) -> Tolerance:
        """From --tolerance and --criterion (at most one of them given)."""
        if absolute is not None:
            return Tolerance(Method.ABSOLUTE, absolute)
        if relative is not None:
            return Tolerance(Method.RELATIVE, relative)
        return Tolerance()


class KeySource(StrEnum):
    """Where the variables that match records come from, strongest first."""

    OPTION = "--keys"
    DEFINE = "define.xml"
    IG = "SDTMIG 3.4 section 3.2.1"
    ADAM = "ADaM structure"
    SEQUENCE = "--SEQ"
    RECORD_ORDER = "record order"


@dataclass(frozen=True)
class KeyChoice:
    variables: tuple[str, ...]  # () when records are matched by their order
    source: KeySource
    note: str = ""  # why this choice (e.g. which default keys were not unique)

    def __str__(self) -> str:
        if not self.variables:
            return "record order (no keys)"
        return f"{', '.join(self.variables)} ({self.source})"


@dataclass(frozen=True)
class DatasetSide:
    """One side's dataset: what PROC COMPARE's "Data Set Summary" lists."""

    name: str
    label: str
    records: int
    variables: int
    file: str
    folder: str = ""  # its dataset folder below BASE (or COMPARE); "" for BASE itself

    @property
    def title(self) -> str:
        """The dataset as reports name it: "tabulations/sdtm/DM" when several folders are compared."""
        return f"{self.folder}/{self.name}" if self.folder else self.name


@dataclass(frozen=True)
class AttributeDifference:
    """A dataset attribute (variable "") or a variable attribute that differs: type, length,
    label or format; values as text ("" for none)."""

    variable: str
    attribute: str
    base: str
    compare: str


@dataclass(frozen=True)
class RecordsInOne:
    """Records of one side that match none of the other: the count and the first keys."""

    side: str  # BASE or COMPARE
    count: int
    examples: pd.DataFrame  # key columns (or RECORD)


@dataclass(frozen=True)
class DuplicateKeys:
    """Records of one side whose key value another record has too."""

    side: str
    records: int
    examples: pd.DataFrame  # key columns and "records": how many records share that key value


@dataclass(frozen=True)
class ValueDifference:
    """The values of one variable that differ among the records matched."""

    variable: str
    type: str  # Char or Num
    count: int
    max_difference: float | None  # Num: the largest |compare - base| of two numbers
    examples: pd.DataFrame  # key columns, BASE, COMPARE (and "difference" for Num)


@dataclass(frozen=True)
class DatasetComparison:
    name: str
    base: DatasetSide
    compare: DatasetSide
    keys: KeyChoice
    dataset_differences: tuple[AttributeDifference, ...]
    variables_only_in_base: tuple[str, ...]
    variables_only_in_compare: tuple[str, ...]
    attribute_differences: tuple[AttributeDifference, ...]
    # Variables whose values were not compared, with why (Char in one, Num in the other).
    not_compared: tuple[tuple[str, str], ...]
    duplicates: tuple[DuplicateKeys, ...]
    records_only: tuple[RecordsInOne, ...]  # sides with records the other lacks
    records_compared: int
    variables_compared: int
    value_differences: tuple[ValueDifference, ...]
    # Why no record could be matched at all (a key variable of different types); "" otherwise.
    refused: str = ""

    @property
    def title(self) -> str:
        return self.base.title

    def differences(self) -> list[str]:
        """Each difference as a line a person reads; empty when the datasets are equal.
        Duplicate keys are a warning, not a difference: equal datasets can share them."""
        lines = [f"dataset {d.attribute}: {d.base!r} vs {d.compare!r}" for d in self.dataset_differences]
        lines += [f"variable {name} only in base" for name in self.variables_only_in_base]
        lines += [f"variable {name} only in compare" for name in self.variables_only_in_compare]
        lines += [
            f"{d.attribute} of variable {d.variable}: {d.base!r} vs {d.compare!r}" for d in self.attribute_differences
        ]
        lines += [
            f"{only.count} record{'s' if only.count != 1 else ''} only in {only.side}"
            for only in self.records_only
            if only.count
        ]
        lines += [f"values not compared: {self.refused}"] if self.refused else []
        lines += [
            f"variable {d.variable}: {d.count} {'values differ' if d.count != 1 else 'value differs'}"
            for d in self.value_differences
        ]
        return lines

    @property
    def equal(self) -> bool:
        return not self.differences()


@dataclass(frozen=True)
class Comparison:
    """Every dataset of BASE compared with its namesake in COMPARE."""

    base: str  # the paths as the user gave them
    compare: str
    tolerance: Tolerance
    max_examples: int
    created: str
    command: str
    tool: str
    datasets: tuple[DatasetComparison, ...]
    datasets_only_in_base: tuple[DatasetSide, ...] = ()
    datasets_only_in_compare: tuple[DatasetSide, ...] = ()

    @property
    def equal(self) -> bool:
        return (
            not self.datasets_only_in_base and not self.datasets_only_in_compare and all(d.equal for d in self.datasets)
        )
