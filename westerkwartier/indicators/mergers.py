"""Municipal mergers: rebuild the years before a municipality existed from its predecessors.

:func:`load_mergers` reads the dissolved municipalities and their successors
(``config/herindelingen.toml``, shares of split predecessors in ``config/merger_shares.toml``);
:func:`rebuild_mergers` sums the predecessors' additive counts into the successor for the years
before the merger (rates go through their numerator and denominator) and marks the result as an
estimate (``schatting``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from westerkwartier.config import read_toml
from westerkwartier.indicators.catalogue import HERINDELINGEN_FILE, MERGER_SHARES_FILE, Operand
from westerkwartier.indicators.extraction import OBS_COLUMNS, _cell_keys

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
        (``;``-separated), as :meth:`westerkwartier.sources.regions.Registry.dissolved` gives.
        Default:
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
        raw = read_toml(path, what="het herindelingenbestand").data
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
    shares_raw = read_toml(spath, what="het bestand met aandelen van herindelingen").data
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
