"""The ``loyalsim`` command: a thin typer app that parses options, calls stages, maps exit codes.

Exit codes (documented in the README):
  0  success, nothing to report
  1  findings: validation errors (or warnings with --strict), failed guardrails, rejected data
  2  usage error, or an input that cannot be read at all
  3  internal error: a bug in loyalsim (please report it)
  130 interrupted (Ctrl-C)

Heavy modules (numpy, simpy, pyarrow) are imported inside the commands that need them,
never at module level: ``loyalsim validate`` must start fast.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
from collections.abc import Iterator
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer

from loyalsim import __version__
from loyalsim.errors import LoyalsimError, OutputError, UsageError

app = typer.Typer(
    name="loyalsim",
    help="Declarative loyalty programs: validate, explain, replay, simulate and account for them.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


class IssueFormat(str, Enum):
    text = "text"
    json = "json"
    github = "github"
    junit = "junit"
    sarif = "sarif"


class EarnFormat(str, Enum):
    csv = "csv"
    json = "json"
    parquet = "parquet"


class OnError(str, Enum):
    fail = "fail"
    skip = "skip"


class Redeem(str, Enum):
    program = "program"
    auto = "auto"
    none = "none"


class ExplainFormat(str, Enum):
    text = "text"
    json = "json"


class AccountFormat(str, Enum):
    text = "text"
    csv = "csv"
    json = "json"


class PurchaseModel(str, Enum):
    bgnbd = "bgnbd"
    pareto_nbd = "pareto-nbd"


class TimeUnit(str, Enum):
    day = "day"
    week = "week"


class SchemaName(str, Enum):
    program = "program"
    scenario = "scenario"


Workers = Annotated[
    int | None,
    typer.Option(
        "--workers",
        "-w",
        min=1,
        help="Run replications in N local worker processes (same results, bit for bit).",
    ),
]
Cluster = Annotated[
    str | None,
    typer.Option(
        "--cluster",
        help="Run on Dask: 'local' starts a LocalCluster of --workers processes (default 2), or give a "
        "scheduler address such as tcp://10.0.0.5:8786. Needs loyalsim\\[cluster]: pip install 'loyalsim\\[cluster]'.",
    ),
]
Verbose = Annotated[
    bool,
    typer.Option(
        "--verbose",
        help="Show Dask's own log messages (with --cluster); without it they are kept from the terminal.",
    ),
]


def emit(text: str, output: Path | None) -> None:
    """Print to stdout, or write atomically to ``output``."""
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    from loyalsim.fileio import atomic_write_text

    try:
        atomic_write_text(output, text)
    except OSError as exc:
        raise UsageError(f"cannot write {output}: {exc.strerror or exc}") from exc


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"loyalsim {__version__}\n")
        raise typer.Exit(0)


@app.callback()
def root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """loyalsim: exact rules, honest forecasts."""


@app.command()
def validate(
    paths: Annotated[
        list[str],
        typer.Argument(help="Files, folders or globs ('-' for standard input).", show_default=False),
    ],
    output_format: Annotated[
        IssueFormat | None,
        typer.Option(
            "--format", "-f", help="Output format. Default: github under GitHub Actions, else text."
        ),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the report to this file.")
    ] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Warnings fail too (exit 1).")] = False,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            help="Config file (default: nearest loyalsim.toml or pyproject.toml \\[tool.loyalsim]).",
        ),
    ] = None,
    colour: Annotated[bool | None, typer.Option("--color/--no-color", help="Colour text output.")] = None,
) -> None:
    """Validate programs and scenarios: schema and semantic rules, with file:line:col.

    Exit code 0 when clean, 1 when there are errors (or warnings with --strict), 2 when a
    file cannot be read or the command is misused.
    """
    from loyalsim.report.issues import RENDERERS, render_text
    from loyalsim.validate import validate_paths
    from loyalsim.validate.config import find_config, load_config

    settings = load_config(config) if config else find_config()
    report = validate_paths(paths, settings, strict=strict)
    chosen = (
        output_format.value
        if output_format
        else ("github" if os.environ.get("GITHUB_ACTIONS") == "true" else "text")
    )
    if chosen == "text":
        use_colour = (
            colour
            if colour is not None
            else (output is None and sys.stdout.isatty() and "NO_COLOR" not in os.environ)
        )
        text = render_text(report, colour=use_colour)
    else:
        text = RENDERERS[chosen](report)
    emit(text, output)
    if output is not None and chosen != "text":
        from loyalsim.report.issues import summary_line

        sys.stderr.write(summary_line(report) + f"; report written to {output}\n")
    raise typer.Exit(report.exit_code)


@app.command()
def explain(
    program: Annotated[Path, typer.Argument(help="The program file.", show_default=False)],
    output_format: Annotated[
        ExplainFormat, typer.Option("--format", "-f", help="text or json.")
    ] = ExplainFormat.text,
    monthly_spend: Annotated[
        float, typer.Option("--monthly-spend", min=0.01, help="Spend of the example member per month.")
    ] = 100.0,
    visits: Annotated[
        int, typer.Option("--visits", min=1, max=31, help="Purchases per month of the example member.")
    ] = 4,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file.")] = None,
) -> None:
    """Explain a program in plain words, with worked examples computed by its compiled policy."""
    from loyalsim.compile import load_policy
    from loyalsim.report import explain as explaining

    data = explaining.explain(load_policy(program), monthly_spend, visits)
    emit(
        explaining.render_json(data) if output_format is ExplainFormat.json else explaining.render_text(data),
        output,
    )


@app.command()
def earn(
    program: Annotated[Path, typer.Argument(help="The program file.", show_default=False)],
    transactions: Annotated[
        list[Path], typer.Argument(help="Transaction files (CSV or Parquet).", show_default=False)
    ],
    output_format: Annotated[
        EarnFormat, typer.Option("--format", "-f", help="Output format.")
    ] = EarnFormat.csv,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write here (monthly rows; totals beside it).")
    ] = None,
    column: Annotated[
        list[str] | None,
        typer.Option("--column", "-c", help="Map a header: NAME=SOURCE, e.g. amount=total_usd. Repeatable."),
    ] = None,
    on_error: Annotated[
        OnError,
        typer.Option(
            "--on-error",
            help="fail: stop on the first bad rows, write nothing; skip: replay the rest, write rejects.",
        ),
    ] = OnError.fail,
    rejects: Annotated[
        Path | None, typer.Option("--rejects", help="Where --on-error skip writes rejected rows.")
    ] = None,
    redeem: Annotated[
        Redeem,
        typer.Option(
            "--redeem",
            help="program: as the program says (auto-redemption or none); auto: redeem the default reward "
            "whenever possible; none: never redeem.",
        ),
    ] = Redeem.program,
) -> None:
    """Replay real transactions through a program: points and tier per customer per month.

    Columns: customer_id, date, amount; optional transaction_id, category, channel, kind
    (purchase/return), quantity. Exit code 1 when rows are rejected (with --on-error fail).
    """
    from loyalsim import tuning

    tuning.apply("replay")  # before numpy is imported (with the command's module): it reads the setting then
    from loyalsim.cli.earn_cmd import EarnOptions, run_earn

    options = EarnOptions(
        program,
        transactions,
        output_format.value,
        out,
        tuple(column or ()),
        on_error.value,
        rejects,
        redeem.value,
    )
    raise typer.Exit(run_earn(options))


@app.command()
def simulate(
    program: Annotated[Path, typer.Argument(help="The program file.", show_default=False)],
    scenario: Annotated[
        Path, typer.Argument(help="The scenario file (customers, horizon, seed).", show_default=False)
    ],
    replications: Annotated[
        int | None, typer.Option(min=1, help="Replications (default: the scenario's).")
    ] = None,
    seed: Annotated[int | None, typer.Option(min=0, help="Seed (default: the scenario's).")] = None,
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Folder for monthly.{csv,parquet} and summary.json.")
    ] = Path("out/simulation"),
    output_format: Annotated[
        ExplainFormat, typer.Option("--format", "-f", help="text or json.")
    ] = ExplainFormat.text,
    workers: Workers = None,
    cluster: Cluster = None,
    verbose: Verbose = False,
    transactions: Annotated[
        Path | None,
        typer.Option(
            "--transactions",
            help="Also write the first replication's program-arm purchases and enrolments here "
            "(transactions and members files, as earn and fit read them).",
        ),
    ] = None,
    transactions_format: Annotated[
        str, typer.Option("--transactions-format", help="csv or parquet.")
    ] = "csv",
) -> None:
    """Simulate a program on a scenario's customers, with a no-program control.

    The control runs on the same customers and random numbers; docs/simulate.md lists what is simulated so far.
    Each finished replication is saved under OUT/.loyalsim-parts at once: the same command after a crash or
    Ctrl-C resumes where it stopped.
    """
    import json

    from loyalsim import tuning

    tuning.apply("simulate")  # before numpy is imported; worker processes inherit the page setting
    from loyalsim import api
    from loyalsim.cli.progress import command_runner
    from loyalsim.run.runner import Checkpoints

    if transactions is not None:  # (checked before the simulation, not after it)
        if transactions_format not in ("csv", "parquet"):
            raise UsageError(f"--transactions-format {transactions_format!r}: choose csv or parquet")
        from loyalsim.fileio import writable_folder

        writable_folder(transactions, "--transactions")

    result = api.simulate(
        program,
        scenario,
        replications=replications,
        seed=seed,
        runner=command_runner(
            workers=workers,
            cluster=cluster,
            folder=out,
            output_format=output_format.value,
            label="simulate",
            verbose=verbose,
        ),
    )
    result.write(out)
    headline, loaded, policy = result.summary, result.scenario, result.policy
    Checkpoints(out).clear()
    if transactions is not None:
        written = api.write_transactions(policy, loaded, transactions, file_format=transactions_format)
        if output_format is ExplainFormat.text:
            sys.stderr.write(f"synthetic data: {written['transactions']} and {written['members']}\n")
    if output_format is ExplainFormat.json:
        emit(json.dumps(headline, indent=2) + "\n", None)
        return
    from loyalsim.report.simulation_text import render

    emit(render(policy, loaded.name, loaded.replications, loaded.days, loaded.seed, headline, out), None)


@app.command()
def backtest(
    program: Annotated[Path, typer.Argument(help="The program file.", show_default=False)],
    scenario: Annotated[Path, typer.Argument(help="A scenario with population.history.", show_default=False)],
    until: Annotated[
        str, typer.Option("--until", help="The last day to forecast (a month's last day, YYYY-MM-DD).")
    ],
    replications: Annotated[
        int | None, typer.Option(min=1, help="Replications (default: the scenario's).")
    ] = None,
    seed: Annotated[int | None, typer.Option(min=0, help="Seed (default: the scenario's).")] = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Folder for backtest.{html,csv,parquet,json}.")
    ] = None,
    output_format: Annotated[
        ExplainFormat, typer.Option("--format", "-f", help="text or json.")
    ] = ExplainFormat.text,
    workers: Workers = None,
    cluster: Cluster = None,
    verbose: Verbose = False,
) -> None:
    """Forecast a history's customers from its as_of to --until, beside what really happened.

    The actual months are the same file replayed past as_of through the same program; each metric
    gets the forecast's P5-P95 band, the actual, its bias and MAPE (docs/forecast.md).
    """
    from loyalsim import tuning

    tuning.apply("simulate")  # before numpy is imported (see docs/architecture.md)
    import json

    from loyalsim import api
    from loyalsim.cli.backtest_cmd import render_text
    from loyalsim.cli.progress import command_runner
    from loyalsim.run.runner import Checkpoints

    result = api.backtest(
        program,
        scenario,
        until,
        replications=replications,
        seed=seed,
        runner=command_runner(
            workers=workers,
            cluster=cluster,
            folder=out,
            output_format=output_format.value,
            label="backtest",
            verbose=verbose,
        ),
    )
    if out is not None:
        result.write(out)
        Checkpoints(out).clear()
    if output_format is ExplainFormat.json:
        emit(json.dumps(result.document, indent=2) + "\n", None)
        return
    emit(render_text(result.document, str(out) if out is not None else None), None)


@app.command()
def account(
    ledger: Annotated[
        Path,
        typer.Argument(
            help="CSV: period, sales, points_issued, points_redeemed, expected_redemption_rate, point_value.",
            show_default=False,
        ),
    ],
    output_format: Annotated[
        AccountFormat, typer.Option("--format", "-f", help="Output format.")
    ] = AccountFormat.text,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file.")] = None,
) -> None:
    """IFRS 15 / ASC 606 accounting for points on your own figures.

    Allocation by relative stand-alone selling price, revenue as points are redeemed, cumulative catch-up,
    contract liability.
    """
    from loyalsim.cli.account_cmd import run_account

    raise typer.Exit(run_account(ledger, output_format.value, output))


@app.command()
def compare(
    program_a: Annotated[Path, typer.Argument(help="Program A.", show_default=False)],
    program_b: Annotated[Path, typer.Argument(help="Program B.", show_default=False)],
    scenario: Annotated[Path, typer.Argument(help="The scenario.", show_default=False)],
    replications: Annotated[
        int | None, typer.Option(min=1, help="Replications (default: the scenario's).")
    ] = None,
    seed: Annotated[int | None, typer.Option(min=0, help="Seed (default: the scenario's).")] = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Folder for both monthly tables and compare.json.")
    ] = None,
    output_format: Annotated[
        ExplainFormat, typer.Option("--format", "-f", help="text or json.")
    ] = ExplainFormat.text,
    workers: Workers = None,
    cluster: Cluster = None,
    verbose: Verbose = False,
) -> None:
    """Compare two programs on the same customers and random numbers (paired B - A, with intervals).

    On a running program's book (population.history with program_running), B is a change to A:
    it starts from the book A's replay leaves (lots re-dated by B's expiry, tiers matched by id;
    docs/forecast.md)."""
    from loyalsim import tuning

    tuning.apply("simulate")  # before numpy is imported (see docs/architecture.md)
    import json

    from loyalsim import api
    from loyalsim.cli.progress import command_runner
    from loyalsim.run.runner import Checkpoints

    compared = api.compare(
        program_a,
        program_b,
        scenario,
        replications=replications,
        seed=seed,
        runner=command_runner(
            workers=workers,
            cluster=cluster,
            folder=out,
            output_format=output_format.value,
            label="compare",
            verbose=verbose,
        ),
    )
    result, loaded = compared.summary, compared.a.scenario
    first, second = compared.a.policy, compared.b.policy
    if out is not None:
        compared.write(out)
        Checkpoints(out).clear()
    if output_format is ExplainFormat.json:
        emit(json.dumps(result, indent=2) + "\n", None)
        return
    lines = [
        f"A: {first.title}   B: {second.title}   on {loaded.name}, {loaded.replications} replication(s), "
        f"same customers and random numbers",
    ]
    if "book" in result:
        lines.append(
            f"B starts from the book A leaves at {result['book']['as_of']} "
            "(lots re-dated by B's expiry, tiers matched by id: docs/forecast.md)"
        )
    lines.append(f"{'':26}{'A':>16}{'B':>16}{'B - A':>16}{'B - A, P5 to P95':>30}")
    for name, figure in result["figures"].items():
        d = figure["b_minus_a"]
        lines.append(
            f"{name:26}{figure['a']['mean']:>16,.2f}{figure['b']['mean']:>16,.2f}{d['mean']:>16,.2f}"
            f"{d['p5']:>15,.2f} to {d['p95']:,.2f}"
        )
    if out is not None:
        lines.append(f"results written to {out}/ (compare.html, compare.json, a/, b/)")
    emit("\n".join(lines) + "\n", None)


@app.command()
def report(
    folder: Annotated[Path, typer.Argument(help="A `loyalsim simulate --out` folder.", show_default=False)],
) -> None:
    """Re-render report.html from a simulation's saved results."""
    from loyalsim.report.simulation_output import rerender

    emit(f"report written to {rerender(folder)}\n", None)


