"""Precision as data: rounding steps, intervals from rounded counts, exact sources, dominance.

Hand-made tables and observations first (each rule with a case that trips it), then the
committed snapshot against the raw mirror files.
"""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from westerkwartier import settings
from westerkwartier.indicators.aggregates import add_region_sums
from westerkwartier.indicators.catalogue import Operand, parse_catalogue
from westerkwartier.indicators.compute import OperandData, compute
from westerkwartier.indicators.dominance import (
    LEVEL,
    dominance_rows,
    split_formula,
    without_code,
)
from westerkwartier.indicators.extraction import extract
from westerkwartier.indicators.mergers import infer_divisions, rebuild_mergers
from westerkwartier.indicators.precision import infer_step, precision_kind, rounding_text
from westerkwartier.sources.table import CbsTable

NAN = float("nan")


def make_table(rows: list[dict], units: dict[str, str]) -> CbsTable:
    data = pd.DataFrame(rows)
    regions = sorted(data["RegioS"].unique())
    periods = sorted(data["Perioden"].unique())
    return CbsTable(
        table_id="T1",
        data=data,
        topics=pd.DataFrame(
            [{"key": k, "title": k, "unit": u, "decimals": 0} for k, u in units.items()]
        ),
        dimensions={
            "RegioS": pd.DataFrame({"key": regions, "title": regions}),
            "Perioden": pd.DataFrame(
                {"key": periods, "title": [p[:4] for p in periods], "status": "Definitief"}
            ),
        },
        dimension_types={"RegioS": "GeoDimension", "Perioden": "TimeDimension"},
        info={},
    )


def obs(rows, source="T1"):
    """(region, year, value[, lower, upper])."""
    out = []
    for r in rows:
        region, year, value = r[:3]
        lower, upper = (r[3], r[4]) if len(r) > 3 else (NAN, NAN)
        out.append(
            {
                "region_code": region,
                "year": year,
                "value": value,
                "lower": lower,
                "upper": upper,
                "status": "definitief",
                "source_table": source,
                "note": None,
            }
        )
    return pd.DataFrame(out)


def indicator(formula, operands, **extra):
    raw = {
        "tables": {"T1": {"title": "t", "offline": True}},
        "indicator": [
            {
                "id": "x",
                "label_nl": "x",
                "label_en": "x",
                "theme": "Talent",
                "subtheme": "ontwikkelen",
                "unit": "%",
                "direction": "higher_is_better",
                "formula": formula,
                "years": "2019-2024",
                "caveats": "-",
                "description": "-",
                "operands": operands,
                **extra,
            }
        ],
    }
    return parse_catalogue(raw)["x"]


def at(frame, region, year, col="value"):
    hit = frame[(frame["region_code"] == region) & (frame["year"] == year)]
    assert len(hit) == 1, (region, year, len(hit))
    return hit.iloc[0][col]


# -- the rounding step of a column ------------------------------------------------------------
def test_infer_step_finds_the_largest_step_all_figures_share():
    assert infer_step([17.0, 8.0, 11.0, 34.0] * 10) == 1.0
    assert infer_step([1200.0, 3400.0, 500.0] * 10) == 100.0
    assert infer_step([12.5, 7.5, 15.0] * 10) == 0.5
    assert infer_step([1.6, 1.2, 0.4] * 10) == 0.1
    # one figure off the grid gives a finer step: the rule trips on real decimals
    assert infer_step([1200.0, 3400.0, 500.0] * 10 + [1234.0]) == 1.0
    # too few figures to tell
    assert infer_step([1000.0, 2000.0]) is None


def test_rounding_text_names_the_step_in_plain_dutch():
    assert rounding_text(1000.0, "x 1 000") == "aantallen afgerond op duizendtallen"
    assert rounding_text(10.0, "aantal") == "aantallen afgerond op tientallen"
    assert rounding_text(1.0, "%") == "hele procenten"
    assert precision_kind("afronding: hele procenten") == "afronding"
    assert precision_kind("steekproef: 95%") == "steekproef"
    assert precision_kind("iets anders") is None


# -- operands carry their rounding --------------------------------------------------------------
def _labour_table():
    rows = []
    for i in range(40):  # enough figures to infer the step
        rows.append(
            {
                "RegioS": f"GM{i:04d}",
                "Perioden": "2024JJ00",
                "Niveau3_1": float(3 + i % 5),
                "Niveau4_2": float(5 + i % 3),
                "Werkzaam_3": float(17 + i),
                "Pct_4": float(2 + i % 4),
            }
        )
    return make_table(
        rows,
        {"Niveau3_1": "x 1 000", "Niveau4_2": "x 1 000", "Werkzaam_3": "x 1 000", "Pct_4": "%"},
    )


def test_counts_in_thousands_carry_half_a_thousand_per_topic():
    table = _labour_table()
    one = extract(table, Operand("w", ("T1",), topics=("Werkzaam",), cbs_unit="x 1 000"))
    assert at(one, "GM0000", 2024) == 17_000.0
    assert at(one, "GM0000", 2024, "lower") == 16_500.0
    assert at(one, "GM0000", 2024, "upper") == 17_500.0
    assert one.attrs["precision"] == "aantallen afgerond op duizendtallen"
    # two rounded topics added: each may be off by 500
    two = extract(
        table,
        Operand("h", ("T1",), sum_topics=(("Niveau3", "Niveau4"),), cbs_unit="x 1 000"),
    )
    assert at(two, "GM0000", 2024) == 8_000.0
    assert at(two, "GM0000", 2024, "lower") == 7_000.0
    assert at(two, "GM0000", 2024, "upper") == 9_000.0


def test_whole_percentages_carry_half_a_point_and_exact_counts_none():
    table = _labour_table()
    pct = extract(table, Operand("p", ("T1",), topics=("Pct",), cbs_unit="%"))
    assert at(pct, "GM0000", 2024, "lower") == 1.5
    assert pct.attrs["precision"] == "hele procenten"
    rows = [
        {"RegioS": f"GM{i:04d}", "Perioden": "2024JJ00", "Inwoners_1": 1000.0 + 37 * i}
        for i in range(40)
    ]
    counts = extract(
        make_table(rows, {"Inwoners_1": "aantal"}),
        Operand("i", ("T1",), topics=("Inwoners",), cbs_unit="aantal"),
    )
    assert counts["lower"].isna().all() and counts.attrs["precision"] is None


def test_share_of_rounded_counts_gets_the_extremes_the_rounding_allows():
    # Tynaarlo-like: 8 of 17 thousand at occupational level 3-4, numerator two rounded topics
    ind = indicator(
        "100 * hoog / werkzaam",
        {
            "hoog": {"tables": ["T1"], "topic": "H", "cbs_unit": "x 1 000", "additive": True},
            "werkzaam": {"tables": ["T1"], "topic": "W", "cbs_unit": "x 1 000", "additive": True},
        },
    )
    hoog = obs([("GM0001", 2019, 8000.0, 7000.0, 9000.0)])
    werkzaam = obs([("GM0001", 2019, 17000.0, 16500.0, 17500.0)])
    out = compute(
        ind,
        {
            "hoog": OperandData(hoog, precision="aantallen afgerond op duizendtallen"),
            "werkzaam": OperandData(werkzaam, precision="aantallen afgerond op duizendtallen"),
        },
        ["GM0001"],
        [2019],
    )
    assert at(out, "GM0001", 2019) == pytest.approx(100 * 8 / 17)
    assert at(out, "GM0001", 2019, "lower") == pytest.approx(100 * 7 / 17.5)
    assert at(out, "GM0001", 2019, "upper") == pytest.approx(100 * 9 / 16.5)
    assert at(out, "GM0001", 2019, "precision") == (
        "afronding: aantallen afgerond op duizendtallen"
    )


