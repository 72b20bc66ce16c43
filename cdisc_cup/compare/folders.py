"""What is compared with what: two XPT files, or the datasets of two folders by name.

BASE and COMPARE are both files or both folders. Two folders are matched by dataset name
(the name inside each XPT file, as every reader sees it); a dataset in one folder only is a
difference. The define.xml of the BASE folder (beside the BASE file) gives the keys; it is
read only when some dataset has no keys from `--keys`.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from lxml import etree

from cdisc_cup import __version__
from cdisc_cup.compare.datasets import compare_datasets, side
from cdisc_cup.compare.keys import KeyOption, choose_keys
from cdisc_cup.comparison import Comparison, DatasetSide, Tolerance
from cdisc_cup.define.model import DefineModel
from cdisc_cup.define.read import read_define
from cdisc_cup.errors import InputErrors, Problem, display_path
from cdisc_cup.progress import Progress
from cdisc_cup.xpt.model import Dataset
from cdisc_cup.xpt.read import read_dataset_folder, read_xpt_dataset

SOURCE = "comparison"


def _define_beside(folder: Path) -> Path | None:
    if not folder.is_dir():
        return None
    return next((p for p in sorted(folder.iterdir()) if p.name.lower() == "define.xml" and p.is_file()), None)


def _read_define(path: Path | None) -> DefineModel | None:
    """The keys' define.xml; one that cannot be read is unusable input (with --keys the
    comparison needs none)."""
    if path is None:
        return None
    try:
        return read_define(path)
    except (OSError, etree.XMLSyntaxError) as error:
        raise InputErrors(
            [
                Problem(
                    display_path(path),
                    f"define.xml cannot be read as XML: {error}",
                    line=getattr(error, "lineno", None),
                    expected="a readable define.xml, or --keys to give the keys without it",
                )
            ],
            source=SOURCE,
        ) from error


def _read_pair(base: Path, compare: Path) -> tuple[dict[str, Dataset], dict[str, Dataset], Path]:
    """Both sides' datasets by name, and the folder of the base's define.xml; every file that
    cannot be read reported at once."""
    if base.is_dir() != compare.is_dir():
        raise InputErrors(
            [
                Problem(
                    display_path(path),
                    "is a folder" if path.is_dir() else "is a file",
                    expected="BASE and COMPARE both XPT files, or both folders of XPT files",
                )
                for path in (base, compare)
            ],
            source=SOURCE,
        )
    problems: list[Problem] = []
    sides: list[dict[str, Dataset]] = []
    for path in (base, compare):
        try:
            if path.is_dir():
                read = read_dataset_folder(path)
                if not read:
                    problems.append(Problem(display_path(path), "the folder has no SAS XPORT (*.xpt) datasets"))
            else:
                dataset = read_xpt_dataset(path)
                read = {dataset.name: dataset}
        except InputErrors as error:
            problems.extend(error.problems)
            read = {}
        sides.append(read)
    if problems:
        raise InputErrors(problems, source=SOURCE)
    if not base.is_dir():  # two files: compared whatever their dataset names
        (base_dataset,), (compare_dataset,) = sides[0].values(), sides[1].values()
        return {base_dataset.name: base_dataset}, {base_dataset.name: compare_dataset}, base.parent
    return sides[0], sides[1], base


def compare_paths(
    base: Path,
    compare: Path,
    *,
    keys: KeyOption | None = None,
    tolerance: Tolerance | None = None,
    max_examples: int = 50,
    command: str = "compare",
    progress: Progress | None = None,
) -> Comparison:
    """Compare BASE with COMPARE (files or folders); bad input raises InputErrors."""
    progress = progress or Progress.silent()
    keys = keys or KeyOption({})
    tolerance = tolerance or Tolerance()
    created = datetime.now().astimezone().replace(microsecond=0).isoformat()
    with progress.step("read datasets", f"{display_path(base)} and {display_path(compare)}"):
        base_sets, compare_sets, define_folder = _read_pair(Path(base), Path(compare))
    common = [name for name in base_sets if name in compare_sets]
    define = None
    if any(keys.for_dataset(name) is None for name in common):
        define = _read_define(_define_beside(define_folder))
    compared = []
    problems: list[Problem] = []
    with progress.step("compare", f"{len(common)} dataset{'s' if len(common) != 1 else ''}"):
        for name in common:
            try:
                chosen = choose_keys(name, base_sets[name], compare_sets[name], keys, define)
            except InputErrors as error:
                problems.extend(error.problems)
                continue
            compared.append(compare_datasets(base_sets[name], compare_sets[name], chosen, tolerance, max_examples))
    if problems:
        raise InputErrors(problems, source=SOURCE)
    return Comparison(
        base=display_path(base),
        compare=display_path(compare),
        tolerance=tolerance,
        max_examples=max_examples,
        created=created,
        command=command,
        tool=f"cdisc-cup {__version__}",
        datasets=tuple(compared),
        datasets_only_in_base=_only(base_sets, compare_sets),
        datasets_only_in_compare=_only(compare_sets, base_sets),
    )


def _only(these: dict[str, Dataset], others: dict[str, Dataset]) -> tuple[DatasetSide, ...]:
    """The datasets of one side that the other lacks."""
    return tuple(side(dataset) for name, dataset in these.items() if name not in others)
