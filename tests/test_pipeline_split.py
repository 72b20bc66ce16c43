"""convert's writer splits a dataset over the limit (TCG 3.3.2) and define.xml says so."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pyreadstat

from cdisc_cup.define.build import build_define
from cdisc_cup.pipeline import ConversionResult, Submission, write_datasets
from cdisc_cup.writers.define_xml import write_define
from cdisc_cup.xpt.split import split_note


def test_a_dataset_over_the_limit_is_also_written_split_and_documented(
    converted_sample: ConversionResult, tmp_path: Path
) -> None:
    study = converted_sample.study
    specs = [spec for spec in study.sdtm if spec.name in ("DM", "EX")]
    frames = {spec.name: converted_sample.sdtm[spec.name] for spec in specs}
    part = Submission("SDTM", tuple(specs), frames, converted_sample.lengths, folder=tmp_path)

    files = write_datasets(part, datetime(2021, 1, 1), limit=20_000)

    assert not files["DM"].is_split  # 18 records fit
    ex = files["EX"]
    assert ex.is_split and len(ex.parts) > 1
    assert all(part.path.parent == tmp_path / "split" and part.size <= 20_000 for part in ex.parts)
    subjects = [set(pyreadstat.read_xport(str(part.path))[0]["USUBJID"]) for part in ex.parts]
    assert sum(len(s) for s in subjects) == len(set().union(*subjects))  # no subject in two files
    assert sum(part.records for part in ex.parts) == len(frames["EX"])

    notes = {name: split_note(f) for name, f in files.items() if f.is_split}
    document = build_define(study, specs, frames, standard="SDTM", lengths=converted_sample.lengths, notes=notes)
    text = write_define(document, tmp_path).path.read_text(encoding="utf-8")
    assert "split/ex1.xpt (records 1-" in text and "section 3.3.2" in text
