"""The two gaps between a VAE's ELBO and its log-likelihood (Cremer et al., 2018), for chapter 8.

For one image, log p(x) - ELBO(x; q) = KL(q(z|x) || p(z|x)): how far the
encoder's Gaussian is from the true posterior.  Two things keep it above 0:

- the **approximation gap**, log p(x) - ELBO(x; q*): even the best diagonal
  Gaussian q* for this image differs from p(z|x);
- the **amortization gap**, ELBO(x; q*) - ELBO(x; q): one encoder network
  computes q for every image, and it does not find each image's best one.

:func:`optimized_posteriors` finds q* (close to it) for each image by
gradient ascent on its own ELBO, the decoder held fixed and the encoder's
answer as the start; :func:`gaps` measures both gaps on a set of images.
"""

from __future__ import annotations

import contextlib

import torch
from torch import Tensor, nn

from ._validate import check_int, check_number
from .batched import evaluating, model_device
from .gaussian import reparameterize, standard_normal
from .losses import bce_per_image
from .metrics import importance_sampled_log_likelihood
from .models import kl_to_prior

__all__ = ["elbo_of", "gaps", "optimized_posteriors"]


@contextlib.contextmanager
def _frozen(model: nn.Module):
    """The model's weights take no gradient inside the block (only the posteriors do), and eval mode."""
    flags = [p.requires_grad for p in model.parameters()]
    for p in model.parameters():
        p.requires_grad_(False)
    try:
        with evaluating(model):
            yield
    finally:
        for p, flag in zip(model.parameters(), flags, strict=True):
            p.requires_grad_(flag)


def _negative_elbo(model: nn.Module, x: Tensor, mu: Tensor, logvar: Tensor, eps: Tensor) -> Tensor:
    """-ELBO of each image ``[B]`` under q = N(mu, exp(logvar)), averaged over the draws ``eps`` ``[S, B, d]``."""
    z = reparameterize(mu.expand_as(eps), logvar.expand_as(eps), eps)  # [S, B, d]
    logits = model.decode(z.reshape(-1, z.shape[-1]))  # [S*B, 784]
    recon = bce_per_image(logits, x.expand(len(eps), -1, -1).reshape(-1, x.shape[-1])).reshape(len(eps), -1)
    return (recon + kl_to_prior(model, mu, logvar, z)).mean(dim=0)  # [B]


def elbo_of(model: nn.Module, x: Tensor, mu: Tensor, logvar: Tensor, *, samples: int = 1_000, seed: int = 0) -> Tensor:
    """The ELBO of each image ``x`` ``[B, 784]`` under the posteriors ``(mu, logvar)`` ``[B, d]``: ``[B]`` nats.

    Averaged over ``samples`` codes per image, drawn 100 at a time from a
    generator seeded with ``seed``, so that two sets of posteriors are
    compared on the same noise.
    """
    check_int("samples", samples)
    generator, device = torch.Generator().manual_seed(seed), model_device(model)
    x, mu, logvar = x.to(device), mu.to(device), logvar.to(device)
    total = torch.zeros(len(x), dtype=torch.float64, device=device)
    with torch.no_grad(), evaluating(model):
        for start in range(0, samples, 100):
            eps = standard_normal((min(100, samples - start), *mu.shape), generator, device=device)
            total += _negative_elbo(model, x, mu, logvar, eps).double() * len(eps)
    return (-total / samples).float().cpu()


def optimized_posteriors(
    model: nn.Module, x: Tensor, *, steps: int = 300, lr: float = 0.02, samples: int = 16, seed: int = 0
) -> tuple[Tensor, Tensor]:
    """Each image's own best diagonal Gaussian q*(z|x), near enough: ``(mu, logvar)`` ``[B, d]``, on the CPU.

    Starts from the encoder's ``(mu, logvar)`` and takes ``steps`` steps of
    Adam (learning rate ``lr``) on the images' -ELBO, estimated from
    ``samples`` codes per image and step; the decoder and the prior are held
    fixed.  Each image's ELBO depends only on its own posterior, so one
    batch optimizes them all independently.
    """
    check_int("steps", steps)
    check_int("samples", samples)
    check_number("lr", lr, positive=True)
    generator, device = torch.Generator().manual_seed(seed), model_device(model)
    x = x.to(device)
    with _frozen(model):
        with torch.no_grad():
            mu, logvar = model.encode(x)
        mu, logvar = mu.clone().requires_grad_(True), logvar.clone().requires_grad_(True)
        optimizer = torch.optim.Adam([mu, logvar], lr=lr)
        for _ in range(steps):
            eps = standard_normal((samples, *mu.shape), generator, device=device)
            loss = _negative_elbo(model, x, mu, logvar, eps).sum()  # each image's own -ELBO, summed
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    return mu.detach().cpu(), logvar.detach().cpu()


def gaps(model: nn.Module, x: Tensor, *, k: int = 1_000, samples: int = 1_000, **optimize) -> dict[str, float]:
    """Both gaps on images ``x`` ``[B, 784]``, in nats per image.

    Returns ``{"log_px", "elbo_optimized", "elbo_amortized", "approximation",
    "amortization"}``: log p(x) estimated by importance sampling with ``k``
    samples from q* (itself a lower bound, so the approximation gap comes
    out a little small), the ELBO under q* (:func:`optimized_posteriors`,
    with ``**optimize``) and under the encoder's q, both from ``samples``
    codes per image, and the two gaps between them.
    """
    with torch.no_grad(), evaluating(model):
        mu, logvar = model.encode(x.to(model_device(model)))
    best = optimized_posteriors(model, x, **optimize)
    amortized = elbo_of(model, x, mu, logvar, samples=samples).mean().item()
    optimized = elbo_of(model, x, *best, samples=samples).mean().item()
    log_px = importance_sampled_log_likelihood(model, x, k=k, posteriors=best).mean().item()
    return {
        "log_px": log_px,
        "elbo_optimized": optimized,
        "elbo_amortized": amortized,
        "approximation": log_px - optimized,
        "amortization": optimized - amortized,
    }
