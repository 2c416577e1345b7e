"""The retention and business-climate indicators on the committed snapshot equal the mirror.

Expected values are worked out here with plain pandas from the raw mirror files (the coded
37259eng export, tables-r3/ and the 84799NED parquet set), without the project's readers, for
Westerkwartier (formed 2019), Groningen (continued and grew in 2019), Eemsdelta (formed 2021),
Súdwest-Fryslân (got part of a split municipality in 2018), the province of Groningen and
Nederland.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from westerkwartier import settings

pytestmark = pytest.mark.mirror

CODES = ["GM1969", "GM0014", "GM1979", "GM1900", "PV20", "NL01"]
TITLES = {
    "GM1969": "Westerkwartier",
    "GM0014": "Groningen (gemeente)",
    "GM1979": "Eemsdelta",
    "GM1900": "Súdwest-Fryslân",
    "PV20": "Groningen (PV)",
    "NL01": "Nederland",
}


@pytest.fixture(scope="module")
def snap():
    from westerkwartier.indicators.panel import panel

    old = settings.offline
    settings.offline = True
    try:
        p = panel(
            regions=CODES,
            indicators=[
                "vestiging_andere_gemeente_per_1000",
                "vertrek_andere_gemeente_per_1000",
                "binnenlands_migratiesaldo_per_1000",
                "immigratie_per_1000",
                "emigratie_per_1000",
                "jongeren_15_27_per_1000",
                "banen_per_1000",
                "banengroei",
                "woon_werkafstand_banen",
                "zelfstandigen_per_1000_15_74",
                "studenten_per_1000_jongeren",
                "woonquote_jonge_alleenstaanden",
                "afstand_treinstation",
                "afstand_ziekenhuis",
                "aandeel_15_24",
            ],
        )
    finally:
        settings.offline = old
    return p.set_index(["indicator", "region_code", "year"])


def got(snap, indicator, code, year):
    return snap.loc[(indicator, code, year)]


@pytest.fixture(scope="module")
def r37259(mirror):
    path = mirror / "coded" / "37259eng_bevolkingsontwikkeling_2012_2023.csv"
    raw = pd.read_csv(path, dtype=str)
    raw = raw[raw["Sex"] == "T001038"].copy()
    raw["code"] = raw["Regions"].str.strip()
    raw["year"] = raw["Periods"].str[:4].astype(int)
    cols = {
        "PopulationOn1January_1": "pop1",
        "PopulationOn31December_20": "pop31",
        "DueToIntermunicipalMoves_11": "arr",
        "DueToIntermunicipalMoves_16": "dep",
        "DueToImmigration_10": "imm",
        "DueToEmigrationIncludingAdministr_14": "emi",
    }
    out = raw.rename(columns=cols).set_index(["code", "year"])[list(cols.values())]
    return out.apply(pd.to_numeric)


def fig(r37259, codes, year):
    """37259 figures of a region, or of the sum of whole predecessors."""
    return r37259.loc[[(c, year) for c in codes]].sum()


def rate(values, key):
    return 1000 * values[key] / ((values["pop1"] + values["pop31"]) / 2)


def test_gross_flows_equal_the_mirror_from_the_first_year_on_current_boundaries(snap, r37259):
    cases = [("GM1969", 2019), ("GM1969", 2023), ("GM0014", 2019), ("GM1979", 2021)]
    cases += [("GM1979", 2023), ("GM1900", 2018), ("PV20", 2023), ("NL01", 2023)]
    for code, year in cases:
        f = fig(r37259, [code], year)
        for indicator, key in (
            ("vestiging_andere_gemeente_per_1000", "arr"),
            ("vertrek_andere_gemeente_per_1000", "dep"),
        ):
            row = got(snap, indicator, code, year)
            assert row["value"] == pytest.approx(rate(f, key), rel=1e-12), (indicator, code, year)
    for indicator in ("vestiging_andere_gemeente_per_1000", "vertrek_andere_gemeente_per_1000"):
        for code, year in (("GM1969", 2018), ("GM0014", 2018), ("GM1979", 2020), ("GM1900", 2017)):
            assert np.isnan(got(snap, indicator, code, year)["value"]), (indicator, code, year)
    assert (
        "gewijzigd in 2019"
        in got(snap, "vertrek_andere_gemeente_per_1000", "GM0014", 2018)["missing_reason"]
    )


def test_net_and_international_flows_are_rebuilt_from_whole_predecessors(snap, r37259):
    cases = {
        ("GM0014", 2018): ["GM0014", "GM0017", "GM0009"],  # Groningen + Haren + Ten Boer
        ("GM1979", 2020): ["GM0003", "GM0010", "GM0024"],  # Appingedam, Delfzijl, Loppersum
        ("GM1979", 2023): ["GM1979"],
        ("GM1969", 2023): ["GM1969"],
    }
    for (code, year), parts in cases.items():
        f = fig(r37259, parts, year)
        net = got(snap, "binnenlands_migratiesaldo_per_1000", code, year)
        expected = 1000 * (f["arr"] - f["dep"]) / ((f["pop1"] + f["pop31"]) / 2)
        assert net["value"] == pytest.approx(expected, rel=1e-12), (code, year)
        assert net["status"] == ("schatting" if len(parts) > 1 else "definitief")
        imm = got(snap, "immigratie_per_1000", code, year)["value"]
        assert imm == pytest.approx(rate(f, "imm"), rel=1e-12)
        emi = got(snap, "emigratie_per_1000", code, year)["value"]
        assert emi == pytest.approx(rate(f, "emi"), rel=1e-12)
    # Westerkwartier before 2019: four whole predecessors plus 739/6026 of Winsum
    share = 739 / 6026
    whole = fig(r37259, ["GM0015", "GM0022", "GM0025", "GM0056"], 2018)
    f = whole + share * r37259.loc[("GM0053", 2018)]
    net = got(snap, "binnenlands_migratiesaldo_per_1000", "GM1969", 2018)["value"]
    assert net == pytest.approx(1000 * (f["arr"] - f["dep"]) / ((f["pop1"] + f["pop31"]) / 2))
    # Súdwest-Fryslân got parts of Littenseradiel in 2018 without a known share
    assert np.isnan(got(snap, "binnenlands_migratiesaldo_per_1000", "GM1900", 2017)["value"])
    assert got(snap, "binnenlands_migratiesaldo_per_1000", "NL01", 2023)["value"] == 0.0


def _tables_r3(mirror, table_id):
    return pd.read_csv(mirror / "tables-r3" / f"{table_id}.csv", sep=";", encoding="utf-8-sig")


def _pick(frame, code, period, column, **dims):
    mask = (frame["RegioS"].str.strip() == TITLES[code]) & (
        frame["Perioden"].astype(str).str.strip() == str(period)
    )
    for dim, value in dims.items():
        mask &= frame[dim].str.strip() == value
    hit = frame.loc[mask, column]
    assert len(hit) == 1, (code, period, column, len(hit))
    return float(hit.iloc[0])


def test_young_people_and_students_equal_the_mirror(snap, r37259, mirror):
    youth = _tables_r3(mirror, "86087NED")
    for dim in ("Onderwijsvolgend", "Arbeidskenmerken", "GeregistreerdWerkzoekendeBijUWV"):
        youth = youth[youth[dim].str.strip() == "Totaal"]
    for code, year, parts in (
        ("GM1969", 2023, ["GM1969"]),
        ("GM1979", 2023, ["GM1979"]),
        ("GM0014", 2018, ["GM0014", "GM0017", "GM0009"]),
        ("PV20", 2023, ["PV20"]),
    ):
        n = _pick(youth, code, year, "Jongeren15Tot27Jaar_1")
        f = fig(r37259, parts, year)
        expected = 1000 * n / ((f["pop1"] + f["pop31"]) / 2)
        assert got(snap, "jongeren_15_27_per_1000", code, year)["value"] == pytest.approx(expected)
    students = _tables_r3(mirror, "85980NED")
    for code, year in (("GM1969", 2022), ("GM1979", 2021), ("NL01", 2022)):
        s = _pick(students, code, f"{year} december", "TotaalPersonen_1", Kenmerken="Totaal")
        n = _pick(youth, code, year, "Jongeren15Tot27Jaar_1")
        assert got(snap, "studenten_per_1000_jongeren", code, year)["value"] == pytest.approx(
            1000 * s / n
        )


def test_jobs_self_employed_and_commuting_equal_the_mirror(snap, mirror):
    jobs = _tables_r3(mirror, "83582NED")
    jobs = jobs[jobs["BedrijfstakkenBranchesSBI2008"] == "A-U Alle economische activiteiten"]
    pop = _tables_r3(mirror, "86008NED")
    pop = pop[pop["Herkomstland"].str.strip() == "Totaal"]
    for code, year in (("GM1969", 2023), ("GM1979", 2021), ("GM1900", 2023), ("PV20", 2020)):
        j = 1000 * _pick(jobs, code, f"{year} december", "BanenVanWerknemersInDecember_1")
        p = _pick(pop, code, year, "BeroepsEnNietBeroepsbevolking_1")
        assert got(snap, "banen_per_1000", code, year)["value"] == pytest.approx(1000 * j / p)
    # Eemsdelta 2021 against its three predecessors in December 2020
    titles = {"GM0003": "Appingedam", "GM0010": "Delfzijl", "GM0024": "Loppersum"}
    rows = jobs[(jobs["Perioden"] == "2020 december") & jobs["RegioS"].isin(titles.values())]
    before = rows["BanenVanWerknemersInDecember_1"].sum()
    now = _pick(jobs, "GM1979", "2021 december", "BanenVanWerknemersInDecember_1")
    growth = got(snap, "banengroei", "GM1979", 2021)
    assert growth["value"] == pytest.approx(100 * (now - before) / before)
    assert growth["status"] == "schatting"
    selfemp = _tables_r3(mirror, "86043NED")
    selfemp = selfemp[
        (selfemp["TypeZelfstandige"].str.strip() == "Zelfstandige")
        & (selfemp["BedrijfstakkenBranchesSBI2008"] == "A-U Alle economische activiteiten")
    ]
    z = 1000 * _pick(selfemp, "GM1900", 2023, "Zelfstandigen_1")
    p = _pick(pop, "GM1900", 2023, "BeroepsEnNietBeroepsbevolking_1")
    assert got(snap, "zelfstandigen_per_1000_15_74", "GM1900", 2023)["value"] == pytest.approx(
        1000 * z / p
    )
    commuting = _tables_r3(mirror, "85481NED")
    home = commuting[commuting["WoonregioS"].str.strip() == "Nederland"]
    for code in ("GM1969", "GM1979", "NL01"):
        mask = (home["WerkregioS"].str.strip() == TITLES[code]) & (
            home["Perioden"] == "2023 december"
        )
        expected = float(home.loc[mask, "WoonWerkafstand_2"].iloc[0])
        assert got(snap, "woon_werkafstand_banen", code, 2023)["value"] == expected


def test_distances_housing_costs_and_age_shares_equal_the_mirror(snap, mirror):
    near = _tables_r3(mirror, "80305ned")
    for code in ("GM1969", "GM1979", "PV20", "NL01"):
        station = _pick(near, code, 2023, "AfstandTotTreinstationsTotaal_101")
        hospital = _pick(near, code, 2023, "AfstandTotZiekenhuis_11")
        assert got(snap, "afstand_treinstation", code, 2023)["value"] == station
        assert got(snap, "afstand_ziekenhuis", code, 2023)["value"] == hospital
    costs = _tables_r3(mirror, "85950NED")
    young = "Eenpersoonshuishouden; jonger 35 jaar"
    costs = costs[
        (costs["EigenaarHuurder"].str.strip() == "Totaal")
        & (costs["HuishoudensEnWoningkenmerken"].str.strip() == young)
    ]
    for code in ("GM1969", "GM1900", "NL01"):
        assert got(snap, "woonquote_jonge_alleenstaanden", code, 2022)["value"] == _pick(
            costs, code, 2022, "Woonquote_5"
        )
    folder = mirror / "odata-v3" / "84799NED"
    kwb = pd.read_parquet(folder / "cbs.v3.84799NED_TypedDataSet.parquet")
    kwb["code"] = kwb["WijkenEnBuurten"].str.strip()
    gebieden = pd.read_csv(mirror / "tables" / "84721NED.csv", sep=";", encoding="utf-8-sig")
    province = [c for c in gebieden.columns if c.startswith("Code_")]
    members = set()
    for col in province:
        values = gebieden[col].astype(str).str.strip()
        if (values == "PV20").any():
            members = set(gebieden.loc[values == "PV20", "Code_1"].str.strip())
            break
    part = kwb[kwb["code"].isin(members)]
    expected = 100 * part["k_15Tot25Jaar_9"].sum() / part["AantalInwoners_5"].sum()
    row = got(snap, "aandeel_15_24", "PV20", 2020)
    assert len(members) == 12
    assert row["value"] == pytest.approx(expected) and row["note"] == "som van de gemeenten"
