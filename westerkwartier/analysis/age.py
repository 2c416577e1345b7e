"""Survey differences at the same age structure (rule *leeftijd*).

The Gezondheidsmonitor gives every figure for all adults and for two age groups, 18 to 65 and
65 or older. Much of what it measures depends on age: a young student city has fewer adults
with a chronic condition than its province because it is young, not because its people are
healthier at the same age. A reader of "significant lager dan in de provincie" asks exactly
that, so the reports answer it.

A region's figure for all adults is the mix of its two groups, weighted by its share of
adults aged 65 or older, as CBS weighs the survey to the population: ``T = (1 - w) Y + w O``.
:func:`older_share` reads that share back from the region's own figures (all survey indicators
of one year at once, least squares), so no other table and no other year is needed.
:func:`at_age_structure` then gives a municipality's figure as it would be with the
benchmark's share of older adults (direct age standardisation: its own groups in the
benchmark's mix), with its own interval widened by the uncertainty of that move. A difference
with the province or Nederland holds at the same age structure when that figure and the
benchmark's are still apart (:func:`westerkwartier.analysis.rules.apart`) on the same side.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from westerkwartier.indicators.catalogue import AGE_SEPARATOR
from westerkwartier.indicators.precision import is_missing

#: The age groups of the Gezondheidsmonitor, younger first, as CBS names them.
YOUNG, OLD = "18 tot 65 jaar", "65 jaar of ouder"

#: Least squares needs groups that differ: the sum of the squared differences between the two
#: groups' figures (percentage points) over a region's indicators must reach this, as one
#: indicator whose groups are 5 points apart does.
MIN_SPREAD: float = 25.0


def older_share(panel: pd.DataFrame) -> dict[tuple[str, int], float]:
    """Return each region's share of adults aged 65 or older, per year, from its survey figures.

    For each region and year, over the indicators whose total and both age groups have a
    value: ``w`` minimising ``sum((T - Y) - w (O - Y))^2``, that is
    ``sum((T - Y)(O - Y)) / sum((O - Y)^2)``. Left out when the groups barely differ
    (:data:`MIN_SPREAD`) or the share falls outside 0 to 1.

    Parameters
    ----------
    panel : pandas.DataFrame
        Panel rows (``region_code``, ``indicator``, ``year``, ``value``) of survey indicators
        and of their age variants (``<id>@18 tot 65 jaar``, ``<id>@65 jaar of ouder``).

    Returns
    -------
    dict
        (region code, year) -> share between 0 and 1.

    Examples
    --------
    >>> rows = [("NL01", "a", 33.0), ("NL01", "a@18 tot 65 jaar", 28.6),
    ...         ("NL01", "a@65 jaar of ouder", 47.0)]
    >>> frame = pd.DataFrame(rows, columns=["region_code", "indicator", "value"]).assign(year=2022)
    >>> round(older_share(frame)[("NL01", 2022)], 3)
    0.239
    """
    if panel.empty:
        return {}
    parts = panel["indicator"].astype(str).str.partition(AGE_SEPARATOR)
    frame = pd.DataFrame(
        {
            "region": panel["region_code"].astype(str).to_numpy(),
            "year": pd.to_numeric(panel["year"]).to_numpy(),
            "base": parts[0].to_numpy(),
            "group": parts[2].replace("", "totaal").to_numpy(),
            "value": pd.to_numeric(panel["value"], errors="coerce").to_numpy(),
        }
    )
    wide = frame.pivot_table(
        index=["region", "year", "base"], columns="group", values="value", aggfunc="first"
    )
    if not {"totaal", YOUNG, OLD} <= set(wide.columns):
        return {}
    wide = wide.dropna(subset=["totaal", YOUNG, OLD])
    a = wide["totaal"] - wide[YOUNG]
    b = wide[OLD] - wide[YOUNG]
    sums = pd.DataFrame({"ab": a * b, "bb": b * b}).groupby(level=["region", "year"]).sum()
    shares: dict[tuple[str, int], float] = {}
    for (region, year), row in sums.iterrows():
        if row["bb"] < MIN_SPREAD:
            continue
        share = float(row["ab"] / row["bb"])
        if 0.0 <= share <= 1.0:
            shares[(str(region), int(year))] = share
    return shares


def at_age_structure(
    total: Any, young: Any, old: Any, own_share: float, share: float
) -> tuple[float, float, float] | None:
    """Return a figure as it would be with another share of older adults: value and bounds.

    The figure moves by ``(share - own_share) * (old - young)``: what the other mix of the two
    age groups changes. Its interval is the figure's own, widened by the uncertainty of that
    move (the groups' half-widths, combined as independent errors, times the difference in
    shares): the groups' intervals are wider than that of the whole, and a figure should not
    lose its significance only because it is looked at per group.

    Parameters
    ----------
    total : Observation
        The municipality's figure for all adults, with its interval.
    young, old : Observation
        Its figures for 18 to 65 and for 65 or older, each with its interval.
    own_share, share : float
        The municipality's and the benchmark's share of adults aged 65 or older
        (:func:`older_share`).

    Returns
    -------
    tuple of float or None
        None when a figure or a bound is missing.

    Examples
    --------
    >>> from types import SimpleNamespace as V
    >>> total = V(value=30.8, lower=28.9, upper=32.7)
    >>> young = V(value=27.4, lower=25.3, upper=29.7)
    >>> old = V(value=46.8, lower=44.4, upper=49.2)
    >>> [round(x, 2) for x in at_age_structure(total, young, old, 0.18, 0.246)]
    [32.08, 30.17, 33.99]
    """
    figures = (total, young, old)
    if any(f is None or _missing(f.value, f.lower, f.upper) for f in figures):
        return None
    moved = share - own_share
    value = float(total.value) + moved * (float(old.value) - float(young.value))
    spread = abs(moved) * math.hypot(*((float(g.upper) - float(g.lower)) / 2 for g in (young, old)))
    below = math.hypot(float(total.value) - float(total.lower), spread)
    above = math.hypot(float(total.upper) - float(total.value), spread)
    return value, value - below, value + above


def _missing(*values: Any) -> bool:
    return any(v is None or is_missing(v) for v in values)
