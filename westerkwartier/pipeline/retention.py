"""Remove old batch runs without breaking a promise (``westerkwartier opruimen``).

Every batch run writes a dated folder (``reports/2026-11-27T0715/``); unchanged reports are hard
links, so old runs cost little, but over months they add up. A run may only go when nothing
still needs it:

* the run ``latest`` points at;
* every run that holds the newest copy of a report (``.batch-status.json``): a report that
  failed in later runs lives on there, and the next run links it into its own folder;
* the newest ``bewaar`` runs, and runs younger than ``dagen`` days.

The clean-up takes the batch's folder lock, so it never removes a run while a batch writes
into the folder. Executed notebooks of failed reports (``_failed/<run>/``) go with their run.

Examples
--------
Cleaning removes folders, so this is not run as a doctest::

    result = clean_runs("reports", keep=12)
    result["verwijderd"], result["vrijgemaakt_bytes"]
    # (['2026-08-01T0715', '2026-08-02T0715'], 5242880)
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from westerkwartier.errors import DataIntegrityError, InputError
from westerkwartier.pipeline.batch import (
    FAILED_DIR,
    LATEST,
    RUN_NAME_FORMAT,
    STATE_FILE,
    _lock,
)

#: The name of a run folder: ``2026-11-27T0715``, or ``2026-11-27T0715-2`` for a second run in
#: the same minute.
RUN_NAME = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{4})(?:-(\d+))?$")


def run_folders(out_dir: Path | str) -> list[Path]:
    """Return the run folders of ``out_dir``, oldest first (links and other folders ignored)."""
    out_dir = Path(out_dir)
    runs = [
        p for p in out_dir.iterdir() if RUN_NAME.match(p.name) and p.is_dir() and not p.is_symlink()
    ]
    return sorted(runs, key=_order)


def _order(path: Path) -> tuple[str, int]:
    m = RUN_NAME.match(path.name)
    assert m is not None
    return m.group(1), int(m.group(2) or 1)


def _started(path: Path) -> dt.datetime:
    m = RUN_NAME.match(path.name)
    assert m is not None
    return dt.datetime.strptime(m.group(1), RUN_NAME_FORMAT)


def needed_runs(out_dir: Path | str) -> dict[str, str]:
    """Return the runs that must stay, each with the reason (in Dutch).

    Raises
    ------
    DataIntegrityError
        The state file cannot be read: then nobody can tell which runs hold the last good
        version of a report, so nothing may be removed.
    """
    out_dir = Path(out_dir)
    needed: dict[str, str] = {}
    latest = out_dir / LATEST
    if latest.is_symlink():
        target = Path(os.readlink(latest)).name
        needed[target] = f"'{LATEST}' wijst ernaar"
    state_path = out_dir / STATE_FILE
    if state_path.exists():
        try:
            state = json.loads(state_path.read_text(encoding="utf-8"))
            reports = state["rapporten"]
            files = [str(entry["bestand"]) for entry in reports.values()]
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
            raise DataIntegrityError(
                f"De batchstatus {state_path} is onleesbaar ({type(err).__name__}); daardoor is "
                "niet te zien welke runs de laatste goede versie van een rapport bevatten, en "
                "wordt er niets verwijderd. Laat eerst een batch draaien (die schrijft de "
                "status opnieuw) en ruim daarna op."
            ) from None
        for name, file in sorted(zip(reports, files, strict=True)):
            run = file.split("/", 1)[0]
            needed.setdefault(run, f"bevat de nieuwste versie van {name}")
    return needed


def clean_runs(
    out_dir: Path | str,
    *,
    keep: int | None = None,
    days: float | None = None,
    dry_run: bool = False,
    now: Callable[[], dt.datetime] = dt.datetime.now,
    wait: float = 0.0,
) -> dict[str, Any]:
    """Remove old runs from a batch output folder; never one that is still needed.

    Parameters
    ----------
    out_dir : Path or str
        The batch output folder (``[run] uit`` of the manifest, ``--uit``).
    keep : int, optional
        Keep the newest ``keep`` runs (at least 1).
    days : float, optional
        Keep runs younger than ``days`` days. With ``keep`` too, a run goes only when both
        allow it.
    dry_run : bool
        Only say what would be removed.
    now : callable
        The clock (tests).
    wait : float
        Seconds to wait when a batch holds the folder lock.

    Returns
    -------
    dict
        ``verwijderd`` (runs removed, or that would be with ``dry_run``), ``bewaard`` (run ->
        reason it stays), ``vrijgemaakt_bytes`` (space freed: files not linked from a kept
        run), ``droog``.

    Raises
    ------
    InputError
        Neither ``keep`` nor ``days``, a value below 1 / 0, or a folder that does not exist.
    DataIntegrityError
        The batch state is unreadable (see :func:`needed_runs`).
    westerkwartier.pipeline.batch.BatchBusy
        A batch kept the folder locked for longer than ``wait`` seconds.
    """
    if keep is None and days is None:
        raise InputError(
            "Zeg hoeveel runs er blijven: --bewaar N (de nieuwste N runs) en/of --dagen D "
            "(runs jonger dan D dagen)."
        )
    if keep is not None and (isinstance(keep, bool) or int(keep) != keep or keep < 1):
        raise InputError(f"--bewaar moet een geheel getal van 1 of meer zijn, niet {keep!r}.")
    if days is not None and not (days == days and days >= 0):  # nan or negative
        raise InputError(f"--dagen moet 0 of meer zijn, niet {days!r}.")
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        raise InputError(
            f"De map {out_dir} bestaat niet (of is geen map). Geef met --uit de map van de "
            "batchruns, bijvoorbeeld --uit reports."
        )
    with _lock(out_dir, timeout=wait):
        return _clean(out_dir, keep, days, dry_run, now())


def _clean(
    out_dir: Path, keep: int | None, days: float | None, dry_run: bool, now: dt.datetime
) -> dict[str, Any]:
    runs = run_folders(out_dir)
    reasons = needed_runs(out_dir)
    kept: dict[str, str] = {}
    doomed: list[Path] = []
    for position, run in enumerate(reversed(runs)):  # newest first
        if run.name in reasons:
            kept[run.name] = reasons[run.name]
        elif keep is not None and position < keep:
            kept[run.name] = f"een van de nieuwste {keep}"
        elif days is not None and now - _started(run) < dt.timedelta(days=days):
            kept[run.name] = f"jonger dan {days:g} dagen"
        else:
            doomed.append(run)
    doomed.reverse()
    freed = _freed_bytes(doomed, [r for r in runs if r not in doomed])
    if not dry_run:
        for run in doomed:
            _remove(run)
            _remove(out_dir / FAILED_DIR / run.name)
    return {
        "verwijderd": [r.name for r in doomed],
        "bewaard": dict(sorted(kept.items())),
        "vrijgemaakt_bytes": freed,
        "droog": dry_run,
    }


def _files(folders: Iterable[Path]) -> Iterable[os.stat_result]:
    for folder in folders:
        for root, _, names in os.walk(folder):
            for name in names:
                try:
                    yield os.lstat(os.path.join(root, name))
                except OSError:
                    continue


def _freed_bytes(doomed: list[Path], kept: list[Path]) -> int:
    """Bytes freed by removing ``doomed``: files that no kept run links to."""
    kept_files = {(st.st_dev, st.st_ino) for st in _files(kept)}
    seen: set[tuple[int, int]] = set()
    total = 0
    for st in _files(doomed):
        key = (st.st_dev, st.st_ino)
        if key in kept_files or key in seen:
            continue
        seen.add(key)
        total += st.st_size
    return total


def _remove(path: Path) -> None:
    """Remove a run folder (never through a link)."""
    if path.is_symlink() or not path.exists():
        return
    shutil.rmtree(path)


def describe(result: dict[str, Any], out_dir: Path | str) -> str:
    """Return a Dutch account of a clean-up for the terminal or a log."""
    removed = result["verwijderd"]
    verb = "zou verwijderen" if result["droog"] else "verwijderd"
    mb = result["vrijgemaakt_bytes"] / 2**20
    lines = [
        f"{len(removed)} run(s) {verb} uit {out_dir} ({mb:.1f} MB vrij"
        f"{' te maken' if result['droog'] else 'gemaakt'}); {len(result['bewaard'])} bewaard."
    ]
    lines += [f"  weg: {name}" for name in removed]
    lines += [f"  blijft: {name} ({why})" for name, why in result["bewaard"].items()]
    return "\n".join(lines)
