"""The indicator catalogue: what each indicator is, where its figures come from, in what unit.

The catalogue lives in ``config/indicators.toml`` (readable, reviewed like code). This module
reads and checks it (:func:`load_catalogue`, :func:`check_catalogue`), lists it for people
(:func:`catalogue`) and converts CBS units into the units a reader expects
(:func:`unit_factor`: ``x 1 000`` and ``1 000 euro`` become persons and euros).

Missing values keep their kind (:data:`MISSING`): a figure CBS does not publish, one it
suppresses, one that does not apply, or a table that is only available online. They are never
filled with zero and never interpolated.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from westerkwartier.config import CONFIG_DIR, read_toml
from westerkwartier.errors import CbsSchemaError, InputError

CATALOGUE_FILE = CONFIG_DIR / "indicators.toml"
#: The dimension whose categories an operand's ``age_groups`` names.
AGE_DIMENSION = "Leeftijd"
#: Between an indicator id and an age group in the id of its age variant (``overgewicht@65 jaar
#: of ouder``; see :meth:`Indicator.age_variant`).
AGE_SEPARATOR = "@"


def variant_id(indicator_id: str, group: str) -> str:
    """Return the id of an indicator's age variant.

    Examples
    --------
    >>> variant_id("overgewicht", "65 jaar of ouder")
    'overgewicht@65 jaar of ouder'
    """
    return f"{indicator_id}{AGE_SEPARATOR}{group}"


MERGER_SHARES_FILE = CONFIG_DIR / "merger_shares.toml"


HERINDELINGEN_FILE = CONFIG_DIR / "herindelingen.toml"


#: Themes in report order (Dutch, as shown in reports).
THEMES: tuple[str, ...] = (
    "Talent",
    "Vestigingsklimaat",
    "Woonklimaat",
    "Gezondheid en vitaliteit",
    "Context",
)


#: Sub-themes of Talent.
TALENT_SUBTHEMES: tuple[str, ...] = ("aantrekken", "ontwikkelen", "behouden")


#: Allowed directions.
DIRECTIONS: tuple[str, ...] = ("higher_is_better", "lower_is_better", "context")


#: Status words, from best to worst; a computed value takes the worst status of its inputs.
STATUSES: tuple[str, ...] = ("definitief", "voorlopig", "schatting")


#: Fields every catalogue entry must fill.
REQUIRED_FIELDS: tuple[str, ...] = (
    "id",
    "label_nl",
    "label_en",
    "theme",
    "subtheme",
    "unit",
    "direction",
    "formula",
    "years",
    "caveats",
    "description",
    "operands",
)


#: Fields every operand must fill.
REQUIRED_OPERAND_FIELDS: tuple[str, ...] = ("tables", "cbs_unit")

#: Values of an indicator's ``series_break``: ``boundary`` (the default) = a value describes
#: the region within its current boundaries only (see :mod:`westerkwartier.indicators.mergers`);
#: ``none`` = figures of a municipality from before a boundary change are kept as CBS gives
#: them (for an analysis of the old areas; reports never use it).
SERIES_BREAKS: tuple[str, ...] = ("boundary", "none")


#: Values of an indicator's ``period``: how its year is written for a reader. ``schooljaar``:
#: the year is the first of a school year (2022 = schooljaar 2022/'23).
PERIODS: tuple[str, ...] = ("schooljaar",)


#: Why a value is missing. The keys are the kinds; the values what the panel shows.
MISSING: dict[str, str] = {
    "online_only": "tabel alleen online beschikbaar",
    "unavailable": "tabel niet beschikbaar (CBS onbereikbaar)",
    "not_published": "niet gepubliceerd",
    "suppressed": "geen cijfer van CBS (geheim of onbetrouwbaar)",
    "not_applicable": "niet van toepassing",
    "not_rebuildable": "gemeente bestond nog niet; niet herleidbaar uit voorgangers",
    "zero_denominator": "niet van toepassing (noemer is nul)",
    "topic_missing": "onderwerp niet in de beschikbare tabel",
    "rounded_small": "te kleine aantallen: CBS rondt deze tellingen af op duizendtallen",
    "too_large": "tabel niet opgehaald: de vraag aan CBS is groter dan de rijgrens",
    "not_found": "tabel niet gevonden bij CBS",
    "boundary_break": "gemeentegrenzen gewijzigd; eerdere jaren gaan over een ander gebied en "
    "zijn niet herleidbaar uit de voorgangers",
    "no_measurement": "geen meting in dat jaar",
}

#: The reasons a table is not at hand, most telling first: its years are missing for want of
#: the table, not because CBS has no figure.
TABLE_GAPS: tuple[str, ...] = (
    MISSING["online_only"],
    MISSING["unavailable"],
    MISSING["too_large"],
    MISSING["not_found"],
    MISSING["topic_missing"],
)

#: How a rounding base is written in a missing reason ("afgerond op honderdtallen").
ROUNDING_WORDS: dict[int, str] = {
    1000: "duizendtallen",
    100: "honderdtallen",
    10: "tientallen",
    5: "vijftallen",
}


def rounded_small_reason(rounded_to: int) -> str:
    """Missing reason for a ratio withheld because CBS rounds its counts to ``rounded_to``.

    Examples
    --------
    >>> rounded_small_reason(100)
    'te kleine aantallen: CBS rondt deze tellingen af op honderdtallen'
    """
    word = ROUNDING_WORDS.get(int(rounded_to), f"veelvouden van {int(rounded_to)}")
    return f"te kleine aantallen: CBS rondt deze tellingen af op {word}"


def boundary_break_reason(year: int, existed: bool) -> str:
    """Missing reason for a year before a municipality's last boundary change.

    Parameters
    ----------
    year : int
        The year of the change (1 January).
    existed : bool
        Whether the code existed before (a municipality that took over (part of) another one,
        such as Groningen in 2019) or is new (Westerkwartier, formed in 2019).
    """
    if existed:
        return (
            f"gemeentegrenzen gewijzigd in {year}: eerdere jaren gaan over een ander gebied en "
            "zijn niet herleidbaar uit de voorgangers"
        )
    return f"gemeente bestond nog niet (ontstaan in {year}); niet herleidbaar uit voorgangers"


#: The CBS services a table can be fetched from (``api`` under ``[tables]``): the OData v3 feed
#: on opendata.cbs.nl and OData v4 on datasets.cbs.nl; each is the other's fallback.
APIS: tuple[str, ...] = ("v3", "v4")


#: Factor that turns a figure in a CBS unit into the unit a reader expects.
UNIT_FACTORS: dict[str, float] = {
    "aantal": 1.0,
    "x 1 000": 1_000.0,
    "x 1 000 000": 1_000_000.0,
    "euro": 1.0,
    "1 000 euro": 1_000.0,
    "x 1 000 euro": 1_000.0,
    "mln euro": 1_000_000.0,
    "%": 1.0,
    "km": 1.0,
    "per km2": 1.0,
    "per 1 000 inwoners": 1.0,
    "per 10 000 inwoners": 1.0,
    "m2": 1.0,
}


#: Reader units a single-operand indicator may have, per CBS unit of that operand.
READER_UNITS: dict[str, frozenset[str]] = {
    "aantal": frozenset({"personen", "woningen", "huishoudens", "aantal"}),
    "x 1 000": frozenset({"personen", "woningen", "huishoudens", "aantal"}),
    "x 1 000 000": frozenset({"personen", "aantal"}),
    "euro": frozenset({"euro"}),
    "1 000 euro": frozenset({"euro"}),
    "x 1 000 euro": frozenset({"euro"}),
    "mln euro": frozenset({"euro"}),
    "%": frozenset({"%"}),
    "km": frozenset({"km"}),
    "per km2": frozenset({"adressen per km2"}),
    "per 1 000 inwoners": frozenset({"per 1 000 inwoners"}),
    "per 10 000 inwoners": frozenset({"per 10 000 inwoners"}),
    "m2": frozenset({"m2"}),
}

#: Other spellings of a unit (after :func:`normalise_unit`), as StatLine shows them: CBS writes
#: the youth-care share as a percentage of an age group and refers to its notes for others.
UNIT_ALIASES: dict[str, str] = {
    "in % bepaalde leeftijdsklasse": "%",
    "% (zie toelichting)": "%",
}


_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


# -- units ------------------------------------------------------------------------------------
def normalise_unit(unit: Any) -> str | None:
    """Return a CBS unit in one spelling (``X 1000`` -> ``x 1 000``, ``km²`` -> ``km2``).

    Returns ``None`` for an empty or missing unit. Spellings listed in :data:`UNIT_ALIASES`
    become their plain unit.

    Examples
    --------
    >>> normalise_unit("In % bepaalde leeftijdsklasse")
    '%'
    >>> normalise_unit("per 10000 inwoners")
    'per 10 000 inwoners'
    """
    if unit is None or (isinstance(unit, float) and np.isnan(unit)):
        return None
    text = " ".join(str(unit).replace("²", "2").replace("\u00a0", " ").lower().split())
    if not text:
        return None
    # thousands apart: "1000" -> "1 000", "10000" -> "10 000", "1000000" -> "1 000 000"
    text = re.sub(r"\d{4,}", lambda m: f"{int(m.group()):,}".replace(",", " "), text)
    text = " ".join(text.split())
    return UNIT_ALIASES.get(text, text)


def unit_factor(cbs_unit: str) -> float:
    """Return the factor that turns a figure in ``cbs_unit`` into reader units.

    Parameters
    ----------
    cbs_unit : str
        The unit of a topic in CBS ``DataProperties`` (``aantal``, ``x 1 000``, ``1 000 euro``).

    Raises
    ------
    CbsSchemaError
        If the unit is not known; add it to :data:`UNIT_FACTORS`.

    Examples
    --------
    >>> unit_factor("x 1 000")
    1000.0
    >>> unit_factor("1 000 euro")
    1000.0
    """
    key = normalise_unit(cbs_unit)
    if key not in UNIT_FACTORS:
        raise CbsSchemaError(
            f"Onbekende CBS-eenheid {cbs_unit!r}. Voeg haar met de juiste omrekenfactor toe aan "
            "UNIT_FACTORS in westerkwartier/indicators.py."
        )
    return UNIT_FACTORS[key]


# -- catalogue --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Operand:
    """One input of an indicator: a topic of a series of tables, with a selection."""

    name: str
    tables: tuple[str, ...]
    topics: tuple[str, ...] = ()
    sum_topics: tuple[tuple[str, ...], ...] = ()
    cbs_unit: str = "aantal"
    select: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    additive: bool = False
    weight: str | None = None
    lag: int = 0
    margins: bool = False
    region_dimension: str | None = None
    rounded_to: int | None = None
    fill_regions: bool = False
    half_year: int | None = None
    significant_persons: int | None = None
    age_groups: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # a flat tuple of stems is one set of topics to add
        object.__setattr__(self, "sum_topics", _sum_sets(list(self.sum_topics)))

    @property
    def factor(self) -> float:
        """Factor from the CBS unit to reader units (see :func:`unit_factor`)."""
        return unit_factor(self.cbs_unit)

    def signature(self, table_id: str) -> tuple:
        """Key under which one extraction from ``table_id`` can be shared between indicators."""
        select = tuple(sorted((k, v) for k, v in self.select.items()))
        return (
            table_id,
            self.topics,
            self.sum_topics,
            self.cbs_unit,
            select,
            self.margins,
            self.region_dimension,
            self.additive,
            self.half_year,
        )


@dataclass(frozen=True)
class TableSpec:
    """What the catalogue knows about one CBS table."""

    id: str
    title: str
    offline: bool
    year: int | None = None
    status_dimension: str | None = None
    status_order: tuple[str, ...] = ()
    api: str = "v3"
    division: int | None = None
    period_month: int | None = None
    note: str = ""


@dataclass(frozen=True)
class Indicator:
    """One catalogue entry."""

    id: str
    label_nl: str
    label_en: str
    theme: str
    subtheme: str
    unit: str
    direction: str
    formula: str
    years: tuple[int, ...]
    caveats: str
    description: str
    operands: Mapping[str, Operand]
    status: str | None = None
    series_break: str | None = None
    breaks: tuple[int, ...] = ()
    period: str | None = None
    family: str | None = None

    def year_label(self, year: int) -> str:
        """How a year of this indicator is written (``2022`` or, for a school year, ``2022/'23``).

        Examples
        --------
        >>> ind = Indicator("x", "x", "x", "Talent", "ontwikkelen", "%", "context", "a", (2022,),
        ...                 "", "", {}, period="schooljaar")
        >>> ind.year_label(2022)
        "2022/'23"
        """
        if self.period == "schooljaar":
            return f"{int(year)}/'{(int(year) + 1) % 100:02d}"
        return str(int(year))

    @property
    def tables(self) -> tuple[str, ...]:
        """All table ids the indicator may use, in order of first mention."""
        seen: dict[str, None] = {}
        for op in self.operands.values():
            seen.update(dict.fromkeys(op.tables))
        return tuple(seen)

    @property
    def margins_operand(self) -> Operand | None:
        """The operand whose 95% bounds the indicator carries (formula is that operand)."""
        op = self.operands.get(self.formula.strip())
        return op if op is not None and op.margins else None

    @property
    def age_groups(self) -> tuple[str, ...]:
        """The age groups that together make the survey figure (empty for other indicators)."""
        op = self.margins_operand
        return op.age_groups if op is not None else ()

    def age_variant(self, group: str) -> Indicator:
        """Return this indicator for one of its :attr:`age_groups`.

        The same indicator with ``Leeftijd`` selecting ``group`` instead of the total, its id
        ``<id>@<group>`` (:data:`AGE_SEPARATOR`): the panel computes it like any other.

        Examples
        --------
        >>> ind = load_catalogue()["overgewicht"]
        >>> variant = ind.age_variant("65 jaar of ouder")
        >>> variant.id, dict(variant.operands["pct"].select)
        ('overgewicht@65 jaar of ouder', {'Leeftijd': ('65 jaar of ouder',)})
        """
        if group not in self.age_groups:
            raise InputError(
                f"{self.id} heeft geen leeftijdsgroep {group!r}; wel: "
                f"{', '.join(self.age_groups) or 'geen'}."
            )
        operands = {
            name: replace(op, select={**op.select, AGE_DIMENSION: (group,)}, age_groups=())
            if AGE_DIMENSION in op.select
            else op
            for name, op in self.operands.items()
        }
        return replace(
            self,
            id=variant_id(self.id, group),
            label_nl=f"{self.label_nl} ({group})",
            operands=operands,
        )

    @property
    def threshold_operand(self) -> Operand | None:
        """The rate whose differences count from a number of persons on (formula is that rate).

        Its ``weight`` holds the persons the rate is a percentage of.
        """
        op = self.operands.get(self.formula.strip())
        return op if op is not None and op.significant_persons else None


@dataclass(frozen=True)
class Catalogue:
    """The indicator catalogue: indicators by id and the known tables."""

    indicators: Mapping[str, Indicator]
    tables: Mapping[str, TableSpec]

    def __getitem__(self, indicator_id: str) -> Indicator:
        base, sep, group = str(indicator_id).partition(AGE_SEPARATOR)
        if sep and base in self.indicators:  # an age variant: overgewicht@65 jaar of ouder
            return self.indicators[base].age_variant(group)
        try:
            return self.indicators[indicator_id]
        except KeyError:
            import difflib

            themes = {t.lower(): t for t in THEMES}
            theme = themes.get(str(indicator_id).strip().lower())
            if theme is not None:  # wk.panel(indicators="Woonklimaat")
                raise InputError(
                    f"{theme!r} is een thema, geen indicator; de indicatoren ervan staan in "
                    f"wk.indicatoren({theme!r}) (in de terminal: `westerkwartier indicators`)."
                ) from None
            close = difflib.get_close_matches(indicator_id, list(self.indicators), n=3)
            hint = f" Bedoelde u: {', '.join(close)}?" if close else ""
            raise InputError(
                f"Onbekende indicator {indicator_id!r}.{hint} Zie wk.indicatoren() (in de "
                "terminal: `westerkwartier indicators`) voor de lijst."
            ) from None

    def __iter__(self):
        return iter(self.indicators.values())

    def age_variants(self, indicator_ids: Iterable[str] | None = None) -> list[str]:
        """Return the ids of the age variants of ``indicator_ids`` (default: all indicators).

        Examples
        --------
        >>> load_catalogue().age_variants(["overgewicht", "woz_waarde"])
        ['overgewicht@18 tot 65 jaar', 'overgewicht@65 jaar of ouder']
        """
        ids = list(self.indicators) if indicator_ids is None else indicator_ids
        return [
            variant_id(i, group)
            for i in ids
            if i in self.indicators
            for group in self.indicators[i].age_groups
        ]

    def __len__(self) -> int:
        return len(self.indicators)

    def table(self, table_id: str) -> TableSpec:
        """Return the :class:`TableSpec` of a table (a bare one when the table is unknown)."""
        for key, spec in self.tables.items():
            if key.lower() == table_id.lower():
                return spec
        return TableSpec(id=table_id, title=table_id, offline=False)


def parse_years(text: str | Iterable[int]) -> tuple[int, ...]:
    """Parse ``"2013-2024"`` or ``"2020,2022,2024"`` (or a list) into a tuple of years.

    Examples
    --------
    >>> parse_years("2020,2022")
    (2020, 2022)
    >>> parse_years("2013-2015")
    (2013, 2014, 2015)
    """
    if not isinstance(text, str):
        return tuple(sorted(int(y) for y in text))
    years: set[int] = set()
    for part in text.split(","):
        part = part.strip()
        if "-" in part:
            lo, hi = (int(p) for p in part.split("-"))
            years.update(range(lo, hi + 1))
        elif part:
            years.add(int(part))
    return tuple(sorted(years))


def _as_tuple(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value)


def _sum_sets(value: Any) -> tuple[tuple[str, ...], ...]:
    """``sum_topics`` as alternatives: ``["A", "B"]`` is one set, ``[["A"], ["B", "C"]]`` two."""
    if value is None or value == []:
        return ()
    if isinstance(value, str):
        return ((value,),)
    if all(isinstance(v, str) for v in value):
        return (tuple(str(v) for v in value),)
    return tuple(_as_tuple(v) for v in value if v)


def check_catalogue(raw: Mapping[str, Any]) -> list[str]:  # noqa: C901 - over the limit; see tests/test_complexity.py
    """Return the problems of a raw catalogue (the parsed TOML); empty when all is well.

    Checks that every entry fills every field, that themes, sub-themes and directions are
    valid, that every table's ``api`` is known, that ids are unique, that every table named is
    listed under ``[tables]``, that formulas only use their operands and that single-operand
    indicators state a reader unit that fits the CBS unit.
    """
    problems: list[str] = []
    tables = {str(k).lower() for k in raw.get("tables", {})}
    for table_id, spec in raw.get("tables", {}).items():
        if spec.get("api", "v3") not in APIS:
            problems.append(
                f"tabel {table_id}: onbekende api {spec.get('api')!r} (kies {' of '.join(APIS)})"
            )
    for tid, spec in raw.get("tables", {}).items():
        month = spec.get("period_month")
        if month is not None and (not isinstance(month, int) or not 1 <= month <= 12):
            problems.append(f"tabel {tid}: period_month moet een maand zijn (1 tot en met 12)")
        division = spec.get("division")
        if division is not None and (not isinstance(division, int) or division < 1900):
            problems.append(f"tabel {tid}: division moet een jaartal zijn (bijv. 2024)")
    seen: set[str] = set()
    for i, entry in enumerate(raw.get("indicator", [])):
        iid = entry.get("id", f"#{i}")
        for name in REQUIRED_FIELDS:
            if entry.get(name) in (None, "", {}, []):
                problems.append(f"{iid}: veld {name!r} ontbreekt of is leeg")
        if iid in seen:
            problems.append(f"{iid}: id komt meer dan eens voor")
        seen.add(iid)
        if not _NAME.match(str(iid)):
            problems.append(f"{iid}: id mag alleen kleine letters, cijfers en _ bevatten")
        if entry.get("theme") not in THEMES:
            problems.append(f"{iid}: onbekend thema {entry.get('theme')!r}")
        if entry.get("theme") == "Talent" and entry.get("subtheme") not in TALENT_SUBTHEMES:
            problems.append(f"{iid}: subthema van Talent moet een van {TALENT_SUBTHEMES} zijn")
        if entry.get("direction") not in DIRECTIONS:
            problems.append(f"{iid}: onbekende richting {entry.get('direction')!r}")
        if entry.get("theme") == "Context" and entry.get("direction") != "context":
            problems.append(f"{iid}: Context-indicatoren worden nooit gescoord (direction)")
        if entry.get("status") not in (None, *STATUSES):
            problems.append(f"{iid}: onbekende status {entry.get('status')!r}")
        if entry.get("period") not in (None, *PERIODS):
            problems.append(
                f"{iid}: onbekende period {entry.get('period')!r}; kies uit {', '.join(PERIODS)}"
            )
        problems += _check_breaks(iid, entry)
        if entry.get("series_break") not in (None, *SERIES_BREAKS):
            problems.append(
                f"{iid}: onbekende series_break {entry.get('series_break')!r}; kies uit "
                f"{', '.join(SERIES_BREAKS)}"
            )
        try:
            if not parse_years(entry.get("years", "")):
                problems.append(f"{iid}: geen jaren")
        except ValueError:
            problems.append(f"{iid}: jaren {entry.get('years')!r} niet leesbaar")
        operands = entry.get("operands") or {}
        for oname, op in operands.items():
            where = f"{iid}.{oname}"
            if not _NAME.match(oname):
                problems.append(f"{where}: naam mag alleen kleine letters, cijfers en _ bevatten")
            for name in REQUIRED_OPERAND_FIELDS:
                if not op.get(name):
                    problems.append(f"{where}: veld {name!r} ontbreekt")
            if bool(op.get("topic")) == bool(op.get("sum_topics")):
                problems.append(f"{where}: geef precies een van 'topic' en 'sum_topics'")
            sums = op.get("sum_topics")
            if isinstance(sums, list) and any(isinstance(v, list) for v in sums):
                if not all(isinstance(v, list) and v for v in sums):
                    problems.append(
                        f"{where}: sum_topics is een lijst van stammen of een lijst van "
                        "lijsten (alternatieven), niet beide"
                    )
            if op.get("rounded_to") is not None and (
                not isinstance(op["rounded_to"], int) or op["rounded_to"] <= 0
            ):
                problems.append(f"{where}: rounded_to moet een positief geheel getal zijn")
            if op.get("half_year") not in (None, 1, 2):
                problems.append(f"{where}: half_year is 1 (eerste halfjaar) of 2 (tweede)")
            if op.get("region_dimension") is not None and not isinstance(
                op["region_dimension"], str
            ):
                problems.append(f"{where}: region_dimension moet de naam van een dimensie zijn")
            for table_id in op.get("tables", []):
                if str(table_id).lower() not in tables:
                    problems.append(f"{where}: tabel {table_id} staat niet onder [tables]")
            if normalise_unit(op.get("cbs_unit")) not in UNIT_FACTORS:
                problems.append(f"{where}: onbekende CBS-eenheid {op.get('cbs_unit')!r}")
            problems += _check_age_groups(where, op)
            if op.get("weight") and op["weight"] not in operands:
                problems.append(f"{where}: gewicht {op['weight']!r} is geen operand")
            if op.get("weight") and op.get("additive"):
                problems.append(
                    f"{where}: een operand is additief of heeft een gewicht, niet beide"
                )
        formula = str(entry.get("formula", ""))
        names = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", formula))
        unknown = names - set(operands)
        if unknown:
            problems.append(f"{iid}: formule gebruikt onbekende namen {sorted(unknown)}")
        single = operands.get(formula.strip())
        if single is not None:
            allowed = READER_UNITS.get(normalise_unit(single.get("cbs_unit")) or "", frozenset())
            if entry.get("unit") not in allowed:
                problems.append(
                    f"{iid}: eenheid {entry.get('unit')!r} past niet bij CBS-eenheid "
                    f"{single.get('cbs_unit')!r} (verwacht een van {sorted(allowed)})"
                )
        for oname, op in operands.items():
            if op.get("margins") and formula.strip() != oname:
                problems.append(f"{iid}.{oname}: marges alleen bij een formule van één operand")
            problems += _check_threshold(f"{iid}.{oname}", entry, oname, op, operands)
    problems += _check_families(raw.get("indicator", []))
    return problems


def _check_threshold(
    where: str,
    entry: Mapping[str, Any],
    name: str,
    op: Mapping[str, Any],
    operands: Mapping[str, Any],
) -> list[str]:
    """Problems of an operand's ``significant_persons`` (a percentage of persons, weighted)."""
    persons = op.get("significant_persons")
    if persons is None:
        return []
    if not isinstance(persons, int) or isinstance(persons, bool) or persons <= 0:
        return [f"{where}: significant_persons moet een positief geheel aantal personen zijn"]
    base = operands.get(op.get("weight") or "")
    if str(entry.get("formula", "")).strip() != name or entry.get("unit") != "%" or base is None:
        return [
            f"{where}: significant_persons alleen bij een formule van één operand: een "
            "percentage (unit '%') met als weight het aantal personen waarop het rust"
        ]
    if normalise_unit(base.get("cbs_unit")) not in ("aantal", "x 1 000"):
        return [f"{where}: het gewicht van significant_persons moet een aantal personen zijn"]
    return []


def _check_families(entries: Sequence[Mapping[str, Any]]) -> list[str]:
    """Check that a ``family`` is a plain name shared by at least two indicators (one is a typo)."""
    members: dict[str, list[str]] = {}
    for entry in entries:
        if entry.get("family") is not None:
            members.setdefault(str(entry["family"]), []).append(str(entry.get("id")))
    problems = [
        f"{', '.join(ids)}: family {name!r} mag alleen kleine letters, cijfers en _ bevatten"
        for name, ids in members.items()
        if not _NAME.match(name)
    ]
    problems += [
        f"{ids[0]}: family {name!r} heeft maar één indicator; geef de verwante indicator "
        "dezelfde family of laat het veld weg"
        for name, ids in members.items()
        if len(ids) == 1
    ]
    return problems


def _check_breaks(iid: str, entry: Mapping[str, Any]) -> list[str]:
    """Problems of an indicator's ``breaks``: whole years after its first year."""
    breaks = entry.get("breaks")
    if breaks is None:
        return []
    if not isinstance(breaks, list) or not all(
        isinstance(b, int) and not isinstance(b, bool) for b in breaks
    ):
        return [f"{iid}: breaks is een lijst van jaartallen, bijvoorbeeld [2021]"]
    try:
        years = parse_years(entry.get("years", ""))
    except ValueError:
        return []
    if years and any(not years[0] < b <= years[-1] for b in breaks):
        return [
            f"{iid}: een trendbreuk in breaks moet na het eerste jaar ({years[0]}) en uiterlijk "
            f"in het laatste jaar ({years[-1]}) van years liggen"
        ]
    return []


def _check_age_groups(where: str, op: Mapping[str, Any]) -> list[str]:
    """Return the problem of an operand's ``age_groups`` without an age selection, if any."""
    if op.get("age_groups") and AGE_DIMENSION not in (op.get("select") or {}):
        return [f'{where}: age_groups vraagt select = {{ {AGE_DIMENSION} = "Totaal" }}']
    return []


def _operand(name: str, raw: Mapping[str, Any]) -> Operand:
    select = {str(k): _as_tuple(v) for k, v in (raw.get("select") or {}).items()}
    return Operand(
        name=name,
        tables=_as_tuple(raw.get("tables")),
        topics=_as_tuple(raw.get("topic")),
        sum_topics=_sum_sets(raw.get("sum_topics")),
        cbs_unit=normalise_unit(raw.get("cbs_unit")) or "aantal",
        select=select,
        additive=bool(raw.get("additive", False)),
        weight=raw.get("weight"),
        lag=int(raw.get("lag", 0)),
        margins=bool(raw.get("margins", False)),
        region_dimension=raw.get("region_dimension"),
        rounded_to=int(raw["rounded_to"]) if raw.get("rounded_to") is not None else None,
        fill_regions=bool(raw.get("fill_regions", False)),
        half_year=int(raw["half_year"]) if raw.get("half_year") is not None else None,
        significant_persons=(
            int(raw["significant_persons"]) if raw.get("significant_persons") is not None else None
        ),
        age_groups=_as_tuple(raw.get("age_groups")),
    )


def parse_catalogue(raw: Mapping[str, Any]) -> Catalogue:
    """Build a :class:`Catalogue` from a parsed TOML mapping, after :func:`check_catalogue`.

    Raises
    ------
    InputError
        If the catalogue has problems; the message lists them.
    """
    problems = check_catalogue(raw)
    if problems:
        listed = "\n  - ".join(problems[:20])
        raise InputError(
            f"De indicatorcatalogus bevat {len(problems)} fout(en):\n  - {listed}\n"
            "Verbeter westerkwartier/config/indicators.toml."
        )
    tables = {
        str(k): TableSpec(
            id=str(k),
            title=str(v.get("title", k)),
            offline=bool(v.get("offline", False)),
            year=v.get("year"),
            status_dimension=v.get("status_dimension"),
            status_order=_as_tuple(v.get("status_order")),
            api=str(v.get("api", "v3")),
            division=int(v["division"]) if v.get("division") is not None else None,
            period_month=int(v["period_month"]) if v.get("period_month") is not None else None,
            note=" ".join(str(v.get("note", "")).split()),
        )
        for k, v in raw.get("tables", {}).items()
    }
    indicators = {}
    for entry in raw.get("indicator", []):
        ops = {n: _operand(n, o) for n, o in entry["operands"].items()}
        indicators[entry["id"]] = Indicator(
            id=entry["id"],
            label_nl=entry["label_nl"],
            label_en=entry["label_en"],
            theme=entry["theme"],
            subtheme=entry["subtheme"],
            unit=entry["unit"],
            direction=entry["direction"],
            formula=entry["formula"],
            years=parse_years(entry["years"]),
            caveats=entry["caveats"],
            description=entry["description"],
            operands=ops,
            status=entry.get("status"),
            series_break=entry.get("series_break"),
            period=entry.get("period"),
            breaks=tuple(sorted(int(b) for b in entry.get("breaks") or ())),
            family=entry.get("family"),
        )
    return Catalogue(indicators=indicators, tables=tables)


def load_catalogue(path: Path | str | None = None) -> Catalogue:
    """Read and check the indicator catalogue (cached per file).

    Parameters
    ----------
    path : Path or str, optional
        A catalogue file; default ``westerkwartier/config/indicators.toml``.
    """
    return _load_catalogue(str(Path(path or CATALOGUE_FILE).resolve()))


@lru_cache(maxsize=4)
def _load_catalogue(path: str) -> Catalogue:
    return parse_catalogue(read_toml(path, what="de indicatorcatalogus").data)


def catalogue(theme: str | None = None, *, path: Path | str | None = None) -> pd.DataFrame:
    """List the indicators of the catalogue.

    Parameters
    ----------
    theme : str, optional
        Only this theme (``Talent``, ``Woonklimaat``...; case-insensitive).

    Returns
    -------
    pandas.DataFrame
        One row per indicator: id, label_nl, label_en, theme, subtheme, unit, direction,
        formula, years (``2013-2024``), tables (``86088NED 85494NED ...``), offline (whether
        the snapshot holds a table for it), breaks (years that start a new series after a
        definition break, ``2021``; empty when none), caveats (the indicator's, then the note
        of each of its tables that has one, after the table's id).

    Raises
    ------
    InputError
        If ``theme`` is not a theme of the catalogue.
    """
    cat = load_catalogue(path)
    rows = []
    for ind in cat:
        years = ind.years
        span = (
            f"{years[0]}-{years[-1]}"
            if len(years) == len(range(years[0], years[-1] + 1))
            else (",".join(str(y) for y in years))
        )
        rows.append(
            {
                "id": ind.id,
                "label_nl": ind.label_nl,
                "label_en": ind.label_en,
                "theme": ind.theme,
                "subtheme": ind.subtheme,
                "unit": ind.unit,
                "direction": ind.direction,
                "formula": ind.formula,
                "years": span,
                "tables": " ".join(ind.tables),
                "offline": all(
                    any(cat.table(t).offline for t in op.tables) for op in ind.operands.values()
                ),
                "breaks": ", ".join(str(b) for b in ind.breaks),
                "caveats": " ".join(
                    [ind.caveats]
                    + [f"{t}: {cat.table(t).note}" for t in ind.tables if cat.table(t).note]
                ),
            }
        )
    frame = pd.DataFrame(rows)
    if theme is not None:
        match = [t for t in THEMES if t.lower() == theme.strip().lower()]
        if not match:
            raise InputError(f"Onbekend thema {theme!r}; kies uit: {', '.join(THEMES)}.")
        frame = frame[frame["theme"] == match[0]].reset_index(drop=True)
    return frame
