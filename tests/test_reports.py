"""The report notebooks executed through the production runner on the offline snapshot.

Each (notebook, municipality) is rendered once per session (in parallel kernels) and many
things are asserted on the HTML: sections, figures with alt text, no external or local paths,
key numbers equal to the panel's, heading order, escaping, determinism and the index page.
"""

from __future__ import annotations

import datetime as dt
import html as htmllib
import os
import re
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest

from westerkwartier import errors, settings
from westerkwartier.pipeline import notebook as runner
from westerkwartier.pipeline import render as reports
from westerkwartier.reporting.formatting import fmt_eur, fmt_number, fmt_pct
from westerkwartier.reporting.html import check_html, images_without_alt

PEILDATUM = "2026-11-27"
MAIN = ["GM1969", "GM0088"]  # Westerkwartier; Schiermonnikoog: tiny island, much suppressed
SMOKE = ["GM0014", "GM1900", "GM0935"]  # Groningen, Súdwest-Fryslân, Maastricht

APPENDICES = [
    "Bijlage: hoe de index werkt",
    "Bijlage: alle bevindingen",
    "Bijlage: wat ontbreekt",
    "Bijlage: bronnen en methode",
]
SECTIONS = {
    "talent": [
        "In één oogopslag",
        "Talent behouden",
        "Talent aantrekken",
        "Talent ontwikkelen",
        "Werk",
        "Wijken",
        "Ambities",
        *APPENDICES,
    ],
    "aantrekkelijkheid": [
        "In één oogopslag",
        "Vestigingsklimaat",
        "Woonklimaat",
        "Gezondheid en vitaliteit",
        "Wijken",
        "Ambities",
        *APPENDICES,
    ],
}
#: The most words the main text (everything before the appendices) may have.
MAX_MAIN_WORDS = 1500
MIN_FIGURES = {"talent": 4, "aantrekkelijkheid": 4}


def _offline_env():
    before = {k: os.environ.get(k) for k in ("WESTERKWARTIER_OFFLINE",)}
    os.environ["WESTERKWARTIER_OFFLINE"] = "1"
    old = settings.offline
    settings.offline = True
    return before, old


def _restore(before, old):
    settings.offline = old
    for key, value in before.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


#: The example ambitions file: given for Westerkwartier only, as partners would with --ambities.
EXAMPLE_AMBITIONS = settings.project_dir / "ambities" / "westerkwartier.toml"
AMBITIONS = {"GM1969": EXAMPLE_AMBITIONS}


def _render_all(
    out: Path, codes: list[str], rapport: str = "alle", ambities: dict | None = None
) -> dict:
    before, old = _offline_env()
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            jobs = {
                code: pool.submit(
                    reports.render_reports,
                    code,
                    rapport=rapport,
                    peildatum=PEILDATUM,
                    uit=out,
                    index=False,
                    ambities=(ambities or {}).get(code),
                )
                for code in codes
            }
            paths = {code: job.result() for code, job in jobs.items()}
        reports.write_reports_index(out)
    finally:
        _restore(before, old)
    return {(code, p.stem): p for code, found in paths.items() for p in found}


