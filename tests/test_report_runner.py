"""Tests of the report runner: the mini notebook executed through ``run_notebook``."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from westerkwartier import errors
from westerkwartier.pipeline import index_page, notebook
from westerkwartier.reporting import html as report_html

MINI = Path(__file__).parent / "fixtures" / "notebooks" / "mini.ipynb"
TITLE = "Mini-rapport voor Westerkwartier"
PARAMS = {"gemeente": "GM0014", "jaar": 2023, "aandeel": 74.2}

_EXTERNAL = re.compile(
    r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//|@import|url\(\s*["']?\s*(?:https?:)?//""",
    re.I,
)


@pytest.fixture(scope="module")
def mini_html(tmp_path_factory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("rapport") / "mini.html"
    failed = tmp_path_factory.mktemp("failed")
    path = notebook.run_notebook(MINI, out, PARAMS, title=TITLE, failed_dir=failed)
    return path, path.read_text(encoding="utf-8")


def test_report_is_dutch_and_titled(mini_html):
    path, html = mini_html
    assert path.is_file()
    assert '<html lang="nl">' in html
    assert f"<title>{TITLE}</title>" in html


def test_report_has_no_code_prompts_or_parameters(mini_html):
    _, html = mini_html
    for code in ("import pandas", "style.trend_chart", "show_figure", "time.sleep"):
        assert code not in html
    for parameter_text in ("CBS-code of naam", "mislukken", "# Parameters", 'gemeente = "'):
        assert parameter_text not in html
    assert "In&nbsp;[" not in html and "Out[" not in html
    assert "<script" not in html


def test_report_shows_outputs_with_dutch_numbers(mini_html):
    _, html = mini_html
    assert "Aandeel in 2023: 74,2%; inwoners: 64.896" in html
    assert "<h1" in html and "Mini-rapport" in html


def test_report_figure_has_alt_text(mini_html):
    _, html = mini_html
    images = re.findall(r"<img\b[^>]*>", html)
    assert len(images) == 1
    alt = re.search(r'alt="([^"]*)"', images[0])
    assert alt and alt.group(1).startswith("Lijngrafiek: Netto arbeidsparticipatie GM0014.")
    assert 'src="data:image/svg+xml;base64,' in images[0]
    assert report_html.images_without_alt(html) == 0


def test_report_has_no_external_urls(mini_html):
    _, html = mini_html
    assert not _EXTERNAL.search(html)
    assert "http://" not in html and "https://" not in html
    assert report_html.find_external_urls(html) == []
    assert report_html.check_html(html) == []


def test_report_css_prints_and_scrolls(mini_html):
    _, html = mini_html
    assert "@media print" in html and "break-before: page" in html
    assert "overflow-x: auto" in html and "max-width" in html


def test_report_is_byte_identical_also_with_agg_backend(mini_html, tmp_path, monkeypatch):
    # MPLBACKEND=agg makes plt.show() a no-op in the kernel; show_figure must not care.
    monkeypatch.setenv("MPLBACKEND", "agg")
    path, html = mini_html
    again = notebook.run_notebook(
        MINI, tmp_path / "mini.html", PARAMS, title=TITLE, failed_dir=tmp_path / "failed"
    )
    assert again.read_bytes() == path.read_bytes()


def test_misspelt_parameter_raises_before_execution(tmp_path, monkeypatch):
    import papermill

    def _never(*args, **kwargs):
        raise AssertionError("the notebook must not run")

    monkeypatch.setattr(papermill, "execute_notebook", _never)
    out = tmp_path / "r.html"
    with pytest.raises(errors.ParameterError) as info:
        notebook.run_notebook(MINI, out, {"gemeent": "GM1969"}, title="t", failed_dir=tmp_path)
    message = str(info.value)
    assert "'gemeent'" in message and "Bedoelde u 'gemeente'?" in message
    assert "jaar (int, standaard 2023): referentiejaar" in message
    assert info.value.valid == ["gemeente", "jaar", "aandeel", "mislukken", "wachten"]
    assert isinstance(info.value, errors.InputError) and info.value.exit_code == 3
    assert not out.exists()


@pytest.mark.parametrize(
    ("name", "value"),
    [("jaar", "2023"), ("jaar", True), ("jaar", 2023.0), ("aandeel", "74,2"), ("mislukken", 1)],
)
def test_wrong_type_raises(tmp_path, name, value):
    with pytest.raises(errors.ParameterError, match=f"Parameter '{name}'"):
        notebook.validate_parameters(MINI, {name: value})


def test_int_is_accepted_for_float():
    assert notebook.validate_parameters(MINI, {"aandeel": 74}) == {"aandeel": 74}


def test_coerce_parameters_from_text():
    values = notebook.coerce_parameters(
        MINI, {"jaar": "2022", "aandeel": "3,5", "mislukken": "nee", "gemeente": "GM0014"}
    )
    assert values == {"jaar": 2022, "aandeel": 3.5, "mislukken": False, "gemeente": "GM0014"}
    with pytest.raises(errors.ParameterError, match="'jaar'"):
        notebook.coerce_parameters(MINI, {"jaar": "twintig"})
    with pytest.raises(errors.ParameterError, match="Onbekende parameter"):
        notebook.coerce_parameters(MINI, {"jr": "2022"})


def test_missing_notebook_is_an_input_error(tmp_path):
    with pytest.raises(errors.InputError, match="bestaat niet"):
        notebook.run_notebook(tmp_path / "nee.ipynb", tmp_path / "x.html", {}, title="t")


def test_failing_notebook_is_saved_aside_and_publishes_nothing(tmp_path):
    out = tmp_path / "rapport" / "mini.html"
    failed = tmp_path / "_failed"
    with pytest.raises(errors.ReportFailed) as info:
        notebook.run_notebook(MINI, out, {"mislukken": True}, title="t", failed_dir=failed)
    message = str(info.value)
    assert "cel 6" in message and "Opzettelijke fout" in message and "ValueError" in message
    assert info.value.failed_notebook == failed / "mini.ipynb"
    assert (failed / "mini.ipynb").is_file()
    assert not out.exists()
    assert not list(out.parent.glob("*")) if out.parent.exists() else True


def test_failure_keeps_the_previous_report(tmp_path):
    out = tmp_path / "mini.html"
    out.write_text("vorige versie", encoding="utf-8")
    with pytest.raises(errors.ReportFailed):
        notebook.run_notebook(
            MINI, out, {"mislukken": True}, title="t", failed_dir=tmp_path / "_failed"
        )
    assert out.read_text(encoding="utf-8") == "vorige versie"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


@pytest.mark.slow
def test_cell_time_out_names_the_cell(tmp_path):
    out = tmp_path / "mini.html"
    with pytest.raises(errors.ReportFailed, match=r"cel 6 .*langer dan 4 seconden"):
        notebook.run_notebook(
            MINI,
            out,
            {"wachten": 60.0},
            title="t",
            timeout_per_cell=4,
            failed_dir=tmp_path / "_failed",
        )
    assert not out.exists()
    assert (tmp_path / "_failed" / "mini.ipynb").is_file()


# -- HTML checks and index ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "snippet",
    [
        '<script src="https://cdn.example.org/require.js"></script>',
        '<link rel="stylesheet" href="http://fonts.example.org/a.css">',
        "<style>@import url('https://fonts.example.org/x.css');</style>",
        "<style>body{background:url(//example.org/a.png)}</style>",
        '<img src="https://example.org/a.png" alt="x">',
    ],
)
def test_find_external_urls_catches_each_kind(snippet):
    assert report_html.find_external_urls(snippet)


