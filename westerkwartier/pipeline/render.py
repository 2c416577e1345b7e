"""Make the Dutch HTML reports of a municipality and the index page that lists them.

:func:`render_reports` checks every input before anything runs (municipality, year, date,
report names, extra municipalities, the offline snapshot's checksums, a writable output folder),
runs each report notebook through
:func:`westerkwartier.pipeline.notebook.run_notebook` (parameter validation, time-out, failed runs
saved
under ``reports/_failed``, HTML checks) and writes

* ``<uit>/<gemeente-slug>/<rapport>.html`` per report, and
* ``<uit>/index.html`` listing every report in ``<uit>`` with municipality, reference year,
  data date and report date, read back from the reports themselves. The rebuild holds a lock
  (``<uit>/.index.lock``), so runs at the same time into one folder never drop each other's
  reports from the index.

The same inputs give byte-identical files: the report date (``peildatum``) is a parameter,
never the clock.

Examples
--------
>>> render_reports("Westerkwartier", peildatum="2026-11-27")  # doctest: +SKIP
[PosixPath('reports/westerkwartier/aantrekkelijkheid.html'),
 PosixPath('reports/westerkwartier/talent.html')]
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING, Any

from westerkwartier import settings
from westerkwartier.errors import DataIntegrityError, OutputNotWritable, SnapshotMissing
from westerkwartier.reporting.report_catalogue import load_manifest, report_spec
from westerkwartier.reporting.report_data import parse_jaar, parse_peildatum
from westerkwartier.sources.regions import slug

if TYPE_CHECKING:
    from westerkwartier.pipeline.index_page import IndexEntry

#: Folder of the report notebooks (``notebooks/`` in the project).
NOTEBOOKS_DIR: Path = settings.project_dir / "notebooks"

#: Default output folder.
REPORTS_DIR: Path = Path("reports")

#: Title of the index page.
INDEX_TITLE = "Rapporten van de regionale talent- en vitaliteitsmonitor"

#: Seconds one notebook cell may run.
CELL_TIMEOUT: float = 600

#: Lock file in ``uit`` held while the index page is rebuilt (concurrent runs, one folder).
INDEX_LOCK = ".index.lock"

#: Seconds a run waits for another run's index rebuild (which takes well under a second).
INDEX_LOCK_TIMEOUT: float = 120


def run_notebook(*args: Any, **kwargs: Any) -> Path:
    """Call :func:`westerkwartier.pipeline.notebook.run_notebook`, imported only when needed.

    Importing the runner (nbformat, papermill) takes seconds; bad input is refused before.
    """
    from westerkwartier.pipeline import notebook

    return notebook.run_notebook(*args, **kwargs)


def report_names(rapport: str | Sequence[str]) -> list[str]:
    """Turn ``alle``, one name or a list into report ids of the manifest, in manifest order.

    Raises
    ------
    InputError
        For an unknown report name.

    Examples
    --------
    >>> report_names("alle")
    ['aantrekkelijkheid', 'talent']
    """
    manifest = load_manifest()
    asked = [rapport] if isinstance(rapport, str) else list(rapport)
    if any(str(a).strip().lower() == "alle" for a in asked):
        return list(manifest)
    ids = [report_spec(a).id for a in asked]
    return [r for r in manifest if r in ids]


@dataclass(frozen=True)
class Inputs:
    """Checked inputs of one run: resolved municipality, year, extra municipalities, date."""

    region: Any
    jaar: int
    vergelijk: list[Any]
    peildatum: dt.date
    rapporten: list[str]


def check_inputs(
    gemeente: str,
    jaar: int | str = 0,
    rapport: str | Sequence[str] = "alle",
    vergelijk: Sequence[str] = (),
    peildatum: str | dt.date = "2026-11-27",
    *,
    registry: Any | None = None,
) -> Inputs:
    """Check every input of a run before anything is executed.

    Raises
    ------
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
    return Inputs(region, year, extra, date, names)


