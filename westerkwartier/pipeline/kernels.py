"""One notebook kernel reused for the successive reports of a process.

Starting a kernel and importing pandas, matplotlib, geopandas and the package costs seconds
per report, and the national panel, the region registry and the snapshot tables read into a
kernel's memory are thrown away with it. A :class:`KernelSession` keeps one kernel alive for
the reports that one process (a batch worker, or ``westerkwartier report``) makes one after
the other:

* before every report the kernel is put back to the state it had just after it started: the
  user namespace is emptied (``InteractiveShell.reset``), the execution counter starts at 1
  again, figures are closed, and ``matplotlib.rcParams``, ``os.environ``, ``sys.path``,
  the warning filters (warnings shown once are shown again) and the working folder are
  restored to what they were at the start;
* modules stay imported; the caches inside them are keyed on everything that changes their
  contents (the panel cache on the data fingerprint), so a report reads the same values as
  in a fresh kernel;
* after the clean-up's garbage collection the objects that survived it (modules, caches) are
  moved out of the collector's sight (``gc.freeze``): a collection then looks only at what
  the next report makes, 0,01 s instead of 0,2 s for each full pass. Whatever such an object
  later leaves behind in a reference cycle stays until the kernel is replaced;
* before its first report, which makes those objects, the collector gets the thresholds of
  :data:`GC_THRESHOLD`: it then no longer goes through all of them again and again while they
  are made (0,7-0,9 s of that report's CPU with Python's thresholds, 0,2 s with these;
  ``benchmarks/bench_gc.py``);
* after any failure (a cell that raises or times out, a dead kernel, a page that breaks a
  house rule) the kernel is shut down and the next report gets a new one; after
  :data:`MAX_REPORTS` reports it is replaced too, so that memory cannot grow without bound,
  and so it is when the package's settings in the environment (``WESTERKWARTIER_*``: offline,
  data folders, the state of CBS) differ from those it was started with.

One client stays connected to the kernel for its whole life (:attr:`KernelSession.client`):
the clean-up and every notebook run use it. A new client first waits until the kernel has
answered and its output channel is connected, about 0,2 s of waiting each time, which two new
clients per report used to pay.

The notebooks, their parameters (injected by papermill) and the published pages are the same
as with a new kernel per report; ``WESTERKWARTIER_KERNEL_REUSE=0`` turns reuse off.

Every kernel, reused or not, talks to this process over Unix sockets in a folder of its own
where the platform has them (:func:`kernel_options`), not over TCP ports on localhost. Over
TCP, jupyter_client picks five free ports, releases them and lets the kernel bind them a
moment later: two kernels started at once (a batch's workers, two runs on one machine) can
pick the same port, and the kernel fails to start or loses its heartbeat with a traceback in
the log. A socket file in a folder that only this kernel uses cannot be taken by another.
"""

from __future__ import annotations

import atexit
import logging
import os
import socket
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from westerkwartier.pipeline import processes

log = logging.getLogger(__name__)

#: Reports one kernel makes before it is replaced by a new one. A kernel's memory stays flat
#: from report to report (430-460 MiB resident over 40 reports of as many municipalities,
#: measured with ``psutil`` after each), so the limit is a bound, not a cure: each new kernel
#: costs about 5 s of CPU (imports, caches, the first chart), at 40 about 3% of a national run.
MAX_REPORTS = 200

#: The garbage collector's thresholds in a report kernel (Python's default: 700, 10, 10). The
#: first report of a new kernel imports matplotlib and geopandas and reads the national
#: panel: some 300.000 objects that live as long as the kernel. With the default the
#: collector went through all of them again and again while they were made (7 full passes,
#: 0,7-0,9 s of CPU); a young collection after every 10.000 new objects instead of 700 needs
#: none (0,2 s in all), and the clean-up between reports moves the survivors out of sight.
#: Garbage in reference cycles (a closed figure) is still collected within the report.
GC_THRESHOLD = (10_000, 10, 10)

