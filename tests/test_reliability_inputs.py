"""Bad-input matrix: every wrong input through the command line and the Python API.

Each case checks: the package's own exception in Python; on the command line a short Dutch
message that says what to do, the documented exit code (``errors.EXIT_CODES``), no traceback
(unless ``--debug``) and nothing written to the working or output folder.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from westerkwartier import cli, settings
from westerkwartier.analysis import ambitions, composite
from westerkwartier.errors import (
    EXIT_CODES,
    DataIntegrityError,
    InputError,
    OutputNotWritable,
    RegionDissolved,
    RegionNotFound,
    SnapshotMissing,
    WesterkwartierError,
)
from westerkwartier.pipeline import batch, manifest
from westerkwartier.pipeline import notebook as runner
from westerkwartier.pipeline import render as reports
from westerkwartier.sources import cache, cbs, data, periods, regions, store

MINI = Path(__file__).parent / "fixtures" / "notebooks" / "mini.ipynb"
SNAPSHOT = settings.snapshot_dir

MANIFEST = f"""\
gemeenten = ["Westerkwartier"]

[[rapport]]
naam = "mini"
notebook = "{MINI}"
"""

BAD_TOML_MANIFEST = """\
gemeenten = ["Westerkwartier"]

[[rapport]]
naam = "mini
"""

BAD_NAME_MANIFEST = """\
gemeenten = ["Westerkwartier"]

[[rapport]]
naam = "talnt"
"""

WEIGHTS = """\
[defaults]
reference_year = 2022

[index.talent]
label = "Talentindex"

[[index.talent.sub]]
id = "aantrekken"
weight = 1.0

[[index.talent.sub.indicator]]
id = "netto_arbeidsparticipatie"
weight = "veel"
"""

TARGETS = """\
gemeente = "GM1969"

[[ambitie]]
indicator = "netto_arbeidsparticipatie"
doel = 76.0
doeljaar = 2030
eigenaar = "Gemeente"

