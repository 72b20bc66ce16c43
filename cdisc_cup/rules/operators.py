"""The catalogue of check operators a rule may name in `check: {operator: ...}`.

Every operator is vectorised: it looks at whole columns and returns the *hits*, a DataFrame
with one row per finding: `row` (0-based record position, missing for findings about the
dataset or its metadata), `variable`, `value`, and any extra columns the rule's message
may name. Operators raise `NotApplicable` when the data lack what the rule is about.
`--` in parameters has already been replaced by the domain prefix (AE in AESEQ).
The docstring's first line is the catalogue entry printed in docs/rules.md.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cdisc_cup import ct
from cdisc_cup.columns import byte_lengths, has_unprintable, is_in, text_codes
from cdisc_cup.constants import MAX_CHAR_LENGTH, MAX_LABEL_LENGTH, MAX_NAME_LENGTH
from cdisc_cup.define.model import DefinedDataset, DefinedVariable, DefineModel
from cdisc_cup.define.references import (
    LinkedDocument,
    LinkProblem,
    arm_problems,
    collected_problems,
    leaf_problems,
    leaf_target,
    page_problems,
)
from cdisc_cup.derivations.dates import iso_dates
from cdisc_cup.rules import conditions
from cdisc_cup.rules.igmeta import ig_dataset_variables
from cdisc_cup.rules.model import NotApplicable, Study
from cdisc_cup.rules.values import as_dates, column, is_null, is_present, iso_text, report_text, resolve
from cdisc_cup.xpt.model import Dataset

Operator = Callable[..., pd.DataFrame]
OPERATORS: dict[str, Operator] = {}

NO_HITS = pd.DataFrame(
    {"row": pd.Series(dtype="Int64"), "variable": pd.Series(dtype=object), "value": pd.Series(dtype=object)}
)


def operator(function: Operator) -> Operator:
    OPERATORS[function.__name__] = function
    return function


def no_hits() -> pd.DataFrame:
    """The shared empty result (the engine never modifies an empty result, so one is enough)."""
    return NO_HITS


def record_hits(
    dataset: Dataset,
    mask: pd.Series | np.ndarray,
    variable: str,
    values: pd.Series | None = None,
    **extra: pd.Series,
) -> pd.DataFrame:
    """Hits for the records where `mask` is True, showing `values` (default: the variable)."""
    positions = np.flatnonzero(np.asarray(mask, dtype=bool))
    if not len(positions):
        return no_hits()
    if values is None:
        values = (
            dataset.frame[variable] if variable in dataset.frame.columns else pd.Series("", index=dataset.frame.index)
        )
    hits = pd.DataFrame(
        {
            "row": pd.array(positions, dtype="Int64"),
            "variable": variable,
            "value": report_text(values.iloc[positions]).to_numpy(),
        }
    )
    for name, series in extra.items():  # only the hit records are turned into report text
        hits[name] = report_text(series.iloc[positions]).to_numpy()
    return hits


def item_hits(items: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """Hits about the dataset or its metadata (no record), one per item."""
    if not items:
        return no_hits()
    hits = pd.DataFrame(list(items))
    hits.insert(0, "row", pd.array([pd.NA] * len(hits), dtype="Int64"))
    for name in ("variable", "value"):
        if name not in hits:
            hits[name] = ""
    return hits


def _names(dataset: Dataset, variables: Sequence[str] | str) -> list[str]:
    """Variable names from a list, or a regex over the dataset's names ("--DTC$" style)."""
    if isinstance(variables, str):
        return [c for c in dataset.frame.columns if re.search(variables, c)]
    return list(variables)


def _ig_names(study: Study, dataset: Dataset, core: str) -> list[str]:
    table = ig_dataset_variables(study.standard_of(dataset), dataset.name, study.ig_version_of(dataset))
    return table.loc[table["core"] == core, "variable"].tolist()


def _concat(parts: list[pd.DataFrame]) -> pd.DataFrame:
    parts = [p for p in parts if len(p)]
    return pd.concat(parts, ignore_index=True) if parts else no_hits()


# --- files, presence and metadata -------------------------------------------------------


@operator
def file_readable(study: Study, dataset: Dataset | None) -> pd.DataFrame:
    """Every dataset file of the folder can be read as SAS XPORT v5."""
    return item_hits([{"dataset": name, "value": name, "reason": why} for name, why in study.unreadable.items()])


