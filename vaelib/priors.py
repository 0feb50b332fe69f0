"""Priors that a VAE learns with its weights (chapter 8): a mixture of Gaussians and the VampPrior.

Chapter 4's VAE draws its samples from the prior N(0, I), but its encoder
puts the codes of real images wherever it likes: in the *aggregate
posterior* q(z) = (1/N) sum_n q(z | x_n).  Where N(0, I) is high and q(z) is
low, the decoder has seen no code in training, and a sample drawn there need
not decode to a digit.  A prior learned together with the model can follow
q(z) instead.  Both priors here are mixtures of K diagonal Gaussians:

- :class:`MixturePriorVAE`: p(z) = sum_k w_k N(z; m_k, diag(s_k^2)), whose
  means, variances and weights are parameters of the model;
- :class:`VampPriorVAE` (Tomczak and Welling, 2018): p(z) = (1/K) sum_k
  q(z | u_k), the encoder's own posteriors at K *pseudo-inputs* u_k, images
  that are learned.

Neither mixture has a closed-form KL to q(z|x); :func:`learned_prior_loss`
estimates it from the code it samples anyway: log q(z|x) - log p(z) with
z ~ q(z|x), an unbiased one-sample Monte Carlo estimate.  Both models keep
the interface of :class:`~vaelib.models.VAE` (``encode``, ``decode``,
``sample``...) and add ``log_prior(z)`` and ``prior_components()``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ._validate import check_int
from .batched import evaluating
from .gaussian import log_normal_diag, log_normal_diag_pairs, reparameterize, standard_normal
from .losses import bce_per_image
from .models import VAE, MLPConfig

__all__ = [
    "MixturePriorVAE",
    "PriorConfig",
    "PriorVAE",
    "VampPriorVAE",
    "bits_per_dim",
    "learned_prior_loss",
    "mixture_log_prob",
    "mixture_sample",
]


def _check_mixture(means: Tensor, logvars: Tensor, logits: Tensor) -> None:
    """``means``, ``logvars``: ``[K, d]`` with ``K >= 1``; ``logits``: ``[K]``, every one finite."""
    if means.dim() != 2 or means.shape != logvars.shape:
        raise ValueError(
            f"the mixture's means {tuple(means.shape)} and logvars {tuple(logvars.shape)} must both be [K, d]"
        )
    if len(means) == 0:
        raise ValueError("the mixture has no components: it needs K >= 1 means, logvars and weights")
    if logits.shape != (len(means),):
        raise ValueError(f"the mixture's weight logits must be [K] = [{len(means)}], got {tuple(logits.shape)}")
    if not bool(torch.isfinite(logits).all()):
        raise ValueError(f"the mixture's weight logits must be finite, got {logits.tolist()}")


def mixture_log_prob(z: Tensor, means: Tensor, logvars: Tensor, logits: Tensor) -> Tensor:
    """log p(z) of each code under a mixture of diagonal Gaussians, ``[...]`` nats.

    ``p(z) = sum_k w_k N(z; means_k, diag(exp(logvars_k)))`` with weights
    ``w = softmax(logits)``.  ``z``: ``[..., d]``; ``means``, ``logvars``:
    ``[K, d]``; ``logits``: ``[K]``.  Computed as a log-sum-exp of the
    components' log-densities (:func:`~vaelib.gaussian.log_normal_diag_pairs`), so
    that it stays finite where every component's density is below the
    smallest float.
    """
    _check_mixture(means, logvars, logits)
    if z.dim() == 0 or z.shape[-1] != means.shape[1]:  # before the reshape, so the message names z's own shape
        raise ValueError(f"the codes z must be [..., d] with d = {means.shape[1]}, the mixture's, got {tuple(z.shape)}")
    per_component = log_normal_diag_pairs(z.reshape(-1, z.shape[-1]), means, logvars)  # [M, K]
    log_p = torch.logsumexp(F.log_softmax(logits, dim=0) + per_component, dim=-1)  # [M]
    return log_p.reshape(z.shape[:-1])


def mixture_sample(
    n: int, means: Tensor, logvars: Tensor, logits: Tensor, generator: torch.Generator | None = None
) -> Tensor:
    """``n`` draws from the mixture, ``[n, d]``: a component by its weight, then a point from it.

    ``generator`` (a CPU ``torch.Generator``, vaelib's rule) fixes both draws.
    """
    check_int("n", n)
    _check_mixture(means, logvars, logits)
    eps = standard_normal((n, means.shape[1]), generator, device=means.device, dtype=means.dtype)  # [n, d]
    weights = F.softmax(logits.detach().double(), dim=0).cpu()
    k = torch.multinomial(weights, n, replacement=True, generator=generator).to(means.device)  # [n]
    return reparameterize(means[k], logvars[k], eps)


@dataclass(frozen=True)
class PriorConfig(MLPConfig):
    """An :class:`~vaelib.models.MLPConfig` plus the number of the prior's mixture components.

    The defaults are chapter 4's VAE, 784-400-20, with a prior of 50 components.
    """

    n_components: int = 50


class PriorVAE(VAE):
    """A VAE whose prior is a learned mixture of Gaussians, given by :meth:`prior_components`."""

    default_config = PriorConfig()
    config_class = PriorConfig  # VAE refuses any other: it says how many components

    @property
    def n_components(self) -> int:
        return self.config.n_components

    def prior_components(self) -> tuple[Tensor, Tensor, Tensor]:  # pragma: no cover - each prior defines it
        """``(means [K, d], logvars [K, d], logits [K])`` of the prior's mixture."""
        raise NotImplementedError

    def log_prior(self, z: Tensor) -> Tensor:
        """log p(z) of codes ``[..., d]`` -> ``[...]``: the learned mixture's log-density."""
        return mixture_log_prob(z, *self.prior_components())

    def kl_to_prior(self, mu: Tensor, logvar: Tensor, z: Tensor) -> Tensor:
        """KL(q(z|x) || p(z)) of each image, ``[B]``, estimated from the code ``z`` drawn from q(z|x).

        No closed form exists for a mixture prior; ``log q(z|x) - log p(z)``
        is an unbiased one-sample Monte Carlo estimate.  It can be negative
        for one sample, never in expectation.
        """
        return log_normal_diag(z, mu, logvar) - self.log_prior(z)

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """``n`` new images from the learned prior, decoded: ``[n, 784]`` probabilities.

        ``generator`` (a CPU ``torch.Generator``) fixes the draws.
        """
        check_int("n", n)
        with evaluating(self):
            z = mixture_sample(n, *self.prior_components(), generator)  # [n, d]
        return self.decode_probs(z)


class MixturePriorVAE(PriorVAE):
    """Chapter 4's VAE with a prior of K Gaussians whose means, variances and weights are learned.

    At the start the components have unit variance, equal weights and
    means drawn from N(0, I) (from PyTorch's global generator, like the
    layers' weights), so that the prior begins about as wide as N(0, I).
    """

    def __init__(self, config: PriorConfig | None = None) -> None:
        super().__init__(config)
        k, d = self.n_components, self.latent_dim
        self.prior_means = nn.Parameter(torch.randn(k, d))
        self.prior_logvars = nn.Parameter(torch.zeros(k, d))
        self.prior_logits = nn.Parameter(torch.zeros(k))

    def prior_components(self) -> tuple[Tensor, Tensor, Tensor]:
        return self.prior_means, self.prior_logvars, self.prior_logits


#: The VampPrior's pseudo-inputs start as images of dim noise, pixels about
#: 0.05 (Tomczak and Welling's choice), unless training images are given.
PSEUDO_INPUT_MEAN, PSEUDO_INPUT_STD = 0.05, 0.01


class VampPriorVAE(PriorVAE):
    """Chapter 4's VAE with the VampPrior: p(z) = (1/K) sum_k q(z | u_k), at K learned pseudo-inputs.

    The pseudo-inputs are images ``[K, 784]`` with pixels in (0, 1), kept as
    logits so that they stay there (:meth:`pseudo_inputs`).  ``pseudo_inputs``
    sets where they start, for example K training images; by default they
    are dim noise.  The prior costs an encoder pass over the K pseudo-inputs
    at every step.
    """

    default_config = PriorConfig(n_components=200)

    def __init__(self, config: PriorConfig | None = None, pseudo_inputs: Tensor | None = None) -> None:
        super().__init__(config)
        shape = (self.n_components, self.config.input_dim)
        if pseudo_inputs is None:
            pseudo_inputs = (PSEUDO_INPUT_MEAN + PSEUDO_INPUT_STD * torch.randn(shape)).clamp(0, 1)
        elif not isinstance(pseudo_inputs, Tensor) or tuple(pseudo_inputs.shape) != shape:
            got = tuple(pseudo_inputs.shape) if isinstance(pseudo_inputs, Tensor) else type(pseudo_inputs).__name__
            raise ValueError(f"pseudo_inputs must be [n_components, input_dim] = {list(shape)} images, got {got}")
        elif not bool(((pseudo_inputs >= 0) & (pseudo_inputs <= 1)).all()):
            raise ValueError("pseudo_inputs must be images with pixels in [0, 1]")
        self.pseudo_logits = nn.Parameter(torch.logit(pseudo_inputs.detach().float(), eps=1e-4).clone())

    def pseudo_inputs(self) -> Tensor:
        """The pseudo-inputs u_k as images, ``[K, 784]``, pixels in (0, 1)."""
        return torch.sigmoid(self.pseudo_logits)

    def prior_components(self) -> tuple[Tensor, Tensor, Tensor]:
        mu, logvar = self.encode(self.pseudo_inputs())  # [K, d] each
        return mu, logvar, torch.zeros(self.n_components, device=mu.device)  # equal weights 1/K


def learned_prior_loss(model: VAE, x: Tensor) -> dict[str, Tensor]:
    """The negative ELBO in nats per image, with the KL term as the model computes it: ``{"loss", "recon", "kl"}``.

    One code per image, ``z ~ q(z|x)``, is decoded for the reconstruction
    term; the KL term is ``model.kl_to_prior(mu, logvar, z)``, a Monte Carlo
    estimate from the same ``z`` for a learned prior (the closed form for
    N(0, I)).  A loss function for ``train.fit``: ``fit(model,
    learned_prior_loss, train_x, ...)``; ``x`` on the model's device.
    """
    mu, logvar = model.encode(x)
    z = reparameterize(mu, logvar)  # [B, d]
    recon = bce_per_image(model.decode(z), x)  # [B]
    kl = model.kl_to_prior(mu, logvar, z)  # [B]
    return {"loss": (recon + kl).mean(), "recon": recon.mean(), "kl": kl.mean()}


def bits_per_dim(nats_per_image: float, dims: int = 784) -> float:
    """A negative log-likelihood in nats per image as bits per pixel: ``nats / (dims * ln 2)``."""
    check_int("dims", dims)
    return nats_per_image / (dims * math.log(2))
