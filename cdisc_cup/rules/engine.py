"""Run rules on a study and collect findings: the one entry point for CLI and pipeline.

For each rule, the engine picks the datasets it applies to (standard, dataset names with
wildcards, SDTM/ADaM classes), replaces `--` in its parameters with the domain prefix,
calls the operator and turns its hits into findings with the rule's message filled in
column by column. Every rule is accounted for, as CDISC CORE reports its execution
status: per dataset it ran (with its finding count), was not applicable (the data lack what
it is about; the reason says what), or failed (the error, never a finding, never fatal: one
broken rule must not hide the findings of the others). A study's own rules (a rule file with
`study:`) apply only to datasets of that STUDYID.
"""

from __future__ import annotations

import fnmatch
import string
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cdisc_cup import __version__, ct
from cdisc_cup.constants import WORKER_THREADS
from cdisc_cup.define.model import DefineModel
from cdisc_cup.define.references import LinkedDocument
from cdisc_cup.errors import display_path
from cdisc_cup.findings import (
    DATASET_COLUMNS,
    FINDING_COLUMNS,
    RULE_COLUMNS,
    RULE_RUN_COLUMNS,
    RuleStatus,
    RunInfo,
    Validation,
    empty_findings,
    empty_table,
)
from cdisc_cup.rules.core.beside import BESIDE_FROM_RECORDS, Beside, Turns, can_fork
from cdisc_cup.rules.igmeta import IG_NAMES, chosen_version, ig_label, sdtm_class
from cdisc_cup.rules.loader import shipped_rules
from cdisc_cup.rules.model import NotApplicable, Rule, Study
from cdisc_cup.rules.operators import OPERATORS
from cdisc_cup.rules.values import report_text
from cdisc_cup.xpt.model import Dataset, XptVariable

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


def dataset_class(study: Study, dataset: Dataset) -> str | None:
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


def applies(rule: Rule, study: Study, dataset: Dataset) -> bool:
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


def _record_values(dataset: Dataset | None, rows: pd.Series, name: str) -> pd.Series | None:
    if dataset is None or name not in dataset.frame.columns:
        return None
    positions = rows.fillna(-1).astype(int).to_numpy()
    known = (positions >= 0) & (positions < len(dataset.frame))
    picked = np.full(len(positions), "", dtype=object)
    picked[known] = report_text(dataset.frame[name].iloc[positions[known]]).to_numpy()
    return pd.Series(picked, index=rows.index, dtype=object)


def format_messages(template: str, hits: pd.DataFrame, dataset: Dataset | None, params: Mapping[str, Any]) -> pd.Series:
    """Fill `{placeholders}` column-wise: hit fields, then the record's variables, then parameters."""
    message = pd.Series("", index=hits.index, dtype=object)
    for literal, placeholder, _spec, _conv in string.Formatter().parse(template):
        message = message + literal
        if placeholder is None:
            continue
        if placeholder in hits.columns:
            piece = hits[placeholder].astype("string").fillna("").astype(object)
        elif (record := _record_values(dataset, hits["row"], placeholder)) is not None:
            piece = record
        elif placeholder in params:
            piece = pd.Series(str(params[placeholder]), index=hits.index, dtype=object)
        else:
            piece = pd.Series("{" + placeholder + "}", index=hits.index, dtype=object)
        message = message + piece
    return message


