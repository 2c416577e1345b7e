"""Rule *saldo*: a flow's difference does not count where its balance points the other way.

Before the rule, Schiermonnikoog's talent report said on page 1 that its immigration (53,2
per 1.000 inhabitants in 2023) was "gunstig", higher than everywhere, and two lines above
that its foreign migration balance (1,0) was an "aandachtspunt", lower than everywhere:
nearly as many people left for abroad (52,2) as came.
"""

from __future__ import annotations

import pytest

from westerkwartier import settings
from westerkwartier.analysis import rules
from westerkwartier.analysis.comparison import (
    Comparison,
    Observation,
    ScoreRow,
    Trend,
    balance_checked,
    compare_values,
)
from westerkwartier.reporting.findings import finding_text

FLOW, BALANCE = "immigratie_per_1000", "migratiesaldo_buitenland_per_1000"
UNIT = "per 1 000 inwoners"
SUBJECT = "de immigratie per 1.000 inwoners"


def _versus(name: str, own: float, other: float, year: int = 2023) -> Comparison:
    return compare_values(
        Observation(2023, own),
        Observation(year, other),
        name=name,
        unit=UNIT,
        direction="higher_is_better",
    )


def _row(indicator: str, own: float, province: float, nederland: float, **kw) -> ScoreRow:
    return ScoreRow(
        indicator,
        indicator,
        "aantrekken",
        UNIT,
        "higher_is_better",
        False,
        Observation(2023, own),
        None,
        kw.get("province_versus") or _versus("de provincie Fryslân", own, province),
        _versus("Nederland", own, nederland),
        Trend("onbekend"),
        "37259eng",
    )


def test_a_flow_does_not_count_against_a_benchmark_where_its_balance_points_the_other_way():
    flow = _row(FLOW, 53.2, 9.4, 18.8)
    # the balance is higher than the province's but lower than Nederland's
    balance = _row(BALANCE, 1.0, 0.5, 7.7)
    checked, same = balance_checked([flow, balance])
    assert same == balance
    assert checked.nederland.basis == rules.BALANCE and checked.nederland.balance == "lager"
    assert not checked.nederland.counts and checked.nederland.tone == "neutraal"
    assert checked.province == flow.province and checked.province.counts
    assert checked.tone == "gunstig"  # the province's difference still counts
    text = finding_text(checked, SUBJECT)
    assert text.endswith(
        "is hoger dan in de provincie Fryslân (9,4); ook hoger dan in Nederland (18,8), maar "
        "het buitenlands migratiesaldo is lager dan daar."
    )
    # against every benchmark: no verdict, and one clause
    alone = balance_checked([flow, _row(BALANCE, 1.0, 2.9, 7.7)])[0]
    assert alone.tone == "neutraal"
    assert "is hoger dan in de provincie Fryslân (9,4) en in Nederland (18,8), maar het " in (
        finding_text(alone, SUBJECT)
    )


def test_only_a_balance_that_counts_in_the_same_year_and_place_decides():
    flow = _row(FLOW, 53.2, 9.4, 18.8)
    # within the margins (here: a province figure rounded so that it may equal 1,0)
    loose = Comparison("de provincie Fryslân", Observation(2023, 2.9), "lager", False, "neutraal")
    kept = balance_checked([flow, _row(BALANCE, 1.0, 2.9, 0.5, province_versus=loose)])[0]
    assert kept.province == flow.province  # and Nederland's balance (0,5) agrees with the flow
    assert kept.nederland == flow.nederland
    # another year, another benchmark (the province without a municipality), or no balance
    other_year = _row(BALANCE, 1.0, 2.9, 7.7)
    other_year = ScoreRow(
        **{**vars(other_year), "nederland": _versus("Nederland", 1.0, 7.7, year=2022)}
    )
    assert balance_checked([flow, other_year])[0].nederland == flow.nederland
    other_place = _row(BALANCE, 1.0, 2.9, 7.7)
    other_place = ScoreRow(
        **{**vars(other_place), "province": _versus("de Fryslân zonder Leeuwarden", 1.0, 2.9)}
    )
    assert balance_checked([flow, other_place])[0].province == flow.province
    assert balance_checked([flow]) == [flow]


def test_the_scorecard_says_which_way_the_balance_points():
    from westerkwartier.reporting import sections

    flow = balance_checked([_row(FLOW, 53.2, 9.4, 18.8), _row(BALANCE, 1.0, 2.9, 7.7)])[0]
    cell = sections._versus_cell(flow, flow.nederland)
    assert cell.note == "hoger, maar saldo lager"  # no margin: rounding has no say here


@pytest.mark.mirror
def test_schiermonnikoogs_immigration_against_its_balance_from_the_raw_counts(
    monkeypatch, population_2023
):
    """Immigration, emigration and their balance per 1.000 inhabitants in 2023, from the raw
    37259eng, against the talent report of Schiermonnikoog (GM0088)."""
    from westerkwartier.reporting import sections
    from westerkwartier.reporting.report_data import load_report_data

    monkeypatch.setattr(settings, "offline", True)
    raw, mean = population_2023
    immigration = 1000 * raw["DueToImmigration_10"] / mean
    emigration = 1000 * raw["DueToEmigrationIncludingAdministr_14"] / mean
    balance = immigration - emigration
    assert round(immigration["GM0088"], 1) == 53.2 and round(emigration["GM0088"], 1) == 52.2
    assert immigration["GM0088"] > immigration["NL01"] and balance["GM0088"] < balance["NL01"]

    data = load_report_data("talent", "Schiermonnikoog", peildatum="2026-11-27")
    rows = {r.indicator: r for r in data.rows}
    flow, saldo = rows[FLOW], rows[BALANCE]
    assert flow.own.value == pytest.approx(immigration["GM0088"])
    assert saldo.own.value == pytest.approx(balance["GM0088"])
    assert saldo.nederland.other.value == pytest.approx(balance["NL01"])
    for versus in flow.comparisons:  # higher than all three, its balance lower than all three
        assert versus.word == "hoger" and versus.basis == rules.BALANCE and not versus.counts
    assert flow.tone == "neutraal" and saldo.tone == "ongunstig"
    assert "maar het buitenlands migratiesaldo is lager dan daar" in finding_text(flow)
    # the domestic flows: more came than elsewhere, but on balance fewer stayed; more left,
    # which the balance agrees with
    arrivals = rows["vestiging_andere_gemeente_per_1000"]
    departures = rows["vertrek_andere_gemeente_per_1000"]
    assert arrivals.nederland.basis == rules.BALANCE and arrivals.tone == "neutraal"
    assert departures.nederland.counts and departures.tone == "ongunstig"
    caption = str(sections.scorekaart(data, flow.section)).split("</caption>")[0]
    assert "'Maar saldo lager' of 'maar saldo hoger'" in caption
    assert not any(f.tone == "gunstig" and f.indicator == FLOW for f in data.findings)
