"""Dutch formatting of numbers and units for the reports.

Numbers are written the Dutch way (``74,2%``, ``€ 304.000``, ``64.896``), rounded half up to
the decimals of their unit (:mod:`westerkwartier.indicators.precision`).

Examples
--------
>>> fmt_pct(74.2)
'74,2%'
>>> fmt_eur(304000)
'€ 304.000'
>>> fmt_value(12.35, "per 1 000 inwoners", 1)
'12,4 per 1.000 inwoners'
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from decimal import Decimal
from functools import lru_cache
from typing import Any

from babel.numbers import format_decimal

from westerkwartier.analysis.comparison import Observation, year_runs
from westerkwartier.config import ConfigError, config_file, read_toml
from westerkwartier.indicators.precision import (
    ROUNDING,
    THRESHOLD,
    decimals_for,
    is_missing,
    round_half_up,
)


def fmt(value: Any, unit: str) -> str:
    """Format a value in a reader unit the Dutch way (``74,2%``, ``€ 304.000``).

    Examples
    --------
    >>> fmt(74.24, "%")
    '74,2%'
    >>> fmt(12.345, "per 1 000 inwoners")
    '12,3 per 1.000 inwoners'
    """
    return fmt_value(value, unit, decimals_for(unit))


def fmt_interval(obs: Observation, unit: str) -> str:
    """Format the 95% interval of a value: ``53,1-57,3%``; empty without bounds."""
    if not obs.has_interval:
        return ""
    dec = decimals_for(unit)
    suffix = "%" if unit == "%" else ""
    return f"{fmt_number(obs.lower, dec)}–{fmt_number(obs.upper, dec)}{suffix}"


def interval_shown(obs: Observation | None, unit: str) -> bool:
    """Tell whether a value's interval is worth showing beside it.

    A survey's 95% interval always is; a rounding interval only when it is wider than one step
    of the decimals shown (a whole percentage shown as ``2,0%``, a share of counts rounded to
    thousands), not a distance of ``1,6 km`` that is itself rounded to tenths. The bounds of a
    ``drempel`` (EBB) never are: they mark the smallest difference that counts.

    Examples
    --------
    >>> interval_shown(Observation(2024, 64.7, 57.1, 72.7, precision="afronding: x"), "%")
    True
    >>> interval_shown(Observation(2024, 1.6, 1.55, 1.65, precision="afronding: x"), "km")
    False
    """
    if obs is None or not obs.has_interval or obs.kind == THRESHOLD:
        return False  # a threshold (EBB) is no interval around the value
    if obs.kind != ROUNDING:
        return True
    step = 10.0 ** -decimals_for(unit)
    return float(obs.high) - float(obs.low) > 2 * step * 1.000001


def fmt_margin(obs: Observation | None, unit: str) -> str:
    """``door afronding tussen 57,1% en 72,7%`` or ``95%-interval 53,1–57,3%``; empty if none.

    Examples
    --------
    >>> fmt_margin(Observation(2024, 64.7, 57.14, 72.73, precision="afronding: x"), "%")
    'door afronding tussen 57,1% en 72,7%'
    """
    if not interval_shown(obs, unit):
        return ""
    assert obs is not None
    if obs.kind == ROUNDING:
        return f"door afronding tussen {fmt_short(obs.lower, unit)} en {fmt_short(obs.upper, unit)}"
    return f"95%-interval {fmt_interval(obs, unit)}"


def fmt_other_margin(own: Observation | None, other: Observation | None, unit: str) -> str:
    """Give the benchmark's margin when it, not the municipality's, keeps a difference small.

    Noardeast-Fryslân's 42,9% (95%-interval 38,9–46,9%) against 47,5% in its province and
    47,5% in Nederland: "niet significant" beside the one and "significant lager" beside the
    other, because the province's own interval (46,5–48,6%) reaches into the municipality's.
    The reader sees that only with the benchmark's interval. Empty when the benchmark's value
    lies within the municipality's interval (the reason shows already) or the benchmark has
    no interval worth showing.

    Examples
    --------
    >>> own = Observation(2022, 42.9, 38.9, 46.9, precision="steekproef: x")
    >>> province = Observation(2022, 47.5, 46.5, 48.6, precision="steekproef: x")
    >>> fmt_other_margin(own, province, "%")
    '95%-interval 46,5–48,6%'
    >>> fmt_other_margin(own, Observation(2022, 45.0, 44.0, 46.0, precision="steekproef: x"), "%")
    ''
    """
    if own is None or other is None or not interval_shown(other, unit):
        return ""
    if own.has_interval and own.low <= other.value <= own.high:
        return ""
    return fmt_margin(other, unit)


def fmt_change_range(start: Observation, end: Observation, unit: str) -> str:
    """Format the smallest and largest change two rounded values allow: ``+2,6 en +32,7 %-punt``.

    A unit written after the number comes once, after the second bound; an amount in euros
    keeps its sign on both.

    Examples
    --------
    >>> a = Observation(2019, 47.1, 40.0, 54.5, precision="afronding: x")
    >>> b = Observation(2024, 64.7, 57.1, 72.7, precision="afronding: x")
    >>> fmt_change_range(a, b, "%")
    '+2,6 en +32,7 %-punt'
    >>> a = Observation(2019, 207.0, 206.5, 207.5, precision="afronding: x")
    >>> b = Observation(2024, 300.0, 299.5, 300.5, precision="afronding: x")
    >>> fmt_change_range(a, b, "1 000 euro")
    '+€ 92.000 en +€ 94.000'
    >>> fmt_change_range(a, b, "x 1 000")
    '+92.000 en +94.000'
    """
    lo = end.low - start.high
    hi = end.high - start.low
    first, second = fmt_change(float(lo), unit), fmt_change(float(hi), unit)
    shown = re.match(r"[+\-±]\d[\d.,]*", first)
    if shown and "€" not in first:  # only the number: the unit follows the second bound
        first = shown.group()
    return f"{first} en {second}"


def _signed(change: float, size: str) -> str:
    """``size`` (the shown magnitude of ``change``) with its sign; ``±`` when it shows as 0.

    Only the first number of ``size`` counts: a unit may hold digits (``per 1.000 inwoners``).
    """
    number = re.search(r"\d[\d.,]*", size)
    if change == 0 or number is None or not any(d in number.group() for d in "123456789"):
        return f"±{size}"
    return f"{'+' if change > 0 else '-'}{size}"


def fmt_signed(value: float, decimals: int = 2) -> str:
    """Format a change with its sign: ``+0,79``, ``-0,03``, ``±0,00``.

    Examples
    --------
    >>> fmt_signed(0.787), fmt_signed(-0.032), fmt_signed(-0.001)
    ('+0,79', '-0,03', '±0,00')
    """
    return _signed(value, fmt_number(abs(value), decimals))


def fmt_change(change: float, unit: str) -> str:
    """Format a change with its sign: ``+1,2 %-punt`` for percentages, else in the unit.

    A change too small to show at the unit's decimals is ``±0,0``, never ``-0,0``.

    Examples
    --------
    >>> fmt_change(1.23, "%"), fmt_change(-0.04, "%"), fmt_change(-93.0, "1 000 euro")
    ('+1,2 %-punt', '±0,0 %-punt', '-€ 93.000')
    >>> fmt_change(-0.04, "per 1 000 inwoners"), fmt_change(-0.06, "per 1 000 inwoners")
    ('±0,0 per 1.000 inwoners', '-0,1 per 1.000 inwoners')
    """
    dec = decimals_for(unit)
    if unit == "%":
        return f"{fmt_signed(change, dec)} %-punt"
    return _signed(change, fmt_value(abs(change), unit, dec))


#: Units of a size: a distance or an area is "groter" or "kleiner", not "hoger" or "lager".
SIZE_UNITS: frozenset[str] = frozenset({"km", "m2"})

_SIZE_WORDS: dict[str, str] = {
    "hoger": "groter",
    "lager": "kleiner",
    "even hoog als": "even groot als",
    "stijgt": "neemt toe",
    "daalt": "neemt af",
    "gestegen": "toegenomen",
    "gedaald": "afgenomen",
}


def word_for(word: str, unit: str | None) -> str:
    """Return the word a reader expects for a comparison or a change of a value in ``unit``.

    The verdict rules keep their own words (``hoger``, ``daalt``); only what the reports
    print changes.

    Examples
    --------
    >>> word_for("hoger", "km"), word_for("gedaald", "m2"), word_for("hoger", "%")
    ('groter', 'afgenomen', 'hoger')
    """
    if unit in SIZE_UNITS:
        return _SIZE_WORDS.get(word, word)
    return word


def fmt_short(value: Any, unit: str) -> str:
    """Format a benchmark value in a sentence: with ``%`` or ``€``, other units bare.

    Examples
    --------
    >>> fmt_short(28.81, "per 1 000 inwoners"), fmt_short(71.2, "%")
    ('28,8', '71,2%')
    """
    if unit in ("%", "euro"):
        return fmt(value, unit)
    return fmt_number(value, decimals_for(unit))


def fmt_benchmark(value: Any, unit: str) -> str:
    """Format a benchmark value in a finding: like :func:`fmt_short`, a size with its unit.

    "kleiner dan in de provincie Utrecht (4,1 km)": a distance or an area reads as one with
    its unit; a rate per 1.000 stays bare, as its subject names it.

    Examples
    --------
    >>> fmt_benchmark(4.1, "km"), fmt_benchmark(28.81, "per 1 000 inwoners")
    ('4,1 km', '28,8')
    """
    if unit in SIZE_UNITS:
        return fmt(value, unit)
    return fmt_short(value, unit)


#: Text shown for a missing value (never "0" or "nan").
MISSING = "niet beschikbaar"


#: Locale of all formatted numbers.
LOCALE = "nl_NL"


# ----------------------------------------------------------------------------------------------
# Numbers
# ----------------------------------------------------------------------------------------------


def _pattern(decimals: int) -> str:
    return "#,##0" + ("." + "0" * decimals if decimals > 0 else "")


@lru_cache(maxsize=65_536)
def _format_rounded(rounded: Decimal, decimals: int) -> str:
    # Babel's formatting costs about 0.1 ms a call; a report formats the same tick labels
    # and values thousands of times, so the text of each rounded number is kept.
    return format_decimal(rounded, format=_pattern(decimals), locale=LOCALE)


def fmt_number(value: Any, decimals: int = 0) -> str:
    """Format a number the Dutch way: ``.`` between thousands, ``,`` before decimals.

    Parameters
    ----------
    value : float or int
        The number; None or NaN gives :data:`MISSING`.
    decimals : int, default 0
        Digits after the decimal comma. Halves are rounded away from zero.

    Returns
    -------
    str
        The formatted number.

    Examples
    --------
    >>> fmt_number(1234567.891, 2)
    '1.234.567,89'
    >>> fmt_number(2.5)
    '3'
    """
    if is_missing(value):
        return MISSING
    if decimals < 0:
        raise ValueError(f"decimals moet 0 of groter zijn, niet {decimals}")
    return _format_rounded(round_half_up(value, decimals), decimals)


def fmt_range(low: Any, high: Any, decimals: int = 0, *, signed: bool = False) -> str:
    """Format a class of values: ``0,8–3,3``, or ``-3,6 tot -1,5`` when a bound is negative.

    A dash between two minus signs (``-3,6--1,5``) reads as a subtraction. A class whose
    bounds read the same (all its areas have one value) is that value. ``signed`` writes
    changes with their sign, always with "tot" (``+10 tot +42``).

    Examples
    --------
    >>> fmt_range(0.8, 3.3, 1), fmt_range(-602.1, -3.6, 1), fmt_range(-1.5, 0.8, 1)
    ('0,8–3,3', '-602,1 tot -3,6', '-1,5 tot 0,8')
    >>> fmt_range(-10, -10), fmt_range(10, 42, signed=True), fmt_range(-10, -10, signed=True)
    ('-10', '+10 tot +42', '-10')
    """
    written = fmt_signed if signed else fmt_number
    lo, hi = written(low, decimals), written(high, decimals)
    if lo == hi:
        return lo
    if signed or lo.startswith("-") or hi.startswith("-"):
        return f"{lo} tot {hi}"
    return f"{lo}–{hi}"


def fmt_int(value: Any) -> str:
    """Format a whole number with a dot between thousands.

    Examples
    --------
    >>> fmt_int(64896)
    '64.896'
    """
    return fmt_number(value, 0)


def fmt_pct(value: Any, decimals: int = 1) -> str:
    """Format a percentage that is already in percent (74.2, not 0.742).

    Examples
    --------
    >>> fmt_pct(74.2)
    '74,2%'
    >>> fmt_pct(None)
    'niet beschikbaar'
    """
    if is_missing(value):
        return MISSING
    return f"{fmt_number(value, decimals)}%"


def fmt_eur(value: Any, decimals: int = 0) -> str:
    """Format an amount in euro: ``€ 304.000`` (a plain space after the sign).

    Examples
    --------
    >>> fmt_eur(304000)
    '€ 304.000'
    >>> fmt_eur(-12.5, 2)
    '€ -12,50'
    """
    if is_missing(value):
        return MISSING
    return f"€ {fmt_number(value, decimals)}"


def _normalise_unit(unit: str | None) -> str:
    text = (unit or "").replace("\u00a0", " ").replace("\u202f", " ").strip()
    return re.sub(r"\s+", " ", text)


def unit_label(unit: str | None) -> str:
    """Return a CBS unit written for readers (``1 000`` becomes ``1.000``).

    Examples
    --------
    >>> unit_label("per 1 000 inwoners")
    'per 1.000 inwoners'
    >>> unit_label("1 000 euro")
    'euro'
    >>> unit_label("m2"), unit_label("adressen per km2")
    ('m²', 'adressen per km²')
    """
    text = _normalise_unit(unit)
    lowered = text.lower()
    if lowered in {"euro", "€", "eur", "1 000 euro", "x 1 000 euro", "mln euro", "x 1 mln euro"}:
        return "euro"
    if lowered in {"x 1 000", "aantal"}:
        return "aantal"
    text = re.sub(r"\b(k?m)2\b", r"\1²", text)  # m2, km2: square metres and kilometres
    return re.sub(r"(\d) (\d{3})\b", r"\1.\2", text)


#: Words of at least this many letters get soft hyphens in :func:`breakable`.
LONG_WORD: int = 14


@lru_cache(maxsize=1)
def _dutch_hyphenator() -> Any:
    import pyphen

    return pyphen.Pyphen(lang="nl_NL", left=3, right=3)


@lru_cache(maxsize=1)
def hyphenation_exceptions() -> dict[str, str]:
    """Words that pyphen breaks inside a part, with their breaks (``config/afbreken.toml``).

    Returns
    -------
    dict of str to str
        Word in lower case to the word with a ``-`` at every place it may break.

    Raises
    ------
    ConfigError
        The file cannot be read, or an entry is not its key with hyphens.
    """
    path = config_file("afbreken.toml")
    file = read_toml(path, what="de afbreekuitzonderingen")
    table = file.data.get("uitzonderingen", {})
    problems = [
        (
            file.line("uitzonderingen", word),
            f"{word} = {parts!r}: de waarde moet het woord zelf zijn, in kleine letters, met "
            f'een "-" op elke plek waar het mag breken (beweegrichtlijn = "beweeg-richt-lijn")',
        )
        for word, parts in table.items()
        if not isinstance(parts, str) or word != word.lower() or parts.replace("-", "") != word
    ]
    if problems:
        raise ConfigError(path, problems, what="de afbreekuitzonderingen")
    return dict(table)


def _soft_hyphens(word: str) -> str:
    parts = hyphenation_exceptions().get(word.lower())
    if parts is None:
        return _dutch_hyphenator().inserted(word, hyphen="\u00ad")
    out, at = [], 0
    for part in parts.split("-"):
        out.append(word[at : at + len(part)])
        at += len(part)
    return "\u00ad".join(out)


def breakable(text: str, shortest: int = LONG_WORD) -> str:
    """Return ``text`` with soft hyphens (U+00AD) in its long Dutch words.

    ``shortest`` is the length from which a word is hyphenated. (In HTML a line may also
    break after a slash: :func:`westerkwartier.reporting.html.breakable_html`.)

    A narrow column on paper (a scorecard on A4) then breaks "Betalingsachterstand" as
    "Betalings-" and "achterstand" with a hyphen, instead of anywhere without one: Chromium,
    which prints the PDFs, has no Dutch hyphenation of its own. Soft hyphens are invisible
    where the word fits, and screen readers skip them. Only words of at least
    :data:`LONG_WORD` letters are touched.

    Examples
    --------
    >>> breakable("Betalingsachterstand zorgpremie").replace("\u00ad", "|")
    'Beta|lings|ach|ter|stand zorgpremie'
    >>> breakable("Rokers")
    'Rokers'

    A compound that the dictionary breaks inside a part is listed in ``config/afbreken.toml``:

    >>> breakable("Voldoet aan de beweegrichtlijn").replace("\u00ad", "|")
    'Voldoet aan de beweeg|richt|lijn'
    """
    return re.sub(rf"[^\W\d_]{{{shortest},}}", lambda m: _soft_hyphens(m.group(0)), text)


def and_list(items: Sequence[str]) -> str:
    """Join ``items`` the Dutch way: commas, and "en" before the last.

    Examples
    --------
    >>> and_list(["Brielle", "Hellevoetsluis", "Westvoorne"])
    'Brielle, Hellevoetsluis en Westvoorne'
    >>> and_list(["2019", "2021"])
    '2019 en 2021'
    >>> and_list(["Urk"])
    'Urk'
    >>> and_list([])
    ''
    """
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " en " + items[-1]


def year_spans(years: Iterable[int]) -> str:
    """Write years as runs: ``2015-2016 en 2018-2023``.

    Examples
    --------
    >>> year_spans([2015, 2016, 2018, 2019, 2020, 2023])
    '2015-2016, 2018-2020 en 2023'
    >>> year_spans([2019])
    '2019'
    """
    return and_list([f"{a}-{b}" if b > a else str(a) for a, b in year_runs(years)])


def fmt_value(value: Any, unit: str | None = None, decimals: int | None = None) -> str:
    """Format a value according to its CBS unit.

    Parameters
    ----------
    value : float or int
        The value as published (in the unit given).
    unit : str, optional
        A CBS unit: ``%``, ``euro``, ``1 000 euro``, ``mln euro``, ``aantal``, ``x 1 000``,
        ``km``, ``per 1 000 inwoners``, ``jaar``, ... Values in thousands are multiplied out
        (and lose three decimals). An unknown unit is written after the number.
    decimals : int, optional
        Decimals as published (CBS ``DataProperties.Decimals``). Default: 1 for percentages,
        0 otherwise.

    Returns
    -------
    str
        The value with its unit, or :data:`MISSING`.

    Examples
    --------
    >>> fmt_value(45.6, "1 000 euro", 1)
    '€ 45.600'
    >>> fmt_value(2.25, "km", 1)
    '2,3 km'
    >>> fmt_value(float("nan"), "%")
    'niet beschikbaar'
    >>> fmt_value(-1.94, "%-punt", 1)  # a change of a share (wijken), not "-1,9% -punt"
    '-1,9 %-punt'
    """
    if is_missing(value):
        return MISSING
    text = _normalise_unit(unit)
    lowered = text.lower()
    if lowered in {"%-punt", "procentpunt"}:
        return f"{fmt_number(value, 1 if decimals is None else decimals)} %-punt"
    if lowered.startswith("%") or lowered == "procent":
        rest = text[1:].strip() if lowered.startswith("%") else ""
        formatted = fmt_pct(value, 1 if decimals is None else decimals)
        return f"{formatted} {rest}".strip()
    dec = 0 if decimals is None else decimals
    if lowered in {"euro", "€", "eur"}:
        return fmt_eur(value, dec)
    if lowered in {"1 000 euro", "x 1 000 euro"}:
        return fmt_eur(Decimal(str(value)) * 1000, max(dec - 3, 0))
    if lowered in {"mln euro", "x 1 mln euro"}:
        return f"€ {fmt_number(value, dec)} mln"
    if lowered in {"", "aantal"}:
        return fmt_number(value, dec)
    if lowered == "x 1 000":
        return fmt_number(Decimal(str(value)) * 1000, max(dec - 3, 0))
    return f"{fmt_number(value, dec)} {unit_label(text)}"
