"""`Match Datasets`: the other datasets CORE joins to a dataset's records before a check.

Ported from CORE's `DatasetPreprocessor` and `DataProcessor` (cdisc_rules_engine/utilities/)
so that the joined frame has the rows and the column names CORE's checks see:

- another domain on `Keys` (`USUBJID`, or `Left`/`Right` pairs): an inner join (or `Join
  Type: left`); a column both have keeps the record's value and the other's arrives as
  `NAME.DM`, except columns the rule names `DM.NAME`, which arrive under that name;
- SUPP-- (not `Child`): the QNAM/QVAL pairs pivoted into columns, joined on the identifiers
  and on the variable IDVAR names (IDVARVAL against it, numbers compared as numbers);
- `Child: true` with IDVAR/IDVARVAL keys, run on SUPP--, CO or RELREC: each record gets the
  parent record its USUBJID, IDVAR and IDVARVAL point at (the first one; none if no match);
- RELREC (with `Wildcard`): every pair of related records, the related record's variables
  named `RELREC.` plus the variable with its domain prefix replaced by the wildcard.

The frame keeps the record positions of the dataset checked as its index, so a finding on a
joined row is still reported on the record it came from.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pandas.arrays import ArrowExtensionArray

from cdisc_cup.rules.core.identity import (
    DatasetIdentity,
    NotEvaluated,
    blank_as_missing,
    derived,
    identify,
    identities,
    present,
)
from cdisc_cup.rules.core.library import model_wildcard_variables
from cdisc_cup.rules.model import Study
from cdisc_cup.xpt.model import Dataset

SUPP_STATIC_KEYS = ("STUDYID", "USUBJID", "APID", "POOLID", "SPDEVID")
IDVAR_KEYS = frozenset({"IDVAR", "IDVARVAL"})
_POSITION = "__record_position"


class MergeError(NotEvaluated):
    """The data cannot be joined as the rule asks (CORE stops the rule with a preprocessing error)."""


class MissingKeyError(KeyError):
    """A `Match Datasets` key the data lack (CORE skips the dataset). `own` are the keys the
    checked dataset's records lack, as opposed to the matched dataset's: whether the checked
    dataset could have them decides if the skip is worth a note (frames.rule_frames)."""

    def __init__(self, own: Sequence[str], matched: Sequence[str]) -> None:
        super().__init__(f"Match Datasets key {', '.join([*own, *matched])} is not in the data")
        self.own = tuple(own)


@dataclass(frozen=True)
class MatchKey:
    left: str  # in the dataset checked
    right: str  # in the matched dataset


@dataclass(frozen=True)
class MatchDataset:
    name: str
    keys: tuple[MatchKey, ...]
    child: bool = False
    join_type: str = "inner"
    wildcard: str = "**"

    @classmethod
    def from_rule(cls, entry: Mapping[str, Any]) -> MatchDataset:
        keys = tuple(
            MatchKey(key, key) if isinstance(key, str) else MatchKey(str(key["Left"]), str(key["Right"]))
            for key in entry.get("Keys") or ()
        )
        return cls(
            name=str(entry["Name"]),
            keys=keys,
            child=bool(entry.get("Child", False)),
            join_type=str(entry.get("Join Type", "inner")),
            wildcard=str(entry.get("Wildcard", "**")),
        )

    @classmethod
    def from_model(cls, entry: Any) -> MatchDataset:
        """From the loaded rule's entry (`cdisc_cup.rules.core.model.MatchDataset`)."""
        return cls.from_rule(
            {
                "Name": entry.name,
                "Keys": list(entry.keys),
                "Child": entry.child,
                "Join Type": entry.join_type,
                "Wildcard": entry.wildcard or "**",
            }
        )

    @property
    def has_idvar_keys(self) -> bool:
        return any(key.left in IDVAR_KEYS for key in self.keys)


