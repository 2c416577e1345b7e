"""Tests of westerkwartier.exports: cbsodata exports and StatLine downloads -> CbsTable."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from westerkwartier.errors import ExportFormatError
from westerkwartier.sources import exports
from westerkwartier.sources.exports import (
    PAGE_SIZE,
    build_region_codes,
    complete_blocks,
    read_cbsodata_export,
    read_mirror_table,
    read_statline_kerncijfers,
    read_statline_kwb,
    statline_topic_keys,
    words_from_key,
)
from westerkwartier.sources.table import CbsTable

BOM = "\ufeff"

# A tiny lookup in the shape build_region_codes() returns.
CODES = {
    "Nederland": "NL01",
    "Noord-Nederland (LD)": "LD01",
    "Groningen (PV)": "PV20",
    "Groningen (gemeente)": "GM0014",
    "Groningen": "GM0014",
    "Westerkwartier": "GM1969",
    "Zwolle": "GM0193",
    "GGD Groningen (GG)": "GG0111",
}


def write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(BOM + text, encoding="utf-8")
    return path


def one(table: CbsTable, topic: str, **selection: str) -> float:
    rows = table.select(**selection)
    assert len(rows) == 1, rows
    return float(rows[table.topic(topic)].iloc[0])


# -- pure unit tests on hand-made CSV strings -----------------------------------------------
def test_titles_become_codes_and_values_survive(tmp_path):
    path = write(
        tmp_path,
        "99999NED.csv",
        "ID;RegioS;Eigendom;Perioden;GemiddeldeWOZWaardeVanWoningen_1\n"
        "0;Nederland;Totaal;2023;368.0\n"
        "1;Groningen (PV);Totaal;2023;264.0\n"
        "2;Groningen (gemeente);Totaal;2023;260.5\n"
        "3;Westerkwartier;Totaal;2012/'13;\n",
    )
    table = read_cbsodata_export(
        path, CODES, units={"GemiddeldeWOZWaardeVanWoningen": "1 000 euro"}
    )
    assert list(table.data["RegioS"]) == ["NL01", "PV20", "GM0014", "GM1969"]
    assert list(table.data["Perioden"]) == ["2023JJ00", "2023JJ00", "2023JJ00", "2012SJ13"]
    assert table.data["GemiddeldeWOZWaardeVanWoningen_1"].iloc[2] == 260.5
    assert math.isnan(table.data["GemiddeldeWOZWaardeVanWoningen_1"].iloc[3])  # empty = missing
    assert table.table_id == "99999NED"
    assert table.source == "cbsodata-export"
    assert table.dimension_types == {
        "RegioS": "GeoDimension",
        "Eigendom": "Dimension",
        "Perioden": "TimeDimension",
    }
    assert table.info["keys_from_titles"] == ["Eigendom"]
    assert table.info["truncated"] is False and table.complete_slices is None
    status = table.period_status.set_index("key")["status"].to_dict()
    assert status == {"2023JJ00": "definitief", "2012SJ13": "definitief"}
    info = table.topic_info("GemiddeldeWOZWaardeVanWoningen")
    assert info["unit"] == "1 000 euro"
    assert info["decimals"] == 1
    assert info["title"] == "Gemiddelde WOZ waarde van woningen"
    # selection by title works like selection by code
    assert one(table, "GemiddeldeWOZWaardeVanWoningen", RegioS="Groningen (PV)") == 264.0
    assert one(table, "GemiddeldeWOZWaardeVanWoningen", RegioS="PV20", Eigendom="Totaal") == 264.0


def test_provisional_period_gets_status(tmp_path):
    path = write(
        tmp_path,
        "t.csv",
        "ID;RegioS;Perioden;Bevolking_1\n0;Nederland;2022;1.0\n1;Nederland;2023*;2.0\n",
    )
    table = read_cbsodata_export(path, CODES)
    status = table.period_status.set_index("key")["status"]
    assert status["2022JJ00"] == "definitief"
    assert status["2023JJ00"] == "voorlopig"
    assert table.topic_info("Bevolking")["unit"] is None  # never guessed


def test_ambiguous_groningen_maps_by_exact_title(tmp_path):
    path = write(
        tmp_path,
        "t.csv",
        "ID;RegioS;Perioden;X_1\n0;Groningen (PV);2020;1\n1;Groningen (gemeente);2020;2\n"
        "2;Groningen;2020;3\n",
    )
    table = read_cbsodata_export(path, CODES)
    assert list(table.data["RegioS"]) == ["PV20", "GM0014", "GM0014"]


def test_unknown_region_title_raises_with_title_and_file(tmp_path):
    path = write(tmp_path, "t.csv", "ID;RegioS;Perioden;X_1\n0;Atlantis;2020;1\n")
    with pytest.raises(ExportFormatError) as err:
        read_cbsodata_export(path, CODES)
    assert "Atlantis" in str(err.value) and "t.csv" in str(err.value)


def test_groupings_without_code_are_dropped_and_reported(tmp_path):
    path = write(
        tmp_path,
        "t.csv",
        "ID;Geslacht;Regiokenmerken;Perioden;X_1\n"
        "0;Totaal mannen en vrouwen;Nederland;2020;1\n"
        "1;Totaal mannen en vrouwen;Vier grote gemeenten (4);2020;2\n"
        "2;Totaal mannen en vrouwen;Niet in te delen (LD);2020;3\n",
    )
    table = read_cbsodata_export(path, CODES)
    assert list(table.data["Regiokenmerken"]) == ["NL01"]
    assert table.info["dropped_regions"] == ["Niet in te delen (LD)", "Vier grote gemeenten (4)"]
    assert table.dimension_types["Regiokenmerken"] == "GeoDimension"


def test_table_without_period_column_gets_period_in_info(tmp_path):
    path = write(
        tmp_path,
        "85012NED.csv",
        "ID;Leeftijd;Marges;RegioS;Rokers_1\n0;Totaal;Waarde;GGD Groningen (GG);17.1\n",
    )
    table = read_cbsodata_export(path, CODES)
    assert table.period_dimension is None
    assert table.info["period"] == "2020JJ00"
    assert table.data["RegioS"].tolist() == ["GG0111"]
    assert table.info["keys_from_titles"] == ["Leeftijd", "Marges"]


def test_not_a_cbsodata_export(tmp_path):
    path = write(tmp_path, "t.csv", "Regio;Waarde\nNederland;1\n")
    with pytest.raises(ExportFormatError, match="ID"):
        read_cbsodata_export(path, CODES)


def _truncated_csv(rows: list[str], header: str) -> str:
    return header + "\n" + "\n".join(f"{i};{r}" for i, r in enumerate(rows)) + "\n"


def test_truncation_slice_outer_keeps_only_complete_slices(tmp_path, monkeypatch):
    monkeypatch.setattr(exports, "PAGE_SIZE", 7)
    rows = [
        "Totaal personen;Nederland;2022;1",
        "Totaal personen;Nederland;2023;2",
        "Totaal personen;Westerkwartier;2022;3",
        "Totaal personen;Westerkwartier;2023;4",
        "Geslacht: mannen;Nederland;2022;5",
        "Geslacht: mannen;Nederland;2023;6",
        "Geslacht: mannen;Westerkwartier;2022;7",  # feed stopped here
    ]
    path = write(
        tmp_path, "t.csv", _truncated_csv(rows, "ID;Persoonskenmerken;RegioS;Perioden;X_1")
    )
    table = read_cbsodata_export(path, CODES)
    assert table.info["truncated"] is True
    assert table.complete_slices == {"Persoonskenmerken": ["Totaal personen"]}
    assert set(table.data["Persoonskenmerken"]) == {"Totaal personen"}
    assert table.data["X_1"].tolist() == [1.0, 2.0, 3.0, 4.0]


def test_truncation_geo_outer_drops_only_the_cut_region_block(tmp_path, monkeypatch):
    monkeypatch.setattr(exports, "PAGE_SIZE", 7)
    rows = [
        "Westerkwartier;Totaal;2022;1",
        "Westerkwartier;Totaal;2023;2",
        "Westerkwartier;Koop;2022;3",
        "Westerkwartier;Koop;2023;4",
        "Zwolle;Totaal;2022;5",
        "Zwolle;Totaal;2023;6",
        "Zwolle;Koop;2022;7",  # stopped: Zwolle/Koop/2023 is missing
    ]
    path = write(tmp_path, "t.csv", _truncated_csv(rows, "ID;RegioS;Eigendom;Perioden;X_1"))
    table = read_cbsodata_export(path, CODES)
    assert table.complete_slices == {"Eigendom": ["Totaal", "Koop"]}
    assert table.info["incomplete_regions"] == ["GM0193"]
    assert table.data["X_1"].tolist() == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    assert table.select(RegioS="GM0193", Eigendom="Koop").empty


def test_fewer_rows_than_a_page_is_complete(tmp_path):
    rows = ["Geslacht: mannen;Nederland;2022;5"]
    path = write(
        tmp_path, "t.csv", _truncated_csv(rows, "ID;Persoonskenmerken;RegioS;Perioden;X_1")
    )
    table = read_cbsodata_export(path, CODES)
    assert table.complete_slices is None and len(table.data) == 1


def test_complete_blocks_refuses_unordered_rows():
    dims = pd.DataFrame(
        {"P": ["a", "b", "a"], "RegioS": ["x", "x", "x"], "Perioden": ["1", "1", "2"]}
    )
    types = {"P": "Dimension", "RegioS": "GeoDimension", "Perioden": "TimeDimension"}
    with pytest.raises(ExportFormatError, match="volgorde"):
        complete_blocks(dims, types)


def test_words_from_key():
    assert words_from_key("NettoArbeidsparticipatie_16") == "Netto arbeidsparticipatie"
    assert words_from_key("k_3HboWo_4") == "3 hbo wo"


def test_statline_topic_keys_are_unique_and_carry_units():
    headers = [
        "Bevolking/Totale bevolking (aantal)",
        "Bevolking/Leeftijdsgroepen/Jonger dan 5 jaar (aantal)",
        "Bevolking/Leeftijdsgroepen, relatief/Jonger dan 5 jaar (%)",
    ]
    keys = statline_topic_keys(headers)
    assert keys[headers[0]] == ("TotaleBevolking", "Totale bevolking", "aantal")
    assert keys[headers[1]][0] == "LeeftijdsgroepenJongerDan5Jaar"
    assert keys[headers[2]][0] == "LeeftijdsgroepenRelatiefJongerDan5Jaar"
    assert keys[headers[2]][2] == "%"


def test_statline_kerncijfers_decimal_comma_and_names(tmp_path):
    path = write(
        tmp_path,
        "k.csv",
        '"Perioden";"Regio\'s";"Bevolking/Totale bevolking (aantal)";"Bevolking/Aandeel (%)"\n'
        '"2025";"Nederland";18044027;4,8\n'
        '"2025";"Groningen (gemeente)";244441;3,8\n'
        '"2025";"Westerkwartier";64841;.\n'
        '"2025";"Groningen";;\n',
    )
    table = read_statline_kerncijfers(path, CODES)
    assert table.data["RegioS"].tolist() == ["NL01", "GM0014", "GM1969"]  # empty row dropped
    assert one(table, "TotaleBevolking", RegioS="GM1969", Perioden="2025") == 64841
    assert one(table, "Aandeel", RegioS="GM0014") == 3.8
    assert math.isnan(table.select(RegioS="GM1969")["Aandeel"].iloc[0])
    assert table.topic_info("Aandeel")["unit"] == "%"


def test_statline_kwb_refuses_files_that_do_not_line_up(tmp_path):
    a = write(
        tmp_path,
        "a.csv",
        '"Wijken en buurten";"Regioaanduiding/Gemeentenaam (naam)";'
        '"Regioaanduiding/Codering (code)";"Bevolking/Aantal inwoners (aantal)"\n'
        '"Nederland";"Nederland";"NL00      ";10\n"Westerkwartier";"Westerkwartier";"GM1969";5\n',
    )
    b = write(
        tmp_path,
        "b.csv",
        '"Wijken en buurten";"Regioaanduiding/Gemeentenaam (naam)";'
        '"Bevolking/Bevolking naar herkomst/Herkomstland/Nederland (aantal)"\n'
        '"Westerkwartier";"Westerkwartier";4\n"Nederland";"Nederland";9\n',
    )
    with pytest.raises(ExportFormatError, match="rijpositie"):
        read_statline_kwb(a, b)
    table = read_statline_kwb(a)
    assert table.data["WijkenEnBuurten"].tolist() == ["NL00", "GM1969"]  # padding stripped


# -- the real mirror ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def codes(mirror):
    return build_region_codes(mirror)


def test_region_lookup_from_mirror(codes):
    assert codes["Westerkwartier"] == "GM1969"
    assert codes["Groningen (PV)"] == "PV20"
    assert codes["Groningen (gemeente)"] == "GM0014"
    assert codes["Groningen"] == "GM0014"
    assert codes["Nederland"] == "NL01"
    assert codes["Noord-Nederland (LD)"] == "LD01"
    assert codes["GGD Groningen (GG)"] == "GG0111"
    assert codes["Groningen (AM)"] == "AM01"
    assert codes["Grootegast"] == "GM0015"  # dissolved municipality
    assert codes["Súdwest-Fryslân"] == "GM1900"


def test_mirror_woz_85036(mirror):
    woz = read_mirror_table("85036NED", mirror)
    assert (
        one(
            woz,
            "GemiddeldeWOZWaardeVanWoningen",
            RegioS="GM1969",
            Eigendom="Totaal",
            Perioden="2024JJ00",
        )
        == 301.0
    )
    assert (
        one(
            woz,
            "GemiddeldeWOZWaardeVanWoningen",
            RegioS="GM1969",
            Eigendom="Koopwoningen",
            Perioden="2024JJ00",
        )
        == 345.0
    )
    assert (
        one(
            woz,
            "GemiddeldeWOZWaardeVanWoningen",
            RegioS="PV20",
            Eigendom="Totaal",
            Perioden="2024JJ00",
        )
        == 279.0
    )
    assert woz.topic_info("GemiddeldeWOZWaardeVanWoningen")["unit"] == "1 000 euro"
    assert woz.info["truncated"] is True
    # MANIFEST: all Eigendom values complete for all municipalities (Zwolle, where the feed
    # stopped, keeps only its complete blocks and is reported)
    assert len(woz.complete_slices["Eigendom"]) == 4
    assert woz.info["incomplete_regions"] == ["GM0193"]
    gm = woz.data[woz.data["RegioS"].str.startswith("GM")]
    per_slice = gm.groupby("Eigendom")["RegioS"].nunique()
    assert (per_slice >= 341).all()
    zwolle = woz.select(RegioS="GM0193")
    assert set(zwolle["Eigendom"]) == {"Totaal", "Koopwoningen"}
    assert len(zwolle) == 12


def test_mirror_labour_86088_keeps_only_complete_slice(mirror):
    labour = read_mirror_table("86088NED", mirror)
    assert labour.info["truncated"] is True
    assert labour.complete_slices == {"Persoonskenmerken": ["Totaal personen"]}
    assert set(labour.data["Persoonskenmerken"]) == {"Totaal personen"}  # no partial slice
    assert one(labour, "NettoArbeidsparticipatie", RegioS="GM1969", Perioden="2023JJ00") == 74.2
    assert one(labour, "BrutoArbeidsparticipatie", RegioS="GM1969", Perioden="2023JJ00") == 76.4
    assert labour.topic_info("BeroepsEnNietBeroepsbevolking")["unit"] == "x 1 000"
    assert labour.topic_info("NettoArbeidsparticipatie")["unit"] == "%"
    in_2024 = labour.select(Perioden="2024JJ00")
    assert in_2024["RegioS"].str.startswith("GM").sum() == 342


def test_mirror_85269_keeps_two_slices(mirror):
    table = read_mirror_table("85269NED", mirror)
    assert table.complete_slices == {"Persoonskenmerken": ["Totaal personen", "Geslacht: mannen"]}
    assert "Geslacht: vrouwen" not in set(table.data["Persoonskenmerken"])


def test_mirror_school_years_84780(mirror):
    table = read_mirror_table("84780NED", mirror)
    assert one(table, "Leerlingen", Regiokenmerken="GM1969", Perioden="2022SJ23") == 5410.0
    assert table.complete_slices == {"Geslacht": ["Totaal mannen en vrouwen"]}
    assert "Vier grote gemeenten (4)" in table.info["dropped_regions"]


def test_mirror_health_85012_without_period(mirror):
    table = read_mirror_table("85012NED", mirror)
    assert table.info["period"] == "2020JJ00"
    assert table.period_dimension is None
    value = one(
        table, "ErvarenGezondheidGoedZeerGoed", RegioS="GM1969", Leeftijd="Totaal", Marges="Waarde"
    )
    low = one(
        table,
        "ErvarenGezondheidGoedZeerGoed",
        RegioS="GM1969",
        Leeftijd="Totaal",
        Marges="Ondergrens 95%-interval",
    )
    assert (value, low) == (80.5, 78.1)
    assert set(table.data["RegioS"].str[:2]) == {"NL", "LD", "PV", "GM", "GG"}
    assert table.data["RegioS"].str.startswith("GG").any()


def test_every_mirror_table_reads(mirror):
    for path in sorted((mirror / "tables").glob("*.csv")):
        table = read_mirror_table(path.stem, mirror)
        assert len(table.data) > 0, path.name
        if table.info["truncated"]:
            assert table.complete_slices is not None, path.name


def test_mirror_statline_kwb_85984(mirror):
    kwb = read_mirror_table("85984NED", mirror)
    assert kwb.source == "statline"
    row = kwb.select(WijkenEnBuurten="GM1969").iloc[0]
    bands = [
        "k_0Tot15Jaar_8",
        "k_15Tot25Jaar_9",
        "k_25Tot45Jaar_10",
        "k_45Tot65Jaar_11",
        "k_65JaarOfOuder_12",
    ]
    assert row["AantalInwoners_5"] == 64896
    assert [row[b] for b in bands] == [10745, 7295, 14258, 18248, 14350]
    assert sum(row[b] for b in bands) == row["AantalInwoners_5"]
    origin = [
        kwb.topic("Nederland_17"),
        kwb.topic("EuropaExclusiefNederland"),
        kwb.topic("BuitenEuropa"),
    ]
    assert [row[c] for c in origin] == [58749, 2486, 3661]
    assert kwb.topic_info("AantalInwoners")["unit"] == "aantal"
    assert (kwb.data["WijkenEnBuurten"].str.startswith("GM")).sum() == 342


def test_mirror_statline_70072(mirror):
    table = read_mirror_table("70072ned", mirror)
    assert one(table, "TotaleBevolking", RegioS="GM1969", Perioden="2025JJ00") == 64841
    assert one(table, "TotaleBevolking", RegioS="GM0014", Perioden="2025JJ00") == 244441
    assert table.data["RegioS"].str.startswith("GM").sum() == 342
    assert "NL01" in set(table.data["RegioS"])
    assert table.topic_info("TotaleBevolking")["unit"] == "aantal"


def test_page_size_is_cbs_page():
    assert PAGE_SIZE == 10_000


def test_kwb_attributes_map_renamed_keys_to_cbs_stems(mirror):
    from westerkwartier.sources.exports import read_kwb_attributes

    path = mirror / "other" / "gemeenten_2022_kwb_attributen.geojson"
    table = read_kwb_attributes(path, "85318NED", 2022)
    row = table.data.set_index("WijkenEnBuurten").loc["GM1969"]
    assert row[table.topic("AfstandTotHuisartsenpraktijk")] == 1.6
    assert row[table.topic("AfstandTotSchool")] == 1.0
    assert table.info["period"] == "2022JJ00"
    assert "GM0998" not in set(table.data["WijkenEnBuurten"])  # 'Buitenland' is no municipality
    assert not any(c.startswith(("cr_", "zk_", "bag_")) for c in table.data.columns)
    assert table.topic_info("AfstandTotGroteSupermarkt")["unit"] == "km"


def test_kwb_attributes_reject_other_geojson(tmp_path):
    from westerkwartier.errors import ExportFormatError
    from westerkwartier.sources.exports import read_kwb_attributes

    path = tmp_path / "x.geojson"
    path.write_text('{"type": "FeatureCollection", "features": [{"properties": {"a": 1}}]}')
    with pytest.raises(ExportFormatError, match="gemeentecode"):
        read_kwb_attributes(path, "85318NED", 2022)
