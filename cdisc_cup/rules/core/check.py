"""A CORE Check tree (all / any / not of operator leaves) evaluated on a frame: a boolean
mask, True on the records the rule reports.

Each leaf is resolved the way CORE resolves it: `--` at the start of a name or value is the
dataset's domain (AESTDTC for --STDTC in AE); a string value naming a column of the frame is
that column, unless the leaf says `value_is_literal`; `$name` values are the columns the
Operations block added.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from cdisc_cup.rules.core.model import NotRunnableError
from cdisc_cup.rules.core.operators import COLUMN_OPERATORS, OPERATORS, Operand, with_domain
from cdisc_cup.rules.model import NotApplicable

# Leaf keys that are parameters of the operator (the rest: name, operator, value).
PARAMETERS = (
    "prefix",
    "suffix",
    "within",
    "regex",
    "ordering",
    "type_insensitive",
    "value_is_reference",
    "negative",
    "date_component",
    "round_values",
)


def evaluate(check: Mapping[str, Any], frame: pd.DataFrame, domain: str) -> pd.Series:
    """The mask of records the Check tree is true for."""
    if "all" in check:
        masks = [evaluate(child, frame, domain) for child in check["all"]]
        return _combine(masks, frame, all_of=True)
    if "any" in check:
        return _any(check["any"], frame, domain)
    if "not" in check:
        return ~evaluate(check["not"], frame, domain)
    return evaluate_leaf(check, frame, domain)


def _any(children: list[Mapping[str, Any]], frame: pd.DataFrame, domain: str) -> pd.Series:
    """CORE's `any`: a branch about a variable the dataset lacks is left out (false); only
    when every branch lacks its variable is the whole `any` not applicable."""
    masks: list[pd.Series] = []
    missing: list[str] = []
    for child in children:
        try:
            masks.append(evaluate(child, frame, domain))
        except NotApplicable as reason:
            missing.append(str(reason))
    if not masks:
        raise NotApplicable("; ".join(dict.fromkeys(missing)))
    return _combine(masks, frame, all_of=False)


def _combine(masks: list[pd.Series], frame: pd.DataFrame, *, all_of: bool) -> pd.Series:
    """The masks and-ed (or or-ed) as arrays: every mask is in the frame's record order."""
    result = np.full(len(frame), all_of, dtype=bool)
    for mask in masks:
        values = mask.to_numpy(dtype=bool, na_value=False)
        result = (result & values) if all_of else (result | values)
    return pd.Series(result, index=frame.index)


def evaluate_leaf(leaf: Mapping[str, Any], frame: pd.DataFrame, domain: str) -> pd.Series:
    name = str(leaf.get("operator"))
    operator = OPERATORS.get(name)
    if operator is None:
        raise NotRunnableError(f"check operator {name} is not implemented")
    target = with_domain(str(leaf.get("name", "")), domain)
    if name not in COLUMN_OPERATORS and target not in frame.columns:
        raise NotApplicable(f"{target} not in dataset")
    raw = with_domain(leaf.get("value"), domain)
    params: dict[str, Any] = {key: with_domain(leaf[key], domain) for key in PARAMETERS if key in leaf}
    names = raw if isinstance(raw, list) else [raw]
    params["comparator_names"] = [n for n in names if isinstance(n, str)]
    params["comparator_name"] = leaf.get("value")
    comparator = resolve(raw, frame, literal=bool(leaf.get("value_is_literal", False)))
    return operator(Operand(frame, target, comparator, params, domain))


def resolve(value: Any, frame: pd.DataFrame, *, literal: bool) -> Any:
    """A column of the frame when the value names one (and is not literal), else the value."""
    if not literal and isinstance(value, str) and value in frame.columns:
        return frame[value]
    return value


# Operators whose answer on a row depends on that row's values only (and on literals or
# operation results, which are the same on every row or per group of the row's values).
ROW_LOCAL_OPERATORS = frozenset(
    {
        "exists",
        "not_exists",
        "empty",
        "non_empty",
        "equal_to",
        "not_equal_to",
        "equal_to_case_insensitive",
        "not_equal_to_case_insensitive",
        "matches_regex",
        "not_matches_regex",
        "starts_with",
        "ends_with",
    }
)
# Operators testing a value against a set: row-local when the set is a literal or an ungrouped
# operation's list; a set taken from a column is that column's values on every row of the frame.
CONTAINMENT_OPERATORS = frozenset(
    {
        "is_contained_by",
        "is_not_contained_by",
        "is_contained_by_case_insensitive",
        "is_not_contained_by_case_insensitive",
    }
)


