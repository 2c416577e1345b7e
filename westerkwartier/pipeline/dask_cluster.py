"""Run the report jobs of a batch on a Dask distributed cluster instead of local processes.

``westerkwartier batch --dask ADDRESS`` sends the same :class:`~westerkwartier.pipeline.jobs.
ReportJob` objects that the local pool would run to the workers of a running Dask scheduler.
Each Dask worker runs them with :func:`~westerkwartier.pipeline.jobs.run_job`, exactly as a local
worker does (kernel reused per worker thread, time-out per cell, failed notebooks kept aside),
and writes the report straight into the run folder, which must therefore be one folder that
the submitting machine and every worker see at the same path (a shared file system), as must
the package, the snapshot and the table cache. The batch keeps doing the rest: planning, reuse
of unchanged reports, the failure policy, index, summary and ``latest``.

Dask is an optional extra (``pip install 'westerkwartier[dask]'``); without an address nothing
of it is imported.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Mapping
from typing import Any

from westerkwartier.errors import InputError

#: Seconds to wait for the scheduler when connecting.
CONNECT_TIMEOUT = 30


class DaskMissing(InputError):
    """``--dask`` was given but dask.distributed is not installed here."""

    def __init__(self) -> None:
        super().__init__(
            "Voor --dask (rapporten op een Dask-cluster) is het pakket dask.distributed "
            "nodig, maar het is niet geïnstalleerd. Installeer het met: pip install "
            "'westerkwartier[dask]' (of laat --dask weg om de rapporten met lokale "
            "werkprocessen te maken)."
        )


class DaskUnreachable(InputError):
    """No Dask scheduler answered at the address given."""

    def __init__(self, address: str, reason: BaseException) -> None:
        super().__init__(
            f"Geen Dask-scheduler bereikbaar op {address} ({type(reason).__name__}: {reason}). "
            "Controleer het adres (bijvoorbeeld tcp://scheduler:8786) en of de scheduler "
            "draait (dask scheduler), of laat --dask weg voor lokale werkprocessen."
        )


def require_dask() -> None:
    """Raise :class:`DaskMissing` when dask.distributed cannot be imported."""
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise DaskMissing() from None


def connect(address: str) -> Any:
    """Return a ``distributed.Client`` for the scheduler at ``address``.

    Raises
    ------
    DaskMissing
        dask.distributed is not installed.
    DaskUnreachable
        No scheduler answered within :data:`CONNECT_TIMEOUT` seconds.
    """
    require_dask()
    from distributed import Client

    try:
        return Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as err:
        raise DaskUnreachable(address, err) from None


def submit(client: Any, jobs: list[Any], env: Mapping[str, str]) -> dict[Any, Any]:
    """Submit every job; return future -> job.

    Each job gets its own key (a run is never taken for a cached result of another run).
    """
    run = uuid.uuid4().hex[:8]
    return {
        client.submit(
            run_on_worker,
            job,
            dict(env),
            key=f"wk-{run}-{job.index}-{job.code}-{job.report}",
            pure=False,
            retries=0,
        ): job
        for job in jobs
    }


def wait(pending: set[Any], timeout: float, poll: float = 0.2) -> tuple[set[Any], set[Any]]:
    """Wait until at least one future is done or ``timeout`` seconds passed: (done, pending).

    Polls the futures' state (the client is not made the process's default client, so
    ``distributed.wait`` cannot be used).
    """
    end = time.monotonic() + timeout
    while True:
        done = {f for f in pending if f.done()}
        if done or time.monotonic() >= end:
            return done, pending - done
        time.sleep(poll)


def cancel(client: Any, futures: set[Any]) -> None:
    """Cancel futures that have not finished (a report already running ends on its own)."""
    if futures:
        client.cancel(list(futures), force=True)


# -- worker side ---------------------------------------------------------------------------------
_prepared: dict[str, str] | None = None
_lock = threading.Lock()


def _prepare_worker(env: Mapping[str, str]) -> None:
    """Give this worker process the run's settings (once per process and run settings)."""
    global _prepared
    from pathlib import Path

    from westerkwartier import settings

    with _lock:
        if _prepared == dict(env):
            return
        os.environ.update(env)
        os.environ.setdefault("MPLBACKEND", "agg")
        settings.cache_dir = Path(env["WESTERKWARTIER_CACHE_DIR"])
        settings.snapshot_dir = Path(env["WESTERKWARTIER_SNAPSHOT_DIR"])
        settings.offline = env.get("WESTERKWARTIER_OFFLINE") == "1"
        _prepared = dict(env)


def run_on_worker(job: Any, env: Mapping[str, str]) -> dict[str, Any]:
    """Make one report on a Dask worker; the result as the local pool returns it."""
    from westerkwartier.pipeline import kernels
    from westerkwartier.pipeline.jobs import run_job

    _prepare_worker(env)
    kernels.open_session()  # one kernel per worker thread, reused for its next reports
    result = run_job(job)
    result.pop("error", None)
    return result


__all__ = [
    "DaskMissing",
    "DaskUnreachable",
    "cancel",
    "connect",
    "require_dask",
    "run_on_worker",
    "submit",
    "wait",
]
