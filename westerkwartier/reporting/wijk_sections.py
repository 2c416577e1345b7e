"""The report section "Wijken": which wijken of a municipality gained and lost young adults.

:func:`load_wijk_section` gathers everything the section shows for one municipality (the wijk
figures of :func:`westerkwartier.indicators.wijken.wijken`, a table sorted by the change in
25- to 45-year-olds, generated sentences); :func:`show_wijken` shows it in a notebook: text,
a map (or a sentence for a municipality with one or two wijken), the table and the method.
The HTML comes from the Jinja2 template ``templates/html/wijken.html.j2``, filled by the
reports' one template environment with autoescaping, so every name and number from the data
is escaped.

Every sentence is written from the same rows as the table beside it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import pandas as pd

from westerkwartier.indicators import wijken as wijk_indicators
from westerkwartier.reporting.formatting import (
    and_list,
    fmt_int,
    fmt_number,
    fmt_pct,
    fmt_signed,
)
from westerkwartier.reporting.html import template_environment
from westerkwartier.sources import wijken as wijk_source

#: A municipality with at most this many wijken gets sentences instead of a map.
MAX_WIJKEN_WITHOUT_MAP: int = 2

#: The age group the section is about (young adults) and the second one it mentions.
FOCUS_GROUP = "25_44"
SECOND_GROUP = "15_24"

#: Words for the age groups in sentences.
GROUP_WORDS: dict[str, str] = {"25_44": "25- tot 45-jarigen", "15_24": "15- tot 25-jarigen"}


@dataclass
class WijkRow:
    """One wijk (or the municipality) as the table shows it; every text already formatted."""

    code: str
    name: str
    label: str
    derived_name: bool
    inwoners: str
    focus_from_to: str
    focus_now: str
    focus_change: str
    focus_note: str
    second_change: str
    second_note: str
    share: str
    share_change: str
    households: str
    households_now: str
    note: str
    sort_value: float
    direction: str | None


@dataclass
class WijkSection:
    """Everything the section shows for one municipality.

    Attributes
    ----------
    code, name : str
        The municipality.
    frame : geopandas.GeoDataFrame
        :func:`westerkwartier.indicators.wijken.wijken` with the municipality's own rows.
    rows : list of WijkRow
        The wijken, sorted by the change in 25- to 45-year-olds (largest gain first; wijken
        without a change last).
    total : WijkRow
        The municipality itself (exact counts).
    sentences : list of str
        Two to four generated sentences.
    mode : str
        ``kaart`` (map of the change), ``kaart_niveau`` (no wijk comparable: map of the 2024
        share), ``zin`` (one or two wijken: no map).
    derived : list of str
        Names of wijken that CBS numbers only, with the buurten they are named after.
    n_comparable : int
        Wijken with a change since the first year.
    renumbered : int
        Of those, wijken compared under the code they had then (CBS gave them a new one).
    """

    code: str
    name: str
    frame: Any
    rows: list[WijkRow]
    total: WijkRow
    sentences: list[str]
    mode: str
    derived: list[str] = field(default_factory=list)
    n_comparable: int = 0
    renumbered: int = 0

    @property
    def n_wijken(self) -> int:
        """Number of wijken of the municipality (2024 division)."""
        return len(self.rows)


# ----------------------------------------------------------------------------------------------
# Building the section
# ----------------------------------------------------------------------------------------------
def _wide(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per area with value, low, high, direction and reason per indicator."""
    keyed = frame.assign(key=frame["indicator"] + "@" + frame["period"])
    out = keyed.pivot_table(
        index="code",
        columns="key",
        values=["value", "low", "high"],
        aggfunc="first",
        dropna=False,
    )
    out.columns = [f"{key[1]}:{key[0]}" for key in out.columns]
    for column in ("direction", "missing_reason"):
        extra = keyed.pivot(index="code", columns="key", values=column)
        extra.columns = [f"{k}:{column}" for k in extra.columns]
        out = out.join(extra)
    info = frame.drop_duplicates("code").set_index("code")[
        ["name", "label", "name_source", "level"]
    ]
    return info.join(out)


