"""The indicator panel: every region x year x indicator, with intervals, status and source.

:func:`panel` is the one place where CBS tables become indicator values. It gets its tables
from :func:`westerkwartier.sources.data.get_table` (the same code path online and offline), computes
the catalogue's indicators with :mod:`westerkwartier.indicators` and returns a tidy frame.
:func:`benchmarks_for` names the regions a municipality is compared with, and :func:`compare`
puts them side by side; :func:`to_excel` and :func:`to_csv` write such frames for partners.

Examples
--------
>>> from westerkwartier.indicators.panel import panel, compare
>>> p = panel(regions=["GM1969", "PV20", "NL01"], indicators=["netto_arbeidsparticipatie"])
>>> sorted(p["region_code"].unique())
['GM1969', 'NL01', 'PV20']
>>> compare("Westerkwartier", 2023, indicators=["netto_arbeidsparticipatie"]).columns[8:11].tolist()
['Westerkwartier', 'Nederland', 'Groningen (provincie)']
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from westerkwartier.errors import (
    CbsError,
    CbsRequestTooLarge,
    CbsTableNotFound,
    InputError,
    OfflineDataMissing,
    TopicNotFound,
    WesterkwartierError,
)
from westerkwartier.indicators.aggregates import add_region_sums
from westerkwartier.indicators.breaks import mark_breaks
from westerkwartier.indicators.catalogue import (
    MISSING,
    TABLE_GAPS,
    Catalogue,
    Indicator,
    load_catalogue,
)
from westerkwartier.indicators.compute import OperandData, compute
from westerkwartier.indicators.dominance import dominance_rows
from westerkwartier.indicators.extraction import (
    OBS_COLUMNS,
    SelectionMissing,
    TableIndex,
    combine_tables,
    extract_indexed,
)
from westerkwartier.indicators.mergers import (
    _start_years,
    boundary_breaks,
    break_series,
    infer_divisions,
    load_mergers,
    rebuild_mergers,
    relabel_renamed,
    rename_spans,
)
from westerkwartier.sources.periods import check_year
from westerkwartier.sources.regions import COUNTRY
from westerkwartier.sources.table import CbsTable

log = logging.getLogger(__name__)

#: Columns of the panel, in order.
PANEL_COLUMNS: list[str] = [
    "region_code",
    "region_name",
    "level",
    "year",
    "indicator",
    "value",
    "lower",
    "upper",
    "precision",
    "status",
    "source_table",
    "missing_reason",
    "note",
    "comparable_from",
]

#: The types of the panel's columns: text as pandas' string type (missing = NaN), years as
#: integers, values and bounds as floats. Every panel has exactly these, however it was made
#: (computed, read back from the disk cache, concatenated).
PANEL_DTYPES: dict[str, str] = {
    "region_code": "str",
    "region_name": "str",
    "level": "str",
    "year": "int64",
    "indicator": "str",
    "value": "float64",
    "lower": "float64",
    "upper": "float64",
    "precision": "str",
    "status": "str",
    "source_table": "str",
    "missing_reason": "str",
    "note": "str",
    "comparable_from": "Int64",
}


def conform(frame: pd.DataFrame) -> pd.DataFrame:
    """Return ``frame`` with exactly the panel's columns, in order, with :data:`PANEL_DTYPES`.

    A text column still of Python objects becomes text through its distinct values: pandas'
    ``astype`` checks and converts each of a national panel's 300.000 cells one by one, while
    a column holds a few hundred distinct texts at most.
    """
    out = frame[PANEL_COLUMNS]
    texts = {
        name: _as_text(out[name])
        for name, dtype in PANEL_DTYPES.items()
        if dtype == "str" and out[name].dtype == object
    }
    return out.assign(**texts).astype(PANEL_DTYPES)


def _as_text(column: pd.Series) -> pd.Series:
    """Return a column of Python objects (texts, None, NaN) as pandas' text type.

    Examples
    --------
    >>> _as_text(pd.Series(["a", None, "b", "a", float("nan")])).tolist()
    ['a', nan, 'b', 'a', nan]
    """
    codes, distinct = pd.factorize(column.to_numpy(), use_na_sentinel=True)
    texts = pd.array(np.asarray(distinct, dtype=object), dtype="str")
    return pd.Series(texts.take(codes, allow_fill=True), index=column.index, name=column.name)


#: Level per code prefix, for regions the registry does not list (COROP areas and the like).
LEVEL_BY_PREFIX: dict[str, str] = {
    "GM": "gemeente",
    "PV": "provincie",
    "NL": "land",
    "CR": "corop",
    "GG": "ggd-regio",
    "AM": "arbeidsmarktregio",
    "LD": "landsdeel",
}

Loader = Callable[[str], CbsTable]


# -- regions ----------------------------------------------------------------------------------
def _registry_or_none() -> Any | None:
    """Return the region registry of the snapshot, or None when it cannot be read."""
    try:
        from westerkwartier.sources.regions import load_registry

        return load_registry()
    except WesterkwartierError:
        return None


def _require_registry(registry: Any | None) -> Any:
    """Return ``registry``, else the snapshot's; raise a clear error when there is none."""
    registry = registry or _registry_or_none()
    if registry is None:
        raise InputError(
            "Het regioregister ontbreekt; bouw de offline snapshot met "
            "`westerkwartier snapshot --mirror PAD`."
        )
    return registry


