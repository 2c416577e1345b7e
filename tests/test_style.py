"""Tests of the house style: Dutch numbers, colours, charts (asserted on artists, not pixels)."""

from __future__ import annotations

import base64
import io
import struct
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from westerkwartier.reporting import charts, formatting

# -- numbers ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        (lambda: formatting.fmt_pct(74.2), "74,2%"),
        (lambda: formatting.fmt_pct(74.25), "74,3%"),  # halves away from zero, not to even
        (lambda: formatting.fmt_pct(5, 0), "5%"),
        (lambda: formatting.fmt_eur(304000), "€ 304.000"),
        (lambda: formatting.fmt_eur(1234.5, 2), "€ 1.234,50"),
        (lambda: formatting.fmt_eur(-12.5, 2), "€ -12,50"),
        (lambda: formatting.fmt_int(64896), "64.896"),
        (lambda: formatting.fmt_int(1234567), "1.234.567"),
        (lambda: formatting.fmt_int(999), "999"),
        (lambda: formatting.fmt_int(2.5), "3"),
        (lambda: formatting.fmt_number(1234567.891, 2), "1.234.567,89"),
        (lambda: formatting.fmt_number(0.125, 2), "0,13"),
        (lambda: formatting.fmt_number(-0.04, 1), "0,0"),  # never "-0,0"
        (lambda: formatting.fmt_number(-1234.56, 1), "-1.234,6"),
        (lambda: formatting.fmt_number(np.float32(2.5), 0), "3"),
        (lambda: formatting.fmt_number(np.int64(64896)), "64.896"),
    ],
)
def test_dutch_number_formatting(call, expected):
    assert call() == expected


@pytest.mark.parametrize("missing", [None, float("nan"), np.nan, pd.NA, pd.NaT])
@pytest.mark.parametrize(
    "formatter",
    [
        formatting.fmt_pct,
        formatting.fmt_eur,
        formatting.fmt_int,
        formatting.fmt_number,
        lambda v: formatting.fmt_value(v, "%"),
        lambda v: formatting.fmt_value(v, "1 000 euro"),
    ],
)
def test_missing_values_are_never_zero_or_nan(missing, formatter):
    assert formatter(missing) == "niet beschikbaar"


@pytest.mark.parametrize(
    ("value", "unit", "decimals", "expected"),
    [
        (74.2, "%", None, "74,2%"),
        (74.2, "%", 0, "74%"),
        (304000, "euro", None, "€ 304.000"),
        (45.6, "1 000 euro", 1, "€ 45.600"),
        (1.25, "mln euro", 2, "€ 1,25 mln"),
        (64896, "aantal", 0, "64.896"),
        (64.9, "x 1 000", 1, "64.900"),
        (2.25, "km", 1, "2,3 km"),
        (12.35, "per 1 000 inwoners", 1, "12,4 per 1.000 inwoners"),
        (12.35, "per 1\u00a0000 inwoners", 1, "12,4 per 1.000 inwoners"),
        (41.5, "jaar", 1, "41,5 jaar"),
        (3, None, None, "3"),
    ],
)
def test_fmt_value_dispatches_on_cbs_units(value, unit, decimals, expected):
    assert formatting.fmt_value(value, unit, decimals) == expected


def test_fmt_number_rejects_negative_decimals():
    with pytest.raises(ValueError, match="decimals"):
        formatting.fmt_number(1.0, -1)


def test_unit_label_rewrites_cbs_units():
    assert formatting.unit_label("per 1 000 inwoners") == "per 1.000 inwoners"
    assert formatting.unit_label("1 000 euro") == "euro"
    assert formatting.unit_label("%") == "%"


# -- colours ------------------------------------------------------------------------------------


def test_contrast_ratio_known_values():
    assert charts.contrast_ratio("#000000", "#FFFFFF") == pytest.approx(21.0)
    assert charts.contrast_ratio("#FFFFFF", "#000000") == pytest.approx(21.0)
    assert charts.contrast_ratio("#777777", "#777777") == pytest.approx(1.0)
    # #767676 is the classic lightest grey that passes AA on white; #777777 fails it.
    assert charts.contrast_ratio("#767676") == pytest.approx(4.54, abs=0.01)
    assert charts.contrast_ratio("#777777") < 4.5
    assert charts.contrast_ratio("#0072B2") == pytest.approx(5.19, abs=0.01)


def test_contrast_ratio_rejects_non_hex():
    with pytest.raises(ValueError, match="hexadecimale"):
        charts.contrast_ratio("blue")


