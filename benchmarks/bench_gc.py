"""What the garbage collector costs a report kernel, with Python's thresholds and with ours.

A new report kernel imports matplotlib and geopandas and reads the national panel in its first
report: hundreds of thousands of objects that live as long as the kernel. Python's collector
goes through the objects it has seen before each time enough new ones accumulate; the kernel
sets the thresholds of :data:`westerkwartier.pipeline.kernels.GC_THRESHOLD` when it starts.

This benchmark runs the code cells of both report notebooks for each municipality in a new
process (:func:`bench_warm.run_report`), cleaning up between reports as a reused kernel does
(a full collection, then ``gc.freeze``), once with Python's thresholds and once with the
kernel's, alternately ``--repeat`` times. For each report it prints the collections per
generation, the seconds they took and the report's CPU: the first report is what a new kernel
pays, the next ones what a warm kernel pays.

    WESTERKWARTIER_OFFLINE=1 .venv/bin/python benchmarks/bench_gc.py --gemeente GM1969 GM0014
"""

from __future__ import annotations

import argparse
import gc
import subprocess
import sys
import time

import bench_warm

NOTEBOOKS = ("aantrekkelijkheid", "talent")

#: Python's own thresholds (CPython 3.8-3.12).
PYTHON_THRESHOLD = (700, 10, 10)


def child(codes: list[str], threshold: tuple[int, int, int]) -> None:
    """Make both reports of each of ``codes`` in this process; print the collector's work."""
    gc.set_threshold(*threshold)
    counts = [0, 0, 0]
    seconds = [0.0, 0.0, 0.0]
    started: list[float] = []

    def watch(phase: str, info: dict) -> None:
        if phase == "start":
            started.append(time.process_time())
        elif started:
            generation = info["generation"]
            counts[generation] += 1
            seconds[generation] += time.process_time() - started.pop()

    gc.callbacks.append(watch)
    first = True
    for code in codes:
        for name in NOTEBOOKS:
            if not first:  # the kernel's clean-up before every report but its first
                gc.collect()
                gc.freeze()
            first = False
            counts[:], seconds[:] = [0, 0, 0], [0.0, 0.0, 0.0]
            cpu = bench_warm.run_report(bench_warm.ROOT / "notebooks" / f"{name}.ipynb", code)
            passes = "/".join(str(n) for n in counts)
            times = "/".join(f"{s:.2f}" for s in seconds)
            print(
                f"    {code} {name:<18} opruimingen (generatie 0/1/2) {passes:>11} in "
                f"{times} s, samen {sum(seconds):4.2f} s; CPU rapport {cpu:5.2f} s",
                flush=True,
            )


def main(argv: list[str] | None = None) -> int:
    """Run each policy in new processes, alternately, and print their counts."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gemeente", nargs="+", default=["GM1969"])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--threshold", nargs=3, type=int, help=argparse.SUPPRESS)  # a child's
    args = parser.parse_args(argv)
    if args.threshold:
        child(args.gemeente, tuple(args.threshold))
        return 0

    from westerkwartier.pipeline.kernels import GC_THRESHOLD

    policies = {"Python": PYTHON_THRESHOLD, "kernel": GC_THRESHOLD}
    print("opruimer (garbage collector): beide rapporten per gemeente in één nieuw proces")
    for round_ in range(max(args.repeat, 1)):
        for label, threshold in policies.items():
            print(f"  ronde {round_ + 1}, drempels van {label} {threshold}", flush=True)
            command = [sys.executable, __file__, "--gemeente", *args.gemeente, "--threshold"]
            subprocess.run([*command, *map(str, threshold)], check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
