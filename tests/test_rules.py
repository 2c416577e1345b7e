"""Every rule behind a verdict or a finding, each with a case that trips it.

The rules live in :mod:`westerkwartier.analysis.rules`; the comparison functions, the summary,
the index sentences and the ambitions use them. Tiny hand-made values only.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from westerkwartier import settings
from westerkwartier.analysis import rules
from westerkwartier.analysis.ambitions import Ambition, track
from westerkwartier.analysis.comparison import (
    Comparison,
    Observation,
    PeerMedian,
    ScoreRow,
    Trend,
    compare_values,
    scorecard,
    trend,
)
from westerkwartier.analysis.peers import rank_in_group
from westerkwartier.indicators.catalogue import parse_catalogue
from westerkwartier.reporting.findings import finding_text, findings, importance
from westerkwartier.reporting.report_data import run_reference_year

ROUNDED = "afronding: aantallen afgerond op duizendtallen"


def obs(year, value, lower=None, upper=None, precision=None):
    return Observation(year, value, lower, upper, precision=precision)


def none(name="Nederland"):
    return Comparison(name, None, "onbekend", None, "neutraal")


def row(own, province=None, nederland=None, t=None, direction="higher_is_better", **kw):
    return ScoreRow(
        kw.pop("indicator", "x"),
        kw.pop("label", "X"),
        "s",
        kw.pop("unit", "%"),
        direction,
        False,
        own,
        None,
        province or none("de provincie"),
        nederland or none(),
        t or Trend("onbekend"),
        "T1",
        **kw,
    )


def panel_rows(**columns) -> pd.DataFrame:
    """A tidy panel of the given columns; margins, status, source, reason and note filled in."""
    n = len(columns["value"])
    defaults = {
        "lower": [np.nan] * n,
        "upper": [np.nan] * n,
        "status": ["definitief"] * n,
        "source_table": ["T1"] * n,
        "missing_reason": [None] * n,
        "note": [None] * n,
    }
    return pd.DataFrame({**columns, **{k: v for k, v in defaults.items() if k not in columns}})


# -- verschil -----------------------------------------------------------------------------------
def test_difference_within_the_rounding_counts_for_nothing():
    # Tynaarlo 2019: 8 of 17 thousand (40,0-54,5%) against the province's 42,3%
    own = obs(2019, 47.06, 40.0, 54.5, ROUNDED)
    c = compare_values(
        own, obs(2019, 42.34), name="de provincie", unit="%", direction="higher_is_better"
    )
    assert c.word == "hoger"  # the digits differ ...
    assert c.significant is False and c.tone == "neutraal" and not c.counts  # ... the rounding not
    assert c.basis == "afronding"
    # the same difference between exact figures counts
    exact = compare_values(
        obs(2019, 47.06), obs(2019, 42.34), name="p", unit="%", direction="higher_is_better"
    )
    assert exact.counts and exact.tone == "gunstig" and exact.significant is None


def test_difference_beyond_the_rounding_counts():
    own = obs(2024, 64.7, 57.1, 72.7, ROUNDED)
    c = compare_values(own, obs(2024, 50.2), name="p", unit="%", direction="higher_is_better")
    assert c.counts and c.significant is True


def test_equal_when_shown_is_equal():
    word, certain = rules.difference(obs(2024, 74.24), obs(2024, 74.2), "%")
    assert (word, certain) == ("gelijk", None)


def _peer_rows(values, lower, upper, precision):
    return panel_rows(
        region_code=[f"GM000{i}" for i in range(len(values))],
        indicator=["x"] * len(values),
        year=[2023] * len(values),
        value=values,
        lower=lower,
        upper=upper,
        precision=precision,
    )


def test_the_peers_median_of_rounded_figures_carries_the_extremes_of_the_rounding():
    """Groningen's peers for the distance to a supermarket, 2023 (80305ned, 0,1 km): 0,6; 0,7;
    0,7; 0,7 and 0,8 km. Their median lies between the medians of the extremes."""
    from westerkwartier.reporting.report_data import peer_medians

    km = "afronding: afgerond op 0,1 km"
    values = [0.6, 0.7, 0.7, 0.7, 0.8]
    rounded = _peer_rows(values, [v - 0.05 for v in values], [v + 0.05 for v in values], [km] * 5)
    median = peer_medians(rounded, list(rounded["region_code"]), ["x"])[("x", 2023)]
    assert median == PeerMedian(0.7, 5, pytest.approx(0.65), pytest.approx(0.75), km)

    # an exact figure among them counts as both extremes; fewer than three give no median
    mixed = rounded.assign(lower=[0.55, np.nan, 0.65, 0.65, 0.75])
    mixed.loc[1, "upper"] = np.nan
    got = peer_medians(mixed, list(mixed["region_code"]), ["x"])[("x", 2023)]
    assert (got.lower, got.upper) == (pytest.approx(0.65), pytest.approx(0.75))
    assert peer_medians(rounded.head(2), ["GM0000", "GM0001"], ["x"]) == {}

    # exact figures, or one survey's interval among them: the median has no extremes
    exact = peer_medians(_peer_rows(values, [np.nan] * 5, [np.nan] * 5, [None] * 5),
                         [f"GM000{i}" for i in range(5)], ["x"])[("x", 2023)]  # fmt: skip
    assert exact == PeerMedian(0.7, 5)
    survey = rounded.assign(precision=[km] * 4 + ["steekproef: 95%-betrouwbaarheidsinterval"])
    got = peer_medians(survey, list(survey["region_code"]), ["x"])[("x", 2023)]
    assert (got.lower, got.upper, got.precision) == (None, None, None)


def test_a_difference_within_the_rounding_of_the_peers_counts_for_nothing():
    """0,8 km against the peers' 0,7 km, both rounded to 0,1 km, touch (rule *verschil*), as
    1,2 and 1,3 km do against the province; against an exact 0,7 it counted before."""
    km = "afronding: afgerond op 0,1 km"
    panel = panel_rows(
        region_code=["GM0014", "PV20", "NL01"],
        level=["gemeente", "provincie", "land"],
        year=[2023] * 3,
        indicator=["afstand"] * 3,
        value=[0.8, 1.2, 1.0],
        lower=[0.75, 1.15, 0.95],
        upper=[0.85, 1.25, 1.05],
        precision=[km] * 3,
    )
    catalogue = _one_indicator(
        "afstand", "Afstand tot grote supermarkt", "km", "a", "2023", "a", "lower_is_better", "km"
    )
    kw = {"focus": "GM0014", "province": "PV20", "province_name": "Groningen"}
    rounded = PeerMedian(0.7, 5, 0.65, 0.75, km)
    (row_,) = scorecard(panel, **kw, indicators=["afstand"], catalogue=catalogue,
                        peer_values={("afstand", 2023): rounded})  # fmt: skip
    assert row_.peers.word == "hoger" and row_.peers.significant is False
    assert row_.tone == "gunstig"  # nearer than province and Nederland; the peers do not count
    assert "(mediaan 0,7 km) valt binnen de marge van de afronding" in finding_text(row_)
    (before,) = scorecard(panel, **kw, indicators=["afstand"], catalogue=catalogue,
                          peer_values={("afstand", 2023): PeerMedian(0.7, 5)})  # fmt: skip
    assert before.peers.counts and before.tone == "neutraal"


# -- ontwikkeling --------------------------------------------------------------------------------
def test_a_distance_up_by_the_rounding_step_is_stable():
    rows = pd.DataFrame(
        {
            "year": [2019, 2024],
            "value": [1.5, 1.6],
            "lower": [1.45, 1.55],
            "upper": [1.55, 1.65],
            "precision": ["afronding: afgerond op 0,1 km"] * 2,
        }
    )
    t = trend(rows, unit="km", direction="lower_is_better")
    assert t.word == "stabiel" and t.significant is False
    # without the rounding interval the same numbers would be a rise of 6.7%
    assert trend(rows[["year", "value"]], unit="km", direction="lower_is_better").word == "stijgt"


def test_change_below_threshold_is_stable():
    assert rules.movement(obs(2019, 70.0), obs(2024, 70.4), "%")[0] == "stabiel"
    assert rules.movement(obs(2019, 70.0), obs(2024, 70.6), "%")[0] == "stijgt"


# -- oordeel -------------------------------------------------------------------------------------
def test_no_verdict_without_a_benchmark_and_without_a_change_that_counts():
    # "aandachtspunt" for a distance up 0,1 km with no province or Nederland value: not any more
    start = obs(2019, 1.5, 1.45, 1.55, "afronding: afgerond op 0,1 km")
    end = obs(2024, 1.6, 1.55, 1.65, "afronding: afgerond op 0,1 km")
    word, certain = rules.movement(start, end, "km")
    t = Trend(word, start, end, certain, rules.tone(word, "lower_is_better"))
    r = row(end, t=t, direction="lower_is_better", unit="km")
    assert r.tone == "neutraal"
    # a change that counts does give a verdict when there is no benchmark at all
    far = obs(2024, 2.5, 2.45, 2.55, "afronding: afgerond op 0,1 km")
    word, certain = rules.movement(start, far, "km")
    t = Trend(word, start, far, certain, rules.tone(word, "lower_is_better"))
    assert row(far, t=t, direction="lower_is_better", unit="km").tone == "ongunstig"


def test_verdict_needs_the_counting_benchmarks_to_agree():
    up = Comparison("p", obs(2024, 1.0), "hoger", None, "gunstig")
    down = Comparison("n", obs(2024, 3.0), "lager", None, "ongunstig")
    assert row(obs(2024, 2.0), up, down).tone == "neutraal"
    assert row(obs(2024, 2.0), up, up).tone == "gunstig"
    loose = Comparison("n", obs(2024, 3.0), "lager", False, "neutraal", "afronding")
    assert row(obs(2024, 2.0), up, loose).tone == "gunstig"  # the loose one does not count
    assert row(obs(2024, 2.0), up, up, direction="context").tone == "neutraal"


# -- kopbevinding --------------------------------------------------------------------------------
def _benchmarked(year, indicator="x", direction="higher_is_better"):
    up = Comparison("de provincie", obs(year, 40.0), "hoger", None, "gunstig")
    return row(obs(year, 50.0), up, up, direction=direction, indicator=indicator)


def test_headline_needs_a_difference_or_change_that_counts():
    loose = Comparison("p", obs(2024, 42.0), "hoger", False, "neutraal", "afronding")
    r = row(obs(2024, 47.0, 40.0, 54.5, ROUNDED), loose, loose)
    assert rules.headline(r, 2024) == (False, "geen verschil en geen verandering die telt")
    assert rules.headline(_benchmarked(2024), 2024) == (True, "")


def test_old_figure_is_no_headline_and_context_never():
    ok, why = rules.headline(_benchmarked(2020), 2024)
    assert not ok and "2020" in why and "2024" in why
    assert rules.headline(_benchmarked(2021), 2024)[0]  # three years: still a headline
    assert not rules.headline(_benchmarked(2024, direction="context"), 2024)[0]
    picked = findings([_benchmarked(2020, "old"), _benchmarked(2024, "new")], reference=2024)
    assert [f.indicator for f in picked] == ["new"]


def test_a_finding_with_a_verdict_comes_before_a_mixed_picture():
    """Groningen's summary opened with two 'ter informatie' findings (a distance smaller than
    in the province, larger than at comparable municipalities) before its clear ones."""
    better = Comparison("de provincie", obs(2024, 10.0), "hoger", None, "gunstig")
    worse = Comparison("Nederland", obs(2024, 90.0), "lager", None, "ongunstig")
    mixed = row(obs(2024, 50.0), better, worse, indicator="mixed")
    slightly = Comparison("de provincie", obs(2024, 48.0), "hoger", None, "gunstig")
    clear = row(obs(2024, 50.0), slightly, slightly, indicator="clear")
    assert mixed.tone == "neutraal" and clear.tone == "gunstig"
    assert importance(mixed) > importance(clear)
    picked = findings([mixed, clear], reference=2024)
    assert [f.indicator for f in picked] == ["clear", "mixed"]


def test_a_family_says_a_verdict_once_before_other_subjects_speak():
    """Texel's summary gave two of its five findings to the change in young people (over five
    and over ten years); 149 of 342 talent reports did so."""

    def below(nederland: float) -> Comparison:
        return Comparison("Nederland", obs(2023, nederland), "lager", None, "ongunstig")

    five = row(obs(2023, 5.0), below(7.0), below(7.0), indicator="j5")
    ten = row(obs(2023, 5.0), below(6.0), below(6.0), indicator="j10")
    other = row(obs(2023, 5.0), below(5.5), below(5.5), indicator="other")
    assert importance(five) > importance(ten) > importance(other)
    families = {"j5": "jongeren", "j10": "jongeren"}
    plain = findings([five, ten, other], reference=2023)
    assert [f.indicator for f in plain] == ["j5", "j10", "other"]
    picked = findings([five, ten, other], reference=2023, families=families)
    assert [f.indicator for f in picked] == ["j5", "other", "j10"]
    # a lead finding counts as its family's first
    led = findings([five, ten, other], reference=2023, families=families, lead=["j10"])
    assert [f.indicator for f in led] == ["j10", "other", "j5"]
    # Utrecht: more people arrive (gunstig) and more leave (aandachtspunt) than elsewhere;
    # two verdicts of one family are two messages, and neither hides the other
    above = Comparison("Nederland", obs(2023, 4.0), "hoger", None, "gunstig")
    rising = row(obs(2023, 5.0), above, above, indicator="j10")
    assert rising.tone == "gunstig" and five.tone == "ongunstig"
    mixed = findings([five, rising, other], reference=2023, families=families)
    assert [f.indicator for f in mixed] == ["j5", "j10", "other"]


def test_a_change_the_whole_country_made_adds_no_importance():
    """Westerkwartier's talent summary gave a place to the woonquote of young singles (27,9%
    in 2022), 0,56 of its 0,74 points from its fall since 2019 (33,3%): a fall of the whole
    country (Nederland 33,6% in 2021, 29,6% in 2022). The change counts beyond Nederland's."""
    below = Comparison("Nederland", obs(2022, 29.6), "lager", None, "gunstig")
    fell = Trend("daalt", obs(2019, 33.3), obs(2022, 27.9), tone="gunstig")
    alone = row(obs(2022, 27.9), none("de provincie"), below, fell, direction="lower_is_better")
    like_nl = replace(alone, nederland_span=(35.0, 29.6))  # Nederland fell 5,4 points too
    still = replace(alone, trend=Trend("stabiel", obs(2019, 27.9), obs(2022, 27.9)))
    assert importance(like_nl) == pytest.approx(importance(still))
    assert importance(alone) > importance(like_nl)
    rose = replace(alone, nederland_span=(27.0, 29.6))  # Nederland rose: the fall is its own
    assert importance(rose) > importance(alone)
    # a euro figure moves by Nederland's ratio: +10% in the country, +10% here is nothing new
    euro = Comparison("Nederland", obs(2023, 440.0), "lager", None, "gunstig")
    up = Trend("stijgt", obs(2018, 300.0), obs(2023, 330.0), tone="ongunstig")
    same = row(
        obs(2023, 330.0), none("de provincie"), euro, up, unit="euro", nederland_span=(400.0, 440.0)
    )
    flat = replace(same, trend=Trend("stabiel", obs(2018, 330.0), obs(2023, 330.0)))
    assert importance(same) == pytest.approx(importance(flat))


