"""Write define.xml, its stylesheet and define.html into a dataset folder.

The document is built by `cdisc_cup.define.build`, from the specs and the frames written or
(`define_of_folder`, for `cdisc-cup define`) from the XPT files of a folder; this module checks
it against the schema and puts it on disk beside the datasets, with the CDISC stylesheet it
references and define.html rendered from the same tree (nothing is parsed again).
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path

from lxml import etree

from cdisc_cup.define.build import build_define
from cdisc_cup.define.document import serialize
from cdisc_cup.define.documents import SubmissionDocuments
from cdisc_cup.define.html import HTML_FILE, STYLESHEET, render_define_html
from cdisc_cup.define.identifiers import DEFINE_FILE, Standard
from cdisc_cup.define.model import DefineModel
from cdisc_cup.define.read import define_of, read_define
from cdisc_cup.define.validate import schema_problems
from cdisc_cup.errors import ConformanceErrors, display_path
from cdisc_cup.spec.model import DatasetSpec, StudySpec
from cdisc_cup.xpt.model import Dataset


def write_define(document: etree._ElementTree, folder: Path) -> DefineModel:
    """Check the document against the Define-XML 2.1 schema (an invalid one is our bug and stops
    the run before a byte is written), then write define.xml, the stylesheet it references and
    define.html into `folder`; return its model, taken from the same tree, not parsed again."""
    folder = Path(folder)
    path = folder / DEFINE_FILE
    problems = schema_problems(document, display_path(path))
    if problems:
        raise ConformanceErrors(problems)
    path.write_bytes(serialize(document))
    shutil.copyfile(STYLESHEET, folder / STYLESHEET.name)
    render_define_html(document, folder / HTML_FILE)
    return define_of(document, path)


def define_of_folder(
    study: StudySpec,
    specs: Sequence[DatasetSpec],
    datasets: Mapping[str, Dataset],
    folder: Path,
    *,
    standard: Standard,
    created: datetime | None = None,
    documents: SubmissionDocuments | None = None,
) -> etree._ElementTree:
    """The define.xml document of the datasets read from a folder, with their written lengths.

    Without `created`, the CreationDateTime of a define.xml already in the folder is kept, so
    that regenerating an unchanged output gives the same bytes as `convert` wrote.
    """
    frames = {name: dataset.frame for name, dataset in datasets.items()}
    lengths = {
        name: {v.name: v.length for v in dataset.variables if v.type == "Char"} for name, dataset in datasets.items()
    }
    existing = Path(folder) / DEFINE_FILE
    if created is None and existing.is_file():
        stamp = read_define(existing).created
        created = datetime.fromisoformat(stamp) if stamp else None
    return build_define(study, specs, frames, standard=standard, lengths=lengths, created=created, documents=documents)
