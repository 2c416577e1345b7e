"""Concurrency: report runs, batches and cache writers at the same time on the same folders."""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

from reliability_plugin import PAIR, PAIR_REPORT

from westerkwartier import settings
from westerkwartier.pipeline import jobs
from westerkwartier.pipeline import render as reports
from westerkwartier.reporting import html
from westerkwartier.sources import cache, data

MINI = Path(__file__).parent / "fixtures" / "notebooks" / "mini.ipynb"

_RENDER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from westerkwartier.pipeline import notebook

    out, failed, share = Path(sys.argv[1]), Path(sys.argv[2]), float(sys.argv[3])
    notebook.run_notebook(Path(sys.argv[4]), out, {"aandeel": share}, title="Mini",
                        failed_dir=failed, timeout_per_cell=120)
    print("KLAAR", flush=True)
    """
)


def _env(tmp: Path) -> dict[str, str]:
    return dict(
        os.environ,
        WESTERKWARTIER_CACHE_DIR=str(tmp / "cache"),
        WESTERKWARTIER_OFFLINE="1",
        MPLBACKEND="agg",
        JUPYTER_RUNTIME_DIR=str(tmp / "runtime"),
    )


def test_two_report_runs_into_the_same_output_folder(tmp_path, reliability):
    out = tmp_path / "reports"
    target = out / "GM1969" / "mini.html"
    runs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                _RENDER,
                str(target),
                str(tmp_path / "_failed"),
                share,
                str(MINI),
            ],
            env=dict(_env(tmp_path), JUPYTER_RUNTIME_DIR=str(tmp_path / f"runtime{i}")),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i, share in enumerate(["71.5", "72.5"])
    ]
    results = [run.communicate(timeout=180) for run in runs]
    codes = [run.returncode for run in runs]
    # the end of each error output: pytest cuts a long message short, and the cause (the
    # exception of a failed run) is in its last lines
    assert codes == [0, 0], "\n---\n".join(err[-3000:] for _, err in results)
    page = target.read_text(encoding="utf-8")
    assert html.check_html(page) == []
    assert page.rstrip().endswith("</html>")
    assert ("71,5" in page) != ("72,5" in page)  # one whole run won, never a mix
    leftovers = [p.name for p in out.rglob("*") if p.is_file() and p != target]
    assert not leftovers and not (tmp_path / "_failed").exists()
    reliability(
        "concurrency",
        "two report runs at once, same output file and cache",
        "2 processes, `notebook.run_notebook` (mini notebook)",
        f"both exit {codes[0]}; the page is one complete run (atomic rename), passes "
        "check_html, no temporary files left",
        None,
    )


def test_two_batch_runs_in_the_same_output_folder(tmp_path, reliability):
    manifest = tmp_path / "reports.toml"
    manifest.write_text(
        f'gemeenten = ["Westerkwartier"]\n[[rapport]]\nnaam = "mini"\nnotebook = "{MINI}"\n'
        "[rapport.parameters]\nwachten = 1.0\n",  # the first run holds the lock a while longer
        encoding="utf-8",
    )
    out = tmp_path / "reports"
    command = [
        sys.executable,
        "-m",
        "westerkwartier.cli",
        "batch",
        "--manifest",
        str(manifest),
        "--uit",
        str(out),
        "--voortgang",
        "uit",
        "--eigen-notebooks",
    ]
    runs = [
        subprocess.Popen(
            command, env=_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    results = [run.communicate(timeout=240) for run in runs]
    codes = [run.returncode for run in runs]
    errors = [err for _, err in results]
    assert codes == [0, 0], errors
    assert not any("Traceback" in err for err in errors)
    waited = [err for err in errors if "wacht op een andere batch" in err]
    assert len(waited) == 1, errors  # the second run waited for the first, it was not refused
    run_dirs = sorted(
        p for p in out.iterdir() if p.is_dir() and not p.is_symlink() and p.name[0] not in "_."
    )
    assert len(run_dirs) == 2
    statuses = {}
    for run_dir in run_dirs:
        summary = json.loads((run_dir / "samenvatting.json").read_text(encoding="utf-8"))
        assert summary["geslaagd"], summary
        statuses[run_dir.name] = summary["rapporten"][0]["status"]
        page = (run_dir / "GM1969" / "mini.html").read_text(encoding="utf-8")
        assert html.check_html(page) == [] and page.rstrip().endswith("</html>")
    # the waiting run started after the first had finished: it reused the first run's report
    assert sorted(statuses.values()) == ["gemaakt", "hergebruikt"], statuses
    latest = os.readlink(out / "latest")
    assert statuses[latest] == "hergebruikt"  # latest = the complete run that finished last
    assert not list(out.glob(".latest*.tmp"))
    reliability(
        "concurrency",
        "two batch runs at once, same output folder and cache",
        "2 processes, `westerkwartier batch` (mini notebook)",
        "both exit 0: the second prints 'wacht op een andere batch…', waits for the folder lock "
        "(at most the run time limit) and then runs, reusing the first run's report; two "
        "complete dated runs, latest → the one that finished last",
        max(codes),
    )


def _fake_report(out: Path, folder: str, name: str, code: str) -> dict:
    """A published report and its index entry (the page only has to exist)."""
    path = out / folder / "talent.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('<!DOCTYPE html><html lang="nl"><body></body></html>', encoding="utf-8")
    return {
        "rapport": "talent",
        "gemeente": name,
        "municipality": f"{name} ({code})",
        "report": "Talent",
        "reference_year": "2024",
        "data_date": "2026-06-23",
        "generated": "2026-11-27",
        "href": f"{folder}/talent.html",
    }


def _race_index(out: Path, monkeypatch) -> set[str]:
    """Let run A read the index's entries, then let run B publish while A still writes."""
    read = reports.read_index_record
    was_read = threading.Event()

    def slow_read(uit):
        entries = read(uit)
        if threading.current_thread().name == "A":
            was_read.set()
            time.sleep(0.6)  # A has read the entries (without B's) and is about to write
        return entries

    monkeypatch.setattr(reports, "read_index_record", slow_read)

    def run_a():
        reports.publish_index(
            out, [_fake_report(out, "westerkwartier", "Westerkwartier", "GM1969")]
        )

    def run_b():
        was_read.wait(5)
        entry = _fake_report(out, "schiermonnikoog", "Schiermonnikoog", "GM0088")
        reports.publish_index(out, [entry])

    threads = [threading.Thread(target=run_a, name="A"), threading.Thread(target=run_b, name="B")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    page = (out / "index.html").read_text(encoding="utf-8")
    return set(re.findall(r'href="([a-z-]+/talent\.html)"', page))


def test_index_rebuild_race_keeps_both_reports(tmp_path, monkeypatch, reliability):
    both = {"westerkwartier/talent.html", "schiermonnikoog/talent.html"}
    with monkeypatch.context() as m:  # without the lock the race is real: B's report is lost
        m.setattr(reports, "index_lock", lambda uit: contextlib.nullcontext())
        unlocked = _race_index(tmp_path / "zonder-slot", m)
    assert unlocked == {"westerkwartier/talent.html"}
    locked = _race_index(tmp_path / "met-slot", monkeypatch)
    assert locked == both
    assert (tmp_path / "met-slot" / reports.INDEX_LOCK).is_file()
    reliability(
        "concurrency",
        "index rebuild race: run A reads the index entries, run B publishes and rebuilds, "
        "A writes last",
        "2 threads, `render.publish_index` (forced interleaving)",
        "without a lock A's index drops B's report (shown); with the lock (flock on "
        "<uit>/.index.lock) B waits for A and the index lists both",
        None,
    )


def test_two_report_commands_into_the_same_output_folder(real_report_pair, reliability):
    pair = real_report_pair
    assert pair["codes"] == [0, 0], pair["stderr"]
    assert not any("Traceback" in err for err in pair["stderr"])
    out = pair["out"]
    pages = {}
    for code in PAIR:
        found = [p for p in out.glob(f"*/{PAIR_REPORT}.html") if f'data-code="{code}"' in
                 p.read_text(encoding="utf-8")]  # fmt: skip
        assert len(found) == 1, code
        page = found[0].read_text(encoding="utf-8")
        assert html.check_html(page) == [] and page.rstrip().endswith("</html>")
        assert jobs.report_facts(found[0])["rapport"] == PAIR_REPORT
        pages[code] = f"{found[0].parent.name}/{found[0].name}"
    index = (out / "index.html").read_text(encoding="utf-8")
    listed = set(re.findall(r'href="([^"#]+\.html)"', index))
    assert set(pages.values()) <= listed, (pages, listed)
    assert sorted(e.href for e in reports.index_entries(out)) == sorted(pages.values())
    leftovers = [p.name for p in out.rglob("*.tmp")]
    assert not leftovers and not (out / "_failed").exists()
    reliability(
        "concurrency",
        f"two `report` runs at once ({' and '.join(PAIR)}, {PAIR_REPORT}), same cache and "
        "--uit folder",
        "2 processes, `westerkwartier --offline report`",
        "both exit 0; both pages pass check_html; "
        "index.html lists both reports; no temporary files, nothing in _failed",
        max(pair["codes"]),
    )


_WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from westerkwartier import cache, data, settings

    settings.cache_dir = Path(sys.argv[1])
    table = data.snapshot_table("85036NED")
    table.info["writer"] = sys.argv[2]
    numbers = table.data.select_dtypes("float").columns
    table.data[numbers] = table.data[numbers] * (1 if sys.argv[2] == "a" else 2)
    for _ in range(15):
        cache.save(table, {"regions": ["GM1969"]})
    print("KLAAR", flush=True)
    """
)


def test_two_cache_writers_of_the_same_entry(tmp_path, reliability):
    cache_dir = tmp_path / "cache"
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(cache_dir), name],
            env=_env(tmp_path),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("a", "b")
    ]
    results = [w.communicate(timeout=120) for w in writers]
    assert [w.returncode for w in writers] == [0, 0], [err for _, err in results]
    settings.cache_dir = cache_dir  # restored by the autouse fixture of conftest
    manifest = json.loads((cache_dir / "manifest.json").read_text(encoding="utf-8"))
    assert len(manifest["entries"]) == 1
    table = cache.load("85036NED", {"regions": ["GM1969"]})  # checksum verified
    original = data.snapshot_table("85036NED").data
    numbers = original.select_dtypes("float").columns
    factor = 1 if table.info["writer"] == "a" else 2
    expected = original.assign(**{c: original[c] * factor for c in numbers})
    assert table.data.equals(expected)  # data and metadata of the same writer
    assert not list(cache_dir.glob(".*.tmp"))
    reliability(
        "concurrency",
        "two cache writers of the same entry (15 saves each)",
        "2 processes, `cache.save`",
        "manifest parses with one entry; the entry reads back with a valid checksum; no "
        "temporary files",
        None,
    )
