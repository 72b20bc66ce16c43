"""csdrg.pdf and adrg.pdf, the reviewer's guides, with an HTML copy of each for the screen.

Their sections follow the PHUSE templates (Clinical Study Data Reviewer's Guide v1.2,
Analysis Data Reviewer's Guide v1.2): introduction with the standards used, protocol
description, the data (datasets, record counts, the decisions the specs record), for the ADRG
the analysis populations and the derivations behind the paper's displays, and the data
conformance summary: the rule set and version and every finding left in the data with the
sponsor's explanation from `specs/explanations.yaml`, or "unexplained". Every fact comes from
the specs, the datasets written and the validation of the run; nothing about the study is in
this module. A guide is one model (`Guide`) rendered twice, so PDF and HTML cannot disagree.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from cdisc_cup.define.documents import ACRF, ADRG, CSDRG, Document
from cdisc_cup.findings import Validation
from cdisc_cup.spec.annotations import annotated_crf, condition_text
from cdisc_cup.spec.model import DatasetSpec, StudySpec

UNEXPLAINED = "Unexplained: the sponsor's explanations (explanations.yaml) give no reason for this finding."


@dataclass(frozen=True)
class TableBlock:
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


Block = str | TableBlock  # a paragraph or a table


@dataclass(frozen=True)
class Section:
    number: str  # "4.2"
    title: str
    blocks: tuple[Block, ...] = ()


@dataclass(frozen=True)
class Guide:
    document: Document
    title: str
    study: str
    sections: tuple[Section, ...]


# --- content -----------------------------------------------------------------------------------


def _standards(study: StudySpec, keys: Sequence[tuple[str, str]]) -> TableBlock:
    rows = [(name, str(study.standards[key])) for key, name in keys if key in study.standards]
    return TableBlock(("Standard or dictionary", "Version"), (*rows, ("Define-XML", "2.1")))


def _protocol(study: StudySpec) -> Section:
    parameters = tuple((str(k), str(v)) for k, v in study.parameters.items())
    return Section(
        "2",
        "Protocol Description",
        (
            f"Protocol {study.protocol}: {study.name}.",
            study.description or study.name,
            "Study parameters the conversion uses (specs/study.yaml):",
            TableBlock(("Parameter", "Value"), parameters),
        ),
    )


def _dataset_table(specs: Sequence[DatasetSpec], records: Mapping[str, int]) -> TableBlock:
    return TableBlock(
        ("Dataset", "Label", "Class", "Structure", "Records", "Keys"),
        tuple(
            (
                spec.name,
                spec.label,
                spec.dataset_class,
                spec.structure,
                str(records.get(spec.name, 0)),
                ", ".join(spec.keys),
            )
            for spec in specs
            if spec.name in records
        ),
    )


def _decisions(specs: Sequence[DatasetSpec], records: Mapping[str, int]) -> tuple[Block, ...]:
    """The decisions the dataset specs record: the dataset's description and each variable's comment."""
    blocks: list[Block] = []
    for spec in specs:
        if spec.name not in records:
            continue
        comments = tuple((v.name, v.comment) for v in spec.variables if v.comment)
        blocks.append(f"{spec.name} ({spec.label}): {spec.description or spec.structure}")
        if comments:
            blocks.append(TableBlock(("Variable", "Decision"), comments))
    return tuple(blocks)


def _conformance(study: StudySpec, validation: Validation, datasets: set[str], number: str) -> Section:
    run = validation.run
    inputs = TableBlock(
        ("Input", "Value"),
        (
            ("Tool", f"{run.tool} {run.version}"),
            ("Rule set", run.rule_set),
            ("Standards", ", ".join(run.standards)),
            ("Controlled terminology", ", ".join(run.terminology)),
            ("Checked", f"{run.input} ({run.created})"),
        ),
    )
    findings = validation.findings
    mine = findings[findings["dataset"].isin(sorted(datasets))]
    grouped = (
        mine.groupby(["rule_id", "severity", "dataset", "variable", "message"], dropna=False, sort=True)
        .size()
        .reset_index(name="count")
    )
    rows = []
    for group in grouped.to_dict("records"):  # one row per rule, dataset, variable and message
        rule, dataset, variable = group["rule_id"], group["dataset"], group["variable"] or ""
        explanation = next(
            (e.explanation for e in study.explanations if e.explains(rule, dataset, variable)), UNEXPLAINED
        )
        where = f"{dataset}.{variable}" if variable else dataset
        rows.append((rule, group["severity"], where, str(group["count"]), group["message"], explanation))
    issues: tuple[Block, ...] = (
        (TableBlock(("Rule", "Severity", "Where", "Records", "Message", "Explanation"), tuple(rows)),)
        if rows
        else ("No finding is left in these datasets.",)
    )
    return Section(
        number,
        "Data Conformance Summary",
        (
            "The datasets as written were checked with the rules below; the findings left in the data "
            "follow, each with the sponsor's explanation.",
            inputs,
            *issues,
        ),
    )


def csdrg(study: StudySpec, records: Mapping[str, int], validation: Validation, acrf_pages: int) -> Guide:
    """The Clinical Study Data Reviewer's Guide of the SDTM datasets written."""
    forms = annotated_crf(study)
    sections = (
        Section(
            "1",
            "Introduction",
            (
                f"This guide accompanies the SDTM datasets of {study.name} ({study.studyid}) and their define.xml. "
                "It describes the standards used, the source data, the datasets and the conformance findings "
                "left in the data.",
                _standards(
                    study, (("sdtmig", "SDTMIG"), ("sdtm_ct", "SDTM Controlled Terminology"), ("meddra", "MedDRA"))
                ),
                "Source data: the eCRF export of the program, one raw file per form:",
                TableBlock(
                    ("Form", "Raw file", "Fields", "Description"),
                    tuple((f.title, f.file, str(len(f.fields)), f.description) for f in forms),
                ),
            ),
        ),
        _protocol(study),
        Section(
            "3",
            "Subject Data Description",
            (
                _dataset_table(study.sdtm, records),
                f"The annotated CRF ({ACRF.href}, {acrf_pages} pages) shows each field of each form with the "
                "SDTM variables it feeds; define.xml links every collected variable to its page.",
                "Decisions recorded in the dataset specs:",
                *_decisions(study.sdtm, records),
            ),
        ),
        _conformance(study, validation, set(records), "4"),
    )
    return Guide(CSDRG, "Clinical Study Data Reviewer's Guide", f"{study.name} ({study.studyid})", sections)


