"""Build the offline snapshot (``data/snapshot``) from the CBS mirror.

The snapshot is everything the indicator layer and the reports need to run without a network:
the CBS tables named in ``config/snapshot.toml`` in our own compact form (codes, topics, code
lists; truncated exports reduced to their complete slices), the region registry, simplified
municipal and provincial boundaries, the neighbour pairs, and a provenance file that lists
every table with its title, periods, status and source. It is deterministic: building it twice
from the same mirror gives identical bytes (no build timestamps; the data date is the newest
CBS modification date of the tables).

The build writes into a temporary folder beside the target and swaps it in at the end, so an
interrupted build leaves the previous snapshot intact.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd

from westerkwartier import settings
from westerkwartier.config import config_file, read_toml
from westerkwartier.errors import MirrorMissing, WesterkwartierError
from westerkwartier.sources import exports, geo, odata4, regions, store, wijken
from westerkwartier.sources.data import PROVENANCE, TABLES_DIR
from westerkwartier.sources.periods import title_of
from westerkwartier.sources.table import CbsTable

log = logging.getLogger(__name__)

#: Upper bound of the snapshot's size in bytes: at most 15 MB in all, so that the repository
#: stays small enough to clone quickly.
MAX_BYTES = 15 * 1024 * 1024

#: File of the municipal divisions per year (which municipality lay in which province).
DIVISIONS = "indelingen.parquet"

ATTRIBUTION = (
    "Bron: CBS (Centraal Bureau voor de Statistiek), StatLine open data, licentie CC BY 4.0 "
    "(https://creativecommons.org/licenses/by/4.0/deed.nl). Gemeentegrenzen: CBS/PDOK, CC BY 4.0. "
    "Wijkgrenzen: CBS, Kadaster (PDOK wijkenbuurten 2024), CC BY 4.0. "
    "Bewerkt door het project westerkwartier: omgezet naar codes, afgekapte exports beperkt tot "
    "hun volledige delen, grenzen vereenvoudigd."
)


def load_config() -> dict[str, Any]:
    """Return the snapshot configuration (``westerkwartier/config/snapshot.toml``)."""
    return read_toml(config_file("snapshot.toml"), what="de snapshotinstellingen").data


def _check_mirror(mirror: Path) -> Path:
    mirror = Path(mirror)
    if not (mirror / "MANIFEST.md").is_file():
        raise MirrorMissing(
            f"Geen CBS-spiegel gevonden in {mirror.name or mirror}: de map moet MANIFEST.md en de "
            "mappen tables/, odata-v4/, statline/ en boundaries/ bevatten. Geef de juiste map met "
            "--mirror PAD of zet WESTERKWARTIER_MIRROR."
        )
    return mirror


#: How each ``reader`` named in the configuration turns a mirror entry into a table.
READERS: dict[str, Callable[[Path, dict[str, Any]], CbsTable]] = {
    "export": lambda mirror, entry: exports.read_mirror_table(entry["id"], mirror),
    "coded": lambda mirror, entry: exports.read_coded_export(
        mirror / entry["path"],
        entry["id"],
        units=exports.load_export_units().get(entry["id"].upper(), {}),
        info={"title": entry.get("title")},
    ),
    "odata-v3-parquet": lambda mirror, entry: exports.read_typed_v3_parquet(
        mirror / entry["path"], entry["id"], entry["year"]
    ),
    "odata-v4": lambda mirror, entry: odata4.read_v4_capture(mirror / entry["path"]),
    "kwb-attributes": lambda mirror, entry: exports.read_kwb_attributes(
        mirror / entry["path"], entry["id"], entry["year"], entry.get("title")
    ),
}


def keep_regions(table: CbsTable, prefixes: list[str]) -> CbsTable:
    """Drop rows of regions whose code does not start with one of ``prefixes``.

    Wijken and buurten (``WK``, ``BU``) and other groupings are not needed by the indicators.
    Every geographic dimension is filtered (the commuting tables have a region of residence
    and a region of work).
    """
    geo = [d for d, kind in table.dimension_types.items() if kind == "GeoDimension"]
    for dim in geo:
        codes = table.data[dim].astype(str)
        mask = codes.str[:2].isin(prefixes)
        table.data = table.data.loc[mask].reset_index(drop=True)
        region_codes = table.dimensions.get(dim)
        if region_codes is not None and len(region_codes):
            keep = region_codes["key"].astype(str).str[:2].isin(prefixes)
            table.dimensions[dim] = region_codes.loc[keep].reset_index(drop=True)
    return table


def keep_slices(table: CbsTable, selection: dict[str, Any]) -> CbsTable:
    """Keep only the rows whose dimensions have the given categories (codes or titles).

    ``selection`` maps a dimension to one category or a list of them, e.g.
    ``{"Sex": "T001038"}``: the snapshot then holds the totals only.

    Raises
    ------
    WesterkwartierError
        If a dimension or category is not in the table (the configuration is wrong).
    """
    from westerkwartier.errors import CbsSchemaError

    mask = None
    for dim, wanted in selection.items():
        values = [wanted] if isinstance(wanted, str) else list(wanted)
        try:
            keys = [table.dimension_key(dim, str(v)) for v in values]
        except CbsSchemaError as err:
            raise WesterkwartierError(
                f"config/snapshot.toml, tabel {table.table_id}: keep = {selection!r} past niet "
                f"bij de tabel ({err}). Verbeter de selectie."
            ) from None
        hit = table.data[dim].isin(keys)
        mask = hit if mask is None else mask & hit
        codes = table.dimensions[dim]
        table.dimensions[dim] = codes.loc[codes["key"].isin(keys)].reset_index(drop=True)
    if mask is not None:
        table.data = table.data.loc[mask].reset_index(drop=True)
    return table


def mark_provisional(table: CbsTable, periods: list[str]) -> CbsTable:
    """Give the periods CBS marks as provisional the status ``voorlopig``.

    Exports made with ``cbsodata.get_data()`` lose the asterisk StatLine shows after a
    provisional period (``2023*``); the snapshot configuration names those periods instead
    (``voorlopig = ["2023"]``, by title or code).
    """
    dim = table.period_dimension
    if dim is None or not periods:
        return table
    codes = table.dimensions[dim].copy()
    if "status" not in codes:
        codes["status"] = "definitief"
    wanted = {str(p).strip() for p in periods}
    hit = codes["key"].isin(wanted) | codes["title"].astype(str).str.strip().isin(wanted)
    hit |= codes["key"].astype(str).str[:4].isin(wanted) & codes["key"].astype(str).str.match(
        r"^\d{4}(JJ|MM)"
    )
    codes.loc[hit, "status"] = "voorlopig"
    table.dimensions[dim] = codes
    return table


def _table_provenance(table: CbsTable, entry: dict[str, Any], mirror: Path) -> dict[str, Any]:
    periods: list[str] = []
    statuses: dict[str, str] = {}
    dim = table.period_dimension
    if dim is not None and len(table.data):
        present = sorted(set(table.data[dim]))
        periods = [title_of(p) for p in present]
        status = table.period_status.set_index("key")["status"]
        statuses = {title_of(p): str(status.get(p, "definitief")) for p in present}
    elif table.info.get("period"):
        periods = [title_of(str(table.info["period"]))]
    return {
        "id": table.table_id,
        "title": table.title,
        "modified": table.info.get("modified"),
        "output_status": table.info.get("output_status"),
        "periods": periods,
        "period_status": statuses,
        "rows": len(table.data),
        "truncated_export": bool(table.info.get("truncated", False)),
        "complete_slices": table.complete_slices,
        "source": {
            "reader": entry["reader"],
            "mirror_path": entry["path"],
            "mirror_sha256": (
                store.sha256_file(mirror / entry["path"])
                if (mirror / entry["path"]).is_file()
                else None
            ),
        },
    }


def _write_geo(frame: gpd.GeoDataFrame, path: Path) -> str:
    return geo.write_geoparquet(frame, path)


def _readme(provenance: dict[str, Any]) -> str:
    lines = [
        "# Offline snapshot",
        "",
        "Gebouwd met `westerkwartier snapshot --mirror PAD` uit de CBS-spiegel; niet met de hand "
        "bewerken. Bouw opnieuw na een wijziging in `westerkwartier/config/snapshot.toml`.",
        "",
        ATTRIBUTION,
        "",
        f"Datum van de gegevens (nieuwste CBS-wijziging): {provenance['data_date']}.",
        "",
        "| tabel | titel | perioden | rijen | afgekapte export |",
        "|---|---|---|---|---|",
    ]
    for tid, t in sorted(provenance["tables"].items()):
        periods = f"{t['periods'][0]}–{t['periods'][-1]}" if t["periods"] else "-"
        lines.append(
            f"| {tid} | {t['title']} | {periods} | {t['rows']} | "
            f"{'ja (alleen volledige delen)' if t['truncated_export'] else 'nee'} |"
        )
    lines += [
        "",
        "Verder: `regions.parquet` (gemeenten, provincies, Nederland en opgeheven gemeenten), "
        "`gemeenten.parquet` en `provincies.parquet` (grenzen, RD New, vereenvoudigd), "
        "`buren.parquet` (gemeenten met een gemeenschappelijke grens), `indelingen.parquet` "
        "(per jaar van 2019 af: de gemeenten en hun provincie), `provenance.json`.",
        "",
    ]
    wijk = provenance.get("wijken")
    if wijk:
        counts = ", ".join(
            f"{year}: {c['wijken']} wijken in {c['gemeenten']} gemeenten"
            for year, c in sorted(wijk["counts"].items())
        )
        lines += [
            "Wijken: `wijken.parquet` (wijkgrenzen van de indeling 2024, RD New, vereenvoudigd "
            f"met {wijk['tolerance_m']:g} m; {wijk['boundary_attribution']}) en "
            "`wijken_statistieken.parquet` (Kerncijfers wijken en buurten "
            f"{', '.join(f'{y} ({t})' for y, t in sorted(wijk['tables'].items()))}; "
            f"{counts}; per cijfer het jaar van de indeling; huishoudens 2024 uit "
            f"{wijk['households_2024']}).",
            "",
        ]
    return "\n".join(lines)


def build(mirror: Path | None = None, out_dir: Path | None = None) -> dict[str, Any]:
    """Build the offline snapshot from the CBS mirror.

    Parameters
    ----------
    mirror : Path, optional
        The CBS mirror folder (default ``settings.mirror_dir``).
    out_dir : Path, optional
        Where the snapshot goes (default ``settings.snapshot_dir``). Replaced as a whole at the
        end of a successful build.

    Returns
    -------
    dict
        The provenance written to ``provenance.json``, plus ``bytes`` (total size).

    Raises
    ------
    MirrorMissing
        If ``mirror`` is not a CBS mirror.
    WesterkwartierError
        If the result would exceed :data:`MAX_BYTES`.
    """
    from tqdm.auto import tqdm

    mirror = _check_mirror(Path(mirror or settings.mirror_dir))
    out_dir = Path(out_dir or settings.snapshot_dir)
    config = load_config()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".snapshot-", dir=out_dir.parent))
    try:
        registry = regions.build_registry(mirror)
        prefixes = list(config["keep_region_prefixes"])
        tables: dict[str, Any] = {}
        entries = config["table"]
        for entry in tqdm(entries, desc="snapshot", unit="tabel", disable=not settings.progress):
            table = keep_regions(READERS[entry["reader"]](mirror, entry), prefixes)
            table = keep_slices(table, entry.get("keep") or {})
            table = mark_provisional(table, list(entry.get("voorlopig") or []))
            if entry.get("title") and table.info.get("title") in (None, "", table.table_id):
                table.info["title"] = entry["title"]
                table.info["title_verified"] = entry.get("title_verified", True)
            store.write_table(table, work / TABLES_DIR, table.table_id)
            tables[table.table_id] = _table_provenance(table, entry, mirror)
            log.info("snapshot: %s (%d rijen)", table.table_id, len(table.data))

        store.write_frame(registry, work / "regions.parquet")
        store.write_frame(regions.build_divisions(mirror), work / DIVISIONS)
        raw = gpd.read_file(mirror / config["boundaries"])
        municipalities = geo.clean_boundaries(raw, "statcode", "statnaam")
        province_of = registry.loc[
            registry["level"] == "gemeente", ["code", "province_code", "province_name"]
        ]
        _write_geo(municipalities, work / "gemeenten.parquet")
        _write_geo(geo.dissolve_provinces(municipalities, province_of), work / "provincies.parquet")
        store.write_frame(geo.neighbour_pairs(municipalities), work / "buren.parquet")
        wijk_provenance = None
        if "wijken" in config:  # wijk boundaries and statistics, in files of their own
            wijk_provenance = wijken.build(mirror, work, config["wijken"])

        modified = sorted(str(t["modified"])[:10] for t in tables.values() if t.get("modified"))
        provenance = {
            "attribution": ATTRIBUTION,
            "licence": "CC BY 4.0",
            "built_from": "CBS-spiegel (MANIFEST.md)",
            "data_date": modified[-1] if modified else None,
            "boundaries": config["boundaries"],
            "tables": tables,
        }
        if wijk_provenance is not None:
            provenance["wijken"] = wijk_provenance
        store.write_bytes_atomic(work / PROVENANCE, store.dumps_json(provenance))
        (work / "README.md").write_text(_readme(provenance), encoding="utf-8")

        size = sum(p.stat().st_size for p in work.rglob("*") if p.is_file())
        if size > MAX_BYTES:
            raise WesterkwartierError(
                f"De snapshot zou {size / 1e6:.1f} MB worden, meer dan de grens van "
                f"{MAX_BYTES / 1e6:.0f} MB. Neem minder tabellen op in config/snapshot.toml."
            )
        _swap(work, out_dir)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return provenance | {"bytes": size}


def _swap(new: Path, target: Path) -> None:
    """Replace ``target`` by ``new``; the old folder is removed only after the rename."""
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}-old")
        shutil.rmtree(old, ignore_errors=True)
        target.rename(old)
    new.rename(target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
