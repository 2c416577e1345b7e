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
>>> from westerkwartier.pipeline import batch, manifest as batch_manifest
>>> manifest = batch_manifest.load_manifest("reports.toml")  # doctest: +SKIP
>>> summary = batch.run_batch(manifest, workers=2)  # doctest: +SKIP
>>> summary["geslaagd"], summary["aantallen"]  # doctest: +SKIP
(True, {'gemaakt': 20, 'hergebruikt': 0, 'mislukt': 0, 'afgebroken': 0})
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import dataclasses
import datetime as dt
import hashlib
import json
import logging
import multiprocessing
import os
import re
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from westerkwartier import __version__, settings
from westerkwartier.errors import (
    InputError,
    ReportFailed,
    WesterkwartierError,
)
from westerkwartier.pipeline.jobs import ReportJob, kernel_env, run_job
from westerkwartier.pipeline.manifest import (
    DATE_PARAMETER,
    MUNICIPALITY_PARAMETER,
    NOTICE_PARAMETER,
    POLICIES,
    Manifest,
    ManifestEntry,
)

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


#: Statuses of one report in the summary.
STATUSES = ("gemaakt", "hergebruikt", "mislukt", "afgebroken")


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
    offline : bool
        Kernels run offline (set when CBS was unreachable, or by the settings).
    """

    date: str
    fingerprint: str
    cbs_reachable: bool | None = None
    refreshed: list[str] = dataclasses.field(default_factory=list)
    notice: str = ""
    offline: bool = False


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
    notice = ""
    if cbs_reachable is False:
        notice = (
            "Let op: CBS was niet bereikbaar toen dit rapport werd gemaakt. De cijfers komen uit "
            f"de opgeslagen gegevens (cache of offline snapshot) met gegevens tot "
            f"{_nl_date(date)}; nieuwere CBS-cijfers kunnen ontbreken."
        )
    return DataState(
        date=date,
        fingerprint=digest.hexdigest(),
        cbs_reachable=cbs_reachable,
        refreshed=list(refreshed),
        notice=notice,
        offline=offline,
    )


def _nl_date(text: str) -> str:
    try:
        from babel.dates import format_date

        return format_date(dt.date.fromisoformat(text), format="long", locale="nl_NL")
    except (ValueError, ImportError):
        return text


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
    path = out_dir / STATE_FILE
    if not path.is_file():
        return {}
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
        return state.get("rapporten", {}) if isinstance(state, dict) else {}
    except ValueError:
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
    raise WesterkwartierError(f"Kan geen nieuwe runmap maken in {out_dir} ({name}).")


# ----------------------------------------------------------------------------------------------
# Worker side
# ----------------------------------------------------------------------------------------------


def _init_worker(env: Mapping[str, str], runtime_base: str) -> None:
    """Set up a worker: settings from the parent and its own Jupyter runtime folder."""
    os.environ.update(env)
    os.environ["JUPYTER_RUNTIME_DIR"] = tempfile.mkdtemp(
        prefix=f"werker-{os.getpid()}-", dir=runtime_base
    )
    os.environ.setdefault("MPLBACKEND", "agg")
    settings.cache_dir = Path(env["WESTERKWARTIER_CACHE_DIR"])
    settings.snapshot_dir = Path(env["WESTERKWARTIER_SNAPSHOT_DIR"])
    settings.offline = env.get("WESTERKWARTIER_OFFLINE") == "1"
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C


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

    @classmethod
    def resolve(
        cls,
        manifest: Manifest,
        out_dir: Path | None,
        workers: int | None,
        report_timeout: float | None,
        run_timeout: float | None,
        policy: str | None,
    ) -> _Options:
        """Fill in the manifest's values for what the caller left out; check the policy."""
        policy = policy or manifest.policy
        if policy not in POLICIES:
            raise InputError(f"Onbekend publicatiebeleid {policy!r}; kies {' of '.join(POLICIES)}.")
        return cls(
            out_dir=Path(out_dir or manifest.out_dir).resolve(),
            workers=max(1, int(workers or manifest.workers)),
            report_timeout=float(report_timeout or manifest.report_timeout),
            run_timeout=float(run_timeout or manifest.run_timeout),
            policy=policy,
        )