def test_a_change_the_country_made_too_says_so():
    """ "Sinds 2018 (34,8%) is dat gedaald" read as Tytsjerksteradiel's own fall; Nederland fell
    from 35,6% to 29,6% in the same years."""
    below = Comparison("Nederland", obs(2022, 29.6), "lager", None, "gunstig")
    fell = Trend("daalt", obs(2018, 34.8), obs(2022, 26.7), tone="gunstig")
    r = row(
        obs(2022, 26.7),
        none("de provincie"),
        below,
        fell,
        direction="lower_is_better",
        nederland_span=(35.6, 29.6),
    )
    assert finding_text(r, "de woonquote").endswith(
        "Sinds 2018 (34,8%) is dat gedaald, net als in Nederland (van 35,6% naar 29,6%)."
    )
    for span in [(29.8, 29.6), (27.0, 29.6), None]:  # stable, the other way, not known
        assert finding_text(replace(r, nederland_span=span), "de woonquote").endswith(
            "Sinds 2018 (34,8%) is dat gedaald."
        )
    rate = replace(
        r,
        unit="per 1 000 inwoners",
        nederland_span=(650.3, 675.6),
        trend=Trend("stijgt", obs(2018, 315.1), obs(2022, 330.0)),
    )
    assert "net als in Nederland (van 650,3 naar 675,6 per 1.000 inwoners)." in finding_text(
        rate, "het aantal banen"
    )
    persons = replace(rate, unit="personen", nederland_span=(9.0e6, 9.8e6))
    assert "Nederland (van" not in finding_text(persons, "de beroepsbevolking")  # rule schaal


