"""The analyst's front door (``import westerkwartier as wk``) on the committed snapshot."""

from __future__ import annotations

import importlib
import sys
import warnings

import pandas as pd
import pytest

import westerkwartier as wk
from westerkwartier import settings
from westerkwartier.errors import InputError, RegionDissolved
from westerkwartier.reporting.formatting import fmt_number, fmt_value


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    monkeypatch.setattr(settings, "offline", True)


def test_gemeente_resolves_names_and_refuses_a_province():
    assert wk.gemeente("sudwest fryslan").code == "GM1900"
    assert wk.gemeente("1969").name == "Westerkwartier"
    with pytest.raises(RegionDissolved, match="Westerkwartier"):
        wk.gemeente("Grootegast")
    with pytest.raises(InputError, match="geen gemeente"):
        wk.gemeente("PV20")


def test_indicatoren_lists_a_theme_and_refuses_an_unknown_one():
    talent = wk.indicatoren("talent")
    assert set(talent["theme"]) == {"Talent"} and "netto_arbeidsparticipatie" in set(talent["id"])
    with pytest.raises(InputError):
        wk.indicatoren("Sport")


def test_a_theme_given_as_indicator_points_to_its_indicators():
    with pytest.raises(InputError, match="is een thema, geen indicator") as given:
        wk.panel("Ameland", indicators="woonklimaat")
    assert "wk.indicatoren('Woonklimaat')" in str(given.value)
    assert "woz_waarde" in set(wk.indicatoren("Woonklimaat")["id"])  # the call it proposes


def test_panel_labels_are_unique_and_types_tidy():
    p = wk.panel(["Groningen", "PV20", "NL01", "Westerkwartier"], "netto_arbeidsparticipatie", 2023)
    names = dict(zip(p["region_code"].astype(str), p["region_name"], strict=True))
    assert names == {
        "GM0014": "Groningen (gemeente)",
        "PV20": "Groningen (provincie)",
        "NL01": "Nederland",
        "GM1969": "Westerkwartier",
    }
    # a pivot by name no longer merges province and municipality
    assert p.pivot_table(index="region_name", values="value", aggfunc="count").shape[0] == 4
    # and each label, given back, means its own region ("Groningen (provincie)" was unknown)
    again = wk.panel(list(names.values()), "netto_arbeidsparticipatie", 2023)
    assert again["region_code"].astype(str).tolist() == list(names)
    assert isinstance(p["region_code"].dtype, pd.CategoricalDtype)
    assert isinstance(p["level"].dtype, pd.CategoricalDtype)
    assert p["missing_reason"].dtype == "string"
    assert p["missing_reason"].isna().all() and p["missing_reason"].iloc[0] is pd.NA


def test_panel_values_equal_the_internal_panel():
    from westerkwartier.indicators.panel import panel

    own = wk.panel(["GM1969"], ["woz_waarde"])
    internal = panel(regions=["GM1969"], indicators=["woz_waarde"])
    assert own["value"].tolist() == internal["value"].tolist()
    assert own.loc[own["year"] == 2024, "value"].item() == 301_000


def test_panel_takes_one_region_and_a_year_written_as_text():
    """Not the letters of the name, not the digits of the year."""
    one = wk.panel("Westerkwartier", "woz_waarde", "2023")
    assert one.equals(wk.panel(["GM1969"], ["woz_waarde"], [2023]))
    assert one["value"].tolist() == [304_000]
    with pytest.raises(InputError, match="geen jaartal"):
        wk.panel("Westerkwartier", "woz_waarde", "twintig")


def test_get_table_works_offline_from_the_snapshot():
    table = wk.get_table("85036NED")
    assert table.table_id.upper() == "85036NED"
    assert table.source == "snapshot"
    assert not table.data.empty


def test_kaart_draws_municipalities_of_a_panel_with_alt_text():
    chart = wk.kaart(wk.panel(None, "woz_waarde", 2024))
    assert chart.alt.startswith("Kaart: Gemiddelde WOZ-waarde van woningen in 2024")
    assert "Bron: CBS, tabel 85036NED" in chart.alt
    assert "Bloemendaal" in chart.alt  # the highest, named in words


