"""Storage of :class:`~westerkwartier.table.CbsTable` objects on disk.

The cache (``data/cache``) and the offline snapshot (``data/snapshot``) keep tables in the same
form: ``<name>.parquet`` with the data and ``<name>.json`` with the metadata (topics, code
lists, table info) and the sha256 of the parquet file. Writes are atomic (temporary file in the
same folder, then rename), so a reader never sees half a file; a checksum mismatch on read
raises :class:`~westerkwartier.errors.DataIntegrityError`.

Output is deterministic: the same table gives the same bytes.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import json
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from westerkwartier.errors import DataIntegrityError, OutputNotWritable
from westerkwartier.sources.table import DIMENSION_COLUMNS, TOPIC_COLUMNS, CbsTable

#: Format version of the metadata files; bump when the layout changes.
FORMAT_VERSION = 1


def sha256_bytes(data: bytes) -> str:
    """Return the hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    """Return the hex sha256 of the file at ``path``."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never half.

    The bytes go to a temporary file in the same folder, are flushed to disk, and the file is
    renamed over ``path``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def folder_lock(
    folder: Path,
    name: str,
    timeout: float,
    *,
    poll: float = 0.05,
    on_wait: Callable[[], None] | None = None,
) -> Iterator[None]:
    """Hold an exclusive lock on ``folder/name`` (``fcntl.flock``), waiting up to ``timeout`` s.

    The kernel releases the lock when a process dies, so a killed run never leaves a stale lock.

    Parameters
    ----------
    folder : Path
        Folder to lock; created when missing.
    name : str
        Name of the (empty) lock file in ``folder``.
    timeout : float
        Seconds to wait while another process holds the lock; 0 gives up at once.
    poll : float
        Seconds between attempts while waiting.
    on_wait : callable, optional
        Called once, when this process has to wait.

    Raises
    ------
    OutputNotWritable
        The lock file cannot be created.
    TimeoutError
        Another process still held the lock after ``timeout`` seconds.
    """
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle = open(folder / name, "a+b")  # noqa: SIM115 - closed by the with below
    except OSError as err:
        raise OutputNotWritable(folder, err) from err
    with handle:
        deadline = time.monotonic() + max(0.0, timeout)
        waiting = False
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{folder / name} is bezet") from None
                if not waiting:
                    waiting = True
                    if on_wait is not None:
                        on_wait()
                time.sleep(min(poll, left))
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def frame_to_parquet_bytes(frame: pd.DataFrame) -> bytes:
    """Serialise a frame to parquet bytes, deterministically (no index, zstd)."""
    table = pa.Table.from_pandas(frame.reset_index(drop=True), preserve_index=False)
    buffer = io.BytesIO()
    pq.write_table(table, buffer, compression="zstd", write_statistics=False)
    return buffer.getvalue()


def write_frame(frame: pd.DataFrame, path: Path) -> str:
    """Write a frame as parquet atomically; return the sha256 of the written bytes."""
    data = frame_to_parquet_bytes(frame)
    write_bytes_atomic(path, data)
    return sha256_bytes(data)


def read_frame(path: Path, expected_sha256: str | None = None) -> pd.DataFrame:
    """Read a parquet file, checking its sha256 when one is given.

    Raises
    ------
    DataIntegrityError
        If the file's checksum differs from ``expected_sha256`` or the file cannot be parsed.
    """
    path = Path(path)
    data = path.read_bytes()
    if expected_sha256 is not None and sha256_bytes(data) != expected_sha256:
        raise DataIntegrityError(
            f"Bestand {path.name} in {path.parent.name}/ is beschadigd (checksum klopt niet). "
            "Verwijder het bestand of haal de gegevens opnieuw op (--refresh); voor de "
            "snapshot: bouw hem opnieuw met `westerkwartier snapshot`."
        )
    try:
        return pq.read_table(io.BytesIO(data)).to_pandas()
    except (pa.ArrowInvalid, OSError) as err:
        raise DataIntegrityError(
            f"Bestand {path.name} in {path.parent.name}/ is geen geldig parquet-bestand "
            f"({err}). Verwijder het en haal de gegevens opnieuw op."
        ) from err


def dumps_json(obj: Any) -> bytes:
    """Serialise to UTF-8 JSON with sorted keys (deterministic, readable diffs)."""
    return (
        json.dumps(obj, sort_keys=True, indent=1, ensure_ascii=False, default=str) + "\n"
    ).encode("utf-8")


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    for row in frame.to_dict(orient="records"):
        out.append({k: (None if (isinstance(v, float) and v != v) else v) for k, v in row.items()})
    return out


def table_metadata(table: CbsTable) -> dict[str, Any]:
    """Return the JSON-ready metadata of a table (everything but its data)."""
    return {
        "format": FORMAT_VERSION,
        "table_id": table.table_id,
        "source": table.source,
        "info": table.info,
        "dimension_types": table.dimension_types,
        "complete_slices": table.complete_slices,
        "topics": _records(table.topics),
        "dimensions": {name: _records(codes) for name, codes in table.dimensions.items()},
    }


def write_table(table: CbsTable, directory: Path, name: str | None = None) -> dict[str, Any]:
    """Write a table as ``<name>.parquet`` + ``<name>.json`` in ``directory``.

    The parquet file is written first, then the metadata that records its checksum, so an
    interrupted write leaves either the old pair or a parquet file whose metadata does not
    match (detected on read), never metadata pointing at missing data.

    Returns
    -------
    dict
        ``rows``, ``sha256`` (of the parquet file) and ``files``.
    """
    directory = Path(directory)
    name = name or table.table_id
    digest = write_frame(table.data, directory / f"{name}.parquet")
    meta = table_metadata(table) | {"rows": len(table.data), "data_sha256": digest}
    write_bytes_atomic(directory / f"{name}.json", dumps_json(meta))
    return {"rows": len(table.data), "sha256": digest, "files": [f"{name}.parquet", f"{name}.json"]}


def _ordered(frame: pd.DataFrame, first: list[str]) -> pd.DataFrame:
    """Put the standard columns first (JSON stores record keys sorted)."""
    for column in first:
        if column not in frame:
            frame[column] = pd.Series(dtype=object)
    return frame[first + [c for c in frame.columns if c not in first]]


def read_table(directory: Path, name: str, *, source: str | None = None) -> CbsTable:
    """Read a table written by :func:`write_table`, verifying its checksum.

    Parameters
    ----------
    directory : Path
        Folder holding the pair of files.
    name : str
        File stem (usually the table id).
    source : str, optional
        Overrides the stored ``source`` (e.g. ``"snapshot"``).

    Raises
    ------
    FileNotFoundError
        If the pair does not exist.
    DataIntegrityError
        If the metadata cannot be read or the data does not match its checksum.
    """
    directory = Path(directory)
    meta_path = directory / f"{name}.json"
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise DataIntegrityError(
            f"Metadata {meta_path.name} in {directory.name}/ is beschadigd ({err.msg}). "
            "Verwijder het bestand en haal de tabel opnieuw op."
        ) from err
    data = read_frame(directory / f"{name}.parquet", meta.get("data_sha256"))
    topics = _ordered(pd.DataFrame(meta["topics"]), TOPIC_COLUMNS)
    dimensions = {
        dim: _ordered(pd.DataFrame(codes), DIMENSION_COLUMNS)
        for dim, codes in meta["dimensions"].items()
    }
    return CbsTable(
        table_id=meta["table_id"],
        data=data,
        topics=topics,
        dimensions=dimensions,
        dimension_types=meta.get("dimension_types", {}),
        info=meta.get("info", {}),
        source=source or meta.get("source", "cbs"),
        complete_slices=meta.get("complete_slices"),
    )
