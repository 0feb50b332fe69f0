"""Figures made of images: grids, labelled rows, reconstructions beside their originals,
and latent traversals, one panel per model."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure
from torch import Tensor

from ..data import IMAGE_SHAPE

__all__ = ["image_grid", "image_rows", "reconstructions", "traversals"]


def _as_images(images: Tensor) -> np.ndarray:
    """Square images ``[N, side * side]``, ``[N, side, side]`` or ``[N, 1, side, side]``
    -> numpy ``[N, side, side]`` (28 for MNIST, 32 for the sprites)."""
    images = torch.as_tensor(images).detach().cpu().float()
    side = math.isqrt(images[0].numel()) if len(images) else IMAGE_SHAPE[0]
    if side * side != (images[0].numel() if len(images) else side * side):
        raise ValueError(f"expected square images, got {images[0].numel()} pixels each")
    return images.reshape(len(images), side, side).numpy()


def image_grid(images: Tensor, ncols: int = 10, title: str | None = None, scale: float = 0.9) -> Figure:
    """A grid of grayscale images, ``ncols`` per row."""
    images = _as_images(images)
    nrows = max(1, -(-len(images) // ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(ncols * scale, nrows * scale), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, image in zip(axes.flat, images, strict=False):
        ax.imshow(image, cmap="gray_r", vmin=0, vmax=1)
    fig.tight_layout(pad=0.2)
    if title:  # after tight_layout, in a band of its own above the images
        top = 1 - 0.45 / fig.get_figheight()
        fig.subplots_adjust(top=top)
        fig.suptitle(title, y=1 - 0.08 / fig.get_figheight(), va="top")
    return fig


def image_rows(rows: Mapping[str, Tensor], scale: float = 0.9, title: str | None = None) -> Figure:
    """Rows of images, each row labelled: e.g. noisy / denoised / clean."""
    rows = {name: _as_images(images) for name, images in rows.items()}
    ncols = max(len(images) for images in rows.values())
    fig, axes = plt.subplots(len(rows), ncols, figsize=(ncols * scale + 1.2, len(rows) * scale), squeeze=False)
    for r, (name, images) in enumerate(rows.items()):
        for c in range(ncols):
            ax = axes[r, c]
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_visible(False)
            if c < len(images):
                ax.imshow(images[c], cmap="gray_r", vmin=0, vmax=1)
        axes[r, 0].set_ylabel(name, rotation=0, ha="right", va="center", fontsize=10)
    if title:
        fig.suptitle(title)
    fig.tight_layout(pad=0.2)
    return fig


def reconstructions(originals: Tensor, reconstructed: Tensor, n: int = 10) -> Figure:
    """Originals on the top row, their reconstructions on the bottom row."""
    return image_rows({"original": originals[:n], "reconstruction": reconstructed[:n]})


def traversals(
    panels: Mapping[str, Tensor],
    row_labels: Mapping[str, Sequence[str]] | Sequence[str] | None = None,
    scale: float = 0.85,
    col_labels: Sequence[str] | None = None,
    label_width: float = 1.2,
) -> Figure:
    """Latent traversals, one panel per model, side by side.

    Each panel is ``[rows, cols, pixels]``: row ``i`` decodes a code whose
    one dimension sweeps a range while the others stay fixed.  ``row_labels``:
    one list for every panel, or a list per panel title, drawn in a band
    ``label_width`` inches wide left of each panel; ``col_labels``: one label
    per column (the swept value), above each panel's first row.
    """
    panels = {
        title: _as_images(images.reshape(-1, images.shape[-1])).reshape(*images.shape[:2], -1)
        for title, images in panels.items()
    }
    rows = max(p.shape[0] for p in panels.values())
    top_band = 0.6 + 0.25 * (col_labels is not None)  # inches above the images: title, column labels
    height = rows * scale + top_band
    widths = [p.shape[1] * scale + label_width for p in panels.values()]
    fig = plt.figure(figsize=(sum(widths), height))
    subfigures = fig.subfigures(1, len(panels), wspace=0.04, width_ratios=widths, squeeze=False)[0]
    for subfigure, width, (title, images) in zip(subfigures, widths, panels.items(), strict=True):
        side = int(round(images.shape[-1] ** 0.5))
        axes = subfigure.subplots(images.shape[0], images.shape[1], squeeze=False)
        bottom = 1 - (images.shape[0] * scale + top_band) / height  # short panels hang from the top
        subfigure.subplots_adjust(
            left=label_width / width,
            right=0.99,
            top=1 - top_band / height,
            bottom=max(bottom, 0.02),
            wspace=0.06,
            hspace=0.06,
        )
        labels = row_labels.get(title) if isinstance(row_labels, Mapping) else row_labels
        for r in range(images.shape[0]):
            for c in range(images.shape[1]):
                ax = axes[r, c]
                ax.imshow(images[r, c].reshape(side, side), cmap="gray_r", vmin=0, vmax=1)
                ax.set_xticks([])
                ax.set_yticks([])
                for spine in ax.spines.values():
                    spine.set_color("0.85")
            axes[r, 0].set_ylabel(
                labels[r] if labels is not None else f"row {r + 1}", rotation=0, ha="right", va="center", fontsize=9
            )
        if col_labels is not None:
            for ax, label in zip(axes[0], col_labels, strict=True):
                ax.set_title(label, fontsize=8)
        subfigure.suptitle(title, fontsize=12)
    return fig
