"""The stages wired together: convert (read -> map SDTM -> derive ADaM -> write -> validate ->
report), adam (ADaM from an SDTM folder), validate, compare, the rule catalogue, and the
regeneration of define.xml and the tables. The CLI calls these and nothing else.

A conversion is a short list of steps over one `Submission` per standard (its specs, frames,
written lengths and folder), built once. Everything is written into a staging folder inside
the output folder and swapped in only when the whole run succeeded (`outputs.OutputFolder`);
timestamps inside the files come from SOURCE_DATE_EPOCH or the data, so reruns give
identical bytes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Literal

import pandas as pd
from lxml import etree

from cdisc_cup import __version__
from cdisc_cup.adam import derive_adam
from cdisc_cup.adam.spec import shape_to_spec, study_for_datasets, study_for_sdtm, study_for_written_adam
from cdisc_cup.compare.folders import compare_paths
from cdisc_cup.compare.keys import KeyOption
from cdisc_cup.comparison import Comparison, Tolerance
from cdisc_cup.constants import FDA_FILE_LIMIT, WORKER_THREADS, source_date_epoch
from cdisc_cup.define.build import build_define
from cdisc_cup.define.documents import ACRF, ADRG, CSDRG, SubmissionDocuments
from cdisc_cup.define.identifiers import DEFINE_FILE
from cdisc_cup.define.model import DefineModel
from cdisc_cup.define.read import read_define
from cdisc_cup.define.references import linked_documents, package_problems, planned_documents
from cdisc_cup.errors import ConformanceErrors, InputErrors, OutputError, Problem, SpecErrors, display_path
from cdisc_cup.findings import Validation, explanation_table
from cdisc_cup.mapping.conform import check_datasets
from cdisc_cup.mapping.engine import build_sdtm, study_for_export, without_uncollected
from cdisc_cup.memory import release_freed_memory
from cdisc_cup.outputs import MANIFEST, Manifest, OutputFolder
from cdisc_cup.progress import Progress
from cdisc_cup.provenance import RawTable, submission_frame
from cdisc_cup.readers.csv_datasets import is_csv_dataset_folder, read_csv_folder, read_env
from cdisc_cup.readers.raw import read_raw_export, unknown_files
from cdisc_cup.reports.comparison import REPORT_FILES as COMPARE_REPORT_FILES
from cdisc_cup.reports.comparison import terminal_summary as comparison_summary
from cdisc_cup.reports.comparison import write_comparison_reports
from cdisc_cup.reports.findings import FindingsReport, read_findings_json, terminal_summary, write_findings_reports
from cdisc_cup.reports.index import write_index_page
from cdisc_cup.reports.reconciliation import reconcile, write_reconciliation
from cdisc_cup.rules.catalogue import catalogue_markdown, catalogue_table
from cdisc_cup.rules.core.loader import LoadedRule, chosen_rules, load_core_rules
from cdisc_cup.rules.define import define_problems
from cdisc_cup.rules.engine import DatasetFolder, RuleResults, detect_standard, validate_folders, validation_of
from cdisc_cup.rules.loader import rules_for
from cdisc_cup.rules.model import Rule, Study
from cdisc_cup.spec.loader import load_study
from cdisc_cup.spec.model import DatasetSpec, StudySpec
from cdisc_cup.writers.acrf import write_acrf
from cdisc_cup.writers.dataset_json import write_dataset_json
from cdisc_cup.writers.define_xml import define_of_folder, write_define
from cdisc_cup.writers.reviewer_guides import (
    THIS_SUBMISSION,
    Conformance,
    SdtmSource,
    adrg,
    csdrg,
    guide_pages,
    write_guide,
)
from cdisc_cup.xpt.model import Dataset, XptVariable
from cdisc_cup.xpt.read import (
    FolderRead,
    as_read_back,
    find_dataset_folders,
    read_dataset_folder,
    read_dataset_folder_leniently,
    read_xpt_header,
    xpt_files,
)
from cdisc_cup.xpt.split import XptDatasetFiles, split_note, write_xpt_within_limit
from cdisc_cup.xpt.write import xpt_size

FORMATS = ("xpt", "json")
# What `convert` writes at the top of its output folder (and nothing else: see outputs.py).
ENTRIES = ("m5", "reports", "tables", "index.html")


@dataclass(frozen=True)
class OutputLayout:
    """The submission layout (eCTD module 5) below the output folder."""

    root: Path
    studyid: str

    @property
    def study_folder(self) -> Path:
        # eCTD folder names: lower case letters, digits and hyphens.
        return self.root / "m5" / "datasets" / self.studyid.lower()

    @property
    def sdtm(self) -> Path:
        return self.study_folder / "tabulations" / "sdtm"

    @property
    def adam(self) -> Path:
        return self.study_folder / "analysis" / "adam" / "datasets"

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    @property
    def tables(self) -> Path:
        return self.root / "tables"

    def folder(self, standard: str) -> Path:
        """The folder of a standard's datasets: SDTM tabulations or ADaM analysis datasets."""
        return self.adam if standard.upper() == "ADAM" else self.sdtm

    def moved_to(self, root: Path) -> OutputLayout:
        return OutputLayout(root, self.studyid)


Standard = Literal["SDTM", "ADaM"]


@dataclass(frozen=True)
class Submission:
    """One standard's datasets of a conversion: what goes into one folder, described by one
    define.xml. Built once; every step that writes or checks the datasets takes it."""

    standard: Standard
    specs: tuple[DatasetSpec, ...]
    frames: Mapping[str, pd.DataFrame]  # as built: SDTM records keep their trace columns
    lengths: Mapping[str, Mapping[str, int]]  # the written length of each Char variable
    folder: Path | None = None  # where it is written (the staging layout's folder while it is)
    # The datasets as submitted, without the trace columns: computed once, when it is built.
    submitted: Mapping[str, pd.DataFrame] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.submitted and self.frames:
            object.__setattr__(self, "submitted", {n: submission_frame(f) for n, f in self.frames.items()})

    def variables(self, spec: DatasetSpec) -> tuple[XptVariable, ...]:
        """Writer metadata: spec names, labels and formats; character lengths sized to the data."""
        lengths = self.lengths[spec.name]
        return tuple(
            XptVariable(v.name, v.label, v.type, lengths.get(v.name, 8) if v.type == "Char" else 8, v.format)
            for v in spec.variables
        )

    def in_folder(self, folder: Path) -> Submission:
        return replace(self, folder=folder)