def test_scorecard_keeps_nederlands_values_in_the_trends_years():
    cat = _one_indicator("w", "Woonquote", "%", "a", "2018-2022", names="a", cbs_unit="%")
    panel = panel_rows(
        region_code=["GM1969"] * 3 + ["NL01"] * 3,
        region_name=["Westerkwartier"] * 3 + ["Nederland"] * 3,
        level=["gemeente"] * 3 + ["land"] * 3,
        year=[2019, 2021, 2022, 2018, 2019, 2022],
        indicator=["w"] * 6,
        value=[33.3, 32.0, 27.9, 34.0, 34.1, 29.6],
    )
    kw = {"focus": "GM1969", "province": None, "province_name": None, "catalogue": cat}
    (r,) = scorecard(panel, indicators=["w"], **kw)
    assert (r.trend.start.year, r.trend.end.year) == (2019, 2022)
    assert r.nederland_span == (34.1, 29.6)
    (r,) = scorecard(panel[panel["year"] != 2019], indicators=["w"], **kw)
    assert r.trend.start.year == 2021 and r.nederland_span is None  # no Nederland in 2021


def test_a_benchmarks_own_margin_is_named_where_it_keeps_the_difference_small():
    """Noardeast-Fryslân's beweegrichtlijn beside a province of 47,5%: its interval, not the
    municipality's, makes the difference not count; the sentence says so with both wordings."""
    survey = "steekproef: 95%-betrouwbaarheidsinterval"
    own = obs(2022, 42.9, 38.9, 46.9, survey)
    wide = obs(2022, 47.5, 46.5, 48.6, survey)
    inside = obs(2022, 45.0, 44.0, 46.0, survey)
    province = Comparison("de provincie Fryslân", wide, "lager", False, "neutraal", "steekproef")
    near = Comparison("Nederland", inside, "lager", False, "neutraal", "steekproef")
    text = finding_text(row(own, province, near), "het aandeel")
    assert "verschilt niet significant van de waarde in de provincie Fryslân (47,5%; " in text
    assert "95%-interval 46,5–48,6%) en in Nederland (45,0%)" in text  # 45,0 lies inside
    lower = Comparison("Nederland", obs(2022, 47.5, 47.2, 47.7, survey), "lager", True, "ongunstig")
    text = finding_text(row(own, province, lower), "het aandeel")
    assert "het verschil met de provincie Fryslân (47,5%; 95%-interval 46,5–48,6%) is niet" in text


