"""The frames CORE's checks run on, per rule type, on CORE's own test cases."""

from __future__ import annotations

from cdisc_cup.rules.core.frames import dataset_metadata, variable_max_sizes, variable_metadata
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
