"""Write define.xml, its stylesheet and define.html into a dataset folder.

The document is built by `cdisc_cup.define.build` from the specs and the frames written; this
module puts it on disk beside the datasets, with the CDISC stylesheet it references and
define.html rendered from the same tree (nothing is parsed again), and regenerates it from the
XPT files of a folder for `cdisc-cup define`.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path

import pandas as pd
from lxml import etree

from cdisc_cup.define.build import build_define
from cdisc_cup.define.document import serialize
from cdisc_cup.define.html import HTML_FILE, STYLESHEET, render_define_html
from cdisc_cup.define.identifiers import DEFINE_FILE, Standard
from cdisc_cup.define.read import read_define
from cdisc_cup.spec.model import DatasetSpec, StudySpec
from cdisc_cup.xpt.model import Dataset
from cdisc_cup.xpt.read import read_dataset_folder


def write_define_files(document: etree._ElementTree, out_dir: Path) -> Path:
    """define.xml from the document, the stylesheet it references and define.html, in `out_dir`."""
    out_dir = Path(out_dir)
    path = out_dir / DEFINE_FILE
    path.write_bytes(serialize(document))
    shutil.copyfile(STYLESHEET, out_dir / STYLESHEET.name)
    render_define_html(document, out_dir / HTML_FILE)
    return path


def write_define(
    study: StudySpec,
    specs: Sequence[DatasetSpec],
    datasets: Mapping[str, pd.DataFrame],
    out_dir: Path,
    *,
    standard: Standard,
    lengths: Mapping[str, Mapping[str, int]] | None = None,
    created: datetime | None = None,
    notes: Mapping[str, str] | None = None,
) -> Path:
    """Build define.xml for the frames and write it, the stylesheet and define.html into `out_dir`."""
    document = build_define(study, specs, datasets, standard=standard, lengths=lengths, created=created, notes=notes)
    return write_define_files(document, out_dir)


def define_of_folder(
    study: StudySpec,
    specs: Sequence[DatasetSpec],
    datasets: Mapping[str, Dataset],
    folder: Path,
    *,
    standard: Standard,
    created: datetime | None = None,
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
    return build_define(study, specs, frames, standard=standard, lengths=lengths, created=created)


def define_from_folder(
    study: StudySpec,
    specs: Sequence[DatasetSpec],
    dataset_dir: Path,
    *,
    standard: Standard,
    created: datetime | None = None,
) -> Path:
    """Regenerate define.xml (+ stylesheet, define.html) from the XPT files of a folder."""
    datasets = read_dataset_folder(Path(dataset_dir))
    document = define_of_folder(study, specs, datasets, Path(dataset_dir), standard=standard, created=created)
    return write_define_files(document, Path(dataset_dir))
