"""The batch benchmark's estimate for the whole country from the reports' own durations."""

from __future__ import annotations

import sys
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
