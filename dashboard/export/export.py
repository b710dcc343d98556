"""Map snapshots for slides and reports: one view as PNG, SVG or PDF.

The page's export control and `python -m dashboard export` share this one
path: `build_export_figure` draws the view with figures.map_figure (the
page's own map) and frames it with a title, the filters, the legend, the
sources and the export time, laid out in margins around the map so nothing
covers it.  `Renderer` turns figures into bytes with kaleido in the system
Chromium; one Renderer (one browser) serves any number of images.

Nothing is downloaded: the boundary files go from data/geo to the page,
plotly.js comes from the installed plotly package, MathJax is off, and
kaleido is pointed at Debian's chromium (or $BROWSER_PATH) rather than
fetching one.
"""
from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import html
import logging
import math
import os
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .. import config
from ..view import ViewState, fit_view_to_data, view_from_query

if TYPE_CHECKING:
    import plotly.graph_objects as go

# plotly, the figures and the boundaries are imported where used: the CLI
# builds its parser from this module, and `validate` should not pay for them.

PRESETS = {"slide": (1920, 1080), "hd": (1280, 720), "a4": (3508, 2480), "square": (1080, 1080)}
DEFAULT_PRESET = "slide"
FORMATS = {"png": "image/png", "svg": "image/svg+xml", "pdf": "application/pdf"}
MIN_SIDE, MAX_SIDE = config.IMAGE_MIN_SIDE, config.IMAGE_MAX_SIDE
# A PDF page is the image printed at 300 dpi, so the a4 preset (3508x2480 px)
# fills an A4 landscape page.  Kaleido sizes the page in CSS pixels (96 per
# inch) as width*scale by height*scale.
PDF_DPI = 300
PDF_SCALE = 96 / PDF_DPI
RENDER_TIMEOUT_S = 180
EXPORT_PAGE_SCRIPT = Path(__file__).resolve().with_name("export_page.js")
# Page.printToPDF margins, in inches, as kaleido prints.
PDF_PRINT = {"marginTop": 0.1, "marginBottom": 0.1, "marginLeft": 0.1, "marginRight": 0.1}
CHROMIUM_HELP = "install Debian's chromium package or set BROWSER_PATH"

# Layout, in pixels of a 1080-pixel-high slide; everything scales with the
# image's shorter side, so an A4 page at 300 dpi reads like the slide.
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


class ExportError(Exception):
    """Bad input or a missing piece; the message says which."""


# ------------------------------------------------------------ input checks


def image_size(preset: str | None = None, width: int | None = None, height: int | None = None) -> tuple[int, int]:
    """Pixel size from a preset name or an explicit width and height."""
    if preset is not None and (width is not None or height is not None):
        raise ExportError("give --preset or --width and --height, not both")
    if (width is None) != (height is None):
        raise ExportError("give both --width and --height")
    if width is None:
        preset = preset or DEFAULT_PRESET
        if preset not in PRESETS:
            raise ExportError(f"unknown preset {preset!r}: choose {', '.join(PRESETS)}")
        width, height = PRESETS[preset]
    for side in (width, height):
        if not MIN_SIDE <= side <= MAX_SIDE:
            raise ExportError(f"image size {width}x{height} is out of bounds: each side must be {MIN_SIDE} to {MAX_SIDE} pixels")
    return int(width), int(height)


def format_for(path) -> str:
    """The image format named by the file's extension."""
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        shown = f"'.{suffix}'" if suffix else "no extension"
        raise ExportError(f"unknown image format ({shown}) in {path}: use .png, .svg or .pdf")
    return suffix


def check_writable(path) -> None:
    """Fail before any work if the file cannot be written."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise ExportError(f"cannot write {path}: it is a folder")
    if not folder.exists():
        raise ExportError(f"cannot write {path}: folder {folder} does not exist")
    if not folder.is_dir():
        raise ExportError(f"cannot write {path}: {folder} is not a folder")
    if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise ExportError(f"cannot write {path}: permission denied")


def find_chromium() -> str:
    """Debian's chromium, or the browser $BROWSER_PATH names; never a download."""
    configured = config.BROWSER_PATH
    if configured:
        if Path(configured).is_file() and os.access(configured, os.X_OK):
            return configured
        raise ExportError(f"Chromium not found at BROWSER_PATH={configured}: {CHROMIUM_HELP}")
    for candidate in (shutil.which("chromium"), "/usr/bin/chromium", shutil.which("chromium-browser")):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise ExportError(f"Chromium not found: {CHROMIUM_HELP}")


