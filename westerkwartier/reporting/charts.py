"""House style of the charts: colour-blind-safe colours, titles, units, sources and alt text.

Charts are plain :class:`matplotlib.figure.Figure` objects that are never registered with
``pyplot``: a notebook shows them with :func:`show_figure`, which sends the picture (SVG, or
PNG where that is smaller) with its alt text to the notebook. That output does not depend on
the matplotlib backend, so ``MPLBACKEND=agg`` in the environment cannot drop figures, and the
inline backend never shows a second copy without alt text.
"""

from __future__ import annotations

import base64
import io
import math
import os
import re
import sys
import weakref
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.text import Text
from matplotlib.ticker import Formatter, Locator, MaxNLocator
from matplotlib.typing import RcKeyType

from westerkwartier.reporting import text_sizes
from westerkwartier.reporting.formatting import (
    MISSING,
    and_list,
    fmt_number,
    fmt_value,
    is_missing,
    unit_label,
)

# ----------------------------------------------------------------------------------------------
# Colours
# ----------------------------------------------------------------------------------------------

#: The Okabe-Ito palette (Okabe & Ito 2008), safe for the common kinds of colour blindness.
OKABE_ITO: dict[str, str] = {
    "oranje": "#E69F00",
    "hemelsblauw": "#56B4E9",
    "blauwgroen": "#009E73",
    "geel": "#F0E442",
    "blauw": "#0072B2",
    "vermiljoen": "#D55E00",
    "roodpaars": "#CC79A7",
    "zwart": "#000000",
}


#: Colours by role in a chart. Lines also differ in width and style, never in colour alone.
#: Every role has at least 3:1 contrast on white (WCAG 1.4.11, graphical objects).
ROLE_COLOURS: dict[str, str] = {
    "focus": OKABE_ITO["blauw"],  # the municipality of the report
    "provincie": OKABE_ITO["vermiljoen"],
    "nederland": "#000000",
    "buren": "#8C8C8C",  # neighbours and statistical peers: quiet context
    "neutraal": "#767676",
}


#: Text colours; each has at least 4.5:1 contrast on white (WCAG 1.4.3, AA).
TEXT_COLOURS: dict[str, str] = {
    "tekst": "#1A1A1A",
    "gedempt": "#595959",  # source lines, axis labels, units
    "focus": "#0072B2",
    "link": "#005A8C",
}


#: Distinct colours for categories without a role, in order of use.
CATEGORICAL: tuple[str, ...] = (
    OKABE_ITO["blauw"],
    OKABE_ITO["vermiljoen"],
    OKABE_ITO["blauwgroen"],
    OKABE_ITO["roodpaars"],
    OKABE_ITO["oranje"],
    OKABE_ITO["hemelsblauw"],
    "#000000",
)


_LINE_STYLES: dict[str, dict[str, Any]] = {
    "focus": {"linewidth": 3.0, "linestyle": "-", "zorder": 5},
    "provincie": {"linewidth": 1.8, "linestyle": "--", "zorder": 4},
    "nederland": {"linewidth": 1.8, "linestyle": ":", "zorder": 4},
    "buren": {"linewidth": 1.2, "linestyle": "-", "zorder": 3},
}


def _hex_to_rgb(colour: str) -> tuple[float, float, float]:
    text = colour.lstrip("#")
    if len(text) == 3:
        text = "".join(ch * 2 for ch in text)
    if not re.fullmatch(r"[0-9a-fA-F]{6}", text):
        raise ValueError(f"Geen hexadecimale kleur: {colour!r}")
    return tuple(int(text[i : i + 2], 16) / 255 for i in (0, 2, 4))  # type: ignore[return-value]


def relative_luminance(colour: str) -> float:
    """Return the WCAG 2 relative luminance of a ``#RRGGBB`` colour (0 black, 1 white)."""
    channels = [
        c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in _hex_to_rgb(colour)
    ]
    return 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2]


def contrast_ratio(foreground: str, background: str = "#FFFFFF") -> float:
    """Return the WCAG 2 contrast ratio of two colours, from 1 to 21.

    Parameters
    ----------
    foreground, background : str
        Colours as ``#RRGGBB`` (or ``#RGB``).

    Returns
    -------
    float
        ``(L1 + 0.05) / (L2 + 0.05)`` with L1 the lighter luminance. Normal text needs 4.5.

    Examples
    --------
    >>> round(contrast_ratio("#000000", "#FFFFFF"), 1)
    21.0
    """
    a, b = relative_luminance(foreground), relative_luminance(background)
    light, dark = max(a, b), min(a, b)
    return (light + 0.05) / (dark + 0.05)


# ----------------------------------------------------------------------------------------------
# Charts
# ----------------------------------------------------------------------------------------------

#: Figure size in inches and resolution: 770 x 440 pixels, readable when scaled to a phone.
FIGSIZE: tuple[float, float] = (7.0, 4.0)


DPI: int = 110


#: matplotlib settings of every chart. DejaVu Sans ships with matplotlib, so the same text
#: renders the same pixels on every machine.
RC_PARAMS: dict[RcKeyType, Any] = {
    "font.family": "DejaVu Sans",
    "font.size": 11,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "xtick.labelsize": 10,
    "ytick.labelsize": 10,
    "legend.fontsize": 10,
    "axes.edgecolor": TEXT_COLOURS["gedempt"],
    "axes.labelcolor": TEXT_COLOURS["gedempt"],
    "xtick.color": TEXT_COLOURS["gedempt"],
    "ytick.color": TEXT_COLOURS["gedempt"],
    "text.color": TEXT_COLOURS["tekst"],
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.grid.axis": "y",
    "grid.color": "#DDDDDD",
    "grid.linewidth": 0.8,
    "figure.facecolor": "white",
    "axes.facecolor": "white",
    "savefig.facecolor": "white",
    "text.hinting": "auto",
    "path.simplify": True,
    "svg.hashsalt": "westerkwartier",
}


@contextmanager
def house_style() -> Iterator[None]:
    """Apply :data:`RC_PARAMS` for the duration of a ``with`` block.

    Inside the block every chart also shares one store of measured text sizes
    (:func:`shared_text_metrics`).
    """
    with rc_settings(RC_PARAMS), shared_text_metrics():
        yield


