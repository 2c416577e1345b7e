"""One kernel reused for successive reports: clean state each time, a new one after a failure."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from westerkwartier import errors
from westerkwartier.pipeline import kernels, processes
from westerkwartier.pipeline.notebook import run_notebook

# Each run checks that nothing of an earlier run is left (and that the kernel collects garbage
# as :data:`kernels.GC_THRESHOLD` says), then leaves traces of its own.
_LEAKY = """
import gc, os, sys, warnings
import matplotlib
assert "geheim" not in globals(), "naam uit een vorig rapport"
assert gc.isenabled() and gc.get_threshold() == GC_THRESHOLD, "opruimer uit een vorig rapport"
assert matplotlib.rcParams["lines.linewidth"] != 9, "rcParams uit een vorig rapport"
assert "WK_LEK" not in os.environ, "omgeving uit een vorig rapport"
assert "/wk-lek" not in sys.path, "sys.path uit een vorig rapport"
geheim = 1
matplotlib.rcParams["lines.linewidth"] = 9
os.environ["WK_LEK"] = "1"
sys.path.append("/wk-lek")
warnings.simplefilter("ignore")
os.chdir("/")
gc.set_threshold(1, 1, 1)
gc.disable()
print(f"kernel {os.getpid()} rapport {nummer}")
if mislukken:
    raise ValueError("opzettelijk")
""".replace("GC_THRESHOLD", repr(kernels.GC_THRESHOLD))


def _notebook(path: Path, parameters: str, code: str) -> Path:
    """Write a notebook of a parameters cell and one code cell to ``path``."""
    nb = new_notebook(cells=[new_code_cell(parameters, id="p"), new_code_cell(code, id="c")])
    nb.cells[0].metadata["tags"] = ["parameters"]
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    nbformat.write(nb, path)
    return path


@pytest.fixture
def leaky(tmp_path: Path) -> Path:
    parameters = "nummer: int = 0  # nummer\nmislukken: bool = False  # faal"
    return _notebook(tmp_path / "lek.ipynb", parameters, _LEAKY)


def _pid(page: Path) -> str:
    found = re.search(r"kernel (\d+) rapport", page.read_text(encoding="utf-8"))
    assert found, "de uitvoer van het notebook staat niet in de pagina"
    return found.group(1)


def test_successive_reports_share_one_kernel_with_a_clean_state(leaky, tmp_path, monkeypatch):
    from jupyter_client.manager import KernelManager

    # every new client waits about 0,2 s for the kernel; the session connects one, once
    made = []
    for name in ("client", "blocking_client"):
        original = getattr(KernelManager, name)
        monkeypatch.setattr(
            KernelManager,
            name,
            lambda self, *a, _o=original, **k: made.append(_o(self, *a, **k)) or made[-1],
        )
    session = kernels.KernelSession()
    try:
        pages = [
            run_notebook(
                leaky,
                tmp_path / f"r{i}.html",
                {"nummer": i},
                title="lek",
                failed_dir=tmp_path / "_failed",
                session=session,
            )
            for i in range(3)
        ]
        assert session.started == 1
        assert len({_pid(p) for p in pages}) == 1
        assert session.pids() == {int(_pid(pages[0]))}
        assert len(made) == 1 and made[0] is session.client
    finally:
        session.discard()
    assert session.pids() == set()
    assert session.client is None


def test_a_failed_report_gets_a_new_kernel_next_time(leaky, tmp_path):
    session = kernels.KernelSession()
    try:
        first = run_notebook(
            leaky, tmp_path / "a.html", {}, title="lek", failed_dir=tmp_path / "f", session=session
        )
        with pytest.raises(errors.ReportFailed, match="opzettelijk"):
            run_notebook(
                leaky,
                tmp_path / "b.html",
                {"mislukken": True},
                title="lek",
                failed_dir=tmp_path / "f",
                session=session,
            )
        assert session.km is None  # the failed kernel is gone
        again = run_notebook(
            leaky, tmp_path / "c.html", {}, title="lek", failed_dir=tmp_path / "f", session=session
        )
        assert session.started == 2
        assert _pid(again) != _pid(first)
    finally:
        session.discard()


def test_kernel_is_replaced_after_max_reports(leaky, tmp_path):
    session = kernels.KernelSession(max_reports=2)
    try:
        pids = [
            _pid(
                run_notebook(
                    leaky,
                    tmp_path / f"r{i}.html",
                    {"nummer": i},
                    title="lek",
                    failed_dir=tmp_path / "f",
                    session=session,
                )
            )
            for i in range(3)
        ]
    finally:
        session.discard()
    assert session.started == 2
    assert pids[0] == pids[1] != pids[2]


def test_other_settings_get_a_new_kernel(leaky, tmp_path, monkeypatch):
    session = kernels.KernelSession()
    try:

        def run(i: int) -> str:
            page = run_notebook(
                leaky,
                tmp_path / f"r{i}.html",
                {"nummer": i},
                title="lek",
                failed_dir=tmp_path / "f",
                session=session,
            )
            return _pid(page)

        monkeypatch.setenv("WESTERKWARTIER_CBS_ONBEREIKBAAR", "0")
        first, same = run(0), run(1)
        monkeypatch.setenv("WESTERKWARTIER_CBS_ONBEREIKBAAR", "1")  # a new run, CBS down now
        other = run(2)
    finally:
        session.discard()
    assert first == same != other
    assert session.started == 2


def test_reuse_can_be_turned_off(monkeypatch):
    monkeypatch.setenv("WESTERKWARTIER_KERNEL_REUSE", "0")
    with kernels.reused_kernel() as session:
        assert session is None
        assert kernels.current() is None
    monkeypatch.setenv("WESTERKWARTIER_KERNEL_REUSE", "1")
    with kernels.reused_kernel() as session:
        assert isinstance(session, kernels.KernelSession)
        assert kernels.current() is session
    assert kernels.current() is None


def test_report_in_a_reused_kernel_is_byte_identical(tmp_path, monkeypatch):
    """The real report, made after another municipality's in the same kernel, equals a fresh one."""
    from westerkwartier import settings
    from westerkwartier.pipeline import render

    monkeypatch.setattr(settings, "offline", True)
    monkeypatch.setenv("WESTERKWARTIER_KERNEL_REUSE", "0")
    fresh = render.render_reports(
        "GM1969", rapport="talent", peildatum="2026-11-27", uit=tmp_path / "nieuw", index=False
    )
    monkeypatch.setenv("WESTERKWARTIER_KERNEL_REUSE", "1")
    with kernels.reused_kernel() as session:
        render.render_reports(
            "GM0014", rapport="talent", peildatum="2026-11-27", uit=tmp_path / "hergebruik"
        )
        reused = render.render_reports(
            "GM1969", rapport="talent", peildatum="2026-11-27", uit=tmp_path / "hergebruik"
        )
        assert session is not None and session.started == 1 and session.used == 2
    assert reused[0].read_bytes() == fresh[0].read_bytes()


