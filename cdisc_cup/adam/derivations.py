"""ADaM derivations, admiral style: generic verbs; the study's choices are their options.

The contract (pharmaverse admiral, in Python): the dataset comes first, options are
keyword-only, every output variable is named by an option (defaulting to the ADaM name where
there is one), the columns a derivation needs are checked up front (the error names the
option that points to the missing column), and a new frame is returned in the input's record
order; nothing is sorted in place and nothing is read or written. Which records, which drug,
which test code or cut-off is the study's business: the steps of its ADaM specs pass it in
(`engine.py` runs them), as admiral's templates (`ad_adsl.R`, `ad_adae.R`) keep `filter_add`
at the call site.

The `derivation:` names in `specs/adam/*.yaml` are the names of these functions
(`CATALOGUE`), so the define.xml method text and the code that implements it cannot drift
apart unnoticed (a test checks it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from cdisc_cup.adam.dates import complete_date, impute_date, relative_day, text_or_null
from cdisc_cup.columns import key_codes, parse_numbers, stable_order

FLAG_Y = "Y"

# Which records a verb uses: {column: value} (text values equal, blanks missing; every item
# must hold; a list/tuple/set value means "one of"), a boolean mask aligned with the dataset,
# or a function of the dataset returning such a mask (admiral's `filter_add` expressions).
# A missing (NA) result counts as false.
Condition = Mapping[str, object] | pd.Series | Callable[[pd.DataFrame], pd.Series]
Mode = Literal["first", "last"]


@dataclass(frozen=True)
class Desc:
    """An `order` item sorted descending (admiral `desc()`): the worst grade first."""

    column: str


def desc(column: str) -> Desc:
    """`order=[desc("ATOXGRN"), "ASTDT"]`: highest grade first, then earliest onset."""
    return Desc(column)


# An `order` is a sequence of column names (ascending) and `desc(column)` items.
Order = Sequence[str | Desc]

# Summary functions of `derive_vars_merged_summary` / `summarise` (pandas named aggregation).
SUMMARY_FUNCTIONS = ("count", "size", "nunique", "min", "max", "sum", "mean", "first", "last")


class DerivationInputError(ValueError):
    """A derivation was called with inputs it cannot use: a column it needs is missing, or an
    additional dataset has several records per by group where one is expected."""


def _require(dataset: pd.DataFrame, name: str, **columns: str | Sequence[str] | None) -> None:
    """Fail early, naming the option (`start_date='ASTDT'`) whose column is missing."""
    missing = []
    for option, value in columns.items():
        for column in [] if value is None else [value] if isinstance(value, str) else value:
            if column not in dataset.columns:
                missing.append(f"{option}={column!r}")
    if missing:
        raise DerivationInputError(f"{name}: the dataset has no column for " + ", ".join(missing))


def _mask(dataset: pd.DataFrame, condition: Condition | None, *, name: str, option: str) -> pd.Series:
    """The records a condition selects, as a plain boolean Series on the dataset's index."""
    if condition is None:
        return pd.Series(True, index=dataset.index)
    if isinstance(condition, Mapping):
        _require(dataset, name, **{option: list(condition)})
        mask = pd.Series(True, index=dataset.index)
        for column, value in condition.items():
            text = text_or_null(dataset[column])
            if isinstance(value, (list, tuple, set, frozenset)):
                mask &= text.isin([str(v) for v in value]).fillna(False).astype(bool)
            else:
                mask &= (text == str(value)).fillna(False).astype(bool)
        return mask
    values = condition(dataset) if callable(condition) else condition
    if not isinstance(values, pd.Series) or not values.index.equals(dataset.index):
        raise DerivationInputError(f"{name}: {option} must be a boolean Series on the dataset's own index")
    return values.fillna(False).astype(bool)


def _flag(
    condition: pd.Series,
    *,
    true_value: str | None = FLAG_Y,
    false_value: str | None = None,
    scope: pd.Series | None = None,
) -> pd.Series:
    """ADaM flag: `true_value` where the condition holds, `false_value` elsewhere within
    `scope`, null outside it (admiral's true_value / false_value)."""
    condition = condition.fillna(False).astype(bool)
    inside = pd.Series(True, index=condition.index) if scope is None else scope
    values = pd.Series(pd.NA, index=condition.index, dtype="string")
    if true_value is not None:
        values[condition & inside] = true_value
    if false_value is not None:
        values[~condition & inside] = false_value
    return values


def _order_columns(order: Order | None) -> tuple[list[str], list[bool]]:
    """The columns of an `order` and whether each sorts ascending."""
    items = list(order or ())
    return [i.column if isinstance(i, Desc) else i for i in items], [not isinstance(i, Desc) for i in items]


def _new_vars(new_vars: Mapping[str, str] | Sequence[str]) -> dict[str, str]:
    """`{new: source}`; a plain list keeps each source's name."""
    if isinstance(new_vars, Mapping):
        return dict(new_vars)
    return {name: name for name in new_vars}


def _ranked(rows: pd.DataFrame, order: Order | None) -> np.ndarray:
    """The positions of the records in `order` (each item ascending, or `Desc`)."""
    columns, ascending = _order_columns(order)
    return stable_order(rows, columns, ascending)


def _extremes(rows: pd.DataFrame, *, by_vars: Sequence[str], order: Order | None, mode: Mode) -> np.ndarray:
    """The positions of the first or last record of each by group in `order`, in that order."""
    (groups,) = key_codes([rows], by_vars)
    ranked = _ranked(rows, order)
    return ranked[~pd.Series(groups[ranked]).duplicated(keep=mode).to_numpy()]


