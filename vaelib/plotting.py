"""Every figure of the book.  Each function returns a matplotlib ``Figure``."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, Polygon
from torch import Tensor

from .data import IMAGE_SHAPE
from .gaussian import normal_pdf

__all__ = [
    "accuracy_by_class",
    "autoencoder_diagram",
    "beta_sweep",
    "diagonal_gaussian",
    "error_histograms",
    "estimator_variance",
    "kl_error_scaling",
    "latent_activity",
    "normal_curve",
    "path_norms",
    "per_epoch",
    "posterior_ellipses",
    "vae_diagram",
    "image_grid",
    "image_rows",
    "latent_scatter",
    "loss_curves",
    "reconstructions",
    "traversals",
]


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


def loss_curves(history, part: str = "loss", ylabel: str = "loss (nats per image)") -> Figure:
    """Train and test loss per epoch from a :class:`vaelib.train.History`."""
    fig, ax = plt.subplots(figsize=(5, 3.2))
    epochs = np.arange(1, len(history.train) + 1)
    ax.plot(epochs, history.curve(part, "train"), "o-", label="train")
    if history.test:
        ax.plot(epochs, history.curve(part, "test"), "s--", label="test")
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


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


def error_histograms(errors: Mapping[str, Tensor], title: str | None = None, bins: int = 60) -> Figure:
    """Overlaid histograms of per-image errors (positive), one per named set.

    The x axis is logarithmic: errors of images unlike the training data can
    be ten or a hundred times those of typical ones.
    """
    fig, ax = plt.subplots(figsize=(6, 3.2))
    values = {name: torch.as_tensor(e).cpu().numpy() for name, e in errors.items()}
    everything = np.concatenate(list(values.values()))
    if (everything <= 0).any():
        raise ValueError("error_histograms draws positive errors on a log scale")
    edges = np.geomspace(everything.min(), everything.max(), bins + 1)
    for name, v in values.items():
        ax.hist(v, bins=edges, alpha=0.55, label=name)
    ax.set_xscale("log")
    ax.set_xlabel("reconstruction error (nats per image, log scale)")
    ax.set_ylabel("images")
    ax.legend()
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


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


def kl_error_scaling(n_values: Sequence[int], mean_abs_errors: Sequence[float], integrand_std: float) -> Figure:
    """The mean absolute error of a Monte Carlo estimate against the number of
    samples ``n`` (log-log), beside the line the central limit theorem
    predicts: ``sqrt(2 / pi) * integrand_std / sqrt(n)``."""
    n = np.asarray(n_values, dtype=float)
    fig, ax = plt.subplots(figsize=(5.5, 3.4))
    ax.plot(n, mean_abs_errors, "o", label="mean |estimate - closed form|, over repeats")
    ax.plot(n, math.sqrt(2 / math.pi) * integrand_std / np.sqrt(n), "--", color="#DD8452", label="theory: ∝ 1/√n")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("samples per estimate, n")
    ax.set_ylabel("absolute error (nats)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which="both")
    fig.tight_layout()
    return fig


def estimator_variance(n_values: Sequence[int], variances: Mapping[str, Sequence[float]]) -> Figure:
    """Variance of gradient estimators against the number of samples (log-log)."""
    fig, ax = plt.subplots(figsize=(5.5, 3.4))
    for (name, values), marker in zip(variances.items(), "os^", strict=False):
        ax.plot(n_values, values, marker + "-", label=name)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("samples per gradient estimate")
    ax.set_ylabel("variance of the estimate")
    ax.legend()
    ax.grid(alpha=0.3, which="both")
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


def latent_activity(variances: Mapping[str, Tensor], threshold: float = 0.01) -> Figure:
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


def beta_sweep(runs: Sequence[Mapping], factors: Sequence[str] | None = None) -> Figure:
    """A sweep over β and seeds, one panel per measurement against β: each
    seed's run as a dot, the median over seeds as a line, the band from the
    lowest to the highest seed shaded.

    ``runs``: one mapping per run with ``"beta"``, ``"recon"`` and ``"kl"``
    (nats per image), ``"active"`` (units), ``"mig"``, and ``"gaps"``
    (factor -> gap) when ``factors`` names the factors to draw.
    """
    betas = sorted({float(r["beta"]) for r in runs})

    def series(value) -> tuple[list[list[float]], np.ndarray]:
        per_beta = [[float(value(r)) for r in runs if float(r["beta"]) == b] for b in betas]
        return per_beta, np.array([np.median(v) for v in per_beta])

    def draw(ax, value, label, color, marker) -> None:
        per_beta, median = series(value)
        for b, values in zip(betas, per_beta, strict=True):
            ax.plot([b] * len(values), values, marker, color=color, alpha=0.45, markersize=4, linestyle="none")
        ax.fill_between(betas, [min(v) for v in per_beta], [max(v) for v in per_beta], color=color, alpha=0.15)
        ax.plot(betas, median, marker + "-", color=color, label=label)

    panels = 3 + (factors is not None)
    fig, axes = plt.subplots(2, 2, figsize=(9.0, 6.6)) if panels == 4 else plt.subplots(1, 3, figsize=(12.6, 3.4))
    axes = list(np.ravel(axes))
    draw(axes[0], lambda r: r["recon"], "reconstruction", "#4C72B0", "o")
    draw(axes[0], lambda r: r["kl"], "KL", "#DD8452", "s")
    axes[0].set_ylabel("nats per image")
    draw(axes[1], lambda r: r["active"], "active units", "#55A868", "^")
    axes[1].set_ylabel("active units")
    draw(axes[2], lambda r: r["mig"], "MIG", "#8172B3", "d")
    axes[2].set_ylabel("MIG")
    if factors is not None:
        colors = ["#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3", "#937860"]
        for k, name in enumerate(factors):
            draw(axes[3], lambda r, name=name: r["gaps"][name], name, colors[k % len(colors)], "os^vdp"[k % 6])
        axes[3].set_ylabel("gap of each factor")
    for ax in axes:
        ax.set_xscale("log", base=2)
        ax.set_xticks(betas, [f"{b:g}" for b in betas])
        ax.set_xlabel("β")
        ax.grid(alpha=0.3)
    for ax in (axes[0], axes[3]) if factors is not None else (axes[0],):
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


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


def accuracy_by_class(
    accuracies: Mapping[str, Tensor | Sequence[float]], class_names: Sequence[str] | None = None
) -> Figure:
    """Accuracy per class as grouped bars, one colour per entry of ``accuracies``
    (e.g. real test digits beside generated ones), each entry's overall mean in its legend label."""
    series = {name: np.asarray(torch.as_tensor(values, dtype=torch.float64)) for name, values in accuracies.items()}
    n = max(len(values) for values in series.values())
    names = list(class_names) if class_names is not None else [str(k) for k in range(n)]
    fig, ax = plt.subplots(figsize=(7, 3.2))
    width = 0.8 / len(series)
    for i, (name, values) in enumerate(series.items()):
        offset = (i - (len(series) - 1) / 2) * width
        ax.bar(np.arange(len(values)) + offset, values, width, label=f"{name} (mean {np.nanmean(values):.1%})")
    ax.set_xticks(np.arange(n), names)
    ax.set_xlabel("class")
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("classified correctly")
    ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:.0%}"))
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=len(series), fontsize=9, frameon=False)
    ax.grid(axis="y", alpha=0.3)
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


def per_epoch(curves: Mapping[str, Sequence[Sequence[float]]], ylabel: str) -> Figure:
    """One measurement after every epoch, for several settings, each run over
    several seeds: a thin line per run, a thick line through the median."""
    fig, ax = plt.subplots(figsize=(5.5, 3.4))
    for (name, runs), color in zip(curves.items(), plt.get_cmap("tab10").colors, strict=False):
        runs = np.asarray(runs, dtype=float)  # [seeds, epochs]
        epochs = np.arange(1, runs.shape[1] + 1)
        for run in runs:
            ax.plot(epochs, run, color=color, alpha=0.35, lw=1)
        ax.plot(epochs, np.median(runs, axis=0), "o-", color=color, lw=2, label=f"{name} (median of {len(runs)})")
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig
