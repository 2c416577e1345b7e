"""Wijken: snapshot values against the raw mirror files, rounding rules, geometry, API, CLI,
the report section and the analyst notebook."""

from __future__ import annotations

import html as htmllib
import json
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from westerkwartier import errors, settings
from westerkwartier.indicators import wijken as ind
from westerkwartier.sources import wijken as src
from westerkwartier.sources.regions import load_registry

#: Westerkwartier, the city of Groningen (20 wijken, three with a moved boundary), Tilburg
#: (59 wijken), Urk (one wijk).
MUNICIPALITIES = ["GM1969", "GM0014", "GM0855", "GM0184"]

#: Column positions of the 2024 StatLine download (name;gemeente;soort;code;flag;counts...).
RAW_2024_COUNTS = {
    "inwoners": 5,
    "mannen": 6,
    "vrouwen": 7,
    "leeftijd_0_14": 8,
    "leeftijd_15_24": 9,
    "leeftijd_25_44": 10,
    "leeftijd_45_64": 11,
    "leeftijd_65plus": 12,
}
#: The same measures in the typed 2020 table (exact CBS keys).
RAW_2020_COUNTS = {
    "inwoners": "AantalInwoners_5",
    "mannen": "Mannen_6",
    "vrouwen": "Vrouwen_7",
    "leeftijd_0_14": "k_0Tot15Jaar_8",
    "leeftijd_15_24": "k_15Tot25Jaar_9",
    "leeftijd_25_44": "k_25Tot45Jaar_10",
    "leeftijd_45_64": "k_45Tot65Jaar_11",
    "leeftijd_65plus": "k_65JaarOfOuder_12",
    "huishoudens": "HuishoudensTotaal_28",
    "huishoudensgrootte": "GemiddeldeHuishoudensgrootte_32",
}


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    monkeypatch.setattr(settings, "offline", True)


@pytest.fixture(scope="module")
def raw2024(mirror) -> pd.DataFrame:
    """The 2024 download read by column position, independently of the package's reader."""
    raw = pd.read_csv(
        mirror / "statline" / "85984NED_kwb2024_leeftijd_geslacht.csv",
        sep=";",
        dtype=str,
        encoding="utf-8-sig",
        keep_default_na=False,
    )
    out = pd.DataFrame({"code": raw.iloc[:, 3].str.strip(), "soort": raw.iloc[:, 2].str.strip()})
    for measure, position in RAW_2024_COUNTS.items():
        out[measure] = pd.to_numeric(raw.iloc[:, position].str.strip(), errors="coerce")
    return out.set_index("code")


@pytest.fixture(scope="module")
def raw2020(mirror) -> pd.DataFrame:
    data = pd.read_parquet(
        mirror / "odata-v3" / "84799NED" / "cbs.v3.84799NED_TypedDataSet.parquet"
    )
    out = pd.DataFrame({"code": data["WijkenEnBuurten"].str.strip()})
    for measure, key in RAW_2020_COUNTS.items():
        out[measure] = pd.to_numeric(data[key], errors="coerce")
    return out.set_index("code")


@pytest.fixture(scope="module")
def stats() -> pd.DataFrame:
    return src.statistics()


def _codes(raw: pd.DataFrame, gemeente: str) -> list[str]:
    number = gemeente[2:]
    return [c for c in raw.index if c == gemeente or c.startswith(f"WK{number}")]


# -- values equal the mirror ---------------------------------------------------------------------
@pytest.mark.parametrize("gemeente", MUNICIPALITIES)
def test_stored_statistics_equal_the_mirror(stats, raw2020, raw2024, gemeente):
    for year, raw, measures in (
        (2020, raw2020, RAW_2020_COUNTS),
        (2024, raw2024, RAW_2024_COUNTS),
    ):
        codes = _codes(raw, gemeente)
        stored = stats[(stats["year"] == year) & stats["code"].isin(codes)].set_index("code")
        assert sorted(stored.index) == sorted(codes), (year, gemeente)
        assert (stored["division"] == year).all()
        for measure in measures:
            expected = raw.loc[codes, measure].astype(float)
            got = stored.loc[codes, measure].astype(float)
            assert np.allclose(got, expected, equal_nan=True), (year, gemeente, measure)


@pytest.mark.parametrize("gemeente", MUNICIPALITIES)
def test_api_values_equal_the_mirror(raw2020, raw2024, gemeente):
    frame = ind.wijken(gemeente, met_gemeente=True, met_beginjaar=True)
    from westerkwartier.sources.regions import load_registry

    verdict = ind.comparability(src.statistics(), load_registry())
    comparable = verdict.set_index("code")["comparable"]
    for code, group in frame.groupby("code"):
        rows = group.set_index(["indicator", "period"])["value"]
        assert rows[("inwoners", "2024")] == raw2024.at[code, "inwoners"]
        for band in ("15_24", "25_44"):
            measure = f"leeftijd_{band}"
            now = raw2024.at[code, measure]
            assert rows[(f"inwoners_{band}", "2024")] == now
            if comparable[code]:
                then = raw2020.at[code, measure]
                assert rows[(f"inwoners_{band}", "2020")] == then
                assert rows[(f"verandering_{band}", "2020-2024")] == now - then
            else:
                assert np.isnan(rows[(f"verandering_{band}", "2020-2024")])


