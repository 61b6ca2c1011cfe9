"""Guardrails measured on a hand-made monthly table: flows, stocks, ROI, NPV and what cannot be measured."""

from __future__ import annotations

import pyarrow as pa
import pytest

from loyalsim.measure.guardrails import evaluate


def table(cost: float) -> pa.Table:
    rows = []
    for rep, scale in ((0, 1.0), (1, 2.0)):
        for month, factor in (("2027-01", 0.99), ("2027-02", 0.98)):
            rows.append(
                {
                    "replication": rep,
                    "month": month,
                    "arm": "program",
                    "revenue": 100.0 * scale,
                    "liability_at_cost": 10.0 * scale if month == "2027-02" else 5.0,
                    "net_benefit": 30.0 * scale,
                    "program_cost": cost * scale,
                    "discount_factor": factor,
                    "customers": 50,
                }
            )
            rows.append(
                {
                    "replication": rep,
                    "month": month,
                    "arm": "control",
                    "revenue": 80.0 * scale,
                    "liability_at_cost": None,
                    "net_benefit": None,
                    "program_cost": None,
                    "discount_factor": None,
                    "customers": 45,
                }
            )
    return pa.Table.from_pylist(rows)


def test_flows_stocks_roi_and_npv_by_hand() -> None:
    guards = (
        {"id": "rev", "metric": "revenue", "stat": "mean", "min": 0},  # totals 200 and 400 → mean 300
        {"id": "inc", "metric": "incremental_revenue", "stat": "mean", "max": 0},  # 40 and 80 → 60: fails
        {"id": "lia", "metric": "liability", "stat": "mean", "month": 1, "max": 5},  # month 1: 5 and 5
        {"id": "end", "metric": "liability", "stat": "mean", "max": 100},  # end: 10 and 20 → 15
        {"id": "roi", "metric": "roi", "stat": "mean", "min": 1.2},  # 60/40 and 120/80 → 1.5
        {"id": "npv", "metric": "npv", "stat": "mean", "min": 0},  # 30x(0.99+0.98)=59.1 and 118.2 → 88.65
        {"id": "ret", "metric": "retention_lift", "stat": "mean", "min": 5},  # 50 - 45
    )
    outcomes = {o.guardrail["id"]: o for o in evaluate(guards, table(cost=20.0))}
    assert outcomes["rev"].value == pytest.approx(300.0) and outcomes["rev"].passed
    assert outcomes["inc"].value == pytest.approx(60.0) and outcomes["inc"].passed is False
    assert outcomes["lia"].value == pytest.approx(5.0) and outcomes["lia"].passed
    assert outcomes["end"].value == pytest.approx(15.0)
    assert outcomes["roi"].value == pytest.approx(1.5) and outcomes["roi"].passed
    assert outcomes["npv"].value == pytest.approx(88.65)
    assert outcomes["ret"].value == pytest.approx(5.0) and outcomes["ret"].passed


def test_an_roi_with_no_cost_cannot_be_measured() -> None:
    (outcome,) = evaluate(({"id": "roi", "metric": "roi", "stat": "mean", "min": 1},), table(cost=0.0))
    assert outcome.passed is None and "not defined" in outcome.message
