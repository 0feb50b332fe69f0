"""The book's models: an autoencoder, a VAE and a conditional VAE, MLPs with one config class.

Every model has the same small interface, so that every figure, metric and
explorer of the book works with any of them:

==========================  ================================================
``encode_mean(x)``          images ``[B, 784]`` -> codes ``[B, d]``: the code
                            of an autoencoder, the mean ``mu`` of a VAE's q(z|x)
``decode(z)``               codes ``[B, d]`` -> pixel *logits* ``[B, 784]``
``decode_probs(z)``         codes -> pixel probabilities ``sigmoid(logits)``,
                            without gradients, for figures
``reconstruct(x)``          images -> probabilities decoded from ``encode_mean(x)``
``latent_dim``              ``d``
==========================  ================================================

A VAE adds ``encode(x) -> (mu, logvar)``, ``sample(n)`` and its prior's
``log_prior(z)``; an autoencoder's
``encode(x)`` returns its code.  A conditional VAE (:class:`CVAE`) has the
same methods with the label beside the image or the code: ``encode(x, y)``,
``decode(z, y)``, ``decode_probs(z, y)``, ``reconstruct(x, y)``, ``sample(y)``.  The decoders return logits: the
reconstruction loss is computed from them with
``binary_cross_entropy_with_logits`` (stable, never ``log(0)``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ._validate import check_int, is_int
from .batched import evaluating, model_device
from .data import IMAGE_DIM, flatten_images
from .gaussian import gaussian_kl, log_standard_normal, reparameterize, standard_normal

__all__ = [
    "MODELS",
    "Autoencoder",
    "CVAE",
    "CVAEConfig",
    "ConvVAE",
    "MLPConfig",
    "VARIANCES",
    "VAE",
    "kl_to_prior",
    "label_choices",
    "log_prior",
    "mlp",
    "to_logvar",
]


#: How a VAE's encoder can turn its raw output into a variance (:class:`MLPConfig`).
VARIANCES = ("exp", "clamped", "softplus")
LOGVAR_CLAMP = 10.0  # "clamped": logvar in [-10, 10], a variance from 4.5e-5 to 2.2e4
MIN_VARIANCE = 1e-4  # "softplus": the variance never falls below this


def to_logvar(raw: Tensor, variance: str = "exp") -> Tensor:
    """The encoder's raw output ``[B, d]`` -> ``logvar`` ``[B, d]``, as ``variance`` says (see :class:`MLPConfig`)."""
    if variance == "clamped":
        return raw.clamp(-LOGVAR_CLAMP, LOGVAR_CLAMP)
    if variance == "softplus":
        return torch.log(F.softplus(raw) + MIN_VARIANCE)
    return raw


@dataclass(frozen=True)
class MLPConfig:
    """The shape of an MLP encoder and decoder: ``input_dim -> hidden_dims -> latent_dim`` and back.

    The defaults are the VAE of PyTorch's own example, 784-400-20.

    ``variance`` says how a VAE's encoder turns its raw output ``r`` into the
    variance of q(z|x) (see :data:`VARIANCES`): ``"exp"``, the book's, reads
    ``r`` as ``logvar`` itself, so the variance ``e^r`` grows exponentially;
    ``"clamped"`` clamps ``r`` to [-10, 10] first; ``"softplus"`` takes the
    variance to be ``softplus(r) + 1e-4``, which grows only linearly.
    Chapter 4's troubleshooting section compares them.
    """

    input_dim: int = IMAGE_DIM
    hidden_dims: tuple[int, ...] = (400,)
    latent_dim: int = 20
    variance: str = "exp"

    def __post_init__(self) -> None:
        if self.variance not in VARIANCES:
            raise ValueError(f"MLPConfig.variance must be one of {', '.join(VARIANCES)}, got {self.variance!r}")
        if not isinstance(self.hidden_dims, (tuple, list)) or not self.hidden_dims:
            raise ValueError(
                f"MLPConfig.hidden_dims must be a non-empty tuple of positive integers, got {self.hidden_dims!r}"
            )
        # A config read back from a checkpoint has lists where tuples were.
        object.__setattr__(self, "hidden_dims", tuple(self.hidden_dims))
        for f in fields(self):
            if f.name == "variance":
                continue
            value = getattr(self, f.name)
            values = value if isinstance(value, tuple) else (value,)
            if not all(is_int(v) and v > 0 for v in values):
                raise ValueError(f"MLPConfig.{f.name} must be positive integers, got {value!r}")


