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

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pandas as pd

from cdisc_cup.rules.core.identity import identify, identities, location
from cdisc_cup.rules.core.merges import MatchDataset, merge_match_datasets
from cdisc_cup.rules.model import Study
from cdisc_cup.xpt.model import Dataset


@dataclass(frozen=True)
class RuleFrame:
    dataset: Dataset
    frame: pd.DataFrame
    domain: str


def records(dataset: Dataset) -> pd.DataFrame:
    """The dataset's records indexed by their position (0-based), as every frame starts."""
    return dataset.frame.reset_index(drop=True)


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
    frame = records(dataset)
    long = frame.astype(object).melt(var_name="variable_name", value_name="variable_value", ignore_index=False)
    long.insert(0, "row_number", long.index + 1)
    return long


def _record_frame(rule: CoreRule, dataset: Dataset, study: Study) -> pd.DataFrame:
    matches = [MatchDataset.from_rule(entry) for entry in rule.match_datasets]
    frame = records(dataset)
    if not matches:
        return frame
    return merge_match_datasets(frame, dataset, study, matches, referenced_names(rule))


def _variable_frame(rule: CoreRule, dataset: Dataset, study: Study) -> pd.DataFrame:
    frame = variable_metadata(dataset)
    if "variable_max_size" in rule_text(rule):
        frame["variable_max_size"] = variable_max_sizes(dataset, frame["variable_name"])
    return frame


def _dataset_frame(rule: CoreRule, dataset: Dataset, study: Study) -> pd.DataFrame:
    return dataset_metadata(dataset)


def _domain_frame(rule: CoreRule, dataset: Dataset, study: Study) -> pd.DataFrame:
    """One row, a column per domain holding its file's name (split datasets: the last)."""
    files = {found.unsplit_name: location(other) for other, found in identities(study)}
    return pd.DataFrame([files])


def _values_with_variables(rule: CoreRule, dataset: Dataset, study: Study) -> pd.DataFrame:
    long = _values(dataset)
    positions = long.index
    merged = long.merge(variable_metadata(dataset), how="left", on="variable_name")
    merged.index = positions
    return merged


def _values_with_dataset(rule: CoreRule, dataset: Dataset, study: Study) -> pd.DataFrame:
    long = _values(dataset)
    for column, value in dataset_metadata(dataset).iloc[0].items():
        long[column] = value
    return long


FrameBuilder = Callable[["CoreRule", Dataset, Study], pd.DataFrame]
BUILDERS: dict[str, FrameBuilder] = {
    "Record Data": _record_frame,
    "Variable Metadata Check": _variable_frame,
    "Dataset Metadata Check": _dataset_frame,
    "Domain Presence Check": _domain_frame,
    "Value Check with Variable Metadata": _values_with_variables,
    "Value Check with Dataset Metadata": _values_with_dataset,
}


def rule_frames(rule: CoreRule, study: Study) -> Iterator[RuleFrame]:
    """The frame the rule's check runs on, for each dataset in its scope."""
    builder = BUILDERS.get(rule.rule_type)
    if builder is None:
        raise NotRunnableError(f"rule type {rule.rule_type!r} is not run offline")
    for dataset in datasets_in_scope(rule, study):
        yield RuleFrame(dataset, builder(rule, dataset, study), identify(dataset).wildcard)