def test_oracle_cases():
    """Figures a reader can look up in StatLine (Kerncijfers wijken en buurten 2020, 2024)."""
    wk = ind.wijken("Westerkwartier").set_index(["code", "indicator", "period"])
    zuidhorn = wk.loc[("WK196914", "verandering_25_44", "2020-2024")]
    assert (zuidhorn["value"], zuidhorn["low"], zuidhorn["high"]) == (145, 137, 153)
    assert zuidhorn["direction"] == "hoger" and zuidhorn["name"] == "Wijk 14 (Zuidhorn, Noordhorn)"
    midwolde = wk.loc[("WK196907", "verandering_15_24", "2020-2024")]
    assert midwolde["value"] == 0 and midwolde["direction"] == "onzeker"
    lettelbert = wk.loc[("WK196908", "aandeel_25_44", "2024")]
    assert np.isnan(lettelbert["value"]) and pd.isna(lettelbert["status"])
    assert "vijftallen" in lettelbert["missing_reason"]
    groningen = ind.wijken("Groningen").set_index(["code", "indicator", "period"])
    nieuw_west = groningen.loc[("WK001409", "inwoners_verandering", "2020-2024")]
    assert np.isnan(nieuw_west["value"])
    assert nieuw_west["missing_reason"] == "wijkgrens gewijzigd tussen 2020 en 2024"
    assert groningen.loc[("WK001409", "aandeel_25_44", "2024"), "value"] == pytest.approx(
        100 * 5740 / 19570
    )
    municipal = ind.wijken("Westerkwartier", met_gemeente=True).set_index(
        ["code", "indicator", "period"]
    )
    exact = municipal.loc[("GM1969", "verandering_25_44", "2020-2024")]
    assert (exact["value"], exact["low"], exact["high"]) == (821, 821, 821)


# -- sums, rounding, comparability ---------------------------------------------------------------
@pytest.mark.parametrize("year", [2020, 2024])
def test_sum_of_wijken_within_rounding_of_the_municipality(stats, year):
    check = ind.sum_check(stats, year)
    named = check[check["gemeente"].isin(MUNICIPALITIES)]
    assert len(named) == len(MUNICIPALITIES) * 8
    assert named["within_rounding"].all(), named[~named["within_rounding"]]
    # Nationally: where the difference is larger than rounding explains, the municipality has
    # more persons (people without a known address count for the municipality only).
    outside = check[~check["within_rounding"]]
    assert (outside["difference"] > 0).all(), outside


def test_wijk_counts_are_rounded_to_five_and_municipal_counts_exact(stats):
    wijken = stats[stats["level"] == "wijk"]
    for measure in src.COUNT_MEASURES:
        values = wijken[measure].dropna()
        assert (values % 5 == 0).all(), measure
    gm = stats[(stats["level"] == "gemeente") & (stats["year"] == 2024)]
    assert (gm["inwoners"] % 5 != 0).any()


def test_share_withheld_exactly_when_rounding_moves_it_more_than_five_points(stats):
    frame = ind.level_indicators(stats[stats["level"] == "wijk"], 2024)
    for band in ("15_24", "25_44", "65plus"):
        share = frame[frame["indicator"] == f"aandeel_{band}"].set_index("code")
        rows = stats[(stats["year"] == 2024) & (stats["level"] == "wijk")].set_index("code")
        n, a = rows["inwoners"], rows[f"leeftijd_{band}"]
        low = (a - 4).clip(lower=0) / (n + 4)
        high = np.minimum((a + 4) / (n - 4), 1.0)
        too_wide = 100 * (high - low) > 5
        withheld = share["value"].isna()
        assert (withheld == (too_wide | (n < 51))).all(), band
        assert withheld.sum() > 100  # the rule bites: small wijken lose their shares
        shown = share[~withheld]
        assert ((shown["high"] - shown["low"]) <= 5).all()
        assert (shown["low"] <= shown["value"]).all() and (shown["value"] <= shown["high"]).all()


def test_a_change_has_a_direction_only_when_rounding_cannot_flip_it():
    frame = ind.wijken("Tilburg")
    changes = frame[frame["indicator"] == "verandering_25_44"].dropna(subset=["value"])
    assert set(changes["direction"]) <= {"hoger", "lager", "onzeker", "gelijk"}
    certain = changes[changes["direction"].isin(["hoger", "lager"])]
    assert (certain["value"].abs() >= 10).all()
    assert (changes.loc[changes["value"].abs() < 9, "direction"] == "onzeker").all()


def test_comparability_counts_and_reasons(stats):
    from westerkwartier.sources.regions import load_registry

    verdict = ind.comparability(stats, load_registry())
    wijken = verdict[verdict["level"] == "wijk"]
    assert len(wijken) == 3393
    reasons = wijken["reason"].value_counts(dropna=False)
    # 183 wijken are an area of 2020 under its old code: 153 of 480 with a code new since 2020,
    # and 30 whose code belonged to another wijk in 2020 (until the round's third stop these
    # counted 19 more "boundary changed" and 11 more "new code")
    assert reasons[ind.MISSING_REASONS["boundary_changed"]] == 254
    assert reasons[ind.MISSING_REASONS["new_code"]] == 270
    assert reasons[ind.MISSING_REASONS["new_municipality"]] == 46
    assert wijken["comparable"].sum() == 2640 + 183
    renumbered = wijken[wijken["comparable"] & (wijken["code"] != wijken["code_from"])]
    assert len(renumbered) == 183
    by_code = verdict.set_index("code")
    assert by_code.at["WK008800", "comparable"]  # Schiermonnikoog: coastline, one wijk
    # Amsterdam renumbered its wijken in 2022: 83 of them kept name and area
    amsterdam = by_code.loc[[c for c in by_code.index if c.startswith("WK0363")]]
    assert amsterdam["comparable"].sum() == 83
    assert by_code.at["WK0363EE", "code_from"] == "WK036337"  # Landlust
    # Amsterdam took in Weesp (2022) whole: in 2020 it is the sum of both, as are six others
    assert by_code.at["GM0363", "comparable"]
    assert by_code.at["GM0363", "code_from"] == "GM0363+GM0457"
    summed = verdict[verdict["code_from"].astype(str).str.contains("+", regex=False)]
    assert sorted(summed["code"]) == [
        "GM0363",
        "GM0439",
        "GM1979",
        "GM1980",
        "GM1982",
        "GM1991",
        "GM1992",
    ]
    # Vught took in part of Haaren (split in 2021): no sum
    assert by_code.at["GM0865", "reason"] == ind.MISSING_REASONS["municipality_changed"]
    assert by_code.at["GM1969", "comparable"]


