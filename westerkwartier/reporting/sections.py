"""HTML parts of the reports: header, summary, scorecards, missing figures, sources.

Each function takes a :class:`westerkwartier.reporting.report_data.ReportData` and returns an
:class:`Html` fragment that a notebook shows as the last expression of a cell. Every piece of
text that comes from data or parameters is escaped. Tables have header cells (``<th
scope="col">`` and ``<th scope="row">``) and sit in a horizontally scrollable box; headings
are ``h1`` (only in :func:`kop`) and ``h3`` (below the notebook's ``##`` section headings), so
the heading order never skips a level.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Any

from westerkwartier.analysis.comparison import Comparison, ScoreRow
from westerkwartier.reporting.formatting import fmt, fmt_change, fmt_interval, fmt_short, unit_label
from westerkwartier.reporting.report_data import ReportData

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
    """Escape text for HTML (quotes too)."""
    return html.escape(str(value), quote=True)


def _date(value: Any) -> str:
    from babel.dates import format_date

    return format_date(value, format="long", locale="nl_NL")


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
    date, report date) that the index page reads back from the HTML file.
    """
    region = data.region
    ddate = data_date()
    title = f"{data.spec.titel} in {region.name}"
    peiljaar = str(data.peiljaar) if data.peiljaar else "onbekend"
    jaar_text = (
        f"{peiljaar} (gevraagd jaar)"
        if data.jaar
        else f"{peiljaar} (per cijfer het laatste jaar met gegevens)"
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
        ("Rapportdatum", _date(data.peildatum)),
    ]
    attrs = {
        "data-rapport": data.spec.id,
        "data-titel": data.spec.titel,
        "data-gemeente": region.name,
        "data-code": region.code,
        "data-peiljaar": peiljaar,
        "data-gegevens": ddate or "",
        "data-peildatum": data.peildatum.isoformat(),
    }
    attr_text = " ".join(f'{k}="{esc(v)}"' for k, v in attrs.items())
    parts = [f'<header class="rapport-kop" {attr_text}>']
    parts.append(f"<h1>{esc(title)}</h1>")
    parts.append(
        '<p class="ondertitel">Regionale talent- en vitaliteitsmonitor · cijfers van het CBS</p>'
    )
    if data.gegevensmelding:
        parts.append(
            '<div class="melding" role="note"><strong>Let op:</strong> '
            f"{esc(data.gegevensmelding)}</div>"
        )
    parts.append('<dl class="kenmerken">')
    for key, value in facts:
        parts.append(f"<dt>{esc(key)}</dt><dd>{esc(value)}</dd>")
    parts.append("</dl>")
    known = [r for r in data.context if r.own is not None]
    if known:
        parts.append('<ul class="kerncijfers">')
        for r in known:
            assert r.own is not None
            parts.append(
                f'<li><span class="getal">{esc(fmt(r.own.value, r.unit))}</span> '
                f"<span>{esc(r.label.lower())} ({r.own.year})</span></li>"
            )
        parts.append("</ul>")
    parts.append("</header>")
    return Html("\n".join(parts))


def _date_text(iso: str | None) -> str:
    if not iso:
        return "onbekend"
    import datetime as dt

    try:
        return f"{_date(dt.date.fromisoformat(iso))} (offline snapshot van CBS-gegevens)"
    except ValueError:
        return iso


# ----------------------------------------------------------------------------------------------
# Summary
# ----------------------------------------------------------------------------------------------
def samenvatting(data: ReportData) -> Html:
    """Return the findings as an ordered list, most important first."""
    if not data.findings:
        return Html(
            "<p>Voor deze gemeente zijn te weinig cijfers beschikbaar voor een samenvatting; "
            "zie 'Wat ontbreekt'.</p>"
        )
    items = []
    for f in data.findings:
        label = TONE_LABELS.get(f.tone, TONE_LABELS["neutraal"])
        items.append(
            f'<li class="{esc(f.tone)}"><span class="toon">{esc(label)}</span> {esc(f.text)}</li>'
        )
    return Html('<ol class="bevindingen">\n' + "\n".join(items) + "\n</ol>")


# ----------------------------------------------------------------------------------------------
# Scorecard
# ----------------------------------------------------------------------------------------------
def _versus_cell(row: ScoreRow, comp: Comparison, name: str) -> str:
    if comp.other is None:
        return '<span class="klein">geen cijfer</span>'
    value = esc(fmt_short(comp.other.value, row.unit))
    if comp.other.note:
        value += f'<br><span class="klein">{esc(comp.other.note)}</span>'

    if row.own is None or comp.word == "onbekend":
        return value
    if comp.word == "gelijk":
        word = "gelijk"
    elif row.survey:
        word = f"significant {comp.word}" if comp.significant else "verschil niet significant"
    else:
        word = comp.word
    return f'{value}<br><span class="klein">{esc(word)}</span>'


