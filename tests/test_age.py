"""Survey differences at the same age structure (rule *leeftijd*).

A young student city has fewer adults with a chronic condition than its province because it
is young. The Gezondheidsmonitor gives each figure for 18 to 65 and for 65 or older; a
significant difference with the province or Nederland counts only when it holds with the
benchmark's share of older adults. The first part tests the pieces on hand-made values, the
second Groningen 2022 against the mirror's raw 85563NED, read here with plain pandas.
"""

from __future__ import annotations

import pandas as pd
import pytest

from westerkwartier import settings
from westerkwartier.analysis.age import MIN_SPREAD, at_age_structure, older_share
from westerkwartier.analysis.comparison import (
    Comparison,
    Observation,
    ScoreRow,
    Trend,
    age_checked,
)
from westerkwartier.errors import InputError
from westerkwartier.indicators.catalogue import check_catalogue, load_catalogue
from westerkwartier.indicators.needs import table_needs
from westerkwartier.reporting.findings import finding_text

YOUNG, OLD = "18 tot 65 jaar", "65 jaar of ouder"


# -- the pieces ---------------------------------------------------------------------------------
def test_every_survey_indicator_has_its_two_age_groups_as_variants():
    cat = load_catalogue()
    survey = [i.id for i in cat if i.margins_operand is not None]
    assert len(survey) == 11
    assert all(cat[i].age_groups == (YOUNG, OLD) for i in survey)
    variant = cat["overgewicht@65 jaar of ouder"]
    assert variant.operands["pct"].select["Leeftijd"] == (OLD,)
    assert variant.operands["pct"].topics == cat["overgewicht"].operands["pct"].topics
    assert "overgewicht@65 jaar of ouder" not in [i.id for i in cat]  # no indicator of its own
    with pytest.raises(InputError, match="geen leeftijdsgroep '12 tot 18 jaar'"):
        cat["overgewicht@12 tot 18 jaar"]


def test_age_groups_need_an_age_selection():
    raw = {
        "tables": {"85563NED": {"title": "x"}},
        "indicator": [
            {
                "id": "x",
                "operands": {
                    "pct": {"tables": ["85563NED"], "cbs_unit": "%", "topic": "T"},
                },
            }
        ],
    }
    raw["indicator"][0]["operands"]["pct"]["age_groups"] = [YOUNG, OLD]
    assert any("age_groups vraagt select" in p for p in check_catalogue(raw))
    raw["indicator"][0]["operands"]["pct"]["select"] = {"Leeftijd": "Totaal"}
    assert not any("age_groups" in p for p in check_catalogue(raw))


def test_cbs_is_asked_for_the_age_groups_of_the_survey_tables():
    needs = table_needs()
    for table in ("85563NED", "85012NED", "86137NED"):
        assert needs[table].select["Leeftijd"] == (YOUNG, OLD, "Totaal")


def test_the_share_of_older_adults_is_read_back_from_the_groups():
    def frame(groups, share):
        rows = []
        for ind, young, old in groups:
            total = (1 - share) * young + share * old
            rows += [("X", ind, total), ("X", f"{ind}@{YOUNG}", young), ("X", f"{ind}@{OLD}", old)]
        return pd.DataFrame(rows, columns=["region_code", "indicator", "value"]).assign(year=2022)

    apart = [("a", 28.0, 47.0), ("b", 50.0, 58.0), ("c", 20.0, 10.0)]
    assert older_share(frame(apart, 0.25))[("X", 2022)] == pytest.approx(0.25)
    close = [("a", 28.0, 29.0), ("b", 50.0, 51.0), ("c", 20.0, 19.0)]  # say nothing of a share
    assert 3 * 1.0**2 < MIN_SPREAD and older_share(frame(close, 0.25)) == {}


def test_the_mixed_figure_has_an_interval_from_both_groups():
    young = Observation(2022, 30.0, 28.0, 32.0)
    old = Observation(2022, 50.0, 47.0, 53.0)
    value, lower, upper = at_age_structure(young, old, 0.2)
    assert value == pytest.approx(34.0)
    assert value - lower == pytest.approx(((0.8 * 2) ** 2 + (0.2 * 3) ** 2) ** 0.5)
    assert upper - value == pytest.approx(value - lower)
    assert at_age_structure(young, Observation(2022, 50.0), 0.2) is None