@contextmanager
def rc_settings(params: Mapping[RcKeyType, Any]) -> Iterator[None]:
    """Apply the matplotlib settings ``params`` in a ``with`` block; then put those keys back.

    matplotlib's own ``rc_context`` copies all of its some 300 settings on entry, each one
    validated again, to restore them all on exit: about 0,28 ms, and both reports of a
    municipality enter this function about 150 times. Here only the keys of ``params`` are kept
    and put back (as ``rc_context`` puts them back, without validating them again): about
    0,05 ms. A setting that code inside the block changes under another key stays changed; the
    package's blocks change none.

    Parameters
    ----------
    params : mapping
        matplotlib settings (``rcParams`` keys), validated as ``rcParams.update`` does.

    Examples
    --------
    >>> import matplotlib
    >>> before = matplotlib.rcParams["font.size"]
    >>> with rc_settings({"font.size": 31}):
    ...     matplotlib.rcParams["font.size"]
    31.0
    >>> matplotlib.rcParams["font.size"] == before
    True
    """
    import matplotlib

    rc = matplotlib.rcParams
    saved = {key: dict.__getitem__(rc, key) for key in params}
    try:
        rc.update(params)
        yield
    finally:
        dict.update(rc, saved)


#: Text sizes measured in charts: (renderer class, its resolution, the settings of
#: :data:`_TEXT_METRIC_SETTINGS`, text, font, resolution of the figure) -> (width, height,
#: descent) in pixels.
_TEXT_METRICS: dict[tuple[Any, ...], tuple[float, float, float]] = {}

#: matplotlib settings that change a measured size, part of the key where this matplotlib has
#: them (the font's kerning, FreeType's hinting, the fallback font for missing glyphs, the
#: language the text is shaped for).
_TEXT_METRIC_SETTINGS: tuple[RcKeyType, ...] = (
    "text.hinting",
    "text.hinting_factor",
    "text.kerning_factor",
    "font.enable_last_resort",
    "text.language",
)

#: The store is emptied when it holds this many sizes (a report measures a few hundred).
TEXT_METRICS_LIMIT = 50_000


class _FontTables:
    """A font whose tables (``get_sfnt_table``) are read from the file once.

    matplotlib lays out every text with the line height of its font, which it reads from two
    of the font's tables on each layout: 4.568 reads for both reports of Westerkwartier, each
    building a new dictionary (0,1 s of CPU). The tables are a fixed part of the font file,
    so the first read is kept; whatever else is asked goes to the font itself.
    """

    def __init__(self, font: Any) -> None:
        self._font = font
        self._tables: dict[str, Any] = {}

    def get_sfnt_table(self, name: str) -> Any:
        """Return the table as FreeType read it the first time (a dictionary, or None)."""
        if name not in self._tables:
            self._tables[name] = self._font.get_sfnt_table(name)
        return self._tables[name]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._font, name)


#: Fonts with their tables read, by the font files (the first and its fallbacks).
_FONT_TABLES: dict[tuple[str, ...], _FontTables] = {}


def _renderers_sharing_metrics() -> tuple[type, ...]:
    """Return the renderer classes whose text sizes depend only on the key of the store.

    Agg measures with FreeType at its own resolution; the SVG renderer measures the glyph
    outlines at a fixed scale. Neither keeps state between two texts that changes a size.
    """
    from matplotlib.backends.backend_agg import RendererAgg
    from matplotlib.backends.backend_svg import RendererSVG

    return (RendererAgg, RendererSVG)


@contextmanager
def shared_text_metrics() -> Iterator[None]:
    """Let every figure drawn in a ``with`` block reuse the text sizes measured before.

    matplotlib keeps the sizes it measures per renderer, and every new figure (every saved
    picture) has a new one, so each chart measured its tick labels, titles and source line
    again with FreeType, some 7% of a warm report's CPU. The sizes depend
    only on the text, the font, the resolution and the hinting settings, so inside the block
    matplotlib's measuring function (``matplotlib.text._get_text_metrics_with_cache``) is
    replaced by one that keeps them across renderers of the same class. A size not measured
    in this process is first looked up in the cache folder (:mod:`text_sizes`: what earlier
    kernels and runs measured), and the outermost block writes the new ones there when it
    ends. The line height of a font is read from its tables once, not at every layout
    (:class:`_FontTables`). The pictures are the same bytes. Mathematical text and other
    renderers are measured as before; outside the block (an analyst's own figures) nothing
    changes. Blocks may be nested.
    """
    import matplotlib
    import matplotlib.text as mtext

    measure = getattr(mtext, "_get_text_metrics_with_cache", None)
    open_font = getattr(mtext, "get_font", None)
    if measure is None or open_font is None or getattr(measure, "_westerkwartier_shared", False):
        # a future matplotlib without the functions, or already inside a block
        yield
        return
    from matplotlib.backends.backend_mixed import MixedModeRenderer

    renderers = _renderers_sharing_metrics()
    settings = [name for name in _TEXT_METRIC_SETTINGS if name in matplotlib.rcParams]

    def shared(renderer: Any, text: str, fontprop: Any, ismath: Any, dpi: float) -> Any:
        # a vector picture is drawn by a mixed renderer that measures with the one inside
        actual = renderer._renderer if isinstance(renderer, MixedModeRenderer) else renderer
        if ismath or type(actual) not in renderers:
            return measure(renderer, text, fontprop, ismath, dpi)
        rc = matplotlib.rcParams
        head = (type(actual), getattr(actual, "dpi", None), *(rc[s] for s in settings), text)
        size = _TEXT_METRICS.get((*head, fontprop, dpi))
        if size is None:
            if len(_TEXT_METRICS) >= TEXT_METRICS_LIMIT:
                _TEXT_METRICS.clear()
            key = text_sizes.disk_key(head, fontprop, dpi)
            size = text_sizes.lookup(key)  # measured by an earlier kernel or run
            if size is None:
                size = measure(renderer, text, fontprop, ismath, dpi)
                text_sizes.remember(key, size)
            # stored with a copy: FontProperties is mutable and hashes by its current state
            _TEXT_METRICS[(*head, fontprop.copy(), dpi)] = size
        return size

    def font_with_tables(font_filepaths: Any, *args: Any, **kwargs: Any) -> Any:
        # text.py asks a font only for its tables (the line height); a path or other arguments
        # than matplotlib's text layout passes go to matplotlib as they are
        if args or kwargs or isinstance(font_filepaths, str | bytes | os.PathLike):
            return open_font(font_filepaths, *args, **kwargs)
        key = tuple(str(path) for path in font_filepaths)
        font = _FONT_TABLES.get(key)
        if font is None:
            font = _FONT_TABLES[key] = _FontTables(open_font(font_filepaths))
        return font

    shared._westerkwartier_shared = True  # type: ignore[attr-defined]
    mtext._get_text_metrics_with_cache = shared  # type: ignore[attr-defined]
    mtext.get_font = font_with_tables  # type: ignore[attr-defined]
    try:
        yield
    finally:
        mtext._get_text_metrics_with_cache = measure  # type: ignore[attr-defined]
        mtext.get_font = open_font  # type: ignore[attr-defined]
        text_sizes.save()


