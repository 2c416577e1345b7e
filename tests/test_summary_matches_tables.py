"""Every sentence of the summary says what the scorecard beside it shows.

Both reports are rendered (the summary and every scorecard, through the same section functions
the notebooks call) for three municipalities on the committed snapshot:

* Eemsdelta (GM1979), formed in 2021 from Appingedam, Delfzijl and Loppersum;
* Vaals (GM0981), no merger; its province (Limburg) is dominated by Maastricht in migration;
* Groningen (GM0014), which took over Haren and Ten Boer in 2019 and whose province is
  dominated by Westerwolde (Ter Apel) in migration.

For each finding the value, year, benchmark values and words, verdict and trend must be the
ones in its scorecard row; the figure must be recent; and the caveats must name the
municipality's own merger, not another one. The index's group sentence must follow the ranks
in its table.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import pytest

from westerkwartier import settings

pytestmark = pytest.mark.mirror

CODES = ("GM1979", "GM0981", "GM0014")
REPORTS = ("talent", "aantrekkelijkheid")


# -- reading the rendered parts -----------------------------------------------------------------
class _Parts(HTMLParser):
    """Findings (tone, indicator, text) and scorecard rows (indicator -> cells) of HTML."""

    def __init__(self) -> None:
        super().__init__()
        self.findings: list[dict] = []
        self.rows: dict[str, dict] = {}
        self.heads: list[list[str]] = []
        self._li: dict | None = None
        self._row: dict | None = None
        self._cell: list[str] | None = None
        self._head: list[str] | None = None
        self._in_th = False
        self._th_text = ""

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "li" and "data-indicator" in a:
            self._li = {"indicator": a["data-indicator"], "tone": a.get("class"), "text": ""}
        elif tag == "tr" and "data-indicator" in a:
            self._row = {"indicator": a["data-indicator"], "cells": [], "tone": None}
        elif tag == "td" and self._row is not None:
            self._cell = [""]
            self._row["tone"] = a.get("class")
        elif tag == "br" and self._cell is not None:
            self._cell.append("")
        elif tag == "thead":
            self._head = []
        elif tag == "th" and self._head is not None:
            self._in_th, self._th_text = True, ""

    def handle_endtag(self, tag):
        if tag == "li" and self._li is not None:
            self._li["text"] = " ".join(self._li["text"].split())
            self.findings.append(self._li)
            self._li = None
        elif tag == "td" and self._cell is not None and self._row is not None:
            self._row["cells"].append([" ".join(c.split()) for c in self._cell])
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.rows[self._row["indicator"]] = self._row
            self._row = None
        elif tag == "th" and self._in_th and self._head is not None:
            self._head.append(" ".join(self._th_text.split()))
            self._in_th = False
        elif tag == "thead" and self._head is not None:
            self.heads.append(self._head)
            self._head = None

    def handle_data(self, data):
        if self._li is not None:
            self._li["text"] += data
        if self._cell is not None:
            self._cell[-1] += data
        if self._in_th:
            self._th_text += data


def parse(text: str) -> _Parts:
    p = _Parts()
    p.feed(text)
    return p


@pytest.fixture(scope="module")
def rendered():
    from westerkwartier.reporting import sections
    from westerkwartier.reporting.report_data import load_report_data

    old = settings.offline
    settings.offline = True
    out = {}
    try:
        for code in CODES:
            for rapport in REPORTS:
                data = load_report_data(rapport, code, peildatum="2026-11-27")
                parts = [str(sections.samenvatting(data))]
                parts += [str(sections.scorekaart(data, s.id)) for s in data.spec.secties]
                parts.append(str(sections.bronnen(data)))
                out[(code, rapport)] = (data, "\n".join(parts))
    finally:
        settings.offline = old
    return out


# -- checking one sentence against its row ------------------------------------------------------
_WORDS = {
    "hoger": "hoger",
    "lager": "lager",
    "significant hoger": "hoger",
    "significant lager": "lager",
    "groter": "hoger",  # a distance or an area
    "kleiner": "lager",
    "gelijk": "gelijk",
    "verschil valt binnen de afronding": "binnen",
    "verschil niet significant": "binnen",
    "verschil is klein": "binnen",  # rule klein: "het verschil met ... is klein"
}
#: How a summary sentence says a change (a distance or an area: toegenomen, afgenomen).
_TREND_WORDS = {"stijgt": ("gestegen", "toegenomen"), "daalt": ("gedaald", "afgenomen")}
_TONES = {"gunstig": "gunstig", "ongunstig": "ongunstig", "neutraal": "neutraal"}


def _clauses(sentence: str) -> list[tuple[str, list[str]]]:
    """(word, values) per clause of the comparison part of a finding."""
    first = sentence.split(". ")[0]
    body = first.split(") ", 1)[1] if ") " in first else first
    out = []
    # "; " inside brackets belongs to a benchmark's margin: "(mediaan 3,0%; door afronding ...)"
    for part in re.split(r"; (?![^()]*\))|, maar ", body):
        if part.startswith(("het verschil met", "verschilt niet", "verschilt weinig")):
            word = "binnen"
        elif "even hoog als" in part or "even groot als" in part:
            word = "gelijk"
        elif "hoger dan" in part or "groter dan" in part:
            word = "hoger"
        elif "lager dan" in part or "kleiner dan" in part:
            word = "lager"
        else:
            continue
        # a distance or an area carries its unit: "(mediaan 12,8 km)"; a benchmark whose own
        # margin keeps the difference small, that margin: "(47,5%; 95%-interval 46,5–48,6%)"
        values = re.findall(
            r"\((?:mediaan )?(-?[0-9.]+(?:,[0-9]+)?%?)(?: km| m²)?(?:; [^)]*)?\)", part
        )
        out.append((word, values))
    return out


def check(finding: dict, row: dict, head: list[str], peiljaar: int) -> list[str]:
    """What in a finding disagrees with its scorecard row (empty: all agrees)."""
    problems = []
    text = finding["text"]
    own_value, own_note = row["cells"][0][0], row["cells"][0][1]
    year = own_note.split(",")[0].strip()
    if f"({own_value}" not in text:
        problems.append(f"value {own_value} not in {text!r}")
    if f" in {year}" not in text:
        problems.append(f"year {year} not in {text!r}")
    if int(year[:4]) < peiljaar - 3:
        problems.append(f"figure of {year} is older than three years before {peiljaar}")
    clauses = _clauses(text)
    names = head[3:-1]  # province, Nederland (and peers)
    for name, cell in zip(names, row["cells"][2:], strict=False):
        value = cell[0]
        note = cell[1] if len(cell) > 1 else ""
        word = next((w for k, w in _WORDS.items() if note.startswith(k)), None)
        if value == "geen cijfer" or word is None:
            continue
        hits = [w for w, values in clauses if value in values]
        if not hits:
            problems.append(f"{name} ({value}) not named in {text!r}")
        elif word not in hits:
            problems.append(f"{name}: table says {note!r}, the sentence {hits}")
        if "zonder " in note and note.split("zonder ", 1)[1].rstrip(")") not in text:
            problems.append(f"{name}: the province without a municipality is not named")
    if finding["tone"] != row["tone"]:
        problems.append(f"verdict {finding['tone']} in the summary, {row['tone']} in the table")
    return problems + _trend_problems(text, row["cells"][1])


def _trend_problems(text: str, cell: list[str]) -> list[str]:
    """What the trend sentence of a finding says against the trend cell of its row."""
    trend_word, trend_note = cell[0], (cell + [""])[1]
    since = re.search(r"(?:Sinds|Ten opzichte van) ([0-9/']+) \(", text)
    if not since:
        return []
    problems = []
    if f"sinds {since.group(1)}" not in trend_note:
        problems.append(f"trend start {since.group(1)} not in table {trend_note!r}")
    said = "stabiel"
    for word, verbs in _TREND_WORDS.items():
        if any(verb in text for verb in verbs):
            said = word
    table = {"neemt toe": "stijgt", "neemt af": "daalt"}.get(trend_word[2:], trend_word)
    if said not in table:
        problems.append(f"trend {said} in the summary, {trend_word} in the table")
    return problems


def test_every_summary_sentence_agrees_with_its_scorecard_row(rendered):
    checked = 0
    for (code, rapport), (data, text) in rendered.items():
        parts = parse(text)
        head = next(h for h in parts.heads if h and h[0] == "Indicator")
        assert parts.findings, (code, rapport)
        for finding in parts.findings:
            row = parts.rows.get(finding["indicator"])
            assert row is not None, (code, rapport, finding)
            problems = check(finding, row, head, data.peiljaar)
            assert not problems, (code, rapport, problems)
            checked += 1
    assert checked >= 6 * 3


def test_the_check_trips_on_a_sentence_that_contradicts_its_table(rendered):
    data, text = rendered[("GM0981", "talent")]
    parts = parse(text)
    head = next(h for h in parts.heads if h and h[0] == "Indicator")
    finding = dict(parts.findings[0])
    row = parts.rows[finding["indicator"]]
    wrong_tone = {**finding, "tone": "gunstig" if row["tone"] != "gunstig" else "ongunstig"}
    assert check(wrong_tone, row, head, data.peiljaar)
    value = row["cells"][2][0]
    if value != "geen cijfer":
        swapped = {**finding, "text": finding["text"].replace(f"({value})", "(99,9)")}
        assert check(swapped, row, head, data.peiljaar)
    assert check(finding, row, head, data.peiljaar + 10)  # too old for a later year


def test_both_reports_of_a_municipality_name_one_reference_year(rendered):
    for code in CODES:
        years = {rendered[(code, r)][0].peiljaar for r in REPORTS}
        assert len(years) == 1, (code, years)


def test_caveats_name_the_municipality_and_its_own_merger(rendered):
    text = html.unescape(rendered[("GM1979", "talent")][1])
    assert "Eemsdelta ontstond op 1 januari 2021 uit Appingedam, Delfzijl en Loppersum" in text
    assert "Groningen kreeg op 1 januari 2019 Haren en Ten Boer erbij" in html.unescape(
        rendered[("GM0014", "talent")][1]
    )
    for code in CODES:
        for rapport in REPORTS:
            text = html.unescape(rendered[(code, rapport)][1])
            assert "Voor Westerkwartier vóór 2019" not in text, (code, rapport)
            assert "Herindeling van Westerkwartier" not in text, (code, rapport)
            assert "Westerkwartier ontstond" not in text, (code, rapport)
    assert "Herindeling van" not in rendered[("GM0981", "talent")][1]  # Vaals: none


def test_dominated_province_is_replaced_and_named(rendered):
    for code, name in (("GM0014", "Westerwolde"), ("GM0981", "Maastricht")):
        data, text = rendered[(code, "talent")]
        row = data.row("immigratie_per_1000")
        assert row is not None and row.province.other is not None
        assert row.province.name.endswith(f"zonder {name}"), row.province.name
        assert f"zonder {name}" in html.unescape(text)


def test_group_sentence_follows_the_ranks_in_its_table(rendered):
    from westerkwartier.reporting.index_sections import group_rows, load_index_data

    data, _ = rendered[("GM0981", "talent")]
    old = settings.offline
    settings.offline = True
    try:
        index = load_index_data(data)
    finally:
        settings.offline = old
    assert index.scored
    table = group_rows(index)
    own = index.rank["median_rank"]
    near = index.group[index.group["role"].str.startswith("buurgemeente")]["code"]
    ranks = index.summary.set_index("region_code")["median_rank"]
    others = [ranks[c] for c in near if c in ranks.index]
    expected = 1 + sum(r < own for r in others)
    rows = index.sensitivity[index.sensitivity["group"] == "buurgemeenten"]
    assert int(rows["rank"].iloc[0]) == expected
    assert len(table) == len(index.group)


def _families(data) -> list[tuple[str, str]]:
    """What each of page 1's findings says: family (without one: the indicator) and verdict."""
    return [
        (data.catalogue[f.indicator].family or f.indicator, f.tone)
        for f in data.findings[:5]
        if f.indicator
    ]


def test_page_one_says_each_familys_verdict_once(rendered, monkeypatch):
    """Texel's page 1 gave two of its five findings to the change in young people, over five
    and over ten years, both 'aandachtspunt'."""
    from westerkwartier.reporting.report_data import load_report_data

    monkeypatch.setattr(settings, "offline", True)
    texel = load_report_data("talent", "GM0448", peildatum="2026-11-27")
    families = _families(texel)
    assert len(families) == 5 and len(set(families)) == 5, families
    shown = [f.indicator for f in texel.findings[:5]]
    assert "jongeren_15_27_verschil_5j" in shown
    assert "jongeren_15_27_verschil_10j" not in shown
    # the other figure of the family stays in its scorecard
    assert texel.row("jongeren_15_27_verschil_10j").own is not None
    for (code, rapport), (data, _) in rendered.items():
        families = _families(data)
        assert len(set(families)) == len(families), (code, rapport, families)
