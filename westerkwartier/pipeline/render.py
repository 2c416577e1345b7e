"""Make the Dutch HTML reports of a municipality and the index page that lists them.

:func:`render_reports` is a batch of one municipality: it checks every input before anything
runs (municipality, year, date, report names, extra municipalities, the offline snapshot's
checksums, a writable output folder), runs each report of the catalogue
(``config/rapporten.toml``) as a :class:`~westerkwartier.pipeline.jobs.ReportJob`, the same job
``westerkwartier batch`` runs (parameter validation, time-out per cell, a kernel that dies
while starting is started again, atomic write, failed runs saved under ``<uit>/_failed``, HTML
checks), and writes

* ``<uit>/<gemeente-slug>/<rapport>.html`` per report, and
* ``<uit>/index.html`` listing every report made into ``<uit>`` with municipality, reference
  year, data date and report date. Each run adds its reports to the folder's list
  (``<uit>/.index.json``, the entries of the index) and the page is written from that list by
  the one index writer, :func:`westerkwartier.pipeline.index_page.write_index`. Both happen
  under a lock (``<uit>/.index.lock``), so runs at the same time into one folder never drop
  each other's reports from the index.

The same inputs give byte-identical files: the report date (``peildatum``) is a parameter,
never the clock.

Examples
--------
Rendering runs every notebook, so this is not run as a doctest::

    render_reports("Westerkwartier", peildatum="2026-11-27")
    # [PosixPath('reports/westerkwartier/aantrekkelijkheid.html'),
    #  PosixPath('reports/westerkwartier/talent.html'), ...]
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from westerkwartier import settings
from westerkwartier.errors import (
    DataIntegrityError,
    OutputNotWritable,
    ReportFailed,
    SnapshotMissing,
)
from westerkwartier.pipeline.index_page import IndexEntry, write_index
from westerkwartier.pipeline.jobs import ReportJob, kernel_env, kernel_environment, run_job
from westerkwartier.pipeline.kernels import reused_kernel
from westerkwartier.pipeline.processes import (
    RunStopped,
    Stopped,
    children,
    descendants,
    kill_now,
    scratch_dir,
    stop_new_children,
    stop_signals,
)
from westerkwartier.reporting.report_catalogue import (
    NOTEBOOKS_DIR,
    load_report_catalogue,
    report_spec,
)
from westerkwartier.reporting.report_data import (
    check_ambitions_file,
    parse_jaar,
    parse_peildatum,
)
from westerkwartier.sources.regions import name_order, slug

log = logging.getLogger(__name__)

#: Default output folder.
REPORTS_DIR: Path = Path("reports")

#: Title of the index page.
INDEX_TITLE = "Rapporten van de regionale talent- en vitaliteitsmonitor"

#: Seconds one notebook cell may run.
CELL_TIMEOUT: float = 600

#: Lock file in ``uit`` held while the index page is rebuilt (concurrent runs, one folder).
INDEX_LOCK = ".index.lock"

#: The entries of the index of ``uit``: every report made into the folder.
INDEX_RECORD = ".index.json"

#: Seconds a run waits for another run's index rebuild (which takes well under a second).
INDEX_LOCK_TIMEOUT: float = 120


def report_names(rapport: str | Sequence[str]) -> list[str]:
    """Turn ``alle``, one name or a list into report ids of the catalogue, in catalogue order.

    Raises
    ------
    InputError
        For an unknown report name (with a suggestion).

    Examples
    --------
    >>> report_names("alle")
    ['aantrekkelijkheid', 'talent']
    """
    catalogue = load_report_catalogue()
    asked = [rapport] if isinstance(rapport, str) else list(rapport)
    if any(str(a).strip().lower() == "alle" for a in asked):
        return list(catalogue)
    ids = [report_spec(a).id for a in asked]
    return [r for r in catalogue if r in ids]


@dataclass(frozen=True)
class Inputs:
    """Checked inputs of one run: resolved municipality, year, extra municipalities, date."""

    region: Any
    jaar: int
    vergelijk: list[Any]
    peildatum: dt.date
    rapporten: list[str]
    ambities: Path | None = None


def check_inputs(
    gemeente: str,
    jaar: int | str = 0,
    rapport: str | Sequence[str] = "alle",
    vergelijk: Sequence[str] = (),
    peildatum: str | dt.date = "2026-11-27",
    *,
    registry: Any | None = None,
    ambities: str | Path | None = None,
) -> Inputs:
    """Check every input of a run before anything is executed.

    ``ambities`` is the partners' ambitions file (read and checked like the reports do); none
    means the reports have no ambitions section.

    Raises
    ------
    westerkwartier.analysis.ambitions.AmbitionFileError
        The ambitions file is missing or has errors (each with its line).
    RegionNotFound, RegionDissolved
        Unknown or merged municipality (also among ``vergelijk``).
    InputError
        A province instead of a municipality, a year that is not a number, in the future or
        out of range, a bad date or an unknown report.
    SnapshotMissing
        The offline snapshot (region registry, tables) is missing or incomplete.
    DataIntegrityError
        A snapshot file is damaged (see :func:`check_snapshot`).
    """
    from westerkwartier.sources.regions import load_registry

    date = parse_peildatum(peildatum)
    year = parse_jaar(jaar, date)
    names = report_names(rapport)
    registry = registry or load_registry()
    region = registry.municipality(gemeente)
    extra = [registry.municipality(v) for v in (vergelijk or [])]
    check_snapshot()
    targets = check_ambitions_file(ambities, date)
    return Inputs(region, year, extra, date, names, targets)


_SNAPSHOT_FIX = (
    "Haal de snapshot opnieuw op uit git (`git checkout -- data/snapshot`) of bouw hem met "
    "`westerkwartier snapshot`."
)


#: Snapshot files the reports read besides the tables (region registry, boundaries,
#: neighbours, divisions); the wijk files are listed in the provenance.
SNAPSHOT_FILES = (
    "regions.parquet",
    "indelingen.parquet",
    "gemeenten.parquet",
    "provincies.parquet",
    "buren.parquet",
)


def check_snapshot() -> None:
    """Check every snapshot file a report reads, before any kernel starts.

    The reports read the snapshot (offline, and online as the fallback when CBS cannot be
    reached); a damaged file would otherwise only show up as a failing notebook cell minutes
    later, with exit code 7 instead of 5. Checked:

    * ``provenance.json``: readable JSON with the list of tables;
    * every table: its metadata is a JSON object that records the checksum of its data, and
      the data match it;
    * the other files (region registry, boundaries, neighbours, divisions, wijken): their
      recorded checksum when the provenance has one (``files``), and in any case read to the
      end, so a cut-off or scrambled file is found.

    Reading and hashing everything takes well under a second.

    Raises
    ------
    SnapshotMissing
        No ``provenance.json``, or a file it lists (or a file of :data:`SNAPSHOT_FILES`) is
        missing.
    DataIntegrityError
        A file is damaged: unreadable JSON, a table without checksum, data that do not match
        the checksum, a file that cannot be read to the end.
    """
    from westerkwartier.sources import data, store

    root = Path(settings.snapshot_dir)
    provenance = _read_json(root / data.PROVENANCE, root, missing_ok=False)
    tables = provenance.get("tables")
    if not isinstance(tables, dict) or not tables:
        raise DataIntegrityError(
            f"Snapshotbestand {data.PROVENANCE} noemt geen tabellen; het is beschadigd of "
            f"onvolledig. {_SNAPSHOT_FIX}"
        )
    folder = data.snapshot_tables_dir()
    for table_id in sorted(tables):
        meta_path = folder / f"{table_id}.json"
        data_path = folder / f"{table_id}.parquet"
        missing = [p.name for p in (meta_path, data_path) if not p.is_file()]
        if missing:
            raise SnapshotMissing(
                f"De offline snapshot is onvolledig: {', '.join(missing)} ontbreekt in "
                f"{folder.name}/. {_SNAPSHOT_FIX}"
            )
        meta = _read_json(meta_path, root)
        expected = meta.get("data_sha256")
        if not (isinstance(expected, str) and re.fullmatch(r"[0-9a-f]{64}", expected)):
            raise DataIntegrityError(
                f"Snapshotbestand {meta_path.name} in {folder.name}/ is beschadigd: de checksum "
                f"van de gegevens ontbreekt, dus {data_path.name} is niet te controleren. "
                f"{_SNAPSHOT_FIX}"
            )
        if store.sha256_file(data_path) != expected:
            raise DataIntegrityError(
                f"Snapshotbestand {data_path.name} in {folder.name}/ is beschadigd (checksum "
                f"klopt niet). {_SNAPSHOT_FIX}"
            )
    _check_other_files(root, provenance)


def _read_json(path: Path, root: Path, *, missing_ok: bool = True) -> dict[str, Any]:
    """Read a JSON object of the snapshot; damage is a ``DataIntegrityError``."""
    from westerkwartier.sources import data

    name = path.relative_to(root).as_posix() if path.is_relative_to(root) else path.name
    if not path.is_file():
        if path.name == data.PROVENANCE:
            raise SnapshotMissing(
                f"De offline snapshot ontbreekt ({root.name}/{name} niet gevonden). {_SNAPSHOT_FIX}"
            )
        raise SnapshotMissing(f"Snapshotbestand {name} ontbreekt. {_SNAPSHOT_FIX}")
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:  # JSON or UTF-8 errors, unreadable
        raise DataIntegrityError(
            f"Snapshotbestand {name} is beschadigd ({type(err).__name__}). {_SNAPSHOT_FIX}"
        ) from None
    if not isinstance(value, dict):
        raise DataIntegrityError(
            f"Snapshotbestand {name} is beschadigd (geen JSON-object). {_SNAPSHOT_FIX}"
        )
    return value


def _section(provenance: dict[str, Any], key: str) -> dict[str, Any]:
    """Return a table of the provenance file, or an empty one when it is missing or no table."""
    value = provenance.get(key)
    return value if isinstance(value, dict) else {}


def _check_other_files(root: Path, provenance: dict[str, Any]) -> None:
    """Check the snapshot's other files: recorded checksums, and readable to the end."""
    import pyarrow.parquet as pq

    from westerkwartier.sources import store

    recorded = _section(provenance, "files")
    wijken = _section(provenance, "wijken")
    names = list(SNAPSHOT_FILES) + [
        str(n) for n in (wijken.get("files") or []) if str(n) not in SNAPSHOT_FILES
    ]
    names += [str(n) for n in recorded if str(n) not in names]
    for name in names:
        path = root / name
        if not path.is_file():
            raise SnapshotMissing(
                f"De offline snapshot is onvolledig: {name} ontbreekt. {_SNAPSHOT_FIX}"
            )
        expected = recorded.get(name)
        if isinstance(expected, str) and store.sha256_file(path) != expected:
            raise DataIntegrityError(
                f"Snapshotbestand {name} is beschadigd (checksum klopt niet). {_SNAPSHOT_FIX}"
            )
        if path.suffix == ".parquet":
            try:
                pq.read_table(path)
            except Exception as err:  # noqa: BLE001 - any reader error means a damaged file
                raise DataIntegrityError(
                    f"Snapshotbestand {name} is beschadigd: het is niet tot het eind te lezen "
                    f"({type(err).__name__}). {_SNAPSHOT_FIX}"
                ) from None


