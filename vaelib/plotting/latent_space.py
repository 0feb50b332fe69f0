"""The latent space: codes and posteriors in the latent plane, the norm of the codes
along an interpolation path, and how active each latent dimension is."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure
from torch import Tensor

from ..metrics import ACTIVE_THRESHOLD

__all__ = [
    "code_on_the_map",
    "latent_activity",
    "latent_scatter",
    "path_norms",
    "posterior_ellipses",
    "prior_and_codes",
]


def latent_scatter(
    z: Tensor, labels: Tensor, class_names: Sequence[str] | None = None, title: str | None = None
) -> Figure:
    """2-D codes ``[N, 2]`` as points coloured by label."""
    z = torch.as_tensor(z).detach().cpu().numpy()
    labels = torch.as_tensor(labels).cpu().numpy()
    if z.ndim != 2 or z.shape[1] != 2:
        raise ValueError(f"latent_scatter draws 2-D codes, [N, 2]; got shape {z.shape}")
    fig, ax = plt.subplots(figsize=(5.5, 4.8))
    cmap = plt.get_cmap("tab10")
    for k in np.unique(labels):
        pick = labels == k
        name = class_names[k] if class_names is not None else str(k)
        ax.scatter(z[pick, 0], z[pick, 1], s=3, alpha=0.6, color=cmap(int(k) % 10), label=name)
    ax.set_xlabel("$z_1$")
    ax.set_ylabel("$z_2$")
    ax.legend(markerscale=4, fontsize=8, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def latent_activity(variances: Mapping[str, Tensor], threshold: float = ACTIVE_THRESHOLD) -> Figure:
    """Per latent dimension, how much its posterior mean varies across images
    (log scale), for one or more models; the dashed line is the threshold
    above which a dimension counts as active."""
    fig, ax = plt.subplots(figsize=(6.5, 3.2))
    names = list(variances)
    width = 0.8 / len(names)
    for i, name in enumerate(names):
        v = torch.as_tensor(variances[name]).cpu().numpy()
        order = np.arange(1, len(v) + 1)  # z_1 ... z_d, as in the text
        ax.bar(order + (i - (len(names) - 1) / 2) * width, v, width=width, label=name)
    ax.axhline(threshold, color="0.3", ls="--", lw=1, label=f"active above {threshold:g}")
    ax.set_yscale("log")
    ax.set_xticks(order)
    ax.set_xlabel("latent dimension j")
    ax.set_ylabel("Var over images of E[z_j | x]")
    ax.legend(fontsize=8, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=len(names) + 1, frameon=False)
    fig.tight_layout()
    return fig


def path_norms(paths: Mapping[str, Tensor], typical: tuple[float, float] | None = None) -> Figure:
    """The norm |z| of each code along one or more interpolation paths ``[steps, d]``,
    against the position t in [0, 1]; ``typical`` = (low, high) shades the band
    where the norms of real codes lie."""
    fig, ax = plt.subplots(figsize=(5.5, 3.2))
    if typical is not None:
        ax.axhspan(*typical, color="0.85", label="norms of most real codes")
    for (name, path), marker in zip(paths.items(), "os^", strict=False):
        norms = torch.as_tensor(path).detach().cpu().norm(dim=1).numpy()
        ax.plot(np.linspace(0, 1, len(norms)), norms, marker + "-", label=name)
    ax.set_xlabel("position along the path, t")
    ax.set_ylabel("norm of the code, |z|")
    ax.legend(fontsize=8, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=3, frameon=False)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def posterior_ellipses(mu: Tensor, logvar: Tensor, labels: Tensor, lim: float = 3.5) -> Figure:
    """2-D posteriors q(z|x) = N(mu, diag(exp(logvar))) of a few images, as their
    2-sigma ellipses (coloured by label, mean marked), over the contours of the
    prior N(0, I) at 1, 2 and 3 standard deviations."""
    from matplotlib.patches import Circle, Ellipse

    mu = torch.as_tensor(mu).detach().cpu()
    sigma = torch.exp(0.5 * torch.as_tensor(logvar).detach().cpu())
    labels = torch.as_tensor(labels).cpu()
    if mu.ndim != 2 or mu.shape[1] != 2 or sigma.shape != mu.shape or len(labels) != len(mu):
        raise ValueError(
            f"expected mu and logvar of shape [N, 2] and N labels; got {tuple(mu.shape)}, "
            f"{tuple(sigma.shape)} and {len(labels)}"
        )
    fig, ax = plt.subplots(figsize=(5.6, 4.8))
    for k in (1, 2, 3):
        ax.add_patch(
            Circle((0, 0), k, fill=False, ls=":", color="0.5", label="prior N(0, I): 1, 2, 3σ" if k == 1 else None)
        )
    cmap = plt.get_cmap("tab10")
    shown = set()
    for m, s, y in zip(mu.tolist(), sigma.tolist(), labels.tolist(), strict=True):
        color = cmap(int(y) % 10)
        ax.add_patch(Ellipse(tuple(m), 4 * s[0], 4 * s[1], color=color, alpha=0.35, lw=0))
        ax.plot(*m, ".", color=color, label=f"q(z | x), a {int(y)}" if y not in shown else None)
        shown.add(y)
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    ax.set_xlabel("$z_1$")
    ax.set_ylabel("$z_2$")
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.02, 0.5), frameon=False)
    fig.tight_layout()
    return fig


def _draw_prior_and_codes(fig: Figure, ax, density, holes: Tensor | None) -> None:
    z1, z2 = density.z1.numpy(), density.z2.numpy()
    log_q, log_p = density.log_aggregate.numpy(), density.log_prior.numpy()
    top = np.ceil(log_q.max())
    shaded = ax.contourf(z1, z2, log_q, levels=np.arange(top - 8, top + 1), cmap="Blues", extend="min")
    colorbar = fig.colorbar(shaded, ax=ax, fraction=0.046, pad=0.04)
    colorbar.set_label("log q(z): where the codes are")
    peak = log_p.max()
    ax.contour(z1, z2, log_p, levels=[peak - 4.5, peak - 2, peak - 0.5], colors="0.25", linestyles="--", linewidths=1)
    ax.plot([], [], "--", color="0.25", label="p(z): 1, 2, 3σ of N(0, I)")
    if holes is not None:
        holes = torch.as_tensor(holes).detach().cpu()
        ax.plot(holes[:, 0], holes[:, 1], "o", mfc="white", mec="crimson", ms=13, label="holes: p high, q low")
        for letter, (x, y) in zip("ABCDEFGHIJ", holes.tolist(), strict=False):
            ax.text(x, y, letter, ha="center", va="center", fontsize=8, color="crimson", weight="bold")
    ax.set_aspect("equal")
    ax.set_xlabel("$z_1$")
    ax.set_ylabel("$z_2$")
    ax.legend(fontsize=8, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, frameon=False)


def prior_and_codes(density, holes: Tensor | None = None) -> Figure:
    """Where the sampler draws and where the codes are, on one map of a 2-D latent space.

    ``density``: a :class:`vaelib.aggregate_posterior.DensityMap`.  The
    aggregate posterior q(z) as shaded contours (darker: more codes), the
    prior p(z) as dashed lines (the levels that hold 39 %, 86 % and 99 % of
    N(0, I)'s draws, at |z| = 1, 2, 3, or the same log-density levels below
    a learned prior's peak), and ``holes`` ``[n, 2]``, if given, as lettered
    markers A, B, ...
    """
    fig, ax = plt.subplots(figsize=(5.6, 4.8))
    _draw_prior_and_codes(fig, ax, density, holes)
    fig.tight_layout()
    return fig


def code_on_the_map(density, z: Sequence[float], image: Tensor) -> Figure:
    """The map of :func:`prior_and_codes` with the code ``z`` ``[2]`` marked, and beside it
    ``image`` ``[784]``, the decoded code; the title reads both log-densities there
    (at the map's nearest grid point)."""
    z = [float(v) for v in z]
    j = int(torch.argmin((density.z1 - z[0]).abs()))
    i = int(torch.argmin((density.z2 - z[1]).abs()))
    fig, (ax, right) = plt.subplots(1, 2, figsize=(8.2, 4.4), gridspec_kw={"width_ratios": [1.6, 1]})
    _draw_prior_and_codes(fig, ax, density, None)
    ax.plot(*z, "o", mfc="none", mec="black", ms=12, mew=2)
    right.imshow(torch.as_tensor(image).detach().cpu().reshape(28, 28).numpy(), cmap="gray_r", vmin=0, vmax=1)
    right.set_axis_off()
    right.set_title(
        f"z = ({z[0]:.1f}, {z[1]:.1f})\nlog p(z) = {float(density.log_prior[i, j]):.1f}, "
        f"log q(z) = {float(density.log_aggregate[i, j]):.1f}",
        fontsize=9,
    )
    fig.tight_layout()
    return fig
