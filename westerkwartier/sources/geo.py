"""Municipal and provincial boundaries, and which municipalities are neighbours.

The snapshot holds simplified, valid boundaries in the Dutch national grid (RD New,
EPSG:28992, metres) as GeoParquet, and a precomputed table of neighbour pairs so that looking
up neighbours needs no geometry work at run time.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from westerkwartier import settings
from westerkwartier.errors import SnapshotMissing

#: Coordinate reference system of the stored boundaries (RD New, metres).
CRS = "EPSG:28992"

#: Douglas-Peucker tolerance in metres when simplifying boundaries for the snapshot.
SIMPLIFY_TOLERANCE_M = 40.0

#: Coordinates are snapped to this grid (metres), which keeps the files small and deterministic.
GRID_SIZE_M = 1.0

#: Two municipalities are neighbours when their boundaries come closer than this (metres);
#: generalised boundaries leave small gaps along shared borders.
NEIGHBOUR_DISTANCE_M = 150.0


def clean_boundaries(
    raw: gpd.GeoDataFrame,
    code_column: str,
    name_column: str,
    tolerance_m: float = SIMPLIFY_TOLERANCE_M,
) -> gpd.GeoDataFrame:
    """Return valid, simplified boundaries in RD New with ``code`` and ``name``.

    Parameters
    ----------
    raw : geopandas.GeoDataFrame
        Boundaries as published (e.g. CBS/PDOK ``gemeente_gegeneraliseerd``, EPSG:4326).
    code_column, name_column : str
        Columns holding the CBS code (``GM1969``) and the name.
    tolerance_m : float
        Douglas-Peucker tolerance in metres (default :data:`SIMPLIFY_TOLERANCE_M`, right for
        the coarse municipal layer; wijken use a smaller one).
    """
    frame = raw[[code_column, name_column, "geometry"]].rename(
        columns={code_column: "code", name_column: "name"}
    )
    if frame.crs is None:
        frame = frame.set_crs("EPSG:4326")
    frame = frame.to_crs(CRS)
    geometry = shapely.make_valid(frame.geometry.values)
    geometry = shapely.simplify(geometry, tolerance_m, preserve_topology=True)
    geometry = shapely.set_precision(geometry, GRID_SIZE_M)
    geometry = [_polygonal(g) for g in shapely.make_valid(geometry)]
    frame = frame.set_geometry(gpd.GeoSeries(geometry, index=frame.index, crs=CRS))
    frame["code"] = frame["code"].str.strip()
    frame["name"] = frame["name"].str.strip()
    return frame.sort_values("code").reset_index(drop=True)


def _polygonal(geometry: shapely.Geometry) -> shapely.Geometry:
    """Keep only the polygon parts of a geometry (make_valid can add stray lines or points)."""
    if geometry.geom_type in ("Polygon", "MultiPolygon"):
        return geometry
    parts = [p for p in shapely.get_parts(geometry) if p.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts)


def dissolve_provinces(
    municipalities: gpd.GeoDataFrame, province_of: pd.Series
) -> gpd.GeoDataFrame:
    """Union municipal boundaries into provinces.

    Parameters
    ----------
    municipalities : geopandas.GeoDataFrame
        Output of :func:`clean_boundaries`.
    province_of : pandas.DataFrame
        Frame with ``code`` (GM), ``province_code`` and ``province_name``.
    """
    merged = municipalities.merge(province_of, on="code", how="inner")
    merged = merged[["province_code", "province_name", "geometry"]]
    provinces = merged.dissolve(by=["province_code", "province_name"], as_index=False)
    provinces = provinces.rename(columns={"province_code": "code", "province_name": "name"})
    geometry = shapely.set_precision(shapely.make_valid(provinces.geometry.values), GRID_SIZE_M)
    geometry = [_polygonal(g) for g in geometry]
    provinces = provinces[["code", "name"]].set_geometry(gpd.GeoSeries(geometry, crs=CRS))
    return provinces.sort_values("code").reset_index(drop=True)


def neighbour_pairs(municipalities: gpd.GeoDataFrame) -> pd.DataFrame:
    """Return every ordered pair of municipalities that share a boundary.

    Returns
    -------
    pandas.DataFrame
        Columns ``code`` and ``neighbour``, sorted.
    """
    left = municipalities[["code", "geometry"]]
    right = municipalities[["code", "geometry"]].rename(columns={"code": "neighbour"})
    pairs = gpd.sjoin(left, right, how="inner", predicate="dwithin", distance=NEIGHBOUR_DISTANCE_M)
    pairs = pairs.loc[pairs["code"] != pairs["neighbour"], ["code", "neighbour"]]
    return pairs.sort_values(["code", "neighbour"]).reset_index(drop=True)


def write_geoparquet(frame: gpd.GeoDataFrame, path: Path) -> str:
    """Write boundaries as GeoParquet (zstd, no bbox column) atomically; return the sha256.

    The bytes depend only on the frame, so two builds from the same mirror are identical.
    """
    import io

    from westerkwartier.sources import store

    buffer = io.BytesIO()
    frame.to_parquet(buffer, compression="zstd", index=False, write_covering_bbox=False)
    data = buffer.getvalue()
    store.write_bytes_atomic(path, data)
    return store.sha256_bytes(data)


def _snapshot_file(name: str) -> Path:
    path = Path(settings.snapshot_dir) / name
    if not path.is_file():
        raise SnapshotMissing(
            f"{name} ontbreekt in de snapshot ({Path(settings.snapshot_dir).name}/). "
            "Bouw de snapshot met `westerkwartier snapshot --mirror PAD`."
        )
    return path


@lru_cache(maxsize=4)
def _load(name: str, snapshot_dir: str) -> gpd.GeoDataFrame:
    return gpd.read_parquet(_snapshot_file(name))


def municipalities() -> gpd.GeoDataFrame:
    """Return the municipal boundaries of the current division (RD New)."""
    return _load("gemeenten.parquet", str(settings.snapshot_dir)).copy()


def provinces() -> gpd.GeoDataFrame:
    """Return the provincial boundaries (RD New)."""
    return _load("provincies.parquet", str(settings.snapshot_dir)).copy()


@lru_cache(maxsize=4)
def _pairs(snapshot_dir: str) -> pd.DataFrame:
    return pd.read_parquet(_snapshot_file("buren.parquet"))


def neighbours(code: str) -> list[str]:
    """Return the codes of the municipalities sharing a boundary with ``code``.

    Examples
    --------
    >>> neighbours("GM1969")
    ['GM0014', 'GM0059', 'GM0086', 'GM0090', 'GM1699', 'GM1966', 'GM1970']
    """
    pairs = _pairs(str(settings.snapshot_dir))
    return sorted(pairs.loc[pairs["code"] == code, "neighbour"].tolist())
