"""The indicator catalogue and the computations behind each indicator.

The catalogue lives in ``config/indicators.toml`` (readable, reviewed like code). This module
reads and checks it, and holds the pure computations the panel is built from, each working on
:class:`~westerkwartier.table.CbsTable` objects or tidy frames so that it can be tested on tiny
hand-made tables:

* :func:`unit_factor` turns a CBS unit (``x 1 000``, ``1 000 euro``) into the factor that gives
  the units a reader expects (persons, euros);
* :func:`extract` takes one operand (topic stem + selection by category title) out of one table;
* :func:`combine_tables` picks, per year, the preferred table of a series CBS publishes under
  several ids (one per regional division or year);
* :func:`rebuild_mergers` rebuilds merged municipalities for the years before they existed from
  their predecessors (additive counts only; rates through numerator and denominator);
* :func:`compute` evaluates an indicator's formula and says why a value is missing.

Missing values keep their kind (:data:`MISSING`): a figure CBS does not publish, one it
suppresses, one that does not apply, or a table that is only available online. They are never
filled with zero and never interpolated.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import CbsSchemaError, InputError, TopicNotFound
from .periods import is_school_year, is_year, year_of
from .table import CbsTable

CONFIG_DIR = Path(__file__).parent / "config"
CATALOGUE_FILE = CONFIG_DIR / "indicators.toml"
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
}

#: A ratio of counts that CBS rounds to thousands (``x 1 000``) is withheld when the largest of
#: those counts (in practice the denominator) is below this many persons: rounding alone could
#: then move a share by 5 percentage points or more (Schiermonnikoog's 1 000 workers would
#: otherwise give 0,0% on occupational level 3-4).
MIN_ROUNDED_COUNT = 10_000

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
}

#: Columns of the tidy observation frames the functions below pass around.
OBS_COLUMNS: list[str] = [
    "region_code",
    "year",
    "value",
    "lower",
    "upper",
    "status",
    "source_table",
]

_MARGIN_TITLES = {"waarde": "value", "ondergrens": "lower", "bovengrens": "upper"}
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


# -- units ------------------------------------------------------------------------------------
def normalise_unit(unit: Any) -> str | None:
    """Return a CBS unit in one spelling (``X 1000`` -> ``x 1 000``, ``km²`` -> ``km2``).

    Returns ``None`` for an empty or missing unit.
    """
    if unit is None or (isinstance(unit, float) and np.isnan(unit)):
        return None
    text = " ".join(str(unit).replace("²", "2").replace("\u00a0", " ").lower().split())
    if not text:
        return None
    text = re.sub(r"(?<=\d)000\b", " 000", text.replace("1000", "1 000"))
    return " ".join(text.split())


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
    sum_topics: tuple[str, ...] = ()
    cbs_unit: str = "aantal"
    select: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    additive: bool = False
    weight: str | None = None
    lag: int = 0
    margins: bool = False

    @property
    def factor(self) -> float:
        """Factor from the CBS unit to reader units (see :func:`unit_factor`)."""
        return unit_factor(self.cbs_unit)

    def signature(self, table_id: str) -> tuple:
        """Key under which one extraction from ``table_id`` can be shared between indicators."""
        select = tuple(sorted((k, v) for k, v in self.select.items()))
        return (table_id, self.topics, self.sum_topics, self.cbs_unit, select, self.margins)


@dataclass(frozen=True)
class TableSpec:
    """What the catalogue knows about one CBS table."""

    id: str
    title: str
    offline: bool
    year: int | None = None
    status_dimension: str | None = None
    status_order: tuple[str, ...] = ()


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


@dataclass(frozen=True)
class Catalogue:
    """The indicator catalogue: indicators by id and the known tables."""

    indicators: Mapping[str, Indicator]
    tables: Mapping[str, TableSpec]

    def __getitem__(self, indicator_id: str) -> Indicator:
        try:
            return self.indicators[indicator_id]
        except KeyError:
            import difflib

            close = difflib.get_close_matches(indicator_id, list(self.indicators), n=3)
            hint = f" Bedoelde u: {', '.join(close)}?" if close else ""
            raise InputError(
                f"Onbekende indicator {indicator_id!r}.{hint} Zie `westerkwartier indicators` "
                "voor de lijst."
            ) from None

    def __iter__(self):
        return iter(self.indicators.values())

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


def check_catalogue(raw: Mapping[str, Any]) -> list[str]:
    """Return the problems of a raw catalogue (the parsed TOML); empty when all is well.

    Checks that every entry fills every field, that themes, sub-themes and directions are
    valid, that ids are unique, that every table named is listed under ``[tables]``, that
    formulas only use their operands and that single-operand indicators state a reader unit
    that fits the CBS unit.
    """
    problems: list[str] = []
    tables = {str(k).lower() for k in raw.get("tables", {})}
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
            for stem_ in _as_tuple(op.get("topic")) + _as_tuple(op.get("sum_topics")):
                if re.search(r"_\d+$", stem_):
                    problems.append(
                        f"{where}: {stem_!r} is een sleutel met nummer; gebruik de stam"
                    )
            for table_id in op.get("tables", []):
                if str(table_id).lower() not in tables:
                    problems.append(f"{where}: tabel {table_id} staat niet onder [tables]")
            if normalise_unit(op.get("cbs_unit")) not in UNIT_FACTORS:
                problems.append(f"{where}: onbekende CBS-eenheid {op.get('cbs_unit')!r}")
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
    return problems


def _operand(name: str, raw: Mapping[str, Any]) -> Operand:
    select = {str(k): _as_tuple(v) for k, v in (raw.get("select") or {}).items()}
    return Operand(
        name=name,
        tables=_as_tuple(raw.get("tables")),
        topics=_as_tuple(raw.get("topic")),
        sum_topics=_as_tuple(raw.get("sum_topics")),
        cbs_unit=normalise_unit(raw.get("cbs_unit")) or "aantal",
        select=select,
        additive=bool(raw.get("additive", False)),
        weight=raw.get("weight"),
        lag=int(raw.get("lag", 0)),
        margins=bool(raw.get("margins", False)),
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
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"Indicatorcatalogus {path} niet gevonden.") from None
    except tomllib.TOMLDecodeError as err:
        raise InputError(f"Indicatorcatalogus {path} is geen geldige TOML: {err}.") from None
    return parse_catalogue(raw)


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
        the snapshot holds a table for it), caveats.

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
                "caveats": ind.caveats,
            }
        )
    frame = pd.DataFrame(rows)
    if theme is not None:
        match = [t for t in THEMES if t.lower() == theme.strip().lower()]
        if not match:
            raise InputError(f"Onbekend thema {theme!r}; kies uit: {', '.join(THEMES)}.")
        frame = frame[frame["theme"] == match[0]].reset_index(drop=True)
    return frame


# -- mergers ------------------------------------------------------------------------------------
MERGER_COLUMNS = ["successor", "predecessor", "share", "start_year"]


def load_mergers(
    dissolved: pd.DataFrame | None = None,
    shares_path: Path | str | None = None,
    herindelingen_path: Path | str | None = None,
) -> pd.DataFrame:
    """Return the mergers to rebuild: successor, predecessor, share, start_year.

    Parameters
    ----------
    dissolved : pandas.DataFrame, optional
        Dissolved municipalities with ``code``, ``dissolved_in`` and ``successor_codes``
        (``;``-separated), as :meth:`westerkwartier.regions.Registry.dissolved` gives. Default:
        read ``config/herindelingen.toml`` (``[opgeheven.<code>]`` with ``jaar``, ``opvolger``
        and ``opvolgers``).
    shares_path : Path or str, optional
        The address shares of split municipalities (default ``config/merger_shares.toml``).

    Notes
    -----
    A predecessor with one successor counts in full (share 1). A predecessor split over several
    successors needs a share in ``merger_shares.toml`` for the successor; without one, that
    successor is left out altogether (no partial sums).
    """
    if dissolved is None:
        path = Path(herindelingen_path or HERINDELINGEN_FILE)
        raw = tomllib.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
        rows = []
        for code, entry in raw.get("opgeheven", {}).items():
            successors = list(entry.get("opvolgers") or [entry.get("opvolger")])
            rows.append(
                {
                    "code": code,
                    "dissolved_in": entry.get("jaar"),
                    "successor_codes": ";".join(s for s in successors if s),
                }
            )
        dissolved = pd.DataFrame(rows, columns=["code", "dissolved_in", "successor_codes"])
    spath = Path(shares_path or MERGER_SHARES_FILE)
    shares_raw = tomllib.loads(spath.read_text(encoding="utf-8")) if spath.is_file() else {}
    shares: dict[tuple[str, str], float] = {}
    for successor, preds in shares_raw.get("share", {}).items():
        for pred, entry in preds.items():
            total = float(entry["total_addresses"])
            shares[(successor, pred)] = float(entry["addresses_moved"]) / total
    rows = []
    for _, row in dissolved.iterrows():
        if pd.isna(row.get("dissolved_in")) or not row.get("successor_codes"):
            continue
        successors = [c for c in str(row["successor_codes"]).split(";") if c]
        for successor in successors:
            if len(successors) == 1:
                share: float | None = 1.0
            else:
                share = shares.get((successor, str(row["code"])))
            rows.append(
                {
                    "successor": successor,
                    "predecessor": str(row["code"]),
                    "share": share,
                    "start_year": int(row["dissolved_in"]),
                }
            )
    out = pd.DataFrame(rows, columns=MERGER_COLUMNS)
    if out.empty:
        return out
    unknown = out["share"].isna().groupby(out["successor"]).transform("any")
    return out[~unknown].astype({"share": float}).reset_index(drop=True)


# -- extraction -------------------------------------------------------------------------------
def _region_dimension(table: CbsTable) -> str:
    dim = table.region_dimension
    if dim:
        return dim
    for name in table.dimensions:
        if name.startswith("Regio") or name == "WijkenEnBuurten":
            return name
    raise CbsSchemaError(f"Tabel {table.table_id} heeft geen regiodimensie.")


class SelectionMissing(TopicNotFound):
    """The table lacks the operand's topic or one of its categories.

    Not an error of the catalogue as such: an offline table may hold only part of what CBS
    publishes online (a truncated export, a capture of totals only). The panel reports the
    value as missing, with the reason, and tries the operand's next table.
    """


def resolve_topics(table: CbsTable, operand: Operand) -> list[str]:
    """Return the full topic keys of ``operand`` in ``table``.

    ``topics`` are alternatives (the first stem the table has wins); ``sum_topics`` must all be
    present.

    Raises
    ------
    TopicNotFound
        If the table has none of the alternatives, or lacks one of ``sum_topics``.
    """
    if operand.sum_topics:
        try:
            return [table.topic(s) for s in operand.sum_topics]
        except TopicNotFound as err:
            raise SelectionMissing(str(err)) from None
    for stem_ in operand.topics:
        try:
            return [table.topic(stem_)]
        except TopicNotFound:
            continue
    raise SelectionMissing(
        f"Tabel {table.table_id} heeft geen onderwerp {' of '.join(operand.topics)}. CBS heeft "
        "de tabel mogelijk gewijzigd; controleer config/indicators.toml."
    )


def check_units(table: CbsTable, keys: Iterable[str], operand: Operand) -> float:
    """Check the table's units of ``keys`` against the catalogue and return the factor.

    A table without unit information (an export without metadata) is trusted to have the
    catalogue's unit.

    Raises
    ------
    CbsSchemaError
        If the table states a different unit than the catalogue.
    """
    return _check_units(table, keys, operand, TableIndex(table).unit)


def _check_units(table: CbsTable, keys: Iterable[str], operand: Operand, unit_of) -> float:
    for key in keys:
        unit = unit_of(key)
        if unit is not None and unit != operand.cbs_unit:
            raise CbsSchemaError(
                f"Tabel {table.table_id}, onderwerp {key}: CBS geeft eenheid {unit!r}, de "
                f"catalogus verwacht {operand.cbs_unit!r} (operand {operand.name!r}). Pas "
                "cbs_unit en zo nodig de formule in config/indicators.toml aan."
            )
    return operand.factor


def _category_keys(table: CbsTable, dim: str, titles: tuple[str, ...]) -> list[str]:
    try:
        return [table.dimension_key(dim, t) for t in titles]
    except CbsSchemaError as err:
        raise SelectionMissing(str(err)) from None


def _totaal_key(table: CbsTable, dim: str) -> str | None:
    present = pd.unique(table.data[dim])
    if len(present) <= 1:
        return None
    codes = table.dimensions[dim]
    titles = codes["title"].astype(str).str.strip()
    exact = codes.loc[titles.str.lower() == "totaal", "key"]
    if len(exact):
        return str(exact.iloc[0])
    starts = codes.loc[titles.str.lower().str.startswith("totaal"), "key"]
    if len(starts):
        return str(starts.iloc[0])
    raise CbsSchemaError(
        f"Tabel {table.table_id}: dimensie {dim} heeft geen categorie 'Totaal'; kies er een met "
        "select in config/indicators.toml."
    )


def _region_codes(codes: pd.Series) -> np.ndarray:
    """Region codes without padding, ``NL00`` (Kerncijfers wijken en buurten) as ``NL01``."""
    uniq = pd.unique(codes)
    clean = {c: ("NL01" if str(c).strip() == "NL00" else str(c).strip()) for c in uniq}
    return np.array([clean[c] for c in codes.to_numpy(dtype=object)], dtype=object)


def _period_years(table: CbsTable, codes: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Year and status per period code (NaN year for quarters, months and the like)."""
    statuses = dict(
        zip(
            table.period_status["key"].astype(str),
            table.period_status["status"].astype(str).str.lower(),
            strict=True,
        )
    )
    year_of_code: dict[Any, float] = {}
    status_of_code: dict[Any, str] = {}
    for code in pd.unique(codes):
        text = str(code).strip()
        ok = is_year(text) or is_school_year(text)
        year_of_code[code] = float(year_of(text)) if ok else np.nan
        status = statuses.get(text, "definitief")
        status_of_code[code] = "voorlopig" if status == "nader voorlopig" else status
    values = codes.to_numpy(dtype=object)
    years = np.array([year_of_code[c] for c in values], dtype=float)
    status = np.array([status_of_code[c] for c in values], dtype=object)
    return years, status