@dataclass
class ConversionResult:
    """What a conversion made, for the CLI's summary and for library users and tests."""

    study: StudySpec
    layout: OutputLayout
    submissions: tuple[Submission, ...]
    validation: Validation | None = None
    defines: dict[str, Path] = field(default_factory=dict)
    reconciliation: pd.DataFrame | None = None
    xpt_files: dict[str, XptDatasetFiles] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    def frames_of(self, standard: Standard) -> dict[str, pd.DataFrame]:
        return next((dict(s.frames) for s in self.submissions if s.standard == standard), {})

    @property
    def sdtm(self) -> dict[str, pd.DataFrame]:
        return self.frames_of("SDTM")

    @property
    def adam(self) -> dict[str, pd.DataFrame]:
        return self.frames_of("ADaM")

    @property
    def lengths(self) -> dict[str, Mapping[str, int]]:
        return {name: lengths for s in self.submissions for name, lengths in s.lengths.items()}

    @property
    def findings(self) -> pd.DataFrame | None:
        return self.validation.findings if self.validation is not None else None

    @property
    def out_dir(self) -> Path:
        return self.layout.root

    @property
    def sdtm_dir(self) -> Path:
        return self.layout.sdtm

    @property
    def adam_dir(self) -> Path:
        return self.layout.adam

    def swapped_in(self, out_dir: Path, staging: Path, progress: Progress) -> ConversionResult:
        """The result with its paths in the output folder, once the staging folder was swapped in."""
        self.layout = self.layout.moved_to(out_dir)
        self.submissions = tuple(s.in_folder(self.layout.folder(s.standard)) for s in self.submissions)
        self.defines = {k: out_dir / p.relative_to(staging) for k, p in self.defines.items()}
        self.timings = dict(progress.timings)
        return self


def creation_time(raw: Mapping[str, RawTable]) -> datetime:
    """SOURCE_DATE_EPOCH (reproducible builds) or the latest complete date in the export."""
    if (epoch := source_date_epoch()) is not None:
        return epoch
    latest = "2000-01-01"
    for table in raw.values():
        for column in table.spec.columns:
            if column.type in ("date", "partial_date"):
                values = table.frame[column.name].dropna()
                values = values[values.str.len() == 10]
                latest = max(latest, str(values.max())) if len(values) else latest
    return datetime.fromisoformat(latest)


def write_datasets(
    submission: Submission, created: datetime, *, limit: int = FDA_FILE_LIMIT
) -> dict[str, XptDatasetFiles]:
    """One lower-case XPT file per dataset (FDA TCG section 3.3.1: dm.xpt); a dataset over
    `limit` bytes also in split files of one subject's records each (TCG section 3.3.2)."""
    assert submission.folder is not None
    submission.folder.mkdir(parents=True, exist_ok=True)
    folder = submission.folder

    def write(spec: DatasetSpec) -> XptDatasetFiles:
        frame = submission.submitted[spec.name]
        return write_xpt_within_limit(
            folder,
            frame,
            dataset=spec.name,
            label=spec.label,
            variables=submission.variables(spec),
            created=created,
            limit=limit,
            by="USUBJID" if "USUBJID" in frame.columns else None,
        )

    # Datasets are encoded side by side, one per core (numpy and Arrow work, GIL released);
    # a problem is raised for the first dataset in spec order that has one, as one at a time.
    with ThreadPoolExecutor(WORKER_THREADS) as pool:
        return dict(zip((spec.name for spec in submission.specs), pool.map(write, submission.specs), strict=True))


def written_datasets(submission: Submission, files: Mapping[str, XptDatasetFiles]) -> dict[str, Dataset]:
    """The datasets as they are in the written XPT files, for the conformance rules (the DX
    rules among them compare them with define.xml).

    Each file's header is read back by pyreadstat and its size checked against the record
    count; the values are those the writer encoded, in the form a reader returns them
    (`as_read_back`, held equal to a real read-back by the tests), since parsing a
    million-record file again costs more than writing it. `cdisc-cup validate` reads files.
    """
    written = {}
    for spec in submission.specs:
        path = files[spec.name].whole.path
        frame = submission.submitted[spec.name]
        label, variables = read_xpt_header(path)
        if variables != submission.variables(spec) or path.stat().st_size != xpt_size(variables, len(frame)):
            raise OutputError([Problem(display_path(path), "the written file does not hold what was written")])
        written[spec.name] = as_read_back(frame, variables, name=spec.name, label=label, path=path)
    return written


def write_documents(
    study: StudySpec,
    standard: Standard,
    folder: Path,
    frames: Mapping[str, pd.DataFrame],
    notes: Mapping[str, str],
    source: SdtmSource = THIS_SUBMISSION,
) -> SubmissionDocuments:
    """The documents beside a standard's datasets that define.xml links to: the SDTM folder's
    acrf.pdf, written now (its page index gives define.xml's page references), and the
    reviewer's guide, written once the validation it reports on has run (`write_reviewer_guide`).
    The ADRG is laid out now, without the findings, for the page of each display and analysis
    that define.xml's Analysis Results Metadata point at; `source` is the SDTM the ADaM came from."""
    if standard != "SDTM":
        planned = guide_pages(adrg(study, frames, None, notes, source))
        return SubmissionDocuments(supplemental=(ADRG,), analysis_guide=planned)
    return SubmissionDocuments(annotated_crf=write_acrf(study, folder / ACRF.href), supplemental=(CSDRG,))


