"""Survey differences at the same age structure (rule *leeftijd*).

A young student city has fewer adults with a chronic condition than its province because it
is young. The Gezondheidsmonitor gives each figure for 18 to 65 and for 65 or older; a
significant difference with the province or Nederland counts only when it holds with the
benchmark's share of older adults. The first part tests the pieces on hand-made values, the
second Groningen 2022 against the mirror's raw 85563NED, read here with plain pandas.
"""

from __future__ import annotations

from dataclasses import replace

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


def test_the_figure_moves_with_the_mix_and_keeps_its_own_interval_widened():
    total = Observation(2022, 34.0, 32.0, 36.5)
    young, old = Observation(2022, 30.0, 28.0, 32.0), Observation(2022, 50.0, 47.0, 53.0)
    value, lower, upper = at_age_structure(total, young, old, 0.2, 0.3)
    assert value == pytest.approx(34.0 + 0.1 * (50.0 - 30.0))
    spread = 0.1 * (2.0**2 + 3.0**2) ** 0.5  # the groups' half-widths, times the shares' gap
    assert value - lower == pytest.approx((2.0**2 + spread**2) ** 0.5)
    assert upper - value == pytest.approx((2.5**2 + spread**2) ** 0.5)
    # the same mix: the figure and its interval as they are, not the wider groups' intervals
    assert at_age_structure(total, young, old, 0.25, 0.25) == pytest.approx((34.0, 32.0, 36.5))
    assert at_age_structure(total, young, Observation(2022, 50.0), 0.2, 0.3) is None


OWN = Observation(2022, 30.8, 28.9, 32.7)
YOUNG_OLD = (Observation(2022, 27.4, 25.3, 29.7), Observation(2022, 46.8, 44.4, 49.2))
SHARES = (0.18, 0.246)  # Groningen's share of adults aged 65 or older, and Nederland's


def _lower(name: str, other: float, bounds: tuple[float, float]) -> Comparison:
    return Comparison(name, Observation(2022, other, *bounds), "lager", True, "gunstig")


def _checked(comparison: Comparison, shares=SHARES, groups=YOUNG_OLD) -> Comparison:
    return age_checked(comparison, OWN, *groups, shares)


