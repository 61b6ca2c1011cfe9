"""``loyalsim backtest``'s rendering (called from cli.app; the job is ``api.backtest``)."""

from __future__ import annotations

from typing import Any


def render_text(document: dict[str, Any], out: str | None) -> str:
    """Each metric's total over the months, forecast against actual, with its errors."""
    lines = [
        f"{document['program']['name']} on {document['scenario']['name']}: forecast from "
        f"{document['as_of']} to {document['until']} ({document['replications']} replication(s)) "
        "against the same history replayed past as_of",
        f"{'metric':20}{'actual':>14}{'forecast':>14}{'P5 to P95':>26}{'bias':>9}{'MAPE':>8}{'inside':>9}",
    ]
    for name, figures in document["metrics"].items():
        total = figures["total"]
        bias = "-" if figures["bias"] is None else f"{figures['bias']:+.1%}"
        mape = "-" if figures["mape"] is None else f"{figures['mape']:.1%}"
        band = f"{total['p5']:,.0f} to {total['p95']:,.0f}"
        inside = f"{sum(figures['inside'])}/{len(figures['inside'])}"
        lines.append(
            f"{name:20}{total['actual']:>14,.0f}{total['mean']:>14,.0f}{band:>26}{bias:>9}{mape:>8}{inside:>9}"
        )
    lines.append(
        "totals: flows summed over the months, stocks at the last month; inside: months whose actual "
        "lies in the forecast's P5-P95"
    )
    if out is not None:
        lines.append(
            f"results written to {out}/ (backtest.html, backtest.csv, backtest.parquet, backtest.json)"
        )
    return "\n".join(lines) + "\n"