# Runs once in a new kernel: what "clean" means for the reports that follow.
_BASELINE = """
def __wk_baseline():
    import gc, os, sys, warnings
    import matplotlib
    import matplotlib.pyplot  # the inline backend adjusts rcParams on first import
    gc.set_threshold(*GC_THRESHOLD)
    state = {
        "gc": gc.get_threshold(),
        "rc": dict(matplotlib.rcParams),
        "environ": dict(os.environ),
        "path": list(sys.path),
        "filters": list(warnings.filters),
        "user": set(get_ipython().user_ns),
    }
    sys.modules["__wk_kernel_baseline__"] = type(sys)("__wk_kernel_baseline__")
    sys.modules["__wk_kernel_baseline__"].state = state
__wk_baseline()
del __wk_baseline
"""

# Runs before every report but the first of a kernel.
_RESET = """
def __wk_reset(cwd):
    import gc, os, sys, warnings
    import matplotlib, matplotlib.pyplot
    state = sys.modules["__wk_kernel_baseline__"].state
    shell = get_ipython()
    shell.reset(new_session=False)
    shell.execution_count = 1
    matplotlib.pyplot.close("all")
    matplotlib.rcParams.clear()
    matplotlib.rcParams.update(state["rc"])
    os.environ.clear()
    os.environ.update(state["environ"])
    sys.path[:] = state["path"]
    warnings.filters[:] = state["filters"]
    warnings._filters_mutated()
    os.chdir(cwd)
    gc.enable()
    gc.set_threshold(*state["gc"])
    gc.collect()
    gc.freeze()
__wk_reset({cwd!r})  # the reset removes the function from the namespace, too
"""


#: The longest socket path :func:`kernel_options` gives a kernel: the address of a Unix socket
#: holds 107 bytes on Linux and 103 on macOS. In a batch the temporary folder is already some
#: 60 bytes deep (the run's folder, then the worker's), hence the short names of the sockets.
IPC_PATH_MAX = 103

#: The short temporary folder every POSIX system has: a kernel's sockets go there when the
#: temporary folder in use is too deep for them (:func:`kernel_folder`).
SHORT_TMP = Path("/tmp")


def kernel_options(folder: Path | None = None) -> dict[str, Any]:
    """Return the options for a kernel manager: how the kernel talks to this process.

    Parameters
    ----------
    folder : Path, optional
        An empty folder that belongs to this one kernel and lives as long as it: the kernel's
        five sockets are made there (``k-1`` to ``k-5``), and whoever made the
        folder removes it after the kernel. Without it, or where Unix sockets cannot be used
        (Windows, a path longer than :data:`IPC_PATH_MAX`, or
        ``WESTERKWARTIER_KERNEL_TRANSPORT=tcp``), the kernel uses TCP ports on localhost.

    Returns
    -------
    dict
        ``{"config": Config}`` for ``KernelManager`` or papermill (empty: the defaults).

    Notes
    -----
    The connection is encrypted (CurveZMQ) where jupyter_client and pyzmq support it
    (ipykernel declares support): ipykernel then no longer warns in every log that it runs
    "over TCP without encryption" when it falls back to TCP.

    Examples
    --------
    A folder whose socket paths would not fit in a socket's address gets TCP:

    >>> deep = Path("map" * 40)
    >>> kernel_options(deep).get("config", {}).get("KernelManager", {}).get("transport", "tcp")
    'tcp'
    """
    try:
        import zmq
        from jupyter_client.manager import KernelManager
        from traitlets.config import Config
    except ImportError:  # pragma: no cover - papermill depends on all three
        return {}
    manager: dict[str, Any] = {}
    if "transport_encryption" in KernelManager.class_trait_names() and zmq.has("curve"):
        manager["transport_encryption"] = "auto"
    if folder is not None and _ipc_usable(folder):
        manager["transport"] = "ipc"
        manager["ip"] = str(Path(folder) / "k")
    return {"config": Config({"KernelManager": manager})} if manager else {}