def test_a_finding_names_the_unit_once():
    """'Het binnenlands verhuissaldo per 1.000 inwoners (-2,8 per 1.000 inwoners in 2023)'
    said the unit twice; the value is bare when the subject already names it."""
    lower = Comparison("Nederland", obs(2023, 0.0), "lager", None, "ongunstig")
    saldo = row(obs(2023, -2.8), lower, lower, unit="per 1 000 inwoners", label="Saldo")
    subject = "het binnenlands verhuissaldo per 1.000 inwoners"
    assert finding_text(saldo, subject).startswith(
        "Het binnenlands verhuissaldo per 1.000 inwoners (-2,8 in 2023) is lager dan"
    )
    assert finding_text(saldo).startswith("Saldo: -2,8 per 1.000 inwoners in 2023;")
    km = row(obs(2023, 2.1), lower, lower, unit="km", label="Afstand")
    assert finding_text(km, "de afstand tot een station").startswith(
        "De afstand tot een station (2,1 km in 2023)"
    )


def test_finding_names_the_rounding_interval_and_says_when_a_difference_is_within_it():
    within = Comparison("Nederland", obs(2024, 55.1), "hoger", False, "neutraal", "afronding")
    beyond = Comparison("de provincie Drenthe", obs(2024, 50.2), "hoger", True, "gunstig")
    r = row(obs(2024, 58.8, 53.3, 64.7, ROUNDED), beyond, within, label="Beroepsniveau 3-4")
    text = finding_text(r, "het aandeel werkenden op beroepsniveau 3 of 4")
    assert "(58,8% in 2024; door afronding tussen 53,3% en 64,7%)" in text
    assert "is hoger dan in de provincie Drenthe (50,2%)" in text
    assert "het verschil met Nederland (55,1%) valt binnen de marge van de afronding" in text


def test_finding_writes_a_school_year_as_such():
    r = _benchmarked(2022)
    r = ScoreRow(**{**r.__dict__, "period": "schooljaar"})
    assert "in 2022/'23" in finding_text(r, "het aandeel")


# -- peiljaar ------------------------------------------------------------------------------------
def test_both_reports_of_a_run_get_one_reference_year():
    panel = pd.DataFrame(
        {
            "region_code": ["GM0001"] * 4,
            "indicator": ["a", "b", "c", "d"],
            "year": [2022, 2022, 2024, 2024],
            "value": [1.0, 2.0, 3.0, 4.0],
            "missing_reason": [None] * 4,
        }
    )
    # report one holds a and b (2022), report two c and d (2024); per report they would name
    # 2022 and 2024, the run names one year for both
    year = run_reference_year(panel, "GM0001", ["a", "b", "c", "d"])
    assert year == rules.reference_year([2022, 2022, 2024, 2024]) == 2024
    assert rules.reference_year([2022, 2022]) == 2022  # what report one alone would say


# -- dominantie ----------------------------------------------------------------------------------
def _one_indicator(
    ind_id: str,
    label: str,
    unit: str,
    formula: str,
    years: str,
    names="ab",
    direction: str = "higher_is_better",
    cbs_unit: str = "aantal",
):
    """A catalogue of one Talent indicator (by default higher is better) over table T1."""
    operands = {k: {"tables": ["T1"], "topic": k.upper(), "cbs_unit": cbs_unit} for k in names}
    raw = {
        "tables": {"T1": {"title": "t", "offline": True}},
        "indicator": [
            {
                "id": ind_id,
                "label_nl": label,
                "label_en": "x",
                "theme": "Talent",
                "subtheme": "aantrekken",
                "unit": unit,
                "direction": direction,
                "formula": formula,
                "years": years,
                "caveats": "-",
                "description": "-",
                "operands": operands,
            }
        ],
    }
    return parse_catalogue(raw)


def test_scorecard_compares_with_the_province_without_its_dominating_municipality():
    cat = _one_indicator("imm", "Immigratie", "per 1 000 inwoners", "1000 * a / b", "2021")
    panel = panel_rows(
        region_code=["GM0014", "PV20", "NL01", "PV20-GM1950"],
        region_name=["Groningen", "Groningen", "Nederland", "provincie Groningen zonder W"],
        level=["gemeente", "provincie", "land", "provincie zonder gemeente"],
        year=[2021] * 4,
        indicator=["imm"] * 4,
        value=[20.0, 38.4, 14.0, 15.4],
        note=[None, None, None, "zonder W: 62% van de teller tegen 4% van de noemer"],
    )
    (r,) = scorecard(
        panel,
        focus="GM0014",
        province="PV20",
        province_name="Groningen",
        indicators=["imm"],
        catalogue=cat,
    )
    assert r.province.name == "de provincie Groningen zonder W"
    assert r.province.other.value == 15.4 and r.province.word == "hoger"  # not "lager"


def test_the_method_text_names_the_ebb_threshold_of_the_catalogue():
    """The rule text says "1.000 personen"; the number itself is a catalogue setting."""
    from westerkwartier.indicators.catalogue import load_catalogue
    from westerkwartier.reporting.formatting import fmt_number

    cat = load_catalogue()
    persons = {
        op.significant_persons
        for ind in cat.indicators.values()
        if (op := ind.threshold_operand) is not None
    }
    assert len(persons) == 1, "one threshold, or the method text must name each"
    (number,) = persons
    for rule_id in ("verschil", "ontwikkeling"):
        assert f"{fmt_number(number)} personen" in rules.rule(rule_id).text


