"""Benchmark `cdisc-cup convert` and `cdisc-cup validate` as a user runs them (issue #9).

    python benchmarks/run.py --patients 1000 10000 100000 [--work DIR] [--results benchmarks/RESULTS.md]

For each size: generate the export once (seed 1, cached in the work folder), run `convert` and
`validate` as separate processes, and measure wall time and peak RSS of each, the per-step
seconds `convert` prints, records written and rows/s. The anchor is the time
`pyreadstat.write_xport` needs to write the very same SDTM and ADaM datasets, measured in the
same run, so a slower or faster machine moves both numbers together. The report is rewritten
after every size, so a run stopped half-way still leaves the sizes it finished.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GENERATOR = REPO / "benchmarks" / "generate.py"
STUDY_FOLDER = Path("m5") / "datasets" / "isa-cup-de"
SDTM_FOLDER = STUDY_FOLDER / "tabulations" / "sdtm"
ADAM_FOLDER = STUDY_FOLDER / "analysis" / "adam" / "datasets"

# The steps `convert` reports on stderr, in pipeline order; a line's text after the name
# (e.g. "10 datasets") is detail, not part of the step.
STAGES = (
    "load specs",
    "read raw export",
    "map SDTM",
    "reconcile raw records",
    "check SDTM against specs",
    "derive ADaM",
    "check ADaM against specs",
    "write SDTM XPT",
    "write ADaM XPT",
    "check the written XPT files",
    "write define.xml and define.html",
    "write Dataset-JSON",
    "validate",
    "write tables and figure",
    "write reconciliation and audit trail",
)
# The steps `validate` reports.
VALIDATE_STAGES = ("read datasets", "run rules", "write reports")
STEP_MARK = "✓ "

# Issue #9 targets, for 100,000 patients on a 2-core, 24 GiB machine.
TARGET_PATIENTS = 100_000
TARGET_CONVERT_SECONDS = 60.0
TARGET_PEAK_GIB = 4.0
TARGET_ANCHOR_RATIO = 1.5
TARGET_SCALING = 12.0
TARGET_VALIDATE_SECONDS = 20.0

# A fresh interpreter runs the measured command as its only child, so RUSAGE_CHILDREN's
# ru_maxrss (the largest resident set among the waited-for descendants, KiB on Linux) is that
# command's peak and not the maximum over everything this runner started before.
MEASURE = """
import json, resource, subprocess, sys, time
report, command = sys.argv[1], sys.argv[2:]
started = time.perf_counter()
completed = subprocess.run(command, capture_output=True)
wall = time.perf_counter() - started
peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
with open(report, "w", encoding="utf-8") as out:
    json.dump({"returncode": completed.returncode, "wall": wall, "peak_kib": peak_kib,
               "stderr": completed.stderr.decode("utf-8", "replace"),
               "stdout": completed.stdout.decode("utf-8", "replace")}, out)
"""

# Reads every written XPT and times only pyreadstat.write_xport of each (XPT v5, the FDA's
# version), with dates left numeric so the same cells are written.
ANCHOR = """
import json, sys, tempfile, time
from pathlib import Path
import pyreadstat
paths = sorted(p for folder in sys.argv[1:] for p in Path(folder).glob("*.xpt"))
datasets = []
with tempfile.TemporaryDirectory() as scratch:
    for path in paths:
        frame, meta = pyreadstat.read_xport(str(path), disable_datetime_conversion=True)
        labels = [label or "" for label in meta.column_labels]
        started = time.perf_counter()
        pyreadstat.write_xport(frame, str(Path(scratch) / path.name), file_label=meta.file_label or "",
                               column_labels=labels, table_name=meta.table_name, file_format_version=5)
        datasets.append({"name": path.stem.upper(), "records": len(frame), "columns": frame.shape[1],
                         "seconds": time.perf_counter() - started})
