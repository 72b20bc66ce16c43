"""Both versions of the raw export contract convert (FORMAT.md): v1.1 carries the AE
seriousness criteria, v1 does not, and then AE and ADAE are submitted without them and
define.xml says why, instead of submitting six empty columns or failing."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pyreadstat
import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from cdisc_cup.cli import main
from cdisc_cup.define.read import read_define
from tests.exports import ADVERSE_EVENTS, SERIOUSNESS_CRITERIA, without_columns, write_export

CRITERIA = ["AESCONG", "AESDISAB", "AESDTH", "AESHOSP", "AESLIFE", "AESMIE"]


def _convert(export: Path, out: Path) -> Path:
    result = CliRunner().invoke(main, ["convert", str(export), "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    return out / "m5" / "datasets" / "isa-cup-de"


@pytest.fixture(scope="module")
def v1(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("v1")
    export = write_export(folder / "export", adverse_events=without_columns(ADVERSE_EVENTS, *SERIOUSNESS_CRITERIA))
    return _convert(export, folder / "out")


def test_v1_1_submits_every_criterion_of_a_serious_event(tmp_path: Path) -> None:
    study = _convert(write_export(tmp_path / "export"), tmp_path / "out")
    ae, _ = pyreadstat.read_xport(str(study / "tabulations" / "sdtm" / "ae.xpt"))
    assert set(CRITERIA) <= set(ae.columns)
    serious = ae[ae["AESER"] == "Y"]
    assert (serious[CRITERIA] == "Y").any(axis=1).all()
    assert (ae.loc[ae["AESER"] == "N", CRITERIA] == "").all().all()
    adae, _ = pyreadstat.read_xport(str(study / "analysis" / "adam" / "datasets" / "adae.xpt"))
    assert set(CRITERIA) <= set(adae.columns)


def test_v1_submits_ae_without_the_criteria(v1: Path) -> None:
    ae, _ = pyreadstat.read_xport(str(v1 / "tabulations" / "sdtm" / "ae.xpt"))
    adae, _ = pyreadstat.read_xport(str(v1 / "analysis" / "adam" / "datasets" / "adae.xpt"))
    assert not set(CRITERIA) & set(ae.columns)
    assert not set(CRITERIA) & set(adae.columns)
    assert {"AESER", "AEOUT"} <= set(ae.columns)


def test_v1_define_xml_says_why_the_criteria_are_absent(v1: Path) -> None:
    sdtm = read_define(v1 / "tabulations" / "sdtm" / "define.xml")
    adam = read_define(v1 / "analysis" / "adam" / "datasets" / "define.xml")
    assert not set(CRITERIA) & set(sdtm.datasets["AE"].variables)
    ae_text = (v1 / "tabulations" / "sdtm" / "define.xml").read_text(encoding="utf-8")
    assert "AESCONG, AESDISAB, AESDTH, AESHOSP, AESLIFE, AESMIE not submitted" in ae_text
    assert "has no SCONG, SDISAB, SDTH, SHOSP, SLIFE, SMIE" in ae_text
    assert not set(CRITERIA) & set(adam.datasets["ADAE"].variables)
    assert "not submitted in SDTM" in (v1 / "analysis" / "adam" / "datasets" / "define.xml").read_text(encoding="utf-8")


def _text(path: Path) -> str:
    """A guide's words, without markup or line breaks: HTML as shown, or the text of a PDF."""
    if path.suffix == ".pdf":
        return " ".join(" ".join(page.extract_text() for page in PdfReader(str(path)).pages).split())
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", path.read_text(encoding="utf-8"))).split())


def test_v1_reviewers_guides_say_why_the_criteria_are_absent(v1: Path) -> None:
    """Issue #15: the reason define.xml gives is in the cSDRG too (PDF and HTML), and the ADRG's."""
    reason = (
        "AESCONG, AESDISAB, AESDTH, AESHOSP, AESLIFE, AESMIE not submitted: the export (adverse_events.csv) "
        "has no SCONG, SDISAB, SDTH, SHOSP, SLIFE, SMIE (not collected in its format)."
    )
    for guide in ("csdrg.html", "csdrg.pdf"):
        assert reason in _text(v1 / "tabulations" / "sdtm" / guide), guide
    assert "not submitted in SDTM" in _text(v1 / "analysis" / "adam" / "datasets" / "adrg.html")


def test_define_regenerated_from_a_v1_output_keeps_the_reason(v1: Path) -> None:
    out = v1.parents[2]
    documents = [v1 / "tabulations" / "sdtm" / name for name in ("define.xml", "csdrg.pdf", "csdrg.html")]
    documents += [v1 / "analysis" / "adam" / "datasets" / name for name in ("define.xml", "adrg.pdf", "adrg.html")]
    before = [path.read_bytes() for path in documents]
    result = CliRunner().invoke(main, ["define", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    assert [path.read_bytes() for path in documents] == before  # the guides rewritten, word for word
    assert CliRunner().invoke(main, ["tables", str(out), "--quiet"]).exit_code == 0