def _populations(study: StudySpec, frames: Mapping[str, pd.DataFrame]) -> Section:
    """The population flags of the subject-level dataset: their derivation and count."""
    rows = []
    for spec in study.adam:
        frame = frames.get(spec.name)
        if frame is None or spec.dataset_class != "SUBJECT LEVEL ANALYSIS DATASET":
            continue
        for variable in spec.variables:
            if variable.name.endswith("FL") and "population" in variable.label.lower() and variable.name in frame:
                count = int((frame[variable.name].astype("string") == "Y").sum())
                rows.append(
                    (f"{spec.name}.{variable.name}", variable.label, variable.method or "", f"{count} of {len(frame)}")
                )
    return Section(
        "3", "Analysis Populations", (TableBlock(("Flag", "Label", "Derivation", "Subjects with Y"), tuple(rows)),)
    )


def _variable_method(study: StudySpec, dataset: str, name: str) -> str:
    variable = study.dataset(dataset).variable(name)
    if variable.method:
        return variable.method
    source = variable.value or {}
    return f"{variable.origin}: {source.get('predecessor', '')}".rstrip(": ")


def _derivations(study: StudySpec) -> Section:
    blocks: list[Block] = []
    for display in study.result_displays:
        blocks.append(f"{display.name} [{display.id}]: {display.title}.")
        rows = []
        for result in display.results:
            for used in result.datasets:
                where = condition_text(used.where) if used.where else "all records"
                variables = "; ".join(
                    f"{name}: {_variable_method(study, used.dataset, name)}" for name in used.variables
                )
                rows.append((result.description, f"{used.dataset} where {where}", variables, result.code))
        blocks.append(TableBlock(("Analysis", "Records", "Variables and their derivation", "Computed by"), tuple(rows)))
    return Section("5", "Derivations of the Displays", tuple(blocks) or ("No displays are declared.",))


