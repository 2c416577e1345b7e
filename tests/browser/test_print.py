"""Printing: every report prints to a multi-page PDF with its text and figures, nothing cut off."""

from __future__ import annotations

import base64
import html
import io
import re
import unicodedata
from itertools import pairwise

import pytest

from westerkwartier.pipeline.pdf import A4_CONTENT_PX

#: Printable box of A4 with the report's @page margins (18 mm x 15 mm), in CSS px (96 per inch):
#: the size ``report --pdf`` lays a page out at before it prints it.
A4_WIDTH_PX = A4_CONTENT_PX["width"]
A4_HEIGHT_PX = A4_CONTENT_PX["height"]

PRINT_FACTS = """() => {
    const main = document.querySelector('main') || document.body;
    const width = main.getBoundingClientRect().right;
    const box = e => e.getBoundingClientRect();
    const all = selector => document.querySelectorAll(selector);
    return {
        right: width,
        images: [...document.images]
            .map(i => ({w: box(i).width, h: box(i).height, right: box(i).right,
                        svg: i.src.startsWith('data:image/svg+xml;base64,') ? i.src : null})),
        figures: [...all('figure')].map(f => getComputedStyle(f).breakInside),
        h2: [...all('h2')]
            .map(h => ({text: h.innerText.trim(), before: getComputedStyle(h).breakBefore})),
        headings: [...all('h1,h2,h3')].map(h => h.innerText.trim()),
        paragraphs: [...all('main p, main pre, main td')]
            .filter(p => !p.closest('.alleen-scherm'))  // links and contents: screen only
            .map(p => p.innerText.trim()).filter(Boolean),
        tables: [...all('table')]
            .map(t => ({text: t.innerText.trim().slice(0, 40), right: box(t).right})),
        fontSize: parseFloat(getComputedStyle(document.body).fontSize),
        scrollWidth: document.scrollingElement.scrollWidth,
    };
}"""


def _image_count(page) -> int:
    """Image XObjects drawn on a PDF page (also inside form XObjects), without decoding them."""

    def count(resources, seen: set[int]) -> int:
        xobjects = (resources or {}).get("/XObject") or {}
        total = 0
        for ref in xobjects.values():
            key = getattr(ref, "idnum", None) or id(ref)
            if key in seen:
                continue
            seen.add(key)
            obj = ref.get_object()
            if obj.get("/Subtype") == "/Image":
                total += 1
            elif obj.get("/Subtype") == "/Form":
                total += count(obj.get("/Resources"), seen)
        return total

    return count(page.get("/Resources"), set())


def _squash(text: str) -> str:
    """Text without white space and soft hyphens, ligatures unfolded ("ﬁ" for "fi")."""
    return re.sub(r"[\s\u00ad]+", "", unicodedata.normalize("NFKC", text))


def test_print_stylesheet(report, browse):
    page = browse.open(report.url, width=A4_WIDTH_PX, height=A4_HEIGHT_PX, media="print")
    facts = page.evaluate(PRINT_FACTS)
    assert facts["fontSize"] >= 13, f"printed text of {facts['fontSize']} px (< 10 pt)"
    for image in facts["images"]:
        assert image["right"] <= A4_WIDTH_PX + 0.5, f"figure cut off at the right edge: {image}"
        assert image["h"] <= A4_HEIGHT_PX, f"figure taller than a page: {image}"
    assert all(b == "avoid" for b in facts["figures"]), f"figures may break: {facts['figures']}"
    for table in facts["tables"]:
        assert table["right"] <= A4_WIDTH_PX + 0.5, f"table wider than the paper: {table}"
    # Anything wider than the paper is cut off, or makes Chrome shrink every page to fit it.
    assert facts["scrollWidth"] <= A4_WIDTH_PX, f"content wider than the paper: {facts}"
    # Each section starts on a new page; the first may share the title's page.
    for h2 in facts["h2"][1:]:
        assert h2["before"] == "page", f"section {h2['text']!r} does not start on a new page"


def test_prints_to_pdf_with_text_and_figures(report, browse, artifacts):
    from pypdf import PdfReader

    page = browse.open(report.url)
    facts = page.evaluate(PRINT_FACTS)
    out = artifacts / "pdf" / f"{report.spec.name}.pdf"
    out.parent.mkdir(parents=True, exist_ok=True)
    data = page.pdf(path=str(out), format="A4", print_background=True)
    reader = PdfReader(io.BytesIO(data))
    pages = len(reader.pages)
    assert pages >= report.spec.min_pages, (
        f"{pages} page(s) printed; expected at least {report.spec.min_pages}"
    )
    texts = [p.extract_text() or "" for p in reader.pages]
    image_counts = [_image_count(p) for p in reader.pages]
    blank = [
        n + 1
        for n, (t, i) in enumerate(zip(texts, image_counts, strict=True))
        if not t.strip() and not i
    ]
    assert not blank, f"blank page(s) {blank} in the PDF"
    printed = _squash("".join(texts))
    missing = [t for t in facts["headings"] + facts["paragraphs"] if _squash(t) not in printed]
    assert not missing, f"text not found in the PDF (not extractable or cut off): {missing[:5]}"
    raster = [i for i in facts["images"] if not i["svg"]]
    assert sum(image_counts) >= len(raster), (
        f"{len(raster)} raster figure(s) on the page but {sum(image_counts)} image(s) in the PDF"
    )
    # a vector figure (SVG) prints as vector drawing with its own text: find that text
    for image in facts["images"]:
        if image["svg"]:
            words = _svg_texts(image["svg"])
            assert words, "an SVG figure without text (title, axes, source)"
            lost = [w for w in words if _squash(w) not in printed]
            assert not lost, f"text of an SVG figure not in the PDF: {lost[:5]}"


def _svg_texts(src: str) -> list[str]:
    """The ``<text>`` contents of an SVG in a data URL."""
    svg = base64.b64decode(src.split(",", 1)[1]).decode("utf-8")
    found = re.findall(r"<text\b[^>]*>(.*?)</text>", svg, flags=re.S)
    return [html.unescape(re.sub(r"<[^>]+>", "", t)).strip() for t in found if t.strip()]


#: A JavaScript function: the words of the elements' text that are split over two lines. A
#: word may break at a soft hyphen or "-"; the line of a character is that of its last box
#: (a hyphen drawn at a soft hyphen just before it has a box on the line above).
SPLIT_WORDS = """const splitWords = elements => {
    const split = [];
    for (const element of elements) {
        const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            const line = at => {
                const range = document.createRange();
                range.setStart(node, at);
                range.setEnd(node, at + 1);
                const boxes = [...range.getClientRects()];
                return Math.round(boxes[boxes.length - 1].top);
            };
            const re = /[^\\s\\u00ad-]+/g;
            let m;
            while ((m = re.exec(node.data)) !== null) {
                if (line(m.index) !== line(m.index + m[0].length - 1)) split.push(m[0]);
            }
        }
    }
    return split;
};"""

#: A JavaScript function: the amounts in euro ("€ 300.500", "+€ 88.000") and ranges ("(5–95%)")
#: in the elements' text that are split over two lines (at the space after "€", between "+" and
#: "€", after the dash).
SPLIT_AMOUNTS = """const splitAmounts = elements => {
    const split = [];
    for (const element of elements) {
        const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            const re = /[+\\-±]?€ -?\\d[\\d.]*(,\\d+)?|\\(?-?\\d[\\d.,]*%?–-?\\d[\\d.,]*%?\\)?/g;
            let m;
            while ((m = re.exec(node.data)) !== null) {
                const range = document.createRange();
                range.setStart(node, m.index);
                range.setEnd(node, m.index + m[0].length);
                const lines = new Set([...range.getClientRects()]
                    .filter(box => box.width > 0).map(box => Math.round(box.bottom)));
                if (lines.size > 1) split.push(m[0]);
            }
        }
    }
    return split;
};"""