def write_reviewer_guide(
    study: StudySpec,
    standard: Standard,
    folder: Path,
    frames: Mapping[str, pd.DataFrame],
    conformance: Conformance,
    documents: SubmissionDocuments,
    notes: Mapping[str, str],
    source: SdtmSource = THIS_SUBMISSION,
) -> None:
    """csdrg or adrg (PDF and HTML) beside the datasets, with the findings of the validation.
    The ADRG's displays must land on the pages define.xml already points at (the conformance
    summary after them starts on a new page); if they moved, that is the tool's bug."""
    if standard == "SDTM":
        crf = documents.annotated_crf
        records = {name: len(frame) for name, frame in frames.items()}
        write_guide(csdrg(study, records, conformance, crf.page_count if crf is not None else 0, notes), folder)
        return
    pages = write_guide(adrg(study, frames, conformance, notes, source), folder)
    planned = documents.analysis_guide
    if planned is not None and pages.sections != planned.sections:
        raise OutputError(
            [
                Problem(
                    display_path(folder / ADRG.href),
                    "the displays moved to other pages after define.xml pointed at them",
                    expected=", ".join(f"{key} on page {s.page}" for key, s in planned.sections.items()),
                )
            ]
        )


def write_submission_define(
    study: StudySpec,
    submission: Submission,
    created: datetime,
    notes: Mapping[str, str],
    documents: SubmissionDocuments,
) -> DefineModel:
    """define.xml of a submission beside its datasets, and its model (from the tree just built;
    nothing is parsed again). `notes` adds a sentence to a dataset's comment (a dataset also
    submitted split, TCG section 3.3.2); `documents` are the files beside it that it links to."""
    assert submission.folder is not None
    document = build_define(
        study,
        submission.specs,
        submission.frames,
        standard=submission.standard,
        lengths=submission.lengths,
        created=created,
        notes=notes,
        documents=documents,
    )
    return write_define(document, submission.folder)


def write_json_datasets(study: StudySpec, submission: Submission, define: DefineModel, created: datetime) -> None:
    """CDISC Dataset-JSON 1.1 beside each XPT (`--format xpt,json`), its columns as the
    folder's define model describes them."""
    assert submission.folder is not None
    for spec in submission.specs:
        write_dataset_json(
            submission.folder / f"{spec.name.lower()}.json",
            submission.submitted[spec.name],
            spec,
            study,
            define,
            created=created,
        )


def validate_output(
    study: StudySpec,
    folders: Sequence[DatasetFolder],
    layout: OutputLayout,
    rules: Sequence[Rule],
    checked: str,
    command: str = "convert",
    core_rules: Sequence[LoadedRule] = (),
) -> Validation:
    """The rule set on the files as written: SDTM and ADaM together (for the cross-dataset
    rules), and the rules that read define.xml per folder against that folder's define.xml;
    CDISC CORE rules too when given; with the study's explanations of the findings left in them."""
    results = validate_folders(folders, rules, core_rules)
    validation = validation_of(
        results, rules, folders, checked=checked, command=command, files_under=layout.root, core_rules=core_rules
    )
    return explained_by(study, validation)


def explained_by(study: StudySpec, validation: Validation) -> Validation:
    """The validation with the study's explanations (explanations.yaml) when it checked that
    study's datasets (STUDYID), so its reports say which findings the sponsor explains; a
    run on another study's data (or on several) gets none."""
    if validation.run.study != study.studyid or not study.explanations:
        return validation
    return replace(validation, explanations=explanation_table(study.explanations))


def write_conversion_index(
    study: StudySpec, layout: OutputLayout, validation: Validation, standards: Sequence[str] = ("SDTM", "ADaM")
) -> Path:
    """OUT/index.html: the run, the datasets of `standards` it wrote with their records, and a
    link to every output (`adam` wrote no SDTM: its input lies outside the output folder)."""
    root = layout.root
    candidates = [
        ("SDTM define.xml (as HTML)", layout.sdtm / "define.html", "the SDTM datasets and their variables"),
        ("Annotated CRF", layout.sdtm / ACRF.href, "each eCRF form and field with the SDTM variables it feeds"),
        ("Clinical Study Data Reviewer's Guide", layout.sdtm / CSDRG.html_href, "the SDTM data (PDF beside it)"),
        ("Analysis Data Reviewer's Guide", layout.adam / ADRG.html_href, "the ADaM data and displays (PDF beside it)"),
        ("ADaM define.xml (as HTML)", layout.adam / "define.html", "the ADaM datasets and their derivations"),
        ("Conformance findings", layout.reports / "validation" / "findings.html", "the rules, their status, findings"),
        ("Findings workbook", layout.reports / "validation" / "findings.xlsx", "the same, as an Excel workbook"),
        ("Raw record reconciliation", layout.reports / "reconciliation.html", "every raw record: mapped or not"),
        ("Audit trail", layout.reports / "audit" / "trace.csv", "each SDTM record -> raw file and line"),
        ("Tables 1-3 and Figure 1", layout.tables / "index.html", "the paper's tables, from ADSL and ADAE"),
        ("Figure 1", layout.tables / "figure1.png", "participation of each patient (swimmer plot)"),
    ]
    links = [(label, path.relative_to(root).as_posix(), text) for label, path, text in candidates if path.is_file()]
    return write_index_page(
        root / "index.html",
        study=f"{study.studyid} ({study.name})",
        run=validation.run,
        datasets=validation.datasets[validation.datasets["standard"].isin(standards)],
        links=links,
    )


def check_package(defines: Iterable[Path]) -> None:
    """Every link of the written define.xml files resolves (files, aCRF pages, ARM OIDs) and they
    are schema-valid: a problem is the tool's own bug and stops the run (nothing is swapped in)."""
    problems = [problem for path in defines for problem in package_problems(path)]
    if problems:
        raise ConformanceErrors(problems)