def test_a_distance_is_groter_or_kleiner_and_neemt_toe_not_stijgt():
    """Súdwest-Fryslân: "De afstand tot een huisartsenpraktijk (2,1 km) is hoger dan ...";
    a distance is larger or smaller. The verdict words of the rules stay as they are."""
    from westerkwartier.reporting.sections import _glance_label, _trend_cell, _versus_cell

    up = Comparison("de provincie Fryslân", obs(2023, 1.6), "hoger", None, "ongunstig")
    down = Comparison("Nederland", obs(2023, 2.5), "lager", None, "gunstig")
    grew = Trend("stijgt", obs(2018, 1.6), obs(2023, 2.1), None, "ongunstig")
    km = row(obs(2023, 2.1), up, down, grew, "lower_is_better", unit="km", label="Afstand")
    text = finding_text(km, "de afstand tot een huisartsenpraktijk")
    assert "is groter dan in de provincie Fryslân (1,6 km), maar kleiner dan in Nederland" in text
    assert "kleiner dan in Nederland (2,5 km)" in text  # Utrecht: "(2,0 km) ... (4,1)"
    assert text.endswith("Sinds 2018 (1,6 km) is dat toegenomen.")
    assert (_versus_cell(km, up).note, _versus_cell(km, down).note) == ("groter", "kleiner")
    assert _trend_cell(km).main == "↗ neemt toe"
    assert km.province.word == "hoger" and km.tone == "neutraal"  # the rules' own words
    # page 1 names the unit before the year in brackets: not "Afstand (km) (2023)"
    assert _glance_label(km) == "Afstand in km"
    pct = row(obs(2023, 2.1), up, down, grew, "lower_is_better", unit="%", label="Aandeel")
    assert "; hoger dan in de provincie" in finding_text(pct)
    assert _trend_cell(pct).main == "↗ stijgt"


# -- doorstroom ----------------------------------------------------------------------------------
def test_throughput_needs_both_many_immigrants_and_a_deep_domestic_balance():
    assert rules.throughput(50.0, -50.0)  # both thresholds themselves count
    assert not rules.throughput(49.9, -300.0)
    assert not rules.throughput(300.0, -49.9)
    assert not rules.throughput(120.0, 5.0)  # Vlieland-like: many arrive, few move on
    assert not rules.throughput(float("nan"), -300.0)


def _throughput_panel(immigration: float, domestic: float) -> pd.DataFrame:
    """Municipality GM1 in 2023: the two signals and a domestic departure rate of 300."""
    values = {
        "immigratie_per_1000": immigration,
        "binnenlands_migratiesaldo_per_1000": domestic,
        "vertrek_andere_gemeente_per_1000": 300.0,
    }
    return panel_rows(
        region_code=["GM1"] * 3 + ["NL01"] * 3,
        region_name=["G"] * 3 + ["Nederland"] * 3,
        level=["gemeente"] * 3 + ["land"] * 3,
        year=[2023] * 6,
        indicator=list(values) * 2,
        value=[*values.values(), 19.0, 0.0, 45.0],
    )


def _flows_catalogue():
    """Three flow indicators per 1.000 inhabitants (departures: lower is better)."""
    operands = {k: {"tables": ["T1"], "topic": k.upper(), "cbs_unit": "aantal"} for k in "ab"}
    directions = {
        "immigratie_per_1000": "higher_is_better",
        "binnenlands_migratiesaldo_per_1000": "higher_is_better",
        "vertrek_andere_gemeente_per_1000": "lower_is_better",
    }
    entries = [
        {
            "id": ind_id,
            "label_nl": ind_id,
            "label_en": "x",
            "theme": "Talent",
            "subtheme": "behouden",
            "unit": "per 1 000 inwoners",
            "direction": direction,
            "formula": "1000 * a / b",
            "years": "2023",
            "caveats": "-",
            "description": "-",
            "operands": operands,
        }
        for ind_id, direction in directions.items()
    ]
    return parse_catalogue(
        {"tables": {"T1": {"title": "t", "offline": True}}, "indicator": entries}
    )


def test_a_year_of_throughput_leaves_the_flows_unjudged_and_out_of_the_summary():
    cat = _flows_catalogue()
    kw = {"focus": "GM1", "province": None, "province_name": None, "catalogue": cat}
    inds = list(cat.indicators)
    passing = scorecard(_throughput_panel(607.9, -602.1), indicators=inds, **kw)
    assert [r.exception for r in passing] == [rules.THROUGHPUT_TEXT] * 3
    # the comparisons themselves still stand; only the verdict and the summary change
    assert passing[0].nederland.word == "hoger" and passing[0].tone == "neutraal"
    assert rules.headline(passing[0], 2023) == (
        False,
        "niet beoordeeld: doorstroom uit het buitenland",
    )
    assert findings(passing, reference=2023) == []
    # just below the threshold the same figures are judged as usual
    judged = scorecard(_throughput_panel(49.0, -602.1), indicators=inds, **kw)
    assert [r.exception for r in judged] == [None] * 3
    assert [r.tone for r in judged] == ["gunstig", "ongunstig", "ongunstig"]
    assert [f.indicator for f in findings(judged, reference=2023)]


# -- schaal --------------------------------------------------------------------------------------
def test_a_number_of_persons_is_not_lower_than_the_province_total():
    """Rule *schaal*: -150 young movers is not "lower" than the province's +1.500.

    Only the peers (municipalities of a similar size) give a comparison that counts; the
    scorecard shows the totals with a note, page 1 leaves them out, no finding names them.
    """
    from westerkwartier.reporting.sections import SCALE_NOTE, _benchmark_text, _versus_cell

    cat = _one_indicator("saldo", "Verhuissaldo 15-24-jarigen", "personen", "a", "2023", "a")
    panel = panel_rows(
        region_code=["GM1969", "PV20", "NL01"],
        region_name=["Westerkwartier", "Groningen", "Nederland"],
        level=["gemeente", "provincie", "land"],
        year=[2023] * 3,
        indicator=["saldo"] * 3,
        value=[-150.0, 1500.0, 0.0],
    )
    kw = {"focus": "GM1969", "province": "PV20", "province_name": "Groningen"}
    (alone,) = scorecard(panel, **kw, indicators=["saldo"], catalogue=cat)
    assert alone.province.other.value == 1500.0 and alone.province.word == "onbekend"
    assert alone.nederland.other.value == 0.0 and alone.nederland.word == "onbekend"
    assert alone.tone == "neutraal" and not rules.headline(alone, 2023)[0]
    assert _versus_cell(alone, alone.province).note == SCALE_NOTE
    assert "1.500" not in _benchmark_text(alone) and "niet te vergelijken" in _benchmark_text(alone)

    (peered,) = scorecard(
        panel,
        **kw,
        indicators=["saldo"],
        catalogue=cat,
        peer_values={("saldo", 2023): PeerMedian(-40.0, 5)},
    )
    assert peered.peers.word == "lager" and peered.tone == "ongunstig"
    assert _benchmark_text(peered) == "vergelijkbare gemeenten -40"
    assert "provincie" not in finding_text(peered) and "Nederland" not in finding_text(peered)


