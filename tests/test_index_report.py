"""Unit tests of the index, peer and ambitions sections on small hand-made frames."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace as NS

import numpy as np
import pandas as pd
import pytest

from westerkwartier import settings
from westerkwartier.reporting import index_sections as ir
from westerkwartier.reporting.figures import rank_interval_chart


def test_number_formats():
    assert ir.fmt_score(0.0831) == "0,08"
    assert ir.fmt_score(-1.547) == "-1,55"
    assert ir.fmt_score(float("nan")) == "niet beschikbaar"
    assert ir.fmt_signed(0.787) == "+0,79"
    assert ir.fmt_signed(-0.032) == "-0,03"
    assert ir.fmt_signed(0.001) == "±0,00"
    assert ir.rank_text({"median_rank": 1234.0, "rank_p05": 119.4, "rank_p95": 180.5}) == (
        "1.234 (119–181)"
    )


def test_choose_from_year_prefers_comparable_indicator_sets():
    w = {"a": 0.5, "b": 0.5}
    used = {2019: {"a"}, 2020: {"a", "b"}, 2021: {"a", "b"}, 2022: {"a", "b"}}
    # 2019 shares only half the weight: the earliest comparable year is 2020.
    assert ir.choose_from_year(used, [2019, 2020, 2021, 2022], 2022, w) == 2020
    # Without a score in 2020 the next comparable year is taken.
    assert ir.choose_from_year(used, [2019, 2021, 2022], 2022, w) == 2021
    # Nothing scored before the year: no decomposition.
    assert ir.choose_from_year(used, [2022], 2022, w) is None
    # Outside the span: not a candidate.
    assert ir.choose_from_year(used, [2019, 2022], 2022, w, span=2) is None


def test_nominal_weights_sum_to_one():
    spec = NS(
        subs=[
            NS(weight=2.0, indicators=[NS(id="a", weight=1.0), NS(id="b", weight=1.0)]),
            NS(weight=1.0, indicators=[NS(id="c", weight=1.0), NS(id="d", weight=1.0)]),
        ]
    )
    w = ir.nominal_weights(spec, ["a", "b", "c"])
    assert w == pytest.approx({"a": 1 / 3, "b": 1 / 3, "c": 1 / 3})
    assert sum(w.values()) == pytest.approx(1.0)


def test_influence_rows_in_dutch_percentages():
    frame = pd.DataFrame(
        {
            "indicator": ["x", "y", "z"],
            "subindex": ["s", "s", "t"],
            "nominal_weight": [0.25, 0.25, 0.5],
            "influence": [0.6, 0.35, 0.05],
            "ratio": [2.4, 1.4, 0.1],
        }
    )
    rows = ir.influence_rows(frame, {"x": "Cijfer X"}, {"s": "Onderdeel S"})
    assert list(rows.columns) == [
        "Indicator",
        "Onderdeel",
        "Gewicht",
        "Werkelijke invloed",
        "Oordeel",
    ]
    assert rows.iloc[0].tolist() == [
        "Cijfer X",
        "Onderdeel S",
        "25,0%",
        "60,0%",
        "weegt zwaarder dan bedoeld",
    ]
    assert rows["Oordeel"].tolist()[1:] == ["ongeveer zoals bedoeld", "weegt lichter dan bedoeld"]
    assert rows.iloc[2]["Onderdeel"] == "t"  # unknown label: the id


def test_decomposition_rows_sorted_and_summed():
    frame = pd.DataFrame(
        {
            "indicator": ["a", "b", "c", "d"],
            "value_from": [1.0, np.nan, 3.0, 4.0],
            "value_to": [2.0, 5.0, 3.0, 4.5],
            "contribution": [0.1, -0.5, 0.004, 0.02],
        }
    )
    units = {"a": "%", "b": "km", "c": "%", "d": "%"}
    rows = ir.decomposition_rows(frame, {"b": "Afstand"}, units, 2019, 2024, max_rows=2)
    assert list(rows.columns) == ["Indicator", "2019", "2024", "Bijdrage aan de verandering"]
    assert rows["Indicator"].tolist() == ["Afstand", "a", "Overige 2 indicatoren samen"]
    assert rows.iloc[0].tolist() == ["Afstand", "niet meegeteld", "5,0 km", "-0,50"]
    assert rows.iloc[1]["Bijdrage aan de verandering"] == "+0,10"
    assert rows.iloc[2]["Bijdrage aan de verandering"] == "+0,02"  # 0.004 + 0.02


def _sens(positions, groups=("peers k=5", "buurgemeenten")):
    return pd.DataFrame(
        {"group": list(groups), "n": [6, 4], "rank": [2, 3], "position": list(positions)}
    )


def test_sensitivity_sentence_stable_changing_and_unknown():
    stable = ir.sensitivity_sentence(_sens(["boven de mediaan"] * 2), "Ons", "de index (2024)")
    assert stable.startswith("De conclusie hangt niet af")
    assert "in elke groep boven de mediaan" in stable
    assert "de 5 meest vergelijkbare gemeenten: plaats 2 van 6" in stable
    changing = ir.sensitivity_sentence(
        _sens(["boven de mediaan", "onder de mediaan"]), "Ons", "de index (2024)"
    )
    assert changing.startswith("De conclusie hangt wel af")
    assert "onder de mediaan van de buurgemeenten" in changing
    unknown = ir.sensitivity_sentence(_sens(["onbekend"] * 2), "Ons", "de index")
    assert "niet na te gaan" in unknown


def _pulse() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "indicator": ["a", "b"],
            "label": ["Werkloosheid", "Nieuwbouw per 1 000 woningen"],
            "unit": ["%", "per 1 000 woningen"],
            "eigenaar": ["Gemeente", "Partner <b>"],
            "huidig_jaar": [2024, np.nan],
            "huidige_waarde": [2.9, np.nan],
            "doel": [2.5, 10.0],
            "doeljaar": [2028, 2030],
            "kloof": [-0.4, np.nan],
            "trend_per_jaar": [-0.46, np.nan],
            "n_jaren": [10, 0],
            "projectie": [0.49, np.nan],
            "projectie_onder": [-0.73, np.nan],
            "projectie_boven": [1.71, np.nan],
            "status": ["op koers", "onbekend"],
        }
    )


def test_pulse_rows_and_sentence():
    rows = ir.pulse_rows(_pulse())
    first = rows.iloc[0]
    assert first["Nu"] == "2,9% (2024)"
    assert first["Doelwaarde"] == "2,5% in 2028"
    assert first["Trend en projectie"] == (
        "rechte lijn door 10 jaar: -0,5 %-punt per jaar; in 2028 0,5% (90%-band -0,7 tot 1,7%)"
    )
    assert first["Verschil met doel"] == "-0,4 %-punt"
    assert first["Status"] == "✓ op koers"
    second = rows.iloc[1]
    assert second["Doel"] == "Nieuwbouw per 1.000 woningen"
    assert second["Nu"] == "geen cijfer"
    assert second["Status"] == "? onbekend" and second["Verschil met doel"] == "onbekend"
    assert list(rows.columns)[-1] == "_status"
    assert ir.pulse_sentence(_pulse(), "Ons", 2026) == (
        "Van de 2 doelen van Ons is er 1 op koers en 1 onbekend (stand van de cijfers in 2026)."
    )


def test_html_table_escapes_and_has_header_cells():
    rows = ir.pulse_rows(_pulse())
    html = ir.html_table(rows, "Doelen <script>", tones=["gunstig", "neutraal"])
    assert html.startswith('<div class="tabel-kader">')
    assert "<caption>Doelen &lt;script&gt;</caption>" in html
    assert html.count('<th scope="col">') == 7  # _status is hidden
    assert html.count('<th scope="row">') == 2
    assert "Partner &lt;b&gt;" in html and "<b>" not in html
    assert '<td class="gunstig">✓ op koers</td>' in html


def test_ambities_without_a_given_file_is_no_section():
    """No file given: nothing at all, even for Westerkwartier, whose example file ships."""
    rapport = NS(
        region=NS(name="Westerkwartier", code="GM1969"),
        peildatum=dt.date(2026, 11, 27),
        ambities=None,
    )
    assert ir.ambities(rapport) is None
    assert (settings.project_dir / "ambities" / "westerkwartier.toml").exists()  # the example


def test_projection_says_its_method_and_years():
    rows = ir.pulse_rows(_pulse())
    for text, n in zip(rows["Trend en projectie"], _pulse()["n_jaren"], strict=True):
        if "te weinig" in text:
            assert f"({int(n)} jaar; minstens 3 nodig)" in text
        else:
            assert f"rechte lijn door {int(n)} jaar" in text or f"laatste {int(n)} jaar" in text


def test_rank_interval_chart_artists_and_alt_text():
    frame = pd.DataFrame(
        {
            "code": ["GM2", "GM1", "GM3"],
            "label": ["Buur (buur)", "Ons", "Peer (peer)"],
            "median_rank": [10.0, 148.0, 1200.0],
            "rank_p05": [4.0, 119.0, 1100.0],
            "rank_p95": [30.0, 180.4, 1300.0],
        }
    )
    chart = rank_interval_chart(
        frame, focus="GM1", title="Index 2024", n_ranked=1342, draws=1000, tables=["T1", "T2"]
    )
    ax = chart.ax
    assert len(ax.collections) == 3  # one interval line per municipality
    assert len(ax.get_lines()) == 3  # one median dot per municipality
    top_down = sorted(zip(ax.get_yticks(), ax.get_yticklabels(), strict=True), reverse=True)
    assert [t.get_text() for _, t in top_down] == ["Buur (buur)", "Ons", "Peer (peer)"]
    bold = [t.get_text() for t in ax.get_yticklabels() if t.get_fontweight() == "bold"]
    assert bold == ["Ons"]
    assert ax.get_xlim() == (0, 1343)
    assert chart.alt.startswith("Intervalgrafiek: Index 2024.")
    assert "uit 1.000 varianten" in chart.alt and "1.342 gemeenten" in chart.alt
    assert "Ons (deze gemeente): mediaan 148, interval 119–180." in chart.alt
    assert chart.alt.endswith("Bron: CBS, tabellen T1 en T2.")


def test_the_score_change_comes_with_nederlands():
    """Tytsjerksteradiel's talent score 'ging van -0,36 naar 0,00 (+0,35)' read as progress;
    Nederland's went from -0,53 to -0,04 in the same years (every score is normalised
    against one fixed year, so a change of the whole country moves them all)."""
    bench = pd.DataFrame({"score": [-0.035034]}, index=pd.Index(["NL01"], name="region_code"))
    data = NS(nederland_from=-0.533287)
    assert ir._nederland_change(data, bench) == (
        "Nederland ging in dezelfde jaren van -0,53 naar -0,04 (+0,50). "
    )
    assert ir._nederland_change(NS(nederland_from=None), bench) == ""
    assert ir._nederland_change(data, bench.drop(index="NL01")) == ""


def test_the_score_change_of_a_report_names_nederlands(monkeypatch):
    from westerkwartier.reporting.report_data import load_report_data

    monkeypatch.setattr(settings, "offline", True)
    rapport = load_report_data("talent", "Tytsjerksteradiel", peildatum="2026-11-27")
    data = ir.load_index_data(rapport)
    assert data.year_from == 2019 and data.nederland_from == pytest.approx(-0.5333, abs=1e-4)
    text = str(ir.bijdragen(data))
    assert "(+0,35). Nederland ging in dezelfde jaren van -0,53 naar -0,04 (+0,50)." in text
