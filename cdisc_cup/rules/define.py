"""define.xml against its datasets as a check of the tool's own output: the DX rules as problems.

There is one define-vs-data check, the DX rules (specs/rules/define.yaml) on the define model.
`convert` runs them with every other rule, as findings. `cdisc-cup define` regenerates a
define.xml from the XPT files and has no validation step, so it runs them here, on the folder's
datasets and the model of the document it has just built; since both come from the same files,
a finding is the tool's bug, and is raised as a problem instead of being reported.
"""

from __future__ import annotations

from collections.abc import Sequence

from cdisc_cup.errors import Problem, display_path
from cdisc_cup.rules.engine import DatasetFolder, validate_folders
from cdisc_cup.rules.model import Rule

DEFINE_FAMILY = "DX"


def define_problems(folder: DatasetFolder, rules: Sequence[Rule]) -> list[Problem]:
    """The findings of the DX rules among `rules` on one folder, as problems located in its define.xml."""
    define = folder.define
    where = display_path(define.path) if define is not None and define.path is not None else "define.xml"
    findings = validate_folders([folder], [rule for rule in rules if rule.family == DEFINE_FAMILY]).findings
    return [
        Problem(
            where,
            f"{finding['rule_id']}: {finding['message']}",
            column=f"{finding['dataset']}.{finding['variable']}" if finding["variable"] else finding["dataset"] or None,
            value=finding["value"] or None,
        )
        for finding in findings.to_dict("records")
    ]