# -------------------------------------------------------------- rendering


class Renderer:
    """One headless Chromium (a kaleido session) that renders many images.

        with Renderer() as renderer:
            png = renderer.render(figure, "png", 1920, 1080)

    Kaleido starts the browser and loads plotly.js from the installed plotly
    package; export_page.js, added to kaleido's page, draws each figure (see
    there why not kaleido's own Plotly.toImage).  The boundary files go to
    the page once, so figures name them by their URLs as the page does.
    Starting costs seconds; each image after that only its drawing.  Use a
    Renderer from the thread that opened it.
    """

    def __init__(self, browser_path: str | None = None, timeout: float = RENDER_TIMEOUT_S, files: dict[str, Path] | None = None):
        self._path = browser_path or find_chromium()
        self._timeout = timeout
        self._files = files
        self._loop = None
        self._browser = None
        self._tab = None

    def __enter__(self) -> "Renderer":
        import kaleido  # imported here: the page loads export.py without needing a browser

        self._sent: set[str] = set()

        async def start():
            page = kaleido.PageGenerator(mathjax=False, others=[EXPORT_PAGE_SCRIPT])
            browser = kaleido.Kaleido(path=self._path, page_generator=page, timeout=self._timeout)
            try:
                await browser.open()
            except BaseException:
                with contextlib.suppress(Exception):
                    await browser.close()  # stops its watchdog
                raise
            return browser

        self._loop = asyncio.new_event_loop()
        try:
            self._browser = self._loop.run_until_complete(start())
        except Exception as error:
            self._close_loop()
            # Not kaleido's own advice, which is to download a browser.
            raise ExportError(f"Chromium at {self._path} did not start ({type(error).__name__}): {CHROMIUM_HELP}") from None
        try:
            self._tab = self._browser.get_tab()  # kaleido's tab, on its page with plotly.js and ours
            for url, path in (self._files or {}).items():
                self._send_file(url, path)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc) -> None:
        try:
            self._loop.run_until_complete(self._browser.close())
        finally:
            self._close_loop()

    def _close_loop(self) -> None:
        # The browser's helper tasks (its watchdog) end with the loop, quietly.
        pending = asyncio.all_tasks(self._loop)
        for task in pending:
            task.cancel()
        if pending:
            self._loop.run_until_complete(asyncio.wait(pending))
        self._loop.close()

    def render(self, figure: go.Figure, fmt: str, width: int, height: int, scale: float = 1.0) -> bytes:
        """The figure as `fmt` bytes: width x height pixels times `scale`.

        A PDF's page is the image at 300 dpi whatever `scale` (the drawing
        stays vector; the map inside it is a width x height raster)."""
        if fmt not in FORMATS:
            raise ExportError(f"unknown image format {fmt!r}: use png, svg or pdf")
        figure = figure.to_plotly_json()
        figure["layout"] = {**figure.get("layout", {}), "width": width, "height": height}
        from ..basemap import figure_urls, offline_files

        # Every local file the figure names (basemap layers, glyphs), sent once per browser.
        for url, path in offline_files(figure_urls(figure)).items():
            self._send_file(url, path)
        result = self._call("dashboardExport.render", figure, fmt, PDF_SCALE if fmt == "pdf" else scale)
        if fmt == "svg":
            return result.encode("utf-8")
        if fmt == "png":
            return base64.b64decode(result)
        # Printed as kaleido prints it: the page sized by the page script.
        printed = self._send("Page.printToPDF", {**PDF_PRINT, "preferCSSPageSize": True, "printBackground": True, "pageRanges": "1"})
        return base64.b64decode(printed["data"])

    def _send_file(self, url: str, path) -> None:
        if url in self._sent:
            return
        if str(path).endswith(".pbf"):
            self._call("dashboardExport.addBinaryFile", url, base64.b64encode(Path(path).read_bytes()).decode("ascii"))
        else:
            self._call("dashboardExport.addFile", url, Path(path).read_text(encoding="utf-8"))
        self._sent.add(url)

    def _call(self, function: str, *arguments):
        """`function(*arguments)` in the page, awaited; its value, or ExportError with the page's message."""
        # numpy arrays as plotly.js reads them
        from plotly.io.json import to_json_plotly

        expression = f"{function}(...{to_json_plotly(list(arguments))})"
        response = self._send("Runtime.evaluate", {"expression": expression, "awaitPromise": True, "returnByValue": True})
        if "exceptionDetails" in response:
            details = response["exceptionDetails"]
            message = (details.get("exception", {}).get("description") or details.get("text") or "unknown error").splitlines()[0]
            raise ExportError(f"the figure did not render: {message.removeprefix('Error: ')}")
        return response["result"].get("value")

    def _send(self, method: str, params: dict) -> dict:
        try:
            response = self._loop.run_until_complete(asyncio.wait_for(self._tab.send_command(method, params=params), self._timeout))
        except TimeoutError:  # asyncio.wait_for raises the builtin since 3.11
            raise ExportError(f"rendering took longer than {self._timeout:g} s") from None
        if "error" in response:
            raise ExportError(f"the browser refused {method}: {response['error'].get('message', response['error'])}")
        return response["result"]