def merge_match_datasets(
    frame: pd.DataFrame,
    dataset: Dataset,
    study: Study,
    matches: Sequence[MatchDataset],
    referenced: frozenset[str],
    named: frozenset[str] | None = None,
) -> pd.DataFrame:
    """The dataset's records with every `Match Datasets` entry joined, in the rule's order.
    `named`: of a dataset joined on keys, only the columns arriving under one of these names
    (`--X`: any name ending in X) and the keys are brought (None: all of them)."""
    current = identify(dataset)
    result = frame
    merged_domains: set[str | None] = set()
    for match in matches:
        others = _child_parents(result, current, match, study) if match.child else _matched(current, match, study)
        for other, other_identity in others:
            key = other_identity.domain if match.child else (other_identity.domain or other_identity.name)
            if other_identity.domain in merged_domains:
                continue
            right = _rename_referenced(other.frame, match.name, referenced)
            if match.child:
                result = _child_merge(result, current, right, other_identity, match)
            elif match.name == "RELREC":
                result = _merge_relrec(result, current, right, study, match.wildcard)
            elif match.name.startswith(("SUPP", "SQ")):
                result = _merge_supp(result, right)
            else:
                result = _merge_on_keys(result, current, right, match, named, study)
            merged_domains.add(key)
    return result


def _matched(current: DatasetIdentity, match: MatchDataset, study: Study) -> list[tuple[Dataset, DatasetIdentity]]:
    if match.name == current.unsplit_name:  # a split dataset is not matched with itself
        return []
    target = current.domain or current.name
    return [
        (other, found)
        for other, found in identities(study)
        if found.domain == match.name
        or found.name == match.name
        or found.unsplit_name == match.name
        or (match.name == "SUPP--" and not current.is_supp and found.rdomain == target)
    ]


def _child_parents(
    frame: pd.DataFrame, current: DatasetIdentity, match: MatchDataset, study: Study
) -> list[tuple[Dataset, DatasetIdentity]]:
    """The parent datasets of a relationship dataset: SUPP--'s RDOMAIN, or CO's/RELREC's."""
    if match.name[:4] in ("SUPP", "SQAP") and current.is_supp and current.rdomain:
        if match.name in ("SUPP--", current.name):
            return [(other, found) for other, found in identities(study) if found.domain == current.rdomain]
        return []
    if match.name not in (current.domain, current.name):
        return []
    if "RDOMAIN" in frame.columns:
        wanted = set(blank_as_missing(frame["RDOMAIN"]).dropna().unique())
        return [(other, found) for other, found in identities(study) if found.domain in wanted]
    lefts = [key.left for key in match.keys]
    return [(other, found) for other, found in identities(study) if all(k in other.frame.columns for k in lefts)]


def _rename_referenced(frame: pd.DataFrame, name: str, referenced: frozenset[str]) -> pd.DataFrame:
    """Columns the rule names NAME.COLUMN take that name before the join."""
    prefix = f"{name}."
    wanted = {target[len(prefix) :] for target in referenced if target.startswith(prefix)}
    return frame.rename(columns={column: f"{prefix}{column}" for column in frame.columns if column in wanted})


def _sided(match: MatchDataset, side: str, domain: str | None) -> list[str]:
    return [getattr(key, side).replace("--", domain or "") for key in match.keys]


def _merge_on_keys(
    left: pd.DataFrame,
    current: DatasetIdentity,
    right: pd.DataFrame,
    match: MatchDataset,
    named: frozenset[str] | None = None,
    study: Study | None = None,
) -> pd.DataFrame:
    left_keys = _sided(match, "left", current.domain)
    right_keys = _sided(match, "right", match.name)
    own = [k for k in left_keys if k not in left.columns]
    matched = [k for k in right_keys if k not in right.columns]
    if own or matched:
        raise MissingKeyError(own, matched)
    how = "left" if match.join_type == "left" else "inner"
    suffix = f".{match.name}"
    if named is not None:
        arriving = {c: f"{c}{suffix}" if c in left.columns else c for c in right.columns}
        right = right[[c for c in right.columns if c in right_keys or _is_named(arriving[c], named)]]
    onto_one = _onto_one_record(left, right, left_keys, right_keys, how, suffix, study)
    if onto_one is not None:
        return onto_one
    positions = left.index
    merged = left.reset_index(names=_POSITION).merge(
        right, how=how, left_on=left_keys, right_on=right_keys, suffixes=("", suffix)
    )
    merged.index = pd.Index(merged.pop(_POSITION), name=positions.name)
    return merged


