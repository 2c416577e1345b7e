"""Charts of the reports: trends against benchmarks, survey intervals, bars and the map.

Every chart is a :class:`westerkwartier.reporting.charts.Chart` in the house style (title, unit,
source
line, colour-blind-safe colours) with alt text written from the data, shown in a notebook
with :func:`westerkwartier.reporting.charts.show_figure`. The data behind each chart comes from a
pure
function (:func:`trend_data`, :func:`map_frame`, :func:`classify`) that the tests check
without drawing anything.

The map is a static PNG drawn with geopandas and matplotlib from the snapshot's simplified
boundaries (RD New): no web map, no tiles, nothing fetched.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from matplotlib import patheffects
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from westerkwartier.reporting.charts import (
    ROLE_COLOURS,
    TEXT_COLOURS,
    Chart,
    DutchFormatter,
    bar_chart,
    house_style,
    new_chart,
    source_line,
    trend_chart,
)
from westerkwartier.reporting.formatting import (
    decimals_for,
    fmt,
    fmt_interval,
    fmt_number,
    unit_label,
)

if TYPE_CHECKING:  # pragma: no cover
    import geopandas as gpd

    from westerkwartier.analysis.comparison import ScoreRow
    from westerkwartier.reporting.report_data import ReportData

#: Sequential ColorBrewer "Blues" (5 classes): readable for the common kinds of colour
#: blindness and in grey print; light = low, dark = high.
MAP_COLOURS: tuple[str, ...] = ("#EFF3FF", "#BDD7E7", "#6BAED6", "#3182BD", "#08519C")

#: Fill of a municipality without a figure (hatched as well, so not told by colour alone).
MAP_MISSING: str = "#F2F2F2"

#: Outline of the municipality of the report (vermilion: stands out against the blues).
MAP_FOCUS: str = ROLE_COLOURS["provincie"]


def _tables(source: str | None) -> list[str]:
    return [t for t in str(source or "").split("+") if t]


def _sources(panel: pd.DataFrame, indicator: str) -> list[str]:
    rows = panel[(panel["indicator"] == indicator) & panel["value"].notna()]
    ids: dict[str, None] = {}
    for text in rows["source_table"].dropna().unique():
        ids.update(dict.fromkeys(_tables(text)))
    return sorted(ids, key=str.lower)


# ----------------------------------------------------------------------------------------------
# Trends
# ----------------------------------------------------------------------------------------------
def trend_data(
    panel: pd.DataFrame,
    indicator: str,
    regions: pd.DataFrame,
    *,
    roles: Sequence[str] = ("gemeente", "provincie", "Nederland", "vergelijking"),
    column: str = "value",
) -> pd.DataFrame:
    """Return a wide table of one indicator for a trend chart.

    Parameters
    ----------
    panel : pandas.DataFrame
        Tidy panel.
    indicator : str
        Indicator id.
    regions : pandas.DataFrame
        code, role, label (see :func:`westerkwartier.reporting.report_data.report_regions`).
    roles : sequence of str
        Roles drawn (default: municipality, province, Nederland, extra municipalities).
    column : str
        ``value``, ``lower`` or ``upper``.

    Returns
    -------
    pandas.DataFrame
        Index year (int), one column per region label, in the order of ``regions``; years
        in which no region has a value are dropped.

    Examples
    --------
    >>> p = pd.DataFrame({"region_code": ["GM1", "NL01"], "indicator": "x", "year": 2023,
    ...                   "value": [1.0, 2.0]})
    >>> r = pd.DataFrame({"code": ["GM1", "NL01"], "role": ["gemeente", "Nederland"],
    ...                   "label": ["Ons", "Nederland"]})
    >>> trend_data(p, "x", r).to_dict("list")
    {'Ons': [1.0], 'Nederland': [2.0]}
    """
    chosen = regions[regions["role"].isin(roles)]
    rows = panel[(panel["indicator"] == indicator) & panel["region_code"].isin(chosen["code"])]
    wide = rows.pivot_table(
        index="year", columns="region_code", values=column, aggfunc="first", dropna=False
    )
    wide = wide.reindex(columns=list(chosen["code"]))
    wide.columns = list(chosen["label"])
    wide = wide.dropna(how="all")
    wide.index = wide.index.astype(int)
    return wide.sort_index()


def indicator_trend(data: ReportData, indicator: str) -> Chart | None:
    """Draw one indicator over the years for the municipality, province and Nederland.

    Survey figures get a band with the municipality's 95% interval.

    Returns
    -------
    Chart or None
        None when the municipality has fewer than two years with a value (the notebook then
        says so in words).
    """
    ind = data.catalogue[indicator]
    wide = trend_data(data.panel, indicator, data.regions)
    focus = data.region.name
    if focus not in wide.columns or wide[focus].notna().sum() < 2:
        return None
    wide = wide.loc[wide[focus].first_valid_index() :]
    tables = _sources(data.panel, indicator)
    survey = ind.margins_operand is not None
    title = f"{ind.label_nl}: {focus}, {data.province_label} en Nederland"
    chart = trend_chart(
        wide,
        focus=focus,
        title=title,
        unit=ind.unit,
        tables=tables,
        decimals=decimals_for(ind.unit),
        province=data.province_label,
        country="Nederland",
    )
    if survey:
        lower = trend_data(data.panel, indicator, data.regions, column="lower")
        upper = trend_data(data.panel, indicator, data.regions, column="upper")
        if focus in lower.columns and focus in upper.columns:
            lo = lower[focus].reindex(wide.index)
            hi = upper[focus].reindex(wide.index)
            with house_style():
                chart.ax.fill_between(
                    wide.index,
                    lo.to_numpy(dtype=float),
                    hi.to_numpy(dtype=float),
                    color=ROLE_COLOURS["focus"],
                    alpha=0.15,
                    linewidth=0,
                    label="95%-interval",
                )
            chart.alt += f" De band rond de lijn van {focus} is het 95%-betrouwbaarheidsinterval."
    return chart


# ----------------------------------------------------------------------------------------------
# Survey figures with their intervals
# ----------------------------------------------------------------------------------------------
def interval_chart(data: ReportData, rows: Sequence[ScoreRow]) -> Chart | None:
    """Dot-and-whisker chart of survey figures: municipality, province and Nederland.

    Each figure is a row with three markers (shape and colour differ) and the 95% interval
    as a whisker; where whiskers do not overlap the difference is significant.

    Returns
    -------
    Chart or None
        None when no survey figure of ``rows`` has a value for the municipality.
    """
    rows = [r for r in rows if r.survey and r.own is not None and r.unit == "%"]
    if not rows:
        return None
    year = max(r.own.year for r in rows)  # type: ignore[union-attr]
    focus = data.region.name
    series = [
        (focus, "focus", "o", [r.own for r in rows]),
        (data.province_label, "provincie", "s", [r.province.other for r in rows]),
        ("Nederland", "nederland", "D", [r.nederland.other for r in rows]),
    ]
    tables = sorted({t for r in rows for t in _tables(r.source)}, key=str.lower)
    height = max(3.0, 1.4 + 0.55 * len(rows))
    chart = new_chart(
        f"Gezondheidsmonitor {year}: {focus} met 95%-betrouwbaarheidsinterval",
        unit=None,
        tables=tables,
        figsize=(7.0, height),
    )
    ax = chart.ax
    with house_style():
        ax.grid(False)
        ax.grid(True, axis="x")
        positions = np.arange(len(rows))[::-1]
        offsets = {"focus": 0.22, "provincie": 0.0, "nederland": -0.22}
        for label, role, marker, obs in series:
            if not label:
                continue
            ys, xs, err_lo, err_hi = [], [], [], []
            for pos, o in zip(positions, obs, strict=True):
                if o is None:
                    continue
                ys.append(pos + offsets[role])
                xs.append(o.value)
                err_lo.append(o.value - o.lower if o.has_interval else 0.0)
                err_hi.append(o.upper - o.value if o.has_interval else 0.0)
            if not xs:
                continue
            ax.errorbar(
                xs,
                ys,
                xerr=[err_lo, err_hi],
                fmt=marker,
                color=ROLE_COLOURS[role],
                markersize=7 if role == "focus" else 5,
                capsize=3,
                linewidth=1.4,
                label=label,
            )
        ax.set_yticks(positions, [_short(r.label) for r in rows])
        ax.set_xlabel("% van de volwassenen (18 jaar of ouder)", loc="left")
        ax.tick_params(axis="y", length=0)
        chart.figure.legend(loc="outside upper center", ncol=3, frameon=False)
    parts = [f"Puntgrafiek met 95%-intervallen, Gezondheidsmonitor {year}."]
    for r in rows:
        assert r.own is not None
        text = f"{r.label}: {focus} {fmt(r.own.value, r.unit)}"
        if r.own.has_interval:
            text += f" (interval {fmt_interval(r.own, r.unit)})"
        for comp in (r.province, r.nederland):
            if comp.other is not None:
                text += f", {comp.name} {fmt(comp.other.value, r.unit)}"
                if comp.significant:
                    text += " (verschil significant)"
        parts.append(text + ".")
    parts.append(source_line(tables) + ".")
    chart.alt = " ".join(parts)
    return chart


def _short(label: str, width: int = 34) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(label, width=width)[:2])


# ----------------------------------------------------------------------------------------------
# Neighbours side by side
# ----------------------------------------------------------------------------------------------
def neighbour_bars(data: ReportData, indicator: str) -> Chart | None:
    """Bars of one indicator for the municipality, its neighbours, province and Nederland.

    Returns
    -------
    Chart or None
        None when the municipality has no value.
    """
    row = data.row(indicator)
    if row is None or row.own is None:
        return None
    year = row.own.year
    ind = data.catalogue[indicator]
    pick = data.panel[(data.panel["indicator"] == indicator) & (data.panel["year"] == year)]
    values = pick.set_index("region_code")["value"]
    labels = data.regions.set_index("code")["label"]
    series = pd.Series(
        {labels[c]: values.get(c, np.nan) for c in data.regions["code"]}, dtype="float64"
    )
    tables = _sources(pick, indicator)
    chart = bar_chart(
        series,
        focus=data.region.name,
        title=f"{ind.label_nl} in {year}: {data.region.name} en omgeving",
        unit=ind.unit,
        tables=tables,
        decimals=decimals_for(ind.unit),
        province=data.province_label,
    )
    with house_style():
        chart.ax.xaxis.set_major_locator(MaxNLocator(nbins=4))
    return chart


# ----------------------------------------------------------------------------------------------
# The map
# ----------------------------------------------------------------------------------------------
def map_area(code: str, province_members: Sequence[str], neighbours: Sequence[str]) -> list[str]:
    """Return the municipalities drawn on the map: the province plus the neighbours.

    Examples
    --------
    >>> map_area("GM3", ["GM1", "GM3"], ["GM9"])
    ['GM1', 'GM3', 'GM9']
    """
    return sorted({code, *province_members, *neighbours})


def classify(values: pd.Series, k: int = len(MAP_COLOURS)) -> tuple[pd.Series, list[float]]:
    """Put values into at most ``k`` quantile classes.

    Parameters
    ----------
    values : pandas.Series
        Values per municipality; NaN stays unclassified.
    k : int
        Number of classes wanted (fewer when there are fewer distinct values).

    Returns
    -------
    classes, edges : pandas.Series, list of float
        Class number (0 = lowest; NaN for missing) and the ``n + 1`` class edges.

    Examples
    --------
    >>> classes, edges = classify(pd.Series([1.0, 2.0, 3.0, 4.0, float("nan")]), k=2)
    >>> classes.tolist()[:4], edges
    ([0.0, 0.0, 1.0, 1.0], [1.0, 2.5, 4.0])
    """
    known = values.dropna()
    if known.empty:
        return pd.Series(np.nan, index=values.index), []
    edges = sorted(set(np.quantile(known, np.linspace(0, 1, k + 1)).tolist()))
    if len(edges) == 1:
        return pd.Series(np.where(values.notna(), 0.0, np.nan), index=values.index), edges * 2
    inner = edges[1:-1]
    classes = pd.Series(np.searchsorted(inner, known, side="right"), index=known.index)
    return classes.astype(float).reindex(values.index), edges


def map_frame(
    boundaries: gpd.GeoDataFrame,
    values: pd.Series,
    area: Sequence[str],
) -> gpd.GeoDataFrame:
    """Join values to the boundaries of the map area and classify them.

    Parameters
    ----------
    boundaries : geopandas.GeoDataFrame
        ``code``, ``name``, ``geometry`` (RD New).
    values : pandas.Series
        Value per municipality code.
    area : sequence of str
        Codes to draw.

    Returns
    -------
    geopandas.GeoDataFrame
        code, name, geometry, value, klasse (0 = lowest; NaN without a figure), sorted by
        code; ``attrs["edges"]`` holds the class edges.
    """
    frame = boundaries[boundaries["code"].isin(list(area))].copy()
    frame = frame.sort_values("code").reset_index(drop=True)
    frame["value"] = frame["code"].map(values).astype("float64")
    classes, edges = classify(frame["value"])
    frame["klasse"] = classes
    frame.attrs["edges"] = edges
    return frame


def _map_values(data: ReportData, indicator: str, area: Sequence[str]) -> tuple[pd.Series, int]:
    from westerkwartier.indicators.panel import panel
    from westerkwartier.indicators.panel_cache import national_panel

    row = data.row(indicator)
    year = row.own.year if row is not None and row.own is not None else None
    frame = None
    if year is not None:  # the report built this indicator for the country: take the area
        national = national_panel([indicator])
        rows = national[national["year"] == year].set_index("region_code", drop=False)
        if set(area) <= set(rows.index):
            frame = rows.loc[list(area)].reset_index(drop=True)
    if frame is None:
        frame = panel(regions=list(area), indicators=[indicator], years=year)
    if year is None:
        counts = frame[frame["value"].notna()].groupby("year").size()
        year = int(counts.index.max()) if len(counts) else int(frame["year"].max())
        frame = frame[frame["year"] == year]
    frame = frame[frame["year"] == year]
    sources = _sources(frame, indicator)
    values = frame.set_index("region_code")["value"]
    values.attrs["sources"] = sources
    return values, int(year)


def choropleth(data: ReportData, indicator: str | None = None) -> Chart:
    """Map one indicator for the municipality among its province and neighbours.

    Parameters
    ----------
    data : ReportData
        The report's data.
    indicator : str, optional
        Default the report's map indicator (manifest ``kaart``).

    Returns
    -------
    Chart
        The map (static PNG when shown) with a legend of Dutch-formatted classes, the
        municipality outlined in vermilion, municipalities without a figure hatched, and alt
        text naming the municipality's value, its rank and the extremes.
    """
    from westerkwartier.sources.geo import municipalities, neighbours
    from westerkwartier.sources.regions import load_registry

    indicator = indicator or data.spec.kaart
    ind = data.catalogue[indicator]
    region = data.region
    members: list[str] = []
    if region.province:
        gm = load_registry().municipalities()
        members = list(gm.loc[gm["province_code"] == region.province, "code"])
    area = map_area(region.code, members, neighbours(region.code))
    values, year = _map_values(data, indicator, area)
    frame = map_frame(municipalities(), values, area)
    tables = values.attrs.get("sources") or list(ind.tables[:1])
    where = f"provincie {region.province_name}" if region.province_name else "de regio"
    title = f"{ind.label_nl} in {year}: {region.name} in de {where} en bij de buren"
    chart = draw_choropleth(
        frame, title=title, label=ind.label_nl, unit=ind.unit, tables=tables, focus=region
    )
    chart.alt = _map_alt(frame, region, ind.label_nl, ind.unit, year, where, tables)
    return chart


def draw_choropleth(
    frame: gpd.GeoDataFrame,
    *,
    title: str,
    label: str,
    unit: str,
    tables: Sequence[str],
    focus: Any | None = None,
) -> Chart:
    """Draw classified areas in the house style: blues by class, hatched where no figure.

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        From :func:`map_frame` (code, name, geometry, value, klasse; edges in ``attrs``).
    title, label, unit : str
        Chart title; label and reader unit of the values (legend title).
    tables : sequence of str
        CBS tables for the source line.
    focus : Region, optional
        A region to outline in vermilion and name on the map.

    Returns
    -------
    Chart
        With a legend below the map (never over the source line) and alt text naming the
        highest and lowest areas and those without a figure.
    """
    edges = frame.attrs["edges"]
    chart = new_chart(title, unit=None, tables=list(tables), figsize=(7.0, 7.0))
    ax = chart.ax
    dec = decimals_for(unit)
    with house_style():
        ax.grid(False)
        ax.set_axis_off()
        known = frame[frame["klasse"].notna()]
        missing = frame[frame["klasse"].isna()]
        if len(known):
            colours = [MAP_COLOURS[int(k)] for k in known["klasse"]]
            known.plot(ax=ax, color=colours, edgecolor="white", linewidth=0.6)
        if len(missing):
            missing.plot(ax=ax, color=MAP_MISSING, edgecolor="#8C8C8C", hatch="///", linewidth=0.6)
        if focus is not None:
            outline = frame[frame["code"] == focus.code]
            outline.boundary.plot(ax=ax, color=MAP_FOCUS, linewidth=2.6)
            if len(outline):
                point = outline.geometry.iloc[0].representative_point()
                ax.annotate(
                    focus.name,
                    (point.x, point.y),
                    ha="center",
                    va="center",
                    fontsize=10,
                    fontweight="bold",
                    color=TEXT_COLOURS["tekst"],
                    path_effects=[patheffects.withStroke(linewidth=3, foreground="white")],
                )
        ax.set_aspect("equal")
        handles = []
        n_classes = max(len(edges) - 1, 0)
        for i in range(n_classes):
            lo, hi = fmt_number(edges[i], dec), fmt_number(edges[i + 1], dec)
            handles.append(Patch(facecolor=MAP_COLOURS[i], edgecolor="#8C8C8C", label=f"{lo}–{hi}"))
        if len(missing):
            handles.append(
                Patch(facecolor=MAP_MISSING, edgecolor="#8C8C8C", hatch="///", label="geen cijfer")
            )
        if focus is not None:
            handles.append(
                Patch(facecolor="none", edgecolor=MAP_FOCUS, linewidth=2.6, label=focus.name)
            )
        unit_text = unit_label(unit)
        # on the axes, below the map: the layout then keeps the source line under the legend
        ax.legend(
            handles=handles,
            title=f"{label} ({unit_text})" if unit_text else label,
            loc="upper center",
            bbox_to_anchor=(0.5, 0.0),
            ncol=3,
            frameon=False,
            fontsize=9,
            title_fontsize=9,
        )
    chart.alt = _areas_alt(frame, title, unit, tables)
    return chart


def _areas_alt(frame: Any, title: str, unit: str, tables: Sequence[str]) -> str:
    known = frame[frame["value"].notna()].sort_values(["value", "code"], ascending=[False, True])
    parts = [f"Kaart: {title}; donkerder blauw is hoger."]
    if len(known):
        top, low = known.iloc[0], known.iloc[-1]
        parts.append(
            f"Hoogste: {top['name']} ({fmt(top['value'], unit)}); laagste: {low['name']} "
            f"({fmt(low['value'], unit)})."
        )
    absent = frame[frame["value"].isna()]
    if len(absent):
        parts.append(f"Geen cijfer: {', '.join(absent['name'])}.")
    parts.append(source_line(list(tables)) + ".")
    return " ".join(parts)


def _map_alt(
    frame: Any, region: Any, label: str, unit: str, year: int, where: str, tables: list[str]
) -> str:
    known = frame[frame["value"].notna()].sort_values(["value", "code"], ascending=[False, True])
    parts = [
        f"Kaart: {label} in {year} per gemeente in de {where} en de buurgemeenten van "
        f"{region.name}; donkerder blauw is hoger."
    ]
    own = frame.loc[frame["code"] == region.code, "value"]
    if len(own) and pd.notna(own.iloc[0]):
        rank = int((known["value"] > own.iloc[0]).sum()) + 1
        parts.append(
            f"{region.name} (oranjerood omlijnd): {fmt(own.iloc[0], unit)}, plaats {rank} van "
            f"{len(known)} gemeenten met een cijfer (1 = hoogste)."
        )
    else:
        parts.append(f"{region.name} (oranjerood omlijnd): geen cijfer.")
    if len(known):
        top, low = known.iloc[0], known.iloc[-1]
        parts.append(
            f"Hoogste: {top['name']} ({fmt(top['value'], unit)}); laagste: {low['name']} "
            f"({fmt(low['value'], unit)})."
        )
    absent = frame[frame["value"].isna()]
    if len(absent):
        parts.append(f"Geen cijfer: {', '.join(absent['name'])}.")
    parts.append(source_line(tables) + ".")
    return " ".join(parts)


# ----------------------------------------------------------------------------------------------
# Rank intervals of a composite index
# ----------------------------------------------------------------------------------------------
def rank_interval_chart(
    frame: pd.DataFrame,
    *,
    focus: str,
    title: str,
    n_ranked: int,
    draws: int,
    tables: Sequence[str],
) -> Chart:
    """Horizontal 5-95% rank intervals with the median rank as a dot, focus highlighted.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per municipality, top to bottom: ``label`` (as shown), ``code``,
        ``median_rank``, ``rank_p05``, ``rank_p95`` (see
        :meth:`westerkwartier.analysis.composite.MonteCarloResult.summary`).
    focus : str
        Code of the municipality of the report (blue, thick, bold label).
    title : str
        Chart title.
    n_ranked : int
        Number of ranked municipalities (the axis runs from 1 to this number).
    draws : int
        Number of Monte Carlo draws (for the alt text).
    tables : sequence of str
        CBS tables behind the index (source line).

    Returns
    -------
    Chart
        With alt text naming every municipality's median rank and interval.
    """
    rows = frame.reset_index(drop=True)
    height = max(2.8, 1.6 + 0.42 * len(rows))
    chart = new_chart(title, unit=None, tables=tables, figsize=(7.0, height))
    # Many tables: wrap the source line so that it stays inside the figure.
    chart.figure.supxlabel(
        "\n".join(textwrap.wrap(source_line(tables), width=80)),
        x=0.01,
        ha="left",
        fontsize=9,
        color=TEXT_COLOURS["gedempt"],
    )
    ax = chart.ax
    positions = np.arange(len(rows))[::-1]
    with house_style():
        ax.grid(False)
        ax.grid(True, axis="x")
        ax.set_axisbelow(True)
        for pos, row in zip(positions, rows.itertuples(index=False), strict=True):
            own = row.code == focus
            colour = ROLE_COLOURS["focus"] if own else ROLE_COLOURS["buren"]
            ax.hlines(pos, row.rank_p05, row.rank_p95, color=colour, linewidth=4 if own else 2)
            ax.plot(
                [row.median_rank],
                [pos],
                marker="D" if own else "o",
                markersize=9 if own else 6,
                color=colour,
                markeredgecolor="white",
                zorder=5,
            )
        ax.set_yticks(positions, list(rows["label"]))
        for tick, code in zip(ax.get_yticklabels(), rows["code"], strict=True):
            if code == focus:
                tick.set_fontweight("bold")
                tick.set_color(TEXT_COLOURS["tekst"])
        ax.set_xlim(0, n_ranked + 1)
        ax.xaxis.set_major_formatter(DutchFormatter())
        ax.set_xlabel(
            f"rang onder {fmt_number(n_ranked)} gemeenten (1 = hoogste score)\n"
            "punt = mediaan, lijn = 5–95%-interval",
            loc="left",
        )
        ax.tick_params(axis="y", length=0)
        ax.spines["left"].set_visible(False)
    parts = [
        f"Intervalgrafiek: {title}. Per gemeente de mediane rang (punt) en het 5–95%-interval "
        f"(lijn) uit {fmt_number(draws)} varianten van de index; rang 1 is de hoogste score van "
        f"{fmt_number(n_ranked)} gemeenten."
    ]
    for row in rows.itertuples(index=False):
        parts.append(
            f"{row.label}{' (deze gemeente)' if row.code == focus else ''}: mediaan "
            f"{fmt_number(row.median_rank)}, interval {fmt_number(row.rank_p05)}–"
            f"{fmt_number(row.rank_p95)}."
        )
    parts.append(source_line(tables) + ".")
    chart.alt = " ".join(parts)
    return chart


__all__ = [
    "MAP_COLOURS",
    "choropleth",
    "classify",
    "indicator_trend",
    "interval_chart",
    "map_area",
    "map_frame",
    "neighbour_bars",
    "rank_interval_chart",
    "trend_data",
]