def render(figure: go.Figure, fmt: str, width: int, height: int, scale: float = 1.0) -> bytes:
    """One image in a browser of its own (for many, use one Renderer)."""
    with Renderer() as renderer:
        return renderer.render(figure, fmt, width, height, scale)


# ------------------------------------------------------------ the figure


def export_view(view: ViewState, store) -> tuple[ViewState, list[str]]:
    """The view as the page would show it, except the dates.

    Values the data lacks are dropped, as on the page; dates are kept as
    asked, so a range outside the data exports a map that says no events
    match rather than quietly showing another range."""
    fitted, notices = fit_view_to_data(view, store.bounds)
    fitted = fitted.replace(date_from=view.date_from, date_to=view.date_to)
    notices = [n for n in notices if "is outside the data" not in n]
    first, last = store.bounds.first_day, store.bounds.last_day
    if any(day and not first <= day <= last for day in (view.date_from, view.date_to)):
        notices.append(f"The data runs from {first} to {last}.")
    return fitted, notices


def build_export_figure(
    view: ViewState,
    data,
    *,
    width: int,
    height: int,
    title: str | None = None,
    exported_at: dt.datetime | None = None,
) -> go.Figure:
    """The view's map framed for a slide or a page: title, filters, legend, sources, time.

    `data` is app.DashboardData.  The default title is the plain-language
    summary of the view (figures.describe_view); with a title of one's own
    the summary becomes the subtitle."""
    from ..boundaries import ATTRIBUTION
    from ..render.describe import describe_view
    from ..render.map import first_view, map_figure
    from ..render.style import THEMES
    from ..render.territory import territory_for_view  # the page's rule for the control layer

    store = data.store
    count = store.count(view)
    territory, territory_label, territory_sentence = territory_for_view(data, view)
    summary = describe_view(view, store, count)
    exported_at = (exported_at or dt.datetime.now(dt.timezone.utc)).astimezone(dt.timezone.utc)

    headline = title.strip() if title and title.strip() else summary
    subtitle = [summary] if headline != summary else []
    from ..basemap import ATTRIBUTION as BASEMAP_ATTRIBUTION  # GeoNames' CC BY asks for credit wherever its names show

    sources = [f"Events: {data.label}", ATTRIBUTION, BASEMAP_ATTRIBUTION]
    if territory:
        subtitle.append(territory_sentence)
        layer = data.territory
        sources.append(f"Control line: {layer.source}" + (f" ({layer.licence})" if layer.licence else ""))
    sources.append(f"Exported {exported_at:%Y-%m-%d %H:%M} UTC")
    frame = _Frame(width, height)
    figure = map_figure(
        view,
        store,
        territory=territory,
        territory_label=territory_label,
        scale=MAP_SCALE * frame.unit,
        # A missing snapshot is said on the map, as on the page.
        notes=() if territory or not territory_sentence else (territory_sentence,),
    )
    groups = _legend_groups(figure, store.counts_by_type(view), territory)
    colourbar = next((trace for trace in figure.data if "colorbar" in trace), None)
    frame.set_text(headline, " · ".join(subtitle), " · ".join(sources))
    frame.set_panel(groups, COLOURBAR_TITLES.get(view.mode) if colourbar else None)

    # The extent for the map's final size (map_figure fitted a default size).
    map_width, map_height = frame.map_size()
    if view.center_lat is not None and view.center_lon is not None and view.zoom is not None:
        centre_lat, centre_lon, zoom = view.center_lat, view.center_lon, _zoom_for_size(view.zoom, map_width, map_height)
    else:
        centre_lat, centre_lon, zoom = first_view(store, territory, map_width, map_height)
    # Drawn again for the map's own size and zoom: clusters, region circles and basemap detail follow the zoom.
    figure = map_figure(
        view.replace(center_lat=centre_lat, center_lon=centre_lon, zoom=zoom),
        store,
        territory=territory,
        territory_label=territory_label,
        scale=MAP_SCALE * frame.unit,
        width_px=map_width,
        height_px=map_height,
        notes=() if territory or not territory_sentence else (territory_sentence,),
    )
    colourbar = next((trace for trace in figure.data if "colorbar" in trace), None)
    frame.set_scale(centre_lat, zoom)
    if colourbar is not None:
        frame.style_colourbar(colourbar)
    frame.apply(figure, THEMES[view.theme])
    return figure