@dataclasses.dataclass
class _Run:
    """One run while it is made: its folder, clock, data and the last good reports."""

    out_dir: Path
    run_dir: Path
    now: dt.datetime
    started: float
    deadline: float
    data: DataState
    state: dict[str, Any]

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
) -> dict[str, Any]:
    """Render every report of a manifest into a new dated run folder and publish it safely.

    The steps: wait for the folder lock, refresh the data when scheduled and open a run folder
    (:func:`_start_run`), reuse unchanged reports and plan the others (:func:`_plan`), run them
    in the worker pool (:func:`_execute`), keep the last good version of a failed report
    (:func:`_keep_last_good`), then write index, summary and state and move ``latest``
    (:func:`_publish`).

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

    Returns
    -------
    dict
        The run summary, also written to ``<run>/samenvatting.json`` and
        ``<out_dir>/laatste-run.json``: ``run``, ``map``, ``geslaagd``, ``latest_bijgewerkt``,
        ``aantallen``, ``gegevens`` and per report ``rapport``, ``gemeente``, ``status``
        (gemaakt / hergebruikt / mislukt / afgebroken), ``duur_s``, ``gegevensdatum``,
        ``peiljaar``, ``uitvoer`` (relative to the run folder; None when nothing is
        published), ``fout``, ``vorige_versie``, ``sleutel``.

    Raises
    ------
    BatchBusy
        Another run kept writing into the same folder for longer than ``run_timeout`` (this
        run waits for it first, with a line ``wacht op een andere batch…``).
    """
    options = _Options.resolve(manifest, out_dir, workers, report_timeout, run_timeout, policy)
    bar = _Progress(0, progress, stream)
    # overlapping runs (cron) wait for each other; the clock starts once this run may write
    with _lock(options.out_dir, timeout=options.run_timeout, notify=bar.notice):
        run = _start_run(
            options,
            clock or dt.datetime.now,
            (refresh or refresh_data) if scheduled else None,
            bar,
        )
        entries, jobs = _plan(manifest, run, options, force=force, stagger=stagger)
        _execute(jobs, entries, options, run, bar)
        _keep_last_good(entries, run)
        return _publish(manifest, entries, run, options)


def _start_run(
    options: _Options,
    clock: Callable[[], dt.datetime],
    refresh: Callable[[], tuple[bool, list[str]]] | None,
    bar: _Progress,
) -> _Run:
    """Start the clock, refresh the data (scheduled runs) and make the run folder."""
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
    return _Run(
        out_dir=options.out_dir,
        run_dir=_new_run_dir(options.out_dir, now),
        now=now,
        started=started,
        deadline=started + options.run_timeout,
        data=data,
        state=_read_state(options.out_dir),
    )


def _plan(
    manifest: Manifest, run: _Run, options: _Options, *, force: bool, stagger: float
) -> tuple[list[dict[str, Any]], list[ReportJob]]:
    """Make a summary entry per report; link unchanged ones, return jobs for the others."""
    from westerkwartier.pipeline.notebook import notebook_parameters

    entries: list[dict[str, Any]] = []
    jobs: list[ReportJob] = []
    declared: dict[Path, Any] = {}
    for spec, code in manifest.jobs():
        if spec.notebook not in declared:
            declared[spec.notebook] = notebook_parameters(spec.notebook)
        name = manifest.names.get(code, code)
        params, inject = _build_parameters(spec, code, declared[spec.notebook], run.data)
        title = spec.title.format(gemeente=name, code=code)
        entry = _new_entry(spec, code, name, params, title, run)
        entries.append(entry)
        if not force and _reuse(entry, run):
            continue
        jobs.append(
            ReportJob(
                index=len(entries) - 1,
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
    return entries, jobs


def _new_entry(
    spec: ManifestEntry, code: str, name: str, params: dict[str, Any], title: str, run: _Run
) -> dict[str, Any]:
    """Return the summary entry of one report before it runs."""
    return {
        "rapport": spec.name,
        "label": spec.label,
        "gemeente": code,
        "gemeentenaam": name,
        "notebook": _display_path(spec.notebook),
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
) -> None:
    """Show the reused reports, run the jobs in the pool and close the progress display."""
    bar.set_total(len(entries))
    for entry in entries:
        if entry["status"] == "hergebruikt":
            bar.step(entry)
    if jobs:
        bar.line(
            f"{len(jobs)} rapport(en) maken met {min(options.workers, len(jobs))} werker(s); "
            f"{len(entries) - len(jobs)} ongewijzigd."
        )
        _run_jobs(jobs, entries, options.workers, run.deadline, bar, run.data)
    bar.close()


def _keep_last_good(entries: list[dict[str, Any]], run: _Run) -> None:
    """Link the last good version of each failed report into the run (never a broken one)."""
    for entry in entries:
        if entry["status"] not in {"mislukt", "afgebroken"}:
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
    manifest: Manifest, entries: list[dict[str, Any]], run: _Run, options: _Options
) -> dict[str, Any]:
    """Write the run's index and summary, remember the good reports, move ``latest``."""
    from westerkwartier.pipeline.index_page import write_index

    counts = {status: sum(e["status"] == status for e in entries) for status in STATUSES}
    good = counts["gemaakt"] + counts["hergebruikt"]
    all_good = good == len(entries)
    publish = all_good if options.policy == "alles-of-niets" else good > 0
    write_index(
        [_index_entry(e) for e in entries if e["uitvoer"]],
        run.run_dir / "index.html",
        title=manifest.title,
        notice=run.data.notice,
    )
    summary = _summary(manifest, entries, run, options, counts, all_good, publish)
    _write_json(run.run_dir / SUMMARY_FILE, summary)
    _remember_good(entries, run)
    if publish:
        switch_latest(run.out_dir, run.name)
    _write_json(run.out_dir / LAST_RUN_FILE, summary)
    return summary


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
) -> dict[str, Any]:
    """Return the machine-readable account of the run (``samenvatting.json``)."""
    data = run.data
    return {
        "formaat": 1,
        "run": run.name,
        "map": str(run.run_dir),
        "manifest": str(manifest.path) if manifest.path else None,
        "gestart": run.now.isoformat(timespec="seconds"),
        "duur_s": round(time.time() - run.started, 2),
        "werkers": options.workers,
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
            {"rapport": e["rapport"], "gemeente": e["gemeente"], "fout": e["fout"]}
            for e in entries
            if e["status"] in {"mislukt", "afgebroken"}
        ],
        "rapporten": entries,
    }