def test_check_html_reports_missing_alt_and_scripts():
    problems = report_html.check_html('<html lang="nl"><img src="data:,"><script>1</script></html>')
    assert any("alt-tekst" in p for p in problems) and any("script" in p for p in problems)
    assert report_html.check_html('<html lang="nl"><img src="data:," alt="Grafiek"></html>') == []


def test_write_index(tmp_path):
    entries = [
        index_page.IndexEntry(
            municipality="Westerkwartier (GM1969)",
            report="Talent & <vitaliteit>",
            reference_year=2023,
            data_date=dt.date(2025, 3, 1),
            generated=dt.date(2025, 3, 2),
            href="GM1969/talent.html",
        ),
        {
            "municipality": "Groningen",
            "report": "Woonklimaat",
            "reference_year": "2022",
            "data_date": "2025-03-01",
            "generated": "2025-03-02",
            "href": "GM0014/wonen.html",
        },
    ]
    path = index_page.write_index(entries, tmp_path / "reports" / "index.html")
    html = path.read_text(encoding="utf-8")
    assert '<html lang="nl">' in html and "<title>Rapporten</title>" in html
    assert "Talent &amp; &lt;vitaliteit&gt;" in html and "<vitaliteit>" not in html
    assert '<a href="GM1969/talent.html">' in html
    assert "1 maart 2025" in html and "2 maart 2025" in html and "2023" in html
    assert html.index("Westerkwartier") < html.index("Groningen</td>")
    assert report_html.check_html(html) == []
    assert "http://" not in html and "https://" not in html
    assert (
        index_page.write_index(entries, tmp_path / "again.html").read_bytes() == path.read_bytes()
    )


