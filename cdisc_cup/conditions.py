"""The one condition language of the specs and the rules, evaluated to boolean masks.

    {column: ONGOING, equals: "Y"}               a raw column (mapping specs)
    {variable: DTHFL, equals: "Y"}               a dataset variable; DM.DTHFL another dataset's (rules)
    {variable: RFXSTDTC, present: true}          the same as not_null: true
    {all: [...]}, {any: [...]}, {not: {...}}     combinations

Tests: equals, not_equals, in, not_in, is_null, not_null, present, matches (regex, full
match), greater_than, less_than (numbers), equals_variable (another variable of the record).
A number compares as a number (CYCLE equals 1 holds for 1 and 1.0), text after trimming
blanks; a null value equals nothing. Where a condition is used decides what its subjects
read (`Subjects`): the mapping engine reads raw columns and the variables built so far, the
rules read variables (absent ones as null) and add tests and combinators of their own
(`exists`, `equals_dataset_name`), which the same checker and evaluator accept when given.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cdisc_cup.columns import is_blank
from cdisc_cup.errors import Problem

Condition = Mapping[str, Any]
SUBJECTS = ("column", "variable")
TESTS = (
    "equals",
    "not_equals",
    "in",
    "not_in",
    "is_null",
    "not_null",
    "present",
    "matches",
    "greater_than",
    "less_than",
    "equals_variable",
)
COMBINATORS = ("all", "any", "not")


def _text(values: pd.Series) -> pd.Series:
    return values.astype("string").str.strip()


def is_null(values: pd.Series) -> pd.Series:
    """Missing in the XPT sense: NaN/None, or text that is empty after trimming blanks."""
    if values.dtype == object or pd.api.types.is_string_dtype(values):
        return pd.Series(is_blank(values), index=values.index)
    return values.isna().astype(bool)


def _same(values: pd.Series, expected: Any) -> pd.Series:
    if isinstance(expected, int | float) and not isinstance(expected, bool):
        return pd.to_numeric(values, errors="coerce").eq(expected).fillna(False).astype(bool)
    return _text(values).eq(str(expected)).fillna(False).astype(bool)


def _member(values: pd.Series, allowed: Collection[Any]) -> pd.Series:
    return _text(values).isin([str(a) for a in allowed]).fillna(False).astype(bool)


def _number(values: pd.Series) -> pd.Series:
    return pd.to_numeric(values, errors="coerce")


# A value test: (the values, what the condition expects, the other subject's values) -> mask.
ValueTest = Callable[[pd.Series, Any, Callable[[str], pd.Series]], pd.Series]

BASE_TESTS: dict[str, ValueTest] = {
    "equals": lambda values, expected, _: _same(values, expected),
    "not_equals": lambda values, expected, _: ~_same(values, expected),
    "in": lambda values, expected, _: _member(values, expected),
    "not_in": lambda values, expected, _: ~_member(values, expected),
    "is_null": lambda values, expected, _: is_null(values) == bool(expected),
    "not_null": lambda values, expected, _: is_null(values) != bool(expected),
    "present": lambda values, expected, _: is_null(values) != bool(expected),
    "matches": lambda values, expected, _: _text(values).str.fullmatch(expected).fillna(False).astype(bool),
    "greater_than": lambda values, expected, _: (_number(values) > expected).fillna(False).astype(bool),
    "less_than": lambda values, expected, _: (_number(values) < expected).fillna(False).astype(bool),
    "equals_variable": lambda values, expected, other: (
        _text(values).eq(_text(other(expected))).fillna(False).astype(bool)
    ),
}


@dataclass(frozen=True)
class Subjects:
    """What a condition's subjects read where it is used, and what else it may say there."""

    read: Callable[[str, str], pd.Series]  # (subject key, name) -> values aligned with `index`
    index: pd.Index
    tests: Mapping[str, ValueTest] = field(default_factory=dict)  # beyond BASE_TESTS
    # Combinators beyond all/any/not: (their argument) -> mask (the rules' `exists`).
    combinators: Mapping[str, Callable[[Any], pd.Series]] = field(default_factory=dict)