def test_every_figure_records_its_division():
    frame = ind.wijken("Groningen", met_beginjaar=True)
    assert frame["division"].notna().all()
    assert set(frame["division"]) == {"2020", "2024", "2020-2024"}
    assert (frame.loc[frame["period"] == "2020-2024", "division"] == "2020-2024").all()
    old = ind.wijken("Groningen", 2020)
    assert set(old["division"]) == {"2020"} and set(old["year"]) == {2020}


# -- geometry --------------------------------------------------------------------------------------
def test_geometry_is_valid_rd_new_and_covers_every_wijk(stats):
    shapes = src.boundaries()
    assert shapes.crs.to_epsg() == 28992
    assert shapes.is_valid.all() and not shapes.is_empty.any()
    assert set(shapes.geom_type) <= {"Polygon", "MultiPolygon"}
    wijken_2024 = set(stats.loc[(stats["year"] == 2024) & (stats["level"] == "wijk"), "code"])
    assert set(shapes["code"]) == wijken_2024 and len(shapes) == 3393
    # The polygons keep their areas: close to CBS's own total area per wijk.
    area = stats[(stats["year"] == 2024) & (stats["level"] == "wijk")].set_index("code")
    ratio = shapes.set_index("code").area / 1e4 / area["oppervlakte_totaal"]
    assert ratio.median() == pytest.approx(1.0, abs=0.01)
    wk = shapes[shapes["gemeente"] == "GM1969"]
    assert len(wk) == 18 and 360 < wk.union_all().area / 1e6 < 380


def test_households_2024_are_labelled_as_secondary_and_agree_with_cbs(mirror, raw2024):
    frame = ind.wijken("Westerkwartier")
    size = frame[(frame["indicator"] == "huishoudensgrootte") & (frame["year"] == 2024)]
    assert size["value"].notna().all()
    assert size["source"].str.contains("secundaire bron").all()
    old = ind.wijken("Westerkwartier", 2020)
    assert (old.loc[old["indicator"] == "huishoudensgrootte", "source"] == "84799NED").all()
    # Why the secondary source is trusted: its inhabitants are CBS's for every wijk.
    pdok = gpd.read_file(
        mirror / "boundaries" / "wijken_2024_pdok_kwb.geojson",
        columns=["wijkcode", "aantal_inwoners"],
        ignore_geometry=True,
    )
    pdok = pdok[pdok["wijkcode"].isin(raw2024.index)].set_index("wijkcode")
    assert len(pdok) == 3393
    assert (pdok["aantal_inwoners"] == raw2024.loc[pdok.index, "inwoners"]).all()


# -- names -----------------------------------------------------------------------------------------
def test_numbered_wijken_are_named_after_their_largest_buurten(stats):
    rows = stats[(stats["year"] == 2024) & (stats["gemeente"] == "GM1969")].set_index("code")
    assert rows.at["WK196914", "name"] == "Wijk 14 (Zuidhorn, Noordhorn)"
    assert rows.at["WK196914", "label"] == "Zuidhorn"
    assert rows.at["WK196916", "name"] == "Wijk 16 (Oldehove)"  # Lauwerzijl under 10 %
    assert rows.at["WK196913", "name"] == "Wijk 13 (Ezinge, Garnwerd)"  # verspreide huizen skipped
    assert rows.at["WK196904", "name_source"] == "CBS"
    assert (rows.loc[rows["name_source"] == "buurten", "cbs_name"].str.match(r"Wijk \d+$")).all()


def test_wijk_names_rule_on_a_small_example():
    kwb = pd.DataFrame(
        {
            "code": ["WK000101", "BU00010100", "BU00010101", "BU00010102", "WK000102"],
            "cbs_name": [
                "Wijk 01",
                "Bedrijventerrein Noord",
                "Dorp (gedeeltelijk)",
                "Gehucht",
                "Wijk 02 Stad",
            ],
            "level": ["wijk", "buurt", "buurt", "buurt", "wijk"],
            "wijk": [None, "WK000101", "WK000101", "WK000101", None],
            "inwoners": [1000.0, 600.0, 300.0, 100.0, 50.0],
        }
    )
    names = src.wijk_names(kwb).set_index("code")
    assert names.at["WK000101", "name"] == "Wijk 01 (Dorp, Gehucht)"
    assert names.at["WK000101", "label"] == "Dorp"
    assert names.at["WK000102", "label"] == "Stad" and names.at["WK000102", "name_source"] == "CBS"


# -- the public function ---------------------------------------------------------------------------
def test_wijken_returns_a_tidy_geodataframe():
    import westerkwartier as wk

    frame = wk.wijken("westerkwartier")
    assert isinstance(frame, gpd.GeoDataFrame) and frame.crs.to_epsg() == 28992
    assert list(frame.columns[:6]) == ["code", "name", "year", "indicator", "value", "status"]
    assert frame["code"].nunique() == 18 and (frame["level"] == "wijk").all()
    assert frame.geometry.notna().all()
    assert not frame.duplicated(["code", "indicator", "period"]).any()
    assert "Bron: CBS" in frame.attrs["bron"] and "Kadaster" in frame.attrs["bron"]


