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

from collections.abc import Callable, Hashable, Iterator, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from cdisc_cup.findings import STUDY
from cdisc_cup.rules.core import library
from cdisc_cup.rules.core.check import evaluate
from cdisc_cup.rules.core.identity import NotEvaluated, derived, forget, identify, identities, location
from cdisc_cup.rules.core.merges import TAKEN_ONTO_RECORDS, MatchDataset, MissingKeyError, merge_match_datasets
from cdisc_cup.rules.core.model import CoreRule, NotRunnableError
from cdisc_cup.rules.model import NotApplicable, Study
from cdisc_cup.xpt.model import Dataset


@dataclass(frozen=True)
class RuleFrame:
    dataset: Dataset  # cdisc_cup.xpt.model.Dataset the findings belong to
    # What the check sees; index = record positions in `dataset` (0-based). None for a value
    # frame, which comes in `variable_parts`.
    frame: pd.DataFrame | None
    domain: str  # what `--` stands for: AE in AE, QS in QS1, FA in APFA, "" in SUPPAE and RELREC
    # The dataset in scope the frame was made for; differs from `dataset` only for a Domain
    # Presence Check, whose findings belong to the study (CORE reports them on "STUDY").
    checked: Dataset | None = None
    # A value frame's parts, one per variable, built as the check reaches them (`value_parts`).
    variable_parts: Callable[[], Iterator[ValuePart | WholeValues]] | None = None

    @property
    def in_scope(self) -> Dataset:
        return self.checked if self.checked is not None else self.dataset

    def parts(self) -> Iterator[pd.DataFrame]:
        """The whole frame in parts, in frame order (one part but for a value frame)."""
        if self.variable_parts is not None:
            yield from (part.rows() for part in self.variable_parts())
        elif self.frame is not None:
            yield self.frame


@dataclass(frozen=True)
class FrameNotBuilt:
    """A dataset in the rule's scope whose frame cannot be made (a join key or a variable an
    operation groups by is missing, a join fails): CORE skips it; the report says why."""

    dataset: Dataset
    reason: str


def _cannot_have(dataset: Dataset, names: tuple[str, ...]) -> bool:
    """Whether one of `names` is not a variable the SDTM model allows in the dataset (its
    class's, or its model dataset's: TS's, TE's). False when the Library has no class for the
    dataset (a custom domain): whether it could have them is not known."""
    if not names:
        return False
    try:
        allowed = library.model_variables(library.library_domain(identify(dataset).unsplit_name, None))
    except NotEvaluated:
        return False
    return not set(names) <= {variable.name for variable in allowed}


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


@dataclass(frozen=True)
class ValuePart:
    """One variable's rows of a value frame, as CORE melts the records (row_number,
    variable_name, variable_value, then the `metadata` columns), built for the records asked.

    A value frame comes a part per variable (in pandas' melt order: column after column)
    because the whole would hold every value of the dataset at once (EX of 100,000 patients:
    29 million Python objects, several GB); `distinct` lets a check that reads each row on its
    own (`check.row_local`) be worked out once per distinct value."""

    dataset: Dataset
    variable: str
    metadata: Mapping[str, Any]

    def _frame(self, values: Any, positions: np.ndarray | pd.RangeIndex) -> pd.DataFrame:
        index = pd.Index(positions)
        melted = {
            "row_number": pd.Series(index + 1, index=index),
            "variable_name": pd.Series(np.full(len(index), self.variable, dtype=object), index=index),
            # text where every value is text, else Python objects (numbers beside text), as melt gives
            "variable_value": pd.Series(values, index=index),
        }
        return pd.DataFrame(melted | dict(self.metadata), index=index)  # the metadata on every row

    def rows(self, positions: np.ndarray | None = None) -> pd.DataFrame:
        """The part's rows of the records at `positions` (0-based, ascending; None: every
        record); the index is the record's position, so a finding is reported on its record."""
        column = records(self.dataset)[self.variable]
        if positions is None:
            positions = pd.RangeIndex(len(column))
        else:
            column = column.iloc[positions]
        return self._frame(column.to_numpy(dtype=object, na_value=None), positions)

    def distinct_values(self) -> tuple[pd.Series, np.ndarray]:
        """(the variable's distinct values and None, as the part's variable_value has them;
        each record's code into them). The value checks running side by side share them
        until `release`."""
        return derived(
            self.dataset, (DISTINCT_VALUES, self.variable), lambda: _distinct(records(self.dataset)[self.variable])
        )

    def distinct(self) -> tuple[pd.DataFrame, np.ndarray]:
        """(a row per distinct value, each record's row in it): the row of a value is that of
        its first record; missing values share the last row."""
        values, codes = self.distinct_values()
        first = derived(
            self.dataset, (DISTINCT_VALUES, self.variable, "first"), lambda: _first_records(codes, len(values))
        )
        return self._frame(values.array, first), codes