def check_output(uit: Path | str) -> None:
    """Check that the output folder can be written, before anything runs.

    Creates ``uit`` when it does not exist (the run writes there anyway) and writes and removes
    a nameless temporary file in it.

    Raises
    ------
    OutputNotWritable
        ``uit`` is a file, lies below a file, or may not be written.
    DataIntegrityError
        The list of reports of the folder's index (``.index.json``) is damaged.
    """
    uit = Path(uit)
    try:
        uit.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=uit):
            pass
    except OSError as err:
        raise OutputNotWritable(uit, err) from err
    read_index_record(uit)  # a damaged list of reports: say so now, not after the reports


@contextmanager
def index_lock(uit: Path | str, timeout: float = INDEX_LOCK_TIMEOUT) -> Iterator[None]:
    """Hold the index lock of ``uit`` (``fcntl.flock`` on ``uit/.index.lock``).

    Two runs that publish into the same folder each read the index's entries, add their own and
    write them back with ``index.html``; without the lock the run that read first could write
    last and drop the other's report from the index.

    Raises
    ------
    OutputNotWritable
        The lock file cannot be created, or another run held the lock for ``timeout`` seconds.
    """
    from westerkwartier.sources.store import folder_lock

    uit = Path(uit)
    held = ExitStack()
    try:  # only the wait for the lock is reported as a busy index
        held.enter_context(folder_lock(uit, INDEX_LOCK, timeout))
    except TimeoutError:
        raise OutputNotWritable(
            uit, TimeoutError(0, "de indexpagina is bezet door een andere run")
        ) from None
    with held:
        yield


