"""The pipeline's layering, checked on the source: a stage imports only shared modules and
earlier stages (lazy imports inside functions included), so there is no package cycle."""

from __future__ import annotations

import ast
from pathlib import Path

from loyalsim import __doc__ as package_doc
from tests.conftest import ROOT

SOURCE = ROOT / "src" / "loyalsim"
# Modules every stage may use; they import only each other.
SHARED = {
    "__version__",
    "issues",
    "errors",
    "catalog",
    "fileio",
    "money",
    "currencies",
    "durations",
    "compiled",
    "tuning",
    "schemas",
}
# The stages, in pipeline order. Front ends (the CLI, the language server, ``init``) come last.
STAGES = [
    "load",
    "validate",
    "compile",
    "transactions",
    "ledger",
    "replay",
    "population",
    "simulate",
    "finance",
    "measure",
    "run",
    "report",
    "api",
    "lsp",
    "scaffold",
    "cli",
    "__main__",
]


def _unit(path: Path) -> str:
    parts = path.relative_to(SOURCE).parts
    return parts[0] if len(parts) > 1 else parts[0].removesuffix(".py")


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "loyalsim":
            parts = node.module.split(".")
            found |= {parts[1]} if len(parts) > 1 else {alias.name for alias in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("loyalsim.")}
    return found


def test_every_unit_of_the_package_is_placed() -> None:
    units = {_unit(path) for path in SOURCE.rglob("*.py")} - {"__init__"}
    assert units <= SHARED | set(STAGES), sorted(units - SHARED - set(STAGES))


def test_no_stage_imports_a_later_stage_and_shared_modules_import_no_stage() -> None:
    wrong = []
    for path in sorted(SOURCE.rglob("*.py")):
        unit = _unit(path)
        if unit == "__init__":
            continue
        allowed = SHARED if unit in SHARED else SHARED | set(STAGES[: STAGES.index(unit) + 1])
        wrong += [
            f"{path.relative_to(SOURCE)} imports loyalsim.{name}"
            for name in _imports(path) - allowed - {unit}
        ]
    assert not wrong, "\n".join(wrong)


def test_the_package_docstring_states_the_order_checked_here() -> None:
    stated = package_doc.split("(", 1)[1].split(")", 1)[0].replace("\n", " ")
    assert [s.strip() for s in stated.split("→")] == STAGES[: STAGES.index("report") + 1]


# Private names of other modules that the package reaches, each for a reason: ``os._exit`` is
# the documented way to end a forked worker without running the parent's clean-ups.
PRIVATE_ALLOWED = {("os", "_exit")}


def _private_uses(path: Path) -> list[tuple[int, str, str]]:
    """(line, owner, name) of every ``owner._name`` where the owner is not ``self`` or ``cls``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
            owner = node.value.id if isinstance(node.value, ast.Name) else ast.unparse(node.value)
            if owner not in {"self", "cls"} and (owner, node.attr) not in PRIVATE_ALLOWED:
                found.append((node.lineno, owner, node.attr))
    return found


def test_no_module_calls_another_objects_private_methods() -> None:
    """A module works through other modules' public interfaces (the simulator drives the
    replay engine through ``advance_to``, ``credit``, ``redeem_prompted``, ``donate`` and
    ``process_days``), so a private method can change without breaking a caller."""
    uses = {
        str(path.relative_to(SOURCE)): found
        for path in sorted(SOURCE.rglob("*.py"))
        if (found := _private_uses(path))
    }
    assert not uses, uses
