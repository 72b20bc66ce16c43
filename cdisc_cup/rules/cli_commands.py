"""The `validate` and `rules` commands, registered on the `cdisc-cup` group in `cli.py`.

Heavy imports (pandas, the rule catalogue) happen inside the commands so `cdisc-cup --help`
stays fast.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from cdisc_cup.errors import CdiscCupError

FAIL_ON = {"error": ("Error",), "warning": ("Error", "Warning"), "never": ()}


@click.command()
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--report-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Write findings.json, .csv, .xlsx and .html here (default: FOLDER/validation).",
)
@click.option(
    "--fail-on",
    type=click.Choice(list(FAIL_ON)),
    default="error",
    show_default=True,
    help="Exit with code 1 when there are findings of this severity or worse.",
)
@click.option(
    "--standard",
    type=click.Choice(["auto", "sdtm", "adam"]),
    default="auto",
    show_default=True,
    help="Which implementation guide the datasets follow; auto decides from the dataset names (AD* is ADaM).",
)
def validate(folder: Path, report_dir: Path | None, fail_on: str, standard: str) -> None:
    """Check every SAS XPORT (*.xpt) dataset in FOLDER, and its define.xml if present, against the rules.

    Prints a summary per rule and dataset and writes the findings as JSON, CSV, Excel and HTML.
    Exit codes: 0 no findings at or above --fail-on, 1 such findings, 2 unusable input.

    \b
    Example:
      cdisc-cup validate out/m5/datasets/isa-cup-de/tabulations/sdtm --report-dir qc
      cdisc-cup validate adam/ --standard adam --fail-on warning
    """
    from cdisc_cup.progress import Progress
    from cdisc_cup.reports.findings import summary, write_findings_reports
    from cdisc_cup.rules.engine import read_folder, validate_datasets
    from cdisc_cup.rules.loader import shipped_rules

    rules = shipped_rules()
    progress = Progress()
    try:
        with progress.step("read datasets", str(folder)):
            datasets, define_path, unreadable = read_folder(folder)
        with progress.step("run rules", f"{len(rules)} rules on {len(datasets)} datasets"):
            findings = validate_datasets(
                datasets,
                standard=None if standard == "auto" else standard,
                define_path=define_path,
                unreadable=unreadable,
            )
    except CdiscCupError as error:
        click.secho(f"error: {error.title}:", fg="red", err=True)
        for problem in error.problems:
            click.echo(f"  - {problem}", err=True)
        sys.exit(error.exit_code)
    titles = {r.rule_id: r.title for r in rules}
    target = report_dir if report_dir is not None else folder / "validation"
    with progress.step("write reports"):
        report = write_findings_reports(findings, target, title=f"Conformance findings: {folder}", titles=titles)
    counts = findings["severity"].value_counts()
    if len(findings):
        click.echo(summary(findings, titles).to_string(index=False, max_colwidth=60))
    click.echo(
        f"\n{len(findings)} findings ({counts.get('Error', 0)} Error, {counts.get('Warning', 0)} Warning, "
        f"{counts.get('Notice', 0)} Notice) from {len(rules)} rules."
    )
    click.echo(f"Reports: {report.json}, {report.csv.name}, {report.xlsx.name}, {report.html.name}")
    if findings["severity"].isin(FAIL_ON[fail_on]).any():
        sys.exit(1)


@click.command(name="rules")
@click.option("--json", "as_json", is_flag=True, help="Print the catalogue as a JSON list of rule objects.")
@click.option("--markdown", is_flag=True, help="Print the catalogue as Markdown (docs/rules.md).")
def rules_command(as_json: bool, markdown: bool) -> None:
    """List every validation rule: ID, severity, standard, datasets and message.

    \b
    Example:
      cdisc-cup rules
      cdisc-cup rules --json > rules.json
      cdisc-cup rules --markdown > docs/rules.md
    """
    from cdisc_cup.rules.catalogue import catalogue_markdown, catalogue_table
    from cdisc_cup.rules.loader import shipped_rules

    rules = shipped_rules()
    if as_json:
        click.echo(json.dumps([r.to_dict() for r in rules], indent=1))
    elif markdown:
        click.echo(catalogue_markdown(rules), nl=False)
    else:
        click.echo(catalogue_table(rules))