# -- projectie -----------------------------------------------------------------------------------
def test_flat_recent_years_are_not_projected_along_the_old_decline():
    years = list(range(2015, 2025))
    values = [7.0, 6.2, 5.4, 4.6, 3.9, 3.6, 3.2, 2.9, 3.0, 3.0]  # falling, then flat
    series = pd.DataFrame({"year": years, "value": values})
    target = Ambition("werkloosheid", 2.5, 2028, "x")
    got = track(target, series, "lower_is_better")
    assert got["projectiebasis"] == "niveau"
    assert got["status"] == "niet op koers"  # a straight line would have said "op koers"
    assert "volgen de trend van eerdere jaren niet" in got["uitleg"]
    assert 2.8 < got["projectie"] < 3.1
    steady = pd.DataFrame({"year": years, "value": [7.0 - 0.5 * i for i in range(10)]})
    got = track(target, steady, "lower_is_better")
    assert got["projectiebasis"] == "trend" and got["status"] == "op koers"


def test_recent_level_rule_itself():
    assert not rules.recent_level_respected([2022, 2023, 2024], [2.9, 3.0, 3.0], -0.6)
    assert rules.recent_level_respected([2022, 2023, 2024], [4.2, 3.6, 3.0], -0.6)
    assert rules.recent_level_respected([2023, 2024], [3.0, 3.0], -0.6)  # too few to tell
    assert rules.recent_level_respected([2022, 2023, 2024], [3.0, 3.0, 3.0], math.nan)


# -- rang ----------------------------------------------------------------------------------------
def test_middle_rank_is_on_the_median_not_above_it():
    # "in elke groep boven de mediaan" next to "plaats 6 van 11" can no longer happen
    values = pd.Series({f"GM{i:04d}": float(i) for i in range(11)})
    rank, n, pos = rank_in_group(values, "GM0005", "higher_is_better")
    assert (rank, n, pos) == (6, 11, "op de mediaan")
    assert rank_in_group(values, "GM0008", "higher_is_better")[2] == "boven de mediaan"
    assert rank_in_group(values, "GM0002", "higher_is_better")[2] == "onder de mediaan"


@pytest.mark.parametrize(("rank", "n", "word"), [(1, 6, "boven"), (3, 6, "boven"), (4, 6, "onder")])
def test_position_follows_the_rank(rank, n, word):
    assert rules.position(rank, n).startswith(word)


def test_every_rule_is_printed_in_the_method():
    from westerkwartier.reporting.sections import bronnen  # noqa: F401  (uses RULES)

    ids = [r.id for r in rules.RULES]
    assert len(ids) == len(set(ids)) >= 8
    assert all(r.text.endswith(".") for r in rules.RULES)


# -- missing reasons -----------------------------------------------------------------------------
def _survey_catalogue():
    raw = {
        "tables": {"T1": {"title": "t", "offline": False, "year": 2024}},
        "indicator": [
            {
                "id": "rokers",
                "label_nl": "Rokers",
                "label_en": "x",
                "theme": "Gezondheid en vitaliteit",
                "subtheme": "leefstijl",
                "unit": "%",
                "direction": "lower_is_better",
                "formula": "pct",
                "years": "2020,2022,2024",
                "caveats": "-",
                "description": "-",
                "operands": {"pct": {"tables": ["T1"], "topic": "R", "cbs_unit": "%"}},
            }
        ],
    }
    return parse_catalogue(raw)


def test_survey_year_without_a_measurement_says_so_and_no_later_reason():
    cat = _survey_catalogue()
    panel = pd.DataFrame(
        {
            "region_code": ["GM0088"] * 3,
            "year": [2020, 2022, 2024],
            "indicator": ["rokers"] * 3,
            "value": [np.nan] * 3,
            "source_table": ["T1"] * 3,
            "missing_reason": [
                "geen cijfer van CBS (geheim of onbetrouwbaar)",
                "geen cijfer van CBS (geheim of onbetrouwbaar)",
                "tabel alleen online beschikbaar",
            ],
        }
    )
    (r,) = scorecard(
        panel,
        focus="GM0088",
        province=None,
        province_name=None,
        indicators=["rokers"],
        catalogue=cat,
        year=2023,
    )
    assert r.missing_reason.startswith("geen meting in 2023 (gemeten in 2020, 2022 en 2024)")
    assert "alleen online" not in r.missing_reason  # 2024 is after the year asked


def test_online_only_is_said_only_for_years_cbs_publishes():
    from westerkwartier.indicators.catalogue import MISSING
    from westerkwartier.indicators.compute import OperandData, compute

    ind = _survey_catalogue()["rokers"]
    empty = pd.DataFrame(
        columns=["region_code", "year", "value", "lower", "upper", "status", "source_table"]
    )
    out = compute(
        ind,
        {"pct": OperandData(empty, gap_reason=MISSING["online_only"])},
        ["GM0001"],
        years=[2023, 2024],
    ).set_index("year")
    assert out.loc[2024, "missing_reason"] == MISSING["online_only"]
    assert out.loc[2023, "missing_reason"] == MISSING["no_measurement"]