def render_reports(
    gemeente: str = "GM1969",
    jaar: int | str = 0,
    rapport: str | Sequence[str] = "alle",
    vergelijk: Sequence[str] = (),
    peildatum: str | dt.date | None = None,
    uit: Path | str = REPORTS_DIR,
    gegevensmelding: str = "",
    *,
    ambities: str | Path | None = None,
    notebooks_dir: Path | str = NOTEBOOKS_DIR,
    timeout_per_cell: float = CELL_TIMEOUT,
    index: bool = True,
) -> list[Path]:
    """Make the reports of one municipality and update the index page.

    Parameters
    ----------
    gemeente : str
        CBS code or name of the municipality.
    jaar : int or str
        Reference year; 0 = per figure the latest year with data.
    rapport : str or sequence of str
        A report of the catalogue (``aantrekkelijkheid``, ``talent``) or ``alle``.
    vergelijk : sequence of str
        Extra municipalities to compare with.
    peildatum : str or datetime.date, optional
        Date printed on the reports (``JJJJ-MM-DD``); default today (the only place the clock
        is read; the notebooks never do).
    uit : Path or str
        Output folder (default ``reports``).
    gegevensmelding : str
        Notice about the data shown at the top of each report (scheduled runs). Not offline,
        CBS is asked once first (:func:`cbs_check`); when it does not answer the reports are
        made from cache and snapshot and this notice is followed by the batch's notice that
        says so, with the data date.
    ambities : str or Path, optional
        The partners' ambitions file (TOML): the reports get a section "Ambities". Without
        it they have none (an example file is never published by default).
    notebooks_dir : Path or str
        Folder of the report notebooks.
    timeout_per_cell : float
        Seconds one notebook cell may run.
    index : bool
        Rewrite ``<uit>/index.html`` afterwards (default True). The reports are added to the
        index's entries either way; :func:`write_reports_index` writes the page later.

    Returns
    -------
    list of Path
        The reports written, in catalogue order.

    Raises
    ------
    RegionNotFound, RegionDissolved, InputError
        Bad input; nothing was run.
    OutputNotWritable
        ``uit`` cannot be written; nothing was run.
    SnapshotMissing, DataIntegrityError
        The offline snapshot is missing, incomplete or damaged; nothing was run.
    westerkwartier.errors.ReportFailed
        A notebook failed; it is saved under ``<uit>/_failed/<gemeente-slug>/`` and nothing
        of that report was published. The other reports were made and published first.
    westerkwartier.pipeline.processes.RunStopped
        SIGTERM, Ctrl-C or SIGHUP: the kernel of the report being made was stopped within
        seconds, the reports already made are in the index, the temporary files are gone.
    """
    if peildatum is None:
        peildatum = dt.date.today()
    inputs = check_inputs(gemeente, jaar, rapport, vergelijk, peildatum, ambities=ambities)
    uit = Path(uit)
    check_output(uit)
    offline, env, notice = cbs_check()
    jobs = report_jobs(
        inputs,
        uit,
        " ".join(part for part in (str(gegevensmelding or ""), notice) if part),
        notebooks_dir=Path(notebooks_dir),
        timeout_per_cell=timeout_per_cell,
    )
    results: list[dict[str, Any]] = []
    stopped: Stopped | None = None
    with (
        stop_signals() as stop,
        scratch_dir("wk-rapport-run-"),
        kernel_environment(kernel_env(offline) | env),
        reused_kernel(),
    ):
        # a busy kernel is killed before the stop unwinds papermill, whose clean-up would ask
        # it to shut down while it works (and it would print tracebacks into the log)
        before = children()
        stop.on_stop.append(lambda: stop_new_children(before))
        stop.on_repeat.append(lambda: kill_now(descendants(os.getpid())))
        try:
            for job in jobs:
                results.append(run_job(job))
        except Stopped as err:  # run_job has stopped the kernel of the unfinished report
            stopped = err
        made = [(j, r) for j, r in zip(jobs, results, strict=False) if r["status"] == "gemaakt"]
        if made:
            records = [
                _index_record(uit, job, result["kop"], inputs.peildatum) for job, result in made
            ]
            publish_index(uit, records, write=index)
    if stopped is not None:
        done = ", ".join(Path(job.output).name for job, _ in made) or "geen"
        raise RunStopped(
            stopped.signum,
            f"Gestopt door {stopped.name}. Klaar en gepubliceerd: {done}; niet af: "
            f"{len(jobs) - len(made)} rapport(en). Start de opdracht opnieuw voor de rest.",
        )
    _raise_first_failure(results)
    return [Path(job.output) for job, _ in made]


