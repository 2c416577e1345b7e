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
}

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
    unknown = out.groupby("successor")["share"].transform(lambda s: s.isna().any())
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
    for key in keys:
        unit = normalise_unit(table.topic_info(key).get("unit"))
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
    spec = spec or TableSpec(id=table.table_id, title=table.table_id, offline=False)
    keys = resolve_topics(table, operand)
    factor = check_units(table, keys, operand)
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
            wanted = _category_keys(table, dim, operand.select[dim])
            mask &= data[dim].isin(wanted).to_numpy()
            if len(wanted) > 1:
                summed.append(dim)
        else:
            key = _totaal_key(table, dim)
            if key is not None:
                mask &= (data[dim] == key).to_numpy()
    if not mask.any():
        raise SelectionMissing(
            f"Tabel {table.table_id} heeft geen rijen voor de selectie van {operand.name!r} "
            f"({dict(operand.select)}); een offline tabel bevat mogelijk alleen een deel."
        )
    group = [region_dim] + [d for d in (period_dim, status_dim, margin_dim) if d]
    frame = data.loc[mask, group + summed + keys]
    value = frame[keys].sum(axis=1, min_count=len(keys)) if len(keys) > 1 else frame[keys[0]]
    frame = frame[group].assign(value=value.astype(float))
    if summed:
        n = int(np.prod([len(operand.select[d]) for d in summed]))
        frame = frame.groupby(group, sort=False, dropna=False)["value"].sum(min_count=n)
        counts = data.loc[mask].groupby(group, sort=False, dropna=False).size()
        frame = frame.where(counts.reindex(frame.index) == n).reset_index()

    if margin_dim:
        codes = table.dimensions[margin_dim]
        roles = {}
        for key, title in zip(codes["key"], codes["title"].astype(str), strict=True):
            for word, role in _MARGIN_TITLES.items():
                if title.strip().lower().startswith(word):
                    roles[key] = role
        frame = frame.assign(role=frame[margin_dim].map(roles))
        idx = [d for d in group if d != margin_dim]
        frame = frame.pivot_table(
            index=idx, columns="role", values="value", aggfunc="first", dropna=False
        ).reset_index()
        frame.columns.name = None
        for col in ("value", "lower", "upper"):
            if col not in frame:
                frame[col] = np.nan

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
        wide = frame.pivot_table(
            index=idx, columns=status_dim, values="value", aggfunc="first", dropna=False
        )
        value = pd.Series(np.nan, index=wide.index)
        status = pd.Series(pd.NA, index=wide.index, dtype=object)
        for key in order:
            if key in wide:
                take = value.isna() & wide[key].notna()
                value = value.mask(take, wide[key])
                status = status.mask(take, str(titles[key]).strip().lower())
        frame = pd.DataFrame({"value": value, "status_dim": status}).reset_index()

    out = pd.DataFrame(
        {
            "region_code": _region_codes(frame[region_dim]),
            "value": frame["value"].to_numpy(dtype=float) * factor,
        }
    )
    for col in ("lower", "upper"):
        out[col] = frame[col].to_numpy(dtype=float) * factor if col in frame else np.nan
    if period_dim:
        years, status = _period_years(table, frame[period_dim])
        out["year"] = years
        out["status"] = status
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
        out["year"] = int(year)
        out["status"] = "definitief"
    if status_dim:
        out["status"] = np.where(
            frame["status_dim"].eq("voorlopig").fillna(False).to_numpy(dtype=bool),
            "voorlopig",
            out["status"],
        )
    out = out[out["year"].notna()]
    out["year"] = out["year"].astype(int)
    out["source_table"] = np.array([table.table_id] * len(out), dtype=object)
    out["status"] = out["status"].to_numpy(dtype=object)
    return out[OBS_COLUMNS].reset_index(drop=True)


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
    stacked = pd.concat([p.assign(_rank=i) for i, p in enumerate(parts)], ignore_index=True)
    best = stacked.groupby("year")["_rank"].transform("min")
    return stacked[stacked["_rank"] == best].drop(columns="_rank").reset_index(drop=True)


