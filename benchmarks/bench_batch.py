"""Batch benchmark: every Groningen municipality with 1 and with 2 workers.

Prints reports per minute, the speed-up, an estimate for all 342 municipalities and the peak
memory of a worker and of its kernels (``getrusage`` measured inside each worker: ``RUSAGE_SELF``
for the worker, ``RUSAGE_CHILDREN`` for the kernels it started and waited for). Each setting
renders everything (``force``) into a temporary folder, offline on the committed snapshot.

It also prints the CPU time per report of the kernels, of the workers (the pages, the
workbooks, papermill's messages) and of this process, read with ``psutil`` (a dependency of
ipykernel) from every process below this one five times a second (:class:`CpuByProcess`): the
work a national run has to spread over the machine's cores.

    WESTERKWARTIER_OFFLINE=1 .venv/bin/python benchmarks/bench_batch.py
    .venv/bin/python benchmarks/bench_batch.py --notebook tests/fixtures/notebooks/mini.ipynb
    WESTERKWARTIER_OFFLINE=1 .venv/bin/python benchmarks/bench_batch.py --alle-gemeenten --workers 2

By default both real reports (``notebooks/aantrekkelijkheid.ipynb`` and ``talent.ipynb``) are
rendered; until they exist the mini notebook of the tests stands in.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import math
import os
import tempfile
import threading
import time
from pathlib import Path

from westerkwartier import settings
from westerkwartier.pipeline import batch, manifest
from westerkwartier.sources import regions

ROOT = Path(__file__).resolve().parent.parent
MINI = ROOT / "tests" / "fixtures" / "notebooks" / "mini.ipynb"
ALL_MUNICIPALITIES = 342


def _manifest(notebooks: list[Path], province: str | None) -> manifest.Manifest:
    """The reports of every municipality of ``province``, or of the country when None."""
    registry = regions.load_registry()
    names: dict[str, str] = {}
    codes = manifest.select_municipalities(
        registry, provincie=province, alle_gemeenten=province is None, names=names
    )
    reports = tuple(
        manifest.ManifestEntry(
            name=nb.stem,
            notebook=nb.resolve(),
            title=f"{nb.stem.capitalize()} – {{gemeente}}",
            label=nb.stem.capitalize(),
            parameters={},
            municipalities=tuple(codes),
        )
        for nb in notebooks
    )
    return manifest.Manifest(path=None, reports=reports, names=names)


class CpuByProcess:
    """CPU seconds of the processes below this one while the block runs, by kind.

    Every ``interval`` seconds the CPU times of all descendants are read; a process's last
    reading counts, so what a process does in the last interval before it ends is missed
    (at most ``interval`` per process: the kernels and workers live for the whole batch). A
    process that was there before the block counts only what it did after the block began.
    Kinds: ``kernels`` (ipykernel), ``werkers`` (the pool's workers and the forkserver they
    are forked from), and this process itself (all its threads, this reading's too), read at
    the end.
    """

    def __init__(self, interval: float = 0.2) -> None:
        self.interval = interval
        # (pid, start time) -> (kind, CPU seconds at the last reading)
        self.seen: dict[tuple[int, float], tuple[str, float]] = {}
        self.before: dict[tuple[int, float], float] = {}
        self.own = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> CpuByProcess:
        self._own_start = time.process_time()
        self.before = {key: cpu for key, (_, cpu) in self._read().items()}
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.own = time.process_time() - self._own_start

    @staticmethod
    def _read() -> dict[tuple[int, float], tuple[str, float]]:
        import psutil

        found: dict[tuple[int, float], tuple[str, float]] = {}
        for proc in psutil.Process().children(recursive=True):
            try:
                with proc.oneshot():
                    times = proc.cpu_times()
                    kind = "kernels" if "ipykernel" in " ".join(proc.cmdline()) else "werkers"
                    key = (proc.pid, proc.create_time())
            except psutil.Error:  # ended between the listing and the reading
                continue
            found[key] = (kind, times.user + times.system)
        return found

    def _sample(self) -> None:
        while True:
            self._record(self._read())
            if self._stop.wait(self.interval):
                return

    def _record(self, readings: dict[tuple[int, float], tuple[str, float]]) -> None:
        """Keep each process's latest CPU seconds; once a kernel, always a kernel.

        A command line does not always show what a process is: before its ``exec`` a kernel
        still has its parent's, and while it exits (its memory released, not yet a zombie)
        it has none, so its last and largest reading would count as a worker's.
        """
        for key, (kind, cpu) in readings.items():
            if self.seen.get(key, ("", 0.0))[0] == "kernels":
                kind = "kernels"
            self.seen[key] = (kind, cpu)

    def totals(self) -> dict[str, float]:
        """CPU seconds per kind: ``kernels``, ``werkers`` and ``hoofdproces`` (this one)."""
        out = {"kernels": 0.0, "werkers": 0.0}
        for key, (kind, cpu) in self.seen.items():
            out[kind] += cpu - self.before.get(key, 0.0)
        out["hoofdproces"] = self.own
        return out


def _run(manifest: manifest.Manifest, workers: int, out: Path) -> dict:
    start = time.perf_counter()
    with CpuByProcess() as cpu:
        summary = batch.run_batch(
            manifest,
            out_dir=out,
            workers=workers,
            force=True,
            clock=lambda: dt.datetime(2026, 1, 1, 0, workers),
            progress="uit",
            stream=io.StringIO(),
        )
    summary["wall"] = time.perf_counter() - start
    summary["cpu"] = cpu.totals()
    return summary


def cpu_line(cpu: dict[str, float], reports: int) -> str:
    """Return the line with the CPU seconds per report of each kind of process.

    Examples
    --------
    >>> print(cpu_line({"kernels": 40.0, "werkers": 6.0, "hoofdproces": 1.0}, 20))
        CPU per rapport: kernels 2.00 s, werkers 0.30 s, hoofdproces 0.05 s; samen 2.35 s
    """
    parts = ", ".join(f"{kind} {seconds / reports:.2f} s" for kind, seconds in cpu.items())
    total = sum(cpu.values()) / reports
    return f"    CPU per rapport: {parts}; samen {total:.2f} s"


def _peaks(summary: dict) -> tuple[float, float]:
    entries = summary["rapporten"]
    worker = max((e.get("geheugen_werker_mb") or 0) for e in entries)
    kernels = max((e.get("geheugen_kernels_mb") or 0) for e in entries)
    return worker, kernels


def steady_estimate(summary: dict, workers: int, total: int) -> tuple[float, float, float] | None:
    """Estimate a run of ``total`` reports from the reports' own durations.

    A short batch pays each worker's kernel start and first, cold report (imports, caches
    read) over only a few reports; the national run pays them once per worker and kernel
    (a kernel makes :data:`~westerkwartier.pipeline.kernels.MAX_REPORTS` reports). So: the
    mean duration of the reports after each worker's slowest (its first) is the steady
    cost; the slowest minus that is the start-up, counted once per kernel.

    Returns
    -------
    tuple of float or None
        Minutes for ``total`` reports, steady seconds per report, start-up seconds per kernel;
        None when no worker made two reports.
    """
    from collections import defaultdict

    from westerkwartier.pipeline.kernels import MAX_REPORTS

    per_worker: dict[object, list[float]] = defaultdict(list)
    for entry in summary["rapporten"]:
        if entry.get("status") == "gemaakt" and entry.get("werker") is not None:
            per_worker[entry["werker"]].append(float(entry.get("duur_s") or 0.0))
    rest = [d for times in per_worker.values() for d in sorted(times)[:-1]]
    if not rest:
        return None
    steady = sum(rest) / len(rest)
    start = sum(max(t) for t in per_worker.values()) / len(per_worker) - steady
    each = math.ceil(total / workers)
    kernels = math.ceil(each / MAX_REPORTS)
    return (each * steady + kernels * max(start, 0.0)) / 60, steady, start


def main(argv: list[str] | None = None) -> dict:
    """Run the benchmark, print its figures and return them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--notebook",
        type=Path,
        action="append",
        default=None,
        help="notebook(s) to render (default: the real reports, else the mini notebook)",
    )
    parser.add_argument("--provincie", default="Groningen")
    parser.add_argument(
        "--alle-gemeenten",
        action="store_true",
        help="the whole country instead of one province (a national run: 10-20 minutes)",
    )
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args(argv)
    notebooks = args.notebook or [
        ROOT / "notebooks" / "aantrekkelijkheid.ipynb",
        ROOT / "notebooks" / "talent.ipynb",
    ]
    if not all(nb.is_file() for nb in notebooks):
        print(f"Niet gevonden: {[str(nb) for nb in notebooks if not nb.is_file()]}; mini-notebook.")
        notebooks = [MINI]
    settings.offline = True
    os.environ["WESTERKWARTIER_OFFLINE"] = "1"
    area = None if args.alle_gemeenten else args.provincie
    manifest = _manifest(notebooks, area)
    n_gm = len({c for _, c in manifest.jobs()})
    per_gm = len(manifest.reports)
    print(
        f"batch benchmark: {n_gm} gemeenten in {area or 'Nederland'} x {per_gm} rapport(en) "
        f"({', '.join(nb.name for nb in notebooks)}), {os.cpu_count()} CPU's"
    )
    rates: dict[int, float] = {}
    peaks: dict[int, tuple[float, float]] = {}
    steady: dict[int, tuple[float, float, float] | None] = {}
    cpus: dict[int, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="wk-bench-batch-") as tmp:
        for workers in args.workers:
            summary = _run(manifest, workers, Path(tmp) / f"w{workers}")
            done = summary["aantallen"]["gemaakt"]
            rate = done / summary["wall"] * 60
            rates[workers] = rate
            worker_mb, kernel_mb = _peaks(summary)
            peaks[workers] = (worker_mb, kernel_mb)
            steady[workers] = steady_estimate(summary, workers, ALL_MUNICIPALITIES * per_gm)
            failed = len(summary["mislukt"])
            print(
                f"  {workers} werker(s): {done} rapporten in {summary['wall']:6.1f} s = "
                f"{rate:5.1f} rapporten/min; piek per werker {worker_mb:.0f} MiB + kernel "
                f"{kernel_mb:.0f} MiB" + (f"; {failed} MISLUKT" if failed else "")
            )
            if done:
                cpus[workers] = {kind: cpu / done for kind, cpu in summary["cpu"].items()}
                print(cpu_line(summary["cpu"], done))
    base = rates.get(1) or next(iter(rates.values()))
    for workers, rate in rates.items():
        if workers != 1 and 1 in rates:
            print(f"  speed-up {workers} werkers t.o.v. 1: {rate / base:.2f}x")
    best_workers, best = max(rates.items(), key=lambda kv: kv[1])
    minutes = ALL_MUNICIPALITIES * per_gm / best
    print(
        f"  schatting alle {ALL_MUNICIPALITIES} gemeenten ({ALL_MUNICIPALITIES * per_gm} "
        f"rapporten) met {best_workers} werker(s): {minutes:.0f} min ({minutes / 60:.1f} uur)"
    )
    model = steady.get(best_workers)
    if model is not None:
        print(
            f"  schatting uit de duur per rapport: {model[1]:.1f} s per rapport na de eerste, "
            f"{model[2]:.1f} s opstart per kernel: alle {ALL_MUNICIPALITIES * per_gm} rapporten "
            f"in {model[0]:.0f} min"
        )
    per_report = sum(cpus[best_workers].values()) if best_workers in cpus else None
    if per_report is not None:
        cores = os.cpu_count() or 1
        lowest = ALL_MUNICIPALITIES * per_gm * per_report / cores / 60
        short = " (met de opstart van deze korte batch)" if n_gm < ALL_MUNICIPALITIES else ""
        print(
            f"  alle {ALL_MUNICIPALITIES * per_gm} rapporten vragen {per_report:.2f} s CPU per "
            f"rapport{short}: over {cores} kernen verdeeld minstens {lowest:.0f} min"
        )
    return {
        "reports": n_gm * per_gm,
        "workers": best_workers,
        "per_minute": best,
        "estimate_min": minutes,
        "estimate_steady_min": model[0] if model else None,
        "steady_s_per_report": model[1] if model else None,
        "worker_peak_mib": peaks[best_workers][0],
        "kernel_peak_mib": peaks[best_workers][1],
        "cpu_s_per_report": cpus.get(best_workers),
    }


if __name__ == "__main__":
    main()