@pytest.mark.parametrize(
    "gemeente",
    # Westerkwartier, Amsterdam, Eemsdelta (formed in 2021), Schiermonnikoog, Súdwest-Fryslân
    ["GM1969", "GM0363", "GM1979", "GM0088", "GM1900"],
)
def test_wijken_cut_from_the_country_equal_the_municipality_on_its_own(stats, gemeente):
    # wijken() cuts the figures from one computation for the whole country; computed for the
    # municipality alone they must be the same, row for row (missing is missing: None or NaN)
    # the municipality with the municipalities merged into it since 2020 (their old wijken)
    registry = load_registry()
    owners = [gemeente, *ind._merged_between(registry).get(gemeente, [])]
    selection = stats[stats["gemeente"].isin(owners)]
    comparable = ind.comparability(selection, registry)
    alone = pd.concat(
        [
            ind.level_indicators(ind.start_figures(selection, comparable), ind.FROM_YEAR),
            ind.level_indicators(selection, ind.TO_YEAR),
            ind.change_indicators(selection, comparable),
        ],
        ignore_index=True,
    )
    cut = pd.DataFrame(ind.wijken(gemeente, met_gemeente=True, met_beginjaar=True))
    cut = cut.drop(columns="geometry")
    assert len(cut) == len(alone) > 0
    pd.testing.assert_frame_equal(_as_values(cut), _as_values(alone[cut.columns]))


def _as_values(frame: pd.DataFrame) -> pd.DataFrame:
    """The values of a frame, whatever pandas calls its text columns and their missing."""
    return frame.astype(object).where(frame.notna(), None).reset_index(drop=True)


def test_country_figures_are_kept_in_the_cache_and_read_back(monkeypatch):
    from westerkwartier.indicators import panel_cache

    snapshot = str(settings.snapshot_dir)
    folder = (
        settings.cache_dir / ind.COUNTRY_CACHE[0] / panel_cache.data_fingerprint()
    ) / ind.COUNTRY_CACHE[1]
    computed_runs = []
    compute = ind._compute_country
    monkeypatch.setattr(ind, "_compute_country", lambda: computed_runs.append(1) or compute())
    ind._country.cache_clear()
    try:
        computed = ind._country(snapshot)  # the test's cache is empty: computed, then kept
        assert computed_runs == [1] and (folder / "index.json").is_file()
        ind._country.cache_clear()
        read = ind._country(snapshot)  # a new process: read from the cache folder
        assert computed_runs == [1]
        for name in ("start", "level", "change", "comparable"):
            pd.testing.assert_frame_equal(
                _as_values(getattr(read, name)), _as_values(getattr(computed, name))
            )
        (folder / "level.parquet").write_bytes(b"kapot")  # damaged: computed again
        ind._country.cache_clear()
        again = ind._country(snapshot)
        assert computed_runs == [1, 1]
        assert len(again.level) == len(computed.level)
    finally:
        ind._country.cache_clear()


def test_wijken_2020_of_a_municipality_formed_later():
    frame = ind.wijken("Eemsdelta", 2020)
    assert set(frame["gemeente"]) == {"GM0003", "GM0010", "GM0024"}  # its three predecessors
    # five wijken of Delfzijl are the same areas under Eemsdelta's codes: they get those
    # polygons of 2024; the others have none
    shaped = frame.dropna(subset=["geometry"]).drop_duplicates("code").set_index("code")
    assert sorted(shaped.index) == ["WK001002", "WK001003", "WK001005", "WK001006", "WK001008"]
    shapes = src.boundaries().set_index("code").geometry
    assert shaped.geometry["WK001002"].equals(shapes["WK197902"])  # West
    assert ind.wijken("Westerkwartier", 2020).geometry.notna().all()
    # a municipality of 2020 gets the outline of its own wijken, not today's municipality
    voorne = ind.wijken("Voorne aan Zee", 2020, met_gemeente=True).drop_duplicates("code")
    outline = voorne[voorne["level"] == "gemeente"].set_index("code").geometry
    assert sorted(outline.index) == ["GM0501", "GM0530", "GM0614"]
    today = shapes[[c for c in shapes.index if c.startswith("WK1992")]].union_all()
    for code in outline.index:
        own = voorne[(voorne["level"] == "wijk") & (voorne["gemeente"] == code)]
        assert outline[code].area == pytest.approx(own.geometry.union_all().area)
        assert outline[code].area < 0.5 * today.area
    amsterdam = ind.wijken("Amsterdam", 2020, met_gemeente=True)
    assert amsterdam.loc[amsterdam["code"] == "GM0363", "geometry"].isna().all()  # without Weesp
    assert ind.wijken("Urk", 2020, met_gemeente=True).geometry.notna().all()


