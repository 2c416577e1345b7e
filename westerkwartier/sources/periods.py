"""CBS period codes.

CBS codes periods as eight characters: ``2023JJ00`` (year), ``2023KW01`` (quarter),
``2023MM01`` (month), ``2020G400``-style multi-year periods. Exports made with
``cbsodata.get_data()`` and StatLine downloads show titles instead (``2023``, ``2012/'13``,
``2023*`` for provisional figures); this module maps such titles back to codes.

School years (``2012/'13``) are coded ``2012SJ13``: start year, ``SJ``, the last two digits of
the end year. Months (``2023 december``, the reference month of stock figures such as jobs in
December or students on 1 January) are coded ``2023MM12``, as CBS does. Half years (``1e halfjaar
2024``, also written ``1e half jaar 2024``; the registers of youth care and Wmo support) are coded
``2024HJ01`` and ``2024HJ02``.
"""

from __future__ import annotations

import datetime as dt
import re

from westerkwartier.errors import CbsSchemaError, InputError

_YEAR = re.compile(r"^(\d{4})$")
_SCHOOL_YEAR = re.compile(r"^(\d{4})/'(\d{2})$")
_CODE = re.compile(r"^(\d{4})([A-Z]{2}|G\d)(\d{2})$")

#: Dutch month names as CBS writes them in period titles (``2023 december``).
MONTHS: dict[str, int] = {
    "januari": 1,
    "februari": 2,
    "maart": 3,
    "april": 4,
    "mei": 5,
    "juni": 6,
    "juli": 7,
    "augustus": 8,
    "september": 9,
    "oktober": 10,
    "november": 11,
    "december": 12,
}
_MONTH = re.compile(r"^(\d{4}) (" + "|".join(MONTHS) + r")$", re.I)
_HALF_YEAR = re.compile(r"^([12])e\s*half\s*jaar\s+(\d{4})$", re.I)

#: Status words CBS uses for periods, keyed by the asterisks StatLine appends to titles.
STATUS_BY_MARK = {"": "definitief", "*": "voorlopig", "**": "nader voorlopig"}


def split_status_mark(title: str) -> tuple[str, str]:
    """Split a period title into the bare title and its status.

    Examples
    --------
    >>> split_status_mark("2023*")
    ('2023', 'voorlopig')
    """
    title = title.strip()
    bare = title.rstrip("*")
    mark = title[len(bare) :]
    return bare.strip(), STATUS_BY_MARK.get(mark, "voorlopig")


def code_from_title(title: str | int) -> str:
    """Map a period title from an export to its CBS code.

    Parameters
    ----------
    title : str or int
        ``2023``, ``"2023*"``, ``"2012/'13"``, ``"2023 december"`` or ``"1e halfjaar 2024"``;
        a value that already is a code is returned unchanged.

    Returns
    -------
    str
        ``2023JJ00``, ``2012SJ13``, ``2023MM12`` or ``2024HJ01``.

    Raises
    ------
    CbsSchemaError
        If the title is not a year, a school year, a month, a half year or a period code.

    Examples
    --------
    >>> code_from_title("2023")
    '2023JJ00'
    >>> code_from_title("2012/'13")
    '2012SJ13'
    >>> code_from_title("2021 december*")
    '2021MM12'
    >>> code_from_title("1e half jaar 2024")
    '2024HJ01'
    """
    text, _ = split_status_mark(str(title))
    if text.endswith(".0") and _YEAR.match(text[:-2]):
        text = text[:-2]
    if _CODE.match(text):
        return text
    if m := _YEAR.match(text):
        return f"{m.group(1)}JJ00"
    if m := _SCHOOL_YEAR.match(text):
        return f"{m.group(1)}SJ{m.group(2)}"
    if m := _MONTH.match(text):
        return f"{m.group(1)}MM{MONTHS[m.group(2).lower()]:02d}"
    if m := _HALF_YEAR.match(" ".join(text.split())):
        return f"{m.group(2)}HJ0{m.group(1)}"
    raise CbsSchemaError(
        f"Onbekende periode {title!r} in een CBS-export: verwacht een jaar (2023), een "
        "schooljaar (2012/'13), een maand (2023 december) of een halfjaar (1e halfjaar 2024). "
        "Controleer of het bestand een ongewijzigde CBS-export is."
    )


def year_of(code: str) -> int:
    """Return the calendar year a period code starts in.

    For a school year (``2022SJ23``) this is the year the school year starts.

    Examples
    --------
    >>> year_of("2023JJ00")
    2023
    """
    m = _CODE.match(code.strip())
    if not m:
        raise CbsSchemaError(f"{code!r} is geen CBS-periodecode zoals 2023JJ00.")
    return int(m.group(1))


