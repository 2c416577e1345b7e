"""The analyst's front door: a handful of functions for exploring the monitor in JupyterLab.

These are the names ``import westerkwartier as wk`` offers; each delegates to the package's own
stages and returns plain pandas/geopandas objects with tidy types:

* :func:`gemeente` looks up a municipality (code or name, any case or accents);
* :func:`indicatoren` lists the indicators of the catalogue (per theme);
* :func:`panel` returns the indicator panel with unique region labels and tidy dtypes;
* :func:`compare` puts a municipality beside its benchmarks;
* :func:`kaart` draws a choropleth of any frame that has region codes;
* :func:`get_table` returns a CBS table from the cache, live CBS or the offline snapshot;
* :func:`wijken` returns the figures of a municipality's wijken (districts) with their shapes.

Examples
--------
>>> import westerkwartier as wk
>>> wk.gemeente("westerkwartier").code
'GM1969'
>>> frame = wk.panel(["Westerkwartier", "PV20"], ["netto_arbeidsparticipatie"], 2023)
>>> print(frame[["region_code", "year", "value"]].to_string(index=False))
region_code  year  value
     GM1969  2023   74.2
       PV20  2023   70.6
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from westerkwartier.errors import InputError

if TYPE_CHECKING:
    from westerkwartier.reporting.charts import Chart
    from westerkwartier.sources.regions import Region
    from westerkwartier.sources.table import CbsTable

#: Suffix that makes a region's label unique when another region has the same name.
LEVEL_SUFFIX: dict[str, str] = {
    "gemeente": " (gemeente)",
    "provincie": " (provincie)",
    "corop": " (COROP)",
    "land": "",
}

#: Columns of the panel that hold categories (codes, levels, ids, statuses).
CATEGORY_COLUMNS: tuple[str, ...] = ("region_code", "level", "indicator", "status")

#: Columns of the panel that hold free text.
TEXT_COLUMNS: tuple[str, ...] = ("region_name", "source_table", "missing_reason")


def gemeente(naam: str) -> Region:
    """Return the municipality a person means (code, name, any case or accents).

    Parameters
    ----------
    naam : str
        ``"Westerkwartier"``, ``"GM1969"``, ``"1969"`` or ``"sudwest fryslan"``.

    Returns
    -------
    westerkwartier.sources.regions.Region
        Code, name, province, COROP area, GGD region and population.

    Raises
    ------
    RegionNotFound
        Unknown name, with the closest matches.
    RegionDissolved
        A municipality that merged into another, naming its successor.
    InputError
        A province or Nederland instead of a municipality.
    """
    from westerkwartier.sources.regions import load_registry

    return load_registry().municipality(naam)


def indicatoren(thema: str | None = None) -> pd.DataFrame:
    """List the indicators of the catalogue: id, label, theme, unit, direction, years, tables.

    Parameters
    ----------
    thema : str, optional
        Only this theme (``Talent``, ``Vestigingsklimaat``, ``Woonklimaat``,
        ``Gezondheid en vitaliteit``, ``Context``; any case).

    Raises
    ------
    InputError
        For an unknown theme, naming the themes there are.
    """
    from westerkwartier.indicators.catalogue import catalogue

    return catalogue(thema)


def unique_labels(frame: pd.DataFrame) -> pd.Series:
    """Return a region label per row that is unique per region.

    A name shared by regions of different levels gets its level (``Groningen (gemeente)``,
    ``Groningen (provincie)``); other names stay as they are.

    Parameters
    ----------
    frame : pandas.DataFrame
        With ``region_code``, ``region_name`` and ``level``.

    Examples
    --------
    >>> f = pd.DataFrame({"region_code": ["GM0014", "PV20", "GM1969"],
    ...                   "region_name": ["Groningen", "Groningen", "Westerkwartier"],
    ...                   "level": ["gemeente", "provincie", "gemeente"]})
    >>> unique_labels(f).tolist()
    ['Groningen (gemeente)', 'Groningen (provincie)', 'Westerkwartier']
    """
    regions = frame[["region_code", "region_name", "level"]].drop_duplicates("region_code")
    shared = regions.groupby("region_name")["region_code"].transform("size") > 1
    label = (
        regions["region_name"]
        .astype(object)
        .where(
            ~shared,
            regions["region_name"].astype(str)
            + regions["level"].astype(str).map(LEVEL_SUFFIX).fillna(""),
        )
    )
    by_code = dict(zip(regions["region_code"], label, strict=True))
    return frame["region_code"].map(by_code).astype(object)


def tidy(frame: pd.DataFrame) -> pd.DataFrame:
    """Give a panel frame the types an analyst expects.

    Codes, levels, indicator ids and statuses become categoricals; text columns hold
    ``pd.NA`` (not a mix of None and NaN) for a missing value; region names are made unique
    with :func:`unique_labels`.
    """
    out = frame.copy()
    if {"region_code", "region_name", "level"} <= set(out.columns):
        out["region_name"] = unique_labels(out)
    for column in TEXT_COLUMNS:
        if column in out.columns:
            out[column] = out[column].astype("string")
    for column in CATEGORY_COLUMNS:
        if column in out.columns:
            out[column] = out[column].astype("category")
    if "year" in out.columns:
        out["year"] = out["year"].astype("int64")
    return out


def panel(
    regions: Iterable[str] | None = None,
    indicators: Iterable[str] | str | None = None,
    years: int | Iterable[int] | None = None,
) -> pd.DataFrame:
    """Return indicators per region and year as one tidy frame.

    Parameters
    ----------
    regions : str or iterable of str, optional
        Codes or names (``"Westerkwartier"``, ``"PV20"``, ``"Nederland"``). Default every
        municipality, the twelve provinces and Nederland.
    indicators : str or iterable of str, optional
        Indicator ids (``westerkwartier indicators`` lists them). Default all.
    years : int or iterable of int, optional
        Default every year with data. A year written as text (``"2023"``) counts as the year.

    Returns
    -------
    pandas.DataFrame
        ``region_code, region_name, level, year, indicator, value, lower, upper, status,
        source_table, missing_reason, note, comparable_from``; names unique per region,
        categoricals for codes, levels, ids and statuses, ``pd.NA`` for missing text. A missing
        value is NaN with its reason, never zero. ``comparable_from`` is the first year of the
        series a value belongs to where CBS changed the definition (youth care: 2021); compare
        only values with the same ``comparable_from``.
    """
    from westerkwartier.indicators.panel import panel as build_panel

    if isinstance(regions, str):
        regions = [regions]
    if isinstance(indicators, str):
        indicators = [indicators]
    return tidy(build_panel(regions=regions, indicators=indicators, years=_years(years)))


def _years(years: Any) -> list[int] | None:
    """Return ``years`` as a list of years; raise InputError for what is not a year.

    Examples
    --------
    >>> _years(2023), _years("2023"), _years([2019, "2023"]), _years(None)
    ([2023], [2023], [2019, 2023], None)
    >>> import numpy as np
    >>> _years(np.arange(2022, 2024))  # the years of a frame, say
    [2022, 2023]
    """
    if years is None:
        return None
    one = isinstance(years, numbers.Integral | str) or not isinstance(years, Iterable)
    given = [years] if one else list(years)
    out = []
    for year in given:
        if isinstance(year, bool) or not (
            isinstance(year, numbers.Integral) or (isinstance(year, str) and year.strip().isdigit())
        ):
            raise InputError(
                f"Jaar {year!r} is geen jaartal; geef een jaar als 2023 of een lijst als "
                "[2019, 2023]."
            )
        out.append(int(year))
    return out


def compare(gemeente: str, jaar: int | None = None, **kwargs: Any) -> pd.DataFrame:
    """Put a municipality's indicators beside Nederland, its province, COROP area and neighbours.

    Parameters
    ----------
    gemeente : str
        Code or name of the municipality.
    jaar : int, optional
        Year; default per indicator the latest year the municipality has a value.
    **kwargs
        Passed to :func:`westerkwartier.indicators.panel.compare` (``indicators=[...]``).

    Returns
    -------
    pandas.DataFrame
        One row per indicator, one column per region (unique names).
    """
    from westerkwartier.indicators.panel import compare as build_compare

    return build_compare(gemeente, jaar, **kwargs)


def get_table(table_id: str, **kwargs: Any) -> CbsTable:
    """Return a CBS table: from the cache, else live CBS, else the offline snapshot.

    Parameters
    ----------
    table_id : str
        CBS table id (``85036NED``).
    **kwargs
        Passed to :func:`westerkwartier.sources.data.get_table`: ``regions``, ``periods``,
        ``topics``, ``filters`` (only part of the table), ``refresh``, ``api``. The CBS service
        asked first is the one the indicator catalogue names for the table (``api``).

    Returns
    -------
    westerkwartier.sources.table.CbsTable
        ``.data`` holds the rows with CBS codes; ``.source`` says where they came from.
    """
    from westerkwartier.indicators.catalogue import load_catalogue
    from westerkwartier.sources.data import get_table as fetch

    kwargs.setdefault("api", load_catalogue().table(table_id).api)
    return fetch(table_id, **kwargs)


def _boundaries(codes: Sequence[str]) -> Any:
    from westerkwartier.sources import geo

    prefixes = {str(c)[:2] for c in codes}
    if prefixes <= {"GM"}:
        return geo.municipalities()
    if prefixes <= {"PV"}:
        return geo.provinces()
    raise InputError(
        "kaart() tekent gemeenten (GM-codes) of provincies (PV-codes), niet beide door elkaar "
        f"en geen andere regio's (gevonden: {', '.join(sorted(prefixes))})."
    )


def kaart(
    frame: pd.DataFrame,
    indicator: str | None = None,
    *,
    jaar: int | None = None,
    titel: str | None = None,
    waarde: str = "value",
    eenheid: str | None = None,
) -> Chart:
    """Draw a choropleth of any frame with region codes, in the house style.

    Parameters
    ----------
    frame : pandas.DataFrame
        With ``region_code`` and a value column; a panel frame works as is. Rows of
        municipalities (GM) or of provinces (PV). A frame of :func:`wijken` (``code`` and
        ``geometry``) draws its own wijken.
    indicator : str, optional
        Keep only the rows of this indicator (needed when the frame holds several).
    jaar : int, optional
        Keep only this year; default the latest year with values.
    titel : str, optional
        Chart title; default the indicator's label and the year.
    waarde : str
        Column with the values (default ``value``).
    eenheid : str, optional
        Unit for the legend; default the indicator's unit from the catalogue.

    Returns
    -------
    westerkwartier.reporting.charts.Chart
        A chart with alt text; show it in a notebook with
        ``westerkwartier.reporting.charts.show_figure(chart)``.

    Raises
    ------
    InputError
        When ``frame`` is not a frame (an indicator's name, say), has no region codes, several
        indicators and none chosen, or no values.
    """
    from westerkwartier.reporting.figures import draw_choropleth, map_frame

    if not isinstance(frame, pd.DataFrame):
        example = frame if isinstance(frame, str) else "woz_waarde"
        raise InputError(
            f"kaart() tekent een tabel (DataFrame), geen {type(frame).__name__}; bijvoorbeeld "
            f"kaart(wk.panel(indicators={example!r})), met jaar=... voor een ander jaar dan "
            "het laatste."
        )
    # a frame of wk.wijken brings its own shapes: its wijken are drawn
    own_shapes = {"code", "geometry"} <= set(frame.columns) and "region_code" not in frame
    if own_shapes:
        frame = frame.rename(columns={"code": "region_code"})
    if "region_code" not in frame.columns or waarde not in frame.columns:
        raise InputError(
            f"kaart() heeft een tabel met de kolommen 'region_code' en {waarde!r} nodig "
            "(zoals wk.panel en wk.wijken die geven)."
        )
    rows, indicator = _one_indicator(frame, indicator)
    label, unit, tables = _described(rows, indicator, wijk=own_shapes)
    rows, when = _one_year(rows, jaar, waarde)
    if not own_shapes:
        code_text = rows["region_code"].astype(str)
        level = "GM" if code_text.str.startswith("GM").any() else "PV"
        rows = rows[code_text.str.startswith(level)]  # a panel also holds provinces, Nederland
    codes = [str(c) for c in pd.unique(rows["region_code"].astype(str))]
    if not codes:
        raise InputError("De tabel heeft geen gemeenten, provincies of wijken om te tekenen.")
    values = pd.Series(
        rows[waarde].to_numpy(dtype="float64"), index=rows["region_code"].astype(str)
    )
    if own_shapes:
        areas = rows.rename(columns={"region_code": "code"})[["code", "name", "geometry"]]
        boundaries = areas.drop_duplicates("code")
    else:
        boundaries = _boundaries(codes)
    shapes = map_frame(boundaries, values, codes)
    unit = eenheid if eenheid is not None else unit
    title = titel or " ".join(p for p in [label or waarde, when] if p)
    return draw_choropleth(
        shapes, title=title, label=label or waarde, unit=unit or "", tables=tables or ["CBS"]
    )


def _one_indicator(frame: pd.DataFrame, indicator: str | None) -> tuple[pd.DataFrame, str | None]:
    """Return the rows of the indicator to draw, and its id (InputError when one must choose)."""
    if "indicator" not in frame.columns:
        return frame, indicator
    present = list(pd.unique(frame["indicator"].astype(str)))
    if indicator is None and len(present) > 1:
        raise InputError(
            "De tabel bevat meer indicatoren; kies er één met indicator=... "
            f"({', '.join(present[:5])}{' ...' if len(present) > 5 else ''})."
        )
    indicator = indicator or (present[0] if present else None)
    return frame[frame["indicator"].astype(str) == indicator], indicator


def _described(
    rows: pd.DataFrame, indicator: str | None, *, wijk: bool
) -> tuple[str | None, str | None, list[str]]:
    """Return the label, unit and source tables of the rows drawn (None when unknown)."""
    from westerkwartier.indicators.catalogue import load_catalogue
    from westerkwartier.indicators.wijken import INDICATORS as WIJK_INDICATORS

    label = unit = None
    tables: list[str] = []
    if wijk and indicator in WIJK_INDICATORS:
        label, unit = WIJK_INDICATORS[indicator].label, WIJK_INDICATORS[indicator].unit
    elif indicator is not None:
        ind = load_catalogue()[indicator]
        label, unit, tables = ind.label_nl, ind.unit, list(ind.tables[:1])
    for column in ("source_table", "source"):  # a wijk change has "84799NED+85984NED"
        if column in rows.columns and rows[column].notna().any():
            tables = sorted({t for v in rows[column].dropna() for t in str(v).split("+")})[:3]
            break
    return label, unit, tables


def _one_year(rows: pd.DataFrame, jaar: int | None, waarde: str) -> tuple[pd.DataFrame, str]:
    """Return the rows of year ``jaar`` (default the latest with values) and "in <when>"."""
    if "year" in rows.columns:
        if jaar is None:
            with_value = rows[rows[waarde].notna()]
            if with_value.empty:
                raise InputError("De tabel heeft geen enkele waarde om te tekenen.")
            jaar = int(with_value["year"].max())
        rows = rows[rows["year"] == jaar]
    # a wijk change is over a period ("2020-2024"), not in one year
    periods = rows["period"].dropna().astype(str).unique() if "period" in rows else []
    if len(periods) == 1:
        return rows, f"in {periods[0]}"
    return rows, f"in {jaar}" if jaar is not None else ""


def wijken(
    gemeente: str,
    jaar: int = 2024,
    *,
    met_gemeente: bool = False,
    met_beginjaar: bool = False,
) -> Any:
    """Return the wijk figures of a municipality as a tidy GeoDataFrame.

    One row per wijk and indicator: ``code``, ``name``, ``year``, ``indicator``, ``value``,
    ``status``, with ``low``/``high`` (what CBS's rounding of wijk counts to fives allows),
    ``direction``, ``missing_reason``, ``division`` (year of the wijk division) and the wijk
    polygon (RD New). See :func:`westerkwartier.indicators.wijken.wijken` for the parameters.

    Examples
    --------
    >>> frame = wijken("Westerkwartier")
    >>> str(frame.crs), int(frame["year"].max())
    ('EPSG:28992', 2024)

    ``frame[frame["indicator"] == "verandering_25_44"].plot(column="value")`` draws the
    change of the 25-44-year-olds per wijk.
    """
    from westerkwartier.indicators.wijken import wijken as wijk_frame

    return wijk_frame(gemeente, jaar, met_gemeente=met_gemeente, met_beginjaar=met_beginjaar)
