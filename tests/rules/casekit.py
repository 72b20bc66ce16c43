"""Build small studies from YAML for rule tests: a valid base study plus a few edits.

A case file `cases/<RULE_ID>.yaml` has a `fail` and a `pass` scenario. Each starts from a
base study (`base: sdtm | adam | both`, from `cases/_base_*.yaml`) and applies edits:

    set:     [{dataset: AE, row: 1, variable: AEENDTC, value: "2020-01-01"}]   (row 1-based; row: all)
    remove:  [{dataset: DS, row: 2}]                                           records removed
    truncate: [SUPPAE]                                                         dataset without records
    rename:  {SUPPAE: SUPP_AE, AE.AETERM: AETERMLONG}
    add:     [{dataset: AE, copy_row: 1, values: {AESEQ: 1}}]                  appended record
    drop:    [AE.AEENDTC, SUPPAE]                                              variable or dataset
    labels:  {AE: "a dataset label", AE.AETERM: "a variable label"}
    lengths: {AE.AETERM: 200}
    define:  {drop: [AE.AETERM], extra: [AE.AENEW], labels: {AE: "..."}, lengths: {AE.AETERM: 10},
              orders: {AE.AETERM: 4}, types: {AE.AESEQ: text}, hrefs: {AE: ae1.xpt},  (OrderNumber, DataType, def:leaf)
              codelists: {DM.SEX: {values: [M, F], nci: C66731}},               (a CodeList; no nci: the sponsor's)
              keys: {AE: [STUDYID, USUBJID, AEDECOD, AESTDTC]},                 (ItemRef KeySequence)
              documents: {LF.acrf: acrf.pdf}, pdfs: {acrf.pdf: 3},              (document leaves; PDFs written)
              origins: {AE.AETERM: {leaf: LF.acrf, pages: "2 5"}},              (def:Origin Collected, Investigator;
                                                                                 no leaf: no def:DocumentRef)
              arm: {AE: [AETERM, AENONE]}}                                      (arm:AnalysisDataset and -Variables)
    unreadable: {xx.xpt: "reason"}
    standard: sdtm | adam
    expect:  [{dataset: AE, variable: AEENDTC, row: 1}]                        (fail only)

ADaM variables ending in DT may be written as ISO dates; they become SAS date numbers.
Each dataset is given the path of its file in the case's folder (`ae.xpt`, not written), which
define.xml's def:leaf names.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd
import pyreadstat
import yaml
from pypdf import PdfWriter

from cdisc_cup.define.model import DefineModel
from cdisc_cup.define.read import read_define
from cdisc_cup.define.references import LinkedDocument, linked_documents
from cdisc_cup.rules.engine import RuleResults, validate_datasets
from cdisc_cup.rules.igmeta import ig_variables
from cdisc_cup.xpt.model import Dataset, XptVariable

CASES = Path(__file__).parent / "cases"
SAS_EPOCH = pd.Timestamp("1960-01-01")


@cache
def base_document(name: str) -> dict[str, Any]:
    if name == "both":
        both = copy.deepcopy(base_document("sdtm"))
        both["datasets"].update(copy.deepcopy(base_document("adam"))["datasets"])
        return both
    return yaml.safe_load((CASES / f"_base_{name}.yaml").read_text(encoding="utf-8"))


def _frame(name: str, records: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame(records)
    for column in frame.columns:
        values = frame[column]
        numeric = values.dropna().map(lambda v: isinstance(v, int | float) and not isinstance(v, bool))
        if name.startswith("AD") and column.endswith("DT"):
            dates = pd.to_datetime(values, errors="coerce")
            frame[column] = (dates - SAS_EPOCH).dt.days.astype("float64")
        elif len(numeric) and numeric.all():
            frame[column] = pd.to_numeric(values).astype("float64")
        else:
            frame[column] = values.fillna("").astype(str)
    return frame


def _label(name: str, variable: str) -> str:
    table = ig_variables()
    found = table.loc[table["variable"] == variable, "label"]
    return found.iloc[0] if len(found) else variable.title()


@dataclass
class Scenario:
    datasets: dict[str, Dataset]
    define: DefineModel | None
    unreadable: dict[str, str]
    standard: str | None
    expect: list[dict[str, Any]]
    documents: dict[str, LinkedDocument] | None = None  # the files define.xml links to, as on disk


def _view(name: str, spec: dict[str, Any]) -> Dataset:
    frame = _frame(name, spec["records"])
    variables = []
    for column in frame.columns:
        is_num = pd.api.types.is_numeric_dtype(frame[column])
        length = 8 if is_num else max(1, int(frame[column].str.len().max() or 0))
        variables.append(XptVariable(column, _label(name, column), "Num" if is_num else "Char", length))
    return Dataset(name, spec["label"], frame, tuple(variables))


def _replace_meta(view: Dataset, variable: str, **changes: Any) -> Dataset:
    metas = tuple(XptVariable(**{**vars(m), **changes}) if m.name == variable else m for m in view.variables)
    return Dataset(view.name, view.label, view.frame, metas, view.path)


def _codelist_xml(oid: str, codelist: dict[str, Any]) -> str:
    items = "".join(f'<CodeListItem CodedValue="{value}"/>' for value in codelist["values"])
    alias = f'<Alias Context="nci:ExtCodeID" Name="{codelist["nci"]}"/>' if codelist.get("nci") else ""
    return f'<CodeList OID="{oid}" Name="{oid}" DataType="text">{items}{alias}</CodeList>'


def _origin_xml(origin: dict[str, Any] | None) -> str:
    """A collected origin whose source is the investigator, with its aCRF pages when it names a leaf."""
    if origin is None:
        return ""
    reference = (
        f'<def:DocumentRef leafID="{origin["leaf"]}"><def:PDFPageRef PageRefs="{origin.get("pages", "1")}" '
        'Type="PhysicalRef"/></def:DocumentRef>'
        if origin.get("leaf")
        else ""
    )
    return f'<def:Origin Type="Collected" Source="Investigator">{reference}</def:Origin>'


def _arm_xml(arm: dict[str, list[str]]) -> str:
    """Analysis Results Metadata naming a dataset's variables (by their OIDs IT.<dataset>.<variable>)."""
    if not arm:
        return ""
    datasets = "".join(
        f'<arm:AnalysisDataset ItemGroupOID="IG.{name}">'
        + "".join(f'<arm:AnalysisVariable ItemOID="IT.{name}.{variable}"/>' for variable in variables)
        + "</arm:AnalysisDataset>"
        for name, variables in arm.items()
    )
    return (
        '<arm:AnalysisResultDisplays><arm:ResultDisplay OID="RD.1" Name="T1"><arm:AnalysisResult OID="AR.1">'
        f"<arm:AnalysisDatasets>{datasets}</arm:AnalysisDatasets>"
        "</arm:AnalysisResult></arm:ResultDisplay></arm:AnalysisResultDisplays>"
    )


