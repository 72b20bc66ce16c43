"""What the ADaM code needs from an ADaM dataset spec: predecessors and the final shape."""

from __future__ import annotations

import pandas as pd

from cdisc_cup.constants import SAS_EPOCH
from cdisc_cup.spec.model import DatasetSpec


def predecessors(spec: DatasetSpec) -> dict[str, str]:
    """`{variable: "DATASET.VARIABLE"}` for every Predecessor variable of the spec."""
    return {v.name: v.value["predecessor"] for v in spec.variables if v.value is not None and "predecessor" in v.value}


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
