"""CPU of a report's two maps: the wijk map and the province map, drawn and made into pictures.

Each report shows two maps (the wijken of the municipality and the municipality among its
province and neighbours); each costs several charts. This benchmark builds both maps for a few
municipalities in this process (offline) and turns them into the pictures of the page
(``charts.figure_image``), several rounds, and prints the median CPU time per municipality.
Run it alternately on two commits to compare them:

    WESTERKWARTIER_OFFLINE=1 .venv/bin/python benchmarks/bench_maps.py
    PYTHONPATH=../other-worktree .venv/bin/python benchmarks/bench_maps.py
"""

from __future__ import annotations

import argparse
import statistics
import time

DEFAULT = ["GM1969", "GM0363", "GM1900", "GM0088", "GM1979", "GM1982", "GM0014", "GM0344"]
REPORT_DATE = "2026-11-27"


def drawing_offline(doc: str, default: list[str], argv: list[str] | None) -> argparse.Namespace:
    """Read ``--gemeenten`` and ``--rondes`` and draw offline with Agg, in this process.

    Shared by the benchmarks that draw a report's pictures (this one and ``bench_trends``).
    """
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--gemeenten", nargs="+", default=default, help="CBS codes")
    parser.add_argument("--rondes", type=int, default=3, help="rounds after a warm-up round")
    args = parser.parse_args(argv)

    import matplotlib

    matplotlib.use("agg")
    from westerkwartier import settings

    settings.offline = True
    return args


def main(argv: list[str] | None = None) -> int:
    args = drawing_offline(__doc__, DEFAULT, argv)
    from westerkwartier.reporting import charts, figures, wijk_sections
    from westerkwartier.reporting.report_data import load_report_data

    data = {
        code: load_report_data("talent", code, 0, [], REPORT_DATE, "", "")
        for code in args.gemeenten
    }
    sections = {code: wijk_sections.load_wijk_section(code) for code in args.gemeenten}
    rounds: list[float] = []
    for number in range(args.rondes + 1):
        started = time.process_time()
        for code in args.gemeenten:
            wijk = wijk_sections.wijk_chart(sections[code])
            if wijk is not None:
                charts.figure_image(wijk.figure, raster=wijk.raster)
            province = figures.choropleth(data[code])
            charts.figure_image(province.figure, raster=province.raster)
        seconds = (time.process_time() - started) / len(args.gemeenten)
        if number:  # the first round warms up fonts and caches
            rounds.append(seconds)
        print(f"  ronde {number}: {seconds:.3f} s CPU per gemeente")
    print(
        f"twee kaarten per gemeente ({len(args.gemeenten)} gemeenten): mediaan "
        f"{statistics.median(rounds):.3f} s CPU, beste {min(rounds):.3f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
