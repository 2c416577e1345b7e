"""Evaluate an indicator's formula per region and year, and say why a value is missing.

:func:`compute` takes the operand frames of one indicator (:class:`OperandData`), evaluates the
catalogue formula, converts the unit and attaches the status, source table and, for a missing
value, its reason (never a zero).
"""

from __future__ import annotations

import itertools
import re
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pandas as pd

from westerkwartier.indicators.catalogue import (
    MISSING,
    STATUSES,
    TABLE_GAPS,
    Indicator,
    Operand,
    boundary_break_reason,
    rounded_small_reason,
)
from westerkwartier.indicators.extraction import SUM_NOTE
from westerkwartier.indicators.mergers import _start_years
from westerkwartier.indicators.precision import ROUNDING, SURVEY, threshold_text

#: A ratio of counts that CBS rounds to thousands (``x 1 000``) is withheld when the largest of
#: those counts (in practice the denominator) is below this many persons: rounding alone could
#: then move a share by 5 percentage points or more (Schiermonnikoog's 1 000 workers would
#: otherwise give 0,0% on occupational level 3-4).
MIN_ROUNDED_COUNT = 10_000

#: An operand whose rounding the catalogue states (``rounded_to``) must reach this many times
#: its rounding base, or the ratio is withheld: then rounding alone moves that count by at most
#: 5% (jobs rounded to hundreds: at least 1 000 jobs).
MIN_ROUNDING_MULTIPLE = 10


# -- computing an indicator ---------------------------------------------------------------------
@dataclass
class OperandData:
    """An operand's observations after table choice, rebuild and lag, with what went wrong."""

    obs: pd.DataFrame
    #: why years the available tables do not cover are missing (a :data:`MISSING` value)
    gap_reason: str = MISSING["not_published"]
    #: municipalities with figures from before their last boundary change (series breaks)
    existed: set[str] = field(default_factory=set)
    #: how CBS rounded the operand's figures (``aantallen afgerond op duizendtallen``), if at all
    precision: str | None = None
    #: when a table of the operand is an offline copy cut off partway through its regions
    #: (:func:`westerkwartier.indicators.panel.cut_by_region`): the regions the operand has
    #: figures of or the copy holds; a region outside them is only online. None: no such copy
    covered: frozenset[str] | None = None


def _table_reasons(
    data: OperandData,
    off_year: str | None,
    published: np.ndarray,
    measured: np.ndarray,
    grid_regions: pd.Index,
) -> np.ndarray:
    """Why each cell of the grid lacks the operand, as far as its tables tell.

    A year outside the indicator's years has no measurement (or is not published); a measured
    year the tables do not cover has the tables' own reason (``gap_reason``); a year they do
    cover is not published for the region, unless the region lies past the end of an offline
    copy cut off partway through its regions: then it is only online.
    """
    why = np.full(len(grid_regions), off_year or MISSING["not_published"], dtype=object)
    why[measured] = data.gap_reason
    why[published] = MISSING["not_published"]
    if data.covered is not None:
        # a hash lookup: numpy compares object arrays element by element, once per code
        beyond = ~grid_regions.isin(list(data.covered))
        why[published & beyond] = MISSING["online_only"]
    return why


def _before_tables(data: OperandData, off_year: str | None, grid_years: np.ndarray) -> np.ndarray:
    """Tell which cells lie before the first year the tables at hand give, for want of a table.

    Such a year has the tables' own reason (``gap_reason``), not "niet gepubliceerd", when the
    indicator is not one CBS measures in some years only: a table that is not at hand (37259ned,
    only online) holds the older years of a chain whose newer table is (37259eng, from 2012), so
    a change over ten years starts offline in 2022 while CBS publishes what 2015-2021 need too.
    """
    if off_year is None and data.gap_reason != MISSING["not_published"] and len(data.obs):
        return grid_years < int(data.obs["year"].min())
    return np.zeros(len(grid_years), dtype=bool)


def _unbuilt(
    grid_regions: pd.Index, early: np.ndarray, has: np.ndarray, earlier: np.ndarray
) -> np.ndarray:
    """Return the cells whose reason is the region's boundary change.

    ``early`` marks the cells before the change in years the tables cover (a rebuilt figure
    where ``has``; the others say why), ``earlier`` those before the change in years before
    the tables (:func:`_before_tables`). A region with an early year the tables cover but that
    could not be rebuilt cannot be rebuilt in an earlier year either (that needs the same
    predecessors, at least): its earlier cells say why too, not that the table is only online.
    A region rebuilt in its early years may be rebuilt online in the earlier ones as well.
    """
    if not earlier.any():
        return early
    return early | (earlier & grid_regions.isin(grid_regions[early & ~has]))