SCORECARD_PRINT = f"""() => {{
    {SPLIT_WORDS}
    {SPLIT_AMOUNTS}
    // text wider than its cell, words of the column heads, the assessments and the wijk
    // figures split over two lines, and notes printed larger than the value above them
    const split = [];
    const larger = [];
    const over = [];
    const wijken = [...document.querySelectorAll('table.wijken.alle')];
    for (const table of [...document.querySelectorAll('table.scorekaart'), ...wijken]) {{
        const wijk = table.classList.contains('alle');
        for (const cell of table.querySelectorAll(wijk ? 'th, td' : 'th, td:last-child')) {{
            if (cell.scrollWidth > cell.clientWidth + 1) over.push(cell.innerText);
        }}
        // a wijk's name and remark may break a word that does not fit; in a scorecard no
        // word breaks (an indicator's name only at its soft hyphens)
        const whole = wijk ? 'thead th, td:not(.opmerking)' : 'th, td';
        split.push(...splitWords(table.querySelectorAll(whole)));
        for (const note of table.querySelectorAll('td .klein')) {{
            const value = parseFloat(getComputedStyle(note.parentElement).fontSize);
            if (parseFloat(getComputedStyle(note).fontSize) > value) larger.push(note.innerText);
        }}
    }}
    // amounts and ranges in any table (the peers table's head "Rang op de index (5–95%)")
    split.push(...splitAmounts(document.querySelectorAll('main table th, main table td')));
    return {{tables: document.querySelectorAll('table.scorekaart').length, wijken: wijken.length,
            split, larger, over}};
}}"""


@pytest.mark.parametrize("name", ["talent", "aantrekkelijkheid"])
def test_scorecards_print_whole_words_and_small_notes(name, rendered, browse):
    """On A4 scorecards keep their heads and verdicts whole, the wijk table its numbers.

    With automatic column widths Chrome squeezed the verdict column to "aanda / chtspu / nt",
    and the notes under each value (sized in rem) printed larger than the 8.5pt value. The
    table of all wijken printed "11.73 / 5" inhabitants and "Inwo / ners". An indicator's
    name breaks only at a soft hyphen ("Betalings- / achterstand"), not as "Betalingsacht /
    erstand"; no word of any other cell breaks either (Westerkwartier's "(zonder Westerwolde"
    / ")"). An amount or a range stays on one line: every report printed "€ / 300.500" and
    "+€ / 88.000" in its housing scorecard, and "(5– / 95%)" in the head of its peers table.
    No cell's text may run out of its cell either.
    """
    report = rendered[name]
    assert report.error is None, report.error
    page = browse.open(report.url, width=A4_WIDTH_PX, height=A4_HEIGHT_PX, media="print")
    facts = page.evaluate(SCORECARD_PRINT)
    assert facts["tables"] >= 3 and facts["wijken"] == (name == "talent"), facts
    assert not facts["split"], f"words split over two lines: {facts['split'][:10]}"
    assert not facts["over"], f"text wider than its cell: {facts['over'][:5]}"
    assert not facts["larger"], f"notes larger than their value: {facts['larger'][:5]}"


WIJK_PRINT = f"""() => {{
    {SPLIT_WORDS}
    // words of the wijk table split over two lines (a name only at its soft hyphens; a
    // remark may break a word that does not fit) and text wider than its cell or the paper
    const tables = [...document.querySelectorAll('table.wijken')];
    const cells = tables.flatMap(t => [...t.querySelectorAll('th, td:not(.opmerking)')]);
    return {{
        tables: tables.map(t => t.className),
        split: splitWords(cells),
        over: cells.filter(c => c.scrollWidth > c.clientWidth + 1).map(c => c.innerText),
        right: Math.max(...tables.map(t => t.getBoundingClientRect().right)),
    }};
}}"""


