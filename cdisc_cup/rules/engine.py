"""Run rules on a study and collect findings: the one entry point for CLI and pipeline.

For each rule, the engine picks the datasets it applies to (standard, dataset names with
wildcards, SDTM/ADaM classes), replaces `--` in its parameters with the domain prefix,
calls the operator and turns its hits into findings with the rule's message filled in
column by column. A rule whose data are missing is skipped (`NotApplicable`); a rule
that fails is reported as a finding of its own ("rule could not run"), never fatal:
one broken rule must not hide the findings of the other sixty.
"""

from __future__ import annotations

import fnmatch
import string
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cdisc_cup.errors import InputErrors, Problem, display_path
from cdisc_cup.findings import FINDING_COLUMNS, Severity, empty_findings
from cdisc_cup.readers.datasets import LoadedDataset, read_xpt_files
from cdisc_cup.rules.igmeta import sdtm_class
from cdisc_cup.rules.loader import shipped_rules
from cdisc_cup.rules.model import DatasetView, NotApplicable, Rule, Study, VariableMeta
from cdisc_cup.rules.operators import OPERATORS
from cdisc_cup.rules.values import as_text

STANDARDS = ("sdtm", "adam")


def detect_standard(names: Iterable[str]) -> str:
    """ADaM when ADSL is there or most datasets are AD*; SDTM otherwise (no SDTM domain starts with AD)."""
    names = [n.upper() for n in names]
    analysis = [n for n in names if n.startswith("AD")]
    return "adam" if "ADSL" in names or (names and len(analysis) * 2 > len(names)) else "sdtm"


def dataset_standards(names: Iterable[str], standard: str | None) -> dict[str, str]:
    """The standard of each dataset: forced, or by name in a mixed folder (AD* is ADaM)."""
    names = list(names)
    if standard in STANDARDS:
        return dict.fromkeys(names, standard)
    detected = detect_standard(names)
    return {n: ("adam" if n.startswith("AD") else "sdtm") if len(names) > 1 else detected for n in names}


def dataset_class(study: Study, dataset: DatasetView) -> str | None:
    """SDTMIG class (EVENTS, FINDINGS, ...) or ADaM structure (ADSL, OCCDS, BDS)."""
    columns = set(dataset.frame.columns)
    if study.standard_of(dataset) == "adam":
        if dataset.name == "ADSL":
            return "ADSL"
        return "BDS" if "PARAMCD" in columns else "OCCDS"
    known = sdtm_class(dataset.name)
    if known:
        return known
    prefix = dataset.domain_prefix
    for marker, guessed in (("TRT", "INTERVENTIONS"), ("TERM", "EVENTS"), ("TESTCD", "FINDINGS")):
        if prefix + marker in columns:
            return guessed
    return None


def applies(rule: Rule, study: Study, dataset: DatasetView) -> bool:
    if study.standard_of(dataset) not in rule.scopes:
        return False

    def matches(patterns: tuple[str, ...]) -> bool:
        return any(fnmatch.fnmatchcase(dataset.name, p.replace("--", "*")) for p in patterns)

    if not matches(rule.datasets) or matches(rule.exclude):
        return False
    return not rule.classes or dataset_class(study, dataset) in rule.classes


def substitute(value: Any, prefix: str) -> Any:
    """Replace `--` by the domain prefix in every string of the parameters (--SEQ -> AESEQ)."""
    if isinstance(value, str):
        return value.replace("--", prefix)
    if isinstance(value, Mapping):
        return {k: substitute(v, prefix) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, prefix) for v in value]
    return value


def _record_values(dataset: DatasetView | None, rows: pd.Series, name: str) -> pd.Series | None:
    if dataset is None or name not in dataset.frame.columns:
        return None
    positions = rows.fillna(-1).astype(int).to_numpy()
    known = (positions >= 0) & (positions < len(dataset.frame))
    picked = np.full(len(positions), "", dtype=object)
    picked[known] = as_text(dataset.frame[name].iloc[positions[known]]).to_numpy()
    return pd.Series(picked, index=rows.index, dtype=object)


def format_messages(
    template: str, hits: pd.DataFrame, dataset: DatasetView | None, params: Mapping[str, Any]
) -> pd.Series:
    """Fill `{placeholders}` column-wise: hit fields, then the record's variables, then parameters."""
    message = pd.Series("", index=hits.index, dtype=object)
    for literal, field, _spec, _conv in string.Formatter().parse(template):
        message = message + literal
        if field is None:
            continue
        if field in hits.columns:
            piece = hits[field].astype("string").fillna("").astype(object)
        elif (record := _record_values(dataset, hits["row"], field)) is not None:
            piece = record
        elif field in params:
            piece = pd.Series(str(params[field]), index=hits.index, dtype=object)
        else:
            piece = pd.Series("{" + field + "}", index=hits.index, dtype=object)
        message = message + piece
    return message


