"""Composite indices with honest uncertainty, after the OECD/JRC Handbook (2008).

Two indices are defined in ``config/indices.toml``: the *aantrekkelijkheidsindex*
(vestigingsklimaat, woonklimaat, gezondheid en vitaliteit) and the *talentindex* (aantrekken,
ontwikkelen, behouden). Each has sub-indices made of catalogue indicators with weights.

Method
------
1. **Values per year.** The index of year *Y* uses per indicator the latest value from
   *Y - max_age* .. *Y* (surveys are two-yearly). Indicators no municipality has in that window
   (not published, or only online) are left out *for everyone* that year and reported
   (:attr:`IndexInput.dropped`).
2. **Direction.** ``lower_is_better`` indicators are multiplied by -1, so that higher is always
   better after normalisation.
3. **Normalisation** against a FIXED reference year (the municipal distribution of
   ``reference_year``), so that scores can be tracked over time: ``zscore``
   ((x - mean) / sd, population sd), ``minmax`` ((x - min) / (max - min); values outside the
   reference range fall outside [0, 1]) or ``rank`` (mid-rank percentile of x among the
   reference values, (#below + #equal / 2) / n).
4. **Missing-data rule.** A municipality gets a sub-index score only if the indicators it has
   carry at least ``min_weight_share.sub`` of the sub-index's (nominal) weight; the weights
   are then re-normalised over the indicators it has. It gets an index score only if its
   scored sub-indices carry at least ``min_weight_share.index`` of the index weight. Otherwise
   no score, with the reason. The rule always uses the nominal weights, so the set of ranked
   municipalities is the same in every Monte Carlo draw.
5. **Aggregation.** ``arithmetic``: weighted means at both levels (compensatory).
   ``geometric``: weighted geometric means at both levels (less compensatory). Logarithms need
   positive values, so geometric aggregation works on the normalised values rescaled to
   [epsilon, 1]: the min-max value (for ``zscore`` and ``minmax``; the two then coincide) or the
   rank percentile (for ``rank``), clipped to [0, 1] and mapped to epsilon + (1 - epsilon) u.
6. **Uncertainty.** :func:`monte_carlo` draws weights from Dirichlet(concentration x nominal)
   at both levels, a normalisation and an aggregation per draw (seeded numpy Generator), and
   scores all municipalities and benchmarks at once (numpy arrays draws x regions x
   indicators). :meth:`MonteCarloResult.summary` gives the median rank and the 5-95% rank
   interval; :func:`robustness` the share of draws in which a municipality beats its province
   or Nederland (benchmarks are scored with the same normalisation, weights and aggregation as
   the municipalities, but do not take part in the reference distribution or the ranking).
7. **Sensitivity.** :func:`influence` sets each indicator's effective influence (squared
   Pearson correlation with the index, normalised to sum 1) beside its nominal weight;
   :func:`decompose` splits a score change between two years into indicator contributions
   that add up exactly to the change.

Examples
--------
>>> from westerkwartier.analysis import composite
>>> scores = composite.scores("talent", years=[2024])
>>> scores.loc[scores["region_code"] == "GM1969", "rank"].notna().item()
True
>>> mc = composite.monte_carlo("talent", 2024)
>>> mc.summary().query("region_code == 'GM1969'")["region_name"].item()
'Westerkwartier'
>>> composite.robustness("talent", "GM1969", "provincie", result=mc).sentence[:42]
'In 55% van de 1.000 varianten scoort Weste'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from westerkwartier.config import config_file, read_toml
from westerkwartier.errors import InputError
from westerkwartier.indicators.catalogue import load_catalogue
from westerkwartier.sources.regions import COUNTRY

CONFIG_FILE = config_file("indices.toml")

#: Normalisation methods.
NORMALISATIONS: tuple[str, ...] = ("zscore", "minmax", "rank")
#: Aggregation methods.
AGGREGATIONS: tuple[str, ...] = ("arithmetic", "geometric")
#: Dutch names of the design choices (for sentences and tables).
CHOICE_NL: dict[str, str] = {
    "zscore": "z-score",
    "minmax": "min-max",
    "rank": "rangorde",
    "arithmetic": "rekenkundig",
    "geometric": "meetkundig",
}


# -- configuration ------------------------------------------------------------------------------
@dataclass(frozen=True)
class IndicatorSpec:
    """One indicator of a sub-index: id, weight within the sub-index, direction (+1 / -1)."""

    id: str
    weight: float
    sign: int
    note: str = ""


@dataclass(frozen=True)
class SubIndex:
    """A sub-index: id, Dutch label, weight within the index, indicators, what it measures."""

    id: str
    label: str
    weight: float
    indicators: tuple[IndicatorSpec, ...]
    description: str = ""


@dataclass(frozen=True)
class MonteCarloSpec:
    """Settings of the uncertainty analysis."""

    draws: int = 1000
    seed: int = 0
    concentration: float = 40.0
    normalisations: tuple[str, ...] = NORMALISATIONS
    aggregations: tuple[str, ...] = AGGREGATIONS


@dataclass(frozen=True)
class IndexSpec:
    """A composite index as configured in ``config/indices.toml``."""

    id: str
    label: str
    subs: tuple[SubIndex, ...]
    reference_year: int
    normalisation: str = "zscore"
    aggregation: str = "arithmetic"
    epsilon: float = 0.01
    max_age: int = 2
    min_share_sub: float = 0.5
    min_share_index: float = 1.0
    montecarlo: MonteCarloSpec = field(default_factory=MonteCarloSpec)
    description: str = ""

    @property
    def indicator_ids(self) -> list[str]:
        """All indicator ids, in configuration order (an id may appear once per index)."""
        return [ind.id for sub in self.subs for ind in sub.indicators]


def _check_choice(value: Any, allowed: Sequence[str], what: str, where: str) -> str:
    if value not in allowed:
        raise InputError(
            f"{where}: {what} {value!r} is onbekend; kies uit {', '.join(allowed)} "
            f"(zie {CONFIG_FILE.name})."
        )
    return str(value)


def parse_indices(raw: Mapping[str, Any], catalogue: Any | None = None) -> dict[str, IndexSpec]:  # noqa: C901 - over the limit; see tests/test_complexity.py
    """Turn the parsed TOML of an indices file into :class:`IndexSpec` objects.

    Parameters
    ----------
    raw : mapping
        Output of ``tomllib.loads``.
    catalogue : westerkwartier.indicators.Catalogue, optional
        To check indicator ids and take directions from; default the package catalogue.
        ``False``-like (``{}``) skips the check (toy tests): then every indicator needs a
        ``direction``.

    Raises
    ------
    InputError
        Unknown indicator, a context indicator without ``direction``, a weight <= 0, an unknown
        normalisation or aggregation, a shares outside (0, 1].
    """
    cat = load_catalogue() if catalogue is None else catalogue
    defaults = dict(raw.get("defaults", {}))
    out: dict[str, IndexSpec] = {}
    for index_id, entry in raw.get("index", {}).items():
        where = f"index {index_id!r}"
        conf = {**defaults, **{k: v for k, v in entry.items() if k != "sub"}}
        mc_raw = {**defaults.get("montecarlo", {}), **entry.get("montecarlo", {})}
        shares = conf.get("min_weight_share", {"sub": 0.5, "index": 1.0})
        subs = []
        seen: set[str] = set()
        for sub in entry.get("sub", []):
            inds = []
            for ind in sub.get("indicator", []):
                iid = str(ind["id"])
                if iid in seen:
                    raise InputError(f"{where}: indicator {iid!r} staat er twee keer in.")
                seen.add(iid)
                direction = ind.get("direction")
                if direction is None and cat:
                    try:
                        direction = cat[iid].direction
                    except (KeyError, InputError):
                        raise InputError(
                            f"{where}: indicator {iid!r} staat niet in de indicatorcatalogus."
                        ) from None
                if direction not in ("higher_is_better", "lower_is_better"):
                    raise InputError(
                        f"{where}: indicator {iid!r} heeft richting {direction!r}; geef in "
                        f"{CONFIG_FILE.name} direction = 'higher_is_better' of "
                        "'lower_is_better' (context-indicatoren tellen niet mee in een index)."
                    )
                weight = float(ind.get("weight", 1.0))
                if not weight > 0:
                    raise InputError(f"{where}: gewicht van {iid!r} moet groter dan 0 zijn.")
                sign = 1 if direction == "higher_is_better" else -1
                inds.append(IndicatorSpec(iid, weight, sign, str(ind.get("note", ""))))
            weight = float(sub.get("weight", 1.0))
            if not inds or not weight > 0:
                raise InputError(
                    f"{where}: subindex {sub.get('id')!r} heeft geen indicatoren of een "
                    "gewicht <= 0."
                )
            subs.append(
                SubIndex(
                    str(sub["id"]),
                    str(sub.get("label", sub["id"])),
                    weight,
                    tuple(inds),
                    str(sub.get("description", "")),
                )
            )
        if not subs:
            raise InputError(f"{where} heeft geen subindices.")
        mc = MonteCarloSpec(
            draws=int(mc_raw.get("draws", 1000)),
            seed=int(mc_raw.get("seed", 0)),
            concentration=float(mc_raw.get("concentration", 40.0)),
            normalisations=tuple(
                _check_choice(n, NORMALISATIONS, "normalisatie", where)
                for n in mc_raw.get("normalisations", NORMALISATIONS)
            ),
            aggregations=tuple(
                _check_choice(a, AGGREGATIONS, "aggregatie", where)
                for a in mc_raw.get("aggregations", AGGREGATIONS)
            ),
        )
        for key in ("sub", "index"):
            if not 0 < float(shares.get(key, 1.0)) <= 1:
                raise InputError(f"{where}: min_weight_share.{key} moet in (0, 1] liggen.")
        if "reference_year" not in conf:
            raise InputError(f"{where}: reference_year ontbreekt.")
        out[index_id] = IndexSpec(
            id=index_id,
            label=str(conf.get("label", index_id)),
            description=str(conf.get("description", "")),
            subs=tuple(subs),
            reference_year=int(conf["reference_year"]),
            normalisation=_check_choice(
                conf.get("normalisation", "zscore"), NORMALISATIONS, "normalisatie", where
            ),
            aggregation=_check_choice(
                conf.get("aggregation", "arithmetic"), AGGREGATIONS, "aggregatie", where
            ),
            epsilon=float(conf.get("epsilon", 0.01)),
            max_age=int(conf.get("max_age", 2)),
            min_share_sub=float(shares.get("sub", 0.5)),
            min_share_index=float(shares.get("index", 1.0)),
            montecarlo=mc,
        )
    return out


def load_indices(path: Path | str | None = None) -> dict[str, IndexSpec]:
    """Read the index definitions (default ``config/indices.toml``).

    Raises
    ------
    InputError
        If the file is missing, not valid TOML or not a valid definition.
    """
    return dict(_load_indices(str(Path(path or CONFIG_FILE).resolve())))


@lru_cache(maxsize=4)
def _load_indices(path: str) -> dict[str, IndexSpec]:
    raw = read_toml(path, what="de indexdefinitie").data
    try:
        return parse_indices(raw)
    except InputError:
        raise
    except KeyError as err:
        raise InputError(
            f"Indexdefinitie {path}: verplichte sleutel {err.args[0]!r} ontbreekt (elke "
            "[[...sub]] en [[...sub.indicator]] heeft een id). Zie de uitleg bovenin "
            f"{CONFIG_FILE.name}."
        ) from None
    except (ValueError, TypeError, AttributeError) as err:
        raise InputError(
            f"Indexdefinitie {path}: ongeldige waarde ({err}). Gewichten en jaren zijn getallen "
            f"(weight = 1.0, reference_year = 2022); zie de uitleg bovenin {CONFIG_FILE.name}."
        ) from None


def get_index(index: str | IndexSpec) -> IndexSpec:
    """Return the :class:`IndexSpec` for an id (``talent``, ``aantrekkelijkheid``) or a spec."""
    if isinstance(index, IndexSpec):
        return index
    specs = load_indices()
    key = str(index).strip().lower()
    if key not in specs:
        raise InputError(f"Onbekende index {index!r}; kies uit: {', '.join(specs)}.")
    return specs[key]


# -- the panel ----------------------------------------------------------------------------------
def index_panel(index: str | IndexSpec | None = None) -> pd.DataFrame:
    """Return the national panel of the indicators of one index, or of all indices.

    Indicators the catalogue does not know are skipped (they then count as not published).
    """
    cat = load_catalogue()
    specs = [get_index(index)] if index is not None else list(load_indices().values())
    ids = sorted({i for s in specs for i in s.indicator_ids if i in cat.indicators})
    from westerkwartier.indicators.panel_cache import national_panel

    return national_panel(ids)


# -- input matrices -----------------------------------------------------------------------------
@dataclass
class IndexInput:
    """Values of one index in one year as arrays (municipalities x indicators).

    Attributes
    ----------
    codes, names : numpy.ndarray
        Municipalities (rows of ``values``).
    bench_codes, bench_names, bench_levels : numpy.ndarray
        Provinces and Nederland (rows of ``bench_values``).
    indicators : list of str
        Indicators used this year (columns).
    group : numpy.ndarray of int
        Sub-index number of each column.
    sign : numpy.ndarray
        +1 (higher is better) or -1 per column.
    weights : numpy.ndarray
        Nominal weight of each column within its sub-index (sums to 1 per sub-index).
    sub_weights : numpy.ndarray
        Nominal weight of each sub-index (sums to 1).
    values, bench_values, reference : numpy.ndarray
        Raw values (NaN = missing); ``reference`` holds the municipal values of the reference
        year.
    dropped : dict
        Indicators left out this year, with the reason.
    reference_years : dict
        Per indicator the year whose municipal distribution it is normalised against: the
        configured ``reference_year``, or, for an indicator without values then, the year with
        data closest to it (later year first on a tie).
    """

    spec: IndexSpec
    year: int
    codes: np.ndarray
    names: np.ndarray
    bench_codes: np.ndarray
    bench_names: np.ndarray
    bench_levels: np.ndarray
    indicators: list[str]
    group: np.ndarray
    sign: np.ndarray
    weights: np.ndarray
    sub_weights: np.ndarray
    values: np.ndarray
    bench_values: np.ndarray
    reference: np.ndarray
    dropped: dict[str, str]
    reference_years: dict[str, int] = field(default_factory=dict)

    @property
    def published_share(self) -> float:
        """Share of the configured index weight carried by the indicators used this year."""
        total = 0.0
        v = np.array([s.weight for s in self.spec.subs])
        v = v / v.sum()
        for s, sub in enumerate(self.spec.subs):
            w = {i.id: i.weight for i in sub.indicators}
            total += v[s] * sum(w[i] for i in self.indicators if i in w) / sum(w.values())
        return total

    @property
    def sub_ids(self) -> list[str]:
        """Ids of the sub-indices (the numbers in ``group``)."""
        return [s.id for s in self.spec.subs]

    @property
    def one_hot(self) -> np.ndarray:
        """Indicators x sub-indices membership matrix."""
        return (self.group[:, None] == np.arange(len(self.spec.subs))[None, :]).astype(float)


def _reference(rows: pd.DataFrame, spec: IndexSpec) -> tuple[int | None, pd.Series]:
    """Return the reference year of an indicator and its municipal values (see IndexInput)."""
    years = sorted(
        pd.unique(rows["year"]).astype(int), key=lambda y: (abs(y - spec.reference_year), -y)
    )
    for year in years:
        vals = rows[rows["year"] == year].drop_duplicates("region_code")
        if len(vals) >= 3 and vals["value"].nunique() >= 2:
            return int(year), vals.set_index("region_code")["value"].astype(float)
    return None, pd.Series(dtype=float)


@dataclass
class _Prepared:
    """The year-independent part of :func:`index_input`, shared by the years of one call.

    ``cube`` holds the values of the municipalities and then the benchmarks (rows) per
    indicator of the spec (``position``) and per year from ``first_year`` on (NaN = missing);
    ``reference`` the municipal values of each indicator's reference year.
    """

    spec: IndexSpec
    gm: pd.DataFrame
    bench: pd.DataFrame
    position: dict[str, int]
    first_year: int
    cube: np.ndarray
    references: dict[str, tuple[int | None, pd.Series]]
    reference: np.ndarray

    def as_of(self, year: int) -> np.ndarray:
        """Regions x indicators: the latest value of a year in year-max_age..year."""
        out = np.full(self.cube.shape[:2], np.nan)
        for y in range(year, year - self.spec.max_age - 1, -1):
            at = y - self.first_year
            if 0 <= at < self.cube.shape[2]:
                fill = np.isnan(out)
                out[fill] = self.cube[:, :, at][fill]
        return out


def _prepare(spec: IndexSpec, panel: pd.DataFrame) -> _Prepared:
    """Select the index's rows, the regions and each indicator's reference distribution."""
    p = panel[panel["indicator"].isin(spec.indicator_ids)]
    regions = p[["region_code", "region_name", "level"]].drop_duplicates("region_code")
    gm = regions[regions["level"] == "gemeente"].sort_values("region_code")
    bench = regions[regions["level"].isin(["provincie", "land"])].sort_values("region_code")
    gm_codes = gm["region_code"].to_numpy()
    ref_all = p[p["value"].notna() & p["region_code"].isin(gm_codes)]
    by_indicator = dict(tuple(ref_all.groupby("indicator", sort=False)))
    ids = list(dict.fromkeys(ind.id for sub in spec.subs for ind in sub.indicators))
    references = {i: _reference(by_indicator.get(i, ref_all.iloc[:0]), spec) for i in ids}
    reference = (
        pd.DataFrame({i: vals for i, (year, vals) in references.items() if year is not None})
        .reindex(index=gm_codes, columns=ids)
        .to_numpy(dtype=float)
        .reshape(len(gm_codes), len(ids))
    )
    valid = p[p["value"].notna()]
    years = valid["year"].to_numpy(dtype=int)
    first = int(years.min()) if len(years) else 0
    span = int(years.max()) - first + 1 if len(years) else 0
    codes = np.concatenate([gm_codes, bench["region_code"].to_numpy()])
    row = pd.Index(codes).get_indexer(valid["region_code"])
    col = pd.Index(ids).get_indexer(valid["indicator"])
    keep = (row >= 0) & (col >= 0)
    cube = np.full((len(codes), len(ids), span), np.nan)
    cube[row[keep], col[keep], years[keep] - first] = valid["value"].to_numpy(dtype=float)[keep]
    position = {i: k for k, i in enumerate(ids)}
    return _Prepared(spec, gm, bench, position, first, cube, references, reference)


def index_input(index: str | IndexSpec, year: int, panel: pd.DataFrame | None = None) -> IndexInput:
    """Collect the values of an index for one year as arrays.

    Parameters
    ----------
    index : str or IndexSpec
        ``talent``, ``aantrekkelijkheid`` or a spec.
    year : int
        Year of the index.
    panel : pandas.DataFrame, optional
        The indicator panel (:func:`westerkwartier.indicators.panel.panel`); default the cached
        panel of
        the index's indicators. Municipalities are its rows with level ``gemeente``;
        benchmarks those with level ``provincie`` or ``land``.
    """
    spec = get_index(index)
    return _index_input(_prepare(spec, index_panel(spec) if panel is None else panel), year)


def index_inputs(
    index: str | IndexSpec, years: Iterable[int], panel: pd.DataFrame | None = None
) -> dict[int, IndexInput]:
    """:func:`index_input` for several years, preparing the panel once.

    Returns
    -------
    dict of int to IndexInput
        Per year, the same as ``index_input(index, year, panel)``.
    """
    spec = get_index(index)
    prep = _prepare(spec, index_panel(spec) if panel is None else panel)
    return {int(year): _index_input(prep, int(year)) for year in years}


def _index_input(prep: _Prepared, year: int) -> IndexInput:
    """:func:`index_input` for one year on a prepared panel."""
    spec, gm, bench = prep.spec, prep.gm, prep.bench
    now = prep.as_of(int(year))
    n_gm = len(gm)
    gm_has = ~np.isnan(now[:n_gm]).all(axis=0) if n_gm else np.zeros(now.shape[1], dtype=bool)
    cols, group, sign, weights, dropped = [], [], [], [], {}
    ref_years: dict[str, int] = {}
    for s, sub in enumerate(spec.subs):
        for ind in sub.indicators:
            if not gm_has[prep.position[ind.id]]:
                dropped[ind.id] = (
                    f"geen gemeente heeft een waarde in {year - spec.max_age}-{year} "
                    "(niet gepubliceerd of alleen online)"
                )
                continue
            ref_year, _ = prep.references[ind.id]
            if ref_year is None:
                dropped[ind.id] = "geen bruikbare referentieverdeling (geen spreiding)"
                continue
            ref_years[ind.id] = ref_year
            cols.append(ind.id)
            group.append(s)
            sign.append(ind.sign)
            weights.append(ind.weight)
    group_a = np.array(group, dtype=int)
    w = np.array(weights, dtype=float)
    sub_w = np.array([sub.weight for sub in spec.subs], dtype=float)
    for s in range(len(spec.subs)):
        if (group_a == s).any():
            w[group_a == s] /= w[group_a == s].sum()
    sub_w = sub_w / sub_w.sum()
    at = np.array([prep.position[c] for c in cols], dtype=int)
    return IndexInput(
        spec=spec,
        year=int(year),
        codes=gm["region_code"].to_numpy(),
        names=gm["region_name"].to_numpy(),
        bench_codes=bench["region_code"].to_numpy(),
        bench_names=bench["region_name"].to_numpy(),
        bench_levels=bench["level"].to_numpy(),
        indicators=cols,
        group=group_a,
        sign=np.array(sign, dtype=float),
        weights=w,
        sub_weights=sub_w,
        values=np.ascontiguousarray(now[:n_gm][:, at]),
        bench_values=np.ascontiguousarray(now[n_gm:][:, at]),
        reference=np.asfortranarray(prep.reference[:, at]),
        dropped=dropped,
        reference_years=ref_years,
    )


# -- normalisation and aggregation --------------------------------------------------------------
def normalise(
    values: np.ndarray, reference: np.ndarray, method: str, sign: np.ndarray | None = None
) -> np.ndarray:
    """Normalise columns of ``values`` against the distribution of ``reference``.

    Parameters
    ----------
    values : numpy.ndarray
        regions x indicators (NaN = missing).
    reference : numpy.ndarray
        reference regions x indicators (the municipal values of the reference year).
    method : {"zscore", "minmax", "rank"}
        See the module documentation.
    sign : numpy.ndarray, optional
        +1/-1 per indicator; -1 turns lower-is-better into higher-is-better.

    Returns
    -------
    numpy.ndarray
        Same shape as ``values``; NaN stays NaN.

    Examples
    --------
    >>> normalise(np.array([[1.0], [3.0]]), np.array([[1.0], [3.0]]), "minmax").ravel().tolist()
    [0.0, 1.0]
    """
    sign = np.ones(values.shape[1]) if sign is None else np.asarray(sign, dtype=float)
    x = values * sign
    ref = reference * sign
    with np.errstate(invalid="ignore", divide="ignore"):
        if method == "zscore":
            return (x - np.nanmean(ref, axis=0)) / np.nanstd(ref, axis=0)
        if method == "minmax":
            lo, hi = np.nanmin(ref, axis=0), np.nanmax(ref, axis=0)
            return (x - lo) / (hi - lo)
    if method == "rank":
        out = np.full(x.shape, np.nan)
        for j in range(x.shape[1]):
            col = np.sort(ref[~np.isnan(ref[:, j]), j])
            below = np.searchsorted(col, x[:, j], side="left")
            upto = np.searchsorted(col, x[:, j], side="right")
            out[:, j] = np.where(
                np.isnan(x[:, j]), np.nan, (below + 0.5 * (upto - below)) / len(col)
            )
        return out
    raise InputError(f"Onbekende normalisatie {method!r}; kies uit {', '.join(NORMALISATIONS)}.")


def to_unit(
    values: np.ndarray, reference: np.ndarray, method: str, sign: np.ndarray, epsilon: float
) -> np.ndarray:
    """Values in [epsilon, 1] for geometric aggregation (see module notes, step 5)."""
    u = normalise(values, reference, "rank" if method == "rank" else "minmax", sign)
    return epsilon + (1.0 - epsilon) * np.clip(u, 0.0, 1.0)


def eligibility(
    available: np.ndarray,
    group: np.ndarray,
    weights: np.ndarray,
    sub_weights: np.ndarray,
    min_share_sub: float,
    min_share_index: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Apply the missing-data rule with the nominal weights.

    Parameters
    ----------
    available : numpy.ndarray of bool
        regions x indicators.
    group, weights, sub_weights : numpy.ndarray
        As in :class:`IndexInput`.
    min_share_sub, min_share_index : float
        Minimal weight shares at the two levels.

    Returns
    -------
    sub_share : numpy.ndarray
        regions x sub-indices: share of the sub-index weight available.
    sub_ok : numpy.ndarray of bool
        regions x sub-indices: sub-index scored.
    index_share : numpy.ndarray
        regions: share of the index weight in scored sub-indices.
    index_ok : numpy.ndarray of bool
        regions: index scored.
    """
    n_sub = len(sub_weights)
    one_hot = (group[:, None] == np.arange(n_sub)[None, :]).astype(float)
    present = one_hot.sum(axis=0) > 0
    sub_share = (available.astype(float) * weights) @ one_hot
    tol = 1e-9
    sub_ok = (sub_share >= min_share_sub - tol) & present[None, :]
    index_share = sub_ok.astype(float) @ sub_weights
    index_ok = index_share >= min_share_index - tol
    return sub_share, sub_ok, index_share, index_ok


