"""Compare a municipality with its benchmarks: observations, significance, trends, scorecards.

Pure functions of a tidy panel (:data:`westerkwartier.indicators.panel.PANEL_COLUMNS`), tested on
tiny hand-made frames:

* :func:`observation` picks the value of a region for the reference year;
* :func:`compare_values` says whether a value is higher, lower or equal to a benchmark and, for
  survey figures with 95% intervals, whether the difference is significant
  (:func:`significant`);
* :func:`municipal_spreads` gives the spread between municipalities that rule *klein* sets a
  difference against;
* :func:`trend` describes the movement over the last years;
* :func:`scorecard` builds one :class:`ScoreRow` per indicator, and :func:`reference_year`
  says which year a report describes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, NamedTuple, TypedDict

import pandas as pd

from westerkwartier.analysis import age, rules
from westerkwartier.analysis.rules import TREND_THRESHOLD_PP, TREND_THRESHOLD_REL
from westerkwartier.indicators import dominance
from westerkwartier.indicators.breaks import same_series_records
from westerkwartier.indicators.catalogue import MISSING, Catalogue, variant_id
from westerkwartier.indicators.precision import SURVEY, THRESHOLD, is_missing, precision_kind
from westerkwartier.sources.regions import COUNTRY

#: Years looked back for a trend (the value this many years before the latest one, or the
#: oldest one after that).
TREND_SPAN: int = 5

__all__ = ["TREND_THRESHOLD_PP", "TREND_THRESHOLD_REL"]


#: Tones of a comparison or trend, from the reader's point of view.
TONES: tuple[str, ...] = ("gunstig", "ongunstig", "neutraal")


# ----------------------------------------------------------------------------------------------
# Values, comparisons and trends
# ----------------------------------------------------------------------------------------------
#: Fewest statistical peers with a value before their median is a benchmark (in a scorecard)
#: or drawn (the flows chart's grey line).
MIN_PEERS: int = 3


class PeerMedian(NamedTuple):
    """The statistical peers' median of one indicator in one year (a scorecard benchmark).

    ``lower`` and ``upper`` are the medians of the peers' rounding extremes, between which
    the median of their exact figures lies; None when no peer's figure was rounded, or when
    one carries a survey's interval (the median of intervals is no interval).
    """

    value: float
    peers: int
    lower: float | None = None
    upper: float | None = None
    precision: str | None = None


class _Judging(TypedDict):
    """What :func:`compare_values` and :func:`trend` need to know about an indicator."""

    unit: str
    direction: str
    survey: bool
    spread: float | None


@dataclass(frozen=True)
class Observation:
    """One value of one region: year, value, interval, status and how it was made.

    ``lower``/``upper`` are a survey's 95% interval or the extremes that CBS's rounding allows;
    ``precision`` says which (the panel's ``precision``: ``steekproef: ...`` or ``afronding:
    aantallen afgerond op duizendtallen``). ``note`` is the panel's note, e.g. ``som van de
    gemeenten`` for a province that CBS does not publish and the panel summed from its
    municipalities. ``name`` is set for a benchmark that is not the plain region (a province
    without one municipality).
    """

    year: int
    value: float
    lower: float | None = None
    upper: float | None = None
    status: str | None = None
    note: str | None = None
    precision: str | None = None
    name: str | None = None

    @property
    def has_interval(self) -> bool:
        """True when both bounds are known."""
        return self.lower is not None and self.upper is not None

    @property
    def left_out(self) -> str | None:
        """The municipality a province is compared without, or None.

        Examples
        --------
        >>> Observation(2023, 5.6, name="provincie Groningen zonder Westerwolde").left_out
        'Westerwolde'
        >>> Observation(2023, -21.3).left_out is None
        True
        """
        return dominance.left_out(self.name)

    @property
    def shares(self) -> str:
        """What the note of a province without a municipality says of that municipality's shares.

        The note reads "Westerwolde: 60% van de immigratie van de provincie, 4% van de
        inwoners"; this is the part after the name (empty without a note).

        Examples
        --------
        >>> Observation(2023, 18.5, note="W: 60% van de immigratie, 4% van de inwoners").shares
        '60% van de immigratie, 4% van de inwoners'
        """
        return dominance.note_shares(self.note)

    @property
    def low(self) -> float:
        """The lower bound, or the value itself when the interval is not known."""
        return self.lower if self.lower is not None and self.upper is not None else self.value

    @property
    def high(self) -> float:
        """The upper bound, or the value itself when the interval is not known."""
        return self.upper if self.lower is not None and self.upper is not None else self.value

    @property
    def kind(self) -> str | None:
        """``steekproef``, ``afronding`` or ``drempel`` for a value with bounds, else None."""
        if not self.has_interval:
            return None
        return precision_kind(self.precision) or SURVEY


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
    basis : str or None
        The kind of interval that decided (``steekproef``, ``afronding``, ``drempel``).
    at_age : Observation or None
        For a significant survey difference with the province or Nederland: the municipality's
        figure with the benchmark's share of adults aged 65 or older (rule *leeftijd*,
        :mod:`westerkwartier.analysis.age`); None when not checked.
    age_holds : bool or None
        Whether the difference holds at that age structure; None when not checked.
    balance : str or None
        For a flow whose difference rule *saldo* left uncounted (basis ``saldo``): the word
        of its balance against the same benchmark (``hoger`` or ``lager``).
    """

    name: str
    other: Observation | None
    word: str
    significant: bool | None
    tone: str
    basis: str | None = None
    at_age: Observation | None = None
    age_holds: bool | None = None
    balance: str | None = None

    @property
    def counts(self) -> bool:
        """True when the difference counts (:func:`westerkwartier.analysis.rules.counts`)."""
        return rules.counts(self)


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
    basis: str | None = None

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
    >>> observation(rows.iloc[1:], 2023)
    (None, 'niet gepubliceerd')
    >>> observation(rows, 2021)  # never the reason of a later year
    (None, 'geen gegevens')
    """
    return _observation(_records(rows), year)


#: A panel row as a mapping (column -> value); a region's rows of one indicator as a list of
#: them, oldest year first. The scorecard reads its rows this way: the same rules as on a
#: frame, without a pandas operation per rule and indicator.
Record = Mapping[str, Any]


def _records(rows: pd.DataFrame | None) -> list[Record]:
    """Return panel rows as mappings, oldest year first (rows of one year keep their order)."""
    if rows is None or rows.empty:
        return []
    return rows.sort_values("year", kind="stable").to_dict("records")


def _has_value(row: Record) -> bool:
    return not is_missing(row["value"])


def _observation(rows: Sequence[Record], year: int | None) -> tuple[Observation | None, str | None]:
    """:func:`observation` on rows sorted by year (:func:`_records`)."""
    if not rows:
        return None, "geen gegevens"
    upto = [r for r in rows if r["year"] <= year] if year else rows
    has = [r for r in upto if _has_value(r)]
    if has:
        return _obs(has[-1]), None
    if "missing_reason" not in rows[0]:
        return None, "geen gegevens"
    reasons = rows
    if year:
        at = [r["missing_reason"] for r in rows if r["year"] == year]
        if at:
            why = [w for w in at if not is_missing(w)]
            return None, (str(why[-1]) if why else "geen gegevens")
        reasons = upto  # never a reason of a later year
    return None, _reasons_by_year(reasons)


def _reasons_by_year(rows: Sequence[Record]) -> str:
    """``geen cijfer van CBS (...) (2012, 2020-2022); tabel alleen online beschikbaar (2024)``."""
    groups: dict[str, list[int]] = {}
    for row in rows:
        why = row["missing_reason"]
        if not is_missing(why):
            groups.setdefault(str(why), []).append(int(row["year"]))
    if not groups:
        return "geen gegevens"
    if len(groups) == 1:
        return next(iter(groups))
    parts = []
    for why, years in groups.items():
        runs = ", ".join(f"{a}-{b}" if b > a else str(a) for a, b in year_runs(years))
        parts.append(f"{why} ({runs})")
    return "; ".join(parts)


def year_runs(years: Iterable[int]) -> list[tuple[int, int]]:
    """Return the runs of consecutive years as ``(first, last)``, in order.

    A reason that holds for 2012, 2013 and 2023 holds for two runs, not for 2012-2023: the
    years between may have a figure or another reason.

    Examples
    --------
    >>> year_runs([2023, 2012, 2013, 2013])
    [(2012, 2013), (2023, 2023)]
    >>> year_runs([])
    []
    """
    runs: list[list[int]] = []
    for year in sorted(set(years)):
        if runs and year == runs[-1][1] + 1:
            runs[-1][1] = year
        else:
            runs.append([year, year])
    return [(first, last) for first, last in runs]


def _obs(row: Mapping[str, Any]) -> Observation:
    status = row.get("status")
    note = row.get("note")
    precision = row.get("precision")
    return Observation(
        year=int(row["year"]),
        value=float(row["value"]),
        lower=_num(row.get("lower")),
        upper=_num(row.get("upper")),
        status=None if is_missing(status) else str(status),
        note=None if is_missing(note) else str(note),
        precision=None if is_missing(precision) else str(precision),
    )


def significant(a: Observation, b: Observation) -> bool | None:
    """Tell whether two values differ beyond their intervals (survey or rounding).

    The rule is conservative (:func:`westerkwartier.analysis.rules.apart`): a difference
    counts only when the intervals do not overlap or touch. When only ``a`` has an interval (a
    benchmark published without one), the difference counts when ``b`` lies outside it.

    Returns
    -------
    bool or None
        None when neither value has an interval.

    Examples
    --------
    >>> significant(Observation(2022, 55.2, 53.0, 57.4), Observation(2022, 50.3, 50.0, 50.6))
    True
    >>> significant(Observation(2022, 48.4, 46.2, 50.6), Observation(2022, 47.5, 47.2, 47.8))
    False
    """
    return rules.apart(a, b)


def _tone(word: str, direction: str) -> str:
    return rules.tone(word, direction)


def _basis(*values: Observation | None) -> str | None:
    kinds = {v.kind for v in values if v is not None and v.kind}
    for kind in (SURVEY, THRESHOLD):  # the kind that decides (rules.apart), before rounding
        if kind in kinds:
            return kind
    return kinds.pop() if kinds else None


def compare_values(
    own: Observation | None,
    other: Observation | None,
    *,
    name: str,
    unit: str,
    direction: str,
    survey: bool = False,
    spread: float | None = None,
) -> Comparison:
    """Set a value against a benchmark (rule *verschil* of :mod:`~westerkwartier.analysis.rules`).

    Two values that look the same when shown (same digits) are ``gelijk``. When either value
    has an interval (a survey's 95% interval or the extremes that CBS's rounding allows), a
    difference within the intervals is not significant and gets the tone ``neutraal``. So
    does a difference smaller than a tenth of the spread between municipalities (rule
    *klein*, :func:`~westerkwartier.analysis.rules.small`), with the basis ``spreiding``.

    Parameters
    ----------
    own, other : Observation or None
        The municipality's value and the benchmark's value.
    name : str
        The benchmark as written in a sentence.
    unit, direction : str
        Reader unit and direction of the indicator (catalogue).
    survey : bool
        Kept for callers of earlier versions; the intervals decide.
    spread : float, optional
        The spread between municipalities in the year (:func:`municipal_spreads`); None: rule
        *klein* is not applied.

    Examples
    --------
    >>> c = compare_values(Observation(2024, 75.0), Observation(2024, 73.2), name="Nederland",
    ...                    unit="%", direction="higher_is_better")
    >>> c.word, c.tone, c.significant
    ('hoger', 'gunstig', None)
    >>> c = compare_values(Observation(2023, 45.9), Observation(2023, 45.8), name="Nederland",
    ...                    unit="per 1 000 inwoners", direction="lower_is_better", spread=11.9)
    >>> c.word, c.tone, c.significant, c.basis, c.counts
    ('hoger', 'neutraal', False, 'spreiding', False)
    """
    if own is None or other is None:
        return Comparison(name, other, "onbekend", None, "neutraal")
    word, sig = rules.difference(own, other, unit)
    basis = _basis(own, other) if sig is not None else None
    if word in ("hoger", "lager") and sig is not False and rules.small(own, other, spread):
        sig, basis = False, rules.SPREAD
    tone = _tone(word, direction)
    if sig is False:
        tone = "neutraal"
    return Comparison(name, other, word, sig, tone, basis)


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
    when that year has none, the oldest value after it (rule *ontwikkeling* of
    :mod:`~westerkwartier.analysis.rules`): a percentage that moves less than
    :data:`TREND_THRESHOLD_PP` points, or another figure that moves less than
    :data:`TREND_THRESHOLD_REL`, is ``stabiel``; a figure with an interval (survey or rounding)
    only ``stijgt`` or ``daalt`` when the intervals of both years are apart.
    Across a declared definition break (panel column ``comparable_from``) nothing is
    compared: the start is taken from the latest value's own series
    (:func:`westerkwartier.indicators.breaks.same_series`).

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
    return _trend(_records(rows), unit=unit, direction=direction, year=year, span=span)


def _trend(
    rows: Sequence[Record], *, unit: str, direction: str, year: int | None, span: int = TREND_SPAN
) -> Trend:
    """:func:`trend` on rows sorted by year (:func:`_records`)."""
    values = [r for r in rows if _has_value(r) and (not year or r["year"] <= year)]
    if len(values) < 2:
        return Trend("onbekend")
    end = _obs(values[-1])
    series = same_series_records(values, end.year)
    earlier = [r for r in series if end.year - span <= r["year"] < end.year]
    if not earlier:
        return Trend("onbekend", end=end)
    start = _obs(earlier[0])
    word, sig = rules.movement(start, end, unit)
    basis = _basis(start, end) if sig is not None else None
    return Trend(word, start, end, sig, _tone(word, direction), basis)


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
    peers : Comparison or None
        The value against the median of the statistically comparable municipalities.
    period : str or None
        ``schooljaar`` when the year is a school year.
    exception : str or None
        Why the figure gets no verdict although it has benchmarks (rule *doorstroom*:
        ``doorstroom uit het buitenland``); None for a figure judged as usual.
    nederland_span : tuple of (float, float) or None
        Nederland's values in the first and last year of :attr:`trend` (None: the trend has
        no two years, or Nederland has no value in one of them). The report's summary
        weighs the municipality's change beyond Nederland's (``reporting.findings``).
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
    peers: Comparison | None = None
    period: str | None = None
    exception: str | None = None
    nederland_span: tuple[float, float] | None = None

    @property
    def comparisons(self) -> list[Comparison]:
        """The benchmark comparisons: province, Nederland and (if any) the peers' median."""
        return [c for c in (self.province, self.nederland, self.peers) if c is not None]

    @property
    def tone(self) -> str:
        """Overall verdict (rule *oordeel* of :mod:`westerkwartier.analysis.rules`).

        ``neutraal`` for a figure with an :attr:`exception`.
        """
        if self.exception:
            return "neutraal"
        return rules.verdict(self.comparisons, self.trend, self.direction)

    def year_text(self, year: int) -> str:
        """How a year of this row is written (``2022`` or a school year ``2022/'23``)."""
        if self.period == "schooljaar":
            return f"{int(year)}/'{(int(year) + 1) % 100:02d}"
        return str(int(year))


