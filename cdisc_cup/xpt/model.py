"""The SAS XPORT v5 dataset as every stage sees it: variables as the file's NAMESTR records
describe them, and the records as a DataFrame.

One model for the whole package: the writer takes `XptVariable`s, the reader returns a
`Dataset`, and the rules check a `Dataset` whether it was read from a file or built in memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pandas as pd

SPECIAL_MISSING_CODES = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ_")


@dataclass(frozen=True)
class XptVariable:
    """One variable as written: the NAMESTR record of TS-140."""

    name: str  # <= 8 chars, upper case
    label: str  # <= 40 chars
    type: Literal["Char", "Num"]
    length: int  # Char: 1..200 bytes (the written length); Num: 8
    format: str | None = None  # e.g. "DATE9.", "E8601DA.", "$CHAR20.", "8.2"


@dataclass(frozen=True)
class SpecialMissing:
    """A SAS special missing value (.A-.Z, ._) in a Num column.

    Kept apart from NaN because the letter carries meaning (e.g. ".U" unknown vs ".N" not
    done) that plain missing would lose.
    """

    code: str

    def __post_init__(self) -> None:
        if self.code not in SPECIAL_MISSING_CODES:
            raise ValueError(f"special missing code must be one of A-Z or _, not {self.code!r}")

    def __str__(self) -> str:
        return f".{self.code}"


@dataclass(frozen=True)
class Dataset:
    """One dataset: its records, and the metadata needed to write it again or to check it."""

    name: str
    label: str
    frame: pd.DataFrame
    variables: tuple[XptVariable, ...]
    path: Path | None = None  # the file it was read from or written to

    @property
    def domain_prefix(self) -> str:
        """What `--` stands for in variable names (AE for AESEQ); SUPPAE has none."""
        return self.name[:2]

    def variable(self, name: str) -> XptVariable | None:
        return next((v for v in self.variables if v.name == name), None)
