"""The tree reads as the data flow: each stage imports only the stages below it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "westerkwartier"

#: Stages in the order of the data flow; a module may import its own stage and those before.
ORDER = ["sources", "indicators", "analysis", "reporting", "pipeline"]

#: Modules outside the stages that anything may import.
BASE = {"settings", "errors", "config", "_legacy"}


def _stage(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "westerkwartier" or len(parts) < 2:
        return None
    return parts[1]


def _imports(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
            if node.module == "westerkwartier":
                found += [(node.lineno, f"westerkwartier.{a.name}") for a in node.names]
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
    return found


def _violations(path: Path, package: Path = PACKAGE) -> list[str]:
    own = path.relative_to(package).parts[0]
    if own not in ORDER:
        return []
    allowed = set(ORDER[: ORDER.index(own) + 1]) | BASE | {"__version__"}
    bad = []
    for line, module in _imports(path):
        stage = _stage(module)
        if stage is not None and stage not in allowed:
            bad.append(f"{path.relative_to(package)}:{line} imports {module}")
    return bad


@pytest.mark.parametrize("stage", ORDER)
def test_stage_imports_only_downward(stage):
    problems = [v for f in sorted((PACKAGE / stage).rglob("*.py")) for v in _violations(f)]
    assert problems == []


def test_relative_imports_are_not_used():
    # absolute imports make the stage of every dependency visible in the code
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                assert node.level == 0, f"{path}:{node.lineno}"


def test_the_checker_sees_an_upward_import(tmp_path):
    bad = tmp_path / "westerkwartier" / "sources" / "x.py"
    bad.parent.mkdir(parents=True)
    bad.write_text("def f():\n    from westerkwartier.reporting import charts\n")
    assert _violations(bad, tmp_path / "westerkwartier") == [
        "sources/x.py:2 imports westerkwartier.reporting"
    ]
