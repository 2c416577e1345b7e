"""Provinces and Nederland as the sum of their municipalities, where CBS publishes none.

Some CBS tables give municipalities only (Kerncijfers wijken en buurten, the 2025 download of
Regionale kerncijfers). For an additive count the province is then exactly the sum of its
municipalities, **provided every municipality of the province has a figure that year**: one
missing municipality would make the sum too low, so then no sum is made. Which municipalities
made up a province in a year comes from the divisions per year
(:func:`westerkwartier.sources.regions.load_divisions`); for a year without a known division no
sum is made either. The rows added carry the note :data:`SUM_NOTE` so that reports can say
"som van de gemeenten".
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from westerkwartier.indicators.catalogue import STATUSES
from westerkwartier.indicators.extraction import OBS_COLUMNS, SUM_NOTE
from westerkwartier.sources.regions import COUNTRY


def add_region_sums(
    obs: pd.DataFrame,
    divisions: pd.DataFrame | None,
    division: int | None = None,
) -> pd.DataFrame:
    """Add provinces and Nederland, summed from their municipalities, where ``obs`` lacks them.

    Parameters
    ----------
    obs : pandas.DataFrame
        Observations of one additive operand taken from one table (:data:`OBS_COLUMNS`).
    divisions : pandas.DataFrame or None
        ``year``, ``code``, ``province_code``: the municipalities of each year's division.
        None: nothing is added.
    division : int, optional
        The division the table gives every year on (a table such as 86087NED, "regio-indeling
        2024", has all years on the 2024 municipalities). Default: each year's own division.

    Returns
    -------
    pandas.DataFrame
        ``obs`` plus one row per province (and Nederland) and year that the table has no row
        for and whose municipalities all have a figure: value = the sum, status = the least
        certain status of the parts, note = :data:`SUM_NOTE`.

    Examples
    --------
    >>> obs = pd.DataFrame({"region_code": ["GM0001", "GM0002"], "year": [2024, 2024],
    ...     "value": [10.0, 5.0], "lower": np.nan, "upper": np.nan,
    ...     "status": "definitief", "source_table": "T", "note": None})
    >>> div = pd.DataFrame({"year": [2024, 2024], "code": ["GM0001", "GM0002"],
    ...                     "province_code": ["PV20", "PV20"]})
    >>> out = add_region_sums(obs, div)
    >>> out.loc[out["region_code"] == "PV20", "value"].item()
    15.0
    """
    if divisions is None or obs.empty or divisions.empty:
        return obs
    years = obs["year"].to_numpy()
    known_years = set(divisions["year"].astype(int))
    obs_years = [int(y) for y in pd.unique(years)]
    wanted_years = [y for y in obs_years if (division or y) in known_years]
    if not wanted_years:
        return obs
    provinces = sorted(set(divisions["province_code"]))
    is_total = obs["region_code"].isin([*provinces, COUNTRY]).to_numpy()
    regions = obs["region_code"].to_numpy(dtype=object)
    present = set(zip(regions[is_total], years[is_total].astype(int), strict=True))
    missing = [
        (code, y)
        for y in wanted_years
        for code in [*provinces, COUNTRY]
        if (code, y) not in present
    ]
    if not missing:
        return obs
    missing_years = sorted({y for _, y in missing})
    members = divisions[divisions["year"].isin([division or y for y in missing_years])]
    parts = []
    is_gm = pd.Series(regions, dtype=object).str.startswith("GM").to_numpy()
    gm = obs[is_gm]
    rank = {s: i for i, s in enumerate(STATUSES)}
    for y in missing_years:
        want = {code for code, year in missing if year == y}
        div = members[members["year"] == (division or y)]
        rows = gm[gm["year"] == y]
        values = dict(zip(rows["region_code"], rows["value"].astype(float), strict=True))
        lows = dict(zip(rows["region_code"], rows["lower"].astype(float), strict=True))
        highs = dict(zip(rows["region_code"], rows["upper"].astype(float), strict=True))
        status = dict(zip(rows["region_code"], rows["status"], strict=True))
        groups = {p: list(codes) for p, codes in div.groupby("province_code")["code"] if p in want}
        if COUNTRY in want:
            groups[COUNTRY] = list(div["code"])
        for region, codes in groups.items():
            got = [values.get(c, np.nan) for c in codes]
            if not codes or any(np.isnan(v) for v in got):
                continue  # one municipality without a figure: no sum
            worst = max((rank.get(str(status[c]), 0) for c in codes), default=0)
            bounded = any(not np.isnan(lows.get(c, np.nan)) for c in codes)
            low = sum(v if np.isnan(lows[c]) else lows[c] for c, v in zip(codes, got, strict=True))
            high = sum(
                v if np.isnan(highs[c]) else highs[c] for c, v in zip(codes, got, strict=True)
            )
            parts.append(
                {
                    "region_code": region,
                    "year": y,
                    "value": float(np.sum(got)),
                    "lower": float(low) if bounded else np.nan,
                    "upper": float(high) if bounded else np.nan,
                    "status": STATUSES[worst],
                    "source_table": str(rows["source_table"].iloc[0]),
                    "note": SUM_NOTE,
                }
            )
    if not parts:
        return obs
    added = pd.DataFrame(parts, columns=OBS_COLUMNS)
    added["region_code"] = added["region_code"].astype(object)
    added["status"] = added["status"].astype(object)
    added["source_table"] = added["source_table"].astype(object)
    added["note"] = added["note"].astype(object)
    return pd.concat([obs, added], ignore_index=True)