def convert(
    raw_dir: Path,
    out_dir: Path,
    spec_dir: Path | None = None,
    *,
    formats: Sequence[str] = ("xpt",),
    progress: Progress | None = None,
    force: bool = False,
    core_rule_paths: Sequence[Path] = (),
) -> ConversionResult:
    """The whole conversion; raises a CdiscCupError subclass for anything the user must fix.

    The output folder is checked before any work (outputs.OutputFolder: the tool replaces
    only what it wrote itself). Findings of the conformance rules do not stop the run: they
    are in `result.validation` and in OUT/reports/validation/. `core_rule_paths` adds CDISC
    CORE rules to the study's own (their findings in the reports and the reviewer's guides).
    """
    progress = progress or Progress.silent()
    raw_dir, out_dir = Path(raw_dir), Path(out_dir)
    output = OutputFolder(out_dir, ENTRIES, "convert", force=force)
    output.check()
    with progress.step("load specs"):
        study = load_study(spec_dir)
        core_rules = load_core_rules(core_rule_paths)
    if not study.raw_files:
        raise SpecErrors(
            [
                Problem(
                    display_path(study.spec_dir / "study.yaml" if study.spec_dir else Path("study.yaml")),
                    "the specs describe no raw export (no raw: section), so there is nothing to convert",
                    expected="raw: with the export's files, or cdisc-cup adam to derive ADaM from SDTM datasets",
                )
            ]
        )
    with progress.step("read raw export", str(raw_dir)):
        raw = read_raw_export(raw_dir, study)
        for name in unknown_files(raw_dir, study):
            progress.note(f"not read (no raw-file spec): {name}")
    release_freed_memory()  # the CSV reader's buffers
    with progress.step("map SDTM"):
        study = study_for_sdtm(study_for_export(study, raw))
        sdtm = build_sdtm(study, raw)
    release_freed_memory()
    with progress.step("reconcile raw records"):
        accounting = reconcile(raw, sdtm)
    created = creation_time(raw)
    del raw  # accounted for: its memory is better spent on ADaM and validation
    release_freed_memory()
    started = datetime.now().astimezone().replace(microsecond=0).isoformat()
    with output.staged(__version__, started) as staging:
        layout = OutputLayout(staging, study.studyid)
        summary = accounting.summary
        # The audit trail is written by Arrow, mostly without Python's lock: beside the
        # checks and ADaM derivations, which need it.
        audit_trail = partial(write_reconciliation, accounting, layout.reports)
        with progress.beside("write reconciliation and audit trail", audit_trail):
            # the thread holds them until written; the raw export's columns no spec reads go then
            del accounting, audit_trail
            parts = _checked_and_derived(study, sdtm, progress)
        release_freed_memory()
        submissions = tuple(part.in_folder(layout.folder(part.standard)) for part in parts)
        result = ConversionResult(study, layout, submissions, reconciliation=summary)
        for submission in submissions:
            with progress.step(f"write {submission.standard} XPT", f"{len(submission.specs)} datasets"):
                result.xpt_files |= write_datasets(submission, created)
        for files in result.xpt_files.values():
            if files.is_split:
                progress.note(
                    f"{files.dataset} is over the FDA 5 GB limit: also written to {files.parts[0].path.parent}"
                )
        with progress.step("check the written XPT files"):
            written = {s.standard: written_datasets(s, result.xpt_files) for s in submissions}
        notes = {name: split_note(files) for name, files in result.xpt_files.items() if files.is_split}
        with progress.step("write the annotated CRF, lay out the ADRG"):
            documents = {
                s.standard: write_documents(study, s.standard, s.folder, s.submitted, notes) for s in submissions
            }
        with progress.step("write define.xml and define.html"):
            defines = {
                s.standard: write_submission_define(study, s, created, notes, documents[s.standard])
                for s in submissions
            }
            result.defines = {standard: define.path for standard, define in defines.items() if define.path is not None}
        release_freed_memory()  # before validation, the largest step, holds the written copies too
        if "json" in formats:
            with progress.step("write Dataset-JSON"):
                for submission in submissions:
                    write_json_datasets(study, submission, defines[submission.standard], created)
        with progress.step("validate"):
            folders = [
                DatasetFolder(
                    s.folder,
                    s.standard.lower(),
                    written.pop(s.standard),
                    defines[s.standard],
                    documents=planned_documents(documents[s.standard]),
                )
                for s in submissions
            ]
            checked = f"{display_path(raw_dir)}, as converted"
            result.validation = validate_output(
                study, folders, layout, rules_for(spec_dir), checked, core_rules=core_rules
            )
            del folders  # only for the checks; frees a copy of every dataset
            release_freed_memory()
            write_findings_reports(
                result.validation, layout.reports / "validation", title=f"Conformance findings: {study.studyid}"
            )
        if not study.result_displays:
            progress.note("no displays (no analysis/results.yaml in the specs): no tables or figure")
        elif study.adam:
            with progress.step("write tables and figure"):
                adam = result.adam
                _write_tables(study, adam["ADSL"], adam["ADAE"], layout.tables)
        with progress.step("write the reviewer's guides"):
            conformance = Conformance.of(result.validation)
            for s in submissions:
                write_reviewer_guide(
                    study, s.standard, s.folder, s.submitted, conformance, documents[s.standard], notes
                )
        write_conversion_index(study, layout, result.validation)
        with progress.step("check the links of define.xml"):
            check_package(result.defines.values())
    return result.swapped_in(out_dir, staging, progress)


# What `adam` writes at the top of its output folder.
ADAM_ENTRIES = ("m5", "reports", "index.html")
ADAM_COMMAND = "adam"
SDTM_INPUT = "sdtm"  # the manifest's record of the SDTM folder an `adam` run read


