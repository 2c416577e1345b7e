"""Indicator computations on tiny hand-made CbsTable frames, and the catalogue itself."""

from __future__ import annotations

import copy
import tomllib

import numpy as np
import pandas as pd
import pytest

from westerkwartier.errors import CbsSchemaError, InputError
from westerkwartier.indicators.catalogue import (
    CATALOGUE_FILE,
    DIRECTIONS,
    MISSING,
    REQUIRED_FIELDS,
    THEMES,
    Operand,
    TableSpec,
    catalogue,
    check_catalogue,
    load_catalogue,
    parse_catalogue,
    unit_factor,
)
from westerkwartier.indicators.compute import OperandData, compute
from westerkwartier.indicators.extraction import SelectionMissing, combine_tables, extract
from westerkwartier.indicators.mergers import load_mergers, rebuild_mergers
from westerkwartier.sources.table import CbsTable


# -- helpers ------------------------------------------------------------------------------------
def make_table(
    table_id: str,
    rows: list[dict],
    units: dict[str, str | None],
    dims: dict[str, list[tuple[str, str]]] | None = None,
    periods: bool = True,
    info: dict | None = None,
) -> CbsTable:
    """A CbsTable in the shape every source produces (codes in data, code lists beside)."""
    data = pd.DataFrame(rows)
    dims = dict(dims or {})
    dimensions = {"RegioS": pd.DataFrame({"key": sorted(data["RegioS"].unique())})}
    dimensions["RegioS"]["title"] = dimensions["RegioS"]["key"]
    types = {"RegioS": "GeoDimension"}
    if periods:
        keys = sorted(data["Perioden"].unique())
        dimensions["Perioden"] = pd.DataFrame(
            {"key": keys, "title": [k[:4] for k in keys], "status": "Definitief"}
        )
        types["Perioden"] = "TimeDimension"
    for name, cats in dims.items():
        dimensions[name] = pd.DataFrame(cats, columns=["key", "title"])
        types[name] = "Dimension"
    topics = pd.DataFrame(
        [{"key": k, "title": k, "unit": u, "decimals": 0} for k, u in units.items()]
    )
    return CbsTable(
        table_id=table_id,
        data=data,
        topics=topics,
        dimensions=dimensions,
        dimension_types=types,
        info=info or {},
    )


def obs(rows: list[tuple], source: str = "T1") -> pd.DataFrame:
    """Observations (region, year, value[, status])."""
    out = []
    for r in rows:
        region, year, value = r[:3]
        status = r[3] if len(r) > 3 else "definitief"
        out.append(
            {
                "region_code": region,
                "year": year,
                "value": value,
                "lower": np.nan,
                "upper": np.nan,
                "status": status,
                "source_table": source,
            }
        )
    return pd.DataFrame(out)


def value_of(frame: pd.DataFrame, region: str, year: int, col: str = "value"):
    row = frame[(frame["region_code"] == region) & (frame["year"] == year)]
    assert len(row) == 1, f"expected one row for {region} {year}, got {len(row)}"
    return row.iloc[0][col]


# -- units --------------------------------------------------------------------------------------
def test_unit_factor_converts_cbs_units():
    assert unit_factor("x 1 000") == 1000.0
    assert unit_factor("1 000 euro") == 1000.0
    assert unit_factor("X 1000") == 1000.0
    assert unit_factor("aantal") == 1.0
    assert unit_factor("%") == 1.0


def test_unit_factor_refuses_unknown_unit():
    with pytest.raises(CbsSchemaError, match="UNIT_FACTORS"):
        unit_factor("x 1 000 paarden")


def test_extract_converts_thousands_to_persons_and_euro():
    table = make_table(
        "T1",
        [
            {"RegioS": "GM0001", "Perioden": "2023JJ00", "Werkzaam_3": 47.0, "Inkomen_5": 34.9},
            {"RegioS": "NL01", "Perioden": "2023JJ00", "Werkzaam_3": 9187.0, "Inkomen_5": 36.6},
        ],
        {"Werkzaam_3": "x 1 000", "Inkomen_5": "1 000 euro"},
    )
    persons = extract(table, Operand("w", ("T1",), topics=("Werkzaam",), cbs_unit="x 1 000"))
    euros = extract(table, Operand("i", ("T1",), topics=("Inkomen",), cbs_unit="1 000 euro"))
    assert value_of(persons, "GM0001", 2023) == 47_000.0
    assert value_of(persons, "NL01", 2023) == 9_187_000.0
    assert value_of(euros, "GM0001", 2023) == pytest.approx(34_900.0)


