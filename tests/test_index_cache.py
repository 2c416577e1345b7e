"""The national part of an index section: computed once per data version, then read from disk."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest

from westerkwartier import settings
from westerkwartier.analysis import composite, index_cache
from westerkwartier.analysis import peers as peers_mod
from westerkwartier.errors import InputError
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


def _same_fields(a, b) -> None:
    """Every field of two dataclasses equal; arrays also in shape and type."""
    for field in dataclasses.fields(a):
        x, y = getattr(a, field.name), getattr(b, field.name)
        if isinstance(x, np.ndarray):
            assert x.dtype == y.dtype and x.shape == y.shape, field.name
            np.testing.assert_array_equal(x, y, err_msg=field.name)
        elif field.name != "spec":
            assert list(x) == list(y) if field.name == "choices" else x == y, field.name


def _same(a: index_cache.NationalIndex, b: index_cache.NationalIndex) -> None:
    assert a.year == b.year
    _same_fields(a.mc, b.mc)
    _same_fields(a.inputs, b.inputs)
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


def test_an_index_made_while_cbs_failed_is_not_kept_on_disk(national, monkeypatch):
    """A table served from a copy while the index is computed: the index stays in memory only."""
    from westerkwartier.sources import data

    spec, config, panel = national
    real = index_cache.compute

    def cbs_fails_meanwhile(*args, **kwargs):
        monkeypatch.setitem(data._FALLBACKS, "count", data.fallbacks_served() + 1)  # as _fallback
        return real(*args, **kwargs)

    monkeypatch.setattr(index_cache, "compute", cbs_fails_meanwhile)
    index_cache.national_index(spec, 0, SPAN, panel, config)
    assert not (settings.cache_dir / index_cache.INDEX_DIR).exists()
    assert not panel_cache.may_keep(panel_cache.data_fingerprint())
    panel_cache.clear_panel_cache()  # a new process, which reaches CBS
    index_cache.clear_index_cache()
    monkeypatch.setattr(index_cache, "compute", real)
    index_cache.national_index(spec, 0, SPAN, panel, config)
    folder = settings.cache_dir / index_cache.INDEX_DIR / panel_cache.data_fingerprint()
    assert (folder / index_cache.cache_key(spec, 0, SPAN) / "index.json").is_file()


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
    (folder / "mc.float64.parquet").write_bytes(b"kapot")  # holds the ranks, among others
    calls = []
    real = index_cache.compute
    monkeypatch.setattr(index_cache, "compute", lambda *a, **k: calls.append(a) or real(*a, **k))
    index_cache.clear_index_cache()
    again = index_cache.national_index(spec, 0, SPAN, panel, config)
    assert len(calls) == 1
    _same(again, real(spec, 0, SPAN, panel, config))


def test_a_bundle_whose_description_does_not_fit_is_computed_again(national, caplog):
    """Intact files, a description that does not fit them (a hand edit): computed, not a crash."""
    spec, config, panel = national
    made = index_cache.national_index(spec, 0, SPAN, panel, config)
    folder = (
        settings.cache_dir
        / index_cache.INDEX_DIR
        / panel_cache.data_fingerprint()
        / index_cache.cache_key(spec, 0, SPAN)
    )
    index = json.loads((folder / "index.json").read_text(encoding="utf-8"))
    del index["meta"]["mc"]["ranks"]["rows"]
    (folder / "index.json").write_text(json.dumps(index), encoding="utf-8")
    index_cache.clear_index_cache()
    with caplog.at_level("WARNING", logger=index_cache.__name__):
        again = index_cache.national_index(spec, 0, SPAN, panel, config)
    assert "wordt opnieuw berekend" in caplog.text
    _same(again, made)


def test_every_index_of_a_data_version_stays_in_memory(national, monkeypatch):
    """A kernel that alternates reports (two keys) reads each bundle once, not at every turn."""
    spec, config, panel = national
    reads = []
    real = panel_cache.read_bundle
    monkeypatch.setattr(
        panel_cache, "read_bundle", lambda *a, **k: reads.append(a[1]) or real(*a, **k)
    )
    for jaar in (0, 2022, 0, 2022):
        index_cache.national_index(spec, jaar, SPAN, panel, config)
    assert len(reads) == 2 and len(set(reads)) == 2
    monkeypatch.setattr(panel_cache, "data_fingerprint", lambda: "andere-gegevens")
    index_cache.national_index(spec, 0, SPAN, panel, config)
    assert len(reads) == 3  # new data: the old version's parts are not used


def test_year_inputs_are_the_index_inputs_and_made_once(national, monkeypatch):
    spec, _, panel = national
    slim = index_cache.index_rows(spec, 0, panel)
    year = composite.latest_year(spec, slim)
    calls = []
    real = composite.index_inputs
    monkeypatch.setattr(
        composite, "index_inputs", lambda *a, **k: calls.append(a[1]) or real(*a, **k)
    )
    first, last = index_cache.year_inputs(spec, 0, (year - 2, year), panel)
    for got, y in ((first, year - 2), (last, year)):
        expected = composite.index_input(spec, y, slim)
        assert got.year == y and got.indicators == expected.indicators
        np.testing.assert_array_equal(got.values, expected.values)
        np.testing.assert_array_equal(got.reference, expected.reference)
    index_cache.year_inputs(spec, 0, (year - 1, year), panel)
    index_cache.year_inputs(spec, 0, (year - 2, year), panel)
    assert calls == [[year - 2, year], [year - 1]]  # each year prepared once


def test_year_inputs_are_kept_on_disk_for_the_next_kernel(national, monkeypatch, caplog):
    spec, _, panel = national
    year = composite.latest_year(spec, index_cache.index_rows(spec, 0, panel))
    made = index_cache.year_inputs(spec, 0, (year - 2, year), panel)
    calls = []
    real = composite.index_inputs
    monkeypatch.setattr(
        composite, "index_inputs", lambda *a, **k: calls.append(a[1]) or real(*a, **k)
    )
    index_cache.clear_index_cache()  # a new kernel: nothing in memory, the disk has them
    read = index_cache.year_inputs(spec, 0, (year - 2, year), panel)
    assert calls == []
    for got, expected in zip(read, made, strict=True):
        _same_fields(got, expected)
    folder = (
        settings.cache_dir
        / index_cache.INDEX_DIR
        / panel_cache.data_fingerprint()
        / index_cache._inputs_key(spec, 0, year)
    )
    (folder / "inputs.float64.parquet").write_bytes(b"kapot")
    index_cache.clear_index_cache()
    with caplog.at_level("WARNING"):
        again = index_cache.year_inputs(spec, 0, (year - 2, year), panel)
    assert calls == [[year]] and "opnieuw berekend" in caplog.text  # only the damaged year
    _same_fields(again[1], made[1])


def test_decompose_with_kept_inputs_equals_decompose_from_the_panel(national):
    spec, _, panel = national
    slim = index_cache.index_rows(spec, 0, panel)
    year = composite.latest_year(spec, slim)
    inputs = index_cache.year_inputs(spec, 0, (year - 2, year), panel)
    for code in ("GM1969", "GM0363", "GM0014"):
        plain = composite.decompose(spec, code, year - 2, year, panel=slim)
        kept = composite.decompose(spec, code, year - 2, year, panel=slim, inputs=inputs)
        pd.testing.assert_frame_equal(plain, kept)
        assert plain.attrs == kept.attrs
    with pytest.raises(InputError, match="laat inputs weg"):
        composite.decompose(spec, "GM1969", year - 1, year, inputs=inputs)


def test_positions_in_the_national_panel_equal_get_indexer(national):
    from westerkwartier.reporting.report_data import _positions

    _, _, panel = national
    labels = ["GM1969", "PV20", "NL01", "GM9999"]
    column = panel["region_code"].copy()
    column.iloc[::97] = pd.NA  # missing codes count as absent
    expected = pd.Index(labels).get_indexer(column)
    got = _positions(column, labels)
    np.testing.assert_array_equal(got, expected)
    assert (got >= 0).any() and (got == -1).any()
    empty = pd.Series([pd.NA] * 3, dtype="string")
    np.testing.assert_array_equal(_positions(empty, labels), [-1, -1, -1])
