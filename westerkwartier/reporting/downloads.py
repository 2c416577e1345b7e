"""The figures behind a report, downloadable: a CSV inside the page and a workbook beside it.

:func:`figures_frame` collects every figure a report shows (scorecards, charts, the map's
neighbours): per indicator, region and year the value with its margin, status and CBS
table, and the median of the statistically comparable municipalities the scorecards show, and
the province without a municipality that dominates its figure where the report compares with
that.
:func:`download_link` puts that table into the page as a CSV in a ``data:`` link, so that the
report stays one self-contained file; :func:`workbook_from_page` reads the CSV back from a
written page and writes the formatted ``.xlsx`` beside it, so both downloads hold the same
numbers as the page.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote_to_bytes

import pandas as pd

from westerkwartier.indicators.catalogue import AGE_SEPARATOR
from westerkwartier.indicators.dominance import LEVEL as DOMINANCE_LEVEL
from westerkwartier.indicators.precision import THRESHOLD, is_missing, precision_kind
from westerkwartier.reporting.formatting import fmt_number
from westerkwartier.reporting.report_data import ReportData

#: Columns of the figures table, in order.
COLUMNS: list[str] = [
    "indicator",
    "omschrijving",
    "eenheid",
    "regio_code",
    "regio",
    "rol",
    "jaar",
    "waarde",
    "ondergrens",
    "bovengrens",
    "soort_marge",
    "status",
    "reden_ontbreekt",
    "bron_tabel",
]

#: Role of the peers' median in the table (its ``regio_code`` is ``mediaan``).
PEER_ROLE = "vergelijkbare gemeenten (mediaan)"

#: Role of the province without the municipality that dominates its figure, which the report
#: compares with instead of the province (its ``regio_code`` is ``PV20-GM1950``).
PROVINCE_WITHOUT_ROLE = "provincie zonder gemeente"

#: Role of the municipality's figure at the age structure of the province or Nederland (rule
#: *leeftijd*), followed by the benchmark: ``gemeente bij leeftijdsopbouw van Nederland``.
AGE_ROLE = "gemeente bij leeftijdsopbouw van"

#: Start of the ``href`` of the CSV link; the CSV follows, percent-encoded (RFC 2397).
CSV_PREFIX = "data:text/csv;charset=utf-8,"

#: What the CSV keeps as it is in the link besides letters and digits: characters that need
#: no escape in a URL nor in a double-quoted HTML attribute, among them the separator ";" and
#: the decimal ",". The link is a sixth shorter than in base64, which pages written before
#: held (:func:`csv_from_page` still reads them); a space or line end takes three characters.
CSV_SAFE = "-._~!$()*,;=:@/"

#: Sheet name of the workbook written beside a report.
SHEET = "Cijfers"

_LINK = re.compile(r'href="data:text/csv;charset=utf-8(;base64)?,([^"]+)"')


def _text(value: Any) -> Any:
    return None if is_missing(value) else value


def _margin(value: Any, lower: Any, upper: Any, precision: Any) -> tuple[Any, Any, Any]:
    """Return ``ondergrens``, ``bovengrens`` and ``soort_marge`` of one figure.

    A survey's interval and a rounding's extremes are bounds of the figure. The EBB's
    ``drempel`` is not: it is the smallest difference that counts, and as value -/+ that
    difference it gave bounds a share cannot have (Schiermonnikoog -28,2%, Ameland 107,8%).
    Its bounds stay empty and ``soort_marge`` says the difference in the figure's unit.

    Examples
    --------
    >>> _margin(12.0, -28.2, 52.2, "drempel: 1.000 personen")
    (None, None, 'drempel: 1.000 personen = 40,2 %-punt')
    >>> _margin(55.0, 53.1, 57.3, "steekproef: 95%-betrouwbaarheidsinterval")
    (53.1, 57.3, 'steekproef: 95%-betrouwbaarheidsinterval')
    """
    if is_missing(lower):
        return None, None, None
    if precision_kind(precision) == THRESHOLD and not is_missing(value):
        points = fmt_number(float(upper) - float(value), 1)
        return None, None, f"{precision} = {points} %-punt"
    return lower, _text(upper), _text(precision)


def figures_frame(data: ReportData) -> pd.DataFrame:
    """Return every figure the report shows, one row per indicator, region and year.

    Parameters
    ----------
    data : ReportData
        The report.

    Returns
    -------
    pandas.DataFrame
        :data:`COLUMNS`; missing values stay empty, with the reason in ``reden_ontbreekt``.
    """
    roles = dict(zip(data.regions["code"], data.regions["role"], strict=True))
    labels = dict(zip(data.regions["code"], data.regions["label"], strict=True))
    p = data.panel[data.panel["region_code"].isin(roles)]
    # neighbours appear only on the map and its bar chart: that indicator's figures
    near = p["region_code"].map(roles).eq("buurgemeente")
    p = p[~near | p["indicator"].eq(data.spec.kaart)]
    cat = data.catalogue
    rows: list[dict[str, Any]] = []
    order = {ind: i for i, ind in enumerate(data.spec.indicators)}
    for r in p.itertuples(index=False):
        region = labels.get(r.region_code, r.region_name)
        rows.append(_panel_row(r, cat[r.indicator], region, roles.get(r.region_code, "")))
    rows += _province_without_rows(data)
    rows += _age_rows(data)
    for row in data.rows:
        comp = row.peers
        if comp is None or comp.other is None:
            continue
        rows.append(_observation_row(row, comp.other, "mediaan", PEER_ROLE, PEER_ROLE))
    frame = pd.DataFrame(rows, columns=COLUMNS)
    rank = {code: i for i, code in enumerate(data.regions["code"])}
    # an age group (overgewicht@65 jaar of ouder) after its indicator's own rows
    base = frame["indicator"].str.partition(AGE_SEPARATOR)[0]
    frame["_i"] = base.map(order).fillna(len(order))
    frame["_r"] = frame["regio_code"].map(rank).fillna(len(rank))
    frame = frame.sort_values(["_i", "_r", "jaar"], kind="stable").drop(columns=["_i", "_r"])
    return frame.reset_index(drop=True)


def _province_without_rows(data: ReportData) -> list[dict[str, Any]]:
    """Return the rows of the province without its dominating municipality, where compared.

    The scorecards, the findings, page 1 and the bars beside the map compare such indicators
    with "provincie Groningen zonder Westerwolde" (:mod:`westerkwartier.indicators.dominance`):
    the figure compared with, in its year, one row per indicator, with the panel's code
    (``PV20-GM1950``) and :data:`PROVINCE_WITHOUT_ROLE`.
    """
    panel = data.panel
    if "level" not in panel:
        return []
    without = panel[panel["level"] == DOMINANCE_LEVEL]
    out: list[dict[str, Any]] = []
    for row in data.rows:
        obs = row.province.other
        if obs is None or obs.left_out is None:
            continue
        hit = without[
            (without["indicator"] == row.indicator)
            & (without["region_name"] == obs.name)
            & (without["year"] == obs.year)
        ]
        if hit.empty:
            continue
        code = str(hit["region_code"].iloc[0])
        out.append(
            _observation_row(row, obs, code, obs.name, PROVINCE_WITHOUT_ROLE, _text(obs.status))
        )
    return out


def _age_rows(data: ReportData) -> list[dict[str, Any]]:
    """Return the rows behind rule *leeftijd*, where a report checked a difference with it.

    For each survey figure whose difference with the province or Nederland was checked at
    the benchmark's age structure: the municipality's figure for each age group in that year
    (CBS's figures, indicator ``<id>@18 tot 65 jaar``) and the figure at the benchmark's age
    structure that the report names, with its interval (role :data:`AGE_ROLE` and the
    benchmark).
    """
    out: list[dict[str, Any]] = []
    ages = data.age_panel
    code, name = data.region.code, data.region.name
    for row in data.rows:
        checked = [(c, c.at_age) for c in (row.province, row.nederland) if c.at_age is not None]
        if not checked or ages is None:
            continue
        year = checked[0][1].year
        for variant in data.catalogue.age_variants([row.indicator]):
            hit = ages[
                (ages["indicator"] == variant)
                & (ages["region_code"] == code)
                & (ages["year"] == year)
            ]
            out += [
                _panel_row(r, data.catalogue[variant], name, "gemeente")
                for r in hit.itertuples(index=False)
            ]
        for comp, obs in checked:
            role = f"{AGE_ROLE} {comp.name.removeprefix('de ')}"
            out.append(_observation_row(row, obs, code, name, role))
    return out


def _panel_row(r: Any, ind: Any, region: str, role: str) -> dict[str, Any]:
    """Return the table's row of one panel row (a named tuple) of indicator ``ind``."""
    lower, upper, kind = _margin(r.value, r.lower, r.upper, r.precision)
    return {
        "indicator": ind.id,
        "omschrijving": ind.label_nl,
        "eenheid": ind.unit,
        "regio_code": r.region_code,
        "regio": region,
        "rol": role,
        "jaar": int(r.year),
        "waarde": _text(r.value),
        "ondergrens": lower,
        "bovengrens": upper,
        "soort_marge": kind,
        "status": _text(r.status),
        "reden_ontbreekt": _text(r.missing_reason) if is_missing(r.value) else None,
        "bron_tabel": _text(r.source_table),
    }


def _observation_row(
    row: Any, obs: Any, code: str, region: str | None, role: str, status: Any = None
) -> dict[str, Any]:
    """Return the table's row of a figure a scorecard row compares (an ``Observation``)."""
    lower, upper, kind = _margin(obs.value, obs.lower, obs.upper, obs.precision)
    return {
        "indicator": row.indicator,
        "omschrijving": row.label,
        "eenheid": row.unit,
        "regio_code": code,
        "regio": region,
        "rol": role,
        "jaar": int(obs.year),
        "waarde": _text(obs.value),
        "ondergrens": lower,
        "bovengrens": upper,
        "soort_marge": kind,
        "status": status,
        "reden_ontbreekt": None,
        "bron_tabel": row.source or None,
    }


def to_csv_text(frame: pd.DataFrame) -> str:
    """Return the table as CSV the way Dutch Excel opens it: ``;`` and a decimal comma."""
    buffer = io.StringIO()
    frame.to_csv(buffer, sep=";", decimal=",", index=False)
    return buffer.getvalue()


def read_csv_text(text: str) -> pd.DataFrame:
    """Read a CSV of :func:`to_csv_text` back (``regio_code`` and ``indicator`` as text)."""
    text = text.removeprefix("\ufeff")
    return pd.read_csv(
        io.StringIO(text),
        sep=";",
        decimal=",",
        dtype={"regio_code": str, "indicator": str, "bron_tabel": str},
    )


def csv_data_uri(frame: pd.DataFrame) -> str:
    """Return the CSV (UTF-8 with a byte-order mark, for Excel) as a ``data:`` URI.

    Examples
    --------
    >>> frame = pd.DataFrame({"regio": ["Súdwest-Fryslân"], "waarde": [74.25]})
    >>> csv_data_uri(frame).removeprefix(CSV_PREFIX)
    '%EF%BB%BFregio;waarde%0AS%C3%BAdwest-Frysl%C3%A2n;74,25%0A'
    """
    raw = ("\ufeff" + to_csv_text(frame)).encode("utf-8")
    return CSV_PREFIX + quote(raw, safe=CSV_SAFE)


def file_stem(data: ReportData) -> str:
    """``westerkwartier-talent-cijfers``: the name of the downloads of a report."""
    from westerkwartier.sources.regions import slug

    return f"{slug(data.region.name)}-{data.spec.id}-cijfers"


def download_link(data: ReportData) -> dict[str, str]:
    """Return what the page needs for the CSV link: ``href``, ``download`` and the xlsx name."""
    stem = file_stem(data)
    return {
        "href": csv_data_uri(figures_frame(data)),
        "download": f"{stem}.csv",
        "xlsx": f"{stem}.xlsx",
    }


def csv_from_page(page: str) -> pd.DataFrame | None:
    """Return the figures table embedded in a report page (None when it has no CSV link)."""
    found = _LINK.search(page)
    if found is None:
        return None
    encoded, payload = found.groups()
    raw = base64.b64decode(payload) if encoded else unquote_to_bytes(payload)
    return read_csv_text(raw.decode("utf-8"))


def workbook_from_page(html_path: Path | str, created: dt.date | None = None) -> Path | None:
    """Write the figures of a written report as a formatted ``.xlsx`` beside it.

    The workbook is read from the CSV inside the page, so it holds the page's numbers. A page
    without the CSV link (a notebook of one's own) gets no workbook. ``created`` dates the
    workbook (the report's date: the same page then gives the same bytes); None: now.

    Returns
    -------
    Path or None
        ``<report>-cijfers.xlsx`` beside the page (the name the page links to), or None.
    """
    from westerkwartier.indicators.panel import ATTRIBUTION
    from westerkwartier.indicators.spreadsheet import write_workbook

    page_path = Path(html_path)
    page = page_path.read_text(encoding="utf-8")
    frame = csv_from_page(page)
    if frame is None:
        return None
    named = re.search(r'data-xlsx="([^"]+)"', page)
    name = named.group(1) if named else f"{page_path.stem}-cijfers.xlsx"
    tables = sorted({t for v in frame["bron_tabel"].dropna() for t in str(v).split("+") if t})
    notes = [
        ATTRIBUTION,
        f"De cijfers van het rapport {page_path.name}: elke waarde die een scorekaart, grafiek "
        "of kaart van het rapport toont, met de marge, de status en de CBS-tabel.",
        "Lege cellen: geen cijfer; de kolom reden_ontbreekt zegt waarom.",
        "CBS-tabellen: " + ", ".join(tables),
    ]
    target = page_path.parent / Path(name).name
    return write_workbook(frame, target, sheet=SHEET, notes=notes, created=created)


__all__ = [
    "COLUMNS",
    "csv_data_uri",
    "csv_from_page",
    "download_link",
    "figures_frame",
    "read_csv_text",
    "to_csv_text",
    "workbook_from_page",
]
