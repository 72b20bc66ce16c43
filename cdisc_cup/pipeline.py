"""read -> map SDTM -> derive ADaM -> validate -> write, into a staging folder.

The output folder is replaced only when the whole run succeeded: everything is written to a
staging folder beside it, which is renamed into place at the end (a killed or failed run
leaves the previous output untouched). Timestamps inside the files come from
SOURCE_DATE_EPOCH or, failing that, from the data, so two runs give identical bytes.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from cdisc_cup.adam import derive_adam
from cdisc_cup.errors import ConformanceErrors, OutputError, Problem, display_path
from cdisc_cup.mapping.conform import conform_all
from cdisc_cup.mapping.engine import build_sdtm, submission_frame
from cdisc_cup.progress import Progress
from cdisc_cup.readers.datasets import LoadedDataset, as_read_back, read_xpt_header
from cdisc_cup.readers.raw import RawTable, read_raw_export, unknown_files
from cdisc_cup.reports.findings import write_findings_reports
from cdisc_cup.reports.reconciliation import reconcile, write_reconciliation
from cdisc_cup.rules.engine import validate_datasets
from cdisc_cup.rules.loader import shipped_rules
from cdisc_cup.spec.loader import load_study
from cdisc_cup.spec.model import DatasetSpec, StudySpec
from cdisc_cup.tables import write_tables
from cdisc_cup.writers.dataset_json import write_dataset_json
from cdisc_cup.writers.define_xml import check_define_against_datasets, validate_define, write_define
from cdisc_cup.writers.xpt import XptVariable, xpt_size
from cdisc_cup.writers.xpt_split import FDA_FILE_LIMIT, XptDatasetFiles, split_note, write_xpt_within_limit

FORMATS = ("xpt", "json")


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

    def moved_to(self, root: Path) -> OutputLayout:
        return OutputLayout(root, self.studyid)


@dataclass
class ConversionResult:
    study: StudySpec
    layout: OutputLayout
    sdtm: dict[str, pd.DataFrame]
    adam: dict[str, pd.DataFrame] = field(default_factory=dict)
    lengths: dict[str, dict[str, int]] = field(default_factory=dict)
    findings: pd.DataFrame | None = None
    defines: dict[str, Path] = field(default_factory=dict)
    reconciliation: pd.DataFrame | None = None
    xpt_files: dict[str, XptDatasetFiles] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def out_dir(self) -> Path:
        return self.layout.root

    @property
    def sdtm_dir(self) -> Path:
        return self.layout.sdtm

    @property
    def adam_dir(self) -> Path:
        return self.layout.adam


def creation_time(raw: Mapping[str, RawTable]) -> datetime:
    """SOURCE_DATE_EPOCH (reproducible builds) or the latest complete date in the export."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        return datetime.fromtimestamp(int(epoch), tz=UTC).replace(tzinfo=None)
    latest = "2000-01-01"
    for table in raw.values():
        for column in table.spec.columns:
            if column.type in ("date", "partial_date"):
                values = table.frame[column.name].dropna()
                values = values[values.str.len() == 10]
                latest = max(latest, str(values.max())) if len(values) else latest
    return datetime.fromisoformat(latest)


def xpt_variables(spec: DatasetSpec, lengths: Mapping[str, int]) -> list[XptVariable]:
    """Writer metadata: spec names, labels and formats; character lengths sized to the data."""
    return [
        XptVariable(v.name, v.label, v.type, lengths.get(v.name, 8) if v.type == "Char" else 8, v.format)
        for v in spec.variables
    ]


def write_datasets(
    folder: Path,
    specs: Sequence[DatasetSpec],
    frames: Mapping[str, pd.DataFrame],
    lengths: Mapping[str, Mapping[str, int]],
    created: datetime,
    *,
    limit: int = FDA_FILE_LIMIT,
) -> dict[str, XptDatasetFiles]:
    """One lower-case XPT file per dataset (FDA TCG section 3.3.1: dm.xpt); a dataset over
    `limit` bytes also in split files of one subject's records each (TCG section 3.3.2)."""
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for spec in specs:
        frame = submission_frame(frames[spec.name])
        written[spec.name] = write_xpt_within_limit(
            folder,
            frame,
            dataset=spec.name,
            label=spec.label,
            variables=xpt_variables(spec, lengths[spec.name]),
            created=created,
            limit=limit,
            by="USUBJID" if "USUBJID" in frame.columns else None,
        )
    return written