DISTINCT_VALUES = "distinct values"


def _distinct(column: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """(the distinct values and None, each record's code into them: missing, the last)."""
    codes, uniques = pd.factorize(column, use_na_sentinel=True)
    count = len(uniques)
    codes = np.where(codes < 0, count, codes)
    values = np.empty(count + 1, dtype=object)
    values[:count] = pd.Series(uniques).to_numpy(dtype=object, na_value=None)
    values[count] = None
    return pd.Series(values), codes


def _first_records(codes: np.ndarray, size: int) -> np.ndarray:
    """The first record of each of `size` codes (`_distinct`'s: the last is that of missing values)."""
    first = np.zeros(size, dtype=np.int64)
    # factorize numbers the values in order of first appearance: a value's first record is
    # where the running greatest code grows (the missing values' code left out)
    missing = codes == size - 1
    present = np.where(missing, -1, codes)
    first[: size - 1] = np.flatnonzero(np.diff(np.maximum.accumulate(np.r_[-1, present])) > 0)
    if missing.any():
        first[size - 1] = int(np.argmax(missing))
    return first


@dataclass(frozen=True)
class WholeValues:
    """A small dataset's value frame, built and checked at once (as CORE melts it): a part per
    variable costs more in pandas' per-call overhead than it saves below a million values."""

    dataset: Dataset
    parts: tuple[ValuePart, ...]

    def rows(self) -> pd.DataFrame:
        """The records column after column, each value with its variable's metadata."""
        frame = records(self.dataset)
        count, width = len(frame), len(frame.columns)
        positions = pd.Index(np.tile(np.arange(count), width))
        values = [frame[column].to_numpy(dtype=object, na_value=None) for column in frame.columns]
        long = pd.DataFrame(
            {
                "row_number": pd.Series(positions + 1, index=positions),
                "variable_name": pd.Series(np.repeat(np.asarray(frame.columns, dtype=object), count), index=positions),
                # text where every value is text, else Python objects (numbers beside text), as melt gives
                "variable_value": pd.Series(np.concatenate(values) if values else [], index=positions),
            }
        )
        metadata = pd.DataFrame([dict(part.metadata) for part in self.parts], index=frame.columns)
        repeated = metadata.iloc[np.repeat(np.arange(width), count)].reset_index(drop=True)
        return pd.concat([long.reset_index(drop=True), repeated], axis=1).set_axis(positions)


# From how many values (records x variables) a value frame comes a variable at a time.
VALUES_PER_PART_FROM = 1_000_000


def value_parts(dataset: Dataset, metadata: Callable[[str], Mapping[str, Any]]) -> Iterator[ValuePart | WholeValues]:
    """A value frame's parts: one per variable (each with its `metadata(variable)` columns),
    or the whole frame at once for a dataset of fewer than VALUES_PER_PART_FROM values."""
    frame = records(dataset)
    parts = tuple(ValuePart(dataset, column, metadata(column)) for column in frame.columns)
    if frame.size < VALUES_PER_PART_FROM:
        yield WholeValues(dataset, parts)
    else:
        yield from parts


def match_datasets(rule: CoreRule) -> tuple[MatchDataset, ...]:
    """The rule's Match Datasets, with `Child` and `Join Type`, as the joins take them."""
    return tuple(MatchDataset.from_model(entry) for entry in rule.match_datasets)


JoinKey = tuple[tuple[MatchDataset, ...], frozenset[str]]
# From how many records a dataset's joins bring only the columns a rule can read, after an
# empty join says the check can run: below, one join of every column, shared by the rules
# with the same Match Datasets, costs less than a join per rule.
JOIN_SHORTCUTS_FROM = 100_000


def join_key(rule: CoreRule) -> JoinKey | None:
    """What a Record Data rule's joined frames depend on besides the dataset: its Match
    Datasets and the NAME.COLUMN names it uses (None: no joins). Rules with one key run side
    by side and share the frames."""
    matches = match_datasets(rule)
    if rule.rule_type != "Record Data" or not matches:
        return None
    prefixes = tuple(f"{match.name}." for match in matches)
    return matches, frozenset(name for name in referenced_names(rule) if name.startswith(prefixes))


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, Mapping):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list | tuple):
        for item in node:
            yield from _strings(item)


