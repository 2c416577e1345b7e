"""How long rendering both reports takes, against the floor of the same machinery.

Report = ``render_reports`` for one municipality (both notebooks through papermill and
nbconvert, HTML checks, index). Floor = the same runner on a notebook that only imports the
package (kernel start, papermill, nbconvert, HTML checks). Peak memory is the maximum RSS of
the kernel processes (children) plus this process, since the work happens in the kernels.

One floor notebook runs first, unmeasured: the set-up this process does once for any notebook
would otherwise count with the floor. With ``--repeat N`` floor and reports take turns N times
and the best of each is compared (:func:`best_of`): the machine's speed swings within minutes,
and a slow minute then falls on both sides, not on the one measured last.

Run: ``WESTERKWARTIER_OFFLINE=1 .venv/bin/python benchmarks/bench_reports.py``
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from westerkwartier import settings
from westerkwartier.pipeline import render as reports
from westerkwartier.pipeline.jobs import kernel_env, kernel_environment
from westerkwartier.pipeline.notebook import run_notebook


def _floor_notebook(folder: Path) -> Path:
    nb = new_notebook(
        cells=[
            new_code_cell('gemeente: str = "GM1969"  # CBS-code of naam', id="p"),
            new_markdown_cell("# Vloer", id="t"),
            new_code_cell("import westerkwartier  # noqa: F401", id="i"),
        ]
    )
    nb.cells[0].metadata["tags"] = ["parameters"]
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    path = folder / "vloer.ipynb"
    nbformat.write(nb, path)
    return path


def _cpu() -> float:
    """CPU seconds of this process and of its ended children (the kernels).

    Unlike wall time this hardly depends on what else runs on a shared machine.
    """
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _children_peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def best_of(runs: list[tuple[float, float]]) -> tuple[float, float]:
    """Return the best wall time and the best CPU time of ``(wall, cpu)`` runs.

    Reports and floor are judged by the same statistic, so that repeating the benchmark makes
    neither side look better: the best of each, taken separately, since the quickest run on
    the wall need not be the one with the least CPU.

    Examples
    --------
    >>> best_of([(12.0, 11.0), (10.5, 11.5), (11.0, 10.8)])
    (10.5, 10.8)
    """
    if not runs:
        raise ValueError("best_of needs at least one run")
    return min(wall for wall, _ in runs), min(cpu for _, cpu in runs)


def main(argv: list[str] | None = None) -> int:
    """Print the figures; see :func:`measure`."""
    measure(argv)
    return 0


def measure(argv: list[str] | None = None) -> dict:
    """Render both reports and the floor; print and return the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gemeente", default="GM1969")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args(argv)
    settings.offline = True

    floor: list[tuple[float, float]] = []
    made: list[tuple[float, float]] = []
    sizes: dict[str, int] = {}
    floor_peak = 0.0
    with tempfile.TemporaryDirectory(prefix="wk-bench-") as tmp:
        folder = Path(tmp)
        floor_nb = _floor_notebook(folder)

        def floor_notebook(name: str) -> None:
            with kernel_environment(kernel_env(settings.offline)):
                run_notebook(
                    floor_nb,
                    folder / f"{name}.html",
                    {"gemeente": args.gemeente},
                    title="vloer",
                    failed_dir=folder / "_failed",
                )

        # not measured: what this process does once for any notebook (papermill's and
        # nbconvert's set-up, the page template), which would fall on the floor's first round
        floor_notebook("opwarmen")
        # floor and reports alternate, so that a slow minute of the machine falls on both
        for round_ in range(max(args.repeat, 1)):
            start, cpu_start = time.perf_counter(), _cpu()
            for i in range(2):  # the floor renders 2 notebooks, too
                floor_notebook(f"vloer{round_}-{i}")
            floor.append((time.perf_counter() - start, _cpu() - cpu_start))
            if not round_:  # after this the children's peak is that of the report kernels
                floor_peak = _children_peak_mib()

            start, cpu_start = time.perf_counter(), _cpu()
            paths = reports.render_reports(
                args.gemeente, peildatum="2026-11-27", uit=folder / "reports"
            )
            made.append((time.perf_counter() - start, _cpu() - cpu_start))
            sizes = {p.name: p.stat().st_size for p in paths}
        floor_time, floor_cpu = best_of(floor)
        best, best_cpu = best_of(made)
        peak = _children_peak_mib()
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"rapporten {args.gemeente} (beide, via papermill + nbconvert)")
    print(f"  wandtijd rapporten        {best:7.1f} s")
    print(f"  wandtijd vloer (2 x leeg) {floor_time:7.1f} s")
    print(f"  verhouding                {best / floor_time:7.2f} x de vloer")
    print(f"  CPU-tijd rapporten        {best_cpu:7.1f} s (vloer {floor_cpu:.1f} s)")
    print(f"  verhouding CPU-tijd       {best_cpu / floor_cpu:7.2f} x de vloer")
    if len(made) > 1:
        for name, runs in (("vloer", floor), ("rapporten", made)):
            shown = ", ".join(f"{wall:.1f}/{cpu:.1f}" for wall, cpu in runs)
            print(f"  {name} per ronde (wand/CPU) {shown} s")
    print(f"  piek-RSS kernels          {peak:7.0f} MiB (vloer {floor_peak:.0f} MiB)")
    print(f"  piek-RSS dit proces       {own:7.0f} MiB")
    for name, size in sizes.items():
        print(f"  {name:<26}{size / 1e3:7.0f} kB")
    return {
        "reports_s": best,
        "floor_s": floor_time,
        "ratio": best / floor_time,
        "reports_cpu_s": best_cpu,
        "floor_cpu_s": floor_cpu,
        "kernel_peak_mib": peak,
        "sizes_kb": {name: size / 1e3 for name, size in sizes.items()},
    }


if __name__ == "__main__":
    sys.exit(main())
