"""The names define.xml and Dataset-JSON must write identically: OIDs, file name, source, time.

A Dataset-JSON file points into the define.xml beside it (`itemGroupOID`, `itemOID`,
`metaDataVersionOID`, `metaDataRef`; Dataset-JSON 1.1 "Column attributes"), so both take
these from one place. Two runs on the same input give the same names and times (reproducible
output: the caller passes the creation time, or SOURCE_DATE_EPOCH sets it).
"""

from __future__ import annotations

from datetime import datetime
from importlib import metadata
from typing import Literal

from cdisc_cup.constants import file_timestamp
from cdisc_cup.spec.model import DatasetSpec, StudySpec

Standard = Literal["SDTM", "ADaM"]

DEFINE_FILE = "define.xml"


def item_group_oid(dataset: str) -> str:
    return f"IG.{dataset}"


def item_oid(dataset: str, variable: str) -> str:
    return f"IT.{dataset}.{variable}"


def study_oid(study: StudySpec) -> str:
    return f"STDY.{study.studyid}"


def metadata_version_oid(study: StudySpec, standard: Standard) -> str:
    return f"MDV.{study.studyid}.{standard}"


def standard_of(spec: DatasetSpec) -> Standard:
    """SDTM or ADaM, as the dataset spec's standard ("ADaMIG 1.3", "SDTMIG 3.4") says."""
    return "ADaM" if spec.standard.upper().startswith("ADAM") else "SDTM"


def source_system() -> tuple[str, str]:
    """The name and version written as ODM SourceSystem (and Dataset-JSON sourceSystem)."""
    try:
        version = metadata.version("cdisc-cup")
    except metadata.PackageNotFoundError:
        version = "unknown"
    return "cdisc-cup", version


def creation_timestamp(created: datetime | None) -> str:
    """ISO 8601 without fractions; the caller fixes it (or SOURCE_DATE_EPOCH) for byte-identical runs."""
    moment = created if created is not None else file_timestamp()
    return moment.replace(microsecond=0, tzinfo=None).isoformat()