def _at_year(rows: Sequence[Record], year: int) -> Observation | None:
    for row in rows:
        if row["year"] == year and _has_value(row):
            return _obs(row)
    return None


def _without_dominant(
    panel: pd.DataFrame, indicators: Sequence[str], province: str | None
) -> dict[tuple[str, int], Record]:
    """Return the province without its dominating municipality, per (indicator, year).

    These are the panel's rows of level ``provincie zonder gemeente`` whose code starts with
    the province's code (``PV20-GM0014``); the first row with a value of each year counts.
    """
    if not province or "level" not in panel:
        return {}
    rows = panel[
        (panel["level"] == "provincie zonder gemeente") & panel["indicator"].isin(list(indicators))
    ]
    found: dict[tuple[str, int], Record] = {}
    for row in rows.to_dict("records"):
        if _has_value(row) and str(row["region_code"]).startswith(f"{province}-"):
            found.setdefault((str(row["indicator"]), int(row["year"])), row)
    return found


def _named(row: Record) -> Observation:
    obs = _obs(row)
    return Observation(
        obs.year,
        obs.value,
        obs.lower,
        obs.upper,
        obs.status,
        obs.note,
        obs.precision,
        name=str(row["region_name"]),
    )


def _source(rows: Sequence[Record], own: Observation | None) -> str:
    """Return the CBS table of the value, or of the latest row that names one (no value)."""
    tables = [
        (r["year"], str(r["source_table"]))
        for r in rows
        if "source_table" in r and not is_missing(r["source_table"])
    ]
    if own is not None:
        return next((table for year, table in tables if year == own.year), "")
    return tables[-1][1] if tables else ""


