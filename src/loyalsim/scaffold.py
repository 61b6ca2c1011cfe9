"""`loyalsim init`: a starter project — a program, a scenario, the schemas and CI files.

Where: outside the pipeline; the CLI's ``init`` command calls :func:`starter_files` and
:func:`write_starter`. Every file it writes is one the rest of loyalsim accepts as it is:
the program and scenario validate with no issue, the scenario's guardrails pass under
``loyalsim check``, the workflow runs the same commands the README's CI section shows
(tests check all three).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from loyalsim.errors import UsageError
from loyalsim.fileio import atomic_write_text

PROGRAM = """\
# yaml-language-server: $schema=../schemas/program.schema.json
#
# A starter points program: edit it, then `loyalsim validate programs scenarios`.
# `loyalsim explain programs/starter.yaml` says in plain words what it does.
apiVersion: loyalsim/v1
kind: Program
metadata:
  name: starter
  title: Starter points program
  currency: USD
type: points
points:
  name: points
  value: 0.01            # what one point is worth, for the liability
earn:
  - id: base
    kind: spend
    rate: 1              # 1 point per dollar
    rounding: floor_amount
rewards:
  catalog:
    - {id: five-off, name: $5 off, kind: discount, cost: 500, face_value: 5.00}
  redemption: {policy: auto, default: five-off}
expiry:
  - {kind: rolling, after: 12 months}
"""

SCENARIO = """\
# yaml-language-server: $schema=../schemas/scenario.schema.json
#
# A starter forecast for programs/starter.yaml. Purchase behaviour: the BG/NBD parameters
# published for the CDNOW sample (Fader, Hardie & Lee 2005), per week; spend: their
# Gamma-Gamma parameters. Replace them with `loyalsim fit purchases` on your own data.
apiVersion: loyalsim/v1
kind: Scenario
metadata:
  name: starter
  title: Starter forecast, two years
programs: [../programs/starter.yaml]
start: 2027-01-01
horizon: 24 months
seed: 1
replications: 10
population:
  initial: 5000
  arrivals_per_month: 200
  segments:
    - id: everyone
      share: 1.0
      purchase:
        model: bgnbd
        time_unit: week
        params: {r: 0.243, alpha: 4.414, a: 0.793, b: 2.426}
      spend:
        model: gamma_gamma
        params: {p: 6.25, q: 3.74, gamma: 15.44}
      response:
        enrolment_rate: 0.6
        frequency_lift: 0.05
        redemption_propensity: 0.8
economics:
  gross_margin: 0.6
  reward_cost_ratio: 0.3
  fixed_costs_per_month: 1000
  discount_rate: 0.08
# `loyalsim check scenarios` fails CI when a guardrail fails: set budgets of your own.
guardrails:
  - {id: liability-budget, metric: liability, stat: p95, month: 24, max: 500}
"""

WORKFLOW = """\
# Validate loyalty programs and check their forecast guardrails on every push and pull request.
name: loyalty programs
on:
  push:
  pull_request:
permissions:
  contents: read
  security-events: write   # to upload the SARIF results to code scanning
jobs:
  validate:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with: {python-version: "3.11"}
      # Pin loyalsim to the version (or commit) your programs were checked with; until it is on a
      # package index: pip install "loyalsim @ git+<loyalsim repository URL>@<commit>"
      - run: pip install "{requirement}"
      - run: loyalsim validate --strict programs scenarios       # inline annotations on the diff
      - run: loyalsim check scenarios                             # forecast guardrails
      - run: loyalsim validate programs scenarios --format sarif --output loyalsim.sarif
        if: always()
      - uses: github/codeql-action/upload-sarif@v3
        if: always()
        with: {sarif_file: loyalsim.sarif, category: loyalsim}
"""

PRE_COMMIT = """\
# pre-commit: validation on every commit, the (slower) forecast check on push.
# `rev` is a tag or commit of the loyalsim repository; use a commit until releases are tagged.
repos:
  - repo: {repository}
    rev: {rev}
    hooks:
      - id: loyalsim-validate
      - id: loyalsim-check
        stages: [pre-push]
"""


def starter_files(
    requirement: str = "loyalsim", repository: str = "<loyalsim repository URL>", rev: str = "<commit>"
) -> dict[str, str]:
    """The starter project's files, by path relative to its folder."""
    schemas = resources.files("loyalsim.schemas")
    return {
        "programs/starter.yaml": PROGRAM,
        "scenarios/starter.yaml": SCENARIO,
        "schemas/program.schema.json": schemas.joinpath("program.schema.json").read_text(encoding="utf-8"),
        "schemas/scenario.schema.json": schemas.joinpath("scenario.schema.json").read_text(encoding="utf-8"),
        ".github/workflows/loyalty.yml": WORKFLOW.replace("{requirement}", requirement),
        ".pre-commit-config.yaml": PRE_COMMIT.replace("{repository}", repository).replace("{rev}", rev),
    }


def write_starter(folder: Path, files: dict[str, str], *, force: bool = False) -> list[Path]:
    """Write ``files`` under ``folder``; refuse (UsageError) to replace any that exist unless ``force``.

    Nothing is written when one file would be replaced: the check runs before the first write.
    """
    targets = {folder / name: text for name, text in files.items()}
    existing = [path for path in targets if path.exists()]
    if existing and not force:
        shown = ", ".join(str(p) for p in existing[:3]) + (" ..." if len(existing) > 3 else "")
        raise UsageError(
            f"would replace {len(existing)} existing file(s): {shown}; nothing was written "
            "(use --force to replace them, or init another folder)"
        )
    for path, text in targets.items():
        atomic_write_text(path, text)
    return list(targets)