@dataclass
class Chart:
    """A chart ready to be shown: the figure, its main axes and its alt text.

    Attributes
    ----------
    figure : matplotlib.figure.Figure
        The figure (not registered with pyplot).
    ax : matplotlib.axes.Axes
        The axes holding the data.
    alt : str
        Text alternative for readers who cannot see the picture.
    raster : bool
        Show it as PNG without trying SVG first (:func:`figure_image`): a map, whose outlines
        make an SVG several times the size of the PNG.
    note : str
        A sentence under the chart for every reader, sighted or not (empty: none): what the
        chart leaves out or what one of its lines contains that the picture cannot say, such
        as a province's line left out because one municipality makes its figure.
    """

    figure: Figure
    ax: Axes
    alt: str
    raster: bool = False
    note: str = ""

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> tuple[dict, dict]:
        return figure_mimebundle(self.figure, self.alt, raster=self.raster)

    def _ipython_display_(self) -> None:
        # a chart as a cell's last value, or in display(): its note under it, as show_figure
        # does in the reports (a single picture could not carry the sentence)
        show_figure(self)


def source_line(tables: str | Sequence[str], publisher: str = "CBS") -> str:
    """Return the attribution line under a chart.

    Examples
    --------
    >>> source_line("86088NED")
    'Bron: CBS, tabel 86088NED'
    >>> source_line(["85012NED", "85563NED", "86137NED"])
    'Bron: CBS, tabellen 85012NED, 85563NED en 86137NED'
    """
    ids = [tables] if isinstance(tables, str) else list(tables)
    if not ids:
        return f"Bron: {publisher}"
    if len(ids) == 1:
        return f"Bron: {publisher}, tabel {ids[0]}"
    return f"Bron: {publisher}, tabellen {', '.join(ids[:-1])} en {ids[-1]}"


class DutchFormatter(Formatter):
    """Tick labels as Dutch numbers, with as many decimals as the tick step needs."""

    def __init__(self) -> None:
        super().__init__()
        self.decimals = 0

    def set_locs(self, locs: Sequence[float]) -> None:  # noqa: D102 - matplotlib API
        # matplotlib passes an ndarray here; its stubs say list
        super().set_locs(locs)  # type: ignore[arg-type]
        # the decimals follow from all the locator's ticks, also those outside the view that
        # an InViewLocator leaves out: a view with one tick has a step all the same
        locator = getattr(getattr(self.axis, "major", None), "locator", None)
        every = getattr(locator, "unclipped", None) if isinstance(locator, InViewLocator) else None
        values = sorted(float(v) for v in (locs if every is None else every))
        steps = [b - a for a, b in zip(values, values[1:], strict=False) if b - a > 0]
        if steps:
            step = min(steps)
            self.decimals = max(0, min(4, -math.floor(math.log10(step) + 1e-9)))
            # A step of 2,5 needs one decimal more than its magnitude says (2,5 not 3).
            while self.decimals < 4 and any(
                abs(round(v, self.decimals) - v) > 1e-9 * max(1.0, abs(v)) for v in values
            ):
                self.decimals += 1
        else:
            self.decimals = 0

    def __call__(self, x: float, pos: int | None = None) -> str:  # noqa: D102 - matplotlib API
        return fmt_number(x, self.decimals)


class YearFormatter(Formatter):
    """Tick labels for years: ``2023``, never ``2.023``."""

    def __call__(self, x: float, pos: int | None = None) -> str:  # noqa: D102 - matplotlib API
        return str(int(round(x)))


class InViewLocator(Locator):
    """The ticks of another locator that fall inside the view, and only those.

    matplotlib makes a tick (two lines, a grid line and two labels: about a millisecond) for
    every place a locator returns, and draws those inside the view. A ``MaxNLocator`` returns
    a place or two beyond the ends: 79 of the 485 ticks that both reports of Westerkwartier
    made were never drawn for that reason. This locator leaves them out, with a margin far
    wider than matplotlib's own test, so every tick that matplotlib draws stays and the
    picture is the same. The other questions (the view's limits, a range without width) go
    to the locator it wraps. :class:`DutchFormatter` still counts its decimals over all the
    places (:attr:`unclipped`).

    Parameters
    ----------
    base : matplotlib.ticker.Locator
        The locator that places the ticks.
    """

    #: How far beyond the view a place still counts as inside, as a share of the view's width
    #: (matplotlib's own test allows 1e-10).
    MARGIN = 1e-6

    def __init__(self, base: Locator) -> None:
        self.base = base
        #: The places the wrapped locator returned at the last call, outside the view as well.
        self.unclipped: np.ndarray | None = None

    def set_axis(self, axis: Any) -> None:  # noqa: D102 - matplotlib API
        super().set_axis(axis)
        self.base.set_axis(axis)

    def __call__(self) -> Sequence[float]:  # noqa: D102 - matplotlib API
        locs = np.asarray(self.base(), dtype=float)
        self.unclipped = locs
        if self.axis is None:  # not on an axis: no view to keep to
            return locs  # type: ignore[return-value]
        low, high = sorted(float(v) for v in self.axis.get_view_interval())
        margin = (high - low) * self.MARGIN
        return locs[(locs >= low - margin) & (locs <= high + margin)]  # type: ignore[return-value]

    def tick_values(self, vmin: float, vmax: float) -> Sequence[float]:  # noqa: D102
        return self.base.tick_values(vmin, vmax)

    def view_limits(self, vmin: float, vmax: float) -> tuple[float, float]:  # noqa: D102
        return self.base.view_limits(vmin, vmax)

    def nonsingular(self, v0: float, v1: float) -> tuple[float, float]:  # noqa: D102
        return self.base.nonsingular(v0, v1)

    def set_params(self, **kwargs: Any) -> None:  # noqa: D102 - matplotlib API
        self.base.set_params(**kwargs)


def _ticks_in_view_only(figure: Figure) -> None:
    """Let the value and year axes of ``figure`` make ticks only inside the view.

    Only where the picture cannot change: a linear axis placed by a ``MaxNLocator`` (or
    matplotlib's default, a kind of it) and labelled by our own formatters: the year labels
    need no other place, and :class:`DutchFormatter` takes its decimals from all the places
    the wrapped locator returned. matplotlib's default formatter chooses its format from the
    places it is given, so its axes keep all theirs. Axes sharing an axis share its locator:
    it is wrapped once.
    """
    for ax in figure.axes:
        if not ax.axison:
            continue
        for axis in (ax.xaxis, ax.yaxis):
            locator = axis.get_major_locator()
            if (
                axis.get_visible()
                and axis.get_scale() == "linear"
                and isinstance(locator, MaxNLocator)
                and isinstance(axis.get_major_formatter(), DutchFormatter | YearFormatter)
            ):
                axis.set_major_locator(InViewLocator(locator))