# prints how the kernel is connected to the process that runs the notebook
_CONNECTION = """
import ipykernel.connect
info = ipykernel.connect.get_connection_info(unpack=True)
print(f"verbinding {info['transport']} {info['ip']}")
"""


@pytest.fixture
def connection(tmp_path: Path) -> Path:
    return _notebook(tmp_path / "verbinding.ipynb", "x: int = 0  # niets", _CONNECTION)


def _connection(
    notebook: Path, page: Path, session: kernels.KernelSession | None = None
) -> tuple[str, str]:
    """Run the ``connection`` notebook; return the kernel's transport and address."""
    run_notebook(notebook, page, {}, title="v", failed_dir=page.parent / "f", session=session)
    found = re.search(r"verbinding (\w+) (\S+)", page.read_text(encoding="utf-8"))
    assert found, "de uitvoer van het notebook staat niet in de pagina"
    return found.group(1), found.group(2)


def test_kernels_talk_over_sockets_in_a_folder_of_their_own(connection, tmp_path, monkeypatch):
    """No TCP ports, so no two kernels started at once can pick the same one."""
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr("tempfile.tempdir", None)  # gettempdir() reads TMPDIR again
    sessions = [kernels.KernelSession(), kernels.KernelSession()]
    try:
        seen = []
        for i, session in enumerate(sessions):
            transport, ip = _connection(connection, tmp_path / f"s{i}.html", session)
            assert transport == "ipc"
            assert session.folder is not None and Path(ip).parent == session.folder
            # the five sockets, and the lease that keeps the folder from a sweep while it lives
            assert sorted(p.name for p in session.folder.iterdir()) == [
                processes.LEASE,
                *(f"k-{n}" for n in range(1, 6)),
            ]
            seen.append(session.folder)
        assert seen[0] != seen[1]  # each kernel its own folder, both alive at once
    finally:
        for session in sessions:
            session.discard()
    assert not any(folder.exists() for folder in seen)
    # a kernel of its own per notebook (reuse off): its folder goes at the end of the run
    transport, ip = _connection(connection, tmp_path / "n.html")
    assert transport == "ipc" and Path(ip).parent.parent == tmp_path / "tmp"
    assert list((tmp_path / "tmp").iterdir()) == []  # nothing left in the temporary folder


def test_a_temporary_folder_too_deep_for_sockets_gives_them_a_short_one(
    connection, tmp_path, monkeypatch
):
    """A batch's worker below macOS's temporary folder is that deep (some 120 bytes)."""
    deep = tmp_path / ("diep" * 25)
    deep.mkdir()
    monkeypatch.setenv("TMPDIR", str(deep))
    monkeypatch.setattr("tempfile.tempdir", None)
    session = kernels.KernelSession()
    try:
        transport, ip = _connection(connection, tmp_path / "d.html", session)
        assert transport == "ipc" and Path(ip).parent.parent == kernels.SHORT_TMP
        folder = session.folder
    finally:
        session.discard()
    assert folder is not None and not folder.exists()


def test_kernels_use_tcp_where_sockets_cannot_be_used(connection, tmp_path, monkeypatch):
    deep = tmp_path / ("map" * 40)
    manager = kernels.kernel_options(deep).get("config", {}).get("KernelManager", {})
    assert "transport" not in manager and "ip" not in manager
    folder = tmp_path / "sockets"
    folder.mkdir()
    assert "transport" in kernels.kernel_options(folder)["config"]["KernelManager"]
    assert list(folder.iterdir()) == []  # the probe's socket is gone again

    def refuse(sock, address):  # a file system that refuses sockets (FUSE, WSL's drives)
        raise OSError(95, "Operation not supported", address)

    with monkeypatch.context() as refused:
        refused.setattr(socket.socket, "bind", refuse)
        assert "transport" not in kernels.kernel_options(folder)["config"]["KernelManager"]
    assert list(folder.iterdir()) == []
    monkeypatch.setenv("WESTERKWARTIER_KERNEL_TRANSPORT", "tcp")
    assert "transport" not in kernels.kernel_options(tmp_path)["config"]["KernelManager"]
    session = kernels.KernelSession()
    try:
        assert _connection(connection, tmp_path / "t.html", session)[0] == "tcp"
    finally:
        session.discard()
