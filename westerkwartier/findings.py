"""What a report says: scorecards, trends, significance and the findings at the top.

This is the logic behind the report notebooks (presentation layer; it reads the indicator
panel, never the other way round). Everything here is a pure function of a tidy panel
(:data:`westerkwartier.panel.PANEL_COLUMNS`) so that it can be tested on tiny hand-made
frames:

* :func:`observation` picks the value of a region for the reference year;
* :func:`compare_values` says whether a value is higher, lower or equal to a benchmark and,
  for survey figures with 95% intervals, whether the difference is significant
  (:func:`significant`);
* :func:`trend` describes the movement over the last years in words;
* :func:`scorecard` builds one :class:`ScoreRow` per indicator;
* :func:`findings` turns the rows into 5-8 Dutch sentences, most important first.

:func:`load_report_data` ties it together for one report and one municipality; the notebooks
call it and hand the result to :mod:`westerkwartier.sections` and :mod:`westerkwartier.plots`.

Examples
--------
>>> from westerkwartier.findings import load_report_data
>>> data = load_report_data("talent", "GM1969", peildatum="2026-11-27")  # doctest: +SKIP
>>> [f.text for f in data.findings][:1]  # doctest: +SKIP
['De netto arbeidsparticipatie (75,0% in 2024) is hoger dan in de provincie Groningen ...']
"""

from __future__ import annotations

import datetime as dt
import math
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import InputError
from .indicators import CONFIG_DIR, Catalogue, load_catalogue
from .style import fmt_number, fmt_value, is_missing

#: The report manifest (sections and indicators per report).
MANIFEST_FILE: Path = CONFIG_DIR / "rapporten.toml"

#: Years looked back for a trend (the value this many years before the latest one, or the
#: oldest one after that).
TREND_SPAN: int = 5

#: A change of a percentage smaller than this many percentage points is "stabiel".
TREND_THRESHOLD_PP: float = 0.5

#: A relative change of another unit smaller than this fraction is "stabiel".
TREND_THRESHOLD_REL: float = 0.02

#: Earliest reference year a person may ask for.
MIN_YEAR: int = 2010

#: Cap on one scaled gap in :func:`importance`, so that one odd figure cannot crowd out the
#: rest of the summary.
MAX_GAP: float = 3.0

#: Findings in the summary.
MIN_FINDINGS: int = 5
MAX_FINDINGS: int = 8

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
    "per 1 000 woningen": 1,
    "jaarinkomens": 1,
    "adressen per km2": 0,
}

#: Tones of a comparison or trend, from the reader's point of view.
TONES: tuple[str, ...] = ("gunstig", "ongunstig", "neutraal")


# ----------------------------------------------------------------------------------------------
# The report manifest
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Section:
    """One section of a report: its h2 title, scorecard rows and trend charts."""

    id: str
    titel: str
    indicatoren: tuple[str, ...]
    trends: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReportSpec:
    """One report of the manifest (``config/rapporten.toml``)."""

    id: str
    titel: str
    notebook: str
    kaart: str
    context: tuple[str, ...]
    secties: tuple[Section, ...]
    onderwerp: Mapping[str, str] = field(default_factory=dict)

    @property
    def indicators(self) -> tuple[str, ...]:
        """Every indicator the report uses, scorecard rows first, without repeats."""
        ids: dict[str, None] = {}
        for section in self.secties:
            ids.update(dict.fromkeys(section.indicatoren))
            ids.update(dict.fromkeys(section.trends))
        ids.update(dict.fromkeys(self.context))
        ids[self.kaart] = None
        return tuple(ids)

    def section(self, section_id: str) -> Section:
        """Return a section by id.

        Raises
        ------
        InputError
            If the report has no such section.
        """
        for section in self.secties:
            if section.id == section_id:
                return section
        known = ", ".join(s.id for s in self.secties)
        raise InputError(f"Rapport {self.id!r} heeft geen sectie {section_id!r}; secties: {known}.")