def new_chart(
    title: str,
    *,
    unit: str | None,
    tables: str | Sequence[str],
    alt: str = "",
    figsize: tuple[float, float] = FIGSIZE,
    dpi: int = DPI,
) -> Chart:
    """Make an empty chart in the house style: title, unit label and source line.

    Parameters
    ----------
    title : str
        What the chart shows, as a sentence; long titles wrap.
    unit : str or None
        The unit of the value axis (a CBS unit is rewritten by :func:`unit_label`), shown above
        the axis at the left.
    tables : str or sequence of str
        CBS table ids for the source line, e.g. ``"86088NED"``.
    alt : str, optional
        Alt text; fill it in before showing the chart.
    figsize, dpi
        Size in inches and resolution.

    Returns
    -------
    Chart
        Figure, axes and alt text.
    """
    with house_style():
        fig = Figure(
            figsize=figsize, dpi=dpi, layout=ConstrainedLayoutEngine(h_pad=0.08, w_pad=0.08)
        )
        ax = fig.add_subplot()
        # wrapped by matplotlib to the width of the picture: a count of characters let a wide
        # bold line ("...: Schiermonnikoog, provincie") run past the right edge
        fig.suptitle(title, x=0.01, ha="left", fontsize=13, fontweight="bold", wrap=True)
        if unit:
            # y given: matplotlib then skips measuring the axes to lift the title above any
            # labels on top, which our charts never have (the same picture, less work)
            ax.set_title(unit_label(unit), loc="left", y=1.0, color=TEXT_COLOURS["gedempt"])
        fig.supxlabel(
            source_line(tables), x=0.01, ha="left", fontsize=9, color=TEXT_COLOURS["gedempt"]
        )
        ax.yaxis.set_major_formatter(DutchFormatter())
    return Chart(figure=fig, ax=ax, alt=alt)


#: The notes :func:`top_note` wrote, per axes, until the chart's first picture makes room.
_TOP_NOTES: weakref.WeakKeyDictionary[Axes, list[Text]] = weakref.WeakKeyDictionary()

#: Where a note starts (axes fraction below the top) and the free space kept under it.
NOTE_TOP, NOTE_GAP = 0.02, 0.03

#: The share of its first height an axes keeps after the layout has made room for titles, keys
#: and labels: 0.72-1.02 for the 46 axes with notes in the reports of Eemsdelta, Dijk en Waard,
#: Westerkwartier and Amsterdam. The smallest keeps the most room.
AXES_SHARE = 0.7


def top_note(ax: Axes, x: float, text: str) -> Text:
    """Write a short note inside the top of ``ax``, starting at ``x``, and keep lines off it.

    The notes of the report charts ("trendbreuk", "opgebouwd uit de voorgangers", "grenzen
    2019") stand just right of the line or band they explain. A line of data running through
    one makes both hard to read, so when the chart is first made into a picture
    (:func:`_room_for_top_notes`) its value axis is raised until the data stay below the note.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        The axes; ``x`` is in its data units, the note hangs from the top.
    x : float
        Where the note starts.
    text : str
        The note; a line break makes two lines.

    Returns
    -------
    matplotlib.text.Text
        The note.
    """
    note = ax.text(
        x,
        1.0 - NOTE_TOP,
        text,
        transform=ax.get_xaxis_transform(),
        fontsize=8,
        color=TEXT_COLOURS["gedempt"],
        va="top",
    )
    _TOP_NOTES.setdefault(ax, []).append(note)
    return note


def _room_for_top_notes(figure: Figure) -> None:
    """Raise the value axis of every axes with a :func:`top_note` so no data reach the note.

    Done once per axes, before the layout: the data keep to the lower part of the axes, the
    note has the part above them. The height of the axes after the layout is estimated from
    its first place (``AXES_SHARE``), on the small side, so the room is rather too much.
    """
    plans = []
    for ax in figure.axes:
        notes = _TOP_NOTES.pop(ax, None)
        if not notes:
            continue
        lines = max(note.get_text().count("\n") + 1 for note in notes)
        size = max(float(note.get_fontsize()) for note in notes)
        points = ax.get_position().height * figure.get_figheight() * 72 * AXES_SHARE
        free = min(0.4, NOTE_TOP + (lines * size * 1.2 + 2) / points + NOTE_GAP)
        low, high = ax.get_ylim()  # read for all first: axes may share their value axis
        plans.append((ax, low, high, free))
    for ax, low, high, free in plans:
        ax.set_ylim(low, low + (high - low) / (1 - free))


def _role_of(region: str, focus: str, province: str | None, country: str) -> str:
    if region == focus:
        return "focus"
    if province is not None and region == province:
        return "provincie"
    if region == country:
        return "nederland"
    return "buren"


