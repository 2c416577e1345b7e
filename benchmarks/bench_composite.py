"""How fast the Monte Carlo uncertainty analysis of the composite indices is.

1,000 draws (weights, normalisation, aggregation) for every municipality and every indicator
of an index, on the committed offline snapshot. Target: < 5 s on 2 cores (vectorised numpy).
The panel is built once beforehand and not timed.

Run: ``.venv/bin/python benchmarks/bench_composite.py [--draws 1000] [--repeat 3]``
"""

from __future__ import annotations

import argparse
import time


def main(draws: int = 1000, repeat: int = 3) -> None:
    """Print the Monte Carlo timings per index."""
    from westerkwartier import settings
    from westerkwartier.analysis import composite

    settings.offline = True
    start = time.perf_counter()
    panel = composite.index_panel()
    took = time.perf_counter() - start
    print(f"composite: panel of the index indicators (not in the timing) {took:8.3f} s")
    for index in composite.load_indices():
        year = composite.latest_year(index, panel)
        inp = composite.index_input(index, year, panel)
        best = float("inf")
        for _ in range(repeat):
            t = time.perf_counter()
            mc = composite.monte_carlo(index, inputs=inp, draws=draws)
            summary = mc.summary()
            best = min(best, time.perf_counter() - t)
        print(
            f"composite: Monte Carlo {index:<18} {year}: {draws} draws x {len(mc.codes)} gemeenten "
            f"x {len(inp.indicators)} indicatoren (+{len(mc.bench_codes)} benchmarks) "
            f"{best:8.3f} s  (target < 5 s)"
        )
        row = summary[summary["region_code"] == "GM1969"]
        if len(row):
            r = row.iloc[0]
            print(
                f"  Westerkwartier: mediaan rang {r['median_rank']:.0f}, 5-95%: "
                f"{r['rank_p05']:.0f}-{r['rank_p95']:.0f} van {len(mc.codes)}"
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    main(args.draws, args.repeat)
