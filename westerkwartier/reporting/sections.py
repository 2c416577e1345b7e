"""HTML parts of the reports: header, summary, scorecards, missing figures, sources.

Each function takes a :class:`westerkwartier.reporting.report_data.ReportData` and returns an
:class:`Html` fragment that a notebook shows as the last expression of a cell. The functions
choose the words and numbers; the markup lives in Jinja2 templates (``templates/html/``) that
escape every value on their own (see :func:`westerkwartier.reporting.html.render_template`).
Tables have header cells (``<th scope="col">`` and ``<th scope="row">``) and sit in a
horizontally scrollable box; headings are ``h1`` (only in :func:`kop`) and ``h3`` (below the
notebook's ``##`` section headings), so the heading order never skips a level.
"""

from __future__ import annotations

import html
import re
import weakref
from collections.abc import Callable, Iterable, Sequence
from typing import Any, NamedTuple

import pandas as pd

from westerkwartier import settings
from westerkwartier.analysis import rules
from westerkwartier.analysis.comparison import Comparison, ScoreRow
from westerkwartier.indicators.catalogue import MISSING
from westerkwartier.indicators.precision import (
    ROUNDING,
    SURVEY,
    THRESHOLD,
    is_missing,
    precision_detail,
)
from westerkwartier.reporting.formatting import (
    and_list,
    breakable,
    fmt,
    fmt_change,
    fmt_change_range,
    fmt_margin,
    fmt_number,
    fmt_other_margin,
    fmt_short,
    interval_shown,
    unit_label,
    word_for,
    year_spans,
)
from westerkwartier.reporting.html import render_template
from westerkwartier.reporting.report_data import ReportData
from westerkwartier.sources.periods import dutch_date
from westerkwartier.sources.regions import COUNTRY

#: A notice that opens with "Let op:" (the batch's own) under a header that already says it.
_LET_OP = re.compile(r"^\s*let op:\s*", re.IGNORECASE)

#: Symbol and word per tone: the tone is never told by colour alone.
TONE_LABELS: dict[str, str] = {
    "gunstig": "▲ gunstig",
    "ongunstig": "▼ aandachtspunt",
    "neutraal": "● ter informatie",
}

#: Words for trends in the scorecard.
TREND_LABELS: dict[str, str] = {
    "stijgt": "↗ stijgt",
    "daalt": "↘ daalt",
    "stabiel": "→ stabiel",
    "onbekend": "–",
}


class Html(str):
    """A piece of HTML that Jupyter shows as HTML (and tests can treat as a string)."""

    def _repr_html_(self) -> str:
        return str(self)


def esc(value: Any) -> str:
    """Escape text for HTML (quotes too).

    The report parts never need it (their templates escape every value); it is kept for
    analysts who build a bit of HTML in their own notebook.
    """
    return html.escape(str(value), quote=True)


def part(template: str, /, **context: Any) -> Html:
    """Fill one template of ``templates/html/``; return it as :class:`Html` (no final newline)."""
    return Html(render_template(template, **context).rstrip("\n"))


class Cell(NamedTuple):
    """A scorecard cell: a value (``kind`` strong, klein or plain) and an optional note below."""

    main: str
    note: str | None = None
    kind: str = "plain"


def data_date() -> str | None:
    """Return the date of the data (ISO), from the snapshot's provenance, if known."""
    from westerkwartier.errors import WesterkwartierError
    from westerkwartier.sources.data import provenance

    try:
        return str(provenance().get("data_date") or "") or None
    except WesterkwartierError:
        return None


# ----------------------------------------------------------------------------------------------
# Header
# ----------------------------------------------------------------------------------------------
def kop(data: ReportData) -> Html:
    """Return the report's header: h1, key facts and the data notice (if any).

    The header carries ``data-*`` attributes (municipality, report, reference year, data
    date, report date): what the report states about itself, read back when the report is
    published (see :func:`westerkwartier.pipeline.jobs.report_facts`).
    """
    region = data.region
    ddate = data_date()
    peiljaar = str(data.peiljaar) if data.peiljaar else "onbekend"
    jaar_text = (
        f"{peiljaar} (gevraagd jaar)"
        if data.jaar
        else (
            f"{peiljaar} (het jaar waarover de meeste cijfers van de rapporten gaan; per cijfer "
            "het laatste jaar met gegevens)"
        )
    )
    others = data.regions[data.regions["role"].isin(["buurgemeente", "vergelijking"])]
    bench = [data.province_label, "Nederland"] if data.province_label else ["Nederland"]
    facts = [
        ("Gemeente", f"{region.name} ({region.code})"),
        ("Provincie", region.province_name or "onbekend"),
        ("Peiljaar", jaar_text),
        ("Vergeleken met", ", ".join(bench)),
        (
            "Buurgemeenten en vergelijking",
            ", ".join(others["name"]) if len(others) else "geen (geen gemeente met een landgrens)",
        ),
        ("Gegevens van", _date_text(ddate)),
        ("Rapportdatum", dutch_date(data.peildatum)),
    ]
    attrs = [
        ("data-rapport", data.spec.id),
        ("data-titel", data.spec.titel),
        ("data-gemeente", region.name),
        ("data-code", region.code),
        ("data-peiljaar", peiljaar),
        ("data-gegevens", ddate or ""),
        ("data-peildatum", data.peildatum.isoformat()),
    ]
    kerncijfers = [
        (fmt(r.own.value, r.unit), f"{r.label.lower()} ({', '.join(_own_details(r, step=True))})")
        for r in data.context
        if r.own is not None
    ]
    return part(
        "kop.html.j2",
        attrs=attrs,
        title=f"{data.spec.titel} in {region.name}, {peiljaar}",
        melding=_LET_OP.sub("", data.gegevensmelding),  # the template says "Let op:" itself
        facts=facts,
        kerncijfers=kerncijfers,
    )


def _date_text(iso: str | None) -> str:
    if not iso:
        return "onbekend"
    date = dutch_date(iso)
    return f"{date} (offline snapshot van CBS-gegevens)" if date != iso else iso


# ----------------------------------------------------------------------------------------------
# Summary
# ----------------------------------------------------------------------------------------------
def samenvatting(data: ReportData) -> Html:
    """Return the findings as an ordered list, most important first."""
    findings = [
        (f.tone, TONE_LABELS.get(f.tone, TONE_LABELS["neutraal"]), f.text, f.indicator)
        for f in data.findings
    ]
    return part("samenvatting.html.j2", findings=findings)


# ----------------------------------------------------------------------------------------------
# Page 1: "In één oogopslag"
# ----------------------------------------------------------------------------------------------
#: Headline figures and findings on page 1.
GLANCE_FIGURES: int = 4
GLANCE_FINDINGS: int = 5


def headline_rows(data: ReportData, n: int = GLANCE_FIGURES) -> list[ScoreRow]:
    """Return the rows of the headline figures: those of the strongest findings first.

    Then the rows of the theme the report leads with, then the other scorecard rows in report
    order; only rows with a value for the municipality, no context figures and no figures that
    a rule leaves unjudged (*doorstroom*).
    """
    order = [f.indicator for f in data.findings if f.indicator]
    order += [*data.spec.lead_indicators, *(r.indicator for r in data.rows)]
    rows = [data.row(i) for i in dict.fromkeys(order)]
    usable = [
        r
        for r in rows
        if r is not None and r.own is not None and r.direction != "context" and not r.exception
    ]
    # one figure per theme first, so that page 1 covers the report; then the strongest others
    chosen: list[ScoreRow] = []
    for row in usable:
        if row.section not in {r.section for r in chosen}:
            chosen.append(row)
    chosen += [r for r in usable if r not in chosen]
    picked = chosen[:n]
    return sorted(picked, key=lambda r: usable.index(r))


