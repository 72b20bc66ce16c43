"""R (haven for labels, foreign for lengths) sees what define.xml says about ae.xpt (issue #8)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from lxml import etree

from cdisc_cup.pipeline import ConversionResult

SCRIPT = Path(__file__).resolve().parent / "r" / "labels_lengths.R"
NS = {"odm": "http://www.cdisc.org/ns/odm/v1.3", "def": "http://www.cdisc.org/ns/def/v2.1"}


def define_items(define: Path, dataset: str) -> dict[str, tuple[str, str | None]]:
    """Variable -> (label, Length) of one dataset in define.xml, in ItemRef order."""
    root = etree.parse(str(define), etree.XMLParser(resolve_entities=False, no_network=True)).getroot()
    group = root.find(f".//odm:ItemGroupDef[@Name='{dataset}']", NS)
    items = {}
    for ref in group.iterfind("odm:ItemRef", NS):
        item = root.find(f".//odm:ItemDef[@OID='{ref.get('ItemOID')}']", NS)
        label = item.find("odm:Description/odm:TranslatedText", NS).text
        items[item.get("Name")] = (label, item.get("Length"))
    return items


def test_haven_and_foreign_agree_with_define(converted_sample: ConversionResult) -> None:
    assert shutil.which("Rscript"), "R is needed for this test: run bash .ci/install-r.sh"
    xpt = converted_sample.sdtm_dir / "ae.xpt"
    run = subprocess.run(["Rscript", str(SCRIPT), str(xpt)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    seen = json.loads(run.stdout)
    expected = define_items(converted_sample.defines["SDTM"], "AE")
    assert seen["names"] == list(expected)
    assert dict(zip(seen["names"], seen["labels"], strict=True)) == {
        name: label for name, (label, _) in expected.items()
    }
    written = converted_sample.lengths["AE"]
    for name, (_, length) in expected.items():
        if seen["types"][name] != "character":
            assert seen["widths"][name] == 8, name
        elif length is not None:
            assert str(seen["widths"][name]) == length, name
        else:  # ISO 8601 date types carry no Length in define.xml (as in the 2.1 examples)
            assert seen["widths"][name] == written[name], name