def test_kaart_draws_the_wijken_of_a_wijk_frame():
    """wk.kaart(wk.wijken(...)) answered "kaart() heeft ... 'region_code' ... nodig"."""
    frame = wk.wijken("Westerkwartier")
    change = frame[frame["indicator"] == "verandering_aandeel_25_44"]
    chart = wk.kaart(frame, "verandering_aandeel_25_44")
    # a change over the period of the frame, from both tables the change is made of
    assert chart.alt.startswith("Kaart: Verandering aandeel 25 tot 45 jaar in 2020-2024;")
    assert chart.alt.endswith("Bron: CBS, tabellen 84799NED en 85984NED.")
    top = change.sort_values("value", ascending=False).iloc[0]
    assert f"Hoogste: {top['name']} ({fmt_value(top['value'], '%-punt', 1)})" in chart.alt
    assert " %-punt)" in chart.alt and "% -punt" not in chart.alt
    missing = change.loc[change["value"].isna(), "name"]
    assert len(missing) and f"Geen cijfer: {', '.join(missing)}." in chart.alt
    # an island with one wijk: that wijk, not "highest" and "lowest" at once
    island = wk.wijken("Ameland")
    one = island[island["indicator"] == "aandeel_65plus"]
    assert len(one) == 1
    alone = wk.kaart(island, "aandeel_65plus").alt
    assert f"{one['name'].item()}: {fmt_value(one['value'].item(), '%', 1)}." in alone
    assert "Hoogste" not in alone


def test_kaart_refuses_frames_it_cannot_draw():
    with pytest.raises(InputError, match="region_code"):
        wk.kaart(pd.DataFrame({"x": [1]}))
    # an indicator's name where the frame goes: the message shows the call that works
    with pytest.raises(InputError) as named:
        wk.kaart("immigratie_per_1000", 2023)
    assert "kaart(wk.panel(indicators='immigratie_per_1000'))" in str(named.value)
    chart = wk.kaart(wk.panel(indicators="immigratie_per_1000"))  # the call it proposes works
    assert chart.alt.startswith("Kaart: Immigratie per 1.000 inwoners in 2023")
    frame = wk.panel(["GM1969"], ["woz_waarde", "verkoopprijs"], 2024)
    with pytest.raises(InputError, match="meer indicatoren"):
        wk.kaart(frame)


def test_map_legend_stays_clear_of_the_source_line():
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    chart = wk.kaart(wk.panel(None, "woz_waarde", 2024))
    fig = chart.figure
    canvas = FigureCanvasAgg(fig)
    fig.draw_without_rendering()
    renderer = canvas.get_renderer()
    legend = chart.ax.get_legend().get_window_extent(renderer)
    source = fig._supxlabel.get_window_extent(renderer)
    assert not legend.overlaps(source)
    assert source.y1 <= legend.y0


def test_map_legend_is_titled_with_the_indicator_and_its_unit():
    """The title above the classes said what the last class said ("5,5–7,9 (per 1.000
    inwoners)" on Ameland's map of the domestic balance): the loop over the classes wrote its
    range into the name that held the indicator's label."""
    chart = wk.kaart(wk.panel(None, "woz_waarde", 2024))
    legend = chart.ax.get_legend()
    assert legend.get_title().get_text() == "Gemiddelde WOZ-waarde van woningen (euro)"
    assert legend.get_title().get_text() not in [t.get_text() for t in legend.get_texts()]
    frame = wk.panel(None, "binnenlands_migratiesaldo_per_1000", 2023)
    balance = wk.kaart(frame[frame["region_code"].str.startswith("GM")]).ax.get_legend()
    # the unit is in the name already: not twice
    assert balance.get_title().get_text() == "Binnenlands verhuissaldo per 1.000 inwoners"


def test_map_legend_writes_negative_classes_with_tot():
    """Oldambt's map of the domestic balance said "-602,1--3,6" (Westerwolde's Ter Apel
    balance is the lowest class): a dash between two minus signs reads as a subtraction."""
    frame = wk.panel(None, "binnenlands_migratiesaldo_per_1000", 2023)
    chart = wk.kaart(frame[frame["region_code"].str.startswith("GM")])
    labels = [t.get_text() for t in chart.ax.get_legend().get_texts()]
    lowest = frame.loc[frame["region_code"].str.startswith("GM"), "value"].min()
    assert labels[0].startswith(f"{fmt_number(lowest, 1)} tot -")
    assert not any("--" in label or "–-" in label for label in labels)
    assert any("–" in label for label in labels)  # positive classes keep their dash


def test_old_module_names_still_import_with_a_warning():
    sys.modules.pop("westerkwartier.findings", None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        old = importlib.import_module("westerkwartier.findings")
    assert any("westerkwartier.reporting" in str(w.message) for w in caught)
    from westerkwartier.reporting.report_data import load_report_data

    assert old.load_report_data is load_report_data
    with pytest.raises(AttributeError, match="geen"):
        _ = old.bestaat_niet