def _benchmark_text(row: ScoreRow) -> str:
    """``Nederland 72,1% · provincie Groningen 70,3%``, or why there is no benchmark."""
    parts = []
    count = rules.is_count(row.unit)
    for comp in (row.nederland, row.province, row.peers):
        if comp is None or comp.other is None or (count and comp is not row.peers):
            continue
        name = comp.name.removeprefix("de ")
        if comp is row.peers:
            name = "vergelijkbare gemeenten"
        own_year = row.own.year if row.own is not None else None
        year = f" ({row.year_text(comp.other.year)})" if comp.other.year != own_year else ""
        parts.append(f"{name} {fmt_short(comp.other.value, row.unit)}{year}")
    if parts:
        return " · ".join(parts)
    if count:
        return "geen vergelijking: een aantal is niet te vergelijken met provincie of Nederland"
    return "geen vergelijking: provincie en Nederland hebben dit cijfer niet"


def _glance_label(row: ScoreRow) -> str:
    """Return the label of a headline figure, with its unit when the label lacks it.

    ``Afstand tot treinstation in km``: the year follows in brackets, so the unit does not
    (``(km) (2023)`` read as two asides).
    """
    label = unit_label(row.label)
    unit = unit_label(row.unit)
    if row.unit in ("%", "euro") or unit in label:
        return label
    return f"{label} in {unit}"


def _glance_findings(data: ReportData) -> list[tuple[str, str, str, str | None]]:
    """Return the five most important findings, one sentence each (no trend sentence)."""
    from westerkwartier.reporting.findings import finding_text

    out = []
    for f in data.findings[:GLANCE_FINDINGS]:
        row = data.row(f.indicator) if f.indicator else None
        text = f.text
        if row is not None and row.own is not None:
            text = finding_text(row, data.spec.onderwerp.get(row.indicator), trend=False)
        out.append((f.tone, TONE_LABELS.get(f.tone, TONE_LABELS["neutraal"]), text, f.indicator))
    return out


class _ForLatest:
    """A value built once for the latest object asked about, which is held only weakly.

    A report asks the same question of its data many times; the answer is kept until another
    object (the next report's data) is asked about.
    """

    def __init__(self, build: Callable[[Any], Any]) -> None:
        self._build = build
        self._of: weakref.ref | None = None
        self._value: Any = None

    def __call__(self, obj: Any) -> Any:
        if self._of is None or self._of() is not obj:
            self._value = self._build(obj)
            self._of = weakref.ref(obj)
        return self._value


#: The trend charts of the report being made, drawn once: page 1 shows one of its theme's
#: charts again.
_drawn_trends = _ForLatest(lambda data: {})


def _trend_bundle(
    data: ReportData, indicator: str
) -> tuple[dict[str, str], dict[str, dict], str, str] | None:
    """Return the drawn trend chart of one indicator: notebook data, metadata, alt text, note.

    The note is the sentence under the chart (:attr:`Chart.note`; empty for none). None when
    the municipality has too few years for a chart. Each chart of a report is drawn once
    (about 0,2 s), also when page 1 shows it again.
    """
    from westerkwartier.reporting.charts import figure_mimebundle
    from westerkwartier.reporting.figures import indicator_trend

    drawn = _drawn_trends(data)
    if indicator not in drawn:
        chart = indicator_trend(data, indicator)
        drawn[indicator] = (
            None
            if chart is None
            else (
                *figure_mimebundle(chart.figure, chart.alt, raster=chart.raster),
                chart.alt,
                chart.note,
            )
        )
    return drawn[indicator]


def _glance_chart(data: ReportData, rows: list[ScoreRow]) -> dict[str, str] | None:
    """Return the chart of page 1: the trend of the first headline figure with one."""
    for row in rows:
        drawn = _trend_bundle(data, row.indicator)
        if drawn is None:
            continue
        bundle, _, chart_alt, note = drawn
        if "image/png" in bundle:
            src = "data:image/png;base64," + bundle["image/png"]
        else:
            import base64

            svg = str(bundle.get("image/svg+xml", ""))
            src = "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode("ascii")
        # the same chart comes back in its theme: say which one this is
        alt = f"Grafiek bij het eerste kerncijfer, die ook bij het thema staat. {chart_alt}"
        return {"src": src, "alt": alt, "note": note}
    return None


def oogopslag(data: ReportData, vraag: str = "") -> Html:
    """Return page 1, "In één oogopslag": four headline figures, five findings, one chart.

    Each headline figure has its year, margin and status as in the scorecard, and its
    benchmarks; the findings are the five most important of the report's findings (the same
    sentences as in the appendix with all findings); the chart is the trend of the first
    headline figure. A link downloads every figure of the report as CSV (see
    :mod:`westerkwartier.reporting.downloads`).

    Parameters
    ----------
    data : ReportData
        The report.
    vraag : str
        The question the report answers (from the notebook); ``{gemeente}`` in it becomes the
        municipality's name.
    """
    from westerkwartier.reporting.downloads import download_link

    rows = headline_rows(data)
    figures = [
        {
            "value": fmt_short(own.value, r.unit),
            "label": breakable(_glance_label(r)),  # four narrow tiles a row
            "year": ", ".join(_own_details(r)),
            "bench": _benchmark_text(r),
            "tone": r.tone,
            "verdict": TONE_LABELS[r.tone],
            "indicator": r.indicator,
        }
        for r in rows
        if (own := r.own) is not None  # headline_rows keeps only rows with an own figure
    ]
    findings = _glance_findings(data)
    return part(
        "oogopslag.html.j2",
        name=data.region.name,
        vraag=vraag.replace("{gemeente}", data.region.name),
        figures=figures,
        findings=findings,
        chart=_glance_chart(data, rows),
        download=download_link(data),
        total=len(data.findings),
    )


# ----------------------------------------------------------------------------------------------
# Scorecard
# ----------------------------------------------------------------------------------------------
#: How a scorecard says that a difference or change lies within a margin, per kind of margin.
_WITHIN = {ROUNDING: "binnen de afronding", THRESHOLD: "binnen de marge van de EBB"}

#: How a scorecard says that a difference is smaller than rule *klein* asks.
SMALL_WORD = "verschil is klein"


#: How a scorecard says that rule *saldo* leaves a flow's difference uncounted.
BALANCE_WORD = "maar saldo"


def _margin_word(row: ScoreRow, comp: Comparison) -> str:
    if comp.basis == rules.SPREAD:
        return SMALL_WORD
    if comp.basis == rules.BALANCE:  # "hoger, maar saldo lager"
        return f"{word_for(comp.word, row.unit)}, {BALANCE_WORD} {comp.balance}"
    basis = comp.basis or (SURVEY if row.survey else None)
    if basis == SURVEY:
        return "verschil niet significant"
    return f"verschil valt {_WITHIN.get(basis or '', _WITHIN[ROUNDING])}"


def _province_code(data: ReportData | None) -> str:
    return str(data.region.province) if data is not None and data.region.province else "PV"


