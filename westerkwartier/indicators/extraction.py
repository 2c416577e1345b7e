"""Take the operands of an indicator out of CBS tables.

Pure functions on :class:`~westerkwartier.sources.table.CbsTable` objects, tested on tiny
hand-made tables: :func:`resolve_topics` finds a topic by its key stem, :func:`extract` takes
one operand (topic stem and a selection by category title) out of one table,
:func:`extract_indexed` does the same through a :class:`TableIndex` built once per table, and
:func:`combine_tables` picks, per year, the preferred table of a series that CBS publishes under
several ids (one per regional division or year).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from westerkwartier.errors import CbsSchemaError, TopicNotFound
from westerkwartier.indicators.catalogue import Operand, TableSpec, normalise_unit
from westerkwartier.indicators.precision import WHOLE_UNITS, infer_step, rounding_text
from westerkwartier.sources.periods import (
    is_half_year,
    is_month,
    is_school_year,
    is_year,
    year_of,
)
from westerkwartier.sources.regions import COUNTRY
from westerkwartier.sources.table import CbsTable

#: Columns of the tidy observation frames the functions below pass around.
OBS_COLUMNS: list[str] = [
    "region_code",
    "year",
    "value",
    "lower",
    "upper",
    "status",
    "source_table",
    "note",
]

#: What the ``note`` of a province or Nederland built from its municipalities says.
SUM_NOTE = "som van de gemeenten"


_MARGIN_TITLES = {"waarde": "value", "ondergrens": "lower", "bovengrens": "upper"}


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

    ``topics`` are alternatives (the first stem or full key the table has wins);
    ``sum_topics`` are alternative sets of topics to add, the first set the table has in full
    wins. A full key (``AfstandTotSchool_56``) is used as is.

    Raises
    ------
    SelectionMissing
        If the table has none of the alternatives, or no complete set of ``sum_topics``.
    AmbiguousTopic
        If a stem matches several topics of the table (the catalogue must give the full key).
    """
    if operand.sum_topics:
        last: TopicNotFound | None = None
        for stems in operand.sum_topics:
            try:
                return [table.topic(s) for s in stems]
            except TopicNotFound as err:
                last = err
        raise SelectionMissing(str(last)) from None
    for stem_ in operand.topics:
        try:
            return [table.topic(stem_)]
        except TopicNotFound:
            continue
    raise SelectionMissing(
        f"Tabel {table.table_id} heeft geen onderwerp {' of '.join(operand.topics)}. CBS heeft "
        "de tabel mogelijk gewijzigd; controleer config/indicators.toml."
    )


#: A selected category that stands for a whole dimension ("Totaal ...", "A-U Alle economische
#: activiteiten"): a table without that dimension gives the same figure.
_TOTAL_TITLE = re.compile(r"^\s*totaal\b|\balle\b", re.IGNORECASE)