def test_exact_counts_give_no_interval():
    ind = indicator(
        "100 * a / b",
        {
            "a": {"tables": ["T1"], "topic": "A", "cbs_unit": "aantal", "additive": True},
            "b": {"tables": ["T1"], "topic": "B", "cbs_unit": "aantal", "additive": True},
        },
    )
    out = compute(
        ind,
        {
            "a": OperandData(obs([("GM0001", 2019, 5.0)])),
            "b": OperandData(obs([("GM0001", 2019, 50.0)])),
        },
        ["GM0001"],
        [2019],
    )
    assert np.isnan(at(out, "GM0001", 2019, "lower"))
    assert pd.isna(at(out, "GM0001", 2019, "precision"))


def test_rebuilt_and_summed_counts_add_their_rounding_bounds():
    mergers = pd.DataFrame(
        {
            "successor": ["GM9999", "GM9999"],
            "predecessor": ["GM0001", "GM0002"],
            "share": [1.0, 0.5],
            "start_year": [2019, 2019],
        }
    )
    counts = obs(
        [("GM0001", 2018, 10_000.0, 9_500.0, 10_500.0), ("GM0002", 2018, 4_000.0, 3_500.0, 4_500.0)]
    )
    op = Operand("n", ("T1",), topics=("N",), cbs_unit="x 1 000", additive=True)
    out = rebuild_mergers(counts, mergers, op)
    assert at(out, "GM9999", 2018) == 12_000.0
    assert at(out, "GM9999", 2018, "lower") == 9_500.0 + 0.5 * 3_500.0
    assert at(out, "GM9999", 2018, "upper") == 10_500.0 + 0.5 * 4_500.0
    divisions = pd.DataFrame(
        {"year": [2024, 2024], "code": ["GM0001", "GM0002"], "province_code": ["PV20", "PV20"]}
    )
    now = obs([("GM0001", 2024, 10_000.0, 9_500.0, 10_500.0), ("GM0002", 2024, 4_000.0, NAN, NAN)])
    summed = add_region_sums(now, divisions)
    assert at(summed, "PV20", 2024, "lower") == 9_500.0 + 4_000.0
    assert at(summed, "PV20", 2024, "upper") == 10_500.0 + 4_000.0


# -- the division a table is on ----------------------------------------------------------------
def test_infer_divisions_reads_the_division_from_which_municipalities_have_figures():
    dissolved = pd.DataFrame(
        {"code": ["GM0015", "GM0017", "GM1700"], "dissolved_in": [2019, 2019, 2023]}
    )
    regions = np.array(["GM1969", "GM0014", "GM1700", "GM1969", "GM0015", "GM0014"], dtype=object)
    years = np.array([2015, 2015, 2015, 2016, 2016, 2016])
    has = np.array([True, True, True, False, True, True])
    # 2015: nothing dissolved in 2019 has a figure, GM1700 (dissolved 2023) does: division 2019
    # 2016: Grootegast (dissolved 2019) still has figures: the year's own division
    assert infer_divisions(regions, years, has, dissolved) == {2015: 2019}


# -- dominance ---------------------------------------------------------------------------------
def test_split_formula_finds_numerator_and_denominator():
    assert split_formula("100 * a / b") == ({"a"}, {"b"})
    assert split_formula("a - b") is None


def _migration(share_of_immigrants):
    ind = indicator(
        "1000 * imm / pop",
        {
            "imm": {"tables": ["T1"], "topic": "I", "cbs_unit": "aantal", "additive": True},
            "pop": {"tables": ["T1"], "topic": "P", "cbs_unit": "aantal", "additive": True},
        },
        unit="per 1 000 inwoners",
    )
    total = 20_000.0
    big = share_of_immigrants * total
    imm = obs([("PV20", 2021, total), ("GM1950", 2021, big), ("GM0014", 2021, 3_000.0)])
    pop = obs([("PV20", 2021, 600_000.0), ("GM1950", 2021, 25_000.0), ("GM0014", 2021, 230_000.0)])
    data = {"imm": OperandData(imm), "pop": OperandData(pop)}
    members = {"GM1950": "PV20", "GM0014": "PV20"}
    names = {"PV20": "provincie Groningen", "GM1950": "Westerwolde", "GM0014": "Groningen"}
    return dominance_rows(ind, data, ["PV20"], members, names)


def test_a_dominating_municipality_gives_the_province_without_it():
    rows = _migration(0.6)  # 60% of the immigrants, 4% of the inhabitants
    assert list(rows["region_code"]) == [without_code("PV20", "GM1950")]
    row = rows.iloc[0]
    assert row["value"] == pytest.approx(1000 * 8_000 / 575_000)
    assert row["level"] == LEVEL
    assert row["region_name"] == "provincie Groningen zonder Westerwolde"
    assert (
        row["note"] == "Westerwolde: 60% van de teller (imm) van de provincie, 4% van de inwoners"
    )


def test_the_most_dominant_municipality_per_year_and_province_is_chosen():
    """Two dominate in 2021 (the one with the larger ratio of shares wins), none in 2022, and
    each province is judged on its own municipalities; a missing count never dominates."""
    ind = indicator(
        "1000 * imm / pop",
        {
            "imm": {"tables": ["T1"], "topic": "I", "cbs_unit": "aantal", "additive": True},
            "pop": {"tables": ["T1"], "topic": "P", "cbs_unit": "aantal", "additive": True},
        },
        unit="per 1 000 inwoners",
    )
    imm = obs(
        [
            ("PV20", 2021, 10_000.0),
            ("GM0001", 2021, 3_000.0),  # 30% of the immigrants, 5% of the inhabitants: x6
            ("GM0002", 2021, 4_000.0),  # 40%, 10%: x4, less dominant
            ("GM0003", 2021, float("nan")),
            ("PV20", 2022, 10_000.0),
            ("GM0001", 2022, 1_000.0),
            ("GM0002", 2022, 1_000.0),
            ("PV21", 2021, 1_000.0),
            ("GM0004", 2021, 500.0),  # 50% of Fryslân's immigrants, 1% of its inhabitants
        ]
    )
    pop = obs(
        [
            ("PV20", 2021, 100_000.0),
            ("GM0001", 2021, 5_000.0),
            ("GM0002", 2021, 10_000.0),
            ("GM0003", 2021, 1_000.0),
            ("PV20", 2022, 100_000.0),
            ("GM0001", 2022, 5_000.0),
            ("GM0002", 2022, 10_000.0),
            ("PV21", 2021, 50_000.0),
            ("GM0004", 2021, 500.0),
        ]
    )
    members = {"GM0002": "PV20", "GM0001": "PV20", "GM0003": "PV20", "GM0004": "PV21"}
    names = {"PV20": "G", "PV21": "F", "GM0001": "A", "GM0002": "B", "GM0004": "D"}
    rows = dominance_rows(
        ind, {"imm": OperandData(imm), "pop": OperandData(pop)}, ["PV20", "PV21"], members, names
    )
    assert list(zip(rows["region_code"], rows["year"], strict=True)) == [
        ("PV20-GM0001", 2021),
        ("PV21-GM0004", 2021),
    ]
    assert list(rows["note"]) == [
        "A: 30% van de teller (imm) van de provincie, 5% van de inwoners",
        "D: 50% van de teller (imm) van de provincie, 1% van de inwoners",
    ]
    assert rows.iloc[0]["value"] == pytest.approx(1000 * 7_000 / 95_000)
    assert rows.iloc[1]["value"] == pytest.approx(1000 * 500 / 49_500)  # computed together