def _is_named(column: str, named: frozenset[str]) -> bool:
    return column in named or any(name.startswith("--") and column.endswith(name[2:]) for name in named)


def _onto_one_record(
    left: pd.DataFrame,
    right: pd.DataFrame,
    left_keys: list[str],
    right_keys: list[str],
    how: str,
    suffix: str,
    study: Study | None = None,
) -> pd.DataFrame | None:
    """pandas' merge where each record matches at most one record of `right` (DM on USUBJID),
    without copying the records: their columns are kept as they are and only `right`'s are
    taken, by position. DM joined onto every dataset of 100,000 patients is 5.6 million rows;
    merge copies each dataset's columns besides DM's, and hashes the keys on both sides.

    The same rows (in record order), columns, names and dtypes as `_merge_on_keys`' merge;
    None (merge them) when right's keys repeat, a key is missing, the key types differ, or a
    left join leaves a record without a match (its DM columns would change dtype). With the
    `study` of the run, where the records are in `right` is worked out once per key column."""
    pairs = list(zip(left_keys, right_keys, strict=True))
    if any(left[lk].dtype != right[rk].dtype for lk, rk in pairs):
        return None
    # the same Arrow key columns (USUBJID of EX and of DM) are joined by many rules: their
    # positions are remembered for the run, and so are the columns taken by them
    arrays = _arrow_arrays(left[left_keys[0]], right[right_keys[0]]) if len(pairs) == 1 else None
    if study is not None and arrays is not None:
        found = remembered_positions(arrays, left[left_keys[0]], right[right_keys[0]], study)
    else:
        found = _positions_in(right[right_keys], left[left_keys], study)
    if found is None:
        return None
    matched = found >= 0
    if how == "left" and not matched.all():
        return None
    # The names merge gives: a right column sharing a left column's name gets the suffix,
    # except a key with the same name on both sides, which merge keeps once (left's values).
    joint_keys = {rk for lk, rk in pairs if lk == rk}
    names = {c: f"{c}{suffix}" if c in left.columns else c for c in right.columns if c not in joint_keys}
    if set(names.values()) & set(left.columns) or len(set(names.values())) != len(names):
        return None
    if matched.all() and study is not None and arrays is not None:  # each DM column taken once
        taken = pd.DataFrame({names[column]: _taken(right[column], found, study) for column in names}, index=left.index)
        return pd.concat([left, taken], axis=1)
    kept = left if matched.all() else left.iloc[np.flatnonzero(matched)]
    taken = right[list(names)].iloc[found[matched]].set_axis(kept.index).rename(columns=names)
    return pd.concat([kept, taken], axis=1)


# The matched dataset's columns taken onto the records of the dataset the rules are on (the
# rules joining DM onto EX read DM.RFSTDTC by the same positions): kept until `frames.release`.
TAKEN_ONTO_RECORDS = "taken onto records"


def _taken(column: pd.Series, found: np.ndarray, study: Study) -> Any:
    """The column's values at `found` (remembered positions, every one a record's match): once
    per dataset for the same positions and the same Arrow array, each time for other columns."""
    if not isinstance(column.array, ArrowExtensionArray):
        return column.array.take(found)
    values = column.array.__arrow_array__()
    key = (TAKEN_ONTO_RECORDS, id(found), id(values))
    return derived(study, key, lambda: (found, values, column.array.take(found)))[2]


