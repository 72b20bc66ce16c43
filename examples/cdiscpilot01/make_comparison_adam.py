"""Write COMPARISON_ADAM.md: the pilot's ADaM as cdisc-cup derives it against pharmaverse's
(admiral's templates ad_adsl.R and ad_adae.R run on pharmaverse's SDTM).

    python examples/cdiscpilot01/make_comparison_adam.py

1. `cdisc-cup adam ../shared/pharmaverse/sdtm --specs examples/cdiscpilot01/specs`: the same
   SDTM admiral started from, so every difference is one of derivation. Records are matched
   by key (ADSL: USUBJID; ADAE: USUBJID + AESEQ).
2. `cdisc-cup convert ../shared/pharmaverse/raw` with the same specs: raw -> our SDTM -> our
   ADaM, matched by natural keys (our AESEQ numbers the AEs in another order, COMPARISON.md);
   the differences there are those of the SDTM part carried into ADaM.

Values are compared with `cdisc_cup.compare` (PROC COMPARE semantics, as COMPARISON.md);
why each variable differs, and the variables not compared, come from comparison_adam.yaml.
"""

from __future__ import annotations

import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from cdisc_cup.compare.datasets import compare_datasets
from cdisc_cup.comparison import BASE, COMPARE, KeyChoice, KeySource, Tolerance
from cdisc_cup.pipeline import convert, derive_from_sdtm
from cdisc_cup.xpt.read import read_xpt_dataset

HERE = Path(__file__).resolve().parent
PHARMAVERSE = HERE.parents[2] / "shared" / "pharmaverse"
NOTES = HERE / "comparison_adam.yaml"
REPORT = HERE / "COMPARISON_ADAM.md"
KEYS = {"ADSL": ("USUBJID",), "ADAE": ("USUBJID", "AESEQ")}
NATURAL_KEYS = {"ADSL": ("USUBJID",), "ADAE": ("USUBJID", "AETERM", "AESTDTC", "AEDTC")}
TOLERANCE = Tolerance.of(None, 1e-9)


@dataclass(frozen=True)
class Agreement:
    """How many of our values agree with pharmaverse's, overall and per variable."""

    dataset: str
    keys: tuple[str, ...]
    records: tuple[int, int, int]  # ours, theirs, matched
    compared: tuple[str, ...]  # the variables compared (both have them, not keys)
    differing: dict[str, int]  # variable -> differing values (records only one side has count)
    examples: dict[str, str]
    only_ours: tuple[str, ...]
    only_theirs: tuple[str, ...]

    def values(self, names: list[str] | tuple[str, ...] | None = None) -> tuple[int, int]:
        """(values compared, values agreeing) of the named variables (all compared ones)."""
        chosen = [n for n in (names or self.compared) if n in self.compared]
        ours, theirs, matched = self.records
        total = (ours + theirs - matched) * len(chosen)  # matched records and each one-sided one
        return total, total - sum(self.differing.get(n, 0) for n in chosen)


def agreement(ours_path: Path, theirs_path: Path, keys: tuple[str, ...]) -> Agreement:
    ours, theirs = read_xpt_dataset(ours_path), read_xpt_dataset(theirs_path)
    result = compare_datasets(theirs, ours, KeyChoice(keys, KeySource.OPTION), TOLERANCE, 3)
    unmatched = sum(r.count for r in result.records_only)
    compared = tuple(v.name for v in theirs.variables if ours.variable(v.name) is not None and v.name not in keys)
    differing = {name: unmatched for name in compared if unmatched}
    examples = {}
    for difference in result.value_differences:
        differing[difference.variable] = differing.get(difference.variable, 0) + difference.count
        rows = difference.examples.astype("string").fillna("")
        examples[difference.variable] = "; ".join(
            f"{' '.join(row[k] for k in keys)}: ours {row[COMPARE] or 'missing'}, theirs {row[BASE] or 'missing'}"
            for _, row in rows.iterrows()
        )
    return Agreement(
        ours.name,
        keys,
        (len(ours.frame), len(theirs.frame), result.records_compared),
        compared,
        {name: count for name, count in differing.items() if count},
        examples,
        result.variables_only_in_compare,
        result.variables_only_in_base,
    )


def section(title: str, results: list[Agreement], notes: dict) -> list[str]:
    lines = [f"## {title}", ""]
    for r in results:
        total, agree = r.values()
        lines += [
            f"### {r.dataset} (key {' + '.join(r.keys)})",
            "",
            f"Records: ours {r.records[0]}, pharmaverse {r.records[1]}, matched {r.records[2]}. "
            f"Values compared: {total}; agreeing: {agree} ({100 * agree / total:.2f}%).",
            "",
            "| variable group | values compared | agree |",
            "| --- | ---: | ---: |",
        ]
        for group, names in notes[r.dataset]["groups"].items():
            total, agree = r.values(names)
            if total:
                lines.append(f"| {group} | {total} | {100 * agree / total:.2f}% |")
        lines += [
            "",
            f"Compared: {', '.join(r.compared)}.",
            "",
            f"Only in pharmaverse (not compared): {', '.join(r.only_theirs) or 'none'}. "
            f"Only in ours: {', '.join(r.only_ours) or 'none'}.",
            "",
            str(notes[r.dataset]["not_compared"]).strip(),
            "",
        ]
        if r.differing:
            lines += ["| variable | differing values | why | examples |", "| --- | ---: | --- | --- |"]
            explanations = notes[r.dataset].get("explanations", {})
            unmatched = str(notes[r.dataset].get("unmatched", "NOT EXPLAINED")).strip()
            lines += [
                f"| {name} | {count} | {str(explanations.get(name, unmatched)).strip()} | {r.examples.get(name, '')} |"
                for name, count in r.differing.items()
            ]
        else:
            lines.append("Every compared value agrees.")
        lines.append("")
    return lines


def main(work: Path) -> None:
    notes = yaml.safe_load(NOTES.read_text(encoding="utf-8"))
    from_theirs = derive_from_sdtm(PHARMAVERSE / "sdtm", work / "adam", HERE / "specs")
    from_raw = convert(PHARMAVERSE / "raw", work / "convert", HERE / "specs")
    derived = [
        agreement(from_theirs.adam_dir / f"{n.lower()}.xpt", PHARMAVERSE / "adam" / f"{n.lower()}.xpt", k)
        for n, k in KEYS.items()
    ]
    chained = [
        agreement(from_raw.adam_dir / f"{n.lower()}.xpt", PHARMAVERSE / "adam" / f"{n.lower()}.xpt", k)
        for n, k in NATURAL_KEYS.items()
    ]
    lines = [
        "# CDISCPILOT01: cdisc-cup's ADaM against pharmaverse's",
        "",
        "Generated by `python examples/cdiscpilot01/make_comparison_adam.py` (do not edit; the",
        "explanations are in `comparison_adam.yaml`). pharmaverse's ADaM is admiral's templates",
        "`ad_adsl.R` and `ad_adae.R` run on pharmaverse's SDTM; ours is the specs",
        "`examples/cdiscpilot01/specs/adam/adsl.yaml` and `adae.yaml`. Values are compared with `cdisc_cup.compare`",
        "(as SAS reads them; SAS dates as numbers); a record only one side has counts as that many",
        "differing values.",
        "",
        *section("1. From pharmaverse's SDTM (`cdisc-cup adam`)", derived, notes),
        *section("2. From our SDTM of the raw CRF data (`cdisc-cup convert`)", chained, notes["from_raw"]),
    ]
    REPORT.write_text("\n".join(lines), encoding="utf-8")
    for title, results in (("adam", derived), ("convert", chained)):
        for r in results:
            total, agree = r.values()
            print(f"{title} {r.dataset}: {agree} of {total} values agree ({100 * agree / total:.2f}%)", r.differing)


if __name__ == "__main__":
    if len(sys.argv) > 1:
        main(Path(sys.argv[1]))
    else:
        with tempfile.TemporaryDirectory() as folder:
            main(Path(folder))
