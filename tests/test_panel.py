"""The panel: hand-made tables through the whole pipeline, and the real mirror data."""

from __future__ import annotations

from functools import cache
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from test_indicators import make_table

from westerkwartier.errors import OfflineDataMissing, WesterkwartierError
from westerkwartier.indicators.panel import (
    PANEL_COLUMNS,
    benchmarks_for,
    compare,
    panel,
    to_csv,
    to_excel,
)
from westerkwartier.sources.table import CbsTable

CATALOGUE = """
[tables.NEW]
title = "nieuw"
offline = true
[tables.OLD]
title = "oud"
offline = true
[tables.ONLINE]
title = "alleen online"
offline = false

[[indicator]]
id = "werkzaam"
label_nl = "Werkzaam"
label_en = "Employed"
theme = "Talent"
subtheme = "behouden"
unit = "personen"
direction = "context"
formula = "w"
years = "2017-2020"
caveats = "-"
description = "-"
[indicator.operands.w]
tables = ["NEW", "OLD"]
topic = "Werkzaam"
cbs_unit = "x 1 000"
additive = true

[[indicator]]
id = "per_1000"
label_nl = "Per 1 000"
label_en = "Per 1,000"
theme = "Vestigingsklimaat"
subtheme = "x"
unit = "per 1 000 inwoners"
direction = "higher_is_better"
formula = "1000 * w / inw"
years = "2017-2020"
caveats = "-"
description = "-"
[indicator.operands.w]
tables = ["NEW", "OLD"]
topic = "Werkzaam"
cbs_unit = "x 1 000"
additive = true
[indicator.operands.inw]
tables = ["NEW", "OLD"]
topic = "Inwoners"
cbs_unit = "aantal"
additive = true

[[indicator]]
id = "afstand"
label_nl = "Afstand"
label_en = "Distance"
theme = "Woonklimaat"
subtheme = "voorzieningen"
unit = "km"
direction = "lower_is_better"
formula = "a"
years = "2019-2020"
caveats = "-"
description = "-"
[indicator.operands.a]
tables = ["ONLINE"]
topic = "Afstand"
cbs_unit = "km"
"""


class FakeRegistry:
    """Just enough of westerkwartier.regions.Registry for the panel."""

    def __init__(self) -> None:
        self.frame = pd.DataFrame(
            [
                ("GM0001", "Eendorp", "gemeente", "PV20", "Groningen", "CR01", "Oost-Groningen"),
                ("GM0002", "Tweestad", "gemeente", "PV20", "Groningen", "CR01", "Oost-Groningen"),
                ("GM9999", "Nieuwland", "gemeente", "PV20", "Groningen", "CR02", "Overig"),
                ("PV20", "Groningen", "provincie", None, None, None, None),
                ("NL01", "Nederland", "land", None, None, None, None),
                ("GM0501", "Oud-A", "opgeheven", None, None, None, None),
                ("GM0502", "Oud-B", "opgeheven", None, None, None, None),
            ],
            columns=[
                "code",
                "name",
                "level",
                "province_code",
                "province_name",
                "corop_code",
                "corop_name",
            ],
        )

    def resolve(self, text: str):
        hit = self.frame[(self.frame["code"] == text) | (self.frame["name"] == text)]
        if hit.empty:
            raise WesterkwartierError(f"onbekend: {text}")
        row = hit.iloc[0]
        return SimpleNamespace(
            code=row["code"],
            name=row["name"],
            level=row["level"],
            province=row["province_code"],
            province_name=row["province_name"],
            corop=row["corop_code"],
            corop_name=row["corop_name"],
        )

    def dissolved(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "code": ["GM0501", "GM0502"],
                "dissolved_in": [2019, 2019],
                "successor_codes": ["GM9999", "GM9999"],
            }
        )


def _tables() -> dict[str, CbsTable]:
    new_rows, old_rows = [], []
    for region, w, inw in (
        ("GM0001", 12.0, 30_000.0),
        ("GM0002", 0.0, 1_000.0),
        ("GM9999", 20.0, 50_000.0),
        ("PV20", 300.0, 600_000.0),
        ("NL01", 9000.0, 17_000_000.0),
    ):
        for year in ("2019JJ00", "2020JJ00"):
            new_rows.append(
                {"RegioS": region, "Perioden": year, "Werkzaam_3": w, "Inwoners_1": inw}
            )
    for region, w, inw in (
        ("GM0001", 11.0, 29_000.0),
        ("GM0501", 8.0, 20_000.0),
        ("GM0502", 9.0, 25_000.0),
        ("GM0002", np.nan, 900.0),
    ):
        for year in ("2018JJ00", "2019JJ00"):
            old_rows.append(
                {"RegioS": region, "Perioden": year, "Werkzaam_2": w, "Inwoners_7": inw}
            )
    return {
        "NEW": make_table("NEW", new_rows, {"Werkzaam_3": "x 1 000", "Inwoners_1": "aantal"}),
        "OLD": make_table("OLD", old_rows, {"Werkzaam_2": "x 1 000", "Inwoners_7": "aantal"}),
    }