def _reasons_of(panel: pd.DataFrame) -> dict[tuple[str, str, int], Any]:
    """Return the ``missing_reason`` of the first row per region, indicator and year.

    Only rows with a reason are kept: a key without one reads as "no reason", as a row whose
    reason is missing does (a report's panel has some 4.000-6.300 rows, a quarter of them with
    a reason).
    """
    first = panel.drop_duplicates(["region_code", "indicator", "year"])
    first = first[first["year"].notna() & first["missing_reason"].notna()]
    reasons = {
        (str(c), str(i), int(y)): r
        for c, i, y, r in zip(
            first["region_code"],
            first["indicator"],
            first["year"],
            first["missing_reason"],
            strict=True,
        )
    }
    return reasons


#: The reasons of a report's panel, built once (a scorecard asks about 300 times).
_missing_reasons = _ForLatest(_reasons_of)


def _no_benchmark_reason(data: ReportData | None, row: ScoreRow, code: str | None) -> str:
    """Why a scorecard row has no value for a benchmark (province, Nederland or peers)."""
    if row.own is None:
        return "geen vergelijking: de gemeente heeft zelf geen cijfer"
    if code is None:
        return "te weinig vergelijkbare gemeenten met dit cijfer"
    reason = None
    if data is not None:
        reason = _missing_reasons(data.panel).get((code, row.indicator, row.own.year))
    if reason is None or is_missing(reason):
        return f"CBS publiceert dit cijfer niet voor {row.year_text(row.own.year)}"
    return str(reason)


#: Under the province's or Nederland's value of an absolute number (rule *schaal*).
SCALE_NOTE = "totaal van veel gemeenten: niet te vergelijken"


def _versus_cell(row: ScoreRow, comp: Comparison | None, why: str = "") -> Cell:
    if comp is None or comp.other is None:
        return Cell("geen cijfer", why or None, kind="klein")
    value = fmt_short(comp.other.value, row.unit)
    notes = []
    left_out = comp.other.left_out
    if left_out:
        notes.append(f"zonder {left_out}")
    if comp.other.note and not comp.other.name:
        notes.append(comp.other.note)  # a province summed from its municipalities, a median
    extra = "; ".join(notes) or None
    if row.own is not None and comp is not row.peers and rules.is_count(row.unit):
        return Cell(value, SCALE_NOTE)
    if row.own is None or comp.word == "onbekend":
        return Cell(value, extra)
    if comp.word == "gelijk":
        word = "gelijk"
    elif comp.significant is False:
        word = _margin_word(row, comp)
        bare = comp.basis in (rules.SPREAD, rules.BALANCE)  # rounding has no say in these
        margin = "" if bare else fmt_other_margin(row.own, comp.other, row.unit)
        word = f"{word} ({margin})" if margin else word
    elif comp.significant and (comp.basis == SURVEY or row.survey):
        word = f"significant {word_for(comp.word, row.unit)}"
        if comp.age_holds is False and comp.at_age is not None:  # rule leeftijd
            then = fmt_short(comp.at_age.value, row.unit)
            word = f"{word}, maar niet bij gelijke leeftijdsopbouw ({then})"
    else:
        word = word_for(comp.word, row.unit)
    if not extra:
        return Cell(value, word)
    # "lager; zonder Westerwolde" without brackets: on paper a name that just fills the
    # narrow column left its ")" alone on the next line
    return Cell(value, f"{word}; {extra}" if left_out else f"{word} ({extra})")


def _own_cell(row: ScoreRow) -> Cell:
    if row.own is None:
        return Cell("geen cijfer", row.missing_reason or "")
    return Cell(fmt_short(row.own.value, row.unit), ", ".join(_own_details(row)), kind="strong")


def _own_details(row: ScoreRow, *, step: bool = False) -> list[str]:
    """Say what the municipality's figure is: its year, its margin and a status other than final.

    The scorecard, page 1 and the header say the same, so that a figure CBS rounds (page 1 of
    Schiermonnikoog: 0,0% early school leavers, ``door afronding tussen 0,0% en 11,1%``) is
    not read as exact where it is shown largest.

    Parameters
    ----------
    row : ScoreRow
        A row with a figure of the municipality.
    step : bool
        Say how CBS rounds (``aantallen afgerond op honderdtallen``) instead of the bounds
        that rounding allows (``door afronding tussen 50 en 150``): the header's key figures,
        which are read at a glance. A survey estimate keeps its interval either way.
    """
    assert row.own is not None
    details = [row.year_text(row.own.year)]
    margin = fmt_margin(row.own, row.unit)
    if margin and step and row.own.kind == ROUNDING:
        margin = precision_detail(row.own.precision)
    if margin:
        details.append(margin)
    if row.own.status and row.own.status != "definitief":
        details.append(row.own.status)
    return details


def _trend_cell(row: ScoreRow) -> Cell:
    t = row.trend
    label = TREND_LABELS.get(t.word, "–").replace(t.word, word_for(t.word, row.unit))
    if t.start is None or t.end is None or t.word == "onbekend":
        return Cell(label)
    start = row.year_text(t.start.year)
    since = f"{fmt_change(t.change or 0.0, row.unit)} sinds {start}"
    if t.word == "stabiel" and (t.basis == SURVEY or (row.survey and t.basis is None)):
        since = f"geen significante verandering sinds {start}"
    elif t.word == "stabiel" and t.significant is False:
        since += f" ({_WITHIN.get(t.basis or '', _WITHIN[ROUNDING])})"
    elif t.basis == ROUNDING and (
        interval_shown(t.start, row.unit) or interval_shown(t.end, row.unit)
    ):
        since += f" (door afronding tussen {fmt_change_range(t.start, t.end, row.unit)})"
    return Cell(label, since)


def _scorecard_row(r: ScoreRow, peers: bool, data: ReportData | None = None) -> dict[str, Any]:
    assessed = r.own is not None and r.direction != "context"
    tone = r.tone if assessed else "neutraal"
    if assessed and r.exception:
        assessment = f"niet beoordeeld: {r.exception}"
    elif assessed:
        assessment = TONE_LABELS[tone]
    else:
        assessment = "context (niet beoordeeld)" if r.direction == "context" else "–"
    unit = unit_label(r.unit) if r.unit not in ("%", "euro") and r.unit not in r.label else ""
    cells = [
        _own_cell(r),
        _trend_cell(r),
        _versus_cell(r, r.province, _no_benchmark_reason(data, r, _province_code(data))),
        _versus_cell(r, r.nederland, _no_benchmark_reason(data, r, COUNTRY)),
    ]
    if peers:
        cells.append(_versus_cell(r, r.peers, _no_benchmark_reason(data, r, None)))
    return {
        "indicator": r.indicator,
        "label": breakable(unit_label(r.label)),  # narrow on paper
        "unit": unit,
        "cells": cells,
        "tone": tone,
        "assessment": assessment,
    }