def findings_of(rule: Rule, hits: pd.DataFrame, dataset: Dataset | None, params: Mapping[str, Any]) -> pd.DataFrame:
    hits = hits.reset_index(drop=True)
    prefix = dataset.domain_prefix if dataset is not None else ""
    if "dataset" not in hits.columns:
        hits["dataset"] = dataset.name if dataset is not None else ""
    usubjid = _record_values(dataset, hits["row"], "USUBJID")
    # An operator may word a finding itself (one finding standing for a whole dataset).
    template = substitute(rule.message, prefix)
    messages = format_messages(template, hits, dataset, params)
    if "message" in hits.columns:
        messages = hits["message"].astype(object).where(hits["message"].notna(), messages)
    findings = pd.DataFrame(
        {
            "rule_id": rule.rule_id,
            "severity": str(rule.severity),
            "dataset": hits["dataset"].astype(object),
            "variable": hits["variable"].astype(object),
            "row": (hits["row"] + 1).astype("Int64").astype(object).where(hits["row"].notna(), None),
            "usubjid": usubjid.where(usubjid != "", None) if usubjid is not None else None,
            "value": hits["value"].astype(object),
            "message": messages,
        },
        columns=FINDING_COLUMNS,
    )
    return findings.astype(object).where(findings.notna(), None)


@dataclass
class RuleResults:
    """Findings and the execution status of every rule on every dataset it met."""

    findings: pd.DataFrame  # FINDING_COLUMNS
    rule_runs: pd.DataFrame  # RULE_RUN_COLUMNS


def _status(rule: Rule, dataset: str, status: RuleStatus, findings: int = 0, reason: str = "") -> dict[str, object]:
    return {"rule_id": rule.rule_id, "dataset": dataset, "status": str(status), "findings": findings, "reason": reason}


def run_rule(rule: Rule, study: Study, dataset: Dataset | None) -> tuple[pd.DataFrame | None, dict[str, object]]:
    """The rule's findings on one dataset (or the study) and its execution status.

    A rule whose data lack what it is about is not applicable (the reason says what is
    missing); a rule that fails is recorded as failed with the error, never as a finding:
    one broken rule must not hide the findings of the others, nor pass for a data problem.
    """
    name = dataset.name if dataset is not None else ""
    params = substitute(dict(rule.check.params), dataset.domain_prefix if dataset is not None else "")
    try:
        hits = OPERATORS[rule.check.operator](study, dataset, **params)
    except NotApplicable as reason:
        return None, _status(rule, name, RuleStatus.NOT_APPLICABLE, reason=str(reason))
    except Exception as error:
        return None, _status(rule, name, RuleStatus.FAILED, reason=f"{type(error).__name__}: {error}")
    if hits.empty:
        return None, _status(rule, name, RuleStatus.RAN)
    found = findings_of(rule, hits, dataset, {**params, "dataset": name})
    return found, _status(rule, name, RuleStatus.RAN, len(found))


def _version_mismatch(rule: Rule, study: Study, dataset: Dataset | None) -> str | None:
    """Why a rule written for some versions of its IG does not apply to these datasets."""
    if not rule.versions or dataset is None:
        return None
    standard = study.standard_of(dataset)
    version = study.ig_version_of(dataset)
    if version in rule.versions:
        return None
    wanted = ", ".join(rule.versions)
    return f"a rule of {IG_NAMES[standard]} {wanted}; the datasets follow {ig_label(standard, version)}"


def _sponsor_mismatch(rule: Rule, study: Study) -> str | None:
    """Why a study's own rules do not apply here: they were written for another study."""
    if rule.study is None or rule.study in study.studyids:
        return None
    seen = ", ".join(sorted(study.studyids)) or "unknown"
    return f"a rule of study {rule.study}; the datasets are of study {seen}"


def _planned_runs(study: Study, rules: Iterable[Rule]) -> list[tuple[Rule, Dataset | None] | dict[str, object]]:
    """What each rule does, in catalogue order: a (rule, dataset) run, or the status of a rule
    that does not apply (another study's, no dataset it applies to, another IG version)."""
    planned: list[tuple[Rule, Dataset | None] | dict[str, object]] = []
    for rule in rules:
        mismatch = _sponsor_mismatch(rule, study)
        if mismatch is not None:
            planned.append(_status(rule, "", RuleStatus.NOT_APPLICABLE, reason=mismatch))
            continue
        if rule.level == "study":
            in_scope = any(s in rule.scopes for s in study.standards.values())
            targets: list[Dataset | None] = [None] if in_scope else []
        else:
            targets = [dataset for dataset in study.datasets.values() if applies(rule, study, dataset)]
        if not targets:
            wanted = ", ".join(rule.datasets)
            planned.append(_status(rule, "", RuleStatus.NOT_APPLICABLE, reason=f"no dataset it applies to ({wanted})"))
        for target in targets:
            version_reason = _version_mismatch(rule, study, target)
            if version_reason is not None:
                planned.append(_status(rule, target.name, RuleStatus.NOT_APPLICABLE, reason=version_reason))
            else:
                planned.append((rule, target))
    return planned


