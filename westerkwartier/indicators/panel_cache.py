"""One cache of the national indicator panel, keyed on everything that changes it.

Reports, the composite indices and the peers all need the same national panel (every
municipality, province and Nederland). :func:`national_panel` builds each indicator once per
*data fingerprint* and hands out copies:

* in memory, per process (a report kernel builds an indicator once for all its sections);
* on disk, in ``<cache>/panel/<fingerprint>/`` (parquet, one file for the indicators built
  together, written atomically, checksums verified on read), so every report kernel of a
  run, and every later run on the same data, reads the panel instead of rebuilding it.

The fingerprint (:func:`data_fingerprint`) covers what decides the values: offline mode, the
snapshot (its ``provenance.json`` lists every table with its checksum), the table cache (its
manifest), the configuration files of the indicators and the code that computes them. When
any of them changes, the old entries are simply not used again. :func:`clear_panel_cache`
empties the memory cache (and with ``disk=True`` the folder).

When CBS fails while a part of the panel is built, that part comes from the cache or the
snapshot (:func:`westerkwartier.sources.data.fallbacks_served`) but sits in memory under the
fingerprint of the online data. Such a fingerprint is marked (:func:`watch_copies`), and
nothing is written to disk for it any more (:func:`may_keep`): not the panel, and not what is
derived from it (:func:`write_bundle`). The next run that reaches CBS builds them anew.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd

from westerkwartier import __version__, settings
from westerkwartier.config import CONFIG_DIR
from westerkwartier.errors import DataIntegrityError, OutputNotWritable
from westerkwartier.sources import data
from westerkwartier.sources.store import (
    dumps_json,
    folder_lock,
    frame_to_parquet_bytes,
    read_frame,
    sha256_bytes,
    write_bytes_atomic,
    write_frame,
)

log = logging.getLogger(__name__)

#: Folder below the cache that holds the panel per fingerprint.
PANEL_DIR = "panel"

#: Fingerprints kept in memory per process (older ones are dropped, least recently used first).
MEMORY_FINGERPRINTS = 2

#: Configuration files whose contents change indicator values.
_CONFIG_FILES = ("indicators.toml", "herindelingen.toml", "merger_shares.toml", "export_units.toml")

#: Packages whose code computes the panel.
_CODE_DIRS = ("sources", "indicators")

_memory: OrderedDict[str, dict[str, pd.DataFrame]] = OrderedDict()
_code_hash: str | None = None
#: Fingerprints under which this process holds results built from copies (:func:`watch_copies`).
_from_copies: set[str] = set()


def _code_fingerprint() -> str:
    """Hash of the configuration and code behind the panel (computed once per process)."""
    global _code_hash
    if _code_hash is None:
        digest = hashlib.sha256(__version__.encode())
        package = Path(__file__).resolve().parent.parent
        files = [CONFIG_DIR / name for name in _CONFIG_FILES]
        for folder in _CODE_DIRS:
            files += sorted((package / folder).glob("*.py"))
        for file in files:
            digest.update(file.name.encode())
            digest.update(file.read_bytes() if file.is_file() else b"-")
        _code_hash = digest.hexdigest()
    return _code_hash


def _file_stamp(path: Path) -> str:
    """Content hash of a small file, or ``-`` when it does not exist."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return "-"


def data_fingerprint() -> str:
    """Return a short hash of everything that decides the panel's values right now.

    Offline mode, the snapshot folder and its provenance (table checksums), region registry
    and divisions per year, the cache folder and its manifest (what has been downloaded), and
    the configuration and code of the indicators.
    """
    snapshot = Path(settings.snapshot_dir)
    cache = Path(settings.cache_dir)
    parts = [
        f"offline={bool(settings.offline)}",
        f"snapshot={snapshot.resolve()}",
        _file_stamp(snapshot / "provenance.json"),
        _file_stamp(snapshot / "regions.parquet"),  # mergers come from the registry
        _file_stamp(snapshot / "indelingen.parquet"),  # provinces summed from municipalities
        f"cache={cache.resolve()}",
        _file_stamp(cache / "manifest.json"),
        _code_fingerprint(),
    ]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


@contextmanager
def watch_copies(fingerprint: str) -> Iterator[None]:
    """Mark ``fingerprint`` when a table read inside the block came from a copy.

    Wrap every computation whose result is kept under a fingerprint: a table served from the
    cache or the snapshot because CBS failed is not the online answer the fingerprint stands
    for, so neither is the result (:func:`may_keep`).
    """
    before = data.fallbacks_served()
    try:
        yield
    finally:
        if data.fallbacks_served() != before:
            _from_copies.add(fingerprint)