def test_a_municipality_in_proportion_to_its_size_does_not_dominate():
    assert _migration(0.1).empty  # 10% of the immigrants: below the threshold


def _balance(province, municipalities):
    """A domestic balance per 1 000 inhabitants; each region as (arrivals, departures, pop)."""
    ind = indicator(
        "1000 * (vest - vert) / pop",
        {
            name: {"tables": ["T1"], "topic": name, "cbs_unit": "aantal", "additive": True}
            for name in ("vest", "vert", "pop")
        },
        unit="per 1 000 inwoners",
    )
    regions = {"PV20": province, **municipalities}
    data = {
        name: OperandData(obs([(code, 2019, float(v[i])) for code, v in regions.items()]))
        for i, name in enumerate(("vest", "vert", "pop"))
    }
    members = dict.fromkeys(municipalities, "PV20")
    names = {"PV20": "provincie Groningen", "GM1950": "Westerwolde", "GM0014": "Groningen"}
    return dominance_rows(ind, data, ["PV20"], members, names)


def test_a_balance_is_dominated_as_a_whole():
    """Westerwolde in 2019: 24% of the departures (below a quarter), 88% of the balance."""
    rows = _balance(
        (29_000, 37_100, 584_000),
        {"GM1950": (1_700, 8_800, 25_000), "GM0014": (9_000, 8_000, 230_000)},
    )
    assert list(rows["region_code"]) == [without_code("PV20", "GM1950")]
    assert rows.iloc[0]["note"] == (
        "Westerwolde: 88% van het saldo van de provincie, 4% van de inwoners"
    )
    assert rows.iloc[0]["value"] == pytest.approx(1000 * (27_300 - 28_300) / 559_000)


def test_a_large_share_of_a_small_balance_is_not_dominance():
    """The province's balance is +100: Groningen's +200 is 200% of it, but Groningen has 10%
    of the moves with 10% of the inhabitants, as a municipality of its size would."""
    assert _balance((30_000, 29_900, 600_000), {"GM0014": (3_000, 2_800, 60_000)}).empty


def test_a_large_share_of_both_flows_is_not_dominance_of_their_balance():
    """Maastricht in 2018 (37259eng): 39% of Limburg's immigrants and 46% of its emigrants
    with 11% of its inhabitants, but 10% of its balance: the province's balance per 1.000 was
    2,7 with and without it. Here 39%, 44% and 10% of the flows and the balance."""
    rows = _balance((20_000, 17_000, 1_100_000), {"GM0935": (7_800, 7_500, 120_000)})
    assert rows.empty


def test_one_dominated_flow_lets_the_balance_be_judged():
    """Arnhem in 2023 (37259eng): 26% of Gelderland's immigrants and 51% of its balance with
    8% of its inhabitants, but 20% of all moves, less than three times its share. Here 26%
    of the arrivals, 21% of the moves and 42% of the balance: the balance is what the note
    names, as it is the figure."""
    rows = _balance((10_000, 5_000, 1_000_000), {"GM0202": (2_600, 500, 78_000)})
    assert list(rows["region_code"]) == [without_code("PV20", "GM0202")]
    assert rows.iloc[0]["note"].startswith("GM0202: 42% van het saldo van de provincie, 8% van")
    assert rows.iloc[0]["value"] == pytest.approx(1000 * (7_400 - 4_500) / 922_000)


def _growth(province, municipalities):
    """Growth of the inhabitants in 2025; each region as (1 January 2025, 1 January 2026)."""
    ind = indicator(
        "100 * (inwoners_einde - inwoners_begin) / inwoners_begin",
        {
            "inwoners_einde": {
                "tables": ["T1"],
                "topic": "P",
                "cbs_unit": "aantal",
                "additive": True,
                "lag": -1,
            },
            "inwoners_begin": {
                "tables": ["T1"],
                "topic": "P",
                "cbs_unit": "aantal",
                "additive": True,
            },
        },
    )
    regions = {"PV20": province, **municipalities}
    data = {
        name: OperandData(obs([(code, 2025, float(v[i])) for code, v in regions.items()]))
        for i, name in enumerate(("inwoners_begin", "inwoners_einde"))
    }
    members = dict.fromkeys(municipalities, "PV20")
    names = {"PV20": "provincie Groningen", "GM1950": "Westerwolde", "GM0014": "Groningen"}
    return dominance_rows(ind, data, ["PV20"], members, names)


def test_the_change_of_a_stock_is_dominated_as_a_whole():
    """Westerwolde in 2025 (03759ned): 27.421 -> 25.267 inhabitants, the province 602.833 ->
    601.286. It lost more than the province did, with 5% of its inhabitants; a change of
    inhabitants has no moves, so its share of all municipalities' changes stands in."""
    rows = _growth(
        (602_833, 601_286),
        {"GM1950": (27_421, 25_267), "GM0014": (240_000, 240_300), "GM1966": (48_000, 47_900)},
    )
    assert list(rows["region_code"]) == [without_code("PV20", "GM1950")]
    assert rows.iloc[0]["note"] == (
        "Westerwolde: 139% van de verandering van de provincie, 5% van de inwoners; de andere "
        "gemeenten van de provincie groeiden"
    )
    assert rows.iloc[0]["value"] == pytest.approx(100 * (576_019 / 575_412 - 1))


def test_a_large_share_of_a_small_change_is_not_dominance():
    """A municipality with 1% of the inhabitants grows by 300 of the province's 1.000: 30% of
    the change, but a fifth of all the changes of the province's municipalities (1.400)."""
    rows = _growth(
        (600_000, 601_000),
        {
            "GM0001": (6_000, 6_300),
            "GM0002": (300_000, 300_500),
            "GM0003": (200_000, 200_400),
            "GM0004": (94_000, 93_800),
        },
    )
    assert rows.empty


# -- the snapshot against the raw mirror -------------------------------------------------------
@pytest.fixture(scope="module")
def snap():
    from westerkwartier.indicators.panel import panel

    old = settings.offline
    settings.offline = True
    try:
        p = panel(
            regions=["GM1969", "GM1730", "GM1979", "PV20", "NL01"],
            indicators=[
                "voortijdig_schoolverlaters",
                "onbenut_arbeidspotentieel",
                "aandeel_hoog_beroepsniveau",
                "immigratie_per_1000",
            ],
        )
    finally:
        settings.offline = old
    return p


