"""Regenerate the table of ``docs/reliability.md`` from the reliability test suite.

Runs ``tests/test_reliability_*.py`` with ``--reliability-write``: the pytest plugin
``tests/reliability_plugin.py`` records what every test observed and, when the whole suite
passed, writes the table between ``<!-- reliability:start -->`` and ``<!-- reliability:end -->``
in ``docs/reliability.md`` (the README links it).

    .venv/bin/python scripts/reliability_table.py
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FILES = [
    "tests/test_reliability_faults.py",
    "tests/test_reliability_inputs.py",
    "tests/test_reliability_concurrency.py",
    "tests/test_reliability_leaks.py",
    "tests/test_reliability_operations.py",
]


def main() -> int:
    """Run the reliability suite in write mode; return pytest's exit code."""
    command = [sys.executable, "-m", "pytest", "-q", "--reliability-write", *FILES]
    return subprocess.run(command, cwd=ROOT, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