@pytest.mark.parametrize(
    "href", ["https://example.org/r.html", "//example.org/r.html", "javascript:alert(1)"]
)
def test_write_index_rejects_non_relative_links(tmp_path, href):
    entry = index_page.IndexEntry("W", "R", 2023, "2025-03-01", "2025-03-02", href)
    with pytest.raises(errors.ParameterError, match="relatief"):
        index_page.write_index([entry], tmp_path / "index.html")
    assert not (tmp_path / "index.html").exists()


# ----------------------------------------------------------------------------------------------
# `westerkwartier report` is a batch of one: jobs, the folder's index entries, failures
# ----------------------------------------------------------------------------------------------
_HEADER = (
    "from IPython.display import HTML\n"
    'HTML(f\'<header class="rapport-kop" data-rapport="{rapport}" data-titel="{titel}" \'\n'
    '     f\'data-gemeente="Westerkwartier" data-code="{{gemeente}}" data-peiljaar="2024" \'\n'
    '     f\'data-gegevens="2026-06-23" data-peildatum="{{peildatum}}"><h1>{titel}</h1></header>\')'
)


def _report_notebook(path: Path, rapport: str, titel: str, fail: bool) -> None:
    """A tiny stand-in for a catalogue notebook: the real parameters, a report header."""
    import nbformat

    params = (
        'gemeente: str = "GM1969"  # CBS-code of naam\njaar: int = 0  # peiljaar\n'
        'vergelijk: list = []  # extra gemeenten\npeildatum: str = "2026-11-27"  # datum\n'
        'gegevensmelding: str = ""  # melding'
    )
    cells = [nbformat.v4.new_code_cell(params, metadata={"tags": ["parameters"]})]
    cells.append(nbformat.v4.new_code_cell(_HEADER.format(rapport=rapport, titel=titel)))
    if fail:
        cells.append(nbformat.v4.new_code_cell('raise ValueError("Opzettelijke fout")'))
    nb = nbformat.v4.new_notebook(
        cells=cells,
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        },
    )
    nbformat.write(nb, path)


def test_report_run_publishes_good_reports_and_raises_for_a_failed_one(tmp_path, monkeypatch):
    from westerkwartier.pipeline import render

    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    _report_notebook(notebooks / "aantrekkelijkheid.ipynb", "aantrekkelijkheid", "Aantr", True)
    _report_notebook(notebooks / "talent.ipynb", "talent", "Talent", False)
    monkeypatch.setenv("MPLBACKEND", "agg")
    uit = tmp_path / "uit"
    with pytest.raises(errors.ReportFailed, match="Opzettelijke fout") as info:
        render.render_reports(
            "Westerkwartier", peildatum="2026-11-27", uit=uit, notebooks_dir=notebooks
        )
    assert Path(info.value.failed_notebook).parent == uit / "_failed" / "westerkwartier"
    assert not (uit / "westerkwartier" / "aantrekkelijkheid.html").exists()
    assert (uit / "westerkwartier" / "talent.html").is_file()
    (entry,) = render.index_entries(uit)
    assert entry.href == "westerkwartier/talent.html" and entry.reference_year == "2024"
    assert entry.municipality == "Westerkwartier (GM1969)" and entry.report == "Talent"
    assert entry.data_date == dt.date(2026, 6, 23) and entry.generated == dt.date(2026, 11, 27)
    page = (uit / "index.html").read_text(encoding="utf-8")
    assert 'href="westerkwartier/talent.html"' in page and "aantrekkelijkheid.html" not in page


def _record(folder: str, name: str, rapport: str = "talent") -> dict:
    return {
        "rapport": rapport,
        "gemeente": name,
        "municipality": f"{name} (GM0000)",
        "report": rapport.capitalize(),
        "reference_year": "2024",
        "data_date": "2026-06-23",
        "generated": "2026-11-27",
        "href": f"{folder}/{rapport}.html",
    }