# Rule runs side by side may hold at most this many records between them; a run on a larger
# dataset runs alone. An operator holds a few working columns of its dataset: at 100,000
# patients two runs on the 1.9 million administrations (EX) together added 175 MB to the
# conversion's peak (issue #19: 2.5 GB), while EX beside a dataset of up to 600,000 records
# (CM, SUPPAE) adds nothing and keeps most of the time saved (validate 10.8 -> 8.1 s).
RECORDS_IN_FLIGHT = 2_500_000
# Below this many records the rule runs are small pandas calls, whose Python overhead two
# threads contend for (the GIL): 0.3 s slower on a 1,000-patient study, so one at a time.
SIDE_BY_SIDE_FROM_RECORDS = 250_000


class _RecordBudget:
    """Lets a rule run start while the records of the runs in flight stay within the budget
    (one run always may: a dataset larger than the budget runs by itself)."""

    def __init__(self, budget: int) -> None:
        self._budget = budget
        self._in_flight = 0
        self._changed = threading.Condition()

    @contextmanager
    def held(self, records: int) -> Iterator[None]:
        with self._changed:
            self._changed.wait_for(lambda: self._in_flight == 0 or self._in_flight + records <= self._budget)
            self._in_flight += records
        try:
            yield
        finally:
            with self._changed:
                self._in_flight -= records
                self._changed.notify_all()


def run_rules(study: Study, rules: Iterable[Rule], *, threads: int | None = None) -> RuleResults:
    """Every rule on every dataset it applies to. The runs share the cores (the operators
    spend their time in Arrow and numpy kernels, which release the GIL) within a budget of
    records, on `threads` threads (None: one per core from SIDE_BY_SIDE_FROM_RECORDS records);
    findings and statuses come back in catalogue order, whatever order the runs finish in."""
    budget = _RecordBudget(RECORDS_IN_FLIGHT)
    if threads is None:
        records = sum(len(dataset.frame) for dataset in study.datasets.values())
        threads = WORKER_THREADS if records >= SIDE_BY_SIDE_FROM_RECORDS else 1

    def outcome(step: tuple[Rule, Dataset | None] | dict[str, object]) -> tuple[pd.DataFrame | None, dict[str, object]]:
        if isinstance(step, dict):
            return None, step
        rule, dataset = step
        with budget.held(len(dataset.frame) if dataset is not None else 0):
            return run_rule(rule, study, dataset)

    with ThreadPoolExecutor(threads) as pool:
        outcomes = list(pool.map(outcome, _planned_runs(study, rules)))
    parts = [found for found, _ in outcomes if found is not None]
    statuses = [status for _, status in outcomes]
    findings = pd.concat(parts, ignore_index=True) if parts else empty_findings()
    rule_runs = pd.DataFrame(statuses, columns=RULE_RUN_COLUMNS) if statuses else empty_table(RULE_RUN_COLUMNS)
    return RuleResults(findings, rule_runs)


def as_view(name: str, source: Dataset | tuple[pd.DataFrame, str, Sequence[XptVariable]]) -> Dataset:
    """A dataset as the rules see it: a `Dataset` as read or built, or a (frame, label,
    variables) tuple (handy for a frame held in memory), named in upper case, records 0..n-1."""
    if isinstance(source, tuple):
        frame, label, variables = source
        return Dataset(name.upper(), label or "", frame.reset_index(drop=True), tuple(variables))
    if source.name == name.upper() and isinstance(source.frame.index, pd.RangeIndex):
        return source
    return replace(source, name=name.upper(), frame=source.frame.reset_index(drop=True))