def scorekaart(data: ReportData, section_id: str, heading: str = "Scorekaart") -> Html:
    """Return the scorecard of one section: an h3 and a table.

    Columns: indicator (row header), the municipality's value with year (and its margin: a
    survey's 95% interval, or the rounding interval when it is wider than the decimals shown),
    the trend, the province (or the province without a municipality that dominates its
    figure, named in the cell), Nederland, the median of the statistically comparable
    municipalities (when the report has them) and the overall assessment. The caption says
    what a margin means, also the one of the EBB (no interval, but the smallest difference
    that counts), and what "verschil is klein" means where a cell says it (rule *klein*).
    """
    section = data.spec.section(section_id)
    region = data.region
    prov = data.province_label or "Provincie"
    rows = data.section_rows(section_id)
    peers = any(r.peers is not None for r in data.rows)
    head = [
        "Indicator",
        f"{region.name}",
        "Ontwikkeling",
        prov[:1].upper() + prov[1:],
        "Nederland",
    ]
    if peers:
        # a soft hyphen: on paper the narrow column breaks the word as "Vergelijk-bare"
        head.append("Vergelijk\u00adbare gemeenten (mediaan)")
    head.append("Beoordeling")
    return part(
        "scorekaart.html.j2",
        heading=heading,
        section=section.titel,
        name=region.name,
        province=data.province_label or "de provincie",
        peers=peers,
        head=head,
        rows=[_scorecard_row(r, peers, data) for r in rows],
        threshold=next(
            (precision_detail(r.own.precision) for r in rows if r.own and r.own.kind == THRESHOLD),
            "",
        ),
        throughput=_throughput_note(rows),
        small=any(c.basis == rules.SPREAD for r in rows for c in r.comparisons),
        balance=any(c.basis == rules.BALANCE for r in rows for c in r.comparisons),
    )


def _throughput_note(rows: Sequence[ScoreRow]) -> str:
    """Say why figures of a scorecard are not judged (rule *doorstroom*); empty if none are.

    The years concerned and the thresholds of :func:`westerkwartier.analysis.rules.throughput`.
    """
    years = sorted({r.own.year for r in rows if r.exception and r.own is not None})
    if not years:
        return ""
    listed = year_spans(years)
    return (
        f"'Niet beoordeeld: {rules.THROUGHPUT_TEXT}': in {listed} {_throughput_signal()}. Zo "
        "stromen bijvoorbeeld asielzoekers door die zich in een aanmeldcentrum inschrijven; "
        "deze cijfers zeggen dan weinig over wie er komt wonen en wie er blijft."
    )


def _throughput_signal(where: str = "") -> str:
    """``kwamen er per 1.000 inwoners 50 of meer uit het buitenland, ...`` (rule *doorstroom*).

    ``where`` (`` in Westerwolde``) follows ``kwamen er``.
    """
    immigration = fmt_number(rules.THROUGHPUT_IMMIGRATION, 0)
    domestic = fmt_number(-rules.THROUGHPUT_DOMESTIC, 0)
    return (
        f"kwamen er{where} per 1.000 inwoners {immigration} of meer uit het buitenland, en "
        f"vertrokken er per saldo {domestic} of meer naar andere gemeenten"
    )


# ----------------------------------------------------------------------------------------------
# Figures of a section
# ----------------------------------------------------------------------------------------------
def show_trends(
    data: ReportData, section_id: str, heading: str = "Ontwikkeling door de tijd"
) -> None:
    """Show the trend charts of a section under an h3 (in a notebook)."""
    from IPython.display import display, publish_display_data

    section = data.spec.section(section_id)
    if not section.trends:
        return
    display(part("kop3.html.j2", text=heading))
    drawn = [_trend_bundle(data, indicator) for indicator in section.trends]
    notes = shared_notes([d[3] if d is not None else "" for d in drawn])
    for indicator, bundle, note in zip(section.trends, drawn, notes, strict=True):
        if bundle is None:
            display(part("voetnoot.html.j2", text=no_chart_text(data, indicator)))
        else:
            publish_display_data(data=bundle[0], metadata=bundle[1])
            if note:
                display(part("voetnoot.html.j2", text=note))


def no_chart_text(data: ReportData, indicator: str) -> str:
    """Say why an indicator has no trend chart for the municipality, in the panel's words.

    A chart needs two years with a figure. Without any, the sentence gives the reason most of
    the years have (CBS's rounding of small counts, a table only online; of equally frequent
    ones the latest year's); with one, that year and why the others are missing. "Too few
    years" alone left a reader guessing whether the data were short or withheld.
    """
    ind = data.catalogue[indicator]
    panel = data.indicator_panel(indicator)
    own = panel[panel["region_code"] == data.region.code].sort_values("year")
    known = own[own["value"].notna()]
    reasons = own.loc[own["value"].isna(), "missing_reason"].dropna().astype(str)
    counts = reasons.value_counts()
    why = next((r for r in reversed(reasons.tolist()) if counts[r] == counts.max()), "")
    name = data.region.name
    if len(known) == 0 and why:
        return (
            f"{ind.label_nl}: geen grafiek voor {name}, want geen enkel jaar heeft een cijfer. "
            f"Reden: {why}."
        )
    if len(known) == 1:
        year = ind.year_label(int(known["year"].iloc[0]))
        rest = f" De andere jaren: {why}." if why else ""
        return (
            f"{ind.label_nl}: geen grafiek voor {name}, want alleen {year} heeft een cijfer." + rest
        )
    return f"{ind.label_nl}: voor {name} zijn te weinig jaren beschikbaar voor een grafiek."


#: How a footnote names the charts it is about, by their number.
_CHARTS_WORDS = {2: "beide grafieken", 3: "de drie grafieken", 4: "de vier grafieken"}


def shared_notes(notes: Sequence[str]) -> list[str]:
    """Say the same note of charts that follow each other once, after the last of them.

    Returns one note per chart ("" for none). Empty notes (a chart without one, or no chart)
    end a run.

    Examples
    --------
    >>> shared_notes(["Zonder lijn voor P: A.", "Zonder lijn voor P: A.", ""])
    ['', 'Beide grafieken zonder lijn voor P: A.', '']
    >>> shared_notes(["In 2019 kleurde A het cijfer van P sterk."] * 2)
    ['', 'Bij beide grafieken: in 2019 kleurde A het cijfer van P sterk.']
    >>> shared_notes(["Zonder lijn voor P: A.", "Zonder lijn voor P: B."])
    ['Zonder lijn voor P: A.', 'Zonder lijn voor P: B.']
    """
    out = [""] * len(notes)
    start = 0
    for i, note in enumerate(notes):
        if i + 1 < len(notes) and notes[i + 1] == note:
            continue  # the run goes on
        count = i - start + 1
        if note and count == 1:
            out[i] = note
        elif note:
            charts = _CHARTS_WORDS.get(count, f"de {count} grafieken")
            if note.startswith("Zonder lijn"):
                out[i] = f"{charts[0].upper()}{charts[1:]} z{note[1:]}"
            else:
                out[i] = f"Bij {charts}: {note[0].lower()}{note[1:]}"
        start = i + 1
    return out


def retention_peers(data: ReportData) -> list[str]:
    """Codes of the municipality's statistical peers (empty when they cannot be determined)."""
    from westerkwartier.analysis.peers import peers
    from westerkwartier.errors import WesterkwartierError

    try:
        return [str(c) for c in peers(data.region.code)["code"]]
    except WesterkwartierError:
        return []


def retention_panel(data: ReportData, peer_codes: Iterable[str]) -> Any:
    """Return the two gross flows for the report's regions and the peers as one panel."""
    import pandas as pd

    from westerkwartier.indicators.panel_cache import national_panel
    from westerkwartier.reporting.figures import FLOW_INDICATORS

    own = data.panel[data.panel["indicator"].isin(FLOW_INDICATORS)]
    codes = [c for c in peer_codes if c not in set(own["region_code"])]
    if not codes:
        return own
    others = national_panel(FLOW_INDICATORS)
    return pd.concat([own, others[others["region_code"].isin(codes)]], ignore_index=True)