def trend_chart(
    data: pd.DataFrame,
    *,
    focus: str,
    title: str,
    unit: str | None,
    tables: str | Sequence[str],
    decimals: int | None = None,
    province: str | None = None,
    country: str = "Nederland",
    alt: str | None = None,
    breaks: Sequence[int] = (),
) -> Chart:
    """Draw lines per region over the years, the focus region highlighted.

    Parameters
    ----------
    data : pandas.DataFrame
        Wide table: index years (int), one column per region (names as shown), values in
        ``unit``. Make it from a tidy panel with
        ``panel.pivot(index="jaar", columns="regio", values="waarde")``.
    focus : str
        Column of the municipality of the report: thick blue line, drawn on top.
    title : str
        Chart title.
    unit : str or None
        CBS unit of the values.
    tables : str or sequence of str
        CBS table ids for the source line.
    decimals : int, optional
        Decimals in the alt text (default as in :func:`fmt_value`).
    province : str, optional
        Column of the province (vermilion, dashed).
    country : str, default "Nederland"
        Column of the Netherlands (black, dotted). Other columns are thin grey context lines.
    alt : str, optional
        Alt text; by default a summary of the first and last values is written.
    breaks : sequence of int
        Years that start a new series (a definition break): the lines stop before such a year
        and start again at it, with a dotted vertical line marked "trendbreuk"; the alt text
        says so. A piece of a single year before the first piece of two years or more is left
        out (:func:`comparable_part`): one point is no line, so only the focus region's would
        show, and it compares with no other year.

    Returns
    -------
    Chart
        The chart and its alt text.

    Examples
    --------
    >>> wide = pd.DataFrame({"Westerkwartier": [70.1, 71.0], "Nederland": [68.0, 69.2]},
    ...                     index=[2022, 2023])
    >>> chart = trend_chart(wide, focus="Westerkwartier", title="Netto arbeidsparticipatie",
    ...                     unit="%", tables="86088NED")
    >>> len(chart.ax.get_lines())
    2
    """
    if focus not in data.columns:
        raise KeyError(
            f"De focusregio {focus!r} staat niet in de gegevens; kolommen: {list(data.columns)}"
        )
    chart = new_chart(title, unit=unit, tables=tables)
    ax = chart.ax
    frame, inside, left_out = comparable_part(data.sort_index(), breaks)
    years = [int(y) for y in frame.index]
    # a gap (NaN) half a year before each break: the lines never join across it
    xs = np.array(years + [b - 0.5 for b in inside], dtype=float)
    at = np.argsort(xs, kind="stable")
    # Context first, focus last so that it is drawn on top and listed last in the legend.
    order = [c for c in frame.columns if c != focus] + [focus]
    with house_style():
        for b in inside:
            ax.axvline(b - 0.5, color=TEXT_COLOURS["gedempt"], linestyle=":", linewidth=1)
            top_note(ax, b - 0.45, "trendbreuk")
        for region in order:
            role = _role_of(str(region), focus, province, country)
            ys = np.concatenate([frame[region].to_numpy(dtype=float), np.full(len(inside), np.nan)])
            ax.plot(
                xs[at],
                ys[at],
                color=ROLE_COLOURS[role],
                label=str(region),
                marker="o" if role == "focus" else None,
                markersize=4,
                **_LINE_STYLES[role],
            )
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=8))
        ax.xaxis.set_major_formatter(YearFormatter())
        handles, labels = ax.get_legend_handles_labels()
        ax.legend(
            handles[::-1],
            labels[::-1],
            loc="upper center",
            bbox_to_anchor=(0.5, -0.1),
            ncol=min(len(labels), 3),
            frameon=False,
        )
    if alt is None:
        alt = _trend_alt(frame, focus, title, unit, decimals, tables, inside, left_out)
    chart.alt = alt
    return chart


def comparable_part(
    frame: pd.DataFrame, breaks: Sequence[int]
) -> tuple[pd.DataFrame, list[int], list[int]]:
    """Return the years of a trend chart worth drawing, the breaks inside them, the years left out.

    A definition break splits the years into pieces that are compared only within themselves.
    A piece of one year at the start (the first year of a register, followed by a second
    break, as in the hospital admissions of 2013 and 2014) is no line: matplotlib draws no
    line through a single point, so only the focus region's marker would show, beside
    nothing it can be compared with. Such pieces are left out until a piece of two years or
    more begins; the last piece always stays.

    Parameters
    ----------
    frame : pandas.DataFrame
        Wide table with sorted years as index.
    breaks : sequence of int
        Years that start a new series.

    Returns
    -------
    frame, inside, left_out : pandas.DataFrame, list of int, list of int
        The rows to draw; the breaks after their first year; the years left out.

    Examples
    --------
    >>> wide = pd.DataFrame({"A": [1.0, 2.0, 3.0, 4.0]}, index=[2013, 2014, 2015, 2016])
    >>> part, inside, left_out = comparable_part(wide, [2014, 2015])
    >>> part.index.tolist(), inside, left_out
    ([2015, 2016], [], [2013, 2014])
    >>> comparable_part(wide, [2015])[1:]
    ([2015], [])
    """
    years = [int(y) for y in frame.index]
    inside = sorted(int(b) for b in breaks if years and years[0] < int(b) <= years[-1])
    left_out: list[int] = []
    while inside and sum(year < inside[0] for year in years) < 2:
        left_out += [year for year in years if year < inside[0]]
        years = [year for year in years if year >= inside[0]]
        inside = inside[1:]
    if left_out:
        frame = frame.loc[[int(y) >= years[0] for y in frame.index]]
    return frame, inside, left_out


def _trend_alt(
    frame: pd.DataFrame,
    focus: str,
    title: str,
    unit: str | None,
    decimals: int | None,
    tables: str | Sequence[str],
    breaks: Sequence[int] = (),
    left_out: Sequence[int] = (),
) -> str:
    """Alt text of a trend chart: per region the first and last value of each series.

    With ``breaks`` every series between two breaks is described on its own, so that the text
    never compares values across a definition break either. ``left_out`` are the years before
    a break the chart does not draw (:func:`comparable_part`).
    """
    parts = [f"Lijngrafiek: {title}."]
    if left_out:
        parts.append(
            f"Niet in de grafiek: {and_list([str(y) for y in left_out])}, voor de trendbreuk "
            f"van {int(frame.index[0])}; die cijfers zijn met geen ander jaar te vergelijken."
        )
    if breaks:
        years_text = " en ".join(str(b) for b in breaks)
        parts.append(
            f"Trendbreuk in {years_text}: de cijfers vanaf dat jaar zijn niet te vergelijken met "
            "die van eerdere jaren; de lijnen zijn daar onderbroken."
        )
    edges = [-math.inf, *breaks, math.inf]
    for region in [focus] + [c for c in frame.columns if c != focus]:
        series = frame[region].dropna()
        if series.empty:
            parts.append(f"{region}: {MISSING}.")
            continue
        spans = []
        for lo, hi in zip(edges[:-1], edges[1:], strict=True):
            part = series[(series.index >= lo) & (series.index < hi)]
            if part.empty:
                continue
            first_year, last_year = int(part.index[0]), int(part.index[-1])
            first = fmt_value(part.iloc[0], unit, decimals)
            last = fmt_value(part.iloc[-1], unit, decimals)
            if first_year == last_year:
                spans.append(f"{last} in {last_year}")
            else:
                spans.append(f"van {first} in {first_year} naar {last} in {last_year}")
        parts.append(f"{region}: {'; na de trendbreuk '.join(spans)}.")
    parts.append(source_line(tables) + ".")
    return " ".join(parts)


#: A bar at least this many times as long as the next longest is cut short: Cranendonck's
#: domestic balance of -429,9 per 1.000 inhabitants (Budel's asylum centre) left the bars of
#: Heeze-Leende and its other neighbours a few pixels long. Bars a fifth as long as the longest
#: read well (Vijfheerenlanden's 22,3 beside its neighbours' 3,5-4,3); in the national run of
#: December 2026 the ratios were 4-6 for such spreads and 12-106 where an asylum centre or
#: Vlieland's flows made one bar.
OUTLIER_RATIO: float = 10.0

#: How long a cut bar is drawn, in lengths of the next longest bar.
CUT_LENGTH: float = 1.6