def validate_datasets(
    datasets: Mapping[str, Any],
    *,
    standard: str | None = None,
    define: DefineModel | None = None,
    rules: Iterable[Rule] | None = None,
    unreadable: Mapping[str, str] | None = None,
    documents: Mapping[str, LinkedDocument] | None = None,
) -> RuleResults:
    """Findings (FINDING_COLUMNS) of the rules on these datasets, and every rule's status.

    `datasets` maps a dataset name to a `Dataset` or a `(frame, label, variables)`
    tuple; `standard` is "sdtm", "adam" or None/"auto" to detect it from the names.
    `define` is the model of their define.xml (`cdisc_cup.define.read`), if they have one.
    `unreadable` names files that could not be read (reported by rule XP0001); `documents`
    what is known of the files define.xml links to (`define.references.linked_documents`).
    """
    views = {name.upper(): as_view(name, source) for name, source in datasets.items()}
    names = list(views) or [Path(n).stem.upper() for n in unreadable or {}]
    cited = define.terminology if define is not None else ()
    terminology = ct.terminology(
        sdtm=ct.chosen_package("SDTM", cited)[0], adam=ct.chosen_package("ADaM", cited)[0]
    )  # as `DatasetFolder.decide` chooses: the define.xml's packages, else the newest shipped
    study = Study(
        views,
        dataset_standards(names, standard),
        define,
        dict(unreadable or {}),
        terminology=terminology,
        documents=documents,
    )
    return run_rules(study, shipped_rules() if rules is None else rules)


# Rule families that read a folder's define.xml (DX) or the codelists it names (CT): they run
# per folder against that folder's define.xml, the others on all datasets of a study at once
# (cross-dataset rules: ADaM against SDTM, SUPP-- against their parents).
PER_FOLDER_FAMILIES = frozenset({"DX", "CT"})


@dataclass(frozen=True)
class DatasetFolder:
    """One folder of datasets as read: the unit define.xml describes (`define`: its model,
    built by `convert` or read once by `validate`; the engine reads no files)."""

    path: Path | None
    standard: str  # "sdtm" | "adam"
    datasets: Mapping[str, Any]  # name -> Dataset or (frame, label, variables)
    define: DefineModel | None = None
    unreadable: Mapping[str, str] = field(default_factory=dict)
    ig_version: str | None = None  # None: as define.xml declares it, else the latest
    ct_package: str | None = None  # e.g. "SDTM CT 2015-12-18"; None: as define.xml cites it, else the newest
    notes: tuple[str, ...] = ()  # why a version or package was chosen, when it is not the one declared
    # The files define.xml links to (aCRF, guides), by href: recorded by whoever reads the
    # folder (`define.references.linked_documents`), since the engine reads no files. None:
    # not looked at, and the DX link rules are not applicable.
    documents: Mapping[str, LinkedDocument] | None = None

    @property
    def decided(self) -> bool:
        return self.ig_version is not None and self.ct_package is not None

    def decide(self, version: str | None = None, package: str | None = None) -> DatasetFolder:
        """The folder with its IG version and CT package decided: the user's, else those its
        define.xml names (or the nearest shipped), else the latest."""
        described = self.define
        ig, ig_note = chosen_version(self.standard, described.standards if described else (), version)
        kind = "ADaM" if self.standard == "adam" else "SDTM"
        cited = described.terminology if described else ()
        chosen, ct_note = ct.chosen_package(kind, cited, package)
        notes = tuple(note for note in (ig_note, ct_note) if note)
        return replace(self, ig_version=ig, ct_package=chosen, notes=notes)


