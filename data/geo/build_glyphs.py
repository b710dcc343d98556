#!/usr/bin/env python
"""Build the map's glyphs: signed-distance-field PBF ranges that MapLibre draws labels with.

MapLibre asks for glyphs as `{fontstack}/{range}.pbf` (256 code points per
file, glyphs.proto of mapbox/glyph-pbf-composite).  This writes them from
the DejaVu fonts of Debian's fonts-dejavu-core package, so no font server
is ever asked:

    data/geo/glyphs/<fontstack>/<first>-<last>.pbf

Each glyph is rendered by FreeType at 4x the 24-pixel em MapLibre uses,
thresholded, and its exact Euclidean distance transform (scipy) sampled at
the 24-pixel grid with a 3-pixel buffer; distances are coded as MapLibre's
TinySDF does (radius 8, cutoff 0.25: 191 is the glyph's edge).

    python data/geo/build_glyphs.py [--fonts /usr/share/fonts/truetype/dejavu]

Needs freetype-py and scipy (tests/requirements.txt).  Deterministic.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

OUT_DIR = Path(__file__).resolve().parent / "glyphs"
FONTS = {"DejaVu Sans Book": "DejaVuSans.ttf", "DejaVu Sans Bold": "DejaVuSans-Bold.ttf"}
RANGES = [(0, 255), (256, 511), (1024, 1279), (8192, 8447)]
EM_PX = 24  # MapLibre's glyph size
OVERSAMPLE = 4
BUFFER = 3
RADIUS, CUTOFF = 8.0, 0.25
TOP_OFFSET = 26  # MapLibre places a glyph `top` below its line's top; 26 px keeps DejaVu's x-height centred on the anchor


# ------------------------------------------------------------ protobuf


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _zigzag(value: int) -> int:
    return (value << 1) ^ (value >> 31)


def _field(number: int, wire: int, payload: bytes) -> bytes:
    return _varint(number << 3 | wire) + payload


def _bytes_field(number: int, data: bytes) -> bytes:
    return _field(number, 2, _varint(len(data)) + data)


def encode_glyph(code: int, bitmap: bytes, width: int, height: int, left: int, top: int, advance: int) -> bytes:
    body = _field(1, 0, _varint(code))
    if bitmap:
        body += _bytes_field(2, bitmap)
    body += _field(3, 0, _varint(width)) + _field(4, 0, _varint(height))
    body += _field(5, 0, _varint(_zigzag(left))) + _field(6, 0, _varint(_zigzag(top))) + _field(7, 0, _varint(advance))
    return body


def encode_range(fontstack: str, first: int, last: int, glyphs: list[bytes]) -> bytes:
    stack = _bytes_field(1, fontstack.encode()) + _bytes_field(2, f"{first}-{last}".encode())
    for glyph in glyphs:
        stack += _bytes_field(3, glyph)
    return _bytes_field(1, stack)


# ----------------------------------------------------------------- SDF


def render_glyph(face, code: int):
    """(bitmap bytes, width, height, left, top, advance) of one code point, or None if the font lacks it."""
    import freetype
    from scipy.ndimage import distance_transform_edt

    if face.get_char_index(code) == 0:
        return None
    face.set_char_size(EM_PX * 64)
    face.load_char(chr(code), freetype.FT_LOAD_DEFAULT | freetype.FT_LOAD_NO_HINTING)
    advance = int(round(face.glyph.advance.x / 64))
    face.set_char_size(EM_PX * OVERSAMPLE * 64)
    face.load_char(chr(code), freetype.FT_LOAD_RENDER | freetype.FT_LOAD_NO_HINTING)
    bitmap = face.glyph.bitmap
    big_w, big_h = bitmap.width, bitmap.rows
    if big_w == 0 or big_h == 0:
        return b"", 0, 0, 0, 0, advance
    big_left, big_top = face.glyph.bitmap_left, face.glyph.bitmap_top
    pixels = np.array(bitmap.buffer, dtype=np.uint8).reshape(big_h, bitmap.pitch)[:, :big_w]
    # The glyph's box on the 24-pixel grid, holding the whole oversampled bitmap.
    left = int(np.floor(big_left / OVERSAMPLE))
    right = int(np.ceil((big_left + big_w) / OVERSAMPLE))
    top = int(np.ceil(big_top / OVERSAMPLE))
    bottom = int(np.floor((big_top - big_h) / OVERSAMPLE))
    width, height = right - left, top - bottom
    pad = (BUFFER + 2) * OVERSAMPLE
    inside = np.zeros((big_h + 2 * pad, big_w + 2 * pad), dtype=bool)
    inside[pad:pad + big_h, pad:pad + big_w] = pixels >= 128
    outside_distance = distance_transform_edt(~inside)  # to the nearest inside pixel
    inside_distance = distance_transform_edt(inside)  # to the nearest outside pixel
    signed = (np.where(inside, 0.5 - inside_distance, outside_distance - 0.5)) / OVERSAMPLE  # + outside, in 24-px units
    columns = np.arange(width + 2 * BUFFER) + left - BUFFER + 0.5  # pixel centres, 24-px units from the origin
    rows = top + BUFFER - np.arange(height + 2 * BUFFER) - 0.5
    big_cols = np.clip(np.round(columns * OVERSAMPLE - big_left - 0.5).astype(int) + pad, 0, inside.shape[1] - 1)
    big_rows = np.clip(np.round(big_top - rows * OVERSAMPLE - 0.5).astype(int) + pad, 0, inside.shape[0] - 1)
    distance = signed[np.ix_(big_rows, big_cols)]
    values = np.clip(np.round(255 - 255 * (distance / RADIUS + CUTOFF)), 0, 255).astype(np.uint8)
    return values.tobytes(), width, height, left, top - TOP_OFFSET, advance


def build(fonts_dir: Path) -> dict[str, int]:
    import freetype

    sizes = {}
    for fontstack, file in FONTS.items():
        face = freetype.Face(str(fonts_dir / file))
        for first, last in RANGES:
            glyphs = []
            for code in range(first, last + 1):
                rendered = render_glyph(face, code)
                if rendered is not None:
                    glyphs.append(encode_glyph(code, *rendered))
            path = OUT_DIR / fontstack / f"{first}-{last}.pbf"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(encode_range(fontstack, first, last, glyphs))
            sizes[f"{fontstack}/{first}-{last}"] = path.stat().st_size
    return sizes


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fonts", type=Path, default=Path("/usr/share/fonts/truetype/dejavu"), help="folder with the DejaVu .ttf files")
    args = parser.parse_args()
    for name, size in build(args.fonts).items():
        print(f"{name}.pbf {size:,} bytes")


if __name__ == "__main__":
    main()