def _mirror_csv(mirror, name):
    return pd.read_csv(
        mirror / "tables" / f"{name}.csv", sep=";", encoding="utf-8-sig", low_memory=False
    )


@pytest.mark.mirror
def test_early_school_leavers_come_from_the_counts_not_the_whole_percentage(snap, mirror):
    raw = _mirror_csv(mirror, "84780NED")
    raw = raw[(raw["Geslacht"] == "Totaal mannen en vrouwen") & (raw["Perioden"] == "2022/'23")]
    raw = raw.set_index(raw["Regiokenmerken"].astype(str).str.strip())
    for code, title in [("GM1969", "Westerkwartier"), ("NL01", "Nederland")]:
        leavers = raw.loc[title, "VoortijdigSchoolverlaters_2"]
        expected = 100 * leavers / raw.loc[title, "Leerlingen_1"]
        got = snap[
            (snap["indicator"] == "voortijdig_schoolverlaters")
            & (snap["region_code"] == code)
            & (snap["year"] == 2022)
        ].iloc[0]
        assert got["value"] == pytest.approx(expected)
        # CBS's own column is a whole percentage; the computed share has decimals
        assert raw.loc[title, "VoortijdigSchoolverlatersPercentage_4"] == round(
            raw.loc[title, "VoortijdigSchoolverlatersPercentage_4"]
        )
        assert got["precision"] == "afronding: aantallen afgerond op tientallen"
        assert got["lower"] < got["value"] < got["upper"]


@pytest.mark.mirror
def test_unused_labour_potential_is_divided_by_the_extended_labour_force(snap, mirror):
    raw = _mirror_csv(mirror, "85969NED")
    raw = raw[(raw["Geslacht"] == "Totaal mannen en vrouwen") & (raw["Perioden"] == 2023)]
    nl = raw[raw["RegioS"].astype(str).str.strip() == "Nederland"].iloc[0]
    unused = (
        nl["WerklozeBeroepsbevolking_6"]
        + nl["WilMeerUrenWerkenBeschikbaar_3"]
        + nl["BeschikbaarNietGezocht_8"]
        + nl["GezochtNietBeschikbaar_11"]
    )
    extended = (
        nl["WerkzameBeroepsbevolking_2"]
        + nl["WerklozeBeroepsbevolking_6"]
        + nl["BeschikbaarNietGezocht_8"]
        + nl["GezochtNietBeschikbaar_11"]
    )
    got = snap[
        (snap["indicator"] == "onbenut_arbeidspotentieel")
        & (snap["region_code"] == "NL01")
        & (snap["year"] == 2023)
    ].iloc[0]
    assert got["value"] == pytest.approx(100 * unused / extended)
    assert round(got["value"], 1) == 11.4  # the figure CBS publishes for Nederland, 2023


@pytest.mark.mirror
def test_tynaarlo_occupational_level_carries_its_rounding_interval(snap):
    rows = snap[
        (snap["indicator"] == "aandeel_hoog_beroepsniveau") & (snap["region_code"] == "GM1730")
    ]
    last = rows[rows["year"] == 2024].iloc[0]
    assert last["precision"].startswith("afronding")
    # a workforce of 17 thousand: the rounding alone spans more than ten percentage points
    assert last["upper"] - last["lower"] > 10


@pytest.mark.mirror
def test_province_of_groningen_without_westerwolde_equals_the_raw_counts(snap, mirror):
    path = mirror / "coded" / "37259eng_bevolkingsontwikkeling_2012_2023.csv"
    raw = pd.read_csv(path, dtype=str)
    raw = raw[(raw["Sex"] == "T001038") & (raw["Periods"].str[:4] == "2021")]
    raw = raw.set_index(raw["Regions"].str.strip())
    cols = ["DueToImmigration_10", "PopulationOn1January_1", "PopulationOn31December_20"]
    num = raw.loc[["PV20", "GM1950"], cols].apply(pd.to_numeric)
    rest = num.loc["PV20"] - num.loc["GM1950"]
    expected = 1000 * rest.iloc[0] / ((rest.iloc[1] + rest.iloc[2]) / 2)
    rows = snap[(snap["indicator"] == "immigratie_per_1000") & (snap["year"] == 2021)]
    without = rows[rows["region_code"] == "PV20-GM1950"]
    assert len(without) == 1
    assert without.iloc[0]["value"] == pytest.approx(expected)
    assert round(expected, 1) == 15.4  # "about 15,5" in the issue; 38,4 with Westerwolde
    assert without.iloc[0]["region_name"] == "provincie Groningen zonder Westerwolde"


@pytest.mark.mirror
def test_groningen_without_westerwolde_grew_in_2025_by_the_raw_counts(monkeypatch, mirror):
    """The province of Groningen lost 1.547 inhabitants in 2025 and Westerwolde, with the
    asylum application centre, 2.154: Westerkwartier's 0,3% was "hoger" than the province's
    -0,3%, while the other municipalities together grew."""
    from westerkwartier.indicators.panel import panel

    monkeypatch.setattr(settings, "offline", True)
    raw = json.loads((mirror / "odata-v4" / "03759ned" / "observations-page-1.json").read_text())
    people = {
        (r["RegioS"].strip(), r["Perioden"][:4]): r["Value"]
        for r in raw["value"]
        if r["Measure"] == "M000352" and r["RegioS"].strip() in ("PV20", "GM1950")
    }
    rest = {y: people[("PV20", y)] - people[("GM1950", y)] for y in ("2025", "2026")}
    rows = panel(regions=["PV20"], indicators=["bevolkingsgroei"])
    rows = rows[(rows["region_code"] == "PV20-GM1950") & (rows["year"] == 2025)]
    assert len(rows) == 1
    assert rows.iloc[0]["value"] == pytest.approx(100 * (rest["2026"] / rest["2025"] - 1))
    assert round(rows.iloc[0]["value"], 1) == 0.1
    assert rows.iloc[0]["note"].startswith("Westerwolde: 139% van de verandering van de provincie")


@pytest.mark.mirror
def test_eemsdelta_in_2019_is_compared_with_groningen_without_westerwolde(monkeypatch, mirror):
    """Westerwolde's 87% of the province's domestic balance (Ter Apel) made Eemsdelta's -5,2
    "hoger dan in de provincie Groningen (-13,9)" on page 1 of its 2019 report, while the
    chart's footnote said the tables compare with the province without Westerwolde."""
    from westerkwartier.reporting.report_data import load_report_data

    monkeypatch.setattr(settings, "offline", True)
    data = load_report_data("talent", "Eemsdelta", jaar=2019, peildatum="2026-11-27")
    row = next(r for r in data.rows if r.indicator == "binnenlands_migratiesaldo_per_1000")
    other = row.province.other
    assert other.name == "provincie Groningen zonder Westerwolde" and other.year == 2019
    raw = pd.read_csv(mirror / "coded" / "37259eng_bevolkingsontwikkeling_2012_2023.csv")
    raw = raw[(raw["Sex"] == "T001038") & (raw["Periods"] == "2019JJ00")]
    raw = raw.assign(code=raw["Regions"].str.strip()).set_index("code")
    counts = raw.select_dtypes("number")
    rest = counts.loc["PV20"] - counts.loc["GM1950"]  # the province without Westerwolde
    balance = rest["DueToIntermunicipalMoves_11"] - rest["DueToIntermunicipalMoves_16"]
    mean = (rest["PopulationOn1January_1"] + rest["PopulationOn31December_20"]) / 2
    assert other.value == pytest.approx(1000 * balance / mean, abs=0.005)
    assert round(other.value, 1) == -1.9


