"""CDISC CORE's own test cases (shared/core-rules) as datasets our rules run on.

Each `Published/CORE-NNNNNN/{positive,negative}/NN/` case has one CSV per dataset, the
variables' types and labels in `_variables.csv`, and in `results/results.csv` what CORE
reports (Dataset, Record, Variable, Value; Record is 1-based, empty for a dataset-level
result). Checking our rule on CORE's data shows where the two agree and where they differ.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from cdisc_cup.rules.engine import validate_datasets
from cdisc_cup.rules.loader import shipped_rules
from cdisc_cup.xpt.model import Dataset, XptVariable

PUBLISHED = Path(__file__).resolve().parents[3] / "shared" / "core-rules" / "Published"


@dataclass(frozen=True)
class CoreCase:
    folder: Path

    @property
    def kind(self) -> str:
        return self.folder.parent.name  # "positive" | "negative"

    @property
    def product(self) -> str:
        env = self.folder / "data" / ".env"
        lines = env.read_text(encoding="utf-8").splitlines() if env.exists() else []
        return next((line.split("=", 1)[1].upper() for line in lines if line.startswith("PRODUCT=")), "SDTMIG")

    def datasets(self) -> dict[str, Dataset]:
        data = self.folder / "data"
        variables = pd.read_csv(data / "_variables.csv", dtype=str, keep_default_na=False)
        labels = pd.read_csv(data / "_datasets.csv", dtype=str, keep_default_na=False)
        label_of = dict(zip(labels["Filename"].str.lower(), labels["Label"], strict=True))
        found = {}
        for path in sorted(p for p in data.glob("*.csv") if not p.name.startswith("_")):
            frame = pd.read_csv(path, dtype=str, keep_default_na=False)
            own = variables[variables["dataset"].str.lower() == path.stem.lower()].set_index("variable")
            metas = []
            for name in frame.columns:
                numeric = name in own.index and own.loc[name, "type"] == "Num"
                if numeric:
                    frame[name] = pd.to_numeric(frame[name], errors="coerce")
                label = own.loc[name, "label"] if name in own.index else name
                metas.append(XptVariable(name, label, "Num" if numeric else "Char", 8 if numeric else 200))
            found[path.stem.upper()] = Dataset(
                path.stem.upper(), label_of.get(path.stem.lower(), ""), frame, tuple(metas)
            )
        return found

    def reported(self) -> set[tuple[str, int | None]]:
        """(dataset, record) CORE reports; a record reported for several variables counts once."""
        results = pd.read_csv(self.folder / "results" / "results.csv", dtype=str, keep_default_na=False)
        return {(d.upper(), int(r) if r else None) for d, r in zip(results["Dataset"], results["Record"], strict=True)}


def core_cases(core_id: str) -> list[CoreCase]:
    """The SDTMIG cases of a CORE rule (SEND cases are left out: we check SDTM and ADaM)."""
    folders = sorted(PUBLISHED.glob(f"{core_id}/*/[0-9]*"))
    return [case for case in map(CoreCase, folders) if case.product == "SDTMIG"]


def our_findings(rule_id: str, case: CoreCase) -> pd.DataFrame:
    """Our rule's findings on the case's datasets (validated as SDTM)."""
    rules = [r for r in shipped_rules() if r.rule_id == rule_id]
    return validate_datasets(case.datasets(), standard="sdtm", rules=rules).findings
