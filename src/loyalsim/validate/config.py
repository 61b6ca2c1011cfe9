"""Project configuration for validation: codes to ignore, globally or per file.

Read from ``loyalsim.toml`` (top-level keys) or the ``[tool.loyalsim]`` table of
``pyproject.toml``, whichever is found first walking up from the working directory::

    [tool.loyalsim]
    ignore = ["LS204"]
    [tool.loyalsim.per-file-ignores]
    "programs/legacy-*.yaml" = ["LS208"]
"""

from __future__ import annotations

import fnmatch
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loyalsim.errors import UsageError


@dataclass(frozen=True)
class ProjectConfig:
    ignore: frozenset[str] = frozenset()
    per_file: tuple[tuple[str, frozenset[str]], ...] = ()
    source: Path | None = None
    root: Path = field(default_factory=Path.cwd)

    def ignored_for(self, file: str) -> frozenset[str]:
        """Codes ignored for ``file`` (per-file patterns match paths relative to the config's folder)."""
        codes = set(self.ignore)
        path = Path(file)
        try:
            relative = path.resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            relative = path.as_posix()
        for pattern, extra in self.per_file:
            if fnmatch.fnmatch(relative, pattern) or fnmatch.fnmatch(path.as_posix(), pattern):
                codes |= extra
        return frozenset(codes)


def _codes(value: Any, where: str) -> frozenset[str]:
    if not isinstance(value, list) or not all(isinstance(c, str) for c in value):
        raise UsageError(f'{where}: expected a list of codes such as ["LS204"]')
    return frozenset(c.upper() for c in value)


def _parse(path: Path, table: dict[str, Any]) -> ProjectConfig:
    unknown = set(table) - {"ignore", "per-file-ignores"}
    if unknown:
        raise UsageError(
            f"{path}: unknown setting(s) {', '.join(sorted(unknown))}; known: ignore, per-file-ignores"
        )
    per_file = table.get("per-file-ignores", {})
    if not isinstance(per_file, dict):
        raise UsageError(f"{path}: per-file-ignores must be a table of pattern = [codes]")
    return ProjectConfig(
        ignore=_codes(table.get("ignore", []), f"{path}: ignore"),
        per_file=tuple(
            (pattern, _codes(codes, f"{path}: per-file-ignores.{pattern}"))
            for pattern, codes in per_file.items()
        ),
        source=path,
        root=path.parent,
    )


def load_config(path: Path) -> ProjectConfig:
    """Read one config file; raise UsageError with its location when it is malformed."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path}: {exc}") from exc
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    if path.name == "pyproject.toml":
        table = data.get("tool", {}).get("loyalsim", {})
        return (
            _parse(path, table) if isinstance(table, dict) else ProjectConfig(source=path, root=path.parent)
        )
    return _parse(path, data)


def find_config(start: Path | None = None) -> ProjectConfig:
    """The nearest loyalsim.toml, or pyproject.toml with [tool.loyalsim], from ``start`` upward."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / "loyalsim.toml"
        if candidate.is_file():
            return load_config(candidate)
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            try:
                data = tomllib.loads(candidate.read_text(encoding="utf-8"))
            except (tomllib.TOMLDecodeError, OSError):
                continue
            if "loyalsim" in data.get("tool", {}):
                return load_config(candidate)
        if (folder / ".git").exists():
            break
    return ProjectConfig()
