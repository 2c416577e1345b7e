"""CPU of a warm report: the report notebooks' cells run in one process, report after report.

A batch worker's kernel makes report after report; after the first, each report costs only what
its cells compute and draw. This benchmark runs the code cells of both report notebooks for a
few municipalities in this process (offline, the parameters cell followed by the municipality
and a fixed report date, output discarded), the way a reused kernel runs them but without the
kernel's messaging, the page export and the workbook. It prints the CPU time of every report
and the median and best of the warm ones (all but the first municipality's), so that two
commits can be compared on a machine whose speed swings, run alternately:

    WESTERKWARTIER_OFFLINE=1 .venv/bin/python benchmarks/bench_warm.py
    PYTHONPATH=../other-worktree .venv/bin/python benchmarks/bench_warm.py

With ``--per-cell`` it also prints what each cell (each section of a report, named by its
notebook cell id) costs in a warm report, most expensive first, with its share of the report:
what a choice about the content of the reports would save. It then prints what the first
report of the process costs more per cell than a warm one (:func:`cold_extra`): the caches read
from disk, the first map, the imports inside cells; what every kernel pays once.

With ``--pakketten`` a thread looks at the stack of the warm reports every 5 ms
(:class:`StackSampler`) and prints which share of those looks falls inside matplotlib, pandas
and the other libraries a report draws and computes with: where the time of a warm report goes,
for a choice about its charts. The looks are the sampler's own, with its limits: it waits for
the interpreter (at most 0,1 ms while it samples) except during calls that let go of it, which
it therefore counts too often (pyarrow 15% of the looks of four warm pairs where py-spy, a
sampling profiler outside the process, found 4%); for matplotlib the two agreed within 3 points
(53% and 56%) and for our chart code within 6 (72% and 77%). The sampling costs CPU of its own:
the CPU per report printed with ``--pakketten`` is higher than without.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import sys
import threading
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import FrameType

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = ["GM1969", "GM0014", "GM0037", "GM0047", "GM1966"]
REPORT_DATE = "2026-11-27"


def run_report(notebook: Path, code: str, cells: dict[str, list[float]] | None = None) -> float:
    """Run the code cells of ``notebook`` for ``code``; return the CPU seconds they took.

    Parameters
    ----------
    notebook : Path
        A report notebook.
    code : str
        CBS code of the municipality.
    cells : dict, optional
        When given, the CPU seconds of every code cell are appended to
        ``cells["<notebook stem>:<cell id>"]``.
    """
    import nbformat

    nb = nbformat.read(notebook, as_version=4)
    namespace: dict = {}
    started = time.process_time()
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        source = cell.source
        if "parameters" in (cell.metadata.get("tags") or []):
            source += f"\ngemeente = {code!r}\npeildatum = {REPORT_DATE!r}"
        cell_started = time.process_time()
        with contextlib.redirect_stdout(io.StringIO()):
            exec(compile(source, str(notebook), "exec"), namespace)  # noqa: S102 - our notebooks
        if cells is not None:
            key = f"{notebook.stem}:{cell.get('id', '?')}"
            cells.setdefault(key, []).append(time.process_time() - cell_started)
    return time.process_time() - started


def cell_table(cells: Mapping[str, list[float]]) -> list[tuple[str, float, float]]:
    """Return ``(cell, mean CPU seconds, share of its report)``, most expensive first.

    The share is the cell's mean over the sum of the means of its notebook's cells, so the
    shares of one notebook add up to 1.
    """
    means = {key: statistics.fmean(values) for key, values in cells.items() if values}
    totals: dict[str, float] = {}
    for key, mean in means.items():
        notebook = key.split(":", 1)[0]
        totals[notebook] = totals.get(notebook, 0.0) + mean
    rows = [
        (key, mean, mean / totals[key.split(":", 1)[0]] if totals[key.split(":", 1)[0]] else 0.0)
        for key, mean in means.items()
    ]
    return sorted(rows, key=lambda row: (-row[1], row[0]))


def cold_extra(
    cold: Mapping[str, list[float]], warm: Mapping[str, list[float]]
) -> list[tuple[str, float, float]]:
    """Return ``(cell, cold CPU seconds, cold minus warm mean)``, largest extra first.

    ``cold`` holds the cells of the first report of a process (one value each), ``warm`` those
    of the reports after it. Only cells found in both count.
    """
    rows = [
        (key, values[0], values[0] - statistics.fmean(warm[key]))
        for key, values in cold.items()
        if values and warm.get(key)
    ]
    return sorted(rows, key=lambda row: (-row[2], row[0]))


#: The libraries ``--pakketten`` counts, by the folder of their modules.
PACKAGES = ("matplotlib", "pandas", "numpy", "geopandas", "shapely", "PIL", "pyarrow")

#: Python's switch interval while :class:`StackSampler` looks, in seconds.
SWITCH_INTERVAL = 0.0001

#: Our modules that make the charts and maps, counted with what they call (matplotlib too).
CHART_FILES = {
    "grafiekcode (charts, figures, wijk_sections)": (
        "westerkwartier/reporting/charts.py",
        "westerkwartier/reporting/figures.py",
        "westerkwartier/reporting/wijk_sections.py",
    )
}


class StackSampler:
    """Count, at a fixed interval, which packages the stack of one thread is inside.

    A look counts for every package and group of files with a frame on the stack (a chart's
    pandas call counts for pandas, for matplotlib when matplotlib called it and for our chart
    code), and for "geen" when none of them has one: the rest of our code, the standard
    library and Python itself. Only looks taken while :attr:`counting` is set count, so that
    the warm-up stays out.

    Parameters
    ----------
    packages : sequence of str
        Package names; a frame belongs to a package when its file lies in a folder of that
        name.
    files : mapping, optional
        More groups to count: a label and the ends of the paths of its files (``/`` between
        folders), such as our chart modules.
    interval : float, default 0.005
        Seconds between two looks.
    thread_id : int, optional
        The thread to watch; default the one that makes the sampler.
    """

    def __init__(
        self,
        packages: Sequence[str] = PACKAGES,
        files: Mapping[str, Sequence[str]] | None = None,
        interval: float = 0.005,
        thread_id: int | None = None,
    ) -> None:
        self.markers = {name: (f"{os.sep}{name}{os.sep}",) for name in packages}
        for label, ends in (files or {}).items():
            self.markers[label] = tuple(os.path.join(*name.split("/")) for name in ends)
        self.interval = interval
        self.thread_id = threading.get_ident() if thread_id is None else thread_id
        self.counts: Counter[str] = Counter()
        self.looks = 0
        self.counting = False
        self._switch = sys.getswitchinterval()  # set again on entering, restored on leaving
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="stapelsteekproef", daemon=True)

    def __enter__(self) -> StackSampler:
        # the sampler waits for the interpreter up to the switch interval (5 ms) while the
        # report runs Python, but not at all while it is in a call that lets go of it (pyarrow,
        # files): with the default interval those calls would get several times their share
        self._switch = sys.getswitchinterval()
        sys.setswitchinterval(SWITCH_INTERVAL)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        sys.setswitchinterval(self._switch)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            if self.counting:
                frame = sys._current_frames().get(self.thread_id)
                if frame is not None:
                    self.look(frame)

    def look(self, frame: FrameType | None) -> None:
        """Count one look at the stack that ends in ``frame``."""
        found = set()
        while frame is not None:
            filename = frame.f_code.co_filename
            found.update(
                name
                for name, markers in self.markers.items()
                if any(marker in filename for marker in markers)
            )
            frame = frame.f_back
        self.looks += 1
        self.counts.update(found or {"geen"})

    def shares(self) -> list[tuple[str, float]]:
        """Return ``(package, share of the looks)``, largest first; "geen" last."""
        if not self.looks:
            return []
        rows = [(k, v / self.looks) for k, v in self.counts.items() if k != "geen"]
        rows.sort(key=lambda row: (-row[1], row[0]))
        return rows + [("geen", self.counts["geen"] / self.looks)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gemeenten", nargs="+", default=DEFAULT, help="CBS codes")
    parser.add_argument(
        "--per-cell", action="store_true", help="also print the CPU of every cell (section)"
    )
    parser.add_argument(
        "--pakketten",
        action="store_true",
        help="also print which share of the warm reports falls inside matplotlib, pandas, ...",
    )
    args = parser.parse_args(argv)

    import matplotlib

    matplotlib.use("agg")
    from westerkwartier import settings
    from westerkwartier.reporting.report_catalogue import load_report_catalogue

    settings.offline = True
    notebooks = [ROOT / "notebooks" / spec.notebook for spec in load_report_catalogue().values()]
    warm: list[float] = []
    cells: dict[str, list[float]] = {}
    first: dict[str, list[float]] = {}
    sampler = StackSampler(files=CHART_FILES)
    # without --pakketten no sampling thread: it would take the interpreter every 5 ms
    with sampler if args.pakketten else contextlib.nullcontext():
        for number, code in enumerate(args.gemeenten):
            for notebook in notebooks:
                # the first municipality warms the process up; its cells are counted apart
                kept = (cells if number else first) if args.per_cell else None
                sampler.counting = args.pakketten and number > 0
                seconds = run_report(notebook, code, kept)
                sampler.counting = False
                if number:
                    warm.append(seconds)
                print(f"  {code} {notebook.stem:20s} {seconds:6.2f} s CPU")
    if warm:
        print(
            f"warme rapporten: {len(warm)}, mediaan {statistics.median(warm):.2f} s CPU, "
            f"beste {min(warm):.2f} s"
        )
    if args.pakketten and sampler.looks:
        print(
            f"waar de warme rapporten zitten ({sampler.looks} blikken op de stapel, elke "
            f"{1000 * sampler.interval:.0f} ms; een blik telt voor elk pakket op de stapel):"
        )
        for name, share in sampler.shares():
            label = "geen van deze (eigen code, Python)" if name == "geen" else name
            print(f"  {label:36s} {100 * share:5.1f}%")
    if cells:
        print("per cel van een warm rapport (gemiddelde CPU, aandeel van het rapport):")
        for key, mean, share in cell_table(cells):
            print(f"  {key:45s} {mean:6.3f} s {100 * share:5.1f}%")
        extra = cold_extra(first, cells)
        total = sum(x for _, _, x in extra)
        print(
            f"wat het eerste rapport per cel meer kost dan een warm rapport (samen {total:.2f} s):"
        )
        for key, seconds, more in extra[:10]:
            print(f"  {key:45s} {more:+6.3f} s (koud {seconds:.3f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
