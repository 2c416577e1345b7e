"""Tests of the batch layer: manifest validation, parallel runs, publication, incremental runs.

The runs use the mini notebook (a few seconds each); they share one output folder and run in
order (module-scoped fixtures), so the whole file renders only six reports.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
from pathlib import Path

import pytest

from westerkwartier import cli, settings
from westerkwartier.errors import InputError, ReportFailed
from westerkwartier.pipeline import batch, jobs
from westerkwartier.pipeline import manifest as batch_manifest

MINI = Path(__file__).parent / "fixtures" / "notebooks" / "mini.ipynb"


def _manifest(tmp_path: Path, text: str, name: str = "reports.toml") -> Path:
    path = tmp_path / name
    path.write_text(text.replace("MINI", str(MINI)), encoding="utf-8")
    return path


def _load(path: Path, **kwargs) -> batch_manifest.Manifest:
    """Load a test manifest; the mini notebook lies outside notebooks/, so it is allowed."""
    return batch_manifest.load_manifest(path, allow_outside_notebooks=True, **kwargs)


def _problems(path: Path, **kwargs) -> batch_manifest.ManifestError:
    with pytest.raises(batch_manifest.ManifestError) as info:
        _load(path, **kwargs)
    return info.value


# ----------------------------------------------------------------------------------------------
# Manifest
# ----------------------------------------------------------------------------------------------

VALID = """\
# example
gemeenten = ["Westerkwartier", "GM0014"]

[run]
workers = 2
publiceren = "alles-of-niets"

[parameters]
jaar = 2023

[[rapport]]
naam = "mini"
notebook = "MINI"
titel = "Mini voor {gemeente}"

[rapport.parameters]
aandeel = 70.5
"""


def test_valid_manifest_is_read(tmp_path):
    manifest = _load(_manifest(tmp_path, VALID))
    assert [(r.name, c) for r, c in manifest.jobs()] == [("mini", "GM1969"), ("mini", "GM0014")]
    spec = manifest.reports[0]
    assert spec.parameters == {"jaar": 2023, "aandeel": 70.5}
    assert spec.notebook == MINI.resolve()
    assert manifest.workers == 2 and manifest.policy == "alles-of-niets"
    assert manifest.names["GM1969"] == "Westerkwartier"
    assert manifest.out_dir == tmp_path / "reports"


def test_unknown_key_has_line_and_suggestion(tmp_path):
    text = VALID.replace("workers = 2", "werkers = 2")
    err = _problems(_manifest(tmp_path, text))
    assert err.lines == [5]
    assert "regel 5" in str(err) and "'werkers'" in str(err) and "Bedoelde u 'workers'" in str(err)
    assert isinstance(err, InputError) and err.exit_code == 3


def test_unknown_municipality_names_the_line_and_suggests(tmp_path):
    text = 'gemeenten = [\n  "GM0014",\n  "Westerkwartir",\n]\n[[rapport]]\nnaam = "mini"\n'
    text += 'notebook = "MINI"\n'
    err = _problems(_manifest(tmp_path, text))
    assert err.lines == [3]
    assert "Westerkwartier" in str(err) and "Westerkwartir" in str(err)


def test_unknown_report_name_and_bad_types(tmp_path):
    text = """\
[run]
workers = "twee"
tijdslimiet_rapport = -5

