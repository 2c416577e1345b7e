"""Layout on a phone (390 px) and a laptop (1280 px), with screenshots as test artifacts."""

from __future__ import annotations

import pytest

PHONE = 390
DESKTOP = 1280

LAYOUT = """() => {
    const vw = window.innerWidth;
    const main = document.querySelector('main');
    const scrollBox = el => {
        for (let e = el; e && e !== document.body; e = e.parentElement) {
            const o = getComputedStyle(e).overflowX;
            if (o === 'auto' || o === 'scroll') return e;
        }
        return null;
    };
    const clipped = el => {
        for (let e = el.parentElement; e && e !== document.body; e = e.parentElement) {
            if (getComputedStyle(e).overflowX !== 'visible') return true;
        }
        return false;
    };
    const tables = [...document.querySelectorAll('table')].map((t, i) => {
        const box = scrollBox(t);
        const r = (box || t).getBoundingClientRect();
        let scrolls = false;
        if (box && box.scrollWidth > box.clientWidth) {
            box.scrollLeft = 40;
            scrolls = box.scrollLeft > 0;
            box.scrollLeft = 0;
        }
        return {
            index: i, text: t.innerText.trim().slice(0, 40), width: t.scrollWidth,
            box: box ? {client: box.clientWidth, scroll: box.scrollWidth} : null,
            left: r.left, right: r.right, scrolls,
        };
    });
    const sticking = [...document.body.querySelectorAll('*')]
        .filter(e => e.getClientRects().length && !clipped(e))
        .filter(e => {
            const r = e.getBoundingClientRect();
            return r.right > vw + 0.5 || r.left < -0.5;
        })
        .map(e => e.tagName.toLowerCase()
            + (e.className ? '.' + String(e.className).split(' ').join('.') : ''));
    return {
        vw, scrollWidth: document.scrollingElement.scrollWidth, tables, sticking,
        fontSize: parseFloat(getComputedStyle(document.body).fontSize),
        images: [...document.images].map(i => {
            const r = i.getBoundingClientRect();
            return {left: r.left, right: r.right};
        }),
        main: main ? main.getBoundingClientRect().width : null,
    };
}"""


def _check_fits(layout: dict) -> None:
    vw = layout["vw"]
    assert layout["scrollWidth"] <= vw, (
        f"the page scrolls sideways: {layout['scrollWidth']} px wide in a {vw} px window; "
        f"elements sticking out: {layout['sticking'][:10]}"
    )
    assert not layout["sticking"], f"elements sticking out of the window: {layout['sticking'][:10]}"
    for image in layout["images"]:
        assert image["left"] >= -0.5 and image["right"] <= vw + 0.5, f"image too wide: {image}"
    for table in layout["tables"]:
        assert table["box"] is not None, (
            f"table {table['text']!r} is not inside a box that scrolls sideways "
            "(overflow-x: auto); on a phone it would widen the page"
        )
        assert table["left"] >= -0.5 and table["right"] <= vw + 0.5, f"table box too wide: {table}"
        if table["width"] > table["box"]["client"] + 1:
            assert table["scrolls"], f"wide table {table['text']!r} cannot be scrolled: {table}"


@pytest.mark.parametrize("width", [PHONE, DESKTOP], ids=["390px", "1280px"])
def test_layout_and_screenshot(report, browse, artifacts, width):
    mobile = width == PHONE
    page = browse.open(report.url, width=width, height=844 if mobile else 900, mobile=mobile)
    shot = artifacts / "screenshots" / f"{report.spec.name}-{width}.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 1000
    layout = page.evaluate(LAYOUT)
    _check_fits(layout)
    assert layout["fontSize"] >= 16, f"body text of {layout['fontSize']} px is too small to read"
    if mobile and report.spec.wide_table:
        wide = [t for t in layout["tables"] if t["width"] > t["box"]["client"] + 1]
        assert wide and all(t["scrolls"] for t in wide), (
            "the fixture's wide table should be wider than a phone and scroll in its own box: "
            f"{layout['tables']}"
        )
    if not mobile and layout["main"] is not None:
        # A line of text stays readable: the column does not stretch over a wide window.
        assert layout["main"] <= 900, f"text column {layout['main']} px wide at {width} px"