def show_retention(data: ReportData, heading: str = "Wie komt, wie gaat") -> None:
    """Show arrivals and departures per year against province, Nederland and comparable peers.

    The municipality's statistical peers (see the index section) give one median line; their
    names follow the chart.
    """
    from IPython.display import display

    from westerkwartier.reporting.charts import show_figure
    from westerkwartier.reporting.figures import (
        BALANCE_INDICATOR,
        FLOW_INDICATORS,
        flows_chart,
        peer_median,
        province_dominance,
    )

    display(part("kop3.html.j2", text=heading))
    peer_codes = retention_peers(data)
    labels = {data.region.code: data.region.name}
    years = sorted(set(data.panel["year"]))
    # the municipality that dominates the province's flows or, failing that, its balance
    what, hiding = next(
        (
            (ind, d)
            for ind in (*FLOW_INDICATORS, BALANCE_INDICATOR)
            if (d := province_dominance(data, ind, years)) is not None and d.hides_province
        ),
        (None, None),
    )
    dominated = hiding.municipality if hiding is not None else None
    if data.region.province and dominated is None:
        labels[data.region.province] = data.province_label
    labels[COUNTRY] = "Nederland"
    panel = retention_panel(data, peer_codes)
    chart = flows_chart(panel, focus=data.region.code, labels=labels, peers=peer_codes)
    if chart is None:
        text = (
            f"Voor {data.region.name} zijn geen cijfers over verhuizingen tussen gemeenten "
            "beschikbaar."
        )
        display(part("voetnoot.html.j2", text=text))
        return
    show_figure(chart)
    shown = panel[panel["region_code"].isin(list(labels)) & panel["value"].notna()]
    first = int(shown["year"].min()) if len(shown) else None
    median = peer_median(panel, data.region.code, peer_codes)
    display(retention_note(data, peer_codes, median, first))
    if hiding is not None:
        moves = "het verhuissaldo" if what == BALANCE_INDICATOR else "de verhuizingen"
        text = hiding.without_line(
            data.province_label,
            f"{moves} van de provincie",
            f"; de tabellen vergelijken met de provincie zonder {dominated}",
        )
        display(part("voetnoot.html.j2", text=text))
    else:  # a municipality that dominated earlier years only: the line stays, the years named
        earlier = [province_dominance(data, ind, years) for ind in FLOW_INDICATORS]
        for found in dict.fromkeys(e for e in earlier if e is not None):
            text = found.sentence("de verhuizingen van de provincie")
            display(part("voetnoot.html.j2", text=text))
    passing = throughput_note(data)
    if passing:
        display(part("voetnoot.html.j2", text=passing))


def throughput_note(data: ReportData) -> str:
    """Say under the flows chart in which years people passed through (rule *doorstroom*).

    Only years in which the chart has a flow of the municipality; empty when there are none.
    """
    from westerkwartier.analysis.comparison import throughput_years
    from westerkwartier.reporting.figures import FLOW_INDICATORS

    panel = data.panel
    own = panel[
        (panel["region_code"] == data.region.code)
        & panel["indicator"].isin(list(FLOW_INDICATORS))
        & panel["value"].notna()
    ]
    shown = {int(y) for y in own["year"]}
    years = sorted(throughput_years(panel, data.region.code) & shown)
    if not years:
        return ""
    return (
        f"Doorstroom uit het buitenland: in {year_spans(years)} "
        f"{_throughput_signal(f' in {data.region.name}')}, zoals bij asielzoekers die zich in "
        "een aanmeldcentrum inschrijven. Het vertrek in de grafiek is in die jaren vooral die "
        "doorstroom; de scorekaart beoordeelt de stromen van die jaren daarom niet."
    )


def retention_note(
    data: ReportData,
    peer_codes: Iterable[str],
    median: tuple[Sequence[str], Sequence[int]] | None = None,
    first: int | None = None,
) -> Html:
    """Return the footnote under the flows chart: what the lines are and which peers.

    ``median`` holds the peers in the median line and its years
    (:func:`~westerkwartier.reporting.figures.peer_median`; None: all peers, years not
    known), ``first`` the first year of the chart. Peers left out of the median, a line that
    starts later than the chart and a missing line are explained.
    """
    codes = list(peer_codes)
    members, years = (list(median[0]), list(median[1])) if median is not None else (codes, [])
    names: dict[str, str] = {}
    if codes:
        from westerkwartier.errors import WesterkwartierError
        from westerkwartier.sources.regions import load_registry

        try:
            registry = load_registry()
            names = {c: registry.resolve(c).name for c in codes}
        except WesterkwartierError:
            names = {c: c for c in codes}
    text = (
        "Per 1.000 inwoners (gemiddelde bevolking van het jaar); het verschil tussen de twee "
        "lijnen is het binnenlands verhuissaldo. Na een fusie of grenswijziging begint een "
        "gemeente in het eerste jaar met haar huidige grenzen: opgeteld zouden de voorgangers "
        "ook hun verhuizingen onderling meetellen."
    )
    if not names:
        return part("voetnoot.html.j2", text=text)
    if median is not None and not years:
        from westerkwartier.analysis.comparison import MIN_PEERS

        return part(
            "voetnoot.html.j2",
            text=f"{text} Een lijn voor de statistisch vergelijkbare gemeenten (zie de bijlage "
            f"'Hoe de index werkt': {', '.join(names.values())}) ontbreekt: in geen enkel jaar "
            f"hebben er minstens {MIN_PEERS} allemaal een cijfer.",
        )
    text += (
        " De grijze lijn is de mediaan van de statistisch vergelijkbare gemeenten (zie de "
        f"bijlage 'Hoe de index werkt'): {', '.join(names[c] for c in members if c in names)}."
    )
    why = []
    left = [names[c] for c in codes if c not in members]
    if left:
        own = "haar" if len(left) == 1 else "hun"
        why.append(
            f"{' en '.join(left)} {'telt' if len(left) == 1 else 'tellen'} niet mee, {own} "
            "cijfers beginnen later of ontbreken"
        )
    if years and first is not None and years[0] > first:
        why.append(
            f"ze begint in {years[0]}, het eerste jaar waarin deze gemeenten allemaal een "
            "cijfer hebben"
        )
    if why:
        text += (
            " Ze telt elk jaar dezelfde gemeenten (een wisselende groep zou sprongen geven): "
            + "; ".join(why)
            + "."
        )
    return part("voetnoot.html.j2", text=text)


def show_map(data: ReportData, heading: str = "Op de kaart") -> None:
    """Show the map (and the neighbours as bars) under an h3 (in a notebook)."""
    from IPython.display import display

    from westerkwartier.reporting.charts import show_figure
    from westerkwartier.reporting.figures import choropleth, neighbour_bars

    display(part("kop3.html.j2", text=heading))
    show_figure(choropleth(data))
    bars = neighbour_bars(data, data.spec.kaart)
    if bars is not None:
        show_figure(bars)


#: A list of years at the end of a missing reason: " (2020-2022)", " (2011, 2013-2015)".
_REASON_YEARS = re.compile(r"\s*\((?:\d{4}(?:-\d{4})?(?:, )?)+\)$")