def _checked_and_derived(study: StudySpec, sdtm: dict[str, pd.DataFrame], progress: Progress) -> list[Submission]:
    """The SDTM datasets checked against their specs, and the ADaM ones derived from them
    and checked (none when the study has no ADaM specs)."""
    with progress.step("check SDTM against specs"):
        lengths = check_datasets({s.name: s for s in study.sdtm}, sdtm, study.terminology)
        parts = [Submission("SDTM", study.sdtm, sdtm, lengths)]
    if not study.adam:
        progress.note("no ADaM specs (study.yaml has no adam list): SDTM only")
        return parts
    with progress.step("derive ADaM"):
        adam = derive_adam(study, parts[0].submitted)
    release_freed_memory()
    with progress.step("check ADaM against specs"):
        lengths = check_datasets({s.name: s for s in study.adam}, adam, study.terminology)
    return [*parts, Submission("ADaM", study.adam, adam, lengths)]


def read_sdtm_folder(sdtm_dir: Path, progress: Progress) -> tuple[dict[str, pd.DataFrame], DatasetFolder]:
    """The SDTM datasets of a folder (ours or anyone's) as the ADaM engine takes them, and the
    folder for the validation. A file that cannot be read, or text that is not ASCII (a
    Windows-1252 curly quote in someone's TS), is reported and the run goes on; a dataset the
    ADaM specs need and that is missing is the engine's error, naming it."""
    read = read_dataset_folder_leniently(sdtm_dir)
    for name, why in read.unreadable.items():
        progress.note(f"not read: {name}: {why}")
    for dataset in read.datasets.values():
        for note in non_ascii_notes(dataset):
            progress.note(note)
    define = folder_define(read.define_path)
    documents = linked_documents(define) if define is not None else None
    folder = DatasetFolder(read.path, "sdtm", read.datasets, define, read.unreadable, documents=documents)
    return {name: dataset.frame for name, dataset in read.datasets.items()}, folder


def non_ascii_notes(dataset: Dataset) -> list[str]:
    """One note per text variable of a dataset holding characters outside ASCII (FDA TCG
    section 3.3.1 asks for ASCII): the first such record and value, and how many there are."""
    notes = []
    file = dataset.path.name if dataset.path is not None else dataset.name
    for variable in dataset.variables:
        if variable.type != "Char":
            continue
        text = dataset.frame[variable.name].astype("string")
        outside = text.str.contains(r"[^\x00-\x7f]", regex=True).fillna(False).astype(bool)
        if outside.any():
            first = int(outside.to_numpy().argmax())
            notes.append(
                f"{file}: {variable.name} has {int(outside.sum())} value(s) with characters outside ASCII, "
                f"first in record {first + 1}: {text.iloc[first]!r} (copied as read)"
            )
    return notes


def input_time(folder: DatasetFolder) -> datetime:
    """The creation time written into the ADaM files: SOURCE_DATE_EPOCH, else the time of the
    newest SDTM file, so the same SDTM folder gives the same bytes."""
    assert folder.path is not None
    return datetime.fromtimestamp(max(p.stat().st_mtime for p in xpt_files(folder.path))).replace(microsecond=0)


def derive_from_sdtm(
    sdtm_dir: Path,
    out_dir: Path,
    spec_dir: Path | None = None,
    *,
    progress: Progress | None = None,
    force: bool = False,
) -> ConversionResult:
    """ADaM from a folder of SDTM XPT files: the specs' ADaM datasets, written with their
    define.xml, ADRG and the validation report in the layout of `convert` (same atomic output
    rules: nothing is swapped in unless the whole run succeeded)."""
    progress = progress or Progress.silent()
    sdtm_dir, out_dir = Path(sdtm_dir), Path(out_dir)
    output = OutputFolder(out_dir, ADAM_ENTRIES, ADAM_COMMAND, force=force)
    output.check()
    with progress.step("load specs"):
        study = load_study(spec_dir)
    if not study.adam:
        raise SpecErrors([Problem(display_path(spec_dir or Path("specs")), "the study spec lists no ADaM datasets")])
    with progress.step("read SDTM datasets", display_path(sdtm_dir)):
        sdtm, sdtm_folder = read_sdtm_folder(sdtm_dir, progress)
    study = study_for_datasets(study, sdtm)
    with progress.step("derive ADaM"):
        adam = derive_adam(study, sdtm)
    with progress.step("check ADaM against specs"):
        lengths = check_datasets({s.name: s for s in study.adam}, adam, study.terminology)
    created = source_date_epoch() or input_time(sdtm_folder)
    started = datetime.now().astimezone().replace(microsecond=0).isoformat()
    source = SdtmSource(display_path(sdtm_dir), tuple(sorted(sdtm)), sdtm_folder.define is not None)
    # The manifest keeps the SDTM folder read: `define` rewrites this ADRG, which names it.
    with output.staged(__version__, started, {SDTM_INPUT: source.record()}) as staging:
        layout = OutputLayout(staging, study.studyid)
        submission = Submission("ADaM", study.adam, adam, lengths, layout.adam)
        result = ConversionResult(study, layout, (submission,))
        with progress.step("write ADaM XPT", f"{len(submission.specs)} datasets"):
            result.xpt_files = write_datasets(submission, created)
        with progress.step("check the written XPT files"):
            written = written_datasets(submission, result.xpt_files)
        notes = {name: split_note(files) for name, files in result.xpt_files.items() if files.is_split}
        documents = write_documents(study, "ADaM", layout.adam, submission.submitted, notes, source)
        with progress.step("write define.xml and define.html"):
            define = write_submission_define(study, submission, created, notes, documents)
            assert define.path is not None
            result.defines = {"ADaM": define.path}
        with progress.step("validate"):
            folders = [
                sdtm_folder,
                DatasetFolder(layout.adam, "adam", written, define, documents=planned_documents(documents)),
            ]
            checked = f"ADaM of {display_path(sdtm_dir)}"
            result.validation = validate_output(study, folders, layout, rules_for(spec_dir), checked, "adam")
            write_findings_reports(
                result.validation, layout.reports / "validation", title=f"Conformance findings: {study.studyid}"
            )
        with progress.step("write the reviewer's guide"):
            conformance = Conformance.of(result.validation)
            write_reviewer_guide(
                study, "ADaM", layout.adam, submission.submitted, conformance, documents, notes, source
            )
        write_conversion_index(study, layout, result.validation, ("ADaM",))
        with progress.step("check the links of define.xml"):
            check_package(result.defines.values())
    return result.swapped_in(out_dir, staging, progress)


