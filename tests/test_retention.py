"""Retention and business-climate indicators on hand-made tables in the shape of the CBS ones.

A small "mirror" of the tables behind the new indicators (37259eng, 86087NED, 85980NED,
85950NED, 83582NED, 86008NED, 86043NED, 85481NED, 80305ned, Kerncijfers wijken en buurten,
70072ned, 85383NED) for a made-up province PV99 with three kinds of boundary change on 1 January
2020:

* GM0001 continues and absorbs the whole of GM0002 (like Groningen in 2019);
* GM0003 is new, formed from the whole of GM0004 and GM0005 (like Westerkwartier in 2019);
* GM0006 and GM0009 each get part of GM0007, without a known share (like Súdwest-Fryslân).

Every indicator of the real catalogue is computed through :func:`panel` and compared with
numbers worked out by hand in the test.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from westerkwartier.errors import OfflineDataMissing
from westerkwartier.indicators.catalogue import MISSING
from westerkwartier.indicators.panel import panel
from westerkwartier.sources.table import CbsTable

YEARS = range(2014, 2022)
OLD = ("GM0001", "GM0002", "GM0004", "GM0005", "GM0006", "GM0007", "GM0009")
NEW = ("GM0001", "GM0003", "GM0006", "GM0009")

# pop on 1 January, arrivals from and departures to other municipalities, immigration,
# emigration; in year y every count grows by (y - 2014), the population by 10 per year
BASE = {
    "GM0001": (1000, 50, 40, 10, 5),
    "GM0002": (500, 30, 20, 2, 1),
    "GM0004": (300, 20, 25, 1, 0),
    "GM0005": (200, 10, 12, 3, 1),
    "GM0006": (400, 16, 18, 4, 2),
    "GM0007": (100, 5, 6, 0, 0),
    "GM0009": (600, 22, 20, 6, 3),
    "GM0003": (510, 26, 31, 4, 1),  # from 2020; its own (not summed) figures
}


def flows(code: str, year: int) -> dict[str, float]:
    """The made-up 37259 figures of a region (the old GM0001 is smaller than the new)."""
    pop, arr, dep, imm, emi = BASE[code]
    if code == "GM0001" and year >= 2020:
        pop, arr, dep = 1520, 60, 50  # after absorbing GM0002
    d = year - 2014
    return {
        "pop1": pop + 10 * d,
        "arr": arr + d,
        "dep": dep + d,
        "imm": imm + d,
        "emi": emi + d,
        "pop31": pop + 10 * d + 5,
    }


def members(year: int) -> tuple[str, ...]:
    return OLD if year < 2020 else NEW


def aggregate(year: int) -> dict[str, float]:
    parts = [flows(c, year) for c in members(year)]
    return {k: float(sum(p[k] for p in parts)) for k in parts[0]}


class FakeRegistry:
    """What panel() needs of the registry: the dissolved municipalities."""

    def dissolved(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "code": ["GM0002", "GM0004", "GM0005", "GM0007"],
                "dissolved_in": [2020, 2020, 2020, 2020],
                "successor_codes": ["GM0001", "GM0003", "GM0003", "GM0006;GM0009"],
            }
        )


REGIONS = pd.DataFrame(
    {
        "code": ["GM0001", "GM0003", "GM0006", "GM0009", "PV99", "NL01"],
        "name": ["Oudstad", "Nieuwland", "Zesdorp", "Negendorp", "Proefland", "Nederland"],
        "level": ["gemeente"] * 4 + ["provincie", "land"],
    }
)


def divisions() -> pd.DataFrame:
    rows = [
        {"year": y, "code": c, "province_code": "PV99"}
        for y in range(2014, 2026)
        for c in members(y)
    ]
    return pd.DataFrame(rows)


# -- building tables ------------------------------------------------------------------------------
def table(
    table_id: str,
    rows: list[dict],
    units: dict[str, str],
    dims: dict[str, list[tuple[str, str]]] | None = None,
    geo: tuple[str, ...] = ("RegioS",),
    period: str | None = "Perioden",
    info: dict | None = None,
) -> CbsTable:
    """A CbsTable with codes in the data and code lists beside, any dimension names."""
    data = pd.DataFrame(rows)
    dimensions: dict[str, pd.DataFrame] = {}
    types: dict[str, str] = {}
    for name, cats in (dims or {}).items():
        dimensions[name] = pd.DataFrame(cats, columns=["key", "title"])
        types[name] = "Dimension"
    for name in geo:
        keys = sorted(data[name].unique())
        titles = [{"NL01": "Nederland"}.get(k, k) for k in keys]
        dimensions[name] = pd.DataFrame({"key": keys, "title": titles})
        types[name] = "GeoDimension"
    if period:
        keys = sorted(data[period].unique())
        dimensions[period] = pd.DataFrame({"key": keys, "title": keys, "status": "definitief"})
        types[period] = "TimeDimension"
    topics = pd.DataFrame(
        [{"key": k, "title": k, "unit": u, "decimals": 1} for k, u in units.items()]
    )
    return CbsTable(table_id, data, topics, dimensions, types, info or {}, source="snapshot")


def t37259eng() -> CbsTable:
    keys = {
        "pop1": "PopulationOn1January_1",
        "imm": "DueToImmigration_10",
        "arr": "DueToIntermunicipalMoves_11",
        "emi": "DueToEmigrationIncludingAdministr_14",
        "dep": "DueToIntermunicipalMoves_16",
        "pop31": "PopulationOn31December_20",
    }
    rows = []
    for year in YEARS:
        regions = {c: flows(c, year) for c in members(year)}
        regions["PV99"] = aggregate(year)
        regions["NL01"] = {k: 10 * v for k, v in aggregate(year).items()}
        regions["NL01"]["arr"] = regions["NL01"]["dep"] = 1234.0  # net zero, as for CBS
        for code, values in regions.items():
            for sex, factor in (("T001038", 1.0), ("3000", 0.5)):
                row = {"Sex": sex, "Regions": code, "Periods": f"{year}JJ00"}
                row.update({keys[k]: factor * v for k, v in values.items()})
                rows.append(row)
    return table(
        "37259eng",
        rows,
        dict.fromkeys(keys.values(), "aantal"),
        dims={"Sex": [("T001038", "Total male and female"), ("3000", "Male")]},
        geo=("Regions",),
        period="Periods",
    )


def youth(code: str, year: int) -> float:
    """86087NED, on the 2024 division for every year (rounded to hundreds, like CBS)."""
    base = {"GM0001": 1900.0, "GM0003": 1300.0, "GM0006": 300.0, "GM0009": 1200.0}
    return base[code] + 100.0 * (year - 2014)


def t86087() -> CbsTable:
    rows = []
    for year in YEARS:
        values = {c: youth(c, year) for c in NEW}
        values["PV99"] = sum(values.values())
        values["NL01"] = 10 * values["PV99"]
        rows += [
            {
                "Onderwijsvolgend": "T",
                "RegioS": c,
                "Perioden": f"{year}JJ00",
                "Jongeren15Tot27Jaar_1": v,
            }
            for c, v in values.items()
        ]
    return table(
        "86087NED",
        rows,
        {"Jongeren15Tot27Jaar_1": "aantal"},
        dims={"Onderwijsvolgend": [("T", "Totaal ")]},
    )


def t85980() -> CbsTable:
    """Full-time students on 1 January (MM01) and 31 December (MM12) of each year."""
    rows = []
    for year in (2019, 2020):
        for code in [*members(year), "PV99", "NL01"]:
            dec = {"GM0001": 700.0, "GM0002": 105.0, "GM0003": 520.0, "GM0004": 310.0}.get(
                code, 200.0
            )
            for month, value in (("MM01", dec - 50), ("MM12", dec)):
                for kenmerk, factor in (("T", 1.0), ("M", 0.5)):
                    rows.append(
                        {
                            "AandachtsgroepVolkshuisvesting": "V",
                            "Kenmerken": kenmerk,
                            "RegioS": code,
                            "Perioden": f"{year}{month}",
                            "TotaalPersonen_1": factor * value,
                        }
                    )
    return table(
        "85980NED",
        rows,
        {"TotaalPersonen_1": "aantal"},
        dims={
            "AandachtsgroepVolkshuisvesting": [("V", "Voltijdsstudent: totaal")],
            "Kenmerken": [("T", "Totaal"), ("M", "Geslacht: mannen")],
        },
    )


def t85950() -> CbsTable:
    rows = []
    for code, mean, median in (
        ("GM0001", 31.4, 28.0),
        ("GM0003", 29.9, 27.5),
        ("NL01", 33.6, 30.1),
    ):
        for hh, shift in (("T1", 5.0), ("E1", 0.0)):
            rows.append(
                {
                    "EigenaarHuurder": "T001",
                    "HuishoudensEnWoningkenmerken": hh,
                    "RegioS": code,
                    "Perioden": "2021JJ00",
                    "Woonquote_5": mean - shift,
                    "Woonquote_9": median - shift,
                }
            )
    return table(
        "85950NED",
        rows,
        {"Woonquote_5": "%", "Woonquote_9": "%"},
        dims={
            "EigenaarHuurder": [("T001", "Totaal")],
            "HuishoudensEnWoningkenmerken": [
                ("T1", "Totaal"),
                ("E1", "Eenpersoonshuishouden; jonger 35 jaar"),
            ],
        },
    )


JOBS = {  # x 1 000, December, each year's own division
    2019: {"GM0001": 12.3, "GM0002": 2.1, "GM0004": 1.6, "GM0005": 0.9, "GM0006": 0.8,
           "GM0007": 0.2, "GM0009": 4.0, "PV99": 21.9, "NL01": 9000.0},
    2020: {"GM0001": 14.8, "GM0003": 2.4, "GM0006": 0.9, "GM0009": 4.1, "PV99": 22.2,
           "NL01": 8900.0},
    2021: {"GM0001": 15.2, "GM0003": 2.6, "GM0006": 1.0, "GM0009": 4.3, "PV99": 23.1,
           "NL01": 9200.0},
}  # fmt: skip

POP_15_74 = {"GM0001": 1150.0, "GM0003": 370.0, "GM0006": 300.0, "GM0009": 420.0}


def t83582() -> CbsTable:
    rows = [
        {
            "BedrijfstakkenBranchesSBI2008": "T001081",
            "RegioS": code,
            "Perioden": f"{year}MM12",
            "BanenVanWerknemersInDecember_1": value,
        }
        for year, values in JOBS.items()
        for code, value in values.items()
    ]
    return table(
        "83582NED",
        rows,
        {"BanenVanWerknemersInDecember_1": "x 1 000"},
        dims={"BedrijfstakkenBranchesSBI2008": [("T001081", "A-U Alle economische activiteiten")]},
    )


def pop15(code: str, year: int) -> float:
    if code == "PV99":
        return sum(pop15(c, year) for c in NEW)
    if code == "NL01":
        return 10 * pop15("PV99", year)
    return POP_15_74[code] + 10.0 * (year - 2019)


def t86008() -> CbsTable:
    rows = [
        {
            "Herkomstland": h,
            "RegioS": code,
            "Perioden": f"{year}JJ00",
            "BeroepsEnNietBeroepsbevolking_1": pop15(code, year) * (1.0 if h == "T" else 0.9),
        }
        for h in ("T", "NL")
        for year in (2019, 2020, 2021)
        for code in [*NEW, "PV99", "NL01"]
    ]
    return table(
        "86008NED",
        rows,
        {"BeroepsEnNietBeroepsbevolking_1": "aantal"},
        dims={"Herkomstland": [("T", "Totaal"), ("NL", "Nederland")]},
    )


def t86043() -> CbsTable:
    rows = []
    for code, main, all_ in (("GM0001", 1.4, 2.0), ("GM0003", 0.2, 0.4), ("NL01", 1100.0, 1600.0)):
        rows.append(
            {
                "TypeZelfstandige": "Z",
                "BedrijfstakkenBranchesSBI2008": "T001081",
                "RegioS": code,
                "Perioden": "2021JJ00",
                "Zelfstandigen_1": main,
                "Zelfstandigen_11": all_,
            }
        )
    return table(
        "86043NED",
        rows,
        {"Zelfstandigen_1": "x 1 000", "Zelfstandigen_11": "x 1 000"},
        dims={
            "TypeZelfstandige": [("Z", "Zelfstandige")],
            "BedrijfstakkenBranchesSBI2008": [("T001081", "A-U Alle economische activiteiten")],
        },
    )


def t85481() -> CbsTable:
    rows = []
    for home, shift in (("NL01", 0.0), ("LD01", -3.0)):
        for work, km in (("GM0001", 17.1), ("GM0003", 24.7), ("PV99", 18.5), ("NL01", 19.4)):
            rows.append(
                {
                    "WoonregioS": home,
                    "WerkregioS": work,
                    "Perioden": "2021MM12",
                    "BanenVanWerknemers_1": 10.0,
                    "WoonWerkafstand_2": km + shift,
                }
            )
    return table(
        "85481NED",
        rows,
        {"BanenVanWerknemers_1": "x 1 000", "WoonWerkafstand_2": "km"},
        geo=("WoonregioS", "WerkregioS"),
    )


DISTANCES = {  # 80305ned: oprit, station, ziekenhuis incl. / excl. polikliniek, huisarts,
    # supermarkt, basisschool, voortgezet onderwijs. GM0009 is cut off the export.
    "GM0001": (1.2, 2.7, 3.0, 3.7, 0.9, 0.8, 0.8, 2.4),
    "GM0003": (1.3, 3.2, 7.1, 20.7, 1.8, 1.6, 1.2, 3.3),
    "PV99": (1.3, 5.1, 9.0, 10.5, 1.3, 1.2, 0.9, 2.6),
    "NL01": (1.9, 5.3, 6.5, 7.3, 1.1, 1.0, 0.8, 2.5),
}  # fmt: skip
DISTANCE_KEYS = (
    "AfstandTotOpritHoofdverkeersweg_100",
    "AfstandTotTreinstationsTotaal_101",
    "AfstandTotZiekenhuis_7",
    "AfstandTotZiekenhuis_11",
    "AfstandTotHuisartsenpraktijk_1",
    "AfstandTotGroteSupermarkt_20",
    "AfstandTotSchool_56",
    "AfstandTotSchool_60",
)


def t80305() -> CbsTable:
    rows = [
        {"RegioS": code, "Perioden": "2023JJ00", **dict(zip(DISTANCE_KEYS, v, strict=True))}
        for code, v in DISTANCES.items()
    ]
    return table("80305ned", rows, dict.fromkeys(DISTANCE_KEYS, "km"))


def kwb(table_id: str, rows: list[dict], units: dict[str, str]) -> CbsTable:
    return table(table_id, rows, units, geo=("WijkenEnBuurten",), period=None)


def t85618() -> CbsTable:
    """The secondary KWB 2023 layer: only GM0009 matters (80305ned lacks it)."""
    rows = [
        {"WijkenEnBuurten": "GM0001", "AfstandTotHuisartsenpraktijk": 9.9},
        {"WijkenEnBuurten": "GM0009", "AfstandTotHuisartsenpraktijk": 2.2},
    ]
    return kwb("85618NED", rows, {"AfstandTotHuisartsenpraktijk": "km"})


AGES_2020 = {  # 84799NED on the 2020 division: total, 0-15, 15-25, 25-45, 65+
    "GM0001": (1520, 230, 160, 300, 250),
    "GM0003": (600, 110, 60, 110, 140),
    "GM0006": (450, 80, 40, 90, 100),
    "GM0009": (700, 120, 70, 150, 160),
    "NL00": (17407585, 2732000, 2144000, 4309000, 3393000),
}
AGES_2025 = {  # 70072ned 2025: total, 5-10, 10-15, 15-20, 20-25, 25-45, 65-80, 80+
    "GM0001": (1600, 80, 90, 95, 70, 320, 200, 70),
    "GM0003": (610, 35, 40, 38, 24, 115, 110, 40),
    "GM0006": (440, 25, 28, 22, 18, 88, 80, 30),
    "GM0009": (720, 40, 42, 40, 31, 150, 120, 45),
    "NL01": (18000000, 900000, 950000, 1100000, 1100000, 4600000, 2900000, 900000),
}


def t84799() -> CbsTable:
    keys = ("AantalInwoners_5", "k_0Tot15Jaar_8", "k_15Tot25Jaar_9", "k_25Tot45Jaar_10",
            "k_65JaarOfOuder_12")  # fmt: skip
    rows = [
        {"WijkenEnBuurten": c, **dict(zip(keys, map(float, v), strict=True))}
        for c, v in AGES_2020.items()
    ]
    return kwb("84799NED", rows, dict.fromkeys(keys, "aantal"))


def t70072() -> CbsTable:
    keys = ("TotaleBevolking", "Leeftijdsgroepen5Tot10Jaar", "Leeftijdsgroepen10Tot15Jaar",
            "Leeftijdsgroepen15Tot20Jaar", "Leeftijdsgroepen20Tot25Jaar",
            "Leeftijdsgroepen25Tot45Jaar", "Leeftijdsgroepen65Tot80Jaar",
            "Leeftijdsgroepen80JaarOfOuder")  # fmt: skip
    rows = [
        {"RegioS": c, "Perioden": "2025JJ00", **dict(zip(keys, map(float, v), strict=True))}
        for c, v in AGES_2025.items()
    ]
    return table("70072ned", rows, dict.fromkeys(keys, "aantal"))


def t85383() -> CbsTable:
    rows = []
    for code, inw, vest in (
        ("GM0001", 1590.0, 190.0),
        ("GM0003", 605.0, 55.0),
        ("PV99", 3400.0, 420.0),
        ("NL01", 17900000.0, 2358600.0),
    ):
        rows.append(
            {"StatusCijfer": "D", "RegioS": code, "Perioden": "2023JJ00", "InwonersTotaal_1": inw}
        )
        rows.append(
            {
                "StatusCijfer": "V",
                "RegioS": code,
                "Perioden": "2023JJ00",
                "Bedrijfsvestigingen_69": vest,
            }
        )
    return table(
        "85383NED",
        rows,
        {"InwonersTotaal_1": "aantal", "Bedrijfsvestigingen_69": "aantal"},
        dims={"StatusCijfer": [("D", "Definitief"), ("V", "Voorlopig")]},
    )


def t85318() -> CbsTable:
    """KWB 2022 layer: municipalities only, so the province is summed."""
    rows = [
        {"WijkenEnBuurten": c, "AantalInwoners": inw, "BedrijfsvestigingenTotaal": v}
        for c, inw, v in (
            ("GM0001", 1580.0, 180.0),
            ("GM0003", 600.0, 50.0),
            ("GM0006", 440.0, 60.0),
            ("GM0009", 700.0, 90.0),
        )
    ]
    return kwb(
        "85318NED", rows, {"AantalInwoners": "aantal", "BedrijfsvestigingenTotaal": "aantal"}
    )


@pytest.fixture(scope="module")
def mini():
    tables = {
        t.table_id.lower(): t
        for t in (
            t37259eng(),
            t86087(),
            t85980(),
            t85950(),
            t83582(),
            t86008(),
            t86043(),
            t85481(),
            t80305(),
            t85618(),
            t84799(),
            t70072(),
            t85383(),
            t85318(),
        )
    }

    def loader(table_id: str) -> CbsTable:
        if table_id.lower() not in tables:
            raise OfflineDataMissing(f"{table_id} niet in de snapshot")
        return tables[table_id.lower()]

    ids = [
        "vestiging_andere_gemeente_per_1000",
        "vertrek_andere_gemeente_per_1000",
        "binnenlands_migratiesaldo_per_1000",
        "immigratie_per_1000",
        "emigratie_per_1000",
        "migratiesaldo_buitenland_per_1000",
        "jongeren_15_27_per_1000",
        "jongeren_15_27_verschil_5j",
        "jongeren_15_27",
        "studenten_per_1000_jongeren",
        "woonquote_jonge_alleenstaanden",
        "aandeel_15_24",
        "aandeel_25_44",
        "aandeel_65_plus",
        "cohort_5_19_in_2025",
        "banen_per_1000",
        "banengroei",
        "woon_werkafstand_banen",
        "zelfstandigen_per_1000_15_74",
        "vestigingen_per_1000",
        "afstand_oprit_hoofdweg",
        "afstand_treinstation",
        "afstand_ziekenhuis",
        "afstand_huisarts",
        "afstand_supermarkt",
        "afstand_basisschool",
    ]
    p = panel(
        regions=REGIONS,
        indicators=ids,
        loader=loader,
        registry=FakeRegistry(),
        divisions=divisions(),
    )
    return SimpleNamespace(panel=p.set_index(["indicator", "region_code", "year"]), ids=ids)


def cell(mini, indicator: str, code: str, year: int):
    return mini.panel.loc[(indicator, code, year)]


def avg(code: str, year: int) -> float:
    f = flows(code, year)
    return (f["pop1"] + f["pop31"]) / 2


# -- flows --------------------------------------------------------------------------------------
def test_gross_flows_from_the_first_year_on_current_boundaries(mini):
    # the new GM0001 in 2020: 66 arrivals, population 1 580 on 1 January, 1 585 on 31 December
    got = cell(mini, "vestiging_andere_gemeente_per_1000", "GM0001", 2020)
    assert got["value"] == pytest.approx(1000 * 66 / ((1580 + 1585) / 2))
    assert got["status"] == "definitief" and got["source_table"] == "37259eng"
    got = cell(mini, "vertrek_andere_gemeente_per_1000", "GM0001", 2021)
    assert got["value"] == pytest.approx(1000 * 57 / ((1590 + 1595) / 2))
    # before the change: never the smaller old area, never a sum of gross flows
    old = cell(mini, "vestiging_andere_gemeente_per_1000", "GM0001", 2019)
    assert np.isnan(old["value"])
    assert old["missing_reason"].startswith("gemeentegrenzen gewijzigd in 2020")
    new = cell(mini, "vertrek_andere_gemeente_per_1000", "GM0003", 2019)
    assert np.isnan(new["value"])
    assert new["missing_reason"].startswith("gemeente bestond nog niet (ontstaan in 2020)")
    # the province has its own CBS figure every year
    total = aggregate(2019)
    assert cell(mini, "vestiging_andere_gemeente_per_1000", "PV99", 2019)["value"] == (
        pytest.approx(1000 * total["arr"] / ((total["pop1"] + total["pop31"]) / 2))
    )


def test_net_flows_are_rebuilt_from_whole_predecessors_including_the_continuing_code(mini):
    # GM0001 in 2019: its old area plus GM0002: (55 + 35) - (45 + 25) = 20 on (1050 + 550,
    # 1055 + 555) / 2 = 1 605
    got = cell(mini, "binnenlands_migratiesaldo_per_1000", "GM0001", 2019)
    assert got["value"] == pytest.approx(1000 * 20 / 1605)
    assert got["status"] == "schatting"
    # GM0003 in 2019: GM0004 + GM0005: (25 + 15) - (30 + 17) = -7 on (350 + 250 + 355 + 255) / 2
    got = cell(mini, "binnenlands_migratiesaldo_per_1000", "GM0003", 2019)
    assert got["value"] == pytest.approx(1000 * -7 / 605)
    assert got["status"] == "schatting"
    # GM0006 got part of GM0007 without a known share: not rebuilt, the reason says why
    got = cell(mini, "binnenlands_migratiesaldo_per_1000", "GM0006", 2019)
    assert np.isnan(got["value"]) and "gewijzigd in 2020" in got["missing_reason"]
    assert cell(mini, "binnenlands_migratiesaldo_per_1000", "GM0006", 2020)["value"] == (
        pytest.approx(1000 * (22 - 24) / avg("GM0006", 2020))
    )
    # Nederland: arrivals equal departures
    assert cell(mini, "binnenlands_migratiesaldo_per_1000", "NL01", 2021)["value"] == 0.0


def test_migration_abroad_is_rebuilt_and_uses_the_average_population(mini):
    got = cell(mini, "immigratie_per_1000", "GM0001", 2019)  # (15 + 7) / 1 605
    assert got["value"] == pytest.approx(1000 * 22 / 1605) and got["status"] == "schatting"
    got = cell(mini, "emigratie_per_1000", "GM0003", 2021)  # 1 + 7 on 580, 585
    assert got["value"] == pytest.approx(1000 * 8 / 582.5)
    got = cell(mini, "migratiesaldo_buitenland_per_1000", "GM0009", 2021)  # (13 - 10) / 672.5
    assert got["value"] == pytest.approx(1000 * 3 / 672.5)


# -- young people -------------------------------------------------------------------------------
def test_young_people_per_1000_on_current_boundaries(mini):
    # 86087NED is on the 2024 division already; the population is rebuilt for 2019
    got = cell(mini, "jongeren_15_27_per_1000", "GM0001", 2019)
    assert got["value"] == pytest.approx(1000 * 2400 / 1605) and got["status"] == "schatting"
    got = cell(mini, "jongeren_15_27_per_1000", "GM0003", 2021)
    assert got["value"] == pytest.approx(1000 * 2000 / 582.5)
    # 300 + 100 x 7 = 1 000 in 2021 is enough; 800 in 2019 is not (rounded to hundreds)
    small = cell(mini, "jongeren_15_27_per_1000", "GM0006", 2021)
    assert small["value"] == pytest.approx(1000 * 1000 / avg("GM0006", 2021))
    tiny = cell(mini, "jongeren_15_27_per_1000", "GM0006", 2020)
    assert np.isnan(tiny["value"])
    assert tiny["missing_reason"] == (
        "te kleine aantallen: CBS rondt deze tellingen af op honderdtallen"
    )
    assert cell(mini, "jongeren_15_27", "GM0001", 2015)["value"] == 2000.0


def test_young_people_change_over_five_years(mini):
    got = cell(mini, "jongeren_15_27_verschil_5j", "GM0009", 2021)
    # GM0009 got part of GM0007 in 2020 without a share: 2016 is another area
    assert np.isnan(got["value"])
    got = cell(mini, "jongeren_15_27_verschil_5j", "GM0001", 2021)
    old = flows("GM0001", 2016)
    part = flows("GM0002", 2016)
    then = (
        1000
        * youth("GM0001", 2016)
        / ((old["pop1"] + part["pop1"] + old["pop31"] + part["pop31"]) / 2)
    )
    now = 1000 * youth("GM0001", 2021) / ((1590 + 1595) / 2)
    assert got["value"] == pytest.approx(now - then)
    assert got["status"] == "schatting"


def test_students_per_1000_young_people_use_31_december(mini):
    got = cell(mini, "studenten_per_1000_jongeren", "GM0001", 2020)
    assert got["value"] == pytest.approx(1000 * 700 / youth("GM0001", 2020))
    # 2019: the students of the old GM0001 and GM0002 summed (31 December), schatting
    got = cell(mini, "studenten_per_1000_jongeren", "GM0001", 2019)
    assert got["value"] == pytest.approx(1000 * (700 + 105) / youth("GM0001", 2019))
    assert got["status"] == "schatting"
    got = cell(mini, "studenten_per_1000_jongeren", "GM0003", 2019)
    assert got["value"] == pytest.approx(1000 * (310 + 200) / youth("GM0003", 2019))


def test_housing_cost_ratio_of_young_singles_is_the_mean_of_85950ned(mini):
    assert cell(mini, "woonquote_jonge_alleenstaanden", "GM0001", 2021)["value"] == 31.4
    assert cell(mini, "woonquote_jonge_alleenstaanden", "NL01", 2021)["value"] == 33.6
    prov = cell(mini, "woonquote_jonge_alleenstaanden", "PV99", 2021)
    assert np.isnan(prov["value"])  # a mean: never summed from municipalities


# -- age structure ------------------------------------------------------------------------------
def test_age_shares_with_province_as_sum_of_municipalities(mini):
    got = cell(mini, "aandeel_15_24", "GM0001", 2020)
    assert got["value"] == pytest.approx(100 * 160 / 1520)
    got = cell(mini, "aandeel_15_24", "GM0003", 2025)  # 15-20 + 20-25 in 70072ned
    assert got["value"] == pytest.approx(100 * 62 / 610)
    prov = cell(mini, "aandeel_25_44", "PV99", 2025)
    assert prov["value"] == pytest.approx(100 * (320 + 115 + 88 + 150) / (1600 + 610 + 440 + 720))
    assert prov["note"] == "som van de gemeenten"
    nl = cell(mini, "aandeel_65_plus", "NL01", 2020)  # KWB's NL00 is Nederland
    assert nl["value"] == pytest.approx(100 * 3393000 / 17407585)
    assert pd.isna(nl["note"])
    assert cell(mini, "aandeel_65_plus", "GM0009", 2025)["value"] == pytest.approx(100 * 165 / 720)


def test_cohort_of_children_follows_the_same_birth_years(mini):
    got = cell(mini, "cohort_5_19_in_2025", "GM0006", 2025)
    assert got["value"] == pytest.approx(100 * (25 + 28 + 22) / 80)
    prov = cell(mini, "cohort_5_19_in_2025", "PV99", 2025)
    assert prov["value"] == pytest.approx(100 * (265 + 113 + 75 + 122) / (230 + 110 + 80 + 120))


# -- business climate ---------------------------------------------------------------------------
def test_jobs_per_1000_aged_15_74_and_job_growth(mini):
    got = cell(mini, "banen_per_1000", "GM0001", 2021)
    assert got["value"] == pytest.approx(1000 * 15_200 / 1170)
    # before the change the jobs of GM0001 and GM0002 are summed; the population is on the
    # 2024 division already
    got = cell(mini, "banen_per_1000", "GM0001", 2019)
    assert got["value"] == pytest.approx(1000 * 14_400 / 1150) and got["status"] == "schatting"
    growth = cell(mini, "banengroei", "GM0003", 2020)  # 2 400 against 1 600 + 900
    assert growth["value"] == pytest.approx(100 * (2400 - 2500) / 2500)
    assert growth["status"] == "schatting"
    assert cell(mini, "banengroei", "GM0001", 2021)["value"] == pytest.approx(
        100 * (15_200 - 14_800) / 14_800
    )
    # 900 jobs: rounding to hundreds alone moves the ratio too much
    small = cell(mini, "banen_per_1000", "GM0006", 2020)
    assert np.isnan(small["value"]) and "honderdtallen" in small["missing_reason"]


def test_self_employed_take_the_main_income_group(mini):
    got = cell(mini, "zelfstandigen_per_1000_15_74", "GM0001", 2021)
    assert got["value"] == pytest.approx(1000 * 1400 / 1170)
    assert np.isnan(cell(mini, "zelfstandigen_per_1000_15_74", "GM0003", 2021)["value"])


def test_commuting_distance_of_jobs_uses_the_work_region(mini):
    got = cell(mini, "woon_werkafstand_banen", "GM0003", 2021)
    assert got["value"] == 24.7 and got["source_table"] == "85481NED"
    assert cell(mini, "woon_werkafstand_banen", "NL01", 2021)["value"] == 19.4


def test_establishments_per_1000_with_summed_province(mini):
    got = cell(mini, "vestigingen_per_1000", "GM0001", 2023)
    assert got["value"] == pytest.approx(1000 * 190 / 1590) and got["status"] == "voorlopig"
    prov = cell(mini, "vestigingen_per_1000", "PV99", 2022)
    assert prov["value"] == pytest.approx(1000 * 380 / 3320)
    assert prov["note"] == "som van de gemeenten"


def test_distances_from_80305ned_with_full_keys_and_the_kwb_layer_where_it_lacks_a_region(mini):
    expected = {
        "afstand_oprit_hoofdweg": 1.2,
        "afstand_treinstation": 2.7,
        "afstand_ziekenhuis": 3.7,  # _11: without outpatient clinics
        "afstand_huisarts": 0.9,
        "afstand_supermarkt": 0.8,
        "afstand_basisschool": 0.8,  # _56: primary school
    }
    for indicator, value in expected.items():
        got = cell(mini, indicator, "GM0001", 2023)
        assert got["value"] == value and got["source_table"] == "80305ned", indicator
    assert cell(mini, "afstand_ziekenhuis", "GM0003", 2023)["value"] == 20.7
    filled = cell(mini, "afstand_huisarts", "GM0009", 2023)
    assert filled["value"] == 2.2 and filled["source_table"] == "85618NED"
    assert np.isnan(cell(mini, "afstand_treinstation", "GM0009", 2023)["value"])


def test_every_indicator_of_the_mini_mirror_has_a_value_somewhere(mini):
    p = mini.panel.reset_index()
    for indicator in mini.ids:
        assert p.loc[p["indicator"] == indicator, "value"].notna().any(), indicator
    # inside the years of the offline table no figure is called "online only"
    flows_ = p[(p["indicator"] == "binnenlands_migratiesaldo_per_1000") & p["year"].isin(YEARS)]
    assert MISSING["online_only"] not in set(flows_["missing_reason"].dropna())
