"""What CORE knows a dataset by: its name, domain, parent domain and "unsplit" name.

CORE derives these from the dataset's name and its first record
(`cdisc_rules_engine/models/sdtm_dataset_metadata.py`): QS1 and QSAE are split parts of QS
(their DOMAIN is QS), SUPPAE's parent is the RDOMAIN of its first record, APQS is an
Associated Persons dataset of QS (it has APID). Scope, Match Datasets and the operations'
`domain` all name datasets this way, so the frames and the operations share one reading.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import pandas as pd

from cdisc_cup.rules.model import NotApplicable, Study
from cdisc_cup.xpt.model import Dataset

SUPPLEMENTARY_PREFIXES = ("SUPP", "SQ")
T = TypeVar("T")
# Values derived from a Dataset or a Study (both fixed during a run), by id(owner); an entry
# goes when its owner does, so a later object with the same id never sees it.
_DERIVED: dict[int, dict[Hashable, Any]] = {}


def derived(owner: object, key: Hashable, compute: Callable[[], T]) -> T:
    """`compute()` once per owner and key: 330 rules ask for the same identities, classes and
    frames of the same datasets, which are never changed while the rules run."""
    memo = _DERIVED.get(id(owner))
    if memo is None:
        memo = _DERIVED[id(owner)] = {}
        weakref.finalize(owner, _DERIVED.pop, id(owner), None)
    if key not in memo:
        memo[key] = compute()
    return memo[key]


def forget(owner: object, wanted: Callable[[Hashable], bool]) -> None:
    """Let go of the owner's derived values whose key is `wanted` (a joined frame once no rule
    will ask for it again: the engine runs the rules sharing it together)."""
    memo = _DERIVED.get(id(owner), {})
    for key in [key for key in memo if wanted(key)]:
        del memo[key]


class NotEvaluated(NotApplicable):
    """CORE stops the rule for this dataset and reports no findings for it: a variable the
    joins or the operations need is missing, a domain an operation reads is missing, the
    Library has no class for the dataset, the joins fail."""


def blank_as_missing(values: pd.Series) -> pd.Series:
    """A text column with blanks as missing: the package keeps a blank Char value as "" (as
    SAS does), CORE reads it as null, and its distinct values, extremes and joins skip it."""
    if values.dtype.kind in "fiub" or pd.api.types.is_datetime64_any_dtype(values):
        return values
    return values.mask(values.astype("string").eq("").fillna(False).astype(bool))


def present(values: pd.Series) -> pd.Series:
    """Which values are there (neither null nor blank)."""
    return blank_as_missing(values).notna()


def _first_value(frame: pd.DataFrame, column: str) -> str | None:
    """The first record's value as CORE reads it: blank counts as absent."""
    if column not in frame.columns or frame.empty:
        return None
    value = frame[column].iloc[0]
    return None if pd.isna(value) or str(value) == "" else str(value)


@dataclass(frozen=True)
class DatasetIdentity:
    name: str
    domain: str | None  # DOMAIN of the first record
    rdomain: str | None  # SUPP--/SQ--: RDOMAIN of the first record
    has_apid: bool

    @property
    def is_supp(self) -> bool:
        return self.name.startswith(SUPPLEMENTARY_PREFIXES)

    @property
    def unsplit_name(self) -> str:
        """QS for QS1/QSAE, SUPPQS for SUPPQSX: the name split datasets share."""
        if self.domain:
            return self.domain
        if self.name.startswith("SUPP"):
            return f"SUPP{self.rdomain}"
        if self.name.startswith("SQ"):
            return f"SQ{self.rdomain}"
        return self.name

    @property
    def is_ap(self) -> bool:
        if self.is_supp:
            return bool(self.rdomain) and len(self.rdomain or "") == 4 and (self.rdomain or "").startswith("AP")
        return self.has_apid

    @property
    def ap_suffix(self) -> str:
        """FA for APFA: the domain an Associated Persons dataset describes."""
        if self.is_ap and not self.is_supp and self.domain and len(self.domain) >= 4:
            return self.domain[2:]
        return ""

    @property
    def wildcard(self) -> str:
        """What `--` stands for in the dataset's variable names ("" for SUPP--, RELREC)."""
        return self.ap_suffix or self.domain or ""


def identify(dataset: Dataset) -> DatasetIdentity:
    return derived(dataset, "identity", lambda: _identity(dataset))


def _identity(dataset: Dataset) -> DatasetIdentity:
    frame = dataset.frame
    name = dataset.name.upper()
    rdomain = _first_value(frame, "RDOMAIN") if name.startswith(SUPPLEMENTARY_PREFIXES) else None
    return DatasetIdentity(name, _first_value(frame, "DOMAIN"), rdomain, "APID" in frame.columns)


def identities(study: Study) -> Iterator[tuple[Dataset, DatasetIdentity]]:
    yield from derived(study, "identities", lambda: [(d, identify(d)) for d in study.datasets.values()])


def find_dataset(study: Study, domain: str) -> Dataset | None:
    """The first dataset CORE would fetch for an operation's `domain` (SUPP-- means any SUPP)."""
    for dataset, found in identities(study):
        if found.unsplit_name == domain or (domain.endswith("--") and found.unsplit_name.startswith(domain[:-2])):
            return dataset
    return None


def location(dataset: Dataset) -> str:
    """The file name CORE reports as the dataset's location (ae.xpt, ae.csv)."""
    return dataset.path.name if dataset.path is not None else f"{dataset.name.lower()}.xpt"
