"""csdrg.pdf and adrg.pdf, the reviewer's guides, with an HTML copy of each for the screen.

Their sections follow the PHUSE templates (Clinical Study Data Reviewer's Guide, Analysis Data
Reviewer's Guide): introduction (purpose, acronyms, standards), protocol description (number,
title and design, from `guides.yaml`, which cites the publication), the data (datasets, record
counts and, per dataset, its define.xml comment and the comments of its variables: the
decisions the specs record, such as variables not submitted because the export lacks them),
for the ADRG the analysis populations and one section per display of the publication and per
analysis in it, and the data conformance summary: the rule set and version and every finding
left in the data with the sponsor's explanation from `explanations.yaml`, or "unexplained".
Every fact comes from the specs, the datasets written and the validation of the run; nothing
about the study is in this module. A guide is one model (`Guide`) rendered twice, so PDF and
HTML cannot disagree.

The ADaM define.xml points from each display and analysis (ARM) to the page of its ADRG
section, but define.xml is written before the validation whose findings the guide reports.
So the ADRG is laid out twice: before define.xml without the findings (`guide_pages`), and
after the validation in full. The conformance summary is the last section and starts on a new
page, so the pages before it, and the contents listing the same headings, are the same both
times.
"""

from __future__ import annotations

import html
import io
import itertools
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import pandas as pd
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)
from reportlab.platypus.doctemplate import BaseDocTemplate
from reportlab.platypus.tableofcontents import TableOfContents

from cdisc_cup.define.build import analyses_written, dataset_comment
from cdisc_cup.define.documents import ACRF, ADRG, CSDRG, Document, GuidePageIndex, GuideSection
from cdisc_cup.findings import STUDY, RunInfo, Validation, explanation_table, explanations_of
from cdisc_cup.spec.annotations import annotated_crf, condition_text
from cdisc_cup.spec.model import DatasetSpec, StudySpec, VariableSpec

UNEXPLAINED = "Unexplained: the sponsor's explanations (explanations.yaml) give no reason for this finding."
TRIAL_DESIGN = "TRIAL DESIGN"  # the SDTM class of TS, TA, TE, TV, TI: PHUSE section 2.3, not 3.3


@dataclass(frozen=True)
class TableBlock:
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Topic:
    """A paragraph led by its topic in bold, with the document section it comes from."""

    topic: str
    text: str
    source: str = ""


Block = str | Topic | TableBlock  # a paragraph, a topic paragraph or a table


@dataclass(frozen=True)
class SdtmSource:
    """The SDTM the ADaM datasets were derived from, as the ADRG's section 1.4 names it: this
    submission's tabulations (`convert`), or a folder of SDTM datasets the run only read
    (`adam`: another tool's, or an earlier run's), which the package does not hold."""

    folder: str = ""  # the folder read, as the user gave it; "" for this submission's tabulations/sdtm
    datasets: tuple[str, ...] = ()
    define: bool = False  # the folder read has a define.xml

    def record(self) -> dict[str, object]:
        """As the output's manifest keeps it, for `define` to write the same ADRG later."""
        return {"folder": self.folder, "datasets": list(self.datasets), "define": self.define}

    @staticmethod
    def of_record(record: object) -> SdtmSource | None:
        """The source `record` wrote, or None when `record` is not one (an older manifest)."""
        if not isinstance(record, Mapping):
            return None
        folder, datasets, define = record.get("folder"), record.get("datasets"), record.get("define")
        if not (isinstance(folder, str) and isinstance(datasets, list) and isinstance(define, bool)):
            return None
        return SdtmSource(folder, tuple(str(name) for name in datasets), define)

    def sentence(self) -> str:
        if not self.folder:
            return (
                "The analysis datasets are derived from the SDTM datasets of this submission only "
                "(tabulations/sdtm, with its define.xml and the cSDRG)."
            )
        described = "with its define.xml" if self.define else "without a define.xml"
        return (
            f"The analysis datasets are derived from the SDTM datasets read from {self.folder} "
            f"({', '.join(self.datasets)}; {described}), as they are. Those datasets were not made with this "
            "package and are not part of it: their own define.xml and reviewer's guide describe them."
        )