def cbs_check() -> tuple[bool, dict[str, str], str]:
    """Ask CBS once before the kernel starts, as a batch does (not in offline mode).

    When CBS does not answer, the kernel runs offline on cache and snapshot: it then reads the
    national panel and the index inputs that earlier runs kept on disk for the same data,
    instead of finding out table by table and rebuilding them (a panel built from copies
    while CBS failed is never kept). The report gets the batch's notice.

    Returns
    -------
    offline, env, notice : bool, dict of str, str
        Whether the kernel runs offline; the environment that tells it CBS was found
        unreachable (``WESTERKWARTIER_CBS_UNREACHABLE``); the notice for the report (empty
        when CBS answered or offline mode was chosen).
    """
    if settings.offline:
        return True, {}, ""
    from westerkwartier.pipeline.batch import cbs_outcome_env, check_cbs_once, data_state

    reachable = check_cbs_once()
    data = data_state(reachable)
    if data.notice:
        log.warning(data.notice)
    return data.offline, cbs_outcome_env(data), data.notice


def report_jobs(
    inputs: Inputs,
    uit: Path,
    gegevensmelding: str = "",
    *,
    notebooks_dir: Path = NOTEBOOKS_DIR,
    timeout_per_cell: float = CELL_TIMEOUT,
) -> list[ReportJob]:
    """Return the jobs of one run: one per report, written to ``<uit>/<gemeente-slug>/``."""
    catalogue = load_report_catalogue()
    region = inputs.region
    folder = slug(region.name)
    parameters = {
        "gemeente": region.code,
        "jaar": inputs.jaar,
        "vergelijk": [r.code for r in inputs.vergelijk],
        "peildatum": inputs.peildatum.isoformat(),
        "gegevensmelding": str(gegevensmelding or ""),
    }
    if inputs.ambities is not None:
        parameters["ambities"] = str(inputs.ambities)
    return [
        ReportJob(
            index=number,
            report=rid,
            code=region.code,
            name=region.name,
            notebook=str(Path(notebooks_dir) / catalogue[rid].notebook),
            output=str(uit / folder / f"{rid}.html"),
            title=catalogue[rid].title_pattern.format(gemeente=region.name),
            parameters=dict(parameters),
            failed_dir=str(uit / "_failed" / folder),
            cell_timeout=timeout_per_cell,
        )
        for number, rid in enumerate(inputs.rapporten)
    ]