def test_a_renumbered_wijk_is_compared_with_its_old_code(stats, raw2020, raw2024):
    # Voorne aan Zee (formed 2023 from Brielle, Hellevoetsluis and Westvoorne) numbered every
    # wijk anew; each is its predecessor's wijk of 2020 by name and area
    frame = ind.wijken("Voorne aan Zee", met_beginjaar=True)
    change = frame[frame["indicator"] == "inwoners_verandering"].set_index("code")
    assert len(change) == 17 and change["value"].notna().all()
    assert (change["division"] == "2020-2024").all()
    # Brielle: CBS's inhabitants of WK199230 in 2024 minus those of WK050100 in 2020
    expected = raw2024.at["WK199230", "inwoners"] - raw2020.at["WK050100", "inwoners"]
    assert change.at["WK199230", "value"] == expected == 545
    start = frame[(frame["code"] == "WK199230") & (frame["indicator"] == "inwoners")]
    assert sorted(start["year"]) == [2020, 2024]  # the starting point under the new code
    assert set(start["name"]) == {"Brielle"}  # the name of 2024, not "Wijk 00 Brielle"
    assert start.loc[start["year"] == 2020, "division"].item() == "2020"
    assert frame.attrs["vernummerd"]["WK199230"] == "WK050100"
    # the municipality itself is, in 2020, its three predecessors added up (exact counts)
    whole = ind.wijken("Voorne aan Zee", met_gemeente=True, met_beginjaar=True)
    gm = whole[(whole["code"] == "GM1992") & (whole["indicator"] == "verandering_25_44")]
    predecessors = ["GM0501", "GM0530", "GM0614"]
    expected = (
        raw2024.at["GM1992", "leeftijd_25_44"] - raw2020.loc[predecessors, "leeftijd_25_44"].sum()
    )
    assert gm["value"].item() == expected == 880
    assert whole.attrs["opgeteld"] == predecessors
    # the report says so where it happened, and only there
    from westerkwartier.reporting import wijk_sections as ws

    section = ws.load_wijk_section("Voorne aan Zee")
    assert section.n_comparable == section.renumbered == 17
    assert section.total.focus_change == "+880"
    assert "2020: Brielle, Hellevoetsluis en Westvoorne samen" in section.total.note
    method = _plain(ws.wijk_method(section))
    assert "Alle 17 wijken kregen sinds 2020 een nieuwe code" in method
    assert "dezelfde naam" in _plain(ws.wijk_method(section, kort=True))
    plain = ws.load_wijk_section("Westerkwartier")
    assert plain.renumbered == 0 and "nieuwe code" not in _plain(ws.wijk_method(plain))
    # Dijk en Waard: a wijk of 2020 with the same area but another name is not the same wijk
    dijk = ind.comparability(stats, load_registry()).set_index("code")
    assert dijk.at["WK198012", "code_from"] == "WK039804"  # Planetenwijk
    assert not dijk.at["WK198014", "comparable"]  # Heemradenwijk: area of 't Kruis, 2020


def test_a_wijk_whose_old_code_cbs_gave_to_another_wijk_is_compared(stats, raw2020, raw2024):
    """Druten renumbered its wijken and gave the old codes to other wijken: WK022501 was
    Puiflijk (554 ha) in 2020 and is Druten (348 ha) in 2024; Puiflijk is now WK022505."""
    from westerkwartier.sources.regions import load_registry

    verdict = ind.comparability(stats, load_registry()).set_index("code")
    assert verdict.at["WK022505", "code_from"] == "WK022501"  # Puiflijk
    assert verdict.at["WK022504", "code_from"] == "WK022502"  # Afferden
    assert verdict.at["WK022506", "code_from"] == "WK022504"  # Horssen
    # the wijk that holds the old code now is not Puiflijk: no change for it
    assert not verdict.at["WK022501", "comparable"]
    assert verdict.at["WK022501", "reason"] == ind.MISSING_REASONS["boundary_changed"]
    assert not verdict.loc[verdict["comparable"], "code_from"].duplicated().any()
    frame = ind.wijken("Druten", met_beginjaar=True)
    change = frame[frame["indicator"] == "inwoners_verandering"].set_index("code")
    expected = raw2024.at["WK022505", "inwoners"] - raw2020.at["WK022501", "inwoners"]
    assert change.at["WK022505", "value"] == expected
    assert pd.isna(change.at["WK022501", "value"])
    start = frame[(frame["code"] == "WK022505") & (frame["indicator"] == "inwoners")]
    assert sorted(start["year"]) == [2020, 2024] and set(start["name"]) == {"Puiflijk"}
    assert frame.attrs["vernummerd"]["WK022505"] == "WK022501"
    # the wijk Druten of 2020 (1.075 ha) was split into Druten, Druten Zuid and Druten
    # Buitengebied (WK022500): none of them is compared with it
    for code in ("WK022500", "WK022501", "WK022502"):
        assert verdict.at[code, "reason"] == ind.MISSING_REASONS["boundary_changed"]


def test_a_wijk_of_2020_two_wijken_would_claim_is_compared_with_neither():
    def area(code, year, gemeente, name, ha):
        return {
            "code": code,
            "year": year,
            "level": "wijk",
            "gemeente": gemeente,
            "cbs_name": name,
            "oppervlakte_totaal": ha,
            "oppervlakte_land": ha,
        }

    then = pd.DataFrame(
        [
            area("WK000100", 2020, "GM0001", "Wijk 00 Dorp", 100.0),
            area("WK000101", 2020, "GM0001", "Wijk 01 Veld", 50.0),
            area("WK000102", 2020, "GM0002", "Wijk 02 Haven", 80.0),
        ]
    ).set_index("code")
    now = pd.DataFrame(
        [
            area("WK199910", 2024, "GM1999", "Dorp", 100.5),  # within 1 ha
            area("WK199911", 2024, "GM1999", "Veld", 50.0),  # claimed twice
            area("WK199912", 2024, "GM1999", "Veld", 50.0),
            area("WK199913", 2024, "GM1999", "Haven", 80.0),
        ]  # GM0002 did not merge into it
    ).set_index("code")
    found = ind.renumbered(then, now, {"GM1999": ["GM0001"]})
    assert found.to_dict() == {"WK199910": "WK000100"}


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"gemeente": "Westerkwartir"}, errors.RegionNotFound, "Bedoelde u"),
        ({"gemeente": "Grootegast"}, errors.RegionDissolved, "bestaat niet meer"),
        ({"gemeente": "GM1969", "jaar": 2022}, errors.InputError, "2020 en 2024"),
        ({"gemeente": "GM1969", "jaar": "twee"}, errors.InputError, "2020 of 2024"),
    ],
)
def test_wijken_bad_input(kwargs, error, match):
    with pytest.raises(error, match=match):
        ind.wijken(**kwargs)


