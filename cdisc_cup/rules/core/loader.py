"""CORE rule.yml files read as data: a `CoreRule`, or a `NotRunnable` saying why not.

What can be known from the rule alone is decided here, once: JSONata rules, rule types that
compare with CDISC Library metadata we do not ship, operations that need what is not
available offline (MedDRA, WHODrug, CT packages by version) or that we do not implement,
and check operators we do not implement are each a `NotRunnable` with the reason. The
Library operations answer from the Library subset the package ships (`library.py`); where
that subset cannot answer for the data (an IG version not shipped), the run says so per
dataset (`NotRunnableError`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from cdisc_cup.constants import SAFE_YAML_LOADER
from cdisc_cup.errors import InputErrors, Problem, display_path
from cdisc_cup.rules.core.model import OUR_RULES, Citation, CoreRule, MatchDataset, NotRunnable, Scope
from cdisc_cup.rules.core.operations import OPERATIONS, operation_unavailable
from cdisc_cup.rules.core.operators import OPERATORS
from cdisc_cup.rules.loader import load_rules, rules_for
from cdisc_cup.rules.model import Rule

# The rule types whose frame frames.py builds (the others compare with the CDISC Library).
RUNNABLE_TYPES = frozenset(
    {
        "Record Data",
        "Dataset Metadata Check",
        "Variable Metadata Check",
        "Domain Presence Check",
        "Value Check with Variable Metadata",
        "Value Check with Dataset Metadata",
    }
)
LoadedRule = CoreRule | NotRunnable
# libyaml's safe loader where PyYAML has it: the same documents, read ~10x faster (330 rules).


def load_core_rules(paths: Iterable[Path]) -> list[LoadedRule]:
    """Every CORE rule under `paths`: a rule.yml, or a folder holding CORE rule folders."""
    loaded: list[LoadedRule] = []
    for path in paths:
        loaded.extend(load_core_rule(file) for file in rule_files(Path(path)))
    return loaded


def rule_files(path: Path) -> list[Path]:
    """A rule.yml itself, a rule folder, or a folder of rule folders (such as Published/)."""
    if path.is_file():
        return [path]
    if (path / "rule.yml").is_file():
        return [path / "rule.yml"]
    files = sorted(path.glob("*/rule.yml"))
    if not path.is_dir() or not files:
        raise InputErrors([Problem(display_path(path), "no CORE rule.yml here or in its subfolders")], source="rules")
    return files


def is_core_rule_path(path: Path) -> bool:
    """Whether --rules names CORE rules (rule.yml files) rather than our own rule YAML."""
    path = Path(path)
    return path.name == "rule.yml" or (path.is_dir() and (any(path.glob("rule.yml")) or any(path.glob("*/rule.yml"))))


def load_core_rule(path: Path) -> LoadedRule:
    """One rule.yml; YAML that cannot be read is an input error naming the file and line."""
    try:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_YAML_LOADER)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise InputErrors(
            [Problem(display_path(path), f"not valid YAML: {error}", line=line)], source="rules"
        ) from error
    if not isinstance(document, Mapping) or "Core" not in document:
        raise InputErrors([Problem(display_path(path), "not a CORE rule (no Core: Id)")], source="rules")
    return parse_rule(document, path)


def parse_rule(document: Mapping[str, Any], source: Path | None = None) -> LoadedRule:
    rule_id = str((document.get("Core") or {}).get("Id") or (source.parent.name if source else ""))
    outcome = document.get("Outcome") or {}
    rule_type = str(document.get("Rule Type") or "")
    message = str(outcome.get("Message") or document.get("Description") or "")
    reason = _not_runnable_reason(document, rule_type)
    if reason:
        return NotRunnable(rule_id, reason, rule_type=rule_type, message=message, source=source)
    return CoreRule(
        rule_id=rule_id,
        description=str(document.get("Description") or ""),
        message=message,
        output_variables=tuple(str(v) for v in outcome.get("Output Variables") or ()),
        rule_type=rule_type,
        sensitivity=str(document.get("Sensitivity") or "Record"),
        scope=_scope(document.get("Scope") or {}),
        check=document["Check"],
        operations=tuple(document.get("Operations") or ()),
        match_datasets=tuple(_match(m) for m in document.get("Match Datasets") or ()),
        citations=tuple(_citations(document.get("Authorities") or ())),
        executability=str(document.get("Executability") or ""),
        source=source,
    )


def _not_runnable_reason(document: Mapping[str, Any], rule_type: str) -> str:
    if rule_type == "JSONata" or "JSONata" in str(document.get("Check", ""))[:20]:
        return "JSONata rules are not supported"
    if rule_type not in RUNNABLE_TYPES:
        return f"rule type {rule_type!r} needs CDISC Library metadata, not available offline"
    check = document.get("Check")
    if not isinstance(check, Mapping):
        return "the rule has no Check tree"
    unknown = sorted({op for op in check_operators(check) if op not in OPERATORS})
    if unknown:
        return f"check operator {', '.join(unknown)} is not implemented"
    missing = sorted(
        {str(o.get("operator")) for o in document.get("Operations") or () if o.get("operator") not in OPERATIONS}
    )
    if missing:
        return "; ".join(f"operation {name} {operation_unavailable(name)}" for name in missing)
    return ""


def check_operators(node: Any) -> Iterator[str]:
    """The operator names of a Check tree's leaves."""
    if isinstance(node, Mapping):
        for key in ("all", "any"):
            if key in node:
                for child in node[key]:
                    yield from check_operators(child)
                return
        if "not" in node:
            yield from check_operators(node["not"])
            return
        yield str(node.get("operator"))
    elif isinstance(node, list):
        for child in node:
            yield from check_operators(child)