def test_a_difference_counts_only_when_it_holds_at_the_same_ages():
    gone = _checked(_lower("Nederland", 33.0, (32.8, 33.2)))
    assert gone.age_holds is False and not gone.counts and gone.tone == "neutraal"
    assert gone.at_age.value == pytest.approx(30.8 + (0.246 - 0.18) * (46.8 - 27.4))
    held = _checked(_lower("Nederland", 40.0, (39.8, 40.2)))
    assert held.age_holds is True and held.counts and held.tone == "gunstig"
    older = _checked(_lower("Nederland", 31.5, (31.4, 31.6)), shares=(0.18, 0.40))
    assert older.age_holds is False  # with Nederland's older mix it would be higher, not lower
    assert older.at_age.value > 31.6
    same = _checked(_lower("Nederland", 33.0, (32.8, 33.2)), shares=(0.246, 0.246))
    assert same.age_holds is True and same.at_age.value == pytest.approx(30.8)
    not_significant = replace(_lower("Nederland", 31.5, (31.3, 31.7)), significant=False)
    assert _checked(not_significant) is not_significant
    unknown = _lower("Nederland", 33.0, (32.8, 33.2))
    assert _checked(unknown, groups=(YOUNG_OLD[0], None)) is unknown
    assert _checked(unknown, shares=(None, 0.246)) is unknown
    assert _checked(unknown, shares=(0.18, None)) is unknown


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
    province = _checked(_lower("de provincie Groningen", 34.3, (33.1, 35.4)))
    nederland = _checked(_lower("Nederland", 33.0, (32.8, 33.2)))
    text = finding_text(_row(province, nederland))
    assert text == (
        "Een of meer langdurige aandoeningen: 30,8% in 2022; lager dan in de provincie "
        "Groningen (34,3%; 95%-interval 33,1–35,4%) en in Nederland (33,0%), maar bij gelijke "
        "leeftijdsopbouw niet significant (dan 32,1%; 95%-interval 30,2–34,0%)."
    )
    # both benchmarks inside the moved figure's interval: the figure alone says why
    inside = _checked(_lower("Nederland", 33.0, (32.8, 33.2)), shares=(0.18, 0.25))
    text = finding_text(_row(nederland, inside))
    assert text.endswith("maar bij gelijke leeftijdsopbouw niet significant (dan 32,1% en 32,2%).")
    held = _checked(_lower("Nederland", 40.0, (39.8, 40.2)))
    text = finding_text(_row(province, held))
    assert "significant lager dan in Nederland (40,0%), ook bij gelijke leeftijdsopbouw" in text
    assert (
        "lager dan in de provincie Groningen (34,3%; 95%-interval 33,1–35,4%), maar bij gelijke "
        "leeftijdsopbouw niet significant" in text
    )
    held_province = _checked(_lower("de provincie Groningen", 40.0, (39.8, 40.2)))
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
    from westerkwartier.reporting.downloads import AGE_ROLE, figures_frame
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

    def moved(column: str, region: str) -> tuple[float, float, float]:
        """Groningen's figure with the region's share of older adults, and its bounds."""
        own = {
            (age, m): _cell(raw, "Groningen (gemeente)", age, m, column)
            for age in ("Totaal", YOUNG, OLD)
            for m in ("Waarde", "Ondergrens 95%-interval", "Bovengrens 95%-interval")
        }
        gap = share(region) - share("Groningen (gemeente)")
        value = own[("Totaal", "Waarde")] + gap * (own[(OLD, "Waarde")] - own[(YOUNG, "Waarde")])
        halves = [
            (own[(a, "Bovengrens 95%-interval")] - own[(a, "Ondergrens 95%-interval")]) / 2
            for a in (YOUNG, OLD)
        ]
        spread = abs(gap) * (halves[0] ** 2 + halves[1] ** 2) ** 0.5
        below = own[("Totaal", "Waarde")] - own[("Totaal", "Ondergrens 95%-interval")]
        above = own[("Totaal", "Bovengrens 95%-interval")] - own[("Totaal", "Waarde")]
        return (
            value,
            value - (below**2 + spread**2) ** 0.5,
            value + (above**2 + spread**2) ** 0.5,
        )

    chronic = rows["langdurige_aandoening"]
    for comp, region in ((chronic.province, "Groningen (PV)"), (chronic.nederland, "Nederland")):
        assert comp.word == "lager" and comp.significant is True  # 30,8% against 34,3% / 33,0%
        value, lower, upper = moved("EenOfMeerLangdurigeAandoeningen_4", region)
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
        value, lower, upper = moved("Overgewicht_7", region)
        assert comp.at_age.value == pytest.approx(value, abs=1e-9)
        assert (comp.at_age.lower, comp.at_age.upper) == pytest.approx((lower, upper), abs=1e-9)
        bench_low = _cell(raw, region, "Totaal", "Ondergrens 95%-interval", "Overgewicht_7")
        assert upper < bench_low and comp.age_holds is True and comp.counts
    assert overweight.tone == "gunstig"
    finding = next(f.text for f in data.findings if f.indicator == "overgewicht")
    assert (
        "is significant lager dan in de provincie Groningen (51,0%) en in Nederland (50,3%), "
        "ook bij gelijke leeftijdsopbouw" in finding
    )

    # the downloads hold the figures behind the sentence: the groups and the moved figure
    frame = figures_frame(data)
    chronic_rows = frame[frame["indicator"].str.startswith("langdurige_aandoening")]
    for age in (YOUNG, OLD):
        group = chronic_rows[chronic_rows["indicator"] == f"langdurige_aandoening@{age}"]
        assert len(group) == 1 and group["regio_code"].iloc[0] == "GM0014"
        assert group["jaar"].iloc[0] == 2022 and group["omschrijving"].iloc[0].endswith(f"({age})")
        cbs = _cell(raw, "Groningen (gemeente)", age, "Waarde", "EenOfMeerLangdurigeAandoeningen_4")
        assert group["waarde"].iloc[0] == pytest.approx(cbs, abs=1e-9)
    moved_rows = chronic_rows[chronic_rows["rol"].str.startswith(AGE_ROLE)]
    assert list(moved_rows["rol"]) == [
        f"{AGE_ROLE} provincie Groningen",
        f"{AGE_ROLE} Nederland",
    ]
    assert moved_rows["waarde"].iloc[1] == pytest.approx(chronic.nederland.at_age.value)
    assert moved_rows["ondergrens"].iloc[1] == pytest.approx(chronic.nederland.at_age.lower)