def test_extract_fails_when_table_unit_disagrees_with_catalogue():
    table = make_table(
        "T1", [{"RegioS": "GM0001", "Perioden": "2023JJ00", "Woz_1": 301.0}], {"Woz_1": "aantal"}
    )
    with pytest.raises(CbsSchemaError, match="eenheid"):
        extract(table, Operand("w", ("T1",), topics=("Woz",), cbs_unit="1 000 euro"))


def test_extract_trusts_catalogue_when_table_has_no_unit():
    table = make_table(
        "T1", [{"RegioS": "GM0001", "Perioden": "2023JJ00", "Woz_1": 301.0}], {"Woz_1": None}
    )
    out = extract(table, Operand("w", ("T1",), topics=("Woz",), cbs_unit="1 000 euro"))
    assert value_of(out, "GM0001", 2023) == 301_000.0


# -- selections ---------------------------------------------------------------------------------
def _by_sex_table() -> CbsTable:
    rows = []
    for sex, factor in (("T001038", 1.0), ("3000", 0.5)):
        for region, v in (("GM0001", 10.0), ("GM0002", 20.0)):
            rows.append(
                {"Geslacht": sex, "RegioS": region, "Perioden": "2022JJ00", "Aantal_1": v * factor}
            )
    return make_table(
        "T1",
        rows,
        {"Aantal_1": "aantal"},
        dims={"Geslacht": [("T001038", "Totaal mannen en vrouwen"), ("3000", "Mannen")]},
    )


def test_unnamed_dimension_uses_its_totaal_category():
    out = extract(_by_sex_table(), Operand("a", ("T1",), topics=("Aantal",)))
    assert value_of(out, "GM0001", 2022) == 10.0
    assert len(out) == 2


def test_select_by_title_picks_that_category():
    op = Operand("a", ("T1",), topics=("Aantal",), select={"Geslacht": ("Mannen",)})
    assert value_of(extract(_by_sex_table(), op), "GM0002", 2022) == 10.0


def test_select_list_adds_categories_and_missing_category_is_not_zero():
    rows = [
        {"Leeftijd": "15", "RegioS": "GM0001", "Perioden": "2020JJ00", "Bev_1": 3.0},
        {"Leeftijd": "16", "RegioS": "GM0001", "Perioden": "2020JJ00", "Bev_1": 4.0},
        {"Leeftijd": "15", "RegioS": "GM0002", "Perioden": "2020JJ00", "Bev_1": 5.0},
        {"Leeftijd": "16", "RegioS": "GM0002", "Perioden": "2020JJ00", "Bev_1": np.nan},
    ]
    table = make_table(
        "T1", rows, {"Bev_1": "aantal"}, dims={"Leeftijd": [("15", "15 jaar"), ("16", "16 jaar")]}
    )
    op = Operand("a", ("T1",), topics=("Bev",), select={"Leeftijd": ("15 jaar", "16 jaar")})
    out = extract(table, op)
    assert value_of(out, "GM0001", 2020) == 7.0
    assert np.isnan(value_of(out, "GM0002", 2020))


def test_missing_category_or_topic_is_selection_missing():
    with pytest.raises(SelectionMissing):
        extract(
            _by_sex_table(),
            Operand("a", ("T1",), topics=("Aantal",), select={"Geslacht": ("Vrouwen",)}),
        )
    with pytest.raises(SelectionMissing):
        extract(_by_sex_table(), Operand("a", ("T1",), topics=("Bestaatniet",)))


def test_category_listed_but_without_rows_is_selection_missing():
    # an offline capture may list every age in its code list but hold only the totals
    table = _by_sex_table()
    table.data = table.data[table.data["Geslacht"] == "T001038"]
    op = Operand("a", ("T1",), topics=("Aantal",), select={"Geslacht": ("Mannen",)})
    with pytest.raises(SelectionMissing, match="geen rijen"):
        extract(table, op)