@dataclass(frozen=True)
class CVAEConfig(MLPConfig):
    """An :class:`MLPConfig` plus the number of labels a conditional VAE is given.

    The defaults are chapter 4's VAE, 784-400-20, conditioned on MNIST's ten digits.
    """

    num_classes: int = 10


def mlp(sizes: list[int] | tuple[int, ...]) -> nn.Sequential:
    """Linear layers of the given sizes with ReLU between them (none at the end)."""
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class _LatentModel(nn.Module):
    """The interface every model of the book shares (see the module docstring)."""

    config: MLPConfig
    config_class: type[MLPConfig] = MLPConfig  # what a checkpoint's config is read back as
    decoder: nn.Module

    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    def encode_mean(self, x: Tensor, *label: Tensor | int) -> Tensor:  # pragma: no cover - each model defines it
        raise NotImplementedError

    def _check_codes(self, z: object) -> Tensor:
        if not isinstance(z, Tensor) or not z.is_floating_point():
            raise TypeError(f"expected a floating-point tensor of codes, got {_describe(z)}")
        if z.dim() != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"expected codes of shape [B, {self.latent_dim}], got {tuple(z.shape)}")
        return z

    def decode(self, z: Tensor) -> Tensor:
        """Codes ``[B, d]`` -> pixel logits ``[B, 784]``."""
        return self.decoder(self._check_codes(z))

    @torch.no_grad()
    def decode_probs(self, z: Tensor, *label: Tensor | int) -> Tensor:
        """Codes ``[B, d]`` (on any device) -> pixel probabilities ``[B, 784]`` on the model's device.

        The mean E[x | z] of the Bernoulli pixels: what the book's image grids
        show.  A conditional model takes the label too: ``decode_probs(z, y)``.
        """
        if isinstance(z, Tensor):
            z = z.to(model_device(self))
        with evaluating(self):
            return torch.sigmoid(self.decode(z, *label))

    @torch.no_grad()
    def reconstruct(self, x: Tensor, *label: Tensor | int) -> Tensor:
        """Images ``[B, 784]`` -> pixel probabilities decoded from ``encode_mean(x)``, ``[B, 784]``.

        A conditional model takes the label too, and uses it on both sides: ``reconstruct(x, y)``.
        """
        with evaluating(self):
            return self.decode_probs(self.encode_mean(x.to(model_device(self)), *label), *label)


def _describe(value: object) -> str:
    if isinstance(value, Tensor):
        return f"a {value.dtype} tensor of shape {tuple(value.shape)}"
    return type(value).__name__


class Autoencoder(_LatentModel):
    """A deterministic autoencoder: ``x -> z = encoder(x) -> logits = decoder(z)``.

    ``x``: pixels in [0, 1], ``[B, 784]`` (or ``[B, 1, 28, 28]``);
    ``z``: the code, ``[B, latent_dim]``; ``logits``: ``[B, 784]``.
    Default shape: 784-512-256-16.
    """

    default_config = MLPConfig(hidden_dims=(512, 256), latent_dim=16)

    def __init__(self, config: MLPConfig | None = None) -> None:
        super().__init__()
        self.config = config or self.default_config
        c = self.config
        if c.variance != "exp":
            raise ValueError(
                f"an Autoencoder has no variance to parameterize: leave variance at 'exp', got {c.variance!r}"
            )
        self.encoder = mlp([c.input_dim, *c.hidden_dims, c.latent_dim])
        self.decoder = mlp([c.latent_dim, *reversed(c.hidden_dims), c.input_dim])

    def encode(self, x: Tensor) -> Tensor:
        """Images ``[B, 784]`` -> codes ``z`` ``[B, latent_dim]``."""
        return self.encoder(flatten_images(x, self.config.input_dim))

    def encode_mean(self, x: Tensor) -> Tensor:
        """The code itself: an autoencoder's encoder is deterministic."""
        return self.encode(x)

    def forward(self, x: Tensor) -> Tensor:
        """Images ``[B, 784]`` -> reconstruction logits ``[B, 784]``."""
        return self.decode(self.encode(x))


