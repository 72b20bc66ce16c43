"""CORE's check operators on small frames, with CORE's semantics for nulls, whitespace,
literal values and partial dates."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from cdisc_cup.rules.core.check import evaluate
from cdisc_cup.rules.core.operators import numbers_as_text
from cdisc_cup.rules.model import NotApplicable


def hits(check: dict[str, Any], frame: pd.DataFrame, domain: str = "AE") -> list[int]:
    mask = evaluate(check, frame, domain)
    return list(frame.index[mask.to_numpy()])


def test_empty_is_missing_or_the_empty_string_but_not_blanks() -> None:
    frame = pd.DataFrame({"AEOUT": pd.Series(["", None, "  ", "RECOVERED"], dtype="string")})
    assert hits({"name": "AEOUT", "operator": "empty"}, frame) == [0, 1]
    assert hits({"name": "AEOUT", "operator": "non_empty"}, frame) == [2, 3]


def test_double_dash_is_the_domain_in_names_and_values() -> None:
    frame = pd.DataFrame({"AESTDTC": ["2020-01-01", "2020-02-01"], "AEENDTC": ["2020-01-01", "2020-03-01"]})
    assert hits({"name": "--STDTC", "operator": "equal_to", "value": "--ENDTC"}, frame) == [0]


def test_a_value_naming_a_column_is_the_column_unless_literal() -> None:
    frame = pd.DataFrame({"AEREL": ["AEOUT", "Y"], "AEOUT": ["X", "Y"]})
    assert hits({"name": "AEREL", "operator": "equal_to", "value": "AEOUT"}, frame) == [1]
    assert hits({"name": "AEREL", "operator": "equal_to", "value": "AEOUT", "value_is_literal": True}, frame) == [0]


def test_not_equal_to_a_literal_flags_a_null_target_but_two_nulls_are_never_unequal() -> None:
    frame = pd.DataFrame({"A": ["", "Y", "N"], "B": ["", "", "N"]})
    assert hits({"name": "A", "operator": "not_equal_to", "value": "Y"}, frame) == [0, 2]
    assert hits({"name": "A", "operator": "not_equal_to", "value": "B"}, frame) == [1]
    assert hits({"name": "A", "operator": "equal_to", "value": "B"}, frame) == [2]


def test_type_insensitive_equality_reads_numeric_text_as_a_number() -> None:
    frame = pd.DataFrame({"LBSTRESC": ["200.00", "3.5", "x"], "LBSTRESN": [200.0, 3.0, None]})
    check = {"name": "LBSTRESC", "operator": "not_equal_to", "value": "LBSTRESN", "type_insensitive": True}
    assert hits(check, frame, "LB") == [1, 2]


def test_date_comparisons_of_partial_dates() -> None:
    frame = pd.DataFrame(
        {
            "AESTDTC": ["2020-03", "2020-01-15", "2020-01-15T10:00", "", "2020-13-01"],
            "AEENDTC": ["2020-01-16", "2020-01", "2020-01-15", "2020-01-01", "2020-01-01"],
        }
    )
    # ordering compares at the precision both dates share, as cdisc-rules-engine does since
    # 0.15 (test_date_greater_than_same_date_different_precision): 2020-01-15 is not after
    # 2020-01, nor 2020-01-15T10:00 after 2020-01-15; 2020-03 is after 2020-01-16 (at month)
    assert hits({"name": "AESTDTC", "operator": "date_greater_than", "value": "AEENDTC"}, frame) == [0]
    assert hits({"name": "AESTDTC", "operator": "date_greater_than_or_equal_to", "value": "AEENDTC"}, frame) == [
        0,
        1,
        2,
    ]
    # equality needs the same precision: 2020-01-15 is not equal to 2020-01
    assert hits({"name": "AESTDTC", "operator": "date_equal_to", "value": "AEENDTC"}, frame) == []
    assert hits({"name": "AESTDTC", "operator": "is_complete_date"}, frame) == [1, 2]
    assert hits({"name": "AESTDTC", "operator": "invalid_date"}, frame) == [3, 4]


def test_contained_by_a_literal_list_and_regexes() -> None:
    frame = pd.DataFrame({"AESEV": ["MILD", "SEVERE", "", "mild"]})
    assert hits({"name": "AESEV", "operator": "is_not_contained_by", "value": ["MILD", "MODERATE"]}, frame) == [1, 2, 3]
    assert hits({"name": "AESEV", "operator": "matches_regex", "value": "^[A-Z]+$"}, frame) == [0, 1]
    assert hits({"name": "AESEV", "operator": "not_matches_regex", "value": "^[A-Z]+$"}, frame) == [3]


def test_numbers_as_text_is_cores_regex_str_conversion() -> None:
    """cdisc-rules-engine's _regex_str_conversion (dataframe_operators.py): a whole float is
    f"{x:.0f}", so 1e20 is its digits as written in the dataset, not Python's "1e+20"."""
    values = pd.Series([1e20, -1e20, 2.0**70, 75.0, -0.0, 1.5, 1e-07, None, "10", 3, True], dtype=object)
    assert numbers_as_text(values).tolist() == [
        "100000000000000000000",
        "-100000000000000000000",
        "1180591620717411303424",
        "75",
        "-0",
        "1.5",
        "1e-07",
        None,
        "10",
        "3",
        "True",
    ]
    assert numbers_as_text(pd.Series([1e20, 4.0, np.nan])).tolist() == ["100000000000000000000", "4", None]