@pytest.mark.parametrize(
    ("gap", "early"), [("online_only", "online_only"), ("not_published", "not_published")]
)
def test_years_before_the_tables_here_have_the_reason_of_the_table_not_here(gap, early):
    # a change over ten years offline starts in 2022 (37259eng from 2012); the years before
    # need 37259ned, which CBS publishes but only online: not "niet gepubliceerd"
    from westerkwartier.indicators.catalogue import MISSING
    from westerkwartier.indicators.compute import OperandData, compute

    raw = _survey_catalogue()["rokers"]
    ind = replace(raw, years=(2022, 2023))
    obs = pd.DataFrame(
        {
            "region_code": ["GM0001", "GM0001"],
            "year": [2022, 2023],
            "value": [np.nan, np.nan],
            "lower": np.nan,
            "upper": np.nan,
            "status": "definitief",
            "source_table": "T1",
        }
    )
    out = compute(
        ind, {"pct": OperandData(obs, gap_reason=MISSING[gap])}, ["GM0001"], years=[2015, 2023]
    ).set_index("year")
    assert out.loc[2015, "missing_reason"] == MISSING[early]
    assert out.loc[2023, "missing_reason"] == MISSING["suppressed"]  # a row without figure


def test_years_before_the_tables_keep_a_boundary_change_that_could_not_be_rebuilt():
    # De Fryske Marren's change over five years: 2017 needs 2012, before its formation in
    # 2014 and not rebuildable; 2014-2016 need 2009-2011, which are only online but could not
    # be rebuilt there either. A municipality rebuilt in 2012 may be rebuilt online before.
    from westerkwartier.indicators.catalogue import MISSING, boundary_break_reason
    from westerkwartier.indicators.compute import OperandData, compute

    ind = replace(
        _survey_catalogue()["rokers"], years=tuple(range(2017, 2024)), series_break="boundary"
    )
    obs = pd.DataFrame(
        {
            "region_code": ["GM0001", "GM0002", "GM0002"],
            "year": [2023, 2017, 2023],
            "value": [10.0, 11.0, 12.0],
            "lower": np.nan,
            "upper": np.nan,
            "status": "definitief",
            "source_table": "T1",
        }
    )
    out = compute(
        ind,
        {"pct": OperandData(obs, gap_reason=MISSING["online_only"])},
        ["GM0001", "GM0002"],
        years=[2015, 2017, 2023],
        breaks={"GM0001": 2019, "GM0002": 2019},
    ).set_index(["region_code", "year"])["missing_reason"]
    gone = boundary_break_reason(2019, existed=False)
    assert (out[("GM0001", 2015)], out[("GM0001", 2017)]) == (gone, gone)
    assert out[("GM0002", 2015)] == MISSING["online_only"]
    assert pd.isna(out[("GM0002", 2017)])  # rebuilt: a figure, no reason


@pytest.mark.mirror
def test_indicators_command_and_report_agree_on_what_is_only_online():
    from westerkwartier import settings
    from westerkwartier.indicators.panel import offline_status, panel

    status = offline_status()
    assert status["cohortbehoud_25_34"] is False  # its table is in the snapshot, its ages not
    assert status["netto_arbeidsparticipatie"] is True
    old = settings.offline
    settings.offline = True
    try:
        p = panel(regions=["GM1969"], indicators=["cohortbehoud_25_34"])
    finally:
        settings.offline = old
    assert p["value"].isna().all()
    assert (p["missing_reason"] == "tabel alleen online beschikbaar").all()


def test_charts_leave_out_a_province_line_that_one_municipality_dominates(monkeypatch):
    monkeypatch.setattr(settings, "offline", True)
    # the text compares Westerkwartier with "provincie Groningen zonder Westerwolde"; a line of
    # the whole province beside it would show the figure the text calls misleading
    from westerkwartier.reporting.figures import indicator_trend, province_dominance
    from westerkwartier.reporting.report_data import load_report_data

    data = load_report_data("talent", "Westerkwartier")
    years = range(2012, 2024)
    found = province_dominance(data, "binnenlands_migratiesaldo_per_1000", years)
    assert found is not None and found.hiding == "Westerwolde" and found.latest
    assert province_dominance(data, "aandeel_hoogopgeleid", years) is None
    chart = indicator_trend(data, "binnenlands_migratiesaldo_per_1000")
    labels = [line.get_label() for line in chart.ax.get_lines()]
    assert data.province_label not in labels and "Westerkwartier" in labels
    # said under the chart, where a sighted reader looks for the missing line
    assert chart.note == (
        "Zonder lijn voor de provincie Groningen: Westerwolde kleurt het provinciecijfer sterk."
    )
    chart = indicator_trend(data, "aandeel_hoogopgeleid")
    assert data.province_label in [line.get_label() for line in chart.ax.get_lines()]


def test_a_chart_keeps_the_province_line_when_only_earlier_years_were_dominated(monkeypatch):
    """Noordenveld dominated Drenthe's immigration in 2016 and 2017 only: Assen's chart lost
    the province's line for all twelve years although the text compares 2023 with the whole
    province. The line stays; the note under the chart names the two years. Westerkwartier's
    growth of 2025, which the text compares with the province without Westerwolde, has no
    line."""
    monkeypatch.setattr(settings, "offline", True)
    from westerkwartier.reporting.figures import indicator_trend, province_dominance
    from westerkwartier.reporting.report_data import load_report_data

    assen = load_report_data("talent", "Assen", peildatum="2026-11-27")
    found = province_dominance(assen, "immigratie_per_1000", range(2012, 2024))
    assert found is not None
    assert (found.municipality, found.years, found.hides_province) == (
        "Noordenveld",
        (2016, 2017),
        False,
    )
    chart = indicator_trend(assen, "immigratie_per_1000")
    assert assen.province_label in [line.get_label() for line in chart.ax.get_lines()]
    assert chart.note == (
        "In 2016-2017 kleurde Noordenveld het cijfer van de provincie Drenthe sterk (in 2017: "
        "90% van de immigratie van de provincie, 7% van de inwoners)."
    )
    wk = load_report_data("talent", "Westerkwartier", peildatum="2026-11-27")
    chart = indicator_trend(wk, "bevolkingsgroei")
    assert wk.province_label not in [line.get_label() for line in chart.ax.get_lines()]
    assert "Westerwolde kleurt het provinciecijfer sterk" in chart.note