def _get(row: pd.Series, indicator: str, period: str, stat: str = "value") -> Any:
    value = row.get(f"{indicator}@{period}:{stat}")
    return None if value is None or (isinstance(value, float) and pd.isna(value)) else value


def _change_text(row: pd.Series, indicator: str) -> tuple[str, str]:
    period = wijk_indicators.CHANGE_PERIOD
    value = _get(row, indicator, period)
    if value is None:
        return "–", ""
    direction = _get(row, indicator, period, "direction")
    note = "binnen de afronding" if direction in ("onzeker", "gelijk") else ""
    return fmt_signed(float(value), 0), note


def _row(code: str, row: pd.Series) -> WijkRow:
    change = wijk_indicators.CHANGE_PERIOD
    year_from, year_to = str(wijk_indicators.FROM_YEAR), str(wijk_indicators.TO_YEAR)
    focus_then = _get(row, f"inwoners_{FOCUS_GROUP}", year_from)
    focus_now = _get(row, f"inwoners_{FOCUS_GROUP}", year_to)
    focus_change, focus_note = _change_text(row, f"verandering_{FOCUS_GROUP}")
    second_change, second_note = _change_text(row, f"verandering_{SECOND_GROUP}")
    reason = _get(row, f"verandering_{FOCUS_GROUP}", change, "missing_reason")
    from_to = (
        f"{fmt_int(focus_then)} → {fmt_int(focus_now)}"
        if focus_then is not None and focus_now is not None
        else (fmt_int(focus_now) + f" (in {year_to})" if focus_now is not None else "–")
    )
    share = _get(row, f"aandeel_{FOCUS_GROUP}", year_to)
    share_reason = _get(row, f"aandeel_{FOCUS_GROUP}", year_to, "missing_reason")
    share_change = _get(row, f"verandering_aandeel_{FOCUS_GROUP}", change)
    share_change_dir = _get(row, f"verandering_aandeel_{FOCUS_GROUP}", change, "direction")
    if share is None:
        share_text = "te klein" if share_reason else "–"
    else:
        share_text = fmt_pct(share)
    if share_change is None:
        share_change_text = "–"
    else:
        share_change_text = fmt_signed(float(share_change), 1) + " %-punt"
        if share_change_dir in ("onzeker", "gelijk"):
            share_change_text += " (onzeker)"
    hh_then = _get(row, "huishoudensgrootte", year_from)
    hh_now = _get(row, "huishoudensgrootte", year_to)
    households = (
        f"{fmt_number(hh_then, 1)} → {fmt_number(hh_now, 1)}"
        if hh_then is not None and hh_now is not None
        else (fmt_number(hh_now, 1) if hh_now is not None else "–")
    )
    value = _get(row, f"verandering_{FOCUS_GROUP}", change)
    return WijkRow(
        code=code,
        name=str(row["name"]),
        label=str(row["label"]),
        derived_name=row["name_source"] == "buurten",
        inwoners=fmt_int(_get(row, "inwoners", year_to)),
        focus_from_to=from_to,
        focus_now=fmt_int(focus_now) if focus_now is not None else "–",
        focus_change=focus_change,
        focus_note=focus_note,
        second_change=second_change,
        second_note=second_note,
        share=share_text,
        share_change=share_change_text,
        households=households,
        households_now=fmt_number(hh_now, 1) if hh_now is not None else "–",
        note=str(reason) if reason else "",
        sort_value=float(value) if value is not None else float("-inf"),
        direction=_get(row, f"verandering_{FOCUS_GROUP}", change, "direction"),
    )


