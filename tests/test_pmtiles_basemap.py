"""A user's own basemap as a local .pmtiles file: read by the server, served as tiles from the app's origin."""
from __future__ import annotations

import gzip
import json

import pytest

pmtiles = pytest.importorskip("pmtiles")

from pmtiles.tile import Compression, TileType, zxy_to_tileid  # noqa: E402
from pmtiles.writer import Writer  # noqa: E402

from dashboard import basemap  # noqa: E402
from dashboard.ingest.prepare import prepare_events  # noqa: E402
from dashboard.render.map import map_figure  # noqa: E402
from dashboard.store.dataset import Dataset  # noqa: E402
from dashboard.store.memory import InMemoryEventStore  # noqa: E402
from dashboard.view import ViewState  # noqa: E402


_varint = basemap._varint  # protobuf base-128 integers: the encoder the glyph files use


def _field(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def square_tile(layer: str = "land") -> bytes:
    """A Mapbox Vector Tile with one layer holding one square polygon (spec 2.1, encoded by hand)."""
    zigzag = lambda v: (v << 1) ^ (v >> 31)  # noqa: E731
    commands = [9, zigzag(512), zigzag(512), 26, zigzag(3072), 0, 0, zigzag(3072), zigzag(-3072), 0, 15]
    geometry = b"".join(_varint(c) for c in commands)
    feature = _varint(1 << 3) + _varint(1) + _varint(3 << 3) + _varint(3) + _field(4, geometry)
    layer_message = _varint(15 << 3) + _varint(2) + _field(1, layer.encode()) + _field(2, feature) + _varint(5 << 3) + _varint(4096)
    return _field(3, layer_message)


@pytest.fixture(scope="module")
def tiles_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("tiles") / "world.pmtiles"
    with open(path, "wb") as handle:
        writer = Writer(handle)
        for z, x, y in ((0, 0, 0), (1, 1, 0)):
            writer.write_tile(zxy_to_tileid(z, x, y), gzip.compress(square_tile(), mtime=0))
        writer.finalize(
            {"tile_type": TileType.MVT, "tile_compression": Compression.GZIP, "min_zoom": 0, "max_zoom": 1,
             "min_lon_e7": -1800000000, "min_lat_e7": -850000000, "max_lon_e7": 1800000000, "max_lat_e7": 850000000,
             "center_zoom": 0, "center_lon_e7": 0, "center_lat_e7": 0},
            {"vector_layers": [{"id": "land", "fields": {}}]},
        )
    return path


@pytest.fixture(scope="module")
def data(tmp_path_factory, tiles_file) -> Dataset:
    events = prepare_events(cache_dir=tmp_path_factory.mktemp("cache")).events
    return Dataset(store=InMemoryEventStore(events), basemap=str(tiles_file))


def test_the_file_is_read_for_its_type_zooms_and_layers(tiles_file):
    info = basemap.pmtiles_info(str(tiles_file))
    assert (info["type"], info["minzoom"], info["maxzoom"], info["vector_layers"]) == ("mvt", 0, 1, ["land"])
    assert basemap.is_local_pmtiles(str(tiles_file)) and not basemap.is_local_pmtiles("https://example.org/x.pmtiles")


def test_the_figure_draws_the_tiles_from_the_apps_origin_with_its_own_names(data):
    figure = json.loads(map_figure(ViewState(), data.store, basemap=data.basemap).to_json())
    style = figure["layout"]["map"]["style"]
    assert style["sources"]["local-tiles"] == {"type": "vector", "tiles": ["/tiles/{z}/{x}/{y}.mvt"], "minzoom": 0, "maxzoom": 1}
    drawn = [layer for layer in style["layers"] if layer.get("source") == "local-tiles"]
    assert {layer["source-layer"] for layer in drawn} == {"land"} and {layer["type"] for layer in drawn} == {"fill", "line"}
    assert "land" not in style["sources"]  # the bundled land gives way to the user's
    assert any(layer["id"].startswith("places-") for layer in style["layers"])  # the names stay


def test_the_app_serves_each_tile_and_nothing_else(data):
    from dashboard.web.app import create_app

    client = create_app(data).server.test_client()
    plain = client.get("/tiles/1/1/0.mvt")
    assert plain.status_code == 200 and plain.data == square_tile()
    zipped = client.get("/tiles/0/0/0.mvt", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip" and gzip.decompress(zipped.data) == square_tile()
    assert client.get("/tiles/1/0/0.mvt").status_code == 204  # no tile there: empty, as MapLibre expects
    assert client.get("/tiles/1/5/0.mvt").status_code == 404 and client.get("/tiles/0/0/0.png").status_code == 404
