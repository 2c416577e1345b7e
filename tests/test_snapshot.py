"""The offline snapshot: built from the mirror, deterministic, compact, values unchanged."""

from __future__ import annotations

import filecmp
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from westerkwartier import settings
from westerkwartier.errors import MirrorMissing, OfflineDataMissing
from westerkwartier.indicators.catalogue import MISSING
from westerkwartier.sources import data, geo, regions, snapshot, store

COMMITTED = Path(settings.snapshot_dir)


@pytest.fixture(scope="session")
def built(mirror, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("snap") / "snapshot"
    snapshot.build(mirror, out)
    return out


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_rebuild_gives_identical_bytes(mirror, built, tmp_path):
    again = tmp_path / "again"
    snapshot.build(mirror, again)
    assert _files(built) == _files(again)
    for name in _files(built):
        assert filecmp.cmp(built / name, again / name, shallow=False), name


def test_committed_snapshot_matches_a_fresh_build(built):
    assert _files(COMMITTED) == _files(built)
    assert (COMMITTED / "provenance.json").read_bytes() == (built / "provenance.json").read_bytes()
    for tid in ["86088NED", "85036NED", "03759ned"]:
        a = store.read_table(COMMITTED / "tables", tid)
        b = store.read_table(built / "tables", tid)
        assert a.data.equals(b.data), tid


def test_committed_wijk_files_match_a_fresh_build(built):
    for name in ("wijken.parquet", "wijken_statistieken.parquet"):
        assert (COMMITTED / name).read_bytes() == (built / name).read_bytes(), name
    wijk = store.read_frame(built / "wijken_statistieken.parquet")
    counts = json.loads((built / "provenance.json").read_text())["wijken"]["counts"]
    for year in (2020, 2024):
        rows = wijk[wijk["year"] == year]
        assert counts[str(year)]["wijken"] == int((rows["level"] == "wijk").sum())
        assert (rows["division"] == year).all()
    assert counts["2024"] == {"gemeenten": 342, "wijken": 3393}
    assert counts["2020"] == {"gemeenten": 355, "wijken": 3177}
    readme = (built / "README.md").read_text()
    assert "Wijkgrenzen: CBS, Kadaster (PDOK wijkenbuurten 2024), CC BY 4.0" in readme
    assert "secundaire bron" in readme


def test_snapshot_is_compact_and_attributed(built):
    size = sum((built / f).stat().st_size for f in _files(built))
    assert size <= snapshot.MAX_BYTES <= 15 * 1024 * 1024
    readme = (built / "README.md").read_text()
    assert "Bron: CBS" in readme and "CC BY 4.0" in readme


def test_no_file_is_a_copy_of_a_mirror_file(mirror, built):
    mirror_sums = {store.sha256_file(p) for p in mirror.rglob("*") if p.is_file()}
    for name in _files(built):
        assert store.sha256_file(built / name) not in mirror_sums, name


@pytest.mark.parametrize(
    ("table_id", "stem", "selection", "region", "period", "expected"),
    [
        (
            "86088NED",
            "NettoArbeidsparticipatie",
            {"Persoonskenmerken": "Totaal personen"},
            "GM1969",
            "2023JJ00",
            74.2,
        ),
        (
            "86088NED",
            "NettoArbeidsparticipatie",
            {"Persoonskenmerken": "Totaal personen"},
            "PV20",
            "2023JJ00",
            None,
        ),
        (
            "85036NED",
            "GemiddeldeWOZWaardeVanWoningen",
            {"Eigendom": "Totaal"},
            "GM1969",
            "2024JJ00",
            301.0,
        ),
        (
            "85036NED",
            "GemiddeldeWOZWaardeVanWoningen",
            {"Eigendom": "Totaal"},
            "GM0014",
            "2024JJ00",
            None,
        ),
        ("03759ned", "BevolkingOp1Januari", {}, "GM1969", "2024JJ00", 64896.0),
        ("03759ned", "BevolkingOp1Januari", {}, "GM1969", "2019JJ00", 63031.0),
    ],
)
def test_values_survive_unchanged(
    mirror, built, table_id, stem, selection, region, period, expected
):
    table = store.read_table(built / "tables", table_id)
    rows = table.select(**selection)
    rows = rows[(rows[table.region_dimension] == region) & (rows[table.period_dimension] == period)]
    assert len(rows) == 1
    value = rows[table.topic(stem)].iloc[0]
    if expected is None:  # compare with the mirror export itself
        expected = _mirror_value(mirror, table_id, table.topic(stem), selection, region, period)
    assert value == pytest.approx(expected)


def _mirror_value(mirror, table_id, key, selection, region, period):
    import pandas as pd

    raw = pd.read_csv(mirror / "tables" / f"{table_id}.csv", sep=";", encoding="utf-8-sig")
    names = {"PV20": "Groningen (PV)", "GM0014": "Groningen (gemeente)", "GM1969": "Westerkwartier"}
    mask = (raw["RegioS"].str.strip() == names[region]) & (
        raw["Perioden"].astype(str).str.strip() == period[:4]
    )
    for dim, title in selection.items():
        mask &= raw[dim].str.strip() == title
    hit = raw.loc[mask, key]
    assert len(hit) == 1
    return float(hit.iloc[0])


def test_health_table_keeps_margins_and_ggd(built):
    table = store.read_table(built / "tables", "85563NED")
    assert "Marges" in table.dimensions
    assert table.data[table.region_dimension].str.startswith("GG").any()
    assert table.info["period"] == "2022JJ00"


def test_truncated_exports_are_flagged_in_provenance(built):
    import json

    prov = json.loads((built / "provenance.json").read_text())
    entry = prov["tables"]["86088NED"]
    assert entry["truncated_export"] is True
    assert entry["complete_slices"] == {"Persoonskenmerken": ["Totaal personen"]}
    assert prov["tables"]["84903NED"]["truncated_export"] is False
    assert entry["periods"][0] == "2013" and entry["periods"][-1] == "2024"


def test_only_wanted_region_levels_are_kept(built):
    table = store.read_table(built / "tables", "85984NED")
    prefixes = set(table.data[table.region_dimension].str[:2])
    assert prefixes <= {"NL", "GM"}
    assert "WK" not in prefixes and "BU" not in prefixes


def test_registry_and_boundaries(built, monkeypatch):
    registry = regions.load_registry(built / "regions.parquet")
    assert len(registry.municipalities()) == 342
    assert len(registry.provinces()) == 12
    monkeypatch.setattr(settings, "snapshot_dir", built)
    gemeenten = geo.municipalities()
    assert len(gemeenten) == 342 and gemeenten.is_valid.all()
    assert gemeenten.crs.to_epsg() == 28992
    assert set(gemeenten.geom_type) <= {"Polygon", "MultiPolygon"}
    area = gemeenten.loc[gemeenten["code"] == "GM1969"].area.iloc[0] / 1e6
    assert 360 < area < 380  # Westerkwartier is about 369 km2
    assert len(geo.provinces()) == 12


def test_neighbours_are_symmetric_and_sensible(built, monkeypatch):
    monkeypatch.setattr(settings, "snapshot_dir", built)
    buren = geo.neighbours("GM1969")
    assert {"GM0014", "GM1699", "GM1966"} <= set(buren)  # Groningen, Noordenveld, Het Hogeland
    assert "GM0088" not in buren
    for code in buren:
        assert "GM1969" in geo.neighbours(code)
    assert geo.neighbours("GM0088") == []  # Schiermonnikoog has no land border


def test_interrupted_build_keeps_the_old_snapshot(mirror, tmp_path, monkeypatch):
    out = tmp_path / "snapshot"
    out.mkdir()
    (out / "marker.txt").write_text("old")

    def broken(mirror_dir, entry):
        raise RuntimeError("disk full")

    monkeypatch.setitem(snapshot.READERS, "odata-v4", broken)
    with pytest.raises(RuntimeError):
        snapshot.build(mirror, out)
    assert (out / "marker.txt").read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["snapshot"]  # no temporary folder left


def test_missing_mirror_is_a_clear_error(tmp_path):
    with pytest.raises(MirrorMissing, match="--mirror"):
        snapshot.build(tmp_path / "nowhere", tmp_path / "out")


def test_get_table_offline_reads_the_committed_snapshot(monkeypatch):
    monkeypatch.setattr(settings, "offline", True)
    table = data.get_table("85036NED")
    assert table.source == "snapshot"
    assert "GM1969" in set(table.data["RegioS"])
    with pytest.raises(OfflineDataMissing, match="alleen online"):
        data.get_table("60048ned")


def test_catalogue_offline_flags_agree_with_the_snapshot():
    from westerkwartier.indicators.catalogue import load_catalogue

    in_snapshot = {t.lower() for t in data.snapshot_table_ids()}
    catalogue = load_catalogue()
    for table_id, spec in catalogue.tables.items():
        assert spec.offline == (table_id.lower() in in_snapshot), table_id


def test_distances_come_from_cbs_80305ned_and_the_kwb_layer_fills_its_gaps(monkeypatch):
    from westerkwartier.indicators import panel

    monkeypatch.setattr(settings, "offline", True)
    p = panel.panel(regions=["GM1969", "NL01", "GM0193"], indicators=["afstand_huisarts"])

    def at(code, year):
        return p[(p["region_code"] == code) & (p["year"] == year)].iloc[0]

    own = at("GM1969", 2023)
    assert own["value"] == 1.6 and own["source_table"] == "80305ned"
    nl = at("NL01", 2023)
    assert nl["value"] == 1.1 and nl["source_table"] == "80305ned"
    # Zwolle is cut off the offline 80305ned export: the KWB layer of that year fills in
    zwolle = at("GM0193", 2023)
    assert zwolle["source_table"] == "85618NED" and zwolle["value"] > 0
    assert np.isnan(at("GM0193", 2021)["value"])  # no KWB layer offline for 2021
    # and CBS did publish it: the offline copy ends before Zwolle (was "niet gepubliceerd")
    assert at("GM0193", 2021)["missing_reason"] == MISSING["online_only"]


def test_regions_past_the_end_of_a_cut_off_copy_are_only_online(mirror, monkeypatch):
    """80305ned's export stops at Zwijndrecht 2015; Zwolle and Zwijndrecht are only online."""
    from westerkwartier.indicators import panel

    raw = pd.read_csv(mirror / "tables-r3" / "80305ned.csv", sep=";", encoding="utf-8-sig")
    assert len(raw) == 10_000 and raw["RegioS"].iloc[-1] == "Zwijndrecht"
    assert "Zwolle" not in set(raw["RegioS"]) and "Zwartewaterland" in set(raw["RegioS"])
    monkeypatch.setattr(settings, "offline", True)
    p = panel.panel(regions=["GM0193", "GM0642", "GM1896"], indicators=["afstand_treinstation"])
    reasons = p.groupby("region_code")["missing_reason"].agg(lambda r: set(r.dropna()))
    assert reasons["GM0193"] == reasons["GM0642"] == {MISSING["online_only"]}
    assert p.loc[p["region_code"].isin(["GM0193", "GM0642"]), "value"].isna().all()
    # Zwartewaterland, just before the cut, keeps its figures and CBS's own gaps
    zwartewaterland = p[p["region_code"] == "GM1896"]
    assert zwartewaterland["value"].notna().sum() >= 10
    assert MISSING["online_only"] not in reasons["GM1896"]