def _sentences(name: str, wide: pd.DataFrame, rows: list[WijkRow], n_comparable: int) -> list[str]:
    change = wijk_indicators.CHANGE_PERIOD
    year_from, year_to = wijk_indicators.FROM_YEAR, wijk_indicators.TO_YEAR
    n = len(rows)
    out = []
    if n_comparable == n:
        out.append(
            f"{name} telt {n} wijken. Voor alle wijken is te zien hoe het aantal inwoners "
            f"veranderde tussen 1 januari {year_from} en 1 januari {year_to}."
        )
    elif n_comparable == 0:
        out.append(
            f"{name} telt {n} wijken. Voor geen enkele wijk is een verandering sinds {year_from} "
            f"te berekenen: de wijken van {year_to} beslaan andere gebieden dan die van "
            f"{year_from} (nieuwe wijkindeling of -nummering). De kaart toont daarom het aandeel "
            f"{GROUP_WORDS[FOCUS_GROUP]} in {year_to}."
        )
        return out
    else:
        other = n - n_comparable
        others = "de andere wijk" if other == 1 else f"de andere {other}"
        out.append(
            f"{name} telt {n} wijken. Voor {n_comparable} daarvan is te zien hoe het aantal "
            f"inwoners veranderde tussen 1 januari {year_from} en 1 januari {year_to}; bij "
            f"{others} veranderde de wijkgrens of de wijkcode (zie de tabel)."
        )
    wijken = wide[wide["level"] == "wijk"]
    for group in (FOCUS_GROUP, SECOND_GROUP):
        indicator = f"verandering_{group}"
        values = wijken[f"{indicator}@{change}:value"].astype(float)
        direction = wijken[f"{indicator}@{change}:direction"]
        then = wijken[f"inwoners_{group}@{year_from}:value"]
        now = wijken[f"inwoners_{group}@{year_to}:value"]
        words = GROUP_WORDS[group]
        gains = values[direction == "hoger"].sort_values(ascending=False, kind="stable")
        losses = values[direction == "lager"].sort_values(kind="stable")
        parts = []
        if len(gains):
            top = str(gains.index[0])
            parts.append(
                f"De meeste {words} kwamen erbij in {wijken.loc[top, 'name']!s}: "
                f"{fmt_signed(gains.iloc[0], 0)} "
                f"(van {fmt_int(then[top])} naar {fmt_int(now[top])})"
            )
        else:
            parts.append(f"In geen enkele wijk nam het aantal {words} zeker toe")
        if len(losses):
            low = str(losses.index[0])
            parts.append(
                f"het sterkst daalde het in {wijken.loc[low, 'name']!s}: "
                f"{fmt_signed(losses.iloc[0], 0)} "
                f"(van {fmt_int(then[low])} naar {fmt_int(now[low])})"
            )
        else:
            small = values[(direction != "hoger") & (values < 0)]
            if len(small):
                parts.append(
                    f"geen wijk verloor zeker {words}: de dalingen (hoogstens "
                    f"{fmt_int(-small.min())}) vallen binnen de afronding van CBS"
                )
            else:
                parts.append(f"geen wijk verloor {words}")
        sentence = "; ".join(parts) + "."
        out.append(sentence[0].upper() + sentence[1:])
    return out


def _single_sentences(name: str, wide: pd.DataFrame, rows: list[WijkRow]) -> list[str]:
    year_from, year_to = wijk_indicators.FROM_YEAR, wijk_indicators.TO_YEAR
    n = len(rows)
    if n == 1:
        r = rows[0]
        first = (
            f"{name} bestaat uit één wijk, {r.name}; een kaart per wijk voegt daarom niets toe "
            "aan de cijfers van de gemeente."
        )
    else:
        first = (
            f"{name} bestaat uit twee wijken, {rows[0].name} en {rows[1].name}; een kaart per "
            "wijk voegt weinig toe, de tabel hieronder geeft beide."
        )
    out = [first]
    words = GROUP_WORDS[FOCUS_GROUP]
    for r in rows:
        if r.focus_change == "–":
            out.append(f"In {r.name} is geen verandering te berekenen: {r.note}.")
            continue
        verdict = {
            "hoger": "nam toe",
            "lager": "nam af",
        }.get(r.direction or "", "veranderde niet meer dan de afronding van CBS toelaat")
        out.append(
            f"Het aantal {words} in {r.name} {verdict}: {r.focus_change} tussen 1 januari "
            f"{year_from} en 1 januari {year_to} ({r.focus_from_to})."
        )
    return out


def _derived(rows: list[WijkRow], wide: pd.DataFrame) -> list[str]:
    return [r.name for r in rows if r.derived_name]


