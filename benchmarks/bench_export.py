"""CPU of what a batch worker does with an executed report: the page, its checks, the workbook.

A report's CPU is mostly its kernel (the cells, see ``bench_warm.py``); the rest is spent in
the worker after the notebook has run: nbconvert makes the page (``html.export_html``), the
house rules read it (``html.check_html``) and the figures become an Excel workbook beside it
(``jobs.write_figures_workbook``). This benchmark runs both report notebooks for one
municipality once through papermill (offline), then repeats those steps on the executed
notebooks and prints the median CPU time of each step per report. Run it alternately on two
commits to compare them:

    WESTERKWARTIER_OFFLINE=1 .venv/bin/python benchmarks/bench_export.py
    PYTHONPATH=../other-worktree .venv/bin/python benchmarks/bench_export.py
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPORTS = ("aantrekkelijkheid", "talent")
REPORT_DATE = "2026-11-27"


def _cpu(step: Callable[[], Any], rounds: int) -> float:
    """Median CPU seconds of ``step`` over ``rounds`` runs."""
    times = []
    for _ in range(rounds):
        started = time.process_time()
        step()
        times.append(time.process_time() - started)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gemeente", default="GM1969", help="CBS code")
    parser.add_argument("--rondes", type=int, default=9, help="runs of each step")
    args = parser.parse_args(argv)

    import papermill

    from westerkwartier import settings
    from westerkwartier.pipeline.jobs import kernel_env, kernel_environment, write_figures_workbook
    from westerkwartier.reporting.html import check_html, export_html

    settings.offline = True
    notebooks = settings.project_dir / "notebooks"
    with tempfile.TemporaryDirectory() as tmp, kernel_environment(kernel_env(True)):
        folder = Path(tmp)
        total = 0.0
        for report in REPORTS:
            executed = papermill.execute_notebook(
                str(notebooks / f"{report}.ipynb"),
                str(folder / f"{report}.ipynb"),
                parameters={"gemeente": args.gemeente, "peildatum": REPORT_DATE},
                progress_bar=False,
                log_output=False,
                cwd=str(notebooks),
            )
            title = f"{report} {args.gemeente}"
            page = export_html(executed, title=title)
            path = folder / f"{report}.html"
            path.write_text(page, encoding="utf-8")
            steps = {
                "pagina": _cpu(lambda nb=executed, t=title: export_html(nb, title=t), args.rondes),
                "controle": _cpu(lambda p=page: check_html(p), args.rondes),
                "werkmap": _cpu(lambda p=path: write_figures_workbook(p), args.rondes),
            }
            together = sum(steps.values())
            total += together
            shown = ", ".join(f"{name} {seconds:.3f} s" for name, seconds in steps.items())
            print(f"  {report}: {shown}; samen {together:.3f} s CPU ({len(page) // 1000} kB)")
    print(
        f"na het notebook, per rapport ({args.gemeente}, mediaan van {args.rondes}): "
        f"{total / len(REPORTS):.3f} s CPU"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