def _lower(name: str, other: float, bounds: tuple[float, float]) -> Comparison:
    return Comparison(name, Observation(2022, other, *bounds), "lager", True, "gunstig")


def test_a_difference_counts_only_when_it_holds_at_the_same_ages():
    young, old = Observation(2022, 27.4, 25.3, 29.7), Observation(2022, 46.8, 44.4, 49.2)
    gone = age_checked(_lower("Nederland", 33.0, (32.8, 33.2)), young, old, 0.246)
    assert gone.age_holds is False and not gone.counts and gone.tone == "neutraal"
    assert gone.at_age.value == pytest.approx(0.754 * 27.4 + 0.246 * 46.8)
    held = age_checked(_lower("Nederland", 40.0, (39.8, 40.2)), young, old, 0.246)
    assert held.age_holds is True and held.counts and held.tone == "gunstig"
    other_side = age_checked(_lower("Nederland", 31.0, (30.9, 31.1)), young, old, 0.246)
    assert other_side.age_holds is False  # at the same ages it would be higher, not lower
    not_significant = Comparison("Nederland", Observation(2022, 31.5, 31.3, 31.7), "lager", False,
                                 "neutraal")  # fmt: skip
    assert age_checked(not_significant, young, old, 0.246) is not_significant
    unknown = _lower("Nederland", 33.0, (32.8, 33.2))
    assert age_checked(unknown, young, None, 0.246) is unknown
    assert age_checked(unknown, young, old, None) is unknown


def _row(*comparisons: Comparison) -> ScoreRow:
    peers = Comparison("vergelijkbare gemeenten", Observation(2022, 31.4), "lager", None, "gunstig")
    return ScoreRow(
        "langdurige_aandoening",
        "Een of meer langdurige aandoeningen",
        "gezondheid",
        "%",
        "lower_is_better",
        True,
        Observation(2022, 30.8, 28.9, 32.7),
        None,
        comparisons[0],
        comparisons[1],
        Trend("onbekend"),
        "85563NED",
        peers=peers if len(comparisons) > 2 else None,
    )


def test_the_finding_says_whether_a_difference_holds_at_the_same_ages():
    young, old = Observation(2022, 27.4, 25.3, 29.7), Observation(2022, 46.8, 44.4, 49.2)
    province = age_checked(_lower("de provincie Groningen", 34.3, (33.1, 35.4)), young, old, 0.246)
    nederland = age_checked(_lower("Nederland", 33.0, (32.8, 33.2)), young, old, 0.246)
    text = finding_text(_row(province, nederland))
    assert text == (
        "Een of meer langdurige aandoeningen: 30,8% in 2022; lager dan in de provincie "
        "Groningen (34,3%) en in Nederland (33,0%), maar bij gelijke leeftijdsopbouw niet "
        "significant (dan 32,2% en 32,2%)."
    )
    held = age_checked(_lower("Nederland", 40.0, (39.8, 40.2)), young, old, 0.246)
    text = finding_text(_row(province, held))
    assert "significant lager dan in Nederland (40,0%), ook bij gelijke leeftijdsopbouw" in text
    assert "lager dan in de provincie Groningen (34,3%), maar bij gelijke leeftijdsopbouw" in text
    held_province = age_checked(
        _lower("de provincie Groningen", 40.0, (39.8, 40.2)), young, old, 0.246
    )
    with_peers = finding_text(_row(held_province, held, "peers"))
    assert "significant lager dan in de provincie Groningen (40,0%), in Nederland (40,0%)" in (
        with_peers
    )
    assert with_peers.endswith(
        "; het verschil met de provincie Groningen en Nederland blijft ook bij gelijke "
        "leeftijdsopbouw."
    )


# -- Groningen 2022 against the mirror ----------------------------------------------------------
#: The columns of 85563NED behind the catalogue's survey indicators (percentages of adults).
COLUMNS = (
    "ErvarenGezondheidGoedZeerGoed_1",
    "AngstOfDepressiegevoelensAfg4Wk_2",
    "PsychischeKlachtenAfgelopen4Weken_3",
    "EenOfMeerLangdurigeAandoeningen_4",
    "Overgewicht_7",
    "VoldoetAanBeweegrichtlijn_10",
    "WekelijkseSporters_11",
    "Mantelzorger_12",
    "ZwaarBelasteMantelzorgers_13",
    "Rokers_15",
    "OvermatigeDrinkersOnderBevolking_17",
)


