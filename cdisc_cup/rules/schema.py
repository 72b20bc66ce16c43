"""Cerberus schema of a rule file (`specs/rules/*.yaml`): a list of rules under `rules:`.

Kept in the package so a study's rule files cannot loosen it. The operator name is checked
against the catalogue by the loader, which knows the operators.
"""

from __future__ import annotations

from typing import Any

from cdisc_cup.rules.model import RULE_FAMILIES, STANDARD_SCOPES

RULE_ID = r"^(" + "|".join(RULE_FAMILIES) + r")\d{4}$"
RELATION = r"( \((broader|narrower|partial)\))?$"

RULE: dict[str, Any] = {
    "type": "dict",
    "schema": {
        "id": {"type": "string", "required": True, "regex": RULE_ID},
        "title": {"type": "string", "required": True, "empty": False},
        "standard": {"type": "string", "required": True, "allowed": list(STANDARD_SCOPES)},
        "datasets": {
            "type": "list",
            "required": True,
            "minlength": 1,
            "schema": {"type": "string", "regex": r"^[A-Z0-9*?\-]+$"},
        },
        "classes": {"type": "list", "schema": {"type": "string"}},
        "exclude": {"type": "list", "schema": {"type": "string", "regex": r"^[A-Z0-9*?\-]+$"}},
        "severity": {"type": "string", "required": True, "allowed": ["Error", "Warning", "Notice"]},
        "level": {"type": "string", "allowed": ["dataset", "study"]},
        # IG versions the rule applies to (default: every version of its standard's IG).
        "versions": {"type": "list", "schema": {"type": "string", "regex": r"^\d+\.\d+$"}},
        "message": {"type": "string", "required": True, "empty": False},
        "rationale": {"type": "string", "required": True, "empty": False},
        "refs": {"type": "list", "schema": {"type": "string"}},
        # The Pinnacle 21 and CDISC CORE rules that check the same thing (docs/rules.md).
        # An ID alone: the same check; "(broader)", "(narrower)", "(partial)": how the other one differs.
        "p21": {"type": "list", "schema": {"type": "string", "regex": r"^[A-Z]{2,4}\d{3,4}[A-Z]?" + RELATION}},
        "core": {"type": "list", "schema": {"type": "string", "regex": r"^CORE-\d{6}" + RELATION}},
        "check": {
            "type": "dict",
            "required": True,
            "schema": {"operator": {"type": "string", "required": True}},
            "allow_unknown": True,
        },
    },
}

RULE_FILE_SCHEMA: dict[str, Any] = {
    "description": {"type": "string"},
    # A study's own (sponsor) rules: they apply only to datasets whose STUDYID is this one.
    "study": {"type": "string", "empty": False},
    "rules": {"type": "list", "required": True, "schema": RULE},
}