THIS_SUBMISSION = SdtmSource()


@dataclass(frozen=True)
class Section:
    number: str  # "4.2"; its depth is its level in the contents and the PDF outline
    title: str
    blocks: tuple[Block, ...] = ()
    key: str = ""  # what define.xml points at: a display's or analysis's OID
    new_page: bool = False  # the conformance summary: the pages before it do not depend on it

    @property
    def level(self) -> int:
        return self.number.count(".")

    @property
    def heading(self) -> str:
        return f"{self.number} {self.title}"


@dataclass(frozen=True)
class Guide:
    document: Document
    title: str
    study: str
    sections: tuple[Section, ...]


@dataclass(frozen=True)
class Conformance:
    """What a data conformance summary reports: the run that checked the datasets, and the
    findings left in them (the conversion's validation, or its findings.json read back)."""

    run: RunInfo
    findings: pd.DataFrame  # findings.FINDING_COLUMNS

    @classmethod
    def of(cls, validation: Validation) -> Conformance:
        return cls(validation.run, validation.findings)


# --- content -----------------------------------------------------------------------------------


def _standards(study: StudySpec, number: str, keys: Sequence[tuple[str, str]]) -> Section:
    rows = [(name, str(study.standards[key])) for key, name in keys if key in study.standards]
    return Section(
        number,
        "Study Data Standards and Dictionary Inventory",
        (TableBlock(("Standard or dictionary", "Version"), (*rows, ("Define-XML", "2.1"))),),
    )


def _texts(block: Block) -> Iterator[str]:
    if isinstance(block, str):
        yield block
    elif isinstance(block, Topic):
        yield from (block.topic, block.text, block.source)
    else:
        yield from block.header
        for row in block.rows:
            yield from row


def _acronyms(study: StudySpec, number: str, sections: Sequence[Section]) -> Section:
    """The acronyms of `guides.yaml` that the guide's text uses (as whole words), and only those."""
    text = "\n".join(
        [study.name, *(s.title for s in sections), *(t for s in sections for b in s.blocks for t in _texts(b))]
    )
    used = sorted(
        (
            (acronym, meaning)
            for acronym, meaning in study.guide_text.acronyms.items()
            if re.search(rf"(?<![A-Za-z0-9]){re.escape(acronym)}(?![A-Za-z0-9])", text)
        ),
        key=lambda entry: entry[0].lower(),
    )
    listed: Block = TableBlock(("Acronym", "Translation"), tuple(used)) if used else "The guide uses no acronyms."
    return Section(number, "Acronyms", (listed,))


def _with_acronyms(study: StudySpec, purpose: Section, sections: Sequence[Section]) -> tuple[Section, ...]:
    """Purpose (1.1), acronyms (1.2), then the other sections. The acronyms are those of the
    sections before the conformance summary (the first on a new page): its findings are known
    only after validation, and the ADRG's earlier pages, which define.xml's ARM points at, are
    laid out before it, so nothing before the summary may depend on them."""
    ahead = list(itertools.takewhile(lambda section: not section.new_page, sections))
    return (purpose, _acronyms(study, "1.2", (purpose, *ahead)), *sections)


def _protocol(study: StudySpec) -> tuple[Section, ...]:
    """PHUSE sections 2, 2.1 and 2.2: protocol number and title, and the design as the
    publication describes it (guides.yaml, each paragraph with the section it comes from)."""
    text = study.guide_text
    identity = [("Protocol number", study.protocol), ("Study", f"{study.name} ({study.studyid})")]
    if text.title:
        identity.append(("Protocol title", text.title))
    if text.reference:
        identity.append(("Source of this description", text.reference))
    design: tuple[Block, ...] = tuple(
        Topic(topic.topic, topic.text, ", ".join(part for part in (text.cite, topic.source) if part))
        for topic in text.design
    ) or (study.description or study.name,)
    return (
        Section("2", "Protocol Description"),
        Section("2.1", "Protocol Number and Title", (TableBlock(("Item", "Value"), tuple(identity)),)),
        Section("2.2", "Protocol Design", design),
    )