def _aligned(dataset: pd.DataFrame, values: pd.DataFrame, *, by: Sequence[str]) -> tuple[pd.DataFrame, pd.Series]:
    """The columns of `values` (one row per `by` group) other than `by`, on every record of
    the dataset (its index and order), and whether the record found a row: a left join
    (`merge(how="left", validate="m:1")`, the same missing values and dtypes) by one hash
    lookup of the keys, without copying the dataset's own columns as a merge does; each
    ADSL step would otherwise copy the whole of ADSL (issue #19)."""
    table, records = key_codes([values, dataset], by)
    positions = pd.Index(table).get_indexer(records)
    columns = values.drop(columns=list(by)).reset_index(drop=True).reindex(positions)
    return columns.set_axis(dataset.index), pd.Series(positions >= 0, index=dataset.index)


def _per_subject(dataset: pd.DataFrame, values: pd.DataFrame, *, by: Sequence[str] = ("USUBJID",)) -> pd.DataFrame:
    """Left-join values (one row per `by` group) without changing row order or index;
    columns the dataset already has are replaced (and move to the end)."""
    overlap = [c for c in values.columns if c in dataset.columns and c not in by]
    columns, _ = _aligned(dataset, values, by=by)
    return dataset.drop(columns=overlap).assign(**columns)


def _rows(
    dataset: pd.DataFrame, condition: Condition | None, columns: Sequence[str], *, name: str, option: str
) -> pd.DataFrame:
    """The records a condition selects, with only the columns a verb reads: filtering all
    columns of a dataset copies every one of them (EX: 17 variables of 1.7 million
    administrations at 100,000 patients), when a verb reads two or three."""
    selected = _mask(dataset, condition, name=name, option=option)
    rows = dataset[list(dict.fromkeys(columns))]
    return rows if selected.all() else rows[selected]


def _select(
    dataset_add: pd.DataFrame,
    *,
    name: str,
    by_vars: Sequence[str],
    reads: Sequence[str],
    filter_add: Condition | None,
    order: Order | None,
    mode: Mode | None,
) -> pd.DataFrame:
    """admiral's selection step: filter, then the first or last record per by group in
    `order` (missing values sort last; ties and no `order` keep the records' own order);
    without `mode` every by group must have one record. The records keep the by, order and
    `reads` columns only."""
    columns = _order_columns(order)[0]
    rows = _rows(dataset_add, filter_add, [*by_vars, *reads, *columns], name=name, option="filter_add")
    if mode is not None:
        return rows.iloc[_extremes(rows, by_vars=by_vars, order=order, mode=mode)]
    if columns:
        rows = rows.iloc[_ranked(rows, order)]
    if rows.duplicated(list(by_vars)).any():
        raise DerivationInputError(
            f"{name}: dataset_add has several records per by_vars={list(by_vars)!r}; give order and mode"
        )
    return rows


def _merge_new(
    dataset: pd.DataFrame,
    values: pd.DataFrame,
    *,
    name: str,
    by_vars: Sequence[str],
    new: Sequence[str],
    missing_values: Mapping[str, object] | None,
) -> pd.DataFrame:
    """Left-join one row per by group; `missing_values` fill the records that found none."""
    clash = [v for v in new if v in dataset.columns]
    if clash:
        raise DerivationInputError(f"{name}: the dataset already has new_vars {clash!r}")
    unknown = [v for v in missing_values or {} if v not in new]
    if unknown:
        raise DerivationInputError(f"{name}: missing_values names {unknown!r}, which are not among new_vars")
    columns, found = _aligned(dataset, values[[*by_vars, *new]], by=by_vars)
    filled = {variable: columns[variable].mask(~found, value) for variable, value in (missing_values or {}).items()}
    return dataset.assign(**columns.assign(**filled))


# --- merges: variables from another dataset ---------------------------------------------------


def derive_vars_merged(
    dataset: pd.DataFrame,
    dataset_add: pd.DataFrame,
    *,
    by_vars: Sequence[str],
    new_vars: Mapping[str, str] | Sequence[str],
    filter_add: Condition | None = None,
    order: Order | None = None,
    mode: Mode | None = None,
    missing_values: Mapping[str, object] | None = None,
) -> pd.DataFrame:
    """admiral `derive_vars_merged`: add variables of one selected `dataset_add` record per
    by group (`new_vars` maps new -> source name).

    The selection is the study's: `filter_add` chooses the records (a test code, a
    category, an administration of the reference drug), `order` and `mode` the first or last
    of them per group. Without `mode`, `dataset_add` must hold at most one selected record per
    group (admiral's duplicate check, as an error). `missing_values` are set for records of
    `dataset` without a match (admiral's `missing_values`: ONGOING for a patient without an
    end-of-treatment record), not for matched records whose source is null. A new variable the
    dataset already has is an error (admiral: "contained in both datasets").
    """
    name = "derive_vars_merged"
    new = _new_vars(new_vars)
    _require(dataset, name, by_vars=by_vars)
    order_columns = _order_columns(order)[0]
    _require(dataset_add, f"{name}(dataset_add)", by_vars=by_vars, new_vars=list(new.values()), order=order_columns)
    rows = _select(
        dataset_add, name=name, by_vars=by_vars, reads=list(new.values()), filter_add=filter_add, order=order, mode=mode
    )
    values = pd.DataFrame({**{b: rows[b] for b in by_vars}, **{n: rows[s] for n, s in new.items()}}, index=rows.index)
    return _merge_new(dataset, values, name=name, by_vars=by_vars, new=list(new), missing_values=missing_values)