def _by_region_indicator(
    panel: pd.DataFrame, regions: Sequence[str], indicators: Sequence[str]
) -> dict[tuple[str, str], list[Record]]:
    """Return the rows of each (region, indicator), oldest year first (:func:`_records`)."""
    rows = panel[panel["indicator"].isin(list(indicators)) & panel["region_code"].isin(regions)]
    groups: dict[tuple[str, str], list[Record]] = {}
    for row in _records(rows):
        groups.setdefault((str(row["region_code"]), str(row["indicator"])), []).append(row)
    return groups


def observations(
    panel: pd.DataFrame, region: str, indicators: Sequence[str], year: int | None = None
) -> dict[str, tuple[Observation | None, str | None]]:
    """Return :func:`observation` of one region for each indicator that has rows.

    Parameters
    ----------
    panel : pandas.DataFrame
        Tidy panel.
    region : str
        Region code.
    indicators : sequence of str
        Indicator ids.
    year : int, optional
        Reference year (0 or None: per indicator the latest year with a value).

    Examples
    --------
    >>> rows = pd.DataFrame({"region_code": ["GM1", "GM1"], "indicator": ["a", "a"],
    ...                      "year": [2023, 2022], "value": [2.0, 1.0]})
    >>> observations(rows, "GM1", ["a", "b"])["a"][0].value
    2.0
    """
    by = _by_region_indicator(panel, [region], indicators)
    return {ind: _observation(rows, year) for (_, ind), rows in by.items()}


