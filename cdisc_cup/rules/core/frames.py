"""The frame a CORE rule's check runs on, per dataset in its scope and per rule type.

CORE builds a different table for each `Rule Type` (cdisc_rules_engine/dataset_builders/):
the records themselves (Record Data, with `Match Datasets` joined), one row per variable
(Variable Metadata Check: variable_name, variable_label, variable_data_type ...), one row
for the dataset (Dataset Metadata Check: dataset_name, dataset_label ...), one row naming
each domain's file (Domain Presence Check), or one row per value (the Value Check types).
The check's operators then read the columns by CORE's names, so the names here are CORE's.

The frame's index is what a finding is reported on: the record's position in the dataset
for the record and value frames, the row of the metadata frame otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from cdisc_cup.rules.core.identity import NotEvaluated, derived, identify, identities, location
from cdisc_cup.rules.core.merges import MatchDataset, merge_match_datasets
from cdisc_cup.rules.core.model import CoreRule, NotRunnableError
from cdisc_cup.rules.model import Study
from cdisc_cup.xpt.model import Dataset


@dataclass(frozen=True)
class RuleFrame:
    dataset: Dataset  # cdisc_cup.xpt.model.Dataset the findings belong to
    frame: pd.DataFrame  # what the check sees; index = record positions in `dataset` (0-based)
    domain: str  # what `--` stands for: AE in AE, QS in QS1, FA in APFA, "" in SUPPAE and RELREC
    # The dataset in scope the frame was made for; differs from `dataset` only for a Domain
    # Presence Check, whose findings belong to the study (CORE reports them on "STUDY").
    checked: Dataset | None = None

    @property
    def in_scope(self) -> Dataset:
        return self.checked if self.checked is not None else self.dataset


@dataclass(frozen=True)
class FrameNotBuilt:
    """A dataset in the rule's scope whose frame cannot be made (a join key or a variable an
    operation groups by is missing, a join fails): CORE skips it; the report says why."""

    dataset: Dataset
    reason: str


def _leaves(node: Any) -> Iterator[Mapping[str, Any]]:
    if isinstance(node, Mapping):
        if "operator" in node:
            yield node
        for value in node.values():
            yield from _leaves(value)
    elif isinstance(node, list | tuple):
        for item in node:
            yield from _leaves(item)


def referenced_names(rule: CoreRule) -> frozenset[str]:
    """The names and values of the check's conditions (CORE renames DM.X columns by them)."""
    found = set()
    for leaf in _leaves(rule.check):
        for key in ("name", "value"):
            if isinstance(leaf.get(key), str):
                found.add(leaf[key])
    return frozenset(found)


def _mentions(rule: CoreRule, name: str) -> bool:
    """Whether the check, the operations or the output variables name `name`."""
    named = referenced_names(rule) | set(rule.output_variables)
    return name in named or any(op.get("operator") == name for op in rule.operations)


def records(dataset: Dataset) -> pd.DataFrame:
    """The dataset's records indexed by their position (0-based), as every frame starts (one
    frame per dataset, never changed: operations add their columns to a copy)."""
    return derived(dataset, "records", lambda: dataset.frame.reset_index(drop=True))


def dataset_metadata(dataset: Dataset) -> pd.DataFrame:
    """CORE's dataset metadata row (`get_dataset_metadata`)."""
    found = identify(dataset)
    size = dataset.path.stat().st_size if dataset.path is not None and dataset.path.exists() else None
    return pd.DataFrame(
        {
            "dataset_size": [size],
            "dataset_location": [location(dataset)],
            "dataset_name": [found.name],
            "dataset_label": [dataset.label],
            "record_count": [len(dataset.frame)],
            "is_ap": [found.is_ap],
            "ap_suffix": [found.ap_suffix],
            "domain": [found.domain],
        }
    )


def variable_metadata(dataset: Dataset) -> pd.DataFrame:
    """CORE's variable metadata rows (`get_variables_metadata`), in the dataset's order."""
    variables = dataset.variables
    return pd.DataFrame(
        {
            "variable_name": [v.name for v in variables],
            "variable_order_number": list(range(1, len(variables) + 1)),
            "variable_label": [v.label for v in variables],
            "variable_size": [v.length for v in variables],
            "variable_data_type": [v.type for v in variables],
            "variable_format": [v.format or "" for v in variables],
        }
    )


def variable_max_sizes(dataset: Dataset, names: pd.Series) -> pd.Series:
    """The longest value of each variable as text (0 for a variable without values)."""
    lengths = {
        column: int(dataset.frame[column].dropna().astype(str).str.len().max() or 0)
        if dataset.frame[column].notna().any()
        else 0
        for column in dataset.frame.columns
    }
    return names.map(lengths).fillna(0).astype(int)


def _values(dataset: Dataset) -> pd.DataFrame:
    """One row per value: CORE melts the records to row_number, variable_name, variable_value.

    The index is the record's position, so a finding on a value is reported on its record."""
    return derived(dataset, "values", lambda: _melted(dataset))