def adrg(study: StudySpec, frames: Mapping[str, pd.DataFrame], validation: Validation) -> Guide:
    """The Analysis Data Reviewer's Guide of the ADaM datasets written."""
    records = {name: len(frame) for name, frame in frames.items()}
    sections = (
        Section(
            "1",
            "Introduction",
            (
                f"This guide accompanies the ADaM datasets of {study.name} ({study.studyid}), their define.xml "
                "with Analysis Results Metadata, and the displays of the publication they reproduce.",
                _standards(
                    study, (("adamig", "ADaMIG"), ("adam_ct", "ADaM Controlled Terminology"), ("meddra", "MedDRA"))
                ),
            ),
        ),
        _protocol(study),
        _populations(study, frames),
        Section(
            "4",
            "Analysis Datasets",
            (_dataset_table(study.adam, records), *_decisions(study.adam, records)),
        ),
        _derivations(study),
        _conformance(study, validation, set(records), "6"),
    )
    return Guide(ADRG, "Analysis Data Reviewer's Guide", f"{study.name} ({study.studyid})", sections)


# --- rendering ---------------------------------------------------------------------------------


def _pdf(guide: Guide, path: Path) -> None:
    styles = getSampleStyleSheet()
    body, cell = styles["BodyText"], styles["BodyText"].clone("cell", fontSize=7.5, leading=9)
    story: list = [Paragraph(html.escape(guide.title), styles["Title"]), Paragraph(html.escape(guide.study), body)]
    for section in guide.sections:
        heading = Paragraph(
            f'<a name="s{section.number}"/>{section.number} {html.escape(section.title)}', styles["Heading2"]
        )
        heading.outline = (f"{section.number} {section.title}", f"s{section.number}")
        story.append(heading)
        for block in section.blocks:
            if isinstance(block, str):
                story.append(Paragraph(html.escape(block), body))
                continue
            rows = [[Paragraph(f"<b>{html.escape(h)}</b>", cell) for h in block.header]]
            rows += [[Paragraph(html.escape(text), cell) for text in row] for row in block.rows]
            table = Table(
                rows, repeatRows=1, hAlign="LEFT", colWidths=[(A4[0] - 4 * cm) / len(block.header)] * len(block.header)
            )
            table.setStyle(
                TableStyle(
                    [
                        ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef6")),
                        ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ]
                )
            )
            story += [table, Spacer(1, 6)]

    def bookmark(flowable) -> None:
        outline = getattr(flowable, "outline", None)
        if outline is not None:
            document.canv.bookmarkPage(outline[1])
            document.canv.addOutlineEntry(outline[0], outline[1], 0)

    def footer(canvas, document) -> None:
        canvas.setFont("Helvetica", 7.5)
        canvas.drawCentredString(A4[0] / 2, 1.2 * cm, f"{guide.title} - {guide.study} - page {document.page}")

    document = SimpleDocTemplate(
        str(path),
        pagesize=A4,
        title=guide.title,
        author=guide.study,
        invariant=1,
        leftMargin=2 * cm,
        rightMargin=2 * cm,
    )
    document.afterFlowable = bookmark
    document.build(story, onFirstPage=footer, onLaterPages=footer)


def _html(guide: Guide) -> str:
    parts = [f"<h1>{html.escape(guide.title)}</h1>", f"<p>{html.escape(guide.study)}</p>", "<nav><ol>"]
    parts += [f'<li><a href="#s{s.number}">{s.number} {html.escape(s.title)}</a></li>' for s in guide.sections]
    parts.append("</ol></nav>")
    for section in guide.sections:
        parts.append(f'<h2 id="s{section.number}">{section.number} {html.escape(section.title)}</h2>')
        for block in section.blocks:
            if isinstance(block, str):
                parts.append(f"<p>{html.escape(block)}</p>")
                continue
            head = "".join(f"<th>{html.escape(h)}</th>" for h in block.header)
            body = "".join("<tr>" + "".join(f"<td>{html.escape(t)}</td>" for t in row) + "</tr>" for row in block.rows)
            parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
    style = (
        "body{font-family:Arial,sans-serif;max-width:70em;margin:2em auto;color:#222}"
        "table{border-collapse:collapse;width:100%;font-size:.85em;margin:.5em 0 1em}"
        "th,td{border:1px solid #999;padding:.25em .4em;text-align:left;vertical-align:top}th{background:#e8eef6}"
    )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(guide.title)}</title>\n<style>{style}</style>\n</head>\n<body>\n"
        + "\n".join(parts)
        + "\n</body>\n</html>\n"
    )


def write_guide(guide: Guide, folder: Path) -> list[Path]:
    """The guide as PDF (define.xml's def:SupplementalDoc) and as HTML beside it."""
    pdf, page = folder / guide.document.href, folder / guide.document.html_href
    _pdf(guide, pdf)
    page.write_text(_html(guide), encoding="utf-8")
    return [pdf, page]
