"""Municipal mergers: rebuild the years before a municipality existed from its predecessors.

:func:`load_mergers` reads the dissolved municipalities and their successors
(``config/herindelingen.toml``, shares of split predecessors in ``config/merger_shares.toml``);
:func:`rebuild_mergers` sums the predecessors' additive counts into the successor for the years
before the merger (rates go through their numerator and denominator) and marks the result as an
estimate (``schatting``).

For indicators whose values must describe a municipality within its current boundaries
(``series_break = "boundary"`` in the catalogue), :func:`boundary_breaks` gives the year of each
municipality's last boundary change, also for a code that continued and took over (part of)
another municipality (Groningen, GM0014, absorbed Haren and Ten Boer in 2019), and
:func:`break_series` drops the figures of earlier years that describe another area and rebuilds
them only where that is defensible: additive counts (and rates through their base) from whole
predecessors or predecessors with a known share, the continuing municipality's own old figure
included. Gross flows between municipalities are not additive across a merger (moves between
the predecessors become internal), so their earlier years stay missing, with the reason.

A municipality that only changed its name gets a new CBS code, not a new area (De Friese Meren,
GM1921, formed in 2014, is De Fryske Marren, GM1940, since 1 July 2015). :func:`renamed_codes`
finds these; the mergers of the old code count as the new code's (it began in 2014, and a new
name is no boundary change), and :func:`relabel_renamed` gives the new code the old code's
figures of its current area as its own (CBS files 2015 under GM1921).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from westerkwartier.config import read_toml
from westerkwartier.indicators.catalogue import HERINDELINGEN_FILE, MERGER_SHARES_FILE, Operand
from westerkwartier.indicators.extraction import OBS_COLUMNS, _cell_keys

# -- mergers ------------------------------------------------------------------------------------
MERGER_COLUMNS = ["successor", "predecessor", "share", "start_year"]


def _merger_rows(
    dissolved: pd.DataFrame | None = None,
    shares_path: Path | str | None = None,
    herindelingen_path: Path | str | None = None,
) -> pd.DataFrame:
    """Every (successor, predecessor) pair with its share (NaN when a split has no share)."""
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
    renamed = renamed_codes(dissolved)
    rows = []
    for code, year, text in zip(
        dissolved["code"], dissolved["dissolved_in"], dissolved["successor_codes"], strict=True
    ):
        if pd.isna(year) or pd.isna(text) or not text:
            continue
        successors = [c for c in str(text).split(";") if c]
        for successor in successors:
            if len(successors) == 1:
                share: float | None = 1.0
            else:
                share = shares.get((successor, str(code)))
            rows.append(
                {
                    # a merger into a code that was renamed later is a merger into its new code
                    "successor": current_code(successor, renamed),
                    "predecessor": str(code),
                    "share": share,
                    "start_year": int(year),
                    "renamed": str(code) in renamed,
                }
            )
    return pd.DataFrame(rows, columns=[*MERGER_COLUMNS, "renamed"])


def renamed_codes(dissolved: pd.DataFrame | None) -> dict[str, str]:
    """Return old code -> new code of the municipalities that only changed their name.

    From the registry's ``change`` (:data:`westerkwartier.sources.regions.RENAMED`); a frame
    without it (``config/herindelingen.toml``) has none.

    Examples
    --------
    >>> dissolved = pd.DataFrame({"code": ["GM1921", "GM0053"], "dissolved_in": [2015, 2019],
    ...     "successor_codes": ["GM1940", "GM1966;GM1969"], "change": ["naamswijziging", None]})
    >>> renamed_codes(dissolved)
    {'GM1921': 'GM1940'}
    """
    from westerkwartier.sources.regions import RENAMED

    if dissolved is None or "change" not in dissolved.columns:
        return {}
    out = {}
    for code, change, text in zip(
        dissolved["code"], dissolved["change"], dissolved["successor_codes"], strict=True
    ):
        successors = [c for c in str(text).split(";") if c] if pd.notna(text) else []
        if isinstance(change, str) and change == RENAMED and len(successors) == 1:
            out[str(code)] = successors[0]
    return out


def current_code(code: str, renamed: Mapping[str, str]) -> str:
    """Return the code a municipality has now, after every change of name.

    Examples
    --------
    >>> current_code("GM1921", {"GM1921": "GM1940"}), current_code("GM0014", {})
    ('GM1940', 'GM0014')
    """
    seen = {code}
    while code in renamed and renamed[code] not in seen:
        code = renamed[code]
        seen.add(code)
    return code


def rename_spans(dissolved: pd.DataFrame | None) -> list[tuple[str, str, int | None]]:
    """Return (old code, current code, first year) of each municipality that changed its name.

    The old code's figures from ``first year`` on describe the current code's area: the year of
    the old code's own last boundary change (De Friese Meren: 2014, when it was formed;
    Groesbeek, enlarged in 2015 and Berg en Dal since 2016: 2015), None when its area never
    changed (all its figures count).
    """
    renamed = renamed_codes(dissolved)
    if not renamed:
        return []
    rows = _merger_rows(dissolved)
    changes = rows[~rows["renamed"].astype(bool)].groupby("successor")["start_year"].max()
    return [
        (old, current_code(new, renamed), _int_or_none(changes.get(current_code(new, renamed))))
        for old, new in renamed.items()
    ]


def _int_or_none(value: object) -> int | None:
    return None if value is None or pd.isna(value) else int(value)  # type: ignore[call-overload]


def relabel_renamed(obs: pd.DataFrame, spans: list[tuple[str, str, int | None]]) -> pd.DataFrame:
    """Give a renamed municipality its figures filed under its old code.

    Rows of an old code (from the year its area became the current one, see
    :func:`rename_spans`) become rows of the current code where that code has no figure of
    its own for the year; status and source stay (the same area, no estimate).

    Examples
    --------
    >>> obs = pd.DataFrame({"region_code": ["GM1921", "GM1921", "GM1940"],
    ...     "year": [2014, 2015, 2016], "value": [1.0, 2.0, 3.0]})
    >>> relabel_renamed(obs, [("GM1921", "GM1940", 2014)])[["region_code", "year", "value"]]
      region_code  year  value
    0      GM1940  2016    3.0
    1      GM1940  2014    1.0
    2      GM1940  2015    2.0
    """
    if not spans or obs.empty:
        return obs
    # only the rows of the codes concerned are looked at (a few dozen of a national operand)
    involved = {old for old, _, _ in spans} | {new for _, new, _ in spans}
    at = np.flatnonzero(obs["region_code"].isin(involved).to_numpy())
    if not len(at):
        return obs
    codes = obs["region_code"].to_numpy(dtype=object)[at]
    years = obs["year"].to_numpy()[at]
    has = ~np.isnan(obs["value"].to_numpy(dtype=float)[at])
    taken = np.zeros(len(at), dtype=bool)
    new_codes = codes.copy()
    for old, new, first in spans:
        rows = (codes == old) & has
        if not rows.any():  # most spans concern none of this operand's rows
            continue
        own = set(years[(codes == new) & has].tolist())
        rows &= ~np.isin(years, list(own))
        if first is not None:
            rows &= years >= first
        taken |= rows
        new_codes[rows] = new
    if not taken.any():
        return obs
    filled = set(zip(new_codes[taken].tolist(), years[taken].tolist(), strict=True))
    # an empty row of the current code for a year that now has a figure goes
    empty = np.array([(c, y) in filled for c, y in zip(codes, years.tolist(), strict=True)])
    drop = np.zeros(len(obs), dtype=bool)
    drop[at[taken | empty]] = True
    moved = obs.iloc[at[taken]].assign(
        region_code=pd.Series(new_codes[taken], index=obs.index[at[taken]], dtype=object)
    )
    return pd.concat([obs[~drop], moved], ignore_index=True)


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
        Default: read ``config/herindelingen.toml`` (``[opgeheven.<code>]`` with ``jaar``,
        ``opvolger`` and ``opvolgers``).
    shares_path : Path or str, optional
        The address shares of split municipalities (default ``config/merger_shares.toml``).

    Notes
    -----
    A predecessor with one successor counts in full (share 1). A predecessor split over several
    successors needs a share in ``merger_shares.toml`` for the successor; without one, that
    successor is left out altogether when the split is its latest boundary change (no partial
    sums). A split without a share in an older change (Groningen got part of Hoogkerk's
    neighbour in 1998) stays in as a row with share NaN: the years after it can be rebuilt,
    the years before it cannot (:func:`rebuild_mergers` then finds a predecessor missing).
    """
    out = _merger_rows(dissolved, shares_path, herindelingen_path)[MERGER_COLUMNS]
    if out.empty:
        return out
    latest = out.groupby("successor")["start_year"].transform("max")
    unknown = (
        (out["share"].isna() & (out["start_year"] == latest))
        .groupby(out["successor"])
        .transform("any")
    )
    return out[~unknown].astype({"share": float}).reset_index(drop=True)


