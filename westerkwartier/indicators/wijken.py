"""Wijk indicators: inhabitants, age groups and households per wijk, and their change 2020-2024.

The figures come from the snapshot (:mod:`westerkwartier.sources.wijken`): Kerncijfers wijken
en buurten 2020 (84799NED, 2020 division) and 2024 (85984NED, 2024 division). The rules that
keep a wijk figure honest:

Rounding
    CBS rounds every count of a wijk at random to a multiple of 5, so the true count lies
    within :data:`ROUNDING_ERROR` of the published one (municipal counts are exact). Every
    value carries ``low`` and ``high``: the extreme values the rounding allows. A share is
    withheld when that interval is wider than :data:`MAX_SHARE_INTERVAL_PP` percentage points
    (and always below :data:`MIN_INHABITANTS_FOR_SHARE` inhabitants); a change is called
    ``hoger`` or ``lager`` only when its whole interval lies on one side of zero, else
    ``onzeker``.
Comparability
    A change 2020-2024 is computed only where the 2020 figure describes the same area: the wijk
    code exists in both years and the total *or* the land area published by CBS differs by at
    most max(:data:`AREA_TOLERANCE_HA`, :data:`AREA_TOLERANCE_REL`). CBS's own boundary-change
    flag compares with the previous year only and misses most changes between 2020 and 2024. A
    wijk that CBS gave a new code (Amsterdam renumbered its wijken in 2022; a municipality
    formed by a merger numbers its wijken anew) is compared with the wijk of 2020 of its own
    municipality, or of a municipality merged into it, that has the same name (without CBS's
    "Wijk NN") and the same area, when exactly one such wijk exists and no other wijk of 2024
    claims it (:func:`renumbered`); a code that CBS gave to a wijk of another name and area
    counts as new in 2024 and as gone from 2020. ``code_from`` records the 2020 code of every
    comparison. The only wijk of a municipality with one wijk in both years follows the
    municipality; a municipality is comparable unless the region registry records a merger
    between the two years (or its area moved by more than :data:`MUNICIPAL_AREA_TOLERANCE_REL`);
    one that took in only whole municipalities is compared with their sum
    (:func:`start_figures`). Otherwise the change is missing with the reason.
Division
    Every figure records the year of the division it is on (``division``): ``2020`` or
    ``2024`` for a level, ``2020-2024`` for a change (2020 figure on the 2020 division, 2024
    figure on the 2024 division, same area).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from westerkwartier import settings
from westerkwartier.errors import InputError, OutputNotWritable
from westerkwartier.sources import wijken as source

#: Largest distance between a published wijk count and the true count (random rounding to 5).
ROUNDING_ERROR: int = 4

#: A share is withheld when random rounding of its counts allows it to lie anywhere in an
#: interval wider than this many percentage points: the same 5-point limit the package uses
#: for counts CBS rounds to thousands. In practice this withholds the shares of wijken with
#: fewer than about 170-235 inhabitants.
MAX_SHARE_INTERVAL_PP: float = 5.0

#: CBS publishes no percentages for areas with fewer than 50 inhabitants; a published count
#: of 50 or less may hide fewer, so no share below this published count.
MIN_INHABITANTS_FOR_SHARE: int = 51

#: A wijk keeps the same area when its total or land area (whole hectares, from the two KWB
#: tables) differs by at most this many hectares or this fraction, whichever is larger. Up to
#: 1 % the population changes of such wijken look like those of wijken with identical areas.
AREA_TOLERANCE_HA: float = 1.0
AREA_TOLERANCE_REL: float = 0.01

#: A municipality's area may move this much (coastline, corrections) without a merger.
MUNICIPAL_AREA_TOLERANCE_REL: float = 0.05

#: Years of the change figures.
FROM_YEAR, TO_YEAR = source.YEARS[0], source.YEARS[-1]
CHANGE_PERIOD = f"{FROM_YEAR}-{TO_YEAR}"

#: Age groups: suffix of the indicator id -> (measure, label).
AGE_GROUPS: dict[str, tuple[str, str]] = {
    "0_14": ("leeftijd_0_14", "0 tot 15 jaar"),
    "15_24": ("leeftijd_15_24", "15 tot 25 jaar"),
    "25_44": ("leeftijd_25_44", "25 tot 45 jaar"),
    "45_64": ("leeftijd_45_64", "45 tot 65 jaar"),
    "65plus": ("leeftijd_65plus", "65 jaar of ouder"),
}

#: The indicator the report maps and sorts by: the change in the number of young adults.
MAP_INDICATOR = "verandering_25_44"

#: Why a wijk figure is missing (shown to readers).
MISSING_REASONS: dict[str, str] = {
    "suppressed": "geen cijfer van CBS (geheim of onbetrouwbaar)",
    "few_inhabitants": "te weinig inwoners: CBS publiceert geen aandelen onder 50 inwoners",
    "rounded_small": (
        "te kleine aantallen: CBS rondt wijkcijfers af op vijftallen, waardoor het aandeel "
        "meer dan 5 procentpunt kan verschuiven"
    ),
    "new_code": f"wijkcode bestond in {FROM_YEAR} nog niet (nieuwe of vernummerde wijk)",
    "new_municipality": (
        f"gemeente na {FROM_YEAR} ontstaan door herindeling; wijken opnieuw ingedeeld"
    ),
    "boundary_changed": f"wijkgrens gewijzigd tussen {FROM_YEAR} en {TO_YEAR}",
    "municipality_changed": (
        f"gemeentegrens gewijzigd tussen {FROM_YEAR} en {TO_YEAR} (herindeling)"
    ),
    "code_changed": f"wijkcode in {TO_YEAR} gewijzigd (CBS: indelingswijziging)",
    "summed_average": (
        f"gemiddelde: in {FROM_YEAR} niet op te tellen uit de gemeenten die samengingen"
    ),
}


@dataclass(frozen=True)
class WijkIndicator:
    """One wijk indicator: id, Dutch label, reader unit and decimals shown."""

    id: str
    label: str
    unit: str
    decimals: int
    change: bool = False


def _catalogue() -> dict[str, WijkIndicator]:
    items = [
        WijkIndicator("inwoners", "Inwoners", "aantal", 0),
        WijkIndicator("huishoudens", "Huishoudens", "aantal", 0),
        WijkIndicator("huishoudensgrootte", "Gemiddelde huishoudensgrootte", "personen", 1),
        WijkIndicator("bevolkingsdichtheid", "Bevolkingsdichtheid", "inwoners per km2", 0),
        WijkIndicator("inwoners_verandering", "Verandering inwoners", "aantal", 0, True),
        WijkIndicator("inwoners_verandering_pct", "Verandering inwoners", "%", 1, True),
        WijkIndicator(
            "verandering_huishoudensgrootte",
            "Verandering gemiddelde huishoudensgrootte",
            "personen",
            1,
            True,
        ),
    ]
    for suffix, (_, label) in AGE_GROUPS.items():
        items += [
            WijkIndicator(f"inwoners_{suffix}", f"Inwoners {label}", "aantal", 0),
            WijkIndicator(f"aandeel_{suffix}", f"Aandeel {label}", "%", 1),
            WijkIndicator(
                f"verandering_{suffix}", f"Verandering inwoners {label}", "aantal", 0, True
            ),
            WijkIndicator(
                f"verandering_aandeel_{suffix}", f"Verandering aandeel {label}", "%-punt", 1, True
            ),
        ]
    return {i.id: i for i in items}


#: Every wijk indicator by id.
INDICATORS: dict[str, WijkIndicator] = _catalogue()

#: Columns of the tidy indicator frame.
COLUMNS: tuple[str, ...] = (
    "code",
    "name",
    "year",
    "indicator",
    "value",
    "status",
    "level",
    "gemeente",
    "label",
    "name_source",
    "period",
    "division",
    "low",
    "high",
    "unit",
    "direction",
    "missing_reason",
    "source",
)


# ----------------------------------------------------------------------------------------------
# Comparability 2020 -> 2024
# ----------------------------------------------------------------------------------------------
def _merged_between(registry: Any | None) -> dict[str, list[str]]:
    """Municipality code -> predecessors dissolved between the two years (from the registry)."""
    if registry is None:
        return {}
    old = registry.dissolved()
    years = pd.to_numeric(old["dissolved_in"], errors="coerce")
    recent = old[(years > FROM_YEAR) & (years <= TO_YEAR)]
    out: dict[str, list[str]] = {}
    for code, successors in zip(recent["code"], recent["successor_codes"].fillna(""), strict=True):
        for successor in str(successors).split(";"):
            if successor:
                out.setdefault(successor, []).append(str(code))
    return out


def _whole_predecessors(registry: Any | None, code: str) -> list[str]:
    """Predecessors dissolved between the two years that went wholly into ``code``."""
    if registry is None:
        return []
    old = registry.dissolved()
    years = pd.to_numeric(old["dissolved_in"], errors="coerce")
    mask = (years > FROM_YEAR) & (years <= TO_YEAR) & (old["successor_codes"].fillna("") == code)
    return sorted(old.loc[mask, "code"].astype(str))


def _same_area(before: pd.Series, after: Any, rel: Any = AREA_TOLERANCE_REL) -> pd.Series:
    """Tell where an area of ``after`` hectares is the same as ``before`` (see the tolerances)."""
    return (after - before).abs() <= np.maximum(AREA_TOLERANCE_HA, rel * before)


#: CBS's number before the name of a wijk of 2020: "Wijk 04 Planetenwijk".
_WIJK_NUMBER = re.compile(r"^wijk \d+ ")


def plain_name(name: Any) -> str:
    """Return a wijk name as :func:`renumbered` compares it: no "Wijk NN", case or dashes.

    Examples
    --------
    >>> plain_name("Wijk 04 Planetenwijk"), plain_name("Slotervaart-Zuid")
    ('planetenwijk', 'slotervaart zuid')
    """
    text = re.sub(r"[\s\-]+", " ", str(name)).strip().casefold()
    return _WIJK_NUMBER.sub("", text)


def renumbered(
    then: pd.DataFrame, now: pd.DataFrame, merged: Mapping[str, Iterable[str]]
) -> pd.Series:
    """Find the wijk of 2020 that a wijk with a new code of 2024 is the same area as.

    A candidate is a wijk of 2020 whose code is gone in 2024, in the same municipality or in
    one merged into it (``merged``: municipality -> predecessors), with the same name
    (:func:`plain_name` of CBS's names) and the same total or land area (the tolerances of
    :func:`comparability`). A wijk of 2024 is matched only to its one candidate, and a wijk of
    2020 that two wijken of 2024 would claim is matched to neither.

    A code CBS gave to another wijk counts as new in 2024 and as gone from 2020: the wijken
    that hold it in the two years have neither the same name nor the same area (Druten's
    WK022501 was Puiflijk, 554 ha, in 2020 and is Druten, 348 ha, in 2024; Puiflijk is
    WK022505). Without its own code in both years such a wijk was never comparable.

    Parameters
    ----------
    then, now : pandas.DataFrame
        Stored statistics of 2020 and 2024 (all areas of each year), indexed by code:
        ``level``, ``gemeente``, ``cbs_name``, ``oppervlakte_totaal``, ``oppervlakte_land``.
    merged : mapping
        Predecessors dissolved between the two years, per municipality.

    Returns
    -------
    pandas.Series
        The 2020 code per 2024 code, for the wijken matched.
    """
    reused = _reused_codes(then, now)
    old = then[(then["level"] == "wijk") & (~then.index.isin(now.index) | then.index.isin(reused))]
    by_key: dict[tuple[str, str], list[str]] = {}
    for code, gemeente, name in zip(old.index, old["gemeente"], old["cbs_name"], strict=True):
        by_key.setdefault((str(gemeente), plain_name(name)), []).append(str(code))
    found: dict[str, str] = {}
    new = now[(now["level"] == "wijk") & (~now.index.isin(then.index) | now.index.isin(reused))]
    for code, row in new.iterrows():
        name = plain_name(row["cbs_name"])
        owners = [row["gemeente"], *merged.get(row["gemeente"], [])]
        codes = [c for owner in owners for c in by_key.get((owner, name), [])]
        if not codes:
            continue
        cand = old.loc[codes]
        same = _same_area(cand["oppervlakte_totaal"], row["oppervlakte_totaal"]) | _same_area(
            cand["oppervlakte_land"], row["oppervlakte_land"]
        )
        if int(same.sum()) == 1:
            found[str(code)] = str(cand.index[same.to_numpy()][0])
    out = pd.Series(found, dtype=object)
    return out[~out.duplicated(keep=False)]


def _reused_codes(then: pd.DataFrame, now: pd.DataFrame) -> pd.Index:
    """Wijk codes of both years whose wijken differ in name and in total and land area."""
    both = then.index[(then["level"] == "wijk")].intersection(now.index)
    a, b = then.loc[both], now.loc[both]
    renamed = a["cbs_name"].map(plain_name) != b["cbs_name"].map(plain_name)
    same = _same_area(a["oppervlakte_totaal"], b["oppervlakte_totaal"]) | _same_area(
        a["oppervlakte_land"], b["oppervlakte_land"]
    )
    return both[(renamed & ~same & (b["level"] == "wijk")).to_numpy()]


def _merged_wholly(
    then: pd.DataFrame,
    now: pd.DataFrame,
    merged: Mapping[str, list[str]],
    registry: Any | None,
) -> dict[str, list[str]]:
    """Municipalities of 2024 that are the sum of municipalities of 2020: code -> their codes.

    A municipality qualifies when every municipality merged into it since 2020 went into it
    whole (none was split), all of them (and itself, if it existed) have figures of 2020, and
    its total or land area equals the sum of theirs within
    :data:`MUNICIPAL_AREA_TOLERANCE_REL`. Municipal counts are exact, so the sum is too.
    """
    out: dict[str, list[str]] = {}
    for code, predecessors in merged.items():
        if code not in now.index or sorted(predecessors) != _whole_predecessors(registry, code):
            continue
        parts = ([code] if code in then.index else []) + sorted(predecessors)
        if not set(parts) <= set(then.index):
            continue
        before = then.loc[parts, ["oppervlakte_totaal", "oppervlakte_land"]].sum()
        after = now.loc[code]
        if any(
            abs(after[c] - before[c])
            <= max(AREA_TOLERANCE_HA, MUNICIPAL_AREA_TOLERANCE_REL * before[c])
            for c in ("oppervlakte_totaal", "oppervlakte_land")
        ):
            out[code] = parts
    return out


def comparability(stats: pd.DataFrame, registry: Any | None = None) -> pd.DataFrame:
    """Decide for every area of the later year whether its earlier figures describe it.

    Parameters
    ----------
    stats : pandas.DataFrame
        Stored statistics (:func:`westerkwartier.sources.wijken.statistics`).
    registry : westerkwartier.sources.regions.Registry, optional
        Region registry; municipal mergers between the years come from it.

    Returns
    -------
    pandas.DataFrame
        One row per municipality and wijk of the later year: ``code``, ``level``,
        ``gemeente``, ``code_from`` (the code of 2020 the area is compared with: its own, or
        the one before CBS renumbered it, see :func:`renumbered`; for a municipality that took
        in whole municipalities the codes of all, joined by ``+``; None if none),
        ``area_from``, ``area_to`` (ha), ``comparable`` and ``reason`` (None when comparable).
    """
    then = stats[stats["year"] == FROM_YEAR].set_index("code")
    now = stats[stats["year"] == TO_YEAR].set_index("code")
    out = pd.DataFrame(
        {"level": now["level"], "gemeente": now["gemeente"], "flag": now["flag"]},
        index=now.index,
    )
    in_before = now.index.isin(then.index)
    for column in ("oppervlakte_totaal", "oppervlakte_land"):
        out[f"{column}_from"] = then[column].reindex(now.index)
        out[f"{column}_to"] = now[column]
    is_gm = (out["level"] == "gemeente").to_numpy()
    rel = np.where(is_gm, MUNICIPAL_AREA_TOLERANCE_REL, AREA_TOLERANCE_REL)

    def same(column: str) -> pd.Series:
        return _same_area(out[f"{column}_from"], out[f"{column}_to"], rel)

    unchanged = same("oppervlakte_totaal") | same("oppervlakte_land")
    reason = pd.Series(None, index=out.index, dtype=object)
    moved = in_before & ~unchanged
    reason[moved & is_gm] = MISSING_REASONS["municipality_changed"]
    reason[moved & ~is_gm] = MISSING_REASONS["boundary_changed"]
    merged = _merged_between(registry)
    reason[is_gm & out.index.isin(list(merged))] = MISSING_REASONS["municipality_changed"]
    reason[in_before & (out["flag"] == "2")] = MISSING_REASONS["code_changed"]
    gm_before = set(then.loc[then["level"] == "gemeente"].index)
    reason[~in_before] = MISSING_REASONS["new_code"]
    reason[~in_before & ~out["gemeente"].isin(gm_before)] = MISSING_REASONS["new_municipality"]
    code_from = pd.Series(np.where(in_before, out.index, None), index=out.index, dtype=object)
    # a wijk with a new code that is an area of 2020 under its old code
    matched = renumbered(then, now, merged)
    reason[matched.index] = None
    code_from[matched.index] = matched
    # a municipality that took in whole municipalities is, in 2020, their sum
    area_from = then["oppervlakte_totaal"].reindex(code_from).to_numpy(copy=True)
    for code, parts in _merged_wholly(then, now, merged, registry).items():
        reason[code] = None
        code_from[code] = "+".join(parts)
        area_from[out.index.get_loc(code)] = then.loc[parts, "oppervlakte_totaal"].sum()
    # The only wijk of a municipality with one wijk in both years is the municipality itself.
    n_then = then[then["level"] == "wijk"].groupby("gemeente").size()
    n_now = now[now["level"] == "wijk"].groupby("gemeente").size()
    single = (
        ~is_gm
        & (out["gemeente"].map(n_then) == 1).to_numpy()
        & (out["gemeente"].map(n_now) == 1).to_numpy()
        & in_before
    )
    gm_reason = reason[is_gm]
    reason[single] = out.loc[single, "gemeente"].map(gm_reason).to_numpy()
    out["comparable"] = reason.isna()
    out["reason"] = reason
    out["code_from"] = code_from
    out["area_from"] = area_from
    out["area_to"] = out["oppervlakte_totaal_to"]
    return out.reset_index()[
        ["code", "level", "gemeente", "code_from", "area_from", "area_to", "comparable", "reason"]
    ]


#: Counts of an area that add up over the municipalities that merged (see :func:`start_figures`).
SUMMED: tuple[str, ...] = (
    "inwoners",
    "mannen",
    "vrouwen",
    *(measure for measure, _ in AGE_GROUPS.values()),
    "huishoudens",
    "oppervlakte_totaal",
    "oppervlakte_land",
)


def start_figures(stats: pd.DataFrame, comparable: pd.DataFrame) -> pd.DataFrame:
    """Return the statistics of 2020 of the comparable areas, under their code of 2024.

    A renumbered wijk's row of 2020 takes the code, municipality and names of 2024 (its
    division stays 2020), so that its figures of both years and its change share one code. A
    municipality that took in whole municipalities gets one row of 2020: the sums of their
    counts (:data:`SUMMED`); averages (household size, density) stay empty, and the column
    ``opgeteld`` marks the row.

    Parameters
    ----------
    stats : pandas.DataFrame
        Stored statistics (both years).
    comparable : pandas.DataFrame
        Output of :func:`comparability`.
    """
    pairs = comparable.loc[comparable["comparable"], ["code", "code_from"]].astype(str)
    summed = pairs["code_from"].str.contains("+", regex=False)
    year_then = stats[stats["year"] == FROM_YEAR]
    then = year_then[year_then["code"].isin(pairs.loc[~summed, "code_from"])]
    to_code = pairs[~summed].set_index("code_from")["code"]
    moved = then["code"].map(to_code).ne(then["code"]).to_numpy()
    now = stats[stats["year"] == TO_YEAR].set_index("code")
    if moved.any():
        then = then.copy()
        new_codes = then["code"].map(to_code)[moved]
        for column in ("gemeente", "cbs_name", "name", "label", "name_source"):
            then.loc[moved, column] = now[column].reindex(new_codes).to_numpy()
        then.loc[moved, "code"] = new_codes.to_numpy()
    if not summed.any():
        return then
    by_code = year_then.set_index("code")
    rows = []
    for code, parts in zip(pairs.loc[summed, "code"], pairs.loc[summed, "code_from"], strict=True):
        row = now.loc[code].copy()
        for column in SUMMED:
            row[column] = by_code.loc[parts.split("+"), column].sum(min_count=1)
        row["huishoudensgrootte"] = row["bevolkingsdichtheid"] = np.nan
        row["year"], row["division"] = FROM_YEAR, str(FROM_YEAR)
        row["source"] = row["source_huishoudens"] = (
            f"{source.TABLE_OF_YEAR[FROM_YEAR]} (som van {parts})"
        )
        row["opgeteld"] = True
        rows.append(row.rename(code))
    extra = pd.DataFrame(rows).rename_axis("code").reset_index()
    return pd.concat([then.assign(opgeteld=False), extra], ignore_index=True)


# ----------------------------------------------------------------------------------------------
# Values with intervals
# ----------------------------------------------------------------------------------------------
def _error(level: pd.Series) -> np.ndarray:
    return np.where(level.to_numpy() == "wijk", ROUNDING_ERROR, 0).astype(float)


def _count(values: pd.Series, error: np.ndarray) -> pd.DataFrame:
    v = values.astype(float)
    return pd.DataFrame({"value": v, "low": (v - error).clip(lower=0), "high": v + error})


def _share(part: pd.Series, total: pd.Series, error: np.ndarray) -> pd.DataFrame:
    part, total = part.astype(float), total.astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = 100 * part / total.where(total > 0)
        low = 100 * (part - error).clip(lower=0) / (total + error).where(total + error > 0)
        high = 100 * np.minimum((part + error) / (total - error).where(total - error > 0), 1.0)
    return pd.DataFrame({"value": value, "low": low, "high": high})


def _share_reason(total: pd.Series, interval: pd.DataFrame) -> pd.Series:
    reason = pd.Series(None, index=total.index, dtype=object)
    reason[(interval["high"] - interval["low"]) > MAX_SHARE_INTERVAL_PP] = MISSING_REASONS[
        "rounded_small"
    ]
    reason[total < MIN_INHABITANTS_FOR_SHARE] = MISSING_REASONS["few_inhabitants"]
    reason[total.isna()] = None
    return reason


def _difference(after: pd.DataFrame, before: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "value": after["value"] - before["value"],
            "low": after["low"] - before["high"],
            "high": after["high"] - before["low"],
        }
    )


def _direction(low: pd.Series, high: pd.Series) -> np.ndarray:
    out = np.full(len(low), "onzeker", dtype=object)
    out[(low > 0).to_numpy()] = "hoger"
    out[(high < 0).to_numpy()] = "lager"
    out[((low == 0) & (high == 0)).to_numpy()] = "gelijk"
    out[(low.isna() | high.isna()).to_numpy()] = None
    return out


class _Rows:
    """Collects indicator rows for one set of areas."""

    def __init__(self, areas: pd.DataFrame) -> None:
        self.areas = areas
        self.parts: list[pd.DataFrame] = []

    def add(
        self,
        indicator: str,
        year: int,
        period: str,
        vals: pd.DataFrame,
        source_text: pd.Series | str,
        reason: pd.Series | None = None,
    ) -> None:
        spec = INDICATORS[indicator]
        index = self.areas.index
        vals = vals.reindex(index)
        why = (
            reason.reindex(index)
            if reason is not None
            else pd.Series(None, index=index, dtype=object)
        )
        suppressed = pd.Series(MISSING_REASONS["suppressed"], index=index, dtype=object)
        why = why.where(why.notna(), suppressed.where(vals["value"].isna()))
        why = why.astype(object).where(why.notna(), None)
        withhold = why.notna().to_numpy()
        vals = vals.copy()
        vals.loc[withhold, ["value", "low", "high"]] = np.nan
        direction = (
            _direction(vals["low"], vals["high"]) if spec.change else np.full(len(index), None)
        )
        self.parts.append(
            pd.DataFrame(
                {
                    "code": index,
                    "name": self.areas["name"].to_numpy(),
                    "year": year,
                    "indicator": indicator,
                    "value": vals["value"].to_numpy(dtype=float),
                    "status": pd.Series("definitief", index=index, dtype=object)
                    .where(~withhold, None)
                    .to_numpy(),
                    "level": self.areas["level"].to_numpy(),
                    "gemeente": self.areas["gemeente"].to_numpy(),
                    "label": self.areas["label"].to_numpy(),
                    "name_source": self.areas["name_source"].to_numpy(),
                    "period": period,
                    "division": period,
                    "low": vals["low"].to_numpy(dtype=float),
                    "high": vals["high"].to_numpy(dtype=float),
                    "unit": spec.unit,
                    "direction": direction,
                    "missing_reason": why.to_numpy(),
                    "source": (
                        source_text.reindex(index).to_numpy()
                        if isinstance(source_text, pd.Series)
                        else source_text
                    ),
                }
            )
        )

    def frame(self) -> pd.DataFrame:
        if not self.parts:
            return pd.DataFrame(columns=list(COLUMNS))
        return pd.concat(self.parts, ignore_index=True)[list(COLUMNS)]


def _summed_reason(areas: pd.DataFrame) -> pd.Series:
    """Return why an average is missing in rows summed from merged municipalities (else None)."""
    summed = pd.Series(False, index=areas.index)
    if "opgeteld" in areas:
        summed = areas["opgeteld"].astype("boolean").fillna(False).astype(bool)
    reason = pd.Series(None, index=areas.index, dtype=object)
    return reason.where(~summed, MISSING_REASONS["summed_average"])


def level_indicators(stats: pd.DataFrame, year: int) -> pd.DataFrame:
    """Compute the indicators of one year on that year's own division.

    Parameters
    ----------
    stats : pandas.DataFrame
        Stored statistics, any selection of rows (only ``year`` is used).
    year : int
        2020 or 2024.

    Returns
    -------
    pandas.DataFrame
        Tidy rows (:data:`COLUMNS`): inhabitants, inhabitants and share per age group,
        households, household size and density.
    """
    areas = stats[stats["year"] == year].set_index("code")
    rows = _Rows(areas)
    error = _error(areas["level"])
    table = areas["source"]
    period = str(year)
    rows.add("inwoners", year, period, _count(areas["inwoners"], error), table)
    for suffix, (measure, _) in AGE_GROUPS.items():
        rows.add(f"inwoners_{suffix}", year, period, _count(areas[measure], error), table)
        share = _share(areas[measure], areas["inwoners"], error)
        rows.add(
            f"aandeel_{suffix}",
            year,
            period,
            share,
            table,
            _share_reason(areas["inwoners"], share),
        )
    rows.add(
        "huishoudens",
        year,
        period,
        _count(areas["huishoudens"], error),
        areas["source_huishoudens"],
    )
    size = areas["huishoudensgrootte"].astype(float)
    rows.add(
        "huishoudensgrootte",
        year,
        period,
        pd.DataFrame({"value": size, "low": size - 0.05, "high": size + 0.05}),
        areas["source_huishoudens"],
        _summed_reason(areas),
    )
    density = areas["bevolkingsdichtheid"].astype(float)
    rows.add(
        "bevolkingsdichtheid",
        year,
        period,
        pd.DataFrame({"value": density, "low": density - 0.5, "high": density + 0.5}),
        table,
        _summed_reason(areas),
    )
    return rows.frame()


def change_indicators(
    stats: pd.DataFrame, comparable: pd.DataFrame, start: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Compute the changes between the two years for every area of the later year.

    Parameters
    ----------
    stats : pandas.DataFrame
        Stored statistics (both years).
    comparable : pandas.DataFrame
        Output of :func:`comparability` (at least the areas wanted).
    start : pandas.DataFrame, optional
        ``start_figures(stats, comparable)`` when the caller already has it; computed here
        otherwise.

    Returns
    -------
    pandas.DataFrame
        Tidy rows (:data:`COLUMNS`) with ``period`` and ``division`` ``2020-2024``, ``year``
        2024; missing with the reason where the areas are not comparable.
    """
    now = stats[stats["year"] == TO_YEAR].set_index("code")
    now = now[now.index.isin(comparable["code"])]
    # the figures of 2020 of the same area, under its code of 2024 (:func:`start_figures`)
    if start is None:
        start = start_figures(stats, comparable)
    then = start.set_index("code").reindex(now.index)
    why = comparable.set_index("code")["reason"].reindex(now.index)
    rows = _Rows(now)
    error = _error(now["level"])
    table = f"{source.TABLE_OF_YEAR[FROM_YEAR]}+{source.TABLE_OF_YEAR[TO_YEAR]}"

    c_then, c_now = _count(then["inwoners"], error), _count(now["inwoners"], error)
    rows.add("inwoners_verandering", TO_YEAR, CHANGE_PERIOD, _difference(c_now, c_then), table, why)
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = pd.DataFrame(
            {
                "value": 100 * (c_now["value"] / c_then["value"].where(c_then["value"] > 0) - 1),
                "low": 100 * (c_now["low"] / c_then["high"].where(c_then["high"] > 0) - 1),
                "high": 100 * (c_now["high"] / c_then["low"].where(c_then["low"] > 0) - 1),
            }
        )
    rows.add("inwoners_verandering_pct", TO_YEAR, CHANGE_PERIOD, pct, table, why)
    for suffix, (measure, _) in AGE_GROUPS.items():
        a_then, a_now = _count(then[measure], error), _count(now[measure], error)
        rows.add(
            f"verandering_{suffix}", TO_YEAR, CHANGE_PERIOD, _difference(a_now, a_then), table, why
        )
        s_then = _share(then[measure], then["inwoners"], error)
        s_now = _share(now[measure], now["inwoners"], error)
        r_then, r_now = (
            _share_reason(then["inwoners"], s_then),
            _share_reason(now["inwoners"], s_now),
        )
        reason = why.where(why.notna(), r_now.where(r_now.notna(), r_then))
        rows.add(
            f"verandering_aandeel_{suffix}",
            TO_YEAR,
            CHANGE_PERIOD,
            _difference(s_now, s_then),
            table,
            reason,
        )
    size_then, size_now = (
        then["huishoudensgrootte"].astype(float),
        now["huishoudensgrootte"].astype(float),
    )
    sizes = _difference(
        pd.DataFrame({"value": size_now, "low": size_now - 0.05, "high": size_now + 0.05}),
        pd.DataFrame({"value": size_then, "low": size_then - 0.05, "high": size_then + 0.05}),
    )
    household_source = (then["source_huishoudens"] + "+" + now["source_huishoudens"]).fillna(
        now["source_huishoudens"]
    )
    rows.add(
        "verandering_huishoudensgrootte",
        TO_YEAR,
        CHANGE_PERIOD,
        sizes,
        household_source,
        why.where(why.notna(), _summed_reason(then)),
    )
    return rows.frame()


