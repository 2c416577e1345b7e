"""Scheduled report generation: a manifest, parallel workers and dated, safely published runs.

One command regenerates every report of a manifest (``reports.toml``) for every municipality it
names, suitable for cron, a systemd timer or CI::

    westerkwartier batch --manifest reports.toml --gepland --workers 2

What a run does
---------------
1. **Fresh data first** (``gepland``): refresh the CBS cache for the tables of the indicator
   catalogue. When CBS cannot be reached the run goes on with cache and snapshot, the kernels run
   offline, and every report carries a visible notice with the data date (the notebook parameter
   ``gegevensmelding`` when the notebook declares it, otherwise a banner put into the HTML).
2. **Incremental**: each report gets a key, the sha256 of its inputs (notebook bytes,
   parameters, data fingerprint, package version, notice). A report whose key equals the key of
   its last good version is not rendered again but hard-linked into the new run (``force``
   renders everything).
3. **Parallel**: the other reports run in a process pool (``workers``), each as a
   :class:`~westerkwartier.pipeline.jobs.ReportJob` (the same jobs ``westerkwartier report``
   runs). Each worker has its own ``JUPYTER_RUNTIME_DIR``, the first kernel starts are
   staggered, and a kernel that dies while starting is started again with fresh ports after a
   short random pause (see :func:`westerkwartier.pipeline.jobs.is_start_failure`). A time
   limit holds per report and for the whole run.
4. **Dated outputs**: the run writes ``<uit>/<datum>/<GMcode>/<rapport>.html``, an
   ``index.html`` and ``samenvatting.json`` (the machine-readable run summary). Executed
   notebooks of failed reports go to ``<uit>/_failed/<datum>/``, never into a published folder.
5. **Publication** (see :data:`POLICIES`): ``<uit>/latest`` is a symlink to the newest
   successful run, switched atomically (a new symlink under a temporary name, then
   ``os.replace``). With the default policy ``per-rapport`` a failed report keeps its last good
   version: that file is linked into the new run, so ``latest`` is always a complete set of good
   reports; the run still exits non-zero and the summary says which report failed and why. With
   ``alles-of-niets`` ``latest`` only moves when every report succeeded.
6. **One run at a time per folder**: a run holds ``<uit>/.batch.lock`` (``fcntl.flock``). A
   second run into the same folder (overlapping cron runs) prints ``wacht op een andere
   batch…`` and waits for the first to finish (at most its own run time limit), then runs; its
   unchanged reports are reused from the first run.

Examples
--------
A run renders every report of the manifest, so this is not run as a doctest::

    from westerkwartier.pipeline import batch, manifest as batch_manifest

    manifest = batch_manifest.load_manifest("reports.toml")
    summary = batch.run_batch(manifest, workers=2)
    summary["geslaagd"], summary["aantallen"]
    # (True, {'gemaakt': 20, 'hergebruikt': 0, 'mislukt': 0, 'afgebroken': 0})
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import dataclasses
import datetime as dt
import hashlib
import json
import logging
import math
import multiprocessing
import multiprocessing.util
import os
import re
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from westerkwartier import __version__, settings
from westerkwartier.errors import (
    InputError,
    OutputNotWritable,
    ReportFailed,
    WesterkwartierError,
)
from westerkwartier.pipeline import kernels, processes
from westerkwartier.pipeline.jobs import ReportJob, kernel_env, run_job
from westerkwartier.pipeline.manifest import (
    DATE_PARAMETER,
    MUNICIPALITY_PARAMETER,
    NOTICE_PARAMETER,
    POLICIES,
    Manifest,
    ManifestEntry,
)
from westerkwartier.sources.periods import dutch_date

log = logging.getLogger(__name__)


#: File names inside ``uit``.
SUMMARY_FILE = "samenvatting.json"


STATE_FILE = ".batch-status.json"


LOCK_FILE = ".batch.lock"


LATEST = "latest"


LAST_RUN_FILE = "laatste-run.json"


FAILED_DIR = "_failed"


#: Format of the run directory name (``2026-11-27T0830``).
RUN_NAME_FORMAT = "%Y-%m-%dT%H%M"


#: Statuses of one report in the summary. ``afgebroken``: stopped by a time limit;
#: ``onderbroken``: not finished because the run was stopped (a signal) or the disk was full.
STATUSES = ("gemaakt", "hergebruikt", "mislukt", "afgebroken", "onderbroken")


#: Statuses of a run (``status`` in the summary and in ``laatste-run.json``): ``bezig`` while
#: it runs (still there afterwards: the process was killed), ``geslaagd`` (every report good),
#: ``met fouten`` (finished, some report failed: exit code 7), ``gestopt`` (a stop signal),
#: ``fout`` (the run itself failed: full disk, damaged files, a bug).
RUN_STATUSES = ("bezig", "geslaagd", "met fouten", "gestopt", "fout")

#: Report statuses that leave a report without a new version in the run.
NOT_MADE = frozenset({"mislukt", "afgebroken", "onderbroken"})


class BatchBusy(WesterkwartierError):
    """Another batch run kept the output folder locked longer than this run would wait."""

    exit_code = 1


# ----------------------------------------------------------------------------------------------
# Data: refresh, fingerprint, date, notice
# ----------------------------------------------------------------------------------------------


@dataclasses.dataclass
class DataState:
    """What the run knows about its data.

    Attributes
    ----------
    date : str
        Date of the newest figures (ISO ``YYYY-MM-DD``): the latest CBS ``Modified`` stamp of
        the cached tables or the snapshot's data date, whichever is newer.
    fingerprint : str
        sha256 over the snapshot's provenance and the cache manifest (table, query, checksum,
        CBS stamp; not the fetch time, so re-downloading identical data changes nothing).
    cbs_reachable : bool or None
        Result of the refresh; None when no refresh was asked.
    refreshed : list of str
        Tables downloaded again.
    notice : str
        The visible notice for the reports (empty when the data are fresh or no refresh ran).
    index_notice : str
        The same notice worded for the run's index page, which lists many reports.
    offline : bool
        Kernels run offline (set when CBS was unreachable, or by the settings).
    """

    date: str
    fingerprint: str
    cbs_reachable: bool | None = None
    refreshed: list[str] = dataclasses.field(default_factory=list)
    notice: str = ""
    offline: bool = False
    index_notice: str = ""


def catalogue_table_ids() -> list[str]:
    """Table ids the reports need: the indicator catalogue's, else the snapshot's."""
    try:
        from westerkwartier.indicators import catalogue

        ids = sorted({t for ind in catalogue.load_catalogue() for t in ind.tables})
        if ids:
            return ids
    except (ImportError, WesterkwartierError, OSError) as err:  # catalogue not (yet) there
        log.info("Indicatorcatalogus niet bruikbaar (%s); snapshot-tabellen vernieuwd.", err)
    from westerkwartier.sources import data

    return data.snapshot_table_ids()


def refresh_data(table_ids: Sequence[str] | None = None) -> tuple[bool, list[str]]:
    """Download again into the cache what the reports need; stop once CBS is unreachable.

    The same sized requests the indicator panel makes
    (:func:`westerkwartier.indicators.needs.refresh`), so every report kernel finds its tables
    in the cache.

    Parameters
    ----------
    table_ids : sequence of str, optional
        Default: every table of the indicator catalogue.

    Returns
    -------
    reachable, refreshed : bool, list of str
        Whether CBS answered, and the tables downloaded again.
    """
    from westerkwartier.indicators import needs

    if settings.offline:
        log.warning("Offline-modus: de CBS-cache wordt niet vernieuwd.")
        return False, []
    return needs.refresh(table_ids)


def cbs_outcome_env(data: DataState) -> dict[str, str]:
    """Return the batch's one CBS check as environment for every report kernel.

    ``WESTERKWARTIER_CBS_UNREACHABLE=1`` when CBS did not answer: a kernel that is not offline
    anyway then goes straight to cache and snapshot.
    """
    return {"WESTERKWARTIER_CBS_UNREACHABLE": "1" if data.cbs_reachable is False else "0"}


def check_cbs_once() -> bool:
    """Ask CBS once, quickly, whether it answers, before any report kernel starts.

    The outcome goes to every kernel: when CBS does not answer they run on cache and snapshot
    (``WESTERKWARTIER_OFFLINE=1``, ``WESTERKWARTIER_CBS_UNREACHABLE=1``) instead of each
    finding out on its own.
    """
    from westerkwartier.sources import cbs

    return cbs.probe()


def data_state(cbs_reachable: bool | None = None, refreshed: Sequence[str] = ()) -> DataState:
    """Describe the data a run will use (see :class:`DataState`)."""
    from westerkwartier.sources import cache

    digest = hashlib.sha256()
    dates: list[str] = []
    prov_path = Path(settings.snapshot_dir) / "provenance.json"
    if prov_path.is_file():
        digest.update(prov_path.read_bytes())
        with contextlib.suppress(ValueError):
            dates.append(str(json.loads(prov_path.read_text(encoding="utf-8"))["data_date"])[:10])
    manifest = cache._read_manifest(Path(settings.cache_dir))  # noqa: SLF001 - read only
    for name, entry in sorted(manifest.get("entries", {}).items()):
        stable = {k: entry.get(k) for k in ("table_id", "query", "sha256", "modified", "rows")}
        digest.update(json.dumps([name, stable], sort_keys=True, default=str).encode())
        stamp = entry.get("modified") or ""
        if re.match(r"\d{4}-\d{2}-\d{2}", str(stamp)):
            dates.append(str(stamp)[:10])
    date = max(dates) if dates else "onbekend"
    offline = bool(settings.offline) or cbs_reachable is False
    notice = index_notice = ""
    if cbs_reachable is False:
        rest = (
            "De cijfers komen uit de opgeslagen gegevens (cache of offline snapshot) met "
            f"gegevens tot {dutch_date(date)}; nieuwere CBS-cijfers kunnen ontbreken."
        )
        notice = f"Let op: CBS was niet bereikbaar toen dit rapport werd gemaakt. {rest}"
        index_notice = f"Let op: CBS was niet bereikbaar toen deze rapporten werden gemaakt. {rest}"
    return DataState(
        date=date,
        fingerprint=digest.hexdigest(),
        cbs_reachable=cbs_reachable,
        refreshed=list(refreshed),
        notice=notice,
        offline=offline,
        index_notice=index_notice,
    )


# ----------------------------------------------------------------------------------------------
# Jobs, keys, state
# ----------------------------------------------------------------------------------------------


def _job_id(report: str, code: str) -> str:
    return f"{code}/{report}"


def report_key(
    notebook: Path, parameters: Mapping[str, Any], data: DataState, notice: str, title: str
) -> str:
    """Return the input key of one report: sha256 of notebook, parameters, data, version."""
    digest = hashlib.sha256()
    digest.update(Path(notebook).read_bytes())
    payload = {
        "parameters": parameters,
        "data": data.fingerprint,
        "version": __version__,
        "notice": notice,
        "title": title,
    }
    digest.update(json.dumps(payload, sort_keys=True, default=str).encode("utf-8"))
    return digest.hexdigest()


def _build_parameters(
    spec: ManifestEntry, code: str, declared: Mapping[str, Any], data: DataState
) -> tuple[dict[str, Any], bool]:
    """Parameters for one municipality; and whether the notice must be put into the HTML."""
    params = dict(spec.parameters)
    params[MUNICIPALITY_PARAMETER] = code
    if DATE_PARAMETER in declared and DATE_PARAMETER not in params and data.date != "onbekend":
        params[DATE_PARAMETER] = data.date
    inject = False
    if data.notice:
        if NOTICE_PARAMETER in declared:
            params[NOTICE_PARAMETER] = data.notice
        else:
            inject = True
    return params, inject


def _read_state(out_dir: Path) -> dict[str, Any]:
    """Read the last good version of every report (``.batch-status.json``); damaged: none."""
    path = out_dir / STATE_FILE
    if not path.is_file():
        return {}
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
        reports = state.get("rapporten", {}) if isinstance(state, dict) else {}
        return {
            k: v
            for k, v in (reports if isinstance(reports, dict) else {}).items()
            if isinstance(v, dict) and isinstance(v.get("bestand"), str)
        }
    except (ValueError, OSError):  # damaged JSON, not UTF-8, unreadable
        log.warning("Batchstatus %s is onleesbaar; alle rapporten worden opnieuw gemaakt.", path)
        return {}


def _write_json(path: Path, payload: Any) -> None:
    from westerkwartier.pipeline.notebook import write_atomic

    write_atomic(path, json.dumps(payload, indent=2, ensure_ascii=False, sort_keys=False) + "\n")


def _link_or_copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.unlink(missing_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def switch_latest(out_dir: Path, run_name: str) -> Path:
    """Point ``<out_dir>/latest`` at ``run_name`` atomically (symlink + ``os.replace``).

    Readers see either the old or the new run, never a missing ``latest``.
    """
    link = Path(out_dir) / LATEST
    tmp = Path(out_dir) / f".{LATEST}.{os.getpid()}.tmp"
    tmp.unlink(missing_ok=True)
    os.symlink(run_name, tmp, target_is_directory=True)
    os.replace(tmp, link)
    return link


#: Seconds between two tries to take the folder lock while another batch holds it.
LOCK_POLL: float = 0.5


def _duration(seconds: float) -> str:
    """Say a waiting time in Dutch: ``45 s`` or ``30 min``."""
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


@contextlib.contextmanager
def _lock(
    out_dir: Path,
    timeout: float = 0.0,
    notify: Callable[[str], None] | None = None,
) -> Iterator[None]:
    """Hold the folder lock of ``out_dir``; wait up to ``timeout`` seconds for another batch.

    Parameters
    ----------
    out_dir : Path
        The output folder; the lock is ``out_dir/.batch.lock`` (``fcntl.flock``, released by
        the kernel when a process dies, so a killed run never leaves a stale lock).
    timeout : float
        Seconds to wait when another batch holds the lock; 0 fails at once.
    notify : callable, optional
        Called once with a Dutch line (``wacht op een andere batch…``) when this run has to wait.

    Raises
    ------
    OutputNotWritable
        The lock file cannot be created.
    BatchBusy
        The other batch still held the lock after ``timeout`` seconds.
    """
    from westerkwartier.sources.store import folder_lock

    def waiting() -> None:
        if notify is not None:
            notify(
                f"Er draait al een batch in {out_dir.name}/; wacht op een andere "
                f"batch… (hoogstens {_duration(timeout)})"
            )

    held = contextlib.ExitStack()
    try:  # only the wait for the lock may turn into BatchBusy, not errors of the run itself
        held.enter_context(
            folder_lock(out_dir, LOCK_FILE, timeout, poll=LOCK_POLL, on_wait=waiting)
        )
    except TimeoutError:
        raise BatchBusy(
            f"Er draait al een batch die in {out_dir} schrijft"
            + (f", al langer dan {timeout:.0f} seconden" if timeout > 0 else "")
            + ". Wacht tot die klaar is (of controleer met `ps` of er een oude run "
            "hangt); deze run heeft niets gemaakt."
        ) from None
    with held:
        yield


def _new_run_dir(out_dir: Path, now: dt.datetime) -> Path:
    name = now.strftime(RUN_NAME_FORMAT)
    for n in range(1, 100):
        candidate = out_dir / (name if n == 1 else f"{name}-{n}")
        try:
            candidate.mkdir(parents=True)
            return candidate
        except FileExistsError:
            continue
        except OSError as err:
            raise OutputNotWritable(out_dir, err) from err
    raise WesterkwartierError(f"Kan geen nieuwe runmap maken in {out_dir} ({name}).")


# ----------------------------------------------------------------------------------------------
# Worker side
# ----------------------------------------------------------------------------------------------


def _init_worker(
    env: Mapping[str, str],
    runtime_base: str,
    run: processes.Proc | None = None,
    mp_folder: str | None = None,
) -> None:
    """Set up a worker: settings from the parent, its own temporary folder, stop handling.

    Everything the worker and its kernels write to a temporary folder (executed notebooks,
    the kernels' connection files, ``JUPYTER_RUNTIME_DIR``) goes below ``runtime_base``, which
    the parent removes when the run ends, however it ends. Ctrl-C and SIGHUP reach the whole
    terminal's process group: the parent handles them. SIGTERM comes from the parent when
    the run stops: the worker kills its kernels and exits at once. When the run's process
    (``run``) ends without that (SIGKILL), the worker cleans up after it (:func:`_orphaned`);
    ``mp_folder`` is the folder of multiprocessing's fork server, the run's to remove.
    """
    os.environ.update(env)
    scratch = tempfile.mkdtemp(prefix=f"werker-{os.getpid()}-", dir=runtime_base)
    os.environ["TMPDIR"] = scratch
    os.environ["JUPYTER_RUNTIME_DIR"] = os.path.join(scratch, "jupyter")
    tempfile.tempdir = scratch
    os.environ.setdefault("MPLBACKEND", "agg")
    settings.cache_dir = Path(env["WESTERKWARTIER_CACHE_DIR"])
    settings.snapshot_dir = Path(env["WESTERKWARTIER_SNAPSHOT_DIR"])
    settings.offline = env.get("WESTERKWARTIER_OFFLINE") == "1"
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    signal.signal(signal.SIGHUP, signal.SIG_IGN)  # and a closed terminal
    signal.signal(signal.SIGTERM, _worker_stop)
    from multiprocessing.util import Finalize

    if kernels.open_session() is not None:  # one kernel for the worker's successive reports
        Finalize(kernels, kernels.close_session, exitpriority=10)
    if run is not None:
        processes.watch(run, lambda: _orphaned(scratch, runtime_base, mp_folder))


def _orphaned(scratch: str, runtime_base: str, mp_folder: str | None) -> None:
    """Clean up after the run's process, which ended without stopping this worker; exit.

    SIGKILL (the OOM killer, ``timeout -s KILL``, ``kill -9``) gives the run no chance to stop
    its workers or to remove its temporary folders, and a worker would otherwise wait for
    work for ever, with a kernel of some 450 MB. The worker kills its kernels, removes its own
    folder, then the run's (only once no other worker's is left in it, so the last worker out
    removes it) and the fork server's, and exits; the fork server and multiprocessing's
    resource tracker end by themselves once no worker is left. The reports finished before
    stay in the run folder; ``laatste-run.json`` keeps saying ``bezig`` for a run that was
    killed.
    """
    _kill_own_kernels()
    shutil.rmtree(scratch, ignore_errors=True)
    with contextlib.suppress(OSError):  # the last worker out finds only the run's lease
        if {entry.name for entry in os.scandir(runtime_base)} <= {processes.LEASE}:
            shutil.rmtree(runtime_base, ignore_errors=True)
    if mp_folder:
        shutil.rmtree(mp_folder, ignore_errors=True)
    os._exit(1)


def _worker_stop(signum: int, frame: Any) -> None:
    """SIGTERM in a worker: kill its kernels (and their children) now, then exit."""
    _kill_own_kernels()
    os._exit(128 + signum)


def _kill_own_kernels() -> None:
    """Kill this worker's kernels (and their children) now and remove the kernel's sockets."""
    processes.kill_now(processes.descendants(os.getpid()))
    session = kernels.current()
    if session is not None:  # its sockets may be outside the run's folder (kernel_folder)
        session.remove_folder()


def _run_in_worker(job: ReportJob) -> dict[str, Any]:
    """Run one job in a worker; the exception object stays behind (it may not pickle)."""
    result = run_job(job)
    result.pop("error", None)
    return result


# ----------------------------------------------------------------------------------------------
# Progress
# ----------------------------------------------------------------------------------------------


class _Progress:
    """A tqdm bar on a terminal, plain log lines otherwise (cron, CI, pipes)."""

    def __init__(self, total: int, mode: str, stream: Any = None) -> None:
        self.stream = sys.stderr if stream is None else stream
        self.total = total
        self.done = 0
        if mode == "auto":
            tty = bool(getattr(self.stream, "isatty", lambda: False)())
            mode = "balk" if tty and settings.progress else "regels"
        self.mode = mode
        self.bar = None
        if mode == "balk":
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="rapport", desc="rapporten", file=self.stream)

    def set_total(self, total: int) -> None:
        """Set the number of reports once the run knows it."""
        self.total = total
        if self.bar is not None:
            self.bar.total = total
            self.bar.refresh()

    def line(self, text: str) -> None:
        if self.bar is not None:
            self.bar.write(text, file=self.stream)
        elif self.mode == "regels":
            print(text, file=self.stream, flush=True)

    def notice(self, text: str) -> None:
        """Show a line in every mode, also ``uit`` (e.g. that the run waits for another)."""
        if self.mode in {"balk", "regels"}:
            self.line(text)
        else:
            print(text, file=self.stream, flush=True)

    def step(self, entry: Mapping[str, Any]) -> None:
        self.done += 1
        duur = f"{entry.get('duur_s', 0):.1f}".replace(".", ",")
        text = (
            f"[{self.done}/{self.total}] {entry['gemeente']} {entry['rapport']}: "
            f"{entry['status']} ({duur} s)"
        )
        if entry.get("fout"):
            text += f" – {entry['fout'].splitlines()[0]}"
        if self.bar is not None:
            self.bar.update(1)
            if entry["status"] in {"mislukt", "afgebroken"}:
                self.bar.write(text, file=self.stream)
        else:
            self.line(text)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


# ----------------------------------------------------------------------------------------------
# The run
# ----------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Options:
    """The settings of one run: the manifest's, overridden by the caller's."""

    out_dir: Path
    workers: int
    report_timeout: float
    run_timeout: float
    policy: str
    dask: str | None = None

    @classmethod
    def resolve(
        cls,
        manifest: Manifest,
        out_dir: Path | None,
        workers: int | None,
        report_timeout: float | None,
        run_timeout: float | None,
        policy: str | None,
        dask: str | None = None,
    ) -> _Options:
        """Fill in the manifest's values for what the caller left out; check every value.

        Raises
        ------
        InputError
            An unknown policy, or a number of workers or a time limit that is not a finite
            number above 0 (``0``, ``-5``, ``nan``: the run would never start or never stop).
        """
        policy = policy or manifest.policy
        if policy not in POLICIES:
            raise InputError(f"Onbekend publicatiebeleid {policy!r}; kies {' of '.join(POLICIES)}.")
        chosen = {
            "workers": manifest.workers if workers is None else workers,
            "tijdslimiet_rapport": (
                manifest.report_timeout if report_timeout is None else report_timeout
            ),
            "tijdslimiet_run": manifest.run_timeout if run_timeout is None else run_timeout,
        }
        for key, value in chosen.items():
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            if not (ok and math.isfinite(value) and value > 0) or (
                key == "workers" and int(value) != value
            ):
                kind = "een geheel getal" if key == "workers" else "een aantal seconden"
                raise InputError(
                    f"{key.replace('_', '-')} moet {kind} groter dan 0 zijn, niet {value!r}."
                )
        return cls(
            out_dir=Path(out_dir or manifest.out_dir).resolve(),
            workers=int(chosen["workers"]),
            report_timeout=float(chosen["tijdslimiet_rapport"]),
            run_timeout=float(chosen["tijdslimiet_run"]),
            policy=policy,
            dask=(dask or "").strip() or None,
        )


@dataclasses.dataclass
class _Run:
    """One run while it is made: its folder, clock, data, reports and the last good ones."""

    out_dir: Path
    run_dir: Path
    now: dt.datetime
    started: float
    deadline: float
    data: DataState
    state: dict[str, Any]
    entries: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    summary: dict[str, Any] | None = None

    @property
    def name(self) -> str:
        """The run folder's name (``2026-11-27T0830``)."""
        return self.run_dir.name

    def previous(self, report: str, code: str) -> tuple[dict[str, Any], Path] | None:
        """Return the last good version of a report (state and file) if its file still exists."""
        previous = self.state.get(_job_id(report, code))
        if not previous:
            return None
        path = self.out_dir / previous["bestand"]
        return (previous, path) if path.is_file() else None


#: Bytes that must be free in the output folder before a run starts.
MIN_FREE_BYTES: int = 16 * 2**20


def check_run(
    manifest: Manifest,
    *,
    out_dir: Path | None = None,
    workers: int | None = None,
    report_timeout: float | None = None,
    run_timeout: float | None = None,
    policy: str | None = None,
    dask: str | None = None,
) -> _Options:
    """Check everything a run would refuse, before anything is written or started.

    ``westerkwartier batch --controleer`` runs exactly this, and so does every run before it
    takes the folder lock, so the check and the run give the same verdict. Besides what
    :func:`~westerkwartier.pipeline.manifest.load_manifest` checked (keys, names, titles,
    notebooks and their parameters):

    * the run settings (workers and time limits above 0, a known policy);
    * the values of ``jaar``, ``vergelijk`` and ``peildatum``, with the reports' own rules
      (:func:`~westerkwartier.pipeline.manifest.check_values`);
    * the output folder (:func:`check_output_dir`): no file in the way, writable, ``latest`` a
      link, enough free space;
    * every snapshot file a report reads, with checksums
      (:func:`westerkwartier.pipeline.render.check_snapshot`).

    Returns
    -------
    _Options
        The resolved run settings.

    Raises
    ------
    ManifestError, InputError
        Bad settings or values (exit code 3), with line numbers where they come from the file.
    OutputNotWritable
        The output folder cannot be used (exit code 3).
    SnapshotMissing, DataIntegrityError
        A snapshot file is missing (4) or damaged (5).
    """
    from westerkwartier.pipeline.manifest import check_values
    from westerkwartier.pipeline.render import check_snapshot

    options = _Options.resolve(
        manifest, out_dir, workers, report_timeout, run_timeout, policy, dask
    )
    if options.dask:
        from westerkwartier.pipeline.dask_cluster import require_dask

        require_dask()
    check_snapshot()
    check_values(manifest, data_state().date)
    check_output_dir(options.out_dir)
    return options


def check_output_dir(out_dir: Path) -> None:
    """Check that a batch can write into ``out_dir``, without writing anything.

    Raises
    ------
    OutputNotWritable
        A file lies where a folder must be (``out_dir`` or a folder above it), the folder may
        not be written, ``latest`` is a real folder or file instead of the link the batch
        manages, a file of the batch is a folder, or the disk has less than
        :data:`MIN_FREE_BYTES` free.
    """
    import errno

    out_dir = Path(out_dir)
    existing = out_dir
    while not existing.exists():
        if existing.is_symlink():  # a dangling link where the folder should be
            raise OutputNotWritable(existing, OSError(errno.ENOENT, "link naar niets"))
        existing = existing.parent
    if not existing.is_dir():
        raise OutputNotWritable(out_dir, OSError(errno.ENOTDIR, "geen map"))
    if not os.access(existing, os.W_OK | os.X_OK):
        raise OutputNotWritable(out_dir, OSError(errno.EACCES, "geen schrijfrechten"))
    latest = out_dir / LATEST
    if latest.exists() and not latest.is_symlink():
        kind = "map" if latest.is_dir() else "bestand"
        raise InputError(
            f"{latest} is een gewoon {kind}, geen link. De batch beheert '{LATEST}' zelf als "
            f"link naar de nieuwste goede run. Hernoem het (mv {latest} {latest}-oud) en "
            "start de batch opnieuw."
        )
    for name, folder in ((FAILED_DIR, True), (LAST_RUN_FILE, False), (STATE_FILE, False)):
        path = out_dir / name
        if path.exists() and path.is_dir() != folder:
            want = "map" if folder else "bestand"
            raise InputError(
                f"{path} moet een {want} zijn, maar is het niet. De batch schrijft daar zelf; "
                f"hernoem of verwijder het en start de batch opnieuw."
            )
    free = shutil.disk_usage(existing).free
    if free < MIN_FREE_BYTES:
        raise OutputNotWritable(
            out_dir, OSError(errno.ENOSPC, f"nog {free // 2**20} MB vrij", str(out_dir))
        )


