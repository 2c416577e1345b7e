"""Stopping a run cleanly: stop signals, the process tree of a run and its temporary files.

A run of ``westerkwartier report`` or ``westerkwartier batch`` starts processes of its own
(worker processes, and one Jupyter kernel per report, each in a session of its own so that a
Ctrl-C in the terminal never reaches it) and writes temporary files (executed notebooks, the
kernels' connection files). When the run is stopped, none of them may outlive it.

* :func:`stop_signals` turns SIGTERM (``timeout``, cron wrappers, CI cancel, ``systemctl
  stop``), SIGINT (Ctrl-C) and SIGHUP (a closed terminal) into one :class:`Stopped` exception in
  the main thread; a second signal while the run cleans up kills what is left at once instead of
  interrupting the clean-up.
* :func:`descendants` and :func:`terminate` find and stop the processes below a process (read
  from ``/proc`` on Linux, from ``ps`` elsewhere), checking each process's start time so that a
  reused process id is never hit.
* :func:`watch` lets a process notice that the process that set it to work has ended without
  stopping it (SIGKILL gives no signal to pass on), so that a batch worker does not wait with
  its kernel for ever.
* :func:`scratch_dir` gives a run one temporary folder for everything it and its kernels write
  (``TMPDIR``, ``JUPYTER_RUNTIME_DIR``) and removes it afterwards, also after a stop.
* :func:`leased_folder` marks such a folder as in use for as long as its process lives, so that
  the next run removes what a killed run left (:func:`sweep`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import logging
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from westerkwartier.errors import WesterkwartierError

log = logging.getLogger(__name__)

#: The signals that stop a run.
STOP_SIGNALS: tuple[signal.Signals, ...] = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)

#: How a person knows each stop signal.
SIGNAL_NAMES: dict[int, str] = {
    signal.SIGTERM: "SIGTERM",
    signal.SIGINT: "Ctrl-C (SIGINT)",
    signal.SIGHUP: "SIGHUP",
}


class Stopped(KeyboardInterrupt):  # noqa: N818 - a signal, not an error
    """Raised in the main thread by the first stop signal.

    A ``KeyboardInterrupt``, so that no ``except Exception`` of a report or a library
    swallows it, and so that it leaves an asyncio event loop wherever it lands. nbclient runs
    a cell with helper tasks beside the one that waits for the kernel's reply (one reads the
    output, one checks every second that the kernel lives). asyncio keeps any other exception
    raised in a task's step on that task; a stop signal that arrived while a helper task ran
    was kept on that helper, which nobody reads, while the run went on waiting without end
    for a reply from the kernel the stop had killed. asyncio lets only ``KeyboardInterrupt``
    and ``SystemExit`` out of the loop. (On Python 3.11 a signal's exception that leaves a
    helper task this way puts the interpreter's recursion counter off, so that ``ast.parse``
    fails afterwards in that process; a stopped run only cleans up and exits.)
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum

    @property
    def name(self) -> str:
        """The signal as a person knows it (``SIGTERM``, ``Ctrl-C (SIGINT)``)."""
        return SIGNAL_NAMES.get(self.signum, f"signaal {self.signum}")