def test_a_regex_reads_a_large_whole_number_as_its_digits() -> None:
    frame = pd.DataFrame({"LBSTRESN": [1e20, 2.5e3, 0.5, None]})
    assert hits({"name": "LBSTRESN", "operator": "matches_regex", "value": r"^\d+$"}, frame, "LB") == [0, 1]
    assert hits({"name": "LBSTRESN", "operator": "not_matches_regex", "value": r"^\d+$"}, frame, "LB") == [2]


def test_uniqueness_and_relationships() -> None:
    frame = pd.DataFrame(
        {"USUBJID": ["1", "1", "2", "2"], "AESEQ": [1.0, 1.0, 1.0, 2.0], "AETERM": ["A", "B", "C", "C"]}
    )
    assert hits({"name": "USUBJID", "operator": "is_not_unique_set", "value": ["--SEQ"]}, frame) == [0, 1]
    assert hits({"name": "USUBJID", "operator": "is_not_unique_relationship", "value": "AETERM"}, frame) == [0, 1]


def test_lengths_and_numbers() -> None:
    frame = pd.DataFrame({"AETERM": ["HEADACHE", "RASH"], "AEDUR": [5.0, -1.0]})
    assert hits({"name": "AETERM", "operator": "longer_than", "value": 4}, frame) == [0]
    assert hits({"name": "AEDUR", "operator": "less_than", "value": 0}, frame) == [1]


def test_any_ignores_a_branch_about_a_missing_variable_all_does_not() -> None:
    frame = pd.DataFrame({"AEOCCUR": ["Y", ""]})
    check = {
        "any": [
            {"name": "AESTAT", "operator": "equal_to", "value": "NOT DONE"},
            {"name": "AEOCCUR", "operator": "non_empty"},
        ]
    }
    assert hits(check, frame) == [0]
    with pytest.raises(NotApplicable, match="AESTAT not in dataset"):
        hits({"all": check["any"]}, frame)
    assert hits({"not": {"name": "AEOCCUR", "operator": "non_empty"}}, frame) == [1]
    assert hits({"name": "AESTAT", "operator": "not_exists"}, frame) == [0, 1]


def test_contains_all_of_a_list_naming_an_operation_result_uses_its_members() -> None:
    # CORE-000334: `value: [$expected_variables]` is CORE's flatten_list, the list's members.
    names = pd.Series(["STUDYID", "AETERM", "AESTDTC"], dtype="string")
    frame = pd.DataFrame({"variable_name": names, "$expected": pd.Series([["AETERM", "AESTDTC"]] * 3, dtype=object)})
    check = {"name": "variable_name", "operator": "not_contains_all", "value": ["$expected"]}
    assert hits(check, frame) == []
    assert hits({**check, "value": ["$expected", "AEDECOD"]}, frame) == [0, 1, 2]
    assert hits({"name": "variable_name", "operator": "contains_all", "value": ["$expected"]}, frame) == [0, 1, 2]


