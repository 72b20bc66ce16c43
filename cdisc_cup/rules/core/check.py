"""A CORE Check tree (all / any / not of operator leaves) evaluated on a frame: a boolean
mask, True on the records the rule reports.

Each leaf is resolved the way CORE resolves it: `--` at the start of a name or value is the
dataset's domain (AESTDTC for --STDTC in AE); a string value naming a column of the frame is
that column, unless the leaf says `value_is_literal`; `$name` values are the columns the
Operations block added.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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