@pytest.fixture(scope="session")
def rendered(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("reports")
    return {"dir": out, "paths": _render_all(out, MAIN, ambities=AMBITIONS)}


def _html(rendered, code, rapport) -> str:
    return rendered["paths"][(code, rapport)].read_text(encoding="utf-8")


CASES = [(c, r) for c in MAIN for r in ("talent", "aantrekkelijkheid")]


# -- structure ----------------------------------------------------------------------------------
@pytest.mark.parametrize(("code", "rapport"), CASES)
def test_report_is_published_where_expected(rendered, code, rapport):
    path = rendered["paths"][(code, rapport)]
    slug = {"GM1969": "westerkwartier", "GM0088": "schiermonnikoog"}[code]
    assert path == rendered["dir"] / slug / f"{rapport}.html"
    assert not (rendered["dir"] / "_failed").exists()


@pytest.mark.parametrize(("code", "rapport"), CASES)
def test_sections_and_heading_order(rendered, code, rapport):
    text = _html(rendered, code, rapport)
    headings = [
        (int(m.group(1)), htmllib.unescape(re.sub(r"<[^>]+>", "", m.group(2))).strip())
        for m in re.finditer(r"<h([1-6])\b[^>]*>(.*?)</h\1>", text, re.S)
    ]
    assert headings[0][0] == 1 and sum(1 for lvl, _ in headings if lvl == 1) == 1
    name = {"GM1969": "Westerkwartier", "GM0088": "Schiermonnikoog"}[code]
    assert name in headings[0][1]
    previous = 1
    for level, _ in headings[1:]:
        assert level <= previous + 1, headings
        assert level >= 2
        previous = level
    h2 = [t for lvl, t in headings if lvl == 2]
    expected = SECTIONS[rapport]
    if code not in AMBITIONS:  # a default run: no ambitions section
        expected = [t for t in expected if t != "Ambities"]
    assert h2 == expected


@pytest.mark.parametrize(("code", "rapport"), CASES)
def test_no_errors_and_house_rules(rendered, code, rapport):
    text = _html(rendered, code, rapport)
    assert check_html(text) == []
    for marker in ("Traceback", "Error", "ename", "evalue", 'class="output_error"'):
        assert marker not in text
    assert "nan" not in re.sub(r"<[^>]+>|data:image/[a-z+]+;base64,[^\"]+", " ", text).split()
    assert f"<title>{rapport.capitalize()}" in text or "<title>Aantrekkelijkheid" in text


@pytest.mark.parametrize(("code", "rapport"), CASES)
def test_figures_have_alt_text(rendered, code, rapport):
    text = _html(rendered, code, rapport)
    images = re.findall(r"<img\b[^>]*>", text)
    assert len(images) >= MIN_FIGURES[rapport]
    assert images_without_alt(text) == 0
    assert all(re.search(r'src="data:image/(png|svg\+xml);base64,', img) for img in images)
    alts = [htmllib.unescape(re.search(r'alt="([^"]*)"', i).group(1)) for i in images]
    assert any(a.startswith("Kaart:") for a in alts), "a choropleth map with alt text"
    assert all("Bron: CBS" in a for a in alts)


@pytest.mark.parametrize(("code", "rapport"), CASES)
def test_no_external_urls_or_local_paths(rendered, code, rapport):
    text = _html(rendered, code, rapport)
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", text, re.I)
    assert "http://" not in text and "https://" not in text
    for local in ("/work/", "/root", "/home/", "/tmp/", "file:", os.path.expanduser("~")):
        assert local not in text
    user = os.environ.get("USER") or os.environ.get("LOGNAME")
    if user and len(user) > 3:
        assert f"/{user}" not in text


@pytest.mark.parametrize(("code", "rapport"), CASES)
def test_tables_have_header_cells_in_scroll_box(rendered, code, rapport):
    text = _html(rendered, code, rapport)
    tables = re.findall(r"<table\b.*?</table>", text, re.S)
    assert tables
    for table in tables:
        assert '<th scope="col">' in table
    assert text.count('class="tabel-kader"') >= len(tables)


@pytest.mark.parametrize(("code", "rapport"), CASES)
def test_sources_and_licence(rendered, code, rapport):
    text = _html(rendered, code, rapport)
    assert "Bron: CBS" in text and "CC BY 4.0" in text
    tables = {"talent": ("86088NED", "85525NED"), "aantrekkelijkheid": ("85036NED", "85563NED")}
    for table_id in tables[rapport]:
        assert table_id in text
    assert "23 juni 2026" in text  # data date of the snapshot
    assert "27 november 2026" in text  # peildatum
    assert "definitief" in text


def test_indicator_panel_holds_the_rows_of_the_panel_it_was_split_from(monkeypatch):
    import dataclasses

    from westerkwartier.reporting.report_data import load_report_data

    monkeypatch.setattr(settings, "offline", True)
    data = load_report_data("talent", "GM0088", peildatum="2026-11-27")
    indicator = "netto_arbeidsparticipatie"
    own = data.panel[data.panel["indicator"] == indicator]
    pd.testing.assert_frame_equal(data.indicator_panel(indicator), own)
    assert data.indicator_panel("geen_indicator").empty
    assert list(data.indicator_panel("geen_indicator").columns) == list(data.panel.columns)
    # a replaced panel is split again, also in a copy made with dataclasses.replace
    data.panel = data.panel[data.panel["year"] >= 2020]
    assert data.indicator_panel(indicator)["year"].min() >= 2020
    older = dataclasses.replace(data, panel=own[own["year"] < 2020])
    assert older.indicator_panel(indicator)["year"].max() < 2020


MISSING_ROUNDED_HUNDREDS = "te kleine aantallen: CBS rondt deze tellingen af op honderdtallen"


def test_a_missing_trend_chart_says_why(monkeypatch):
    """42 notes in a national run said only "zijn te weinig jaren beschikbaar voor een grafiek",
    also where CBS rounds every year away or gives one year since a merger."""
    from westerkwartier.reporting.report_data import load_report_data
    from westerkwartier.reporting.sections import no_chart_text

    monkeypatch.setattr(settings, "offline", True)

    def reasons(data, indicator):
        rows = data.indicator_panel(indicator)
        own = rows[rows["region_code"] == data.region.code]
        return own["value"].notna().sum(), set(own["missing_reason"].dropna())

    ameland = load_report_data("talent", "GM0060", peildatum="2026-11-27")
    youth = "jongeren_15_27_per_1000"
    assert reasons(ameland, youth) == (0, {MISSING_ROUNDED_HUNDREDS})
    assert no_chart_text(ameland, youth) == (
        "Jongeren van 15 tot 27 jaar per 1.000 inwoners: geen grafiek voor Ameland, want geen "
        f"enkel jaar heeft een cijfer. Reden: {MISSING_ROUNDED_HUNDREDS}."
    )
    merged = load_report_data("aantrekkelijkheid", "Land van Cuijk", peildatum="2026-11-27")
    hospital = "ziekenhuisopnamen_per_10000"
    n, why = reasons(merged, hospital)
    assert n == 1 and len(why) == 1
    assert no_chart_text(merged, hospital) == (
        "Ziekenhuisopnamen per 10.000 inwoners: geen grafiek voor Land van Cuijk, want alleen "
        f"2022 heeft een cijfer. De andere jaren: {why.pop()}."
    )


def test_a_note_about_a_table_is_said_once_and_only_with_its_figures(monkeypatch):
    """The sentence that the Gezondheidsmonitor 2024 is read under the topic names of 2022 stood
    in the caveats of all eleven survey indicators, also in reports without a figure of 2024
    (every offline report). It is now a note of table 86137NED: said once, under the table,
    when the report shows one of its figures."""
    import dataclasses

    from westerkwartier.reporting.report_data import load_report_data
    from westerkwartier.reporting.sections import bronnen, table_caveats

    monkeypatch.setattr(settings, "offline", True)
    data = load_report_data("aantrekkelijkheid", "Westerkwartier", peildatum="2026-11-27")
    note = data.catalogue.table("86137NED").note
    assert "namen die de onderwerpen in de Gezondheidsmonitor 2022 hebben" in note
    text = htmllib.unescape(str(bronnen(data)))
    assert "86137NED" not in data.tables
    assert note not in text
    assert "onderwerpsleutels" not in text
    assert "Enquête (Gezondheidsmonitor" in text and "Enquete" not in text

    # the same report as it would be with a figure of 2024 (online): one row from 86137NED
    panel = data.panel.copy()
    survey = panel.index[(panel["source_table"] == "85563NED") & panel["value"].notna()]
    panel.loc[survey[0], "source_table"] = "86137NED"
    with_2024 = dataclasses.replace(data, panel=panel)
    assert "86137NED" in with_2024.tables
    assert table_caveats(with_2024) == [
        ("CBS-tabel 86137NED (Gezondheidsmonitor; bevolking 18 jaar of ouder, regio, 2024)", note)
    ]
    assert htmllib.unescape(str(bronnen(with_2024))).count(note) == 1


@pytest.mark.parametrize(
    ("code", "rapport", "online_only", "suppressed"),
    [
        ("GM1900", "talent", True, False),  # 03759ned is in the snapshot, but not by age
        ("GM0088", "talent", True, True),
        ("GM1969", "aantrekkelijkheid", False, False),  # nothing missing: no footnote
    ],
)
def test_what_is_missing_explains_only_the_reasons_it_gives(
    monkeypatch, code, rapport, online_only, suppressed
):
    """Súdwest-Fryslân's cohort figure is missing with "tabel alleen online beschikbaar" for
    03759ned, which the sources list shows as used: the snapshot holds it without single ages.
    The footnote says a part of a table may be missing, and explains a reason only when a row
    gives it."""
    from westerkwartier.indicators.catalogue import MISSING
    from westerkwartier.reporting.report_data import load_report_data
    from westerkwartier.reporting.sections import MISSING_EXPLAINED, ontbreekt

    monkeypatch.setattr(settings, "offline", True)
    data = load_report_data(rapport, code, peildatum="2026-11-27")
    reasons = [r.missing_reason or "" for r in data.rows if r.own is None]
    assert any(MISSING["online_only"] in r for r in reasons) is online_only
    assert any(MISSING["suppressed"] in r for r in reasons) is suppressed
    notes = re.findall(r'<p class="voetnoot">(.*?)</p>', htmllib.unescape(str(ontbreekt(data))))
    expected = [
        text
        for text, shown in (
            (MISSING_EXPLAINED["online_only"], online_only),
            (MISSING_EXPLAINED["suppressed"], suppressed),
        )
        if shown
    ]
    assert notes == ([" ".join(expected)] if expected else [])
    if online_only:
        assert "of het deel ervan dat dit cijfer nodig heeft" in notes[0]


def test_what_is_missing_says_that_cbs_did_not_answer(monkeypatch):
    """Made in the default mode while CBS did not answer, a report was made online: "met een
    internetverbinding haalt de monitor het op" would send its reader after a connection the
    run had. The footnote says that CBS did not answer, and that the next run gets the table."""
    from westerkwartier.reporting.report_data import load_report_data
    from westerkwartier.reporting.sections import (
        MISSING_EXPLAINED,
        ONLINE_ONLY_UNREACHABLE,
        ontbreekt,
    )

    monkeypatch.setattr(settings, "offline", True)  # as the run sets its kernel then
    data = load_report_data("talent", "GM1900", peildatum="2026-11-27")

    def notes() -> list[str]:
        page = htmllib.unescape(str(ontbreekt(data)))
        return re.findall(r'<p class="voetnoot">(.*?)</p>', page)

    assert notes() == [MISSING_EXPLAINED["online_only"]]  # offline by choice
    monkeypatch.setattr(settings, "cbs_unreachable", True)
    assert notes() == [ONLINE_ONLY_UNREACHABLE]
    assert "het CBS was niet bereikbaar" in ONLINE_ONLY_UNREACHABLE
    assert "internetverbinding" not in ONLINE_ONLY_UNREACHABLE


# -- numbers ------------------------------------------------------------------------------------
def _latest(code: str, indicator: str):
    from westerkwartier.indicators.panel import panel

    before, old = _offline_env()
    try:
        p = panel(regions=[code], indicators=[indicator])
    finally:
        _restore(before, old)
    p = p[p["value"].notna()].sort_values("year")
    return p.iloc[-1]


@pytest.mark.parametrize(
    ("rapport", "indicator", "formatter"),
    [
        ("talent", "netto_arbeidsparticipatie", fmt_pct),
        ("talent", "werkloosheid", fmt_pct),
        ("talent", "aandeel_hoogopgeleid", fmt_pct),
        ("aantrekkelijkheid", "woz_waarde", fmt_eur),
        ("aantrekkelijkheid", "ervaren_gezondheid", fmt_pct),
        ("aantrekkelijkheid", "rokers", fmt_pct),
    ],
)
def test_key_numbers_equal_the_panel(rendered, rapport, indicator, formatter):
    text = htmllib.unescape(_html(rendered, "GM1969", rapport))
    row = _latest("GM1969", indicator)
    shown = formatter(row["value"])
    assert shown in text, (indicator, shown)
    label_year = f"{int(row['year'])}"
    assert label_year in text


def _key_figures(rendered, code, rapport) -> list[str]:
    header = re.search(r'<ul class="kerncijfers">(.*?)</ul>', _html(rendered, code, rapport), re.S)
    items = re.findall(r"<li>(.*?)</li>", header.group(1), re.S)
    return [" ".join(htmllib.unescape(re.sub(r"<[^>]+>", " ", li)).split()) for li in items]


@pytest.mark.parametrize("code", MAIN)
def test_header_key_figures_say_how_cbs_rounded_them(rendered, code):
    """A count CBS rounds to hundreds is not shown as an exact figure in the report's header.

    Schiermonnikoog has 100 young people by CBS's count, anything from 50 to 149.
    """
    young = _latest(code, "jongeren_15_27")
    assert young["precision"] == "afronding: aantallen afgerond op honderdtallen"
    figures = _key_figures(rendered, code, "talent")
    assert (
        f"{fmt_number(young['value'], 0)} personen jongeren van 15 tot 27 jaar "
        f"({int(young['year'])}, aantallen afgerond op honderdtallen, {young['status']})"
    ) in figures, figures
    people = _latest(code, "inwoners")  # counted, not rounded: only its year
    assert pd.isna(people["precision"])
    assert (
        f"{fmt_number(people['value'], 0)} personen inwoners op 1 januari ({int(people['year'])})"
    ) in figures, figures


def test_a_change_in_euros_shows_the_euro_sign_on_both_bounds(rendered):
    """The WOZ value's change since its first year, with what rounding allows, in euros twice.

    The lower bound once lost its sign: "tussen +86.000 en +€ 88.000".
    """
    from westerkwartier.indicators.panel import panel

    before, old = _offline_env()
    try:
        rows = panel(regions=["GM1969"], indicators=["woz_waarde"])
    finally:
        _restore(before, old)
    rows = rows[rows["value"].notna()].sort_values("year")
    page = _html(rendered, "GM1969", "aantrekkelijkheid")
    row = re.search(r'<tr data-indicator="woz_waarde">(.*?)</tr>', page, re.S)
    inline = re.sub(r"</?span[^>]*>", "", row.group(1))  # an amount's span adds no space
    text = " ".join(htmllib.unescape(re.sub(r"<[^>]+>", " ", inline)).split())
    since = re.search(r"sinds (\d{4}) \(door afronding tussen (.*?)\)", text)
    start = rows[rows["year"] == int(since.group(1))].iloc[0]
    end = rows.iloc[-1]
    low, high = end["lower"] - start["upper"], end["upper"] - start["lower"]
    assert since.group(2) == f"+{fmt_eur(low)} en +{fmt_eur(high)}", text


def test_page_one_says_a_rounded_headline_figure_is_rounded(rendered):
    """Page 1 gives a headline figure's margin as its scorecard does, not just its year.

    Schiermonnikoog's 0,0% early school leavers rests on counts rounded to tens: up to 11,1%.
    """
    row = _latest("GM0088", "voortijdig_schoolverlaters")
    assert row["precision"] == "afronding: aantallen afgerond op tientallen"
    page = _html(rendered, "GM0088", "talent")
    glance = re.search(r'<li[^>]*data-indicator="voortijdig_schoolverlaters">(.*?)</li>', page)
    text = " ".join(htmllib.unescape(re.sub(r"<[^>]+>", " ", glance.group(1))).split())
    text = text.replace("\u00ad", "")  # soft hyphens in a tile's long words (invisible)
    margin = f"door afronding tussen {fmt_pct(row['lower'])} en {fmt_pct(row['upper'])}"
    assert text.startswith(f"{fmt_pct(row['value'])} Voortijdig schoolverlaters ("), text
    assert f", {margin})" in text, text
    assert margin == "door afronding tussen 0,0% en 11,1%"


def test_schiermonnikoog_reports_missing_figures_with_reason(rendered):
    text = htmllib.unescape(_html(rendered, "GM0088", "aantrekkelijkheid"))
    assert "geen cijfer van CBS (geheim of onbetrouwbaar)" in text
    assert "geen (geen gemeente met een landgrens)" in text
    assert "Gezondheidsmonitor beschikbaar" in text or "Verschillen met" in text


def test_findings_count(rendered):
    for code, rapport in CASES:
        text = _html(rendered, code, rapport)
        block = re.search(r'<ol class="bevindingen">(.*?)</ol>', text, re.S)
        assert block, (code, rapport)
        assert 5 <= block.group(1).count("<li") <= 8, (code, rapport)


# -- page 1, structure and words ----------------------------------------------------------------
def _main_text(page: str) -> str:
    """Visible words before the first appendix, without tables, figures, contents or styles."""
    body = page.split("<main", 1)[1]
    cut = re.search(r"<h2\b[^>]*>Bijlage", body)
    body = body[: cut.start()] if cut else body
    for tag in ("style", "script", "table", "nav"):
        body = re.sub(rf"<{tag}\b.*?</{tag}>", " ", body, flags=re.S)
    return htmllib.unescape(re.sub(r"<[^>]+>", " ", body))


def main_words(page: str) -> int:
    """Words of the main text of a report (see :func:`_main_text`)."""
    return len(_main_text(page).split())


@pytest.mark.parametrize(("code", "rapport"), CASES)
def test_main_text_is_short(rendered, code, rapport):
    page = _html(rendered, code, rapport)
    words = main_words(page)
    assert 200 < words <= MAX_MAIN_WORDS, (code, rapport, words)
    whole = len(htmllib.unescape(re.sub(r"<[^>]+>", " ", page.split("<main", 1)[1])).split())
    assert whole > words  # the appendices hold the rest


#: Technical terms that the main text may not use without explaining them.
JARGON = ("z-score", "meetkundige aggregatie", "kwadraat van de correlatie", "Fvw")


@pytest.mark.parametrize(("code", "rapport"), CASES)
def test_main_text_avoids_unexplained_jargon(rendered, code, rapport):
    text = _main_text(_html(rendered, code, rapport))
    for term in JARGON:
        assert term.lower() not in text.lower(), term


@pytest.mark.parametrize(("code", "rapport"), CASES)
def test_page_one_glance(rendered, code, rapport):
    text = _html(rendered, code, rapport)
    glance = re.search(r'<section[^>]*class="oogopslag".*?</section>', text, re.S)
    assert glance, "no page 1"
    part = glance.group(0)
    tiles = re.findall(r'<ul class="kopcijfers">(.*?)</ul>', part, re.S)
    findings = re.findall(r'<ol class="bevindingen kort">(.*?)</ol>', part, re.S)
    if code == "GM1969":
        assert tiles and tiles[0].count("<li") == 4
        assert findings and findings[0].count("<li") == 5
        assert part.count("<img") == 1
        for tile in re.findall(r"<li.*?</li>", tiles[0], re.S):
            assert re.search(r"\((19|20)\d\d", tile), tile  # the year
            assert "Nederland" in tile  # the benchmark
    if findings:  # the legend says what the appendix says: a tie or a difference within the
        # margin neither makes a finding favourable nor stands in its way
        assert (
            "▲ gunstig: beter dan provincie, Nederland en vergelijkbare gemeenten, waar het "
            "verschil telt" in htmllib.unescape(part)
        )
    # the five findings are the first five of the appendix, shortened to one sentence
    full = re.search(r'<ol class="bevindingen">(.*?)</ol>', text, re.S).group(1)
    first = re.findall(r'data-indicator="([^"]+)"', full)[:5]
    shown = re.findall(r'data-indicator="([^"]+)"', findings[0]) if findings else []
    assert shown == first[: len(shown)]
    for sentence in re.findall(r"</span> (.*?)</li>", findings[0] if findings else ""):
        assert htmllib.unescape(sentence).count(". ") == 0, sentence  # one sentence


@pytest.mark.parametrize(("code", "rapport"), CASES)
def test_contents_link_every_section(rendered, code, rapport):
    text = _html(rendered, code, rapport)
    nav = re.search(r'<nav class="inhoud[^"]*".*?</nav>', text, re.S)
    assert nav
    targets = re.findall(r'href="#([^"]+)"', nav.group(0))
    ids = re.findall(r'<h2 id="([^"]+)"', text)
    assert targets == ids and len(ids) >= 8
    assert text.index("</section>") < nav.start()  # after page 1


@pytest.mark.parametrize(("code", "rapport"), CASES)
def test_title_and_heading_name_municipality_report_and_year(rendered, code, rapport):
    text = htmllib.unescape(_html(rendered, code, rapport))
    title = re.search(r"<title>(.*?)</title>", text).group(1)
    h1 = re.sub(r"<[^>]+>", "", re.search(r"<h1\b[^>]*>(.*?)</h1>", text, re.S).group(1))
    year = re.search(r'data-peiljaar="(\d{4})"', text).group(1)
    name = {"GM1969": "Westerkwartier", "GM0088": "Schiermonnikoog"}[code]
    for heading in (title, h1):
        assert name in heading and rapport.lower() in heading.lower() and year in heading


# -- the figures behind the report --------------------------------------------------------------
@pytest.mark.parametrize(("code", "rapport"), CASES)
def test_csv_link_holds_the_figures_of_the_page(rendered, code, rapport):
    from westerkwartier.reporting import downloads
    from westerkwartier.reporting.formatting import fmt_short

    text = _html(rendered, code, rapport)
    anchor = re.search(r'<a [^>]*href="data:text/csv[^"]+"[^>]*>', text)
    link = anchor and re.search(r'\bdownload="([^"]+)"', anchor.group(0))
    assert link and link.group(1).endswith(f"-{rapport}-cijfers.csv")
    frame = downloads.csv_from_page(text)
    assert list(frame.columns) == downloads.COLUMNS and len(frame) > 50
    assert {"gemeente", "Nederland"} <= set(frame["rol"])
    # every value of the municipality in a scorecard is in the CSV, for its year
    rows = re.findall(
        r'<tr data-indicator="([^"]+)">\s*<th[^>]*>.*?</th>\s*<td[^>]*>(.*?)</td>', text, re.S
    )
    checked = 0
    own = frame[frame["rol"] == "gemeente"]
    units = dict(zip(own["indicator"], own["eenheid"], strict=False))
    for indicator, cell in rows:
        shown = htmllib.unescape(re.sub(r"<[^>]+>", " ", cell))
        year = re.search(r"\b((?:19|20)\d\d)\b", shown)
        if indicator not in units or year is None or "geen cijfer" in shown:
            continue
        hit = own[(own["indicator"] == indicator) & (own["jaar"] == int(year.group(1)))]
        assert len(hit) == 1, (indicator, year.group(1))
        value = fmt_short(hit["waarde"].iloc[0], units[indicator])
        assert shown.strip().startswith(value + " "), (indicator, shown)
        checked += 1
    assert checked >= 5
    # the EBB's threshold is no bound: value -/+ it gave Schiermonnikoog's labour participation
    # a lower bound of -28,2%; its rows say the difference that counts instead
    ebb = frame["soort_marge"].fillna("").str.startswith("drempel")
    assert ebb.any() == (rapport == "talent")
    assert frame.loc[ebb, ["ondergrens", "bovengrens"]].isna().all().all()
    assert frame.loc[ebb, "soort_marge"].str.fullmatch(r"drempel: .* = \d+,\d %-punt").all()
    # the peers' median of rounded figures keeps the extremes of that rounding, as every figure
    peer = frame[frame["rol"] == downloads.PEER_ROLE]
    rounded = peer["soort_marge"].fillna("").str.startswith("afronding")
    assert rounded.any() and peer.loc[rounded, ["ondergrens", "bovengrens"]].notna().all().all()
    assert (peer.loc[rounded, "ondergrens"] <= peer.loc[rounded, "waarde"]).all()
    assert (peer.loc[rounded, "waarde"] <= peer.loc[rounded, "bovengrens"]).all()
    # the workbook beside the page holds the same table, formatted
    from openpyxl import load_workbook

    path = rendered["paths"][(code, rapport)]
    book = load_workbook(path.parent / link.group(1).replace(".csv", ".xlsx"))
    sheet = book["Cijfers"]
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref
    assert sheet.max_row == len(frame) + 1
    assert [c.value for c in sheet[1]] == downloads.COLUMNS
    described = [r[0].value for r in book["Bronnen"].iter_rows(min_row=2) if r[0].value]
    assert described[: len(downloads.COLUMNS)] == downloads.COLUMNS
    # dated with the report's date, not the moment of writing: made again, the same bytes
    assert book.properties.created.date().isoformat() == PEILDATUM
    workbook = path.parent / link.group(1).replace(".csv", ".xlsx")
    first = workbook.read_bytes()
    time.sleep(1.1)  # the zip and the properties count in seconds
    assert downloads.workbook_from_page(path, dt.date.fromisoformat(PEILDATUM)) == workbook
    assert workbook.read_bytes() == first


def test_csv_link_is_percent_encoded_and_a_page_in_base64_still_reads(rendered):
    """The CSV sits in the link as URL text, not base64: a sixth shorter, nothing to escape."""
    import base64
    from urllib.parse import unquote_to_bytes

    from westerkwartier.reporting import downloads

    text = _html(rendered, MAIN[0], "talent")
    href = re.search(r'<a [^>]*href="(data:text/csv[^"]+)"', text).group(1)
    assert href.startswith(downloads.CSV_PREFIX)
    payload = href.removeprefix(downloads.CSV_PREFIX)
    # only characters a URL allows and an HTML attribute keeps as they are
    assert re.fullmatch(r"[A-Za-z0-9%._~!$()*,;=:@/-]+", payload)
    raw = unquote_to_bytes(payload)
    assert raw.startswith("\ufeff".encode()) and raw.decode("utf-8").count("\n") > 50
    old = base64.b64encode(raw).decode("ascii")
    assert len(payload) < 0.9 * len(old)
    # a page written before this change holds it in base64: its workbook gets the same table
    before = text.replace(href, f"data:text/csv;charset=utf-8;base64,{old}")
    pd.testing.assert_frame_equal(downloads.csv_from_page(before), downloads.csv_from_page(text))


# -- health every year -----------------------------------------------------------------------------
@pytest.mark.parametrize("code", MAIN)
def test_health_section_shows_the_yearly_registers_beside_the_survey(rendered, code):
    from westerkwartier.reporting.formatting import fmt_short

    section = _section(_text(rendered, code, "aantrekkelijkheid"), "Gezondheid en vitaliteit")
    for heading in ("Zorggebruik: elk jaar uit registers", "De pols per jaar"):
        assert f"<h3>{heading}</h3>" in section
    assert "Welke zorg inwoners gebruiken (registers van het CBS, elk jaar)" in section
    plain = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", section))
    for indicator, unit in (
        ("geneesmiddelengebruik", "%"),
        ("jongeren_met_jeugdzorg", "%"),
        ("jongeren_met_jeugdzorg_1e_halfjaar", "%"),
        ("wmo_clienten_per_1000_1e_halfjaar", "per 1 000 inwoners"),
    ):
        row = _latest(code, indicator)
        assert fmt_short(row["value"], unit) in plain, (code, indicator)
    assert "Jongeren met jeugdzorg, eerste halfjaar" in plain and "2024, voorlopig" in plain
    alts = [htmllib.unescape(a) for a in re.findall(r'<img\b[^>]*alt="([^"]*)"', section)]
    youth = [a for a in alts if a.startswith("Lijngrafiek: Jongeren met jeugdzorg")]
    if code == "GM1969":  # values on both sides of the 2021 break: lines interrupted
        assert len(youth) == 1 and "Trendbreuk in 2021" in youth[0]
        assert "<h3>Zorggebruik door de tijd</h3>" in section
        assert "trendbreuk" in plain


# -- wijken --------------------------------------------------------------------------------------
def test_wijk_section_in_the_talent_report(rendered):
    from westerkwartier.reporting import wijk_sections

    section = _section(_text(rendered, "GM1969", "talent"), "Wijken")
    plain = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", section))
    plain = plain.replace("\u00ad", "")  # break points in names
    alts = [htmllib.unescape(a) for a in re.findall(r'<img\b[^>]*alt="([^"]*)"', section)]
    assert len(alts) == 1 and alts[0].startswith(
        "Kaart: verandering van het aantal 25- tot 45-jarigen per wijk van Westerkwartier"
    )
    data = wijk_sections.load_wijk_section("GM1969")
    for sentence in data.sentences:
        assert sentence in plain
    for row in data.rows:  # every wijk in the table
        assert row.name in plain
    assert "Wijk 14 (Zuidhorn, Noordhorn)" in plain and "naam uit buurten" in plain
    assert "meer dan 5 procentpunt" in plain and "CBS, Kadaster (CC BY 4.0)" in plain
    for heading in ("Jonge volwassenen per wijk", "Alle wijken", "Zo zijn de wijkcijfers berekend"):
        assert f"<h3>{heading}</h3>" in section


def test_wijk_section_short_and_single_wijk(rendered):
    short = _section(_text(rendered, "GM1969", "aantrekkelijkheid"), "Wijken")
    assert "Kaart: verandering van het aantal 25- tot 45-jarigen" in short
    assert "<h3>Alle wijken</h3>" not in short and "rapport Talent" in short
    single = _section(_text(rendered, "GM0088", "talent"), "Wijken")
    assert "bestaat uit één wijk" in single and "<img" not in single


# -- composite index, peers and ambitions --------------------------------------------------------
def _text(rendered, code, rapport) -> str:
    return htmllib.unescape(_html(rendered, code, rapport))


def _section(text: str, title: str) -> str:
    start = re.search(rf"<h2\b[^>]*>{re.escape(title)}\b", text).start()
    end = text.find("<h2", start + 3)
    return text[start : end if end > 0 else None]


@pytest.fixture(scope="module")
def composites() -> dict:
    """The Monte Carlo results of both indices, computed here independently of the reports."""
    from westerkwartier.analysis import composite

    before, old = _offline_env()
    try:
        out = {}
        for index in ("talent", "aantrekkelijkheid"):
            p = composite.index_panel(index)
            year = composite.latest_year(index, p)
            out[index] = (
                composite.scores(index, [year], panel=p),
                composite.monte_carlo(index, year, panel=p),
            )
    finally:
        _restore(before, old)
    return out


@pytest.mark.parametrize("rapport", ["talent", "aantrekkelijkheid"])
def test_index_section_numbers_equal_the_composite(rendered, composites, rapport):
    from westerkwartier.analysis.composite import robustness
    from westerkwartier.reporting.formatting import fmt_number
    from westerkwartier.reporting.index_sections import fmt_score

    section = _section(_text(rendered, "GM1969", rapport), "Bijlage: hoe de index werkt")
    plain = re.sub(r"<[^>]+>", "", section)
    scores, mc = composites[rapport]
    assert mc.draws >= 1000
    own = scores[scores["region_code"] == "GM1969"].iloc[0]
    rank = mc.summary().set_index("region_code").loc["GM1969"]
    label = mc.spec.label.lower()
    assert f"Westerkwartier scoort {fmt_score(own['score'])} op de {label} ({mc.year})" in plain
    assert f"mediaan op plaats {fmt_number(rank['median_rank'])} van" in plain
    assert (
        f"5–95%-interval van plaats {fmt_number(rank['rank_p05'])} tot "
        f"{fmt_number(rank['rank_p95'])}"
    ) in plain
    for bench in ("provincie", "Nederland"):
        sentence = robustness(mc.spec, "GM1969", bench, result=mc).sentence
        assert sentence in plain
    assert "van de 1.000 varianten scoort Westerkwartier beter dan de provincie Groningen" in plain
    for heading in ("Score en rangorde", "Rangorde met onzekerheid", "Onderdelen van de index",
                    "Wat veranderde de score?", "Gewicht en werkelijke invloed",
                    "Vergelijkbare gemeenten"):  # fmt: skip
        assert f"<h3>{heading}</h3>" in section
    # The rank-interval chart, with alt text naming the municipality's interval.
    alts = [htmllib.unescape(a) for a in re.findall(r'<img\b[^>]*alt="([^"]*)"', section)]
    chart = [a for a in alts if a.startswith("Intervalgrafiek:")]
    assert len(chart) == 1
    assert (
        f"Westerkwartier (deze gemeente): mediaan {fmt_number(rank['median_rank'])}, interval "
        f"{fmt_number(rank['rank_p05'])}–{fmt_number(rank['rank_p95'])}."
    ) in chart[0]
    assert "Bron: CBS" in chart[0] and "varianten" in chart[0]


@pytest.mark.parametrize("rapport", ["talent", "aantrekkelijkheid"])
def test_peer_table_with_reasons_and_sensitivity(rendered, rapport):
    from westerkwartier.analysis.peers import peers

    before, old = _offline_env()
    try:
        expected = peers("GM1969")
    finally:
        _restore(before, old)
    section = _section(_text(rendered, "GM1969", rapport), "Bijlage: hoe de index werkt")
    table = re.search(r"<table>(?:(?!</table>).)*Waarom vergelijkbaar.*?</table>", section, re.S)
    assert table, "peer table"
    assert '<th scope="col">Waarom vergelijkbaar</th>' in table.group(0)
    for name, why in zip(expected["name"], expected["reason"], strict=True):
        assert f'<th scope="row">{name}</th>' in table.group(0)
        assert why in table.group(0)
    assert "grenst aan Westerkwartier" in table.group(0)
    assert re.search(
        r"De conclusie hangt (niet|wel) af van de keuze van de vergelijkingsgroep", section
    )


def test_ambitions_table_for_westerkwartier(rendered):
    from westerkwartier.analysis import ambitions
    from westerkwartier.reporting import index_sections as index_report

    section = _section(_text(rendered, "GM1969", "aantrekkelijkheid"), "Ambities")
    before, old = _offline_env()
    try:
        pulse = ambitions.pulse(
            "GM1969", settings.project_dir / "ambities" / "westerkwartier.toml", peiljaar=2026
        )
    finally:
        _restore(before, old)
    rows = index_report.pulse_rows(pulse)
    assert '<th scope="col">Status</th>' in section
    for row in rows.to_dict("records"):
        for column in ("Doel", "Nu", "Doelwaarde", "Trend en projectie", "Verschil met doel"):
            assert row[column] in section, (column, row[column])
        assert row["Status"] in section
    assert any(word in section for word in ("✓ op koers", "~ twijfelachtig", "✗ niet op koers"))
    assert index_report.pulse_sentence(pulse, "Westerkwartier", 2026) in section


def test_schiermonnikoog_without_score_and_ambitions(rendered):
    for rapport in ("talent", "aantrekkelijkheid"):
        text = _text(rendered, "GM0088", rapport)
        section = _section(text, "Bijlage: hoe de index werkt")
        assert "Schiermonnikoog heeft geen score op de" in re.sub(r"<[^>]+>", "", section)
        assert "Intervalgrafiek:" not in section
        assert "Waarom vergelijkbaar" in section  # the peers still have reasons


@pytest.mark.parametrize("rapport", ["talent", "aantrekkelijkheid"])
def test_ambitions_only_when_a_file_is_given(rendered, rapport):
    """A default run (no --ambities) publishes no ambitions; with the file, the section shows."""
    default = _text(rendered, "GM0088", rapport)
    assert not re.search(r"<h2\b[^>]*>Ambities", default)
    assert "ambitiebestand" not in default and "Onderwijsalliantie" not in default
    given = _section(_text(rendered, "GM1969", rapport), "Ambities")
    assert "westerkwartier.toml" in given and "Stand per doel" in given


# -- index --------------------------------------------------------------------------------------
def test_index_lists_every_report(rendered):
    text = (rendered["dir"] / "index.html").read_text(encoding="utf-8")
    assert check_html(text) == []
    for href in (
        "westerkwartier/talent.html",
        "westerkwartier/aantrekkelijkheid.html",
        "schiermonnikoog/talent.html",
        "schiermonnikoog/aantrekkelijkheid.html",
    ):
        assert f'href="{href}"' in text
    assert "Westerkwartier (GM1969)" in text and "Schiermonnikoog (GM0088)" in text
    assert "27 november 2026" in text and "23 juni 2026" in text
    assert text.index("Schiermonnikoog") < text.index("Westerkwartier (GM1969)")


def test_index_of_single_reports_is_in_name_order(tmp_path):
    """'s-Gravenhage under G and Súdwest-Fryslân among the S, as in CBS's alphabetical lists."""
    names = ["Zwolle", "Súdwest-Fryslân", "'s-Gravenhage", "Sluis", "Goes"]
    records = []
    for name in names:
        page = tmp_path / name / "talent.html"
        page.parent.mkdir()
        page.write_text("<html></html>")
        records.append({"gemeente": name, "rapport": "talent", "href": f"{name}/talent.html"})
    merged = reports._merged(tmp_path, records[:2], records[2:])
    order = ["Goes", "'s-Gravenhage", "Sluis", "Súdwest-Fryslân", "Zwolle"]
    assert [r["gemeente"] for r in merged] == order


# -- determinism and input checks ---------------------------------------------------------------
def test_same_inputs_give_identical_html(rendered, tmp_path, monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "agg")
    again = _render_all(tmp_path, ["GM1969"], rapport="talent", ambities=AMBITIONS)
    first = rendered["paths"][("GM1969", "talent")]
    assert again[("GM1969", "talent")].read_bytes() == first.read_bytes()


def test_misspelt_parameter_fails(tmp_path):
    from westerkwartier.pipeline.notebook import run_notebook

    notebook = reports.NOTEBOOKS_DIR / "talent.ipynb"
    with pytest.raises(errors.ParameterError, match="Bedoelde u 'gemeente'"):
        run_notebook(notebook, tmp_path / "t.html", {"gemeent": "GM1969"}, title="t")
    assert not (tmp_path / "t.html").exists()


def test_notebooks_declare_the_parameters():
    from westerkwartier.pipeline.notebook import notebook_parameters

    common = ["gemeente", "jaar", "vergelijk", "peildatum", "gegevensmelding"]
    for name in ("talent", "aantrekkelijkheid", "verkenning"):
        declared = notebook_parameters(reports.NOTEBOOKS_DIR / f"{name}.ipynb")
        extra = ["ambities"] if name != "verkenning" else []
        assert list(declared) == [*common, *extra]
        if extra:  # no ambitions unless a run gives a file
            assert declared["ambities"].default in ('""', "''", "")
        assert declared["jaar"].type_name == "int"
        assert declared["vergelijk"].type_name == "list"


def test_notebooks_are_committed_without_outputs():
    import nbformat

    for path in reports.NOTEBOOKS_DIR.glob("*.ipynb"):
        nb = nbformat.read(path, as_version=4)
        assert nb.metadata["kernelspec"]["name"] == "python3"
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, path.name
                assert "now()" not in cell.source and "today()" not in cell.source


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"gemeente": "Westerkwartir"}, errors.RegionNotFound, "Bedoelde u"),
        ({"gemeente": "Grootegast"}, errors.RegionDissolved, "bestaat niet meer"),
        ({"gemeente": "PV20"}, errors.InputError, "geen gemeente"),
        ({"jaar": 2031}, errors.InputError, "na de peildatum"),
        ({"jaar": 1990}, errors.InputError, "buiten het bereik"),
        ({"jaar": "twee"}, errors.InputError, "geen jaartal"),
        ({"peildatum": "27-11-2026"}, errors.InputError, "JJJJ-MM-DD"),
        ({"rapport": "wonen"}, errors.InputError, "Onbekend rapport"),
        ({"vergelijk": ["Nergenshuizen"]}, errors.RegionNotFound, "Onbekende gemeente"),
    ],
)
def test_bad_input_fails_fast(tmp_path, monkeypatch, kwargs, error, match):

    def _never(*args, **kw):
        raise AssertionError("nothing may run on bad input")

    monkeypatch.setattr(runner, "run_notebook", _never)
    monkeypatch.setattr(reports, "run_job", _never)
    args = {"gemeente": "GM1969", "peildatum": PEILDATUM, "uit": tmp_path, **kwargs}
    with pytest.raises(error, match=match):
        reports.render_reports(**args)
    assert not list(tmp_path.iterdir())