def _ipc_usable(folder: Path) -> bool:
    """Tell whether a kernel can get its sockets in ``folder`` (see :func:`kernel_options`).

    Besides the platform and the length of the paths, a socket is bound there once and removed:
    some file systems (network and FUSE mounts, WSL's Windows drives) refuse sockets, and a
    kernel that could not bind its own would not start.
    """
    import zmq

    chosen = os.environ.get("WESTERKWARTIER_KERNEL_TRANSPORT", "ipc").strip().lower()
    if chosen == "tcp" or sys.platform == "win32" or not zmq.has("ipc"):
        return False
    if not _fits(Path(folder)):
        return False
    probe = Path(folder) / "k-0"
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.bind(str(probe))
    except OSError as err:
        log.debug("Geen sockets in %s (%s): de kernel gebruikt TCP", folder, err)
        return False
    finally:
        probe.unlink(missing_ok=True)
    return True


def kernel_folder() -> Path:
    """Make the folder for one kernel's sockets (:func:`kernel_options`); remove it after.

    It is made in the temporary folder, which a batch removes with its workers' when the run
    ends, however it ends. Where that folder is too deep for a socket's address (a batch's
    worker below macOS's temporary folder, some 120 bytes), it is made in :data:`SHORT_TMP`.
    """
    base = Path(tempfile.gettempdir())
    example = Path("wk-kernel-12345678")  # what mkdtemp makes below
    if not _fits(base / example) and os.access(SHORT_TMP, os.W_OK | os.X_OK):
        base = SHORT_TMP
        processes.sweep(base)  # the kernel folders of killed runs (the run's own are below)
    return processes.leased_folder("wk-kernel-", base)


def _fits(folder: Path) -> bool:
    """Tell whether the paths of the sockets in ``folder`` fit a socket's address."""
    return len(os.fsencode(folder / "k-5")) <= IPC_PATH_MAX


@contextmanager
def socket_folder() -> Iterator[Path]:
    """Make a :func:`kernel_folder` for the ``with`` block and remove it afterwards."""
    folder = kernel_folder()
    try:
        yield folder
    finally:
        processes.remove_leased(folder)


def reuse_enabled() -> bool:
    """Whether kernels may be reused (``WESTERKWARTIER_KERNEL_REUSE``, default on)."""
    return os.environ.get("WESTERKWARTIER_KERNEL_REUSE", "1").strip().lower() not in {
        "0",
        "false",
        "nee",
        "no",
    }


