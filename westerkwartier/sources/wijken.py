"""Wijken (districts): their boundaries and their statistics for 2020 and 2024.

Two CBS tables describe every wijk of the country: Kerncijfers wijken en buurten 2020
(84799NED, on the 2020 division, figures of 1 January 2020) and 2024 (85984NED, on the 2024
division, 1 January 2024). The snapshot keeps what both tables share, for every municipality
and wijk, in one compact file, and the wijk boundaries of the 2024 division (PDOK
wijkenbuurten 2024, CBS/Kadaster) simplified once more, in RD New. Buurten are read only to
give numbered wijken a readable name; they are not stored.

What CBS publishes, and what this module keeps of it
----------------------------------------------------
* Counts of persons and households of wijken are **randomly rounded to multiples of 5** by CBS
  (the true value lies within 4 of the published one); municipal counts are exact. Density is
  CBS's own figure from unrounded counts. The rounding is kept as published; the indicator
  layer turns it into intervals.
* Persons whose address inside the municipality is unknown count for the municipality only, so
  the wijken of a municipality do not add up exactly to it.
* Households exist in the 2020 table. For 2024 the mirror holds no CBS file with households;
  the PDOK wijk and municipal layers carry the KWB 2024 figures (their inhabitants equal
  85984NED for every wijk). They are stored as a **secondary source** and say so in
  ``source_huishoudens``.
* Every row records its ``division`` (the year of the municipal and wijk division it is on).

Names
-----
A wijk that CBS names only by number (``Wijk 14``) is named after its largest buurten in the
same table (``Wijk 14 (Zuidhorn, Noordhorn)``, map label ``Zuidhorn``), skipping buurten that
describe scattered houses, outskirts or business parks; ``name_source`` is then ``buurten``.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from westerkwartier import settings
from westerkwartier.errors import ExportFormatError, SnapshotMissing
from westerkwartier.sources import exports, geo, store
from westerkwartier.sources.table import stem

#: Douglas-Peucker tolerance for wijk boundaries (metres). The PDOK build is already
#: simplified by its publisher (about 35-55 m between vertices); 10 m only strips
#: near-collinear points left by reprojection and repair, so small city wijken keep their
#: shape and neighbouring wijken open no visible gaps.
SIMPLIFY_TOLERANCE_M = 10.0

#: Attribution of the wijk boundaries (maps and exports).
BOUNDARY_ATTRIBUTION = "Bron: CBS, Kadaster (CC BY 4.0)"

#: Snapshot files.
GEOMETRY_FILE = "wijken.parquet"
STATISTICS_FILE = "wijken_statistieken.parquet"

#: CBS table per reference year (and division year).
TABLE_OF_YEAR: dict[int, str] = {2020: "84799NED", 2024: "85984NED"}

#: Years with wijk figures.
YEARS: tuple[int, ...] = tuple(sorted(TABLE_OF_YEAR))

#: Where 2024 households come from (no CBS file in the mirror has them).
SECONDARY_HOUSEHOLDS = "PDOK wijkenbuurten 2024 (KWB 2024 van CBS; secundaire bron)"

#: Canonical measure -> CBS topic key stem; the numeric suffix differs between the tables.
MEASURE_STEMS: dict[str, str] = {
    "inwoners": "AantalInwoners",
    "mannen": "Mannen",
    "vrouwen": "Vrouwen",
    "leeftijd_0_14": "k_0Tot15Jaar",
    "leeftijd_15_24": "k_15Tot25Jaar",
    "leeftijd_25_44": "k_25Tot45Jaar",
    "leeftijd_45_64": "k_45Tot65Jaar",
    "leeftijd_65plus": "k_65JaarOfOuder",
    "huishoudens": "HuishoudensTotaal",
    "huishoudensgrootte": "GemiddeldeHuishoudensgrootte",
    "bevolkingsdichtheid": "Bevolkingsdichtheid",
    "oppervlakte_totaal": "OppervlakteTotaal",
    "oppervlakte_land": "OppervlakteLand",
}

#: Measures that count persons or households (randomly rounded to 5 below the municipality).
COUNT_MEASURES: tuple[str, ...] = (
    "inwoners",
    "mannen",
    "vrouwen",
    "leeftijd_0_14",
    "leeftijd_15_24",
    "leeftijd_25_44",
    "leeftijd_45_64",
    "leeftijd_65plus",
    "huishoudens",
)

#: Columns of the stored statistics, in this order.
STATISTICS_COLUMNS: tuple[str, ...] = (
    "code",
    "year",
    "division",
    "level",
    "gemeente",
    "cbs_name",
    "name",
    "label",
    "name_source",
    "buurten",
    "flag",
    *MEASURE_STEMS,
    "source",
    "source_huishoudens",
)

_GENERIC_BUURT = re.compile(
    r"(?i)\b(?:verspr|verspreide|buitengebied|overige|bedrijventerrein|bedrijvenpark|"
    r"industrieterrein|industriegebied|bedrijvengebied)"
)
_NUMBER_ONLY = re.compile(r"^\s*wijk\s*\d+\s*$", re.IGNORECASE)
_WIJK_PREFIX = re.compile(r"^\s*wijk\s*\d+\s*[-:]?\s*", re.IGNORECASE)
_PARTLY = re.compile(r"\s*\((?:gedeeltelijk|deels)\)\s*$", re.IGNORECASE)


# ----------------------------------------------------------------------------------------------
# Reading the mirror
# ----------------------------------------------------------------------------------------------
def _level(soort: pd.Series) -> pd.Series:
    levels = {"land": "land", "gemeente": "gemeente", "wijk": "wijk", "buurt": "buurt"}
    return soort.astype(str).str.strip().str.lower().map(levels)


def _municipality_of(code: pd.Series) -> pd.Series:
    """GM code of a GM/WK/BU code (``WK196914`` -> ``GM1969``); ``NL00`` stays."""
    code = code.astype(str).str.strip()
    return code.where(code.str[:2] == "NL", "GM" + code.str[2:6])


def _wijk_of(code: pd.Series) -> pd.Series:
    """WK code of a buurt code (``BU19691400`` -> ``WK196914``); None for other levels."""
    return ("WK" + code.str[2:8]).where(code.str.startswith("BU"))


def _column(frame: pd.DataFrame, key_stem: str, source: str) -> str:
    hits = [c for c in frame.columns if stem(c) == key_stem]
    if len(hits) != 1:
        raise ExportFormatError(
            f"{source}: verwacht precies één kolom {key_stem}_N, gevonden {hits or 'geen'}. "
            "Is dit de tabel Kerncijfers wijken en buurten?"
        )
    return hits[0]


def read_kwb_2020(data_path: Path, regions_path: Path) -> pd.DataFrame:
    """Read Kerncijfers wijken en buurten 2020 (84799NED, typed data set) in wide form.

    Parameters
    ----------
    data_path : Path
        The typed data set as parquet (keys padded, ``'WK196900  '``).
    regions_path : Path
        Its ``WijkenEnBuurten`` dimension (``Key``, ``Title``).

    Returns
    -------
    pandas.DataFrame
        One row per region (country, municipalities, wijken, buurten): ``code``, ``cbs_name``,
        ``level``, ``gemeente``, ``wijk`` (for buurten), ``flag`` and one float column per
        measure of :data:`MEASURE_STEMS` (NaN where CBS has no figure).
    """
    data = pd.read_parquet(data_path)
    regions = pd.read_parquet(regions_path)
    source = Path(data_path).name
    code = data["WijkenEnBuurten"].astype(str).str.strip()
    titles = dict(
        zip(
            regions["Key"].astype(str).str.strip(),
            regions["Title"].astype(str).str.strip(),
            strict=True,
        )
    )
    flag = data[_column(data, "IndelingswijzigingWijkenEnBuurten", source)]
    out = pd.DataFrame(
        {
            "code": code,
            "cbs_name": code.map(titles),
            "level": _level(data[_column(data, "SoortRegio", source)]),
            "gemeente": _municipality_of(code),
            "wijk": _wijk_of(code),
            "flag": flag.astype(str).str.strip().where(flag.notna(), None),
        }
    )
    for measure, key_stem in MEASURE_STEMS.items():
        values = data[_column(data, key_stem, source)]
        out[measure] = pd.to_numeric(values, errors="coerce").astype("float64")
    return out.reset_index(drop=True)


def read_kwb_2024(
    data_path: Path,
    origin_path: Path,
    properties_path: Path,
    areas_path: Path,
) -> pd.DataFrame:
    """Read Kerncijfers wijken en buurten 2024 (85984NED) in wide form.

    Parameters
    ----------
    data_path, origin_path : Path
        The two StatLine downloads (age and sex with codes; origin, joined by row position
        after a check; see :func:`westerkwartier.sources.exports.read_statline_kwb`).
    properties_path : Path
        The table's ``DataProperties.json`` (real CBS topic keys).
    areas_path : Path
        ``{code: {CBS key: value}}`` with density and areas of municipalities and wijken.

    Returns
    -------
    pandas.DataFrame
        Same layout as :func:`read_kwb_2020`; households are NaN (not in these files).
    """
    properties = json.loads(Path(properties_path).read_text(encoding="utf-8"))
    table = exports.read_statline_kwb(data_path, origin_path, properties=properties)
    data = table.data
    source = Path(data_path).name
    code = data["WijkenEnBuurten"].astype(str).str.strip()
    names = table.dimensions["WijkenEnBuurten"]["title"].astype(str).str.strip()
    flag = data[_column(data, "IndelingswijzigingGemeenteWijkBuurt", source)]
    out = pd.DataFrame(
        {
            "code": code,
            "cbs_name": names.to_numpy(),
            "level": _level(data[_column(data, "SoortRegio", source)]),
            "gemeente": _municipality_of(code),
            "wijk": _wijk_of(code),
            "flag": flag.map(lambda v: None if pd.isna(v) else str(int(v))).astype(object),
        }
    )
    for measure in COUNT_MEASURES:
        if measure == "huishoudens":
            continue
        out[measure] = pd.to_numeric(
            data[_column(data, MEASURE_STEMS[measure], source)], errors="coerce"
        ).astype("float64")
    extra = json.loads(Path(areas_path).read_text(encoding="utf-8"))
    for measure in ("bevolkingsdichtheid", "oppervlakte_totaal", "oppervlakte_land"):
        key_stem = MEASURE_STEMS[measure]
        values = {
            str(k).strip(): next((v for kk, v in rec.items() if stem(kk) == key_stem), None)
            for k, rec in extra.items()
        }
        out[measure] = pd.to_numeric(code.map(values), errors="coerce").astype("float64")
    out["huishoudens"] = np.nan
    out["huishoudensgrootte"] = np.nan
    return out.reset_index(drop=True)


def read_pdok_households(path: Path, code_column: str) -> pd.DataFrame:
    """Read households and average household size from a PDOK wijkenbuurten layer.

    A secondary source: PDOK attaches CBS's Kerncijfers wijken en buurten figures to its
    layers under renamed keys (``huishoudens``, ``gem_huishouden_grootte``); negative values
    are PDOK's code for a secret figure.

    Parameters
    ----------
    path : Path
        The GeoJSON layer (wijken or municipalities).
    code_column : str
        ``wijkcode`` or ``gemeentecode``.

    Returns
    -------
    pandas.DataFrame
        ``code``, ``huishoudens``, ``huishoudensgrootte``.
    """
    raw = gpd.read_file(path, columns=[code_column, "huishoudens", "gem_huishouden_grootte"])
    if code_column not in raw:
        raise ExportFormatError(f"{Path(path).name} heeft geen kolom {code_column}.")
    out = pd.DataFrame(
        {
            "code": raw[code_column].astype(str).str.strip(),
            "huishoudens": pd.to_numeric(raw["huishoudens"], errors="coerce"),
            "huishoudensgrootte": pd.to_numeric(raw["gem_huishouden_grootte"], errors="coerce"),
        }
    )
    numbers = ["huishoudens", "huishoudensgrootte"]
    out[numbers] = out[numbers].mask(out[numbers] < 0).astype("float64")
    return out.drop_duplicates("code").reset_index(drop=True)


def read_wijk_boundaries(path: Path, tolerance_m: float = SIMPLIFY_TOLERANCE_M) -> gpd.GeoDataFrame:
    """Read and simplify the land wijken of the PDOK wijk layer.

    Water wijken (``Groot water``) and ``Buitenland`` (GM0998) are dropped: CBS publishes no
    figures for them. Simplification follows :func:`westerkwartier.sources.geo.clean_boundaries`
    (RD New, valid, Douglas-Peucker with topology kept, 1 m grid).

    Returns
    -------
    geopandas.GeoDataFrame
        ``code`` (WK), ``gemeente`` (GM), ``geometry`` (EPSG:28992), sorted by code.
    """
    raw = gpd.read_file(path, columns=["wijkcode", "wijknaam", "gemeentecode"])
    keep = (raw["gemeentecode"].astype(str).str.strip() != "GM0998") & (
        raw["wijknaam"].astype(str).str.strip() != "Groot water"
    )
    clean = geo.clean_boundaries(raw.loc[keep], "wijkcode", "wijknaam", tolerance_m=tolerance_m)
    clean["gemeente"] = _municipality_of(clean["code"])
    return clean[["code", "gemeente", "geometry"]].reset_index(drop=True)


# ----------------------------------------------------------------------------------------------
# Names
# ----------------------------------------------------------------------------------------------
def wijk_names(kwb: pd.DataFrame, max_buurten: int = 2, min_share: float = 0.10) -> pd.DataFrame:
    """Give every wijk a readable name and a short map label.

    A wijk that CBS names only by number is named after its largest buurten (by inhabitants in
    the same table), skipping generic buurten ("Verspreide huizen ...", "Buitengebied ...",
    "Bedrijventerrein ..."): the largest always, the next ones (up to ``max_buurten``) when each
    holds at least ``min_share`` of the wijk's inhabitants. When every buurt is generic the
    largest one is used. A wijk with a place name keeps it; its label drops ``Wijk NN``.

    Parameters
    ----------
    kwb : pandas.DataFrame
        Output of :func:`read_kwb_2020` or :func:`read_kwb_2024` (wijken and buurten).
    max_buurten : int
        Most buurt names in one name.
    min_share : float
        Share of the wijk's inhabitants a second buurt needs to be named.

    Returns
    -------
    pandas.DataFrame
        ``code``, ``name``, ``label``, ``name_source`` (``CBS`` or ``buurten``) and ``buurten``
        (the buurt names used, ``; ``-separated).

    Examples
    --------
    >>> kwb = pd.DataFrame({
    ...     "code": ["WK000114", "BU00011400", "BU00011401"],
    ...     "cbs_name": ["Wijk 14", "Zuidhorn", "Verspreide huizen Zuidhorn"],
    ...     "level": ["wijk", "buurt", "buurt"], "wijk": [None, "WK000114", "WK000114"],
    ...     "inwoners": [1000.0, 600.0, 400.0]})
    >>> wijk_names(kwb)[["name", "label", "name_source"]].iloc[0].tolist()
    ['Wijk 14 (Zuidhorn)', 'Zuidhorn', 'buurten']
    """
    wijken = kwb.loc[kwb["level"] == "wijk", ["code", "cbs_name", "inwoners"]]
    buurten = kwb.loc[kwb["level"] == "buurt", ["code", "cbs_name", "wijk", "inwoners"]]
    buurten = buurten.sort_values(["wijk", "inwoners", "code"], ascending=[True, False, True])
    by_wijk = {k: g for k, g in buurten.groupby("wijk", sort=False)}
    rows = []
    for code, cbs_name, inhabitants in wijken.itertuples(index=False):
        cbs_name = str(cbs_name).strip()
        if not _NUMBER_ONLY.match(cbs_name):
            label = _WIJK_PREFIX.sub("", cbs_name) or cbs_name
            rows.append((code, cbs_name, label, "CBS", ""))
            continue
        members = by_wijk.get(code, buurten.iloc[0:0])
        named = members[~members["cbs_name"].str.contains(_GENERIC_BUURT)]
        if named.empty:
            named = members.head(1)
        chosen: list[str] = []
        for i, (bname, binh) in enumerate(zip(named["cbs_name"], named["inwoners"], strict=True)):
            if i >= max_buurten:
                break
            if i > 0 and not (inhabitants and binh >= min_share * inhabitants):
                break
            chosen.append(_PARTLY.sub("", str(bname)).strip())
        if chosen:
            name = f"{cbs_name} ({', '.join(chosen)})"
            rows.append((code, name, chosen[0], "buurten", "; ".join(chosen)))
        else:
            rows.append((code, cbs_name, cbs_name, "CBS", ""))
    return pd.DataFrame(rows, columns=["code", "name", "label", "name_source", "buurten"])


# ----------------------------------------------------------------------------------------------
# Building the snapshot files
# ----------------------------------------------------------------------------------------------
def _tidy_year(
    kwb: pd.DataFrame,
    year: int,
    households: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Keep municipalities and wijken of one year, with names, division and sources."""
    names = wijk_names(kwb)
    keep = kwb.loc[kwb["level"].isin(["gemeente", "wijk"])].copy()
    keep = keep.merge(names, on="code", how="left")
    is_gm = keep["level"] == "gemeente"
    keep.loc[is_gm, "name"] = keep.loc[is_gm, "cbs_name"]
    keep.loc[is_gm, "label"] = keep.loc[is_gm, "cbs_name"]
    keep.loc[is_gm, "name_source"] = "CBS"
    keep.loc[is_gm, "buurten"] = ""
    keep["year"] = year
    keep["division"] = year
    keep["source"] = TABLE_OF_YEAR[year]
    keep["source_huishoudens"] = TABLE_OF_YEAR[year]
    if households is not None:
        extra = households.set_index("code")
        for column in ("huishoudens", "huishoudensgrootte"):
            keep[column] = keep["code"].map(extra[column]).astype("float64")
        keep["source_huishoudens"] = SECONDARY_HOUSEHOLDS
    keep["flag"] = keep["flag"].astype(object).where(keep["flag"].notna(), None)
    return keep[list(STATISTICS_COLUMNS)]


