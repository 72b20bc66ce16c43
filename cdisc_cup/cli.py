"""The `cdisc-cup` command: parses options, calls the pipeline, prints progress and a summary.

No conversion logic lives here. Exit codes (README "Exit codes", and every command's --help):
0 success, 1 conformance findings at or above --fail-on, 2 unusable input, 3 spec error,
4 output cannot or must not be written, 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

import click

from cdisc_cup import __version__, ct
from cdisc_cup.errors import EXIT_FINDINGS, EXIT_INTERRUPTED, CdiscCupError, first_problems
from cdisc_cup.memory import use_system_allocator
from cdisc_cup.progress import Progress, Verbosity
from cdisc_cup.rules.core.model import OUR_RULES
from cdisc_cup.rules.igmeta import IG_NAMES, IG_VERSIONS

EXIT_CODES = """\b
Exit codes:
  0    success{findings}
  2    the input cannot be used (each problem with file, line, column, value)
  3    a spec or rule file is wrong
  4    the output folder cannot or must not be written
  130  interrupted (Ctrl-C); earlier output is left as it was"""
FINDINGS_CODE = "\n  1    findings at or above --fail-on"
# Problems shown on the terminal; the complete list goes to a file beside the output.
SHOWN_PROBLEMS = 20


class RuleSource(click.ParamType):
    """A --rules value: an existing rule file or folder, or the word for our own catalogue."""

    name = "path"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Path | str:
        if value == OUR_RULES:
            return OUR_RULES
        return click.Path(exists=True, path_type=Path).convert(value, param, ctx)


def exit_codes(findings: bool = False) -> str:
    return EXIT_CODES.format(findings=FINDINGS_CODE if findings else "")


def _problems_output(kwargs: dict[str, Any]) -> Path | None:
    """The output a command writes: the complete list of problems goes beside it."""
    for key in ("out_dir", "report_dir"):
        if kwargs.get(key) is not None:
            return Path(kwargs[key])
    return None


def report_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn input/spec/output errors into a readable list and an exit code, never a traceback.

    The terminal shows the first problems and a count (all of them with --verbose); the whole
    list goes to `<output>-problems.txt` beside the output folder, never into it.
    """

    @wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        from cdisc_cup.outputs import problems_file, remove_problems_file, write_problems_file

        verbose = kwargs.get("verbosity") == Verbosity.VERBOSE
        output = _problems_output(kwargs)
        try:
            result = command(*args, **kwargs)
        except CdiscCupError as error:
            click.secho(f"error: {error.title}:", fg="red", err=True)
            shown = error.problems if verbose else first_problems(error.problems, SHOWN_PROBLEMS)
            for problem in shown:
                click.echo(f"  - {problem}", err=True)
            if len(shown) < len(error.problems) and output is not None:
                listing = problems_file(output)
                if write_problems_file(listing, error.title, error.problems):
                    click.echo(f"The complete list of {len(error.problems)} problems: {listing}", err=True)
            sys.exit(error.exit_code)
        except KeyboardInterrupt:
            click.secho("interrupted: nothing was changed in the output folder", fg="yellow", err=True)
            sys.exit(EXIT_INTERRUPTED)
        if output is not None:
            remove_problems_file(problems_file(output))
        return result

    return run


def _verbosity(context: click.Context, parameter: click.Parameter, value: bool) -> None:
    """--quiet and --verbose set one level; the last one given wins."""
    if value:
        context.params["verbosity"] = Verbosity.QUIET if parameter.name == "quiet" else Verbosity.VERBOSE


def verbosity_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--quiet and --verbose, the same on every command."""
    command = click.option(
        "--verbose", is_flag=True, expose_value=False, callback=_verbosity, help="Also print notes and every problem."
    )(command)
    command = click.option(
        "--quiet", is_flag=True, expose_value=False, callback=_verbosity, help="Print only the summary and errors."
    )(command)

    @wraps(command)
    def with_default(*args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("verbosity", Verbosity.NORMAL)
        return command(*args, **kwargs)

    return with_default


def common_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--specs, --quiet and --verbose: every command that reads the specs. `compare` reads none
    (its keys come from --keys, or the define.xml beside BASE, which the specs' keys made), so
    it has the verbosity options only."""
    command = click.option(
        "--specs",
        "spec_dir",
        type=click.Path(path_type=Path, exists=True, file_okay=False),
        default=None,
        help="Spec folder with study.yaml (default: the specs shipped with cdisc-cup).",
    )(command)
    return verbosity_options(command)


