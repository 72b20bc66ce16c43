"""Figure 1 of the paper: a swimmer plot of each patient's participation in the CUP.

One horizontal bar per treated patient from the first isatuximab dose (ADSL.ISASDT, as the
paper draws it; ADSL.TRTSDT unless pomalidomide or dexamethasone was started earlier) to the
end of participation (ADSL.EOPDT: the end of treatment after a premature discontinuation,
the figure's cut-off for patients treated to the regular end of the CUP). The marker after a
bar gives the reason of a premature discontinuation, with the paper's symbols.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display; must precede pyplot

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.collections import PolyCollection

from cdisc_cup.spec.model import StudySpec

BAR_COLOUR = "#4c9a5a"
# Up to this many patients each bar is labelled with its patient number, as in the paper;
# beyond it a label per bar is unreadable (and laying out thousands of labels takes minutes),
# so the axis shows the patient count and the figure keeps a bounded height.
MAX_LABELLED_PATIENTS = 60
MAX_HEIGHT_INCHES = 14.0
MARKER_OFFSET = pd.Timedelta(days=5)  # the discontinuation symbol sits just after the bar
# ADSL.DCTREAS -> (marker symbol of the paper, legend text)
MARKERS = {
    "PROGRESSIVE DISEASE": (r"\#", "discontinuation due to progression"),
    "DEATH": ("*", "discontinuation due to death"),
    "OTHER": ("+", "discontinuation due to other reasons"),
}


FIGURE = "figure1"  # the file stem, and the output name of its result display


def figure_title(study: StudySpec) -> str:
    """The figure's title, with the id of its result display when the study declares one."""
    return study.display_title(FIGURE, "Figure 1. Individual patient participation time in the CUP")


def swimmer_frame(adsl: pd.DataFrame) -> pd.DataFrame:
    """Bars to draw, longest participation at the top (the last row is drawn highest)."""
    treated = adsl[adsl["ISASDT"].notna() & adsl["EOPDT"].notna()]
    bars = pd.DataFrame(
        {
            "SUBJID": treated["SUBJID"].astype("string"),
            "START": pd.to_datetime(treated["ISASDT"]),
            "END": pd.to_datetime(treated["EOPDT"]),
            "REASON": treated["DCTREAS"].astype("string"),
        }
    )
    bars["DAYS"] = (bars["END"] - bars["START"]).dt.days + 1
    return bars.sort_values(["DAYS", "SUBJID"], ascending=[True, False]).reset_index(drop=True)


def _draw_labelled(axes: Axes, bars: pd.DataFrame) -> None:
    """The paper's look: one outlined bar per patient, the reason's symbol after it."""
    axes.barh(
        list(range(len(bars))),
        bars["DAYS"],
        left=bars["START"],
        height=0.62,
        color=BAR_COLOUR,
        edgecolor="#2f6b3a",
        linewidth=0.6,
        zorder=2,
    )
    for reason, (symbol, _) in MARKERS.items():
        chosen = bars[bars["REASON"] == reason]
        axes.scatter(
            chosen["END"] + MARKER_OFFSET,
            chosen.index,
            marker=f"${symbol}$",
            s=70,
            color="#222",
            linewidths=0,
            zorder=3,
        )


def _bar_outlines(bars: pd.DataFrame) -> np.ndarray:
    """Rectangle corners (patients x 4 x 2, in axis units) of bars of full row height, as barh draws them."""
    start = mdates.date2num(bars["START"].to_numpy())
    end = start + bars["DAYS"].to_numpy(dtype=float)
    low = np.arange(len(bars), dtype=float) - 0.5
    high = low + 1.0
    return np.stack(
        [np.column_stack(corner) for corner in ((start, low), (start, high), (end, high), (end, low))], axis=1
    )


