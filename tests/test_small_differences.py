"""Rule *klein*: a difference smaller than a tenth of the spread between municipalities.

Before the rule, one of Aa en Hunze's five main findings called its departures to other
municipalities (45,9 per 1.000 inhabitants in 2023) "hoger dan ... in Nederland (45,8)".
Municipalities' departures lie some 12 per 1.000 apart (the middle half of them), so 0,1 says
nothing; their population growth lies 0,7 percentage points apart, so there 0,4 is a
difference.
"""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from westerkwartier import settings
from westerkwartier.analysis import rules
from westerkwartier.analysis.comparison import (
    Comparison,
    Observation,
    ScoreRow,
    Trend,
    compare_values,
    municipal_spreads,
)
from westerkwartier.reporting.findings import finding_text

DEPARTURES = {"unit": "per 1 000 inwoners", "direction": "lower_is_better"}


def test_a_difference_smaller_than_a_tenth_of_the_spread_does_not_count():
    own, nl = Observation(2023, 45.9), Observation(2023, 45.8)
    small = compare_values(own, nl, name="Nederland", spread=11.9, **DEPARTURES)
    assert small.word == "hoger" and small.significant is False
    assert small.basis == rules.SPREAD and small.tone == "neutraal" and not small.counts
    # without a spread (an analyst's panel of a few regions) the rule is not applied
    plain = compare_values(own, nl, name="Nederland", **DEPARTURES)
    assert plain.counts and plain.tone == "ongunstig" and plain.basis is None
    # a tenth of the spread is enough: 1,2 with a spread of 11,9
    apart = compare_values(Observation(2023, 47.0), nl, name="Nederland", spread=11.9, **DEPARTURES)
    assert apart.counts and apart.tone == "ongunstig"
    growth = {"unit": "%", "direction": "higher_is_better"}
    grew = compare_values(
        Observation(2025, 0.9), Observation(2025, 0.5), name="Nederland", spread=0.71, **growth
    )
    assert grew.counts and grew.tone == "gunstig"
    # margins decide first: a difference within the rounding, small as well, keeps that reason
    rounded = Observation(2023, 8.4, 6.6, 10.3, precision="afronding: tientallen")
    within = compare_values(rounded, Observation(2023, 7.5), name="p", spread=20.0, **DEPARTURES)
    assert within.significant is False and within.basis == "afronding"
    # equal when shown stays "gelijk"
    same = compare_values(Observation(2023, 45.81), nl, name="Nederland", spread=11.9, **DEPARTURES)
    assert same.word == "gelijk"


def test_the_spread_is_the_middle_half_of_the_municipalities():
    codes = [f"GM{i:04d}" for i in range(120)]
    frame = pd.DataFrame(
        {
            "region_code": [*codes, codes[0], "PV20", "NL01", *codes],
            "level": ["gemeente"] * 121 + ["provincie", "land"] + ["gemeente"] * 120,
            "indicator": ["x"] * 123 + ["y"] * 120,
            "year": 2023,
            "value": [*range(120), 999.0, 1e6, -1e6, *[i if i < 99 else None for i in range(120)]],
        }
    )
    spreads = municipal_spreads(frame, ["x", "y"])
    # x: the municipalities 0..119 once each (the duplicate row, province and country left out)
    assert spreads == {("x", 2023): pytest.approx(89.25 - 29.75)}
    # y: only 99 municipalities have a value, fewer than the rule asks
    assert ("y", 2023) not in spreads
    assert rules.MIN_SPREAD_MUNICIPALITIES == 100


def _row(province: Comparison, nederland: Comparison, peers: Comparison | None = None) -> ScoreRow:
    return ScoreRow(
        "aandeel_15_24",
        "Aandeel 15-24-jarigen",
        "aantrekken",
        "%",
        "higher_is_better",
        False,
        Observation(2025, 11.0),
        None,
        province,
        nederland,
        Trend("onbekend"),
        "03759ned",
        peers=peers,
    )


def _versus(name: str, value: float, spread: float) -> Comparison:
    return compare_values(
        Observation(2025, 11.0),
        Observation(2025, value),
        name=name,
        unit="%",
        direction="higher_is_better",
        spread=spread,
    )


def test_the_finding_and_the_scorecard_say_the_difference_is_small():
    from westerkwartier.reporting.sections import _versus_cell

    province = _versus("de provincie Groningen", 15.4, 1.6)
    nederland = _versus("Nederland", 12.2, 1.6)
    peers = _versus("vergelijkbare gemeenten", 11.1, 1.6)
    text = finding_text(_row(province, nederland, peers))
    assert text.endswith(
        "lager dan in de provincie Groningen (15,4%) en in Nederland (12,2%); het verschil met "
        "vergelijkbare gemeenten (mediaan 11,1%) is klein."
    )
    alone = finding_text(_row(_versus("de provincie Groningen", 11.1, 1.6), nederland))
    assert "lager dan in Nederland (12,2%); het verschil met de provincie Groningen (11,1%) is" in (
        alone
    )
    only_small = finding_text(
        _row(_versus("de provincie Groningen", 11.1, 1.6), _versus("Nederland", 11.1, 1.6))
    )
    assert only_small.endswith(
        "verschilt weinig van de waarde in de provincie Groningen (11,1%) en in Nederland (11,1%)."
    )
    # the scorecard names no margin: the peers' rounding has nothing to do with it
    rounded = Observation(2025, 11.1, 11.05, 11.15, precision="afronding: tientallen")
    small = Comparison("vergelijkbare gemeenten", rounded, "lager", False, "neutraal", rules.SPREAD)
    assert _versus_cell(_row(province, nederland, small), small).note == "verschil is klein"
    assert _versus_cell(_row(province, nederland, peers), province).note == "lager"


