"""CDISC Dataset-JSON v1.1: the same datasets as the XPT files, in JSON.

Column metadata come from the same specs and data as define.xml (OIDs, data types, lengths),
so the `itemOID`s and `itemGroupOID` resolve in the define.xml written beside them
(Dataset-JSON 1.1 specification, "Column attributes"). Missing values are `null`
(specification, "Missing values"); ADaM numeric dates are exchanged as ISO 8601 strings with
`dataType` date, `targetDataType` integer and their SAS display format ("Date/Time Variables").
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cdisc_cup.define.identifiers import (
    DEFINE_FILE,
    creation_timestamp,
    item_group_oid,
    item_oid,
    metadata_version_oid,
    source_system,
    standard_of,
    study_oid,
)
from cdisc_cup.define.shapes import ItemShape, is_numeric_date, item_shape
from cdisc_cup.derivations.dates import iso_dates
from cdisc_cup.spec.model import DatasetSpec, StudySpec, VariableSpec

DATASET_JSON_VERSION = "1.1.0"
# Define-XML DataType -> Dataset-JSON dataType (ISO 8601 partial values are still dates).
JSON_TYPES = {
    "text": "string",
    "integer": "integer",
    "float": "float",
    "date": "date",
    "partialDate": "date",
    "datetime": "datetime",
    "partialDatetime": "datetime",
    "incompleteDatetime": "datetime",
    "time": "time",
    "partialTime": "time",
    "durationDatetime": "string",
}
_SAS_EPOCH = pd.Timestamp("1960-01-01")


def column_metadata(variable: VariableSpec, spec: DatasetSpec, shape: ItemShape) -> dict[str, Any]:
    """One `columns` entry; key order as in the specification's examples."""
    column: dict[str, Any] = {
        "itemOID": item_oid(spec.name, variable.name),
        "name": variable.name,
        "label": variable.label,
    }
    if is_numeric_date(variable):
        column.update(dataType="date", targetDataType="integer", displayFormat=shape.display_format)
    else:
        column["dataType"] = JSON_TYPES.get(shape.data_type, "string")
        if column["dataType"] == "string":
            column["length"] = shape.length
        if shape.display_format:
            column["displayFormat"] = shape.display_format
    if variable.name in spec.keys:
        column["keySequence"] = spec.keys.index(variable.name) + 1
    return column


def json_values(values: pd.Series, column: Mapping[str, Any]) -> np.ndarray:
    """The column as JSON-ready Python objects, missing values as None."""
    if column.get("targetDataType") == "integer":
        if pd.api.types.is_datetime64_any_dtype(values):
            moments = values
        else:
            moments = _SAS_EPOCH + pd.to_timedelta(pd.to_numeric(values, errors="coerce"), unit="D")
        converted = iso_dates(moments).astype(object)
    elif column["dataType"] == "integer" and not _is_text(values):
        converted = pd.to_numeric(values, errors="coerce").round().astype("Int64").astype(object)
    elif column["dataType"] == "float" and not _is_text(values):
        converted = pd.to_numeric(values, errors="coerce").astype("Float64").astype(object)
    else:
        converted = values.astype(object)
    objects = np.array(converted.to_numpy(dtype=object), dtype=object, copy=True)
    # Assigned in numpy: pandas would turn None back into NaN, which JSON cannot hold.
    objects[~(values.notna() & converted.notna()).to_numpy(dtype=bool)] = None
    return objects


def _is_text(values: pd.Series) -> bool:
    return pd.api.types.is_string_dtype(values) or values.dtype == object


def _json_default(value: object) -> object:
    """numpy scalars that pandas leaves in object columns."""
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot write {type(value).__name__} to Dataset-JSON")


def dataset_json_document(
    frame: pd.DataFrame,
    spec: DatasetSpec,
    study: StudySpec,
    *,
    lengths: Mapping[str, int] | None = None,
    created: datetime | None = None,
) -> dict[str, Any]:
    """The Dataset-JSON 1.1 document of one dataset, columns in the XPT (spec) order."""
    standard = standard_of(spec)
    names = [name for name in spec.variable_names if name in frame.columns]
    columns = []
    converted = {}
    for name in names:
        variable = spec.variable(name)
        shape = item_shape(variable, frame[name], (lengths or {}).get(name))
        column = column_metadata(variable, spec, shape)
        columns.append(column)
        converted[name] = json_values(frame[name], column)
    rows = np.column_stack([converted[name] for name in names]).tolist() if names and len(frame) else []
    tool, version = source_system()
    return {
        "datasetJSONCreationDateTime": creation_timestamp(created),
        "datasetJSONVersion": DATASET_JSON_VERSION,
        "fileOID": f"{study.studyid}.{standard}.{spec.name}",
        "originator": tool,
        "sourceSystem": {"name": tool, "version": version},
        "studyOID": study_oid(study),
        "metaDataVersionOID": metadata_version_oid(study, standard),
        "metaDataRef": DEFINE_FILE,
        "itemGroupOID": item_group_oid(spec.name),
        "records": len(frame),
        "name": spec.name,
        "label": spec.label,
        "columns": columns,
        "rows": rows,
    }


def write_dataset_json(
    path: Path,
    frame: pd.DataFrame,
    spec: DatasetSpec,
    study: StudySpec,
    *,
    lengths: Mapping[str, int] | None = None,
    created: datetime | None = None,
) -> None:
    """Write one dataset as Dataset-JSON 1.1 (UTF-8, one line, no NaN: invalid JSON is refused)."""
    document = dataset_json_document(frame, spec, study, lengths=lengths, created=created)
    text = json.dumps(document, ensure_ascii=False, allow_nan=False, default=_json_default, separators=(",", ":"))
    Path(path).write_text(text, encoding="utf-8")


def read_dataset_json(path: Path) -> pd.DataFrame:
    """The records of a Dataset-JSON file as a frame (values as exchanged: dates stay ISO text)."""
    document = json.loads(Path(path).read_text(encoding="utf-8"))
    names = [column["name"] for column in document["columns"]]
    return pd.DataFrame(document.get("rows", []), columns=names)
