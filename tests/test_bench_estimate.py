"""The batch benchmark's estimate for the whole country from the reports' own durations."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import bench_batch  # noqa: E402


def _entry(worker: int, seconds: float, status: str = "gemaakt") -> dict:
    return {"werker": worker, "duur_s": seconds, "status": status}


def test_first_report_of_each_worker_counts_as_start_up_once_per_kernel(monkeypatch):
    from westerkwartier.pipeline import kernels

    monkeypatch.setattr(kernels, "MAX_REPORTS", 40)
    summary = {
        "rapporten": [
            _entry(1, 12.0),  # first report of worker 1: kernel start and cold caches
            _entry(1, 4.0),
            _entry(1, 6.0),
            _entry(2, 10.0),
            _entry(2, 5.0),
            _entry(2, 5.0),
            _entry(2, 99.0, status="mislukt"),  # a failed report is no measure of speed
        ]
    }
    minutes, steady, start = bench_batch.steady_estimate(summary, workers=2, total=100)
    assert steady == pytest.approx(5.0)  # mean of 4, 6, 5, 5
    assert start == pytest.approx(11.0 - 5.0)  # mean of the slowest per worker, minus steady
    # 50 reports per worker, a new kernel every 40 reports: two start-ups per worker
    assert minutes == pytest.approx((50 * 5.0 + 2 * 6.0) / 60)
    monkeypatch.setattr(kernels, "MAX_REPORTS", 200)  # one kernel does all 50
    minutes, _, _ = bench_batch.steady_estimate(summary, workers=2, total=100)
    assert minutes == pytest.approx((50 * 5.0 + 1 * 6.0) / 60)


def test_no_estimate_without_a_second_report_per_worker():
    summary = {"rapporten": [_entry(1, 12.0), _entry(2, 11.0)]}
    assert bench_batch.steady_estimate(summary, workers=2, total=684) is None


def test_headline_judges_the_floor_ratio_on_wall_and_on_cpu_time(capsys):
    import run as bench_run

    reports = {
        "reports_s": 6.2,
        "floor_s": 5.5,  # a floor slowed down by the load of the moment
        "ratio": 6.2 / 5.5,
        "reports_cpu_s": 6.2,
        "floor_cpu_s": 1.9,
        "sizes_kb": {"talent.html": 725},
    }
    batch = {
        "reports": 20,
        "workers": 2,
        "per_minute": 53.5,
        "estimate_min": 16.2,
        "estimate_steady_min": 11.0,
        "steady_s_per_report": 1.8,
        "worker_peak_mib": 166,
        "kernel_peak_mib": 501,
        "cpu_s_per_report": {"kernels": 1.84, "werkers": 0.32, "hoofdproces": 0.01},
    }
    bench_run.print_headline(reports, batch, "abc1234", 1.0)
    out = capsys.readouterr().out.splitlines()

    def line(label: str) -> str:
        (found,) = [text for text in out if text.strip().startswith(label)]
        return found

    assert line("wandtijd rapport / vloer").endswith("doel <= 2x: gehaald")
    cpu = line("CPU-tijd rapport / vloer")
    assert "6.2 / 1.9 s = 3.26x" in cpu and cpu.endswith("doel <= 2x: NIET gehaald")
    assert line("schatting 342 x 2 rapporten").endswith("doel <= 15 min: NIET gehaald")
    assert line("idem, uit de duur per rapport").endswith("doel <= 15 min: gehaald")
    expected = "2.17 s kernels 1.84 s, werkers 0.32 s, hoofdproces 0.01 s"
    assert " ".join(line("CPU per rapport in de batch").split()).endswith(expected)


def test_report_benchmark_takes_turns_and_judges_both_sides_by_their_best_run(
    monkeypatch, tmp_path, capsys
):
    """Floor and reports alternate after a warm-up; the ratio is best report over best floor.

    A scripted clock stands in for the kernels: the floor takes 4 s in the first round and 5 s
    in the second, the reports 12 s and 10 s. The mean of the floor (4,5 s) against the best
    report would flatter the reports (2,22x); the best against the best gives 2,50x.
    """
    import types

    import bench_reports

    from westerkwartier import settings

    monkeypatch.setattr(settings, "offline", settings.offline)  # measure() sets it
    clock = [0.0]
    calls: list[str] = []
    # per floor notebook: a warm-up (not measured), then rounds of 4 s and 5 s
    floor_seconds = iter([9.0, 2.0, 2.0, 2.5, 2.5])
    report_seconds = iter([12.0, 10.0])

    def fake_notebook(*args, **kwargs):
        calls.append("vloer")
        clock[0] += next(floor_seconds)

    def fake_reports(*args, **kwargs):
        calls.append("rapporten")
        clock[0] += next(report_seconds)
        page = tmp_path / "talent.html"
        page.write_text("x" * 2000)
        return [page]

    monkeypatch.setattr(bench_reports, "run_notebook", fake_notebook)
    monkeypatch.setattr(bench_reports.reports, "render_reports", fake_reports)
    monkeypatch.setattr(bench_reports, "time", types.SimpleNamespace(perf_counter=lambda: clock[0]))
    monkeypatch.setattr(bench_reports, "_cpu", lambda: clock[0])

    figures = bench_reports.measure(["--repeat", "2"])

    assert calls == ["vloer", "vloer", "vloer", "rapporten", "vloer", "vloer", "rapporten"]
    assert figures["floor_s"] == pytest.approx(4.0)
    assert figures["reports_s"] == pytest.approx(10.0)
    assert figures["ratio"] == pytest.approx(2.5)
    assert figures["reports_cpu_s"] / figures["floor_cpu_s"] == pytest.approx(2.5)
    out = capsys.readouterr().out
    assert "verhouding                   2.50 x de vloer" in out
    assert "vloer per ronde (wand/CPU) 4.0/4.0, 5.0/5.0 s" in out
    with pytest.raises(ValueError):
        bench_reports.best_of([])


def _burn(seconds: float, then: str = "") -> list[str]:
    """Command line of a Python child that uses ``seconds`` of CPU, then runs ``then``."""
    loop = f"t = time.process_time()\nwhile time.process_time() - t < {seconds}:\n    pass\n"
    return [sys.executable, "-c", "import sys, time\n" + loop + then]


def test_cpu_by_process_counts_the_children_by_kind():
    import subprocess

    # a child from before the block: it uses 1,5 s, then waits; none of that is the block's
    earlier = subprocess.Popen(_burn(1.5, "sys.stdin.read()\n"), stdin=subprocess.PIPE)
    try:
        time.sleep(2.5)
        with bench_batch.CpuByProcess(interval=0.05) as cpu:
            # the last argument only names the process: a kernel's holds "ipykernel"
            subprocess.run([*_burn(0.5), "ipykernel_launcher"], check=True)
            subprocess.run(_burn(0.5), check=True)
    finally:
        earlier.communicate(b"", timeout=10)
    totals = cpu.totals()
    assert set(totals) == {"kernels", "werkers", "hoofdproces"}
    # each child burnt 0,5 s; what it did after the last reading (0,05 s) is missed
    assert 0.3 <= totals["kernels"] <= 1.0
    assert 0.3 <= totals["werkers"] <= 1.0
    assert totals["hoofdproces"] < 0.3


def test_cpu_by_process_keeps_a_kernel_that_is_exiting_a_kernel():
    # CI once booked a kernel's CPU as a worker's: while a process exits its command line
    # reads empty, and its last reading (the largest) replaced the ones that named ipykernel
    cpu = bench_batch.CpuByProcess()
    kernel, worker = (101, 1.0), (102, 1.0)
    cpu._record({kernel: ("werkers", 0.0), worker: ("werkers", 0.1)})  # before its exec
    cpu._record({kernel: ("kernels", 0.3), worker: ("werkers", 0.2)})
    cpu._record({kernel: ("werkers", 0.5), worker: ("werkers", 0.4)})  # exiting: no cmdline
    totals = cpu.totals()
    assert totals["kernels"] == pytest.approx(0.5)
    assert totals["werkers"] == pytest.approx(0.4)


def test_cpu_line_gives_seconds_per_report():
    line = bench_batch.cpu_line({"kernels": 40.0, "werkers": 6.0, "hoofdproces": 1.0}, 20)
    assert (
        line.split()
        == (
            "CPU per rapport: kernels 2.00 s, werkers 0.30 s, hoofdproces 0.05 s; samen 2.35 s"
        ).split()
    )