# --- validate, define and tables on folders already written -----------------------------------

REPORT_FILES = ("findings.json", "findings.csv", "findings.xlsx", "findings.html")
DEFAULT_REPORT_DIR = Path("validation")


@dataclass(frozen=True)
class CheckedStudy:
    """One study's dataset folders, validated together, and where their report went."""

    name: str
    validation: Validation
    report_folder: Path
    report: FindingsReport | None = None

    @property
    def summary(self) -> str:
        return terminal_summary(self.validation, self.report.tables if self.report is not None else None)


@dataclass(frozen=True)
class ValidateOutcome:
    studies: list[CheckedStudy]


def study_groups(folders: Sequence[Path], root: Path) -> dict[str, list[Path]]:
    """Dataset folders by study: an eCTD tree keeps each study under m5/datasets/<study>/
    (its SDTM and ADaM folders are checked together, for the ADaM-against-SDTM rules); any
    other layout is one study, unless two folders hold a dataset of the same name."""
    groups: dict[str, list[Path]] = {}
    for folder in folders:
        parts = folder.absolute().parts
        lowered = [p.lower() for p in parts]
        for position in range(len(parts) - 2):
            if lowered[position : position + 2] == ["m5", "datasets"]:
                groups.setdefault(parts[position + 2], []).append(folder)
                break
        else:
            groups.setdefault(root.absolute().name or "datasets", []).append(folder)
    for name, members in list(groups.items()):
        names = [p.stem.lower() for folder in members for p in xpt_files(folder)]
        if len(members) > 1 and len(names) != len(set(names)):
            del groups[name]
            groups.update({f"{name}-{folder.name}": [folder] for folder in members})
    return groups


@dataclass(frozen=True)
class StandardChoice:
    """What `validate --standard` and `--ct` say: the kind of datasets, and per kind the IG
    version and the CT package."""

    kind: str | None = None  # "sdtm" or "adam" when the user says which kind all datasets are
    versions: Mapping[str, str] = field(default_factory=dict)  # "sdtm" -> "3.3"
    packages: Mapping[str, str] = field(default_factory=dict)  # "sdtm" -> "2025-03-28"

    @classmethod
    def parse(cls, standards: Sequence[str], terminology: Sequence[str] = ()) -> StandardChoice:
        """--standard: sdtm, adam, sdtmig-3.3, adamig-1.1; --ct: sdtm-2025-03-28 (any case, repeatable)."""
        versions: dict[str, str] = {}
        kinds: set[str] = set()
        for value in standards:
            name, _, version = value.lower().partition("-")
            kind = "adam" if name.startswith("adam") else "sdtm"
            kinds.add(kind)
            if version:
                versions[kind] = version
        packages = {}
        for value in terminology:
            name, _, date = value.lower().partition("-")
            packages["adam" if name == "adam" else "sdtm"] = date
        return cls(kinds.pop() if len(kinds) == 1 else None, versions, packages)


def folder_standard(folder: Path, names: Sequence[str], forced: str | None) -> str:
    """sdtm or adam: as the user says, by the eCTD folder (tabulations, analysis), or by names."""
    if forced is not None:
        return forced
    lowered = [p.lower() for p in folder.absolute().parts]
    if "analysis" in lowered or "adam" in lowered:
        return "adam"
    if "tabulations" in lowered or "sdtm" in lowered:
        return "sdtm"
    return detect_standard(names)


def folder_define(path: Path | None) -> DefineModel | None:
    """The model of a folder's define.xml (read once), None without one; one that cannot be
    read as XML is unusable input, reported with its line."""
    if path is None:
        return None
    try:
        return read_define(path)
    except (OSError, etree.XMLSyntaxError) as error:
        line = getattr(error, "lineno", None)
        raise InputErrors(
            [Problem(display_path(path), f"define.xml cannot be read as XML: {error}", line=line)],
            source="dataset folder",
        ) from error


def validate_folder(folder: Path, *, standard: str | None = None) -> RuleResults:
    """Every *.xpt of one folder and its define.xml (a library shortcut for one folder)."""
    read = read_dataset_folder_leniently(folder)
    kind = standard or detect_standard(list(read.datasets) or [Path(n).stem for n in read.unreadable])
    define = folder_define(read.define_path)
    documents = linked_documents(define) if define is not None else None
    return validate_folders([DatasetFolder(folder, kind, read.datasets, define, read.unreadable, documents=documents)])


