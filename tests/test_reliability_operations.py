"""Operating the batch for months: stops, clean-up, pre-run checks, disks, damaged files.

Every case is provoked for real and what happened is observed:

* **Stops**: real ``westerkwartier`` processes in their own session, with a private ``TMPDIR``
  and a marker in their environment. Every process of the run (fork server, workers, kernels)
  inherits the marker, so a scan of ``/proc/*/environ`` finds anything that outlives the run.
* **Clean-up**: batch runs of the mini notebook with a fixed clock, months apart.
* **Pre-run check**: every failing manifest goes through ``batch --controleer`` and through
  ``batch`` itself; both must give the same exit code, and the run may not start a kernel.
* **Full disks**: a small tmpfs mounted for the test and filled up.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pytest

from westerkwartier import cli, settings
from westerkwartier.errors import EXIT_CODES, OutputNotWritable
from westerkwartier.pipeline import batch, kernels, processes, retention
from westerkwartier.pipeline import manifest as batch_manifest
from westerkwartier.pipeline import render as reports
from westerkwartier.reporting import html

MINI = Path(__file__).parent / "fixtures" / "notebooks" / "mini.ipynb"
SNAPSHOT = Path(settings.snapshot_dir)
#: Seconds within which a stopped run must have exited (the table states this bound).
STOP_WITHIN = 20


def _mini_manifest(folder: Path, *, slow: float = 120.0, name: str = "m.toml") -> Path:
    """GM1969 gets a quick report (``snel``) and then a slow one (``traag``)."""
    path = folder / name
    path.write_text(
        f'gemeenten = ["Westerkwartier"]\n[[rapport]]\nnaam = "snel"\nnotebook = "{MINI}"\n'
        f'[[rapport]]\nnaam = "traag"\nnotebook = "{MINI}"\n'
        f"[rapport.parameters]\nwachten = {slow}\n",
        encoding="utf-8",
    )
    return path


# ----------------------------------------------------------------------------------------------
# Processes of a run: found by a marker in their environment
# ----------------------------------------------------------------------------------------------


def _marked(marker: str) -> list[tuple[int, str]]:
    """Every process (but this one) whose environment holds ``WK_TEST_MARKER=<marker>``."""
    found = []
    needle = f"WK_TEST_MARKER={marker}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if needle not in (entry / "environ").read_bytes().split(b"\0"):
                continue
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()[:120]
        except OSError:
            continue
        if state not in {"Z", "X"}:
            found.append((int(entry.name), command))
    return found


def _wait(predicate: Callable[[], object], timeout: float, step: float = 0.2) -> object:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(step)


@dataclass
class Stop:
    """One stop scenario and what was observed."""

    command: str  # batch or report
    signum: int
    target: str  # "proces" (the main process) or "groep" (its whole process group)
    times: int = 1
    time_limit: float | None = None  # a report time limit instead of a signal
    code: int | None = None
    seconds: float = 0.0
    survivors: list[tuple[int, str]] = field(default_factory=list)
    leftovers: list[str] = field(default_factory=list)
    killed_left: list[str] = field(default_factory=list)  # before the next run (SIGKILL)
    stderr: str = ""
    out: Path | None = None
    tmp: Path | None = None

    @property
    def label(self) -> str:
        if self.time_limit:
            return f"{self.command}: time limit per report"
        name = {
            signal.SIGTERM: "SIGTERM",
            signal.SIGINT: "Ctrl-C",
            signal.SIGHUP: "SIGHUP",
            signal.SIGKILL: "SIGKILL",
        }
        twice = " twice" if self.times > 1 else ""
        whom = "main process" if self.target == "proces" else "whole process group"
        return f"{self.command}: {name[self.signum]}{twice} to the {whom}"


STOPS = [
    Stop("batch", signal.SIGTERM, "proces"),  # `timeout`, `kill PID`, systemd KillMode=mixed
    Stop("batch", signal.SIGINT, "groep"),  # Ctrl-C in a terminal reaches the whole group
    Stop("batch", signal.SIGINT, "groep", times=2),
    Stop("batch", signal.SIGHUP, "groep"),  # the terminal is closed
    Stop("batch", signal.SIGTERM, "groep"),  # systemd KillMode=control-group, kill -- -PGID
    Stop("batch", 0, "", time_limit=25.0),  # well above the quick report, even on a busy box
    Stop("report", signal.SIGTERM, "proces"),
    Stop("report", signal.SIGINT, "groep", times=2),
]

#: The run's process killed outright (the OOM killer, `timeout -s KILL`, `kill -9`): it cannot
#: stop anything itself. A batch's workers notice and clean up (``batch._orphaned``); what a
#: report's run leaves, the next run removes (``processes.sweep``).
KILLED = Stop("batch", signal.SIGKILL, "proces")
KILLED_REPORT = Stop("report", signal.SIGKILL, "proces")


def _kernel_running(marker: str) -> bool:
    return any("ipykernel" in command for _, command in _marked(marker))


#: Starts ``python -m ...`` (the rest of the command line) with Ctrl-C's default action.
_TERMINAL_START = (
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
    "os.execv(sys.executable, [sys.executable, *sys.argv[1:]])"
)


def _play(stop: Stop, root: Path) -> Stop:
    """Run one scenario in a real process and observe it."""
    tmp = root / f"{stop.command}-{stop.signum}-{stop.target}-{stop.times}-{stop.time_limit}"
    tmp.mkdir(parents=True)
    # short, as a system's own: the kernels' sockets then fit below a batch worker's folder
    scratch = Path(tempfile.mkdtemp(prefix="wks-", dir=kernels.SHORT_TMP))
    (tmp / "tmp").symlink_to(scratch)  # found with the scenario's other files
    try:
        return _observe(stop, tmp, scratch)
    finally:  # also when the scenario fails: nothing of the test stays behind
        shutil.rmtree(scratch, ignore_errors=True)


def _observe(stop: Stop, tmp: Path, scratch: Path) -> Stop:
    """Play the scenario with ``scratch`` as its temporary folder; see what it leaves."""
    deepest = (
        scratch / "wk-batch-1234567-abcdefgh" / "werker-1234568-abcdefgh" / "wk-kernel-12345678"
    )
    deepest.mkdir(parents=True)  # as deep as a batch worker's kernel folder will be
    options = kernels.kernel_options(deepest)
    shutil.rmtree(scratch / "wk-batch-1234567-abcdefgh")
    assert options["config"]["KernelManager"]["transport"] == "ipc", "sockets do not fit"
    marker = uuid.uuid4().hex
    env = dict(
        os.environ,
        WK_TEST_MARKER=marker,
        TMPDIR=str(scratch),
        WESTERKWARTIER_CACHE_DIR=str(tmp / "cache"),
        MPLBACKEND="agg",
    )
    out = tmp / "uit"
    if stop.command == "batch":
        args = ["batch", "--manifest", str(_mini_manifest(tmp)), "--uit", str(out)]
        args += ["--workers", "1", "--voortgang", "regels", "--eigen-notebooks"]
        if stop.time_limit:
            args += ["--tijdslimiet-rapport", str(stop.time_limit)]
    else:
        args = ["report", "--rapport", "talent", "--peildatum", "2026-11-27", "--uit", str(out)]
    # A run started by a shell without job control (nohup, `make test &`) inherits Ctrl-C
    # ignored, and the CLI rightly keeps it so; these scenarios are a run in a terminal, so
    # the run starts with Ctrl-C's default action, as a terminal gives it.
    command = [sys.executable, "-c", _TERMINAL_START, "-m", "westerkwartier.cli", "--offline"]
    command += args
    started = time.monotonic()
    with subprocess.Popen(
        command,
        cwd=tmp,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    ) as proc:
        reader = threading.Thread(target=lambda: setattr(stop, "stderr", proc.stderr.read()))
        reader.start()
        if not stop.time_limit:
            if stop.command == "batch":  # the quick report is done, the slow one runs
                _wait(lambda: list(out.glob("*/GM1969/snel.html")), 240)
            _wait(lambda: _kernel_running(marker), 240)
            time.sleep(1.0)
            started = time.monotonic()
            for n in range(stop.times):
                if n:
                    time.sleep(0.3)
                if stop.target == "groep":
                    os.killpg(proc.pid, stop.signum)
                else:
                    proc.send_signal(stop.signum)
        try:
            stop.code = proc.wait(timeout=240)
        except subprocess.TimeoutExpired:
            stop.code = None  # it hangs: the test fails below
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        stop.seconds = time.monotonic() - started
        # survivors first: a survivor holds the run's output open, and reading it would wait
        _wait(lambda: not _marked(marker), 10)
        stop.survivors = _marked(marker)
        for pid, _ in stop.survivors:  # clean up after a failing case, then let it fail
            os.kill(pid, signal.SIGKILL)
        reader.join(30)
        proc.stdout.read()
    stop.leftovers = sorted(str(p.relative_to(scratch)) for p in scratch.rglob("*"))
    if stop.signum == signal.SIGKILL and stop.command == "report":
        # nothing of the killed run could clean up: the next run does, before it starts
        stop.killed_left = stop.leftovers
        again = [sys.executable, "-m", "westerkwartier.cli", "--offline", *args]
        subprocess.run(again, cwd=tmp, env=env, capture_output=True, timeout=240, check=True)
        stop.leftovers = sorted(str(p.relative_to(scratch)) for p in scratch.rglob("*"))
    stop.out, stop.tmp = out, tmp
    return stop


@pytest.fixture(scope="module")
def stops(tmp_path_factory) -> dict[str, Stop]:
    """Every stop scenario, played at the same time (each run takes 10-20 s)."""
    root = tmp_path_factory.mktemp("stops")
    scenarios = [
        Stop(**{k: v for k, v in s.__dict__.items() if k in _FIELDS})
        for s in [*STOPS, KILLED, KILLED_REPORT]
    ]
    with ThreadPoolExecutor(max_workers=4) as pool:
        played = list(pool.map(lambda s: _play(s, root), scenarios))
    return {s.label: s for s in played}


_FIELDS = ("command", "signum", "target", "times", "time_limit")


@pytest.mark.parametrize("label", [s.label for s in STOPS])
def test_a_stopped_run_leaves_nothing_behind(stops, label, reliability):
    stop = stops[label]
    expected = 7 if stop.time_limit else 128 + stop.signum
    assert stop.code == expected, (stop.code, stop.stderr[-2000:])
    assert stop.survivors == [], f"processes outlived the run: {stop.survivors}"
    assert stop.leftovers == [], f"temporary files left: {stop.leftovers}"
    # kernels use sockets in a folder of their own, not TCP ports: no kernel loses a port
    # race to another (two test runs on one machine once gave a heartbeat's traceback)
    assert "Traceback" not in stop.stderr, stop.stderr[-3000:]
    assert "without encryption" not in stop.stderr  # ipykernel's warning in every log
    if not stop.time_limit:
        assert stop.seconds < STOP_WITHIN, f"stopping took {stop.seconds:.1f} s"
        assert "Gestopt door" in stop.stderr
    kept = ""
    if stop.command == "batch":
        last = json.loads((stop.out / batch.LAST_RUN_FILE).read_text("utf-8"))
        entries = {e["rapport"]: e for e in last["rapporten"]}
        state = json.loads((stop.out / batch.STATE_FILE).read_text("utf-8"))["rapporten"]
        assert entries["snel"]["status"] == "gemaakt" and "GM1969/snel" in state
        if stop.time_limit:
            assert last["status"] == "met fouten" and entries["traag"]["status"] == "afgebroken"
        else:
            assert last["status"] == "gestopt" and last["exitcode"] == expected
            assert entries["traag"]["status"] == "onderbroken" and not last["latest_bijgewerkt"]
            assert not (stop.out / batch.LATEST).exists()  # latest only moves to complete runs
            kept = "; finished report kept and in the state, the other 'onderbroken'"
    reliability(
        "operations",
        label,
        f"real process, `westerkwartier {stop.command}`",
        (
            f"exit within {STOP_WITHIN} s; "  # the bound, not the measured time: a stable table
            if not stop.time_limit
            else "report stopped at its limit; "
        )
        + "no process (fork server, worker, kernel), temporary file, kernel connection file or "
        + "kernel socket left; no traceback or encryption warning in the log"
        + kept,
        stop.code,
    )


def test_a_killed_batch_leaves_no_process_behind(stops, reliability):
    stop = stops[KILLED.label]
    assert stop.code == -signal.SIGKILL, (stop.code, stop.stderr[-2000:])
    # without the workers' watch, fork server, worker and kernel waited for ever (1,2 GB)
    assert stop.survivors == [], f"processes outlived the killed run: {stop.survivors}"
    assert stop.leftovers == [], f"temporary files left: {stop.leftovers}"
    assert "Traceback" not in stop.stderr, stop.stderr[-3000:]
    last = json.loads((stop.out / batch.LAST_RUN_FILE).read_text("utf-8"))
    assert last["status"] == "bezig"  # what a killed run can leave: not mistaken for the last
    assert list(stop.out.glob("*/GM1969/snel.html"))  # the finished report stays
    # and is in the state already: the state is no longer written only when a run ends
    state = json.loads((stop.out / batch.STATE_FILE).read_text("utf-8"))["rapporten"]
    assert "GM1969/snel" in state and "GM1969/traag" not in state
    reliability(
        "operations",
        stop.label,
        "real process, `westerkwartier batch`",
        "the workers see the run gone and stop: no process (fork server, worker, kernel), "
        "temporary file, kernel connection file or kernel socket left within 10 s; "
        "the finished report stays and is in the state, `laatste-run.json` says 'bezig'",
        stop.code,
    )


def test_what_a_killed_report_leaves_the_next_run_removes(stops, reliability):
    stop = stops[KILLED_REPORT.label]
    assert stop.code == -signal.SIGKILL, (stop.code, stop.stderr[-2000:])
    # the kernel ends by itself once its parent is gone (ipykernel watches it)
    assert stop.survivors == [], f"processes outlived the killed run: {stop.survivors}"
    assert any(name.startswith("wk-rapport-run-") for name in stop.killed_left)
    assert stop.leftovers == [], f"the next run left: {stop.leftovers}"
    reliability(
        "operations",
        stop.label,
        "real process, `westerkwartier report`, then the same command again",
        "no process left within 10 s; the killed run's temporary folder (kernel sockets, "
        "connection file, executed notebook) stays until the next run, which removes it",
        stop.code,
    )


@pytest.mark.parametrize("how", ["stopped", "killed"])
def test_the_next_run_reuses_what_a_stopped_run_finished(how, stops, reliability):
    stop = stops[(Stop("batch", signal.SIGTERM, "proces") if how == "stopped" else KILLED).label]
    manifest = _mini_manifest(stop.tmp)
    code = cli.main(
        ["--offline", "batch", "--manifest", str(manifest), "--uit", str(stop.out)]
        + ["--rapport", "snel", "--eigen-notebooks", "--voortgang", "uit"]
    )
    last = json.loads((stop.out / batch.LAST_RUN_FILE).read_text("utf-8"))
    assert code == 0 and last["aantallen"]["hergebruikt"] == 1 and last["status"] == "geslaagd"
    reliability(
        "operations",
        f"the run after a {how} run" + (" (SIGKILL)" if how == "killed" else ""),
        "`westerkwartier batch` again",
        f"the report finished before the {'stop' if how == 'stopped' else 'kill'} is reused, "
        "not made again",
        code,
    )


# ----------------------------------------------------------------------------------------------
# Retention
# ----------------------------------------------------------------------------------------------

TWO = f"""\
gemeenten = ["Westerkwartier"]
[[rapport]]
naam = "goed"
notebook = "{MINI}"
[[rapport]]
naam = "wisselend"
notebook = "{MINI}"
"""


def _day(days: int) -> Callable[[], dt.datetime]:
    return lambda: dt.datetime(2026, 1, 1, 7, 15) + dt.timedelta(days=days)


@pytest.fixture(scope="module")
def months(tmp_path_factory) -> dict:
    """Day 0: both reports good. Day 100 and 101: ``wisselend`` fails (carried over)."""
    tmp = tmp_path_factory.mktemp("maanden")
    out = tmp / "reports"
    good = tmp / "goed.toml"
    good.write_text(TWO, encoding="utf-8")
    bad = tmp / "fout.toml"
    bad.write_text(TWO + "[rapport.parameters]\nmislukken = true\n", encoding="utf-8")

    def run(path: Path, day: int) -> dict:
        manifest = batch_manifest.load_manifest(path, allow_outside_notebooks=True)
        return batch.run_batch(manifest, out_dir=out, clock=_day(day), progress="uit")

    first = run(good, 0)
    second = run(bad, 100)
    return {"out": out, "run": run, "bad": bad, "first": first, "second": second}


def test_the_state_points_at_the_newest_copy_of_a_carried_over_report(months):
    out, second = months["out"], months["second"]
    entry = next(e for e in second["rapporten"] if e["rapport"] == "wisselend")
    assert entry["status"] == "mislukt" and entry["uitvoer"] == "GM1969/wisselend.html"
    state = json.loads((out / batch.STATE_FILE).read_text("utf-8"))["rapporten"]
    assert state["GM1969/wisselend"]["bestand"] == f"{second['run']}/GM1969/wisselend.html"
    assert state["GM1969/wisselend"]["gemaakt_op"].startswith("2026-01-01")  # the old version


def test_clean_up_keeps_every_run_still_needed(months, reliability):
    out = months["out"]
    runs = [p.name for p in retention.run_folders(out)]
    assert runs == [months["first"]["run"], months["second"]["run"]]
    dry = retention.clean_runs(out, keep=1, dry_run=True)
    assert dry["verwijderd"] == [months["first"]["run"]] and (out / runs[0]).is_dir()
    code = cli.main(["opruimen", "--uit", str(out), "--bewaar", "1"])
    assert code == 0 and not (out / runs[0]).exists()
    third = months["run"](months["bad"], 101)  # fails again: the last good version is still there
    entry = next(e for e in third["rapporten"] if e["rapport"] == "wisselend")
    assert entry["vorige_versie"] == f"{runs[1]}/GM1969/wisselend.html"
    assert "Er is geen eerdere versie" not in batch.describe(third)
    assert (out / batch.LATEST / "GM1969" / "wisselend.html").is_file()
    index = (out / batch.LATEST / "index.html").read_text("utf-8")
    assert "GM1969/wisselend.html" in index
    # latest and the run with the newest copy stay, however few runs are kept
    kept = retention.clean_runs(out, keep=1)
    assert [p.name for p in retention.run_folders(out)] == [third["run"]]
    assert kept["verwijderd"] == [runs[1]]
    reliability(
        "operations",
        "a report failed and its last good version was carried into newer runs; old runs "
        "are removed (`opruimen --bewaar 1`)",
        "CLI `opruimen --uit reports --bewaar 1`, then the next batch",
        "the run with the newest copy and the one `latest` points at stay; the report stays "
        "in `latest` and the index with its last good version",
        code,
    )


def test_clean_up_refuses_without_knowing_what_is_needed(tmp_path, capsys, reliability):
    out = tmp_path / "reports"
    (out / "2026-01-01T0715").mkdir(parents=True)
    (out / "2026-01-02T0715").mkdir()
    (out / batch.STATE_FILE).write_text("{kapot", encoding="utf-8")
    code = cli.main(["opruimen", "--uit", str(out), "--bewaar", "1"])
    err = capsys.readouterr().err
    assert code == 5 and "niets verwijderd" in err and "Traceback" not in err
    assert len(retention.run_folders(out)) == 2
    assert cli.main(["opruimen", "--uit", str(out)]) == 3  # no rule given
    assert "--bewaar" in capsys.readouterr().err
    with batch._lock(out):  # noqa: SLF001 - a batch is writing
        busy = cli.main(["opruimen", "--uit", str(out), "--dagen", "0"])
    assert busy != 0 and len(retention.run_folders(out)) == 2
    reliability(
        "operations",
        "clean-up with an unreadable batch state, without a rule, or while a batch writes",
        "CLI `opruimen`",
        "nothing removed; a Dutch message says why",
        code,
    )


# ----------------------------------------------------------------------------------------------
# The check before a run gives the run's verdict
# ----------------------------------------------------------------------------------------------


def _m(text: str) -> Callable[[Path], Path]:
    def write(tmp: Path) -> Path:
        path = tmp / "manifest.toml"
        path.write_text(text.replace("MINI", str(MINI)), encoding="utf-8")
        return path

    return write


_OWN = 'gemeenten = ["Westerkwartier"]\n[[rapport]]\nnaam = "mini"\nnotebook = "MINI"\n'


def _utf16(tmp: Path) -> Path:
    path = tmp / "manifest.toml"
    path.write_bytes(_OWN.replace("MINI", str(MINI)).encode("utf-16"))
    return path


def _folder(tmp: Path) -> Path:
    path = tmp / "manifest.toml"
    path.mkdir()
    return path


def _not_a_notebook(tmp: Path) -> Path:
    (tmp / "rapport.ipynb").write_bytes(b"caf\xe9, geen notebook\n")
    return _m(_OWN.replace("MINI", str(tmp / "rapport.ipynb")))(tmp)


def _latest_folder(tmp: Path) -> Path:
    (tmp / "reports" / "latest").mkdir(parents=True)
    return _m(_OWN)(tmp)


def _below_a_file(tmp: Path) -> Path:
    (tmp / "bestand").write_text("geen map\n", encoding="utf-8")
    return _m(_OWN + '[run]\nuit = "bestand/reports"\n')(tmp)


def _damaged_neighbours(tmp: Path) -> Path:
    copy = tmp / "snapshot"
    shutil.copytree(SNAPSHOT, copy)
    settings.snapshot_dir = copy
    path = copy / "buren.parquet"
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    path.write_bytes(bytes(raw))
    return _m(_OWN)(tmp)


def _no_checksum(tmp: Path) -> Path:
    copy = tmp / "snapshot"
    shutil.copytree(SNAPSHOT, copy)
    settings.snapshot_dir = copy
    meta = copy / "tables" / "85036NED.json"
    data = json.loads(meta.read_text("utf-8"))
    data.pop("data_sha256")
    meta.write_text(json.dumps(data), encoding="utf-8")
    return _m(_OWN)(tmp)


def _cut_provenance(tmp: Path) -> Path:
    copy = tmp / "snapshot"
    shutil.copytree(SNAPSHOT, copy)
    settings.snapshot_dir = copy
    path = copy / "provenance.json"
    path.write_bytes(path.read_bytes()[:300])
    return _m(_OWN)(tmp)


#: Manifests (and their surroundings) a run refuses: case, how to make it, exit code, hint.
VERDICTS = [
    ("title with an unknown placeholder ({jaar})", _m(_OWN + 'titel = "Mini {jaar}"\n'), 3,
     "{jaar}"),
    ("jaar = 2099", _m(_OWN + "[rapport.parameters]\njaar = 2099\n"), 3, "na de peildatum"),
    ("unknown municipality in vergelijk", _m('[parameters]\nvergelijk = ["Atlantis"]\n'), 3,
     "Atlantis"),
    ("peildatum that is no date", _m("[parameters]\npeildatum = \"27-11-2026\"\n"), 3,
     "JJJJ-MM-DD"),
    ("workers = 0", _m("[run]\nworkers = 0\n"), 3, "groter dan 0"),
    ("manifest saved as UTF-16", _utf16, 3, "UTF-16"),
    ("manifest path is a folder", _folder, 3, "een map"),
    ("notebook = a file that is no notebook", _not_a_notebook, 3, "geen Jupyter-notebook"),
    ("output folder has a real folder 'latest'", _latest_folder, 3, "geen link"),
    ("output folder below a file", _below_a_file, 3, "bestand, geen map"),
    ("damaged snapshot file buren.parquet", _damaged_neighbours, 5, "buren.parquet"),
    ("snapshot table metadata without checksum", _no_checksum, 5, "checksum"),
    ("cut-off provenance.json", _cut_provenance, 5, "provenance.json"),
]  # fmt: skip


@pytest.fixture
def no_kernels(monkeypatch):
    """Fail the test when a run gets as far as starting workers."""

    def refuse(*args, **kwargs):
        raise AssertionError("the run started workers: the check before the run missed this")

    monkeypatch.setattr(batch, "_run_jobs", refuse)
    monkeypatch.setattr(settings, "snapshot_dir", settings.snapshot_dir)


def _cli(args: list[str], capsys) -> tuple[int, str]:
    try:
        code = cli.main(args)
    except SystemExit as exit_info:
        code = int(exit_info.code or 0)
    return code, capsys.readouterr().err


@pytest.mark.parametrize(("case", "make", "expected", "hint"), VERDICTS,
                         ids=[v[0] for v in VERDICTS])  # fmt: skip
def test_the_check_gives_the_verdict_of_the_run(
    case, make, expected, hint, tmp_path, no_kernels, capsys, reliability
):
    path = make(tmp_path)
    before = sorted(p for p in tmp_path.rglob("*"))
    args = ["--offline", "batch", "--manifest", str(path), "--eigen-notebooks"]
    checked, check_err = _cli([*args, "--controleer"], capsys)
    ran, run_err = _cli(args, capsys)
    assert checked == ran == expected, (check_err, run_err)
    assert hint in check_err and hint in run_err
    assert "Traceback" not in check_err + run_err and run_err.startswith("Fout: ")
    assert sorted(p for p in tmp_path.rglob("*")) == before  # neither wrote anything
    lines = re.findall(r"regel (\d+)", check_err)
    reliability(
        "operations",
        f"manifest check: {case}",
        "CLI `batch --controleer` and `batch`",
        "both refuse with the same exit code and message"
        + (f" (regel {', '.join(lines)})" if lines else "")
        + "; nothing written, no kernel started",
        ran,
    )


def test_a_valid_manifest_passes_the_check_and_the_run(tmp_path, capsys):
    path = _m(_OWN + '[[rapport]]\nnaam = "mini2"\nnotebook = "MINI"\ntitel = "{code}"\n')(tmp_path)
    args = ["--offline", "batch", "--manifest", str(path), "--eigen-notebooks", "--uit"]
    checked, err = _cli([*args, str(tmp_path / "uit"), "--controleer"], capsys)
    assert checked == 0 and not (tmp_path / "uit").exists(), err
    ran, err = _cli([*args, str(tmp_path / "uit"), "--voortgang", "uit"], capsys)
    assert ran == 0, err
    page = (tmp_path / "uit" / "latest" / "GM1969" / "mini2.html").read_text("utf-8")
    assert "<title>GM1969</title>" in page


def test_notebooks_outside_the_project_need_permission(tmp_path, capsys, reliability):
    path = _m(_OWN)(tmp_path)
    code, err = _cli(["--offline", "batch", "--manifest", str(path), "--controleer"], capsys)
    assert code == 3 and "--eigen-notebooks" in err and "regel 4" in err
    with pytest.raises(batch_manifest.ManifestError):
        batch_manifest.load_manifest(path)
    assert batch_manifest.load_manifest(path, allow_outside_notebooks=True).reports
    reliability(
        "operations",
        "manifest names a notebook outside the project's notebooks/",
        "CLI `batch --manifest m.toml` without `--eigen-notebooks`",
        "refused with the line and the flag that allows it (regel 4)",
        code,
    )


def test_a_manifest_in_the_working_folder_is_not_read_silently(
    tmp_path, monkeypatch, no_kernels, capsys, reliability
):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "reports.toml").write_text(
        '[parameters]\njaar = "kapot"\n', encoding="utf-8"
    )  # would fail if it were read
    code, err = _cli(["--offline", "batch", "--controleer"], capsys)
    assert code == 0, err
    assert "reports.toml in de huidige map wordt niet gelezen" in err
    named, _ = _cli(["--offline", "batch", "--manifest", "reports.toml", "--controleer"], capsys)
    assert named == 3
    reliability(
        "operations",
        "a reports.toml in the working folder, no --manifest",
        "CLI `batch --controleer` in that folder",
        "not read (the project's own reports.toml is used) and the run says so; read only "
        "when named with --manifest",
        code,
    )


# ----------------------------------------------------------------------------------------------
# Options that would be ignored, values that make no sense
# ----------------------------------------------------------------------------------------------

OPTIONS = [
    ("report --manifest … --jaar 2020", ["report", "--manifest", "M", "--jaar", "2020"],
     "--jaar geldt niet voor een batch"),
    ("report --provincie Groningen --vergelijk Assen",
     ["report", "--provincie", "Groningen", "--vergelijk", "Assen"], "--vergelijk"),
    ("report --alle-gemeenten --peildatum 2026-11-27",
     ["report", "--alle-gemeenten", "--peildatum", "2026-11-27"], "--peildatum"),
    ("report --workers 2 (no batch)", ["report", "--workers", "2"], "alleen voor een batch"),
    ('report --provincie "" (unset shell variable)', ["report", "--provincie", ""], "leeg"),
    ('batch --gemeente ""', ["batch", "--gemeente", ""], "leeg"),
    ('batch --manifest ""', ["batch", "--manifest", ""], "leeg"),
    ("batch --workers 0", ["batch", "--workers", "0"], "groter dan 0"),
    ("batch --workers -1", ["batch", "--workers", "-1"], "groter dan 0"),
    ("batch --tijdslimiet-run nan", ["batch", "--tijdslimiet-run", "nan"], "groter dan 0"),
    ("batch --tijdslimiet-rapport 0", ["batch", "--tijdslimiet-rapport", "0"], "groter dan 0"),
    ("index --trekkingen 0", ["index", "--trekkingen", "0"], "groter dan 0"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "args", "hint"), OPTIONS, ids=[o[0] for o in OPTIONS])
def test_options_are_never_silently_ignored(case, args, hint, tmp_path, no_kernels, capsys,
                                            reliability):  # fmt: skip
    path = _m(_OWN)(tmp_path)
    args = [str(path) if a == "M" else a for a in args]
    code, err = _cli(["--offline", *args], capsys)
    assert code == 2 and hint in err and "Traceback" not in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["manifest.toml"]
    reliability("operations", case, "CLI", f"refused before anything runs ('{hint}')", code)


def _ambitions(tmp: Path, kind: str) -> Path:
    source = settings.project_dir / "ambities" / "westerkwartier.toml"
    path = tmp / "ambities.toml"
    if kind == "UTF-16":
        path.write_bytes(source.read_text("utf-8").encode("utf-16"))
    elif kind == "map":
        path.mkdir()
    else:
        text = source.read_text("utf-8")
        path.write_text(re.sub(r"(?m)^doel = [0-9.]+", "doel = nan", text, count=1), "utf-8")
    return path


@pytest.mark.parametrize(
    ("kind", "hint"),
    [("UTF-16", "UTF-16"), ("map", "een map"), ("nan", "moet een getal zijn")],
)
def test_ambitions_file_trouble_is_ours(kind, hint, tmp_path, capsys, reliability):
    path = _ambitions(tmp_path, kind)
    code, err = _cli(["--offline", "ambities", "--bestand", str(path)], capsys)
    assert code == 3 and hint in err and "Traceback" not in err, err
    reliability(
        "operations",
        f"ambitions file: {'a target of nan' if kind == 'nan' else kind}",
        "CLI `ambities --bestand`",
        f"refused with what to do ('{hint}')",
        code,
    )


def test_index_of_a_province_or_nederland_says_why(capsys, reliability):
    code, err = _cli(["--offline", "index", "--gemeente", "Nederland"], capsys)
    assert code == 3 and "geen gemeente" in err and "nan" not in err
    code2, err2 = _cli(["--offline", "index", "--gemeente", "PV20"], capsys)
    assert code2 == 3 and "provincie" in err2
    reliability(
        "operations",
        "index for Nederland or a province",
        "CLI `index --gemeente Nederland`",
        "'… is een land, geen gemeente' with what to give instead (no 'nan')",
        code,
    )


def test_small_texts(tmp_path):
    path = tmp_path / "m.toml"
    path.write_text('gemeenten = ["Nederland", "Atlantis"]\n', encoding="utf-8")
    with pytest.raises(batch_manifest.ManifestError) as info:
        batch_manifest.load_manifest(path)
    message = str(info.value)
    assert "(2 problemen)" in message and "probleemen" not in message
    assert "alle_gemeenten = true" in message and "provincie = 'Nederland'" not in message


# ----------------------------------------------------------------------------------------------
# Full disks, odd output folders, damaged files
# ----------------------------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path) -> Iterator[Callable[[int], Path]]:
    """A tmpfs of 2 MB mounted for the test; ``fill(free)`` leaves about ``free`` bytes."""
    mount = tmp_path / "schijf"
    mount.mkdir()
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:  # pragma: no cover - CI runs as root
        pytest.skip(f"een tmpfs mounten kan hier niet ({result.stderr.strip()})")

    def fill(free: int) -> Path:
        with open(mount / ".vulling", "ab") as handle:
            while shutil.disk_usage(mount).free > free:
                handle.write(b"\0" * 4096)
                handle.flush()
        return mount

    try:
        yield fill
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_full_disk_before_a_batch(small_disk, tmp_path, capsys, reliability):
    disk = small_disk(64 * 1024)
    path = _m(_OWN)(tmp_path)
    code, err = _cli(
        ["--offline", "batch", "--manifest", str(path), "--eigen-notebooks", "--uit",
         str(disk / "reports")], capsys)  # fmt: skip
    assert code == 3 and "de schijf is vol" in err and "opruimen" in err, err
    assert not (disk / "reports").exists()
    reliability(
        "operations",
        "full disk before a batch (64 kB free)",
        "CLI `batch --uit <full disk>`",
        "refused before anything runs: 'de schijf is vol' with the clean-up command",
        code,
    )


def test_full_disk_during_a_batch(small_disk, tmp_path, monkeypatch, capsys, reliability):
    monkeypatch.setattr(batch, "MIN_FREE_BYTES", 0)  # let it start on an almost full disk
    disk = small_disk(48 * 1024)  # room for the small files, not for a 60 kB report
    big = nbformat.read(MINI, as_version=4)  # the mini report with 60 kB of text added
    big.cells.append(nbformat.v4.new_code_cell('print("x" * 60_000)', id="groot"))
    nbformat.write(big, tmp_path / "groot.ipynb")
    path = tmp_path / "manifest.toml"
    path.write_text(_OWN.replace("MINI", str(tmp_path / "groot.ipynb")), encoding="utf-8")
    out = disk / "reports"
    code, err = _cli(
        ["--offline", "batch", "--manifest", str(path), "--eigen-notebooks", "--uit", str(out),
         "--voortgang", "uit"], capsys)  # fmt: skip
    assert code == 3 and "de schijf is vol" in err and "Traceback" not in err, err
    last = json.loads((out / batch.LAST_RUN_FILE).read_text("utf-8"))
    assert last["status"] == "fout" and last["exitcode"] == 3 and "vol" in last["fout"]
    assert not (out / batch.LATEST).exists()
    reliability(
        "operations",
        "disk fills up during a batch (48 kB free, a report needs 53 kB)",
        "CLI `batch`",
        "run stops: 'de schijf is vol'; laatste-run.json says status 'fout' with the reason; "
        "latest not moved",
        code,
    )


def test_full_disk_for_a_report_and_an_export(small_disk, tmp_path, monkeypatch, capsys,
                                               reliability):  # fmt: skip
    disk = small_disk(8 * 1024)
    code, err = _cli(["--offline", "panel", "--gemeente", "GM1969", "--uit",
                      str(disk / "panel.csv")], capsys)  # fmt: skip
    assert code == 3 and "de schijf is vol" in err and "Traceback" not in err, err
    assert not (disk / "panel.csv").exists()  # no half-written file
    notebooks = _report_notebooks(tmp_path)
    with pytest.raises(OutputNotWritable) as info:
        reports.render_reports(
            "GM1969", rapport="talent", peildatum="2026-11-27", uit=disk / "r",
            notebooks_dir=notebooks)  # fmt: skip
    assert info.value.disk_full and info.value.exit_code == 3
    reliability(
        "operations",
        "full disk for a panel export and for a report",
        "CLI `panel --uit`; API `render.render_reports`",
        "OutputNotWritable 'de schijf is vol' (no half-written file)",
        code,
    )


def _report_notebooks(tmp: Path) -> Path:
    """Report notebooks that take a second: the mini notebook with the reports' parameters."""
    folder = tmp / "notebooks"
    folder.mkdir(exist_ok=True)
    nb = nbformat.read(MINI, as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    cell.source = (
        'gemeente: str = "GM1969"  # CBS-code\njaar: int = 0  # peiljaar\n'
        'vergelijk: list = []  # extra gemeenten\npeildatum: str = ""  # datum\n'
        'gegevensmelding: str = ""  # melding\naandeel: float = 74.2  # tekst\n'
        "mislukken: bool = False  # fout\nwachten: float = 0.0  # seconden\n"
    )
    for name in ("aantrekkelijkheid.ipynb", "talent.ipynb"):
        nbformat.write(nb, folder / name)
    return folder


def test_odd_files_in_the_output_folder_of_report(tmp_path, capsys, monkeypatch, reliability):
    out = tmp_path / "uit"
    (out / "westerkwartier").mkdir(parents=True)
    (out / "oud.html").write_bytes(b"<html>caf\xe9</html>")  # not UTF-8
    (out / "westerkwartier" / "oud.html").write_bytes(b"<html>caf\xe9</html>")
    made = reports.render_reports(
        "GM1969", rapport="talent", peildatum="2026-11-27", uit=out,
        notebooks_dir=_report_notebooks(tmp_path))  # fmt: skip
    assert [p.name for p in made] == ["talent.html"]
    assert 'href="westerkwartier/talent.html"' in (out / "index.html").read_text("utf-8")
    (out / reports.INDEX_RECORD).write_bytes(b"\xff\xfe{kapot")
    monkeypatch.setattr(reports, "run_job", lambda job: pytest.fail("a kernel started"))
    code, err = _cli(["--offline", "report", "--uit", str(out), "--peildatum", "2026-11-27"],
                     capsys)  # fmt: skip
    assert code == 5 and ".index.json" in err and "Verwijder hem" in err
    reliability(
        "operations",
        "output folder of `report` holds non-UTF-8 HTML files, then a damaged .index.json",
        "API `render.render_reports`, CLI `report`",
        "other files are left alone and the index is right; a damaged list of reports is "
        "refused before any kernel starts",
        code,
    )


def test_a_crash_is_recorded_in_laatste_run(tmp_path, monkeypatch, reliability):
    seen: list[dict] = []
    plan = batch._plan

    def watching(manifest, run, options, **kwargs):
        seen.append(json.loads((run.out_dir / batch.LAST_RUN_FILE).read_text("utf-8")))
        return plan(manifest, run, options, **kwargs)

    def broken(entries, run):
        raise RuntimeError("kapot na het maken")

    monkeypatch.setattr(batch, "_plan", watching)
    monkeypatch.setattr(batch, "_keep_last_good", broken)
    out = tmp_path / "reports"
    (out).mkdir()
    (out / batch.LAST_RUN_FILE).write_text('{"status": "geslaagd", "run": "oud"}', "utf-8")
    manifest = batch_manifest.load_manifest(_m(_OWN)(tmp_path), allow_outside_notebooks=True)
    with pytest.raises(RuntimeError):
        batch.run_batch(manifest, out_dir=out, progress="uit")
    assert seen and seen[0]["status"] == "bezig" and seen[0]["proces"] == os.getpid()
    last = json.loads((out / batch.LAST_RUN_FILE).read_text("utf-8"))
    assert last["status"] == "fout" and "kapot na het maken" in last["fout"]
    assert last["run"] != "oud"
    reliability(
        "operations",
        "the run itself crashes after the reports were made",
        "API `batch.run_batch`",
        "laatste-run.json said 'bezig' while it ran and then 'fout' with the reason (never "
        "the previous success)",
        None,
    )


# ----------------------------------------------------------------------------------------------
# What is published
# ----------------------------------------------------------------------------------------------


def test_nothing_private_in_the_published_folder(tmp_path, reliability):
    out = tmp_path / "reports"
    text = TWO + "[rapport.parameters]\nmislukken = true\n"
    path = _m(text)(tmp_path)
    first = tmp_path / "goed.toml"
    first.write_text(TWO, encoding="utf-8")
    for manifest, day in ((first, 0), (path, 1)):  # the second run: one report fails
        loaded = batch_manifest.load_manifest(manifest, allow_outside_notebooks=True)
        batch.run_batch(loaded, out_dir=out, clock=_day(day), progress="uit")
    latest = out / batch.LATEST
    files = [p for p in latest.rglob("*") if p.is_file()] + [out / batch.LAST_RUN_FILE]
    assert {p.suffix for p in files} >= {".html", ".json"}
    private = [str(tmp_path), str(settings.project_dir), "/tmp/", "/root", "/home/", "/work/",
               sys.prefix, os.path.expanduser("~") + "/"]  # fmt: skip
    user, host = getpass.getuser(), socket.gethostname()
    for file in files:
        text = file.read_text("utf-8")
        found = [p for p in private if p in text]
        assert not found, (file.name, found)
        assert not re.search(rf"(?<![:\w-]){re.escape(user)}(?![\w-])", text), (file, "user")
        if len(host) >= 4:
            assert host not in text, (file.name, "host")
    summary = json.loads((latest / batch.SUMMARY_FILE).read_text("utf-8"))
    failed = next(e for e in summary["rapporten"] if e["status"] == "mislukt")
    assert failed["mislukt_notebook"].startswith("_failed/")
    assert (out / failed["mislukt_notebook"]).is_file() and summary["manifest"] == path.name
    reliability(
        "operations",
        "every file under `latest` (HTML, JSON) and laatste-run.json, after a run with a "
        "failed report and a notebook outside the project",
        "scan for the test and project folders, /tmp, /root, /home, /work, user and host",
        "none found: paths are relative to the output folder (`_failed/…`), notebooks and "
        "manifests elsewhere are named by their file name",
        None,
    )


@pytest.mark.parametrize(
    ("text", "external"),
    [
        ("<p>Zie url(https://example.org/x.png) en @import 'https://x.org/a.css'</p>", False),
        ("<p>&lt;img src=&quot;https://example.org/a.png&quot;&gt;</p>", False),
        ('<div style="background:url(https://example.org/a.png)">x</div>', True),
        ("<style>p { background: url( 'https://example.org/a.png' ) }</style>", True),
        ('<img srcset="a.png 1x, https://example.org/b.png 2x" alt="x">', True),
        ('<a href="javascript:alert(1)">x</a>', True),
    ],
)
def test_house_check_reads_markup_not_text(text, external):
    page = f'<!DOCTYPE html><html lang="nl"><body>{text}</body></html>'
    assert bool(html.check_html(page)) is external
    assert bool(html.find_external_urls(page)) is external


def test_a_notice_may_mention_a_url(reliability):
    notice = "Let op: de kaart staat op url(https://www.cbs.nl/kaart) <b>niet</b>."
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Rapport")]
    code = nbformat.v4.new_code_cell("print(melding)")
    code.outputs = [nbformat.v4.new_output("stream", name="stdout", text=notice)]
    nb.cells.append(code)
    page = html.export_html(nb, title="Rapport")
    assert "url(https://www.cbs.nl/kaart)" in page and html.check_html(page) == []
    reliability(
        "operations",
        "report text (a notice) mentions url(https://…) and an escaped <b> tag",
        "API `html.export_html` + `html.check_html`",
        "passes: the check parses the page and looks at attributes, styles and scripts only",
        None,
    )


def _readme_fetch() -> list[str]:
    """The ``westerkwartier fetch`` example of the README's command-line section."""
    text = (settings.project_dir / "README.md").read_text("utf-8")
    line = next(x for x in text.splitlines() if x.startswith("westerkwartier fetch "))
    return line.split("#")[0].split()[1:]


@pytest.mark.parametrize(
    ("how", "env"),
    [
        ("offline mode", {"WESTERKWARTIER_OFFLINE": "1"}),
        ("CBS unreachable", {"WESTERKWARTIER_CBS_HOST": "127.0.0.1:9", "WESTERKWARTIER_ODATA4_HOST":
                             "127.0.0.1:9", "WESTERKWARTIER_RETRIES": "1"}),
    ],
    ids=["offline", "unreachable"],
)  # fmt: skip
def test_the_readme_fetch_example_works_without_cbs(how, env, tmp_path, reliability):
    args = _readme_fetch()
    result = subprocess.run(
        [sys.executable, "-m", "westerkwartier.cli", *args, "--uit", str(tmp_path / "woz.csv")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=dict(os.environ, WESTERKWARTIER_CACHE_DIR=str(tmp_path / "cache"), **env),
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "bron: snapshot" in result.stdout and "Traceback" not in result.stderr
    rows = (tmp_path / "woz.csv").read_text("utf-8").splitlines()
    assert rows[0].startswith("RegioS") and any(r.startswith("GM1969,") for r in rows[1:])
    notice = "CBS is niet bereikbaar" in result.stderr
    assert notice == (how == "CBS unreachable")
    reliability(
        "operations",
        f"the README's `fetch` example, {how}",
        f"`westerkwartier {' '.join(args)} --uit woz.csv`",
        f"table from the snapshot ({len(rows) - 1} rows written)"
        + (", with the notice 'Let op: CBS is niet bereikbaar …'" if notice else ""),
        result.returncode,
    )


def test_kernel_connections_are_encrypted_where_supported(tmp_path):
    from westerkwartier.pipeline import kernels

    for folder in (None, tmp_path):  # over TCP and over the kernel's own sockets
        options = kernels.kernel_options(folder)
        assert options["config"]["KernelManager"]["transport_encryption"] == "auto"


def test_reliability_matrix_knows_this_file():
    from reliability_plugin import MATRICES, SUITE_FILES

    assert "operations" in MATRICES and Path(__file__).name in SUITE_FILES
    assert set(EXIT_CODES) >= {0, 1, 2, 3, 4, 5, 6, 7}


# ----------------------------------------------------------------------------------------------
# The pieces of a clean stop
# ----------------------------------------------------------------------------------------------


def test_stop_signals_raise_once_then_hurry():
    hurried: list[int] = []
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(processes.Stopped) as info, processes.stop_signals() as state:
        state.on_repeat.append(lambda: hurried.append(1))
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(1)
        finally:  # a second signal during the clean-up does not interrupt it
            os.kill(os.getpid(), signal.SIGHUP)
            time.sleep(0.2)
    assert info.value.signum == signal.SIGTERM and info.value.name == "SIGTERM"
    assert hurried == [1] and state.count == 2
    assert signal.getsignal(signal.SIGTERM) == before  # handlers restored
    assert processes.stop_seen()
    processes._STOP_SEEN.clear()  # noqa: SLF001 - this test process goes on


#: A cell as nbclient runs it: one task waits for the kernel's reply while a helper task runs;
#: the stop signal lands in the helper. Run in a fresh Python: on Python 3.11 an exception
#: raised by a signal handler inside an asyncio task unbalances the interpreter's recursion
#: counter (``ast.parse`` fails afterwards), harmless for a run that exits, not for pytest.
_STOP_IN_A_HELPER_TASK = """
import asyncio, os, signal, sys, time
from westerkwartier.pipeline import processes

async def helper():
    os.kill(os.getpid(), signal.SIGTERM)  # the handler runs here, in the helper's step
    await asyncio.sleep(0)

async def cell():
    asyncio.ensure_future(helper())
    await asyncio.sleep(30)  # the reply of a kernel that no longer answers

started = time.monotonic()
try:
    with processes.stop_signals():
        asyncio.new_event_loop().run_until_complete(asyncio.wait_for(cell(), 10))
    print("not stopped")
except processes.Stopped as stop:
    print("stopped", stop.name, round(time.monotonic() - started) < 5)
except BaseException as other:
    print("other", type(other).__name__)
"""


def test_a_stop_signal_leaves_an_event_loop_whichever_task_it_lands_in():
    # nbclient waits for the kernel's reply in one task while helper tasks read the output and
    # check the kernel; a stop that landed in a helper was kept on it, and the run waited for
    # a reply from the killed kernel without end (`report`, Ctrl-C twice: a hang, no output)
    done = subprocess.run(
        [sys.executable, "-c", _STOP_IN_A_HELPER_TASK],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.stdout.strip() == "stopped SIGTERM True", done.stderr[-2000:]


def test_new_children_are_stopped_and_scratch_is_removed():
    before = processes.children()
    earlier = {(p.pid, p.start) for p in processes.descendants(os.getpid())}
    with processes.scratch_dir("wk-test-") as scratch:
        assert Path(tempfile.gettempdir()) == scratch and os.environ["TMPDIR"] == str(scratch)
        (scratch / "kernel-123.json").write_text("{}", encoding="utf-8")
        child = subprocess.Popen(["sleep", "60"], start_new_session=True)  # like a kernel
        grandchild_parent = subprocess.Popen(["sh", "-c", "sleep 60 & wait"])
        _wait(lambda: processes.descendants(grandchild_parent.pid), 5)
        tree = [p for p in processes.descendants(os.getpid()) if (p.pid, p.start) not in earlier]
        assert {child.pid, grandchild_parent.pid} <= {p.pid for p in tree} and len(tree) == 3
        left = processes.stop_new_children(before)
    assert left == []
    child.wait(5)  # gone (reaped already: the return code says nothing more)
    grandchild_parent.wait(5)
    assert not any(processes.alive(p) for p in tree)
    assert not scratch.exists() and Path(tempfile.gettempdir()) != scratch


_HOLD_A_LEASE = (
    "import sys, time\n"
    "from westerkwartier.pipeline import processes\n"
    "print(processes.leased_folder(sys.argv[1], sys.argv[2]), flush=True)\n"
    "time.sleep(float(sys.argv[3]))\n"
)


def test_a_sweep_removes_only_folders_whose_run_has_ended(tmp_path):
    def leased(prefix: str, seconds: float) -> tuple[subprocess.Popen, Path]:
        command = [sys.executable, "-c", _HOLD_A_LEASE, prefix, str(tmp_path), str(seconds)]
        holder = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        return holder, Path(holder.stdout.readline().strip())

    running, kept = leased("wk-rapport-run-", 60)
    ended, left = leased("wk-kernel-", 0)
    ended.wait(30)
    (left / "k-1").write_text("", encoding="utf-8")  # a socket, say
    older = tmp_path / "wk-run-123-abcdefgh"  # an older version's: no lease, not judged
    older.mkdir()
    other = tmp_path / "iets-anders"  # a lease, but not one of our names
    other.mkdir()
    (other / processes.LEASE).write_text("", encoding="utf-8")
    try:
        assert processes.sweep(tmp_path) == [left]
        assert kept.is_dir() and older.is_dir() and other.is_dir() and not left.exists()
    finally:
        running.kill()
        running.wait(30)
        for holder in (running, ended):
            holder.stdout.close()
    assert processes.sweep(tmp_path) == [kept]  # its process has ended now


def test_runs_at_the_same_time_share_the_scratch_folder_until_the_last_ends():
    # two renders in threads of one process (as an analyst's notebook or the test suite may
    # do): the first to finish must not remove the folder the other still writes to
    before = tempfile.gettempdir()
    first = processes.scratch_dir("wk-test-")
    second = processes.scratch_dir("wk-test-")
    a = first.__enter__()
    b = second.__enter__()
    assert a == b and os.environ["TMPDIR"] == str(a)
    first.__exit__(None, None, None)
    assert b.exists() and tempfile.gettempdir() == str(b)
    second.__exit__(None, None, None)
    assert not b.exists() and tempfile.gettempdir() == before