def _no_measurement(indicator: Any, year: int | None) -> str | None:
    """``geen meting in 2023 (gemeten in 2020, 2022 en 2024)`` for a survey, else None."""
    years = list(indicator.years)
    if not year or len(years) < 2 or len(years) == years[-1] - years[0] + 1:
        return None
    if year in years:
        return None
    listed = ", ".join(str(y) for y in years[:-1]) + f" en {years[-1]}"
    return f"{MISSING['no_measurement'].replace('dat jaar', str(year))} (gemeten in {listed})"


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
    country: str = COUNTRY,
    peer_values: Mapping[tuple[str, int], PeerMedian] | None = None,
    age_panel: pd.DataFrame | None = None,
    spreads: Mapping[tuple[str, int], float] | None = None,
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
    peer_values : mapping, optional
        (indicator, year) -> :class:`PeerMedian` of the statistical peers; gives each row a
        third benchmark, the peers' median (with its rounding extremes, when it has them).
    age_panel : pandas.DataFrame, optional
        Panel rows of the survey indicators and their age variants (``<id>@18 tot 65 jaar``)
        for the municipality, its province and Nederland: a significant survey difference with
        the province or Nederland is then checked at the benchmark's age structure (rule
        *leeftijd*, :func:`age_checked`).
    spreads : mapping, optional
        (indicator, year) -> the spread between municipalities (:func:`municipal_spreads`):
        a difference smaller than a tenth of it does not count (rule *klein*). Without it
        the rule is not applied.

    Notes
    -----
    Where the panel holds the province without a municipality that dominates its figure
    (level ``provincie zonder gemeente``), the row compares with that instead, named so.
    A survey indicator without a measurement in the reference year says so ("geen meting").
    In a year of throughput from abroad (rule *doorstroom*, :func:`throughput_years`) the
    flows of :data:`~westerkwartier.analysis.rules.THROUGHPUT_INDICATORS` get an
    ``exception`` and no verdict.

    Returns
    -------
    list of ScoreRow
        In the order of ``indicators``.
    """
    by = _by_region_indicator(panel, [r for r in (focus, province, country) if r], indicators)
    ages = _AgeCheck(age_panel, focus, catalogue)
    passing = throughput_years(panel, focus)
    without = _without_dominant(panel, indicators, province)
    prov_label = f"de provincie {province_name}" if province_name else "de provincie"
    rows: list[ScoreRow] = []
    for order, ind_id in enumerate(indicators):
        ind = catalogue[ind_id]
        survey = ind.margins_operand is not None
        own_rows = by.get((focus, ind_id), [])
        own, reason = _observation(own_rows, year)
        if own is None:
            gap = _no_measurement(ind, year)
            if gap:
                reason = gap if reason == "geen gegevens" else f"{gap}; eerder: {reason}"
        ref_year = own.year if own is not None else None
        prov_obs = (
            _at_year(by.get((province, ind_id), []), ref_year) if ref_year and province else None
        )
        prov_name = prov_label
        dominated = without.get((ind_id, ref_year)) if ref_year else None
        named = _named(dominated) if dominated is not None else None
        if named is not None and named.name:
            prov_obs, prov_name = named, f"de {named.name}"
        nl_obs = _at_year(by.get((country, ind_id), []), ref_year) if ref_year else None
        kw: _Judging = {
            "unit": ind.unit,
            "direction": ind.direction,
            "survey": survey,
            "spread": (spreads or {}).get((ind_id, ref_year)) if ref_year else None,
        }
        moved = _trend(own_rows, unit=ind.unit, direction=ind.direction, year=year)
        peer = None
        if peer_values is not None and ref_year:
            got = peer_values.get((ind_id, ref_year))
            other = (
                Observation(
                    ref_year,
                    got.value,
                    lower=got.lower,
                    upper=got.upper,
                    note=f"mediaan van {got.peers}",
                    precision=got.precision,
                )
                if got
                else None
            )
            peer = compare_values(own, other, name="vergelijkbare gemeenten", **kw)
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
                province=ages.checked(
                    _versus_total(own, prov_obs, prov_name, kw),
                    own,
                    ind_id,
                    None if named is not None else province,
                ),
                nederland=ages.checked(
                    _versus_total(own, nl_obs, "Nederland", kw), own, ind_id, country
                ),
                trend=moved,
                source=_source(own_rows, own),
                order=order,
                peers=peer,
                period=getattr(ind, "period", None),
                exception=(
                    rules.THROUGHPUT_TEXT
                    if ref_year in passing and ind_id in rules.THROUGHPUT_INDICATORS
                    else None
                ),
                nederland_span=_span(by.get((country, ind_id), []), moved),
            )
        )
    return balance_checked(rows)


def balance_checked(rows: Sequence[ScoreRow]) -> list[ScoreRow]:
    """Apply rule *saldo* to the flows among ``rows`` whose balance is among them too.

    A flow's difference with a benchmark (:data:`~westerkwartier.analysis.rules.BALANCES`)
    that the balance's difference with the same benchmark, in the same year, contradicts
    (:func:`~westerkwartier.analysis.rules.against_balance`) does not count: it gets
    ``significant=False``, basis ``saldo``, no tone and the balance's word.
    """
    by_id = {row.indicator: row for row in rows}
    checked = []
    for row in rows:
        balance = by_id.get(rules.BALANCES.get(row.indicator, ""))
        if balance is not None:
            row = replace(
                row,
                province=_against(row.province, balance.province),
                nederland=_against(row.nederland, balance.nederland),
                peers=None if row.peers is None else _against(row.peers, balance.peers),
            )
        checked.append(row)
    return checked


def _against(flow: Comparison, balance: Comparison | None) -> Comparison:
    if balance is None or flow.other is None or balance.other is None:
        return flow
    same = flow.name == balance.name and flow.other.year == balance.other.year
    if not (same and rules.against_balance(flow, balance)):
        return flow
    return replace(
        flow, significant=False, tone="neutraal", basis=rules.BALANCE, balance=balance.word
    )


class _AgeCheck:
    """The age groups of a scorecard's survey indicators, for :func:`age_checked`."""

    def __init__(self, panel: pd.DataFrame | None, focus: str, catalogue: Catalogue) -> None:
        self.focus = focus
        self.catalogue = catalogue
        self.shares = age.older_share(panel) if panel is not None else {}
        self.by = (
            _by_region_indicator(panel, [focus], list(panel["indicator"].unique()))
            if panel is not None and not panel.empty
            else {}
        )

    def checked(
        self, comparison: Comparison, own: Observation | None, indicator: str, benchmark: str | None
    ) -> Comparison:
        """Return ``comparison`` with rule *leeftijd* applied, where it applies."""
        if not self.by or benchmark is None:
            return comparison
        if set(self.catalogue[indicator].age_groups) != {age.YOUNG, age.OLD}:
            return comparison
        if comparison.other is None:
            return comparison
        year = comparison.other.year
        young, old = (
            _at_year(self.by.get((self.focus, variant_id(indicator, group)), []), year)
            for group in (age.YOUNG, age.OLD)
        )
        shares = (self.shares.get((self.focus, year)), self.shares.get((benchmark, year)))
        return age_checked(comparison, own, young, old, shares, self.catalogue[indicator].unit)


