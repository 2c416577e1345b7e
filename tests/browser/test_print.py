"""Printing: every report prints to a multi-page PDF with its text and figures, nothing cut off."""

from __future__ import annotations

import base64
import html
import io
import re
import unicodedata

#: Printable box of A4 with the report's @page margins (18 mm x 15 mm), in CSS px (96 per inch).
A4_WIDTH_PX = round((210 - 2 * 15) / 25.4 * 96)
A4_HEIGHT_PX = round((297 - 2 * 18) / 25.4 * 96)

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
    """Text without white space, ligatures unfolded (the PDF has "ﬁ" for "fi")."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


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