COLOURBAR_TITLES = {"choropleth": "Events per region", "density": "Events per cell"}


def _zoom_for_size(page_zoom: float, map_width: int, map_height: int) -> float:
    """A shared view's zoom is for the page's map; the export shows the same area.

    The page's map size is render.style.PAGE_MAP_SIZE; a map k times larger
    needs log2(k) more zoom."""
    from ..render.style import PAGE_MAP_SIZE

    page_width, page_height = PAGE_MAP_SIZE
    factor = min(map_width / page_width, map_height / page_height)
    return round(min(max(page_zoom + math.log2(factor), 0.0), 22.0), 2)


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
class _Entry:
    label: str
    colour: str
    size: float  # symbol diameter in pixels
    opacity: float = 1.0
    square: bool = False  # an area (the control layer) rather than a point


def _legend_groups(figure, counts: dict, territory: list[dict]) -> dict[str, list[_Entry]]:
    """map_figure's legend entries, by group, with each type's count.

    The export draws them itself: plotly caps legend symbols at a few
    pixels, too small to read on a 300-dpi page."""
    groups: dict[str, list[_Entry]] = {}
    for trace in figure.data:
        if trace.type != "scattermap" or trace.showlegend is False:
            continue
        label = html.unescape(trace.name or "")
        entry = _Entry(label, trace.marker.color, float(trace.marker.size or 12), float(trace.marker.opacity or 1.0))
        if trace.legendgroup == "precision":
            group = trace.legendgrouptitle.text or "Location precision"
        elif label in counts:
            group, entry.label = "Event type", f"{label} ({counts[label]:,})"
        else:  # the control layer's entry: a swatch as the area looks on the map
            group, entry.square, entry.opacity = "Territory", True, territory[0].get("opacity", 1.0) if territory else 1.0
        groups.setdefault(group, []).append(entry)
    figure.update_layout(showlegend=False)
    return groups