_SNAPSHOT_FIX = (
    "Haal de snapshot opnieuw op uit git (`git checkout -- data/snapshot`) of bouw hem met "
    "`westerkwartier snapshot`."
)


def check_snapshot() -> None:
    """Check that every table of the offline snapshot is present and matches its checksum.

    The reports read the snapshot (offline, and online as the fallback when CBS cannot be
    reached); a damaged file would otherwise only show up as a failing notebook cell minutes
    later. Reading and hashing the whole snapshot takes a few milliseconds.

    Raises
    ------
    SnapshotMissing
        No ``provenance.json``, or a table it lists has no data or metadata file.
    DataIntegrityError
        A table's metadata cannot be read or its data does not match the recorded checksum.
    """
    from westerkwartier.sources import data, store

    folder = data.snapshot_tables_dir()
    for table_id in data.snapshot_table_ids():  # SnapshotMissing without provenance.json
        meta_path = folder / f"{table_id}.json"
        data_path = folder / f"{table_id}.parquet"
        missing = [p.name for p in (meta_path, data_path) if not p.is_file()]
        if missing:
            raise SnapshotMissing(
                f"De offline snapshot is onvolledig: {', '.join(missing)} ontbreekt in "
                f"{folder.name}/. {_SNAPSHOT_FIX}"
            )
        try:
            expected = json.loads(meta_path.read_text(encoding="utf-8")).get("data_sha256")
        except (ValueError, AttributeError) as err:  # JSON or UTF-8 errors, not a JSON object
            raise DataIntegrityError(
                f"Snapshotbestand {meta_path.name} in {folder.name}/ is beschadigd "
                f"({type(err).__name__}). {_SNAPSHOT_FIX}"
            ) from err
        if expected and store.sha256_file(data_path) != expected:
            raise DataIntegrityError(
                f"Snapshotbestand {data_path.name} in {folder.name}/ is beschadigd (checksum "
                f"klopt niet). {_SNAPSHOT_FIX}"
            )


def check_output(uit: Path | str) -> None:
    """Check that the output folder can be written, before anything runs.

    Creates ``uit`` when it does not exist (the run writes there anyway) and writes and removes
    a nameless temporary file in it.

    Raises
    ------
    OutputNotWritable
        ``uit`` is a file, lies below a file, or may not be written.
    """
    uit = Path(uit)
    try:
        uit.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=uit):
            pass
    except OSError as err:
        raise OutputNotWritable(uit, err) from err


@contextmanager
def index_lock(uit: Path | str, timeout: float = INDEX_LOCK_TIMEOUT) -> Iterator[None]:
    """Hold the index lock of ``uit`` (``fcntl.flock`` on ``uit/.index.lock``).

    Two runs that publish into the same folder each rebuild ``index.html`` from the reports
    they find; without the lock the run that scanned first could write last and drop the
    other's report from the index.

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


@contextmanager
def _kernel_environment() -> Iterator[None]:
    """Pass the run-time settings (offline, snapshot, cache) on to the notebook kernels."""
    wanted = {
        "WESTERKWARTIER_OFFLINE": "1" if settings.offline else "0",
        "WESTERKWARTIER_SNAPSHOT_DIR": str(Path(settings.snapshot_dir).resolve()),
        "WESTERKWARTIER_CACHE_DIR": str(Path(settings.cache_dir).resolve()),
        "WESTERKWARTIER_PROGRESS": "0",
    }
    before = {k: os.environ.get(k) for k in wanted}
    os.environ.update(wanted)
    try:
        yield
    finally:
        for key, value in before.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def render_reports(
    gemeente: str = "GM1969",
    jaar: int | str = 0,
    rapport: str | Sequence[str] = "alle",
    vergelijk: Sequence[str] = (),
    peildatum: str | dt.date | None = None,
    uit: Path | str = REPORTS_DIR,
    gegevensmelding: str = "",
    *,
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
        ``aantrekkelijkheid``, ``talent`` or ``alle``.
    vergelijk : sequence of str
        Extra municipalities to compare with.
    peildatum : str or datetime.date, optional
        Date printed on the reports (``JJJJ-MM-DD``); default today (the only place the clock
        is read; the notebooks never do).
    uit : Path or str
        Output folder (default ``reports``).
    gegevensmelding : str
        Notice about the data shown at the top of each report (scheduled runs).
    notebooks_dir : Path or str
        Folder of the report notebooks.
    timeout_per_cell : float
        Seconds one notebook cell may run.
    index : bool
        Rewrite ``<uit>/index.html`` afterwards (default True).

    Returns
    -------
    list of Path
        The reports written, in manifest order.

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
        of that report was published.
    """
    if peildatum is None:
        peildatum = dt.date.today()
    inputs = check_inputs(gemeente, jaar, rapport, vergelijk, peildatum)
    uit = Path(uit)
    check_output(uit)
    folder = slug(inputs.region.name)
    manifest = load_manifest()
    written: list[Path] = []
    parameters = {
        "gemeente": inputs.region.code,
        "jaar": inputs.jaar,
        "vergelijk": [r.code for r in inputs.vergelijk],
        "peildatum": inputs.peildatum.isoformat(),
        "gegevensmelding": str(gegevensmelding or ""),
    }
    with _kernel_environment():
        for rid in inputs.rapporten:
            spec = manifest[rid]
            out = run_notebook(
                Path(notebooks_dir) / spec.notebook,
                uit / folder / f"{rid}.html",
                parameters,
                title=f"{spec.titel} in {inputs.region.name} — regionale monitor",
                timeout_per_cell=timeout_per_cell,
                failed_dir=uit / "_failed" / folder,
            )
            written.append(out)
    if index:
        write_reports_index(uit)
    return written