# -- CLI -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".geojson"])
def test_cli_writes_every_format(tmp_path, capsys, suffix):
    from westerkwartier.cli import main

    out = tmp_path / f"westerkwartier{suffix}"
    assert main(["--offline", "wijken", "--gemeente", "Westerkwartier", "--uit", str(out)]) == 0
    assert "18 wijken van Westerkwartier" in capsys.readouterr().out
    expected = ind.wijken("Westerkwartier")
    if suffix == ".csv":
        back = pd.read_csv(out, sep=";", decimal=",", encoding="utf-8-sig")
        assert len(back) == len(expected)
        row = back[(back["code"] == "WK196914") & (back["indicator"] == "verandering_25_44")]
        assert row["value"].iloc[0] == 145
    elif suffix == ".xlsx":
        sheets = pd.read_excel(out, sheet_name=None)
        assert set(sheets) == {"Wijken", "Bron"} and len(sheets["Wijken"]) == len(expected)
        assert sheets["Bron"]["toelichting"].str.contains("Bron: CBS").any()
    else:
        back = gpd.read_file(out)
        assert len(back) == 18 and back.crs.to_epsg() == 4326 and back.is_valid.all()
        minx, miny, maxx, maxy = back.total_bounds
        assert 5.9 < minx < maxx < 6.7 and 53.0 < miny < maxy < 53.4
        leek = back.set_index("code").loc["WK196904"]
        assert leek["verandering_25_44_2020-2024"] == 210
        raw = json.loads(out.read_text(encoding="utf-8"))
        assert raw["type"] == "FeatureCollection"


def test_cli_prints_a_readable_table(capsys):
    from westerkwartier.cli import main

    assert main(["--offline", "wijken", "--gemeente", "Groningen"]) == 0
    text = capsys.readouterr().out
    assert "Groningen: 20 wijken, 2024" in text and "Bron: CBS" in text
    assert "wijkgrens gewijzigd tussen 2020 en 2024" in text  # Nieuw-West and two others
    assert "24.920" in text  # Centrum, Dutch thousands separator


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["wijken", "--gemeente", "GM1969", "--uit", "x.pdf"], 3, "kies .csv, .xlsx of .geojson"),
        (["wijken", "--gemeente", "GM1969", "--jaar", "2021"], 3, "2020 en 2024"),
        (["wijken", "--gemeente", "Nergenshuizen"], 3, "Nergenshuizen"),
        (["wijken", "--jaar", "vorig"], 2, "geen jaartal"),
    ],
)
def test_cli_bad_input(capsys, argv, code, message):
    from westerkwartier.cli import main

    if code == 2:
        with pytest.raises(SystemExit) as exit_info:
            main(["--offline", *argv])
        assert exit_info.value.code == 2
    else:
        assert main(["--offline", *argv]) == code
    assert message in capsys.readouterr().err


# -- the report section ----------------------------------------------------------------------------
def _plain(text: str) -> str:
    return htmllib.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text)))


def _section_html(section, kort=False) -> str:
    from westerkwartier.reporting import wijk_sections as ws

    return (
        ws.wijk_text(section, kort) + ws.wijk_table(section, kort) + ws.wijk_method(section, kort)
    )


@pytest.mark.parametrize("gemeente", ["GM1969", "GM0855", "GM0363", "GM0590", "GM0184"])
def test_section_renders(gemeente):
    from westerkwartier.reporting import wijk_sections as ws
    from westerkwartier.reporting.html import check_html

    section = ws.load_wijk_section(gemeente)
    text = _section_html(section)
    page = f'<html lang="nl"><head><title>t</title></head><body>{text}</body></html>'
    assert check_html(page) == []
    assert "<h3>Jonge volwassenen per wijk</h3>" in text
    assert "<h3>Zo zijn de wijkcijfers berekend</h3>" in text
    assert "meer dan 5 procentpunt" in _plain(text)  # the precision rule, stated
    assert "nan" not in _plain(text).split()
    table = re.search(r'<table class="wijken (?:alle|niveau)">.*?</table>', text, re.S).group(0)
    assert '<th scope="col">' in table and text.count('class="tabel-kader"') == 1
    assert table.count('<th scope="row">') == section.n_wijken + 1  # wijken + municipality
    chart = ws.wijk_chart(section)
    if gemeente == "GM0184":
        assert section.mode == "zin" and chart is None
        assert "Urk bestaat uit één wijk, Wijk 00 Urk" in _plain(text)
        assert "+315" in _plain(text)
    else:
        assert chart is not None and chart.alt.startswith("Kaart:")
        assert "Bron: CBS" in chart.alt
    caption = _plain(re.search(r"<caption>(.*?)</caption>", table, re.S).group(1))
    comparable = [r for r in section.rows if r.direction]
    if gemeente == "GM0590":  # Papendrecht: every wijk has a new code since 2020
        assert section.mode == "kaart_niveau"
        assert "Voor geen enkele wijk is een verandering sinds 2020 te berekenen" in _plain(text)
        assert not comparable  # no order by a change that no wijk has
        assert "gesorteerd op de verandering" not in caption
        assert "op wijkcode, op 1 januari 2024. Geen wijk is met 2020 te vergelijken" in caption
        # the figures of 2024 only, and the reason every wijk shares said once, not per row
        assert 'class="wijken niveau"' in table and "Verandering" not in table
        (reason,) = {r.note for r in section.rows}
        assert reason and f"te vergelijken: {reason}." in caption
        assert reason not in _plain(table.split("</caption>")[1])
    else:
        assert comparable and "gesorteerd op de verandering" in caption
        unsorted = len(comparable) < len(section.rows)
        assert ("wijken zonder vergelijking onderaan, op wijkcode" in caption) == unsorted


