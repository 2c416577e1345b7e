"""What both reports cost without a single chart: a lower bound of their ratio to the floor.

Issue 16 asks for both reports of one municipality at no more than twice the floor of
``bench_reports.py`` (two notebooks that only import the package). This benchmark asks what
is left when every picture is free: it runs both report notebooks with every cell that draws
(a cell that calls a ``show_...`` function: trend charts, maps, the retention chart, the rank
intervals, the wijk section) taken out, in one reused kernel as ``westerkwartier report``
does, without the workbook, the index page and the house check. That does less than the
reports with charts at no cost would do (the wijk section's table and text go too), so its
ratio to the floor is a lower bound of what any faster way of drawing could reach.

Floor and bare reports take turns (``--rondes``), and the best of each is compared, on wall
time and on CPU time, as in ``bench_reports.py``; the full reports (the same notebooks with
their charts, in the same way) are measured in the same turns for comparison.

Run: ``WESTERKWARTIER_OFFLINE=1 .venv/bin/python benchmarks/bench_floor_bound.py``
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import nbformat
from bench_reports import _cpu, _floor_notebook, best_of

from westerkwartier import settings
from westerkwartier.pipeline.jobs import kernel_env, kernel_environment
from westerkwartier.pipeline.kernels import current, reused_kernel
from westerkwartier.pipeline.notebook import run_notebook
from westerkwartier.reporting.report_catalogue import load_report_catalogue

#: A cell that calls one of these draws a picture (every ``show_...`` of the sections).
DRAWS = "show_"


def bare_notebook(source: Path, target: Path) -> int:
    """Write ``source`` without its drawing cells to ``target``; return how many went."""
    nb = nbformat.read(source, as_version=4)
    kept = [c for c in nb.cells if not (c.cell_type == "code" and DRAWS in c.source)]
    dropped = len(nb.cells) - len(kept)
    nb.cells = kept
    nbformat.write(nb, target)
    return dropped


def _timed(work: Callable[[], None]) -> tuple[float, float]:
    start, cpu_start = time.perf_counter(), _cpu()
    work()
    return time.perf_counter() - start, _cpu() - cpu_start


def main(argv: list[str] | None = None) -> int:
    """Print the floor, the bare reports and the full reports, and the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gemeente", default="GM1969")
    parser.add_argument("--rondes", type=int, default=3)
    args = parser.parse_args(argv)
    settings.offline = True
    params = {"gemeente": args.gemeente, "peildatum": "2026-11-27"}
    runs: dict[str, list[tuple[float, float]]] = {"vloer": [], "kaal": [], "volledig": []}
    with tempfile.TemporaryDirectory(prefix="wk-bound-") as tmp:
        folder = Path(tmp)
        floor = _floor_notebook(folder)
        full = {spec.id: spec.notebook_path for spec in load_report_catalogue().values()}
        bare = {name: folder / f"{name}-kaal.ipynb" for name in full}
        for name, path in full.items():
            print(f"{name}: {bare_notebook(path, bare[name])} tekenende cellen eruit")

        def run(path: Path, name: str, parameters: dict) -> None:
            run_notebook(
                path,
                folder / f"{name}.html",
                parameters,
                title=name,
                failed_dir=folder / "_f",
                session=current(),  # the reused kernel inside `reused_kernel`, else a new one
            )

        def floor_pair(round_: int) -> None:
            for i in range(2):  # as bench_reports: two import-only notebooks
                run(floor, f"vloer{round_}-{i}", {"gemeente": args.gemeente})

        def pair(notebooks: dict[str, Path], kind: str, round_: int) -> None:
            with reused_kernel():  # one kernel for both, as `westerkwartier report`
                for name, path in notebooks.items():
                    run(path, f"{kind}{round_}-{name}", params)

        with kernel_environment(kernel_env(settings.offline)):
            run(floor, "opwarmen", {"gemeente": args.gemeente})  # not counted
            for round_ in range(max(args.rondes, 1)):
                runs["vloer"].append(_timed(lambda r=round_: floor_pair(r)))
                runs["kaal"].append(_timed(lambda r=round_: pair(bare, "kaal", r)))
                runs["volledig"].append(_timed(lambda r=round_: pair(full, "vol", r)))
                shown = ", ".join(f"{k} {w:.1f}/{c:.1f}" for k, (w, c) in _last(runs).items())
                print(f"  ronde {round_ + 1} (wand/CPU): {shown} s", flush=True)
    floor_wall, floor_cpu = best_of(runs["vloer"])
    print(f"beide rapporten {args.gemeente}, het beste van {max(args.rondes, 1)} rondes")
    print(f"  vloer (2 x leeg)          {floor_wall:6.1f} s wand {floor_cpu:6.1f} s CPU")
    for kind, label in (("kaal", "zonder één grafiek"), ("volledig", "met grafieken")):
        wall, cpu = best_of(runs[kind])
        print(
            f"  {label:<25} {wall:6.1f} s wand {cpu:6.1f} s CPU: "
            f"{wall / floor_wall:.2f}x en {cpu / floor_cpu:.2f}x de vloer"
        )
    return 0


def _last(runs: dict[str, list[tuple[float, float]]]) -> dict[str, tuple[float, float]]:
    return {kind: values[-1] for kind, values in runs.items() if values}


if __name__ == "__main__":
    sys.exit(main())
