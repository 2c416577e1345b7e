"""How long the full indicator panel takes, and how much memory it needs.

Full panel = every municipality of the current division, the 12 provinces and Nederland, every
indicator of the catalogue, every year. Target: < 2 s on 2 cores once the tables are loaded.

Tables come from the offline snapshot (``data.get_table`` with ``settings.offline = True``)
when it exists, otherwise straight from the CBS mirror (``WESTERKWARTIER_MIRROR``) with the
same readers the snapshot builder uses.

Run: ``.venv/bin/python benchmarks/bench_panel.py [--repeat 3]``
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
from westerkwartier.panel import panel


def _loader_and_registry():
    snapshot = Path(settings.snapshot_dir) / "provenance.json"
    if snapshot.is_file():
        from westerkwartier import data, regions

        settings.offline = True
        return data.get_table, regions.load_registry(), "snapshot"
    from westerkwartier import exports, odata4, regions

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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="warm runs (tables loaded)")
    args = parser.parse_args(argv)

    loader, registry, source = _loader_and_registry()
    print(f"bron: {source}")

    start = time.perf_counter()
    p = panel(loader=loader, registry=registry)
    cold = time.perf_counter() - start
    print(
        f"koud (tabellen inlezen + panel): {cold:6.2f} s  ({len(p):,} rijen, "
        f"{p['region_code'].nunique()} regio's, {p['indicator'].nunique()} indicatoren, "
        f"{p['year'].nunique()} jaren)"
    )

    warm = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        panel(loader=loader, registry=registry)
        warm.append(time.perf_counter() - start)
    print(
        f"warm (tabellen in geheugen):     {min(warm):6.2f} s  (beste van {args.repeat}; "
        f"doel < 2 s op 2 cores)"
    )

    tracemalloc.start()
    panel(loader=loader, registry=registry)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"piekgeheugen panel (tracemalloc): {peak / 2**20:6.1f} MiB; max RSS proces {rss:.0f} MiB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
