"""Checks of chapter 2, Gaussian distributions (``book/02_gaussians.ipynb``)."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor

from ..gaussian import gaussian_kl, log_normal_diag, log_standard_normal, reparameterize
from .drivers import run_check
from .results import FAIL, PASS, CheckResult, Mistake, never_raises, not_attempted
from .student_code import math_or_torch

__all__ = [
    "check_gaussian_kl",
    "check_kl_monte_carlo",
    "check_kl_two_gaussians",
    "check_log_normal",
    "check_samples_prediction",
    "monte_carlo_error",
]


@never_raises
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
            lambda x, m, s: -reference(x, m, s),
            "The sign is flipped: that is -log N, the negative log-density (a loss). Return the log-density itself.",
        ),
        Mistake(
            lambda x, m, s: reference(x, m, s) + 0.5 * math.log(2 * math.pi),
            "You left out the constant -log(2 pi) / 2. It does not matter for gradients, but a "
            "log-likelihood in nats needs it.",
        ),
        Mistake(
            lambda x, m, s: reference(x, m, s) - 0.5 * math.log(2 * math.pi),
            "The constant is -log(2 pi) / 2, from the 1 / sqrt(2 pi) in front of the density: "
            "the square root halves the log.",
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
        Mistake(
            lambda x, m, s: -0.5 * math.log(2 * math.pi) - math.log(s) + 0.5 * ((x - m) / s) ** 2,
            "The squared term has the wrong sign: the density must fall away from mu, so the log "
            "*subtracts* the squared distance.",
        ),
        Mistake(
            lambda x, m, s: -0.5 * math.log(2 * math.pi) - math.log(s) - ((x - m) / s) ** 2,
            "You lost the 1/2 in the exponent: the density is exp(-(x - mu)^2 / (2 sigma^2)).",
        ),
        Mistake(
            lambda x, m, s: reference(x, m, math.sqrt(s)),
            "You treated sigma as the variance: it is the standard deviation. The variance is "
            "sigma^2, both in the constant and under the squared distance.",
        ),
        Mistake(
            lambda x, m, s: reference(x, m, s**2),
            "You used sigma^2 where the standard deviation belongs (torch.distributions.Normal, "
            "too, takes the standard deviation as its scale, not the variance).",
        ),
    ]
    return run_check("log_normal", answer, reference, cases, mistakes, raised=math_or_torch)


def _kl_cases() -> list[tuple[Tensor, Tensor]]:
    g = torch.Generator().manual_seed(4)
    return [(torch.randn(6, 3, generator=g), torch.randn(6, 3, generator=g)), (torch.zeros(2, 5), torch.zeros(2, 5))]


def _per_dim(mu: Tensor, logvar: Tensor) -> Tensor:
    return 0.5 * (mu**2 + logvar.exp() - 1 - logvar)


# Wrong closed-form KLs, each with its hint: the KL exercise here, and the KL term of chapter 4's loss.
WRONG_KLS = [
    Mistake(lambda mu, lv: 2 * gaussian_kl(mu, lv), "You are missing the factor 1/2 in front."),
    Mistake(lambda mu, lv: -gaussian_kl(mu, lv), "The sign is flipped: a KL divergence is never negative."),
    Mistake(
        lambda mu, lv: 0.5 * (mu**2 + lv - 1 - lv).sum(-1),
        "logvar is log(sigma^2): the variance is logvar.exp(), not logvar itself.",
    ),
    Mistake(
        lambda mu, lv: 0.5 * (mu**2 + (0.5 * lv).exp() - 1 - lv).sum(-1),
        "exp(logvar / 2) is sigma, the standard deviation; the KL has the variance, sigma^2 = exp(logvar).",
    ),
    Mistake(
        lambda mu, lv: 0.5 * (mu**2 + lv.exp() - lv).sum(-1),
        "Try your formula on q = p: with mu = 0 and logvar = 0 the KL of N(0, 1) from itself must be 0; yours is not.",
        "Each dimension has a -1: 0.5 * (mu^2 + exp(logvar) - 1 - logvar).",
    ),
    Mistake(
        lambda mu, lv: 0.5 * (mu**2 + lv.exp() - 1 + lv).sum(-1),
        "The log term has the wrong sign: log q brings -log sigma^2 = -logvar, and the KL is E_q[log q - log p].",
    ),
]


@never_raises
def check_gaussian_kl(answer: Callable[[Tensor, Tensor], Tensor]) -> CheckResult:
    """Exercise: ``gaussian_kl(mu, logvar) -> [B]``, KL(N(mu, exp(logvar)) || N(0, I))."""
    mistakes = [
        Mistake(_per_dim, "Right terms, but sum over the latent dimensions: one KL per image, shape [B]."),
        Mistake(
            lambda mu, lv: _per_dim(mu, lv).mean(-1),
            "You averaged over the latent dimensions. The KL of independent dimensions is their *sum*.",
        ),
        *WRONG_KLS,
        Mistake(
            lambda mu, lv: 0.5 * (mu**2 + lv.exp() - 1 - lv).sum(),
            "You summed over the batch too. Return one KL per image, shape [B].",
        ),
        Mistake(
            lambda mu, lv: gaussian_kl(mu, lv).mean(),
            "You averaged over the batch. Return one KL per image (per row), shape [B].",
        ),
        Mistake(
            lambda mu, lv: _per_dim(mu, lv).sum(0),
            "You summed over the images (dim 0), which leaves one number per latent dimension. "
            "Sum over the latent dimensions (dim=1): one KL per image, shape [B].",
        ),
    ]
    return run_check("gaussian_kl", answer, gaussian_kl, _kl_cases(), mistakes)


@never_raises
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
        *[
            Mistake(
                wrong,
                "You drew z with exp(logvar), the variance, as its spread: the noise is scaled by "
                "sigma = exp(logvar / 2).",
            )
            for wrong in [
                lambda mu, lv, n: gaussian_kl(mu, 2 * lv),
                lambda mu, lv, n: (-0.5 * lv - 0.5 * lv.exp() + 0.5 * (mu**2 + (2 * lv).exp())).sum(-1),
            ]
        ],
        Mistake(
            lambda mu, lv, n: _per_dim(mu, lv),
            "One KL per row, shape [B]: sum the log-densities over the latent dimensions, then "
            "average over the samples.",
        ),
        Mistake(
            lambda mu, lv, n: _per_dim(mu, lv).mean(-1),
            "You averaged over the latent dimensions. The log-density of a diagonal Gaussian is a "
            "*sum* over dimensions.",
        ),
        Mistake(
            lambda mu, lv, n: gaussian_kl(mu, lv).mean(),
            "You averaged over the rows too. Return one KL per row, shape [B]: average over the samples only.",
        ),
    ]
    result = run_check("kl_monte_carlo", answer, lambda mu, lv, n: gaussian_kl(mu, lv), cases, mistakes, tolerance=0.05)
    if not result.passed:
        return result
    # Right on average; now check that it is an estimate from n samples.
    mu, logvar = cases[0][0], cases[0][1]
    few = torch.stack([torch.as_tensor(answer(mu, logvar, 4)).double() for _ in range(30)])  # [30, B]
    many = torch.stack([torch.as_tensor(answer(mu, logvar, 4_000)).double() for _ in range(30)])
    if few.var(dim=0).max() < 1e-12:
        return CheckResult(
            "kl_monte_carlo",
            FAIL,
            "Your function returns the same value on every call: it computes the KL exactly (the "
            "closed form), without sampling. Draw n samples z ~ q and average log q(z) - log p(z).",
        )
    if not (few.var(dim=0) > 20 * many.var(dim=0)).all():
        return CheckResult(
            "kl_monte_carlo",
            FAIL,
            "Your estimate is not more precise with more samples: with n = 4,000 it varies about as much "
            "as with n = 4. Draw n samples, as the argument n asks, and average over them.",
        )
    return result


# ---------------------------------------------------------------- derive: KL of two 1-D Gaussians


def _kl_two(mu1, sigma1, mu2, sigma2):
    return torch.log(sigma2 / sigma1) + (sigma1**2 + (mu1 - mu2) ** 2) / (2 * sigma2**2) - 0.5


@never_raises
def check_kl_two_gaussians(answer: Callable[[Tensor, Tensor, Tensor, Tensor], Tensor]) -> CheckResult:
    """Exercise (derive): ``kl_two_gaussians(mu1, sigma1, mu2, sigma2)``, elementwise
    KL(N(mu1, sigma1^2) || N(mu2, sigma2^2)); checked against ``torch.distributions``."""
    g = torch.Generator().manual_seed(12)
    mu1, mu2 = torch.randn(6, generator=g), torch.randn(6, generator=g)
    sigma1, sigma2 = torch.rand(6, generator=g) + 0.3, torch.rand(6, generator=g) * 2 + 0.2
    cases = [(mu1, sigma1, mu2, sigma2), (torch.zeros(3), torch.ones(3), torch.zeros(3), torch.ones(3))]

    def reference(m1, s1, m2, s2):
        return torch.distributions.kl_divergence(torch.distributions.Normal(m1, s1), torch.distributions.Normal(m2, s2))

    mistakes = [
        Mistake(
            lambda m1, s1, m2, s2: _kl_two(m2, s2, m1, s1),
            "That is KL(p || q), the other direction: the KL is not symmetric. Average log q - log p under q.",
        ),
        Mistake(
            lambda m1, s1, m2, s2: _kl_two(m1, s1, m2, s2) + 0.5,
            "You are missing the -1/2: E_q[(z - mu1)^2] / (2 sigma1^2) = 1/2 comes from log q.",
        ),
        Mistake(
            lambda m1, s1, m2, s2: torch.log(s1 / s2) + (s1**2 + (m1 - m2) ** 2) / (2 * s2**2) - 0.5,
            "The log term is inverted: it is log(sigma2 / sigma1), from -log sigma1 in log q and "
            "+log sigma2 in -log p.",
        ),
        Mistake(
            lambda m1, s1, m2, s2: torch.log(s2 / s1) + (s1 + (m1 - m2) ** 2) / (2 * s2**2) - 0.5,
            "E_q[(z - mu2)^2] = sigma1^2 + (mu1 - mu2)^2: the variance sigma1^2, not sigma1.",
        ),
        Mistake(
            lambda m1, s1, m2, s2: torch.log(s2**2 / s1**2) + (s1**2 + (m1 - m2) ** 2) / (2 * s2**2) - 0.5,
            "The log term is too large by a factor 2: the density has 1 / sigma, not 1 / sigma^2, in "
            "front, so a ratio of variances needs a 1/2 before its log.",
        ),
        Mistake(
            lambda m1, s1, m2, s2: torch.log(s2 / s1) + (s1**2 + (m1 - m2) ** 2) / s2**2 - 0.5,
            "Divide by 2 sigma2^2: log p has -(z - mu2)^2 / (2 sigma2^2), with its 2.",
        ),
        Mistake(
            lambda m1, s1, m2, s2: torch.log(s2 / s1) + (s1**2 + (m1 - m2) ** 2) / (2 * s2) - 0.5,
            "Divide by twice the variance of p, 2 sigma2^2, not by 2 sigma2.",
        ),
        Mistake(
            lambda m1, s1, m2, s2: _kl_two(m1, s1.sqrt(), m2, s2.sqrt()),
            "You treated sigma1 and sigma2 as variances: they are standard deviations. The "
            "variances are sigma1^2 and sigma2^2.",
        ),
        Mistake(
            lambda m1, s1, m2, s2: _kl_two(m1, s1**2, m2, s2**2),
            "sigma1 and sigma2 are already standard deviations: you squared them once too often "
            "(sigma^4 where the formula has the variance sigma^2).",
        ),
        Mistake(
            lambda m1, s1, m2, s2: -_kl_two(m1, s1, m2, s2),
            "The sign is flipped: a KL divergence is never negative. It is E_q[log q - log p].",
        ),
    ]
    return run_check("kl_two_gaussians", answer, reference, cases, mistakes, raised=math_or_torch)


# ---------------------------------------------------------------- predict: how many samples for 10x precision


def monte_carlo_error(n: int, repeats: int = 200, seed: int = 0) -> float:
    """The mean absolute error of a Monte Carlo estimate of the chapter's KL
    (mu = [1, -0.5, 0], sigma = [0.5, 2, 1]) from ``n`` samples, over ``repeats`` estimates."""
    mu = torch.tensor([1.0, -0.5, 0.0])
    logvar = torch.log(torch.tensor([0.5, 2.0, 1.0]) ** 2)
    generator = torch.Generator().manual_seed(seed)
    exact = gaussian_kl(mu[None], logvar[None]).item()
    chunk = max(1, 2_000_000 // n)  # estimates drawn at once: about 2 million samples
    errors = []
    for start in range(0, repeats, chunk):
        k = min(chunk, repeats - start)
        z = reparameterize(mu.expand(k, n, -1), logvar.expand(k, n, -1), generator=generator)  # [k, n, 3]
        estimates = (log_normal_diag(z, mu, logvar) - log_standard_normal(z)).mean(dim=1)  # [k]
        errors.append((estimates - exact).abs())
    return torch.cat(errors).mean().item()


@never_raises
def check_samples_prediction(answer) -> CheckResult:
    """Exercise (predict): by what factor must n grow for the Monte Carlo error to
    fall ten times?  The check measures the mean error of 2,000 estimates at n = 100
    and of 200 at n = 100 x factor."""
    if answer is None or answer is ...:
        return not_attempted("samples_prediction", written=True)
    if isinstance(answer, bool) or not isinstance(answer, (int, float)) or not 1 <= answer <= 1_000:
        return CheckResult(
            "samples_prediction", FAIL, "Answer with a number between 1 and 1,000: the factor by which n grows."
        )
    factor = float(answer)
    # 1,000 repeats at the larger n, so that the measured ratio is near its expectation (about 2 %)
    before, after = monte_carlo_error(100, repeats=2_000), monte_carlo_error(round(100 * factor), repeats=1_000, seed=1)
    ratio = before / after
    report = (
        f"Measured: n = 100 -> {round(100 * factor):,}: the mean error fell from {before:.4f} "
        f"to {after:.4f}, {ratio:.1f} times."
    )
    # Judged on the answer, which theory fixes at 100; the measurement is the evidence.
    # (The measured ratio is noisy, about 5 %: judged on it, 150 would pass and 70 would not.)
    if 85 <= factor <= 120:
        return CheckResult("samples_prediction", PASS, f"Well done! {report}")
    direction = "more" if factor < 85 else "fewer"
    return CheckResult(
        "samples_prediction",
        FAIL,
        f"{report} Not the factor that makes it ten times: you need {direction} samples. The estimate "
        "is an average of n independent draws: by how much does the spread of an average shrink when n grows?",
    )