@pytest.mark.mirror
def test_a_province_whose_balance_one_municipality_dominates_gets_no_flows_line(monkeypatch):
    """Heeze-Leende, 2023: Cranendonck (Budel) holds 109% of Noord-Brabant's domestic
    balance with 1% of its inhabitants. The tables compare with the province without it, so
    the flows chart, whose two lines' gap is that balance, leaves the province out too."""
    import IPython.display

    from westerkwartier.reporting.report_data import load_report_data
    from westerkwartier.reporting.sections import show_retention

    monkeypatch.setattr(settings, "offline", True)
    shown, alts = [], []
    monkeypatch.setattr(IPython.display, "display", lambda *objs, **kw: shown.extend(objs))
    monkeypatch.setattr(
        IPython.display,
        "publish_display_data",
        lambda data, metadata=None, **kw: alts.append(metadata["image/svg+xml"]["alt"]),
    )
    data = load_report_data("talent", "Heeze-Leende", peildatum="2026-11-27")
    row = next(r for r in data.rows if r.indicator == "binnenlands_migratiesaldo_per_1000")
    assert row.province.other.name == "provincie Noord-Brabant zonder Cranendonck"
    show_retention(data)
    text = " ".join(getattr(o, "data", str(o)) for o in shown)
    assert (
        "Zonder lijn voor de provincie Noord-Brabant: Cranendonck kleurt het verhuissaldo "
        "van de provincie sterk" in text
    )
    assert len(alts) == 1 and "Noord-Brabant" not in alts[0] and "Nederland" in alts[0]


@pytest.mark.mirror
def test_ebb_rates_carry_1000_persons_of_their_base_from_the_raw_table(monkeypatch, mirror):
    """CBS publishes the EBB's percentages without margins; differences smaller than 1.000
    persons are seldom significant (CBS, description of the EBB, on accuracy). The panel gives each
    rate the bounds value -/+ 1.000 persons of the population it is a percentage of, taken
    from the same table in thousands."""
    from westerkwartier.indicators.panel import panel

    monkeypatch.setattr(settings, "offline", True)
    names = {
        "GM1969": "Westerkwartier",
        "GM1970": "Noardeast-Fryslân",
        "PV20": "Groningen (PV)",
        "NL01": "Nederland",
    }
    got = panel(regions=list(names), indicators=["netto_arbeidsparticipatie", "werkloosheid"])
    raw = _mirror_csv(mirror, "86088NED")
    raw = raw[(raw["Persoonskenmerken"] == "Totaal personen") & (raw["Perioden"] == 2024)]
    raw = raw.assign(name=raw["RegioS"].str.strip()).set_index("name")
    checks = {
        "netto_arbeidsparticipatie": (
            "NettoArbeidsparticipatie_16",
            "BeroepsEnNietBeroepsbevolking_1",
        ),
        "werkloosheid": ("Werkloosheidspercentage_13", "Beroepsbevolking_2"),
    }
    for indicator, (rate, base) in checks.items():
        for code, name in names.items():
            row = got[
                (got["region_code"] == code)
                & (got["indicator"] == indicator)
                & (got["year"] == 2024)
            ].iloc[0]
            half = 100 * 1000 / (1000 * raw.loc[name, base])
            assert row["value"] == pytest.approx(raw.loc[name, rate])
            assert row["lower"] == pytest.approx(row["value"] - half)
            assert row["upper"] == pytest.approx(row["value"] + half)
            assert precision_kind(row["precision"]) == "drempel"
    wk = got[(got["region_code"] == "GM1969") & (got["year"] == 2024)]
    wk = wk.set_index("indicator")
    # Westerkwartier: 47.000 inhabitants of 15 to 75, so 1.000 persons are 2,1 points
    assert round((wk.loc["netto_arbeidsparticipatie", "upper"] - 75.0), 1) == 2.1


@pytest.mark.mirror
def test_a_labour_difference_of_a_few_persons_is_no_aandachtspunt(monkeypatch):
    """Noardeast-Fryslân, 2024: 72,5% netto arbeidsparticipatie against 72,7% for comparable
    municipalities was 'lager' and an aandachtspunt on page 1; Westerkwartier's 75,0%
    against the province's 71,2% (1.800 persons) stays 'hoger'."""
    from westerkwartier.reporting.report_data import load_report_data

    monkeypatch.setattr(settings, "offline", True)
    data = load_report_data("talent", "Noardeast-Fryslân", peildatum="2026-11-27")
    row = next(r for r in data.rows if r.indicator == "netto_arbeidsparticipatie")
    assert row.own.value == 72.5 and row.peers.other.value == pytest.approx(72.7)
    assert [c.significant for c in row.comparisons] == [False, False, False]
    assert row.tone == "neutraal"
    data = load_report_data("talent", "Westerkwartier", peildatum="2026-11-27")
    row = next(r for r in data.rows if r.indicator == "netto_arbeidsparticipatie")
    assert (row.own.value, row.province.other.value) == (75.0, 71.2)
    assert (row.province.word, row.province.significant) == ("hoger", True)


@pytest.mark.mirror
def test_a_benchmark_whose_own_margin_keeps_a_difference_small_shows_it(monkeypatch, mirror):
    """Noardeast-Fryslân, beweegrichtlijn 2022: 42,9% against 47,5% in Fryslân ('verschil niet
    significant') and 47,5% in Nederland ('significant lager'). Only the province's own
    95%-interval, as CBS publishes it in 85563NED, shows the reader why."""
    from westerkwartier.reporting.findings import finding_text
    from westerkwartier.reporting.report_data import load_report_data
    from westerkwartier.reporting.sections import _versus_cell

    raw = pd.read_csv(mirror / "tables" / "85563NED.csv", sep=";", encoding="utf-8-sig")
    raw = raw[raw["Leeftijd"] == "Totaal"].assign(regio=raw["RegioS"].str.strip())
    cbs = raw.set_index(["regio", "Marges"])["VoldoetAanBeweegrichtlijn_10"]
    monkeypatch.setattr(settings, "offline", True)
    data = load_report_data("aantrekkelijkheid", "Noardeast-Fryslân", peildatum="2026-11-27")
    row = data.row("beweegrichtlijn")
    assert row.own.value == cbs["Noardeast-Fryslân", "Waarde"]
    low, high = (
        cbs["Fryslân (PV)", m] for m in ("Ondergrens 95%-interval", "Bovengrens 95%-interval")
    )
    shown = f"{low:.1f}–{high:.1f}%".replace(".", ",")
    assert (row.province.significant, row.nederland.significant) == (False, True)
    province, nederland = _versus_cell(row, row.province), _versus_cell(row, row.nederland)
    assert province.note == f"verschil niet significant (95%-interval {shown})"
    assert nederland.note == "significant lager"  # its interval is too narrow to matter
    text = finding_text(row, "het aandeel")
    assert f"het verschil met de provincie Fryslân (47,5%; 95%-interval {shown}) en" in text
    assert "lager dan in Nederland (47,5%), ook bij gelijke leeftijdsopbouw;" in text


