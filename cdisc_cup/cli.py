"""The `cdisc-cup` command: wires the pipeline stages, prints progress, maps errors to exit codes.

No conversion logic lives here. Exit codes (README "Exit codes"): 0 success, 1 conformance
findings at or above --fail-on, 2 unusable input, 3 spec error, 4 output cannot be written.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

import click

from cdisc_cup import __version__
from cdisc_cup.errors import CdiscCupError
from cdisc_cup.progress import Progress
from cdisc_cup.rules.cli_commands import rules_command, validate


def report_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn input/spec/output errors into a readable list and an exit code, never a traceback."""

    @wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except CdiscCupError as error:
            click.secho(f"error: {error.title}:", fg="red", err=True)
            for problem in error.problems:
                click.echo(f"  - {problem}", err=True)
            sys.exit(error.exit_code)

    return run


specs_option = click.option(
    "--specs",
    "spec_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Spec folder with study.yaml (default: the specs shipped with cdisc-cup).",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cdisc-cup")
def main() -> None:
    """Turn a compassionate use program (CUP) eCRF export into CDISC SDTM and ADaM datasets.

    \b
    Example:
      cdisc-cup convert sample_data --out out
      cdisc-cup validate out/m5/datasets/isa-cup-de/tabulations/sdtm
    """


@main.command()
@click.argument("raw_dir", type=click.Path(path_type=Path))
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    default=Path("out"),
    show_default=True,
    help="Output folder; replaced only when the whole run succeeds.",
)
@specs_option
@click.option(
    "--format",
    "formats",
    default="xpt",
    show_default=True,
    help="Dataset formats, comma-separated: xpt, json (CDISC Dataset-JSON 1.1).",
)
@click.option("--quiet", is_flag=True, help="Print only the summary.")
@report_errors
def convert(raw_dir: Path, out_dir: Path, spec_dir: Path | None, formats: str, quiet: bool) -> None:
    """Convert the raw export in RAW_DIR to SDTM and ADaM (SAS XPORT v5).

    Writes OUT/m5/datasets/<studyid>/tabulations/sdtm/*.xpt, the ADaM datasets under
    analysis/adam/datasets/, the reports under OUT/reports and the tables under OUT/tables.

    \b
    Example:
      cdisc-cup convert sample_data --out out
      cdisc-cup convert export/ --out submission --specs my-study-specs/ --format xpt,json
    """
    from cdisc_cup.pipeline import FORMATS
    from cdisc_cup.pipeline import convert as run_conversion

    chosen = [f.strip().lower() for f in formats.split(",") if f.strip()]
    if "xpt" not in chosen or not set(chosen) <= set(FORMATS):
        raise click.BadParameter(f"choose from {', '.join(FORMATS)}, xpt always included", param_hint="--format")
    started = time.perf_counter()
    click.echo(f"cdisc-cup {__version__}: converting {raw_dir}", err=True)
    result = run_conversion(raw_dir, out_dir, spec_dir, formats=chosen, progress=Progress(quiet=quiet))
    click.echo(f"\nStudy {result.study.studyid}: done in {time.perf_counter() - started:.1f} s", err=True)
    for title, frames, folder in (("SDTM", result.sdtm, result.sdtm_dir), ("ADaM", result.adam, result.adam_dir)):
        if frames:
            counts = ", ".join(f"{name} {len(frame)}" for name, frame in frames.items())
            click.echo(f"  {title} ({len(frames)} datasets, records: {counts})", err=True)
            click.echo(f"    -> {folder}", err=True)
    if result.findings is not None:
        counts = result.findings["severity"].value_counts()
        summary = ", ".join(f"{counts.get(level, 0)} {level}" for level in ("Error", "Warning", "Notice"))
        click.echo(
            f"  conformance findings: {summary} -> {result.layout.reports / 'validation' / 'findings.html'}", err=True
        )
    click.echo(f"  reports -> {result.layout.reports}", err=True)


@main.command("define")
@click.argument("out_dir", type=click.Path(path_type=Path, exists=True, file_okay=False))
@specs_option
@report_errors
def define(out_dir: Path, spec_dir: Path | None) -> None:
    """Regenerate define.xml and define.html beside the SDTM and ADaM XPTs of OUT_DIR.

    Each define.xml is checked against the Define-XML 2.1 schema and against the XPT files.

    \b
    Example:
      cdisc-cup define out
    """
    from cdisc_cup.errors import ConformanceErrors
    from cdisc_cup.pipeline import OutputLayout
    from cdisc_cup.spec.loader import load_study
    from cdisc_cup.writers.define_xml import check_define_against_datasets, define_from_folder, validate_define

    study = load_study(spec_dir)
    layout = OutputLayout(out_dir, study.studyid)
    problems = []
    for standard, folder, specs in (("SDTM", layout.sdtm, study.sdtm), ("ADaM", layout.adam, study.adam)):
        if not folder.is_dir() or not any(folder.glob("*.xpt")):
            click.echo(f"  {standard}: no XPT files in {folder}", err=True)
            continue
        path = define_from_folder(study, specs, folder, standard=standard)
        problems += validate_define(path) + check_define_against_datasets(path, folder)
        click.echo(f"  {standard}: {path} (+ define.html)", err=True)
    if problems:
        raise ConformanceErrors(problems)


@main.command("tables")
@click.argument("out_dir", type=click.Path(path_type=Path, exists=True, file_okay=False))
@specs_option
@report_errors
def tables(out_dir: Path, spec_dir: Path | None) -> None:
    """Write the paper's Tables 1-3 (HTML, CSV) and Figure 1 (PNG, SVG) from the ADaM XPTs of OUT_DIR.

    Reads adsl.xpt and adae.xpt under OUT_DIR/m5/datasets/<studyid>/analysis/adam/datasets/
    and writes OUT_DIR/tables/ (open index.html).

    \b
    Example:
      cdisc-cup tables out
    """
    from cdisc_cup.adam.spec import conform
    from cdisc_cup.errors import InputErrors, Problem
    from cdisc_cup.pipeline import OutputLayout
    from cdisc_cup.readers.datasets import read_dataset_folder
    from cdisc_cup.spec.loader import load_study
    from cdisc_cup.tables import write_tables

    study = load_study(spec_dir)
    layout = OutputLayout(out_dir, study.studyid)
    loaded = read_dataset_folder(layout.adam) if layout.adam.is_dir() else {}
    missing = [name for name in ("ADSL", "ADAE") if name not in loaded]
    if missing:
        raise InputErrors(
            [Problem(str(layout.adam), f"no {name.lower()}.xpt; run cdisc-cup convert first") for name in missing]
        )
    adam = {name: conform(loaded[name].frame, study.dataset(name)) for name in ("ADSL", "ADAE")}
    written = write_tables(study, adam["ADSL"], adam["ADAE"], layout.tables)
    click.echo(f"  tables and figure ({len(written)} files) -> {layout.tables}", err=True)


main.add_command(validate)
main.add_command(rules_command)


if __name__ == "__main__":
    main()
