"""Generate the controlled-terminology subset shipped in `cdisc_cup/ct/data/`.

The package needs CDISC CT at run time (mapping decodes, define.xml C-codes, CT checks on
datasets we did not produce), but the full packages are megabytes of codelists no study of
ours touches. This script keeps the subset reproducible: it reads the CDISC CT exports and
the SDTMIG/ADaMIG variable metadata, and writes

- `codelists.csv`: one row per term of every wanted codelist;
- `variable_codelists.csv`: which codelist(s) each IG variable uses (the IG's own
  "CDISC CT Codelist Code(s)" column), plus "--" generic rows for domains not listed.

Run from the repository root (tests check the committed files are exactly its output):

    python tools/build_ct.py --reference ../shared/reference/cdisc-metadata

Sponsor-defined and newer-than-the-package codelists are not generated here: they live in
`specs/ct/sponsor.yaml` and are merged by `cdisc_cup.ct.terminology` at load time.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "cdisc_cup" / "ct" / "data"

# CT packages, oldest first: a codelist in a later package replaces the same C-code from an
# earlier one (DICTNAM C66788 is in both the SDTM and the Define-XML package).
PACKAGES: tuple[tuple[str, str], ...] = (
    ("SDTM_CT_2015-12-18.csv", "SDTM CT 2015-12-18"),
    ("ADaM_CT_2025-09-26.csv", "ADaM CT 2025-09-26"),
    ("Define-XML_CT_2025-09-26.csv", "Define-XML CT 2025-09-26"),
)

# SDTMIG 3.4 domains whose variables' codelists we ship. The CUP produces DM, EX, AE, DS,
# VS, MH, RS, SC and SUPP-- datasets; cdiscpilot01 (validated as a reference study) adds CM,
# SE, SV and the trial design datasets TA, TE, TS, TV; TI comes with the trial design set.
SDTM_DOMAINS: tuple[str, ...] = (
    "DM",
    "EX",
    "AE",
    "DS",
    "VS",
    "MH",
    "RS",
    "SC",
    "SUPPQUAL",
    "CM",
    "SE",
    "SV",
    "TA",
    "TE",
    "TI",
    "TS",
    "TV",
)

# ADaMIG 1.3 structures whose codelists we ship; the key is the dataset column written to
# variable_codelists.csv ("*" = any ADaM dataset: BDS and OCCDS share the timing variables).
ADAM_STRUCTURES: dict[str, str] = {
    "Subject-Level Analysis Dataset": "ADSL",
    "Basic Data Structure": "*",
}

# Codelists wanted although no IG variable row names them, with the reason.
EXTRA_CODELISTS: dict[str, str] = {
    "C66786": "COUNTRY: DM.COUNTRY (SDTMIG 3.4 names ISO 3166-1 alpha-3, published as CDISC CT)",
    "C87162": "TOXGRV4: AE.AETOXGR when CTCAE v4.0 grades are reported (no IG codelist link)",
    "C101815": "ECOG1TC: RS.RSTESTCD of the ECOG performance status (SDTMIG 3.4 RS domain)",
    "C101816": "ECOG1TN: RS.RSTEST of the ECOG performance status",
    "C81225": "PARAMTYP: ADaM BDS PARAMTYP (derived parameters)",
    "C165635": "BDSSC: define.xml def:Class/SubClass of ADaM BDS datasets",
    "C176227": "OCCSC: define.xml def:SubClass of ADaM OCCDS datasets",
    "C117745": "ANLPURP: define.xml analysis purpose",
    "C117744": "ANLREAS: define.xml analysis reason",
    "C172331": "CTSTDTYP: define.xml def:Standard type of CT",
    "C66788": "DICTNAM: define.xml dictionary names (MedDRA) and TS.TSVCDREF",
    "C103329": "GNRLOBSC: define.xml def:Class of SDTM datasets",
    "C170448": "ODMCNTX: define.xml ODM context",
    "C170450": "ORIGINS: define.xml def:Origin/@Source",
    "C170449": "ORIGINT: define.xml def:Origin/@Type",
    "C160924": "SDTMIGRS: SDTMIG versions (TS.TSVAL for SDTMIGVER)",
    "C170452": "STDNAM: define.xml def:Standard/@Name",
    "C172332": "STDSTAT: define.xml def:Standard/@Status",
    "C170451": "STDTYP: define.xml def:Standard/@Type",
}

# Later CT packages gave the questionnaire/clinical-classification codelists short
# submission values; the C-codes did not change, so we ship the current ids.
RENAMED_IDS: dict[str, str] = {
    "C101815": "ECOG1TC",  # "ECOG TESTCD" in the 2015-12-18 package
    "C101816": "ECOG1TN",  # "ECOG TEST" in the 2015-12-18 package
}

CODELIST_COLUMNS = [
    "codelist_id",
    "codelist_nci_code",
    "codelist_name",
    "extensible",
    "value",
    "term_nci_code",
    "decode",
    "source",
]
MAPPING_COLUMNS = ["standard", "dataset", "variable", "codelist_nci_code", "codelist_id"]


def read_package(path: Path, source: str) -> pd.DataFrame:
    """One row per term, with the codelist's id, name and extensibility joined on."""
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    is_codelist = raw["Codelist Code"] == ""
    heads = raw.loc[is_codelist].rename(
        columns={
            "Code": "codelist_nci_code",
            "CDISC Submission Value": "codelist_id",
            "Codelist Name": "codelist_name",
            "Codelist Extensible (Yes/No)": "extensible",
        }
    )[["codelist_nci_code", "codelist_id", "codelist_name", "extensible"]]
    heads["extensible"] = heads["extensible"].str[0].str.upper()
    terms = raw.loc[~is_codelist].rename(
        columns={
            "Codelist Code": "codelist_nci_code",
            "CDISC Submission Value": "value",
            "Code": "term_nci_code",
            "NCI Preferred Term": "decode",
        }
    )[["codelist_nci_code", "value", "term_nci_code", "decode"]]
    merged = terms.merge(heads, on="codelist_nci_code", how="inner", validate="many_to_one")
    merged["source"] = source
    return merged[CODELIST_COLUMNS]