# -- doorstroom: the years of an application centre ---------------------------------------------
#: Westerwolde (Ter Apel), Cranendonck (Budel), Gilze en Rijen, Noordenveld; for contrast
#: Westerkwartier, the city of Groningen, Vlieland (105 immigrants per 1.000 in 2022, a positive
#: domestic balance) and Renswoude (64 and -43,5 in 2022).
_THROUGHPUT_CODES = ["GM1950", "GM1706", "GM0784", "GM1699", "GM1969", "GM0014", "GM0096", "GM0339"]


@pytest.mark.mirror
def test_throughput_years_follow_from_the_raw_migration_counts(monkeypatch, mirror):
    """The rule applied to CBS's own counts (37259eng) gives the years the panel flags."""
    from westerkwartier.analysis import rules
    from westerkwartier.analysis.comparison import throughput_years
    from westerkwartier.indicators.panel import panel

    raw = pd.read_csv(mirror / "coded" / "37259eng_bevolkingsontwikkeling_2012_2023.csv")
    raw = raw[raw["Sex"] == "T001038"].assign(code=raw["Regions"].str.strip())
    raw = raw[raw["code"].isin(_THROUGHPUT_CODES)]
    mean = (raw["PopulationOn1January_1"] + raw["PopulationOn31December_20"]) / 2
    immigration = 1000 * raw["DueToImmigration_10"] / mean
    domestic = 1000 * (raw["DueToIntermunicipalMoves_11"] - raw["DueToIntermunicipalMoves_16"])
    domestic = domestic / mean
    expected: dict[str, set[int]] = {code: set() for code in _THROUGHPUT_CODES}
    published: dict[str, set[int]] = {code: set() for code in _THROUGHPUT_CODES}
    rows = zip(raw["code"], raw["Periods"], immigration, domestic, strict=True)
    for code, period, imm, dom in rows:
        published[code].add(int(period[:4]))
        if rules.throughput(imm, dom):
            expected[code].add(int(period[:4]))

    monkeypatch.setattr(settings, "offline", True)
    p = panel(regions=_THROUGHPUT_CODES, indicators=list(rules.THROUGHPUT_SIGNALS))
    for code in _THROUGHPUT_CODES:
        # before a merger the panel adds the predecessors up; CBS has no row of the new code
        assert throughput_years(p, code) & published[code] == expected[code], code
    assert {2022, 2023} <= expected["GM1950"] and {2022, 2023} <= expected["GM1706"]
    assert 2019 in expected["GM1706"]  # immigration 103 per 1.000, domestic balance -63
    for ordinary in ("GM1969", "GM0014", "GM0096", "GM0339"):
        assert expected[ordinary] == set(), ordinary


@pytest.mark.mirror
@pytest.mark.mirror
def test_gilze_en_rijen_arrivals_rise_with_its_centre_and_are_not_judged(monkeypatch, mirror):
    """Gilze en Rijen's page 1 opened with "vestiging uit andere gemeenten 56,6 ▲ gunstig":
    its arrivals from other municipalities jump in its years of throughput (CBS's counts in
    37259eng), as asylum seekers are transferred between centres."""
    from westerkwartier.analysis import rules
    from westerkwartier.reporting.report_data import load_report_data
    from westerkwartier.reporting.sections import headline_rows

    raw = pd.read_csv(mirror / "coded" / "37259eng_bevolkingsontwikkeling_2012_2023.csv")
    raw = raw[(raw["Sex"] == "T001038") & (raw["Regions"].str.strip() == "GM0784")]
    raw = raw.assign(year=raw["Periods"].str[:4].astype(int)).set_index("year")
    mean = (raw["PopulationOn1January_1"] + raw["PopulationOn31December_20"]) / 2
    arrivals = 1000 * raw["DueToIntermunicipalMoves_11"] / mean
    assert arrivals[2016] - arrivals[2015] > 15 and arrivals[2020] - arrivals[2019] > 20
    monkeypatch.setattr(settings, "offline", True)
    data = load_report_data("talent", "Gilze en Rijen", peildatum="2026-11-27")
    row = data.row("vestiging_andere_gemeente_per_1000")
    assert row.own.year == 2023 and row.own.value == pytest.approx(arrivals[2023], abs=0.05)
    assert row.exception == rules.THROUGHPUT_TEXT and row.tone == "neutraal"
    assert row.indicator not in {f.indicator for f in data.findings}
    assert row.indicator not in {r.indicator for r in headline_rows(data)}


@pytest.mark.mirror
def test_a_fall_of_the_whole_country_is_named_with_cbss_figures(monkeypatch, mirror):
    """The woonquote of young singles fell everywhere in 2022. Tytsjerksteradiel's finding
    says so with Nederland's figures of 85950NED (Woonquote_5), and that fall no longer lifts
    the figure in the summary (only its distance to the benchmarks does)."""
    from westerkwartier.analysis.comparison import Trend
    from westerkwartier.reporting.findings import importance
    from westerkwartier.reporting.report_data import load_report_data

    raw = pd.read_csv(mirror / "tables-r3" / "85950NED.csv", sep=";", encoding="utf-8-sig")
    raw = raw[(raw["EigenaarHuurder"] == "Totaal")]
    raw = raw[raw["HuishoudensEnWoningkenmerken"] == "Eenpersoonshuishouden; jonger 35 jaar"]
    quote = raw.set_index(["RegioS", "Perioden"])["Woonquote_5"]
    monkeypatch.setattr(settings, "offline", True)
    data = load_report_data("talent", "Tytsjerksteradiel", peildatum="2026-11-27")
    row = data.row("woonquote_jonge_alleenstaanden")
    assert (row.trend.start.year, row.trend.end.year) == (2018, 2022)
    assert row.trend.start.value == quote["Tytsjerksteradiel", 2018]  # 34,8
    assert row.nederland_span == (quote["Nederland", 2018], quote["Nederland", 2022])
    text = next(f.text for f in data.findings if f.indicator == row.indicator)
    assert "is dat gedaald, net als in Nederland (van 35,6% naar 29,6%)." in text
    assert quote["Nederland", 2018] == 35.6 and quote["Nederland", 2022] == 29.6
    # what the change adds: 0,20 (34,8 -> 26,7 beyond Nederland's 6,0 points), was 0,83
    base = importance(replace(row, trend=Trend("onbekend")))
    plain = importance(replace(row, nederland_span=None))
    assert 0 < importance(row) - base < (plain - base) / 3