class VAE(_LatentModel):
    """A variational autoencoder with MLP encoder and decoder.

    The encoder maps ``x`` ``[B, 784]`` to the mean ``mu`` and log-variance
    ``logvar`` ``[B, d]`` of a diagonal Gaussian q(z|x); the decoder maps a
    code ``z`` ``[B, d]`` to pixel logits ``[B, 784]``.  Default shape:
    784-400-20.
    """

    default_config = MLPConfig()

    def __init__(self, config: MLPConfig | None = None) -> None:
        super().__init__()
        self.config = config or self.default_config
        if not isinstance(self.config, self.config_class):
            raise TypeError(
                f"{type(self).__name__} needs a {self.config_class.__name__}, got {type(self.config).__name__}"
            )
        c = self.config
        self.encoder = mlp([c.input_dim, *c.hidden_dims])
        self.encoder.append(nn.ReLU())
        self.to_mu = nn.Linear(c.hidden_dims[-1], c.latent_dim)
        self.to_logvar = nn.Linear(c.hidden_dims[-1], c.latent_dim)
        self.decoder = mlp([c.latent_dim, *reversed(c.hidden_dims), c.input_dim])

    def encode(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Images ``[B, 784]`` -> ``(mu, logvar)`` of q(z|x), each ``[B, d]``."""
        h = self.encoder(flatten_images(x, self.config.input_dim))  # [B, hidden]
        return self.to_mu(h), to_logvar(self.to_logvar(h), self.config.variance)

    def encode_mean(self, x: Tensor) -> Tensor:
        """The mean ``mu`` of q(z|x), ``[B, d]``: the code a VAE gives an image."""
        return self.encode(x)[0]

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Images ``[B, 784]`` -> ``(logits [B, 784], mu [B, d], logvar [B, d])``.

        The code is one reparameterized sample ``z = mu + sigma * eps``, with
        ``eps`` from PyTorch's global generator (``train.fit`` seeds it for
        the length of a run and restores it afterwards).
        """
        mu, logvar = self.encode(x)
        z = reparameterize(mu, logvar)  # [B, d]
        return self.decode(z), mu, logvar

    def log_prior(self, z: Tensor) -> Tensor:
        """log p(z) of codes ``[..., d]`` -> ``[...]``: the prior N(0, I) (a learned one: :mod:`vaelib.priors`)."""
        return log_standard_normal(z)

    def kl_to_prior(self, mu: Tensor, logvar: Tensor, z: Tensor) -> Tensor:
        """KL(q(z|x) || p(z)) of each image, ``[B]``: in closed form for N(0, I), so the code ``z`` drawn
        from q(z|x) is not needed (a learned prior estimates the KL from it)."""
        return gaussian_kl(mu, logvar)

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """``n`` new images from the prior: ``z ~ N(0, I)``, decoded, ``[n, 784]`` probabilities.

        ``generator`` (a CPU ``torch.Generator``) fixes the draws.
        """
        check_int("n", n)
        z = standard_normal((n, self.latent_dim), generator)  # [n, d], on the CPU
        return self.decode_probs(z)


class ConvVAE(VAE):
    """A VAE with a convolutional encoder and an MLP decoder, for square images.

    The encoder sees the image as a picture, ``[B, 1, side, side]``: three
    stride-2 convolutions (32, 32, 64 channels, 4x4 kernels) halve it three
    times, then a linear layer to ``hidden_dims[-1]`` features, from which
    ``mu`` and ``logvar`` come as in :class:`VAE`.  The decoder is the VAE's
    MLP, ``latent_dim -> reversed(hidden_dims) -> side * side`` logits, so
    that a page's JavaScript can run it (:func:`vaelib.static.export_decoder`).
    ``input_dim`` must be a square whose side is a multiple of 8.
    """

    default_config = MLPConfig(input_dim=32 * 32, hidden_dims=(512, 256), latent_dim=10)

    def __init__(self, config: MLPConfig | None = None) -> None:
        super().__init__(config or self.default_config)
        c = self.config
        side = math.isqrt(c.input_dim)
        if side * side != c.input_dim or side % 8:
            raise ValueError(f"ConvVAE needs square images with a side divisible by 8, got input_dim={c.input_dim}")
        self.encoder = nn.Sequential(
            nn.Unflatten(1, (1, side, side)),
            nn.Conv2d(1, 32, kernel_size=4, stride=2, padding=1),  # side / 2
            nn.ReLU(),
            nn.Conv2d(32, 32, kernel_size=4, stride=2, padding=1),  # side / 4
            nn.ReLU(),
            nn.Conv2d(32, 64, kernel_size=4, stride=2, padding=1),  # side / 8
            nn.ReLU(),
            nn.Flatten(),
            nn.Linear(64 * (side // 8) ** 2, c.hidden_dims[-1]),
            nn.ReLU(),
        )


class CVAE(VAE):
    """A conditional VAE: q(z | x, y) and p(x | z, y), the label ``y`` given to both halves.

    Chapter 4's VAE with the label's one-hot vector ``[B, K]`` appended to
    the encoder's input (the image, ``[B, 784 + K]``) and to the decoder's
    (the code, ``[B, d + K]``): the VAE's layers, with the first layer of
    each half made wider by ``K``.  Since the decoder is told the label, the
    code need not carry it, and keeps what else varies: the style.  Every
    method of the book's interface takes the labels ``y`` beside the images
    or codes: int labels ``[B]``, or one int for the whole batch
    (``decode_probs(z, 7)`` draws sevens).  Default shape: (784 + 10)-400-20
    and (20 + 10)-400-784.
    """

    default_config = CVAEConfig()
    config_class = CVAEConfig

    def __init__(self, config: CVAEConfig | None = None) -> None:
        super().__init__(config)  # a CVAEConfig: it says how many labels
        c, k = self.config, self.config.num_classes
        self.encoder[0] = nn.Linear(c.input_dim + k, c.hidden_dims[0])  # the image and its one-hot label
        self.decoder[0] = nn.Linear(c.latent_dim + k, self.decoder[0].out_features)  # the code and the label

    @property
    def num_classes(self) -> int:
        return self.config.num_classes

    def one_hot(self, y: Tensor | int, n: int) -> Tensor:
        """Labels for a batch of ``n`` (int ``[n]``, or one int for all) -> one-hot rows ``[n, K]``."""
        if is_int(y) and not isinstance(y, Tensor):
            y = torch.full((n,), int(y), dtype=torch.long)
        if not isinstance(y, Tensor) or y.is_floating_point() or y.is_complex() or y.dtype == torch.bool:
            raise TypeError(f"expected int labels, a tensor [B] or one int, got {_describe(y)}")
        if y.dim() != 1 or len(y) != n:
            raise ValueError(f"expected one label per image or code, shape [{n}], got {tuple(y.shape)}")
        if n and (y.min() < 0 or y.max() >= self.num_classes):
            raise ValueError(f"labels must lie in 0..{self.num_classes - 1}, got {y.min().item()} to {y.max().item()}")
        return F.one_hot(y.to(model_device(self), torch.long), self.num_classes).float()

    def encode(self, x: Tensor, y: Tensor | int) -> tuple[Tensor, Tensor]:
        """Images ``[B, 784]`` and their labels -> ``(mu, logvar)`` of q(z | x, y), each ``[B, d]``."""
        x = flatten_images(x, self.config.input_dim)
        h = self.encoder(torch.cat([x, self.one_hot(y, len(x))], dim=1))  # [B, hidden]
        return self.to_mu(h), to_logvar(self.to_logvar(h), self.config.variance)

    def encode_mean(self, x: Tensor, y: Tensor | int) -> Tensor:
        """The mean ``mu`` of q(z | x, y), ``[B, d]``: the code of an image, given its label."""
        return self.encode(x, y)[0]

    def decode(self, z: Tensor, y: Tensor | int) -> Tensor:
        """Codes ``[B, d]`` and labels -> pixel logits ``[B, 784]``."""
        z = self._check_codes(z)
        return self.decoder(torch.cat([z, self.one_hot(y, len(z))], dim=1))

    def forward(self, x: Tensor, y: Tensor | int) -> tuple[Tensor, Tensor, Tensor]:
        """Images and labels -> ``(logits [B, 784], mu [B, d], logvar [B, d])``, as :meth:`VAE.forward`."""
        mu, logvar = self.encode(x, y)
        z = reparameterize(mu, logvar)  # [B, d]
        return self.decode(z, y), mu, logvar

    @torch.no_grad()
    def sample(self, y: Tensor | int, n: int | None = None, generator: torch.Generator | None = None) -> Tensor:
        """New images of the labels ``y``: one per label (``y`` int ``[n]``), or ``n`` of one label ``y``.

        Codes ``z ~ N(0, I)`` (from ``generator``, a CPU ``torch.Generator``),
        decoded with the labels: ``[n, 784]`` probabilities.
        """
        if isinstance(y, Tensor):
            n = len(y) if n is None else n
        elif n is None:
            raise ValueError("sample(y, n): give n, how many images of the label y to draw")
        check_int("n", n)
        z = standard_normal((n, self.latent_dim), generator)  # [n, d], on the CPU
        return self.decode_probs(z, y)


def label_choices(model: nn.Module, label: int = 0, names: list[str] | None = None) -> list[str] | None:
    """The names of the labels an explorer offers for ``model``, checked with the one it opens on.

    ``None`` for a model that takes no label; for a conditional VAE, ``names``
    (default ``"0"``, ``"1"``, ...), one per class, with ``label`` among them.
    """
    num_classes = getattr(model, "num_classes", None)
    if num_classes is None:
        return None
    names = list(names) if names is not None else [str(k) for k in range(num_classes)]
    if len(names) != num_classes or not 0 <= label < num_classes:
        raise ValueError(f"need {num_classes} label names and a label in 0..{num_classes - 1}, got {label}")
    return names


# Every model a checkpoint can hold, by class name.
def log_prior(model: nn.Module, z: Tensor) -> Tensor:
    """log p(z) under ``model``'s prior, ``[...]``: its ``log_prior`` method, or N(0, I) for a
    model without one (a reader's own VAE, say)."""
    method = getattr(model, "log_prior", None)
    return method(z) if method is not None else log_standard_normal(z)


def kl_to_prior(model: nn.Module, mu: Tensor, logvar: Tensor, z: Tensor) -> Tensor:
    """KL(q(z|x) || p(z)) of each image, ``[B]``, as ``model`` computes it (``kl_to_prior``), or in
    closed form for N(0, I) for a model without that method."""
    method = getattr(model, "kl_to_prior", None)
    return method(mu, logvar, z) if method is not None else gaussian_kl(mu, logvar)


MODELS: dict[str, type[_LatentModel]] = {"Autoencoder": Autoencoder, "VAE": VAE, "ConvVAE": ConvVAE, "CVAE": CVAE}
