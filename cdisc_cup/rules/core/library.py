"""The CDISC Library metadata CORE's operations read (SDTM model classes, SDTMIG datasets), shipped.

CORE asks the CDISC Library for the SDTM model (class variables with role and ordinal) and the
SDTMIG (each domain's variables with role, core and ordinal; each domain's class and label).
The package ships the subset those operations use, derived from CDISC's own exports of
SDTMIG v3.4 and the SDTM model v2.0 behind it (`../shared/reference/cdisc-metadata`, see its
README). Regenerate with `python -m cdisc_cup.rules.core.library ../shared/reference/cdisc-metadata`.

Only that pair is shipped: a rule run against another IG version (SDTMIG 3.3 sits on SDTM
model 1.7) uses it too, which is exact wherever the two versions agree.

The functions below port CORE's assembly of a domain's variable list
(`cdisc_rules_engine/utilities/sdtm_utilities.py`): for the General Observation classes the
model's identifiers, the class's variables and the model's timing variables, with the IG's
variables laid over them; for the other classes the IG's list (or the model's, per function).
"""

from __future__ import annotations

import importlib.resources
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd

from cdisc_cup.rules import igmeta
from cdisc_cup.rules.core.identity import NotEvaluated

SHIPPED_IG = "3.4"
DATASETS_FILE = "library_datasets.csv"
VARIABLES_FILE = "library_variables.csv"

FINDINGS = "FINDINGS"
FINDINGS_ABOUT = "FINDINGS ABOUT"
EVENTS = "EVENTS"
INTERVENTIONS = "INTERVENTIONS"
RELATIONSHIP = "RELATIONSHIP"
GENERAL_OBSERVATIONS = "GENERAL OBSERVATIONS"
ASSOCIATED_PERSONS = "ASSOCIATED PERSONS"
# The classes whose variables CORE assembles from the model's General Observations parts.
DETECTABLE_CLASSES = frozenset({FINDINGS, INTERVENTIONS, EVENTS, FINDINGS_ABOUT})


OrderKey = Callable[["LibraryVariable"], Any]


@dataclass(frozen=True)
class LibraryVariable:
    """One variable as the Library describes it (name with `--` where the model has it)."""

    name: str
    label: str
    role: str
    core: str  # Req / Exp / Perm; model variables have none and count as Perm, as in CORE
    ordinal: int


def ct_class(library_class: str) -> str:
    """CORE's class names: the Library's upper-cased, Special-Purpose without its hyphen."""
    upper = library_class.upper()
    return "SPECIAL PURPOSE" if upper == "SPECIAL-PURPOSE" else upper


@cache
def _table(name: str) -> pd.DataFrame:
    path = importlib.resources.files("cdisc_cup.rules.core") / "data" / name
    with importlib.resources.as_file(path) as file:
        return pd.read_csv(file, dtype=str, keep_default_na=False)


@cache
def ig_domains() -> dict[str, tuple[str, str]]:
    """SDTMIG domain -> (class, label)."""
    table = _table(DATASETS_FILE)
    ig = table[table["source"] == "ig"]
    return {
        dataset: (library_class, label)
        for dataset, library_class, label in zip(ig["dataset"], ig["class"], ig["label"], strict=True)
    }


@cache
def model_datasets() -> frozenset[str]:
    table = _table(DATASETS_FILE)
    return frozenset(table.loc[table["source"] == "model", "dataset"])


def is_custom_domain(domain: str) -> bool:
    """CORE's test: neither an IG domain nor a model dataset (DM, SUPPQUAL, RELREC ...)."""
    return domain not in ig_domains() and domain not in model_datasets()


def domain_label(domain: str) -> str:
    return ig_domains().get(domain, ("", ""))[1]


def _variables(source: str, *, library_class: str | None = None, dataset: str = "") -> list[LibraryVariable]:
    """A class's own variables (dataset ""), or a dataset's (any class): a new list each time,
    of variables read from the table once (rules ask for them per dataset)."""
    return list(_table_variables(source, library_class, dataset))


@cache
def _table_variables(source: str, library_class: str | None, dataset: str) -> tuple[LibraryVariable, ...]:
    table = _table(VARIABLES_FILE)
    rows = table[(table["source"] == source) & (table["dataset"] == dataset)]
    if library_class is not None:
        rows = rows[rows["class"] == library_class]
    found = [
        LibraryVariable(name, label, role, core or "Perm", int(ordinal))
        for name, label, role, core, ordinal in zip(
            rows["variable"], rows["label"], rows["role"], rows["core"], rows["ordinal"], strict=True
        )
    ]
    return tuple(sorted(found, key=lambda variable: variable.ordinal))