def build_statistics(mirror: Path, config: dict[str, Any]) -> pd.DataFrame:
    """Read both years from the mirror into the frame the snapshot stores.

    Parameters
    ----------
    mirror : Path
        The CBS mirror folder.
    config : dict
        The ``[wijken]`` table of ``config/snapshot.toml`` (paths relative to ``mirror``).

    Returns
    -------
    pandas.DataFrame
        :data:`STATISTICS_COLUMNS`; one row per municipality and wijk per year, sorted by
        year and code.
    """
    kwb2020 = read_kwb_2020(mirror / config["statistics_2020"], mirror / config["regions_2020"])
    kwb2024 = read_kwb_2024(
        mirror / config["statistics_2024"],
        mirror / config["origin_2024"],
        mirror / config["properties_2024"],
        mirror / config["areas_2024"],
    )
    households = pd.concat(
        [
            read_pdok_households(mirror / config["boundaries"], "wijkcode"),
            read_pdok_households(mirror / config["households_2024_gemeenten"], "gemeentecode"),
        ],
        ignore_index=True,
    )
    frame = pd.concat(
        [_tidy_year(kwb2020, 2020), _tidy_year(kwb2024, 2024, households)], ignore_index=True
    )
    frame = frame.sort_values(["year", "code"], kind="stable").reset_index(drop=True)
    frame["year"] = frame["year"].astype("int16")
    frame["division"] = frame["division"].astype("int16")
    return frame