def test_cli_report_bad_input_exit_code(capsys):
    from westerkwartier.cli import main

    assert main(["--offline", "report", "--gemeente", "Westerkwartir"]) == 3
    assert "Bedoelde u" in capsys.readouterr().err


def test_slug_and_report_names():
    assert reports.slug("Súdwest-Fryslân") == "sudwest-fryslan"
    assert reports.report_names("alle") == ["aantrekkelijkheid", "talent"]
    assert reports.report_names(["talent"]) == ["talent"]


# -- any municipality ---------------------------------------------------------------------------
@pytest.fixture(scope="session")
def smoke(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("smoke")
    return _render_all(out, SMOKE, rapport="aantrekkelijkheid")


def _visible_text(page: str) -> str:
    return htmllib.unescape(re.sub(r"<[^>]+>", " ", re.sub(r"<svg.*?</svg>", "", page, flags=re.S)))


def test_no_figure_is_shown_as_minus_zero(rendered, smoke):
    """A change too small to show is "±0,0", never "-0,0".

    Súdwest-Fryslân's share of owner-occupied homes once read "-0,0 %-punt sinds 2019".
    """
    pages = [*rendered["paths"].values(), *smoke.values()]
    assert any(p.parent.name == "sudwest-fryslan" for p in pages)
    for path in pages:
        text = _visible_text(path.read_text(encoding="utf-8"))
        assert not re.findall(r".{40}[-−]0,0+(?!\d).{20}", text), path


def test_thousands_are_written_the_dutch_way_in_text_titles_and_alt_texts(rendered, smoke):
    """ "per 1.000 inwoners", never CBS's "per 1 000": in sentences, tables, chart titles and
    alt texts (the catalogue's labels once kept CBS's spaces)."""
    spaced = re.compile(r"(?<![\d.,])\d{1,3}(?: \d{3})+(?![\d])")
    for path in [*rendered["paths"].values(), *smoke.values()]:
        page = re.sub(
            r"<(style|script)\b.*?</\1>", "", path.read_text(encoding="utf-8"), flags=re.S
        )
        texts = re.sub(r"<[^>]+>", "|", page).split("|") + re.findall(r'alt="([^"]*)"', page)
        found = [t for t in (htmllib.unescape(x) for x in texts) if spaced.search(t)]
        assert not found, (path, found[:3])
        squared = [t for t in texts if re.search(r"\bk?m2\b", t)]  # "adressen per km2"
        assert not squared, (path, squared[:3])


@pytest.mark.slow
@pytest.mark.parametrize("code", SMOKE)
def test_any_municipality_renders(smoke, code):
    text = smoke[(code, "aantrekkelijkheid")].read_text(encoding="utf-8")
    assert check_html(text) == []
    assert "Traceback" not in text
    assert len(re.findall(r"<img\b", text)) >= MIN_FIGURES["aantrekkelijkheid"]