@pytest.fixture
def setup(tmp_path):
    path = tmp_path / "indicators.toml"
    path.write_text(CATALOGUE, encoding="utf-8")
    tables = _tables()

    def loader(table_id: str) -> CbsTable:
        if table_id not in tables:
            raise OfflineDataMissing(f"{table_id} niet in de snapshot")
        return tables[table_id]

    return {"catalogue_path": path, "loader": loader, "registry": FakeRegistry()}


def row(frame, region, year, indicator):
    hit = frame[
        (frame["region_code"] == region)
        & (frame["year"] == year)
        & (frame["indicator"] == indicator)
    ]
    assert len(hit) == 1
    return hit.iloc[0]


def test_panel_columns_regions_and_units(setup):
    p = panel(**setup)
    assert list(p.columns) == PANEL_COLUMNS
    assert set(p["region_code"]) == {"GM0001", "GM0002", "GM9999", "PV20", "NL01"}
    r = row(p, "GM0001", 2020, "werkzaam")
    assert r["value"] == 12_000.0
    assert r["source_table"] == "NEW"
    assert r["region_name"] == "Eendorp"
    assert r["level"] == "gemeente"
    assert row(p, "NL01", 2020, "werkzaam")["level"] == "land"


def test_panel_picks_newest_table_per_year(setup):
    p = panel(**setup)
    assert row(p, "GM0001", 2019, "werkzaam")["value"] == 12_000.0  # NEW wins over OLD
    r = row(p, "GM0001", 2018, "werkzaam")
    assert r["value"] == 11_000.0
    assert r["source_table"] == "OLD"


def test_panel_rebuilds_merged_municipality_and_rate(setup):
    p = panel(**setup)
    w = row(p, "GM9999", 2018, "werkzaam")
    assert w["value"] == 17_000.0
    assert w["status"] == "schatting"
    rate = row(p, "GM9999", 2018, "per_1000")
    assert rate["value"] == pytest.approx(1000 * 17_000 / 45_000)
    assert rate["status"] == "schatting"
    assert row(p, "GM9999", 2019, "werkzaam")["status"] == "definitief"


def test_panel_missing_kinds_never_zero(setup):
    p = panel(**setup)
    zero = row(p, "GM0002", 2020, "werkzaam")
    assert zero["value"] == 0.0 and pd.isna(zero["missing_reason"])
    suppressed = row(p, "GM0002", 2018, "werkzaam")
    assert np.isnan(suppressed["value"])
    assert "geen cijfer" in suppressed["missing_reason"]
    online = p[p["indicator"] == "afstand"]
    assert online["value"].isna().all()
    assert (online["missing_reason"] == "tabel alleen online beschikbaar").all()
    assert set(online["year"]) == {2019, 2020}
    assert p.loc[p["value"].isna(), "missing_reason"].notna().all()


def test_panel_filters_indicators_years_and_regions(setup):
    p = panel(regions=["GM0001", "NL01"], indicators=["werkzaam"], years=2020, **setup)
    assert len(p) == 2
    assert set(p["year"]) == {2020}


def test_benchmarks_for(setup):
    b = benchmarks_for("GM0001", registry=setup["registry"], neighbours=lambda c: ["GM0002"])
    assert list(b["code"]) == ["NL01", "PV20", "CR01", "GM0002"]
    assert list(b["role"]) == ["Nederland", "provincie", "COROP-gebied", "buurgemeente"]
    assert list(b["level"]) == ["land", "provincie", "corop", "gemeente"]
    assert b.set_index("code").loc["CR01", "name"] == "Oost-Groningen"


