"""Semantic rules beyond the corpus: edge cases where a rule must stay silent or must fire."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from loyalsim.load import load_text
from loyalsim.validate import validate_document
from tests.conftest import ROOT


def codes_for(document: dict[str, Any], file: str = "mem.yaml") -> list[str]:
    loaded = load_text(yaml.safe_dump(document, sort_keys=False), file)
    assert loaded.document is not None
    return [i.code for i in validate_document(loaded.document)[1]]


def program(name: str) -> dict[str, Any]:
    return yaml.safe_load((ROOT / "programs" / f"{name}.yaml").read_text())


def test_contiguous_bands_are_neither_gap_nor_overlap() -> None:
    assert codes_for(program("classic-rewards")) == []


def test_bands_out_of_order_are_judged_by_amount() -> None:
    doc = program("classic-rewards")
    doc["earn"][0]["bands"].reverse()
    assert codes_for(doc) == []


def test_unreachable_rule_is_silent_when_earning_is_unbounded() -> None:
    doc = program("hybrid-rewards")
    doc["rewards"]["catalog"][1]["cost"] = 10**9
    assert "LS207" not in codes_for(doc)


def test_unreachable_rule_counts_action_limits() -> None:
    doc = program("community-club")
    doc["earn"] = [{"id": "welcome", "kind": "action", "action": "sign_up", "points": 100}]
    doc["expiry"] = [{"kind": "rolling", "after": "1 month"}]
    # sign-up 100 + reviews 50x5x2 + events 200x2x2 + shares 10x10x2 = 1600 within a month at most
    doc["rewards"]["catalog"][0]["cost"] = 1600
    assert "LS207" not in codes_for(doc)
    doc["rewards"]["catalog"][0]["cost"] = 1601
    assert "LS207" in codes_for(doc)


def test_exempting_every_tier_silences_the_expiry_window_warning() -> None:
    doc = program("coffee-stars")
    doc["expiry"][0]["exempt_tiers"] = ["green", "gold", "reserve"]
    assert "LS208" not in codes_for(doc)


def test_money_precision_follows_the_currency() -> None:
    doc = program("classic-rewards")
    doc["metadata"]["currency"] = "JPY"
    doc["rewards"]["catalog"][0]["face_value"] = 10.5
    assert "LS226" in codes_for(doc)
    doc["metadata"]["currency"] = "KWD"
    doc["rewards"]["catalog"][0]["face_value"] = 10.125
    assert "LS226" not in codes_for(doc)
    doc["metadata"]["currency"] = "CLF"  # ISO 4217: four decimals (Unidad de Fomento)
    doc["rewards"]["catalog"][0]["face_value"] = 10.1255
    assert "LS226" not in codes_for(doc)
    doc["rewards"]["catalog"][0]["face_value"] = 10.12551
    assert "LS226" in codes_for(doc)


@pytest.mark.parametrize(
    ("code", "hint"),
    [
        ("XYZ", "such as USD"),
        ("EUE", "did you mean EUR?"),
        ("XAU", "the currency the program prices in"),
        ("XTS", "the currency the program prices in"),
    ],
)
def test_currency_must_be_a_real_iso_4217_code(code: str, hint: str) -> None:
    doc = program("classic-rewards")
    doc["metadata"]["currency"] = code
    loaded = load_text(yaml.safe_dump(doc, sort_keys=False), "mem.yaml")
    assert loaded.document is not None
    found = [i for i in validate_document(loaded.document)[1] if i.code == "LS243"]
    assert len(found) == 1 and hint in (found[0].hint or "") and found[0].line is not None


def test_every_iso_4217_code_with_a_minor_unit_is_accepted() -> None:
    from loyalsim.currencies import MINOR_UNITS
    from loyalsim.money import minor_units

    assert len(MINOR_UNITS) >= 160 and set(MINOR_UNITS.values()) == {0, 2, 3, 4}
    assert (minor_units("CLF"), minor_units("UYW"), minor_units("KWD"), minor_units("JPY")) == (4, 4, 3, 0)
    doc = program("classic-rewards")
    for code in MINOR_UNITS:
        doc["metadata"]["currency"] = code
        assert "LS243" not in codes_for(doc), code


def test_scenario_rules(tmp_path: Path) -> None:
    scenario = yaml.safe_load((ROOT / "scenarios" / "coffee-baseline.yaml").read_text())
    broken = copy.deepcopy(scenario)
    broken["population"]["segments"][0]["share"] = 0.5
    broken["programs"] = ["missing.yaml"]
    broken["guardrails"] = [
        {"id": "a", "metric": "liabilty", "stat": "p95", "max": 1},
        {"id": "b", "metric": "roi", "stat": "mean", "min": 2, "max": 1, "month": 99},
    ]
    broken["population"]["segments"].append(copy.deepcopy(broken["population"]["segments"][0]))
    broken["population"]["segments"][1]["basket"] = {"category": {"a": 0.5}}
    file = tmp_path / "s.yaml"
    assert sorted(codes_for(broken, str(file))) == ["LS302", "LS303", "LS304", "LS305", "LS306", "LS307"]
    broken["population"]["segments"][1]["share"] = 0.25
    assert "LS301" in codes_for(broken, str(file))


@pytest.mark.parametrize(
    ("horizon", "refused"),
    [
        ("50 years", False),
        ("600 months", False),
        ("601 months", True),
        ("9999 years", True),
        ("P51Y", True),
        ("P50Y1D", True),
    ],
)
def test_a_horizon_beyond_fifty_years_is_refused(tmp_path: Path, horizon: str, refused: bool) -> None:
    scenario = yaml.safe_load((ROOT / "scenarios" / "coffee-baseline.yaml").read_text())
    scenario["horizon"] = horizon
    scenario["programs"] = [str(ROOT / "programs" / "coffee-stars.yaml")]
    assert ("LS308" in codes_for(scenario, str(tmp_path / "s.yaml"))) is refused


def test_did_you_mean_on_unknown_metric(tmp_path: Path) -> None:
    scenario = yaml.safe_load((ROOT / "scenarios" / "coffee-baseline.yaml").read_text())
    scenario["guardrails"] = [{"id": "a", "metric": "liabilty", "stat": "p95", "max": 1}]
    loaded = load_text(yaml.safe_dump(scenario), str(tmp_path / "s.yaml"))
    assert loaded.document is not None
    messages = [i.message for i in validate_document(loaded.document)[1]]
    assert any("did you mean 'liability'" in m for m in messages)


@pytest.mark.parametrize(
    ("name", "response", "value", "needed"),
    [
        ("refer-a-friend", "referral_rate", 2.0, "referral rewards"),
        ("community-club", "action_rates", {"review": 0.5}, "community actions"),
        ("coffee-stars", "reminder_response", 0.1, "reminders"),
    ],
)
def test_a_mechanic_with_no_response_in_the_scenario_is_said(
    tmp_path: Path, name: str, response: str, value: object, needed: str
) -> None:
    scenario = yaml.safe_load((ROOT / "scenarios" / "coffee-baseline.yaml").read_text())
    scenario["programs"] = [str(ROOT / "programs" / f"{name}.yaml")]
    loaded = load_text(yaml.safe_dump(scenario, sort_keys=False), str(tmp_path / "s.yaml"))
    assert loaded.document is not None
    said = [i for i in validate_document(loaded.document)[1] if i.code == "LS309"]
    assert len(said) == 1 and needed in said[0].message and response in said[0].message
    assert said[0].severity.value == "warning"
    scenario["population"]["segments"][0]["response"][response] = value
    assert "LS309" not in codes_for(scenario, str(tmp_path / "s.yaml"))


@pytest.mark.parametrize(
    ("where", "value", "refused"),
    [
        (("earn", 0, "rate"), 1.234567, False),
        (("earn", 0, "rate"), 1.2345678, True),
        (("tiers", "levels", 1, "benefits", "earn_multiplier"), 1.0000001, True),
        (("campaigns", 0, "multiplier"), 2.5, False),
    ],
)
def test_rates_with_more_than_six_decimals_are_refused_at_validation(
    where: tuple[Any, ...], value: float, refused: bool
) -> None:
    """validate refuses what the compiler would (LS240), so CI and editors see it first."""
    document = program("coffee-stars")
    document.setdefault(
        "campaigns",
        [{"id": "c", "start": "2027-01-01", "end": "2027-01-31", "kind": "multiplier", "multiplier": 2}],
    )
    target: Any = document
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = value
    assert ("LS240" in codes_for(document)) is refused


@pytest.mark.parametrize(
    ("start", "refused"),
    [
        ("2027-01-01", False),
        ("2196-06-01", False),
        ("2198-06-01", True),
        ("9999-06-01", True),
        ("1899-12-01", True),
    ],
)
def test_a_forecast_outside_the_calendar_is_refused(tmp_path: Path, start: str, refused: bool) -> None:
    scenario = yaml.safe_load((ROOT / "scenarios" / "coffee-baseline.yaml").read_text())  # 36 months
    scenario["start"] = start
    scenario["programs"] = [str(ROOT / "programs" / "coffee-stars.yaml")]
    assert ("LS308" in codes_for(scenario, str(tmp_path / "s.yaml"))) is refused
