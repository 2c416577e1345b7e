"""pyproject.toml is the one list of dependencies; environment.yml must name the same."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~;\[ ]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _conda_packages(text: str) -> set[str]:
    deps = yaml.safe_load(text)["dependencies"]
    names = {_name(d) for d in deps if isinstance(d, str)}
    return names - {"python", "pip"}


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    deps = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        deps += extra
    pyproject = {_name(d) for d in deps}
    conda = _conda_packages((ROOT / "environment.yml").read_text())
    assert pyproject - conda == set(), "in pyproject.toml but not in environment.yml"
    assert conda - pyproject == set(), "in environment.yml but not in pyproject.toml"


def test_conda_parser_sees_a_difference():
    text = (
        "channels:\n  - conda-forge\ndependencies:\n"
        "  - python>=3.11\n  - pandas>=2\n  - pip\n  - pip:\n      - -e .\n"
    )
    assert _conda_packages(text) == {"pandas"}


def test_environment_uses_conda_forge_and_python_311():
    text = (ROOT / "environment.yml").read_text()
    assert "conda-forge" in text
    assert "python>=3.11" in text
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert requires == ">=3.11"


def _runtime_imports() -> set[str]:
    """Top-level modules the package imports (outside the standard library)."""
    import ast
    import sys

    names: set[str] = set()
    for path in (ROOT / "westerkwartier").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return {n for n in names if n not in sys.stdlib_module_names and n != "westerkwartier"}


def _first_runtime() -> str:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "distributed>=2024.1" in project["optional-dependencies"]["dask"]
    return _name(project["dependencies"][0])


def test_runtime_dependencies_cover_every_import_and_nothing_for_tests():
    from importlib.metadata import packages_distributions

    dists = packages_distributions()
    runtime = {
        _name(d)
        for d in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    }
    # IPython comes with ipykernel, the kernel the reports run in; distributed and playwright
    # are the optional extras `dask` and `pdf`, imported only for `batch --dask` and
    # `report --pdf` (without them: a message what to install)
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    assert "playwright>=1.50" in extras["pdf"]
    provided_by = {
        "IPython": "ipykernel",
        "distributed": _first_runtime(),
        "playwright": _first_runtime(),
    }
    missing = set()
    for module in _runtime_imports():
        owners = {_name(d) for d in dists.get(module, [])} | {provided_by.get(module, "")}
        if not owners & runtime:
            missing.add(module)
    assert missing == set(), "imported at run time but not a runtime dependency"
    tools = {"pytest", "hypothesis", "ruff", "mypy", "pypdf", "pyyaml", "responses", "playwright"}
    assert runtime & tools == set(), "test and lint tools belong in an extra"