@pytest.mark.parametrize("name", sorted(charts.TEXT_COLOURS))
def test_text_colours_meet_wcag_aa_on_white(name):
    assert charts.contrast_ratio(charts.TEXT_COLOURS[name], "#FFFFFF") >= 4.5


@pytest.mark.parametrize("role", sorted(charts.ROLE_COLOURS))
def test_role_colours_meet_graphics_contrast_on_white(role):
    assert charts.contrast_ratio(charts.ROLE_COLOURS[role], "#FFFFFF") >= 3.0


def test_roles_have_distinct_colours():
    colours = [charts.ROLE_COLOURS[r] for r in ("focus", "provincie", "nederland", "buren")]
    assert len(set(colours)) == 4


# -- charts -------------------------------------------------------------------------------------


@pytest.fixture
def wide():
    return pd.DataFrame(
        {
            "Westerkwartier": [63900.0, 64200.0, 64896.0],
            "Groningen (PV)": [64000.0, 64100.0, 64300.0],
            "Nederland": [64500.0, 64600.0, 64700.0],
            "Noordenveld": [63800.0, 63900.0, 64000.0],
        },
        index=[2021, 2022, 2023],
    )


def _trend(wide, **kwargs):
    return charts.trend_chart(
        wide,
        focus="Westerkwartier",
        title="Inwoners",
        unit="aantal",
        tables="03759ned",
        province="Groningen (PV)",
        **kwargs,
    )


def test_trend_chart_artists(wide):
    chart = _trend(wide)
    fig, ax = chart.figure, chart.ax
    assert fig.get_suptitle() == "Inwoners"
    assert fig.get_supxlabel() == "Bron: CBS, tabel 03759ned"
    assert ax.get_title(loc="left") == "aantal"
    lines = ax.get_lines()
    assert len(lines) == 4
    by_label = {line.get_label(): line for line in lines}
    focus = by_label["Westerkwartier"]
    assert focus.get_color() == charts.ROLE_COLOURS["focus"]
    assert focus.get_linewidth() > max(line.get_linewidth() for line in lines if line is not focus)
    assert focus.get_zorder() == max(line.get_zorder() for line in lines)
    assert by_label["Groningen (PV)"].get_color() == charts.ROLE_COLOURS["provincie"]
    assert by_label["Nederland"].get_color() == charts.ROLE_COLOURS["nederland"]
    assert by_label["Noordenveld"].get_color() == charts.ROLE_COLOURS["buren"]
    assert list(focus.get_xdata()) == [2021, 2022, 2023]
    assert ax.get_legend() is not None


def test_trend_chart_axis_labels_are_dutch(wide):
    chart = _trend(wide)
    chart.figure.draw_without_rendering()
    y_labels = [t.get_text() for t in chart.ax.get_yticklabels() if t.get_text()]
    x_labels = [t.get_text() for t in chart.ax.get_xticklabels() if t.get_text()]
    assert y_labels and all("," not in s for s in y_labels)
    assert any("." in s for s in y_labels)  # thousands separator: 64.000, not 64,000 or 64000
    assert "2022" in x_labels and not any("." in s for s in x_labels)  # years: 2022, not 2.022


def test_trend_chart_default_alt_text_summarises_values(wide):
    chart = _trend(wide)
    assert chart.alt.startswith("Lijngrafiek: Inwoners.")
    assert "Westerkwartier: van 63.900 in 2021 naar 64.896 in 2023." in chart.alt
    assert chart.alt.endswith("Bron: CBS, tabel 03759ned.")


def test_trend_chart_unknown_focus_is_a_clear_error(wide):
    with pytest.raises(KeyError, match="focusregio"):
        charts.trend_chart(wide, focus="Leek", title="t", unit="%", tables="x")


def test_bar_chart_artists():
    values = pd.Series({"Noordenveld": 72.0, "Westerkwartier": 74.2, "Nederland": np.nan})
    chart = charts.bar_chart(
        values, focus="Westerkwartier", title="Arbeidsparticipatie", unit="%", tables="86088NED"
    )
    ax = chart.ax
    assert chart.figure.get_suptitle() == "Arbeidsparticipatie"
    assert chart.figure.get_supxlabel() == "Bron: CBS, tabel 86088NED"
    bars = ax.patches
    assert len(bars) == 3
    assert sum(bar.get_visible() for bar in bars) == 2  # no bar for the missing value
    labels = [t.get_text() for t in ax.texts]
    assert labels == ["74,2%", "72,0%", "niet beschikbaar"]  # sorted high to low, NaN last
    ticks = sorted((t.get_position()[1], t.get_text()) for t in ax.get_yticklabels())
    assert [text for _, text in ticks] == ["Nederland", "Noordenveld", "Westerkwartier"]
    top = max(bars, key=lambda b: b.get_y())
    assert top.get_width() == pytest.approx(74.2)
    assert top.get_facecolor()[:3] == pytest.approx(
        tuple(int(charts.ROLE_COLOURS["focus"][i : i + 2], 16) / 255 for i in (1, 3, 5))
    )
    assert "Westerkwartier: 74,2%; Noordenveld: 72,0%; Nederland: niet beschikbaar" in chart.alt


