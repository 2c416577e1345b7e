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