def no_survey_note(name: str, rows: Iterable[ScoreRow], *, period: str = "") -> str:
    """Return the footnote for a municipality without Gezondheidsmonitor figures.

    The reasons are those of the survey rows (without their years), so a municipality that
    did not yet exist in the survey years is not told it had too few respondents. ``period``
    follows "zijn" (" in deze jaren").

    Examples
    --------
    >>> from types import SimpleNamespace as Row
    >>> reason = "gemeente bestond nog niet (ontstaan in 2023); niet herleidbaar uit voorgangers"
    >>> rows = [Row(survey=True, own=None, missing_reason=f"{reason} (2020-2022)")]
    >>> no_survey_note("Voorne aan Zee", rows).split(": ")[1]
    'gemeente bestond nog niet (ontstaan in 2023); niet herleidbaar uit voorgangers.'
    >>> no_survey_note("Vlieland", [])
    'Voor Vlieland zijn geen cijfers uit de Gezondheidsmonitor beschikbaar.'
    """
    reasons: list[str] = []
    for row in rows:
        if not row.survey or row.own is not None or not row.missing_reason:
            continue
        for reason in row.missing_reason.split("; "):
            reason = _REASON_YEARS.sub("", reason.strip())
            if reason and reason not in reasons:
                reasons.append(reason)
    text = f"Voor {name} zijn{period} geen cijfers uit de Gezondheidsmonitor beschikbaar"
    return f"{text}: {'; '.join(reasons)}." if reasons else f"{text}."


def show_intervals(data: ReportData, section_id: str) -> None:
    """Show the survey figures of a section with their 95% intervals (in a notebook)."""
    from IPython.display import display

    from westerkwartier.reporting.charts import show_figure
    from westerkwartier.reporting.figures import interval_chart

    rows = data.section_rows(section_id)
    chart = interval_chart(data, rows)
    if chart is None:
        display(part("voetnoot.html.j2", text=no_survey_note(data.region.name, rows)))
        return
    display(part("kop3.html.j2", text="Verschillen met betrouwbaarheidsinterval"))
    show_figure(chart)


# ----------------------------------------------------------------------------------------------
# The yearly pulse: survey and registers side by side
# ----------------------------------------------------------------------------------------------
#: Sub-themes of survey indicators that say how people feel (shown beside the registers).
FEELING_SUBTHEMES: tuple[str, ...] = ("gezondheid", "mentale gezondheid")

#: Years shown in the pulse table (the latest year with a figure and the ones before it).
PULSE_YEARS: int = 6


def _pulse_row(data: ReportData, row: ScoreRow, years: list[int]) -> dict[str, Any]:
    from westerkwartier.indicators.breaks import series_starts

    rows = data.indicator_panel(row.indicator)
    own = rows[rows["region_code"] == data.region.code]
    starts = set(series_starts(own))
    by_year = {int(r["year"]): r for _, r in own.iterrows()}
    cells = []
    for year in years:
        hit = by_year.get(year)
        notes = []
        if year in starts:
            notes.append("trendbreuk")
        if hit is None or is_missing(hit["value"]):
            cells.append(Cell("–", ", ".join(notes) or None, kind="klein"))
            continue
        status = hit.get("status")
        if isinstance(status, str) and status != "definitief":
            notes.append(status)
        cells.append(Cell(fmt_short(hit["value"], row.unit), ", ".join(notes) or None))
    shown = row.unit not in ("%", "euro") and row.unit not in row.label
    return {
        "label": breakable(unit_label(row.label)),
        "unit": unit_label(row.unit) if shown else "",
        "cells": cells,
    }


def pols(
    data: ReportData,
    section_id: str,
    naast: str | None = None,
    heading: str = "De pols per jaar",
) -> Html:
    """Return the yearly pulse: the registers of a section per year, beside the survey.

    One table, one column per year (the last :data:`PULSE_YEARS` years up to the latest
    figure). The first group holds the survey figures of section ``naast`` that say how
    people feel (:data:`FEELING_SUBTHEMES`), filled only in survey years; the second the
    indicators of ``section_id``, the yearly registers of care use. A cell in a year that
    starts a new series after a definition break says "trendbreuk"; provisional figures and
    estimates say so.

    Parameters
    ----------
    data : ReportData
        The report.
    section_id : str
        The section of the registers (``zorggebruik``).
    naast : str, optional
        The section of the survey figures (``gezondheid``); None: registers only.
    heading : str
        The h3.
    """
    registers = data.section_rows(section_id)
    feeling: list[ScoreRow] = []
    if naast is not None:
        feeling = [
            r
            for r in data.section_rows(naast)
            if r.survey and data.catalogue[r.indicator].subtheme in FEELING_SUBTHEMES
        ]
    survey = feeling
    ids = [r.indicator for r in [*survey, *registers]]
    own = data.panel[
        (data.panel["region_code"] == data.region.code)
        & data.panel["indicator"].isin(ids)
        & data.panel["value"].notna()
    ]
    name = data.region.name
    if own.empty:
        return part(
            "voetnoot.html.j2",
            text=f"Voor {name} zijn geen cijfers over gezondheid en zorggebruik beschikbaar.",
        )
    last = int(own["year"].max())
    first = max(int(own["year"].min()), last - PULSE_YEARS + 1)
    years = list(range(first, last + 1))
    shown = set(own.loc[own["year"] >= first, "indicator"])
    survey = [r for r in survey if r.indicator in shown]
    registers_shown = [r for r in registers if r.indicator in shown]
    groups = []
    if survey:
        groups.append(
            {
                "title": "Hoe inwoners zich voelen (Gezondheidsmonitor, enquête onder "
                "volwassenen, om de twee tot vier jaar)",
                "rows": [_pulse_row(data, r, years) for r in survey],
            }
        )
    if registers_shown:
        groups.append(
            {
                "title": "Welke zorg inwoners gebruiken (registers van het CBS, elk jaar)",
                "rows": [_pulse_row(data, r, years) for r in registers_shown],
            }
        )
    notes = []
    if naast is not None and not survey:
        notes.append(no_survey_note(name, feeling, period=" in deze jaren"))
    left_out = [r.label for r in registers if r.indicator not in shown]
    if left_out:
        notes.append(
            f"Zonder cijfer voor {name} in deze jaren: {', '.join(left_out)} (zie 'Wat ontbreekt')."
        )
    notes += [
        "–: geen cijfer in dat jaar (de enquête is er niet elk jaar; registers lopen een tot "
        "twee jaar achter). Zorggebruik is context: meer gebruik kan meer nood of betere "
        "toegang betekenen, dus deze cijfers worden niet beoordeeld.",
    ]
    broken = [
        (data.catalogue[r.indicator].label_nl, data.catalogue[r.indicator].breaks)
        for r in registers
        if any(first < b <= last for b in data.catalogue[r.indicator].breaks)
    ]
    if broken:
        parts = [
            f"{label.lower()} in {' en '.join(str(b) for b in breaks if first < b <= last)}"
            for label, breaks in broken
        ]
        notes.append(
            "Trendbreuk (" + "; ".join(parts) + "): CBS heeft de manier van tellen veranderd; "
            "vergelijk alleen jaren vanaf de breuk. De ontwikkeling in de scorekaart en de "
            "grafieken gaat nooit over een breuk heen."
        )
    if any(_is_half_year(data, r.indicator) for r in registers):
        notes.append(
            "Eerste halfjaar: de eerste zes maanden van het jaar, het nieuwste cijfer. Alleen "
            "te vergelijken met het eerste halfjaar van andere jaren, niet met jaarcijfers."
        )
    return part(
        "pols.html.j2",
        heading=heading,
        intro=(
            "De enquête zegt hoe inwoners zich voelen; de registers zeggen welke zorg zij "
            f"gebruiken, elk jaar. Cijfers van {name} per jaar."
        ),
        caption=f"Gezondheid en zorggebruik in {name} per jaar.",
        years=years,
        groups=groups,
        notes=notes,
    )


