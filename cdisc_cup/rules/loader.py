"""Load rule files: every problem in every file is reported at once (file + key path).

Beyond the cerberus schema the loader checks what only the catalogue knows: that the
operator exists and accepts the parameters given, and that no rule ID is used twice.
"""

from __future__ import annotations

import importlib.resources
import inspect
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd

from cdisc_cup.errors import Problem, SpecErrors
from cdisc_cup.findings import Severity
from cdisc_cup.rules import conditions
from cdisc_cup.rules.model import Check, Rule
from cdisc_cup.rules.operators import OPERATORS
from cdisc_cup.rules.schema import RULE_FILE_SCHEMA
from cdisc_cup.spec.loader import read_yaml, validate_document


def default_rule_files() -> list[Path]:
    """The rule sets shipped with the package (the repository's `specs/rules/`)."""
    folder = Path(str(importlib.resources.files("cdisc_cup.bundled_specs"))) / "rules"
    return sorted(folder.glob("*.yaml"))


def _check_operator(check: Mapping[str, Any], key_path: str, path: Path) -> list[Problem]:
    name = check.get("operator")
    if name not in OPERATORS:
        return [
            Problem(
                str(path),
                "unknown check operator",
                column=f"{key_path}.operator",
                value=str(name),
                expected="one of " + ", ".join(sorted(OPERATORS)),
            )
        ]
    signature = inspect.signature(OPERATORS[name])
    accepted = {p.name for p in signature.parameters.values() if p.kind is inspect.Parameter.KEYWORD_ONLY}
    required = {
        p.name
        for p in signature.parameters.values()
        if p.kind is inspect.Parameter.KEYWORD_ONLY and p.default is inspect.Parameter.empty
    }
    given = set(check) - {"operator"}
    problems = [
        Problem(
            str(path),
            f"operator {name} has no parameter {p}",
            column=f"{key_path}.{p}",
            expected=", ".join(sorted(accepted)) or "no parameters",
        )
        for p in sorted(given - accepted)
    ]
    problems += [
        Problem(str(path), f"operator {name} needs parameter {p}", column=key_path) for p in sorted(required - given)
    ]
    return problems


CONDITION_PARAMS = ("when", "then", "where")


def _rule(entry: Mapping[str, Any], path: Path, study: str | None) -> Rule:
    check = dict(entry["check"])
    return Rule(
        rule_id=entry["id"],
        title=entry["title"],
        standard=entry["standard"],
        severity=Severity(entry["severity"]),
        datasets=tuple(entry["datasets"]),
        classes=tuple(entry.get("classes", ())),
        exclude=tuple(entry.get("exclude", ())),
        message=entry["message"],
        rationale=entry["rationale"],
        refs=tuple(entry.get("refs", ())),
        p21=tuple(entry.get("p21", ())),
        core=tuple(entry.get("core", ())),
        level=entry.get("level", "dataset"),
        study=study,
        versions=tuple(str(v) for v in entry.get("versions", ())),
        check=Check(check.pop("operator"), check),
        source=path,
    )


def load_rules(paths: Iterable[Path] | None = None) -> tuple[Rule, ...]:
    """All rules of the given files (default: the shipped rule sets), sorted by rule ID."""
    problems: list[Problem] = []
    rules: list[Rule] = []
    first_seen: dict[str, str] = {}
    for path in paths if paths is not None else default_rule_files():
        document = read_yaml(path, problems)
        if document is None:
            continue
        found = validate_document(document, RULE_FILE_SCHEMA, path)
        problems += found
        entries = document.get("rules") if isinstance(document, Mapping) else None
        study = document.get("study") if isinstance(document, Mapping) else None
        for index, entry in enumerate(entries if isinstance(entries, list) else []):
            if not isinstance(entry, Mapping) or not isinstance(entry.get("check"), Mapping):
                continue
            key_path = f"rules[{index}]"
            own = _check_operator(entry["check"], f"{key_path}.check", path)
            for name in CONDITION_PARAMS:
                if name in entry["check"]:
                    own += conditions.check(entry["check"][name], f"{key_path}.check.{name}", str(path))
            rule_id = entry.get("id")
            if rule_id in first_seen:
                own.append(
                    Problem(
                        str(path),
                        "rule ID used twice",
                        column=f"{key_path}.id",
                        value=str(rule_id),
                        expected=f"a new ID (also used in {first_seen[rule_id]})",
                    )
                )
            if rule_id in retired_ids():
                own.append(
                    Problem(
                        str(path),
                        "rule ID was retired (rule IDs are never reused)",
                        column=f"{key_path}.id",
                        value=str(rule_id),
                        expected="a new ID (docs/rules.md, Renumbered rule IDs)",
                    )
                )
            first_seen.setdefault(rule_id, str(path))
            problems += own
            if not own and not found:
                rules.append(_rule(entry, path, study if isinstance(study, str) else None))
    if problems:
        raise SpecErrors(problems)
    return tuple(sorted(rules, key=lambda r: r.rule_id))


@cache
def renumbered_ids() -> pd.DataFrame:
    """old_id, new_id, reason: the IDs retired when the catalogue left Pinnacle 21's numbers."""
    path = importlib.resources.files("cdisc_cup.rules") / "data" / "renumbered_ids.csv"
    with importlib.resources.as_file(path) as file:
        return pd.read_csv(file, dtype=str, keep_default_na=False)


def retired_ids() -> frozenset[str]:
    return frozenset(renumbered_ids()["old_id"])


def rules_for(spec_dir: Path | None) -> tuple[Rule, ...]:
    """The rule sets of a spec folder (its rules/*.yaml, the study's own rules among them), or
    the shipped ones when it has none."""
    files = sorted((Path(spec_dir) / "rules").glob("*.yaml")) if spec_dir is not None else []
    return load_rules(files) if files else shipped_rules()


@cache
def shipped_rules() -> tuple[Rule, ...]:
    return load_rules()