def test_compare_is_wide_with_benchmarks(setup):
    c = compare("GM0001", neighbours=lambda c: ["GM0002"], **setup)
    assert list(c["indicator"]) == ["werkzaam", "per_1000", "afstand"]
    assert c.columns[-5:].tolist() == [
        "Eendorp",
        "Nederland",
        "Groningen (provincie)",
        "Oost-Groningen (COROP)",
        "Tweestad",
    ]
    first = c.set_index("indicator").loc["werkzaam"]
    assert first["year"] == 2020
    assert first["Eendorp"] == 12_000.0
    assert first["Nederland"] == 9_000_000.0
    assert np.isnan(first["Oost-Groningen (COROP)"])  # no COROP figures in these tables
    assert c.set_index("indicator").loc["afstand", "toelichting"] == (
        "tabel alleen online beschikbaar"
    )


def test_to_csv_and_excel_keep_missing_empty(setup, tmp_path):
    p = panel(regions=["GM0002"], indicators=["werkzaam"], **setup)
    path = to_csv(p, tmp_path / "p.csv")
    back = pd.read_csv(path, sep=";", decimal=",", encoding="utf-8-sig")
    assert back["value"].isna().sum() == p["value"].isna().sum() == 1
    assert (back["value"] == 0).sum() == 2
    xlsx = to_excel(p, tmp_path / "p.xlsx")
    sheet = pd.read_excel(xlsx, sheet_name="Indicatoren")
    assert sheet["value"].isna().sum() == 1
    about = pd.read_excel(xlsx, sheet_name="Bronnen")
    assert about["betekenis"].str.contains("Bron: CBS").any()


def test_excel_is_formatted_for_analysts(setup, tmp_path):
    from openpyxl import load_workbook

    p = panel(regions=["GM0002"], indicators=["werkzaam"], **setup)
    book = load_workbook(to_excel(p, tmp_path / "p.xlsx"))
    sheet = book["Indicatoren"]
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == sheet.dimensions
    header = [c.value for c in sheet[1]]
    assert all(c.font.bold for c in sheet[1])
    year = header.index("year") + 1
    value = header.index("value") + 1
    rows = list(sheet.iter_rows(min_row=2))
    assert {r[year - 1].number_format for r in rows} == {"0"}
    numbers = [r[value - 1] for r in rows if isinstance(r[value - 1].value, int | float)]
    assert numbers and all(c.number_format.startswith("#,##0") for c in numbers)
    widths = {c: sheet.column_dimensions[c].width for c in ("A", "B")}
    assert all(w >= len(header[i]) for i, w in enumerate(widths.values()))
    # the sources sheet describes exactly the columns present
    described = [r[0].value for r in book["Bronnen"].iter_rows(min_row=2) if r[0].value]
    assert described[: len(header)] == header
    assert "toelichting" in described[len(header) :]


# -- real data ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def real(mirror):
    from westerkwartier.sources import exports, odata4, regions

    registry = regions.Registry(regions.build_registry(mirror))

    @cache
    def loader(table_id: str) -> CbsTable:
        folder = mirror / "odata-v4" / table_id
        if folder.is_dir():
            return odata4.read_v4_capture(folder)
        try:
            return exports.read_mirror_table(table_id, mirror)
        except WesterkwartierError as err:
            raise OfflineDataMissing(str(err)) from None

    codes = ["GM1969", "GM0014", "GM0363", "GM0344", "GM0080", "PV20", "NL01"]
    p = panel(regions=codes, loader=loader, registry=registry)
    return SimpleNamespace(panel=p, registry=registry, mirror=mirror, codes=codes)


def _csv(mirror, table_id):
    return pd.read_csv(
        mirror / "tables" / f"{table_id}.csv", sep=";", encoding="utf-8-sig", low_memory=False
    )


def _cbs_value(real, table_id, code, column, period, **dims):
    frame = _csv(real.mirror, table_id)
    region_col = next(c for c in ("RegioS", "Regiokenmerken") if c in frame)
    title = real.registry.frame.set_index("code").loc[code, "title"]
    mask = frame[region_col].astype(str).str.strip() == title
    if period is not None:
        mask &= frame["Perioden"].astype(str) == str(period)
    for dim, value in dims.items():
        mask &= frame[dim] == value
    hit = frame.loc[mask, column]
    assert len(hit) == 1, (table_id, code, column, period, dims, len(hit))
    return float(hit.iloc[0])


