"""Bar charts for the ``chart`` body kind of the renderer (services/documents/render.py), drawn with reportlab's
graphics (no raster image): every label is text in the document font, so a PDF reader (and pypdf) extracts it.

:func:`bar_chart` takes the categories' labels (already expanded and NFC), one or more series of values
(``None``: no bar, and no value label), and returns a :class:`~reportlab.graphics.shapes.Drawing` the frame's
width. ``horizontal`` puts the categories down the left (long labels, wrapped to at most 40% of the width),
first category on top; ``vertical`` puts them under the bars. With several series a legend is drawn above.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from reportlab.graphics.charts.barcharts import BarChart, HorizontalBarChart, VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.shapes import Drawing, Group, String, UserNode
from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit

FILLS = (colors.Color(0.25, 0.25, 0.25), colors.Color(0.7, 0.7, 0.7), colors.Color(0.5, 0.5, 0.5))
LABEL_SIZE = 11  # the smallest size on the documents (tests/unit/test_documents_golden.py: 11-14 pt)
LEGEND_ROOM = 8 * mm


def nice_step(high: float, low: float = 0.0, ticks: int = 5, *, counts: bool = False) -> float:
    """A round axis step (1, 2, 2.5 or 5 × 10^n) giving about ``ticks`` intervals; for counts a whole number
    (1, 2 or 5 × 10^n, at least 1), so the axis never reads "2,5" violations."""
    span = max(high - low, 1e-9)
    raw = span / ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    steps = (1, 2, 5, 10) if counts else (1, 2, 2.5, 5, 10)
    step = next(m * magnitude for m in steps if m * magnitude >= raw)
    return float(max(step, 1)) if counts else float(step)


def fixed_vi(value: float, places: int = 0) -> str:
    """A value label with exactly ``places`` decimals, the Vietnamese way: -12.7 -> '-12,7', 4 -> '4,0' (1 place)."""
    text = f"{value:,.{places}f}"
    return text.replace(",", " ").replace(".", ",").replace(" ", ".")


def _wrap(label: str, font: str, size: float, width: float) -> str:
    return "\n".join(simpleSplit(label, font, size, width)) or " "


def bar_chart(labels: Sequence[str], series: Sequence[Sequence[float | None]], *, names: Sequence[str] = (),
              width: float, height: float | None = None, orientation: str = "horizontal", font: str,
              fmt: Callable[[float], str], axis_fmt: Callable[[float], str] | None = None) -> Drawing:
    horizontal = orientation == "horizontal"
    values = [v for s in series for v in s if v is not None]
    high, low = max([0.0, *values]), min([0.0, *values])
    counts = all(float(v).is_integer() for v in values)
    step = nice_step(high, low, counts=counts) if values else 1.0
    legend = len(series) > 1
    rows = len(labels)
    if height is None:
        height = (rows * len(series) * 6 * mm + 18 * mm) if horizontal else 70 * mm
    height += LEGEND_ROOM if legend else 0
    drawing = Drawing(width, height, initialFontName=font, initialFontSize=LABEL_SIZE)  # no Helvetica resource
    chart: BarChart = HorizontalBarChart() if horizontal else VerticalBarChart()
    label_room = 0.0
    if horizontal:
        label_room = min(_text_width(labels, font) + 6, 0.4 * width) if labels else 0
        chart.categoryAxis.categoryNames = [_wrap(s, font, LABEL_SIZE, label_room - 6) for s in labels]
        chart.categoryAxis.reverseDirection = 1  # the first category on top
        chart.categoryAxis.labels.boxAnchor = "e"
        chart.categoryAxis.labels.dx = -4
    else:
        per = width / max(rows, 1)
        chart.categoryAxis.categoryNames = [_wrap(s, font, LABEL_SIZE, per - 4) for s in labels]
        chart.categoryAxis.labels.boxAnchor = "n"
        chart.categoryAxis.labels.dy = -4
        label_room = max((s.count("\n") + 1 for s in chart.categoryAxis.categoryNames), default=1) * LABEL_SIZE * 1.2 + 6
    # types-reportlab declares these (and Legend's x, y, deltax) int; reportlab validates them with isNumber
    chart.x = label_room if horizontal else 12 * mm  # type: ignore[assignment]
    chart.y = 10 * mm if horizontal else label_room  # type: ignore[assignment]
    chart.width = width - chart.x - 12 * mm  # type: ignore[assignment]
    chart.height = height - chart.y - 4 * mm - (LEGEND_ROOM if legend else 0)  # type: ignore[assignment]
    chart.data = [list(s) for s in series]
    chart.valueAxis.valueMin = math.floor(low / step) * step if low < 0 else 0
    chart.valueAxis.valueMax = math.ceil(high / step) * step + (step if values else 0)
    chart.valueAxis.valueStep = step
    chart.valueAxis.labelTextFormat = axis_fmt or fmt
    chart.categoryAxis.labels.leading = LABEL_SIZE * 1.2
    for axis in (chart.valueAxis, chart.categoryAxis):
        axis.labels.fontName = font
        axis.labels.fontSize = LABEL_SIZE
    chart.barLabelFormat = lambda v: "" if v is None else fmt(v)
    chart.barLabels.fontName = font
    chart.barLabels.fontSize = LABEL_SIZE
    chart.barLabels.boxTarget = "normal"  # at the bar's end, on the side away from the bar:
    chart.barLabels.boxAnchor = "w" if horizontal else "s"  # reportlab flips the anchor of a negative bar's label
    chart.barLabels.nudge = 4
    chart.categoryAxis.labelAxisMode = "low"  # under (left of) the lowest value, never across negative bars
    chart.groupSpacing = 4
    for i in range(len(series)):
        chart.bars[i].fillColor = FILLS[i % len(FILLS)]
        chart.bars[i].strokeColor = colors.black
        chart.bars[i].strokeWidth = 0.3
    drawing.add(chart)
    if legend:
        drawing.add(_legend(names, font, x=chart.x, y=height - 2 * mm))
    return drawing


def drawn_texts(drawing: Drawing) -> list[str]:
    """Every string the drawing puts on the page, in the order it draws them (each its own PDF text object)."""
    out: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, UserNode):
            node = node.provideNode()
        if isinstance(node, String):
            out.append(node.text)
        elif isinstance(node, Group):
            for child in node.getContents():
                walk(child)

    for child in drawing.getContents():
        walk(child)
    return out


def _text_width(labels: Sequence[str], font: str) -> float:
    from reportlab.pdfbase.pdfmetrics import stringWidth

    return max(stringWidth(label, font, LABEL_SIZE) for label in labels)


def _legend(names: Sequence[str], font: str, *, x: float, y: float) -> Legend:
    legend = Legend()
    legend.x, legend.y = x, y  # type: ignore[assignment]  # int in types-reportlab; reportlab takes any number
    legend.fontName = font
    legend.fontSize = LABEL_SIZE
    legend.alignment = "right"
    legend.columnMaximum = 1
    legend.deltax = _text_width(names, font) + 20 if names else 30 * mm  # type: ignore[assignment]  # as x, y
    legend.boxAnchor = "nw"
    legend.colorNamePairs = [(FILLS[i % len(FILLS)], name) for i, name in enumerate(names)]
    return legend


__all__ = ["bar_chart", "drawn_texts", "fixed_vi", "nice_step"]