def derive_var_merged_exist_flag(
    dataset: pd.DataFrame,
    dataset_add: pd.DataFrame,
    *,
    by_vars: Sequence[str],
    new_var: str,
    condition: Condition | None = None,
    filter_add: Condition | None = None,
    true_value: str | None = FLAG_Y,
    false_value: str | None = None,
    missing_value: str | None = None,
) -> pd.DataFrame:
    """admiral `derive_var_merged_exist_flag`: `true_value` when at least one (filtered)
    `dataset_add` record of the group meets `condition`, `false_value` when the group has
    records but none meets it, `missing_value` when it has none (a population flag such as
    SAFFL: Y/N, N also for a patient without EX records)."""
    name = "derive_var_merged_exist_flag"
    _require(dataset, name, by_vars=by_vars)
    _require(dataset_add, f"{name}(dataset_add)", by_vars=by_vars)
    if new_var in dataset.columns:
        raise DerivationInputError(f"{name}: the dataset already has new_var {new_var!r}")
    scope = _mask(dataset_add, filter_add, name=name, option="filter_add")
    meets = _mask(dataset_add, condition, name=name, option="condition")[scope]
    rows = dataset_add.loc[scope, list(by_vars)]
    exists = meets.groupby([rows[b] for b in by_vars]).any().rename("__exists__").reset_index()
    columns, found = _aligned(dataset, exists, by=by_vars)
    flag = _flag(columns["__exists__"].fillna(False).astype(bool), true_value=true_value, false_value=false_value)
    return dataset.assign(**{new_var: flag.mask(~found, missing_value).astype("string")})


def summarise(
    dataset: pd.DataFrame,
    *,
    by_vars: Sequence[str],
    new_vars: Mapping[str, tuple[str, str]],
    filter: Condition | None = None,
) -> pd.DataFrame:
    """One record per by group with summaries of the (filtered) records: `new_vars` maps
    new -> (source, function), the function one of SUMMARY_FUNCTIONS (admiral's
    `derive_summary_records` without adding them back; groups with a missing by value drop)."""
    name = "summarise"
    _require(dataset, name, by_vars=by_vars, new_vars=[source for source, _ in new_vars.values()])
    unknown = sorted({f for _, f in new_vars.values()} - set(SUMMARY_FUNCTIONS))
    if unknown:
        raise DerivationInputError(f"{name}: new_vars uses {unknown!r}; known: {', '.join(SUMMARY_FUNCTIONS)}")
    rows = _rows(dataset, filter, [*by_vars, *(source for source, _ in new_vars.values())], name=name, option="filter")
    return rows.groupby(list(by_vars), as_index=False).agg(**{n: tuple(agg) for n, agg in new_vars.items()})


def derive_vars_merged_summary(
    dataset: pd.DataFrame,
    dataset_add: pd.DataFrame,
    *,
    by_vars: Sequence[str],
    new_vars: Mapping[str, tuple[str, str]],
    filter_add: Condition | None = None,
    missing_values: Mapping[str, object] | None = None,
) -> pd.DataFrame:
    """admiral `derive_vars_merged_summary`: per by group, summaries of the filtered
    `dataset_add` records (`{"NCYCLES": ("EXCYCLE", "nunique")}`: the cycles a patient
    received), with `missing_values` for groups without any (0 for a patient never dosed)."""
    name = "derive_vars_merged_summary"
    _require(dataset, name, by_vars=by_vars)
    values = summarise(dataset_add, by_vars=by_vars, new_vars=new_vars, filter=filter_add)
    return _merge_new(dataset, values, name=name, by_vars=by_vars, new=list(new_vars), missing_values=missing_values)


@dataclass(frozen=True)
class Event:
    """One source of candidate records for `derive_vars_extreme_event` (admiral `event()`):
    the records of `dataset` meeting `condition`, each giving the new variables from its own
    columns (`set_values_to = {new: source column}`) and `constants` (`{"DTHDOM": "AE"}`)."""

    dataset: pd.DataFrame
    set_values_to: Mapping[str, str]
    condition: Condition | None = None
    constants: Mapping[str, object] = field(default_factory=dict)