def _draw_many(axes: Axes, bars: pd.DataFrame) -> None:
    """All bars as one collection and each reason's markers as one line of markers.

    Thousands of Rectangle patches and scatter points take minutes to lay out and make an SVG
    of tens of megabytes; one rasterized artist each draws in a fraction of a second and the SVG
    embeds them as one bitmap (the rows are thinner than a pixel anyway). Positions are
    Matplotlib date numbers, not dates: on an axis with date units a collection converts the
    outline of every bar separately each time it is drawn.
    """
    axes.add_collection(
        PolyCollection(
            _bar_outlines(bars), facecolors=BAR_COLOUR, edgecolors="none", linewidths=0, zorder=2, rasterized=True
        ),
        autolim=False,
    )
    for reason, (symbol, _) in MARKERS.items():
        chosen = bars[bars["REASON"] == reason]
        axes.plot(
            mdates.date2num((chosen["END"] + MARKER_OFFSET).to_numpy()),
            chosen.index.to_numpy(dtype=float),
            linestyle="none",
            marker=f"${symbol}$",
            markersize=3.5,
            markeredgewidth=0,
            color="#222",
            zorder=3,
            rasterized=True,
        )


def draw_swimmer_plot(study: StudySpec, adsl: pd.DataFrame) -> plt.Figure:
    bars = swimmer_frame(adsl)
    cup_end = pd.Timestamp(str(study.parameters["cup_end"]))
    cutoff = pd.Timestamp(str(study.parameters["figure_cutoff"]))
    labelled = len(bars) <= MAX_LABELLED_PATIENTS
    height = min(max(3.0, 0.32 * len(bars) + 1.6), MAX_HEIGHT_INCHES)
    figure, axes = plt.subplots(figsize=(8.5, height), dpi=150)
    if labelled:
        _draw_labelled(axes, bars)
    else:
        _draw_many(axes, bars)
    axes.axvline(mdates.date2num(cup_end), color="#666", linestyle="--", linewidth=0.9, zorder=1)
    axes.text(
        mdates.date2num(cup_end - pd.Timedelta(days=2)),
        len(bars) - 0.2,
        "regular end of CUP\n31 Jan 2021",
        fontsize=7.5,
        color="#444",
        va="bottom",
        ha="right",
    )
    if labelled:
        axes.set_yticks(list(range(len(bars))), bars["SUBJID"].tolist(), fontsize=8)
    else:
        axes.set_yticks([])
    axes.set_ylim(-0.7, len(bars) + 0.6)
    start = bars["START"].min() - pd.Timedelta(days=10) if len(bars) else cutoff
    axes.set_xlim(mdates.date2num(start), mdates.date2num(cutoff + pd.Timedelta(days=18)))
    axes.xaxis.set_major_locator(mdates.MonthLocator())
    axes.xaxis.set_major_formatter(mdates.DateFormatter("%b\n%Y"))
    axes.tick_params(axis="x", labelsize=8)
    axes.set_xlabel("Date", fontsize=9)
    axes.set_ylabel("Patient" if labelled else f"Patients (n = {len(bars)})", fontsize=9)
    axes.grid(axis="x", color="#ddd", linewidth=0.6, zorder=0)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    legend = "   ".join(f"{symbol.lstrip(chr(92))} {text}" for symbol, text in MARKERS.values())
    axes.set_title(figure_title(study), fontsize=10, loc="left", fontweight="bold")
    figure.text(
        0.01,
        0.01,
        legend + f"\nBars: first isatuximab dose to end of therapy/CUP; patients "
        f"treated until the regular end of the CUP end on {cutoff:%d %B %Y}.",
        fontsize=7.5,
        color="#333",
        ha="left",
        va="bottom",
    )
    figure.tight_layout(rect=(0, 0.05, 1, 1))
    return figure


def write_swimmer_plot(study: StudySpec, adsl: pd.DataFrame, stem: Path) -> list[Path]:
    """`stem`.png and `stem`.svg; fixed metadata so reruns give the same files."""
    figure = draw_swimmer_plot(study, adsl)
    paths = [stem.with_suffix(".png"), stem.with_suffix(".svg")]
    try:
        figure.savefig(paths[0], metadata={"Software": None})
        # the ids of clip paths and markers in an SVG are random unless salted
        with plt.rc_context({"svg.hashsalt": "cdisc-cup"}):
            figure.savefig(paths[1], metadata={"Date": None, "Creator": None})
    finally:
        plt.close(figure)
    return paths
