"""Losses, in nats per image: summed over pixels, averaged over images.

That convention is the book's: a loss that averages over pixels instead is
784 times smaller, and next to a KL term summed over latent dimensions it
silently changes the model (chapter 4 shows how).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .data import flatten_images

__all__ = ["autoencoder_loss", "bce_per_image", "denoising_loss", "add_noise"]


def bce_per_image(logits: Tensor, x: Tensor) -> Tensor:
    """Binary cross-entropy of ``x`` under Bernoulli pixels with these logits.

    ``logits``, ``x``: ``[B, 784]``, ``x`` in [0, 1].  Returns ``[B]``: nats
    per image (summed over pixels).  Computed from the logits, so it is
    finite even where ``sigmoid(logits)`` rounds to 0 or 1.
    """
    x = flatten_images(x, logits.shape[-1])
    if logits.shape != x.shape:
        raise ValueError(f"logits {tuple(logits.shape)} and images {tuple(x.shape)} differ in shape")
    return F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(dim=1)  # [B]


def autoencoder_loss(model: nn.Module, x: Tensor) -> Tensor:
    """Reconstruction loss of an autoencoder on a batch: nats per image, averaged."""
    return bce_per_image(model(x), x).mean()


def add_noise(x: Tensor, noise_std: float, generator: torch.Generator | None = None) -> Tensor:
    """Gaussian pixel noise with standard deviation ``noise_std``, clipped to [0, 1]."""
    if noise_std < 0:
        raise ValueError(f"noise_std must be non-negative, got {noise_std}")
    noise = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
    return (x + noise_std * noise).clamp_(0.0, 1.0)


def denoising_loss(noise_std: float) -> Callable[[nn.Module, Tensor], Tensor]:
    """The loss of a denoising autoencoder: corrupt the batch, reconstruct the clean one."""
    if noise_std < 0:
        raise ValueError(f"noise_std must be non-negative, got {noise_std}")

    def loss(model: nn.Module, x: Tensor) -> Tensor:
        return bce_per_image(model(add_noise(x, noise_std)), x).mean()

    return loss
