"""acrf.pdf: the annotated CRF, drawn from the raw contract and the SDTM specs.

One section per eCRF form (each raw file of `study.yaml`), each field with its label, a
sketch of how it is entered (date boxes, check boxes with the codes, a number or text box)
and, beside it, the annotations in the usual aCRF style: a coloured box per SDTM domain the
form feeds at the top, the variable in a box of its domain's colour (`VSORRES when
VSTESTCD = WEIGHT`), "NOT SUBMITTED" for a field no submitted variable reads, and in grey the
variables only derived from it. Bookmarked by form and by domain (CDISC Metadata Submission
Guidelines, aCRF; FDA Study Data TCG section 4.1.4.5).

The pages are laid out first (`layout`), then drawn: the layout tells on which page each
annotation lands, and that index is what define.xml's def:PDFPageRef pages are made from, so
define.xml and the PDF cannot disagree. ReportLab draws with the 14 standard PDF fonts (no
font file is embedded) and `invariant` output, so two runs give the same bytes.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from reportlab.lib.colors import Color, HexColor
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import simpleSplit
from reportlab.pdfgen.canvas import Canvas

from cdisc_cup.define.documents import ACRF, CrfPageIndex
from cdisc_cup.spec.annotations import NOT_SUBMITTED, Annotation, CrfField, CrfForm, annotated_crf
from cdisc_cup.spec.model import StudySpec

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 40.0
TOP = PAGE_HEIGHT - MARGIN - 24  # below the running header
BOTTOM = MARGIN + 20  # above the footer
FIELD_X, FIELD_WIDTH = MARGIN, 265.0
NOTE_X = MARGIN + FIELD_WIDTH + 15
NOTE_WIDTH = PAGE_WIDTH - MARGIN - NOTE_X
FONT, BOLD, ITALIC = "Helvetica", "Helvetica-Bold", "Helvetica-Oblique"
LABEL_SIZE, NOTE_SIZE, SMALL = 9.5, 8.5, 7.5
LEADING = 1.25  # line height as a multiple of the font size
PAD = 3.0  # inside an annotation box
GAP = 4.0  # between annotation boxes
ROW_GAP = 10.0
WIDGET_HEIGHT = 16.0
# Domain colours of the usual aCRF (light fills, dark outlines), in the study's build order.
PALETTE = (
    "#cfe2ff", "#ffe8a3", "#d4f0d4", "#f9d0d9", "#e2d6f5", "#cdeef0",
    "#ffd8b5", "#e6e6c8", "#c8e6ff", "#f0c8f0", "#d9f2b3", "#f2dcb3",
)  # fmt: skip
GREY = HexColor("#666666")
DATE_LAYOUT = "DD . MM . YYYY"


def _lines(text: str, font: str, size: float, width: float) -> list[str]:
    return simpleSplit(text, font, size, width) or [""]


def _height(lines: int, size: float) -> float:
    return lines * size * LEADING


# --- layout ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlacedField:
    """A field row on a page: its top edge and height."""

    field: CrfField
    top: float
    height: float


@dataclass(frozen=True)
class FormPage:
    """One page of a form: the form, whether it starts there, and the field rows on it."""

    form: CrfForm
    first: bool
    rows: tuple[PlacedField, ...]


def _widget_lines(field: CrfField) -> list[str]:
    """How the field is entered, as the form shows it (check boxes, date layout, a box)."""
    column = field.column
    if column.values:
        return [f"[ ] {value}" for value in column.values]
    if column.type in ("date", "partial_date"):
        unknown = " (UN for an unknown day or month)" if column.type == "partial_date" else ""
        return [DATE_LAYOUT + unknown]
    if column.type in ("integer", "decimal"):
        limits = [f"{bound:g}" for bound in (column.min, column.max) if bound is not None]
        return [f"number{' (' + ' to '.join(limits) + ')' if len(limits) == 2 else ''}"]
    return ["text"]


def _field_height(field: CrfField) -> float:
    label = _lines(field.label, BOLD, LABEL_SIZE, FIELD_WIDTH)
    widget = _height(len(_checkbox_rows(field)), NOTE_SIZE) + 6 if field.column.values else WIDGET_HEIGHT
    left = _height(len(label), LABEL_SIZE) + _height(1, SMALL) + widget
    return max(left, _notes_height(field)) + ROW_GAP


def _checkbox_rows(field: CrfField) -> list[list[str]]:
    """Check boxes laid out in rows that fit the field column."""
    rows: list[list[str]] = [[]]
    used = 0.0
    for value in field.column.values:
        width = _checkbox_width(value)
        if rows[-1] and used + width > FIELD_WIDTH:
            rows.append([])
            used = 0.0
        rows[-1].append(value)
        used += width
    return rows


def _checkbox_width(value: str) -> float:
    from reportlab.pdfbase.pdfmetrics import stringWidth

    return 12 + stringWidth(value, FONT, NOTE_SIZE) + 12


def _note_texts(field: CrfField) -> list[tuple[str, Annotation | None]]:
    """What is drawn beside a field: its boxes, else NOT SUBMITTED (or only derived uses)."""
    boxes: list[tuple[str, Annotation | None]] = [(a.text, a) for a in field.boxes]
    if not field.submitted:
        boxes.append((NOT_SUBMITTED, None))
    return boxes


def _derived_text(field: CrfField) -> str:
    return f"Used for: {', '.join(field.derived_uses)}" if field.derived_uses else ""


def _notes_height(field: CrfField) -> float:
    height = sum(
        _height(len(_lines(text, BOLD, NOTE_SIZE, NOTE_WIDTH - 2 * PAD)), NOTE_SIZE) + 2 * PAD + GAP
        for text, _ in _note_texts(field)
    )
    derived = _derived_text(field)
    if derived:
        height += _height(len(_lines(derived, ITALIC, SMALL, NOTE_WIDTH)), SMALL)
    return height


def _header_height(form: CrfForm, first: bool, labels: dict[str, str]) -> float:
    if not first:
        return _height(1, 12) + 8
    description = _height(len(_lines(form.description, FONT, SMALL, PAGE_WIDTH - 2 * MARGIN)), SMALL)
    boxes = len(_domain_rows(form, labels)) * (NOTE_SIZE * LEADING + 2 * PAD + GAP)
    return _height(1, 14) + _height(1, SMALL) + description + boxes + 12


def _domain_box_text(dataset: str, labels: dict[str, str]) -> str:
    return f"{dataset} = {labels[dataset]}" if dataset in labels else dataset


def _domain_rows(form: CrfForm, labels: dict[str, str]) -> list[list[tuple[str, float]]]:
    """The domain boxes of a form, left to right in rows across the page: (dataset, width);
    none for a form that feeds no dataset (every field NOT SUBMITTED)."""
    rows: list[list[tuple[str, float]]] = [[]]
    used = 0.0
    for dataset in form.datasets:
        width = min(
            PAGE_WIDTH - 2 * MARGIN, 2 * PAD + 8 + _text_width(_domain_box_text(dataset, labels), BOLD, NOTE_SIZE)
        )
        if rows[-1] and used + width > PAGE_WIDTH - 2 * MARGIN:
            rows.append([])
            used = 0.0
        rows[-1].append((dataset, width))
        used += width + GAP
    return [row for row in rows if row]


def layout(forms: Sequence[CrfForm], labels: dict[str, str]) -> list[FormPage]:
    """Every form from a new page, its fields top to bottom, a new page when one does not fit.
    `labels`: the dataset labels the domain boxes show."""
    pages: list[FormPage] = []
    for form in forms:
        first, rows = True, []
        top = TOP - _header_height(form, True, labels)
        for field in form.fields:
            height = _field_height(field)
            if rows and top - height < BOTTOM:
                pages.append(FormPage(form, first, tuple(rows)))
                first, rows = False, []
                top = TOP - _header_height(form, False, labels)
            rows.append(PlacedField(field, top, height))
            top -= height
        pages.append(FormPage(form, first, tuple(rows)))
    return pages


# --- drawing -------------------------------------------------------------------------------------


class _Drawing:
    def __init__(self, study: StudySpec, canvas: Canvas, pages: list[FormPage], front_pages: int) -> None:
        self.study = study
        self.canvas = canvas
        self.front_pages = front_pages
        self.total = front_pages + len(pages)
        order = [spec.name for spec in study.sdtm]
        self.colours = {name: HexColor(PALETTE[i % len(PALETTE)]) for i, name in enumerate(order)}
        self.labels = {spec.name: spec.label for spec in study.sdtm}
        self.domain_marked: dict[str, bool] = {}

    def running_header(self, number: int) -> None:
        c = self.canvas
        c.setFont(FONT, SMALL)
        c.setFillColor(GREY)
        c.drawString(MARGIN, PAGE_HEIGHT - MARGIN, f"{self.study.studyid}  {self.study.name}")
        c.drawRightString(PAGE_WIDTH - MARGIN, PAGE_HEIGHT - MARGIN, "Annotated CRF")
        c.drawCentredString(PAGE_WIDTH / 2, MARGIN, f"Page {number} of {self.total}")
        c.setFillColor(HexColor("#000000"))

    def box(self, x: float, top: float, width: float, lines: list[str], fill: Color, *, dashed: bool = False) -> float:
        """A filled annotation box with its text; returns its height."""
        c = self.canvas
        height = _height(len(lines), NOTE_SIZE) + 2 * PAD
        c.setFillColor(fill)
        c.setStrokeColor(HexColor("#333333"))
        c.setDash(2, 2) if dashed else c.setDash()
        c.rect(x, top - height, width, height, fill=1, stroke=1)
        c.setDash()
        c.setFillColor(HexColor("#000000"))
        c.setFont(BOLD, NOTE_SIZE)
        for index, line in enumerate(lines):
            c.drawString(x + PAD, top - PAD - NOTE_SIZE * (index + 0.85) * LEADING + 1, line)
        return height

    def form_header(self, page: FormPage) -> float:
        c = self.canvas
        form = page.form
        top = TOP
        title = form.title if page.first else f"{form.title} (continued)"
        c.setFont(BOLD, 14 if page.first else 12)
        c.drawString(MARGIN, top - 14, title)
        top -= _height(1, 14 if page.first else 12)
        if not page.first:
            return TOP - _header_height(form, False, self.labels)
        c.bookmarkPage(f"form.{form.name}")
        c.setFont(FONT, SMALL)
        c.setFillColor(GREY)
        lines = [f"Raw file {form.file}", *_lines(form.description, FONT, SMALL, PAGE_WIDTH - 2 * MARGIN)]
        for line in lines:
            c.drawString(MARGIN, top - SMALL, line)
            top -= _height(1, SMALL)
        c.setFillColor(HexColor("#000000"))
        top -= 4
        for row in _domain_rows(form, self.labels):
            x = MARGIN
            for dataset, width in row:
                if not self.domain_marked.get(dataset):
                    c.bookmarkPage(f"domain.{dataset}")
                    self.domain_marked[dataset] = True
                c.bookmarkPage(f"domain.{dataset}.{form.name}")
                text = _domain_box_text(dataset, self.labels)
                shown = _lines(text, BOLD, NOTE_SIZE, width - 2 * PAD)[:1]
                height = self.box(x, top, width, shown, self.colours.get(dataset, GREY))
                x += width + GAP
            top -= height + GAP
        return TOP - _header_height(form, True, self.labels)

    def field(self, placed: PlacedField) -> list[Annotation]:
        c = self.canvas
        field, top = placed.field, placed.top
        c.setStrokeColor(HexColor("#bbbbbb"))
        c.line(MARGIN, top + ROW_GAP / 2, PAGE_WIDTH - MARGIN, top + ROW_GAP / 2)
        label = _lines(field.label, BOLD, LABEL_SIZE, FIELD_WIDTH)
        c.setFont(BOLD, LABEL_SIZE)
        c.setFillColor(HexColor("#000000"))
        for index, line in enumerate(label):
            c.drawString(FIELD_X, top - LABEL_SIZE * (index + 1) * LEADING + 2, line)
        y = top - _height(len(label), LABEL_SIZE)
        c.setFont(FONT, SMALL)
        c.setFillColor(GREY)
        c.drawString(FIELD_X, y - SMALL, f"{field.name} ({field.column.type})")
        c.setFillColor(HexColor("#000000"))
        y -= _height(1, SMALL) + 2
        self.widget(field, y)
        return self.notes(field, top)

    def widget(self, field: CrfField, top: float) -> None:
        c = self.canvas
        c.setStrokeColor(HexColor("#333333"))
        c.setFont(FONT, NOTE_SIZE)
        if field.column.values:
            for row, values in enumerate(_checkbox_rows(field)):
                x = FIELD_X
                y = top - (row + 1) * NOTE_SIZE * LEADING
                for value in values:
                    c.rect(x, y, 7, 7, fill=0, stroke=1)
                    c.drawString(x + 11, y + 0.5, value)
                    x += _checkbox_width(value)
            return
        (text,) = _widget_lines(field)
        width = max(160.0 if field.column.type == "text" else 110.0, _text_width(text, FONT, NOTE_SIZE) + 8)
        c.rect(FIELD_X, top - WIDGET_HEIGHT + 3, width, WIDGET_HEIGHT - 4, fill=0, stroke=1)
        c.setFillColor(GREY)
        c.drawString(FIELD_X + 4, top - WIDGET_HEIGHT + 7, text)
        c.setFillColor(HexColor("#000000"))

    def notes(self, field: CrfField, top: float) -> list[Annotation]:
        drawn = []
        for text, annotation in _note_texts(field):
            lines = _lines(text, BOLD, NOTE_SIZE, NOTE_WIDTH - 2 * PAD)
            if annotation is None:
                top -= self.box(NOTE_X, top, NOTE_WIDTH, lines, HexColor("#eeeeee"), dashed=True) + GAP
                continue
            colour = self.colours.get(annotation.dataset, GREY)
            top -= self.box(NOTE_X, top, NOTE_WIDTH, lines, colour) + GAP
            drawn.append(annotation)
        derived = _derived_text(field)
        if derived:
            c = self.canvas
            c.setFont(ITALIC, SMALL)
            c.setFillColor(GREY)
            for index, line in enumerate(_lines(derived, ITALIC, SMALL, NOTE_WIDTH)):
                c.drawString(NOTE_X, top - SMALL * (index + 1) * LEADING + 2, line)
            c.setFillColor(HexColor("#000000"))
        return drawn


def _text_width(text: str, font: str, size: float) -> float:
    from reportlab.pdfbase.pdfmetrics import stringWidth

    return stringWidth(text, font, size)


# --- the front matter: title, legend, contents ----------------------------------------------


def _domains(forms: Sequence[CrfForm]) -> dict[str, list[CrfForm]]:
    """Each domain with the forms that feed it, in form order: the contents and the bookmarks."""
    domains: dict[str, list[CrfForm]] = {}
    for form in forms:
        for dataset in form.datasets:
            domains.setdefault(dataset, []).append(form)
    return domains


def _contents(forms: Sequence[CrfForm], pages: list[FormPage], front: int) -> list[tuple[str, str, int]]:
    """Contents lines of the forms: (text, destination, first page)."""
    first_page = {}
    for number, page in enumerate(pages, start=front + 1):
        first_page.setdefault(page.form.name, number)
    return [(f"{form.title} ({form.file})", f"form.{form.name}", first_page[form.name]) for form in forms]


FRONT_LINE = 13.0
FRONT_TOP = TOP - 150  # below the title and the legend


def _front_line_count(forms: Sequence[CrfForm]) -> int:
    """As many as `_front_lines` yields: two headings and a blank, the forms, each domain and
    its forms."""
    return 3 + len(forms) + sum(1 + len(in_forms) for in_forms in _domains(forms).values())


def _front_positions(count: int) -> list[tuple[int, float]]:
    """The page (1, 2, ...) and baseline of each of `count` contents lines: the first page
    starts below the title and the legend, the next ones at the top. One stepping serves the
    number of front pages, which every form's page number depends on, and the drawing."""
    positions, page, y = [], 1, FRONT_TOP + FRONT_LINE
    for _ in range(count):
        if y - FRONT_LINE < BOTTOM:
            page, y = page + 1, TOP
        y -= FRONT_LINE
        positions.append((page, y))
    return positions


