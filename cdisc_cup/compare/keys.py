"""Which variables match the records of two datasets: the user's, define.xml's, or a default.

Chosen per dataset, strongest first:

1. `--keys` (for every dataset, or `--keys AE=USUBJID,AESEQ` for one): taken as given; a key
   variable missing from either dataset is an input error.
2. The define.xml beside the base datasets: its def:KeySequence (Define-XML 2.x) or
   def:DomainKeys (1.0), when both datasets hold every key variable. The sponsor declared
   these keys unique (SDTMIG 3.4 section 3.2.1.1), so they are used even when the data repeat
   them; the repeats are reported.
3. Defaults, taken only when they identify the records of both datasets uniquely, else the
   next one: the keys of SDTMIG 3.4's table in section 3.2.1 (the IG calls them examples, so
   they are not trusted blindly; `tools/sdtmig_keys.py` made `data/sdtmig_keys.csv` from the
   IG's text); for ADaM, ADSL by USUBJID (one record per subject, ADaMIG 1.3 section 3.1),
   BDS by USUBJID, PARAMCD and the analysis visit and time point (one record per subject,
   parameter and time point, section 3.3), then with ADT/ADTM and DTYPE; an OCCDS dataset
   by the --SEQ of its SDTM domain (ADAE by AESEQ, ADaM OCCDS 1.1 carries it for
   traceability); then STUDYID, USUBJID and the dataset's --SEQ, or ASEQ.
   When no default is unique, the first one both datasets hold is used and the records that
   share a key value are matched in their order (key + occurrence), reported as duplicates.
4. Record order (the first record of one with the first of the other), said in the report.
"""

from __future__ import annotations

import importlib.resources
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache

import pandas as pd

from cdisc_cup.comparison import KeyChoice, KeySource
from cdisc_cup.define.model import DefineModel
from cdisc_cup.errors import InputErrors, Problem, display_path
from cdisc_cup.xpt.model import Dataset

ALL_DATASETS = "*"
SUPP = "SUPP--"


@dataclass(frozen=True)
class KeyOption:
    """What `--keys` said: key variables per dataset name (ALL_DATASETS for every dataset)."""

    keys: Mapping[str, tuple[str, ...]]

    @staticmethod
    def parse(texts: Sequence[str]) -> KeyOption:
        """ "USUBJID,AESEQ" for every dataset, "AE=USUBJID,AESEQ" for one; ValueError when a
        text names no variable."""
        keys: dict[str, tuple[str, ...]] = {}
        for text in texts:
            dataset, _, variables = text.rpartition("=")
            names = tuple(v.strip().upper() for v in variables.split(",") if v.strip())
            if not names:
                raise ValueError(f"{text!r} names no key variable (expected USUBJID,AESEQ or AE=USUBJID,AESEQ)")
            keys[dataset.strip().upper() or ALL_DATASETS] = names
        return KeyOption(keys)

    def for_dataset(self, name: str) -> tuple[str, ...] | None:
        return self.keys.get(name, self.keys.get(ALL_DATASETS))


@cache
def ig_keys() -> dict[str, tuple[str, ...]]:
    """SDTMIG 3.4 section 3.2.1: dataset -> its example key variables."""
    path = importlib.resources.files("cdisc_cup.compare") / "data" / "sdtmig_keys.csv"
    with importlib.resources.as_file(path) as file:
        table = pd.read_csv(file, dtype=str, keep_default_na=False)
    return {name: tuple(keys.split()) for name, keys in zip(table["dataset"], table["keys"], strict=True)}


def _present(names: Sequence[str], *datasets: Dataset) -> tuple[str, ...]:
    """The names every dataset holds, in the given order."""
    return tuple(n for n in names if all(n in d.frame.columns for d in datasets))


def _first_of(options: Sequence[str], *datasets: Dataset) -> tuple[str, ...]:
    """The first of alternative variables (AVISITN before AVISIT) that both datasets hold."""
    return next(((n,) for n in options if _present([n], *datasets)), ())


def default_candidates(name: str, base: Dataset, compare: Dataset) -> list[tuple[KeySource, tuple[str, ...]]]:
    """The default key sets of a dataset, best first (see the module's docstring)."""
    both = (base, compare)
    candidates: list[tuple[KeySource, tuple[str, ...]]] = []
    ig = ig_keys().get(SUPP if name.startswith("SUPP") else name)
    if ig:
        candidates.append((KeySource.IG, ig))
    subject = _present(["STUDYID", "USUBJID"], *both)
    if name == "ADSL":
        candidates.append((KeySource.ADAM, subject))
    elif name.startswith("AD") and _present(["PARAMCD"], *both):
        natural = (
            *subject,
            "PARAMCD",
            *_first_of(["AVISITN", "AVISIT"], *both),
            *_first_of(["ATPTN", "ATPT"], *both),
        )
        candidates.append((KeySource.ADAM, natural))
        candidates.append((KeySource.ADAM, (*natural, *_first_of(["ADTM", "ADT"], *both), *_present(["DTYPE"], *both))))
    elif name.startswith("AD"):
        candidates.append((KeySource.ADAM, (*subject, f"{name[2:4]}SEQ")))
    candidates.append((KeySource.SEQUENCE, (*subject, f"{name[:2]}SEQ")))
    candidates.append((KeySource.SEQUENCE, (*subject, "ASEQ")))
    return [(source, keys) for source, keys in candidates if keys and _present(keys, *both) == keys]


def _unique(frame: pd.DataFrame, keys: tuple[str, ...]) -> bool:
    return not frame.duplicated(list(keys)).any()


def choose_keys(name: str, base: Dataset, compare: Dataset, option: KeyOption, define: DefineModel | None) -> KeyChoice:
    """The keys of one dataset (module docstring); InputErrors when --keys names a variable
    one of the datasets lacks."""
    given = option.for_dataset(name)
    if given is not None:
        missing = [
            Problem(display_path(d.path or d.name), f"key variable {key} is not in dataset {name}")
            for d in (base, compare)
            for key in given
            if key not in d.frame.columns
        ]
        if missing:
            raise InputErrors(missing, source="comparison")
        return KeyChoice(given, KeySource.OPTION)
    note = ""
    declared = define.datasets.get(name) if define is not None else None
    if declared is not None and declared.keys:
        if _present(declared.keys, base, compare) == declared.keys:
            return KeyChoice(declared.keys, KeySource.DEFINE)
        lacking = [k for k in declared.keys if k not in _present(declared.keys, base, compare)]
        note = f"define.xml keys {', '.join(declared.keys)}: {', '.join(lacking)} not in both datasets. "
    candidates = default_candidates(name, base, compare)
    for position, (source, keys) in enumerate(candidates):
        if _unique(base.frame, keys) and _unique(compare.frame, keys):
            skipped = "; ".join(f"{', '.join(k)} ({s})" for s, k in candidates[:position])
            return KeyChoice(keys, source, (note + (f"not unique: {skipped}" if skipped else "")).strip())
    if candidates:
        source, keys = candidates[0]
        tried = "; ".join(", ".join(k) for _, k in candidates)
        note += f"no default keys are unique in both datasets (tried {tried}); records of a key value matched in order"
        return KeyChoice(keys, source, note)
    return KeyChoice((), KeySource.RECORD_ORDER, note + "no keys known for this dataset: records matched by position")