def test_topic_alternatives_take_the_first_stem_present():
    table = make_table(
        "T1",
        [{"RegioS": "GM0001", "Perioden": "2020JJ00", "WekelijksSporter_13": 43.3}],
        {"WekelijksSporter_13": "%"},
    )
    op = Operand("s", ("T1",), topics=("WekelijkseSporters", "WekelijksSporter"), cbs_unit="%")
    assert value_of(extract(table, op), "GM0001", 2020) == 43.3


def test_sum_topics_adds_topics():
    table = make_table(
        "T1",
        [{"RegioS": "GM0001", "Perioden": "2020JJ00", "Niv3_9": 4.0, "Niv4_10": 14.0}],
        {"Niv3_9": "x 1 000", "Niv4_10": "x 1 000"},
    )
    op = Operand("h", ("T1",), sum_topics=("Niv3", "Niv4"), cbs_unit="x 1 000")
    assert value_of(extract(table, op), "GM0001", 2020) == 18_000.0


# -- margins, year of tables without periods, status dimension ---------------------------------
def test_margins_become_lower_and_upper_and_year_comes_from_catalogue():
    rows = [
        {"Marges": "MW00000", "RegioS": "GM1969", "Gezond_1": 75.9},
        {"Marges": "MOG0095", "RegioS": "GM1969", "Gezond_1": 72.2},
        {"Marges": "MBG0095", "RegioS": "GM1969", "Gezond_1": 79.3},
    ]
    table = make_table(
        "85563NED",
        rows,
        {"Gezond_1": "%"},
        dims={
            "Marges": [
                ("MW00000", "Waarde"),
                ("MOG0095", "Ondergrens 95%-interval"),
                ("MBG0095", "Bovengrens 95%-interval"),
            ]
        },
        periods=False,
    )
    spec = TableSpec("85563NED", "GM 2022", True, year=2022)
    out = extract(
        table, Operand("p", ("85563NED",), topics=("Gezond",), cbs_unit="%", margins=True), spec
    )
    assert value_of(out, "GM1969", 2022) == 75.9
    assert value_of(out, "GM1969", 2022, "lower") == 72.2
    assert value_of(out, "GM1969", 2022, "upper") == 79.3


def test_status_dimension_prefers_definitive_and_flags_provisional():
    rows = [
        {"StatusCijfer": "A", "RegioS": "GM0001", "Perioden": "2023JJ00", "Vest_69": np.nan},
        {"StatusCijfer": "B", "RegioS": "GM0001", "Perioden": "2023JJ00", "Vest_69": 7710.0},
        {"StatusCijfer": "A", "RegioS": "GM0001", "Perioden": "2022JJ00", "Vest_69": 7000.0},
        {"StatusCijfer": "B", "RegioS": "GM0001", "Perioden": "2022JJ00", "Vest_69": 6900.0},
    ]
    table = make_table(
        "F",
        rows,
        {"Vest_69": "aantal"},
        dims={"StatusCijfer": [("A", "Definitief"), ("B", "Voorlopig")]},
    )
    spec = TableSpec(
        "F", "F", True, status_dimension="StatusCijfer", status_order=("Definitief", "Voorlopig")
    )
    out = extract(table, Operand("v", ("F",), topics=("Vest",)), spec)
    assert value_of(out, "GM0001", 2023) == 7710.0
    assert value_of(out, "GM0001", 2023, "status") == "voorlopig"
    assert value_of(out, "GM0001", 2022) == 7000.0
    assert value_of(out, "GM0001", 2022, "status") == "definitief"


def test_period_status_is_carried():
    table = make_table(
        "T1",
        [
            {"RegioS": "GM0001", "Perioden": "2023JJ00", "A_1": 1.0},
            {"RegioS": "GM0001", "Perioden": "2024JJ00", "A_1": 2.0},
        ],
        {"A_1": "aantal"},
    )
    table.dimensions["Perioden"].loc[1, "status"] = "Voorlopig"
    out = extract(table, Operand("a", ("T1",), topics=("A",)))
    assert value_of(out, "GM0001", 2024, "status") == "voorlopig"
    assert value_of(out, "GM0001", 2023, "status") == "definitief"