def _positions_in(right: pd.DataFrame, left: pd.DataFrame, study: Study | None = None) -> np.ndarray | None:
    """Where each left record's keys are among right's records (-1: nowhere); None when a
    key is missing or right's keys repeat (a join that is not onto one record)."""
    if len(right.columns) == 1:
        return key_positions(left.iloc[:, 0], right.iloc[:, 0], study)
    if left.isna().to_numpy().any() or right.isna().to_numpy().any():
        return None
    keyed = pd.MultiIndex.from_frame(right)
    return keyed.get_indexer(pd.MultiIndex.from_frame(left)) if keyed.is_unique else None


def key_positions(left: pd.Series, right: pd.Series, study: Study | None = None) -> np.ndarray | None:
    """Where each left value is among right's (-1: nowhere); None when a value is missing or
    right's repeat. Text is looked up by Arrow (a hash of right's values, no Python object);
    with the `study` of the run, whether right's values repeat is worked out once per column."""
    texts = [_arrow_text(values) for values in (left, right)]
    if texts[0] is not None and texts[1] is not None and texts[0].type == texts[1].type:
        lefts, rights = texts
        if lefts.null_count or not _distinct_keys(rights, study):
            return None
        if not len(lefts):  # the empty frame a rule is first tried on (frames._not_applicable)
            return np.empty(0, dtype=np.int32)
        return pc.index_in(lefts, value_set=rights).fill_null(-1).to_numpy()
    if left.isna().any() or right.isna().any():
        return None
    keyed = pd.Index(right)
    if not keyed.is_unique:
        return None
    codes, distinct = pd.factorize(left)  # each distinct key looked up once
    return keyed.get_indexer(distinct)[codes]


def _distinct_keys(keys: pa.ChunkedArray | pa.Array, study: Study | None) -> bool:
    def distinct() -> tuple[pa.ChunkedArray | pa.Array, bool]:
        return keys, not keys.null_count and len(pc.unique(keys)) == len(keys)

    return (distinct() if study is None else derived(study, ("distinct keys", id(keys)), distinct))[1]


def _arrow_text(values: pd.Series) -> pa.ChunkedArray | pa.Array | None:
    if not isinstance(values.array, ArrowExtensionArray):
        return None
    arrow = values.array.__arrow_array__()
    return arrow if pa.types.is_string(arrow.type) or pa.types.is_large_string(arrow.type) else None


def _arrow_arrays(*columns: pd.Series) -> list[Any] | None:
    """The Arrow arrays behind the columns (None unless every one has one)."""
    arrays = [values.array.__arrow_array__() for values in columns if isinstance(values.array, ArrowExtensionArray)]
    return arrays if len(arrays) == len(columns) else None


def remembered_positions(arrays: list[Any], left: pd.Series, right: pd.Series, study: Study) -> np.ndarray | None:
    """`key_positions` of two Arrow-backed key columns (`arrays`: theirs), worked out once per
    pair in a run: the rules joining DM on USUBJID select and rename the datasets' columns, but
    the Arrow arrays behind them are the same. The run's memo holds the arrays, so their ids
    stay theirs (and the positions' id, by which `_taken` remembers its columns)."""

    def positions() -> tuple[list[Any], np.ndarray | None]:
        found = key_positions(left, right, study)
        return arrays, None if found is None else found.astype(np.int32)  # 4 bytes a record, for the run

    return derived(study, ("onto one record", id(arrays[0]), id(arrays[1])), positions)[1]


# --- SUPP--: QNAM/QVAL pivoted onto the parent records -------------------------------------


def _numeric_key(values: pd.Series) -> pd.Series:
    """CORE's custom_str_conversion: 200.00 and "200" both become "200"."""
    as_number = pd.to_numeric(values, errors="coerce")
    text = values.astype("string").str.strip()
    whole = as_number.notna() & (as_number % 1 == 0)
    number_text = as_number.astype("Float64").astype("string")
    number_text = number_text.where(~whole, as_number.round().astype("Int64").astype("string"))
    return number_text.where(as_number.notna(), text).astype(object).where(values.notna(), None)


