"""Work inside matplotlib for the charts of a report: ticks made and drawn, font tables read.

matplotlib makes a tick (two lines, a grid line and two labels) for every place an axis's
locator returns, and draws those inside the view; it reads the line height of a text's font
from the font's tables at every layout. The charts keep the ticks to the view
(:class:`westerkwartier.reporting.charts.InViewLocator`) and read the tables once
(``charts._FontTables``). This benchmark runs the code cells of both report notebooks for each
municipality in a new process (:func:`bench_warm.run_report`), the first one unmeasured (a new
kernel's imports and caches), and counts for the others the ticks made, the ticks drawn and
the table reads, with the seconds spent making ticks and the CPU of both reports; once as the
charts do it and once with both turned off (matplotlib's own way), alternately ``--repeat``
times. The pictures are the same either way (``tests/test_style.py``).

    WESTERKWARTIER_OFFLINE=1 .venv/bin/python benchmarks/bench_chart_work.py \\
        --gemeente GM1969 GM0363 GM0088
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

import bench_warm

NOTEBOOKS = ("aantrekkelijkheid", "talent")
WARM_UP = "GM0014"


def child(codes: list[str], own_way: bool) -> None:
    """Make both reports of ``WARM_UP`` and then of each of ``codes``; print the counts."""
    import matplotlib.axis as maxis
    import matplotlib.text as mtext

    from westerkwartier.reporting import charts

    if own_way:  # matplotlib's own way: every place a tick, the tables read at every layout
        charts._ticks_in_view_only = lambda figure: None  # type: ignore[assignment]
        charts._FontTables.get_sfnt_table = lambda self, name: self._font.get_sfnt_table(name)  # type: ignore[method-assign]
    counts = {"made": 0, "made_s": 0.0, "drawn": 0, "reads": 0}
    make_tick, draw_tick = maxis.Axis._get_tick, maxis.Tick.draw

    def counted_make(self, major):
        started = time.process_time()
        try:
            return make_tick(self, major)
        finally:
            counts["made"] += 1
            counts["made_s"] += time.process_time() - started

    def counted_draw(self, renderer):
        counts["drawn"] += 1
        return draw_tick(self, renderer)

    class CountedFont:
        def __init__(self, font):
            self.font = font

        def get_sfnt_table(self, name):
            counts["reads"] += 1
            return self.font.get_sfnt_table(name)

    open_font = mtext.get_font
    maxis.Axis._get_tick = counted_make
    maxis.Tick.draw = counted_draw
    mtext.get_font = lambda *args, **kwargs: CountedFont(open_font(*args, **kwargs))
    for code in [WARM_UP, *codes]:
        counts.update(made=0, made_s=0.0, drawn=0, reads=0)
        cpu = sum(
            bench_warm.run_report(bench_warm.ROOT / "notebooks" / f"{name}.ipynb", code)
            for name in NOTEBOOKS
        )
        if code == WARM_UP:
            continue
        print(
            f"    {code}: {counts['made']:4d} ticks gemaakt ({counts['made_s']:4.2f} s), "
            f"{counts['drawn']:4d} getekend, {counts['reads']:5d} keer een fonttabel gelezen; "
            f"CPU beide rapporten {cpu:5.2f} s",
            flush=True,
        )


def main(argv: list[str] | None = None) -> int:
    """Run both ways in new processes, alternately, and print their counts."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gemeente", nargs="+", default=["GM1969"])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--eigen", help=argparse.SUPPRESS)  # a child: "1" = matplotlib's way
    args = parser.parse_args(argv)
    if args.eigen is not None:
        child(args.gemeente, args.eigen == "1")
        return 0
    print(f"grafieken: beide rapporten per gemeente in één proces, na {WARM_UP} (niet geteld)")
    for round_ in range(max(args.repeat, 1)):
        for label, own in (("zoals de grafieken het doen", "0"), ("matplotlibs eigen manier", "1")):
            print(f"  ronde {round_ + 1}, {label}", flush=True)
            command = [sys.executable, __file__, "--gemeente", *args.gemeente, "--eigen", own]
            subprocess.run(command, check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