def age_checked(
    comparison: Comparison,
    own: Observation | None,
    young: Observation | None,
    old: Observation | None,
    shares: tuple[float | None, float | None],
    unit: str = "%",
) -> Comparison:
    """Check a significant survey difference at the benchmark's age structure (*leeftijd*).

    The municipality's figure with the benchmark's share of adults aged 65 or older instead of
    its own (:func:`westerkwartier.analysis.age.at_age_structure`; ``shares`` holds the two
    shares) is set against the benchmark's figure: the difference holds when they are still
    apart on the same side. Only a difference that is significant is checked; without both
    groups or both shares, the comparison is returned as it is.

    Examples
    --------
    >>> c = Comparison("Nederland", Observation(2022, 33.0, 32.8, 33.2), "lager", True, "gunstig")
    >>> own = Observation(2022, 30.8, 28.9, 32.7)
    >>> young, old = Observation(2022, 27.4, 25.3, 29.7), Observation(2022, 46.8, 44.4, 49.2)
    >>> checked = age_checked(c, own, young, old, (0.18, 0.246))
    >>> round(checked.at_age.value, 1), checked.age_holds, checked.counts, checked.tone
    (32.1, False, False, 'neutraal')
    """
    own_share, share = shares
    if comparison.significant is not True or comparison.other is None:
        return comparison
    if own is None or own_share is None or share is None:
        return comparison
    mixed = age.at_age_structure(own, young, old, own_share, share)
    if mixed is None:
        return comparison
    value, lower, upper = mixed
    at_age = Observation(own.year, value, lower, upper, precision=own.precision)
    word, apart = rules.difference(at_age, comparison.other, unit)
    holds = bool(apart) and word == comparison.word
    return replace(
        comparison,
        at_age=at_age,
        age_holds=holds,
        tone=comparison.tone if holds else "neutraal",
    )


