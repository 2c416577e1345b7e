"""Settings of the westerkwartier package.

A plain module, in the manner of OSMnx: change a value at run time
(``westerkwartier.settings.offline = True``) or set the matching environment variable before
Python starts. Every value is read where it is used, so a change takes effect at once.

Environment variables
---------------------
WESTERKWARTIER_DATA_DIR
    Folder with ``cache/`` and ``snapshot/`` (default: ``data/`` in the project folder).
WESTERKWARTIER_CACHE_DIR
    Folder of the CBS table cache (default: ``<data dir>/cache``).
WESTERKWARTIER_SNAPSHOT_DIR
    Folder of the offline snapshot (default: ``<data dir>/snapshot``).
WESTERKWARTIER_MIRROR
    Folder of the CBS mirror used to build the snapshot (default: ``../shared/cbs-mirror``
    beside the project folder).
WESTERKWARTIER_OFFLINE
    ``1``/``true``: never touch the network; use cache and snapshot only.
WESTERKWARTIER_TIMEOUT
    Seconds before one HTTP request to CBS is given up (default 30).
WESTERKWARTIER_RETRIES
    Attempts per request on broken answers and server errors (default 3).
WESTERKWARTIER_CONNECT_TIMEOUT
    Seconds to establish a connection to CBS (default 10); a failure marks CBS unreachable.
WESTERKWARTIER_CBS_COOLDOWN
    Seconds CBS counts as unreachable after a failed connection (default 600).
WESTERKWARTIER_CBS_UNREACHABLE
    ``1``: start with CBS marked unreachable (a batch sets this for its report kernels after
    one failed check, so no kernel waits for CBS).
WESTERKWARTIER_MAX_ROWS
    Largest number of rows one table request may bring (estimated before the download;
    default 1000000).
WESTERKWARTIER_FIRST_YEAR
    First year the panel asks CBS for (default: from the indicator catalogue).
WESTERKWARTIER_ODATA4_HOST
    Host of the CBS OData v4 service (default ``datasets.cbs.nl``).
WESTERKWARTIER_PANEL_CACHE
    ``0``: do not keep the national indicator panel on disk (default ``1``).
"""

from __future__ import annotations

import os
from pathlib import Path


def _env_flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "ja", "on"}


#: The project folder (the folder holding ``pyproject.toml`` when installed editable).
project_dir: Path = Path(__file__).resolve().parent.parent

#: Folder holding ``cache/`` and ``snapshot/``.
data_dir: Path = Path(os.environ.get("WESTERKWARTIER_DATA_DIR", project_dir / "data"))

# ``cache_dir`` and ``snapshot_dir`` (cache of downloaded CBS tables, git-ignored; the committed
# offline snapshot) follow ``data_dir`` unless set themselves: see ``__getattr__`` below.
if "WESTERKWARTIER_CACHE_DIR" in os.environ:
    cache_dir: Path = Path(os.environ["WESTERKWARTIER_CACHE_DIR"])
if "WESTERKWARTIER_SNAPSHOT_DIR" in os.environ:
    snapshot_dir: Path = Path(os.environ["WESTERKWARTIER_SNAPSHOT_DIR"])

#: The CBS mirror (real CBS exports) used to build the snapshot and by the tests.
mirror_dir: Path = Path(
    os.environ.get("WESTERKWARTIER_MIRROR", project_dir.parent / "shared" / "cbs-mirror")
)

#: Never use the network when true.
offline: bool = _env_flag("WESTERKWARTIER_OFFLINE")

#: Seconds before one HTTP request is given up.
timeout: float = float(os.environ.get("WESTERKWARTIER_TIMEOUT", "30"))

#: Attempts per request (first try included) on broken answers (reset, time-out, truncated
#: JSON) and 5xx responses. A connection that cannot be made at all is not retried.
retries: int = int(os.environ.get("WESTERKWARTIER_RETRIES", "3"))

#: Base of the exponential back-off between attempts, in seconds (1, 2, 4, ...).
backoff: float = float(os.environ.get("WESTERKWARTIER_BACKOFF", "1.0"))

#: Keep the national indicator panel on disk (``<cache_dir>/panel``) per data fingerprint.
panel_cache: bool = _env_flag("WESTERKWARTIER_PANEL_CACHE", default=True)

#: Show progress bars (tqdm) for downloads and long work.
progress: bool = _env_flag("WESTERKWARTIER_PROGRESS", default=True)

#: Host (and optional ``:port``) of the CBS OData v3 service used by
#: :mod:`westerkwartier.sources.cbs`.
#: Tests point it at a loopback stand-in (``127.0.0.1:PORT``).
cbs_host: str = os.environ.get("WESTERKWARTIER_CBS_HOST", "opendata.cbs.nl")

#: Talk to :data:`cbs_host` over https (true) or plain http (false, loopback tests only).
cbs_https: bool = _env_flag("WESTERKWARTIER_CBS_HTTPS", default=True)

#: Seconds allowed to establish a connection to a CBS host. A connection that cannot be made
#: (no network, name not resolved, refused, this time-out) marks the host unreachable.
connect_timeout: float = float(os.environ.get("WESTERKWARTIER_CONNECT_TIMEOUT", "10"))

#: Seconds a CBS host counts as unreachable after a failed connection: tables asked for in
#: that period go straight to the cache or the snapshot, without a new attempt.
cbs_cooldown: float = float(os.environ.get("WESTERKWARTIER_CBS_COOLDOWN", "600"))

#: Start with CBS marked unreachable (for :data:`cbs_cooldown` seconds). A batch sets
#: ``WESTERKWARTIER_CBS_UNREACHABLE=1`` for its report kernels after its one check failed.
cbs_unreachable: bool = _env_flag("WESTERKWARTIER_CBS_UNREACHABLE")

#: Largest number of rows one request for a table may bring. The number is estimated from the
#: table's code lists before any data is downloaded; a larger request stops with a message.
max_rows: int = int(os.environ.get("WESTERKWARTIER_MAX_ROWS", "1000000"))

#: First year the indicator panel asks CBS for; ``None``: the first year the indicator
#: catalogue names for the indicators that use a table (less the operands' lag).
first_year: int | None = (
    int(os.environ["WESTERKWARTIER_FIRST_YEAR"])
    if os.environ.get("WESTERKWARTIER_FIRST_YEAR", "").strip()
    else None
)

#: Host (and optional ``:port``) of the CBS OData v4 service (``datasets.cbs.nl``), used for
#: tables the catalogue marks ``api = "v4"`` and when the v3 service fails.
odata4_host: str = os.environ.get("WESTERKWARTIER_ODATA4_HOST", "datasets.cbs.nl")


def __getattr__(name: str) -> Path:
    """Derive the folders not set explicitly from :data:`data_dir`, at the moment of use."""
    if name == "cache_dir":
        return Path(data_dir) / "cache"
    if name == "snapshot_dir":
        return Path(data_dir) / "snapshot"
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