@pytest.mark.parametrize(
    ("gemeente", "kind"),
    [
        ("Amsterdam", "alle"),  # 83 of 110 wijken compared under their code of 2020
        ("Land van Cuijk", "alle"),
        ("Papendrecht", "niveau"),  # no wijk comparable, one reason for all
        ("Almere", "niveau"),  # with a remark column: the reasons differ per wijk
        ("Tytsjerksteradiel", "alle"),
    ],
)
def test_wijk_tables_print_names_and_numbers_whole(gemeente, kind, browse, tmp_path):
    """Long names break at syllables; a merger's table has no empty columns.

    Printed, Amsterdam's table broke "Haarlemmerbu / urt", Tytsjerksteradiel's its own name
    in the row of the whole municipality, and Amsterdam's gave each of its 110 wijken
    the same eight-line remark, because no wijk code of 2024 existed in 2020; so did every
    municipality merged since (Land van Cuijk). Such tables show 2024 only; Amsterdam's and
    Land van Cuijk's now compare most wijken under their code of 2020 (a full table).
    """
    from westerkwartier.reporting import wijk_sections as ws
    from westerkwartier.reporting.html import report_css

    section = ws.load_wijk_section(gemeente)
    page = tmp_path / "wijken.html"
    page.write_text(
        f'<!DOCTYPE html><html lang="nl"><head><meta charset="utf-8"><title>w</title>'
        f'<style>{report_css()}</style></head><body><main class="rapport">'
        f"{ws.wijk_table(section)}</main></body></html>",
        encoding="utf-8",
    )
    tab = browse.open(page.as_uri(), width=A4_WIDTH_PX, height=A4_HEIGHT_PX, media="print")
    facts = tab.evaluate(WIJK_PRINT)
    assert facts["tables"] == [f"wijken {kind}"], facts["tables"]
    assert not facts["split"], f"words split over two lines: {facts['split'][:10]}"
    assert not facts["over"], f"text wider than its cell: {facts['over'][:5]}"
    assert facts["right"] <= A4_WIDTH_PX + 1, facts["right"]


TILE_WORDS = f"""() => {{
    {SPLIT_WORDS}
    // words of the headline figures' labels on page 1 split over two lines
    const labels = document.querySelectorAll('ul.kopcijfers .wat');
    return {{labels: labels.length, split: splitWords(labels)}};
}}"""


@pytest.mark.parametrize("name", ["talent", "aantrekkelijkheid"])
@pytest.mark.parametrize("width", [390, 1280])
def test_page_one_labels_break_only_at_syllables(name, width, rendered, browse):
    """Four narrow tiles a row: a long label word breaks at a Dutch syllable, with a hyphen.

    Debian's Chromium (which also prints the PDFs) has no Dutch hyphenation dictionary, so
    "Netto arbeidsparticipatie" broke as "arbeidsparticipati / e" before the labels got soft
    hyphens.
    """
    report = rendered[name]
    assert report.error is None, report.error
    page = browse.open(report.url, width=width, height=900, mobile=width < 500)
    facts = page.evaluate(TILE_WORDS)
    assert facts["labels"] >= 3, facts
    assert not facts["split"], f"label words split over two lines: {facts['split']}"


GLANCE_FACTS = """() => {
    const part = document.querySelector('section.oogopslag');
    const texts = [...part.querySelectorAll('li, h2')].map(e => e.innerText.trim());
    return {
        texts: texts,
        images: [...part.querySelectorAll('img'),
                 ...document.querySelectorAll('header.rapport-kop img')]
            .map(i => i.src.startsWith('data:image/svg+xml;base64,') ? i.src : null),
        width: part.scrollWidth,
        box: part.getBoundingClientRect().width,
        next: [...document.querySelectorAll('h2')][1].innerText.trim(),
    };
}"""


#: The notice a report made in default mode without CBS carries at the top (the text of
#: ``pipeline.batch``), two lines more at the top of page 1.
CBS_UNREACHABLE = (
    '<div class="melding" role="note"><strong>Let op:</strong> CBS was niet bereikbaar toen '
    "dit rapport werd gemaakt. De cijfers komen uit de opgeslagen gegevens (cache of offline "
    "snapshot) met gegevens tot 23 juni 2026; nieuwere CBS-cijfers kunnen ontbreken.</div>"
)


def _with_notice(report, folder, notice: str = CBS_UNREACHABLE):
    """A copy of ``report``'s page with ``notice`` under the subtitle, as in default mode."""
    text = report.path.read_text(encoding="utf-8")
    head, sep, rest = text.partition('<p class="ondertitel">')
    end = rest.index("</p>") + len("</p>")
    assert sep and 'class="melding"' not in text
    copy = folder / report.path.name
    copy.write_text(head + sep + rest[:end] + notice + rest[end:], encoding="utf-8")
    return copy