def _divisions() -> pd.DataFrame | None:
    try:
        from westerkwartier.sources.regions import load_divisions

        return load_divisions()
    except WesterkwartierError:
        return None


def _level_of(code: str) -> str:
    return LEVEL_BY_PREFIX.get(code[:2].upper(), "onbekend")


def region_frame(
    regions: Iterable[str] | pd.DataFrame | None, registry: Any | None
) -> pd.DataFrame:
    """Return code, name and level of the regions to report.

    Parameters
    ----------
    regions : iterable of str, pandas.DataFrame or None
        Codes or names (resolved with the registry), or a frame with ``code``, ``name`` and
        ``level``. ``None``: every municipality of the current division, the twelve provinces
        and Nederland.
    registry : westerkwartier.sources.regions.Registry or None
        The region registry.

    Raises
    ------
    InputError
        If ``regions`` is None and there is no registry to list the municipalities.
    """
    if isinstance(regions, pd.DataFrame):
        return regions[["code", "name", "level"]].drop_duplicates("code").reset_index(drop=True)
    if regions is None:
        if registry is None:
            raise InputError(
                "Zonder regioregister weet het panel niet welke gemeenten er zijn. Bouw de "
                "offline snapshot (`westerkwartier snapshot --mirror PAD`) of geef regions=[...]."
            )
        frame = registry.frame
        keep = frame["level"].isin(["gemeente", "provincie", "land"])
        out = frame.loc[keep, ["code", "name", "level"]]
        order = out["level"].map({"gemeente": 0, "provincie": 1, "land": 2})
        return (
            out.assign(_o=order)
            .sort_values(["_o", "code"])
            .drop(columns="_o")
            .reset_index(drop=True)
        )
    rows = []
    for text in regions:
        code = str(text).strip()
        if registry is not None:
            try:
                region = registry.resolve(code)
                rows.append({"code": region.code, "name": region.name, "level": region.level})
                continue
            except WesterkwartierError:
                if _level_of(code) in ("gemeente", "provincie", "land", "onbekend"):
                    raise
        rows.append({"code": code.upper(), "name": code.upper(), "level": _level_of(code)})
    return pd.DataFrame(rows, columns=["code", "name", "level"]).drop_duplicates("code")


