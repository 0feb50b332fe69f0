"""Checks of chapter 2, Gaussian distributions (``book/02_gaussians.ipynb``)."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor

from ..gaussian import gaussian_kl, log_normal_diag, log_standard_normal, reparameterize
from .core import CheckResult, Mistake, run_check

__all__ = ["check_log_normal", "check_gaussian_kl", "check_kl_monte_carlo"]


def check_log_normal(answer: Callable[[Tensor, float, float], Tensor]) -> CheckResult:
    """Exercise: ``log_normal(x, mu, sigma) -> log N(x; mu, sigma^2)``, elementwise."""
    x = torch.linspace(-3, 4, 15)
    cases = [(x, 0.0, 1.0), (x, 1.5, 0.5), (x, -1.0, 2.0)]

    def reference(x, mu, sigma):
        return -0.5 * math.log(2 * math.pi) - math.log(sigma) - 0.5 * ((x - mu) / sigma) ** 2

    mistakes = [
        Mistake(
            lambda x, m, s: reference(x, m, s).exp(),
            "That is the density itself. Take its log: the log turns the product into a sum.",
        ),
        Mistake(
            lambda x, m, s: reference(x, m, s) + 0.5 * math.log(2 * math.pi),
            "You left out the constant -log(2 pi) / 2. It does not matter for gradients, but a "
            "log-likelihood in nats needs it.",
        ),
        Mistake(
            lambda x, m, s: reference(x, m, s) + math.log(s),
            "You left out -log(sigma): the normalizing constant depends on sigma, and without it "
            "wide Gaussians look better than they are.",
        ),
        Mistake(
            lambda x, m, s: -0.5 * math.log(2 * math.pi) - math.log(s) - 0.5 * (x - m) ** 2 / s,
            "Divide the squared distance by sigma squared, the variance, not by sigma.",
        ),
        Mistake(
            lambda x, m, s: -0.5 * math.log(2 * math.pi) - 2 * math.log(s) - 0.5 * ((x - m) / s) ** 2,
            "The normalizing term is -log(sigma), that is -log(sigma^2) / 2, not -log(sigma^2).",
        ),
    ]
    return run_check("log_normal", answer, reference, cases, mistakes)


def _kl_cases() -> list[tuple[Tensor, Tensor]]:
    g = torch.Generator().manual_seed(4)
    return [(torch.randn(6, 3, generator=g), torch.randn(6, 3, generator=g)), (torch.zeros(2, 5), torch.zeros(2, 5))]


def check_gaussian_kl(answer: Callable[[Tensor, Tensor], Tensor]) -> CheckResult:
    """Exercise: ``gaussian_kl(mu, logvar) -> [B]``, KL(N(mu, exp(logvar)) || N(0, I))."""

    def per_dim(mu, logvar):
        return 0.5 * (mu**2 + logvar.exp() - 1 - logvar)

    mistakes = [
        Mistake(per_dim, "Right terms, but sum over the latent dimensions: one KL per image, shape [B]."),
        Mistake(
            lambda mu, lv: per_dim(mu, lv).mean(-1),
            "You averaged over the latent dimensions. The KL of independent dimensions is their *sum*.",
        ),
        Mistake(lambda mu, lv: 2 * gaussian_kl(mu, lv), "You are missing the factor 1/2 in front."),
        Mistake(lambda mu, lv: -gaussian_kl(mu, lv), "The sign is flipped: a KL divergence is never negative."),
        Mistake(
            lambda mu, lv: 0.5 * (mu**2 + lv - 1 - lv).sum(-1),
            "logvar is log(sigma^2): the variance is logvar.exp(), not logvar itself.",
        ),
        Mistake(
            lambda mu, lv: 0.5 * (mu**2 + lv.exp() - 1 - lv).sum(),
            "You summed over the batch too. Return one KL per image, shape [B].",
        ),
    ]
    return run_check("gaussian_kl", answer, gaussian_kl, _kl_cases(), mistakes)


def check_kl_monte_carlo(answer: Callable[[Tensor, Tensor, int], Tensor]) -> CheckResult:
    """Exercise: ``kl_monte_carlo(mu, logvar, n) -> [B]``, a sampled estimate of the KL.

    Stochastic, so compared with a tolerance of 0.05 nats at n = 200,000.
    """
    g = torch.Generator().manual_seed(5)
    cases = [(torch.randn(3, 2, generator=g), torch.randn(3, 2, generator=g) * 0.5, 200_000)]

    def sampled(mu, logvar, n, sign_q=1.0, sign_p=1.0):
        z = reparameterize(mu.expand(n, -1, -1), logvar.expand(n, -1, -1))  # [n, B, d]
        return (sign_q * log_normal_diag(z, mu, logvar) - sign_p * log_standard_normal(z)).mean(0)

    mistakes = [
        Mistake(
            lambda mu, lv, n: -gaussian_kl(mu, lv),
            "The sign is flipped: average log q(z) - log p(z) over samples from q.",
        ),
        Mistake(
            lambda mu, lv, n: sampled(mu, lv, n, sign_p=0.0),
            "You averaged log q(z) alone. The KL is the average of log q(z) - log p(z), with p = N(0, I).",
        ),
        Mistake(
            lambda mu, lv, n: -sampled(mu, lv, n, sign_q=0.0),
            "You averaged -log p(z) alone (a cross-entropy). Add log q(z): KL = E_q[log q - log p].",
        ),
    ]
    return run_check("kl_monte_carlo", answer, lambda mu, lv, n: gaussian_kl(mu, lv), cases, mistakes, tolerance=0.05)