# Operations whose results are values, not names of variables to read (a list of variables,
# such as get_column_order_from_dataset's, makes the check read the variables it names).
VALUE_OPERATIONS = frozenset(
    {
        "distinct",
        "dy",
        "record_count",
        "min_date",
        "max_date",
        "variable_exists",
        "variable_count",
        "domain_is_custom",
        "domain_label",
        "extract_metadata",
        "codelist_terms",
    }
)


# Of those, the ones giving a list per row (the engine reports a listed value that names a variable).
LIST_OPERATIONS = frozenset({"distinct", "codelist_terms"})


def _readable_names(rule: CoreRule) -> frozenset[str] | None:
    """Every column name the rule can read: each text of its check, operations and output
    variables (`--` standing for any prefix). None when the rule may read columns the data
    name: an operation listing variables, `value_is_reference`, an operation's values used as
    variables (grouped by, or reported, where a value that is a variable's name reports it).

    A dataset joined on keys brings only these columns: DM's 25 variables taken for each of
    5.6 million records (100,000 patients) cost 3 s per rule, and a rule reads two or three."""
    ids = {str(entry.get("id")) for entry in rule.operations}
    lists = {str(entry.get("id")) for entry in rule.operations if entry.get("operator") in LIST_OPERATIONS}
    groups = {str(name) for entry in rule.operations for name in entry.get("group") or ()}
    reported = set(rule.output_variables) or {str(leaf.get("name")) for leaf in _leaves(rule.check)}
    if (
        any(entry.get("operator") not in VALUE_OPERATIONS for entry in rule.operations)
        or "value_is_reference" in repr((rule.check, rule.operations))
        or ids & groups
        or lists & reported
    ):
        return None
    return frozenset(_strings(rule.check)) | frozenset(_strings(rule.operations)) | frozenset(rule.output_variables)


def joined_frame_key(dataset: Dataset, key: Hashable) -> tuple[str, str, Hashable]:
    """The key of a dataset's joined frame among the study's derived values."""
    return ("joined", dataset.name, key)


def _record_frame(rule: CoreRule, dataset: Dataset, study: Study) -> pd.DataFrame:
    """The records with the Match Datasets joined; rules with the same `join_key` share one
    joined frame (the engine lets go of it when they are done with the dataset).

    From JOIN_SHORTCUTS_FROM records, a join only by keys (DM on USUBJID, SE on USUBJID) is
    first made with no records: when the check already cannot run on those columns (a
    variable the dataset lacks), that empty frame says so and the join is not made (SV with SE
    on USUBJID: 3.4 million rows at 100,000 patients, for a check of a variable SV does not
    have); and it brings only the columns the rule can read (`_readable_names`)."""
    key = join_key(rule)
    if key is None:
        return records(dataset)
    matches, renamed = key
    named = None
    if len(dataset.frame) >= JOIN_SHORTCUTS_FROM and all(_by_keys_only(match) for match in matches):
        named = _readable_names(rule)
        if not rule.operations:
            empty = merge_match_datasets(records(dataset).iloc[:0], dataset, study, matches, renamed, named)
            if _not_applicable(rule, empty, identify(dataset).wildcard):
                return empty
    return derived(
        study,
        joined_frame_key(dataset, (key, named)),
        lambda: merge_match_datasets(records(dataset), dataset, study, matches, renamed, named),
    )


def release(study: Study, dataset: Dataset) -> None:
    """Let go of what the rules run side by side kept of the dataset (its joined frames, its
    distinct values) once they are past it."""
    forget(study, lambda key: isinstance(key, tuple) and key[:2] == ("joined", dataset.name))
    forget(dataset, lambda key: isinstance(key, tuple) and key[0] == DISTINCT_VALUES)
    forget(study, lambda key: isinstance(key, tuple) and key[0] == TAKEN_ONTO_RECORDS)


