"""Every report and the index open offline in Chromium: clean, Dutch, titled, images loaded."""

from __future__ import annotations

import re
from pathlib import Path

PAGE_FACTS = """() => ({
    lang: document.documentElement.getAttribute('lang'),
    title: document.title,
    h1: [...document.querySelectorAll('h1')].map(h => h.innerText.trim()),
    scripts: document.scripts.length,
    images: [...document.images].map(i => ({
        complete: i.complete, width: i.naturalWidth, height: i.naturalHeight,
        src: i.getAttribute('src').slice(0, 40),
    })),
})"""


def test_opens_offline_clean_dutch_and_titled(report, browse):
    # The browse fixture fails the test on any console error, script error, failed request or
    # request that is not file:/data: (those are blocked, so the page cannot reach the internet).
    page = browse.open(report.url)
    facts = page.evaluate(PAGE_FACTS)
    html = report.path.read_text(encoding="utf-8")
    stated = re.search(r'data-peiljaar="(\d{4})"', html)
    year = stated.group(1) if stated else "{jaar}"
    assert facts["lang"] == "nl"
    assert facts["title"] == report.spec.expected_title(html)
    assert facts["title"].strip() and not facts["title"].lower().endswith(".ipynb")
    assert len(facts["h1"]) == 1, f"expected one <h1>, found {facts['h1']}"
    if report.spec.h1 is not None:
        assert facts["h1"][0] == report.spec.h1.replace("{jaar}", year)
    assert facts["h1"][0], "the <h1> is empty"
    assert facts["scripts"] == 0, "reports carry no JavaScript"
    assert len(facts["images"]) == len(re.findall(r"<img\b", html))
    broken = [i for i in facts["images"] if not (i["complete"] and i["width"] > 0)]
    assert not broken, f"images that did not load: {broken}"


def test_notebook_reports_show_their_figures(notebook_report, browse):
    page = browse.open(notebook_report.url)
    widths = page.evaluate("() => [...document.images].map(i => i.naturalWidth)")
    assert widths, "a report without a single figure: were figures lost (MPLBACKEND=agg)?"
    assert all(w > 0 for w in widths)


def test_index_links_every_report_and_each_link_opens(rendered, browse):
    index = rendered["index"]
    page = browse.open(index.url)
    links = page.evaluate(
        "() => [...document.querySelectorAll('main a[href]')]"
        ".map(a => ({href: a.getAttribute('href'), url: a.href, text: a.innerText.trim()}))"
    )
    # A notebook that failed to render fails its own tests; the index lists the others.
    reports = {r.spec.relpath: r for n, r in rendered.items() if n != "index" and not r.error}
    assert sorted(link["href"] for link in links) == sorted(reports)
    for link in links:
        assert link["url"].startswith("file://")
        target = reports[link["href"]]
        assert Path(target.path).is_file()
        assert link["text"] == target.spec.title
        opened = browse.open(link["url"])
        assert opened.title() == target.spec.expected_title(
            Path(target.path).read_text(encoding="utf-8")
        )


def test_the_csv_link_saves_the_table_of_the_page(rendered, browse):
    """ "download als CSV" saves the page's CSV byte for byte (Excel's BOM, ë and â) by name."""
    from urllib.parse import unquote_to_bytes

    from westerkwartier.reporting import downloads

    report = rendered["aantrekkelijkheid"]
    assert report.error is None, report.error
    page = browse.open(report.url)
    link = page.locator("a[download]")
    with page.expect_download() as info:
        link.click()
    saved = Path(info.value.path()).read_bytes()
    assert info.value.suggested_filename == link.get_attribute("download")
    href = link.get_attribute("href")
    assert saved == unquote_to_bytes(href.removeprefix(downloads.CSV_PREFIX))
    text = saved.decode("utf-8")
    assert text.startswith("\ufeff" + ";".join(downloads.COLUMNS)) and "ë" in text
    table = downloads.read_csv_text(text)
    html = report.path.read_text(encoding="utf-8")
    assert len(table) > 50 and table.equals(downloads.csv_from_page(html))