def wijk_indicators(
    stats: pd.DataFrame, registry: Any | None = None, gemeenten: Iterable[str] | None = None
) -> pd.DataFrame:
    """All wijk (and municipal) indicators of both years plus the changes.

    Parameters
    ----------
    stats : pandas.DataFrame
        Stored statistics.
    registry : Registry, optional
        For municipal mergers (see :func:`comparability`).
    gemeenten : iterable of str, optional
        Keep only these municipalities (GM codes; 2020 rows by their 2020 municipality).

    Returns
    -------
    pandas.DataFrame
        Tidy rows (:data:`COLUMNS`).
    """
    if gemeenten is not None:
        stats = stats[stats["gemeente"].isin(list(gemeenten))]
    comparable = comparability(stats, registry)
    return pd.concat(
        [
            level_indicators(stats, FROM_YEAR),
            level_indicators(stats, TO_YEAR),
            change_indicators(stats, comparable),
        ],
        ignore_index=True,
    )


# ----------------------------------------------------------------------------------------------
# The public function
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Country:
    """The 2024 wijk figures of every municipality, made once per data version (:func:`wijken`).

    ``start``: the 2020 figures of the areas that are the same in 2024 (under their code of
    2024, :func:`start_figures`); ``level``: the 2024 figures; ``change``: the changes;
    ``comparable``: :func:`comparability`. Each in the row order of one municipality's own
    computation (with the municipalities merged into it) once cut to that municipality: the
    indicators are computed per area, and a wijk is compared only with an area of its own
    municipality or of one merged into it.
    """

    start: pd.DataFrame
    level: pd.DataFrame
    change: pd.DataFrame
    comparable: pd.DataFrame