def written_datasets(study: StudySpec, result: ConversionResult) -> dict[str, dict[str, LoadedDataset]]:
    """The datasets as they are in the written XPT files, for the define.xml cross-check and
    the conformance rules.

    Each file's header is read back by pyreadstat and its size checked against the record
    count; the values are those the writer encoded, in the form a reader returns them
    (`as_read_back`, held equal to a real read-back by the tests), since parsing a
    million-record file again costs more than writing it. `cdisc-cup validate` reads files.
    """
    written: dict[str, dict[str, LoadedDataset]] = {}
    for standard, specs, frames in (("SDTM", study.sdtm, result.sdtm), ("ADaM", study.adam, result.adam)):
        if not frames:
            continue
        written[standard] = {}
        for spec in specs:
            path = result.xpt_files[spec.name].whole.path
            frame = submission_frame(frames[spec.name])
            label, variables = read_xpt_header(path)
            intended = tuple(xpt_variables(spec, result.lengths[spec.name]))
            if variables != intended or path.stat().st_size != xpt_size(variables, len(frame)):
                raise OutputError([Problem(display_path(path), "the written file does not hold what was written")])
            written[standard][spec.name] = as_read_back(frame, variables, name=spec.name, label=label, path=path)
    return written


def write_defines(
    study: StudySpec,
    layout: OutputLayout,
    result: ConversionResult,
    written: Mapping[str, Mapping[str, LoadedDataset]],
    created: datetime,
) -> dict[str, Path]:
    """define.xml beside each dataset folder, schema-valid and matching the written XPTs."""
    defines = {}
    notes = {name: split_note(files) for name, files in result.xpt_files.items() if files.is_split}
    for standard, specs, frames, folder in (
        ("SDTM", study.sdtm, result.sdtm, layout.sdtm),
        ("ADaM", study.adam, result.adam, layout.adam),
    ):
        if not frames:
            continue
        path = write_define(
            study, specs, frames, folder, standard=standard, lengths=result.lengths, created=created, notes=notes
        )
        problems = validate_define(path) + check_define_against_datasets(path, written[standard])
        if problems:
            raise ConformanceErrors(problems)
        defines[standard] = path
    return defines


def write_json_datasets(study: StudySpec, layout: OutputLayout, result: ConversionResult, created: datetime) -> None:
    """CDISC Dataset-JSON 1.1 beside each XPT (`--format xpt,json`)."""
    for specs, frames, folder in ((study.sdtm, result.sdtm, layout.sdtm), (study.adam, result.adam, layout.adam)):
        for spec in specs:
            write_dataset_json(
                folder / f"{spec.name.lower()}.json",
                submission_frame(frames[spec.name]),
                spec,
                study,
                lengths=result.lengths[spec.name],
                created=created,
            )


def validate_output(written: Mapping[str, Mapping[str, LoadedDataset]], defines: Mapping[str, Path]) -> pd.DataFrame:
    """The rule set on the files as written: SDTM and ADaM together (for the cross-dataset
    rules), and the rules that read define.xml (DX, and CT, which takes each variable's
    codelist from it) per folder against that folder's define.xml."""
    rules = shipped_rules()
    per_folder = {"DX", "CT"}
    define_rules = [r for r in rules if r.family in per_folder]
    sdtm, adam = written.get("SDTM", {}), written.get("ADaM", {})
    parts = [validate_datasets({**sdtm, **adam}, rules=[r for r in rules if r.family not in per_folder])]
    for datasets, standard in ((sdtm, "SDTM"), (adam, "ADaM")):
        if datasets:
            parts.append(validate_datasets(datasets, define_path=defines.get(standard), rules=define_rules))
    return pd.concat(parts, ignore_index=True)


def _staging_prefix(out_dir: Path) -> str:
    return f".{out_dir.name}.staging-"