def say(text: str) -> None:
    """Summary lines of convert, define and tables go to stderr with the progress lines."""
    click.echo(text, err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cdisc-cup")
def main() -> None:
    """Turn a compassionate use program (CUP) eCRF export into CDISC SDTM and ADaM datasets.

    \b
    Example:
      cdisc-cup convert sample_data --out out
      cdisc-cup validate out
    """
    use_system_allocator()


def output_folder_options(replaces: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """--out and --force of the commands that write a conversion's layout; `replaces` names
    what such a run replaces in a folder it did not make."""

    def add(command: Callable[..., None]) -> Callable[..., None]:
        command = click.option(
            "--force",
            is_flag=True,
            help=f"Write into a non-empty folder cdisc-cup did not make (replaces only {replaces}).",
        )(command)
        return click.option(
            "--out",
            "out_dir",
            type=click.Path(path_type=Path),
            default=Path("out"),
            show_default=True,
            help="Output folder: new, empty, or written by an earlier cdisc-cup run (only what that run wrote is "
            "replaced).",
        )(command)

    return add


@main.command(epilog=exit_codes())
@click.argument("raw_dir", type=click.Path(path_type=Path, exists=True, file_okay=False))
@output_folder_options("m5/, reports/, tables/, index.html")
@click.option(
    "--format",
    "formats",
    default="xpt",
    show_default=True,
    help="Dataset formats, comma-separated: xpt, json (CDISC Dataset-JSON 1.1).",
)
@click.option(
    "--core-rules",
    "core_rule_paths",
    type=click.Path(exists=True, path_type=Path),
    multiple=True,
    help="CDISC CORE rules to run besides ours (repeatable): a rule.yml, a rule folder or a folder of them "
    "(such as core-rules/Published). Their findings go into the reports and the reviewer's guides.",
)
@common_options
@report_errors
def convert(
    raw_dir: Path,
    out_dir: Path,
    force: bool,
    formats: str,
    core_rule_paths: tuple[Path, ...],
    spec_dir: Path | None,
    verbosity: Verbosity,
) -> None:
    """Convert the raw export in RAW_DIR to SDTM and ADaM (SAS XPORT v5).

    Writes OUT/m5/datasets/<studyid>/tabulations/sdtm/*.xpt, the ADaM datasets under
    analysis/adam/datasets/, the reports under OUT/reports, the tables under OUT/tables and
    OUT/index.html, a page that links them all.

    \b
    Example:
      cdisc-cup convert sample_data --out out
      cdisc-cup convert export/ --out submission --specs my-study-specs/ --format xpt,json
      cdisc-cup convert sample_data --out out --core-rules ../shared/core-rules/Published
    """
    from cdisc_cup.pipeline import FORMATS
    from cdisc_cup.pipeline import convert as run_conversion

    chosen = [f.strip().lower() for f in formats.split(",") if f.strip()]
    if "xpt" not in chosen or not set(chosen) <= set(FORMATS):
        raise click.BadParameter(f"choose from {', '.join(FORMATS)}, xpt always included", param_hint="--format")
    started = time.perf_counter()
    say(f"cdisc-cup {__version__}: converting {raw_dir}")
    result = run_conversion(
        raw_dir,
        out_dir,
        spec_dir,
        formats=chosen,
        progress=Progress(verbosity),
        force=force,
        core_rule_paths=core_rule_paths,
    )
    summarise_run(result, started)


@main.command(epilog=exit_codes())
@click.argument("sdtm_dir", type=click.Path(path_type=Path, exists=True, file_okay=False))
@output_folder_options("m5/, reports/, index.html")
@common_options
@report_errors
def adam(sdtm_dir: Path, out_dir: Path, force: bool, spec_dir: Path | None, verbosity: Verbosity) -> None:
    """Derive the ADaM datasets of the specs from the SDTM XPT files in SDTM_DIR.

    SDTM_DIR may be any folder of SDTM datasets (ours or another tool's); the specs' ADaM
    derivations name the datasets and variables they read. Writes
    OUT/m5/datasets/<studyid>/analysis/adam/datasets/*.xpt with define.xml and the ADRG, the
    validation report under OUT/reports/validation and OUT/index.html.

    \b
    Example:
      cdisc-cup adam ../shared/pharmaverse/sdtm --specs examples/cdiscpilot01/specs --out pilot-adam
      cdisc-cup adam out/m5/datasets/isa-cup-de/tabulations/sdtm --out adam-again
    """
    from cdisc_cup.pipeline import derive_from_sdtm

    started = time.perf_counter()
    say(f"cdisc-cup {__version__}: deriving ADaM from {sdtm_dir}")
    result = derive_from_sdtm(sdtm_dir, out_dir, spec_dir, progress=Progress(verbosity), force=force)
    summarise_run(result, started)
    if result.validation is not None:
        datasets = result.validation.datasets
        sdtm = set(datasets.loc[datasets["standard"] == "SDTM", "dataset"])
        on_input = int(result.validation.findings["dataset"].isin(sdtm).sum())
        say(f"  of the findings, {on_input} are on the SDTM input (checked with the ADaM for the cross-dataset rules)")


def summarise_run(result: Any, started: float) -> None:
    """The closing lines of convert and adam: datasets and records, where they and the
    findings went. `result` is a pipeline.ConversionResult (imported lazily, as the pipeline)."""
    say(f"\nStudy {result.study.studyid}: done in {time.perf_counter() - started:.1f} s")
    for title, frames, folder in (("SDTM", result.sdtm, result.sdtm_dir), ("ADaM", result.adam, result.adam_dir)):
        if frames:
            counts = ", ".join(f"{name} {len(frame)}" for name, frame in frames.items())
            say(f"  {title} ({len(frames)} datasets, records: {counts})")
            say(f"    -> {folder}")
    if result.validation is not None:
        counts = result.validation.findings["severity"].value_counts()
        summary = ", ".join(f"{counts.get(level, 0)} {level}" for level in ("Error", "Warning", "Notice"))
        say(f"  conformance findings: {summary} -> {result.layout.reports / 'validation' / 'findings.html'}")
    say(f"  everything -> {result.layout.root / 'index.html'}")


STANDARD_CHOICES = [
    "sdtm",
    "adam",
    *(f"{name.lower()}-{version}" for family, name in IG_NAMES.items() for version in IG_VERSIONS[family]),
]
# "sdtm-2025-03-28" for "SDTM CT 2025-03-28": the SDTM and ADaM packages shipped (Define-XML CT
# describes define.xml itself and is not chosen per study).
CT_CHOICES = [
    name.replace(" CT ", "-").lower() for name in ct.available_packages() if name.startswith(("SDTM", "ADaM"))
]
FAIL_ON = {"error": ("Error",), "warning": ("Error", "Warning"), "notice": ("Error", "Warning", "Notice"), "never": ()}


@main.command(epilog=exit_codes(findings=True))
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--report-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Write findings.json, .csv, .xlsx and .html here (default: ./validation, outside the checked folder).",
)
@click.option("--force", is_flag=True, help="Write the report into a non-empty folder cdisc-cup did not make.")
@click.option(
    "--fail-on",
    type=click.Choice(list(FAIL_ON)),
    default="error",
    show_default=True,
    help="Exit with code 1 when there are findings of this severity or worse.",
)
@click.option(
    "--standard",
    "standards",
    type=click.Choice(STANDARD_CHOICES, case_sensitive=False),
    multiple=True,
    help="The implementation guide the datasets follow (repeat for SDTM and ADaM). Default: the version their "
    "define.xml names, else the latest; sdtm or adam alone only says which kind the datasets are.",
)
@click.option(
    "--ct",
    "terminology",
    type=click.Choice(CT_CHOICES, case_sensitive=False),
    multiple=True,
    help="The CT package to check values with (repeat for SDTM and ADaM). Default: the one the folder's "
    "define.xml cites, else the newest shipped.",
)
@click.option(
    "--rules",
    "rule_paths",
    type=RuleSource(),
    multiple=True,
    help="Rules to run instead of ours (repeatable): a CDISC CORE rule.yml, a folder of CORE rule folders "
    "(such as core-rules/Published), a file of our own rules (specs/rules/*.yaml format), or the word "
    f"{OUR_RULES} for our own catalogue (--rules {OUR_RULES} --rules core-rules/Published runs both).",
)
@click.option(
    "--select",
    "select",
    multiple=True,
    help="Run only these rule IDs (comma-separated or repeated; ours or CORE's, e.g. CORE-000192).",
)
@common_options
@report_errors
def validate(
    folder: Path,
    report_dir: Path | None,
    force: bool,
    fail_on: str,
    standards: tuple[str, ...],
    terminology: tuple[str, ...],
    spec_dir: Path | None,
    verbosity: Verbosity,
    rule_paths: tuple[Path | str, ...],
    select: tuple[str, ...],
) -> None:
    """Check the SAS XPORT (*.xpt) datasets under FOLDER, with their define.xml, against the rules.

    FOLDER is a folder of datasets, a conversion's output or an eCTD m5 tree: every dataset
    folder below it is found and checked (a study's SDTM and ADaM folders together). Prints a
    summary per rule and dataset and writes the findings as JSON, CSV, Excel and HTML.
    FOLDER may also be a folder of CSV datasets described by _datasets.csv and _variables.csv
    (CDISC CORE's test-case layout). --rules runs CDISC CORE's published rules natively
    instead of ours (add --rules cdisc-cup to run ours too); a rule that needs what is not
    available offline is listed as not run, with the reason.

    \b
    Example:
      cdisc-cup validate out
      cdisc-cup validate out/m5/datasets/isa-cup-de/tabulations/sdtm --report-dir qc
      cdisc-cup validate adam/ --standard adam --fail-on warning
      cdisc-cup validate legacy/ --standard sdtmig-3.2 --standard adamig-1.1
      cdisc-cup validate out --ct sdtm-2025-03-28
      cdisc-cup validate out --rules ../shared/core-rules/Published
      cdisc-cup validate out --rules cdisc-cup --rules ../shared/core-rules/Published
      cdisc-cup validate CORE-000192/negative/01/data --rules core-rules/Published --select CORE-000192
    """
    from cdisc_cup.pipeline import validate_submission

    outcome = validate_submission(
        folder,
        report_dir=report_dir,
        standards=standards,
        terminology=terminology,
        spec_dir=spec_dir,
        force=force,
        progress=Progress(verbosity),
        rule_paths=rule_paths,
        select=[part for value in select for part in value.split(",")],
    )
    for checked in outcome.studies:
        click.echo(checked.summary)
        click.echo(f"Reports: {checked.report_folder}")
    if any(checked.validation.findings["severity"].isin(FAIL_ON[fail_on]).any() for checked in outcome.studies):
        sys.exit(EXIT_FINDINGS)


@main.command(name="rules", epilog=exit_codes())
@click.option("--json", "as_json", is_flag=True, help="Print the catalogue as a JSON list of rule objects.")
@click.option("--markdown", is_flag=True, help="Print the catalogue as Markdown (docs/rules.md).")
@common_options
@report_errors
def rules_command(as_json: bool, markdown: bool, spec_dir: Path | None, verbosity: Verbosity) -> None:
    """List every validation rule: ID, severity, standard, datasets and message.

    \b
    Example:
      cdisc-cup rules
      cdisc-cup rules --json > rules.json
      cdisc-cup rules --markdown > docs/rules.md
    """
    from cdisc_cup.pipeline import rule_catalogue

    form = "json" if as_json else "markdown" if markdown else "table"
    click.echo(rule_catalogue(spec_dir, form), nl=form != "markdown")


@main.command("define", epilog=exit_codes())
@click.argument("out_dir", type=click.Path(path_type=Path, exists=True, file_okay=False))
@common_options
@report_errors
def define(out_dir: Path, spec_dir: Path | None, verbosity: Verbosity) -> None:
    """Regenerate define.xml and define.html beside the SDTM and ADaM XPTs of OUT_DIR.

    The documents they link to are rewritten with them: the annotated CRF and the reviewer's
    guides (with the findings of the conversion's reports/validation/findings.json; the ADRG
    of an `adam` output names the SDTM folder that run read). Each define.xml is checked
    against the Define-XML 2.1 schema, the XPT files and its links.

    \b
    Example:
      cdisc-cup define out
    """
    from cdisc_cup.pipeline import regenerate_defines

    for standard, path in regenerate_defines(out_dir, spec_dir).items():
        say(f"  {standard}: {path} (+ define.html and the documents it links to)")


@main.command("tables", epilog=exit_codes())
@click.argument("out_dir", type=click.Path(path_type=Path, exists=True, file_okay=False))
@common_options
@report_errors
def tables(out_dir: Path, spec_dir: Path | None, verbosity: Verbosity) -> None:
    """Write the paper's Tables 1-3 (HTML, CSV) and Figure 1 (PNG, SVG) from the ADaM XPTs of OUT_DIR.

    Reads adsl.xpt and adae.xpt under OUT_DIR/m5/datasets/<studyid>/analysis/adam/datasets/
    and writes OUT_DIR/tables/ (open index.html).

    \b
    Example:
      cdisc-cup tables out
    """
    from cdisc_cup.pipeline import regenerate_tables

    written = regenerate_tables(out_dir, spec_dir)
    say(f"  tables and figure ({len(written)} files) -> {written[0].parent if written else out_dir}")


@main.command("compare", epilog=EXIT_CODES.format(findings="\n  1    the datasets differ"))
@click.argument("base", type=click.Path(path_type=Path, exists=True))
@click.argument("compare", type=click.Path(path_type=Path, exists=True))
@click.option(
    "--keys",
    "key_texts",
    multiple=True,
    metavar="[DATASET=]VAR,VAR",
    help="Variables that match records: for every dataset (USUBJID,AESEQ) or one (AE=USUBJID,AESEQ); "
    "repeat for several. Default: define.xml's keys in BASE, else the SDTMIG 3.4 / ADaM keys that are unique.",
)
@click.option(
    "--tolerance", type=click.FloatRange(min=0), default=None, help="Numbers equal when |compare - base| <= this."
)
@click.option(
    "--criterion",
    type=click.FloatRange(min=0),
    default=None,
    help="Numbers equal when their relative difference is <= this (PROC COMPARE METHOD=RELATIVE).",
)
@click.option(
    "--max-examples", type=click.IntRange(min=1), default=50, show_default=True, help="Examples listed per variable."
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Write compare.html and compare.json into this folder (new, empty, or written by cdisc-cup).",
)
@click.option("--force", is_flag=True, help="Write the report into a non-empty folder cdisc-cup did not make.")
@verbosity_options
@report_errors
def compare_command(
    base: Path,
    compare: Path,
    key_texts: tuple[str, ...],
    tolerance: float | None,
    criterion: float | None,
    max_examples: int,
    out_dir: Path | None,
    force: bool,
    verbosity: Verbosity,
) -> None:
    """Compare the SAS XPORT datasets BASE and COMPARE (two .xpt files, or two folders matched
    by dataset name), as PROC COMPARE or diffdf do for double programming.

    Reports dataset attributes, variables in one only, type/length/label/format differences,
    records in one only (by key) and the values that differ per variable. Text is compared
    without trailing blanks (as SAS does); numbers exactly unless --tolerance or --criterion.

    \b
    Example:
      cdisc-cup compare production/sdtm qc/sdtm --out compare-report
      cdisc-cup compare adsl.xpt qc/adsl.xpt --keys USUBJID --tolerance 1e-8
      cdisc-cup compare sdtm/ qc/ --keys AE=USUBJID,AESEQ --keys VS=USUBJID,VSSEQ
    """
    from cdisc_cup.comparison import Tolerance
    from cdisc_cup.pipeline import compare_submissions

    if tolerance is not None and criterion is not None:
        raise click.UsageError("give --tolerance (absolute) or --criterion (relative), not both")
    options = [f"--keys {text}" for text in key_texts]
    numeric = {"tolerance": tolerance, "criterion": criterion}
    options += [f"--{name} {value:g}" for name, value in numeric.items() if value is not None]
    outcome = compare_submissions(
        base,
        compare,
        keys=key_texts,
        tolerance=Tolerance.of(tolerance, criterion),
        max_examples=max_examples,
        out_dir=out_dir,
        force=force,
        command=" ".join(["cdisc-cup compare", str(base), str(compare), *options]),
        progress=Progress(verbosity),
    )
    click.echo(outcome.summary)
    if outcome.report is not None:
        click.echo(f"Report: {outcome.report}")
    if not outcome.comparison.equal:
        sys.exit(EXIT_FINDINGS)


if __name__ == "__main__":
    main()