def test_school_year_counts_as_its_start_year():
    table = make_table(
        "T1", [{"RegioS": "GM0001", "Perioden": "2022SJ23", "A_1": 2.0}], {"A_1": "%"}
    )
    out = extract(table, Operand("a", ("T1",), topics=("A",), cbs_unit="%"))
    assert list(out["year"]) == [2022]


# -- per-year table choice ----------------------------------------------------------------------
def test_combine_tables_takes_each_year_from_the_newest_table_that_has_it():
    new = obs([("GM1969", 2021, 75.0), ("GM1969", 2024, 75.5)], source="86088NED")
    old = obs([("GM1969", 2013, 70.0), ("GM1969", 2021, 74.0)], source="85269NED")
    out = combine_tables([new, old])
    assert value_of(out, "GM1969", 2021) == 75.0
    assert value_of(out, "GM1969", 2021, "source_table") == "86088NED"
    assert value_of(out, "GM1969", 2013) == 70.0
    assert value_of(out, "GM1969", 2013, "source_table") == "85269NED"
    assert value_of(out, "GM1969", 2024) == 75.5


# -- mergers ------------------------------------------------------------------------------------
MERGERS = pd.DataFrame(
    {
        "successor": ["GM9999", "GM9999"],
        "predecessor": ["GM0001", "GM0002"],
        "share": [1.0, 0.25],
        "start_year": [2019, 2019],
    }
)


def test_rebuild_sums_additive_counts_with_shares_and_flags_estimate():
    counts = obs(
        [
            ("GM0001", 2018, 1000.0),
            ("GM0002", 2018, 400.0),
            ("GM0001", 2017, 900.0),  # GM0002 missing in 2017: no rebuild
            ("GM9999", 2019, 1200.0),
        ]
    )
    out = rebuild_mergers(counts, MERGERS, Operand("n", ("T1",), topics=("N",), additive=True))
    assert value_of(out, "GM9999", 2018) == 1100.0
    assert value_of(out, "GM9999", 2018, "status") == "schatting"
    assert value_of(out, "GM9999", 2019) == 1200.0
    assert value_of(out, "GM9999", 2019, "status") == "definitief"
    assert out[(out["region_code"] == "GM9999") & (out["year"] == 2017)].empty


def test_rebuild_rate_from_numerator_and_denominator_not_average():
    rates = obs([("GM0001", 2018, 10.0), ("GM0002", 2018, 40.0), ("GM9999", 2018, np.nan)])
    bases = obs([("GM0001", 2018, 100.0), ("GM0002", 2018, 1200.0)])
    op = Operand("pct", ("T1",), topics=("P",), cbs_unit="%", weight="base")
    out = rebuild_mergers(rates, MERGERS, op, bases)
    # (10*100*1 + 40*1200*0.25) / (100*1 + 1200*0.25) = 13000 / 400
    assert value_of(out, "GM9999", 2018) == pytest.approx(32.5)
    assert value_of(out, "GM9999", 2018, "status") == "schatting"


def test_averages_without_weight_are_not_rebuilt():
    woz = obs([("GM0001", 2018, 200_000.0), ("GM0002", 2018, 300_000.0)])
    out = rebuild_mergers(woz, MERGERS, Operand("w", ("T1",), topics=("W",), cbs_unit="euro"))
    assert out[out["region_code"] == "GM9999"].empty


def test_load_mergers_uses_registry_and_address_share_for_split_predecessor(tmp_path):
    dissolved = pd.DataFrame(
        {
            "code": ["GM0015", "GM0053", "GM0005"],
            "dissolved_in": [2019, 2019, 2019],
            "successor_codes": ["GM1969", "GM1966;GM1969", "GM1966"],
        }
    )
    m = load_mergers(dissolved)
    wk = m[m["successor"] == "GM1969"].set_index("predecessor")["share"]
    assert wk["GM0015"] == 1.0
    assert wk["GM0053"] == pytest.approx(739 / 6026)
    # Het Hogeland gets the rest of Winsum: the two shares split Winsum in full
    hh = m[m["successor"] == "GM1966"].set_index("predecessor")["share"]
    assert hh["GM0053"] + wk["GM0053"] == pytest.approx(1.0)
    # a successor of a split predecessor without a configured share is not rebuilt at all
    only_wk = tmp_path / "shares.toml"
    only_wk.write_text(
        "[share.GM1969.GM0053]\naddresses_moved = 739\ntotal_addresses = 6026\n",
        encoding="utf-8",
    )
    m = load_mergers(dissolved, shares_path=only_wk)
    assert "GM1966" not in set(m["successor"])
    assert "GM1969" in set(m["successor"])


