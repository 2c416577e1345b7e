"""How long rendering both reports takes, against the floor of the same machinery.

Report = ``render_reports`` for one municipality (both notebooks through papermill and
nbconvert, HTML checks, index). Floor = the same runner on a notebook that only imports the
package (kernel start, papermill, nbconvert, HTML checks). Peak memory is the maximum RSS of
the kernel processes (children) plus this process, since the work happens in the kernels.

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

    with tempfile.TemporaryDirectory(prefix="wk-bench-") as tmp:
        folder = Path(tmp)
        floor_nb = _floor_notebook(folder)
        floor = []
        cpu_start = _cpu()
        for i in range(max(args.repeat, 1) * 2):  # the floor renders 2 notebooks, too
            start = time.perf_counter()
            with kernel_environment(kernel_env(settings.offline)):
                run_notebook(
                    floor_nb,
                    folder / f"vloer{i}.html",
                    {"gemeente": args.gemeente},
                    title="vloer",
                    failed_dir=folder / "_failed",
                )
            floor.append(time.perf_counter() - start)
        floor_time = sum(floor) / max(args.repeat, 1)
        floor_cpu = (_cpu() - cpu_start) / max(args.repeat, 1)
        floor_peak = _children_peak_mib()

        best = float("inf")
        best_cpu = float("inf")
        sizes: dict[str, int] = {}
        for _ in range(max(args.repeat, 1)):
            start, cpu_start = time.perf_counter(), _cpu()
            paths = reports.render_reports(
                args.gemeente, peildatum="2026-11-27", uit=folder / "reports"
            )
            best = min(best, time.perf_counter() - start)
            best_cpu = min(best_cpu, _cpu() - cpu_start)
            sizes = {p.name: p.stat().st_size for p in paths}
        peak = _children_peak_mib()
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"rapporten {args.gemeente} (beide, via papermill + nbconvert)")
    print(f"  wandtijd rapporten        {best:7.1f} s")
    print(f"  wandtijd vloer (2 x leeg) {floor_time:7.1f} s")
    print(f"  verhouding                {best / floor_time:7.2f} x de vloer")
    print(f"  CPU-tijd rapporten        {best_cpu:7.1f} s (vloer {floor_cpu:.1f} s)")
    print(f"  verhouding CPU-tijd       {best_cpu / floor_cpu:7.2f} x de vloer")
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