# -- tables -------------------------------------------------------------------------------------
class _Tables:
    """Fetch each table once per panel; remember why a table could not be had.

    Per table it also keeps a :class:`~westerkwartier.indicators.TableIndex` (the table's
    dimensions factorised once) and every extraction, so that indicators sharing a table or
    an operand do the work once.
    """

    def __init__(
        self,
        loader: Loader,
        divisions: pd.DataFrame | None = None,
        dissolved: pd.DataFrame | None = None,
    ) -> None:
        self.loader = loader
        self.divisions = divisions
        self.dissolved = dissolved
        self.table_divisions: dict[str, dict[int, int]] = {}
        self.precision: dict[tuple, str | None] = {}
        self.tables: dict[str, CbsTable | str] = {}
        self.indexes: dict[str, TableIndex] = {}
        self.extracts: dict[tuple, pd.DataFrame | str] = {}
        self.operands: dict[tuple, OperandData] = {}

    def get(self, table_id: str) -> CbsTable | str:
        if table_id not in self.tables:
            try:
                self.tables[table_id] = self.loader(table_id)
            except OfflineDataMissing:
                self.tables[table_id] = MISSING["online_only"]
            except TopicNotFound as err:
                log.warning("%s", err)
                self.tables[table_id] = MISSING["topic_missing"]
            except CbsRequestTooLarge as err:
                log.warning("%s", err)
                self.tables[table_id] = MISSING["too_large"]
            except CbsTableNotFound as err:
                log.warning("%s", err)
                self.tables[table_id] = MISSING["not_found"]
            except CbsError:
                self.tables[table_id] = MISSING["unavailable"]
        return self.tables[table_id]

    def extract(self, table_id: str, operand, catalogue: Catalogue) -> pd.DataFrame | str:
        key = operand.signature(table_id)
        if key not in self.extracts:
            table = self.get(table_id)
            if isinstance(table, str):
                self.extracts[key] = table
            else:
                if table_id not in self.indexes:
                    self.indexes[table_id] = TableIndex(table)
                index = self.indexes[table_id]
                spec = catalogue.table(table_id)
                try:
                    got = extract_indexed(index, operand, spec)
                    # taken off the frame: pandas copies attrs (deeply) into every frame
                    # made from it, some 3.000 times a panel
                    self.precision[key] = got.attrs.pop("precision", None)
                    if operand.additive:
                        got = add_region_sums(got, self.divisions, spec.division)
                    self.extracts[key] = got
                except SelectionMissing:
                    offline = table.source not in ("cbs", "cache")
                    self.extracts[key] = (
                        MISSING["online_only"] if offline else MISSING["topic_missing"]
                    )
        return self.extracts[key]

    def division_of(self, table_id: str, catalogue: Catalogue) -> int | dict[int, int] | None:
        """Return a table's division: the catalogue's, else per year from its figures."""
        stated = catalogue.table(table_id).division
        if stated is not None:
            return stated
        if table_id not in self.table_divisions:
            table = self.get(table_id)
            found: dict[int, int] = {}
            if not isinstance(table, str):
                if table_id not in self.indexes:
                    self.indexes[table_id] = TableIndex(table)
                regions, years, has = self.indexes[table_id].region_years()
                found = infer_divisions(regions, years, has, self.dissolved)
            self.table_divisions[table_id] = found
        return self.table_divisions[table_id] or None


_REASON_RANK = list(TABLE_GAPS)


def cut_by_region(table: CbsTable | str) -> bool:
    """Tell whether ``table`` is an offline copy that stops partway through its regions.

    A CBS export of exactly one page (10.000 rows) whose regions come first ends in the middle
    of the alphabet (80305ned stops at Zwijndrecht: Zwolle is not in it). A region the copy
    lacks is not "niet gepubliceerd" but only online (:data:`MISSING` ``online_only``).
    """
    if isinstance(table, str):
        return False
    info = table.info or {}
    return bool(info.get("truncated")) and bool(info.get("incomplete_regions"))


def _operand_tables(
    op: Any, tables: _Tables, catalogue: Catalogue
) -> tuple[list[pd.DataFrame], list[str], str | None, set[str] | None]:
    """Extract an operand from each of its tables.

    Returns
    -------
    parts, failures, precision, cut
        The extracts; the reasons of the tables that gave none; how CBS rounded the first
        extract; the regions of its offline copies that stop partway through their regions
        (:func:`cut_by_region`), None when there is no such copy.
    """
    parts: list[pd.DataFrame] = []
    failures: list[str] = []
    precision: str | None = None
    cut: set[str] | None = None
    for table_id in op.tables:
        got = tables.extract(table_id, op, catalogue)
        if isinstance(got, str):
            failures.append(got)
            continue
        parts.append(got)
        if cut_by_region(tables.get(table_id)):
            cut = (cut or set()) | _region_codes(got)
        if precision is None:
            precision = tables.precision.get(op.signature(table_id))
    return parts, failures, precision, cut