def _is_half_year(data: ReportData, indicator: str) -> bool:
    """Whether an indicator takes a half year of its tables (operand ``half_year``)."""
    return any(op.half_year for op in data.catalogue[indicator].operands.values())


# ----------------------------------------------------------------------------------------------
# What is missing
# ----------------------------------------------------------------------------------------------
def ontbreekt(data: ReportData) -> Html:
    """Return the figures without a value for the municipality, with the reason."""
    titles = {s.id: s.titel for s in data.spec.secties}
    rows = [
        (
            r.label,
            titles.get(r.section, r.section),
            r.missing_reason or "onbekend",
            ", ".join(r.source.split("+")) if r.source else "–",
        )
        for r in data.rows
        if r.own is None
    ]
    reasons = " ".join(reason for _, _, reason, _ in rows)
    explained = [
        ONLINE_ONLY_UNREACHABLE if key == "online_only" and settings.cbs_unreachable else text
        for key, text in MISSING_EXPLAINED.items()
        if MISSING[key] in reasons
    ]
    return part(
        "ontbreekt.html.j2",
        rows=rows,
        total=len(data.rows),
        name=data.region.name,
        explained=explained,
    )


#: What a reason in "Wat ontbreekt" means, said under the table when a row gives it. A table
#: can be in the snapshot only in part (03759ned without single years of age), so the reason
#: "tabel alleen online beschikbaar" may name a table that the sources list shows as used.
_NOT_IN_SNAPSHOT = (
    '"Tabel alleen online beschikbaar": de tabel, of het deel ervan dat dit cijfer nodig '
    "heeft (zoals een indeling naar leeftijd, de jaren of de rijen van deze gemeente), zit "
    "niet in de offline snapshot"
)
MISSING_EXPLAINED: dict[str, str] = {
    "online_only": (
        f"{_NOT_IN_SNAPSHOT}; met een internetverbinding haalt de monitor het bij het CBS op."
    ),
    "suppressed": (
        '"Geen cijfer van CBS": het CBS publiceert het cijfer niet, meestal omdat de gemeente te '
        "klein is voor een betrouwbaar of anoniem cijfer."
    ),
}

#: "Tabel alleen online beschikbaar" in a report made while CBS did not answer (the default
#: mode, after the run's one check failed): the monitor was online, CBS was not, so the
#: internet connection of the text above is not what the reader lacks.
ONLINE_ONLY_UNREACHABLE: str = (
    f"{_NOT_IN_SNAPSHOT}, en het CBS was niet bereikbaar toen dit rapport werd gemaakt; zodra "
    "het CBS weer antwoordt, haalt de monitor het op."
)


# ----------------------------------------------------------------------------------------------
# Sources and method
# ----------------------------------------------------------------------------------------------
def source_rows(data: ReportData) -> list[dict[str, str]]:
    """Describe every CBS table behind the report: id, title, periods, status, date."""
    from westerkwartier.errors import WesterkwartierError
    from westerkwartier.sources.data import provenance

    try:
        tables = provenance().get("tables", {})
    except WesterkwartierError:
        tables = {}
    by_lower = {k.lower(): v for k, v in tables.items()}
    used = set(t.lower() for t in data.tables)
    out = []
    for tid in data.catalogue_tables:
        info = by_lower.get(tid.lower())
        spec = data.catalogue.table(tid)
        if info is None:
            out.append(
                {
                    "id": tid,
                    "titel": spec.title,
                    "perioden": "–",
                    "status": "alleen online; niet in de offline snapshot",
                    "gewijzigd": "–",
                    "gebruikt": "ja" if tid.lower() in used else "nee",
                }
            )
            continue
        periods = info.get("periods") or []
        statuses = sorted(set((info.get("period_status") or {}).values()))
        status = ", ".join(statuses) if statuses else "niet vermeld"
        if info.get("output_status"):
            status += f" (tabel: {info['output_status']})"
        modified = str(info.get("modified") or "")[:10]
        out.append(
            {
                "id": str(info.get("id", tid)),
                "titel": str(info.get("title") or spec.title),
                "perioden": f"{periods[0]} – {periods[-1]}" if periods else "–",
                "status": status,
                "gewijzigd": modified or "–",
                "gebruikt": "ja" if tid.lower() in used else "nee",
            }
        )
    return out


def bronnen(data: ReportData) -> Html:
    """Return the sources and method section: tables, data date, licence, method, caveats.

    The method lists the rules of :mod:`westerkwartier.analysis.rules` in their own words;
    the caveats start with the ones about this municipality: its boundary changes (which
    years are rebuilt from which predecessors) and the provinces without a municipality that
    dominates their figure; then the notes of the tables the report shows figures from
    (:func:`table_caveats`), then those of the indicators.
    """
    from westerkwartier.analysis.rules import RULES

    own = merger_caveats(data) + dominance_caveats(data) + table_caveats(data)
    return part(
        "bronnen.html.j2",
        date_text=_date_text(data_date()),
        sources=source_rows(data),
        rules=[(r.title, r.text) for r in RULES],
        caveats=own + _caveats(data, [r.indicator for r in data.rows]),
    )


def table_caveats(data: ReportData) -> list[tuple[str, str]]:
    """Return the catalogue's note of every CBS table the report shows figures from.

    A note about a table (the Gezondheidsmonitor 2024 is read under the topic names of 2022)
    is said once, under the table's id, and only when the report holds a figure from it.
    """
    specs = [data.catalogue.table(tid) for tid in data.tables]
    return [(f"CBS-tabel {s.id} ({s.title})", s.note) for s in specs if s.note]


def merger_caveats(data: ReportData) -> list[tuple[str, str]]:
    """Return the caveat about the municipality's last boundary change (or nothing)."""
    from westerkwartier.errors import WesterkwartierError
    from westerkwartier.sources.regions import load_registry

    try:
        registry = load_registry()
    except WesterkwartierError:
        return []
    change, names, estimated = _merger_parts(
        registry, data.region.code, data.region.name, data.rows
    )
    if not change and not names:
        return []
    # only a new name since the first figure (Dantumadiel, 2009) is no herindeling
    kind = "Herindeling" if change else "Naamswijziging"
    return [(f"{kind} van {data.region.name}", (change + names + estimated).strip())]


def merger_text(registry: Any, code: str, name: str, rows: Iterable[ScoreRow] = ()) -> str:
    """Say which boundary change of a municipality the figures take into account.

    A change of name (and CBS code) is no boundary change: the municipality's mergers under its
    old code count, and a sentence says the old name (De Fryske Marren was De Friese Meren,
    formed in 2014, until 1 July 2015).

    Examples
    --------
    ``Eemsdelta ontstond op 1 januari 2021 uit Appingedam, Delfzijl en Loppersum. ...``
    """
    return "".join(_merger_parts(registry, code, name, rows)).strip()