def validate_folders(
    folders: Sequence[DatasetFolder], rules: Sequence[Rule] | None = None, core_rules: Sequence[Any] = ()
) -> RuleResults:
    """The rules on the dataset folders of one study (its SDTM and ADaM folders); CDISC CORE
    rules (`cdisc_cup.rules.core`, CoreRule or NotRunnable) on its SDTM datasets together:
    they are SDTMIG rules, and CORE checks a study against one standard at a time, so an
    ADaM dataset is not in their scope (ADSL is not a dataset with a wrong DOMAIN)."""
    # imported here: the CORE engine builds on this module (dataset classes, Study)
    from cdisc_cup.rules.core.engine import core_results, run_rule_groups

    rules = shipped_rules() if rules is None else rules
    folders = [folder if folder.decided else folder.decide() for folder in folders]
    versions = {folder.standard: str(folder.ig_version) for folder in folders}
    terminology = terminology_of(folders)
    shared = [r for r in rules if r.family not in PER_FOLDER_FAMILIES]
    per_folder = [r for r in rules if r.family in PER_FOLDER_FAMILIES]
    together = {name: source for folder in folders for name, source in folder.datasets.items()}
    standards = {name.upper(): folder.standard for folder in folders for name in folder.datasets}
    unreadable = {name: why for folder in folders for name, why in folder.unreadable.items()}
    tabulation = {name: source for name, source in together.items() if standards[name.upper()] != "adam"}
    core_study = _core_study(tabulation, standards, versions, terminology) if core_rules else None
    beside = turns = None
    if core_study is not None and can_fork() and _records(tabulation) >= BESIDE_FROM_RECORDS:
        # CORE's rules on the other core while ours run, then on both (cdisc_cup.rules.core.beside)
        turns = Turns()
        beside = Beside(lambda: run_rule_groups(core_study, core_rules, iter(turns)))
    # With CORE's process on the other core, ours run one at a time: a second thread of ours
    # would only contend with it (the run took 1.5 s longer at 100,000 patients).
    threads = 1 if beside is not None else None
    try:
        ours = _run(together, standards, None, unreadable, shared, versions, terminology, threads=threads)
        per_folder_parts = [
            _run(
                folder.datasets,
                {n.upper(): folder.standard for n in folder.datasets},
                folder.define,
                {},
                per_folder,
                versions,
                terminology,
                folder.documents,
                threads=threads,
            )
            for folder in folders
            if folder.datasets
        ]
        core = []
        if core_study is not None:
            outcomes = run_rule_groups(core_study, core_rules, iter(turns) if turns is not None else None)
            if beside is not None:
                outcomes |= beside.result()
            found = core_results(core_rules, outcomes)
            core = [RuleResults(found.findings, found.rule_runs)]
    finally:
        if beside is not None:
            beside.stop()
    parts = [ours, *core, *per_folder_parts]
    return RuleResults(
        pd.concat([p.findings for p in parts], ignore_index=True),
        pd.concat([p.rule_runs for p in parts], ignore_index=True),
    )


def _records(datasets: Mapping[str, Any]) -> int:
    return sum(len(as_view(name, source).frame) for name, source in datasets.items())


def _run(
    datasets: Mapping[str, Any],
    standards: Mapping[str, str],
    define: DefineModel | None,
    unreadable: Mapping[str, str],
    rules: Sequence[Rule],
    versions: Mapping[str, str],
    terminology: ct.Terminology,
    documents: Mapping[str, LinkedDocument] | None = None,
    threads: int | None = None,
) -> RuleResults:
    views = {name.upper(): as_view(name, source) for name, source in datasets.items()}
    names = list(views) or [Path(n).stem.upper() for n in unreadable]
    kinds = {n: standards.get(n, detect_standard(names)) for n in names}
    study = Study(views, kinds, define, dict(unreadable), dict(versions), terminology, documents)
    return run_rules(study, rules, threads=threads)


def _core_study(
    datasets: Mapping[str, Any], standards: Mapping[str, str], versions: Mapping[str, str], terminology: ct.Terminology
) -> Study:
    """The study CORE's rules run on (its SDTM datasets; no define.xml: CORE reads the data)."""
    views = {name.upper(): as_view(name, source) for name, source in datasets.items()}
    return Study(views, dict(standards), None, {}, dict(versions), terminology)


