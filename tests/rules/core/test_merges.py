"""Match Datasets joins, checked on CORE's own test cases and on small edge cases.

The expected values come from the test cases' results.csv: CORE reported them from the
joined frame, so the joined frame must hold them on the same records.
"""

from __future__ import annotations

import pandas as pd
import pytest

from cdisc_cup.rules.core.merges import MatchDataset, MergeError, merge_match_datasets
from cdisc_cup.rules.model import Study
from cdisc_cup.xpt.model import Dataset, XptVariable
from tests.rules.core.casedata import case_dir, load_case


def _dataset(name: str, frame: pd.DataFrame) -> Dataset:
    variables = tuple(
        XptVariable(c, c, "Num" if pd.api.types.is_numeric_dtype(frame[c]) else "Char", 8) for c in frame.columns
    )
    return Dataset(name, name, frame, variables)


def _study(*datasets: Dataset) -> Study:
    return Study(datasets={d.name: d for d in datasets}, standards={d.name: "sdtm" for d in datasets})


def _merge(study: Study, name: str, entries: list[dict], referenced: frozenset[str] = frozenset()) -> pd.DataFrame:
    dataset = study.datasets[name]
    matches = [MatchDataset.from_rule(entry) for entry in entries]
    return merge_match_datasets(dataset.frame.reset_index(drop=True), dataset, study, matches, referenced)


def test_keys_join_brings_dm_columns_onto_each_record_and_drops_unmatched() -> None:
    study = load_case(case_dir("CORE-000034", "negative"))
    joined = _merge(study, "DS", [{"Name": "DM", "Keys": ["USUBJID"]}])
    ds = study.datasets["DS"].frame
    dm = study.datasets["DM"].frame
    assert "DTHDTC" in joined.columns
    # A column both datasets have keeps the record's value; DM's arrives as NAME.DM.
    assert (joined["DOMAIN"] == "DS").all()
    assert (joined["DOMAIN.DM"] == "DM").all()
    kept = ds["USUBJID"].isin(dm["USUBJID"])
    assert sorted(joined.index) == sorted(ds.index[kept])


def test_a_column_the_rule_names_with_the_dataset_arrives_under_that_name() -> None:
    study = load_case(case_dir("CORE-000097", "negative"))
    joined = _merge(study, "SV", [{"Name": "SE", "Keys": ["USUBJID"]}], frozenset({"SE.EPOCH", "EPOCH"}))
    assert "SE.EPOCH" in joined.columns
    assert "EPOCH.SE" not in joined.columns
    assert (joined["EPOCH"].dropna() == study.datasets["SV"].frame.loc[joined.index, "EPOCH"].dropna()).all()


def test_supp_qualifiers_are_pivoted_onto_their_parent_record() -> None:
    study = load_case(case_dir("CORE-000597", "negative"))
    joined = _merge(study, "AE", [{"Name": "SUPPAE", "Keys": ["USUBJID"]}])
    supp = study.datasets["SUPPAE"].frame
    pointed = supp[supp["QNAM"] == "AESOSP"]
    ae = study.datasets["AE"].frame
    for usubjid, seq, value in zip(pointed["USUBJID"], pointed["IDVARVAL"], pointed["QVAL"], strict=True):
        record = ae.index[(ae["USUBJID"] == usubjid) & (ae["AESEQ"] == float(seq))][0]
        assert value in joined.loc[[record], "AESOSP"].dropna().tolist()
    # CORE pivots per QORIG too: a record whose qualifiers have three origins is there three
    # times, each copy with the QNAMs of one origin.
    assert joined.loc[[0], "QORIG"].tolist() == ["Assigned", "CRF", "Derived"]
    assert set(joined.index) == set(ae.index)
    assert joined["AESEQ"].dtype == ae["AESEQ"].dtype  # the key is the record's own again


def test_two_qualifiers_with_one_name_for_one_record_stop_the_join() -> None:
    ae = pd.DataFrame({"STUDYID": ["S"], "DOMAIN": ["AE"], "USUBJID": ["1"], "AESEQ": [1.0]})
    supp = pd.DataFrame(
        {
            "STUDYID": ["S", "S"],
            "RDOMAIN": ["AE", "AE"],
            "USUBJID": ["1", "1"],
            "IDVAR": ["AESEQ", "AESEQ"],
            "IDVARVAL": ["1", "1"],
            "QNAM": ["AESOSP", "AESOSP"],
            "QVAL": ["A", "B"],
        }
    )
    study = _study(_dataset("AE", ae), _dataset("SUPPAE", supp))
    with pytest.raises(MergeError, match="same QNAM"):
        _merge(study, "AE", [{"Name": "SUPPAE", "Keys": ["USUBJID"]}])