#: Where :func:`_country` keeps its frames in the cache folder, per data fingerprint.
COUNTRY_CACHE = ("wijken", "2024")


@lru_cache(maxsize=2)
def _country(snapshot_dir: str) -> _Country:
    """Return the country's 2024 wijk figures: from the cache folder, else computed and kept.

    Computing them takes about a second; reading them a tenth of that. The cache is keyed on
    the data fingerprint (snapshot, code and configuration), like the national panel.
    """
    from westerkwartier.indicators import panel_cache

    fingerprint = panel_cache.data_fingerprint()
    found = panel_cache.read_bundle(*COUNTRY_CACHE, fingerprint)
    if found is not None and set(found[0]) == set(_Country.__dataclass_fields__):
        return _Country(**found[0])
    with panel_cache.watch_copies(fingerprint):
        country = _compute_country()
    panel_cache.write_bundle(*COUNTRY_CACHE, dict(vars(country)), {}, fingerprint=fingerprint)
    return country


def _compute_country() -> _Country:
    from westerkwartier.sources.regions import load_registry

    stats = source.statistics()
    comparable = comparability(stats, load_registry())
    start = start_figures(stats, comparable)
    return _Country(
        start=level_indicators(start, FROM_YEAR),
        level=level_indicators(stats, TO_YEAR),
        change=change_indicators(stats, comparable, start),
        comparable=comparable,
    )


