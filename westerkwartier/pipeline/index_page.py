"""The index page that lists every report with its municipality, year and dates."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from westerkwartier.errors import ParameterError
from westerkwartier.pipeline.notebook import write_atomic
from westerkwartier.reporting.html import is_external, render_template, report_css
from westerkwartier.sources.periods import dutch_date

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
    entries: Iterable[IndexEntry | Mapping[str, Any]],
    *,
    title: str = "Rapporten",
    notice: str = "",
) -> str:
    """Return the HTML of the index page (see :func:`write_index`)."""
    rows = []
    for raw in entries:
        entry = _as_entry(raw)
        href = entry.href.strip()
        scheme = re.match(r"^[a-z][a-z0-9+.-]*:", href, re.I)
        if is_external(href) or href.startswith("/") or scheme:
            raise ParameterError(
                f"Link {href!r} in de index is geen relatief pad; de index moet offline werken.",
                name="href",
                valid=["relatief pad, bijvoorbeeld GM1969/talent.html"],
            )
        rows.append(
            {
                "municipality": entry.municipality,
                "href": href,
                "report": entry.report,
                "reference_year": str(entry.reference_year),
                "data_date": dutch_date(entry.data_date),
                "generated": dutch_date(entry.generated),
            }
        )
    return render_template(
        "index.html.j2",
        title=title,
        css=report_css(),
        entries=rows,
        notice=notice,
    )


def write_index(
    entries: Iterable[IndexEntry | Mapping[str, Any]],
    path: Path = Path("reports/index.html"),
    *,
    title: str = "Rapporten",
    notice: str = "",
) -> Path:
    """Write the index page listing every report, atomically.

    The one writer of index pages: ``westerkwartier report`` (one folder per municipality) and
    ``westerkwartier batch`` (one folder per run) both hand it their entries.

    Parameters
    ----------
    entries : iterable of IndexEntry or mapping
        One per report, in the order to show; mappings need the fields of
        :class:`IndexEntry`. All text is escaped.
    path : Path, default ``reports/index.html``
        Where the page goes.
    title : str, default "Rapporten"
        Page title and heading.
    notice : str, optional
        A notice about the data shown above the list (e.g. that CBS could not be reached).

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    westerkwartier.errors.ParameterError
        For an entry with missing fields or a link that is not a relative path.
    """
    return write_atomic(Path(path), render_index(entries, title=title, notice=notice))