def test_a_bar_far_longer_than_the_others_is_cut_short_and_says_so():
    """Heeze-Leende's neighbours in 2023: Cranendonck's -429,9 per 1.000 (Budel's asylum
    centre) drawn at full length left the other bars a few pixels long."""
    values = pd.Series(
        {"Heeze-Leende": 9.8, "Valkenswaard": 6.1, "Eindhoven": -9.8, "Cranendonck": -429.9}
    )
    unit = "per 1 000 inwoners"
    chart = charts.bar_chart(
        values, focus="Heeze-Leende", title="Saldo", unit=unit, tables="x", decimals=1
    )
    names = {round(t.get_position()[1]): t.get_text() for t in chart.ax.get_yticklabels()}
    widths = {names[round(b.get_y() + b.get_height() / 2)]: b.get_width() for b in chart.ax.patches}
    assert widths["Cranendonck"] == pytest.approx(-charts.CUT_LENGTH * 9.8)
    assert widths["Eindhoven"] == pytest.approx(-9.8) and widths["Heeze-Leende"] == 9.8
    assert "-429,9 per 1.000 inwoners" in [t.get_text() for t in chart.ax.texts]  # its value
    assert "Cranendonck: -429,9 per 1.000 inwoners" in chart.alt
    assert chart.note == (
        "De staaf van Cranendonck (-429,9 per 1.000 inwoners) is ingekort; op ware lengte "
        "zouden de andere staven nauwelijks te zien zijn."
    )
    assert len(chart.ax.lines) == 2  # the two white strokes of the break
    # six times the next longest is an ordinary spread (Vijfheerenlanden's 22,3 beside its
    # neighbours' 3,5): nothing cut, nothing said
    plain = charts.bar_chart(values.replace(-429.9, -60.0), focus="Heeze-Leende", title="Saldo",
                             unit=unit, tables="x")  # fmt: skip
    assert min(b.get_width() for b in plain.ax.patches) == -60.0
    assert plain.note == "" and not plain.ax.lines
    assert charts.cut_bar([1.0, np.nan, 50.0]) is None  # two bars: no "others" to protect


def test_source_line_for_several_tables():
    assert charts.source_line(["A", "B"]) == "Bron: CBS, tabellen A en B"


def _png_text_keys(png: bytes) -> list[bytes]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    keys, pos = [], 8
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        kind = png[pos + 4 : pos + 8]
        if kind in (b"tEXt", b"iTXt", b"zTXt"):
            keys.append(png[pos + 8 : pos + 8 + length].split(b"\0", 1)[0])
        if kind == b"tIME":
            keys.append(b"tIME")
        pos += 12 + length
    return keys


def test_figure_png_is_deterministic_and_has_no_software_or_time(wide):
    first = charts.figure_png(_trend(wide).figure)
    chart = _trend(wide)
    assert charts.figure_png(chart.figure) == first  # a new, equal figure: equal bytes
    assert charts.figure_png(chart.figure) == first  # the same figure twice: equal bytes
    keys = _png_text_keys(first)
    assert b"Software" not in keys and b"tIME" not in keys


def test_figure_size_is_phone_friendly(wide):
    from PIL import Image

    png = charts.figure_png(_trend(wide).figure)
    width, height = Image.open(io.BytesIO(png)).size
    assert 600 <= width <= 900 and 300 <= height <= 600


def test_figure_svg_is_deterministic_small_and_has_no_date(wide):
    first = charts.figure_svg(_trend(wide).figure)
    chart = _trend(wide)
    assert charts.figure_svg(chart.figure) == first  # a new, equal figure: equal bytes
    assert charts.figure_svg(chart.figure) == first  # the same figure twice: equal bytes
    text = first.decode("utf-8")
    assert "<dc:date>" not in text and "Matplotlib" not in text
    assert "<text" in text  # text stays text, not glyph outlines
    assert len(first) < len(charts.figure_png(_trend(wide).figure))