def terminology_of(folders: Sequence[DatasetFolder]) -> ct.Terminology:
    """One terminology for a study's folders: the SDTM folder's SDTM CT, the ADaM folder's ADaM CT."""
    chosen = {folder.standard: folder.ct_package for folder in folders if folder.ct_package}
    return ct.terminology(sdtm=chosen.get("sdtm"), adam=chosen.get("adam"))


def _dataset_rows(folders: Sequence[DatasetFolder], files_under: Path | None) -> pd.DataFrame:
    """One row per dataset; its file relative to `files_under` (the output folder) when it lies
    there, else as the user named it (the SDTM input of `cdisc-cup adam`)."""
    rows = []
    for folder in folders:
        for name, source in folder.datasets.items():
            view = as_view(name, source)
            path = getattr(source, "path", None)
            rows.append(
                {
                    "dataset": view.name,
                    "label": view.label,
                    "standard": "ADaM" if folder.standard == "adam" else "SDTM",
                    "records": len(view.frame),
                    "variables": len(view.variables),
                    "file": ""
                    if path is None
                    else Path(path).relative_to(files_under).as_posix()
                    if files_under is not None and Path(path).is_relative_to(files_under)
                    else display_path(path),
                }
            )
    return pd.DataFrame(rows, columns=DATASET_COLUMNS) if rows else empty_table(DATASET_COLUMNS)


def rule_catalogue(rules: Sequence[Rule]) -> pd.DataFrame:
    """The catalogue as the reports show it (RULE_COLUMNS)."""
    return pd.DataFrame(
        [
            {
                "rule_id": r.rule_id,
                "title": r.title,
                "severity": str(r.severity),
                "standard": r.standard,
                "rationale": r.rationale,
                "references": "; ".join(r.refs),
                "p21": ", ".join(r.p21),
                "core": ", ".join(r.core),
            }
            for r in rules
        ],
        columns=RULE_COLUMNS,
    )


def validation_of(
    results: RuleResults,
    rules: Sequence[Rule],
    folders: Sequence[DatasetFolder],
    *,
    checked: str,
    command: str = "",
    files_under: Path | None = None,
    core_rules: Sequence[Any] = (),
) -> Validation:
    """A run's results with what a reviewer files beside them: tool, rules, standards, CT, input."""
    decided = [folder if folder.decided else folder.decide() for folder in folders if folder.datasets]
    standards = sorted({ig_label(folder.standard, str(folder.ig_version)) for folder in decided})
    notes = [note for folder in decided for note in folder.notes]
    studies = sorted(
        {
            str(value)
            for folder in folders
            for name, source in folder.datasets.items()
            for value in as_view(name, source).frame.get("STUDYID", pd.Series(dtype="string")).dropna().unique()
            if str(value).strip()
        }
    )
    run = RunInfo(
        tool="cdisc-cup",
        version=__version__,
        rule_set=rule_set_name(rules, core_rules),
        standards=tuple(standards),
        terminology=terminology_of(decided).packages,
        input=checked,
        created=datetime.now().astimezone().replace(microsecond=0).isoformat(),
        command=command,
        study=", ".join(studies),
        notes=tuple(dict.fromkeys(notes)),
    )
    catalogue = rule_catalogue(rules)
    if core_rules:
        from cdisc_cup.rules.core.engine import core_catalogue

        catalogue = pd.concat([catalogue, core_catalogue(core_rules)], ignore_index=True)
    return Validation(run, results.findings, results.rule_runs, catalogue, _dataset_rows(folders, files_under))


def rule_set_name(rules: Sequence[Rule], core_rules: Sequence[Any]) -> str:
    """What a report names as the rules run: ours, and the CDISC CORE rules when given."""
    name = f"cdisc-cup {__version__} rules ({len(rules)} rules)"
    return f"{name} and CDISC CORE rules ({len(core_rules)} rules)" if core_rules else name