def validate_submission(
    root: Path,
    *,
    report_dir: Path | None = None,
    standards: Sequence[str] = (),
    terminology: Sequence[str] = (),
    spec_dir: Path | None = None,
    force: bool = False,
    progress: Progress | None = None,
    rule_paths: Sequence[Path | str] = (),
    select: Sequence[str] = (),
) -> ValidateOutcome:
    """Validate every dataset folder under `root`, one report per study.

    The report goes outside the checked folder by default (./validation), so a submission
    folder never gets files that are not part of the submission."""
    progress = progress or Progress.silent()
    root = Path(root)
    target = DEFAULT_REPORT_DIR if report_dir is None else Path(report_dir)
    if report_dir is None and target.absolute().is_relative_to(root.absolute()):
        raise OutputError(
            [
                Problem(
                    display_path(target),
                    "the default report folder lies inside the folder being checked",
                    expected="--report-dir outside the checked folder",
                )
            ]
        )
    csv_cases = is_csv_dataset_folder(root)
    folders = [root] if csv_cases else find_dataset_folders(root)
    if not folders:
        raise InputErrors(
            [
                Problem(
                    display_path(root),
                    "no SAS XPORT (*.xpt) datasets in this folder or below it, and no _datasets.csv",
                )
            ],
            source="dataset folder",
        )
    groups = study_groups(folders, root)
    several = len(groups) > 1
    output = OutputFolder(target, tuple(groups) if several else REPORT_FILES, "validate", force=force)
    output.check()
    if report_dir is None:
        progress.note(f"reports go to {display_path(target)}")
    rules, core_rules = chosen_rules(spec_dir, rule_paths, select)
    study = load_study(spec_dir)  # its explanations, for the findings of its own datasets
    choice = StandardChoice.parse(standards, terminology)
    studies = []
    started = datetime.now().astimezone().replace(microsecond=0).isoformat()
    with output.staged(__version__, started) as staging:
        for name, members in groups.items():
            with progress.step("read datasets", name if several else display_path(root)):
                read = [
                    read_csv_as_folder(folder) if csv_cases else read_dataset_folder_leniently(folder)
                    for folder in members
                ]
                described = [folder_define(r.define_path) for r in read]
            kinds = [
                folder_standard(r.path, [*r.datasets, *(Path(n).stem for n in r.unreadable)], choice.kind) for r in read
            ]
            checked = [
                DatasetFolder(
                    r.path,
                    kind,
                    r.datasets,
                    define,
                    r.unreadable,
                    documents=linked_documents(define) if define is not None else None,
                ).decide(choice.versions.get(kind) or env_version(r.path, csv_cases), choice.packages.get(kind))
                for r, kind, define in zip(read, kinds, described, strict=True)
            ]
            counted = f"{len(rules) + len(core_rules)} rules on {sum(len(r.datasets) for r in read)} datasets"
            with progress.step("run rules", counted):
                results = validate_folders(checked, rules, core_rules)
            validation = explained_by(
                study,
                validation_of(
                    results, rules, checked, checked=display_path(root), command="validate", core_rules=core_rules
                ),
            )
            folder = staging / name if several else staging
            with progress.step("write reports"):
                report = write_findings_reports(validation, folder, title=f"Conformance findings: {name}")
            studies.append(CheckedStudy(name, validation, target / name if several else target, report))
    return ValidateOutcome(studies)


def _conversion_output(out_dir: Path) -> Manifest:
    """`define` and `tables` rewrite files inside a conversion's output: only one cdisc-cup wrote."""
    manifest = Manifest.read(Path(out_dir))
    if manifest is None:
        raise OutputError(
            [
                Problem(
                    display_path(out_dir),
                    "was not written by cdisc-cup convert, so cdisc-cup does not rewrite files in it",
                    expected="the output folder of cdisc-cup convert",
                )
            ]
        )
    return manifest


def sdtm_source_of(out_dir: Path, manifest: Manifest) -> SdtmSource:
    """The SDTM the output's ADaM was derived from, as its ADRG names it: the folder an `adam`
    run read (its manifest keeps it), else the output's own tabulations."""
    if manifest.command != ADAM_COMMAND:
        return THIS_SUBMISSION
    source = SdtmSource.of_record(manifest.inputs.get(SDTM_INPUT))
    if source is not None:
        return source
    raise InputErrors(
        [
            Problem(
                display_path(Path(out_dir) / MANIFEST),
                "does not say which SDTM folder cdisc-cup adam read, so the ADRG, which names it, cannot be rewritten",
                expected="an output folder of this version of cdisc-cup adam (run it again)",
            )
        ],
        source="output folder",
    )


def study_as_written(study: StudySpec, layout: OutputLayout, command: str = "convert") -> StudySpec:
    """The specs as the run that wrote this output applied them. `convert`: the optional
    variables it left out (its export did not collect them) are read off its SDTM datasets and
    left out again, with the same define.xml comment, and so are their ADaM successors. `adam`
    (the SDTM folder it read is not in the output): the ADaM datasets it wrote say which
    optional copies of SDTM variables it left out."""
    if command == ADAM_COMMAND:
        return study_for_written_adam(study, _written_variables(layout.adam))
    written = _written_variables(layout.sdtm)
    specs = []
    for spec in study.sdtm:
        names = written.get(spec.name)
        absent = [v.name for v in spec.variables if v.optional and names is not None and v.name not in names]
        specs.append(without_uncollected(study, spec, absent) if absent else spec)
    return study_for_sdtm(replace(study, sdtm=tuple(specs)))


def _written_variables(folder: Path) -> dict[str, set[str]]:
    """Dataset -> variable names of a folder's XPT files (headers only)."""
    files = xpt_files(folder) if folder.is_dir() else []
    return {path.stem.upper(): {v.name for v in read_xpt_header(path)[1]} for path in files}


def conversion_conformance(layout: OutputLayout) -> Conformance:
    """The validation a conversion's reviewer's guides report, read back from its findings.json,
    so guides rewritten from the output report the same run as the reports beside them."""
    path = layout.reports / "validation" / "findings.json"
    consequence = "so the reviewer's guides cannot be rewritten"
    try:
        return Conformance(*read_findings_json(path))
    except OSError as error:
        problem = f"the conversion's findings report cannot be read ({error.strerror}), {consequence}"
    except (ValueError, KeyError, TypeError) as error:
        problem = f"is not a findings report of cdisc-cup ({error}), {consequence}"
    raise InputErrors(
        [Problem(display_path(path), problem, expected="the output folder of cdisc-cup convert (run it again)")],
        source="output folder",
    )


