"""How long the full indicator panel takes, and how much memory it needs.

Full panel = every municipality of the current division, the 12 provinces and Nederland, every
indicator of the catalogue, every year. Target: < 2 s on 2 cores.

Tables come from the offline snapshot (``data.get_table`` with ``settings.offline = True``)
when it exists, otherwise straight from the CBS mirror (``WESTERKWARTIER_MIRROR``) with the
same readers the snapshot builder uses.

Printed: the cold time (tables read from disk on first use, then the panel), the warm time
(tables already in memory; best of ``--repeat`` runs), both as wall time and as CPU time of
this process (CPU time is the steadier figure on a shared machine), the peak memory of one
panel run (tracemalloc: Python and numpy allocations) and the peak resident set size of the
process (``ru_maxrss``: everything, tables and interpreter included), and the size of the
panel that was built. With the offline snapshot it also prints what a report kernel pays for
the panel instead: reading the whole panel back from the disk cache that the first run for a
data version writes (best of ``--repeat`` reads, the memory cache emptied before each; in a
temporary cache folder).

Run: ``WESTERKWARTIER_OFFLINE=1 .venv/bin/python benchmarks/bench_panel.py [--repeat 5]``
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
import tracemalloc
from functools import cache
from pathlib import Path

from westerkwartier import settings
from westerkwartier.errors import OfflineDataMissing, WesterkwartierError
from westerkwartier.indicators.panel import panel

TARGET_SECONDS = 2.0


def _loader_and_registry():
    snapshot = Path(settings.snapshot_dir) / "provenance.json"
    if snapshot.is_file():
        from westerkwartier.sources import data, regions

        settings.offline = True
        data._snapshot_table.cache_clear()  # cold means cold, also after other benchmarks
        return data.get_table, regions.load_registry(), "snapshot"
    from westerkwartier.sources import exports, odata4, regions

    mirror = Path(settings.mirror_dir)
    registry = regions.Registry(regions.build_registry(mirror))

    @cache
    def loader(table_id: str):
        folder = mirror / "odata-v4" / table_id
        if folder.is_dir():
            return odata4.read_v4_capture(folder)
        try:
            return exports.read_mirror_table(table_id, mirror)
        except WesterkwartierError as err:
            raise OfflineDataMissing(str(err)) from None

    return loader, registry, f"mirror {mirror}"


def _timed(job):
    """Run ``job``; return its result, wall seconds and CPU seconds of this process."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = job()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def _max_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="warm runs (tables loaded)")
    args = parser.parse_args(argv)

    loader, registry, source = _loader_and_registry()

    def build():
        return panel(loader=loader, registry=registry)

    print(f"panel benchmark (bron: {source}; doel < {TARGET_SECONDS:.0f} s op 2 cores)")
    p, cold_wall, cold_cpu = _timed(build)
    rss_cold = _max_rss_mib()
    print(f"  koud  (tabellen van schijf + panel): {cold_wall:6.2f} s wall  {cold_cpu:6.2f} s cpu")

    warm = [_timed(build) for _ in range(max(args.repeat, 1))]
    best_wall = min(w for _, w, _ in warm)
    best_cpu = min(c for _, _, c in warm)
    p = warm[-1][0]
    verdict = "gehaald" if best_wall < TARGET_SECONDS else "NIET gehaald"
    print(
        f"  warm  (tabellen in geheugen):        {best_wall:6.2f} s wall  {best_cpu:6.2f} s cpu"
        f"  (beste van {len(warm)}; doel {verdict})"
    )

    tracemalloc.start()
    build()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"  piekgeheugen één panelrun (tracemalloc): {peak / 2**20:7.1f} MiB")
    print(
        f"  max RSS proces (ru_maxrss):              {_max_rss_mib():7.1f} MiB "
        f"(na de koude run {rss_cold:.1f} MiB)"
    )
    print(
        f"  panel: {len(p):,} rijen, {p['region_code'].nunique()} regio's, "
        f"{p['indicator'].nunique()} indicatoren, {p['year'].nunique()} jaren, "
        f"{int(p['value'].notna().sum()):,} met een waarde"
    )
    if source == "snapshot":
        _disk_read(max(args.repeat, 1))
    return 0


def _disk_read(repeat: int) -> None:
    """Print the CPU time of reading the full national panel from the disk cache."""
    import tempfile

    from westerkwartier.indicators import panel_cache
    from westerkwartier.indicators.catalogue import load_catalogue

    ids = list(load_catalogue().indicators)
    kept = settings.cache_dir
    with tempfile.TemporaryDirectory(prefix="wk-bench-panel-") as tmp:
        settings.cache_dir = Path(tmp)
        try:
            panel_cache.clear_panel_cache()
            panel_cache.national_panel(ids)  # built once and written to disk
            reads = []
            for _ in range(repeat):
                panel_cache.clear_panel_cache()  # a new kernel: nothing in memory
                reads.append(_timed(lambda: panel_cache.national_panel(ids))[1:])
        finally:
            settings.cache_dir = kept
            panel_cache.clear_panel_cache()
    print(
        f"  van de schijfcache (wat een rapportkernel leest): {min(w for w, _ in reads):6.2f} s "
        f"wall  {min(c for _, c in reads):6.2f} s cpu  (beste van {len(reads)})"
    )


if __name__ == "__main__":
    sys.exit(main())
