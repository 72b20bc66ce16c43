"""CORE's `Operations` block: values computed before the check and referenced as `$id`."""

from __future__ import annotations

import pandas as pd

from cdisc_cup.rules.core.frames import RuleFrame
from cdisc_cup.rules.core.model import CoreRule, NotRunnableError
from cdisc_cup.rules.model import Study


def apply_operations(rule: CoreRule, rule_frame: RuleFrame, study: Study) -> pd.DataFrame:
    """Returns rule_frame.frame with one added column per operation, named by the operation's
    `id` (e.g. "$max_aestdtc"); unknown operation -> raise NotRunnableError(reason). Trivial
    version: no operations -> frame unchanged; any operation -> NotRunnableError."""
    if rule.operations:
        raise NotRunnableError(f"operation {rule.operations[0].get('operator')!r} is not supported")
    return rule_frame.frame
