"""Draw every chart of both reports and print those a reader cannot read.

For each municipality the code cells of both report notebooks run in this process (offline,
output discarded, as ``benchmarks/bench_warm.py`` runs them); every chart they show is drawn
again and checked with ``tests/chart_text.py``: texts that cover each other, texts that leave
the picture, lines of data through a note inside the chart, and a map key titled like one of
its classes. Run it after a matplotlib upgrade or a change to the charts; all 342
municipalities (9.100 charts) take about 35 minutes with two processes:

    .venv/bin/python scripts/chart_scan.py --alle --processen 2
    .venv/bin/python scripts/chart_scan.py GM1969 GM0363

It prints one line per defect and exits with 1 when it found any.
"""

from __future__ import annotations

import argparse
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "benchmarks")]


def figure_problems(figure: Any) -> list[str]:
    """Return what a reader cannot read in ``figure``, one line each (empty: nothing)."""
    from chart_text import overlapping_texts, texts_on_lines, texts_outside

    found = [f"tekst over tekst: {a!r} / {b!r}" for a, b in overlapping_texts(figure)]
    found += [f"tekst buiten het beeld: {t!r}" for t in texts_outside(figure)]
    found += [f"lijn door een notitie: {t!r}" for t in texts_on_lines(figure)]
    for ax in figure.axes:
        key = ax.get_legend()
        title = key.get_title().get_text() if key is not None else ""
        if title and title in [t.get_text() for t in key.get_texts()]:
            found.append(f"legenda met de naam van een klasse: {title!r}")
    return found


def report_figures(code: str) -> list[Any]:
    """Run both report notebooks' cells for ``code`` (offline); return every chart they showed.

    The figures are caught on their way to the page (``charts.figure_image``), laid out and
    saved as the page has them; the function is put back afterwards.
    """
    import matplotlib

    matplotlib.use("agg")
    import bench_warm

    from westerkwartier import settings
    from westerkwartier.reporting import charts
    from westerkwartier.reporting.report_catalogue import load_report_catalogue

    drawn: list[Any] = []
    picture = charts.figure_image

    def recorded(figure: Any, *, raster: bool = False) -> tuple[str, str]:
        drawn.append(figure)
        return picture(figure, raster=raster)

    offline, settings.offline = settings.offline, True
    charts.figure_image = recorded  # type: ignore[assignment]
    try:
        for spec in load_report_catalogue().values():
            bench_warm.run_report(ROOT / "notebooks" / spec.notebook, code)
    finally:
        charts.figure_image = picture  # type: ignore[assignment]
        settings.offline = offline
    return drawn


def scan(codes: list[str]) -> list[str]:
    """Run both reports' cells for ``codes`` and return one line per defect found."""
    lines = []
    for code in codes:
        drawn = report_figures(code)
        for figure in drawn:
            title = figure.get_suptitle().replace("\n", " ")[:60]
            lines += [f"{code} {title!r}: {problem}" for problem in figure_problems(figure)]
        print(f"{code}: {len(drawn)} grafieken bekeken", file=sys.stderr, flush=True)
    return lines


def main(argv: list[str] | None = None) -> int:
    """Scan the municipalities asked for; print the defects; 1 when there are any."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("gemeenten", nargs="*", help="CBS-codes (GM...)")
    parser.add_argument("--alle", action="store_true", help="alle gemeenten van de snapshot")
    parser.add_argument("--processen", type=int, default=1, help="processen naast elkaar")
    args = parser.parse_args(argv)
    codes = list(args.gemeenten)
    if args.alle:
        from westerkwartier import settings
        from westerkwartier.sources import regions

        settings.offline = True
        every = regions.load_registry().municipalities()["code"].tolist()
        codes = [code for code in every if code not in codes] + codes
    if not codes:
        parser.error("geef CBS-codes of --alle")
    parts = [codes[i :: max(args.processen, 1)] for i in range(max(args.processen, 1))]
    with ProcessPoolExecutor(max_workers=len(parts)) as pool:
        lines = [line for part in pool.map(scan, parts) for line in part]
    counted = f"{len(codes)} gemeente{'' if len(codes) == 1 else 'n'}"
    print("\n".join(lines) if lines else f"{counted}: niets gevonden")
    return 1 if lines else 0


if __name__ == "__main__":
    sys.exit(main())