def _check_year(jaar: Any) -> int:
    try:
        year = int(jaar)
    except (TypeError, ValueError):
        year = None
    if year not in source.YEARS or isinstance(jaar, bool):
        years = " en ".join(str(y) for y in source.YEARS)
        raise InputError(
            f"Wijkcijfers zijn er voor {years} (Kerncijfers wijken en buurten); jaar {jaar!r} "
            f"is niet beschikbaar. Kies {' of '.join(str(y) for y in source.YEARS)}."
        )
    return year


def wijken(
    gemeente: str,
    jaar: int = TO_YEAR,
    *,
    met_gemeente: bool = False,
    met_beginjaar: bool = False,
) -> Any:
    """Return the wijk figures of a municipality as a tidy GeoDataFrame.

    Parameters
    ----------
    gemeente : str
        Name or CBS code of a current municipality (``"Westerkwartier"``, ``"GM1969"``).
    jaar : int, default 2024
        ``2024``: the wijken of the 2024 division with their 2024 figures and the changes
        since 2020 (``period`` ``2020-2024``; missing with the reason where a wijk's code or
        area changed). ``2020``: the wijken of the 2020 division with their 2020 figures; for a
        municipality formed after 2020 the wijken of the municipalities that went wholly into
        it.
    met_gemeente : bool, default False
        Add the municipality's own rows (``level == "gemeente"``, exact counts), with its
        outline as the union of its wijken. With ``jaar=2020`` these are the municipalities of
        2020 that make up today's; one whose area differs from today's has the union of its
        wijken's polygons, and none unless all of its wijken have one.
    met_beginjaar : bool, default False
        With ``jaar=2024``: add the 2020 figures of the areas that are the same in 2020
        (``year`` 2020, ``division`` 2020; a renumbered wijk under its code of 2024), the
        starting points of the changes.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per wijk and indicator (:data:`COLUMNS`): ``code``, ``name`` (numbered wijken
        named after their largest buurten, see ``name_source``), ``year``, ``indicator``,
        ``value``, ``status``, ``low``/``high`` (what CBS's rounding allows), ``unit``,
        ``direction`` (changes), ``missing_reason``, ``division`` and ``source``, plus the wijk
        polygon in RD New (EPSG:28992). Boundaries exist for the 2024 division only: with
        ``jaar=2020`` a wijk gets a polygon only when its area is the same in 2024.
        ``attrs`` holds ``gemeente``, ``jaar``, ``bron``, ``toelichting``, ``vernummerd``
        (the wijken compared under their code of 2020: code of 2024 -> code of 2020) and
        ``opgeteld`` (for a municipality that took in whole municipalities since 2020: the
        codes whose figures of 2020 were added up; else empty).

    Raises
    ------
    RegionNotFound, RegionDissolved, InputError
        Unknown or dissolved municipality, or a year without wijk figures.

    Examples
    --------
    >>> frame = wijken("Westerkwartier")
    >>> str(frame.crs), int(frame["year"].max())
    ('EPSG:28992', 2024)

    ``frame[frame["indicator"] == "verandering_25_44"].plot(column="value")`` draws the
    change of the 25-44-year-olds per wijk.
    """
    import geopandas as gpd
    import shapely

    from westerkwartier.sources.regions import load_registry

    year = _check_year(jaar)
    registry = load_registry()
    region = registry.municipality(gemeente)
    country = _country(str(settings.snapshot_dir))
    comparable = country.comparable[country.comparable["gemeente"] == region.code]
    if year == TO_YEAR:
        parts = [country.level, country.change]
        if met_beginjaar:
            parts.insert(0, country.start)
        frame = pd.concat(
            [part[part["gemeente"] == region.code] for part in parts], ignore_index=True
        )
    else:
        stats = source.statistics()
        owners = [region.code, *_whole_predecessors(registry, region.code)]
        selection = stats[(stats["year"] == FROM_YEAR) & stats["gemeente"].isin(owners)]
        frame = level_indicators(selection, FROM_YEAR)
    if not met_gemeente:
        frame = frame[frame["level"] == "wijk"]
    shapes = source.boundaries()
    shapes = shapes[shapes["gemeente"] == region.code].set_index("code").geometry
    if year == TO_YEAR:
        geometry = frame["code"].map(shapes).astype(object)
    else:  # a wijk of 2020 has the polygon of the wijk of 2024 that is the same area
        same = comparable[comparable["comparable"]].set_index("code_from")["code"]
        geometry = frame["code"].map(same).map(shapes).astype(object)
    geometry = geometry.where(geometry.notna(), None)
    if met_gemeente and len(shapes):
        outline = shapely.union_all(shapes.to_numpy())
        same = comparable.set_index("code")["code_from"].get(region.code) == region.code
        for code in set(frame.loc[frame["level"] == "gemeente", "code"]):
            rows = frame["code"] == code
            if year == TO_YEAR or (code == region.code and same):
                geometry[rows] = [outline] * int(rows.sum())
                continue
            # in 2020 a municipality other than today's: the union of its wijken, if all have one
            own = (frame["level"] == "wijk") & (frame["gemeente"] == code)
            parts = geometry[own].drop_duplicates()
            whole = bool(own.any()) and bool(parts.notna().all())
            union = shapely.union_all(parts.to_numpy()) if whole else None
            geometry[rows] = [union] * int(rows.sum())
    out = gpd.GeoDataFrame(
        frame.reset_index(drop=True),
        geometry=gpd.GeoSeries(geometry.to_numpy(), crs=source_crs()),
    )
    tables = " en ".join(
        f"{source.TABLE_OF_YEAR[y]} ({y})" for y in (source.YEARS if year == TO_YEAR else [year])
    )
    moved = comparable[comparable["comparable"] & (comparable["code"] != comparable["code_from"])]
    wijk = moved["level"] == "wijk"
    out.attrs.update(
        {
            "vernummerd": dict(
                zip(moved.loc[wijk, "code"], moved.loc[wijk, "code_from"], strict=True)
            ),
            "opgeteld": [c for f in moved.loc[~wijk, "code_from"] for c in str(f).split("+")],
            "gemeente": region.code,
            "gemeentenaam": region.name,
            "jaar": year,
            "bron": f"Bron: CBS, Kerncijfers wijken en buurten {tables}; wijkgrenzen: "
            f"{source.BOUNDARY_ATTRIBUTION.removeprefix('Bron: ')}",
            "toelichting": (
                "Aantallen van wijken zijn door CBS willekeurig afgerond op vijftallen; low/high "
                "geven de uitersten die de afronding toelaat. Wijkgrenzen zijn die van 2024"
                + (
                    "; een wijk van 2020 krijgt alleen een vorm als haar oppervlakte in 2024 "
                    "gelijk is."
                    if year == FROM_YEAR
                    else "."
                )
            ),
        }
    )
    return out


