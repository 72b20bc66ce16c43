"""CT rules take each variable's codelist from define.xml when the folder has one.

The sample's RS (ECOG, a clinical classification) and SC (sponsor test codes) are the
cases: the IG ties RSTESTCD to the oncology-response codelist, the define.xml to ECOG1TC;
the SC test codes are sponsor extensions of SCTESTCD declared with ExtendedValue="Yes".
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from cdisc_cup.define.read import read_define
from cdisc_cup.pipeline import ConversionResult
from cdisc_cup.rules.engine import validate_datasets
from cdisc_cup.rules.loader import shipped_rules
from cdisc_cup.xpt.read import read_dataset_folder

CT_RULES = [r for r in shipped_rules() if r.family == "CT"]


def _ct_findings(sdtm_dir: Path, define_path: Path | None) -> pd.DataFrame:
    define = read_define(define_path) if define_path is not None else None
    return validate_datasets(read_dataset_folder(sdtm_dir), define=define, rules=CT_RULES).findings


def test_the_sample_has_no_ct_findings_with_its_define(converted_sample: ConversionResult) -> None:
    findings = _ct_findings(converted_sample.sdtm_dir, converted_sample.defines["SDTM"])
    assert findings.empty, findings[["rule_id", "dataset", "variable", "value"]].drop_duplicates().to_string()


def test_without_define_the_ig_codelist_applies(converted_sample: ConversionResult) -> None:
    findings = _ct_findings(converted_sample.sdtm_dir, None)
    flagged = set(zip(findings["rule_id"], findings["dataset"], findings["variable"], strict=True))
    assert ("CT5002", "RS", "RSTESTCD") in flagged  # ECOG101 is no oncology response test code
    assert ("CT5002", "SC", "SCTESTCD") in flagged  # sponsor test codes are not CDISC terms


def test_an_extension_not_declared_in_define_is_a_finding(converted_sample: ConversionResult, tmp_path: Path) -> None:
    define_text = converted_sample.defines["SDTM"].read_text(encoding="utf-8")
    assert 'CodedValue="NPRLINES" def:ExtendedValue="Yes"' in define_text
    undeclared = tmp_path / "define.xml"
    undeclared.write_text(define_text.replace(' def:ExtendedValue="Yes"', ""), encoding="utf-8")

    findings = _ct_findings(converted_sample.sdtm_dir, undeclared)

    sc_codes = findings[(findings["rule_id"] == "CT5002") & (findings["variable"] == "SCTESTCD")]
    assert "NPRLINES" in set(sc_codes["value"])
    assert set(sc_codes["dataset"]) == {"SC"}


def test_value_level_codelists_are_merged_and_free_text_is_not_controlled(converted_sample: ConversionResult) -> None:
    defined = read_define(converted_sample.defines["SDTM"])
    dsdecod = {c.oid for c in defined.datasets["DS"].variables["DSDECOD"].codelists}
    assert {"CL.NCOMPLT", "CL.PROTMLST"} <= dsdecod
    # SUPPAE.QVAL: AESI is NY, the relationship texts have no codelist -> not controlled as a whole.
    assert defined.datasets["SUPPAE"].variables["QVAL"].codelists == ()


def test_a_define_rewritten_at_the_same_path_is_read_again(converted_sample: ConversionResult, tmp_path: Path) -> None:
    text = converted_sample.defines["SDTM"].read_text(encoding="utf-8")
    path = tmp_path / "define.xml"
    path.write_text(text, encoding="utf-8")
    assert "NPRLINES" in read_define(path).datasets["SC"].variables["SCTESTCD"].codelists[0].extended

    path.write_text(text.replace(' def:ExtendedValue="Yes"', ""), encoding="utf-8")

    assert read_define(path).datasets["SC"].variables["SCTESTCD"].codelists[0].extended == frozenset()


def test_an_external_dictionary_lists_no_allowed_values(converted_sample: ConversionResult) -> None:
    defined = read_define(converted_sample.defines["SDTM"]).datasets["AE"].variables
    assert defined["AEDECOD"].codelists and defined["AEDECOD"].allowed_values is None  # MedDRA
    assert "Y" in (defined["AESER"].allowed_values or ())
