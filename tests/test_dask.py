"""``batch --dask``: the same report jobs on a Dask cluster, or a clear message without Dask."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import pytest

from westerkwartier import cli, settings
from westerkwartier.pipeline import batch, dask_cluster
from westerkwartier.pipeline import manifest as batch_manifest

MINI = Path(__file__).parent / "fixtures" / "notebooks" / "mini.ipynb"

MANIFEST = """\
gemeenten = ["Westerkwartier", "Groningen", "Schiermonnikoog"]
[[rapport]]
naam = "mini"
notebook = "MINI"
titel = "Mini voor {gemeente}"
"""


def _manifest(tmp_path: Path, text: str = MANIFEST) -> batch_manifest.Manifest:
    path = tmp_path / "reports.toml"
    path.write_text(text.replace("MINI", str(MINI)), encoding="utf-8")
    return batch_manifest.load_manifest(path, allow_outside_notebooks=True)


def _clock(day: int):
    return lambda: dt.datetime(2026, 11, day, 8, 30)


@pytest.fixture
def offline(monkeypatch):
    monkeypatch.setattr(settings, "offline", True)


def test_without_dask_installed_the_message_says_what_to_install(tmp_path, offline, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import fails as if not installed
    manifest = _manifest(tmp_path)
    with pytest.raises(dask_cluster.DaskMissing, match=r"pip install 'westerkwartier\[dask\]'"):
        batch.check_run(manifest, out_dir=tmp_path / "uit", dask="tcp://127.0.0.1:8786")
    assert not (tmp_path / "uit" / "latest").exists()  # nothing was started


def test_cli_without_dask_exits_with_a_dutch_message(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "distributed", None)
    path = tmp_path / "reports.toml"
    path.write_text(MANIFEST.replace("MINI", str(MINI)), encoding="utf-8")
    args = ["--offline", "batch", "--manifest", str(path), "--eigen-notebooks"]
    args += ["--uit", str(tmp_path / "uit"), "--dask", "tcp://127.0.0.1:8786"]
    code = cli.main(args)
    assert code == 3
    err = capsys.readouterr().err
    assert "Dask" in err and "niet geïnstalleerd" in err


def test_without_an_address_dask_is_not_needed(tmp_path, offline, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)
    options = batch.check_run(_manifest(tmp_path), out_dir=tmp_path / "uit")
    assert options.dask is None


# -- on a real (local) cluster -------------------------------------------------------------------
@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as local:
        yield local


def test_unreachable_scheduler_is_an_input_error(tmp_path, offline):
    pytest.importorskip("distributed")
    with pytest.raises(dask_cluster.DaskUnreachable, match="Geen Dask-scheduler bereikbaar"):
        dask_cluster.connect("tcp://127.0.0.1:9")


def test_batch_on_a_local_cluster_matches_the_local_pool(cluster, tmp_path, offline):
    manifest = _manifest(tmp_path)
    on_dask = batch.run_batch(
        manifest,
        out_dir=tmp_path / "dask",
        clock=_clock(27),
        progress="uit",
        dask=cluster.scheduler_address,
    )
    local = batch.run_batch(
        manifest, out_dir=tmp_path / "lokaal", workers=2, clock=_clock(27), progress="uit"
    )
    assert on_dask["geslaagd"] and on_dask["aantallen"]["gemaakt"] == 3
    assert on_dask["dask"] == cluster.scheduler_address
    assert {e["status"] for e in on_dask["rapporten"]} == {"gemaakt"}
    # the reports were made by the cluster's worker processes, not by this one or its pool
    import os

    import distributed

    with distributed.Client(cluster, set_as_default=False) as client:
        worker_pids = set(client.run(os.getpid).values())
    assert {e["werker"] for e in on_dask["rapporten"]} <= worker_pids
    for entry in local["rapporten"]:
        mine = tmp_path / "lokaal" / "latest" / entry["uitvoer"]
        theirs = tmp_path / "dask" / "latest" / entry["uitvoer"]
        assert theirs.read_bytes() == mine.read_bytes()
    state = json.loads((tmp_path / "dask" / "laatste-run.json").read_text(encoding="utf-8"))
    assert state["status"] == on_dask["status"]

    again = batch.run_batch(
        manifest,
        out_dir=tmp_path / "dask",
        clock=_clock(28),
        progress="uit",
        dask=cluster.scheduler_address,
    )
    assert again["aantallen"]["hergebruikt"] == 3 and again["aantallen"]["gemaakt"] == 0


def test_failed_report_on_the_cluster_follows_the_policy(cluster, tmp_path, offline):
    text = MANIFEST + "[rapport.parameters]\nmislukken = true\n"
    text = text.replace('gemeenten = ["Westerkwartier", "Groningen", "Schiermonnikoog"]', "")
    text = 'gemeenten = ["Schiermonnikoog"]\n' + text
    summary = batch.run_batch(
        _manifest(tmp_path, text),
        out_dir=tmp_path / "uit",
        clock=_clock(27),
        progress="uit",
        dask=cluster.scheduler_address,
    )
    (entry,) = summary["rapporten"]
    assert entry["status"] == "mislukt" and "Opzettelijke fout" in entry["fout"]
    assert not summary["geslaagd"] and batch.exit_code(summary) != 0
