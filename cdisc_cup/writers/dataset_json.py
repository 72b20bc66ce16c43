"""CDISC Dataset-JSON v1.1: the same datasets as the XPT files, in JSON.

Column metadata (itemOID, dataType, length, displayFormat, keySequence) come from the define
model of the folder (`cdisc_cup.define.model`), not from measuring the data again, so the
`itemOID`s and `itemGroupOID` resolve in the define.xml written beside them and say the same
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
    source_system,
    standard_of,
)
from cdisc_cup.define.model import DefinedVariable, DefineModel
from cdisc_cup.define.shapes import is_date_format
from cdisc_cup.derivations.dates import iso_dates
from cdisc_cup.spec.model import DatasetSpec, StudySpec

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


def is_sas_date(variable: DefinedVariable) -> bool:
    """A SAS date, datetime or time number as define.xml describes it: DataType integer with a
    date display format (Define-XML 2.1: the ISO 8601 DataTypes are for character values)."""
    return variable.data_type == "integer" and is_date_format(variable.display_format)


def column_metadata(variable: DefinedVariable) -> dict[str, Any]:
    """One `columns` entry, as define.xml describes the variable; key order as in the specification's examples."""
    column: dict[str, Any] = {"itemOID": variable.oid, "name": variable.name, "label": variable.label}
    if is_sas_date(variable):
        column.update(dataType="date", targetDataType="integer", displayFormat=variable.display_format)
    else:
        column["dataType"] = JSON_TYPES.get(variable.data_type, "string")
        if column["dataType"] == "string":
            column["length"] = variable.length
        if variable.display_format:
            column["displayFormat"] = variable.display_format
    if variable.key_sequence is not None:
        column["keySequence"] = variable.key_sequence
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
    define: DefineModel,
    *,
    created: datetime | None = None,
) -> dict[str, Any]:
    """The Dataset-JSON 1.1 document of one dataset, its columns as `define` describes them (in its order)."""
    standard = standard_of(spec)
    described = define.datasets[spec.name]
    columns = [column_metadata(variable) for variable in described.variables.values()]
    converted = {column["name"]: json_values(frame[column["name"]], column) for column in columns}
    rows = np.column_stack(list(converted.values())).tolist() if columns and len(frame) else []
    tool, version = source_system()
    return {
        "datasetJSONCreationDateTime": creation_timestamp(created),
        "datasetJSONVersion": DATASET_JSON_VERSION,
        "fileOID": f"{study.studyid}.{standard}.{spec.name}",
        "originator": tool,
        "sourceSystem": {"name": tool, "version": version},
        "studyOID": define.study_oid,
        "metaDataVersionOID": define.metadata_version_oid,
        "metaDataRef": DEFINE_FILE,
        "itemGroupOID": described.oid,
        "records": len(frame),
        "name": spec.name,
        "label": described.label,
        "columns": columns,
        "rows": rows,
    }


def write_dataset_json(
    path: Path,
    frame: pd.DataFrame,
    spec: DatasetSpec,
    study: StudySpec,
    define: DefineModel,
    *,
    created: datetime | None = None,
) -> None:
    """Write one dataset as Dataset-JSON 1.1 (UTF-8, one line, no NaN: invalid JSON is refused).

    `define` is the model of the define.xml written beside it, which gives the column metadata."""
    document = dataset_json_document(frame, spec, study, define, created=created)
    text = json.dumps(document, ensure_ascii=False, allow_nan=False, default=_json_default, separators=(",", ":"))
    Path(path).write_text(text, encoding="utf-8")


def read_dataset_json(path: Path) -> pd.DataFrame:
    """The records of a Dataset-JSON file as a frame (values as exchanged: dates stay ISO text)."""
    document = json.loads(Path(path).read_text(encoding="utf-8"))
    names = [column["name"] for column in document["columns"]]
    return pd.DataFrame(document.get("rows", []), columns=names)