def _child_study() -> Study:
    ae = pd.DataFrame(
        {
            "STUDYID": ["S", "S", "S"],
            "DOMAIN": ["AE", "AE", "AE"],
            "USUBJID": ["1", "1", "2"],
            "AESEQ": [1.0, 2.0, 1.0],
            "AETERM": ["HEADACHE", "NAUSEA", "RASH"],
        }
    )
    supp = pd.DataFrame(
        {
            "STUDYID": ["S", "S", "S", "S"],
            "RDOMAIN": ["AE", "AE", "AE", "AE"],
            "USUBJID": ["1", "1", "2", "3"],
            "IDVAR": ["AESEQ", "AESEQ", None, "AESEQ"],
            "IDVARVAL": ["2", "7", None, "1"],
            "QNAM": ["AETRTEM", "AETRTEM", "AETRTEM", "AETRTEM"],
            "QVAL": ["Y", "Y", "N", "Y"],
        }
    )
    return _study(_dataset("AE", ae), _dataset("SUPPAE", supp))


def test_child_supp_record_gets_the_parent_record_idvar_points_at() -> None:
    joined = _merge(
        _child_study(), "SUPPAE", [{"Name": "SUPP--", "Keys": ["USUBJID", "IDVAR", "IDVARVAL"], "Child": True}]
    )
    # IDVARVAL "2" is AESEQ 2 (a number) of the same subject.
    assert joined.loc[0, "AETERM"] == "NAUSEA"
    # No AESEQ 7: no parent, the parent's variables are blank.
    assert pd.isna(joined.loc[1, "AETERM"])
    # Without IDVAR the first record of the subject.
    assert joined.loc[2, "AETERM"] == "RASH"
    # A subject without records in AE: none.
    assert pd.isna(joined.loc[3, "AETERM"])
    assert list(joined.index) == [0, 1, 2, 3]


def test_child_merge_of_real_supp_reports_the_records_core_reported() -> None:
    study = load_case(case_dir("CORE-000712", "negative"))
    joined = _merge(study, "SUPPLB", [{"Name": "SUPP--", "Keys": ["USUBJID", "IDVAR", "IDVARVAL"], "Child": True}])
    assert len(joined) == len(study.datasets["SUPPLB"].frame)
    assert "LBTESTCD" in joined.columns


def test_relrec_pairs_join_the_related_records_with_wildcard_names() -> None:
    study = load_case(case_dir("CORE-000757", "negative", "02"))
    joined = _merge(study, "CM", [{"Name": "RELREC", "Wildcard": "FA"}])
    # results.csv: CM record 1 is related to FA's ASPIRINA, record 3 to ERYTHEMA.
    assert joined.loc[[0], "RELREC.FAOBJ"].tolist() == ["ASPIRINA"]
    assert joined.loc[[2], "RELREC.FAOBJ"].tolist() == ["ERYTHEMA"]
    assert 1 not in joined.index  # CM record 2 is in no relationship


def test_relrec_without_idvarval_joins_on_the_variables_values() -> None:
    study = load_case(case_dir("CORE-000744", "negative"))
    joined = _merge(study, "FA", [{"Name": "RELREC", "Wildcard": "**"}])
    # results.csv: FA record 5 (FALNKGRP) is related to AE's FATIGUE (AELNKID).
    assert "FATIGUE" in joined.loc[[4], "RELREC.**TERM"].tolist()


def test_relrec_with_blank_subject_as_the_package_reads_it() -> None:
    """The package's CSV reader keeps blank text as "": a RELREC record without USUBJID
    (a dataset-level relationship) still relates every subject's records."""
    study = load_case(case_dir("CORE-000757", "negative", "02"))
    relrec = study.datasets["RELREC"]
    blank = relrec.frame.astype(object).where(relrec.frame.notna(), "").astype("string")
    study = Study(
        datasets={**study.datasets, "RELREC": Dataset("RELREC", relrec.label, blank, relrec.variables, relrec.path)},
        standards=dict(study.standards),
    )
    joined = _merge(study, "CM", [{"Name": "RELREC", "Wildcard": "FA"}])
    assert joined.loc[[0], "RELREC.FAOBJ"].tolist() == ["ASPIRINA"]