def _names(block: Mapping[str, Any], key: str) -> tuple[str, ...]:
    values = block.get(key) or ()
    return tuple(str(v).upper() for v in values) if isinstance(values, list) else ()


def _scope(scope: Mapping[str, Any]) -> Scope:
    classes = scope.get("Classes") or {}
    domains = scope.get("Domains") or {}
    return Scope(
        classes_include=tuple(n for n in _names(classes, "Include") if n != "ALL"),
        classes_exclude=_names(classes, "Exclude"),
        domains_include=tuple(n for n in _names(domains, "Include") if n != "ALL"),
        domains_exclude=tuple(n for n in _names(domains, "Exclude") if n != "NONE"),
    )


def _match(entry: Mapping[str, Any]) -> MatchDataset:
    return MatchDataset(
        name=str(entry.get("Name") or ""),
        keys=tuple(entry.get("Keys") or ()),
        is_relationship=bool(entry.get("Is Relationship", False)),
        wildcard=entry.get("Wildcard"),
        child=bool(entry.get("Child", False)),
        join_type=str(entry.get("Join Type") or "inner"),
    )


def _citations(authorities: Iterable[Mapping[str, Any]]) -> Iterator[Citation]:
    for authority in authorities:
        organization = str(authority.get("Organization") or "")
        for standard in authority.get("Standards") or ():
            for reference in standard.get("References") or ():
                identifier = str((reference.get("Rule Identifier") or {}).get("Id") or "")
                for citation in reference.get("Citations") or [{}]:
                    yield Citation(
                        organization=organization,
                        standard=str(standard.get("Name") or ""),
                        version=str(standard.get("Version") or ""),
                        rule_identifier=identifier,
                        section=str(citation.get("Section") or ""),
                        document=str(citation.get("Document") or ""),
                    )


def chosen_rules(
    spec_dir: Path | None, rule_paths: Sequence[Path | str] = (), select: Sequence[str] = ()
) -> tuple[tuple[Rule, ...], list[LoadedRule]]:
    """The rules `validate --rules ... --select ...` runs: our own rule files and CORE rules
    from the paths, our catalogue (the spec folder's or the shipped rules) when no path is
    given or one is the word `cdisc-cup`, then only the selected IDs (ours or CORE's) when a
    selection is given."""
    ours = any(str(p) == OUR_RULES for p in rule_paths) or not rule_paths
    paths = [Path(p) for p in rule_paths if str(p) != OUR_RULES]
    core_paths = [p for p in paths if is_core_rule_path(p)]
    own_paths = [p for p in paths if not is_core_rule_path(p)]
    missing = [p for p in own_paths if not p.is_file()]
    if missing:
        raise InputErrors(
            [Problem(display_path(p), "no such rule file or CORE rule folder") for p in missing], source="rules"
        )
    named = (*(rules_for(spec_dir) if ours else ()), *(load_rules(own_paths) if own_paths else ()))
    first: dict[str, Rule] = {}
    for rule in named:  # a rule named twice (its file and our catalogue) runs once
        first.setdefault(rule.rule_id, rule)
    own = tuple(first.values())
    core = load_core_rules(core_paths)
    if not select:
        return tuple(own), core
    wanted = {s.strip().upper() for s in select if s.strip()}
    unknown = sorted(wanted - {r.rule_id.upper() for r in own} - {r.rule_id.upper() for r in core})
    if unknown:
        raise InputErrors(
            [Problem("--select", f"no rule {rule_id} among the rules loaded", value=rule_id) for rule_id in unknown],
            source="rules",
        )
    return tuple(r for r in own if r.rule_id.upper() in wanted), [r for r in core if r.rule_id.upper() in wanted]