[[ambitie]]
indicator = "netto_arbeidsparticpatie"
doel = 76.0
doeljaar = 2030
eigenaar = "Gemeente"
"""


@dataclass
class Case:
    """One row of the matrix: what is typed, through which command, and the expectation."""

    case: str
    args: Callable[[Path], list[str]]
    api: Callable[[Path], object]
    api_name: str
    error: type[WesterkwartierError]
    hint: str  # a word of the "what to do" part of the message
    exit_code: int | None = None  # argparse usage errors have no exception class
    lines: tuple[int, ...] = ()  # line numbers the message must name


def _write(tmp: Path, name: str, text: str) -> Path:
    path = tmp / "invoer" / name
    path.parent.mkdir(exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _unwritable(tmp: Path) -> Path:
    """A folder the process cannot write to (as root: a path below a regular file)."""
    if os.geteuid() == 0:
        blocker = tmp / "invoer" / "bestand.txt"
        blocker.parent.mkdir(exist_ok=True)
        blocker.write_text("geen map\n", encoding="utf-8")
        return blocker / "uit"
    folder = tmp / "invoer" / "alleen-lezen"
    folder.mkdir(parents=True)
    folder.chmod(0o555)
    return folder / "uit"


def _empty_snapshot(tmp: Path) -> Path:
    folder = tmp / "invoer" / "lege-snapshot"
    folder.mkdir(parents=True, exist_ok=True)
    settings.snapshot_dir = folder
    settings.offline = True
    return folder


def _corrupt_cache(tmp: Path) -> None:
    table = data.snapshot_table("85036NED")
    query = cache.normalise_query(regions="GM1969")
    cache.save(table, query)
    parquet = settings.cache_dir / f"{cache.entry_name('85036NED', query)}.parquet"
    raw = bytearray(parquet.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    parquet.write_bytes(bytes(raw))
    settings.offline = True


def _corrupt_snapshot(tmp: Path) -> Path:
    copy = tmp / "invoer" / "snapshot"
    shutil.copytree(SNAPSHOT, copy)
    settings.snapshot_dir = copy
    settings.offline = True
    table = copy / data.TABLES_DIR / "85036NED.parquet"
    raw = bytearray(table.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    table.write_bytes(bytes(raw))
    registry = copy / "regions.parquet"
    registry.write_bytes(registry.read_bytes()[:200])  # a cut-off file
    return copy


def _corrupt_snapshot_table(tmp: Path) -> Path:
    """A copy of the snapshot with one flipped byte in a table; the region registry is intact."""
    copy = tmp / "invoer" / "snapshot-tabel"
    shutil.copytree(SNAPSHOT, copy)
    settings.snapshot_dir = copy
    settings.offline = True
    table = copy / data.TABLES_DIR / "85036NED.parquet"
    raw = bytearray(table.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    table.write_bytes(bytes(raw))
    return copy


#: Report date of the ``report`` cases (the default is today; a fixed date keeps rows stable).
PEILDATUM = "2026-11-27"


def _report(tmp: Path, *args: str) -> list[str]:
    """``westerkwartier report`` into ``<tmp>/uit`` (must stay absent: nothing runs)."""
    return ["--offline", "report", *args, "--peildatum", PEILDATUM, "--uit", str(tmp / "uit")]


def _render(tmp: Path, **kwargs):
    """``render.render_reports`` into ``<tmp>/uit`` with the same fixed date."""
    args = {"gemeente": "GM1969", "peildatum": PEILDATUM, "uit": tmp / "uit", **kwargs}
    return reports.render_reports(**args)


def _weights(tmp: Path) -> Path:
    path = _write(tmp, "indices.toml", WEIGHTS)
    composite.CONFIG_FILE = path  # the CLI reads the default path; restored by the test
    return path


def _registry():
    return regions.load_registry()


CASES = [
    Case(
        "unknown municipality ('Atlantis')",
        lambda t: ["regions", "Atlantis"],
        lambda t: _registry().resolve("Atlantis"),
        "regions.load_registry().resolve",
        RegionNotFound,
        "westerkwartier regions",
    ),
    Case(
        "misspelt municipality ('Westerkwartir')",
        lambda t: ["panel", "--gemeente", "Westerkwartir"],
        lambda t: _registry().resolve("Westerkwartir"),
        "regions.load_registry().resolve",
        RegionNotFound,
        "Bedoelde u: Westerkwartier",
    ),
    Case(
        "dissolved municipality ('Grootegast', merged 2019)",
        lambda t: ["panel", "--gemeente", "Grootegast"],
        lambda t: _registry().resolve("Grootegast"),
        "regions.load_registry().resolve",
        RegionDissolved,
        "opgegaan in Westerkwartier",
    ),
    Case(
        "year in the future (--jaar 2099)",
        lambda t: ["panel", "--gemeente", "GM1969", "--jaar", "2099"],
        lambda t: periods.check_year(2099),
        "periods.check_year",
        InputError,
        "ligt in de toekomst",
    ),
    Case(
        "year out of range (--jaar 1850)",
        lambda t: ["index", "--jaar", "1850"],
        lambda t: periods.check_year(1850),
        "periods.check_year",
        InputError,
        "buiten het bereik",
    ),
    Case(
        "non-numeric year (--jaar abc)",
        lambda t: ["panel", "--jaar", "abc"],
        lambda t: cbs.fetch_table("85036NED", periods="abc"),
        "cbs.fetch_table(periods=...)",
        InputError,
        "bijvoorbeeld 2023",
        exit_code=2,
    ),
    Case(
        "unknown report name (--rapport minni)",
        lambda t: [
            "batch",
            "--manifest",
            str(_write(t, "m.toml", MANIFEST)),
            "--rapport",
            "minni",
            "--controleer",
        ],
        lambda t: manifest.load_manifest(_write(t, "m.toml", MANIFEST)).only(["minni"]),
        "manifest.Manifest.only",
        InputError,
        "Bedoelde u mini",
    ),
    Case(
        "unknown report in a manifest (naam = 'talnt')",
        lambda t: ["batch", "--manifest", str(_write(t, "n.toml", BAD_NAME_MANIFEST))],
        lambda t: manifest.load_manifest(_write(t, "n.toml", BAD_NAME_MANIFEST)),
        "manifest.load_manifest",
        manifest.ManifestError,
        "Bedoelde u 'talent'",
        lines=(4,),
    ),
    Case(
        "malformed manifest (TOML syntax)",
        lambda t: ["batch", "--manifest", str(_write(t, "b.toml", BAD_TOML_MANIFEST))],
        lambda t: manifest.load_manifest(_write(t, "b.toml", BAD_TOML_MANIFEST)),
        "manifest.load_manifest",
        manifest.ManifestError,
        "Controleer aanhalingstekens",
        lines=(4,),
    ),
    Case(
        'malformed weights file (weight = "veel")',
        lambda t: ["index", "--index", "talent", "--jaar", "2022"] if _weights(t) else [],
        lambda t: composite.load_indices(_write(t, "indices.toml", WEIGHTS)),
        "composite.load_indices(path)",
        InputError,
        "Gewichten en jaren zijn getallen",
    ),
    Case(
        "targets file with a misspelt indicator",
        lambda t: ["ambities", "--bestand", str(_write(t, "a.toml", TARGETS))],
        lambda t: ambitions.read_ambitions(_write(t, "a.toml", TARGETS)),
        "ambitions.read_ambitions",
        ambitions.AmbitionFileError,
        "Bedoelde u 'netto_arbeidsparticipatie'",
        lines=(10,),
    ),
    Case(
        "unwritable output folder",
        lambda t: ["indicators", "--uit", str(_unwritable(t) / "catalogus.csv")],
        lambda t: batch.run_batch(
            manifest.load_manifest(_write(t, "m.toml", MANIFEST)), out_dir=_unwritable(t)
        ),
        "batch.run_batch(out_dir=...)",
        OutputNotWritable,
        "Kies met --uit een map",
    ),
    Case(
        "missing snapshot (WESTERKWARTIER_SNAPSHOT_DIR empty)",
        lambda t: ["--offline", "overzicht"] if _empty_snapshot(t) else [],
        lambda t: _empty_snapshot(t) and data.get_table("86088NED"),
        "data.get_table (offline)",
        SnapshotMissing,
        "westerkwartier snapshot",
    ),
    Case(
        "corrupted cache file (checksum)",
        lambda t: _corrupt_cache(t) or ["fetch", "85036NED", "--regio", "GM1969"],
        lambda t: _corrupt_cache(t) or cbs.fetch_table("85036NED", regions="GM1969"),
        "cbs.fetch_table (offline)",
        DataIntegrityError,
        "verwijder hem met",
    ),
    Case(
        "corrupted snapshot file (checksum; cut-off registry)",
        lambda t: ["regions", "Westerkwartier"] if _corrupt_snapshot(t) else [],
        lambda t: _corrupt_snapshot(t) and data.get_table("85036NED"),
        "data.get_table (offline)",
        DataIntegrityError,
        "westerkwartier snapshot",
    ),
]

#: The same inputs through ``westerkwartier report`` / ``render.render_reports``: every one
#: fails in the input checks, before a kernel starts (the tests replace ``run_notebook`` by a
#: function that fails the test), and leaves ``--uit`` absent.
REPORT_CASES = [
    Case(
        "report: unknown municipality ('Atlantis')",
        lambda t: _report(t, "--gemeente", "Atlantis"),
        lambda t: _render(t, gemeente="Atlantis"),
        "render.render_reports",
        RegionNotFound,
        "westerkwartier regions",
    ),
    Case(
        "report: misspelt municipality ('Westerkwartir')",
        lambda t: _report(t, "--gemeente", "Westerkwartir"),
        lambda t: _render(t, gemeente="Westerkwartir"),
        "render.render_reports",
        RegionNotFound,
        "Bedoelde u: Westerkwartier",
    ),
    Case(
        "report: dissolved municipality ('Grootegast', merged 2019)",
        lambda t: _report(t, "--gemeente", "Grootegast"),
        lambda t: _render(t, gemeente="Grootegast"),
        "render.render_reports",
        RegionDissolved,
        "opgegaan in Westerkwartier",
    ),
    Case(
        "report: year in the future (--jaar 2099)",
        lambda t: _report(t, "--jaar", "2099"),
        lambda t: _render(t, jaar=2099),
        "render.render_reports",
        InputError,
        "ligt na de peildatum",
    ),
    Case(
        "report: year out of range (--jaar 1850)",
        lambda t: _report(t, "--jaar", "1850"),
        lambda t: _render(t, jaar=1850),
        "render.render_reports",
        InputError,
        "buiten het bereik",
    ),
    Case(
        "report: non-numeric year (--jaar abc)",
        lambda t: _report(t, "--jaar", "abc"),
        lambda t: _render(t, jaar="abc"),
        "render.render_reports",
        InputError,
        "geef een jaar als 2023",
    ),
    Case(
        "report: unknown report name (--rapport onbekend)",
        lambda t: _report(t, "--rapport", "onbekend"),
        lambda t: _render(t, rapport="onbekend"),
        "render.render_reports",
        InputError,
        "kies uit: aantrekkelijkheid, talent",
    ),
    Case(
        "report: bad report date (--peildatum 27-11-2026)",
        lambda t: ["--offline", "report", "--peildatum", "27-11-2026", "--uit", str(t / "uit")],
        lambda t: _render(t, peildatum="27-11-2026"),
        "render.render_reports",
        InputError,
        "schrijf hem als JJJJ-MM-DD",
    ),
    Case(
        "report: unwritable --uit folder",
        lambda t: ["--offline", "report", "--peildatum", PEILDATUM, "--uit", str(_unwritable(t))],
        lambda t: _render(t, uit=_unwritable(t)),
        "render.render_reports(uit=...)",
        OutputNotWritable,
        "Kies met --uit een map",
    ),
    Case(
        "report: missing snapshot (WESTERKWARTIER_SNAPSHOT_DIR empty)",
        lambda t: _report(t) if _empty_snapshot(t) else [],
        lambda t: _empty_snapshot(t) and _render(t),
        "render.render_reports (offline)",
        SnapshotMissing,
        "westerkwartier snapshot",
    ),
    Case(
        "report: corrupted snapshot table (checksum; registry intact)",
        lambda t: _report(t) if _corrupt_snapshot_table(t) else [],
        lambda t: _corrupt_snapshot_table(t) and _render(t),
        "render.render_reports (offline)",
        DataIntegrityError,
        "checksum klopt niet",
    ),
]
ALL_CASES = CASES + REPORT_CASES


def _no_notebook(*args, **kwargs):
    raise AssertionError("bad input must be refused before a notebook runs")


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """An empty working folder; settings and the weights path restored afterwards.

    No report notebook may run: bad input is refused before a kernel starts.
    """
    folder = tmp_path / "werkmap"
    folder.mkdir()
    monkeypatch.chdir(folder)
    monkeypatch.setattr(settings, "snapshot_dir", settings.snapshot_dir)
    monkeypatch.setattr(composite, "CONFIG_FILE", composite.CONFIG_FILE)
    monkeypatch.setattr(runner, "run_notebook", _no_notebook)
    monkeypatch.setattr(reports, "run_job", _no_notebook)
    yield folder
    composite._load_indices.cache_clear()


def _files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


def _cli(args: list[str], capsys) -> tuple[int, str]:
    try:
        code = cli.main(args)
    except SystemExit as exit_info:  # argparse usage errors
        code = exit_info.code
    return code, capsys.readouterr().err


@pytest.mark.parametrize("case", ALL_CASES, ids=[c.case for c in ALL_CASES])
def test_bad_input_cli(case, tmp_path, workdir, capsys, reliability):
    args = case.args(tmp_path)
    before = _files(tmp_path)
    code, err = _cli(args, capsys)
    expected = case.exit_code if case.exit_code is not None else case.error.exit_code
    assert code == expected and code in EXIT_CODES
    assert "Traceback" not in err
    assert case.hint in err, err
    for line in case.lines:
        assert f"regel {line}" in err
    assert len(err.strip().splitlines()) <= 6 and len(err) < 900  # short
    assert _files(tmp_path) == before, "nothing may be written, not even partly"
    assert not (tmp_path / "uit").exists(), "the output folder is not even created"
    if case.exit_code is None:
        assert err.startswith("Fout: ")
    shown = " ".join(a for a in args if not a.startswith(str(tmp_path)))
    reliability(
        "inputs",
        case.case,
        f"CLI `{shown}`".replace("  ", " "),
        f"message with what to do ('{case.hint}'"
        + (f", regel {', '.join(map(str, case.lines))}" if case.lines else "")
        + "), no traceback, nothing written",
        code,
    )


@pytest.mark.parametrize("case", ALL_CASES, ids=[c.case for c in ALL_CASES])
def test_bad_input_api(case, tmp_path, workdir, reliability):
    before = _files(tmp_path)
    with pytest.raises(case.error) as info:
        case.api(tmp_path)
    message = str(info.value)
    assert not isinstance(info.value, KeyError)
    assert case.hint.split(" (")[0].lower()[:12] in message.lower() or case.exit_code == 2
    if case.lines:
        problems = getattr(info.value, "problems", [])
        assert tuple(line for line, _ in problems) == case.lines
    new = _files(tmp_path) - before
    ours = (tmp_path / "invoer", Path(settings.cache_dir))  # the test's inputs and cache
    assert all(p.is_relative_to(ours[0]) or p.is_relative_to(ours[1]) for p in new), new
    assert not (tmp_path / "uit").exists(), "the output folder is not even created"
    reliability(
        "inputs",
        case.case,
        f"API `{case.api_name}`",
        f"{type(info.value).__name__}"
        + (f" with line {', '.join(map(str, case.lines))}" if case.lines else ""),
        info.value.exit_code,
    )


@pytest.mark.parametrize(
    "args",
    [["regions", "Atlantis"], ["--offline", "report", "--gemeente", "Atlantis"]],
    ids=["regions", "report"],
)
def test_debug_shows_the_traceback(args, workdir, reliability):
    with pytest.raises(RegionNotFound):
        cli.main(["--debug", *args])
    reliability(
        "inputs",
        "any of the above with --debug",
        f"CLI `--debug {' '.join(args)}`",
        "the exception propagates with its full traceback",
        None,
    )


def test_unexpected_error_is_short_without_debug(workdir, capsys, monkeypatch, reliability):
    def broken(args):
        raise RuntimeError("kapot")

    monkeypatch.setattr(cli, "_cmd_regions", broken)
    code, err = _cli(["regions"], capsys)
    assert code == 1 and "Traceback" not in err and "--debug" in err and "kapot" in err
    reliability(
        "inputs",
        "a bug (an exception that is not ours)",
        "CLI (any command)",
        "'Onverwachte fout: …' with how to report it; traceback only with --debug",
        code,
    )


@pytest.mark.parametrize(
    ("case", "args", "env", "expected"),
    [
        ("unknown municipality", ["regions", "Atlantis"], {}, 3),
        ("missing snapshot", ["--offline", "overzicht"], {"WESTERKWARTIER_SNAPSHOT_DIR": ""}, 4),
        (
            "report: missing snapshot",
            ["--offline", "report", "--uit", "uit"],
            {"WESTERKWARTIER_SNAPSHOT_DIR": ""},
            4,
        ),
    ],
    ids=["unknown", "snapshot", "report-snapshot"],
)
def test_bad_input_in_a_real_process(case, args, env, expected, tmp_path, reliability):
    environment = dict(os.environ, WESTERKWARTIER_CACHE_DIR=str(tmp_path / "cache"))
    environment.update({k: v or str(tmp_path / "leeg") for k, v in env.items()})
    result = subprocess.run(
        [sys.executable, "-m", "westerkwartier.cli", *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=environment,
        timeout=120,
        check=False,
    )
    assert result.returncode == expected
    assert result.stderr.startswith("Fout: ") and "Traceback" not in result.stderr
    assert not result.stdout.strip()
    assert {p.name for p in tmp_path.iterdir()} <= {"cache"}
    reliability(
        "inputs",
        f"{case} (separate process)",
        f"`python -m westerkwartier.cli {' '.join(args)}`",
        "one 'Fout: …' message on stderr, nothing on stdout, no traceback",
        result.returncode,
    )


def test_readme_lists_every_exit_code():
    text = Path(__file__).resolve().parent.parent.joinpath("README.md").read_text("utf-8")
    for code in EXIT_CODES:
        assert f"| {code} |" in text, f"exit code {code} missing from the README table"


def test_store_refuses_a_tampered_checksum(tmp_path):
    table = data.snapshot_table("85036NED")
    store.write_table(table, tmp_path, "t")
    meta = tmp_path / "t.json"
    meta.write_text(meta.read_text("utf-8").replace('"data_sha256": "', '"data_sha256": "0'))
    with pytest.raises(DataIntegrityError):
        store.read_table(tmp_path, "t")
