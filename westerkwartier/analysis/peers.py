"""Statistical peers: the municipalities most like a given one, with a reason in plain Dutch.

Peers are the k nearest municipalities on standardised structural characteristics (population,
address density, age structure, income; configured in ``config/peers.toml``). With the
geographic neighbours they form the default comparison group of the reports
(:func:`comparison_group`). :func:`peer_sensitivity` shows whether a conclusion ("beter dan de
meeste vergelijkbare gemeenten") survives another choice of comparison group.

Examples
--------
>>> from westerkwartier.analysis.peers import peers, comparison_group
>>> len(peers("Westerkwartier"))
5
>>> group = comparison_group("GM1969")
>>> int((group["reason"] == "grenst aan Westerkwartier").sum())
7
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from westerkwartier.analysis import rules
from westerkwartier.config import config_file, read_toml
from westerkwartier.errors import InputError, WesterkwartierError
from westerkwartier.indicators.panel_cache import national_panel
from westerkwartier.sources.regions import load_registry

CONFIG_FILE = config_file("peers.toml")

#: |z difference| below which two municipalities count as "vergelijkbaar" in a characteristic.
SIMILAR_Z: float = 0.5
#: |z difference| above which the reason names the difference ("wel stedelijker").
DIFFERENT_Z: float = 1.0


@dataclass(frozen=True)
class PeerVariable:
    """One structural characteristic (see ``config/peers.toml``)."""

    id: str
    label: str
    source: str
    transform: str = "none"
    weight: float = 1.0
    higher: str = "hoger"
    lower: str = "lager"


@dataclass(frozen=True)
class PeerConfig:
    """Default k and the characteristics."""

    k: int
    variables: tuple[PeerVariable, ...]


def load_peer_config(path: Path | str | None = None) -> PeerConfig:
    """Read ``config/peers.toml`` (or another file).

    Raises
    ------
    InputError
        Missing file, invalid TOML, an unknown source kind or transform, k < 1.
    """
    file = Path(path or CONFIG_FILE)
    raw = read_toml(file, what="het bestand met peerinstellingen").data
    variables = []
    for entry in raw.get("variable", []):
        var = PeerVariable(
            id=str(entry["id"]),
            label=str(entry.get("label", entry["id"])),
            source=str(entry["source"]),
            transform=str(entry.get("transform", "none")),
            weight=float(entry.get("weight", 1.0)),
            higher=str(entry.get("higher", "hoger")),
            lower=str(entry.get("lower", "lager")),
        )
        kind = var.source.split(":", 1)[0]
        if kind not in ("panel", "registry") or ":" not in var.source:
            raise InputError(
                f"{file.name}: bron {var.source!r} van {var.id!r} moet 'panel:<indicator>' of "
                "'registry:<kolom>' zijn."
            )
        if var.transform not in ("none", "log") or not var.weight > 0:
            raise InputError(
                f"{file.name}: {var.id!r} heeft transform 'none' of 'log' en een gewicht > 0 nodig."
            )
        variables.append(var)
    k = int(raw.get("k", 5))
    if k < 1 or not variables:
        raise InputError(f"{file.name}: k moet minstens 1 zijn en er moet een [[variable]] zijn.")
    return PeerConfig(k=k, variables=tuple(variables))


# -- data ---------------------------------------------------------------------------------------


def structural_data(
    config: PeerConfig | None = None,
    *,
    panel: pd.DataFrame | None = None,
    registry: Any | None = None,
) -> pd.DataFrame:
    """Return the structural characteristics of every municipality (raw, not standardised).

    Parameters
    ----------
    config : PeerConfig, optional
        Default :func:`load_peer_config`.
    panel : pandas.DataFrame, optional
        Indicator panel holding the ``panel:`` variables; default a cached panel of them.
    registry : westerkwartier.sources.regions.Registry, optional
        For the names and ``registry:`` variables; default the snapshot's.

    Returns
    -------
    pandas.DataFrame
        Index: municipality code; columns ``name`` and one per variable (the latest year with a
        value per municipality). ``attrs["years"]`` gives per variable the years used.
    """
    config = config or load_peer_config()
    memo = None
    if panel is None and registry is None:  # the national default: once per data version
        from westerkwartier.indicators.panel_cache import data_fingerprint

        memo = (data_fingerprint(), repr(config))
        if memo in _structural_memo:
            return _structural_memo[memo].copy()
    out = _structural_data(config, panel, registry)
    if memo is not None:
        _structural_memo.clear()
        _structural_memo[memo] = out.copy()
    return out


_structural_memo: dict[tuple[str, str], pd.DataFrame] = {}


def _structural_data(
    config: PeerConfig, panel: pd.DataFrame | None, registry: Any | None
) -> pd.DataFrame:
    registry = registry if registry is not None else load_registry()
    gm = registry.municipalities().set_index("code")
    out = pd.DataFrame({"name": gm["name"]})
    panel_ids = [
        v.source.split(":", 1)[1] for v in config.variables if v.source.startswith("panel:")
    ]
    if panel is None and panel_ids:
        panel = national_panel(sorted(panel_ids))
    years: dict[str, str] = {}
    for var in config.variables:
        kind, name = var.source.split(":", 1)
        if kind == "registry":
            if name not in gm.columns:
                raise InputError(
                    f"Het regioregister heeft geen kolom {name!r} (peervariabele {var.id})."
                )
            out[var.id] = pd.to_numeric(gm[name], errors="coerce")
            years[var.id] = "register"
            continue
        assert panel is not None  # read above: there is a ``panel:`` variable
        rows = panel[(panel["indicator"] == name) & panel["value"].notna()]
        if rows.empty:
            raise InputError(
                f"Het panel heeft geen waarden voor {name!r} (peervariabele {var.id}); kies een "
                "andere bron in config/peers.toml."
            )
        latest = rows.sort_values("year").drop_duplicates("region_code", keep="last")
        out[var.id] = latest.set_index("region_code")["value"].reindex(out.index).astype(float)
        found = latest["year"].astype(int)
        years[var.id] = (
            f"{found.min()}" if found.min() == found.max() else f"{found.min()}-{found.max()}"
        )
    out.attrs["years"] = years
    return out


def standardise(data: pd.DataFrame, config: PeerConfig) -> pd.DataFrame:
    """z-scores of the characteristics (after the configured transform) over all municipalities."""
    z = pd.DataFrame(index=data.index)
    for var in config.variables:
        x = data[var.id].astype(float)
        if var.transform == "log":
            x = np.log(x.where(x > 0))
        z[var.id] = (x - x.mean()) / x.std(ddof=0)
    return z


def reason(diffs: pd.Series, config: PeerConfig) -> str:
    """Return a plain-Dutch reason from signed z differences (peer minus focus).

    The (at most two) characteristics with the smallest differences are named as similar; a
    characteristic that differs by more than :data:`DIFFERENT_Z` standard deviations is named
    too.

    Examples
    --------
    >>> cfg = PeerConfig(3, (PeerVariable("a", "inwonertal", "registry:population"),
    ...     PeerVariable("b", "vergrijzing", "panel:x"),
    ...     PeerVariable("c", "inkomen", "panel:y", higher="hoger inkomen")))
    >>> reason(pd.Series({"a": 0.1, "b": -0.2, "c": 1.5}), cfg)
    'vergelijkbaar in inwonertal en vergrijzing; wel hoger inkomen'
    """
    by_id = {v.id: v for v in config.variables}
    d = diffs.dropna()
    order = d.abs().sort_values(kind="stable")
    similar = [i for i in order.index if order[i] < SIMILAR_Z][:2]
    if similar:
        text = "vergelijkbaar in " + " en ".join(by_id[i].label for i in similar)
    else:
        text = f"het meest vergelijkbaar in {by_id[order.index[0]].label}"
    far = [i for i in order.index[::-1] if order[i] > DIFFERENT_Z][:1]
    if far:
        var = by_id[far[0]]
        text += f"; wel {var.higher if d[far[0]] > 0 else var.lower}"
    return text


def distances(z: pd.DataFrame, code: str, config: PeerConfig) -> pd.Series:
    """Weighted Euclidean distance (root mean of weighted squared z differences) to ``code``."""
    w = np.array([v.weight for v in config.variables])
    cols = [v.id for v in config.variables]
    focus = z.loc[code, cols].to_numpy(dtype=float)
    diff2 = (z[cols].to_numpy(dtype=float) - focus) ** 2
    have = ~np.isnan(diff2)
    wt = have * w
    with np.errstate(invalid="ignore", divide="ignore"):
        dist = np.sqrt(np.nansum(diff2 * w, axis=1) / wt.sum(axis=1))
    return pd.Series(dist, index=z.index)


def peers(
    code: str,
    k: int | None = None,
    *,
    data: pd.DataFrame | None = None,
    config: PeerConfig | None = None,
    panel: pd.DataFrame | None = None,
    registry: Any | None = None,
) -> pd.DataFrame:
    """Return the k statistical peers of a municipality, nearest first, with a reason.

    Parameters
    ----------
    code : str
        Municipality code or name (``GM1969``, ``Westerkwartier``).
    k : int, optional
        Number of peers; default ``k`` of ``config/peers.toml``.
    data : pandas.DataFrame, optional
        Output of :func:`structural_data` (index code, ``name``, one column per variable);
        default computed from the panel and registry.
    config : PeerConfig, optional
        Default :func:`load_peer_config`.

    Returns
    -------
    pandas.DataFrame
        code, name, distance, reason, and ``diff_<variable>`` (z of peer minus z of the
        municipality) per characteristic.

    Raises
    ------
    InputError
        If ``code`` is not a municipality of the data, or lacks all characteristics.

    Notes
    -----
    The tables are kept per process (at most :data:`PEERS_MEMO_SIZE`), keyed on a digest of
    ``data``'s values, the settings, the municipality and k; every call gets its own copy.
    """
    config = config or load_peer_config()
    if data is None:
        data = structural_data(config, panel=panel, registry=registry)
    code = _resolve(code, data, registry)
    k = int(k or config.k)
    digest = _content_digest(data)
    if digest is None:  # values pandas cannot hash: computed every time
        return _peers(code, k, data, config)
    key = (digest, repr(config), code, k)
    if key in _peers_memo:
        return _peers_memo[key].copy()
    out = _peers(code, k, data, config)
    if len(_peers_memo) >= PEERS_MEMO_SIZE:
        _peers_memo.clear()
    _peers_memo[key] = out.copy()
    return out


#: Peer tables kept in a process, at most this many (a batch kernel makes reports for
#: hundreds of municipalities; the table of one is asked for up to seven times per pair).
PEERS_MEMO_SIZE = 64

#: (digest of the characteristics, settings, municipality, k) -> the table of :func:`peers`.
_peers_memo: dict[tuple[str, str, str, int], pd.DataFrame] = {}


def _content_digest(data: pd.DataFrame) -> str | None:
    """Digest of the index, columns, types and values of ``data`` (None if pandas cannot hash).

    About 1 ms for the 342 municipalities, against 15 ms for the peers themselves. The digest
    follows the values, not the object: a table changed in place gets another digest, so the
    memo does not answer for it with the peers of its old values.
    """
    try:
        rows = pd.util.hash_pandas_object(data, index=True).to_numpy()
    except TypeError:  # a cell holding a list or a dict
        return None
    columns = repr([(str(name), str(dtype)) for name, dtype in data.dtypes.items()])
    return hashlib.sha256(rows.tobytes() + columns.encode()).hexdigest()


def _peers(code: str, k: int, data: pd.DataFrame, config: PeerConfig) -> pd.DataFrame:
    """Compute the table of :func:`peers` for a resolved code and k (no memo)."""
    z = standardise(data, config)
    if z.loc[code].isna().all():
        raise InputError(f"{code} heeft geen enkele structuurkenmerk; peers zijn niet te bepalen.")
    dist = distances(z, code, config).drop(code).dropna()
    nearest = dist.sort_values(kind="stable").head(k)
    cols = [v.id for v in config.variables]
    diffs = z.loc[nearest.index, cols] - z.loc[code, cols]
    out = pd.DataFrame(
        {
            "code": nearest.index,
            "name": data.loc[nearest.index, "name"].to_numpy(),
            "distance": nearest.to_numpy(),
            "reason": [reason(diffs.loc[c], config) for c in nearest.index],
        }
    )
    for c in cols:
        out[f"diff_{c}"] = diffs[c].to_numpy()
    return out


def _resolve(code: str, data: pd.DataFrame, registry: Any | None) -> str:
    if code in data.index:
        return code
    try:
        reg = registry if registry is not None else load_registry()
        found = reg.resolve(code).code
    except WesterkwartierError:
        found = None
    if found is None or found not in data.index:
        raise InputError(
            f"{code!r} is geen gemeente van de huidige indeling; gebruik een CBS-code (GM1969) "
            "of de naam."
        )
    return found


def comparison_group(
    code: str,
    k: int | None = None,
    *,
    neighbours: Callable[[str], list[str]] | None = None,
    data: pd.DataFrame | None = None,
    config: PeerConfig | None = None,
    registry: Any | None = None,
) -> pd.DataFrame:
    """Geographic neighbours plus statistical peers: the default comparison group.

    Returns
    -------
    pandas.DataFrame
        code, name, role (``buurgemeente``, ``statistische peer`` or ``buurgemeente en
        peer``), distance (structural; for every member), reason (for peers; for neighbours
        "grenst aan <naam>").
    """
    config = config or load_peer_config()
    if data is None:
        data = structural_data(config, registry=registry)
    code = _resolve(code, data, registry)
    if neighbours is None:
        from westerkwartier.sources.geo import neighbours as geo_neighbours

        neighbours = geo_neighbours
    near = [c for c in neighbours(code) if c in data.index]
    peer = peers(code, k, data=data, config=config)
    z = standardise(data, config)
    dist = distances(z, code, config)
    rows = []
    name = data.loc[code, "name"]
    for c in near:
        role = "buurgemeente en peer" if c in set(peer["code"]) else "buurgemeente"
        rows.append(
            {
                "code": c,
                "name": data.loc[c, "name"],
                "role": role,
                "distance": float(dist[c]),
                "reason": f"grenst aan {name}",
            }
        )
    for _, p in peer.iterrows():
        if p["code"] in near:
            rows[near.index(p["code"])]["reason"] += f"; {p['reason']}"
            continue
        rows.append(
            {
                "code": p["code"],
                "name": p["name"],
                "role": "statistische peer",
                "distance": p["distance"],
                "reason": p["reason"],
            }
        )
    return pd.DataFrame(rows, columns=["code", "name", "role", "distance", "reason"])


# -- how conclusions depend on the comparison group ----------------------------------------------
#: Indicators :func:`peer_sensitivity` looks at by default.
DEFAULT_SENSITIVITY_INDICATORS: tuple[str, ...] = (
    "netto_arbeidsparticipatie",
    "aandeel_hoogopgeleid",
    "bevolkingsgroei",
    "ervaren_gezondheid",
)


def rank_in_group(values: pd.Series, code: str, direction: str) -> tuple[int, int, str]:
    """Rank (1 = best) of ``code`` among ``values`` and where it stands against the median.

    Parameters
    ----------
    values : pandas.Series
        Values by region code, the municipality included; NaN left out.
    direction : str
        ``higher_is_better`` or ``lower_is_better`` (``context``: higher = rank 1).

    Returns
    -------
    tuple
        rank (ties share the best rank), group size, and "boven de mediaan", "onder de
        mediaan" or "op de mediaan": from the rank itself (rule *rang* of
        :mod:`westerkwartier.analysis.rules`), so that "plaats 6 van 11" is "op de mediaan".
    """
    v = values.dropna().astype(float)
    if code not in v.index:
        return (0, len(v), "onbekend")
    sign = -1.0 if direction == "lower_is_better" else 1.0
    own = sign * v[code]
    others = sign * v.drop(code)
    rank = int((others > own).sum()) + 1
    if others.empty:
        return (rank, len(v), "onbekend")
    return (rank, len(v), rules.position(rank, len(v)))


def peer_sensitivity(
    code: str,
    indicators: Sequence[str] | None = None,
    ks: Iterable[int] = (5, 10),
    year: int | None = None,
    *,
    panel: pd.DataFrame | None = None,
    neighbours: Callable[[str], list[str]] | None = None,
    data: pd.DataFrame | None = None,
    config: PeerConfig | None = None,
    registry: Any | None = None,
    directions: dict[str, str] | None = None,
) -> pd.DataFrame:
    """Show whether a conclusion about a municipality changes with the comparison group.

    For each indicator, the municipality's rank within: its k nearest peers for each k in
    ``ks``, its geographic neighbours, and neighbours + peers (the default group).

    Parameters
    ----------
    code : str
        Municipality code or name.
    indicators : sequence of str, optional
        Indicator ids (panel). Default :data:`DEFAULT_SENSITIVITY_INDICATORS`. Composite
        scores can be included by adding their rows to ``panel`` (indicator = index id).
    ks : iterable of int
        Peer group sizes.
    year : int, optional
        Default per indicator the latest year the municipality has a value.
    directions : dict, optional
        Direction per indicator for ids the catalogue lacks (e.g. an index: higher is better).

    Returns
    -------
    pandas.DataFrame
        indicator, year, group (``peers k=5``, ``peers k=10``, ``buurgemeenten``,
        ``buurgemeenten + peers``), n, rank, position; ``stable`` is True for an indicator
        when the position against the median is the same in every group.
    """
    from westerkwartier.indicators.catalogue import load_catalogue

    config = config or load_peer_config()
    if data is None:
        data = structural_data(config, registry=registry)
    code = _resolve(code, data, registry)
    ids = list(indicators or DEFAULT_SENSITIVITY_INDICATORS)
    if panel is None:
        panel = national_panel(sorted(ids))
    if neighbours is None:
        from westerkwartier.sources.geo import neighbours as geo_neighbours

        neighbours = geo_neighbours
    cat = load_catalogue()
    directions = dict(directions or {})
    ks = list(ks)
    groups: dict[str, list[str]] = {}
    big = peers(code, max(ks), data=data, config=config)
    for k in ks:
        groups[f"peers k={k}"] = list(big["code"].head(k))
    near = list(neighbours(code))
    groups["buurgemeenten"] = near
    groups["buurgemeenten + peers"] = list(dict.fromkeys(near + list(big["code"].head(config.k))))
    rows = []
    for ind in ids:
        direction = directions.get(ind) or (
            cat[ind].direction if ind in cat.indicators else "higher_is_better"
        )
        sub = panel[(panel["indicator"] == ind) & panel["value"].notna()]
        own = sub[sub["region_code"] == code]
        if own.empty:
            continue
        y = int(year if year is not None else own["year"].max())
        values = (
            sub[sub["year"] == y].drop_duplicates("region_code").set_index("region_code")["value"]
        )
        for group, members in groups.items():
            rank, n, pos = rank_in_group(values.reindex([code, *members]), code, direction)
            rows.append(
                {"indicator": ind, "year": y, "group": group, "n": n, "rank": rank, "position": pos}
            )
    out = pd.DataFrame(rows, columns=["indicator", "year", "group", "n", "rank", "position"])
    out["stable"] = out.groupby("indicator")["position"].transform(lambda s: s.nunique() == 1)
    return out


__all__ = [
    "PeerConfig",
    "PeerVariable",
    "comparison_group",
    "distances",
    "load_peer_config",
    "peer_sensitivity",
    "peers",
    "rank_in_group",
    "reason",
    "standardise",
    "structural_data",
]