[[rapport]]
naam = "talen"
"""
    err = _problems(_manifest(tmp_path, text))
    assert err.lines == [2, 3, 6]
    message = str(err)
    assert "'workers' in [run] moet geheel getal zijn" in message and "workers = 2" in message
    assert "groter dan 0" in message
    assert "onbekend rapport 'talen'" in message and "Bedoelde u 'talent'" in message


def test_notebook_parameters_are_checked_with_line(tmp_path):
    text = VALID.replace("aandeel = 70.5", "andeel = 70.5").replace("jaar = 2023", 'jaar = "x"')
    err = _problems(_manifest(tmp_path, text))
    assert err.lines == [9, 17]
    assert "verwacht geheel getal" in str(err)
    assert "Bedoelde u 'aandeel'" in str(err)


def test_toml_syntax_error_has_line(tmp_path):
    err = _problems(_manifest(tmp_path, 'gemeenten = ["GM1969"\n[run]\nworkers = 2\n'))
    assert err.lines[0] in {1, 2}
    assert "geen geldige TOML" in str(err)


def test_missing_notebook_and_municipality_parameter(tmp_path):
    text = '[[rapport]]\nnaam = "eigen"\nnotebook = "bestaat-niet.ipynb"\n'
    text += '[rapport.parameters]\ngemeente = "GM1969"\n'
    err = _problems(_manifest(tmp_path, text))
    assert err.lines[0] == 3 and "bestaat niet" in str(err)
    assert (
        not _load(
            _manifest(tmp_path, text.split("[rapport.parameters]")[0], "b.toml"),
            check_notebooks=False,
        )
        .reports[0]
        .parameters
    )


def test_reports_come_from_the_catalogue(tmp_path):
    from westerkwartier.reporting.report_catalogue import NOTEBOOKS_DIR

    text = (
        '[[rapport]]\nnaam = "talent"\nnotebook = "NB"\n[[rapport]]\nnaam = "aantrekkelijkheid"\n'
    )
    same = _manifest(tmp_path, text.replace("NB", str(NOTEBOOKS_DIR / "talent.ipynb")))
    manifest = batch_manifest.load_manifest(same, check_notebooks=False)
    talent, aantr = manifest.reports
    assert talent.notebook == (NOTEBOOKS_DIR / "talent.ipynb").resolve()
    assert aantr.title == "Aantrekkelijkheid in {gemeente} — regionale monitor"
    assert aantr.label == "Aantrekkelijkheid"
    other = _manifest(tmp_path, text.replace("NB", str(MINI)), "ander.toml")
    err = _problems(other, check_notebooks=False)
    assert err.lines == [3] and "staat in de rapportcatalogus" in str(err)


def test_province_and_all_shortcuts():
    from westerkwartier.sources import regions

    registry = regions.load_registry()
    names: dict[str, str] = {}
    groningen = batch_manifest.select_municipalities(registry, provincie="Groningen", names=names)
    assert len(groningen) == 10 and "GM1969" in groningen
    # by name, as a reader looks for a municipality on the index page (not by CBS code)
    assert [names[c] for c in groningen][:3] == ["Eemsdelta", "Groningen", "Het Hogeland"]
    everyone = batch_manifest.select_municipalities(registry, alle_gemeenten=True, names=names)
    assert len(everyone) == 342 and names[everyone[0]] == "Aa en Hunze"
    at = everyone.index("GM0518")  # 's-Gravenhage files under G
    assert [names[c] for c in everyone[at - 1 : at + 2]] == ["Gouda", "'s-Gravenhage", "Groningen"]
    # an explicit list keeps its order
    mine = ["Westerkwartier", "Aa en Hunze"]
    assert batch_manifest.select_municipalities(registry, gemeenten=mine) == ["GM1969", "GM1680"]
    with pytest.raises(InputError, match="Westerkwartier"):
        batch_manifest.select_municipalities(registry, gemeenten=["westerkwartir"])


def test_default_manifest_points_at_the_real_notebooks(monkeypatch):
    manifest = batch_manifest.parse_manifest({}, check_notebooks=False)
    notebooks = {r.name: r.notebook for r in manifest.reports}
    assert notebooks == {
        "aantrekkelijkheid": settings.project_dir / "notebooks" / "aantrekkelijkheid.ipynb",
        "talent": settings.project_dir / "notebooks" / "talent.ipynb",
    }
    assert [c for _, c in manifest.jobs()] == ["GM1969", "GM1969"]


def test_cli_checks_a_manifest(tmp_path, capsys):
    path = _manifest(tmp_path, VALID)
    assert (
        cli.main(
            ["batch", "--manifest", str(path), "--provincie", "Groningen", "--controleer"]
            + ["--eigen-notebooks"]
        )
        == 0
    )
    assert "10 gemeente(n)" in capsys.readouterr().out
    bad = _manifest(tmp_path, VALID.replace("workers", "werkers"), "bad.toml")
    assert cli.main(["batch", "--manifest", str(bad), "--eigen-notebooks"]) == 3
    err = capsys.readouterr().err
    assert "regel 5" in err and "Traceback" not in err


# ----------------------------------------------------------------------------------------------
# Small parts
# ----------------------------------------------------------------------------------------------


def test_parameters_get_code_date_and_notice():
    spec = batch_manifest.ManifestEntry("r", MINI, "t", "R", {"jaar": 2023}, ("GM1969",))
    data = batch.DataState(date="2026-06-23", fingerprint="x", notice="Let op")
    declared = {"gemeente": 1, "peildatum": 1, "gegevensmelding": 1}
    params, inject = batch._build_parameters(spec, "GM1969", declared, data)
    assert params == {
        "jaar": 2023,
        "gemeente": "GM1969",
        "peildatum": "2026-06-23",
        "gegevensmelding": "Let op",
    }
    assert not inject
    params, inject = batch._build_parameters(spec, "GM1969", {"gemeente": 1}, data)
    assert params == {"jaar": 2023, "gemeente": "GM1969"} and inject


def test_notice_is_put_at_the_top_of_the_page():
    page = '<html lang="nl"><body>\n<main class="rapport">\n<h1>T</h1></main></body></html>'
    out = jobs.inject_notice(page, "CBS <onbereikbaar>")
    assert out.index("gegevensmelding") < out.index("<h1>")
    assert "CBS &lt;onbereikbaar&gt;" in out


def test_unreachable_cbs_gives_a_notice(monkeypatch):
    monkeypatch.setattr(settings, "cbs_host", "127.0.0.1:9")
    monkeypatch.setattr(settings, "retries", 1)
    monkeypatch.setattr(settings, "timeout", 2)
    reachable, refreshed = batch.refresh_data(["85036NED", "86088NED"])
    assert reachable is False and refreshed == []
    state = batch.data_state(reachable, refreshed)
    assert state.offline and "niet bereikbaar" in state.notice
    assert state.date in state.notice or "2026" in state.notice
    # the run's index page lists many reports: "toen deze rapporten werden gemaakt"
    assert "toen dit rapport werd gemaakt" in state.notice
    assert state.index_notice == state.notice.replace(
        "toen dit rapport werd gemaakt", "toen deze rapporten werden gemaakt"
    )


def test_kernel_start_failures_are_recognised():
    def failed(cause: Exception, cell: int | None) -> ReportFailed:
        err = ReportFailed("x", cell_index=cell)
        err.__cause__ = cause
        return err

    assert jobs.is_start_failure(failed(RuntimeError("Kernel died before replying"), None))
    assert jobs.is_start_failure(failed(OSError("ZMQError: Address already in use"), None))
    assert not jobs.is_start_failure(failed(ValueError("Opzettelijke fout"), 4))
    assert not jobs.is_start_failure(failed(jobs.ReportTimeout("tijd"), None))


def test_latest_switch_is_atomic_and_relative(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    batch.switch_latest(tmp_path, "a")
    batch.switch_latest(tmp_path, "b")
    assert os.readlink(tmp_path / "latest") == "b"
    assert not list(tmp_path.glob(".latest*"))


def test_a_second_run_in_the_same_folder_waits_for_the_first(tmp_path, monkeypatch):
    import threading

    monkeypatch.setattr(batch, "LOCK_POLL", 0.05)
    said: list[str] = []
    order: list[str] = []
    first_holds = threading.Event()

    def first():
        with batch._lock(tmp_path):
            first_holds.set()
            threading.Event().wait(0.4)
            order.append("eerste klaar")

    thread = threading.Thread(target=first)
    thread.start()
    first_holds.wait(5)
    with batch._lock(tmp_path, timeout=10, notify=said.append):
        order.append("tweede begint")
    thread.join()
    assert order == ["eerste klaar", "tweede begint"]
    assert len(said) == 1 and "wacht op een andere batch" in said[0]


def test_a_second_run_gives_up_after_its_timeout(tmp_path, monkeypatch):
    monkeypatch.setattr(batch, "LOCK_POLL", 0.05)
    said: list[str] = []
    with batch._lock(tmp_path), pytest.raises(batch.BatchBusy, match="draait al"):
        with batch._lock(tmp_path, timeout=0.2, notify=said.append):
            pass
    assert len(said) == 1
    with batch._lock(tmp_path, timeout=0):  # released: taken at once
        pass


def test_progress_prints_plain_lines_without_a_terminal():
    stream = io.StringIO()
    progress = batch._Progress(2, "auto", stream)
    assert progress.mode == "regels"
    progress.step({"gemeente": "GM1969", "rapport": "talent", "status": "gemaakt", "duur_s": 4.25})
    progress.step(
        {"gemeente": "GM0014", "rapport": "talent", "status": "mislukt", "fout": "kapot\nmeer"}
    )
    assert stream.getvalue().splitlines() == [
        "[1/2] GM1969 talent: gemaakt (4,2 s)",
        "[2/2] GM0014 talent: mislukt (0,0 s) – kapot",
    ]


# ----------------------------------------------------------------------------------------------
# Runs (mini notebook; one shared output folder, in order)
# ----------------------------------------------------------------------------------------------

THREE = """\
gemeenten = ["Westerkwartier", "Groningen", "Schiermonnikoog"]
[[rapport]]
naam = "mini"
notebook = "MINI"
titel = "Mini voor {gemeente}"
"""


def _clock(day: int, hour: int = 8):
    return lambda: dt.datetime(2026, 11, day, hour, 30)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Run 1: three reports with two workers; run 2: the same again (nothing to do)."""
    tmp = tmp_path_factory.mktemp("batch")
    out = tmp / "reports"
    manifest = _load(_manifest(tmp, THREE))
    stream = io.StringIO()
    first = batch.run_batch(
        manifest, out_dir=out, workers=2, clock=_clock(27), stream=stream, stagger=0.2
    )
    second = batch.run_batch(manifest, out_dir=out, workers=2, clock=_clock(28), stream=stream)
    return {
        "out": out,
        "tmp": tmp,
        "manifest": manifest,
        "stream": stream,
        "first": first,
        "second": second,
    }