def aggregate(
    norm: np.ndarray,
    group: np.ndarray,
    weights: np.ndarray,
    sub_weights: np.ndarray,
    sub_ok: np.ndarray,
    index_ok: np.ndarray,
    method: str,
) -> tuple[np.ndarray, np.ndarray]:
    """Aggregate normalised values into sub-index and index scores, for many weight draws.

    Parameters
    ----------
    norm : numpy.ndarray
        regions x indicators, normalised (for ``geometric``: values in (0, 1], see
        :func:`to_unit`); NaN = missing.
    group : numpy.ndarray of int
        Sub-index number per indicator.
    weights : numpy.ndarray
        indicators, or draws x indicators: weight within the sub-index. Re-normalised per
        region over the indicators it has.
    sub_weights : numpy.ndarray
        sub-indices, or draws x sub-indices. Re-normalised over the scored sub-indices.
    sub_ok, index_ok : numpy.ndarray of bool
        From :func:`eligibility`.
    method : {"arithmetic", "geometric"}
        Weighted arithmetic or geometric means at both levels.

    Returns
    -------
    index : numpy.ndarray
        draws x regions (NaN where not scored).
    subs : numpy.ndarray
        draws x regions x sub-indices.
    """
    w = np.atleast_2d(np.asarray(weights, dtype=float))
    v = np.atleast_2d(np.asarray(sub_weights, dtype=float))
    n_sub = v.shape[1]
    one_hot = (group[:, None] == np.arange(n_sub)[None, :]).astype(float)
    have = ~np.isnan(norm)
    if method == "geometric":
        x = np.log(np.where(have, norm, 1.0))
    elif method == "arithmetic":
        x = np.where(have, norm, 0.0)
    else:
        raise InputError(f"Onbekende aggregatie {method!r}; kies uit {', '.join(AGGREGATIONS)}.")
    wg = w[:, :, None] * one_hot[None, :, :]  # draws x indicators x subs
    num = np.matmul(x[None, :, :], wg)  # draws x regions x subs
    den = np.matmul(have.astype(float)[None, :, :], wg)
    with np.errstate(invalid="ignore", divide="ignore"):
        subs = num / den
    subs = np.where(sub_ok[None, :, :], subs, np.nan)
    vk = v[:, None, :] * sub_ok[None, :, :]
    filled = np.where(sub_ok[None, :, :], subs, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        index = (filled * vk).sum(axis=2) / vk.sum(axis=2)
    index = np.where(index_ok[None, :], index, np.nan)
    if method == "geometric":
        return np.exp(index), np.exp(subs)
    return index, subs


def _ranks(scores: np.ndarray) -> np.ndarray:
    """Rank 1 = highest score, per row; ties share the best rank ("min"); NaN stays NaN.

    Vectorised over rows (draws): one argsort, then the first position of each tie group.
    """
    x = np.atleast_2d(np.asarray(scores, dtype=float))
    key = np.where(np.isnan(x), np.inf, -x)
    order = np.argsort(key, axis=1, kind="stable")
    ordered = np.take_along_axis(key, order, axis=1)
    pos = np.broadcast_to(np.arange(x.shape[1]), x.shape)
    new = np.ones(x.shape, dtype=bool)
    new[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    first = np.maximum.accumulate(np.where(new, pos, 0), axis=1)
    ranks = np.empty(x.shape)
    np.put_along_axis(ranks, order, first + 1.0, axis=1)
    ranks[np.isnan(x)] = np.nan
    return ranks.reshape(np.shape(scores))


def _normalised(
    inp: IndexInput, method: str, aggregation: str, values: np.ndarray | None = None
) -> np.ndarray:
    x = inp.values if values is None else values
    if aggregation == "geometric":
        return to_unit(x, inp.reference, method, inp.sign, inp.spec.epsilon)
    return normalise(x, inp.reference, method, inp.sign)


# -- nominal scores -----------------------------------------------------------------------------
def _reasons(inp: IndexInput, sub_share: np.ndarray, sub_ok: np.ndarray, ok: np.ndarray) -> list:
    spec = inp.spec
    out: list[str | None] = []
    for r in range(len(ok)):
        if ok[r]:
            out.append(None)
            continue
        parts = [
            f"{spec.subs[s].label}: {sub_share[r, s]:.0%} van het gewicht beschikbaar"
            for s in range(len(spec.subs))
            if not sub_ok[r, s]
        ]
        out.append(
            "geen score: "
            + "; ".join(parts)
            + f" (minimaal {spec.min_share_sub:.0%} per subindex, subindices samen "
            f"{spec.min_share_index:.0%})"
        )
    return out


def scores(
    index: str | IndexSpec,
    years: int | Iterable[int] | None = None,
    *,
    panel: pd.DataFrame | None = None,
    normalisation: str | None = None,
    aggregation: str | None = None,
) -> pd.DataFrame:
    """Return nominal index scores and ranks for every municipality and benchmark, per year.

    Parameters
    ----------
    index : str or IndexSpec
        ``talent`` or ``aantrekkelijkheid`` (or a spec).
    years : int or iterable of int, optional
        Default: every year of the panel in which at least one municipality gets a score.
    panel : pandas.DataFrame, optional
        Indicator panel; default the cached panel of the index's indicators.
    normalisation, aggregation : str, optional
        Override the configured nominal choices.

    Returns
    -------
    pandas.DataFrame
        index, year, region_code, region_name, level, score, rank (municipalities only; 1 =
        best), n_ranked, share (share of the index weight available to the region),
        published_share (share of the configured weight used at all that year), one ``score_<sub>``
        column per sub-index, reason (why there is no score), and ``attrs["dropped"]`` (per
        year the indicators left out, with the reason).
    """
    spec = get_index(index)
    p = index_panel(spec) if panel is None else panel
    norm_m = normalisation or spec.normalisation
    agg_m = aggregation or spec.aggregation
    if years is None:
        have = p[p["indicator"].isin(spec.indicator_ids) & p["value"].notna()]
        years = range(int(have["year"].min()), int(have["year"].max()) + 1) if len(have) else []
        auto = True
    else:
        years = [years] if isinstance(years, int) else list(years)
        auto = False
    frames, dropped = [], {}
    prep = _prepare(spec, p)
    for year in years:
        inp = _index_input(prep, year)
        if not inp.indicators:
            continue
        frame = _score_frame(inp, norm_m, agg_m)
        if auto and frame.loc[frame["level"] == "gemeente", "score"].notna().sum() == 0:
            continue
        dropped[int(year)] = inp.dropped
        frames.append(frame)
    if not frames:
        raise InputError(
            f"De {spec.label} heeft geen scores in de gevraagde jaren; controleer de jaren en "
            "of het panel de indicatoren bevat."
        )
    out = pd.concat(frames, ignore_index=True)
    out.attrs["dropped"] = dropped
    return out


def _score_frame(inp: IndexInput, norm_m: str, agg_m: str) -> pd.DataFrame:
    spec = inp.spec
    both = np.vstack([inp.values, inp.bench_values])
    n_gm = len(inp.codes)
    available = ~np.isnan(both)
    sub_share, sub_ok, share, ok = eligibility(
        available,
        inp.group,
        inp.weights,
        inp.sub_weights,
        spec.min_share_sub,
        spec.min_share_index,
    )
    norm = _normalised(inp, norm_m, agg_m, both)
    index, subs = aggregate(norm, inp.group, inp.weights, inp.sub_weights, sub_ok, ok, agg_m)
    index, subs = index[0], subs[0]
    ranks = np.full(len(index), np.nan)
    ranks[:n_gm] = _ranks(index[:n_gm])
    frame = pd.DataFrame(
        {
            "index": spec.id,
            "year": inp.year,
            "region_code": np.concatenate([inp.codes, inp.bench_codes]),
            "region_name": np.concatenate([inp.names, inp.bench_names]),
            "level": ["gemeente"] * n_gm + list(inp.bench_levels),
            "score": index,
            "rank": ranks,
            "n_ranked": int(ok[:n_gm].sum()),
            "share": share,
            "published_share": inp.published_share,
        }
    )
    for s, sub in enumerate(spec.subs):
        frame[f"score_{sub.id}"] = subs[:, s]
    frame["reason"] = _reasons(inp, sub_share, sub_ok, ok)
    return frame


def latest_year(index: str | IndexSpec, panel: pd.DataFrame | None = None) -> int:
    """Return the default year of an index: the latest well-covered year.

    That is the latest year whose used indicators carry at least 90% of the best configured
    weight share of any year, and in which at least half of the municipalities get a score.
    Years after the last publications (where only a few indicators are recent enough) are so
    skipped.
    """
    spec = get_index(index)
    p = index_panel(spec) if panel is None else panel
    have = p[p["indicator"].isin(spec.indicator_ids) & p["value"].notna()]
    if have.empty:
        raise InputError(f"Het panel bevat geen enkele indicator van de {spec.label}.")
    found: list[tuple[int, float]] = []
    prep = _prepare(spec, p)
    for year in range(int(have["year"].min()), int(have["year"].max()) + 1):
        inp = _index_input(prep, year)
        if not inp.indicators:
            continue
        _, _, _, ok = eligibility(
            ~np.isnan(inp.values),
            inp.group,
            inp.weights,
            inp.sub_weights,
            spec.min_share_sub,
            spec.min_share_index,
        )
        if ok.mean() >= 0.5:
            found.append((year, inp.published_share))
    if not found:
        raise InputError(
            f"De {spec.label} heeft in geen enkel jaar scores voor de meeste gemeenten."
        )
    best = max(share for _, share in found)
    return max(year for year, share in found if share >= 0.9 * best - 1e-9)


# -- Monte Carlo --------------------------------------------------------------------------------
@dataclass
class MonteCarloResult:
    """Outcome of :func:`monte_carlo`: arrays over draws x regions.

    Attributes
    ----------
    codes, names : numpy.ndarray
        The municipalities with a score (the missing-data rule, nominal weights).
    scores, ranks : numpy.ndarray
        draws x municipalities. Scores are comparable only within a draw (each draw has its own
        normalisation and aggregation); ranks are comparable across draws.
    bench_codes, bench_names : numpy.ndarray
        Provinces and Nederland with a score.
    bench_scores : numpy.ndarray
        draws x benchmarks, scored like the municipalities in the same draw.
    weights, sub_weights : numpy.ndarray
        draws x indicators and draws x sub-indices (each sums to one per sub-index / draw).
    choice : numpy.ndarray of int
        draws: index into ``choices`` ((normalisation, aggregation) pairs).
    nominal_scores, nominal_ranks : numpy.ndarray
        Municipalities under the configured design.
    """

    spec: IndexSpec
    year: int
    seed: int
    codes: np.ndarray
    names: np.ndarray
    scores: np.ndarray
    ranks: np.ndarray
    bench_codes: np.ndarray
    bench_names: np.ndarray
    bench_scores: np.ndarray
    indicators: list[str]
    weights: np.ndarray
    sub_weights: np.ndarray
    choices: list[tuple[str, str]]
    choice: np.ndarray
    nominal_scores: np.ndarray
    nominal_ranks: np.ndarray

    @property
    def draws(self) -> int:
        """Number of draws."""
        return self.scores.shape[0]

    def summary(self) -> pd.DataFrame:
        """Per municipality: nominal rank, median rank, 5-95% rank interval.

        Returns
        -------
        pandas.DataFrame
            region_code, region_name, nominal_rank, median_rank, rank_p05, rank_p95,
            interval_width, n_ranked; sorted by median rank.
        """
        q = np.percentile(self.ranks, [5, 50, 95], axis=0, method="linear")
        out = pd.DataFrame(
            {
                "region_code": self.codes,
                "region_name": self.names,
                "nominal_rank": self.nominal_ranks,
                "median_rank": q[1],
                "rank_p05": q[0],
                "rank_p95": q[2],
            }
        )
        out["interval_width"] = out["rank_p95"] - out["rank_p05"]
        out["n_ranked"] = len(self.codes)
        return out.sort_values(["median_rank", "nominal_rank"]).reset_index(drop=True)

    def share_better(self, code: str, benchmark: str) -> float:
        """Share of draws in which municipality ``code`` scores higher than ``benchmark``."""
        i = _position(self.codes, code, "gemeente met een score")
        if benchmark in set(self.bench_codes):
            other = self.bench_scores[:, _position(self.bench_codes, benchmark, "benchmark")]
        else:
            other = self.scores[:, _position(self.codes, benchmark, "gemeente met een score")]
        return float(np.mean(self.scores[:, i] > other))


def _position(codes: np.ndarray, code: str, what: str) -> int:
    hits = np.flatnonzero(codes == code)
    if not len(hits):
        raise InputError(
            f"{code} is geen {what} in deze berekening (geen score door ontbrekende gegevens, "
            "of een onbekende code)."
        )
    return int(hits[0])


def draw_weights(
    rng: np.random.Generator,
    group: np.ndarray,
    weights: np.ndarray,
    sub_weights: np.ndarray,
    concentration: float,
    draws: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Draw weights around the nominal ones: Dirichlet(concentration x nominal) per level.

    Returns
    -------
    tuple of numpy.ndarray
        draws x indicators (sums to 1 within each sub-index) and draws x sub-indices (sums
        to 1).
    """
    w = np.zeros((draws, len(weights)))
    for s in range(len(sub_weights)):
        idx = np.flatnonzero(group == s)
        if len(idx) == 1:
            w[:, idx] = 1.0
        elif len(idx) > 1:
            w[:, idx] = rng.dirichlet(concentration * weights[idx] / weights[idx].sum(), draws)
    present = np.array([(group == s).any() for s in range(len(sub_weights))])
    v = np.zeros((draws, len(sub_weights)))
    if present.sum() == 1:
        v[:, present] = 1.0
    else:
        nominal = sub_weights[present] / sub_weights[present].sum()
        v[:, present] = rng.dirichlet(concentration * nominal, draws)
    return w, v


def monte_carlo(
    index: str | IndexSpec,
    year: int | None = None,
    *,
    panel: pd.DataFrame | None = None,
    draws: int | None = None,
    seed: int | None = None,
    concentration: float | None = None,
    normalisations: Sequence[str] | None = None,
    aggregations: Sequence[str] | None = None,
    inputs: IndexInput | None = None,
) -> MonteCarloResult:
    """Score every municipality under many design choices (uncertainty analysis).

    Each draw takes weights from Dirichlet(concentration x nominal weights) at both levels, and
    a normalisation and an aggregation uniformly from the configured options. Everything is
    computed as numpy arrays over draws x regions x indicators; the only Python loop is over
    the (at most six) design-choice combinations.

    Parameters
    ----------
    index : str or IndexSpec
        The index.
    year : int, optional
        Default :func:`latest_year`.
    panel : pandas.DataFrame, optional
        Indicator panel; default the cached panel.
    draws, seed, concentration, normalisations, aggregations : optional
        Override ``[defaults.montecarlo]`` of ``config/indices.toml``.
    inputs : IndexInput, optional
        Precomputed input arrays (benchmarks, tests); then ``year`` and ``panel`` are unused.

    Returns
    -------
    MonteCarloResult
    """
    spec = get_index(index) if inputs is None else inputs.spec
    mc = spec.montecarlo
    if inputs is None:
        year = latest_year(spec, panel) if year is None else year
        inputs = index_input(spec, year, panel)
    inp = inputs
    draws = int(draws or mc.draws)
    seed = int(mc.seed if seed is None else seed)
    conc = float(concentration or mc.concentration)
    choices = [
        (n, a)
        for a in (aggregations or mc.aggregations)
        for n in (normalisations or mc.normalisations)
        if not (a == "geometric" and n == "zscore")  # coincides with minmax + geometric
    ]
    rng = np.random.default_rng(seed)
    both = np.vstack([inp.values, inp.bench_values])
    _, sub_ok, _, ok = eligibility(
        ~np.isnan(both),
        inp.group,
        inp.weights,
        inp.sub_weights,
        spec.min_share_sub,
        spec.min_share_index,
    )
    keep = np.flatnonzero(ok)
    n_gm = len(inp.codes)
    gm_keep = keep[keep < n_gm]
    bench_keep = keep[keep >= n_gm]
    x = both[keep]
    sub_ok = sub_ok[keep]
    ok_k = np.ones(len(keep), dtype=bool)
    w, v = draw_weights(rng, inp.group, inp.weights, inp.sub_weights, conc, draws)
    choice = rng.integers(len(choices), size=draws)
    out = np.full((draws, len(keep)), np.nan)
    for c, (norm_m, agg_m) in enumerate(choices):
        rows = np.flatnonzero(choice == c)
        if not len(rows):
            continue
        norm = _normalised(inp, norm_m, agg_m, x)
        out[rows], _ = aggregate(norm, inp.group, w[rows], v[rows], sub_ok, ok_k, agg_m)
    n_k = len(gm_keep)
    nominal = _normalised(inp, spec.normalisation, spec.aggregation, x[:n_k])
    nominal_scores, _ = aggregate(
        nominal,
        inp.group,
        inp.weights,
        inp.sub_weights,
        sub_ok[:n_k],
        ok_k[:n_k],
        spec.aggregation,
    )
    return MonteCarloResult(
        spec=spec,
        year=inp.year,
        seed=seed,
        codes=inp.codes[gm_keep],
        names=inp.names[gm_keep],
        scores=out[:, :n_k],
        ranks=_ranks(out[:, :n_k]),
        bench_codes=inp.bench_codes[bench_keep - n_gm],
        bench_names=inp.bench_names[bench_keep - n_gm],
        bench_scores=out[:, n_k:],
        indicators=list(inp.indicators),
        weights=w,
        sub_weights=v,
        choices=choices,
        choice=choice,
        nominal_scores=nominal_scores[0],
        nominal_ranks=_ranks(nominal_scores[0]),
    )


def rank_intervals(
    index: str | IndexSpec,
    year: int | None = None,
    *,
    panel: pd.DataFrame | None = None,
    result: MonteCarloResult | None = None,
    codes: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Median rank and 5-95% rank interval per municipality (see :meth:`MonteCarloResult.summary`).

    ``codes`` limits the rows (e.g. a comparison group); the ranks stay national.
    """
    res = result or monte_carlo(index, year, panel=panel)
    out = res.summary()
    if codes is not None:
        out = out[out["region_code"].isin(list(codes))].reset_index(drop=True)
    return out


@dataclass(frozen=True)
class Robustness:
    """How robust "municipality beats benchmark" is over the Monte Carlo draws."""

    code: str
    name: str
    benchmark: str
    benchmark_name: str
    share: float
    draws: int
    sentence: str


def robustness(
    index: str | IndexSpec,
    code: str,
    benchmark: str = "provincie",
    year: int | None = None,
    *,
    panel: pd.DataFrame | None = None,
    result: MonteCarloResult | None = None,
) -> Robustness:
    """Share of Monte Carlo draws in which a municipality scores better than a benchmark.

    Parameters
    ----------
    index : str or IndexSpec
        The index.
    code : str
        Municipality code (``GM1969``).
    benchmark : str
        ``provincie`` (the municipality's province, looked up in the registry), ``Nederland``
        (``NL01``), or any region code in the result (a province or another municipality).
    year : int, optional
        Default :func:`latest_year`.
    result : MonteCarloResult, optional
        Reuse a result of :func:`monte_carlo`.

    Returns
    -------
    Robustness
        With a Dutch sentence, e.g. "In 92% van de 1.000 varianten scoort Westerkwartier beter
        dan de provincie Groningen op de Talentindex (2024)."
    """
    res = result or monte_carlo(index, year, panel=panel)
    key = benchmark.strip()
    prefix = ""
    if key.lower() == "provincie":
        from westerkwartier.sources.regions import load_registry

        province = load_registry().resolve(code).province
        if province is None:
            raise InputError(
                f"{code} ligt niet in een provincie; kies als benchmark 'Nederland' of een "
                "provinciecode (bijvoorbeeld PV20)."
            )
        target, prefix = province, "de provincie "
    elif key.lower() in ("nederland", "nl", "land"):
        target = COUNTRY
    else:
        target = key.upper()
        prefix = "de provincie " if target.startswith("PV") else ""
    share = res.share_better(code, target)
    name = str(res.names[_position(res.codes, code, "gemeente met een score")])
    if target in set(res.bench_codes):
        bname = str(res.bench_names[_position(res.bench_codes, target, "benchmark")])
    else:
        bname = str(res.names[_position(res.codes, target, "gemeente")])
    pct_text = share_text(share)
    what = f"{res.spec.label.lower()} ({res.year})"
    n_text = f"{res.draws:,}".replace(",", ".")  # Dutch thousands separator: 1.000
    if share == 1:
        sentence = (
            f"In alle {n_text} varianten scoort {name} beter dan {prefix}{bname} op de {what}."
        )
    elif share == 0:
        sentence = (
            f"In geen van de {n_text} varianten scoort {name} beter dan {prefix}{bname} op de "
            f"{what}."
        )
    else:
        sentence = (
            f"In {pct_text} van de {n_text} varianten scoort {name} beter dan {prefix}{bname} "
            f"op de {what}."
        )
        if _NOT_ROBUST[0] < share < _NOT_ROBUST[1]:
            sentence += " Het verschil is dus niet robuust."
    return Robustness(code, name, target, bname, share, res.draws, sentence)


#: A difference that falls the same way in fewer draws than this share is "niet robuust".
ROBUST_SHARE = 0.8
_NOT_ROBUST = (round(1 - ROBUST_SHARE, 9), ROBUST_SHARE)  # shares strictly between these


def share_text(share: float) -> str:
    """Write the share of draws as the robustness sentence gives it (Dutch).

    Whole per cents, unless rounding would put the share on the other side of the line of
    :data:`ROBUST_SHARE`: 20,2% better (79,8% worse) is "niet robuust", so it is not shown
    as 20%, which a reader would take for 80% worse.

    Examples
    --------
    >>> share_text(0.55), share_text(0.202), share_text(0.2), share_text(0.799), share_text(0.003)
    ('55%', '20,2%', '20%', '79,9%', 'minder dan 1%')
    """
    if 0 < share < 0.005:
        return "minder dan 1%"
    if 0.995 <= share < 1:
        return "meer dan 99%"
    low, high = _NOT_ROBUST
    edges = ((round(low * 100, 9), share > low), (round(high * 100, 9), share < high))
    for decimals in range(4):
        shown = round(share * 100, decimals) if decimals else np.floor(share * 100 + 0.5)
        if not any(shown == edge and inside for edge, inside in edges):
            break
    return f"{shown:.{decimals}f}%".replace(".", ",")


# -- sensitivity --------------------------------------------------------------------------------
def influence(
    index: str | IndexSpec,
    year: int | None = None,
    *,
    panel: pd.DataFrame | None = None,
    inputs: IndexInput | None = None,
) -> pd.DataFrame:
    """Each indicator's effective influence on the index beside its nominal weight (JRC).

    The influence is the squared Pearson correlation between the normalised indicator and the
    nominal index over the scored municipalities, normalised to sum 1. An indicator whose
    influence is far below its weight hardly moves the ranking (its information is carried by
    others, or it disagrees with the rest); far above: it dominates.

    Returns
    -------
    pandas.DataFrame
        indicator, subindex, nominal_weight (within the index, sums to 1), pearson_r,
        spearman_r, influence (sums to 1), ratio (influence / nominal_weight).
    """
    if inputs is None:
        spec = get_index(index)
        year = latest_year(spec, panel) if year is None else year
        inputs = index_input(spec, year, panel)
    inp = inputs
    spec = inp.spec
    sub_share, sub_ok, _, ok = eligibility(
        ~np.isnan(inp.values),
        inp.group,
        inp.weights,
        inp.sub_weights,
        spec.min_share_sub,
        spec.min_share_index,
    )
    norm = _normalised(inp, spec.normalisation, spec.aggregation)
    idx, _ = aggregate(norm, inp.group, inp.weights, inp.sub_weights, sub_ok, ok, spec.aggregation)
    idx = idx[0]
    rows = []
    for j, ind in enumerate(inp.indicators):
        m = ok & ~np.isnan(norm[:, j])
        r = float(np.corrcoef(norm[m, j], idx[m])[0, 1]) if m.sum() > 2 else np.nan
        rho = (
            float(np.corrcoef(_ranks(norm[m, j]), _ranks(idx[m]))[0, 1]) if m.sum() > 2 else np.nan
        )
        rows.append(
            {
                "indicator": ind,
                "subindex": spec.subs[inp.group[j]].id,
                "nominal_weight": inp.weights[j] * inp.sub_weights[inp.group[j]],
                "pearson_r": r,
                "spearman_r": rho,
            }
        )
    out = pd.DataFrame(rows)
    out["nominal_weight"] /= out["nominal_weight"].sum()
    r2 = out["pearson_r"].fillna(0.0) ** 2
    out["influence"] = r2 / r2.sum() if r2.sum() > 0 else np.nan
    out["ratio"] = out["influence"] / out["nominal_weight"]
    return out


def contributions(
    inp: IndexInput, row: np.ndarray, method: str, aggregation: str
) -> tuple[np.ndarray, float]:
    """Per-indicator terms whose sum is the (log-)index of one region (nominal weights).

    Returns
    -------
    tuple
        Terms per indicator (0 where missing or the sub-index is not scored) and the index
        (NaN if not scored). Arithmetic: the index is the sum of the terms. Geometric: the
        *logarithm* of the index is.
    """
    spec = inp.spec
    have = ~np.isnan(row)
    sub_share, sub_ok, _, ok = eligibility(
        have[None, :],
        inp.group,
        inp.weights,
        inp.sub_weights,
        spec.min_share_sub,
        spec.min_share_index,
    )
    norm = _normalised(inp, method, aggregation, row[None, :])[0]
    x = np.log(norm) if aggregation == "geometric" else norm
    n_sub = len(spec.subs)
    w_eff = np.zeros(len(row))
    v = inp.sub_weights * sub_ok[0]
    if not ok[0] or v.sum() == 0:
        return np.zeros(len(row)), np.nan
    v = v / v.sum()
    for s in range(n_sub):
        idx = np.flatnonzero((inp.group == s) & have)
        if sub_ok[0, s] and len(idx):
            w_eff[idx] = v[s] * inp.weights[idx] / inp.weights[idx].sum()
    terms = np.where(have, w_eff * np.nan_to_num(x), 0.0)
    total = terms.sum()
    return terms, float(np.exp(total) if aggregation == "geometric" else total)


def decompose(
    index: str | IndexSpec,
    code: str,
    year_from: int,
    year_to: int,
    *,
    panel: pd.DataFrame | None = None,
    normalisation: str | None = None,
    aggregation: str | None = None,
    inputs: tuple[IndexInput, IndexInput] | None = None,
) -> pd.DataFrame:
    """Split the change of a municipality's score between two years into indicator contributions.

    Both years are normalised against the same fixed reference year. Arithmetic aggregation:
    the score is a sum of weight x normalised value, so contribution = term(to) - term(from)
    and the contributions add up *exactly* to the change (an indicator missing in one year
    contributes its whole term; a re-weighting because of missing data shows up in the terms
    of the others). Geometric: the log-score is a sum; each indicator gets its share of the
    log-change times the change, which again adds up exactly.

    Parameters
    ----------
    index : str or IndexSpec
        The index.
    code : str
        The municipality.
    year_from, year_to : int
        The two years.
    panel : pandas.DataFrame, optional
        As for :func:`index_input`.
    normalisation, aggregation : str, optional
        Default the index's own.
    inputs : (IndexInput, IndexInput), optional
        :func:`index_inputs` of ``year_from`` and ``year_to`` when the caller has them (a
        report run keeps them for every municipality); ``panel`` is then not read.

    Returns
    -------
    pandas.DataFrame
        indicator, subindex, value_from, value_to, norm_from, norm_to, contribution;
        ``attrs`` holds score_from, score_to and change.

    Raises
    ------
    InputError
        If the municipality has no score in one of the years (with the reason).
    """
    spec = get_index(index)
    norm_m = normalisation or spec.normalisation
    agg_m = aggregation or spec.aggregation
    if inputs is None:
        p = index_panel(spec) if panel is None else panel
        both = index_inputs(spec, (year_from, year_to), p)
        a, b = both[int(year_from)], both[int(year_to)]
    else:
        a, b = inputs
        if (a.year, b.year) != (int(year_from), int(year_to)):
            raise InputError(
                f"De invoer van decompose is van {a.year} en {b.year}, niet van {year_from} en "
                f"{year_to}: geef index_inputs() van die twee jaren mee, of laat inputs weg."
            )
    ids = list(dict.fromkeys(a.indicators + b.indicators))
    res = {}
    for label, inp in (("from", a), ("to", b)):
        i = _position(inp.codes, code, "gemeente")
        terms, score = contributions(inp, inp.values[i], norm_m, agg_m)
        if np.isnan(score):
            raise InputError(
                f"{inp.names[i]} heeft geen {spec.label.lower()} in {inp.year}: te weinig "
                "indicatoren (zie scores() kolom reason)."
            )
        norm = _normalised(inp, norm_m, agg_m, inp.values[i][None, :])[0]
        res[label] = (
            score,
            dict(zip(inp.indicators, terms, strict=True)),
            dict(zip(inp.indicators, inp.values[i], strict=True)),
            dict(zip(inp.indicators, norm, strict=True)),
        )
    (s0, t0, v0, n0), (s1, t1, v1, n1) = res["from"], res["to"]
    delta = np.array([t1.get(i, 0.0) - t0.get(i, 0.0) for i in ids])
    change = s1 - s0
    if agg_m == "geometric":
        log_change = delta.sum()
        contrib = delta * (change / log_change) if log_change != 0 else np.zeros_like(delta)
    else:
        contrib = delta
    sub_of = {ind.id: sub.id for sub in spec.subs for ind in sub.indicators}
    out = pd.DataFrame(
        {
            "indicator": ids,
            "subindex": [sub_of[i] for i in ids],
            "value_from": [v0.get(i, np.nan) for i in ids],
            "value_to": [v1.get(i, np.nan) for i in ids],
            "norm_from": [n0.get(i, np.nan) for i in ids],
            "norm_to": [n1.get(i, np.nan) for i in ids],
            "contribution": contrib,
        }
    )
    out.attrs.update({"score_from": s0, "score_to": s1, "change": change})
    return out


def coverage(
    index: str | IndexSpec, years: Iterable[int], *, panel: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Which indicators count in which year, and why the others do not.

    Returns
    -------
    pandas.DataFrame
        year, subindex, indicator, used (bool), reason.
    """
    spec = get_index(index)
    p = index_panel(spec) if panel is None else panel
    rows = []
    for year in years:
        inp = index_input(spec, year, p)
        for sub in spec.subs:
            for ind in sub.indicators:
                rows.append(
                    {
                        "year": int(year),
                        "subindex": sub.id,
                        "indicator": ind.id,
                        "used": ind.id in inp.indicators,
                        "reason": inp.dropped.get(ind.id),
                    }
                )
    return pd.DataFrame(rows)


__all__ = [
    "AGGREGATIONS",
    "NORMALISATIONS",
    "IndexInput",
    "IndexSpec",
    "MonteCarloResult",
    "Robustness",
    "aggregate",
    "coverage",
    "decompose",
    "draw_weights",
    "eligibility",
    "get_index",
    "index_input",
    "index_panel",
    "influence",
    "latest_year",
    "load_indices",
    "monte_carlo",
    "normalise",
    "parse_indices",
    "rank_intervals",
    "robustness",
    "scores",
]