def _front_pages(forms: Sequence[CrfForm]) -> int:
    return _front_positions(_front_line_count(forms))[-1][0]


def _front_lines(
    drawing: _Drawing, forms: Sequence[CrfForm], pages: list[FormPage]
) -> Iterator[tuple[str, str, str | None, int | None]]:
    """(style, text, destination, page) of each contents line."""
    form_lines = _contents(forms, pages, drawing.front_pages)
    first_page = {dest: page for _, dest, page in form_lines}
    yield "heading", "Forms", None, None
    for text, dest, page in form_lines:
        yield "entry", text, dest, page
    yield "blank", "", None, None
    yield "heading", "Domains", None, None
    for dataset, in_forms in _domains(forms).items():
        yield "domain", f"{dataset} = {drawing.labels.get(dataset, dataset)}", None, None
        for form in in_forms:
            yield "entry", f"    {form.title}", f"domain.{dataset}.{form.name}", first_page[f"form.{form.name}"]


def _draw_front(drawing: _Drawing, forms: Sequence[CrfForm], pages: list[FormPage]) -> None:
    c = drawing.canvas
    study = drawing.study
    c.bookmarkPage("contents")
    drawing.running_header(1)
    c.setFont(BOLD, 18)
    c.drawString(MARGIN, TOP - 18, "Annotated Case Report Form")
    c.setFont(FONT, 10)
    c.drawString(MARGIN, TOP - 38, f"{study.name} ({study.studyid})")
    notes = (
        "One section per eCRF form of the raw-file contract (specs/study.yaml); beside each field the "
        "SDTM variables it feeds, from the dataset specs. A coloured box per domain; "
        "'VARIABLE when TESTCD = X' names the records; NOT SUBMITTED: no submitted variable reads the "
        "field; grey italics: variables derived or assigned from the field."
    )
    c.setFont(FONT, SMALL + 1)
    for index, line in enumerate(_lines(notes, FONT, SMALL + 1, PAGE_WIDTH - 2 * MARGIN)):
        c.drawString(MARGIN, TOP - 60 - index * 11, line)
    lines = list(_front_lines(drawing, forms, pages))
    number = 1
    for (style, text, dest, page), (on_page, y) in zip(lines, _front_positions(len(lines)), strict=True):
        if on_page != number:
            c.showPage()
            number = on_page
            drawing.running_header(number)
        if style == "heading":
            c.setFont(BOLD, 11)
            c.drawString(MARGIN, y, text)
            c.bookmarkPage(f"contents.{text.lower()}")
        elif style == "domain":
            c.setFont(BOLD, 9)
            c.drawString(MARGIN + 10, y, text)
        elif style == "entry" and dest is not None:
            c.setFont(FONT, 9)
            c.drawString(MARGIN + 10, y, text)
            c.drawRightString(PAGE_WIDTH - MARGIN, y, str(page))
            c.linkAbsolute(text, dest, (MARGIN, y - 2, PAGE_WIDTH - MARGIN, y + 9))
    c.showPage()


