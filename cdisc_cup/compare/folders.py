"""What is compared with what: two XPT files, or the datasets of two folders by name.

BASE and COMPARE are both files or both folders. Two folders are searched for dataset folders
as `validate` does (a folder of XPT files, a conversion's output, an eCTD m5 tree; FDA split
copies skipped), which are paired by their path below BASE and COMPARE; their datasets are
paired by name (the name inside each XPT file, as every reader sees it). A dataset in one
side only is a difference. The define.xml of a base dataset folder (beside the BASE file)
gives the keys; it is read only when some dataset has no keys from `--keys`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath

from lxml import etree

from cdisc_cup import __version__
from cdisc_cup.compare.datasets import compare_datasets, side
from cdisc_cup.compare.keys import ALL_DATASETS, KeyOption, choose_keys
from cdisc_cup.comparison import Comparison, DatasetComparison, DatasetSide, Tolerance
from cdisc_cup.define.model import DefineModel
from cdisc_cup.define.read import read_define
from cdisc_cup.errors import InputErrors, Problem, display_path
from cdisc_cup.progress import Progress
from cdisc_cup.xpt.model import Dataset
from cdisc_cup.xpt.read import find_dataset_folders, read_dataset_folder, read_xpt_dataset

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


@dataclass(frozen=True)
class FolderPair:
    """The datasets of one dataset folder of BASE and its namesake in COMPARE."""

    folder: str  # below BASE and COMPARE, as `shortened` names it ("" for one folder, or two files)
    base: dict[str, Dataset]
    compare: dict[str, Dataset]
    define_folder: Path | None  # where the base's define.xml would be


def _read_side(path: Path, problems: list[Problem]) -> dict[str, Dataset]:
    """The datasets of a folder, or the one of a file, by name; what cannot be read goes to
    `problems`, so that both sides' problems are reported at once."""
    try:
        if path.is_dir():
            return read_dataset_folder(path)
        dataset = read_xpt_dataset(path)
    except InputErrors as error:
        problems.extend(error.problems)
        return {}
    return {dataset.name: dataset}


def _dataset_folders(root: Path, problems: list[Problem]) -> dict[str, Path]:
    found = {folder.relative_to(root).as_posix(): folder for folder in find_dataset_folders(root)}
    if not found:
        problems.append(
            Problem(
                display_path(root),
                "no SAS XPORT (*.xpt) datasets in this folder or below it",
                expected="a folder of XPT datasets, a conversion's output or an eCTD m5 tree",
            )
        )
    return found


def shortened(relatives: list[str]) -> dict[str, str]:
    """Each folder's name in the report: its path below BASE without the part every folder
    shares (m5/datasets/<study>/), "" for a single folder."""
    split = [PurePosixPath(r).parts if r != "." else () for r in relatives]
    shared = 0
    while all(len(parts) > shared for parts in split) and len({parts[shared] for parts in split}) == 1:
        shared += 1
    if len(relatives) < 2:
        shared = max(len(parts) for parts in split) if split else 0
    return {r: "/".join(parts[shared:]) for r, parts in zip(relatives, split, strict=True)}


def read_pairs(base: Path, compare: Path) -> list[FolderPair]:
    """What is compared with what (module docstring); every file that cannot be read reported at once."""
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
    if not base.is_dir():
        base_sets, compare_sets = _read_side(base, problems), _read_side(compare, problems)
        if problems:
            raise InputErrors(problems, source=SOURCE)
        # Two files are compared whatever their dataset names: the base's names both.
        (name,), (dataset,) = base_sets, compare_sets.values()
        return [FolderPair("", base_sets, {name: dataset}, base.parent)]
    base_folders, compare_folders = _dataset_folders(base, problems), _dataset_folders(compare, problems)
    relatives = sorted(base_folders.keys() | compare_folders.keys())
    names = shortened(relatives)
    pairs = [
        FolderPair(
            names[relative],
            _read_side(base_folders[relative], problems) if relative in base_folders else {},
            _read_side(compare_folders[relative], problems) if relative in compare_folders else {},
            base_folders.get(relative),
        )
        for relative in relatives
    ]
    if problems:
        raise InputErrors(problems, source=SOURCE)
    return pairs


def _unknown_key_datasets(keys: KeyOption, pairs: list[FolderPair], base: Path) -> list[Problem]:
    """`--keys XX=...` for a dataset neither side has: a typo that would silently change nothing."""
    present = {name for pair in pairs for name in (*pair.base, *pair.compare)}
    return [
        Problem(display_path(base), f"--keys names dataset {name}, which is in neither BASE nor COMPARE")
        for name in keys.keys
        if name != ALL_DATASETS and name not in present
    ]


def _compare_pair(
    pair: FolderPair, keys: KeyOption, tolerance: Tolerance, max_examples: int, problems: list[Problem]
) -> list[DatasetComparison]:
    common = [name for name in pair.base if name in pair.compare]
    define = None
    if any(keys.for_dataset(name) is None for name in common) and pair.define_folder is not None:
        define = _read_define(_define_beside(pair.define_folder))
    compared = []
    for name in common:
        try:
            chosen = choose_keys(name, pair.base[name], pair.compare[name], keys, define)
        except InputErrors as error:
            problems.extend(error.problems)
            continue
        compared.append(
            compare_datasets(pair.base[name], pair.compare[name], chosen, tolerance, max_examples, pair.folder)
        )
    return compared


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
        pairs = read_pairs(Path(base), Path(compare))
    compared: list[DatasetComparison] = []
    problems = _unknown_key_datasets(keys, pairs, base)
    count = sum(len(pair.base.keys() & pair.compare.keys()) for pair in pairs)
    with progress.step("compare", f"{count} dataset{'s' if count != 1 else ''}"):
        for pair in pairs:
            compared += _compare_pair(pair, keys, tolerance, max_examples, problems)
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
        datasets_only_in_base=tuple(s for pair in pairs for s in _only(pair.base, pair.compare, pair.folder)),
        datasets_only_in_compare=tuple(s for pair in pairs for s in _only(pair.compare, pair.base, pair.folder)),
    )


def _only(these: dict[str, Dataset], others: dict[str, Dataset], folder: str) -> list[DatasetSide]:
    """The datasets of one side that the other lacks."""
    return [side(dataset, folder) for name, dataset in these.items() if name not in others]
