"""The documents define.xml links to beside the datasets: aCRF and reviewer's guides (def:leaf).

FDA's Study Data Technical Conformance Guide names them and puts them beside the datasets
they document (section 2.2: csdrg.pdf with the SDTM datasets, 2.3: adrg.pdf with the ADaM
datasets, 4.1.4.5 and the eCTD folder figure: acrf.pdf in the tabulations folder). Define-XML
2.1 links them with a def:leaf each (xlink:href relative to define.xml), from
def:AnnotatedCRF, def:SupplementalDoc and, for each collected variable, from its def:Origin
with def:PDFPageRef pages; the ADaM define.xml's Analysis Results Metadata point from each
display and analysis to the page of the ADRG that describes it. The page numbers come from the
documents as they were laid out, so define.xml cannot point at a page where the variable or
the display is not.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from cdisc_cup.spec.annotations import Annotation


@dataclass(frozen=True)
class Document:
    """A file beside define.xml and the def:leaf that names it."""

    leaf_id: str
    href: str  # relative to define.xml's folder
    title: str

    @property
    def html_href(self) -> str:
        """The same document as HTML for reading on screen (the reviewer's guides)."""
        return self.href.rsplit(".", 1)[0] + ".html"


ACRF = Document("LF.acrf", "acrf.pdf", "Annotated CRF")
CSDRG = Document("LF.csdrg", "csdrg.pdf", "Clinical Study Data Reviewer's Guide")
ADRG = Document("LF.adrg", "adrg.pdf", "Analysis Data Reviewer's Guide")


@dataclass(frozen=True)
class CrfPageIndex:
    """On which physical pages (1-based) of the aCRF each annotation was drawn."""

    document: Document
    page_count: int
    placed: tuple[tuple[Annotation, int], ...]  # every annotation box and its page

    def pages(self, dataset: str, variable: str, where: tuple[str, str] | None = None) -> tuple[int, ...]:
        """The pages showing a variable; with `where` (a value-level item: VSTESTCD = WEIGHT)
        those of its records, or all of the variable's when no block sets that value."""
        found = sorted({page for annotation, page in self.placed if annotation.describes(dataset, variable, where)})
        if not found and where is not None:
            return self.pages(dataset, variable)
        return tuple(found)


@dataclass(frozen=True)
class GuideSection:
    """A section of a reviewer's guide as laid out: its number and title, and its first page."""

    number: str  # "5.1.2"
    title: str  # "AR.TABLE1.MEASURES: Age, weight and height ..."
    page: int  # 1-based physical page


@dataclass(frozen=True)
class GuidePageIndex:
    """Where a reviewer's guide describes what define.xml points at: the section of each
    display and analysis of the ADRG, by its OID (arm:ResultDisplay, arm:AnalysisResult)."""

    document: Document
    page_count: int
    sections: Mapping[str, GuideSection] = field(default_factory=dict)


@dataclass(frozen=True)
class SubmissionDocuments:
    """What one define.xml links to besides the datasets."""

    annotated_crf: CrfPageIndex | None = None  # SDTM: the aCRF and its pages
    supplemental: tuple[Document, ...] = ()  # the reviewer's guide
    analysis_guide: GuidePageIndex | None = None  # ADaM: the ADRG's section of each display and analysis

    @property
    def leaves(self) -> list[Document]:
        crf = [self.annotated_crf.document] if self.annotated_crf is not None else []
        return [*crf, *self.supplemental]