@pytest.mark.mirror
@pytest.mark.parametrize("code", ["GM1969", "GM0014", "GM0363", "GM0344", "GM0080", "PV20", "NL01"])
def test_real_panel_equals_cbs_figures(real, code):
    p = real.panel

    def got(indicator, year, col="value"):
        return row(p, code, year, indicator)[col]

    # percentages as published
    assert got("netto_arbeidsparticipatie", 2024) == _cbs_value(
        real,
        "86088NED",
        code,
        "NettoArbeidsparticipatie_16",
        2024,
        Persoonskenmerken="Totaal personen",
    )
    # x 1 000 -> persons
    assert got("werkzame_beroepsbevolking", 2024) == 1000 * _cbs_value(
        real,
        "86088NED",
        code,
        "WerkzameBeroepsbevolking_3",
        2024,
        Persoonskenmerken="Totaal personen",
    )
    # 1 000 euro -> euro
    assert got("woz_waarde", 2023) == 1000 * _cbs_value(
        real, "85036NED", code, "GemiddeldeWOZWaardeVanWoningen_1", 2023, Eigendom="Totaal"
    )
    assert got("mediaan_vermogen", 2023) == pytest.approx(
        1000
        * _cbs_value(
            real,
            "86007NED",
            code,
            "MediaanVermogen_5",
            2023,
            KenmerkenVanHuishoudens="Particuliere huishoudens",
        )
    )
    # ratio from two counts
    koop = _cbs_value(real, "82900NED", code, "Koopwoningen_2", 2024, StatusVanBewoning="Totaal")
    voorraad = _cbs_value(
        real, "82900NED", code, "TotaleWoningvoorraad_1", 2024, StatusVanBewoning="Totaal"
    )
    assert got("aandeel_koopwoningen", 2024) == pytest.approx(100 * koop / voorraad)


@pytest.mark.mirror
@pytest.mark.parametrize("code", ["GM1969", "GM0363", "PV20", "NL01"])
def test_real_health_monitor_margins(real, code):
    def cbs(marge):
        return _cbs_value(
            real,
            "85563NED",
            code,
            "ErvarenGezondheidGoedZeerGoed_1",
            None,
            Leeftijd="Totaal",
            Marges=marge,
        )

    r = row(real.panel, code, 2022, "ervaren_gezondheid")
    assert r["value"] == cbs("Waarde")
    assert r["lower"] == cbs("Ondergrens 95%-interval")
    assert r["upper"] == cbs("Bovengrens 95%-interval")
    assert r["source_table"] == "85563NED"
    y2024 = row(real.panel, code, 2024, "ervaren_gezondheid")
    assert np.isnan(y2024["value"])
    assert y2024["missing_reason"] == "tabel alleen online beschikbaar"


@pytest.mark.mirror
def test_real_westerkwartier_rebuilt_from_predecessors(real):
    housing = _csv(real.mirror, "82900NED")
    housing = housing[(housing["StatusVanBewoning"] == "Totaal") & (housing["Perioden"] == 2018)]
    stock = housing.set_index("RegioS")["TotaleWoningvoorraad_1"]
    expected = (
        stock["Grootegast"]
        + stock["Leek"]
        + stock["Marum"]
        + stock["Zuidhorn"]
        + 739 / 6026 * stock["Winsum"]
    )
    r = row(real.panel, "GM1969", 2018, "woningvoorraad")
    assert r["value"] == pytest.approx(expected)
    assert r["status"] == "schatting"
    assert row(real.panel, "GM1969", 2019, "woningvoorraad")["status"] == "definitief"
    # an average is never rebuilt
    pct = row(real.panel, "GM1969", 2015, "betalingsachterstand_zorgpremie")
    assert np.isnan(pct["value"])
    assert "niet herleidbaar" in pct["missing_reason"]


@pytest.mark.mirror
def test_real_online_only_indicators_are_missing_with_reason(real):
    p = real.panel
    for indicator in ("verhuissaldo_15_24", "verhuissaldo_25_39"):
        part = p[p["indicator"] == indicator]
        assert len(part) > 0
        assert part["value"].isna().all()
        assert (part["missing_reason"] == "tabel alleen online beschikbaar").all()
    # read from the mirror's tables-r3/ and coded/ now, no longer online only
    for indicator in ("banen_per_1000", "afstand_huisarts", "binnenlands_migratiesaldo_per_1000"):
        part = p[(p["indicator"] == indicator) & (p["region_code"] == "GM1969")]
        assert part["value"].notna().any(), indicator


def test_compare_rejects_a_future_year(setup):
    from westerkwartier.errors import InputError

    with pytest.raises(InputError, match="toekomst"):
        compare("GM0001", 2999, neighbours=lambda c: ["GM0002"], **setup)
