"""The basemap's files on the app's own origin: GeoJSON layers, glyphs, and a local .pmtiles file's tiles.

Every URL a map figure names is served here from basemap.offline_files'
table (never a path outside data/geo); a glyph range that was not built is
answered with an empty range, so MapLibre draws nothing for those
characters instead of failing the map.
"""
from __future__ import annotations

import gzip

from flask import Response, abort, request

from .. import basemap


def register_basemap_routes(server, basemap_setting: str | None, static_file) -> None:
    """static_file(path or None, mimetype): app.py's sender of data files (gzip, ETag; 404 for None)."""
    @server.route("/geo/<path:name>")
    def geo_file(name):
        return static_file(basemap.path_for_url("/geo/" + name), "application/geo+json")

    @server.route("/glyphs/<fontstack>/<glyph_range>.pbf")
    def glyphs(fontstack, glyph_range):
        first, _, last = glyph_range.partition("-")
        if not (first.isdigit() and last.isdigit() and int(last) - int(first) == 255 and int(first) % 256 == 0):
            abort(404)
        path = basemap.glyph_path(fontstack, glyph_range)
        if path is None:
            return Response(basemap.empty_glyph_range(fontstack, glyph_range), mimetype="application/x-protobuf")
        return static_file(path, "application/x-protobuf")

    if not basemap.is_local_pmtiles(basemap_setting):
        return
    info = basemap.pmtiles_info(str(basemap_setting))

    @server.route("/tiles/<int:z>/<int:x>/<int:y>.<ext>")
    def tile(z, x, y, ext):
        if ext != info["type"] or not (0 <= z <= 30 and 0 <= x < 2**z and 0 <= y < 2**z):
            abort(404)
        data = basemap.pmtiles_tile(str(basemap_setting), z, x, y)
        if data is None:
            return Response(status=204)
        if info["compression"] == 2 and data[:2] == b"\x1f\x8b":  # gzip, as pmtiles stores vector tiles
            if "gzip" in request.headers.get("Accept-Encoding", ""):
                response = Response(data, mimetype=_MIME[ext])
                response.headers["Content-Encoding"] = "gzip"
                return response
            data = gzip.decompress(data)
        return Response(data, mimetype=_MIME[ext])


_MIME = {"mvt": "application/vnd.mapbox-vector-tile", "png": "image/png", "jpg": "image/jpeg", "webp": "image/webp"}