def _raw(mirror) -> pd.DataFrame:
    frame = pd.read_csv(mirror / "tables" / "85563NED.csv", sep=";", encoding="utf-8-sig")
    return frame.assign(RegioS=frame["RegioS"].str.strip(), Leeftijd=frame["Leeftijd"].str.strip())


def _cell(raw: pd.DataFrame, region: str, age: str, margin: str, column: str) -> float:
    hit = raw[(raw["RegioS"] == region) & (raw["Leeftijd"] == age) & (raw["Marges"] == margin)]
    assert len(hit) == 1
    return float(hit[column].iloc[0])


@pytest.mark.mirror
def test_groningens_fewer_chronic_conditions_go_with_its_age_and_its_less_overweight_not(
    mirror, monkeypatch
):
    from westerkwartier.reporting.formatting import fmt_short
    from westerkwartier.reporting.report_data import load_report_data
    from westerkwartier.reporting.sections import _versus_cell

    raw = _raw(mirror)
    monkeypatch.setattr(settings, "offline", True)
    data = load_report_data("aantrekkelijkheid", "Groningen", peildatum="2026-11-27")
    rows = {r.indicator: r for r in data.rows}

    def share(region: str) -> float:  # least squares over the catalogue's columns, as CBS gives
        pairs = []
        for column in COLUMNS:
            t, y, o = (_cell(raw, region, age, "Waarde", column) for age in ("Totaal", YOUNG, OLD))
            pairs.append((t - y, o - y))
        return sum(a * b for a, b in pairs) / sum(b * b for _, b in pairs)

    def mixed(column: str, weight: float) -> tuple[float, float, float]:
        own = {
            (age, m): _cell(raw, "Groningen (gemeente)", age, m, column)
            for age in (YOUNG, OLD)
            for m in ("Waarde", "Ondergrens 95%-interval", "Bovengrens 95%-interval")
        }
        w = {YOUNG: 1 - weight, OLD: weight}
        value = sum(w[a] * own[(a, "Waarde")] for a in w)
        below = sum((w[a] * (own[(a, "Waarde")] - own[(a, "Ondergrens 95%-interval")])) ** 2
                    for a in w) ** 0.5  # fmt: skip
        above = sum((w[a] * (own[(a, "Bovengrens 95%-interval")] - own[(a, "Waarde")])) ** 2
                    for a in w) ** 0.5  # fmt: skip
        return value, value - below, value + above

    chronic = rows["langdurige_aandoening"]
    for comp, region in ((chronic.province, "Groningen (PV)"), (chronic.nederland, "Nederland")):
        assert comp.word == "lager" and comp.significant is True  # 30,8% against 34,3% / 33,0%
        value, lower, upper = mixed("EenOfMeerLangdurigeAandoeningen_4", share(region))
        assert comp.at_age.value == pytest.approx(value, abs=1e-9)
        assert (comp.at_age.lower, comp.at_age.upper) == pytest.approx((lower, upper), abs=1e-9)
        bench_low = _cell(raw, region, "Totaal", "Ondergrens 95%-interval",
                          "EenOfMeerLangdurigeAandoeningen_4")  # fmt: skip
        assert upper >= bench_low  # the intervals meet: at the same ages no difference
        assert comp.age_holds is False and not comp.counts
    assert chronic.tone == "neutraal"
    then = fmt_short(chronic.nederland.at_age.value, "%")
    cell = _versus_cell(chronic, chronic.nederland)
    assert cell.note == f"significant lager, maar niet bij gelijke leeftijdsopbouw ({then})"

    overweight = rows["overgewicht"]
    for comp, region in (
        (overweight.province, "Groningen (PV)"),
        (overweight.nederland, "Nederland"),
    ):
        value, lower, upper = mixed("Overgewicht_7", share(region))
        assert comp.at_age.value == pytest.approx(value, abs=1e-9)
        bench_low = _cell(raw, region, "Totaal", "Ondergrens 95%-interval", "Overgewicht_7")
        assert upper < bench_low and comp.age_holds is True and comp.counts
    assert overweight.tone == "gunstig"
    finding = next(f.text for f in data.findings if f.indicator == "overgewicht")
    assert (
        "is significant lager dan in de provincie Groningen (51,0%) en in Nederland (50,3%), "
        "ook bij gelijke leeftijdsopbouw" in finding
    )
