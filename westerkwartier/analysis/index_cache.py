"""The national part of an index section, computed once per data version.

Every report of a theme shows the same national computations: the index's input arrays, the
scores of every municipality, the Monte Carlo ranks and the structural characteristics the
peers are chosen from. Only what is picked out for one municipality differs. This module
computes the national part once per *data fingerprint* (see
:func:`westerkwartier.indicators.panel_cache.data_fingerprint`, extended with the code and
configuration of the analysis) and reference year, keeps it in memory, and stores it on disk
in ``<cache>/index/<fingerprint>/`` (parquet, written atomically, checksums verified on
read), so that every report kernel of a run, and every later run on the same data, reads it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from westerkwartier.analysis import composite
from westerkwartier.analysis import peers as peers_mod
from westerkwartier.config import CONFIG_DIR
from westerkwartier.indicators import panel_cache

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Folder below the cache.
INDEX_DIR = "index"

#: Per data fingerprint, the national parts of every index read or computed in this process.
_memory: dict[str, dict[str, NationalIndex]] = {}
#: Per data fingerprint, index inputs per (index, reference year, year) (:func:`year_inputs`).
_inputs: dict[str, dict[tuple[str, int, int], composite.IndexInput]] = {}
_code_hash: str | None = None


@dataclass
class NationalIndex:
    """What every report of one index shares.

    Attributes
    ----------
    year : int
        The index year (the latest with scores up to the reference year).
    inputs : IndexInput
        The input arrays of that year.
    mc : MonteCarloResult
        The Monte Carlo ranks of that year.
    scores : pandas.DataFrame
        :func:`westerkwartier.analysis.composite.scores` over the years the report shows,
        with ``attrs["dropped"]``.
    structural : pandas.DataFrame
        :func:`westerkwartier.analysis.peers.structural_data`.
    """

    year: int
    inputs: composite.IndexInput
    mc: composite.MonteCarloResult
    scores: pd.DataFrame
    structural: pd.DataFrame


def _analysis_fingerprint() -> str:
    """Hash of the analysis code and its configuration (once per process)."""
    global _code_hash
    if _code_hash is None:
        digest = hashlib.sha256()
        here = Path(__file__).resolve().parent
        config = [CONFIG_DIR / "indices.toml", CONFIG_DIR / "peers.toml"]
        for file in [*sorted(here.glob("*.py")), *config]:
            digest.update(file.name.encode())
            digest.update(file.read_bytes() if file.is_file() else b"-")
        _code_hash = digest.hexdigest()[:16]
    return _code_hash


def cache_key(spec: composite.IndexSpec, jaar: int, span: int) -> str:
    """Name of the bundle of ``spec`` for reference year ``jaar`` and ``span`` earlier years."""
    return f"{spec.id}-{int(jaar)}-{int(span)}-{_analysis_fingerprint()}"


def _current(store: dict[str, dict[Any, Any]], fingerprint: str) -> dict[Any, Any]:
    """Return the entries of ``store`` for ``fingerprint``; those of older data are dropped.

    One data version at a time: when the data change, the kernel forgets what it kept.
    """
    if fingerprint not in store:
        store.clear()
        store[fingerprint] = {}
    return store[fingerprint]


def national_index(
    spec: composite.IndexSpec,
    jaar: int,
    span: int,
    panel: pd.DataFrame,
    peer_config: peers_mod.PeerConfig,
) -> NationalIndex:
    """Return the national part of an index section (memory, then disk, then computed).

    Parameters
    ----------
    spec : IndexSpec
        The index.
    jaar : int
        Reference year of the report (0: the latest year).
    span : int
        Years before the index year whose scores are needed.
    panel : pandas.DataFrame
        The national panel of the index's and the peers' indicators, for the current data
        fingerprint (:func:`westerkwartier.indicators.panel_cache.national_panel`).
    peer_config : PeerConfig
        The peer settings.
    """
    fingerprint = panel_cache.data_fingerprint()
    key = cache_key(spec, jaar, span)
    held = _current(_memory, fingerprint)
    if key in held:
        return held[key]
    result = _read(key, fingerprint, lambda frames, meta: _from_bundle(spec, frames, meta))
    if result is None:
        with panel_cache.watch_copies(fingerprint):
            result = compute(spec, jaar, span, panel, peer_config)
        panel_cache.write_bundle(INDEX_DIR, key, *_to_bundle(result), fingerprint=fingerprint)
    held[key] = result
    return result


def year_inputs(
    spec: composite.IndexSpec, jaar: int, years: tuple[int, int], panel: pd.DataFrame
) -> tuple[composite.IndexInput, composite.IndexInput]:
    """Return the index inputs of two years from the national panel, once per data version.

    The same as ``composite.index_inputs(spec, years, index_rows(spec, jaar, panel))``; kept
    in memory and on disk like the index (:func:`national_index`), so that the decomposition
    of every municipality of a run, in every kernel, reuses them.

    Parameters
    ----------
    spec : IndexSpec
        The index.
    jaar : int
        Reference year of the report (0: the latest year).
    years : (int, int)
        The two years (from, to).
    panel : pandas.DataFrame
        The national panel of the current data fingerprint (as for :func:`national_index`).
    """
    fingerprint = panel_cache.data_fingerprint()
    held = _current(_inputs, fingerprint)
    wanted = [(spec.id, int(jaar), int(year)) for year in years]
    missing = sorted({key[2] for key in wanted if key not in held})
    for year in list(missing):
        kept = _read(
            _inputs_key(spec, jaar, year),
            fingerprint,
            lambda frames, meta: _join(composite.IndexInput, spec, "inputs", meta, frames),
        )
        if kept is not None:
            held[(spec.id, int(jaar), year)] = kept
            missing.remove(year)
    if missing:
        computed = composite.index_inputs(spec, missing, index_rows(spec, jaar, panel))
        for year, value in computed.items():
            held[(spec.id, int(jaar), year)] = value
            frames: dict[str, pd.DataFrame] = {}
            meta = _split("inputs", value, frames)
            key = _inputs_key(spec, jaar, year)
            panel_cache.write_bundle(INDEX_DIR, key, frames, meta, fingerprint=fingerprint)
    return held[wanted[0]], held[wanted[1]]


def _read(key: str, fingerprint: str, rebuild: Callable[[dict, dict], T]) -> T | None:
    """Read the bundle ``key`` and rebuild its object; None when absent or not readable.

    A bundle whose files are intact (their checksums match) but whose description does not fit
    them, say from a hand edit, is computed again with a warning instead of stopping a report.
    """
    found = panel_cache.read_bundle(INDEX_DIR, key, fingerprint)
    if found is None:
        return None
    try:
        return rebuild(*found)
    except (KeyError, ValueError, TypeError, IndexError) as err:
        log.warning("Cache %s/%s wordt opnieuw berekend (%r).", INDEX_DIR, key, err)
        return None


def _inputs_key(spec: composite.IndexSpec, jaar: int, year: int) -> str:
    """Name of the bundle of the index inputs of ``year`` (:func:`year_inputs`)."""
    return f"{spec.id}-{int(jaar)}-invoer-{int(year)}-{_analysis_fingerprint()}"


def index_rows(spec: composite.IndexSpec, jaar: int, panel: pd.DataFrame) -> pd.DataFrame:
    """Return the rows of the panel an index is computed from (up to the reference year)."""
    cols = ["region_code", "region_name", "level", "year", "indicator", "value"]
    slim = panel.loc[panel["indicator"].isin(spec.indicator_ids), cols]
    if jaar:
        slim = slim[slim["year"] <= jaar]
    return slim.reset_index(drop=True)


def compute(
    spec: composite.IndexSpec,
    jaar: int,
    span: int,
    panel: pd.DataFrame,
    peer_config: peers_mod.PeerConfig,
) -> NationalIndex:
    """Compute the national part of an index section (no cache)."""
    slim = index_rows(spec, jaar, panel)
    year = composite.latest_year(spec, slim)
    inputs = composite.index_input(spec, year, slim)
    mc = composite.monte_carlo(spec, year, panel=slim, inputs=inputs)
    scores = composite.scores(spec, list(range(year - span, year + 1)), panel=slim)
    structural = peers_mod.structural_data(peer_config, panel=panel)
    return NationalIndex(year, inputs, mc, scores, structural)


def clear_index_cache() -> None:
    """Forget the national index parts held in memory."""
    global _code_hash
    _memory.clear()
    _inputs.clear()
    _code_hash = None


# -- to and from parquet -------------------------------------------------------------------------
def _split(prefix: str, obj: Any, frames: dict[str, pd.DataFrame]) -> dict[str, Any]:
    """Arrays of a dataclass into one-column frames; the other fields as JSON values.

    The arrays of one type share a frame, one after the other (a few files to read instead of
    one per array); the metadata says which rows of which frame each array is, and its shape.
    """
    meta: dict[str, Any] = {}
    parts: dict[str, list[np.ndarray]] = {}
    for field in dataclasses.fields(obj):
        value = getattr(obj, field.name)
        if field.name == "spec":
            continue
        if isinstance(value, np.ndarray):
            kind = str(value.dtype)
            start = sum(len(part) for part in parts.get(kind, []))
            parts.setdefault(kind, []).append(value.reshape(-1))
            meta[field.name] = {
                "array": list(value.shape),
                "dtype": kind,
                "frame": f"{prefix}.{kind}",
                "rows": [start, start + value.size],
            }
        else:
            meta[field.name] = {"value": value}
    for kind, arrays in parts.items():
        frames[f"{prefix}.{kind}"] = pd.DataFrame({"v": np.concatenate(arrays)})
    return meta


def _join(cls: type, spec: Any, prefix: str, meta: dict, frames: dict[str, pd.DataFrame]) -> Any:
    values: dict[str, Any] = {"spec": spec}
    for name, item in meta.items():
        if "array" in item:
            start, stop = item["rows"]
            column = frames[item["frame"]]["v"].to_numpy()[start:stop]
            values[name] = column.astype(item["dtype"]).reshape(item["array"])
        else:
            values[name] = item["value"]
    return cls(**values)


def _to_bundle(result: NationalIndex) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    frames: dict[str, pd.DataFrame] = {}
    meta = {
        "year": result.year,
        "inputs": _split("inputs", result.inputs, frames),
        "mc": _split("mc", result.mc, frames),
        "dropped": {str(y): d for y, d in result.scores.attrs.get("dropped", {}).items()},
        "structural_years": result.structural.attrs.get("years", {}),
    }
    frames["scores"] = result.scores.copy()
    frames["scores"].attrs = {}
    structural = result.structural.copy()
    structural.attrs = {}
    meta["structural_index"] = structural.index.name or "index"
    frames["structural"] = structural.reset_index(names=meta["structural_index"])
    return frames, meta


def _from_bundle(
    spec: composite.IndexSpec, frames: dict[str, pd.DataFrame], meta: dict[str, Any]
) -> NationalIndex:
    inputs = _join(composite.IndexInput, spec, "inputs", meta["inputs"], frames)
    mc = _join(composite.MonteCarloResult, spec, "mc", meta["mc"], frames)
    mc.choices = [tuple(c) for c in mc.choices]
    scores = frames["scores"]
    scores.attrs["dropped"] = {int(y): d for y, d in meta["dropped"].items()}
    name = meta["structural_index"]
    structural = frames["structural"].set_index(name)
    if name == "index":
        structural.index.name = None
    structural.attrs["years"] = meta["structural_years"]
    return NationalIndex(int(meta["year"]), inputs, mc, scores, structural)


__all__ = [
    "INDEX_DIR",
    "NationalIndex",
    "cache_key",
    "clear_index_cache",
    "compute",
    "national_index",
]
