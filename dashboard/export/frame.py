"""The frame around an exported map: title above, legend and scale bar to the right, sources below.

Pure layout: sizes in pixels of a 1080-pixel-high slide, scaled by the
image's shorter side, so an A4 page at 300 dpi reads like the slide.  Text
widths are estimated from the font size, to wrap lines and size the bands
so that nothing overlaps the map.  figure.py builds the map and asks this
module where everything goes.
"""
from __future__ import annotations

import html
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import plotly.graph_objects as go

REFERENCE_SIDE = 1080
TITLE_PX, SUBTITLE_PX, FOOTER_PX = 40, 24, 17
MAP_SCALE = 1.5  # markers and lines, as the page's presentation mode
LEGEND_PX = 21
PAD_PX = 36
CHAR_WIDTH_EM = {False: 0.55, True: 0.62}  # DejaVu Sans, regular and bold, with a little to spare
MAX_PANEL_SHARE = 0.3  # of the image width, for the legend beside the map
LEGEND_WRAP_CHARS = 30
COLOURBAR_TITLE_CHARS = 12
SCALE_BAR_PX = 160  # the longest scale bar
SCALE_LABEL_CHARS = len("5,000 km at 52°N")
EARTH_CIRCUMFERENCE_M = 40_075_016.686  # Web Mercator's sphere at the equator
MIN_INSET_PX = 120  # a locator inset lower than this is not drawn in the panel
CORNER_INSET_PX, CORNER_INSET_SHARE = 320, 0.3  # a locator inset on the map: at most so wide, and this share of the map
COLOURBAR_TITLES = {"choropleth": "Events per region", "density": "Events per cell"}

def scale_bar(lat: float, zoom: float, longest_px: float) -> tuple[float, float]:
    """(km, pixels): the longest round distance (1, 2 or 5 x 10^n km) that
    fits in `longest_px` on a map at `zoom`, measured at latitude `lat`.

    Web Mercator stretches distances away from the equator, so a bar holds at
    one latitude only; the label names it."""
    metres_per_px = EARTH_CIRCUMFERENCE_M * math.cos(math.radians(lat)) / (512 * 2**zoom)
    fits_km = longest_px * metres_per_px / 1000
    power = 10 ** math.floor(math.log10(fits_km))
    km = max(step * power for step in (1, 2, 5) if step * power <= fits_km * (1 + 1e-9))
    return km, km * 1000 / metres_per_px


def scale_label(km: float, lat: float) -> str:
    distance = f"{km:,.0f} km" if km >= 1 else f"{km * 1000:,.0f} m"
    return f"{distance} at {abs(lat):.0f}°{'N' if lat >= 0 else 'S'}"


@dataclass
class Entry:
    label: str
    colour: str
    size: float  # symbol diameter in pixels
    opacity: float = 1.0
    square: bool = False  # an area (the control layer) rather than a point
    ring: bool = False  # an area of known size (a region-level event's circle), outlined as on the page


def legend_groups(figure, counts: dict, territory: list[dict]) -> dict[str, list[Entry]]:
    """map_figure's legend entries, by group, with each type's count.

    The export draws them itself: plotly caps legend symbols at a few
    pixels, too small to read on a 300-dpi page.  Types beyond the palette,
    all drawn in one grey, are one "Other types" entry, as on the page
    (render/legend.py): a file with 34 types would run off the image."""
    from ..schema import OTHER_COLOUR, OTHER_LABEL

    groups: dict[str, list[Entry]] = {}
    other: list[Entry] = []
    for trace in figure.data:
        if trace.type != "scattermap" or trace.showlegend is False:
            continue
        label = html.unescape(trace.name or "")
        shape = (trace.meta or {}).get("shape") if isinstance(trace.meta, dict) else None
        size = float(trace.marker.size if trace.marker.size is not None else 12)
        entry = Entry(label, trace.marker.color, size, float(trace.marker.opacity or 1.0), ring=shape == "ring")
        if trace.legendgroup == "precision":
            group = trace.legendgrouptitle.text or "Location precision"
        elif label in counts and entry.colour == OTHER_COLOUR:
            other.append(entry)
            continue
        elif label in counts:
            group, entry.label = "Event type", f"{label} ({counts[label]:,})"
        else:  # the control layer's entry: a swatch as the area looks on the map
            group, entry.square, entry.opacity = "Territory", True, territory[0].get("opacity", 1.0) if territory else 1.0
        groups.setdefault(group, []).append(entry)
    if other:
        events = sum(counts[e.label] for e in other)
        kinds = f"{len(other)} type{'s' if len(other) != 1 else ''}"
        groups.setdefault("Event type", []).append(Entry(f"{OTHER_LABEL}: {kinds} ({events:,})", OTHER_COLOUR, other[0].size))
    figure.update_layout(showlegend=False)
    return groups


