"""Tests of westerkwartier.regions: the region registry."""

from __future__ import annotations

import pandas as pd
import pytest

from westerkwartier import settings
from westerkwartier.errors import RegionDissolved, RegionNotFound, SnapshotMissing
from westerkwartier.sources import regions
from westerkwartier.sources.regions import (
    REGISTRY_COLUMNS,
    Registry,
    build_registry,
    load_registry,
    normalise,
    parse_dissolution,
)


@pytest.fixture(scope="module")
def frame(mirror):
    return build_registry(mirror)


@pytest.fixture(scope="module")
def registry(frame):
    return Registry(frame)


# -- pure -----------------------------------------------------------------------------------
def test_normalise():
    assert normalise("Súdwest-Fryslân") == "sudwest fryslan"
    assert normalise("  's-Hertogenbosch ") == "s hertogenbosch"


def test_parse_dissolution_split_sorted_by_inhabitants():
    text = (
        "Opgeheven per 01-01-2019, overgegaan naar:\r\n- Het Hogeland (GM1966),\r\n"
        "... 7807 hectare met 5308 woningen en 11947 inwoners\r\n- Westerkwartier (GM1969),\r\n"
        "... 2303 hectare met 732 woningen en 1558 inwoners\r\n\r\nWijziging per 01-01-1990"
    )
    year, successors = parse_dissolution(text)
    assert year == 2019
    assert [c for c, _, _ in successors] == ["GM1966", "GM1969"]
    assert successors[1] == ("GM1969", "Westerkwartier", 1558)


def test_parse_rename_and_nothing():
    renamed = "Naamswijziging per 01-01-2009,\r\nnieuwe naam: Dantumadiel (GM1891)\r\n"
    assert parse_dissolution(renamed) == (2009, [("GM1891", "Dantumadiel", None)])
    assert parse_dissolution("Begindatum voor 1830") is None


def _tiny() -> pd.DataFrame:
    rows = [
        {"code": "NL01", "name": "Nederland", "title": "Nederland", "level": "land"},
        {"code": "PV20", "name": "Groningen", "title": "Groningen (PV)", "level": "provincie"},
        {
            "code": "GM0014",
            "name": "Groningen",
            "title": "Groningen (gemeente)",
            "level": "gemeente",
            "province_code": "PV20",
        },
        {
            "code": "GM1969",
            "name": "Westerkwartier",
            "title": "Westerkwartier",
            "level": "gemeente",
            "province_code": "PV20",
        },
        {
            "code": "GM0015",
            "name": "Grootegast",
            "title": "Grootegast",
            "level": "opgeheven",
            "dissolved_in": 2019,
            "successor_code": "GM1969",
            "successor_codes": "GM1969",
        },
    ]
    return pd.DataFrame(rows).reindex(columns=REGISTRY_COLUMNS)


def test_tiny_registry_resolves():
    reg = Registry(_tiny())
    assert reg.resolve("groningen").code == "GM0014"
    assert reg.resolve("provincie groningen").code == "PV20"
    assert reg.resolve("14").code == "GM0014"
    with pytest.raises(RegionDissolved) as err:
        reg.resolve("grootegast")
    assert err.value.successor.startswith("Westerkwartier (GM1969)")
    with pytest.raises(RegionNotFound) as err:
        reg.resolve("Westerkwatier")
    assert err.value.suggestions[0] == "Westerkwartier"


def test_load_registry_missing_snapshot(tmp_path, monkeypatch):
    monkeypatch.setattr(settings, "snapshot_dir", tmp_path)
    with pytest.raises(SnapshotMissing, match="westerkwartier snapshot --mirror"):
        load_registry()


def test_load_registry_reads_and_caches(tmp_path):
    path = tmp_path / "regions.parquet"
    _tiny().to_parquet(path)
    first = load_registry(path)
    assert load_registry(path) is first
    assert first.resolve("Westerkwartier").code == "GM1969"
    regions.clear_registry_cache()
    assert load_registry(path) is not first


# -- the mirror -----------------------------------------------------------------------------
def test_counts(registry, frame):
    assert len(registry.municipalities()) == 342
    assert len(registry.provinces()) == 12
    assert list(registry.provinces()["code"]) == [f"PV{i}" for i in range(20, 32)]
    assert (frame["level"] == "land").sum() == 1
    assert list(frame.columns) == REGISTRY_COLUMNS
    assert frame["code"].is_unique


def test_deterministic(mirror, frame):
    pd.testing.assert_frame_equal(build_registry(mirror), frame)


