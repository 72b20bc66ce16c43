"""A small condition language for rule files, evaluated to boolean masks over a dataset.

    {variable: DTHFL, equals: "Y"}                 one test on a variable
    {variable: DM.DTHFL, equals: "Y"}              a variable of another dataset, by USUBJID
    {all: [...]}, {any: [...]}, {not: {...}}       combinations
    {exists: {dataset: DS, where: {...}}}          the subject has such a record in DS

Tests: equals, not_equals, in, not_in, is_null, not_null, matches (regex, full match),
greater_than, less_than (numbers), equals_variable (another variable of the record),
equals_dataset_name (the value is the dataset's domain, as DOMAIN must be: its name, or the
first two letters of a split dataset such as QSCG, SDTMIG 3.4 section 4.1.7), equals_supp_parent
(the value is the parent domain of a SUPP-- dataset: AE for SUPPAE, QS for SUPPQSCG).

A variable the dataset does not have is read as null in every record, as SAS and CDISC CORE
read it: `AESLIFE = Y` is then false and `ARMNRS` is null, so a rule over several
variables still runs when some are absent. What a rule cannot be evaluated without is
decided by `absent_variables` (a condition none of whose variables exist).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from cdisc_cup.columns import is_in
from cdisc_cup.rules.model import NotApplicable, Study
from cdisc_cup.rules.values import column, is_null, is_present, resolve
from cdisc_cup.xpt.model import Dataset

VALUE_TESTS = (
    "equals",
    "not_equals",
    "in",
    "not_in",
    "is_null",
    "not_null",
    "matches",
    "greater_than",
    "less_than",
    "equals_variable",
    "equals_dataset_name",
    "equals_supp_parent",
)
COMBINATORS = ("all", "any", "not", "exists")


def _text(values: pd.Series) -> pd.Series:
    return values.astype("string").str.strip()


def _same(values: pd.Series, expected: Any) -> pd.Series:
    if isinstance(expected, int | float) and not isinstance(expected, bool):
        return pd.to_numeric(values, errors="coerce").eq(expected)
    return _text(values).eq(str(expected)).fillna(False)


def _member(values: pd.Series, allowed: list[Any]) -> pd.Series:
    return _text(values).isin([str(a) for a in allowed]).fillna(False)


def _number(values: pd.Series) -> pd.Series:
    return pd.to_numeric(values, errors="coerce")


def _test(study: Study, dataset: Dataset, values: pd.Series, test: str, expected: Any) -> pd.Series:
    tests: dict[str, Callable[[], pd.Series]] = {
        "equals": lambda: _same(values, expected),
        "not_equals": lambda: ~_same(values, expected),
        "in": lambda: _member(values, expected),
        "not_in": lambda: ~_member(values, expected),
        "is_null": lambda: is_null(values) == bool(expected),
        "not_null": lambda: is_null(values) != bool(expected),
        "matches": lambda: _text(values).str.fullmatch(expected).fillna(False).astype(bool),
        "greater_than": lambda: (_number(values) > expected).fillna(False).astype(bool),
        "less_than": lambda: (_number(values) < expected).fillna(False).astype(bool),
        "equals_variable": lambda: (
            _text(values).eq(_text(resolve(study, dataset, expected, absent_as_null=True))).fillna(False).astype(bool)
        ),
        "equals_dataset_name": lambda: _is_domain_of(values, dataset.name) == bool(expected),
        "equals_supp_parent": lambda: _is_domain_of(values, dataset.name[4:]) == bool(expected),
    }
    return tests[test]()


def _is_domain_of(values: pd.Series, dataset_name: str) -> pd.Series:
    """The dataset's own name, or for a split dataset (QSCG, SUPPQSCG) its two-letter domain."""
    text = _text(values)
    own = text.eq(dataset_name)
    if len(dataset_name) > 2:
        own |= text.eq(dataset_name[:2])
    return own.fillna(False).astype(bool)


def _exists(study: Study, dataset: Dataset, spec: Mapping[str, Any]) -> pd.Series:
    """Whether the record's subject has a record in another dataset meeting `where`."""
    other = study.datasets.get(spec["dataset"])
    if other is None:
        raise NotApplicable(f"no {spec['dataset']} dataset")
    by = spec.get("by", "USUBJID")
    where = spec.get("where")
    matching = evaluate(study, other, where) if where else pd.Series(True, index=other.frame.index)
    keys = column(other, by)[matching.to_numpy()].astype("string").str.strip()
    return pd.Series(is_in(column(dataset, by).astype("string").str.strip(), keys), index=dataset.frame.index)


def evaluate(study: Study, dataset: Dataset, condition: Mapping[str, Any]) -> pd.Series:
    """The records of `dataset` for which `condition` holds."""
    if "all" in condition:
        masks = [evaluate(study, dataset, c) for c in condition["all"]]
        return pd.Series(np.logical_and.reduce(masks), index=dataset.frame.index)
    if "any" in condition:
        masks = [evaluate(study, dataset, c) for c in condition["any"]]
        return pd.Series(np.logical_or.reduce(masks), index=dataset.frame.index)
    if "not" in condition:
        return ~evaluate(study, dataset, condition["not"])
    if "exists" in condition:
        return _exists(study, dataset, condition["exists"])
    values = resolve(study, dataset, condition["variable"], absent_as_null=True)
    tests = [t for t in VALUE_TESTS if t in condition]
    masks = [_test(study, dataset, values, t, condition[t]) for t in tests]
    return pd.Series(np.logical_and.reduce(masks), index=dataset.frame.index).astype(bool)


def absent_variables(study: Study, dataset: Dataset, condition: Mapping[str, Any]) -> list[str] | None:
    """The variables of a condition when none of them exists in the data (the condition then
    says nothing about the records), else None. `exists` conditions look at other datasets
    and always count as present."""
    if "exists" in condition:
        return None
    named = variables_of(condition)
    if not named or any(is_present(study, dataset, name) for name in named):
        return None
    return named


def variables_of(condition: Mapping[str, Any]) -> list[str]:
    """The variables a condition reads, in order; the first names the finding's variable."""
    if "variable" in condition:
        return [condition["variable"]]
    nested = condition.get("all") or condition.get("any") or []
    if "not" in condition:
        nested = [condition["not"]]
    return [v for c in nested for v in variables_of(c)]