#: Attributes whose numbers compact_svg rounds (path data and positions, in points).
_COORDINATES = {"d", "x", "y", "x1", "x2", "y1", "y2", "cx", "cy", "points"}


def _svg_tree(svg: bytes) -> list[tuple[str, dict[str, str], str, str]]:
    """Every element of an SVG, in document order: tag, attributes, text and tail (stripped)."""
    from xml.etree import ElementTree

    return [
        (e.tag, dict(e.attrib), (e.text or "").strip(), (e.tail or "").strip())
        for e in ElementTree.fromstring(svg).iter()
    ]


def _largest_shift(before: bytes, after: bytes) -> float:
    """Check that ``after`` holds the elements, texts and attributes of ``before``.

    Returns the largest difference between a number of a coordinate attribute in both.
    """
    old, new = _svg_tree(before), _svg_tree(after)
    assert [(t, sorted(a), x, y) for t, a, x, y in new] == [
        (t, sorted(a), x, y) for t, a, x, y in old
    ]
    shift = 0.0
    for (_, was, _, _), (_, now, _, _) in zip(old, new, strict=True):
        for key, value in was.items():
            if key not in _COORDINATES:
                assert now[key] == value, key
                continue
            tokens, rounded = value.split(), now[key].split()
            assert len(rounded) == len(tokens), key
            for token, other in zip(tokens, rounded, strict=True):
                if token[-1].isdigit():
                    shift = max(shift, abs(float(token) - float(other)))
                else:
                    assert other == token  # a path command
    return shift


def test_figure_svg_is_compact_and_keeps_every_element_text_and_place(wide):
    """No XML prolog, no white space between elements, coordinates to 0,01 pt."""
    from matplotlib.backends.backend_svg import svgProlog

    values = pd.Series({"Noordenveld": 72.0, "Westerkwartier": 74.2, "Nederland": np.nan})
    bar = charts.bar_chart(
        values, focus="Westerkwartier", title="Arbeidsparticipatie", unit="%", tables="86088NED"
    )
    for figure in (_trend(wide).figure, bar.figure):
        full = charts.figure_svg(figure, compact=False)
        assert full.decode("utf-8").startswith(svgProlog)  # what matplotlib writes
        compact = charts.figure_svg(figure)
        assert compact == charts.compact_svg(full)
        assert compact.startswith(b"<svg ") and b"\n" not in compact and b"> <" not in compact
        assert len(compact) < 0.85 * len(full)
        assert 0 < _largest_shift(full, compact) <= 0.005 + 1e-9


@pytest.mark.parametrize("render", [charts.figure_svg, charts.figure_png])
def test_a_picture_draws_its_figure_once(wide, render):
    # with a layout engine still set, savefig first draws the whole figure without output
    chart = _trend(wide)
    draws = []
    draw = chart.figure.draw
    chart.figure.draw = lambda renderer: draws.append(renderer) or draw(renderer)
    render(chart.figure)
    assert chart.figure.get_layout_engine() is None
    assert len(draws) == 1
    draws.clear()
    render(chart.figure)  # laid out once: the second picture costs one draw, too
    assert len(draws) == 1


def test_empty_axis_labels_cost_no_measuring_and_change_no_byte(wide, monkeypatch):
    from matplotlib.axis import Axis

    real = Axis._update_ticks
    updates: list[Axis] = []
    monkeypatch.setattr(Axis, "_update_ticks", lambda self: updates.append(self) or real(self))
    fixed = charts.figure_svg(_trend(wide).figure), charts.figure_png(_trend(wide).figure)
    fewer = len(updates)
    updates.clear()
    # matplotlib's own placing: every empty label measures the ticks again, same pictures
    monkeypatch.setattr(charts, "_place_empty_axis_labels", lambda figure: None)
    assert (charts.figure_svg(_trend(wide).figure), charts.figure_png(_trend(wide).figure)) == fixed
    assert 0 < fewer < len(updates)


@pytest.mark.parametrize("limits", [None, (63000.0, 65000.0)])  # a tick on each edge
def test_ticks_outside_the_view_are_not_made_and_change_no_byte(wide, limits, monkeypatch):
    def pictures():
        chart = _trend(wide)
        if limits is not None:
            chart.ax.set_ylim(*limits)
        pictures = charts.figure_svg(chart.figure), charts.figure_png(chart.figure)
        ticks = [len(axis.majorTicks) for axis in (chart.ax.xaxis, chart.ax.yaxis)]
        drawn = [len(axis._update_ticks()) for axis in (chart.ax.xaxis, chart.ax.yaxis)]
        return pictures, ticks, drawn, chart.ax.get_yticklabels()

    fixed, fewer, drawn, labels = pictures()
    assert fewer == drawn  # a tick for every place in the view, and none beyond
    if limits is not None:
        assert [t.get_text() for t in labels][:: len(labels) - 1] == ["63.000", "65.000"]
    # matplotlib's own way: a tick for every place the locator gives, the same pictures
    monkeypatch.setattr(charts, "_ticks_in_view_only", lambda figure: None)
    same, more, _, _ = pictures()
    assert same == fixed
    assert sum(fewer) < sum(more)