@operator
def dataset_present(study: Study, dataset: Dataset | None, *, names: Sequence[str]) -> pd.DataFrame:
    """Each listed dataset is in the submission (FDA's rejection criteria: ts.xpt, dm.xpt, adsl.xpt).

    One finding per missing dataset, never one per record of the others. A file that is
    there but cannot be read is XP0001's finding, not a missing dataset."""
    there = set(study.datasets) | {Path(name).stem.upper() for name in study.unreadable}
    return item_hits([{"dataset": name, "value": f"{name.lower()}.xpt"} for name in names if name not in there])


@operator
def has_records(study: Study, dataset: Dataset) -> pd.DataFrame:
    """The dataset has at least one record (FDA TCG: do not submit empty datasets)."""
    return no_hits() if len(dataset.frame) else item_hits([{"value": "0"}])


@operator
def variable_present(
    study: Study, dataset: Dataset, *, variables: Sequence[str] | None = None, core: str | None = None
) -> pd.DataFrame:
    """Each listed variable (or each IG variable of this `core`: Req, Exp) exists in the dataset."""
    wanted = list(variables or []) or _ig_names(study, dataset, core or "Req")
    missing = [v for v in wanted if v not in dataset.frame.columns]
    return item_hits([{"variable": v} for v in missing])


