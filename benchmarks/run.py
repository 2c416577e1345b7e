"""Benchmark figures printed by ``make bench``.

Each section prints wall time and peak memory (tracemalloc, Python allocations) of one job on
the committed offline snapshot. Run with ``WESTERKWARTIER_OFFLINE=1`` (``make bench`` does); the
last section (``bench_online``) goes online against a loopback stand-in of CBS and runs a
province batch offline and without network.
"""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable
from typing import Any


def measure(label: str, job: Callable[[], Any], repeat: int = 3) -> Any:
    """Run ``job`` ``repeat`` times; print the best wall time and the peak memory of one run."""
    best = float("inf")
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = job()
        best = min(best, time.perf_counter() - start)
    tracemalloc.start()
    job()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"{label:<55} {best:8.3f} s   peak {peak / 2**20:7.1f} MiB")
    return result


def _load_all_tables() -> int:
    from westerkwartier.sources import data

    data._snapshot_table.cache_clear()
    return sum(len(data.snapshot_table(t).data) for t in data.snapshot_table_ids())


def _load_registry() -> int:
    from westerkwartier.sources import regions

    regions.clear_registry_cache()
    return len(regions.load_registry())


def main() -> None:
    """Print all benchmark figures."""
    print("westerkwartier benchmarks (best of 3; peak = Python allocations of one run)")
    rows = measure("snapshot: read every table (cold)", _load_all_tables)
    print(f"  ({rows} rows)")
    measure("snapshot: load the region registry (cold)", _load_registry)
    _bench_composite()
    _bench_reports()
    _bench_panel()
    _bench_online()


def _bench_panel() -> None:
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent))
    import bench_panel

    bench_panel.main([])


def _bench_online() -> None:
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent))
    import bench_online

    bench_online.main([])


def _bench_reports() -> None:
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent))
    import bench_reports

    bench_reports.main([])


def _bench_composite() -> None:
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent))
    import bench_composite

    bench_composite.main()


if __name__ == "__main__":
    main()
