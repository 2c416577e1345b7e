"""No text of a report's chart covers another or runs out of the picture.

Every chart both report notebooks draw is checked, for a city, a Frisian municipality and a
merger of 2021, with their real figures (offline). Before this test the key of the health
survey chart covered its title in every report, the values of long negative bars ran into
the names of the regions (Amsterdam's neighbours), the axis text of the index charts ran out
of the picture after long names of rows (Eemsdelta) and so did long bold titles. Notes inside
a chart ("opgebouwd uit de voorgangers", "grenzen 2021") had lines of data running through
them.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from chart_text import overlapping_texts, texts_on_lines, texts_outside

from westerkwartier.reporting import charts

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "benchmarks"), str(ROOT / "scripts")]
import chart_scan  # noqa: E402


def test_no_text_of_a_report_chart_covers_another_or_leaves_the_picture():
    problems = {}
    for code in ("GM0363", "GM1900", "GM1979"):  # Amsterdam, Súdwest-Fryslân, Eemsdelta
        drawn = chart_scan.report_figures(code)
        assert len(drawn) >= 20, (code, len(drawn))
        for figure in drawn:
            found = [*overlapping_texts(figure), *texts_outside(figure), *texts_on_lines(figure)]
            if found:
                problems[(code, figure.get_suptitle()[:60])] = found[:3]
    assert not problems, problems


def test_the_check_sees_a_key_over_a_title():
    """The helper finds what the survey chart did: a figure legend on top of the title."""
    chart = charts.new_chart("Gezondheidsmonitor 2022: Westerkwartier", unit=None, tables="x")
    chart.ax.plot([1, 2], [1, 2], label="Westerkwartier")
    chart.ax.plot([1, 2], [2, 1], label="provincie Groningen")
    chart.figure.legend(loc="outside upper center", ncol=2, frameon=False)
    charts.figure_png(chart.figure)
    assert overlapping_texts(chart.figure)


def test_a_long_bold_title_wraps_inside_the_picture():
    """Wrapped at 62 characters, this title ran 20 pixels past the right edge."""
    import pandas as pd

    title = "Gemiddelde WOZ-waarde van woningen: Schiermonnikoog, provincie Fryslân en Nederland"
    frame = pd.DataFrame(
        {"Schiermonnikoog": [247.0, 403.0], "provincie Fryslân": [190.0, 290.0]}, index=[2019, 2024]
    )
    chart = charts.trend_chart(frame, focus="Schiermonnikoog", title=title, unit="euro", tables="x")
    svg = charts.figure_svg(chart.figure)
    assert not texts_outside(chart.figure)
    lines = chart.figure.get_suptitle().split("\n")
    assert len(lines) == 2 and " ".join(lines) == title  # two lines, as the layout measured
    drawn = re.findall(r"<text[^>]*>([^<]*)</text>", svg.decode("utf-8"))
    assert all(line in drawn for line in lines)  # the picture has the lines it made room for


def test_no_line_of_data_runs_through_a_note_at_the_top():
    """Percentages near the top of their axis, just after a break, ran through its note."""
    import pandas as pd

    years = list(range(2005, 2024))  # many years: the note is wider than a year
    frame = pd.DataFrame(
        {
            "Ons": [29.0] * 10 + [31.6, 31.7, 31.4, 31.0, 30.8, 30.5, 30.2, 30.0, 29.8],
            "Nederland": [28.5] * 10 + [31.8, 31.7, 31.5, 31.2, 30.9, 30.6, 30.4, 30.2, 30.0],
        },
        index=years,
    )
    chart = charts.trend_chart(
        frame, focus="Ons", title="Laag", unit="%", tables="x", breaks=[2015]
    )
    charts.figure_svg(chart.figure)
    assert [t.get_text() for t in chart.ax.texts] == ["trendbreuk"]
    assert not texts_on_lines(chart.figure)
    low, high = chart.ax.get_ylim()
    assert (31.8 - low) / (high - low) < 1 - charts.NOTE_TOP - charts.NOTE_GAP
    # made room once: a second picture of the same figure moves nothing
    charts.figure_png(chart.figure)
    assert chart.ax.get_ylim() == (low, high)


def test_the_chart_scan_names_what_a_reader_cannot_read(capsys):
    """``scripts/chart_scan.py`` runs these checks over every municipality (35 minutes); here
    its verdict on single figures, and a run for Schiermonnikoog."""
    covered = charts.new_chart("Gezondheidsmonitor 2022: Westerkwartier", unit=None, tables="x")
    covered.ax.plot([1, 2], [1, 2], label="Westerkwartier")
    covered.ax.plot([1, 2], [2, 1], label="provincie Groningen")
    covered.figure.legend(loc="outside upper center", ncol=2, frameon=False)
    charts.figure_png(covered.figure)
    assert any(p.startswith("tekst over tekst") for p in chart_scan.figure_problems(covered.figure))

    keyed = charts.new_chart("Kaart", unit=None, tables="x")
    keyed.ax.plot([1, 2], [1, 2], label="1–2")
    keyed.ax.legend(title="1–2")
    charts.figure_png(keyed.figure)
    assert chart_scan.figure_problems(keyed.figure) == ["legenda met de naam van een klasse: '1–2'"]

    assert chart_scan.main(["GM0088"]) == 0
    assert "1 gemeente: niets gevonden" in capsys.readouterr().out