class _Frame:
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

    def chars_across(self, pixels: float, font_px: float, bold: bool = False) -> int:
        return max(int(pixels / (font_px * CHAR_WIDTH_EM[bold])), 8)

    def text_width(self, characters: int, font_px: float, bold: bool = False) -> float:
        return characters * font_px * CHAR_WIDTH_EM[bold]

    def set_text(self, headline: str, subtitle: str, footer: str) -> None:
        across = self.width - 2 * self.pad
        self.title_lines = _wrap(headline, self.chars_across(across, self.title_px, bold=True))
        self.subtitle_lines = _wrap(subtitle, self.chars_across(across, self.subtitle_px)) if subtitle else []
        self.footer_lines = _wrap(footer, self.chars_across(across, self.footer_px))
        self.subtitle_height = len(self.subtitle_lines) * self.subtitle_px * 1.35
        self.top = round(0.8 * self.pad + len(self.title_lines) * self.title_px * 1.3 + self.subtitle_height + 0.5 * self.pad)
        self.bottom = round(len(self.footer_lines) * self.footer_px * 1.4 + self.pad)

    def set_panel(self, groups: dict[str, list[_Entry]], colourbar_title: str | None) -> None:
        """The panel right of the map: as wide as its longest line, up to a share of the image."""
        self.groups = groups
        self.symbol = max((e.size for entries in groups.values() for e in entries), default=0)
        self.gap = 0.5 * self.legend_px
        widest = MAX_PANEL_SHARE * self.width - 2 * self.pad - self.symbol - self.gap
        self.legend_chars = min(LEGEND_WRAP_CHARS, self.chars_across(widest, self.legend_px))
        for group, entries in groups.items():
            for entry in entries:
                entry.label = "<br>".join(_wrap(entry.label, self.legend_chars, separator=" "))
        lines = [line for entries in groups.values() for e in entries for line in e.label.split("<br>")]
        needed = self.text_width(max(map(len, lines)), self.legend_px) + self.symbol + self.gap if lines else 0
        needed = max([needed] + [self.text_width(len(title), self.legend_px, bold=True) for title in groups])
        self.colourbar_title = _wrap(colourbar_title, COLOURBAR_TITLE_CHARS, separator=" ") if colourbar_title else []
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
                self.shapes.append(self._symbol(entry, *to_paper(symbol_x, centre), colours))
                self.annotations.append(self._label(entry.label, *to_paper(label_x, centre), "middle", colours["text"]))
                top += height + 0.35 * self.legend_px
            top += 0.7 * self.legend_px
        if self.scale:
            self._draw_scale(to_paper, top, map_height, colours)

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

    def _symbol(self, entry: _Entry, x: float, y: float, colours: dict) -> dict:
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
            "opacity": entry.opacity,
            "line": {"width": 1 if entry.square else 0, "color": entry.colour},
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


def _wrap(text: str, width: int, separator: str = " · ") -> list[str]:
    """Escaped lines of about `width` characters, broken at separators first, then spaces.

    A line broken at a separator ends with it ("... events ·"), so the lines
    joined with spaces read as the text did."""
    lines: list[str] = []
    for part in text.split(separator):
        first, *rest = _split_words(part, width) if len(part) > width else [part]
        if lines and len(lines[-1]) + len(separator) + len(first) <= width:
            lines[-1] += separator + first
        else:
            if lines and separator.strip():
                lines[-1] += " " + separator.strip()
            lines.append(first)
        lines += rest
    return [html.escape(line, quote=False) for line in lines]


def _split_words(text: str, width: int) -> list[str]:
    lines = [""]
    for word in text.split(" "):
        if lines[-1] and len(lines[-1]) + 1 + len(word) > width:
            lines.append(word)
        else:
            lines[-1] = f"{lines[-1]} {word}".strip()
    return lines


# ------------------------------------------------------------- page entry


def export_filename(view: ViewState, store, fmt: str) -> str:
    first = view.date_from or store.bounds.first_day
    last = view.date_to or store.bounds.last_day
    mode = "" if view.mode == "points" else f"-{view.mode}"
    return f"conflict-events-{first}-to-{last}{mode}.{fmt}"


def export_bytes_for_page(query: str, data, fmt: str = "png", width: int = 1920, height: int = 1080, title: str | None = None) -> tuple[bytes, str, str]:
    """(image bytes, file name, MIME type) of the view in `query`, for the page's download.

    Raises ExportError for a bad format or size, or a missing Chromium."""
    fmt = (fmt or "").lower()
    if fmt not in FORMATS:
        raise ExportError(f"unknown image format {fmt!r}: use png, svg or pdf")
    width, height = image_size(width=int(width), height=int(height))
    view, _ = view_from_query(query or "")
    view, _ = export_view(view, data.store)
    figure = build_export_figure(view, data, width=width, height=height, title=title)
    return render(figure, fmt, width, height), export_filename(view, data.store, fmt), FORMATS[fmt]


