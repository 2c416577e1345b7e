"""Accessibility in the browser: alt texts, heading order, table headers, contrast, axe-core."""

from __future__ import annotations

import json
import re

import pytest

#: Text shorter than this says too little about a chart to someone who cannot see it.
MIN_ALT = 20
#: WCAG 2.1 AA for normal text; the house palette is held to it for all text, large or small.
MIN_CONTRAST = 4.5
#: axe-core impacts that fail a test (moderate and minor are written to the artifact only).
FAILING_IMPACTS = {"serious", "critical"}

_FILENAME = re.compile(
    r"^[\w\-. /\\]+\.(png|jpe?g|gif|svg|webp)$|^(image|figure|grafiek|plot)\s*\d*$", re.I
)


def test_figures_have_meaningful_alt_text(report, browse):
    page = browse.open(report.url)
    alts = page.evaluate(
        "() => [...document.images].map(i => ({alt: i.getAttribute('alt'), src: i.src.slice(-60)}))"
    )
    problems = []
    for image in alts:
        alt = (image["alt"] or "").strip()
        if len(alt) <= MIN_ALT:
            problems.append(f"alt text {alt!r} is missing or too short (> {MIN_ALT} characters)")
        elif _FILENAME.match(alt) or "base64" in alt or alt.startswith("<"):
            problems.append(f"alt text {alt!r} is a file name or placeholder, not a description")
    texts = [(i["alt"] or "").strip() for i in alts]
    repeated = {t for t in texts if t and texts.count(t) > 1}
    if repeated:
        problems.append(f"different figures share one alt text: {sorted(repeated)}")
    assert not problems, "\n".join(problems)


def test_headings_are_in_order(report, browse):
    page = browse.open(report.url)
    headings = page.evaluate(
        "() => [...document.querySelectorAll('h1,h2,h3,h4,h5,h6')]"
        ".filter(h => h.getClientRects().length > 0)"
        ".map(h => ({level: Number(h.tagName[1]), text: h.innerText.trim()}))"
    )
    assert headings and headings[0]["level"] == 1, f"the first heading must be an h1: {headings}"
    assert [h["level"] for h in headings].count(1) == 1, "exactly one h1 per page"
    for before, after in zip(headings, headings[1:], strict=False):
        assert after["level"] <= before["level"] + 1, (
            f"heading level skipped: h{before['level']} {before['text']!r} is followed by "
            f"h{after['level']} {after['text']!r}"
        )
    assert all(h["text"] for h in headings), f"empty heading in {headings}"


def test_tables_have_header_cells(report, browse):
    page = browse.open(report.url)
    tables = page.evaluate(
        """() => [...document.querySelectorAll('table')].map(t => {
            const rows = [...t.rows];
            const isTh = c => c && c.tagName === 'TH';
            return {
                text: t.innerText.trim().slice(0, 60),
                headers: [...t.querySelectorAll('th')].filter(th => th.innerText.trim()).length,
                thead: t.tHead !== null && t.tHead.querySelector('th') !== null,
                firstRow: rows.length > 0 && [...rows[0].cells].every(isTh),
                firstColumn: rows.length > 1 && rows.slice(1).every(r => isTh(r.cells[0])),
            };
        })"""
    )
    for table in tables:
        assert table["headers"] > 0, f"table without header cells: {table['text']!r}"
        assert table["thead"] or table["firstRow"] or table["firstColumn"], (
            f"table whose header cells do not head its rows or columns: {table['text']!r}"
        )