def test_parallel_run_succeeds_with_summary_and_latest(runs):
    out, summary = runs["out"], runs["first"]
    assert summary["run"] == "2026-11-27T0830" and summary["geslaagd"]
    assert summary["aantallen"] == {
        "gemaakt": 3,
        "hergebruikt": 0,
        "mislukt": 0,
        "afgebroken": 0,
        "onderbroken": 0,
    }
    assert summary["status"] == "geslaagd" and summary["exitcode"] == 0
    assert batch.exit_code(summary) == 0
    on_disk = json.loads((out / "2026-11-27T0830" / "samenvatting.json").read_text("utf-8"))
    assert on_disk["rapporten"] == summary["rapporten"]
    entries = {e["gemeente"]: e for e in on_disk["rapporten"]}
    assert set(entries) == {"GM1969", "GM0014", "GM0088"}
    for code, entry in entries.items():
        assert entry["status"] == "gemaakt" and entry["fout"] is None
        assert entry["uitvoer"] == f"{code}/mini.html"
        assert entry["duur_s"] > 0 and entry["gegevensdatum"] == on_disk["gegevens"]["datum"]
        assert entry["parameters"]["gemeente"] == code
    assert len({e["werker"] for e in entries.values()}) >= 1
    page = (out / "2026-11-27T0830" / "GM0088" / "mini.html").read_text("utf-8")
    assert "<title>Mini voor Schiermonnikoog</title>" in page
    index = (out / "2026-11-27T0830" / "index.html").read_text("utf-8")
    assert index.count('href="GM') == 3 and "Schiermonnikoog (GM0088)" in index
    lines = runs["stream"].getvalue().splitlines()
    assert any(line.startswith("[3/3] ") for line in lines)


