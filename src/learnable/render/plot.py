"""A chart of parameters per layer, as PNG or SVG: ``plot(report, "params.png")``.

Like every renderer it reads a :class:`~learnable.report.Report` and computes nothing: the
bars are the rows of the table (:func:`._columns.display_rows`), blocks collapsed into their
subtotal unless ``depth`` opens them. Choosing the bars (:func:`bars`) is plain Python; only
drawing needs matplotlib, the ``[plot]`` extra, imported inside :func:`plot` with the Agg
backend so that ``import learnable`` never loads it.

Two runs write the same bytes: a fixed width and DPI, a height fixed by the number of bars,
no date in the metadata, and a fixed ``svg.hashsalt``. SVG text stays text (searchable, and
the counts can be read back from the file).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from ..errors import SpecError
from ..report import Report
from ._columns import DisplayRow, display_rows

SUFFIXES = (".png", ".svg")
MAX_BARS = 60  # beyond this the smallest layers share one bar, "other N layers"
LOG_SPREAD = 1_000  # a log scale when the largest nonzero bar is more than this times the smallest
LABELLED = 10  # how many of the largest bars carry their count
INSTALL_HINT = "pip install 'learnable[plot]'"

WIDTH, DPI = 10.0, 120  # inches, dots per inch
ROW_HEIGHT, FRAME_HEIGHT = 0.3, 1.9  # inches per bar; title, axis and notes
COLORS = {"layer": "#4C72B0", "block": "#2A9D8F", "other": "#9AA0A6", "buffers": "#F2F2F2"}
MONO_ADVANCE = 0.602  # DejaVu Sans Mono's advance width, in ems
CONVENTION_NAMES = {"keras": "Keras", "pytorch": "PyTorch"}


@dataclass(frozen=True, slots=True)
class Bar:
    """One line of the chart. A ``heading`` is an opened block: a label, no bar, since its
    layers are drawn beneath it (and a bar for both would count them twice)."""

    label: str
    params: int
    buffers: int = 0
    kind: str = "layer"  # "layer", "block" (collapsed, its subtotal), "heading", "other"

    @property
    def size(self) -> int:
        return self.params + self.buffers


def use_log_scale(counts) -> bool:
    """Log when the nonzero counts span more than :data:`LOG_SPREAD` (max/min); a flat
    network reads better on a linear axis."""
    nonzero = [c for c in counts if c > 0]
    return bool(nonzero) and max(nonzero) > LOG_SPREAD * min(nonzero)


def bars(report: Report, depth: int = 0, max_bars: int = MAX_BARS) -> tuple[list[Bar], int]:
    """The chart's lines in source order, and how many layers went into "other N layers"
    (0 when all are shown). Layers without parameters or buffers are left out."""
    rows = display_rows(report, depth)
    chosen = [_bar(row, _opened(rows, i)) for i, row in enumerate(rows) if row.params or row.buffers]
    return _cap(chosen, max_bars)


def _level(row: DisplayRow) -> int:
    return (len(row.name) - len(row.name.lstrip(" "))) // 2


def _opened(rows: list[DisplayRow], i: int) -> bool:
    return i + 1 < len(rows) and _level(rows[i + 1]) > _level(rows[i])


def _bar(row: DisplayRow, opened: bool) -> Bar:
    block = row.type.endswith(" (block)")
    kind_name = row.type.removesuffix(" (block)")
    # bottleneck_1 is plainly a bottleneck; the colour and the legend say it is a block
    label = row.name if block and row.name.strip().startswith(kind_name) else f"{row.name}  ({kind_name})"
    if opened:  # its bars follow; the heading carries the subtotal as text
        return Bar(f"{row.name}  ({row.params:,} in all)", row.params, row.buffers, "heading")
    return Bar(label, row.params, row.buffers, "block" if block else "layer")


def _cap(chosen: list[Bar], max_bars: int) -> tuple[list[Bar], int]:
    """Keep the largest bars (with the headings above them) within ``max_bars`` lines, the
    rest summed into one last bar."""
    if len(chosen) <= max_bars:
        return chosen, 0
    leaves = [i for i, b in enumerate(chosen) if b.kind != "heading"]
    by_size = sorted(leaves, key=lambda i: (-chosen[i].size, i))
    for keep in range(min(len(leaves), max_bars - 1), 0, -1):
        kept = set(by_size[:keep]) | _headings_above(chosen, by_size[:keep])
        if len(kept) + 1 <= max_bars:
            break
    rest = [chosen[i] for i in leaves if i not in kept]
    other = Bar(f"other {len(rest)} layers", sum(b.params for b in rest), sum(b.buffers for b in rest), "other")
    return [b for i, b in enumerate(chosen) if i in kept] + [other], len(rest)


def _headings_above(chosen: list[Bar], indices: list[int]) -> set[int]:
    """The opened blocks each kept bar sits in: the nearest less-indented heading upwards, and so on."""
    found: set[int] = set()
    for i in indices:
        level = _indent(chosen[i].label)
        for j in range(i - 1, -1, -1):
            if chosen[j].kind == "heading" and _indent(chosen[j].label) < level:
                found.add(j)
                level = _indent(chosen[j].label)
    return found


def _indent(label: str) -> int:
    return len(label) - len(label.lstrip(" "))


def default_title(report: Report) -> str:
    convention = CONVENTION_NAMES.get(report.convention, report.convention)
    text = f"{report.name or 'model'}: {report.total_params:,} params ({convention} convention)"
    if report.total_buffers:
        text += f", {report.total_buffers:,} buffers"
    return text


def plot(report: Report, path, *, depth: int = 0, title: str | None = None) -> None:
    """Write a horizontal bar chart of parameters per layer to ``path``, PNG or SVG by its
    suffix. ``depth`` opens blocks as in the table; ``title`` replaces the default (the
    model's name, total and convention). Raises :class:`~learnable.errors.SpecError` for
    another suffix, a negative depth, a file that cannot be written, or no matplotlib."""
    path = Path(path)
    fmt = _format_of(path)
    if depth < 0:
        raise SpecError(f"depth must be 0 or more, got {depth}")
    chosen, grouped = bars(report, depth)
    plt = _pyplot()
    with plt.rc_context(_RC):
        figure = _draw(plt, report, chosen, grouped, title)
        try:
            figure.savefig(path, format=fmt, dpi=DPI, metadata=_METADATA[fmt])
        except OSError as error:
            raise SpecError(f"cannot write the plot to {path}: {error.strerror or error}") from None
        finally:
            plt.close(figure)


def _format_of(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        got = f"'{path.suffix}'" if path.suffix else "no suffix"
        raise SpecError(f"a plot is written as .png or .svg, got {got} in {str(path)!r}; "
                        f"name the file e.g. params.png or params.svg")
    return suffix[1:]


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        raise SpecError(f"plotting needs matplotlib, which is not installed; {INSTALL_HINT}") from None
    matplotlib.use("Agg")  # no display, the same pixels everywhere
    import matplotlib.pyplot as plt

    return plt


# Fixed for byte-identical files: no date, no random ids, text kept as text in SVG.
_RC = {"svg.hashsalt": "learnable", "svg.fonttype": "none", "font.family": "DejaVu Sans",
       "font.size": 9, "hatch.color": "#555555", "hatch.linewidth": 0.6}
_METADATA = {"png": {"Software": "learnable"}, "svg": {"Date": None, "Creator": "learnable"}}


def _draw(plt, report: Report, chosen: list[Bar], grouped: int, heading: str | None):
    figure, axes = plt.subplots(figsize=(WIDTH, FRAME_HEIGHT + ROW_HEIGHT * max(len(chosen), 1)),
                                layout="constrained")
    figure.suptitle(heading if heading is not None else default_title(report), fontsize=12, fontweight="bold")
    if not any(b.size for b in chosen):
        axes.set_axis_off()
        axes.text(0.5, 0.5, "No layer has parameters.", ha="center", va="center", transform=axes.transAxes)
        return figure
    log = use_log_scale(b.size for b in chosen if b.kind != "heading")
    _draw_bars(axes, chosen)
    _style_axes(axes, chosen, log)
    _legend(axes, chosen)
    _notes(axes, chosen, grouped)
    _make_room(figure, axes, _label_largest(axes, chosen), log)
    return figure


def _draw_bars(axes, chosen: list[Bar]) -> None:
    drawn = [(y, b) for y, b in enumerate(chosen) if b.kind != "heading"]
    ys = [y for y, _ in drawn]
    axes.barh(ys, [b.params for _, b in drawn], height=0.7, color=[COLORS[b.kind] for _, b in drawn],
              edgecolor="none", zorder=2)
    buffered = [(y, b) for y, b in drawn if b.buffers]
    if buffered:
        axes.barh([y for y, _ in buffered], [b.buffers for _, b in buffered], left=[b.params for _, b in buffered],
                  height=0.7, color=COLORS["buffers"], edgecolor="#555555", linewidth=0.6, hatch="////", zorder=2)


def _label_largest(axes, chosen: list[Bar]) -> list:
    ranked = sorted((i for i, b in enumerate(chosen) if b.kind != "heading" and b.size),
                    key=lambda i: (-chosen[i].size, i))
    labels = []
    for i in ranked[:LABELLED]:
        bar = chosen[i]
        text = f"{bar.params:,}" + (f" + {bar.buffers:,} buffers" if bar.buffers else "")
        labels.append(axes.annotate(text, (bar.size, i), xytext=(4, 0), textcoords="offset points",
                                    va="center", fontsize=8, color="#222222"))
    return labels


def _make_room(figure, axes, labels: list, log: bool) -> None:
    """Widen the x-axis just enough for every count label to end inside it: a label is a
    fixed number of pixels, so its bar may reach at most (W - w)/W of the axis."""
    figure.draw_without_rendering()
    box = axes.get_window_extent()
    scale = math.log10 if log else float
    low, high = (scale(x) for x in axes.get_xlim())
    span = high - low
    for label in labels:
        width = label.get_window_extent().width + 6  # the text and its offset from the bar
        end = scale(label.xy[0]) - low
        if width < box.width * 0.9:
            span = max(span, end * box.width / (box.width - width) * 1.03)
    top = low + span
    axes.set_xlim(axes.get_xlim()[0], 10 ** top if log else top)


def _style_axes(axes, chosen: list[Bar], log: bool) -> None:
    from matplotlib.ticker import FuncFormatter, NullFormatter

    sizes = [b.size for b in chosen if b.kind != "heading" and b.size]
    axes.set_yticks(range(len(chosen)), [b.label for b in chosen], family="DejaVu Sans Mono", fontsize=8)
    for tick, bar in zip(axes.get_yticklabels(), chosen):
        tick.set_horizontalalignment("left")  # so that a block's layers show indented beneath it
        if bar.kind == "heading":
            tick.set_fontweight("bold")
    # left-aligned labels start a pad to the left of the axis: the longest label's width
    axes.tick_params(axis="y", length=0, pad=max(len(b.label) for b in chosen) * 8 * MONO_ADVANCE + 6)
    axes.set_ylim(len(chosen) - 0.5, -0.5)  # source order, top to bottom
    if log:
        axes.set_xscale("log")
        axes.set_xlim(10 ** math.floor(math.log10(min(sizes))) / 2, max(sizes) * 1.5)
        axes.xaxis.set_minor_formatter(NullFormatter())
    else:
        axes.set_xlim(0, max(sizes) * 1.02)
    axes.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{round(x):,}" if x >= 1 else f"{x:g}"))
    axes.set_xlabel("Parameters (log scale)" if log else "Parameters")
    axes.grid(axis="x", color="#DDDDDD", linewidth=0.6, zorder=0)
    for side in ("top", "right", "left"):
        axes.spines[side].set_visible(False)


def _legend(axes, chosen: list[Bar]) -> None:
    from matplotlib.patches import Patch

    names = {"layer": "layer", "block": "block (subtotal)", "other": "other layers (sum)"}
    kinds = [k for k in names if any(b.kind == k for b in chosen)]
    handles = [Patch(color=COLORS[k], label=names[k]) for k in kinds]
    if any(b.buffers for b in chosen):
        handles.append(Patch(facecolor=COLORS["buffers"], edgecolor="#555555", hatch="////",
                             label="buffers (not params)"))
    if len(handles) > 1:
        axes.legend(handles=handles, loc="lower left", bbox_to_anchor=(0, 1), ncols=len(handles), fontsize=8,
                    frameon=False, borderaxespad=0.2)


def _notes(axes, chosen: list[Bar], grouped: int) -> None:
    notes = []
    if grouped:
        shown = sum(b.kind not in ("heading", "other") for b in chosen)
        notes.append(f"The {shown} largest are shown; the {grouped} smaller ones are grouped as "
                     f"\"other {grouped} layers\".")
    if any(b.kind == "heading" for b in chosen):
        notes.append("Bold: an opened block, with its total; its layers are drawn beneath it.")
    if notes:  # beneath the axis label, inside the layout
        axes.annotate("  ".join(notes), (0.01, 0), xycoords=("figure fraction", axes.xaxis.label),
                      xytext=(0, -6), textcoords="offset points", ha="left", va="top", fontsize=8,
                      color="#555555")
