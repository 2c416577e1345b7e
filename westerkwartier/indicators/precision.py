"""How precisely a value is known and shown: missing values, rounding and decimals per unit.

The rules here sit below analysis and presentation: a comparison calls two values equal when
they are equal at the precision a reader sees, and :mod:`westerkwartier.reporting.formatting`
shows them with the same number of decimals.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

import pandas as pd

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