def test_unchanged_reports_are_not_rendered_again(runs):
    out, summary = runs["out"], runs["second"]
    assert summary["aantallen"]["hergebruikt"] == 3 and summary["aantallen"]["gemaakt"] == 0
    assert os.readlink(out / "latest") == "2026-11-28T0830"
    old = out / "2026-11-27T0830" / "GM1969" / "mini.html"
    new = out / "2026-11-28T0830" / "GM1969" / "mini.html"
    assert old.stat().st_ino == new.stat().st_ino  # hard link, no copy
    assert json.loads((out / "laatste-run.json").read_text("utf-8"))["run"] == "2026-11-28T0830"


def test_failing_report_keeps_last_good_version_and_latest(runs):
    out, tmp = runs["out"], runs["tmp"]
    text = THREE.replace('"Groningen", "Schiermonnikoog"', "") + "[rapport.parameters]\n"
    text += "mislukken = true\n"
    manifest = _load(_manifest(tmp, text, "fout.toml"))
    summary = batch.run_batch(manifest, out_dir=out, workers=1, clock=_clock(29))
    assert batch.exit_code(summary) == 7 and not summary["geslaagd"]
    (entry,) = summary["rapporten"]
    assert entry["status"] == "mislukt"  # changed parameter: rendered, not reused
    assert "Opzettelijke fout" in entry["fout"] and summary["mislukt"][0]["gemeente"] == "GM1969"
    assert (out / entry["mislukt_notebook"]).is_file()  # relative to the output folder
    assert entry["mislukt_notebook"].startswith("_failed/")
    assert str(out) not in json.dumps(summary)
    assert summary["status"] == "met fouten" and summary["exitcode"] == 7
    # nothing good in this run: latest stays on the last good run
    assert not summary["latest_bijgewerkt"]
    assert os.readlink(out / "latest") == "2026-11-28T0830"
    # the failed run holds the previous good file, never a broken one
    kept = out / "2026-11-29T0830" / "GM1969" / "mini.html"
    good = out / "2026-11-27T0830" / "GM1969" / "mini.html"
    assert kept.stat().st_ino == good.stat().st_ino
    assert entry["vorige_versie"] == "2026-11-28T0830/GM1969/mini.html"
    assert "Vorige versie behouden" in batch.describe(summary)