def remove_stale_staging(out_dir: Path) -> None:
    """Staging folders of runs that were killed (their process is gone) are deleted."""
    for folder in out_dir.parent.glob(_staging_prefix(out_dir) + "*"):
        pid = folder.name.removeprefix(_staging_prefix(out_dir)).split("-")[0]
        if not pid.isdigit():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
        except PermissionError:
            continue


def _replace_folder(staging: Path, target: Path) -> None:
    """Swap the finished staging folder into place; the old output goes only after that."""
    backup = target.with_name(f".{target.name}.previous")
    if backup.exists():
        shutil.rmtree(backup)
    if target.exists():
        target.rename(backup)
    staging.rename(target)
    if backup.exists():
        shutil.rmtree(backup)


def convert(
    raw_dir: Path,
    out_dir: Path,
    spec_dir: Path | None = None,
    *,
    formats: Sequence[str] = ("xpt",),
    progress: Progress | None = None,
) -> ConversionResult:
    """The whole conversion; raises a CdiscCupError subclass for anything the user must fix.

    Findings of the conformance rules do not stop the run: they are in `result.findings`
    and in OUT/reports/validation/.
    """
    progress = progress or Progress(quiet=True)
    raw_dir, out_dir = Path(raw_dir), Path(out_dir)
    with progress.step("load specs"):
        study = load_study(spec_dir)
    with progress.step("read raw export", str(raw_dir)):
        raw = read_raw_export(raw_dir, study)
        for name in unknown_files(raw_dir, study):
            progress.note(f"not read (no raw-file spec): {name}")
    with progress.step("map SDTM"):
        sdtm = build_sdtm(study, raw)
    with progress.step("reconcile raw records"):
        accounting = reconcile(raw, sdtm)
    created = creation_time(raw)
    del raw  # accounted for: its memory is better spent on ADaM and validation
    with progress.step("check SDTM against specs"):
        lengths = conform_all({s.name: s for s in study.sdtm}, sdtm)
    with progress.step("derive ADaM"):
        adam = derive_adam(study, {name: submission_frame(frame) for name, frame in sdtm.items()}) if study.adam else {}
    with progress.step("check ADaM against specs"):
        lengths |= conform_all({s.name: s for s in study.adam}, adam)

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_staging(out_dir)
    try:
        staging = Path(tempfile.mkdtemp(prefix=f"{_staging_prefix(out_dir)}{os.getpid()}-", dir=out_dir.parent))
    except OSError as exc:
        raise OutputError([Problem(str(out_dir.parent), f"cannot create the output folder: {exc.strerror}")]) from exc
    layout = OutputLayout(staging, study.studyid)
    result = ConversionResult(
        study=study, layout=layout, sdtm=sdtm, adam=adam, lengths=lengths, reconciliation=accounting.summary
    )
    try:
        with progress.step("write SDTM XPT", f"{len(sdtm)} datasets"):
            result.xpt_files = write_datasets(layout.sdtm, study.sdtm, sdtm, lengths, created)
        if adam:
            with progress.step("write ADaM XPT", f"{len(adam)} datasets"):
                result.xpt_files |= write_datasets(layout.adam, study.adam, adam, lengths, created)
        for files in result.xpt_files.values():
            if files.is_split:
                progress.note(
                    f"{files.dataset} is over the FDA 5 GB limit: also written to {files.parts[0].path.parent}"
                )
        with progress.step("check the written XPT files"):
            written = written_datasets(study, result)
        with progress.step("write define.xml and define.html"):
            result.defines = write_defines(study, layout, result, written, created)
        if "json" in formats:
            with progress.step("write Dataset-JSON"):
                write_json_datasets(study, layout, result, created)
        with progress.step("validate"):
            result.findings = validate_output(written, result.defines)
            del written  # only for the checks; frees a copy of every dataset
            write_findings_reports(result.findings, layout.reports / "validation")
        if adam:
            with progress.step("write tables and figure"):
                write_tables(study, adam["ADSL"], adam["ADAE"], layout.tables)
        with progress.step("write reconciliation and audit trail"):
            write_reconciliation(accounting, layout.reports)
        _replace_folder(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    result.layout = layout.moved_to(out_dir)
    result.defines = {k: out_dir / p.relative_to(staging) for k, p in result.defines.items()}
    result.timings = dict(progress.timings)
    return result