def regenerate_defines(out_dir: Path, spec_dir: Path | None = None) -> dict[str, Path]:
    """define.xml and define.html again, from the XPT files of a conversion's output, and the
    documents they link to (aCRF, reviewer's guides), so every link and page stays right; the
    guides report the validation of the conversion (its findings.json)."""
    manifest = _conversion_output(out_dir)
    study = load_study(spec_dir)
    layout = OutputLayout(Path(out_dir), study.studyid)
    study = study_as_written(study, layout, manifest.command)
    source = sdtm_source_of(out_dir, manifest)
    found = {
        standard: (folder, specs)
        for standard, folder, specs in (("SDTM", layout.sdtm, study.sdtm), ("ADaM", layout.adam, study.adam))
        if folder.is_dir() and xpt_files(folder)
    }
    if not found:
        raise InputErrors(
            [
                Problem(
                    display_path(layout.study_folder),
                    f"no XPT files of study {study.studyid} in this output folder",
                    expected="the folder cdisc-cup convert wrote (run it first)",
                )
            ],
            source="output folder",
        )
    rules = rules_for(spec_dir)
    conformance = conversion_conformance(layout)
    problems: list[Problem] = []
    written = {}
    for standard, (folder, specs) in found.items():
        datasets = read_dataset_folder(folder)
        frames = {name: dataset.frame for name, dataset in datasets.items()}
        documents = write_documents(study, standard, folder, frames, {}, source)
        document = define_of_folder(study, specs, datasets, folder, standard=standard, documents=documents)
        model = write_define(document, folder)
        write_reviewer_guide(study, standard, folder, frames, conformance, documents, {}, source)
        # The link rules are not run here (no documents recorded): package_problems checks the
        # same links on the files just written, so each broken link is one problem.
        problems += define_problems(DatasetFolder(folder, standard.lower(), datasets, model), rules)
        problems += package_problems(folder / DEFINE_FILE)
        written[standard] = folder / DEFINE_FILE
    if problems:
        raise ConformanceErrors(problems)
    return written


def regenerate_tables(out_dir: Path, spec_dir: Path | None = None) -> list[Path]:
    """The paper's tables and figure again, from the ADaM XPT files of a conversion's output."""
    manifest = _conversion_output(out_dir)
    study = load_study(spec_dir)
    layout = OutputLayout(Path(out_dir), study.studyid)
    study = study_as_written(study, layout, manifest.command)
    loaded = read_dataset_folder(layout.adam) if layout.adam.is_dir() and xpt_files(layout.adam) else {}
    missing = [name for name in ("ADSL", "ADAE") if name not in loaded]
    if missing:
        raise InputErrors(
            [
                Problem(display_path(layout.adam), f"no {name.lower()}.xpt; run cdisc-cup convert first")
                for name in missing
            ],
            source="ADaM folder",
        )
    adam = {name: shape_to_spec(loaded[name].frame, study.dataset(name)) for name in ("ADSL", "ADAE")}
    return _write_tables(study, adam["ADSL"], adam["ADAE"], layout.tables)


def rule_catalogue(spec_dir: Path | None = None, form: Literal["table", "json", "markdown"] = "table") -> str:
    """The rules a validation of these specs runs, as a terminal table, a JSON list of rule
    objects or Markdown (docs/rules.md)."""
    rules = rules_for(spec_dir)
    if form == "json":
        return json.dumps([rule.to_dict() for rule in rules], indent=1)
    return catalogue_markdown(rules) if form == "markdown" else catalogue_table(rules)


# --- compare two sets of datasets (double programming QC) ---------------------------------------


@dataclass(frozen=True)
class CompareOutcome:
    """A comparison and where its report went (None: printed only)."""

    comparison: Comparison
    report: Path | None

    @property
    def summary(self) -> str:
        return comparison_summary(self.comparison)


def compare_submissions(
    base: Path,
    compare: Path,
    *,
    keys: Sequence[str] = (),
    tolerance: Tolerance | None = None,
    max_examples: int = 50,
    out_dir: Path | None = None,
    force: bool = False,
    command: str = "compare",
    progress: Progress | None = None,
) -> CompareOutcome:
    """BASE against COMPARE (two XPT files, or two folders of them), as PROC COMPARE does, with
    compare.html and compare.json in `out_dir` when given. `keys` are --keys as typed
    ("USUBJID,AESEQ" or "AE=USUBJID,AESEQ"); one that names no variable is bad input, reported
    before anything is read. The output folder is checked first and replaced only as a whole."""
    try:
        key_option = KeyOption.parse(keys)
    except ValueError as error:
        raise InputErrors([Problem("--keys", str(error))], source="comparison") from error
    output = OutputFolder(out_dir, COMPARE_REPORT_FILES, "compare", force=force) if out_dir is not None else None
    if output is not None:
        output.check()
    comparison = compare_paths(
        base,
        compare,
        keys=key_option,
        tolerance=tolerance,
        max_examples=max_examples,
        command=command,
        progress=progress,
    )
    if output is None:
        return CompareOutcome(comparison, None)
    with output.staged(__version__, comparison.created) as staging:
        write_comparison_reports(comparison, staging)
    return CompareOutcome(comparison, Path(out_dir) / COMPARE_REPORT_FILES[0])


def env_version(folder: Path, csv_cases: bool) -> str | None:
    """The IG version a CSV case folder's .env names (None for an XPT folder)."""
    return read_env(folder)[1] if csv_cases else None


def read_csv_as_folder(folder: Path) -> FolderRead:
    """A folder of CSV datasets (CORE's test-case layout) as a folder read for validation."""
    return FolderRead(Path(folder), read_csv_folder(folder).datasets, {}, None)


def study_of_csv_folder(folder: Path) -> Study:
    """The Study a folder of CSV datasets (CORE's test-case layout) describes, with the IG
    version its .env names."""
    read = read_csv_folder(folder)
    return Study(
        datasets=read.datasets,
        standards=dict.fromkeys(read.datasets, read.standard),
        ig_versions={read.standard: read.version} if read.version else {},
    )


def _write_tables(study: StudySpec, adsl: pd.DataFrame, adae: pd.DataFrame, folder: Path) -> list[Path]:
    """The tables stage, imported when it runs: it brings matplotlib (0.6 s), which validate,
    compare and adam never need."""
    from cdisc_cup.tables import write_tables

    return write_tables(study, adsl, adae, folder)