def _held(cut: set[str] | None, given: pd.DataFrame, obs: pd.DataFrame) -> frozenset[str] | None:
    """Return the regions an operand with a cut-off copy holds (None without such a copy).

    Those of the copy, and those rebuilt from their predecessors (in ``obs``, not in the
    tables' own figures ``given``).
    """
    if cut is None:
        return None
    return frozenset(cut | (_region_codes(obs) - _region_codes(given)))


def _region_codes(frame: pd.DataFrame) -> set[str]:
    """Return the region codes of ``frame`` as a set of str.

    Through ``tolist``: a set built from the column itself takes its strings one by one from
    the Arrow array, some 20 times slower for a national operand.
    """
    return set(frame["region_code"].astype(str).tolist())


def operand_data(
    indicator: Indicator,
    tables: _Tables,
    catalogue: Catalogue,
    mergers: pd.DataFrame,
    breaks: dict[str, int] | None = None,
    existed: set[str] | None = None,
    renamed: list[tuple[str, str, int | None]] | None = None,
) -> dict[str, OperandData]:
    """Observations per operand of an indicator: table per year, mergers rebuilt, lag applied.

    For an indicator with ``series_break``, figures from before a municipality's last boundary
    change are replaced by rebuilt ones or dropped (:func:`break_series`); the municipalities
    that existed before their change are added to ``existed``. A municipality that changed its
    name gets its figures under the old code (``renamed``, :func:`rename_spans`) first.
    """
    combined: dict[str, pd.DataFrame] = {}
    gaps: dict[str, str] = {}
    rounding: dict[str, str | None] = {}
    covered: dict[str, set[str] | None] = {}
    for name, op in indicator.operands.items():
        parts, failures, rounding[name], covered[name] = _operand_tables(op, tables, catalogue)
        combined[name] = combine_tables(parts, by_region=op.fill_regions)
        gap = MISSING["not_published"]
        for reason in _REASON_RANK:
            if reason in failures:
                gap = reason
                break
        gaps[name] = gap
    out = {}
    boundary = bool(breaks) and indicator.series_break != "none"
    divisions = {}
    if boundary:
        for op in indicator.operands.values():
            divisions.update({t: tables.division_of(t, catalogue) for t in op.tables})
    for name, op in indicator.operands.items():
        weight = indicator.operands[op.weight] if op.weight else None
        key = (
            tuple(op.signature(t) for t in op.tables),
            op.additive,
            tuple(weight.signature(t) for t in weight.tables) if weight else None,
            op.lag,
            op.fill_regions,
            boundary,
        )
        if key not in tables.operands:  # an operand shared with an earlier indicator is done
            obs = relabel_renamed(combined[name], renamed or [])
            weights = combined.get(op.weight) if op.weight else None
            if weights is not None:
                weights = relabel_renamed(weights, renamed or [])
            was: set[str] = set()
            if boundary:
                assert breaks is not None
                obs, was = break_series(obs, breaks, mergers, op, divisions, weights)
            else:
                obs = rebuild_mergers(obs, mergers, op, weights)
            if op.lag:
                obs = obs.assign(year=obs["year"] + op.lag)
            tables.operands[key] = OperandData(
                obs=obs,
                gap_reason=gaps[name],
                existed=was,
                precision=rounding.get(name),
                covered=_held(covered[name], combined[name], obs),
            )
        if existed is not None:
            existed.update(tables.operands[key].existed)
        out[name] = tables.operands[key]
    return out


# -- the panel ----------------------------------------------------------------------------------
def catalogue_loader(cat: Catalogue, region_codes: Iterable[str] = ()) -> Loader:
    """Return ``table_id -> CbsTable`` asking for what the catalogue needs from each table.

    Tables come from :func:`westerkwartier.sources.data.get_table` (cache, CBS, snapshot) with
    the table's :class:`~westerkwartier.sources.need.Need` and the service (``api``) the
    catalogue names; a table the catalogue does not know is fetched whole.
    """
    from westerkwartier.indicators.needs import region_prefixes, table_needs
    from westerkwartier.sources.data import get_table

    needs = table_needs(cat, prefixes=region_prefixes(region_codes))

    def load(table_id: str) -> CbsTable:
        return get_table(table_id, need=needs.get(table_id), api=cat.table(table_id).api)

    return load