def test_populations_add_up(registry):
    gm = registry.municipalities()
    pv = registry.provinces()
    assert pv["population"].sum() == gm["population"].sum()
    assert registry.resolve("NL01").population == gm["population"].sum()
    assert registry.resolve("GM1969").population > 60_000


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("westerkwartier", "GM1969"),
        ("GM1969", "GM1969"),
        ("1969", "GM1969"),
        ("Súdwest-Fryslân", "GM1900"),
        ("sudwest fryslan", "GM1900"),
        ("Groningen", "GM0014"),
        ("PV20", "PV20"),
        ("provincie Groningen", "PV20"),
        ("Groningen (PV)", "PV20"),
        ("Groningen (provincie)", "PV20"),
        ("Fryslân (provincie)", "PV21"),
        ("Groningen (gemeente)", "GM0014"),
        ("Nederland", "NL01"),
        ("  WESTERKWARTIER ", "GM1969"),
    ],
)
def test_resolve(registry, text, code):
    assert registry.resolve(text).code == code


@pytest.mark.parametrize("text", ["", "   ", None])
def test_no_region_given_says_so(registry, text):
    """None gave "Onbekende gemeente of regio: 'None'. Bedoelde u: Borne, Nuenen, ...?"."""
    with pytest.raises(RegionNotFound, match="Geen gemeente of regio opgegeven") as info:
        registry.municipality(text)
    assert info.value.suggestions == []


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Den Haag", "GM0518"),
        ("gemeente den-haag", "GM0518"),
        ("'s-Gravenhage", "GM0518"),
        ("Den Bosch", "GM0796"),
        ("Hengelo", "GM0164"),
        ("Nuenen", "GM0820"),
        ("Friesland", "PV21"),
        ("provincie Friesland", "PV21"),
        ("Friesland (PV)", "PV21"),
    ],
)
def test_resolve_everyday_names(registry, text, code):
    """config/bijnamen.toml: 'Den Haag' gave 'Onbekende gemeente ... Bedoelde u: Alphen-Chaam?'."""
    assert registry.resolve(text).code == code


def test_everyday_names_point_at_current_regions_and_shadow_no_cbs_name(registry):
    aliases = regions.load_aliases()
    assert len(aliases) >= 5
    current = registry.frame[registry.frame["level"] != "opgeheven"]
    assert {code for _, code in aliases.values()} <= set(current["code"])
    cbs_names = {normalise(t) for c in ("name", "title") for t in registry.frame[c].dropna()}
    assert not set(aliases) & cbs_names


def test_everyday_names_in_suggestions_and_province_lists(registry):
    with pytest.raises(RegionNotFound) as err:
        registry.resolve("Den Hag")
    assert "Den Haag" in err.value.suggestions
    assert registry.in_province("Friesland").equals(registry.in_province("PV21"))
    with pytest.raises(RegionNotFound) as err:
        registry.in_province("Frieslnd")
    assert err.value.suggestions[:2] == ["provincie Friesland", "provincie Fryslân"]
    with pytest.raises(RegionNotFound) as err:
        registry.in_province("qqqqqq")
    assert err.value.suggestions == []


def test_everyday_names_file_with_a_wrong_code(tmp_path):
    from westerkwartier.config import ConfigError

    bad = tmp_path / "bijnamen.toml"
    bad.write_text('[bijnamen]\n"Den Haag" = "GM0518"\n"Bolsward" = "Súdwest"\n', "utf-8")
    with pytest.raises(ConfigError) as err:
        regions.load_aliases(bad)
    assert "regel 3" in str(err.value) and "'Súdwest' is geen CBS-code" in str(err.value)


def test_region_fields(registry):
    wk = registry.resolve("Westerkwartier")
    assert (wk.level, wk.province, wk.province_name) == ("gemeente", "PV20", "Groningen")
    assert wk.corop == "CR03"
    assert wk.ggd == "GG0111" and wk.ggd_name == "GGD Groningen"
    assert wk.labour_market == "AM01"
    assert registry.resolve("PV20").level == "provincie"


def test_unknown_with_suggestions(registry):
    with pytest.raises(RegionNotFound) as err:
        registry.resolve("Westerkwartir")
    assert "Westerkwartier" in err.value.suggestions
    assert "Westerkwartier" in str(err.value)
    with pytest.raises(RegionNotFound) as err:
        registry.resolve("qqqqqq")
    assert err.value.suggestions == []


@pytest.mark.parametrize("text", ["Grootegast", "GM0015", "grootegast"])
def test_dissolved(registry, text):
    with pytest.raises(RegionDissolved) as err:
        registry.resolve(text)
    message = str(err.value)
    assert "Grootegast" in message and "GM1969" in message and "2019" in message
    assert err.value.since == 2019


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Tietjerksteradeel", "GM0737"),  # Naamswijziging per 01-01-1989
        ("GM0094", "GM0737"),
        ("De Friese Meren", "GM1940"),  # per 01-07-2015
        ("Bergeyk", "GM1724"),  # per 25-09-1998
        ("Dantumadeel", "GM1891"),
    ],
)
def test_renamed_municipality_is_the_current_one(registry, text, code, caplog):
    """A change of name is the same municipality: 'Tietjerksteradeel' gave 'opgegaan in'."""
    with caplog.at_level("WARNING", logger="westerkwartier.sources.regions"):
        assert registry.resolve(text).code == code
    assert f"{text} heet sinds " in caplog.text and f"({code}); de cijfers gaan over" in caplog.text
    assert registry.municipality(text).code == code


