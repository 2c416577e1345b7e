"""CPU of a warm report: the report notebooks' cells run in one process, report after report.

A batch worker's kernel makes report after report; after the first, each report costs only what
its cells compute and draw. This benchmark runs the code cells of both report notebooks for a
few municipalities in this process (offline, the parameters cell followed by the municipality
and a fixed report date, output discarded), the way a reused kernel runs them but without the
kernel's messaging, the page export and the workbook. It prints the CPU time of every report
and the median and best of the warm ones (all but the first municipality's), so that two
commits can be compared on a machine whose speed swings, run alternately:

    WESTERKWARTIER_OFFLINE=1 .venv/bin/python benchmarks/bench_warm.py
    PYTHONPATH=../other-worktree .venv/bin/python benchmarks/bench_warm.py
"""

from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = ["GM1969", "GM0014", "GM0037", "GM0047", "GM1966"]
REPORT_DATE = "2026-11-27"


def run_report(notebook: Path, code: str) -> float:
    """Run the code cells of ``notebook`` for ``code``; return the CPU seconds they took."""
    import nbformat

    nb = nbformat.read(notebook, as_version=4)
    namespace: dict = {}
    started = time.process_time()
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        source = cell.source
        if "parameters" in (cell.metadata.get("tags") or []):
            source += f"\ngemeente = {code!r}\npeildatum = {REPORT_DATE!r}"
        with contextlib.redirect_stdout(io.StringIO()):
            exec(compile(source, str(notebook), "exec"), namespace)  # noqa: S102 - our notebooks
    return time.process_time() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gemeenten", nargs="+", default=DEFAULT, help="CBS codes")
    args = parser.parse_args(argv)

    import matplotlib

    matplotlib.use("agg")
    from westerkwartier import settings
    from westerkwartier.reporting.report_catalogue import load_report_catalogue

    settings.offline = True
    notebooks = [ROOT / "notebooks" / spec.notebook for spec in load_report_catalogue().values()]
    warm: list[float] = []
    for number, code in enumerate(args.gemeenten):
        for notebook in notebooks:
            seconds = run_report(notebook, code)
            if number:
                warm.append(seconds)
            print(f"  {code} {notebook.stem:20s} {seconds:6.2f} s CPU")
    if warm:
        print(
            f"warme rapporten: {len(warm)}, mediaan {statistics.median(warm):.2f} s CPU, "
            f"beste {min(warm):.2f} s"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