def test_westerwolde_leads_its_talent_report_with_no_ter_apel_figure(monkeypatch):
    """Westerwolde's talent report opened with "-602,1 binnenlands verhuissaldo ▼
    aandachtspunt" and called 607,9 immigrants per 1.000 inhabitants "▲ gunstig": asylum
    seekers who register in Ter Apel and move on. Those figures stay in the scorecard,
    unjudged and explained, and leave page 1 to figures about who stays."""
    from westerkwartier.analysis import rules
    from westerkwartier.reporting.report_data import load_report_data
    from westerkwartier.reporting.sections import headline_rows, scorekaart, throughput_note

    monkeypatch.setattr(settings, "offline", True)
    data = load_report_data("talent", "Westerwolde", peildatum="2026-11-27")
    flows = {r.indicator: r for r in data.rows if r.indicator in rules.THROUGHPUT_INDICATORS}
    assert set(flows) == set(rules.THROUGHPUT_INDICATORS)
    for row in flows.values():
        assert row.own.year == 2023 and row.exception == rules.THROUGHPUT_TEXT
        assert row.tone == "neutraal" and any(c.counts for c in row.comparisons)
    emigration = data.row("emigratie_per_1000")
    assert emigration.exception is None  # emigration is judged as usual
    assert not {f.indicator for f in data.findings} & set(rules.THROUGHPUT_INDICATORS)
    assert not {r.indicator for r in headline_rows(data)} & set(rules.THROUGHPUT_INDICATORS)
    card = str(scorekaart(data, "behouden"))
    assert card.count("niet beoordeeld: doorstroom uit het buitenland") == 3
    assert "in 2023 kwamen er per 1.000 inwoners 50 of meer uit het buitenland" in card
    # under the flows chart: the years of the chart's own line (it starts with the borders of
    # 2018), not the years before the merger
    assert throughput_note(data).startswith(
        "Doorstroom uit het buitenland: in 2018-2023 kwamen er in Westerwolde per 1.000 "
        "inwoners 50 of meer uit het buitenland"
    )

    usual = load_report_data("talent", "Westerkwartier", peildatum="2026-11-27")
    assert all(r.exception is None for r in usual.rows)
    assert "doorstroom" not in str(scorekaart(usual, "behouden"))
    assert throughput_note(usual) == ""


@pytest.mark.mirror
def test_the_dominance_caveat_says_in_plain_words_what_westerwolde_holds(monkeypatch, mirror):
    """Westerkwartier's report said "125% van de teller (saldo), 4% van de noemer". It now
    names the balance and the inhabitants, and why a share can pass 100%; the shares are
    CBS's counts of 2023 (37259eng)."""
    from westerkwartier.reporting.report_data import load_report_data
    from westerkwartier.reporting.sections import dominance_caveats

    raw = pd.read_csv(mirror / "coded" / "37259eng_bevolkingsontwikkeling_2012_2023.csv")
    raw = raw[(raw["Sex"] == "T001038") & (raw["Periods"] == "2023JJ00")]
    raw = raw.assign(code=raw["Regions"].str.strip()).set_index("code")
    balance = raw["DueToIntermunicipalMoves_11"] - raw["DueToIntermunicipalMoves_16"]
    mean = (raw["PopulationOn1January_1"] + raw["PopulationOn31December_20"]) / 2
    share = round(100 * balance["GM1950"] / balance["PV20"])
    inhabitants = round(100 * mean["GM1950"] / mean["PV20"])
    assert balance["PV20"] - balance["GM1950"] > 0  # the rest of the province gains

    monkeypatch.setattr(settings, "offline", True)
    data = load_report_data("talent", "Westerkwartier", peildatum="2026-11-27")
    caveats = dict(dominance_caveats(data))
    text = caveats["Binnenlands verhuissaldo per 1.000 inwoners"]
    assert (
        f"(in 2023: {share}% van het saldo van de provincie, {inhabitants}% van de inwoners; de "
        "andere gemeenten van de provincie hebben samen een positief saldo)"
    ) in text
    assert share > 100
    assert "teller" not in " ".join(caveats.values())
    assert "noemer" not in " ".join(caveats.values())
    assert text.endswith("zegt daardoor weinig over een andere gemeente.")
    # in Westerwolde's own report the province without it is the rest of its province
    own = dict(dominance_caveats(load_report_data("talent", "GM1950", peildatum="2026-11-27")))
    text = own["Binnenlands verhuissaldo per 1.000 inwoners"]
    assert f"(in 2023: {share}% van het saldo van de provincie" in text
    assert text.endswith("Dit rapport vergelijkt Westerwolde daarom met de rest van de provincie.")
    assert "een andere gemeente" not in " ".join(own.values())


@pytest.mark.mirror
def test_a_footnote_on_a_dominated_province_gives_cbs_shares_and_claims_no_more(
    monkeypatch, mirror
):
    """Under Assen's immigration chart stood "In 2016-2017 bepaalde Noordenveld het cijfer van
    de provincie Drenthe grotendeels", and under Almere's emigration chart the same of Zeewolde,
    which had 26-33% of Flevoland's emigration: a quarter of the province's figure with three
    times the municipality's weight is the rule, not "most". The footnote now says the
    municipality coloured the figure strongly (*sterk kleurde*) and gives its shares of the
    last year named, from CBS's counts (37259eng)."""
    from westerkwartier.reporting.figures import indicator_trend
    from westerkwartier.reporting.report_data import load_report_data

    raw = pd.read_csv(mirror / "coded" / "37259eng_bevolkingsontwikkeling_2012_2023.csv")
    raw = raw[raw["Sex"] == "T001038"].assign(code=raw["Regions"].str.strip())
    monkeypatch.setattr(settings, "offline", True)
    cases = (
        ("Assen", "immigratie_per_1000", "DueToImmigration_10", "PV22", "GM1699", 2017),
        ("Almere", "emigratie_per_1000", "DueToEmigrationIncludingAdministr_14", "PV24",
         "GM0050", 2020),
    )  # fmt: skip
    for gemeente, indicator, column, province, municipality, year in cases:
        one = raw[raw["Periods"] == f"{year}JJ00"].set_index("code")
        mean = (one["PopulationOn1January_1"] + one["PopulationOn31December_20"]) / 2
        share = round(100 * one.loc[municipality, column] / one.loc[province, column])
        inhabitants = round(100 * mean[municipality] / mean[province])
        assert 25 <= share < 100 and 3 * inhabitants <= share
        data = load_report_data("talent", gemeente, peildatum="2026-11-27")
        note = indicator_trend(data, indicator).note
        what = "immigratie" if "immigratie" in indicator else "emigratie"
        assert f"kleurde {one.loc[municipality, 'Regions Label']} het " in note
        assert (
            f"(in {year}: {share}% van de {what} van de provincie, {inhabitants}% van de "
            "inwoners)." in note
        )
        assert "grotendeels" not in note


