"""The national part of an index section: computed once per data version, then read from disk."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from westerkwartier import settings
from westerkwartier.analysis import composite, index_cache
from westerkwartier.analysis import peers as peers_mod
from westerkwartier.indicators import panel_cache

SPAN = 3


@pytest.fixture(scope="module")
def national(tmp_path_factory):
    """The talent index's panel (offline, built once for this module)."""
    mp = pytest.MonkeyPatch()
    mp.setattr(settings, "offline", True)
    mp.setattr(settings, "cache_dir", tmp_path_factory.mktemp("cache"))
    panel_cache.clear_panel_cache()
    spec = composite.get_index("talent")
    config = peers_mod.load_peer_config()
    ids = set(spec.indicator_ids) | {
        v.source.split(":", 1)[1] for v in config.variables if v.source.startswith("panel:")
    }
    panel = panel_cache.national_panel(sorted(ids))
    mp.undo()
    return spec, config, panel


@pytest.fixture(autouse=True)
def _offline_and_clean(monkeypatch):
    monkeypatch.setattr(settings, "offline", True)
    index_cache.clear_index_cache()
    yield
    index_cache.clear_index_cache()


def _same(a: index_cache.NationalIndex, b: index_cache.NationalIndex) -> None:
    assert a.year == b.year
    for name in ("codes", "scores", "ranks", "bench_scores", "weights", "choice", "nominal_ranks"):
        np.testing.assert_array_equal(getattr(a.mc, name), getattr(b.mc, name))
    assert a.mc.choices == b.mc.choices
    for name in ("codes", "values", "bench_values", "reference", "group", "weights"):
        np.testing.assert_array_equal(getattr(a.inputs, name), getattr(b.inputs, name))
    assert a.inputs.dropped == b.inputs.dropped
    assert a.inputs.reference_years == b.inputs.reference_years
    pd.testing.assert_frame_equal(a.scores, b.scores)
    assert a.scores.attrs == b.scores.attrs
    pd.testing.assert_frame_equal(a.structural, b.structural)
    assert a.structural.attrs == b.structural.attrs
    pd.testing.assert_frame_equal(a.mc.summary(), b.mc.summary())


def test_second_computation_reads_from_disk(national, monkeypatch):
    spec, config, panel = national
    fresh = index_cache.compute(spec, 0, SPAN, panel, config)
    first = index_cache.national_index(spec, 0, SPAN, panel, config)
    _same(first, fresh)
    folder = settings.cache_dir / index_cache.INDEX_DIR / panel_cache.data_fingerprint()
    assert (folder / index_cache.cache_key(spec, 0, SPAN) / "index.json").is_file()

    def refuse(*args, **kwargs):
        raise AssertionError("opnieuw berekend terwijl de schijf het heeft")

    monkeypatch.setattr(index_cache, "compute", refuse)
    index_cache.clear_index_cache()  # a new kernel: nothing in memory
    _same(index_cache.national_index(spec, 0, SPAN, panel, config), fresh)


def test_changed_data_fingerprint_computes_again(national, monkeypatch):
    spec, config, panel = national
    index_cache.national_index(spec, 0, SPAN, panel, config)
    calls = []
    real = index_cache.compute

    def counting(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(index_cache, "compute", counting)
    index_cache.clear_index_cache()
    index_cache.national_index(spec, 0, SPAN, panel, config)
    assert calls == []  # same data: read
    monkeypatch.setattr(panel_cache, "data_fingerprint", lambda: "andere-gegevens")
    index_cache.national_index(spec, 0, SPAN, panel, config)
    assert len(calls) == 1
    assert (settings.cache_dir / index_cache.INDEX_DIR / "andere-gegevens").is_dir()


def test_damaged_cache_file_is_computed_again(national, monkeypatch):
    spec, config, panel = national
    index_cache.national_index(spec, 0, SPAN, panel, config)
    folder = (
        settings.cache_dir
        / index_cache.INDEX_DIR
        / panel_cache.data_fingerprint()
        / index_cache.cache_key(spec, 0, SPAN)
    )
    (folder / "mc.ranks.parquet").write_bytes(b"kapot")
    calls = []
    real = index_cache.compute
    monkeypatch.setattr(index_cache, "compute", lambda *a, **k: calls.append(a) or real(*a, **k))
    index_cache.clear_index_cache()
    again = index_cache.national_index(spec, 0, SPAN, panel, config)
    assert len(calls) == 1
    _same(again, real(spec, 0, SPAN, panel, config))
