"""The book's models, each with a typed config.

Every decoder returns *logits*: the pixel probabilities are
``torch.sigmoid(logits)``, and the reconstruction loss is computed from the
logits with ``binary_cross_entropy_with_logits`` (stable, never ``log(0)``).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import torch
from torch import Tensor, nn

from .data import IMAGE_DIM, IMAGE_SHAPE, flatten_images
from .gaussian import reparameterize

__all__ = [
    "MODELS",
    "Autoencoder",
    "AutoencoderConfig",
    "ConvVAE",
    "ConvVAEConfig",
    "VAE",
    "VAEConfig",
    "mlp",
]


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


@dataclass(frozen=True)
class VAEConfig:
    """An MLP VAE.  The default, 784-400-20, is the one the literature (and
    PyTorch's own example) reports numbers for."""

    input_dim: int = IMAGE_DIM
    hidden_dims: tuple[int, ...] = (400,)
    latent_dim: int = 20

    def __post_init__(self) -> None:
        object.__setattr__(self, "hidden_dims", tuple(self.hidden_dims))
        _positive_ints(self, *(f.name for f in fields(self)))


class _GaussianEncoderMixin:
    """What every VAE shares: sampling the code, the forward pass, generation."""

    config: VAEConfig

    def encode(self, x: Tensor) -> tuple[Tensor, Tensor]:  # pragma: no cover - each model defines it
        raise NotImplementedError

    def decode(self, z: Tensor) -> Tensor:  # pragma: no cover
        raise NotImplementedError

    def _check_codes(self, z: Tensor) -> None:
        if z.dim() != 2 or z.shape[1] != self.config.latent_dim:
            raise ValueError(f"expected codes of shape [B, {self.config.latent_dim}], got {tuple(z.shape)}")

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Images ``[B, 784]`` -> ``(logits [B, 784], mu [B, d], logvar [B, d])``.

        The code is one reparameterized sample ``z = mu + sigma * eps``.
        """
        mu, logvar = self.encode(x)
        z = reparameterize(mu, logvar)  # [B, d]
        return self.decode(z), mu, logvar

    @torch.no_grad()
    def reconstruct(self, x: Tensor) -> Tensor:
        """Images ``[B, 784]`` -> pixel probabilities decoded from the mean code ``mu``."""
        mu, _ = self.encode(x)
        return torch.sigmoid(self.decode(mu))

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """``n`` new images from the prior: ``z ~ N(0, I)``, decoded, ``[n, 784]`` probabilities."""
        device = next(self.parameters()).device
        z = torch.randn(n, self.config.latent_dim, generator=generator).to(device)  # [n, d]
        return torch.sigmoid(self.decode(z))


class VAE(_GaussianEncoderMixin, nn.Module):
    """A variational autoencoder with MLP encoder and decoder.

    The encoder maps ``x`` ``[B, 784]`` to the mean ``mu`` and log-variance
    ``logvar`` ``[B, d]`` of a diagonal Gaussian q(z|x); the decoder maps a
    code ``z`` ``[B, d]`` to pixel logits ``[B, 784]``.
    """

    config_class = VAEConfig

    def __init__(self, config: VAEConfig | None = None) -> None:
        super().__init__()
        self.config = config or VAEConfig()
        c = self.config
        self.encoder = mlp([c.input_dim, *c.hidden_dims])
        self.encoder.append(nn.ReLU())
        self.to_mu = nn.Linear(c.hidden_dims[-1], c.latent_dim)
        self.to_logvar = nn.Linear(c.hidden_dims[-1], c.latent_dim)
        self.decoder = mlp([c.latent_dim, *reversed(c.hidden_dims), c.input_dim])

    def encode(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Images ``[B, 784]`` -> ``(mu, logvar)``, each ``[B, d]``."""
        h = self.encoder(flatten_images(x, self.config.input_dim))  # [B, hidden]
        return self.to_mu(h), self.to_logvar(h)

    def decode(self, z: Tensor) -> Tensor:
        """Codes ``[B, d]`` -> pixel logits ``[B, 784]``."""
        self._check_codes(z)
        return self.decoder(z)


@dataclass(frozen=True)
class ConvVAEConfig:
    """A convolutional VAE for 28x28 images: two stride-2 convolutions
    (28 -> 14 -> 7) with ``channels`` filters, then a dense layer."""

    channels: tuple[int, ...] = (32, 64)
    hidden_dim: int = 256
    latent_dim: int = 20

    def __post_init__(self) -> None:
        object.__setattr__(self, "channels", tuple(self.channels))
        _positive_ints(self, "channels", "hidden_dim", "latent_dim")
        if len(self.channels) != 2:
            raise ValueError(f"ConvVAEConfig.channels must be two numbers, got {self.channels!r}")

    @property
    def input_dim(self) -> int:
        return IMAGE_DIM


class ConvVAE(_GaussianEncoderMixin, nn.Module):
    """A VAE whose encoder and decoder are convolutional; same interface as :class:`VAE`."""

    config_class = ConvVAEConfig

    def __init__(self, config: ConvVAEConfig | None = None) -> None:
        super().__init__()
        self.config = config or ConvVAEConfig()
        c1, c2 = self.config.channels
        h, d = self.config.hidden_dim, self.config.latent_dim
        self.encoder = nn.Sequential(
            nn.Conv2d(1, c1, 4, stride=2, padding=1), nn.ReLU(),   # [B, c1, 14, 14]
            nn.Conv2d(c1, c2, 4, stride=2, padding=1), nn.ReLU(),  # [B, c2, 7, 7]
            nn.Flatten(), nn.Linear(c2 * 7 * 7, h), nn.ReLU(),     # [B, h]
        )
        self.to_mu = nn.Linear(h, d)
        self.to_logvar = nn.Linear(h, d)
        self.decoder = nn.Sequential(
            nn.Linear(d, h), nn.ReLU(), nn.Linear(h, c2 * 7 * 7), nn.ReLU(),
            nn.Unflatten(1, (c2, 7, 7)),
            nn.ConvTranspose2d(c2, c1, 4, stride=2, padding=1), nn.ReLU(),  # [B, c1, 14, 14]
            nn.ConvTranspose2d(c1, 1, 4, stride=2, padding=1),              # [B, 1, 28, 28]
            nn.Flatten(),                                                   # [B, 784] logits
        )

    def encode(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Images ``[B, 784]`` -> ``(mu, logvar)``, each ``[B, d]``."""
        images = flatten_images(x).reshape(-1, 1, *IMAGE_SHAPE)  # [B, 1, 28, 28]
        h = self.encoder(images)
        return self.to_mu(h), self.to_logvar(h)

    def decode(self, z: Tensor) -> Tensor:
        """Codes ``[B, d]`` -> pixel logits ``[B, 784]``."""
        self._check_codes(z)
        return self.decoder(z)


# Every model a checkpoint can hold, by class name.
MODELS: dict[str, type[nn.Module]] = {"Autoencoder": Autoencoder, "VAE": VAE, "ConvVAE": ConvVAE}