# The columns of a value frame that change from row to row within one variable's part (the rest,
# variable_name and the variable's or dataset's metadata, are the same on every row of it).
VARYING_COLUMNS = ("variable_value", "row_number")


@dataclass(frozen=True)
class PartScreen:
    """What one row of a value frame's part says of a row-local check on all of the part."""

    # a branch of the check's `all` that reads no varying column is false: no record holds
    nowhere: bool = False
    # the branches left, when they read variable_value alone (the rest hold on every row):
    # checked on the part's distinct values without the metadata columns beside them
    on_values: Mapping[str, Any] | None = None


def screen_part(
    check: Mapping[str, Any], operations: Sequence[Mapping[str, Any]], probe: pd.DataFrame, domain: str
) -> PartScreen:
    """The check on one row of a value frame's part (`probe`, with the operations' columns).

    A branch of the check's `all` that reads none of the VARYING_COLUMNS has the same answer
    on every row of the part: CORE-000867 asks for Char variables, so a Num variable's values
    need not be looked at, and a Char variable's need only the branch on variable_value. Every
    branch is evaluated on the probe: what stops the check on the part (a missing variable)
    stops it on the probe too."""
    if "all" not in check:
        return PartScreen()
    varying = _varying_operations(operations)
    answers = [(bool(evaluate(branch, probe, domain).iloc[0]), branch) for branch in check["all"]]
    if any(not held and not _reads_any(branch, varying) for held, branch in answers):
        return PartScreen(nowhere=True)
    left = [branch for _, branch in answers if _reads_any(branch, varying)]
    if all(_reads_value_only(branch, probe.columns, domain) for branch in left):
        return PartScreen(on_values={"all": left})
    return PartScreen()


# Leaf keys that name no column: a leaf with others is not checked on the values alone.
_VALUE_ONLY_KEYS = frozenset({"name", "operator", "value", "value_is_literal", "prefix", "suffix", "type_insensitive"})


def _reads_value_only(branch: Mapping[str, Any], columns: pd.Index, domain: str) -> bool:
    """Whether every leaf of the branch tests variable_value against literals (no other column,
    no operation's result)."""
    for leaf in _leaves(branch):
        if set(leaf) - _VALUE_ONLY_KEYS or with_domain(str(leaf.get("name", "")), domain) != "variable_value":
            return False
        if not leaf.get("value_is_literal"):
            raw = leaf.get("value")
            named = [with_domain(n, domain) for n in (raw if isinstance(raw, list) else [raw]) if isinstance(n, str)]
            if any(name in columns and name != "variable_value" for name in named):
                return False
    return True


def _varying_operations(operations: Sequence[Mapping[str, Any]]) -> tuple[str, ...]:
    """The varying columns and the ids of the operations computed from them (or from earlier ones)."""
    varying = list(VARYING_COLUMNS)
    for entry in operations:
        if _reads_any(entry, varying):
            varying.append(str(entry.get("id")))
    return tuple(varying)


def _reads_any(node: Any, names: Sequence[str]) -> bool:
    text = repr(node)
    return any(name in text for name in names)


def _leaves(node: Any) -> list[Mapping[str, Any]]:
    if isinstance(node, Mapping):
        for key in ("all", "any"):
            if key in node:
                return [leaf for child in node[key] for leaf in _leaves(child)]
        if "not" in node:
            return _leaves(node["not"])
        return [node]
    return []


def row_local(check: Mapping[str, Any], operations: Sequence[Mapping[str, Any]]) -> bool:
    """Whether the check's answer on a row of a value frame depends on that row alone (not on
    its row_number, nor on other rows), so it holds for a record exactly when it holds for the
    record's value: the value frame can be checked once per distinct value."""
    if "row_number" in repr((check, operations)):
        return False
    ungrouped = {str(entry.get("id")) for entry in operations if not entry.get("group")}
    for leaf in _leaves(check):
        name = str(leaf.get("operator"))
        if name in CONTAINMENT_OPERATORS:
            value = leaf.get("value")
            if not (isinstance(value, list) or (isinstance(value, str) and value in ungrouped)):
                return False
        elif name not in ROW_LOCAL_OPERATORS:
            return False
    return True