def derive_vars_extreme_event(
    dataset: pd.DataFrame,
    *,
    by_vars: Sequence[str],
    events: Sequence[Event],
    new_vars: Sequence[str],
    order: Order,
    mode: Mode,
    tmp_event_nr_var: str = "EVENTNR",
    missing_values: Mapping[str, object] | None = None,
) -> pd.DataFrame:
    """admiral `derive_vars_extreme_event`: the first or last, in `order`, of the candidate
    records of several events per by group, and the new variables it sets.

    The events are stacked (a loop over the few event definitions, not over records), each
    candidate numbered `tmp_event_nr_var` = 1, 2, ... by its event so that `order` can rank
    events (DTHCAUS: a fatal AE before a DS death record) or break ties (LSTALVDT: the latest
    date of any source). Every event sets every one of `new_vars`; it may set further working
    variables for `order` (the record's --SEQ). Groups without a candidate get
    `missing_values`, else nulls.
    """
    name = "derive_vars_extreme_event"
    _require(dataset, name, by_vars=by_vars)
    if not events:
        raise DerivationInputError(f"{name}: events is empty")
    candidates = []
    for number, event in enumerate(events, start=1):
        option = f"events[{number - 1}]"
        _require(event.dataset, f"{name}({option})", by_vars=by_vars, set_values_to=list(event.set_values_to.values()))
        unset = [v for v in new_vars if v not in event.set_values_to and v not in event.constants]
        if unset:
            raise DerivationInputError(f"{name}: {option} sets no value for new_vars {unset!r}")
        reads = [*by_vars, *event.set_values_to.values()]
        rows = _rows(event.dataset, event.condition, reads, name=name, option=f"{option}.condition")
        values = {**{b: rows[b] for b in by_vars}, **{n: rows[s] for n, s in event.set_values_to.items()}}
        candidate = pd.DataFrame(values).assign(**event.constants, **{tmp_event_nr_var: number})
        # Each event's own first or last per by group first: the extreme of the stacked events
        # is the extreme of theirs (ties are broken by event order either way), and stacking
        # every candidate (LSTALVDT: each administration's start and end) costs memory. An
        # order variable the event does not set is missing for all its records.
        own_order = [item for item in order if _order_columns([item])[0][0] in candidate.columns]
        candidates.append(candidate.iloc[_extremes(candidate, by_vars=by_vars, order=own_order, mode=mode)])
    stacked = pd.concat(candidates, ignore_index=True)
    _require(stacked, f"{name}(candidates)", order=_order_columns(order)[0])
    rows = _select(stacked, name=name, by_vars=by_vars, reads=new_vars, filter_add=None, order=order, mode=mode)
    values = rows[[*by_vars, *new_vars]]
    return _merge_new(dataset, values, name=name, by_vars=by_vars, new=list(new_vars), missing_values=missing_values)


def derive_vars_joined(
    dataset: pd.DataFrame,
    dataset_add: pd.DataFrame,
    *,
    by_vars: Sequence[str],
    new_vars: Mapping[str, str] | Sequence[str],
    join_var: str,
    join_var_add: str,
    filter_add: Condition | None = None,
    mode: Mode = "last",
) -> pd.DataFrame:
    """admiral `derive_vars_joined` for the common case of a record *in time*: the latest
    `dataset_add` record whose `join_var_add` is on or before the record's `join_var`
    (`mode="last"`: `filter_join = join_var_add <= join_var`, order by `join_var_add`), or the
    earliest on or after it (`mode="first"`). An as-of join per by group, no record loop;
    records without `join_var` get nulls. The cycle of onset of an AE is the latest cycle
    started on or before the onset."""
    name = "derive_vars_joined"
    new = _new_vars(new_vars)
    _require(dataset, name, by_vars=by_vars, join_var=join_var)
    _require(
        dataset_add, f"{name}(dataset_add)", by_vars=by_vars, join_var_add=join_var_add, new_vars=list(new.values())
    )
    clash = [v for v in new if v in dataset.columns]
    if clash:
        raise DerivationInputError(f"{name}: the dataset already has new_vars {clash!r}")
    key, key_add, row = "__key__", "__key_add__", "__row__"
    reads = [*by_vars, join_var_add, *new.values()]
    rows = _rows(dataset_add, filter_add, reads, name=name, option="filter_add")
    right = pd.DataFrame({**{b: rows[b] for b in by_vars}, key_add: rows[join_var_add]}, index=rows.index)
    right = right.assign(**{n: rows[s] for n, s in new.items()}).dropna(subset=[key_add])
    left = pd.DataFrame({**{b: dataset[b] for b in by_vars}, key: dataset[join_var], row: np.arange(len(dataset))})
    left = left.dropna(subset=[key])
    for column in by_vars:  # as-of joins need identical key types
        if pd.api.types.is_string_dtype(left[column]) or pd.api.types.is_string_dtype(right[column]):
            left[column], right[column] = left[column].astype("string"), right[column].astype("string")
    right[key_add] = right[key_add].astype(left[key].dtype)
    matched = pd.merge_asof(
        left.sort_values(key, kind="stable"),
        right.sort_values(key_add, kind="stable"),
        left_on=key,
        right_on=key_add,
        by=list(by_vars),
        direction="backward" if mode == "last" else "forward",
    ).set_index(row)
    values = matched[list(new)].reindex(np.arange(len(dataset))).set_axis(dataset.index)
    return dataset.assign(**values)


def derive_vars_predecessor(
    dataset: pd.DataFrame,
    *,
    predecessors: Mapping[str, str],
    sources: Mapping[str, pd.DataFrame],
    by: Sequence[str] = ("USUBJID",),
) -> pd.DataFrame:
    """Copy variables from their predecessor (`{"TRTA": "ADSL.TRT01A"}`, ADaMIG 1.3 3.1.1).

    A source that is not the dataset's own base (listed in `sources`) is joined on `by`;
    sources are one record per `by` group, as ADSL is per subject.
    """
    result = dataset
    for source_name, source in sources.items():
        wanted = {new: ref.split(".", 1)[1] for new, ref in predecessors.items() if ref.split(".", 1)[0] == source_name}
        if not wanted:
            continue
        _require(source, f"derive_vars_predecessor({source_name})", predecessors=list(wanted.values()))
        keys = [k for k in by if k in result.columns]
        if source is dataset or not keys:  # the same records: copied by position, dtype kept
            result = result.assign(
                **{new: pd.Series(source[old].array, index=result.index) for new, old in wanted.items()}
            )
            continue
        values = pd.DataFrame({new: source[old] for new, old in wanted.items()})
        values[keys] = source[keys]
        result = _per_subject(result, values.drop_duplicates(keys), by=keys)
    return result


