"""Value-axis labels: shares as percentages, ratios signed, money and counts with separators."""

from __future__ import annotations

import re

import pytest

from loyalsim.report.svg import COLOURS, line_chart, tick_text


@pytest.mark.parametrize(
    ("value", "step", "unit", "text"),
    [
        (0.45, 0.05, "share", "45%"),
        (0.0, 0.05, "share", "0%"),
        (0.004, 0.001, "share", "0.4%"),
        (0.0025, 0.0025, "share", "0.25%"),
        (-0.6, 0.2, "ratio", "-60%"),
        (0.2, 0.2, "ratio", "+20%"),
        (12000, 2000, "number", "12,000"),
        (0.25, 0.25, "number", "0.25"),
        (1250, 250, "number", "1,250"),
        (0.0, 0.25, "number", "0"),
    ],
)
def test_tick_labels(value: float, step: float, unit: str, text: str) -> None:
    assert tick_text(value, step, unit) == text


def test_a_chart_of_shares_has_distinct_percent_ticks_colours_and_a_legend_above_the_plot() -> None:
    x = [0.0, 1.0, 2.0]
    series = {f"s{i}": (x, [0.1 * i, 0.2, 0.3]) for i in range(6)}
    svg = line_chart(series, title="t", x_label="month", y_label="share", unit="share")
    ticks = re.findall(r">([^<>]*%)</text>", svg)
    assert len(ticks) >= 3 and len(set(ticks)) == len(ticks)  # no "0, 0, 0" axis
    colours = re.findall(r'<polyline fill="none" stroke="(#[0-9a-f]{6})"', svg)
    assert len(colours) == 6 and len(set(colours)) == 6 and set(colours) <= set(COLOURS)
    plot_top = min(float(y) for y in re.findall(r'<line x1="80" x2="\d+" y1="([\d.]+)"', svg))
    legend_bottom = max(float(y) for y in re.findall(r'<rect x="[\d.]+" y="([\d.]+)" width="14"', svg))
    assert legend_bottom + 3 < plot_top  # the legend stands above every grid line and line
