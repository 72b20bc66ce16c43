"""The frames CORE's checks run on, per rule type, on CORE's own test cases."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest

from cdisc_cup.rules.core import frames
from cdisc_cup.rules.core.engine import run_core_rules
from cdisc_cup.rules.core.frames import (
    FrameNotBuilt,
    RuleFrame,
    dataset_metadata,
    rule_frames,
    variable_max_sizes,
    variable_metadata,
)
from cdisc_cup.rules.core.model import CoreRule, MatchDataset, NotRunnableError, Scope
from cdisc_cup.rules.model import Study
from cdisc_cup.xpt.model import Dataset
from tests.rules.core.casedata import case_dir, expected, load_case


def test_variable_metadata_has_a_row_per_variable_with_cores_names() -> None:
    case = case_dir("CORE-000019", "negative")
    study = load_case(case)
    frame = variable_metadata(study.datasets["AE"])
    assert list(frame.columns) == [
        "variable_name",
        "variable_order_number",
        "variable_label",
        "variable_size",
        "variable_data_type",
        "variable_format",
    ]
    assert frame["variable_order_number"].tolist() == list(range(1, len(frame) + 1))
    # results.csv reports this label of AE as longer than 40 characters.
    reported = expected(case)
    too_long = reported.loc[(reported["Dataset"] == "AE") & (reported["Variable"] == "variable_label"), "Value"]
    assert set(too_long) <= set(frame.loc[frame["variable_label"].str.len() > 40, "variable_label"])


def test_variable_metadata_rows_are_reported_by_their_order_number() -> None:
    case = case_dir("CORE-000376", "negative")
    frame = variable_metadata(load_case(case).datasets["ZB"])
    reported = expected(case)
    row = reported[(reported["Dataset"] == "ZB") & (reported["Variable"] == "variable_name")].iloc[0]
    assert frame.loc[int(row["Record"]) - 1, "variable_name"] == row["Value"]


def test_variable_max_size_is_the_longest_value() -> None:
    dm = load_case(case_dir("CORE-000238", "negative")).datasets["DM"]
    sizes = variable_max_sizes(dm, variable_metadata(dm)["variable_name"])
    assert sizes.iloc[0] == len("CDISCPILOT01")
    assert (sizes >= 0).all()


def test_dataset_metadata_names_the_dataset_and_its_file() -> None:
    case = case_dir("CORE-000598", "negative", "02")
    dataset = load_case(case).datasets["ALB"]
    row = dataset_metadata(dataset).iloc[0]
    assert row["dataset_name"] == "ALB" == expected(case)["Value"].iloc[0]
    assert row["dataset_location"] == "alb.csv"
    assert row["dataset_label"] == "Laboratory Test Results A"
    assert row["record_count"] == len(dataset.frame)
    assert row["dataset_size"] == dataset.path.stat().st_size


def _rule(rule_type: str, **fields: object) -> CoreRule:
    defaults: dict[str, object] = {
        "rule_id": "CORE-TEST",
        "description": "",
        "message": "",
        "output_variables": (),
        "rule_type": rule_type,
        "sensitivity": "Record",
        "scope": Scope(),
        "check": {"all": []},
    }
    return CoreRule(**{**defaults, **fields})  # type: ignore[arg-type]


def _frames(rule: CoreRule, study: Study) -> dict[str, pd.DataFrame]:
    """Each dataset's whole frame (a value frame's parts put together)."""
    return {
        found.dataset.name: pd.concat(list(found.parts()))
        for found in rule_frames(rule, study)
        if isinstance(found, RuleFrame)
    }


def test_domain_presence_frame_names_each_domains_file() -> None:
    study = load_case(case_dir("CORE-000183", "negative"))
    frames = _frames(_rule("Domain Presence Check"), study)
    frame = next(iter(frames.values()))
    assert len(frame) == 1
    # results.csv: PP is reported with its file, PC as not in the data.
    assert frame.loc[0, "PP"] == "pp.csv"
    assert "PC" not in frame.columns


def test_value_frame_has_a_row_per_value_reported_on_its_record() -> None:
    case = case_dir("CORE-000867", "negative")
    study = load_case(case)
    frame = _frames(_rule("Value Check with Variable Metadata"), study)["CE"]
    ce = study.datasets["CE"].frame
    assert len(frame) == ce.size
    assert frame["variable_name"].drop_duplicates().tolist() == ce.columns.tolist()  # melt order
    studyid = frame[frame["variable_name"] == "STUDYID"]
    assert (studyid["row_number"] == studyid.index + 1).all()
    assert (studyid["variable_data_type"] == "Char").all()
    # results.csv: record 4 of CE has a STUDYID with a leading space.
    assert studyid.loc[3, "variable_value"] == " CDISCPILOT01"


def test_value_frame_with_dataset_metadata_repeats_the_dataset_row() -> None:
    study = load_case(case_dir("CORE-000356", "negative"))
    frame = _frames(_rule("Value Check with Dataset Metadata"), study)["LB"]
    assert (frame["dataset_name"] == "LB").all()
    blank = frame[(frame.index == 0) & frame["variable_name"].isin(["STUDYID", "LBSEQ"])]
    assert blank["variable_value"].isna().all()


def test_record_frame_joins_match_datasets_from_the_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    study = load_case(case_dir("CORE-000086", "negative"))
    rule = _rule("Record Data", match_datasets=(MatchDataset("DM", ("USUBJID",)),))
    assert {"RFICDTC", "ARM", "DOMAIN.DM"} <= set(_frames(rule, study)["DV"].columns)  # a small study: all
    monkeypatch.setattr(frames, "JOIN_SHORTCUTS_FROM", 0)  # as for a large one
    check = {"all": [{"name": "DVSTDTC", "operator": "date_less_than", "value": "RFICDTC"}]}
    rule = _rule("Record Data", check=check, match_datasets=(MatchDataset("DM", ("USUBJID",)),))
    frame = _frames(rule, study)["DV"]
    assert "RFICDTC" in frame.columns
    assert frame["RFICDTC"].notna().all()  # each record's subject's
    # DM's variables the rule cannot read are not brought onto every record, but its keys are
    assert "ARM" not in frame.columns and "DOMAIN.DM" not in frame.columns
    # an operation's variable too; one listing variables may make the check read any: all come
    distinct = {"id": "$terms", "operator": "distinct", "domain": "DV", "name": "DVTERM", "group": ["ARM"]}
    with_distinct = _rule("Record Data", check=check, match_datasets=rule.match_datasets, operations=(distinct,))
    assert "ARM" in _frames(with_distinct, study)["DV"].columns
    listing = {"id": "$columns", "operator": "get_column_order_from_dataset", "domain": "DV"}
    with_listing = _rule("Record Data", check=check, match_datasets=rule.match_datasets, operations=(listing,))
    assert {"ARM", "SEX", "DOMAIN.DM"} <= set(_frames(with_listing, study)["DV"].columns)


def test_a_check_that_cannot_run_on_the_joined_columns_gets_no_join(monkeypatch: pytest.MonkeyPatch) -> None:
    study = load_case(case_dir("CORE-000086", "negative"))
    monkeypatch.setattr(frames, "JOIN_SHORTCUTS_FROM", 0)  # as for a large study
    check = {"all": [{"name": "DVENDTC", "operator": "non_empty"}]}  # DV has no DVENDTC
    rule = _rule("Record Data", check=check, match_datasets=(MatchDataset("DM", ("USUBJID",)),))
    frame = _frames(rule, study)["DV"]
    assert frame.empty and "USUBJID" in frame.columns
    (run,) = run_core_rules(study, [rule]).rule_runs.query("dataset == 'DV'").itertuples()
    assert run.status == "not applicable" and run.reason == "DVENDTC not in dataset"


def test_an_unsupported_rule_type_says_what_it_needs() -> None:
    with pytest.raises(NotRunnableError, match=r"define\.xml"):
        list(rule_frames(_rule("Define Item Metadata Check against Library Metadata"), Study({}, {})))


def test_a_child_match_joins_the_parent_record_without_reading_the_rule_file() -> None:
    # Child comes from the model (no rule.yml behind this rule): each SUPPLB record gets its LB record.
    study = load_case(case_dir("CORE-000712", "negative"))
    child = MatchDataset("SUPP--", ("USUBJID", "IDVAR", "IDVARVAL"), child=True)
    frame = _frames(_rule("Record Data", match_datasets=(child,)), study)["SUPPLB"]
    assert "LBTESTCD" in frame.columns
    plain = _frames(_rule("Record Data", match_datasets=(MatchDataset("SUPP--", ("USUBJID",)),)), study)
    assert "LBTESTCD" not in plain.get("SUPPLB", pd.DataFrame()).columns


def test_a_frame_that_cannot_be_built_is_reported_with_the_reason() -> None:
    # DV has no VISITNUM, the key the rule joins DM on, though an Events dataset may have it:
    # CORE skips DV; the run says why.
    study = load_case(case_dir("CORE-000086", "negative"))
    rule = _rule(
        "Record Data",
        scope=Scope(domains_include=("DV",)),
        match_datasets=(MatchDataset("DM", ({"Left": "VISITNUM", "Right": "USUBJID"},)),),
        check={"all": [{"name": "USUBJID", "operator": "non_empty"}]},
    )
    (skipped,) = list(rule_frames(rule, study))
    assert isinstance(skipped, FrameNotBuilt)
    assert skipped.dataset.name == "DV"
    runs = run_core_rules(study, [rule]).rule_runs
    (row,) = runs.to_dict("records")
    assert (row["dataset"], row["status"]) == ("DV", "not applicable")
    assert row["reason"] == "not run on this dataset: Match Datasets key VISITNUM is not in the data"


@pytest.mark.parametrize(("dv_key", "checked"), [("USUBJID", ["DV"]), ("DVXYZ", [])])
def test_a_dataset_that_cannot_have_the_join_key_is_left_out_without_a_note(dv_key: str, checked: list[str]) -> None:
    """TS, a trial design dataset, has no USUBJID in the SDTM model, and DVXYZ is no variable
    an Events dataset may have: CORE reports nothing for a dataset it cannot join, nor do we."""
    loaded = load_case(case_dir("CORE-000086", "negative"))
    ts = pd.DataFrame({"STUDYID": ["CDISCPILOT01"], "DOMAIN": ["TS"], "TSSEQ": [1.0], "TSPARMCD": ["SSTDTC"]})
    study = replace(loaded, datasets={**loaded.datasets, "TS": Dataset("TS", "Trial Summary", ts, ())})
    rule = _rule(
        "Record Data",
        scope=Scope(domains_include=("DV", "TS")),
        match_datasets=(MatchDataset("DM", ({"Left": dv_key, "Right": "USUBJID"},)),),
        check={"all": [{"name": "USUBJID", "operator": "empty"}]},
    )
    assert [frame.dataset.name for frame in rule_frames(rule, study)] == checked
    runs = run_core_rules(study, [rule]).rule_runs[["dataset", "status", "reason"]].to_dict("records")
    if checked:
        assert runs == [{"dataset": "DV", "status": "ran", "reason": ""}]
    else:  # no dataset the rule can join: as for a rule whose scope has none
        assert runs == [{"dataset": "", "status": "not applicable", "reason": "no dataset in the rule's scope"}]
