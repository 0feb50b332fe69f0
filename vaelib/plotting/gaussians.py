"""Gaussian densities: the bell curve with its mean and standard deviation marked, and a
2-D Gaussian with diagonal covariance, its samples and its ellipses."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure
from torch import Tensor

from ..gaussian import normal_pdf

__all__ = ["diagonal_gaussian", "normal_curve"]


def normal_curve(
    mu: float = 0.0,
    sigma: float = 1.0,
    others: Sequence[tuple[float, float]] = (),
    xlim: tuple[float, float] = (-6.0, 6.0),
) -> Figure:
    """The bell curve of N(mu, sigma^2) with mu and sigma marked.

    The mean is a vertical line, the standard deviation an arrow from mu to
    mu + sigma, and two areas are shaded, each labelled in the legend: within
    one sigma of mu (68.3% of the probability), and, lighter, within two
    (95.4%), as in the page's explorer (vaelib/js/gaussian.js).  The bands are
    cut at ``xlim``.  ``others``: more (mu, sigma) pairs drawn thin, for
    comparison.
    """
    if sigma <= 0:
        raise ValueError(f"sigma must be positive, got {sigma}")
    x = torch.linspace(*xlim, 600)
    fig, ax = plt.subplots(figsize=(6.4, 3.4))
    for m, s in others:
        ax.plot(x, normal_pdf(x, m, s), lw=1, alpha=0.6, label=f"N({m:g}, {s:g}²)")
    y = normal_pdf(x, mu, sigma)
    ax.plot(x, y, lw=2.2, color="#4C72B0", label=f"N({mu:g}, {sigma:g}²)")
    # Within one standard deviation, then, lighter, within two (the two overlap within
    # one); each band's ends are exact (mu +- k sigma, cut at xlim), not grid points.
    for k, alpha, label in [(1, 0.22, "68.3% within μ ± σ"), (2, 0.12, "95.4% within μ ± 2σ")]:
        low, high = max(mu - k * sigma, xlim[0]), min(mu + k * sigma, xlim[1])
        if low >= high:  # the band lies outside the plot
            continue
        inside = (x > low) & (x < high)
        xs = torch.cat([torch.tensor([low]), x[inside], torch.tensor([high])])
        ax.fill_between(xs, normal_pdf(xs, mu, sigma), alpha=alpha, color="#4C72B0", lw=0, label=label)
    peak = normal_pdf(torch.tensor(mu), mu, sigma).item()
    ax.vlines(mu, 0, peak, color="#DD8452", ls="--", lw=1.5)
    ax.text(mu, peak * 1.04, "μ", ha="center", va="bottom", fontsize=13, color="#DD8452")
    height = normal_pdf(torch.tensor(mu + sigma), mu, sigma).item()
    ax.annotate(
        "", xy=(mu + sigma, height), xytext=(mu, height), arrowprops={"arrowstyle": "->", "color": "#55A868", "lw": 1.8}
    )
    ax.text(mu + sigma / 2, height * 1.06, "σ", ha="center", va="bottom", fontsize=13, color="#55A868")
    ax.set_xlim(*xlim)
    peaks = [peak] + [1 / (s * np.sqrt(2 * np.pi)) for _, s in others]  # a Gaussian peaks at its mean
    ax.set_ylim(0, 1.2 * max(peaks))
    ax.set_xlabel("x")
    ax.set_ylabel("density p(x)")
    ax.legend(fontsize=8, loc="upper right", frameon=False)
    fig.tight_layout()
    return fig


def diagonal_gaussian(
    mu: Sequence[float], sigma: Sequence[float], samples: Tensor | None = None, lim: float = 4.0
) -> Figure:
    """A 2-D Gaussian with diagonal covariance: samples and its 1-, 2- and 3-sigma ellipses.

    With a diagonal covariance the ellipses are aligned with the axes: the
    two coordinates are independent.
    """
    from matplotlib.patches import Ellipse

    # Each axis at least [-lim, lim], and wide enough for the 3-sigma ellipse.
    xlim, ylim = (max(lim, abs(m) + 3.2 * s) for m, s in zip(mu, sigma, strict=True))
    fig, ax = plt.subplots(figsize=(5.6, 4.2))
    if samples is not None:
        samples = torch.as_tensor(samples).cpu()
        ax.scatter(samples[:, 0], samples[:, 1], s=3, alpha=0.3, color="0.4")
    for k in (1, 2, 3):
        ax.add_patch(
            Ellipse(
                tuple(mu),
                2 * k * sigma[0],
                2 * k * sigma[1],
                fill=False,
                color="#4C72B0",
                lw=1.6 - 0.3 * k,
                label=f"{k}σ ellipse",
            )
        )
    ax.plot(*mu, "o", color="#DD8452", label="μ")
    ax.set_xlim(-xlim, xlim)
    ax.set_ylim(-ylim, ylim)
    ax.set_aspect("equal")
    ax.set_xlabel("$z_1$")
    ax.set_ylabel("$z_2$")
    ax.set_title(f"μ = ({mu[0]:g}, {mu[1]:g}), σ = ({sigma[0]:g}, {sigma[1]:g})", fontsize=10)
    ax.legend(loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize=8, frameon=False)
    fig.tight_layout()
    return fig