def compute(  # noqa: C901 - over the limit; see tests/test_complexity.py
    indicator: Indicator,
    operands: Mapping[str, OperandData],
    regions: Iterable[str],
    years: Iterable[int] | None = None,
    mergers: pd.DataFrame | None = None,
    breaks: Mapping[str, int] | None = None,
    existed: Iterable[str] = (),
    start_years: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Evaluate an indicator for regions and years, saying why values are missing.

    Parameters
    ----------
    indicator : Indicator
        The catalogue entry.
    operands : mapping of str to OperandData
        Observations per operand (see :func:`extract`, :func:`combine_tables`,
        :func:`rebuild_mergers`), lag already applied.
    regions : iterable of str
        Region codes to report.
    years : iterable of int, optional
        Years to report. Default: every year any non-lagged operand has; when no operand has
        data at all, the last year of the catalogue (the reference year).
    mergers : pandas.DataFrame, optional
        To tell "municipality did not exist yet" from "not published".
    breaks : mapping of str to int, optional
        For an indicator with ``series_break``: the year of each municipality's last boundary
        change (:func:`westerkwartier.indicators.mergers.boundary_breaks`); earlier years
        without a rebuilt value say why.
    existed : iterable of str
        Municipalities among ``breaks`` that existed before their change (their missing years
        say "grenzen gewijzigd" instead of "bestond nog niet").
    start_years : mapping of str to float, optional
        The first year of each successor in ``mergers``, when the caller has it already
        (computed from ``mergers`` otherwise).

    Returns
    -------
    pandas.DataFrame
        region_code, year, indicator, value, lower, upper, precision, status, source_table,
        missing_reason (empty where there is a value), note (``som van de gemeenten`` for a
        province or Nederland summed from its municipalities). ``lower`` and ``upper`` hold
        the 95% interval of a survey figure or the extremes that CBS's rounded figures allow
        (:func:`_rounding_bounds`); ``precision`` says which (``steekproef: ...``,
        ``afronding: aantallen afgerond op duizendtallen``).
    """
    regions = list(dict.fromkeys(regions))
    if years is None:
        sets = [
            set(pd.unique(d.obs["year"]).astype(int))
            for n, d in operands.items()
            if indicator.operands[n].lag <= 0 and len(d.obs)
        ]
        found: set[int] = set.intersection(*sets) if sets else set()
        if any(d.gap_reason != MISSING["not_published"] for d in operands.values()):
            found.update(indicator.years)
        years = sorted(found) or [indicator.years[-1]]
    years = sorted({int(y) for y in years})
    # The grid is every region x every year, regions outermost; cell = region * n_years + year.
    region_index = pd.Index(regions, dtype=object)  # obs codes are plain objects too
    year_index = pd.Index(years)
    n_years = len(years)
    n = len(regions) * n_years
    grid_regions = pd.Index(regions).repeat(n_years)
    grid_years = np.tile(np.asarray(years, dtype=int), len(regions))
    start = dict(start_years) if start_years is not None else _start_years(mergers)
    break_text: dict[str, str] = {}
    if indicator.series_break != "none" and breaks:
        start = {r: float(y) for r, y in breaks.items()}
        was = set(existed)
        break_text = {r: boundary_break_reason(int(y), r in was) for r, y in breaks.items()}
    born = np.repeat(np.array([start.get(r, np.nan) for r in regions], dtype=float), n_years)
    rank_of = {s: i for i, s in enumerate(STATUSES)}

    env: dict[str, np.ndarray] = {}
    lows: dict[str, np.ndarray] = {}
    highs: dict[str, np.ndarray] = {}
    lower = upper = np.full(n, np.nan)
    measured = np.isin(grid_years, np.asarray(indicator.years, dtype=int))
    off_year = MISSING["no_measurement"] if _measured_in_some_years(indicator) else None
    reasons = np.full(n, None, dtype=object)
    notes = np.zeros(n, dtype=bool)
    statuses = np.zeros(n, dtype=int)
    # source tables per cell: per operand a code into its list of tables (-1: none)
    source_codes: list[np.ndarray] = []
    source_names: list[np.ndarray] = []
    for name, data in operands.items():
        obs = data.obs
        pos = _grid_positions(obs, region_index, year_index)
        present = pos >= 0
        take = np.where(present, pos, 0)

        def column(col: str, obs=obs, take=take, present=present) -> np.ndarray:
            values = obs[col].to_numpy()[take] if len(obs) else np.full(n, np.nan)
            blank = np.asarray(np.nan if values.dtype.kind == "f" else None)
            return np.where(present, values, blank)

        env[name] = column("value").astype(float)
        if indicator.margins_operand is not None and name == indicator.formula.strip():
            lower, upper = column("lower").astype(float), column("upper").astype(float)
        elif len(obs):
            lows[name], highs[name] = column("lower").astype(float), column("upper").astype(float)
        has = present & ~np.isnan(env[name])
        if "note" in obs and len(obs):
            noted = (obs["note"].to_numpy(dtype=object) == SUM_NOTE)[take]
            notes |= has & noted
        if len(obs):
            codes, names = pd.factorize(obs["status"].to_numpy(dtype=object))
            rank = np.array([rank_of.get(s, 0) for s in names] + [0], dtype=int)
            op_status = np.where(present, rank[codes[take]], 0)  # code -1: the last, 0
            codes, names = pd.factorize(obs["source_table"].to_numpy(dtype=object))
            source_codes.append(np.where(has, codes[take], -1))
            source_names.append(np.asarray(names, dtype=object))
        else:
            op_status = np.zeros(n, dtype=int)
        statuses = np.where(has, np.maximum(statuses, op_status), statuses)
        # why this operand is missing; the first operand that explains it wins
        table_years = np.isin(grid_years, pd.unique(obs["year"]))
        lag = indicator.operands[name].lag
        too_early = ~np.isnan(born) & (grid_years - lag < born)
        before = _before_tables(data, off_year, grid_years)
        # a table that is only online explains only the years CBS publishes the indicator
        why = _table_reasons(data, off_year, measured & table_years, measured, grid_regions)
        why[before] = data.gap_reason
        why[present] = MISSING["suppressed"]
        early = _unbuilt(grid_regions, table_years & too_early, has, before & too_early)
        if break_text:
            why[early] = [break_text[r] for r in grid_regions[early].tolist()]
        else:
            why[early] = MISSING["not_rebuildable"]
        fill = (reasons == None) & ~has  # noqa: E711
        reasons[fill] = why[fill]

    with np.errstate(divide="ignore", invalid="ignore"):
        value = pd.eval(indicator.formula, engine="python", local_dict=env, global_dict={})
    value = np.asarray(value, dtype=float).copy()
    value[np.isinf(value)] = np.nan
    in_formula = set(re.findall(r"[A-Za-z_]\w*", indicator.formula)) & set(indicator.operands)
    rounded = [
        n
        for n in in_formula
        if indicator.operands[n].cbs_unit == "x 1 000" and indicator.operands[n].rounded_to is None
    ]
    # a value, or a division by a count that CBS rounded to zero: every operand is there
    computable = ~np.isnan(value) | np.logical_and.reduce(
        [~np.isnan(env[name]) for name in sorted(in_formula)]
    )
    if rounded and len(in_formula) > 1:  # a ratio of counts rounded to thousands
        largest = np.fmax.reduce([env[name] for name in rounded])
        with np.errstate(invalid="ignore"):
            too_small = (largest < MIN_ROUNDED_COUNT) & computable
        value[too_small] = np.nan
        reasons[too_small] = MISSING["rounded_small"]
    stated = sorted(
        (base, n) for n in in_formula if (base := indicator.operands[n].rounded_to) is not None
    )
    if stated and len(in_formula) > 1:  # each count with a stated rounding must be large enough
        # a count too small withholds the value online as well: that, not the table, says why
        checked = computable | pd.Series(reasons, dtype=object).isin(TABLE_GAPS).to_numpy()
        for base, name in stated:  # the coarsest rounding names the reason
            with np.errstate(invalid="ignore"):
                too_small = (np.abs(env[name]) < MIN_ROUNDING_MULTIPLE * base) & checked
            value[too_small] = np.nan
            reasons[too_small] = rounded_small_reason(base)
    nan_value = np.isnan(value)
    lower, upper, precision = _bounds(indicator, value, env, (lower, upper), lows, highs, operands)
    lower, upper = lower.copy(), upper.copy()
    lower[nan_value], upper[nan_value] = np.nan, np.nan
    precision[nan_value] = None
    reasons[nan_value & (reasons == None)] = MISSING["zero_denominator"]  # noqa: E711
    reasons[~nan_value] = None
    status = np.array(STATUSES, dtype=object)[statuses]
    if indicator.status:
        status[:] = indicator.status
    status[nan_value] = None
    source = _source_tables(source_codes, source_names, n)
    source[nan_value] = _dedupe_sources(_table_list(indicator))
    note = pd.Series(
        np.where(notes & ~nan_value, SUM_NOTE, np.asarray(None)), dtype=object, copy=False
    )
    return pd.DataFrame(
        {
            "region_code": grid_regions,
            "year": grid_years,
            "indicator": indicator.id,
            "value": value,
            "lower": lower,
            "upper": upper,
            # texts stay Python objects until the whole panel is made text at once
            # (panel.conform: through the distinct values, not cell by cell per indicator)
            "precision": pd.Series(precision, dtype=object, copy=False),
            "status": pd.Series(status, dtype=object, copy=False),
            "source_table": pd.Series(source, dtype=object, copy=False),
            "missing_reason": pd.Series(reasons, dtype=object, copy=False),
            "note": note,
        }
    )


def _bounds(
    indicator: Indicator,
    value: np.ndarray,
    env: Mapping[str, np.ndarray],
    margins: tuple[np.ndarray, np.ndarray],
    lows: Mapping[str, np.ndarray],
    highs: Mapping[str, np.ndarray],
    operands: Mapping[str, OperandData],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return ``lower``, ``upper`` and ``precision`` per cell, of the kind the indicator has.

    A survey's 95% interval (``margins``, read from CBS's Marges), the smallest difference
    that counts for a survey without margins (:func:`_threshold_bounds`), or the extremes that
    CBS's rounding allows (:func:`_rounding_bounds`).
    """
    if indicator.margins_operand is not None:
        lower, upper = margins
        precision = np.full(len(value), None, dtype=object)
        precision[~np.isnan(lower)] = f"{SURVEY}: 95%-betrouwbaarheidsinterval"
        return lower, upper, precision
    if (rate := indicator.threshold_operand) is not None:
        return _threshold_bounds(rate, value, env)
    return _rounding_bounds(indicator, value, env, lows, highs, operands)


def _threshold_bounds(
    rate: Operand, value: np.ndarray, env: Mapping[str, np.ndarray]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the value minus and plus the smallest difference that counts, in %-points.

    A difference of ``rate.significant_persons`` persons is ``100 * persons / base``
    percentage points of a rate over ``base`` persons (the rate's weight): 1.000 persons are
    2,1 points of Westerkwartier's 47.000 inhabitants of 15 to 75 (2024), and 0,007 of
    Nederland's. Where the base is missing or zero the value gets no bounds.
    """
    assert rate.significant_persons is not None and rate.weight is not None
    base = env[rate.weight]
    with np.errstate(divide="ignore", invalid="ignore"):
        half = 100.0 * rate.significant_persons / base
    bounded = ~np.isnan(value) & np.isfinite(half) & (base > 0)
    lower = np.where(bounded, value - half, np.nan)
    upper = np.where(bounded, value + half, np.nan)
    precision = np.full(len(value), None, dtype=object)
    precision[bounded] = threshold_text(rate.significant_persons)
    return lower, upper, precision


#: At most this many rounded operands are varied between their bounds (2**n evaluations).
MAX_VARIED_OPERANDS = 6


def _rounding_bounds(
    indicator: Indicator,
    value: np.ndarray,
    env: Mapping[str, np.ndarray],
    lows: Mapping[str, np.ndarray],
    highs: Mapping[str, np.ndarray],
    operands: Mapping[str, OperandData],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the extremes of the formula over its operands' rounding intervals, per cell.

    Every rounded operand is set to its lower and its upper bound in turn (all combinations);
    the lowest and highest outcome are the bounds. The formulas of the catalogue are monotone
    in each operand (sums, differences and ratios of counts), so the combinations reach the
    true extremes. ``precision`` names the rounding of the operand with the widest relative
    interval.
    """
    n = len(value)
    lower = np.full(n, np.nan)
    upper = np.full(n, np.nan)
    precision = np.full(n, None, dtype=object)
    in_formula = set(re.findall(r"[A-Za-z_]\w*", indicator.formula))
    varied = [
        name
        for name in indicator.operands
        if name in in_formula and name in lows and np.any(highs[name] - lows[name] > 0)
    ][:MAX_VARIED_OPERANDS]
    if not varied:
        return lower, upper, precision
    bounds = {
        name: (
            np.where(np.isnan(lows[name]), env[name], lows[name]),
            np.where(np.isnan(highs[name]), env[name], highs[name]),
        )
        for name in varied
    }
    outcomes = []
    for choice in itertools.product((0, 1), repeat=len(varied)):
        local = dict(env)
        for name, pick in zip(varied, choice, strict=True):
            local[name] = bounds[name][pick]
        with np.errstate(divide="ignore", invalid="ignore"):
            got = pd.eval(indicator.formula, engine="python", local_dict=local, global_dict={})
        outcomes.append(np.asarray(got, dtype=float))
    stack = np.vstack(outcomes)
    stack[~np.isfinite(stack)] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN cells stay NaN
        low, high = np.nanmin(stack, axis=0), np.nanmax(stack, axis=0)
    widths = np.vstack(
        [
            np.where(np.isnan(lows[name]), 0.0, highs[name] - lows[name])
            / np.maximum(np.abs(env[name]), 1e-12)
            for name in varied
        ]
    )
    widths = np.nan_to_num(widths)
    rounded = (widths.max(axis=0) > 0) & (high > low)
    lower[rounded], upper[rounded] = low[rounded], high[rounded]
    texts = np.array(
        [f"{ROUNDING}: {operands[name].precision or 'afgeronde cijfers'}" for name in varied],
        dtype=object,
    )
    precision[rounded] = texts[np.argmax(widths, axis=0)][rounded]
    return lower, upper, precision


def _measured_in_some_years(indicator: Indicator) -> bool:
    """Tell whether a survey is held in some years only (catalogue years ``2020,2022,2024``)."""
    years = indicator.years
    return len(years) > 1 and len(years) < years[-1] - years[0] + 1


def _grid_positions(obs: pd.DataFrame, regions: pd.Index, years: pd.Index) -> np.ndarray:
    """Row of ``obs`` for each cell of the region x year grid (the first if several; -1: none)."""
    n = len(regions) * len(years)
    pos = np.full(n, -1, dtype=np.intp)
    if not len(obs):
        return pos
    r = regions.get_indexer(obs["region_code"])
    y = years.get_indexer(obs["year"])
    on_grid = np.flatnonzero((r >= 0) & (y >= 0))
    cells, first = np.unique(r[on_grid] * len(years) + y[on_grid], return_index=True)
    pos[cells] = on_grid[first]
    return pos


def _source_tables(codes: list[np.ndarray], names: list[np.ndarray], n: int) -> np.ndarray:
    """Per cell the source tables of the operands that have a value, ``+``-joined, deduplicated.

    Each distinct combination of tables is joined once, not once per cell.
    """
    if not codes:
        return np.full(n, _dedupe_sources(str(None)), dtype=object)
    combo = np.zeros(n, dtype=np.int64)
    for c, names_ in zip(codes, names, strict=True):
        combo = combo * (len(names_) + 1) + (c + 1)
    distinct, inverse = np.unique(combo, return_inverse=True)
    texts = []
    for key in distinct:
        parts = []
        for names_ in reversed(names):
            key, code = divmod(int(key), len(names_) + 1)
            if code:
                parts.append(str(names_[code - 1]))
        text = "+".join(reversed(parts)) if parts else str(None)  # as pandas left it
        texts.append(_dedupe_sources(text))
    return np.array(texts, dtype=object)[inverse.reshape(-1)]


def _table_list(indicator: Indicator) -> str:
    return "+".join(indicator.tables)


@lru_cache(maxsize=256)
def _dedupe_sources(text: str) -> str:
    """``A+B+A`` -> ``A+B``: each source table once, in order of use."""
    return "+".join(dict.fromkeys(str(text).split("+")))
