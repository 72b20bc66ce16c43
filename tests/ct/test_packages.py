"""Choosing the CDISC CT package (issue #13): several SDTM CT packages in cdisc_cup.ct, real data."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import importlib.util
import io
import json
from pathlib import Path

import pandas as pd
import pytest

from cdisc_cup import ct
from cdisc_cup.ct import Terminology, available_packages, terminology

REPO = Path(__file__).resolve().parents[2]
CUTS = REPO / "tools" / "ct-sources"
OLD, NEW = "2015-12-18", "2025-03-28"
DEFAULT = ("ADaM CT 2025-09-26", "Define-XML CT 2025-09-26", "SDTM CT 2015-12-18")


@pytest.fixture(scope="module")
def old() -> Terminology:
    return terminology(sdtm=OLD)


@pytest.fixture(scope="module")
def new() -> Terminology:
    return terminology(sdtm=NEW)


def _build_ct():
    spec = importlib.util.spec_from_file_location("build_ct", REPO / "tools" / "build_ct.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_available_packages() -> None:
    assert available_packages() == (*DEFAULT[:2], "SDTM CT 2015-12-18", "SDTM CT 2025-03-28")


def test_default_is_the_2015_package_and_the_module_functions_are_its_methods(old: Terminology) -> None:
    default = terminology()
    assert default is old
    assert default.packages == ct.packages() == DEFAULT
    assert ct.load_codelists() is default.codelists
    assert ct.codelist("SEX") is default.codelist("SEX")
    assert ct.codelist_by_code("C66742") is default.codelist_by_code("C66742")
    assert ct.codelist_for_variable("SDTMIG", "DS", "DSDECOD") == default.codelist_for_variable(
        "SDTMIG", "DS", "DSDECOD"
    )


def test_a_package_is_named_by_date_or_by_name(new: Terminology) -> None:
    assert terminology(sdtm="SDTM CT 2025-03-28") is new
    assert terminology(sdtm=NEW, adam="2025-09-26", define_xml="Define-XML CT 2025-09-26") is new
    assert new.packages == ("ADaM CT 2025-09-26", "Define-XML CT 2025-09-26", "SDTM CT 2025-03-28")


@pytest.mark.parametrize(
    "choice",
    [{"sdtm": "2020-03-27"}, {"sdtm": "ADaM CT 2025-09-26"}, {"adam": OLD}, {"define_xml": "2026-03-27"}],
)
def test_unknown_package_lists_the_available_ones(choice: dict[str, str]) -> None:
    with pytest.raises(ValueError, match=r"Unknown .* CT package") as raised:
        terminology(**choice)
    assert all(name in str(raised.value) for name in available_packages())


def test_terminology_is_immutable(new: Terminology) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        new.packages = ()
    with pytest.raises(TypeError):
        new.codelists["SEX"] = new.codelists["NY"]


def test_codelists_carry_their_package(old: Terminology, new: Terminology) -> None:
    assert old.codelist("SEX").source == "SDTM CT 2015-12-18"
    assert new.codelist("SEX").source == "SDTM CT 2025-03-28"
    # ADaM and Define-XML CT are the same choice in both; DICTNAM (C66788) is in SDTM CT too,
    # the Define-XML package's codelist wins in either.
    for chosen in (old, new):
        assert chosen.codelist("DTYPE").source == "ADaM CT 2025-09-26"
        assert chosen.codelist_by_code("C66788").source == "Define-XML CT 2025-09-26"


def test_terms_cdisc_added_after_2015(old: Terminology, new: Terminology) -> None:
    # ACN (C66767): "DOSE RATE REDUCED" C150826; ROUTE (C66729): "INTRAOSSEOUS" C64987.
    for codelist_id, value, code in [("ACN", "DOSE RATE REDUCED", "C150826"), ("ROUTE", "INTRAOSSEOUS", "C64987")]:
        assert old.codelist(codelist_id).term(value) is None
        term = new.codelist(codelist_id).term(value)
        assert term is not None and term.nci_code == code


def test_a_term_cdisc_renamed_keeps_its_code(old: Terminology, new: Terminology) -> None:
    # SEX: C45908 was submitted as UNDIFFERENTIATED in 2015 and is INTERSEX in 2025-03-28.
    assert old.codelist("SEX").values() == {"M", "F", "U", "UNDIFFERENTIATED"}
    assert new.codelist("SEX").values() == {"M", "F", "U", "INTERSEX"}
    assert old.codelist("SEX").term("UNDIFFERENTIATED").nci_code == "C45908"
    assert new.codelist("SEX").term("INTERSEX").nci_code == "C45908"


def test_codelists_the_ig_names_but_2015_predates(old: Terminology, new: Terminology) -> None:
    # SDTMIG 3.4 DS.DSDECOD names NCOMPLT, PROTMLST and OTHEVENT (C150811, after 2015).
    assert [c.id for c in old.codelists_for_variable("SDTMIG", "DS", "DSDECOD")] == ["NCOMPLT", "PROTMLST"]
    assert [c.id for c in new.codelists_for_variable("SDTMIG", "DS", "DSDECOD")] == ["NCOMPLT", "PROTMLST", "OTHEVENT"]
    assert old.codelist_for_variable("SDTMIG", "SV", "SVCNTMOD") is None
    assert new.codelist_for_variable("SDTMIG", "SV", "SVCNTMOD").id == "CNTMODE"


def test_codelists_cdisc_retired_are_not_carried_forward(old: Terminology, new: Terminology) -> None:
    # COUNTRY (C66786, ISO 3166) and TOXGRV4 (C87162) left SDTM CT after 2015.
    assert old.codelist_by_code("C66786") is not None and old.codelist_by_code("C87162") is not None
    assert new.codelist_by_code("C66786") is None and new.codelist_by_code("C87162") is None
    with pytest.raises(KeyError, match=r"Unknown codelist 'COUNTRY' \(CT: .*SDTM CT 2025-03-28\)"):
        new.codelist("COUNTRY")


def test_lookups_by_code_agree_between_packages(old: Terminology, new: Terminology) -> None:
    shared = {c.nci_code for c in old.codelists.values()} & {c.nci_code for c in new.codelists.values()} - {None}
    assert len(shared) > 50
    ids_old = {code: old.codelist_by_code(code).id for code in shared}
    ids_new = {code: new.codelist_by_code(code).id for code in shared}
    assert ids_old == ids_new


def test_variables_find_the_same_codelists_where_both_packages_have_them(old: Terminology, new: Terminology) -> None:
    # The IG links are per IG, not per package.
    links = pd.read_csv(REPO / "cdisc_cup" / "ct" / "data" / "variable_codelists.csv", dtype=str)
    sdtm = links.loc[links["standard"].eq("SDTMIG") & links["dataset"].ne("*")].drop_duplicates(["dataset", "variable"])
    found = {
        (dataset, variable): (
            [c.id for c in old.codelists_for_variable("SDTMIG", dataset, variable) if c.id in new.codelists],
            [c.id for c in new.codelists_for_variable("SDTMIG", dataset, variable) if c.id in old.codelists],
        )
        for dataset, variable in zip(sdtm["dataset"], sdtm["variable"], strict=True)
    }
    assert len(found) > 100
    assert {key: ids for key, ids in found.items() if ids[0] != ids[1]} == {}


def test_newer_cdisc_codelist_of_the_sponsor_file_only_fills_a_gap(old: Terminology, new: Terminology) -> None:
    # specs/ct/sponsor.yaml copies ARMNULRS (C142179) for the 2015 package, which lacks it.
    assert old.codelist("ARMNULRS").source.startswith("newer CDISC CT")
    assert old.codelist_for_variable("SDTMIG", "DM", "ARMNRS").id == "ARMNULRS"
    # 2025-03-28 has it: the package's own wins, with its extensibility and term codes.
    armnulrs = new.codelist("ARMNULRS")
    assert armnulrs.source == "SDTM CT 2025-03-28"
    assert armnulrs.extensible is True and old.codelist("ARMNULRS").extensible is False
    assert armnulrs.term("NOT ASSIGNED").nci_code == "C142239"
    assert new.codelist_for_variable("SDTMIG", "DM", "ARMNRS") is armnulrs


def test_sponsor_defined_codelists_apply_with_every_package(old: Terminology, new: Terminology) -> None:
    assert old.codelist("ECOGGR") == new.codelist("ECOGGR")
    assert new.codelist("ECOGGR").source.startswith("sponsor-defined")
    assert "ECOGGR" not in {c.id for c in new.codelists.values() if c.source in new.packages}


def test_gap_filling_looks_at_the_c_code_too(tmp_path: Path) -> None:
    extra = tmp_path / "study_ct.yaml"
    extra.write_text(
        "codelists:\n"
        # Same C-code as CDISC's SEX under another id: the package has it, so it is left out.
        "  - {id: SEXX, nci_code: C66731, name: Sex, source: newer CDISC CT (copy), terms: [{value: M}]}\n"
        # COUNTRY: in 2015-12-18, retired by 2025-03-28, so it fills the gap there only.
        "  - {id: COUNTRY, nci_code: C66786, name: Country, source: newer CDISC CT (copy), terms: [{value: DEU}]}\n"
        # A sponsor-defined codelist replaces the package's of the same id with either package.
        "  - {id: NY, name: No Yes (study), terms: [{value: N}, {value: Y}]}\n",
        encoding="utf-8",
    )
    with_old, with_new = terminology(extra=extra), terminology(sdtm=NEW, extra=extra)
    for chosen in (with_old, with_new):
        assert "SEXX" not in chosen.codelists
        assert chosen.codelist("NY").values() == {"N", "Y"} and chosen.codelist("NY").source.startswith("sponsor")
    assert with_old.codelist("COUNTRY").source == "SDTM CT 2015-12-18"
    assert with_new.codelist("COUNTRY").values() == {"DEU"}
    assert with_new.codelist_by_code("C66786") is with_new.codelist("COUNTRY")


def test_the_committed_cut_is_what_its_manifest_says() -> None:
    manifest = json.loads((CUTS / "MANIFEST.json").read_text(encoding="utf-8"))
    assert set(manifest) == {"SDTM_CT_2025-03-28.csv.gz"}
    entry = manifest["SDTM_CT_2025-03-28.csv.gz"]
    text = gzip.decompress((CUTS / "SDTM_CT_2025-03-28.csv.gz").read_bytes())
    assert hashlib.sha256(text).hexdigest() == entry["cut_csv_sha256"]
    rows = pd.read_csv(io.BytesIO(text), dtype=str, keep_default_na=False)
    assert len(rows) == entry["cut_csv_rows"]
    codes = rows["Codelist Code"].where(rows["Codelist Code"] != "", rows["Code"])
    assert codes.nunique() == entry["codelists_found"]
    assert set(codes) <= set(entry["codelists_looked_for"])


def test_a_stale_cut_stops_the_build() -> None:
    build_ct = _build_ct()
    looked_for = set(
        json.loads((CUTS / "MANIFEST.json").read_text())["SDTM_CT_2025-03-28.csv.gz"]["codelists_looked_for"]
    )
    build_ct.check_cuts(looked_for)
    with pytest.raises(SystemExit, match=r"SDTM_CT_2025-03-28.csv.gz was cut without C99999"):
        build_ct.check_cuts(looked_for | {"C99999"})
