"""Procedural sprites with known generative factors (a stand-in for dSprites).

Every image shows one shape (pixels 1) on an empty background (pixels 0),
made from five factors; the book's figures draw the shape dark on white:

| factor     | values                                        |
| ---        | ---                                           |
| shape      | 0 square, 1 ellipse, 2 triangle               |
| scale      | ``n_scales`` sizes from 0.5 to 1.0            |
| rotation   | ``n_rotations`` angles from 0 up to 90 degrees |
| x, y       | ``n_positions`` positions each; y grows upward  |

The data set is the full grid of factor combinations, rendered in one
vectorized pass (seconds, no download), with the factor values beside the
images so that disentanglement can be measured (:func:`vaelib.metrics.mig`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

__all__ = ["FACTORS", "SHAPES", "Sprites", "make_sprites", "moments", "pixels_changed"]

FACTORS = ("shape", "scale", "rotation", "x", "y")
SHAPES = ("square", "ellipse", "triangle")


@dataclass(frozen=True)
class Sprites:
    """``x``: ``[N, size * size]`` pixels in {0, 1}; ``factors``: ``[N, 5]`` factor
    *indices* (0 .. n-1 per factor); ``values``: ``[N, 5]`` factor values
    (shape index, scale, rotation in radians, x and y in [0, 1])."""

    x: Tensor
    factors: Tensor
    values: Tensor
    size: int
    factor_sizes: tuple[int, ...]

    def __len__(self) -> int:
        return len(self.x)


def _inside(shape: Tensor, u: Tensor, v: Tensor) -> Tensor:
    """Whether canonical coordinates (u, v) lie in each shape (unit size)."""
    square = torch.maximum(u.abs(), v.abs()) <= 0.75
    ellipse = (u / 1.0) ** 2 + (v / 0.55) ** 2 <= 1.0
    triangle = (v >= -0.6) & (v <= 0.9 - 1.6 * u.abs())
    return torch.where(shape == 0, square, torch.where(shape == 1, ellipse, triangle))


def make_sprites(
    size: int = 32,
    n_scales: int = 4,
    n_rotations: int = 8,
    n_positions: int = 10,
    seed: int = 0,
) -> Sprites:
    """Render every combination of the five factors, in a shuffled order fixed by ``seed``."""
    if size < 16:
        raise ValueError(f"size must be at least 16 pixels, got {size}")
    sizes = (len(SHAPES), n_scales, n_rotations, n_positions, n_positions)
    if min(sizes) < 1:
        raise ValueError(f"every factor needs at least one value, got {sizes}")
    grids = torch.meshgrid(*[torch.arange(n) for n in sizes], indexing="ij")
    factors = torch.stack([g.flatten() for g in grids], dim=1)  # [N, 5]
    order = torch.randperm(len(factors), generator=torch.Generator().manual_seed(seed))
    factors = factors[order]

    def spread(index: Tensor, n: int, low: float, high: float) -> Tensor:
        return low + (high - low) * index.double() / max(n - 1, 1)

    shape = factors[:, 0]
    scale = spread(factors[:, 1], n_scales, 0.5, 1.0)
    rotation = factors[:, 2].double() * (math.pi / 2) / n_rotations  # [0, 90) degrees
    x = spread(factors[:, 3], n_positions, 0.3, 0.7)
    y = spread(factors[:, 4], n_positions, 0.3, 0.7)

    # Pixel centres in [0, 1]^2, then each sprite's own rotated and scaled frame.
    centres = (torch.arange(size, dtype=torch.float64) + 0.5) / size
    py, px = torch.meshgrid(centres, centres, indexing="ij")  # [size, size] each
    half = 0.25 * scale[:, None, None]  # half-width of a unit shape, in image units
    # y is measured upward, as on a plot: a larger y is higher in the picture.
    dx, dy = (px - x[:, None, None]) / half, (py - (1 - y[:, None, None])) / half
    cos, sin = torch.cos(rotation)[:, None, None], torch.sin(rotation)[:, None, None]
    u, v = cos * dx + sin * dy, -sin * dx + cos * dy  # rotate by -rotation
    images = _inside(shape[:, None, None], u, -v).to(torch.float32)  # [N, size, size]; v up
    values = torch.stack([shape.double(), scale, rotation, x, y], dim=1).to(torch.float32)
    return Sprites(images.reshape(len(images), size * size), factors, values, size, sizes)


def pixels_changed(data: Sprites) -> dict[str, float]:
    """How visible each factor is: the mean number of pixels that change when
    the factor moves one step (to its next value) and the others stay fixed."""
    where = torch.empty(data.factor_sizes, dtype=torch.long)  # factor indices -> row of data
    where[tuple(data.factors.T)] = torch.arange(len(data))
    changed = {}
    for k, name in enumerate(FACTORS):
        n = data.factor_sizes[k]
        if n < 2:
            continue
        before, after = where.narrow(k, 0, n - 1).flatten(), where.narrow(k, 1, n - 1).flatten()
        changed[name] = (data.x[before] != data.x[after]).sum(dim=1).double().mean().item()
    return changed


def moments(images: Tensor, size: int) -> Tensor:
    """Where a picture's ink is and how much there is: ``[N, size * size]`` -> ``[N, 3]``.

    Per image: the ink (the sum of the pixels, which grows with a sprite's
    scale), and its centre ``(x, y)`` in [0, 1], ``x`` from the left and ``y``
    upward as the factors measure them.  Read along a row of a traversal, they
    tell which of position and scale the row changes (chapter 6's claims).
    """
    pictures = images.reshape(len(images), size, size).double()  # [N, size, size]; row 0 at the top
    ink = pictures.sum(dim=(1, 2)).clamp_min(1e-9)
    centres = (torch.arange(size, dtype=torch.float64) + 0.5) / size
    x = (pictures.sum(dim=1) * centres).sum(dim=1) / ink
    y = 1 - (pictures.sum(dim=2) * centres).sum(dim=1) / ink
    return torch.stack([ink, x, y], dim=1).float()