@lru_cache(maxsize=16)
def _section_cached(code: str, snapshot_dir: str) -> WijkSection:
    frame = wijk_indicators.wijken(
        code, wijk_indicators.TO_YEAR, met_gemeente=True, met_beginjaar=True
    )
    wide = _wide(pd.DataFrame(frame.drop(columns="geometry")))
    name = str(frame.attrs["gemeentenaam"])
    wijken = wide[wide["level"] == "wijk"]
    rows = [_row(str(c), r) for c, r in wijken.iterrows()]
    rows.sort(key=lambda r: (-r.sort_value, r.code))
    total = _row(code, wide.loc[[code]].iloc[0]) if code in wide.index else None
    if total is not None:
        total.name = f"Heel {name}"
        total.note = "aantallen exact (niet afgerond)"
        summed = sorted(_names_of(frame.attrs.get("opgeteld", [])))
        if summed:
            total.note += f"; {wijk_indicators.FROM_YEAR}: {and_list(summed)} samen"
    n_comparable = sum(1 for r in rows if r.focus_change != "–")
    if len(rows) <= MAX_WIJKEN_WITHOUT_MAP:
        mode, sentences = "zin", _single_sentences(name, wide, rows)
    else:
        mode = "kaart" if n_comparable else "kaart_niveau"
        sentences = _sentences(name, wide, rows, n_comparable)
    return WijkSection(
        code=code,
        name=name,
        frame=frame,
        rows=rows,
        total=total,  # type: ignore[arg-type]
        sentences=sentences,
        mode=mode,
        derived=_derived(rows, wide),
        n_comparable=n_comparable,
        renumbered=len(frame.attrs.get("vernummerd", {})),
    )


def _names_of(codes: list[str]) -> list[str]:
    """Return the names of municipalities of 2020 (current or dissolved), by code."""
    from westerkwartier.sources.regions import load_registry

    registry = load_registry()
    old = registry.dissolved().set_index("code")["name"]
    return [str(old[c]) if c in old.index else registry.municipality(c).name for c in codes]


def load_wijk_section(gemeente: Any) -> WijkSection:
    """Gather the wijk section of a municipality.

    Parameters
    ----------
    gemeente : str or ReportData
        Name or CBS code of a municipality, or the report's data (its municipality is used).

    Returns
    -------
    WijkSection
        Rows, sentences and the frame behind them.
    """
    return _section_cached(*_section_key(gemeente))


def _section_key(gemeente: Any) -> tuple[str, str]:
    """Return the municipality's code and the snapshot folder: what a section is cached by."""
    from westerkwartier import settings
    from westerkwartier.sources.regions import load_registry

    region = getattr(gemeente, "region", None)
    code = region.code if region is not None else load_registry().municipality(gemeente).code
    return code, str(settings.snapshot_dir)


# ----------------------------------------------------------------------------------------------
# Rendering
# ----------------------------------------------------------------------------------------------
def _template() -> Any:
    return template_environment().get_template("wijken.html.j2").module


def _context(section: WijkSection) -> dict[str, Any]:
    return {
        "s": section,
        "jaar_van": wijk_indicators.FROM_YEAR,
        "jaar_tot": wijk_indicators.TO_YEAR,
        "groep": GROUP_WORDS[FOCUS_GROUP],
        "groep2": GROUP_WORDS[SECOND_GROUP],
        "tabellen": wijk_source.TABLE_OF_YEAR,
        "grenzen": wijk_source.BOUNDARY_ATTRIBUTION,
        "huishoudens_2024": wijk_source.SECONDARY_HOUSEHOLDS,
        "max_pp": fmt_number(wijk_indicators.MAX_SHARE_INTERVAL_PP, 0),
        "fout": wijk_indicators.ROUNDING_ERROR,
        "min_inwoners": wijk_indicators.MIN_INHABITANTS_FOR_SHARE,
        "tolerantie_ha": fmt_number(wijk_indicators.AREA_TOLERANCE_HA, 0),
        "tolerantie_pct": fmt_number(100 * wijk_indicators.AREA_TOLERANCE_REL, 0),
    }


def wijk_text(section: WijkSection, kort: bool = False) -> str:
    """Return the HTML of the section's opening: an h3 and the generated sentences."""
    from westerkwartier.reporting.sections import Html

    return Html(str(_template().tekst(_context(section), kort)))


def wijk_table(section: WijkSection, kort: bool = False) -> str:
    """Return the HTML table of the wijken (the short version: the first and last three)."""
    from westerkwartier.reporting.sections import Html

    return Html(str(_template().tabel(_context(section), kort)))