def _remember_good(entries: list[dict[str, Any]], run: _Run) -> None:
    """Record the last good version of every report (for reuse and carry-over)."""
    for entry in entries:
        if entry["status"] in {"gemaakt", "hergebruikt"}:
            run.state[_job_id(entry["rapport"], entry["gemeente"])] = {
                "sleutel": entry["sleutel"],
                "bestand": f"{run.name}/{entry['uitvoer']}",
                "gemaakt_op": entry["gemaakt_op"],
                "gegevensdatum": entry["gegevensdatum"],
                "peiljaar": entry["peiljaar"],
            }
    _write_json(run.out_dir / STATE_FILE, {"formaat": 1, "rapporten": run.state})


def _display_path(path: Path) -> str:
    with contextlib.suppress(ValueError):
        return str(Path(path).relative_to(settings.project_dir))
    return str(path)


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


def _run_jobs(
    jobs: list[ReportJob],
    entries: list[dict[str, Any]],
    workers: int,
    deadline: float,
    bar: _Progress,
    data: DataState,
) -> None:
    """Run the jobs in a process pool; fill in their entries; respect the run deadline."""
    with tempfile.TemporaryDirectory(prefix="wk-batch-runtime-") as runtime_base:
        pool = cf.ProcessPoolExecutor(
            max_workers=min(workers, len(jobs)),
            mp_context=_mp_context(),
            initializer=_init_worker,
            initargs=(kernel_env(data.offline) | cbs_outcome_env(data), runtime_base),
        )
        futures = {pool.submit(_run_in_worker, job): job for job in jobs}
        pending = set(futures)
        try:
            while pending:
                # the workers stop their own report at the deadline; allow them time to clean up
                remaining = deadline - time.time() + 30
                if remaining <= 0:
                    break
                done, pending = cf.wait(pending, timeout=remaining, return_when="FIRST_COMPLETED")
                for future in done:
                    job = futures[future]
                    entry = entries[job.index]
                    try:
                        result = future.result()
                    except Exception as err:  # noqa: BLE001 - a worker died (killed, OOM)
                        result = {
                            "status": "mislukt",
                            "fout": f"werkproces gestopt ({type(err).__name__}: {err})",
                        }
                    _apply(entry, result, job)
                    bar.step(entry)
        finally:
            for future in pending:
                future.cancel()
            pool.shutdown(wait=True, cancel_futures=True)
        for future in pending:
            job = futures[future]
            entry = entries[job.index]
            _apply(
                entry,
                {
                    "status": "afgebroken",
                    "fout": "niet gemaakt: de tijdslimiet van de run verstreek",
                },
                job,
            )
            bar.step(entry)


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
    return 0 if summary.get("geslaagd") else ReportFailed.exit_code


def describe(summary: Mapping[str, Any]) -> str:
    """Return a short Dutch account of a run for the terminal or a log."""
    counts = summary["aantallen"]
    lines = [
        f"Run {summary['run']}: {counts['gemaakt']} gemaakt, {counts['hergebruikt']} "
        f"ongewijzigd hergebruikt, {counts['mislukt']} mislukt, {counts['afgebroken']} "
        f"afgebroken ({summary['duur_s']:.0f} s). Gegevens tot {summary['gegevens']['datum']}.",
        f"Uitvoer: {summary['map']} (samenvatting: {SUMMARY_FILE}).",
    ]
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
