"""The deployment examples in deploy/ and the example manifest parse and say the same thing."""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from westerkwartier import cli, settings
from westerkwartier.pipeline import manifest as batch_manifest

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
SERVICE = DEPLOY / "westerkwartier-rapporten.service"
TIMER = DEPLOY / "westerkwartier-rapporten.timer"
CRONTAB = DEPLOY / "crontab"
WORKFLOW = DEPLOY / "github-actions-rapporten.yml"
INSTALL_DIR = "/opt/westerkwartier"


def _unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None, comment_prefixes="#;")
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read_string(path.read_text(encoding="utf-8"))
    return parser


def _commands(command: str) -> list[list[str]]:
    """The arguments after each `westerkwartier` in a shell command line, in order."""
    words = command.split(">>")[0].replace(";", " ; ").split()
    found: list[list[str]] = []
    for i, word in enumerate(words):
        if word.endswith("bin/westerkwartier"):
            rest = words[i + 1 :]
            end = next((j for j, w in enumerate(rest) if w in {";", "}", "&&", "||"}), len(rest))
            found.append(rest[:end])
    return found


def _batch_args(command: str) -> list[str]:
    """The arguments of the `westerkwartier batch` call in a shell command line."""
    return next(args for args in _commands(command) if args[:1] == ["batch"])


def _parses(arguments: list[str]) -> None:
    args = cli._parser().parse_args(arguments)
    assert args.func is cli._cmd_batch
    assert args.gepland and args.manifest == Path("reports.toml")


def _cleans_up(arguments: list[str]) -> None:
    """The clean-up call parses and keeps runs by count, for the same manifest."""
    args = cli._parser().parse_args(arguments)
    assert args.func is cli._cmd_opruimen
    assert args.manifest == Path("reports.toml") and args.bewaar and args.bewaar >= 1


def _cron_fields(line: str) -> list[str]:
    return line.split(None, 5)


def test_crontab_line_is_valid():
    lines = [
        line
        for line in CRONTAB.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#") and not re.match(r"^[A-Z_]+=", line)
    ]
    assert len(lines) == 1
    minute, hour, dom, month, dow, command = _cron_fields(lines[0])
    assert 0 <= int(minute) < 60 and 0 <= int(hour) < 24
    assert (dom, month, dow) == ("*", "*", "*")
    assert command.startswith(f"cd {INSTALL_DIR} && ")
    calls = _commands(command)
    assert [c[0] for c in calls] == ["opruimen", "batch"]  # clean up first, then the batch
    _cleans_up(calls[0])
    _parses(_batch_args(command))
    assert "2>&1" in command  # errors end up in the log as well
    assert "find " not in CRONTAB.read_text(encoding="utf-8")


def test_systemd_units_parse_and_agree():
    service, timer = _unit(SERVICE), _unit(TIMER)
    assert service["Service"]["Type"] == "oneshot"
    exec_start = service["Service"]["ExecStart"]
    assert exec_start.startswith(f"{INSTALL_DIR}/.venv/bin/westerkwartier batch")
    _parses(_batch_args(exec_start))
    pre = service["Service"]["ExecStartPre"]
    assert pre.startswith(f"-{INSTALL_DIR}/.venv/bin/westerkwartier opruimen")  # '-': may fail
    _cleans_up(_commands(pre.lstrip("-"))[0])
    # systemctl stop: SIGTERM to the batch itself, which stops its workers and kernels
    assert service["Service"]["KillMode"] == "mixed"
    assert service["Service"]["WorkingDirectory"] == INSTALL_DIR
    assert timer["Timer"]["Unit"] == SERVICE.name
    assert timer["Timer"]["Persistent"] == "true"
    assert timer["Install"]["WantedBy"] == "timers.target"
    assert re.fullmatch(r"\*-\*-\* \d\d:\d\d:\d\d", timer["Timer"]["OnCalendar"])
    # the time limit of the service covers the run time limit of the example manifest
    hours = int(service["Service"]["TimeoutStartSec"].rstrip("h"))
    manifest = batch_manifest.load_manifest(ROOT / "reports.toml", check_notebooks=False)
    assert hours * 3600 > manifest.run_timeout


