"""OUT/index.html: one page that leads a reviewer to every output of a conversion.

A conversion writes datasets, two define.xml files, validation and reconciliation reports,
tables and a figure across the eCTD folder tree; the reviewer should not have to know that
tree to find them. Every link is relative to the page, so the output folder can be moved,
zipped or filed and the page still works; a link that would leave the folder (absolute,
another host, or up through "..") is refused, since it would break as soon as the folder
moves and might point at something that was never delivered.
"""

from __future__ import annotations

import html
import posixpath
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

import pandas as pd

from cdisc_cup.findings import DATASET_COLUMNS, RunInfo
from cdisc_cup.reports.page import escaped, html_table, label_value_table, run_rows, standalone_page

# Links are grouped by the top folder of their target: the output tree is laid out by purpose.
LINK_GROUPS = {
    "m5": "Submission (eCTD module 5): datasets and Define-XML",
    "reports": "Reports",
    "tables": "Tables and figures",
}
OTHER_LINKS = "Other outputs"


def checked_href(href: str) -> str:
    """`href` itself if it is relative and stays inside the page's folder; ValueError otherwise."""
    parts = urlsplit(href)
    target = unquote(parts.path)
    normal = posixpath.normpath(target) if target else "."
    if parts.scheme or parts.netloc or target.startswith("/") or normal == ".." or normal.startswith("../"):
        raise ValueError(f"index page link {href!r} must be relative to the output folder and stay inside it")
    return href


def file_href(file: str, folder: Path) -> str:
    """The link to a file from a page in `folder`: absolute paths made relative, then URL-quoted."""
    path = Path(file)
    if path.is_absolute():
        try:
            path = path.resolve().relative_to(folder.resolve())
        except ValueError:
            raise ValueError(f"dataset file {file} is not inside the output folder {folder}") from None
    return checked_href(quote(path.as_posix()))


def _group(href: str) -> str:
    path = unquote(urlsplit(href).path)
    top = path.split("/", 1)[0] if "/" in path else ""
    return LINK_GROUPS.get(top, top or OTHER_LINKS)


def _dataset_table(datasets: pd.DataFrame, folder: Path) -> str:
    table = datasets.reindex(columns=DATASET_COLUMNS)
    if table.empty:
        return "<p>No datasets.</p>"
    files = table["file"].astype("string").fillna("").tolist()
    # One link per dataset file (tens of them), not per record.
    hrefs = [file_href(file, folder) if file else "" for file in files]
    names = pd.Series(files, index=table.index, dtype="string").map(lambda file: Path(file).name if file else "")
    href = pd.Series(hrefs, index=table.index, dtype="string")
    link = ('<a href="' + escaped(href) + '">' + escaped(names) + "</a>").where(href != "", "")
    shown = pd.DataFrame(
        {
            "standard": table["standard"],
            "dataset": table["dataset"],
            "label": table["label"],
            "records": pd.to_numeric(table["records"], errors="coerce").astype("Int64"),
            "file": link,
        }
    )
    return html_table(shown, "datasets", {"file": link})


def _link_groups(links: Sequence[tuple[str, str, str]]) -> str:
    groups: dict[str, list[str]] = {}
    for label, href, description in links:
        item = f'<li><a href="{html.escape(checked_href(href))}">{html.escape(label)}</a>'
        if description:
            item += f' <span class="muted">{html.escape(description)}</span>'
        groups.setdefault(_group(href), []).append(item + "</li>")
    return "".join(
        f'<h3>{html.escape(group)}</h3><ul class="links">{"".join(items)}</ul>' for group, items in groups.items()
    )


def write_index_page(
    path: Path,
    *,
    study: str,
    run: RunInfo,
    datasets: pd.DataFrame,
    links: Sequence[tuple[str, str, str]],
) -> Path:
    """Write the index page at `path` (OUT/index.html).

    `datasets` has `DATASET_COLUMNS`; `file` is the XPT file, absolute or relative to the page,
    and becomes the dataset's link. `links` are (label, href, description) with hrefs relative
    to the page (a fragment such as "#rules" may follow); they are shown grouped by their top
    folder, in the order given.
    """
    folder = path.parent
    body = (
        f'<section id="run"><h2>Run</h2>{label_value_table(run_rows(run))}</section>'
        f'<section id="datasets"><h2>Datasets</h2>{_dataset_table(datasets, folder)}</section>'
        f'<section id="outputs"><h2>Outputs</h2>{_link_groups(links) or "<p>No other outputs.</p>"}</section>'
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(standalone_page(f"{study}: conversion outputs", body), encoding="utf-8")
    return path