def cut_bar(values: Sequence[float]) -> tuple[int, float] | None:
    """Return which bar to cut short and the length to draw it, or None.

    The longest bar is cut when it is at least :data:`OUTLIER_RATIO` times as long as the next
    longest and at least three bars have a value; it is drawn :data:`CUT_LENGTH` times that
    length, on its own side of zero.

    Examples
    --------
    >>> cut_bar([-0.8, 2.0, -429.9, 5.6])
    (2, -8.96)
    >>> cut_bar([-0.8, 2.0, -33.0, 5.6]) is None
    True
    """
    sizes = [abs(v) if not is_missing(v) else math.nan for v in values]
    known = sorted(((v, i) for i, v in enumerate(sizes) if not math.isnan(v)), reverse=True)
    if len(known) < 3 or known[1][0] <= 0 or known[0][0] < OUTLIER_RATIO * known[1][0]:
        return None
    first = known[0][1]
    return first, round(math.copysign(CUT_LENGTH * known[1][0], values[first]), 9)


def bar_chart(
    values: pd.Series | Mapping[str, float],
    *,
    focus: str,
    title: str,
    unit: str | None,
    tables: str | Sequence[str],
    decimals: int | None = None,
    province: str | None = None,
    country: str = "Nederland",
    sort: bool = True,
    alt: str | None = None,
) -> Chart:
    """Draw horizontal bars comparing regions, the focus region highlighted and labelled.

    Parameters
    ----------
    values : pandas.Series or mapping
        Region name -> value in ``unit``; missing values get no bar and the label
        "niet beschikbaar".
    focus : str
        The municipality of the report (blue bar, bold label).
    title, unit, tables, decimals, province, country, alt
        As in :func:`trend_chart`.
    sort : bool, default True
        Sort from high (top) to low; otherwise keep the given order from top to bottom.

    Returns
    -------
    Chart
        The chart and its alt text; a bar cut short (:func:`cut_bar`) is drawn with a white
        break near its end, its value beside it, and said in the chart's ``note``.
    """
    series = pd.Series(values, dtype="float64")
    if focus not in series.index:
        raise KeyError(
            f"De focusregio {focus!r} staat niet in de gegevens; regio's: {list(series.index)}"
        )
    if sort:
        series = series.sort_values(ascending=False, na_position="last", kind="stable")
    chart = new_chart(
        title, unit=None, tables=tables, figsize=(FIGSIZE[0], max(2.5, 1.2 + 0.38 * len(series)))
    )
    ax = chart.ax
    with house_style():
        ax.grid(False)
        ax.grid(True, axis="x")
        ax.set_axisbelow(True)
        ax.xaxis.set_major_formatter(DutchFormatter())
        positions = list(range(len(series)))[::-1]  # first item at the top
        labels = [str(r) for r in series.index]
        roles = [_role_of(r, focus, province, country) for r in labels]
        # Context bars lighter than context lines: a bar is a large area.
        colours = [ROLE_COLOURS[role] if role != "buren" else "#A6A6A6" for role in roles]
        heights = series.fillna(0.0).to_numpy(copy=True)
        cut = cut_bar(list(series.to_numpy()))
        if cut is not None:
            heights[cut[0]] = cut[1]
        bars = ax.barh(positions, heights, color=colours, height=0.7)
        if cut is not None:
            _break_mark(ax, positions[cut[0]], cut[1])
        for bar, value in zip(bars, series.to_numpy(), strict=True):
            if is_missing(value):
                bar.set_visible(False)
        ax.set_yticks(positions, labels)
        for tick in ax.get_yticklabels():
            if tick.get_text() == focus:
                tick.set_fontweight("bold")
                tick.set_color(TEXT_COLOURS["tekst"])
        # the value beside the end of a bar, and beside zero for a negative one: at the left
        # end of a long bar to the left it would run into the names of the regions
        for position, value, drawn in zip(positions, series.to_numpy(), heights, strict=True):
            ax.annotate(
                fmt_value(value, unit, decimals),
                xy=(0.0 if is_missing(value) or value < 0 else drawn, position),
                xytext=(3, 0),
                textcoords="offset points",
                ha="left",
                va="center",
                fontsize=9,
                color=TEXT_COLOURS["tekst"],
            )
        if unit:
            ax.set_xlabel(unit_label(unit), loc="left")
        ax.margins(x=0.18)
        ax.spines["left"].set_visible(False)
        ax.tick_params(axis="y", length=0)
    chart.alt = alt if alt is not None else _bar_alt(series, title, unit, decimals, tables)
    if cut is not None:
        name, value = series.index[cut[0]], fmt_value(series.iloc[cut[0]], unit, decimals)
        chart.note = (
            f"De staaf van {name} ({value}) is ingekort; op ware lengte zouden de andere staven "
            "nauwelijks te zien zijn."
        )
    return chart


def _break_mark(ax: Axes, position: float, length: float) -> None:
    """Draw the sign of a bar cut short: two white slanted strokes across it near its end."""
    at = 0.8 * length
    step = 0.03 * abs(length)
    for shift in (-step, step):
        ax.plot(
            [at + shift - step, at + shift + step],
            [position - 0.35, position + 0.35],
            color="white",
            linewidth=2.5,
            solid_capstyle="butt",
            zorder=3,
        )


def _bar_alt(
    series: pd.Series,
    title: str,
    unit: str | None,
    decimals: int | None,
    tables: str | Sequence[str],
) -> str:
    items = "; ".join(f"{region}: {fmt_value(v, unit, decimals)}" for region, v in series.items())
    return f"Staafdiagram: {title}. {items}. {source_line(tables)}."


def freeze_layout(figure: Figure) -> None:
    """Lay a figure out once and freeze it (call inside :func:`house_style`).

    A constrained layout moves a little on every draw, so without this a second rendering of
    the same figure gives other bytes. The layout engine runs once by itself: the same
    positions as a full draw without output would give, at half the cost.

    The engine is removed, not replaced by matplotlib's placeholder (``"none"``): with any
    engine set, ``savefig`` first draws the whole figure without output, which doubled the
    cost of every picture and changed no byte of it.

    A second call does nothing, so a figure that needs its final positions before it is saved
    (a wijk map places its labels by pixels) is laid out once, not again when it is saved.
    """
    engine = figure.get_layout_engine()
    if engine is not None:
        if figure.axes:
            _ticks_in_view_only(figure)
            _room_for_top_notes(figure)
            _place_empty_axis_labels(figure)
            engine.execute(figure)
            _freeze_wrapping(figure)
        # None means "the rc default"; these two keys make that default "no engine"
        with rc_settings({"figure.autolayout": False, "figure.constrained_layout.use": False}):
            figure.set_layout_engine(None)


