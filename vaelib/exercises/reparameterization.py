"""Checks of chapter 3, the reparameterization trick (``book/03_reparameterization.ipynb``)."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from ..gaussian import reparameterize
from .core import CheckResult, Mistake, run_check

__all__ = ["check_reparameterize", "check_logvar_gradient", "check_score_function"]


def check_reparameterize(answer: Callable[[Tensor, Tensor, Tensor], Tensor]) -> CheckResult:
    """Exercise: ``reparameterize(mu, logvar, eps) -> z = mu + sigma * eps``."""
    g = torch.Generator().manual_seed(6)
    cases = [tuple(torch.randn(4, 3, generator=g) for _ in range(3))]
    mistakes = [
        Mistake(
            lambda mu, lv, eps: mu + lv.exp() * eps,
            "exp(logvar) is the variance sigma^2. The standard deviation is exp(0.5 * logvar).",
        ),
        Mistake(lambda mu, lv, eps: mu + lv * eps, "logvar is log(sigma^2), not sigma: sigma = exp(0.5 * logvar)."),
        Mistake(
            lambda mu, lv, eps: mu + torch.sqrt(lv.abs()) * eps,
            "logvar is a *log*: sigma = exp(0.5 * logvar), not the square root of logvar.",
        ),
        Mistake(lambda mu, lv, eps: mu.clone(), "You returned mu: the sample needs the noise, z = mu + sigma * eps."),
        Mistake(
            lambda mu, lv, eps: mu * eps + (0.5 * lv).exp(),
            "mu and sigma swapped roles: the noise is scaled by sigma and shifted by mu.",
        ),
    ]
    return run_check("reparameterize", answer, reparameterize, cases, mistakes)


def check_logvar_gradient(answer: Callable[[Tensor, Tensor], Tensor]) -> CheckResult:
    """Exercise: ``dz_dlogvar(logvar, eps)``: the derivative of z = mu + exp(logvar / 2) * eps."""
    g = torch.Generator().manual_seed(7)
    cases = [(torch.randn(5, generator=g), torch.randn(5, generator=g))]

    def reference(logvar, eps):
        return 0.5 * torch.exp(0.5 * logvar) * eps

    mistakes = [
        Mistake(
            lambda lv, eps: torch.exp(0.5 * lv) * eps,
            "Chain rule: the derivative of exp(logvar / 2) is exp(logvar / 2) / 2. You lost the 1/2.",
        ),
        Mistake(lambda lv, eps: 0.5 * torch.exp(lv) * eps, "sigma is exp(0.5 * logvar), not exp(logvar)."),
        Mistake(lambda lv, eps: torch.ones_like(lv), "That is dz/dmu. Differentiate with respect to logvar."),
        Mistake(
            lambda lv, eps: 0.5 * torch.exp(0.5 * lv),
            "The noise eps multiplies sigma in z, so it multiplies the derivative too.",
        ),
    ]
    return run_check("dz_dlogvar", answer, reference, cases, mistakes)


def check_score_function(answer: Callable[[Callable, float, float, Tensor], float]) -> CheckResult:
    """Exercise: ``score_function(f, mu, sigma, z)``: REINFORCE estimate from given samples z."""
    g = torch.Generator().manual_seed(8)

    def f(z):
        return z**2

    cases = [
        (f, 1.0, 0.5, 1.0 + 0.5 * torch.randn(50, generator=g, dtype=torch.float64)),
        (f, -2.0, 2.0, -2.0 + 2.0 * torch.randn(50, generator=g, dtype=torch.float64)),
    ]

    def reference(f, mu, sigma, z):
        return (f(z) * (z - mu) / sigma**2).mean().item()

    mistakes = [
        Mistake(
            lambda f, mu, s, z: (f(z) * (z - mu) / s).mean().item(),
            "The score d/dmu log N(z; mu, sigma^2) is (z - mu) / sigma^2: divide by the variance.",
        ),
        Mistake(
            lambda f, mu, s, z: (2 * z).mean().item(),
            "That is the pathwise (reparameterized) gradient, which uses f'(z). The score-function "
            "estimator uses only values f(z), times the score (z - mu) / sigma^2.",
        ),
        Mistake(
            lambda f, mu, s, z: f(z).mean().item(),
            "That estimates E[f(z)], not its gradient: multiply f(z) by the score (z - mu) / sigma^2.",
        ),
        Mistake(lambda f, mu, s, z: -reference(f, mu, s, z), "The sign is flipped: the score is (z - mu) / sigma^2."),
    ]
    return run_check("score_function", answer, reference, cases, mistakes)