def _merger_parts(
    registry: Any, code: str, name: str, rows: Iterable[ScoreRow] = ()
) -> tuple[str, str, str]:
    """Return :func:`merger_text` in three: the boundary change, the old names, the estimates.

    Each is ``""`` when there is nothing to say; a name alone is no boundary change.
    """
    from westerkwartier.indicators.mergers import (
        current_code,
        load_mergers,
        rename_spans,
        renamed_codes,
    )

    dissolved = registry.dissolved()
    renamed = renamed_codes(dissolved)
    own = {code} | {old for old, new in renamed.items() if current_code(new, renamed) == code}
    rows_ = dissolved.dropna(subset=["dissolved_in", "successor_codes"])
    mine = [
        (str(c), str(n), int(y), str(succ).split(";"))
        for c, n, y, succ in zip(
            rows_["code"],
            rows_["name"],
            rows_["dissolved_in"],
            rows_["successor_codes"],
            strict=True,
        )
        if own & set(str(succ).split(";")) and str(c) not in renamed
    ]
    first = _first_catalogue_year()
    names = [
        _rename_text(dissolved, old, since, name)
        for old, new, since in rename_spans(dissolved)
        if new == code
        and int(dissolved.loc[dissolved["code"] == old, "dissolved_in"].iloc[0]) >= first
    ]
    if not mine or max(y for _, _, y, _ in mine) < first:
        return "", "".join(names), ""  # no boundary change since the first figure
    year = max(y for _, _, y, _ in mine)
    last = [(n, succ) for _, n, y, succ in mine if y == year]
    whole = sorted(n for n, succ in last if len(succ) == 1)
    split = sorted(n for n, succ in last if len(succ) > 1)
    # the code that took them in: Groesbeek (GM0241) continued and took in two, then was renamed
    receivers = {s for _, _, y, succ in mine if y == year for s in succ if s in own}
    new = len({y for _, _, y, _ in mine}) == 1 and all(_new_code(r) for r in receivers)
    parts = whole + [f"een deel van {n}" for n in split]
    listed = and_list(parts)
    on = _change_date(rows_, [c for c, _, y, _ in mine if y == year], year)
    if new:
        text = f"{name} ontstond op {on} uit {listed}."
    else:
        text = f"{name} kreeg op {on} {listed} erbij."
    estimated = sorted(
        {unit_label(r.label) for r in rows if r.own is not None and r.own.status == "schatting"}
    )
    mergers = load_mergers(dissolved)
    change = mergers[(mergers["successor"] == code) & (mergers["start_year"] == year)]
    if len(change) and change["share"].notna().all():
        text += (
            f" Cijfers over jaren vóór {year} gaan in dit rapport over het gebied van nu: waar "
            "het kan opgeteld uit de voorgangers (status schatting"
        )
        if split:
            text += ", met het adressenaandeel van de gesplitste gemeente"
        text += "); gemiddelden en percentages zonder aantallen ontbreken vóór dat jaar."
    else:
        text += (
            f" Welk deel van {and_list(split)} erbij kwam, is niet bekend: cijfers over jaren "
            f"vóór {year} gingen over een ander gebied en ontbreken daarom."
        )
    estimates = (
        f" Een geschat cijfer als laatste waarde: {', '.join(estimated)}." if estimated else ""
    )
    return text, "".join(names), estimates


def _change_date(dissolved: pd.DataFrame, codes: list[str], year: int) -> str:
    """Return the date of a boundary change in Dutch, the registry's or 1 January of its year.

    Most changes are on 1 January; Weesp went into Amsterdam on 24 March 2022.
    """
    from westerkwartier.sources.periods import dutch_date

    dates = {
        str(on)
        for on in dissolved.loc[dissolved["code"].isin(codes), "dissolved_on"]
        if isinstance(on, str) and on
    }
    return dutch_date(max(dates)) if dates else f"1 januari {year}"


def _rename_text(dissolved: pd.DataFrame, old: str, since: int | None, name: str) -> str:
    """Say that a municipality had another name, and which figures under that code are its own.

    ``since`` is the year the old code's area became the current one (:func:`rename_spans`).
    """
    row = dissolved[dissolved["code"] == old].iloc[0]
    date = _change_date(dissolved, [old], int(row["dissolved_in"]))
    # a code that existed before it took others in has figures of a smaller area before that
    which = f" vanaf {since}" if since is not None and not _new_code(old) else ""
    return (
        f" Tot {date} heette de gemeente {row['name']}; alleen de naam en de CBS-code "
        f"veranderden, niet het gebied. De cijfers die CBS{which} onder de oude code geeft, zijn "
        f"die van {name}."
    )


def _first_catalogue_year() -> int:
    """Return the first year any indicator of the catalogue describes."""
    from westerkwartier.indicators.catalogue import load_catalogue

    return min(ind.years[0] for ind in load_catalogue())


def _new_code(code: str) -> bool:
    """Tell whether a code is one CBS gives new municipalities (GM19xx).

    Not an old code that continued and took over others (Groningen, GM0014).
    """
    try:
        return int(code[2:]) >= 1900
    except ValueError:
        return False


def dominance_caveats(data: ReportData) -> list[tuple[str, str]]:
    """One caveat per indicator compared with a province without its dominating municipality.

    In the report of that municipality itself the caveat says it is compared with the rest of
    its province (not that the province's figure says little about "another municipality").
    """
    out = []
    for r in data.rows:
        other = r.province.other
        municipality = other.left_out if other is not None else None
        if other is None or municipality is None:
            continue
        why = f" (in {r.year_text(other.year)}: {other.shares})" if other.shares else ""
        so = (
            f"Dit rapport vergelijkt {municipality} daarom met de rest van de provincie."
            if municipality == data.region.name
            else "Het cijfer van de hele provincie zegt daardoor weinig over een andere gemeente."
        )
        out.append(
            (
                unit_label(r.label),
                f"Vergeleken met de {other.name}: {municipality} kleurt het provinciecijfer "
                f"sterk{why}. {so}",
            )
        )
    return out


def _caveats(data: ReportData, indicators: Iterable[str]) -> list[tuple[str, str]]:
    out = []
    for ind_id in indicators:
        ind = data.catalogue[ind_id]
        text = " ".join(str(ind.caveats or "").split())
        if text and text.lower() not in ("geen", "-", "geen."):
            out.append((ind.label_nl, text))
    return out


__all__ = [
    "Html",
    "bronnen",
    "esc",
    "kop",
    "ontbreekt",
    "part",
    "pols",
    "samenvatting",
    "scorekaart",
    "shared_notes",
    "show_intervals",
    "show_map",
    "show_retention",
    "show_trends",
    "source_rows",
    "tabel",
    "table_caveats",
]


def tabel(frame: Any, caption: str = "") -> Html:
    """Return a data frame as an accessible HTML table (header cells, caption, scroll box).

    Every cell is escaped (by the template); the index is left out; ``None`` is an empty cell.
    """
    rows = [
        ["" if v is None else str(v) for v in values] for values in frame.itertuples(index=False)
    ]
    return part(
        "tabel.html.j2",
        columns=[str(c) for c in frame.columns],
        rows=rows,
        caption=caption,
        tones=None,
    )