def _write_pdfs(folder: Path, pdfs: dict[str, int]) -> None:
    """Blank PDFs of so many pages (pypdf), as the documents define.xml links to."""
    for name, pages in pdfs.items():
        writer = PdfWriter()
        for _ in range(pages):
            writer.add_blank_page(width=595, height=842)
        with (folder / name).open("wb") as file:
            writer.write(file)


def _define_xml(datasets: dict[str, Dataset], edits: dict[str, Any]) -> str:
    drop = set(edits.get("drop", []))
    labels = edits.get("labels", {})
    lengths = edits.get("lengths", {})
    orders = edits.get("orders", {})
    types = edits.get("types", {})
    hrefs = edits.get("hrefs", {})
    codelists = edits.get("codelists", {})
    keys = edits.get("keys", {})
    origins = edits.get("origins", {})
    groups, items = [], []
    for name, view in datasets.items():
        if name in drop:
            continue
        refs = []
        for position, meta in enumerate(view.variables, start=1):
            key = f"{name}.{meta.name}"
            if key in drop:
                continue
            sequence = keys.get(name, []).index(meta.name) + 1 if meta.name in keys.get(name, []) else None
            key_sequence = f' KeySequence="{sequence}"' if sequence else ""
            refs.append(
                f'<ItemRef ItemOID="IT.{key}" OrderNumber="{orders.get(key, position)}"{key_sequence} Mandatory="No"/>'
            )
            data_type = types.get(key, "float" if meta.type == "Num" else "text")
            codelist = f'<CodeListRef CodeListOID="CL.{key}"/>' if key in codelists else ""
            items.append(
                f'<ItemDef OID="IT.{key}" Name="{meta.name}" DataType="{data_type}" '
                f'Length="{lengths.get(key, meta.length)}"><Description><TranslatedText xml:lang="en">'
                f"{labels.get(key, meta.label)}</TranslatedText></Description>{codelist}"
                f"{_origin_xml(origins.get(key))}</ItemDef>"
            )
        for key in [k for k in edits.get("extra", []) if k.startswith(f"{name}.")]:
            refs.append(f'<ItemRef ItemOID="IT.{key}" Mandatory="No"/>')
            items.append(f'<ItemDef OID="IT.{key}" Name="{key.split(".")[1]}" DataType="text" Length="1"/>')
        href = hrefs.get(name, f"{name.lower()}.xpt")
        leaf = f'<def:leaf ID="LF.{name}" xlink:href="{href}"><def:title>{href}</def:title></def:leaf>' if href else ""
        groups.append(
            f'<ItemGroupDef OID="IG.{name}" Name="{name}" Repeating="Yes" Purpose="Tabulation">'
            f'<Description><TranslatedText xml:lang="en">{labels.get(name, view.label)}</TranslatedText></Description>'
            + "".join(refs)
            + leaf
            + "</ItemGroupDef>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<ODM xmlns="http://www.cdisc.org/ns/odm/v1.3" '
        'xmlns:def="http://www.cdisc.org/ns/def/v2.1" xmlns:xlink="http://www.w3.org/1999/xlink" '
        'xmlns:arm="http://www.cdisc.org/ns/arm/v1.0" '
        'ODMVersion="1.3.2" FileType="Snapshot" FileOID="F">'
        '<Study OID="S"><MetaDataVersion OID="MDV" Name="MDV" def:DefineVersion="2.1.0">'
        + "".join(groups)
        + "".join(items)
        + "".join(_codelist_xml(f"CL.{key}", codelist) for key, codelist in codelists.items())
        + "".join(
            f'<def:leaf ID="{leaf}" xlink:href="{href}"><def:title>{href}</def:title></def:leaf>'
            for leaf, href in edits.get("documents", {}).items()
        )
        + _arm_xml(edits.get("arm", {}))
        + "</MetaDataVersion></Study></ODM>\n"
    )


