"""The index page that lists every report with its municipality, year and dates."""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from westerkwartier.errors import ParameterError
from westerkwartier.pipeline.notebook import write_atomic
from westerkwartier.reporting.html import find_external_urls, report_css

# ----------------------------------------------------------------------------------------------
# Index page
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IndexEntry:
    """One line of the index page.

    Attributes
    ----------
    municipality : str
        Name of the municipality (with its code if wanted), e.g. ``"Westerkwartier (GM1969)"``.
    report : str
        Report name as readers know it, e.g. ``"Talent"``.
    reference_year : int or str
        Year the figures are about.
    data_date : datetime.date or str
        Date the data were retrieved or published (the report's ``peildatum``).
    generated : datetime.date or str
        Date the report was made; passed in, never read from the clock here.
    href : str
        Relative link from the index to the report, e.g. ``"GM1969/talent.html"``.
    """

    municipality: str
    report: str
    reference_year: int | str
    data_date: dt.date | str
    generated: dt.date | str
    href: str


def _fmt_date(value: dt.date | str) -> str:
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        from babel.dates import format_date

        return format_date(value, format="long", locale="nl_NL")
    return str(value)


def _as_entry(entry: IndexEntry | Mapping[str, Any]) -> IndexEntry:
    if isinstance(entry, IndexEntry):
        return entry
    try:
        return IndexEntry(**dict(entry))
    except TypeError as exc:
        fields = ", ".join(IndexEntry.__dataclass_fields__)
        raise ParameterError(
            f"Onvolledige regel voor de index ({exc}); nodig: {fields}.",
            name="entries",
            valid=list(IndexEntry.__dataclass_fields__),
        ) from None


def render_index(
    entries: Iterable[IndexEntry | Mapping[str, Any]], *, title: str = "Rapporten"
) -> str:
    """Return the HTML of the index page (see :func:`write_index`)."""
    rows = []
    for raw in entries:
        entry = _as_entry(raw)
        href = entry.href.strip()
        if find_external_urls(f'href="{href}"') or re.match(r"^[a-z][a-z0-9+.-]*:", href, re.I):
            raise ParameterError(
                f"Link {href!r} in de index is geen relatief pad; de index moet offline werken.",
                name="href",
                valid=["relatief pad, bijvoorbeeld GM1969/talent.html"],
            )
        esc = html.escape
        rows.append(
            "<tr>"
            f"<td>{esc(entry.municipality)}</td>"
            f'<td><a href="{esc(href, quote=True)}">{esc(entry.report)}</a></td>'
            f"<td>{esc(str(entry.reference_year))}</td>"
            f"<td>{esc(_fmt_date(entry.data_date))}</td>"
            f"<td>{esc(_fmt_date(entry.generated))}</td>"
            "</tr>"
        )
    body_rows = "\n".join(rows) if rows else '<tr><td colspan="5">Nog geen rapporten.</td></tr>'
    return (
        "<!DOCTYPE html>\n"
        '<html lang="nl">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n"
        f'<style>\n{report_css()}\n</style>\n</head>\n<body>\n<main class="rapport">\n'
        f"<h1>{html.escape(title)}</h1>\n"
        '<div class="tabel-kader">\n<table>\n'
        "<caption>Alle rapporten, met het jaar waarover de cijfers gaan, de datum van de "
        "gegevens en de datum waarop het rapport is gemaakt.</caption>\n"
        "<thead><tr>"
        '<th scope="col">Gemeente</th><th scope="col">Rapport</th>'
        '<th scope="col">Peiljaar</th><th scope="col">Gegevens van</th>'
        '<th scope="col">Gemaakt op</th>'
        "</tr></thead>\n<tbody>\n"
        f"{body_rows}\n</tbody>\n</table>\n</div>\n"
        '<p class="bron">Bron van de cijfers: CBS (Centraal Bureau voor de Statistiek), '
        "licentie CC BY 4.0.</p>\n"
        "</main>\n</body>\n</html>\n"
    )


def write_index(
    entries: Iterable[IndexEntry | Mapping[str, Any]],
    path: Path = Path("reports/index.html"),
    *,
    title: str = "Rapporten",
) -> Path:
    """Write the index page listing every report, atomically.

    Parameters
    ----------
    entries : iterable of IndexEntry or mapping
        One per report, in the order to show; mappings need the fields of
        :class:`IndexEntry`. All text is escaped.
    path : Path, default ``reports/index.html``
        Where the page goes.
    title : str, default "Rapporten"
        Page title and heading.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    westerkwartier.errors.ParameterError
        For an entry with missing fields or a link that is not a relative path.
    """
    return write_atomic(Path(path), render_index(entries, title=title))