def _parameters(study: StudySpec, number: str) -> Section:
    rows = tuple((str(k), str(v)) for k, v in study.parameters.items())
    return Section(
        number,
        "Study Parameters Used by the Conversion",
        (
            "The constants of specs/study.yaml the mappings and derivations use:",
            TableBlock(("Parameter", "Value"), rows),
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
                str(records[spec.name]),
                ", ".join(spec.keys),
            )
            for spec in specs
            if spec.name in records
        ),
    )


def _dataset_sections(
    specs: Sequence[DatasetSpec], records: Mapping[str, int], notes: Mapping[str, str], number: str
) -> tuple[Section, ...]:
    """One section per dataset written: its define.xml comment (why it is built as it is, which
    variables are not submitted and why) and the comment of each variable that has one."""
    sections = []
    for spec in (s for s in specs if s.name in records):
        comment = dataset_comment(spec, notes.get(spec.name))
        blocks: list[Block] = [f"{records[spec.name]} records. {comment or spec.structure}"]
        comments = tuple((v.name, v.label, v.comment) for v in spec.variables if v.comment)
        if comments:
            blocks.append(TableBlock(("Variable", "Label", "Comment (as in define.xml)"), comments))
        sections.append(Section(f"{number}.{len(sections) + 1}", f"{spec.name} - {spec.label}", tuple(blocks)))
    return tuple(sections)


def _issues(study: StudySpec, findings: pd.DataFrame, datasets: set[str]) -> TableBlock | str:
    """One row per rule, dataset and variable with findings left in the data: how many records,
    the message (the first of several that differ only in the value) and the sponsor's reason.
    A finding about no dataset (the study, its define.xml) is in both guides: none is left out.
    `datasets` names those of the guide, STUDY among them for the cSDRG (CORE's study-level
    findings)."""
    text = findings.assign(**{c: findings[c].fillna("").astype(str) for c in ("dataset", "variable", "message")})
    mine = text[text["dataset"].isin(datasets) | text["dataset"].eq("")]
    if mine.empty:
        return "No finding is left in these datasets."
    explained = mine.assign(explanation=explanations_of(mine, explanation_table(study.explanations)))
    rows = []
    for (rule, severity, dataset, variable, explanation), group in explained.groupby(
        ["rule_id", "severity", "dataset", "variable", "explanation"], sort=True
    ):
        messages = sorted(group["message"].unique())
        message = messages[0] + (f" (and {len(messages) - 1} similar)" if len(messages) > 1 else "")
        where = _where(dataset, variable)
        rows.append((rule, severity, where, str(len(group)), message, explanation or UNEXPLAINED))
    return TableBlock(("Rule", "Severity", "Where", "Records", "Message", "Explanation"), tuple(rows))


def _where(dataset: str, variable: str) -> str:
    """AE.AETERM; a finding about the study (CORE's STUDY, or ours without a dataset) names
    what it found: "the study (TT)" for a TT dataset present where it must not be."""
    if dataset in ("", STUDY):
        return f"the study ({variable})" if variable else "the study"
    return ".".join(part for part in (dataset, variable) if part)


def _conformance(
    study: StudySpec, conformance: Conformance | None, datasets: set[str], number: str
) -> tuple[Section, ...]:
    """PHUSE sections 4 (cSDRG) and 6 (ADRG). Without `conformance` (the ADRG laid out before
    the validation) the same headings with nothing under them."""
    heading = Section(number, "Data Conformance Summary", new_page=True)
    if conformance is None:
        return (heading, Section(f"{number}.1", "Conformance Inputs"), Section(f"{number}.2", "Issues Summary"))
    run = conformance.run
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
    return (
        heading,
        Section(f"{number}.1", "Conformance Inputs", ("The datasets as written were checked with:", inputs)),
        Section(
            f"{number}.2",
            "Issues Summary",
            (
                "The findings left in the data, each with the sponsor's explanation:",
                _issues(study, conformance.findings, datasets),
            ),
        ),
    )


