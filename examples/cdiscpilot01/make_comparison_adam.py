"""Write COMPARISON_ADAM.md: the pilot's ADaM as cdisc-cup derives it against pharmaverse's
(admiral's templates ad_adsl.R and ad_adae.R run on pharmaverse's SDTM).

    python examples/cdiscpilot01/make_comparison_adam.py

1. `cdisc-cup adam ../shared/pharmaverse/sdtm --specs examples/cdiscpilot01/specs`: the same
   SDTM admiral started from, so every difference is one of derivation. Records are matched
   by key (ADSL: USUBJID; ADAE: USUBJID + AESEQ).
2. `cdisc-cup convert ../shared/pharmaverse/raw` with the same specs: raw -> our SDTM -> our
   ADaM, paired by natural keys as COMPARISON.md pairs AE (our AESEQ numbers some AEs in
   another order); the differences there are those of the SDTM part carried into ADaM.

Values are compared as in COMPARISON.md (agreement.py); why each variable differs, the
variables that cannot agree and those not compared come from comparison_adam.yaml.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import yaml
from agreement import Agreement, CheckContext, agreement, cannot_agree_of

from cdisc_cup.pipeline import convert, derive_from_sdtm
from cdisc_cup.xpt.read import read_xpt_dataset

HERE = Path(__file__).resolve().parent
PHARMAVERSE = HERE.parents[2] / "shared" / "pharmaverse"
NOTES = HERE / "comparison_adam.yaml"
REPORT = HERE / "COMPARISON_ADAM.md"
KEYS = {"ADSL": (("USUBJID",),), "ADAE": (("USUBJID", "AESEQ"),)}
# As COMPARISON.md pairs AE: then without the start date the raw form lacks for 15 events.
NATURAL_KEYS = {
    "ADSL": (("USUBJID",),),
    "ADAE": (("USUBJID", "AETERM", "AESTDTC", "AEDTC"), ("USUBJID", "AETERM", "AEDTC")),
}


def _percent(total: int, agree: int) -> str:
    return f"{100 * agree / total:.2f}%" if total else "-"


def section(title: str, results: list[Agreement], notes: dict) -> list[str]:
    lines = [f"## {title}", ""]
    for r in results:
        total, agree = r.values()
        can_total, can_agree = r.can_agree_values()
        keys = "; then ".join(" + ".join(k) for k in r.key_sets)
        lines += [
            f"### {r.dataset} (key {keys})",
            "",
            f"Records: ours {r.records[0]}, pharmaverse {r.records[1]}, paired {r.records[2]}. "
            f"Values compared: {total}; agreeing: {agree} ({_percent(total, agree)}). "
            f"Of the values that can agree: {can_total}; agreeing: {can_agree} ({_percent(can_total, can_agree)}).",
            "",
            "| variable group | values compared | agree |",
            "| --- | ---: | ---: |",
        ]
        for group, names in notes[r.dataset]["groups"].items():
            total, agree = r.values(names)
            if total:
                lines.append(f"| {group} | {total} | {_percent(total, agree)} |")
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
        if r.cannot:
            lines += [
                "Values that cannot agree (set apart from the second figure above; the check decides which"
                " values its reason covers: all of the variable's, or those of some records):",
                "",
                "| variable | values compared | agree | set apart | of them agree | why (checked on the data) |",
                "| --- | ---: | ---: | ---: | ---: | --- |",
                *(
                    f"| {n} | {r.values([n])[0]} | {r.values([n])[1]} | {r.set_apart[n][0]} | {r.set_apart[n][1]} "
                    f"| {c.reason} ({c.check}) |"
                    for n, c in r.cannot.items()
                ),
                "",
            ]
        if any(r.unpaired):
            lines += [f"Records only in ours: {r.unpaired[0]}; only in pharmaverse: {r.unpaired[1]}.", ""]
        if r.differing:
            lines += ["| variable | differing values | why | examples |", "| --- | ---: | --- | --- |"]
            explanations = notes[r.dataset].get("explanations", {})
            for name, count in r.differing.items():
                lines.append(f"| {name} | {count} | {r.why(name, explanations)} | {r.examples.get(name, '')} |")
        else:
            lines.append("Every compared value agrees.")
        lines.append("")
    return lines


def compared(adam: Path, keys: dict, notes: dict, context: CheckContext) -> list[Agreement]:
    return [
        agreement(
            read_xpt_dataset(adam / f"{name.lower()}.xpt"),
            read_xpt_dataset(PHARMAVERSE / "adam" / f"{name.lower()}.xpt"),
            key_sets,
            cannot_agree_of(notes[name].get("cannot_agree")),
            context,
        )
        for name, key_sets in keys.items()
    ]


def main(work: Path) -> None:
    notes = yaml.safe_load(NOTES.read_text(encoding="utf-8"))
    from_theirs = derive_from_sdtm(PHARMAVERSE / "sdtm", work / "adam", HERE / "specs")
    from_raw = convert(PHARMAVERSE / "raw", work / "convert", HERE / "specs")
    ct = from_theirs.study.terminology
    derived = compared(from_theirs.adam_dir, KEYS, notes, CheckContext(terminology=ct))
    chained = compared(from_raw.adam_dir, NATURAL_KEYS, notes["from_raw"], CheckContext(from_raw.sdtm_dir, ct))
    lines = [
        "# CDISCPILOT01: cdisc-cup's ADaM against pharmaverse's",
        "",
        "Generated by `python examples/cdiscpilot01/make_comparison_adam.py` (do not edit; the",
        "explanations are in `comparison_adam.yaml`). pharmaverse's ADaM is admiral's templates",
        "`ad_adsl.R` and `ad_adae.R` run on pharmaverse's SDTM; ours is the specs",
        "`examples/cdiscpilot01/specs/adam/adsl.yaml` and `adae.yaml`. Values are compared with `cdisc_cup.compare`",
        "(as SAS reads them; SAS dates as numbers), records paired as in COMPARISON.md (`agreement.py`); a",
        "record only one side has counts as that many differing values. Values that cannot agree are",
        "listed with the reason (checked on the data), and the agreement is given over all compared",
        "values and over those that can agree.",
        "",
        *section("1. From pharmaverse's SDTM (`cdisc-cup adam`)", derived, notes),
        *section("2. From our SDTM of the raw CRF data (`cdisc-cup convert`)", chained, notes["from_raw"]),
    ]
    REPORT.write_text("\n".join(lines), encoding="utf-8")
    for title, results in (("adam", derived), ("convert", chained)):
        for r in results:
            print(
                f"{title} {r.dataset}: {100 * r.share:.2f}% of all values, "
                f"{100 * r.share_can_agree:.2f}% of those that can agree",
                r.differing,
            )


if __name__ == "__main__":
    if len(sys.argv) > 1:
        main(Path(sys.argv[1]))
    else:
        with tempfile.TemporaryDirectory() as folder:
            main(Path(folder))