def test_report_time_limit(runs):
    out, tmp = runs["out"], runs["tmp"]
    text = THREE.replace('"Groningen", "Schiermonnikoog"', "").replace('"mini"', '"traag"')
    text += "[rapport.parameters]\nwachten = 120.0\n"
    manifest = _load(_manifest(tmp, text, "traag.toml"))
    summary = batch.run_batch(manifest, out_dir=out, workers=1, clock=_clock(30), report_timeout=4)
    (entry,) = summary["rapporten"]
    assert entry["status"] == "afgebroken"
    assert "tijdslimiet per rapport (4 s)" in entry["fout"]
    assert entry["duur_s"] < 60 and entry["uitvoer"] is None
    assert batch.exit_code(summary) == 7


def test_force_renders_again_and_moves_latest(runs):
    out = runs["out"]
    manifest = runs["manifest"].with_selection(["GM0088"])
    summary = batch.run_batch(manifest, out_dir=out, force=True, clock=_clock(30, 9))
    assert summary["aantallen"]["gemaakt"] == 1 and summary["geslaagd"]
    assert os.readlink(out / "latest") == "2026-11-30T0930"


def test_report_command_with_a_manifest_runs_the_batch(tmp_path, capsys):
    from westerkwartier import cli

    text = 'gemeenten = ["GM1969"]\n[run]\nworkers = 1\n[[rapport]]\nnaam = "mini"\n'
    text += 'notebook = "MINI"\nlabel = "Mini"\ntitel = "Mini in {gemeente}"\n'
    manifest = _manifest(tmp_path, text)
    out = tmp_path / "uit"
    code = cli.main(
        ["--offline", "report", "--manifest", str(manifest), "--uit", str(out), "--eigen-notebooks"]
    )
    assert code == 0, capsys.readouterr().err
    latest = out / "latest"
    assert latest.is_symlink()
    assert (latest / "GM1969" / "mini.html").is_file()
    assert (latest / "samenvatting.json").is_file()