def csdrg(
    study: StudySpec,
    records: Mapping[str, int],
    conformance: Conformance,
    acrf_pages: int,
    notes: Mapping[str, str] | None = None,
) -> Guide:
    """The Clinical Study Data Reviewer's Guide of the SDTM datasets written (`records`: the
    record count of each); `notes` are sentences added to datasets' define.xml comments."""
    notes = notes or {}
    forms = annotated_crf(study)
    written = [spec for spec in study.sdtm if spec.name in records]
    trial_design = [spec for spec in written if spec.dataset_class == TRIAL_DESIGN]
    subject = [spec for spec in written if spec.dataset_class != TRIAL_DESIGN]
    purpose = Section(
        "1.1",
        "Purpose",
        (
            f"This guide accompanies the SDTM datasets of {study.name} ({study.studyid}) and their define.xml. "
            "It gives the context the define.xml cannot: the protocol, the source data, the decisions taken "
            "in the dataset specs, and a summary of the SDTM conformance findings left in the data.",
        ),
    )
    body = (
        _standards(
            study, "1.3", (("sdtmig", "SDTMIG"), ("sdtm_ct", "SDTM Controlled Terminology"), ("meddra", "MedDRA"))
        ),
        *_protocol(study),
        Section(
            "2.3",
            "Trial Design Datasets",
            ("The design as the trial design datasets give it, each with its define.xml comments:",)
            if trial_design
            else ("No trial design datasets are submitted.",),
        ),
        *_dataset_sections(trial_design, records, notes, "2.3"),
        _parameters(study, "2.4"),
        Section("3", "Subject Data Description"),
        Section("3.1", "Overview", (_dataset_table(study.sdtm, records),)),
        Section(
            "3.2",
            "Annotated CRFs",
            (
                f"The annotated CRF ({ACRF.href}, {acrf_pages} pages) shows each field of each eCRF form with "
                "the SDTM variables it feeds; define.xml links every collected variable to its page. "
                "The eCRF export has one raw file per form:",
                TableBlock(
                    ("Form", "Raw file", "Fields", "Description"),
                    tuple((f.title, f.file, str(len(f.fields)), f.description) for f in forms),
                ),
            ),
        ),
        Section(
            "3.3",
            "SDTM Subject Domains",
            ("Each dataset's define.xml comment and the comments of its variables: the decisions of the specs.",),
        ),
        *_dataset_sections(subject, records, notes, "3.3"),
        *_conformance(study, conformance, {*records, STUDY}, "4"),
    )
    sections = (Section("1", "Introduction"), *_with_acronyms(study, purpose, body))
    return Guide(CSDRG, "Clinical Study Data Reviewer's Guide", f"{study.name} ({study.studyid})", sections)


def _populations(study: StudySpec, frames: Mapping[str, pd.DataFrame]) -> TableBlock:
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
    return TableBlock(("Flag", "Label", "Derivation", "Subjects with Y"), tuple(rows))


def _derivation(variable: VariableSpec) -> str:
    """How a variable an analysis reads is derived, in define.xml's words (method or predecessor)."""
    if variable.method:
        return variable.method
    predecessor = (variable.value or {}).get("predecessor")
    return f"{predecessor} (predecessor)" if predecessor else variable.origin


