"""PDF copies of the reports, printed by headless Chromium (``westerkwartier report --pdf``).

The PDF is the page as the browser prints it: the print style sheet of the reports (A4,
sections on new pages, page 1 "In één oogopslag" on one page), the layout the browser tests
check. Chromium is Debian's package (``/usr/bin/chromium``; ``WESTERKWARTIER_CHROMIUM``
overrides the path, ``bash scripts/install-browser.sh`` installs it), driven through Playwright.
The page is opened from ``file://`` and any request that is not ``file:``/``data:`` is refused,
so printing never reaches the internet. Before it is printed, the soft hyphens at which no line
breaks on A4 are removed (:data:`DROP_UNUSED_SOFT_HYPHENS`): Chromium would write each of them
as a space into the PDF's text, and a reader searching the PDF for "arbeidsparticipatie" would
not find it. The HTML report keeps them all (its reader's window can be of any width). And
the chart of page 1 is made smaller, or left out, when page 1 would not hold it
(:data:`FIT_PAGE_ONE`).
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Sequence
from pathlib import Path

from westerkwartier.errors import PdfUnavailable

log = logging.getLogger(__name__)

#: Where Chromium is looked for, after ``WESTERKWARTIER_CHROMIUM``.
CHROMIUM_CANDIDATES: tuple[str, ...] = ("/usr/bin/chromium", "chromium", "chromium-browser")

#: Flags for a headless Chromium without sandbox, GPU or background traffic.
CHROMIUM_ARGS: list[str] = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

#: The printable box of A4 inside the reports' ``@page`` margins (18 mm x 15 mm), in CSS px
#: (96 per inch): the page is laid out at this size for print before the soft hyphens are
#: measured (:data:`DROP_UNUSED_SOFT_HYPHENS`).
A4_CONTENT_PX: dict[str, int] = {
    "width": round((210 - 2 * 15) / 25.4 * 96),
    "height": round((297 - 2 * 18) / 25.4 * 96),
}

#: JavaScript for the page laid out for print: remove every soft hyphen at which no line breaks
#: and return how many. Chromium prints a soft hyphen it does not use as a space in the PDF's
#: text ("Bevol kings groei" for "Bevolkingsgroei"), so a reader who searches or copies from
#: the PDF would not find such a word. A soft hyphen that does break a line stays and prints as
#: a hyphen. An unused soft hyphen has no width, so removing it changes no line of the page.
DROP_UNUSED_SOFT_HYPHENS = """() => {
    const line = (node, at) => {
        const range = document.createRange();
        range.setStart(node, at);
        range.setEnd(node, at + 1);
        const boxes = [...range.getClientRects()];
        return boxes.length ? Math.round(boxes[boxes.length - 1].top) : null;
    };
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    const nodes = [];
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        if (node.data.includes('\\u00ad')) nodes.push(node);
    }
    let dropped = 0;
    for (const node of nodes) {
        const text = node.data;
        let kept = '';
        for (let i = 0; i < text.length; i++) {
            if (text[i] === '\\u00ad' && i > 0 && i + 1 < text.length) {
                const before = line(node, i - 1);
                if (before !== null && before === line(node, i + 1)) {
                    dropped += 1;
                    continue;
                }
            }
            kept += text[i];
        }
        if (kept !== text) node.data = kept;
    }
    return dropped;
}"""

#: The smallest height, in CSS px, to which :data:`FIT_PAGE_ONE` shrinks the chart of page 1
#: (3,6 cm; the print style sheet gives it 4,8 cm). Smaller, its numbers would be too small
#: to read.
PAGE_ONE_CHART_MIN_PX: int = round(36 / 25.4 * 96)

#: JavaScript for the page laid out for print, given the printable height of a page in CSS px:
#: keep page 1 ("In één oogopslag") on one page. The header and the glance are as long as
#: their texts: a notice ("CBS was niet bereikbaar", a scheduled run's message) and long
#: findings pushed the chart of page 1 onto a page of its own, before the themes. The chart
#: shrinks until page 1 holds it, down to :data:`PAGE_ONE_CHART_MIN_PX`; below that it is
#: left out of the PDF (the same chart stands in its theme, as its alt text says). Returns
#: "past", "verkleind", "weggelaten" or "geen grafiek".
FIT_PAGE_ONE = """([pageHeight, minHeight]) => {
    const figure = document.querySelector('section.oogopslag figure.oogopslag-grafiek');
    const img = figure ? figure.querySelector('img') : null;
    if (!img) return 'geen grafiek';
    const bottom = () => figure.getBoundingClientRect().bottom + window.scrollY;
    const over = bottom() - pageHeight;
    if (over <= 0) return 'past';
    const height = img.getBoundingClientRect().height - over - 2;
    if (height >= minHeight) {
        img.style.maxHeight = height + 'px';
        if (bottom() <= pageHeight) return 'verkleind';
    }
    figure.style.display = 'none';
    return 'weggelaten';
}"""

_INSTALL = (
    "Installeer Chromium met `bash scripts/install-browser.sh` (of zet "
    "WESTERKWARTIER_CHROMIUM op het pad van een Chromium), of laat --pdf weg: de HTML-rapporten "
    "worden ook zonder PDF gemaakt."
)


def find_chromium() -> Path:
    """Return the Chromium executable to print with.

    Raises
    ------
    PdfUnavailable
        Playwright is not installed, or no Chromium was found.
    """
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        raise PdfUnavailable(
            "Geen PDF mogelijk: het Python-pakket playwright ontbreekt. Installeer het met "
            "`pip install 'westerkwartier[pdf]'` (`make test` installeert het ook). "
            f"{_INSTALL}"
        ) from None
    given = os.environ.get("WESTERKWARTIER_CHROMIUM")
    candidates = [given] if given else list(CHROMIUM_CANDIDATES)
    for name in candidates:
        found = shutil.which(name) if name else None
        if found:
            return Path(found)
    where = given or ", ".join(CHROMIUM_CANDIDATES)
    raise PdfUnavailable(f"Geen PDF mogelijk: Chromium niet gevonden ({where}). {_INSTALL}")


def write_pdfs(pages: Sequence[Path], chromium: Path | None = None) -> list[Path]:
    """Print each HTML page to a PDF beside it (``talent.html`` -> ``talent.pdf``).

    Parameters
    ----------
    pages : sequence of Path
        Report pages (self-contained HTML).
    chromium : Path, optional
        Default :func:`find_chromium`.

    Returns
    -------
    list of Path
        The PDFs written.

    Raises
    ------
    PdfUnavailable
        No Chromium or Playwright, or Chromium failed to start or print.
    """
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    chromium = chromium or find_chromium()
    written: list[Path] = []
    try:
        with sync_playwright() as play:
            browser = play.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
            try:
                for page_path in pages:
                    tab = browser.new_page(
                        viewport={
                            "width": A4_CONTENT_PX["width"],
                            "height": A4_CONTENT_PX["height"],
                        }
                    )
                    tab.emulate_media(media="print")
                    tab.route(
                        "**/*",
                        lambda route: (
                            route.continue_()
                            if route.request.url.startswith(("file:", "data:"))
                            else route.abort()
                        ),
                    )
                    tab.goto(Path(page_path).resolve().as_uri(), wait_until="load")
                    tab.evaluate(DROP_UNUSED_SOFT_HYPHENS)
                    fitted = tab.evaluate(
                        FIT_PAGE_ONE, [A4_CONTENT_PX["height"], PAGE_ONE_CHART_MIN_PX]
                    )
                    if fitted in ("verkleind", "weggelaten"):
                        log.info(
                            "%s: grafiek van pagina 1 %s om pagina 1 op één A4 te houden",
                            page_path,
                            fitted,
                        )
                    data = tab.pdf(format="A4", print_background=True)
                    tab.close()
                    target = Path(page_path).with_suffix(".pdf")
                    partial = target.with_name(f".{target.name}.tmp")
                    partial.write_bytes(data)
                    os.replace(partial, target)  # readers never see half a PDF
                    written.append(target)
            finally:
                browser.close()
    except PlaywrightError as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise PdfUnavailable(
            f"Geen PDF gemaakt: Chromium ({chromium}) kon niet starten of printen ({first}). "
            f"{_INSTALL}"
        ) from None
    return written


__all__ = [
    "A4_CONTENT_PX",
    "CHROMIUM_ARGS",
    "DROP_UNUSED_SOFT_HYPHENS",
    "FIT_PAGE_ONE",
    "PAGE_ONE_CHART_MIN_PX",
    "find_chromium",
    "write_pdfs",
]