class KernelSession:
    """A kernel kept alive for successive notebook runs in this process.

    Parameters
    ----------
    max_reports : int
        Reports one kernel makes before it is replaced.
    """

    def __init__(self, max_reports: int = MAX_REPORTS) -> None:
        self.max_reports = max_reports
        self.km: Any = None
        self.client: Any = None  # connected to the kernel from its start until it is discarded
        self.env: dict[str, str] = {}
        self.cwd = Path()
        self.used = 0
        self.started = 0  # kernels started, for tests and benchmarks
        self.folder: Path | None = None  # the kernel's sockets (kernel_options)

    # -- life cycle --------------------------------------------------------------------------
    def _start(self, cwd: Path, start_timeout: float) -> None:
        from jupyter_client.manager import KernelManager

        self.folder = kernel_folder()
        try:
            km = KernelManager(kernel_name="python3", **kernel_options(self.folder))
            km.start_kernel(cwd=str(cwd), extra_arguments=["--HistoryManager.hist_file=:memory:"])
        except BaseException:
            self.remove_folder()
            raise
        log.debug("Kernel gestart via %s (%s)", km.transport, km.ip)  # tcp: see kernel_options
        self.km = km
        self.env = _own_environment()
        self.cwd = cwd.resolve()
        self.used = 0
        self.started += 1
        try:
            client = km.blocking_client()  # the kind of client nbclient makes, too
            client.start_channels()
            self.client = client
            client.wait_for_ready(timeout=start_timeout)
            client.allow_stdin = False  # as nbclient sets it: a report never asks for input
            self._run(_BASELINE.replace("GC_THRESHOLD", repr(GC_THRESHOLD)), start_timeout)
        except Exception:
            self.discard()
            raise

    def _run(self, code: str, timeout: float) -> None:
        """Execute ``code`` in the kernel; raise RuntimeError when it does not end well."""
        reply = self.client.execute_interactive(
            code, silent=True, store_history=False, timeout=timeout, output_hook=_ignore
        )
        content = reply.get("content", {})
        if content.get("status") != "ok":
            raise RuntimeError(
                f"kernel niet schoon te maken: {content.get('ename')}: {content.get('evalue')}"
            )

    def prepare(self, cwd: Path, start_timeout: float = 60) -> Any:
        """Return a kernel manager whose kernel is alive and clean, ready for one notebook.

        Parameters
        ----------
        cwd : Path
            Working folder for the notebook.
        start_timeout : float
            Seconds a new kernel may take to start (and a reset may take).
        """
        env = _own_environment()
        if self.km is not None and (
            self.used >= self.max_reports or not self._alive() or env != self.env
        ):
            self.discard()  # worn, dead, or started with other settings (offline, CBS state)
        if self.km is None:
            self._start(Path(cwd), start_timeout)
        if self.used:
            try:
                self._run(_RESET.format(cwd=str(cwd)), start_timeout)
            except Exception as err:  # noqa: BLE001 - a kernel that cannot be cleaned is replaced
                log.warning("Kernel opnieuw gestart: %s", err)
                self.discard()
                self._start(Path(cwd), start_timeout)
        elif Path(cwd).resolve() != self.cwd:
            self._run(f"import os; os.chdir({str(cwd)!r})", start_timeout)
        self.used += 1
        return self.km

    def _alive(self) -> bool:
        try:
            return bool(self.km.is_alive())
        except Exception:  # noqa: BLE001 - a manager in a broken state counts as dead
            return False

    def pids(self) -> set[int]:
        """Process id of the live kernel (empty when there is none)."""
        provisioner = getattr(self.km, "provisioner", None)
        pid = getattr(provisioner, "pid", None) or getattr(
            getattr(provisioner, "process", None), "pid", None
        )
        return {int(pid)} if pid else set()

    def discard(self) -> None:
        """Shut the kernel down now (after a failure, or when the session ends)."""
        km, self.km = self.km, None
        client, self.client = self.client, None
        self.used = 0
        if client is not None:
            try:
                client.stop_channels()
            except Exception as err:  # noqa: BLE001 - its sockets may already be closed
                log.debug("Kernelclient sluiten: %s", err)
        if km is None:
            self.remove_folder()
            return
        try:
            km.shutdown_kernel(now=True)
        except Exception as err:  # noqa: BLE001 - it may already be gone
            log.debug("Kernel afsluiten: %s", err)
        try:
            km.cleanup_resources()
        except Exception:  # noqa: BLE001  # pragma: no cover
            pass
        self.remove_folder()

    def remove_folder(self) -> None:
        """Remove the folder of the kernel's sockets (after the kernel, or after a kill)."""
        folder, self.folder = self.folder, None
        if folder is not None:
            processes.remove_leased(folder)


def _own_environment() -> dict[str, str]:
    """Return the package's settings in the environment (a kernel inherits them at start)."""
    return {k: v for k, v in os.environ.items() if k.startswith("WESTERKWARTIER_")}


def _ignore(msg: dict[str, Any]) -> None:
    """Drop output of the clean-up code (it prints nothing; a warning is not a report's)."""


# one session per thread: a Dask worker may run reports in several threads at once
_local = threading.local()


def current() -> KernelSession | None:
    """Return the session of this thread, if reuse is on (:func:`open_session`)."""
    return getattr(_local, "session", None)


def open_session() -> KernelSession | None:
    """Start reusing kernels in this thread (no-op when turned off); return the session."""
    if current() is None and reuse_enabled():
        _local.session = KernelSession()
        atexit.register(_local.session.discard)
    return current()


def close_session() -> None:
    """Shut down the reused kernel of this thread, if any, and stop reusing."""
    session = current()
    _local.session = None
    if session is not None:
        session.discard()
        atexit.unregister(session.discard)


@contextmanager
def reused_kernel() -> Iterator[KernelSession | None]:
    """Reuse one kernel for the notebooks run inside the ``with`` block."""
    opened = current() is None
    session = open_session()
    try:
        yield session
    finally:
        if opened:
            close_session()


__all__ = [
    "IPC_PATH_MAX",
    "MAX_REPORTS",
    "SHORT_TMP",
    "KernelSession",
    "close_session",
    "current",
    "kernel_folder",
    "kernel_options",
    "open_session",
    "reuse_enabled",
    "reused_kernel",
    "socket_folder",
]