def _span(rows: Sequence[Record], moved: Trend) -> tuple[float, float] | None:
    """Values of ``rows`` (Nederland) in the first and last year of ``moved``, if both exist."""
    if moved.start is None or moved.end is None:
        return None
    then, now = _at_year(rows, moved.start.year), _at_year(rows, moved.end.year)
    if then is None or now is None:
        return None
    return float(then.value), float(now.value)


def municipal_spreads(
    panel: pd.DataFrame, indicators: Iterable[str]
) -> dict[tuple[str, int], float]:
    """Return the spread between municipalities per indicator and year (rule *klein*).

    The spread is the distance between the 25th and the 75th percentile of the values of all
    municipalities (level ``gemeente``) with a value in that year, given only where at least
    :data:`~westerkwartier.analysis.rules.MIN_SPREAD_MUNICIPALITIES` have one.

    Examples
    --------
    >>> p = pd.DataFrame({"region_code": [f"GM{i:04d}" for i in range(101)] + ["NL01"],
    ...                   "level": ["gemeente"] * 101 + ["land"], "indicator": "x",
    ...                   "year": 2023, "value": [float(i) for i in range(101)] + [1e6]})
    >>> municipal_spreads(p, ["x"])
    {('x', 2023): 50.0}
    >>> municipal_spreads(p.iloc[50:], ["x"])
    {}
    """
    wanted = list(dict.fromkeys(indicators))
    mask = (panel["level"] == "gemeente") & panel["indicator"].isin(wanted) & panel["value"].notna()
    # four columns, not the panel's fourteen: a report asks this of the national panel
    rows = panel.loc[mask, ["indicator", "year", "region_code", "value"]]
    rows = rows.drop_duplicates(["indicator", "year", "region_code"])
    if rows.empty:
        return {}
    values = rows.groupby(["indicator", "year"], sort=True)["value"]
    quartiles = values.quantile([0.25, 0.75]).unstack()
    sizes = values.size().reindex(quartiles.index)
    return {
        (str(ind), int(year)): float(q3 - q1)
        for (ind, year), q1, q3, size in zip(
            quartiles.index, quartiles[0.25], quartiles[0.75], sizes, strict=True
        )
        if size >= rules.MIN_SPREAD_MUNICIPALITIES
    }


