"""Text sizes that matplotlib measured, kept on disk for the next kernel and the next run.

Every chart measures its texts (tick labels, titles, notes, the source line) with FreeType,
about 0,7 ms a text. :func:`westerkwartier.reporting.charts.shared_text_metrics` keeps those
sizes for the rest of the process; this module keeps them in the cache folder as well, so that
a new kernel does not measure again what an earlier one measured. Both reports of
Westerkwartier measured 700 texts in a new process (0,6-0,8 s); a later pair in the same process
135-309 (``benchmarks/bench_text_sizes.py`` counts them).

A size depends on the text, the font, the resolutions and the hinting settings (the key of a
size, :func:`disk_key`), and on the versions of matplotlib and FreeType and the font files
matplotlib knows (the name of the file, :func:`stamp`): ``<cache_dir>/tekstmaten/<stamp>.sqlite``.
The store is only a cache. A file that cannot be created, read or written is left alone (a
damaged one removed) and the charts measure their texts as before; the pictures are the same
bytes either way.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any

from westerkwartier import settings

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

log = logging.getLogger(__name__)

#: Folder of the store inside the cache folder.
STORE_DIR: str = "tekstmaten"

#: Seconds a process waits for another one that is writing the store, then goes on without it.
BUSY_TIMEOUT: float = 2.0

#: The store is emptied when it holds more sizes than this (a national edition measures some
#: tens of thousands).
ROW_LIMIT: int = 500_000

#: matplotlib settings that decide which font file a family name means.
_FAMILY_SETTINGS: tuple[RcKeyType, ...] = (
    "font.family",
    "font.sans-serif",
    "font.serif",
    "font.monospace",
    "font.cursive",
    "font.fantasy",
)

Size = tuple[float, float, float]


def stamp() -> str:
    """Return what every stored size depends on besides its key, as a short hex digest.

    matplotlib's and FreeType's versions and the font files matplotlib knows (path, size and
    time of change of each): another version or a changed font gives another file.
    """
    import matplotlib
    from matplotlib import ft2font
    from matplotlib.font_manager import fontManager

    fonts = []
    for entry in sorted({font.fname for font in fontManager.ttflist}):
        try:
            info = os.stat(entry)
            fonts.append([entry, info.st_size, info.st_mtime_ns])
        except OSError:
            fonts.append([entry, None, None])
    parts = [matplotlib.__version__, getattr(ft2font, "__freetype_version__", ""), fonts]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:20]


def disk_key(head: tuple[Any, ...], fontprop: Any, dpi: float) -> bytes:
    """Return the key of one measured size: a 128-bit digest of all it depends on.

    Parameters
    ----------
    head : tuple
        The renderer class, its resolution, the hinting settings and the text, as
        :func:`~westerkwartier.reporting.charts.shared_text_metrics` keys its store.
    fontprop : matplotlib.font_manager.FontProperties
        The font: its fields as matplotlib compares fonts, and the family settings that turn a
        family name into a file.
    dpi : float
        Resolution of the figure.
    """
    import matplotlib

    rc = matplotlib.rcParams
    font = [
        list(fontprop.get_family()),
        fontprop.get_style(),
        fontprop.get_variant(),
        fontprop.get_weight(),
        fontprop.get_stretch(),
        fontprop.get_size_in_points(),
        None if fontprop.get_file() is None else str(fontprop.get_file()),
        fontprop.get_math_fontfamily(),
    ]
    families = [rc[name] for name in _FAMILY_SETTINGS if name in rc]
    kind, *rest = head
    # repr, not JSON: the same text for the same values (floats exactly), at a third of the cost
    text = repr((f"{kind.__module__}.{kind.__qualname__}", *rest, font, families, dpi))
    return hashlib.blake2b(text.encode(), digest_size=16).digest()


class _Store:
    """The store of one cache folder in one process.

    Its connection (None when the store cannot be used), the sizes read from it, and the sizes
    measured since the last save.
    """

    def __init__(self) -> None:
        self.key: tuple[int, str] | None = None
        self.path: Path | None = None
        self.db: sqlite3.Connection | None = None
        self.known: dict[bytes, Size] = {}
        self.pending: dict[bytes, Size] = {}
        self.writable = True

    def connection(self) -> sqlite3.Connection | None:
        # a test, or an analyst, may point the cache folder elsewhere; a forked process
        # does not use its parent's connection
        key = (os.getpid(), str(settings.cache_dir))
        if key != self.key:
            self.close()
            self.key = key
            self.path = Path(settings.cache_dir) / STORE_DIR / f"{stamp()}.sqlite"
            self.db = self._open(self.path)
        return self.db

    def _open(self, path: Path) -> sqlite3.Connection | None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(path, timeout=BUSY_TIMEOUT, isolation_level=None)
        except (OSError, sqlite3.Error) as err:
            log.info("Geen opslag van tekstmaten in %s (%s); grafieken meten zelf.", path, err)
            return None
        try:
            db.execute("PRAGMA synchronous=OFF")  # a cache: a lost write is measured again
            db.execute(
                "CREATE TABLE IF NOT EXISTS sizes "
                "(key BLOB PRIMARY KEY, w REAL NOT NULL, h REAL NOT NULL, d REAL NOT NULL) "
                "WITHOUT ROWID"
            )
            # all at once (a few ms for a national edition's): a query per text cost 0,06 ms
            rows = db.execute("SELECT key, w, h, d FROM sizes").fetchall()
            if len(rows) > ROW_LIMIT:
                db.execute("DELETE FROM sizes")
                rows = []
        except sqlite3.OperationalError as err:  # busy, read-only, disk full
            log.info("Tekstmaten in %s niet bruikbaar (%s).", path, err)
            db.close()
            return None
        except sqlite3.DatabaseError as err:  # not a database, damaged
            db.close()
            self._discard(path, err)
            return None
        self.known = {
            key: (w, h, d)
            for key, w, h, d in rows
            if isinstance(key, bytes)
            and all(isinstance(v, float) and math.isfinite(v) for v in (w, h, d))
        }
        return db

    def _discard(self, path: Path, err: Exception) -> None:
        log.info("Tekstmaten in %s beschadigd (%s); het bestand is verwijderd.", path, err)
        for name in (path, path.with_name(path.name + "-journal")):
            try:
                name.unlink(missing_ok=True)
            except OSError:
                pass
        self.db = None

    def close(self) -> None:
        if self.db is not None:
            self.db.close()
        self.db = None
        self.known = {}
        self.pending.clear()
        self.writable = True

    def lookup(self, key: bytes) -> Size | None:
        self.connection()
        return self.known.get(key)

    def save(self) -> None:
        db = self.connection()
        if db is None or not self.pending or not self.writable:
            self.pending.clear()
            return
        rows = [(key, *size) for key, size in self.pending.items()]
        try:
            with db:
                db.execute("BEGIN IMMEDIATE")
                db.executemany("INSERT OR IGNORE INTO sizes VALUES (?, ?, ?, ?)", rows)
        except sqlite3.OperationalError as err:
            if "locked" in str(err) or "busy" in str(err):
                return  # another kernel writes: keep them for the next save
            # read-only or full: stop trying in this process
            log.info("Tekstmaten niet opgeslagen in %s (%s).", self.path, err)
            self.writable = False
        except sqlite3.DatabaseError as err:
            db.close()
            assert self.path is not None
            self._discard(self.path, err)
        else:
            self.known.update(self.pending)
        self.pending.clear()


_STORE = _Store()


def lookup(key: bytes) -> Size | None:
    """Return the stored size of ``key`` (width, height, descent in pixels), or None.

    None as well when there is no store to read (see the module's description).
    """
    return _STORE.lookup(key)


def remember(key: bytes, size: Size) -> None:
    """Keep a size measured in this process until the next :func:`save`."""
    if len(_STORE.pending) < ROW_LIMIT:
        _STORE.pending[key] = (float(size[0]), float(size[1]), float(size[2]))


def save() -> None:
    """Write the sizes remembered since the last call to the store (nothing when it cannot)."""
    _STORE.save()


def close() -> None:
    """Close this process's store (the next use opens it again)."""
    _STORE.close()
    _STORE.key = None
