"""The paper's tables and figure, reproduced from the ADaM datasets of the converted sample."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib.image
import pandas as pd
import pyreadstat
import pytest

from cdisc_cup.adam.spec import shape_to_spec
from cdisc_cup.pipeline import ConversionResult
from cdisc_cup.spec.loader import load_study
from cdisc_cup.tables import PaperTables, compute_tables
from cdisc_cup.tables.render import n_pct

TARGETS = json.loads(
    (Path(__file__).resolve().parents[2].parent / "shared" / "paper" / "targets.json").read_text(encoding="utf-8")
)
UNORDERED_FACTS = {"serious_related_isatuximab", "aesi_terms", "fatal", "not_recovered"}


@pytest.fixture(scope="module")
def paper(converted_sample: ConversionResult) -> PaperTables:
    return compute_tables(converted_sample.study, converted_sample.adam["ADSL"], converted_sample.adam["ADAE"])


def test_table1_equals_the_paper(paper: PaperTables) -> None:
    assert paper.table1 == TARGETS["table1_baseline"]


def test_table3_equals_the_paper(paper: PaperTables) -> None:
    assert paper.table3 == TARGETS["table3_exposure"]


def test_table2_equals_the_paper_cell_for_cell(paper: PaperTables) -> None:
    expected = TARGETS["table2_teae"]
    for key in ("all_aes", "pretreatment_serious_aes", "any_row_events", "patients_with_teae", "columns", "rows"):
        assert paper.table2[key] == expected[key], key


def test_text_facts_equal_the_paper(paper: PaperTables) -> None:
    facts, expected = paper.table2["text_facts"], TARGETS["table2_teae"]["text_facts"]
    assert set(facts) == set(expected)
    for key, value in expected.items():
        if key in UNORDERED_FACTS:
            assert sorted(facts[key]) == sorted(value), key
        else:
            assert facts[key] == value, key


def test_counts_in_the_written_adae_xpt(converted_sample: ConversionResult) -> None:
    adae, _ = pyreadstat.read_xport(str(converted_sample.adam_dir / "adae.xpt"))
    teae = adae[adae["TRTEMFL"] == "Y"]
    related = teae["AREL"] == "RELATED"
    assert len(adae) == 29 and len(teae) == 28
    assert (teae["ATOXGRN"] >= 3).sum() == 16
    assert (teae["AESER"] == "Y").sum() == 11
    assert related.sum() == 10
    assert (related & (teae["ATOXGRN"] >= 3)).sum() == 5


def test_tables_from_the_xpt_files_equal_those_from_memory(
    converted_sample: ConversionResult, paper: PaperTables
) -> None:
    """What `cdisc-cup tables OUT` reads back gives the same numbers as the in-memory run."""
    study = load_study()
    frames = {
        name: shape_to_spec(
            pyreadstat.read_xport(str(converted_sample.adam_dir / f"{name.lower()}.xpt"))[0], study.dataset(name)
        )
        for name in ("ADSL", "ADAE")
    }
    # pyreadstat returns DATE9. variables as Python dates; conform makes them datetime64 again
    assert compute_tables(study, frames["ADSL"], frames["ADAE"]) == paper


def test_written_pages_csv_and_figure(converted_sample: ConversionResult) -> None:
    folder = converted_sample.out_dir / "tables"
    names = {p.name for p in folder.iterdir()}
    assert {
        "table1.html",
        "table1.csv",
        "table2.html",
        "table2.csv",
        "table3.html",
        "table3.csv",
        "figure1.png",
        "figure1.svg",
        "index.html",
    } <= names
    page = (folder / "table2.html").read_text(encoding="utf-8")
    assert "Adverse reaction drug profile for isatuximab" in page and "<table>" in page
    assert "Plasma cell myeloma</td><td>2 (11.1)</td><td>2 (11.1)</td><td>1 (5.6)" in page
    assert "http" not in page  # self-contained
    table1 = pd.read_csv(folder / "table1.csv", dtype=str)
    assert table1.loc[table1["row_type"] == "total"].iloc[0, 2] == "18 (100.0)"
    table2 = pd.read_csv(folder / "table2.csv", dtype=str).set_index("term")
    assert table2.loc["Any AE", "any_grade"] == "28"
    assert table2.loc["Urinary tract infection", "related_grade_ge3"] == "1 (5.6)"
    image = matplotlib.image.imread(folder / "figure1.png")
    assert image.shape[0] > 600 and image.shape[1] > 800
    svg = (folder / "figure1.svg").read_text(encoding="utf-8")
    assert svg.count("<svg") == 1 and "12-002" in svg


def test_percent_has_one_decimal() -> None:
    assert n_pct(10, 18) == "10 (55.6)"
    assert n_pct(0, 18) == "0 (0.0)"
    assert n_pct(18, 18) == "18 (100.0)"