# -------------------------------------------------------------------- CLI




def run_export_command(args) -> int:
    # One clear line for a failure: the browser library's own warnings would repeat it.
    for name in ("choreographer", "kaleido"):
        logging.getLogger(name).setLevel(logging.ERROR)
    try:
        for path in export_images(args):
            print(path, flush=True)
    except ExportError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


def export_images(args):
    """Check everything, load the data once, render every view in one browser; yields each file written."""
    out = Path(args.out)
    fmt = format_for(out)
    width, height = image_size(args.preset, args.width, args.height)
    check_writable(out)
    if args.date_from and args.date_to and args.date_from > args.date_to:
        raise ExportError("--from is after --to")
    named_queries = _named_queries(args)
    browser_path = find_chromium()
    data = _load_data(args)
    paths = _output_paths(out, named_queries)
    with Renderer(browser_path) as renderer:
        for path, (name, view) in zip(paths, _views(args, named_queries, data.store)):
            figure = build_export_figure(view, data, width=width, height=height, title=args.title or name)
            _write(path, renderer.render(figure, fmt, width, height))
            yield path


def _named_queries(args) -> list[tuple[str | None, str | None]]:
    """(name, query) per image; one (None, None) when the flags alone make the view."""
    named = []
    if args.views_file:
        named += _read_views_file(args.views_file)
    named += [(None, query) for query in args.views or ()]
    return named or [(None, None)]


def _read_views_file(path) -> list[tuple[str, str]]:
    """(name, query) of each view saved from the page (its "Export views" file)."""
    from ..store.saved_views import FileSavedViews, SavedViewsError

    if not Path(path).is_file():
        raise ExportError(f"saved views file {path} does not exist")
    try:
        views = FileSavedViews(Path(path)).list()
    except SavedViewsError as error:
        raise ExportError(f"saved views {path}: {error}") from None
    if not views:
        raise ExportError(f'saved views {path} holds no views: expected a list of {{"name": ..., "query": ...}}')
    return [(view["name"], view["query"]) for view in views]


def _views(args, named_queries, store):
    """(name, view) per image: the link's view, with the flags given on top."""
    overrides = {
        key: value
        for key, value in (
            ("date_from", args.date_from),
            ("date_to", args.date_to),
            ("types", tuple(args.types) if args.types else None),
            ("regions", tuple(args.regions) if args.regions else None),
            ("mode", args.mode),
        )
        if value is not None
    }
    for name, query in named_queries:
        view, notices = view_from_query(query or "")
        view, fit_notices = export_view(view.replace(**overrides), store)
        for notice in notices + fit_notices:
            print(f"note: {name + ': ' if name else ''}{notice}", file=sys.stderr)
        yield name, view


def _output_paths(out: Path, named_queries) -> list[Path]:
    """FILE for one image; FILE-1, FILE-2... or FILE-<saved view name> for several."""
    if len(named_queries) == 1:
        return [out]
    paths, used = [], set()
    for index, (name, _) in enumerate(named_queries, 1):
        slug = re.sub(r"[^a-z0-9]+", "-", (name or "").lower()).strip("-")[:60] or str(index)
        if slug in used:
            slug = f"{slug}-{index}"
        used.add(slug)
        paths.append(out.with_name(f"{out.stem}-{slug}{out.suffix}"))
    return paths


def _load_data(args):
    from ..store.open import open_dataset
    from ..territory import TerritoryError

    try:
        return open_dataset(args.data, args.territory, args.fmt, args.mapping, args.encoding, args.type_value,
                            store=getattr(args, "store", None))
    except TerritoryError as error:
        raise ExportError(f"territory layer: {error}") from None


def _write(path: Path, content: bytes) -> None:
    try:
        path.write_bytes(content)
    except OSError as error:
        raise ExportError(f"cannot write {path}: {error.strerror or error}") from None