CONTRAST = """() => {
    const parse = text => {
        const m = text.match(/^rgba?\\(([^)]*)\\)$/);
        if (!m) return null;
        const p = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
        return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1};
    };
    const over = (top, bottom) => ({
        r: top.r * top.a + bottom.r * (1 - top.a),
        g: top.g * top.a + bottom.g * (1 - top.a),
        b: top.b * top.a + bottom.b * (1 - top.a),
        a: 1,
    });
    const background = el => {
        const chain = [];
        for (let e = el; e; e = e.parentElement) chain.unshift(e);
        let bg = {r: 255, g: 255, b: 255, a: 1};  // the canvas
        for (const e of chain) {
            const c = parse(getComputedStyle(e).backgroundColor);
            if (c && c.a > 0) bg = over(c, bg);
        }
        return bg;
    };
    const lum = c => {
        const f = v => {
            v /= 255;
            return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
        };
        return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
    };
    const ratio = (a, b) => {
        const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
        return (hi + 0.05) / (lo + 0.05);
    };
    const hex = c => '#' + [c.r, c.g, c.b]
        .map(v => Math.round(v).toString(16).padStart(2, '0')).join('');
    const texts = [];
    const seen = new Set();
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
        const el = walker.currentNode.parentElement;
        if (!walker.currentNode.textContent.trim() || seen.has(el)) continue;
        seen.add(el);
        if (el.closest('style, script, template')) continue;
        const cs = getComputedStyle(el);
        if (cs.visibility !== 'visible' || el.getClientRects().length === 0) continue;
        let opacity = 1;
        for (let e = el; e; e = e.parentElement) opacity *= Number(getComputedStyle(e).opacity);
        const bg = background(el);
        const fg = parse(cs.color);
        if (!fg) {  // a colour format this check does not read: report it, never pass it
            texts.push({tag: el.tagName, text: el.textContent.trim().slice(0, 40), ratio: 0});
            continue;
        }
        const shown = over({...fg, a: fg.a * opacity}, bg);
        texts.push({
            tag: el.tagName.toLowerCase(), cls: String(el.className),
            text: walker.currentNode.textContent.trim().slice(0, 40),
            color: hex(shown), background: hex(bg), ratio: ratio(shown, bg),
        });
    }
    const root = getComputedStyle(document.documentElement);
    const palette = {};
    for (const name of ['--tekst', '--gedempt', '--focus', '--link']) {
        const value = root.getPropertyValue(name).trim();
        if (!value) continue;
        const probe = document.createElement('span');
        probe.style.color = value;
        document.body.appendChild(probe);
        const c = parse(getComputedStyle(probe).color);
        probe.remove();
        palette[name] = {value, ratio: c ? ratio(c, {r: 255, g: 255, b: 255, a: 1}) : 0};
    }
    return {texts, palette};
}"""


def test_text_contrast_of_the_house_palette(report, browse):
    page = browse.open(report.url)
    found = page.evaluate(CONTRAST)
    assert found["texts"], "no visible text found"
    low = [t for t in found["texts"] if t["ratio"] < MIN_CONTRAST]
    assert not low, "text below 4.5:1 contrast:\n" + "\n".join(
        f"  <{t['tag']} class={t.get('cls')!r}> {t['text']!r}: {t.get('color')} on "
        f"{t.get('background')} = {t['ratio']:.2f}:1"
        for t in low
    )
    assert found["palette"], "the house palette (--tekst, --gedempt, ...) is missing from the CSS"
    weak = {k: v for k, v in found["palette"].items() if v["ratio"] < MIN_CONTRAST}
    assert not weak, f"house palette colours below 4.5:1 on white: {weak}"


@pytest.mark.parametrize("width", [1280, 390], ids=["1280px", "390px"])
def test_axe_core_finds_no_serious_violations(report, browse, axe_script, artifacts, width):
    # At 390 px tables scroll in their boxes: axe then also checks that those take focus.
    page = browse.open(
        report.url, width=width, height=844 if width < 800 else 900, mobile=width < 800
    )
    page.add_script_tag(content=axe_script)
    results = page.evaluate(
        """async () => {
            const r = await axe.run(document, {resultTypes: ['violations']});
            return {version: r.testEngine.version, violations: r.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help, tags: v.tags,
                nodes: v.nodes.map(n => ({target: n.target, summary: n.failureSummary})),
            }))};
        }"""
    )
    out = artifacts / "axe" / f"{report.spec.name}-{width}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    serious = [v for v in results["violations"] if v["impact"] in FAILING_IMPACTS]
    if serious:
        lines = [
            f"  {v['impact']}: {v['id']} ({v['help']}) at "
            + ", ".join(str(n["target"]) for n in v["nodes"][:5])
            for v in serious
        ]
        pytest.fail(
            f"axe-core {results['version']}: serious or critical violations (all in {out}):\n"
            + "\n".join(lines),
            pytrace=False,
        )