def test_load_mergers_default_reads_herindelingen():
    m = load_mergers()
    wk = m[m["successor"] == "GM1969"]
    assert set(wk["predecessor"]) == {"GM0015", "GM0022", "GM0025", "GM0053", "GM0056"}
    assert (wk["start_year"] == 2019).all()


# -- computing and missing kinds ----------------------------------------------------------------
def _indicator(formula: str, operands: dict[str, dict], **extra):
    raw = {
        "tables": {"T1": {"title": "t", "offline": True}, "T2": {"title": "u", "offline": False}},
        "indicator": [
            {
                "id": "x",
                "label_nl": "x",
                "label_en": "x",
                "theme": "Woonklimaat",
                "subtheme": "s",
                "unit": extra.pop("unit", "per 1 000 inwoners"),
                "direction": "higher_is_better",
                "formula": formula,
                "years": extra.pop("years", "2017-2020"),
                "caveats": "-",
                "description": "-",
                "operands": operands,
                **extra,
            }
        ],
    }
    return parse_catalogue(raw)["x"]


def test_compute_rate_and_keeps_missing_kinds_apart():
    ind = _indicator(
        "1000 * num / den",
        {
            "num": {"tables": ["T1"], "topic": "N", "cbs_unit": "aantal", "additive": True},
            "den": {"tables": ["T1"], "topic": "D", "cbs_unit": "aantal", "additive": True},
        },
    )
    num = obs(
        [
            ("GM0001", 2019, 5.0),
            ("GM0001", 2020, 0.0),  # a true zero
            ("GM0002", 2019, np.nan),  # row present, no figure: suppressed
            ("GM0002", 2020, 3.0),
            ("GM0003", 2020, 1.0),
        ]
    )
    den = obs(
        [
            ("GM0001", 2019, 1000.0),
            ("GM0001", 2020, 2000.0),
            ("GM0002", 2019, 500.0),
            ("GM0002", 2020, 500.0),
            ("GM0003", 2020, 0.0),  # zero denominator
        ]
    )
    out = compute(
        ind,
        {"num": OperandData(num), "den": OperandData(den)},
        ["GM0001", "GM0002", "GM0003"],
        years=[2018, 2019, 2020],
    )
    assert value_of(out, "GM0001", 2019) == 5.0
    assert value_of(out, "GM0001", 2020) == 0.0
    assert pd.isna(value_of(out, "GM0001", 2020, "missing_reason"))
    assert np.isnan(value_of(out, "GM0002", 2019))
    assert value_of(out, "GM0002", 2019, "missing_reason") == MISSING["suppressed"]
    assert value_of(out, "GM0002", 2020) == 6.0
    assert value_of(out, "GM0001", 2018, "missing_reason") == MISSING["not_published"]
    assert np.isnan(value_of(out, "GM0003", 2020))
    assert value_of(out, "GM0003", 2020, "missing_reason") == MISSING["zero_denominator"]
    assert value_of(out, "GM0003", 2019, "missing_reason") == MISSING["not_published"]
    # never a zero where there is no figure
    assert not (out["value"].eq(0) & out["missing_reason"].notna()).any()
    assert out.loc[out["value"].isna(), "missing_reason"].notna().all()


def test_compute_online_only_table_gives_reason_not_zero():
    ind = _indicator(
        "v",
        {"v": {"tables": ["T2"], "topic": "V", "cbs_unit": "km"}},
        unit="km",
        years="2019-2020",
    )
    empty = OperandData(
        obs([]).reindex(columns=obs([("a", 1, 1.0)]).columns), gap_reason=MISSING["online_only"]
    )
    out = compute(ind, {"v": empty}, ["GM0001", "NL01"])
    assert set(out["year"]) == {2019, 2020}
    assert out["value"].isna().all()
    assert (out["missing_reason"] == "tabel alleen online beschikbaar").all()