@pytest.mark.parametrize("notice", [False, True], ids=["offline", "cbs-onbereikbaar"])
@pytest.mark.parametrize("name", ["talent", "aantrekkelijkheid"])
def test_page_one_is_the_glance_on_one_a4_page(name, notice, rendered, browse, artifacts, tmp_path):
    """Header and "In één oogopslag" print on page 1 together; the themes start on page 2.

    Also in default mode, when CBS was unreachable and a notice says so: in the print style
    sheet's grid the header's facts took four lines each, and with the notice Westerkwartier's
    page 1 chart went to a page of its own.
    """
    from pypdf import PdfReader

    report = rendered[name]
    assert report.error is None, report.error
    url = _with_notice(report, tmp_path).resolve().as_uri() if notice else report.url
    page = browse.open(url)
    facts = page.evaluate(GLANCE_FACTS)
    data = page.pdf(format="A4", print_background=True)
    reader = PdfReader(io.BytesIO(data))
    first, second = (_squash(reader.pages[i].extract_text() or "") for i in (0, 1))
    for text in facts["texts"]:
        assert _squash(text) in first, f"not on page 1: {text!r}"
    raster = [i for i in facts["images"] if i is None]
    vector = [i for i in facts["images"] if i is not None]
    assert len(facts["images"]) >= 1, "no chart in the glance"
    assert _image_count(reader.pages[0]) == len(raster), "a raster chart is not on page 1"
    for src in vector:  # an SVG chart prints as a drawing with its text
        lost = [w for w in _svg_texts(src) if _squash(w) not in first]
        assert not lost, f"an SVG chart is not on page 1: {lost[:5]}"
    assert second.startswith(_squash(facts["next"])), "page 2 does not start the themes"
    # and on a phone the section does not scroll sideways
    phone = browse.open(url, width=390, height=844, mobile=True)
    narrow = phone.evaluate(GLANCE_FACTS)
    assert narrow["width"] <= narrow["box"] + 0.5, narrow
    assert phone.evaluate("document.scrollingElement.scrollWidth") <= 390
    shot = f"{name}-pagina1-390{'-melding' if notice else ''}.png"
    phone.screenshot(path=str(artifacts / "screenshots" / shot))


FIT_FACTS = """() => {
    const figure = document.querySelector('section.oogopslag figure.oogopslag-grafiek');
    return {bottom: figure.getBoundingClientRect().bottom + window.scrollY,
            height: figure.querySelector('img').getBoundingClientRect().height,
            shown: getComputedStyle(figure).display !== 'none'};
}"""


@pytest.mark.parametrize(
    ("extra", "outcome"), [(-5, "past"), (30, "verkleind"), (400, "weggelaten")]
)
def test_the_pdf_keeps_page_one_on_one_page(rendered, browse, tmp_path, extra, outcome):
    """``write_pdfs`` makes the chart of page 1 smaller when page 1 would not hold it, and
    leaves it out when it would become too small to read (it stands in its theme as well);
    never does the chart go to a page of its own before the themes."""
    from westerkwartier.pipeline.pdf import FIT_PAGE_ONE, PAGE_ONE_CHART_MIN_PX

    report = rendered["aantrekkelijkheid"]
    assert report.error is None, report.error
    page = browse.open(report.url, width=A4_WIDTH_PX, height=A4_HEIGHT_PX, media="print")
    before = page.evaluate(FIT_FACTS)
    room = A4_HEIGHT_PX - before["bottom"]
    assert room >= 0 and before["shown"], before
    # a block in the header makes page 1 overflow by ``extra`` px
    page.evaluate(
        "h => { const d = document.createElement('div'); d.style.height = h + 'px';"
        " document.querySelector('header.rapport-kop').append(d); }",
        room + extra,
    )
    assert page.evaluate(FIT_PAGE_ONE, [A4_HEIGHT_PX, PAGE_ONE_CHART_MIN_PX]) == outcome
    after = page.evaluate(FIT_FACTS)
    if outcome == "weggelaten":
        assert not after["shown"]
    else:
        assert after["shown"] and after["bottom"] <= A4_HEIGHT_PX, after
        assert PAGE_ONE_CHART_MIN_PX <= after["height"] <= before["height"], (before, after)
        assert (after["height"] < before["height"]) == (outcome == "verkleind")


