"""The live CBS path: a full online refresh against the stand-in, and a batch without network.

1. **Online refresh.** The loopback CBS stand-in (``tests/cbs_standin.py``) serves the tables
   the snapshot is built from (the CBS mirror's real exports, read by the project's readers) in
   the exact OData v3 shape and the mirror's real OData v4 captures, with CBS's page size of
   10,000 rows. The scheduled refresh (:func:`westerkwartier.indicators.needs.refresh`) then asks
   it, from an empty cache, for everything the indicator catalogue needs. Printed: requests,
   data rows and bytes received, wall time, and the rows of the whole tables for comparison;
   then the full panel built from that cache (no request).
2. **A province batch without network.** The same batch (every municipality of a province, the
   real reports, 2 workers) once with ``WESTERKWARTIER_OFFLINE=1`` and once in the default
   (online) mode with CBS unreachable (both CBS hosts a closed loopback port: connection
   refused, as on a machine without network). Target: the second at most 1.2 x the first. Each
   mode runs twice, alternating, and the best run counts (the machine is shared).

    .venv/bin/python benchmarks/bench_online.py [--provincie Groningen] [--zonder-batch]
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import socket
import sys
import tempfile
import time
from pathlib import Path

from westerkwartier import settings

ROOT = Path(__file__).resolve().parent.parent
TARGET_RATIO = 1.2


def _mirror_tables(mirror: Path) -> list[tuple[object, dict]]:
    from westerkwartier.sources import snapshot

    config = snapshot.load_config()
    out = []
    for entry in config["table"]:
        table = snapshot.READERS[entry["reader"]](mirror, entry)
        table = snapshot.keep_regions(table, config["keep_region_prefixes"])
        if entry.get("title") and table.info.get("title") in (None, "", table.table_id):
            table.info["title"] = entry["title"]
        out.append((table, entry))
    return out


def _nl(number: float) -> str:
    return f"{number:,.0f}".replace(",", ".")


def refresh_figures() -> None:
    """Print the figures of a full online refresh against the stand-in."""
    sys.path.insert(0, str(ROOT / "tests"))
    from cbs_standin import CbsStandin

    from westerkwartier.indicators import needs
    from westerkwartier.indicators.panel import panel
    from westerkwartier.sources import regions, transport

    mirror = Path(settings.mirror_dir)
    tables = _mirror_tables(mirror)
    whole = sum(len(t.data) for t, _ in tables)
    with tempfile.TemporaryDirectory(prefix="wk-bench-online-") as tmp, CbsStandin() as standin:
        for table, entry in tables:
            if entry["reader"] == "odata-v4":
                standin.add_v4_capture(mirror / entry["path"])
            else:
                standin.add_table(table)
        settings.cbs_host = settings.odata4_host = standin.host
        settings.cbs_https = False
        settings.offline = False
        settings.progress = False
        settings.cache_dir = Path(tmp) / "cache"
        transport.reset()
        start = time.perf_counter()
        reachable, refreshed = needs.refresh()
        wall = time.perf_counter() - start
        asked = len(needs.table_needs())
        data_requests = sum(
            1 for r in standin.requests if r.set_name in ("TypedDataSet", "Observations")
        )
        print(
            f"online refresh of the catalogue ({asked} tables; the stand-in has {len(tables)}, "
            f"pages of {standin.page_size} rows):"
        )
        print(
            f"  {standin.total} requests ({data_requests} data pages), "
            f"{_nl(standin.rows_sent)} data rows, {standin.bytes_sent / 1e6:.1f} MB, "
            f"{wall:.1f} s; {len(refreshed)} tables refreshed, CBS reachable: {reachable}"
        )
        print(f"  the same tables whole: {_nl(whole)} rows (observations: more in v4 form)")
        missing = asked - len(refreshed)
        standin.reset()
        start = time.perf_counter()
        out = panel(registry=regions.load_registry())
        print(
            f"  full panel from that cache: {time.perf_counter() - start:.1f} s, "
            f"{_nl(out['value'].notna().sum())} values; {standin.total} requests (the "
            f"{missing} tables the stand-in lacks, asked again)"
        )


def _closed_port() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{probe.getsockname()[1]}"


def batch_figures(province: str, workers: int, repeat: int = 2) -> None:
    """Print a province batch offline and in default mode without network."""
    sys.path.insert(0, str(Path(__file__).parent))
    import bench_batch

    from westerkwartier.pipeline import batch
    from westerkwartier.sources import transport

    notebooks = [
        ROOT / "notebooks" / "aantrekkelijkheid.ipynb",
        ROOT / "notebooks" / "talent.ipynb",
    ]
    manifest = bench_batch._manifest(notebooks, province)  # noqa: SLF001 - same set-up
    jobs = len(list(manifest.jobs()))

    def run(offline: bool) -> tuple[float, dict]:
        settings.offline = offline
        os.environ["WESTERKWARTIER_OFFLINE"] = "1" if offline else "0"
        transport.reset()
        with tempfile.TemporaryDirectory(prefix="wk-bench-nonet-") as tmp:
            settings.cache_dir = Path(tmp) / "cache"  # empty: no panel kept from another run
            os.environ["WESTERKWARTIER_CACHE_DIR"] = str(settings.cache_dir)
            start = time.perf_counter()
            summary = batch.run_batch(
                manifest,
                out_dir=Path(tmp),
                workers=workers,
                force=True,
                clock=lambda: dt.datetime(2026, 1, 1, 0, 0),
                progress="uit",
                stream=io.StringIO(),
            )
            return time.perf_counter() - start, summary

    dead = _closed_port()
    settings.cbs_host = settings.odata4_host = dead
    settings.cbs_https = True
    os.environ["WESTERKWARTIER_CBS_HOST"] = os.environ["WESTERKWARTIER_ODATA4_HOST"] = dead
    print(
        f"batch of {jobs} reports ({province}, {workers} workers; best of {repeat}, alternating):"
    )
    walls: dict[bool, list[float]] = {True: [], False: []}
    summaries: dict[bool, dict] = {}
    for turn in range(repeat):
        for offline in (True, False) if turn % 2 == 0 else (False, True):
            wall, summaries[offline] = run(offline)
            walls[offline].append(wall)
    offline_wall, online_wall = min(walls[True]), min(walls[False])
    for label, wall, summary in (
        ("WESTERKWARTIER_OFFLINE=1", offline_wall, summaries[True]),
        ("default mode, no network", online_wall, summaries[False]),
    ):
        made, failed = summary["aantallen"]["gemaakt"], summary["aantallen"]["mislukt"]
        print(f"  {label:<26} {wall:6.1f} s  ({made} made, {failed} failed)")
    ratio = online_wall / offline_wall
    verdict = "ok" if ratio <= TARGET_RATIO else "TOO SLOW"
    print(f"  ratio {ratio:.2f} (target <= {TARGET_RATIO}): {verdict}")


def main(argv: list[str] | None = None) -> None:
    """Print the figures."""
    import logging

    logging.getLogger("westerkwartier").setLevel(logging.ERROR)  # the missing tables say so
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--provincie", default="Groningen")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--herhaal", type=int, default=2, help="runs per mode (best counts)")
    parser.add_argument("--zonder-batch", action="store_true", help="only the online refresh")
    args = parser.parse_args(argv)
    refresh_figures()
    if not args.zonder_batch:
        batch_figures(args.provincie, args.workers, args.herhaal)


if __name__ == "__main__":
    main()