def test_compute_region_past_the_end_of_a_cut_off_copy_is_only_online():
    """80305ned's offline copy stops at Zwijndrecht: Zwolle's distances were "niet gepubliceerd"."""
    ind = _indicator(
        "v", {"v": {"tables": ["T1"], "topic": "V", "cbs_unit": "km"}}, unit="km", years="2019-2020"
    )
    data = obs([("GM0001", 2019, 1.0), ("GM0001", 2020, np.nan), ("GM0002", 2020, 2.0)])
    regions = ["GM0001", "GM0002", "GM0003"]
    whole = compute(ind, {"v": OperandData(data)}, regions)
    cut = compute(ind, {"v": OperandData(data, covered=frozenset({"GM0001", "GM0002"}))}, regions)
    assert value_of(whole, "GM0003", 2020, "missing_reason") == MISSING["not_published"]
    assert value_of(cut, "GM0003", 2019, "missing_reason") == MISSING["online_only"]
    assert value_of(cut, "GM0003", 2020, "missing_reason") == MISSING["online_only"]
    # a region the copy holds keeps its own reasons
    assert value_of(cut, "GM0001", 2020, "missing_reason") == MISSING["suppressed"]
    assert value_of(cut, "GM0002", 2019, "missing_reason") == MISSING["not_published"]
    assert value_of(cut, "GM0002", 2020) == whole.pipe(value_of, "GM0002", 2020) == 2.0


def test_compute_successor_before_start_is_not_rebuildable():
    ind = _indicator("v", {"v": {"tables": ["T1"], "topic": "V", "cbs_unit": "euro"}}, unit="euro")
    data = obs([("GM0001", 2018, 1.0), ("GM9999", 2019, 2.0), ("GM9999", 2018, np.nan)])
    out = compute(ind, {"v": OperandData(data)}, ["GM9999"], mergers=MERGERS)
    assert value_of(out, "GM9999", 2018, "missing_reason") == MISSING["not_rebuildable"]
    assert value_of(out, "GM9999", 2019) == 2.0


def test_compute_passes_margins_and_worst_status():
    ind = _indicator(
        "p",
        {"p": {"tables": ["T1"], "topic": "P", "cbs_unit": "%", "margins": True}},
        unit="%",
    )
    data = obs([("GM0001", 2020, 50.0, "voorlopig")])
    data["lower"] = 45.0
    data["upper"] = 55.0
    out = compute(ind, {"p": OperandData(data)}, ["GM0001"])
    assert value_of(out, "GM0001", 2020, "lower") == 45.0
    assert value_of(out, "GM0001", 2020, "upper") == 55.0
    assert value_of(out, "GM0001", 2020, "status") == "voorlopig"


def test_compute_lagged_growth():
    ind = _indicator(
        "100 * (n - n_vorig) / n_vorig",
        {
            "n": {"tables": ["T1"], "topic": "N", "cbs_unit": "aantal", "additive": True},
            "n_vorig": {
                "tables": ["T1"],
                "topic": "N",
                "cbs_unit": "aantal",
                "additive": True,
                "lag": 1,
            },
        },
        unit="%",
    )
    n = obs([("GM0001", 2019, 100.0), ("GM0001", 2020, 110.0)])
    lagged = n.assign(year=n["year"] + 1)
    out = compute(ind, {"n": OperandData(n), "n_vorig": OperandData(lagged)}, ["GM0001"])
    assert value_of(out, "GM0001", 2020) == pytest.approx(10.0)
    assert value_of(out, "GM0001", 2019, "missing_reason") == MISSING["not_published"]


# -- the catalogue ------------------------------------------------------------------------------
def test_catalogue_is_complete_and_valid():
    raw = tomllib.loads(CATALOGUE_FILE.read_text(encoding="utf-8"))
    assert check_catalogue(raw) == []
    cat = load_catalogue()
    assert len(cat) >= 30
    assert {i.theme for i in cat} == set(THEMES)
    assert {i.subtheme for i in cat if i.theme == "Talent"} == {
        "aantrekken",
        "ontwikkelen",
        "behouden",
    }
    for ind in cat:
        assert ind.direction in DIRECTIONS
        for name in REQUIRED_FIELDS:
            assert getattr(ind, name), (ind.id, name)
        for op in ind.operands.values():
            for table_id in op.tables:
                assert table_id in cat.tables, (ind.id, table_id)
            keys = list(op.topics) + [k for group in op.sum_topics for k in group]
            assert keys and all(isinstance(k, str) and k for k in keys), (ind.id, keys)
    assert all(i.direction == "context" for i in cat if i.theme == "Context")