def findings_of(rule: Rule, hits: pd.DataFrame, dataset: DatasetView | None, params: Mapping[str, Any]) -> pd.DataFrame:
    hits = hits.reset_index(drop=True)
    prefix = dataset.domain_prefix if dataset is not None else ""
    if "dataset" not in hits.columns:
        hits["dataset"] = dataset.name if dataset is not None else ""
    usubjid = _record_values(dataset, hits["row"], "USUBJID")
    findings = pd.DataFrame(
        {
            "rule_id": rule.rule_id,
            "severity": str(rule.severity),
            "dataset": hits["dataset"].astype(object),
            "variable": hits["variable"].astype(object),
            "row": (hits["row"] + 1).astype("Int64").astype(object).where(hits["row"].notna(), None),
            "usubjid": usubjid.where(usubjid != "", None) if usubjid is not None else None,
            "value": hits["value"].astype(object),
            "message": format_messages(substitute(rule.message, prefix), hits, dataset, params),
        },
        columns=FINDING_COLUMNS,
    )
    return findings.astype(object).where(findings.notna(), None)


def crash_finding(rule: Rule, dataset: DatasetView | None, error: Exception) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "rule_id": rule.rule_id,
                "severity": str(Severity.WARNING),
                "dataset": dataset.name if dataset is not None else "",
                "variable": None,
                "row": None,
                "usubjid": None,
                "value": None,
                "message": f"rule could not run: {type(error).__name__}: {error}",
            }
        ],
        columns=FINDING_COLUMNS,
    )


def run_rule(rule: Rule, study: Study, dataset: DatasetView | None) -> pd.DataFrame | None:
    """The rule's findings on one dataset (or the study), None when it finds nothing."""
    params = substitute(dict(rule.check.params), dataset.domain_prefix if dataset is not None else "")
    try:
        hits = OPERATORS[rule.check.operator](study, dataset, **params)
    except NotApplicable:
        return None
    except Exception as error:
        return crash_finding(rule, dataset, error)
    if hits.empty:
        return None
    return findings_of(rule, hits, dataset, {**params, "dataset": dataset.name if dataset else ""})


def run_rules(study: Study, rules: Iterable[Rule]) -> pd.DataFrame:
    parts = []
    for rule in rules:
        if rule.level == "study":
            if any(s in rule.scopes for s in study.standards.values()):
                parts.append(run_rule(rule, study, None))
            continue
        for dataset in study.datasets.values():
            if applies(rule, study, dataset):
                parts.append(run_rule(rule, study, dataset))
    parts = [p for p in parts if p is not None]
    if not parts:
        return empty_findings()
    return pd.concat(parts, ignore_index=True)


def as_view(name: str, source: Any) -> DatasetView:
    """A `LoadedDataset` (readers.datasets) or a (frame, label, variables) tuple as a view."""
    if isinstance(source, DatasetView):
        return source
    if isinstance(source, tuple):
        frame, label, variables = source
        path = None
    else:
        frame, label, variables, path = source.frame, source.label, source.variables, getattr(source, "path", None)
    metas = tuple(
        VariableMeta(
            v.name,
            v.label or "",
            "Num" if str(v.type).lower() in {"num", "numeric", "double", "float"} else "Char",
            v.length,
            getattr(v, "format", None),
        )
        for v in variables
    )
    return DatasetView(name.upper(), label or "", frame.reset_index(drop=True), metas, path)


def validate_datasets(
    datasets: Mapping[str, Any],
    *,
    standard: str | None = None,
    define_path: Path | None = None,
    rules: Iterable[Rule] | None = None,
    unreadable: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Findings (FINDING_COLUMNS) of the rules on these datasets.

    `datasets` maps a dataset name to a `LoadedDataset` or a `(frame, label, variables)`
    tuple; `standard` is "sdtm", "adam" or None/"auto" to detect it from the names.
    `unreadable` names files that could not be read (reported by rule XP0001).
    """
    views = {name.upper(): as_view(name, source) for name, source in datasets.items()}
    names = list(views) or [Path(n).stem.upper() for n in unreadable or {}]
    study = Study(views, dataset_standards(names, standard), define_path, dict(unreadable or {}))
    return run_rules(study, shipped_rules() if rules is None else rules)


def read_folder(folder: Path) -> tuple[dict[str, LoadedDataset], Path | None, dict[str, str]]:
    """The readable datasets of a folder, its define.xml if any, and the files that failed.

    A file that cannot be read is a finding, not the end of the run: the other datasets
    are still worth checking.
    """
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() == ".xpt")
    if not files:
        raise InputErrors(
            [
                Problem(
                    display_path(folder),
                    "the folder has no SAS XPORT (*.xpt) datasets",
                    expected="a folder of SDTM or ADaM .xpt files",
                )
            ]
        )
    datasets: dict[str, LoadedDataset] = {}
    unreadable: dict[str, str] = {}
    for path, loaded in read_xpt_files(files).items():
        if isinstance(loaded, InputErrors):
            unreadable[path.name] = "; ".join(p.message for p in loaded.problems)
            continue
        datasets[loaded.name] = loaded
    define_path = next((p for p in sorted(folder.iterdir()) if p.name.lower() == "define.xml"), None)
    return datasets, define_path, unreadable


def validate_folder(folder: Path, *, standard: str | None = None) -> pd.DataFrame:
    """Findings for every *.xpt of a folder (and its define.xml when there is one)."""
    datasets, define_path, unreadable = read_folder(folder)
    return validate_datasets(datasets, standard=standard, define_path=define_path, unreadable=unreadable)