def boundary_breaks(
    dissolved: pd.DataFrame | None = None,
    shares_path: Path | str | None = None,
    herindelingen_path: Path | str | None = None,
) -> dict[str, int]:
    """Return, per municipality whose area changed, the year of its last boundary change.

    Every municipality that received (part of) a dissolved municipality counts, whether it is
    a new code (Westerkwartier, 2019), a code that continued (Groningen, 2019) or one that got
    part of a split municipality without a known share (Súdwest-Fryslân, 2018). Parameters as
    :func:`load_mergers`.

    Examples
    --------
    >>> dissolved = pd.DataFrame({"code": ["GM0017"], "dissolved_in": [2019],
    ...                           "successor_codes": ["GM0014"]})
    >>> boundary_breaks(dissolved)
    {'GM0014': 2019}
    """
    rows = _merger_rows(dissolved, shares_path, herindelingen_path)
    rows = rows[~rows["renamed"].astype(bool)]  # a new name is no new area
    if rows.empty:
        return {}
    last = rows.groupby("successor")["start_year"].max()
    return {str(k): int(v) for k, v in last.items()}


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
        figure). Its bounds are the sums of the predecessors' rounding bounds (none where no
        predecessor has any).
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
    obs_lower = obs["lower"].to_numpy(dtype=float)
    obs_upper = obs["upper"].to_numpy(dtype=float)
    if operand.additive:
        num, den = share * value, np.ones(len(left))
    else:
        if weights is None:
            raise ValueError(f"rebuild_mergers: the weight {operand.weight!r} was not given")
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
    # the rounding interval of the sum: the sum of the parts' bounds (a part without one: exact)
    has_bounds = ~np.isnan(obs_lower[left])
    weight = np.where(np.isnan(den), 0.0, den) if not operand.additive else share
    low_part = weight * np.where(has_bounds, obs_lower[left], value)
    high_part = weight * np.where(has_bounds, obs_upper[left], value)
    text = {"dtype": object, "copy": False}  # plain object columns: no string inference
    # group by (successor, year) with numpy: sums of num/den (NaN when no value), count of
    # values, and the source table of the first row of each group
    succ_codes, succ_names = pd.factorize(mergers["successor"].to_numpy(dtype=object)[right])
    year_codes, year_values = pd.factorize(year)
    group = succ_codes.astype(np.int64) * len(year_values) + year_codes
    cells, first_row, inverse = np.unique(group, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    n_cells = len(cells)
    has = ~np.isnan(num)
    valid = np.bincount(inverse, weights=has.astype(float), minlength=n_cells).astype(int)
    num_sum = np.bincount(inverse, weights=np.where(has, num, 0.0), minlength=n_cells)
    den_ok = ~np.isnan(den)
    den_sum = np.bincount(inverse, weights=np.where(den_ok, den, 0.0), minlength=n_cells)
    den_sum[np.bincount(inverse, weights=den_ok.astype(float), minlength=n_cells) == 0] = np.nan
    num_sum[valid == 0] = np.nan
    low_sum = np.bincount(inverse, weights=np.where(has, low_part, 0.0), minlength=n_cells)
    high_sum = np.bincount(inverse, weights=np.where(has, high_part, 0.0), minlength=n_cells)
    bounded = np.bincount(inverse, weights=(has & has_bounds).astype(float), minlength=n_cells) > 0
    successor = np.asarray(succ_names, dtype=object)[cells // len(year_values)]
    cell_year = np.asarray(year_values)[cells % len(year_values)]
    source = obs["source_table"].to_numpy(dtype=object)[left][first_row]
    # a year needs every predecessor that merged after it (older mergers are in the figures)
    complete = valid == _needed(mergers, successor, cell_year)
    num, den = num_sum[complete], den_sum[complete]
    n_rebuilt = int(complete.sum())
    scale = np.ones(n_rebuilt) if operand.additive else den
    with np.errstate(divide="ignore", invalid="ignore"):
        low = np.where(bounded[complete], low_sum[complete] / scale, np.nan)
        high = np.where(bounded[complete], high_sum[complete] / scale, np.nan)
    rebuilt = pd.DataFrame(
        {
            "region_code": pd.Series(successor[complete], **text),
            "year": cell_year[complete].astype(int),
            "value": (num if operand.additive else num / den).astype(float),
            "lower": low.astype(float),
            "upper": high.astype(float),
            "status": pd.Series(np.full(n_rebuilt, "schatting", dtype=object), **text),
            "source_table": pd.Series(source[complete], **text),
            "note": pd.Series(np.full(n_rebuilt, None, dtype=object), **text),
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


def _needed(mergers: pd.DataFrame, successors: np.ndarray, years: np.ndarray) -> np.ndarray:
    """Per (successor, year): how many of its predecessors merged after that year."""
    names, codes = np.unique(mergers["successor"].to_numpy(dtype=object), return_inverse=True)
    start = mergers["start_year"].to_numpy(dtype=np.int64)
    span = int(start.max()) + 2 if len(start) else 2
    keys = np.sort(codes.reshape(-1).astype(np.int64) * span + start)
    at = np.searchsorted(names, successors)
    at = np.clip(at, 0, max(len(names) - 1, 0))
    known = (names[at] == successors) if len(names) else np.zeros(len(successors), dtype=bool)
    base = at.astype(np.int64) * span
    capped = np.minimum(np.asarray(years, dtype=np.int64), span - 1)
    low = np.searchsorted(keys, base + capped, side="right")
    high = np.searchsorted(keys, base + span, side="left")
    return np.where(known, high - low, -1)


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


#: Suffix that marks a continuing municipality's figures from before its boundary change while
#: they are summed with its predecessors (never a real CBS code).
_OLD = "~oud"


def break_series(
    obs: pd.DataFrame,
    breaks: dict[str, int],
    mergers: pd.DataFrame,
    operand: Operand,
    divisions: Mapping[str, int | Mapping[int, int] | None],
    weights: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, set[str]]:
    """Keep only figures on a municipality's current boundaries; rebuild where defensible.

    Parameters
    ----------
    obs : pandas.DataFrame
        Observations of the operand (:data:`OBS_COLUMNS`), predecessors included, not yet
        rebuilt.
    breaks : dict of str to int
        Year of each municipality's last boundary change (:func:`boundary_breaks`).
    mergers : pandas.DataFrame
        The rebuildable mergers (:func:`load_mergers`).
    operand : Operand
        Additive operands (and rates with a ``weight``) are rebuilt, others are not.
    divisions : mapping of str to int, mapping or None
        Per source table the regional division it gives **every** year on (86087NED: 2024),
        or per year (year -> division, :func:`infer_divisions`), None when each year is on that
        year's own division. Figures of a table on a division at or after the change already
        describe the current area and are kept.
    weights : pandas.DataFrame, optional
        Observations of the weight operand (rates).

    Returns
    -------
    obs : pandas.DataFrame
        The figures: rows of a changed municipality before its change are dropped, unless
        they come from a table on a later division; where every predecessor (and the
        municipality's own old figure, for a code that continued) is known, the sum replaces
        them with status ``schatting``.
    existed : set of str
        Municipalities that had figures before their change (codes that continued), so that
        a missing year can say "grenzen gewijzigd" rather than "bestond nog niet".
    """
    if not breaks or obs.empty:
        return rebuild_mergers(obs, mergers, operand, weights), set()
    old = _old_rows(obs, breaks, divisions)
    if not old.any():
        return rebuild_mergers(obs, mergers, operand, weights), set()
    # a code that continued has figures of its old area; a new code at most empty rows
    existed = set(pd.unique(obs.loc[old & obs["value"].notna().to_numpy(), "region_code"]))
    if not (operand.additive or operand.weight) or mergers.empty:
        return obs[~old].reset_index(drop=True), existed
    continuing = sorted(existed & set(mergers["successor"]))
    own = pd.DataFrame(
        {
            "successor": continuing,
            "predecessor": [c + _OLD for c in continuing],
            "share": 1.0,
            "start_year": [breaks[c] for c in continuing],
        },
        columns=MERGER_COLUMNS,
    )
    extended = pd.concat([mergers, own], ignore_index=True) if len(own) else mergers
    relabelled = _relabel(obs, old)
    weights_relabelled = None
    if weights is not None:
        weights_relabelled = _relabel(weights, _old_rows(weights, breaks, divisions))
    rebuilt = rebuild_mergers(relabelled, extended, operand, weights_relabelled)
    pseudo = {c + _OLD for c in pd.unique(obs.loc[old, "region_code"])}
    keep = ~rebuilt["region_code"].isin(pseudo).to_numpy()
    return rebuilt[keep].reset_index(drop=True), existed


def infer_divisions(
    regions: np.ndarray,
    years: np.ndarray,
    has_value: np.ndarray,
    dissolved: pd.DataFrame | None,
) -> dict[int, int]:
    """Tell, per year of a table, on which municipal division its figures are.

    CBS publishes some series on one recent division for every year (Arbeidsdeelname
    "regionale indeling 2024" gives Westerkwartier figures for 2013), others on each year's own
    division (Grootegast, Leek ... until 2018). The figures say which: a year whose table has
    no figure for any municipality dissolved by a later boundary change already shows the
    municipalities after that change.

    Parameters
    ----------
    regions, years : numpy.ndarray
        Region code and year of each row of the table.
    has_value : numpy.ndarray of bool
        Whether the row has a figure (any topic).
    dissolved : pandas.DataFrame or None
        ``code`` and ``dissolved_in`` of the dissolved municipalities (registry).

    Returns
    -------
    dict of int to int
        Year -> the division (year of 1 January) its figures are on; only years whose division
        is later than the year itself are listed.

    Examples
    --------
    >>> dissolved = pd.DataFrame({"code": ["GM0015"], "dissolved_in": [2019]})
    >>> regions = np.array(["GM1969", "GM0015", "GM1969"], dtype=object)
    >>> infer_divisions(regions, np.array([2013, 2013, 2014]), np.array([True, False, True]),
    ...                 dissolved)
    {2013: 2019, 2014: 2019}
    """
    if dissolved is None or dissolved.empty or not len(regions):
        return {}
    by_year: dict[int, set[str]] = {}
    for code, year in zip(dissolved["code"], dissolved["dissolved_in"], strict=True):
        if not pd.isna(year):
            by_year.setdefault(int(year), set()).add(str(code))
    changes = sorted(by_year)
    years = np.asarray(years)
    regions = np.asarray(regions, dtype=object)
    has_value = np.asarray(has_value, dtype=bool)
    is_gm = np.char.startswith(regions.astype(str), "GM")  # one C loop, not one call a row
    out: dict[int, int] = {}
    for year in sorted({int(y) for y in pd.unique(years[has_value & is_gm])}):
        present = set(regions[has_value & is_gm & (years == year)])
        division = year
        for change in changes:
            if change <= year:
                continue
            if present & by_year[change]:
                break  # a municipality dissolved at this change still has figures
            division = change
        if division > year:
            out[year] = division
    return out


def _old_rows(
    obs: pd.DataFrame,
    breaks: dict[str, int],
    divisions: Mapping[str, int | Mapping[int, int] | None],
):
    """Rows of changed municipalities from before the change, on an older division.

    ``divisions`` gives per source table the division of every year (an int) or per year
    (a mapping year -> division, see :func:`infer_divisions`); a table or year not listed is
    on that year's own division.
    """
    if obs.empty:
        return np.zeros(0, dtype=bool)
    start = _lookup(obs["region_code"], breaks)
    lower = {str(k).lower(): v for k, v in divisions.items()}
    years = obs["year"].to_numpy(dtype=float)
    fixed = {k: v for k, v in lower.items() if not isinstance(v, Mapping)}
    division = _lookup(obs["source_table"], fixed, key=lambda t: str(t).lower())
    per_year = {k: v for k, v in lower.items() if isinstance(v, Mapping)}
    if per_year:
        tables = obs["source_table"].to_numpy(dtype=object)
        for table in pd.unique(tables):
            mapping = per_year.get(str(table).lower())
            if not mapping:
                continue
            rows = (tables == table) & np.isnan(division)
            division[rows] = [mapping.get(int(y), np.nan) for y in years[rows]]
    with np.errstate(invalid="ignore"):
        before = ~np.isnan(start) & (years < start)
        current = ~np.isnan(division) & (division >= start)
    return before & ~current


def _lookup(values: pd.Series, table: dict, key=None) -> np.ndarray:
    """``values.map(table)`` as floats (NaN when absent), looking each distinct value up once."""
    codes, uniques = pd.factorize(values.to_numpy(dtype=object), use_na_sentinel=False)
    found = [table.get(key(u) if key else u) for u in uniques]
    return np.array([np.nan if f is None else f for f in found], dtype=float)[codes]


def _relabel(obs: pd.DataFrame, rows) -> pd.DataFrame:
    if not np.any(rows):
        return obs
    out = obs.copy()
    codes = out["region_code"].to_numpy(dtype=object).copy()
    codes[rows] = [str(c) + _OLD for c in codes[rows]]
    out["region_code"] = pd.Series(codes, index=out.index, dtype=object)
    return out