def _displays(study: StudySpec, frames: Mapping[str, pd.DataFrame]) -> tuple[Section, ...]:
    """PHUSE ADRG: one section per display of the publication and one per analysis in it,
    which define.xml's Analysis Results Metadata point at (keyed by their OIDs)."""
    sections = [
        Section(
            "5",
            "Analysis Results of the Publication",
            (
                "One section per display (analysis/results.yaml) and per analysis in it; define.xml's "
                "Analysis Results Metadata link each of them to its page here.",
            ),
        )
    ]
    displayed = [d for d in study.result_displays if analyses_written(d, frames)]  # as define.xml's ARM
    for d, display in enumerate(displayed, start=1):
        codes = sorted({r.code for r in display.results if r.code})
        sections.append(
            Section(
                f"5.{d}",
                f"{display.name}: {study.display_title(display.output, display.title)}",
                (
                    f"{display.name} of the publication, reproduced as tables/{display.output} by "
                    f"{', '.join(codes) or 'the tables writer'}, from the analyses below.",
                ),
                key=display.id,
            )
        )
        for r, result in enumerate(display.results, start=1):
            blocks: list[Block] = [Topic("Analysis", result.documentation or result.description)]
            for used in result.datasets:
                where = condition_text(used.where) if used.where else "all records"
                spec = study.dataset(used.dataset)
                blocks.append(f"Records: {used.dataset} where {where}.")
                blocks.append(
                    TableBlock(
                        ("Variable", "Label", "Derivation"),
                        tuple(
                            (name, spec.variable(name).label, _derivation(spec.variable(name)))
                            for name in used.variables
                        ),
                    )
                )
            if result.code:
                blocks.append(f"Programming code: {result.code}; context: {result.context or 'cdisc-cup'}.")
            sections.append(Section(f"5.{d}.{r}", f"{result.id}: {result.description}", tuple(blocks), key=result.id))
    return tuple(sections)


def adrg(
    study: StudySpec,
    frames: Mapping[str, pd.DataFrame],
    conformance: Conformance | None,
    notes: Mapping[str, str] | None = None,
    source: SdtmSource = THIS_SUBMISSION,
) -> Guide:
    """The Analysis Data Reviewer's Guide of the ADaM datasets written; without `conformance`
    its layout before the validation (the pages define.xml's ARM points at are the same).
    `source` is the SDTM they were derived from (section 1.4)."""
    notes = notes or {}
    records = {name: len(frame) for name, frame in frames.items()}
    purpose = Section(
        "1.1",
        "Purpose",
        (
            f"This guide accompanies the ADaM datasets of {study.name} ({study.studyid}), their define.xml "
            "with Analysis Results Metadata, and the displays of the publication they reproduce. It describes "
            "the analysis populations, the decisions taken in the dataset specs, the derivation behind each "
            "display and a summary of the ADaM conformance findings left in the data.",
        ),
    )
    body = (
        _standards(
            study,
            "1.3",
            (
                ("sdtmig", "SDTMIG"),
                ("adamig", "ADaMIG"),
                ("adam_ct", "ADaM Controlled Terminology"),
                ("meddra", "MedDRA"),
            ),
        ),
        Section(
            "1.4",
            "Source Data Used for Analysis Dataset Creation",
            (source.sentence(),),
        ),
        *_protocol(study),
        _parameters(study, "2.3"),
        Section("3", "Analysis Considerations"),
        Section("3.1", "Analysis Populations", (_populations(study, frames),)),
        Section("4", "Analysis Data Description"),
        Section("4.1", "Overview", (_dataset_table(study.adam, records),)),
        Section(
            "4.2",
            "Analysis Datasets",
            ("Each dataset's define.xml comment and the comments of its variables: the decisions of the specs.",),
        ),
        *_dataset_sections(study.adam, records, notes, "4.2"),
        *_displays(study, frames),
        *_conformance(study, conformance, set(records), "6"),
    )
    sections = (Section("1", "Introduction"), *_with_acronyms(study, purpose, body))
    return Guide(ADRG, "Analysis Data Reviewer's Guide", f"{study.name} ({study.studyid})", sections)


# --- rendering ---------------------------------------------------------------------------------

PAGE_WIDTH = A4[0] - 4 * cm  # between the 2 cm margins
CELL_FONT, CELL_BOLD, CELL_SIZE = "Helvetica", "Helvetica-Bold", 7.5
CELL_PADDING = 3.0  # left and right of each cell