def test_renamed_then_merged(registry):
    with pytest.raises(RegionDissolved) as err:
        registry.resolve("Ferwerderadeel")
    message = str(err.value)
    assert "heette vanaf 1 januari 1999 Ferwerderadiel (GM1722)" in message
    assert "op 1 januari 2019 is opgegaan in Noardeast-Fryslân (GM1970)" in message
    assert "Gebruik Noardeast-Fryslân;" in message
    assert "opgegaan in Ferwerderadiel" not in message
    assert err.value.suggestions == ["Noardeast-Fryslân"]
    assert err.value.since == 1999


def test_merged_then_renamed(registry):
    """Lemsterland went into De Friese Meren (2014), which is De Fryske Marren since 1 July 2015."""
    with pytest.raises(RegionDissolved) as err:
        registry.resolve("Lemsterland")
    message = str(err.value)
    assert "is op 1 januari 2014 opgegaan in De Friese Meren (GM1921)" in message
    assert "die sinds 1 juli 2015 De Fryske Marren (GM1940) heet" in message
    assert err.value.suggestions == ["De Fryske Marren"]


def test_dissolution_date_as_cbs_gives_it(registry):
    """Weesp joined Amsterdam on 24 March 2022, not on 1 January."""
    with pytest.raises(RegionDissolved) as err:
        registry.resolve("Weesp")
    assert "op 24 maart 2022 opgegaan in Amsterdam (GM0363)" in str(err.value)


def test_split_suggests_current_municipalities(registry):
    with pytest.raises(RegionDissolved) as err:
        registry.resolve("Boarnsterhim")
    assert err.value.suggestions == [
        "Leeuwarden",
        "Heerenveen",
        "Súdwest-Fryslân",
        "De Fryske Marren",
    ]
    assert "De Friese Meren (GM1921), die sinds 1 juli 2015 De Fryske Marren" in str(err.value)
    with pytest.raises(RegionDissolved) as err:  # both parts now lie in Land van Cuijk
        registry.resolve("Wanroij")
    assert err.value.suggestions == ["Land van Cuijk"]
    assert "Gebruik Land van Cuijk;" in str(err.value)


def test_registry_without_the_later_columns():
    """A regions.parquet written before dissolved_on/change still reads (1 January assumed)."""
    reg = Registry(_tiny().drop(columns=["dissolved_on", "change"]))
    with pytest.raises(RegionDissolved) as err:
        reg.resolve("grootegast")
    assert "op 1 januari 2019 opgegaan in Westerkwartier (GM1969)" in str(err.value)


def test_split_into_codes_the_registry_does_not_know():
    frame = _tiny()
    frame.loc[frame["code"] == "GM0015", "successor_codes"] = "GM1969;GM9999"
    frame.loc[frame["code"] == "GM0015", "successor_code"] = "GM9998"
    with pytest.raises(RegionDissolved) as err:
        Registry(frame).resolve("Grootegast")
    assert err.value.suggestions == ["Westerkwartier"]
    assert "Het grootste deel ging naar GM9998, een deel naar Westerkwartier (GM1969)" in str(
        err.value
    )
    frame.loc[frame["code"] == "GM0015", "successor_codes"] = "GM9998;GM9999"
    with pytest.raises(RegionDissolved) as err:  # no current municipality at all: no IndexError
        Registry(frame).resolve("Grootegast")
    assert err.value.suggestions == [] and "Kies een van die gemeenten" in str(err.value)
    frame.loc[frame["code"] == "GM0015", "successor_codes"] = "GM9998"
    with pytest.raises(RegionDissolved) as err:  # one successor, unknown: named by its code
        Registry(frame).resolve("Grootegast")
    assert "zij is op 1 januari 2019 opgegaan in GM9998. Gebruik GM9998;" in str(err.value)


def test_snapshot_registry_knows_renames():
    """The committed snapshot was rebuilt with the columns (load_registry reads it)."""
    assert load_registry().resolve("De Friese Meren").code == "GM1940"


def test_winsum_split(registry):
    with pytest.raises(RegionDissolved) as err:
        registry.resolve("Winsum")
    message = str(err.value)
    assert "Het Hogeland (GM1966)" in message and "Westerkwartier (GM1969)" in message


def test_predecessors_of_westerkwartier(registry):
    old = registry.predecessors("GM1969")
    assert sorted(old["code"]) == ["GM0015", "GM0022", "GM0025", "GM0053", "GM0056"]
    assert set(old["dissolved_in"]) == {2019}
    winsum = old.set_index("code").loc["GM0053"]
    assert winsum["successor_code"] == "GM1966"


def test_in_province(registry):
    groningen = registry.in_province("PV20")
    assert "GM1969" in set(groningen["code"])
    assert len(groningen) == 10
    assert groningen.equals(registry.in_province("Groningen"))
    assert set(registry.in_province("PV21")["province_code"]) == {"PV21"}
