"""Readers of the round-3 mirror files: month periods, the coded export, two region dimensions,
full topic keys, and the snapshot entries built from tables-r3/ and coded/."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from westerkwartier.errors import AmbiguousTopic, CbsSchemaError, ExportFormatError
from westerkwartier.indicators.catalogue import Operand, TableSpec
from westerkwartier.indicators.extraction import (
    SelectionMissing,
    combine_tables,
    extract,
    resolve_topics,
)
from westerkwartier.sources import exports, snapshot
from westerkwartier.sources.periods import code_from_title, is_month, month_of, title_of
from westerkwartier.sources.table import CbsTable


# -- periods ------------------------------------------------------------------------------------
def test_month_titles_become_cbs_month_codes():
    assert code_from_title("2010 december") == "2010MM12"
    assert code_from_title("2021 december*") == "2021MM12"
    assert code_from_title("2018 januari") == "2018MM01"
    assert is_month("2018MM01") and month_of("2018MM01") == 1
    assert title_of("2022MM12") == "2022 december"
    with pytest.raises(CbsSchemaError, match="maand"):
        code_from_title("2018 jan")


def _monthly(periods: list[str], values: list[float]) -> CbsTable:
    data = pd.DataFrame({"RegioS": "GM0001", "Perioden": periods, "Studenten_1": values})
    return CbsTable(
        "T",
        data,
        pd.DataFrame([{"key": "Studenten_1", "title": "s", "unit": "aantal", "decimals": 0}]),
        {
            "RegioS": pd.DataFrame({"key": ["GM0001"], "title": ["A"]}),
            "Perioden": pd.DataFrame(
                {"key": periods, "title": periods, "status": ["definitief"] * len(periods)}
            ),
        },
        {"RegioS": "GeoDimension", "Perioden": "TimeDimension"},
    )


def test_a_month_counts_as_its_year_and_the_catalogue_picks_the_month():
    table = _monthly(["2018MM01", "2018MM12", "2019MM01"], [10.0, 12.0, 13.0])
    op = Operand("s", ("T",), topics=("Studenten",))
    # default: the latest month of each year
    out = extract(table, op).set_index("year")["value"]
    assert out.to_dict() == {2018: 12.0, 2019: 13.0}
    january = TableSpec("T", "t", True, period_month=1)
    out = extract(table, op, january).set_index("year")["value"]
    assert out.to_dict() == {2018: 10.0, 2019: 13.0}
    december = TableSpec("T", "t", True, period_month=12)
    assert extract(table, op, december).set_index("year")["value"].to_dict() == {2018: 12.0}


# -- the coded export (37259eng) ----------------------------------------------------------------
CODED = (
    "ID,Sex,Sex Label,Regions,Regions Label,Periods,Periods Label,"
    "PopulationOn1January_1,DueToIntermunicipalMoves_11,DueToIntermunicipalMoves_16\r\n"
    "1,T001038,Total male and female,NL01  ,The Netherlands,2023JJ00,2023*,17811291,818483,"
    "818483\r\n"
    "2,T001038,Total male and female,GM1969,Westerkwartier,2023JJ00,2023*,64946,2157,2339\r\n"
    "3,3000,Male,GM1969,Westerkwartier,2023JJ00,2023*,32500,,1100\r\n"
)


def test_coded_export_keeps_codes_keys_and_labels(tmp_path):
    path = tmp_path / "37259eng_test.csv"
    path.write_text(CODED, encoding="utf-8")
    units = {"PopulationOn1January_1": "aantal", "DueToIntermunicipalMoves": "aantal"}
    table = exports.read_coded_export(path, "37259eng", units=units)
    assert table.dimension_types == {
        "Sex": "Dimension",
        "Regions": "GeoDimension",
        "Periods": "TimeDimension",
    }
    assert set(table.data["Regions"]) == {"NL01", "GM1969"}  # padding stripped
    assert table.dimensions["Periods"].to_dict("records") == [
        {"key": "2023JJ00", "title": "2023", "status": "voorlopig"}
    ]
    assert np.isnan(table.data.loc[2, "DueToIntermunicipalMoves_11"])  # empty is missing
    assert table.topics.set_index("key")["unit"].to_dict() == {
        "PopulationOn1January_1": "aantal",
        "DueToIntermunicipalMoves_11": "aantal",
        "DueToIntermunicipalMoves_16": "aantal",
    }
    # the stem repeats (arrivals _11, departures _16): a full key is needed and used as is
    with pytest.raises(AmbiguousTopic, match="DueToIntermunicipalMoves_11"):
        table.topic("DueToIntermunicipalMoves")
    departures = Operand(
        "d", ("37259eng",), topics=("NaarAndereGemeente", "DueToIntermunicipalMoves_16")
    )
    out = extract(table, departures).set_index("region_code")["value"]
    # "Total male and female" is the total of the English edition
    assert out.to_dict() == {"NL01": 818483.0, "GM1969": 2339.0}


def test_coded_export_rejects_other_files(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(ExportFormatError, match="Label"):
        exports.read_coded_export(path, "x")


def test_an_ambiguous_stem_in_the_catalogue_is_an_error_naming_the_keys():
    table = _monthly(["2018MM12"], [1.0])
    table.topics = pd.DataFrame(
        [
            {"key": "AfstandTotSchool_56", "title": "a", "unit": "km", "decimals": 1},
            {"key": "AfstandTotSchool_60", "title": "b", "unit": "km", "decimals": 1},
        ]
    )
    with pytest.raises(AmbiguousTopic) as info:
        resolve_topics(table, Operand("a", ("T",), topics=("AfstandTotSchool",), cbs_unit="km"))
    assert info.value.candidates == ["AfstandTotSchool_56", "AfstandTotSchool_60"]
    assert "volledige" in str(info.value)
    keys = resolve_topics(table, Operand("a", ("T",), topics=("AfstandTotSchool_60",)))
    assert keys == ["AfstandTotSchool_60"]
    with pytest.raises(SelectionMissing):
        resolve_topics(table, Operand("a", ("T",), topics=("AfstandTotSchool_99",)))


def test_sum_topics_alternatives_take_the_first_complete_set():
    table = _monthly(["2018MM12"], [1.0])
    table.data["B_2"] = 2.0
    table.topics = pd.DataFrame(
        [
            {"key": "Studenten_1", "title": "a", "unit": "aantal", "decimals": 0},
            {"key": "B_2", "title": "b", "unit": "aantal", "decimals": 0},
        ]
    )
    op = Operand("s", ("T",), sum_topics=(("Ontbreekt",), ("Studenten", "B")))
    assert resolve_topics(table, op) == ["Studenten_1", "B_2"]
    assert extract(table, op)["value"].tolist() == [3.0]


# -- two region dimensions (85481NED) -----------------------------------------------------------
def test_work_region_with_residence_fixed_by_select():
    data = pd.DataFrame(
        {
            "WoonregioS": ["NL01", "NL01", "LD01"],
            "WerkregioS": ["GM1969", "NL01", "GM1969"],
            "Perioden": "2023MM12",
            "WoonWerkafstand_2": [15.0, 19.5, 12.9],
        }
    )
    geo = {
        "WoonregioS": pd.DataFrame({"key": ["NL01", "LD01"], "title": ["Nederland", "Noord"]}),
        "WerkregioS": pd.DataFrame({"key": ["GM1969", "NL01"], "title": ["W", "Nederland"]}),
        "Perioden": pd.DataFrame({"key": ["2023MM12"], "title": ["2023 december"]}),
    }
    types = {"WoonregioS": "GeoDimension", "WerkregioS": "GeoDimension"}
    table = CbsTable(
        "85481NED",
        data,
        pd.DataFrame([{"key": "WoonWerkafstand_2", "title": "k", "unit": "km", "decimals": 1}]),
        geo,
        {**types, "Perioden": "TimeDimension"},
    )
    op = Operand(
        "a",
        ("85481NED",),
        topics=("WoonWerkafstand",),
        cbs_unit="km",
        region_dimension="WerkregioS",
        select={"WoonregioS": ("Nederland",)},
    )
    out = extract(table, op).set_index("region_code")
    assert out["value"].to_dict() == {"GM1969": 15.0, "NL01": 19.5}
    assert set(out["year"]) == {2023}
    unselected = Operand("a", ("85481NED",), topics=("WoonWerkafstand",), cbs_unit="km")
    with pytest.raises(CbsSchemaError, match="WerkregioS"):
        extract(table, unselected)


def test_commuting_dimensions_are_geographic_in_exports():
    assert exports._dimension_type("WoonregioS") == "GeoDimension"
    assert exports._dimension_type("WerkregioS") == "GeoDimension"
    assert exports._dimension_type("Periods") == "TimeDimension"
    assert exports.region_code("West-Nederland, exclusief G4 (LD)", {}) is None


def test_statline_keys_are_unique_over_the_whole_path():
    headers = [
        "Bevolking/Migratieachtergrond/Met migratieachtergrond/Totaal (aantal)",
        "Bevolking/Migratieachtergrond, relatief/Met migratieachtergrond/Totaal (%)",
        "Bevolking/Leeftijdsgroepen/15 tot 20 jaar (aantal)",
        "Bevolking/Leeftijdsgroepen, relatief/15 tot 20 jaar (%)",
        "Bevolking/Totale bevolking (aantal)",
    ]
    keys = {h: k for h, (k, _, _) in exports.statline_topic_keys(headers).items()}
    assert len(set(keys.values())) == len(headers)
    assert keys[headers[2]] == "Leeftijdsgroepen15Tot20Jaar"  # unchanged where no clash
    assert keys[headers[4]] == "TotaleBevolking"


def test_per_region_fallback_between_tables():
    def obs(rows, source):
        return pd.DataFrame(
            [
                {"region_code": r, "year": y, "value": v, "lower": np.nan, "upper": np.nan,
                 "status": "definitief", "source_table": source, "note": None}
                for r, y, v in rows
            ]
        )  # fmt: skip

    preferred = obs([("GM1", 2023, 1.0), ("GM2", 2023, np.nan)], "80305ned")
    second = obs([("GM2", 2023, 2.0), ("GM3", 2023, 3.0), ("GM1", 2023, 9.0)], "85618NED")
    by_year = combine_tables([preferred, second])
    assert set(by_year["source_table"]) == {"80305ned"}
    by_region = combine_tables([preferred, second], by_region=True).set_index("region_code")
    assert by_region["value"].to_dict() == {"GM1": 1.0, "GM2": 2.0, "GM3": 3.0}
    assert by_region.loc["GM2", "source_table"] == "85618NED"


# -- snapshot configuration ---------------------------------------------------------------------
def test_keep_slices_and_provisional_periods():
    table = _monthly(["2022MM12", "2023MM12"], [1.0, 2.0])
    table = snapshot.mark_provisional(table, ["2023"])
    assert table.period_status.set_index("key")["status"].to_dict() == {
        "2022MM12": "definitief",
        "2023MM12": "voorlopig",
    }
    assert extract(table, Operand("s", ("T",), topics=("Studenten",)))["status"].tolist() == [
        "definitief",
        "voorlopig",
    ]
    table.data["Sex"] = ["T001038", "3000"]
    table.dimensions["Sex"] = pd.DataFrame({"key": ["T001038", "3000"], "title": ["T", "M"]})
    table.dimension_types["Sex"] = "Dimension"
    kept = snapshot.keep_slices(table, {"Sex": "T001038"})
    assert kept.data["Sex"].tolist() == ["T001038"]
    with pytest.raises(Exception, match="snapshot.toml"):
        snapshot.keep_slices(kept, {"Sex": "onbekend"})


@pytest.mark.mirror
def test_round3_tables_read_from_the_mirror(mirror):
    coded = exports.read_mirror_table("37259eng", mirror)
    row = coded.data[
        (coded.data["Regions"] == "GM1969")
        & (coded.data["Periods"] == "2023JJ00")
        & (coded.data["Sex"] == "T001038")
    ].iloc[0]
    assert row["DueToIntermunicipalMoves_11"] == 2157 and row["DueToIntermunicipalMoves_16"] == 2339
    jobs = exports.read_mirror_table("83582NED", mirror)
    assert jobs.period_dimension == "Perioden" and "2023MM12" in set(jobs.data["Perioden"])
    commuting = exports.read_mirror_table("85481NED", mirror)
    assert {"WoonregioS", "WerkregioS"} <= {
        d for d, k in commuting.dimension_types.items() if k == "GeoDimension"
    }
    kwb = exports.read_mirror_table("84799NED", mirror)
    assert kwb.info["period"] == "2020JJ00"
    gm = kwb.data[kwb.data["WijkenEnBuurten"] == "GM1969"].iloc[0]
    assert gm["AantalInwoners_5"] == 63329