def _pivot(supp: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    """One row per group of `keys`, a column per QNAM holding its QVAL (first non-blank)."""
    groups = supp.groupby(list(keys), dropna=False, sort=True)
    wide = groups.first()  # first non-null per column, as CORE's aggregation
    for qnam in supp["QNAM"].dropna().unique():
        values = supp["QVAL"].where(supp["QNAM"] == qnam)
        wide[qnam] = values.groupby([supp[k] for k in keys], dropna=False, sort=True).first()
    return wide.drop(columns=[c for c in ("QNAM", "QVAL", "QLABEL") if c in wide.columns]).reset_index()


def _merge_supp(left: pd.DataFrame, supp: pd.DataFrame) -> pd.DataFrame:
    supp = supp.apply(blank_as_missing)
    qnams = list(supp["QNAM"].dropna().unique())
    idvars = supp["IDVAR"].unique() if "IDVAR" in supp.columns else np.array([None])
    if len(idvars) != 1:
        return _merge_supp_per_idvar(left, supp, qnams)
    group_columns = [c for c in supp.columns if c not in {"QNAM", "QVAL", "QLABEL"}]
    if supp.groupby([*group_columns, "QNAM"], dropna=False).size().gt(1).any():
        raise MergeError("Multiple records with the same QNAM match a single parent record")
    wide = _pivot(supp, group_columns)
    idvar = idvars[0]
    common = [k for k in SUPP_STATIC_KEYS if k in left.columns and k in wide.columns]
    joined_left = left.reset_index(names=_POSITION)
    if pd.isna(idvar) or str(idvar).strip() == "":
        wide = wide.drop(columns=[c for c in ("IDVAR", "IDVARVAL") if c in wide.columns])
    else:
        idvar = str(idvar)
        if idvar not in left.columns:
            raise KeyError(f"IDVAR {idvar} is not in the parent dataset")
        wide = wide.drop(columns=["IDVAR"]).rename(columns={"IDVARVAL": idvar})
        common.append(idvar)
        if pd.api.types.is_numeric_dtype(left[idvar]):
            joined_left[idvar] = _numeric_key(joined_left[idvar])
            wide[idvar] = _numeric_key(wide[idvar])
        else:
            wide[idvar] = wide[idvar].astype(left[idvar].dtype)
    merged = joined_left.merge(wide, how="left", on=common, suffixes=("", "_supp"))
    _check_one_qnam_per_record(merged, qnams, common)
    merged.index = pd.Index(merged.pop(_POSITION), name=left.index.name)
    for column in left.columns:  # the join key goes back to the record's own value
        if column in common:
            merged[column] = left[column].reindex(merged.index).to_numpy()
    return merged


def _merge_supp_per_idvar(left: pd.DataFrame, supp: pd.DataFrame, qnams: list[str]) -> pd.DataFrame:
    """SUPP-- whose records point at the parent by different variables: one join per IDVAR.
    As CORE does, the IDVAR column of the parent is compared (and left) as text."""
    result = left.reset_index(names=_POSITION)
    for idvar in supp["IDVAR"].unique():
        part = supp[supp["IDVAR"].eq(idvar) if pd.notna(idvar) else supp["IDVAR"].isna()]
        key = str(idvar)
        part = part.drop(columns=["IDVAR"]).rename(columns={"IDVARVAL": key})
        common = [k for k in SUPP_STATIC_KEYS if k in result.columns and k in part.columns] + [key]
        wide = _pivot(part, common)
        wide = wide.drop(columns=[c for c in wide.columns if c in result.columns and c not in common])
        if key not in result.columns:
            raise KeyError(f"IDVAR {key} is not in the parent dataset")
        result[key] = result[key].astype(str)
        wide[key] = wide[key].astype(str)
        result = result.merge(wide, how="left", on=common, suffixes=("", "_supp"))
    for qnam in qnams:
        if qnam in result.columns:
            idvar = supp.loc[supp["QNAM"] == qnam, "IDVAR"].iloc[0]
            keys = [k for k in SUPP_STATIC_KEYS if k in result.columns] + [str(idvar)]
            if result.dropna(subset=[qnam]).groupby(keys).size().gt(1).any():
                raise MergeError(f"Multiple records with the same QNAM '{qnam}' match a single parent record")
    result.index = pd.Index(result.pop(_POSITION), name=left.index.name)
    return result


def _check_one_qnam_per_record(merged: pd.DataFrame, qnams: list[str], keys: list[str]) -> None:
    for qnam in qnams:
        if qnam in merged.columns:
            present = merged.dropna(subset=[qnam])
            if len(present) and present.groupby(keys).size().gt(1).any():
                raise MergeError(f"Multiple records with the same QNAM '{qnam}' match a single parent record")


# --- Child: true: relationship records get the parent record they point at ----------------


def _child_merge(
    left: pd.DataFrame,
    current: DatasetIdentity,
    parent: pd.DataFrame,
    parent_identity: DatasetIdentity,
    match: MatchDataset,
) -> pd.DataFrame:
    relationship = current.is_supp or "RDOMAIN" in left.columns
    if relationship and match.has_idvar_keys:
        return _merge_idvar_parent(left, current, parent, parent_identity, match)
    left_keys = _sided(match, "left", current.domain)
    right_keys = _sided(match, "right", parent_identity.domain)
    merged = left.reset_index(names=_POSITION).merge(
        parent, how="left", left_on=left_keys, right_on=right_keys, suffixes=("", f".{parent_identity.domain}")
    )
    merged.index = pd.Index(merged.pop(_POSITION), name=left.index.name)
    return merged


def _idvar_text(values: pd.Series, numeric: bool) -> pd.Series:
    """IDVARVAL and the parent's variable in one form: numbers as numbers, text stripped."""
    if numeric:
        return pd.to_numeric(values, errors="coerce").astype("Float64")
    return values.astype("string").str.strip()


def _merge_idvar_parent(
    left: pd.DataFrame,
    current: DatasetIdentity,
    parent: pd.DataFrame,
    parent_identity: DatasetIdentity,
    match: MatchDataset,
) -> pd.DataFrame:
    """CORE's IDVAR merge: the first parent record sharing the standard keys (a blank key
    matches any) whose IDVAR variable equals IDVARVAL; without IDVAR/IDVARVAL the first
    sharing the keys; the parent's values win over the child's where both have a column."""
    parent_domain = parent_identity.domain
    if current.is_supp and current.rdomain:
        children = left
    elif "RDOMAIN" in left.columns:
        children = left[left["RDOMAIN"].eq(parent_domain).fillna(False).astype(bool)]
    else:
        children = left
    if children.empty:
        return left
    standard = [key for key in match.keys if key.left not in IDVAR_KEYS]
    child_keys = [k.left.replace("--", current.domain or "") for k in standard]
    parent_keys = [k.right.replace("--", parent_domain or "") for k in standard]
    usable = [
        (c, p) for c, p in zip(child_keys, parent_keys, strict=True) if c in children.columns and p in parent.columns
    ]
    found = _first_parent_positions(children, parent, usable, parent_domain, with_standard_keys=bool(standard))
    matched = parent.reset_index(drop=True).reindex(found.to_numpy())
    matched.index = children.index
    child_part = children.copy()
    for column in parent.columns:
        if column in child_part.columns:
            child_part[column] = matched[column].where(found.notna().to_numpy(), child_part[column])
        else:
            child_part[column] = matched[column]
    if current.is_supp:
        return child_part
    remaining = left.drop(index=children.index)
    return pd.concat([remaining, child_part])


def _first_parent_positions(
    children: pd.DataFrame,
    parent: pd.DataFrame,
    keys: Sequence[tuple[str, str]],
    parent_domain: str | None,
    *,
    with_standard_keys: bool,
) -> pd.Series:
    """For each child record, the position of its parent record in `parent` (NaN: none)."""
    child = children.reset_index(drop=True).assign(__child=np.arange(len(children)))
    parents = parent.reset_index(drop=True).assign(__parent=np.arange(len(parent)))
    if "IDVAR" not in child.columns or "IDVARVAL" not in child.columns:
        child = child.assign(IDVAR=child.get("IDVAR"), IDVARVAL=child.get("IDVARVAL"))
    pointed = present(child["IDVAR"]) & present(child["IDVARVAL"])
    found = pd.Series(np.nan, index=child.index)
    # A blank key of the child record does not narrow its parents: one join per blank pattern.
    pattern = pd.Series("", index=child.index)
    for column, _ in keys:
        pattern = pattern + present(child[column]).map({True: "1", False: "0"})
    for _, rows in child.groupby(pattern, sort=False):
        given = [(c, p) for c, p in keys if present(rows[c]).all()]
        unpointed = rows[~pointed.loc[rows.index]]
        if with_standard_keys and not given and len(parents):
            found.loc[unpointed.index] = 0
        elif with_standard_keys:
            pairs = unpointed[["__child", *[c for c, _ in given]]].merge(
                parents[["__parent", *[p for _, p in given]]],
                left_on=[c for c, _ in given],
                right_on=[p for _, p in given],
            )
            first = pairs.groupby("__child")["__parent"].min()
            found.loc[first.index] = first.to_numpy()
        for variable, group in rows[pointed.loc[rows.index]].groupby("IDVAR", sort=False):
            column = _idvar_column(parents, str(variable), parent_domain)
            if column is None:
                continue
            numeric = pd.api.types.is_numeric_dtype(parents[column])
            on_child = group[["__child", *[c for c, _ in given]]].assign(
                __value=_idvar_text(group["IDVARVAL"], numeric)
            )
            on_parent = parents[["__parent", *[p for _, p in given]]].assign(
                __value=_idvar_text(parents[column], numeric)
            )
            pairs = on_child.merge(
                on_parent,
                left_on=[*[c for c, _ in given], "__value"],
                right_on=[*[p for _, p in given], "__value"],
            )
            first = pairs.groupby("__child")["__parent"].min()
            found.loc[first.index] = first.to_numpy()
    return pd.Series(found.to_numpy(), index=children.index)


def _idvar_column(parents: pd.DataFrame, idvar: str, parent_domain: str | None) -> str | None:
    for column in (idvar, f"{idvar}.{parent_domain}", f"{parent_domain}.{idvar}"):
        if column in parents.columns:
            return column
    return None


# --- RELREC: records joined with the records related to them ------------------------------


def _relrec_name(variable: str, domain: str, wildcard: str, wildcard_variables: frozenset[str]) -> str:
    if variable.startswith(domain) and variable.replace(domain, "--", 1) in wildcard_variables:
        return "RELREC." + variable.replace(domain, wildcard, 1)
    return "RELREC." + variable


def _as_key(values: pd.Series) -> pd.Series:
    """RELREC compares a variable with IDVARVAL through text, numbers as floats (1 = 1.0)."""
    as_number = pd.to_numeric(values, errors="coerce").astype("Float64")
    text = values.astype("string")
    return as_number.astype("string").where(as_number.notna(), text)


def _linked(frame: pd.DataFrame, links: pd.DataFrame, subject: str, keys: Sequence[tuple[str, str]]) -> pd.DataFrame:
    """The records each RELREC pair points at: of its subject (any, if USUBJID is blank),
    with `frame[variable] == links[value]` for each key pair."""
    keyed = frame.assign(**{f"__k{i}": values for i, (values, _) in enumerate(keys)})
    link_keys = links.assign(**{f"__k{i}": links[column] for i, (_, column) in enumerate(keys)})
    on = [f"__k{i}" for i in range(len(keys))]
    subject_given = present(link_keys["USUBJID"])
    with_subject = link_keys[subject_given][["__link", "USUBJID", *on]]
    without = link_keys[~subject_given][["__link", *on]]
    parts = [keyed.merge(with_subject.rename(columns={"USUBJID": subject}), on=[subject, *on])]
    if len(without):
        parts.append(keyed.merge(without, on=on) if on else keyed.merge(without, how="cross"))
    return pd.concat(parts, ignore_index=True).drop(columns=on)


def _merge_relrec(
    left: pd.DataFrame, current: DatasetIdentity, relrec: pd.DataFrame, study: Study, wildcard: str
) -> pd.DataFrame:
    """CORE's merge_relrec_datasets: for each RELREC record of this domain and each record of
    the same relationship (RELID) in another domain, the records they point at joined (by
    IDVARVAL, or by the IDVAR variables' values when IDVARVAL is blank). Records in no
    relationship are not in the frame."""
    domain = current.domain or current.name
    own = relrec[relrec["RDOMAIN"] == domain]
    pair_ids = pd.MultiIndex.from_frame(own[["USUBJID", "RELID"]])
    related = relrec[pd.MultiIndex.from_frame(relrec[["USUBJID", "RELID"]]).isin(pair_ids)]
    related = related[related["RDOMAIN"] != domain]
    pairs = own.merge(related, on=["STUDYID", "USUBJID", "RELID"], suffixes=("_LEFT", "_RIGHT"))
    pairs["__link"] = np.arange(len(pairs))
    by_value = present(pairs["IDVARVAL_LEFT"]) & present(pairs["IDVARVAL_RIGHT"])
    wildcard_variables = model_wildcard_variables()
    records_ = left.reset_index(names=_POSITION)
    pieces = []
    for (right_domain, left_var, right_var, valued), group in pairs.groupby(
        [pairs["RDOMAIN_RIGHT"], pairs["IDVAR_LEFT"], pairs["IDVAR_RIGHT"], by_value], sort=False
    ):
        other = next((d for d, found in identities(study) if found.domain == right_domain), None)
        if other is None or left_var not in records_.columns or right_var not in other.frame.columns:
            continue
        right = other.frame.rename(
            columns={c: _relrec_name(c, str(right_domain), wildcard, wildcard_variables) for c in other.frame.columns}
        )
        right_key = _relrec_name(str(right_var), str(right_domain), wildcard, wildcard_variables)
        if valued:
            group = group.assign(
                __left_value=_as_key(group["IDVARVAL_LEFT"]), __right_value=_as_key(group["IDVARVAL_RIGHT"])
            )
            on_left = _linked(records_, group, "USUBJID", [(_as_key(records_[left_var]), "__left_value")])
            on_right = _linked(right, group, "RELREC.USUBJID", [(_as_key(right[right_key]), "__right_value")])
            piece = on_left.merge(
                on_right,
                left_on=["__link", "STUDYID", "USUBJID"],
                right_on=["__link", "RELREC.STUDYID", "RELREC.USUBJID"],
            )
        else:
            on_left = _linked(records_, group, "USUBJID", [])
            on_left["__value"] = on_left[left_var].astype(str)
            on_right = _linked(right, group, "RELREC.USUBJID", [])
            on_right["__value"] = on_right[right_key].astype(str)
            piece = on_left.merge(
                on_right,
                left_on=["__link", "STUDYID", "USUBJID", "__value"],
                right_on=["__link", "RELREC.STUDYID", "RELREC.USUBJID", "__value"],
            ).drop(columns=["__value"])
        pieces.append(piece.drop(columns=["__link"]))
    if not pieces:
        return left.iloc[0:0]
    merged = pd.concat(pieces, ignore_index=True)
    merged.index = pd.Index(merged.pop(_POSITION), name=left.index.name)
    return merged
