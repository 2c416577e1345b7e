"""How precisely a value is known and shown: missing values, rounding and decimals per unit.

The rules here sit below analysis and presentation: a comparison calls two values equal when
they are equal at the precision a reader sees, and :mod:`westerkwartier.reporting.formatting`
shows them with the same number of decimals.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

import numpy as np
import pandas as pd

#: Kinds of the interval a value carries in ``lower``/``upper`` (the panel's ``precision`` column
#: starts with one of them, then says what it is about):
#: ``afronding`` = the extremes that CBS's rounded figures allow (a share of two counts rounded to
#: thousands, a whole percentage, a distance in tenths of a kilometre);
#: ``steekproef`` = the 95% confidence interval of a survey (Gezondheidsmonitor);
#: ``drempel`` = the value plus and minus the smallest difference that counts, for a survey that
#: CBS publishes without margins: the Enquête Beroepsbevolking (EBB), whose differences smaller
#: than 1.000 persons are seldom significant (CBS, in the chapter on accuracy of its description
#: of the EBB). The bounds are no interval around the true value: two values differ when they
#: are at least the larger half-width apart (:func:`westerkwartier.analysis.rules.apart`), not
#: when their bounds part.
ROUNDING: str = "afronding"
SURVEY: str = "steekproef"
THRESHOLD: str = "drempel"
PRECISION_KINDS: tuple[str, ...] = (ROUNDING, SURVEY, THRESHOLD)

#: CBS units of counts of whole things: a whole number of them is exact, not rounded.
COUNT_UNITS: frozenset[str] = frozenset({"aantal", "x 1 000", "x 1 000 000"})

#: CBS units whose figures are exact enough when given to the whole unit of the reader (a whole
#: person, dwelling or euro).
WHOLE_UNITS: frozenset[str] = COUNT_UNITS | {"euro", "1 000 euro", "x 1 000 euro", "mln euro"}

#: Rounding steps the inference looks for, largest first (CBS rounds to 5, 10, 100, 1 000 ...).
_STEPS: tuple[float, ...] = tuple(
    sorted({m * 10.0**k for k in range(-3, 7) for m in (1, 5)}, reverse=True)
)

#: Fewest non-zero figures a column needs before its rounding step is inferred from them.
MIN_FIGURES_FOR_STEP: int = 30


def infer_step(values: Any) -> float | None:
    """Return the step CBS rounded a column of figures to (the largest 5 or 10 power they share).

    Parameters
    ----------
    values : array-like of float
        All figures of one topic of one table (NaN and zeros are ignored).

    Returns
    -------
    float or None
        ``1000.0`` when every figure is a multiple of 1 000, ``0.1`` for figures with one
        decimal, and so on. None when there are fewer than :data:`MIN_FIGURES_FOR_STEP`
        figures to tell it from.

    Examples
    --------
    >>> infer_step([1200.0, 3400.0, 500.0] * 10)
    100.0
    >>> infer_step([1.2, 0.7, 2.0] * 10)
    0.1
    >>> infer_step([1.0, 2.0]) is None
    True
    """
    v = np.asarray(values, dtype=float)
    v = v[~np.isnan(v) & (v != 0)]
    if len(v) < MIN_FIGURES_FOR_STEP:
        return None
    for step in _STEPS:
        ratio = v / step
        whole = np.round(ratio)
        close = np.abs(ratio - whole) < 1e-6 * np.maximum(1, np.abs(ratio))
        if np.all(whole != 0) and np.all(close):
            return step
    return None


#: How a rounding step is described, per reader step of a count.
_COUNT_WORDS: dict[float, str] = {
    1_000_000.0: "miljoenen",
    1000.0: "duizendtallen",
    500.0: "vijfhonderdtallen",
    100.0: "honderdtallen",
    50.0: "vijftigtallen",
    10.0: "tientallen",
    5.0: "vijftallen",
}


def rounding_text(step: float, unit: str) -> str:
    """Describe a rounding step in plain Dutch (``aantallen afgerond op duizendtallen``).

    Parameters
    ----------
    step : float
        The step in reader units (persons, euro, %, km).
    unit : str
        The CBS unit of the figures (``aantal``, ``x 1 000``, ``%``, ``km``, ``1 000 euro``).

    Examples
    --------
    >>> rounding_text(1000.0, "x 1 000")
    'aantallen afgerond op duizendtallen'
    >>> rounding_text(1.0, "%")
    'hele procenten'
    >>> rounding_text(0.1, "km")
    'afgerond op 0,1 km'
    """
    if unit in COUNT_UNITS:
        word = _COUNT_WORDS.get(float(step), f"veelvouden van {_number(step)}")
        return f"aantallen afgerond op {word}"
    if unit == "%":
        return "hele procenten" if step >= 1 else f"procenten afgerond op {_number(step)}"
    if "euro" in unit:
        return f"bedragen afgerond op {_number(step)} euro"
    return f"afgerond op {_number(step)} {unit}"


def _number(value: float) -> str:
    text = f"{value:,.10f}".rstrip("0").rstrip(".")
    return text.replace(",", "\u2009").replace(".", ",").replace("\u2009", ".")


def threshold_text(persons: int) -> str:
    """Return the ``precision`` text of a value whose differences count from ``persons`` on.

    Examples
    --------
    >>> threshold_text(1000)
    'drempel: 1.000 personen'
    """
    return f"{THRESHOLD}: {_number(float(persons))} personen"


def precision_kind(text: Any) -> str | None:
    """Return the kind (``afronding``/``steekproef``/``drempel``) of a ``precision`` text, or None.

    Examples
    --------
    >>> precision_kind("afronding: hele procenten"), precision_kind(None)
    ('afronding', None)
    """
    if is_missing(text):
        return None
    head = str(text).split(":", 1)[0].strip()
    return head if head in PRECISION_KINDS else None


def precision_detail(text: Any) -> str:
    """Return what a ``precision`` text says after its kind, or ``""``.

    Examples
    --------
    >>> precision_detail("afronding: aantallen afgerond op honderdtallen")
    'aantallen afgerond op honderdtallen'
    >>> precision_detail(None)
    ''
    """
    if is_missing(text):
        return ""
    return str(text).split(":", 1)[-1].strip()


#: Decimals shown per reader unit (percentages 1; counts 0).
DECIMALS: dict[str, int] = {
    "%": 1,
    "euro": 0,
    "personen": 0,
    "woningen": 0,
    "huishoudens": 0,
    "aantal": 0,
    "km": 1,
    "per 1 000 inwoners": 1,
    "per 10 000 inwoners": 1,
    "m2": 0,
    "per 1 000 woningen": 1,
    "jaarinkomens": 1,
    "adressen per km2": 0,
}


def decimals_for(unit: str) -> int:
    """Return how many decimals a value in this reader unit is shown with.

    Examples
    --------
    >>> decimals_for("%"), decimals_for("euro")
    (1, 0)
    """
    return DECIMALS.get(unit, 1)


def is_missing(value: Any) -> bool:
    """Tell whether a value counts as missing (None, NaN, ``pd.NA``, ``NaT``).

    Parameters
    ----------
    value : Any
        A scalar.

    Returns
    -------
    bool
        True for None and every kind of NaN.

    Examples
    --------
    >>> is_missing(float("nan")), is_missing(None), is_missing(0)
    (True, True, False)
    """
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # list-like or odd objects are not "missing"
        return False


def round_half_up(value: float | int | Decimal, decimals: int) -> Decimal:
    """Round the Dutch (and CBS) way: halves away from zero, on the decimal digits shown."""
    try:
        number = Decimal(str(value))
    except InvalidOperation as exc:  # pragma: no cover - guarded by callers
        raise TypeError(f"Geen getal: {value!r}") from exc
    quantum = Decimal(1).scaleb(-decimals)
    rounded = number.quantize(quantum, rounding=ROUND_HALF_UP)
    if rounded == 0:
        rounded = abs(rounded)  # never "-0,0"
    return rounded


def same_when_shown(a: Any, b: Any, unit: str) -> bool:
    """Tell whether two values look the same when shown in ``unit`` (rounded half up).

    Examples
    --------
    >>> same_when_shown(74.24, 74.2, "%"), same_when_shown(74.26, 74.2, "%")
    (True, False)
    """
    dec = decimals_for(unit)
    return round_half_up(a, dec) == round_half_up(b, dec)
