"""Figure 1 for studies of every size: the paper's labelled bars, or one artist for thousands of patients."""

from __future__ import annotations

from pathlib import Path

import matplotlib.dates as mdates
import matplotlib.image
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.patches import Rectangle

from cdisc_cup.spec.loader import load_study
from cdisc_cup.spec.model import StudySpec
from cdisc_cup.tables.figure import MARKERS, MAX_LABELLED_PATIENTS, draw_swimmer_plot, write_swimmer_plot

REASONS = np.array([*MARKERS, None], dtype=object)


@pytest.fixture(scope="module")
def study() -> StudySpec:
    return load_study()


def synthetic_adsl(patients: int) -> pd.DataFrame:
    """ADSL's figure variables; one patient in 50 untreated (no bar)."""
    rng = np.random.default_rng(3)
    start = pd.Timestamp("2019-06-01") + pd.to_timedelta(rng.integers(0, 500, patients), unit="D")
    end = start + pd.to_timedelta(rng.integers(0, 400, patients), unit="D")
    treated = np.arange(patients) % 50 != 0
    return pd.DataFrame(
        {
            "SUBJID": [f"{10 + i // 1000:02d}-{i % 1000:03d}" for i in range(patients)],
            "ISASDT": start.where(treated),
            "EOPDT": end.where(end <= pd.Timestamp("2021-03-01"), pd.Timestamp("2021-03-01")),
            "DCTREAS": REASONS[np.arange(patients) % len(REASONS)],
        }
    )


def test_a_small_study_keeps_the_papers_labelled_bars(study: StudySpec) -> None:
    adsl = synthetic_adsl(MAX_LABELLED_PATIENTS)
    figure = draw_swimmer_plot(study, adsl)
    try:
        axes = figure.axes[0]
        bars = [p for p in axes.patches if isinstance(p, Rectangle)]
        treated = adsl["ISASDT"].notna().sum()
        assert len(bars) == treated
        labels = {tick.get_text() for tick in axes.get_yticklabels()}
        assert labels == set(adsl.loc[adsl["ISASDT"].notna(), "SUBJID"])
        assert not [c for c in axes.collections if isinstance(c, PolyCollection)]
        symbols = sorted(len(c.get_offsets()) for c in axes.collections)
        assert symbols == sorted(int((adsl.loc[adsl["ISASDT"].notna(), "DCTREAS"] == r).sum()) for r in MARKERS)
    finally:
        plt.close(figure)


def test_a_large_study_draws_one_bar_collection_and_one_marker_artist_per_reason(study: StudySpec) -> None:
    patients = 3_000
    adsl = synthetic_adsl(patients)
    figure = draw_swimmer_plot(study, adsl)
    try:
        axes = figure.axes[0]
        treated = adsl[adsl["ISASDT"].notna()]
        assert not axes.patches and axes.get_yticks().size == 0
        assert axes.get_ylabel() == f"Patients (n = {len(treated)})"
        (collection,) = [c for c in axes.collections if isinstance(c, PolyCollection)]
        assert len(collection.get_paths()) == len(treated) and collection.get_rasterized()
        # each bar spans the first dose to the end of the last day of participation, as barh draws it
        corners = np.array([path.vertices[:4] for path in collection.get_paths()])
        spans = pd.DataFrame({"start": corners[:, 0, 0], "end": corners[:, 2, 0]})
        expected = pd.DataFrame(
            {
                "start": mdates.date2num(treated["ISASDT"].to_numpy()),
                "end": mdates.date2num(treated["EOPDT"].to_numpy()) + 1,
            }
        )
        pd.testing.assert_frame_equal(
            spans.sort_values(["start", "end"], ignore_index=True),
            expected.sort_values(["start", "end"], ignore_index=True),
        )
        markers = [line for line in axes.lines if line.get_marker() != "None" and len(line.get_xdata()) > 1]
        assert sorted(len(line.get_xdata()) for line in markers) == sorted(
            int((treated["DCTREAS"] == reason).sum()) for reason in MARKERS
        )
        assert all(line.get_rasterized() for line in markers)
    finally:
        plt.close(figure)


def test_large_study_files_stay_small_and_reruns_give_the_same_bytes(study: StudySpec, tmp_path: Path) -> None:
    adsl = synthetic_adsl(5_000)
    first = write_swimmer_plot(study, adsl, tmp_path / "figure1")
    second = write_swimmer_plot(study, adsl, tmp_path / "again")
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]
    png, svg = first
    assert matplotlib.image.imread(png).shape[0] > 1000
    text = svg.read_text(encoding="utf-8")
    # the bars and markers are one embedded bitmap, not 5,000 vector shapes
    assert "<image" in text and text.count("<path") < 300 and len(text) < 1_500_000
