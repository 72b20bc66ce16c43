"""What the ADaM code needs from an ADaM dataset spec: predecessors and the final shape."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import replace

import pandas as pd

from cdisc_cup.constants import SAS_EPOCH
from cdisc_cup.errors import InputErrors, Problem
from cdisc_cup.spec.model import DatasetSpec, StudySpec


def predecessors(spec: DatasetSpec) -> dict[str, str]:
    """`{variable: "DATASET.VARIABLE"}` for every Predecessor variable of the spec."""
    return {v.name: v.value["predecessor"] for v in spec.variables if v.value is not None and "predecessor" in v.value}


def study_for_sdtm(study: StudySpec) -> StudySpec:
    """The study's ADaM specs as its SDTM specs allow: an `optional` Predecessor variable whose
    SDTM variable is not submitted (AE.AESDTH of a format v1 export) is left out too, and the
    dataset's define.xml comment says so. A non-optional one stays and fails loudly in
    `derive_vars_predecessor`, because a misspelt predecessor must not vanish silently."""
    submitted = {f"{spec.name}.{variable}" for spec in study.sdtm for variable in spec.variable_names}
    return _without_unsubmitted(study, submitted, {spec.name for spec in study.sdtm})


def study_for_datasets(study: StudySpec, sdtm: Mapping[str, pd.DataFrame]) -> StudySpec:
    """The study's ADaM specs as a folder of SDTM datasets allows (`cdisc-cup adam`): an
    optional Predecessor variable whose SDTM variable is not in the folder is left out, as
    `study_for_sdtm` does for an export; a required one is the user's error, naming the
    dataset and variable, before any derivation runs."""
    submitted = {f"{name}.{column}" for name, frame in sdtm.items() for column in frame.columns}
    study = _without_unsubmitted(study, submitted, set(sdtm))
    adam = {spec.name for spec in study.adam}
    problems = [
        Problem(
            f"{source.split('.')[0].lower()}.xpt",
            f"{spec.name}.{name} is a copy of {source}, which the SDTM datasets do not have",
            column=source.split(".")[1],
            expected=f"variable {source.split('.')[1]} in dataset {source.split('.')[0]}",
        )
        for spec in study.adam
        for name, source in predecessors(spec).items()
        if source.split(".")[0] in sdtm
        and source.split(".")[0] not in adam
        and source not in submitted
        and not source.startswith("SUPP")
    ]
    if problems:
        raise InputErrors(problems, source="SDTM folder")
    return study


def study_for_written_adam(study: StudySpec, written: Mapping[str, Collection[str]]) -> StudySpec:
    """The study's ADaM specs as an earlier `cdisc-cup adam` run applied them, read off the
    variables of the ADaM datasets it wrote (`written`: dataset -> variable names): an optional
    Predecessor variable a written dataset lacks was left out because the SDTM folder read
    lacked its source (`study_for_datasets`), and is left out again with the same comment. The
    SDTM folder itself is not in that output, and may have changed since."""
    copied = [(spec, name, source) for spec in study.adam for name, source in predecessors(spec).items()]
    submitted = {source for spec, name, source in copied if spec.name not in written or name in written[spec.name]}
    return _without_unsubmitted(study, submitted, {source.split(".")[0] for _, _, source in copied})


def _without_unsubmitted(study: StudySpec, submitted: set[str], sdtm_names: set[str]) -> StudySpec:
    """The ADaM specs without their optional Predecessor variables of SDTM variables that are
    not submitted, each dataset's comment saying why."""
    specs = []
    for spec in study.adam:
        left_out = {
            name: source
            for name, source in predecessors(spec).items()
            if spec.variable(name).optional and source.split(".")[0] in sdtm_names and source not in submitted
        }
        if left_out:
            reason = f"{', '.join(left_out)} not submitted: {', '.join(left_out.values())} not submitted in SDTM."
            spec = spec.without(left_out, reason)
        specs.append(spec)
    return replace(study, adam=tuple(specs))


def shape_to_spec(frame: pd.DataFrame, spec: DatasetSpec) -> pd.DataFrame:
    """Keep the spec's variables in spec order and give each the dtype its type implies.

    Char -> pandas string (missing and blank = NA, written as blanks); Num dates (a DATE
    format) -> datetime64 for the XPT writer, also from SAS day numbers when the frame was read
    back from an XPT file; other Num -> float64 (SAS numbers are doubles).
    """
    missing = [v.name for v in spec.variables if v.name not in frame.columns]
    if missing:
        raise KeyError(f"{spec.name}: derivations produced no column for " + ", ".join(missing))
    columns = {}
    for variable in spec.variables:
        values = frame[variable.name]
        if variable.type == "Char":
            text = values.astype("string")
            columns[variable.name] = text.mask(text.str.strip() == "")
        elif variable.format and variable.format.startswith("DATE"):
            if pd.api.types.is_numeric_dtype(values):
                values = pd.to_datetime(values, unit="D", origin=SAS_EPOCH)
            columns[variable.name] = pd.to_datetime(values).astype("datetime64[s]")
        else:
            columns[variable.name] = pd.to_numeric(values).astype("float64")
    return pd.DataFrame(columns, index=frame.index).reset_index(drop=True)