# ----------------------------------------------------------------------------------------------
# Index
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


def read_report_header(path: Path) -> dict[str, str] | None:
    """Return the facts a report states about itself (rapport, gemeente, peiljaar, ...).

    Returns
    -------
    dict or None
        None for an HTML file that is not one of our reports.
    """
    reader = _HeaderReader()
    reader.feed(Path(path).read_text(encoding="utf-8"))
    return reader.found


def _as_date(text: str) -> dt.date | str:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return text or "onbekend"


def index_entries(uit: Path | str = REPORTS_DIR) -> list[IndexEntry]:
    """List every report in ``uit`` for the index, by municipality then report order."""
    from westerkwartier.pipeline.index_page import IndexEntry

    uit = Path(uit)
    order = {rid: i for i, rid in enumerate(load_manifest())}
    found = []
    for path in sorted(uit.glob("*/*.html")):
        if path.parent.name.startswith(("_", ".")):
            continue
        facts = read_report_header(path)
        if not facts:
            continue
        entry = IndexEntry(
            municipality=f"{facts.get('gemeente', '')} ({facts.get('code', '')})",
            report=facts.get("titel", path.stem),
            reference_year=facts.get("peiljaar", "onbekend"),
            data_date=_as_date(facts.get("gegevens", "")),
            generated=_as_date(facts.get("peildatum", "")),
            href=f"{path.parent.name}/{path.name}",
        )
        found.append((facts.get("gemeente", ""), order.get(facts.get("rapport", ""), 99), entry))
    found.sort(key=lambda item: (item[0].lower(), item[1], item[2].href))
    return [entry for _, _, entry in found]


def write_reports_index(uit: Path | str = REPORTS_DIR) -> Path:
    """Write ``<uit>/index.html`` listing every report found in ``uit``.

    The folder is scanned and the page written under :func:`index_lock`, so concurrent runs
    into one folder each leave an index that lists every report written so far.
    """
    from westerkwartier.pipeline.index_page import write_index

    uit = Path(uit)
    with index_lock(uit):
        return write_index(index_entries(uit), uit / "index.html", title=INDEX_TITLE)


__all__ = [
    "INDEX_TITLE",
    "check_inputs",
    "check_output",
    "check_snapshot",
    "index_entries",
    "index_lock",
    "read_report_header",
    "render_reports",
    "report_names",
    "slug",
    "write_reports_index",
]
