"""The warm-report benchmark's cost per cell (section), and the maps and export benchmarks."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nbformat
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import bench_warm  # noqa: E402


def test_cell_table_orders_by_cost_and_shares_add_up_per_notebook():
    cells = {
        "talent:kaart": [0.30, 0.10],  # mean 0.20
        "talent:kop": [0.05],
        "talent:trends": [0.15, 0.25],  # mean 0.20, same cost as the map: by name
        "aantrekkelijkheid:wijken": [0.40],
        "aantrekkelijkheid:kop": [0.10],
    }
    rows = bench_warm.cell_table(cells)
    assert [key for key, _, _ in rows] == [
        "aantrekkelijkheid:wijken",
        "talent:kaart",
        "talent:trends",
        "aantrekkelijkheid:kop",
        "talent:kop",
    ]
    means = {key: mean for key, mean, _ in rows}
    shares = {key: share for key, _, share in rows}
    assert means["talent:kaart"] == pytest.approx(0.20)
    assert shares["talent:kaart"] == pytest.approx(0.20 / 0.45)
    assert shares["aantrekkelijkheid:wijken"] == pytest.approx(0.8)
    for notebook in ("talent", "aantrekkelijkheid"):
        total = sum(s for k, _, s in rows if k.startswith(notebook + ":"))
        assert total == pytest.approx(1.0)


def test_run_report_times_every_code_cell_by_its_id(tmp_path):
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('gemeente = "GM0000"', id="parameters")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [
        params,
        nbformat.v4.new_markdown_cell("# Kop", id="tekst"),
        nbformat.v4.new_code_cell("werk = sum(range(200_000))", id="rekenen"),
        nbformat.v4.new_code_cell("assert gemeente == 'GM1969'; print(werk)", id="controle"),
    ]
    path = tmp_path / "proef.ipynb"
    nbformat.write(nb, path)
    cells: dict[str, list[float]] = {}
    seconds = bench_warm.run_report(path, "GM1969", cells)  # the parameter reaches the cells
    assert sorted(cells) == ["proef:controle", "proef:parameters", "proef:rekenen"]
    assert all(len(v) == 1 and v[0] >= 0 for v in cells.values())
    assert sum(v[0] for v in cells.values()) <= seconds + 1e-6
    bench_warm.run_report(path, "GM1969", cells)
    assert all(len(v) == 2 for v in cells.values())


def test_bench_maps_prints_the_median_cpu_of_both_maps(capsys, monkeypatch):
    import bench_maps

    from westerkwartier import settings

    monkeypatch.setattr(settings, "offline", settings.offline)  # main sets it; restored after
    assert bench_maps.main(["--gemeenten", "GM0088", "--rondes", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("  ronde 0:") and lines[1].startswith("  ronde 1:")
    last = lines[-1]
    assert last.startswith("twee kaarten per gemeente (1 gemeenten): mediaan ")
    median = float(last.split("mediaan ")[1].split(" s")[0])
    assert 0 < median < 30


def test_bench_trends_prints_the_median_cpu_of_a_trend_chart(capsys, monkeypatch):
    import bench_trends

    from westerkwartier import settings

    monkeypatch.setattr(settings, "offline", settings.offline)  # main sets it; restored after
    assert bench_trends.main(["--gemeenten", "GM0088", "--rondes", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("  ronde 0: ") and lines[1].startswith("  ronde 1: ")
    drawn = int(lines[1].split(": ")[1].split(" grafieken")[0])
    assert drawn >= 10  # Schiermonnikoog's two reports have at least ten trend charts
    last = lines[-1]
    assert last.startswith("trendgrafieken (1 gemeenten, beide rapporten): mediaan ")
    median = float(last.split("mediaan ")[1].split(" ms")[0])
    assert 0 < median < 5000


def test_bench_export_prints_the_cpu_of_each_step_after_the_notebook(capsys, monkeypatch):
    import bench_export

    from westerkwartier import settings

    monkeypatch.setattr(settings, "offline", settings.offline)  # main sets it; restored after
    assert bench_export.main(["--gemeente", "GM0088", "--rondes", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0].strip() for line in lines[:2]] == list(bench_export.REPORTS)
    for line in lines[:2]:
        steps = {
            part.split()[0]: float(part.split()[1])
            for part in line.split(": ")[1].split(";")[0].split(", ")
        }
        assert set(steps) == {"pagina", "controle", "werkmap"} and all(
            v > 0 for v in steps.values()
        )
        assert "samen" in line and line.endswith("kB)")
    last = lines[-1]
    assert last.startswith("na het notebook, per rapport (GM0088, mediaan van 1): ")
    assert 0 < float(last.split(": ")[1].split(" s")[0]) < 30


def test_cold_extra_is_what_the_first_report_costs_more_per_cell():
    cold = {"talent:kop": [0.50], "talent:kaart": [0.30], "talent:alleen-koud": [0.90]}
    warm = {"talent:kop": [0.10, 0.20], "talent:kaart": [0.20, 0.20]}
    rows = bench_warm.cold_extra(cold, warm)
    assert [key for key, _, _ in rows] == ["talent:kop", "talent:kaart"]
    assert rows[0][1] == pytest.approx(0.50) and rows[0][2] == pytest.approx(0.35)
    assert rows[1][2] == pytest.approx(0.10)


def _code_in(package: str, source: str) -> dict:
    """Run ``source`` as if it were a module of ``package``; return its namespace."""
    namespace: dict = {}
    filename = os.path.join(os.sep, "site", package, "proef.py")
    exec(compile(source, filename, "exec"), namespace)  # noqa: S102 - our own test source
    return namespace


def test_stack_sampler_counts_every_package_on_the_stack_once():
    # two frames of pandas on the stack, one look
    inner = _code_in(
        "pandas",
        "import sys\ndef frame():\n    return _here()\ndef _here():\n    return sys._getframe()\n",
    )
    outer = _code_in("matplotlib", "def draw(f):\n    return [f(), f()][0]\n")
    chart = _code_in("eigen", "def chart(f, g):\n    return f(g)\n")
    sampler = bench_warm.StackSampler(
        packages=("matplotlib", "pandas", "numpy"), files={"grafiek": ["eigen/proef.py"]}
    )
    sampler.look(outer["draw"](inner["frame"]))  # pandas called by matplotlib
    sampler.look(inner["frame"]())  # pandas alone
    sampler.look(chart["chart"](outer["draw"], inner["frame"]))  # all three
    sampler.look(sys._getframe())  # this test: none of them
    assert sampler.looks == 4
    assert sampler.counts == {"matplotlib": 2, "pandas": 3, "grafiek": 1, "geen": 1}
    assert sampler.shares() == [
        ("pandas", pytest.approx(3 / 4)),
        ("matplotlib", pytest.approx(2 / 4)),
        ("grafiek", pytest.approx(1 / 4)),
        ("geen", pytest.approx(1 / 4)),
    ]


def test_stack_sampler_shares_the_time_of_the_watched_thread():
    busy = (
        "import time\n"
        "def spin(s):\n"
        "    end = time.perf_counter() + s\n"
        "    while time.perf_counter() < end:\n"
        "        pass\n"
    )
    in_matplotlib = _code_in("matplotlib", busy)["spin"]
    elsewhere = _code_in("eigen", busy)["spin"]
    with bench_warm.StackSampler(packages=("matplotlib",), interval=0.002) as sampler:
        in_matplotlib(0.2)  # not counting yet: the warm-up
        assert sampler.looks == 0
        sampler.counting = True
        in_matplotlib(0.4)
        elsewhere(0.4)
        sampler.counting = False
    shares = dict(sampler.shares())
    assert sampler.looks >= 50
    assert 0.3 < shares["matplotlib"] < 0.7
    assert shares["matplotlib"] + shares["geen"] == pytest.approx(1.0)


def test_bare_report_notebooks_lose_only_their_drawing_cells(tmp_path):
    import bench_floor_bound

    from westerkwartier.reporting.report_catalogue import load_report_catalogue

    for spec in load_report_catalogue().values():
        target = tmp_path / f"{spec.id}.ipynb"
        dropped = bench_floor_bound.bare_notebook(spec.notebook_path, target)
        full = nbformat.read(spec.notebook_path, as_version=4).cells
        bare = nbformat.read(target, as_version=4).cells
        drawing = [c for c in full if c.cell_type == "code" and "sections.show_" in c.source]
        assert dropped == len(drawing) >= 5  # trends per section, the map, the wijken, ranks
        assert [c for c in full if c not in drawing] == bare  # the rest as it was, in order
        assert "parameters" in bare[0].metadata.get("tags", [])
