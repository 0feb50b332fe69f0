"""Diagrams of the architectures: the autoencoder's layers and the VAE's path from x to its logits."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, Polygon

__all__ = ["autoencoder_diagram", "vae_diagram"]


def autoencoder_diagram(input_dim: int = 784, hidden_dims: Sequence[int] = (512, 256), latent_dim: int = 16) -> Figure:
    """The encoder-decoder architecture, each layer a bar as tall as its width.

    Heights are on a square-root scale so that the bottleneck stays visible.
    """
    sizes = [input_dim, *hidden_dims, latent_dim, *reversed(hidden_dims), input_dim]
    n = len(sizes)
    mid = n // 2
    fig, ax = plt.subplots(figsize=(9, 3.8))

    def height(size: int) -> float:
        return 2.6 * np.sqrt(size / input_dim) + 0.15

    xs = np.arange(n) * 1.25
    colors = ["#4C72B0"] * mid + ["#DD8452"] + ["#55A868"] * mid
    for i, (x, size) in enumerate(zip(xs, sizes, strict=True)):
        h = height(size)
        ax.add_patch(plt.Rectangle((x - 0.18, -h / 2), 0.36, h, color=colors[i], alpha=0.9))
        ax.text(x, -h / 2 - 0.18, f"{size}", ha="center", va="top", fontsize=9)
        if i < n - 1:  # the layer between this bar and the next
            h2 = height(sizes[i + 1])
            ax.add_patch(
                Polygon(
                    [(x + 0.18, h / 2), (xs[i + 1] - 0.18, h2 / 2), (xs[i + 1] - 0.18, -h2 / 2), (x + 0.18, -h / 2)],
                    color=colors[i] if i < mid else colors[i + 1],
                    alpha=0.15,
                )
            )
    ax.text(xs[0], 1.75, "input $x$\n(784 pixels)", ha="center", fontsize=10)
    ax.text(xs[mid], 1.75, "code $z$\n(the bottleneck)", ha="center", fontsize=10, color="#B0501A")
    ax.text(xs[-1], 1.75, "output: logits\n" r"(a sigmoid gives $\hat{x}$)", ha="center", fontsize=10)
    for a, b, label in [(0, mid, "encoder"), (mid, n - 1, "decoder")]:
        ax.add_patch(FancyArrowPatch((xs[a], -2.0), (xs[b], -2.0), arrowstyle="-|>", mutation_scale=14, color="0.3"))
        ax.text((xs[a] + xs[b]) / 2, -2.3, label, ha="center", va="top", fontsize=11)
    ax.set_xlim(xs[0] - 0.8, xs[-1] + 0.8)
    ax.set_ylim(-2.8, 2.4)
    ax.axis("off")
    fig.tight_layout()
    return fig


def vae_diagram(input_dim: int = 784, hidden_dims: Sequence[int] = (400,), latent_dim: int = 20) -> Figure:
    """The VAE: encoder -> (mu, logvar) -> z = mu + sigma * eps -> decoder -> logits."""
    fig, ax = plt.subplots(figsize=(9.5, 3.6))

    def box(x, y, w, h, text, color, fontsize=10):
        ax.add_patch(plt.Rectangle((x - w / 2, y - h / 2), w, h, color=color, alpha=0.85))
        ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, color="white", fontweight="bold")

    def arrow(a, b):
        ax.add_patch(FancyArrowPatch(a, b, arrowstyle="-|>", mutation_scale=12, color="0.3", lw=1.2))

    hidden = " → ".join(str(h) for h in hidden_dims)
    hidden_back = " → ".join(str(h) for h in reversed(hidden_dims))
    box(0.0, 0.0, 1.0, 2.4, f"x\n{input_dim}", "#4C72B0")
    box(1.9, 0.0, 1.4, 1.6, f"encoder\n{input_dim} → {hidden}", "#4C72B0", 9)
    box(3.8, 0.6, 0.9, 0.6, f"μ\n{latent_dim}", "#DD8452")
    box(3.8, -0.6, 0.9, 0.6, f"log σ²\n{latent_dim}", "#DD8452", 9)
    box(5.5, 0.0, 1.2, 0.9, f"z\n{latent_dim}", "#C44E52")
    box(5.5, -1.6, 1.2, 0.6, "ε ~ N(0, I)", "0.5", 9)
    box(7.3, 0.0, 1.4, 1.6, f"decoder\n{latent_dim} → {hidden_back} → {input_dim}", "#55A868", 9)
    box(9.0, 0.0, 1.0, 2.4, f"logits\n{input_dim}", "#55A868")
    arrow((0.5, 0.0), (1.2, 0.0))
    arrow((2.6, 0.3), (3.35, 0.6))
    arrow((2.6, -0.3), (3.35, -0.6))
    arrow((4.25, 0.6), (4.9, 0.15))
    arrow((4.25, -0.6), (4.9, -0.15))
    arrow((5.5, -1.3), (5.5, -0.45))
    arrow((6.1, 0.0), (6.6, 0.0))
    arrow((8.0, 0.0), (8.5, 0.0))
    ax.text(5.5, 0.75, "z = μ + σ ⊙ ε", ha="center", fontsize=11)
    ax.text(3.8, 1.35, "q(z | x)", ha="center", fontsize=11, color="#B0501A")
    ax.text(7.3, 1.1, "p(x | z)", ha="center", fontsize=11, color="#2E7D4F")
    ax.text(-0.5, -1.6, "loss = reconstruction of x + KL( q(z|x) ‖ N(0, I) )", ha="left", fontsize=10)
    ax.set_xlim(-0.7, 9.7)
    ax.set_ylim(-2.1, 1.7)
    ax.axis("off")
    fig.tight_layout()
    return fig