@app.command()
def sweep(
    program: Annotated[Path, typer.Argument(help="The program file.", show_default=False)],
    scenario: Annotated[Path, typer.Argument(help="The scenario file.", show_default=False)],
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            help="PATH=V1,V2,... over the program (earn[0].rate=1,1.5) or the scenario "
            "(population.segments[0].response.redemption_propensity=0.6,0.9). Repeatable: the grid is their product.",
        ),
    ] = None,
    replications: Annotated[int | None, typer.Option(min=1, help="Replications per point.")] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for sweep.{csv,parquet,json}.")] = Path(
        "out/sweep"
    ),
    output_format: Annotated[
        ExplainFormat, typer.Option("--format", "-f", help="text or json.")
    ] = ExplainFormat.text,
    workers: Workers = None,
    cluster: Cluster = None,
    verbose: Verbose = False,
    max_runs: Annotated[
        int | None,
        typer.Option(
            "--max-runs",
            min=1,
            help="Refuse a grid of more runs (points x replications) than this. [default: 10000]",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Simulate a grid of program or scenario parameters; one tidy table of headline results.

    Each finished replication of each point is saved under OUT/.loyalsim-parts: the same command after a crash
    or Ctrl-C resumes where it stopped.
    """
    from loyalsim import tuning

    tuning.apply("simulate")  # before numpy is imported (see docs/architecture.md)
    from loyalsim.cli.sweep_cmd import run_sweep

    raise typer.Exit(
        run_sweep(
            program,
            scenario,
            list(set_ or []),
            replications,
            out,
            output_format.value,
            workers,
            cluster,
            max_runs,
            verbose,
        )
    )


@app.command()
def sensitivity(
    program: Annotated[Path, typer.Argument(help="The program file.", show_default=False)],
    scenario: Annotated[Path, typer.Argument(help="The scenario file.", show_default=False)],
    replications: Annotated[int | None, typer.Option(min=1, help="Replications per run.")] = None,
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Folder for sensitivity.{html,csv,parquet,json}.")
    ] = Path("out/sensitivity"),
    output_format: Annotated[
        ExplainFormat, typer.Option("--format", "-f", help="text or json.")
    ] = ExplainFormat.text,
    workers: Workers = None,
    cluster: Cluster = None,
    verbose: Verbose = False,
) -> None:
    """Which assumption moves liability, cost and ROI most: one-at-a-time low/high runs, tornado charts.

    Every behavioural response per segment and every economic parameter, over the scenario's
    sensitivity.ranges or the documented default ranges (docs/check.md). Resumable like sweep.
    """
    from loyalsim import tuning

    tuning.apply("simulate")  # before numpy is imported (see docs/architecture.md)
    from loyalsim.cli.sensitivity_cmd import run_sensitivity

    raise typer.Exit(
        run_sensitivity(program, scenario, replications, out, output_format.value, workers, cluster, verbose)
    )


@app.command()
def check(
    scenarios: Annotated[
        list[str], typer.Argument(help="Scenario files, folders or globs.", show_default=False)
    ],
    replications: Annotated[
        int | None, typer.Option(min=1, help="Replications (default: each scenario's).")
    ] = None,
    output_format: Annotated[
        IssueFormat | None,
        typer.Option(
            "--format", "-f", help="Output format. Default: github under GitHub Actions, else text."
        ),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the report to this file.")
    ] = None,
    workers: Workers = None,
    cluster: Cluster = None,
    verbose: Verbose = False,
) -> None:
    """Simulate each scenario and check its guardrails (forecast assertions for CI).

    Exit code 0 when every guardrail passes, 1 when one fails or cannot be measured, 2 when a
    file cannot be read.
    """
    from loyalsim import tuning

    tuning.apply("simulate")  # before numpy is imported (see docs/architecture.md)
    from loyalsim import api
    from loyalsim.api.loading import task_runner
    from loyalsim.report.issues import RENDERERS, render_text

    report = api.check(
        scenarios, replications=replications, runner=task_runner(workers, cluster, None, verbose=verbose)
    )
    chosen = (
        output_format.value
        if output_format
        else ("github" if os.environ.get("GITHUB_ACTIONS") == "true" else "text")
    )
    text = (
        render_text(report, colour=output is None and sys.stdout.isatty() and "NO_COLOR" not in os.environ)
        if chosen == "text"
        else RENDERERS[chosen](report)
    )
    emit(text, output)
    raise typer.Exit(report.exit_code)


@app.command()
def trace(
    program: Annotated[Path, typer.Argument(help="The program file.", show_default=False)],
    scenario: Annotated[Path, typer.Argument(help="The scenario file.", show_default=False)],
    customer: Annotated[
        int, typer.Option("--customer", "-c", min=0, help="Which synthetic customer (0, 1, ...).")
    ] = 0,
    replication: Annotated[int, typer.Option(min=0, help="Which replication.")] = 0,
    seed: Annotated[int | None, typer.Option(min=0, help="Seed (default: the scenario's).")] = None,
    output_format: Annotated[
        ExplainFormat, typer.Option("--format", "-f", help="text or json.")
    ] = ExplainFormat.text,
) -> None:
    """Tell one synthetic customer's story, event by event.

    Purchases with and without the program, points, tiers, monthly statements, dropout.
    """
    from loyalsim import tuning

    tuning.apply("simulate")  # before numpy is imported (see docs/architecture.md)
    import json

    from loyalsim import api
    from loyalsim.report.trace import render

    story = api.trace(program, scenario, customer=customer, replication=replication, seed=seed)
    if output_format is ExplainFormat.json:
        emit(
            json.dumps({"customer": customer, "replication": replication, "events": story.events}, indent=2)
            + "\n",
            None,
        )
    else:
        emit(render(story.events, story.policy, story.scenario.start, customer), None)


fit_app = typer.Typer(
    help="Fit customer models to data: purchases (BG/NBD, Pareto/NBD, Gamma-Gamma) and "
    "paid-membership retention (shifted-beta-geometric).",
    no_args_is_help=True,
)
app.add_typer(fit_app, name="fit")


@fit_app.command("purchases")
def fit_purchases(
    transactions: Annotated[Path, typer.Argument(help="Transactions (CSV or Parquet).", show_default=False)],
    calibration_end: Annotated[
        str | None, typer.Option(help="Last day of calibration (default: last day).")
    ] = None,
    holdout_end: Annotated[str | None, typer.Option(help="Last day of the holdout period.")] = None,
    model: Annotated[
        PurchaseModel, typer.Option(help="The purchase and dropout model.")
    ] = PurchaseModel.bgnbd,
    time_unit: Annotated[TimeUnit, typer.Option(help="The models' time unit (fractional).")] = TimeUnit.week,
    output_format: Annotated[
        ExplainFormat, typer.Option("--format", "-f", help="text or json.")
    ] = ExplainFormat.text,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Write the fitted segment (YAML); a report "
            "(.report.html) and per-customer expectations (.customers.csv) go beside it.",
        ),
    ] = None,
    column: Annotated[
        list[str] | None, typer.Option("--column", "-c", help="Map a header: NAME=SOURCE.")
    ] = None,
    segment_id: Annotated[
        str, typer.Option("--segment-id", help="The id of the written segment.")
    ] = "fitted",
) -> None:
    """Fit purchase and dropout (BG/NBD or Pareto/NBD) and spend (Gamma-Gamma) by maximum likelihood."""
    from loyalsim.cli.fit_cmd import PurchaseOptions, run_purchases

    raise typer.Exit(
        run_purchases(
            PurchaseOptions(
                transactions,
                calibration_end,
                holdout_end,
                model.value,
                time_unit.value,
                output_format.value,
                out,
                tuple(column or ()),
                segment_id,
            )
        )
    )


@fit_app.command("response")
def fit_response(
    transactions: Annotated[Path, typer.Argument(help="Transactions (CSV or Parquet).", show_default=False)],
    members: Annotated[
        Path,
        typer.Option(
            "--members",
            "-m",
            help="Members file: customer_id, enrolled_on (CSV or Parquet).",
            show_default=False,
        ),
    ],
    output_format: Annotated[
        ExplainFormat, typer.Option("--format", "-f", help="text or json.")
    ] = ExplainFormat.text,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Write a scenario response fragment (YAML, the lift's interval as a distribution) "
            "and a report (.report.html) beside it.",
        ),
    ] = None,
    column: Annotated[
        list[str] | None, typer.Option("--column", "-c", help="Map a transactions header: NAME=SOURCE.")
    ] = None,
    members_column: Annotated[
        list[str] | None,
        typer.Option(
            "--members-column", help="Map a members header: customer_id=SOURCE or enrolled_on=SOURCE."
        ),
    ] = None,
    time_unit: Annotated[TimeUnit, typer.Option(help="The purchase model's time unit.")] = TimeUnit.week,
    quarters: Annotated[
        int, typer.Option(min=1, max=40, help="The headline's window: quarters (91 days) after enrolment.")
    ] = 4,
    min_history: Annotated[
        int,
        typer.Option(min=1, max=3650, help="Days a member must have bought before enrolling to be measured."),
    ] = 91,
    bootstrap: Annotated[int, typer.Option(min=20, max=10000, help="Bootstrap replicates.")] = 200,
    seed: Annotated[int, typer.Option(min=0, help="Seed of the bootstrap.")] = 0,
) -> None:
    """Measure the program's effect on members' purchases and spend, with self-selection handled.

    Each member's purchases before enrolling predict, through BG/NBD and Gamma-Gamma fitted to the members'
    own pre-enrolment histories, what they would have bought without the program; the lift is actual over
    predicted. docs/fit.md explains the method, its assumptions and when not to trust it.
    """
    from loyalsim.cli.fit_cmd import ResponseOptions, run_response

    raise typer.Exit(
        run_response(
            ResponseOptions(
                transactions,
                members,
                output_format.value,
                out,
                tuple(column or ()),
                tuple(members_column or ()),
                time_unit.value,
                quarters,
                min_history,
                bootstrap,
                seed,
            )
        )
    )


@fit_app.command("retention")
def fit_retention(
    counts: Annotated[
        Path, typer.Argument(help="CSV of survivor counts, period 0 first.", show_default=False)
    ],
    column: Annotated[
        str, typer.Option("--column", "-c", help="The column holding the counts.")
    ] = "survivors",
    periods: Annotated[
        int, typer.Option(min=1, max=1000, help="Periods to project the survival curve.")
    ] = 12,
    output_format: Annotated[
        ExplainFormat, typer.Option("--format", "-f", help="text or json.")
    ] = ExplainFormat.text,
) -> None:
    """Fit the shifted-beta-geometric retention model (alpha, beta) to a cohort's survivor counts."""
    from loyalsim.cli.fit_cmd import run_retention

    raise typer.Exit(run_retention(counts, column, periods, output_format.value))


@app.command()
def schema(
    name: Annotated[SchemaName, typer.Argument(help="Which schema.")] = SchemaName.program,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write it to this file.")] = None,
) -> None:
    """Print the published JSON Schema (2020-12) of programs or scenarios, for editors and tools."""
    from importlib import resources

    text = (
        resources.files("loyalsim.schemas").joinpath(f"{name.value}.schema.json").read_text(encoding="utf-8")
    )
    emit(text, output)


@app.command()
def init(
    folder: Annotated[Path, typer.Argument(help="Where to write the starter project.")] = Path(),
    force: Annotated[bool, typer.Option("--force", help="Replace files that already exist.")] = False,
) -> None:
    """Write a starter project: a program, a scenario, the schemas for editors, a GitHub workflow and a
    pre-commit configuration, all of which validate and pass as written."""
    from loyalsim.scaffold import starter_files, write_starter

    written = write_starter(folder, starter_files(), force=force)
    for path in written:
        sys.stderr.write(f"wrote {path}\n")
    sys.stderr.write(
        f"next: loyalsim validate {folder / 'programs'} {folder / 'scenarios'}; "
        f"loyalsim explain {folder / 'programs' / 'starter.yaml'}\n"
    )


@app.command()
def lsp() -> None:
    """Run the language server on standard input and output: editors get validate's issues as you type.

    Point your editor's LSP client at `loyalsim lsp` for YAML files (docs/editors.md). Needs
    pip install 'loyalsim[lsp]'.
    """
    from loyalsim.lsp import server

    try:
        language_server = server()
    except ImportError as exc:
        raise UsageError("the language server needs pygls: pip install 'loyalsim[lsp]'") from exc
    language_server.start_io()


@app.command()
def rules(
    output_format: Annotated[
        ExplainFormat, typer.Option("--format", "-f", help="text or json.")
    ] = ExplainFormat.text,
) -> None:
    """List every issue code with its default severity and meaning."""
    import json

    from loyalsim.catalog import CATALOG

    if output_format is ExplainFormat.json:
        rows = [
            {"code": c.code, "name": c.name, "severity": c.severity.value, "summary": c.summary}
            for c in CATALOG.values()
        ]
        emit(json.dumps(rows, indent=2) + "\n", None)
        return
    lines = [f"{c.code}  {c.severity.value:<7}  {c.name:<32} {c.summary}" for c in CATALOG.values()]
    emit("\n".join(lines) + "\n", None)


class _ClosedStream(io.TextIOBase):
    """Stands in for a standard stream the caller closed (``>&-``): writing to it is a clear
    OutputError (exit 2), not an AttributeError on None; a run that writes nothing there works."""

    def __init__(self, name: str) -> None:
        self.name = name

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if not text:
            return 0
        raise OutputError(
            f"standard {self.name} is closed: nothing can be written there; "
            "give --out FILE (or --output FILE), or run without closing it"
        )

    @property
    def buffer(self) -> Any:
        raise OutputError(f"standard {self.name} is closed: nothing can be written there; give --out FILE")


class _PipeClosed(Exception):
    """The reader of standard output went away (``loyalsim earn ... | head``). Not an OSError, so
    that click does not turn it into a silent exit 1 on the way out."""


@contextlib.contextmanager
def _pipe_guard() -> Iterator[None]:
    """Turn a closed pipe on standard output into :class:`_PipeClosed`."""
    try:
        yield
    except BrokenPipeError as exc:
        raise _PipeClosed from exc


class _GuardedBytes(io.RawIOBase):
    """Standard output's bytes, a closed pipe raising :class:`_PipeClosed`."""

    def __init__(self, raw: Any) -> None:
        self.raw = raw

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        with _pipe_guard():
            return int(self.raw.write(data))

    def flush(self) -> None:
        with _pipe_guard():
            self.raw.flush()


class _GuardedText(io.TextIOBase):
    """Standard output's text, a closed pipe raising :class:`_PipeClosed`; everything else
    (isatty, fileno, encoding) is the real stream's."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.buffer = _GuardedBytes(stream.buffer) if hasattr(stream, "buffer") else None

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        with _pipe_guard():
            return int(self.stream.write(text))

    def flush(self) -> None:
        with _pipe_guard():
            self.stream.flush()

    def isatty(self) -> bool:
        return bool(self.stream.isatty())

    def fileno(self) -> int:
        return int(self.stream.fileno())

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return str(self.stream.encoding)


def _reflowed(doc: str) -> str:
    """A docstring as help text: paragraphs kept, the line breaks inside them joined, so the
    terminal's width decides where lines break (not where the source was wrapped)."""
    import inspect

    paragraphs = inspect.cleandoc(doc).split("\n\n")
    return "\n\n".join(" ".join(line.strip() for line in paragraph.splitlines()) for paragraph in paragraphs)


for _typer in (app, fit_app):
    for _command in _typer.registered_commands:
        if _command.help is None and _command.callback is not None and _command.callback.__doc__:
            _command.help = _reflowed(_command.callback.__doc__)


def main() -> None:
    """Console entry point: run the app; turn every failure into a message and an exit code."""
    if sys.stdout is None:
        sys.stdout = _ClosedStream("output")
    else:
        sys.stdout = _GuardedText(sys.stdout)
    if sys.stderr is None:  # messages have nowhere to go: dropped, the exit code still says how it went
        sys.stderr = Path(os.devnull).open("w", encoding="utf-8")  # noqa: SIM115
    from loyalsim.fileio import output_set

    try:
        with output_set():  # a command's files are put in place together, or none of them
            app()
    except LoyalsimError as exc:
        sys.stderr.write(f"loyalsim: {exc}\n")
        for issue in exc.issues:
            where = issue.location
            sys.stderr.write(f"{where}: {issue.severity.value} {issue.code} {issue.message}\n")
        sys.exit(exc.exit_code)
    except _PipeClosed:
        # The reader has what it wanted (`| head`): not an error, as for other Unix tools. What is
        # still buffered goes nowhere, so the exit flush cannot fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.__stdout__.fileno() if sys.__stdout__ else 1)
        sys.exit(0)
    except KeyboardInterrupt:
        sys.stderr.write("loyalsim: interrupted\n")
        sys.exit(130)
    except SystemExit as exc:
        if exc.code == 130:  # Typer turns Ctrl-C into a silent exit 130: say what happened
            sys.stderr.write("loyalsim: interrupted (Ctrl-C)\n")
        raise
    except OSError as exc:  # the system refused a read or write that no check could foresee
        if os.environ.get("LOYALSIM_DEBUG"):
            raise
        where = f" {exc.filename}" if exc.filename else ""
        sys.stderr.write(f"loyalsim: cannot read or write{where}: {exc.strerror or exc}\n")
        sys.exit(2)
    except Exception as exc:
        if os.environ.get("LOYALSIM_DEBUG"):
            raise
        sys.stderr.write(
            f"loyalsim: internal error: {type(exc).__name__}: {exc}\n"
            "This is a bug in loyalsim; run again with LOYALSIM_DEBUG=1 for the traceback and report it.\n"
        )
        sys.exit(3)
