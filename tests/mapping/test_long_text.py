"""Text over 200 characters (SDTMIG 3.4 section 4.5.3.2): the first part stays in its variable,
the rest goes to SUPP-- records AETERM1, AETERM2, ... split between words, and define.xml
describes the QNAMs the data have: a real conversion of a small export (the checks of the spec
keys `continued_in` and `continues` are in tests/spec/test_loader.py)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyreadstat
import pytest
from lxml import etree

from cdisc_cup.define.validate import validate_define
from cdisc_cup.derivations.text import ascii_text, split_between_words
from cdisc_cup.errors import InputErrors
from cdisc_cup.pipeline import ConversionResult, convert
from cdisc_cup.spec.model import continuation_qnam
from tests.exports import ADVERSE_EVENTS, PATIENTS, write_export

NS = {"odm": "http://www.cdisc.org/ns/odm/v1.3", "def": "http://www.cdisc.org/ns/def/v2.1"}

# A verbatim of about 450 characters, with German letters that the pipeline writes as ASCII
# (ü -> ue, ß -> ss, „“ -> ""), so its parts are measured after that normalisation.
VERBATIM = (
    "Übelkeit mit Erbrechen nach der zweiten Gabe; Pat. berichtet über zunehmende Beschwerden seit "
    "ca. 2 Wochen, ambulant vorgestellt; Labor: CRP 48 mg/l, Leukozyten 2,1 G/l; Rücksprache mit "
    "Oberärztin Dr. Weiß, Therapie „nach Maßgabe“ fortgeführt, Kontrolle in 1 Woche geplant; "
    "Antiemese mit Ondansetron 8 mg bei Bedarf, darunter rasche Besserung, keine weitere Episode, "
    "Flüssigkeitszufuhr oral ausreichend, kein stationärer Aufenthalt nötig, Gewicht stabil"
)
SUBTYPE = "IgG kappa, " + "mit zusätzlicher Leichtkettenbeteiligung und extramedullärem Befall " * 3


def _export(folder: Path) -> Path:
    adverse_events = [line.replace("Übelkeit", f'"{VERBATIM}"') for line in ADVERSE_EVENTS]  # it has ";"
    patients = [line.replace("IgG kappa", SUBTYPE.strip()) for line in PATIENTS]
    return write_export(folder, adverse_events=adverse_events, patients=patients)


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> ConversionResult:
    folder = tmp_path_factory.mktemp("long-text")
    return convert(_export(folder / "export"), folder / "out")


def _normalised(text: str) -> str:
    return str(ascii_text(pd.Series([text]))[0])


def _continuations(supp: pd.DataFrame, name: str) -> pd.DataFrame:
    qnams = [continuation_qnam(name, n) for n in range(1, 10)]
    return supp[supp["QNAM"].isin(qnams)].sort_values("QNAM")


def test_the_verbatim_is_split_between_words_into_suppae(converted: ConversionResult) -> None:
    ae, suppae = converted.sdtm["AE"], converted.sdtm["SUPPAE"]
    full = _normalised(VERBATIM)
    assert len(full) > 400 and full.isascii()
    (aeterm,) = ae.loc[ae["AETERM"].str.startswith("Uebelkeit mit"), "AETERM"]
    assert len(aeterm) <= 200 and full.startswith(aeterm) and full[len(aeterm)] == " "  # ends with a word
    parts = _continuations(suppae, "AETERM")
    assert parts["QNAM"].tolist() == ["AETERM1", "AETERM2"]
    assert (parts["QVAL"].str.len() <= 200).all() and not parts["QVAL"].str.match(r"\s|.*\s$").any()
    assert " ".join([aeterm, *parts["QVAL"]]) == full
    # QLABEL is "the original domain variable label"; each part points at its parent record.
    assert set(parts["QLABEL"]) == {"Reported Term for the Adverse Event"}
    parent = ae[ae["AETERM"] == aeterm]
    assert set(parts["IDVARVAL"]) == {str(int(parent["AESEQ"].iloc[0]))}
    assert set(parts["USUBJID"]) == set(parent["USUBJID"]) and set(parts["IDVAR"]) == {"AESEQ"}


def test_a_qualifier_over_200_characters_continues_in_its_own_supp(converted: ConversionResult) -> None:
    suppmh = converted.sdtm["SUPPMH"]
    full = _normalised(SUBTYPE.strip())
    (first,) = suppmh.loc[suppmh["QVAL"].str.startswith("IgG kappa, mit"), "QVAL"]
    parts = _continuations(suppmh, "MMSUBTYP")
    assert parts["QNAM"].tolist() == ["MMSUBTY1"]  # an 8-character QNAM: its last character becomes the digit
    assert set(parts["QLABEL"]) == {"Multiple Myeloma Subtype"}
    assert " ".join([first, *parts["QVAL"]]) == full and len(first) <= 200


def test_every_raw_record_is_mapped_and_the_rules_find_no_error(converted: ConversionResult) -> None:
    assert (converted.reconciliation["rows_not_mapped"] == 0).all()
    findings = converted.findings
    assert findings is not None
    errors = findings[findings["severity"] == "Error"]
    assert errors[["rule_id", "dataset", "variable", "value"]].to_dict("records") == []
    # The audit trail takes each continuation record back to the AE form line of its verbatim.
    trace = pd.read_csv(converted.layout.reports / "audit" / "trace.csv")
    suppae = trace[trace["dataset"] == "SUPPAE"]
    ae = trace.loc[trace["dataset"] == "AE", ["usubjid", "raw_file", "raw_line"]]
    assert len(suppae.merge(ae, on=["usubjid", "raw_file", "raw_line"])) == len(suppae)
    # ADAE's AETERM is AE's, the first part.
    assert converted.adam["ADAE"]["AETERM"].str.len().max() <= 200


def test_the_xpt_files_hold_the_parts(converted: ConversionResult) -> None:
    folder = converted.layout.sdtm
    suppae, _ = pyreadstat.read_xport(str(folder / "suppae.xpt"))
    ae, _ = pyreadstat.read_xport(str(folder / "ae.xpt"))
    (aeterm,) = ae.loc[ae["AETERM"].str.startswith("Uebelkeit mit"), "AETERM"]
    parts = _continuations(suppae, "AETERM")["QVAL"].tolist()
    assert " ".join([aeterm, *parts]) == _normalised(VERBATIM)


def test_define_xml_describes_the_continuation_qnams(converted: ConversionResult) -> None:
    define = converted.layout.sdtm / "define.xml"
    assert validate_define(define) == []
    root = etree.parse(str(define)).getroot()
    refs = root.xpath("//def:ValueListDef[@OID='VL.SUPPAE.QVAL']/odm:ItemRef/@ItemOID", namespaces=NS)
    assert refs[-2:] == ["IT.SUPPAE.QVAL.AETERM1", "IT.SUPPAE.QVAL.AETERM2"]
    (item,) = root.xpath("//odm:ItemDef[@OID='IT.SUPPAE.QVAL.AETERM1']", namespaces=NS)
    assert item.get("Name") == "AETERM1" and item.get("DataType") == "text"
    comment_oid = item.get(f"{{{NS['def']}}}CommentOID")
    (comment,) = root.xpath(f"//def:CommentDef[@OID='{comment_oid}']//odm:TranslatedText/text()", namespaces=NS)
    assert "SDTMIG 3.4 section 4.5.3.2" in comment and "AE.AETERM" in comment
    # Collected: it points at the aCRF page of the verbatim field, as AE.AETERM does.
    (aeterm,) = root.xpath("//odm:ItemDef[@OID='IT.AE.AETERM']", namespaces=NS)
    page = "def:Origin/def:DocumentRef/def:PDFPageRef/@PageRefs"
    assert item.xpath(page, namespaces=NS) == aeterm.xpath(page, namespaces=NS) != []
    clause = root.xpath("//def:WhereClauseDef[@OID='WC.SUPPAE.QNAM.AETERM2']//odm:CheckValue/text()", namespaces=NS)
    assert clause == ["AETERM2"]
    # Only QNAMs the data have: no AETERM3, and SUPPMH's MMSUBTY1.
    assert not root.xpath("//odm:ItemDef[@OID='IT.SUPPAE.QVAL.AETERM3']", namespaces=NS)
    assert root.xpath("//odm:ItemDef[@OID='IT.SUPPMH.QVAL.MMSUBTY1']", namespaces=NS)


def test_text_that_needs_more_than_nine_continuations_is_an_input_error(tmp_path: Path) -> None:
    words = " ".join(["Verlauf"] * 300)  # 2,399 characters: ten parts of 200 are not enough
    export = write_export(tmp_path / "export", adverse_events=[line.replace("Sturz", words) for line in ADVERSE_EVENTS])
    with pytest.raises(InputErrors) as raised:
        convert(export, tmp_path / "out")
    (problem,) = raised.value.problems
    assert problem.line == 2 and "AETERM1 to AETERM9" in problem.message


def test_split_between_words() -> None:
    values = pd.Series(["kurz", None, "ab cd ef gh", "x" * 12, "abcdefghij   "], dtype="string")
    parts = [part.tolist() for part in split_between_words(values, 5, 10)]
    assert parts == [
        ["kurz", pd.NA, "ab cd", "xxxxx", "abcdefghij"[:5]],
        [pd.NA, pd.NA, "ef gh", "xxxxx", "fghij"],
        [pd.NA, pd.NA, pd.NA, "xx", pd.NA],
    ]
    # After the last part allowed, the rest stays whole for the caller to refuse.
    assert split_between_words(values, 5, 2)[1].tolist() == [pd.NA, pd.NA, "ef gh", "xxxxxxx", "fghij"]
