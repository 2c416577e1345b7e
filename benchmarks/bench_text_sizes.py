"""What a new report kernel saves from the text sizes and compiled HTML parts in the cache folder.

Runs the code cells of both report notebooks for one municipality after another in a new process
(:func:`bench_warm.run_report`, as a reused kernel runs them), twice: first with empty stores,
then with the stores the first run filled, as the next kernel or run finds them. For each
municipality of each run it prints the texts measured with FreeType and the seconds that took,
the HTML parts compiled and the seconds that took, the seconds spent looking sizes up in the
store, and the CPU of both reports: the first municipality is what a new kernel pays, the next
ones what a warm kernel pays for new texts.
The stores of this benchmark are folders of their own in the cache folder, removed at the end;
the stores the reports use are not touched.

    WESTERKWARTIER_OFFLINE=1 .venv/bin/python benchmarks/bench_text_sizes.py \\
        --gemeente GM1969 GM0014
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import bench_warm

NOTEBOOKS = ("aantrekkelijkheid", "talent")


def child(codes: list[str], prefix: str) -> None:
    """Make both reports of each of ``codes`` in this process, with the stores under ``prefix``."""
    import jinja2
    import matplotlib.text as mtext

    from westerkwartier.reporting import html, text_sizes

    text_sizes.STORE_DIR = f"{prefix}-{text_sizes.STORE_DIR}"
    html.COMPILED_DIR = f"{prefix}-{html.COMPILED_DIR}"
    counts = {"texts": 0, "measure_s": 0.0, "parts": 0, "compile_s": 0.0, "lookup_s": 0.0}
    measure = mtext._get_text_metrics_with_cache  # what charts.shared_text_metrics calls

    def timed_measure(*args):
        started = time.process_time()
        try:
            return measure(*args)
        finally:
            counts["texts"] += 1
            counts["measure_s"] += time.process_time() - started

    compile_template = jinja2.Environment.compile

    def timed_compile(self, *args, **kwargs):
        started = time.process_time()
        try:
            return compile_template(self, *args, **kwargs)
        finally:
            counts["parts"] += 1
            counts["compile_s"] += time.process_time() - started

    def timed(function):
        def wrapper(*args):
            started = time.process_time()
            try:
                return function(*args)
            finally:
                counts["lookup_s"] += time.process_time() - started

        return wrapper

    mtext._get_text_metrics_with_cache = timed_measure
    jinja2.Environment.compile = timed_compile
    # what the store costs a size that matplotlib did not measure in this process
    text_sizes.disk_key = timed(text_sizes.disk_key)
    text_sizes.lookup = timed(text_sizes.lookup)
    for code in codes:
        counts.update(texts=0, measure_s=0.0, parts=0, compile_s=0.0, lookup_s=0.0)
        cpu = sum(
            bench_warm.run_report(bench_warm.ROOT / "notebooks" / f"{name}.ipynb", code)
            for name in NOTEBOOKS
        )
        print(
            f"    {code}: {counts['texts']:4d} teksten gemeten in {counts['measure_s']:5.2f} s, "
            f"{counts['parts']:2d} HTML-delen gecompileerd in {counts['compile_s']:5.2f} s, "
            f"opzoeken {counts['lookup_s']:4.2f} s, "
            f"CPU beide rapporten {cpu:5.1f} s"
        )


def main(argv: list[str] | None = None) -> int:
    """Run the two turns in new processes and print their counts."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gemeente", nargs="+", default=["GM1969"])
    parser.add_argument("--kind", help=argparse.SUPPRESS)  # the prefix of a child's stores
    args = parser.parse_args(argv)
    if args.kind:
        child(args.gemeente, args.kind)
        return 0

    from westerkwartier import settings
    from westerkwartier.reporting import html, text_sizes

    prefix = f"bench-{os.getpid()}"
    print(
        "tekstmaten en HTML-delen: beide rapporten per gemeente, de gemeenten in één nieuw proces"
    )
    try:
        for turn in ("lege opslag", "gevulde opslag (de opslag van de eerste beurt)"):
            print(f"  {turn}", flush=True)
            command = [sys.executable, __file__, "--gemeente", *args.gemeente, "--kind", prefix]
            subprocess.run(command, check=True)
    finally:
        for name in (text_sizes.STORE_DIR, html.COMPILED_DIR):
            shutil.rmtree(Path(settings.cache_dir) / f"{prefix}-{name}", ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