def test_font_tables_are_read_once_and_change_no_byte(wide, monkeypatch):
    import matplotlib.text as mtext
    from matplotlib.font_manager import FontProperties, fontManager

    reads: list[str] = []
    real = mtext.get_font

    class Counted:
        def __init__(self, font):
            self.font = font

        def get_sfnt_table(self, name):
            reads.append(name)
            return self.font.get_sfnt_table(name)

    monkeypatch.setattr(mtext, "get_font", lambda *args, **kw: Counted(real(*args, **kw)))
    monkeypatch.setattr(charts, "_FONT_TABLES", {})

    def pictures():
        chart = _trend(wide)
        return charts.figure_svg(chart.figure), charts.figure_png(chart.figure)

    fixed = pictures()
    first = len(reads)
    assert pictures() == fixed
    assert 0 < first == len(reads) <= 8  # two tables of a few fonts, then none
    # a font file asked for by its path is matplotlib's own font, as outside the block
    path = fontManager.findfont(FontProperties())
    with charts.house_style():
        assert isinstance(mtext.get_font(path), Counted)
    # matplotlib reading the tables at every layout: the same pictures, many more reads
    monkeypatch.setattr(
        charts._FontTables, "get_sfnt_table", lambda self, name: self._font.get_sfnt_table(name)
    )
    reads.clear()
    assert pictures() == fixed
    assert len(reads) > 10 * first


def test_tick_decimals_follow_the_step_when_one_tick_is_in_view():
    from matplotlib.figure import Figure
    from matplotlib.ticker import MultipleLocator

    fig = Figure()
    ax = fig.add_subplot()
    ax.plot([0, 1], [0.45, 0.55])
    ax.set_ylim(0.45, 0.55)
    ax.yaxis.set_major_locator(charts.InViewLocator(MultipleLocator(0.5)))
    ax.yaxis.set_major_formatter(charts.DutchFormatter())
    fig.draw_without_rendering()
    assert list(ax.get_yticks()) == [0.5]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["0,5"]


def test_an_axis_label_with_text_stays_below_the_tick_labels():
    values = pd.Series({"Noordenveld": 72.0, "Westerkwartier": 74.2, "Nederland": 73.0})
    chart = charts.bar_chart(
        values, focus="Westerkwartier", title="Arbeidsparticipatie", unit="%", tables="86088NED"
    )
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    charts.figure_png(chart.figure)
    renderer = FigureCanvasAgg(chart.figure).get_renderer()
    label = chart.ax.xaxis.label
    ticks = [t.get_window_extent(renderer) for t in chart.ax.get_xticklabels() if t.get_text()]
    assert label.get_text() and ticks
    assert label.get_window_extent(renderer).y1 <= min(box.y0 for box in ticks)


def _pictures(wide):
    """SVG, PNG and a PNG at another resolution of a new trend chart."""
    return (
        charts.figure_svg(_trend(wide).figure),
        charts.figure_png(_trend(wide).figure),
        charts.figure_png(_trend(wide).figure, dpi=2 * charts.DPI),
    )


def _counted_measurements(monkeypatch):
    """Count the texts that matplotlib's Agg and SVG renderers measure."""
    from matplotlib.backends.backend_agg import RendererAgg
    from matplotlib.backends.backend_svg import RendererSVG

    measured: list[str] = []
    for renderer in (RendererAgg, RendererSVG):
        real = renderer.get_text_width_height_descent

        def counted(self, s, prop, ismath, real=real):
            measured.append(s)
            return real(self, s, prop, ismath)

        monkeypatch.setattr(renderer, "get_text_width_height_descent", counted)
    return measured