def read_sdtm_variables(reference: Path) -> pd.DataFrame:
    """Every SDTMIG 3.4 variable with its codelist code(s), "" when it has none."""
    ig = pd.read_csv(reference / "sdtmig-3-4-Variables.csv", dtype=str, keep_default_na=False)
    return ig.rename(
        columns={
            "Dataset Name": "dataset",
            "Variable Name": "variable",
            "CDISC CT Codelist Code(s)": "codes",
        }
    )[["dataset", "variable", "codes"]]


def sdtm_links(variables: pd.DataFrame) -> pd.DataFrame:
    """(dataset, variable, codelist code) rows of the wanted SDTMIG 3.4 domains."""
    wanted = variables.loc[variables["dataset"].isin(SDTM_DOMAINS)]
    return _explode_codes(wanted, "codes").assign(standard="SDTMIG")


def read_adam_links(reference: Path) -> pd.DataFrame:
    """(dataset, variable, codelist code) rows of ADSL and the BDS/OCCDS timing variables."""
    ig = pd.read_csv(reference / "adamig-1-3-Variables.csv", dtype=str, keep_default_na=False)
    ig = ig.loc[ig["Data Structure Name"].isin(ADAM_STRUCTURES)]
    links = ig.assign(dataset=ig["Data Structure Name"].map(ADAM_STRUCTURES))
    links = links.rename(columns={"Variable Name": "variable"})
    links = _explode_codes(links, "CDISC CT Codelist Code(s)")
    links["standard"] = "ADaMIG"
    return links


def _explode_codes(ig: pd.DataFrame, column: str) -> pd.DataFrame:
    """Split "C66727; C114118" into one row per code, keeping the IG's order."""
    codes = ig[column].str.split(";").explode().str.strip()
    out = ig[["dataset", "variable"]].loc[codes.index].assign(codelist_nci_code=codes.to_numpy())
    return out.loc[out["codelist_nci_code"] != ""].reset_index(drop=True)


