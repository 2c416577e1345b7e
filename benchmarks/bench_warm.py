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

With ``--per-cell`` it also prints what each cell (each section of a report, named by its
notebook cell id) costs in a warm report, most expensive first, with its share of the report:
what a choice about the content of the reports would save. It then prints what the first
report of the process costs more per cell than a warm one (:func:`cold_extra`): the caches read
from disk, the first map, the imports inside cells; what every kernel pays once.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import time
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = ["GM1969", "GM0014", "GM0037", "GM0047", "GM1966"]
REPORT_DATE = "2026-11-27"


def run_report(notebook: Path, code: str, cells: dict[str, list[float]] | None = None) -> float:
    """Run the code cells of ``notebook`` for ``code``; return the CPU seconds they took.

    Parameters
    ----------
    notebook : Path
        A report notebook.
    code : str
        CBS code of the municipality.
    cells : dict, optional
        When given, the CPU seconds of every code cell are appended to
        ``cells["<notebook stem>:<cell id>"]``.
    """
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
        cell_started = time.process_time()
        with contextlib.redirect_stdout(io.StringIO()):
            exec(compile(source, str(notebook), "exec"), namespace)  # noqa: S102 - our notebooks
        if cells is not None:
            key = f"{notebook.stem}:{cell.get('id', '?')}"
            cells.setdefault(key, []).append(time.process_time() - cell_started)
    return time.process_time() - started


def cell_table(cells: Mapping[str, list[float]]) -> list[tuple[str, float, float]]:
    """Return ``(cell, mean CPU seconds, share of its report)``, most expensive first.

    The share is the cell's mean over the sum of the means of its notebook's cells, so the
    shares of one notebook add up to 1.
    """
    means = {key: statistics.fmean(values) for key, values in cells.items() if values}
    totals: dict[str, float] = {}
    for key, mean in means.items():
        notebook = key.split(":", 1)[0]
        totals[notebook] = totals.get(notebook, 0.0) + mean
    rows = [
        (key, mean, mean / totals[key.split(":", 1)[0]] if totals[key.split(":", 1)[0]] else 0.0)
        for key, mean in means.items()
    ]
    return sorted(rows, key=lambda row: (-row[1], row[0]))


def cold_extra(
    cold: Mapping[str, list[float]], warm: Mapping[str, list[float]]
) -> list[tuple[str, float, float]]:
    """Return ``(cell, cold CPU seconds, cold minus warm mean)``, largest extra first.

    ``cold`` holds the cells of the first report of a process (one value each), ``warm`` those
    of the reports after it. Only cells found in both count.
    """
    rows = [
        (key, values[0], values[0] - statistics.fmean(warm[key]))
        for key, values in cold.items()
        if values and warm.get(key)
    ]
    return sorted(rows, key=lambda row: (-row[2], row[0]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gemeenten", nargs="+", default=DEFAULT, help="CBS codes")
    parser.add_argument(
        "--per-cell", action="store_true", help="also print the CPU of every cell (section)"
    )
    args = parser.parse_args(argv)

    import matplotlib

    matplotlib.use("agg")
    from westerkwartier import settings
    from westerkwartier.reporting.report_catalogue import load_report_catalogue

    settings.offline = True
    notebooks = [ROOT / "notebooks" / spec.notebook for spec in load_report_catalogue().values()]
    warm: list[float] = []
    cells: dict[str, list[float]] = {}
    first: dict[str, list[float]] = {}
    for number, code in enumerate(args.gemeenten):
        for notebook in notebooks:
            # the first municipality warms the process up; its cells are counted apart
            kept = (cells if number else first) if args.per_cell else None
            seconds = run_report(notebook, code, kept)
            if number:
                warm.append(seconds)
            print(f"  {code} {notebook.stem:20s} {seconds:6.2f} s CPU")
    if warm:
        print(
            f"warme rapporten: {len(warm)}, mediaan {statistics.median(warm):.2f} s CPU, "
            f"beste {min(warm):.2f} s"
        )
    if cells:
        print("per cel van een warm rapport (gemiddelde CPU, aandeel van het rapport):")
        for key, mean, share in cell_table(cells):
            print(f"  {key:45s} {mean:6.3f} s {100 * share:5.1f}%")
        extra = cold_extra(first, cells)
        total = sum(x for _, _, x in extra)
        print(
            f"wat het eerste rapport per cel meer kost dan een warm rapport (samen {total:.2f} s):"
        )
        for key, seconds, more in extra[:10]:
            print(f"  {key:45s} {more:+6.3f} s (koud {seconds:.3f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
