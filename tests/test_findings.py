"""Unit tests of the findings and scorecard logic on tiny hand-made panels."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from westerkwartier import errors
from westerkwartier.analysis import comparison
from westerkwartier.analysis.comparison import (
    Comparison,
    Observation,
    ScoreRow,
    Trend,
    compare_values,
    observation,
    reference_year,
    significant,
    trend,
)
from westerkwartier.indicators.catalogue import load_catalogue
from westerkwartier.reporting import findings, report_catalogue, report_data
from westerkwartier.reporting.findings import finding_text, importance


def _panel(rows):
    frame = pd.DataFrame(
        rows,
        columns=["region_code", "indicator", "year", "value", "lower", "upper", "missing_reason"],
    )
    frame["status"] = np.where(frame["value"].notna(), "definitief", None)
    frame["source_table"] = "T1"
    frame["region_name"] = frame["region_code"]
    frame["level"] = "gemeente"
    return frame


NAN = float("nan")


# -- significance ---------------------------------------------------------------------------
def test_significant_only_when_intervals_do_not_overlap():
    a = Observation(2022, 55.2, 53.0, 57.4)
    assert significant(a, Observation(2022, 50.3, 50.0, 50.6)) is True
    assert significant(a, Observation(2022, 52.0, 50.0, 53.1)) is False  # touching overlap
    assert significant(a, Observation(2022, 59.0, 57.4, 60.0)) is False  # shared bound
    assert significant(Observation(2022, 1.0), Observation(2022, 2.0)) is None


def test_significant_with_one_interval_uses_that_interval():
    a = Observation(2022, 55.2, 53.0, 57.4)
    assert significant(a, Observation(2022, 52.9)) is True
    assert significant(a, Observation(2022, 53.5)) is False
    assert significant(Observation(2022, 53.5), a) is False


def test_survey_difference_not_significant_is_neutral():
    own = Observation(2022, 48.4, 46.2, 50.6)
    other = Observation(2022, 47.5, 47.2, 47.8)
    c = compare_values(
        own, other, name="Nederland", unit="%", direction="higher_is_better", survey=True
    )
    assert (c.word, c.significant, c.tone) == ("hoger", False, "neutraal")
    c = compare_values(
        own,
        Observation(2022, 40.0, 39.0, 41.0),
        name="Nederland",
        unit="%",
        direction="higher_is_better",
        survey=True,
    )
    assert (c.word, c.significant, c.tone) == ("hoger", True, "gunstig")


@pytest.mark.parametrize(
    ("own", "other", "direction", "word", "tone"),
    [
        (75.0, 73.2, "higher_is_better", "hoger", "gunstig"),
        (2.9, 3.7, "lower_is_better", "lager", "gunstig"),
        (4.2, 3.7, "lower_is_better", "hoger", "ongunstig"),
        (72.0, 72.04, "higher_is_better", "gelijk", "neutraal"),  # same when shown
        (300.0, 379.0, "context", "lager", "neutraal"),
    ],
)
def test_compare_values_words_and_tones(own, other, direction, word, tone):
    c = compare_values(
        Observation(2024, own), Observation(2024, other), name="X", unit="%", direction=direction
    )
    assert (c.word, c.tone, c.significant) == (word, tone, None)


def test_compare_with_missing_value_is_unknown():
    c = compare_values(None, Observation(2024, 1.0), name="X", unit="%", direction="context")
    assert c.word == "onbekend" and c.tone == "neutraal"


# -- trends ---------------------------------------------------------------------------------
def _series(years, values, lower=None, upper=None):
    return pd.DataFrame(
        {
            "year": years,
            "value": values,
            "lower": lower or [NAN] * len(years),
            "upper": upper or [NAN] * len(years),
        }
    )


def test_trend_words_and_span():
    rows = _series(list(range(2015, 2025)), [60.0 + i for i in range(10)])
    t = trend(rows, unit="%", direction="higher_is_better")
    assert t.word == "stijgt" and t.start.year == 2019 and t.end.year == 2024
    assert t.tone == "gunstig" and t.change == pytest.approx(5.0)
    t = trend(rows, unit="%", direction="lower_is_better", year=2020)
    assert t.end.year == 2020 and t.start.year == 2015 and t.tone == "ongunstig"


def test_trend_threshold_stable_and_unknown():
    assert trend(_series([2019, 2024], [70.0, 70.4]), unit="%", direction="context").word == (
        "stabiel"
    )
    assert trend(_series([2019, 2024], [100.0, 101.0]), unit="euro", direction="context").word == (
        "stabiel"
    )
    assert trend(_series([2019, 2024], [100.0, 103.0]), unit="euro", direction="context").word == (
        "stijgt"
    )
    assert trend(_series([2024], [1.0]), unit="%", direction="context").word == "onbekend"
    assert trend(_series([2019, 2024], [NAN, 1.0]), unit="%", direction="context").word == (
        "onbekend"
    )
    # a change invisible at the decimals shown is no change
    assert trend(_series([2019, 2024], [0.01, 0.04]), unit="%", direction="context").word == (
        "stabiel"
    )


def test_survey_trend_needs_separate_intervals():
    rows = _series([2020, 2022], [80.5, 75.9], [72.0, 72.2], [88.0, 79.3])
    assert trend(rows, unit="%", direction="higher_is_better", survey=True).word == "stabiel"
    rows = _series([2020, 2022], [80.5, 70.0], [79.0, 68.0], [82.0, 72.0])
    t = trend(rows, unit="%", direction="higher_is_better", survey=True)
    assert (t.word, t.significant, t.tone) == ("daalt", True, "ongunstig")


# -- observation and missing handling ------------------------------------------------------
def test_observation_picks_latest_up_to_year_and_keeps_reason():
    rows = pd.DataFrame(
        {
            "year": [2021, 2022, 2023],
            "value": [1.0, 2.0, NAN],
            "missing_reason": [None, None, "niet gepubliceerd"],
        }
    )
    assert observation(rows)[0].year == 2022
    assert observation(rows, 2021)[0].value == 1.0
    empty = rows.assign(value=NAN, missing_reason="geen cijfer van CBS (geheim of onbetrouwbaar)")
    obs, why = observation(empty, 2022)
    assert obs is None and why.startswith("geen cijfer van CBS")
    assert observation(rows.iloc[0:0]) == (None, "geen gegevens")


def test_reasons_of_missing_years_name_runs_not_a_min_max_span():
    # Heerenveen's 10-year youth change: the 2014 boundary change for the years whose start
    # lies before it, "niet gepubliceerd" for those between; 2012-2023 would cover both
    years = list(range(2012, 2024))
    why = {y: "niet gepubliceerd" if 2014 <= y <= 2021 else "grens" for y in years}
    rows = pd.DataFrame({"year": years, "value": NAN, "missing_reason": [why[y] for y in years]})
    assert observation(rows) == (
        None,
        "grens (2012-2013, 2022-2023); niet gepubliceerd (2014-2021)",
    )


def test_scorecard_cell_of_a_missing_figure_gives_every_years_reason():
    # Voorne aan Zee's survey figures, offline: the municipality did not exist in the survey
    # years 2020 and 2022, and the 2024 survey, held after the merger, is only online.
    # Either reason alone would mislead; the cell says both, as "Wat ontbreekt" does.
    from westerkwartier.reporting import sections

    later = "gemeente bestond nog niet (ontstaan in 2023)"
    frame = _panel(
        [
            ("GM1", "rokers", 2020, NAN, NAN, NAN, later),
            ("GM1", "rokers", 2022, NAN, NAN, NAN, later),
            ("GM1", "rokers", 2024, NAN, NAN, NAN, "tabel alleen online beschikbaar"),
        ]
    )
    row = comparison.scorecard(
        frame,
        focus="GM1",
        province="PV1",
        province_name="Zuid-Holland",
        indicators=["rokers"],
        catalogue=load_catalogue(),
    )[0]
    cell = sections._own_cell(row)
    assert cell.main == "geen cijfer"
    assert cell.note == f"{later} (2020, 2022); tabel alleen online beschikbaar (2024)"


# -- scorecard, ordering, findings ----------------------------------------------------------
@pytest.fixture
def tiny():
    r = []
    for code, values in {
        "GM1": (75.0, 2.9, 55.2),
        "PV1": (71.2, 4.2, 51.0),
        "NL01": (73.2, 3.7, 50.3),
    }.items():
        r += [
            (code, "netto_arbeidsparticipatie", 2019, values[0] - 4, NAN, NAN, None),
            (code, "netto_arbeidsparticipatie", 2024, values[0], NAN, NAN, None),
            (code, "werkloosheid", 2024, values[1], NAN, NAN, None),
            (code, "overgewicht", 2022, values[2], values[2] - 0.3, values[2] + 0.3, None),
        ]
    r.append(
        ("GM1", "rokers", 2022, NAN, NAN, NAN, "geen cijfer van CBS (geheim of onbetrouwbaar)")
    )
    r.append(("GM1", "woz_waarde", 2024, 301000.0, NAN, NAN, None))
    r.append(("NL01", "woz_waarde", 2024, 379000.0, NAN, NAN, None))
    return _panel(r)


def _rows(tiny, year=None):
    return comparison.scorecard(
        tiny,
        focus="GM1",
        province="PV1",
        province_name="Groningen",
        indicators=[
            "netto_arbeidsparticipatie",
            "werkloosheid",
            "overgewicht",
            "rokers",
            "woz_waarde",
        ],
        catalogue=load_catalogue(),
        year=year,
    )


def test_scorecard_rows(tiny):
    rows = {r.indicator: r for r in _rows(tiny)}
    nap = rows["netto_arbeidsparticipatie"]
    assert nap.own.value == 75.0 and nap.own.year == 2024
    assert nap.province.other.value == 71.2 and nap.nederland.other.value == 73.2
    assert nap.tone == "gunstig" and nap.trend.word == "stijgt"
    assert rows["overgewicht"].survey and rows["overgewicht"].province.significant is True
    assert rows["overgewicht"].tone == "ongunstig"
    assert rows["rokers"].own is None
    assert rows["rokers"].missing_reason.startswith("geen cijfer van CBS")
    assert rows["woz_waarde"].province.word == "onbekend"
    assert rows["woz_waarde"].nederland.tone == "neutraal"  # context is never scored


def test_scorecard_with_requested_year(tiny):
    rows = {r.indicator: r for r in _rows(tiny, 2020)}
    assert rows["netto_arbeidsparticipatie"].own.year == 2019
    assert rows["werkloosheid"].own is None


def test_findings_most_important_first_and_no_context(tiny):
    rows = _rows(tiny)
    out = findings.findings(rows, subjects={"werkloosheid": "de werkloosheid"}, minimum=0)
    ids = [f.indicator for f in out]
    assert "woz_waarde" not in ids and "rokers" not in ids
    scores = [f.score for f in out]
    assert scores == sorted(scores, reverse=True)
    assert ids[0] == max(rows, key=importance).indicator
    text = next(f.text for f in out if f.indicator == "werkloosheid")
    assert text.startswith("De werkloosheid (2,9% in 2024) is lager dan in de provincie Groningen")


def test_findings_filled_up_with_context_and_capped():
    rows = []
    extra = [findings.Finding(f"Context {i}.", "neutraal", 0.0, None) for i in range(10)]
    out = findings.findings(rows, extra=extra, minimum=5, maximum=8)
    assert [f.text for f in out] == [f"Context {i}." for i in range(5)]


def test_finding_text_matches_the_issue_example():
    row = ScoreRow(
        "netto_arbeidsparticipatie",
        "Netto arbeidsparticipatie",
        "arbeidsmarkt",
        "%",
        "higher_is_better",
        False,
        Observation(2023, 74.2),
        None,
        Comparison("de provincie Groningen", Observation(2023, 70.6), "hoger", None, "gunstig"),
        Comparison("Nederland", Observation(2023, 73.1), "hoger", None, "gunstig"),
        Trend("onbekend"),
        "86088NED",
    )
    assert finding_text(row, "de netto arbeidsparticipatie") == (
        "De netto arbeidsparticipatie (74,2% in 2023) is hoger dan in de provincie Groningen "
        "(70,6%) en in Nederland (73,1%)."
    )
    assert finding_text(row).startswith("Netto arbeidsparticipatie: 74,2% in 2023; hoger dan")


def test_finding_text_survey_mixed_significance():
    row = ScoreRow(
        "rokers",
        "Rokers",
        "gezondheid",
        "%",
        "lower_is_better",
        True,
        Observation(2022, 13.5, 10.6, 17.0),
        None,
        Comparison("de provincie Groningen", Observation(2022, 19.3), "lager", True, "gunstig"),
        Comparison("Nederland", Observation(2022, 16.6), "lager", False, "neutraal"),
        Trend("onbekend"),
        "85563NED",
    )
    text = finding_text(row, "het aandeel rokers")
    assert "is significant lager dan in de provincie Groningen (19,3%)" in text
    assert "het verschil met Nederland (16,6%) is niet significant" in text


def test_reference_year_upper_median():
    def r(y):
        return ScoreRow(
            "x",
            "x",
            "s",
            "%",
            "context",
            False,
            None if y is None else Observation(y, 1.0),
            None,
            Comparison("p", None, "onbekend", None, "neutraal"),
            Comparison("n", None, "onbekend", None, "neutraal"),
            Trend("onbekend"),
            "",
        )

    assert reference_year([r(2022), r(2024), r(2024), r(2026)]) == 2024
    assert reference_year([r(2022), r(2022), r(2024)]) == 2022
    assert reference_year([r(None)]) is None
    assert reference_year([r(2022)], 2020) == 2020


# -- input checks ---------------------------------------------------------------------------
def test_parse_jaar():
    day = dt.date(2026, 11, 27)
    assert report_data.parse_jaar(0, day) == 0 and report_data.parse_jaar("2023", day) == 2023
    for bad, match in [(2027, "toekomst"), (1999, "bereik"), ("x", "jaartal"), (True, "jaartal")]:
        with pytest.raises(errors.InputError, match=match):
            report_data.parse_jaar(bad, day)


def test_catalogue_names_known_indicators_and_sections():
    catalogue = report_catalogue.load_report_catalogue()
    assert list(catalogue) == ["aantrekkelijkheid", "talent"]
    talent = catalogue["talent"]
    assert [s.id for s in talent.secties] == [
        "behouden",
        "aantrekken",
        "ontwikkelen",
        "arbeidsmarkt",
    ]
    assert talent.voorop == "behouden"
    assert "binnenlands_migratiesaldo_per_1000" in talent.lead_indicators
    with pytest.raises(errors.InputError, match="geen sectie"):
        talent.section("wonen")


def test_catalogue_mistakes_are_named_with_their_line(tmp_path):
    from westerkwartier.config import ConfigError

    text = report_catalogue.CATALOGUE_FILE.read_text(encoding="utf-8")
    broken = text.replace('titel = "Talent"\n', 'titl = "Talent"\n', 1)
    path = tmp_path / "rapporten.toml"
    path.write_text(broken, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        report_catalogue.load_report_catalogue(path)
    line = broken.splitlines().index('titl = "Talent"') + 1
    assert (line, "rapport.talent: onbekende sleutel 'titl'. Bedoelde u 'titel'?") in (
        info.value.problems
    )
    assert "verplichte sleutel 'titel'" in str(info.value)


def test_unknown_report_suggests_the_closest():
    with pytest.raises(errors.InputError, match="Bedoelde u 'talent'"):
        report_catalogue.report_spec("talnt")


def test_old_names_still_resolve_with_a_warning():
    import importlib
    import sys

    from westerkwartier.analysis import ambitions

    sys.modules.pop("westerkwartier.ambitions", None)
    with pytest.warns(DeprecationWarning, match="verplaatst"):
        old = importlib.import_module("westerkwartier.ambitions")
    assert old.trend is ambitions.linear_projection
    assert old.Trend is ambitions.LinearProjection


def test_map_classes_and_area():
    from westerkwartier.reporting import figures as plots

    classes, edges = plots.classify(pd.Series([1.0, 2.0, 3.0, 4.0, 5.0, NAN]), k=5)
    assert classes.tolist()[:5] == [0.0, 1.0, 2.0, 3.0, 4.0] and np.isnan(classes.iloc[5])
    assert edges[0] == 1.0 and edges[-1] == 5.0
    same, edges = plots.classify(pd.Series([2.0, 2.0]))
    assert same.tolist() == [0.0, 0.0] and edges == [2.0, 2.0]
    assert plots.map_area("GM3", ["GM1", "GM3"], ["GM9", "GM1"]) == ["GM1", "GM3", "GM9"]


def test_trend_data_wide_frame(tiny):
    from westerkwartier.reporting import figures as plots

    regions = pd.DataFrame(
        {
            "code": ["GM1", "PV1", "NL01"],
            "role": ["gemeente", "provincie", "Nederland"],
            "label": ["Eén", "provincie Groningen", "Nederland"],
        }
    )
    wide = plots.trend_data(tiny, "netto_arbeidsparticipatie", regions)
    assert list(wide.columns) == ["Eén", "provincie Groningen", "Nederland"]
    assert list(wide.index) == [2019, 2024] and wide.loc[2024, "Eén"] == 75.0


def test_trend_data_takes_the_first_value_of_a_year_and_sorts_the_years():
    """What pivot_table(aggfunc="first") gave, the rule trend_data keeps in numpy."""
    from westerkwartier.reporting import figures as plots

    panel = pd.DataFrame(
        {
            "region_code": ["GM1", "GM1", "GM1", "GM1", "NL01", "NL01", "GM1", "PV1"],
            "indicator": ["x", "x", "x", "x", "x", "x", "y", "x"],
            "year": [2021, 2020, 2020, 2020, 2020, 2019, 2019, 2018],
            "value": [3.0, NAN, 2.0, 4.0, 5.0, 6.0, 9.0, NAN],
        }
    )
    regions = pd.DataFrame(
        {
            "code": ["GM1", "PV1", "NL01", "GM1"],
            "role": ["gemeente", "provincie", "Nederland", "vergelijking"],
            "label": ["Eén", "provincie", "Nederland", "Eén (vergelijking)"],
        }
    )
    wide = plots.trend_data(panel, "x", regions)
    # 2018 has no value (dropped), 2019 only the country's; GM1's 2020 is the first value that is
    # not missing; a region asked for twice gets a column under each label; other indicators
    # (y in 2019) stay out
    assert list(wide.index) == [2019, 2020, 2021]
    assert wide["Eén"].tolist()[1:] == [2.0, 3.0] and np.isnan(wide.loc[2019, "Eén"])
    assert wide["Eén (vergelijking)"].tolist()[1:] == [2.0, 3.0]
    assert wide["provincie"].isna().all()
    assert wide["Nederland"].tolist()[:2] == [6.0, 5.0] and np.isnan(wide.loc[2021, "Nederland"])
    assert wide.index.name == "year" and wide.index.dtype == np.int64


def test_sections_escape_data():
    from westerkwartier.reporting import sections

    frame = pd.DataFrame({"naam": ["<script>x</script>"], "waarde": ["a & b"]})
    out = sections.tabel(frame, "Kop <b>")
    assert "<script>" not in out and "&lt;script&gt;" in out and "a &amp; b" in out
    assert '<th scope="col">naam</th>' in out and "Kop &lt;b&gt;" in out


def test_scorecard_cell_without_benchmark_says_why(tiny):
    from types import SimpleNamespace as NS

    from westerkwartier.reporting import sections

    rows = {r.indicator: r for r in _rows(tiny)}
    data = NS(panel=tiny, region=NS(province="PV1"))
    woz = sections._scorecard_row(rows["woz_waarde"], True, data)
    province, nederland, peers = woz["cells"][2:5]
    assert province.main == "geen cijfer" and province.note == (
        "CBS publiceert dit cijfer niet voor 2024"
    )
    assert nederland.main != "geen cijfer"
    assert peers.note == "te weinig vergelijkbare gemeenten met dit cijfer"
    # a reason the panel gives is the reason shown
    reasoned = tiny.copy()
    extra = (
        reasoned[reasoned["region_code"] == "NL01"]
        .tail(1)
        .assign(
            region_code="PV1",
            indicator="woz_waarde",
            year=2024,
            value=NAN,
            missing_reason="tabel alleen online beschikbaar",
        )
    )
    data = NS(panel=pd.concat([reasoned, extra]), region=NS(province="PV1"))
    woz = sections._scorecard_row(rows["woz_waarde"], False, data)
    assert woz["cells"][2].note == "tabel alleen online beschikbaar"
    rokers = sections._scorecard_row(rows["rokers"], False, data)
    assert all(c.note for c in rokers["cells"][2:] if c.main == "geen cijfer")