def test_catalogue_lists_series_with_several_table_ids():
    cat = load_catalogue()
    assert cat["netto_arbeidsparticipatie"].operands["deelname"].tables == (
        "86088NED",
        "85494NED",
        "85269NED",
    )
    assert set(cat["ervaren_gezondheid"].tables) == {"85012NED", "85563NED", "86137NED"}
    online_only = [
        t
        for t in ("84547NED", "37259ned", "83582NED", "81578NED", "80305ned", "86137NED")
        if not cat.tables[t].offline
    ]
    assert online_only == ["84547NED", "37259ned", "81578NED", "86137NED"]
    # the English edition of 37259ned is offline; both editions feed the same operands
    flows = cat["binnenlands_migratiesaldo_per_1000"].operands["vestiging"]
    assert flows.tables == ("37259ned", "37259eng") and cat.tables["37259eng"].offline
    assert flows.topics == ("UitAndereGemeente", "DueToIntermunicipalMoves_11")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("theme", "Sport", "onbekend thema"),
        ("direction", "up", "onbekende richting"),
        ("caveats", "", "caveats"),
        ("formula", "woz * onbekend", "onbekende namen"),
    ],
)
def test_check_catalogue_reports_broken_entries(field, value, message):
    raw = tomllib.loads(CATALOGUE_FILE.read_text(encoding="utf-8"))
    broken = copy.deepcopy(raw)
    broken["indicator"][0][field] = value
    problems = check_catalogue(broken)
    assert any(message in p for p in problems), problems


def test_check_catalogue_reports_unknown_table_and_bad_new_fields():
    raw = tomllib.loads(CATALOGUE_FILE.read_text(encoding="utf-8"))
    broken = copy.deepcopy(raw)
    op = next(iter(broken["indicator"][0]["operands"].values()))
    op["tables"] = ["99999NED"]
    op["topic"] = "Bevolking_1"  # a full key is allowed
    op["rounded_to"] = -5
    broken["indicator"][0]["series_break"] = "altijd"
    broken["tables"]["85980NED"]["period_month"] = 13
    problems = check_catalogue(broken)
    assert any("99999NED" in p for p in problems)
    assert not any("Bevolking_1" in p for p in problems)
    assert any("rounded_to" in p for p in problems)
    assert any("series_break" in p for p in problems)
    assert any("period_month" in p for p in problems)
    with pytest.raises(InputError, match="indicators.toml"):
        parse_catalogue(broken)


def test_check_catalogue_wants_a_family_shared_by_two_indicators():
    raw = tomllib.loads(CATALOGUE_FILE.read_text(encoding="utf-8"))
    broken = copy.deepcopy(raw)
    entries = {e["id"]: e for e in broken["indicator"]}
    entries["woz_waarde"]["family"] = "woz"
    entries["aandeel_hoogopgeleid"]["family"] = "Opleiding"
    entries["aandeel_laagopgeleid"]["family"] = "Opleiding"
    problems = check_catalogue(broken)
    assert any("woz_waarde: family 'woz' heeft maar één indicator" in p for p in problems)
    assert any("family 'Opleiding' mag alleen kleine letters" in p for p in problems)
    families = {i.family for i in load_catalogue() if i.family}
    assert "verandering_jongeren" in families and "woz" not in families


def test_check_catalogue_unit_must_fit_cbs_unit():
    raw = tomllib.loads(CATALOGUE_FILE.read_text(encoding="utf-8"))
    broken = copy.deepcopy(raw)
    entry = next(e for e in broken["indicator"] if e["id"] == "woz_waarde")
    entry["unit"] = "%"
    assert any("past niet" in p for p in check_catalogue(broken))


def test_catalogue_frame_and_theme_filter():
    frame = catalogue()
    assert {"id", "label_nl", "label_en", "theme", "unit", "direction", "tables", "offline"} <= set(
        frame.columns
    )
    woon = catalogue("woonklimaat")
    assert set(woon["theme"]) == {"Woonklimaat"}
    assert frame.set_index("id").loc["verhuissaldo_15_24", "offline"] == np.False_
    assert frame.set_index("id").loc["banen_per_1000", "offline"] == np.True_
    assert frame.set_index("id").loc["woz_waarde", "offline"] == np.True_
    # a table's note stands in the caveats of each of its indicators, after the table's id
    note = load_catalogue().table("86137NED").note
    assert frame.set_index("id").loc["overgewicht", "caveats"].endswith(f"86137NED: {note}")
    assert note not in frame.set_index("id").loc["woz_waarde", "caveats"]
    with pytest.raises(InputError, match="thema"):
        catalogue("Sport")


def test_unknown_indicator_suggests_close_ids():
    with pytest.raises(InputError, match="werkloosheid"):
        load_catalogue()["werkloosheidd"]


def test_ratio_of_counts_rounded_to_thousands_is_withheld_for_small_counts():
    ind = _indicator(
        "100 * deel / totaal",
        {
            "deel": {"tables": ["T1"], "topic": "D", "cbs_unit": "x 1 000"},
            "totaal": {"tables": ["T1"], "topic": "T", "cbs_unit": "x 1 000"},
        },
        unit="%",
    )
    deel = OperandData(
        obs([("GM0001", 2020, 3_000.0), ("GM0088", 2020, 0.0), ("GM0096", 2020, 0.0)])
    )
    totaal = OperandData(
        obs([("GM0001", 2020, 30_000.0), ("GM0088", 2020, 1_000.0), ("GM0096", 2020, 0.0)])
    )
    out = compute(ind, {"deel": deel, "totaal": totaal}, ["GM0001", "GM0088", "GM0096"]).set_index(
        "region_code"
    )
    assert out.loc["GM0001", "value"] == 10.0  # a small numerator is fine
    assert np.isnan(out.loc["GM0088", "value"])  # never 0,0% from rounded thousands
    assert out.loc["GM0088", "missing_reason"] == MISSING["rounded_small"]
    # Vlieland's labour force rounds to 0 thousand: too small, not "noemer is nul"
    assert out.loc["GM0096", "missing_reason"] == MISSING["rounded_small"]


def test_a_count_too_small_says_so_also_where_a_table_is_only_online():
    # Ameland's young people over ten years: 2015-2021 need the population of 2005-2011,
    # only online; but its some 600 young people (rounded to hundreds) withhold it there too
    from westerkwartier.indicators.catalogue import rounded_small_reason

    ind = _indicator(
        "1000 * jong / inw",
        {
            "jong": {"tables": ["T1"], "topic": "J", "cbs_unit": "aantal", "rounded_to": 100},
            "inw": {"tables": ["T1"], "topic": "I", "cbs_unit": "aantal"},
        },
    )
    jong = OperandData(obs([("GM0060", 2018, 600.0)]))
    none = obs([("GM0060", 2018, 1.0)]).iloc[0:0]  # the table is not at hand
    out = {
        gap: compute(
            ind,
            {"jong": jong, "inw": OperandData(none, gap_reason=MISSING[gap])},
            ["GM0060"],
            years=[2018],
        )["missing_reason"].iloc[0]
        for gap in ("online_only", "not_published")
    }
    assert out["online_only"] == rounded_small_reason(100)
    assert out["not_published"] == MISSING["not_published"]  # nothing to compute, anywhere


def test_check_catalogue_says_what_significant_persons_needs():
    raw = tomllib.loads(CATALOGUE_FILE.read_text(encoding="utf-8"))
    broken = copy.deepcopy(raw)
    entry = next(e for e in broken["indicator"] if e["id"] == "netto_arbeidsparticipatie")
    entry["operands"]["deelname"]["significant_persons"] = "duizend"
    assert any("positief geheel aantal" in p for p in check_catalogue(broken))
    del entry["operands"]["deelname"]["weight"]
    entry["operands"]["deelname"]["significant_persons"] = 1000
    assert any("significant_persons alleen" in p for p in check_catalogue(broken))
    assert load_catalogue()["netto_arbeidsparticipatie"].threshold_operand.weight == "bevolking"