class Frame:
    """The bands around the map: title above, legend to the right, sources below.

    Sizes are those of a 1080-pixel-high slide, scaled by the image's shorter
    side.  Text widths are estimated from the font size, to wrap lines and
    size the bands so that nothing overlaps the map."""

    def __init__(self, width: int, height: int):
        self.width, self.height = width, height
        self.unit = min(width, height) / REFERENCE_SIDE
        self.pad = round(PAD_PX * self.unit)
        self.title_px = max(round(TITLE_PX * self.unit), 8)
        self.subtitle_px = max(round(SUBTITLE_PX * self.unit), 7)
        self.footer_px = max(round(FOOTER_PX * self.unit), 6)
        self.legend_px = max(round(LEGEND_PX * self.unit), 6)
        self.line = self.legend_px * 1.3
        self.shapes: list[dict] = []
        self.annotations: list[dict] = []
        self.locator = None

    def chars_across(self, pixels: float, font_px: float, bold: bool = False) -> int:
        return max(int(pixels / (font_px * CHAR_WIDTH_EM[bold])), 8)

    def text_width(self, characters: int, font_px: float, bold: bool = False) -> float:
        return characters * font_px * CHAR_WIDTH_EM[bold]

    def set_text(self, headline: str, subtitle: str, footer: str) -> None:
        across = self.width - 2 * self.pad
        self.title_lines = wrap(headline, self.chars_across(across, self.title_px, bold=True))
        self.subtitle_lines = wrap(subtitle, self.chars_across(across, self.subtitle_px)) if subtitle else []
        self.footer_lines = wrap(footer, self.chars_across(across, self.footer_px))
        self.subtitle_height = len(self.subtitle_lines) * self.subtitle_px * 1.35
        self.top = round(0.8 * self.pad + len(self.title_lines) * self.title_px * 1.3 + self.subtitle_height + 0.5 * self.pad)
        self.bottom = round(len(self.footer_lines) * self.footer_px * 1.4 + self.pad)

    def set_panel(self, groups: dict[str, list[Entry]], colourbar_title: str | None) -> None:
        """The panel right of the map: as wide as its longest line, up to a share of the image."""
        self.groups = groups
        self.symbol = max((e.size for entries in groups.values() for e in entries), default=0)
        self.gap = 0.5 * self.legend_px
        widest = MAX_PANEL_SHARE * self.width - 2 * self.pad - self.symbol - self.gap
        self.legend_chars = min(LEGEND_WRAP_CHARS, self.chars_across(widest, self.legend_px))
        for group, entries in groups.items():
            for entry in entries:
                entry.label = "<br>".join(wrap(entry.label, self.legend_chars, separator=" "))
        lines = [line for entries in groups.values() for e in entries for line in e.label.split("<br>")]
        needed = self.text_width(max(map(len, lines)), self.legend_px) + self.symbol + self.gap if lines else 0
        needed = max([needed] + [self.text_width(len(title), self.legend_px, bold=True) for title in groups])
        self.colourbar_title = wrap(colourbar_title, COLOURBAR_TITLE_CHARS, separator=" ") if colourbar_title else []
        if self.colourbar_title:
            ticks = 24 * self.unit + self.text_width(6, self.legend_px)
            needed = max(needed, ticks, self.text_width(max(map(len, self.colourbar_title)), self.legend_px, bold=True))
        # Room for the scale bar at the panel's foot.
        needed = max(needed, SCALE_BAR_PX * self.unit, self.text_width(SCALE_LABEL_CHARS, self.legend_px))
        self.legend_top = 0.0  # pixels below the map's top edge; the colourbar goes first
        self.panel = round(needed + 2 * self.pad)
        self.scale = None

    def set_scale(self, lat: float, zoom: float) -> None:
        """A scale bar for the map's centre, as long as the panel allows."""
        longest = min(SCALE_BAR_PX * self.unit, self.panel - 2 * self.pad)
        km, pixels = scale_bar(lat, zoom, longest)
        self.scale = (pixels, scale_label(km, lat))

    def set_locator(self, locator, theme: str, marks_px=(), areas_px=None) -> None:
        """The locator inset (locator.py) to draw, and what on the map it must not hide: marks (x, y, radius)
        and shaded areas (a shapely geometry), in map pixels from the top left."""
        self.locator, self.theme, self.marks_px, self.areas_px = locator, theme, list(marks_px), areas_px

    def map_size(self) -> tuple[int, int]:
        return max(self.width - self.pad - self.panel, 1), max(self.height - self.top - self.bottom, 1)

    def style_colourbar(self, trace) -> None:
        """The colourbar at the top of the panel under its title (drawn with the legend), whole events only."""
        map_width, map_height = self.map_size()
        largest = max((z for z in (trace.z if trace.z is not None else ()) if z is not None), default=0)
        title_height = len(self.colourbar_title) * self.line + 0.8 * self.legend_px
        length = min(0.5 * map_height, 460 * self.unit)
        self.legend_top = title_height + length + 1.5 * self.legend_px
        trace.colorbar = {
            "title": {"text": ""},
            "tickfont": {"size": self.legend_px},
            "tickformat": ",d",
            "dtick": 1 if largest <= 8 else None,  # no repeated labels on small counts
            "thickness": round(24 * self.unit),
            "lenmode": "pixels",
            "len": length,
            "x": 1 + self.pad / map_width,
            "xanchor": "left",
            "xpad": 0,
            "y": 1 - title_height / map_height,
            "yanchor": "top",
            "ypad": 0,
            "outlinewidth": 0,
        }
        if trace.type == "choroplethmap":
            # zmin=0 alone leaves plotly's scale at the data's minimum; with
            # zmax too, a region with one event is shaded, not near-white.
            trace.update(zmin=0, zmax=max(largest, 1))

    def apply(self, figure: go.Figure, colours: dict) -> None:
        figure.update_layout(
            width=self.width,
            height=self.height,
            margin={"l": self.pad, "r": self.panel, "t": self.top, "b": self.bottom, "pad": 0, "autoexpand": False},
            paper_bgcolor=colours["paper"],
        )
        title = "<b>" + "<br>".join(self.title_lines) + "</b>"
        self._text(title, self.title_px, colours["text"], y=1, shift=self.subtitle_height + 0.3 * self.pad)
        if self.subtitle_lines:
            self._text("<br>".join(self.subtitle_lines), self.subtitle_px, colours["muted"], y=1, shift=0.3 * self.pad)
        self._text("<br>".join(self.footer_lines), self.footer_px, colours["muted"], y=0, shift=-0.4 * self.pad)
        self._draw_legend(colours)
        for shape in self.shapes:
            figure.add_shape(shape)
        for annotation in self.annotations:
            figure.add_annotation(annotation)

    def _draw_legend(self, colours: dict) -> None:
        """Group titles, symbols and labels down the panel, below the colourbar if any."""
        map_width, map_height = self.map_size()
        to_paper = lambda x, y: (1 + x / map_width, 1 - y / map_height)  # noqa: E731 -- pixels right of and below the map's top-right corner
        if self.colourbar_title:
            title = "<b>" + "<br>".join(self.colourbar_title) + "</b>"
            self.annotations.append(self._label(title, *to_paper(self.pad, 0), "top", colours["text"]))
        top = self.legend_top
        symbol_x = self.pad + self.symbol / 2
        label_x = self.pad + self.symbol + self.gap
        for group, entries in self.groups.items():
            x, y = to_paper(self.pad, top)
            self.annotations.append(self._label(f"<b>{html.escape(group)}</b>", x, y, "top", colours["text"]))
            top += self.line + 0.3 * self.legend_px
            for entry in entries:
                height = max(entry.size, (entry.label.count("<br>") + 1) * self.line)
                centre = top + height / 2
                if entry.colour:  # a text entry ("Only the country known: not drawn") has no symbol
                    self.shapes.append(self._symbol(entry, *to_paper(symbol_x, centre), colours))
                self.annotations.append(self._label(entry.label, *to_paper(label_x, centre), "middle", colours["text"]))
                top += height + 0.35 * self.legend_px
            top += 0.7 * self.legend_px
        if self.locator is not None:
            top = self._draw_locator(to_paper, top, map_width, map_height, colours)
        if self.scale:
            self._draw_scale(to_paper, top, map_height, colours)

    def _draw_locator(self, to_paper, top: float, map_width: float, map_height: float, colours: dict) -> float:
        """The inset in the panel under the legend, above the scale bar; where the legend leaves no room,
        in a corner of the map that holds no mark; else nowhere.  The panel's new foot."""
        from .locator import locator_shapes

        title = "<br>".join(wrap(self.locator.title, self.legend_chars + 4, separator=" "))
        title_height = (title.count("<br>") + 1) * self.line + 0.3 * self.legend_px
        aspect = locator_aspect(self.locator)
        scale_block = (self.line + 0.7 * self.legend_px) if self.scale else 0
        width = self.panel - 2 * self.pad
        room = map_height - scale_block - 0.7 * self.legend_px - top - title_height
        height = min(width * aspect, room)
        if height >= MIN_INSET_PX * self.unit:
            x, y = to_paper(self.pad, top + title_height)
            self.annotations.append(self._label(f"<b>{title}</b>", *to_paper(self.pad, top), "top", colours["text"]))
            self.shapes += locator_shapes(self.locator, x, y, width, height, colours, self.theme, self.unit)
            return top + title_height + height + 0.7 * self.legend_px
        corner = self._free_corner(map_width, map_height, aspect)
        if corner is not None:  # no caption on the map: the inset stands alone, its rectangle says what it is
            left, inset_top, width, height = corner
            self.shapes += locator_shapes(self.locator, left / map_width, 1 - inset_top / map_height, width, height, colours, self.theme, self.unit)
        return top

    def _free_corner(self, map_width: float, map_height: float, aspect: float):
        """(left, top, width, height) in map pixels of an inset in a corner no mark or shaded area reaches, or None.

        The bottom right is the map's notes' corner ("No events match"), so it is not tried."""
        from shapely.geometry import box

        width = min(CORNER_INSET_SHARE * map_width, CORNER_INSET_PX * self.unit)
        height = min(width * aspect, CORNER_INSET_SHARE * map_height)
        width = min(width, height / aspect)
        inset = 0.5 * self.pad
        for left, top in ((inset, map_height - inset - height), (inset, inset), (map_width - inset - width, inset)):
            if any(left - r <= x <= left + width + r and top - r <= y <= top + height + r for x, y, r in self.marks_px):
                continue
            if self.areas_px is None or not self.areas_px.intersects(box(left, top, left + width, top + height)):
                return left, top, width, height
        return None

    def _draw_scale(self, to_paper, legend_bottom: float, map_height: float, colours: dict) -> None:
        """The bar with end ticks and its label above, level with the map's foot (or under a long legend)."""
        pixels, label = self.scale
        tick = 0.4 * self.legend_px
        block = self.line + tick + 0.3 * self.legend_px
        bar_y = max(map_height - 0.2 * self.legend_px, legend_bottom + block)
        line = {"color": colours["text"], "width": max(2 * self.unit, 1)}
        for x0, y0, x1, y1 in (
            (self.pad, bar_y, self.pad + pixels, bar_y),
            (self.pad, bar_y, self.pad, bar_y - tick),
            (self.pad + pixels, bar_y, self.pad + pixels, bar_y - tick),
        ):
            (px0, py0), (px1, py1) = to_paper(x0, y0), to_paper(x1, y1)
            self.shapes.append({"type": "line", "xref": "paper", "yref": "paper", "x0": px0, "y0": py0, "x1": px1, "y1": py1, "line": line, "layer": "above"})
        self.annotations.append(self._label(label, *to_paper(self.pad, bar_y - tick - 0.2 * self.legend_px), "bottom", colours["text"]))

    def _symbol(self, entry: Entry, x: float, y: float, colours: dict) -> dict:
        radius = entry.size / 2
        return {
            "type": "rect" if entry.square else "circle",
            "xref": "paper",
            "yref": "paper",
            "xsizemode": "pixel",
            "ysizemode": "pixel",
            "xanchor": x,
            "yanchor": y,
            "x0": -radius,
            "x1": radius,
            "y0": -radius,
            "y1": radius,
            "fillcolor": entry.colour,
            "opacity": max(entry.opacity, 0.35) if entry.ring else entry.opacity,
            "line": {"width": 2 * self.unit if entry.ring else 1 if entry.square else 0, "color": entry.colour},
            "layer": "above",
        }

    def _label(self, text: str, x: float, y: float, anchor: str, colour: str) -> dict:
        return {
            "text": text, "xref": "paper", "yref": "paper", "x": x, "y": y, "xanchor": "left", "yanchor": anchor,
            "align": "left", "showarrow": False, "font": {"size": self.legend_px, "color": colour},
        }

    def _text(self, text: str, size: int, colour: str, y: float, shift: float) -> None:
        # Anchored to the map's edge (paper 0 or 1) and moved out into the margin by `shift` pixels.
        self.annotations.append(
            {
                "text": text,
                "xref": "paper",
                "yref": "paper",
                "x": 0,
                "y": y,
                "xanchor": "left",
                "yanchor": "bottom" if y == 1 else "top",
                "yshift": shift,
                "align": "left",
                "showarrow": False,
                "font": {"size": size, "color": colour},
            }
        )


def locator_aspect(locator) -> float:
    """Height over width that fits the locator's country and frame, between a flat strip and a square."""
    x0, y0, x1, y1 = locator.bounds
    return min(max((y1 - y0) / max(x1 - x0, 1e-9), 0.45), 1.0)


def wrap(text: str, width: int, separator: str = " · ") -> list[str]:
    """Escaped lines of about `width` characters, broken at separators first, then spaces.

    A line broken at a separator ends with it ("... events ·"), so the lines
    joined with spaces read as the text did."""
    lines: list[str] = []
    for part in text.split(separator):
        first, *rest = split_words(part, width) if len(part) > width else [part]
        if lines and len(lines[-1]) + len(separator) + len(first) <= width:
            lines[-1] += separator + first
        else:
            if lines and separator.strip():
                lines[-1] += " " + separator.strip()
            lines.append(first)
        lines += rest
    return [html.escape(line, quote=False) for line in lines]


def split_words(text: str, width: int) -> list[str]:
    lines = [""]
    for word in text.split(" "):
        if lines[-1] and len(lines[-1]) + 1 + len(word) > width:
            lines.append(word)
        else:
            lines[-1] = f"{lines[-1]} {word}".strip()
    return lines

