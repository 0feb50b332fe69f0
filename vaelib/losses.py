"""Losses, in nats per image: summed over pixels, averaged over images.

That convention is the book's: a loss that averages over pixels instead is
784 times smaller, and next to a KL term summed over latent dimensions it
silently changes the model (chapter 4 shows how).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor, nn

from ._validate import check_int, check_number
from .data import flatten_images
from .gaussian import gaussian_kl, standard_normal

__all__ = [
    "NonFiniteLossError",
    "VAEObjective",
    "add_noise",
    "autoencoder_loss",
    "bce_per_image",
    "denoising_loss",
    "gaussian_nll_per_image",
    "vae_loss",
]


class NonFiniteLossError(FloatingPointError, ValueError):
    """A loss, or a model output it is computed from, is NaN or infinite; the message says which."""


def _check_logits(logits: Tensor, x: Tensor) -> Tensor:
    """Check decoder logits ``[B, D]`` against images; return the images as ``[B, D]``."""
    if not isinstance(logits, Tensor):
        raise TypeError(f"logits must be a torch.Tensor, got {type(logits).__name__}")
    if not logits.is_floating_point():
        raise TypeError(f"logits must be floating-point (the decoder's raw outputs), got dtype {logits.dtype}")
    if logits.dim() != 2:
        raise ValueError(f"logits must have shape [B, pixels], got {tuple(logits.shape)}")
    if isinstance(x, Tensor) and x.dim() >= 2 and len(x) and x[0].numel() != logits.shape[1]:
        raise ValueError(
            f"logits {tuple(logits.shape)} have {logits.shape[1]} pixels per image but the images x "
            f"{tuple(x.shape)} have {x[0].numel()}: is the decoder's output the right size?"
        )
    x = flatten_images(x, logits.shape[1])
    if len(x) != len(logits):
        raise ValueError(f"logits hold {len(logits)} images but x holds {len(x)}: the batch sizes must match")
    return x


def _finite(per_image: Tensor, culprit: str) -> Tensor:
    """Return ``per_image`` if every value is finite, else raise naming ``culprit``."""
    if not bool(torch.isfinite(per_image).all()):
        raise NonFiniteLossError(
            f"the loss is NaN or infinite because {culprit} holds NaN or infinite values "
            "(a diverged model? a learning rate too high?)"
        )
    return per_image


class _BernoulliNLL(torch.autograd.Function):
    """``F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(1)``, twice as fast on a CPU.

    The same function, written out: ``softplus(l) - x * l`` per pixel, with
    ``softplus(l) = max(l, 0) + log(1 + exp(-|l|))``, and its gradient
    ``sigmoid(l) - x`` given directly.  PyTorch's CPU kernels for log-sigmoid
    and ``log1p`` work one number at a time, and this loss was an eighth of a
    training epoch (``benchmarks/vae_epoch.py``).  ``log(1 + e)`` instead of
    ``log1p(e)`` loses only values of ``e`` below 1e-7: less than 1e-4 nats
    per image.
    """

    @staticmethod
    def forward(ctx, logits: Tensor, x: Tensor) -> Tensor:
        ctx.save_for_backward(logits, x)
        softplus = logits.clamp_min(0) + torch.log(1 + torch.exp(-logits.abs()))
        return (softplus - x * logits).sum(dim=1)  # [B]

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        logits, x = ctx.saved_tensors
        grad = grad[:, None]  # [B, 1]: each image's pixels share its gradient
        grad_logits = (torch.sigmoid(logits) - x) * grad if ctx.needs_input_grad[0] else None
        grad_x = -logits * grad if ctx.needs_input_grad[1] else None
        return grad_logits, grad_x


def bce_per_image(logits: Tensor, x: Tensor) -> Tensor:
    """Binary cross-entropy of ``x`` under Bernoulli pixels with these logits.

    ``logits``, ``x``: ``[B, 784]``, ``x`` in [0, 1].  Returns ``[B]``: nats
    per image (summed over pixels), what
    ``F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(1)``
    returns.  Computed from the logits, so it is finite even where
    ``sigmoid(logits)`` rounds to 0 or 1; NaN or infinite logits raise
    :class:`NonFiniteLossError`.
    """
    x = _check_logits(logits, x)
    per_image = _BernoulliNLL.apply(logits, x)  # [B]
    return _finite(per_image, "logits")


def gaussian_nll_per_image(logits: Tensor, x: Tensor, sigma: float = 0.1) -> Tensor:
    """Negative log-likelihood of ``x`` under N(sigmoid(logits), sigma^2 I), ``[B]``.

    The "MSE" reconstruction loss, with its variance stated:
    ``sum_i (x_i - p_i)^2 / (2 sigma^2) + 784/2 * log(2 pi sigma^2)`` nats per
    image, ``p = sigmoid(logits)``.  A small ``sigma`` weighs reconstruction
    heavily against the KL; a large one lets the KL win (blurry images).
    """
    check_number("sigma", sigma, positive=True)
    x = _check_logits(logits, x)
    _finite(logits, "logits")  # sigmoid(+-inf) is finite, so the sum below would hide them
    squared = (x - torch.sigmoid(logits)).pow(2).sum(dim=1)  # [B]
    per_image = squared / (2 * sigma**2) + 0.5 * x.shape[1] * math.log(2 * math.pi * sigma**2)
    return _finite(per_image, "logits")


def autoencoder_loss(model: nn.Module, x: Tensor) -> Tensor:
    """Reconstruction loss of an autoencoder on a batch: nats per image, averaged."""
    return bce_per_image(model(x), x).mean()


def add_noise(x: Tensor, noise_std: float, generator: torch.Generator | None = None) -> Tensor:
    """Gaussian pixel noise with standard deviation ``noise_std``, clipped to [0, 1].

    ``generator``: a CPU ``torch.Generator`` (see :func:`vaelib.gaussian.standard_normal`).
    """
    check_number("noise_std", noise_std, positive=False)
    if not isinstance(x, Tensor) or not x.is_floating_point():
        raise TypeError(f"x must be a floating-point tensor of pixels, got {type(x).__name__}")
    noise = standard_normal(x.shape, generator, device=x.device, dtype=x.dtype)
    return (x + noise_std * noise).clamp_(0.0, 1.0)


def denoising_loss(noise_std: float) -> Callable[[nn.Module, Tensor], Tensor]:
    """The loss of a denoising autoencoder: corrupt the batch, reconstruct the clean one.

    The noise comes from PyTorch's global generator, which ``train.fit``
    seeds for the length of a run.
    """
    check_number("noise_std", noise_std, positive=False)

    def loss(model: nn.Module, x: Tensor) -> Tensor:
        return bce_per_image(model(add_noise(x, noise_std)), x).mean()

    return loss


RECONSTRUCTIONS = ("bce", "mse")  # Bernoulli pixels, or Gaussian pixels with a stated sigma


def _check_options(beta: float, reconstruction: str = "bce", sigma: float = 0.1) -> None:
    """Refuse a bad beta or loss option with a ValueError that names it."""
    check_number("beta", beta, positive=False)
    if reconstruction not in RECONSTRUCTIONS:
        raise ValueError(f"reconstruction must be 'bce' or 'mse', got {reconstruction!r}")
    check_number("sigma", sigma, positive=True)


def reconstruction_nll(logits: Tensor, x: Tensor, reconstruction: str = "bce", sigma: float = 0.1) -> Tensor:
    """-log p(x | z) of each image, ``[B]`` nats: :func:`bce_per_image` for ``"bce"``,
    :func:`gaussian_nll_per_image` with ``sigma`` for ``"mse"``."""
    _check_options(1.0, reconstruction, sigma)
    if reconstruction == "bce":
        return bce_per_image(logits, x)
    return gaussian_nll_per_image(logits, x, sigma)


def vae_loss(
    x: Tensor,
    logits: Tensor,
    mu: Tensor,
    logvar: Tensor,
    *,
    beta: float = 1.0,
    reconstruction: str = "bce",
    sigma: float = 0.1,
) -> dict[str, Tensor]:
    """The (beta-)VAE loss: reconstruction + beta * KL, in nats per image.

    ``x``, ``logits``: ``[B, 784]``; ``mu``, ``logvar``: ``[B, d]``.  Returns
    ``{"loss", "recon", "kl"}``.  With ``beta=1`` the loss is the negative
    ELBO.  ``reconstruction``: ``"bce"`` (Bernoulli pixels) or ``"mse"``
    (Gaussian pixels, mean ``sigmoid(logits)``, standard deviation ``sigma``).
    """
    check_number("beta", beta, positive=False)  # beta >= 0
    recon = reconstruction_nll(logits, x, reconstruction, sigma)  # [B]: summed over pixels
    kl = _finite(gaussian_kl(mu, logvar), "mu or logvar")  # [B]: summed over latent dimensions
    if len(kl) != len(recon):
        raise ValueError(
            f"mu and logvar hold {len(kl)} images but logits and x hold {len(recon)}: the batch sizes must match"
        )
    recon, kl = recon.mean(), kl.mean()  # averaged over images
    return {"loss": recon + beta * kl, "recon": recon, "kl": kl}


class VAEObjective:
    """The loss function that ``train.fit`` minimizes for a VAE, with an optional KL warm-up.

    ``objective(model, x)`` runs the model (``-> logits, mu, logvar``) and
    returns :func:`vae_loss`'s parts, ``{"loss", "recon", "kl"}``, in nats
    per image; ``objective(model, x, y)`` runs a conditional VAE on images
    and their labels, ``model(x, y)``, the same way.

    Each call is one training step.  With ``warmup_steps > 0`` the KL weight
    of step ``t`` is ``beta * min(1, t / warmup_steps)``: it rises from 0 to
    ``beta`` (KL warm-up, against posterior collapse).  The weight of every
    step taken is recorded in ``betas``; make one objective per training run,
    or call :meth:`reset` to start the warm-up again.  :meth:`test_loss` is
    the loss at the full ``beta``, which takes no step: pass it to
    ``train.fit(test_loss_fn=...)`` or ``train.evaluate``, so that test losses
    of different epochs compare.  ``reconstruction`` and ``sigma`` go to
    :func:`vae_loss`.
    """

    def __init__(
        self, beta: float = 1.0, warmup_steps: int = 0, *, reconstruction: str = "bce", sigma: float = 0.1
    ) -> None:
        check_int("warmup_steps", warmup_steps, minimum=0)
        _check_options(beta, reconstruction, sigma)  # refuse bad options now, not mid-training
        self.beta = beta
        self.warmup_steps = warmup_steps
        self.reconstruction, self.sigma = reconstruction, sigma
        self.betas: list[float] = []  # the KL weight of each call since the last reset

    def options(self) -> dict:
        """What makes this objective: ``VAEObjective(**objective.options())`` is a fresh one like it."""
        return {
            "beta": self.beta,
            "warmup_steps": self.warmup_steps,
            "reconstruction": self.reconstruction,
            "sigma": self.sigma,
        }

    def reset(self) -> None:
        """Forget the training steps taken: the next one starts the warm-up again."""
        self.betas = []

    def weight(self, step: int) -> float:
        """The KL weight at training step ``step`` (0-based) of a run."""
        if self.warmup_steps == 0:
            return self.beta
        return self.beta * min(1.0, step / self.warmup_steps)

    def __call__(self, model: nn.Module, x: Tensor, y: Tensor | None = None) -> dict[str, Tensor]:
        """One training step's loss: the KL weighted by :meth:`weight` of this step."""
        if self.warmup_steps and not torch.is_grad_enabled():
            raise RuntimeError(
                "this objective's calls are training steps of its KL warm-up, and this one computes no "
                "gradient: for a test loss, use objective.test_loss (the loss at the full beta)"
            )
        beta = self.weight(len(self.betas))
        self.betas.append(beta)
        return self._loss(model, x, y, beta)

    def test_loss(self, model: nn.Module, x: Tensor, y: Tensor | None = None) -> dict[str, Tensor]:
        """The loss at the full ``beta``: a test loss, the same at every epoch; it takes no training step."""
        return self._loss(model, x, y, self.beta)

    def _loss(self, model: nn.Module, x: Tensor, y: Tensor | None, beta: float) -> dict[str, Tensor]:
        logits, mu, logvar = model(x) if y is None else model(x, y)  # y: a conditional VAE's labels
        return vae_loss(x, logits, mu, logvar, beta=beta, reconstruction=self.reconstruction, sigma=self.sigma)