def check_selection_dimensions(table: CbsTable, operand: Operand) -> None:
    """Fail when the operand selects part of a dimension the table does not have.

    Such a selection would otherwise be dropped silently and bring every category (all ages
    instead of 15 to 25, say). Selecting the dimension's total ("Totaal ...", "A-U Alle
    economische activiteiten") is fine: a table without the dimension only has the total.

    Raises
    ------
    CbsSchemaError
        Naming the table, the dimension and the dimensions the table does have.
    """
    for dim, titles in operand.select.items():
        if dim in table.dimensions:
            continue
        if len(titles) == 1 and _TOTAL_TITLE.search(titles[0]):
            continue
        raise CbsSchemaError(
            f"Tabel {table.table_id} heeft geen dimensie {dim!r} (operand {operand.name!r} "
            f"selecteert erop: {', '.join(titles)}); wel: {', '.join(table.dimensions) or 'geen'}"
            ". Pas select in config/indicators.toml aan of kies een tabel met die dimensie."
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
    titles = codes["title"].astype(str).str.strip().str.lower()
    exact = codes.loc[titles.isin(["totaal", "total"]), "key"]
    if len(exact):
        return str(exact.iloc[0])
    # "Totaal mannen en vrouwen"; "Total male and female" in the English editions
    starts = codes.loc[titles.str.startswith("totaal") | titles.str.startswith("total "), "key"]
    if len(starts):
        return str(starts.iloc[0])
    raise CbsSchemaError(
        f"Tabel {table.table_id}: dimensie {dim} heeft geen categorie 'Totaal'; kies er een met "
        "select in config/indicators.toml."
    )


def _region_codes(codes: pd.Series) -> np.ndarray:
    """Region codes without padding, ``NL00`` (Kerncijfers wijken en buurten) as ``NL01``."""
    uniq = pd.unique(codes)
    clean = {c: (COUNTRY if str(c).strip() == "NL00" else str(c).strip()) for c in uniq}
    return np.array([clean[c] for c in codes.to_numpy(dtype=object)], dtype=object)


def _period_years(
    table: CbsTable, codes: pd.Series, month: int | None = None, half_year: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Year and status per period code (NaN year for quarters, half years and the like).

    A month (``2023MM12``, a stock at the end of December) counts as its year. When a table has
    several months in one year (students on 1 January and on 31 December), ``month`` names the
    one to use; without it the latest month of the year is used. Other months get NaN.

    With ``half_year`` (1 or 2) only that half of each year counts, as its year
    (``2024HJ01`` -> 2024), and the calendar years get NaN: a figure over six months is never
    put in one series with figures over twelve.
    """
    statuses = dict(
        zip(
            table.period_status["key"].astype(str),
            table.period_status["status"].astype(str).str.lower(),
            strict=True,
        )
    )
    year_of_code: dict[Any, float] = {}
    status_of_code: dict[Any, str] = {}
    latest_month: dict[int, str] = {}
    for code in pd.unique(codes):
        text = str(code).strip()
        if is_month(text) and (month is None or int(text[6:]) == month):
            year = year_of(text)
            if year not in latest_month or text > latest_month[year]:
                latest_month[year] = text
    for code in pd.unique(codes):
        text = str(code).strip()
        ok = is_year(text) or is_school_year(text)
        if is_month(text):
            ok = latest_month.get(year_of(text)) == text
        if half_year is not None:
            ok = is_half_year(text) and int(text[6:]) == half_year
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
    instead of once per operand or per row. :mod:`westerkwartier.indicators.panel` keeps one per
    table for the duration of a :func:`~westerkwartier.indicators.panel.panel` call;
    :func:`extract` on its own builds a fresh one.
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

    def step(self, key: str) -> float | None:
        """Return the rounding step of a topic in CBS units, inferred from all its figures."""
        return self._memo(("step", key), lambda: infer_step(self.table.data[key].to_numpy()))

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

    def period_years(
        self, dim: str, rows: np.ndarray, month: int | None = None, half_year: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """:func:`_period_years` of column ``dim`` at ``rows``."""
        codes, uniques = self.factorised(dim)
        years, status = self._memo(
            ("periods", dim, month, half_year),
            lambda: _period_years(self.table, pd.Series(uniques, dtype=object), month, half_year),
        )
        return years[codes[rows]], status[codes[rows]]

    def region_years(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Region code, year and "has any figure" of every row (empty without periods).

        What :func:`westerkwartier.indicators.mergers.infer_divisions` needs to tell on which
        municipal division each year of the table is.
        """

        def make() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            table = self.table
            period_dim = table.period_dimension
            try:
                region_dim = _region_dimension(table)
            except CbsSchemaError:
                region_dim = None
            if period_dim is None or region_dim is None:
                empty = np.zeros(0)
                return empty.astype(object), empty, empty.astype(bool)
            rows = np.arange(len(table.data))
            years, _ = self.period_years(period_dim, rows)
            numeric = table.data.select_dtypes("number")
            has = numeric.notna().any(axis=1).to_numpy() & ~np.isnan(years)
            return self.region_codes(region_dim, rows), years, has

        return self._memo(("region_years",), make)


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
    table = flat.reshape(n_rows, len(labels))
    return out_index, {label: table[:, j] for j, label in enumerate(labels)}


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
        If the operand selects on a dimension the table lacks, the units disagree with the
        catalogue or the year cannot be told.
    """
    return extract_indexed(TableIndex(table), operand, spec)


def extract_indexed(  # noqa: C901 - over the limit; see tests/test_complexity.py
    index: TableIndex, operand: Operand, spec: TableSpec | None = None
) -> pd.DataFrame:
    """:func:`extract` with a :class:`TableIndex` shared between the operands of one table."""
    table = index.table
    spec = spec or TableSpec(id=table.table_id, title=table.table_id, offline=False)
    check_selection_dimensions(table, operand)
    keys = resolve_topics(table, operand)
    factor = _check_units(table, keys, operand, index.unit)
    region_dim = _region_dimension(table)
    if operand.region_dimension:
        if operand.region_dimension not in table.dimensions:
            raise SelectionMissing(
                f"Tabel {table.table_id} heeft geen regiodimensie {operand.region_dimension!r} "
                f"(operand {operand.name!r}); wel: {', '.join(table.dimensions)}."
            )
        region_dim = operand.region_dimension
    other_geo = [
        d
        for d, kind in table.dimension_types.items()
        if kind == "GeoDimension" and d != region_dim and d not in operand.select
    ]
    if other_geo:
        raise CbsSchemaError(
            f"Tabel {table.table_id} heeft meer dan één regiodimensie; kies voor operand "
            f"{operand.name!r} met select een categorie van {', '.join(other_geo)} (bijvoorbeeld "
            f'{other_geo[0]} = "Nederland") in config/indicators.toml.'
        )
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

    half, precision = (0.0, None) if margin_dim else _rounding(index, keys, operand, factor)
    if summed:
        half *= int(np.prod([len(operand.select[d]) for d in summed]))

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
            years, status = _period_years(
                table,
                pd.Series(frame[period_dim], dtype=object),
                spec.period_month,
                operand.half_year,
            )
        else:
            years, status = index.period_years(
                period_dim, rows, spec.period_month, operand.half_year
            )
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
    value = frame["value"][keep] * factor
    lower = frame["lower"][keep] * factor if "lower" in frame else nan
    upper = frame["upper"][keep] * factor if "upper" in frame else nan
    if half > 0:  # the extremes the rounded figures allow; a count is never below zero
        lower = value - half
        if operand.additive:
            lower = np.maximum(lower, 0.0)
        upper = value + half
    out_frame = pd.DataFrame(
        {
            "region_code": pd.Series(out["region_code"][keep], **text),
            "year": years[keep].astype(int),
            "value": value,
            "lower": lower,
            "upper": upper,
            "status": pd.Series(status[keep], **text),
            "source_table": pd.Series(np.full(len(keep), table.table_id, dtype=object), **text),
            "note": pd.Series(np.full(len(keep), None, dtype=object), **text),
        }
    )
    out_frame.attrs["precision"] = precision
    return out_frame


def _rounding(
    index: TableIndex, keys: list[str], operand: Operand, factor: float
) -> tuple[float, str | None]:
    """Half the width of the rounding of an operand (reader units) and its description.

    A topic's rounding is the catalogue's ``rounded_to`` (persons) or else the step its figures
    show (:func:`~westerkwartier.indicators.precision.infer_step`); figures in thousands without
    a step to infer count as rounded to thousands. Whole numbers of a count are exact. Topics
    that are added up add their half widths.
    """
    half = 0.0
    coarsest: tuple[float, str] | None = None
    for key in keys:
        if operand.rounded_to is not None:
            step = float(operand.rounded_to)
        else:
            found = index.step(key)
            if found is None:
                found = 1.0 if operand.cbs_unit in ("x 1 000", "x 1 000 000") else None
            if found is None:
                continue
            step = found * factor
        if operand.cbs_unit in WHOLE_UNITS and step <= 1:
            continue  # whole persons, dwellings, euros: exact
        half += step / 2
        if coarsest is None or step > coarsest[0]:
            coarsest = (step, rounding_text(step, operand.cbs_unit))
    return half, (coarsest[1] if coarsest else None)


def combine_tables(parts: list[pd.DataFrame], by_region: bool = False) -> pd.DataFrame:
    """Keep, for each year, only the rows of the most preferred table that has that year.

    Parameters
    ----------
    parts : list of pandas.DataFrame
        Observations (:data:`OBS_COLUMNS`) per table, **preferred first** (the catalogue lists
        the newest regional division first).
    by_region : bool
        Choose per region and year instead of per year: a region that the preferred table
        lacks in a year (a truncated offline export) comes from the next table that has a
        figure for it. For operands with ``fill_regions = true``.

    Examples
    --------
    A series published as 85269NED (2013-2021) and 86088NED (2013-2024): every year comes from
    86088NED, the newest division.
    """
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(columns=OBS_COLUMNS)
    if by_region and len(parts) > 1:
        return _combine_by_region(parts)
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


def _combine_by_region(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """:func:`combine_tables` per region and year: the first table with a figure wins."""
    kept: list[pd.DataFrame] = []
    taken: set[tuple[Any, int]] = set()
    for part in parts:
        cells = list(zip(part["region_code"], part["year"], strict=True))
        has = part["value"].notna().to_numpy()
        keep = np.array([cell not in taken for cell in cells], dtype=bool)
        kept.append(part[keep])
        taken.update(cell for cell, ok in zip(cells, has, strict=True) if ok)
    out = pd.concat(kept, ignore_index=True)
    # a cell without a figure in a preferred table gives way to a later table's figure
    filled = out["value"].notna()
    order = np.lexsort((~filled.to_numpy(),))
    out = out.iloc[order].drop_duplicates(["region_code", "year"], keep="first")
    return out.sort_index().reset_index(drop=True)


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
