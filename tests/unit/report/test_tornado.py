"""Tornado charts: every label whole, a value axis, ROI swings in percentage points."""

from __future__ import annotations

import re

from loyalsim.report.sensitivity_html import _CHAR_PX, tornado

LONG = "population.segments[0].response.redemption_propensity (0.4 to 1)"


def test_long_labels_are_wrapped_inside_a_margin_sized_to_them_and_there_is_a_value_axis() -> None:
    svg = tornado(
        "t",
        "ROI",
        -0.66,
        [(LONG, -0.70, -0.60), ("economics.discount_rate (0.04 to 0.12)", -0.66, -0.65)],
        percent=True,
    )
    margin = float(re.search(r'<text x="([\d.]+)" text-anchor="end"', svg).group(1))  # type: ignore[union-attr]
    lines = re.findall(r"<tspan[^>]*>([^<]*)</tspan>", svg)
    assert "".join(lines).replace(" ", "") == (LONG + "economics.discount_rate (0.04 to 0.12)").replace(
        " ", ""
    )
    assert all(len(line) * _CHAR_PX <= margin for line in lines)
    bars = [
        float(x)
        for x in re.findall(r'<rect x="([\d.]+)" y="[\d.]+" width="[\d.]+" height="\d+" fill="#', svg)
    ]
    assert min(bars) >= margin
    ticks = re.findall(r'data-tick="1">([^<]*)</text>', svg)
    assert len(ticks) >= 3 and all(t.endswith("%") for t in ticks) and len(set(ticks)) == len(ticks)


def test_an_roi_swing_reads_in_percentage_points() -> None:
    from loyalsim.report.sensitivity_html import render

    row = {
        "assumption": "economics.gross_margin",
        "base_value": 0.6,
        "low_value": 0.45,
        "high_value": 0.75,
        "range_from": "default",
        "roi_at_low": -0.70,
        "roi_at_high": -0.60,
        "roi_swing": 0.10,
    }
    from loyalsim.run.sensitivity import METRICS

    for name in METRICS:
        if name != "roi":
            row |= {f"{name}_at_low": None, f"{name}_at_high": None, f"{name}_swing": None}
    page = render(
        {
            "assumptions": [row],
            "base": {"roi": -0.66},
            "program": {"name": "p", "content_hash": "x" * 12},
            "scenario": {"name": "s", "content_hash": "y" * 12},
            "replications": 2,
            "seed": 1,
        }
    )
    assert "+10.0 percentage points" in page and "+10.0%" not in page.split("moves most")[1].split(".")[0]
