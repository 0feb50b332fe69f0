"""Diagonal Gaussians: sampling by reparameterization, KL to the prior, log densities.

A diagonal Gaussian over ``d`` latent dimensions is given by its mean ``mu``
and its log-variance ``logvar`` (``logvar = log sigma^2``), both ``[B, d]``.
These pure functions are the only place the book computes them: the models
call them, the chapters call them, and the tests check them against
``torch.distributions``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor

from ._validate import check_int, check_number

__all__ = [
    "gaussian_kl",
    "gaussian_kl_per_dim",
    "log_normal_diag",
    "log_normal_diag_pairs",
    "log_standard_normal",
    "normal_pdf",
    "reparameterize",
    "reparameterized_gradient",
    "score_function_gradient",
    "standard_normal",
]

LOG_2PI = math.log(2 * math.pi)


def _check_tensor(name: str, value: object) -> None:
    if not isinstance(value, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    if not value.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {value.dtype}")


def _check_pair(mu: Tensor, logvar: Tensor) -> None:
    """``mu`` and ``logvar``: floating-point tensors of one shape ``[..., d]`` with ``d >= 1``."""
    _check_tensor("mu", mu)
    _check_tensor("logvar", logvar)
    if mu.shape != logvar.shape:
        raise ValueError(f"mu {tuple(mu.shape)} and logvar {tuple(logvar.shape)} must have the same shape")
    if mu.dim() == 0 or mu.shape[-1] == 0:
        raise ValueError(f"mu and logvar need a latent dimension of at least 1, got shape {tuple(mu.shape)}")


def standard_normal(
    shape: tuple[int, ...] | torch.Size,
    generator: torch.Generator | None = None,
    *,
    device: torch.device | str | None = None,
    dtype: torch.dtype | None = None,
) -> Tensor:
    """Draws from N(0, 1) of the given shape, on ``device``.

    The one rule of every ``generator`` argument in vaelib: it is a CPU
    ``torch.Generator``; its draws are made on the CPU and moved to the
    device, so that one seed gives the same numbers on any device.  Without
    a generator the draws come from PyTorch's global generator of ``device``.
    """
    if generator is None:
        return torch.randn(shape, dtype=dtype, device=device)
    if not isinstance(generator, torch.Generator) or generator.device.type != "cpu":
        raise TypeError(f"generator must be a CPU torch.Generator, got {generator!r}")
    return torch.randn(shape, generator=generator, dtype=dtype).to(device)


def reparameterize(
    mu: Tensor, logvar: Tensor, eps: Tensor | None = None, generator: torch.Generator | None = None
) -> Tensor:
    """A sample ``z = mu + sigma * eps`` with ``eps ~ N(0, I)``, ``[B, d]``.

    The randomness sits in ``eps``, outside the parameters, so gradients flow
    from ``z`` to ``mu`` and ``logvar``.  Pass ``eps`` to fix the noise, or a
    ``generator`` (on ``mu``'s device) to draw it from; otherwise it comes
    from PyTorch's global generator.
    """
    _check_pair(mu, logvar)
    if eps is None:
        eps = standard_normal(mu.shape, generator, device=mu.device, dtype=mu.dtype)
    elif not isinstance(eps, Tensor) or eps.shape != mu.shape:
        raise ValueError(f"eps {tuple(getattr(eps, 'shape', ()))} must have the shape of mu {tuple(mu.shape)}")
    return mu + torch.exp(0.5 * logvar) * eps


def gaussian_kl_per_dim(mu: Tensor, logvar: Tensor) -> Tensor:
    """KL( N(mu_j, exp(logvar_j)) || N(0, 1) ) of each latent dimension, ``[B, d]``.

    ``0.5 * (mu_j^2 + sigma_j^2 - 1 - log sigma_j^2)``: the one place the book
    computes it.  Summed over ``j`` it is :func:`gaussian_kl`.
    """
    _check_pair(mu, logvar)
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar)


def gaussian_kl(mu: Tensor, logvar: Tensor) -> Tensor:
    """KL( N(mu, diag(exp(logvar))) || N(0, I) ) in closed form, ``[B]``.

    ``0.5 * sum_j (mu_j^2 + sigma_j^2 - 1 - log sigma_j^2)``, summed over the
    latent dimensions: nats per image.
    """
    return gaussian_kl_per_dim(mu, logvar).sum(dim=-1)


def log_normal_diag(z: Tensor, mu: Tensor, logvar: Tensor) -> Tensor:
    """log N(z; mu, diag(exp(logvar))), summed over the last dimension: ``[...]``."""
    _check_pair(mu, logvar)
    _check_tensor("z", z)
    if z.shape[-1] != mu.shape[-1]:
        raise ValueError(f"z {tuple(z.shape)} and mu {tuple(mu.shape)} differ in their last (latent) dimension")
    return -0.5 * (LOG_2PI + logvar + (z - mu).pow(2) / logvar.exp()).sum(dim=-1)


def log_normal_diag_pairs(z: Tensor, mu: Tensor, logvar: Tensor) -> Tensor:
    """log N(z_m; mu_k, diag(exp(logvar_k))) of every code against every Gaussian: ``[M, K]``, in z's dtype.

    ``z``: ``[M, d]`` codes; ``mu``, ``logvar``: ``[K, d]``, one Gaussian a
    row.  The values of ``log_normal_diag(z[:, None], mu, logvar)`` up to
    rounding, without its ``[M, K, d]`` tensor, which took most of the
    log-density's time where K is large (a VampPrior's 200 components at
    every training step: the step is 26 to 36 % faster without it on one CPU
    thread; an aggregate posterior's N images).  The squared distance
    sum_j (z_j - mu_kj)^2 / var_kj is expanded into three terms, two of them
    matrix products: z^2 (1/var)^T - 2 z (mu/var)^T + sum_j mu_kj^2 / var_kj.
    Near a narrow Gaussian those terms are far larger than their sum, so they
    are computed in float64, whose rounding (about 1e-16 of the largest term)
    stays below float32's on the result while mu^2 / var stays under about
    1e10 (logvar above about -20 for means of order 1).  On Apple's MPS,
    which has no float64, the broadcasting form is used instead.
    """
    _check_pair(mu, logvar)
    _check_tensor("z", z)
    if z.dim() != 2 or mu.dim() != 2 or z.shape[1] != mu.shape[1]:
        raise ValueError(f"z must be [M, d] and mu, logvar [K, d], got {tuple(z.shape)} and {tuple(mu.shape)}")
    if z.device.type == "mps":
        return log_normal_diag(z[:, None], mu, logvar)
    z64, mu64, logvar64 = z.double(), mu.double(), logvar.double()
    precision = torch.exp(-logvar64)  # [K, d]: 1 / var
    squared = (  # [M, K], >= 0 but for rounding
        z64.square() @ precision.T - 2 * z64 @ (mu64 * precision).T + (mu64.square() * precision).sum(dim=1)
    ).clamp_min(0)
    return (-0.5 * (z.shape[1] * LOG_2PI + logvar64.sum(dim=1) + squared)).to(z.dtype)


def log_standard_normal(z: Tensor) -> Tensor:
    """log N(z; 0, I), summed over the last dimension: ``[...]``."""
    return -0.5 * (LOG_2PI + z.pow(2)).sum(dim=-1)


def normal_pdf(x: Tensor, mu: float, sigma: float) -> Tensor:
    """The density of N(mu, sigma^2) at each ``x``."""
    check_number("sigma", sigma, positive=True)
    return torch.exp(-0.5 * ((x - mu) / sigma) ** 2) / (sigma * math.sqrt(2 * math.pi))


# -- Two estimators of d/dmu E_{z ~ N(mu, sigma^2)}[f(z)] (chapter 3) ---------


def _check_estimator(sigma: float, n: int) -> None:
    check_number("sigma", sigma, positive=True)
    check_int("n (the number of samples)", n)


def score_function_gradient(
    f: Callable[[Tensor], Tensor], mu: float, sigma: float, n: int, generator: torch.Generator | None = None
) -> float:
    """REINFORCE: the mean of ``f(z) * d/dmu log N(z; mu, sigma^2)`` over ``n`` samples.

    Needs only values of ``f``, not its gradient, which is why it works for
    discrete variables too, at the price of a high variance.
    """
    _check_estimator(sigma, n)
    z = mu + sigma * torch.randn(n, generator=generator, dtype=torch.float64)
    score = (z - mu) / sigma**2  # d/dmu log N(z; mu, sigma^2)
    return (f(z) * score).mean().item()


def reparameterized_gradient(
    f: Callable[[Tensor], Tensor], mu: float, sigma: float, n: int, generator: torch.Generator | None = None
) -> float:
    """Reparameterization: autograd through ``z = mu + sigma * eps``, averaged over ``n`` samples."""
    _check_estimator(sigma, n)
    mu_t = torch.tensor(mu, dtype=torch.float64, requires_grad=True)
    eps = torch.randn(n, generator=generator, dtype=torch.float64)
    f(mu_t + sigma * eps).mean().backward()
    return mu_t.grad.item()
