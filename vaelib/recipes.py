"""Chapter 4's VAE: one recipe, trained once, reused by the chapters after it.

Chapter 4 trains its VAE with :func:`mnist_vae` and shows that function's
code; chapter 5 walks around the same model's latent space, and gets it with
:func:`cached_mnist_vae`: from the model cache (:mod:`vaelib.cache`) when
chapter 4 ran on this machine, else trained here by the same function, so
that its weights are the same either way.
"""

from __future__ import annotations

import torch
from torch import Tensor

from . import cache, losses, models, train
from .settings import fast_mode

__all__ = ["MNIST_VAE_CONFIG", "cached_mnist_vae", "mnist_vae"]

#: Chapter 4's VAE: 784 -> 400 -> 20, as in PyTorch's example.
MNIST_VAE_CONFIG = models.MLPConfig(hidden_dims=(400,), latent_dim=20)


def mnist_vae(
    train_x: Tensor,
    test_x: Tensor,
    *,
    epochs: int,
    device: str | torch.device,
    callback=None,
    trained_in: str = "chapter 4",
) -> tuple[models.VAE, train.History]:
    """Chapter 4's VAE, trained as PyTorch's example trains it, and kept in
    the model cache for the chapters after it."""
    with torch.random.fork_rng(devices=[]):  # seeded here; the caller's RNG is left alone
        torch.manual_seed(0)
        vae = models.VAE(MNIST_VAE_CONFIG)
        history = train.fit(
            vae,
            losses.VAEObjective(),
            train_x,
            test_x,
            epochs=epochs,
            batch_size=128,
            lr=1e-3,
            device=device,
            callback=callback,
        )
    cache.store("chapter 4's VAE", vae, trained_in=trained_in, **_key(train_x, test_x, epochs, device))
    return vae, history


def cached_mnist_vae(
    train_x: Tensor, test_x: Tensor, *, epochs: int, device: str | torch.device, trained_in: str
) -> models.VAE:
    """The model :func:`mnist_vae` trains, from the model cache if it is there, in eval mode."""
    return cache.load_or_train(
        "chapter 4's VAE",
        lambda: mnist_vae(train_x, test_x, epochs=epochs, device=device, trained_in=trained_in)[0],
        lambda: models.VAE(MNIST_VAE_CONFIG),
        trained_in=trained_in,
        device=device,
        keep=False,  # mnist_vae stores it
        **_key(train_x, test_x, epochs, device),
    )


def _key(train_x: Tensor, test_x: Tensor, epochs: int, device: str | torch.device) -> dict:
    """Everything that determines the model :func:`mnist_vae` trains."""
    return {
        "model": models.VAE,
        "config": MNIST_VAE_CONFIG,
        "recipe": mnist_vae,
        "epochs": epochs,
        "seed": 0,
        "data": [train_x, test_x],
        "fast": fast_mode(),
        "device_kind": torch.device(device),
    }
