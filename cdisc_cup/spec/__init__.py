"""Mapping specs: YAML documents validated with cerberus, loaded into typed models."""

from cdisc_cup.spec.loader import default_spec_dir, load_dataset_spec, load_study
from cdisc_cup.spec.model import (
    DatasetSpec,
    RawColumnSpec,
    RawFileSpec,
    ReaderOptions,
    RecordBlock,
    StudySpec,
    VariableSpec,
)

__all__ = [
    "DatasetSpec",
    "RawColumnSpec",
    "RawFileSpec",
    "ReaderOptions",
    "RecordBlock",
    "StudySpec",
    "VariableSpec",
    "default_spec_dir",
    "load_dataset_spec",
    "load_study",
]