def _place_empty_axis_labels(figure: Figure) -> None:
    """Give every axis label without text a fixed place inside its axes.

    matplotlib places an axis label below (or beside) the tick labels, measuring every tick
    label again to do so, at each of the layout's two rounds and at the drawing: for labels
    without text as well, which most of our axes have (the unit stands above the axes). Fixed
    inside the axes, an empty label costs no measuring: a trend chart is drawn in 10-18% less
    CPU, and the pictures are the same bytes (an empty label adds no room to the layout).
    """
    for ax in figure.axes:
        for axis in (ax.xaxis, ax.yaxis):
            if not axis.label.get_text():
                axis.set_label_coords(0.5, 0.5)


def _freeze_wrapping(figure: Figure) -> None:
    """Write the line breaks the layout measured into every wrapped text of ``figure``.

    matplotlib wraps a text (``wrap=True``) anew on every drawing, measured by the renderer of
    that drawing; the SVG renderer measures a little narrower than the layout's, so a title the
    layout gave two lines could come out as one, under the room for two (or the other way
    round, over the chart). Measured once, the picture has the lines the layout made room for.
    """
    for text in _title_and_label_texts(figure):
        # _get_wrapped_text and _renderer are matplotlib's own; without them, wrap as it does
        if text.get_wrap() and getattr(text, "_renderer", None) is not None:
            wrapped = getattr(text, "_get_wrapped_text", None)
            if wrapped is not None:
                text.set_text(wrapped())
                text.set_wrap(False)


def _title_and_label_texts(figure: Figure) -> list[Text]:
    """Return the texts of ``figure`` that can wrap: its own, and per axes titles, notes, labels.

    Not ``figure.findobj(Text)``: that asks every axis for its ticks, and an axis switched off
    (a map's) then makes a set of ticks it never draws, some 0,03 s of CPU per map.
    """
    texts = list(figure.texts)
    for ax in figure.axes:
        texts += [child for child in ax.get_children() if isinstance(child, Text)]
        texts += [ax.xaxis.label, ax.yaxis.label]
    return texts


def figure_png(figure: Figure, dpi: int | None = None) -> bytes:
    """Render a figure to PNG bytes that are the same on every run.

    The PNG carries no "Software" text (matplotlib's version) and no time stamp.

    Parameters
    ----------
    figure : matplotlib.figure.Figure
        The figure.
    dpi : int, optional
        Resolution; default the figure's own.

    Returns
    -------
    bytes
        The PNG file.
    """
    return _saved(figure, format="png", dpi=dpi or figure.dpi, metadata={"Software": None})


def _saved(figure: Figure, rc: dict[str, Any] | None = None, **options: Any) -> bytes:
    """Lay ``figure`` out once and save it on white in the house style; return the bytes.

    ``rc`` holds extra matplotlib settings for this save, ``options`` go to ``savefig``.
    """
    buffer = io.BytesIO()
    # the stubs type rc keys as literals; callers pass valid keys
    with house_style(), rc_settings(rc or {}):  # type: ignore[arg-type]
        freeze_layout(figure)
        figure.savefig(buffer, facecolor="white", **options)
    return buffer.getvalue()


#: SVG settings: text stays text (a few kB instead of glyph outlines), ids are derived from
#: a fixed salt (the same bytes on every run), no date or creator in the file.
SVG_PARAMS = {"svg.fonttype": "none", "svg.hashsalt": "westerkwartier"}

#: matplotlib's descriptive SVG metadata, all left out (no date, creator or Dublin Core block).
SVG_METADATA = {"Date": None, "Creator": None, "Format": None, "Type": None}

#: Decimals kept in the coordinates of an SVG figure, in points (1/72 inch). matplotlib writes
#: six; two put every point within 0.005 pt of its place, a hundredth of a pixel on a screen
#: and far below what a printer resolves.
SVG_DECIMALS = 2

# what compact_svg rewrites: the XML declaration and DOCTYPE before the <svg> element; white
# space between elements and the line ends in path data; decimals in coordinate attributes
# (path data, positions), never in a transform (a scale factor needs its decimals) or a style
_SVG_PROLOG = re.compile(r"\A\s*<\?xml[^>]*\?>\s*(?:<!DOCTYPE[^>]*>\s*)?")
_SVG_BETWEEN_ELEMENTS = re.compile(r">\s+<")
_SVG_LINE_END = re.compile(r"[ \t]*\n\s*")
_SVG_COORDINATES = re.compile(r'(\s(?:d|x|y|x1|x2|y1|y2|cx|cy|points)=")([^"]*)"')
_SVG_DECIMAL = re.compile(r"-?\d+\.\d+")


def _rounded_decimal(match: re.Match[str]) -> str:
    text = f"{float(match.group()):.{SVG_DECIMALS}f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def compact_svg(svg: bytes) -> bytes:
    r"""Return matplotlib's SVG without what does not change the picture.

    Drops the XML declaration and DOCTYPE (UTF-8 is XML's default), the indentation and line
    ends between elements and inside path data, and rounds coordinates to
    :data:`SVG_DECIMALS` decimals. Every element, attribute and text stays; the charts of a
    report come out about a fifth smaller, in about a millisecond each. It relies on what
    matplotlib writes: no ``xml:space``, no line end inside a ``<text>``.

    Parameters
    ----------
    svg : bytes
        An SVG written by matplotlib's SVG backend (text as ``<text>``).

    Returns
    -------
    bytes
        The same drawing, UTF-8.

    Examples
    --------
    >>> svg = b'<?xml version="1.0"?>\n<svg>\n <path d="M 0.123456 7 \nL 1.5 -0.001 "/>\n</svg>'
    >>> compact_svg(svg)
    b'<svg><path d="M 0.12 7 L 1.5 0 "/></svg>'
    """
    text = _SVG_PROLOG.sub("", svg.decode("utf-8"), count=1)
    text = _SVG_BETWEEN_ELEMENTS.sub("><", text)
    text = _SVG_LINE_END.sub(" ", text)
    text = _SVG_COORDINATES.sub(
        lambda m: m.group(1) + _SVG_DECIMAL.sub(_rounded_decimal, m.group(2)) + '"', text
    )
    return text.strip().encode("utf-8")


#: An SVG larger than this as matplotlib writes it (before :func:`compact_svg`) is compared
#: with the PNG of the figure, and the smaller one is shown. A line or bar chart stays well
#: below it; a map with many outlines may not. Measured before compaction, the same figures pay
#: for a PNG as before compaction existed: a compact SVG is a fifth smaller, a map's a third,
#: so no size of the compact SVG separates the health chart (SVG, 27 kB compact) from a map of
#: Fryslân (27 kB compact, 20 kB as PNG).
SVG_CHECK_BYTES = 40_000