def _raise_first_failure(results: Iterable[dict[str, Any]]) -> None:
    """Raise the error of the first report that was not made (its own exception when known)."""
    for result in results:
        if result["status"] == "gemaakt":
            continue
        error = result.get("error")
        if isinstance(error, Exception):
            raise error
        raise ReportFailed(result.get("fout") or "Rapport niet gemaakt.")


# ----------------------------------------------------------------------------------------------
# Index
# ----------------------------------------------------------------------------------------------
def _index_record(
    uit: Path, job: ReportJob, facts: dict[str, str], peildatum: dt.date
) -> dict[str, Any]:
    """Return the index entry of a report just made, from what the report says of itself."""
    name = facts.get("gemeente") or job.name
    entry = IndexEntry(
        municipality=f"{name} ({facts.get('code') or job.code})",
        report=facts.get("titel") or job.report,
        reference_year=facts.get("peiljaar") or "onbekend",
        data_date=facts.get("gegevens") or "onbekend",
        generated=facts.get("peildatum") or peildatum.isoformat(),
        href=Path(job.output).relative_to(uit).as_posix(),
    )
    return {"rapport": job.report, "gemeente": name, **asdict(entry)}


def read_index_record(uit: Path | str) -> list[dict[str, Any]]:
    """Return the entries of the index of ``uit`` (``<uit>/.index.json``; none yet: empty)."""
    path = Path(uit) / INDEX_RECORD
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except (ValueError, OSError) as err:  # damaged JSON, not UTF-8, a folder
        raise DataIntegrityError(
            f"De lijst van rapporten {path} is beschadigd ({type(err).__name__}). Verwijder "
            "hem en maak de rapporten opnieuw (`westerkwartier report`)."
        ) from None
    if not isinstance(raw, dict):
        raise DataIntegrityError(
            f"De lijst van rapporten {path} is beschadigd (geen JSON-object). Verwijder hem en "
            "maak de rapporten opnieuw (`westerkwartier report`)."
        )
    return [r for r in raw.get("rapporten", []) if isinstance(r, dict) and "href" in r]