def run_batch(
    manifest: Manifest,
    *,
    out_dir: Path | None = None,
    workers: int | None = None,
    force: bool = False,
    scheduled: bool = False,
    clock: Callable[[], dt.datetime] | None = None,
    report_timeout: float | None = None,
    run_timeout: float | None = None,
    policy: str | None = None,
    progress: str = "auto",
    stream: Any = None,
    stagger: float = 0.5,
    refresh: Callable[[], tuple[bool, list[str]]] | None = None,
    dask: str | None = None,
) -> dict[str, Any]:
    """Render every report of a manifest into a new dated run folder and publish it safely.

    The steps: check everything first (:func:`check_run`), wait for the folder lock, refresh
    the data when scheduled and open a run folder (:func:`_start_run`, which records the run
    as ``bezig`` in ``laatste-run.json``), reuse unchanged reports and plan the others
    (:func:`_plan`), run them in the worker pool (:func:`_execute`), keep the last good
    version of a failed report (:func:`_keep_last_good`), then write index, summary and state
    and move ``latest`` (:func:`_publish`).

    A stop signal (SIGTERM, Ctrl-C, SIGHUP) stops the workers and their kernels within
    seconds; the reports that were finished are kept and remembered (the next run reuses
    them), the others are marked ``onderbroken``, index, summary and state are written and
    ``latest`` stays where it was; then :class:`~westerkwartier.pipeline.processes.RunStopped`
    is raised. A full disk stops the run the same way and raises ``OutputNotWritable``. Any
    failure of the run itself is recorded in ``laatste-run.json`` (status ``fout``).

    Parameters
    ----------
    manifest : Manifest
        From :func:`westerkwartier.pipeline.manifest.load_manifest` (possibly narrowed with
        ``with_selection`` / ``only``).
    out_dir : Path, optional
        Folder of the runs; default the manifest's (``reports``).
    workers : int, optional
        Worker processes; default the manifest's. One kernel per worker at a time.
    force : bool
        Render every report, also those whose inputs did not change.
    scheduled : bool
        Refresh the CBS cache first (see :func:`refresh_data`); when CBS is unreachable, go on
        offline and put a notice with the data date in every report. Without it (and not
        offline) CBS is checked once (:func:`check_cbs_once`) with the same consequence.
    clock : callable, optional
        Returns the run's date and time (default ``datetime.now``); the run folder is named
        after it (``2026-11-27T0830``). Tests pass a fixed clock.
    report_timeout, run_timeout : float, optional
        Seconds per report and for the whole run; default the manifest's.
    policy : str, optional
        ``per-rapport`` or ``alles-of-niets`` (see :data:`POLICIES`); default the manifest's.
    progress : {"auto", "balk", "regels", "uit"}
        Progress bar (terminal), plain lines, or nothing; ``auto`` picks the bar on a terminal.
    stream : file, optional
        Where progress goes (default stderr).
    stagger : float, default 0.5
        Seconds between the first kernel starts of the workers.
    refresh : callable, optional
        Replaces :func:`refresh_data` (tests).
    dask : str, optional
        Address of a Dask scheduler (``tcp://host:8786``): the reports are made by its
        workers instead of local processes (:mod:`westerkwartier.pipeline.dask_cluster`);
        ``workers`` is then not used.

    Returns
    -------
    dict
        The run summary, also written to ``<run>/samenvatting.json`` and
        ``<out_dir>/laatste-run.json``: ``run``, ``map``, ``status`` (see
        :data:`RUN_STATUSES`), ``exitcode``, ``geslaagd``, ``latest_bijgewerkt``,
        ``aantallen``, ``gegevens`` and per report ``rapport``, ``gemeente``, ``status`` (see
        :data:`STATUSES`), ``duur_s``, ``gegevensdatum``, ``peiljaar``, ``uitvoer``
        (relative to the run folder; None when nothing is published), ``fout``,
        ``vorige_versie``, ``sleutel``. Every path in it is relative to the output folder.

    Raises
    ------
    ManifestError, InputError, OutputNotWritable, SnapshotMissing, DataIntegrityError
        From :func:`check_run`: nothing was written or started.
    BatchBusy
        Another run kept writing into the same folder for longer than ``run_timeout`` (this
        run waits for it first, with a line ``wacht op een andere batch…``).
    RunStopped
        A stop signal; exit code 128 + the signal number.
    OutputNotWritable
        The disk filled up during the run.
    """
    options = check_run(
        manifest,
        out_dir=out_dir,
        workers=workers,
        report_timeout=report_timeout,
        run_timeout=run_timeout,
        policy=policy,
        dask=dask,
    )
    bar = _Progress(0, progress, stream)
    with processes.stop_signals() as stop:
        try:
            # overlapping runs (cron) wait for each other; the clock starts once this run may
            # write
            with _lock(options.out_dir, timeout=options.run_timeout, notify=bar.notice):
                return _run(manifest, options, bar, stop, clock, scheduled, refresh, force, stagger)
        except processes.Stopped as err:
            bar.close()
            raise processes.RunStopped(
                err.signum, f"Gestopt door {err.name} voordat de run begon; er is niets gemaakt."
            ) from None


