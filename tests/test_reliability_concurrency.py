"""Concurrency: report runs and cache writers at the same time on the same folders."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from westerkwartier import cache, data, report, settings

MINI = Path(__file__).parent / "fixtures" / "notebooks" / "mini.ipynb"

_RENDER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from westerkwartier import report

    out, failed, share = Path(sys.argv[1]), Path(sys.argv[2]), float(sys.argv[3])
    report.run_notebook(Path(sys.argv[4]), out, {"aandeel": share}, title="Mini",
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
    assert codes == [0, 0], [err for _, err in results]
    page = target.read_text(encoding="utf-8")
    assert report.check_html(page) == []
    assert page.rstrip().endswith("</html>")
    assert ("71,5" in page) != ("72,5" in page)  # one whole run won, never a mix
    leftovers = [p.name for p in out.rglob("*") if p.is_file() and p != target]
    assert not leftovers and not (tmp_path / "_failed").exists()
    reliability(
        "concurrency",
        "two report runs at once, same output file and cache",
        "2 processes, `report.run_notebook` (mini notebook)",
        f"both exit {codes[0]}; the page is one complete run (atomic rename), passes "
        "check_html, no temporary files left",
        None,
    )


def test_two_batch_runs_in_the_same_output_folder(tmp_path, reliability):
    manifest = tmp_path / "reports.toml"
    manifest.write_text(
        f'gemeenten = ["Westerkwartier"]\n[[rapport]]\nnaam = "mini"\nnotebook = "{MINI}"\n',
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
    ]
    runs = [
        subprocess.Popen(
            command, env=_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    results = [run.communicate(timeout=240) for run in runs]
    codes = sorted(run.returncode for run in runs)
    errors = " ".join(err for _, err in results)
    assert "Traceback" not in errors
    assert codes[0] == 0
    assert codes in ([0, 0], [0, 1])
    if codes == [0, 1]:
        assert "draait al een batch" in errors  # refused cleanly, wrote nothing of its own
    latest = out / "latest"
    summary = json.loads((latest / "samenvatting.json").read_text(encoding="utf-8"))
    assert summary["geslaagd"]
    page = (latest / "GM1969" / "mini.html").read_text(encoding="utf-8")
    assert report.check_html(page) == []
    runs_made = [p for p in out.iterdir() if p.is_dir() and not p.name.startswith(("_", "."))]
    assert len([p for p in runs_made if p.name != "latest"]) == codes.count(0)
    outcome = (
        "both finish: two dated runs, latest valid"
        if codes == [0, 0]
        else "one run finishes (latest valid, summary says geslaagd); the other is refused at "
        "once by the folder lock ('Er draait al een batch …', BatchBusy) and writes nothing"
    )
    reliability(
        "concurrency",
        "two batch runs at once, same output folder and cache",
        "2 processes, `westerkwartier batch`",
        outcome,
        codes[-1],
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
