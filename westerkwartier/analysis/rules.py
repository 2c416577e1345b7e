"""The rules behind every verdict and every finding of the reports, in one place.

Each rule is one small function of plain values, tested with a case that trips it
(``tests/test_rules.py``), and listed in :data:`RULES` with its Dutch wording, which the method
section of every report prints. The comparison functions
(:mod:`westerkwartier.analysis.comparison`), the summary (:mod:`westerkwartier.reporting.findings`),
the index sentences and the ambitions all call these functions instead of deciding on their own.

The rules:

* **verschil** (:func:`difference`): a value is ``hoger`` or ``lager`` than a benchmark only when
  the difference shows in the decimals a reader sees; when either value carries an interval (a
  survey's 95% interval or the extremes that CBS's rounding allows; the peers' median of rounded
  figures carries the medians of their extremes), the difference only counts when the intervals
  are apart; for a survey without published margins (the EBB) only when it makes at least 1.000
  persons (:func:`apart`).
* **klein** (:func:`small`): a difference smaller than :data:`SMALL_SHARE` of the spread between
  municipalities (the interquartile range of all municipalities' figures of that year) does
  not count either: "het verschil is klein".
* **ontwikkeling** (:func:`movement`): a value ``stijgt`` or ``daalt`` only when the change is
  at least :data:`TREND_THRESHOLD_PP` percentage points (other units: :data:`TREND_THRESHOLD_REL`
  of the start value), shows in the shown decimals, and the intervals of both years are apart.
* **oordeel** (:func:`verdict`): ``gunstig`` or ``ongunstig`` ("aandachtspunt") only when the
  benchmark comparisons that count agree; without any benchmark only a change that counts
  gives a verdict; context figures never get one.
* **kopbevinding** (:func:`headline`): a finding in the summary needs a benchmark comparison
  that counts or a change that counts, is no context figure, and its figure is at most
  :data:`MAX_AGE` years older than the reference year; findings with a verdict come before
  the others (:func:`summary_order`), each group by importance (a change adds only as far
  as it goes beyond Nederland's in the same years), and a second figure of a catalogue
  family with the same verdict waits until every other message has spoken
  (:func:`one_per_family`).
* **leeftijd** (:mod:`westerkwartier.analysis.age`): a significant survey difference with the
  province or Nederland counts only when it also holds with the benchmark's share of adults
  aged 65 or older (the municipality's figure moved by the gap in shares times the gap
  between its two age groups).
* **schaal** (:func:`is_count`): a number of persons or dwellings is not set against the
  province or Nederland, whose totals count many municipalities; only against comparable
  municipalities.
* **peiljaar** (:func:`reference_year`): one rule for every report of a run.
* **dominantie**: a province figure that one municipality dominates is replaced by the
  province without it (:mod:`westerkwartier.indicators.dominance`).
* **doorstroom** (:func:`throughput`): in a year when at least a twentieth of a municipality's
  inhabitants arrive from abroad and on balance at least a twentieth move on to other
  municipalities (the signature of an application centre for asylum seekers), its migration
  figures of that year get no verdict and no place in the summary.
* **projectie** (:func:`recent_level_respected`): a projection is judged only when the recent
  years follow its trend; otherwise at the recent level, said as such.
* **rang** (:func:`position`): "boven/onder de mediaan" follows from the rank that the table
  beside it shows.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from westerkwartier.indicators.precision import (
    THRESHOLD,
    is_missing,
    precision_kind,
    same_when_shown,
)

#: A change of a percentage smaller than this many percentage points is "stabiel".
TREND_THRESHOLD_PP: float = 0.5

#: A relative change of another unit smaller than this fraction is "stabiel".
TREND_THRESHOLD_REL: float = 0.02

#: Reader units of absolute numbers: a municipality's number is not set against the total of
#: its province or of Nederland (rule *schaal*).
COUNT_UNITS: frozenset[str] = frozenset({"personen", "woningen"})

#: Rule *klein*: a difference with a benchmark smaller than this share of the spread between
#: municipalities (the distance between the 25th and 75th percentile of all municipalities'
#: figures in the year) does not count.
SMALL_SHARE: float = 0.1  # "een tiende" in RULES

#: ... provided at least this many municipalities have a figure that year; with fewer (an
#: analyst's panel of a few regions) there is no spread and the rule is not applied.
MIN_SPREAD_MUNICIPALITIES: int = 100

#: The basis of a comparison that rule *klein* decided (as ``steekproef`` or ``afronding``
#: name the margins that decide the others).
SPREAD: str = "spreiding"

#: Rule *saldo*: a flow (per 1.000 inhabitants) and the balance it is part of. A flow's
#: difference with a benchmark does not count where the balance's difference with the same
#: benchmark points the other way: Schiermonnikoog's immigration of 2023 (53,2 per 1.000) was
#: higher than Nederland's (18,8), but nearly as many left for abroad (52,2), so its foreign
#: migration balance (1,0) was lower than Nederland's (7,7).
BALANCES: dict[str, str] = {
    "immigratie_per_1000": "migratiesaldo_buitenland_per_1000",
    "vestiging_andere_gemeente_per_1000": "binnenlands_migratiesaldo_per_1000",
    "vertrek_andere_gemeente_per_1000": "binnenlands_migratiesaldo_per_1000",
}

#: The basis of a comparison that rule *saldo* decided.
BALANCE: str = "saldo"

#: A figure more than this many years older than the reference year is no headline finding.
MAX_AGE: int = 3

#: Recent years that must follow a long trend before a projection is judged on it.
RECENT_YEARS: int = 3

#: Rule *doorstroom*: the immigration (per 1.000 inhabitants) from which a year can be one of
#: throughput ...
THROUGHPUT_IMMIGRATION: float = 50.0

#: ... when the domestic migration balance (per 1.000 inhabitants) is at most this. In the
#: snapshot (2012-2023) only the years of four municipalities with an application centre pass
#: both (Westerwolde, Cranendonck, Gilze en Rijen, Noordenveld; the quietest of those years
#: -63); no other municipality's balance reaches -50 (the lowest: Renswoude 2022, -43,5), and
#: the highest other immigration (Vlieland 2022, 105) comes with a positive balance.
THROUGHPUT_DOMESTIC: float = -50.0

#: The indicators that give the signal: immigration and domestic balance, per 1.000.
THROUGHPUT_SIGNALS: tuple[str, str] = (
    "immigratie_per_1000",
    "binnenlands_migratiesaldo_per_1000",
)

#: The figures that such a year makes say little about who stays: the flows that the asylum
#: seekers who register and move on make up, and the arrivals from other municipalities, which
#: take in those transferred between centres (Gilze en Rijen: 40 per 1.000 in 2019, 65 in
#: 2020, its first year of throughput since 2016, when it went from 36 to 52; Cranendonck 27
#: to 58 in 2016; Nederland 41-46). Emigration is not among them: it stays below the national
#: figure in every municipality with such years.
THROUGHPUT_INDICATORS: tuple[str, ...] = (
    "immigratie_per_1000",
    "migratiesaldo_buitenland_per_1000",
    "vestiging_andere_gemeente_per_1000",
    "vertrek_andere_gemeente_per_1000",
    "binnenlands_migratiesaldo_per_1000",
)

#: How the scorecard names a figure that rule *doorstroom* leaves unjudged.
THROUGHPUT_TEXT: str = "doorstroom uit het buitenland"


@dataclass(frozen=True)
class Rule:
    """One rule, as the method section of a report states it."""

    id: str
    title: str
    text: str


#: The rules in the words of the reports (method section).
RULES: tuple[Rule, ...] = (
    Rule(
        "verschil",
        "Hoger of lager",
        "Een cijfer heet hoger of lager dan dat van de provincie, Nederland of vergelijkbare "
        "gemeenten als het verschil zichtbaar is in de getoonde decimalen. Heeft een cijfer "
        "een marge (het 95%-interval van een enquête, of de uitersten die de afronding van de "
        "CBS-cijfers toelaat), dan telt het verschil alleen als de marges elkaar niet raken; "
        "anders staat er 'verschil valt binnen de marge'. Rondde CBS de cijfers van de "
        "vergelijkbare gemeenten af, dan heeft ook hun mediaan zo'n marge: van de mediaan van "
        "hun ondergrenzen tot die van hun bovengrenzen. Voor de cijfers uit de Enquête "
        "Beroepsbevolking (EBB: arbeidsparticipatie, werkloosheid, opleidingsniveau) "
        "publiceert CBS geen marges, maar een verschil van minder dan 1.000 personen is "
        "volgens CBS zelden significant. Zo'n verschil telt daarom niet: 'verschil valt "
        "binnen de marge van de EBB'. Het aantal personen is het verschil in procentpunten "
        "maal het aantal personen waarop het percentage rust, van de kleinste van de twee "
        "regio's.",
    ),
    Rule(
        "klein",
        "Kleine verschillen",
        "Een verschil met de provincie, Nederland of vergelijkbare gemeenten dat kleiner is dan "
        "een tiende van de spreiding tussen de gemeenten telt evenmin: 'het verschil is "
        "klein'. De spreiding is de breedte van de middelste helft van alle gemeenten in dat "
        "jaar (van het 25e tot het 75e percentiel). Zo hangt wat klein is "
        "af van hoe ver de gemeenten uiteenlopen: bij de bevolkingsgroei liggen ze dicht bij "
        "elkaar en is 0,1 procentpunt al een verschil, bij het vertrek naar andere gemeenten "
        "is 0,1 per 1.000 inwoners klein.",
    ),
    Rule(
        "saldo",
        "Stromen en saldo",
        "De vestiging uit en het vertrek naar andere gemeenten zijn de twee stromen van het "
        "binnenlands verhuissaldo, de immigratie is een stroom van het buitenlands "
        "migratiesaldo. Wijst het saldo tegenover de provincie, Nederland of vergelijkbare "
        "gemeenten de andere kant op dan een stroom, dan telt het verschil van die stroom "
        "niet: komen er naar verhouding meer mensen, maar vertrekken er nog meer, dan is dat "
        "niet gunstig. In de scorekaart staat dan bijvoorbeeld 'hoger, maar saldo lager'.",
    ),
    Rule(
        "ontwikkeling",
        "Ontwikkeling",
        "Het laatste cijfer tegenover dat van vijf jaar eerder (of het oudste cijfer daarna). "
        "Een verandering kleiner dan een half procentpunt, of bij andere eenheden kleiner dan "
        "2%, heet stabiel; net zo een verandering die binnen de marges van beide jaren valt, "
        "en bij de EBB een verandering van minder dan 1.000 personen. "
        "Er wordt nooit een verandering berekend over een herindeling heen die niet uit de "
        "voorgangers te herleiden is. Bewoog Nederland in dezelfde jaren dezelfde kant op "
        "(volgens deze regel), dan zegt de bevinding dat erbij: 'net als in Nederland'.",
    ),
    Rule(
        "oordeel",
        "Beoordeling",
        "Gunstig of aandachtspunt alleen als de vergelijkingen die tellen (provincie, "
        "Nederland, vergelijkbare gemeenten) het eens zijn, volgens de richting van de "
        "indicator. Is er geen enkele vergelijking, dan geeft alleen een verandering die telt "
        "een oordeel. Contextcijfers, zoals de WOZ-waarde, worden niet beoordeeld.",
    ),
    Rule(
        "kopbevinding",
        "Samenvatting",
        "Een bevinding in de samenvatting heeft een vergelijking die telt of een verandering "
        "die telt, gaat niet over een contextcijfer en over een cijfer dat hoogstens drie jaar "
        "ouder is dan het peiljaar; elk cijfer staat er met zijn jaar. Eerst de bevindingen "
        "met een oordeel (gunstig of aandachtspunt), dan die met een gemengd beeld; binnen "
        "elke groep is de volgorde die van de kleinste afstand die de marges nog toelaten, "
        "geschaald naar de eenheid, plus de helft van een verandering die telt, voor zover die "
        "verder gaat dan de verandering in Nederland in dezelfde jaren (wat het hele land "
        "deed, maakt een cijfer niet belangrijker). Geven twee cijfers die hetzelfde op een "
        "andere manier meten (zoals de verandering van het aantal jongeren in vijf en in tien "
        "jaar) hetzelfde oordeel, dan komt het tweede pas na de bevindingen over andere "
        "onderwerpen.",
    ),
    Rule(
        "leeftijd",
        "Leeftijdsopbouw",
        "Veel cijfers van de Gezondheidsmonitor hangen af van de leeftijd: een gemeente met "
        "veel jongvolwassenen heeft minder mensen met een langdurige aandoening. CBS geeft elk "
        "cijfer ook voor 18 tot 65 jaar en voor 65 jaar of ouder. Is een cijfer significant "
        "hoger of lager dan dat van de provincie of Nederland, dan rekenen we het cijfer van de "
        "gemeente om naar de leeftijdsopbouw van die provincie of van Nederland: het verschuift "
        "met het verschil in het aandeel 65-plussers onder de volwassenen, maal het verschil "
        "tussen de twee leeftijdsgroepen van de gemeente (de aandelen volgen uit de cijfers van "
        "de Gezondheidsmonitor zelf). Het 95%-interval is dat van de gemeente, verbreed met de "
        "onzekerheid van die verschuiving. Blijft het verschil dan significant, dan staat er 'ook "
        "bij gelijke leeftijdsopbouw'; anders telt het verschil niet en staat er 'maar bij "
        "gelijke leeftijdsopbouw niet significant', met het omgerekende cijfer.",
    ),
    Rule(
        "schaal",
        "Aantallen",
        "Een aantal (personen, woningen) wordt niet hoger of lager genoemd dan dat van de "
        "provincie of Nederland: die tellen de inwoners van veel gemeenten samen. Bij een "
        "aantal telt alleen de vergelijking met vergelijkbare gemeenten.",
    ),
    Rule(
        "peiljaar",
        "Peiljaar",
        "Beide rapporten van een gemeente hebben hetzelfde peiljaar: zonder gevraagd jaar het "
        "jaar waarover de meeste cijfers van alle rapporten samen gaan. Een stroom staat bij "
        "het jaar waarin hij plaatsvond (groei van 1 januari 2023 tot 1 januari 2024 = 2023).",
    ),
    Rule(
        "dominantie",
        "Provincie zonder één gemeente",
        "Komt een groot deel van wat een provinciecijfer telt (bijvoorbeeld de immigratie) "
        "uit één gemeente, minstens een kwart en minstens drie keer haar aandeel in de "
        "inwoners (of in wat het cijfer anders als basis heeft), dan vergelijken we met de "
        "provincie zonder die gemeente, en noemen we dat zo. Bij een saldo (zoals vestiging "
        "min vertrek) telt alleen het saldo zelf: minstens een kwart van dat van de provincie "
        "en minstens drie keer haar aandeel in de inwoners, als de gemeente ook minstens drie "
        "keer zo'n groot deel van de in- en uitstroom samen heeft als van de inwoners, of van "
        "één van beide minstens een kwart en drie keer zo'n groot deel. Een groot deel van "
        "beide stromen alleen is niet genoeg: haar saldo kan dan naar verhouding gewoon zijn. "
        "Bij een groei (van de inwoners, banen of woningen) telt de "
        "verandering zelf: minstens een kwart van die van de provincie, als de gemeente ook "
        "minstens een kwart van alle veranderingen van de gemeenten van de provincie heeft "
        "(stijgingen en dalingen samen), en minstens drie keer zo'n groot deel als van de "
        "inwoners, banen of woningen. Een aandeel boven 100% kan: de andere gemeenten hebben "
        "dan samen een saldo of verandering met het andere teken. Een grafiek laat de lijn van "
        "de provincie weg als die gemeente het laatste jaar of de helft van de jaren bepaalt; "
        "een voetnoot onder de grafiek zegt dan waarom. Anders blijft de lijn staan en noemt "
        "de voetnoot die jaren.",
    ),
    Rule(
        "doorstroom",
        "Doorstroom uit het buitenland",
        "Kwam in een jaar minstens een twintigste van de inwoners uit het buitenland "
        f"(immigratie {THROUGHPUT_IMMIGRATION:.0f} per 1.000 inwoners of meer) en vertrok per "
        "saldo minstens een twintigste naar andere gemeenten (binnenlands verhuissaldo "
        f"{THROUGHPUT_DOMESTIC:.0f} per 1.000 of lager), dan stromen "
        "mensen door de gemeente heen, zoals asielzoekers die zich in een aanmeldcentrum "
        "inschrijven en daarna naar een andere gemeente gaan. De immigratie, het buitenlands "
        "migratiesaldo, de vestiging uit en het vertrek naar andere gemeenten en het "
        "binnenlands verhuissaldo van die gemeente in dat jaar worden dan niet beoordeeld en "
        "staan niet in de samenvatting: ze zeggen weinig over wie er komt wonen en wie er "
        "blijft.",
    ),
    Rule(
        "projectie",
        "Ambities",
        "Een doel heet op koers als de hele 90%-band van de projectie het doel haalt, maar "
        "alleen als de laatste drie jaar de trend volgen. Volgen ze die niet (bijvoorbeeld een "
        "vlakke reeks na een lange daling), dan wordt het doel beoordeeld op het niveau van de "
        "laatste drie jaar en staat dat erbij.",
    ),
    Rule(
        "rang",
        "Rangorde",
        "Plaatsen en 'boven of onder de mediaan' komen uit de rangen in de tabel ernaast: "
        "plaats 6 van 11 is de middelste plaats.",
    ),
)


def rule(rule_id: str) -> Rule:
    """Return one rule by id.

    Examples
    --------
    >>> rule("kopbevinding").title
    'Samenvatting'
    """
    for r in RULES:
        if r.id == rule_id:
            return r
    raise KeyError(rule_id)


# -- verschil -----------------------------------------------------------------------------------
def _has_interval(obs: Any) -> bool:
    return (
        obs is not None
        and getattr(obs, "lower", None) is not None
        and getattr(obs, "upper", None) is not None
        and not is_missing(obs.lower)
        and not is_missing(obs.upper)
    )


def _threshold(*values: Any) -> float | None:
    """Return the smallest difference that counts between ``values`` (``drempel``), or None.

    It is the larger half-width of the values that carry such bounds: the difference in
    percentage points that makes 1.000 persons of the smaller population.
    """
    halves = [
        (float(v.upper) - float(v.lower)) / 2
        for v in values
        if _has_interval(v) and precision_kind(getattr(v, "precision", None)) == THRESHOLD
    ]
    return max(halves) if halves else None


def apart(a: Any, b: Any) -> bool | None:
    """Tell whether two values differ beyond their intervals (None: neither has one).

    Intervals that only touch (a distance of 1,2 and 1,3 km, each rounded to 0,1 km) are not
    apart. With an interval on one side only, the other value must lie outside it. Bounds of
    the kind ``drempel`` (a survey without published margins, the EBB) are no interval: the
    values are apart when they differ by at least the smallest difference that counts
    (:func:`_threshold`), 1.000 persons of the smaller population.

    Examples
    --------
    >>> from types import SimpleNamespace as V
    >>> apart(V(value=1.2, lower=1.15, upper=1.25), V(value=1.3, lower=1.25, upper=1.35))
    False
    >>> apart(V(value=47.1, lower=40.0, upper=54.5), V(value=64.7, lower=57.1, upper=72.7))
    True
    >>> ebb = V(value=72.5, lower=69.6, upper=75.4, precision="drempel: 1.000 personen")
    >>> apart(ebb, V(value=73.2, lower=None, upper=None))
    False
    """
    ia, ib = _has_interval(a), _has_interval(b)
    if not ia and not ib:
        return None
    tol = 1e-9 * max(1.0, abs(float(a.value)), abs(float(b.value)))
    threshold = _threshold(a, b)
    if threshold is not None:
        return bool(abs(float(a.value) - float(b.value)) >= threshold - tol)

    def lo(x: Any) -> float:
        return float(x.lower if _has_interval(x) else x.value)

    def hi(x: Any) -> float:
        return float(x.upper if _has_interval(x) else x.value)

    return bool(hi(a) < lo(b) - tol or hi(b) < lo(a) - tol)


def difference(own: Any, other: Any, unit: str) -> tuple[str, bool | None]:
    """Return the word for a value against a benchmark and whether the difference is certain.

    Returns
    -------
    word, certain : str, bool or None
        ``hoger``, ``lager``, ``gelijk`` or ``onbekend``; ``certain`` is True when the
        intervals are apart, False when they allow either, None when neither value has one.

    Examples
    --------
    >>> from types import SimpleNamespace as V
    >>> difference(V(value=74.2, lower=None, upper=None), V(value=74.24, lower=None, upper=None),
    ...            "%")
    ('gelijk', None)
    """
    if own is None or other is None:
        return "onbekend", None
    if same_when_shown(own.value, other.value, unit):
        return "gelijk", (False if apart(own, other) is not None else None)
    word = "hoger" if own.value > other.value else "lager"
    return word, apart(own, other)


def small(own: Any, other: Any, spread: float | None) -> bool:
    """Tell whether a difference is smaller than :data:`SMALL_SHARE` of the spread (*klein*).

    ``spread`` is the distance between the 25th and 75th percentile of all municipalities'
    figures in the year (:func:`westerkwartier.analysis.comparison.municipal_spreads`); None
    (unknown) or 0 never makes a difference small.

    Examples
    --------
    >>> from types import SimpleNamespace as V
    >>> small(V(value=45.9), V(value=45.8), 11.9), small(V(value=0.9), V(value=0.5), 0.71)
    (True, False)
    >>> small(V(value=11.0), V(value=11.1), None)
    False
    """
    if own is None or other is None or spread is None or is_missing(spread) or spread <= 0:
        return False
    return abs(float(own.value) - float(other.value)) < SMALL_SHARE * float(spread)


def against_balance(flow: Any, balance: Any) -> bool:
    """Tell whether a flow's difference is one the balance's contradicts (rule *saldo*).

    Both are comparisons with the same benchmark; only differences that count
    (:func:`counts`) and have a tone can contradict each other.

    Examples
    --------
    >>> from types import SimpleNamespace as C
    >>> more = C(word="hoger", significant=None, tone="gunstig")
    >>> against_balance(more, C(word="lager", significant=None, tone="ongunstig"))
    True
    >>> against_balance(more, C(word="lager", significant=False, tone="neutraal"))
    False
    """
    tones = {flow.tone, balance.tone} if counts(flow) and counts(balance) else set()
    return tones == {"gunstig", "ongunstig"}


def is_count(unit: str) -> bool:
    """Tell whether a figure is an absolute number, not comparable with a total (*schaal*).

    Examples
    --------
    >>> is_count("personen"), is_count("per 1 000 inwoners"), is_count("euro")
    (True, False, False)
    """
    return unit in COUNT_UNITS


def counts(comparison: Any) -> bool:
    """Tell whether a comparison counts: ``hoger``/``lager`` and not within the margins."""
    return (
        comparison is not None
        and comparison.word in ("hoger", "lager")
        and (comparison.significant is not False)
        and getattr(comparison, "age_holds", None) is not False
    )


def gap(own: Any, other: Any) -> float:
    """Return the smallest distance between two values that their intervals allow (>= 0).

    For bounds of the kind ``drempel``: how far the difference goes beyond the smallest
    difference that counts.

    Examples
    --------
    >>> from types import SimpleNamespace as V
    >>> round(gap(V(value=64.7, lower=57.1, upper=72.7), V(value=50.2, lower=None, upper=None)), 1)
    6.9
    """
    threshold = _threshold(own, other)
    if threshold is not None:
        return float(max(0.0, abs(float(own.value) - float(other.value)) - threshold))
    lo_a = own.lower if _has_interval(own) else own.value
    hi_a = own.upper if _has_interval(own) else own.value
    lo_b = other.lower if _has_interval(other) else other.value
    hi_b = other.upper if _has_interval(other) else other.value
    return float(max(0.0, lo_a - hi_b, lo_b - hi_a))


# -- ontwikkeling -------------------------------------------------------------------------------
def movement(start: Any, end: Any, unit: str) -> tuple[str, bool | None]:
    """Return ``stijgt``, ``daalt`` or ``stabiel`` for a change, and whether it is certain.

    Examples
    --------
    >>> from types import SimpleNamespace as V
    >>> movement(V(value=70.0, lower=None, upper=None), V(value=75.0, lower=None, upper=None), "%")
    ('stijgt', None)
    >>> movement(V(value=1.2, lower=1.15, upper=1.25), V(value=1.3, lower=1.25, upper=1.35), "km")
    ('stabiel', False)
    """
    change = end.value - start.value
    if unit == "%":
        moved = abs(change) >= TREND_THRESHOLD_PP
    else:
        base = abs(start.value)
        moved = abs(change) >= TREND_THRESHOLD_REL * base if base else change != 0
    if same_when_shown(end.value, start.value, unit):
        moved = False  # no change that a reader could see
    certain = apart(end, start)
    if certain is False:
        moved = False
    if not moved:
        return "stabiel", certain
    return ("stijgt" if change > 0 else "daalt"), certain


def trend_counts(trend: Any) -> bool:
    """Tell whether a trend counts: ``stijgt`` or ``daalt`` (beyond the margins)."""
    return trend is not None and trend.word in ("stijgt", "daalt")


# -- doorstroom ---------------------------------------------------------------------------------
def throughput(immigration: float | None, domestic: float | None) -> bool:
    """Tell whether a municipality's year is one of throughput from abroad (*doorstroom*).

    Parameters
    ----------
    immigration : float or None
        Immigration per 1.000 inhabitants in that year.
    domestic : float or None
        Domestic migration balance per 1.000 inhabitants in the same year.

    Examples
    --------
    >>> throughput(607.9, -602.1), throughput(50.0, -50.0), throughput(76.2, -62.8)
    (True, True, True)
    >>> throughput(105.4, 12.9), throughput(64.4, -43.5), throughput(None, -300.0)
    (False, False, False)
    """
    if is_missing(immigration) or is_missing(domestic):
        return False
    assert immigration is not None and domestic is not None
    return immigration >= THROUGHPUT_IMMIGRATION and domestic <= THROUGHPUT_DOMESTIC


# -- oordeel ------------------------------------------------------------------------------------
def tone(word: str, direction: str) -> str:
    """``gunstig``/``ongunstig``/``neutraal`` for a word (hoger, daalt ...) and a direction.

    Examples
    --------
    >>> tone("hoger", "lower_is_better"), tone("daalt", "lower_is_better"), tone("hoger", "context")
    ('ongunstig', 'gunstig', 'neutraal')
    """
    if direction == "context" or word not in ("hoger", "lager", "stijgt", "daalt"):
        return "neutraal"
    up = word in ("hoger", "stijgt")
    good = up if direction == "higher_is_better" else not up
    return "gunstig" if good else "ongunstig"


def verdict(comparisons: Iterable[Any], trend: Any, direction: str) -> str:
    """Return the verdict of a row: the tone the counting comparisons agree on.

    Without any benchmark value at all, a change that counts decides; otherwise ``neutraal``.

    Examples
    --------
    >>> from types import SimpleNamespace as C
    >>> up = C(word="hoger", significant=None, tone="gunstig", other=1)
    >>> verdict([up, up], C(word="onbekend", tone="neutraal"), "higher_is_better")
    'gunstig'
    >>> none = C(word="onbekend", significant=None, tone="neutraal", other=None)
    >>> verdict([none], C(word="stabiel", tone="neutraal"), "lower_is_better")
    'neutraal'
    """
    if direction == "context":
        return "neutraal"
    comps = [c for c in comparisons if c is not None]
    tones = {c.tone for c in comps if counts(c)} - {"neutraal"}
    if len(tones) == 1:
        return tones.pop()
    if tones:
        return "neutraal"
    if all(c.other is None for c in comps) and trend_counts(trend):
        return trend.tone
    return "neutraal"


# -- kopbevinding -------------------------------------------------------------------------------
def headline(row: Any, reference: int | None) -> tuple[bool, str]:
    """Tell whether a scorecard row may be a finding in the summary, and why not.

    Examples
    --------
    >>> from types import SimpleNamespace as R
    >>> c = R(word="hoger", significant=None, tone="gunstig", other=1)
    >>> row = R(own=R(year=2020), direction="higher_is_better", comparisons=[c],
    ...         trend=R(word="onbekend"))
    >>> headline(row, 2024)
    (False, 'cijfer uit 2020 is meer dan 3 jaar ouder dan het peiljaar 2024')
    """
    if row.own is None:
        return False, "geen cijfer"
    if row.direction == "context":
        return False, "contextcijfer"
    if getattr(row, "exception", None):
        return False, f"niet beoordeeld: {row.exception}"
    if reference is not None and reference - row.own.year > MAX_AGE:
        return False, (
            f"cijfer uit {row.own.year} is meer dan {MAX_AGE} jaar ouder dan het peiljaar "
            f"{reference}"
        )
    if not any(counts(c) for c in row.comparisons) and not trend_counts(row.trend):
        return False, "geen verschil en geen verandering die telt"
    return True, ""


def summary_order(tone: str, importance: float, order: int) -> tuple[bool, float, int]:
    """Sort key of a finding in the summary (rule *kopbevinding*).

    A verdict (``gunstig``, ``ongunstig``) before a neutral or mixed picture; within each
    group the most important first, ties in report order.

    Examples
    --------
    >>> findings = [("neutraal", 2.0, 0), ("gunstig", 0.5, 2), ("ongunstig", 0.5, 1)]
    >>> [f[2] for f in sorted(findings, key=lambda f: summary_order(*f))]
    [1, 2, 0]
    """
    return (tone == "neutraal", -importance, order)


def one_per_family(keys: Sequence[Hashable | None]) -> list[int]:
    """Order findings so that no message is repeated before all have spoken (*kopbevinding*).

    ``keys`` holds, in summary order, what each finding says: its catalogue family and its
    verdict (``None``: a message of its own). The first finding of each key keeps its place
    among the others; a second one with the same key, which repeats a message in other
    figures, comes after all first ones, in the order they had. Two figures of a family with
    different verdicts (more people arrive and more leave) say different things and keep
    their places.

    Returns
    -------
    list of int
        Positions in ``keys``, in the new order.

    Examples
    --------
    >>> one_per_family([("jongeren", "ongunstig"), None, ("jongeren", "ongunstig"), None])
    [0, 1, 3, 2]
    >>> one_per_family([("verhuizen", "gunstig"), ("verhuizen", "ongunstig")])
    [0, 1]
    """
    seen: set[Hashable] = set()
    first: list[int] = []
    later: list[int] = []
    for i, key in enumerate(keys):
        if key is not None and key in seen:
            later.append(i)
        else:
            first.append(i)
            if key is not None:
                seen.add(key)
    return first + later


# -- peiljaar -----------------------------------------------------------------------------------
def reference_year(years: Sequence[int], requested: int | None = None) -> int | None:
    """Return the reference year: a requested year, else the upper median of the years.

    ``years`` are the latest years with a value of every figure of every report of the run,
    so that both reports of a municipality name the same year.

    Examples
    --------
    >>> reference_year([2022, 2024, 2024, 2026])
    2024
    >>> reference_year([2022, 2024], requested=2023)
    2023
    """
    if requested:
        return int(requested)
    ordered = sorted((int(y) for y in years), reverse=True)
    if not ordered:
        return None
    return ordered[(len(ordered) - 1) // 2]


# -- projectie ----------------------------------------------------------------------------------
def recent_level_respected(years: Sequence[float], values: Sequence[float], slope: float) -> bool:
    """Tell whether the last :data:`RECENT_YEARS` years follow a long trend's slope.

    They do when their own slope has the same sign as the long slope and at least half its
    size, or when the long trend is flat anyway. A series that fell for years and then stayed
    level (unemployment 2,9-3,0% three years in a row) does not: a straight line through ten
    years would carry on falling.

    Examples
    --------
    >>> recent_level_respected([2022, 2023, 2024], [2.9, 3.0, 3.0], -0.6)
    False
    >>> recent_level_respected([2022, 2023, 2024], [4.2, 3.6, 3.0], -0.6)
    True
    """
    pairs = [(float(y), float(v)) for y, v in zip(years, values, strict=True) if not math.isnan(v)]
    pairs = sorted(pairs)[-RECENT_YEARS:]
    if len(pairs) < RECENT_YEARS or math.isnan(slope) or slope == 0:
        return True
    xs = [p[0] for p in pairs]
    ys = [p[1] for p in pairs]
    xbar, ybar = sum(xs) / len(xs), sum(ys) / len(ys)
    sxx = sum((x - xbar) ** 2 for x in xs)
    recent = sum((x - xbar) * (y - ybar) for x, y in zip(xs, ys, strict=True)) / sxx
    return recent * slope > 0 and abs(recent) >= 0.5 * abs(slope)


# -- rang ---------------------------------------------------------------------------------------
def position(rank: int, n: int) -> str:
    """Where rank ``rank`` of ``n`` stands against the median (1 = best).

    Examples
    --------
    >>> position(6, 11), position(2, 6), position(4, 6), position(3, 6)
    ('op de mediaan', 'boven de mediaan', 'onder de mediaan', 'boven de mediaan')
    """
    if n < 2 or rank < 1:
        return "onbekend"
    middle = (n + 1) / 2
    if rank < middle:
        return "boven de mediaan"
    if rank > middle:
        return "onder de mediaan"
    return "op de mediaan"


__all__ = [
    "MAX_AGE",
    "RULES",
    "Rule",
    "against_balance",
    "apart",
    "counts",
    "difference",
    "gap",
    "headline",
    "movement",
    "position",
    "recent_level_respected",
    "reference_year",
    "rule",
    "small",
    "tone",
    "trend_counts",
    "verdict",
]