def _own_cell(row: ScoreRow) -> str:
    if row.own is None:
        return f'geen cijfer<br><span class="klein">{esc(row.missing_reason or "")}</span>'
    text = esc(fmt_short(row.own.value, row.unit))
    extra = [str(row.own.year)]
    if row.own.has_interval:
        extra.append(f"95%-interval {fmt_interval(row.own, row.unit)}")
    if row.own.status and row.own.status != "definitief":
        extra.append(row.own.status)
    return f'<strong>{text}</strong><br><span class="klein">{esc(", ".join(extra))}</span>'


def _trend_cell(row: ScoreRow) -> str:
    t = row.trend
    label = TREND_LABELS.get(t.word, "–")
    if t.start is None or t.end is None or t.word == "onbekend":
        return esc(label)
    since = f"{fmt_change(t.change or 0.0, row.unit)} sinds {t.start.year}"
    if row.survey and t.word == "stabiel":
        since = f"geen significante verandering sinds {t.start.year}"
    return f'{esc(label)}<br><span class="klein">{esc(since)}</span>'


def scorekaart(data: ReportData, section_id: str, heading: str = "Scorekaart") -> Html:
    """Return the scorecard of one section: an h3 and a table.

    Columns: indicator (row header), the municipality's value with year (and 95% interval for
    survey figures), the trend, the province, Nederland and the overall assessment.
    """
    section = data.spec.section(section_id)
    rows = data.section_rows(section_id)
    region = data.region
    prov = data.province_label or "Provincie"
    head = [
        "Indicator",
        f"{region.name}",
        "Ontwikkeling",
        prov[:1].upper() + prov[1:],
        "Nederland",
        "Beoordeling",
    ]
    out = [f"<h3>{esc(heading)}</h3>", '<div class="tabel-kader">', '<table class="scorekaart">']
    out.append(
        f"<caption>{esc(section.titel)}: {esc(region.name)} vergeleken met "
        f"{esc(data.province_label or 'de provincie')} en Nederland, in het jaar van het "
        "cijfer van de gemeente. Hoger/lager: de gemeente ten opzichte van de provincie of "
        "Nederland. Bij een 95%-interval is het cijfer een schatting uit een enquête."
        "</caption>"
    )
    out.append("<thead><tr>" + "".join(f'<th scope="col">{esc(h)}</th>' for h in head))
    out.append("</tr></thead><tbody>")
    for r in rows:
        tone = r.tone if r.own is not None and r.direction != "context" else "neutraal"
        assessment = (
            TONE_LABELS[tone]
            if r.own is not None and r.direction != "context"
            else ("context (niet beoordeeld)" if r.direction == "context" else "–")
        )
        label = esc(unit_label(r.label))
        if r.unit not in ("%", "euro") and r.unit not in r.label:
            label += f'<br><span class="klein">{esc(unit_label(r.unit))}</span>'
        out.append(
            "<tr>"
            f'<th scope="row">{label}</th>'
            f"<td>{_own_cell(r)}</td>"
            f"<td>{_trend_cell(r)}</td>"
            f"<td>{_versus_cell(r, r.province, region.name)}</td>"
            f"<td>{_versus_cell(r, r.nederland, region.name)}</td>"
            f'<td class="{esc(tone)}">{esc(assessment)}</td>'
            "</tr>"
        )
    out.append("</tbody></table></div>")
    return Html("\n".join(out))


# ----------------------------------------------------------------------------------------------
# Figures of a section
# ----------------------------------------------------------------------------------------------
def show_trends(data: ReportData, section_id: str) -> None:
    """Show the trend charts of a section under an h3 (in a notebook)."""
    from IPython.display import display

    from westerkwartier.reporting.charts import show_figure
    from westerkwartier.reporting.figures import indicator_trend

    section = data.spec.section(section_id)
    if not section.trends:
        return
    display(Html("<h3>Ontwikkeling door de tijd</h3>"))
    for indicator in section.trends:
        chart = indicator_trend(data, indicator)
        if chart is None:
            label = data.catalogue[indicator].label_nl
            display(
                Html(
                    f'<p class="voetnoot">{esc(label)}: voor {esc(data.region.name)} zijn te '
                    "weinig jaren beschikbaar voor een grafiek.</p>"
                )
            )
        else:
            show_figure(chart)


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
    from westerkwartier.reporting.figures import flows_chart

    display(Html(f"<h3>{esc(heading)}</h3>"))
    peer_codes = retention_peers(data)
    labels = {data.region.code: data.region.name}
    if data.region.province:
        labels[data.region.province] = data.province_label
    labels["NL01"] = "Nederland"
    chart = flows_chart(
        retention_panel(data, peer_codes), focus=data.region.code, labels=labels, peers=peer_codes
    )
    if chart is None:
        display(
            Html(
                f'<p class="voetnoot">Voor {esc(data.region.name)} zijn geen cijfers over '
                "verhuizingen tussen gemeenten beschikbaar.</p>"
            )
        )
        return
    show_figure(chart)
    display(Html(retention_note(data, peer_codes)))


