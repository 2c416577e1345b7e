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
benchmark's share of older adults: its own figure per group, mixed with the benchmark's
weights (direct age standardisation), with a 95% interval from the two groups' intervals
(independent samples). A difference with the province or Nederland holds at the same age
structure when that figure and the benchmark's are still apart
(:func:`westerkwartier.analysis.rules.apart`) on the same side.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
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


def at_age_structure(young: Any, old: Any, share: float) -> tuple[float, float, float] | None:
    """Return a figure with another share of older adults: value, lower and upper bound.

    ``(1 - share) * young + share * old``; each bound moves from the value by the groups'
    distances to their own bounds, combined as independent errors.

    Parameters
    ----------
    young, old : Observation
        The municipality's figure for 18 to 65 and for 65 or older, each with its interval.
    share : float
        The benchmark's share of adults aged 65 or older (:func:`older_share`).

    Returns
    -------
    tuple of float or None
        None when a group or a bound is missing.

    Examples
    --------
    >>> from types import SimpleNamespace as V
    >>> young = V(value=27.4, lower=25.3, upper=29.7)
    >>> old = V(value=46.8, lower=44.4, upper=49.2)
    >>> [round(x, 1) for x in at_age_structure(young, old, 0.24)]
    [32.1, 30.4, 33.9]
    """
    groups = (young, old)
    if any(g is None or _missing(g.value, g.lower, g.upper) for g in groups):
        return None
    weights = (1.0 - share, share)
    value = sum(w * float(g.value) for w, g in zip(weights, groups, strict=True))
    below = math.hypot(
        *(w * (float(g.value) - float(g.lower)) for w, g in zip(weights, groups, strict=True))
    )
    above = math.hypot(
        *(w * (float(g.upper) - float(g.value)) for w, g in zip(weights, groups, strict=True))
    )
    return value, value - below, value + above


def _missing(*values: Any) -> bool:
    return any(v is None or is_missing(v) for v in values)


def variants_of(indicator_id: str, groups: Sequence[str]) -> Mapping[str, str]:
    """Return group -> the id of the indicator's age variant.

    Examples
    --------
    >>> variants_of("overgewicht", [YOUNG, OLD])[OLD]
    'overgewicht@65 jaar of ouder'
    """
    return {g: f"{indicator_id}{AGE_SEPARATOR}{g}" for g in groups}
