"""Every issue code loyalsim can report: its name, default severity and meaning.

Where: shared by the loader, the validator, the reporters (SARIF rule metadata) and
``loyalsim rules``. Codes are stable: a code is never reused for another meaning.

- LS0xx: reading the file (LS001-LS004 mean the file could not be read: exit code 2)
- LS1xx: the document does not match the published schema
- LS2xx: semantic rules on programs (LS24x: found while compiling)
- LS3xx: semantic rules on scenarios
- LS5xx: forecast guardrails (``loyalsim check``)
- LS9xx: about the checking itself (suppressions)
"""

from __future__ import annotations

from dataclasses import dataclass

from loyalsim.issues import Severity


@dataclass(frozen=True)
class CodeInfo:
    code: str
    name: str
    severity: Severity
    summary: str


E, W, N = Severity.ERROR, Severity.WARNING, Severity.INFO

_ENTRIES = [
    ("LS001", "unreadable-file", E, "The file does not exist or cannot be read."),
    ("LS002", "file-too-large", E, "The file is larger than the 1 MiB limit."),
    ("LS003", "binary-file", E, "The file is binary, not YAML text."),
    ("LS004", "bad-encoding", E, "The file is not valid UTF-8 (or BOM-marked UTF-16/32)."),
    ("LS010", "yaml-syntax", E, "The YAML cannot be parsed."),
    ("LS011", "duplicate-key", E, "A mapping defines the same key twice."),
    ("LS012", "forbidden-tag", E, "A YAML tag outside the core schema (e.g. !!python/object) is used."),
    ("LS013", "alias-limit", E, "Aliases expand to too many values (alias bomb) or are too many."),
    ("LS014", "too-deep", E, "Nesting is deeper than 64 levels."),
    ("LS015", "out-of-range", E, "A number (or text value) is too large."),
    ("LS016", "non-finite-number", E, "A number is infinite or NaN."),
    ("LS017", "multiple-documents", E, "The file holds more than one YAML document."),
    ("LS018", "empty-file", E, "The file holds no YAML document."),
    ("LS019", "not-a-mapping", E, "The top level of the file is not a mapping."),
    ("LS020", "merge-key", E, "A YAML 1.1 merge key (<<) is used."),
    ("LS021", "bad-key", E, "A mapping key is not plain text."),
    ("LS030", "unknown-kind", E, "The document's kind is missing or is neither Program nor Scenario."),
    ("LS100", "schema", E, "The document does not match the schema."),
    ("LS101", "unknown-key", E, "A key the language does not define (with a 'did you mean')."),
    ("LS102", "missing-key", E, "A required key is missing."),
    ("LS103", "wrong-type", E, "A value has the wrong type."),
    ("LS104", "not-allowed-value", E, "A value is not one of the allowed values."),
    ("LS105", "out-of-bounds", E, "A value or list length is outside its allowed range."),
    ("LS106", "bad-format", E, "A value does not have the required format (duration, date, id...)."),
    ("LS107", "duplicate-items", E, "A list that must hold distinct items repeats one."),
    ("LS201", "tier-thresholds-order", E, "Tier thresholds are not strictly increasing."),
    (
        "LS202",
        "first-tier-not-zero",
        W,
        "The lowest tier needs a threshold above 0, so new members have no tier.",
    ),
    ("LS203", "earn-bands-overlap", E, "Two earn bands of a rule overlap."),
    ("LS204", "earn-bands-gap", W, "Earn bands leave a gap in which spend earns nothing."),
    ("LS205", "spend-rate-or-bands", E, "A spend rule needs exactly one of rate or bands."),
    ("LS206", "reward-free", E, "A reward costs 0 points."),
    ("LS207", "reward-unreachable", E, "No member can collect a reward's cost before the points expire."),
    (
        "LS208",
        "expiry-shorter-than-tier-window",
        W,
        "Points expire faster than the tier window that counts them.",
    ),
    ("LS209", "campaign-dates", E, "A campaign ends before it starts."),
    ("LS210", "type-missing-mechanic", E, "The declared type lacks the mechanic it needs."),
    ("LS211", "unknown-tier", E, "A reference to a tier that is not defined."),
    ("LS212", "unknown-reward", E, "A reference to a reward that is not in the catalog."),
    ("LS213", "unknown-reference", E, "A reference to an earn rule, plan or action that is not defined."),
    ("LS214", "duplicate-id", E, "Two items of one list share an id."),
    ("LS215", "rate-100-percent", E, "A cashback, dividend or donation rate is 100% or more."),
    ("LS216", "rate-unusually-high", W, "A cashback or dividend rate above 20%."),
    ("LS217", "points-without-value", E, "Rewards exist but points have no monetary value."),
    ("LS218", "reward-value-inconsistent", W, "A reward's value per point is far from points.value."),
    (
        "LS219",
        "tier-multiplier-decreasing",
        W,
        "A higher tier earns at a lower multiplier than a lower tier.",
    ),
    ("LS220", "mechanic-outside-type", N, "A mechanic is present that the declared type does not name."),
    ("LS221", "exact-rounding-needs-decimals", E, "Rounding 'exact' on points that hold no decimals."),
    ("LS222", "referral-without-reward", E, "A referral program rewards neither referrer nor referee."),
    ("LS223", "cap-inconsistent", W, "A per-period cap is smaller than the per-transaction cap."),
    ("LS224", "auto-redeem-without-default", E, "Auto-redemption with several rewards and no default."),
    ("LS225", "campaign-no-effect", W, "A campaign multiplier of 1 changes nothing."),
    ("LS226", "money-precision", E, "An amount has more decimals than the currency allows."),
    ("LS227", "reminder-without-mechanic", W, "A reminder about a mechanic the program does not have."),
    ("LS228", "bad-date", E, "A date or month-day that does not exist."),
    ("LS229", "empty-band", E, "An earn band whose upper bound is not above its lower bound."),
    (
        "LS230",
        "redemption-min-balance",
        W,
        "The minimum balance after redemption exceeds the cheapest reward.",
    ),
    ("LS240", "precision-limit", E, "A rate or multiplier has more than 6 decimal places."),
    ("LS241", "window-in-months", N, "A rolling tier window given in days is counted in calendar months."),
    (
        "LS242",
        "multiplier-overflow",
        E,
        "Multipliers that stack on one rule are too large to compute exactly.",
    ),
    ("LS243", "unknown-currency", E, "The program's currency is not an ISO 4217 code with a minor unit."),
    ("LS301", "segment-shares", E, "Segment shares do not add up to 1."),
    ("LS302", "program-not-found", E, "A program file named by the scenario does not exist."),
    ("LS303", "guardrail-bounds", E, "A guardrail's min is above its max."),
    ("LS304", "unknown-metric", E, "A guardrail names a metric loyalsim does not produce."),
    ("LS305", "guardrail-month", E, "A guardrail's month is beyond the horizon."),
    ("LS306", "basket-shares", W, "Basket category or channel shares do not add up to 1."),
    ("LS307", "duplicate-segment", E, "Two segments share an id."),
    (
        "LS308",
        "horizon-too-long",
        E,
        "The horizon is longer than 50 years, or runs outside the years 1900-2199.",
    ),
    (
        "LS309",
        "mechanic-without-response",
        W,
        "A program's mechanic has no response in the scenario, so it does nothing there.",
    ),
    ("LS310", "history-start", E, "A history's forecast does not start the day after its as_of."),
    ("LS311", "customers-without-segments", E, "New customers are asked for, but no segment describes them."),
    ("LS312", "history-not-found", E, "The history's transaction file does not exist."),
    ("LS313", "history-unusable", E, "The history has rejected rows, or too little to fit its models."),
    (
        "LS314",
        "distribution-out-of-order",
        E,
        "A triangular response distribution's low, mode and high are not in order.",
    ),
    ("LS500", "guardrail-failed", E, "A forecast guardrail failed (loyalsim check)."),
    ("LS501", "guardrail-passed", N, "A forecast guardrail passed (loyalsim check)."),
    (
        "LS502",
        "guardrail-unavailable",
        E,
        "A guardrail's metric or month cannot be measured by this version.",
    ),
    ("LS900", "suppression-ignored", W, "A suppression names an error; errors cannot be suppressed."),
]

CATALOG: dict[str, CodeInfo] = {
    code: CodeInfo(code, name, sev, summary) for code, name, sev, summary in _ENTRIES
}


def info(code: str) -> CodeInfo:
    return CATALOG.get(code) or CodeInfo(code, "unknown", Severity.ERROR, "")