def generic_links(variables: pd.DataFrame, shipped: set[str]) -> pd.DataFrame:
    """Generic rows (dataset "*", "--XXX") for suffixes meaning one codelist in every domain.

    SDTMIG 3.4 section 2.1 defines variables generically (--OCCUR, --STAT ...): a domain we
    do not list (e.g. LB) still uses NY for --OCCUR. A suffix qualifies when at least two
    domains use it and all of them name the same codelist(s); --TESTCD (one codelist per
    domain) and --DECOD (MedDRA in AE, NCOMPLT in DS) do not. Only codelists we already ship.
    """
    domain_prefixed = variables["dataset"].str.len().eq(2) & variables["variable"].str[:2].eq(variables["dataset"])
    generic = variables.loc[domain_prefixed].assign(variable="--" + variables["variable"].str[2:])
    per_suffix = generic.groupby("variable")["codes"].agg(["nunique", "size", "first"])
    qualifies = per_suffix["nunique"].eq(1) & per_suffix["size"].ge(2) & per_suffix["first"].ne("")
    chosen = per_suffix.loc[qualifies, ["first"]].rename(columns={"first": "codes"})
    links = _explode_codes(chosen.reset_index().assign(dataset="*"), "codes")
    return links.loc[links["codelist_nci_code"].isin(shipped)].assign(standard="SDTMIG")


def build(reference: Path) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """The two tables, plus the codelist codes the IGs name that no package holds."""
    terms = pd.concat(
        [read_package(reference / file, source) for file, source in PACKAGES],
        ignore_index=True,
    )
    # A later package replaces the whole codelist, not term by term.
    latest_source = terms.groupby("codelist_nci_code")["source"].last()
    terms = terms.loc[terms["source"].eq(terms["codelist_nci_code"].map(latest_source))]

    variables = read_sdtm_variables(reference)
    links = pd.concat([sdtm_links(variables), read_adam_links(reference)], ignore_index=True)
    wanted = set(links["codelist_nci_code"]) | set(EXTRA_CODELISTS)
    links = pd.concat([links, generic_links(variables, wanted)], ignore_index=True)
    available = set(terms["codelist_nci_code"])
    missing = sorted(wanted - available)

    codelists = terms.loc[terms["codelist_nci_code"].isin(wanted)].copy()
    renamed = codelists["codelist_nci_code"].map(RENAMED_IDS)
    codelists["codelist_id"] = renamed.fillna(codelists["codelist_id"])
    codelists = codelists.sort_values(["codelist_id", "value"], kind="stable")
    duplicate_ids = codelists.groupby("codelist_id")["codelist_nci_code"].nunique().gt(1)
    if duplicate_ids.any():
        raise SystemExit(f"codelist ids used twice: {sorted(duplicate_ids[duplicate_ids].index)}")

    ids = codelists.drop_duplicates("codelist_nci_code").set_index("codelist_nci_code")
    links["codelist_id"] = links["codelist_nci_code"].map(ids["codelist_id"]).fillna("")
    links = links[MAPPING_COLUMNS].drop_duplicates().reset_index(drop=True)
    return codelists[CODELIST_COLUMNS].reset_index(drop=True), links, missing


def write(codelists: pd.DataFrame, links: pd.DataFrame, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    codelists.to_csv(out / "codelists.csv", index=False, lineterminator="\n")
    links.to_csv(out / "variable_codelists.csv", index=False, lineterminator="\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--reference",
        type=Path,
        default=REPO.parent / "shared" / "reference" / "cdisc-metadata",
        help="folder with the CDISC CT CSVs and the SDTMIG/ADaMIG variable metadata",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    args = parser.parse_args(argv)
    codelists, links, missing = build(args.reference)
    write(codelists, links, args.out)
    n_lists = codelists["codelist_nci_code"].nunique()
    print(f"{n_lists} codelists, {len(codelists)} terms, {len(links)} variable links -> {args.out}")
    if missing:
        # Expected: codelists newer than the 2015 SDTM package. Sponsor.yaml fills the ones
        # the project uses; the rest stay unchecked (codelist_for_variable returns None).
        print("not in any package (see specs/ct/sponsor.yaml): " + ", ".join(missing))
    return 0


if __name__ == "__main__":
    sys.exit(main())
