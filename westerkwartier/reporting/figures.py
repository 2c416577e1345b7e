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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from matplotlib import patheffects
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from westerkwartier.analysis.comparison import MIN_PEERS
from westerkwartier.indicators.dominance import WITHOUT, left_out, note_shares
from westerkwartier.reporting.charts import (
    ROLE_COLOURS,
    TEXT_COLOURS,
    Chart,
    DutchFormatter,
    bar_chart,
    freeze_layout,
    house_style,
    new_chart,
    source_line,
    top_note,
    trend_chart,
)
from westerkwartier.reporting.formatting import (
    decimals_for,
    fmt,
    fmt_interval,
    fmt_number,
    fmt_range,
    fmt_signed,
    unit_label,
    year_spans,
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
    codes = chosen["code"].tolist()
    rows = panel[(panel["indicator"] == indicator) & panel["region_code"].isin(codes)]
    # what pivot_table(aggfunc="first") gives (the first value of each year and region that
    # is not missing), in numpy: pivot_table cost about 10 ms a call, one to three a chart
    values = rows[column].to_numpy(dtype=float, na_value=np.nan)
    known = ~np.isnan(values)
    values = values[known]
    region = rows["region_code"].to_numpy(dtype=object)[known]
    years, row = np.unique(rows["year"].to_numpy()[known], return_inverse=True)
    table = np.full((len(years), len(codes)), np.nan)
    for j, code in enumerate(codes):
        here = region == code
        cells, first = np.unique(row[here], return_index=True)
        table[cells, j] = values[here][first]
    return pd.DataFrame(
        table, index=pd.Index(years.astype(int), name="year"), columns=list(chosen["label"])
    )


@dataclass(frozen=True)
class Dominance:
    """A municipality that dominates its province's figure of an indicator in some years.

    Attributes
    ----------
    municipality : str
        Its name.
    years : tuple of int
        The years asked about in which it dominates.
    hides_province : bool
        Whether a chart should leave out the province's line: the municipality dominates the
        last of the years asked about that have a province figure (the year the text compares
        with the province without it), or at least half of them. Otherwise the line stays and
        :meth:`sentence` names the years.
    latest : bool
        Whether it dominates the last of those years, the year the text compares with the
        province without it.
    shares : str
        Its shares in the last of those years, as the panel's note gives them ("31% van de
        verandering van de provincie, 7% van de banen"); empty when the note is missing.
    """

    municipality: str
    years: tuple[int, ...]
    hides_province: bool
    latest: bool = False
    shares: str = ""

    @property
    def hiding(self) -> str | None:
        """The municipality's name when the chart leaves the province out, else None."""
        return self.municipality if self.hides_province else None

    def sentence(self, what: str = "het provinciecijfer", *, capital: bool = True) -> str:
        """Say in which years this municipality coloured the province's ``what`` strongly.

        With its shares of the last of those years, so that the reader can weigh the claim:
        a quarter of the province's figure with three times its weight is enough
        (:mod:`westerkwartier.indicators.dominance`), which is not "mostly" (*grotendeels*).
        ``capital=False`` for a sentence that continues after a colon.

        Examples
        --------
        >>> Dominance("A", (2019,), False, shares="31% van X, 7% van Y").sentence("P")
        'In 2019 kleurde A P sterk (31% van X, 7% van Y).'
        >>> Dominance("A", (2016, 2017), False, shares="90% van X").sentence("P", capital=False)
        'in 2016-2017 kleurde A P sterk (in 2017: 90% van X).'
        """
        start = "In" if capital else "in"
        why = ""
        if self.shares:
            when = "" if len(self.years) == 1 else f"in {max(self.years)}: "
            why = f" ({when}{self.shares})"
        return f"{start} {year_spans(self.years)} kleurde {self.municipality} {what} sterk{why}."

    def without_line(
        self, province: str, what: str = "het provinciecijfer", compared: str = ""
    ) -> str:
        """Say why a chart has no line for ``province`` (its label: ``provincie Drenthe``).

        When the municipality dominates the last year, in the present tense and followed by
        ``compared`` (what the text compares with instead); otherwise the years.
        """
        said = (
            f"{self.municipality} kleurt {what} sterk{compared}."
            if self.latest
            else self.sentence(what, capital=False)
        )
        return f"Zonder lijn voor de {province}: {said}"


def province_dominance(data: ReportData, indicator: str, years: Iterable[Any]) -> Dominance | None:
    """Find the municipality that dominates the province's figure in any of ``years``.

    The panel holds a row "provincie ... zonder <gemeente>" for each year in which one
    municipality dominates the province's value of ``indicator`` (see
    :mod:`westerkwartier.indicators.dominance`); None when there is none. When several
    municipalities do so in different years, the one of the last such year counts.
    """
    province = data.region.province
    panel = data.indicator_panel(indicator)  # the rows of this indicator only
    if not province or "level" not in panel:
        return None
    asked = {int(y) for y in years}
    hit = panel[
        (panel["level"] == "provincie zonder gemeente")
        & panel["region_code"].astype(str).str.startswith(f"{province}-")
        & panel["year"].isin(asked)
    ].sort_values("year")
    if hit.empty:
        return None
    name = left_out(str(hit["region_name"].iloc[-1])) or ""
    own = hit[hit["region_name"].astype(str).str.endswith(f"{WITHOUT}{name}")]
    dominated = tuple(int(y) for y in own["year"])
    shares = note_shares(own["note"].iloc[-1]) if "note" in own else ""
    shown = panel.loc[
        (panel["region_code"] == province) & panel["value"].notna() & panel["year"].isin(asked),
        "year",
    ]
    last = int(shown.max()) if len(shown) else max(dominated)
    hides = last in dominated or 2 * len(dominated) >= max(len(shown), 1)
    return Dominance(name, dominated, hides, latest=last in dominated, shares=shares)


def indicator_trend(data: ReportData, indicator: str) -> Chart | None:
    """Draw one indicator over the years for the municipality, province and Nederland.

    Survey figures get a band with the municipality's 95% interval. A definition break declared
    in the catalogue (``breaks``) interrupts the lines.

    Returns
    -------
    Chart or None
        None when the municipality has fewer than two years with a value (the notebook then
        says so in words).
    """
    ind = data.catalogue[indicator]
    panel = data.indicator_panel(indicator)
    wide = trend_data(panel, indicator, data.regions)
    focus = data.region.name
    if focus not in wide.columns or wide[focus].notna().sum() < 2:
        return None
    wide = wide.loc[wide[focus].first_valid_index() :]
    tables = _sources(panel, indicator)
    survey = ind.margins_operand is not None
    dominance = province_dominance(data, indicator, wide.index)
    hides = dominance is not None and dominance.hides_province
    province: str | None = data.province_label
    if hides and province in wide.columns:
        # the text compares with the province without that municipality; a line of the whole
        # province would show what the text calls misleading
        wide = wide.drop(columns=[province])
        province = None
    title = (
        f"{ind.label_nl}: {focus}, {data.province_label} en Nederland"
        if province
        else f"{ind.label_nl}: {focus} en Nederland"
    )
    chart = trend_chart(
        wide,
        focus=focus,
        title=title,
        unit=ind.unit,
        tables=tables,
        decimals=decimals_for(ind.unit),
        province=province,
        country="Nederland",
        breaks=ind.breaks,
    )
    # said under the chart, not only in its alt text: a sighted reader misses the province's
    # line, or reads one whose figure in some years is mostly one municipality's
    if dominance is not None and hides:
        # the text's comparisons name "provincie ... zonder <gemeente>" themselves
        chart.note = dominance.without_line(data.province_label)
    elif dominance is not None and province in wide.columns:
        chart.note = dominance.sentence(f"het cijfer van de {data.province_label}")
    rebuilt = rebuilt_years(panel, indicator, data.region.code, boundary_start(data.region.code))
    rebuilt = [y for y in rebuilt if y in set(wide.index)]
    if rebuilt:
        with house_style():
            chart.ax.axvspan(
                min(rebuilt) - 0.5, max(rebuilt) + 0.5, color="#EEEEEE", zorder=0, linewidth=0
            )
            top_note(chart.ax, min(rebuilt) - 0.4, "opgebouwd uit\nde voorgangers")
        span = str(rebuilt[0]) if len(rebuilt) == 1 else f"{min(rebuilt)} tot en met {max(rebuilt)}"
        chart.alt += (
            f" {focus} {span}: opgebouwd uit de gemeenten waaruit {focus} ontstond of die erin "
            "opgingen (schatting; grijs vlak)."
        )
    if survey:
        lower = trend_data(panel, indicator, data.regions, column="lower")
        upper = trend_data(panel, indicator, data.regions, column="upper")
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
# Who comes and who leaves: flows between municipalities
# ----------------------------------------------------------------------------------------------
#: The two gross flows drawn side by side in :func:`flows_chart`.
FLOW_INDICATORS: tuple[str, str] = (
    "vestiging_andere_gemeente_per_1000",
    "vertrek_andere_gemeente_per_1000",
)

#: The balance of the two flows (arrivals minus departures): a province whose balance one
#: municipality dominates gets no line in :func:`flows_chart` either, since the gap between
#: its two lines is that balance.
BALANCE_INDICATOR: str = "binnenlands_migratiesaldo_per_1000"


def peer_label(n: int) -> str:
    """Legend label of the comparable municipalities' median."""
    return f"mediaan van {n} vergelijkbare gemeenten"


def _median_members(wide: pd.DataFrame, focus: str | None, peers: Sequence[str]) -> list[str]:
    """Return the comparable municipalities whose median :func:`flows_data` draws."""
    group = wide.reindex(columns=list(peers))
    if focus is not None and focus in wide.columns and wide[focus].notna().any():
        years = wide.index[wide[focus].notna()]
        for start in years:  # the longest stretch of the own line with enough steady peers
            span = group.loc[start : years.max()]
            steady = [p for p in peers if span[p].notna().all()]
            if len(steady) >= MIN_PEERS:
                return steady
    known = group.dropna(how="all")
    return [str(p) for p in known.columns[known.iloc[-1].notna()]] if len(known) else []


def _median_line(
    wide: pd.DataFrame, focus: str | None, peers: Sequence[str]
) -> tuple[list[str], pd.Series]:
    """Return the peers of the median line and the line (NaN where it is not drawn)."""
    members = _median_members(wide, focus, peers)
    group = wide.reindex(columns=members)
    complete = group.notna().all(axis=1) & (len(members) >= MIN_PEERS)
    return members, group.median(axis=1).where(complete)


def _wide(panel: pd.DataFrame, indicator: str) -> pd.DataFrame:
    rows = panel[panel["indicator"] == indicator]
    return rows.pivot_table(
        index="year", columns="region_code", values="value", aggfunc="first", dropna=False
    )


def flows_data(
    panel: pd.DataFrame,
    indicator: str,
    labels: dict[str, str],
    peers: Sequence[str] = (),
    focus: str | None = None,
) -> pd.DataFrame:
    """Return one flow per year for the municipality, benchmarks and comparable municipalities.

    Parameters
    ----------
    panel : pandas.DataFrame
        Tidy panel holding ``indicator`` for the regions of ``labels`` and ``peers``.
    indicator : str
        Indicator id.
    labels : dict of str to str
        Region code -> column label, in the order of the columns (the municipality first).
    peers : sequence of str
        Codes of comparable municipalities: their median per year becomes one column. It is
        the median of the same municipalities in every year, and only in the years in which
        each of them has a value. A median of three peers one year and five the next would
        jump with the group, not with the moves (the flows of a merged municipality start in
        the year of its merger). The group: the peers with a value in every year of the
        municipality's own line, or if fewer than :data:`MIN_PEERS`, of the longest last part
        of that line for which there are enough; without an own line, those with a value in
        the latest year.
    focus : str, optional
        Code of the municipality; default the first key of ``labels``.

    Returns
    -------
    pandas.DataFrame
        Index year; one column per labelled region and, with peers, ``mediaan van n
        vergelijkbare gemeenten``. Years in which no column has a value are dropped.

    Examples
    --------
    >>> p = pd.DataFrame({"indicator": "x", "year": 2023,
    ...     "region_code": ["GM1", "P1", "P2", "P3"], "value": [40.0, 30.0, 50.0, 60.0]})
    >>> flows_data(p, "x", {"GM1": "Ons"}, ["P1", "P2", "P3"]).iloc[0].tolist()
    [40.0, 50.0]
    >>> later = pd.DataFrame({"indicator": "x", "year": [2022, 2022, 2022, 2023, 2023, 2023],
    ...     "region_code": ["P1", "P2", "P3"] * 2, "value": [30.0, 50.0, None, 31, 52, 60]})
    >>> flows_data(later, "x", {}, ["P1", "P2", "P3"]).iloc[:, 0].to_dict()  # P3 from 2023
    {2023: 52.0}
    """
    wide = _wide(panel, indicator)
    out = wide.reindex(columns=list(labels)).rename(columns=labels)
    if peers:
        focus = focus if focus is not None else next(iter(labels), None)
        members, line = _median_line(wide, focus, peers)
        out[peer_label(len(members) or len(peers))] = line
    out = out.dropna(how="all")
    out.index = out.index.astype(int)
    return out.sort_index()


def peer_median(
    panel: pd.DataFrame,
    focus: str,
    peers: Sequence[str],
    indicators: Sequence[str] = FLOW_INDICATORS,
) -> tuple[list[str], list[int]]:
    """Return the municipalities in the peers' median of :func:`flows_data`, and its years.

    Examples
    --------
    >>> p = pd.DataFrame({"indicator": "x", "year": [2022] * 4 + [2023] * 4,
    ...     "region_code": ["GM1", "P1", "P2", "P3"] * 2,
    ...     "value": [None, 30.0, 50.0, None, 40.0, 31, 52, 60]})
    >>> peer_median(p, "GM1", ["P1", "P2", "P3"], ["x"])
    (['P1', 'P2', 'P3'], [2023])
    """
    members: list[str] = []
    years: set[int] = set()
    if not peers:
        return members, []
    for indicator in indicators:
        these, line = _median_line(_wide(panel, indicator), focus, peers)
        members = members or these
        years.update(int(y) for y in line.dropna().index)
    return members, sorted(years)


def boundary_year(panel: pd.DataFrame, indicator: str, code: str) -> int | None:
    """Return the first year on current boundaries when earlier years are missing for that reason.

    Examples
    --------
    >>> p = pd.DataFrame({"indicator": "x", "region_code": "GM1", "year": [2018, 2019],
    ...     "value": [float("nan"), 40.0],
    ...     "missing_reason": ["gemeente bestond nog niet (ontstaan in 2019)", None]})
    >>> boundary_year(p, "x", "GM1")
    2019
    """
    rows = panel[(panel["indicator"] == indicator) & (panel["region_code"] == code)]
    if "missing_reason" not in rows or rows.empty:
        return None
    reasons = rows["missing_reason"].fillna("").astype(str)
    broken = rows[
        reasons.str.startswith(("gemeentegrenzen gewijzigd", "gemeente bestond nog niet"))
    ]
    later = rows[rows["value"].notna()]
    if broken.empty or later.empty:
        return None
    after = later[later["year"] > broken["year"].max()]
    return int(after["year"].min()) if len(after) else None


def flows_chart(
    panel: pd.DataFrame,
    *,
    focus: str,
    labels: dict[str, str],
    peers: Sequence[str] = (),
    titles: Sequence[str] = ("Vestiging uit andere gemeenten", "Vertrek naar andere gemeenten"),
    indicators: Sequence[str] = FLOW_INDICATORS,
) -> Chart | None:
    """Arrivals from and departures to other municipalities per year, side by side.

    The municipality (thick blue), its province (vermilion, dashed), Nederland (black,
    dotted) and the median of comparable municipalities (grey) per 1 000 inhabitants. Where
    the municipality's boundaries changed, its lines start in the first year on the current
    boundaries and a vertical line marks that year.

    Parameters
    ----------
    panel : pandas.DataFrame
        Tidy panel with both flows for every region of ``labels`` and ``peers``.
    focus : str
        Code of the municipality (the first key of ``labels``).
    labels : dict of str to str
        Region code -> label: the municipality, the province (``provincie Groningen``) and
        Nederland, in that order.
    peers : sequence of str
        Codes of comparable municipalities.

    Returns
    -------
    Chart or None
        None when the municipality has no value for either flow.
    """
    frames = [flows_data(panel, ind, labels, peers) for ind in indicators]
    name = labels[focus]
    if all(name not in f.columns or f[name].notna().sum() == 0 for f in frames):
        return None
    tables = sorted({t for ind in indicators for t in _sources(panel, ind)}, key=str.lower)
    codes = list(labels)
    roles = {labels[codes[0]]: "focus"}
    for code in codes[1:]:
        roles[labels[code]] = "nederland" if code.startswith("NL") else "provincie"
    chart = new_chart(
        f"Wie komt en wie gaat: {name}",
        unit="per 1 000 inwoners",
        tables=tables,
        figsize=(7.6, 4.8),
    )
    fig = chart.figure
    with house_style():
        fig.delaxes(chart.ax)
        grid = fig.add_gridspec(2, 2, height_ratios=[6, 1])
        first = fig.add_subplot(grid[0, 0])
        axes = [first, fig.add_subplot(grid[0, 1], sharey=first)]
        axes[1].tick_params(labelleft=False)
        key = fig.add_subplot(grid[1, :])
        key.axis("off")
        top = max(float(np.nanmax(f.to_numpy(dtype=float))) for f in frames if f.size)
        starts = [boundary_year(panel, ind, focus) for ind in indicators]
        for ax, frame, title, start in zip(axes, frames, titles, starts, strict=True):
            ax.set_title(title, loc="left", y=1.0, fontsize=10, color=TEXT_COLOURS["tekst"])
            ax.yaxis.set_major_formatter(DutchFormatter())
            order = [c for c in frame.columns if c != name] + ([name] if name in frame else [])
            for column in order:
                if frame[column].isna().all():
                    continue  # no empty entry in the legend (a median without years)
                role = roles.get(column, "buren")
                ax.plot(
                    frame.index,
                    frame[column].to_numpy(dtype=float),
                    color=ROLE_COLOURS[role],
                    label=column,
                    marker="o" if role == "focus" else None,
                    markersize=3.5,
                    linewidth={"focus": 2.6, "buren": 1.4}.get(role, 1.6),
                    linestyle={"provincie": "--", "nederland": ":"}.get(role, "-"),
                    zorder=5 if role == "focus" else 3,
                )
            if start is not None:
                ax.axvline(start - 0.5, color=TEXT_COLOURS["gedempt"], linewidth=1, zorder=1)
                top_note(ax, start - 0.4, f"grenzen\n{start}")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=4))
        axes[0].set_ylim(0, top * 1.08 if top > 0 else 1.0)
        axes[0].set_ylabel(unit_label("per 1 000 inwoners"), loc="top")
        chart.ax = axes[0]
        handles, names = axes[0].get_legend_handles_labels()
        key.legend(handles[::-1], names[::-1], loc="center", ncol=2, frameon=False)
    chart.alt = _flows_alt(frames, titles, name, starts, tables)
    return chart