def _class_variables(class_name: str, order: OrderKey) -> list[LibraryVariable]:
    """The model's variables of a class (Findings About brings Findings' in, after --TEST)."""
    own = sorted(_variables("model", library_class=class_name), key=order)
    if class_name != FINDINGS_ABOUT:
        return own
    findings = sorted(_variables("model", library_class=FINDINGS), key=order)
    after_test = next((i + 1 for i, v in enumerate(findings) if v.name == "--TEST"), len(findings))
    return findings[:after_test] + own + findings[after_test:]


def _general_observation_parts(order: OrderKey) -> tuple[list[LibraryVariable], list[LibraryVariable]]:
    general = sorted(_variables("model", library_class=GENERAL_OBSERVATIONS), key=order)
    return [v for v in general if v.role == "Identifier"], [v for v in general if v.role == "Timing"]


def _named(variables: Sequence[LibraryVariable], domain: str) -> list[LibraryVariable]:
    return [replace(v, name=v.name.replace("--", domain)) for v in variables]


def _without_usubjid(variables: Sequence[LibraryVariable]) -> list[LibraryVariable]:
    return [v for v in variables if v.name != "USUBJID"]


@dataclass(frozen=True)
class LibraryDomain:
    """How CORE looks a dataset up in the Library: the domain name it uses, the one `--`
    stands for, whether Associated Persons identifiers join, and the class."""

    lookup: str
    prefix: str
    associated_persons: bool
    class_name: str | None
    custom: bool


def library_domain(unsplit_name: str, custom_class: str | None) -> LibraryDomain:
    """SUPPxx and SQxx are SUPPQUAL; APxx is xx with the AP identifiers; `custom_class` is the
    class CORE guesses from the topic variable when the domain is not in the Library."""
    lookup = prefix = unsplit_name
    associated = False
    upper = unsplit_name.upper()
    if upper.startswith(("SUPP", "SQ")) and len(unsplit_name) > 2:
        associated = upper.startswith("SQAP")
        lookup = "SUPPQUAL"
    elif upper.startswith("AP"):
        lookup = prefix = unsplit_name[2:]
        associated = True
    custom = is_custom_domain(lookup)
    if custom:
        class_name = custom_class
    else:
        class_name = ct_class(ig_domains()[lookup][0]) if lookup in ig_domains() else _model_dataset_class(lookup)
    return LibraryDomain(lookup, prefix, associated, class_name, custom)


def _model_dataset_class(dataset: str) -> str | None:
    table = _table(DATASETS_FILE)
    rows = table[(table["source"] == "model") & (table["dataset"] == dataset)]
    return ct_class(rows["class"].iloc[0]) if len(rows) else None


@cache
def model_wildcard_variables() -> frozenset[str]:
    """The model's class variables with `--` (--TERM, --SEQ ...): RELREC names them by a wildcard."""
    table = _table(VARIABLES_FILE)
    names = table.loc[(table["source"] == "model") & (table["dataset"] == ""), "variable"]
    return frozenset(name for name in names if name.startswith("--"))


class LibraryLookupError(NotEvaluated):
    """The Library has no class for the dataset (CORE fails the operation the same way)."""


def _require_class(domain: LibraryDomain) -> str:
    if domain.class_name is None:
        raise LibraryLookupError(f"the CDISC Library has no class for {domain.lookup}")
    return domain.class_name


def _by_ordinal(variable: LibraryVariable) -> int:
    return variable.ordinal


def _by_ordinal_text(variable: LibraryVariable) -> str:
    return str(variable.ordinal)


def _model_general_observation_list(domain: LibraryDomain, class_name: str, order: OrderKey) -> list[LibraryVariable]:
    identifiers, timing = _general_observation_parts(order)
    if domain.associated_persons:
        identifiers = sorted(
            _without_usubjid(identifiers + _variables("model", library_class=ASSOCIATED_PERSONS)),
            key=order,
        )
    return (
        _named(identifiers, domain.prefix)
        + _named(_class_variables(class_name, order), domain.prefix)
        + _named(timing, domain.prefix)
    )


def ig_variables(dataset: str, version: str = SHIPPED_IG) -> list[LibraryVariable]:
    """The IG's variables of a domain. For an IG version other than 3.4 the variables and
    their core designations are that version's (from `cdisc_cup.rules.igmeta`), with the
    role 3.4 gives the variable."""
    current = _variables("ig", dataset=dataset)
    if version == SHIPPED_IG:
        return current
    older = igmeta.ig_dataset_variables("sdtm", dataset, version)
    if older.empty:
        return current
    roles = {v.name: v.role for v in current}
    return [
        LibraryVariable(name, label, roles.get(name, ""), core or "Perm", position)
        for position, (name, label, core) in enumerate(
            zip(older["variable"], older["label"], older["core"], strict=True), start=1
        )
    ]


def standard_variables(domain: LibraryDomain, version: str = SHIPPED_IG) -> list[LibraryVariable]:
    """CORE's `get_variables_metadata_from_standard`: the IG's variables of the domain in
    model order (custom domains: the model's class list)."""
    class_name = _require_class(domain)
    if domain.custom or class_name in DETECTABLE_CLASSES:
        model_list = _model_general_observation_list(domain, class_name, _by_ordinal)
        if domain.custom:
            return model_list
    ig = ig_variables(domain.lookup, version)
    if class_name not in DETECTABLE_CLASSES:
        if domain.associated_persons:
            ap = _variables("model", library_class=ASSOCIATED_PERSONS)
            return _named(sorted(_without_usubjid(ig + ap), key=lambda v: v.ordinal), domain.prefix)
        return ig
    identifiers, timing = _general_observation_parts(_by_ordinal)
    identifiers_count, timing_count = len(identifiers), len(timing)
    merged = list(model_list)
    for ig_variable in _named(ig, domain.prefix):
        position = next((i for i, v in enumerate(merged) if v.name == ig_variable.name), None)
        if position is not None:
            merged[position] = ig_variable
        elif ig_variable.role == "Identifier":
            # CORE inserts at a fixed point, so later identifiers land before earlier ones.
            merged.insert(identifiers_count, ig_variable)
        elif ig_variable.role == "Timing":
            merged.append(ig_variable)
        else:
            merged.insert(len(merged) - timing_count, ig_variable)
    return merged


def model_variables(domain: LibraryDomain) -> list[LibraryVariable]:
    """CORE's `get_variables_metadata_from_standard_model`: the model's variables allowed for
    the dataset's class (General Observations), else the class's or model dataset's own list,
    else the IG's."""
    class_name = _require_class(domain)
    if class_name in DETECTABLE_CLASSES:
        # CORE's model lists come out ordered by ordinal as text (1, 10, 11 ... 2, 20): the
        # reported lists are CORE's only in that order.
        return _model_general_observation_list(domain, class_name, _by_ordinal_text)
    ap = _without_usubjid(_variables("model", library_class=ASSOCIATED_PERSONS)) if domain.associated_persons else []
    class_variables = _variables("model", library_class=_library_class_name(class_name))
    if class_variables:
        return _named(sorted(class_variables + ap, key=lambda v: v.ordinal), domain.prefix)
    for source in ("model", "ig"):
        listed = _variables(source, dataset=domain.lookup)
        if listed:
            return _named(sorted(listed + ap, key=lambda v: v.ordinal), domain.prefix)
    return []


def _library_class_name(class_name: str) -> str:
    return "SPECIAL-PURPOSE" if class_name == "SPECIAL PURPOSE" else class_name


def build(metadata_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The two shipped tables from CDISC's SDTMIG v3.4 and SDTM v2.0 exports."""
    frames = []
    datasets = []
    for source, stem in (("model", "sdtm-2-0"), ("ig", "sdtmig-3-4")):
        variables = pd.read_csv(metadata_dir / f"{stem}-Variables.csv", dtype=str, keep_default_na=False)
        frames.append(
            pd.DataFrame(
                {
                    "source": source,
                    "class": variables["Class"].str.upper(),
                    "dataset": variables["Dataset Name"],
                    "variable": variables["Variable Name"],
                    "label": variables["Variable Label"],
                    "role": variables["Role"],
                    "core": variables.get("Core", ""),
                    "ordinal": variables["Variable Order"],
                }
            )
        )
        listed = pd.read_csv(
            metadata_dir / f"{stem}-Datasets.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig"
        )
        datasets.append(
            pd.DataFrame(
                {
                    "source": source,
                    "class": listed["Class"].str.upper(),
                    "dataset": listed["Dataset Name"],
                    "label": listed["Dataset Label"],
                }
            )
        )
    return pd.concat(datasets, ignore_index=True), pd.concat(frames, ignore_index=True)


if __name__ == "__main__":
    target = Path(__file__).parent / "data"
    dataset_table, variable_table = build(Path(sys.argv[1]))
    dataset_table.to_csv(target / DATASETS_FILE, index=False)
    variable_table.to_csv(target / VARIABLES_FILE, index=False)
    print(f"wrote {target / DATASETS_FILE} and {target / VARIABLES_FILE}")