def _merged(uit: Path, current: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[dict]:
    """Merge current and new entries: a new one replaces the one with the same link.

    Only reports whose file still exists are kept; sorted by municipality, then catalogue
    order, then link.
    """
    order = {rid: i for i, rid in enumerate(load_report_catalogue())}
    by_href = {r["href"]: r for r in [*current, *new]}
    kept = [r for r in by_href.values() if (uit / r["href"]).is_file()]
    return sorted(
        kept,
        key=lambda r: (
            name_order(str(r.get("gemeente", ""))),
            order.get(str(r.get("rapport")), 99),
            r["href"],
        ),
    )


def _as_date(text: Any) -> dt.date | str:
    try:
        return dt.date.fromisoformat(str(text))
    except ValueError:
        return str(text or "onbekend")


def _as_entry(record: dict[str, Any]) -> IndexEntry:
    return IndexEntry(
        municipality=record["municipality"],
        report=record["report"],
        reference_year=record["reference_year"],
        data_date=_as_date(record["data_date"]),
        generated=_as_date(record["generated"]),
        href=record["href"],
    )


def publish_index(
    uit: Path | str, records: Iterable[dict[str, Any]] = (), *, write: bool = True
) -> Path:
    """Add reports to the index of ``uit`` and write ``<uit>/index.html`` from its entries.

    Reads the entries (:func:`read_index_record`), adds ``records`` (a report made again
    replaces its old entry; reports whose file is gone drop out), stores them and writes the
    page with :func:`westerkwartier.pipeline.index_page.write_index`, all under
    :func:`index_lock`, so concurrent runs into one folder each leave an index that lists every
    report made so far.

    Parameters
    ----------
    uit : Path or str
        The output folder.
    records : iterable of dict
        New entries: the fields of :class:`~westerkwartier.pipeline.index_page.IndexEntry`
        plus ``rapport`` (report id) and ``gemeente`` (municipality name), for the order.
    write : bool, default True
        Also write ``index.html`` (else only the entries are stored).

    Returns
    -------
    Path
        ``<uit>/index.html``.
    """
    from westerkwartier.pipeline.notebook import write_atomic

    uit = Path(uit)
    with index_lock(uit):
        merged = _merged(uit, read_index_record(uit), list(records))
        payload = {"formaat": 1, "rapporten": merged}
        write_atomic(uit / INDEX_RECORD, json.dumps(payload, indent=1, ensure_ascii=False) + "\n")
        if write:
            write_index([_as_entry(r) for r in merged], uit / "index.html", title=INDEX_TITLE)
    return uit / "index.html"


def write_reports_index(uit: Path | str = REPORTS_DIR) -> Path:
    """Write ``<uit>/index.html`` from the entries of the folder (see :func:`publish_index`)."""
    return publish_index(uit)


def index_entries(uit: Path | str = REPORTS_DIR) -> list[IndexEntry]:
    """List the reports of the index of ``uit``, by municipality then report order."""
    return [_as_entry(r) for r in _merged(Path(uit), read_index_record(uit), [])]


__all__ = [
    "INDEX_TITLE",
    "check_inputs",
    "check_output",
    "check_snapshot",
    "index_entries",
    "index_lock",
    "publish_index",
    "read_index_record",
    "render_reports",
    "report_jobs",
    "report_names",
    "slug",
    "write_reports_index",
]
