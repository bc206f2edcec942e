"""How a tiled decoder splits a picture, and so what tiling costs in time (issue 14, item 7).

diffusers' image and video decoders (AutoencoderKL, AutoencoderKLWan) start a tile every three quarters of a
tile along each side, in latent cells (the decoder's input grid, 8 pixels a cell); each tile is decoded whole
(the last ones cut at the edge) and the overlaps blended. So a tiled decode does more convolution work than
the picture's pixels -- 1.56x for tiles of half the side -- and pays the decoder's fixed cost once per tile: on
this repository's processor 1.6x (image) and 2.3x (video) the untiled time, where a flat factor of 1 was
assumed before.
"""

from __future__ import annotations

from typing import NamedTuple

CELL = 8  # pixels per latent cell (both decoders upscale 8x)


class TileGrid(NamedTuple):
    tiles: int  # decoder calls
    pixel_factor: float  # pixels decoded (overlaps included) / pixels of the picture


def _along(side: int, tile: int) -> tuple[int, int]:
    """(tiles, latent cells decoded) along one side."""
    cells, per_tile = max(1, side // CELL), max(1, tile // CELL)
    if cells <= per_tile:  # the decoders tile only a picture larger than one tile
        return 1, cells
    stride = max(1, per_tile * 3 // 4)
    starts = range(0, cells, stride)
    return len(starts), sum(min(per_tile, cells - s) for s in starts)


def grid(width: int, height: int, tile: int) -> TileGrid:
    """The tiles a `width` x `height` picture is decoded in with `tile`-pixel tiles (0: not tiled)."""
    if tile <= 0:
        return TileGrid(1, 1.0)
    nx, cx = _along(width, tile)
    ny, cy = _along(height, tile)
    whole = max(1, width // CELL) * max(1, height // CELL)
    return TileGrid(nx * ny, cx * cy / whole)


def decode_seconds(flops: float, seconds_per_flop: float, overhead: float, tiling: TileGrid) -> float:
    """A decode's time: its convolutions (with the overlaps tiling adds) and the fixed cost of each call."""
    return flops * tiling.pixel_factor * seconds_per_flop + tiling.tiles * overhead
