"""What frame a CORE rule's check runs on, per dataset in its scope.

Record Data rules see the dataset's records (with Match Datasets merged in); the metadata
rule types see one row per variable / dataset / domain with CORE's metadata column names.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pandas as pd

from cdisc_cup.rules.core.model import CoreRule, NotRunnableError
from cdisc_cup.rules.model import Study
from cdisc_cup.xpt.model import Dataset


@dataclass(frozen=True)
class RuleFrame:
    dataset: Dataset  # cdisc_cup.xpt.model.Dataset the findings belong to
    frame: pd.DataFrame  # what the check sees; index = record positions in `dataset` (0-based)
    domain: str  # for `--` substitution (e.g. "AE")


def rule_frames(rule: CoreRule, study: Study) -> Iterator[RuleFrame]:
    """Yields, for each dataset in the rule's scope, the frame the check runs on.

    Record Data: the dataset's records (columns as in the data; Match Datasets merged in);
    metadata rule types: one row per variable / per dataset / per domain with CORE's metadata
    column names (variable_name, variable_label, dataset_name, ...). The trivial version handles
    Record Data without Match Datasets; other types raise NotRunnableError(reason)."""
    from cdisc_cup.rules.core.engine import datasets_in_scope

    if rule.rule_type != "Record Data":
        raise NotRunnableError(f"rule type {rule.rule_type!r} is not supported")
    if rule.match_datasets:
        raise NotRunnableError("Match Datasets are not supported")
    for dataset in datasets_in_scope(rule, study):
        frame = dataset.frame.reset_index(drop=True)
        yield RuleFrame(dataset=dataset, frame=frame, domain=dataset.domain_prefix)