def panel(
    regions: Iterable[str] | pd.DataFrame | None = None,
    indicators: Iterable[str] | None = None,
    years: int | Iterable[int] | None = None,
    *,
    loader: Loader | None = None,
    registry: Any | None = None,
    mergers: pd.DataFrame | None = None,
    catalogue_path: Path | str | None = None,
    divisions: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Return the indicator panel as a tidy frame.

    Parameters
    ----------
    regions : iterable of str or pandas.DataFrame, optional
        Region codes or names (``GM1969``, ``Westerkwartier``, ``PV20``, ``NL01``). Default:
        every municipality of the current division, the twelve provinces and Nederland.
    indicators : iterable of str, optional
        Indicator ids (see :func:`westerkwartier.indicators.catalogue.catalogue`). Default: all.
    years : int or iterable of int, optional
        Years to report. Default: every year an indicator has data for (and, when a table is
        only online, the years the catalogue names).
    loader : callable, optional
        ``table_id -> CbsTable``; default :func:`westerkwartier.sources.data.get_table` asked
        for what the catalogue needs from the table (:func:`~westerkwartier.indicators.needs.
        table_needs`: its topics, selected and total categories, region levels and years, so
        CBS is never asked for a whole table), from the service the catalogue names. Injectable
        for tests.
    registry : westerkwartier.sources.regions.Registry, optional
        Region registry; default the snapshot's.
    mergers : pandas.DataFrame, optional
        successor, predecessor, share, start_year; default
        :func:`westerkwartier.indicators.mergers.load_mergers` on the registry's dissolved
        municipalities.
    catalogue_path : Path or str, optional
        Another indicator catalogue (default ``config/indicators.toml``).
    divisions : pandas.DataFrame, optional
        The municipalities of each year's division (``year``, ``code``, ``province_code``),
        used to sum a province or Nederland from its municipalities where a table has none;
        default the snapshot's (:func:`westerkwartier.sources.regions.load_divisions`) when
        the registry is the snapshot's too, else none.

    Returns
    -------
    pandas.DataFrame
        :data:`PANEL_COLUMNS`. ``value`` in reader units (persons, euro, %); ``lower`` and
        ``upper`` the 95% interval where CBS gives margins, or the extremes that CBS's rounded
        figures allow; ``precision`` says which (``steekproef: ...`` or ``afronding: aantallen
        afgerond op duizendtallen``, empty for an exact figure); ``status`` definitief / voorlopig /
        schatting; ``source_table`` the CBS table(s) used; ``missing_reason`` says why a value
        is missing (never a zero in its place); ``note`` says how a value was made where that
        is not plain CBS (``som van de gemeenten``); ``comparable_from`` is, for an indicator
        with a declared definition break (catalogue ``breaks``), the first year of the series
        the value belongs to: compare only values with the same ``comparable_from`` (empty for
        indicators without a break).

    Raises
    ------
    InputError
        For an unknown indicator or region.
    CbsSchemaError
        When a CBS table's unit disagrees with the catalogue.
    """
    cat = load_catalogue(catalogue_path)
    chosen = [cat[i] for i in indicators] if indicators is not None else list(cat)
    own_registry = registry is None
    if registry is None:
        registry = _registry_or_none()
    where = region_frame(regions, registry)
    dissolved = registry.dissolved() if registry is not None else None
    if mergers is None:
        mergers = load_mergers(dissolved)
    breaks = boundary_breaks(dissolved) if any(i.series_break != "none" for i in chosen) else {}
    if divisions is None and own_registry and registry is not None:
        divisions = _divisions()
    if loader is None:
        loader = catalogue_loader(cat, where["code"])
    if isinstance(years, int):
        years = [years]
    tables = _Tables(loader, divisions, dissolved)
    frames = []
    codes = list(where["code"])
    starts = _start_years(mergers)
    renamed = rename_spans(dissolved)
    dominance = _DominanceContext(where, registry)
    extra = []
    for ind in chosen:
        existed: set[str] = set()
        data = operand_data(ind, tables, cat, mergers, breaks, existed, renamed)
        values = compute(ind, data, codes, years, mergers, breaks, existed, starts)
        frames.append(mark_breaks(values, ind.breaks, ind.years[0]))
        extra.append(dominance.rows(ind, data, years))
    if not frames:
        return conform(pd.DataFrame(columns=PANEL_COLUMNS))
    out = pd.concat(frames, ignore_index=True)
    at = pd.Index(where["code"]).get_indexer(out["region_code"]) if where["code"].is_unique else -1
    if np.all(at >= 0):  # each row's region found once: look names up by position
        out["region_code"] = out["region_code"].astype(object)  # as the merge below leaves it
        out["region_name"] = where["name"].take(at).reset_index(drop=True)
        out["level"] = where["level"].take(at).reset_index(drop=True)
    else:
        out = out.merge(
            where.rename(columns={"code": "region_code", "name": "region_name"}),
            on="region_code",
            how="left",
        )
    extra = [e for e in extra if len(e)]
    if extra:  # provinces without a municipality that dominates their figure
        out = pd.concat([conform(out), *[conform(e) for e in extra]], ignore_index=True)
    return conform(out)


class _DominanceContext:
    """Which provinces of a panel to check for a dominating municipality, with names."""

    def __init__(self, where: pd.DataFrame, registry: Any | None) -> None:
        self.provinces = list(where.loc[where["level"] == "provincie", "code"])
        self.members: dict[str, str] = {}
        self.names: dict[str, str] = {}
        if registry is not None and self.provinces and hasattr(registry, "municipalities"):
            gm = registry.municipalities()
            self.members = {
                str(c): str(p)
                for c, p in zip(gm["code"], gm["province_code"], strict=True)
                if isinstance(p, str)
            }
            self.names = dict(zip(gm["code"], gm["name"], strict=True))
            for prov in self.provinces:
                try:
                    self.names[prov] = f"provincie {registry.resolve(prov).name}"
                except WesterkwartierError:
                    self.names[prov] = prov

    def rows(self, indicator: Indicator, data: dict, years: Any) -> pd.DataFrame:
        if not self.members:
            return pd.DataFrame()
        rows = dominance_rows(indicator, data, self.provinces, self.members, self.names, years)
        return mark_breaks(rows, indicator.breaks, indicator.years[0]) if len(rows) else rows


def offline_status(
    indicators: Iterable[Indicator] | None = None, *, loader: Loader | None = None
) -> dict[str, bool]:
    """Tell per indicator whether the offline snapshot can give it figures.

    The same test the panel makes when it reports "tabel alleen online beschikbaar": every
    operand must come out of a snapshot table with at least one figure (a table in the
    snapshot that holds only totals cannot give a selection by age, for example).

    Parameters
    ----------
    indicators : iterable of Indicator, optional
        Default: the whole catalogue.
    loader : callable, optional
        ``table_id -> CbsTable``; default the snapshot's tables
        (:func:`westerkwartier.sources.data.snapshot_table`).
    """
    cat = load_catalogue()
    chosen = list(indicators) if indicators is not None else list(cat)
    if loader is None:
        from westerkwartier.sources.data import snapshot_table

        loader = snapshot_table
    tables = _Tables(loader)
    out = {}
    for ind in chosen:
        ok = True
        for op in ind.operands.values():
            found = False
            for table_id in op.tables:
                got = tables.extract(table_id, op, cat)
                if not isinstance(got, str) and got["value"].notna().any():
                    found = True
                    break
            ok = ok and found
        out[ind.id] = ok
    return out


# -- benchmarks and comparison ------------------------------------------------------------------
def benchmarks_for(
    code: str,
    *,
    registry: Any | None = None,
    neighbours: Callable[[str], list[str]] | None = None,
) -> pd.DataFrame:
    """Return the regions a municipality is compared with.

    Parameters
    ----------
    code : str
        Municipality code or name (``GM1969``, ``Westerkwartier``).
    registry : westerkwartier.sources.regions.Registry, optional
        Default the snapshot's.
    neighbours : callable, optional
        ``code -> list of codes`` sharing a boundary; default
        :func:`westerkwartier.sources.geo.neighbours`.

    Returns
    -------
    pandas.DataFrame
        code, name, level, role: Nederland, the province, the COROP area and the neighbouring
        municipalities (role ``buurgemeente``), in that order.

    Raises
    ------
    InputError
        If ``code`` is not a current municipality.
    """
    registry = _require_registry(registry)
    region = registry.resolve(code)
    if region.level != "gemeente":
        raise InputError(
            f"{region.name} ({region.code}) is geen gemeente; benchmarks zijn er voor gemeenten."
        )
    nl = registry.resolve(COUNTRY)
    rows = [{"code": nl.code, "name": nl.name, "level": "land", "role": "Nederland"}]
    if region.province:
        rows.append(
            {
                "code": region.province,
                "name": region.province_name or region.province,
                "level": "provincie",
                "role": "provincie",
            }
        )
    if region.corop:
        rows.append(
            {
                "code": region.corop,
                "name": region.corop_name or region.corop,
                "level": "corop",
                "role": "COROP-gebied",
            }
        )
    if neighbours is None:
        from westerkwartier.sources.geo import neighbours as geo_neighbours

        neighbours = geo_neighbours
    try:
        codes = list(neighbours(region.code))
    except WesterkwartierError as err:
        warnings.warn(f"Buurgemeenten onbekend: {err}", stacklevel=2)
        codes = []
    for other in sorted(codes):
        r = registry.resolve(other)
        rows.append({"code": r.code, "name": r.name, "level": "gemeente", "role": "buurgemeente"})
    return pd.DataFrame(rows, columns=["code", "name", "level", "role"])


def compare(
    gemeente: str,
    year: int | None = None,
    *,
    indicators: Iterable[str] | None = None,
    loader: Loader | None = None,
    registry: Any | None = None,
    neighbours: Callable[[str], list[str]] | None = None,
    catalogue_path: Path | str | None = None,
) -> pd.DataFrame:
    """Put a municipality's indicators beside those of its benchmarks.

    Parameters
    ----------
    gemeente : str
        Municipality code or name.
    year : int, optional
        Year to compare; default per indicator the latest year the municipality has a value.

    Returns
    -------
    pandas.DataFrame
        One row per indicator (theme, indicator, label_nl, unit, direction, year, status,
        toelichting = why the municipality's value is missing) and one column per region
        (the municipality first, then Nederland, province, COROP, neighbours), headed by name.
        ``attrs["regions"]`` holds the regions with codes and roles.
    """
    if year is not None:
        year = check_year(int(year))
    injected = registry is not None
    registry = _require_registry(registry)
    bench = benchmarks_for(gemeente, registry=registry, neighbours=neighbours)
    region = registry.resolve(gemeente)
    regions = pd.concat(
        [
            pd.DataFrame(
                [
                    {
                        "code": region.code,
                        "name": region.name,
                        "level": "gemeente",
                        "role": "gemeente",
                    }
                ]
            ),
            bench,
        ],
        ignore_index=True,
    ).drop_duplicates("code")
    p = panel(
        regions=regions[["code", "name", "level"]],
        indicators=indicators,
        years=year,
        loader=loader,
        # the snapshot's own registry (not passed on) lets the panel sum provinces from the
        # snapshot's divisions, as panel() does for a caller who gives no registry
        registry=registry if injected else None,
        catalogue_path=catalogue_path,
    )
    own = p[p["region_code"] == region.code]
    if year is None:
        with_value = own[own["value"].notna()]
        chosen = with_value.groupby("indicator")["year"].max()
        fallback = own.groupby("indicator")["year"].max()
        chosen = chosen.reindex(fallback.index).fillna(fallback).astype(int)
    else:
        chosen = own.groupby("indicator")["year"].max().clip(upper=year)
        chosen[:] = year
    pick = p.merge(chosen.rename("chosen").reset_index(), on="indicator")
    pick = pick[pick["year"] == pick["chosen"]]
    wide = pick.pivot_table(
        index="indicator", columns="region_code", values="value", aggfunc="first", dropna=False
    )
    wide = wide.reindex(columns=list(regions["code"]))
    # a province or COROP area can share its name with a municipality (Groningen)
    suffix = {"provincie": " (provincie)", "corop": " (COROP)"}
    wide.columns = [
        name + suffix.get(level, "")
        for name, level in zip(regions["name"], regions["level"], strict=True)
    ]
    cat = load_catalogue(catalogue_path)
    own_pick = pick[pick["region_code"] == region.code].set_index("indicator")
    ids = [i for i in (indicators or [ind.id for ind in cat]) if i in wide.index]
    meta = pd.DataFrame(
        {
            "theme": [cat[i].theme for i in ids],
            "indicator": ids,
            "label_nl": [cat[i].label_nl for i in ids],
            "unit": [cat[i].unit for i in ids],
            "direction": [cat[i].direction for i in ids],
            "year": [int(chosen[i]) for i in ids],
            "status": [own_pick["status"].get(i) for i in ids],
            "toelichting": [own_pick["missing_reason"].get(i) for i in ids],
        }
    )
    values = wide.loc[ids].reset_index(drop=True)
    out = pd.concat([meta, values], axis=1)
    out.attrs["regions"] = regions.to_dict("records")
    out.attrs["gemeente"] = region.code
    return out


# -- writing ------------------------------------------------------------------------------------
ATTRIBUTION = "Bron: CBS (StatLine, CC BY 4.0); bewerking: westerkwartier"


def to_csv(frame: pd.DataFrame, path: Path | str, *, dutch: bool = True) -> Path:
    """Write a panel or comparison to CSV.

    Parameters
    ----------
    frame : pandas.DataFrame
        Output of :func:`panel` or :func:`compare`.
    path : Path or str
        Target file.
    dutch : bool
        ``;`` as separator and a decimal comma, UTF-8 with BOM, as Dutch Excel expects
        (default); ``False`` gives plain ``,`` and ``.``.

    Returns
    -------
    Path
        The file written. Missing values are empty cells, never zero.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(
        path,
        sep=";" if dutch else ",",
        decimal="," if dutch else ".",
        index=False,
        encoding="utf-8-sig" if dutch else "utf-8",
    )
    return path


def to_excel(frame: pd.DataFrame, path: Path | str, *, sheet: str = "Indicatoren") -> Path:
    """Write a panel or comparison to a formatted Excel workbook with a sources sheet.

    Numbers keep Dutch number formats, the header is frozen with an autofilter, columns are
    as wide as their contents, and the sheet ``Bronnen`` describes the columns that are there
    (see :func:`westerkwartier.indicators.spreadsheet.write_workbook`).

    Returns
    -------
    Path
        The file written (``.xlsx``). Missing values are empty cells, never zero.
    """
    from westerkwartier.indicators.spreadsheet import write_workbook

    regions = {
        str(r["name"]) + {"provincie": " (provincie)", "corop": " (COROP)"}.get(r["level"], ""): (
            f"Waarde voor {r['name']} ({r['code']}), in de eenheid van de rij."
        )
        for r in frame.attrs.get("regions", [])
    }
    notes = [
        ATTRIBUTION,
        "Lege cellen: geen cijfer; de kolom missing_reason of toelichting zegt waarom.",
        "status 'schatting': opgebouwd uit voorgangers van een heringedeelde gemeente "
        "of een prognose.",
    ]
    if "source_table" in frame.columns:
        tables = sorted({t for v in frame["source_table"].dropna() for t in str(v).split("+")})
        notes.append("CBS-tabellen: " + ", ".join(t for t in tables if t))
    return write_workbook(frame, path, sheet=sheet, descriptions=regions, notes=notes)


__all__ = [
    "OBS_COLUMNS",
    "PANEL_COLUMNS",
    "benchmarks_for",
    "compare",
    "offline_status",
    "panel",
    "region_frame",
    "to_csv",
    "to_excel",
]