def load_manifest(path: Path | str | None = None) -> dict[str, ReportSpec]:
    """Read the report manifest.

    Parameters
    ----------
    path : Path or str, optional
        Default ``config/rapporten.toml``.

    Returns
    -------
    dict of str to ReportSpec
        In the order of the file.

    Raises
    ------
    InputError
        When the file is missing or not valid TOML, or names an unknown indicator.
    """
    return _load_manifest(str(Path(path) if path is not None else MANIFEST_FILE))


@lru_cache(maxsize=4)
def _load_manifest(path: str) -> dict[str, ReportSpec]:
    file = Path(path)
    try:
        raw = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"Het rapportoverzicht {file.name} ontbreekt.") from None
    except tomllib.TOMLDecodeError as err:
        raise InputError(f"Rapportoverzicht {file.name} is geen geldige TOML: {err}.") from None
    cat = load_catalogue()
    onderwerp = dict(raw.get("onderwerp", {}))
    out: dict[str, ReportSpec] = {}
    for rid, entry in raw.get("rapport", {}).items():
        secties = tuple(
            Section(
                id=s["id"],
                titel=s["titel"],
                indicatoren=tuple(s["indicatoren"]),
                trends=tuple(s.get("trends", ())),
            )
            for s in entry.get("sectie", [])
        )
        spec = ReportSpec(
            id=rid,
            titel=entry["titel"],
            notebook=entry["notebook"],
            kaart=entry["kaart"],
            context=tuple(entry.get("context", ())),
            secties=secties,
            onderwerp=onderwerp,
        )
        for ind in spec.indicators:
            cat[ind]  # raises InputError with suggestions for a typo
        out[rid] = spec
    return out


def report_spec(rapport: str) -> ReportSpec:
    """Return one report of the manifest by id (``talent``, ``aantrekkelijkheid``).

    Raises
    ------
    InputError
        For an unknown report; the message lists the known ones.
    """
    manifest = load_manifest()
    key = str(rapport).strip().lower()
    if key not in manifest:
        raise InputError(
            f"Onbekend rapport {rapport!r}; kies uit: {', '.join(manifest)} (of 'alle')."
        )
    return manifest[key]


# ----------------------------------------------------------------------------------------------
# Values, comparisons and trends
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Observation:
    """One value of one region: year, value, 95% bounds (surveys) and status."""

    year: int
    value: float
    lower: float | None = None
    upper: float | None = None
    status: str | None = None

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


def decimals_for(unit: str) -> int:
    """Return how many decimals a value in this reader unit is shown with.

    Examples
    --------
    >>> decimals_for("%"), decimals_for("euro")
    (1, 0)
    """
    return DECIMALS.get(unit, 1)


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


