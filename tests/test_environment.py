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
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
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