def _column_widths(block: TableBlock, available: float = PAGE_WIDTH) -> list[float]:
    """Column widths fitted to the content, as a browser lays out an automatic table: every
    column gets at least its longest word, and the rest of the page width goes to the columns
    in proportion to how much wider their longest text is, so a long explanation gets the room
    and a rule id or a count does not."""
    rows = [block.header, *block.rows]
    fonts = [CELL_BOLD] + [CELL_FONT] * len(block.rows)
    extra = 2 * CELL_PADDING + 1

    def width(text: str, font: str) -> float:
        return stringWidth(text, font, CELL_SIZE) + extra

    least = [
        max(width(word, f) for row, f in zip(rows, fonts, strict=True) for word in (row[c].split() or [""]))
        for c in range(len(block.header))
    ]
    most = [max(width(row[c], f) for row, f in zip(rows, fonts, strict=True)) for c in range(len(block.header))]
    if sum(most) <= available:
        return most
    if sum(least) >= available:  # words wider than the page: shrink them alike (they wrap inside)
        return [w * available / sum(least) for w in least]
    share = (available - sum(least)) / (sum(most) - sum(least))
    return [low + (high - low) * share for low, high in zip(least, most, strict=True)]


def _styles() -> dict[str, ParagraphStyle]:
    sheet = getSampleStyleSheet()
    body = sheet["BodyText"]
    return {
        "title": sheet["Title"],
        "body": body.clone("guide-body", spaceAfter=4),
        "cell": body.clone("cell", fontName=CELL_FONT, fontSize=CELL_SIZE, leading=9),
        "head": body.clone("head", fontName=CELL_BOLD, fontSize=CELL_SIZE, leading=9),
        "contents": sheet["Heading2"],
        **{f"h{level}": sheet[f"Heading{level + 1}"].clone(f"h{level}", keepWithNext=1) for level in range(3)},
    }


def _topic_markup(block: Topic) -> str:
    source = f' <font color="#555555">[Source: {html.escape(block.source)}]</font>' if block.source else ""
    return f"<b>{html.escape(block.topic)}.</b> {html.escape(block.text)}{source}"


def _table(block: TableBlock, styles: Mapping[str, ParagraphStyle]) -> Table:
    rows = [[Paragraph(html.escape(h), styles["head"]) for h in block.header]]
    rows += [[Paragraph(html.escape(text), styles["cell"]) for text in row] for row in block.rows]
    table = Table(rows, repeatRows=1, hAlign="LEFT", colWidths=_column_widths(block))
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef6")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), CELL_PADDING),
                ("RIGHTPADDING", (0, 0), (-1, -1), CELL_PADDING),
            ]
        )
    )
    return table


class _Heading(Paragraph):
    """A section heading: the page it lands on goes to the contents, the outline and the page index."""

    def __init__(self, section: Section, style: ParagraphStyle) -> None:
        super().__init__(f'<a name="s{section.number}"/>{html.escape(section.heading)}', style)
        self.section = section


class _GuideDocument(SimpleDocTemplate):
    def __init__(self, target: str | BinaryIO, guide: Guide) -> None:
        super().__init__(
            target,
            pagesize=A4,
            title=guide.title,
            author=guide.study,
            invariant=1,
            leftMargin=2 * cm,
            rightMargin=2 * cm,
        )
        self.guide = guide
        self.sections: dict[str, GuideSection] = {}
        self.page_count = 0

    def beforeDocument(self) -> None:  # ReportLab's hook, at each pass of multiBuild
        self.sections, self.page_count = {}, 0

    def afterFlowable(self, flowable: Flowable) -> None:  # ReportLab's hook
        if not isinstance(flowable, _Heading):
            return
        section = flowable.section
        self.notify("TOCEntry", (section.level, section.heading, self.page, f"s{section.number}"))
        self.canv.bookmarkPage(f"s{section.number}")
        self.canv.addOutlineEntry(section.heading, f"s{section.number}", section.level)
        if section.key:
            self.sections[section.key] = GuideSection(section.number, section.title, self.page)

    def footer(self, canvas: Canvas, document: BaseDocTemplate) -> None:
        self.page_count = document.page
        canvas.setFont("Helvetica", 7.5)
        canvas.drawCentredString(A4[0] / 2, 1.2 * cm, f"{self.guide.title} - {self.guide.study} - page {document.page}")