def build(scenario: dict[str, Any], folder: Path) -> Scenario:
    document = copy.deepcopy(base_document(scenario.get("base", "sdtm")))
    specs = document["datasets"]
    for name in [d for d in scenario.get("drop", []) if "." not in d]:
        specs.pop(name)
    for edit in scenario.get("add", []):
        records = specs[edit["dataset"]]["records"]
        records.append({**records[edit.get("copy_row", 1) - 1], **edit.get("values", {})})
    for edit in sorted(scenario.get("remove", []), key=lambda e: -e["row"]):
        specs[edit["dataset"]]["records"].pop(edit["row"] - 1)
    for edit in scenario.get("set", []):
        records = specs[edit["dataset"]]["records"]
        targets = records if edit["row"] == "all" else [records[edit["row"] - 1]]
        for record in targets:
            record[edit["variable"]] = edit["value"]
    datasets = {name: _view(name, spec) for name, spec in specs.items()}
    for key in [d for d in scenario.get("drop", []) if "." in d]:
        name, variable = key.split(".")
        view = datasets[name]
        datasets[name] = Dataset(
            name, view.label, view.frame.drop(columns=variable), tuple(m for m in view.variables if m.name != variable)
        )
    for name in scenario.get("truncate", []):
        view = datasets[name]
        datasets[name] = Dataset(name, view.label, view.frame.iloc[0:0], view.variables)
    for old, new in scenario.get("rename", {}).items():
        if "." in old:
            name, variable = old.split(".")
            view = _replace_meta(datasets[name], variable, name=new)
            datasets[name] = Dataset(name, view.label, view.frame.rename(columns={variable: new}), view.variables)
        else:
            view = datasets.pop(old)
            datasets[new] = Dataset(new, view.label, view.frame, view.variables)
    for key, label in scenario.get("labels", {}).items():
        if "." in key:
            name, variable = key.split(".")
            datasets[name] = _replace_meta(datasets[name], variable, label=label)
        else:
            view = datasets[key]
            datasets[key] = Dataset(key, label, view.frame, view.variables, view.path)
    for key, length in scenario.get("lengths", {}).items():
        name, variable = key.split(".")
        datasets[name] = _replace_meta(datasets[name], variable, length=length)
    datasets = {name: replace(view, path=folder / f"{name.lower()}.xpt") for name, view in datasets.items()}
    define = None
    documents = None
    if "define" in scenario:
        define_path = folder / "define.xml"
        edits = scenario["define"] or {}
        define_path.write_text(_define_xml(datasets, edits), encoding="utf-8")
        _write_pdfs(folder, edits.get("pdfs", {}))
        define = read_define(define_path)
        documents = linked_documents(define)
    return Scenario(
        datasets,
        define,
        scenario.get("unreadable", {}),
        scenario.get("standard"),
        scenario.get("expect", []),
        documents,
    )


def run(scenario: Scenario) -> RuleResults:
    return validate_datasets(
        scenario.datasets,
        standard=scenario.standard,
        define=scenario.define,
        unreadable=scenario.unreadable,
        documents=scenario.documents,
    )


def case_files() -> list[Path]:
    return sorted(p for p in CASES.glob("*.yaml") if not p.name.startswith("_"))


def write_study(scenario: dict[str, Any], folder: Path) -> Path:
    """The case's study as real XPT files (pyreadstat: a writer we did not write), with the
    case's define.xml beside them when it has one."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, view in build(scenario, folder).datasets.items():
        pyreadstat.write_xport(
            view.frame,
            str(folder / f"{name.lower()}.xpt"),
            table_name=name,
            file_label=view.label,
            column_labels=[v.label for v in view.variables],
            file_format_version=5,
        )
    return folder