def evaluate(condition: Condition, subjects: Subjects) -> pd.Series:
    """The records for which `condition` holds (a boolean Series on `subjects.index`)."""
    index = subjects.index
    if "all" in condition:
        masks = [evaluate(c, subjects) for c in condition["all"]]
        return pd.Series(np.logical_and.reduce(masks) if masks else True, index=index)
    if "any" in condition:
        masks = [evaluate(c, subjects) for c in condition["any"]]
        return pd.Series(np.logical_or.reduce(masks) if masks else False, index=index)
    if "not" in condition:
        return ~evaluate(condition["not"], subjects)
    for name, combinator in subjects.combinators.items():
        if name in condition:
            return combinator(condition[name]).astype(bool)
    key = next(k for k in SUBJECTS if k in condition)
    values = subjects.read(key, condition[key])
    tests = {**BASE_TESTS, **subjects.tests}
    masks = [
        tests[test](values, condition[test], lambda name: subjects.read(key, name))
        for test in tests
        if test in condition
    ]
    return pd.Series(np.logical_and.reduce(masks), index=index).astype(bool)


def names_read(condition: Condition | None, subject: str) -> list[str]:
    """The raw columns (`subject` "column") or dataset variables ("variable") a condition
    reads, nested conditions included, in order: what the engine must have in place before
    it evaluates the condition, and what the annotated CRF shows a field selecting."""
    if not isinstance(condition, Mapping):
        return []
    own = [condition[subject]] if isinstance(condition.get(subject), str) else []
    nested = [*(condition.get("all") or []), *(condition.get("any") or []), condition.get("not")]
    return own + [name for child in nested for name in names_read(child, subject)]


def subjects_of(condition: Condition) -> list[str]:
    """The columns or variables a condition reads, in order (the first names a finding)."""
    for key in SUBJECTS:
        if key in condition:
            return [condition[key]]
    nested = condition.get("all") or condition.get("any") or []
    if "not" in condition:
        nested = [condition["not"]]
    return [name for child in nested if isinstance(child, Mapping) for name in subjects_of(child)]


def check(
    condition: Any,
    key_path: str,
    path: Path | str,
    *,
    subjects: Collection[str] = SUBJECTS,
    tests: Collection[str] = (),
    combinators: Mapping[str, Callable[[Any, str], list[Problem]]] | None = None,
) -> list[Problem]:
    """Every problem of a condition in a spec or rule file, with its key path: a condition
    names one column or variable and at least one test, or combines conditions."""
    where = str(path)
    if not isinstance(condition, Mapping):
        return [Problem(where, "a condition is a mapping", column=key_path)]
    extra = dict(combinators or {})
    known_tests = (*TESTS, *tests)
    keys = set(map(str, condition))
    allowed = {*subjects, *COMBINATORS, *extra, *known_tests}
    problems = [
        Problem(
            where,
            "unknown condition key",
            column=f"{key_path}.{key}",
            value=key,
            expected="one of " + ", ".join(sorted(allowed)),
        )
        for key in sorted(keys - allowed)
    ]
    named = [k for k in subjects if k in condition]
    used_tests = [t for t in known_tests if t in condition]
    grouping = [k for k in (*COMBINATORS, *extra) if k in condition]
    if grouping:
        if named or used_tests or len(grouping) > 1:
            problems.append(
                Problem(where, f"{grouping[0]} combines conditions and stands alone in its mapping", column=key_path)
            )
    elif len(named) != 1:
        problems.append(
            Problem(
                where,
                "a condition names exactly one " + " or ".join(f"'{s}'" for s in subjects),
                column=key_path,
                expected="one of " + ", ".join(subjects),
            )
        )
    elif not used_tests and not keys - allowed:  # an unknown key is most likely the test, misspelt
        problems.append(
            Problem(where, "a condition needs a test", column=key_path, expected="one of " + ", ".join(known_tests))
        )
    for name in ("all", "any"):
        children = condition.get(name)
        if name in condition and not isinstance(children, list):
            problems.append(Problem(where, f"{name} takes a list of conditions", column=f"{key_path}.{name}"))
            continue
        for position, child in enumerate(children or []):
            problems += check(
                child, f"{key_path}.{name}[{position}]", path, subjects=subjects, tests=tests, combinators=combinators
            )
    if "not" in condition:
        problems += check(
            condition["not"], f"{key_path}.not", path, subjects=subjects, tests=tests, combinators=combinators
        )
    for name, checker in extra.items():
        if name in condition:
            problems += checker(condition[name], f"{key_path}.{name}")
    return problems