@pytest.mark.skipif(
    shutil.which("systemd-analyze") is None,
    reason="systemd-analyze is niet geïnstalleerd; alleen de parse-test hierboven draait",
)
def test_systemd_analyze_verify(tmp_path):
    # verify checks that ExecStart exists: point the units at this checkout
    install = str(settings.project_dir)
    if not (Path(install) / ".venv" / "bin" / "westerkwartier").is_file():
        pytest.skip("geen .venv/bin/westerkwartier in deze checkout")
    for unit in (SERVICE, TIMER):
        text = unit.read_text(encoding="utf-8").replace(INSTALL_DIR, install)
        (tmp_path / unit.name).write_text(text, encoding="utf-8")
    result = subprocess.run(
        ["systemd-analyze", "verify", str(tmp_path / SERVICE.name), str(tmp_path / TIMER.name)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    problems = [
        line
        for line in (result.stdout + result.stderr).splitlines()
        if SERVICE.stem in line or "Unknown" in line or "bad" in line.lower()
    ]
    assert result.returncode == 0 and not problems, result.stdout + result.stderr


def test_ci_workflow_runs_the_schedule_and_publishes_latest():
    flow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    triggers = flow.get("on", flow.get(True))  # YAML 1.1 reads the key `on` as True
    (schedule,) = triggers["schedule"]
    assert len(schedule["cron"].split()) == 5
    assert "workflow_dispatch" in triggers
    assert flow["permissions"]["pages"] == "write"
    steps = flow["jobs"]["rapporten"]["steps"]
    runs = "\n".join(step.get("run", "") for step in steps)
    uses = [step.get("uses", "") for step in steps]
    batch_line = next(line for line in runs.splitlines() if "westerkwartier batch" in line)
    assert "--gepland" in batch_line and "--manifest reports.toml" in batch_line
    assert "cp -rL reports/latest _site" in runs  # the symlink is followed
    assert any(u.startswith("actions/upload-pages-artifact") for u in uses)
    assert any(u.startswith("actions/deploy-pages") for u in uses)
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-pages"))
    assert upload["with"]["path"] == "_site"
    # a failed report still fails the job, after publishing the last good versions
    assert steps[-1]["if"] == "steps.batch.outputs.exitcode != '0'"
    # old runs are cleaned up with the command (never with find) before the cache is saved
    names = [step.get("name", "") for step in steps]
    clean = next(i for i, step in enumerate(steps) if "opruimen" in step.get("run", ""))
    save = next(i for i, u in enumerate(uses) if u.startswith("actions/cache/save"))
    assert clean < save and steps[clean]["if"] == "always()", names
    line = next(x for x in steps[clean]["run"].splitlines() if "opruimen" in x)
    _cleans_up(line.split("||")[0].split()[1:])


def test_readme_shows_the_same_cron_line():
    readme = (DEPLOY / "README.md").read_text(encoding="utf-8")
    cron = next(line for line in CRONTAB.read_text("utf-8").splitlines() if line[:1].isdigit())
    assert cron in readme
    assert cron in (ROOT / "README.md").read_text(encoding="utf-8")
    for name in (SERVICE.name, TIMER.name, WORKFLOW.name, "reports.toml"):
        assert name in readme
    assert "westerkwartier opruimen" in readme and "-mtime" not in readme


def test_example_manifest_is_valid():
    manifest = batch_manifest.load_manifest(ROOT / "reports.toml", check_notebooks=False)
    assert [r.name for r in manifest.reports] == ["aantrekkelijkheid", "talent"]
    assert all(r.notebook.parent == ROOT / "notebooks" for r in manifest.reports)
    assert manifest.policy in batch_manifest.POLICIES and manifest.out_dir == ROOT / "reports"
    if all(r.notebook.is_file() for r in manifest.reports):  # once the notebooks exist
        batch_manifest.load_manifest(ROOT / "reports.toml")
