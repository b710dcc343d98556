/* Draws export figures inside kaleido's page, for dashboard/export/renderer.py.
 *
 * Plotly.toImage (what kaleido calls) would do the same steps, newPlot,
 * toSVG, then SVG to PNG, but for any map it first waits a fixed 500 ms and
 * draws off-screen, where MapLibre's canvas is read back slowly.  Here the
 * plot is drawn at the top of the page and read as soon as the map says it
 * has rendered: about half the time per image.
 *
 * The boundary files are sent once per browser (addFile) and figures name
 * them by the URL the page uses (/geo/admin1.geojson), so each figure is a
 * few kilobytes instead of two megabytes.
 */
window.dashboardExport = (function () {
  "use strict";
  const files = {};

  const binaries = {};
  // Relative URLs in a style (glyphs) are made absolute on this made-up
  // origin, which the fetch below answers from the files sent: MapLibre
  // asks for glyphs on the page's thread with fetch, and nothing leaves.
  const ORIGIN = "http://dashboard-export.invalid";

  function addFile(url, text) {
    files[url] = JSON.parse(text);
    return Object.keys(files).length;
  }

  function addBinaryFile(url, base64) {
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    binaries[url] = bytes.buffer;
    return Object.keys(binaries).length;
  }

  const pageFetch = window.fetch.bind(window);
  window.fetch = function (resource, options) {
    const url = typeof resource === "string" ? resource : resource.url;
    if (url && url.startsWith(ORIGIN + "/")) {
      const path = decodeURIComponent(new URL(url).pathname);
      if (path in binaries) return Promise.resolve(new Response(binaries[path].slice(0), { status: 200 }));
      if (path in files) return Promise.resolve(new Response(JSON.stringify(files[path]), { status: 200 }));
      if (path.startsWith("/glyphs/")) return Promise.resolve(new Response(new ArrayBuffer(0), { status: 200 }));
      return Promise.resolve(new Response("", { status: 404 }));
    }
    return pageFetch(resource, options);
  };

  // A URL the renderer was given becomes its GeoJSON.  A page URL it was
  // not given is an error here: MapLibre would only say "Map error".
  function attachFile(source) {
    if (typeof source !== "string" || /^(https?|data|blob):/.test(source)) return source;
    if (!(source in files)) throw new Error(`no file for ${source}: the renderer holds ${Object.keys(files).join(", ") || "none"}`);
    return files[source];
  }

  function attachFiles(figure) {
    const style = figure.layout.map && figure.layout.map.style;
    if (style && typeof style === "object") {
      for (const source of Object.values(style.sources || {})) {
        if (source.type === "geojson") source.data = attachFile(source.data);
      }
      if (typeof style.glyphs === "string" && style.glyphs.startsWith("/")) style.glyphs = ORIGIN + style.glyphs;
    }
    for (const layer of (figure.layout.map && figure.layout.map.layers) || []) {
      if (layer.sourcetype === undefined || layer.sourcetype === "geojson") layer.source = attachFile(layer.source);
    }
    for (const trace of figure.data) {
      if ("geojson" in trace) trace.geojson = attachFile(trace.geojson);
    }
  }

  function loaded(image) {
    return new Promise((resolve, reject) => {
      image.onload = resolve;
      image.onerror = () => reject(new Error("the SVG did not load for printing"));
    });
  }

  // Between draw() and encode(): the drawn SVG and what encoding it needs.
  let drawn = null;

  /* Draws the figure at width x height (plotly.js, MapLibre for the map)
   * and keeps its SVG for encode(); two calls so the renderer can say which
   * step an export is at. */
  async function draw(figure, format, scale, width, height) {
    drawn = null;
    figure.layout = Object.assign(figure.layout || {}, { width, height });
    attachFiles(figure);
    let paper = null;
    const config = { staticPlot: true, _exportedPlot: true };
    if (format === "pdf") {
      // As kaleido: a transparent plot on a page of the paper's colour.
      config.setBackground = (graph, colour) => {
        paper = paper || colour;
        graph._fullLayout.paper_bgcolor = "rgba(0,0,0,0)";
      };
    }
    const graph = document.createElement("div");
    graph.style.cssText = "position:absolute;top:0;left:0";
    document.body.prepend(graph);
    try {
      await Plotly.newPlot(graph, figure.data, figure.layout, config);
      drawn = { svg: Plotly.Snapshot.toSVG(graph, "svg", scale), format, scale, width, height, paper };
    } finally {
      Plotly.purge(graph);
      graph.remove();
    }
    return true;
  }

  /* The drawn figure as base64 PNG or SVG text; for PDF the SVG is put on
   * the page, sized for printing, and Python prints it (as kaleido does). */
  async function encode() {
    if (drawn === null) throw new Error("nothing drawn to encode");
    const { svg, format, scale, width, height, paper } = drawn;
    drawn = null;
    if (format === "svg") return svg;
    if (format === "png") {
      const url = await Plotly.Snapshot.svgToImg({
        svg, format: "png", width, height, scale, canvas: document.createElement("canvas"), promise: true,
      });
      return url.slice(url.indexOf(",") + 1);
    }
    document.getElementById("head-style").textContent =
      `@page { size: ${width * scale}px ${height * scale}px; } ` +
      `body { margin: 0; padding: 0; background-color: ${paper}; }`;
    const image = document.getElementById("kaleido-image");
    const ready = loaded(image);
    image.src = "data:image/svg+xml," + encodeURIComponent(svg);
    await ready;
    return "";
  }

  return { addFile, addBinaryFile, draw, encode, files: () => Object.keys(files) };
})();