def test_charts_share_measured_text_sizes_and_draw_the_same_bytes(wide, monkeypatch):
    import contextlib

    import matplotlib.text as mtext

    original = mtext._get_text_metrics_with_cache
    measured = _counted_measurements(monkeypatch)
    charts._TEXT_METRICS.clear()
    shared = _pictures(wide)
    first = len(measured)
    assert first > 0
    measured.clear()
    again = _pictures(wide)  # new figures, new renderers: every size is known already
    assert again == shared
    assert measured == []
    assert mtext._get_text_metrics_with_cache is original  # outside a chart: matplotlib's own

    # without sharing every new figure measures its texts again, and draws the same bytes
    monkeypatch.setattr(charts, "shared_text_metrics", contextlib.nullcontext)
    assert _pictures(wide) == shared
    assert len(measured) > first  # the three figures of one round did not share either


def test_shared_text_sizes_are_kept_apart_by_font_resolution_and_hinting():
    import matplotlib
    from matplotlib.backends.backend_agg import RendererAgg
    from matplotlib.font_manager import FontProperties
    from matplotlib.text import _get_text_metrics_with_cache as measure_outside

    charts._TEXT_METRICS.clear()
    text = "Westerkwartier 2026"
    cases = [
        (RendererAgg(700, 400, 110), FontProperties(family="DejaVu Sans", size=10), "auto"),
        (RendererAgg(700, 400, 110), FontProperties(family="DejaVu Sans", size=13), "auto"),
        (RendererAgg(700, 400, 220), FontProperties(family="DejaVu Sans", size=10), "auto"),
        (RendererAgg(700, 400, 110), FontProperties(family="DejaVu Sans", size=10), "none"),
    ]
    with charts.house_style():
        import matplotlib.text as mtext

        sizes = []
        for renderer, font, hinting in cases:
            with matplotlib.rc_context({"text.hinting": hinting}):
                sizes.append(
                    mtext._get_text_metrics_with_cache(renderer, text, font, False, renderer.dpi)
                )
    for (renderer, font, hinting), size in zip(cases, sizes, strict=True):
        with matplotlib.rc_context({**charts.RC_PARAMS, "text.hinting": hinting}):
            assert size == measure_outside(renderer, text, font, False, renderer.dpi)
    assert len(set(sizes)) == len(sizes)  # four keys, four different sizes
    assert len(charts._TEXT_METRICS) == len(cases)


def _store_file():
    from westerkwartier import settings
    from westerkwartier.reporting import text_sizes

    return Path(settings.cache_dir) / text_sizes.STORE_DIR / f"{text_sizes.stamp()}.sqlite"


def _as_new_kernel():
    """Forget what this process measured, as a new kernel would not know it."""
    from westerkwartier.reporting import text_sizes

    charts._TEXT_METRICS.clear()
    text_sizes.close()


def test_a_new_kernel_reads_the_text_sizes_an_earlier_one_measured(wide, monkeypatch):
    measured = _counted_measurements(monkeypatch)
    _as_new_kernel()
    first = _pictures(wide)
    assert measured and _store_file().is_file()
    count = len(measured)

    _as_new_kernel()
    measured.clear()
    assert _pictures(wide) == first
    assert measured == []  # every size came from the store

    # another matplotlib (or FreeType, or font files) uses another file, and measures anew
    import matplotlib

    monkeypatch.setattr(matplotlib, "__version__", matplotlib.__version__ + ".anders")
    _as_new_kernel()
    assert _pictures(wide) == first
    assert len(measured) == count


def test_text_size_keys_tell_apart_what_changes_a_size():
    from matplotlib.backends.backend_agg import RendererAgg
    from matplotlib.backends.backend_svg import RendererSVG
    from matplotlib.font_manager import FontProperties

    from westerkwartier.reporting import text_sizes

    font = FontProperties(family="DejaVu Sans", size=10)
    head = (RendererAgg, 110, "auto", 8, 0.0, True, "2026")
    keys = [
        text_sizes.disk_key(head, font, 110),
        text_sizes.disk_key(head, FontProperties(family="DejaVu Sans", size=11), 110),
        text_sizes.disk_key(head, FontProperties(family="DejaVu Sans", weight="bold"), 110),
        text_sizes.disk_key(head, font, 220),
        text_sizes.disk_key((RendererSVG, *head[1:]), font, 110),
        text_sizes.disk_key((*head[:2], "none", *head[3:]), font, 110),
        text_sizes.disk_key((*head[:-1], "2025"), font, 110),
    ]
    assert len(set(keys)) == len(keys)
    assert text_sizes.disk_key(head, font.copy(), 110) == keys[0]
    import matplotlib

    with matplotlib.rc_context({"font.sans-serif": ["Arial", "DejaVu Sans"]}):
        # a family name may mean another file under other settings
        sans = FontProperties(family="sans-serif", size=10)
        other = text_sizes.disk_key(head, sans, 110)
    assert other != text_sizes.disk_key(head, sans, 110)


