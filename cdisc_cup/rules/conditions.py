"""Rule conditions: the shared condition language (`cdisc_cup.conditions`) on a study's datasets.

    {variable: DTHFL, equals: "Y"}                 a variable of the dataset
    {variable: DM.DTHFL, equals: "Y"}              a variable of another dataset, by USUBJID
    {exists: {dataset: DS, where: {...}}}          the subject has such a record in DS

Rules add three tests: equals_dataset_name (the value is the dataset's domain, as DOMAIN must
be: its name, or the first two letters of a split dataset such as QSCG, SDTMIG 3.4 section
4.1.7), equals_supp_parent (the value is the parent domain of a SUPP-- dataset: AE for
SUPPAE, QS for SUPPQSCG) and complete_date (an ISO 8601 date of a day the calendar has,
YYYY-MM-DD, optionally with a time: what FDA asks of TS's study start date).

A variable the dataset does not have is read as null in every record, as SAS and CDISC CORE
read it: `AESLIFE = Y` is then false and `ARMNRS` is null, so a rule over several
variables still runs when some are absent. What a rule cannot be evaluated without is
decided by `absent_variables` (a condition none of whose variables exist).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from cdisc_cup import conditions
from cdisc_cup.columns import is_in, iso_dates_to_datetime
from cdisc_cup.errors import Problem
from cdisc_cup.rules.model import NotApplicable, Study
from cdisc_cup.rules.values import column, is_present, resolve
from cdisc_cup.xpt.model import Dataset

RULE_TESTS = ("equals_dataset_name", "equals_supp_parent", "complete_date")
COMPLETE_DATE = r"\d{4}-\d{2}-\d{2}(T(\d{2}|-)(:(\d{2}|-)(:\d{2}(\.\d+)?)?)?)?"


def _is_domain_of(values: pd.Series, dataset_name: str) -> pd.Series:
    """The dataset's own name, or for a split dataset (QSCG, SUPPQSCG) its two-letter domain."""
    text = values.astype("string").str.strip()
    own = text.eq(dataset_name)
    if len(dataset_name) > 2:
        own |= text.eq(dataset_name[:2])
    return own.fillna(False).astype(bool)


def _is_complete_date(values: pd.Series) -> pd.Series:
    """YYYY-MM-DD of a real day (2023-02-30 is none), optionally with a time, whose missing
    parts may be dashes as SDTMIG 3.4 section 4.4.2 writes them (2003-12-15T-:15)."""
    text = values.astype("string").str.strip()
    shaped = text.str.fullmatch(COMPLETE_DATE).fillna(False).astype(bool)
    return shaped & iso_dates_to_datetime(text).notna()


def _subjects(study: Study, dataset: Dataset) -> conditions.Subjects:
    def exists(spec: Mapping[str, Any]) -> pd.Series:
        """Whether the record's subject has a record in another dataset meeting `where`."""
        other = study.datasets.get(spec["dataset"])
        if other is None:
            raise NotApplicable(f"no {spec['dataset']} dataset")
        by = spec.get("by", "USUBJID")
        where = spec.get("where")
        matching = evaluate(study, other, where) if where else pd.Series(True, index=other.frame.index)
        keys = column(other, by)[matching.to_numpy()].astype("string").str.strip()
        return pd.Series(is_in(column(dataset, by).astype("string").str.strip(), keys), index=dataset.frame.index)

    return conditions.Subjects(
        read=lambda _key, name: resolve(study, dataset, name, absent_as_null=True),
        index=dataset.frame.index,
        tests={
            "equals_dataset_name": lambda values, expected, _: _is_domain_of(values, dataset.name) == bool(expected),
            "equals_supp_parent": lambda values, expected, _: _is_domain_of(values, dataset.name[4:]) == bool(expected),
            "complete_date": lambda values, expected, _: _is_complete_date(values) == bool(expected),
        },
        combinators={"exists": exists},
    )


def evaluate(study: Study, dataset: Dataset, condition: Mapping[str, Any]) -> pd.Series:
    """The records of `dataset` for which `condition` holds."""
    return conditions.evaluate(condition, _subjects(study, dataset))


def absent_variables(study: Study, dataset: Dataset, condition: Mapping[str, Any]) -> list[str] | None:
    """The variables of a condition when none of them exists in the data (the condition then
    says nothing about the records), else None. `exists` conditions look at other datasets
    and always count as present."""
    if "exists" in condition:
        return None
    named = conditions.subjects_of(condition)
    if not named or any(is_present(study, dataset, name) for name in named):
        return None
    return named


def variables_of(condition: Mapping[str, Any]) -> list[str]:
    """The variables a condition reads, in order; the first names the finding's variable."""
    return conditions.subjects_of(condition)


def check(condition: Any, key_path: str, path: str) -> list[Problem]:
    """A rule file's condition: variables only (rules read datasets, not raw columns), the
    rule tests, and `exists` with its nested `where`."""

    def check_exists(argument: Any, where_path: str) -> list[Problem]:
        if not isinstance(argument, Mapping) or "dataset" not in argument:
            return [Problem(path, "exists names the dataset to look in", column=where_path)]
        if "where" in argument:
            return check(argument["where"], f"{where_path}.where", path)
        return []

    return conditions.check(
        condition, key_path, path, subjects=("variable",), tests=RULE_TESTS, combinators={"exists": check_exists}
    )