def _run(
    manifest: Manifest,
    options: _Options,
    bar: _Progress,
    stop: processes.StopState,
    clock: Callable[[], dt.datetime] | None,
    scheduled: bool,
    refresh: Callable[[], tuple[bool, list[str]]] | None,
    force: bool,
    stagger: float,
) -> dict[str, Any]:
    """Make the run once the folder lock is held (see :func:`run_batch`)."""
    run = _start_run(
        options,
        clock or dt.datetime.now,
        (refresh or refresh_data) if scheduled else None,
        bar,
    )
    try:
        jobs = _plan(manifest, run, options, force=force, stagger=stagger)
        _execute(jobs, run.entries, options, run, bar, stop)
        _keep_last_good(run.entries, run)
        return _publish(manifest, run.entries, run, options)
    except processes.Stopped as err:
        if run.summary is not None:  # the signal came after the run was complete
            return run.summary
        _finish_stopped(manifest, run, options, err, bar)
        raise AssertionError("unreachable") from None  # pragma: no cover
    except BaseException as err:
        _finish_failed(manifest, run, options, err, bar)
        raise


def _start_run(
    options: _Options,
    clock: Callable[[], dt.datetime],
    refresh: Callable[[], tuple[bool, list[str]]] | None,
    bar: _Progress,
) -> _Run:
    """Start the clock, refresh the data (scheduled runs) and make the run folder.

    The run is recorded as ``bezig`` in ``laatste-run.json`` at once, so that a run that is
    killed (SIGKILL, power loss) is not mistaken for the previous one.
    """
    started = time.time()
    now = clock()
    reachable: bool | None = None
    refreshed: list[str] = []
    if refresh is not None:
        bar.line("Gegevens vernieuwen bij CBS ...")
        reachable, refreshed = refresh()
    elif not settings.offline:
        reachable = check_cbs_once()
    data = data_state(reachable, refreshed)
    if data.notice:
        bar.line(data.notice)
    run = _Run(
        out_dir=options.out_dir,
        run_dir=_new_run_dir(options.out_dir, now),
        now=now,
        started=started,
        deadline=started + options.run_timeout,
        data=data,
        state=_read_state(options.out_dir),
    )
    _write_json(
        run.out_dir / LAST_RUN_FILE,
        {
            "formaat": 1,
            "run": run.name,
            "map": run.name,
            "status": "bezig",
            "gestart": now.isoformat(timespec="seconds"),
            "proces": os.getpid(),
            "pakketversie": __version__,
        },
    )
    return run


def _plan(
    manifest: Manifest, run: _Run, options: _Options, *, force: bool, stagger: float
) -> list[ReportJob]:
    """Make a summary entry per report (in ``run.entries``); link unchanged ones, return jobs."""
    from westerkwartier.pipeline.notebook import notebook_parameters

    jobs: list[ReportJob] = []
    declared: dict[Path, Any] = {}
    for spec, code in manifest.jobs():
        if spec.notebook not in declared:
            declared[spec.notebook] = notebook_parameters(spec.notebook)
        name = manifest.names.get(code, code)
        params, inject = _build_parameters(spec, code, declared[spec.notebook], run.data)
        title = spec.title.format(gemeente=name, code=code)
        entry = _new_entry(spec, code, name, params, title, run)
        run.entries.append(entry)
        if not force and _reuse(entry, run):
            continue
        jobs.append(
            ReportJob(
                index=len(run.entries) - 1,
                report=spec.name,
                code=code,
                name=name,
                notebook=str(spec.notebook),
                output=str(run.run_dir / _relative(entry)),
                title=title,
                parameters=params,
                failed_dir=str(options.out_dir / FAILED_DIR / run.name / code),
                key=entry["sleutel"],
                notice=run.data.notice,
                notice_injected=inject,
                cell_timeout=manifest.cell_timeout,
                timeout=options.report_timeout,
                deadline=run.deadline,
                stagger=(len(jobs) * stagger) if len(jobs) < options.workers else 0.0,
            )
        )
    return jobs


def _new_entry(
    spec: ManifestEntry, code: str, name: str, params: dict[str, Any], title: str, run: _Run
) -> dict[str, Any]:
    """Return the summary entry of one report before it runs."""
    return {
        "rapport": spec.name,
        "label": spec.label,
        "gemeente": code,
        "gemeentenaam": name,
        "notebook": public_path(spec.notebook, run.out_dir),
        "parameters": params,
        "status": None,
        "duur_s": 0.0,
        "gegevensdatum": run.data.date,
        "peiljaar": params.get("jaar") or None,
        "gemaakt_op": run.now.isoformat(timespec="minutes"),
        "uitvoer": None,
        "fout": None,
        "vorige_versie": None,
        "sleutel": report_key(spec.notebook, params, run.data, run.data.notice, title),
    }


def _relative(entry: Mapping[str, Any]) -> str:
    """Return the path of a report inside its run folder: ``<GMcode>/<rapport>.html``."""
    return f"{entry['gemeente']}/{entry['rapport']}.html"


def _reuse(entry: dict[str, Any], run: _Run) -> bool:
    """Link the last good version into the run when its inputs did not change."""
    found = run.previous(entry["rapport"], entry["gemeente"])
    if found is None or found[0].get("sleutel") != entry["sleutel"]:
        return False
    previous, path = found
    _link_or_copy(path, run.run_dir / _relative(entry))
    entry.update(
        status="hergebruikt",
        uitvoer=_relative(entry),
        gemaakt_op=previous.get("gemaakt_op", entry["gemaakt_op"]),
        gegevensdatum=previous.get("gegevensdatum", run.data.date),
        peiljaar=previous.get("peiljaar", entry["peiljaar"]),
        vorige_versie=previous["bestand"],
    )
    return True


def _execute(
    jobs: list[ReportJob],
    entries: list[dict[str, Any]],
    options: _Options,
    run: _Run,
    bar: _Progress,
    stop: processes.StopState | None = None,
) -> None:
    """Show the reused reports, run the jobs in the pool and close the progress display."""
    bar.set_total(len(entries))
    for entry in entries:
        if entry["status"] == "hergebruikt":
            bar.step(entry)
    if jobs:
        where = (
            f"op het Dask-cluster {options.dask}"
            if options.dask
            else f"met {min(options.workers, len(jobs))} werker(s)"
        )
        bar.line(f"{len(jobs)} rapport(en) maken {where}; {len(entries) - len(jobs)} ongewijzigd.")
        _run_jobs(jobs, run, options, bar, stop or processes.StopState())
    bar.close()


def _keep_last_good(entries: list[dict[str, Any]], run: _Run) -> None:
    """Link the last good version of each report not made into the run (never a broken one).

    The state then points at this copy (see :func:`_remember_good`): the newest copy of a
    report is always the one remembered, so removing old runs never loses it.
    """
    for entry in entries:
        if entry["status"] not in NOT_MADE or entry.get("uitvoer"):
            continue
        found = run.previous(entry["rapport"], entry["gemeente"])
        if found is None:
            continue
        previous, path = found
        _link_or_copy(path, run.run_dir / _relative(entry))
        entry.update(
            uitvoer=_relative(entry),
            vorige_versie=previous["bestand"],
            gemaakt_op=previous.get("gemaakt_op"),
            gegevensdatum=previous.get("gegevensdatum"),
            peiljaar=previous.get("peiljaar", entry["peiljaar"]),
        )


def _publish(
    manifest: Manifest,
    entries: list[dict[str, Any]],
    run: _Run,
    options: _Options,
    *,
    stopped: processes.Stopped | None = None,
    failure: BaseException | None = None,
) -> dict[str, Any]:
    """Write the run's index and summary, remember the good reports, move ``latest``.

    A stopped or failed run writes the same files but never moves ``latest``.
    """
    from westerkwartier.pipeline.index_page import write_index

    counts = {status: sum(e["status"] == status for e in entries) for status in STATUSES}
    good = counts["gemaakt"] + counts["hergebruikt"]
    all_good = good == len(entries) and stopped is None and failure is None
    publish = all_good if options.policy == "alles-of-niets" else good > 0
    publish = publish and stopped is None and failure is None
    write_index(
        [_index_entry(e) for e in entries if e["uitvoer"]],
        run.run_dir / "index.html",
        title=manifest.title,
        notice=run.data.index_notice,
    )
    summary = _summary(
        manifest, entries, run, options, counts, all_good, publish, stopped=stopped, failure=failure
    )
    _write_json(run.run_dir / SUMMARY_FILE, summary)
    _remember_good(entries, run)
    if publish:
        switch_latest(run.out_dir, run.name)
    _write_json(run.out_dir / LAST_RUN_FILE, summary)
    if stopped is None and failure is None:
        run.summary = summary
    return summary


def _finish_stopped(
    manifest: Manifest,
    run: _Run,
    options: _Options,
    err: processes.Stopped,
    bar: _Progress,
) -> None:
    """After a stop signal: keep what finished, write summary and state; raise RunStopped."""
    bar.close()
    for entry in run.entries:
        if entry["status"] is None:
            entry.update(
                status="onderbroken",
                fout=f"niet af: de run werd gestopt door {err.name}",
            )
    _keep_last_good(run.entries, run)
    summary = _publish(manifest, run.entries, run, options, stopped=err)
    raise processes.RunStopped(err.signum, describe(summary, run.out_dir), summary) from None


def _finish_failed(
    manifest: Manifest,
    run: _Run,
    options: _Options,
    err: BaseException,
    bar: _Progress,
) -> None:
    """After a failure of the run itself: record it (best effort), turn OS errors into ours.

    ``laatste-run.json`` gets status ``fout`` with the reason; a full disk or another
    operating-system error on the output folder is raised as ``OutputNotWritable``.
    """
    from westerkwartier.pipeline.jobs import disk_full

    bar.close()
    if isinstance(err, OSError) and not isinstance(err, WesterkwartierError):
        replacement: BaseException = OutputNotWritable(getattr(err, "filename", None) or "", err)
    else:
        replacement = err
    reason = public_text(str(replacement) or type(replacement).__name__, run.out_dir)
    for entry in run.entries:
        if entry["status"] is None:
            entry.update(status="onderbroken", fout=f"niet af: {reason}")
    try:
        _keep_last_good(run.entries, run)
        _publish(manifest, run.entries, run, options, failure=replacement)
    except Exception as second:  # noqa: BLE001 - e.g. the disk is still full: say it anyway
        log.warning("Samenvatting van de mislukte run niet geschreven: %s", second)
        with contextlib.suppress(OSError, WesterkwartierError):
            _write_json(
                run.out_dir / LAST_RUN_FILE,
                {
                    "formaat": 1,
                    "run": run.name,
                    "map": run.name,
                    "status": "fout",
                    "exitcode": getattr(replacement, "exit_code", 1),
                    "fout": reason,
                    "gestart": run.now.isoformat(timespec="seconds"),
                    "schijf_vol": bool(disk_full(err)),
                },
            )
    if replacement is not err:
        raise replacement from err


def _index_entry(entry: Mapping[str, Any]) -> Any:
    """Return the index line of a published report."""
    from westerkwartier.pipeline.index_page import IndexEntry

    return IndexEntry(
        municipality=f"{entry['gemeentenaam']} ({entry['gemeente']})",
        report=entry["label"],
        reference_year=entry.get("peiljaar") or "meest recente",
        data_date=_as_date(entry["gegevensdatum"]),
        generated=_as_date(entry["gemaakt_op"]),
        href=entry["uitvoer"],
    )


def _summary(
    manifest: Manifest,
    entries: list[dict[str, Any]],
    run: _Run,
    options: _Options,
    counts: Mapping[str, int],
    all_good: bool,
    publish: bool,
    *,
    stopped: processes.Stopped | None = None,
    failure: BaseException | None = None,
) -> dict[str, Any]:
    """Return the machine-readable account of the run (``samenvatting.json``).

    Every path in it is relative to the output folder (see :func:`public_path`), and error
    texts are cleaned of absolute paths (:func:`public_text`): the summary is published.
    """
    data = run.data
    if stopped is not None:
        status, code = "gestopt", 128 + stopped.signum
    elif failure is not None:
        status, code = "fout", int(getattr(failure, "exit_code", 1))
    else:
        status = "geslaagd" if all_good else "met fouten"
        code = 0 if all_good else ReportFailed.exit_code
    summary: dict[str, Any] = {
        "formaat": 1,
        "run": run.name,
        "map": run.name,
        "status": status,
        "exitcode": code,
        "manifest": public_path(manifest.path, run.out_dir) if manifest.path else None,
        "gestart": run.now.isoformat(timespec="seconds"),
        "duur_s": round(time.time() - run.started, 2),
        "werkers": options.workers,
        **({"dask": options.dask} if options.dask else {}),
        "publicatiebeleid": options.policy,
        "geslaagd": all_good,
        "latest_bijgewerkt": publish,
        "pakketversie": __version__,
        "gegevens": {
            "datum": data.date,
            "cbs_bereikbaar": data.cbs_reachable,
            "vernieuwd": data.refreshed,
            "offline": data.offline,
            "melding": data.notice,
            "vingerafdruk": data.fingerprint,
        },
        "aantallen": dict(counts),
        "mislukt": [
            {
                "rapport": e["rapport"],
                "gemeente": e["gemeente"],
                "fout": public_text(e["fout"] or "", run.out_dir),
            }
            for e in entries
            if e["status"] in {"mislukt", "afgebroken"}
        ],
        "rapporten": [_public_entry(e, run.out_dir) for e in entries],
    }
    if stopped is not None:
        summary["gestopt_door"] = processes.SIGNAL_NAMES.get(stopped.signum, str(stopped.signum))
    if failure is not None:
        summary["fout"] = public_text(str(failure) or type(failure).__name__, run.out_dir)
    return summary


def _public_entry(entry: Mapping[str, Any], out_dir: Path) -> dict[str, Any]:
    """Return a summary entry with paths relative to the output folder, texts cleaned."""
    public = dict(entry)
    if public.get("fout"):
        public["fout"] = public_text(public["fout"], out_dir)
    if public.get("mislukt_notebook"):
        public["mislukt_notebook"] = public_path(Path(public["mislukt_notebook"]), out_dir)
    public["parameters"] = {
        key: public_text(value, out_dir) if isinstance(value, str) else value
        for key, value in dict(entry.get("parameters") or {}).items()
    }
    return public


def public_path(path: Path | str, out_dir: Path) -> str:
    """Say where a file is without revealing the machine: relative to the output folder.

    Inside the output folder: relative to it (``_failed/2026-11-27T0830/GM1969/talent.ipynb``);
    inside the project: relative to the project (``notebooks/talent.ipynb``); elsewhere: only
    the file name.

    Examples
    --------
    >>> public_path("/srv/rapporten/_failed/x/talent.ipynb", Path("/srv/rapporten"))
    '_failed/x/talent.ipynb'
    >>> public_path("/srv/elders/mijn.ipynb", Path("/srv/rapporten"))
    'mijn.ipynb'
    """
    path = Path(path)
    for base in (Path(out_dir), settings.project_dir):
        for candidate, root in ((path, base), (path.resolve(), Path(base).resolve())):
            with contextlib.suppress(ValueError):
                return candidate.relative_to(root).as_posix()
    return path.name


#: An absolute path in a text: ``/`` after a space, quote or bracket, at least one folder.
_ABSOLUTE_PATH = re.compile(
    r"""(?<![\w.~:/-])/(?:[^\s/'"`<>|;,()\[\]{}]+/)+([^\s/'"`<>|;,()\[\]{}]*)"""
)


def public_text(text: str, out_dir: Path) -> str:
    """Remove what is private from a message before it is published.

    Paths in the output folder become relative to it, paths in the project relative to the
    project, any other absolute path its last part; the host name becomes ``<host>``.

    Examples
    --------
    >>> public_text("staat in /srv/r/_failed/a/t.ipynb; zie /srv/elders/x.csv", Path("/srv/r"))
    'staat in _failed/a/t.ipynb; zie x.csv'
    """
    if not text:
        return text
    for base in (Path(out_dir), Path(out_dir).resolve(), settings.project_dir):
        text = text.replace(f"{base}/", "").replace(str(base), ".")
    text = _ABSOLUTE_PATH.sub(lambda m: m.group(1) or "…", text)
    host = socket.gethostname()
    if len(host) >= 4:
        text = re.sub(rf"(?<![\w-]){re.escape(host)}(?![\w-])", "<host>", text)
    return text


def _remember_good(entries: list[dict[str, Any]], run: _Run) -> None:
    """Record the newest copy of every good report (for reuse, carry-over and clean-up).

    A report made or reused in this run points at this run; a report that was not made but
    whose last good version was carried into this run points at that copy here, so the state
    always names the newest copy and older runs can be removed.
    """
    for entry in entries:
        key = _job_id(entry["rapport"], entry["gemeente"])
        if entry["status"] in {"gemaakt", "hergebruikt"}:
            run.state[key] = {
                "sleutel": entry["sleutel"],
                "bestand": f"{run.name}/{entry['uitvoer']}",
                "gemaakt_op": entry["gemaakt_op"],
                "gegevensdatum": entry["gegevensdatum"],
                "peiljaar": entry["peiljaar"],
            }
        elif entry.get("uitvoer") and key in run.state:  # carried over: the copy in this run
            run.state[key] = {**run.state[key], "bestand": f"{run.name}/{entry['uitvoer']}"}
    _write_json(run.out_dir / STATE_FILE, {"formaat": 1, "rapporten": run.state})


def _as_date(value: Any) -> dt.date | str:
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            return dt.date.fromisoformat(value[:10])
    return "onbekend" if value is None else value


#: Modules the fork server imports once, so that every worker starts without import time.
_PRELOAD = [
    "westerkwartier.pipeline.batch",
    "westerkwartier.pipeline.jobs",
    "westerkwartier.pipeline.notebook",
    "papermill",
    "nbconvert",
    "nbclient",
]


def _mp_context() -> multiprocessing.context.BaseContext:
    """Return a ``forkserver`` context (clean parent, imports paid once), else ``spawn``.

    ``fork`` from a process with threads or ZeroMQ contexts (a previous kernel run) is unsafe.
    """
    try:
        ctx = multiprocessing.get_context("forkserver")
    except ValueError:  # pragma: no cover - platforms without fork server
        return multiprocessing.get_context("spawn")
    ctx.set_forkserver_preload(_PRELOAD)
    return ctx


def _start_helpers(ctx: multiprocessing.context.BaseContext) -> None:
    """Start multiprocessing's helper processes with SIGHUP ignored.

    The fork server and the resource tracker share the terminal's process group with this
    process. They ignore Ctrl-C by themselves, but a closed terminal (SIGHUP to the whole
    group) would kill them while this process is still stopping the run, and the relaunched
    tracker then prints tracebacks. An ignored signal stays ignored across ``exec``, so they
    are started while SIGHUP is ignored; this process's own handler is put back at once.
    """
    from multiprocessing import resource_tracker

    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        resource_tracker.ensure_running()
        if ctx.get_start_method() == "forkserver":
            from multiprocessing import forkserver

            forkserver.ensure_running()
    finally:
        if previous is not None:
            signal.signal(signal.SIGHUP, previous)


def _pool_tree(pool: cf.ProcessPoolExecutor | None) -> list[processes.Proc]:
    """Return the workers of a pool and everything below them (kernels), workers first."""
    if pool is None:
        return []
    pids = list(getattr(pool, "_processes", None) or {})
    table = processes._proc_table()  # noqa: SLF001 - one read for both lists
    return [table[p] for p in pids if p in table] + processes.descendants(pids, table)


def _stop_pool(pool: cf.ProcessPoolExecutor | None, grace: float = 3.0) -> None:
    """Stop the workers and their kernels within seconds.

    The kernels (and whatever they started) are killed at once: their reports are abandoned.
    The workers get SIGTERM (they kill a kernel started meanwhile and exit), then SIGKILL
    after ``grace`` seconds.

    The pool's manager thread is waited for (at most 5 s) before this returns. Left running,
    it closes its wake-up pipe while the interpreter's exit writes to it (a race in
    :mod:`concurrent.futures` of Python 3.11), and a stopped run ends with a traceback.
    ``shutdown(wait=False)`` forgets the thread, so it is taken before.
    """
    tree = _pool_tree(pool)
    workers = set(getattr(pool, "_processes", None) or {})
    processes.kill_now([p for p in tree if p.pid not in workers])
    left = processes.terminate(tree, grace=grace)
    if left:
        log.warning("%d proces(sen) van de run bleven over na SIGKILL.", len(left))
    if pool is not None:
        thread = getattr(pool, "_executor_manager_thread", None)
        pool.shutdown(wait=False, cancel_futures=True)
        if thread is not None:
            thread.join(timeout=5)
            if thread.is_alive():  # pragma: no cover - the workers are gone; it ends at once
                log.warning("De beheerthread van de werkers stopte niet binnen 5 s.")


def _run_jobs(
    jobs: list[ReportJob],
    run: _Run,
    options: _Options,
    bar: _Progress,
    stop: processes.StopState,
) -> None:
    """Run the jobs on a Dask cluster when an address is given, else in a local process pool."""
    if options.dask:
        _run_jobs_dask(jobs, run, options, bar, stop)
    else:
        _run_jobs_local(jobs, run, options, bar, stop)


def _run_jobs_local(
    jobs: list[ReportJob],
    run: _Run,
    options: _Options,
    bar: _Progress,
    stop: processes.StopState,
) -> None:
    """Run the jobs in a process pool; fill in their entries; respect the run deadline.

    A stop signal (raised here as :class:`~westerkwartier.pipeline.processes.Stopped`) or a
    full disk stops the pool at once; the results that came in are kept. The workers'
    temporary folder (kernel connection files, executed notebooks) is removed however the
    pool ends.
    """
    processes.sweep()  # what killed runs left, before this one adds its own
    runtime_base = str(processes.leased_folder(f"wk-batch-{os.getpid()}-"))
    futures: dict[cf.Future[dict[str, Any]], ReportJob] = {}
    pending: set[cf.Future[dict[str, Any]]] = set()
    pool: cf.ProcessPoolExecutor | None = None
    full: OutputNotWritable | None = None
    hurried = False

    def hurry() -> None:  # a second stop signal: no more waiting
        nonlocal hurried
        hurried = True
        processes.kill_now(_pool_tree(pool))

    def kernels_first() -> None:  # before the stop unwinds anything: no kernel tracebacks
        workers = set(getattr(pool, "_processes", None) or {})
        processes.kill_now([p for p in _pool_tree(pool) if p.pid not in workers])

    stop.on_stop.append(kernels_first)
    stop.on_repeat.append(hurry)
    try:
        context = _mp_context()
        _start_helpers(context)
        # the fork server's socket lies in multiprocessing's folder of this process
        forkserver = context.get_start_method() == "forkserver"
        pool = cf.ProcessPoolExecutor(
            max_workers=min(options.workers, len(jobs)),
            mp_context=context,
            initializer=_init_worker,
            initargs=(
                kernel_env(run.data.offline) | cbs_outcome_env(run.data),
                runtime_base,
                processes.current(),
                multiprocessing.util.get_temp_dir() if forkserver else None,
            ),
        )
        futures = {pool.submit(_run_in_worker, job): job for job in jobs}
        pending = set(futures)
        while pending and full is None:
            # the workers stop their own report at the deadline; allow them time to clean up
            remaining = run.deadline - time.time() + 30
            if remaining <= 0:
                break
            done, pending = cf.wait(pending, timeout=remaining, return_when="FIRST_COMPLETED")
            for future in done:
                full = full or _take(future, futures[future], run, bar)
        if full is not None:
            _stop_pool(pool, grace=1.0)
    except processes.Stopped:
        _stop_pool(pool, grace=0.5 if hurried else 3.0)
        for future in pending:
            if future.done() and not future.cancelled() and future.exception() is None:
                _take(future, futures[future], run, bar)
        raise
    finally:
        for future in pending:
            future.cancel()
        if pool is not None:
            pool.shutdown(wait=full is None and not hurried, cancel_futures=True)
        stop.on_repeat.remove(hurry)
        stop.on_stop.remove(kernels_first)
        processes.remove_leased(runtime_base)
    _mark_unfinished(pending, futures, run, bar, full)


def _run_jobs_dask(
    jobs: list[ReportJob],
    run: _Run,
    options: _Options,
    bar: _Progress,
    stop: processes.StopState,
) -> None:
    """Run the jobs on a Dask cluster; fill in their entries; respect the run deadline.

    The same outcomes as the local pool: a stop signal or a full disk cancels what has not
    started (reports already running on a worker end by their cell time-out), a job that
    passes the run's deadline is ``afgebroken``, one whose worker died is ``mislukt``.
    """
    from westerkwartier.pipeline import dask_cluster

    assert options.dask is not None
    client = dask_cluster.connect(options.dask)
    env = kernel_env(run.data.offline) | cbs_outcome_env(run.data)
    futures: dict[Any, ReportJob] = {}
    pending: set[Any] = set()
    full: OutputNotWritable | None = None
    try:
        futures = dask_cluster.submit(client, jobs, env)
        pending = set(futures)
        while pending and full is None:
            remaining = run.deadline - time.time() + 30
            if remaining <= 0:
                break
            done, pending = dask_cluster.wait(pending, timeout=min(remaining, 1.0))
            for future in done:
                full = full or _take(future, futures[future], run, bar)
    except processes.Stopped:
        dask_cluster.cancel(client, pending)
        raise
    finally:
        dask_cluster.cancel(client, pending)
        client.close()
    _mark_unfinished(pending, futures, run, bar, full)


def _mark_unfinished(
    pending: Iterable[Any],
    futures: Mapping[Any, ReportJob],
    run: _Run,
    bar: _Progress,
    full: OutputNotWritable | None,
) -> None:
    """Record why the reports still pending did not get made; raise a full disk's error."""
    reason = (
        "niet gemaakt: de schijf is vol"
        if full is not None
        else "niet gemaakt: de tijdslimiet van de run verstreek"
    )
    for future in pending:
        job = futures[future]
        entry = run.entries[job.index]
        if entry["status"] is None:
            _apply(entry, {"status": "onderbroken" if full else "afgebroken", "fout": reason}, job)
            bar.step(entry)
    if full is not None:
        raise full


def _take(
    future: cf.Future[dict[str, Any]], job: ReportJob, run: _Run, bar: _Progress
) -> OutputNotWritable | None:
    """Put the result of a finished job into its entry; return the error of a full disk."""
    import errno

    entry = run.entries[job.index]
    try:
        result = future.result()
    except Exception as err:  # noqa: BLE001 - a worker died (killed, OOM)
        result = {
            "status": "mislukt",
            "fout": f"werkproces gestopt ({type(err).__name__}: {err})",
        }
    _apply(entry, result, job)
    bar.step(entry)
    if result.get("schijf_vol"):
        return OutputNotWritable(run.out_dir, OSError(errno.ENOSPC, "schijf vol"))
    if entry["status"] == "gemaakt":
        _remember_made(entry, run)
    return None


def _remember_made(entry: dict[str, Any], run: _Run) -> None:
    """Record a report made in this run in the batch state at once, not only at the end.

    A run that is killed outright (SIGKILL, the OOM killer, power loss) cannot write the state
    when it ends; with every report recorded as it comes in, the next run reuses what the
    killed run finished instead of making it again. The state names only reports whose page
    is in place; the end of the run writes it once more with everything (:func:`_publish`).
    A state that cannot be written now (a full disk) waits for that last write, which says
    what is wrong.
    """
    with contextlib.suppress(OutputNotWritable):
        _remember_good([entry], run)


def _apply(entry: dict[str, Any], result: Mapping[str, Any], job: ReportJob) -> None:
    entry["status"] = result.get("status", "mislukt")
    entry["duur_s"] = result.get("duur_s", 0.0)
    entry["fout"] = result.get("fout")
    entry["pogingen"] = result.get("pogingen")
    entry["werker"] = result.get("werker")
    entry["geheugen_werker_mb"] = result.get("geheugen_werker_mb")
    entry["geheugen_kernels_mb"] = result.get("geheugen_kernels_mb")
    if result.get("mislukt_notebook"):
        entry["mislukt_notebook"] = result["mislukt_notebook"]
    if entry["status"] == "gemaakt":
        entry["uitvoer"] = f"{job.code}/{job.report}.html"
        entry["peiljaar"] = result.get("kop", {}).get("peiljaar") or entry["peiljaar"]


def exit_code(summary: Mapping[str, Any]) -> int:
    """Exit code of a run: 0 when every report is good, else 7 (``ReportFailed``)."""
    if "exitcode" in summary and summary.get("status") in {"gestopt", "fout"}:
        return int(summary["exitcode"])
    return 0 if summary.get("geslaagd") else ReportFailed.exit_code


def describe(summary: Mapping[str, Any], out_dir: Path | None = None) -> str:
    """Return a short Dutch account of a run for the terminal or a log.

    Parameters
    ----------
    summary : dict
        The run summary.
    out_dir : Path, optional
        The output folder, to show where the run is (the summary itself holds only relative
        paths).
    """
    counts = summary["aantallen"]
    where = Path(out_dir) / summary["map"] if out_dir is not None else summary["map"]
    lines = [
        f"Run {summary['run']}: {counts['gemaakt']} gemaakt, {counts['hergebruikt']} "
        f"ongewijzigd hergebruikt, {counts['mislukt']} mislukt, {counts['afgebroken']} "
        f"afgebroken"
        + (f", {counts['onderbroken']} onderbroken" if counts.get("onderbroken") else "")
        + f" ({summary['duur_s']:.0f} s). Gegevens tot {summary['gegevens']['datum']}.",
        f"Uitvoer: {where} (samenvatting: {SUMMARY_FILE}).",
    ]
    if summary.get("status") == "gestopt":
        lines.insert(
            0,
            f"Gestopt door {summary.get('gestopt_door', 'een signaal')}. Wat klaar was, is "
            "bewaard; de volgende run maakt alleen de rest.",
        )
    if summary["latest_bijgewerkt"]:
        lines.append(f"'{LATEST}' wijst nu naar {summary['run']}.")
    else:
        lines.append(f"'{LATEST}' is NIET verplaatst: het blijft bij de laatste goede run.")
    for failed in summary["mislukt"]:
        kept = next(
            (
                e["vorige_versie"]
                for e in summary["rapporten"]
                if e["rapport"] == failed["rapport"] and e["gemeente"] == failed["gemeente"]
            ),
            None,
        )
        keep = f" Vorige versie behouden: {kept}." if kept else " Er is geen eerdere versie."
        lines.append(f"MISLUKT {failed['gemeente']} {failed['rapport']}: {failed['fout']}{keep}")
    return "\n".join(lines)
