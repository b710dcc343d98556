"""Figures to PNG, SVG or PDF bytes in one headless Chromium (a kaleido session).

    with Renderer() as renderer:
        png = renderer.render(figure, "png", 1920, 1080)

Kaleido starts the browser (chromium.py: quiet, without network, tied to its
owner) and loads plotly.js from the installed plotly package;
export_page.js, added to kaleido's page, draws each figure (see there why
not kaleido's own Plotly.toImage).  The local files a figure names by their
page URL - boundaries, basemap layers, glyphs (basemap.figure_urls) - go to
the page once, the first time a figure names them.
Starting costs seconds; each image after that only its drawing.  Use a
Renderer from the thread that opened it.

Nothing is downloaded: the boundary files come from data/geo, plotly.js
from the plotly package, MathJax is off, and kaleido is pointed at Debian's
chromium (or $BROWSER_PATH) rather than fetching one.
"""
from __future__ import annotations

import asyncio
import base64
import contextlib
import json
from pathlib import Path

from .checks import FORMATS, ExportError
from .chromium import CHROMIUM_HELP, browser_class, find_chromium
from .figure import figure_text

EXPORT_PAGE_SCRIPT = Path(__file__).resolve().with_name("export_page.js")
RENDER_TIMEOUT_S = 180  # one step in the page; the render service stops a whole export sooner (config.EXPORT_TIMEOUT_S)
# A PDF page is the image printed at 300 dpi, so the a4 preset (3508x2480 px)
# fills an A4 landscape page.  Kaleido sizes the page in CSS pixels (96 per
# inch) as width*scale by height*scale.
PDF_DPI = 300
PDF_SCALE = 96 / PDF_DPI
# Page.printToPDF margins, in inches, as kaleido prints.
PDF_PRINT = {"marginTop": 0.1, "marginBottom": 0.1, "marginLeft": 0.1, "marginRight": 0.1}
# What the renderer is doing, for whoever waits on it.
DRAWING = "Drawing the map…"
WRITING = "Writing {fmt}…"


class Renderer:
    """One headless Chromium that renders many images (see the module docstring)."""

    def __init__(self, browser_path: str | None = None, timeout: float = RENDER_TIMEOUT_S, files: dict[str, Path] | None = None, isolate: bool = True):
        self._path = browser_path or find_chromium()
        self._timeout = timeout
        self._files = dict(files or {})
        self._isolate = isolate
        self._sent: set[str] = set()
        self._loop = None
        self._browser = None
        self._tab = None
        self.isolated = False  # True when Chromium runs without network (chromium.network_isolation)

    def __enter__(self) -> "Renderer":
        import kaleido  # imported here: checking an export's options needs no browser

        browser_cls = browser_class(self._isolate)
        self.isolated = browser_cls.isolated

        async def start():
            page = kaleido.PageGenerator(mathjax=False, others=[EXPORT_PAGE_SCRIPT])
            browser = kaleido.Kaleido(path=self._path, page_generator=page, timeout=self._timeout, browser_cls=browser_cls)
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
            for url, path in self._files.items():
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

    @property
    def process_group(self) -> int | None:
        """The process group of this Chromium and all its helpers (its launcher's pid)."""
        process = getattr(self._browser, "subprocess", None)
        return process.pid if process is not None else None

    def _close_loop(self) -> None:
        # The browser's helper tasks (its watchdog) end with the loop, quietly.
        pending = asyncio.all_tasks(self._loop)
        for task in pending:
            task.cancel()
        if pending:
            self._loop.run_until_complete(asyncio.wait(pending))
        self._loop.close()

    def render(self, figure, fmt: str, width: int, height: int, scale: float = 1.0, on_step=None) -> bytes:
        """The figure (a plotly Figure, a dict or JSON text) as `fmt` bytes: width x height pixels times `scale`.

        A PDF's page is the image at 300 dpi whatever `scale` (the drawing
        stays vector; the map inside it is a width x height raster).
        `on_step(text)` hears each step as it starts."""
        if fmt not in FORMATS:
            raise ExportError(f"unknown image format {fmt!r}: use png, svg or pdf")
        text = figure if isinstance(figure, str) else figure_text(figure)
        self._send_files(json.loads(text))
        if on_step:
            on_step(DRAWING)
        arguments = json.dumps([fmt, PDF_SCALE if fmt == "pdf" else scale, int(width), int(height)])[1:-1]
        self._evaluate(f"dashboardExport.draw({text}, {arguments})")
        if on_step:
            on_step(WRITING.format(fmt=fmt.upper()))
        result = self._evaluate("dashboardExport.encode()")
        if fmt == "svg":
            return result.encode("utf-8")
        if fmt == "png":
            return base64.b64decode(result)
        # Printed as kaleido prints it: the page sized by the page script.
        printed = self._send("Page.printToPDF", {**PDF_PRINT, "preferCSSPageSize": True, "printBackground": True, "pageRanges": "1"})
        return base64.b64decode(printed["data"])

    def _send_files(self, figure: dict) -> None:
        """Every local file the figure names (boundaries, basemap layers, glyphs), each sent to the page once."""
        from ..basemap import figure_urls, offline_files

        urls = figure_urls(figure)
        found = {**offline_files(urls), **{url: self._files[url] for url in urls if url in self._files}}
        for url, path in found.items():
            self._send_file(url, path)

    def _send_file(self, url: str, path) -> None:
        """One file to the page under its URL; a URL with no file is left for the page to name in its error."""
        if url in self._sent or not Path(path).is_file():
            return
        if str(path).endswith(".pbf"):  # glyph ranges: binary
            self._evaluate(f"dashboardExport.addBinaryFile({json.dumps(url)}, {json.dumps(base64.b64encode(Path(path).read_bytes()).decode('ascii'))})")
        else:
            self._evaluate(f"dashboardExport.addFile({json.dumps(url)}, {json.dumps(Path(path).read_text(encoding='utf-8'))})")
        self._sent.add(url)

    def _evaluate(self, expression: str):
        """`expression` in the page, awaited; its value, or ExportError with the page's message."""
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


def render(figure, fmt: str, width: int, height: int, scale: float = 1.0) -> bytes:
    """One image in a browser of its own (for many, use one Renderer)."""
    with Renderer() as renderer:
        return renderer.render(figure, fmt, width, height, scale)
