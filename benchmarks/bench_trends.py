"""CPU of a report's trend charts: every indicator's chart drawn and made into its picture.

Half of a warm report's CPU goes to its charts, and most charts are trend charts (an indicator
over the years for the municipality, its province and Nederland). This benchmark builds the
trend chart of every scorecard indicator of both reports for a few municipalities in this
process (offline), turns each into the picture of the page (``charts.figure_mimebundle``),
several rounds, and prints the median CPU time per chart. Run it alternately, or at the same
time one per core, on two commits to compare them:

    WESTERKWARTIER_OFFLINE=1 .venv/bin/python benchmarks/bench_trends.py
    PYTHONPATH=../other-worktree .venv/bin/python benchmarks/bench_trends.py
"""

from __future__ import annotations

import statistics
import time

from bench_maps import drawing_offline

DEFAULT = ["GM1969", "GM0037"]
REPORT_DATE = "2026-11-27"


def main(argv: list[str] | None = None) -> int:
    args = drawing_offline(__doc__, DEFAULT, argv)
    from westerkwartier.reporting import charts, figures
    from westerkwartier.reporting.report_catalogue import load_report_catalogue
    from westerkwartier.reporting.report_data import load_report_data

    reports = [
        load_report_data(name, code, 0, [], REPORT_DATE, "", "")
        for code in args.gemeenten
        for name in load_report_catalogue()
    ]
    rounds: list[float] = []
    for number in range(args.rondes + 1):
        drawn = 0
        started = time.process_time()
        for data in reports:
            for row in data.rows:
                chart = figures.indicator_trend(data, row.indicator)
                if chart is not None:
                    charts.figure_mimebundle(chart.figure, chart.alt, raster=chart.raster)
                    drawn += 1
        seconds = (time.process_time() - started) / max(drawn, 1)
        if number:  # the first round warms up fonts and caches
            rounds.append(seconds)
        print(f"  ronde {number}: {drawn} grafieken, {1000 * seconds:.1f} ms CPU per grafiek")
    print(
        f"trendgrafieken ({len(args.gemeenten)} gemeenten, beide rapporten): mediaan "
        f"{1000 * statistics.median(rounds):.1f} ms CPU per grafiek, "
        f"beste {1000 * min(rounds):.1f} ms"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