def build(mirror: Path, out_dir: Path, config: dict[str, Any]) -> dict[str, Any]:
    """Write the wijk files of the snapshot and return their provenance.

    Parameters
    ----------
    mirror : Path
        The CBS mirror folder.
    out_dir : Path
        The snapshot folder being built.
    config : dict
        The ``[wijken]`` table of ``config/snapshot.toml``.

    Returns
    -------
    dict
        Files, source paths with sha256, tolerance, counts per year and the attribution.

    Raises
    ------
    ExportFormatError
        When a wijk with figures has no boundary, or a boundary is not valid.
    """
    tolerance = float(config.get("tolerance_m", SIMPLIFY_TOLERANCE_M))
    boundaries = read_wijk_boundaries(mirror / config["boundaries"], tolerance)
    if not boundaries.geometry.is_valid.all():
        bad = boundaries.loc[~boundaries.geometry.is_valid, "code"].tolist()
        raise ExportFormatError(f"Ongeldige wijkgrenzen na vereenvoudiging: {bad[:5]}")
    statistics = build_statistics(mirror, config)
    wijken_2024 = statistics[(statistics["year"] == 2024) & (statistics["level"] == "wijk")]
    missing = sorted(set(wijken_2024["code"]) - set(boundaries["code"]))
    if missing:
        raise ExportFormatError(
            f"{len(missing)} wijken van 2024 hebben geen grens in {config['boundaries']} "
            f"(bijvoorbeeld {missing[:3]}); kies een wijkbestand van dezelfde indeling."
        )
    boundaries = boundaries[boundaries["code"].isin(set(wijken_2024["code"]))]
    geo.write_geoparquet(boundaries.reset_index(drop=True), out_dir / GEOMETRY_FILE)
    store.write_frame(statistics, out_dir / STATISTICS_FILE)
    sources = {}
    for key in (
        "boundaries",
        "statistics_2020",
        "regions_2020",
        "statistics_2024",
        "origin_2024",
        "properties_2024",
        "areas_2024",
        "households_2024_gemeenten",
    ):
        path = mirror / config[key]
        sources[key] = {
            "mirror_path": config[key],
            "mirror_sha256": store.sha256_file(path) if path.is_file() else None,
        }
    counts = {
        str(year): {
            "gemeenten": int(
                ((statistics["year"] == year) & (statistics["level"] == "gemeente")).sum()
            ),
            "wijken": int(((statistics["year"] == year) & (statistics["level"] == "wijk")).sum()),
        }
        for year in YEARS
    }
    return {
        "files": [GEOMETRY_FILE, STATISTICS_FILE],
        "tables": {str(y): t for y, t in TABLE_OF_YEAR.items()},
        "division": "elk cijfer op de indeling van zijn eigen jaar (kolom division)",
        "boundaries_division": 2024,
        "tolerance_m": tolerance,
        "boundary_attribution": BOUNDARY_ATTRIBUTION,
        "households_2024": SECONDARY_HOUSEHOLDS,
        "counts": counts,
        "wijken_with_boundary": int(len(boundaries)),
        "sources": sources,
    }