def retention_note(data: ReportData, peer_codes: Iterable[str]) -> str:
    """Return the footnote under the flows chart: what the lines are and which peers."""
    codes = list(peer_codes)
    names = []
    if codes:
        from westerkwartier.errors import WesterkwartierError
        from westerkwartier.sources.regions import load_registry

        try:
            registry = load_registry()
            names = [registry.resolve(c).name for c in codes]
        except WesterkwartierError:
            names = codes
    text = (
        "Vestiging uit en vertrek naar andere Nederlandse gemeenten, per 1.000 inwoners "
        "(gemiddelde bevolking van het jaar). Het verschil tussen de twee lijnen is het "
        "binnenlands verhuissaldo. Een gemeente die door een fusie ontstond of grond van een "
        "andere gemeente kreeg, staat er pas vanaf het eerste jaar met de huidige grenzen: een "
        "optelling van de voorgangers zou ook de verhuizingen tussen die voorgangers meetellen."
    )
    if names:
        text += (
            " De grijze lijn is de mediaan van de statistisch vergelijkbare gemeenten (zie "
            f"'Index en vergelijkbare gemeenten'): {', '.join(names)}."
        )
    return f'<p class="voetnoot">{esc(text)}</p>'


def show_map(data: ReportData, heading: str = "Op de kaart") -> None:
    """Show the map (and the neighbours as bars) under an h3 (in a notebook)."""
    from IPython.display import display

    from westerkwartier.reporting.charts import show_figure
    from westerkwartier.reporting.figures import choropleth, neighbour_bars

    display(Html(f"<h3>{esc(heading)}</h3>"))
    show_figure(choropleth(data))
    bars = neighbour_bars(data, data.spec.kaart)
    if bars is not None:
        show_figure(bars)


def show_intervals(data: ReportData, section_id: str) -> None:
    """Show the survey figures of a section with their 95% intervals (in a notebook)."""
    from IPython.display import display

    from westerkwartier.reporting.charts import show_figure
    from westerkwartier.reporting.figures import interval_chart

    chart = interval_chart(data, data.section_rows(section_id))
    if chart is None:
        display(
            Html(
                f'<p class="voetnoot">Voor {esc(data.region.name)} zijn geen cijfers uit de '
                "Gezondheidsmonitor beschikbaar (te weinig deelnemers of niet gepubliceerd).</p>"
            )
        )
        return
    display(Html("<h3>Verschillen met betrouwbaarheidsinterval</h3>"))
    show_figure(chart)


