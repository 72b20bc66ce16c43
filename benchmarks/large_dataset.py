"""A synthetic LB dataset over the FDA 5 GB per-file limit, written split; run by hand (issue #9).

    python benchmarks/large_dataset.py --size-gb 5.2 --out /tmp/cdisc-large

FDA Study Data Technical Conformance Guide section 3.3.2: a dataset file over 5 GB is split into
files of at most 5 GB in a "split" sub-folder, beside the whole file. This generates LB-like
records (32 variables, SDTM-like lengths, 300 records per subject) in chunks with one seeded
numpy generator, streams them chunk by chunk through
`cdisc_cup.xpt.split.write_xpt_within_limit(..., by="USUBJID")`, and reports wall time,
the seconds spent generating versus writing, MB/s, the files written and their sizes, and the
process's peak resident memory, to show that memory is bounded by a chunk and not by the file.

The whole file and the split files are both written, so the run needs about twice --size-gb of
free disk in --out; the files are deleted afterwards unless --keep is given. Not run in CI.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import resource
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from cdisc_cup.constants import FDA_FILE_LIMIT
from cdisc_cup.xpt.model import XptVariable
from cdisc_cup.xpt.split import XptDatasetFiles, write_xpt_within_limit
from cdisc_cup.xpt.write import record_length, xpt_size

VARIABLES = (
    XptVariable("STUDYID", "Study Identifier", "Char", 13),
    XptVariable("DOMAIN", "Domain Abbreviation", "Char", 2),
    XptVariable("USUBJID", "Unique Subject Identifier", "Char", 20),
    XptVariable("LBSEQ", "Sequence Number", "Num", 8),
    XptVariable("LBREFID", "Specimen ID", "Char", 14),
    XptVariable("LBTESTCD", "Lab Test or Examination Short Name", "Char", 8),
    XptVariable("LBTEST", "Lab Test or Examination Name", "Char", 40),
    XptVariable("LBCAT", "Category for Lab Test", "Char", 20),
    XptVariable("LBSCAT", "Subcategory for Lab Test", "Char", 20),
    XptVariable("LBORRES", "Result or Finding in Original Units", "Char", 12),
    XptVariable("LBORRESU", "Original Units", "Char", 12),
    XptVariable("LBORNRLO", "Reference Range Lower Limit in Orig Unit", "Char", 8),
    XptVariable("LBORNRHI", "Reference Range Upper Limit in Orig Unit", "Char", 8),
    XptVariable("LBSTRESC", "Character Result/Finding in Std Format", "Char", 12),
    XptVariable("LBSTRESN", "Numeric Result/Finding in Standard Units", "Num", 8),
    XptVariable("LBSTRESU", "Standard Units", "Char", 12),
    XptVariable("LBSTNRLO", "Reference Range Lower Limit-Std Units", "Num", 8),
    XptVariable("LBSTNRHI", "Reference Range Upper Limit-Std Units", "Num", 8),
    XptVariable("LBNRIND", "Reference Range Indicator", "Char", 8),
    XptVariable("LBSTAT", "Completion Status", "Char", 8),
    XptVariable("LBREASND", "Reason Test Not Done", "Char", 40),
    XptVariable("LBNAM", "Vendor Name", "Char", 30),
    XptVariable("LBSPEC", "Specimen Type", "Char", 12),
    XptVariable("LBMETHOD", "Method of Test or Examination", "Char", 24),
    XptVariable("LBBLFL", "Baseline Flag", "Char", 1),
    XptVariable("LBFAST", "Fasting Status", "Char", 1),
    XptVariable("VISITNUM", "Visit Number", "Num", 8),
    XptVariable("VISIT", "Visit Name", "Char", 20),
    XptVariable("VISITDY", "Planned Study Day of Visit", "Num", 8),
    XptVariable("EPOCH", "Epoch", "Char", 12),
    XptVariable("LBDTC", "Date/Time of Specimen Collection", "Char", 19),
    XptVariable("LBDY", "Study Day of Specimen Collection", "Num", 8),
)

# Test code, name, category, unit, lower and upper limit, mean, standard deviation, specimen, method.
TESTS = pd.DataFrame(
    [
        ("ALT", "Alanine Aminotransferase", "CHEMISTRY", "U/L", 7, 56, 30, 15, "SERUM", "ENZYMATIC"),
        ("AST", "Aspartate Aminotransferase", "CHEMISTRY", "U/L", 10, 40, 28, 12, "SERUM", "ENZYMATIC"),
        ("ALP", "Alkaline Phosphatase", "CHEMISTRY", "U/L", 44, 147, 90, 30, "SERUM", "ENZYMATIC"),
        ("BILI", "Bilirubin", "CHEMISTRY", "umol/L", 3, 21, 10, 5, "SERUM", "COLORIMETRIC"),
        ("CREAT", "Creatinine", "CHEMISTRY", "umol/L", 53, 115, 85, 20, "SERUM", "ENZYMATIC"),
        ("UREAN", "Urea Nitrogen", "CHEMISTRY", "mmol/L", 2.5, 7.1, 5, 1.5, "SERUM", "ENZYMATIC"),
        ("SODIUM", "Sodium", "CHEMISTRY", "mmol/L", 135, 145, 140, 3, "SERUM", "ION SELECTIVE ELECTRODE"),
        ("K", "Potassium", "CHEMISTRY", "mmol/L", 3.5, 5.1, 4.2, 0.4, "SERUM", "ION SELECTIVE ELECTRODE"),
        ("CA", "Calcium", "CHEMISTRY", "mmol/L", 2.1, 2.6, 2.35, 0.15, "SERUM", "COLORIMETRIC"),
        ("PROT", "Protein", "CHEMISTRY", "g/L", 60, 83, 70, 6, "SERUM", "COLORIMETRIC"),
        ("ALB", "Albumin", "CHEMISTRY", "g/L", 35, 50, 42, 4, "SERUM", "COLORIMETRIC"),
        ("LDH", "Lactate Dehydrogenase", "CHEMISTRY", "U/L", 140, 280, 200, 50, "SERUM", "ENZYMATIC"),
        ("HGB", "Hemoglobin", "HEMATOLOGY", "g/L", 120, 170, 130, 18, "BLOOD", "PHOTOMETRY"),
        ("HCT", "Hematocrit", "HEMATOLOGY", "%", 36, 50, 41, 5, "BLOOD", "CALCULATION"),
        ("WBC", "Leukocytes", "HEMATOLOGY", "10^9/L", 4, 11, 6.5, 2, "BLOOD", "FLOW CYTOMETRY"),
        ("NEUT", "Neutrophils", "HEMATOLOGY", "10^9/L", 1.8, 7.7, 3.8, 1.5, "BLOOD", "FLOW CYTOMETRY"),
        ("LYM", "Lymphocytes", "HEMATOLOGY", "10^9/L", 1, 4.8, 1.9, 0.7, "BLOOD", "FLOW CYTOMETRY"),
        ("PLAT", "Platelets", "HEMATOLOGY", "10^9/L", 150, 400, 220, 70, "BLOOD", "FLOW CYTOMETRY"),
        ("IGG", "Immunoglobulin G", "IMMUNOLOGY", "g/L", 7, 16, 14, 8, "SERUM", "NEPHELOMETRY"),
        ("MPROT", "Monoclonal Protein", "IMMUNOLOGY", "g/L", 0, 0, 12, 8, "SERUM", "ELECTROPHORESIS"),
    ],
    columns=["code", "name", "category", "unit", "low", "high", "mean", "sd", "specimen", "method"],
)
TESTS["low_text"] = TESTS["low"].map("{:g}".format)  # as the lab reports it: "7", "3.5"
TESTS["high_text"] = TESTS["high"].map("{:g}".format)
# Visit number, name, planned study day, epoch.
VISITS = pd.DataFrame(
    [(1, "SCREENING", -14, "SCREENING"), (2, "CYCLE 1 DAY 1", 1, "TREATMENT")]
    + [(2 + c, f"CYCLE {c} DAY 1", 1 + 28 * (c - 1), "TREATMENT") for c in range(2, 14)]
    + [(15, "FOLLOW-UP", 400, "FOLLOW-UP")],
    columns=["number", "name", "day", "epoch"],
)
RECORDS_PER_SUBJECT = len(TESTS) * len(VISITS)  # 20 tests at 15 visits
LABS = np.array(["CENTRAL LAB EUROPE GMBH", "CENTRAL LAB AMERICAS INC", "LOCAL LAB"])
REASONS = np.array(["SAMPLE HEMOLYZED", "SAMPLE NOT RECEIVED", "INSUFFICIENT SAMPLE VOLUME"])
STUDY_START = np.datetime64("2021-03-01T08:00", "m")


def lab_chunks(subjects: int, chunk_subjects: int, seed: int) -> Iterator[pd.DataFrame]:
    """LB records of `subjects` subjects, sorted by USUBJID, VISITNUM and test, in chunks."""
    rng = np.random.default_rng(seed)
    for first in range(0, subjects, chunk_subjects):
        yield lab_records(rng, np.arange(first, min(first + chunk_subjects, subjects)))


def lab_records(rng: np.random.Generator, subject_numbers: np.ndarray) -> pd.DataFrame:
    """All records of the given subjects, each column drawn or looked up as a whole array."""
    n_subjects, per_subject = len(subject_numbers), RECORDS_PER_SUBJECT
    rows = n_subjects * per_subject
    site = subject_numbers % 40 + 1
    subject_numbers = subject_numbers + 1  # subjects are numbered from 1
    usubjid = np.strings.add(
        np.strings.add("CUP01-", _digits(site, 3)), np.strings.add("-", _digits(subject_numbers, 6))
    )
    subject = np.repeat(np.arange(n_subjects), per_subject)
    test = np.tile(np.arange(len(TESTS)), n_subjects * len(VISITS))
    visit = np.tile(np.repeat(np.arange(len(VISITS)), len(TESTS)), n_subjects)
    tests = TESTS.iloc[test]
    visits = VISITS.iloc[visit]

    mean, sd = tests["mean"].to_numpy(float), tests["sd"].to_numpy(float)
    value = np.round(np.abs(rng.normal(mean, sd)), 1)
    not_done = rng.random(rows) < 0.02
    value[not_done] = np.nan
    text = np.where(not_done, "", value.astype(str))
    low, high = tests["low"].to_numpy(float), tests["high"].to_numpy(float)
    indicator = np.where(value < low, "LOW", np.where(value > high, "HIGH", "NORMAL"))
    indicator[not_done | (high == 0)] = ""
    study_day = visits["day"].to_numpy() + rng.integers(-2, 3, rows) * (visit > 1)
    collected = (
        STUDY_START
        + (study_day - (study_day > 0)).astype("timedelta64[D]")
        + rng.integers(0, 180, rows).astype("timedelta64[m]")
    )
    specimen_id = np.strings.add(np.strings.add("S", _digits(subject_numbers[subject], 6)), _digits(visit + 1, 2))
    return pd.DataFrame(
        {
            "STUDYID": "ISA-CUP-DE-01",
            "DOMAIN": "LB",
            "USUBJID": usubjid[subject],
            "LBSEQ": np.tile(np.arange(1, per_subject + 1), n_subjects),
            "LBREFID": specimen_id,
            "LBTESTCD": tests["code"].to_numpy(),
            "LBTEST": tests["name"].to_numpy(),
            "LBCAT": tests["category"].to_numpy(),
            "LBSCAT": np.where(tests["category"].to_numpy() == "IMMUNOLOGY", "PARAPROTEINS", ""),
            "LBORRES": text,
            "LBORRESU": np.where(not_done, "", tests["unit"].to_numpy()),
            "LBORNRLO": tests["low_text"].to_numpy(),
            "LBORNRHI": tests["high_text"].to_numpy(),
            "LBSTRESC": text,
            "LBSTRESN": value,
            "LBSTRESU": np.where(not_done, "", tests["unit"].to_numpy()),
            "LBSTNRLO": low,
            "LBSTNRHI": high,
            "LBNRIND": indicator,
            "LBSTAT": np.where(not_done, "NOT DONE", ""),
            "LBREASND": np.where(not_done, REASONS[rng.integers(0, len(REASONS), rows)], ""),
            "LBNAM": LABS[np.minimum(site[subject] // 15, 2)],
            "LBSPEC": tests["specimen"].to_numpy(),
            "LBMETHOD": tests["method"].to_numpy(),
            "LBBLFL": np.where(visit == 1, "Y", ""),
            "LBFAST": np.where(rng.random(rows) < 0.6, "Y", "N"),
            "VISITNUM": visits["number"].to_numpy(float),
            "VISIT": visits["name"].to_numpy(),
            "VISITDY": visits["day"].to_numpy(float),
            "EPOCH": visits["epoch"].to_numpy(),
            "LBDTC": collected.astype(str),
            "LBDY": study_day.astype(float),
        }
    )


def _digits(numbers: np.ndarray, width: int) -> np.ndarray:
    return np.strings.zfill(numbers.astype(str), width)


class Timed:
    """The chunks of an iterator, with the seconds spent producing them (not writing them)."""

    def __init__(self, chunks: Iterator[pd.DataFrame]) -> None:
        self._chunks = chunks
        self.seconds = 0.0

    def __iter__(self) -> Iterator[pd.DataFrame]:
        while True:
            started = time.perf_counter()
            chunk = next(self._chunks, None)
            self.seconds += time.perf_counter() - started
            if chunk is None:
                return
            yield chunk


def peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def check_files(result: XptDatasetFiles) -> None:
    """Every file has the size TS-140 gives its records; every split file is within the limit."""
    for written in (result.whole, *result.parts):
        assert written.size == written.path.stat().st_size == xpt_size(VARIABLES, written.records), written
    assert all(part.size <= result.limit for part in result.parts)
    assert sum(part.records for part in result.parts) in (0, result.whole.records)


def report(
    args: argparse.Namespace, result: XptDatasetFiles, wall: float, generating: float, rss: tuple[int, int]
) -> str:
    writing = wall - generating
    written = result.whole.size + sum(part.size for part in result.parts)
    lines = [
        f"command: python benchmarks/large_dataset.py {' '.join(sys.argv[1:])}",
        f"machine: {platform.machine()}, {_cpu()}, {_cores()} cores; Python {platform.python_version()}, "
        f"numpy {np.__version__}, pandas {pd.__version__}",
        f"records: {result.whole.records:,} ({len(VARIABLES)} variables, "
        f"{result.whole.records // RECORDS_PER_SUBJECT:,} subjects, record length {record_length(VARIABLES)} "
        f"bytes, chunks of {args.chunk_subjects * RECORDS_PER_SUBJECT:,} records)",
        f"limit: {result.limit:,} bytes; split by {result.by}",
        f"whole file: {result.whole.href} {result.whole.size:,} bytes ({result.whole.size / 1e9:.3f} GB)",
    ]
    lines += [
        f"split file: {part.href} records {part.first_record:,}-{part.last_record:,}, "
        f"{part.size:,} bytes ({part.size / 1e9:.3f} GB)"
        for part in result.parts
    ]
    lines += [
        f"wall time: {wall:.1f} s (generating the records {generating:.1f} s, encoding and writing {writing:.1f} s)",
        f"written: {written / 1e6:,.0f} MB in {writing:.1f} s = {written / 1e6 / writing:.0f} MB/s "
        f"(the dataset, {result.whole.size / 1e6:,.0f} MB, at {result.whole.size / 1e6 / writing:.0f} MB/s)",
        f"peak RSS: {rss[1] / 2**20:,.0f} MiB ({rss[0] / 2**20:,.0f} MiB after imports), "
        f"{rss[1] / result.whole.size:.1%} of the whole file's size",
    ]
    return "\n".join(lines)


def _cpu() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    names = [
        line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines() if line.startswith("model name")
    ]
    return names[0] if names else platform.processor() or "unknown CPU"


def _cores() -> int:
    return len(os.sched_getaffinity(0))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="example:\n  python benchmarks/large_dataset.py --size-gb 5.2 --out /tmp/cdisc-large\n"
        "  python benchmarks/large_dataset.py --size-gb 0.05 --limit-gb 0.02 --out /tmp/cdisc-small --keep",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--size-gb", type=float, default=5.2, help="size of the whole XPT file in GB of 10**9 bytes")
    parser.add_argument("--out", type=Path, required=True, help="folder for lb.xpt and split/ (created)")
    parser.add_argument(
        "--limit-gb", type=float, default=FDA_FILE_LIMIT / 1e9, help="per-file limit (default the FDA 5 GB)"
    )
    parser.add_argument("--chunk-subjects", type=int, default=500, help="subjects per chunk (300 records each)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the written files (default: delete them)")
    args = parser.parse_args()

    rss_start = peak_rss_bytes()
    per_subject_bytes = RECORDS_PER_SUBJECT * record_length(VARIABLES)
    subjects = math.ceil((args.size_gb * 1e9 - xpt_size(VARIABLES, 0)) / per_subject_bytes)
    rows = subjects * RECORDS_PER_SUBJECT
    limit = round(args.limit_gb * 1e9)
    needed = xpt_size(VARIABLES, rows) * (2 if xpt_size(VARIABLES, rows) > limit else 1)
    args.out.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(args.out).free
    if free < needed * 1.05:
        sys.exit(f"{args.out} has {free / 1e9:.1f} GB free; this run writes {needed / 1e9:.1f} GB")

    chunks = Timed(lab_chunks(subjects, args.chunk_subjects, args.seed))
    started = time.perf_counter()
    result = write_xpt_within_limit(
        args.out, iter(chunks), dataset="LB", label="Laboratory Test Results", variables=VARIABLES, rows=rows,
        limit=limit, by="USUBJID",
    )  # fmt: skip
    wall = time.perf_counter() - started
    check_files(result)
    print(report(args, result, wall, chunks.seconds, (rss_start, peak_rss_bytes())))
    if not args.keep:
        for written in (*result.parts, result.whole):
            written.path.unlink()
        if result.parts:
            result.parts[0].path.parent.rmdir()


if __name__ == "__main__":
    main()