def test_report_pdf_of_an_overfull_page_one_starts_the_themes_on_page_two(rendered, tmp_path):
    """End to end through ``write_pdfs``: a page 1 that holds too much prints without its
    chart, and page 2 starts with the first theme, not with the chart. (Four notices: the
    header and the findings still fit, the chart at its smallest would not.)"""
    from pypdf import PdfReader

    report = rendered["aantrekkelijkheid"]
    assert report.error is None, report.error
    page = _with_notice(report, tmp_path, CBS_UNREACHABLE * 4)
    pdf = _write_pdf_apart(page, timeout=300)
    second = PdfReader(pdf).pages[1].extract_text() or ""
    assert _squash(second).startswith(_squash("Vestigingsklimaat")), second[:80]


def _write_pdf_apart(page, *, timeout: float) -> str:
    """Print ``page`` with ``write_pdfs`` in a process of its own; return the PDF's path.

    This process already drives Chromium through Playwright for the other tests.
    """
    import subprocess
    import sys

    code = (
        "import sys; from pathlib import Path; from westerkwartier.pipeline.pdf import "
        "write_pdfs; print(write_pdfs([Path(sys.argv[1])])[0])"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(page)], capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_report_pdf_option_prints_with_chromium(tmp_path):
    """``report --pdf`` prints through the same Chromium; external requests are refused.

    A soft hyphen that breaks no line is gone from the PDF: Chromium printed it as a space in
    the PDF's text, so "Netto arbeidsparticipatie" read "Netto arbeids par ti ci pa tie" to a
    reader who searched or copied it. One that breaks a line still prints as a hyphen.

    Run in a process of its own (:func:`_write_pdf_apart`).
    """
    from pypdf import PdfReader

    page = tmp_path / "rapport.html"
    page.write_text(
        '<!DOCTYPE html><html lang="nl"><head><meta charset="utf-8"><title>T</title></head>'
        "<body><h1>Talent in Westerkwartier</h1><p>Een alinea.</p>"
        "<p>Netto arbeids&shy;par&shy;ti&shy;ci&shy;pa&shy;tie en bevol&shy;kings&shy;groei</p>"
        '<p style="width: 4em">Wijk&shy;ver&shy;nieu&shy;wings&shy;plan</p>'
        '<img src="https://example.org/x.png" alt="extern"></body></html>',
        encoding="utf-8",
    )
    pdf = tmp_path / "rapport.pdf"
    assert _write_pdf_apart(page, timeout=120) == str(pdf)
    text = PdfReader(pdf).pages[0].extract_text()
    assert "Talent in Westerkwartier" in text and "Een alinea." in text
    assert "Netto arbeidsparticipatie en bevolkingsgroei" in text
    # the narrow paragraph breaks at syllables, with a hyphen at the end of a line
    narrow = text[text.index("Wijk") : text.index("plan") + len("plan")].splitlines()
    assert _squash("".join(narrow)).replace("\u2010", "") == "Wijkvernieuwingsplan", narrow
    assert len(narrow) >= 3, narrow
    assert all(line.rstrip().endswith("\u2010") for line in narrow[:-1]), narrow


def test_report_pdf_has_no_word_split_by_an_unused_soft_hyphen(rendered, tmp_path):
    """In the PDF of a whole report no word of the page reads as syllables with spaces.

    The talent report's labels, scorecards and wijk names have soft hyphens; before
    ``write_pdfs`` removed the unused ones, its PDF read "Netto arbeids par ti ci pa tie".
    """
    import shutil

    from pypdf import PdfReader

    report = rendered["talent"]
    assert report.error is None, report.error
    page = tmp_path / "talent.html"
    shutil.copy(report.path, page)
    text = html.unescape(re.sub(r"<[^>]+>", " ", page.read_text(encoding="utf-8")))
    words = {w for w in re.findall(r"[^\s\u00ad]+(?:\u00ad[^\s\u00ad]+)+", text)}
    assert len(words) >= 10, words
    assert _write_pdf_apart(page, timeout=300) == str(tmp_path / "talent.pdf")
    printed = " ".join(p.extract_text() or "" for p in PdfReader(tmp_path / "talent.pdf").pages)
    split = sorted(
        {
            w.replace("\u00ad", "-")
            for w in words
            for a, b in pairwise(w.split("\u00ad"))
            if f"{a} {b}" in printed
        }
    )
    assert not split, f"words printed with spaces at their soft hyphens: {split[:10]}"
