"""What the ADaM code needs from an ADaM dataset spec: predecessors and the final shape."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from cdisc_cup.constants import SAS_EPOCH
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
    sdtm_names = {spec.name for spec in study.sdtm}
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