@pytest.mark.parametrize(
    "damage", [b"geen database" * 100, b"SQLite format 3\x00" + b"\xff" * 5000]
)
def test_a_damaged_text_size_store_is_replaced_and_the_charts_are_the_same(wide, damage):
    _as_new_kernel()
    first = _pictures(wide)
    store = _store_file()
    store.write_bytes(damage)

    _as_new_kernel()
    assert _pictures(wide) == first
    assert not store.is_file() or store.read_bytes() != damage  # removed, not read again
    _as_new_kernel()
    assert _pictures(wide) == first
    assert store.is_file()  # the next kernel makes a new store


def test_charts_are_made_when_the_text_size_store_cannot_be_written(wide, monkeypatch, tmp_path):
    import sqlite3

    from westerkwartier import settings

    _as_new_kernel()
    first = _pictures(wide)

    blocked = tmp_path / "geen-map"
    blocked.write_text("een bestand waar de cachemap hoort")
    monkeypatch.setattr(settings, "cache_dir", blocked)
    _as_new_kernel()
    assert _pictures(wide) == first

    # a full disk (or a read-only store): the charts are made, the sizes kept in memory
    monkeypatch.setattr(settings, "cache_dir", tmp_path / "vol")
    _as_new_kernel()
    real_connect = sqlite3.connect

    class Full:
        def __init__(self, db):
            self.db = db

        def execute(self, sql, *args):
            if sql.startswith("BEGIN"):
                raise sqlite3.OperationalError("database or disk is full")
            return self.db.execute(sql, *args)

        def __getattr__(self, name):
            return getattr(self.db, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return self.db.__exit__(*exc)

    monkeypatch.setattr(sqlite3, "connect", lambda *a, **k: Full(real_connect(*a, **k)))
    assert _pictures(wide) == first
    from westerkwartier.reporting import text_sizes

    assert text_sizes._STORE.writable is False  # it stops trying after the first failure


def test_a_kernel_does_not_wait_for_another_that_holds_the_text_size_store(wide, monkeypatch):
    import sqlite3
    import time

    from westerkwartier.reporting import text_sizes

    measured = _counted_measurements(monkeypatch)
    _as_new_kernel()
    first = _pictures(wide)  # the store exists
    monkeypatch.setattr(text_sizes, "BUSY_TIMEOUT", 0.2)
    other = sqlite3.connect(_store_file(), isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")  # another kernel writes
    try:
        _as_new_kernel()
        start = time.perf_counter()
        assert _pictures(wide) == first
        assert time.perf_counter() - start < 10
    finally:
        other.execute("ROLLBACK")
        other.close()
    # the busy store was left alone: the next kernel reads every size from it
    _as_new_kernel()
    measured.clear()
    assert _pictures(wide) == first
    assert measured == []


def test_figure_image_takes_png_when_the_svg_is_larger(wide, monkeypatch):
    chart = _trend(wide)
    assert charts.figure_image(chart.figure)[0] == "image/svg+xml"
    huge = b"<svg>" + b"<g/>" * 500_000 + b"</svg>"  # 2 MB, compact or not
    monkeypatch.setattr(charts, "figure_svg", lambda figure, compact=True: huge)
    mime, data = charts.figure_image(chart.figure)
    assert mime == "image/png"
    assert base64.b64decode(data)[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_raster_chart_is_png_without_drawing_the_svg(wide, monkeypatch):
    chart = _trend(wide)
    assert chart.raster is False  # charts: SVG first
    drawn = []
    real = charts.figure_svg
    monkeypatch.setattr(
        charts, "figure_svg", lambda figure, **kw: drawn.append(figure) or real(figure)
    )
    chart.raster = True  # as a map (figures._map_chart)
    data, metadata = chart._repr_mimebundle_()
    assert list(data) == ["image/png", "text/plain"] and drawn == []
    assert metadata["image/png"]["alt"] == chart.alt
    png = base64.b64decode(data["image/png"])
    assert png == base64.b64decode(
        charts.figure_mimebundle(chart.figure, chart.alt, raster=True)[0]["image/png"]
    )


def test_compact_png_is_smaller_and_the_same_on_every_run(wide):
    from PIL import Image

    png = charts.figure_png(_trend(wide).figure)
    first, second = charts.compact_png(png), charts.compact_png(png)
    assert first == second and len(first) < len(png)
    with Image.open(io.BytesIO(first)) as image:
        assert image.mode == "P" and image.size == Image.open(io.BytesIO(png)).size


def test_figure_compact_png_is_the_compacted_png_without_encoding_it_first(wide, monkeypatch):
    expected = charts.compact_png(charts.figure_png(_trend(wide).figure))
    encoded = []
    real = charts.figure_png
    monkeypatch.setattr(charts, "figure_png", lambda f, dpi=None: encoded.append(f) or real(f))
    assert charts.figure_compact_png(_trend(wide).figure) == expected
    assert encoded == []  # the full-colour PNG was never made


def test_show_figure_publishes_the_picture_with_alt_text(wide, monkeypatch):
    import IPython.display

    published = []
    monkeypatch.setattr(
        IPython.display,
        "publish_display_data",
        lambda data, metadata=None, **kw: published.append((data, metadata)),
    )
    chart = _trend(wide)
    charts.show_figure(chart)
    charts.show_figure(chart.figure, "Eigen alt-tekst")
    assert len(published) == 2
    data, metadata = published[0]
    assert data["image/svg+xml"] and metadata["image/svg+xml"]["alt"] == chart.alt
    assert published[1][1]["image/svg+xml"]["alt"] == "Eigen alt-tekst"


def test_show_figure_puts_a_charts_note_under_it(wide, monkeypatch):
    """A chart's note is for every reader: a footnote after the picture, escaped."""
    import IPython.display

    shown: list[str] = []
    monkeypatch.setattr(
        IPython.display,
        "publish_display_data",
        lambda data, metadata=None, **kw: shown.append("<grafiek>"),
    )
    monkeypatch.setattr(
        IPython.display, "display", lambda *objs, **kw: shown.extend(o.data for o in objs)
    )
    chart = _trend(wide)
    charts.show_figure(chart)
    chart.note = "Zonder lijn voor de provincie: A & B."
    charts.show_figure(chart)
    assert shown == [
        "<grafiek>",
        "<grafiek>",
        '<p class="voetnoot">Zonder lijn voor de provincie: A &amp; B.</p>',
    ]


def test_a_chart_shown_as_a_cells_value_has_its_note_under_it(wide):
    """An analyst who ends a cell with a chart sees what the report's reader sees."""
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output

    chart = _trend(wide)
    chart.note = "Zonder lijn voor de provincie: A & B."
    shell = InteractiveShell.instance()
    shell.user_ns["grafiek"] = chart
    with capture_output() as captured:
        shell.run_cell("grafiek")
    picture, note = captured.outputs
    assert picture.metadata["image/svg+xml"]["alt"] == chart.alt
    assert "<svg" in picture.data["image/svg+xml"]
    assert note.data["text/html"] == (
        '<p class="voetnoot">Zonder lijn voor de provincie: A &amp; B.</p>'
    )


def test_show_figure_requires_alt_text(wide):
    with pytest.raises(ValueError, match="alt-tekst"):
        charts.show_figure(_trend(wide).figure, "  ")


def test_show_figure_closes_pyplot_figures(monkeypatch):
    import IPython.display
    import matplotlib

    matplotlib.use("agg")
    import matplotlib.pyplot as plt

    monkeypatch.setattr(IPython.display, "publish_display_data", lambda *a, **k: None)
    fig, ax = plt.subplots()
    ax.plot([1, 2], [3, 4])
    assert plt.fignum_exists(fig.number)
    charts.show_figure(fig, "Een lijn")
    assert not plt.fignum_exists(fig.number)


def test_house_style_applies_its_settings_and_puts_back_every_one_even_after_an_error():
    import matplotlib

    rc = matplotlib.rcParams
    with matplotlib.rc_context({"font.size": 7, "axes.grid": False, "svg.hashsalt": None}):
        before = {key: dict.__getitem__(rc, key) for key in rc}
        with charts.house_style():
            inside = {key: rc[key] for key in charts.RC_PARAMS}
            with charts.rc_settings(charts.SVG_PARAMS):
                assert rc["svg.fonttype"] == "none"
            assert rc["font.size"] == 11.0 and rc["svg.fonttype"] == before["svg.fonttype"]
        # validated as rcParams.update validates: the house font is a list, sizes are floats
        assert inside == dict(matplotlib.RcParams(charts.RC_PARAMS))
        assert {key: dict.__getitem__(rc, key) for key in rc} == before
        with pytest.raises(ZeroDivisionError), charts.house_style():
            _ = 1 / 0
        assert {key: dict.__getitem__(rc, key) for key in rc} == before
        with pytest.raises(ValueError), charts.rc_settings({"font.size": "groot"}):
            pass  # an invalid value: nothing is left half set
        assert {key: dict.__getitem__(rc, key) for key in rc} == before
