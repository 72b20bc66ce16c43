"""Shared fixtures: one conversion of sample_data/ per test session, and the shared/ folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from cdisc_cup.pipeline import ConversionResult, convert

REPO = Path(__file__).resolve().parents[1]
SAMPLE_DATA = REPO / "sample_data"
SHARED = REPO.parent / "shared"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """../shared beside the repository (CI clones the repo with shared/ next to it)."""
    assert SHARED.is_dir(), f"expected the shared folder at {SHARED}"
    return SHARED


@pytest.fixture(scope="session")
def converted_sample(tmp_path_factory: pytest.TempPathFactory) -> ConversionResult:
    """`cdisc-cup convert sample_data` as the README runs it, done once for all tests."""
    out = tmp_path_factory.mktemp("sample") / "out"
    return convert(SAMPLE_DATA, out)