# ----------------------------------------------------------------------------------------------
# Reading the snapshot
# ----------------------------------------------------------------------------------------------
def _snapshot_path(name: str) -> Path:
    path = Path(settings.snapshot_dir) / name
    if not path.is_file():
        raise SnapshotMissing(
            f"{name} ontbreekt in de snapshot ({Path(settings.snapshot_dir).name}/): de "
            "wijkcijfers zitten er nog niet in. Bouw de snapshot opnieuw met "
            "`westerkwartier snapshot --mirror PAD`."
        )
    return path


@lru_cache(maxsize=4)
def _statistics(snapshot_dir: str) -> pd.DataFrame:
    return store.read_frame(_snapshot_path(STATISTICS_FILE))


@lru_cache(maxsize=4)
def _geometry(snapshot_dir: str) -> gpd.GeoDataFrame:
    return gpd.read_parquet(_snapshot_path(GEOMETRY_FILE))


def statistics() -> pd.DataFrame:
    """Return the stored wijk and municipal statistics of 2020 and 2024 (a copy).

    Returns
    -------
    pandas.DataFrame
        :data:`STATISTICS_COLUMNS`; counts of wijken as CBS published them (randomly rounded
        to 5), municipal counts exact.
    """
    return _statistics(str(settings.snapshot_dir)).copy()


def boundaries() -> gpd.GeoDataFrame:
    """Return the wijk boundaries of the 2024 division (RD New): ``code``, ``gemeente``."""
    return _geometry(str(settings.snapshot_dir)).copy()


__all__ = [
    "BOUNDARY_ATTRIBUTION",
    "COUNT_MEASURES",
    "MEASURE_STEMS",
    "SIMPLIFY_TOLERANCE_M",
    "TABLE_OF_YEAR",
    "YEARS",
    "boundaries",
    "build",
    "build_statistics",
    "read_kwb_2020",
    "read_kwb_2024",
    "read_pdok_households",
    "read_wijk_boundaries",
    "statistics",
    "wijk_names",
]
