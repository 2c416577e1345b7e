"""One panel cache: keyed on the data, copies out, on disk per fingerprint, damage tolerated."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from westerkwartier import settings
from westerkwartier.indicators import panel_cache
from westerkwartier.indicators.panel import PANEL_DTYPES, panel
from westerkwartier.indicators.panel_cache import (
    clear_panel_cache,
    data_fingerprint,
    national_panel,
)

IDS = ["woz_waarde", "netto_arbeidsparticipatie"]


def _disk_file(indicator: str) -> Path:
    """The file of the disk cache that holds ``indicator`` (after its index)."""
    folder = settings.cache_dir / "panel" / data_fingerprint()
    index = json.loads((folder / "index.json").read_text(encoding="utf-8"))
    return folder / index[indicator]["file"]


@pytest.fixture(autouse=True)
def _offline_and_clean(monkeypatch):
    monkeypatch.setattr(settings, "offline", True)
    clear_panel_cache()
    yield
    clear_panel_cache()


def test_cached_panel_equals_a_fresh_panel_from_memory_and_from_disk():
    fresh = panel(indicators=IDS)
    first = national_panel(IDS)
    pd.testing.assert_frame_equal(first, fresh)
    assert _disk_file("woz_waarde").is_file()
    clear_panel_cache()  # a new kernel: nothing in memory, the disk has it
    again = national_panel(IDS)
    pd.testing.assert_frame_equal(again, fresh)
    assert dict(again.dtypes.astype(str)) == {
        k: str(pd.Series(dtype=v).dtype) for k, v in PANEL_DTYPES.items()
    }


def test_indicators_built_together_share_one_file_and_are_read_back_apart():
    """One file per build: a report kernel reads its panel from one file, not from seventy."""
    empty = "geen_rijen"  # an indicator without rows stays an (empty) entry of its own
    fresh = panel(indicators=IDS)
    national_panel(IDS)
    folder = settings.cache_dir / "panel" / data_fingerprint()
    assert _disk_file(IDS[0]) == _disk_file(IDS[1])
    assert [p.name for p in folder.glob("*.parquet")] == [_disk_file(IDS[0]).name]
    no_rows = fresh.iloc[:0]
    panel_cache._write_disk(folder, {"woz_waarde": fresh[fresh["indicator"] == "woz_waarde"]})
    panel_cache._write_disk(folder, {empty: no_rows})
    assert len(list(folder.glob("*.parquet"))) == 3  # a later build adds a file of its own
    found = panel_cache._read_disk(folder, [*IDS, empty, "onbekend"])
    assert list(found) == [*IDS, empty]
    for ind in IDS:
        expected = fresh[fresh["indicator"] == ind].reset_index(drop=True)
        pd.testing.assert_frame_equal(found[ind], expected)
    assert found[empty].empty and list(found[empty].columns) == list(fresh.columns)


def test_a_file_read_brings_its_other_indicators_along(monkeypatch):
    """A batch writes the national panel as one file; the second report of a pair read it again."""
    national_panel(IDS)  # one build, one file
    clear_panel_cache()
    reads = []
    original = panel_cache.read_frame
    monkeypatch.setattr(
        panel_cache, "read_frame", lambda path, digest: reads.append(path) or original(path, digest)
    )
    first = national_panel(IDS[:1])  # the first report asks for one of them
    second = national_panel(IDS[1:])  # the second report for the other: from memory
    assert len(reads) == 1
    fresh = panel(indicators=IDS)
    pd.testing.assert_frame_equal(pd.concat([first, second], ignore_index=True), fresh)
    folder = settings.cache_dir / "panel" / data_fingerprint()
    assert list(panel_cache._read_disk(folder, IDS[:1])) == IDS  # the one asked first


def test_an_index_that_points_at_the_wrong_rows_is_rebuilt_with_a_warning(caplog):
    fresh = national_panel(IDS)
    folder = settings.cache_dir / "panel" / data_fingerprint()
    index = json.loads((folder / "index.json").read_text(encoding="utf-8"))
    index[IDS[0]]["rows"] = index[IDS[1]]["rows"]
    (folder / "index.json").write_text(json.dumps(index), encoding="utf-8")
    assert list(panel_cache._read_disk(folder, IDS)) == [IDS[1]]
    clear_panel_cache()
    with caplog.at_level("WARNING", logger=panel_cache.__name__):
        again = national_panel(IDS)
    assert f"{IDS[0]} wordt opnieuw berekend (index klopt niet)" in caplog.text
    pd.testing.assert_frame_equal(again, fresh)


def test_callers_get_copies():
    a = national_panel(IDS)
    a.loc[:, "value"] = -1.0
    b = national_panel(IDS)
    assert (b["value"] != -1.0).any()


def test_fingerprint_follows_offline_mode_snapshot_and_cache(tmp_path, monkeypatch):
    base = data_fingerprint()
    monkeypatch.setattr(settings, "offline", False)
    assert data_fingerprint() != base
    monkeypatch.setattr(settings, "offline", True)
    assert data_fingerprint() == base
    (settings.cache_dir).mkdir(parents=True, exist_ok=True)
    (settings.cache_dir / "manifest.json").write_text('{"x": 1}')
    assert data_fingerprint() != base  # a newly cached table may change values
    copy = tmp_path / "snapshot"
    shutil.copytree(settings.snapshot_dir, copy)
    monkeypatch.setattr(settings, "snapshot_dir", copy)
    before = data_fingerprint()
    (copy / "provenance.json").write_text((copy / "provenance.json").read_text() + " ")
    assert data_fingerprint() != before


def test_damaged_disk_entry_is_rebuilt_with_a_warning(caplog):
    fresh = national_panel(IDS)
    _disk_file("woz_waarde").write_bytes(b"not parquet")
    clear_panel_cache()
    with caplog.at_level("WARNING", logger=panel_cache.__name__):
        again = national_panel(IDS)
    assert "opnieuw berekend" in caplog.text
    pd.testing.assert_frame_equal(again, fresh)


def test_disk_cache_can_be_switched_off(monkeypatch):
    monkeypatch.setattr(settings, "panel_cache", False)
    national_panel(IDS)
    assert not (settings.cache_dir / "panel").exists()


def test_an_unwritable_cache_only_warns(monkeypatch, tmp_path, caplog):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setattr(settings, "cache_dir", blocker / "cache")  # below a file
    with caplog.at_level("WARNING", logger=panel_cache.__name__):
        frame = national_panel(["woz_waarde"])
    assert len(frame) and "niet weggeschreven" in caplog.text