def test_sentences_match_the_table():
    from westerkwartier.reporting import wijk_sections as ws

    section = ws.load_wijk_section("Westerkwartier")
    frame = ind.wijken("Westerkwartier", met_beginjaar=True)
    change = frame[frame["indicator"] == "verandering_25_44"].set_index("code")
    top = change[change["direction"] == "hoger"]["value"].idxmax()
    name = change.at[top, "name"]
    first = section.rows[0]
    assert first.code == top and first.focus_change == f"+{int(change.at[top, 'value'])}"
    text = " ".join(section.sentences)
    assert (
        f"De meeste 25- tot 45-jarigen kwamen erbij in {name}: +210 (van 2.425 naar 2.635)" in text
    )
    # no certain loss of 25-44-year-olds in Westerkwartier: the sentence says so, not a "loss"
    assert not (change["direction"] == "lager").any()
    assert "geen wijk verloor zeker 25- tot 45-jarigen" in text
    largest_drop = -change.loc[change["value"] < 0, "value"].min()
    assert f"hoogstens {int(largest_drop)}" in text
    fifteen = frame[frame["indicator"] == "verandering_15_24"].set_index("code")
    low = fifteen[fifteen["direction"] == "lager"]["value"].idxmin()
    assert f"het sterkst daalde het in {fifteen.at[low, 'name']}: -60" in text
    derived = [r.name for r in section.rows if r.derived_name]
    assert len(derived) == 5 and "Wijk 14 (Zuidhorn, Noordhorn)" in derived
    assert "alleen een nummer" in _plain(ws.wijk_text(section))


def test_a_change_that_shows_as_zero_has_no_sign():
    """Maastricht's Wijk 03 lost a few hundredths of a point: "±0,0 %-punt", never "-0,0"."""
    from westerkwartier.reporting import wijk_sections as ws

    section = ws.load_wijk_section("Maastricht")
    rows = {row.name: row for row in section.rows}
    assert rows["Wijk 03 Buitenwijk Noordwest"].share_change == "±0,0 %-punt (onzeker)"
    assert rows["Wijk 02 Buitenwijk West"].focus_change == "±0"
    cells = [
        text
        for row in section.rows
        for text in (row.focus_change, row.second_change, row.share_change)
    ]
    assert not [c for c in cells if re.match(r"[-+]0(,0)?(?![,\d])", c)]


def test_short_section_keeps_the_extremes():
    from westerkwartier.reporting import wijk_sections as ws

    section = ws.load_wijk_section("Tilburg")
    text = _section_html(section, kort=True)
    table = re.search(r"<tbody>(.*?)</tbody>", text, re.S).group(1)
    assert table.count("<tr>") == 6
    assert section.rows[0].name in table
    assert "Zo zijn de wijkcijfers berekend" not in text and "rapport Talent" in text


def test_section_escapes_names():
    from westerkwartier.reporting import wijk_sections as ws

    section = ws.load_wijk_section("Westerkwartier")
    evil = ws.WijkSection(
        code=section.code,
        name="<script>alert(1)</script>",
        frame=section.frame,
        rows=[*section.rows[:1]],
        total=section.total,
        sentences=["Wijk <b>vet</b> & meer"],
        mode="kaart",
        derived=["<img src=x>"],
    )
    text = _section_html(evil)
    assert "<script>" not in text and "<img" not in text and "<b>" not in text
    assert "&lt;script&gt;" in text and "&amp; meer" in text


def test_a_map_is_compacted_from_its_pixels_to_the_same_bytes():
    from westerkwartier.reporting import wijk_sections as ws
    from westerkwartier.reporting.charts import compact_png, figure_compact_png, figure_png

    section = ws.load_wijk_section("GM1969")
    expected = compact_png(figure_png(ws.wijk_chart(section).figure))
    assert figure_compact_png(ws.wijk_chart(section).figure) == expected


def test_both_reports_of_a_municipality_get_one_drawing_of_its_map(monkeypatch):
    """show_wijken draws a municipality's map once per kernel; both reports show the same."""
    from westerkwartier.reporting import charts
    from westerkwartier.reporting import wijk_sections as ws

    published: list[tuple[dict, dict]] = []
    monkeypatch.setattr(
        "IPython.display.publish_display_data",
        lambda data, metadata=None, **kw: published.append((data, metadata)),
    )
    drawn: list[str] = []
    real = charts.figure_mimebundle

    def counting(figure, alt, **kwargs):
        drawn.append(alt)
        return real(figure, alt, **kwargs)

    monkeypatch.setattr(charts, "figure_mimebundle", counting)
    monkeypatch.setattr("IPython.display.display", lambda *a, **k: None)
    ws._map_picture.cache_clear()
    try:
        ws.show_wijken("GM1969", kort=True)
        ws.show_wijken("GM1969")
        assert len(drawn) == 1 and len(published) == 2
        assert published[0] == published[1] and published[0][0] is not published[1][0]
        (mime,) = [m for m in published[0][0] if m.startswith("image/")]
        assert published[0][1][mime]["alt"].startswith("Kaart: verandering van het aantal")
        ws.show_wijken("GM0014")  # another municipality: its own map
        assert len(drawn) == 2 and published[2] != published[0]
    finally:
        ws._map_picture.cache_clear()


