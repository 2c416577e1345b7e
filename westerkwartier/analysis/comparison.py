"""Compare a municipality with its benchmarks: observations, significance, trends, scorecards.

Pure functions of a tidy panel (:data:`westerkwartier.indicators.panel.PANEL_COLUMNS`), tested on
tiny hand-made frames:

* :func:`observation` picks the value of a region for the reference year;
* :func:`compare_values` says whether a value is higher, lower or equal to a benchmark and, for
  survey figures with 95% intervals, whether the difference is significant
  (:func:`significant`);
* :func:`trend` describes the movement over the last years;
* :func:`scorecard` builds one :class:`ScoreRow` per indicator, and :func:`reference_year`
  says which year a report describes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from westerkwartier.indicators.breaks import same_series
from westerkwartier.indicators.catalogue import Catalogue
from westerkwartier.indicators.precision import is_missing, same_when_shown

#: Years looked back for a trend (the value this many years before the latest one, or the
#: oldest one after that).
TREND_SPAN: int = 5


#: A change of a percentage smaller than this many percentage points is "stabiel".
TREND_THRESHOLD_PP: float = 0.5


#: A relative change of another unit smaller than this fraction is "stabiel".
TREND_THRESHOLD_REL: float = 0.02


#: Tones of a comparison or trend, from the reader's point of view.
TONES: tuple[str, ...] = ("gunstig", "ongunstig", "neutraal")


# ----------------------------------------------------------------------------------------------
# Values, comparisons and trends
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Observation:
    """One value of one region: year, value, 95% bounds (surveys), status and how it was made.

    ``note`` is the panel's note, e.g. ``som van de gemeenten`` for a province that CBS does
    not publish and the panel summed from its municipalities.
    """

    year: int
    value: float
    lower: float | None = None
    upper: float | None = None
    status: str | None = None
    note: str | None = None

    @property
    def has_interval(self) -> bool:
        """True when both 95% bounds are known."""
        return self.lower is not None and self.upper is not None


@dataclass(frozen=True)
class Comparison:
    """A value set against one benchmark.

    Attributes
    ----------
    name : str
        The benchmark as written in a sentence (``de provincie Groningen``, ``Nederland``).
    other : Observation or None
        The benchmark's value (same year), None when it has none.
    word : str
        ``hoger``, ``lager``, ``gelijk`` or ``onbekend``.
    significant : bool or None
        For survey figures: whether the 95% intervals say the difference is real. None for
        figures without sampling error (registers) or when unknown.
    tone : str
        ``gunstig``, ``ongunstig`` or ``neutraal`` (context figures, equal values, differences
        that are not significant).
    """

    name: str
    other: Observation | None
    word: str
    significant: bool | None
    tone: str


@dataclass(frozen=True)
class Trend:
    """How a value moved over the last years.

    Attributes
    ----------
    word : str
        ``stijgt``, ``daalt``, ``stabiel`` or ``onbekend`` (fewer than two years).
    start, end : Observation or None
        The two values compared.
    significant : bool or None
        For survey figures: whether the 95% intervals of both years are apart.
    tone : str
        ``gunstig``, ``ongunstig`` or ``neutraal``.
    """

    word: str
    start: Observation | None = None
    end: Observation | None = None
    significant: bool | None = None
    tone: str = "neutraal"

    @property
    def change(self) -> float | None:
        """End value minus start value."""
        if self.start is None or self.end is None:
            return None
        return self.end.value - self.start.value


def _num(value: Any) -> float | None:
    return None if is_missing(value) else float(value)


def observation(
    rows: pd.DataFrame, year: int | None = None
) -> tuple[Observation | None, str | None]:
    """Pick the value of one region and indicator for the reference year.

    Parameters
    ----------
    rows : pandas.DataFrame
        Panel rows of one region and one indicator (year, value, lower, upper, status,
        missing_reason).
    year : int, optional
        The reference year: the latest year up to and including it that has a value. None
        or 0: the latest year with a value.

    Returns
    -------
    observation, reason : Observation or None, str or None
        The value, or None and the panel's reason why it is missing (of the reference year,
        or of the latest year when none is asked).

    Examples
    --------
    >>> rows = pd.DataFrame({"year": [2022, 2023], "value": [70.1, float("nan")],
    ...                      "missing_reason": [None, "niet gepubliceerd"]})
    >>> observation(rows)[0].value
    70.1
    >>> observation(rows, 2021)
    (None, 'niet gepubliceerd')
    """
    if rows is None or rows.empty:
        return None, "geen gegevens"
    frame = rows.sort_values("year")
    if year:
        frame = frame[frame["year"] <= year]
    has = frame[frame["value"].notna()]
    if has.empty:
        reasons = rows.sort_values("year")
        if "missing_reason" not in reasons:
            return None, "geen gegevens"
        if year:
            at = reasons[reasons["year"] == year]
            if not at.empty:
                why = at["missing_reason"].dropna()
                return None, (str(why.iloc[-1]) if len(why) else "geen gegevens")
        return None, _reasons_by_year(reasons)
    last = has.iloc[-1]
    return _obs(last), None


def _reasons_by_year(rows: pd.DataFrame) -> str:
    """``geen cijfer van CBS (...) (2020-2022); tabel alleen online beschikbaar (2024)``."""
    known = rows[rows["missing_reason"].notna()]
    if known.empty:
        return "geen gegevens"
    groups: dict[str, list[int]] = {}
    for year, why in zip(known["year"], known["missing_reason"], strict=True):
        groups.setdefault(str(why), []).append(int(year))
    if len(groups) == 1:
        return next(iter(groups))
    parts = []
    for why, years in groups.items():
        span = str(years[0]) if len(years) == 1 else f"{min(years)}-{max(years)}"
        parts.append(f"{why} ({span})")
    return "; ".join(parts)


def _obs(row: Mapping[str, Any]) -> Observation:
    status = row.get("status")
    note = row.get("note")
    return Observation(
        year=int(row["year"]),
        value=float(row["value"]),
        lower=_num(row.get("lower")),
        upper=_num(row.get("upper")),
        status=None if is_missing(status) else str(status),
        note=None if is_missing(note) else str(note),
    )


def significant(a: Observation, b: Observation) -> bool | None:
    """Tell whether two survey values differ significantly, from their 95% intervals.

    The rule is conservative: a difference counts as significant only when the intervals do
    not overlap. When only ``a`` has an interval (a benchmark published without one), the
    difference is significant when ``b`` lies outside it.

    Returns
    -------
    bool or None
        None when neither value has an interval (no sampling error known).

    Examples
    --------
    >>> significant(Observation(2022, 55.2, 53.0, 57.4), Observation(2022, 50.3, 50.0, 50.6))
    True
    >>> significant(Observation(2022, 48.4, 46.2, 50.6), Observation(2022, 47.5, 47.2, 47.8))
    False
    """
    if a.has_interval and b.has_interval:
        return bool(a.upper < b.lower or b.upper < a.lower)  # type: ignore[operator]
    if a.has_interval:
        return bool(b.value < a.lower or b.value > a.upper)  # type: ignore[operator]
    if b.has_interval:
        return bool(a.value < b.lower or a.value > b.upper)  # type: ignore[operator]
    return None


def _tone(word: str, direction: str) -> str:
    if direction == "context" or word not in ("hoger", "lager", "stijgt", "daalt"):
        return "neutraal"
    up = word in ("hoger", "stijgt")
    good = up if direction == "higher_is_better" else not up
    return "gunstig" if good else "ongunstig"


def compare_values(
    own: Observation | None,
    other: Observation | None,
    *,
    name: str,
    unit: str,
    direction: str,
    survey: bool = False,
) -> Comparison:
    """Set a value against a benchmark.

    Two values that look the same when shown (same digits) are ``gelijk``. For a survey
    figure a difference that is not significant gets the tone ``neutraal``.

    Parameters
    ----------
    own, other : Observation or None
        The municipality's value and the benchmark's value.
    name : str
        The benchmark as written in a sentence.
    unit, direction : str
        Reader unit and direction of the indicator (catalogue).
    survey : bool
        True for figures with 95% intervals (Gezondheidsmonitor).

    Examples
    --------
    >>> c = compare_values(Observation(2024, 75.0), Observation(2024, 73.2), name="Nederland",
    ...                    unit="%", direction="higher_is_better")
    >>> c.word, c.tone, c.significant
    ('hoger', 'gunstig', None)
    """
    if own is None or other is None:
        return Comparison(name, other, "onbekend", None, "neutraal")
    if same_when_shown(own.value, other.value, unit):
        word = "gelijk"
    else:
        word = "hoger" if own.value > other.value else "lager"
    sig = significant(own, other) if survey else None
    if word == "gelijk" and sig:
        sig = False
    tone = _tone(word, direction)
    if survey and not sig:
        tone = "neutraal"
    return Comparison(name, other, word, sig, tone)


def trend(
    rows: pd.DataFrame,
    *,
    unit: str,
    direction: str,
    year: int | None = None,
    span: int = TREND_SPAN,
    survey: bool = False,
) -> Trend:
    """Describe how a value moved over the last ``span`` years.

    The latest value (up to ``year``) is compared with the value ``span`` years earlier or,
    when that year has none, the oldest value after it. A percentage that moves less than
    :data:`TREND_THRESHOLD_PP` points, or another figure that moves less than
    :data:`TREND_THRESHOLD_REL`, is ``stabiel``. A survey figure only ``stijgt`` or ``daalt``
    when the 95% intervals of both years are apart. Across a declared definition break
    (panel column ``comparable_from``) nothing is compared: the start is taken from the
    latest value's own series (:func:`westerkwartier.indicators.breaks.same_series`).

    Parameters
    ----------
    rows : pandas.DataFrame
        Panel rows of one region and one indicator.
    unit, direction : str
        Reader unit and direction.
    year : int, optional
        Reference year (0 or None: latest).
    span : int
        Years to look back.
    survey : bool
        True for figures with 95% intervals.

    Examples
    --------
    >>> rows = pd.DataFrame({"year": [2019, 2024], "value": [70.0, 75.0]})
    >>> trend(rows, unit="%", direction="higher_is_better").word
    'stijgt'
    """
    frame = rows[rows["value"].notna()].sort_values("year")
    if year:
        frame = frame[frame["year"] <= year]
    if len(frame) < 2:
        return Trend("onbekend")
    end = _obs(frame.iloc[-1])
    frame = same_series(frame, end.year)
    earlier = frame[(frame["year"] >= end.year - span) & (frame["year"] < end.year)]
    if earlier.empty:
        return Trend("onbekend", end=end)
    start = _obs(earlier.iloc[0])
    change = end.value - start.value
    if unit == "%":
        moved = abs(change) >= TREND_THRESHOLD_PP
    else:
        base = abs(start.value)
        moved = abs(change) >= TREND_THRESHOLD_REL * base if base else change != 0
    if same_when_shown(end.value, start.value, unit):
        moved = False  # no change that a reader could see
    sig = significant(end, start) if survey else None
    if survey and not sig:
        moved = False
    word = ("stijgt" if change > 0 else "daalt") if moved else "stabiel"
    return Trend(word, start, end, sig, _tone(word, direction))


# ----------------------------------------------------------------------------------------------
# The scorecard
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ScoreRow:
    """One indicator of a report for the municipality, with benchmarks and trend.

    Attributes
    ----------
    indicator, label, section, unit, direction : str
        Catalogue id, Dutch label, report section id, reader unit and direction.
    survey : bool
        Figure from a sample survey with 95% intervals.
    own : Observation or None
        The municipality's value for the reference year.
    missing_reason : str or None
        Why ``own`` is missing (the panel's ``missing_reason``).
    province, nederland : Comparison
        The value against the province and against Nederland (same year).
    trend : Trend
        Movement over the last years.
    source : str
        CBS table(s) of the value (``86088NED``).
    order : int
        Position in the report (for stable ordering).
    """

    indicator: str
    label: str
    section: str
    unit: str
    direction: str
    survey: bool
    own: Observation | None
    missing_reason: str | None
    province: Comparison
    nederland: Comparison
    trend: Trend
    source: str
    order: int = 0

    @property
    def tone(self) -> str:
        """Overall tone: the tone the benchmarks agree on, else ``neutraal``."""
        tones = {c.tone for c in (self.province, self.nederland) if c.word != "onbekend"} - {
            "neutraal"
        }
        if len(tones) == 1:
            return tones.pop()
        if not tones and _no_benchmark(self):
            return self.trend.tone
        return "neutraal"


def _at_year(rows: pd.DataFrame, year: int) -> Observation | None:
    hit = rows[(rows["year"] == year) & rows["value"].notna()]
    return None if hit.empty else _obs(hit.iloc[0])


def scorecard(
    panel: pd.DataFrame,
    *,
    focus: str,
    province: str | None,
    province_name: str | None,
    indicators: Sequence[str],
    catalogue: Catalogue,
    year: int | None = None,
    section_of: Mapping[str, str] | None = None,
    country: str = "NL01",
) -> list[ScoreRow]:
    """Build one :class:`ScoreRow` per indicator.

    Parameters
    ----------
    panel : pandas.DataFrame
        Tidy panel (:data:`westerkwartier.indicators.panel.PANEL_COLUMNS`) holding at least the
        focus
        municipality, its province and Nederland.
    focus : str
        Code of the municipality.
    province, province_name : str or None
        Code and name of its province.
    indicators : sequence of str
        Indicator ids, in report order.
    catalogue : Catalogue
        The indicator catalogue (labels, units, directions, margins).
    year : int, optional
        Reference year (0 or None: per indicator the latest year with a value). Benchmarks are
        compared in the year of the municipality's value.
    section_of : mapping, optional
        Indicator id -> section id.
    country : str
        Code of Nederland.

    Returns
    -------
    list of ScoreRow
        In the order of ``indicators``.
    """
    by = {key: grp for key, grp in panel.groupby(["region_code", "indicator"], sort=False)}
    empty = panel.iloc[0:0]
    prov_label = f"de provincie {province_name}" if province_name else "de provincie"
    rows: list[ScoreRow] = []
    for order, ind_id in enumerate(indicators):
        ind = catalogue[ind_id]
        survey = ind.margins_operand is not None
        own_rows = by.get((focus, ind_id), empty)
        own, reason = observation(own_rows, year)
        ref_year = own.year if own is not None else None
        prov_obs = (
            _at_year(by.get((province, ind_id), empty), ref_year) if ref_year and province else None
        )
        nl_obs = _at_year(by.get((country, ind_id), empty), ref_year) if ref_year else None
        kw = {"unit": ind.unit, "direction": ind.direction, "survey": survey}
        source = ""
        if own is not None:
            hit = own_rows[own_rows["year"] == own.year]["source_table"].dropna()
            source = str(hit.iloc[0]) if len(hit) else ""
        elif len(own_rows):
            source = (
                str(own_rows["source_table"].dropna().iloc[-1])
                if own_rows["source_table"].notna().any()
                else ""
            )
        rows.append(
            ScoreRow(
                indicator=ind_id,
                label=ind.label_nl,
                section=(section_of or {}).get(ind_id, ind.theme),
                unit=ind.unit,
                direction=ind.direction,
                survey=survey,
                own=own,
                missing_reason=reason,
                province=compare_values(own, prov_obs, name=prov_label, **kw),
                nederland=compare_values(own, nl_obs, name="Nederland", **kw),
                trend=trend(own_rows, year=year, **kw) if len(own_rows) else Trend("onbekend"),
                source=source,
                order=order,
            )
        )
    return rows


def reference_year(rows: Iterable[ScoreRow], requested: int | None = None) -> int | None:
    """Return the reference year of a report: the year most of its figures describe.

    With a requested year, that year. Otherwise the latest year for which at least half of
    the report's figures with a value are available (the upper median of their years).

    Examples
    --------
    >>> r = lambda y: ScoreRow("x", "x", "s", "%", "context", False, Observation(y, 1.0), None,
    ...     Comparison("p", None, "onbekend", None, "neutraal"),
    ...     Comparison("n", None, "onbekend", None, "neutraal"), Trend("onbekend"), "")
    >>> reference_year([r(2022), r(2024), r(2024), r(2026)])
    2024
    """
    if requested:
        return int(requested)
    years = sorted((r.own.year for r in rows if r.own is not None), reverse=True)
    if not years:
        return None
    return years[(len(years) - 1) // 2]


def _no_benchmark(row: ScoreRow) -> bool:
    return row.province.word == "onbekend" and row.nederland.word == "onbekend"