def is_year(code: str) -> bool:
    """Return whether ``code`` is a calendar-year period (``JJ``)."""
    return bool(_CODE.match(code.strip())) and code.strip()[4:6] == "JJ"


def is_school_year(code: str) -> bool:
    """Return whether ``code`` is a school-year period (``SJ``)."""
    return bool(_CODE.match(code.strip())) and code.strip()[4:6] == "SJ"


def is_month(code: str) -> bool:
    """Return whether ``code`` is a month period (``MM``, e.g. ``2023MM12``)."""
    return bool(_CODE.match(code.strip())) and code.strip()[4:6] == "MM"


def is_half_year(code: str) -> bool:
    """Return whether ``code`` is a half-year period (``HJ``, e.g. ``2024HJ01``)."""
    text = code.strip()
    return bool(_CODE.match(text)) and text[4:6] == "HJ" and text[6:] in ("01", "02")


def half_of(code: str) -> int:
    """Return the half (1 or 2) of a half-year period code.

    Examples
    --------
    >>> half_of("2024HJ01")
    1
    """
    if not is_half_year(code):
        raise CbsSchemaError(f"{code!r} is geen halfjaarperiode zoals 2024HJ01.")
    return int(code.strip()[6:])


def month_of(code: str) -> int:
    """Return the month (1-12) of a month period code.

    Examples
    --------
    >>> month_of("2023MM12")
    12
    """
    if not is_month(code):
        raise CbsSchemaError(f"{code!r} is geen maandperiode zoals 2023MM12.")
    return int(code.strip()[6:])


def title_of(code: str) -> str:
    """Return a readable Dutch title for a period code (``2023``, ``2022/'23``, ``2023 mei``).

    Examples
    --------
    >>> title_of("2024HJ01")
    '1e halfjaar 2024'
    """
    code = code.strip()
    if is_year(code):
        return code[:4]
    if is_school_year(code):
        return f"{code[:4]}/'{code[6:]}"
    if is_month(code) and 1 <= int(code[6:]) <= 12:
        names = list(MONTHS)
        return f"{code[:4]} {names[int(code[6:]) - 1]}"
    if is_half_year(code):
        return f"{int(code[6:])}e halfjaar {code[:4]}"
    return code


def dutch_date(value: dt.date | str) -> str:
    """Write a date in full as Dutch text does: ``1 juli 2015``.

    The one place where the package spells a date for a reader (report, index page, batch
    notice, messages), with babel's Dutch month names.

    Parameters
    ----------
    value : datetime.date or str
        A date (a datetime counts by its day) or an ISO date ``JJJJ-MM-DD``; other text (such
        as ``onbekend``) is returned unchanged, anything else as text (never today's date,
        which babel writes for None).

    Returns
    -------
    str

    Examples
    --------
    >>> dutch_date("1998-09-25"), dutch_date(dt.datetime(2026, 12, 4, 21, 5))
    ('25 september 1998', '4 december 2026')
    >>> dutch_date("onbekend"), dutch_date(None)
    ('onbekend', 'None')
    """
    if isinstance(value, str):
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            return value
    elif isinstance(value, dt.date):
        day = value.date() if isinstance(value, dt.datetime) else value
    else:  # babel would write today's date for None
        return str(value)
    from babel.dates import format_date  # lazily: a kernel that never writes a date skips it

    return str(format_date(day, format="long", locale="nl_NL"))


#: Earliest year a person may ask for (CBS StatLine series start in 1899/1900).
FIRST_YEAR = 1900


def check_year(year: int, *, today: int | None = None) -> int:
    """Check a year typed by a person: not before :data:`FIRST_YEAR`, not in the future.

    Raises
    ------
    InputError
        With the valid range and what to do.

    Examples
    --------
    >>> check_year(2023, today=2025)
    2023
    """
    import datetime as _dt

    now = int(today if today is not None else _dt.date.today().year)
    if year > now:
        raise InputError(
            f"Jaar {year} ligt in de toekomst; CBS-cijfers gaan hoogstens tot {now}. "
            "Kies een eerder jaar of laat --jaar weg voor het laatste jaar met cijfers."
        )
    if year < FIRST_YEAR:
        raise InputError(
            f"Jaar {year} valt buiten het bereik ({FIRST_YEAR}-{now}). Kies een jaar in dat "
            "bereik of laat --jaar weg voor het laatste jaar met cijfers."
        )
    return int(year)