@pytest.mark.mirror
def test_aa_en_hunzes_departures_are_as_nederlands_by_the_spread_of_the_raw_counts(
    monkeypatch, population_2023
):
    """Departures to other municipalities per 1.000 inhabitants in 2023, from the raw 37259eng:
    Aa en Hunze 45,9 against Nederland's 45,8, with the municipalities' interquartile range."""
    from westerkwartier.indicators.panel_cache import national_panel
    from westerkwartier.reporting.report_data import load_report_data
    from westerkwartier.sources.regions import load_registry

    monkeypatch.setattr(settings, "offline", True)
    raw, mean = population_2023
    rate = 1000 * raw["DueToIntermunicipalMoves_16"] / mean
    current = set(load_registry().municipalities()["code"])
    municipal = rate[[c for c in rate.index if c in current]]
    q1, q3 = municipal.quantile([0.25, 0.75])
    departures = "vertrek_andere_gemeente_per_1000"
    spreads = municipal_spreads(national_panel([departures]), [departures])
    assert spreads[(departures, 2023)] == pytest.approx(q3 - q1)

    data = load_report_data("talent", "Aa en Hunze", peildatum="2026-11-27")
    row = next(r for r in data.rows if r.indicator == departures)
    assert row.own.value == pytest.approx(rate["GM1680"])
    assert row.nederland.other.value == pytest.approx(rate["NL01"])
    assert (round(rate["GM1680"], 1), round(rate["NL01"], 1)) == (45.9, 45.8)
    assert abs(rate["GM1680"] - rate["NL01"]) < rules.SMALL_SHARE * (q3 - q1)
    assert row.nederland.basis == rules.SPREAD and not row.nederland.counts
    # Drenthe's 41,1 is a difference, but rule saldo leaves it uncounted: Aa en Hunze's
    # domestic balance (5,7) is higher than Drenthe's (5,0), so more came than left
    assert row.province.basis == rules.BALANCE and row.province.balance == "hoger"
    assert finding_text(row).startswith(
        "Vertrek naar andere gemeenten per 1.000 inwoners: 45,9 in 2023; verschilt weinig van "
        "de waarde in Nederland (45,8); hoger dan in de provincie Drenthe (41,1) en bij "
        "vergelijkbare gemeenten (mediaan 42,1), maar het binnenlands verhuissaldo is hoger "
        "dan daar."
    )
    # the scorecard's caption says what the words in its cell mean
    from westerkwartier.reporting import sections

    caption = str(sections.scorekaart(data, row.section)).split("</caption>")[0]
    assert "'Verschil is klein': minder dan een tiende van de spreiding" in caption


def test_the_spreads_are_worked_out_once_per_data_version(monkeypatch):
    """A report reads the spreads; only new data (a new fingerprint) make them again."""
    from westerkwartier.indicators import panel_cache
    from westerkwartier.reporting import report_data
    from westerkwartier.reporting.report_catalogue import ReportSpec, Section

    spec = ReportSpec("proef", "Proef", "proef.ipynb", "x", (), (Section("s", "S", ("x",)),))
    values = [float(i) for i in range(101)]
    national = pd.DataFrame(
        {
            "region_code": [f"GM{i:04d}" for i in range(101)],
            "level": "gemeente",
            "indicator": "x",
            "year": 2023,
            "value": values,
        }
    )
    built: list[tuple[str, ...]] = []
    monkeypatch.setattr(
        report_data, "national_panel", lambda ids: built.append(tuple(ids)) or national.copy()
    )
    monkeypatch.setattr(settings, "panel_cache", True)
    monkeypatch.setattr(panel_cache, "data_fingerprint", lambda: "versie1")
    monkeypatch.setattr(report_data, "_spreads", {})
    assert report_data.report_spreads(spec) == {("x", 2023): 50.0}
    assert built == [("x",)]
    kept = settings.cache_dir / report_data.SPREADS_DIR / "versie1" / "proef"
    assert (kept / "index.json").is_file()
    report_data._spreads.clear()  # a new kernel on the same data reads the cache folder
    assert report_data.report_spreads(spec) == {("x", 2023): 50.0} and len(built) == 1
    shutil.rmtree(kept)  # the same kernel keeps them in memory
    report_data.report_spreads(spec)["x", 2023] = 0.0  # a copy: the caller may change it
    assert report_data.report_spreads(spec) == {("x", 2023): 50.0} and len(built) == 1
    # new data: worked out again, from the new panel
    national["value"] = [v * 2 for v in values]
    monkeypatch.setattr(panel_cache, "data_fingerprint", lambda: "versie2")
    assert report_data.report_spreads(spec) == {("x", 2023): 100.0} and len(built) == 2