def may_keep(fingerprint: str) -> bool:
    """Whether results for ``fingerprint`` may be kept on disk for later runs.

    Only when the disk cache is on and nothing of this process for that fingerprint was built
    from a copy because CBS failed (:func:`watch_copies`).
    """
    return bool(settings.panel_cache) and fingerprint not in _from_copies


def _disk_dir(fingerprint: str) -> Path:
    return Path(settings.cache_dir) / PANEL_DIR / fingerprint


def _read_disk(folder: Path, ids: list[str]) -> dict[str, pd.DataFrame]:
    """Read the indicators in ``ids`` that the disk cache holds (verified); skip damaged ones.

    Several indicators share a file (all those one build wrote, see :func:`_write_disk`), so
    each file is read once: a report's panel is one or two files instead of some seventy. The
    other indicators of a file read come along (slices of the frame already read): a batch
    writes the national panel as one file, and the second report of a pair then reads nothing
    again (it read the 2,4 MB file a second time, some 100 MiB at its peak).
    """
    index_file = folder / "index.json"
    try:
        index = json.loads(index_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    files: dict[tuple[str, str], list[str]] = {}
    for ind in ids:
        entry = index.get(ind)
        if entry:
            files.setdefault((entry["file"], entry["sha256"]), []).append(ind)
    found: dict[str, pd.DataFrame] = {}
    for (name, digest), inds in files.items():
        try:
            frame = read_frame(folder / name, digest)
        except (OSError, DataIntegrityError) as err:
            log.warning("Panelcache: %s wordt opnieuw berekend (%s).", ", ".join(inds), err)
            continue
        along = [
            ind
            for ind, entry in index.items()
            if ind not in inds and (entry.get("file"), entry.get("sha256")) == (name, digest)
        ]
        for ind in inds + along:  # a slice of rows, not a copy: text columns are costly to copy
            start, stop = index[ind].get("rows", (0, len(frame)))
            rows = frame.iloc[start:stop].reset_index(drop=True)
            if (rows["indicator"] != ind).any():
                if ind in inds:  # one that comes along is left out without a word
                    log.warning("Panelcache: %s wordt opnieuw berekend (index klopt niet).", ind)
                continue
            found[ind] = rows
    return found


def _write_disk(folder: Path, frames: dict[str, pd.DataFrame]) -> None:
    """Add indicators to the disk cache; a cache that cannot be written is only a warning.

    All ``frames`` go into one parquet file, named after its checksum, one after the other,
    and the index points each indicator to its rows in it. The file is written before the
    index, so a reader never meets an index entry without its file.
    """
    if not frames:
        return
    try:
        folder.mkdir(parents=True, exist_ok=True)
        data = frame_to_parquet_bytes(pd.concat(list(frames.values()), ignore_index=True))
        digest = sha256_bytes(data)
        name = f"panel-{digest[:16]}.parquet"
        stops = np.cumsum([len(frame) for frame in frames.values()]).tolist()
        starts = [0, *stops[:-1]]
        with folder_lock(folder, ".lock", timeout=60):
            write_bytes_atomic(folder / name, data)
            index_file = folder / "index.json"
            try:
                index = json.loads(index_file.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                index = {}
            for ind, start, stop in zip(frames, starts, stops, strict=True):
                index[ind] = {"file": name, "sha256": digest, "rows": [start, stop]}
            write_bytes_atomic(index_file, dumps_json(index))
    except (OSError, OutputNotWritable, TimeoutError) as err:
        log.warning("Panelcache niet weggeschreven naar %s (%s); het panel werkt wel.", folder, err)


def national_panel(indicators: Iterable[str]) -> pd.DataFrame:
    """Return the panel of ``indicators`` for every municipality, province and Nederland.

    The rows of ``panel(indicators=list(indicators))`` with the default loader and registry,
    indicator after indicator (``panel`` itself puts the rows of provinces without a dominant
    municipality after all others), built once per data fingerprint (memory, then disk) and
    returned as a fresh copy (callers may change it freely).

    Parameters
    ----------
    indicators : iterable of str
        Indicator ids, in the order the rows should come.

    Returns
    -------
    pandas.DataFrame
        :data:`westerkwartier.indicators.panel.PANEL_COLUMNS`.
    """
    from westerkwartier.indicators.panel import PANEL_COLUMNS, conform, panel

    ids = list(dict.fromkeys(indicators))
    if not ids:
        return conform(pd.DataFrame(columns=PANEL_COLUMNS))
    fingerprint = data_fingerprint()
    built = _memory.setdefault(fingerprint, {})
    _memory.move_to_end(fingerprint)
    while len(_memory) > MEMORY_FINGERPRINTS:
        _memory.popitem(last=False)
    missing = [i for i in ids if i not in built]
    if missing and settings.panel_cache:
        built.update(_read_disk(_disk_dir(fingerprint), missing))
        missing = [i for i in ids if i not in built]
    if missing:
        with watch_copies(fingerprint):
            frame = panel(indicators=missing)
        fresh = {
            ind: rows.reset_index(drop=True) for ind, rows in frame.groupby("indicator", sort=False)
        }
        for ind in missing:  # an indicator without rows still counts as built
            fresh.setdefault(ind, frame.iloc[:0])
        built.update(fresh)
        if may_keep(fingerprint):
            _write_disk(_disk_dir(fingerprint), fresh)
    return conform(pd.concat([built[i] for i in ids], ignore_index=True))


def clear_panel_cache(*, disk: bool = False) -> None:
    """Forget the panels built in this process; with ``disk=True`` also delete the disk cache."""
    global _code_hash
    _memory.clear()
    _from_copies.clear()
    _code_hash = None
    if disk:
        shutil.rmtree(Path(settings.cache_dir) / PANEL_DIR, ignore_errors=True)


# ----------------------------------------------------------------------------------------------
# Results computed from the national panel, once per data fingerprint
# ----------------------------------------------------------------------------------------------
def _bundle_dir(kind: str, key: str, fingerprint: str) -> Path:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in key)
    return Path(settings.cache_dir) / kind / fingerprint / safe


def read_bundle(
    kind: str, key: str, fingerprint: str | None = None
) -> tuple[dict[str, pd.DataFrame], dict] | None:
    """Read a bundle of frames written by :func:`write_bundle` for the current data.

    Parameters
    ----------
    kind : str
        Folder below the cache (``index``, ``peers``).
    key : str
        What the bundle holds (e.g. the index and the reference year).
    fingerprint : str, optional
        Default :func:`data_fingerprint`.

    Returns
    -------
    (frames, meta) or None
        None when the bundle is not there, is incomplete or a checksum does not match (the
        caller computes it again); also None when the disk cache is turned off.
    """
    if not settings.panel_cache:
        return None
    folder = _bundle_dir(kind, key, fingerprint or data_fingerprint())
    try:
        index = json.loads((folder / "index.json").read_text(encoding="utf-8"))
        frames = {
            name: read_frame(folder / entry["file"], entry["sha256"])
            for name, entry in index["frames"].items()
        }
    except (OSError, ValueError, KeyError, TypeError, DataIntegrityError) as err:
        if (folder / "index.json").exists():
            log.warning("Cache %s/%s wordt opnieuw berekend (%s).", kind, key, err)
        return None
    return frames, index.get("meta", {})


def write_bundle(
    kind: str,
    key: str,
    frames: dict[str, pd.DataFrame],
    meta: dict,
    fingerprint: str | None = None,
) -> None:
    """Store frames (parquet, atomic, with checksums) and JSON ``meta`` for the current data.

    The frames are written first and the index that lists them (with their checksums) last, so
    a reader sees a complete bundle or none. A cache that cannot be written is only a warning.
    Nothing is written when :func:`may_keep` says no: part of the data behind the frames came
    from a copy because CBS failed, so they may not be the online answer.
    """
    fingerprint = fingerprint or data_fingerprint()
    if not may_keep(fingerprint):
        log.info("Cache %s/%s niet bewaard: gebouwd met kopieën omdat CBS faalde.", kind, key)
        return
    folder = _bundle_dir(kind, key, fingerprint)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with folder_lock(folder, ".lock", timeout=60):
            entries = {}
            for name, frame in frames.items():
                file = f"{name}.parquet"
                entries[name] = {"file": file, "sha256": write_frame(frame, folder / file)}
            write_bytes_atomic(folder / "index.json", dumps_json({"frames": entries, "meta": meta}))
    except (OSError, OutputNotWritable, TimeoutError, ValueError) as err:
        log.warning("Cache %s/%s niet weggeschreven naar %s (%s).", kind, key, folder, err)