class TableIndex:
    """What every operand taken from one table shares, worked out once per table.

    Each dimension column is factorised once (an integer code per row plus the distinct
    category codes), so selecting an operand's rows is integer work; units, "Totaal"
    categories, region codes, years and period statuses are looked up once per distinct value
    instead of once per operand or per row. :class:`westerkwartier.panel` keeps one per table
    for the duration of a :func:`~westerkwartier.panel.panel` call; :func:`extract` on its own
    builds a fresh one.
    """

    def __init__(self, table: CbsTable) -> None:
        self.table = table
        self._factorised: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._cache: dict[tuple, Any] = {}

    def _memo(self, key: tuple, make) -> Any:
        if key not in self._cache:
            self._cache[key] = make()  # an exception is not cached: it recurs next time
        return self._cache[key]

    def factorised(self, dim: str) -> tuple[np.ndarray, np.ndarray]:
        """Integer code per row and the distinct values (missing values get a code too)."""
        if dim not in self._factorised:
            codes, uniques = pd.factorize(self.table.data[dim], use_na_sentinel=False)
            self._factorised[dim] = (codes, np.asarray(uniques, dtype=object))
        return self._factorised[dim]

    def isin(self, dim: str, wanted: Iterable[str]) -> np.ndarray:
        """Row mask ``data[dim].isin(wanted)``."""
        codes, uniques = self.factorised(dim)
        wanted = set(wanted)
        hit = np.fromiter((u in wanted for u in uniques), dtype=bool, count=len(uniques))
        return hit[codes]

    def values(self, dim: str, rows: np.ndarray) -> np.ndarray:
        """Return the values of column ``dim`` at ``rows`` (an object array)."""
        codes, uniques = self.factorised(dim)
        return uniques[codes[rows]]

    def unit(self, key: str) -> str | None:
        """Return the normalised CBS unit of a topic (None when the table does not say)."""
        units = self._memo(("units",), self._units)
        if key not in units:  # not a full key: let CbsTable say what is wrong
            return normalise_unit(self.table.topic_info(key).get("unit"))
        return units[key]

    def _units(self) -> dict[str, str | None]:
        topics = self.table.topics
        units: dict[str, str | None] = {}
        for key, unit in zip(topics["key"], topics["unit"], strict=True):
            units.setdefault(key, normalise_unit(unit))  # the first row, as topic_info
        return units

    def totaal_key(self, dim: str) -> str | None:
        """See :func:`_totaal_key`."""
        return self._memo(("totaal", dim), lambda: _totaal_key(self.table, dim))

    def category_keys(self, dim: str, titles: tuple[str, ...]) -> list[str]:
        """See :func:`_category_keys`."""
        return self._memo(("keys", dim, titles), lambda: _category_keys(self.table, dim, titles))

    def region_codes(self, dim: str, rows: np.ndarray) -> np.ndarray:
        """:func:`_region_codes` of column ``dim`` at ``rows``."""
        codes, uniques = self.factorised(dim)
        clean = self._memo(
            ("regions", dim), lambda: _region_codes(pd.Series(uniques, dtype=object))
        )
        return clean[codes[rows]]

    def period_years(self, dim: str, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """:func:`_period_years` of column ``dim`` at ``rows``."""
        codes, uniques = self.factorised(dim)
        years, status = self._memo(
            ("periods", dim), lambda: _period_years(self.table, pd.Series(uniques, dtype=object))
        )
        return years[codes[rows]], status[codes[rows]]


def _first_per_cell(
    index: dict[str, np.ndarray], columns: np.ndarray, value: np.ndarray
) -> tuple[dict[str, np.ndarray], dict[Any, np.ndarray]]:
    """``pivot_table(index=..., columns=..., values="value", aggfunc="first", dropna=False)``.

    Parameters
    ----------
    index : dict of str to numpy.ndarray
        The index columns (row values), in order.
    columns : numpy.ndarray
        The column label of each row (a missing label is a column of its own, as in pandas).
    value : numpy.ndarray
        The values (float).

    Returns
    -------
    tuple
        The index columns of the result rows (sorted; with more than one index column every
        combination of the values seen, as pandas does with ``dropna=False``), and per column
        label the first non-missing value of each result row (NaN where there is none).
    """
    plain = all(
        len(a) and all(type(v) is str for v in pd.unique(a)) for a in index.values()
    ) and all(type(v) is str for v in pd.unique(columns))
    if not plain:  # missing or mixed-type keys: let pandas sort them out
        frame = pd.DataFrame({**index, "_col": columns, "value": value})
        wide = frame.pivot_table(
            index=list(index), columns="_col", values="value", aggfunc="first", dropna=False
        ).reset_index()
        cells = {c: wide[c].to_numpy(dtype=float) for c in wide.columns if c not in index}
        return {n: wide[n].to_numpy(dtype=object) for n in index}, cells
    levels, positions = [], []
    for values in index.values():
        level, pos = np.unique(values, return_inverse=True)
        levels.append(level)
        positions.append(pos.reshape(-1))
    if len(levels) == 1:
        row = positions[0]
        out_index = {name: levels[0] for name in index}
        n_rows = len(levels[0])
    else:  # every combination of the levels, the first level outermost
        row = np.ravel_multi_index(positions, [len(level) for level in levels])
        grid = np.meshgrid(*[np.arange(len(level)) for level in levels], indexing="ij")
        out_index = {
            name: level[g.reshape(-1)] for name, level, g in zip(index, levels, grid, strict=True)
        }
        n_rows = int(np.prod([len(level) for level in levels]))
    labels, col = np.unique(columns, return_inverse=True)
    col = col.reshape(-1)
    cell = row * len(labels) + col
    known = ~np.isnan(value)
    first_cells, first_rows = np.unique(cell[known], return_index=True)
    flat = np.full(n_rows * len(labels), np.nan)
    flat[first_cells] = value[known][first_rows]
    flat = flat.reshape(n_rows, len(labels))
    return out_index, {label: flat[:, j] for j, label in enumerate(labels)}


def extract(table: CbsTable, operand: Operand, spec: TableSpec | None = None) -> pd.DataFrame:
    """Take one operand out of one table, in reader units.

    Parameters
    ----------
    table : CbsTable
        The table.
    operand : Operand
        Topic stem(s), selection by category title, CBS unit.
    spec : TableSpec, optional
        The catalogue's entry for the table (its year when the table has no period dimension;
        its status dimension).

    Returns
    -------
    pandas.DataFrame
        :data:`OBS_COLUMNS`: one row per region and year that the table has. ``value`` is NaN
        where the table has the row but no figure (CBS suppressed or did not publish it);
        regions or years the table lacks have no row.

    Raises
    ------
    SelectionMissing
        If the topic or a selected category is not in the table.
    CbsSchemaError
        If the units disagree with the catalogue or the year cannot be told.
    """
    return extract_indexed(TableIndex(table), operand, spec)


def extract_indexed(
    index: TableIndex, operand: Operand, spec: TableSpec | None = None
) -> pd.DataFrame:
    """:func:`extract` with a :class:`TableIndex` shared between the operands of one table."""
    table = index.table
    spec = spec or TableSpec(id=table.table_id, title=table.table_id, offline=False)
    keys = resolve_topics(table, operand)
    factor = _check_units(table, keys, operand, index.unit)
    region_dim = _region_dimension(table)
    period_dim = table.period_dimension
    status_dim = spec.status_dimension if spec.status_dimension in table.dimensions else None
    margin_dim = "Marges" if operand.margins and "Marges" in table.dimensions else None
    if operand.margins and margin_dim is None:
        raise CbsSchemaError(f"Tabel {table.table_id} heeft geen dimensie Marges.")

    data = table.data
    mask = np.ones(len(data), dtype=bool)
    summed: list[str] = []
    for dim in table.dimensions:
        if dim in (region_dim, period_dim, status_dim, margin_dim):
            continue
        if dim in operand.select:
            wanted = index.category_keys(dim, operand.select[dim])
            mask &= index.isin(dim, wanted)
            if len(wanted) > 1:
                summed.append(dim)
        else:
            key = index.totaal_key(dim)
            if key is not None:
                mask &= index.isin(dim, [key])
    if not mask.any():
        raise SelectionMissing(
            f"Tabel {table.table_id} heeft geen rijen voor de selectie van {operand.name!r} "
            f"({dict(operand.select)}); een offline tabel bevat mogelijk alleen een deel."
        )
    rows = np.flatnonzero(mask)
    group = [region_dim] + [d for d in (period_dim, status_dim, margin_dim) if d]
    # From here on a "frame" is a dict of equally long arrays: the group columns and value.
    if len(keys) > 1:
        value = data[keys].take(rows).sum(axis=1, min_count=len(keys))
    else:
        value = data[keys[0]].take(rows)
    frame = {d: index.values(d, rows) for d in group}
    frame["value"] = value.astype(float).to_numpy()
    if summed:
        n = int(np.prod([len(operand.select[d]) for d in summed]))
        grouped = pd.DataFrame(frame).groupby(group, sort=False, dropna=False)
        sums = grouped["value"].sum(min_count=n)
        sums = sums.where(grouped.size() == n).reset_index()
        frame = {c: sums[c].to_numpy(dtype=float if c == "value" else object) for c in sums}

    if margin_dim:
        codes = table.dimensions[margin_dim]
        roles = {}
        for key, title in zip(codes["key"], codes["title"].astype(str), strict=True):
            for word, role in _MARGIN_TITLES.items():
                if title.strip().lower().startswith(word):
                    roles[key] = role
        role = pd.Series(frame[margin_dim], dtype=object).map(roles).to_numpy(dtype=object)
        idx = [d for d in group if d != margin_dim]
        frame, cells = _first_per_cell({d: frame[d] for d in idx}, role, frame["value"])
        for col in ("value", "lower", "upper"):
            frame[col] = cells.get(col, np.full(len(frame[idx[0]]), np.nan))

    if status_dim:
        order = [table.dimension_key(status_dim, s) for s in spec.status_order]
        titles = dict(
            zip(
                table.dimensions[status_dim]["key"],
                table.dimensions[status_dim]["title"],
                strict=True,
            )
        )
        idx = [d for d in group if d != status_dim and d != margin_dim]
        frame, wide = _first_per_cell({d: frame[d] for d in idx}, frame[status_dim], frame["value"])
        n_rows = len(frame[idx[0]])
        value = np.full(n_rows, np.nan)
        status = np.full(n_rows, None, dtype=object)
        for key in order:
            if key in wide:
                take = np.isnan(value) & ~np.isnan(wide[key])
                value[take] = wide[key][take]
                status[take] = str(titles[key]).strip().lower()
        frame["value"] = value
        frame["status_dim"] = status

    n_rows = len(frame["value"])
    all_rows = np.arange(n_rows)
    out = {
        "region_code": _region_codes(pd.Series(frame[region_dim], dtype=object))
        if summed or margin_dim or status_dim
        else index.region_codes(region_dim, rows),
    }
    if period_dim:
        if summed or margin_dim or status_dim:
            years, status = _period_years(table, pd.Series(frame[period_dim], dtype=object))
        else:
            years, status = index.period_years(period_dim, rows)
    else:
        year = spec.year
        if year is None:
            period = table.info.get("period") or table.info.get("year")
            year = year_of(str(period)) if period and not str(period).isdigit() else period
        if year is None:
            raise CbsSchemaError(
                f"Tabel {table.table_id} heeft geen periodedimensie en de catalogus noemt geen "
                "jaar; zet 'year' onder [tables] in config/indicators.toml."
            )
        years = np.full(n_rows, float(int(year)))
        status = np.full(n_rows, "definitief", dtype=object)
    if status_dim:
        status = np.where(frame["status_dim"] == "voorlopig", "voorlopig", status)
    keep = all_rows[~np.isnan(years)]
    nan = np.full(len(keep), np.nan)
    text = {"dtype": object, "copy": False}  # plain object columns: no string inference
    return pd.DataFrame(
        {
            "region_code": pd.Series(out["region_code"][keep], **text),
            "year": years[keep].astype(int),
            "value": frame["value"][keep] * factor,
            "lower": frame["lower"][keep] * factor if "lower" in frame else nan,
            "upper": frame["upper"][keep] * factor if "upper" in frame else nan,
            "status": pd.Series(status[keep], **text),
            "source_table": pd.Series(np.full(len(keep), table.table_id, dtype=object), **text),
        }
    )


def combine_tables(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Keep, for each year, only the rows of the most preferred table that has that year.

    Parameters
    ----------
    parts : list of pandas.DataFrame
        Observations (:data:`OBS_COLUMNS`) per table, **preferred first** (the catalogue lists
        the newest regional division first).

    Examples
    --------
    A series published as 85269NED (2013-2021) and 86088NED (2013-2024): every year comes from
    86088NED, the newest division.
    """
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(columns=OBS_COLUMNS)
    taken: list = []  # years a more preferred table already has
    kept = []
    for part in parts:
        years = part["year"].to_numpy()
        keep = ~np.isin(years, taken) & pd.notna(years)
        kept.append(part if keep.all() else part[keep])
        taken.extend(pd.unique(years))
    if len(kept) == 1 and isinstance(kept[0].index, pd.RangeIndex) and kept[0].index.start == 0:
        return kept[0]  # one table, nothing dropped: the rows as they are
    return pd.concat(kept, ignore_index=True)


# -- mergers ------------------------------------------------------------------------------------
def _cell_keys(*frames: tuple[np.ndarray, np.ndarray]) -> list[np.ndarray]:
    """One integer per (region code, year) pair, comparable across the given arrays."""
    regions, _ = pd.factorize(np.concatenate([r for r, _ in frames]))
    years = np.concatenate([np.asarray(y, dtype=np.int64) for _, y in frames])
    low = years.min() if len(years) else 0
    span = (years.max() - low + 1) if len(years) else 1
    keys = regions.astype(np.int64) * span + (years - low)
    bounds = np.cumsum([0] + [len(r) for r, _ in frames])
    return [keys[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def rebuild_mergers(
    obs: pd.DataFrame,
    mergers: pd.DataFrame,
    operand: Operand,
    weights: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Add estimates for merged municipalities in the years before they existed.

    Parameters
    ----------
    obs : pandas.DataFrame
        Observations of the operand (:data:`OBS_COLUMNS`), predecessors included.
    mergers : pandas.DataFrame
        successor, predecessor, share, start_year (see :func:`load_mergers`).
    operand : Operand
        ``additive`` operands are summed: successor = sum(share x predecessor). An operand with
        a ``weight`` (a rate) is rebuilt as sum(share x rate x base) / sum(share x base), i.e.
        from rebuilt numerator and denominator. Other operands are not rebuilt.
    weights : pandas.DataFrame, optional
        Observations of the weight operand (required when ``operand.weight`` is set).

    Returns
    -------
    pandas.DataFrame
        ``obs`` with, for each successor and each year before its start year in which all its
        predecessors have a figure, a row with status ``schatting`` (replacing a row without a
        figure). Estimates have no 95% bounds.
    """
    if mergers.empty or not (operand.additive or operand.weight):
        return obs
    if operand.weight and weights is None:
        return obs
    predecessors = mergers["predecessor"].to_numpy(dtype=object)
    obs_region = obs["region_code"].to_numpy(dtype=object)
    obs_year = obs["year"].to_numpy()
    obs_value = obs["value"].to_numpy(dtype=float)
    candidates = np.flatnonzero(pd.Index(predecessors).unique().get_indexer(obs_region) >= 0)
    if not len(candidates):
        return obs
    # inner join obs x mergers on predecessor: obs order, then mergers order
    order = np.argsort(predecessors, kind="stable")
    ordered = predecessors[order]
    region = obs_region[candidates]
    first = np.searchsorted(ordered, region, side="left")
    count = np.searchsorted(ordered, region, side="right") - first
    left = np.repeat(candidates, count)
    offset = np.arange(len(left)) - np.repeat(np.cumsum(count) - count, count)
    right = order[np.repeat(first, count) + offset]
    year = obs_year[left]
    before = year < mergers["start_year"].to_numpy()[right]
    left, right, year = left[before], right[before], year[before]
    if not len(left):
        return obs
    share = mergers["share"].to_numpy(dtype=float)[right]
    value = obs_value[left]
    if operand.additive:
        num, den = share * value, np.ones(len(left))
    else:
        # a left join, as pandas does it (a weight given twice for a cell repeats the row)
        cells = pd.DataFrame(
            {
                "region_code": obs_region[left],
                "year": year,
                "_row": np.arange(len(left)),
            }
        ).merge(
            weights[["region_code", "year", "value"]].rename(columns={"value": "w"}),
            on=["region_code", "year"],
            how="left",
        )
        row = cells["_row"].to_numpy()
        left, right, year, share, value = left[row], right[row], year[row], share[row], value[row]
        w = cells["w"].to_numpy(dtype=float)
        num, den = share * value * w, share * w
    pred = pd.DataFrame(
        {
            "successor": mergers["successor"].to_numpy(dtype=object)[right],
            "year": year,
            "num": num,
            "den": den,
            "source_table": obs["source_table"].to_numpy(dtype=object)[left],
        }
    )
    grouped = pred.groupby(["successor", "year"])
    sums = grouped[["num", "den"]].sum(min_count=1)
    valid = grouped["num"].count().to_numpy()
    source = grouped["source_table"].first().to_numpy(dtype=object)
    successor = sums.index.get_level_values(0).to_numpy(dtype=object)
    needed = mergers["successor"].value_counts()
    complete = valid == np.array([needed.get(s, -1) for s in successor])
    num, den = sums["num"].to_numpy()[complete], sums["den"].to_numpy()[complete]
    rebuilt = pd.DataFrame(
        {
            "region_code": successor[complete],
            "year": sums.index.get_level_values(1).to_numpy()[complete].astype(int),
            "value": (num if operand.additive else num / den).astype(float),
            "lower": np.nan,
            "upper": np.nan,
            "status": "schatting",
            "source_table": source[complete],
        }
    )
    has_value = ~np.isnan(obs_value)
    new, have, existing = _cell_keys(
        (rebuilt["region_code"].to_numpy(dtype=object), rebuilt["year"].to_numpy()),
        (obs_region[has_value], obs_year[has_value]),
        (obs_region, obs_year),
    )
    rebuilt = rebuilt[~np.isin(new, have)]
    if rebuilt.empty:
        return obs
    drop = np.isin(existing, new[~np.isin(new, have)])
    return pd.concat([obs[~drop], rebuilt[OBS_COLUMNS]], ignore_index=True)


# -- computing an indicator ---------------------------------------------------------------------
@dataclass
class OperandData:
    """An operand's observations after table choice, rebuild and lag, with what went wrong."""

    obs: pd.DataFrame
    #: why years the available tables do not cover are missing (a :data:`MISSING` value)
    gap_reason: str = MISSING["not_published"]


def compute(
    indicator: Indicator,
    operands: Mapping[str, OperandData],
    regions: Iterable[str],
    years: Iterable[int] | None = None,
    mergers: pd.DataFrame | None = None,
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

    Returns
    -------
    pandas.DataFrame
        region_code, year, indicator, value, lower, upper, status, source_table,
        missing_reason (empty where there is a value).
    """
    regions = list(dict.fromkeys(regions))
    if years is None:
        sets = [
            set(pd.unique(d.obs["year"]).astype(int))
            for n, d in operands.items()
            if indicator.operands[n].lag == 0 and len(d.obs)
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
    start = _start_years(mergers)
    born = np.repeat(np.array([start.get(r, np.nan) for r in regions], dtype=float), n_years)
    rank_of = {s: i for i, s in enumerate(STATUSES)}

    env: dict[str, np.ndarray] = {}
    lower = upper = np.full(n, np.nan)
    reasons = np.full(n, None, dtype=object)
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
            return np.where(present, values, np.nan if values.dtype.kind == "f" else None)

        env[name] = column("value").astype(float)
        if indicator.margins_operand is not None and name == indicator.formula.strip():
            lower, upper = column("lower").astype(float), column("upper").astype(float)
        has = present & ~np.isnan(env[name])
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
        why = np.full(n, data.gap_reason, dtype=object)
        why[table_years] = MISSING["not_published"]
        why[present] = MISSING["suppressed"]
        why[table_years & too_early] = MISSING["not_rebuildable"]
        fill = (reasons == None) & ~has  # noqa: E711
        reasons[fill] = why[fill]

    with np.errstate(divide="ignore", invalid="ignore"):
        value = pd.eval(indicator.formula, engine="python", local_dict=env, global_dict={})
    value = np.asarray(value, dtype=float).copy()
    value[np.isinf(value)] = np.nan
    in_formula = set(re.findall(r"[A-Za-z_]\w*", indicator.formula)) & set(indicator.operands)
    rounded = [n for n in in_formula if indicator.operands[n].cbs_unit == "x 1 000"]
    if rounded and len(in_formula) > 1:  # a ratio of counts rounded to thousands
        largest = np.fmax.reduce([env[name] for name in rounded])
        with np.errstate(invalid="ignore"):
            too_small = (largest < MIN_ROUNDED_COUNT) & ~np.isnan(value)
        value[too_small] = np.nan
        reasons[too_small] = MISSING["rounded_small"]
    nan_value = np.isnan(value)
    reasons[nan_value & (reasons == None)] = MISSING["zero_denominator"]  # noqa: E711
    reasons[~nan_value] = None
    status = np.array(STATUSES, dtype=object)[statuses]
    if indicator.status:
        status[:] = indicator.status
    status[nan_value] = None
    source = _source_tables(source_codes, source_names, n)
    source[nan_value] = _dedupe_sources(_table_list(indicator))
    return pd.DataFrame(
        {
            "region_code": grid_regions,
            "year": grid_years,
            "indicator": indicator.id,
            "value": value,
            "lower": lower,
            "upper": upper,
            "status": status,
            "source_table": source,
            "missing_reason": reasons,
        }
    )


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


def _start_years(mergers: pd.DataFrame | None) -> dict[str, float]:
    """First year of each successor (the earliest start year of its mergers)."""
    if mergers is None or mergers.empty:
        return {}
    start: dict[str, float] = {}
    years = mergers["start_year"].to_numpy(dtype=float)
    for successor, year in zip(mergers["successor"].to_numpy(dtype=object), years, strict=True):
        if not np.isnan(year):
            start[successor] = min(start.get(successor, year), year)
    return start


def _table_list(indicator: Indicator) -> str:
    return "+".join(indicator.tables)


@lru_cache(maxsize=256)
def _dedupe_sources(text: str) -> str:
    """``A+B+A`` -> ``A+B``: each source table once, in order of use."""
    return "+".join(dict.fromkeys(str(text).split("+")))
