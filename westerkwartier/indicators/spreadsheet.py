"""Spreadsheets for analysts: one data sheet with Dutch number formats and a sources sheet.

:func:`write_workbook` writes a frame to an ``.xlsx`` file the way an analyst expects to open
it: the header row frozen, an autofilter on every column, columns as wide as their contents,
numbers as numbers with a format that Excel shows in the reader's own notation (thousands
separator and decimal comma in a Dutch Excel), years without a thousands separator, and a
second sheet ``Bronnen`` that describes exactly the columns the data sheet has, followed by the
source and notes.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

#: Widest column, in characters; longer text wraps in the cell when opened.
MAX_WIDTH: int = 60

#: Columns holding years or codes that must not get a thousands separator.
YEAR_COLUMNS: frozenset[str] = frozenset({"year", "jaar", "comparable_from", "vergelijkbaar_vanaf"})

#: What the columns of the project's tables mean; a sources sheet lists those that are present.
DESCRIPTIONS: dict[str, str] = {
    "region_code": "CBS-code van de regio (GM = gemeente, PV = provincie, NL01 = Nederland).",
    "region_name": "Naam van de regio.",
    "level": "Soort regio: gemeente, provincie, COROP-gebied of land.",
    "year": "Jaar (bij schooljaren het beginjaar).",
    "indicator": "Id van de indicator in de catalogus van westerkwartier; met @ en een "
    "leeftijdsgroep (overgewicht@65 jaar of ouder) het cijfer van die leeftijdsgroep.",
    "value": "Waarde in de eenheid van de indicator; leeg = geen cijfer (zie missing_reason).",
    "lower": "Ondergrens: 95%-interval van een enquête, de afronding van de CBS-cijfers of "
    "(drempel) de waarde min het kleinste verschil dat telt.",
    "upper": "Bovengrens: 95%-interval van een enquête, de afronding van de CBS-cijfers of "
    "(drempel) de waarde plus het kleinste verschil dat telt.",
    "precision": "Soort marge van lower/upper: steekproef, afronding of drempel (EBB: een "
    "verschil van minder dan 1.000 personen is volgens CBS zelden significant).",
    "status": "Status van het CBS-cijfer (definitief, voorlopig) of 'schatting'.",
    "source_table": "CBS-tabel(len) waaruit het cijfer komt.",
    "missing_reason": "Waarom er geen cijfer is (bij een lege waarde).",
    "note": "Toelichting bij het cijfer.",
    "comparable_from": "Eerste jaar van de reeks waartoe de waarde hoort (bij een trendbreuk).",
    "theme": "Thema van de indicator.",
    "label_nl": "Omschrijving van de indicator.",
    "unit": "Eenheid.",
    "direction": "Wat gunstig is: hoger, lager of context (niet beoordeeld).",
    "toelichting": "Waarom de gemeente geen cijfer heeft (bij een lege waarde).",
    # the report's figures (downloads of a report)
    "omschrijving": "Omschrijving van de indicator zoals in het rapport.",
    "eenheid": "Eenheid van waarde, ondergrens en bovengrens.",
    "regio_code": "CBS-code van de regio; 'mediaan' voor de vergelijkbare gemeenten; "
    "provincie-gemeente (PV20-GM1950) voor een provincie zonder die gemeente.",
    "regio": "Naam van de regio zoals in het rapport.",
    "rol": "Rol in het rapport: gemeente, provincie, Nederland, buurgemeente, vergelijking "
    "(extra gemeente), vergelijkbare gemeenten (mediaan), provincie zonder gemeente (de "
    "provincie zonder een gemeente die haar cijfer sterk kleurt; het rapport vergelijkt "
    "daarmee) of gemeente bij leeftijdsopbouw van de provincie of Nederland (het cijfer van "
    "de gemeente met het aandeel 65-plussers van de provincie of Nederland; regel leeftijd in "
    "de verantwoording).",
    "jaar": "Jaar (bij schooljaren het beginjaar).",
    "waarde": "Het cijfer; leeg = geen cijfer (zie reden_ontbreekt).",
    "ondergrens": "Ondergrens van de marge: 95%-interval van een enquête of de uiterste "
    "waarde die de afronding toelaat.",
    "bovengrens": "Bovengrens van de marge: 95%-interval van een enquête of de uiterste "
    "waarde die de afronding toelaat.",
    "soort_marge": "Soort marge: steekproef (enquête), afronding (CBS rondt af) of drempel "
    "(EBB: een verschil van minder dan 1.000 personen is volgens CBS zelden significant; "
    "na '=' dat verschil in procentpunten, zonder onder- en bovengrens).",
    "reden_ontbreekt": "Waarom er geen cijfer is.",
    "bron_tabel": "CBS-tabel(len) waaruit het cijfer komt.",
}


def number_format(values: Sequence[Any], column: str) -> str | None:
    """Return the Excel number format of a numeric column (None for text).

    Years get ``0``; other numbers a thousands separator and as many decimals (at most three)
    as the values need. Excel shows the separators in the reader's own notation.

    Examples
    --------
    >>> number_format([2022, 2023], "jaar")
    '0'
    >>> number_format([74.2, 1200.0], "waarde")
    '#,##0.0'
    >>> number_format([304000.0], "waarde")
    '#,##0'
    """
    numbers = [
        float(v)
        for v in values
        if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
    ]
    if column in YEAR_COLUMNS:
        return "0"
    if not numbers:
        return None
    decimals = 0
    for value in numbers:
        while decimals < 3 and abs(round(value, decimals) - value) > 1e-9 * max(1, abs(value)):
            decimals += 1
    return "#,##0" + ("." + "0" * decimals if decimals else "")


def sources_frame(
    frame: pd.DataFrame,
    descriptions: Mapping[str, str] | None = None,
    notes: Sequence[str] = (),
) -> pd.DataFrame:
    """Return the sources sheet: one row per column of ``frame``, then the notes.

    Only the columns that are really there are described; a column without a known
    description says so instead of being left out.
    """
    known = {**DESCRIPTIONS, **(descriptions or {})}
    rows = [
        {"kolom": str(c), "betekenis": known.get(str(c), "(geen beschrijving: kolom van de regio)")}
        for c in frame.columns
    ]
    rows += [{"kolom": "", "betekenis": ""}] if notes else []
    rows += [{"kolom": "toelichting", "betekenis": note} for note in notes]
    return pd.DataFrame(rows, columns=["kolom", "betekenis"])


def _python_value(value: Any) -> Any:
    """Return a cell value as plain Python (a numpy scalar is no number to XlsxWriter)."""
    return value.item() if hasattr(value, "item") else value


def _write_sheet(book: Any, name: str, frame: pd.DataFrame, formats: bool) -> None:
    """Write one sheet: a bold, frozen header row with a filter, then the values.

    Each column gets its width and, for numbers, its number format as a column format, which
    every data cell takes (the cells are written without a format of their own). A missing
    value is an empty cell.
    """
    sheet = book.add_worksheet(name)
    sheet.write_row(0, 0, [str(c) for c in frame.columns], book.add_format({"bold": True}))
    sheet.freeze_panes(1, 0)
    if len(frame.columns):
        sheet.autofilter(0, 0, len(frame), len(frame.columns) - 1)
    made: dict[tuple[tuple[str, Any], ...], Any] = {}
    for number, column in enumerate(frame.columns):
        values = frame[column].tolist()
        missing = frame[column].isna().tolist()
        # one call per column (a missing value is None: no cell, as XlsxWriter writes no
        # blank cell without a format); cell by cell, the checks of write() cost a third more
        sheet.write_column(
            1,
            number,
            [None if e else _python_value(v) for v, e in zip(values, missing, strict=True)],
        )
        props: dict[str, Any] = {}
        fmt = number_format(values, str(column)) if formats else None
        if fmt is not None:
            props["num_format"] = fmt
        texts = ("" if e else str(v) for v, e in zip(values[:2000], missing[:2000], strict=True))
        shown = [str(column), *texts]
        width = min(MAX_WIDTH, max(len(text) for text in shown) + 2)
        if width >= MAX_WIDTH:
            props.update(text_wrap=True, valign="top")
        key = tuple(sorted(props.items()))
        if props and key not in made:
            made[key] = book.add_format(props)
        sheet.set_column(number, number, max(width, 8), made.get(key))


def write_workbook(
    frame: pd.DataFrame,
    path: Path | str,
    *,
    sheet: str = "Cijfers",
    descriptions: Mapping[str, str] | None = None,
    notes: Sequence[str] = (),
    created: dt.date | None = None,
) -> Path:
    """Write ``frame`` and its sources sheet to a formatted ``.xlsx`` file.

    Parameters
    ----------
    frame : pandas.DataFrame
        The data; missing values become empty cells, never zero.
    path : Path or str
        Target file.
    sheet : str
        Name of the data sheet (at most 31 characters).
    descriptions : mapping, optional
        Column name -> meaning, added to :data:`DESCRIPTIONS`.
    notes : sequence of str
        Lines after the column descriptions (source, attribution, how to read).
    created : datetime.date, optional
        The workbook's creation date (its document properties). With it, the same figures
        give the same bytes, as the report's page does; without it, the moment of writing.

    Returns
    -------
    Path
        The file written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    about = sources_frame(frame, descriptions, notes)
    import xlsxwriter

    # XlsxWriter writes a report's figures about five times faster than openpyxl through
    # pandas; text stays text (no formulas or links made from it)
    options = {"strings_to_formulas": False, "strings_to_urls": False, "nan_inf_to_errors": True}
    book = xlsxwriter.Workbook(str(path), options)
    if created is not None:
        book.set_properties({"created": dt.datetime(created.year, created.month, created.day)})
    _write_sheet(book, sheet[:31], frame, formats=True)
    _write_sheet(book, "Bronnen", about, formats=False)
    book.close()  # the file is written here, and only when every sheet was filled
    return path


__all__ = ["DESCRIPTIONS", "number_format", "sources_frame", "write_workbook"]
