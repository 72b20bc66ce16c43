"""Dataset-JSON 1.1: valid against the CDISC JSON Schema, values read back unchanged, columns as define.xml says."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import jsonschema
import pandas as pd
import pytest

from cdisc_cup.define.build import build_define
from cdisc_cup.define.document import NS
from cdisc_cup.define.model import DefineModel
from cdisc_cup.define.read import define_of
from cdisc_cup.spec.model import StudySpec
from cdisc_cup.writers.dataset_json import read_dataset_json, write_dataset_json
from tests.conftest import CREATED


@pytest.fixture(scope="module")
def validator(shared_dir: Path) -> jsonschema.Draft201909Validator:
    schema_path = shared_dir / "reference/dataset-json-1.1/schema/dataset.schema.json"
    return jsonschema.Draft201909Validator(json.loads(schema_path.read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def sdtm_tree(converted_sample):
    study = converted_sample.study
    return build_define(
        study, study.sdtm, converted_sample.sdtm, standard="SDTM", lengths=converted_sample.lengths, created=CREATED
    )


@pytest.fixture(scope="module")
def sdtm_model(sdtm_tree) -> DefineModel:
    return define_of(sdtm_tree)


@pytest.fixture(scope="module")
def adam_model(study: StudySpec, adam_frames) -> DefineModel:
    return define_of(build_define(study, study.adam, adam_frames, standard="ADaM", created=CREATED))


def _written(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[[c for c in frame.columns if not c.startswith("__")]]


def _same(expected: pd.Series, actual: pd.Series) -> bool:
    """Missing equals null; numbers compare as numbers, text as text."""
    if pd.api.types.is_numeric_dtype(expected):
        return bool(
            pd.to_numeric(actual, errors="coerce")
            .astype(float)
            .fillna(-1e300)
            .eq(expected.astype(float).fillna(-1e300).to_numpy())
            .all()
        )
    exp = expected.astype(object).where(expected.notna(), None).tolist()
    return exp == actual.astype(object).where(actual.notna(), None).tolist()


def test_sdtm_datasets_are_valid_and_round_trip(converted_sample, sdtm_model, validator, tmp_path: Path) -> None:
    study = converted_sample.study
    for spec in study.sdtm:
        frame = _written(converted_sample.sdtm[spec.name])
        path = tmp_path / f"{spec.name.lower()}.json"
        write_dataset_json(path, frame, spec, study, sdtm_model, created=CREATED)
        document = json.loads(path.read_text(encoding="utf-8"))
        assert [e.message for e in validator.iter_errors(document)] == [], spec.name
        assert document["records"] == len(frame) == len(document["rows"])
        back = read_dataset_json(path)
        assert list(back.columns) == [v for v in spec.variable_names if v in frame.columns]
        for name in back.columns:
            assert _same(frame[name].reset_index(drop=True), back[name]), f"{spec.name}.{name}"


def test_column_metadata_matches_define(converted_sample, sdtm_tree, sdtm_model, tmp_path: Path) -> None:
    study = converted_sample.study
    spec = study.dataset("DM")
    path = tmp_path / "dm.json"
    write_dataset_json(path, _written(converted_sample.sdtm["DM"]), spec, study, sdtm_model, created=CREATED)
    document = json.loads(path.read_text(encoding="utf-8"))
    mdv = sdtm_tree.getroot().find("odm:Study/odm:MetaDataVersion", NS)
    item_defs = {i.get("OID"): i for i in mdv.iterfind("odm:ItemDef", NS)}
    refs = {r.get("ItemOID"): r for r in mdv.iterfind('odm:ItemGroupDef[@OID="IG.DM"]/odm:ItemRef', NS)}
    assert document["itemGroupOID"] == "IG.DM"
    assert document["metaDataVersionOID"] == mdv.get("OID")
    assert document["studyOID"] == sdtm_tree.getroot().find("odm:Study", NS).get("OID")
    assert [c["itemOID"] for c in document["columns"]] == list(refs)
    for column in document["columns"]:
        item = item_defs[column["itemOID"]]
        assert column["name"] == item.get("Name")
        if column["dataType"] == "string":
            assert column["length"] == int(item.get("Length"))
        key = refs[column["itemOID"]].get("KeySequence")
        assert column.get("keySequence") == (int(key) if key else None)
    usubjid = next(c for c in document["columns"] if c["name"] == "USUBJID")
    assert usubjid["keySequence"] == 2
    age = next(c for c in document["columns"] if c["name"] == "AGE")
    assert age["dataType"] == "integer"
    assert all(
        isinstance(row[[c["name"] for c in document["columns"]].index("AGE")], int | None) for row in document["rows"]
    )


def test_the_columns_come_from_the_define_model(converted_sample, sdtm_model, tmp_path: Path) -> None:
    """What define.xml says is what Dataset-JSON says: a Length changed in the model shows in the JSON."""
    study = converted_sample.study
    dm = sdtm_model.datasets["DM"]
    changed = replace(dm.variables["USUBJID"], length=99, display_format="$99.")
    model = replace(sdtm_model, datasets={**sdtm_model.datasets, "DM": replace(dm, variables={"USUBJID": changed})})
    path = tmp_path / "dm.json"
    write_dataset_json(path, _written(converted_sample.sdtm["DM"]), study.dataset("DM"), study, model, created=CREATED)
    document = json.loads(path.read_text(encoding="utf-8"))
    assert [(c["name"], c["length"], c["displayFormat"]) for c in document["columns"]] == [("USUBJID", 99, "$99.")]
    assert all(len(row) == 1 for row in document["rows"])


def test_adam_numeric_dates_are_iso_strings(
    study: StudySpec, adam_frames, adam_model, validator, tmp_path: Path
) -> None:
    spec = study.dataset("ADSL")
    path = tmp_path / "adsl.json"
    write_dataset_json(path, adam_frames["ADSL"], spec, study, adam_model, created=CREATED)
    document = json.loads(path.read_text(encoding="utf-8"))
    assert [e.message for e in validator.iter_errors(document)] == []
    names = [c["name"] for c in document["columns"]]
    trtsdt = document["columns"][names.index("TRTSDT")]
    assert (trtsdt["dataType"], trtsdt["targetDataType"], trtsdt["displayFormat"]) == ("date", "integer", "DATE9.")
    assert document["rows"][0][names.index("TRTSDT")] == "2020-07-01"
    assert document["rows"][-1][names.index("TRTSDT")] is None
    assert document["datasetJSONCreationDateTime"] == "2024-05-06T07:08:09"


def test_the_schema_check_is_real(converted_sample, sdtm_model, validator, tmp_path: Path) -> None:
    study = converted_sample.study
    path = tmp_path / "ae.json"
    frame = _written(converted_sample.sdtm["AE"])
    write_dataset_json(path, frame, study.dataset("AE"), study, sdtm_model, created=CREATED)
    document = json.loads(path.read_text(encoding="utf-8"))
    document["datasetJSONVersion"] = "1.0.0"
    del document["columns"][0]["label"]
    assert len(list(validator.iter_errors(document))) == 2
