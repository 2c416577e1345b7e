"""Which texts of a matplotlib figure cover one another or leave the picture, as drawn."""

from __future__ import annotations

import itertools
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Text

#: Two texts overlap when their boxes share more than this many pixels both ways: boxes that
#: only touch (a tick label at the end of an axis beside the other axis's) do not count.
TOUCH_PX = 1.0


def drawn_texts(figure: Figure) -> list[Text]:
    """The texts a drawing of ``figure`` shows: visible, not empty, tick labels only in view.

    matplotlib keeps a label for every tick it made, also those outside the axis limits, and
    the labels of an axis that is switched off; neither is drawn.
    """
    ticks: set[int] = set()
    drawn: set[int] = set()
    for ax in figure.axes:
        for axis in (ax.xaxis, ax.yaxis):
            for tick in [*axis.majorTicks, *axis.minorTicks]:
                ticks.update({id(tick.label1), id(tick.label2)})
            if not ax.axison:
                ticks.add(id(axis.label))
                continue
            for tick in axis._update_ticks():  # the ticks inside the view, as Axis.draw takes
                drawn.update(id(t) for t in (tick.label1, tick.label2) if t.get_visible())
    return [
        t
        for t in figure.findobj(Text)
        if t.get_visible() and t.get_text().strip() and (id(t) not in ticks or id(t) in drawn)
    ]


def _drawn(figure: Figure) -> Any:
    """Draw ``figure`` once more with Agg and return the renderer, to measure in pixels.

    Call it after the figure was laid out and saved (the reports' pictures are): a drawing
    moves nothing of a frozen layout.
    """
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    return canvas.get_renderer()


def _boxes(figure: Figure) -> list[tuple[str, Any]]:
    """The drawn texts of ``figure`` with their boxes in pixels."""
    renderer = _drawn(figure)
    return [(t.get_text(), t.get_window_extent(renderer)) for t in drawn_texts(figure)]


def texts_outside(figure: Figure) -> list[str]:
    """Return the texts of ``figure`` that run out of the picture (more than a pixel)."""
    width, height = figure.bbox.width, figure.bbox.height
    return [
        text
        for text, box in _boxes(figure)
        if min(box.x0, box.y0) < -TOUCH_PX
        or box.x1 > width + TOUCH_PX
        or box.y1 > height + TOUCH_PX
    ]


def overlapping_texts(figure: Figure) -> list[tuple[str, str]]:
    """Return the pairs of texts of ``figure`` that cover each other, drawn at its resolution."""
    boxes = _boxes(figure)
    found = []
    for (a, box_a), (b, box_b) in itertools.combinations(boxes, 2):
        wide = min(box_a.x1, box_b.x1) - max(box_a.x0, box_b.x0)
        high = min(box_a.y1, box_b.y1) - max(box_a.y0, box_b.y0)
        if wide > TOUCH_PX and high > TOUCH_PX:
            found.append((a, b))
    return found


def texts_on_lines(figure: Figure) -> list[str]:
    """Return the texts inside an axes of ``figure`` that a line of data runs through.

    A note in the plot ("trendbreuk", "opgebouwd uit de voorgangers") that a line crosses is
    hard to read. Lines of data are those with two points or more that are not straight up
    (the dotted line of a break is its note's own).
    """
    renderer = _drawn(figure)
    found = []
    for ax in figure.axes:
        lines = []
        for line in ax.get_lines():
            xs = [float(x) for x in line.get_xdata()]
            if len(xs) < 2 or len(set(xs)) == 1 or not line.get_visible():
                continue
            # a break leaves a gap (NaN) in the line; a path with NaN crosses nothing
            path = line.get_transform().transform_path(line.get_path())
            lines.append(path.cleaned(remove_nans=True))
        for text in ax.texts:
            if not (text.get_visible() and text.get_text().strip()):
                continue
            box = text.get_window_extent(renderer)
            if any(path.intersects_bbox(box, filled=False) for path in lines):
                found.append(text.get_text())
    return found