def wijk_method(section: WijkSection, kort: bool = False) -> str:
    """Return the HTML of how the wijk figures were made (rounding, comparability, names)."""
    from westerkwartier.reporting.sections import Html

    return Html(str(_template().methode(_context(section), kort)))


def source_text(section: WijkSection) -> str:
    """Return the source line under the map."""
    tables = " en ".join(f"{t} ({y})" for y, t in sorted(wijk_source.TABLE_OF_YEAR.items()))
    return f"{wijk_source.BOUNDARY_ATTRIBUTION}; Kerncijfers wijken en buurten, tabellen {tables}"


def wijk_chart(section: WijkSection) -> Any | None:
    """Return the map of the section, or None for a municipality without a map.

    Returns
    -------
    Chart or None
        The change in 25- to 45-year-olds per wijk (diverging classes), or the 2024 share
        where no wijk can be compared; None with one or two wijken.
    """
    from westerkwartier.reporting.figures import wijk_map

    if section.mode == "zin":
        return None
    frame = section.frame
    frame = frame[frame["level"] == "wijk"]
    year_from, year_to = wijk_indicators.FROM_YEAR, wijk_indicators.TO_YEAR
    words = GROUP_WORDS[FOCUS_GROUP]
    if section.mode == "kaart":
        data = frame[frame["indicator"] == f"verandering_{FOCUS_GROUP}"]
        return wijk_map(
            data,
            title=f"{section.name}: meer of minder {words} per wijk, {year_from}–{year_to}",
            legend_title=f"verandering van het aantal {words} (aantal personen)",
            unit="aantal",
            source_text=source_text(section),
            alt_intro=(
                f"Kaart: verandering van het aantal {words} per wijk van {section.name} tussen "
                f"1 januari {year_from} en 1 januari {year_to}; paars is meer, oranje is minder"
            ),
        )
    data = frame[(frame["indicator"] == f"aandeel_{FOCUS_GROUP}") & (frame["year"] == year_to)]
    return wijk_map(
        data,
        title=f"{section.name}: aandeel {words} per wijk op 1 januari {year_to}",
        legend_title=f"aandeel {words} (% van de inwoners)",
        unit="%",
        source_text=source_text(section),
        alt_intro=(
            f"Kaart: aandeel {words} per wijk van {section.name} op 1 januari {year_to}; "
            "donkerder blauw is hoger"
        ),
        decimals=1,
        mode="niveau",
    )


def show_wijken(data: Any, kort: bool = False) -> None:
    """Show the section "Wijken" in a notebook: text, map, table and method.

    Parameters
    ----------
    data : ReportData or str
        The report's data, or a municipality name or code.
    kort : bool
        The short version (map, sentences and the top and bottom of the table).
    """
    from IPython.display import display, publish_display_data

    key = _section_key(data)
    section = _section_cached(*key)
    display(wijk_text(section, kort))
    picture = _map_picture(*key)
    if picture is not None:
        outputs, metadata = picture
        publish_display_data(
            data=dict(outputs), metadata={mime: dict(m) for mime, m in metadata.items()}
        )
    display(wijk_table(section, kort))
    display(wijk_method(section, kort))


@lru_cache(maxsize=2)
def _map_picture(code: str, snapshot_dir: str) -> tuple[dict[str, str], dict[str, dict]] | None:
    """Return the section's map as notebook output (picture and alt text), or None.

    Both reports of a municipality show the same map, and one kernel often makes both (the
    ``report`` command, one after the other). Drawing it costs 0,1-0,2 s of CPU, so it is made
    once per municipality and snapshot, like the section itself.
    """
    from westerkwartier.reporting.charts import figure_mimebundle

    chart = wijk_chart(_section_cached(code, snapshot_dir))
    if chart is None:
        return None
    return figure_mimebundle(chart.figure, chart.alt, raster=chart.raster)


__all__ = [
    "WijkRow",
    "WijkSection",
    "load_wijk_section",
    "show_wijken",
    "source_text",
    "wijk_chart",
    "wijk_method",
    "wijk_table",
    "wijk_text",
]