def derive_vars_suppqual(
    dataset: pd.DataFrame, supp: pd.DataFrame, *, qnams: Sequence[str], idvar: str = "AESEQ"
) -> pd.DataFrame:
    """Merge supplemental qualifiers back onto their parent records, one column per QNAM.

    ADaMIG 1.3 section 3.1.1: a SUPP-- qualifier used in analysis keeps its QNAM as the
    variable name (so the QNAMs are the output names). Parent and SUPP-- records are matched
    on USUBJID and IDVAR/IDVARVAL. Every QNAM in `qnams` becomes a column, null where no
    SUPP-- record exists.
    """
    _require(dataset, "derive_vars_suppqual", idvar=idvar)
    _require(supp, "derive_vars_suppqual(SUPP)", supp=["USUBJID", "IDVAR", "IDVARVAL", "QNAM", "QVAL"])
    rows = supp[text_or_null(supp["IDVAR"]) == idvar]
    wide = (
        pd.DataFrame(
            {
                "USUBJID": rows["USUBJID"],
                idvar: parse_numbers(rows["IDVARVAL"]),
                "QNAM": text_or_null(rows["QNAM"]),
                "QVAL": text_or_null(rows["QVAL"]),
            }
        )
        .drop_duplicates(["USUBJID", idvar, "QNAM"])
        .pivot(index=["USUBJID", idvar], columns="QNAM", values="QVAL")
        .reindex(columns=list(qnams))
        .reset_index()
    )
    wide.columns.name = None
    keyed = dataset.assign(**{idvar: pd.to_numeric(dataset[idvar], errors="coerce")})
    return _per_subject(keyed, wide, by=["USUBJID", idvar])


# --- flags ------------------------------------------------------------------------------------


def derive_var_extreme_flag(
    dataset: pd.DataFrame,
    *,
    by_vars: Sequence[str],
    order: Order,
    new_var: str,
    mode: Mode = "first",
    filter: Condition | None = None,
    true_value: str | None = FLAG_Y,
    false_value: str | None = None,
) -> pd.DataFrame:
    """admiral `derive_var_extreme_flag` (inside `restrict_derivation(filter = ...)`): flag
    the first or last record per by group in `order` (missing values sort last, ties keep the
    record order; `desc(column)` sorts that column descending) among the records `filter`
    selects; the others in the filter get `false_value`, records outside it stay null. ADaM
    OCCDS 1st-occurrence flags: AOCCFL, AOCCSFL, AOCCPFL are the first treatment-emergent
    record per subject, SOC or term in onset order; AOCCIFL, AOCCSIFL, AOCCPIFL the first of
    the worst grade (`order=[desc("ATOXGRN"), "ASTDT", "AESEQ"]`)."""
    name = "derive_var_extreme_flag"
    columns = _order_columns(order)[0]
    _require(dataset, name, by_vars=by_vars, order=columns)
    scope = _mask(dataset, filter, name=name, option="filter")
    eligible = dataset[list(dict.fromkeys([*by_vars, *columns]))].set_axis(np.arange(len(dataset)))[scope.to_numpy()]
    chosen = np.zeros(len(dataset), dtype=bool)
    chosen[eligible.index[_extremes(eligible, by_vars=by_vars, order=order, mode=mode)]] = True
    chosen = pd.Series(chosen, index=dataset.index)
    return dataset.assign(**{new_var: _flag(chosen, true_value=true_value, false_value=false_value, scope=scope)})


def derive_var_flag(
    dataset: pd.DataFrame,
    *,
    condition: Condition,
    new_var: str,
    true_value: str | None = FLAG_Y,
    false_value: str | None = None,
) -> pd.DataFrame:
    """A record-level flag from a condition on the record's own variables (ADaMIG: Y/null
    flags such as AEDISFL = Y when AEACN = DRUG WITHDRAWN; admiral `mutate(if_else(...))`)."""
    mask = _mask(dataset, condition, name="derive_var_flag", option="condition")
    return dataset.assign(**{new_var: _flag(mask, true_value=true_value, false_value=false_value)})


def derive_var_trtemfl(
    dataset: pd.DataFrame,
    *,
    start_date: str = "ASTDT",
    end_date: str = "AENDT",
    first_dose: str = "TRTSDT",
    last_dose: str = "TRTEDT",
    window_days: int | None = None,
    new_var: str = "TRTEMFL",
) -> pd.DataFrame:
    """Treatment-emergent flag (FORMAT.md "Conventions"; admiral `derive_var_trtemfl` with
    `end_window`), first match wins:

    1. patient never dosed -> null;
    2. start missing -> Y, unless the event ended before the first dose (emergence cannot be
       ruled out otherwise);
    3. first dose <= start <= last dose + `window_days` -> Y (no window, or a missing last
       dose, leaves the window open);
    4. otherwise null.
    """
    _require(
        dataset,
        "derive_var_trtemfl",
        start_date=start_date,
        end_date=end_date,
        first_dose=first_dose,
        last_dose=last_dose,
    )
    start, first = dataset[start_date], dataset[first_dose]
    if window_days is None:
        window_end = pd.Series(pd.NaT, index=dataset.index, dtype=start.dtype)
    else:
        window_end = dataset[last_dose] + pd.Timedelta(days=window_days)
    unknown_start = start.isna() & ~(dataset[end_date] < first)
    in_window = (start >= first) & ((start <= window_end) | window_end.isna())
    emergent = first.notna() & (unknown_start | in_window)
    return dataset.assign(**{new_var: _flag(emergent)})