def _by_keys_only(match: MatchDataset) -> bool:
    """A join whose columns do not depend on the records (not SUPP--, RELREC, nor a child's)."""
    return not match.child and match.name != "RELREC" and not match.name.startswith(("SUPP", "SQ"))


def _not_applicable(rule: CoreRule, frame: pd.DataFrame, domain: str) -> bool:
    """Whether the check names variables the frame lacks (it is not applicable on the dataset)."""
    try:
        evaluate(rule.check, frame, domain)
    except NotApplicable:
        return True
    except Exception:  # an operator that needs records: the join is made and the check run
        return False
    return False


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


def _values_with_variables(dataset: Dataset) -> Iterator[ValuePart | WholeValues]:
    """Each value with its variable's metadata (a variable without any gets nulls)."""
    metadata = variable_metadata(dataset).drop_duplicates("variable_name").set_index("variable_name")
    per_variable = metadata.reindex(records(dataset).columns)
    return value_parts(dataset, lambda column: per_variable.loc[column])


def _values_with_dataset(dataset: Dataset) -> Iterator[ValuePart | WholeValues]:
    """Each value with the dataset's metadata row."""
    row = dataset_metadata(dataset).iloc[0]
    return value_parts(dataset, lambda column: row)


FrameBuilder = Callable[[CoreRule, Dataset, Study], pd.DataFrame]
BUILDERS: dict[str, FrameBuilder] = {
    "Record Data": _record_frame,
    "Variable Metadata Check": _variable_frame,
    "Dataset Metadata Check": _dataset_frame,
    "Domain Presence Check": _domain_frame,
}
# The value frames come a variable at a time (`value_parts`).
VALUE_BUILDERS: dict[str, Callable[[Dataset], Iterator[ValuePart | WholeValues]]] = {
    "Value Check with Variable Metadata": _values_with_variables,
    "Value Check with Dataset Metadata": _values_with_dataset,
}

# Rule types whose frame needs what the package does not have offline.
NOT_BUILT = {
    "Define Item Metadata Check against Library Metadata": (
        "needs define.xml's variables with their codelists' C-codes and the CDISC CT package "
        "define.xml names, which are not shipped"
    ),
}


def rule_frames(rule: CoreRule, study: Study) -> Iterator[RuleFrame | FrameNotBuilt]:
    """The frame the rule's check runs on, for each dataset in its scope (or why not).

    A dataset that cannot have a key the rule joins on (TS, TA, TV have no USUBJID to join DM
    on; DM has no VISITNUM) is left out without a word, as CORE reports nothing for it: the
    rule is not about it. A dataset that could have the key but lacks it is a FrameNotBuilt."""
    from cdisc_cup.rules.core.engine import datasets_in_scope  # the engine imports this module

    builder = BUILDERS.get(rule.rule_type)
    parts = VALUE_BUILDERS.get(rule.rule_type)
    if builder is None and parts is None:
        raise NotRunnableError(NOT_BUILT.get(rule.rule_type, f"rule type {rule.rule_type!r} is not supported"))
    in_scope = datasets_in_scope(rule, study)
    if rule.rule_type == "Domain Presence Check":
        # One frame for the study: CORE's is the same for every dataset in scope.
        if in_scope:
            frame = _domain_frame(rule, in_scope[0], study)
            yield RuleFrame(Dataset(STUDY, "Study", frame, ()), frame, "", checked=in_scope[0])
        return
    for dataset in in_scope:
        if parts is not None:
            yield RuleFrame(dataset, None, identify(dataset).wildcard, variable_parts=partial(parts, dataset))
            continue
        try:
            frame = builder(rule, dataset, study)
        except MissingKeyError as missing:
            if not _cannot_have(dataset, missing.own):
                yield FrameNotBuilt(dataset, str(missing.args[0]))
            continue
        except KeyError as missing:  # "column not found in data": CORE skips the dataset
            yield FrameNotBuilt(dataset, str(missing.args[0]) if missing.args else str(missing))
            continue
        except NotEvaluated as reason:
            yield FrameNotBuilt(dataset, str(reason))
            continue
        yield RuleFrame(dataset, frame, identify(dataset).wildcard)
