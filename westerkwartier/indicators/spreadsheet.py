"""Spreadsheets for analysts: one data sheet with Dutch number formats and a sources sheet.

:func:`write_workbook` writes a frame to an ``.xlsx`` file the way an analyst expects to open
it: the header row frozen, an autofilter on every column, columns as wide as their contents,
numbers as numbers with a format that Excel shows in the reader's own notation (thousands
separator and decimal comma in a Dutch Excel), years without a thousands separator, and a
second sheet ``Bronnen`` that describes exactly the columns the data sheet has, followed by the
source and notes.
"""

from __future__ import annotations

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
    "indicator": "Id van de indicator in de catalogus van westerkwartier.",
    "value": "Waarde in de eenheid van de indicator; leeg = geen cijfer (zie missing_reason).",
    "lower": "Ondergrens: 95%-interval van een enquête of de afronding van de CBS-cijfers.",
    "upper": "Bovengrens: 95%-interval van een enquête of de afronding van de CBS-cijfers.",
    "precision": "Soort marge van lower/upper (steekproef of afronding).",
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
    "regio_code": "CBS-code van de regio; 'mediaan' voor de vergelijkbare gemeenten.",
    "regio": "Naam van de regio zoals in het rapport.",
    "rol": "Rol in het rapport: gemeente, provincie, Nederland, buurgemeente, vergelijking "
    "(extra gemeente) of vergelijkbare gemeenten (mediaan).",
    "jaar": "Jaar (bij schooljaren het beginjaar).",
    "waarde": "Het cijfer; leeg = geen cijfer (zie reden_ontbreekt).",
    "ondergrens": "Ondergrens van de marge: 95%-interval van een enquête of de afronding.",
    "bovengrens": "Bovengrens van de marge: 95%-interval van een enquête of de afronding.",
    "soort_marge": "Soort marge: steekproef (enquête) of afronding (CBS rondt af).",
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


def _format_sheet(sheet: Any, frame: pd.DataFrame, formats: bool) -> None:
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    if sheet.max_row >= 1 and sheet.max_column >= 1:
        sheet.auto_filter.ref = sheet.dimensions
    for number, column in enumerate(frame.columns, start=1):
        letter = get_column_letter(number)
        values = frame[column].tolist()
        fmt = number_format(values, str(column)) if formats else None
        if fmt is not None:
            for cell in sheet[letter][1:]:
                if isinstance(cell.value, int | float) and not isinstance(cell.value, bool):
                    cell.number_format = fmt
        shown = [str(column), *("" if _empty(v) else str(v) for v in values[:2000])]
        width = min(MAX_WIDTH, max(len(text) for text in shown) + 2)
        sheet.column_dimensions[letter].width = max(width, 8)
        if width >= MAX_WIDTH:
            for cell in sheet[letter][1:]:
                cell.alignment = Alignment(wrap_text=True, vertical="top")


def _empty(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def write_workbook(
    frame: pd.DataFrame,
    path: Path | str,
    *,
    sheet: str = "Cijfers",
    descriptions: Mapping[str, str] | None = None,
    notes: Sequence[str] = (),
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

    Returns
    -------
    Path
        The file written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    about = sources_frame(frame, descriptions, notes)
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        frame.to_excel(writer, sheet_name=sheet[:31], index=False)
        about.to_excel(writer, sheet_name="Bronnen", index=False)
        _format_sheet(writer.sheets[sheet[:31]], frame, formats=True)
        _format_sheet(writer.sheets["Bronnen"], about, formats=False)
    return path


__all__ = ["DESCRIPTIONS", "number_format", "sources_frame", "write_workbook"]
