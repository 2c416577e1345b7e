"""One report for one municipality as a job: the machinery shared by ``report`` and ``batch``.

Both commands turn their input into :class:`ReportJob` objects and run each with
:func:`run_job`: the notebook runs through :func:`westerkwartier.pipeline.notebook.run_notebook`
(parameter check, time-out per cell, atomic write, HTML house rules, a failed notebook kept
aside), a kernel that dies while starting is started again, an optional time limit holds for
the whole report, and the result says what happened instead of raising. ``westerkwartier
report`` runs its jobs one after the other in its own process; ``westerkwartier batch`` sends
them to a pool of worker processes.

What a finished report states about itself (municipality, reference year, data date; the
``data-*`` attributes of its header) is read back from the page just written
(:func:`report_facts`), so that the index can show it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import errno
import logging
import math
import os
import random
import re
import resource
import signal
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from westerkwartier import settings
from westerkwartier.errors import ReportFailed, WesterkwartierError
from westerkwartier.pipeline.manifest import DATE_PARAMETER

log = logging.getLogger(__name__)


@dataclasses.dataclass
class ReportJob:
    """One report for one municipality, ready to run here or in a worker (picklable).

    Attributes
    ----------
    index : int
        Position of the report in its run (to put the result back in order).
    report : str
        Report name; also the file name (``talent`` -> ``talent.html``).
    code, name : str
        CBS code and name of the municipality.
    notebook, output : str
        The notebook to run and the HTML file to write.
    title : str
        The page title.
    parameters : dict
        Notebook parameters.
    failed_dir : str
        Where the executed notebook of a failed run is kept.
    key : str
        Input key (batch: to reuse an unchanged report).
    notice : str
        Notice about the data shown at the top of the report.
    notice_injected : bool
        Put ``notice`` into the HTML (for a notebook without a ``gegevensmelding`` parameter).
    cell_timeout : float
        Seconds one cell may run.
    timeout : float
        Seconds the whole report may run (``inf``: no limit but the cells').
    deadline : float
        Wall-clock time (``time.time()``) by which the run must end (``inf``: none).
    stagger : float
        Seconds to wait before starting (spreads the first kernel starts of a pool).
    start_attempts : int
        Kernel starts tried before a start failure counts as a failed report.
    """

    index: int
    report: str
    code: str
    name: str
    notebook: str
    output: str
    title: str
    parameters: dict[str, Any]
    failed_dir: str
    key: str = ""
    notice: str = ""
    notice_injected: bool = False
    cell_timeout: float = 600.0
    timeout: float = math.inf
    deadline: float = math.inf
    stagger: float = 0.0
    start_attempts: int = 3


# ----------------------------------------------------------------------------------------------
# The kernels' environment
# ----------------------------------------------------------------------------------------------
def kernel_env(offline: bool) -> dict[str, str]:
    """Return the settings the notebook kernels must share with this process.

    Parameters
    ----------
    offline : bool
        Whether the kernels run offline (no CBS).
    """
    return {
        "WESTERKWARTIER_OFFLINE": "1" if offline else "0",
        "WESTERKWARTIER_SNAPSHOT_DIR": str(Path(settings.snapshot_dir).resolve()),
        "WESTERKWARTIER_CACHE_DIR": str(Path(settings.cache_dir).resolve()),
        "WESTERKWARTIER_PROGRESS": "0",
    }


@contextmanager
def kernel_environment(env: Mapping[str, str]) -> Iterator[None]:
    """Set ``env`` in ``os.environ`` (inherited by the kernels) and restore it afterwards."""
    before = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for key, value in before.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


# ----------------------------------------------------------------------------------------------
# What a report states about itself
# ----------------------------------------------------------------------------------------------
class _HeaderReader(HTMLParser):
    """Read the ``data-*`` attributes of a report's ``<header class="rapport-kop">``."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: dict[str, str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.found is None and tag == "header":
            values = {k: v or "" for k, v in attrs}
            if "rapport-kop" in values.get("class", "").split():
                self.found = {k[5:]: v for k, v in values.items() if k.startswith("data-")}


def report_facts(path: Path | str) -> dict[str, str]:
    """Return what a report states about itself: rapport, titel, gemeente, code, peiljaar, ...

    Read from the ``data-*`` attributes of the report's header (see
    :func:`westerkwartier.reporting.sections.kop`); only the page up to the header is parsed.

    Returns
    -------
    dict
        Empty for a page without such a header (a notebook that is not one of our reports).
    """
    text = Path(path).read_text(encoding="utf-8")
    end = text.find("</header>")
    reader = _HeaderReader()
    reader.feed(text if end < 0 else text[: end + len("</header>")])
    return reader.found or {}


def inject_notice(page: str, notice: str) -> str:
    """Put a visible notice at the top of a report page (after ``<main ...>`` or ``<body>``).

    Used when a notebook does not declare the ``gegevensmelding`` parameter. The notice is
    escaped.

    Examples
    --------
    >>> page = inject_notice('<body><main class="rapport"><h1>X</h1>', "CBS <onbereikbaar>")
    >>> page.index("CBS &lt;onbereikbaar&gt;") < page.index("<h1>")
    True
    """
    from westerkwartier.reporting.html import render_template

    banner = render_template("gegevensmelding.html.j2", notice=notice)
    for anchor in (re.compile(r"<main\b[^>]*>"), re.compile(r"<body\b[^>]*>")):
        m = anchor.search(page)
        if m:
            return page[: m.end()] + "\n" + banner + page[m.end() :]
    return banner + "\n" + page


# ----------------------------------------------------------------------------------------------
# Running a job
# ----------------------------------------------------------------------------------------------
class ReportTimeout(TimeoutError):
    """Raised inside :func:`run_job` when a report exceeds its time limit."""


_KERNEL_START_FAILURE = re.compile(
    r"address already in use|kernel died before replying|didn'?t respond in|"
    r"kernel_info|zmqerror|deadkernel",
    re.I,
)


def is_start_failure(err: ReportFailed) -> bool:
    """Tell whether the kernel died or hung while starting, not in a cell.

    Such a start is worth trying again. Over TCP, the fallback where Unix sockets cannot be
    used (:func:`westerkwartier.pipeline.kernels.kernel_options`), jupyter_client picks
    ports, releases them and lets the kernel bind them later, so two kernels started at once
    can pick the same port.
    """
    cause = err.__cause__
    if cause is None or isinstance(cause, ReportTimeout):
        return False
    text = f"{type(cause).__name__}: {cause}"
    return bool(_KERNEL_START_FAILURE.search(text)) and err.cell_index is None


#: Set when the time limit of the report being made has passed.
_expired: list[bool] = []


@contextmanager
def _time_limit(seconds: float, before: list[Any] | None = None) -> Iterator[None]:
    """Raise :class:`ReportTimeout` after ``seconds`` (SIGALRM; only where it can be used).

    When the time is up, the processes started since ``before`` (the report's kernel) are
    killed first: the report is abandoned, and a kernel that is shut down while it still
    works prints tracebacks about closed connections into the log. Without a finite limit,
    or outside the main thread (where no signal handler can be set), nothing is armed: the
    time-out per cell still holds.
    """
    if not math.isfinite(seconds) or threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_alarm(signum: int, frame: Any) -> None:
        _expired.append(True)  # papermill may report the killed kernel instead of this error
        if before is not None:
            from westerkwartier.pipeline import processes

            processes.stop_new_children(before)
        raise ReportTimeout("tijdslimiet")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _execute(job: ReportJob, result: dict[str, Any], reason_limit: str) -> None:
    """Run the notebook (starting the kernel again after a start failure); fill ``result``."""
    from westerkwartier.pipeline import kernels
    from westerkwartier.pipeline.notebook import run_notebook, write_atomic

    session = kernels.current()  # this thread's reused kernel, if any
    for attempt in range(1, job.start_attempts + 1):
        result["pogingen"] = attempt
        try:
            run_notebook(
                Path(job.notebook),
                Path(job.output),
                job.parameters,
                title=job.title,
                timeout_per_cell=min(job.cell_timeout, job.timeout),
                failed_dir=Path(job.failed_dir),
                session=session,
            )
            break
        except ReportFailed as err:
            if is_start_failure(err) and attempt < job.start_attempts and not _expired:
                pause = random.uniform(0.5, 1.5) * attempt
                log.warning(
                    "Kernel van %s startte niet (%s); opnieuw over %.1f s.",
                    job.output,
                    err.__cause__,
                    pause,
                )
                time.sleep(pause)
                continue
            timed_out = isinstance(err.__cause__, ReportTimeout) or bool(_expired)
            reason = str(err)
            if timed_out:
                reason = (
                    f"Rapport {Path(job.output).name} voor {job.name} {reason_limit}. "
                    f"Het notebook (voor zover uitgevoerd) staat in {err.failed_notebook}."
                )
            result.update(
                status="afgebroken" if timed_out else "mislukt",
                fout=reason,
                mislukt_notebook=str(err.failed_notebook),
                error=err,
            )
            return
    if job.notice_injected:
        page = Path(job.output).read_text(encoding="utf-8")
        write_atomic(Path(job.output), inject_notice(page, job.notice))
    workbook = write_figures_workbook(Path(job.output), report_date(job.parameters))
    if workbook is not None:
        result["werkmap"] = str(workbook)
    result.update(status="gemaakt", kop=report_facts(job.output))


def report_date(parameters: Mapping[str, Any]) -> dt.date | None:
    """Return the report's date (:data:`~westerkwartier.pipeline.manifest.DATE_PARAMETER`), or None.

    Examples
    --------
    >>> report_date({"peildatum": "2026-06-23"}), report_date({"peildatum": ""}), report_date({})
    (datetime.date(2026, 6, 23), None, None)
    """
    try:
        return dt.date.fromisoformat(str(parameters.get(DATE_PARAMETER, "")))
    except ValueError:
        return None


def write_figures_workbook(page: Path, created: dt.date | None = None) -> Path | None:
    """Write the report's figures as ``.xlsx`` beside the page, from the CSV inside it.

    A page without the CSV link (a notebook of one's own) gets none. The workbook is written
    to a temporary name first and then moved into place, like the page. ``created`` dates it
    (the report's date, so that a report made again from the same data is the same file);
    None: now.
    """
    import tempfile

    from westerkwartier.reporting.downloads import workbook_from_page

    with tempfile.TemporaryDirectory(dir=page.parent, prefix=".werkmap-") as scratch:
        copy = Path(scratch) / page.name
        copy.write_bytes(page.read_bytes())
        made = workbook_from_page(copy, created)
        if made is None:
            return None
        target = page.parent / made.name
        os.replace(made, target)
    return target


def run_job(job: ReportJob) -> dict[str, Any]:
    """Make one report; never raises an error: the result says what happened.

    A stop signal (:class:`~westerkwartier.pipeline.processes.Stopped`) is not an error and
    passes through. Either way, a kernel the report started that is still running afterwards
    (after a time-out or a stop) is stopped before this function returns.

    Returns
    -------
    dict
        ``status`` (gemaakt, mislukt or afgebroken), ``fout`` (the Dutch reason, or absent),
        ``mislukt_notebook`` (the kept notebook of a failed run), ``kop`` (what the report
        states about itself, see :func:`report_facts`), ``duur_s``, ``pogingen`` (kernel
        starts), ``werker`` (process id), ``geheugen_werker_mb``, ``geheugen_kernels_mb``,
        ``schijf_vol`` (True when the report failed because a disk was full), and ``error``:
        the exception of a failed report (only in this process; a worker drops it).
    """
    from westerkwartier.pipeline import processes

    started = time.monotonic()
    result: dict[str, Any] = {"index": job.index, "werker": os.getpid(), "pogingen": 0}
    if job.stagger > 0:
        time.sleep(job.stagger)
    limit = min(job.timeout, job.deadline - time.time())
    if limit <= 0:
        result.update(status="afgebroken", fout="de tijdslimiet van de run was al verstreken")
        return _finish(result, started)
    reason_limit = (
        f"duurde langer dan de tijdslimiet per rapport ({job.timeout:g} s)"
        if limit >= job.timeout
        else "werd afgebroken omdat de tijdslimiet van de hele run verstreek"
    )
    # only the main thread owns the process's children (signals, time limits); a job run in
    # another thread leaves them to their own clean-up
    main = threading.current_thread() is threading.main_thread()
    before = processes.children() if main else []
    try:
        _expired.clear()
        with _time_limit(limit, before if main else None):
            _execute(job, result, reason_limit)
    except ReportTimeout as err:
        result.update(
            status="afgebroken", fout=f"Rapport voor {job.name} {reason_limit}.", error=err
        )
    except WesterkwartierError as err:
        result.update(status="mislukt", fout=str(err), error=err)
    except Exception as err:  # noqa: BLE001 - one report must never stop the run
        result.update(
            status="mislukt", fout=f"onverwachte fout: {type(err).__name__}: {err}", error=err
        )
    except processes.Stopped:  # the run stops: its kernel need not shut down politely
        _drop_session()
        if main:
            processes.stop_new_children(before)
        raise
    finally:
        if main:
            if result.get("status") == "gemaakt":  # a clean kernel kept for the next report
                before = before + _session_kernels()
            else:
                _drop_session()
            processes.stop_new_children(before)
    if result.get("error") is not None and disk_full(result["error"]):
        result["schijf_vol"] = True
        result["fout"] = (
            f"Rapport {Path(job.output).name} voor {job.name} is niet gemaakt: de schijf is vol."
        )
    return _finish(result, started)


def _session_kernels() -> list[Any]:
    """Return the live reused kernel of this process (as process-table entries), if any."""
    from westerkwartier.pipeline import kernels, processes

    session = kernels.current()
    pids = session.pids() if session is not None else set()
    return [p for p in processes.children() if p.pid in pids]


def _drop_session() -> None:
    """Forget the reused kernel after a failed or stopped report (it is killed with the rest)."""
    from westerkwartier.pipeline import kernels

    session = kernels.current()
    if session is not None:
        session.km = None
        session.used = 0


def disk_full(err: BaseException | None) -> str:
    """Return the path of a full disk if ``err`` (or an error behind it) says so, else ''.

    Looks for ``OSError`` with ENOSPC (no space left) or EDQUOT (quota exceeded) in the
    chain of causes.
    """
    seen: set[int] = set()
    while err is not None and id(err) not in seen:
        seen.add(id(err))
        if isinstance(err, OSError) and err.errno in _DISK_FULL:
            return str(err.filename or "") or os.strerror(err.errno or 0)
        text = str(err)
        if "No space left on device" in text or "Disk quota exceeded" in text:
            return "schijf"
        err = err.__cause__ or err.__context__
    return ""


_DISK_FULL = {errno.ENOSPC, errno.EDQUOT}


def _finish(result: dict[str, Any], started: float) -> dict[str, Any]:
    result["duur_s"] = round(time.monotonic() - started, 2)
    result["geheugen_werker_mb"] = _maxrss_mb(resource.RUSAGE_SELF)
    result["geheugen_kernels_mb"] = max(_maxrss_mb(resource.RUSAGE_CHILDREN), _reused_peak_mb())
    return result


def _reused_peak_mb() -> float:
    """Peak memory of this thread's reused kernel, which has not ended (Linux; else 0)."""
    from westerkwartier.pipeline import kernels

    session = kernels.current()
    peak = 0.0
    for pid in session.pids() if session is not None else ():
        try:
            status = Path(f"/proc/{pid}/status").read_text(encoding="ascii")
        except OSError:
            continue
        found = re.search(r"^VmHWM:\s+(\d+) kB", status, flags=re.M)
        if found:
            peak = max(peak, round(int(found.group(1)) / 1024, 1))
    return peak


def _maxrss_mb(who: int) -> float:
    scale = 1 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB on Linux
    return round(resource.getrusage(who).ru_maxrss * scale / 2**20, 1)


__all__ = [
    "ReportJob",
    "ReportTimeout",
    "disk_full",
    "inject_notice",
    "is_start_failure",
    "kernel_env",
    "kernel_environment",
    "report_facts",
    "run_job",
]
