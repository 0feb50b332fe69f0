"""Measurements: a number against the epoch, the number of samples, the class or β
(training curves, estimators' errors and variances, accuracies, a sweep), and the
distributions of per-image errors."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure
from torch import Tensor

__all__ = [
    "accuracy_by_class",
    "beta_sweep",
    "error_histograms",
    "estimator_variance",
    "kl_error_scaling",
    "loss_curves",
    "per_epoch",
]


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
