"""Checks on the code itself: packaging complete, no loops over records on the hot path."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_every_subpackage_is_packaged() -> None:
    listed = set(tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(REPO).parts) for p in (REPO / "cdisc_cup").rglob("__init__.py")}
    assert found <= listed, f"add to pyproject [tool.setuptools] packages: {sorted(found - listed)}"


def test_no_row_loops_in_the_package() -> None:
    """Records are processed with column operations, never one by one (issue #9); ISO 8601
    text comes from numpy (`iso_dates`), not from `dt.strftime`, which formats value by value."""
    pattern = re.compile(r"\.iterrows\(|\.itertuples\(|\.apply\([^)]*axis\s*=\s*1|\.dt\.strftime\(")
    offenders = [
        f"{path.relative_to(REPO)}:{number}"
        for path in (REPO / "cdisc_cup").rglob("*.py")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if pattern.search(line)
    ]
    assert offenders == []