def _flows_alt(
    frames: Sequence[pd.DataFrame],
    titles: Sequence[str],
    name: str,
    starts: Sequence[int | None],
    tables: Sequence[str],
) -> str:
    parts = [
        f"Twee lijngrafieken naast elkaar, per 1.000 inwoners: wie komt en wie gaat in {name}."
    ]
    for frame, title, start in zip(frames, titles, starts, strict=True):
        bits = []
        for column in frame.columns:
            series = frame[column].dropna()
            if series.empty:
                continue
            first, last = series.index[0], series.index[-1]
            if first == last:  # a municipality formed in the last year has one point
                bits.append(f"{column} {fmt_number(series.iloc[-1], 1)} in {last}")
                continue
            bits.append(
                f"{column} van {fmt_number(series.iloc[0], 1)} in {first} naar "
                f"{fmt_number(series.iloc[-1], 1)} in {last}"
            )
        text = f"{title}: " + "; ".join(bits) + "."
        if start is not None:
            text += f" {name} pas vanaf {start}, het eerste jaar met de huidige gemeentegrenzen."
        parts.append(text)
    parts.append(source_line(list(tables)) + ".")
    return " ".join(parts)


def rebuilt_years(
    panel: pd.DataFrame, indicator: str, code: str, start: int | None = None
) -> list[int]:
    """Years in which a municipality's value was rebuilt from its predecessors (``schatting``).

    Parameters
    ----------
    panel : pandas.DataFrame
        Rows with ``indicator``, ``region_code``, ``year``, ``value`` and ``status``.
    indicator, code : str
        The indicator and the municipality.
    start : int, optional
        The municipality's first year on its current boundaries (:func:`boundary_start`).
        Estimates before it are rebuilt; those from it on are not, even when a change over
        several years still reaches back before it (a growth in the year of a merger is an
        estimate, on the boundaries of now). Without it, the estimates before the
        municipality's first own CBS figure count; a prognosis (also ``schatting``) after
        them does not.

    Examples
    --------
    >>> p = pd.DataFrame({"indicator": "x", "region_code": "GM1", "year": [2018, 2019],
    ...                   "value": [1.0, 2.0], "status": ["schatting", "definitief"]})
    >>> rebuilt_years(p, "x", "GM1")
    [2018]
    >>> p["status"] = "schatting"  # a change over two years: every value is an estimate
    >>> rebuilt_years(p, "x", "GM1", start=2019)
    [2018]
    """
    rows = panel[
        (panel["indicator"] == indicator) & (panel["region_code"] == code) & panel["value"].notna()
    ]
    if rows.empty or "status" not in rows:
        return []
    estimate = rows["status"].to_numpy(dtype=object) == "schatting"
    years = rows["year"].to_numpy()
    if start is not None:
        return sorted(int(y) for y in years[estimate & (years < start)])
    if estimate.all():
        return []
    first = years[~estimate].min()
    return sorted(int(y) for y in years[estimate & (years < first)])


