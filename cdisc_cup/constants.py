"""The fixed facts every stage shares: SAS XPORT v5 and FDA limits, the SAS epoch, and the
timestamp of a reproducible run. One home each, so a limit cannot differ between the spec
check, the writer and the rules.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import yaml

# SAS XPORT version 5 (SAS TS-140) as FDA requires it (Study Data Technical Conformance Guide
# section 3.3.1): names of datasets and variables, labels, character values.
MAX_NAME_LENGTH = 8
MAX_LABEL_LENGTH = 40
MAX_CHAR_LENGTH = 200
# FDA TCG section 3.3.2 "Dataset Size": at most 5 GB per file, decimal gigabytes (see xpt.split).
FDA_FILE_LIMIT = 5 * 10**9

# Specs, CT extensions and CORE rules are read without constructing objects from tags
# (the safe loader); libyaml's C build of it parses the 20 spec files several times faster.
SAFE_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# Threads for column work that runs in Arrow and numpy kernels (they release the GIL):
# decoding XPT columns, writing XPT files, running the rules. One per core, at most 8.
WORKER_THREADS = min(os.cpu_count() or 1, 8)

# SAS counts dates in days and datetimes in seconds from 1 January 1960.
SAS_EPOCH = pd.Timestamp("1960-01-01")
SAS_EPOCH_DAY = np.datetime64("1960-01-01", "D")
SAS_EPOCH_MICROSECOND = np.datetime64("1960-01-01T00:00:00", "us")


def source_date_epoch() -> datetime | None:
    """The time of a reproducible build (SOURCE_DATE_EPOCH, reproducible-builds.org), if set:
    two runs on the same input then write the same bytes whatever the clock says."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not epoch.isdigit():
        return None
    return datetime.fromtimestamp(int(epoch), tz=UTC).replace(tzinfo=None)


def file_timestamp(fallback: datetime | None = None) -> datetime:
    """The creation time written into XPT headers, define.xml and Dataset-JSON: SOURCE_DATE_EPOCH,
    else `fallback` (a conversion passes the latest date of its export), else the SAS epoch;
    never the clock, so reruns are byte-identical."""
    return source_date_epoch() or fallback or SAS_EPOCH.to_pydatetime()