def source_crs() -> str:
    """Return the coordinate reference system of the wijk boundaries (RD New)."""
    from westerkwartier.sources.geo import CRS

    return CRS


# ----------------------------------------------------------------------------------------------
# Checks and exports
# ----------------------------------------------------------------------------------------------
def sum_check(
    stats: pd.DataFrame, year: int, measures: Iterable[str] | None = None
) -> pd.DataFrame:
    """Compare each municipality's published count with the sum of its wijken.

    The two never match exactly: each wijk count is rounded at random (so the sum may be off by
    up to :data:`ROUNDING_ERROR` per wijk), and persons without a known address in the
    municipality count for the municipality only (so the municipality may be higher).

    Returns
    -------
    pandas.DataFrame
        Per municipality and measure: ``gemeente_value``, ``wijken_sum``, ``difference``
        (municipality - wijken), ``n_wijken``, ``rounding_bound`` and ``within_rounding``.
    """
    measures = list(measures or [m for m in source.COUNT_MEASURES if m != "huishoudens"])
    rows = stats[stats["year"] == year]
    gm = rows[rows["level"] == "gemeente"].set_index("code")
    wk = rows[rows["level"] == "wijk"]
    parts = []
    for measure in measures:
        sums = wk.groupby("gemeente")[measure].agg(["sum", "size"])
        frame = pd.DataFrame({"gemeente_value": gm[measure]}).join(sums, how="inner")
        frame = frame.rename(columns={"sum": "wijken_sum", "size": "n_wijken"})
        frame["measure"] = measure
        parts.append(frame)
    out = pd.concat(parts).reset_index(names="gemeente")
    out["difference"] = out["gemeente_value"] - out["wijken_sum"]
    out["rounding_bound"] = ROUNDING_ERROR * out["n_wijken"]
    out["within_rounding"] = out["difference"].abs() <= out["rounding_bound"]
    return out