def boundary_start(code: str) -> int | None:
    """Return the first year of a municipality on its current boundaries (None: no change).

    The year of its last boundary change, as the panel breaks its series there
    (:func:`westerkwartier.indicators.mergers.boundary_breaks`; a change of name alone counts
    too: the figures before it are those of the old code).

    Examples
    --------
    >>> boundary_start("GM1992"), boundary_start("GM0014"), boundary_start("GM0096")
    (2023, 2019, None)
    """
    from westerkwartier.sources.regions import load_registry

    return _boundary_starts(load_registry()).get(code)


@lru_cache(maxsize=2)
def _boundary_starts(registry: Any) -> dict[str, int]:
    from westerkwartier.indicators.mergers import boundary_breaks

    return boundary_breaks(registry.dissolved())


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
                err_lo.append(o.value - o.low)
                err_hi.append(o.high - o.value)
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
        # on the axes, just above the rows and ending at their right edge (it may reach over
        # the labels, never out of the picture): the layout puts the title above the key. A
        # figure legend "outside upper center" shared the top edge with the title and covered it.
        ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=3, frameon=False)
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
    rows = data.indicator_panel(indicator)
    pick = rows[rows["year"] == year]
    values = pick.set_index("region_code")["value"]
    labels = data.regions.set_index("code")["label"]
    series = pd.Series(
        {labels[c]: values.get(c, np.nan) for c in data.regions["code"]}, dtype="float64"
    )
    province = data.province_label
    # the province as the scorecard and the text compare with it: without the municipality
    # that dominates its figure this year (Westerwolde's domestic balance of 2023 made the
    # province's -21,3 per 1.000 where the rest of it had +5,6)
    other = row.province.other
    if other is not None and other.name and other.left_out and other.year == year:
        series = series.rename({province: other.name})
        series[other.name] = other.value
        province = other.name
    tables = _sources(pick, indicator)
    chart = bar_chart(
        series,
        focus=data.region.name,
        title=f"{ind.label_nl} in {year}: {data.region.name} en omgeving",
        unit=ind.unit,
        tables=tables,
        decimals=decimals_for(ind.unit),
        province=province,
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
        The map (SVG, or PNG when that is smaller than a large SVG) with a legend of
        Dutch-formatted classes, the municipality outlined in vermilion, municipalities
        without a figure hatched, and alt text naming the municipality's value, its rank and
        the extremes.
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
            span = fmt_range(edges[i], edges[i + 1], dec)
            handles.append(Patch(facecolor=MAP_COLOURS[i], edgecolor="#8C8C8C", label=span))
        if len(missing):
            handles.append(
                Patch(facecolor=MAP_MISSING, edgecolor="#8C8C8C", hatch="///", label="geen cijfer")
            )
        if focus is not None:
            handles.append(
                Patch(facecolor="none", edgecolor=MAP_FOCUS, linewidth=2.6, label=focus.name)
            )
        unit_text = unit_label(unit)
        # "Binnenlands verhuissaldo per 1.000 inwoners" needs no "(per 1.000 inwoners)"
        named = not unit_text or unit_text.lower() in label.lower()
        # on the axes, below the map: the layout then keeps the source line under the legend
        ax.legend(
            handles=handles,
            title=label if named else f"{label} ({unit_text})",
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
    ends = _map_ends(frame, _known_high_first(frame), unit, tables)
    return " ".join([f"Kaart: {title}; donkerder blauw is hoger.", *ends])


def _map_ends(frame: Any, known: Any, unit: str, tables: Sequence[str]) -> list[str]:
    """Return the end of a map's alt text: extremes, areas without a figure, the source.

    ``known`` holds the rows of ``frame`` with a value, highest first (:func:`_known_high_first`).
    """
    parts = []
    if len(known) == 1:  # an island's one wijk is not both the highest and the lowest
        parts.append(f"{known.iloc[0]['name']}: {fmt(known.iloc[0]['value'], unit)}.")
    elif len(known):
        top, low = known.iloc[0], known.iloc[-1]
        parts.append(
            f"Hoogste: {top['name']} ({fmt(top['value'], unit)}); laagste: {low['name']} "
            f"({fmt(low['value'], unit)})."
        )
    absent = frame[frame["value"].isna()]
    if len(absent):
        parts.append(f"Geen cijfer: {', '.join(absent['name'])}.")
    parts.append(source_line(list(tables)) + ".")
    return parts


def _known_high_first(frame: Any) -> Any:
    return frame[frame["value"].notna()].sort_values(["value", "code"], ascending=[False, True])


def _map_alt(
    frame: Any, region: Any, label: str, unit: str, year: int, where: str, tables: list[str]
) -> str:
    known = _known_high_first(frame)
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
    return " ".join([*parts, *_map_ends(frame, known, unit, tables)])


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
            wrap=True,  # it starts after the names of the rows and would run out of the picture
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


# ----------------------------------------------------------------------------------------------
# Wijken of one municipality
# ----------------------------------------------------------------------------------------------
#: Diverging ColorBrewer "PuOr" (colour-blind safe, readable in grey print): orange for a
#: certain loss, purple for a certain gain, darker = larger. Two loss and three gain classes.
WIJK_LOSS_COLOURS: tuple[str, ...] = ("#B35806", "#F1A340")
WIJK_GAIN_COLOURS: tuple[str, ...] = ("#D8DAEB", "#998EC3", "#542788")

#: A change within CBS's rounding: near-white with dots (told apart by pattern, not colour).
WIJK_UNCERTAIN: str = "#F7F7F7"

#: Edges between wijken and the municipal outline.
WIJK_EDGE: str = "#6E6E6E"


def _class_edges(values: pd.Series, k: int) -> list[float]:
    known = values.dropna()
    if known.empty:
        return []
    edges = sorted(set(np.quantile(known, np.linspace(0, 1, k + 1)).tolist()))
    return edges if len(edges) > 1 else edges * 2


def wijk_classes(frame: pd.DataFrame) -> tuple[pd.Series, list[dict[str, Any]]]:
    """Classify wijk changes: certain losses, within the rounding, certain gains, no figure.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per wijk with ``value`` and ``direction`` (``hoger``, ``lager``, ``onzeker``,
        ``gelijk`` or None for no figure).

    Returns
    -------
    classes, legend : pandas.Series, list of dict
        The class key of every wijk (``lager0``, ``lager1``, ``onzeker``, ``hoger0`` ...
        ``hoger2``, ``geen``) and the legend entries in order: ``key``, ``colour``, ``hatch``,
        ``low``, ``high`` (value range; None for the patterns).

    Examples
    --------
    >>> f = pd.DataFrame({"value": [-40.0, 5.0, 100.0, None],
    ...                   "direction": ["lager", "onzeker", "hoger", None]})
    >>> wijk_classes(f)[0].tolist()
    ['lager0', 'onzeker', 'hoger0', 'geen']
    """
    classes = pd.Series("geen", index=frame.index, dtype=object)
    legend: list[dict[str, Any]] = []
    direction = frame["direction"]
    for word, colours in (("lager", WIJK_LOSS_COLOURS), ("hoger", WIJK_GAIN_COLOURS)):
        values = frame.loc[direction == word, "value"].astype(float)
        # at least three wijken per class: two losses make one class, not two of one each
        edges = _class_edges(values, min(len(colours), max(1, len(values) // 3)))
        n = max(len(edges) - 1, 0)
        # losses run from the largest loss (darkest orange) up, gains from the smallest gain
        # (lightest purple) up; with fewer classes the palette keeps its darker end
        palette = colours[len(colours) - n :]
        for i in range(n):
            inner = values.index[(values >= edges[i]) & ((values < edges[i + 1]) | (i == n - 1))]
            classes[inner] = f"{word}{i}"
            legend.append(
                {
                    "key": f"{word}{i}",
                    "colour": palette[i],
                    "hatch": None,
                    "low": edges[i],
                    "high": edges[i + 1],
                }
            )
        if word == "lager":
            uncertain = frame.index[direction.isin(["onzeker", "gelijk"])]
            classes[uncertain] = "onzeker"
            if len(uncertain):
                legend.append(
                    {
                        "key": "onzeker",
                        "colour": WIJK_UNCERTAIN,
                        "hatch": "...",
                        "low": None,
                        "high": None,
                    }
                )
    if (classes == "geen").any():
        legend.append(
            {"key": "geen", "colour": MAP_MISSING, "hatch": "///", "low": None, "high": None}
        )
    return classes, legend


def _place_labels(chart: Chart, frame: gpd.GeoDataFrame, max_labels: int = 40) -> list[str]:
    """Write wijk labels where they fit inside their wijk without touching another label."""
    import shapely
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig, ax = chart.figure, chart.ax
    if not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    # the final layout, so that data and pixels are related: what a draw would settle (the
    # equal aspect, then the layout engine, then the aspect in the new box) without drawing
    # every outline; labels stay out of the layout, so the picture's own layout is the same
    ax.apply_aspect()
    # laid out once and frozen, as the picture will be: saving it then lays out nothing again
    freeze_layout(fig)
    ax.apply_aspect()
    to_data = ax.transData.inverted()
    placed: list[Any] = []
    shown: list[str] = []
    order = frame.assign(_area=frame.geometry.area).sort_values(
        ["_area", "code"], ascending=[False, True]
    )
    for row in order.itertuples():
        if len(shown) >= max_labels or row.geometry is None or row.geometry.is_empty:
            continue
        point = row.geometry.representative_point()
        text = ax.annotate(
            str(row.label),
            (point.x, point.y),
            ha="center",
            va="center",
            fontsize=9,
            color=TEXT_COLOURS["tekst"],
            path_effects=[patheffects.withStroke(linewidth=2.5, foreground="white")],
        )
        text.set_in_layout(False)
        for size in (9, 8):
            text.set_fontsize(size)
            extent = text.get_window_extent(renderer)
            (x0, y0), (x1, y1) = to_data.transform([[extent.x0, extent.y0], [extent.x1, extent.y1]])
            box = shapely.box(x0, y0, x1, y1)
            inside = box.intersection(row.geometry).area / box.area if box.area else 0.0
            clear = all(not box.intersects(other) for other in placed)
            if inside >= 0.8 and clear:
                placed.append(box.buffer((x1 - x0) * 0.05))
                shown.append(str(row.code))
                break
        else:
            text.remove()
    return shown


def _map_chart(title: str, source_text: str) -> Chart:
    """Make an empty map in the house style: map axes, a legend row below it, source line.

    The legend gets an axes of its own between the map and the source line, so the layout
    engine keeps the three apart: the legend never covers the source line.
    """
    from matplotlib.figure import Figure

    from westerkwartier.reporting.charts import DPI

    with house_style():
        fig = Figure(figsize=(7.0, 7.6), dpi=DPI, layout="constrained")
        engine: Any = fig.get_layout_engine()
        engine.set(h_pad=0.08, w_pad=0.08)
        grid = fig.add_gridspec(2, 1, height_ratios=[6.0, 1.0])
        ax = fig.add_subplot(grid[0])
        legend_ax = fig.add_subplot(grid[1])
        legend_ax.set_axis_off()
        fig.suptitle(title, x=0.01, ha="left", fontsize=13, fontweight="bold", wrap=True)
        fig.supxlabel(
            "\n".join(textwrap.wrap(source_text, width=90)),
            x=0.01,
            ha="left",
            fontsize=9,
            color=TEXT_COLOURS["gedempt"],
        )
    return Chart(figure=fig, ax=ax, alt="", raster=True)


def _outline(frame: gpd.GeoDataFrame) -> gpd.GeoSeries:
    """Outline of the union of the wijken, without the slivers between neighbouring wijken."""
    import geopandas as gpd
    import shapely

    union = shapely.union_all(frame.geometry.to_numpy()).buffer(25).buffer(-25)
    rings = [shapely.Polygon(p.exterior) for p in shapely.get_parts(union) if p.area > 0]
    return gpd.GeoSeries([shapely.MultiPolygon(rings).boundary], crs=frame.crs)


def wijk_map(
    frame: gpd.GeoDataFrame,
    *,
    title: str,
    legend_title: str,
    unit: str,
    source_text: str,
    alt_intro: str,
    decimals: int = 0,
    mode: str = "verandering",
) -> Chart:
    """Map the wijken of one municipality, coloured by one figure.

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        One row per wijk: ``code``, ``name``, ``label`` (short map label), ``value``,
        ``direction`` (for changes) and the polygon (RD New).
    title : str
        Chart title.
    legend_title : str
        Title above the legend (what the colours mean, with the unit).
    unit : str
        Reader unit of ``value`` (``aantal``, ``%``).
    source_text : str
        The line under the map, starting with ``Bron: CBS``.
    alt_intro : str
        First sentence of the alt text (what the map shows).
    decimals : int
        Decimals of the legend and alt text.
    mode : {"verandering", "niveau"}
        ``verandering``: diverging classes (:func:`wijk_classes`) where a change within the
        rounding is dotted and a missing one hatched; ``niveau``: sequential blue classes
        (:func:`classify`).

    Returns
    -------
    Chart
        Map with labels where they fit, legend below the map and above the source line, and
        alt text naming every wijk's value (the 5 highest and lowest for large cities).
    """
    frame = frame[frame.geometry.notna()].sort_values("code").reset_index(drop=True)
    chart = _map_chart(title, source_text)
    fig, ax = chart.figure, chart.ax
    handles: list[Patch] = []
    with house_style():
        ax.grid(False)
        ax.set_axis_off()
        if mode == "verandering":
            classes, legend = wijk_classes(frame)
            style = {e["key"]: e for e in legend}
            for key, entry in style.items():
                part = frame[classes == key]
                if len(part):
                    part.plot(
                        ax=ax,
                        color=entry["colour"],
                        edgecolor=WIJK_EDGE,
                        hatch=entry["hatch"],
                        linewidth=0.5,
                    )
            for entry in legend:
                if entry["key"] == "onzeker":
                    label = "verandering binnen de afronding van CBS"
                elif entry["key"] == "geen":
                    label = "geen vergelijking (grens of code gewijzigd)"
                else:
                    label = fmt_range(entry["low"], entry["high"], decimals, signed=True)
                handles.append(
                    Patch(
                        facecolor=entry["colour"],
                        edgecolor=WIJK_EDGE,
                        hatch=entry["hatch"],
                        label=label,
                    )
                )
        else:
            classes_n, edges = classify(frame["value"])
            known = frame[classes_n.notna()]
            missing = frame[classes_n.isna()]
            if len(known):
                known.plot(
                    ax=ax,
                    color=[MAP_COLOURS[int(k)] for k in classes_n.dropna()],
                    edgecolor=WIJK_EDGE,
                    linewidth=0.5,
                )
            if len(missing):
                missing.plot(
                    ax=ax, color=MAP_MISSING, edgecolor=WIJK_EDGE, hatch="///", linewidth=0.5
                )
            for i in range(max(len(edges) - 1, 0)):
                label = fmt_range(edges[i], edges[i + 1], decimals)
                handles.append(Patch(facecolor=MAP_COLOURS[i], edgecolor=WIJK_EDGE, label=label))
            if len(missing):
                handles.append(
                    Patch(
                        facecolor=MAP_MISSING, edgecolor=WIJK_EDGE, hatch="///", label="geen cijfer"
                    )
                )
        if len(frame):
            _outline(frame).plot(ax=ax, color=TEXT_COLOURS["tekst"], linewidth=1.2)
        ax.set_aspect("equal")
        legend_ax = fig.axes[1]
        legend_ax.legend(
            handles=handles,
            title=legend_title,
            loc="center",
            ncol=2,
            frameon=False,
            fontsize=9,
            title_fontsize=9,
        )
        shown = _place_labels(chart, frame)
    chart.alt = _wijk_alt(frame, alt_intro, unit, decimals, mode, source_text, shown)
    return chart


def _wijk_alt(
    frame: pd.DataFrame,
    intro: str,
    unit: str,
    decimals: int,
    mode: str,
    source_text: str,
    shown: Sequence[str],
) -> str:
    def value_text(v: float) -> str:
        text = fmt_signed(v, decimals) if mode == "verandering" else fmt_number(v, decimals)
        return text + ("%" if unit == "%" else "")

    parts = [intro.rstrip(".") + "."]
    known = frame[frame["value"].notna()].sort_values(["value", "code"], ascending=[False, True])
    items = [
        f"{name} {value_text(float(value))}"
        for name, value in zip(known["name"], known["value"], strict=True)
    ]
    if len(items) > 12:
        parts.append(
            f"Hoogste: {'; '.join(items[:5])}. Laagste: {'; '.join(items[-5:])}. "
            "De tabel onder de kaart noemt alle wijken."
        )
    elif items:
        parts.append("Van hoog naar laag: " + "; ".join(items) + ".")
    if mode == "verandering" and "direction" in frame:
        uncertain = known[known["direction"].isin(["onzeker", "gelijk"])]
        if len(uncertain):
            parts.append(
                f"{len(uncertain)} van de {len(frame)} wijken veranderden niet meer dan de "
                "afronding van CBS toelaat (gestippeld)."
            )
    absent = frame[frame["value"].isna()]
    if len(absent):
        parts.append(
            f"Geen cijfer (gearceerd): {len(absent)} {'wijk' if len(absent) == 1 else 'wijken'}."
        )
    parts.append(f"Namen op de kaart waar ze passen ({len(shown)} van de {len(frame)} wijken).")
    parts.append(source_text.rstrip(".") + ".")
    return " ".join(parts)


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
    "wijk_classes",
    "wijk_map",
]
