"""Definition breaks: years from which a series can no longer be compared with earlier years.

CBS sometimes changes how a figure is made while the name stays the same: from 2021 more
youth-care providers deliver their figures, so CBS publishes 2015-2020 and 2021 onwards in two
tables and warns not to compare across. The catalogue declares such a break per indicator
(``breaks = [2021]``: the years that start a new series). The panel then carries, on every row
of that indicator, the first year of the series the row belongs to (column
:data:`BREAK_COLUMN`); trends, changes and charts compare only rows with the same value there
(:func:`same_series`, :func:`series_starts`). Indicators without a declared break leave the
column empty and are compared over all their years.

Boundary changes of municipalities are a different matter: those are handled where the figures
are made (``series_break = "boundary"``, :mod:`westerkwartier.indicators.mergers`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

#: Panel column with the first year of the comparable series a row belongs to (empty when the
#: indicator declares no break).
BREAK_COLUMN = "comparable_from"


def segment_starts(
    years: Iterable[int], breaks: Sequence[int], first: int | None = None
) -> np.ndarray:
    """Return, per year, the first year of the series it belongs to.

    Parameters
    ----------
    years : iterable of int
        The years of the rows.
    breaks : sequence of int
        Years that start a new series (sorted or not).
    first : int, optional
        First year of the indicator (the start of the series before the first break); default
        the earliest of ``years``.

    Examples
    --------
    >>> segment_starts([2019, 2020, 2021, 2023], [2021], first=2015).tolist()
    [2015, 2015, 2021, 2021]
    """
    values = np.asarray(list(years), dtype=np.int64)
    if not len(values):
        return values
    start = int(first) if first is not None else int(values.min())
    edges = np.array(sorted({start, *(int(b) for b in breaks)}), dtype=np.int64)
    at = np.searchsorted(edges, values, side="right") - 1
    return np.where(at >= 0, edges[np.clip(at, 0, None)], values)


def mark_breaks(frame: pd.DataFrame, breaks: Sequence[int], first: int) -> pd.DataFrame:
    """Add :data:`BREAK_COLUMN` to the panel rows of one indicator.

    Parameters
    ----------
    frame : pandas.DataFrame
        Rows of one indicator with a ``year`` column.
    breaks : sequence of int
        The indicator's declared breaks (``Indicator.breaks``); empty: the column stays empty.
    first : int
        The indicator's first year in the catalogue.

    Returns
    -------
    pandas.DataFrame
        ``frame`` with the column (nullable integers).
    """
    out = frame.copy() if BREAK_COLUMN in frame else frame.assign(**{BREAK_COLUMN: pd.NA})
    if breaks and len(out):
        first = min(int(first), int(out["year"].min()))
        out[BREAK_COLUMN] = segment_starts(out["year"].astype(int), breaks, first)
    out[BREAK_COLUMN] = out[BREAK_COLUMN].astype("Int64")
    return out


def series_starts(rows: pd.DataFrame) -> list[int]:
    """Return the years that start a new series in panel rows (empty: one series).

    Examples
    --------
    >>> rows = pd.DataFrame({"year": [2020, 2021, 2022],
    ...                      "comparable_from": pd.array([2015, 2021, 2021], dtype="Int64")})
    >>> series_starts(rows)
    [2021]
    """
    if BREAK_COLUMN not in rows or not len(rows):
        return []
    starts = pd.to_numeric(rows[BREAK_COLUMN], errors="coerce").dropna().astype(int)
    return _new_series(starts.tolist())


def _new_series(starts: Iterable[int]) -> list[int]:
    """Return the series starts after the first one, sorted (empty: one series)."""
    known = set(starts)
    return sorted(known - {min(known)}) if known else []


def same_series(rows: pd.DataFrame, year: int) -> pd.DataFrame:
    """Keep the rows that can be compared with ``year`` (the same series, no break between).

    Rows without :data:`BREAK_COLUMN`, or with it empty, are one series and all kept.

    Examples
    --------
    >>> rows = pd.DataFrame({"year": [2019, 2020, 2021, 2022],
    ...                      "comparable_from": pd.array([2015, 2015, 2021, 2021],
    ...                                                  dtype="Int64")})
    >>> same_series(rows, 2022)["year"].tolist()
    [2021, 2022]
    """
    if BREAK_COLUMN not in rows or not len(rows):
        return rows
    starts = pd.to_numeric(rows[BREAK_COLUMN], errors="coerce")
    keep = _same_series_mask(
        rows["year"].astype(int).tolist(),
        [None if pd.isna(s) else int(s) for s in starts],
        year,
    )
    return rows if keep is None else rows[np.array(keep, dtype=bool)]


def same_series_records(
    rows: Sequence[Mapping[str, Any]], year: int
) -> Sequence[Mapping[str, Any]]:
    """:func:`same_series` for panel rows as mappings (one dict per row), e.g. a scorecard's.

    Examples
    --------
    >>> rows = [{"year": 2020, "comparable_from": 2015}, {"year": 2021, "comparable_from": 2021}]
    >>> [r["year"] for r in same_series_records(rows, 2021)]
    [2021]
    """
    if not rows or BREAK_COLUMN not in rows[0]:
        return rows
    keep = _same_series_mask(
        [int(r["year"]) for r in rows], [_start(r[BREAK_COLUMN]) for r in rows], year
    )
    return rows if keep is None else [r for r, k in zip(rows, keep, strict=True) if k]


def _start(value: Any) -> int | None:
    try:
        return None if pd.isna(value) else int(value)
    except (TypeError, ValueError):
        return None


def _same_series_mask(years: list[int], starts: list[int | None], year: int) -> list[bool] | None:
    """Which rows belong to the series of ``year``; None when all rows are one series."""
    known = [s for s in starts if s is not None]
    if not known:
        return None
    year = int(year)
    own = [s for y, s in zip(years, starts, strict=True) if y == year and s is not None]
    if own:
        return [s == own[0] for s in starts]
    # the year itself is not among the rows: use the declared breaks
    begins = _new_series(known)
    later = [b for b in begins if b <= year]
    low = max(later) if later else min(years)
    nxt = [b for b in begins if b > year]
    return [low <= y and (not nxt or y < min(nxt)) for y in years]


__all__ = [
    "BREAK_COLUMN",
    "mark_breaks",
    "same_series",
    "same_series_records",
    "segment_starts",
    "series_starts",
]