@operator
def not_null(
    study: Study,
    dataset: Dataset,
    *,
    variables: Sequence[str] | str | None = None,
    core: str | None = None,
    when: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Listed variables (or present IG variables of `core`) have a value in every record (optionally only `when`)."""
    names = _names(dataset, variables) if variables else _ig_names(study, dataset, core or "Req")
    present = [n for n in names if n in dataset.frame.columns]
    if not present:
        raise NotApplicable("none of the variables is present")
    scope = _scope(study, dataset, when)
    return _concat([record_hits(dataset, is_null(dataset.frame[n]) & scope, n) for n in present])


@operator
def variable_name_valid(study: Study, dataset: Dataset, *, max_length: int = MAX_NAME_LENGTH) -> pd.DataFrame:
    """Variable names are at most 8 characters of A-Z, 0-9 and _, starting with a letter (XPT v5)."""
    pattern = re.compile(rf"^[A-Z][A-Z0-9_]{{0,{max_length - 1}}}$")
    return item_hits([{"variable": v.name, "value": v.name} for v in dataset.variables if not pattern.match(v.name)])


@operator
def dataset_name_valid(study: Study, dataset: Dataset, *, max_length: int = MAX_NAME_LENGTH) -> pd.DataFrame:
    """The dataset name is at most 8 characters of A-Z, 0-9 and _ (XPORT v5) and matches its file name."""
    problems = []
    if not re.fullmatch(rf"[A-Z][A-Z0-9_]{{0,{max_length - 1}}}", dataset.name):
        problems.append({"value": dataset.name, "problem": "is not a valid SAS XPORT v5 name"})
    if dataset.path is not None and dataset.path.stem.upper() != dataset.name:
        problems.append({"value": dataset.path.name, "problem": f"is stored in file {dataset.path.name}"})
    return item_hits(problems)


@operator
def variable_label(study: Study, dataset: Dataset, *, max_length: int = MAX_LABEL_LENGTH) -> pd.DataFrame:
    """Every variable has a label of at most 40 characters."""
    bad = [v for v in dataset.variables if not v.label.strip() or len(v.label) > max_length]
    return item_hits([{"variable": v.name, "value": v.label, "length": len(v.label)} for v in bad])


@operator
def dataset_label(study: Study, dataset: Dataset, *, max_length: int = MAX_LABEL_LENGTH) -> pd.DataFrame:
    """The dataset has a label of at most 40 characters."""
    if dataset.label.strip() and len(dataset.label) <= max_length:
        return no_hits()
    return item_hits([{"value": dataset.label, "length": len(dataset.label)}])


@operator
def variable_type(study: Study, dataset: Dataset) -> pd.DataFrame:
    """Variables the IG defines have the IG's type (Char or Num)."""
    table = ig_dataset_variables(study.standard_of(dataset), dataset.name, study.ig_version_of(dataset))
    expected = dict(zip(table["variable"], table["type"], strict=True))
    bad = [v for v in dataset.variables if v.name in expected and expected[v.name] != v.type]
    return item_hits([{"variable": v.name, "value": v.type, "expected": expected[v.name]} for v in bad])


@operator
def char_length(study: Study, dataset: Dataset, *, max_length: int = MAX_CHAR_LENGTH) -> pd.DataFrame:
    """Character values are at most `max_length` bytes (200 in SAS XPORT v5)."""
    texts = dataset.frame.select_dtypes(exclude="number")
    parts = []
    for name in texts.columns:
        lengths = byte_lengths(texts[name])
        too_long = lengths > max_length
        if too_long.any():
            parts.append(record_hits(dataset, too_long, name, length=pd.Series(lengths, index=texts.index)))
    return _concat(parts)


@operator
def variable_length_fit(study: Study, dataset: Dataset, *, slack: int = 0) -> pd.DataFrame:
    """Declared character lengths are no longer than the longest value (FDA TCG 4.1.5: lengths fit the data)."""
    items = []
    for meta in dataset.variables:
        if meta.type != "Char" or meta.length is None or meta.name not in dataset.frame.columns:
            continue
        lengths = byte_lengths(dataset.frame[meta.name], trailing_blanks=False)
        longest = int(lengths.max()) if len(lengths) else 0
        if meta.length > max(longest, 1) + slack:
            items.append({"variable": meta.name, "value": str(meta.length), "longest": longest})
    return item_hits(items)


@operator
def ascii_only(study: Study, dataset: Dataset) -> pd.DataFrame:
    """Character values contain only printable ASCII (FDA TCG 4.1.5: ASCII text in XPT)."""
    texts = dataset.frame.select_dtypes(exclude="number")
    return _concat([record_hits(dataset, has_unprintable(texts[n]), n) for n in texts.columns])


# --- record rules -----------------------------------------------------------------------


@operator
def unique_key(study: Study, dataset: Dataset, *, keys: Sequence[str]) -> pd.DataFrame:
    """No two records share the `keys` values (the second and later duplicates are reported)."""
    frame = pd.DataFrame({k: column(dataset, k) for k in keys})
    duplicated = frame.duplicated(keep="first")
    return record_hits(dataset, duplicated, keys[-1])


def _scope(study: Study, dataset: Dataset, when: Mapping[str, Any] | None) -> pd.Series:
    """The records a rule looks at; a scope none of whose variables exist cannot be told."""
    if not when:
        return pd.Series(True, index=dataset.frame.index)
    absent = conditions.absent_variables(study, dataset, when)
    if absent is not None:
        raise NotApplicable(_lacks(dataset, absent))
    return conditions.evaluate(study, dataset, when)


def _lacks(dataset: Dataset, names: Sequence[str]) -> str:
    """ "AE has none of AESDTH, AESLIFE" / "DM has no ARMNRS", naming the dataset that lacks them."""
    owners = {name.rpartition(".")[0] or dataset.name for name in names}
    owner = owners.pop() if len(owners) == 1 else dataset.name
    variables = [name.rpartition(".")[2] for name in names]
    return f"{owner} has no {variables[0]}" if len(variables) == 1 else f"{owner} has none of {', '.join(variables)}"


@operator
def record_present(study: Study, dataset: Dataset, *, where: Mapping[str, Any]) -> pd.DataFrame:
    """The dataset has at least one record meeting `where` (TS: a TSPARMCD = SSTDTC record); one finding otherwise."""
    if _scope(study, dataset, where).any():
        return no_hits()
    variables = conditions.variables_of(where)
    return item_hits([{"variable": variables[0].split(".")[-1] if variables else "", "value": ""}])


@operator
def conditional(
    study: Study,
    dataset: Dataset,
    *,
    then: Mapping[str, Any],
    when: Mapping[str, Any] | None = None,
    requires: Sequence[str] = (),
) -> pd.DataFrame:
    """Records meeting `when` (default: all records) must meet `then`; only on datasets with one of `requires`.

    When none of the variables `then` names exists, every record in scope fails for one
    reason, reported once for the dataset rather than once per record. `requires` names
    variables of which the dataset must have at least one for the rule to apply at all
    (Permissible variables a study may not collect, such as the seriousness criteria, or
    EPOCH): without any of them the rule is not applicable, with the reason."""
    if requires and not any(is_present(study, dataset, name) for name in requires):
        raise NotApplicable(_lacks(dataset, list(requires)))
    scope = _scope(study, dataset, when)
    names = conditions.variables_of(then) or conditions.variables_of(when or {})
    absent = conditions.absent_variables(study, dataset, then)
    if absent is not None:
        count = int(scope.sum())
        if not count:
            return no_hits()
        reason = f"{_lacks(dataset, absent)}, so none of the {count} records in scope meets the rule"
        return item_hits([{"variable": absent[0].split(".")[-1], "value": "", "message": reason}])
    holds = conditions.evaluate(study, dataset, then)
    variable = names[0].split(".")[-1] if names else ""
    shown = resolve(study, dataset, names[0], absent_as_null=True) if names else None
    return record_hits(dataset, scope & ~holds, variable, shown)


ISO8601 = (
    r"(\d{4}(-(\d{2}|-)(-(\d{2}|-)(T(\d{2}|-)(:(\d{2}|-)(:\d{2}(\.\d+)?)?)?)?)?)?"
    r"|-{4}(-(\d{2}|-))?(-\d{2})?(T.*)?)"
)
ISO8601_VALUE = rf"{ISO8601}(/{ISO8601})?|P[0-9YMWDTHS.]+"


@operator
def iso8601(study: Study, dataset: Dataset, *, variables: Sequence[str] | str = r"DTC$") -> pd.DataFrame:
    """Date/time values are ISO 8601 (complete or partial dates, times, intervals, durations)."""
    names = [n for n in _names(dataset, variables) if n in dataset.frame.columns]
    if not names:
        raise NotApplicable("no date/time variables")
    parts = []
    for name in names:
        values = dataset.frame[name]
        if pd.api.types.is_numeric_dtype(values):
            continue
        text = values.astype("string").fillna("")
        wrong = (text != "") & ~text.str.fullmatch(ISO8601_VALUE).fillna(False).astype(bool)
        parts.append(record_hits(dataset, wrong, name))
    return _concat(parts)


_PRECISIONS = (4, 7, 10, 13, 16, 19)


@operator
def date_order(
    study: Study,
    dataset: Dataset,
    *,
    earlier: str,
    later: str,
    when: Mapping[str, Any] | None = None,
    report: str | None = None,
) -> pd.DataFrame:
    """`later` is not before `earlier` at the precision both dates have; `report` names the variable shown."""
    first = iso_text(resolve(study, dataset, earlier))
    second = iso_text(resolve(study, dataset, later))
    common = np.minimum(first.str.len().to_numpy(), second.str.len().to_numpy())
    # Compare at the finest precision both values have: year, month, day, hour, minute, second.
    level = np.searchsorted(_PRECISIONS, common, side="right") - 1
    reversed_ = pd.Series(False, index=dataset.frame.index)
    for index, precision in enumerate(_PRECISIONS):
        at = level == index
        if at.any():
            reversed_ |= at & (second.str.slice(0, precision) < first.str.slice(0, precision)).fillna(False).to_numpy()
    if when:
        reversed_ &= _scope(study, dataset, when)
    if report is None:
        return record_hits(dataset, reversed_, later.split(".")[-1], second, earlier_value=first, later_value=second)
    return record_hits(
        dataset, reversed_, report, iso_text(column(dataset, report)), earlier_value=first, later_value=second
    )


@operator
def reference_exists(
    study: Study,
    dataset: Dataset,
    *,
    variable: str = "USUBJID",
    target: str = "DM",
    target_variable: str | None = None,
) -> pd.DataFrame:
    """Each non-missing value of `variable` occurs in `target`.`target_variable` (USUBJID in DM)."""
    other = study.datasets.get(target)
    if other is None:
        raise NotApplicable(f"no {target} dataset")
    values = column(dataset, variable)
    known = column(other, target_variable or variable).astype("string").str.strip()
    orphan = ~is_null(values) & ~is_in(values.astype("string").str.strip(), known)
    return record_hits(dataset, orphan, variable, target=pd.Series(target, index=dataset.frame.index))


@operator
def subject_has_record(
    study: Study, dataset: Dataset, *, target: str, where: Mapping[str, Any] | None = None, by: str = "USUBJID"
) -> pd.DataFrame:
    """Each subject of this dataset has a record in `target` (optionally one meeting `where`)."""
    present = conditions.evaluate(study, dataset, {"exists": {"dataset": target, "where": where, "by": by}})
    return record_hits(dataset, ~present, by)


@operator
def supp_parent_exists(study: Study, dataset: Dataset) -> pd.DataFrame:
    """Each SUPP-- record points to an existing parent record (RDOMAIN, USUBJID, IDVAR=IDVARVAL)."""
    rdomain = column(dataset, "RDOMAIN").astype("string").str.strip()
    idvar = column(dataset, "IDVAR").astype("string").str.strip().fillna("")
    idvarval = column(dataset, "IDVARVAL").astype("string").str.strip().fillna("")
    usubjid = column(dataset, "USUBJID").astype("string").str.strip()
    found = pd.Series(False, index=dataset.frame.index)
    checked = pd.Series(False, index=dataset.frame.index)
    for (domain, key), group in (
        pd.DataFrame({"d": rdomain, "k": idvar}).groupby(["d", "k"], dropna=False).groups.items()
    ):
        parent = study.datasets.get(str(domain))
        if parent is None or (key and key not in parent.frame.columns):
            continue
        checked[group] = True
        parent_keys = parent.frame["USUBJID"].astype("string").str.strip()
        if key:
            parent_keys = parent_keys + "\x00" + report_text(parent.frame[key]).astype("string").str.strip()
            wanted = usubjid[group] + "\x00" + idvarval[group]
        else:
            wanted = usubjid[group]
        found[group] = is_in(wanted, parent_keys)
    if not checked.any():
        raise NotApplicable("no parent dataset present")
    return record_hits(dataset, checked & ~found, "IDVARVAL", parent=rdomain)


@operator
def study_day_consistent(
    study: Study, dataset: Dataset, *, day: str, date: str, reference: str = "DM.RFSTDTC"
) -> pd.DataFrame:
    """--DY equals the day count from the reference start date (no day 0: day 1 is the reference date)."""
    recorded = pd.to_numeric(column(dataset, day), errors="coerce")
    when = as_dates(resolve(study, dataset, date))
    start = as_dates(resolve(study, dataset, reference))
    offset = (when - start).dt.days
    expected = offset + (offset >= 0)
    wrong = recorded.notna() & expected.notna() & (recorded != expected)
    return record_hits(dataset, wrong | (recorded == 0), day, expected=expected.astype("Int64"))


@operator
def trtemfl_window(
    study: Study,
    dataset: Dataset,
    *,
    flag: str = "TRTEMFL",
    start: str = "ASTDT",
    trt_start: str = "ADSL.TRTSDT",
    trt_end: str = "ADSL.TRTEDT",
    window_days: int = 30,
) -> pd.DataFrame:
    """TRTEMFL is Y exactly when onset is on/after first dose and within `window_days` after the last."""
    flagged = column(dataset, flag).astype("string").str.strip().eq("Y").fillna(False).astype(bool)
    onset = as_dates(resolve(study, dataset, start))
    first = as_dates(resolve(study, dataset, trt_start, by="USUBJID"))
    last = as_dates(resolve(study, dataset, trt_end, by="USUBJID"))
    known = onset.notna() & first.notna()
    inside = (onset >= first) & (last.isna() | (onset <= last + pd.Timedelta(days=window_days)))
    inside = inside.fillna(False).astype(bool)
    wrong = known & (flagged != inside)
    return record_hits(
        dataset,
        wrong,
        flag,
        onset_date=iso_dates(onset),
        first_dose=iso_dates(first),
        last_dose=iso_dates(last),
        expected=pd.Series(np.where(inside, "Y", "not Y"), index=onset.index),
    )


@cache
def _ig_codelist(
    terminology: ct.Terminology, codelist: str | None, standard: str, dataset: str, variable: str
) -> ct.Codelist | None:
    """The named codelist, or the one the IG ties to the variable (cached: asked once per variable)."""
    if codelist:
        return terminology.codelist(codelist)
    return terminology.codelist_for_variable(standard, dataset, variable)


def _declared(study: Study, dataset: Dataset, variable: str) -> DefinedVariable | None:
    """The variable as the folder's define.xml describes it, if it has one that does."""
    if study.define is None:
        return None
    described = study.define.datasets.get(dataset.name)
    return described.variables.get(variable) if described else None


def _cdisc_codelists(study: Study, declared: DefinedVariable) -> tuple[ct.Codelist, ...] | None:
    """The CDISC codelists behind a variable's define.xml codelists, by their C-codes; None
    when one of them is the sponsor's own (no C-code, or one the CT package checked with does
    not know): define.xml's own list is then the only one the values can be checked with."""
    found = tuple(study.terminology.codelist_by_code(c.nci_code) if c.nci_code else None for c in declared.codelists)
    return None if None in found else tuple(dict.fromkeys(found))


def _variable_codelist(
    study: Study, dataset: Dataset, variable: str, codelist: str | None
) -> tuple[ct.Codelist | None, frozenset[str]]:
    """The CDISC codelist a variable's values are checked against, and the sponsor's extensions.

    With a define.xml the sponsor's CodeListRef decides, as in P21 and CDISC CORE: RSTESTCD
    of an ECOG assessment uses ECOG1TC, not the IG's oncology-response codelist, and terms
    marked ExtendedValue="Yes" of an extensible codelist are declared extensions (SDTMIG 3.4
    section 4.3.3), not findings. A codelist with no CDISC C-code is the sponsor's own: not a
    CDISC CT question (DX0010 checks the values against it). Value-level codelists (DSDECOD:
    NCOMPLT or PROTMLST) are merged. Without a define.xml, or for a variable it gives no
    codelist, the IG's.
    """
    declared = _declared(study, dataset, variable) if codelist is None else None
    if declared is not None and declared.codelists:
        cdisc = _cdisc_codelists(study, declared)
        if cdisc is None:
            return None, frozenset()
        found = ct.merge_codelists(cdisc)
        extended = frozenset().union(*(c.extended for c in declared.codelists))
        return found, extended if found is not None and found.extensible else frozenset()
    return _ig_codelist(study.terminology, codelist, study.standard_of(dataset), dataset.name, variable), frozenset()


@operator
def in_codelist(
    study: Study,
    dataset: Dataset,
    *,
    extensible: bool,
    variables: Sequence[str] | str | None = None,
    codelist: str | None = None,
) -> pd.DataFrame:
    """Values are terms of the variable's CDISC codelist (only codelists with the given extensibility).

    The codelist is the one define.xml names for the variable when the folder has one
    (its ExtendedValue terms then count as terms), else the one the IG names.
    """
    names = [
        v for v in (_names(dataset, variables) if variables else dataset.frame.columns) if v in dataset.frame.columns
    ]
    parts = []
    for name in names:
        found, extensions = _variable_codelist(study, dataset, name, codelist)
        if found is None or bool(found.extensible) != extensible:
            continue
        values = dataset.frame[name]
        allowed = pd.Series(sorted({str(t) for t in found.values()} | extensions), dtype="str")
        text = values if pd.api.types.is_string_dtype(values) else report_text(values)
        outside = ~is_null(values) & ~is_in(text, allowed)
        parts.append(record_hits(dataset, outside, name, codelist=pd.Series(found.id, index=dataset.frame.index)))
    return _concat(parts)


# --- define.xml -------------------------------------------------------------------------


def _define(study: Study) -> DefineModel:
    if study.define is None:
        raise NotApplicable("no define.xml")
    return study.define


def _described(study: Study, dataset: Dataset) -> DefinedDataset:
    """The dataset's ItemGroupDef in define.xml (not applicable without one: DX0002's finding)."""
    described = _define(study).datasets.get(dataset.name)
    if described is None:
        raise NotApplicable("dataset not in define.xml")
    return described


@operator
def define_present(study: Study, dataset: Dataset | None) -> pd.DataFrame:
    """The folder holds a define.xml describing the datasets (FDA TCG 4.1.4.5)."""
    if study.define is not None:
        return no_hits()
    return item_hits([{"dataset": "", "value": "define.xml"}])


@operator
def define_dataset_described(study: Study, dataset: Dataset) -> pd.DataFrame:
    """The dataset is described by an ItemGroupDef in define.xml."""
    if dataset.name in _define(study).datasets:
        return no_hits()
    return item_hits([{"value": dataset.name}])


@operator
def define_variables_described(study: Study, dataset: Dataset) -> pd.DataFrame:
    """Each variable of the dataset is described in define.xml under its dataset."""
    described = _described(study, dataset)
    return item_hits([{"variable": v.name} for v in dataset.variables if v.name not in described.variables])


@operator
def define_variables_in_data(study: Study, dataset: Dataset) -> pd.DataFrame:
    """Each variable define.xml lists for the dataset exists in the data."""
    described = _described(study, dataset)
    return item_hits([{"variable": v} for v in described.variables if v not in dataset.frame.columns])


@operator
def define_label_match(study: Study, dataset: Dataset) -> pd.DataFrame:
    """Dataset and variable labels equal their define.xml labels."""
    described = _described(study, dataset)
    items = []
    # A label missing from the file is XP0004/XP0005's finding; one problem, one finding.
    if described.label and dataset.label.strip() and described.label.strip() != dataset.label.strip():
        items.append({"variable": "", "value": dataset.label, "define_label": described.label})
    for meta in dataset.variables:
        item = described.variables.get(meta.name)
        if item is not None and item.label and meta.label.strip() and item.label.strip() != meta.label.strip():
            items.append({"variable": meta.name, "value": meta.label, "define_label": item.label})
    return item_hits(items)


@operator
def define_length_match(study: Study, dataset: Dataset) -> pd.DataFrame:
    """Character variable lengths in the file equal their define.xml Length."""
    described = _described(study, dataset)
    items = []
    for meta in dataset.variables:
        item = described.variables.get(meta.name)
        if meta.type == "Char" and item is not None and item.length and meta.length and item.length != meta.length:
            items.append({"variable": meta.name, "value": str(meta.length), "define_length": item.length})
    return item_hits(items)


@operator
def define_order_match(study: Study, dataset: Dataset) -> pd.DataFrame:
    """The variables are in the order define.xml gives them (ItemRef OrderNumber).

    Only the variables both describe are compared (a variable only one of them has is DX0003's
    or DX0004's finding), and one finding names the first place where the orders part: moving
    one variable shifts all after it, which is one mistake, not one per variable."""
    described = _described(study, dataset)
    in_data = [meta.name for meta in dataset.variables if meta.name in described.variables]
    in_define = sorted(in_data, key=lambda name: described.variables[name].order)
    parted = next(
        (place for place, pair in enumerate(zip(in_data, in_define, strict=True)) if len(set(pair)) > 1), None
    )
    if parted is None:
        return no_hits()
    name, expected = in_data[parted], in_define[parted]
    position = [meta.name for meta in dataset.variables].index(name) + 1
    return item_hits(
        [
            {
                "variable": name,
                "value": str(position),
                "define_variable": expected,
                "define_order": described.variables[expected].order,
            }
        ]
    )


@operator
def define_data_type_match(study: Study, dataset: Dataset) -> pd.DataFrame:
    """define.xml DataType fits the XPT type: integer or float for Num, text or an ISO 8601 type for Char."""
    described = _described(study, dataset)
    items = []
    for meta in dataset.variables:
        item = described.variables.get(meta.name)
        if item is not None and item.data_type and item.is_numeric != (meta.type == "Num"):
            items.append({"variable": meta.name, "value": item.data_type, "type": meta.type})
    return item_hits(items)


def _href_target(define: DefineModel, dataset: Dataset, href: str) -> str | None:
    """The local file a def:leaf href points to, relative to define.xml's folder (the dataset's
    when define.xml is only in memory); None for a URL of another scheme."""
    if dataset.path is None:
        return None
    target = leaf_target(define.path.parent if define.path is not None else dataset.path.parent, href)
    return None if target is None else os.path.normpath(target.absolute())


@operator
def define_file_named(study: Study, dataset: Dataset) -> pd.DataFrame:
    """The dataset's def:leaf in define.xml names its file (xlink:href, relative to define.xml)."""
    define = _define(study)
    described = _described(study, dataset)
    if dataset.path is None:
        raise NotApplicable("the dataset was not read from a file")
    href = described.href
    if href is not None and _href_target(define, dataset, href) == os.path.normpath(dataset.path.absolute()):
        return no_hits()
    return item_hits([{"value": href or "", "leaf": href or "no def:leaf", "file": dataset.path.name}])


@operator
def define_codelist_values(study: Study, dataset: Dataset) -> pd.DataFrame:
    """Values are terms of the variable's define.xml codelist when that is the sponsor's own (no CDISC C-code).

    CDISC codelists (those whose C-code the CT package knows) are the CT rules' job, with
    their extensibility and the sponsor's declared extensions; a sponsor codelist has only
    define.xml's list, so a value outside it contradicts define.xml. Value-level codelists
    are merged; a variable with an external dictionary (MedDRA) or a value-level item
    without a codelist is not controlled as a whole, and not checked."""
    described = _described(study, dataset)
    parts = []
    for name in dataset.frame.columns:
        declared = described.variables.get(name)
        if declared is None or not declared.codelists or _cdisc_codelists(study, declared) is not None:
            continue
        allowed_values = declared.allowed_values
        if allowed_values is None:
            continue
        values = dataset.frame[name]
        allowed = pd.Series(sorted(allowed_values), dtype="str")
        text = values if pd.api.types.is_string_dtype(values) else report_text(values)
        outside = ~is_null(values) & ~is_in(text, allowed)
        index = dataset.frame.index
        codelists = pd.Series(", ".join(c.oid for c in declared.codelists), index=index)
        terms = pd.Series(_terms_shown(allowed_values), index=index)
        parts.append(record_hits(dataset, outside, name, codelist=codelists, terms=terms))
    return _concat(parts)


SHOWN_RECORDS = 5  # the record numbers a duplicated-key finding lists


def _key_codes(values: pd.Series) -> np.ndarray:
    """A key column as integer codes: text as XPT compares it, numbers as they are."""
    if pd.api.types.is_numeric_dtype(values):
        return pd.factorize(values, use_na_sentinel=False)[0]
    return text_codes(values)


@operator
def define_keys_unique(study: Study, dataset: Dataset, *, max_groups: int = 100) -> pd.DataFrame:
    """No two records share the values of the keys define.xml declares (ItemRef KeySequence; 1.0: def:DomainKeys).

    One finding per group of records with the same key values (its first record, how many
    share the key and which), not one per record: a duplicated key is one problem of those
    records. At most `max_groups` groups are listed; one more finding counts the rest."""
    keys = list(_described(study, dataset).keys)
    if not keys:
        raise NotApplicable(f"define.xml declares no keys for {dataset.name}")
    absent = [k for k in keys if k not in dataset.frame.columns]
    if absent:
        raise NotApplicable(f"{dataset.name} has no {', '.join(absent)} (a key define.xml declares)")
    codes = pd.DataFrame({k: _key_codes(dataset.frame[k]) for k in keys})
    shared = codes.duplicated(keep=False).to_numpy()
    if not shared.any():
        return no_hits()
    # Groups numbered by their first record, so the first `max_groups` are the first in the file.
    members = pd.DataFrame(
        {"group": codes[shared].groupby(keys, sort=False).ngroup().to_numpy(), "row": np.flatnonzero(shared)}
    )
    total = int(members["group"].max()) + 1
    listed = members[members["group"] < max_groups]
    by_group = listed.groupby("group")["row"]
    first = by_group.min().to_numpy()
    count = by_group.size().to_numpy()
    shown = listed[listed.groupby("group").cumcount() < SHOWN_RECORDS]
    records = (shown["row"] + 1).astype(str).groupby(shown["group"]).agg(", ".join).to_numpy()
    shown_values = {k: report_text(dataset.frame[k].iloc[first]).astype(str).str.strip() for k in keys}
    text = shown_values[keys[0]].radd(f"{keys[0]}=")
    for key in keys[1:]:
        text = text + f", {key}=" + shown_values[key]
    hits = pd.DataFrame(
        {
            "row": pd.array(first, dtype="Int64"),
            "variable": keys[-1],
            "value": text.to_numpy(),
            "keys": ", ".join(keys),
            "count": pd.array(count, dtype="Int64"),
            "records": np.where(count > SHOWN_RECORDS, records + ", ...", records),
        }
    )
    if total > max_groups:
        more = total - max_groups
        note = (
            f"{more} more groups of {dataset.name} records share their keys ({', '.join(keys)}); "
            f"only the first {max_groups} are listed"
        )
        hits = _concat([hits, item_hits([{"variable": keys[-1], "value": str(more), "message": note}])])
    return hits


def _documents(study: Study) -> Mapping[str, LinkedDocument]:
    """What the folder reading found of the files define.xml links to (not applicable when
    nobody looked: a study put together in memory)."""
    _define(study)
    if study.documents is None:
        raise NotApplicable("the documents define.xml links to were not looked at")
    return study.documents


def link_hits(problems: Sequence[LinkProblem]) -> pd.DataFrame:
    """Hits of the link checks of `define.references`: one per root cause, worded by the check,
    with its line in define.xml."""
    return item_hits(
        [
            {
                "dataset": "",
                "value": problem.value,
                "problem": problem.message,
                "line": "" if problem.line is None else f" (define.xml line {problem.line})",
            }
            for problem in problems
        ]
    )


@operator
def define_leaf_files(study: Study, dataset: Dataset | None) -> pd.DataFrame:
    """Every document define.xml links to (def:leaf of the aCRF, guides, reports) is a file beside it.

    One finding per missing file, however many def:leaf elements name it (the CDISC pilot's
    ADaM define.xml names one CSR PDF from 30 leaves, each with another #page=); the page
    references into it are not findings of their own. The datasets' leaves are DX0009's."""
    return link_hits(leaf_problems(_define(study), _documents(study)))


@operator
def define_pdf_pages(study: Study, dataset: Dataset | None) -> pd.DataFrame:
    """Every page of a def:PDFPageRef lies inside its PDF (a NamedDestination is one the PDF defines).

    One finding per page or destination that is not there, however many references point at
    it, and one per PDF that cannot be read."""
    return link_hits(page_problems(_define(study), _documents(study)))


@operator
def define_collected_pages(study: Study, dataset: Dataset | None) -> pd.DataFrame:
    """Every collected variable whose source is the investigator names its aCRF page (def:Origin def:DocumentRef)."""
    return link_hits(collected_problems(_define(study)))


@operator
def define_arm_references(study: Study, dataset: Dataset | None) -> pd.DataFrame:
    """The OIDs of the Analysis Results Metadata and of where clauses name definitions of the define.xml.

    ItemGroupOID, ItemOID and WhereClauseOID of arm:AnalysisDataset and arm:AnalysisVariable,
    and the def:ItemOID of each where clause's RangeCheck: odm:oidref is plain text to the
    schema, so a typo there is only found here. One finding per OID."""
    return link_hits(arm_problems(_define(study)))


SHOWN_TERMS = 10


def _terms_shown(terms: frozenset[str]) -> str:
    """The first terms of a codelist as Python literals, so a stray blank or a non-breaking
    space in a coded value (as in the CDISC pilot's ADaM define.xml) can be seen in a message."""
    shown = ", ".join(repr(term) for term in sorted(terms)[:SHOWN_TERMS])
    return shown + (", ..." if len(terms) > SHOWN_TERMS else "")