def fmt_change(change: float, unit: str) -> str:
    """Format a change with its sign: ``+1,2 %-punt`` for percentages, else in the unit."""
    dec = decimals_for(unit)
    sign = "+" if change > 0 else ("-" if change < 0 else "±")
    size = fmt_number(abs(change), dec)
    if unit == "%":
        return f"{sign}{size} %-punt"
    return f"{sign}{fmt_value(abs(change), unit, dec)}"


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
    return Observation(
        year=int(row["year"]),
        value=float(row["value"]),
        lower=_num(row.get("lower")),
        upper=_num(row.get("upper")),
        status=None if is_missing(status) else str(status),
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
    dec = decimals_for(unit)
    if fmt_number(own.value, dec) == fmt_number(other.value, dec):
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
    when the 95% intervals of both years are apart.

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
    dec = decimals_for(unit)
    if fmt_number(end.value, dec) == fmt_number(start.value, dec):
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
        Tidy panel (:data:`westerkwartier.panel.PANEL_COLUMNS`) holding at least the focus
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


# ----------------------------------------------------------------------------------------------
# Findings
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Finding:
    """One sentence of the summary.

    Attributes
    ----------
    text : str
        The sentence, in plain Dutch (not escaped; escape when writing HTML).
    tone : str
        ``gunstig``, ``ongunstig`` or ``neutraal``.
    score : float
        Importance; higher comes first.
    indicator : str or None
        The indicator it is about.
    """

    text: str
    tone: str
    score: float
    indicator: str | None = None


def _scale(unit: str, reference: float) -> float:
    """Size of a "notable" difference: binomial-like for percentages, relative otherwise."""
    if unit == "%":
        p = min(max(abs(reference), 0.5), 99.5)
        return math.sqrt(p * (100 - p)) / 10
    return max(abs(reference), 1e-9) / 3


def importance(row: ScoreRow) -> float:
    """Return how much a row matters for the summary (0 when it says nothing).

    The mean gap to the province and Nederland, scaled to the unit (percentage points against
    a binomial-like spread, other units relative), plus half the trend's size. Survey
    differences that are not significant count for a fifth; context figures for nothing.
    """
    if row.own is None or row.direction == "context":
        return 0.0
    gaps = []
    for comp in (row.province, row.nederland):
        if comp.other is None or comp.word == "onbekend":
            continue
        gap = abs(row.own.value - comp.other.value) / _scale(row.unit, comp.other.value)
        if row.survey and not comp.significant:
            gap *= 0.2
        gaps.append(min(gap, MAX_GAP))
    score = sum(gaps) / len(gaps) if gaps else 0.0
    if row.trend.word in ("stijgt", "daalt") and row.trend.start is not None:
        change = abs(row.trend.change or 0.0)
        score += 0.5 * min(change / _scale(row.unit, row.trend.start.value), MAX_GAP)
    return round(score, 9)


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


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


def _versus(row: ScoreRow) -> str:
    """``is hoger dan in de provincie Groningen (71,2%) en in Nederland (73,2%)``."""
    parts = [c for c in (row.province, row.nederland) if c.word != "onbekend"]
    if not parts:
        return ""

    def where(c: Comparison) -> str:
        return f"in {c.name} ({fmt_short(c.other.value, row.unit) if c.other else ''})"

    def word(c: Comparison) -> str:
        if c.word == "gelijk":
            return "even hoog als"
        prefix = "significant " if c.significant else ""
        return f"{prefix}{c.word} dan"

    if row.survey:
        real = [c for c in parts if c.significant]
        loose = [c for c in parts if not c.significant]
        if not real:
            names = " en ".join(where(c) for c in loose)
            return f"verschilt niet significant van de waarde {names}"
        text = _joined(real, word, where)
        for c in loose:
            text += f"; het verschil met {c.name} ({fmt_short(c.other.value, row.unit)}) "
            text += "is niet significant" if c.other else ""
        return text
    return _joined(parts, word, where)


def _joined(parts: list[Comparison], word: Callable, where: Callable) -> str:
    if len(parts) == 2 and parts[0].word == parts[1].word:
        return f"is {word(parts[0])} {where(parts[0])} en {where(parts[1])}"
    text = f"is {word(parts[0])} {where(parts[0])}"
    for c in parts[1:]:
        text += f", maar {word(c)} {where(c)}"
    return text


def _trend_clause(row: ScoreRow) -> str:
    t = row.trend
    if t.start is None or t.end is None or t.word == "onbekend":
        return ""
    start = fmt(t.start.value, row.unit)
    if t.word == "stabiel":
        if row.survey:
            return (
                f" Ten opzichte van {t.start.year} ({start}) is er geen significante verandering."
            )
        return f" Sinds {t.start.year} ({start}) is dat vrijwel gelijk gebleven."
    verb = "gestegen" if t.word == "stijgt" else "gedaald"
    return f" Sinds {t.start.year} ({start}) is dat {verb}."


def finding_text(row: ScoreRow, subject: str | None = None) -> str:
    """Write the summary sentence of one scorecard row.

    Parameters
    ----------
    row : ScoreRow
        A row with a value.
    subject : str, optional
        How a sentence names the indicator (``de netto arbeidsparticipatie``); default
        ``<label>:``.

    Examples
    --------
    >>> row = ScoreRow("netto_arbeidsparticipatie", "Netto arbeidsparticipatie", "s", "%",
    ...     "higher_is_better", False, Observation(2023, 74.2), None,
    ...     Comparison("de provincie Groningen", Observation(2023, 70.6), "hoger", None,
    ...                "gunstig"),
    ...     Comparison("Nederland", Observation(2023, 73.1), "hoger", None, "gunstig"),
    ...     Trend("onbekend"), "86088NED")
    >>> finding_text(row, "de netto arbeidsparticipatie")
    'De netto arbeidsparticipatie (74,2% in 2023) is hoger dan in de provincie Groningen (70,6%) en in Nederland (73,1%).'
    """  # noqa: E501
    assert row.own is not None
    value = fmt(row.own.value, row.unit)
    versus = _versus(row)
    if subject:
        head = f"{_capital(subject)} ({value} in {row.own.year})"
        body = f"{head} {versus}." if versus else f"{head}."
    else:
        head = f"{row.label}: {value} in {row.own.year}"
        body = f"{head}; {versus.removeprefix('is ')}." if versus else f"{head}."
    return body + _trend_clause(row)


def findings(
    rows: Sequence[ScoreRow],
    *,
    subjects: Mapping[str, str] | None = None,
    extra: Sequence[Finding] = (),
    minimum: int = MIN_FINDINGS,
    maximum: int = MAX_FINDINGS,
) -> list[Finding]:
    """Choose and write the findings of the summary, most important first.

    Parameters
    ----------
    rows : sequence of ScoreRow
        The report's scorecard rows.
    subjects : mapping, optional
        Indicator id -> how a sentence names it.
    extra : sequence of Finding
        Context findings (population, missing figures) used to reach ``minimum`` when too few
        indicators have something to say.
    minimum, maximum : int
        Bounds on the number of findings.

    Returns
    -------
    list of Finding
        Sorted by importance (ties in report order); at most ``maximum``.
    """
    scored = [(importance(r), r) for r in rows if r.own is not None and r.direction != "context"]
    scored = [(s, r) for s, r in scored if s > 0]
    scored.sort(key=lambda pair: (-pair[0], pair[1].order))
    out = [
        Finding(
            finding_text(r, (subjects or {}).get(r.indicator)),
            r.tone,
            s,
            r.indicator,
        )
        for s, r in scored[:maximum]
    ]
    for item in extra:
        if len(out) >= max(minimum, 0) and item.score <= 0:
            break
        if len(out) >= maximum:
            break
        out.append(item)
    return out


def _no_benchmark(row: ScoreRow) -> bool:
    return row.province.word == "onbekend" and row.nederland.word == "onbekend"


def missing_rows(rows: Iterable[ScoreRow]) -> list[ScoreRow]:
    """Return the rows without a value for the municipality, in report order."""
    return [r for r in rows if r.own is None]


# ----------------------------------------------------------------------------------------------
# Input checks
# ----------------------------------------------------------------------------------------------
def parse_peildatum(peildatum: str | dt.date) -> dt.date:
    """Read the report date (``JJJJ-MM-DD``).

    Raises
    ------
    InputError
        When the text is not a valid date.

    Examples
    --------
    >>> parse_peildatum("2026-11-27")
    datetime.date(2026, 11, 27)
    """
    if isinstance(peildatum, dt.datetime):
        return peildatum.date()
    if isinstance(peildatum, dt.date):
        return peildatum
    try:
        return dt.date.fromisoformat(str(peildatum).strip())
    except ValueError:
        raise InputError(
            f"Peildatum {peildatum!r} is geen geldige datum; schrijf hem als JJJJ-MM-DD, "
            "bijvoorbeeld 2026-11-27."
        ) from None


def parse_jaar(jaar: Any, peildatum: dt.date) -> int:
    """Check the reference year; 0 means "the latest year with data".

    Raises
    ------
    InputError
        When the year is not a whole number, lies after the report date (in the future) or
        before :data:`MIN_YEAR`.

    Examples
    --------
    >>> parse_jaar("2023", dt.date(2026, 11, 27))
    2023
    """
    if isinstance(jaar, bool):
        raise InputError(f"Jaar {jaar!r} is geen jaartal; geef bijvoorbeeld 2023 (of 0).")
    try:
        year = int(str(jaar).strip()) if not isinstance(jaar, int) else jaar
    except ValueError:
        raise InputError(
            f"Jaar {jaar!r} is geen jaartal; geef een jaar als 2023, of 0 voor het laatste "
            "jaar met gegevens."
        ) from None
    if year == 0:
        return 0
    if year > peildatum.year:
        raise InputError(
            f"Jaar {year} ligt na de peildatum ({peildatum.isoformat()}): over de toekomst "
            "zijn geen cijfers. Kies een eerder jaar of 0 voor het laatste jaar met gegevens."
        )
    if year < MIN_YEAR:
        raise InputError(
            f"Jaar {year} valt buiten het bereik van de monitor ({MIN_YEAR} tot en met "
            f"{peildatum.year}). Kies een jaar in dat bereik of 0 voor het laatste jaar."
        )
    return year


def resolve_municipality(text: str, registry: Any) -> Any:
    """Resolve a municipality by code or name; fail on anything else.

    Raises
    ------
    RegionNotFound, RegionDissolved
        From the registry (unknown or merged municipality).
    InputError
        When the region is not a municipality (a province, Nederland).
    """
    region = registry.resolve(str(text))
    if region.level != "gemeente":
        raise InputError(
            f"{region.name} ({region.code}) is geen gemeente; de rapporten gaan over een "
            "gemeente. Geef een gemeentenaam of GM-code."
        )
    return region


# ----------------------------------------------------------------------------------------------
# One report's data
# ----------------------------------------------------------------------------------------------
@dataclass
class ReportData:
    """Everything a report notebook shows, computed once.

    Attributes
    ----------
    spec : ReportSpec
        The report of the manifest.
    region : westerkwartier.regions.Region
        The municipality.
    jaar : int
        Requested reference year (0: latest).
    peiljaar : int or None
        The year most figures describe (see :func:`reference_year`).
    peildatum : datetime.date
        Date printed on the report (passed in; never the clock).
    regions : pandas.DataFrame
        code, name, level, role, label: the municipality, Nederland, province, neighbours and
        the extra municipalities to compare (role ``vergelijking``).
    panel : pandas.DataFrame
        The indicator panel for those regions and the report's indicators.
    rows : list of ScoreRow
        Scorecard rows of every section (in section order).
    context : list of ScoreRow
        Rows of the context indicators.
    findings : list of Finding
        The summary.
    gegevensmelding : str
        Notice about the data date set by scheduled runs (empty: none).
    catalogue : Catalogue
        The indicator catalogue.
    """

    spec: ReportSpec
    region: Any
    jaar: int
    peiljaar: int | None
    peildatum: dt.date
    regions: pd.DataFrame
    panel: pd.DataFrame
    rows: list[ScoreRow]
    context: list[ScoreRow]
    findings: list[Finding]
    gegevensmelding: str
    catalogue: Catalogue

    @property
    def province_label(self) -> str:
        """``provincie Groningen`` (how charts name the province)."""
        return f"provincie {self.region.province_name}" if self.region.province_name else ""

    def section_rows(self, section_id: str) -> list[ScoreRow]:
        """Scorecard rows of one section."""
        self.spec.section(section_id)
        return [r for r in self.rows if r.section == section_id]

    def row(self, indicator: str) -> ScoreRow | None:
        """Return the row of one indicator (scorecard or context), if the report has it."""
        for r in [*self.rows, *self.context]:
            if r.indicator == indicator:
                return r
        return None

    @property
    def tables(self) -> list[str]:
        """CBS table ids behind the report's figures (values present), sorted."""
        used = self.panel.loc[self.panel["value"].notna(), "source_table"].dropna()
        ids = {t for text in used.unique() for t in str(text).split("+") if t}
        return sorted(ids, key=str.lower)

    @property
    def catalogue_tables(self) -> list[str]:
        """Every CBS table the report's indicators may use (also those without values)."""
        ids: dict[str, None] = {}
        for ind in self.spec.indicators:
            ids.update(dict.fromkeys(self.catalogue[ind].tables))
        return sorted(ids, key=str.lower)


def report_regions(
    region: Any,
    benchmarks: pd.DataFrame,
    vergelijk: Sequence[Any] = (),
) -> pd.DataFrame:
    """Return the regions of a report: the municipality first, then its benchmarks.

    Parameters
    ----------
    region : Region
        The municipality.
    benchmarks : pandas.DataFrame
        :func:`westerkwartier.panel.benchmarks_for` (code, name, level, role); COROP areas
        are left out (the reports compare with province, Nederland and neighbours).
    vergelijk : sequence of Region
        Extra municipalities (role ``vergelijking``).

    Returns
    -------
    pandas.DataFrame
        code, name, level, role and ``label`` (name as shown in charts; the province as
        ``provincie <name>`` so that it never looks like a municipality of the same name).
    """
    rows = [{"code": region.code, "name": region.name, "level": "gemeente", "role": "gemeente"}]
    bench = benchmarks[benchmarks["role"] != "COROP-gebied"]
    rows += bench.to_dict("records")
    rows += [
        {"code": r.code, "name": r.name, "level": "gemeente", "role": "vergelijking"}
        for r in vergelijk
    ]
    frame = pd.DataFrame(rows, columns=["code", "name", "level", "role"])
    frame = frame.drop_duplicates("code").reset_index(drop=True)
    frame["label"] = [
        f"provincie {n}" if lvl == "provincie" else n
        for n, lvl in zip(frame["name"], frame["level"], strict=True)
    ]
    return frame


def _context_findings(data_rows: list[ScoreRow], context: list[ScoreRow], name: str) -> list:
    out = []
    for row in context:
        if row.own is None:
            continue
        text = f"{row.label} in {name}: {fmt(row.own.value, row.unit)} ({row.own.year})."
        if row.trend.word in ("stijgt", "daalt") and row.trend.start is not None:
            verb = "gestegen" if row.trend.word == "stijgt" else "gedaald"
            text = text[:-1] + (
                f"; sinds {row.trend.start.year} ({fmt(row.trend.start.value, row.unit)}) {verb}."
            )
        out.append(Finding(text, "neutraal", 0.0, row.indicator))
    missing = missing_rows(data_rows)
    if missing:
        out.insert(
            0,
            Finding(
                f"Voor {len(missing)} van de {len(data_rows)} cijfers in dit rapport is voor "
                f"{name} geen waarde beschikbaar; zie 'Wat ontbreekt'.",
                "neutraal",
                0.0,
                None,
            ),
        )
    return out


# Per process: the national panel of each indicator built so far, per data setting.
_NATIONAL: dict[tuple, dict[str, pd.DataFrame]] = {}


def national_panel(indicators: Iterable[str]) -> pd.DataFrame:
    """Return the default panel of ``indicators`` for every municipality, province and Nederland.

    The same frame as ``panel(indicators=list(indicators))`` (default loader and registry), but
    each indicator is built only once per process and data setting: a report notebook and its
    index section share the indicators they both need. The result is a fresh copy.
    """
    from . import settings
    from .panel import PANEL_COLUMNS, panel

    ids = list(indicators)
    key = (str(settings.snapshot_dir), str(settings.cache_dir), settings.offline)
    built = _NATIONAL.setdefault(key, {})
    missing = [i for i in dict.fromkeys(ids) if i not in built]
    if missing:
        frame = panel(indicators=missing)
        built.update(dict(tuple(frame.groupby("indicator", sort=False))))
        for ind in missing:  # an indicator without rows still counts as built
            built.setdefault(ind, frame.iloc[:0])
    if not ids:
        return pd.DataFrame(columns=PANEL_COLUMNS)
    return pd.concat([built[i] for i in ids], ignore_index=True)


def _regions_panel(
    national: pd.DataFrame, regions: pd.DataFrame, indicators: Sequence[str]
) -> pd.DataFrame | None:
    """Rows of ``regions`` in a national panel, ordered as ``panel(regions=...)`` orders them.

    That is per indicator (in the order given), per region (in the order of ``regions``), per
    year, with the names and levels of ``regions``. None if a region is not in the panel.
    """
    where = regions[["code", "name", "level"]].drop_duplicates("code").reset_index(drop=True)
    if not set(where["code"]) <= set(national["region_code"]):
        return None
    at = pd.Index(where["code"]).get_indexer(national["region_code"])
    keep = np.flatnonzero(at >= 0)
    rank = pd.Index(list(dict.fromkeys(indicators))).get_indexer(national["indicator"])
    order = keep[np.lexsort((keep, at[keep], rank[keep]))]
    out = national.take(order).reset_index(drop=True)
    out["region_name"] = where["name"].take(at[order]).reset_index(drop=True)
    out["level"] = where["level"].take(at[order]).reset_index(drop=True)
    return out


def load_report_data(
    rapport: str,
    gemeente: str = "GM1969",
    jaar: int | str = 0,
    vergelijk: Sequence[str] = (),
    peildatum: str | dt.date = "2026-11-27",
    gegevensmelding: str = "",
    *,
    loader: Callable[[str], Any] | None = None,
    registry: Any | None = None,
    neighbours: Callable[[str], list[str]] | None = None,
) -> ReportData:
    """Compute everything one report shows for one municipality.

    Parameters
    ----------
    rapport : str
        Report id of the manifest (``talent``, ``aantrekkelijkheid``).
    gemeente : str
        CBS code or name of the municipality.
    jaar : int or str
        Reference year; 0 = per figure the latest year with data.
    vergelijk : sequence of str
        Extra municipalities to compare with (codes or names).
    peildatum : str or datetime.date
        Date printed on the report (``JJJJ-MM-DD``).
    gegevensmelding : str
        Notice about the data shown at the top of the report (empty: none).
    loader, registry, neighbours
        Injectable for tests (see :func:`westerkwartier.panel.panel`).

    Returns
    -------
    ReportData

    Raises
    ------
    RegionNotFound, RegionDissolved, InputError
        For a bad municipality, year, report or date; checked before any data are read.
    """
    from .panel import benchmarks_for, panel
    from .regions import load_registry

    spec = report_spec(rapport)
    date = parse_peildatum(peildatum)
    year = parse_jaar(jaar, date)
    injected = registry is not None
    registry = registry or load_registry()
    region = resolve_municipality(gemeente, registry)
    extra = [resolve_municipality(v, registry) for v in (vergelijk or [])]
    bench = benchmarks_for(region.code, registry=registry, neighbours=neighbours)
    regions = report_regions(region, bench, extra)
    cat = load_catalogue()
    frame = None
    if loader is None and not injected:  # the default data: share the national panel
        frame = _regions_panel(national_panel(spec.indicators), regions, spec.indicators)
    if frame is None:
        frame = panel(
            regions=regions[["code", "name", "level"]],
            indicators=list(spec.indicators),
            loader=loader,
            registry=registry,
        )
    section_of = {i: s.id for s in spec.secties for i in s.indicatoren}
    scored = [i for s in spec.secties for i in s.indicatoren]
    kw = {
        "focus": region.code,
        "province": region.province,
        "province_name": region.province_name,
        "catalogue": cat,
        "year": year,
    }
    rows = scorecard(frame, indicators=scored, section_of=section_of, **kw)
    context = scorecard(frame, indicators=list(spec.context), **kw)
    summary = findings(
        rows,
        subjects=spec.onderwerp,
        extra=_context_findings(rows, context, region.name),
    )
    return ReportData(
        spec=spec,
        region=region,
        jaar=year,
        peiljaar=reference_year(rows, year),
        peildatum=date,
        regions=regions,
        panel=frame,
        rows=rows,
        context=context,
        findings=summary,
        gegevensmelding=str(gegevensmelding or "").strip(),
        catalogue=cat,
    )


__all__ = [
    "Comparison",
    "Finding",
    "Observation",
    "ReportData",
    "ReportSpec",
    "ScoreRow",
    "Section",
    "Trend",
    "compare_values",
    "findings",
    "importance",
    "load_manifest",
    "load_report_data",
    "observation",
    "parse_jaar",
    "parse_peildatum",
    "reference_year",
    "report_spec",
    "scorecard",
    "significant",
    "trend",
]