def test_a_wijk_class_of_one_value_is_keyed_with_that_value():
    """Dijk en Waard (merged in 2022) compares three wijken; the one certain loss made a class
    keyed "-10 tot -10"."""
    from westerkwartier.reporting import wijk_sections as ws

    chart = ws.wijk_chart(ws.load_wijk_section("GM1980"))
    keys = [t.get_text() for t in chart.figure.axes[1].get_legend().get_texts()]
    pairs = [re.fullmatch(r"(\S+) tot (\S+)", key) for key in keys]
    assert not [m.group(0) for m in pairs if m and m.group(1) == m.group(2)]
    assert "-10" in keys


def test_map_house_style():
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from westerkwartier.reporting import figures
    from westerkwartier.reporting import wijk_sections as ws
    from westerkwartier.reporting.charts import figure_png

    for gemeente in ("GM1969", "GM0855"):
        chart = ws.wijk_chart(ws.load_wijk_section(gemeente))
        png = figure_png(chart.figure)
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        fig = chart.figure
        if not isinstance(fig.canvas, FigureCanvasAgg):
            FigureCanvasAgg(fig)
        renderer = fig.canvas.get_renderer()
        legend = fig.axes[1].get_legend()
        source = fig.get_supxlabel()
        assert source.startswith("Bron: CBS, Kadaster (CC BY 4.0)")
        assert fig._suptitle.get_text()
        source_box = fig._supxlabel.get_window_extent(renderer)
        legend_box = legend.get_window_extent(renderer)
        map_box = chart.ax.get_window_extent(renderer)
        assert not legend_box.overlaps(source_box), "legend over the source line"
        assert not legend_box.overlaps(map_box)
        assert legend_box.y0 > source_box.y1 and map_box.y0 >= legend_box.y1 - 1
        assert legend.get_title().get_text().startswith("verandering van het aantal")
        colours = {p.get_facecolor()[:3] for p in legend.get_patches()}
        allowed = {
            tuple(int(c[i : i + 2], 16) / 255 for i in (1, 3, 5))
            for c in (
                *figures.WIJK_LOSS_COLOURS,
                *figures.WIJK_GAIN_COLOURS,
                figures.WIJK_UNCERTAIN,
                figures.MAP_MISSING,
            )
        }
        assert all(any(np.allclose(c, a, atol=0.01) for a in allowed) for c in colours)
    # every wijk is named in the alt text of a municipality with few wijken
    section = ws.load_wijk_section("GM1969")
    alt = ws.wijk_chart(section).alt
    assert all(r.name in alt for r in section.rows) or "Hoogste:" in alt
    assert "Wijk 04 Leek +210" in alt


def test_wijk_classes_separate_certain_from_uncertain():
    from westerkwartier.reporting.figures import wijk_classes

    frame = pd.DataFrame(
        {
            "value": [-300.0, -50.0, -20.0, -5.0, 0.0, 20.0, 40.0, 60.0, 500.0, np.nan],
            "direction": [
                "lager",
                "lager",
                "lager",
                "onzeker",
                "onzeker",
                "hoger",
                "hoger",
                "hoger",
                "hoger",
                None,
            ],
        }
    )
    classes, legend = wijk_classes(frame)
    assert classes.iloc[3] == classes.iloc[4] == "onzeker"
    assert classes.iloc[-1] == "geen"
    assert classes.iloc[0].startswith("lager") and classes.iloc[-2].startswith("hoger")
    keys = [e["key"] for e in legend]
    assert keys.index("onzeker") < keys.index("hoger0") and keys[-1] == "geen"
    hatches = {e["key"]: e["hatch"] for e in legend}
    assert hatches["onzeker"] and hatches["geen"] and hatches["onzeker"] != hatches["geen"]


# -- the analyst notebook --------------------------------------------------------------------------
def test_notebook_runs_through_the_runner(tmp_path):
    from westerkwartier.pipeline import render
    from westerkwartier.pipeline.notebook import notebook_parameters, run_notebook
    from westerkwartier.reporting.html import check_html, images_without_alt

    notebook = render.NOTEBOOKS_DIR / "wijken.ipynb"
    assert list(notebook_parameters(notebook)) == ["gemeente"]
    out = run_notebook(
        notebook,
        tmp_path / "wijken.html",
        {"gemeente": "Groningen"},
        title="Wijken",
        failed_dir=tmp_path / "failed",
    )
    text = out.read_text(encoding="utf-8")
    assert check_html(text) == [] and images_without_alt(text) == 0
    # the analyst's own map, the same with wk.kaart in one line, and the report's map
    assert len(re.findall(r"<img\b", text)) == 3
    assert "Kaart: Aandeel 65 jaar of ouder in 2024; donkerder blauw is hoger." in text
    plain = _plain(text)
    assert "Meerstad e.o." in plain and "Traceback" not in text
    assert "wijkgrens gewijzigd tussen 2020 en 2024" in plain


def test_two_wijken_get_sentences_instead_of_a_map():
    from westerkwartier.reporting import wijk_sections as ws

    borne = ws.load_wijk_section("Borne")
    assert borne.mode == "zin" and ws.wijk_chart(borne) is None and borne.n_wijken == 2
    text = " ".join(borne.sentences)
    assert text.startswith("Borne bestaat uit twee wijken")
    frame = ind.wijken("Borne", met_beginjaar=True)
    for row in borne.rows:  # each sentence carries the wijk's own change and counts
        change = frame[(frame["code"] == row.code) & (frame["indicator"] == "verandering_25_44")]
        assert f"{row.name} nam toe: +{int(change['value'].iloc[0])}" in text
    culemborg = ws.load_wijk_section("Culemborg")  # 1 wijk in 2020, 2 in 2024: no change
    text = " ".join(culemborg.sentences)
    assert "geen verandering te berekenen: wijkgrens gewijzigd" in text
    assert "wijkcode bestond in 2020 nog niet" in text