def derive_var_prefl(
    dataset: pd.DataFrame,
    *,
    start_date: str = "ASTDT",
    first_dose: str = "TRTSDT",
    new_var: str = "PREFL",
) -> pd.DataFrame:
    """Pre-treatment flag (ADaMIG OCCDS PREFL): onset before the first dose, or a patient
    never dosed, so that TRTEMFL and PREFL together account for every dated event."""
    _require(dataset, "derive_var_prefl", start_date=start_date, first_dose=first_dose)
    start, first = dataset[start_date], dataset[first_dose]
    before = (start < first) | (first.isna() & start.notna())
    return dataset.assign(**{new_var: _flag(before)})


# --- dates and durations ---------------------------------------------------------------------


def derive_vars_dt(
    dataset: pd.DataFrame,
    *,
    dtc: str,
    new_var: str,
    flag_var: str | None = None,
    date_imputation: Literal["first", "mid", "last"] | None = None,
    highest_imputation: Literal["D", "M"] = "M",
    min_dates: Sequence[str] = (),
    max_dates: Sequence[str] = (),
    not_after: Sequence[str] = (),
) -> pd.DataFrame:
    """admiral `derive_vars_dt`: an ISO 8601 --DTC as a numeric analysis date.

    Without `date_imputation` only complete dates count (admiral `highest_imputation = "n"`:
    TRTEDT from RFXENDTC). With it, a partial date becomes the first, middle or last day it
    allows, a missing month too unless `highest_imputation="D"` (admiral's levels "M", "D"),
    moved to a `min_dates` / `max_dates`
    date inside that period (admiral's rule: an onset in the month of the first dose is
    imputed to the first dose, an end in the month of death to the death), and never after a
    `not_after` date (an onset never after the complete end of the same event, even if that
    end lies before the period; then the period's first day). `flag_var` gets the ADaM
    imputation flag (D or M, ADaMIG 1.3 section 3.1.3).
    """
    _require(dataset, "derive_vars_dt", dtc=dtc, min_dates=min_dates, max_dates=max_dates, not_after=not_after)
    if date_imputation is None:
        date = complete_date(dataset[dtc])
        flag = pd.Series(pd.NA, index=dataset.index, dtype="string")
    else:
        date, flag = impute_date(
            dataset[dtc],
            to=date_imputation,
            highest=highest_imputation,
            min_dates=[dataset[c] for c in min_dates],
            max_dates=[dataset[c] for c in max_dates],
            not_after=[dataset[c] for c in not_after],
        )
    return dataset.assign(**{new_var: date, **({flag_var: flag} if flag_var else {})})


def derive_vars_duration(
    dataset: pd.DataFrame,
    *,
    new_var: str,
    start_date: str,
    end_date: str,
    out_unit: Literal["days", "years"] = "days",
    add_one: bool = True,
    new_var_unit: str | None = None,
) -> pd.DataFrame:
    """admiral `derive_vars_duration` in whole units: days (both ends counted with
    `add_one`, as TRTDURD and ADURN) or completed years of 365.25 days (floored, as an age:
    DIAGYRS). `new_var_unit` gets the unit as CDISC CT's codelist UNIT spells it (DAYS, YEARS:
    submission values are upper case), where the duration is known and null where it is not;
    admiral writes the unit as its call spells out_unit (default "DAYS")."""
    _require(dataset, "derive_vars_duration", start_date=start_date, end_date=end_date)
    days = (dataset[end_date] - dataset[start_date]).dt.days + (1 if add_one else 0)
    whole = (days if out_unit == "days" else np.floor(days / 365.25)).astype("Int64")
    unit = {}
    if new_var_unit is not None:
        unit[new_var_unit] = pd.Series(out_unit.upper(), index=dataset.index, dtype="string").where(whole.notna())
    return dataset.assign(**{new_var: whole}, **unit)


def derive_var_trtdurd(
    dataset: pd.DataFrame, *, start_date: str = "TRTSDT", end_date: str = "TRTEDT", new_var: str = "TRTDURD"
) -> pd.DataFrame:
    """admiral `derive_var_trtdurd`: treatment duration in days, both ends included (ADaMIG
    TRTDURD = TRTEDT - TRTSDT + 1)."""
    return derive_vars_duration(dataset, new_var=new_var, start_date=start_date, end_date=end_date, add_one=True)


def derive_var_relative_day(
    dataset: pd.DataFrame, *, date: str, new_var: str, reference: str = "TRTSDT"
) -> pd.DataFrame:
    """Analysis relative day (ASTDY/AENDY, admiral `derive_vars_dy`): day 1 is the
    reference date, the day before is -1, there is no day 0 (ADaMIG 1.3 section 3.3.3)."""
    _require(dataset, "derive_var_relative_day", date=date, reference=reference)
    return dataset.assign(**{new_var: relative_day(dataset[date], dataset[reference])})


# --- values from the record's own variables ---------------------------------------------------


