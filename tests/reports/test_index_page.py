"""OUT/index.html: every output of a conversion linked from one page, by links that survive moving the folder."""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

import lxml.html
import pandas as pd
import pytest

from cdisc_cup.findings import DATASET_COLUMNS
from cdisc_cup.reports.index import LINK_GROUPS, write_index_page
from tests.reports.validation_data import RUN, SCRIPT

STUDY = "CUP1"
SDTM = "m5/datasets/cup1/tabulations/sdtm"
ADAM = "m5/datasets/cup1/analysis/adam/datasets"
LINKS = [
    ("SDTM define.xml", f"{SDTM}/define.html", "SDTM datasets, variables and codelists"),
    ("ADaM define.xml", f"{ADAM}/define.html", "ADaM datasets, variables and derivations"),
    ("Conformance findings", "reports/validation/findings.html", f"the findings report {SCRIPT}"),
    ("Rules of the run", "reports/validation/findings.html#rules", ""),
    ("Reconciliation", "reports/reconciliation.html", "every raw record accounted for"),
    ("Adverse events table", "tables/ae_table.html", "TEAEs by SOC and PT"),
    ("Figure", "tables/ae%20figure.png", "a file name with a space, already URL-quoted"),
]


def datasets(out: Path) -> pd.DataFrame:
    """Files as the pipeline knows them (absolute, one with a space), and one given relative to the page."""
    return pd.DataFrame(
        [
            ["DM", "Demographics", "SDTMIG 3.4", 3, 20, str(out / SDTM / "dm.xpt")],
            ["AE", f"Adverse Events {SCRIPT}", "SDTMIG 3.4", 10, 30, str(out / SDTM / "a e.xpt")],
            ["ADSL", "Subject-Level Analysis Dataset", "ADaMIG 1.3", 3, 50, f"{ADAM}/adsl.xpt"],
            ["SUPPDM", "Supplemental Qualifiers for DM", "SDTMIG 3.4", 0, 10, None],
        ],
        columns=DATASET_COLUMNS,
    )


@pytest.fixture
def index(tmp_path: Path) -> tuple[Path, lxml.html.HtmlElement]:
    out = tmp_path / "out"
    path = write_index_page(out / "index.html", study=STUDY, run=RUN, datasets=datasets(out), links=LINKS)
    return path, lxml.html.document_fromstring(path.read_text(encoding="utf-8"))


def test_index_links_are_the_ones_given_and_relative(index: tuple[Path, lxml.html.HtmlElement]) -> None:
    path, page = index
    hrefs = page.xpath("//a/@href")
    dataset_links = [f"{SDTM}/dm.xpt", f"{SDTM}/a%20e.xpt", f"{ADAM}/adsl.xpt"]
    assert hrefs == dataset_links + [href for _, href, _ in LINKS]
    for href in hrefs:
        parts = urlsplit(href)
        assert not parts.scheme and not parts.netloc and not parts.path.startswith("/")
        target = (path.parent / unquote(parts.path)).resolve()
        assert target.is_relative_to(path.parent.resolve()) and ".." not in PurePosixPath(parts.path).parts
    assert [a.text_content() for a in page.xpath("//section[@id='outputs']//a")] == [label for label, _, _ in LINKS]


def test_index_shows_study_run_datasets_and_groups(index: tuple[Path, lxml.html.HtmlElement]) -> None:
    _, page = index
    assert page.findtext(".//title") == page.findtext(".//h1") == f"{STUDY}: conversion outputs"
    labels, values = page.xpath("//table[@class='run']//th"), page.xpath("//table[@class='run']//td")
    run = {th.text_content(): td.text_content() for th, td in zip(labels, values, strict=True)}
    assert run["Tool"] == "cdisc-cup 0.1.0" and run["Study"] == STUDY and run["Created"] == RUN.created
    header = [th.text_content() for th in page.xpath("//table[@class='datasets']/thead//th")]
    assert header == ["standard", "dataset", "label", "records", "file"]
    rows = [[td.text_content() for td in tr.xpath("td")] for tr in page.xpath("//table[@class='datasets']/tbody/tr")]
    assert rows[0] == ["SDTMIG 3.4", "DM", "Demographics", "3", "dm.xpt"]
    assert rows[1][2] == f"Adverse Events {SCRIPT}" and rows[1][4] == "a e.xpt"
    assert rows[3] == ["SDTMIG 3.4", "SUPPDM", "Supplemental Qualifiers for DM", "0", ""]  # no file, no link
    groups = [h3.text_content() for h3 in page.xpath("//section[@id='outputs']/h3")]
    assert groups == [LINK_GROUPS["m5"], LINK_GROUPS["reports"], LINK_GROUPS["tables"]]
    assert not page.xpath("//script") and SCRIPT in page.text_content()  # the data stay text
    assert not page.xpath("//link | //img | //iframe")  # standalone: inline CSS, nothing fetched


@pytest.mark.parametrize(
    "href", ["/etc/passwd", "../elsewhere/findings.html", "reports/../../x.html", "https://example.org/x", "//host/x"]
)
def test_index_refuses_links_that_leave_the_output_folder(tmp_path: Path, href: str) -> None:
    with pytest.raises(ValueError, match="relative to the output folder"):
        write_index_page(
            tmp_path / "index.html", study=STUDY, run=RUN, datasets=datasets(tmp_path), links=[("x", href, "")]
        )


def test_index_refuses_a_dataset_file_outside_the_output_folder(tmp_path: Path) -> None:
    outside = datasets(tmp_path / "elsewhere")
    with pytest.raises(ValueError, match="not inside the output folder"):
        write_index_page(tmp_path / "out" / "index.html", study=STUDY, run=RUN, datasets=outside, links=LINKS)