def _outline(canvas: Canvas, forms: Sequence[CrfForm]) -> None:
    """Bookmarks: Forms > each form; Domains > each domain > the forms that feed it."""
    canvas.addOutlineEntry("Forms", "contents.forms", 0)
    for form in forms:
        canvas.addOutlineEntry(form.title, f"form.{form.name}", 1)
    canvas.addOutlineEntry("Domains", "contents.domains", 0)
    for dataset, in_forms in _domains(forms).items():
        canvas.addOutlineEntry(dataset, f"domain.{dataset}", 1)
        for form in in_forms:
            canvas.addOutlineEntry(form.title, f"domain.{dataset}.{form.name}", 2)


def write_acrf(study: StudySpec, path: Path) -> CrfPageIndex:
    """Write the annotated CRF of the study as converted; return on which page each annotation is."""
    forms = annotated_crf(study)
    pages = layout(forms, {spec.name: spec.label for spec in study.sdtm})
    front = _front_pages(forms)
    canvas = Canvas(str(path), pagesize=A4, invariant=1, pageCompression=1)
    canvas.setTitle(f"{study.studyid} Annotated CRF")
    canvas.setAuthor(study.name)
    canvas.setSubject("Annotated case report form (SDTM)")
    drawing = _Drawing(study, canvas, pages, front)
    _draw_front(drawing, forms, pages)
    placed: list[tuple[Annotation, int]] = []
    for number, page in enumerate(pages, start=front + 1):
        drawing.running_header(number)
        drawing.form_header(page)
        for row in page.rows:
            placed += [(annotation, number) for annotation in drawing.field(row)]
        canvas.showPage()
    _outline(canvas, forms)
    canvas.showOutline()
    canvas.save()
    return CrfPageIndex(ACRF, front + len(pages), tuple(placed))
