"""What keeps CORE's rules bounded on large studies (issue #17: 100,000 patients), checked on
the sample conversion: each shortcut gives what the plain way gives on real data."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cdisc_cup.pipeline import ConversionResult
from cdisc_cup.rules import engine as rules_engine
from cdisc_cup.rules.core import frames
from cdisc_cup.rules.core.check import row_local, screen_part
from cdisc_cup.rules.core.engine import run_core_rules
from cdisc_cup.rules.core.frames import DISTINCT_VALUES
from cdisc_cup.rules.core.identity import _DERIVED
from cdisc_cup.rules.core.loader import load_core_rules
from cdisc_cup.rules.core.merges import TAKEN_ONTO_RECORDS, _onto_one_record, key_positions
from cdisc_cup.rules.core.model import CoreRule
from cdisc_cup.rules.core.operations import _lists_per_group
from cdisc_cup.rules.core.operators import Operand, among, not_equal_to, object_ids
from cdisc_cup.rules.engine import DatasetFolder, as_view
from cdisc_cup.rules.model import Study
from cdisc_cup.xpt.read import read_dataset_folder_leniently

from .casedata import CORE_RULES

VALUE_CHECKS = ("CORE-000356", "CORE-000867", "CORE-000890")


@pytest.fixture(scope="module")
def sample_sdtm(converted_sample: ConversionResult) -> DatasetFolder:
    read = read_dataset_folder_leniently(converted_sample.sdtm_dir)
    return DatasetFolder(read.path, "sdtm", read.datasets, None, read.unreadable).decide()


def _study(folder: DatasetFolder) -> Study:
    views = {name.upper(): as_view(name, source) for name, source in folder.datasets.items()}
    return Study(views, dict.fromkeys(views, "sdtm"), None, {}, {"sdtm": str(folder.ig_version)})


def test_core_rules_in_a_process_beside_ours_give_what_one_process_gives(
    sample_sdtm: DatasetFolder, monkeypatch: pytest.MonkeyPatch
) -> None:
    rules = load_core_rules([CORE_RULES])
    alone = rules_engine.validate_folders([sample_sdtm], core_rules=rules)
    forked: list[object] = []

    class Counted(rules_engine.Beside):  # type: ignore[misc]
        def __init__(self, work: Callable[[], object]) -> None:
            forked.append(work)
            super().__init__(work)

    monkeypatch.setattr(rules_engine, "BESIDE_FROM_RECORDS", 0)  # the sample has a few thousand records
    monkeypatch.setattr(rules_engine, "Beside", Counted)
    beside = rules_engine.validate_folders([sample_sdtm], core_rules=rules)
    assert len(forked) == 1
    assert alone.findings["rule_id"].str.startswith("CORE-").sum() > 0
    pd.testing.assert_frame_equal(alone.findings, beside.findings)
    pd.testing.assert_frame_equal(alone.rule_runs, beside.rule_runs)


def test_value_checks_worked_out_per_distinct_value_find_what_every_value_finds(
    shared_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    read = read_dataset_folder_leniently(shared_dir / "reference" / "cdiscpilot01" / "sdtm")
    pilot = DatasetFolder(read.path, "sdtm", read.datasets, None, read.unreadable).decide()
    rules = load_core_rules([CORE_RULES / rule_id for rule_id in VALUE_CHECKS])
    assert all(row_local(rule.check, rule.operations) for rule in rules if isinstance(rule, CoreRule))
    every_value = run_core_rules(_study(pilot), rules)  # small: each dataset's whole value frame at once
    monkeypatch.setattr(frames, "VALUES_PER_PART_FROM", 0)  # as for 100,000 patients: a variable at a time
    looked_at: list[str] = []
    distinct_values = frames._distinct
    monkeypatch.setattr(frames, "_distinct", lambda column: looked_at.append(column.name) or distinct_values(column))
    screened = run_core_rules(_study(pilot), rules)
    # a Num variable is not Char (CORE-000867, -000890) and most are not required (CORE-000356): not looked at
    numbers = sum(d.frame[c].dtype.kind == "f" for d in pilot.datasets.values() for c in d.frame.columns)
    variables = sum(len(d.frame.columns) for d in pilot.datasets.values())
    assert numbers > 20 and len(looked_at) <= variables - numbers // 2  # 172 of 199, 37 of them Num
    assert (screened.findings["rule_id"] == "CORE-000867").sum() > 0  # DS values with a leading space
    pd.testing.assert_frame_equal(screened.findings, every_value.findings)
    pd.testing.assert_frame_equal(screened.rule_runs, every_value.rule_runs)
    key = ["rule_id", "dataset", "record", "variable"]
    pd.testing.assert_frame_equal(
        screened.results.sort_values(key, ignore_index=True), every_value.results.sort_values(key, ignore_index=True)
    )


def test_one_record_of_a_variable_says_what_its_metadata_decides() -> None:
    check = {
        "all": [
            {"name": "variable_data_type", "operator": "equal_to", "value": "Char"},
            {"name": "variable_value", "operator": "matches_regex", "value": "^\\s"},
        ]
    }
    probe = pd.DataFrame({"variable_name": ["AESEQ"], "variable_data_type": ["Num"], "variable_value": [1.0]})
    assert screen_part(check, [], probe, "AE").nowhere
    text = probe.assign(variable_name="AETERM", variable_data_type="Char", variable_value=" HEADACHE")
    screen = screen_part(check, [], text, "AE")
    assert not screen.nowhere and screen.on_values == {"all": [check["all"][1]]}
    # a branch comparing the value with another column of the frame is not checked on the values alone
    labelled = {"all": [*check["all"], {"name": "variable_value", "operator": "equal_to", "value": "variable_name"}]}
    assert screen_part(labelled, [], text, "AE").on_values is None
    # nor one reading an operation computed from the values
    computed = [{"id": "$first", "operator": "distinct", "name": "variable_value"}]
    on_operation = {"all": [*check["all"], {"name": "$first", "operator": "non_empty"}]}
    assert screen_part(on_operation, computed, text.assign(**{"$first": "x"}), "AE").on_values is None
    # a check whose `all` is under `not` is not screened
    assert screen_part({"not": check}, [], probe, "AE") == screen_part({"any": []}, [], probe, "AE")


def test_keys_looked_up_by_arrow_are_where_pandas_finds_them() -> None:
    right = pd.Series(["S-1", "S-2", "S-3"], dtype="str")
    left = pd.Series(["S-3", "S-9", "S-1", "S-1"], dtype="str")
    found = key_positions(left, right)
    assert found is not None and found.tolist() == [2, -1, 0, 0]
    assert found.tolist() == pd.Index(right.astype(object)).get_indexer(left.astype(object)).tolist()
    assert key_positions(left.iloc[:0], right).tolist() == []
    assert key_positions(left, pd.Series(["S-1", "S-1"], dtype="str")) is None  # not onto one record
    assert key_positions(pd.Series(["S-1", None], dtype="str"), right) is None  # a record without a key
    assert key_positions(pd.Series([2.0, 1.0]), pd.Series([1.0, 2.0])).tolist() == [1, 0]  # numbers, by pandas


def test_text_and_numbers_compared_natively_are_what_python_values_give() -> None:
    frame = pd.DataFrame(
        {
            "AEDECOD": pd.Series(["HEADACHE", "", None, "NAUSEA", None], dtype="str"),
            "AETERM": pd.Series(["HEADACHE", "", "X", "nausea", None], dtype="str"),
        }
    )
    natively = not_equal_to(Operand(frame, "AEDECOD", frame["AETERM"], {}, "AE"))
    as_objects = frame.astype(object)
    plain = not_equal_to(Operand(as_objects, "AEDECOD", as_objects["AETERM"], {}, "AE"))
    assert natively.tolist() == plain.tolist() == [False, False, True, True, False]
    numbers = pd.DataFrame({"VSSTRESN": [1.0, np.nan, 2.0, np.nan], "VSORRESN": [1.0, 3.0, 2.5, np.nan]})
    natively = not_equal_to(Operand(numbers, "VSSTRESN", numbers["VSORRESN"], {}, "VS"))
    as_objects = numbers.astype(object).where(numbers.notna(), None)
    plain = not_equal_to(Operand(as_objects, "VSSTRESN", as_objects["VSORRESN"], {}, "VS"))
    assert natively.tolist() == plain.tolist() == [False, True, True, False]  # both missing: not unequal


def test_object_ids_read_from_the_column_are_python_s_ids() -> None:
    shared, other = ["AE", "CM"], ["DM"]
    objects = np.empty(9, dtype=object)
    objects[:] = [shared, other, shared, None, "text", 1.5, other, shared, None]
    for column in (pd.Series(objects, dtype=object), pd.Series(objects, dtype=object).iloc[::2]):
        assert object_ids(column).tolist() == [id(value) for value in column]
    assert object_ids(pd.Series([], dtype=object)).tolist() == []


def test_a_check_reading_other_rows_is_not_worked_out_per_distinct_value() -> None:
    leaf = {"name": "variable_value", "operator": "is_contained_by", "value": "$values"}
    ungrouped = [{"id": "$values", "operator": "distinct", "name": "AETERM", "domain": "AE"}]
    grouped = [{**ungrouped[0], "group": ["USUBJID"]}]
    assert row_local({"all": [leaf]}, ungrouped)
    assert not row_local({"all": [leaf]}, [{**grouped[0], "group": ["variable_name"]}])
    assert not row_local({"all": [{**leaf, "value": "variable_label"}]}, [])  # a column's values, all rows
    assert not row_local({"all": [{"name": "variable_value", "operator": "is_unique_set"}]}, [])
    assert not row_local({"all": [{"name": "row_number", "operator": "equal_to", "value": 1}]}, [])


def test_rules_run_side_by_side_let_go_of_what_they_shared(sample_sdtm: DatasetFolder) -> None:
    study = _study(sample_sdtm)
    run_core_rules(study, load_core_rules([CORE_RULES]))
    kept = _DERIVED.get(id(study), {})
    assert not [key for key in kept if isinstance(key, tuple) and key[0] == "joined"]
    assert not [key for key in kept if isinstance(key, tuple) and key[0] == TAKEN_ONTO_RECORDS]
    for dataset in study.datasets.values():
        assert not [key for key in _DERIVED.get(id(dataset), {}) if isinstance(key, tuple) and DISTINCT_VALUES in key]


def test_a_join_onto_one_record_is_pandas_merge(sample_sdtm: DatasetFolder) -> None:
    datasets = {name.upper(): as_view(name, source) for name, source in sample_sdtm.datasets.items()}
    compared = 0
    for dataset in datasets.values():
        left = dataset.frame
        for name, keys in (("DM", ["USUBJID"]), ("TA", ["ARMCD"]), ("SV", ["USUBJID", "VISITNUM"])):
            if any(key not in left.columns for key in keys):
                continue
            for how in ("inner", "left"):
                fast = _onto_one_record(left, datasets[name].frame, keys, keys, how, f".{name}")
                if fast is None:  # a key repeats or a record has no match in a left join
                    continue
                merged = left.reset_index(names="__position").merge(
                    datasets[name].frame, how=how, on=keys, suffixes=("", f".{name}")
                )
                merged.index = pd.Index(merged.pop("__position"))
                pd.testing.assert_frame_equal(fast, merged, check_names=False)
                compared += 1
    assert compared >= 20


def test_where_records_are_in_dm_is_worked_out_once_per_key_column(sample_sdtm: DatasetFolder) -> None:
    """Rules joining DM on USUBJID select and rename the datasets' columns; the same key
    columns are matched once per run, and the joins are those made without the memo."""
    study = _study(sample_sdtm)
    ae, dm = study.datasets["AE"].frame, study.datasets["DM"].frame
    selections = [
        (ae, dm),
        (ae[["USUBJID", "AETERM"]], dm[["USUBJID", "RFSTDTC"]].rename(columns={"RFSTDTC": "DM.RFSTDTC"})),
    ]
    for left, right in selections:
        joined = _onto_one_record(left, right, ["USUBJID"], ["USUBJID"], "inner", ".DM", study)
        pd.testing.assert_frame_equal(joined, _onto_one_record(left, right, ["USUBJID"], ["USUBJID"], "inner", ".DM"))
    remembered = [key for key in _DERIVED.get(id(study), {}) if key[0] == "onto one record"]
    assert len(remembered) == 1
    # DM.RFSTDTC was taken onto AE once, by the remembered positions, for both selections
    taken = [key for key in _DERIVED.get(id(study), {}) if key[0] == TAKEN_ONTO_RECORDS]
    assert taken and len(taken) == len(set(taken)) <= len(dm.columns) - 1
    # a join on two keys is not remembered, nor are the columns it takes
    sv = study.datasets["SV"].frame
    keys = ["USUBJID", "VISITNUM"]
    assert _onto_one_record(sv, sv, keys, keys, "inner", ".SV", study) is not None
    assert [key for key in _DERIVED.get(id(study), {}) if key[0] == TAKEN_ONTO_RECORDS] == taken


def test_text_among_members_is_isin(sample_sdtm: DatasetFolder) -> None:
    datasets = {name.upper(): as_view(name, source) for name, source in sample_sdtm.datasets.items()}
    subjects = datasets["DM"].frame["USUBJID"].tolist()
    for members in (subjects[:5], [*subjects[:5], None], [1.0, "x", np.nan], []):
        for dataset in datasets.values():
            values = dataset.frame["USUBJID"] if "USUBJID" in dataset.frame else dataset.frame.iloc[:, 0]
            pd.testing.assert_series_equal(among(values, members), values.isin(members), check_names=False)


def test_lists_per_group_are_groupbys_lists(sample_sdtm: DatasetFolder) -> None:
    sv = as_view("SV", sample_sdtm.datasets["SV"]).frame
    pairs = sv[["USUBJID", "VISIT"]].assign(__distinct=sv["VISITNUM"].where(sv.index % 7 != 0)).drop_duplicates()
    for grouping in (["USUBJID"], ["USUBJID", "VISIT"]):
        plain = pairs.groupby(grouping, sort=True)["__distinct"].agg(lambda group: list(group.dropna())).reset_index()
        pd.testing.assert_frame_equal(_lists_per_group(pairs, grouping, "__distinct"), plain, check_column_type=False)