def derive_vars_group(
    dataset: pd.DataFrame,
    *,
    source: str,
    breaks: Sequence[float],
    labels: Sequence[str],
    new_var: str,
    new_var_n: str | None = None,
) -> pd.DataFrame:
    """A grouping variable and its numeric code (ADaMIG *GRy / *GRyN, e.g. AGEGR1/AGEGR1N)
    from left-closed intervals: `breaks=(65, 75)` gives [-inf, 65), [65, 75), [75, inf),
    labelled in order and coded 1, 2, 3; a missing value stays missing. The groups are the
    study's (admiral `derive_vars_cat` keeps its definition table at the call site too)."""
    if len(labels) != len(breaks) + 1:
        raise DerivationInputError(f"derive_vars_group: {len(breaks)} breaks need {len(breaks) + 1} labels")
    _require(dataset, "derive_vars_group", source=source)
    values = pd.to_numeric(dataset[source], errors="coerce")
    numbers = values.to_numpy(dtype=float, na_value=np.nan)
    code = pd.Series(np.searchsorted(np.asarray(breaks, dtype=float), numbers, side="right") + 1, index=dataset.index)
    code = code.where(values.notna()).astype("Int64")
    label = code.map(dict(enumerate(labels, start=1))).astype("string")
    return dataset.assign(**{new_var: label, **({new_var_n: code} if new_var_n else {})})


def derive_var_conditional(
    dataset: pd.DataFrame,
    *,
    new_var: str,
    condition: Condition,
    true_var: str,
    false_var: str,
    filter: Condition | None = None,
) -> pd.DataFrame:
    """`true_var` where the condition holds, else `false_var`; null outside `filter`
    (admiral: `mutate(if_else(...))` inside `restrict_derivation`). The end of a patient's
    bar in a swimmer plot is the end of treatment for a discontinuation, else the data
    cut-off (DCUTDT), for dosed patients only."""
    name = "derive_var_conditional"
    _require(dataset, name, true_var=true_var, false_var=false_var)
    holds = _mask(dataset, condition, name=name, option="condition")
    scope = _mask(dataset, filter, name=name, option="filter")
    values = dataset[true_var].where(holds, dataset[false_var])
    return dataset.assign(**{new_var: values.where(scope)})


def derive_var_case(
    dataset: pd.DataFrame,
    *,
    new_var: str,
    cases: Sequence[Mapping[str, object]],
    default: object = None,
) -> pd.DataFrame:
    """admiral `mutate(case_when(...))`: the `value` of the first of `cases` whose
    `condition` holds, else `default`. A value is a constant, None (missing) or
    `{"variable": name}`, the record's own value of that variable: EOSSTT is COMPLETED,
    missing for a screen failure, else DISCONTINUED; RACEGR1 and REGION1 pool codes."""
    name = "derive_var_case"
    values = _case_value(dataset, default, name=name, option="default")
    decided = pd.Series(False, index=dataset.index)
    for number, case in enumerate(cases):
        option = f"cases[{number}]"
        if "condition" not in case:
            raise DerivationInputError(f"{name}: {option} has no condition")
        holds = _mask(dataset, case["condition"], name=name, option=f"{option}.condition") & ~decided  # type: ignore[arg-type]
        values = values.mask(holds, _case_value(dataset, case.get("value"), name=name, option=f"{option}.value"))
        decided |= holds
    return dataset.assign(**{new_var: values})


def _case_value(dataset: pd.DataFrame, value: object, *, name: str, option: str) -> pd.Series:
    """A case's value on every record: another variable's values or a constant."""
    if isinstance(value, Mapping):
        _require(dataset, name, **{option: [str(value["variable"])]})
        source = dataset[str(value["variable"])]
        return text_or_null(source) if not pd.api.types.is_numeric_dtype(source) else source
    if value is None:
        return pd.Series(pd.NA, index=dataset.index, dtype="string")
    if isinstance(value, str):
        return pd.Series(value, index=dataset.index, dtype="string")
    return pd.Series(value, index=dataset.index)


def derive_var_constant(dataset: pd.DataFrame, *, new_var: str, value: object) -> pd.DataFrame:
    """One value on every record, from the study's parameters: the data cut-off (admiral's
    DCUTDTC) that EOPDT ends the figure's bars at."""
    return dataset.assign(**{new_var: value})