def figure_svg(figure: Figure, *, compact: bool = True) -> bytes:
    """Render a figure to SVG bytes that are the same on every run.

    Parameters
    ----------
    figure : matplotlib.figure.Figure
        The figure.
    compact : bool, default True
        Made compact by :func:`compact_svg`; False gives the SVG as matplotlib writes it.

    Returns
    -------
    bytes
        The SVG file (UTF-8), with text as ``<text>`` in the house font.
    """
    written = _saved(figure, SVG_PARAMS, format="svg", metadata=SVG_METADATA)
    return compact_svg(written) if compact else written


#: zlib level of the palette PNGs. Measured on four wijk maps (Westerkwartier, Amsterdam,
#: Súdwest-Fryslân, Stadskanaal): Pillow's ``optimize`` (level 9) took 48 ms a map, level 8
#: 18 ms and level 7 7 ms, for files 3% larger than level 9 (1 kB of a 30-40 kB map).
PNG_COMPRESS_LEVEL = 7


def _palette_png(image: Any) -> bytes:
    """Encode a Pillow image as PNG with a palette of at most 256 colours."""
    from PIL import Image

    palette = image.convert("RGB").quantize(colors=256, method=Image.Quantize.FASTOCTREE)
    buffer = io.BytesIO()
    palette.save(buffer, format="PNG", compress_level=PNG_COMPRESS_LEVEL)
    return buffer.getvalue()


def compact_png(png: bytes) -> bytes:
    """Return the PNG with a palette of at most 256 colours, if that is smaller.

    A chart has a few fill colours plus the shades that smooth its edges and text; a palette
    keeps them at a quarter of the size. Pillow's fast octree makes it (the same bytes on every
    run) in half the time of its median cut, and a map comes out a quarter to a third smaller;
    no colour is more than 14 of 255 steps off (median cut: 35, for a few edge pixels).
    """
    from PIL import Image

    with Image.open(io.BytesIO(png)) as image:
        smaller = _palette_png(image)
    return smaller if len(smaller) < len(png) else png


def figure_compact_png(figure: Figure) -> bytes:
    """Render a figure straight to the palette PNG of :func:`compact_png`.

    The same bytes as ``compact_png(figure_png(figure))``, without encoding the full-colour
    PNG and decoding it again: the pixels come from the same drawing, as raw RGBA. That saves
    about 30 ms of a map's 170 ms. Unlike :func:`compact_png` it does not compare with the
    full-colour PNG, which it never makes: a picture with few colours (every chart and map of
    the reports) is always smaller with a palette.
    """
    from PIL import Image

    raw = _saved(figure, format="rgba", dpi=figure.dpi)
    # Agg draws on a canvas of the figure's size in whole pixels, cut off (not rounded)
    width, height = (int(side) for side in figure.bbox.size)
    if len(raw) != width * height * 4:  # pragma: no cover - should Agg ever size it otherwise
        return compact_png(figure_png(figure))
    return _palette_png(Image.frombuffer("RGBA", (width, height), raw, "raw", "RGBA", 0, 1))


def figure_image(figure: Figure, *, raster: bool = False) -> tuple[str, str]:
    """Return the most compact picture of a figure: ``(mime type, notebook data)``.

    Compact SVG (text as text) unless matplotlib's SVG is larger than :data:`SVG_CHECK_BYTES`
    and the PNG (with a palette, :func:`figure_compact_png`) is smaller than the compact SVG;
    with ``raster=True`` (a map) the PNG without drawing the SVG first. PNG data are base64 (as
    notebooks store them), SVG data are the text.
    """
    svg = b""
    if not raster:
        written = figure_svg(figure, compact=False)
        svg = compact_svg(written)
        if len(written) <= SVG_CHECK_BYTES:
            return "image/svg+xml", svg.decode("utf-8")
    png = figure_compact_png(figure)
    if raster or len(png) < len(svg):
        return "image/png", base64.b64encode(png).decode("ascii")
    return "image/svg+xml", svg.decode("utf-8")


def figure_mimebundle(
    figure: Figure, alt: str, *, raster: bool = False
) -> tuple[dict[str, str], dict[str, dict]]:
    """Return the notebook output of a figure: the picture plus metadata with the alt text.

    The picture is SVG or PNG (:func:`figure_image`); the report template writes
    ``output.metadata[<mime type>]["alt"]`` into the ``alt`` attribute of the ``<img>``.

    Parameters
    ----------
    figure : matplotlib.figure.Figure
        The figure.
    alt : str
        The alt text; must not be empty.
    raster : bool
        PNG without trying SVG (:func:`figure_image`).

    Returns
    -------
    data, metadata : dict
        Arguments for :func:`IPython.display.publish_display_data`.
    """
    alt = (alt or "").strip()
    if not alt:
        raise ValueError(
            "Een figuur zonder alt-tekst: geef een korte beschrijving van wat de grafiek laat "
            "zien, bijvoorbeeld show_figure(fig, 'Lijngrafiek: ...')."
        )
    mime, image = figure_image(figure, raster=raster)
    data = {mime: image, "text/plain": alt}
    metadata = {mime: {"alt": alt}}
    return data, metadata


def show_figure(figure: Figure | Chart, alt: str | None = None) -> None:
    """Show a figure in the notebook (SVG or PNG) with alt text, whatever the backend.

    Parameters
    ----------
    figure : matplotlib.figure.Figure or Chart
        The figure, or a chart from :func:`trend_chart` / :func:`bar_chart`.
    alt : str, optional
        Alt text; required for a bare figure, defaults to ``chart.alt`` for a chart.

    Notes
    -----
    Use this instead of ``plt.show()``: with ``MPLBACKEND=agg`` in the environment,
    ``plt.show()`` shows nothing in an executed notebook and the figure is silently lost. A
    figure made with ``pyplot`` is closed here so that the inline backend does not show a
    second copy without alt text. A chart's ``note`` follows it as a footnote.
    """
    from IPython.display import HTML, display, publish_display_data

    raster = False
    note = ""
    if isinstance(figure, Chart):
        alt = figure.alt if alt is None else alt
        raster = figure.raster
        note = figure.note
        figure = figure.figure
    data, metadata = figure_mimebundle(figure, alt or "", raster=raster)
    publish_display_data(data=data, metadata=metadata)
    if note:
        from westerkwartier.reporting.html import render_template

        display(HTML(render_template("voetnoot.html.j2", text=note).rstrip("\n")))
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:  # a figure made through pyplot: close it (no-op for others)
        pyplot.close(figure)