def test_index_entries_are_kept_per_folder_and_merged(tmp_path):
    from westerkwartier.pipeline import render

    for folder, rapport in [
        ("zeist", "talent"),
        ("assen", "talent"),
        ("assen", "aantrekkelijkheid"),
    ]:
        (tmp_path / folder).mkdir(exist_ok=True)
        (tmp_path / folder / f"{rapport}.html").write_text("<html></html>", encoding="utf-8")
    render.publish_index(tmp_path, [_record("zeist", "Zeist")])
    render.publish_index(
        tmp_path, [_record("assen", "Assen"), _record("assen", "Assen", "aantrekkelijkheid")]
    )
    again = {**_record("zeist", "Zeist"), "reference_year": "2025"}
    render.publish_index(tmp_path, [again])  # made again: replaces its old entry
    entries = render.index_entries(tmp_path)
    assert [e.href for e in entries] == [
        "assen/aantrekkelijkheid.html",
        "assen/talent.html",
        "zeist/talent.html",
    ]
    assert entries[-1].reference_year == "2025"
    (tmp_path / "assen" / "talent.html").unlink()  # a report removed by hand drops out
    render.write_reports_index(tmp_path)
    page = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert page.count("<tr><td>") == 2 and "assen/talent.html" not in page
    assert report_html.check_html(page) == []


def test_damaged_index_entries_give_a_clear_error(tmp_path):
    from westerkwartier.pipeline import render

    (tmp_path / render.INDEX_RECORD).write_text("{niet json", encoding="utf-8")
    with pytest.raises(errors.DataIntegrityError, match="Verwijder hem"):
        render.publish_index(tmp_path)


_SAYS_HOW = (
    "import os\n"
    "print('offline=' + os.environ.get('WESTERKWARTIER_OFFLINE', '-'),\n"
    "      'onbereikbaar=' + os.environ.get('WESTERKWARTIER_CBS_UNREACHABLE', '-'),\n"
    "      'melding=' + gegevensmelding)"
)


@pytest.mark.parametrize("cbs", ["unreachable", "reachable", "offline mode"])
def test_report_asks_cbs_once_and_runs_offline_when_it_does_not_answer(
    cbs, tmp_path, monkeypatch, request
):
    """Like a batch: without CBS the kernel runs offline (disk caches), with the batch's notice."""
    import nbformat

    from westerkwartier import settings
    from westerkwartier.pipeline import render

    if cbs == "reachable":
        request.getfixturevalue("standin_server")
    elif cbs == "unreachable":
        monkeypatch.setattr(settings, "cbs_host", "127.0.0.1:9")
    else:
        monkeypatch.setattr(settings, "offline", True)
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    _report_notebook(notebooks / "talent.ipynb", "talent", "Talent", False)
    nb = nbformat.read(notebooks / "talent.ipynb", as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(_SAYS_HOW))
    nbformat.write(nb, notebooks / "talent.ipynb")
    monkeypatch.setenv("MPLBACKEND", "agg")
    (page,) = render.render_reports(
        "Westerkwartier",
        rapport="talent",
        peildatum="2026-11-27",
        uit=tmp_path / "uit",
        gegevensmelding="Eigen melding.",
        notebooks_dir=notebooks,
    )
    said = re.search(r"offline=(\S+) onbereikbaar=(\S+) melding=([^<]*)", page.read_text("utf-8"))
    assert said is not None
    offline, unreachable, notice = (part.strip() for part in said.groups())
    assert notice.startswith("Eigen melding.")
    if cbs == "unreachable":
        assert (offline, unreachable) == ("1", "1")
        assert "CBS was niet bereikbaar" in notice and "met gegevens tot" in notice
    else:
        assert offline == ("0" if cbs == "reachable" else "1")
        assert unreachable == ("0" if cbs == "reachable" else "-")
        assert notice == "Eigen melding."


def _fresh_python(code: str) -> str:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    return done.stdout.strip()


def test_the_pipeline_keeps_jsonschema_from_compiling_its_iri_grammars():
    # rfc3987_syntax compiles ~40 grammars on import (about 1 s of CPU per process), only to
    # check "iri" formats; nbformat must still validate notebooks without it
    out = _fresh_python(
        "import sys\n"
        "import westerkwartier.pipeline.notebook, nbformat\n"
        "import nbformat.v4 as v4\n"
        "nb = v4.new_notebook(cells=[v4.new_code_cell('1')])\n"
        "nbformat.validate(nb)\n"
        "nb.cells[0]['onbekend'] = 1\n"
        "try:\n"
        "    nbformat.validate(nb)\n"
        "    refused = False\n"
        "except nbformat.ValidationError:\n"
        "    refused = True\n"
        "print('jsonschema' in sys.modules, sys.modules.get('rfc3987_syntax', 0), refused)\n"
    )
    assert out == "True None True"


def test_a_process_that_imported_jsonschema_first_keeps_its_iri_checks():
    out = _fresh_python(
        "import sys, jsonschema\n"
        "import westerkwartier.pipeline as p\n"
        "print(p.skip_iri_grammars(), sys.modules.get('rfc3987_syntax') is None)\n"
    )
    assert out == "False False"