# ----------------------------------------------------------------------------------------------
# Ambitions in a manifest: only where the partners set a file
# ----------------------------------------------------------------------------------------------
def test_manifest_ambitions_resolved_from_its_folder(tmp_path):
    example = settings.project_dir / "ambities" / "westerkwartier.toml"
    (tmp_path / "doelen.toml").write_text(example.read_text(encoding="utf-8"), encoding="utf-8")
    path = _manifest(
        tmp_path,
        '[[rapport]]\nnaam = "talent"\nambities = "doelen.toml"\n\n'
        '[[rapport]]\nnaam = "aantrekkelijkheid"\n',
    )
    manifest = batch_manifest.load_manifest(path)
    by_name = {r.name: r for r in manifest.reports}
    assert by_name["talent"].parameters["ambities"] == str(tmp_path.resolve() / "doelen.toml")
    assert "ambities" not in by_name["aantrekkelijkheid"].parameters


def test_manifest_bad_ambitions_file_stops_before_any_report(tmp_path):
    (tmp_path / "doelen.toml").write_text(
        '[[ambitie]]\nindicator = "werkloosheid_typo"\ndoel = 3.0\ndoeljaar = 2030\n'
        'eigenaar = "Gemeente"\n',
        encoding="utf-8",
    )
    path = _manifest(
        tmp_path,
        '[parameters]\nambities = "doelen.toml"\n\n[[rapport]]\nnaam = "talent"\n'
        '\n[[rapport]]\nnaam = "aantrekkelijkheid"\nparameters = { ambities = "weg.toml" }\n',
    )
    with pytest.raises(batch_manifest.ManifestError) as info:
        batch_manifest.load_manifest(path)
    text = str(info.value)
    assert "regel 2" in text and "werkloosheid_typo" in text  # the manifest's line
    assert "weg.toml" in text and "bestaat niet" in text


def test_a_stopped_pool_waits_for_its_manager_thread(monkeypatch):
    """``_stop_pool`` waits for the pool's manager thread to end, not only wakes it.

    Python 3.11's exit writes to the thread's wake-up pipe without a lock while the thread
    closes it; a run stopped by SIGTERM whose thread was still ending once printed that race's
    traceback (CI, stop 63). ``shutdown(wait=False)`` forgets the thread, so only a join taken
    before it makes sure; on a quiet machine the thread has often ended anyway.
    """
    import concurrent.futures as cf
    import time

    pool = cf.ProcessPoolExecutor(max_workers=1, mp_context=batch._mp_context())
    future = pool.submit(time.sleep, 60)
    deadline = time.monotonic() + 30
    while not future.running() and time.monotonic() < deadline:
        time.sleep(0.01)
    thread = pool._executor_manager_thread
    assert future.running() and thread is not None and thread.is_alive()
    joins: list[float | None] = []
    join = thread.join

    def recorded(timeout: float | None = None) -> None:
        joins.append(timeout)
        join(timeout)

    monkeypatch.setattr(thread, "join", recorded)
    batch._stop_pool(pool, grace=1.0)
    assert joins, "the manager thread was not waited for"
    assert not thread.is_alive()
    assert future.cancelled() or future.done()