@pytest.mark.mirror
def test_the_neighbour_bars_show_the_province_the_text_compares_with(monkeypatch, mirror):
    """Westerkwartier's and Eemsdelta's talent reports compare the domestic balance of 2023 with
    the province of Groningen without Westerwolde (+5,6 per 1.000), but the bars beside the map
    showed the whole province at -21,3, Westerwolde's asylum centre's departures. The bar is now
    the province without Westerwolde, named so, computed from CBS's counts (37259eng); where
    no municipality dominates (Assen, Drenthe) the whole province stays."""
    from westerkwartier.reporting.figures import neighbour_bars
    from westerkwartier.reporting.report_data import load_report_data

    raw = pd.read_csv(mirror / "coded" / "37259eng_bevolkingsontwikkeling_2012_2023.csv")
    raw = raw[(raw["Sex"] == "T001038") & (raw["Periods"] == "2023JJ00")]
    raw = raw.assign(code=raw["Regions"].str.strip()).set_index("code")
    balance = raw["DueToIntermunicipalMoves_11"] - raw["DueToIntermunicipalMoves_16"]
    mean = (raw["PopulationOn1January_1"] + raw["PopulationOn31December_20"]) / 2
    whole = 1000 * balance["PV20"] / mean["PV20"]
    rest = 1000 * (balance["PV20"] - balance["GM1950"]) / (mean["PV20"] - mean["GM1950"])
    assert whole < 0 < rest

    def shown(value: float) -> str:
        return f"{value:.1f}".replace(".", ",") + " per 1.000 inwoners"

    monkeypatch.setattr(settings, "offline", True)
    for gemeente in ("Westerkwartier", "Eemsdelta"):
        data = load_report_data("talent", gemeente, peildatum="2026-11-27")
        alt = neighbour_bars(data, "binnenlands_migratiesaldo_per_1000").alt
        assert f"provincie Groningen zonder Westerwolde: {shown(rest)}" in alt
        assert "provincie Groningen:" not in alt and shown(whole) not in alt
    assen = load_report_data("talent", "Assen", peildatum="2026-11-27")
    alt = neighbour_bars(assen, "binnenlands_migratiesaldo_per_1000").alt
    assert "provincie Drenthe: " in alt and "zonder" not in alt
    # the figures a partner downloads hold the province the report compares with, too: the
    # 5,6 of the scorecard and the bars was not in the CSV or the workbook
    from westerkwartier.reporting.downloads import PROVINCE_WITHOUT_ROLE, figures_frame

    data = load_report_data("talent", "Westerkwartier", peildatum="2026-11-27")
    frame = figures_frame(data)
    without = frame[frame["rol"] == PROVINCE_WITHOUT_ROLE]
    compared = {
        (r.indicator, r.province.other.year)
        for r in data.rows
        if r.province.other is not None and " zonder " in (r.province.other.name or "")
    }
    shown = set(zip(without["indicator"], without["jaar"], strict=True))
    assert len(compared) >= 3 and shown == compared
    hit = without[without["indicator"] == "binnenlands_migratiesaldo_per_1000"]
    assert hit["regio"].tolist() == ["provincie Groningen zonder Westerwolde"]
    assert hit["regio_code"].tolist() == ["PV20-GM1950"] and hit["jaar"].tolist() == [2023]
    assert hit["waarde"].iloc[0] == pytest.approx(rest, abs=1e-9)
    assert (without["bron_tabel"].notna()).all()


@pytest.mark.mirror
def test_a_change_is_the_difference_of_unrounded_figures_and_the_scorecard_says_so(
    monkeypatch, mirror
):
    """Land van Cuijk's talent report: a domestic migration balance of 1,5 per 1.000 in 2023,
    2,5 in 2018 (its five predecessors added up) and "-1,1 per 1.000 inwoners sinds 2018" in
    the scorecard. A reader who subtracts the two shown figures gets -1,0: the change is the
    difference of CBS's unrounded figures, and the caption says so."""
    from westerkwartier.reporting.report_data import load_report_data
    from westerkwartier.reporting.sections import scorekaart

    raw = pd.read_csv(mirror / "coded" / "37259eng_bevolkingsontwikkeling_2012_2023.csv")
    raw = raw[raw["Sex"] == "T001038"]
    raw = raw.assign(code=raw["Regions"].str.strip(), year=raw["Periods"].str[:4].astype(int))

    def balance(codes: list[str], year: int) -> float:
        rows = raw[raw["code"].isin(codes) & (raw["year"] == year)]
        moves = (
            rows["DueToIntermunicipalMoves_11"].sum() - rows["DueToIntermunicipalMoves_16"].sum()
        )
        mean = (rows["PopulationOn1January_1"].sum() + rows["PopulationOn31December_20"].sum()) / 2
        return 1000 * moves / mean

    end = balance(["GM1982"], 2023)
    start = balance(["GM0756", "GM1684", "GM0786", "GM0815", "GM1702"], 2018)
    assert round(end, 1) - round(start, 1) == pytest.approx(-1.0)  # what the reader subtracts
    assert round(end - start, 1) == pytest.approx(-1.1)

    monkeypatch.setattr(settings, "offline", True)
    data = load_report_data("talent", "Land van Cuijk", peildatum="2026-11-27")
    row = data.row("binnenlands_migratiesaldo_per_1000")
    assert row.own.year == 2023 and row.own.value == pytest.approx(end, abs=1e-3)
    assert row.trend.start.year == 2018 and row.trend.start.value == pytest.approx(start, abs=1e-3)
    card = str(scorekaart(data, "behouden"))
    assert "-1,1 per 1.000 inwoners sinds 2018" in card
    assert "De ontwikkeling is berekend op de onafgeronde cijfers" in card


@pytest.mark.mirror
def test_groningen_is_compared_with_the_rounded_median_of_its_peers(monkeypatch, mirror):
    """Groningen's talent report said the change in young people (11,3 per 1.000; by rounding
    10,9-11,8) was "hoger ... dan bij vergelijkbare gemeenten (mediaan 10,9)": the peers'
    figures are rounded too, and their median could lie anywhere in 10,1-11,6. The same rule
    as against the province now holds for the peers. Checked on a figure a reader can look up:
    the distance to a large supermarket, 0,8 km against the peers' 0,6; 0,7; 0,7; 0,7; 0,8."""
    from westerkwartier.reporting.findings import finding_text
    from westerkwartier.reporting.report_data import load_report_data

    raw = pd.read_csv(mirror / "tables-r3" / "80305ned.csv", sep=";", encoding="utf-8-sig")
    raw = raw[raw["Perioden"].astype(str).str.startswith("2023")].set_index("RegioS")
    km = raw["AfstandTotGroteSupermarkt_20"]
    peers = ["Delft", "Leiden", "Nijmegen", "Maastricht", "Wageningen"]
    assert km["Groningen (gemeente)"] == 0.8 and km[peers].median() == 0.7

    monkeypatch.setattr(settings, "offline", True)
    data = load_report_data("aantrekkelijkheid", "Groningen", peildatum="2026-11-27")
    row = data.row("afstand_supermarkt")
    median = row.peers.other
    assert median.note == "mediaan van 5" and median.value == pytest.approx(km[peers].median())
    assert (median.lower, median.upper) == (pytest.approx(0.65), pytest.approx(0.75))
    assert row.peers.significant is False and row.tone == "gunstig"
    assert "(mediaan 0,7 km) valt binnen de marge van de afronding" in finding_text(row)

    talent = load_report_data("talent", "Groningen", peildatum="2026-11-27")
    youth = talent.row("jongeren_15_27_verschil_5j")
    assert round(youth.own.value, 1) == 11.3 and round(youth.peers.other.value, 1) == 10.9
    assert youth.peers.significant is False
    text = finding_text(youth)
    assert "hoger dan in de provincie Groningen (5,5) en in Nederland (-0,2); het verschil" in text
