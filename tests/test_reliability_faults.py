"""Fault matrix: the CBS client and ``data.get_table`` against a misbehaving stand-in on loopback.

Each test provokes one fault of the CBS stand-in (``tests/cbs_standin.py``), counts the attempts
the client made, and checks the end: recovered, served from the cache or the snapshot with a
visible warning, or a clear error with its exit code. Every row is recorded for docs/reliability.md.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import textwrap
import warnings

import pytest

from westerkwartier import cli, settings
from westerkwartier.errors import CbsSchemaError, CbsUnavailable, DataIntegrityError, TopicNotFound
from westerkwartier.sources import cache, cbs, data, store, transport

WOZ = "90001TST"
STEM = "GemiddeldeWOZWaardeVanWoningen"
KEY = f"{STEM}_1"
ROWS = 40  # rows of the fixture table


@pytest.fixture
def server(standin_server, monkeypatch):
    monkeypatch.setattr(settings, "timeout", 1.0)  # slow responses fail fast here
    return standin_server


@pytest.fixture
def snapshot(server, tmp_path, monkeypatch):
    """A snapshot folder holding the stand-in's table (built from a clean download)."""
    folder = tmp_path / "snapshot"
    table = cbs.download(WOZ, {})
    table.source = "snapshot"
    store.write_table(table, folder / data.TABLES_DIR, WOZ)
    provenance = {"built_from": "teststand-in", "data_date": "2025-01-01", "tables": {WOZ: {}}}
    (folder / data.PROVENANCE).write_text(json.dumps(provenance), encoding="utf-8")
    monkeypatch.setattr(settings, "snapshot_dir", folder)
    server.reset()
    return folder