def _render_pdf(guide: Guide, target: str | BinaryIO) -> GuidePageIndex:
    """Lay out and write the PDF (twice or more: the contents need the pages of the sections)."""
    styles = _styles()
    contents = TableOfContents(dotsMinLevel=0)
    contents.tableStyle = TableStyle([("TOPPADDING", (0, 0), (-1, -1), 0), ("BOTTOMPADDING", (0, 0), (-1, -1), 1)])
    contents.levelStyles = [
        styles["body"].clone(f"toc{level}", leftIndent=12 * level, fontSize=9, leading=11, spaceBefore=0, spaceAfter=1)
        for level in range(3)
    ]
    story: list[Flowable] = [
        Paragraph(html.escape(guide.title), styles["title"]),
        Paragraph(html.escape(guide.study), styles["body"]),
        Paragraph("Contents", styles["contents"]),
        contents,
        PageBreak(),
    ]
    # A section that fits on a page is not split, and the headings of sections without text of
    # their own (2, then 2.1) are kept with it.
    together: list[Flowable] = []
    for section in guide.sections:
        if section.new_page:
            story += [*together, PageBreak()]
            together = []
        together.append(_Heading(section, styles[f"h{min(section.level, 2)}"]))
        for block in section.blocks:
            if isinstance(block, str):
                together.append(Paragraph(html.escape(block), styles["body"]))
            elif isinstance(block, Topic):
                together.append(Paragraph(_topic_markup(block), styles["body"]))
            else:
                together += [_table(block, styles), Spacer(1, 6)]
        if section.blocks:
            story.append(KeepTogether(together))
            together = []
    story += together
    document = _GuideDocument(target, guide)
    document.multiBuild(story, onFirstPage=document.footer, onLaterPages=document.footer)
    return GuidePageIndex(guide.document, document.page_count, dict(document.sections))


def guide_pages(guide: Guide) -> GuidePageIndex:
    """Where each keyed section of the guide lands, without writing it (define.xml needs the
    ADRG's pages before the validation the full guide reports on)."""
    return _render_pdf(guide, io.BytesIO())


def _html_block(block: Block) -> str:
    if isinstance(block, str):
        return f"<p>{html.escape(block)}</p>"
    if isinstance(block, Topic):
        source = f' <span class="source">[Source: {html.escape(block.source)}]</span>' if block.source else ""
        return f"<p><b>{html.escape(block.topic)}.</b> {html.escape(block.text)}{source}</p>"
    head = "".join(f"<th>{html.escape(h)}</th>" for h in block.header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(t)}</td>" for t in row) + "</tr>" for row in block.rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _html(guide: Guide) -> str:
    parts = [f"<h1>{html.escape(guide.title)}</h1>", f"<p>{html.escape(guide.study)}</p>", "<nav><h2>Contents</h2><ul>"]
    parts += [
        f'<li class="level{s.level}"><a href="#s{s.number}">{html.escape(s.heading)}</a></li>' for s in guide.sections
    ]
    parts.append("</ul></nav>")
    for section in guide.sections:
        tag = f"h{min(section.level, 2) + 2}"
        parts.append(f'<{tag} id="s{section.number}">{html.escape(section.heading)}</{tag}>')
        parts += [_html_block(block) for block in section.blocks]
    style = (
        "body{font-family:Arial,sans-serif;max-width:70em;margin:2em auto;color:#222}"
        "nav ul{list-style:none;padding-left:0}.level1{padding-left:1.5em}.level2{padding-left:3em}"
        "table{border-collapse:collapse;font-size:.85em;margin:.5em 0 1em}"
        "th,td{border:1px solid #999;padding:.25em .4em;text-align:left;vertical-align:top}th{background:#e8eef6}"
        ".source{color:#555}"
    )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(guide.title)}</title>\n<style>{style}</style>\n</head>\n<body>\n"
        + "\n".join(parts)
        + "\n</body>\n</html>\n"
    )


def write_guide(guide: Guide, folder: Path) -> GuidePageIndex:
    """The guide as PDF (define.xml's def:SupplementalDoc) and as HTML beside it; where its
    keyed sections landed."""
    pages = _render_pdf(guide, str(folder / guide.document.href))
    (folder / guide.document.html_href).write_text(_html(guide), encoding="utf-8")
    return pages
