"""The simulation report opened in a real headless Chromium: it renders, with every chart and
no console errors; `loyalsim report DIR` re-renders it from the saved results."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_cli
from tests.helpers import small_scenario, synthetic_data

# Every test here starts several processes or a browser: the full run only (make test).
pytestmark = pytest.mark.slow

CHARTS = (
    "liability",
    "deferred",
    "customers",
    "members",
    "tiers",
    "points",
    "breakage",
    "revenue",
    "economics",
    "flows",
    "cohorts",
)


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if not found:
        if os.environ.get("CI"):
            pytest.fail("chromium is required in CI (.ci/run installs it)")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return found


def open_in_browser(page: Path, profile: Path) -> tuple[str, str]:
    result = subprocess.run(
        [
            chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={profile}",
            "--enable-logging=stderr",
            "--v=0",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout, result.stderr


def assert_charts_read(dom: str) -> None:
    """Every line chart the browser rendered reads: its title fits, its value-axis labels are
    distinct (no "0, 0, 0"), its legend stands clear of the plot, and it draws a line."""
    charts = [block.split("</svg>", 1)[0] for block in dom.split("<svg")[1:]]
    assert charts
    for svg in charts:
        width = float(re.search(r'viewBox="0 0 (\d+)', svg).group(1))  # type: ignore[union-attr]
        for size, title in re.findall(r'font-weight="bold" font-size="([\d.]+)">([^<]*)<', svg):
            assert float(size) * 0.62 * len(title) <= width - 24 + 1e-6, title
        if "<polyline" not in svg:
            continue  # a tornado chart: its own test checks labels and axis
        ticks = re.findall(r'text-anchor="end" font-size="11">([^<]*)</text>', svg)
        assert len(ticks) >= 2 and len(set(ticks)) == len(ticks), ticks
        grid = [float(y) for y in re.findall(r'<line x1="80" x2="[\d.]+" y1="([\d.]+)"', svg)]
        legend = [float(y) for y in re.findall(r'<rect x="[\d.]+" y="([\d.]+)" width="14" height="3"', svg)]
        assert legend and max(legend) + 3 < min(grid), "legend over the plot"
        # Something drawn: a line with points (a flat line is a finding, e.g. a sweep axis that moves nothing).
        assert any(len(points.split()) > 1 for points in re.findall(r'<polyline[^>]* points="([^"]+)"', svg))


def test_report_renders_in_chromium_with_every_chart(tmp_path: Path) -> None:
    path = small_scenario(tmp_path, initial=1500, arrivals=30, horizon="12 months")
    out = tmp_path / "sim"
    assert (
        run_cli(
            "simulate",
            str(ROOT / "programs" / "coffee-stars.yaml"),
            str(path),
            "--replications",
            "3",
            "--out",
            str(out),
        ).returncode
        == 0
    )
    page = out / "report.html"
    text = page.read_text()
    assert "http://" not in text.replace('xmlns="http://www.w3.org/2000/svg"', "") and "<script" not in text
    dom, log = open_in_browser(page, tmp_path / "profile")
    drawn = [chart for chart in CHARTS if chart != "flows"]  # coffee-stars has no fees, cashback or dividends
    for chart in drawn:
        assert f'id="{chart}"' in dom, chart
    assert 'id="flows"' not in dom and "Not drawn, being zero throughout for this program: Fees" in dom
    assert_charts_read(dom)
    assert dom.count("<polyline") >= len(drawn) and "Liability at cost, 2027-12" in dom
    # Every drawn line moves (no empty chart), and shares read as percentages, money in the program's currency.
    for points in re.findall(r'<polyline[^>]* points="([^"]+)"', dom):
        assert len({pair.split(",")[1] for pair in points.split()}) > 1, points[:80]
    breakage = dom[dom.index('id="breakage"') :]
    breakage = breakage[: breakage.index("</svg>")]
    assert re.search(r">\d+(\.\d+)?%</text>", breakage) and ">0</text>" not in breakage
    liability = dom[dom.index('id="liability"') :]
    assert ">USD</text>" in liability[: liability.index("</svg>")]
    for figure in (
        "Program cost (accrual)",
        "Incremental gross margin vs control",
        "ROI",
        "NPV of the net benefit",
    ):
        assert figure in dom, figure
    console = [line for line in log.splitlines() if "CONSOLE" in line or "Uncaught" in line]
    assert console == []
    page.unlink()
    again = run_cli("report", str(out))
    assert (
        again.returncode == 0 and page.read_text() == text
    )  # re-rendered from the saved results, identically
    assert run_cli("report", str(tmp_path / "nothing")).returncode == 2


def test_compare_report_renders_side_by_side_in_chromium(tmp_path: Path) -> None:
    path = small_scenario(tmp_path, initial=1200, arrivals=20, horizon="6 months")
    out = tmp_path / "cmp"
    result = run_cli(
        "compare",
        str(ROOT / "programs" / "coffee-stars.yaml"),
        str(ROOT / "programs" / "classic-rewards.yaml"),
        str(path),
        "--replications",
        "2",
        "--out",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    dom, log = open_in_browser(out / "compare.html", tmp_path / "profile")
    for chart in ("figures", "liability", "customers", "net-benefit"):
        assert f'id="{chart}"' in dom, chart
    for label in (
        "Program cost",
        "Incremental gross margin",
        "ROI",
        "NPV of net benefit",
        "Active customers vs control, end",
    ):
        assert f"<th>{label}</th>" in dom, label
    assert_charts_read(dom)
    assert dom.count(">USD</text>") == 2  # money axes name the programs' currency
    assert [line for line in log.splitlines() if "CONSOLE" in line or "Uncaught" in line] == []


def test_sweep_report_renders_in_chromium(tmp_path: Path) -> None:
    path = small_scenario(tmp_path, initial=1000, arrivals=10, horizon="4 months")
    out = tmp_path / "sweep"
    result = run_cli(
        "sweep",
        str(ROOT / "programs" / "coffee-stars.yaml"),
        str(path),
        "--set",
        "earn[0].rate=1,2,3",
        "--set",
        "economics.fixed_costs_per_month=0,5000",
        "--replications",
        "2",
        "--out",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    dom, log = open_in_browser(out / "sweep.html", tmp_path / "profile")
    assert dom.count("<tr>") == 1 + 6  # header and six points
    for metric in ("liability_at_cost_end", "incremental_revenue", "program_cost", "roi", "npv"):
        assert f'id="sweep-{metric}"' in dom, metric
    # One line per value of the second axis, across the three values of the first.
    assert 'data-series="economics.fixed_costs_per_month=0"' in dom and "is highest" in dom
    assert_charts_read(dom)
    assert "- to -" not in dom  # every figure has its P5-P95 range, incremental revenue included
    assert [line for line in log.splitlines() if "CONSOLE" in line or "Uncaught" in line] == []


def test_a_paid_programs_report_shows_its_subscribers_and_no_line_of_zeros(tmp_path: Path) -> None:
    path = small_scenario(tmp_path, initial=1500, arrivals=30, horizon="12 months")
    out = tmp_path / "paid"
    result = run_cli(
        "simulate",
        str(ROOT / "programs" / "paid-membership.yaml"),
        str(path),
        "--replications",
        "2",
        "--out",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    dom, _ = open_in_browser(out / "report.html", tmp_path / "profile")
    assert 'id="subscribers"' in dom and "paid subscribers at the end" in dom
    flows = dom[dom.index('id="flows"') :]
    flows = flows[: flows.index("</svg>")]
    assert 'data-legend="fee revenue"' in flows and 'data-legend="cashback accrued"' not in flows
    assert_charts_read(dom)
    for size, title in re.findall(r'font-weight="bold" font-size="([\d.]+)">([^<]*)<', dom):
        assert float(size) * 0.62 * len(title) <= 720 - 24 + 1e-6  # every title fits its chart


def test_backtest_report_renders_in_chromium(tmp_path: Path) -> None:
    out = tmp_path / "bt"
    done = run_cli(
        "backtest",
        str(ROOT / "programs" / "classic-rewards.yaml"),
        str(ROOT / "scenarios" / "cdnow-book.yaml"),
        "--until",
        "1998-06-30",
        "--replications",
        "4",
        "--out",
        str(out),
    )
    assert done.returncode == 0, done.stderr
    page = out / "backtest.html"
    assert "<script" not in page.read_text()
    dom, log = open_in_browser(page, tmp_path / "profile")
    for chart in ("repeat_purchases-per-month", "repeat_purchases-cumulative", "liability_at_cost-per-month"):
        assert f'id="{chart}"' in dom, chart
    assert_charts_read(dom)
    assert "Backtest: classic-rewards on cdnow-book" in dom and "metric-months" in dom
    assert [line for line in log.splitlines() if "CONSOLE" in line or "Uncaught" in line] == []


def test_fit_response_report_renders_in_chromium(tmp_path: Path) -> None:
    """`fit response --out`'s report, on data `simulate --transactions` wrote."""
    data = synthetic_data(tmp_path)
    out = tmp_path / "response.yaml"
    done = run_cli(
        "fit",
        "response",
        str(data / "transactions.csv"),
        "--members",
        str(data / "members.csv"),
        "--out",
        str(out),
    )
    assert done.returncode == 0, done.stderr
    page = out.with_suffix(".report.html")
    assert "<script" not in page.read_text()
    dom, log = open_in_browser(page, tmp_path / "profile")
    assert 'id="lift-by-quarter"' in dom and 'id="estimates"' in dom and "naive" in dom
    assert_charts_read(dom)
    assert [line for line in log.splitlines() if "CONSOLE" in line or "Uncaught" in line] == []