def _melted(dataset: Dataset) -> pd.DataFrame:
    """The records column after column (pandas' melt order), built from the columns' arrays."""
    frame = records(dataset)
    count, width = len(frame), len(frame.columns)
    positions = pd.Index(np.tile(np.arange(count), width))
    values = [frame[column].to_numpy(dtype=object, na_value=None) for column in frame.columns]
    return pd.DataFrame(
        {
            "row_number": pd.Series(positions + 1, index=positions),
            "variable_name": pd.Series(np.repeat(np.asarray(frame.columns, dtype=object), count), index=positions),
            # text where every value is text, else Python objects (numbers beside text), as melt gives
            "variable_value": pd.Series(np.concatenate(values) if values else [], index=positions),
        }
    )


def match_datasets(rule: CoreRule) -> tuple[MatchDataset, ...]:
    """The rule's Match Datasets, with `Child` and `Join Type`, as the joins take them."""
    return tuple(MatchDataset.from_model(entry) for entry in rule.match_datasets)


def _record_frame(rule: CoreRule, dataset: Dataset, study: Study) -> pd.DataFrame:
    """The records with the Match Datasets joined; rules with the same joins (and naming the
    same NAME.COLUMN columns) share one joined frame per study."""
    matches = match_datasets(rule)
    if not matches:
        return records(dataset)
    prefixes = tuple(f"{match.name}." for match in matches)
    renamed = frozenset(name for name in referenced_names(rule) if name.startswith(prefixes))
    return derived(
        study,
        ("joined", dataset.name, matches, renamed),
        lambda: merge_match_datasets(records(dataset), dataset, study, matches, renamed),
    )


def _variable_frame(rule: CoreRule, dataset: Dataset, study: Study) -> pd.DataFrame:
    frame = variable_metadata(dataset)
    if _mentions(rule, "variable_max_size"):
        frame["variable_max_size"] = variable_max_sizes(dataset, frame["variable_name"])
    return frame


def _dataset_frame(rule: CoreRule, dataset: Dataset, study: Study) -> pd.DataFrame:
    return dataset_metadata(dataset)


def _domain_frame(rule: CoreRule, dataset: Dataset, study: Study) -> pd.DataFrame:
    """One row, a column per domain holding its file's name (split datasets: the last)."""
    files = {found.unsplit_name: location(other) for other, found in identities(study)}
    return pd.DataFrame([files])


def _values_with_variables(rule: CoreRule, dataset: Dataset, study: Study) -> pd.DataFrame:
    return derived(dataset, "values with variables", lambda: _values_and_metadata(dataset))


def _values_and_metadata(dataset: Dataset) -> pd.DataFrame:
    """Each value with its variable's metadata: the metadata row of each column repeated for
    its values (the value frame is column after column)."""
    long = _values(dataset)
    metadata = variable_metadata(dataset).drop_duplicates("variable_name").set_index("variable_name")
    per_column = metadata.reindex(records(dataset).columns)
    repeated = per_column.loc[per_column.index.repeat(len(records(dataset)))].reset_index(drop=True)
    return pd.concat([long.reset_index(drop=True), repeated], axis=1).set_axis(long.index)


def _values_with_dataset(rule: CoreRule, dataset: Dataset, study: Study) -> pd.DataFrame:
    return derived(dataset, "values with dataset", lambda: _values_and_dataset(dataset))


def _values_and_dataset(dataset: Dataset) -> pd.DataFrame:
    long = _values(dataset).copy(deep=False)
    for column, value in dataset_metadata(dataset).iloc[0].items():
        long[column] = value
    return long


FrameBuilder = Callable[[CoreRule, Dataset, Study], pd.DataFrame]
BUILDERS: dict[str, FrameBuilder] = {
    "Record Data": _record_frame,
    "Variable Metadata Check": _variable_frame,
    "Dataset Metadata Check": _dataset_frame,
    "Domain Presence Check": _domain_frame,
    "Value Check with Variable Metadata": _values_with_variables,
    "Value Check with Dataset Metadata": _values_with_dataset,
}

STUDY = "STUDY"  # the dataset CORE reports a Domain Presence Check's findings on
# Rule types whose frame needs what the package does not have offline.
NOT_BUILT = {
    "Define Item Metadata Check against Library Metadata": (
        "needs define.xml's variables with their codelists' C-codes and the CDISC CT package "
        "define.xml names, which are not shipped"
    ),
}


def rule_frames(rule: CoreRule, study: Study) -> Iterator[RuleFrame | FrameNotBuilt]:
    """The frame the rule's check runs on, for each dataset in its scope (or why not)."""
    from cdisc_cup.rules.core.engine import datasets_in_scope  # the engine imports this module

    builder = BUILDERS.get(rule.rule_type)
    if builder is None:
        raise NotRunnableError(NOT_BUILT.get(rule.rule_type, f"rule type {rule.rule_type!r} is not supported"))
    in_scope = datasets_in_scope(rule, study)
    if rule.rule_type == "Domain Presence Check":
        # One frame for the study: CORE's is the same for every dataset in scope.
        if in_scope:
            frame = _domain_frame(rule, in_scope[0], study)
            yield RuleFrame(Dataset(STUDY, "Study", frame, ()), frame, "", checked=in_scope[0])
        return
    for dataset in in_scope:
        try:
            frame = builder(rule, dataset, study)
        except KeyError as missing:  # "column not found in data": CORE skips the dataset
            yield FrameNotBuilt(dataset, str(missing.args[0]) if missing.args else str(missing))
            continue
        except NotEvaluated as reason:
            yield FrameNotBuilt(dataset, str(reason))
            continue
        yield RuleFrame(dataset, frame, identify(dataset).wildcard)