def _fallback(table_id: str = WOZ, **kwargs):
    """Call get_table and return (table, fallback warnings)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        table = data.get_table(table_id, **kwargs)
    shown = [
        w
        for w in caught
        if issubclass(w.category, data.SnapshotFallbackWarning | data.CacheFallbackWarning)
    ]
    return table, shown


def _served(table, shown) -> str:
    assert len(table.data) == ROWS, "the fallback must serve the whole table"
    assert len(shown) == 1, "exactly one visible warning"
    kind = shown[0].category
    where = "the cache" if kind is data.CacheFallbackWarning else f"the {table.source}"
    return f"served from {where} + {kind.__name__}"


def _attempts(n: int) -> str:
    return f"{n} attempt{'s' if n != 1 else ''}"


# -- transport faults: retried within bounds, then cache or snapshot --------------------------
TRANSPORT = [
    # (row text, fault options, set whose requests count as attempts)
    ("response slower than the time-out", {"mode": "slow", "delay": 3.0}, "TableInfos"),
    ("HTTP 500", {"mode": "500"}, "TableInfos"),
    ("HTTP 503 with Retry-After: 2", {"mode": "503", "retry_after": "2"}, "TableInfos"),
    ("connection reset before any byte", {"mode": "reset"}, "TableInfos"),
    ("connection reset mid-body", {"mode": "reset-mid-body"}, "TypedDataSet"),
    ("truncated JSON (body cut short)", {"mode": "truncated"}, "TypedDataSet"),
    ("malformed JSON (complete body)", {"mode": "malformed"}, "DataProperties"),
    ("second page fails (HTTP 500)", {"mode": "500", "page": 2}, "TypedDataSet"),
]


@pytest.mark.parametrize(("case", "fault", "counted"), TRANSPORT, ids=[t[0] for t in TRANSPORT])
def test_transport_fault_always_falls_back_to_snapshot(
    server, snapshot, waits, caplog, reliability, case, fault, counted
):
    options = dict(fault)
    mode = options.pop("mode")
    server.fault(mode, set_name=counted, times=None, **options)
    with caplog.at_level(logging.WARNING):
        table, shown = _fallback()
    faulted = [r for r in server.requests if r.fault == mode]
    assert len(faulted) == settings.retries == 3  # bounded: exactly the configured attempts
    assert len(waits) == 2  # a back-off between attempts, none after the last
    if "retry_after" in options:
        assert waits == [2.0, 2.0]  # the server's Retry-After is honoured
    notice = str(shown[0].message)
    assert "offline snapshot" in notice and "niet bereikbaar" in notice
    assert "poging 3 van 3" in caplog.text  # every attempt is logged
    assert not cache.entries().shape[0]  # nothing half-downloaded was cached
    served = _served(table, shown)
    reliability(
        "faults",
        f"{case}, every time",
        "API `data.get_table`",
        f"{_attempts(len(faulted))} ({len(waits)} back-offs"
        + (f" of {waits[0]:g} s from Retry-After" if "retry_after" in options else "")
        + f"), then {served}",
        None,
    )


@pytest.mark.parametrize(("case", "fault", "counted"), TRANSPORT, ids=[t[0] for t in TRANSPORT])
def test_transport_fault_once_is_retried_and_recovers(
    server, waits, reliability, case, fault, counted
):
    options = dict(fault)
    mode = options.pop("mode")
    server.fault(mode, set_name=counted, times=1, **options)
    table = cbs.fetch_table(WOZ)
    assert len(table.data) == ROWS and table.source == "cbs"
    assert not table.data.duplicated(["Eigendom", "RegioS", "Perioden"]).any()
    failed_page = options.get("page", 1)
    asked = [r.page for r in server.requests if r.set_name == counted]
    tries = 1 + len(waits)
    assert tries == 2 and asked.count(failed_page) == 2  # one retry of the failed request
    assert all(asked.count(p) == 1 for p in set(asked) - {failed_page})  # no page asked again
    assert len(cache.entries()) == 1  # the complete table is cached once
    resumed = (
        f"page {failed_page} asked again on its own (pages before it kept)"
        if failed_page > 1
        else f"request asked again on attempt {tries}"
    )
    reliability(
        "faults",
        f"{case}, once",
        "API `cbs.fetch_table`",
        f"recovered: {resumed}; complete table ({len(table.data)} rows, no duplicates) cached",
        None,
    )


def test_refresh_while_cbs_is_down_serves_the_cache(server, snapshot, waits, reliability):
    fresh = cbs.fetch_table(WOZ)  # cached as the whole-table entry
    server.reset()
    server.fault("500", times=None)
    table, shown = _fallback(refresh=True)
    assert server.counts["TableInfos"] == 3
    assert table.source == "cbs" and table.data.equals(fresh.data)
    assert "cache" in str(shown[0].message)
    reliability(
        "faults",
        "HTTP 500 every time on a refresh, cached copy present",
        "API `data.get_table(refresh=True)`",
        f"{_attempts(server.counts['TableInfos'])}, then {_served(table, shown)}",
        None,
    )


def test_unreachable_without_copy_is_a_clear_error(server, waits, capsys, reliability):
    server.fault("503", times=None)
    code = cli.main(["fetch", WOZ])
    err = capsys.readouterr().err
    assert code == CbsUnavailable.exit_code == 4
    assert "niet bereikbaar" in err and "HTTP-fout 503" in err and "3 pogingen" in err
    assert "offline" in err  # says what to do
    assert "Traceback" not in err
    assert server.counts["TableInfos"] == 3  # v3 tried three times; v4 not: same host, down
    with pytest.raises(CbsUnavailable, match="niet opnieuw geprobeerd"):
        data.get_table(WOZ)  # no snapshot copy of this table: the error, not a KeyError
    assert server.counts["TableInfos"] == 3  # CBS counts as unreachable: no new attempt
    reliability(
        "faults",
        "HTTP 503 every time, table in neither cache nor snapshot",
        "CLI `fetch`, API `data.get_table`",
        f"{server.counts['TableInfos']} attempts, then CbsUnavailable: 'CBS is niet bereikbaar … "
        "(3 pogingen …)' + how to work offline; the next call makes no request (cool-down)",
        code,
    )


def test_no_connection_marks_cbs_unreachable_once(snapshot, monkeypatch, reliability):
    """A refused connection is not retried; later tables skip CBS with one notice in all."""
    import socket

    with socket.socket() as probe:  # a loopback port nobody listens on: connection refused
        probe.bind(("127.0.0.1", 0))
        dead = f"127.0.0.1:{probe.getsockname()[1]}"
    monkeypatch.setattr(settings, "cbs_host", dead)
    monkeypatch.setattr(settings, "odata4_host", dead)
    transport.STATS.clear()  # the snapshot fixture's own download does not count
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        first = data.get_table(WOZ)
        second = data.get_table(WOZ, regions="GM1969")
        third = data.get_table(WOZ, topics=STEM)
    shown = [w for w in caught if issubclass(w.category, data.SnapshotFallbackWarning)]
    assert first.source == second.source == third.source == "snapshot"
    assert set(second.data["RegioS"]) == {"GM1969"}  # the copy is narrowed like a request
    assert list(third.topics["key"]) == [KEY]
    assert len(shown) == 1 and "geen verbinding" in str(shown[0].message)
    assert transport.unreachable(dead) is not None
    assert transport.STATS["requests"] == 0  # not one answer: no request ever completed
    reliability(
        "faults",
        "no connection at all (refused), three tables asked",
        "API `data.get_table`",
        "1 attempt (not retried), CBS marked unreachable for the cool-down; all three from the "
        "snapshot (narrowed to the request) with 1 SnapshotFallbackWarning in all",
        None,
    )


def test_batch_outcome_in_the_environment_skips_cbs(server, snapshot, monkeypatch, reliability):
    """A kernel started with WESTERKWARTIER_CBS_UNREACHABLE=1 never asks CBS."""
    monkeypatch.setattr(settings, "cbs_unreachable", True)
    transport.reset()
    table, shown = _fallback()
    assert server.total == 0
    assert "bij de start onbereikbaar" in str(shown[0].message)
    reliability(
        "faults",
        "report kernel of a batch that found CBS unreachable (WESTERKWARTIER_CBS_UNREACHABLE=1)",
        "API `data.get_table`",
        f"0 requests; {_served(table, shown)}",
        None,
    )


# -- schema changes: reported by table and key, never a KeyError -------------------------------
def test_renamed_topic_key_is_reported_by_table_and_key(server, waits, capsys, reliability):
    server.fault("renamed-topic", times=None, column=KEY, new_name="GemWOZWaardeWoning_1")
    with pytest.raises(TopicNotFound) as info:
        cbs.fetch_table(WOZ, topics=STEM)
    assert not isinstance(info.value, KeyError)
    assert WOZ in str(info.value) and STEM in str(info.value)
    assert server.counts["DataProperties"] == 1 and not waits  # not retried: it will not heal
    code = cli.main(["fetch", WOZ, "--onderwerp", STEM])
    err = capsys.readouterr().err
    assert code == TopicNotFound.exit_code == 5
    assert WOZ in err and STEM in err and "Traceback" not in err
    reliability(
        "faults",
        "topic key renamed by CBS (schema change)",
        "API `cbs.fetch_table`, CLI `fetch --onderwerp`",
        f"1 attempt (no retry), TopicNotFound naming table {WOZ} and key {STEM}",
        code,
    )


def test_shifted_topic_suffix_is_resolved_by_stem(server, reliability):
    server.fault("renamed-topic", times=None, column=KEY, new_name=f"{STEM}_7")
    table = cbs.fetch_table(WOZ, regions="GM1969", topics=STEM)
    assert table.topic(STEM) == f"{STEM}_7"
    assert table.data[f"{STEM}_7"].notna().any()
    reliability(
        "faults",
        f"topic number suffix shifted ({KEY} → {STEM}_7)",
        "API `cbs.fetch_table`",
        "resolved by stem through DataProperties; data complete",
        None,
    )


def test_missing_column_is_a_schema_error(server, waits, capsys, reliability):
    server.fault("missing-column", set_name="TypedDataSet", times=None, column="RegioS")
    with pytest.raises(CbsSchemaError) as info:
        cbs.fetch_table(WOZ)
    assert not isinstance(info.value, KeyError)
    assert WOZ in str(info.value) and "'RegioS'" in str(info.value)
    assert server.counts["TypedDataSet"] == 6 and not waits  # all pages once, no retry
    code = cli.main(["fetch", WOZ])
    assert code == 5 and "Traceback" not in capsys.readouterr().err
    assert cache.entries().empty
    reliability(
        "faults",
        "dimension column missing from the data (schema change)",
        "API `cbs.fetch_table`, CLI `fetch`",
        f"no retry, CbsSchemaError naming table {WOZ} and column RegioS; nothing cached",
        code,
    )


# -- empty answers ------------------------------------------------------------------------------
def test_empty_whole_table_falls_back_and_is_not_cached(server, snapshot, reliability):
    server.fault("empty", set_name="TypedDataSet", times=None)
    table, shown = _fallback()
    assert "zonder rijen" in str(shown[0].message)
    assert cache.entries().empty  # the empty answer is not cached
    reliability(
        "faults",
        "empty result for a whole table",
        "API `data.get_table`",
        f"not cached; {_served(table, shown)}",
        None,
    )


def test_empty_selection_result_is_reported_and_not_cached(server, caplog, reliability):
    server.fault("empty", set_name="TypedDataSet", times=1)
    with caplog.at_level(logging.WARNING):
        table = cbs.fetch_table(WOZ, regions="GM1969", topics=STEM)
    assert table.data.empty and "0 rijen" in caplog.text and WOZ in caplog.text
    assert cache.entries().empty
    before = server.counts["TypedDataSet"]
    again = cbs.fetch_table(WOZ, regions="GM1969", topics=STEM)  # asks CBS again
    assert not again.data.empty and server.counts["TypedDataSet"] > before
    reliability(
        "faults",
        "empty result for a selection",
        "API `cbs.fetch_table`",
        "0 rows with a logged warning naming table and query; not cached, the next call asks "
        "CBS again",
        None,
    )


# -- a cache writer killed mid-write -------------------------------------------------------------
_CHILD = textwrap.dedent(
    """
    import os, sys, time
    from pathlib import Path
    import pandas as pd
    from westerkwartier import cache, settings, store

    settings.cache_dir = Path(sys.argv[1])
    stall_at = int(sys.argv[2])  # which fsync to hang in: 1 data, 2 metadata, 3 manifest
    old = cache.load("90001TST", {})
    big = pd.concat([old.data] * 5000, ignore_index=True)
    big["GemiddeldeWOZWaardeVanWoningen_1"] = range(len(big))
    old.data = big
    real_fsync = os.fsync
    calls = [0]

    def slow_fsync(fd):
        calls[0] += 1
        if calls[0] == stall_at:
            print("WRITING", flush=True)
            time.sleep(60)
        real_fsync(fd)

    store.os.fsync = slow_fsync
    cache.save(old, {})
    print("DONE", flush=True)
    """
)

KILL_WINDOWS = [
    (1, "while writing the data file"),
    (2, "after the data file, while writing its metadata"),
    (3, "while rewriting the manifest"),
]


@pytest.mark.parametrize(("stall_at", "when"), KILL_WINDOWS, ids=["data", "metadata", "manifest"])
def test_cache_writer_killed_mid_write_leaves_a_valid_cache(
    server, tmp_path, monkeypatch, reliability, stall_at, when
):
    original = cbs.fetch_table(WOZ)
    name = cache.entry_name(WOZ, {})
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(settings.cache_dir), str(stall_at)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = child.stdout.readline().strip()
        assert line == "WRITING", child.stderr.read()
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    manifest = json.loads((settings.cache_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["entries"][name]["rows"] == ROWS  # the index still parses, old entry
    assert len(cache.entries()) == 1
    try:
        served = cache.load(WOZ, {})
    except DataIntegrityError:
        served = None
    if served is not None:
        # whatever is served is a consistent pair: old data, or the complete new data
        assert len(served.data) in (ROWS, ROWS * 5000)
        assert served.data.equals(original.data) or stall_at == 3
        outcome = (
            "old entry served intact"
            if served.data.equals(original.data)
            else "new entry complete (its pair was written before the kill)"
        )
    else:
        # new data next to old metadata: the checksum refuses it, never half served
        monkeypatch.setattr(settings, "offline", True)
        with pytest.raises(DataIntegrityError, match="beschadigd"):
            cbs.fetch_table(WOZ)
        monkeypatch.setattr(settings, "offline", False)
        server.reset()
        again = cbs.fetch_table(WOZ)  # online: downloaded again and re-cached
        assert again.data.equals(original.data) and server.counts["TypedDataSet"] > 0
        outcome = (
            "checksum refuses the mismatched pair (offline: DataIntegrityError, exit 5; "
            "online: downloaded again)"
        )
    leftovers = list(settings.cache_dir.glob(".*.tmp"))
    cache.clear()  # removes a killed writer's temporary files too
    assert not list(settings.cache_dir.glob(".*.tmp"))
    reliability(
        "faults",
        f"cache writer SIGKILLed {when}",
        "`cache.save` in a subprocess",
        f"{outcome}; manifest parses; {len(leftovers)} temporary file(s) never read, removed "
        "by `cache.clear()`",
        None,
    )