class RunStopped(WesterkwartierError):
    """A run was stopped by a signal; what finished was kept.

    The exit code is 128 plus the signal number, as a shell reports it: 130 for Ctrl-C, 143
    for SIGTERM, 129 for SIGHUP.

    Parameters
    ----------
    signum : int
        The signal.
    message : str
        What was kept and what was not, in Dutch.
    summary : dict, optional
        The run summary (batch runs).
    """

    def __init__(self, signum: int, message: str, summary: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.signum = signum
        self.exit_code = 128 + int(signum)
        self.summary = summary


# ----------------------------------------------------------------------------------------------
# Processes
# ----------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Proc:
    """A process as found in the process table: id, parent, start time (clock ticks)."""

    pid: int
    ppid: int
    start: int


def _from_stat(pid: int, stat: str) -> Proc:
    """Read a process's parent and start time from its ``/proc/<pid>/stat`` line."""
    fields = stat.rsplit(")", 1)[1].split()
    # after the command: state, ppid, pgrp, session, ..., starttime is field 22
    return Proc(pid, int(fields[1]), int(fields[19]))


def _proc_table() -> dict[int, Proc]:
    """Read every process with its parent and start time."""
    table: dict[int, Proc] = {}
    proc = Path("/proc")
    if proc.is_dir():
        for entry in proc.iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:  # gone meanwhile
                continue
            table[int(entry.name)] = _from_stat(int(entry.name), stat)
        return table
    try:  # pragma: no cover - platforms without /proc
        out = subprocess.run(
            ["ps", "-A", "-o", "pid=,ppid=,lstart="],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout
    except (OSError, subprocess.SubprocessError):  # pragma: no cover
        return table
    for line in out.splitlines():  # pragma: no cover
        parts = line.split(None, 2)
        if len(parts) == 3:
            table[int(parts[0])] = Proc(int(parts[0]), int(parts[1]), hash(parts[2]))
    return table


def _table_of(pid: int) -> dict[int, Proc]:
    """Read the process table for ``pid`` only: one small file where ``/proc`` exists."""
    if not Path("/proc").is_dir():  # pragma: no cover - platforms without /proc
        return _proc_table()
    try:
        return {pid: _from_stat(pid, Path(f"/proc/{pid}/stat").read_text())}
    except OSError:  # no such process
        return {}


def current() -> Proc | None:
    """Return this process as the process table has it, start time included.

    What another process needs to watch this one (:func:`watch`) without mistaking a later
    process that got the same id for it. None when the table cannot be read (no ``/proc``
    and no ``ps``): then there is nothing to watch by.
    """
    pid = os.getpid()
    return _table_of(pid).get(pid)


def watch(proc: Proc, gone: Callable[[], object], interval: float = 1.0) -> threading.Thread:
    """Call ``gone`` in a background thread once ``proc`` has ended.

    For a process that another one set to work and that nothing else would stop: a batch
    worker gets a stop signal from the run's process, but when that process is killed
    outright (SIGKILL: the OOM killer, ``timeout -s KILL``, ``kill -9``) no signal comes and
    the worker would wait for work for ever, with its kernel. A zombie counts as ended.

    Parameters
    ----------
    proc : Proc
        The process to watch (:func:`current` in that process).
    gone : callable
        Called once, in the watching thread, when ``proc`` is no longer there.
    interval : float
        Seconds between two looks (each reads one file of ``/proc``).

    Returns
    -------
    threading.Thread
        The watching thread (a daemon: it never keeps this process alive).
    """

    def look() -> None:
        while alive(proc, _table_of(proc.pid)):
            time.sleep(interval)
        gone()

    thread = threading.Thread(target=look, name="wk-watch-run", daemon=True)
    thread.start()
    return thread


def children(pid: int | None = None) -> list[Proc]:
    """Return the processes whose parent is ``pid`` (default: this process)."""
    pid = os.getpid() if pid is None else pid
    return [p for p in _proc_table().values() if p.ppid == pid]


def descendants(pids: int | Iterable[int], table: dict[int, Proc] | None = None) -> list[Proc]:
    """Return every process below ``pids`` (children, their children, ...), parents first."""
    table = _proc_table() if table is None else table
    by_parent: dict[int, list[Proc]] = {}
    for proc in table.values():
        by_parent.setdefault(proc.ppid, []).append(proc)
    todo = [pids] if isinstance(pids, int) else list(pids)
    found: list[Proc] = []
    seen: set[int] = set()
    while todo:
        for child in by_parent.get(todo.pop(0), []):
            if child.pid not in seen:
                seen.add(child.pid)
                found.append(child)
                todo.append(child.pid)
    return found


def alive(proc: Proc, table: dict[int, Proc] | None = None) -> bool:
    """Whether the process still runs (same id *and* start time; zombies count as gone)."""
    table = _proc_table() if table is None else table
    now = table.get(proc.pid)
    if now is None or now.start != proc.start:
        return False
    with contextlib.suppress(OSError):
        state = Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        if state in {"Z", "X"}:
            _reap(proc.pid)
            return False
    return True


def _reap(pid: int) -> None:
    """Collect a dead child of this process so that it leaves no zombie."""
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def signal_all(procs: Iterable[Proc], signum: int) -> None:
    """Send ``signum`` to each process that still is the process it was."""
    table = _proc_table()
    for proc in procs:
        if alive(proc, table):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(proc.pid, signum)


def terminate(procs: Iterable[Proc], grace: float = 2.0) -> list[Proc]:
    """Stop processes: SIGTERM, up to ``grace`` seconds to exit, then SIGKILL.

    Returns
    -------
    list of Proc
        The processes still there afterwards (normally none).
    """
    procs = list(procs)
    if not procs:
        return []
    signal_all(procs, signal.SIGTERM)
    left = _wait_gone(procs, grace)
    if left:
        log.info("%d proces(sen) stopten niet op SIGTERM; SIGKILL.", len(left))
        signal_all(left, signal.SIGKILL)
        left = _wait_gone(left, 2.0)
    return left


def kill_now(procs: Iterable[Proc]) -> None:
    """SIGKILL processes at once (a second stop signal: no more waiting)."""
    signal_all(procs, signal.SIGKILL)


def _wait_gone(procs: list[Proc], seconds: float) -> list[Proc]:
    deadline = time.monotonic() + seconds
    while True:
        table = _proc_table()
        left = [p for p in procs if alive(p, table)]
        if not left or time.monotonic() >= deadline:
            return left
        time.sleep(0.05)


def stop_new_children(before: Iterable[Proc]) -> list[Proc]:
    """Kill the processes this process started since ``before`` (with their own children).

    Used after each report: a kernel that a time-out or a stop left running is abandoned, so
    it is killed at once (SIGKILL; a kernel asked to stop politely while it still works prints
    tracebacks about closed connections into the log).

    Returns
    -------
    list of Proc
        The processes still there afterwards (normally none).
    """
    known = {(p.pid, p.start) for p in before}
    table = _proc_table()
    new = [p for p in children(os.getpid()) if (p.pid, p.start) not in known]
    if not new:
        return []
    tree = new + descendants([p.pid for p in new], table)
    kill_now(tree)
    left = _wait_gone(tree, 2.0)
    for proc in new:
        _reap(proc.pid)
    return left


# ----------------------------------------------------------------------------------------------
# Signals
# ----------------------------------------------------------------------------------------------

#: Set by the first stop signal any :func:`stop_signals` context of this process received.
_STOP_SEEN = threading.Event()


def stop_seen() -> bool:
    """Whether a run in this process has been stopped by a signal (the process should exit)."""
    return _STOP_SEEN.is_set()


@dataclasses.dataclass
class StopState:
    """What the stop handlers know: the first signal, and what to kill on a second one."""

    signum: int | None = None
    count: int = 0
    #: Called on the first signal, before :class:`Stopped` is raised (kill what must not see
    #: the clean-up of the libraries, such as a busy kernel).
    on_stop: list[Any] = dataclasses.field(default_factory=list)
    #: Called on every later signal (escalation: kill the run's processes at once).
    on_repeat: list[Any] = dataclasses.field(default_factory=list)

    def hurry(self) -> None:
        """Run the escalation callbacks (a second signal arrived)."""
        for callback in list(self.on_repeat):
            with contextlib.suppress(Exception):
                callback()

    def first(self) -> None:
        """Run the callbacks of the first signal."""
        for callback in list(self.on_stop):
            with contextlib.suppress(Exception):
                callback()


@contextlib.contextmanager
def stop_signals() -> Iterator[StopState]:
    """Turn SIGTERM, SIGINT and SIGHUP into :class:`Stopped` in the main thread, once.

    The first signal runs the callbacks in ``StopState.on_stop`` and raises
    :class:`Stopped`; every later one only runs the callbacks in ``StopState.on_repeat``
    (which kill what is left), so the clean-up after the first signal is never interrupted
    halfway. The previous handlers are restored afterwards. Outside the
    main thread (where Python cannot set handlers) nothing is installed.

    Yields
    ------
    StopState
    """
    state = StopState()
    if threading.current_thread() is not threading.main_thread():
        yield state
        return

    def handler(signum: int, frame: Any) -> None:
        state.count += 1
        if state.signum is None:
            state.signum = signum
            _STOP_SEEN.set()
            state.first()
            raise Stopped(signum)
        state.hurry()

    previous = {sig: signal.getsignal(sig) for sig in STOP_SIGNALS}
    for sig in STOP_SIGNALS:
        if sig == signal.SIGINT and previous[sig] == signal.SIG_IGN:
            continue  # started in the background with Ctrl-C ignored: keep it so
        signal.signal(sig, handler)
    try:
        yield state
    finally:
        for sig, old in previous.items():
            with contextlib.suppress(TypeError, ValueError):
                signal.signal(sig, old if old is not None else signal.SIG_DFL)


# ----------------------------------------------------------------------------------------------
# Temporary files
# ----------------------------------------------------------------------------------------------


#: The file a run keeps locked in each temporary folder of its own for as long as it lives.
LEASE = ".in-gebruik"

#: Name prefixes of the temporary folders that carry a lease: :func:`sweep` looks at no other.
LEASED_PREFIXES = ("wk-run-", "wk-rapport-run-", "wk-batch-", "wk-kernel-")

#: Open lease files of this process, by folder.
_LEASES: dict[str, int] = {}
_LEASE_LOCK = threading.Lock()


def leased_folder(prefix: str, base: str | Path | None = None) -> Path:
    """Make a temporary folder that this process marks as its own while it lives.

    The folder holds a file (:data:`LEASE`) that this process keeps locked (``flock``); the
    operating system lets go of the lock when the process ends, however it ends. A folder
    whose lease nobody holds was left by a run that was killed (SIGKILL gives no chance to
    clean up), and the next run removes it (:func:`sweep`). The lease file is locked before
    it gets its name, so no sweep ever sees it free. Remove the folder with
    :func:`remove_leased`.

    Parameters
    ----------
    prefix : str
        Start of the folder's name; one of :data:`LEASED_PREFIXES` for it to be swept.
    base : str or Path, optional
        Where to make it; default :mod:`tempfile`'s folder.
    """
    folder = Path(tempfile.mkdtemp(prefix=prefix, dir=base))
    fresh = folder / f"{LEASE}.nieuw"
    try:
        fd = os.open(fresh, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except OSError:  # pragma: no cover - a folder we just made; without a lease it is kept
        return folder
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.rename(fresh, folder / LEASE)
    except OSError:  # pragma: no cover - no locks on this file system: never swept
        os.close(fd)
        return folder
    with _LEASE_LOCK:
        _LEASES[str(folder)] = fd
    return folder


def remove_leased(folder: str | Path) -> None:
    """Remove a folder of :func:`leased_folder` with everything in it, then end its lease."""
    shutil.rmtree(folder, ignore_errors=True)
    with _LEASE_LOCK:
        fd = _LEASES.pop(str(folder), None)
    if fd is not None:
        os.close(fd)


def sweep(base: str | Path | None = None) -> list[Path]:
    """Remove the temporary folders that killed runs left in ``base``; return them.

    Only folders of this user, named with one of :data:`LEASED_PREFIXES`, with a lease file
    that no process holds: the run that made the folder has ended without removing it. A
    folder without a lease file (made by an older version, or by someone else) is left alone,
    as is every folder of a run still going: the lock belongs to the open file, not to a
    process id, so this holds by construction for a run in another process namespace too.

    Parameters
    ----------
    base : str or Path, optional
        The folder to look in; default :mod:`tempfile`'s folder.
    """
    base = Path(tempfile.gettempdir() if base is None else base)
    removed: list[Path] = []
    try:
        entries = [e for e in base.iterdir() if e.name.startswith(LEASED_PREFIXES)]
    except OSError:
        return removed
    for entry in entries:
        try:
            if entry.is_symlink() or not entry.is_dir() or entry.stat().st_uid != os.getuid():
                continue
            fd = os.open(entry / LEASE, os.O_WRONLY | os.O_NOFOLLOW)
        except OSError:  # no lease: not ours to judge
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # held: its run is still going
            os.close(fd)
            continue
        try:
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
        finally:
            os.close(fd)
    if removed:
        log.info("%d tijdelijke map(pen) van gestopte runs verwijderd uit %s.", len(removed), base)
    return removed


#: The scratch folder shared by the runs open in this process, and how many are open.
_SCRATCH_LOCK = threading.Lock()
_SCRATCH: dict[str, Any] = {"root": None, "users": 0, "before": None}


def _open_scratch(prefix: str) -> Path:
    """Create the process's scratch root on first use and point temp folders into it."""
    with _SCRATCH_LOCK:
        if _SCRATCH["root"] is None:
            sweep()  # what killed runs left, before this one adds its own
            root = leased_folder(f"{prefix}{os.getpid()}-")
            keys = ("TMPDIR", "JUPYTER_RUNTIME_DIR")
            _SCRATCH["before"] = ({k: os.environ.get(k) for k in keys}, tempfile.tempdir)
            os.environ["TMPDIR"] = str(root)
            os.environ["JUPYTER_RUNTIME_DIR"] = str(root / "jupyter")
            tempfile.tempdir = str(root)
            _SCRATCH["root"] = root
        _SCRATCH["users"] += 1
        return Path(_SCRATCH["root"])


def _close_scratch() -> None:
    """Remove the scratch root and restore the settings when the last run leaves."""
    with _SCRATCH_LOCK:
        _SCRATCH["users"] -= 1
        if _SCRATCH["users"] > 0:
            return
        env, before_tempdir = _SCRATCH["before"]
        tempfile.tempdir = before_tempdir
        for key, value in env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        remove_leased(_SCRATCH["root"])
        _SCRATCH["root"] = None


@contextlib.contextmanager
def scratch_dir(prefix: str = "wk-run-") -> Iterator[Path]:
    """One temporary folder for everything a run and its kernels write; removed afterwards.

    While the context is open, :mod:`tempfile`, ``TMPDIR`` and ``JUPYTER_RUNTIME_DIR`` point
    into the folder, so executed notebooks, the kernels' connection files and whatever the
    kernels write to their temporary folder land in it. It is removed on the way out, after a
    failure or a stop as well. Runs open at the same time in one process (threads, or a run
    inside a run) share the folder; the last one out removes it and restores the settings, so
    no run loses its files to another.

    Yields
    ------
    Path
        The folder.
    """
    folder = _open_scratch(prefix)
    try:
        yield folder
    finally:
        _close_scratch()


__all__ = [
    "SIGNAL_NAMES",
    "STOP_SIGNALS",
    "Proc",
    "RunStopped",
    "StopState",
    "Stopped",
    "alive",
    "children",
    "current",
    "descendants",
    "kill_now",
    "leased_folder",
    "remove_leased",
    "scratch_dir",
    "signal_all",
    "stop_new_children",
    "stop_seen",
    "stop_signals",
    "sweep",
    "terminate",
    "watch",
]
