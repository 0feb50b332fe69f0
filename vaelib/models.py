"""The book's models, each with a typed config.

Every decoder returns *logits*: the pixel probabilities are
``torch.sigmoid(logits)``, and the reconstruction loss is computed from the
logits with ``binary_cross_entropy_with_logits`` (stable, never ``log(0)``).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import torch
from torch import Tensor, nn

from .data import IMAGE_DIM, flatten_images

__all__ = ["MODELS", "Autoencoder", "AutoencoderConfig", "mlp"]


def _positive_ints(config, *names: str) -> None:
    for name in names:
        value = getattr(config, name)
        values = value if isinstance(value, tuple) else (value,)
        if not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in values):
            raise ValueError(f"{type(config).__name__}.{name} must be positive integers, got {value!r}")


@dataclass(frozen=True)
class AutoencoderConfig:
    """An MLP autoencoder: ``input_dim -> hidden_dims -> latent_dim`` and back."""

    input_dim: int = IMAGE_DIM
    hidden_dims: tuple[int, ...] = (512, 256)
    latent_dim: int = 16

    def __post_init__(self) -> None:
        # A config read back from a checkpoint has lists where tuples were.
        object.__setattr__(self, "hidden_dims", tuple(self.hidden_dims))
        _positive_ints(self, *(f.name for f in fields(self)))


def mlp(sizes: list[int] | tuple[int, ...]) -> nn.Sequential:
    """Linear layers of the given sizes with ReLU between them (none at the end)."""
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class Autoencoder(nn.Module):
    """A deterministic autoencoder: ``x -> z = encoder(x) -> logits = decoder(z)``.

    ``x``: pixels in [0, 1], ``[B, 784]`` (or ``[B, 1, 28, 28]``);
    ``z``: the code, ``[B, latent_dim]``; ``logits``: ``[B, 784]``.
    """

    config_class = AutoencoderConfig

    def __init__(self, config: AutoencoderConfig | None = None) -> None:
        super().__init__()
        self.config = config or AutoencoderConfig()
        c = self.config
        self.encoder = mlp([c.input_dim, *c.hidden_dims, c.latent_dim])
        self.decoder = mlp([c.latent_dim, *reversed(c.hidden_dims), c.input_dim])

    def encode(self, x: Tensor) -> Tensor:
        """Images ``[B, 784]`` -> codes ``z`` ``[B, latent_dim]``."""
        return self.encoder(flatten_images(x, self.config.input_dim))

    def decode(self, z: Tensor) -> Tensor:
        """Codes ``[B, latent_dim]`` -> pixel logits ``[B, 784]``."""
        if z.dim() != 2 or z.shape[1] != self.config.latent_dim:
            raise ValueError(
                f"expected codes of shape [B, {self.config.latent_dim}], got {tuple(z.shape)}"
            )
        return self.decoder(z)

    def forward(self, x: Tensor) -> Tensor:
        """Images ``[B, 784]`` -> reconstruction logits ``[B, 784]``."""
        return self.decode(self.encode(x))

    @torch.no_grad()
    def reconstruct(self, x: Tensor) -> Tensor:
        """Images ``[B, 784]`` -> reconstructed pixel probabilities ``[B, 784]``."""
        return torch.sigmoid(self(x))


# Every model a checkpoint can hold, by class name.
MODELS: dict[str, type[nn.Module]] = {"Autoencoder": Autoencoder}