# ----------------------------------------------------------------------------------------------
# What is missing
# ----------------------------------------------------------------------------------------------
def ontbreekt(data: ReportData) -> Html:
    """Return the figures without a value for the municipality, with the reason."""
    titles = {s.id: s.titel for s in data.spec.secties}
    rows = [r for r in data.rows if r.own is None]
    if not rows:
        return Html(
            f"<p>Alle cijfers van dit rapport zijn beschikbaar voor {esc(data.region.name)}.</p>"
        )
    out = [
        f"<p>Voor {len(rows)} van de {len(data.rows)} cijfers in dit rapport is voor "
        f"{esc(data.region.name)} geen waarde beschikbaar. Een ontbrekend cijfer is nooit als "
        "nul meegeteld.</p>",
        '<div class="tabel-kader"><table class="ontbreekt">',
        "<caption>Cijfers zonder waarde, met de reden.</caption>",
        '<thead><tr><th scope="col">Indicator</th><th scope="col">Onderdeel</th>'
        '<th scope="col">Reden</th><th scope="col">CBS-tabel</th></tr></thead><tbody>',
    ]
    for r in rows:
        out.append(
            f'<tr><th scope="row">{esc(r.label)}</th><td>{esc(titles.get(r.section, r.section))}'
            f"</td><td>{esc(r.missing_reason or 'onbekend')}</td>"
            f"<td>{esc(', '.join(r.source.split('+')) if r.source else '–')}</td></tr>"
        )
    out.append("</tbody></table></div>")
    out.append(
        '<p class="voetnoot">"Tabel alleen online beschikbaar": de tabel zit niet in de offline '
        "snapshot; met een internetverbinding haalt de monitor hem bij het CBS op. "
        '"Geen cijfer van CBS": het CBS publiceert het cijfer niet, meestal omdat de '
        "gemeente te klein is voor een betrouwbaar of anoniem cijfer.</p>"
    )
    return Html("\n".join(out))


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
    """Return the sources and method section: tables, data date, licence, method, caveats."""
    ddate = data_date()
    out = ["<h3>CBS-tabellen</h3>"]
    out.append(
        "<p>Alle cijfers komen uit CBS StatLine (open data). Bron: CBS. Licentie: CC BY 4.0 "
        "(Creative Commons Naamsvermelding 4.0). Bewerking: de monitor westerkwartier. "
        f"Gegevens van: {esc(_date_text(ddate))}.</p>"
    )
    out.append('<div class="tabel-kader"><table class="bronnen">')
    out.append(
        "<caption>CBS-tabellen die dit rapport gebruikt of zou gebruiken.</caption>"
        '<thead><tr><th scope="col">Tabel</th><th scope="col">Titel</th>'
        '<th scope="col">Perioden</th><th scope="col">Status</th>'
        '<th scope="col">Gewijzigd door CBS</th><th scope="col">Cijfers in dit rapport</th>'
        "</tr></thead><tbody>"
    )
    for s in source_rows(data):
        out.append(
            f'<tr><th scope="row">{esc(s["id"])}</th><td>{esc(s["titel"])}</td>'
            f"<td>{esc(s['perioden'])}</td><td>{esc(s['status'])}</td>"
            f"<td>{esc(s['gewijzigd'])}</td><td>{esc(s['gebruikt'])}</td></tr>"
        )
    out.append("</tbody></table></div>")
    out.append("<h3>Methode</h3>")
    out.append(
        "<ul>"
        "<li><strong>Vergelijking.</strong> Elk cijfer van de gemeente staat naast dat van de "
        "provincie en Nederland in hetzelfde jaar. Cijfers die er afgerond hetzelfde uitzien, "
        "heten gelijk.</li>"
        "<li><strong>Significantie.</strong> Cijfers uit de Gezondheidsmonitor zijn "
        "schattingen uit een steekproef, met een 95%-betrouwbaarheidsinterval. Een verschil "
        "heet alleen significant als de intervallen elkaar niet overlappen (een voorzichtige "
        "toets); anders staat er 'niet significant'.</li>"
        "<li><strong>Ontwikkeling.</strong> Het laatste cijfer tegenover dat van vijf jaar "
        "eerder (of het oudste cijfer daarna). Een verandering kleiner dan een half "
        "procentpunt, of bij andere eenheden kleiner dan 2%, heet stabiel.</li>"
        "<li><strong>Beoordeling.</strong> Gunstig of aandachtspunt volgt uit de richting van "
        "de indicator (hoger is beter of lager is beter). Contextcijfers, zoals de WOZ-waarde, "
        "worden niet beoordeeld.</li>"
        "<li><strong>Samenvatting.</strong> De bevindingen staan op volgorde van belang: de "
        "grootte van het verschil met provincie en Nederland (en de ontwikkeling), "
        "geschaald naar de eenheid; niet-significante verschillen tellen nauwelijks mee.</li>"
        "<li><strong>Peiljaar.</strong> Zonder gevraagd jaar toont elk cijfer het laatste jaar "
        "met gegevens; het peiljaar is het jaar waarover de meeste cijfers gaan.</li>"
        "<li><strong>Ontbrekende cijfers</strong> worden nooit als nul geteld of geschat; "
        "'Wat ontbreekt' noemt de reden. Jaren van vóór een gemeentelijke herindeling zijn "
        "waar mogelijk opgebouwd uit de voorgangers (status: schatting).</li>"
        "</ul>"
    )
    caveats = _caveats(data, [r.indicator for r in data.rows])
    if caveats:
        out.append("<h3>Kanttekeningen per indicator</h3>")
        out.append('<dl class="kanttekeningen">')
        for label, text in caveats:
            out.append(f"<dt>{esc(label)}</dt><dd>{esc(text)}</dd>")
        out.append("</dl>")
    return Html("\n".join(out))


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
    "samenvatting",
    "scorekaart",
    "show_intervals",
    "show_map",
    "show_retention",
    "show_trends",
    "source_rows",
]


def tabel(frame: Any, caption: str = "") -> Html:
    """Return a data frame as an accessible HTML table (header cells, caption, scroll box).

    Every cell is escaped; the index is left out.
    """
    head = "".join(f'<th scope="col">{esc(c)}</th>' for c in frame.columns)
    body = []
    for values in frame.itertuples(index=False):
        cells = [esc("" if v is None else v) for v in values]
        first, rest = (cells[0], cells[1:]) if cells else ("", [])
        body.append(
            f'<tr><th scope="row">{first}</th>' + "".join(f"<td>{c}</td>" for c in rest) + "</tr>"
        )
    cap = f"<caption>{esc(caption)}</caption>" if caption else ""
    return Html(
        f'<div class="tabel-kader"><table>{cap}<thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )
