"""CORE's `Operations`: values computed before the check, each added as a column named by its id.

A rule's operation (`distinct`, `max_date`, `required_variables` ...) is data; this module
runs the ones the published SDTMIG rules use, ported from cdisc_rules_engine/operations/
with their quirks where the test cases depend on them (a grouped `max_date` takes the
greatest value as text, not as a date; `dy` has no day 0). Every operation is a column
operation or a group-by over the frame; a grouped result is joined back on its groups.

An operation reads the frame the check runs on when its `domain` is the dataset's own (the
frame's DOMAIN says so), else the other dataset's records as they are in the study;
SUPP--, CO and RELREC are always read from the study, as CORE does.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

from cdisc_cup.columns import key_codes
from cdisc_cup.rules import igmeta
from cdisc_cup.rules.core import library
from cdisc_cup.rules.core.frames import RuleFrame, dataset_metadata, records
from cdisc_cup.rules.core.identity import (
    DatasetIdentity,
    NotEvaluated,
    blank_as_missing,
    derived,
    find_dataset,
    identify,
    identities,
)
from cdisc_cup.rules.core.merges import key_positions
from cdisc_cup.rules.core.model import CoreRule, NotRunnableError
from cdisc_cup.rules.model import Study
from cdisc_cup.xpt.model import Dataset

RELATIONSHIP_DATASETS = ("RELREC", "RELSUB", "CO")
# Library metadata keys an operation may filter on, as CORE's Library dicts name them.
LIBRARY_KEYS = {"role": "role", "core": "core", "name": "name", "label": "label"}


@dataclass(frozen=True)
class Operation:
    """One entry of the rule's `Operations`, with `--` and `SUPP--` resolved for the dataset."""

    id: str
    operator: str
    target: str | None  # `name`, with -- replaced
    original_target: str | None
    domain: str  # the dataset the operation reads (its unsplit name)
    params: Mapping[str, Any]

    @property
    def grouping(self) -> list[str]:
        return list(self.params.get("group") or [])


def resolve(entry: Mapping[str, Any], current: DatasetIdentity) -> Operation:
    """CORE's `perform_rule_operations` set-up of one operation."""
    original = entry.get("name")
    domain = str(entry.get("domain") or current.unsplit_name)
    wildcard = str(entry.get("domain") or current.wildcard)
    target = original.replace("--", wildcard) if isinstance(original, str) and original.startswith("--") else original
    if domain.startswith(("SUPP", "SQ")) and domain.endswith("--") and current.rdomain:
        domain = domain.replace("--", current.rdomain)
    return Operation(str(entry["id"]), str(entry["operator"]), target, original, domain, entry)


@dataclass(frozen=True)
class Source:
    """What an operation reads: the frame (checked or fetched) and the dataset it stands for."""

    frame: pd.DataFrame
    dataset: Dataset
    identity: DatasetIdentity


def _is_current(frame: pd.DataFrame, domain: str) -> bool:
    if domain in RELATIONSHIP_DATASETS or domain.startswith(("SUPP", "SQ")):
        return False
    return "DOMAIN" in frame.columns and not frame.empty and frame["DOMAIN"].iloc[0] == domain


def _source(operation: Operation, frame: pd.DataFrame, rule_frame: RuleFrame, study: Study) -> Source:
    if _is_current(frame, operation.domain):
        return Source(frame, rule_frame.in_scope, identify(rule_frame.in_scope))
    other = find_dataset(study, operation.domain)
    if other is None:
        raise DomainNotFoundError(f"operation {operation.id} reads {operation.domain}, which is not in the study")
    return Source(records(other), other, identify(other))


class DomainNotFoundError(NotEvaluated):
    """An operation reads a domain the study lacks (CORE skips the rule for the dataset)."""


# --- result shapes --------------------------------------------------------------------------


def _broadcast(frame: pd.DataFrame, column: str, value: Any) -> pd.DataFrame:
    """The same value (a number, a text, a list) on every row: the one object in every slot,
    filled by numpy (a Python list of millions of references took 0.4 s per operation)."""
    same = np.empty(len(frame), dtype=object)
    same.fill(value)
    frame[column] = pd.Series(same, index=frame.index, dtype=object, copy=False)
    return frame


def _join_groups(frame: pd.DataFrame, column: str, grouped: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    """A per-group result back on the rows of its group (rows of no group get None)."""
    missing = [key for key in keys if key not in frame.columns]
    if missing:
        raise KeyError(f"operation {column} groups by {', '.join(missing)}, which the dataset lacks")
    # a left merge onto one group each (as pandas matches keys: a missing key is a key too),
    # by integer codes of the keys rather than merging the rows
    own, theirs = key_codes([frame, grouped], list(keys))
    groups = pd.Index(theirs)
    found = groups.get_indexer(own) if len(groups) and groups.is_unique else None
    if found is None:  # no groups, or not one row each: pandas' merge says what that gives
        values = frame[list(keys)].merge(grouped[[*keys, column]], on=list(keys), how="left")[column].astype(object)
    else:
        values = pd.Series(grouped[column].astype(object).to_numpy()[found], dtype=object).where(found >= 0)
    frame[column] = pd.Series(values.where(values.notna(), None).to_numpy(), index=frame.index, dtype=object)
    return frame


def _filtered(source: pd.DataFrame, filters: Mapping[str, Any] | None) -> pd.DataFrame:
    """`filter`: records whose variables equal the values; a value ending in & is a prefix."""
    kept = source
    for variable, value in (filters or {}).items():
        column = kept[variable]
        if isinstance(value, str) and value.endswith("&"):
            kept = kept[column.astype("string").str.startswith(value.rstrip("&")).fillna(False).astype(bool)]
        else:
            kept = kept[(column == value).fillna(False).astype(bool)]
    return kept


def _expanded(grouping: Sequence[str], frame: pd.DataFrame, domain: str) -> list[str]:
    """Group names with -- resolved; a group naming an operation whose value is a list of
    variables ($TIMING_VARIABLES) stands for those variables."""
    expanded: list[str] = []
    for name in grouping:
        name = name.replace("--", domain)
        if name in frame.columns and len(frame) and isinstance(frame[name].iloc[0], list | tuple):
            expanded.extend(frame[name].iloc[0])
        else:
            expanded.append(name)
    return list(dict.fromkeys(expanded))


# --- operations on the records ------------------------------------------------------------


def distinct(operation: Operation, frame: pd.DataFrame, source: Source, study: Study) -> pd.DataFrame:
    """The distinct values of `name` (per group: in order of first appearance, blanks left out).
    Worked out once per source frame: rules in scope of many datasets read DM's the same way."""
    key = (
        "distinct",
        operation.target,
        repr(operation.params.get("filter")),
        bool(operation.params.get("value_is_reference")),
        tuple(operation.grouping),
    )
    found = derived(source.frame, key, lambda: _distinct_values(operation, source, study))
    if not operation.grouping:
        return _broadcast(frame, operation.id, found)
    return _join_groups(frame, operation.id, found.rename(columns={"__distinct": operation.id}), operation.grouping)


def _distinct_values(operation: Operation, source: Source, study: Study) -> list[Any] | pd.DataFrame:
    data = _filtered(source.frame, operation.params.get("filter"))
    target = operation.target or ""
    values = _referenced_columns(data, target, study) if operation.params.get("value_is_reference") else data[target]
    values = blank_as_missing(values)
    grouping = operation.grouping
    if not grouping:
        return list(pd.unique(values.dropna()))
    pairs = data[grouping].apply(blank_as_missing).assign(__distinct=values)
    pairs = pairs.drop_duplicates(subset=[*grouping, "__distinct"])
    return _lists_per_group(pairs, list(grouping), "__distinct")


def _lists_per_group(pairs: pd.DataFrame, grouping: list[str], column: str) -> pd.DataFrame:
    """One row per group of `grouping` (sorted, rows with a missing key left out, as groupby
    does) holding the list of the group's `column` values in order, missing ones left out:
    split from one sorted array instead of a Python call per group (100,000 subjects)."""
    grouped = pairs.groupby(grouping, sort=True)
    keys = grouped.size().reset_index()[grouping]
    codes = grouped.ngroup().fillna(-1).to_numpy(dtype=np.int64)  # rows of no group: -1
    values = pairs[column]
    kept = (codes >= 0) & values.notna().to_numpy()
    order = np.argsort(codes[kept], kind="stable")
    members = values.to_numpy(dtype=object)[kept][order]
    ends = np.cumsum(np.bincount(codes[kept], minlength=len(keys)))[:-1]
    keys[column] = pd.Series([part.tolist() for part in np.split(members, ends)], index=keys.index, dtype=object)
    return keys


def _referenced_columns(data: pd.DataFrame, target: str, study: Study) -> pd.Series:
    """`value_is_reference`: the variable named in `target` where the dataset RDOMAIN names has it."""
    columns = pd.DataFrame(
        [(found.name, column) for dataset, found in identities(study) for column in dataset.frame.columns],
        columns=["__dataset", "__column"],
    )
    if "RDOMAIN" not in data.columns:
        return pd.Series(None, index=data.index, dtype=object)
    asked = pd.DataFrame({"__dataset": data["RDOMAIN"].astype(object), "__column": data[target].astype(object)})
    known = pd.MultiIndex.from_frame(asked).isin(pd.MultiIndex.from_frame(columns))
    return data[target].astype(object).where(known, None)


def record_count(operation: Operation, frame: pd.DataFrame, source: Source, study: Study) -> pd.DataFrame:
    """The number of records (matching `filter`), per group when `group` is given."""
    filters = operation.params.get("filter")
    counted = _filtered(source.frame, filters) if filters else source.frame
    if not operation.grouping:
        return _broadcast(frame, operation.id, len(counted))
    keys = _expanded(operation.grouping, frame, source.identity.wildcard)
    pattern = operation.params.get("regex")
    all_groups = _regex_keys(source.frame[keys], pattern) if pattern else source.frame[keys]
    sizes = all_groups.groupby(keys, dropna=False, sort=True).size().rename(operation.id).reset_index()
    if filters:
        kept = _regex_keys(counted[keys], pattern) if pattern else counted[keys]
        kept_sizes = kept.groupby(keys, dropna=False, sort=True).size().rename(operation.id).reset_index()
        sizes = sizes[keys].merge(kept_sizes, on=keys, how="left").fillna({operation.id: 0})
        sizes[operation.id] = sizes[operation.id].astype(int)
    if pattern:
        on_frame = _regex_keys(frame[keys], pattern)
        joined = on_frame.merge(sizes, on=keys, how="left")
        frame[operation.id] = pd.Series(joined[operation.id].to_numpy(dtype=object), index=frame.index, dtype=object)
        return frame
    return _join_groups(frame, operation.id, sizes, keys)


def _regex_keys(keys: pd.DataFrame, pattern: str) -> pd.DataFrame:
    """`regex` with `group`: text keys the pattern matches are cut to the match (a date from a
    date/time), as CORE does for a column whose first value matches."""
    cut = keys.copy()
    compiled = re.compile(pattern)
    for column in cut.columns:
        sample = cut[column].dropna()
        if len(sample) and isinstance(sample.iloc[0], str) and compiled.match(sample.iloc[0]):
            text = cut[column].astype("string")
            found = text.str.extract(f"^({pattern.lstrip('^')})", expand=False)
            cut[column] = found.where(found.notna(), text).astype(object).where(cut[column].notna(), None)
    return cut


def _date_extreme(operation: Operation, frame: pd.DataFrame, source: Source, largest: bool) -> pd.DataFrame:
    """CORE's min_date/max_date: per group the least/greatest value *as text* (so 2013-01 is
    before 2013-01-05); without a group the extreme date as an ISO date/time."""
    target = operation.target or ""
    if not operation.grouping:
        dates = pd.to_datetime(blank_as_missing(source.frame[target]), errors="coerce", format="ISO8601")
        extreme = dates.max() if largest else dates.min()
        return _broadcast(frame, operation.id, "" if pd.isna(extreme) else extreme.isoformat())
    values = blank_as_missing(source.frame[target]).astype("string")
    groups = values.groupby([blank_as_missing(source.frame[key]) for key in operation.grouping], sort=True)
    extreme = (groups.max() if largest else groups.min()).astype(object)
    grouped = extreme.rename(operation.id).reset_index()
    return _join_groups(frame, operation.id, grouped, operation.grouping)


def min_date(operation: Operation, frame: pd.DataFrame, source: Source, study: Study) -> pd.DataFrame:
    return _date_extreme(operation, frame, source, largest=False)


def max_date(operation: Operation, frame: pd.DataFrame, source: Source, study: Study) -> pd.DataFrame:
    return _date_extreme(operation, frame, source, largest=True)


def _iso_day(value: Any) -> date | None:
    """The date part of a complete ISO 8601 date/time (Python's reading, as CORE's)."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value).date()
    except ValueError:
        return None


def _days(values: pd.Series) -> pd.Series:
    """The date of each value (NaT where none), each distinct value parsed once: the data has
    far fewer dates than records (text factorized by Arrow, no Python object per record)."""
    codes, distinct = pd.factorize(values)
    parsed = pd.to_datetime(pd.Series([_iso_day(value) for value in distinct], dtype=object))
    return pd.Series(parsed.array.take(codes, allow_fill=True), index=values.index)


def _reference_days(subjects: pd.Series, dm: Sequence[Dataset], study: Study) -> pd.Series:
    """Each record's subject's DM.RFSTDTC as a date (none for a subject DM lacks). With one DM,
    each subject is looked up in it by Arrow (`key_positions`) and RFSTDTC's dates are parsed
    once per run; else looked up once per subject. (Not remembered as a join's positions are:
    the frames the operation gets are the rules' own joins, each with its own arrays.)"""
    found = key_positions(subjects, dm[0].frame["USUBJID"], study) if len(dm) == 1 else None
    if found is not None:
        days = derived(dm[0], ("days of", "RFSTDTC"), lambda: _days(dm[0].frame["RFSTDTC"]))
        return pd.Series(days.array.take(found, allow_fill=True), index=subjects.index)
    table = pd.concat([d.frame[["USUBJID", "RFSTDTC"]] for d in dm]).drop_duplicates("USUBJID")
    codes, seen = pd.factorize(subjects)
    reference = _days(table.set_index("USUBJID")["RFSTDTC"].reindex(seen))
    return pd.Series(reference.array.take(codes, allow_fill=True), index=subjects.index)


def dy(operation: Operation, frame: pd.DataFrame, source: Source, study: Study) -> pd.DataFrame:
    """Study day of `name` against DM.RFSTDTC: (date - RFSTDTC) + 1 on or after, no day 0."""
    dm = [dataset for dataset, found in identities(study) if found.domain == "DM"]
    if not dm:
        raise DomainNotFoundError("operation dy needs DM, which is not in the study")
    if "USUBJID" not in frame:
        raise KeyError("operation dy needs USUBJID")
    origin = _reference_days(frame["USUBJID"], dm, study)
    start = _days(frame[operation.target or ""])
    days = (start - origin).dt.days.to_numpy(dtype=float, na_value=np.nan)
    # a Python int per distinct day, "" where there is none, put in place by numpy
    codes, distinct = pd.factorize(np.where(days < 0, days, days + 1))
    study_days = np.array([*(int(day) for day in distinct), ""], dtype=object)
    frame[operation.id] = pd.Series(study_days[codes], index=frame.index, dtype=object)
    return frame


def variable_exists(operation: Operation, frame: pd.DataFrame, source: Source, study: Study) -> pd.DataFrame:
    return _broadcast(frame, operation.id, (operation.target or "") in source.frame.columns)


def get_column_order_from_dataset(
    operation: Operation, frame: pd.DataFrame, source: Source, study: Study
) -> pd.DataFrame:
    return _broadcast(frame, operation.id, list(source.frame.columns))


def extract_metadata(operation: Operation, frame: pd.DataFrame, source: Source, study: Study) -> pd.DataFrame:
    metadata = dataset_metadata(source.dataset)
    value = metadata[operation.target].iloc[0] if operation.target in metadata.columns else None
    return _broadcast(frame, operation.id, value)


# --- operations on the study ----------------------------------------------------------------


def study_domains(operation: Operation, frame: pd.DataFrame, source: Source, study: Study) -> pd.DataFrame:
    """The domains of the study (CORE's is an unordered set; sorted here)."""
    domains = {found.domain for _, found in identities(study)}
    return _broadcast(frame, operation.id, sorted(domains, key=lambda domain: (domain is not None, domain or "")))


def dataset_names(operation: Operation, frame: pd.DataFrame, source: Source, study: Study) -> pd.DataFrame:
    """The datasets' names (CORE's is an unordered set; sorted here)."""
    return _broadcast(frame, operation.id, sorted({found.name for _, found in identities(study)}))


def variable_count(operation: Operation, frame: pd.DataFrame, source: Source, study: Study) -> pd.DataFrame:
    """In how many domains the variable `name` (-- per domain) exists; split datasets count once."""
    per_domain = {found.unsplit_name: (dataset, found) for dataset, found in identities(study)}
    original = operation.original_target or ""
    count = sum(
        original.replace("--", found.wildcard) in dataset.frame.columns for dataset, found in per_domain.values()
    )
    return _broadcast(frame, operation.id, count)


def domain_is_custom(operation: Operation, frame: pd.DataFrame, source: Source, study: Study) -> pd.DataFrame:
    _shipped_ig(source, study)
    return _broadcast(frame, operation.id, library.is_custom_domain(operation.domain))


def domain_label(operation: Operation, frame: pd.DataFrame, source: Source, study: Study) -> pd.DataFrame:
    _shipped_ig(source, study)
    return _broadcast(frame, operation.id, library.domain_label(operation.domain))


# --- operations on the CDISC Library metadata ---------------------------------------------


def custom_class(dataset: Dataset, found: DatasetIdentity) -> str | None:
    """The class CORE guesses for a domain the Library lacks, from its topic variable."""
    columns = set(dataset.frame.columns)
    if "DOMAIN" in columns:
        prefix = (found.domain or "").upper()
        has = lambda variable: f"{prefix}{variable}" in columns  # noqa: E731
    elif "RDOMAIN" in columns:
        has = lambda variable: variable in columns  # noqa: E731
    else:
        return None
    if has("TERM"):
        return library.EVENTS
    if has("TRT"):
        return library.INTERVENTIONS
    if has("QNAM"):
        return library.RELATIONSHIP
    if has("TESTCD"):
        return library.FINDINGS_ABOUT if has("OBJ") else library.FINDINGS
    return None


def _shipped_ig(source: Source, study: Study) -> str:
    """The IG version of the dataset, if the package has its Library metadata (a SENDIG 3.1
    or TIG 1.0 case names a version it has not)."""
    version = study.ig_version_of(source.dataset)
    if version not in igmeta.IG_VERSIONS["sdtm"]:
        shipped = ", ".join(igmeta.IG_VERSIONS["sdtm"])
        raise NotRunnableError(f"needs CDISC Library metadata of IG version {version}; shipped: SDTMIG {shipped}")
    return version


def _library_domain(source: Source, study: Study) -> library.LibraryDomain:
    _shipped_ig(source, study)
    return library.library_domain(source.identity.unsplit_name, custom_class(source.dataset, source.identity))


def _names(variables: Sequence[library.LibraryVariable], key: str | None = None, value: Any = None) -> list[str]:
    if key:
        attribute = LIBRARY_KEYS.get(key)
        if attribute is None:
            raise NotRunnableError(f"Library metadata key {key!r} is not shipped")
        variables = [v for v in variables if getattr(v, attribute) == value]
    return list(dict.fromkeys(v.name for v in variables))


def _standard(operation: Operation, source: Source, study: Study, key: str | None, value: Any) -> list[str]:
    variables = library.standard_variables(_library_domain(source, study), study.ig_version_of(source.dataset))
    return [name.replace("--", operation.domain) for name in _names(variables, key, value)]


def required_variables(operation: Operation, frame: pd.DataFrame, source: Source, study: Study) -> pd.DataFrame:
    return _broadcast(frame, operation.id, _standard(operation, source, study, "core", "Req"))


def expected_variables(operation: Operation, frame: pd.DataFrame, source: Source, study: Study) -> pd.DataFrame:
    return _broadcast(frame, operation.id, _standard(operation, source, study, "core", "Exp"))


def get_column_order_from_library(
    operation: Operation, frame: pd.DataFrame, source: Source, study: Study
) -> pd.DataFrame:
    key = operation.params.get("key_name")
    return _broadcast(frame, operation.id, _standard(operation, source, study, key, operation.params.get("key_value")))


def get_dataset_filtered_variables(
    operation: Operation, frame: pd.DataFrame, source: Source, study: Study
) -> pd.DataFrame:
    """The dataset's variables whose Library metadata has key_name = key_value (Timing ...)."""
    key = operation.params.get("key_name")
    wanted = _standard(operation, source, study, key, operation.params.get("key_value"))
    present = set(source.frame.columns)
    return _broadcast(frame, operation.id, [name for name in wanted if name in present])


def get_model_column_order(operation: Operation, frame: pd.DataFrame, source: Source, study: Study) -> pd.DataFrame:
    return _broadcast(frame, operation.id, _names(library.model_variables(_library_domain(source, study))))


def get_model_filtered_variables(
    operation: Operation, frame: pd.DataFrame, source: Source, study: Study
) -> pd.DataFrame:
    variables = library.model_variables(_library_domain(source, study))
    key = operation.params.get("key_name")
    return _broadcast(frame, operation.id, _names(variables, key, operation.params.get("key_value")))


def get_parent_model_column_order(
    operation: Operation, frame: pd.DataFrame, source: Source, study: Study
) -> pd.DataFrame:
    """Per record, the model's variables of the domain its RDOMAIN names."""
    parents = frame["RDOMAIN"] if "RDOMAIN" in frame.columns else pd.Series(None, index=frame.index, dtype=object)
    orders: dict[Any, list[str]] = {}
    for rdomain in pd.unique(parents):
        parent = next((d for d, found in identities(study) if found.domain == rdomain), None)
        if parent is None:
            raise DomainNotFoundError(f"operation {operation.id} needs the parent domain {rdomain}, not in the study")
        parent_source = Source(records(parent), parent, identify(parent))
        orders[rdomain] = _names(library.model_variables(_library_domain(parent_source, study)))
    lists = np.empty(len(orders), dtype=object)
    for position, order in enumerate(orders.values()):  # one per parent domain
        lists[position] = order
    codes = pd.Categorical(parents.astype(object), categories=list(orders)).codes
    frame[operation.id] = pd.Series(lists[codes], index=frame.index, dtype=object)
    return frame


def codelist_terms(operation: Operation, frame: pd.DataFrame, source: Source, study: Study) -> pd.DataFrame:
    """The terms (or the codelists themselves) of `codelists`, as codes or submission values."""
    if operation.params.get("term_code") or operation.params.get("term_value") or operation.params.get("ct_version"):
        raise NotRunnableError("codelist_terms per record and CT version needs CT packages not shipped")
    level = operation.params.get("level")
    returned = operation.params.get("returntype")
    values: list[str | None] = []
    for name in operation.params.get("codelists") or []:
        try:
            codelist = study.terminology.codelist(str(name))
        except KeyError as missing:
            raise NotRunnableError(f"codelist {name} is not in the CT packages shipped") from missing
        if level == "codelist":
            values.append(codelist.nci_code if returned == "code" else codelist.id)
        else:
            values.extend(term.nci_code if returned == "code" else term.value for term in codelist.terms)
    return _broadcast(frame, operation.id, values)


OperationFunction = Callable[[Operation, pd.DataFrame, Source, Study], pd.DataFrame]
OPERATIONS: dict[str, OperationFunction] = {
    "distinct": distinct,
    "record_count": record_count,
    "min_date": min_date,
    "max_date": max_date,
    "dy": dy,
    "variable_exists": variable_exists,
    "get_column_order_from_dataset": get_column_order_from_dataset,
    "extract_metadata": extract_metadata,
    "study_domains": study_domains,
    "dataset_names": dataset_names,
    "variable_count": variable_count,
    "domain_is_custom": domain_is_custom,
    "domain_label": domain_label,
    "required_variables": required_variables,
    "expected_variables": expected_variables,
    "get_column_order_from_library": get_column_order_from_library,
    "get_dataset_filtered_variables": get_dataset_filtered_variables,
    "get_model_column_order": get_model_column_order,
    "get_model_filtered_variables": get_model_filtered_variables,
    "get_parent_model_column_order": get_parent_model_column_order,
    "codelist_terms": codelist_terms,
}
# Operations that read dictionaries or Library content the package does not ship.
NOT_SHIPPED = {
    "valid_meddra_code_references": "MedDRA",
    "valid_meddra_code_term_pairs": "MedDRA",
    "valid_meddra_term_references": "MedDRA",
    "valid_whodrug_references": "WHODrug",
    "whodrug_code_hierarchy": "WHODrug",
    "valid_external_dictionary_value": "external dictionaries (MedDRA, WHODrug, LOINC ...)",
    "valid_external_dictionary_code": "external dictionaries (MedDRA, WHODrug, LOINC ...)",
    "valid_external_dictionary_code_term_pair": "external dictionaries (MedDRA, WHODrug, LOINC ...)",
    "valid_codelist_dates": "the list of CDISC CT packages in the CDISC Library",
    "get_codelist_attributes": "CDISC CT packages by version",
}


def operation_unavailable(operator: str) -> str:
    """Why an operation CORE has is not run here ("needs MedDRA, not available offline")."""
    needs = NOT_SHIPPED.get(operator)
    return f"needs {needs}, not available offline" if needs else "is not implemented"


def run_operation(entry: Mapping[str, Any], frame: pd.DataFrame, rule_frame: RuleFrame, study: Study) -> pd.DataFrame:
    """One operation of the rule on the frame (which holds the earlier operations' columns)."""
    operation = resolve(entry, identify(rule_frame.in_scope))
    function = OPERATIONS.get(operation.operator)
    if function is None:
        raise NotRunnableError(f"operation {operation.operator} {operation_unavailable(operation.operator)}")
    try:
        return function(operation, frame, _source(operation, frame, rule_frame, study), study)
    except KeyError as missing:  # CORE skips the dataset: "column not found in data"
        raise NotEvaluated(f"operation {operation.id} needs {missing}, not in the data") from missing


def apply_operations(rule: CoreRule, rule_frame: RuleFrame, study: Study, part: pd.DataFrame) -> pd.DataFrame:
    """The `part` of the rule frame with one column per operation, in the rule's order (later
    ones may use earlier). An operation's value for a row does not depend on the other rows of
    the part (operations read whole datasets from the study), so a part gets its rows' values."""
    frame = part.copy(deep=False)  # the frame may be shared by rules: columns go on a copy
    for entry in rule.operations:
        frame = run_operation(entry, frame, rule_frame, study)
    return frame