print(json.dumps(datasets))
"""


@dataclass
class Measurement:
    """One child process: wall seconds, peak RSS and what it printed."""

    wall: float
    peak_kib: int
    returncode: int
    stderr: str
    stdout: str


@dataclass
class SizeResult:
    """Everything measured for one export size; `failure` says why a size has no numbers."""

    patients: int
    convert: Measurement | None = None
    validate: Measurement | None = None
    stages: dict[str, float] = field(default_factory=dict)
    validate_stages: dict[str, float] = field(default_factory=dict)
    anchor: list[dict[str, float]] = field(default_factory=list)
    failure: str = ""

    @property
    def records(self) -> int:
        return int(sum(dataset["records"] for dataset in self.anchor))

    @property
    def anchor_seconds(self) -> float:
        return sum(dataset["seconds"] for dataset in self.anchor)


def cdisc_cup_command() -> list[str]:
    """The installed console script beside this interpreter, as a user would type it."""
    script = Path(sys.executable).parent / "cdisc-cup"
    if script.exists():
        return [str(script)]
    found = shutil.which("cdisc-cup")
    if found is None:
        sys.exit("cdisc-cup is not installed in this environment (pip install -e .)")
    return [found]


def export_folder(work: Path, patients: int) -> Path:
    """Generate the export once per size; the rename makes a half-written export never count."""
    folder = work / f"export-{patients}p"
    if folder.is_dir():
        return folder
    partial = work / f"export-{patients}p.partial"
    shutil.rmtree(partial, ignore_errors=True)
    command = [sys.executable, str(GENERATOR), "--patients", str(patients), "--out", str(partial), "--seed", "1"]
    subprocess.run(command, check=True)
    partial.rename(folder)
    return folder


def measure(command: list[str], report: Path, timeout: float | None) -> Measurement:
    """Run `command` under the MEASURE wrapper; on timeout the whole process group is ended."""
    wrapper = subprocess.Popen(
        [sys.executable, "-c", MEASURE, str(report), *command],
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
        start_new_session=True,
    )
    try:
        wrapper.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(wrapper.pid, signal.SIGKILL)
        wrapper.wait()
        raise
    return Measurement(**json.loads(report.read_text(encoding="utf-8")))


def parse_stages(stderr: str, known: tuple[str, ...] = STAGES) -> dict[str, float]:
    """Seconds per step from lines like `  ✓ write SDTM XPT 10 datasets (0.52 s)`."""
    stages: dict[str, float] = {}
    for line in stderr.splitlines():
        text = line.strip()
        if not text.startswith(STEP_MARK) or not text.endswith(" s)") or " (" not in text:
            continue
        label, seconds = text[len(STEP_MARK) :].rsplit(" (", 1)
        name = next((stage for stage in known if label == stage or label.startswith(stage + " ")), label)
        stages[name] = stages.get(name, 0.0) + float(seconds.removesuffix(" s)"))
    return stages


def measure_anchor(folders: list[Path]) -> list[dict[str, float]]:
    completed = subprocess.run(
        [sys.executable, "-c", ANCHOR, *map(str, folders)], capture_output=True, text=True, check=True
    )
    return json.loads(completed.stdout)


def run_size(patients: int, work: Path, timeout: float | None) -> SizeResult:
    result = SizeResult(patients)
    raw = export_folder(work, patients)
    out = work / f"out-{patients}p"
    cli = cdisc_cup_command()
    try:
        result.convert = measure(
            [*cli, "convert", str(raw), "--out", str(out)], work / f"convert-{patients}p.json", timeout
        )
    except subprocess.TimeoutExpired:
        result.failure = f"convert did not finish within {timeout:.0f} s and was stopped"
        return result
    if result.convert.returncode != 0:
        result.failure = f"convert exited with code {result.convert.returncode}: {result.convert.stderr[-500:]}"
        return result
    result.stages = parse_stages(result.convert.stderr)
    result.anchor = measure_anchor([out / SDTM_FOLDER, out / ADAM_FOLDER])
    validate_command = [*cli, "validate", str(out / SDTM_FOLDER), "--report-dir", str(work / f"validate-{patients}p")]
    try:
        result.validate = measure(
            [*validate_command, "--fail-on", "never"], work / f"validate-{patients}p.json", timeout
        )
    except subprocess.TimeoutExpired:
        result.failure = f"validate did not finish within {timeout:.0f} s and was stopped"
        return result
    result.validate_stages = parse_stages(result.validate.stderr, VALIDATE_STAGES)
    return result


# ---------------------------------------------------------------- report


def proc_field(path: str, key: str) -> str:
    """A value from /proc (Linux); other systems report "unknown" rather than failing the run."""
    if not Path(path).exists():
        return "unknown"
    lines = Path(path).read_text().splitlines()
    return next((line.split(":", 1)[1].strip() for line in lines if line.startswith(key)), "unknown")


def machine() -> list[str]:
    import numpy
    import pandas
    import pyreadstat

    from cdisc_cup import __version__

    memory_kib = proc_field("/proc/meminfo", "MemTotal").removesuffix(" kB")
    memory = f"{gib(int(memory_kib)):.1f} GiB" if memory_kib.isdigit() else "unknown"
    cpu = proc_field("/proc/cpuinfo", "model name")
    return [
        f"- Date: {datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z')}",
        f"- Machine: {os.cpu_count()} cores (`nproc`), {cpu}, memory {memory}, {platform.platform()}",
        f"- Python {platform.python_version()}, pandas {pandas.__version__}, numpy {numpy.__version__}, "
        f"pyreadstat {pyreadstat.__version__}, cdisc-cup {__version__}",
    ]


def gib(kib: int) -> float:
    return kib / 1024**2


def status(met: bool) -> str:
    return "met" if met else "**not met**"


def size_section(result: SizeResult) -> list[str]:
    lines = [f"## {result.patients:,} patients", ""]
    if result.convert is None or not result.stages:
        return [*lines, f"Not measured: {result.failure or 'the run stopped before this size'}.", ""]
    wall = result.convert.wall
    lines += ["| stage | seconds | share of convert wall |", "|---|---:|---:|"]
    for name, seconds in result.stages.items():
        lines.append(f"| {name} | {seconds:.2f} | {seconds / wall:.0%} |")
    unaccounted = wall - sum(result.stages.values())
    lines += [
        f"| (start-up, imports, summary: wall minus steps) | {unaccounted:.2f} | {unaccounted / wall:.0%} |",
        "",
        "| measure | value |",
        "|---|---:|",
        f"| convert wall (s) | {wall:.2f} |",
        f"| convert peak RSS (GiB) | {gib(result.convert.peak_kib):.2f} |",
        f"| records written (SDTM + ADaM) | {result.records:,} |",
        f"| rows/s (records / convert wall) | {result.records / wall:,.0f} |",
        f"| pyreadstat.write_xport anchor (s) | {result.anchor_seconds:.2f} |",
        f"| convert / anchor | {wall / result.anchor_seconds:.2f} |",
    ]
    if result.validate is not None:
        lines += [
            f"| validate wall (s) | {result.validate.wall:.2f} |",
            f"| validate peak RSS (GiB) | {gib(result.validate.peak_kib):.2f} |",
        ]
        lines += [f"| validate: {name} (s) | {seconds:.2f} |" for name, seconds in result.validate_stages.items()]
    if result.failure:
        lines += ["", f"Note: {result.failure}."]
    per_dataset = ", ".join(f"{d['name']} {d['records']:,}" for d in result.anchor)
    return [*lines, "", f"Records per dataset: {per_dataset}.", ""]


def targets_section(results: dict[int, SizeResult]) -> list[str]:
    lines = [f"## Targets of issue #9 ({TARGET_PATIENTS:,} patients)", ""]
    target = results.get(TARGET_PATIENTS)
    if target is None or target.convert is None or not target.stages:
        reason = target.failure if target is not None and target.failure else "not run in this benchmark"
        return [*lines, f"The {TARGET_PATIENTS:,}-patient size was not measured: {reason}.", ""]
    convert = target.convert
    ratio = convert.wall / target.anchor_seconds
    lines += [
        "| target | limit | measured | status |",
        "|---|---:|---:|---|",
        f"| convert wall | ≤ {TARGET_CONVERT_SECONDS:.0f} s | {convert.wall:.1f} s | "
        f"{status(convert.wall <= TARGET_CONVERT_SECONDS)} |",
        f"| convert peak RSS | ≤ {TARGET_PEAK_GIB:.0f} GiB | {gib(convert.peak_kib):.2f} GiB | "
        f"{status(gib(convert.peak_kib) <= TARGET_PEAK_GIB)} |",
        f"| convert / pyreadstat anchor | ≤ {TARGET_ANCHOR_RATIO} | {ratio:.2f} | "
        f"{status(ratio <= TARGET_ANCHOR_RATIO)} |",
    ]
    smaller = results.get(TARGET_PATIENTS // 10)
    if smaller is not None and smaller.convert is not None and smaller.stages:
        scaling = convert.wall / smaller.convert.wall
        lines.append(
            f"| scaling 10k → 100k (convert wall) | ≤ {TARGET_SCALING:.0f}x | {scaling:.1f}x | "
            f"{status(scaling <= TARGET_SCALING)} |"
        )
    if target.validate is not None:
        lines.append(
            f"| validate wall | ≤ {TARGET_VALIDATE_SECONDS:.0f} s | {target.validate.wall:.1f} s | "
            f"{status(target.validate.wall <= TARGET_VALIDATE_SECONDS)} |"
        )
    return [*lines, ""]


def scaling_section(results: dict[int, SizeResult]) -> list[str]:
    measured = sorted(size for size, result in results.items() if result.convert is not None and result.stages)
    pairs = list(itertools.pairwise(measured))
    if not pairs:
        return []
    lines = ["## Scaling", "", "| sizes | patients × | convert wall × | records × |", "|---|---:|---:|---:|"]
    for small, large in pairs:
        a, b = results[small], results[large]
        assert a.convert is not None and b.convert is not None
        lines.append(
            f"| {small:,} → {large:,} | {large / small:.0f} | {b.convert.wall / a.convert.wall:.1f} | "
            f"{b.records / a.records:.1f} |"
        )
    return [*lines, ""]


def write_report(path: Path, command: str, sizes: list[int], results: dict[int, SizeResult]) -> None:
    lines = [
        "# Benchmark results",
        "",
        f"Command: `{command}`",
        "",
        *machine(),
        "",
        "Wall time and peak RSS are those of each `cdisc-cup` process as a user starts it (peak RSS: the",
        "largest resident set of the process or any process it waited for). The anchor is the time",
        "`pyreadstat.write_xport` (XPT v5) needs to write the same SDTM and ADaM datasets, measured in",
        "the same run. See benchmarks/README.md.",
        "",
        *targets_section(results),
        *scaling_section(results),
    ]
    for size in sizes:
        lines += size_section(results.get(size, SizeResult(size)))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines).rstrip() + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, nargs="+", default=[1000, 10000, 100000], help="export sizes")
    parser.add_argument("--work", type=Path, default=Path("benchmark-work"), help="exports and outputs (cached)")
    parser.add_argument("--results", type=Path, default=REPO / "benchmarks" / "RESULTS.md", help="report file")
    parser.add_argument("--timeout", type=float, default=None, help="stop a command after this many seconds")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    command = "python benchmarks/run.py " + " ".join(sys.argv[1:])
    sizes = sorted(set(args.patients))
    results: dict[int, SizeResult] = {}
    for patients in sizes:
        started = time.perf_counter()
        results[patients] = run_size(patients, args.work, args.timeout)
        write_report(args.results, command, sizes, results)
        outcome = results[patients].failure or "done"
        print(f"{patients} patients: {outcome} ({time.perf_counter() - started:.0f} s)", file=sys.stderr)
    print(f"report -> {args.results}", file=sys.stderr)


if __name__ == "__main__":
    main()
