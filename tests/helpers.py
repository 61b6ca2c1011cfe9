"""Test helpers: compile programs from dicts, build transactions from rows, replay them."""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from loyalsim.compile import compile_document
from loyalsim.compile.calendar import day_number
from loyalsim.compile.policy import Policy
from loyalsim.load import load_text
from loyalsim.replay.engine import ReplayEngine, ReplayResult
from loyalsim.transactions.reader import Transactions, sort_transactions


def program(body: dict[str, Any], currency: str = "USD") -> Policy:
    """Compile a program given its body (type and mechanics); header fields are filled in."""
    document = {
        "apiVersion": "loyalsim/v1",
        "kind": "Program",
        "metadata": {"name": "t", "currency": currency},
        **body,
    }
    loaded = load_text(json.dumps(document), "test.yaml")
    assert loaded.document is not None, loaded.issues
    return compile_document(loaded.document)


def transactions(rows: list[tuple[Any, ...]], minor_units: int = 2) -> Transactions:
    """Rows of (customer, date, amount[, kind[, transaction_id[, category[, channel]]]])."""
    customers = sorted({str(r[0]) for r in rows})
    index = {c: i for i, c in enumerate(customers)}
    n = len(rows)

    def column(position: int, default: Any) -> Any:
        return np.array([r[position] if len(r) > position else default for r in rows], dtype=object)

    def coded(values: Any) -> tuple[Any, Any]:
        table = np.array(sorted({str(v) for v in values if v}), dtype=object)
        if not table.size:
            return None, np.zeros(0, dtype=object)
        return np.array(
            [int(np.searchsorted(table.astype(str), str(v))) if v else -1 for v in values], dtype=np.int64
        ), table

    tid, tids = coded(column(4, ""))
    category, categories = coded(column(5, ""))
    channel, channels = coded(column(6, ""))
    tx = Transactions(
        customer=np.array([index[str(r[0])] for r in rows], dtype=np.int64),
        customer_ids=np.array(customers, dtype=object),
        day=np.array([day_number(r[1]) for r in rows], dtype=np.int64),
        second=np.zeros(n, dtype=np.int64),
        amount=np.array([round(abs(float(r[2])) * 10**minor_units) for r in rows], dtype=np.int64),
        is_return=np.array([len(r) > 3 and r[3] == "return" for r in rows], dtype=bool),
        transaction_id=tid,
        category=category,
        channel=channel,
        quantity=np.ones(n, dtype=np.int64),
        row=np.arange(n, dtype=np.int64) + 2,
        file="mem.csv",
        rejected=[],
        transaction_ids=tids,
        categories=categories,
        channels=channels,
    )
    return sort_transactions(tx)


def replay(policy: Policy, rows: list[tuple[Any, ...]], redeem: str = "program") -> ReplayResult:
    tx = transactions(rows, policy.minor_units)
    engine = ReplayEngine(policy, tx.customer_ids, redeem=redeem)
    engine.run(tx)
    return engine.finish()


def monthly(result: ReplayResult, customer: str) -> list[dict[str, Any]]:
    """One customer's months as dicts of whole points (for readable assertions)."""
    from loyalsim.compile.calendar import month_label

    index = int(np.flatnonzero(result.customer_ids == customer)[0])
    scale = result.policy.scale
    out = []
    for rows in result.months:
        hit = np.flatnonzero(rows.customer == index)
        if hit.size:
            i = int(hit[0])
            out.append(
                {
                    "month": month_label(rows.month),
                    "earned": int(rows.earned[i]) // scale,
                    "redeemed": int(rows.redeemed[i]) // scale,
                    "expired": int(rows.expired[i]) // scale,
                    "balance": int(rows.balance[i]) // scale,
                    "tier": result.policy.tier_name(int(rows.tier[i])) if result.policy.tiers else None,
                }
            )
    return out


def small_scenario(
    folder: Any,
    *,
    initial: int = 2000,
    arrivals: int = 50,
    horizon: str = "6 months",
    guardrails: list[dict[str, Any]] | None = None,
    replications: int | None = None,
) -> Any:
    """The canonical coffee scenario, shrunk for tests, written to ``folder/s.yaml``; returns its path."""
    import yaml

    from tests.conftest import ROOT

    scenario = yaml.safe_load((ROOT / "scenarios" / "coffee-baseline.yaml").read_text())
    scenario["population"]["initial"], scenario["population"]["arrivals_per_month"] = initial, arrivals
    scenario["horizon"] = horizon
    scenario["programs"] = [str(ROOT / "programs" / "coffee-stars.yaml")]
    if guardrails is None:
        scenario.pop("guardrails")
    else:
        scenario["guardrails"] = guardrails
    if replications is not None:
        scenario["replications"] = replications
    path = folder / "s.yaml"
    path.write_text(yaml.safe_dump(scenario, sort_keys=False))
    return path


def alias_bomb(levels: int) -> str:
    """A "billion laughs" YAML: each of ``levels`` anchors aliases the previous one nine times."""
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    previous = "a"
    for name in "bcdefghijklmnop"[: levels - 1]:
        lines.append(f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]")
        previous = name
    return "\n".join(lines) + "\n"


def self_selection_scenario(folder: Any, *, initial: int = 20000, name: str = "s") -> Any:
    """tests/data/response/self-selection.yaml (a known lift, self-selected enrolment) with
    ``initial`` customers, written to ``folder/NAME.yaml`` with its program's absolute path."""
    import yaml

    from tests.conftest import DATA, ROOT

    data = yaml.safe_load((DATA / "response" / "self-selection.yaml").read_text())
    data["programs"] = [str(ROOT / "programs" / "classic-rewards.yaml")]
    data["population"]["initial"] = initial
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def synthetic_data(folder: Any, *, initial: int = 20000) -> Any:
    """Transactions and members the installed `loyalsim simulate --transactions` writes from
    :func:`self_selection_scenario`; the folder holding them."""
    from tests.conftest import ROOT, run_cli

    program = str(ROOT / "programs" / "classic-rewards.yaml")
    scenario = self_selection_scenario(folder, initial=initial)
    done = run_cli(
        "simulate",
        program,
        str(scenario),
        "--out",
        str(folder / "sim"),
        "--transactions",
        str(folder / "data"),
    )
    assert done.returncode == 0, done.stderr
    assert "synthetic data:" in done.stderr
    return folder / "data"