@pytest.mark.parametrize("dtype", [object, "string"])
def test_equality_with_null_text_objects_by_reference(dtype: object) -> None:
    # CORE-000206's leaf: IDVARVAL not equal to the value of the variable IDVAR names, with
    # null text as None, pd.NA or NaN: two nulls are never unequal, a null and a value are.
    frame = pd.DataFrame(
        {
            "IDVAR": pd.Series(["AESPID", "AESPID", "AESPID", "AESEQ", "AESEQ", None], dtype=dtype),
            "IDVARVAL": pd.Series(["A1", None, pd.NA, "2", "3.0", "1"], dtype=dtype),
            "AESPID": pd.Series(["A1", "A2", None, None, None, None], dtype=dtype),
            "AESEQ": [1.0, 2.0, 3.0, 2.0, 3.0, np.nan],
        }
    )
    check = {"name": "IDVARVAL", "operator": "not_equal_to", "value": "IDVAR", "value_is_reference": True}
    assert hits({**check, "type_insensitive": True}, frame) == [1, 5]
    assert hits({**check, "operator": "equal_to", "type_insensitive": True}, frame) == [0, 3, 4]


def test_target_is_not_sorted_by_flags_records_out_of_date_order_and_overlapping_dates() -> None:
    # CORE-000535 on SE: SESEQ must follow SESTDTC within the subject.
    frame = pd.DataFrame(
        {
            "USUBJID": ["S1", "S1", "S1", "S2", "S2", "S2"],
            "SESEQ": [1.0, 2.0, 3.0, 1.0, 2.0, 3.0],
            "SESTDTC": ["2006-05-01", "2006-06-13", "2006-05-31", "2005-10", "2005-10-08", "2005-11-02"],
        }
    )
    check = {
        "name": "--SEQ",
        "operator": "target_is_not_sorted_by",
        "value": [{"name": "--STDTC", "sort_order": "asc", "null_position": "last"}],
        "within": "USUBJID",
    }
    # S1: SEQ 2 and 3 are in the wrong date order; S2: 2005-10 overlaps 2005-10-08
    assert hits(check, frame, "SE") == [1, 2, 3, 4]
    frame.loc[2, "SESTDTC"] = "2006-07-01"
    frame.loc[3, "SESTDTC"] = "2005-09-30"
    assert hits(check, frame, "SE") == []


def test_does_not_have_next_corresponding_record_compares_with_the_next_record_of_the_group() -> None:
    # CORE-000352: each element ends when the next one starts (SEENDTC = next SESTDTC).
    frame = pd.DataFrame(
        {
            "USUBJID": ["S1", "S1", "S1", "S2", "S2"],
            "SESEQ": [2.0, 1.0, 3.0, 1.0, 2.0],
            "SESTDTC": ["2012-11-30", "2012-11-23", "2013-05-13", "2012-10-30", "2012-11-16"],
            "SEENDTC": ["2013-05-13", "2012-11-30", "", "2012-11-15", "2013-01-14"],
        }
    )
    check = {
        "name": "SEENDTC",
        "operator": "does_not_have_next_corresponding_record",
        "value": "SESTDTC",
        "within": "USUBJID",
        "ordering": "SESEQ",
    }
    assert hits(check, frame, "SE") == [3]


def test_is_not_ordered_subset_of_a_list_per_record() -> None:
    # CORE-000852: the dataset's variables in the Library's order.
    library = ["STUDYID", "DOMAIN", "USUBJID", "LBSEQ", "LBTESTCD", "LBDTC"]
    frame = pd.DataFrame(
        {
            "$dataset": pd.Series(
                [["STUDYID", "DOMAIN", "LBSEQ"], ["LBDTC", "STUDYID"], ["STUDYID", "LBXYZ"]], dtype=object
            ),
            "$library": pd.Series([library] * 3, dtype=object),
        }
    )
    check = {"name": "$dataset", "operator": "is_not_ordered_subset_of", "value": "$library"}
    assert hits(check, frame, "LB") == [1, 2]
    assert hits({**check, "operator": "is_ordered_subset_of"}, frame, "LB") == [0]