# -- mergers ------------------------------------------------------------------------------------
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
    obs_pred = obs[obs["region_code"].isin(mergers["predecessor"].to_numpy())]
    if obs_pred.empty:
        return obs
    pred = obs_pred.merge(mergers, left_on="region_code", right_on="predecessor")
    pred = pred[pred["year"] < pred["start_year"]]
    if pred.empty:
        return obs
    if operand.additive:
        pred = pred.assign(num=pred["share"] * pred["value"], den=1.0)
    else:
        w = weights[["region_code", "year", "value"]].rename(columns={"value": "w"})
        pred = pred.merge(w, on=["region_code", "year"], how="left")
        pred = pred.assign(
            num=pred["share"] * pred["value"] * pred["w"], den=pred["share"] * pred["w"]
        )
    needed = mergers.groupby("successor").size().rename("needed")
    grouped = pred.groupby(["successor", "year"])
    agg = pd.DataFrame(
        {
            "num": grouped["num"].sum(min_count=1),
            "den": grouped["den"].sum(min_count=1),
            "valid": grouped["num"].count(),
            "source_table": grouped["source_table"].first(),
        }
    )
    agg = agg.join(needed, on="successor")
    agg = agg[agg["valid"] == agg["needed"]].reset_index()
    value = agg["num"] if operand.additive else agg["num"] / agg["den"]
    rebuilt = pd.DataFrame(
        {
            "region_code": agg["successor"],
            "year": agg["year"].astype(int),
            "value": value.astype(float),
            "lower": np.nan,
            "upper": np.nan,
            "status": "schatting",
            "source_table": agg["source_table"],
        }
    )
    have = obs[obs["value"].notna()][["region_code", "year"]]
    rebuilt = rebuilt.merge(have, on=["region_code", "year"], how="left", indicator=True)
    rebuilt = rebuilt[rebuilt["_merge"] == "left_only"].drop(columns="_merge")
    if rebuilt.empty:
        return obs
    drop = (
        obs.merge(
            rebuilt[["region_code", "year"]], on=["region_code", "year"], how="left", indicator=True
        )["_merge"]
        .eq("both")
        .to_numpy()
    )
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
    grid = pd.MultiIndex.from_product([regions, years], names=["region_code", "year"])
    n = len(grid)
    grid_regions = grid.get_level_values(0)
    grid_years = grid.get_level_values(1).to_numpy(dtype=int)
    born = pd.Series(grid_regions).map(_start_years(mergers)).to_numpy(dtype=float)
    rank_of = {s: i for i, s in enumerate(STATUSES)}

    env: dict[str, np.ndarray] = {}
    lower = upper = np.full(n, np.nan)
    reasons = np.full(n, None, dtype=object)
    statuses = np.zeros(n, dtype=int)
    source: np.ndarray = np.full(n, None, dtype=object)
    for name, data in operands.items():
        obs = data.obs.drop_duplicates(["region_code", "year"]).set_index(["region_code", "year"])
        pos = obs.index.get_indexer(grid)
        present = pos >= 0
        take = np.where(present, pos, 0)

        def column(col: str, obs=obs, take=take, present=present) -> np.ndarray:
            values = obs[col].to_numpy()[take] if len(obs) else np.full(n, np.nan)
            return np.where(present, values, np.nan if values.dtype.kind == "f" else None)

        env[name] = column("value").astype(float)
        if indicator.margins_operand is not None and name == indicator.formula.strip():
            lower, upper = column("lower").astype(float), column("upper").astype(float)
        has = present & ~np.isnan(env[name])
        op_status = pd.Series(column("status")).map(rank_of).fillna(0).to_numpy(dtype=int)
        statuses = np.where(has, np.maximum(statuses, op_status), statuses)
        op_source = pd.Series(np.where(has, column("source_table"), None), dtype=object)
        current = pd.Series(source, dtype=object)
        joined = current.str.cat(op_source, sep="+")
        source = joined.fillna(current).fillna(op_source).to_numpy(dtype=object)
        # why this operand is missing; the first operand that explains it wins
        table_years = np.isin(grid_years, pd.unique(obs.index.get_level_values(1)))
        lag = indicator.operands[name].lag
        too_early = ~np.isnan(born) & (grid_years - lag < born)
        why = np.full(n, data.gap_reason, dtype=object)
        why[table_years] = MISSING["not_published"]
        why[present] = MISSING["suppressed"]
        why[table_years & too_early] = MISSING["not_rebuildable"]
        fill = (reasons == None) & ~has  # noqa: E711
        reasons[fill] = why[fill]

    with np.errstate(divide="ignore", invalid="ignore"):
        value = pd.DataFrame(env).eval(indicator.formula, engine="python")
    value = np.asarray(value, dtype=float).copy()
    value[np.isinf(value)] = np.nan
    nan_value = np.isnan(value)
    reasons[nan_value & (reasons == None)] = MISSING["zero_denominator"]  # noqa: E711
    reasons[~nan_value] = None
    status = np.array(STATUSES, dtype=object)[statuses]
    if indicator.status:
        status[:] = indicator.status
    status[nan_value] = None
    source = np.where(nan_value, _table_list(indicator), source)
    source = pd.Series(source, dtype=object).map(_dedupe_sources).to_numpy()
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


def _start_years(mergers: pd.DataFrame | None) -> pd.Series:
    if mergers is None or mergers.empty:
        return pd.Series(dtype=float)
    return mergers.groupby("successor")["start_year"].min().astype(float)


def _table_list(indicator: Indicator) -> str:
    return "+".join(indicator.tables)


@lru_cache(maxsize=256)
def _dedupe_sources(text: str) -> str:
    """``A+B+A`` -> ``A+B``: each source table once, in order of use."""
    return "+".join(dict.fromkeys(str(text).split("+")))