def to_wide(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per wijk with a column per indicator and period (for GIS and spreadsheets).

    Columns are named ``<indicator>_<period>`` (``verandering_25_44_2020-2024``); a missing
    figure is empty, and ``opmerking`` names why the changes are missing (if they are).
    """
    keys = ["code", "name", "label", "name_source", "level", "gemeente"]
    values = frame.pivot_table(
        index="code", columns=["indicator", "period"], values="value", aggfunc="first", dropna=False
    )
    values.columns = [f"{key[0]}_{key[1]}" for key in values.columns]
    order = [
        f"{i}_{p}" for i, p in dict.fromkeys(zip(frame["indicator"], frame["period"], strict=True))
    ]
    values = values[[c for c in order if c in values.columns]]
    info = frame.drop_duplicates("code").set_index("code")[keys[1:]]
    # why a wijk has no change figures at all (code or area changed); a withheld share has its
    # own empty cell
    changes = frame[frame["indicator"] == "inwoners_verandering"]
    note = changes.dropna(subset=["missing_reason"]).drop_duplicates("code").set_index("code")
    out = info.join(values)
    out["opmerking"] = note["missing_reason"].reindex(out.index) if len(note) else None
    out["bron"] = frame.attrs.get("bron", "Bron: CBS")
    out = out.reset_index()
    if "geometry" in frame:
        import geopandas as gpd

        shapes = frame.drop_duplicates("code").set_index("code").geometry
        out = gpd.GeoDataFrame(out, geometry=out["code"].map(shapes).to_numpy(), crs=frame.crs)
    return out


def write(frame: Any, path: Path | str) -> Path:
    """Write a :func:`wijken` frame to ``.csv``, ``.xlsx`` or ``.geojson``.

    CSV and Excel hold the tidy rows without geometry (CSV with ``;`` and a decimal comma, as
    Dutch Excel expects; Excel with a sheet naming the sources); GeoJSON holds one feature
    per wijk (:func:`to_wide`) in WGS84 (RFC 7946); a wijk without a 2024 boundary of the same
    area (only with ``jaar=2020``) is a feature with a null geometry.

    Raises
    ------
    InputError
        For another file extension.
    OutputNotWritable
        When the file cannot be written.
    """
    from westerkwartier.indicators import panel

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx", ".geojson"):
        raise InputError(
            f"Onbekend bestandstype {path.suffix or '(geen)'} voor {path.name}: kies .csv, .xlsx "
            "of .geojson."
        )
    tidy = pd.DataFrame(frame.drop(columns="geometry", errors="ignore"))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if suffix == ".csv":
            panel.to_csv(tidy, path)
        elif suffix == ".xlsx":
            about = pd.DataFrame(
                {
                    "toelichting": [
                        frame.attrs.get("bron", "Bron: CBS"),
                        frame.attrs.get("toelichting", ""),
                        "Lege cellen: geen cijfer; de kolom missing_reason zegt waarom.",
                        "division: het jaar van de wijkindeling waarop het cijfer staat.",
                    ]
                }
            )
            with pd.ExcelWriter(path, engine="xlsxwriter") as writer:
                tidy.to_excel(writer, sheet_name="Wijken", index=False)
                about.to_excel(writer, sheet_name="Bron", index=False)
        else:
            wide: Any = to_wide(frame)
            wide = wide.to_crs("EPSG:4326")  # a wijk without a shape keeps a null geometry
            if path.exists():
                path.unlink()
            wide.to_file(path, driver="GeoJSON")
    except (PermissionError, NotADirectoryError, IsADirectoryError, FileNotFoundError) as err:
        raise OutputNotWritable(path, err) from err
    return path


__all__ = [
    "AGE_GROUPS",
    "INDICATORS",
    "MAP_INDICATOR",
    "MAX_SHARE_INTERVAL_PP",
    "MISSING_REASONS",
    "ROUNDING_ERROR",
    "change_indicators",
    "comparability",
    "level_indicators",
    "sum_check",
    "to_wide",
    "wijk_indicators",
    "wijken",
    "write",
]
