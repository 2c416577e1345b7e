"""Tests of the table cache and its use by ``cbs.fetch_table``."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta

import pandas as pd
import pytest

from westerkwartier import settings
from westerkwartier.errors import CbsUnavailable, DataIntegrityError, InputError, OfflineDataMissing
from westerkwartier.sources import cache, cbs
from westerkwartier.sources.store import sha256_file
from westerkwartier.sources.table import CbsTable

WOZ = "90001TST"
KWB = "90002TST"


@pytest.fixture
def server(standin_server):
    return standin_server


def parquet_of(table_id: str, query: dict) -> object:
    return settings.cache_dir / f"{cache.entry_name(table_id, query)}.parquet"


def assert_same(a: CbsTable, b: CbsTable) -> None:
    pd.testing.assert_frame_equal(a.data, b.data)
    pd.testing.assert_frame_equal(a.topics, b.topics)
    assert a.dimensions.keys() == b.dimensions.keys()
    for name in a.dimensions:
        pd.testing.assert_frame_equal(a.dimensions[name], b.dimensions[name])
    assert a.dimension_types == b.dimension_types
    assert a.info == b.info
    assert a.source == b.source == "cbs"


# -- queries ----------------------------------------------------------------------------
def test_normalise_query_is_order_case_and_padding_insensitive():
    a = cache.normalise_query(["GM1969", "NL01"], [2023, "2022JJ00"], ["B", "A"], {"X": ["2", "1"]})
    b = cache.normalise_query(
        ["nl01 ", "GM1969", "GM1969"], ["2022", "2023JJ00"], ["A", "B"], {"X": "1 2".split()}
    )
    assert (
        a
        == b
        == {
            "regions": ["GM1969", "NL01"],
            "periods": ["2022JJ00", "2023JJ00"],
            "topics": ["A", "B"],
            "filters": {"X": ["1", "2"]},
        }
    )
    assert cache.entry_name(WOZ, a) == cache.entry_name(WOZ, b)
    assert cache.entry_name(WOZ, a) != cache.entry_name(WOZ, {})
    assert cache.normalise_query() == {}


def test_normalise_query_rejects_empty_and_bad_periods():
    with pytest.raises(InputError, match="regions"):
        cache.normalise_query(regions=[" "])
    with pytest.raises(InputError, match="periode"):
        cache.normalise_query(periods=["vorig jaar"])


# -- served from the cache ------------------------------------------------------------
def test_second_call_makes_no_http_request(server):
    first = cbs.fetch_table(WOZ, regions=["GM1969", "NL01"], periods=[2023])
    assert server.total > 0
    server.reset()
    second = cbs.fetch_table(WOZ, regions=["NL01", "GM1969 "], periods=["2023JJ00"])
    assert server.total == 0
    assert_same(first, second)


def test_other_query_downloads_again(server):
    cbs.fetch_table(WOZ, regions="GM1969")
    server.reset()
    cbs.fetch_table(WOZ, regions="NL01")
    assert server.counts["TypedDataSet"] > 0


def test_refresh_downloads_again(server):
    cbs.fetch_table(KWB)
    before = cache.entries()
    server.reset()
    cbs.fetch_table(KWB, refresh=True)
    assert server.counts["TypedDataSet"] == 1
    assert server.counts["TableInfos"] == 1
    after = cache.entries()
    assert len(after) == len(before) == 1


# -- offline ------------------------------------------------------------------------------
def test_offline_without_cache_never_connects(server, monkeypatch):
    monkeypatch.setattr(settings, "offline", True)
    with pytest.raises(OfflineDataMissing, match=f"{WOZ} staat niet in de cache.*offline") as info:
        cbs.fetch_table(WOZ, regions="GM1969")
    assert isinstance(info.value, CbsUnavailable)  # the caller's snapshot fallback catches it
    assert server.total == 0


def test_offline_serves_from_cache_even_with_refresh(server, monkeypatch):
    online = cbs.fetch_table(WOZ, regions="GM1969")
    server.reset()
    monkeypatch.setattr(settings, "offline", True)
    offline = cbs.fetch_table(WOZ, regions="GM1969", refresh=True)
    assert server.total == 0
    assert_same(online, offline)


# -- integrity ----------------------------------------------------------------------------
def corrupt(path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def test_corrupted_cache_is_downloaded_again_online(server):
    cbs.fetch_table(KWB)
    path = parquet_of(KWB, {})
    corrupt(path)
    with pytest.raises(DataIntegrityError):
        cache.load(KWB, {})
    server.reset()
    table = cbs.fetch_table(KWB)
    assert server.counts["TypedDataSet"] == 1
    assert len(table.data) == 4
    assert cache.load(KWB, {}) is not None  # repaired on disk


def test_corrupted_cache_offline_is_reported(server, monkeypatch):
    cbs.fetch_table(KWB)
    corrupt(parquet_of(KWB, {}))
    server.reset()
    monkeypatch.setattr(settings, "offline", True)
    with pytest.raises(DataIntegrityError, match=f"{KWB}.*beschadigd.*offline"):
        cbs.fetch_table(KWB)
    assert server.total == 0


def test_failed_download_writes_nothing(server):
    server.fault("500", times=None)
    with pytest.raises(CbsUnavailable):
        cbs.fetch_table(KWB)
    assert cache.entries().empty
    assert not list(settings.cache_dir.glob("*.parquet"))


# -- files and manifest -------------------------------------------------------------------
def test_manifest_and_atomic_files(server):
    table = cbs.fetch_table(WOZ, regions="GM1969", topics=["AantalWoningen"])
    query = {"regions": ["GM1969"], "topics": ["AantalWoningen"]}
    name = cache.entry_name(WOZ, query)
    files = sorted(p.name for p in settings.cache_dir.iterdir())
    assert files == sorted([".manifest.lock", "manifest.json", f"{name}.json", f"{name}.parquet"])
    manifest = json.loads((settings.cache_dir / "manifest.json").read_text(encoding="utf-8"))
    entry = manifest["entries"][name]
    assert entry["source"] == "cbs"
    assert entry["query"] == query
    assert entry["modified"] == "2025-02-28T02:00:00"
    assert entry["rows"] == len(table.data) == 8
    assert entry["sha256"] == sha256_file(settings.cache_dir / f"{name}.parquet")
    fetched = datetime.fromisoformat(entry["fetched_at"])
    assert fetched.utcoffset() == timedelta(0)


def test_entries_and_clear(server):
    cbs.fetch_table(WOZ, regions="GM1969")
    cbs.fetch_table(WOZ, regions="NL01")
    cbs.fetch_table(KWB)
    frame = cache.entries()
    assert list(frame.columns) == cache.ENTRY_COLUMNS
    assert list(frame["table_id"]) == [WOZ, WOZ, KWB]
    assert json.loads(frame["query"].iloc[2]) == {}
    assert cache.clear(WOZ) == 2
    assert list(cache.entries()["table_id"]) == [KWB]
    assert cache.clear() == 1
    assert cache.entries().empty
    assert not list(settings.cache_dir.glob("*.parquet"))
    server.reset()
    cbs.fetch_table(KWB)
    assert server.counts["TypedDataSet"] == 1  # really gone


def test_concurrent_writers_keep_manifest_valid(server):
    base = cbs.fetch_table(KWB)
    errors: list[BaseException] = []

    def write(i: int) -> None:
        try:
            cache.save(base, {"regions": [f"GM{i:04d}"]})
        except BaseException as err:  # pragma: no cover - reported below
            errors.append(err)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(cache.entries()) == 13
    assert not list(settings.cache_dir.glob(".*.tmp"))
    json.loads((settings.cache_dir / "manifest.json").read_text(encoding="utf-8"))


def test_unreadable_manifest_is_rebuilt(server, caplog):
    cbs.fetch_table(KWB)
    (settings.cache_dir / "manifest.json").write_text("{kapot", encoding="utf-8")
    assert cache.entries().empty
    assert "onleesbaar" in caplog.text
    server.reset()
    cbs.fetch_table(KWB)  # the data files are the truth: still served from the cache
    assert server.total == 0
    cbs.fetch_table(WOZ, regions="GM1969")
    assert len(cache.entries()) == 1