def throughput_years(panel: pd.DataFrame, code: str) -> set[int]:
    """Return the years of throughput from abroad of one region (rule *doorstroom*).

    Parameters
    ----------
    panel : pandas.DataFrame
        Tidy panel; the signals (:data:`~westerkwartier.analysis.rules.THROUGHPUT_SIGNALS`)
        of ``code`` are read from it. Without them no year is one of throughput.
    code : str
        Region code.

    Returns
    -------
    set of int
        The years in which immigration and domestic balance per 1.000 inhabitants both pass
        :func:`~westerkwartier.analysis.rules.throughput`.
    """
    immigration, domestic = rules.THROUGHPUT_SIGNALS
    rows = panel[(panel["region_code"] == code) & panel["indicator"].isin([immigration, domestic])]
    values: dict[str, dict[int, float]] = {immigration: {}, domestic: {}}
    for ind, year, value in zip(rows["indicator"], rows["year"], rows["value"], strict=True):
        if not is_missing(value) and not is_missing(year):
            values[str(ind)].setdefault(int(year), float(value))
    return {
        year
        for year, value in values[immigration].items()
        if rules.throughput(value, values[domestic].get(year))
    }


def _versus_total(
    own: Observation | None, other: Observation | None, name: str, kw: _Judging
) -> Comparison:
    """Compare with the province or Nederland; an absolute number only shows their value.

    Rule *schaal* (:func:`~westerkwartier.analysis.rules.is_count`): a municipality's number
    of persons is not "lower" than the province's total of many municipalities.
    """
    if rules.is_count(kw["unit"]):
        return Comparison(name, other, "onbekend", None, "neutraal")
    return compare_values(own, other, name=name, **kw)


def reference_year(rows: Iterable[ScoreRow], requested: int | None = None) -> int | None:
    """Return the reference year of a set of rows (rule *peiljaar* of the rules module).

    With a requested year, that year. Otherwise the upper median of the years of the rows'
    values. A run passes the rows of every report, so that its reports name the same year.

    Examples
    --------
    >>> r = lambda y: ScoreRow("x", "x", "s", "%", "context", False, Observation(y, 1.0), None,
    ...     Comparison("p", None, "onbekend", None, "neutraal"),
    ...     Comparison("n", None, "onbekend", None, "neutraal"), Trend("onbekend"), "")
    >>> reference_year([r(2022), r(2024), r(2024), r(2026)])
    2024
    """
    return rules.reference_year([r.own.year for r in rows if r.own is not None], requested)