def derive_vars_cycle_day(
    dataset: pd.DataFrame, *, visitnum: str = "VISITNUM", divisor: int, new_var: str, new_var_day: str
) -> pd.DataFrame:
    """The treatment cycle and the day within it of a visit numbered `divisor` x cycle + day
    (the CUP's SDTM numbers its visits so): VISITNUM integer-divided by the divisor and its
    remainder. A study whose visits are not numbered so does not ask for it."""
    _require(dataset, "derive_vars_cycle_day", visitnum=visitnum)
    number = pd.to_numeric(dataset[visitnum], errors="coerce")
    return dataset.assign(
        **{new_var: (number // divisor).astype("Int64"), new_var_day: (number % divisor).astype("Int64")}
    )


def derive_var_copy(
    dataset: pd.DataFrame, *, source: str, new_var: str, missing_value: str | None = None
) -> pd.DataFrame:
    """A character variable as an analysis variable (blank = missing), a missing value
    replaced by `missing_value`: AREL from AEREL with a missing causality analysed as
    RELATED (worst case, so a related event is never under-reported); AESIFL from SUPPAE.AESI."""
    _require(dataset, "derive_var_copy", source=source)
    text = text_or_null(dataset[source])
    return dataset.assign(**{new_var: text if missing_value is None else text.fillna(missing_value)})


def derive_var_formatted(dataset: pd.DataFrame, *, source: str, new_var: str, template: str) -> pd.DataFrame:
    """A character version of a variable, `template` with one `{}` for the value (ACYCLE
    "CYCLE 2" from ACYCLEN 2: ADaMIG pairs of a character and a numeric variable); missing
    stays missing."""
    if template.count("{}") != 1:
        raise DerivationInputError(f"derive_var_formatted: template {template!r} needs exactly one {{}}")
    _require(dataset, "derive_var_formatted", source=source)
    prefix, suffix = template.split("{}")
    return dataset.assign(**{new_var: (prefix + dataset[source].astype("string") + suffix).astype("string")})


def derive_var_code(dataset: pd.DataFrame, *, source: str, codes: Mapping[str, int], new_var: str) -> pd.DataFrame:
    """The numeric code of a character variable (ADaMIG pairs such as TRT01P/TRT01PN), from
    the study's table of codes (admiral: `mutate(TRT01PN = case_when(...))`). A missing value
    stays missing; a value without a code is an error, since a null code would silently drop
    the record from every analysis by the numeric variable."""
    name = "derive_var_code"
    _require(dataset, name, source=source)
    text = text_or_null(dataset[source])
    unknown = sorted(set(text.dropna().unique()) - set(codes))
    if unknown:
        raise DerivationInputError(f"{name}: {source} has values without a code: {unknown!r}; codes: {dict(codes)!r}")
    return dataset.assign(**{new_var: text.map(dict(codes)).astype("Int64")})


def derive_var_planned_dose(
    dataset: pd.DataFrame,
    *,
    cycle: str,
    day: str,
    dose: float,
    first_cycle_days: Sequence[int],
    later_cycle_days: Sequence[int],
    new_var: str,
) -> pd.DataFrame:
    """The cumulative dose a schedule plans from cycle 1 day 1 up to and including day `day`
    of cycle `cycle` (the last administration): `dose` on each of `first_cycle_days` in
    cycle 1 and `later_cycle_days` in every later cycle, whole cycles before `cycle` and the
    planned days up to `day` in it. Ending the planned period at the last administration
    makes the relative dose intensity measure missed and reduced doses while on the drug,
    not how long the patient stayed on it (that is the number of cycles and TRTDURD). A
    missing cycle or day gives a missing planned dose."""
    name = "derive_var_planned_dose"
    _require(dataset, name, cycle=cycle, day=day)
    if not first_cycle_days or not later_cycle_days:
        raise DerivationInputError(f"{name}: first_cycle_days and later_cycle_days must each name a day")
    cycles = pd.to_numeric(dataset[cycle], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    days = pd.to_numeric(dataset[day], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    first = np.sort(np.asarray(first_cycle_days, dtype=float))
    later = np.sort(np.asarray(later_cycle_days, dtype=float))
    whole_cycles = np.where(cycles > 1, len(first) + (cycles - 2) * len(later), 0)
    in_cycle = np.where(
        cycles > 1, np.searchsorted(later, days, side="right"), np.searchsorted(first, days, side="right")
    )
    planned = pd.Series(dose * (whole_cycles + in_cycle), index=dataset.index)
    return dataset.assign(**{new_var: planned.where(~np.isnan(cycles) & ~np.isnan(days))})


def derive_var_percent(dataset: pd.DataFrame, *, numerator: str, denominator: str, new_var: str) -> pd.DataFrame:
    """100 x numerator / denominator (a relative dose intensity: actual / planned dose);
    missing when either is missing or the denominator is not positive."""
    _require(dataset, "derive_var_percent", numerator=numerator, denominator=denominator)
    top = pd.to_numeric(dataset[numerator], errors="coerce").astype("float64")
    bottom = pd.to_numeric(dataset[denominator], errors="coerce").astype("float64")
    return dataset.assign(**{new_var: (100 * top / bottom).where(bottom > 0)})


def derive_vars_atoxgr(
    dataset: pd.DataFrame, *, grade: str = "AETOXGR", new_var: str = "ATOXGR", new_var_n: str = "ATOXGRN"
) -> pd.DataFrame:
    """ATOXGR/ATOXGRN (ADaMIG OCCDS): the collected NCI CTCAE grade, character and numeric
    (no regrading from lab values: the grade is collected on the AE form)."""
    _require(dataset, "derive_vars_atoxgr", grade=grade)
    text = text_or_null(dataset[grade])
    return dataset.assign(**{new_var: text, new_var_n: pd.to_numeric(text, errors="coerce").astype("Int64")})


CATALOGUE: dict[str, Callable[..., pd.DataFrame]] = {
    function.__name__: function
    for function in (
        derive_vars_merged,
        derive_var_merged_exist_flag,
        derive_vars_merged_summary,
        derive_vars_extreme_event,
        derive_vars_joined,
        derive_vars_predecessor,
        derive_vars_suppqual,
        derive_var_extreme_flag,
        derive_var_flag,
        derive_var_trtemfl,
        derive_var_prefl,
        derive_vars_dt,
        derive_vars_duration,
        derive_var_trtdurd,
        derive_var_relative_day,
        derive_vars_group,
        derive_var_conditional,
        derive_var_case,
        derive_var_constant,
        derive_vars_cycle_day,
        derive_var_copy,
        derive_var_formatted,
        derive_var_code,
        derive_var_planned_dose,
        derive_var_percent,
        derive_vars_atoxgr,
        summarise,
    )
}