def test_a_chart_without_the_whole_province_says_why_where_every_reader_sees_it(monkeypatch):
    """The sentence on a province's line left out stood in the alt text only: a sighted reader
    of Westerkwartier's talent report saw the province's line missing from the chart on page 1
    and under "Talent aantrekken" without a word why. It now follows the chart as a footnote,
    on page 1 as the figure's caption; two charts of a section that lack the same line share
    one footnote, after the second."""
    import IPython.display

    from westerkwartier.reporting.report_data import load_report_data
    from westerkwartier.reporting.sections import oogopslag, show_trends

    monkeypatch.setattr(settings, "offline", True)
    shown: list[str] = []
    monkeypatch.setattr(
        IPython.display, "display", lambda *objs, **kw: shown.extend(str(o) for o in objs)
    )
    monkeypatch.setattr(
        IPython.display,
        "publish_display_data",
        lambda data, metadata=None, **kw: shown.append("<grafiek>"),
    )
    data = load_report_data("talent", "Westerkwartier", peildatum="2026-11-27")
    why = "lijn voor de provincie Groningen: Westerwolde kleurt het provinciecijfer sterk."
    page = str(oogopslag(data))
    assert f'<figcaption class="voetnoot">Zonder {why}</figcaption>' in page
    show_trends(data, "behouden")  # the balance (no province line), then young people (with)
    show_trends(data, "aantrekken")  # growth and immigration: both without the province
    charts = [i for i, o in enumerate(shown) if o == "<grafiek>"]
    assert len(charts) == 4
    assert shown[charts[0] + 1] == f'<p class="voetnoot">Zonder {why}</p>'
    assert shown[charts[2] + 1] == shown[charts[3] - 1] == "<grafiek>"
    assert shown[charts[3] + 1] == f'<p class="voetnoot">Beide grafieken zonder {why}</p>'
    assert sum("lijn voor de provincie" in o for o in shown) == 2


def test_a_province_line_left_out_for_earlier_years_does_not_claim_the_text_compares_without(
    monkeypatch,
):
    """Zeewolde made Flevoland's emigration in 2015-2020, half of Almere's twelve years, so the
    chart leaves the province's line out; but 2023, the year the text compares, is not
    dominated, and the text compares with the whole province. The alt text said "de tekst
    vergelijkt met de provincie zonder Zeewolde"."""
    from westerkwartier.reporting.figures import indicator_trend, province_dominance
    from westerkwartier.reporting.report_data import load_report_data

    monkeypatch.setattr(settings, "offline", True)
    data = load_report_data("talent", "Almere", peildatum="2026-11-27")
    found = province_dominance(data, "emigratie_per_1000", range(2012, 2024))
    assert found is not None
    assert (found.municipality, found.hides_province, found.latest) == ("Zeewolde", True, False)
    chart = indicator_trend(data, "emigratie_per_1000")
    assert data.province_label not in [line.get_label() for line in chart.ax.get_lines()]
    assert chart.note == (
        "Zonder lijn voor de provincie Flevoland: in 2015-2020 kleurde Zeewolde het "
        "provinciecijfer sterk (in 2020: 28% van de emigratie van de provincie, 5% van de "
        "inwoners)."
    )
    assert "zonder Zeewolde" not in chart.alt + chart.note


# -- the EBB: no published margins, but differences under 1.000 persons seldom count --------------
EBB = "drempel: 1.000 personen"


def test_an_ebb_difference_counts_from_1000_persons_of_the_smaller_population():
    """70,0% of 50.000 persons: 1.000 persons are 2,0 points. The bounds are no interval:
    a difference counts from the larger half-width on, not when the bounds part."""
    own = obs(2024, 70.0, 68.0, 72.0, EBB)
    assert rules.apart(own, obs(2024, 71.9)) is False
    assert rules.apart(own, obs(2024, 72.0)) is True  # 1.000 persons exactly: counts
    # another municipality of 50.000: 3,9 points are 1.950 persons, not two margins of 2,0
    assert rules.apart(own, obs(2024, 73.9, 71.9, 75.9, EBB)) is True
    # one of 25.000 inhabitants, where 1.000 persons are 4,0 points
    assert rules.apart(own, obs(2024, 73.9, 69.9, 77.9, EBB)) is False
    assert rules.gap(own, obs(2024, 73.0)) == pytest.approx(1.0)
    # a change of the same municipality: from 2,0 points on
    assert rules.movement(obs(2019, 68.5, 66.5, 70.5, EBB), own, "%") == ("stabiel", False)
    assert rules.movement(obs(2019, 67.9, 65.9, 69.9, EBB), own, "%") == ("stijgt", True)


def test_a_difference_within_the_ebb_margin_is_neutral_and_said_so():
    """Noardeast-Fryslân's 72,5% netto arbeidsparticipatie (2024) was 'lager' than the 72,7%
    of comparable municipalities and so an 'aandachtspunt': 0,2 points of its 33.000
    inhabitants of 15 to 75 are 66 persons."""
    from westerkwartier.reporting.sections import _trend_cell, _versus_cell

    own = obs(2024, 72.5, 69.47, 75.53, EBB)
    nl = compare_values(
        own, obs(2024, 73.2), name="Nederland", unit="%", direction="higher_is_better"
    )
    assert (nl.word, nl.significant, nl.tone, nl.basis) == ("lager", False, "neutraal", "drempel")
    start = obs(2019, 72.9, 69.9, 75.9, EBB)
    moved = trend(
        pd.DataFrame(
            {
                "year": [2019, 2024],
                "value": [start.value, own.value],
                "lower": [start.lower, own.lower],
                "upper": [start.upper, own.upper],
                "precision": [EBB, EBB],
            }
        ),
        unit="%",
        direction="higher_is_better",
    )
    r = row(own, nederland=nl, t=moved, label="Netto arbeidsparticipatie")
    assert rules.verdict([nl], moved, "higher_is_better") == "neutraal"  # no aandachtspunt
    text = finding_text(r, "de netto arbeidsparticipatie")
    assert (
        "verschilt niet van de waarde in Nederland (73,2%): het verschil valt binnen de "
        "marge van de EBB" in text
    ), text
    assert "door afronding" not in text and "95%" not in text
    assert _versus_cell(r, nl).note == "verschil valt binnen de marge van de EBB"
    assert _trend_cell(r).note == "-0,4 %-punt sinds 2019 (binnen de marge van de EBB)"
